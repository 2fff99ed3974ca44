"""HDF5 output, CF-style, readable by `xarray.open_dataset(path, engine="h5netcdf")`.

Layout (public contract): `/x`, `/y`, `/z` (um) and `/time` (s) are dimension scales; every
field is `/<name>` with dimensions (time, z, y, x), float32, a `units` attribute; a
well-mixed run writes (time,). `/tissue_mask` (z, y, x) uint8. Root attributes
`Conventions`, `zn_pde_version`, `config` (resolved TOML), plus `status`
("running" | "complete" | "interrupted" | "failed") and `complete` (0/1).

Each frame is written and flushed before the solver continues, and the file is opened in
SWMR mode (single writer, multiple readers), whose ordered metadata writes keep the file
readable after the writing process is killed at any point: a killed run leaves every frame
saved so far and `complete = 0`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .._errors import InputError
from .._version import __version__

FORMAT_MARK = "zn_pde"


class OutputError(InputError):
    """An output path or file that cannot be used (exit 2)."""


class Writer:
    """Streams frames to an HDF5 file; `append` flushes every frame to disk."""

    def __init__(self, path: str | Path, *, config_toml: str, coords: dict[str, np.ndarray],
                 tissue_mask: np.ndarray, variables: dict[str, dict[str, str]],
                 static_fields: dict[str, tuple[np.ndarray, dict[str, str]]] | None = None,
                 series: dict[str, dict[str, str]] | None = None,
                 well_mixed: bool = False, overwrite: bool = False):
        """`variables` are fields (time, z, y, x); `series` are scalars per frame (time,)."""
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise OutputError("output file exists; pass --overwrite to replace it or "
                              "--resume to continue it", file=str(self.path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.well_mixed = well_mixed
        self.f = h5py.File(self.path, "w", libver="latest")
        f = self.f
        f.attrs["Conventions"] = "CF-1.8"
        f.attrs["zn_pde_version"] = __version__
        f.attrs["format"] = FORMAT_MARK
        f.attrs["config"] = config_toml
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)
        t = f.create_dataset("time", shape=(0,), maxshape=(None,), dtype="f8", chunks=(256,))
        t.attrs["units"] = "s"
        t.attrs["long_name"] = "simulated time"
        t.attrs["axis"] = "T"
        t.make_scale("time")
        spatial = ()
        if not well_mixed:
            for name in ("x", "y", "z"):
                d = f.create_dataset(name, data=np.asarray(coords[name], "f8"))
                d.attrs["units"] = "um"
                d.attrs["long_name"] = f"voxel-centre {name} coordinate"
                d.attrs["axis"] = name.upper()
                d.make_scale(name)
            spatial = tuple(np.asarray(coords[n]).size for n in ("z", "y", "x"))
            m = f.create_dataset("tissue_mask", data=np.asarray(tissue_mask, np.uint8))
            m.attrs["units"] = "1"
            m.attrs["long_name"] = "1 where the voxel is tissue"
            self._attach(m, ("z", "y", "x"))
            for name, (data, attrs) in (static_fields or {}).items():
                d = f.create_dataset(name, data=np.asarray(data, np.float32))
                d.attrs.update(attrs)
                self._attach(d, ("z", "y", "x"))
        self.spatial = spatial
        self.variables = {**variables, **(series or {})}
        for name, attrs in self.variables.items():
            shape = spatial if name in variables else ()
            d = f.create_dataset(name, shape=(0,) + shape, maxshape=(None,) + shape,
                                 dtype="f4", chunks=(1,) + shape if shape else (256,),
                                 fillvalue=np.float32(np.nan))
            d.attrs.update(attrs)
            self._attach(d, ("time",) + (("z", "y", "x") if shape else ()))
        f.swmr_mode = True
        f.flush()

    def _attach(self, d: h5py.Dataset, dims: tuple[str, ...]) -> None:
        for i, name in enumerate(dims):
            d.dims[i].attach_scale(self.f[name])

    @property
    def n_frames(self) -> int:
        return int(self.f["time"].shape[0])

    def append(self, t_s: float, fields: dict[str, np.ndarray]) -> None:
        n = self.n_frames
        for name in self.variables:
            d = self.f[name]
            d.resize(n + 1, axis=0)
            d[n] = np.asarray(fields[name], np.float32).reshape(d.shape[1:])
        t = self.f["time"]
        t.resize(n + 1, axis=0)
        t[n] = t_s
        self.f.flush()

    def close(self, status: str) -> None:
        if self.f.id.valid:
            self.f.attrs["status"] = status
            self.f.attrs["complete"] = np.uint8(status == "complete")
            self.f.flush()
            self.f.close()

    @classmethod
    def reopen(cls, path: str | Path) -> Writer:
        """Open an existing output to append frames (resume)."""
        self = cls.__new__(cls)
        self.path = Path(path)
        self.f = h5py.File(self.path, "r+", libver="latest")
        f = self.f
        self.well_mixed = "x" not in f
        self.spatial = () if self.well_mixed else tuple(f[n].size for n in ("z", "y", "x"))
        self.variables = {k: dict(f[k].attrs) for k in f
                          if k != "time" and isinstance(f[k], h5py.Dataset)
                          and f[k].maxshape[0] is None}
        n = self.n_frames
        for k in self.variables:  # drop a frame half-written when the run was killed
            if f[k].shape[0] > n:
                f[k].resize(n, axis=0)
        f.attrs["status"] = "running"
        f.swmr_mode = True
        return self


def open_run(path: str | Path) -> h5py.File:
    """Open a zn-pde output read-only, or raise InputError (exit 2) saying why not."""
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", file=str(p))
    try:
        f = h5py.File(p, "r", libver="latest", swmr=True)
    except OSError as e:
        raise InputError(f"not a readable HDF5 file ({e})", file=str(p)) from None
    if f.attrs.get("format") != FORMAT_MARK or "config" not in f.attrs:
        f.close()
        raise InputError("not a zn-pde output (no zn_pde format mark and config)", file=str(p))
    return f


def attrs_text(attrs: Any) -> dict[str, str]:
    return {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in attrs.items()}
