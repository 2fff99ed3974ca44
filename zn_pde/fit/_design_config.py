"""The `[design]` section of a fit config: the candidate measurements `zn-pde design` ranks.

```toml
[design]
# the grid is the product of the lists (one measurement per combination)
candidates = { time_h = [1, 6, 24, 72, 120], pH = [4.7, 5.5, 6.5, 7.4] }
sd_percent = 1.0      # optional: sd of one new measurement (default: the fit's noise model)
n_best = 5            # optional: how many to print (default 5)
# optional: average the criterion over these values of free parameters the data do not bound
# (every combination; the others stay at their fitted values)
at = { dissolution_proton_order = [0.88, 1.31, 2.26] }
```

Candidate columns are the observable's table columns (release: `time_h`, `pH` required,
`dose_ug_per_ml`; viability: `concentration_ug_per_ml` required, `exposure_h` (else `[fit]
exposure_h`), `pH`, `ultrasound_W_per_cm2`, `light_mW_per_cm2`), each value checked against
the data table's allowed range (`zn_pde.observables.SCHEMAS`).
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
from typing import Any

from .._errors import InputError
from ..config import as_toml
from ..observables._data import OBSERVED, SCHEMAS

DEFAULT_N_BEST = 5
MAX_CANDIDATES = 5000  # each distinct condition is one simulation; a larger grid is a typo
MAX_AT_POINTS = 64  # each point is one more evaluation of every candidate
_KEYS = ("candidates", "sd_percent", "n_best", "at")
# columns a candidate can set, per table kind (the observed value and its sd are not inputs)
_REQUIRED = {"release": ("time_h", "pH"), "viability": ("concentration_ug_per_ml",)}


@dataclasses.dataclass(frozen=True)
class DesignSettings:
    columns: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]  # per column, the listed values
    sd_percent: float | None
    n_best: int
    at: tuple[tuple[str, tuple[float, ...]], ...] = ()  # parameter, values to average over

    def grid(self) -> list[tuple[float, ...]]:
        """Every combination of the listed values (the first column varies slowest)."""
        return list(itertools.product(*self.values))


def candidate_columns(table_kind: str) -> tuple[str, ...]:
    return tuple(c for c in SCHEMAS[table_kind] if c not in ("sd", OBSERVED[table_kind]))


def _hint(word: str, options: list[str]) -> str:
    same = [o for o in options if o.lower() == word.lower()]
    if same:
        return f" (did you mean '{same[0]}'?)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def design_settings(raw: Any, table_kind: str, file: str,
                    exposure_default: float | None = None) -> DesignSettings:
    """Validate a parsed `[design]` table for an observable whose data are `table_kind`."""
    if not isinstance(raw, dict):
        raise InputError(f"expected a table [design], got {as_toml(raw)}", file=file,
                         key="design")
    for k in raw:
        if k not in _KEYS:
            raise InputError(f"unknown key{_hint(k, list(_KEYS))}; allowed keys: "
                             f"{', '.join(_KEYS)}", file=file, key=f"design.{k}")
    if "candidates" not in raw:
        raise InputError("missing required key; expected a table of column = [values], e.g. "
                         "{ time_h = [1, 24], pH = [5.5, 7.4] }", file=file,
                         key="design.candidates", missing=True)
    cand = raw["candidates"]
    allowed = candidate_columns(table_kind)
    if not isinstance(cand, dict) or not cand:
        raise InputError(f"value {as_toml(cand)} is not allowed; expected a non-empty table of "
                         f"column = [values] with columns among {', '.join(allowed)}",
                         file=file, key="design.candidates")
    schema = SCHEMAS[table_kind]
    columns, values = [], []
    for col, vs in cand.items():
        key = f"design.candidates.{col}"
        if col not in allowed:
            raise InputError(f"unknown candidate column{_hint(col, list(allowed))}; allowed "
                             f"for a {table_kind} observable: {', '.join(allowed)}", file=file,
                             key=key)
        vs = vs if isinstance(vs, list) else [vs]
        spec = schema[col]
        if not vs:
            raise InputError(f"empty list; expected one or more values, each {spec.allowed()} "
                             f"({spec.meaning})", file=file, key=key)
        for v in vs:
            bad = (not _number(v) or (spec.lo is not None and (v < spec.lo or
                                                               (spec.lo_open and v == spec.lo)))
                   or (spec.hi is not None and v > spec.hi))
            if bad:
                raise InputError(f"value {as_toml(v)} is not allowed; expected {spec.allowed()} "
                                 f"({spec.meaning})", file=file, key=key)
        if col in ("time_h", "exposure_h") and any(v == 0 for v in vs):
            raise InputError("a measurement at time 0 carries no information about rates; "
                             "expected values > 0 (h)", file=file, key=key)
        columns.append(col)
        values.append(tuple(float(v) for v in vs))
    required = list(_REQUIRED[table_kind])
    if table_kind == "viability" and exposure_default is None:
        required.append("exposure_h")
    for col in required:
        if col not in columns:
            extra = (" (or set [fit] exposure_h)" if col == "exposure_h" else "")
            raise InputError(f"missing candidate column {col!r}{extra}; a {table_kind} "
                             f"candidate needs {', '.join(required)}", file=file,
                             key=f"design.candidates.{col}")
    n = math.prod(len(v) for v in values)
    if n > MAX_CANDIDATES:
        raise InputError(f"the grid has {n} candidates (the product of the lists); at most "
                         f"{MAX_CANDIDATES} are allowed", file=file, key="design.candidates")
    sd = raw.get("sd_percent")
    if sd is not None and not (_number(sd) and sd > 0):
        raise InputError(f"value {as_toml(sd)} is not allowed; expected a number > 0 (the standard "
                         "deviation of one new measurement, percent)", file=file,
                         key="design.sd_percent")
    n_best = raw.get("n_best", DEFAULT_N_BEST)
    if not (isinstance(n_best, int) and not isinstance(n_best, bool) and n_best >= 1):
        raise InputError(f"value {as_toml(n_best)} is not allowed; expected an integer >= 1",
                         file=file, key="design.n_best")
    at_raw = raw.get("at", {})
    if not isinstance(at_raw, dict):
        raise InputError(f"value {as_toml(at_raw)} is not allowed; expected a table of parameter = "
                         "[values > 0]", file=file, key="design.at")
    at = []
    for name, vs in at_raw.items():
        vs = vs if isinstance(vs, list) else [vs]
        if not vs or not all(_number(v) and v > 0 for v in vs):
            raise InputError(f"value {as_toml(vs)} is not allowed; expected a non-empty list of "
                             "numbers > 0 (values of the parameter)", file=file,
                             key=f"design.at.{name}")
        at.append((name, tuple(float(v) for v in vs)))
    n_at = math.prod(len(v) for _, v in at)
    if n_at > MAX_AT_POINTS:
        raise InputError(f"{n_at} parameter points (the product of the lists); at most "
                         f"{MAX_AT_POINTS} are allowed", file=file, key="design.at")
    return DesignSettings(tuple(columns), tuple(values), None if sd is None else float(sd),
                          n_best, tuple(at))
