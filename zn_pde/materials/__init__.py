"""Material presets and the tissue/physiology constants every material shares.

A material is a named table of cited `Parameter`s plus a few fixed facts (molar mass). The
config's `[kinetics]` section overrides any parameter by name; `zn-pde validate` prints the
resolved values. `ZnO` is complete; Every material's table is the ZnO table plus the
shared processes of `_common.py`, with its own values where its chemistry differs.
"""

from __future__ import annotations

import dataclasses

from .._errors import InputError
from . import zif8, zno, zno2, zns
from ._common import COMMON
from ._parameter import Parameter as Parameter
from .tissue import ENVIRONMENT as ENVIRONMENT
from .tissue import light_attenuation_per_cm as light_attenuation_per_cm

#: kinetic parameters renamed on 2026-12-04 (old -> new) so that every name carries its unit:
#: the sonodynamic yields' names said uM/s for a unit of uM/s per ug/mL of particles, and the
#: pH switch's steepness (1/pH) had none. A [kinetics] table or a fit's
#: [fit.parameters] written with an old name is read as the new one.
RENAMED = {"sono_ros_yield_uM_per_s": "sono_ros_yield_uM_per_s_per_ug_per_ml",
           "sono_radical_yield_uM_per_s": "sono_radical_yield_uM_per_s_per_ug_per_ml",
           "dissolution_switch_steepness": "dissolution_switch_steepness_per_ph"}


@dataclasses.dataclass(frozen=True)
class Material:
    kind: str
    molar_mass_g_per_mol: float
    zn_per_formula_unit: int
    parameters: tuple[Parameter, ...]
    coproduct: str | None = None  # "h2o2" | "h2s": released with each Zn2+

    @property
    def zn_uM_per_ug_per_ml(self) -> float:
        """µM of Zn per µg/mL of material: 1000 · n_Zn / M."""
        return 1000.0 * self.zn_per_formula_unit / self.molar_mass_g_per_mol

    def defaults(self) -> dict[str, float]:
        return {p.name: p.value for p in self.parameters}

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)


MATERIALS: dict[str, Material] = {
    "ZnO": Material("ZnO", zno.MOLAR_MASS_G_PER_MOL, 1, zno.PARAMETERS + COMMON),
    "ZnO2": Material("ZnO2", zno2.MOLAR_MASS_G_PER_MOL, 1, zno2.PARAMETERS, "h2o2"),
    "ZIF-8": Material("ZIF-8", zif8.MOLAR_MASS_G_PER_MOL, 1, zif8.PARAMETERS),
    "ZnS": Material("ZnS", zns.MOLAR_MASS_G_PER_MOL, 1, zns.PARAMETERS, "h2s"),
}
PLANNED: tuple[str, ...] = ()


def get_material(kind: str, *, file: str | None = None, key: str = "material.kind"
                 ) -> Material:
    """The preset of `kind`, or InputError naming `key` (the config key that gave it)."""
    if kind in MATERIALS:
        return MATERIALS[kind]
    if kind in PLANNED:
        raise InputError(
            f"material '{kind}' is part of the public contract but its preset is not "
            f"implemented yet; available now: {', '.join(MATERIALS)}",
            file=file, key=key)
    raise InputError(f"unknown material {kind!r}; allowed: {', '.join(MATERIALS)}",
                     file=file, key=key)
