"""External stimuli: ultrasound and light exposures entering through the z = 0 face of a 3D
grid, or from all sides through the outer wall of a radial one (see `_grid.entry_path_cm`)."""

from ._exposure import Exposure as Exposure
from .light import light_exposure as light_exposure
from .light import photon_energy_eV as photon_energy_eV
from .ultrasound import ultrasound_exposure as ultrasound_exposure
