"""Outputs at the edge of the data flow: HDF5 (CF-style, xarray/h5netcdf) and XDMF and VTK
(ParaView)."""

from ._hdf5 import OutputError as OutputError
from ._hdf5 import RunFile as RunFile
from ._hdf5 import Writer as Writer
from ._hdf5 import open_run as open_run
from ._hdf5 import read_run as read_run
from ._vtk import export_vtk as export_vtk
from ._xdmf import write_xdmf as write_xdmf
