"""A plan's outputs: `<name>.json`, the optimised scenario `<name>.toml`, `<name>.png`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import write_text_atomic
from .._protocol import event_table
from .._version import __version__
from ..config import dumps
from ._optimise import FEASIBLE
from ._problem import CAPS, PlanProblem, cap_of


def write_outputs(problem: PlanProblem, result: dict[str, Any], out: Path, wall_s: float
                  ) -> dict[str, Any]:
    s = problem.s
    best = result["starts"][result["best"]]
    x_opt = np.asarray(best["x"])
    start = problem.outcome(problem.start)
    optimum = problem.outcome(x_opt)
    # the optimum without its stimuli: what they added (the run summary's control)
    optimum["without_stimuli"] = problem.without_stimuli(optimum["config"])
    files = {k: str(out / f"{s.name}.{k}") for k in ("json", "toml", "png")}
    cons = {}
    # the plan file's key of each reported constraint (the minimum's, or the cap's)
    constraint_keys = {"normal_viability": "normal_viability_min"} | {
        CAPS[k].name: k for k in s.caps}
    for name, v_opt in optimum["constraints"].items():
        entry: dict[str, Any] = {"start": start["constraints"][name], "optimum": v_opt}
        if name == "normal_viability":
            entry["min"] = s.normal_viability_min
            entry["holds"] = bool(v_opt >= s.normal_viability_min * (1 - FEASIBLE))
            entry["strictly"] = bool(v_opt >= s.normal_viability_min)
        else:
            cap = cap_of(s, name)
            entry["max"] = cap
            entry["holds"] = bool(v_opt <= cap * (1 + FEASIBLE))
            entry["strictly"] = bool(v_opt <= cap)
        # the optimiser's own value (its fixed step plan), as the objective's: where it
        # holds and the rerun does not, the step-plan error decided (a coarse time.dt_s)
        g = best.get("constraints", {}).get(name)  # scaled, g <= 0 holds
        if g is not None:
            bound = entry.get("min", entry.get("max"))
            entry["optimum_planning_estimate"] = (bound * (1.0 - g) if "min" in entry
                                                  else bound * (1.0 + g))
        entry["tolerance"] = FEASIBLE  # relative: "holds" allows this much past the bound
        entry["key"] = f"plan.constraints.{constraint_keys[name]}"
        if constraint_keys[name] in problem.warnings:
            entry["warning"] = problem.warnings[constraint_keys[name]]
        entry["units"] = ("1 (0-1)" if name == "normal_viability"
                          else CAPS[constraint_keys[name]].unit)
        cons[name] = entry
    controls = {}
    for i, c in enumerate(s.controls):
        frac = (x_opt[i] - c.lower) / (c.upper - c.lower)
        controls[c.key] = {"start": c.start, "optimum": float(x_opt[i]), "lower": c.lower,
                           "upper": c.upper, "unit": c.unit,
                           "at_bound": "lower" if frac < 0.01 else "upper" if frac > 0.99
                           else None}
        if _never_moved(result["starts"], i):
            controls[c.key]["warning"] = (
                "no start moved it: the objective and constraints had no gradient in it at "
                "any iterate, so the scenario does not respond to it around the points "
                "tried (e.g. the timing of an ultrasound exposure below the cavitation "
                "threshold, of light the material does not absorb); its optimum is only "
                "where it started. More starts (plan.optimiser.starts) or a start where it "
                "acts may find one")
        if c.scenario is not None:  # the scenario's value lies outside the box
            controls[c.key]["scenario_value"] = c.scenario
    report = {
        "name": s.name,
        "plan_file": s.file,
        "zn_pde_version": __version__,
        "objective": {"name": s.objective, "units": "1 (0-1)", "start": start["objective"],
                      "optimum": optimum["objective"],
                      "optimum_planning_estimate": best["objective"],
                      "optimum_without_stimuli": (
                          None if optimum["without_stimuli"] is None else
                          float(optimum["without_stimuli"]["tissue_mean_viability"][-1])),
                      "note": "start and optimum: the scenario run with its own step plan, as "
                              "zn-pde run does; planning estimate: the fixed-structure step "
                              "plan the optimiser used (their difference is the step-plan "
                              "error)"},
        "controls": controls,
        "constraints": cons,
        "gradient_norm": {"start": best["gradient_norm_start"],
                          "optimum": best["gradient_norm_optimum"],
                          "of": "the objective, with respect to the controls scaled to "
                                "their box, z = (x - lower) / (upper - lower); at an "
                                "optimum on a constraint or a bound it need not vanish"},
        "solves": {"gradient": problem.gradient_solves, "forward": problem.forward_solves},
        "optimiser": dict(vars(s.optimiser)),
        "starts": [{k: v for k, v in st.items() if k != "history"}
                   | {"objective_history": [h["objective"] for h in st["history"]]}
                   for st in result["starts"]],
        "best_start": result["best"],
        # what the plan's checks found before the solve (a constraint that does nothing)
        "warnings": list(problem.warnings.values()),
        "wall_s": wall_s,
        "files": files,
    }
    # the JSON last: it marks a finished plan (a rerun without --overwrite stops at it), so
    # an interrupted write leaves no JSON and the resume file to finish from
    png = Path(files["png"])
    tmp = png.with_suffix(".png.tmp")
    figure(problem, start, optimum, tmp,
           best="optimum" if all(c["holds"] for c in cons.values())
           else "best found (constraint broken)")
    os.replace(tmp, png)
    write_text_atomic(Path(files["toml"]), _toml_header(s) + dumps(optimum["config"]))
    write_text_atomic(Path(files["json"]), json.dumps(report, indent=1, default=float))
    return report


def _toml_header(s) -> str:
    return (f"# The optimised scenario of plan '{s.name}' ({s.file}); zn-pde {__version__}.\n"
            f"# `zn-pde run` on this file reproduces the plan's reported optimum.\n"
            "# Every value is written out, defaults and derived ones too (the tissue\n"
            "# diffusivities from tissue.tortuosity, one volume fraction from the other):\n"
            "# to change a key they follow from, delete them here or edit the scenario.\n")


# --- figure ---------------------------------------------------------------------------------

def figure(problem: PlanProblem, start: dict[str, Any], optimum: dict[str, Any], path: Path,
           best: str = "optimum") -> None:
    """`best` names the optimiser's protocol: "optimum", or, where a constraint does not
    hold at it, what it is instead (the best found)."""
    from matplotlib.figure import Figure  # rendered by Agg: the caller's backend is kept

    # depth profiles need space: a well-mixed scenario has one compartment, whose panels
    # were drawn empty on a meaningless depth axis (-0.04 to 0.04 um)
    profiles = [shell_means(o["tumour"]) for o in (start, optimum)]
    spatial = all(len(depth) > 1 for depth, _ in profiles)
    fig = Figure(figsize=(11, 7.5 if spatial else 4.2), layout="constrained")
    ax = fig.subplots(2 if spatial else 1, 2, squeeze=False)
    _timeline(ax[0, 0], [("start", start["config"]), (best, optimum["config"])])
    a = ax[0, 1]
    for label, o, color in (("start", start, "0.45"), (best, optimum, "C3")):
        t = o["tumour"]
        a.plot(t["time_h"], 100 * t["tissue_mean_viability"], color=color,
               label=f"tumour, {label}")
        if "normal" in o:
            n = o["normal"]
            a.plot(n["time_h"], 100 * n["tissue_mean_viability"], color=color, ls="--",
                   label=f"normal tissue, {label}")
    bare = optimum.get("without_stimuli")
    if bare is not None:
        a.plot(bare["time_h"], 100 * bare["tissue_mean_viability"], color="C3", ls=":",
               label=f"tumour, {best} without its stimuli")
    if problem.s.normal_viability_min is not None:
        a.axhline(100 * problem.s.normal_viability_min, color="C0", lw=0.8, ls=":",
                  label="normal-tissue minimum")
    a.set_xlabel("time (h)")
    a.set_ylabel("tissue-mean viability (%)")
    a.set_ylim(0, 102)
    a.legend(fontsize=8, loc="lower left")
    a.set_title("viability in time")
    if spatial:
        runs = (("start", start), (best, optimum))
        for a, (label, o), (depth, series) in zip(ax[1], runs, profiles, strict=True):
            t = o["tumour"]["time_h"]
            im = a.pcolormesh(t, depth, 100 * series.T, vmin=0, vmax=100, cmap="viridis",
                              shading="nearest")
            a.set_xlabel("time (h)")
            a.set_ylabel("depth below the spheroid surface (µm)")
            a.invert_yaxis()
            a.set_title(f"tumour viability, {label}: final mean "
                        f"{100 * o['objective']:.1f} %")
        fig.colorbar(im, ax=ax[1], label="shell-mean viability (%)", shrink=0.9)
    for a in ax.flat[1:]:  # one time axis: every panel over the protocol's range
        a.set_xlim(ax[0, 0].get_xlim())
    fig.suptitle(f"plan '{problem.s.name}': minimise {problem.s.objective}")
    fig.savefig(path, dpi=110, format="png")


def shell_means(run: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Volume-weighted viability in shells one grid spacing thick below the surface:
    (depth of each shell (um), (frames, shells))."""
    tissue = run["tissue"].ravel()
    d = run["depth_um"].ravel()[tissue]
    w = run["volume_um3"].ravel()[tissue]
    shell = np.floor(d / run["spacing_um"]).astype(int)
    weights = np.bincount(shell, weights=w)
    filled = weights > 0
    depth = (np.bincount(shell, weights=w * d)[filled] / weights[filled])
    v = run["viability"].reshape(len(run["time_h"]), -1)[:, tissue]
    means = np.stack([np.bincount(shell, weights=w * f)[filled] / weights[filled] for f in v])
    return depth, means


def _timeline(a, configs) -> None:
    """Each protocol on its own row: doses (triangles, µg/mL), exposures (bars, their peak
    amplitude), medium exchanges (vertical ticks)."""
    from ..plot import figure_unit

    colors = {"ultrasound": "C1", "light": "C2"}
    for row, (_label, c) in enumerate(reversed(configs)):
        y = row
        doses = 0
        for e in event_table(c):
            t = e.time_s / 3600.0
            if e.kind == "dose":
                a.plot(t, y + 0.25, marker="v", color="C0", ms=8)
                # labels alternate in height so doses close in time stay readable
                a.annotate(f"{e.value:.3g} µg/mL", (t, y + 0.3 + 0.13 * (doses % 2)),
                           fontsize=7, ha="left", va="bottom")
                doses += 1
            elif e.kind == "medium_exchange":
                a.plot([t, t], [y - 0.3, y + 0.3], color="k", lw=1.5)
                a.annotate("wash", (t, y - 0.32), fontsize=7, ha="center", va="top")
            elif e.kind.endswith("_start"):
                kind = e.kind[:-6]
                end = next(f.time_s for f in event_table(c) if f.kind == f"{kind}_end"
                           and f.label == e.label and f.time_s >= e.time_s) / 3600.0
                width = max(end - t, 0.004 * c["time"]["end_h"])
                a.broken_barh([(t, width)], (y - 0.15, 0.3), color=colors[kind])
                a.annotate(f"{e.value:.3g} {figure_unit(e.units)}\n"
                           f"× {60 * (end - t):.3g} min",
                           (t + width, y - 0.12), fontsize=7, ha="left", va="top",
                           color=colors[kind])
    a.set_yticks(range(len(configs)), [lab for lab, _ in reversed(configs)])
    a.set_ylim(-0.7, len(configs) - 0.3)
    a.set_xlim(-0.02 * configs[0][1]["time"]["end_h"], configs[0][1]["time"]["end_h"] * 1.02)
    a.set_xlabel("time (h)")
    a.set_title("protocol: doses (µg/mL), ultrasound (orange), light (green), washes",
                fontsize=9)


def _never_moved(starts: list[dict[str, Any]], i: int) -> bool:
    """Whether control `i` stayed at its starting value through every iterate of every start
    (of at least two iterates) for want of a gradient: Adam's step is 0 exactly where the
    gradient is. A control that starts at its box's edge (the scenario's value on a bound)
    and whose gradient pushes it outward also stays, held there: it had a gradient, and its
    `at_bound` says where it is (a history from a resume state without gradients: stayed)."""
    histories = [st["history"] for st in starts if len(st["history"]) > 1]
    return bool(histories) and all(
        h["x"][i] == hist[0]["x"][i] and (h.get("gradient") is None or h["gradient"][i] == 0.0)
        for hist in histories for h in hist)
