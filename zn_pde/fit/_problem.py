"""A fit problem: the selected table, the free parameters and the weighted residuals.

    r_i = (ŷ_i(p) − y_i) / s_i                  rows reported as a value (`=`, `~`)
    r_i = max(ŷ_i(p) − y_i, 0) / s_i            rows reported as an upper bound (`<=`)
    r_i = max(y_i − ŷ_i(p), 0) / s_i            rows reported as a lower bound (`>=`)

with s_i the row's `sd` when the table gives one for every row, else 1 (the residual scale
σ is then estimated from the fit). A bound costs nothing while it holds and pulls like a
data point when it is violated; bounds are not counted as data in the metrics.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._errors import InputError
from ..config import lookup
from ..observables import Prediction, Table, load_table, select_rows
from ._config import FitConfig
from ._parameters import FreeSet, free_set

#: the data column a fit's run ends at (its latest value), by table kind
_READ_OUT = {"release": "the largest time_h", "viability": "the largest exposure_h"}


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    cfg: FitConfig
    table: Table
    free: FreeSet
    simulation: dict[str, Any]
    prediction: Prediction
    y: np.ndarray
    sd: np.ndarray
    weighted: bool  # True when the table's sd column scales the residuals
    kind: np.ndarray  # per row: 0 value, 1 upper bound (<=), 2 lower bound (>=)

    @property
    def n_points(self) -> int:
        return int(np.sum(self.kind == 0))

    def predict(self, x: Array) -> Array:
        return self.prediction(x)

    def residuals(self, x: Array) -> Array:
        pred = self.prediction(x)
        dtype = pred.dtype
        d = pred - jnp.asarray(self.y, dtype)
        kind = jnp.asarray(self.kind)
        r = jnp.where(kind == 0, d, jnp.where(kind == 1, jnp.maximum(d, 0.0),
                                              jnp.maximum(-d, 0.0)))
        return r / jnp.asarray(self.sd, dtype)

    def misfit_from(self, pred: np.ndarray) -> np.ndarray:
        """What the fit weighs of each row, in data units and signed, from predictions (host
        side, numpy; rows on the last axis): predicted − observed for a value; for a bound
        the hinge, 0 while it holds and the signed violation when not (`<=`: the excess
        above it; `>=`: the shortfall below it, negative)."""
        d = np.asarray(pred, float) - self.y
        return np.where(self.kind == 0, d, np.where(self.kind == 1, np.maximum(d, 0.0),
                                                     np.minimum(d, 0.0)))

    def residuals_from(self, pred: np.ndarray) -> np.ndarray:
        """The same residuals from predictions (host side, numpy; rows on the last axis):
        `misfit_from` with a `>=` bound's shortfall counted positive, over sd."""
        m = self.misfit_from(pred)
        return np.where(self.kind == 2, np.abs(m), m) / self.sd

    def jacobian_from(self, pred: np.ndarray, dpred: np.ndarray) -> np.ndarray:
        """∂r/∂ln p from predictions (..., rows) and their derivatives (..., rows, p)."""
        d = np.asarray(pred, float) - self.y
        active = np.where(self.kind == 0, 1.0, np.where(self.kind == 1, (d > 0) * 1.0,
                                                         -1.0 * (d < 0)))
        return dpred * (active / self.sd)[..., None]

    def pinned(self, r: np.ndarray, jac: np.ndarray) -> int:
        """The value rows that are the data's normalisation, not a measurement with noise: an
        untreated control (no particles, a viability table) or the start (0 h, a release
        table), which the model predicts exactly whatever the parameters (a Jacobian row of
        zeros, below 1e-10 of the largest entry) and the table reports so (a residual at
        round-off, ≤ 1e-6 in data units over sd). It informs neither the parameters nor the
        residual scale, so it leaves the residual degrees of freedom (`gauss_newton`,
        `metrics`), which counting it overstated (a 4-row viability table with its control
        and 3 free parameters fitted exactly and reported 95 % intervals of zero width). A
        measurement the model matches at a saturated prediction (a release complete at pH
        4.7 in 1 h) is no normalisation and counts."""
        r, jac = np.asarray(r, float), np.asarray(jac, float)
        scale = float(np.max(np.abs(jac))) if jac.size else 0.0
        flat = np.all(np.abs(jac) <= 1e-10 * scale, axis=-1)
        column = {"viability": "concentration_ug_per_ml", "release": "time_h"}.get(
            self.table.kind)
        start = (np.asarray(self.table.numbers[column], float) == 0.0
                 if column in self.table.numbers else np.zeros(len(self.kind), bool))
        return int(np.sum((self.kind == 0) & start & flat & (np.abs(r) <= 1e-6)))

    def loss(self, x: Array) -> Array:
        r = self.residuals(x)
        return 0.5 * jnp.sum(r * r)


def load_problem_table(cfg: FitConfig) -> Table:
    table = load_table(cfg.data, cfg.observable.table_kind)
    for col in cfg.curve_by or ():  # a misspelt column would silently pool every row
        if col not in table.text:
            raise InputError(f"column {col!r} is not in the data table {table.path}; "
                             f"columns: {', '.join(table.header)}", file=cfg.file,
                             key="fit.curve_by")
    if cfg.select or cfg.exclude:
        table = select_rows(table, cfg.select, cfg.exclude, file=cfg.file)
    return table


def build_problem(cfg: FitConfig, table: Table | None = None, evaluate: bool = False
                  ) -> Problem:
    """The fit's problem; `evaluate` allows every parameter fixed (`free_set`)."""
    table = table if table is not None else load_problem_table(cfg)
    try:
        free, simulation = free_set(cfg, evaluate)
        cfg.observable.check_rows(table, cfg.row_settings, simulation, cfg.file)
        prediction = cfg.observable.prediction(table, free.names, material=cfg.material,
                                               simulation=simulation,
                                               settings=cfg.row_settings, file=cfg.file)
    except InputError as e:  # a key the user wrote in [fit.simulation] is named as written
        # (a required key missing from a table written there, too: its parent is there)
        parent = e.key.rpartition(".")[0] if e.key else ""
        if e.key and not e.key.startswith("fit.") and (
                lookup(cfg.simulation, e.key)[0]
                or (e.missing and parent
                    and lookup(cfg.simulation, parent)[0])):
            message = e.message
            if "time.end_h" in message:  # the fit's, not the user's: say where it comes from
                last = _READ_OUT.get(cfg.observable.table_kind, "its latest time")
                message = (message.replace("or a longer time.end_h", "or a later read-out")
                           + f" (a fit's time.end_h is the data's latest read-out, {last}; "
                           "fit.simulation.time may only set dt_s)")
            raise InputError(message, file=e.file, key=f"fit.simulation.{e.key}") from None
        raise
    n = len(table)
    sd = table.numbers.get("sd")
    weighted = sd is not None and bool(np.any(np.isfinite(sd)))
    if weighted:
        missing = np.flatnonzero(~np.isfinite(sd))
        if missing.size:
            raise InputError(f"the sd column is empty at line {table.lines[missing[0]]}; give "
                             "sd for every row or for none (rows are weighted by 1/sd)",
                             file=str(table.path), key="sd")
    else:
        sd = np.ones(n)
    kind = np.array([{"=": 0, "~": 0, "<=": 1, ">=": 2}[r] for r in table.relation])
    if not np.any(kind == 0):
        raise InputError("the table has bounds (<=, >=) but no values (=, ~) to fit",
                         file=str(table.path), key="relation")
    return Problem(cfg, table, free, simulation, prediction, np.asarray(table.observed, float),
                   np.asarray(sd, float), weighted, kind)
