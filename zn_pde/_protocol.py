"""An experiment's protocol: a table of events, and the step plan that lands on every one.

Events (`event_table`): the particles of `material.dose_ug_per_ml` at t = 0, every `[[dose]]`
(more particles into the medium), every `[[medium_exchange]]` (wash-out: the medium replaced
by fresh, particle-free medium), and the start and end of every exposure (`[[ultrasound]]`,
`[[light]]`, repeats expanded by `_model.expand_repeats`).

Step plan (design)
------------------
`time.dt_s` is the largest step. The time axis is cut at breakpoints: every saved frame's time
and every event's time. A segment of length L between two breakpoints takes n = ⌈L/dt⌉ equal
steps of L/n ≤ dt, so the solver lands exactly on every event, and where an event falls
relative to the user's dt does not matter. Inside an exposure the step is also at most its
duration / `time.exposure_min_steps` (32), however short the exposure: the radicals it
delivers change within it, and the first-order step needs several steps to follow them.
Measured on the 8³ spheroid of tests/test_protocol.py (a 40 s, 3 W/cm² exposure at
dt = 60 s): the radical dose delivered with 1, 8, 32, 128 steps is 97.3, 99.7, 99.92,
99.98 % of the 512-step value, the cells killed 97.5, 99.7, 99.9, 99.98 % (with the earlier
glutathione-consumption biology the same counts gave 69, 77, 90, 97 %, hence 32 rather
than 8). The steps inside an exposure are then the same at any dt ≥ duration / 32, so its
effect does not depend on dt. Segments without events or exposures take the steps they took
before (n = L/dt exactly).

The plan's *structure* is static (a hashable `StepPlan`, part of the Model's treedef): the
segments, the steps in each, and for each breakpoint where its time comes from: a fixed
number (saved frames) or a traced leaf of the model (an exposure's `start_s`/`end_s`, a
dose's or an exchange's time). The steps at which the doses and exchanges act are integer
leaves of `Protocol`, so models sharing one plan (sweep points, fit conditions: the union of
their breakpoints, all fixed) may dose and wash at different times. Inside the jitted
step, the step index k locates its segment j and computes t = B_j + i h and
h = (B_{j+1} − B_j)/n_j from those traced breakpoints B, so `jax.grad` with respect to an
event's time reaches the solution through the lengths of the steps around it, and doses are
traced leaves too. Gradients are exact while a perturbation keeps the order of the events and
the steps per segment (any infinitesimal one does); an event that coincides with a regular
saved frame (every `time.save_every_min`) is pinned to the frame (its time gets no gradient:
move it off the frame).

Frames around events (`time.save_around_events`, `event_frames`): besides the regular
frames, a frame at the start and at the end of every exposure, and at the time of every
[[dose]] and [[medium_exchange]] and one `time.dt_s` after it, so a run's frames show the
state just before each stimulus and what it did. These frames are not pinned: each is its
event's own breakpoint (or, dt_s after a dose or an exchange, a breakpoint traced from the
event's time plus dt_s), so they follow their event and its time keeps its gradient. Every
config entry gets its frames; those around later repeats of an exposure are kept a whole
repeat at a time (its start and its end), earliest first, while the frames around events
number at most the regular frames (a long pulse train
does not multiply the output). The saved times are then non-uniform; a plan built for a
fit's fixed read-out frames turns them off.

Short steps. The nanoparticle model's species are re-pivoted every step anyway (their sinks
change), so a step of h = r·dt reuses the operator built for dt: the same linear system
divided by r, i.e. the capacity α/r on the diagonal and the right-hand side divided by r
(`_diffusion.diffuse_react`, `inv_ratio`); it costs nothing extra. The passive species'
once-factorised transport is refactorised (traced h) on the steps whose length differs from
dt only (`lax.cond`).

Exposures act per segment: their on-fraction over a segment, from the traced breakpoints, is
exactly 0 or 1 because both ends of every exposure are breakpoints, so every exposure, each
repeat included, delivers amplitude × duration exactly (`exposure_seconds`).

State maps. A dose or an exchange acts at the start of the step that begins at its time (a
frame saved at that time holds the state just before it; at one time an exchange acts before
a dose: wash, then re-dose). Both act on the "medium voxels" (`Model.medium`: the cell-free
voxels of a grid, the whole fluid of a well-mixed compartment) and on the Dirichlet wall
value, never on grid indexing, so they apply to any grid:
- dose: np += dose in the medium voxels, and the wall's np value += dose;
- exchange: every mobile species in the medium voxels takes its fresh-medium value (0 for
  particles, Zn²⁺, ROS, H₂O₂/H₂S and cargo; oxygen its medium value; passive species their
  initial medium value), the wall's np value becomes 0 (the other wall values already are the
  fresh medium's), and optionally the medium voxels take the new `ph`. The tissue keeps what
  it holds and releases it back by diffusion.
The wall value and the medium pH at step k are functions of k and of the events before it,
so a run resumed at a saved frame needs nothing but that frame's step index.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

# A source of a breakpoint's traced time: (leaf kind, index) or (leaf kind, index, offset in s)
# for a frame a fixed time after its event; kinds below
Source = tuple[str, int] | tuple[str, int, float] | None
#: The later repeat of an exposure a frame belongs to: (kind, index into its expanded
#: repeats), with the config's index in front in a plan of several; None for the frames
#: around a config entry itself (always kept).
Repeat = tuple[Any, ...] | None

EXPOSURE_KINDS = ("ultrasound", "light")
#: The length (s) a step of a zero-length segment takes (`Protocol.locate`): only a plan whose
#: traced event time meets another event exactly has one; a microsecond of reactions, against
#: steps of seconds to a minute, changes nothing measurable.
ZERO_SEGMENT_STEP_S = 1e-6


@dataclasses.dataclass(frozen=True)
class Event:
    """One row of the event table."""

    time_s: float
    kind: str  # dose | medium_exchange | ultrasound_start | ultrasound_end | light_start | ...
    value: float
    units: str
    label: str  # the config entry it comes from, e.g. "dose[1]", "ultrasound[0] (repeat 2)"


def event_table(config: dict[str, Any]) -> list[Event]:
    """Every event of a resolved config, in time order; at equal times in the order they act
    (medium exchanges, then doses, both at the start of their step, then exposures; config
    order within each kind)."""
    from ._model import expand_repeats

    out: list[Event] = []
    for i, x in enumerate(config.get("medium_exchange", [])):
        out.append(Event(x["time_h"] * 3600.0, "medium_exchange", x["ph"], "pH",
                         f"medium_exchange[{i}]"))
    if "material" in config:
        out.append(Event(0.0, "dose", config["material"]["dose_ug_per_ml"], "ug/mL",
                         "material.dose_ug_per_ml"))
    for i, d in enumerate(config.get("dose", [])):
        out.append(Event(d["time_h"] * 3600.0, "dose", d["dose_ug_per_ml"], "ug/mL",
                         f"dose[{i}]"))
    if "material" in config:
        for kind, key, units in (("ultrasound", "intensity_W_per_cm2", "W/cm^2"),
                                 ("light", "irradiance_mW_per_cm2", "mW/cm^2")):
            for i, ex in enumerate(config[kind]):
                for r, e in enumerate(expand_repeats([ex])):
                    start, end = exposure_window_s(e)
                    label = f"{kind}[{i}]" + (f" (repeat {r + 1})" if ex["repeats"] > 1 else "")
                    out.append(Event(start, f"{kind}_start", e[key], units, label))
                    out.append(Event(end, f"{kind}_end", e[key], units, label))
    return sorted(out, key=lambda e: e.time_s)


def exposure_window_s(e: dict[str, Any]) -> tuple[float, float]:
    """(start, end) of one expanded exposure in seconds: the one formula the model's leaves
    (`stimuli`) and the plan's breakpoints share, so they agree to the last bit."""
    start = e["start_h"] * 3600.0
    return start, start + e["duration_min"] * 60.0


@dataclasses.dataclass(frozen=True)
class StepPlan:
    """Static structure of a run's steps (see the module docstring). Times in s."""

    dt_s: float
    breaks_s: tuple[float, ...]  # J + 1 breakpoint times
    sources: tuple[Source, ...]  # J + 1: where each breakpoint's traced time comes from
    steps: tuple[int, ...]  # J: steps per segment
    save_steps: tuple[int, ...]  # step index of every saved frame (frame 0 at step 0)

    @property
    def total_steps(self) -> int:
        return sum(self.steps)

    @property
    def first_steps(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.steps)[:-1]]).astype(np.int32)

    @property
    def end_s(self) -> float:
        return self.breaks_s[-1]

    def step_times_s(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, length) of every step, concrete (host side)."""
        b = np.asarray(self.breaks_s)
        n = np.asarray(self.steps)
        seg = np.repeat(np.arange(len(n)), n)
        i = np.arange(self.total_steps) - self.first_steps[seg]
        h = (b[seg + 1] - b[seg]) / n[seg]
        return b[seg] + i * h, h

    def step_at(self, t_s: float) -> int:
        """The step index that starts at breakpoint time `t_s` (a saved frame or an event)."""
        j = int(np.argmin(np.abs(np.asarray(self.breaks_s) - t_s)))
        return int(np.concatenate([[0], np.cumsum(self.steps)])[j])


def _merge_tolerance_s(end_s: float) -> float:
    # breakpoints closer than this are one: well above float32 resolution of t (~1e-7 t), so a
    # step is never shorter than time can be told apart (assumed; 1 ms is far below any step)
    return max(1e-3, 1e-6 * end_s)


def build_plan(configs: list[dict[str, Any]]) -> StepPlan:
    """The step plan of one config, or the common plan of several (a sweep, a fit's
    conditions): the union of their breakpoints, every time fixed (no traced sources), so
    models whose events fall at different times share one plan and one compiled program;
    each lands on its own events (the steps of its doses and exchanges are array leaves).

    Saved frames: every `time.save_every_min` from 0 and the end (pinned: a fixed time), and,
    with `time.save_around_events`, the frames around each event (`event_frames`), which
    follow their event's traced time."""
    c0 = configs[0]
    dt = float(c0["time"]["dt_s"])
    end = c0["time"]["end_h"] * 3600.0
    save = c0["time"]["save_every_min"] * 60.0
    tol = _merge_tolerance_s(end)
    n_save = max(1, math.ceil(end / save - 1e-9))
    # (time, source, kind): kind 0 a regular frame (pinned), 1 a frame around an event
    # (saved, follows its event), 2 an event (not saved)
    points: list[tuple[float, Source, int]] = [(min(k * save, end), None, 0)
                                               for k in range(n_save + 1)]
    traced = len(configs) == 1
    regular = [p[0] for p in points]
    around: list[tuple[float, Source, Repeat]] = []
    for i, c in enumerate(configs):
        points += [(t, s if traced else None, 2) for t, s in _event_sources(c)]
        if c0["time"].get("save_around_events", False):
            around += [(t, s if traced else None, repeat and (i, *repeat)) for t, s, repeat
                       in event_frames(c, dt) if t < end - tol]
    points += _frames_kept(around, regular, tol)
    points.sort(key=lambda p: (p[0], p[2]))
    windows = [(t0, t1) for c in configs for t0, t1 in _exposure_windows(c)]
    same = 1e-12 * max(1.0, end)  # one time, computed by two formulas (a frame, an end)
    # each exposure's ends, keyed by the one and holding the other, sorted for bisection
    by_end = sorted((t1, t0) for t0, t1 in windows if t1 > t0)
    by_start = sorted((t0, t1) for t0, t1 in windows if t1 > t0)

    def other_end_in(t: float, cluster: list[float]) -> bool:
        # whether merging t would put both ends of one exposure on one breakpoint: a
        # pinned frame moves its breakpoint, so an exposure of at least `tol` (all that
        # config allows) that starts just before a frame and ends just after it, or one of
        # exactly `tol`, would merge whole and take no steps of its own
        for table in (by_end, by_start):
            i = bisect.bisect_left(table, (t - same, -math.inf))
            while i < len(table) and table[i][0] <= t + same:
                if any(abs(u - table[i][1]) <= same for u in cluster):
                    return True
                i += 1
        return False

    breaks: list[float] = []
    sources: list[Source] = []
    pinned: list[bool] = []
    saved: list[bool] = []
    cluster: list[float] = []  # the times merged into the last breakpoint
    for t, src, kind in points:
        if not (breaks and abs(t - breaks[-1]) <= tol) or other_end_in(t, cluster):
            breaks.append(t)
            sources.append(None)
            pinned.append(False)
            saved.append(False)
            cluster = []
        cluster.append(t)
        if kind == 0:  # a regular frame fixes the breakpoint's time: no traced source
            breaks[-1], pinned[-1], sources[-1] = t, True, None
        elif not pinned[-1] and src is not None and (
                sources[-1] is None or (len(sources[-1]) > 2 and len(src) == 2)):
            # an event's own time wins over a frame offset from another event
            sources[-1] = src
        saved[-1] = saved[-1] or kind < 2
    min_steps = int(c0["time"]["exposure_min_steps"])

    def n_steps(a: float, b: float) -> int:
        # the largest step: dt, and inside an exposure its duration / exposure_min_steps (a
        # long exposure cut by saved frames takes that many steps in all, not in each piece)
        longest = min([dt] + [(t1 - t0) / min_steps for t0, t1 in windows
                              if t0 - tol <= a and b <= t1 + tol])
        return max(1, math.ceil((b - a) / longest - 1e-6))

    steps = tuple(n_steps(a, b) for a, b in zip(breaks, breaks[1:], strict=False))
    first = np.concatenate([[0], np.cumsum(steps)]).astype(int)
    return StepPlan(dt, tuple(float(b) for b in breaks), tuple(sources), steps,
                    tuple(int(first[j]) for j, s in enumerate(saved) if s))


def _frames_kept(around: list[tuple[float, Source, Repeat]], regular: list[float],
                 tol: float) -> list[tuple[float, Source, int]]:
    """The frames around events to save, as plan points: all of those around config entries
    (every [[dose]], [[medium_exchange]], and each exposure's first repeat), and those around
    later repeats, whole repeats (its start and its end frame together) earliest first, while
    the frames around events number at most the regular frames (a train of thousands of
    pulses keeps the frames around its first pulses)."""
    grid = np.asarray(regular)
    kept: list[float] = []

    def new(times: list[float]) -> list[float]:
        """The times not yet saved (a regular frame or a kept one within tol), each once."""
        out: list[float] = []
        for t in sorted(times):
            if not (np.any(np.abs(grid - t) <= tol) or any(abs(t - k) <= tol for k in kept)
                    or (out and t - out[-1] <= tol)):
                out.append(t)
        return out

    first = [p for p in around if p[2] is None]
    kept += new([p[0] for p in first])
    budget = len(regular) - len(kept)
    repeats: dict[Repeat, list[tuple[float, Source, Repeat]]] = {}
    for p in around:
        if p[2] is not None:
            repeats.setdefault(p[2], []).append(p)
    taken = []
    for frames in sorted(repeats.values(), key=lambda fs: min(p[0] for p in fs)):
        added = new([p[0] for p in frames])
        if len(added) > budget:
            break
        budget -= len(added)
        kept += added
        taken += frames
    return [(t, s, 1) for t, s, _ in first + taken]


def event_frames(c: dict[str, Any], dt_s: float) -> list[tuple[float, Source, Repeat]]:
    """The extra saved frames around the events of a config (`time.save_around_events`), with
    the traced time each follows and, for a later repeat of an exposure, which one it belongs
    to ((kind, index into its expanded repeats); None for a config entry's own frames):
    - every exposure (each repeat): at its start (the state just before it acts) and at its
      end (what it did);
    - every [[dose]] and [[medium_exchange]]: at its time (the state just before it: an event
      acts at the start of the step that begins at its time) and one `time.dt_s` later (what
      it did, one full step on).
    A frame at an event's own time is that event's breakpoint; the frame dt_s after it is a
    breakpoint traced from the event's time plus dt_s, so moving the event moves both frames
    and its time keeps its gradient. `build_plan` keeps every config entry's frames and those
    of later repeats while the frames around events number at most the regular frames."""
    from ._model import expand_repeats

    out: list[tuple[float, Source, Repeat]] = []
    for i, d in enumerate(c.get("dose", [])):
        t = d["time_h"] * 3600.0
        out += [(t, ("dose", i), None), (t + dt_s, ("dose", i, dt_s), None)]
    for i, x in enumerate(c.get("medium_exchange", [])):
        t = x["time_h"] * 3600.0
        out += [(t, ("exchange", i), None), (t + dt_s, ("exchange", i, dt_s), None)]
    if "material" in c:
        for kind in EXPOSURE_KINDS:
            n = 0  # the index into expand_repeats(c[kind]), as `_event_sources` counts
            for entry in c[kind]:
                for r, e in enumerate(expand_repeats([entry])):
                    start, end = exposure_window_s(e)
                    repeat = (kind, n) if r > 0 else None
                    out += [(start, (f"{kind}_start", n), repeat),
                            (end, (f"{kind}_end", n), repeat)]
                    n += 1
    return out


def _exposure_windows(c: dict[str, Any]) -> list[tuple[float, float]]:
    from ._model import expand_repeats

    if "material" not in c:
        return []
    return [exposure_window_s(e) for kind in EXPOSURE_KINDS for e in expand_repeats(c[kind])]


def _event_sources(c: dict[str, Any]) -> list[tuple[float, Source]]:
    """Every event time of a config with the leaf it is traced from."""
    from ._model import expand_repeats

    out: list[tuple[float, Source]] = []
    for i, d in enumerate(c.get("dose", [])):
        out.append((d["time_h"] * 3600.0, ("dose", i)))
    for i, x in enumerate(c.get("medium_exchange", [])):
        out.append((x["time_h"] * 3600.0, ("exchange", i)))
    if "material" in c:
        for kind in EXPOSURE_KINDS:
            for n, e in enumerate(expand_repeats(c[kind])):
                start, end = exposure_window_s(e)
                out += [(start, (f"{kind}_start", n)), (end, (f"{kind}_end", n))]
    return out


class Protocol(eqx.Module):
    """The events' traced values (doses, times, the fresh medium's pH), the steps at whose
    start the doses and exchanges act (integer leaves, so models sharing a plan may differ
    in them), and the static plan."""

    dose_ug_per_ml: Array  # (D,) particles added by each [[dose]]
    dose_time_s: Array  # (D,)
    dose_step: Array  # (D,) int32
    exchange_time_s: Array  # (X,)
    exchange_ph: Array  # (X,) pH of the fresh medium
    exchange_step: Array  # (X,) int32
    initial_medium_ph: Array  # () ph.medium, the medium's pH before any exchange
    plan: StepPlan = eqx.field(static=True)

    @classmethod
    def from_config(cls, config: dict[str, Any], plan: StepPlan, dtype) -> Protocol:
        doses = config.get("dose", [])
        exchanges = config.get("medium_exchange", [])

        def arr(v):
            return jnp.asarray(np.asarray(v, float).reshape(-1), dtype)

        def steps(events):
            return jnp.asarray([plan.step_at(e["time_h"] * 3600.0) for e in events],
                               jnp.int32).reshape(-1)

        return cls(arr([d["dose_ug_per_ml"] for d in doses]),
                   arr([d["time_h"] * 3600.0 for d in doses]), steps(doses),
                   arr([x["time_h"] * 3600.0 for x in exchanges]),
                   arr([x["ph"] for x in exchanges]), steps(exchanges),
                   jnp.asarray(config["ph"]["medium"], dtype), plan)

    @property
    def has_doses(self) -> bool:
        return self.dose_step.size > 0

    @property
    def has_exchanges(self) -> bool:
        return self.exchange_step.size > 0

    # --- where a step lies ---------------------------------------------------------------

    def breakpoints(self, model: Any) -> Array:
        """(J + 1,) breakpoint times, the traced ones read from the model's leaves."""
        plan = self.plan
        b = jnp.asarray(np.asarray(plan.breaks_s), model.dtype)
        idx = [j for j, s in enumerate(plan.sources) if s is not None]
        if not idx:
            return b
        values = jnp.stack([self._source_value(model, plan.sources[j]) for j in idx])
        return b.at[np.asarray(idx)].set(values.astype(model.dtype))

    def _source_value(self, model: Any, source: tuple) -> Array:
        kind, i = source[:2]
        offset_s = source[2] if len(source) > 2 else 0.0
        if kind == "dose":
            return self.dose_time_s[i] + offset_s
        if kind == "exchange":
            return self.exchange_time_s[i] + offset_s
        what, edge = kind.rsplit("_", 1)
        exposure = getattr(model, what)[i]
        return (exposure.start_s if edge == "start" else exposure.end_s) + offset_s

    def locate(self, model: Any, k: Array) -> tuple[Array, Array, Array, Array]:
        """Step k: (start time t, length h, segment start a, segment end b), all in s."""
        plan = self.plan
        b = self.breakpoints(model)
        first = jnp.asarray(plan.first_steps)
        seg = jnp.clip(jnp.searchsorted(first, k, side="right") - 1, 0, len(plan.steps) - 1)
        n = jnp.asarray(np.asarray(plan.steps, np.int32))[seg].astype(model.dtype)
        a, e = b[seg], b[seg + 1]
        h = (e - a) / n
        # a segment of zero length (a planned event's time at another event's, as its start
        # value or at a bound of its box) steps ZERO_SEGMENT_STEP_S instead: the step's
        # rates divide by its length, and nothing happens within it anyway
        length = jnp.where(h > 0, h, ZERO_SEGMENT_STEP_S)
        return a + (k - first[seg]).astype(model.dtype) * h, length, a, e

    # --- what the events do ----------------------------------------------------------------

    def np_boundary(self, dose0: Array, k: Array) -> Array:
        """Particles in the bulk medium (the Dirichlet wall's np value) during step k: the
        doses since the last exchange (one at the exchange's own step included; the t = 0
        dose survives an exchange at t = 0, which acts before it)."""
        xs = self.exchange_step
        last = jnp.max(jnp.where(xs <= k, xs, -1)) if self.has_exchanges else -1
        total = jnp.where(last <= 0, dose0, 0.0)
        ds = self.dose_step
        return total + jnp.sum(jnp.where((ds <= k) & (ds >= last), self.dose_ug_per_ml, 0.0))

    def medium_ph(self, k: Array) -> Array:
        """pH of the medium during step k: the last exchange's (the later in config order at
        equal steps), else `ph.medium`."""
        xs = self.exchange_step
        order = xs * xs.size + jnp.arange(xs.size, dtype=xs.dtype)
        key = jnp.where(xs <= k, order, -1)
        return jnp.where(jnp.max(key) >= 0, self.exchange_ph[jnp.argmax(key)],
                         self.initial_medium_ph)

    def apply(self, mobile: Array, medium: Array, fresh: Array, k: Array,
              dose0: Array | None = None) -> Array:
        """The exchanges, then the doses, that act at the start of step k (a pure map on the
        mobile species, (..., S); `medium` (...) marks the medium voxels, `fresh` (S,) the
        fresh medium's values). `dose0`: the particles of `material.dose_ug_per_ml`, already
        in the state at t = 0, put back after an exchange at t = 0 (which acts before it)."""
        if self.has_exchanges:
            now = jnp.any(k == self.exchange_step)
            mobile = jnp.where(now & medium[..., None], fresh, mobile)
            if dose0 is not None:
                again = jnp.where(now & (k == 0) & medium, dose0, 0.0)
                mobile = mobile.at[..., 0].add(again.astype(mobile.dtype))
        if self.has_doses:
            amount = jnp.sum(jnp.where(k == self.dose_step, self.dose_ug_per_ml, 0.0))
            mobile = mobile.at[..., 0].add(jnp.where(medium, amount, 0.0).astype(mobile.dtype))
        return mobile


def on_fraction(exposure: Any, a: Array, b: Array) -> Array:
    """The fraction of the segment [a, b] during which `exposure` is on: 0 or 1 exactly when
    its ends are breakpoints of the plan."""
    length = b - a
    overlap = jnp.minimum(b, exposure.end_s) - jnp.maximum(a, exposure.start_s)
    on = jnp.clip(overlap, 0.0, length) / jnp.where(length > 0, length, 1.0)
    return jnp.where(length > 0, on, 0.0)  # off on a segment of zero length


def exposure_seconds(model: Any, kind: str = "ultrasound") -> np.ndarray:
    """Σ_k h_k · on_e(step k) for every exposure e of `kind`: the time each exposure is on as
    the solver steps it (equals its duration)."""
    protocol = model.protocol
    exposures = getattr(model, kind)
    if not exposures:
        return np.zeros(0)

    def one(k):
        _, h, a, b = protocol.locate(model, k)
        return jnp.stack([h * on_fraction(e, a, b) for e in exposures])

    ks = jnp.arange(protocol.plan.total_steps)
    return np.asarray(jnp.sum(jax.vmap(one)(ks), 0))
