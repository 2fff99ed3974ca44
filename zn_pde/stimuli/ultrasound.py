"""Ultrasound: intensity attenuated with depth, I(s) = I₀ · 10^(−α f ∫ds / 10), s the path from
where the exposure enters (`_grid.entry_path_cm`: the z = 0 face of a 3D grid, the outer wall
of a radial one; a well-mixed compartment sees I₀).

α is the intensity attenuation coefficient in dB/cm/MHz (tissue or medium per voxel; defaults
in `zn_pde.materials.tissue`), f the frequency in MHz. Standing waves, cavitation thresholds
and reflections at the well bottom are not modelled.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from .._grid import Geometry, entry_path_cm
from ._exposure import Exposure


def ultrasound_exposure(ex: dict[str, Any], tissue_cfg: dict[str, Any], geo: Geometry,
                        spacing_um: float, dtype) -> Exposure:
    alpha = np.where(geo.tissue, tissue_cfg["ultrasound_attenuation_dB_per_cm_MHz"],
                     tissue_cfg["medium_ultrasound_attenuation_dB_per_cm_MHz"])
    db = ex["frequency_MHz"] * entry_path_cm(geo, alpha)
    field = 10.0 ** (-db / 10.0)
    start = ex["start_h"] * 3600.0
    return Exposure(jnp.asarray(ex["intensity_W_per_cm2"], dtype), jnp.asarray(field, dtype),
                    jnp.asarray(start, dtype),
                    jnp.asarray(start + ex["duration_min"] * 60.0, dtype))
