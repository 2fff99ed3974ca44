"""Shared helpers for the test-suite."""

from __future__ import annotations

import copy
from typing import Any

from zn_pde.config import load_config, resolve

WELL_MIXED_CULTURE = {
    "grid": {"kind": "well_mixed"},
    "time": {"end_h": 24.0, "dt_s": 60.0, "save_every_min": 60.0},
    "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
    "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
}


def config(raw: dict[str, Any]) -> dict[str, Any]:
    """Resolve a raw config dict (a deep copy, so callers may reuse their dicts)."""
    c = resolve(copy.deepcopy(raw), "<test>")
    c["_name"] = "test"
    return c


def default_config(*overrides: str) -> dict[str, Any]:
    return load_config(None, list(overrides))


def series(c: dict[str, Any], plan: Any = None) -> tuple[Any, dict[str, Any]]:
    """Run a config through the differentiable trajectory; returns (times_s, {name: (T, ...)})
    of every model variable (well-mixed: shape (T,); 3D: (T, z, y, x)). `plan`: a step plan
    shared with other runs (`zn_pde._protocol.build_plan`), else the config's own."""
    import numpy as np

    from zn_pde import Schedule, build_model, trajectory

    model = build_model(c, plan=plan)
    sched = Schedule.from_model(model)
    out = trajectory(model, sched, lambda m, s: m.fields(s))
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
