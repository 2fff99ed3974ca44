"""`zn-pde plot OUT.h5`: PNG figures of a run, ready for a paper draft.

For a 3D run:
- `<stem>_slice_<field>.png`: the x-z mid-plane through the spheroid centre (stimuli enter
  through z = 0, at the bottom) at the chosen times, one shared colour scale, the spheroid
  outline (tissue_mask contour at 0.5) in white; medium voxels without cells (NaN viability)
  are left blank.
- `<stem>_radial.png`: shell-averaged profiles against the distance from the spheroid
  centre (against depth z for a uniform slab), at about eight frames, each its own colour
  keyed by its time (the slices' default frames around the exposures among them), the
  spheroid surface dashed.
- `<stem>_timeseries.png`: tissue means (and the domain maximum of ROS) over time, with the
  ultrasound and light exposures of the stored config shaded.
For a radial run (fields (time, r)):
- `<stem>_radial.png`: the profiles against r at about eight frames, each its own colour
  keyed by its time (the slices' default frames around the exposures among them), with the
  depth below the spheroid surface (R − r) on the top axis and the surface dashed;
- `<stem>_kymograph.png`: every field as an r × t map (time along x, r up), the surface
  dashed; colour scales fitted to the tissue like the slices'; exposures, doses and medium
  exchanges marked (▼) above each map and keyed below;
- `<stem>_timeseries.png` as for a 3D run (tissue means are shell-volume weighted).
A well-mixed run has no space: only the time series, of every variable (a release vial,
without cells, shows "% dissolved" instead of the empty cell panels).

Colour scales of the slices are fitted to the tissue: the 1st to 99th percentile of the tissue
voxels in the plotted planes (values beyond are drawn at the ends, marked by the colour bar's
arrows; glutathione takes their whole range, as its fall is in few voxels; viability, in % as
in every figure, keeps its whole 0 to 100 scale; a field that is zero everywhere 0 to 1), and
intracellular fields (np_int, zn_cell, gsh, viability) are blank in the medium.
Default slice times: the start, the end, the last frame before the first exposure and the first
frame after each exposure (or the middle when there is none).

`zn-pde plot RUN.h5 --compare CONTROL.h5` also writes `<stem>_vs_<control stem>.png`:
treated minus control maps of viability and of the stimuli's oxidative dose
(`radical_dose`; zn for runs without it) at the final frame through the spheroid centre,
the difference in viability against the depth below the tissue surface (shell means) and
the tissue-mean time series of both runs side by side. The two files must share the
grid, the tissue and the frames every `time.save_every_min`; differences are taken at the
times both saved (a treated run's frames around its exposures have no counterpart in a
control without them). Without `--compare`, the control that `zn-pde run` wrote beside a run
with stimuli (`<stem>_control.h5`: the same run with their intensities 0) is the control.

Figures are drawn on `matplotlib.figure.Figure` objects rendered by the Agg canvas, never
through pyplot, so plotting neither needs a display nor changes the caller's backend.
"""

from __future__ import annotations

import difflib
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ._errors import InputError, check_flags, check_path, output_folder
from ._progress import count
from .io import RunFile, read_run

DPI = 150
MAX_PROFILES = 8  # curves per radial panel; more become unreadable
LOG_DECADES = 4  # a log colour scale spans at most this many decades below the maximum

TISSUE_PERCENTILES = (1.0, 99.0)  # colour scales of the slices: these percentiles of tissue
MAX_SLICES = 6  # default slice times at most
# variables that live in the cells: blank (NaN) in medium voxels, absent from a cell-free vial
INTRACELLULAR = ("np_int", "zn_cell", "gsh", "viability", "radical_dose", "np_dead", "zn_dead",
                 "hazard", "energy_hazard")
# pools of the living cells (per living-cell volume): their tissue mean is over the living
# cells, each voxel weighted by its viability, as the run's series (`tissue_mean_zn_cell`,
# `tissue_mean_gsh`: `_run.living_mean`) and its printed summary average them
LIVING_POOLS = ("np_int", "zn_cell", "gsh")


def _log_y(ax: Axes) -> None:
    """A log y axis over at most `LOG_DECADES` decades below the largest value drawn (the
    colour scales' span), so a float32 underflow to ~1e-36 after a wash-out does not
    squash the signal into the top of the panel; lower values leave the axis at its foot."""
    ax.set_yscale("log")
    top = [float(np.nanmax(y)) for line in ax.get_lines()
           if (y := np.asarray(line.get_ydata(), float)).size and np.any(y > 0)]
    if top:
        lo, hi = ax.get_ylim()
        ax.set_ylim(max(lo, max(top) * 10.0**-LOG_DECADES), hi)


def figure_unit(unit: str) -> str:
    """A file's ASCII unit string as a figure writes it: the micro prefix of uM, um and ug
    as µ, and ^2, ^3 as superscripts (`um^2/s` -> µm²/s, `1/(uM s)` -> 1/(µM s)); the rest
    unchanged."""
    unit = re.sub(r"\bu([Mmg])\b", r"µ\1", unit)
    return unit.replace("^2", "²").replace("^3", "³")


_STIMULUS_STYLE = {"ultrasound": ("tab:blue", "ultrasound"), "light": ("tab:purple", "light")}
_SHORT_NAMES = {
    "np": "nanoparticles (extracellular)",
    "zn": "dissolved Zn²⁺ (extracellular fluid)",
    "ros": "ROS",
    "np_int": "internalised nanoparticles (living cells)",
    "zn_cell": "labile intracellular Zn (living cells)",
    "gsh": "glutathione (living cells)",
    "np_dead": "nanoparticles held by dead cells",
    "zn_dead": "labile Zn held by dead cells",
    "viability": "viability",
    "h2o2": "H₂O₂ from the particles",
    "h2s": "sulfide (H₂S + HS⁻) from the particles",
    "cargo": "drug cargo",
    "o2": "oxygen",
    "radical_dose": "oxidative dose from the stimuli (cumulative)",
    # no-break spaces: a wrapped title keeps "viability = e^-H" on one line
    "hazard": "cumulative death hazard H (viability\u00a0=\u00a0$e^{-H}$)",
    "energy_hazard": "energy-failure hazard H_E of a cell of mean frailty (cumulative)",
    "zn_phosphate": "zinc phosphate precipitate (as Zn)",
    "tissue_mean_zn": "tissue-mean dissolved Zn²⁺",
    "tissue_mean_zn_cell": "tissue-mean intracellular Zn",
    "tissue_mean_ros": "tissue-mean ROS",
    "max_ros": "max ROS (domain, all steps)",
    "tissue_mean_viability": "tissue-mean viability",
    "tissue_mean_atp_supply": "ATP supply (living cells)",
    "dissolved_percent": "particle mass dissolved",
}
# the y label of a panel whose values have no unit (the file's "1"): what they are, not "1"
_DIMENSIONLESS = {"hazard": "cumulative hazard H (1)",
                  "energy_hazard": "cumulative hazard H_E (1)"}
TITLE_CHARACTERS = 46  # a time-series panel title (9 pt, 3.6 in wide) wraps at this width
COMPARE_TITLE_CHARACTERS = 40  # the same for the comparison's series panels (>= 3.3 in)


def plot_run(path: str | Path, outdir: str | Path | None = None,
             fields: Sequence[str] | None = None, times_h: Sequence[float] | None = None,
             *, log: bool = False, compare: str | Path | None = None) -> list[Path]:
    """Write the figures of the run in `path`; returns the PNG paths.

    fields: variables to draw (default: every field; a run without cells leaves out the
    intracellular ones); times_h: slice and profile times in hours (each shown at the
    nearest saved frame; default: slices at start, end, around every exposure, profiles at
    up to eight frames spread in time; a well-mixed run has only time series); log:
    logarithmic colour scale and y axes for concentrations; compare: a control run with the
    same grid and times, for the extra treated-vs-control figure
    `<stem>_vs_<control stem>.png`. Raises InputError (exit 2) for an unusable file, an
    unknown field, a time outside the run or a control that does not match.
    """
    check_path("plot_run", path)
    check_flags("plot_run", str(path), log=log)
    # a lone text or number would be read a letter at a time, or not at all
    if fields is not None and (isinstance(fields, str | bytes) or not isinstance(
            fields, Sequence) or not all(isinstance(f, str) for f in fields)):
        raise InputError(f"fields = {fields!r} ({type(fields).__name__}): expected a list of "
                         "field names, e.g. ['zn', 'viability']", file=str(path), key="fields")
    if times_h is not None and (isinstance(times_h, str | bytes) or not isinstance(
            times_h, Sequence | np.ndarray) or not all(
                isinstance(t, int | float | np.number) and not isinstance(t, bool)
                for t in times_h)):
        raise InputError(f"times_h = {times_h!r} ({type(times_h).__name__}): expected a list "
                         "of times in hours, e.g. [4.0, 24.0]", file=str(path), key="times_h")
    run = read_run(path)
    if run.n_frames == 0:
        raise InputError("no frame is saved in this file yet; nothing to plot",
                         file=str(run.path))
    control = None
    if compare is not None:
        control = read_run(compare)
        _check_comparable(run, control)
    elif (own := _own_control(run)) is not None:
        control = own
    names = _choose_fields(run, fields)
    frames = _choose_frames(run, times_h)
    chosen = frames if times_h else None  # profiles at the times asked for, if any
    out = output_folder(outdir if outdir is not None else run.path.parent)
    stem = run.path.stem
    written: list[Path] = []
    if run.radial:
        written.append(_save(_radial_profiles(run, names, log, chosen),
                             out / f"{stem}_radial.png"))
        written.append(_save(_kymographs(run, names, log), out / f"{stem}_kymograph.png"))
    elif not run.well_mixed:
        for name in names:
            written.append(_save(_slices(run, name, frames, log), out / f"{stem}_slice_{name}.png"))
        written.append(_save(_radial(run, names, log, chosen), out / f"{stem}_radial.png"))
    written.append(_save(_timeseries(run, names, log), out / f"{stem}_timeseries.png"))
    if control is not None:
        name = f"{stem}_vs_{control.path.stem}.png"
        written.append(_save(_compare(run, control), out / name))
    return written


def _own_control(run: RunFile) -> RunFile | None:
    """The control `zn-pde run` wrote beside the run (`_run.control_path`: the same run
    without its stimuli), when it is there, complete and comparable."""
    from ._run import own_control

    path = own_control(run.path)
    if path is None:
        return None
    try:
        control = read_run(path)
        _check_comparable(run, control)
    except InputError:
        return None
    return control if control.complete else None


# --- choices -----------------------------------------------------------------------------


def _choose_fields(run: RunFile, fields: Sequence[str] | None) -> list[str]:
    if not fields:
        if not run.fields:
            raise InputError("the file holds no field to plot", file=str(run.path))
        if not _has_cells(run):  # a release vial: no cell panels that could only be empty
            cell_free = [n for n in run.fields if n not in INTRACELLULAR]
            return cell_free or list(run.fields)
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
        return _default_frames(run)
    every = run.config.get("time", {}).get("save_every_min")
    frames = []
    for t in times_h:
        i = int(np.argmin(np.abs(t_h - t)))
        # "near": within half the gap to the neighbouring frame on that side (saved times
        # are uneven where frames around events were added)
        j = min(max(i + (1 if t > t_h[i] else -1), 0), n - 1)
        gap = abs(t_h[j] - t_h[i]) if j != i else 0.0
        if not np.isfinite(t) or abs(t_h[i] - t) > max(0.5 * gap, 1e-9):
            raise InputError(f"no saved frame near t = {t:g} h; the file holds {count(n, 'frame')} "
                             f"from {t_h[0]:g} to {t_h[-1]:g} h"
                             + (f", every {every:g} min and around the events"
                                if n > 1 and isinstance(every, int | float) else ""),
                             key="--times-h", file=str(run.path))
        if i not in frames:
            frames.append(i)
    return frames


def _default_frames(run: RunFile) -> list[int]:
    """Start and end, the last frame before the first exposure and the first frame at or
    after the end of each exposure (at most MAX_SLICES in all); the middle if no exposure."""
    t_h = run.times_s / 3600.0
    n = t_h.size
    eps = 1e-6
    wanted = [0, n - 1]
    windows = sorted((start, end) for _, start, end, _ in _stimuli(run))
    if windows:
        before = np.flatnonzero(t_h <= windows[0][0] + eps)
        if before.size:
            wanted.append(int(before[-1]))
        for _, end in windows:
            after = np.flatnonzero(t_h >= end - eps)
            if after.size:
                wanted.append(int(after[0]))
    else:
        wanted.append((n - 1) // 2)
    out: list[int] = []
    for i in wanted:
        if i not in out and len(out) < MAX_SLICES:
            out.append(i)
    return sorted(out)


# --- helpers -------------------------------------------------------------------------------


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.08)
    return path


def _has_cells(run: RunFile) -> bool:
    if run.well_mixed:
        return run.config.get("geometry", {}).get("kind") == "uniform"
    return run.tissue is not None and bool(run.tissue.any())


def _cells_only(run: RunFile, name: str, a: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """An intracellular field with its medium voxels set to NaN (no cells there)."""
    if name in INTRACELLULAR and mask is not None and mask.any():
        return np.where(mask, a, np.nan)
    return a


def _units(run: RunFile, name: str) -> str:
    unit = run.units.get(name, "")
    return "" if unit == "1" else figure_unit(unit)


def _label(run: RunFile, name: str, percent: bool = False) -> str:
    title = _SHORT_NAMES.get(name, name)
    if percent:
        return f"{title} (%)"
    u = _units(run, name)
    return f"{title} ({u})" if u else title


def _wrap(text: str, width: int) -> str:
    """`text` in lines of at most `width` characters, broken at spaces only (a mathtext
    `$...$` or a hyphenated word stays whole)."""
    return textwrap.fill(text, width, break_on_hyphens=False, break_long_words=False)


def _incomplete(run: RunFile) -> str:
    """What a title says of a run that stopped before its end ('' for a complete run): the
    last frame drawn is then where it stopped, not the run's planned end."""
    if run.complete:
        return ""
    return f"INCOMPLETE run: status {run.status!r}, frames to {run.times_s[-1] / 3600:.4g} h"


def _noting_incomplete(run: RunFile, title: str) -> str:
    """`title`, with `_incomplete`'s note in brackets for a run that stopped early."""
    note = _incomplete(run)
    return f"{title} ({note})" if note else title


def _fit_title(fig: Figure, title: str) -> str:
    """A figure's title, each line wrapped to the figure's width (~11 characters of 10 pt an
    inch): the note of an incomplete run made a one- or two-panel figure's title longer
    than the figure."""
    return "\n".join(_wrap(line, int(11 * fig.get_figwidth())) for line in title.split("\n"))


def _is_glutathione(name: str) -> bool:
    """Glutathione (`gsh`, `tissue_mean_gsh`): a ~5 mM pool whose fall of a few %, in few
    voxels, is the signal (an outside figure review): drawn linear, over its whole range."""
    return "gsh" in name


def _is_concentration(run: RunFile, name: str) -> bool:
    """A concentration that `--log` draws on a log scale (not glutathione)."""
    return run.units.get(name, "") in ("uM", "ug/mL") and not _is_glutathione(name)


def _is_fraction(name: str) -> bool:
    return name in ("viability", "tissue_mean_viability", ATP_SERIES)


#: the living cells' ATP supply (a fraction of an untreated cell's), drawn beside their zinc
ATP_SERIES = "tissue_mean_atp_supply"
ATP_PANEL = "ATP supply of the living cells (of an untreated cell's)"


def _as_shown(name: str, a: np.ndarray) -> np.ndarray:
    """A field as the figures show it: a fraction alive in %, as every figure gives
    viability (the file keeps the fraction, 0-1), anything else as stored."""
    return 100.0 * a if _is_fraction(name) else a


def _spheroid(run: RunFile) -> tuple[np.ndarray, float] | None:
    geo = run.config.get("geometry", {})
    if geo.get("kind") != "spheroid" or run.well_mixed or run.radial:
        return None
    centre = geo.get("center_um")
    if not centre:
        h = run.config["grid"]["spacing_um"]
        centre = [run.x_um.size * h / 2, run.y_um.size * h / 2, run.z_um.size * h / 2]
    return np.asarray(centre, float), float(geo["radius_um"])


def _tissue_norm(run: RunFile, name: str, planes: list[np.ndarray], mask: np.ndarray | None,
                 log: bool) -> tuple[Normalize, str]:
    """Colour scale fitted to the tissue: the TISSUE_PERCENTILES of the tissue voxels of
    `planes` (all voxels where `mask` is None or empty); returns (norm, colour-bar extend)."""
    stacked = np.concatenate([p.ravel() for p in planes])
    if mask is not None and mask.any():
        values = np.concatenate([p[mask] for p in planes])
    else:
        values = stacked
    values = values[np.isfinite(values)]
    finite = stacked[np.isfinite(stacked)]
    if values.size == 0 or _is_fraction(name):
        # a fraction alive keeps its whole scale (in %, `_as_shown`): fitted to mostly
        # living tissue, a 95 % lower end would draw the few dead cells no darker than the
        # 95 %-alive ones
        return Normalize(0.0, 100.0 if _is_fraction(name) else 1.0), "neither"
    norm: Normalize
    positive = values[values > 0]
    if log and _is_concentration(run, name) and positive.size:
        lo, hi = np.percentile(positive, TISSUE_PERCENTILES)
        lo = max(lo, hi * 10.0**-LOG_DECADES)
        if not hi > lo:
            lo, hi = hi / 1.1, hi * 1.1
        norm = LogNorm(lo, hi, clip=False)
    else:
        # glutathione's fall, in few voxels, is what the 1st percentile would clip
        pct = (0.0, 100.0) if _is_glutathione(name) else TISSUE_PERCENTILES
        lo, hi = (float(v) for v in np.percentile(values, pct))
        if hi - lo < 1e-6 * max(1.0, abs(hi)):  # a uniform field: a narrow band around it
            if hi == 0.0:  # all zero: 0 to 1, not a +-1e-9 band that reads as negatives
                lo, hi = 0.0, 1.0
            else:
                pad = 0.01 * abs(hi)
                lo, hi = hi - pad, hi + pad
        norm = Normalize(lo, hi)
    below = bool(np.any(finite < norm.vmin))
    above = bool(np.any(finite > norm.vmax))
    extend = {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
        (below, above), "neither")
    return norm, extend


def _stimuli(run: RunFile) -> list[tuple[str, float, float, str]]:
    """(kind, start h, end h, legend text) of every exposure in the stored config, each
    repeat (`repeats`, `repeat_every_h`) separately."""
    from .inspect import duration_text, duty_text

    out = []
    for kind in ("ultrasound", "light"):
        for e in run.config.get(kind, []) or []:
            if not isinstance(e, dict) or "start_h" not in e or "duration_min" not in e:
                continue
            start, dur = float(e["start_h"]), float(e["duration_min"])
            repeats = max(1, int(e.get("repeats", 1) or 1))
            every = float(e.get("repeat_every_h") or 0.0)
            amplitude = e.get("intensity_W_per_cm2" if kind == "ultrasound" else
                              "irradiance_mW_per_cm2", 0)
            sham = "sham (0, as in a control) " if amplitude == 0 else ""
            if kind == "ultrasound":
                what = f"{sham}ultrasound {amplitude:g} W/cm², {duration_text(dur)}"
            else:
                what = (f"{sham}light {e.get('wavelength_nm', 0):g} nm, "
                        f"{amplitude:g} mW/cm², {duration_text(dur)}")
            what += duty_text(e)  # as `zn-pde inspect` says it
            if repeats > 1:
                what += f", {repeats}× every {every:g} h"
            for k in range(repeats if every > 0 else 1):
                s0 = start + k * every
                out.append((kind, s0, s0 + dur / 60.0, what))
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
    for t, what, style in _events(run):
        if t > t_end_h:
            continue
        label = what if legend and what not in labelled else None
        labelled.add(what)
        # an event at the axis' edge (a dose at t = 0) would lie under the spine: drawn
        # over it, twice as wide
        edge = {"zorder": 3, "clip_on": False} if t <= 0 or t >= t_end_h else {}
        ax.axvline(t, lw=2.0 if edge else 1.0, label=label, **style, **edge)


def _mark_events_above(ax, run: RunFile, t_end_h: float) -> bool:
    """The exposures, doses and exchanges as markers on a map's top edge (outside the data;
    an exposure also as a bar over its duration), labelled as in `_shade_stimuli` for a
    figure legend: shading or lines would cover the map. Whether any was marked."""
    above = ax.get_xaxis_transform()  # x in data, y in axes fractions
    labelled = set()
    marks = [(start, end, what, _STIMULUS_STYLE[kind][0])
             for kind, start, end, what in _stimuli(run)]
    marks += [(t, t, what, style["color"]) for t, what, style in _events(run)]
    for start, end, what, colour in marks:
        if start > t_end_h:
            continue
        label = what if what not in labelled else None
        labelled.add(what)
        if end > start:
            ax.plot([start, min(end, t_end_h)], [1.0, 1.0], color=colour, lw=3.0,
                    solid_capstyle="butt", transform=above, clip_on=False)
        ax.plot([start], [1.0], ls="none", marker="v", ms=6, color=colour, label=label,
                transform=above, clip_on=False)
    return bool(labelled)


def _events(run: RunFile) -> list[tuple[float, str, dict[str, Any]]]:
    """(time h, legend text, line style) of every [[dose]] and [[medium_exchange]] of the
    stored config: vertical lines on every time axis."""
    out = []
    for e in run.config.get("dose", []) or []:
        if isinstance(e, dict) and "time_h" in e:
            out.append((float(e["time_h"]), f"dose {float(e.get('dose_ug_per_ml', 0)):g} µg/mL",
                        {"color": "tab:green", "ls": "--"}))
    for e in run.config.get("medium_exchange", []) or []:
        if isinstance(e, dict) and "time_h" in e:
            what = "medium exchange (wash-out)"
            out.append((float(e["time_h"]), what, {"color": "0.25", "ls": ":"}))
    return out


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
    mask = run.tissue[:, j, :] if run.tissue is not None else None
    with run.open() as f:
        planes = [_as_shown(name, _cells_only(run, name, np.asarray(f[name][i, :, j, :],
                                                                    float), mask))
                  for i in frames]  # (z, x)
    norm, extend = _tissue_norm(run, name, planes, mask, log)
    cmap = colormaps["magma" if _is_fraction(name) else "viridis"].with_extremes(
        bad=(1, 1, 1, 0))
    extent = (0.0, run.x_um.size * h, 0.0, run.z_um.size * h)
    where = f"x-z plane at y = {run.y_um[j]:.4g} µm"
    if sph is not None:
        where += " (through the spheroid centre; line: spheroid surface)"
    if _stimuli(run):
        where += "; stimuli enter at z = 0"
    scale = ""
    if mask is not None and mask.any():
        p0, p1 = TISSUE_PERCENTILES
        if _is_fraction(name):  # `_tissue_norm`: a fraction alive keeps its whole scale
            scale = "\ncolour scale: fixed, 0–100 %"
        elif _is_glutathione(name):
            scale = "\ncolour scale: the range of the tissue voxels shown"
        else:
            scale = f"\ncolour scale: {p0:g}–{p1:g}th percentile of the tissue voxels shown"
        if name in INTRACELLULAR:
            scale += "; blank: medium (no cells)"
    # a plane of zeros is one flat colour on a 0-1 bar: say so in words, as the kymographs
    # and the time series do (the ROS of a run without stimuli read as a scale of 0-1 µM)
    zero = " (0 throughout)" if not any(np.any(np.nan_to_num(p, nan=0.0)) for p in planes) \
        else ""
    title = (f"{_SHORT_NAMES.get(name, name)}{zero}: {where}{scale}"
             f"{_after_exposure_note(run, frames)}")
    if _incomplete(run):
        title += f"\n{_incomplete(run)}"
    n = len(frames)
    # room for the suptitle's lines, so the constrained layout never squeezes the x labels
    fig = Figure(figsize=(2.9 * n + 1.3, 3.4 + 0.2 * (title.count("\n") + 1)),
                 layout="constrained")
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    image = None
    for ax, i, plane in zip(axes, frames, planes, strict=True):
        image = ax.imshow(np.ma.masked_invalid(_below_log(plane, norm)), origin="lower",
                          extent=extent,
                          norm=norm, cmap=cmap, interpolation="nearest")
        if mask is not None and mask.any() and not mask.all():
            ax.contour(run.x_um, run.z_um, mask.astype(float), levels=[0.5],
                       colors="0.2" if _is_fraction(name) or name in INTRACELLULAR
                       else "white", linewidths=1.0)
        ax.set_title(f"t = {run.times_s[i] / 3600:.4g} h")
        ax.set_xlabel("x (µm)")
        ax.set_aspect("equal")
    axes[0].set_ylabel("z (µm)")
    cbar = fig.colorbar(image, ax=list(axes), shrink=0.9, extend=extend)
    # a long label wrapped, so it stays on the page beside the bar
    cbar.set_label(_wrap(_label(run, name, percent=_is_fraction(name)), 34))
    if _is_glutathione(name):
        _plain_ticks(cbar.ax.yaxis)
    fig.suptitle(title, fontsize=9)
    return fig


def _below_log(a: np.ndarray, norm: Normalize) -> np.ndarray:
    """Under a log colour scale, finite values <= 0 (a concentration still or again 0) set
    below its lower end, so they take the colour bar's lowest colour as any value under it
    does: a log norm masks them, and they were drawn blank, as NaN (no cells) is."""
    if not isinstance(norm, LogNorm):
        return a
    return np.where(np.isfinite(a) & (a <= 0), 0.1 * float(norm.vmin), a)


def _after_exposure_note(run: RunFile, frames: list[int]) -> str:
    ends = [end for _, _, end, _ in _stimuli(run)]
    if not ends:
        return ""
    ends = sorted(set(ends))
    text = "; exposures end at " + ", ".join(f"{e:.4g}" for e in ends[:6])
    if len(ends) > 6:  # a pulse train: the first six did not read as all of them
        text += f", ... ({len(ends)} in all, the last at {ends[-1]:.4g}"
        return text + " h)"
    return text + " h"


def _profile_frames(t_h: np.ndarray, keep: list[int] | tuple[int, ...] = ()) -> list[int]:
    """Every frame, or the frames `keep` (the slices' default: around the exposures) and the
    rest of MAX_PROFILES spread evenly in time (the frames nearest to evenly spaced times:
    saved times are uneven around events). An exposure's end frame, which holds its ROS
    peak, was once skipped by the even spread (an outside figure review)."""
    n = t_h.size
    if n <= MAX_PROFILES:
        return list(range(n))
    keep = {k for k in keep if 0 <= k < n}
    wanted = np.linspace(t_h[0], t_h[-1], max(MAX_PROFILES - len(keep), 2))
    return sorted(keep | {int(np.argmin(np.abs(t_h - t))) for t in wanted})


def _profile_colours(run: RunFile, chosen: list[int] | None = None):
    """The frames a profile figure draws (`chosen`, in time order, else up to MAX_PROFILES),
    their times (h), the colour of each frame's profile and the colour bar's mappable: one
    band of viridis per frame, in time order and labelled with its time. Coloured by time
    itself, the frames just before and after a 1 min exposure (4 and 4.017 h) took the same
    colour, and a profile before the kill could not be told from one after it (a figure
    review)."""
    t_h = run.times_s / 3600.0
    frames = sorted(chosen) if chosen else _profile_frames(t_h[:run.n_frames],
                                                           _default_frames(run))
    n = len(frames)
    cmap = ListedColormap(colormaps["viridis"](np.linspace(0.0, 1.0, max(n, 2))[:n]))
    colours = {i: cmap(k) for k, i in enumerate(frames)}
    sm = _scalar_mappable(cmap, BoundaryNorm(np.arange(n + 1) - 0.5, n))
    return frames, t_h, colours, sm


def _time_bar(fig: Figure, sm, axes, frames: list[int], t_h: np.ndarray) -> None:
    """The profiles' colour key: a band per frame, ticked with its time (h)."""
    bar = fig.colorbar(sm, ax=axes, label="time of the profile (h)", shrink=0.9)
    bar.set_ticks(np.arange(len(frames)), labels=[f"{t_h[i]:.4g}" for i in frames])
    bar.ax.minorticks_off()


def _plain_ticks(axis) -> None:
    """Glutathione's ticks as plain values (4999.995, not 0.005 under '+4.99999e3'): its
    dip of a few thousandths to tens of µM from ~5000 µM made matplotlib move the 5000
    into an offset above the axis, which read as a range from 0.005 to 0.01 µM (an outside
    user audit of a radial profile figure)."""
    from matplotlib.ticker import ScalarFormatter

    formatter = ScalarFormatter(useOffset=False)
    formatter.set_scientific(False)
    axis.set_major_formatter(formatter)


def _radial(run: RunFile, names: list[str], log: bool, chosen: list[int] | None = None
            ) -> Figure:
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
    frames, t_h, colours, sm = _profile_colours(run, chosen)
    fig, axes = _panel_grid(len(names))
    with run.open() as f:
        for ax, name in zip(axes, names, strict=True):
            any_positive = False
            for i in frames:
                a = _cells_only(run, name, _read_frame(f, name, i), run.tissue).ravel()
                # a living cells' pool over the shell's living cells (`_mean_series`)
                w = (np.nan_to_num(_read_frame(f, "viability", i)).ravel()
                     if name in LIVING_POOLS and "viability" in f else np.ones(a.size))
                ok = inside & np.isfinite(a) & (w > 0)
                count = np.bincount(bins[ok], weights=w[ok], minlength=edges.size - 1)
                total = np.bincount(bins[ok], weights=a[ok] * w[ok], minlength=edges.size - 1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
                mean = _as_shown(name, mean)
                any_positive |= bool(np.any(mean[np.isfinite(mean)] > 0))
                ax.plot(centres, mean, color=colours[i], lw=1.4)
            if radius is not None:
                ax.axvline(radius, color="0.4", ls="--", lw=0.9)
            if log and _is_concentration(run, name) and any_positive:
                _log_y(ax)
            elif _is_glutathione(name):
                _plain_ticks(ax.yaxis)
            ax.set_xlim(0.0, float(edges[-1]))  # the same distance axis in every panel
            ax.set_xlabel(textwrap.fill(xlabel, 32), fontsize=9)
            # long labels wrapped, so they keep clear of the panel to their left
            ax.set_ylabel(_wrap(_label(run, name, percent=_is_fraction(name)), 30),
                          fontsize=9)
            ax.grid(alpha=0.25)
    _time_bar(fig, sm, axes, frames, t_h)
    title = "shell-averaged radial profiles" if sph is not None else "depth profiles"
    if radius is not None:
        title += " (dashed: spheroid surface)"
    title = _noting_incomplete(run, title)
    fig.suptitle(_fit_title(fig, title), fontsize=10)
    return fig


def _surface_um(run: RunFile) -> float | None:
    """Radial runs: the radius of the tissue surface (µm), None without a spheroid."""
    geo = run.config.get("geometry", {})
    return float(geo["radius_um"]) if geo.get("kind") == "spheroid" else None


def _radial_profiles(run: RunFile, names: list[str], log: bool,
                     chosen: list[int] | None = None) -> Figure:
    """Radial run: each field against r at up to MAX_PROFILES frames; depth R − r on top."""
    r = run.r_um
    radius = _surface_um(run)
    h = float(run.config["grid"]["spacing_um"])
    frames, t_h, colours, sm = _profile_colours(run, chosen)
    fig, axes = _panel_grid(len(names))
    with run.open() as f:
        for ax, name in zip(axes, names, strict=True):
            any_positive = False
            for i in frames:
                a = _cells_only(run, name, _read_frame(f, name, i), run.tissue)
                a = _as_shown(name, a)
                any_positive |= bool(np.any(a[np.isfinite(a)] > 0))
                ax.plot(r, a, color=colours[i], lw=1.4)
            if radius is not None:
                ax.axvline(radius, color="0.4", ls="--", lw=0.9)
                top = ax.secondary_xaxis("top", functions=(lambda x, R=radius: R - x,
                                                           lambda d, R=radius: R - d))
                top.set_xlabel("depth below the surface (µm)", fontsize=8)
            if log and _is_concentration(run, name) and any_positive:
                _log_y(ax)
            elif _is_glutathione(name):
                _plain_ticks(ax.yaxis)
            ax.set_xlim(0.0, r.size * h)
            ax.set_xlabel("r (µm)")
            # long labels wrapped, so they keep clear of the panel to their left
            ax.set_ylabel(_wrap(_label(run, name, percent=_is_fraction(name)), 30),
                          fontsize=9)
            ax.grid(alpha=0.25)
    _time_bar(fig, sm, axes, frames, t_h)
    title = "radial profiles against r, the distance from the spheroid centre"
    if radius is not None:
        title += " (dashed: spheroid surface)"
    title = _noting_incomplete(run, title)
    fig.suptitle(_fit_title(fig, title), fontsize=10)
    return fig


def _kymographs(run: RunFile, names: list[str], log: bool) -> Figure:
    """Radial run: each field as an r × t map, colour fitted to the tissue."""
    r = run.r_um
    h = float(run.config["grid"]["spacing_um"])
    t_h = run.times_s / 3600.0
    radius = _surface_um(run)
    fig, axes = _panel_grid(len(names), width=3.8, height=2.9)
    with run.open() as f:
        for ax, name in zip(axes, names, strict=True):
            a = _as_shown(name, np.asarray(f[name][:run.n_frames], float))
            if name in INTRACELLULAR and run.tissue is not None and run.tissue.any():
                a = np.where(run.tissue[None, :], a, np.nan)
            norm, extend = _tissue_norm(run, name, [a], None if run.tissue is None else
                                        np.broadcast_to(run.tissue, a.shape), log)
            t_edges = (np.concatenate([[t_h[0]], 0.5 * (t_h[1:] + t_h[:-1]), [t_h[-1]]])
                       if t_h.size > 1 else np.array([t_h[0], t_h[0] + 1.0]))
            r_edges = np.arange(r.size + 1) * h
            cmap = colormaps["magma" if _is_fraction(name) else "viridis"]
            mesh = ax.pcolormesh(t_edges, r_edges, np.ma.masked_invalid(_below_log(a.T, norm)),
                                 norm=norm,
                                 cmap=cmap.with_extremes(bad=(1, 1, 1, 0)), shading="flat")
            if radius is not None:
                ax.axhline(radius, color="w", ls="--", lw=0.9)
            ax.set_xlabel("time (h)")
            ax.set_ylabel("r (µm)")
            marked = _mark_events_above(ax, run, float(t_edges[-1]))
            # lifted clear of the markers on the top edge
            # a map of zeros is one flat colour on a 0-1 bar: say so in words
            zero = not np.any(np.nan_to_num(a, nan=0.0))
            ax.set_title(_wrap(_label(run, name, percent=_is_fraction(name))
                               + (" (0 throughout)" if zero else ""), TITLE_CHARACTERS),
                         fontsize=9, pad=11.0 if marked else 6.0)
            bar = fig.colorbar(mesh, ax=ax, shrink=0.9, extend=extend)
            if _is_glutathione(name):
                _plain_ticks(bar.ax.yaxis)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:  # one key for the markers of every panel, below them all
        fig.legend(handles, labels, loc="outside lower center", fontsize=8, frameon=False,
                   ncols=min(len(handles), 3))
    title = "kymographs: r × time"
    if radius is not None:
        title += " (dashed: spheroid surface)"
    title = _noting_incomplete(run, title)
    fig.suptitle(_fit_title(fig, title), fontsize=10)
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
        panels = [(_SHORT_NAMES.get(n, n), "%" if _is_fraction(n) else _units(run, n),
                   [(n, "at saved frames"), ("max_ros", "max over all steps")]
                   if n == "ros" and peak else [(n, "")]) for n in names]
        if "dissolved_percent" in run.series and run.config.get("material", {}).get(
                "dose_ug_per_ml", 0) > 0:
            panels.insert(0, ("particle mass dissolved (% of the dose)", "%",
                              [("dissolved_percent", "")]))
        at = next((i + 1 for i, p in enumerate(panels) if p[2][0][0] == "zn_cell"),
                  len(panels))
        panels[at:at] = _atp_panel(run, names, set(run.series))
        return panels
    # a cell-free grid (geometry.kind = "medium") has no tissue: its tissue means are NaN,
    # so its fields are averaged over the whole domain below instead
    has_tissue = run.tissue is not None and bool(run.tissue.any())
    s = set(run.series) if has_tissue else set(run.series) - {
        "tissue_mean_zn", "tissue_mean_zn_cell", "tissue_mean_ros", "tissue_mean_viability",
        ATP_SERIES}
    want = set(names)
    panels = []
    if "tissue_mean_zn" in s and "zn" in want:
        panels.append(("dissolved Zn²⁺ (extracellular fluid), tissue mean", "µM",
                       [("tissue_mean_zn", "")]))
    if "tissue_mean_zn_cell" in s and "zn_cell" in want:
        panels.append(("labile intracellular Zn, tissue mean", "µM",
                       [("tissue_mean_zn_cell", "")]))
    panels += _atp_panel(run, names, s)
    if {"tissue_max_ros", "medium_max_ros"} <= s and "ros" in want:
        # by place: medium ROS is often far above the tissue's and would flatten it
        tissue = run.tissue if run.tissue is not None else np.zeros(1, bool)
        if tissue.any():
            panels.append(("ROS in tissue", "µM", [(n, lab) for n, lab in
                                                  (("tissue_mean_ros", "mean"),
                                                   ("tissue_max_ros", "max, every step"))
                                                  if n in s]))
        if not tissue.all():
            panels.append(("ROS in the medium", "µM", [("medium_max_ros", "max, every step")]))
    elif s & {"tissue_mean_ros", "max_ros"} and "ros" in want:  # files of earlier versions
        panels.append(("ROS", "µM", [(n, lab) for n, lab in
                                    (("tissue_mean_ros", "tissue mean"),
                                     ("max_ros", "domain max, all steps")) if n in s]))
    if "tissue_mean_viability" in s and "viability" in want:
        panels.append(("viability, tissue mean", "%", [("tissue_mean_viability", "")]))
    carried = _nonzero_series(run, [f"bulk_{n}" for n in ("zn", "h2o2", "h2s", "ros")
                                    if f"bulk_{n}" in s])
    bulk = [(f"bulk_{n}", label) for n, label in (("zn", "Zn²⁺"), ("h2o2", "H₂O₂"),
                                                   ("h2s", "sulfide"), ("ros", "ROS"))
            if f"bulk_{n}" in carried]
    # the reacting medium the walls hold: what the spheroid is bathed in. A species more
    # than BULK_PANEL_RANGE below the largest gets a panel of its own: ZnS's sulfide, which
    # volatilises, is ~1/75 of its Zn2+ and lay flat on 0 beside it (an outside user audit)
    for k, group in enumerate(_by_magnitude(run, bulk)):
        panels.append(("bulk medium beyond the walls"
                       + ("" if k == 0 else f" ({', '.join(lab for _, lab in group)})"),
                       "µM", group))
    covered = {f for f, series in (("zn", "tissue_mean_zn"), ("zn_cell", "tissue_mean_zn_cell"),
                                   ("ros", "tissue_mean_ros"),
                                   ("viability", "tissue_mean_viability")) if series in s}
    for n in names:  # fields without a stored series: mean computed here
        if n not in covered:
            where = "tissue mean" if run.tissue is not None and run.tissue.any() else "mean"
            unit = "%" if _is_fraction(n) else _units(run, n)
            panels.append((f"{_SHORT_NAMES.get(n, n)}, {where}", unit, [(n, "")]))
    return panels


def _atp_panel(run: RunFile, names: list[str], series: set[str]
               ) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The living cells' ATP supply, as a panel beside their zinc or viability (`--fields
    np` asks for neither), where the run holds a value of it (none in a cell-free one)."""
    if (ATP_SERIES in series and set(names) & {"zn_cell", "viability"}
            and _nonzero_series(run, [ATP_SERIES])):
        return [(ATP_PANEL, "%", [(ATP_SERIES, "")])]
    return []


#: Largest ratio between the peaks of two series drawn on one linear axis of the bulk
#: medium's panel: beyond it the smaller is under ~1/20 of the axis, indistinguishable
#: from 0 at the figure's size
BULK_PANEL_RANGE = 20.0


def _by_magnitude(run: RunFile, items: list[tuple[str, str]]
                  ) -> list[list[tuple[str, str]]]:
    """`items` (dataset, legend) grouped for panels of one linear axis each: in the order of
    their peaks (largest |value| over the frames), a new group where a series' peak falls
    below 1/BULK_PANEL_RANGE of its group's largest; each group in the given order."""
    if len(items) < 2:
        return [items] if items else []
    with run.open() as f:
        peak = {name: float(np.nanmax(np.abs(np.asarray(f[name][:run.n_frames], float))))
                for name, _ in items}
    groups: list[list[tuple[str, str]]] = []
    for item in sorted(items, key=lambda it: -peak[it[0]]):
        if groups and peak[item[0]] * BULK_PANEL_RANGE >= peak[groups[-1][0][0]]:
            groups[-1].append(item)
        else:
            groups.append([item])
    order = {name: i for i, (name, _) in enumerate(items)}
    return [sorted(g, key=lambda it: order[it[0]]) for g in groups]


def _nonzero_series(run: RunFile, names: list[str]) -> set[str]:
    """The series among `names` with a finite, non-zero value in some frame (a bulk species
    the run does not carry is NaN; one the material does not make stays 0); one file open."""
    found = set()
    with run.open() as f:
        for name in names:
            y = np.asarray(f[name][:run.n_frames], float)
            if np.any(np.isfinite(y) & (y != 0)):
                found.add(name)
    return found


def _mean_series(run: RunFile, f, name: str) -> np.ndarray:
    from .inspect import cell_volumes, finite_mean

    d = f[name]
    n = run.n_frames
    if d.ndim == 1:
        return np.asarray(d[:n], float)
    mask = run.tissue if run.tissue is not None and run.tissue.any() else None
    w = cell_volumes(run, d.shape[1:])
    living = name in LIVING_POOLS and "viability" in f and mask is not None
    out = np.empty(n)
    for i in range(n):
        a = _read_frame(f, name, i)
        if living:  # over the living cells: a voxel whose cells died adds nothing
            wv = w * np.nan_to_num(np.asarray(f["viability"][i], float))
            ok = mask & np.isfinite(a) & (wv > 0)
            out[i] = float(np.average(a[ok], weights=wv[ok])) if ok.any() else np.nan
        else:
            out[i] = finite_mean(a[mask], w[mask]) if mask is not None else finite_mean(a, w)
    return out


def _timeseries(run: RunFile, names: list[str], log: bool) -> Figure:
    """Tissue means (a well-mixed run: every variable) over time. Panel titles wrap at
    TITLE_CHARACTERS; a panel whose series are NaN throughout is left out and said so in
    the figure title (% dissolved is not counted across medium exchanges); the
    exposures, doses and exchanges are keyed in one legend below the panels, outside the
    data; a panel's own curves in a framed legend inside it. Glutathione's axis is fitted
    to its values and its resting level (the t = 0 value, dotted), not from 0."""
    t_h = run.times_s / 3600.0
    planned = run.config.get("time", {}).get("end_h")
    t_end = float(planned) if isinstance(planned, int | float) else float(t_h[-1])
    panels, left_out = [], []
    with run.open() as f:
        for title, unit, items in _series_panels(run, names):
            series = [(name, legend, _as_shown(name, _mean_series(run, f, name)))
                      for name, legend in items]
            if any(np.isfinite(y).any() for _, _, y in series):
                panels.append((title, unit, series))
            elif any(name == "dissolved_percent" for name, _ in items):
                left_out.append("% dissolved is not counted across medium exchanges")
            else:
                left_out.append(f"{title}: no value")
    if not panels:
        raise InputError("no time series with a finite value to plot", file=str(run.path))
    fig, axes = _panel_grid(len(panels), width=3.6, height=2.6)
    keyed: list[str] = []  # the own curves' legend entries, per panel
    for k, (ax, (title, unit, series)) in enumerate(zip(axes, panels, strict=True)):
        values = np.concatenate([y[np.isfinite(y)] for _, _, y in series])
        any_positive = bool(np.any(values > 0))
        any_negative = bool(np.any(values < 0))
        for name, legend, y in series:
            style: dict[str, Any] = {"marker": "o", "ms": 2.5} if t_h.size < 30 else {}
            if name.endswith("max_ros"):  # a peak over the interval ending at each frame
                style = {"ls": "--", "drawstyle": "steps-pre"}
            # over the spines (zorder 2.5): a series at 0 on an axis from 0 (ROS before an
            # exposure, a vial's ROS throughout) lay under the bottom spine, invisible
            ax.plot(t_h, y, lw=1.5, label=legend or None, zorder=2.6, **style)
            if legend:
                keyed.append(legend)
        _shade_stimuli(ax, run, t_end, legend=k == 0)
        kinetics = run.config.get("kinetics") or {}
        half = kinetics.get("energy_kill_half_atp")
        if (series[0][0] == ATP_SERIES and isinstance(half, int | float)
                and kinetics.get("energy_kill_max_per_h", 1.0) > 0):  # no such death: no level
            # where the energy failure's death rate is half its most
            label = f"death rate half its most ({100 * half:g} %)"
            ax.axhline(100 * half, color="0.35", lw=0.9, ls=":", label=label)
            keyed.append(label)
        glutathione = all(_is_glutathione(name) for name, _, _ in series)
        if log and any_positive and all(_is_concentration(run, n) for n, _, _ in series):
            _log_y(ax)
        elif glutathione:
            # a ~5 mM pool whose dip of a few tens of µM is the signal: fitted to the values
            # and the resting level (as the radial and kymograph figures), not from 0
            rest = float(next(y[np.isfinite(y)][0] for _, _, y in series
                              if np.isfinite(y).any()))
            ax.axhline(rest, color="0.45", lw=0.9, ls=":", label="resting level (t = 0)")
            keyed.append("resting level (t = 0)")
            lo, hi = min(values.min(), rest), max(values.max(), rest)
            pad = 0.12 * (hi - lo) if hi - lo > 1e-6 * max(abs(hi), 1.0) else 0.005 * abs(hi)
            ax.set_ylim(lo - (pad or 1.0), hi + (pad or 1.0))
            ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        elif not any_negative:  # no negative axis for what cannot be negative
            ax.set_ylim(bottom=0.0, top=None if any_positive else 1.0)
        ax.set_xlim(0.0, max(t_end, float(t_h[-1])) or 1.0)
        ax.set_xlabel("time (h)")
        ax.set_ylabel(unit or _DIMENSIONLESS.get(series[0][0], "dimensionless (1)"))
        ax.set_title(_wrap(title + ("" if any_positive else " (0 throughout)"),
                           TITLE_CHARACTERS), fontsize=9)
        ax.grid(alpha=0.25)
        handles, labels = ax.get_legend_handles_labels()
        own = [(h, lab) for h, lab in zip(handles, labels, strict=True) if lab in keyed]
        if own:  # framed: an event line or a curve may pass behind it
            ax.legend(*zip(*own, strict=True), fontsize=7, framealpha=0.9, loc="best")
    handles, labels = axes[0].get_legend_handles_labels()
    events = [(h, lab) for h, lab in zip(handles, labels, strict=True) if lab not in keyed]
    if events:  # one key for the shading and lines of every panel, below them all
        fig.legend(*zip(*events, strict=True), loc="outside lower center", fontsize=8,
                   ncols=min(len(events), 2 if len(axes) < 3 else 3), frameon=False)
    title = "well-mixed compartment" if run.well_mixed else "tissue averages over time"
    if not run.well_mixed and (run.tissue is None or not run.tissue.any()):
        title = "averages over the whole domain over time (no tissue)"
    if run.well_mixed and not _has_cells(run):
        title = "cell-free release vial (well-mixed)"
    title = _noting_incomplete(run, title)
    if left_out:
        title += "\n(not drawn: " + "; ".join(left_out) + ")"
    fig.suptitle(_fit_title(fig, title), fontsize=10)
    return fig


# --- treated vs control ----------------------------------------------------------------------


def _check_comparable(run: RunFile, control: RunFile) -> None:
    """Refuse (InputError, exit 2) a control whose grid, tissue or saved times differ."""
    def refuse(why: str) -> None:
        raise InputError(f"cannot compare with this control: {why}; --compare needs a control "
                         "run with the same grid (shape and spacing), tissue and saved times, "
                         f"e.g. the same config without the exposure (treated: {run.path})",
                         key="--compare", file=str(control.path))

    if control.n_frames == 0:
        refuse("it holds no saved frame")
    if run.dims != control.dims:
        refuse(f"different kinds of grid (dimensions {run.dims} here, {control.dims} in the "
               "control)")
    if not run.well_mixed:
        coords = {"x": (run.x_um, control.x_um), "y": (run.y_um, control.y_um),
                  "z": (run.z_um, control.z_um), "r": (run.r_um, control.r_um)}
        for axis, (a, b) in ((d, coords[d]) for d in run.dims):
            if a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=1e-9):
                refuse(f"different grids ({axis}: {a.size} voxels to {a[-1] + a[0]:g} µm "
                       f"here, {b.size} to {b[-1] + b[0]:g} µm in the control)")
        if (run.tissue is None) != (control.tissue is None) or (
                run.tissue is not None and not np.array_equal(run.tissue, control.tissue)):
            refuse("different tissue (the spheroid or slab differs)")
    t1, t2 = run.times_s / 3600.0, control.times_s / 3600.0
    r1, r2 = _regular_times_h(run), _regular_times_h(control)
    if r1.shape != r2.shape or not np.allclose(r1, r2, rtol=1e-9, atol=1e-6):
        refuse(f"different saved times ({count(t1.size, 'frame')} from {t1[0]:g} to "
               f"{t1[-1]:g} h here, {t2.size} from {t2[0]:g} to {t2[-1]:g} h in the control; "
               "the frames every time.save_every_min must be the same, the frames around "
               "events may differ)")
    missing = [n for n in run.fields if n not in control.fields]
    if missing:
        refuse(f"the control lacks the field(s) {', '.join(missing)}")


def _regular_times_h(run: RunFile) -> np.ndarray:
    """The saved times (h) of a run without the frames around its events (inspect's
    `event_frame_times_h`): those every time.save_every_min and the end."""
    from .inspect import event_frame_times_h

    t_h = run.times_s / 3600.0
    return t_h[~np.isin(t_h, event_frame_times_h(t_h, run.config.get("time", {})))]


def _common_frames(t1_h: np.ndarray, t2_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into each) of the frames both runs saved at the same time (within 3.6 ms):
    a treated run has frames around its exposures that its control has not."""
    j = np.clip(np.searchsorted(t2_h, t1_h), 0, max(t2_h.size - 1, 0))
    jm = np.clip(j - 1, 0, None)
    j = np.where(np.abs(t2_h[jm] - t1_h) < np.abs(t2_h[j] - t1_h), jm, j)
    same = np.abs(t2_h[j] - t1_h) <= 1e-6
    return np.flatnonzero(same), j[same]


def _depth_below_surface(run: RunFile) -> tuple[np.ndarray, str] | None:
    """Depth (µm, (z, y, x)) below the tissue surface: R − r for a spheroid (centre from the
    stored config), the distance to the nearest face for a uniform slab; None without tissue."""
    if run.tissue is None or not run.tissue.any():
        return None
    if run.radial:
        radius = _surface_um(run)
        outer = run.r_um.size * float(run.config["grid"]["spacing_um"])
        return ((radius if radius is not None else outer) - run.r_um,
                "depth below the spheroid surface (µm)" if radius is not None
                else "depth below the outer wall (µm)")
    zz, yy, xx = np.meshgrid(run.z_um, run.y_um, run.x_um, indexing="ij")
    sph = _spheroid(run)
    if sph is not None:
        (cx, cy, cz), radius = sph
        r = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2 + (zz - cz) ** 2)
        return radius - r, "depth below the spheroid surface (µm)"
    h = float(run.config["grid"]["spacing_um"])
    d = np.minimum.reduce([xx, run.x_um[-1] + h / 2 - xx, yy, run.y_um[-1] + h / 2 - yy,
                           zz, run.z_um[-1] + h / 2 - zz])
    return d, "depth below the nearest tissue face (µm)"


def _shell_means(depth: np.ndarray, tissue: np.ndarray, a: np.ndarray, h: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(shell centre depth, mean of `a`) over tissue shells one voxel (h) thick."""
    d, v = depth[tissue], a[tissue]
    ok = np.isfinite(v)
    d, v = d[ok], v[ok]
    if d.size == 0:
        return np.array([]), np.array([])
    shell = np.floor(np.maximum(d, 0.0) / h).astype(int)
    count = np.bincount(shell)
    filled = count > 0
    mean = np.bincount(shell, weights=v)[filled] / count[filled]
    centre = np.bincount(shell, weights=d)[filled] / count[filled]
    return centre, mean


_COMPARE_SERIES = (("tissue_mean_viability", "viability"), ("tissue_mean_zn", "zn"),
                   ("tissue_mean_zn_cell", "zn_cell"), ("tissue_mean_ros", "ros"))


def _compare(run: RunFile, control: RunFile) -> Figure:
    """Treated (`run`) minus control: maps at the final frame, Δviability against depth and
    tissue-mean time series of both. Axes carry gids (`diff_<field>`, `depth`,
    `series_<name>`) so tests can find them."""
    t_h = run.times_s / 3600.0
    t_control = control.times_s / 3600.0
    mine, theirs = _common_frames(t_h, t_control)
    to_control = dict(zip(mine.tolist(), theirs.tolist(), strict=True))
    last = run.n_frames - 1
    # what the stimuli did: viability, and their oxidative dose (none in the control) where
    # the run has it; a zn map differed mostly by the control's longer step (an outside
    # figure review: ±0.03 uM on ~1.7, its sign set by the step, not the stimulus)
    second = "radical_dose" if "radical_dose" in run.fields else "zn"
    maps = [n for n in ("viability", second) if n in run.fields] or list(run.fields[:1])
    if len(run.dims) != 3:  # maps are x-z planes of a 3D grid
        maps = []
    series = []  # (panel title, unit, treated array, control array)
    with run.open() as f, control.open() as g:
        for sname, field in _COMPARE_SERIES:
            if sname in run.series and sname in control.series:
                a, b = _mean_series(run, f, sname), _mean_series(control, g, sname)
            elif field in run.fields:
                a, b = _mean_series(run, f, field), _mean_series(control, g, field)
            else:
                continue
            if not (np.isfinite(a).any() or np.isfinite(b).any()):
                continue  # no cells: nothing to compare
            scale = 100.0 if _is_fraction(field) else 1.0
            where = ("culture" if run.well_mixed else "tissue mean") if _has_cells(run) \
                else "mean"
            series.append((f"{_SHORT_NAMES.get(field, field)}, {where}",
                           "%" if _is_fraction(field) else _units(run, field),
                           sname, scale * a, scale * b))
        if not series:
            for field in run.fields[:4]:
                series.append((_SHORT_NAMES.get(field, field), _units(run, field), field,
                               _mean_series(run, f, field), _mean_series(control, g, field)))
        planes = {}
        h = float(run.config["grid"]["spacing_um"]) if not run.well_mixed else 1.0
        if maps:
            sph = _spheroid(run)
            y_c = sph[0][1] if sph is not None else run.y_um.size * h / 2
            j = int(np.argmin(np.abs(run.y_um - y_c)))
            pmask = run.tissue[:, j, :] if run.tissue is not None else None
            for n in maps:
                a = _cells_only(run, n, np.asarray(f[n][last, :, j, :], float), pmask)
                b = _cells_only(run, n, np.asarray(g[n][to_control[last], :, j, :], float),
                                pmask)
                planes[n] = (100.0 if _is_fraction(n) else 1.0) * (a - b)
        depth_curves = []
        depth = _depth_below_surface(run) if "viability" in run.fields else None
        if depth is not None:
            # the default slice frames the control saved too (a frame at the end of an
            # exposure has no control counterpart: the first shared frame after it instead)
            shown = {int(mine[min(np.searchsorted(mine, k), mine.size - 1)])
                     for k in _default_frames(run) if k > 0} | {last}
            for i in sorted(shown):
                dv = 100.0 * (_read_frame(f, "viability", i)
                              - _read_frame(g, "viability", to_control[i]))
                depth_curves.append((i, *_shell_means(depth[0], run.tissue, dv, h)))
    n_top = len(maps) + (1 if depth_curves else 0)
    # on the times both runs saved
    delta = next(((a[mine] - b[theirs]) for _, _, key, a, b in series
                  if key == "tissue_mean_viability"), None)
    n_bottom = len(series) + (1 if delta is not None else 0)
    width = max(3.9 * n_top, 3.3 * n_bottom, 6.0)
    fig = Figure(figsize=(width, (3.6 if n_top else 0.0) + 2.9), layout="constrained")
    # room between a map's colour-bar label and the next panel's axis label
    fig.get_layout_engine().set(wspace=0.06)
    if n_top:
        top, bottom = fig.subfigures(2, 1, height_ratios=[3.6, 2.9])
    else:
        top, bottom = None, fig
    if top is not None:
        tax = top.subplots(1, n_top, squeeze=False)[0]
        extent = (0.0, run.x_um.size * h, 0.0, run.z_um.size * h) if maps else None
        for ax, n in zip(tax, maps, strict=False):
            d = planes[n]
            values = d[pmask] if pmask is not None and pmask.any() else d
            values = np.abs(values[np.isfinite(values)])
            m = float(np.percentile(values, 99.0)) if values.size else 0.0
            if not m > 0:
                m = float(np.nanmax(np.abs(d))) if np.isfinite(d).any() else 0.0
            m = m if m > 0 else 1.0
            image = ax.imshow(np.ma.masked_invalid(d), origin="lower", extent=extent,
                              cmap=colormaps["RdBu_r"].with_extremes(bad=(1, 1, 1, 0)),
                              norm=TwoSlopeNorm(0.0, -m, m), interpolation="nearest")
            if pmask is not None and pmask.any() and not pmask.all():
                ax.contour(run.x_um, run.z_um, pmask.astype(float), levels=[0.5],
                           colors="0.2", linewidths=1.0)
            ax.set_gid(f"diff_{n}")
            ax.set_aspect("equal")
            ax.set_xlabel("x (µm)")
            ax.set_ylabel("z (µm)")
            unit = "% points" if _is_fraction(n) else _units(run, n)
            ax.set_title(f"Δ {_SHORT_NAMES.get(n, n)} at {t_h[last]:.4g} h", fontsize=9)
            finite = d[np.isfinite(d)]
            extend = {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
                (bool(np.any(finite < -m)), bool(np.any(finite > m))), "neither")
            top.colorbar(image, ax=ax, shrink=0.85, extend=extend,
                         label=f"treated − control ({unit})" if unit else "treated − control")
        if depth_curves:
            ax = tax[-1]
            ax.set_gid("depth")
            colours = colormaps["tab10"]
            for k, (i, x, y) in enumerate(depth_curves):
                ax.plot(x, y, color="k" if i == last else colours(k % 10),
                        lw=1.8 if i == last else 1.1, marker="o", ms=2.5,
                        label=f"t = {t_h[i]:.4g} h")
            ax.axhline(0.0, color="0.5", lw=0.8)
            ax.set_xlabel(depth[1])
            ax.set_ylabel("Δ viability (% points)")
            ax.set_title("Δ viability vs depth (shell means)", fontsize=9)
            ax.grid(alpha=0.25)
            ax.legend(fontsize=7, frameon=False)
        where = ""
        if maps:
            where = f"maps: x-z plane at y = {run.y_um[j]:.4g} µm"
            if _spheroid(run) is not None:
                where += " through the spheroid centre (line: surface)"
            where += "; colour: ±99th percentile of |Δ| over tissue"
        top.suptitle(where, fontsize=8)
    planned = run.config.get("time", {}).get("end_h")
    t_end = float(planned) if isinstance(planned, int | float) else float(t_h[-1])
    bax = list(bottom.subplots(1, n_bottom, squeeze=False)[0])
    if delta is not None:
        ax = bax.pop()
        ax.set_gid("series_delta_viability")
        ax.plot(t_h[mine], delta, lw=1.5, color="k")
        ax.axhline(0.0, color="0.5", lw=0.8)
        ax.set_title("Δ viability" + (", culture" if run.well_mixed else ", tissue mean"),
                     fontsize=9)
        ax.set_ylabel("treated − control (% points)")
        _shade_stimuli(ax, run, t_end, legend=False)
        ax.set_xlim(0.0, max(t_end, float(t_h[-1])) or 1.0)
        ax.set_xlabel("time (h)")
        ax.grid(alpha=0.25)
    for ax, (title, unit, key, a, b) in zip(bax, series, strict=True):
        ax.set_gid(f"series_{key}")
        ax.plot(t_h, a, lw=1.5, color="tab:red", label=f"treated ({run.path.stem})")
        ax.plot(t_control[:b.size], b, lw=1.5, ls="--", color="0.25",
                label=f"control ({control.path.stem})")
        _shade_stimuli(ax, run, t_end, legend=False)
        ax.set_xlim(0.0, max(t_end, float(t_h[-1])) or 1.0)
        ax.set_xlabel("time (h)")
        ax.set_ylabel(unit or _DIMENSIONLESS.get(key, "dimensionless (1)"))
        ax.set_title(_wrap(title, COMPARE_TITLE_CHARACTERS), fontsize=9)
        ax.grid(alpha=0.25)
    if bax:  # keyed below the panels: inside one, the treated curve's fall ran through it
        handles, labels = bax[0].get_legend_handles_labels()
        # the exposures `_shade_stimuli` shaded on every panel, keyed as in the time-series
        # figure: a well-mixed comparison has no subtitle to name the shading, and left an
        # ultrasound burst unexplained (an outside user audit)
        for kind, start, _, what in _stimuli(run):
            if start <= t_end and what not in labels:
                handles.append(Patch(color=_STIMULUS_STYLE[kind][0], alpha=0.25, lw=0))
                labels.append(what)
        # the doses and exchanges `_shade_stimuli` drew as lines on every panel, keyed too
        for t, what, style in _events(run):
            if t <= t_end and what not in labels:
                handles.append(Line2D([], [], lw=1.0, **style))
                labels.append(what)
        bottom.legend(handles, labels, loc="outside lower center", fontsize=8,
                      frameon=False, ncols=min(len(labels), 4))
    if bottom is not fig:
        bottom.suptitle(("the culture" if run.well_mixed else "tissue means")
                        + " over time (shaded: exposures of the treated run)", fontsize=8)
    title = f"treated ({run.path.name}) − control ({control.path.name})"
    from ._run import control_steps_longer, within_step_error

    if (delta is not None and mine.size and mine[-1] == last
            and within_step_error(-delta[-1] / 100.0,
                                  control_steps_longer(run.config, control.config))):
        # as the run's summary says it (`killed_text`): a treated run this little above its
        # control shows the control's longer step, not cells the stimuli spared
        title += (f"\nno measurable kill: the control ends {delta[-1]:.2f} % points below the "
                  "run, within its step error")
    for which, r in (("treated", run), ("control", control)):
        if _incomplete(r):
            title += f"\n{which}: {_incomplete(r)}"
    fig.suptitle(_fit_title(fig, title), fontsize=10)
    return fig
