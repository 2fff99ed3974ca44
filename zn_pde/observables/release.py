"""`release`: percent of the material dissolved in a cell-free, well-mixed vial.

Each row is a vial at the row's pH holding `dose_ug_per_ml` of particles (the row's
`dose_ug_per_ml` column, else `[fit] dose_ug_per_ml`, else 20 ug/mL) and is read at `time_h`:

    released = 100 (1 − (np + φ np_int) / dose)        (%, the material dissolved)
    released = 100 cargo / (f_cargo dose)                (%, a carrier's cargo, e.g. ZIF-8)

with the particles dissolving by the same `_kinetics.react` that `zn-pde run` uses (ZnO:
k(pH) = k₇.₄ 10^{n (7.4 − pH)}, limited by the solubility K[H⁺]²; ZIF-8: the acid switch).
All pH values of the table share one parameter set: the pH law must explain them together.

Standard free set: those of `dissolution_rate_per_h`, `dissolution_proton_order` and
`dissolution_switch_rate_per_h` that are non-zero for the material (ZnO: the first two;
ZIF-8: the first and the switch).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._model import Model, State
from ._base import Observable, curves_by
from ._data import Table

DEFAULT_DOSE_UG_PER_ML = 20.0


def released_percent(model: Model, state: State) -> Array:
    f = model.fields(state)
    if "cargo" in f:  # a carrier: the cargo released, of the cargo loaded
        loaded = model.kinetics.cargo_mass_fraction * model.dose_ug_per_ml
        return 100.0 * jnp.mean(f["cargo"]) / loaded
    # particle mass per voxel (fluid α np + cells φ np_int) of the mass added, α dose
    remaining = jnp.mean(model.particle_mass(f))
    return 100.0 * (1.0 - remaining / (jnp.mean(model.fluid_fraction) * model.dose_ug_per_ml))


class Release(Observable):
    def row_conditions(self, table: Table, settings: dict[str, Any],
                       simulation: dict[str, Any], file: str
                       ) -> tuple[list[dict[str, Any]], np.ndarray]:
        dose_default = settings.get("dose_ug_per_ml") or DEFAULT_DOSE_UG_PER_ML
        doses = table.numbers.get("dose_ug_per_ml", np.full(len(table), np.nan))
        conds = []
        for i in range(len(table)):
            dose = float(doses[i]) if np.isfinite(doses[i]) else float(dose_default)
            conds.append({"material": {"dose_ug_per_ml": dose},
                          "ph": {"medium": float(table.numbers["pH"][i])}})
        return conds, np.asarray(table.numbers["time_h"], float)

    def curves(self, table: Table, settings: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
        """By `curve_by` columns if given, else by vial: pH and dose (a row without a dose
        is in the vial of the default dose)."""
        if settings.get("curve_by"):
            cols = settings["curve_by"]

            def label(row: dict[str, str]) -> str:
                return ", ".join(f"{c} {row[c]}" for c in cols if row.get(c, "") != "")

            return curves_by(table, cols, label)
        conds, _ = self.row_conditions(table, settings, {}, "<curves>")
        keys = [(c["ph"]["medium"], c["material"]["dose_ug_per_ml"]) for c in conds]
        several = len({k[1] for k in keys}) > 1
        out: dict[tuple[float, float], list[int]] = {}
        for i, k in enumerate(keys):
            out.setdefault(k, []).append(i)
        return [(f"pH {p:g}" + (f", {d:g} ug/mL" if several else ""), np.asarray(idx))
                for (p, d), idx in out.items()]


RELEASE = Release(
    name="release",
    table_kind="release",
    description="percent of the material dissolved in a cell-free well-mixed vial",
    unit="%",
    standard_free=("dissolution_rate_per_h", "dissolution_proton_order",
                   "dissolution_switch_rate_per_h"),
    base_config={
        "grid": {"kind": "well_mixed"},
        "geometry": {"kind": "medium"},
        # the vial has no cells, so the only process is dissolution, integrated exactly over
        # a step; 300 s keeps the config's splitting-accuracy check satisfied up to a
        # lysosomal-pH dissolution rate of 6/h
        "time": {"dt_s": 300.0},
        "numerics": {"precision": "float64"},
        "material": {"dose_ug_per_ml": DEFAULT_DOSE_UG_PER_ML},
    },
    observe=released_percent,
    min_frames=100,
)
