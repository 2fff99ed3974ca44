"""`viability` (a well-mixed culture) and `spheroid_viability` (a 3D spheroid, full PDE).

Each row is a culture given `concentration_ug_per_ml` of particles at t = 0 (and, if the
table has stimulus columns, the row's ultrasound intensity / light irradiance applied as the
fit config's template exposures say), read at `exposure_h` (else `[fit] exposure_h`). A row
may also carry its protocol: `wash_h` (the medium is replaced by fresh, particle-free medium
then: the end of the incubation) and `stimulus_h` (the template exposures start then), so
SDT/PDT experiments are fitted as they were done (incubate, wash, stimulate, read out):

    viability = 100 Σ φ v V / Σ φ v   (%),

the cell-volume-weighted mean fraction of cells alive, v the volume of each cell of the grid
(the tissue mean for a spheroid: uniform voxels on a 3D grid, shell volumes on a radial one,
as the run's summary weighs them). Every
exposure time of the table shares one parameter set, so the model must explain dose and time
together. The kinetics are `_kinetics.react`, as in `zn-pde run`.

Standard free set: `uptake_rate_per_h` (the dose scale: internalised particles dissolve in
lysosomes and load the cells with zinc), `energy_kill_max_per_h` (the time scale of death) and
`energy_kill_hill` (the steepness). `energy_kill_half_atp` (and the Zn²⁺ inhibition constant
behind it) is held at its table value: at steady uptake the free intracellular zinc is
proportional to uptake × dose, so uptake and the zinc at half-maximal death trade off in these
data and only their ratio is identifiable (docs/fitting.md).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._errors import InputError
from .._model import Model, State
from ._base import STIMULUS_COLUMNS, Observable, curves_by, stimulus_fragment
from ._data import Table

DEFAULT_CELL_VOLUME_FRACTION = 0.002
#: Read-out (h) of viability rows with neither an `exposure_h` column value nor `[fit]
#: exposure_h`: 24 h, the most common read-out (148 of the 310 rows of the shipped
#: compilation, zn_pde/data/zno_viability_compiled.csv). The fit warns when it is used.
DEFAULT_EXPOSURE_H = 24.0


def viability_percent(model: Model, state: State) -> Array:
    f = model.fields(state)
    # cell volume per cell of the grid: a radial grid's shells differ in volume (~r²), so
    # φ alone would weigh the core's few cells as much as the rim's many
    cells = model.cell_fraction * model.volume_um3
    return 100.0 * jnp.sum(cells * f["viability"]) / jnp.sum(cells)


class Viability(Observable):
    def row_conditions(self, table: Table, settings: dict[str, Any],
                       simulation: dict[str, Any], file: str
                       ) -> tuple[list[dict[str, Any]], np.ndarray]:
        n = len(table)
        exposure = table.numbers.get("exposure_h", np.full(n, np.nan)).copy()
        missing = ~np.isfinite(exposure)
        if missing.any():
            default = settings.get("exposure_h")
            exposure[missing] = DEFAULT_EXPOSURE_H if default is None else default
        ph = table.numbers.get("pH", np.full(n, np.nan))
        wash = _protocol_column(table, "wash_h", exposure)
        stimulus_at = _protocol_column(table, "stimulus_h", exposure)
        conds = []
        for i in range(n):
            c: dict[str, Any] = {"material": {
                "dose_ug_per_ml": float(table.numbers["concentration_ug_per_ml"][i])}}
            if np.isfinite(ph[i]):
                c["ph"] = {"medium": float(ph[i])}
            c.update(stimulus_fragment(table, i, simulation, file))
            if wash is not None:  # incubation ends: fresh, particle-free medium, after
                # (or before) any exchange common to every row ([[fit.simulation...]])
                c["medium_exchange"] = sorted(
                    [*simulation.get("medium_exchange", []), {"time_h": float(wash[i])}],
                    key=lambda e: e["time_h"])
            if stimulus_at is not None:  # the template exposures start at the row's time
                for section in ("ultrasound", "light"):
                    templates = c.get(section, simulation.get(section, []))
                    if isinstance(templates, dict):
                        templates = [templates]
                    if templates:
                        c[section] = [dict(t, start_h=float(stimulus_at[i])) for t in templates]
            conds.append(c)
        if stimulus_at is not None and not any("ultrasound" in c or "light" in c
                                               for c in conds):
            raise InputError("the table says when its exposures start, but the fit has no "
                             "exposure to start then: add an ultrasound_W_per_cm2 or "
                             "light_mW_per_cm2 column, or [fit.simulation.ultrasound] / "
                             "[fit.simulation.light], or drop the column",
                             file=str(table.path), key="stimulus_h")
        return conds, exposure

    def check_rows(self, table: Table, settings: dict[str, Any], simulation: dict[str, Any],
                   file: str) -> None:
        conds, exposure = self.row_conditions(table, settings, simulation, file)
        for i, c in enumerate(conds):
            _check_stimulus_before_read_out(table, i, c, float(exposure[i]))

    def curves(self, table: Table, settings: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
        # without group_id: one curve per read-out time, pH, stimulus and protocol (a wash
        # or a stimulus at another time is another experiment, not more points of one)
        cols = settings.get("curve_by") or (
            ["group_id"] if "group_id" in table.text else
            [c for c in ("exposure_h", "pH", "ultrasound_W_per_cm2", "light_mW_per_cm2",
                         "wash_h", "stimulus_h") if c in table.text])
        default_t = settings.get("exposure_h") or DEFAULT_EXPOSURE_H

        def label(row: dict[str, str]) -> str:
            t = row.get("exposure_h") or f"{default_t:g}"
            parts = [f"{t} h"]
            for c in cols:
                if c != "exposure_h" and row.get(c, "") != "":
                    parts.append(f"{c} {row[c]}")
            return ", ".join(parts)

        return curves_by(table, cols, label)


def _check_stimulus_before_read_out(table: Table, i: int, cond: dict[str, Any],
                                    read_out_h: float) -> None:
    """Row i's stimulus (a column's amplitude > 0) must start before the row is read out:
    the rows are read at their own exposure_h in one run to the latest read-out, so a row
    read before the template exposures start was fitted as unstimulated while the table
    says it was stimulated (a row's own stimulus_h is checked by `_protocol_column`)."""
    for section, (column, key) in STIMULUS_COLUMNS.items():
        exposures = cond.get(section)
        if column not in table.numbers or not exposures:
            continue
        starts = [e.get("start_h") for e in exposures]
        if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in starts):
            continue  # resolve names a template's missing or bad start_h
        value, start = float(exposures[0][key]), float(min(starts))
        if value > 0 and start >= read_out_h:
            raise InputError(f"the row at line {table.lines[i]} has {column} = {value:g}, but "
                             f"its {section} exposure starts at {start:g} h ([[fit.simulation."
                             f"{section}]] start_h), at or after the row's read-out at "
                             f"exposure_h = {read_out_h:g} h, so the stimulus would not act on "
                             "it; allowed: an exposure that starts before the read-out (a "
                             f"stimulus_h column gives each row its own start), or {column} "
                             "= 0 for a row read before it", file=str(table.path), key=column)


def _protocol_column(table: Table, column: str, exposure_h: np.ndarray
                     ) -> np.ndarray | None:
    """A per-row protocol time (h): absent, or given on every row (the rows' simulations
    must share one structure: an exchange in some rows only would not), before the row's
    read-out at `exposure_h`."""
    if column not in table.numbers:
        return None
    values = np.asarray(table.numbers[column], float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        line = table.lines[int(np.flatnonzero(bad)[0])]
        value = float(values[bad][0])
        shown = "empty or not a number" if np.isnan(value) else f"{value:g}"
        raise InputError(f"the row at line {line} has no valid {column} ({shown}); give "
                         "every row a time >= 0 in hours, or drop the column",
                         file=str(table.path), key=column)
    late = values >= exposure_h
    if late.any():
        i = int(np.flatnonzero(late)[0])
        raise InputError(f"{column} = {values[i]:g} at line {table.lines[i]} is not before "
                         f"the row's read-out at exposure_h = {exposure_h[i]:g} h; allowed: "
                         f"0 <= {column} < exposure_h", file=str(table.path), key=column)
    return values


VIABILITY_FREE = ("uptake_rate_per_h", "energy_kill_max_per_h", "energy_kill_hill")

VIABILITY = Viability(
    name="viability",
    table_kind="viability",
    description="percent of cells alive in a well-mixed culture",
    unit="%",
    standard_free=VIABILITY_FREE,
    base_config={
        "grid": {"kind": "well_mixed"},
        "geometry": {"kind": "uniform",
                     # assumed: ~1e5 cells of ~2 pL in 0.1 mL of medium (a 96-well plate)
                     "cell_volume_fraction": DEFAULT_CELL_VOLUME_FRACTION},
        "time": {"dt_s": 60.0},
        "numerics": {"precision": "float64"},
    },
    observe=viability_percent,
)

SPHEROID_VIABILITY = Viability(
    name="spheroid_viability",
    table_kind="viability",
    description="tissue-mean percent of cells alive in a 3D spheroid (reaction-diffusion)",
    unit="%",
    standard_free=VIABILITY_FREE,
    base_config={
        "grid": {"kind": "cartesian", "shape": [32, 32, 32], "spacing_um": 20.0},
        "geometry": {"kind": "spheroid", "radius_um": 250.0},
        "time": {"dt_s": 300.0},
        "numerics": {"precision": "float32"},
    },
    observe=viability_percent,
    batch="map",
    default_profile=False,
)
