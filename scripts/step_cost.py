"""Milliseconds per model step (default scenario, 64³) for the zn_pde package of the checkout
given as the first argument, so that two versions can be timed in one session:

    git worktree add /tmp/before <commit>
    python scripts/step_cost.py /tmp/before; python scripts/step_cost.py .

    python scripts/step_cost.py /tmp/before . --parts --rounds 3   # interleaved, split

Without `--parts`: best of `--repeats` (default 3) runs of 30 steps after a warm-up;
compilation is excluded. Each figure is given as wall time and as the process's CPU time
(both threads), the latter being less disturbed by other jobs on a shared machine. With
`--parts` each checkout's step is also split into

- transport: only the implicit solves a step makes (`Model.space.solve`, as `Model.substep`
  calls it: the particles, then the other model species), 30 steps in one jitted loop, on
  the model's own operator, with sinks and sources that depend on the state (fixed ones
  would let XLA hoist their transposes out of the loop);
- reaction: the whole step with those solves replaced by a stub that returns the fields
  unchanged and removes α h κ c (one multiply): the rates, the split of what was removed,
  `react`, the protocol and the packing of the state;
- full: the step as it is;

each best of `--repeats` (the reaction's cost inside a full step, where it cannot fuse
across the solves, is nearer full − transport), and the checkouts are run one after another
in fresh processes, `--rounds` times (interleaved), so a shared machine's load hits them
alike. `--config` and `--set` choose another scenario (default: the built-in default, which
is configs/zno_spheroid_ultrasound.toml). docs/performance.md records the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

STEPS = 30


def _best(fn, repeats: int) -> tuple[float, float]:
    """Best wall time and best CPU time of this process (all its threads) over `repeats`
    calls, after a warm-up: the CPU time is less disturbed by other jobs on a shared machine,
    the wall time shows what the threads gain when cores are free."""
    fn()  # compile / warm
    wall = cpu = float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def _ms(pair: tuple[float, float]) -> tuple[float, float]:
    return 1e3 * pair[0] / STEPS, 1e3 * pair[1] / STEPS


def measure(checkout: str, repeats: int, parts: bool, config: str | None,
            overrides: list[str]) -> dict:
    """Runs inside a process whose zn_pde is `checkout`'s."""
    sys.path.insert(0, checkout)
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    import zn_pde
    from zn_pde import build_model, load_config
    from zn_pde._solve import advance, factorise

    assert os.path.abspath(zn_pde.__file__).startswith(checkout), zn_pde.__file__
    model = build_model(load_config(config, overrides))
    factors, state = factorise(model), model.initial_state()

    def full():
        advance(model, factors, state, STEPS)[0].mobile.block_until_ready()

    out = {"checkout": checkout, "full_ms": _ms(_best(full, repeats))}
    if not parts:
        return out

    # transport only: the solves of one step, as Model.substep makes them
    n = len(model.model_mobile_names)
    h = jnp.asarray(model.substep_s, model.dtype)
    sink = jnp.full(state.mobile.shape[:-1] + (n,), 1e-4, model.dtype)
    source = jnp.full(state.mobile.shape[:-1] + (n,), 1e-6, model.dtype)
    space = model.space

    @eqx.filter_jit
    def transport(factors, mobile, sink, source):
        def body(_, c):
            for _ in range(model.reaction_substeps):
                parts_ = []
                for i, j in ((0, 1), (1, n)):  # particles, then the species they feed
                    op = jax.tree.map(lambda a, i=i, j=j: a[..., i:j], factors.model)
                    # the sinks and sources depend on the state, as in a step (fixed ones
                    # would let XLA hoist their per-axis transposes out of the loop)
                    ci = c[..., i:j]
                    new, removed = space.solve(op, ci, sink[..., i:j] * (1.0 + 1e-9 * ci),
                                               source[..., i:j] * (1.0 + 1e-9 * ci), h,
                                               inv_ratio=1.0)
                    parts_.append(new + 0.0 * removed)
                c = jnp.concatenate(parts_ + [c[..., n:]], -1)
            return c

        return jax.lax.fori_loop(0, STEPS, body, mobile)

    out["transport_ms"] = _ms(_best(
        lambda: transport(factors, state.mobile, sink, source).block_until_ready(), repeats))

    # reaction only: the step with the solves stubbed out (patched on the class while the
    # stubbed step is traced; the stub keeps the data flow: removed = α h κ c)
    cls = type(space)
    real = cls.solve

    def stub(self, operator, c, sink_per_s, source_uM_per_s, dt_s, **step):
        cap = operator.axes[0].capacity  # α in the z layout, which is the state's own
        return c, cap * (dt_s * sink_per_s) * c

    @eqx.filter_jit
    def reaction(model, factors, state):
        return advance.__wrapped__(model, factors, state, STEPS)[0].mobile

    cls.solve = stub
    try:
        out["reaction_ms"] = _ms(_best(
            lambda: reaction(model, factors, state).block_until_ready(), repeats))
    finally:
        cls.solve = real
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkouts", nargs="+")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--parts", action="store_true")
    ap.add_argument("--config", default=None)
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(os.path.abspath(a.checkouts[0]), a.repeats, a.parts,
                                 a.config, a.overrides)))
        return
    for r in range(a.rounds):
        for checkout in a.checkouts:
            cmd = [sys.executable, os.path.abspath(__file__), checkout, "--child",
                   "--repeats", str(a.repeats)] + (["--parts"] if a.parts else [])
            if a.config:
                cmd += ["--config", a.config]
            for s in a.overrides:
                cmd += ["--set", s]
            env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout))
            res = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True,
                                            text=True).stdout.strip().splitlines()[-1])
            load = os.getloadavg()[0]
            parts = ("full", "transport", "reaction") if a.parts else ("full",)
            for k, kind in enumerate(("wall", "CPU")):
                line = f"round {r + 1}, {checkout}, {kind} ms/step: " + ", ".join(
                    f"{p} {res[p + '_ms'][k]:.1f}" for p in parts)
                if a.parts:
                    t, re_, f = (res[p + "_ms"][k] for p in ("transport", "reaction", "full"))
                    line += (f"; reaction/transport {re_ / t:.2f}, (full - transport)/transport "
                             f"{(f - t) / t:.2f}")
                print(f"{line}; load average {load:.2f}", flush=True)


if __name__ == "__main__":
    main()
