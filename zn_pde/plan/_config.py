"""A plan file: the scenario, the controls with their bounds, the objective, the constraints.

```toml
[plan]
name = "us_timing"                        # -> DIR/us_timing.json, .toml, .png
config = "zno_spheroid_radial.toml"       # the scenario whose protocol is optimised
objective = "tissue_viability"            # minimised: tissue-mean viability at time.end_h

[plan.controls]                           # any real-valued key of the config, with bounds
                                          # (not [time], [grid], [numerics], [boundary])
"ultrasound[0].start_h" = { lower = 0.5, upper = 20.0 }
"ultrasound[0].intensity_W_per_cm2" = { lower = 0.5, upper = 3.0 }

[plan.constraints]                        # optional
normal_config = "normal_spheroid_radial.toml"  # the same protocol applied to this config ...
normal_viability_min = 0.9                # ... keeps at least this tissue-mean viability (0-1)
max_total_dose_ug_per_ml = 40.0           # material.dose_ug_per_ml + every [[dose]]
max_ultrasound_energy_J_per_cm2 = 300.0   # Σ intensity x duty_cycle x duration, every repeat
max_light_energy_J_per_cm2 = 100.0        # Σ irradiance x duty_cycle x duration, every repeat

[plan.optimiser]                          # optional; the defaults below
starts = 4            # the config's own values, then Latin-hypercube points of the box
iterations = 40       # Adam steps per start, at most
learning_rate = 0.2   # Adam, on the unbounded variable u of x = lower + (upper - lower) σ(u)
seed = 0
polish = 30           # SLSQP iterations from each start's best Adam iterate (0: none)
```

Paths are relative to the plan file; `--set plan.KEY=VALUE` changes a key of it as read
(`load_plan`), any other `--set` key the tumour scenario. "The same protocol" means the
normal-tissue scenario takes the tumour scenario's `material`, `[[dose]]`,
`[[medium_exchange]]`, `[[ultrasound]]`, `[[light]]` and `time` tables (with the controls'
values in them) and keeps its own tissue, pH, geometry, grid and kinetics; a control outside
those tables moves the tumour scenario only.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from pathlib import Path
from typing import Any

from .._errors import InputError
from ..config import (
    SECTIONS,
    apply_override,
    as_toml,
    check_overrides,
    key_units,
    load_config,
)
from ..config._load import config_kind_error, read_toml_file

OBJECTIVES = {
    "tissue_viability": "tissue-mean viability at time.end_h (0-1, cell-volume weighted, as "
                        "the run summary's tissue_mean_viability)",
}
PROTOCOL_SECTIONS = ("material", "dose", "medium_exchange", "ultrasound", "light", "time")
_PLAN_KEYS = ("name", "config", "objective", "controls", "constraints", "optimiser")
_CONSTRAINT_KEYS = ("normal_config", "normal_viability_min", "max_total_dose_ug_per_ml",
                    "max_ultrasound_energy_J_per_cm2", "max_light_energy_J_per_cm2")
_OPTIMISER = {  # key: (default, lower, upper, integer)
    "starts": (4, 1, 64, True),
    "iterations": (40, 1, 10000, True),
    "learning_rate": (0.2, 1e-4, 10.0, False),
    "seed": (0, 0, 2**31 - 1, True),
    "polish": (30, 0, 1000, True),
}


@dataclasses.dataclass(frozen=True)
class Control:
    key: str  # a config key, e.g. "ultrasound[0].start_h"
    lower: float
    upper: float
    start: float  # the scenario's own value, clipped into the box
    scenario: float | None = None  # the scenario's own value where the box clipped it

    @property
    def unit(self) -> str:
        return key_units(self.key)


@dataclasses.dataclass(frozen=True)
class Optimiser:
    starts: int = 4
    iterations: int = 40
    learning_rate: float = 0.2
    seed: int = 0
    polish: int = 30


@dataclasses.dataclass(frozen=True)
class PlanSettings:
    name: str
    file: str
    config: dict[str, Any]  # the resolved tumour scenario
    objective: str
    controls: tuple[Control, ...]
    normal: dict[str, Any] | None  # the resolved normal-tissue scenario
    normal_viability_min: float | None
    caps: dict[str, float]  # constraint key -> cap
    optimiser: Optimiser
    text: str  # the plan file as read (a resume checks it is unchanged)


# a control's key as the config writes it: names joined by dots, [n] after an array of tables
_CONTROL_KEY = re.compile(r"^[A-Za-z_]\w*(\[\d+\])?(\.[A-Za-z_]\w*(\[\d+\])?)*$")


def split_key(key: str) -> list[str]:
    return [p for p in re.split(r"\.|\[|\]", key) if p != ""]


def get_value(config: dict[str, Any], key: str) -> Any:
    """The value at a dotted key (`ultrasound[0].start_h`), or KeyError."""
    node: Any = config
    for part in split_key(key):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise KeyError(key)
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(key)
    return node


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _hint(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _config_keys(config: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in config.items():
        if k.startswith("_"):
            continue
        if isinstance(v, dict):
            out += _config_keys(v, f"{prefix}{k}.")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for i, x in enumerate(v):
                out += _config_keys(x, f"{prefix}{k}[{i}].")
        elif _number(v):
            out.append(prefix + k)
    return out


def is_plan_override(item: str) -> bool:
    """Whether a `--set KEY=VALUE` item changes the plan file (`plan.optimiser.starts=1`)
    rather than the scenario: a scenario has no [plan] section, so the first name decides."""
    return re.match(r'\s*"?plan"?\s*[.\[]', item) is not None


def load_plan(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> PlanSettings:
    """Read and check a plan file. `--set` items whose key starts with `plan.` change the
    plan file as read, checked as if written in it (`plan.optimiser.starts=1`); the others
    change the tumour scenario config (`time.end_h=12`)."""
    raw = read_toml_file(path, "plan")  # before Path(), which reads "" as "."
    path = Path(path)
    file = str(path)
    check_overrides(overrides, file)
    text = path.read_text()
    own = [o for o in overrides if is_plan_override(o)]
    overrides = [o for o in overrides if not is_plan_override(o)]
    for item in own:
        apply_override(raw, item, file)
    # a resume compares this text with its state's: the plan's own overrides belong to it
    text += "".join(f"\n# --set {item}" for item in own)
    other = config_kind_error(raw, "plan", file)
    if other is not None:
        raise other
    if set(raw) != {"plan"}:
        extra = sorted(set(raw) - {"plan"})
        raise InputError(f"a plan file holds one table [plan]; found {', '.join(extra) or 'none'}",
                         file=file, key=extra[0] if extra else "plan")
    p = raw["plan"]
    if not isinstance(p, dict):
        raise InputError(f"plan = {as_toml(p)}: expected a table [plan]", file=file, key="plan")
    for k in p:
        if k not in _PLAN_KEYS:
            raise InputError(f"unknown key{_hint(k, list(_PLAN_KEYS))}; allowed: "
                             f"{', '.join(_PLAN_KEYS)}", file=file, key=f"plan.{k}")
    name = p.get("name", path.stem)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise InputError(f"expected a file-name-safe string (letters, digits, _ . -), got "
                         f"{as_toml(name)}", file=file, key="plan.name")
    if not isinstance(p.get("config"), str):
        raise InputError("missing or not a string: the scenario config to optimise, a path "
                         "relative to the plan file", file=file, key="plan.config")
    config = _load_scenario(path, p["config"], overrides, "plan.config")
    objective = p.get("objective", "tissue_viability")
    if not isinstance(objective, str) or objective not in OBJECTIVES:
        raise InputError(f"unknown objective {as_toml(objective)}"
                         f"{_hint(str(objective), list(OBJECTIVES))}; allowed: "
                         f"{', '.join(OBJECTIVES)}", file=file, key="plan.objective")
    if "material" not in config:
        raise InputError("the scenario has no [material]: there is no treatment to plan",
                         file=file, key="plan.config")
    controls = _controls(p.get("controls"), config, file)
    cons = p.get("constraints", {})
    if not isinstance(cons, dict):
        raise InputError("expected a table [plan.constraints]", file=file, key="plan.constraints")
    for k in cons:
        if k not in _CONSTRAINT_KEYS:
            raise InputError(f"unknown constraint{_hint(k, list(_CONSTRAINT_KEYS))}; allowed: "
                             f"{', '.join(_CONSTRAINT_KEYS)}", file=file,
                             key=f"plan.constraints.{k}")
    normal = vmin = None
    if ("normal_config" in cons) != ("normal_viability_min" in cons):
        raise InputError("normal_config and normal_viability_min go together: the scenario "
                         "of normal tissue and the tissue-mean viability (0-1) it must keep",
                         file=file, key="plan.constraints.normal_viability_min")
    if "normal_config" in cons:
        if not isinstance(cons["normal_config"], str):
            raise InputError("expected a path (string) relative to the plan file", file=file,
                             key="plan.constraints.normal_config")
        normal = _load_scenario(path, cons["normal_config"], (),
                                "plan.constraints.normal_config")
        vmin = cons["normal_viability_min"]
        if not (_number(vmin) and 0.0 < vmin < 1.0):
            raise InputError("expected a viability between 0 and 1 (exclusive), got "
                             f"{as_toml(vmin)}", file=file,
                             key="plan.constraints.normal_viability_min")
        vmin = float(vmin)
    caps = {}
    for k in _CONSTRAINT_KEYS[2:]:
        if k in cons:
            v = cons[k]
            if not (_number(v) and v > 0):
                raise InputError(f"expected a number > 0 ({key_units(k)}), got {as_toml(v)}",
                                 file=file, key=f"plan.constraints.{k}")
            caps[k] = float(v)
    opt = p.get("optimiser", {})
    if not isinstance(opt, dict):
        raise InputError("expected a table [plan.optimiser]", file=file, key="plan.optimiser")
    values = {}
    for k, v in opt.items():
        if k not in _OPTIMISER:
            raise InputError(f"unknown key{_hint(k, list(_OPTIMISER))}; allowed: "
                             f"{', '.join(_OPTIMISER)}", file=file, key=f"plan.optimiser.{k}")
        _, lo, hi, integer = _OPTIMISER[k]
        ok = _number(v) and lo <= v <= hi and (not integer or float(v).is_integer())
        if not ok:
            # an integer's range in full: the seed's upper bound read 2.14748e+09
            kind, bounds = (("an integer", f"{lo:d}, {hi:d}") if integer
                            else ("a number", f"{lo:g}, {hi:g}"))
            raise InputError(f"expected {kind} in [{bounds}], got {as_toml(v)}", file=file,
                             key=f"plan.optimiser.{k}")
        values[k] = int(v) if integer else float(v)
    return PlanSettings(name, file, config, objective, controls, normal, vmin, caps,
                        Optimiser(**values), text)


def _load_scenario(plan_path: Path, rel: str, overrides, key: str) -> dict[str, Any]:
    target = (plan_path.parent / rel).resolve()
    if not target.is_file():
        what = "a folder, not a file" if target.is_dir() else "no such file"
        raise InputError(f"{what}: {target}; expected a scenario config (TOML), a path "
                         "relative to the plan file", file=str(plan_path), key=key)
    config = load_config(target, list(overrides))
    config["_file"] = str(target)  # errors of the scenario under the controls name it
    if "sweep" in config:
        raise InputError("the scenario has a [sweep]; a plan optimises one protocol: remove "
                         "the sweep", file=str(target), key="sweep")
    return config


#: Sections whose keys are how the model is solved or when it is read, not the protocol.
_NOT_CONTROLS = {
    "time": "the run's time axis (the objective is read at time.end_h; dt_s and the frames "
            "are numerics)",
    "grid": "the grid (numerics, and the tissue mask moves in steps)",
    "numerics": "a numerical setting",
    "boundary": "the domain's wall condition",
}


def _check_not_left_out(key: str, config: dict[str, Any], file: str, where: str) -> None:
    """A control's index addresses the scenario's entries as written; its run leaves out the
    protocol at or after time.end_h (`drop_beyond_end`, with a note) and renumbers the entries
    after it, so such a control would find no key or silently move another exposure."""
    m = re.match(r"^(\w+)\[(\d+)\]", key)
    left = config.get("_left_out", {}).get(m[1]) if m else None
    if not left:
        return
    i, sec, end_h = int(m[2]), m[1], config["time"]["end_h"]
    if str(i) in left:
        raise InputError(f"the scenario's {left[str(i)]} is at or after its end (time.end_h = "
                         f"{end_h:g} h), so its run leaves it out and there is no {key} to "
                         "control; allowed: a value before time.end_h in the scenario (the "
                         "control starts from it, moved into its bounds), or a longer "
                         "time.end_h", file=file, key=where)
    earlier = [left[j] for j in sorted(left, key=int) if int(j) < i]
    if earlier:
        raise InputError(f"the scenario's run leaves out {', '.join(earlier)} (at or after "
                         f"its end, time.end_h = {end_h:g} h) and renumbers the [[{sec}]] "
                         f"entries after it, so {sec}[{i}] as written is {sec}"
                         f"[{i - len(earlier)}] of the run; allowed: remove the entries at or "
                         "after time.end_h from the scenario, so that the controls' indices "
                         "address its entries as written", file=file, key=where)


def _controls(raw: Any, config: dict[str, Any], file: str) -> tuple[Control, ...]:
    if not isinstance(raw, dict) or not raw:
        raise InputError("expected a table of controls, e.g. \"ultrasound[0].start_h\" = "
                         "{ lower = 0.5, upper = 20.0 }", file=file, key="plan.controls")
    known = _config_keys(config)
    out = []
    for key, spec in raw.items():
        where = f"plan.controls.{key}"
        if (isinstance(spec, dict) and spec and not {"lower", "upper"} & set(spec)
                and all(isinstance(v, dict) for v in spec.values())):
            # `material.dose_ug_per_ml = {...}` unquoted: TOML nests it as a table `material`
            inner = next(iter(spec))
            raise InputError(f"TOML reads an unquoted dotted key as nested tables ({key} = "
                             f"{{ {inner} = {{ ... }} }}), not as one config key; write the "
                             f"whole key in quotes: \"{key}.{inner}\" = {{ lower = ..., "
                             "upper = ... }", file=file, key=where)
        if not _CONTROL_KEY.match(key):
            raise InputError(f"{key!r} is not a config key: dotted names, with [n] to index an "
                             "array of tables (e.g. \"ultrasound[0].start_h\", "
                             "\"material.dose_ug_per_ml\")", file=file, key=where)
        section, _, name = key.partition(".")
        _check_not_left_out(key, config, file, where)
        try:
            value = get_value(config, key)
        except KeyError:
            if name in SECTIONS.get(section, {}):  # an optional key the scenario leaves unset
                raise InputError(f"{key} is not set in the scenario (it has no default: "
                                 "unset, the model derives what it needs otherwise); set it "
                                 "there to give the control its starting value",
                                 file=file, key=where) from None
            raise InputError(f"the scenario has no numeric key {key!r}{_hint(key, known)}",
                             file=file, key=where) from None
        if section in _NOT_CONTROLS:
            raise InputError(f"{key} is {_NOT_CONTROLS[section]}, not part of the protocol: "
                             "it cannot be a control (allowed: doses, event times, exposure "
                             "settings, [material], [ph], [kinetics], [tissue] keys)",
                             file=file, key=where)
        if not isinstance(value, float) or isinstance(value, bool):
            what = "an integer (a count)" if isinstance(value, int) else as_toml(value)
            raise InputError(f"{key} is {what}; a control must be a real number that moves "
                             "smoothly (a dose, a time, an intensity)", file=file, key=where)
        if not isinstance(spec, dict) or not {"lower", "upper"} <= set(spec):
            raise InputError("expected { lower = ..., upper = ... } in the key's units "
                             f"({key_units(key)}), got {as_toml(spec)}", file=file, key=where)
        for k in spec:
            if k not in ("lower", "upper"):
                raise InputError(f"unknown key{_hint(k, ['lower', 'upper'])}; allowed: lower, "
                                 f"upper, in the key's units ({key_units(key)}); a control "
                                 "starts from the scenario's own value",
                                 file=file, key=f"{where}.{k}")
        lo, hi = spec["lower"], spec["upper"]
        if not (_number(lo) and _number(hi) and lo < hi):
            raise InputError("the bounds must be numbers with lower < upper, got lower = "
                             f"{as_toml(lo)}, upper = {as_toml(hi)}", file=file, key=where)
        start = float(min(max(value, lo), hi))
        out.append(Control(key, float(lo), float(hi), start,
                           None if start == value else float(value)))
    return tuple(out)
