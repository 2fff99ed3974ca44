"""What the data of a fit cannot say: warnings printed on stderr and listed in `<name>.json`.

A fit still runs when these hold (the data may be right), but its numbers need reading with
them in mind:

- a release table at a single pH while a parameter of the pH law is free: the dissolution
  rate k(pH) = k(7.4) 10^(n (7.4 - pH)) + k_switch / (1 + 10^(s (pH - pH_switch))) is then
  known at that pH only, so its parts (the neutral rate, the proton order, the acid switch)
  trade off against each other and the fitted pH dependence is not measured;
- an observed percent column (`released_percent`, `viability_percent`) whose values all lie
  where fractions do (release: [0, 1], what a fraction released cannot exceed; viability:
  [0, 1.5], a fraction of the control exceeds 1 where cells outgrow it), each row allowed
  2 of its `sd` beyond: that looks like fractions (0.5 for 50 %), which the fit would read
  as percent. A genuine percent curve can be that small too (the shipped ZnO table's
  ICP-AES point is 1.12 % at 24 h; a slow release tops out below 1 %), which the values
  alone cannot tell apart: a `unit` column saying `%` on every row settles it (no warning),
  and one saying `fraction` makes the warning say so;
- values no measurement noise explains: a released share below -10 % or above 110 %, a
  viability below -10 % (the table's hard limits, -100 to 200 and 300 %, only catch typos of
  sign or scale; 10 % points is an assumed allowance for noise, about twice the largest
  excursion in the shipped tables: viabilities down to -3.6 %, releases to 100 %);
- a row that repeats an earlier one in every column: pasted twice, it counts twice (double
  weight, narrower intervals); a replicate measured separately may match by rounding, so
  the fit keeps both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..observables._data import OBSERVED, SCHEMAS, other_unit_notes
from ..observables.viability import DEFAULT_EXPOSURE_H
from ._problem import Problem

PH_LAW = ("dissolution_proton_order", "dissolution_switch_rate_per_h", "dissolution_switch_ph",
          "dissolution_switch_steepness_per_ph")
#: column -> the largest value a fraction takes there: every value at most this (and >= 0)
#: looks like fractions read as percent. Release: 1, all of the material or cargo, which a
#: fraction released cannot exceed (it was 1.5 for both, so a genuine 1.12 % release point
#: warned). Viability: 1.5, as before; a fraction of the untreated control exceeds 1
#: where cells outgrow it (the shipped compilation's largest viability is 110.4 %, 1.104),
#: and a viability column all below 1.5 % is not a plausible dose-response read as percent.
FRACTION_MAX = {"released_percent": 1.0, "viability_percent": 1.5}
#: a row with an `sd` may lie this many of its sd beyond [0, FRACTION_MAX] and still look
#: like a fraction (assumed: ~95 % of normal noise lies within 2 sd)
FRACTION_NOISE_SD = 2.0
#: what a `unit` column's cell says (case and surrounding spaces ignored)
PERCENT_WORDS = frozenset({"%", "percent", "pct", "per cent"})
FRACTION_WORDS = frozenset({"fraction", "fractions", "frac"})


def single_ph_warning(problem: Problem) -> tuple[str, tuple[str, ...]] | None:
    """(message, pH-law parameters concerned) when a release table has one pH value."""
    if problem.cfg.observable.table_kind != "release":
        return None
    free = tuple(n for n in problem.free.names if n in PH_LAW)
    if not free:
        return None
    ph = problem.table.numbers["pH"]
    values = np.unique(np.round(ph[np.isfinite(ph)], 6))
    if values.size != 1:
        return None
    return (f"the release data have a single pH ({values[0]:g}) but the pH law's "
            f"{', '.join(free)} {'is' if len(free) == 1 else 'are'} free: one pH fixes the "
            "dissolution rate at that pH only, so the parts of the pH law (neutral rate "
            "dissolution_rate_per_h, proton order, acid switch) cannot be separated and the "
            "fitted values (and any narrow interval on them) say nothing about other pH; "
            "add data at a second pH, or fix these parameters ([fit.parameters.<name>] "
            "fixed = true)", free)


def _unit_cells(problem: Problem, column: str) -> tuple[str, ...] | None:
    """The cells of the table's column that states the observed values' unit: `unit`,
    `units`, or the observed column's name (or its stem) + `_unit` / `_units`, any case;
    None without one."""
    stem = column.rsplit("_", 1)[0]
    names = {"unit", "units"} | {f"{c}_{u}" for c in (column, stem) for u in ("unit", "units")}
    for h in problem.table.header:
        if h.lower() in names:
            return tuple(c.strip().lower() for c in problem.table.text[h])
    return None


def fraction_warning(problem: Problem) -> str | None:
    """A percent column whose every value lies where fractions do (`FRACTION_MAX`), unless
    a unit column says percent on every row; None where nothing looks wrong."""
    column = OBSERVED[problem.table.kind]
    top = FRACTION_MAX[column]
    y = np.asarray(problem.table.numbers[column], float)
    sd = problem.table.numbers.get("sd", np.full(y.shape, np.nan))
    allow = FRACTION_NOISE_SD * np.where(np.isfinite(sd), sd, 0.0)
    keep = np.isfinite(y)
    y, allow = y[keep], allow[keep]
    if y.size == 0 or not (np.all(y >= -allow) and np.all(y <= top + allow)):
        return None
    if y.max() <= 0.0:  # all zero: the same in percent and as fractions, nothing to say
        return None
    units = _unit_cells(problem, column)
    if units is not None and all(u in PERCENT_WORDS for u in units):
        return None  # the table says percent on every row: a small curve, not fractions
    declared = units is not None and any(u in FRACTION_WORDS for u in units)
    where = f"[0, {top:g}]" + (" (within 2 sd)" if np.any(allow > 0) else "")
    return (f"every value of {column} in {problem.table.path} lies in {where} "
            f"(largest {y.max():g}): "
            + ("the table's unit column says fraction" if declared else
               "the column looks like fractions")
            + f", but it is read as percent ({y.max():g} means {y.max():g} %, not "
            f"{100 * y.max():g} %); if these are fractions, multiply them by 100; if they "
            "are percent (a small curve), add a column `unit` holding % on every row to "
            "say so")


def unit_warning(problem: Problem) -> str | None:
    """A unit column (`_unit_cells`) whose cells say something other than percent, where
    `fraction_warning` does not already speak: a unit that is neither percent nor fraction
    (e.g. ug/mL), or fraction on values a fraction cannot take; the column is read as
    percent either way, so the table contradicts itself. None where nothing does."""
    column = OBSERVED[problem.table.kind]
    units = _unit_cells(problem, column)
    if units is None or fraction_warning(problem) is not None:
        return None
    other = sorted({u for u in units if u not in PERCENT_WORDS | FRACTION_WORDS})
    said = (f"says {', '.join(repr(u) for u in other)}" if other else
            "says fraction" if any(u in FRACTION_WORDS for u in units) else None)
    if said is None:
        return None
    y = np.asarray(problem.table.numbers[column], float)
    return (f"the unit column of {problem.table.path} {said}, but {column} is read as "
            f"percent (largest {np.nanmax(y):g} %): give the values in percent and the "
            "unit as % (or leave the column out)")


def exposure_warning(problem: Problem) -> str | None:
    """Viability rows read at the default read-out: no `exposure_h` in the row or in [fit]."""
    if problem.table.kind != "viability" or problem.cfg.exposure_h is not None:
        return None
    t = problem.table.numbers.get("exposure_h", np.full(len(problem.table), np.nan))
    n = int(np.sum(~np.isfinite(np.asarray(t, float))))
    if n == 0:
        return None
    return (f"{n} of the {len(problem.table)} rows of {problem.table.path} have no "
            f"exposure_h and [fit] sets none: read at {DEFAULT_EXPOSURE_H:g} h, the default "
            "(the most common read-out of the shipped viability compilation); set [fit] "
            "exposure_h or add the column if the assay read out at another time")


#: column -> the band (percent) beyond which a value is more than measurement noise
PLAUSIBLE = {"released_percent": (-10.0, 110.0), "viability_percent": (-10.0, np.inf)}


def implausible_warning(problem: Problem) -> str | None:
    column = OBSERVED[problem.table.kind]
    lo, hi = PLAUSIBLE[column]
    y = np.asarray(problem.table.numbers[column], float)
    bad = [(line, v) for line, v in zip(problem.table.lines, y, strict=True)
           if np.isfinite(v) and not lo <= v <= hi]
    if not bad:
        return None
    where = ", ".join(f"line {line}: {v:g}" for line, v in bad[:5]) + (
        f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    band = f"[{lo:g}, {hi:g}]" if np.isfinite(hi) else f">= {lo:g}"
    return (f"{column} in {problem.table.path} has values no measurement noise explains "
            f"({where}; expected {band} %): check the column's sign and scale; the fit "
            "treats them as data")


def duplicate_warning(problem: Problem) -> str | None:
    """Rows equal in every column (as written) to an earlier row, named by line."""
    table = problem.table
    first: dict[tuple[str, ...], int] = {}
    repeats = []
    for i, line in enumerate(table.lines):
        row = tuple(table.text[c][i] for c in table.header)
        if row in first:
            repeats.append(f"line {line} repeats line {first[row]}")
        else:
            first[row] = line
    if not repeats:
        return None
    where = ", ".join(repeats[:5]) + (f" and {len(repeats) - 5} more" if len(repeats) > 5
                                      else "")
    return (f"{table.path} has rows equal in every column ({where}): a row pasted twice "
            "counts twice (double weight, narrower intervals); delete the copy unless "
            "these are separate measurements")


def data_warnings(problem: Problem) -> tuple[list[str], dict[str, str]]:
    """The fit's warnings, and a short warning for each parameter one of them concerns."""
    warnings: list[str] = []
    per_parameter: dict[str, Any] = {}
    ph = single_ph_warning(problem)
    if ph is not None:
        warnings.append(ph[0])
        for n in ph[1] + ("dissolution_rate_per_h",):
            if n in problem.free.names:
                per_parameter[n] = ("the data have a single pH: this parameter trades off "
                                    "against the other parts of the pH law (see warnings)")
    for check in (fraction_warning, unit_warning, implausible_warning, exposure_warning,
                  duplicate_warning):
        found = check(problem)
        if found is not None:
            warnings.append(found)
    warnings += other_unit_notes(problem.table, SCHEMAS[problem.table.kind])
    return warnings, per_parameter
