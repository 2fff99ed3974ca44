"""External stimuli: ultrasound and light exposures entering through the z = 0 face of a 3D
grid, or from all sides through the outer wall of a radial one (see `_grid.entry_path_cm`)."""

from typing import Any

from ._exposure import Exposure as Exposure
from .light import light_exposure as light_exposure
from .light import photon_energy_eV as photon_energy_eV
from .ultrasound import ultrasound_exposure as ultrasound_exposure


def exposure_can_act(section: str, ex: dict[str, Any], config: dict[str, Any]) -> bool:
    """Whether one exposure (`section` "ultrasound" or "light", `ex` its resolved table) of a
    resolved config with a [material] can make ROS: ultrasound above the inertial-cavitation
    threshold at its frequency, light of non-zero irradiance whose photons the material
    (above its band gap) or an enabled [photosensitiser] absorbs (directly, or as ZnO's
    second harmonic). The model has no other effect of either, so any other exposure does
    nothing at any depth (`zn_pde._notes` says why for each)."""
    if section == "ultrasound":
        from .ultrasound import cavitation_threshold_W_per_cm2

        return ex["intensity_W_per_cm2"] > cavitation_threshold_W_per_cm2(
            ex["frequency_MHz"], config["tissue"])
    from .light import activates

    if ex["irradiance_mW_per_cm2"] <= 0:
        return False
    if activates(ex["wavelength_nm"], config["kinetics"]["band_gap_eV"]):
        return True
    ps = config.get("photosensitiser") or {}
    if not ps.get("enabled"):
        return False
    from .._model import photosensitiser_excitation_uM_per_s  # deferred: _model imports this

    return any(photosensitiser_excitation_uM_per_s(
        ex["wavelength_nm"], ex["irradiance_mW_per_cm2"], ps, config["material"]["kind"]))
