"""`zn-pde inspect OUT.h5`: what a run holds, as readable text.

Status, config summary, grid, saved times, every variable with units, dimensions and range,
and the key scalars (tissue-mean Zn2+, ROS and viability, ROS maxima in tissue and in medium,
rim and core viability, depth of kill) over time. Works on complete, incomplete (interrupted,
killed) and still-running files, 3D, radial and well-mixed. A sweep output (`[sweep]`) is
described as its swept keys and values, what it stores, and one summary row per point.
"""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ._errors import InputError, check_path
from ._progress import count
from .config import dumps
from .io import RunFile, read_run
from .io._hdf5 import attrs_text, open_read_only

MAX_TABLE_ROWS = 30  # a day saved hourly, with its t = 0 and event frames, fits whole
MAX_SWEEP_ROWS = 50
SWEEP_FORMAT = "zn_pde_sweep"

_STATUS_TEXT = {
    "complete": "complete",
    "interrupted": "INCOMPLETE: interrupted (Ctrl-C or SIGTERM)",
    "failed": "INCOMPLETE: the run failed",
    "running": "INCOMPLETE: still running, or killed while running",
}


def describe(path: str | Path, *, config: bool = False) -> str:
    """A multi-section text description of the output at `path` (InputError if unusable)."""
    check_path("describe", path)
    if is_sweep(path):
        return describe_sweep(path, config=config)
    run = read_run(path)
    out: list[str] = []
    out += _header(run)
    out += _config_summary(run.config)
    out += _protocol(run)
    out += _grid(run)
    out += _times(run)
    out += _variables(run)
    out += _scalars(run)
    out += _control(run)
    if config:
        out += ["", "full resolved config (as stored in the file)", "-" * 44,
                dumps(run.config).rstrip()]
    else:
        out += ["", f"(full resolved config: zn-pde inspect --config {shlex.quote(str(run.path))})"]
    return "\n".join(out)


def _history_lines(attrs) -> list[str]:
    """The `history` lines (when, what: run, resumed or sweep, on which backend and devices);
    files written before zn-pde recorded them have none."""
    lines = str(attrs.get("history", "")).splitlines()
    return [f"  {'history' if i == 0 else '':<10}  {line}" for i, line in enumerate(lines)]


def _header(run: RunFile) -> list[str]:
    size = run.path.stat().st_size
    status = _STATUS_TEXT.get(run.status, f"unknown status {run.status!r}")
    lines = [f"zn-pde output {run.path}",
             f"  status      {status}",
             f"  written by  zn-pde {run.attrs.get('zn_pde_version', '?')}, "
             f"{run.attrs.get('Conventions', '')}, {_bytes(size)}"]
    lines += _history_lines(run.attrs)
    if "message" in run.attrs:
        lines.append(f"  message     {run.attrs['message']}")
    if not run.complete:
        when = " (if no run is still writing it)" if run.status == "running" else ""
        lines.append(f"  continue    zn-pde run --resume {shlex.quote(str(run.path))}{when}")
    return lines


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover


def _g(v: Any) -> str:
    return f"{v:g}" if isinstance(v, int | float) else str(v)


def duration_text(minutes: Any) -> str:
    """An exposure's duration as people write it: "40 s" below a minute (not "0.666667 min"),
    else "1.5 min"."""
    if not isinstance(minutes, int | float):
        return f"{minutes} min"
    return f"{60 * minutes:.4g} s" if 0 < minutes < 1 else f"{minutes:.4g} min"


def duty_text(exposure: dict[str, Any]) -> str:
    """", pulsed at 50% duty" for an exposure on a share of its window, else ""."""
    duty = exposure.get("duty_cycle", 1.0)
    return f", pulsed at {duty:.0%} duty" if isinstance(duty, int | float) and duty < 1.0 else ""


def _exposures(config: dict[str, Any], section: str) -> list[str]:
    out = []
    for e in config.get(section, []) or []:
        if not isinstance(e, dict):
            continue
        what = (f"{_g(e.get('intensity_W_per_cm2'))} W/cm2, {_g(e.get('frequency_MHz'))} MHz"
                if section == "ultrasound" else
                f"{_g(e.get('irradiance_mW_per_cm2'))} mW/cm2, {_g(e.get('wavelength_nm'))} nm")
        what += duty_text(e)
        repeats = e.get("repeats", 1)
        if isinstance(repeats, int) and repeats > 1:
            what += f"; {repeats} times, every {_g(e.get('repeat_every_h'))} h"
        out.append(f"from {_g(e.get('start_h'))} h for {duration_text(e.get('duration_min'))}, "
                   f"{what}")
    return out


def _config_summary(c: dict[str, Any]) -> list[str]:
    lines = ["", "config"]
    mat = c.get("material")
    if isinstance(mat, dict):
        lines.append(f"  material    {mat.get('kind')}, dose {_g(mat.get('dose_ug_per_ml'))} "
                     "ug/mL added to the medium at t = 0")
    else:
        lines.append("  material    none (passive species only)")
    geo = c.get("geometry", {})
    g = f"  geometry    {geo.get('kind')}"
    if geo.get("kind") == "spheroid" and c.get("grid", {}).get("kind") == "radial":
        g += f", radius {_g(geo.get('radius_um'))} um, centred at r = 0"
    elif geo.get("kind") == "spheroid":
        centre = ", ".join(_g(x) for x in geo.get("center_um") or [])
        g += f", radius {_g(geo.get('radius_um'))} um, centre ({centre}) um"
    if geo.get("kind") == "medium":
        g += " (no cells)"
    elif "cell_volume_fraction" in geo:
        g += f", cell volume fraction {_g(geo['cell_volume_fraction'])}"
    lines.append(g)
    ph = c.get("ph", {})
    if isinstance(ph, dict) and ph and c.get("grid", {}).get("kind") == "well_mixed":
        lines.append(f"  pH          {_g(ph.get('medium'))} (the well-mixed compartment)")
    elif isinstance(ph, dict) and ph:
        lines.append(f"  pH          medium {_g(ph.get('medium'))}, tissue rim "
                     f"{_g(ph.get('tissue_rim'))} to core {_g(ph.get('tissue_core'))}")
    if c.get("grid", {}).get("kind") != "well_mixed":
        lines.append(f"  boundary    {c.get('boundary', {}).get('kind')}")
    for section in ("ultrasound", "light"):
        items = _exposures(c, section)
        lines.append(f"  {section:<11} {items[0] if items else 'none'}")
        lines += [f"  {'':<11} {x}" for x in items[1:]]
    species = [s.get("name") for s in c.get("species", []) or [] if isinstance(s, dict)]
    if species:
        lines.append(f"  species     {', '.join(species)}")
    return lines


_EVENT_TEXT = {"dose": "dose", "medium_exchange": "medium exchange",
               "ultrasound_start": "ultrasound on", "ultrasound_end": "ultrasound off",
               "light_start": "light on", "light_end": "light off"}


def _protocol(run: RunFile) -> list[str]:
    """The event table the run stored (`/event_*`), one line per event in time order."""
    with run.open() as f:
        if "event_time" not in f:
            return []
        times = np.asarray(f["event_time"][:], float)
        cols = {k: [_text(v) for v in f[f"event_{k}"][:]] for k in ("kind", "units", "label")}
        values = np.asarray(f["event_value"][:], float)
    lines = ["", f"protocol ({times.size} event{'' if times.size == 1 else 's'})"]
    rows = list(zip(times, cols["kind"], values, cols["units"], cols["label"], strict=True))
    for t, kind, value, units, label in rows[:MAX_TABLE_ROWS]:
        what = _EVENT_TEXT.get(kind, kind)
        if kind == "medium_exchange":
            detail = f"fresh particle-free medium, pH {value:g}"
        else:
            detail = f"{value:g} {units}"
        lines.append(f"  {t / 3600:>9.4g} h  {what:<16} {detail:<22} ({label})")
    if len(rows) > MAX_TABLE_ROWS:
        lines.append(f"  ... {len(rows) - MAX_TABLE_ROWS} more (the /event_* datasets)")
    return lines


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _grid(run: RunFile) -> list[str]:
    c = run.config
    if run.well_mixed:
        return ["", "grid", "  well_mixed: one compartment, no space"]
    if run.radial:
        return _radial_grid(run)
    nz, ny, nx = run.z_um.size, run.y_um.size, run.x_um.size
    h = c.get("grid", {}).get("spacing_um", float(run.x_um[1] - run.x_um[0]) if nx > 1 else 0)
    lines = ["", "grid",
             f"  cartesian   {nx} x {ny} x {nz} voxels (x, y, z), spacing {_g(h)} um",
             f"  domain      x, y, z in [0, {nx * h:g}] x [0, {ny * h:g}] x [0, {nz * h:g}] um; "
             "coordinates are voxel centres"]
    if run.tissue is not None:
        n = int(run.tissue.sum())
        lines.append(f"  tissue      {n} voxels ({100 * n / run.tissue.size:.1f} % of the "
                     f"domain, {n * (h * 1e-4) ** 3 * 1e3:.3g} uL)")
    return lines


def _radial_grid(run: RunFile) -> list[str]:
    n = run.r_um.size
    h = run.config.get("grid", {}).get("spacing_um", 2 * float(run.r_um[0]) if n else 0.0)
    lines = ["", "grid",
             f"  radial      {n} shells of {_g(h)} um (spherically symmetric about r = 0)",
             f"  domain      r in [0, {n * h:g}] um; coordinates are shell centres; outer wall "
             f"{run.config.get('boundary', {}).get('kind')}"]
    if run.tissue is not None and not run.tissue.any():
        lines.append("  tissue      none (cell-free medium)")
    elif run.tissue is not None:
        k = int(run.tissue.sum())
        outer = k * h
        share = 100 * (outer / (n * h)) ** 3
        lines.append(f"  tissue      {k} shells, r < {outer:g} um ({share:.1f} % of the domain "
                     f"volume, {4 / 3 * np.pi * (outer * 1e-4) ** 3 * 1e3:.3g} uL)")
    return lines


def _times(run: RunFile) -> list[str]:
    t = run.times_s / 3600.0
    c = run.config.get("time", {})
    planned = c.get("end_h")
    lines = ["", "times"]
    if run.n_frames == 0:
        lines.append("  no frame saved yet")
        return lines
    lines.append(f"  {count(run.n_frames, 'frame')} from {t[0]:g} to {t[-1]:g} h"
                 + (f" (run planned to {_g(planned)} h)" if planned is not None else ""))
    lines.append(f"  saved every {_g(c.get('save_every_min'))} min, time step "
                 f"{_g(c.get('dt_s'))} s")
    extra = event_frame_times_h(t, c)
    if extra.size:
        shown = ", ".join(f"{x:.4g}" for x in extra[:MAX_EVENT_FRAMES])
        more = f", ... ({extra.size} in all)" if extra.size > MAX_EVENT_FRAMES else ""
        lines.append(f"  and around the events (time.save_around_events): {shown}{more} h")
    return lines


MAX_EVENT_FRAMES = 12  # off-grid frame times listed by `inspect`


def event_frame_times_h(t_h: np.ndarray, time_cfg: dict) -> np.ndarray:
    """The saved times (h) that are not on the save_every_min grid nor the end: the frames
    around exposures, doses and exchanges."""
    every = time_cfg.get("save_every_min")
    if not isinstance(every, int | float) or every <= 0 or t_h.size == 0:
        return np.zeros(0)
    k = t_h * 60.0 / every
    end = time_cfg.get("end_h", t_h[-1])
    off = (np.abs(k - np.round(k)) > 1e-6) & (np.abs(t_h - end) > 1e-9)
    return t_h[off]


def _range(d, n: int) -> tuple[float, float, bool]:
    """min and max over the first `n` frames, ignoring NaN (read frame by frame)."""
    lo, hi, all_nan = np.inf, -np.inf, True
    if d.ndim == 1 or n == 0:
        a = np.asarray(d[:n] if d.maxshape[0] is None else d[...], float)
        finite = a[np.isfinite(a)]
        if finite.size:
            return float(finite.min()), float(finite.max()), False
        return np.nan, np.nan, True
    for i in range(n):
        a = np.asarray(d[i], float)
        finite = a[np.isfinite(a)]
        if finite.size:
            all_nan = False
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    return (np.nan, np.nan, True) if all_nan else (lo, hi, False)


def _variables(run: RunFile) -> list[str]:
    lines = ["", "variables"]
    rows = [("name", "units", "dims", "min", "max", "meaning")]
    n = run.n_frames
    with run.open() as f:
        space = ", ".join(run.dims)
        for group, dims in ((run.fields, f"(time, {space})" if space else "(time,)"),
                            (run.series, "(time,)"), (run.static, f"({space},)"
                                                      if len(run.dims) == 1 else f"({space})")):
            for name in group:
                d = f[name]
                if d.maxshape[0] is None:
                    lo, hi, empty = _range(d, n)
                else:
                    a = np.asarray(d[...], float)
                    finite = a[np.isfinite(a)]
                    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (
                        np.nan, np.nan)
                    empty = not finite.size
                rows.append((name, run.units.get(name) or "-", dims,
                             "-" if empty else f"{lo:.4g}", "-" if empty else f"{hi:.4g}",
                             run.long_names.get(name, "")))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]),
                 r[3].rjust(widths[3]), r[4].rjust(widths[4]), r[5]]
        lines.append("  " + "  ".join(cells).rstrip())
    if "viability" in run.fields and not run.well_mixed:
        lines.append("  (viability is NaN in medium cells of the grid, where there are no cells)")
    return lines


# (dataset, column title, factor) for the key-scalar table
_KEY_COLUMNS = (
    ("tissue_mean_zn", "Zn2+ uM", 1.0),
    ("tissue_mean_zn_cell", "Zn cell uM", 1.0),
    ("tissue_mean_gsh", "GSH uM", 1.0),
    ("tissue_mean_atp_supply", "ATP %", 100.0),
    ("tissue_mean_ros", "ROS uM", 1.0),
    ("tissue_max_ros", "ROS max tissue", 1.0),
    ("medium_max_ros", "ROS max medium", 1.0),
    ("max_ros", "ROS max all*", 1.0),
    ("tissue_mean_viability", "viability %", 100.0),
    ("tissue_rim_viability", "rim %", 100.0),
    ("tissue_core_viability", "core %", 100.0),
    ("depth_of_kill_um", "kill depth um", 1.0),
    ("penetration_depth_um", "NP depth um", 1.0),
)
_KEY_NOTE_HEAD = (
    "  (tissue means over tissue voxels; GSH: the living cells' glutathione; ATP: their ATP\n"
    "  supply, % of an untreated cell's; ROS max\n"
    "  tissue / medium (uM): the maxima over the tissue / the cell-free medium, at the frame\n"
    "  and after every step since the previous frame (peaks between frames, e.g. during an\n"
    "  exposure, included); ROS max all* (uM): the larger of the two; rim / core: viability\n"
    "  of the outer / inner 20 % of the radius (a uniform block: of the way from its faces\n"
    "  to its middle); kill depth: down to where the shell-mean\n"
    "  viability stays below 50 %; NP depth: particle penetration, ")
_KEY_NOTE = _KEY_NOTE_HEAD + (
    "down to where the\n"
    "  shell-mean particle mass falls below 10 % of its tissue maximum, nan where the tissue\n"
    "  holds none)")
# files written before the penetration depth was read against the tissue's maximum (they
# have no particle_peak_depth_um): against the outermost shell's
_KEY_NOTE_RIM = _KEY_NOTE_HEAD + "where the particle mass\n  falls to 10 % of the rim's)"
_WELL_MIXED_COLUMNS = (
    ("np", "NP ug/mL", 1.0),
    ("np_int", "NP int ug/mL", 1.0),
    ("zn", "Zn2+ uM", 1.0),
    ("zn_cell", "Zn cell uM", 1.0),
    ("ros", "ROS uM", 1.0),
    ("max_ros", "max ROS uM", 1.0),
    ("gsh", "GSH uM", 1.0),
    ("tissue_mean_atp_supply", "ATP %", 100.0),
    ("viability", "viability %", 100.0),
)


def finite_mean(a: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean of the finite values, by volume where `weights` (cell volumes) are given."""
    ok = np.isfinite(a)
    if not ok.any():
        return float("nan")
    return float(np.average(a[ok], weights=None if weights is None else weights[ok]))


def passive_final_means(run: RunFile) -> dict[str, dict[str, float]]:
    """Each passive species' final mean, by volume (a radial grid weights its shells), over
    the tissue (`final_tissue_mean`, where the run has tissue) and the domain
    (`final_domain_mean`; a well-mixed run: the compartment's value), in the species' units
    (uM): the summary `zn-pde run` prints for a run of passive species only, which writes no
    series, and the attributes `open_run` and `simulate` give its species' variables."""
    tissue = run.tissue if run.tissue is not None and run.tissue.any() else None
    out: dict[str, dict[str, float]] = {}
    with run.open() as f:
        for sp in run.config.get("species", []):
            d = f[sp["name"]]
            if d.shape[0] == 0:  # no frame saved yet
                continue
            final = np.asarray(d[-1], float)
            if final.ndim == 0:
                out[sp["name"]] = {"final_domain_mean": float(final)}
                continue
            w = cell_volumes(run, final.shape)
            means = {"final_domain_mean": finite_mean(final, w)}
            if tissue is not None:
                means = {"final_tissue_mean": finite_mean(final[tissue], w[tissue]), **means}
            out[sp["name"]] = means
    return out


def cell_volumes(run: RunFile, shape: tuple[int, ...]) -> np.ndarray:
    """Volume weights of a field's cells: the shell volumes of a radial run (a tissue mean
    weights each shell by its volume, as the model's series do), uniform voxels otherwise."""
    if run.radial:
        from ._grid import shell_volumes_um3

        return shell_volumes_um3(shape[0], 1.0)
    return np.ones(shape)


def _rows(n: int, keep: np.ndarray | None = None) -> np.ndarray:
    """Every frame, or MAX_TABLE_ROWS of them: the first, the last and `keep` (the frames
    around events, up to half the rows), the rest spread evenly over the others."""
    if n <= MAX_TABLE_ROWS:
        return np.arange(n)
    keep = np.asarray([] if keep is None else keep, int)[:MAX_TABLE_ROWS // 2]
    must = np.unique(np.concatenate([[0, n - 1], keep]))
    others = np.setdiff1d(np.arange(n), must)
    pick = np.round(np.linspace(0, others.size - 1, MAX_TABLE_ROWS - must.size)).astype(int)
    return np.unique(np.concatenate([must, others[pick]]))


def _control(run: RunFile) -> list[str]:
    """The control `zn-pde run` wrote beside a run with stimuli (the same run without them),
    and what the stimuli killed against it."""
    from ._run import control_steps_longer, killed_text, own_control

    path = own_control(run.path)
    if path is None or "tissue_mean_viability" not in run.series:
        return []
    try:
        control = read_run(path)
    except InputError:
        return []
    lines = ["", f"control run without the stimuli: {path} ({control.status})"]
    if not control.complete:
        lines.append(f"  incomplete: continue it with zn-pde run --resume {shlex.quote(str(path))}")
    elif np.isclose(control.times_s[-1], run.times_s[-1], rtol=1e-9, atol=1e-6):
        with run.open() as f, control.open() as g:
            alive = float(f["tissue_mean_viability"][run.n_frames - 1])
            alive_control = float(g["tissue_mean_viability"][control.n_frames - 1])
        if not (np.isfinite(alive) and np.isfinite(alive_control)):
            # a cell-free run (geometry.kind = "medium"): no viability to compare
            lines.append("  no cells in the run: nothing for the stimuli to kill (the control "
                         "shows the medium without them)")
        else:
            longer = control_steps_longer(run.config, control.config)
            lines.append(f"  killed by the stimuli: "
                         f"{killed_text(alive, alive_control, longer)} "
                         f"({100 * alive:.2f} % alive against {100 * alive_control:.2f} % "
                         "at the end)")
    return lines


def _scalars(run: RunFile) -> list[str]:
    n = run.n_frames
    if n == 0:
        return []
    note = None
    if run.well_mixed:
        spec = [c for c in _WELL_MIXED_COLUMNS if c[0] in run.fields + run.series]
        spec += [(name, f"{name} {run.units.get(name, '')}".strip(), 1.0)
                 for name in run.fields if name not in dict((c[0], c) for c in spec)]
        title = ("key scalars (the well-mixed compartment; max ROS over every step since the "
                 "previous frame)" if "max_ros" in run.series
                 else "key scalars (the well-mixed compartment)")
    elif run.series:
        spec = [c for c in _KEY_COLUMNS if c[0] in run.series]
        if "tissue_max_ros" in run.series:
            title = "key scalars (tissue means; what each column is: below the table)"
            note = _KEY_NOTE if "particle_peak_depth_um" in run.series else _KEY_NOTE_RIM
        else:  # a file of an earlier version: one ROS maximum, over the whole domain
            title = ("key scalars (tissue means; ROS max all*: maximum ROS anywhere, medium "
                     "or tissue, over every step since the previous frame; NP depth: particle "
                     "penetration, where the particle mass falls to 10 % of the rim's)")
    else:
        spec = [(name, f"{name} {run.units.get(name, '')}".strip(), 1.0) for name in run.fields]
        title = ("key scalars (tissue means)" if run.tissue is not None and run.tissue.any()
                 else "key scalars (domain means)")
    if not spec:
        return []
    t_h = run.times_s[:n] / 3600.0
    around = np.flatnonzero(np.isin(t_h, event_frame_times_h(t_h, run.config.get("time", {}))))
    # and the frame before each (the state just before an exposure, dose or exchange)
    around = np.unique(np.concatenate([around - 1, around]))
    idx = _rows(n, around[around >= 0])
    cols: list[np.ndarray] = []
    with run.open() as f:
        for name, _, factor in spec:
            d = f[name]
            if d.ndim == 1:
                cols.append(np.asarray(d[:n], float)[idx] * factor)
            else:  # passive-species runs store no series: average the fields here
                mask = run.tissue if run.tissue is not None and run.tissue.any() else None
                weights = cell_volumes(run, d.shape[1:])
                vals = [finite_mean(np.asarray(d[i], float)[mask] if mask is not None
                                     else np.asarray(d[i], float),
                                     weights[mask] if mask is not None else weights)
                        for i in idx]
                cols.append(np.asarray(vals) * factor)
    head = ["time h"] + [c[1] for c in spec]
    body = [[f"{run.times_s[i] / 3600:g}"] + [f"{col[k]:.4g}" for col in cols]
            for k, i in enumerate(idx)]
    widths = [max(len(r[j]) for r in [head] + body) for j in range(len(head))]
    lines = ["", title]
    for r in [head] + body:
        lines.append("  " + "  ".join(x.rjust(w) for x, w in zip(r, widths, strict=True)))
    if len(idx) < n:
        left = np.setdiff1d(np.arange(n), idx)
        which = (", ".join(f"{run.times_s[i] / 3600:g}" for i in left) + " h left out"
                 if left.size <= 5 else f"{left.size} left out")
        lines.append(f"  ({len(idx)} of {n} frames shown, {which}; every frame: "
                     f"zn_pde.open_run({str(run.path)!r}))")
    if note:
        lines.append(note)
    return lines


# --- sweep outputs -------------------------------------------------------------------------

# (series, column title, factor, "final" | "peak") for the per-point table of a sweep
_SWEEP_COLUMNS = (
    ("tissue_mean_viability", "viability %", 100.0, "final"),
    ("tissue_rim_viability", "rim %", 100.0, "final"),
    ("tissue_core_viability", "core %", 100.0, "final"),
    ("depth_of_kill_um", "kill depth um", 1.0, "final"),
    ("penetration_depth_um", "NP depth um", 1.0, "final"),
    ("tissue_mean_zn", "Zn2+ uM", 1.0, "final"),
    ("tissue_mean_zn_cell", "Zn cell uM", 1.0, "final"),
    ("dissolved_percent", "dissolved %", 1.0, "final"),
    ("tissue_max_ros", "peak ROS tissue", 1.0, "peak"),
    ("medium_max_ros", "peak ROS medium", 1.0, "peak"),
    ("max_ros", "peak ROS all*", 1.0, "peak"),
)


def is_sweep(path: str | Path) -> bool:
    """Whether `path` is an HDF5 file marked as a zn-pde sweep output (False if unreadable)."""
    try:
        with open_read_only(path) as f:
            mark = f.attrs.get("format")
    except Exception:  # not a file, not HDF5, ...: read_run says why
        return False
    if isinstance(mark, bytes):
        mark = mark.decode()
    return mark == SWEEP_FORMAT


def sweep_complete(path: str | Path) -> bool:
    """Whether the sweep output at `path` completed (and so has its summary table and
    figure beside it); False if unreadable."""
    try:
        with open_read_only(path) as f:
            return int(f.attrs.get("complete", 0)) == 1
    except Exception:
        return False


def describe_sweep(path: str | Path, *, config: bool = False) -> str:
    """The swept keys and values, times, stored arrays and one summary row per point."""
    from ._run import SUMMARY_UNITS  # the single run's series, in their order

    order = list(SUMMARY_UNITS)
    p = Path(path)
    with open_read_only(p) as f:
        attrs = attrs_text(f.attrs)
        try:
            cfg = tomllib.loads(attrs.get("config", ""))
        except tomllib.TOMLDecodeError as e:
            raise InputError(f"a zn-pde sweep output, but its stored config is not valid TOML "
                             f"({e})", file=str(p)) from None
        swept = [(n, d) for n, d in f.items() if isinstance(d, h5py.Dataset)
                 and "config_key" in d.attrs]
        if "sweep" not in f or "time" not in f or not swept:
            raise InputError("a zn-pde sweep output, but it holds no sweep points (no /sweep, "
                             "/time and swept-key coordinates); it was not written by a "
                             "complete `zn-pde run` of a [sweep] config", file=str(p))
        n_points = int(f["sweep"].shape[0])
        keys = [(attrs_text(d.attrs)["config_key"], attrs_text(d.attrs).get("units", "1"),
                 np.asarray(d[...], float)) for _, d in swept]
        # in the [sweep] table's order, as the summary table and figure (the file lists its
        # datasets alphabetically): the first key is the figure's x axis, the last varies
        # fastest down the points
        written = list(cfg.get("sweep", {}))
        keys.sort(key=lambda k: written.index(k[0]) if k[0] in written else len(written))
        times = np.asarray(f["time"][...], float)
        series = sorted((n for n, d in f.items() if isinstance(d, h5py.Dataset)
                         and d.ndim == 2 and d.shape[0] == n_points
                         and not n.startswith("final_")),  # (sweep, r) finals of radial runs
                        key=lambda n: (order.index(n) if n in order else len(order), n))
        n_frames = min([times.size] + [int(f[n].shape[1]) for n in series])
        rows = []
        for name in series:
            d = f[name]
            rows.append((name, _text_attr(d, "units") or "-", "(sweep, time)",
                         _text_attr(d, "long_name")))
        finals = [n for n, d in f.items() if isinstance(d, h5py.Dataset)
                  and n.startswith("final_")]
        for name in finals:
            rows.append((name, _text_attr(f[name], "units") or "-",
                         "(sweep, r)" if "r" in f else "(sweep, z, y, x)",
                         "the field at the end of the run, per point (NaN until it ends)"))
        values: dict[str, np.ndarray] = {}
        if n_frames:
            for name, _, _, how in _SWEEP_COLUMNS:
                if name in series:
                    a = np.asarray(f[name][:, :n_frames], float)
                    values[name] = a[:, -1] if how == "final" else _nanmax(a)
        grid = (f"radial      {f['r'].size} shells (r)" if "r" in f else
                f"cartesian   {f['x'].size} x {f['y'].size} x {f['z'].size} voxels (x, y, z)"
                if "x" in f else "well_mixed: one compartment, no space")
    size = p.stat().st_size
    status = _STATUS_TEXT.get(attrs.get("status", ""), f"unknown status "
                              f"{attrs.get('status')!r}")
    out = [f"zn-pde sweep output {p}",
           f"  status      {status}",
           f"  written by  zn-pde {attrs.get('zn_pde_version', '?')}, "
           f"{attrs.get('Conventions', '')}, {_bytes(size)}",
           *_history_lines(attrs)]
    if "message" in attrs:
        out.append(f"  message     {attrs['message']}")
    # the table and figure are written once the sweep is complete
    out.append(f"  table       {p.stem}_summary.csv and figure {p.stem}_summary.png beside it"
               if attrs.get("status") == "complete" else
               "  table       none: the sweep did not complete (the summary table and figure "
               "are written at its end)")
    out += _config_summary({k: v for k, v in cfg.items() if k != "sweep"})
    out.append("  (each point replaces the swept keys below with its own values)")
    out += ["", f"swept keys ({count(n_points, 'point')}: every combination of the values)"]
    for key, units, vals in keys:
        shown = ", ".join(f"{v:g}" for v in dict.fromkeys(vals.tolist()))
        out.append(f"  {key} = {shown}" + (f" {units}" if units != "1" else ""))
    out += ["", "grid", f"  {grid}"]
    out += ["", "times"]
    if n_frames:
        t = times[:n_frames] / 3600.0
        c = cfg.get("time", {})
        out.append(f"  {count(n_frames, 'frame')} from {t[0]:g} to {t[-1]:g} h"
                   + (f" (run planned to {_g(c['end_h'])} h)" if "end_h" in c else ""))
        extra = event_frame_times_h(t, c)
        if extra.size:
            shown = ", ".join(f"{x:.4g}" for x in extra[:MAX_EVENT_FRAMES])
            more = f", ... ({extra.size} in all)" if extra.size > MAX_EVENT_FRAMES else ""
            out.append(f"  every {_g(c.get('save_every_min'))} min and around every point's "
                       f"events: {shown}{more} h")
    else:
        out.append("  no frame saved yet")
    out += ["", "variables"]
    widths = [max(len(r[i]) for r in rows) for i in range(3)] if rows else [0, 0, 0]
    for r in rows:
        out.append("  " + "  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]),
                                     r[2].ljust(widths[2]), r[3]]).rstrip())
    out += _sweep_table(keys, values, n_points, n_frames, times)
    if config:
        out += ["", "full resolved config (as stored in the file)", "-" * 44,
                attrs.get("config", "").rstrip()]
    else:
        out += ["", f"(full resolved config: zn-pde inspect --config {shlex.quote(str(p))})"]
    return "\n".join(out)


def _text_attr(d, name: str) -> str:
    v = d.attrs.get(name, "")
    return v.decode() if isinstance(v, bytes) else str(v)


def _nanmax(a: np.ndarray) -> np.ndarray:
    finite = np.isfinite(a)
    return np.where(finite.any(axis=1), np.max(np.where(finite, a, -np.inf), axis=1), np.nan)


def _sweep_table(keys, values: dict[str, np.ndarray], n_points: int, n_frames: int,
                 times: np.ndarray) -> list[str]:
    if not n_frames:
        return []
    spec = [c for c in _SWEEP_COLUMNS if c[0] in values
            and np.isfinite(values[c[0]]).any()]
    head = [k for k, _, _ in keys] + [c[1] for c in spec]
    body = []
    for i in range(min(n_points, MAX_SWEEP_ROWS)):
        body.append([f"{vals[i]:g}" for _, _, vals in keys]
                    + [f"{values[c[0]][i] * c[2]:.4g}" for c in spec])
    widths = [max(len(r[j]) for r in [head] + body) for j in range(len(head))]
    t_end = times[n_frames - 1] / 3600.0
    lines = ["", f"per point: values at the last saved frame ({t_end:g} h) and peaks over the "
             "run", "  (the same definitions as a single run's summary; peak ROS "
             "tissue / medium (uM): maxima over the",
             "  tissue / the cell-free medium over every step; peak ROS all* (uM): the larger "
             "of the two)"]
    for r in [head] + body:
        lines.append("  " + "  ".join(x.rjust(w) for x, w in zip(r, widths, strict=True)))
    if n_points > MAX_SWEEP_ROWS:
        lines.append(f"  ({MAX_SWEEP_ROWS} of {n_points} points shown; every point is in the "
                     "summary CSV)")
    return lines
