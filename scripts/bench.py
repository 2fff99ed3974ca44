"""Benchmarks of the transport core, the full model step, sweeps, devices and gradient memory.

    python scripts/bench.py                    # the CPU table (96^3 core, 64^3 step, sweep, grad)
    python scripts/bench.py --quick            # smaller, for a smoke run
    python scripts/bench.py --sizes 128 256    # transport core and model step on those grids
                                               # (the GPU measurement of issue 6)
    python scripts/bench.py --devices 4        # the core sharded over 4 devices vs one
    python scripts/bench.py --only core        # one part: core, step, sweep, devices, grad
    python scripts/bench.py --only tridiagonal --sizes 128   # the same step via
                                               # jax.lax.linalg.tridiagonal_solve (reference)
    python scripts/bench.py --only core --precision float64   # the core in float64 (as BioFVM;
                                               # scripts/biofvm_bench/README.md)

Throughput is voxel-species updates per second. Every figure comes with a reference measured
in the same run on the same device:
- the streaming bandwidth of a jitted elementwise pass over the same array (one read + one
  write per value), against which the core's modelled traffic (108 bytes per voxel-species
  and step in float32, docs/performance.md) gives the fraction of the achievable roofline;
- on CPU also NumPy copying the same array;
- a sweep is timed against the same points run one after the other;
- a sharded run against one device.
Memory is XLA's compiled memory analysis (arguments + outputs + temporaries − donated).
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from zn_pde import build_model, load_config
from zn_pde._diffusion import diffuse, make_transport
from zn_pde._solve import advance, factorise


def _time(fn, repeats: int) -> float:
    fn()  # compile / warm
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


# modelled memory traffic of one LOD step per voxel-species, float32 (docs/performance.md):
# per axis, forward sweep reads b, u and writes b; backward reads b, 1/p, u and writes b; one
# transpose reads and writes once: 9 accesses x 4 bytes x 3 axes
TRAFFIC_BYTES_PER_VOXEL_SPECIES = 108


def streaming_bytes_per_s(a: jax.Array, repeats: int) -> float:
    """Achievable bandwidth on a's device: a jitted in-place elementwise pass (read + write)."""
    passes = 20

    @functools.partial(jax.jit, donate_argnums=0)
    def stream(x):
        return jax.lax.fori_loop(0, passes, lambda i, y: y * 0.999 + 1e-3, x)

    sec = _time(lambda: stream(jnp.copy(a)).block_until_ready(), repeats)
    return 2 * a.nbytes * passes / sec


def transport_core(n: int, species: int, steps: int, repeats: int,
                   dtype=jnp.float32) -> dict:
    """Implicit LOD diffusion of `species` fields on n^3 with tissue/medium diffusivities."""
    shape = (n, n, n)
    zz, yy, xx = np.meshgrid(*[np.arange(n)] * 3, indexing="ij")
    ball = (xx - n / 2) ** 2 + (yy - n / 2) ** 2 + (zz - n / 2) ** 2 < (0.4 * n) ** 2
    d_tissue = jnp.asarray([1.0, 275.0, 560.0, 50.0][:species], dtype)
    d_medium = jnp.asarray([10.0, 703.0, 1430.0, 500.0][:species], dtype)
    c0 = jnp.asarray(np.random.default_rng(0).uniform(0, 1, shape + (species,)), dtype)
    tissue = jnp.asarray(ball)

    # the state buffer is donated, as the carried state of the solver's scan is updated in place
    @functools.partial(jax.jit, donate_argnums=0)
    def loop(c, tissue):  # as in Model.transport: D built from the mask inside the jit
        d = jnp.where(tissue[..., None], d_tissue, d_medium)
        tr = make_transport(d, 60.0, 10.0, jnp.ones(species, dtype))
        return jax.lax.fori_loop(0, steps, lambda i, c: diffuse(tr, c), c)

    sec = _time(lambda: loop(jnp.copy(c0), tissue).block_until_ready(), repeats)
    mem = loop.lower(c0, tissue).compile().memory_analysis()
    nbytes = (mem.argument_size_in_bytes + mem.output_size_in_bytes + mem.temp_size_in_bytes
              - mem.alias_size_in_bytes)  # a donated input shares the output buffer
    vs = n**3 * species
    host = np.asarray(c0)
    copy_sec = _time(lambda: host.copy(), repeats * 5)
    stream = streaming_bytes_per_s(c0, repeats)
    traffic = TRAFFIC_BYTES_PER_VOXEL_SPECIES * jnp.dtype(dtype).itemsize // 4
    achieved = traffic * vs * steps / sec
    return {"grid": f"{n}^3 x {species}", "updates_per_s": vs * steps / sec,
            "bytes_per_voxel_species": nbytes / vs, "copy_updates_per_s": vs / copy_sec,
            "step_ms": 1e3 * sec / steps, "stream_bytes_per_s": stream,
            "roofline_fraction": achieved / stream, "traffic_bytes": traffic}



def tridiagonal_solve_core(n: int, species: int, steps: int, repeats: int) -> dict:
    """The same LOD step (constant coefficients, zero-flux walls) through
    `jax.lax.linalg.tridiagonal_solve` (cuSPARSE's batched gtsv on a GPU, LAPACK on CPU), each
    axis moved last and back: a speed reference only. It works from the textbook diagonal,
    whose float32 pivots lose the capacity when couplings are 10²-10⁴ times it
    (docs/performance.md, "Positive-terms pivots")."""
    r = jnp.asarray([0.6, 165.0, 336.0, 30.0][:species], jnp.float32)

    def step(c):
        for ax in range(3):
            x = jnp.swapaxes(jnp.moveaxis(c, 3, 0), 1 + ax, -1)  # (species, ., ., n)
            rr = jnp.broadcast_to(r[:, None, None, None], x.shape)
            dl, du = (-rr).at[..., 0].set(0.0), (-rr).at[..., -1].set(0.0)
            d = (1 + 2 * rr).at[..., 0].add(-rr[..., 0]).at[..., -1].add(-rr[..., -1])
            y = jax.lax.linalg.tridiagonal_solve(dl, d, du, x[..., None])[..., 0]
            c = jnp.moveaxis(jnp.swapaxes(y, 1 + ax, -1), 0, 3)
        return c

    c0 = jnp.asarray(np.random.default_rng(0).uniform(0, 1, (n, n, n, species)), jnp.float32)
    loop = jax.jit(lambda c: jax.lax.fori_loop(0, steps, lambda i, c: step(c), c))
    sec = _time(lambda: loop(c0).block_until_ready(), repeats)
    return {"step_ms": 1e3 * sec / steps, "updates_per_s": n**3 * species * steps / sec}


def model_step(shape: int, steps: int, repeats: int) -> dict:
    """The full default scenario's step (reactions + transport) on shape^3."""
    c = load_config(None, [f"grid.shape=[{shape},{shape},{shape}]",
                           f"grid.spacing_um={640 / shape}"])
    model = build_model(c)
    tr = factorise(model)
    s0 = model.initial_state()
    sec = _time(lambda: advance(model, tr, s0, steps)[0].mobile.block_until_ready(), repeats)
    voxels = shape**3
    n_vars = len(model.mobile_names) + len(model.fixed_names)
    return {"grid": f"{shape}^3, {n_vars} variables", "steps_per_s": steps / sec,
            "voxel_updates_per_s": voxels * steps / sec,
            "sim_hours_per_s": steps * model.dt_s / 3600 / sec}


def sweep_speedup(points: int, shape: int, steps: int, repeats: int) -> dict:
    """A dose sweep of `points` models as one vmapped loop vs the same models one by one."""
    from zn_pde._sweep import stack_models

    doses = np.geomspace(1.0, 100.0, points)
    models = [build_model(load_config(None, [
        f"grid.shape=[{shape},{shape},{shape}]", f"grid.spacing_um={640 / shape}",
        f"material.dose_ug_per_ml={d}"])) for d in doses]
    batch = stack_models(models)
    transports = eqx.filter_jit(eqx.filter_vmap(lambda m: m.transport()))(batch)
    states = eqx.filter_jit(eqx.filter_vmap(lambda m: m.initial_state()))(batch)

    @eqx.filter_jit
    def batched(models, transports, states):
        return eqx.filter_vmap(lambda m, tr, s: advance(m, tr, s, steps))(
            models, transports, states)

    one = [(m, factorise(m), m.initial_state()) for m in models]
    t_batch = _time(lambda: batched(batch, transports, states)[0].mobile.block_until_ready(),
                    repeats)
    t_seq = _time(lambda: [advance(m, tr, s0, steps)[0].mobile.block_until_ready()
                           for m, tr, s0 in one], repeats)
    return {"what": f"{points} points, {shape}^3, {steps} steps", "batched_s": t_batch,
            "sequential_s": t_seq}


def sharded_step(n: int, devices: int, steps: int, repeats: int) -> dict:
    """The default scenario's step on n^3 sharded over `devices` devices vs one device."""
    from zn_pde._parallel import device_mesh, shard_spatial

    out = {}
    for d in (1, devices):
        c = load_config(None, [f"grid.shape=[{n},{n},{n}]", f"grid.spacing_um={640 / n}",
                               f"numerics.devices={d}"])
        model = build_model(c)
        state = model.initial_state()
        if d > 1:
            model, state = shard_spatial((model, state), model.tissue.shape, device_mesh(d))
        tr = factorise(model)
        out[d] = _time(lambda m=model, t=tr, s=state:
                       advance(m, t, s, steps)[0].mobile.block_until_ready(), repeats) / steps
    return {"grid": f"{n}^3", "one_ms": 1e3 * out[1], "sharded_ms": 1e3 * out[devices]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", type=int, nargs="*", default=None,
                    help="grids for the core and the model step (default 96 for the core, "
                         "64 for the step)")
    ap.add_argument("--devices", type=int, default=0,
                    help="also shard the model step over this many devices")
    ap.add_argument("--only", choices=("core", "step", "sweep", "devices", "grad",
                                                 "tridiagonal"),
                    default=None)
    ap.add_argument("--precision", choices=("float32", "float64"), default="float32",
                    help="the transport core's precision (the other parts follow the config)")
    ap.add_argument("--steps", type=int, default=None, help="transport core steps per run")
    a = ap.parse_args()
    if a.precision == "float64":
        jax.config.update("jax_enable_x64", True)
    core_dtype = jnp.float64 if a.precision == "float64" else jnp.float32
    rep = 2 if a.quick else 3

    def want(part: str) -> bool:
        return a.only in (None, part)

    print(f"# zn-pde bench on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, jax {jax.__version__} ({jax.default_backend()}: "
          f"{jax.devices()[0].device_kind}, {len(jax.devices())} device(s))")
    print("| benchmark | figure |\n|---|---|")
    if want("core"):
        for n in a.sizes or [48 if a.quick else 96]:
            t = transport_core(n, 4, a.steps or (5 if a.quick else 10), rep, core_dtype)
            print(f"| transport core {t['grid']}, LOD backward Euler, {a.precision} | "
                  f"{t['updates_per_s']:.3g} voxel-species updates/s ({t['step_ms']:.1f} "
                  f"ms/step) |")
            print(f"| same-run reference: streaming pass on the device | "
                  f"{t['stream_bytes_per_s'] / 1e9:.3g} GB/s; core at "
                  f"{t['traffic_bytes']} B/update = "
                  f"{100 * t['roofline_fraction']:.0f} % of it |")
            if jax.default_backend() == "cpu":
                print(f"| same-run reference: NumPy copy of the same array | "
                      f"{t['copy_updates_per_s']:.3g} values/s; ratio core/copy = "
                      f"{t['updates_per_s'] / t['copy_updates_per_s']:.3f} |")
            print(f"| peak memory of the jitted transport loop | "
                  f"{t['bytes_per_voxel_species']:.1f} bytes per voxel-species |")
    if a.only == "tridiagonal":  # on request only: a reference, not zn-pde's solver
        for n in a.sizes or [48 if a.quick else 96]:
            g = tridiagonal_solve_core(n, 4, a.steps or (5 if a.quick else 10), rep)
            print(f"| same LOD step via jax.lax.linalg.tridiagonal_solve, {n}^3 x 4, textbook "
                  f"diagonal | {g['updates_per_s']:.3g} voxel-species updates/s "
                  f"({g['step_ms']:.2f} ms/step) |")
    if want("step"):
        for n in a.sizes or [32 if a.quick else 64]:
            m = model_step(n, 20 if a.quick else 60, rep)
            print(f"| full model step, default scenario, {m['grid']} | {m['steps_per_s']:.3g} "
                  f"steps/s, {m['voxel_updates_per_s']:.3g} voxel-steps/s, "
                  f"{m['sim_hours_per_s']:.3g} simulated h/s (24 h in "
                  f"{24 / m['sim_hours_per_s']:.3g} s) |")
    if want("sweep"):
        w = sweep_speedup(4 if a.quick else 8, 16, 30 if a.quick else 60, rep)
        print(f"| dose sweep, {w['what']}: one vmapped loop vs one by one | "
              f"{w['batched_s']:.3g} s vs {w['sequential_s']:.3g} s "
              f"({w['sequential_s'] / w['batched_s']:.2g}x) |")
    if want("devices") and a.devices > 1:
        if len(jax.devices()) < a.devices:
            print(f"| sharded step | skipped: {len(jax.devices())} device(s) visible |")
        else:
            d = sharded_step(a.sizes[0] if a.sizes else 64, a.devices, 20, rep)
            print(f"| model step {d['grid']} over {a.devices} devices vs one | "
                  f"{d['sharded_ms']:.3g} vs {d['one_ms']:.3g} ms/step "
                  f"({d['one_ms'] / d['sharded_ms']:.2g}x) |")
    if want("grad"):
        from grad_memory import measure

        n = 16 if a.quick else 32
        f, g, steps, saves = measure(n, 24.0, 60.0)
        print(f"| gradient of a 24 h observable, {n}^3, {steps} steps | forward "
              f"{f / 1e6:.3g} MB, gradient {g / 1e6:.3g} MB ({g / f:.2g}x; "
              f"scripts/grad_memory.py for the scaling) |")


if __name__ == "__main__":
    main()
