"""Which kinetic constants a fit frees, their bounds, and the log-box reparametrisation.

Free set = the observable's standard set (less any constant that is zero for the material,
i.e. not part of its mechanism), plus every `[fit.parameters.<p>]` not fixed, minus every one
with `fixed = true` (fixed ones are held at their `initial`, else at the simulation's
value). Each free parameter p lives in a box [lower, upper] (default: initial / 100 to
initial x 100, cut to the physically allowed range of the material table) and is optimised as

    ln p = ln lower + (ln upper − ln lower) · sigmoid(u),   u ∈ ℝ,

so every optimiser step stays inside the box and positivity is automatic (STYLE.md: positive
parameters in log space, explicit bounds).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import InputError
from ..config import resolve
from ..materials import get_material
from ..observables._prediction import deep_merge
from ._config import FitConfig

DEFAULT_SPAN = 100.0  # default box: initial / 100 .. initial x 100
EDGE = 1e-3  # a start at a box edge is nudged this fraction of the box inside


@dataclasses.dataclass(frozen=True)
class FreeSet:
    names: tuple[str, ...]
    units: tuple[str, ...]
    initial: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    held: dict[str, float]  # every other kinetic constant at its simulation value
    fixed_by_config: tuple[str, ...]
    # the default start (the simulation's own value) of a parameter whose box, set in the fit
    # config, lies beyond it: the fit starts from the bound instead (`initial`), and says so
    moved_start: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def ln_lower(self) -> np.ndarray:
        return np.log(self.lower)

    @property
    def ln_upper(self) -> np.ndarray:
        return np.log(self.upper)

    def to_ln(self, u: jax.Array) -> jax.Array:
        lo, hi = jnp.asarray(self.ln_lower, u.dtype), jnp.asarray(self.ln_upper, u.dtype)
        return lo + (hi - lo) * jax.nn.sigmoid(u)

    def to_u(self, ln_p: np.ndarray) -> np.ndarray:
        frac = (np.asarray(ln_p) - self.ln_lower) / (self.ln_upper - self.ln_lower)
        frac = np.clip(frac, EDGE, 1.0 - EDGE)
        return np.log(frac) - np.log1p(-frac)

    def at_bound(self, ln_p: np.ndarray, tol: float = 1e-3) -> list[str | None]:
        frac = (np.asarray(ln_p) - self.ln_lower) / (self.ln_upper - self.ln_lower)
        return ["lower" if f < tol else "upper" if f > 1 - tol else None for f in frac]


def free_set(cfg: FitConfig, evaluate: bool = False) -> tuple[FreeSet, dict[str, Any]]:
    """The free parameters and the `[fit.simulation]` with every fixed value written in.
    With `evaluate`, an empty free set (every parameter fixed) is allowed: the fit then
    evaluates the model at the fixed values (`zn-pde fit`), where a design is refused."""
    material = get_material(cfg.material, file=cfg.file)
    simulation = deep_merge(cfg.simulation, {})
    kin = dict(simulation.get("kinetics", {}))
    fixed = [n for n, s in cfg.parameters.items() if s.fixed]
    for n in fixed:
        if cfg.parameters[n].initial is not None:
            kin[n] = cfg.parameters[n].initial
    if kin:
        simulation["kinetics"] = kin
    # the simulation's own value of every constant (defaults, [fit.simulation.kinetics])
    probe = deep_merge(cfg.observable.base_config, {"material": {"kind": cfg.material}})
    probe = deep_merge(probe, simulation)
    probe["time"] = {"dt_s": 1.0, "end_h": 1.0 / 3600.0, "save_every_min": 1.0 / 60.0}
    for events in ("ultrasound", "light", "dose", "medium_exchange"):  # not in a 1 s probe
        probe.pop(events, None)
    values = resolve(probe, cfg.file)["kinetics"]
    # a standard parameter that is zero for this material is not part of its mechanism
    names = [n for n in cfg.observable.standard_free if n not in fixed and values[n] > 0]
    names += [n for n, s in cfg.parameters.items() if not s.fixed and n not in names]
    if not names and not evaluate:
        raise InputError("every parameter is fixed: nothing to fit", file=cfg.file,
                         key="fit.parameters")
    init, lo, hi, units = [], [], [], []
    moved: dict[str, float] = {}
    for n in names:
        spec = cfg.parameters.get(n)
        p = material.parameter(n)
        x0 = spec.initial if spec and spec.initial is not None else values[n]
        if not x0 > 0:
            raise InputError(f"the starting value of {n} is {x0:g}; a fitted parameter must "
                             "start > 0 (log space): set fit.parameters." + n + ".initial",
                             file=cfg.file, key=f"fit.parameters.{n}.initial")
        floor = p.lower if p.lower > 0 else 0.0
        l_ = spec.lower if spec and spec.lower is not None else max(x0 / DEFAULT_SPAN, floor)
        h_ = spec.upper if spec and spec.upper is not None else min(x0 * DEFAULT_SPAN, p.upper)
        if not (l_ > 0 and h_ > l_ and math.isfinite(h_)):
            # one end set beyond the default box around the start: the other end is the
            # default, which the user never wrote, so say where it came from
            unset = [e for e in ("lower", "upper") if not (spec and getattr(spec, e) is not None)]
            why = ""
            if len(unset) == 1:
                e = unset[0]
                v, scaled = (l_, x0 / DEFAULT_SPAN) if e == "lower" else (h_, x0 * DEFAULT_SPAN)
                how = (f"the start {x0:g} {'/' if e == 'lower' else 'x'} {DEFAULT_SPAN:g}"
                       if v == scaled else "the physically allowed limit")
                why = f"; {e} = {v:g} is the default ({how}): set fit.parameters.{n}.{e} too"
            raise InputError(f"the box of {n} is [{l_:g}, {h_:g}]; it must satisfy "
                             f"0 < lower < upper{why}", file=cfg.file,
                             key=f"fit.parameters.{n}")
        init.append(min(max(x0, l_), h_))
        if init[-1] != x0:  # only a default start: an `initial` outside the box is refused
            moved[n] = float(x0)
        lo.append(l_)
        hi.append(h_)
        units.append(p.unit)
    held = {k: float(v) for k, v in values.items() if k not in names}
    return (FreeSet(tuple(names), tuple(units), np.array(init), np.array(lo), np.array(hi),
                    held, tuple(fixed), moved), simulation)


def latin_hypercube(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """n points in (0, 1)^dim, one in each of n equal strata per axis (McKay et al. 1979)."""
    u = (rng.random((n, dim)) + np.arange(n)[:, None]) / n
    for j in range(dim):
        u[:, j] = u[rng.permutation(n), j]
    return u
