"""Light: fluence rate attenuated with depth, E(s) = E₀ · exp(−∫ μ_eff ds) along the path s from
where it enters (`_grid.entry_path_cm`: the z = 0 face of a 3D grid, the outer wall of a radial
one, none for a well-mixed compartment), and effective only
when the photon energy E_ph = hc/λ exceeds the material's band gap.

μ_eff per voxel is the tissue value (from the wavelength table in `zn_pde.materials.tissue`
under `tissue.light_model`: Beer–Lambert with the transport coefficient μ_a + μ_s' at spheroid
scale by default, or diffusion theory; or `tissue.light_attenuation_per_cm`) or the medium
value. That part is fixed per exposure (this module); the particles' own absorption of the
light that activates them, exp(−κ ∫ m ds) with their mass m per volume, changes with the
state and is applied every step (`Model.particle_transmission`).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from .._grid import Geometry, entry_path_cm
from ..materials import light_attenuation_per_cm
from ._exposure import Exposure

#: hc in eV·nm (CODATA 2018 exact h and c): 1239.841984 eV nm.
HC_EV_NM = 1239.841984
#: Elementary charge (J/eV) and Avogadro constant (1/mol), CODATA 2018 exact.
ELEMENTARY_CHARGE_J_PER_EV = 1.602176634e-19
AVOGADRO_PER_MOL = 6.02214076e23


def photon_energy_eV(wavelength_nm: float) -> float:
    return HC_EV_NM / wavelength_nm


def photon_flux_nmol_per_cm2_s(wavelength_nm: float, irradiance_mW_per_cm2: float = 1.0):
    """Photon flux of an irradiance at this wavelength, nmol photons per cm² per s:
    E / (hc/λ) / N_A (1 mW/cm² at 365 nm is 3.05 nmol/(cm²·s)). Absorbed by a mass
    absorption κ (cm²/µg) of particles at m µg/mL, it makes κ m q µM/s of excitations, so a
    photochemical yield is a quantum yield times that, never more than it."""
    per_mW = 1e-3 / (photon_energy_eV(wavelength_nm) * ELEMENTARY_CHARGE_J_PER_EV)
    return irradiance_mW_per_cm2 * per_mW / AVOGADRO_PER_MOL * 1e9


def activates(wavelength_nm: float, band_gap_eV: float) -> bool:
    """Whether photons of this wavelength excite a particle of this band gap."""
    return photon_energy_eV(wavelength_nm) >= band_gap_eV


def tissue_light_attenuation_per_cm(ex: dict[str, Any], tissue_cfg: dict[str, Any]) -> float:
    """μ_eff of tissue (1/cm): `tissue.light_attenuation_per_cm`, else the wavelength table
    under `tissue.light_model`."""
    mu = tissue_cfg.get("light_attenuation_per_cm")
    if mu is None:
        return light_attenuation_per_cm(ex["wavelength_nm"],
                                        tissue_cfg.get("light_model", "beer_lambert"))
    return mu


def light_exposure(ex: dict[str, Any], tissue_cfg: dict[str, Any], geo: Geometry,
                   spacing_um: float, band_gap_eV: float, dtype, order: int = 1,
                   per_mW: float = 1.0) -> Exposure:
    """The light's field relative to its entry irradiance, exp(−∫μ dz), raised to `order`:
    2 for what the light makes in proportion to its irradiance squared (second-harmonic
    generation, η E(z)² = η E₀² e^{−2∫μ dz}), whose entry amplitude `ex` then carries. The
    amplitude is the pulse-averaged irradiance times `per_mW` (e.g. the photon flux of
    1 mW/cm², `photon_flux_nmol_per_cm2_s`)."""
    gate = 1.0 if activates(ex["wavelength_nm"], band_gap_eV) else 0.0
    # tissue optics only where the light crosses tissue (a well-mixed compartment sees the
    # entry value, a cell-free geometry has none): a wavelength outside the tissue table
    # needs no tissue.light_attenuation_per_cm there
    lit_tissue = not geo.well_mixed and bool(np.any(geo.tissue))
    mu = np.where(geo.tissue,
                  tissue_light_attenuation_per_cm(ex, tissue_cfg) if lit_tissue else 0.0,
                  tissue_cfg["medium_light_attenuation_per_cm"])
    field = gate * np.exp(-order * entry_path_cm(geo, mu))
    start = ex["start_h"] * 3600.0
    # linear: pulse average; gated too (a product with the gated field, so no result moves):
    # light below the band gap then has the same leaves at any irradiance and duty cycle, and
    # a plan refuses them as controls that do not change the simulation
    mean = gate * ex["irradiance_mW_per_cm2"] * ex.get("duty_cycle", 1.0) * per_mW
    return Exposure(jnp.asarray(mean, dtype), jnp.asarray(field, dtype),
                    jnp.asarray(start, dtype),
                    jnp.asarray(start + ex["duration_min"] * 60.0, dtype),
                    jnp.asarray(gate, dtype))
