"""Multi-start least squares in a log box: screening, optax Adam, optax L-BFGS, Levenberg-Marquardt.

The problem is min_x ½‖r(x)‖², x = ln p in the box [ln lower, ln upper], r the weighted
residuals (`_problem.Problem`). Stages, all batched over starts (`vmap`):

1. screening: the initial values and `candidates` Latin-hypercube points of the box (fixed
   seed), loss only; the initial values and the best `starts − 1` others are kept;
2. Adam (optax) on u, ln p = ln lower + (ln upper − ln lower) sigmoid(u), in jitted chunks;
3. optionally L-BFGS (optax, zoom line search) on u, in jitted chunks;
4. projected Levenberg-Marquardt on ln p (Gauss-Newton with adaptive damping over the
   parameters not held on a bound, `lm_direction`): converges quadratically near the optimum
   and leaves J at the optimum; `still_improving` says when it stopped at its step limit
   short of it.

The best start wins. NaN/inf safety: a non-finite loss counts as `BIG` with zero gradient, so
Adam and L-BFGS never step on it and L-M rejects the step. Gradients come from forward mode
(a few JVPs; cheapest for a few parameters and a small state) or reverse mode (through the
checkpointed `trajectory`; for a 3D grid), wrapped as a `custom_vjp` so optax's line search
uses the same one.

Progress is reported per chunk; after every chunk the whole optimiser state (with the
seconds spent so far) is written to `<outdir>/<name>.resume.npz`, so an interrupted fit
resumed with `--resume` continues from the last chunk and ends bit-for-bit where an
uninterrupted fit would, and its report counts the time of the whole fit.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._errors import InputError
from .._progress import Progress
from ._config import Settings
from ._parameters import FreeSet, latin_hypercube
from ._problem import Problem

BIG = 1e30  # the loss of a start whose simulation is not finite


@functools.cache
def forward_mode_options() -> dict[str, Any]:
    """XLA options for a program that pushes tangents through the simulation (forward mode):
    on CPU, the plain loop emitters instead of XLA:CPU's fusion emitters.

    XLA fuses a whole step's reaction, primal and tangents, into the loop fusion that stacks
    the state's fields (`_model._interleave`). In the forward-mode (JVP) program the tangent
    expressions reuse the primal intermediates many times over, and the fusion emitters
    recompute shared intermediates rather than compute them once: on the radial fit
    benchmark (`scripts/radial_speed.py fit`, 25 shells) that fusion's arithmetic is reached
    by ~4.3e5 paths from its output against ~2.5e3 before the living-cell pools (a2c62d3)
    and the kinetics added since, and it took 5.3 ms of the Jacobian program's ~8 ms per
    step. On the loop emitters the same HLO runs that program 3-5x faster and compiles in
    about half the time, results equal to ~1e-16 relative (docs/performance.md, "Fitting").
    Primal-only programs keep XLA's defaults (the 3D run is ~17 % slower on the loop
    emitters, docs/performance.md, "The test-suite"). Empty where the backend is not the
    CPU or this XLA does not know the option."""
    if jax.default_backend() != "cpu":
        return {}
    options = {"xla_cpu_use_fusion_emitters": False}
    try:
        jax.jit(lambda a: a + 1.0, compiler_options=options).lower(0.0).compile()
    except Exception:  # an XLA without the option: its defaults
        return {}
    return options


def safe_loss(f: Callable[[jax.Array], jax.Array], mode: str) -> Callable[[jax.Array], jax.Array]:
    """f (one start, x -> scalar) with non-finite values -> BIG and gradients -> 0, whose
    reverse-mode derivative is computed in `mode` ("forward": P JVPs; "reverse": VJP)."""

    @jax.custom_vjp
    def g(x):
        v = f(x)
        return jnp.where(jnp.isfinite(v), v, BIG)

    def fwd(x):
        if mode == "forward":
            basis = jnp.eye(x.shape[-1], dtype=x.dtype)
            vals, grad = jax.vmap(lambda b: jax.jvp(f, (x,), (b,)))(basis)
            v = vals[0]
        else:
            v, grad = jax.value_and_grad(f)(x)
        ok = jnp.isfinite(v) & jnp.all(jnp.isfinite(grad))
        return jnp.where(jnp.isfinite(v), v, BIG), jnp.where(ok, grad, 0.0)

    def bwd(grad, ct):
        return (ct * grad,)

    g.defvjp(fwd, bwd)
    return g


def residuals_and_jacobian(res: Callable[[jax.Array], jax.Array]
                           ) -> Callable[[jax.Array], tuple[jax.Array, jax.Array]]:
    """x -> (r, J) by forward mode (one JVP per parameter)."""

    def rj(x):
        basis = jnp.eye(x.shape[-1], dtype=x.dtype)
        r, jt = jax.vmap(lambda b: jax.jvp(res, (x,), (b,)), out_axes=(None, 0))(basis)
        return r, jt.T

    return rj


@dataclasses.dataclass
class OptimiserState:
    """Everything needed to continue a fit (saved after every chunk)."""

    phase: str  # "adam" | "lbfgs" | "lm" | "done"
    step: int
    starts_x: np.ndarray  # (S, P) ln p at the start of the optimisation
    x: np.ndarray  # (S, P) current ln p
    best_x: np.ndarray  # (S, P)
    best_loss: np.ndarray  # (S,)
    opt_leaves: list[np.ndarray]
    mu: np.ndarray  # (S,) L-M damping
    screened: list[float]  # screening losses (for the report)
    history: list[dict[str, Any]]
    # the best loss over starts on entering L-M and after each of its steps (`still_improving`)
    lm_losses: list[float] = dataclasses.field(default_factory=list)
    lm_converged: list[bool] | None = None  # per start, once L-M has ended
    # seconds spent up to this state, every session before a resume included: the optimiser's
    # stages (`MultiStart.run`) and the whole fit (`_fit.fit`), which the report counts
    wall_s: float = 0.0
    fit_wall_s: float = 0.0

    def save(self, path: Path, fingerprint: str) -> None:
        meta = {"phase": self.phase, "step": self.step, "fingerprint": fingerprint,
                "screened": self.screened, "history": self.history,
                "n_opt": len(self.opt_leaves), "lm_losses": self.lm_losses,
                "lm_converged": self.lm_converged, "wall_s": self.wall_s,
                "fit_wall_s": self.fit_wall_s}
        arrays = {"starts_x": self.starts_x, "x": self.x, "best_x": self.best_x,
                  "best_loss": self.best_loss, "mu": self.mu}
        arrays.update({f"opt{i}": a for i, a in enumerate(self.opt_leaves)})
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, fingerprint: str, file: str) -> OptimiserState:
        try:
            with np.load(path) as stored:
                z = {k: np.asarray(stored[k]) for k in stored.files}
            meta = json.loads(str(z["meta"]))
            opt = [z[f"opt{i}"] for i in range(meta["n_opt"])]
            fields = (meta["fingerprint"], meta["phase"], meta["step"], z["starts_x"], z["x"],
                      z["best_x"], z["best_loss"], z["mu"], meta["screened"], meta["history"],
                      meta.get("lm_losses", []), meta.get("lm_converged"),
                      float(meta.get("wall_s", 0.0)), float(meta.get("fit_wall_s", 0.0)))
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            raise InputError(f"{path} is not a readable interrupted-fit state (damaged, or not "
                             "written by zn-pde fit); delete it, or run again without "
                             "--resume to start afresh", file=file, key="--resume") from None
        if fields[0] != fingerprint:
            raise InputError(
                f"the interrupted fit in {path} was made with a different fit config or "
                "data table; run again without --resume to start afresh", file=file,
                key="--resume")
        (phase, step, starts_x, x, best_x, best_loss, mu, screened, history, lm_losses,
         lm_converged, wall_s, fit_wall_s) = fields[1:]
        return cls(phase, step, starts_x, x, best_x, best_loss, opt, mu, screened, history,
                   lm_losses, lm_converged, wall_s, fit_wall_s)


@dataclasses.dataclass
class Optimum:
    x: np.ndarray  # ln p of the best start
    loss: float
    starts: list[dict[str, Any]]
    best_start: int
    history: list[dict[str, Any]]
    wall_s: float  # the optimiser's stages, every session before a resume included
    screened: list[float]
    lm_losses: list[float] = dataclasses.field(default_factory=list)
    lm_converged: bool | None = None  # the best start's L-M; None where no L-M step ran


class MultiStart:
    """Batched optimiser over starts for one problem (see module docstring).

    Two compiled programs serve every stage: the loss and the residual Jacobian (forward
    mode), both batched over `starts` points; larger batches (screening, profiles) are cut
    into blocks of that size, so nothing recompiles. Reverse mode adds the loss gradient.
    """

    def __init__(self, problem: Problem, settings: Settings, mode: str,
                 programs: dict[str, Any] | None = None):
        free, dtype = problem.free, problem.prediction.dtype
        loss = problem.loss
        self.problem = problem
        self.free, self.settings, self.mode, self.dtype = free, settings, mode, dtype
        lo = jnp.asarray(free.ln_lower, dtype)
        hi = jnp.asarray(free.ln_upper, dtype)
        self.lo, self.hi = lo, hi
        safe_x = safe_loss(loss, mode)

        def loss_u(u):
            return safe_x(lo + (hi - lo) * jax.nn.sigmoid(u))

        self.loss_u = loss_u
        pred = problem.prediction
        self.prediction = pred

        def traj_and_jacobian(x, arrays):
            basis = jnp.eye(x.shape[-1], dtype=x.dtype)
            t, dt = jax.vmap(lambda b: jax.jvp(lambda z: pred.trajectories(z, arrays), (x,),
                                               (b,)), out_axes=(None, 0))(basis)
            return t, jnp.moveaxis(dt, 0, -1)

        if programs is None:
            programs = {"traj_rj": jax.jit(jax.vmap(traj_and_jacobian, in_axes=(0, None)),
                                           compiler_options=forward_mode_options())}
            if pred.batch == "map":  # a 3D solve: a forward-only program pays for itself
                programs["traj_x"] = jax.jit(jax.vmap(pred.trajectories, in_axes=(0, None)))
            else:  # well-mixed: runs are cheap, compiling is not; one program serves both
                rj = programs["traj_rj"]
                programs["traj_x"] = lambda x, arrays: rj(x, arrays)[0]
        self.programs = programs
        self._traj_rj, self._traj_x = programs["traj_rj"], programs["traj_x"]
        if mode == "reverse" and "vg_u" not in programs:
            programs["vg_u"] = jax.jit(jax.vmap(jax.value_and_grad(loss_u)))
        self._vg_u = programs.get("vg_u")
        self.adam = optax.adam(settings.learning_rate)
        self._adam_update = jax.jit(self.adam.update)
        self.lbfgs = optax.lbfgs()
        value_and_grad = optax.value_and_grad_from_state(loss_u)

        def lbfgs_one(u, state):
            v, g = value_and_grad(u, state=state)
            upd, state = self.lbfgs.update(g, state, u, value=v, grad=g, value_fn=loss_u)
            return optax.apply_updates(u, upd), state, v

        def lbfgs_chunk(u, state, n: int):
            def body(carry, _):
                u, state = carry
                u, state, v = jax.vmap(lbfgs_one)(u, state)
                return (u, state), v

            (u, state), _ = jax.lax.scan(body, (u, state), None, length=n)
            return u, state, jax.vmap(loss_u)(u)

        self.lbfgs_chunk = jax.jit(lbfgs_chunk, static_argnums=2)

    # --- batched evaluation in blocks of `starts` ------------------------------------------

    def _blocks(self, fn, x: np.ndarray):
        s = self.settings.starts
        x = np.atleast_2d(np.asarray(x, float))
        outs = []
        for i in range(0, len(x), s):
            block = x[i:i + s]
            pad = np.concatenate([block, np.repeat(block[-1:], s - len(block), 0)])
            out = fn(jnp.asarray(pad, self.dtype))
            n = len(block)
            outs.append(jax.tree.map(lambda a: np.asarray(a, float)[:n], out))  # noqa: B023
        return jax.tree.map(lambda *a: np.concatenate(a), *outs)

    def predict_batch(self, x: np.ndarray) -> np.ndarray:
        """Predicted rows (n, rows) at each row of x (ln p)."""
        traj = self._blocks(lambda z: self._traj_x(z, self.prediction.arrays), x)
        return self.prediction.gather(traj)

    def trajectories(self, x: np.ndarray, arrays) -> np.ndarray:
        """Trajectories (conditions, frames) of another stack of conditions with the same
        structure and schedule, at one point x, through the same compiled program."""
        c = self.prediction.n_conditions
        s = self.settings.starts
        n = arrays.cell_fraction.shape[0]
        xs = jnp.asarray(np.repeat(np.asarray(x, float)[None], s, 0), self.dtype)
        out = []
        for i in range(0, n, c):
            idx = np.minimum(np.arange(i, i + c), n - 1)
            if n == c:
                chunk = arrays
            else:  # gather on the host: an eager device gather compiles once per leaf shape
                chunk = jax.tree.map(lambda a: np.asarray(a)[idx], arrays)  # noqa: B023
            out.append(np.asarray(self._traj_x(xs, chunk)[0], float)[:min(c, n - i)])
        return np.concatenate(out)

    def loss_x_batch(self, x: np.ndarray) -> np.ndarray:
        """½‖r‖² (BIG where not finite) at each row of x (ln p)."""
        r = self.problem.residuals_from(self.predict_batch(x))
        with np.errstate(all="ignore"):
            v = 0.5 * np.sum(r * r, axis=-1)
        return np.where(np.isfinite(v), v, BIG)

    def rj_batch(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals (n, m) and Jacobians (n, m, p) with respect to ln p."""
        traj, dtraj = self._blocks(lambda z: self._traj_rj(z, self.prediction.arrays), x)
        pred = self.prediction.gather(traj)
        dpred = self.prediction.gather(dtraj, trailing=1)
        return self.problem.residuals_from(pred), self.problem.jacobian_from(pred, dpred)

    def value_and_grad_u(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loss and its gradient with respect to u (non-finite -> BIG and 0)."""
        if self._vg_u is not None:
            v, g = self._vg_u(jnp.asarray(u, self.dtype))
            return np.asarray(v, float), np.asarray(g, float)
        x = self.to_x(u)
        r, jac = self.rj_batch(x)
        v = 0.5 * np.sum(r * r, axis=1)
        g = np.einsum("smp,sm->sp", jac, r)
        sig = 1.0 / (1.0 + np.exp(-np.asarray(u, float)))
        g = g * (np.asarray(self.hi - self.lo) * sig * (1.0 - sig))
        ok = np.isfinite(v) & np.all(np.isfinite(g), axis=1)
        return np.where(np.isfinite(v), v, BIG), np.where(ok[:, None], g, 0.0)

    # --- helpers --------------------------------------------------------------------------

    def to_u(self, x: np.ndarray) -> np.ndarray:
        return np.stack([self.free.to_u(xi) for xi in np.atleast_2d(x)])

    def to_x(self, u: np.ndarray) -> np.ndarray:
        lo, hi = np.asarray(self.lo), np.asarray(self.hi)
        return lo + (hi - lo) / (1.0 + np.exp(-np.asarray(u, float)))

    # --- stages ---------------------------------------------------------------------------

    def screen(self) -> tuple[np.ndarray, list[float]]:
        """Starting points: the initial values + the best of a Latin hypercube (fixed seed)."""
        s, free = self.settings, self.free
        rng = np.random.default_rng(s.seed)
        x0 = np.log(free.initial)[None]
        n_lhs = max(s.candidates, s.starts - 1)
        if n_lhs == 0:
            return x0, []
        frac = latin_hypercube(n_lhs, len(free.names), rng)
        lhs = free.ln_lower + (free.ln_upper - free.ln_lower) * frac
        if s.candidates <= s.starts - 1:
            chosen, screened = lhs[:s.starts - 1], []
        else:
            losses = self.loss_x_batch(lhs)
            order = np.argsort(np.where(np.isfinite(losses), losses, np.inf), kind="stable")
            chosen, screened = lhs[order[:s.starts - 1]], [float(v) for v in losses]
        return np.concatenate([x0, chosen])[:s.starts], screened

    def initial_state(self) -> OptimiserState:
        starts, screened = self.screen()
        starts = np.concatenate([starts, np.repeat(starts[-1:],
                                                   self.settings.starts - len(starts), 0)])
        u = jnp.asarray(self.to_u(starts), self.dtype)
        opt = jax.tree.leaves(self.adam.init(u))
        v = self.loss_x_batch(starts)
        return OptimiserState("adam", 0, starts, starts.copy(), starts.copy(), v,
                              [np.asarray(a) for a in opt], np.full(len(starts), 1e-3),
                              screened, [])

    def run(self, state: OptimiserState, *, label: str, quiet: bool,
            checkpoint: Callable[[OptimiserState], None]) -> Optimum:
        s = self.settings
        t0 = time.perf_counter()
        before = state.wall_s  # the sessions before a resume

        def save() -> None:
            state.wall_s = before + time.perf_counter() - t0
            checkpoint(state)

        if state.phase == "adam":
            prog = Progress(s.adam_steps, unit="steps", scale=1.0, label=f"{label}: adam",
                            enabled=not quiet and s.adam_steps > 0)
            u = self.to_u(state.x)
            treedef = jax.tree.structure(self.adam.init(jnp.asarray(u, self.dtype)))
            opt = jax.tree.unflatten(treedef, [jnp.asarray(a) for a in state.opt_leaves])
            while state.step < s.adam_steps:
                v, g = self.value_and_grad_u(u)
                better = v < state.best_loss
                state.best_x = np.where(better[:, None], self.to_x(u), state.best_x)
                state.best_loss = np.where(better, v, state.best_loss)
                upd, opt = self._adam_update(jnp.asarray(g, self.dtype), opt)
                u = u + np.asarray(upd, float)
                state.step += 1
                if state.step % s.chunk == 0 or state.step == s.adam_steps:
                    state.x = self.to_x(u)
                    state.opt_leaves = [np.asarray(a) for a in jax.tree.leaves(opt)]
                    state.history.append({"phase": "adam", "step": state.step,
                                          "best_loss": float(np.min(state.best_loss))})
                    save()
                    prog.update(state.step)
            if s.adam_steps:
                v = self.loss_x_batch(self.to_x(u))
                better = v < state.best_loss
                state.best_x = np.where(better[:, None], self.to_x(u), state.best_x)
                state.best_loss = np.where(better, v, state.best_loss)
            state.phase, state.step, state.x = "lbfgs", 0, state.best_x.copy()
            state.opt_leaves = []
            save()
        if state.phase == "lbfgs":
            chunks_l = max(1, math.ceil(s.lbfgs_steps / s.chunk)) if s.lbfgs_steps else 0
            per_l = math.ceil(s.lbfgs_steps / chunks_l) if chunks_l else 0
            prog = Progress(chunks_l * per_l, unit="steps", scale=1.0,
                            label=f"{label}: L-BFGS", enabled=not quiet and chunks_l > 0)
            if chunks_l:
                u = jnp.asarray(self.to_u(state.x), self.dtype)
                init = jax.vmap(self.lbfgs.init)(u)
                treedef = jax.tree.structure(init)
                opt = (jax.tree.unflatten(treedef, [jnp.asarray(a) for a in state.opt_leaves])
                       if state.opt_leaves else init)
                while state.step < chunks_l:
                    u, opt, v = self.lbfgs_chunk(u, opt, per_l)
                    state.step += 1
                    state.x = self.to_x(u)
                    v = np.asarray(v)
                    better = v < state.best_loss
                    state.best_x = np.where(better[:, None], state.x, state.best_x)
                    state.best_loss = np.where(better, v, state.best_loss)
                    state.opt_leaves = [np.asarray(a) for a in jax.tree.leaves(opt)]
                    state.history.append({"phase": "lbfgs", "step": state.step * per_l,
                                          "best_loss": float(np.min(state.best_loss))})
                    save()
                    prog.update(state.step * per_l)
            state.phase, state.step, state.x = "lm", 0, state.best_x.copy()
            state.opt_leaves = []
            save()
        if state.phase == "lm":
            prog = Progress(s.lm_steps, unit="steps", scale=1.0, label=f"{label}: L-M",
                            enabled=not quiet and s.lm_steps > 0)
            x = state.best_x.copy()
            done = np.zeros(len(x), bool)
            failed = np.zeros(len(x), bool)
            if not state.lm_losses:
                state.lm_losses.append(float(np.min(state.best_loss)))
            while state.step < s.lm_steps:
                x, mu, loss, conv, stuck = lm_step(self.rj_batch, self.loss_x_batch, x,
                                                   state.mu, state.best_loss, self.free,
                                                   active=~done)
                failed |= stuck
                done |= conv | stuck
                moved = not done.all()
                state.step += 1
                state.mu = mu
                better = loss < state.best_loss
                state.best_x = np.where(better[:, None], x, state.best_x)
                state.best_loss = np.where(better, loss, state.best_loss)
                state.lm_losses.append(float(np.min(state.best_loss)))
                if state.step % s.chunk == 0 or not moved or state.step == s.lm_steps:
                    state.history.append({"phase": "lm", "step": state.step,
                                          "best_loss": float(np.min(state.best_loss))})
                    save()
                    if moved:
                        prog.update(state.step)
                if not moved:
                    prog.finish(state.step, "converged")
                    break
            state.lm_converged = (done & ~failed).tolist()
            state.phase = "done"
            save()
        best = int(np.argmin(np.where(np.isfinite(state.best_loss), state.best_loss, np.inf)))
        starts = [{"start": i, "initial": dict(zip(self.free.names,
                                                   np.exp(state.starts_x[i]).tolist(),
                                                   strict=True)),
                   "final": dict(zip(self.free.names, np.exp(state.best_x[i]).tolist(),
                                     strict=True)),
                   "loss": float(state.best_loss[i])}
                  for i in range(len(state.best_loss))]
        converged = (bool(state.lm_converged[best])
                     if state.lm_converged is not None and s.lm_steps > 0 else None)
        return Optimum(state.best_x[best].copy(), float(state.best_loss[best]), starts, best,
                       state.history, before + time.perf_counter() - t0, state.screened,
                       list(state.lm_losses), converged)

    def polish(self, x: np.ndarray, loss: float, steps: int) -> tuple[np.ndarray, float]:
        """L-M from one point x (ln p) with every parameter free, until it converges or has
        taken `steps` steps: the fit continued from a point the profile found below the
        optimum (`_fit.analyse`)."""
        xs, ls = np.asarray(x, float)[None].copy(), np.array([loss])
        mu = np.full(1, 1e-3)
        for _ in range(steps):
            xs, mu, ls, conv, failed = lm_step(self.rj_batch, self.loss_x_batch, xs, mu, ls,
                                               self.free)
            if conv[0] or failed[0]:
                break
        return xs[0], float(ls[0])


def derivatives_warning(jac: np.ndarray, lines: np.ndarray) -> str | None:
    """A warning where the model's derivatives at the reported values are not finite (rows
    `lines` of the data, (m, p) `jac`): the optimiser cannot move a start from such a point
    (its gradient is taken as 0 and L-M has no step), so the values reported may be a start
    that was never fitted, and they have no intervals."""
    bad = ~np.all(np.isfinite(jac), axis=1)
    if not bad.any():
        return None
    rows = ", ".join(str(int(n)) for n in np.asarray(lines)[bad][:8])
    more = "" if bad.sum() <= 8 else f" and {int(bad.sum()) - 8} more"
    return (f"the model's derivatives at the reported values are not finite for "
            f"{int(bad.sum())} of {len(bad)} data rows (lines {rows}{more}): the optimiser "
            "cannot move a start from such a point, so these values may be a start that was "
            "never fitted, and they have no intervals; fit again with other starts "
            "(fit.starts, fit.seed), narrower bounds, or numerics.precision = \"float64\"")


STALL_WINDOW = 5  # L-M steps over which `still_improving` measures the fall of the loss
STALL_RTOL = 1e-6  # a fall of the SSR larger than this (relative) there: not converged


def still_improving(opt: Optimum) -> str | None:
    """A warning where the L-M stage stopped at its step limit while the SSR was still
    falling: by more than `STALL_RTOL` of its value over the last `STALL_WINDOW` steps (and by
    more than 1e-12 of the SSR on entering L-M, so a fit that matches its data to rounding
    error is not flagged). Its values are then not the optimum, and intervals computed at
    them (the Gauss-Newton curvature, the profile's ΔSSR) are not the optimum's either."""
    losses = opt.lm_losses
    if opt.lm_converged is not False or len(losses) < 2:
        return None
    window = losses[-STALL_WINDOW - 1:]
    fall = window[0] - window[-1]
    if not (fall > STALL_RTOL * abs(window[-1]) and fall > 1e-12 * abs(losses[0])):
        return None
    steps = len(losses) - 1
    # the two SSRs with as many digits as tell them apart: a fall of 1e-5 of the value read
    # "fell from 1.758 to 1.758" at 4 digits
    was, now = next(((f"{window[0]:.{d}g}", f"{window[-1]:.{d}g}") for d in range(4, 17)
                     if f"{window[0]:.{d}g}" != f"{window[-1]:.{d}g}"),
                    (repr(window[0]), repr(window[-1])))
    rel = fall / (abs(window[-1]) or abs(window[0]))  # an SSR that fell to 0: all of it
    return (f"the optimiser stopped at its step limit (lm_steps = {steps}) while the fit was "
            f"still improving: the SSR fell from {was} to {now} (by {rel:.2g} of its "
            f"value) over the last {len(window) - 1} Levenberg-Marquardt steps, more "
            f"than the {STALL_RTOL:g} of its value taken as converged; the values reported "
            "are not the optimum, and their intervals are not the optimum's; raise lm_steps "
            "(--set fit.lm_steps=N) and fit again")


def lm_step(rj_batch, loss_batch, x: np.ndarray, mu: np.ndarray, loss: np.ndarray,
            free: FreeSet, fixed_mask: np.ndarray | None = None,
            active: np.ndarray | None = None, rtol: float = 1e-12
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One projected Levenberg-Marquardt step for every `active` row (default: all).

    Solves (JᵀJ + μ diag(JᵀJ)) δ = −Jᵀr over the coordinates free to move (`lm_direction`),
    accepts the step if the loss falls (then μ ← μ/3, else μ ← 4μ). Coordinates in
    `fixed_mask` (S, P) do not move. Returns the new x, μ, loss and, per row, whether it has
    converged (its accepted step gained less than `rtol` of the loss, or its step is
    negligible, as at a point where every coordinate is fixed or held at a bound by the
    gradient; inactive rows: True) and whether it failed: its Jacobian or step is not
    finite, so it does not move and has not converged (it stands where its derivatives
    failed, which is no optimum); a caller stops it, as its next step would fail alike.
    """
    act = np.ones(len(x), bool) if active is None else np.asarray(active, bool)
    idx = np.flatnonzero(act)
    if idx.size == 0:
        return x, mu, loss, np.ones(len(x), bool), np.zeros(len(x), bool)
    if idx.size < len(x):
        sub_mask = None if fixed_mask is None else fixed_mask[idx]
        xs, ms, ls, cs, fs = lm_step(rj_batch, loss_batch, x[idx], mu[idx], loss[idx], free,
                                     sub_mask, None, rtol)
        x_out, mu_out, loss_out = x.copy(), mu.copy(), loss.copy()
        x_out[idx], mu_out[idx], loss_out[idx] = xs, ms, ls
        conv, failed = np.ones(len(x), bool), np.zeros(len(x), bool)
        conv[idx], failed[idx] = cs, fs
        return x_out, mu_out, loss_out, conv, failed
    r, jac = rj_batch(x)
    new = x.copy()
    failed = np.zeros(len(x), bool)
    for i in range(len(x)):
        held = (np.zeros(x.shape[1], bool) if fixed_mask is None
                else np.asarray(fixed_mask[i], bool))
        step = lm_direction(r[i], jac[i], x[i], mu[i], held, free.ln_lower, free.ln_upper)
        if step is None:
            failed[i] = True
        else:
            new[i] = np.clip(x[i] + step, free.ln_lower, free.ln_upper)
    trial = loss_batch(new)
    ok = np.isfinite(trial) & (trial < loss)
    rel = np.where(ok, (loss - trial) / np.maximum(np.abs(loss), 1e-300), 0.0)
    tiny = np.max(np.abs(new - x), axis=1) < 1e-9
    converged = ((ok & (rel < rtol)) | tiny) & ~failed
    x_out = np.where(ok[:, None], new, x)
    mu_out = np.clip(np.where(ok, mu / 3.0, mu * 4.0), 1e-12, 1e12)
    return x_out, mu_out, np.where(ok, trial, loss), converged, failed


AT_BOUND_LN = 1e-9  # a coordinate this close to a bound (ln units) is on it (clipped there)


def lm_direction(r: np.ndarray, jac: np.ndarray, x: np.ndarray, mu: float, held: np.ndarray,
                 lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
    """The L-M step δ at one point, in the box [lo, hi] (None where it is not finite).

    Clipping the unconstrained step x + δ to the box is not a descent method when the
    parameters are correlated: where one sits on a bound with the gradient pushing it out,
    its share of δ is cut off while the others keep the share that was meant to compensate
    for it, so they move the wrong way or barely at all (a release fit with the rate on its
    upper bound crept along for hundreds of steps). The step is therefore solved over the
    free subspace (the active-set / gradient-projection rule, Nocedal & Wright 2006,
    Numerical Optimization, §16.7): coordinates in `held`, and those on a bound whose
    gradient g = Jᵀr points out of the box, do not move; where the solved step would still
    cross a bound, that coordinate is placed on it and the rest solved again with it there
    (the Gauss-Newton model r + J δ with δ_k = bound − x_k), at most once per coordinate.
    """
    g = jac.T @ r
    if not (np.all(np.isfinite(jac)) and np.all(np.isfinite(g))):
        return None
    held = held | ((x <= lo + AT_BOUND_LN) & (g > 0)) | ((x >= hi - AT_BOUND_LN) & (g < 0))
    step = np.zeros_like(x)
    for _ in range(len(x) + 1):
        move = ~held
        if not move.any():
            return step
        jm = jac[:, move]
        a = jm.T @ jm
        d = np.diag(a).copy()
        d = np.where(d > 0, d, 1.0)
        rhs = -jm.T @ (r + jac[:, held] @ step[held])
        try:
            sub = np.linalg.solve(a + mu * np.diag(d), rhs)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(sub)):
            return None
        step[move] = sub
        crossing = move & ((x + step < lo) | (x + step > hi))
        if not crossing.any():
            return step
        step[crossing] = np.clip(x + step, lo, hi)[crossing] - x[crossing]
        held = held | crossing
    return step
