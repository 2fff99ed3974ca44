"""Ultrasound: intensity attenuated with depth, I(s) = I₀ · 10^(−α f ∫ds / 10), s the path from
where the exposure enters (`_grid.entry_path_cm`: the z = 0 face of a 3D grid, the outer wall
of a radial one; a well-mixed compartment sees I₀).

α is the intensity attenuation coefficient in dB/cm/MHz (tissue or medium per voxel; defaults
in `zn_pde.materials.tissue`), f the frequency in MHz. Standing waves and reflections at the
well bottom are not modelled.

Particles make ROS under ultrasound through inertial cavitation, which starts at a threshold
intensity I_c and saturates: the exposure's field is the cavitation activity
A(I) = ((√I − √I_c)₊ / (1 − √I_c))^{1/2}, I in W/cm² capped at I_sat, so A(1 W/cm²) = 1 (the
law of the ·OH yield in doi:10.15949/j.cnki.0371-0025.1991.04.008; constants in the tissue
table). The law is given at 1 MHz; at frequency f it is A(I / s), s = (f / 1 MHz)^x, so the
threshold and saturation intensities scale as s (x = 1 by default: the mechanical index p/√f
of Apfel & Holland 1991 with I ∝ p²; that the whole curve scales alike is assumed). A pulsed
beam makes duty × A(peak), not A(duty × peak).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from .._grid import Geometry, entry_path_cm
from ._exposure import Exposure


def cavitation_activity(intensity_W_per_cm2, threshold_W_per_cm2: float,
                        saturation_W_per_cm2: float):
    """A(I) = ((√min(I, I_sat) − √I_c)₊ / (1 − √I_c))^{1/2}: 0 below the threshold, 1 at
    1 W/cm² (for I_c < 1 W/cm²), rising steeply just above the threshold."""
    i = jnp.minimum(jnp.asarray(intensity_W_per_cm2), saturation_W_per_cm2)
    root_c = threshold_W_per_cm2 ** 0.5
    over = jnp.maximum(jnp.sqrt(i) - root_c, 0.0)
    scale = abs(1.0 - root_c) or 1.0
    return jnp.sqrt(over / scale)


def cavitation_scale(frequency_MHz: float, tissue_cfg: dict[str, Any]) -> float:
    """How the cavitation law's intensities (threshold, saturation; given at 1 MHz) scale at
    `frequency_MHz`: f^x, x = `tissue.ultrasound_cavitation_frequency_exponent`."""
    return frequency_MHz ** tissue_cfg["ultrasound_cavitation_frequency_exponent"]


def cavitation_threshold_W_per_cm2(frequency_MHz: float, tissue_cfg: dict[str, Any]) -> float:
    """The inertial-cavitation threshold at `frequency_MHz` (W/cm²): at or below it an
    exposure makes no ROS, and the model has no other effect of ultrasound."""
    return (tissue_cfg["ultrasound_cavitation_threshold_W_per_cm2"]
            * cavitation_scale(frequency_MHz, tissue_cfg))


def ultrasound_exposure(ex: dict[str, Any], tissue_cfg: dict[str, Any], geo: Geometry,
                        spacing_um: float, dtype) -> Exposure:
    """The exposure's cavitation activity per cell of the grid (dimensionless, 1 at
    1 W/cm²), on for the pulse-averaged fraction `duty_cycle` of its window."""
    alpha = np.where(geo.tissue, tissue_cfg["ultrasound_attenuation_dB_per_cm_MHz"],
                     tissue_cfg["medium_ultrasound_attenuation_dB_per_cm_MHz"])
    db = ex["frequency_MHz"] * entry_path_cm(geo, alpha)
    relative = 10.0 ** (-db / 10.0)
    peak = jnp.asarray(ex["intensity_W_per_cm2"], dtype) * jnp.asarray(relative, dtype)
    # the cavitation law at 1 MHz, in intensity relative to the frequency's threshold scale
    scale = cavitation_scale(ex["frequency_MHz"], tissue_cfg)
    law = (tissue_cfg["ultrasound_cavitation_threshold_W_per_cm2"],
           tissue_cfg["ultrasound_cavitation_saturation_W_per_cm2"])
    field = cavitation_activity(peak / scale, *law)
    entry = cavitation_activity(jnp.asarray(ex["intensity_W_per_cm2"], dtype) / scale, *law)
    start = ex["start_h"] * 3600.0
    return Exposure(jnp.asarray(ex.get("duty_cycle", 1.0), dtype), field.astype(dtype),
                    jnp.asarray(start, dtype),
                    jnp.asarray(start + ex["duration_min"] * 60.0, dtype), entry.astype(dtype))
