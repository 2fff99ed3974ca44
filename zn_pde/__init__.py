"""zn-pde: reaction-diffusion simulation of zinc nanoparticles in tumour spheroids.

Data flow: config (TOML) -> `load_config` -> `build_model` -> `run` / `trajectory` ->
HDF5 + XDMF (`simulate_to_file`) -> `inspect` / `plot` / VTK (`export_vtk`). In notebooks,
`simulate` and `open_run` give the same output as an `xarray.Dataset`.
"""

from ._api import open_run as open_run
from ._api import simulate as simulate
from ._diffusion import diffuse as diffuse
from ._diffusion import diffuse_react as diffuse_react
from ._diffusion import make_operator as make_operator
from ._diffusion import make_transport as make_transport
from ._errors import InputError as InputError
from ._errors import Interrupted as Interrupted
from ._errors import RunError as RunError
from ._kinetics import Environment as Environment
from ._kinetics import Kinetics as Kinetics
from ._kinetics import Local as Local
from ._kinetics import local_step as local_step
from ._kinetics import react as react
from ._kinetics import total_zinc_uM as total_zinc_uM
from ._model import Model as Model
from ._model import State as State
from ._model import build_model as build_model
from ._run import simulate_control as simulate_control
from ._run import simulate_to_file as simulate_to_file
from ._solve import Schedule as Schedule
from ._solve import advance as advance
from ._solve import run as run
from ._solve import trajectory as trajectory
from ._version import __version__ as __version__
from .config import load_config as load_config
from .config import resolve as resolve
from .io import export_vtk as export_vtk
