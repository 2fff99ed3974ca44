"""What every observable shares: a base simulation, per-row conditions, a read-out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from jaxtyping import Array

from .._errors import InputError
from .._model import Model, State
from ._data import Table
from ._prediction import Prediction, build_prediction, deep_merge, group_conditions


@dataclasses.dataclass(frozen=True)
class Observable:
    """A measured quantity predicted by simulating each row's experiment.

    `base_config` is the raw simulation config of the experiment (merged under the fit
    config's `[fit.simulation]`); `standard_free` the kinetic constants fitted when the fit
    config names none; `observe(model, state)` the read-out at a saved frame.
    """

    name: str
    table_kind: str
    description: str
    unit: str
    standard_free: tuple[str, ...]
    base_config: dict[str, Any]
    observe: Callable[[Model, State], Array]
    batch: str = "vmap"
    default_profile: bool = True
    min_frames: int = 0  # refine the saved frames for smooth model lines over time

    def simulation_base(self, material: str, simulation: dict[str, Any]) -> dict[str, Any]:
        base = deep_merge(self.base_config, {"material": {"kind": material}})
        return deep_merge(base, simulation)

    def row_conditions(self, table: Table, settings: dict[str, Any], simulation: dict[str, Any],
                       file: str) -> tuple[list[dict[str, Any]], np.ndarray]:
        """Per row: the config fragment that makes its experiment, and its time (h)."""
        raise NotImplementedError

    def check_rows(self, table: Table, settings: dict[str, Any], simulation: dict[str, Any],
                   file: str) -> None:
        """InputError for a data row the simulation cannot represent as measured (checked on
        the fit's data, not on a design's candidates or a figure's dense rows)."""

    def prediction(self, table: Table, free: Sequence[str], *, material: str,
                   simulation: dict[str, Any], settings: dict[str, Any],
                   file: str = "<fit config>") -> Prediction:
        base = self.simulation_base(material, simulation)
        per_row, times = self.row_conditions(table, settings, simulation, file)
        unique, index = group_conditions(per_row)
        return build_prediction(base, unique, index, times, free, self.observe,
                                self.batch, file=file, min_frames=self.min_frames)

    def curves(self, table: Table, settings: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
        """Rows grouped into curves (label, row indices): the unit of the empirical fits."""
        raise NotImplementedError


#: stimulus section -> the data column that sets its template exposures' amplitude, and
#: that amplitude's config key
STIMULUS_COLUMNS = {"ultrasound": ("ultrasound_W_per_cm2", "intensity_W_per_cm2"),
                    "light": ("light_mW_per_cm2", "irradiance_mW_per_cm2")}


def stimulus_fragment(table: Table, i: int, simulation: dict[str, Any], file: str
                      ) -> dict[str, Any]:
    """Row i's stimulus: the amplitude of every template exposure in `[fit.simulation]`."""
    out: dict[str, Any] = {}
    for section, (column, key) in STIMULUS_COLUMNS.items():
        if column not in table.numbers:
            continue
        value = table.numbers[column][i]
        value = 0.0 if not np.isfinite(value) else float(value)
        templates = simulation.get(section, [])
        if isinstance(templates, dict):
            templates = [templates]
        if not templates:
            if value > 0:
                raise InputError(
                    f"the data table has {column} = {value:g} at line {table.lines[i]} but "
                    f"the fit config gives no [[fit.simulation.{section}]] exposure saying "
                    "when and how long it was applied; add one (its amplitude is replaced by "
                    "each row's value)", file=file, key=f"fit.simulation.{section}")
            continue
        out[section] = [dict(t, **{key: value}) for t in templates]
    return out


def curves_by(table: Table, columns: Sequence[str], label: Callable[[dict[str, str]], str]
              ) -> list[tuple[str, np.ndarray]]:
    keys: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(table)):
        k = tuple(table.text[c][i] if c in table.text else "" for c in columns)
        keys.setdefault(k, []).append(i)
    return [(label(table.row(idx[0])), np.asarray(idx)) for idx in keys.values()]
