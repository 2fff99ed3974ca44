"""Data tables of the fitting contract: read, check, keep every column.

A table is a CSV file with one header row. The columns an observable needs are checked
(present, numeric, in range); every other column is kept as text, so provenance travels with
the rows into the fit report. Anything wrong raises `InputError` naming the file, the row
(1-based line number in the file), the column, the value and what is allowed (exit 2).

Release (`kind="release"`): `time_h, released_percent, pH` (+ optional `sd`, `dose_ug_per_ml`,
`relation`).
Viability (`kind="viability"`): `concentration_ug_per_ml, viability_percent` (+ optional
`exposure_h`, `sd`, `pH`, `ultrasound_W_per_cm2`, `light_mW_per_cm2`, `wash_h`, `stimulus_h`,
`relation`).

`relation` is one of `=`, `~` (a value: a data point), `<=`, `>=` (a reported bound: enters
the fit as a one-sided penalty, never as a point; see docs/fitting.md). Empty cells in an
optional numeric column mean "not stated" and are filled from the fit config (`exposure_h`,
`pH`, `dose_ug_per_ml`), but for a stimulus column's (`ultrasound_W_per_cm2`,
`light_mW_per_cm2`), where an empty cell is a row without that stimulus (amplitude 0: the
control rows of a with/without-stimulus table); the protocol columns (`wash_h`,
`stimulus_h`), where present, need a time on every row.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError
from ..config import ARRAY_SECTIONS, SECTIONS, as_toml

#: The longest simulated time (h), the bound of `time.end_h`: a table's times beyond it are
#: refused at their line rather than as the config key they would land in.
MAX_TIME_H = SECTIONS["time"]["end_h"].hi
#: Likewise the bounds of the config keys a table's doses and stimuli become.
MAX_DOSE_UG_PER_ML = SECTIONS["material"]["dose_ug_per_ml"].hi
MAX_ULTRASOUND_W_PER_CM2 = ARRAY_SECTIONS["ultrasound"]["intensity_W_per_cm2"].hi
MAX_LIGHT_MW_PER_CM2 = ARRAY_SECTIONS["light"]["irradiance_mW_per_cm2"].hi


@dataclasses.dataclass(frozen=True)
class Column:
    """A numeric column: allowed range (inclusive unless `lo_open`) and whether it must exist."""

    required: bool
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    meaning: str = ""

    def allowed(self) -> str:
        parts = []
        if self.lo is not None:
            parts.append(("> " if self.lo_open else ">= ") + f"{self.lo:g}")
        if self.hi is not None:
            parts.append(f"<= {self.hi:g}")
        return "a finite number" + (" " + " and ".join(parts) if parts else "")


RELATIONS = ("=", "~", "<=", ">=")

SCHEMAS: dict[str, dict[str, Column]] = {
    "release": {
        "time_h": Column(True, lo=0.0, hi=MAX_TIME_H,
                         meaning="time since the particles were added (h)"),
        "released_percent": Column(True, lo=-100.0, hi=200.0,
                                   meaning="percent of the material dissolved / cargo released"),
        "pH": Column(True, lo=0.0, hi=14.0, meaning="pH of the release medium"),
        "sd": Column(False, lo=0.0, lo_open=True, meaning="standard deviation (percent)"),
        "dose_ug_per_ml": Column(False, lo=0.0, lo_open=True, hi=MAX_DOSE_UG_PER_ML,
                                 meaning="particle mass concentration in the vial (ug/mL)"),
    },
    "viability": {
        "concentration_ug_per_ml": Column(True, lo=0.0, hi=MAX_DOSE_UG_PER_ML,
                                          meaning="particle mass concentration (ug/mL)"),
        "viability_percent": Column(True, lo=-100.0, hi=300.0,
                                    meaning="viability relative to untreated control (%)"),
        "exposure_h": Column(False, lo=0.0, lo_open=True, hi=MAX_TIME_H,
                             meaning="exposure time (h)"),
        "sd": Column(False, lo=0.0, lo_open=True, meaning="standard deviation (percent)"),
        "pH": Column(False, lo=0.0, hi=14.0, meaning="medium pH"),
        "ultrasound_W_per_cm2": Column(False, lo=0.0, hi=MAX_ULTRASOUND_W_PER_CM2,
                                       meaning="ultrasound intensity (W/cm^2)"),
        "light_mW_per_cm2": Column(False, lo=0.0, hi=MAX_LIGHT_MW_PER_CM2,
                                   meaning="light irradiance (mW/cm^2)"),
        "wash_h": Column(False, lo=0.0, hi=MAX_TIME_H,
                         meaning="time the medium was replaced by fresh, particle-free medium: "
                         "the end of the incubation (h)"),
        "stimulus_h": Column(False, lo=0.0, hi=MAX_TIME_H,
                             meaning="start of the row's stimulus exposures (h)"),
    },
}
# what each observable's table is called by
OBSERVED = {"release": "released_percent", "viability": "viability_percent"}


@dataclasses.dataclass(frozen=True)
class Table:
    """Rows of a checked data table.

    `numbers[col]` are float arrays (NaN where an optional cell is empty) for the schema's
    numeric columns present in the file; `text[col]` holds every column as read; `lines` are
    the rows' 1-based line numbers in the file (for messages and the report).
    """

    path: str
    kind: str
    header: tuple[str, ...]
    numbers: Mapping[str, np.ndarray]
    text: Mapping[str, tuple[str, ...]]
    lines: tuple[int, ...]
    relation: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def observed(self) -> np.ndarray:
        return self.numbers[OBSERVED[self.kind]]

    @property
    def is_point(self) -> np.ndarray:
        """Rows that are values (`=` or `~`), not bounds."""
        return np.array([r in ("=", "~") for r in self.relation], bool)

    def has(self, column: str) -> bool:
        return column in self.numbers and bool(np.any(np.isfinite(self.numbers[column])))

    def take(self, index: np.ndarray) -> Table:
        idx = np.asarray(index, int)
        return dataclasses.replace(
            self,
            numbers={k: v[idx] for k, v in self.numbers.items()},
            text={k: tuple(v[i] for i in idx) for k, v in self.text.items()},
            lines=tuple(self.lines[i] for i in idx),
            relation=tuple(self.relation[i] for i in idx))

    def row(self, i: int) -> dict[str, str]:
        return {k: v[i] for k, v in self.text.items()}


#: unit suffixes a column name may carry: a schema column's stem with another of these
#: (`exposure_min` for `exposure_h`, `concentration_uM`) is that column in other units
_UNIT_SUFFIXES = frozenset(u.lower() for u in (
    "h", "hr", "hrs", "hour", "hours", "min", "mins", "minute", "minutes", "s", "sec",
    "seconds", "d", "day", "days", "percent", "pct", "fraction", "frac", "uM", "mM", "nM", "M",
    "umol_per_l", "mmol_per_l", "ug_per_ml", "ug_per_l", "mg_per_ml", "mg_per_l", "ng_per_ml",
    "ug_ml", "mg_l", "ppm", "W_per_cm2", "mW_per_cm2", "W_per_m2", "mW_per_m2", "W_cm2",
    "mW_cm2", "J_per_cm2"))


def _stem_and_unit(name: str) -> tuple[str, str] | None:
    """('exposure', 'min') for 'exposure_min'; None where the name has no unit suffix."""
    parts = name.split("_")
    for k in range(1, len(parts)):
        unit = "_".join(parts[k:])
        if unit.lower() in _UNIT_SUFFIXES:
            return "_".join(parts[:k]).lower(), unit
    return None


#: a stimulus column's stem -> the exposure key's stem it is natural to write instead: the
#: config's [[light]] irradiance_mW_per_cm2 and [[ultrasound]] intensity_W_per_cm2 (a column
#: named so was kept as an extra column and not read, in silence)
_STEM_ALIASES = {"light": ("irradiance",), "ultrasound": ("intensity",)}


def other_unit_columns(header: tuple[str, ...], schema: Mapping[str, Column]
                       ) -> dict[str, str]:
    """Schema column missing from the header -> a header column that is it in other units
    (or under the config's exposure key, `irradiance_mW_per_cm2` for `light_mW_per_cm2`)."""
    out: dict[str, str] = {}
    for name in schema:
        if name in header:
            continue
        split = _stem_and_unit(name)  # None for a name without a unit (`sd`, `pH`)
        stem = split[0] if split else name.lower()
        stems = (stem, *_STEM_ALIASES.get(stem, ()))
        for h in header:
            other = _stem_and_unit(h)
            if h != name and (h.lower() == name.lower()
                              or (other is not None and other[0] in stems)):
                out[name] = h
                break
    return out


def other_unit_notes(table: Table, schema: Mapping[str, Column]) -> list[str]:
    """For each optional column the table lacks but holds in other units (`exposure_min` for
    `exposure_h`): it is kept as an extra column, as every extra column is, and the rows take
    the fit's default for the column, which the note says (the fit's data warnings)."""
    out = []
    for n, h in other_unit_columns(table.header, schema).items():
        split = _stem_and_unit(n)
        unit = _stem_and_unit(h)
        what = (f"is {n} spelt in another case (column names are case-sensitive)"
                if h.lower() == n.lower() else
                f"looks like {n} under the exposure's config key"
                + ("" if unit[1] == split[1] else f", in other units ({unit[1]} for "
                   f"{split[1]})")
                if split and unit and unit[0] != split[0] else
                f"looks like {n} in other units ({unit[1]} for {split[1]})"
                if split else f"looks like {n} with a unit in its name")
        to = f"convert the values to {split[1]} and " if split else ""
        out.append(f"column {h!r} of {table.path} {what}: it is kept as an extra column and "
                   f"not read, so every row takes the fit's default for {n}; if it is {n} "
                   f"({schema[n].meaning}), {to}name the column {n}")
    return out


def csv_float(cell: str) -> float:
    """A CSV cell as a number: what `float` reads, less Python's digit grouping ('1_0' is
    not 10 in a table: a typo, or a label)."""
    if "_" in cell:
        raise ValueError(cell)
    return float(cell)


def _matches(cell: str, wanted: Any) -> bool:
    options = wanted if isinstance(wanted, list) else [wanted]
    for w in options:
        if isinstance(w, bool):
            if cell.strip().lower() == str(w).lower():
                return True
        elif isinstance(w, int | float):
            try:
                if csv_float(cell) == float(w):
                    return True
            except ValueError:
                pass
        elif cell.strip() == str(w).strip():
            return True
    return False


def select_rows(table: Table, select: Mapping[str, Any] | None = None,
                exclude: Mapping[str, Any] | None = None, *, file: str | None = None) -> Table:
    """Keep rows whose columns match every `select` entry and no `exclude` entry.

    A value matches a cell as text, as a number (`group_id = [8, 10]`) or as a boolean
    (`doi_also_in_gul = true`); a list means any of its values.
    """
    keep = np.ones(len(table), bool)
    for what, spec, want in (("select", select or {}, True), ("exclude", exclude or {}, False)):
        for col, wanted in spec.items():
            if col not in table.text:
                raise InputError(f"column {col!r} is not in the data table {table.path}; "
                                 f"columns: {', '.join(table.header)}", file=file,
                                 key=f"fit.{what}.{col}")
            hit = np.array([_matches(c, wanted) for c in table.text[col]], bool)
            keep &= hit if want else ~hit
    if not keep.any():
        given = {w: dict(spec) for w, spec in (("select", select), ("exclude", exclude))
                 if spec}
        raise InputError(f"no row of {table.path} is left after "
                         f"{' and '.join(f'fit.{w} = {as_toml(v)}' for w, v in given.items())}; "
                         "allowed: a selection that keeps at least one row", file=file,
                         key=" / ".join(f"fit.{w}" for w in given) or "fit.select")
    return table.take(np.flatnonzero(keep))


def decode_utf8(raw: bytes, file: str) -> str:
    """The table's text: UTF-8, with or without a byte-order mark. Anything else (Latin-1 or
    Windows-1252 from a spreadsheet's "CSV" export, which writes µ as the byte 0xb5) is an
    InputError naming the line and the byte, not a guessed decoding that could misread it."""
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        line = body[:e.start].count(b"\n") + 1
        column = e.start - (body.rfind(b"\n", 0, e.start) + 1) + 1
        raise InputError(
            f"line {line}: byte 0x{body[e.start]:02x} (byte {column} of the line) is not "
            "UTF-8 text; the data table must be UTF-8 (a spreadsheet's plain \"CSV\" export "
            "may write Latin-1 or Windows-1252: re-save it as \"CSV UTF-8\", or convert it, "
            "e.g. iconv -f latin1 -t utf-8)", file=file) from None


_BOUND_SIGNS = {"<": "<=", "<=": "<=", "≤": "<=", ">": ">=", ">=": ">=", "≥": ">="}


def _bound_hint(cell: str, name: str, kind: str) -> str:
    """For a bound written into the observed cell ('<5', '>= 80'): how a table gives one."""
    if name != OBSERVED[kind]:
        return ""
    for sign in sorted(_BOUND_SIGNS, key=len, reverse=True):
        rest = cell[len(sign):].strip()
        if cell.startswith(sign) and rest:
            try:
                csv_float(rest)
            except ValueError:
                return ""
            return (f"; a reported bound is the number in {name} ({rest}) and "
                    f"{_BOUND_SIGNS[sign]} in a relation column (a one-sided residual in "
                    "the fit, not a data point)")
    return ""


def load_table(path: str | Path, kind: str) -> Table:
    """Read and check a release or viability table (see the module docstring)."""
    if kind not in SCHEMAS:
        raise InputError(f"unknown table kind {kind!r}; allowed: {', '.join(SCHEMAS)}")
    schema = SCHEMAS[kind]
    p = Path(path)
    file = str(p)
    if not p.is_file():
        raise InputError("data file not found (or not a file)", file=file)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the data table ({e.strerror})", file=file) from None
    text_utf8 = decode_utf8(raw, file)
    # each record's first line in the file, not its index + 1: a quoted cell may span lines
    # (a provenance statement pasted with its line breaks)
    rows: list[list[str]] = []
    first_line: list[int] = []
    # skipinitialspace: a hand-written `time_h, "released_percent"` (a space after the comma,
    # then a quoted cell) is the quoted name, not a name with its quotes in it
    reader = csv.reader(io.StringIO(text_utf8, newline=""), skipinitialspace=True)
    last_line = 0
    try:
        for r in reader:
            first_line.append(last_line + 1)
            rows.append(r)
            last_line = reader.line_num
    except csv.Error as e:
        raise InputError(f"cannot read the data table as CSV: {e}", file=file) from None
    # the header is the first record that is not blank: blank lines above it (or a row of
    # empty cells, as a spreadsheet exports an empty first row) are skipped like those
    # between the data rows, not taken for an empty header
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
        first_line.pop(0)
    if not rows:
        raise InputError("the data table is empty; expected a header row naming the columns "
                         + ", ".join(n for n, c in schema.items() if c.required), file=file)
    header = tuple(c.strip() for c in rows[0])
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise InputError(f"header has a repeated column name {name!r}; every column "
                             "needs a unique name", file=file)
        seen.add(name)
    missing = [n for n, c in schema.items() if c.required and n not in header]
    if missing:
        misunit = other_unit_columns(header, schema)  # a missing one in other units
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} in the "
            f"{kind} table; required: {', '.join(n for n, c in schema.items() if c.required)} "
            f"(optional: {', '.join(n for n, c in schema.items() if not c.required)}, "
            f"relation); found: {', '.join(h for h in header if h)}"
            + "".join(f" (column names are case-sensitive: {h!r} here is {n!r})"
                      for n in missing for h in header if h.lower() == n.lower())
            + "".join(f" ({misunit[n]!r} looks like {n} in other units: the table takes "
                      f"{n} in {_stem_and_unit(n)[1]}; convert the values and rename the "
                      "column)" if _stem_and_unit(n) else
                      f" ({misunit[n]!r} looks like {n} with a unit in its name: the table "
                      f"takes {n} ({schema[n].meaning}); rename the column)" for n in missing
                      if n in misunit and misunit[n].lower() != n.lower())
            + next((f" (one column: the table must be comma-separated, this header looks "
                    f"separated by {sep!r})" for sep in (";", "\t", "|")
                    if len(header) == 1 and sep in header[0]), ""),
            file=file, key=missing[0])
    body = [(line, r) for line, r in zip(first_line[1:], rows[1:], strict=True)
            if any(c.strip() for c in r)]
    if not body:
        raise InputError("the data table has a header but no data rows", file=file)
    for line, r in body:
        if len(r) != len(header):
            raise InputError(f"row at line {line} has {len(r)} fields but the header has "
                             f"{len(header)}", file=file)
    # a column without a name is ignored where it is empty in every row (a spreadsheet's
    # export writes a trailing comma on every line for a column once used); one with values
    # needs a name
    for k in (k for k, name in enumerate(header) if not name):
        filled = next(((line, r[k].strip()) for line, r in body if r[k].strip()), None)
        if filled is not None:
            after = f", after {header[k - 1]!r}," if k and header[k - 1] else ""
            raise InputError(f"column {k + 1} of the header{after} has no name but holds "
                             f"{filled[1]!r} at line {filled[0]}; every column with values "
                             "needs a unique name (an unnamed column empty in every row is "
                             "ignored)", file=file)
    named = [k for k, name in enumerate(header) if name]
    if len(named) < len(header):
        header = tuple(header[k] for k in named)
        body = [(line, [r[k] for k in named]) for line, r in body]
    text: dict[str, list[str]] = {n: [] for n in header}
    for _line, r in body:
        for n, cell in zip(header, r, strict=True):
            text[n].append(cell.strip())
    numbers: dict[str, np.ndarray] = {}
    for name, col in schema.items():
        if name not in header:
            continue
        values = np.empty(len(body))
        for j, (cell, (line, _)) in enumerate(zip(text[name], body, strict=True)):
            if cell == "":
                if col.required:
                    raise InputError(f"empty value at line {line}; expected {col.allowed()} "
                                     f"({col.meaning})", file=file, key=name)
                values[j] = math.nan
                continue
            try:
                v = csv_float(cell)
            except ValueError:
                raise InputError(f"non-numeric value {cell!r} at line {line}; expected "
                                 f"{col.allowed()} ({col.meaning})"
                                 + _bound_hint(cell, name, kind), file=file,
                                 key=name) from None
            bad = (not math.isfinite(v) or (col.lo is not None and v < col.lo)
                   or (col.lo is not None and col.lo_open and v == col.lo)
                   or (col.hi is not None and v > col.hi))
            if bad:
                what = "negative " if col.lo == 0.0 and v < 0 else ""
                raise InputError(f"{what}value {cell} at line {line} is not allowed; expected "
                                 f"{col.allowed()} ({col.meaning})", file=file, key=name)
            values[j] = v
        numbers[name] = values
    if "relation" in header:
        relation = []
        for cell, (line, _) in zip(text["relation"], body, strict=True):
            r = cell or "="
            if r not in RELATIONS:
                raise InputError(f"relation {cell!r} at line {line} is not allowed; expected "
                                 f"one of {', '.join(RELATIONS)} (empty means '=')", file=file,
                                 key="relation")
            relation.append(r)
    else:
        relation = ["="] * len(body)
    return Table(path=file, kind=kind, header=header, numbers=numbers,
                 text={k: tuple(v) for k, v in text.items()},
                 lines=tuple(line for line, _ in body), relation=tuple(relation))


def shipped_path(name: str) -> Path:
    """Path of a table shipped in `zn_pde/data`."""
    from importlib import resources

    return Path(str(resources.files("zn_pde.data").joinpath(name)))


def shipped_tables() -> list[str]:
    """The CSV tables shipped in `zn_pde/data`, by name (`shipped:<name>` in a fit config)."""
    return sorted(p.name for p in shipped_path("").glob("*.csv"))
