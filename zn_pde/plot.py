"""`zn-pde plot OUT.h5`: PNG figures of a run, ready for a paper draft.

For a 3D run:
- `<stem>_slice_<field>.png`: the x-z mid-plane through the spheroid centre (stimuli enter
  through z = 0, at the bottom) at the chosen times, one shared colour scale, the spheroid
  outline (tissue_mask contour at 0.5) in white; medium voxels without cells (NaN viability)
  are left blank.
- `<stem>_radial.png`: shell-averaged profiles against the distance from the spheroid
  centre (against depth z for a uniform slab), at up to eight frames coloured by time, the
  spheroid surface dashed.
- `<stem>_timeseries.png`: tissue means (and the domain maximum of ROS) over time, with the
  ultrasound and light exposures of the stored config shaded.
A well-mixed run has no space: only the time series, of every variable.

Figures are drawn on `matplotlib.figure.Figure` objects rendered by the Agg canvas, never
through pyplot, so plotting neither needs a display nor changes the caller's backend.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from ._errors import InputError
from .io import RunFile, read_run

DPI = 150
MAX_PROFILES = 8  # curves per radial panel; more become unreadable
LOG_DECADES = 4  # a log colour scale spans at most this many decades below the maximum
_PRETTY_UNITS = {"uM": "µM", "ug/mL": "µg/mL", "um": "µm", "1": ""}
_STIMULUS_STYLE = {"ultrasound": ("tab:blue", "ultrasound"), "light": ("tab:purple", "light")}
_SHORT_NAMES = {
    "np": "nanoparticles (extracellular)",
    "zn": "free Zn²⁺ (interstitial)",
    "ros": "ROS",
    "np_int": "internalised nanoparticles",
    "zn_cell": "labile intracellular Zn",
    "gsh": "glutathione",
    "viability": "viability",
    "tissue_mean_zn": "tissue-mean free Zn²⁺",
    "tissue_mean_zn_cell": "tissue-mean intracellular Zn",
    "tissue_mean_ros": "tissue-mean ROS",
    "max_ros": "max ROS (domain, all steps)",
    "tissue_mean_viability": "tissue-mean viability",
}


def plot_run(path: str | Path, outdir: str | Path | None = None,
             fields: Sequence[str] | None = None, times_h: Sequence[float] | None = None,
             *, log: bool = False) -> list[Path]:
    """Write the figures of the run in `path`; returns the PNG paths.

    fields: variables to draw (default: every field); times_h: slice times in hours (each
    shown at the nearest saved frame; default start, middle, end); log: logarithmic colour
    scale and y axes for concentrations. Raises InputError (exit 2) for an unusable file,
    an unknown field or a time outside the run.
    """
    run = read_run(path)
    if run.n_frames == 0:
        raise InputError("no frame is saved in this file yet; nothing to plot",
                         file=str(run.path))
    names = _choose_fields(run, fields)
    frames = _choose_frames(run, times_h)
    out = Path(outdir) if outdir is not None else run.path.parent
    if out.exists() and not out.is_dir():
        raise InputError("the output folder is a file", key="--outdir", file=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the output folder ({e.strerror})", key="--outdir",
                         file=str(out)) from None
    stem = run.path.stem
    written: list[Path] = []
    if not run.well_mixed:
        for name in names:
            written.append(_save(_slices(run, name, frames, log), out / f"{stem}_slice_{name}.png"))
        written.append(_save(_radial(run, names, log), out / f"{stem}_radial.png"))
    written.append(_save(_timeseries(run, names, log), out / f"{stem}_timeseries.png"))
    return written


# --- choices -----------------------------------------------------------------------------


def _choose_fields(run: RunFile, fields: Sequence[str] | None) -> list[str]:
    if not fields:
        if not run.fields:
            raise InputError("the file holds no field to plot", file=str(run.path))
        return list(run.fields)
    out = []
    for name in fields:
        if name not in run.fields:
            close = difflib.get_close_matches(name, run.fields, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            if name in run.series:
                hint = " (a time series: it is drawn in the time-series figure)"
            raise InputError(f"no field {name!r} in this file{hint}; allowed: "
                             f"{', '.join(run.fields)}", key="--fields", file=str(run.path))
        if name not in out:
            out.append(name)
    return out


def _choose_frames(run: RunFile, times_h: Sequence[float] | None) -> list[int]:
    t_h = run.times_s / 3600.0
    n = t_h.size
    if not times_h:
        return sorted({0, (n - 1) // 2, n - 1})
    step = float(np.min(np.diff(t_h))) if n > 1 else 0.0
    frames = []
    for t in times_h:
        i = int(np.argmin(np.abs(t_h - t)))
        if not np.isfinite(t) or abs(t_h[i] - t) > max(0.5 * step, 1e-9):
            raise InputError(f"no saved frame near t = {t:g} h; the file holds {n} frames "
                             f"from {t_h[0]:g} to {t_h[-1]:g} h"
                             + (f", every {step * 60:g} min" if n > 1 else ""),
                             key="--times-h", file=str(run.path))
        if i not in frames:
            frames.append(i)
    return frames


# --- helpers -------------------------------------------------------------------------------


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI)
    return path


def _units(run: RunFile, name: str) -> str:
    return _PRETTY_UNITS.get(run.units.get(name, ""), run.units.get(name, ""))


def _label(run: RunFile, name: str, percent: bool = False) -> str:
    title = _SHORT_NAMES.get(name, name)
    if percent:
        return f"{title} (%)"
    u = _units(run, name)
    return f"{title} ({u})" if u else title


def _is_concentration(run: RunFile, name: str) -> bool:
    return run.units.get(name, "") in ("uM", "ug/mL")


def _is_fraction(name: str) -> bool:
    return name in ("viability", "tissue_mean_viability")


def _spheroid(run: RunFile) -> tuple[np.ndarray, float] | None:
    geo = run.config.get("geometry", {})
    if geo.get("kind") != "spheroid" or run.well_mixed:
        return None
    centre = geo.get("center_um")
    if not centre:
        h = run.config["grid"]["spacing_um"]
        centre = [run.x_um.size * h / 2, run.y_um.size * h / 2, run.z_um.size * h / 2]
    return np.asarray(centre, float), float(geo["radius_um"])


def _finite_max(a: np.ndarray) -> float:
    f = a[np.isfinite(a)]
    return float(f.max()) if f.size else np.nan


def _finite_min(a: np.ndarray, positive: bool = False) -> float:
    f = a[np.isfinite(a)]
    if positive:
        f = f[f > 0]
    return float(f.min()) if f.size else np.nan


def _norm(run: RunFile, name: str, data: list[np.ndarray], log: bool) -> Normalize:
    stacked = np.concatenate([d.ravel() for d in data])
    hi = _finite_max(stacked)
    if _is_fraction(name):
        lo = _finite_min(stacked)
        lo = 0.0 if not np.isfinite(lo) else min(lo, 0.99)
        return Normalize(lo, 1.0)
    if not np.isfinite(hi):
        return Normalize(0.0, 1.0)
    if log and _is_concentration(run, name) and hi > 0:
        lo = max(_finite_min(stacked, positive=True), hi * 10.0**-LOG_DECADES)
        if lo < hi:
            return LogNorm(lo, hi, clip=True)
    lo = min(0.0, _finite_min(stacked))
    return Normalize(lo, hi if hi > lo else lo + 1.0)


def _stimuli(run: RunFile) -> list[tuple[str, float, float, str]]:
    """(kind, start h, end h, legend text) of every exposure in the stored config."""
    out = []
    for kind in ("ultrasound", "light"):
        for e in run.config.get(kind, []) or []:
            if not isinstance(e, dict) or "start_h" not in e or "duration_min" not in e:
                continue
            start, dur = float(e["start_h"]), float(e["duration_min"])
            if kind == "ultrasound":
                what = f"ultrasound {e.get('intensity_W_per_cm2', '?'):g} W/cm², {dur:g} min"
            else:
                what = (f"light {e.get('wavelength_nm', 0):g} nm, "
                        f"{e.get('irradiance_mW_per_cm2', 0):g} mW/cm², {dur:g} min")
            out.append((kind, start, start + dur / 60.0, what))
    return out


def _shade_stimuli(ax, run: RunFile, t_end_h: float, legend: bool) -> None:
    span = max(t_end_h, 1e-9)
    labelled = set()
    for kind, start, end, what in _stimuli(run):
        if start > t_end_h:
            continue
        colour, _ = _STIMULUS_STYLE[kind]
        # a 1 min burst in a 24 h run is invisible at its true width: keep >= 0.6 % of the axis
        end_shown = max(end, start + 0.006 * span)
        label = what if legend and what not in labelled else None
        labelled.add(what)
        ax.axvspan(start, end_shown, color=colour, alpha=0.25, lw=0, label=label)


def _panel_grid(n: int, width: float = 3.4, height: float = 2.8, max_cols: int = 3):
    cols = min(n, max_cols)
    rows = -(-n // cols)
    fig = Figure(figsize=(width * cols + 0.6, height * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, list(axes.ravel()[:n])


def _read_frame(f, name: str, i: int) -> np.ndarray:
    return np.asarray(f[name][i], float)


# --- figures ---------------------------------------------------------------------------------


def _slices(run: RunFile, name: str, frames: list[int], log: bool) -> Figure:
    sph = _spheroid(run)
    h = float(run.config["grid"]["spacing_um"])
    y_c = sph[0][1] if sph is not None else run.y_um.size * h / 2
    j = int(np.argmin(np.abs(run.y_um - y_c)))
    with run.open() as f:
        planes = [np.asarray(f[name][i, :, j, :], float) for i in frames]  # (z, x)
    mask = run.tissue[:, j, :] if run.tissue is not None else None
    norm = _norm(run, name, planes, log)
    cmap = colormaps["magma" if _is_fraction(name) else "viridis"].with_extremes(
        bad=(1, 1, 1, 0))
    extent = (0.0, run.x_um.size * h, 0.0, run.z_um.size * h)
    n = len(frames)
    fig = Figure(figsize=(2.9 * n + 1.3, 3.3), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    image = None
    for ax, i, plane in zip(axes, frames, planes, strict=True):
        image = ax.imshow(np.ma.masked_invalid(plane), origin="lower", extent=extent,
                          norm=norm, cmap=cmap, interpolation="nearest")
        if mask is not None and mask.any() and not mask.all():
            ax.contour(run.x_um, run.z_um, mask.astype(float), levels=[0.5],
                       colors="0.2" if _is_fraction(name) else "white", linewidths=1.0)
        ax.set_title(f"t = {run.times_s[i] / 3600:g} h")
        ax.set_xlabel("x (µm)")
        ax.set_aspect("equal")
    axes[0].set_ylabel("z (µm)")
    cbar = fig.colorbar(image, ax=list(axes), shrink=0.9)
    cbar.set_label(_label(run, name))
    where = f"x-z plane at y = {run.y_um[j]:g} µm"
    if sph is not None:
        where += " (through the spheroid centre; line: spheroid surface)"
    if _stimuli(run):
        where += "; stimuli enter at z = 0"
    fig.suptitle(f"{_SHORT_NAMES.get(name, name)}: {where}", fontsize=9)
    return fig


def _profile_frames(n: int) -> list[int]:
    if n <= MAX_PROFILES:
        return list(range(n))
    return sorted(set(np.round(np.linspace(0, n - 1, MAX_PROFILES)).astype(int).tolist()))


def _radial(run: RunFile, names: list[str], log: bool) -> Figure:
    sph = _spheroid(run)
    h = float(run.config["grid"]["spacing_um"])
    zz, yy, xx = np.meshgrid(run.z_um, run.y_um, run.x_um, indexing="ij")
    if sph is not None:
        (cx, cy, cz), radius = sph
        r = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2 + (zz - cz) ** 2)
        extent = np.array([run.x_um.size, run.y_um.size, run.z_um.size]) * h
        r_full = float(np.min(np.minimum(sph[0], extent - sph[0])))  # complete shells only
        r_max = r_full if r_full >= 2 * h else float(r.max())
        edges = np.arange(0.0, r_max + h / 2, h)
        xlabel = "distance from the spheroid centre (µm)"
    else:
        r, radius = zz, None
        edges = np.arange(0.0, run.z_um.size * h + h / 2, h)
        xlabel = "depth z from the z = 0 face (µm)"
    bins = np.digitize(r.ravel(), edges) - 1
    inside = (bins >= 0) & (bins < edges.size - 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    frames = _profile_frames(run.n_frames)
    t_h = run.times_s / 3600.0
    cmap = colormaps["viridis"]
    t_norm = Normalize(t_h[frames[0]], t_h[frames[-1]] if t_h[frames[-1]] > t_h[frames[0]]
                       else t_h[frames[0]] + 1.0)
    fig, axes = _panel_grid(len(names))
    with run.open() as f:
        for ax, name in zip(axes, names, strict=True):
            any_positive = False
            for i in frames:
                a = _read_frame(f, name, i).ravel()
                ok = inside & np.isfinite(a)
                count = np.bincount(bins[ok], minlength=edges.size - 1)
                total = np.bincount(bins[ok], weights=a[ok], minlength=edges.size - 1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
                if _is_fraction(name):
                    mean = 100.0 * mean
                any_positive |= bool(np.any(mean[np.isfinite(mean)] > 0))
                ax.plot(centres, mean, color=cmap(t_norm(t_h[i])), lw=1.4)
            if radius is not None:
                ax.axvline(radius, color="0.4", ls="--", lw=0.9)
            if log and _is_concentration(run, name) and any_positive:
                ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(_label(run, name, percent=_is_fraction(name)))
            ax.grid(alpha=0.25)
    sm = _scalar_mappable(cmap, t_norm)
    fig.colorbar(sm, ax=axes, label="time (h)", shrink=0.9)
    title = "shell-averaged radial profiles" if sph is not None else "depth profiles"
    if radius is not None:
        title += " (dashed: spheroid surface)"
    fig.suptitle(title, fontsize=10)
    return fig


def _scalar_mappable(cmap, norm):
    from matplotlib.cm import ScalarMappable

    sm = ScalarMappable(norm=norm, cmap=cmap)
    sm.set_array([])
    return sm


def _series_panels(run: RunFile, names: list[str]
                   ) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(title, units, [(dataset, legend)]) per panel of the time-series figure."""
    if run.well_mixed:
        peak = "max_ros" in run.series
        return [(_SHORT_NAMES.get(n, n), "%" if _is_fraction(n) else _units(run, n),
                 [(n, "at saved frames"), ("max_ros", "max over all steps")]
                 if n == "ros" and peak else [(n, "")]) for n in names]
    s = set(run.series) if not run.well_mixed else set()
    want = set(names)
    panels = []
    if "tissue_mean_zn" in s and "zn" in want:
        panels.append(("free Zn²⁺ (interstitial), tissue mean", "µM",
                       [("tissue_mean_zn", "")]))
    if "tissue_mean_zn_cell" in s and "zn_cell" in want:
        panels.append(("labile intracellular Zn, tissue mean", "µM",
                       [("tissue_mean_zn_cell", "")]))
    if s & {"tissue_mean_ros", "max_ros"} and "ros" in want:
        panels.append(("ROS", "µM", [(n, lab) for n, lab in
                                    (("tissue_mean_ros", "tissue mean"),
                                     ("max_ros", "domain max, all steps")) if n in s]))
    if "tissue_mean_viability" in s and "viability" in want:
        panels.append(("viability, tissue mean", "%", [("tissue_mean_viability", "")]))
    covered = {f for f, series in (("zn", "tissue_mean_zn"), ("zn_cell", "tissue_mean_zn_cell"),
                                   ("ros", "tissue_mean_ros"),
                                   ("viability", "tissue_mean_viability")) if series in s}
    for n in names:  # fields without a stored series: mean computed here
        if n not in covered:
            where = "tissue mean" if run.tissue is not None and run.tissue.any() else "mean"
            unit = "%" if _is_fraction(n) else _units(run, n)
            panels.append((f"{_SHORT_NAMES.get(n, n)}, {where}", unit, [(n, "")]))
    return panels


def _mean_series(run: RunFile, f, name: str) -> np.ndarray:
    d = f[name]
    n = run.n_frames
    if d.ndim == 1:
        return np.asarray(d[:n], float)
    mask = run.tissue if run.tissue is not None and run.tissue.any() else None
    out = np.empty(n)
    for i in range(n):
        a = _read_frame(f, name, i)
        a = a[mask] if mask is not None else a.ravel()
        a = a[np.isfinite(a)]
        out[i] = a.mean() if a.size else np.nan
    return out


def _timeseries(run: RunFile, names: list[str], log: bool) -> Figure:
    panels = _series_panels(run, names)
    t_h = run.times_s / 3600.0
    planned = run.config.get("time", {}).get("end_h")
    t_end = float(planned) if isinstance(planned, int | float) else float(t_h[-1])
    fig, axes = _panel_grid(len(panels), width=3.6, height=2.6)
    with run.open() as f:
        for k, (ax, (title, unit, items)) in enumerate(zip(axes, panels, strict=True)):
            any_positive = False
            for name, legend in items:
                y = _mean_series(run, f, name)
                if _is_fraction(name):
                    y = 100.0 * y
                any_positive |= bool(np.any(y[np.isfinite(y)] > 0))
                style: dict[str, Any] = {"marker": "o", "ms": 2.5} if t_h.size < 30 else {}
                if name == "max_ros":  # a peak over the interval ending at each frame
                    style = {"ls": "--", "drawstyle": "steps-pre"}
                ax.plot(t_h, y, lw=1.5, label=legend or None, **style)
            _shade_stimuli(ax, run, t_end, legend=k == 0)
            if log and any_positive and all(_is_concentration(run, n) for n, _ in items):
                ax.set_yscale("log")
            ax.set_xlim(0.0, max(t_end, float(t_h[-1])) or 1.0)
            ax.set_xlabel("time (h)")
            ax.set_ylabel(unit or "1")
            ax.set_title(title, fontsize=9)
            ax.grid(alpha=0.25)
            if ax.get_legend_handles_labels()[1]:
                ax.legend(fontsize=7, frameon=False)
    title = "well-mixed compartment" if run.well_mixed else "tissue averages over time"
    if not run.complete:
        title += f" (INCOMPLETE run: status {run.status!r})"
    fig.suptitle(title, fontsize=10)
    return fig
