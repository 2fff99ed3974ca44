"""Fit config (TOML) -> validated `FitConfig`: the first stage of a fit.

```toml
[fit]
name = "zno_release"            # -> <outdir>/zno_release.json
observable = "release"          # "release" | "viability" | "spheroid_viability"
data = "data/zno_release.csv"   # relative to this file; "shipped:<file>" = zn_pde/data/<file>
material = "ZnO"
# optional: row selection (a value or a list; matched as text, number or boolean)
select = { source_doi = "10.1016/j.envint.2013.02.013", assay = "MTT" }
exclude = { doi_also_in_gul = true }
exposure_h = 24.0               # viability rows without an exposure_h column
dose_ug_per_ml = 20.0           # release rows without a dose_ug_per_ml column
curve_by = ["group_id"]         # how rows form curves (empirical fits, figure)
# optimiser (defaults shown in docs/fitting.md)
seed = 0
starts = 4
candidates = 32
adam_steps = 40
learning_rate = 0.1
lbfgs_steps = 0
lm_steps = 30
profile = "auto"                # true | false | "auto"

[fit.parameters.dissolution_rate_per_h]
initial = 1e-3
lower = 1e-5
upper = 1e-1
fixed = false

[fit.simulation]                # any simulation-config sections, merged over the
time = { dt_s = 300.0 }         # observable's own experiment (docs/fitting.md)
```
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

from .._errors import InputError
from ..config import (
    ARRAY_SECTIONS,
    apply_override,
    array_of_tables,
    as_toml,
    check_overrides,
    read_toml_file,
)
from ..config._load import config_kind_error
from ..materials import RENAMED, get_material
from ..observables import FITTABLE, OBSERVABLES, Observable, shipped_path, shipped_tables
from ._design_config import design_settings

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
SIMULATION_SECTIONS = ("grid", "time", "geometry", "boundary", "numerics", "material", "ph",
                       "tissue", "medium", "kinetics", "species", "ultrasound", "light",
                       "dose", "medium_exchange")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Optimiser settings (defaults: docs/fitting.md)."""

    seed: int = 0
    starts: int = 4
    candidates: int = 32
    adam_steps: int = 40
    learning_rate: float = 0.1
    lbfgs_steps: int = 0
    lm_steps: int = 30
    chunk: int = 20
    profile: bool | str = "auto"
    gradient: str = "auto"


@dataclasses.dataclass(frozen=True)
class ParameterSpec:
    name: str
    initial: float | None = None
    lower: float | None = None
    upper: float | None = None
    fixed: bool = False


@dataclasses.dataclass(frozen=True)
class FitConfig:
    file: str
    name: str
    observable: Observable
    data: Path
    material: str
    select: dict[str, Any]
    exclude: dict[str, Any]
    exposure_h: float | None
    dose_ug_per_ml: float | None
    curve_by: list[str] | None
    settings: Settings
    parameters: dict[str, ParameterSpec]
    simulation: dict[str, Any]
    raw: dict[str, Any]

    @property
    def row_settings(self) -> dict[str, Any]:
        return {"exposure_h": self.exposure_h, "dose_ug_per_ml": self.dose_ug_per_ml,
                "curve_by": self.curve_by}

    def problem_key(self) -> str:
        """Hash of what the compiled programs depend on (not the optimiser's step counts)."""
        fit = {k: v for k, v in self.raw.get("fit", {}).items() if k not in _OPTIMISER_ONLY}
        h = hashlib.sha256(json.dumps(fit, sort_keys=True, default=str).encode())
        h.update(str(self.data.resolve()).encode())
        h.update(self.data.read_bytes())
        return h.hexdigest()

    def fingerprint(self) -> str:
        """Hash of the config and the data file: a resumed fit must match both ([design]
        is not part of the fit)."""
        fit = {k: v for k, v in self.raw.items() if k != "design"}
        h = hashlib.sha256(json.dumps(fit, sort_keys=True, default=str).encode())
        h.update(self.data.read_bytes())
        return h.hexdigest()


_OPTIMISER_ONLY = ("name", "seed", "candidates", "adam_steps", "learning_rate", "lbfgs_steps",
                   "lm_steps", "chunk", "profile")
_FIT_KEYS = {
    "name": "str", "observable": "str", "data": "str", "material": "str",
    "select": "table", "exclude": "table", "exposure_h": "pos", "dose_ug_per_ml": "pos",
    "curve_by": "strlist", "seed": "int0", "starts": "int1", "candidates": "int0",
    "adam_steps": "int0", "learning_rate": "pos", "lbfgs_steps": "int0", "lm_steps": "int0",
    "chunk": "int1", "profile": "profile", "gradient": "gradient", "parameters": "table",
    "simulation": "table",
}
_ALLOWED = {
    "str": "a non-empty string", "table": "a table", "pos": "a number > 0",
    "strlist": "a list of strings",
    "int0": "an integer >= 0", "int1": "an integer >= 1",
    "profile": 'true, false or "auto"', "gradient": '"auto", "forward" or "reverse"',
}


def _hint(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check(kind: str, v: Any) -> bool:
    if kind == "str":
        return isinstance(v, str) and v != ""
    if kind == "table":
        return isinstance(v, dict)
    if kind == "pos":
        return (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                and v > 0)
    if kind == "strlist":
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if kind in ("int0", "int1"):
        return isinstance(v, int) and not isinstance(v, bool) and v >= int(kind[-1])
    if kind == "profile":
        return isinstance(v, bool) or v == "auto"
    if kind == "gradient":
        return v in ("auto", "forward", "reverse")
    raise AssertionError(kind)


def _parameter(name: str, raw: Any, file: str, material: str) -> ParameterSpec:
    key = f"fit.parameters.{name}"
    names = {p.name for p in get_material(material, file=file).parameters}
    if name not in FITTABLE or name not in names:
        raise InputError(f"{name!r} is not a fittable kinetic parameter"
                         f"{_hint(name, list(FITTABLE))}; allowed: "
                         f"{', '.join(n for n in FITTABLE if n in names)}",
                         file=file, key=key)
    if not isinstance(raw, dict):
        raise InputError(f"expected a table {{ initial = ..., lower = ..., upper = ..., "
                         f"fixed = ... }}, got {as_toml(raw)}", file=file, key=key)
    allowed = ("initial", "lower", "upper", "fixed")
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if k not in allowed:
            raise InputError(f"unknown key{_hint(k, list(allowed))}; allowed: "
                             f"{', '.join(allowed)}", file=file, key=f"{key}.{k}")
        if k == "fixed":
            if not isinstance(v, bool):
                raise InputError(f"value {as_toml(v)} is not allowed; expected true or false",
                                 file=file, key=f"{key}.{k}")
        elif not (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                  and v > 0):
            raise InputError(f"value {as_toml(v)} is not allowed; expected a number > 0 "
                             "(parameters are fitted in log space)", file=file,
                             key=f"{key}.{k}")
        out[k] = v if k == "fixed" else float(v)
    spec = ParameterSpec(name, out.get("initial"), out.get("lower"), out.get("upper"),
                         out.get("fixed", False))
    p = get_material(material, file=file).parameter(name)
    lo = spec.lower if spec.lower is not None else None
    hi = spec.upper if spec.upper is not None else None
    if lo is not None and hi is not None and not lo < hi:
        raise InputError(f"lower ({lo:g}) must be below upper ({hi:g})", file=file, key=key)
    for what, v in (("initial", spec.initial), ("lower", lo), ("upper", hi)):
        if v is not None and (v < p.lower or v > p.upper):
            raise InputError(f"{what} = {v:g} is outside the physically allowed range "
                             f"[{p.lower:g}, {p.upper:g}] of {name}", file=file,
                             key=f"{key}.{what}")
    if spec.initial is not None and ((lo is not None and spec.initial < lo)
                                     or (hi is not None and spec.initial > hi)):
        raise InputError(f"initial = {spec.initial:g} is outside [lower, upper] = "
                         f"[{'none' if lo is None else f'{lo:g}'}, "
                         f"{'none' if hi is None else f'{hi:g}'}]; allowed: lower <= initial "
                         "<= upper", file=file, key=f"{key}.initial")
    return spec


def resolve_data_path(data: str, base_dir: Path) -> Path:
    if data.startswith("shipped:"):
        return shipped_path(data.split(":", 1)[1])
    p = Path(data)
    return p if p.is_absolute() else base_dir / p


def fit_config_from_dict(raw: dict[str, Any], file: str = "<fit config>",
                         base_dir: Path | None = None) -> FitConfig:
    """Validate a parsed fit config (relative paths against `base_dir`)."""
    base_dir = base_dir or Path(".")
    other = config_kind_error(raw, "fit", file)
    if other is not None:
        raise other
    for sec in raw:
        if sec not in ("fit", "design"):
            raise InputError(f"unknown section{_hint(sec, ['fit', 'design'])}; a fit config "
                             "has the section [fit] (with [fit.parameters.*] and "
                             "[fit.simulation]) and optionally [design] (zn-pde design)",
                             file=file, key=sec)
    fit = raw.get("fit")
    if not isinstance(fit, dict):
        raise InputError("missing section [fit]", file=file, key="fit")
    for k, v in fit.items():
        if k not in _FIT_KEYS:
            raise InputError(f"unknown key{_hint(k, list(_FIT_KEYS))}; allowed keys: "
                             f"{', '.join(_FIT_KEYS)}", file=file, key=f"fit.{k}")
        if not _check(_FIT_KEYS[k], v):
            raise InputError(f"value {as_toml(v)} is not allowed; expected "
                             f"{_ALLOWED[_FIT_KEYS[k]]}", file=file, key=f"fit.{k}")
    for k in ("name", "observable", "data"):
        if k not in fit:
            raise InputError(f"missing required key; expected {_ALLOWED['str']}", file=file,
                             key=f"fit.{k}", missing=True)
    if not _NAME_RE.match(fit["name"]):
        raise InputError(f"name {fit['name']!r} is not allowed; expected letters, digits, "
                         "'_', '-' or '.' (it names the output files)", file=file,
                         key="fit.name")
    if fit["observable"] not in OBSERVABLES:
        raise InputError(f"unknown observable {fit['observable']!r}"
                         f"{_hint(fit['observable'], list(OBSERVABLES))}; allowed: "
                         f"{', '.join(OBSERVABLES)}", file=file, key="fit.observable")
    observable = OBSERVABLES[fit["observable"]]
    material = fit.get("material", "ZnO")
    get_material(material, file=file, key="fit.material")
    data = resolve_data_path(fit["data"], base_dir)
    if not data.is_file():
        raise InputError(f"data file {str(data)!r} "
                         f"{'is a folder' if data.is_dir() else 'not found'} (a CSV file is "
                         "expected; paths are relative to the fit config; 'shipped:<file>' "
                         "names a table shipped in zn_pde/data: "
                         f"{', '.join('shipped:' + n for n in shipped_tables())})",
                         file=file, key="fit.data")
    simulation = fit.get("simulation", {})
    for sec, v in simulation.items():
        if sec not in SIMULATION_SECTIONS:
            raise InputError(f"unknown simulation section{_hint(sec, list(SIMULATION_SECTIONS))}"
                             f"; allowed: {', '.join(SIMULATION_SECTIONS)}", file=file,
                             key=f"fit.simulation.{sec}")
        # the shape of each section before anything reads it (`time = 5` failed with a
        # traceback where the step is looked up, `kinetics = 5` where the fixed values go,
        # `ultrasound = [5]` where a row's amplitude is written into it)
        if sec in ARRAY_SECTIONS:
            array_of_tables(f"fit.simulation.{sec}", v, file)
        elif not isinstance(v, dict):
            raise InputError(f"expected a table [fit.simulation.{sec}], got {as_toml(v)}",
                             file=file, key=f"fit.simulation.{sec}")
    mat = simulation.get("material", {})
    if isinstance(mat, dict) and ("kind" in mat or "dose_ug_per_ml" in mat):
        raise InputError("the material kind is [fit] material and the dose comes from each "
                         "row; fit.simulation.material may only set hydrodynamic_diameter_nm",
                         file=file, key="fit.simulation.material")
    timing = simulation.get("time", {})
    for k in ("end_h", "save_every_min", "save_around_events"):
        if isinstance(timing, dict) and k in timing:
            raise InputError("the fit sets the run's length and frames from the data's "
                             "read-out times (it simulates to the latest and reads every row "
                             "at its own time); fit.simulation.time may only set dt_s",
                             file=file, key=f"fit.simulation.time.{k}")
    ph = simulation.get("ph", {})
    if observable.table_kind == "release" and isinstance(ph, dict) and "medium" in ph:
        raise InputError("a release fit takes each vial's pH from the data's pH column; "
                         "fit.simulation.ph may not set medium", file=file,
                         key="fit.simulation.ph.medium")
    params = {}
    for n, v in fit.get("parameters", {}).items():
        n = RENAMED.get(n, n)  # an old name is read as today's
        params[n] = _parameter(n, v, file, material)
    s = {k: fit[k] for k in ("seed", "starts", "candidates", "adam_steps", "learning_rate",
                             "lbfgs_steps", "lm_steps", "chunk", "profile", "gradient")
         if k in fit}
    if "learning_rate" in s:
        s["learning_rate"] = float(s["learning_rate"])
    if "design" in raw:  # checked here too, so `zn-pde fit` refuses a bad [design] early
        design_settings(raw["design"], observable.table_kind, file,
                        float(fit["exposure_h"]) if "exposure_h" in fit else None)
    return FitConfig(
        file=file, name=fit["name"], observable=observable, data=data, material=material,
        select=fit.get("select", {}), exclude=fit.get("exclude", {}),
        exposure_h=float(fit["exposure_h"]) if "exposure_h" in fit else None,
        dose_ug_per_ml=float(fit["dose_ug_per_ml"]) if "dose_ug_per_ml" in fit else None,
        curve_by=fit.get("curve_by"), settings=Settings(**s), parameters=params,
        simulation=simulation, raw=raw)


def check_fit_config(cfg: Any, caller: str) -> None:
    """`cfg`, what a Python caller gave `fit` or `design`, must be a `FitConfig`: a path
    failed deep inside ('str' object has no attribute 'fingerprint')."""
    if not isinstance(cfg, FitConfig):
        raise InputError(f"{caller} takes a FitConfig, got {type(cfg).__name__} {cfg!r}; "
                         f"read a fit config with {caller}(load_fit_config(path)) (overrides: "
                         "load_fit_config(path, ['fit.starts=2']))", key="cfg")


def load_fit_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> FitConfig:
    """Read a fit config file, apply `--set` overrides, validate."""
    raw = read_toml_file(path, "fit config")  # before Path(), which reads "" as "."
    p = Path(path)
    file = str(p)
    check_overrides(overrides, file)
    for item in overrides:
        apply_override(raw, item, file)
    return fit_config_from_dict(raw, file, p.parent)
