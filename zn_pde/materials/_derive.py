"""Build a material's table from another's by overriding named parameters."""

from __future__ import annotations

import math

from ._parameter import Parameter

R_J_PER_MOL_K = 8.314462618  # exact (SI 2019)
T_REF_K = 298.15
BODY_K = 310.15  # 37 °C


def log10_K_from_gibbs(delta_g_kj_per_mol: float) -> float:
    """log10 K = −ΔG° / (R T ln 10) at 25 °C."""
    return -delta_g_kj_per_mol * 1e3 / (R_J_PER_MOL_K * T_REF_K * math.log(10.0))


def log10_K_at_37C(log10_K_25C: float, delta_h_kj_per_mol: float) -> float:
    """van 't Hoff from 25 to 37 °C with a constant reaction enthalpy:
    log10 K(T) = log10 K(T_ref) − ΔH / (R ln 10) (1/T − 1/T_ref)."""
    return log10_K_25C - delta_h_kj_per_mol * 1e3 / (R_J_PER_MOL_K * math.log(10.0)) * (
        1.0 / BODY_K - 1.0 / T_REF_K)


def override(base: tuple[Parameter, ...], *new: Parameter) -> tuple[Parameter, ...]:
    names = {p.name for p in base}
    for p in new:
        if p.name not in names:
            raise KeyError(f"{p.name} is not a parameter of the base table")
    replace = {p.name: p for p in new}
    return tuple(replace.get(p.name, p) for p in base)
