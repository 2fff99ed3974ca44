"""The end of a fit: `<name>.json`, the fitted model (`<name>.eqx`) and `<name>.png`.

The model file holds the leaves of the fitted `Model` of the table's first experiment,
written by `eqx.tree_serialise_leaves`; the JSON's `model_config` is that experiment's
resolved config with the fitted kinetics, so `load_fitted_model(json_path)` rebuilds the
same structure with `build_model` and reads the leaves back.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import InputError, write_text_atomic
from .._model import Model, build_model
from ..observables import Table
from ..observables.viability import DEFAULT_EXPOSURE_H
from ._empirical import extrapolation, measured_range
from ._problem import Problem

N_DENSE = 40  # doses (well-mixed) or times per curve of the figure's model lines
N_DENSE_3D = 6  # doses per curve for a 3D observable (each is a full PDE solve)
# the figure title (10 pt) holds about 14.5 characters per inch; 12 leaves a margin
TITLE_CHARACTERS_PER_INCH = 12


def synthetic_table(kind: str, columns: dict[str, np.ndarray]) -> Table:
    n = len(next(iter(columns.values())))
    numbers = {k: np.asarray(v, float) for k, v in columns.items()}
    text = {k: tuple("" if not np.isfinite(x) else f"{x:.12g}" for x in v)
            for k, v in numbers.items()}
    return Table(path="<figure>", kind=kind, header=tuple(columns), numbers=numbers, text=text,
                 lines=tuple(range(2, n + 2)), relation=("=",) * n)


def _column(table: Table, name: str, default: float) -> np.ndarray:
    v = table.numbers.get(name)
    if v is None:
        return np.full(len(table), default)
    return np.where(np.isfinite(v), v, default)


def dense_curves(problem: Problem, x: np.ndarray, ms=None) -> list[dict[str, Any]]:
    """Model lines for the figure: release, every saved frame of each vial (pH, dose);
    viability, `N_DENSE` doses at each exposure time and stimulus. With the optimiser `ms`,
    they run through its compiled program (no recompilation)."""
    cfg, table = problem.cfg, problem.table
    obs = cfg.observable
    settings = cfg.row_settings
    pred = problem.prediction
    if obs.table_kind == "release":
        traj = (ms.trajectories(x, pred.arrays) if ms is not None else
                np.asarray(jax.jit(pred.trajectories)(jnp.asarray(x, pred.dtype)), float))
        keys = [(c["ph"]["medium"], c["material"]["dose_ug_per_ml"]) for c in pred.configs]
        several_doses = len({k[1] for k in keys}) > 1
        out = []
        for i in sorted(range(len(keys)), key=lambda i: keys[i]):
            p_, d_ = keys[i]
            label = f"pH {p_:g}" + (f", {d_:g} ug/mL" if several_doses else "")
            out.append({"label": label, "key": [p_, d_], "x": pred.times_h, "y": traj[i],
                        "rows": np.flatnonzero(np.asarray(pred.cond) == i)})
        return out
    default_t = settings.get("exposure_h") or DEFAULT_EXPOSURE_H
    t = _column(table, "exposure_h", default_t)
    # the columns that make a row's experiment besides its dose and read-out: the lines
    # ran without the protocol columns (wash_h, stimulus_h), so a washed culture's line and
    # IC50 were those of particles left on the cells for the whole exposure
    stim_cols = [c for c in ("pH", "ultrasound_W_per_cm2", "light_mW_per_cm2", "wash_h",
                             "stimulus_h") if c in table.numbers]
    stim = [tuple(float(_column(table, c, np.nan)[i]) for c in stim_cols)
            for i in range(len(table))]

    def comparable(k: tuple[float, ...]) -> tuple[float, ...]:  # NaN (no stimulus) sorts first
        return tuple(-1e300 if np.isnan(v) else v for v in k)

    row_keys = [comparable((float(t[i]),) + stim[i]) for i in range(len(table))]
    # one line per experiment: a set of the raw keys held every row with an empty stimulus
    # cell apart (NaN != NaN), one duplicate line per such row
    unique = {comparable((float(t[i]),) + stim[i]): (float(t[i]),) + stim[i]
              for i in range(len(table))}
    keys = [unique[k] for k in sorted(unique)]
    c = table.numbers["concentration_ug_per_ml"]
    pos = c[c > 0]
    lo = pos.min() / 3 if pos.size else 0.1
    hi = c.max() * 3 if c.max() > 0 else 10.0
    n = N_DENSE_3D if obs.batch == "map" else N_DENSE
    doses = np.geomspace(lo, hi, n)
    cols: dict[str, list[float]] = {"concentration_ug_per_ml": [], "exposure_h": [],
                                    "viability_percent": []}
    cols.update({s: [] for s in stim_cols})
    for k in keys:
        cols["concentration_ug_per_ml"] += list(doses)
        cols["exposure_h"] += [k[0]] * n
        cols["viability_percent"] += [0.0] * n
        for j, s in enumerate(stim_cols):
            cols[s] += [k[1 + j]] * n
    syn = synthetic_table("viability", {k: np.array(v) for k, v in cols.items()})
    dense = obs.prediction(syn, problem.free.names, material=cfg.material,
                           simulation=problem.simulation, settings=settings, file=cfg.file)
    same = (ms is not None and dense.schedule == pred.schedule
            and jax.tree.structure(dense.static) == jax.tree.structure(pred.static)
            and bool(eqx.tree_equal(dense.static, pred.static)))
    if same:
        values = dense.gather(ms.trajectories(x, dense.arrays))
    else:
        values = np.asarray(jax.jit(dense)(jnp.asarray(x, dense.dtype)), float)
    labels = []
    for k in keys:
        extra = [f"{s} {v:g}" for s, v in zip(stim_cols, k[1:], strict=True) if np.isfinite(v)]
        labels.append(", ".join([f"{k[0]:g} h"] + extra))
    group = np.repeat(np.arange(len(keys)), n)
    xs = syn.numbers["concentration_ug_per_ml"]
    return [{"label": labels[g], "key": list(keys[g]), "x": xs[group == g],
             "y": values[group == g],
             "rows": np.array([i for i, k in enumerate(row_keys) if k == comparable(keys[g])],
                              int)}
            for g in range(len(keys))]


def crossing(xs: np.ndarray, ys: np.ndarray, level: float, log: bool) -> float | None:
    """First x where the curve crosses `level` (linear interpolation, in log x if `log`)."""
    for i in range(1, len(xs)):
        a, b = ys[i - 1] - level, ys[i] - level
        if a == 0:
            return float(xs[i - 1])
        if a * b < 0:
            f = a / (a - b)
            if log:
                return float(math.exp(math.log(xs[i - 1]) + f * (math.log(xs[i])
                                                                  - math.log(xs[i - 1]))))
            return float(xs[i - 1] + f * (xs[i] - xs[i - 1]))
    return None


def derived(problem: Problem, curves: list[dict[str, Any]]) -> dict[str, Any]:
    """The model's time to 50 % released per vial (release) or IC50 per exposure
    (viability), each flagged where it lies beyond the doses or times measured for its curve
    (the table's rows of that vial or exposure, values and bounds): there the number is the
    model's extrapolation, not something the data bracket."""
    release = problem.cfg.observable.table_kind == "release"
    column = "time_h" if release else "concentration_ug_per_ml"
    values, spans, sides = {}, {}, {}
    for c in curves:
        v = crossing(c["x"], c["y"], 50.0, not release)
        span = measured_range(problem.table.numbers[column][c["rows"]])
        values[c["label"]], spans[c["label"]] = v, span
        sides[c["label"]] = extrapolation(v, span)
    flagged = {k: s for k, s in sides.items() if s}
    common = {"extrapolated": {k: s is not None for k, s in sides.items()},
              "extrapolated_side": flagged}
    if release:
        frame_h = float(np.diff(problem.prediction.times_h)[0])
        return {"t50_h": values, "measured_time_range_h": spans, **common,
                "note": "model time to 50 % dissolved, interpolated between saved frames "
                        f"{frame_h:.3g} h apart (null: not reached in the plotted range); "
                        "extrapolated: before the earliest or after the latest time measured "
                        "in that vial (measured_time_range_h), where no measurement "
                        "brackets it"}
    return {"ic50_ug_per_ml": values, "measured_dose_range_ug_per_ml": spans, **common,
            "note": "model concentration giving 50 % viability at each exposure within the "
                    "plotted range (null: not reached); extrapolated: below the lowest or "
                    "above the highest positive dose measured at that exposure "
                    "(measured_dose_range_ug_per_ml), where no measurement brackets it"}


def derived_text(d: dict[str, Any]) -> str | None:
    """The summary's line of derived quantities, each extrapolated one said to be."""
    release = "t50_h" in d
    values = d["t50_h" if release else "ic50_ug_per_ml"]
    spans = d["measured_time_range_h" if release else "measured_dose_range_ug_per_ml"]
    sides = d.get("extrapolated_side", {})
    if not values or all(v is None for v in values.values()):
        return None
    unit = "h" if release else "ug/mL"
    what = "time" if release else "dose"
    parts = []
    for label, v in values.items():
        if v is None:
            parts.append(f"{label}: not reached")
            continue
        text = f"{label}: {v:.3g} {unit}"
        side = sides.get(label)
        if side:
            span = spans.get(label)
            beyond = ({"above": "after the latest", "below": "before the earliest"} if release
                      else {"above": "above the highest", "below": "below the lowest"})[side]
            edge = (f"no positive {what} measured" if span is None else
                    f"{beyond} measured {what}, {span[1 if side == 'above' else 0]:.3g} {unit}")
            text += f" (EXTRAPOLATED: {edge})"
        parts.append(text)
    head = "model time to 50 % released" if release else "model IC50"
    return f"  {head}: " + "; ".join(parts)


def metrics_caption(m: dict[str, Any], unidentified: list[str] | tuple[str, ...] = ()) -> str:
    """The figure's summary of the fit metrics: r², the values and the free parameters, and
    those the data do not bound (`unidentified`; a perfect r² with them says little); with at
    least as many free parameters as values it says that r² means nothing instead."""
    # k counts the likelihood's parameters: the free ones, and the unknown variance of an
    # unweighted fit (reports before 2026-12-05 have no n_free; a weighted one has chi2)
    n = m["n"]
    n_free = m.get("n_free", m["k"] - (0 if "chi2" in m else 1))
    pinned = m.get("pinned", 0)  # a control at 100 % tests nothing (`metrics`)
    if n - pinned <= n_free:
        held = f" ({pinned} predicted whatever the parameters)" if pinned else ""
        return (f"n = {n} values{held} for {n_free} free parameters:\nno degree of freedom "
                "left, so r² (and AIC/BIC) are not meaningful")
    r2 = f"{m['r2']:.3f}" if m.get("r2") is not None else "n/a"
    text = f"r² = {r2}, n = {n}, {n_free} free parameter{'s' if n_free != 1 else ''}"
    if unidentified:
        text += f"\nnot identifiable from these data: {', '.join(unidentified)}"
    return text


def plot(problem: Problem, curves: list[dict[str, Any]], report: dict[str, Any],
         path: Path) -> None:
    from matplotlib import colormaps
    from matplotlib.figure import Figure  # rendered by Agg: the caller's backend is kept
    from matplotlib.transforms import ScaledTranslation

    cfg, table = problem.cfg, problem.table
    release = cfg.observable.table_kind == "release"
    markers = {"=": "o", "~": "o", "<=": "v", ">=": "^"}
    data_curves = cfg.observable.curves(table, cfg.row_settings)
    if release:
        fig = Figure(figsize=(6.4, 4.6))
        axes = fig.subplots(1, 1, squeeze=False)
        panels = {0: (axes[0, 0], "")}
        panel_of_curve = [0] * len(curves)
        panel_of_row = np.zeros(len(table), int)
    else:
        times = sorted({c["key"][0] for c in curves})
        ncol = min(3, len(times))
        nrow = math.ceil(len(times) / ncol)
        fig = Figure(figsize=(4.6 * ncol, 3.8 * nrow))
        axes = fig.subplots(nrow, ncol, squeeze=False)
        panels = {t: (axes.flat[i], f"{t:g} h") for i, t in enumerate(times)}
        for ax in list(axes.flat)[len(times):]:
            ax.set_visible(False)
        panel_of_curve = [c["key"][0] for c in curves]
        t_rows = _column(table, "exposure_h", cfg.exposure_h or DEFAULT_EXPOSURE_H)
        panel_of_row = t_rows
    cmap = colormaps["tab10"]
    per_panel: dict[Any, int] = {}
    for _, idx in data_curves:
        key = 0 if release else panel_of_row[idx[0]]
        per_panel[key] = per_panel.get(key, 0) + 1
    # a model line takes the colour of its rows' data series: matched by row, not by label,
    # which `curve_by` words otherwise ("pH 7.40, dose_ug_per_ml 5" against the line's
    # "pH 7.4, 5 ug/mL": every release line was drawn black)
    series_of_row = {int(i): ci for ci, (_, idx) in enumerate(data_curves) for i in idx}
    sd = table.numbers.get("sd")  # percent, as the data (an optional column)
    for ci, (label, idx) in enumerate(data_curves):
        for i in idx:
            key = panel_of_row[i] if not release else 0
            ax = panels[key][0]
            xv = table.numbers["time_h" if release else "concentration_ug_per_ml"][i]
            named = i == idx[0] and per_panel[key] <= 8  # a legend, not a wall of text
            ax.scatter([xv], [problem.y[i]], marker=markers[table.relation[i]],
                       color=cmap(ci % 10), s=28, zorder=3,
                       label=_described(table, label, i) if named else None)
            if sd is not None and np.isfinite(sd[i]):  # the reported standard deviation
                ax.errorbar([xv], [problem.y[i]], yerr=[sd[i]], fmt="none",
                            ecolor=cmap(ci % 10), elinewidth=0.8, capsize=2, zorder=2)
    # viability: black model lines (a line may serve several data series), told apart by
    # their dash where a panel holds several (24 h with and without ultrasound drew two
    # solid black lines, whose legend entries could not be told apart)
    styles = ("-", "--", ":", "-.")
    drawn: dict[Any, int] = {}
    model_lines: dict[Any, list[tuple[Any, str]]] = {}
    for c, pk in zip(curves, panel_of_curve, strict=True):
        ax = panels[pk][0]
        k = drawn[pk] = drawn.get(pk, -1) + 1
        rows = [int(i) for i in c["rows"] if int(i) in series_of_row]
        (line,) = ax.plot(c["x"], c["y"],
                          color=cmap(series_of_row[rows[0]] % 10) if release and rows else "k",
                          ls="-" if release else styles[k % len(styles)],
                          lw=MODEL_LINE_WIDTH_PT, label=f"model {c['label']}")
        model_lines.setdefault(pk, []).append((line, c["label"]))
    for key, (ax, title) in panels.items():
        if per_panel.get(key, 0) > 8:
            ax.scatter([], [], color="0.5", s=28, label=f"data: {per_panel[key]} series")
        if release:
            ax.set_xlabel("time (h)")
            ax.set_ylabel("released (%)")
        else:
            ax.set_xscale("log")
            ax.set_xlabel("concentration (µg/mL)")
            ax.set_ylabel("viability (%)")
            ax.set_title(title)
        ax.grid(alpha=0.3)

    def place_legends() -> None:
        for ax, _ in panels.values():
            # below the axes, not inside: where every place in a panel held data, loc
            # "best" laid the opaque legend over points (A549 WST-1 lost 3 of its 14); its
            # top 0.5 in below the axes clears the tick labels and the axis label
            below = ax.transAxes + ScaledTranslation(0.0, -0.5, fig.dpi_scale_trans)
            ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      bbox_transform=below, framealpha=0.9)  # readable at 110 dpi

    height = fig.get_figheight()

    def make_room() -> None:
        # room for the legends below each row of panels (0.5 in offset, ~0.16 in per line
        # of an entry)
        entries = max(sum(label.count("\n") + 1 for label in ax.get_legend_handles_labels()[1])
                      for ax, _ in panels.values())
        fig.set_size_inches(fig.get_figwidth(),
                            height + axes.shape[0] * (0.5 + 0.16 * entries))

    place_legends()
    make_room()
    bounds = " (▼/▲ reported bounds)" if any(r in ("<=", ">=") for r in table.relation) else ""
    if sd is not None and np.isfinite(sd).any():
        bounds += " (bars: reported SD)"
    if not release:  # fitted and counted in n, but a log axis has no place for them
        n_zero = int(np.sum(table.numbers["concentration_ug_per_ml"] <= 0))
        if n_zero:
            bounds += (f" ({n_zero} row{'s' if n_zero > 1 else ''} at 0 µg/mL not drawn "
                       "(log axis))")
    unidentified = [n for n, p in report["parameters"].items()
                    if not p.get("fixed") and p.get("identifiable") is False]
    if report.get("evaluation_only"):  # every parameter fixed: nothing was fitted
        r2 = report["metrics"].get("r2")
        title = (f"{cfg.name}: {cfg.observable.name}, the model at fixed parameters (not "
                 f"fitted): r² = {'n/a' if r2 is None else f'{r2:.3f}'}, "
                 f"n = {report['metrics']['n']}{bounds}")
    else:
        title = (f"{cfg.name}: {cfg.observable.name} fit, "
                 f"{metrics_caption(report['metrics'], unidentified)}{bounds}")
    # wrapped to the figure's width: one 4.6 in panel (a single exposure time) is narrower
    # than a name and the metrics on one line, which ran past both edges of the page
    width = int(fig.get_figwidth() * TITLE_CHARACTERS_PER_INCH)
    fig.suptitle("\n".join(textwrap.fill(line, width, break_on_hyphens=False,
                                          break_long_words=False)
                           for line in title.split("\n")), fontsize=10)
    fig.tight_layout()
    # model lines that coincide to within their width hide one another (ZIF-8's release at
    # pH 5.0 under pH 5.5: its acid switch is full at both): found on the laid-out axes,
    # each hidden one is dashed over the first, on top, and its legend entry says so
    panel_in = fig.get_figwidth() / axes.shape[1]
    if _mark_coincident(fig, model_lines, styles,
                        int((panel_in - LEGEND_HANDLE_IN) * LEGEND_CHARACTERS_PER_INCH)):
        place_legends()
        make_room()
        fig.tight_layout()
    fig.savefig(path, dpi=110)


MODEL_LINE_WIDTH_PT = 1.4
# a legend line (8 pt) holds about 18 characters per inch (the title's 14.5 at 10 pt, scaled);
# 15 leaves the title's margin, and the handle, its padding and the frame take ~0.6 in
LEGEND_CHARACTERS_PER_INCH = 15
LEGEND_HANDLE_IN = 0.6
#: points of a line compared at most (evenly spaced), for the coincidence test
COINCIDENCE_POINTS = 300


def _polyline_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The largest distance from a point of polyline `a` to polyline `b` (display
    coordinates, (n, 2)): one side of the Hausdorff distance."""
    if len(b) == 1:
        return float(np.max(np.hypot(*(a - b[0]).T)))
    start, seg = b[:-1], np.diff(b, axis=0)
    length2 = np.maximum(np.sum(seg * seg, axis=1), 1e-300)
    rel = a[:, None, :] - start[None, :, :]
    t = np.clip(np.sum(rel * seg[None], axis=2) / length2[None], 0.0, 1.0)
    gap = rel - t[..., None] * seg[None]
    return float(np.max(np.min(np.hypot(gap[..., 0], gap[..., 1]), axis=1)))


def _display_points(line) -> np.ndarray:
    x, y = (np.asarray(v, float) for v in line.get_data())
    ok = np.isfinite(x) & np.isfinite(y)
    if line.axes.get_xscale() == "log":
        ok &= x > 0
    xy = np.column_stack([x[ok], y[ok]])
    if len(xy) > COINCIDENCE_POINTS:
        xy = xy[np.unique(np.linspace(0, len(xy) - 1, COINCIDENCE_POINTS).round().astype(int))]
    return line.axes.transData.transform(xy)


def _mark_coincident(fig, model_lines: dict[Any, list[tuple[Any, str]]],
                     styles: tuple[str, ...], label_chars: int = 80) -> bool:
    """Restyle every model line that lies within the line width of an earlier one of its
    panel along its whole length (the symmetric Hausdorff distance on the drawn axes): a
    dash not used by the lines it coincides with, drawn above them, and its legend entry
    names the line it coincides with (wrapped at `label_chars`). True where any was
    found."""
    found = False
    pt_per_px = 72.0 / fig.dpi
    for lines in model_lines.values():
        pts = [_display_points(line) for line, _ in lines]
        first: dict[int, int] = {}  # line -> the earliest line it coincides with
        for j in range(1, len(lines)):
            if not len(pts[j]):
                continue
            for i in range(j):
                if i in first or not len(pts[i]):
                    continue
                width = max(lines[i][0].get_linewidth(), lines[j][0].get_linewidth())
                d = max(_polyline_distance(pts[i], pts[j]),
                        _polyline_distance(pts[j], pts[i])) * pt_per_px
                if d <= width:
                    first[j] = i
                    break
        for j, i in first.items():
            group = [i] + [k for k, v in first.items() if v == i and k <= j]
            used = {lines[k][0].get_linestyle() for k in group if k != j}
            line = lines[j][0]
            dash = next((s for s in styles[1:] if s not in used), "--")
            line.set_linestyle(dash)
            line.set_zorder(lines[i][0].get_zorder() + 0.1 * len(group))
            drawn = {"--": "dashed", ":": "dotted", "-.": "dash-dotted"}[dash]
            line.set_label(textwrap.fill(
                f"{line.get_label()} ({drawn}: coincides with model {lines[i][1]} to "
                "within the line width)", max(label_chars, 20), break_on_hyphens=False,
                break_long_words=False))
            found = True
    return found


#: columns that say what a series is, added to a legend entry that names only its group_id
DESCRIBING = ("cell_line", "assay", "size_nm")


def _described(table, label: str, i: int) -> str:
    """`label`, and where it names a group_id, what the series is (row i's cell line, assay
    and particle size, where the table gives them): 'group_id 8' alone tells a reader
    nothing."""
    if "group_id" not in label:
        return label
    def shown(c: str, v: str) -> str:
        if c != "size_nm":
            return v
        try:
            return f"{float(v):g} nm"
        except ValueError:
            return f"{v} nm"

    what = [shown(c, table.text[c][i]) for c in DESCRIBING
            if c in table.text and table.text[c][i] not in ("", "nan")]
    return f"{label} ({', '.join(what)})" if what else label


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return _jsonable(o.tolist())
    if isinstance(o, np.generic):
        return _jsonable(o.item())
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, Path):
        return str(o)
    return o


def write_outputs(problem: Problem, x: np.ndarray, report: dict[str, Any], out: Path,
                  curves: list[dict[str, Any]], figure: bool = True) -> dict[str, Path]:
    name = problem.cfg.name
    files = {"json": out / f"{name}.json", "model": out / f"{name}.eqx"}
    model = problem.prediction.model(jnp.asarray(x, problem.prediction.dtype), 0)
    eqx.tree_serialise_leaves(files["model"], model)
    config = dict(problem.prediction.configs[0])
    config["kinetics"] = dict(report["kinetics"])
    report["model_config"] = config
    report["files"] = {"model": files["model"].name}
    if figure:
        files["figure"] = out / f"{name}.png"
        report["files"]["figure"] = files["figure"].name
        plot(problem, curves, report, files["figure"])
    # last, whole or not at all: the JSON marks a finished fit (`zn-pde design` reads it)
    write_text_atomic(files["json"], json.dumps(_jsonable(report), indent=1) + "\n")
    return files


def load_fitted_model(json_path: str | Path) -> Model:
    """The fitted model written beside `<name>.json` (rebuilt, then its leaves read back).
    InputError for a file that is missing or unreadable, or not a fit's JSON (a design's or
    a plan's), or whose `.eqx` is missing."""
    p = Path(json_path)
    try:
        report = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not JSON"
        raise InputError(f"cannot read the fit's JSON ({reason})", file=str(p)) from None
    if not isinstance(report, dict) or "model_config" not in report:
        raise InputError("not a fit's <name>.json (no model_config: a design's or a plan's "
                         "JSON, or another file); give the <name>.json that zn-pde fit "
                         "wrote beside its <name>.eqx", file=str(p))
    like = build_model(report["model_config"])
    eqx_path = p.with_name(report["files"]["model"])
    if not eqx_path.is_file():
        raise InputError(f"the fitted model {eqx_path.name} is not beside the JSON; keep the "
                         "two files together", file=str(eqx_path))
    return eqx.tree_deserialise_leaves(eqx_path, like)
