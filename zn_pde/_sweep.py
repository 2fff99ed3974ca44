"""Parameter sweeps: the whole grid of simulations as one vectorised, jitted computation.

A `[sweep]` section maps dotted config keys to lists of values; the run covers their Cartesian
product. Each point is resolved and built into a `Model` as usual; the models share one
structure (shapes, schedule, static settings) and differ only in array leaves, so their
leaves are stacked and the time loop runs under `vmap`, sharded across devices along the
sweep axis when `numerics.devices` > 1. Frames are advanced one save interval at a time, so
progress shows and every interval's results are flushed to the file before the next (HDF5
1.8 format, as for single runs, so a killed sweep leaves a readable file).

Output (HDF5, CF-style): dimensions `sweep`, `time`, `z`, `y`, `x`; one coordinate per swept
key (`sweep_<key>`, with the key in `config_key`); per-frame summaries (sweep, time), every
series of a single run (`_run.SUMMARY_UNITS`), computed by the same `_run.summarise` on each
point's fields, with the ROS maxima raised to the per-step peaks in tissue and in medium
as single runs do (`_run.with_step_peaks`); final fields
`final_<variable>` (sweep, z, y, x); plus `<out>_summary.csv` (final values and peaks over
time per point) and `<out>_summary.png` (final tissue-mean viability, what the stimuli's own
hits killed and the peak ROS, against the swept values).
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import re
import signal
from pathlib import Path
from typing import Any

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from ._diffusion import sweep_unroll
from ._errors import InputError, Interrupted
from ._model import Model, State, build_model
from ._parallel import device_mesh, history_line, platform
from ._progress import Progress, count
from ._protocol import build_plan
from ._run import (
    SUMMARY_UNITS,
    _output_fields,
    _Signals,
    _Stop,
    summarise,
    viability_output,
    with_step_peaks,
)
from ._solve import Schedule, advance
from ._version import __version__
from .config import apply_override, dumps, key_units, resolve, unresolved
from .io._hdf5 import COORD_LONG_NAMES, NewFile, _release, open_read_only

SERIES = tuple(SUMMARY_UNITS)  # the single run's series, same names, units and meaning
SERIES_UNITS = {name: unit for name, (unit, _) in SUMMARY_UNITS.items()}
# series whose peak over time the table (CSV, run_sweep's return) also gives
PEAK_SERIES = ("max_ros", "tissue_max_ros", "medium_max_ros")


def sweep_points(config: dict[str, Any]) -> tuple[list[str], list[tuple[float, ...]]]:
    keys = list(config["sweep"])
    return keys, list(itertools.product(*(config["sweep"][k] for k in keys)))


def point_config(config: dict[str, Any], keys: list[str], values: tuple[float, ...]
                 ) -> dict[str, Any]:
    """The plain config of one sweep point (re-validated)."""
    raw = unresolved(config)
    raw.pop("sweep", None)
    point = ", ".join(f"{k} = {v!r}" for k, v in zip(keys, values, strict=True))
    file = f"{config.get('_file', '<config>')} (sweep point {point})"
    for k, v in zip(keys, values, strict=True):
        apply_override(raw, f"{k}={v!r}", file, filled=config)
    out = resolve(raw, file)
    out["_name"] = config.get("_name", "sweep")
    return out


def stack_models(models: list[Model], labels: list[str] | None = None) -> Model:
    """One Model whose array leaves carry a leading sweep axis (`labels`: each point's
    swept values, for the message when two points cannot share one computation). A
    spheroid's radius or centre changes how many voxel faces its surface has: the surfaces
    are padded with inert faces to the largest (`Faces.padded`)."""
    if all(m.surface is not None for m in models):
        # a swept cell diameter changes how deep the layer reaches, the chains' length (used
        # by a sharded grid only: each point of a sweep runs on one device) and their entries
        chain = max(m.surface_layer_cells for m in models)
        models = [dataclasses.replace(m, surface_layer_cells=chain) for m in models]
        sizes = np.array([m.surface.sizes for m in models])
        n_faces, n_cells = sizes[:, 0].max(), sizes[:, 1].max()
        n_entries = (sizes[:, 2] + n_faces - sizes[:, 0]).max()  # an entry per padding face
        if len({tuple(s) for s in sizes}) > 1:
            models = [eqx.tree_at(lambda m: m.surface, m,
                                  m.surface.padded(int(n_faces), int(n_cells), int(n_entries)))
                      for m in models]
    structure = jax.tree.structure(models[0])
    for i, m in enumerate(models[1:], start=1):
        if jax.tree.structure(m) != structure:
            which = (f" between the points {labels[0]} and {labels[i]}"
                     if labels is not None and i < len(labels) else "")
            raise InputError(f"the swept values change the model's structure{which}, so they "
                             "cannot run as one vectorised computation (e.g. a light "
                             "exposure crossing the band gap is fine, a different number "
                             "of species or a spheroid that fills the domain, leaving no "
                             "medium, is not); run such points as separate configs",
                             key="sweep")
    return jax.tree.map(lambda *xs: jnp.stack(xs), *models)


def _key_name(key: str) -> str:
    return "sweep_" + re.sub(r"[^A-Za-z0-9_]+", "_", key).strip("_")


BUILD_PROGRESS_POINTS = 50  # from here on, building the points' models takes seconds


def run_sweep(config: dict[str, Any], out: str | Path, *, overwrite: bool = False,
              progress: bool = True) -> dict[str, np.ndarray]:
    """Run every sweep point; write the HDF5 file, CSV table and PNG figure. Raises RunError
    when stopped by SIGINT/SIGTERM (the file keeps the frames saved, `interrupted`)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError("output file exists; pass --overwrite to replace it", file=str(out))
    sweep_unroll()  # a bad ZN_PDE_SWEEP_UNROLL is refused before any work or file
    keys, points = sweep_points(config)
    configs = [point_config(config, keys, p) for p in points]
    # one step plan for all points: the union of their breakpoints (events at different times
    # in different points are each landed on exactly)
    plan = build_plan(configs)
    schedule = Schedule(plan)
    # each point runs whole on one device; with several devices the sweep axis is sharded.
    # Building is ~0.04 s a point on a radial grid: a large sweep shows its progress
    building = Progress(len(configs), unit="points", scale=1.0, label="building the sweep",
                        enabled=progress and len(configs) >= BUILD_PROGRESS_POINTS)
    models = []
    for c in configs:
        models.append(build_model({**c, "numerics": {**c["numerics"], "devices": 1}},
                                  plan=plan))
        building.update(len(models))
    if not models[0].has_material:
        raise InputError("a sweep needs a [material] section (its summaries are tissue means "
                         "of the nanoparticle model)", key="sweep")
    n_points = len(models)
    devices = int(config["numerics"]["devices"])
    pad = (-n_points) % devices
    labels = [", ".join(f"{k} = {v:g}" for k, v in zip(keys, p, strict=True)) for p in points]
    batch = stack_models(models + [models[-1]] * pad, labels)
    if devices > 1:
        spec = NamedSharding(device_mesh(devices), PartitionSpec("y"))  # mesh axis = sweep
        batch = jax.tree.map(lambda a: jax.device_put(a, spec)
                             if isinstance(a, jax.Array) and a.ndim >= 1 else a, batch)

    transports = eqx.filter_jit(eqx.filter_vmap(lambda m: m.transport()))(batch)
    states = eqx.filter_jit(eqx.filter_vmap(lambda m: m.initial_state()))(batch)

    # as a single run's: SIGINT/SIGTERM stop the sweep between frames, never within one, and
    # the file ends `interrupted` (or `failed`) with a message saying what it holds
    signals = _Signals()
    status, message = "failed", None
    out.parent.mkdir(parents=True, exist_ok=True)
    f: h5py.File | None = None
    new: NewFile | None = None  # until its header and first frame are on disk
    lock = None
    bar = None
    with signals:
        try:
            try:
                with signals.critical():
                    # the lock, as a single run's writer holds it: another zn-pde process
                    # cannot overwrite or resume the file while the sweep writes it
                    new = NewFile(out)
                    f, lock = new.f, new.fd
                    final_names = _create_sweep_file(f, config, keys, points, models, configs)
                    _append_frame(f, models, 0.0, states)
                    new.publish()
                    new = None
                    # the table and figure of the file replaced go with it: until this sweep
                    # completes and writes its own, none may describe other points (a sweep
                    # that failed before replacing the file leaves all three as they were)
                    for old in _summary_paths(out):
                        old.unlink(missing_ok=True)
                bar = Progress(schedule.end_s, enabled=progress, label=f"sweep of {n_points}")
                times = schedule.save_times_s
                for i, n in enumerate(schedule.chunks, start=1):
                    states, peaks = _step_batch(batch, transports, states,
                                                 jnp.asarray(n, jnp.int32))
                    with signals.critical():
                        _append_frame(f, models, float(times[i]), states, peaks)
                    bar.update(float(times[i]))
                if final_names:
                    fields = eqx.filter_jit(eqx.filter_vmap(lambda m, s: m.fields(s)))(
                        batch, states)
                    with signals.critical():
                        for name in final_names:
                            values = np.asarray(fields[name], np.float32)[:n_points]
                            if name == "viability":  # NaN in the medium, as a run's
                                values = np.stack([viability_output(v, m.cell_fraction)
                                                   for v, m in zip(values, models,
                                                                   strict=True)])
                            f[f"final_{name}"][...] = values
                signals.hold()  # complete: a signal now waits for the closing
            except KeyboardInterrupt:  # SIGINT outside the main thread's handler
                raise _Stop(signal.SIGINT) from None
            status = "complete"
        except _Stop as e:
            signals.delivered = True
            status = "interrupted"
            n = f["time"].shape[0] if f is not None and "time" in f else 0
            saved = (f"{count(n, 'frame')} (0 to {f['time'][n - 1] / 3600:g} h of "
                     f"{schedule.end_s / 3600:g} h) of its {count(n_points, 'point')} saved in "
                     f"{out}, without the final fields" if n else "no frame was saved")
            message = (f"sweep interrupted by {signal.Signals(e.signum).name}; {saved}; a sweep "
                       "cannot be resumed: run it again")
            raise Interrupted(message) from None
        except BaseException as e:
            message = f"{type(e).__name__}: {e}"
            raise
        finally:
            with signals.critical(reraise=False):
                if bar is not None:
                    bar.close()
                if new is not None:  # stopped before its first frame: no file
                    new.discard()
                    f = lock = None
                if f is not None:
                    f.attrs["status"] = status
                    f.attrs["complete"] = np.uint8(status == "complete")
                    if message is not None:
                        f.attrs["message"] = message
                    f.close()
                _release(lock)
    with open_read_only(out) as g:
        table = {name: np.asarray(g[name][:, -1]) for name in SERIES}
        for name in PEAK_SERIES:
            table[f"peak_{name}"] = _peak(np.asarray(g[name][...]))
    _write_table(out, keys, points, table)
    exposed = any(c.get("ultrasound") or c.get("light") for c in configs)
    _plot_summary(out, keys, points, summary_panels(
        table, exposed=exposed, well_mixed=config["grid"]["kind"] == "well_mixed"),
        end_h=schedule.end_s / 3600)
    return table


@eqx.filter_jit
def _step_batch(models: Model, transports, states: State, n_steps: jax.Array):
    """`advance` of every point of the sweep by `n_steps` steps. The count is an array, as
    `_solve.run` passes it: one compiled program for every save interval of every sweep of
    the same structure (a Python int compiled one program per interval length, ~3 s each on
    a 16^3 grid: four for a 3 h sweep with an exposure between its frames)."""
    return eqx.filter_vmap(lambda m, tr, s: advance(m, tr, s, n_steps))(
        models, transports, states)


def _create_sweep_file(f: h5py.File, config: dict[str, Any], keys: list[str],
                       points: list[tuple[float, ...]], models: list[Model],
                       configs: list[dict[str, Any]]) -> list[str]:
    """Lay out a sweep's file (docs/outputs.md, "A sweep's file") with no frame yet; the
    names of the fields whose final values it will hold."""
    n_points = len(models)
    f.attrs.update({"Conventions": "CF-1.8", "title": "zn-pde parameter sweep",
                    "source": f"zn-pde {__version__}", "zn_pde_version": __version__,
                    "format": "zn_pde_sweep", "config": dumps(config),
                    "status": "running", "complete": np.uint8(0),
                    **platform(), "history": history_line("sweep")})
    sw = f.create_dataset("sweep", data=np.arange(n_points))
    sw.attrs["units"] = "1"
    sw.attrs["long_name"] = "sweep point"
    sw.make_scale("sweep")
    for i, k in enumerate(keys):
        d = f.create_dataset(_key_name(k), data=np.array([p[i] for p in points]))
        d.attrs.update({"units": key_units(k), "config_key": k,
                        "long_name": f"value of the config key {k} at each sweep point"})
        d.dims[0].attach_scale(sw)
    # CF auxiliary coordinates: every variable along the sweep names the swept keys'
    # values, so xarray shows them as coordinates (ds.swap_dims(sweep=...) indexes by them)
    aux = {"coordinates": " ".join(_key_name(k) for k in keys)}
    t = f.create_dataset("time", shape=(0,), maxshape=(None,), dtype="f8", chunks=(64,))
    t.attrs.update({"units": "s", "long_name": "simulated time", "axis": "T"})
    t.make_scale("time")
    for name in SERIES:
        d = f.create_dataset(name, shape=(n_points, 0), maxshape=(n_points, None),
                             dtype="f4", chunks=(n_points, 64))
        d.attrs.update({"units": SERIES_UNITS[name], "long_name": SUMMARY_UNITS[name][1],
                        **aux})
        d.dims[0].attach_scale(sw)
        d.dims[1].attach_scale(t)
    return _create_final_fields(f, models[0], n_points, configs[0], aux)


def _append_frame(f: h5py.File, models: list[Model], t_s: float, states,
                  peaks=None) -> None:
    """Write every point's summaries at time `t_s` as the next frame, flushed to disk."""
    s = _point_summaries(models, states, None if peaks is None else np.asarray(peaks))
    n = f["time"].shape[0]
    f["time"].resize(n + 1, axis=0)
    f["time"][n] = t_s
    for name in SERIES:
        f[name].resize(n + 1, axis=1)
        f[name][:, n] = s[name]
    f.flush()


def summary_panels(table: dict[str, np.ndarray], *, exposed: bool = True,
                   well_mixed: bool = False) -> list[tuple[np.ndarray, str, float | None]]:
    """The summary figure's panels, (values per point, y label, y limit or None): what
    dissolved for cell-free vials; else the final viability, the share the stimuli's own
    oxidative hits killed and the peak ROS where the cells are (`exposed`: some point has
    an ultrasound or light exposure; without, the share is left out, and the peak ROS
    unless it is above 0 somewhere). A well-mixed culture's read-outs say "culture" and
    "well", not "tissue"."""
    if cell_free(table):
        return [(table["dissolved_percent"], "material dissolved at the end (%)", None)]
    panels = [(100 * table["tissue_mean_viability"],
               "final culture viability (%)" if well_mixed
               else "final tissue-mean viability (%)", 105.0)]
    lost = table["stimulus_viability_loss"]
    if exposed and np.any(np.isfinite(lost)):
        panels.append((100 * lost, "killed by the stimuli's own oxidative hits (%)", None))
    peak = table["peak_tissue_max_ros"]
    if exposed or np.any(np.isfinite(peak) & (peak > 0)):
        panels.append((peak, "peak diffusible ROS in the well (µM)" if well_mixed
                       else "peak diffusible ROS in tissue (µM)", None))
    return panels


def _point_summaries(models: list[Model], states, peaks: np.ndarray | None
                     ) -> dict[str, np.ndarray]:
    """Every point's summary of one frame, exactly as a single run computes it (its
    `on_frame`): `summarise` on the point's output fields, the ROS maxima raised to the
    per-step peaks of the interval in tissue and in medium (`with_step_peaks`; `peaks`:
    (points, places, species))."""
    mobile, fixed, step = (np.asarray(a) for a in (states.mobile, states.fixed, states.step))
    bulk = None if states.bulk is None else np.asarray(states.bulk)
    rows = []
    for i, model in enumerate(models):
        fields = _output_fields(model, State(mobile[i], fixed[i], step[i]))
        rows.append(with_step_peaks(model, summarise(model, fields,
                                                     None if bulk is None else bulk[i],
                                                     int(step[i])),
                                    None if peaks is None else peaks[i]))
    return {name: np.asarray([r[name] for r in rows], float) for name in SERIES}


def _peak(a: np.ndarray) -> np.ndarray:
    """Max over time (axis 1) per point, NaN where a point has no finite value."""
    finite = np.isfinite(a)
    return np.where(finite.any(axis=1), np.max(np.where(finite, a, -np.inf), axis=1), np.nan)


def _create_final_fields(f: h5py.File, model: Model, n_points: int,
                         config: dict[str, Any], aux: dict[str, str]) -> list[str]:
    """Allocate `final_<variable>` (sweep, *dims) up front (NaN until the run ends): (sweep,
    z, y, x) on a 3D grid, (sweep, r) on a radial one, nothing well-mixed."""
    from ._grid import build_geometry
    from ._kinetics import LONG_NAMES, UNITS

    geo = build_geometry(config)
    if not geo.dims:
        return []
    for name, coord in geo.coords.items():
        d = f.create_dataset(name, data=coord)
        d.attrs.update({"units": "um", "long_name": COORD_LONG_NAMES[name]})
        if name != "r":
            d.attrs["axis"] = name.upper()
        d.make_scale(name)
    names = list(model.mobile_names + model.fixed_names)
    for name in names:
        d = f.create_dataset(f"final_{name}", shape=(n_points,) + model.tissue.shape,
                             dtype="f4", fillvalue=np.float32(np.nan))
        d.attrs.update({"units": UNITS.get(name, "uM"),
                        "long_name": f"{LONG_NAMES.get(name, name)} at the end of the run",
                        **aux})
        for i, dim in enumerate(("sweep",) + geo.dims):
            d.dims[i].attach_scale(f[dim])
    return names


def _summary_paths(out: Path) -> tuple[Path, Path]:
    """The sweep's table and figure beside its file: `<out>_summary.csv`, `.png`."""
    return out.with_name(out.stem + "_summary.csv"), out.with_name(out.stem + "_summary.png")


def _write_table(out: Path, keys, points, table) -> None:
    with open(_summary_paths(out)[0], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(keys + [f"final_{_column(n)}" for n in SERIES]
                   + [f"peak_{_column(n)}" for n in PEAK_SERIES])
        for i, p in enumerate(points):
            w.writerow(list(p) + [f"{table[n][i]:.6g}" for n in SERIES]
                       + [f"{table['peak_' + n][i]:.6g}" for n in PEAK_SERIES])


def _column(name: str) -> str:
    """`<series>_<units>` for the CSV header, unless the name already ends in its unit."""
    unit = SERIES_UNITS[name]
    if name.endswith(f"_{unit}") or (unit == "%" and name.endswith("_percent")):
        return name
    return f"{name}_{unit}"


def cell_free(table: dict[str, np.ndarray]) -> bool:
    """A sweep of release vials: no point has cells (its viability is NaN throughout)."""
    return bool(np.all(np.isnan(table["tissue_mean_viability"])))


PANEL_IN, PANEL_HEIGHT_IN = 4.2, 4  # the summary figure's width per panel and height
LEGEND_ROW_IN = 0.2  # the height a row of the key below the panels takes
LINE_STYLES = ("-", "--", ":", "-.")  # past the 10 colours of the cycle, a line's style
LOG_TICK_GAP = 0.12  # the least gap between labelled swept values, a share of the log axis


def _log_ticks(values: np.ndarray) -> list[float]:
    """The swept values to label on a log axis: all of them, less those closer to the last
    labelled than `LOG_TICK_GAP` of the axis' decades (a long list of values wrote its labels
    over each other); the first is always labelled."""
    swept = np.unique(values)
    span = float(np.log10(swept[-1] / swept[0]))
    ticks = [float(swept[0])]
    for v in swept[1:]:
        if np.log10(v / ticks[-1]) >= LOG_TICK_GAP * span:
            ticks.append(float(v))
    return ticks


def _plot_summary(out: Path, keys, points, panels, *, end_h: float | None = None) -> Any:
    """Each panel's read-out (`summary_panels`) against the first swept key, a line per
    combination of the other keys that take several values (a key with one value is named
    in the title instead), from 0 to the panel's limit (None: fit the data), under a title
    naming the sweep, its points and the runs' length (`end_h`, h). The key of the lines
    sits below the panels, in as many columns as fit the figure's width, the figure taller
    by its rows; past 10 lines their styles change as the colours repeat. The x axis is
    logarithmic where the swept values are positive and span a decade or more. Drawn on a
    `Figure` rendered by Agg, never through pyplot, so the caller's backend (a notebook's)
    is left as it was."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    from .plot import _wrap, figure_unit

    pts = np.asarray(points, float)
    x = pts[:, 0]
    varied = [i for i in range(1, len(keys)) if len(np.unique(pts[:, i])) > 1]
    fixed = [i for i in range(1, len(keys)) if i not in varied]
    others = [tuple(r) for r in pts[:, varied]]
    combos = list(dict.fromkeys(others))
    width = PANEL_IN * len(panels) + 1.2
    labels = [", ".join(f"{keys[i]} = {v:g}" for i, v in zip(varied, c, strict=True))
              for c in combos]
    ncols = rows = 0
    if varied:  # as many columns of the key as fit the width (~14 characters of 8 pt an inch)
        chars = int(14 * (width - 0.4))
        longest = max(len(label) for label in labels)
        ncols = max(1, min(len(combos), 4, chars // (longest + 8)))
        labels = [_wrap(label, chars // ncols - 8) for label in labels]
        for start in range(0, len(labels), ncols):
            rows += max(label.count("\n") + 1 for label in labels[start:start + ncols])
    fig = Figure(figsize=(width, PANEL_HEIGHT_IN + LEGEND_ROW_IN * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (values, ylabel, top) in zip(axes, panels, strict=True):
        for j, (combo, label) in enumerate(zip(combos, labels or [None], strict=False)):
            sel = np.array([o == combo for o in others])
            ax.plot(x[sel], np.asarray(values)[sel], "o", ls=LINE_STYLES[j // 10 % 4],
                    color=f"C{j % 10}", label=label)
        # wrapped to the panel's axes (~11 characters of 10 pt an inch), also after the
        # key's dots: a long key and unit (kinetics.sono_radical_yield_uM_per_s_per_ug_per_ml
        # (µM/s per µg/mL)) ran into the next panel's
        unit = key_units(keys[0])  # "1": a number without unit (a pH, a fraction)
        xlabel = keys[0].replace(".", ". ") + (f" ({figure_unit(unit)})" if unit != "1" else "")
        ax.set_xlabel(_wrap(xlabel, int(11 * (PANEL_IN - 0.8))).replace(". ", "."))
        if np.all(x > 0) and x.max() >= 10.0 * x.min():
            ax.set_xscale("log")
            swept = _log_ticks(x)  # ticks at the swept values, as plain numbers
            ax.set_xticks(swept, [f"{v:g}" for v in swept])
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel(_wrap(ylabel, int(9 * PANEL_HEIGHT_IN)))
        if top is not None:  # a series at 0 shows its markers whole, above the axis
            ax.set_ylim(-0.02 * top, top)
        else:
            ax.set_ylim(bottom=-0.02 * max(ax.get_ylim()[1], 0.0))
    if varied:  # one key below the panels, where no point can lie under it
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                   fontsize=8, frameon=False, ncols=ncols)
    title = f"sweep {out.name}: {count(len(points), 'point')} against {keys[0]}"
    if varied:
        title += f", a line per {', '.join(keys[i] for i in varied)}"
    if fixed:
        title += f" ({', '.join(f'{keys[i]} = {pts[0, i]:g}' for i in fixed)} at every point)"
    if end_h is not None:
        title += f"; read-outs at the end of the runs ({end_h:g} h)"
        if any(label.startswith("peak") for _, label, _ in panels):
            title += ", peaks over them"
    # wrapped to the figure's width (~11 characters of 10 pt an inch): a one-panel figure
    # (a cell-free sweep's) would cut it off
    fig.suptitle(_wrap(title, int(11 * fig.get_figwidth())), fontsize=10)
    fig.savefig(_summary_paths(out)[1], dpi=150)
    return fig
