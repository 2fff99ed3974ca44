"""Time integration: jitted `lax.scan` between saves, a run-time guard, and a differentiable,
checkpointed trajectory for fitting.

`run` is the host loop used by `zn-pde run`: it advances one save interval at a time (no host
round-trip per step), checks the fields, and hands each frame to a callback (the HDF5 writer)
before the next interval starts. `trajectory` is the pure, jittable, differentiable form:
an outer scan over saves whose inner scan, and each step within it, are rematerialised in the
backward pass (`jax.checkpoint`), so gradient memory grows with the number of saves plus the
steps in one save interval (one state each), not with the total number of steps
(`scripts/grad_memory.py` measures it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._errors import RunError
from ._model import Factors, Model, State
from ._parallel import device_mesh, shard_spatial
from ._protocol import StepPlan, build_plan

# A field counts as "clearly negative" below -NEGATIVE_TOLERANCE * (1 + max |field|): the
# schemes are positivity preserving, so anything beyond round-off is a defect, not physics.
NEGATIVE_TOLERANCE = 1e-4


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Steps between saved frames, from the step plan (`_protocol.StepPlan`). Frame 0 is the
    initial state; the last is `end`. `dt_s` is the largest step; a save interval holding an
    event off the dt grid takes a step or two more."""

    plan: StepPlan

    @classmethod
    def from_config(cls, c: dict[str, Any]) -> Schedule:
        return cls(build_plan([c]))

    @classmethod
    def from_model(cls, model: Model) -> Schedule:
        return cls(model.protocol.plan)

    @property
    def dt_s(self) -> float:
        return self.plan.dt_s

    @property
    def end_s(self) -> float:
        return self.plan.end_s

    @property
    def total_steps(self) -> int:
        return self.plan.total_steps

    @property
    def chunks(self) -> list[int]:
        s = self.plan.save_steps
        return [b - a for a, b in zip(s, s[1:], strict=False)]

    @property
    def save_times_s(self) -> np.ndarray:
        b = dict(zip(np.concatenate([[0], np.cumsum(self.plan.steps)]).tolist(),
                     self.plan.breaks_s, strict=True))
        return np.asarray([b[k] for k in self.plan.save_steps])

    def chunks_after(self, step: int) -> list[int]:
        """The remaining chunks of a run resumed at `step` (a saved frame)."""
        s = self.plan.save_steps
        return [b - a for a, b in zip(s, s[1:], strict=False) if a >= step]


@eqx.filter_jit
def factorise(model: Model) -> Factors:
    return model.transport()


#: The places whose per-step peaks `advance` tracks, in the order of its peaks' first axis.
PEAK_PLACES = ("tissue", "medium")


def place_peaks(model: Model, mobile: jax.Array) -> jax.Array:
    """(2, S) maxima of each mobile species over the tissue (cells present) and over the
    medium (`Model.medium`: cell-free voxels; a well-mixed compartment is both where it holds
    cells); −inf where a place has no voxel."""
    space = tuple(range(mobile.ndim - 1))
    where = (jnp.asarray(model.cell_fraction) > 0, model.medium)
    return jnp.stack([jnp.max(jnp.where(w[..., None], mobile, -jnp.inf), axis=space)
                      for w in where])


@eqx.filter_jit
def advance(model: Model, transport: Factors, state: State, n_steps: int | jax.Array
            ) -> tuple[State, jax.Array]:
    """`n_steps` steps of the plan from `state.step` in one compiled loop (a Python int
    compiles once per length; an integer array, as `run` passes, compiles once).

    Also returns the peaks, (2, S): the maximum of each mobile species over the tissue and
    over the medium (`place_peaks`, rows in PEAK_PLACES order) after every step, the last
    one's state included, so short events between saved frames (an ultrasound burst of ROS)
    are not missed and each peak says where it was. The starting state is not among them: it
    is the previous frame, which has its own peaks, and a frame saved at a dose or an exchange
    holds the state just before it, which the interval after it never sees.
    """

    def body(carry, _=None):
        s, peak = carry
        s = model.step(s, transport)
        return (s, jnp.maximum(peak, place_peaks(model, s.mobile))), None

    peak0 = jnp.full_like(place_peaks(model, state.mobile), -jnp.inf)
    if isinstance(n_steps, int):
        (state, peak), _ = jax.lax.scan(body, (state, peak0), None, length=n_steps)
    else:
        state, peak = jax.lax.fori_loop(0, n_steps, lambda i, c: body(c)[0], (state, peak0))
    return state, peak


@eqx.filter_jit
def health(model: Model, state: State):
    """Per-variable (all finite, minimum, flat index of the minimum, maximum)."""
    fields = jnp.concatenate([state.mobile, state.fixed], -1)
    flat = fields.reshape(-1, fields.shape[-1])
    return (jnp.all(jnp.isfinite(flat), 0), jnp.min(flat, 0), jnp.argmin(flat, 0),
            jnp.max(jnp.abs(flat), 0), jnp.argmax(~jnp.isfinite(flat), 0))


def check_state(model: Model, state: State, t_s: float) -> None:
    """Raise RunError naming the variable, time and place of a non-finite or negative value."""
    finite, lo, arg_lo, hi, arg_bad = (np.asarray(a) for a in health(model, state))
    names = model.mobile_names + model.fixed_names
    where = model.space.locate

    for n, name in enumerate(names):
        if not finite[n]:
            hint = ("; values far beyond the physiological ones can overflow float32 "
                    "(about 3e38): check extreme config values, or set numerics.precision = "
                    '"float64"' if model.dtype == jnp.float32 else "")
            raise RunError(f"variable '{name}' became NaN or infinite by t = {t_s / 3600:g} h "
                           f"{where(arg_bad[n])}; frames saved up to then are kept{hint}")
        if lo[n] < -NEGATIVE_TOLERANCE * (1.0 + hi[n]):
            raise RunError(f"variable '{name}' became negative ({lo[n]:.3g}) by t = "
                           f"{t_s / 3600:g} h {where(arg_lo[n])}; frames saved up to then are kept")


def run(model: Model, schedule: Schedule,
        on_frame: Callable[[int, float, State, np.ndarray | None], None],
        state: State | None = None, start_frame: int = 0, progress: Any = None) -> State:
    """Host loop: advance save interval by save interval, guard, and emit frames.

    `on_frame(index, t_s, state, peaks)` gets the per-place, per-species peaks over the
    interval (`advance`; None for the initial frame).
    """
    fresh = state is None
    if fresh:
        state = model.initial_state()
    if model.devices > 1:
        mesh = device_mesh(model.devices)
        model, state = shard_spatial((model, state), model.tissue.shape, mesh)
    if fresh:
        on_frame(0, 0.0, state, None)
    transport = factorise(model)
    times = schedule.save_times_s
    chunks = schedule.chunks[start_frame:]
    for i, n in enumerate(chunks, start=start_frame + 1):
        state, peaks = advance(model, transport, state, jnp.asarray(n, jnp.int32))
        check_state(model, state, float(times[i]))
        on_frame(i, float(times[i]), state, np.asarray(peaks))
        if progress is not None:
            progress.update(float(times[i]))
    return state


def trajectory(model: Model, schedule: Schedule,
               observe: Callable[[Model, State], Any], state: State | None = None) -> Any:
    """Pure and differentiable: `observe(model, state)` at every saved frame, stacked.

    Save intervals may hold different numbers of steps (events off the dt grid): every
    interval then runs the longest interval's count, the steps beyond its own skipped by a
    `lax.cond` (differentiable, and a real branch unless the interval is batched).

    Called on concrete arrays, it is compiled with the model's arrays as arguments, not
    constants: another model of the same structure (another dose, pH or rate) reuses the
    program when `observe` is the same function, and otherwise compiles to the same XLA
    program, which JAX's persistent cache holds where it is on (`zn-pde fit`, the
    test-suite). Inside a transformation (jit, grad, vmap) it is traced into the caller's
    program, as before: a jit of its own there would compile its forward and backward passes
    apart for every gradient taken outside a jit.
    """
    chunks = tuple(schedule.chunks)
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves((model, state))):
        return _trajectory(model, chunks, observe, state)
    return _trajectory_compiled(model, chunks, observe, state)


def _trajectory(model: Model, chunks: tuple[int, ...], observe: Callable[[Model, State], Any],
                state: State | None) -> Any:
    n, n_saves = max(chunks), len(chunks)
    counts = jnp.asarray(chunks, jnp.int32)
    transport = model.transport()
    state = model.initial_state() if state is None else state

    # two-level checkpointing: the backward pass stores the state at every save and, while
    # replaying one interval, the state at every step; each step's internals are recomputed
    step = jax.checkpoint(lambda si: model.step(si, transport))
    uniform = len(set(chunks)) == 1

    @jax.checkpoint
    def interval(s, count):
        def body(si, i):
            if uniform:
                return step(si), None
            return jax.lax.cond(i < count, step, lambda x: x, si), None

        return jax.lax.scan(body, s, jnp.arange(n))[0]

    def outer(s, count):
        s = interval(s, count)
        return s, observe(model, s)

    first = observe(model, state)
    _, rest = jax.lax.scan(outer, state, counts, length=n_saves)
    return jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), first, rest)


_trajectory_compiled = eqx.filter_jit(_trajectory)
