"""HDF5 output, CF-style, readable by `xarray.open_dataset(path, engine="h5netcdf")`.

Layout (public contract): `/x`, `/y`, `/z` (um) and `/time` (s) are dimension scales; every
field is `/<name>` with dimensions (time, z, y, x), float32, a `units` attribute; a radial run
has one coordinate `/r` (um, shell centres) and fields (time, r); a well-mixed run writes
(time,). `/tissue_mask` (z, y, x) or (r,) uint8. Root attributes
`Conventions`, `zn_pde_version`, `config` (resolved TOML), plus `format = "zn_pde"`,
`status` ("running" | "complete" | "interrupted" | "failed") and `complete` (0/1); a failed
or interrupted run also has `message`.

Surviving a kill. Every frame is written and flushed (`H5Fflush`) before the solver goes on,
and between frames the writer does not touch the file, so whatever stops the process (SIGKILL
included) finds the file as the last flush left it: every frame saved so far, `status =
"running"`, `complete = 0`. The file format is pinned to the HDF5 1.8 feature set
(superblock v2): its superblock has no "open for writing" flag, so a killed file opens in
every reader at once. (The 1.10+ format used by SWMR sets that flag and leaves it set when the
writer is killed; xarray, h5py and ParaView then refuse the file until `h5clear -s` is run on
it.) The writer takes no HDF5 file lock, so readers may look at a running file; instead it
holds a POSIX record lock (`fcntl.lockf`, independent of HDF5's `flock`) so that a second
zn-pde writer (`--resume`, `--overwrite`) cannot open a file that is still being written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shlex
import time
import tomllib
import traceback
from collections.abc import Callable
from glob import escape as glob_escape
from pathlib import Path
from typing import Any, TypeVar

import h5py
import numpy as np

from .._errors import InputError
from .._version import __version__

try:  # POSIX only; elsewhere concurrent writers are not detected
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

FORMAT_MARK = "zn_pde"
# coordinate datasets, written in this order; a layout's dimensions are those present, slowest
# first: (z, y, x) for a 3D grid, (r,) for a radial one, () for a well-mixed compartment
_COORDS = ("x", "y", "z", "r")
#: event units (`_protocol.Event.units`) -> the event table's column for that quantity alone
EVENT_QUANTITIES = {
    "ug/mL": ("event_dose", "ug/mL", "particle dose added (NaN for other events)"),
    "pH": ("event_medium_ph", "1", "pH of the fresh medium of a medium exchange (NaN for "
           "other events)"),
    "W/cm^2": ("event_ultrasound_intensity", "W/cm^2", "ultrasound intensity of the exposure "
               "starting or ending (NaN for other events)"),
    "mW/cm^2": ("event_light_irradiance", "mW/cm^2", "light irradiance of the exposure starting "
                "or ending (NaN for other events)"),
}

COORD_LONG_NAMES = {"x": "voxel-centre x coordinate", "y": "voxel-centre y coordinate",
         "z": "voxel-centre z coordinate", "r": "shell-centre radius from the spheroid centre"}


def dims_of(names) -> tuple[str, ...]:
    """The field dimensions (slowest first) of a layout with these coordinate names."""
    names = set(names)
    if "r" in names:
        return ("r",)
    return ("z", "y", "x") if "x" in names else ()


# HDF5 1.8 file format: no superblock status flags, so a killed run stays readable (see above).
LIBVER = ("v108", "v108")
STATUSES = ("running", "complete", "interrupted", "failed")


class OutputError(InputError):
    """An output path or file that cannot be used (exit 2)."""


_BUSY = ("another zn-pde process is writing this file right now; wait for it to finish (or "
         "stop it) before overwriting or resuming it")


def _claim(path: Path, shown: Path | None = None) -> int | None:
    """Open `path` (creating it) and take an exclusive POSIX lock; the fd keeps the lock.
    `shown`: the file a message names where it cannot be opened (the output, for the hidden
    temporary file it is created as).

    Raises OutputError if another process holds it (a run still writing this file).
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise OutputError(f"cannot open the output for writing ({e.strerror})",
                          file=str(shown or path)) from None
    try:
        _lock(fd, path)
    except OutputError:
        os.close(fd)
        raise
    return fd


def _lock(fd: int | None, path: Path) -> None:
    """Take the exclusive POSIX lock on `fd` (`path`'s), or raise OutputError if another
    process holds it; also to take it again where HDF5 dropped it (see `NewFile`)."""
    if fd is None or fcntl is None:  # pragma: no cover
        return
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise OutputError(_BUSY, file=str(path)) from None


_PARTIAL = ".zn-pde-partial"


def _partial_paths(target: Path) -> list[Path]:
    """The files a creation of `target` left unpublished (`NewFile`), by any process."""
    return sorted(target.parent.glob(f".{glob_escape(target.name)}.*{_PARTIAL}"))


class NewFile:
    """A new HDF5 output, created whole or not at all.

    The file is written at a hidden temporary path beside the output
    (`.NAME.PID.zn-pde-partial`) and renamed onto it by `publish` once its header is on
    disk, so a run killed while creating it (SIGKILL, power cut) leaves the output as it
    was: absent, or the old run that `--overwrite` was replacing, whole. An old file is
    replaced by a new one, not truncated in place: a reader that has it open (`open_run` in
    a notebook, ParaView) keeps reading it whole instead of failing on the new run's frames.

    `fd` holds the new file's exclusive POSIX lock until `_release`d (the inode keeps it
    through the rename); the old file's lock is held until it is replaced. Raises
    OutputError if another process is writing the output (holds its lock) or it cannot be
    created. Temporary files that a killed creation left for this output are removed.
    """

    def __init__(self, path: Path):
        # through a symbolic link, the file it names is replaced, as writing through it would
        self.path = path.resolve() if path.is_symlink() else path
        self.old = _claim(self.path) if self.path.exists() else None  # refused while busy
        self.fd: int | None = None
        self.f: h5py.File | None = None
        try:
            self.temp = self.path.parent / f".{self.path.name}.{os.getpid()}{_PARTIAL}"
            for stale in _partial_paths(self.path):  # not a live creation's: its lock is free
                if stale == self.temp:  # this process's own: a lock it holds would be its
                    continue
                with contextlib.suppress(OutputError):
                    _release(_claim(stale))
                    stale.unlink(missing_ok=True)
            self.fd = _claim(self.temp, shown=path)
            try:
                self.f = h5py.File(self.temp, "w", libver=LIBVER, locking=False)
            except OSError as e:
                raise OutputError(f"cannot create the HDF5 file ({e})",
                                  file=str(path)) from None
            # creating the file, HDF5 opens and closes descriptors of its own on this path,
            # and a process's POSIX locks on a file go when any of its descriptors to it is
            # closed: take the lock again on ours (a writer that got in between is refused)
            try:
                _lock(self.fd, self.temp)
            except OutputError:
                self.f.close()
                raise
        except BaseException:
            self.discard()
            raise

    def publish(self) -> None:
        """Flush the file and give it the output's name, replacing the old file if any; a
        file that appeared there since (another process's run) is refused, not replaced."""
        self.f.flush()
        try:
            if self.old is not None:
                os.replace(self.temp, self.path)
            else:
                _link_new(self.temp, self.path)
        except OSError as e:
            self.discard()
            raise OutputError("output file exists (created meanwhile by another process)"
                              if isinstance(e, FileExistsError) else
                              f"cannot name the new output ({e.strerror})",
                              file=str(self.path)) from None
        _release(self.old)
        self.old = None

    def discard(self) -> None:
        """Remove an unpublished file (a creation that failed) and release its locks."""
        if self.f is not None and self.f.id.valid:
            self.f.close()
        if self.fd is not None:
            self.temp.unlink(missing_ok=True)
            _release(self.fd)
            self.fd = None
        _release(self.old)
        self.old = None


def _link_new(temp: Path, path: Path) -> None:
    """Rename `temp` to `path` only if `path` does not exist (a hard link, then the old name
    removed: `os.rename` would replace a file another process created meanwhile); where the
    file system has no hard links, a plain rename."""
    try:
        os.link(temp, path)
    except FileExistsError:
        raise
    except OSError:
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(temp, path)
        return
    temp.unlink()


def _release(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


class Writer:
    """Streams frames to an HDF5 file; `append` flushes every frame to disk."""

    def __init__(self, path: str | Path, *, config_toml: str, coords: dict[str, np.ndarray],
                 tissue_mask: np.ndarray, variables: dict[str, dict[str, str]],
                 static_fields: dict[str, tuple[np.ndarray, dict[str, str]]] | None = None,
                 series: dict[str, dict[str, str]] | None = None,
                 well_mixed: bool = False, overwrite: bool = False,
                 attrs: dict[str, str] | None = None):
        """`variables` are fields (time, *dims); `series` are scalars per frame (time,);
        `attrs` extra file attributes (what a resumed run must know of how it was started).
        `coords` maps each dimension name to its cell centres (um): x, y, z for a 3D grid, r for
        a radial one, none for a well-mixed compartment (which also writes no tissue mask and
        no `static_fields`)."""
        self.path = Path(path)
        if self.path.is_dir():
            raise OutputError("the output is a folder; give a file name ending in .h5",
                              file=str(self.path))
        sidecar = self.path.with_suffix(".xmf")
        if {":", "|"} & set(self.path.name):
            # the sidecar names each dataset as FILE:/name|selection, and ParaView's XDMF
            # readers split there, whatever the file is called (its Xdmf3 readers abort)
            raise OutputError("its XDMF sidecar cannot refer to a file whose name has ':' or "
                              "'|' (XDMF separates the file from the dataset with ':' and "
                              "the frame's selection with '|'); allowed: an output name "
                              f"without them, e.g. {re.sub(r'[:|]', '-', self.path.name)}",
                              file=str(self.path))
        if sidecar.is_dir():
            raise OutputError(f"its XDMF sidecar {sidecar} would replace a folder; allowed: "
                              "an output name whose .xmf is not a folder", file=str(self.path))
        if self.path.exists() and not overwrite:
            raise OutputError("output file exists; pass --overwrite (simulate: overwrite="
                              f"True) to replace it{_resume_hint(self.path)}",
                              file=str(self.path))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(f"cannot create the output folder ({e.strerror})",
                              file=str(self.path)) from None
        new = NewFile(self.path)
        self.f, self._lock = new.f, new.fd
        try:
            self._create(new.f, config_toml, coords, tissue_mask, variables, static_fields,
                         series, well_mixed, attrs)
            new.publish()
        except BaseException:
            new.discard()
            raise

    def _create(self, f: h5py.File, config_toml, coords, tissue_mask, variables,
                static_fields, series, well_mixed, attrs) -> None:
        """Write the file's header: attributes, coordinates, mask, empty fields."""
        f.attrs["Conventions"] = "CF-1.8"
        f.attrs["title"] = "zn-pde reaction-diffusion simulation"
        f.attrs["source"] = f"zn-pde {__version__}"
        f.attrs["zn_pde_version"] = __version__
        f.attrs["format"] = FORMAT_MARK
        f.attrs["config"] = config_toml
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)
        for key, value in (attrs or {}).items():
            f.attrs[key] = value
        t = f.create_dataset("time", shape=(0,), maxshape=(None,), dtype="f8", chunks=(256,))
        t.attrs["units"] = "s"
        t.attrs["long_name"] = "simulated time"
        t.attrs["axis"] = "T"
        t.make_scale("time")
        spatial: tuple[int, ...] = ()
        self.dims = dims = () if well_mixed else dims_of(coords)
        self.well_mixed = not dims  # no coordinates: one compartment
        if dims:
            for name in (n for n in _COORDS if n in dims):
                d = f.create_dataset(name, data=np.asarray(coords[name], "f8"))
                d.attrs["units"] = "um"
                d.attrs["long_name"] = COORD_LONG_NAMES[name]
                if name != "r":
                    d.attrs["axis"] = name.upper()
                d.make_scale(name)
            spatial = tuple(np.asarray(coords[n]).size for n in dims)
            m = f.create_dataset("tissue_mask", data=np.asarray(tissue_mask, np.uint8))
            m.attrs["units"] = "1"
            m.attrs["long_name"] = "1 where the voxel is tissue"
            self._attach(m, dims)
            for name, (data, attrs) in (static_fields or {}).items():
                d = f.create_dataset(name, data=np.asarray(data, np.float32))
                d.attrs.update(attrs)
                self._attach(d, dims)
        self.spatial = spatial
        self.variables = {**variables, **(series or {})}
        for name, attrs in self.variables.items():
            shape = spatial if name in variables else ()
            # one frame per chunk; gzip level 1 with byte shuffle: fields are mostly smooth or
            # constant outside the tissue, so files shrink several-fold for little CPU
            packed = ({"compression": "gzip", "compression_opts": 1, "shuffle": True}
                      if shape else {})
            d = f.create_dataset(name, shape=(0,) + shape, maxshape=(None,) + shape,
                                 dtype="f4", chunks=(1,) + shape if shape else (256,),
                                 fillvalue=np.float32(np.nan), **packed)
            d.attrs.update(attrs)
            d.attrs["zn_pde_role"] = "field" if name in variables else "series"
            self._attach(d, ("time",) + (dims if shape else ()))
        f.flush()

    def _attach(self, d: h5py.Dataset, dims: tuple[str, ...]) -> None:
        for i, name in enumerate(dims):
            d.dims[i].attach_scale(self.f[name])

    @property
    def n_frames(self) -> int:
        return int(self.f["time"].shape[0])

    def write_events(self, events: list) -> None:
        """The protocol's event table (`_protocol.event_table`), one row per event along the
        dimension `event`: `/event_time` (s), `/event_kind`, `/event_value` (in the row's
        `/event_units`), `/event_label` (the config entry)."""
        if not events:
            return
        f = self.f
        e = f.create_dataset("event", data=np.arange(len(events), dtype="i4"))
        e.attrs["units"] = "1"
        e.attrs["long_name"] = "protocol event (row of the event table, in time order)"
        e.make_scale("event")
        text = h5py.string_dtype()
        columns = {
            "event_time": (np.asarray([v.time_s for v in events], "f8"),
                           {"units": "s", "long_name": "time of the event"}),
            "event_kind": (np.asarray([v.kind for v in events], object),
                           {"units": "1", "long_name": "dose | medium_exchange | "
                            "ultrasound_start | ultrasound_end | light_start | light_end"}),
            "event_value": (np.asarray([v.value for v in events], "f8"),
                            {"units": "see event_units", "long_name": "dose (ug/mL), fresh "
                             "medium pH, or exposure intensity (W/cm^2, mW/cm^2), in the row's "
                             "event_units; one quantity per column, with CF units: "
                             "event_dose, event_medium_ph, event_ultrasound_intensity, "
                             "event_light_irradiance"}),
            "event_units": (np.asarray([v.units for v in events], object),
                            {"units": "1", "long_name": "units of event_value"}),
            "event_label": (np.asarray([v.label for v in events], object),
                            {"units": "1", "long_name": "config entry of the event"}),
        }
        # the same values one quantity per column, each with its own units (CF: one unit per
        # variable), NaN on the other events' rows; only the quantities the protocol has
        for units, (name, cf_units, long) in EVENT_QUANTITIES.items():
            rows = [v.units == units for v in events]
            if any(rows):
                columns[name] = (np.asarray([v.value if row else np.nan
                                             for v, row in zip(events, rows, strict=True)],
                                            "f8"),
                                 {"units": cf_units, "long_name": long})
        for name, (data, attrs) in columns.items():
            d = f.create_dataset(name, data=data, dtype=text if data.dtype == object else None)
            d.attrs.update(attrs)
            d.dims[0].attach_scale(e)
        f.flush()

    def append(self, t_s: float, fields: dict[str, np.ndarray]) -> None:
        """Write one frame and flush it. The time coordinate is extended last, so a reader
        never sees a time without its fields."""
        n = self.n_frames
        for name in self.variables:
            d = self.f[name]
            d.resize(n + 1, axis=0)
            d[n] = np.asarray(fields[name], np.float32).reshape(d.shape[1:])
        t = self.f["time"]
        t.resize(n + 1, axis=0)
        t[n] = t_s
        self.f.flush()

    def close(self, status: str, message: str | None = None) -> None:
        """Record how the run ended (`status`, `complete`, `message`), flush and close."""
        if status not in STATUSES:
            raise ValueError(status)
        if self.f.id.valid:
            self.f.attrs["status"] = status
            self.f.attrs["complete"] = np.uint8(status == "complete")
            if message:
                self.f.attrs["message"] = message
            elif "message" in self.f.attrs:
                del self.f.attrs["message"]
            self.f.flush()
            self.f.close()
        _release(self._lock)
        self._lock = None

    @classmethod
    def reopen(cls, path: str | Path) -> Writer:
        """Open an existing output to append frames (resume)."""
        self = cls.__new__(cls)
        self.path = Path(path)
        open_run(self.path).close()  # exists, is HDF5 and a zn-pde output, or exit 2
        self._lock = _claim(self.path)
        try:
            self.f = h5py.File(self.path, "r+", libver=LIBVER, locking=False)
        except OSError as e:
            _release(self._lock)
            raise OutputError(f"cannot reopen the file for writing ({e})", file=str(path)
                              ) from None
        f = self.f
        self.dims = dims_of(f)
        self.well_mixed = not self.dims
        self.spatial = tuple(f[n].size for n in self.dims)
        self.variables = {k: dict(f[k].attrs) for k in f
                          if k != "time" and isinstance(f[k], h5py.Dataset)
                          and f[k].maxshape and f[k].maxshape[0] is None}
        n = self.n_frames
        for k in self.variables:  # drop a frame half-written when the run was stopped
            if f[k].shape[0] != n:
                f[k].resize(n, axis=0)
        self.previous_status = _text(f.attrs.get("status", "running"))
        self.previous_message = _text(f.attrs["message"]) if "message" in f.attrs else None
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)
        f.flush()
        return self


def _is_xdmf(path: Path) -> bool:
    """Whether `path` starts as an XDMF file (XML with an Xdmf root) does."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return b"<Xdmf" in head


def _resume_hint(path: Path) -> str:
    """How to continue the run in `path`, for the message refusing to replace it: only an
    incomplete zn-pde run can be resumed (a complete one, a sweep's file or any other file
    is refused by --resume), and only from the command line."""
    try:
        with open_read_only(path) as f:
            attrs = attrs_text(f.attrs)
    except Exception:  # not HDF5, unreadable, being written: nothing to offer
        return ""
    if attrs.get("format") != FORMAT_MARK or attrs.get("complete") in ("1", "True", "true"):
        return ""
    return f", or continue it with: zn-pde run --resume {shlex.quote(str(path))}"


def open_read_only(path: str | Path) -> h5py.File:
    """`h5py.File(path, "r")` without taking the HDF5 file lock, so that a file a run is
    still writing can be read; if this process already holds the file open with the lock
    (xarray's or the user's own h5py handle, in a notebook), HDF5 refuses a second handle
    with other lock flags, so that one is opened as the first was."""
    try:
        return h5py.File(path, "r", locking=False)
    except OSError as e:
        if "locking" not in str(e):
            raise
        return h5py.File(path, "r")


def open_run(path: str | Path) -> h5py.File:
    """Open a zn-pde output read-only, or raise InputError (exit 2) saying why not.

    Takes no HDF5 lock, so a file that a run is still writing can be read; without HDF5's
    SWMR mode (not used) a read that coincides with a frame being written may fail with an
    HDF5 error, and a second attempt reads the frames written so far (docs/outputs.md).
    """
    if not str(path):  # Path("") is ".", which a message would name as the file
        raise InputError("the file's path is empty; expected a zn-pde output (.h5)",
                         file="''")
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=str(p))
    if not p.is_file():
        raise InputError("not a file (a zn-pde output is one .h5 file)", file=str(p))
    if not os.access(p, os.R_OK):
        raise InputError("file is not readable (permission denied)", file=str(p))
    try:
        f = open_read_only(p)
    except OSError as e:
        try:
            is_hdf5 = h5py.is_hdf5(str(p))
        except OSError:
            is_hdf5 = False
        if not is_hdf5:
            empty = p.stat().st_size == 0
            if _is_xdmf(p):  # a ParaView user's natural first try: name the file it shows
                run = p.with_suffix(".h5")
                raise InputError("not an HDF5 file but the XDMF sidecar of "
                                 + (f"{run} (ParaView's view of it); give the run itself, "
                                    f"{run}" if run.is_file() else
                                    "a run (ParaView's view of it); give the run's .h5 file"),
                                 file=str(p)) from None
            raise InputError("not an HDF5 file; zn-pde outputs are HDF5 files written by "
                             "`zn-pde run`" + (" (this one is empty: a run stopped before it "
                                               "wrote anything; run again with --overwrite)"
                                               if empty else ""), file=str(p)) from None
        raise InputError(f"HDF5 file cannot be opened ({e})", file=str(p)) from None
    mark = f.attrs.get("format")
    if mark == f"{FORMAT_MARK}_sweep":
        complete = int(f.attrs.get("complete", 0)) == 1
        f.close()
        # an unfinished sweep (interrupted, failed) has no table or figure, and no resuming
        table = (f"the sweep's table and figure are {p.stem}_summary.csv and "
                 f"{p.stem}_summary.png beside it" if complete else
                 "it did not complete, so it has no table or figure (a sweep cannot be "
                 "resumed: run it again with --overwrite)")
        raise InputError("a zn-pde sweep output: plot, --resume and export take single "
                         f"runs; `zn-pde inspect {p}` lists its points, {table}, and "
                         "zn_pde.open_run (or xarray) opens the file itself", file=str(p))
    if mark != FORMAT_MARK or "config" not in f.attrs or "time" not in f:
        f.close()
        raise InputError("an HDF5 file, but not a zn-pde output (no 'format = zn_pde' "
                         "attribute, stored config and /time); expected a file written by "
                         "`zn-pde run` (or zn_pde.simulate)", file=str(p))
    return f


#: Attempts at reading a run file before an HDF5 error is reported, and the pause between
#: them: a read that meets a frame being written (no SWMR) succeeds a moment later, while a
#: damaged file fails every time.
READ_ATTEMPTS, READ_RETRY_S = 3, 0.3

T = TypeVar("T")


def read_retrying(path: str | os.PathLike, read: Callable[[], T]) -> T:
    """`read()`, tried again on an HDF5 error (h5py's OSError, or KeyError/RuntimeError where
    an object's metadata is damaged, raised inside h5py): a live read that met a frame being
    written succeeds then (docs/outputs.md); a damaged file is bad input, an `InputError`
    (exit 2) naming it, not a traceback; its values are read as they are, a signalling NaN
    as a NaN. Used by `inspect`, `plot`, `export` and
    `zn_pde.open_run`."""
    for attempt in range(READ_ATTEMPTS):
        try:
            # a signalling NaN in the file (bytes of a damaged block can form one) is a NaN:
            # numpy's cast of it to float64 raised 'invalid value encountered in cast'
            with np.errstate(invalid="ignore"):
                return read()
        except (OSError, KeyError, RuntimeError) as e:
            frames = traceback.extract_tb(e.__traceback__)
            if not any("h5py" in Path(frame.filename).parts for frame in frames):
                raise  # not the file being read (e.g. a figure that cannot be written)
            if attempt + 1 == READ_ATTEMPTS:
                raise InputError(f"HDF5 file cannot be read ({e}; {READ_ATTEMPTS} attempts "
                                 f"{READ_RETRY_S:g} s apart): it is damaged",
                                 file=str(path)) from None
            time.sleep(READ_RETRY_S)
    raise AssertionError("unreachable")


def attrs_text(attrs: Any) -> dict[str, str]:
    """Each attribute as text. A one-element array reads as its element: netCDF writers
    (xarray's `to_netcdf` through h5netcdf) store a scalar such as `complete = 1` as [1],
    whose text "[1]" would read as not complete."""
    return {k: _text(v.item() if isinstance(v, np.ndarray) and v.size == 1 else v)
            for k, v in attrs.items()}


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


@dataclasses.dataclass
class RunFile:
    """What a zn-pde output holds, read once (metadata only; fields are read on demand).

    `fields`: time-dependent arrays (time, *dims): (time, z, y, x) on a 3D grid, (time, r) on
    a radial one, (time,) well-mixed; `series`: per-frame scalars (time,) of a spatial run;
    `static`: arrays of the field shape without time.
    """

    path: Path
    attrs: dict[str, str]
    config: dict[str, Any]
    times_s: np.ndarray
    well_mixed: bool
    fields: list[str]
    series: list[str]
    static: list[str]
    units: dict[str, str]
    long_names: dict[str, str]
    x_um: np.ndarray | None
    y_um: np.ndarray | None
    z_um: np.ndarray | None
    tissue: np.ndarray | None  # bool, the field shape
    dims: tuple[str, ...] = ("z", "y", "x")  # field dimensions, slowest first
    r_um: np.ndarray | None = None  # radial runs: shell centres

    @property
    def radial(self) -> bool:
        return self.dims == ("r",)

    @property
    def n_frames(self) -> int:
        return int(self.times_s.size)

    @property
    def status(self) -> str:
        return self.attrs.get("status", "unknown")

    @property
    def complete(self) -> bool:
        return self.attrs.get("complete", "0") in ("1", "True", "true")

    def open(self) -> h5py.File:
        return open_run(self.path)


def read_run(path: str | Path) -> RunFile:
    """Read the metadata of a zn-pde output (raises InputError, exit 2, if it is not one)."""
    with open_run(path) as f:
        attrs = attrs_text(f.attrs)
        try:
            config = tomllib.loads(attrs["config"])
        except tomllib.TOMLDecodeError as e:
            raise InputError(f"the stored config is not valid TOML ({e})", file=str(path)
                             ) from None
        times = np.asarray(f["time"][:], float)
        dims = dims_of(f)
        well_mixed = not dims
        fields, series, static = [], [], []
        units, long_names = {}, {}
        spatial = None if well_mixed else tuple(f[n].size for n in dims)
        for name, d in f.items():
            if not isinstance(d, h5py.Dataset) or name in ("time",) + _COORDS:
                continue
            units[name] = _text(d.attrs.get("units", ""))
            long_names[name] = _text(d.attrs.get("long_name", name))
            growing = d.maxshape and d.maxshape[0] is None
            role = _text(d.attrs.get("zn_pde_role", ""))
            if growing and role not in ("field", "series"):  # files without the role mark
                role = "series" if name in _SERIES else "field"
            if growing and role == "field" and (well_mixed or d.ndim == 1 + len(dims)):
                fields.append(name)
            elif growing and role == "series" and d.ndim == 1:
                series.append(name)
            elif (not growing and spatial is not None and d.shape == spatial
                  and _on_grid(d, dims)):
                static.append(name)
        coords = {n: (np.asarray(f[n][:], float) if n in dims else None) for n in _COORDS}
        tissue = None if well_mixed or "tissue_mask" not in f else (
            np.asarray(f["tissue_mask"][:]) > 0)
    # every figure and export places its values by these: a damaged block that made one of
    # them NaN ended in matplotlib's ValueError out of plot (the damage scan of test_faults)
    for name, values in (("time", times), *((n, c) for n, c in coords.items() if c is not None)):
        if not np.all(np.isfinite(values)):
            raise InputError(f"the {name} coordinate holds non-finite values: the file is "
                             "damaged (a zn-pde run writes finite times and grid positions)",
                             file=str(path))
    order = _variable_order(fields)
    return RunFile(Path(path), attrs, config, times, well_mixed, order,
                   sorted(series, key=_series_order), [s for s in static if s != "tissue_mask"]
                   + (["tissue_mask"] if "tissue_mask" in static else []), units, long_names,
                   coords["x"], coords["y"], coords["z"], tissue, dims, coords["r"])


# The nanoparticle model's variables first, in the model's order, then passive species.
_MODEL_ORDER = ("np", "zn", "ros", "np_int", "zn_cell", "gsh", "viability")


def _on_grid(d: h5py.Dataset, dims: tuple[str, ...]) -> bool:
    """Whether `d` is laid out on the grid (its first axis carries the grid's first
    coordinate, or no coordinate at all), so that a table that happens to be as long as a
    radial grid is not taken for a static field."""
    try:
        scales = [s.name for s in d.dims[0].values()]
    except (KeyError, RuntimeError):  # pragma: no cover - unreadable dimension metadata
        return True
    return not scales or f"/{dims[0]}" in scales


def _variable_order(names: list[str]) -> list[str]:
    known = [n for n in _MODEL_ORDER if n in names]
    return known + sorted(n for n in names if n not in _MODEL_ORDER)


_SERIES = ("tissue_mean_zn", "tissue_mean_zn_cell", "tissue_mean_ros", "max_ros",
           "tissue_mean_viability")


def _series_order(name: str) -> tuple[int, str]:
    return (_SERIES.index(name) if name in _SERIES else len(_SERIES), name)
