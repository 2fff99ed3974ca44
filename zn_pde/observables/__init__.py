"""Observables: data tables -> predictions by the simulator (the stage before `zn_pde.fit`).

An observable turns each row of a data table into the experiment that produced it (a vial, a
culture, a spheroid), simulates it with the same config resolution, model and kinetics as
`zn-pde run`, and reads the measured quantity at the row's time.
"""

from ._base import Observable as Observable
from ._data import SCHEMAS as SCHEMAS
from ._data import Table as Table
from ._data import load_table as load_table
from ._data import select_rows as select_rows
from ._data import shipped_path as shipped_path
from ._data import shipped_tables as shipped_tables
from ._prediction import FITTABLE as FITTABLE
from ._prediction import Prediction as Prediction
from ._prediction import build_prediction as build_prediction
from .release import RELEASE as RELEASE
from .viability import SPHEROID_VIABILITY as SPHEROID_VIABILITY
from .viability import VIABILITY as VIABILITY

OBSERVABLES: dict[str, Observable] = {o.name: o for o in (RELEASE, VIABILITY,
                                                           SPHEROID_VIABILITY)}
