"""zn-pde: reaction-diffusion simulation of zinc nanoparticles in tumour spheroids.

Data flow: config (TOML) -> `load_config` -> `build_model` -> `run` / `trajectory` ->
HDF5 + XDMF (`simulate_to_file`) -> `inspect` / `plot` / VTK (`export_vtk`). In notebooks,
`simulate` and `open_run` give the same output as an `xarray.Dataset`.

The names below are imported on first use (PEP 562): `import zn_pde` costs milliseconds, not
the second JAX takes, so the `zn-pde` command can answer Ctrl-C (and `--help`) at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__ as __version__

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "open_run": "._api", "simulate": "._api",
    "diffuse": "._diffusion", "diffuse_react": "._diffusion",
    "make_operator": "._diffusion", "make_transport": "._diffusion",
    "ConfigNote": "._errors", "InputError": "._errors", "Interrupted": "._errors",
    "RunError": "._errors",
    "Environment": "._kinetics", "Kinetics": "._kinetics", "Local": "._kinetics",
    "local_step": "._kinetics", "react": "._kinetics", "total_zinc_uM": "._kinetics",
    "Model": "._model", "State": "._model", "build_model": "._model",
    "simulate_control": "._run", "simulate_to_file": "._run",
    "Schedule": "._solve", "advance": "._solve", "run": "._solve", "trajectory": "._solve",
    "load_config": ".config", "resolve": ".config",
    "export_vtk": ".io",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    try:  # a subpackage or module: zn_pde.fit, zn_pde.materials, ...
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # what static tools and IDEs see: the same names, imported eagerly
    from ._api import open_run as open_run
    from ._api import simulate as simulate
    from ._diffusion import diffuse as diffuse
    from ._diffusion import diffuse_react as diffuse_react
    from ._diffusion import make_operator as make_operator
    from ._diffusion import make_transport as make_transport
    from ._errors import ConfigNote as ConfigNote
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
    from .config import load_config as load_config
    from .config import resolve as resolve
    from .io import export_vtk as export_vtk
