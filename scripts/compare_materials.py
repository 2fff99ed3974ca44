"""Run ZnO, ZnO2, ZIF-8 and ZnS on the same spheroid and stimulus, each with its control
without the stimulus; write a table and a figure.

    python scripts/compare_materials.py [-o docs/figures] [--shape 32] [--end-h 24]
        [--set KEY=VALUE ...]   (applied to every material, e.g. --set material.dose_ug_per_ml=40)

The scenario is the built-in default (250 um spheroid, 20 ug/mL, one 1 MHz 1.5 W/cm2 1 min
ultrasound exposure at 4 h) on a coarser grid, with only `material.kind` changed; its control
is the same run with the exposure at intensity 0 (`zn-pde run`'s control run). Reported per
material and run, with `zn-pde run`'s own definitions (`_run.summarise`, cell-volume
weighted): tissue-mean dissolved Zn2+ (extracellular fluid) and the living cells' labile Zn
at the end, peak ROS in tissue over all steps, final tissue-mean viability, the depth of
kill (how far in from the spheroid surface the shell-averaged viability stays below 50 %),
and the viability the stimulus removed (control minus treated).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from zn_pde import Schedule, build_model, load_config
from zn_pde._run import control_config, summarise, with_step_peaks
from zn_pde._solve import run
from zn_pde.plan._report import shell_means

MATERIALS = ("ZnO", "ZnO2", "ZIF-8", "ZnS")
COLUMNS = ("tissue_mean_zn", "tissue_mean_zn_cell", "tissue_max_ros", "tissue_mean_viability",
           "depth_of_kill_um")


def simulate(c: dict) -> dict:
    """Final summary (peak tissue ROS over every step) and the final shell-mean viability."""
    model = build_model(c)
    peak = [0.0]
    final: dict = {}

    def on_frame(i, t, state, peaks):
        fields = {k: np.asarray(v) for k, v in model.fields(state).items()}
        s = with_step_peaks(model, summarise(model, fields), peaks)
        peak[0] = max(peak[0], s["tissue_max_ros"])
        final.update(summary=s, viability=fields["viability"])

    run(model, Schedule.from_config(c), on_frame, progress=None)
    out = {k: float(final["summary"][k]) for k in COLUMNS}
    out["tissue_max_ros"] = peak[0]
    tissue = np.asarray(model.cell_fraction) > 0
    out["profile_depth_um"], v = shell_means(
        {"tissue": tissue, "depth_um": np.asarray(model.depth_um),
         "volume_um3": np.asarray(model.volume_um3), "spacing_um": model.spacing_um,
         "viability": final["viability"][None], "time_h": np.zeros(1)})
    out["profile_viability"] = v[0]
    return out


def compare(kind: str, shape: int, end_h: float, overrides: list[str]) -> dict:
    c = load_config(None, [f"grid.shape=[{shape},{shape},{shape}]",
                           f"grid.spacing_um={640 / shape}", f"time.end_h={end_h}",
                           f"material.kind='{kind}'", *overrides])
    treated, control = simulate(c), simulate(control_config(c))
    treated["killed_by_stimulus_percent"] = 100 * (control["tissue_mean_viability"]
                                                   - treated["tissue_mean_viability"])
    return {"material": kind, "treated": treated, "control": control}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--outdir", default="docs/figures")
    ap.add_argument("--shape", type=int, default=32)
    ap.add_argument("--end-h", type=float, default=24.0)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    a = ap.parse_args()
    out = Path(a.outdir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [compare(k, a.shape, a.end_h, a.overrides) for k in MATERIALS]
    head = (["material"] + [f"{k}_{u}" for k, u in zip(COLUMNS, ("uM", "uM", "uM", "1", ""),
                                                      strict=True)]
            + ["control_tissue_mean_viability_1", "killed_by_stimulus_percent"])
    head = [h.rstrip("_") for h in head]
    table = [[r["material"]] + [f"{r['treated'][k]:.4g}" for k in COLUMNS]
             + [f"{r['control']['tissue_mean_viability']:.4g}",
                f"{r['treated']['killed_by_stimulus_percent']:.4g}"] for r in rows]
    with open(out / "compare_materials.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        w.writerows(table)
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for line in table:
        print("| " + " | ".join(line) + " |")

    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 3.8), layout="constrained")
    axes = fig.subplots(1, 4)
    names = [r["material"] for r in rows]
    x = np.arange(len(names))
    for ax, key, label, scale in zip(
            axes[:3], ("tissue_mean_zn_cell", "tissue_max_ros", "tissue_mean_viability"),
            ("labile Zn in living cells at end (uM)", "peak ROS in tissue (uM)",
             "final tissue-mean viability (%)"), (1.0, 1.0, 100.0), strict=True):
        for dx, run_name, color in ((-0.2, "treated", "C3"), (0.2, "control", "0.6")):
            ax.bar(x + dx, [scale * r[run_name][key] for r in rows], width=0.4, color=color,
                   label="with ultrasound" if run_name == "treated" else "without (control)")
        ax.set_xticks(x, names)
        ax.set_ylabel(label)
    axes[2].set_ylim(0, 105)
    # headroom for the legend above the bars, which it hid
    axes[0].set_ylim(0, 1.35 * max(r[n]["tissue_mean_zn_cell"] for r in rows
                                   for n in ("treated", "control")))
    axes[0].legend(fontsize=8, loc="upper center", ncol=2)
    # markers and widths tell apart materials whose profiles lie on top of each other
    for i, (r, marker, color) in enumerate(zip(rows, "osD^", ("C0", "C1", "C2", "C4"),
                                              strict=True)):
        for run_name, ls in (("treated", "-"), ("control", "--")):
            p = r[run_name]
            axes[3].plot(p["profile_depth_um"], 100 * p["profile_viability"], ls,
                         marker=marker, ms=7 - 1.5 * i, lw=2.6 - 0.6 * i, mfc="none",
                         color=color, label=r["material"] if run_name == "treated" else None)
    axes[3].set_xlabel("depth below the spheroid surface (um)")
    axes[3].set_ylabel("shell-mean viability at end (%)")
    axes[3].set_ylim(0, 105)
    axes[3].legend(fontsize=8, title="solid: ultrasound; dashed: control", title_fontsize=7)
    fig.suptitle(f"Same spheroid, dose and ultrasound, each material with its control without "
                 f"the ultrasound; {a.end_h:g} h")
    fig.savefig(out / "compare_materials.png", dpi=130)
    print(f"wrote {out / 'compare_materials.csv'} and {out / 'compare_materials.png'}")


if __name__ == "__main__":
    main()
