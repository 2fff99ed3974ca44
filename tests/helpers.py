"""Shared helpers for the test-suite."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from zn_pde.config import load_config, resolve

WELL_MIXED_CULTURE = {
    "grid": {"kind": "well_mixed"},
    "time": {"end_h": 24.0, "dt_s": 60.0, "save_every_min": 60.0},
    "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
    "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
}


def sonicated_culture(intensity_W_per_cm2: float, *, dose_ug_per_ml: float = 20.0,
                      end_h: float = 2.0, start_h: float = 1.0,
                      duration_min: float = 1.0) -> dict[str, Any]:
    """WELL_MIXED_CULTURE for a short run (300 s steps) with one 1 MHz ultrasound exposure."""
    return {**copy.deepcopy(WELL_MIXED_CULTURE),
            "time": {"end_h": end_h, "dt_s": 300.0, "save_every_min": 60.0},
            "material": {"kind": "ZnO", "dose_ug_per_ml": dose_ug_per_ml},
            "ultrasound": [{"start_h": start_h, "duration_min": duration_min,
                            "intensity_W_per_cm2": intensity_W_per_cm2,
                            "frequency_MHz": 1.0}]}


def config(raw: dict[str, Any]) -> dict[str, Any]:
    """Resolve a raw config dict (a deep copy, so callers may reuse their dicts)."""
    c = resolve(copy.deepcopy(raw), "<test>")
    c["_name"] = "test"
    return c


def default_config(*overrides: str) -> dict[str, Any]:
    return load_config(None, list(overrides))


def _fields(model: Any, state: Any) -> dict[str, Any]:
    """Every model variable (one function: runs of one structure share a compiled program)."""
    return model.fields(state)


def series(c: dict[str, Any], plan: Any = None) -> tuple[Any, dict[str, Any]]:
    """Run a config through the differentiable trajectory; returns (times_s, {name: (T, ...)})
    of every model variable (well-mixed: shape (T,); 3D: (T, z, y, x)). `plan`: a step plan
    shared with other runs (`zn_pde._protocol.build_plan`), else the config's own."""
    import numpy as np

    from zn_pde import Schedule, build_model, trajectory

    model = build_model(c, plan=plan)
    sched = Schedule.from_model(model)
    out = trajectory(model, sched, _fields)
    out = {k: np.asarray(v) for k, v in out.items()}
    if model.well_mixed:
        out = {k: v.reshape(v.shape[0]) for k, v in out.items()}
    return sched.save_times_s, out


def assert_loss_gradient_matches_fd(problem, rtol: float = 1e-5, step: float = 1e-4) -> None:
    """Reverse-mode gradient of a fit problem's loss at its initial (log) parameters against
    central differences, from one compiled program, and every parameter moves the loss."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    x = jnp.log(jnp.asarray(problem.free.initial))
    value_and_grad = jax.jit(jax.value_and_grad(problem.loss))
    value, grad = (np.asarray(a) for a in value_and_grad(x))
    fd = np.array([(float(value_and_grad(x.at[i].add(step))[0])
                    - float(value_and_grad(x.at[i].add(-step))[0])) / (2 * step)
                   for i in range(x.size)])
    np.testing.assert_allclose(grad, fd, rtol=rtol)
    assert np.all(np.abs(grad) > 1e-6 * value)  # every parameter moves the read-out


def crank_sphere(tau: Any) -> Any:
    """M_t/M_∞ of a sphere whose surface is held at a fixed value from τ = D t/a² = 0,
    1 − 6/π² Σ e^{−n²π²τ}/n² (Crank 1975, The Mathematics of Diffusion, 2nd ed., eq. 6.20);
    0 for τ ≤ 0. Elementwise on an array of τ."""
    tau = np.asarray(tau, float)
    n = np.arange(1, 400).reshape((-1,) + (1,) * tau.ndim)
    series = np.sum(np.exp(-(n**2) * np.pi**2 * np.maximum(tau, 0.0)) / n**2, axis=0)
    return np.where(tau > 0, 1 - 6 / np.pi**2 * series, 0.0)


def finite_bath_roots(alpha: float, count: int = 200) -> np.ndarray:
    """The positive roots q_n of tan q = 3q/(3 + α q²) (Crank 1975, eq. 6.31), one in each
    interval (nπ, (n+1)π), found as sign changes of (3 + αq²) sin q − 3q cos q."""
    from scipy.optimize import brentq

    def f(q):
        return (3 + alpha * q**2) * np.sin(q) - 3 * q * np.cos(q)

    grid = np.linspace(1e-6, (count + 2) * np.pi, 200 * (count + 2))
    v = f(grid)
    cross = np.flatnonzero(np.sign(v[:-1]) != np.sign(v[1:]))[:count]
    return np.array([brentq(f, grid[i], grid[i + 1]) for i in cross])


def crank_finite_bath(tau: float, alpha: float) -> float:
    """M_t/M_∞ of a sphere taking a solute up from a well-stirred bath of α times its volume,
    τ = D t / a² (Crank 1975, The Mathematics of Diffusion, 2nd ed., eq. 6.30; the same for
    release from the sphere into a clean bath, §6.3.2)."""
    q = finite_bath_roots(alpha)
    return 1 - float(np.sum(6 * alpha * (alpha + 1) * np.exp(-q**2 * tau)
                            / (9 + 9 * alpha + q**2 * alpha**2)))


def hold_lock(path: Any) -> Any:
    """A process that holds a POSIX write lock on `path` (as a running zn-pde writer does)
    until killed; returns once it holds it. Use as `holder = hold_lock(p)`, then
    `holder.kill(); holder.communicate()`."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], "
         "os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX); print('locked', flush=True); "
         "time.sleep(60)", str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def relaxing_to_windows(t: float, windows: Any, k: float) -> float:
    """c(t) of dc/dt = S(t) - k c, c(0) = 0, where S is `source` on each (start_s, length_s,
    source) window of `windows` (in time order, not overlapping) and 0 between them: the
    exact piecewise-exponential solution (a well-mixed ROS under repeated exposures)."""
    c, now = 0.0, 0.0
    for start, length, rate in windows:
        for until, source in ((start, 0.0), (start + length, rate)):
            s = min(t, until) - now
            if s > 0:
                c = source / k + (c - source / k) * np.exp(-k * s)
                now += s
    return c * np.exp(-k * max(t - now, 0.0))


def closed_well_zinc_totals(c: dict[str, Any]) -> tuple[float, float, Any]:
    """All zinc (particles, dissolved, intracellular) summed over the voxels of config `c`
    at its start and end, and the final state's dtype: the closed-well conservation tests'
    run (tests/test_model.py, tests/test_unsplit.py)."""
    import jax.numpy as jnp

    from zn_pde import _kinetics as kin
    from zn_pde import build_model
    from zn_pde._solve import Schedule, advance, factorise

    model = build_model(c)
    transport, state = factorise(model), model.initial_state()

    def total(s: Any) -> float:
        z = kin.total_zinc_uM(model.kinetics, model.local(s), model.cell_fraction,
                              model.fluid_fraction)
        return float(np.sum(np.asarray(z, float)))

    start = total(state)
    for n in Schedule.from_model(model).chunks:
        state, _ = advance(model, transport, state, jnp.asarray(n))
    return start, total(state), state.mobile.dtype


def held_cube(n: int, length_um: float, dt_s: float, end_s: float,
              numerics: dict[str, Any], d_um2_per_s: float = 10.0) -> dict[str, Any]:
    """A cell-free cube of edge `length_um` on n³ voxels, one passive species of diffusivity
    `d_um2_per_s` from 0, its faces held at 1 µM, saved at a third, two thirds and all of
    `end_s` (the triple sine series' test problem of test_analytic_fourth and _sixth)."""
    return {"grid": {"kind": "cartesian", "shape": [n, n, n], "spacing_um": length_um / n},
            "time": {"end_h": end_s / 3600, "dt_s": dt_s, "save_every_min": end_s / 3 / 60,
                     "save_around_events": False},
            "geometry": {"kind": "medium"},
            "boundary": {"kind": "dirichlet"},
            "numerics": numerics,
            "species": [{"name": "s", "diffusivity_um2_per_s": d_um2_per_s,
                         "boundary_uM": 1.0}]}
