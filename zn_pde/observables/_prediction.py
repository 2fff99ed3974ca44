"""From kinetic parameters to predicted table rows, through the simulator itself.

Each distinct experimental condition (dose, pH, stimulus) of a table becomes one simulation
config, resolved by `zn_pde.config.resolve` and built by `zn_pde.build_model`, exactly as
`zn-pde run` would build it. The models' array leaves are stacked along a leading condition
axis; a prediction swaps the fitted kinetic constants into every condition, runs
`zn_pde.trajectory` (pure, differentiable, checkpointed) for all conditions at once (`vmap`,
or `lax.map` where a 3D grid makes memory the limit) and reads each row at its own time,
interpolating linearly between saved frames (exact when the time is a saved frame, which the
schedule chosen here ensures whenever the times are whole numbers of steps).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._errors import InputError
from .._kinetics import MEDIUM_FIELDS, Kinetics
from .._model import Model, State, build_model
from .._protocol import build_plan
from .._solve import Schedule, trajectory
from ..config import SECTIONS, resolve

#: Kinetic constants a fit can free: the array leaves of `Kinetics` that are `[kinetics]` keys.
FITTABLE = tuple(f for f in Kinetics.__dataclass_fields__
                 if f not in ("zn_uM_per_ug_per_ml", "lysosome_ph", *MEDIUM_FIELDS))


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Nested-dict merge: tables merge key by key, everything else (lists too) replaces."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def frame_schedule(times_h: np.ndarray, dt_s: float, max_frames: int = 4000,
                   min_frames: int = 0) -> tuple[int, int]:
    """(steps per save, number of saves) so that every time is a saved frame if it can be.

    The save interval is the greatest common divisor of the times counted in steps; a time
    that is not a whole number of steps counts as the two whole steps around it, so it is
    interpolated between adjacent steps (the gcd of the whole times alone could leave a
    whole run between its frames: 11.99 h beside 24 h at dt 60 s was read from the line
    between 0 and 24 h, 1.6 points of viability off). The interval is refined by a whole
    divisor while the run would hold fewer than `min_frames` frames (smooth model lines in
    the figure) and made coarser only if it would hold more than `max_frames`.
    """
    steps = np.asarray(times_h, float) * 3600.0 / dt_s
    total = max(1, math.ceil(float(np.max(steps)) - 1e-9)) if steps.size else 1
    whole: list[int] = []
    for s in steps:
        if abs(s - round(s)) < 1e-6:
            whole.append(round(s))
        else:  # the frames either side of it
            whole += [math.floor(s), math.ceil(s)]
    every = 0
    for s in whole:
        if s > 0:
            every = math.gcd(every, s)
    every = every or total
    total = math.ceil(total / every) * every
    while total / every < min_frames and every > 1:
        every //= next(d for d in range(2, every + 1) if every % d == 0)
    if total / every > max_frames:
        every = math.ceil(total / max_frames)
    n_saves = math.ceil(total / every)
    return every, n_saves


@dataclasses.dataclass(frozen=True, eq=False)
class Prediction:
    """A compiled map ln(free parameters) -> predicted value of every query (row).

    `arrays`/`static` are the condition models (array leaves stacked over conditions) split
    as by `eqx.partition`; `cond`, `frame`, `weight` say where each query reads the
    stacked trajectories: value = (1 − w) traj[cond, frame] + w traj[cond, frame + 1].
    """

    arrays: Model
    static: Model
    schedule: Schedule
    free: tuple[str, ...]
    observe: Callable[[Model, State], Array]
    cond: np.ndarray
    frame: np.ndarray
    weight: np.ndarray
    batch: str  # "vmap" | "map"
    configs: tuple[dict[str, Any], ...]  # the resolved config of every condition

    @property
    def n_conditions(self) -> int:
        return len(self.configs)

    @property
    def dtype(self):
        return self.arrays.cell_fraction.dtype

    def with_parameters(self, ln_p: Array, arrays: Model | None = None) -> Model:
        """The stacked condition models with the free kinetic constants set to exp(ln_p)."""
        arrays = self.arrays if arrays is None else arrays
        if not self.free:
            return arrays
        n = arrays.cell_fraction.shape[0]
        values = [jnp.broadcast_to(jnp.exp(ln_p[i]).astype(self.dtype), (n,))
                  for i in range(len(self.free))]
        return eqx.tree_at(lambda a: [getattr(a.kinetics, f) for f in self.free],
                           arrays, values)

    def trajectories(self, ln_p: Array, arrays: Model | None = None) -> Array:
        """The read-out at every saved frame of every condition, (conditions, frames).

        `arrays` may be another stack of conditions with the same structure and schedule
        (so one compiled program serves the data and the figure's dense curves)."""
        arrays = self.with_parameters(ln_p, arrays)

        def one(a):
            return trajectory(eqx.combine(a, self.static), self.schedule, self.observe)

        if self.batch == "map":
            return jax.lax.map(one, arrays)
        return jax.vmap(one)(arrays)

    @property
    def times_h(self) -> np.ndarray:
        return self.schedule.save_times_s / 3600.0

    def gather(self, traj, trailing: int = 0):
        """Queries from trajectories (..., conditions, frames, *trailing): works on NumPy and
        JAX arrays alike (linear in time between frames)."""
        last = traj.shape[traj.ndim - trailing - 1] - 1
        f0 = np.minimum(self.frame, last)
        f1 = np.minimum(self.frame + 1, last)
        w = self.weight.reshape((-1,) + (1,) * trailing)
        idx0 = (Ellipsis, self.cond, f0) + (slice(None),) * trailing
        idx1 = (Ellipsis, self.cond, f1) + (slice(None),) * trailing
        return (1.0 - w) * traj[idx0] + w * traj[idx1]

    def __call__(self, ln_p: Array) -> Array:
        return self.gather(self.trajectories(ln_p))

    def model(self, ln_p: Array, condition: int = 0) -> Model:
        """One condition's full model with the given parameters (for serialisation)."""
        arrays = jax.tree.map(lambda a: a[condition], self.with_parameters(ln_p))
        return eqx.combine(arrays, self.static)


#: Conditions on grids of at most this many cells are vectorised (`vmap`) even where the
#: observable maps them one after another to bound memory (`batch = "map"`, a 3D spheroid).
#: Assumed: below ~10³ cells (a radial grid) a condition's state is a few kB, so vmapping
#: costs nothing in memory, while a sequential map pays the per-step overhead of every
#: condition separately.
SMALL_GRID_CELLS = 1024


def build_prediction(base: dict[str, Any], conditions: Sequence[dict[str, Any]],
                     query_cond: np.ndarray, query_time_h: np.ndarray,
                     free: Sequence[str], observe: Callable[[Model, State], Array],
                     batch: str = "vmap", *, file: str = "<fit config>",
                     max_frames: int = 4000, min_frames: int = 0) -> Prediction:
    """Resolve and build one model per condition (raw config = base merged with the
    condition), choose a schedule whose frames hit the query times, and stack the models."""
    if not conditions:
        raise InputError("no experimental condition to simulate", file=file)
    first = deep_merge(base, conditions[0])
    dt = first.get("time", {}).get("dt_s", SECTIONS["time"]["dt_s"].default)
    dt_hi, end_hi = SECTIONS["time"]["dt_s"].hi, SECTIONS["time"]["end_h"].hi
    if not isinstance(dt, int | float) or isinstance(dt, bool) or not 0 < dt <= dt_hi:
        raise InputError(f"value {dt!r} is not allowed; expected a number > 0 and <= {dt_hi:g}",
                         file=file, key="fit.simulation.time.dt_s")
    dt = float(dt)
    every, n_saves = frame_schedule(np.asarray(query_time_h), dt, max_frames, min_frames)
    if every * n_saves * dt / 3600.0 > end_hi:  # the run is the fit's, the step the user's
        raise InputError(f"dt_s = {dt:g}: the run to the latest read-out "
                         f"({float(np.max(query_time_h)):g} h) in whole steps would end at "
                         f"{every * n_saves * dt / 3600.0:g} h, beyond the longest run "
                         f"({end_hi:g} h, time.end_h); allowed: a step that ends the run by "
                         f"then", file=file, key="fit.simulation.time.dt_s")
    timing = {"time": {"dt_s": dt, "save_every_min": every * dt / 60.0,
                       "end_h": every * n_saves * dt / 3600.0,
                       # the read-out interpolates between evenly spaced frames
                       "save_around_events": False}}
    configs = []
    for cond in conditions:
        c = resolve(deep_merge(deep_merge(base, cond), timing), file)
        c["_name"] = "fit"
        configs.append(c)
    plan = build_plan(configs)  # one step plan: every condition's events are landed on
    models = [build_model(c, plan=plan) for c in configs]
    parts = [eqx.partition(m, eqx.is_array) for m in models]
    static = parts[0][1]
    for _, s in parts[1:]:
        if jax.tree.structure(s) != jax.tree.structure(static) or not eqx.tree_equal(s, static):
            raise InputError("the experimental conditions of this table need simulations of "
                             "different structure (e.g. a stimulus in some rows only without a "
                             "template exposure); see docs/fitting.md", file=file)
    arrays = jax.tree.map(lambda *xs: jnp.stack(xs), *[a for a, _ in parts])
    if batch == "map" and models[0].tissue.size <= SMALL_GRID_CELLS:
        batch = "vmap"
    schedule = Schedule(plan)
    pos = np.asarray(query_time_h, float) * 3600.0 / (dt * every)
    frame = np.clip(np.floor(pos + 1e-9).astype(int), 0, n_saves)
    weight = np.clip(pos - frame, 0.0, 1.0)
    weight[np.abs(weight) < 1e-9] = 0.0
    return Prediction(arrays=arrays, static=static, schedule=schedule, free=tuple(free),
                      observe=observe, cond=np.asarray(query_cond, int), frame=frame,
                      weight=weight, batch=batch, configs=tuple(configs))


def condition_key(cond: dict[str, Any]) -> str:
    return json.dumps(cond, sort_keys=True)


def group_conditions(per_row: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Distinct conditions (in first-seen order) and each row's index into them."""
    keys: dict[str, int] = {}
    unique: list[dict[str, Any]] = []
    index = np.empty(len(per_row), int)
    for i, c in enumerate(per_row):
        k = condition_key(c)
        if k not in keys:
            keys[k] = len(unique)
            unique.append(c)
        index[i] = keys[k]
    return unique, index
