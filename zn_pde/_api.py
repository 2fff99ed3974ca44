"""The notebook API: `simulate` and `open_run` return an `xarray.Dataset`.

Both give exactly what `zn-pde run` writes (public contract, "Python API"): the same
variables, coordinates, `units` attributes and root attributes as the HDF5 output (the
resolved config as TOML text in `ds.attrs["config"]`, the per-frame summary series such as
`tissue_mean_viability` as (time,) variables), plus a `time_h` coordinate (hours, indexed,
so `ds.sel(time_h=4.0, method="nearest")` works).

One code path makes both: `simulate` drives the same `simulate_to_file` as the command line
and reads the result back through `open_run`, so an in-memory run and a file written by
`zn-pde run` cannot drift apart. Without `out=` the frames are streamed to a private
temporary folder (`tempfile.gettempdir()`, i.e. `$TMPDIR`), loaded into memory when the run
ends and deleted, so nothing is left on disk.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from ._errors import ConfigNote, InputError, RunError, check_flags
from ._notes import config_notes
from ._run import RunResult, simulate_to_file
from .config import (
    apply_overrides,
    dumps,
    load_config,
    resolve_noted,
    unresolved,
    without_filled_values,
)
from .io import read_run

_DICT_LABEL = "<config dict>"


def simulate(config: str | os.PathLike | Mapping[str, Any] | None = None, *,
             out: str | os.PathLike | None = None, progress: bool = True,
             overwrite: bool = False, **overrides: Any) -> xr.Dataset:
    """Run a simulation and return its output as an in-memory `xarray.Dataset`.

    `config`: a TOML file (path), a config as a dict (the TOML sections as nested dicts and
    lists of dicts; a resolved config such as `tomllib.loads(ds.attrs["config"])` works
    too), or None for the built-in default scenario (like `zn-pde run` without CONFIG).
    `**overrides`: dotted keys as for `--set`, given Python values:
    `simulate(path, **{"time.end_h": 6.0, "ultrasound[0].intensity_W_per_cm2": 2.0})`.
    On a resolved config, values it holds only because resolution filled them in (a
    material's constants, derived diffusivities, the domain's centre) follow the overrides:
    `simulate(tomllib.loads(ds.attrs["config"]), **{"material.kind": "ZnO2"})` is ZnO2.
    `out`: also keep the run as an HDF5 file (and its XDMF sidecar) there, as
    `zn-pde run -o OUT.h5 --no-control` writes it, with no control run (for one,
    `simulate_control`), but not marked as one that declined it: `zn-pde run --resume OUT.h5`
    of such a file, interrupted, also makes the control, as `zn-pde run` would. An existing
    file is replaced only with `overwrite`.
    `progress`: print simulated time, rate and ETA while running (to stderr, which a
    notebook shows under the cell).

    Returns an `xarray.Dataset`, read into memory (no file is held open), as `open_run`
    gives it: the model's fields, (time, z, y, x) on a 3D grid, (time, r) on a radial one,
    (time,) well-mixed, each with its `units` attribute (uM, ug/mL, or 1 for `viability`, a
    fraction); the coordinates `time` (s), `time_h` (h, indexed:
    `ds.sel(time_h=4.0, method="nearest")`) and `x`, `y`, `z` or `r` (µm, voxel or shell
    centres); the per-frame series (`tissue_mean_viability`, ...; a run of passive species
    only has none); each passive species' variable carries the summary's final means as
    attributes, `final_tissue_mean` and `final_domain_mean`; `tissue_mask` and `ph` (spatial
    runs) and the event table; the resolved config as TOML text in `ds.attrs["config"]`.

    Issues a `ConfigNote` warning for each note `zn-pde run` prints on the config (light
    below the particles' band gap, ultrasound below the cavitation threshold, ...) and on
    the run (unsplit transport solves that ended above their tolerance).

    Raises `InputError` for a bad config, override or output path (the message the command
    line prints), `RunError` when the run fails or is interrupted (Ctrl-C, or a notebook's
    interrupt: then its subclass `Interrupted`); without `out` the frames saved until then
    are in the error's `dataset`.
    """
    check_flags("simulate", _label(config), progress=progress, overwrite=overwrite)
    c = _resolve(config, overrides)
    for note in config_notes(c):  # what `zn-pde run` prints with its summary
        warnings.warn(note.strip().removeprefix("note: "), ConfigNote, stacklevel=2)
    if "sweep" in c:
        raise InputError("simulate runs one point; a [sweep] runs with `zn-pde run` and its "
                         "file opens with xarray.open_dataset(path, engine='h5netcdf')",
                         file=_label(config), key="sweep")
    if out is not None:
        if not isinstance(out, str | os.PathLike):
            raise InputError(f"simulate's out = {out!r} ({type(out).__name__}) is not a file "
                             "path; allowed: a str or os.PathLike ending in .h5 or .hdf5, or "
                             "None (no file kept)", key="out", file=_label(config))
        out = Path(out)
        if out.suffix not in (".h5", ".hdf5"):
            raise InputError("the output must end in .h5 or .hdf5", key="out", file=str(out))
        _warn_notes(simulate_to_file(c, out, overwrite=overwrite, progress=progress))
        return _loaded(out)
    with tempfile.TemporaryDirectory(prefix="zn_pde_") as tmp:
        # a fixed name: the run's own `_name` (any text a program put in the dict) never
        # becomes a path, so nothing is written outside the temporary folder
        path = Path(tmp) / "run.h5"
        try:
            result = simulate_to_file(c, path, progress=progress)
        except RunError as e:
            error = type(e)(_in_memory_message(str(e), path))  # Interrupted stays one
            error.dataset = _loaded(path) if _has_frames(path) else None
            raise error from None
        _warn_notes(result)
        return _loaded(path)


def _warn_notes(result: RunResult) -> None:
    """What the run met that `zn-pde run`'s summary says (`RunResult.notes`), as warnings."""
    for note in result.notes:
        warnings.warn(note.strip().removeprefix("note: "), ConfigNote, stacklevel=3)


def open_run(path: str | os.PathLike) -> xr.Dataset:
    """Open a file written by `zn-pde run` (or `simulate(..., out=...)`) as an xarray.Dataset:
    a single run (its fields in model order, then its series), or a sweep's file as written
    (dims (sweep, time, ...), a `sweep_<key>` coordinate per swept key); both with `time_h`.

    Returns an `xarray.Dataset`, for a single run: the model's fields, (time, z, y, x) on a
    3D grid, (time, r) on a radial one, (time,) well-mixed, each with its `units` attribute
    (uM, ug/mL, or 1 for `viability`, a fraction); the coordinates `time` (s), `time_h` (h, indexed:
    `ds.sel(time_h=4.0, method="nearest")`) and `x`, `y`, `z` or `r` (µm, voxel or shell
    centres); the per-frame series (`tissue_mean_viability`, ...; a run of passive species
    only has none); each passive species' variable carries the summary's final means as
    attributes, `final_tissue_mean` and `final_domain_mean`; `tissue_mask` and `ph` (spatial
    runs) and the event table; the resolved config as TOML text in `ds.attrs["config"]`.

    Lazy, like `xarray.open_dataset`: arrays are read when used; close the dataset (or use
    `with zn_pde.open_run(path) as ds:`) to release the file. Works on complete, running,
    interrupted and killed runs. Raises `InputError` for a path that is not a zn-pde output
    or is damaged.
    """
    from .inspect import is_sweep, passive_final_means
    from .io._hdf5 import read_retrying

    if not isinstance(path, str | os.PathLike):
        raise InputError(f"open_run takes a file path, got {type(path).__name__} {path!r}; "
                         "allowed: a str or os.PathLike naming a zn-pde output (.h5)",
                         key="path")
    if is_sweep(path):
        return _open(path, lambda ds: _sweep_view(ds, path))
    # InputError (exit-2 wording) for anything that is not a run file
    meta = read_retrying(path, lambda: read_run(path))

    def view(ds: xr.Dataset) -> xr.Dataset:  # the model's fields in order, then the series
        order = meta.fields + meta.series + meta.static
        rest = [n for n in ds.data_vars if n not in order]
        ds = _with_time_h(ds[[n for n in order if n in ds.data_vars] + rest])
        ds.attrs["config"] = meta.attrs["config"]
        # passive species (alone or beside the particles): the summary's means, as attributes
        for name, means in passive_final_means(meta).items():
            ds[name].attrs.update(means)
        return ds

    return _open(meta.path, view)


def _open(path: str | os.PathLike, view: Callable[[xr.Dataset], xr.Dataset]) -> xr.Dataset:
    """`view` of the file at `path` opened lazily with xarray, its close releasing the file:
    a derived dataset does not inherit the file's close, so it is handed on (a handle left
    open would also show later readers in this process the file as it was, not the frames
    written since). The file is closed if `view` raises; an HDF5 error is tried again, then
    an InputError."""
    from .io._hdf5 import read_retrying

    def attempt() -> xr.Dataset:
        opened = xr.open_dataset(path, engine="h5netcdf", decode_times=False,
                                 decode_timedelta=False)
        try:
            ds = view(opened)
            ds.set_close(opened.close)
        except BaseException:
            opened.close()
            raise
        return ds

    # xarray reads every dataset's metadata and `view` the times, which `read_run` did not:
    # an HDF5 error there (a frame being written, a damaged file) is tried again, as `zn-pde
    # inspect` does, and then an InputError naming the file
    return read_retrying(path, attempt)


def _sweep_view(ds: xr.Dataset, path: str | os.PathLike) -> xr.Dataset:
    """A sweep's file as written (dims (sweep, time, ...), a `sweep_<key>` coordinate per
    swept key), with the `time_h` coordinate a single run's has."""
    if "time" not in ds.variables or "sweep" not in ds.dims:
        raise InputError("a zn-pde sweep output, but it holds no sweep points (a sweep "
                         "stopped before its first frame)", file=str(path))
    return _with_time_h(ds)


def _with_time_h(ds: xr.Dataset) -> xr.Dataset:
    """`ds` with the saved times in hours as a coordinate and index, `time_h`."""
    ds = ds.assign_coords(time_h=("time", ds["time"].values / 3600.0,
                                  {"units": "h", "long_name": "simulated time"}))
    return ds.set_xindex("time_h")


def _loaded(path: Path) -> xr.Dataset:
    """The run at `path`, read fully into memory and the file closed."""
    with open_run(path) as ds:
        ds = ds.load()
    ds.encoding.pop("source", None)
    return ds


def _has_frames(path: Path) -> bool:
    try:
        return read_run(path).n_frames > 0
    except InputError:
        return False


def _in_memory_message(message: str, path: Path) -> str:
    """A run-time error of a run without `out=`: its file is gone, so no path to resume."""
    message = re.sub(r"; continue with: zn-pde run --resume \S+", "", message)
    message = message.replace(f" saved in {path}", " saved")
    return (f"{message} (the frames saved until then are in this error's `dataset`; "
            "pass out='run.h5' to keep a file that `zn-pde run --resume` can continue)")


def _resolve(config: Any, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Config (path, dict or None) plus Python-valued overrides -> resolved config."""
    _check_keywords(config, overrides)
    items = [_override_text(k, v, _label(config)) for k, v in overrides.items()]
    if config is None or isinstance(config, str | os.PathLike):
        return load_config(config, items, refill=True)
    if not isinstance(config, Mapping):
        raise InputError(f"config must be a TOML file path, a dict or None, got "
                         f"{type(config).__name__}", key="config")
    # NumPy scalars and arrays, and tuples, read as the numbers and lists they hold, as in
    # the overrides
    raw = unresolved(_plain(dict(config), file=_DICT_LABEL))
    if items:  # a resolved config read back as text: its filled-in values follow the change
        raw = without_filled_values(raw, _DICT_LABEL)
    raw = apply_overrides(raw, items, _DICT_LABEL)
    c = resolve_noted(raw, _DICT_LABEL)
    c["_name"] = str(config.get("_name", "run"))
    return c


def _check_keywords(config: Any, overrides: Mapping[str, Any]) -> None:
    """A keyword that is neither a config key (dotted, as for --set) nor a whole section is a
    misspelt argument or an undotted key: say so, rather than 'unknown section'."""
    import difflib

    from .config._schema import ARRAY_SECTIONS, SECTIONS

    sections = [*SECTIONS, *ARRAY_SECTIONS, "kinetics", "sweep"]
    for key in overrides:
        if "." in key or "[" in key or key in sections:
            continue
        close = difflib.get_close_matches(key, ["out", "overwrite", "progress"], n=1)
        dotted = [f"{sec}.{key}" for sec, keys in SECTIONS.items() if key in keys]
        hint = (f" (did you mean {close[0]}=?)" if close else
                f" (did you mean '{dotted[0]}'?)" if dotted else "")
        raise InputError(f"unknown keyword argument {key}={overrides[key]!r}{hint}: simulate "
                         "takes out=, overwrite=, progress= and config keys, dotted as for "
                         "--set (e.g. **{'time.end_h': 2.0}) or whole sections (e.g. "
                         "dose=[...])", file=_label(config), key=key)


def _label(config: Any) -> str:
    if config is None:
        return "<built-in default>"
    return str(config) if isinstance(config, str | os.PathLike) else _DICT_LABEL


def _override_text(key: str, value: Any, file: str | None = None) -> str:
    """`KEY=VALUE` with the value as TOML, so overrides take `--set`'s exact path. Errors
    name the config (`file`) as every other config error does."""
    if "=" in key:  # `--set`'s text would split at it and read the rest as the value
        raise InputError(f"override key {key!r} contains '='; give the value as the "
                         f"argument's value, e.g. simulate(..., **{{{key.split('=')[0]!r}: "
                         "value})", key=key, file=file)
    try:
        line = dumps({"v": {"x": _plain(value, key, file)}}).splitlines()[1]
    except TypeError:
        raise InputError(f"value {value!r} cannot be a config value; expected a number, "
                         "string, bool, list or dict", key=key, file=file) from None
    return f"{key}={line.split(' = ', 1)[1]}"


def _plain(v: Any, where: str = "", file: str | None = None) -> Any:
    """NumPy scalars and arrays as Python numbers and lists. A table's keys must be text, as
    in TOML: any other key (`{1: ...}`) is an `InputError` naming where it is (`where`, the
    dotted path so far, in `file`), not a failure deep in the config checks."""
    if hasattr(v, "tolist") and not isinstance(v, str | bytes):
        return v.tolist()
    if isinstance(v, Mapping):
        for k in v:
            if not isinstance(k, str):
                raise InputError(f"key {k!r} ({type(k).__name__}) is not allowed; config "
                                 "keys are strings, as in TOML", file=file,
                                 key=f"{where}.{k!r}" if where else repr(k))
        return {k: _plain(x, f"{where}.{k}" if where else k, file) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x, f"{where}[{i}]", file) for i, x in enumerate(v)]
    return v
