"""config -> model -> solver -> HDF5 + XDMF: what `zn-pde run` does, as a library call."""

from __future__ import annotations

import dataclasses
import signal
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from . import _kinetics as kin
from ._errors import InputError, RunError
from ._grid import Geometry, build_geometry
from ._model import Model, State, build_model
from ._progress import Progress
from ._solve import Schedule, run
from .config import dumps, resolve
from .io import Writer, open_run, write_xdmf

SUMMARY_UNITS = {
    "tissue_mean_zn": ("uM", "tissue-mean free Zn2+ in the interstitium"),
    "tissue_mean_zn_cell": ("uM", "tissue-mean labile intracellular zinc"),
    "max_ros": ("uM", "maximum ROS over the domain and over the steps since the last frame"),
    "tissue_mean_ros": ("uM", "tissue-mean ROS"),
    "tissue_mean_viability": ("1", "tissue-mean fraction of cells alive"),
}


@dataclasses.dataclass
class RunResult:
    path: Path
    times_s: np.ndarray
    summary: dict[str, np.ndarray]
    status: str


def _output_fields(model: Model, state: State) -> dict[str, np.ndarray]:
    fields = {k: np.asarray(v) for k, v in model.fields(state).items()}
    if "viability" in fields:
        fields["viability"] = np.where(np.asarray(model.cell_fraction) > 0,
                                       fields["viability"], np.nan)
    return fields


def summarise(model: Model, fields: dict[str, np.ndarray]) -> dict[str, float]:
    """Key scalars of one frame (tissue means over tissue voxels)."""
    if not model.has_material:
        return {}
    tissue = np.asarray(model.cell_fraction) > 0

    def tmean(a: np.ndarray) -> float:
        return float(a[tissue].mean()) if tissue.any() else float("nan")

    return {"tissue_mean_zn": tmean(fields["zn"]),
            "tissue_mean_zn_cell": tmean(fields["zn_cell"]),
            "max_ros": float(np.max(fields["ros"])),
            "tissue_mean_ros": tmean(fields["ros"]),
            "tissue_mean_viability": tmean(fields["viability"])}


def _variables(model: Model) -> dict[str, dict[str, str]]:
    out = {}
    for name in model.mobile_names + model.fixed_names:
        units = kin.UNITS.get(name, "uM")
        long = kin.LONG_NAMES.get(name, f"passive species '{name}'")
        out[name] = {"units": units, "long_name": long}
    if "viability" in out:
        out["viability"]["comment"] = "NaN where there are no cells (medium voxels)"
    return out


def _series(model: Model) -> dict[str, dict[str, str]]:
    if not model.has_material:
        return {}
    return {name: {"units": u, "long_name": long} for name, (u, long) in SUMMARY_UNITS.items()}


class _Stop(Exception):
    pass


def simulate_to_file(config: dict[str, Any], out: str | Path, *, overwrite: bool = False,
                     progress: bool = True, resume: bool = False) -> RunResult:
    """Run `config` and stream every saved frame to `out` (HDF5) and `out.xmf` (XDMF)."""
    out = Path(out)
    geo = build_geometry(config)
    model = build_model(config, geo)
    schedule = Schedule.from_config(config)
    variables = _variables(model)
    series = _series(model)
    state0 = None
    start_frame = 0
    if resume:
        writer = Writer.reopen(out)
        start_frame = writer.n_frames - 1
        state0 = _state_from_file(model, writer.f, start_frame)
        times = list(np.asarray(writer.f["time"][:]))
    else:
        writer = Writer(out, config_toml=dumps(config),
                        coords={"x": geo.x_um, "y": geo.y_um, "z": geo.z_um},
                        tissue_mask=geo.tissue, variables=variables, series=series,
                        static_fields=None if geo.well_mixed else {
                            "ph": (geo.ph, {"units": "1",
                                            "long_name": "extracellular pH"})},
                        well_mixed=geo.well_mixed, overwrite=overwrite)
        times = []
    summary: dict[str, list[float]] = {k: [] for k in series}
    if resume:
        for k in summary:
            summary[k] = list(np.asarray(writer.f[k][:]))
    xmf = out.with_suffix(".xmf")
    h = config["grid"]["spacing_um"]

    def on_frame(i: int, t_s: float, state: State, peaks: np.ndarray | None) -> None:
        fields = _output_fields(model, state)
        scalars = summarise(model, fields)
        if peaks is not None and "max_ros" in scalars:
            scalars["max_ros"] = max(scalars["max_ros"],
                                     float(peaks[model.mobile_names.index("ros")]))
        for k, v in scalars.items():
            summary[k].append(v)
            fields[k] = np.asarray(v)
        writer.append(t_s, fields)
        times.append(t_s)
        if not geo.well_mixed:
            write_xdmf(xmf, out.name, geo.tissue.shape, (h / 2, h / 2, h / 2), h,
                       np.asarray(times), list(model.mobile_names + model.fixed_names),
                       {"tissue_mask": ("UChar", 1), "ph": ("Float", 4)})

    bar = Progress(schedule.total_steps * schedule.dt_s, enabled=progress)
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):  # a polite kill (SIGTERM) stops like Ctrl-C
        raise _Stop

    status = "failed"
    try:
        signal.signal(signal.SIGTERM, on_term)
        run(model, schedule, on_frame, state=state0, start_frame=start_frame,
            coords=(geo.z_um, geo.y_um, geo.x_um), progress=bar)
        status = "complete"
    except (KeyboardInterrupt, _Stop):
        status = "interrupted"
        raise RunError(f"interrupted; {len(times)} frames (up to t = {times[-1] / 3600:g} h) "
                       f"are saved in {out}; continue with: zn-pde run --resume {out}"
                       ) from None
    finally:
        writer.close(status)
        signal.signal(signal.SIGTERM, previous)
    return RunResult(out, np.asarray(times), {k: np.asarray(v) for k, v in summary.items()},
                     status)


def _state_from_file(model: Model, f, frame: int) -> State:
    """Rebuild the carried state from a saved frame (the state is saved in full)."""
    import jax.numpy as jnp

    def field(name: str) -> np.ndarray:
        a = np.asarray(f[name][frame], np.float64).reshape(model.tissue.shape)
        if name == "viability":
            a = np.where(np.isnan(a), 1.0, a)
        return a

    def stack(names: tuple[str, ...]) -> jnp.ndarray:
        if not names:
            return jnp.zeros(model.tissue.shape + (0,), model.dtype)
        return jnp.asarray(np.stack([field(n) for n in names], -1), model.dtype)

    t_s = float(f["time"][frame])
    step = round(t_s / model.dt_s)
    return State(stack(model.mobile_names), stack(model.fixed_names),
                 jnp.asarray(step, jnp.int32))


def config_of_run(path: str | Path) -> dict[str, Any]:
    """The resolved config stored in an output file (validated again)."""
    with open_run(path) as f:
        text = f.attrs["config"]
        text = text.decode() if isinstance(text, bytes) else str(text)
        complete = int(f.attrs.get("complete", 0))
    cfg = resolve(tomllib.loads(text), str(path))
    cfg["_name"] = Path(path).stem
    cfg["_complete"] = complete
    return cfg


def geometry_of(config: dict[str, Any]) -> Geometry:
    return build_geometry(config)


def check_resumable(path: Path) -> None:
    cfg = config_of_run(path)
    if cfg["_complete"]:
        raise InputError("this run is already complete; nothing to resume", file=str(path))
