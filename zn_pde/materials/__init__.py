"""Material presets and the tissue/physiology constants every material shares.

A material is a named table of cited `Parameter`s plus a few fixed facts (molar mass). The
config's `[kinetics]` section overrides any parameter by name; `zn-pde validate` prints the
resolved values. `ZnO` is complete; `ZnO2`, `ZIF-8` and `ZnS` are reserved names for the
material-library issue and are refused with a clear message until then.
"""

from __future__ import annotations

import dataclasses

from .._errors import InputError
from . import zno
from ._parameter import Parameter as Parameter
from .tissue import ENVIRONMENT as ENVIRONMENT
from .tissue import light_attenuation_per_cm as light_attenuation_per_cm


@dataclasses.dataclass(frozen=True)
class Material:
    kind: str
    molar_mass_g_per_mol: float
    zn_per_formula_unit: int
    parameters: tuple[Parameter, ...]

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
    "ZnO": Material("ZnO", zno.MOLAR_MASS_G_PER_MOL, 1, zno.PARAMETERS),
}
PLANNED = ("ZnO2", "ZIF-8", "ZnS")


def get_material(kind: str, *, file: str | None = None) -> Material:
    if kind in MATERIALS:
        return MATERIALS[kind]
    if kind in PLANNED:
        raise InputError(
            f"material '{kind}' is part of the public contract but its preset is not "
            f"implemented yet; available now: {', '.join(MATERIALS)}",
            file=file, key="material.kind")
    raise InputError(f"unknown material {kind!r}; allowed: {', '.join(MATERIALS)}",
                     file=file, key="material.kind")
