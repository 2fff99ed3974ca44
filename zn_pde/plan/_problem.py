"""A plan's objective and constraints, and their gradients with respect to the controls.

Gradients (design)
------------------
The objective is a function of the controls x through two maps: the builder (config at x ->
the model's array leaves: exposure windows and fields, doses, event times, kinetics) and the
solver (leaves -> tissue-mean viability at `time.end_h`). The solver's part is reverse mode
through the checkpointed `trajectory` (`jax.grad` with respect to every float leaf, one
backward pass whatever the number of controls); the builder's part is a central difference
of the builder in x (no solve, milliseconds: most leaves are affine in the controls, e.g.
an exposure's start and end in s; the ultrasound field goes through the cavitation law).
So dJ/dx_i = Σ_leaves ⟨∂J/∂leaf, ∂leaf/∂x_i⟩, for any numeric key of the config, without
a hand-written map per key. A key whose change alters the model's structure or its integer
or boolean leaves (a grid size, a species count, the tissue mask) is not a control: refused
with its name.

Step plan for planning. Event times are traced leaves (`_protocol`): the solver lands on
each event at its traced time, and dJ/d(time) flows through the lengths of the steps around
it. The run's own plan takes ⌈L/dt⌉ steps per segment, so its step counts, and with them
the compiled program, would jump as an event moves. A plan instead fixes the steps of every
segment for the whole box of the controls: segment j between breakpoints b_j and b_{j+1}
(affine in x) takes n_j = ⌈max_box(b_{j+1} − b_j) / h_max⌉ steps, h_max = dt, or an
exposure's shortest duration over the box / `time.exposure_min_steps` inside an exposure.
Every step is then at most the run's largest step for every x in the box, the objective is a
smooth function of the event times, and one program is compiled per order of the events.
Saved frames other than the end are dropped (the objective needs the end only). The
objective and constraints *reported* at the start and at the optimum are recomputed with
the run's own plan (`outcome`), exactly as `zn-pde run` computes its summary; the JSON gives
both, and their difference is the step-plan error.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import InputError, RunError
from .._model import Model, build_model, expand_repeats
from .._protocol import StepPlan, _event_sources, _merge_tolerance_s
from .._run import control_config, first_exposure_h, summarise
from .._solve import Schedule, run, trajectory
from ..config import apply_override, resolve, unresolved
from ._config import PROTOCOL_SECTIONS, Control, PlanSettings

FD_FRACTION = 1e-3  # the builder's difference step, as a fraction of the control's box
#: The box's 2^n corners are checked up to this many controls (1024 configs, a few seconds
#: of validation), every pair's corners beyond.
MAX_CORNER_CONTROLS = 10


def set_controls(config: dict[str, Any], keys: list[str], values, *, check: bool = True,
                 file: str = "<plan>") -> dict[str, Any]:
    """The scenario with `keys` set to `values` (re-validated unless `check` is False)."""
    raw = unresolved(config)
    for k, v in zip(keys, values, strict=True):
        apply_override(raw, f"{k}={float(v)!r}", file)
    if not check:
        return raw
    out = resolve(raw, file)
    out["_name"] = config.get("_name", "plan")
    return out


def with_protocol(normal: dict[str, Any], tumour: dict[str, Any]) -> dict[str, Any]:
    """The normal-tissue scenario under the tumour scenario's protocol."""
    raw = unresolved(normal)
    # the tumour's protocol as written: what it derived from its own scenario (an exchange's
    # pH from its ph.medium) is derived again from the normal one's
    protocol = unresolved(tumour)
    for sec in PROTOCOL_SECTIONS:
        raw.pop(sec, None)
        if sec in protocol:
            raw[sec] = protocol[sec]
    if raw["material"]["kind"] != normal.get("material", {}).get("kind"):
        raw.pop("kinetics", None)  # the defaults of the tumour's material
    out = resolve(raw, "<normal tissue under the plan's protocol>")
    out["_name"] = normal.get("_name", "normal")
    return out


# --- caps: analytic functions of the config -------------------------------------------------

def total_dose_ug_per_ml(c: dict[str, Any]) -> float:
    return c["material"]["dose_ug_per_ml"] + sum(d["dose_ug_per_ml"] for d in c.get("dose", []))


def ultrasound_energy_J_per_cm2(c: dict[str, Any]) -> float:
    return sum(e["intensity_W_per_cm2"] * e.get("duty_cycle", 1.0) * e["duration_min"] * 60.0
               for e in expand_repeats(c.get("ultrasound", [])))


def light_energy_J_per_cm2(c: dict[str, Any]) -> float:
    return sum(e["irradiance_mW_per_cm2"] * 1e-3 * e.get("duty_cycle", 1.0)
               * e["duration_min"] * 60.0 for e in expand_repeats(c.get("light", [])))


class Cap(NamedTuple):
    """A cap of `[plan.constraints]`: the quantity it bounds, computed from a scenario config,
    the constraint's reported name, what it sums (for messages), its unit, the config section
    whose exposures it needs (None: the doses, which every plan has) and the keys that move
    it."""

    quantity: Callable[[dict[str, Any]], float]
    name: str
    what: str
    unit: str
    section: str | None
    movers: str


CAPS = {
    "max_total_dose_ug_per_ml": Cap(
        total_dose_ug_per_ml, "total_dose_ug_per_ml", "total dose", "ug/mL", None,
        "material.dose_ug_per_ml and dose[n].dose_ug_per_ml"),
    "max_ultrasound_energy_J_per_cm2": Cap(
        ultrasound_energy_J_per_cm2, "ultrasound_energy_J_per_cm2", "ultrasound energy",
        "J/cm^2", "ultrasound",
        "ultrasound[n].intensity_W_per_cm2, duty_cycle, duration_min, repeats"),
    "max_light_energy_J_per_cm2": Cap(
        light_energy_J_per_cm2, "light_energy_J_per_cm2", "light energy", "J/cm^2", "light",
        "light[n].irradiance_mW_per_cm2, duty_cycle, duration_min, repeats"),
}


def cap_of(settings: PlanSettings, name: str) -> float:
    """The cap of a constraint by its reported name (e.g. "total_dose_ug_per_ml")."""
    return settings.caps[next(k for k, c in CAPS.items() if c.name == name)]


# --- the objective on a model ---------------------------------------------------------------

def tissue_viability(model: Model, state) -> jax.Array:
    """Tissue-mean viability (0-1) weighted by cell-of-grid volume, as `_run.summarise`."""
    w = jnp.where(model.cell_fraction > 0, model.volume_um3, 0.0)
    v = model.fields(state)["viability"]
    return jnp.sum(w * v) / jnp.sum(w)


def _final_viability(model: Model) -> jax.Array:
    return trajectory(model, Schedule.from_model(model), tissue_viability)[-1]


_value_and_grad = eqx.filter_jit(eqx.filter_value_and_grad(_final_viability))


# --- the planning step plan -----------------------------------------------------------------

def _event_times(c: dict[str, Any]) -> np.ndarray:
    return np.asarray([t for t, _ in _event_sources(c)], float)


def planning_plan(config: dict[str, Any], controls: tuple[Control, ...], x: np.ndarray
                  ) -> StepPlan:
    """The fixed-structure step plan for the order of the events at x (module docstring)."""
    keys = [c.key for c in controls]
    t = _event_times(set_controls(config, keys, x, check=False))
    sources = [s for _, s in _event_sources(config)]
    # event times are affine in the controls: t(x) = t(x0) + A (x - x0), A exact by differences
    a = np.zeros((t.size, len(controls)))
    for i, c in enumerate(controls):
        step = np.array(x, float)
        step[i] += c.upper - c.lower
        a[:, i] = (_event_times(set_controls(config, keys, step, check=False)) - t) / (
            c.upper - c.lower)
    # the box, and x where it lies outside (`PlanProblem.evaluate` takes any x): a segment's
    # steps must cover its length at x too, or they exceed dt_s
    lo = np.minimum([c.lower for c in controls], x)
    hi = np.maximum([c.upper for c in controls], x)
    dt = float(config["time"]["dt_s"])
    end = float(config["time"]["end_h"]) * 3600.0
    tol = _merge_tolerance_s(end)
    moving = np.any(np.abs(a) > 0, axis=1)
    # breakpoints: 0, the end, and the events; fixed events at an existing time are merged
    points = [(0.0, None, np.zeros(len(controls))), (end, None, np.zeros(len(controls)))]
    for j in np.argsort(t, kind="stable"):
        if not moving[j] and any(p[1] is None and abs(p[0] - t[j]) <= tol for p in points):
            continue
        points.append((float(t[j]), sources[j] if moving[j] else None, a[j]))
    points.sort(key=lambda p: p[0])

    def extreme(coef: np.ndarray, which) -> float:  # max / min over the box of coef . (x - x0)
        d_lo, d_hi = coef * (lo - x), coef * (hi - x)
        return float(np.sum(which(d_lo, d_hi)))

    # exposures: the segments inside each, and its shortest duration over the box
    starts = {s: j for j, s in enumerate(sources) if s and s[0].endswith("_start")}
    windows = []
    for s, j in starts.items():
        k = sources.index((s[0].replace("_start", "_end"), s[1]))
        coef = a[k] - a[j]
        windows.append((t[j], t[k], t[k] - t[j] + extreme(coef, np.minimum)))
    min_steps = int(config["time"]["exposure_min_steps"])
    steps = []
    for (t0, _, c0), (t1, _, c1) in zip(points, points[1:], strict=False):
        longest = max(t1 - t0 + extreme(c1 - c0, np.maximum), 0.0)
        h = min([dt] + [d / min_steps for w0, w1, d in windows
                        if w0 - tol <= t0 and t1 <= w1 + tol])
        steps.append(max(1, math.ceil(longest / h - 1e-6)))
    return StepPlan(dt, tuple(p[0] for p in points), tuple(p[1] for p in points),
                    tuple(steps), (0, int(sum(steps))))


def canonical(model: Model) -> Model:
    """The model with the traced breakpoints' static copies zeroed: models at different x
    (same event order) then share one treedef and one compiled program."""
    plan = model.protocol.plan
    breaks = tuple(0.0 if s is not None else b for b, s in zip(plan.breaks_s, plan.sources,
                                                                 strict=True))
    protocol = dataclasses.replace(model.protocol, plan=dataclasses.replace(plan,
                                                                            breaks_s=breaks))
    return eqx.tree_at(lambda m: m.protocol, model, protocol)


# --- the problem ----------------------------------------------------------------------------

@dataclasses.dataclass
class Evaluation:
    objective: float
    objective_grad: np.ndarray
    constraints: dict[str, float]  # name -> value
    constraint_grads: dict[str, np.ndarray]


class PlanProblem:
    """Objective and constraints of a plan at x (the controls' values), with gradients."""

    def __init__(self, settings: PlanSettings):
        self.s = settings
        self.keys = [c.key for c in settings.controls]
        self.lower = np.array([c.lower for c in settings.controls])
        self.upper = np.array([c.upper for c in settings.controls])
        self.start = np.array([c.start for c in settings.controls])
        self.forward_solves = 0
        self.gradient_solves = 0
        self._check_bounds()
        #: what the plan's output says beside its results (a constraint that does nothing)
        self.warnings: dict[str, str] = {}  # constraint key -> warning
        self._check_caps()
        self._check_differentiable()

    # configs at x
    def tumour(self, x, check: bool = True) -> dict[str, Any]:
        scenario = self.s.config.get("_file")
        file = self.s.file if scenario is None else f"{scenario} (under the plan's controls)"
        return set_controls(self.s.config, self.keys, x, check=check, file=file)

    def normal(self, tumour: dict[str, Any]) -> dict[str, Any] | None:
        return None if self.s.normal is None else with_protocol(self.s.normal, tumour)

    def _check_bounds(self) -> None:
        """Every iterate stays in the controls' box, so the scenario must accept all of it:
        each bound alone (the others at their start, naming that control), then every corner
        of the box, where bounds that are fine alone can clash (an exposure started at its
        latest and lasting its longest runs past the end). The scenario's own checks are
        monotone in each control (an end within the run, a total within a cap), so the box
        holds if its corners do. Up to MAX_CORNER_CONTROLS controls; beyond, every pair."""
        def refused(x) -> InputError | None:
            try:
                self.normal(self.tumour(x))
            except InputError as e:
                return e
            return None

        for i, c in enumerate(self.s.controls):
            for bound in (c.lower, c.upper):
                x = self.start.copy()
                x[i] = bound
                if (e := refused(x)) is not None:
                    raise InputError(f"the scenario refuses {c.key} = {bound:g} (a bound of "
                                     f"the control): {e}", file=self.s.file,
                                     key=f"plan.controls.{c.key}") from None
        n = len(self.s.controls)
        groups = ([tuple(range(n))] if n <= MAX_CORNER_CONTROLS
                  else list(itertools.combinations(range(n), 2)))
        for group in groups:
            for corner in itertools.product((0, 1), repeat=len(group)):
                x = self.start.copy()
                for i, side in zip(group, corner, strict=True):
                    x[i] = (self.lower[i], self.upper[i])[side]
                if (e := refused(x)) is not None:
                    where = ", ".join(f"{self.keys[i]} = {x[i]:g}" for i in group)
                    raise InputError(f"the scenario refuses a corner of the controls' box "
                                     f"({where}), which the optimiser may reach: {e}; "
                                     "allowed: bounds whose every combination is a valid "
                                     "protocol (narrow them)", file=self.s.file,
                                     key="plan.controls") from None

    def cap_range(self, key: str) -> tuple[float, float, dict[str, float]]:
        """The smallest and largest value of a cap's quantity over the controls' box, and the
        values of the controls that move it at the smallest (the others keep their start).
        Each quantity (`CAPS`) is a sum of products of non-negative amounts, intensities,
        duty cycles and durations, so it is monotone in each control whatever the others
        are: its extremes over the box are at the corners found one control at a time. No
        solve: the scenario is only resolved (2 per control, and 2 corners)."""
        f = CAPS[key].quantity
        base = f(self.tumour(self.start))
        low, high = self.start.copy(), self.start.copy()
        for i, c in enumerate(self.s.controls):
            ends = []
            for bound in (c.lower, c.upper):
                x = self.start.copy()
                x[i] = bound
                ends.append(f(self.tumour(x)))
            if ends[0] != base or ends[1] != base:
                low[i], high[i] = ((c.lower, c.upper) if ends[0] <= ends[1]
                                   else (c.upper, c.lower))
        moved = [i for i in range(len(self.keys)) if low[i] != high[i]]
        return (f(self.tumour(low)), f(self.tumour(high)),
                {self.keys[i]: float(low[i]) for i in moved})

    def _check_caps(self) -> None:
        """Before any solve: a cap that no protocol in the box can meet is bad input (exit 2,
        naming the cap, the smallest value the controls allow and what to change); a cap
        that cannot bind (the scenario lacks the exposure it caps, or every protocol in the
        box keeps it) is kept, with a warning that it does nothing: a constraints block
        shared by several scenarios is legitimate."""
        for key, cap in self.s.caps.items():
            _, _, what, unit, section, movers = CAPS[key]
            where = f"plan.constraints.{key}"
            if section is not None and not self.s.config.get(section):
                self.warnings[key] = (
                    f"{where} = {cap:g} does nothing: the scenario "
                    f"({self.s.config.get('_file', self.s.file)}) has no [[{section}]] "
                    f"exposure, so its {what} is 0 for every protocol")
                continue
            try:
                smallest, largest, at_low = self.cap_range(key)
            except InputError:  # a corner the scenario refuses: the optimiser will tell
                continue
            if smallest > cap:
                reached = (f"(the controls that move it at the bounds that lower it: "
                           f"{', '.join(f'{k} = {v:g}' for k, v in at_low.items())})" if at_low
                           else "(no control moves it: it is the scenario's own)")
                raise InputError(
                    f"{key} = {cap:g} {unit} cannot be met: the smallest {what} the controls "
                    f"allow is {smallest:.6g} {unit} {reached}, so every protocol in the box "
                    f"breaks it. Allowed: a cap of at least {smallest:.6g} {unit}, or lower "
                    f"bounds of the controls (or lower scenario values) among {movers}, "
                    f"so that the {what} can be at most {cap:g} {unit}", file=self.s.file,
                    key=where)
            if largest <= cap:
                self.warnings[key] = (
                    f"{where} = {cap:g} does nothing: " + (
                        f"no control moves the {what}, {smallest:.6g} {unit} for every "
                        "protocol" if smallest == largest else
                        f"the {what} is at most {largest:.6g} {unit} over the controls' box"))

    def _check_differentiable(self) -> None:
        cfg = self.tumour(self.start)
        plan = planning_plan(cfg, self.s.controls, self.start)
        base = build_model(_planning(cfg), plan=plan)
        for i, c in enumerate(self.s.controls):
            x = self.start.copy()
            x[i] += (1 if x[i] < c.upper else -1) * FD_FRACTION * (c.upper - c.lower)
            other = build_model(_planning(self.tumour(x)), plan=plan)
            why = _structure_change(base, other)
            if why:
                raise InputError(f"{c.key} changes {why} of the model, not just its values: it "
                                 "cannot be optimised by gradients (sweep it instead)",
                                 file=self.s.file, key=f"plan.controls.{c.key}")
            # it moves the model's values near the start, or at a bound of its box (an
            # ultrasound intensity below the cavitation threshold at the start moves nothing
            # there, but does above it)
            moves = not _same_values(base, other)
            for bound in (c.lower, c.upper):  # a mask that changes across the box
                x = self.start.copy()
                x[i] = bound
                edge = build_model(_planning(self.tumour(x)))
                if any(np.asarray(p).dtype == bool and (np.shape(p) != np.shape(q) or
                                                       not np.array_equal(p, q))
                       for p, q in zip(jax.tree.leaves(base), jax.tree.leaves(edge),
                                       strict=False)):
                    raise InputError(f"{c.key} = {bound:g} changes the tissue mask (which "
                                     "cells of the grid are tissue): a step change, not a "
                                     "smooth one, so it cannot be optimised by gradients "
                                     "(sweep it instead)", file=self.s.file,
                                     key=f"plan.controls.{c.key}")
                if not moves:
                    at = build_model(_planning(self.tumour(x)), plan=plan)
                    moves = (_structure_change(base, at) is not None
                             or not _same_values(base, at))
            if not moves:
                raise InputError(f"{c.key} does not change the simulation anywhere in its "
                                 "bounds (e.g. an exposure setting the material's band gap "
                                 "or the tissue ignores)", file=self.s.file,
                                 key=f"plan.controls.{c.key}")

    def evaluate(self, x: np.ndarray, gradient: bool = True) -> Evaluation:
        """Objective and constraints with the planning step plan (gradients by the chain rule
        of the module docstring). `x`: the controls' values in the order of `keys`, in the
        units of their keys (InputError for anything else)."""
        try:
            values = np.asarray(x, float)
        except (TypeError, ValueError):
            values = None
        if values is None or values.shape != (len(self.keys),):
            raise InputError(f"evaluate takes the {len(self.keys)} controls' values, a sequence "
                             f"of numbers in the order {', '.join(self.keys)} (the units of "
                             f"their keys), got {x!r}", file=self.s.file, key="x")
        x = values
        cfg = self.tumour(x)
        # the scenarios a step either side of x in each control, resolved once for every
        # difference below (objective, normal tissue, caps)
        near = self._neighbours(x) if gradient else []
        value, grad = self._scenario(x, cfg, lambda c: c, near)
        cons, cgrad = {}, {}
        if self.s.normal is not None:
            v, g = self._scenario(x, cfg, self.normal, near)
            cons["normal_viability"], cgrad["normal_viability"] = v, g
        for key in self.s.caps:
            f, name = CAPS[key].quantity, CAPS[key].name
            cons[name] = f(cfg)
            if gradient:
                cgrad[name] = _difference(near, lambda c, f=f: np.array(f(c)))
        return Evaluation(value, grad, cons, cgrad)

    def _neighbours(self, x: np.ndarray) -> list[tuple[float, dict, dict]]:
        """Per control: (xp − xm, scenario at xp, scenario at xm), the steps FD_FRACTION of
        its box either side of x (one-sided at a bound)."""
        out = []
        for i, c in enumerate(self.s.controls):
            e = FD_FRACTION * (c.upper - c.lower)
            xp, xm = x.copy(), x.copy()
            xp[i] = min(x[i] + e, max(c.upper, x[i]))  # an x beyond the box: one-sided there
            xm[i] = max(x[i] - e, min(c.lower, x[i]))
            out.append((xp[i] - xm[i], self.tumour(xp), self.tumour(xm)))
        return out

    def _scenario(self, x, cfg, which, near) -> tuple[float, np.ndarray]:
        """Objective of one scenario (`which` maps the tumour's config to it) and, when
        `near` holds the neighbouring configs, its gradient."""
        scenario = which(cfg)
        plan = planning_plan(scenario, self.s.controls, x)
        model = canonical(build_model(_planning(scenario), plan=plan))
        if not near:
            self.forward_solves += 1
            return float(_forward(model)), np.zeros(len(self.keys))
        value, g = _value_and_grad(model)
        self.gradient_solves += 1
        if not np.isfinite(float(value)):
            where = ", ".join(f"{k} = {v:g}" for k, v in zip(self.keys, x, strict=True))
            raise RunError(f"the simulation gave a non-finite viability at {where} "
                           f"({scenario.get('_name', 'scenario')}); run that config with "
                           "zn-pde run to see where it fails")
        g_leaves = [np.asarray(a, float) for a in _floats(g)]

        def leaves(c):
            m = build_model(_planning(which(c)), plan=plan)
            return np.concatenate([np.asarray(a, float).ravel() for a in _floats(m)])

        dleaves = _difference(near, leaves)  # (leaves, controls)
        flat_g = np.concatenate([a.ravel() for a in g_leaves])
        return float(value), flat_g @ dleaves

    # the reported numbers: the run's own plan, as `zn-pde run`
    def outcome(self, x: np.ndarray) -> dict[str, Any]:
        """Objective, constraints and the viability field at every saved frame, for the
        tumour (and normal) scenario at x, through `_solve.run` as `zn-pde run` does."""
        cfg = self.tumour(np.asarray(x, float))
        out = {"config": cfg, "tumour": simulate_viability(cfg)}
        self.forward_solves += 1
        cons = {}
        normal = self.normal(cfg)
        if normal is not None:
            out["normal"] = simulate_viability(normal)
            self.forward_solves += 1
            cons["normal_viability"] = out["normal"]["tissue_mean_viability"][-1]
        for key in self.s.caps:
            cons[CAPS[key].name] = CAPS[key].quantity(cfg)
        out["objective"] = out["tumour"]["tissue_mean_viability"][-1]
        out["constraints"] = cons
        return out

    def without_stimuli(self, config: dict[str, Any]) -> dict[str, Any] | None:
        """The tumour scenario `config` with its exposures at intensity 0 (`zn-pde run`'s
        control run): what the particles do without the stimuli. None without exposures or
        particles."""
        if first_exposure_h(config) is None or "material" not in config:
            return None
        self.forward_solves += 1
        return simulate_viability(control_config(config))


def _difference(near, f) -> np.ndarray:
    """∂f/∂x by differences of f(config) over the neighbouring configs of each control."""
    return np.stack([(np.asarray(f(plus), float) - np.asarray(f(minus), float)) / width
                     for width, plus, minus in near], -1)


def simulate_viability(config: dict[str, Any]) -> dict[str, Any]:
    """Run a scenario as `zn-pde run` does (no file): per saved frame the summary's
    tissue-mean viability and the viability field, with the depth of every cell of the grid."""
    model = build_model(config)
    times, means, fields = [], [], []

    def on_frame(i, t_s, state, peaks):
        f = {k: np.asarray(v) for k, v in model.fields(state).items()}
        times.append(t_s)
        means.append(summarise(model, f)["tissue_mean_viability"])
        fields.append(f["viability"])

    run(model, Schedule.from_model(model), on_frame)
    tissue = np.asarray(model.cell_fraction) > 0
    return {"time_h": np.asarray(times) / 3600.0, "tissue_mean_viability": np.asarray(means),
            "viability": np.stack(fields), "depth_um": np.asarray(model.depth_um),
            "tissue": tissue, "volume_um3": np.asarray(model.volume_um3),
            "spacing_um": model.spacing_um}


_forward = eqx.filter_jit(_final_viability)


def _planning(config: dict[str, Any]) -> dict[str, Any]:
    """The scenario as a plan solves it: saved frames at the start and the end only."""
    c = dict(config)
    c["time"] = dict(config["time"], save_every_min=config["time"]["end_h"] * 60.0)
    return c


def _floats(model) -> list:
    return [a for a in jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))]


def _same_values(a: Model, b: Model) -> bool:
    """The two models' float leaves are equal (the same structure assumed)."""
    return all(np.array_equal(np.asarray(p), np.asarray(q))
               for p, q in zip(_floats(a), _floats(b), strict=True))


def _structure_change(a: Model, b: Model) -> str | None:
    if jax.tree.structure(a) != jax.tree.structure(b):
        return "the structure (species, exposures, events)"
    for p, q in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        p, q = np.asarray(p), np.asarray(q)
        if p.shape != q.shape:
            return "an array's shape"
        if not np.issubdtype(p.dtype, np.inexact) and not np.array_equal(p, q):
            return "an integer or boolean part (a mask, an event's step)"
    return None
