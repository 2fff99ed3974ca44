"""Run ZnO, ZnO2, ZIF-8 and ZnS on the same spheroid and stimulus; write a table and a figure.

    python scripts/compare_materials.py [-o docs/figures] [--shape 32] [--end-h 24]
        [--set KEY=VALUE ...]   (applied to every material, e.g. --set material.dose_ug_per_ml=40)

The scenario is the built-in default (250 um spheroid, 20 ug/mL, one 1 MHz 1.5 W/cm2 1 min
ultrasound exposure at 4 h) on a coarser grid, with only `material.kind` changed. Reported per
material: tissue-mean dissolved Zn2+ (extracellular fluid) and the living cells' labile Zn
at the end, peak ROS over all steps, final tissue-mean viability, and the depth of kill: how
far in from the spheroid surface the shell-averaged viability stays below 50 %.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from zn_pde import Schedule, build_model, load_config
from zn_pde._grid import build_geometry
from zn_pde._solve import run

MATERIALS = ("ZnO", "ZnO2", "ZIF-8", "ZnS")


def simulate(kind: str, shape: int, end_h: float, overrides: list[str]):
    c = load_config(None, [f"grid.shape=[{shape},{shape},{shape}]",
                           f"grid.spacing_um={640 / shape}", f"time.end_h={end_h}",
                           f"material.kind='{kind}'", *overrides])
    model = build_model(c)
    geo = build_geometry(c)
    peak_ros = [0.0]
    final = {}

    def on_frame(i, t, state, peaks):
        fields = {k: np.asarray(v) for k, v in model.fields(state).items()}
        peak_ros[0] = max(peak_ros[0], float(fields["ros"].max()),
                          # peaks: (tissue, medium) x species, per step (_solve.advance)
                          0.0 if peaks is None else
                          float(np.max(peaks[:, model.mobile_names.index("ros")])))
        final.update(fields)

    run(model, Schedule.from_config(c), on_frame, progress=None)
    zz, yy, xx = np.meshgrid(geo.z_um, geo.y_um, geo.x_um, indexing="ij")
    cx, cy, cz = c["geometry"]["center_um"]
    r = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2 + (zz - cz) ** 2)
    radius = c["geometry"]["radius_um"]
    h = c["grid"]["spacing_um"]
    edges = np.arange(0.0, radius + h, h)
    centres = 0.5 * (edges[1:] + edges[:-1])
    profile = np.array([final["viability"][geo.tissue & (r >= a) & (r < b)].mean()
                        if np.any(geo.tissue & (r >= a) & (r < b)) else np.nan
                        for a, b in zip(edges[:-1], edges[1:], strict=True)])
    dead = profile < 0.5
    depth = 0.0
    for k in range(len(profile) - 1, -1, -1):  # walk inwards from the surface
        if not dead[k]:
            break
        depth = radius - edges[k]
    tissue = geo.tissue
    return {"material": kind,
            "tissue_mean_zn_uM": float(final["zn"][tissue].mean()),
            "tissue_mean_zn_cell_uM": float(final["zn_cell"][tissue].mean()),
            "peak_ros_uM": peak_ros[0],
            "final_viability_percent": 100 * float(final["viability"][tissue].mean()),
            "depth_of_kill_um": depth,
            "profile_r_um": centres, "profile_viability": profile}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--outdir", default="docs/figures")
    ap.add_argument("--shape", type=int, default=32)
    ap.add_argument("--end-h", type=float, default=24.0)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    a = ap.parse_args()
    out = Path(a.outdir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [simulate(k, a.shape, a.end_h, a.overrides) for k in MATERIALS]
    cols = ["material", "tissue_mean_zn_uM", "tissue_mean_zn_cell_uM", "peak_ros_uM",
            "final_viability_percent", "depth_of_kill_um"]
    with open(out / "compare_materials.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for row in rows:
            w.writerow([row[c] if c == "material" else f"{row[c]:.4g}" for c in cols])
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(row[c] if c == "material" else f"{row[c]:.4g}" for c in cols)
              + " |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6), constrained_layout=True)
    names = [r["material"] for r in rows]
    for ax, key, label in zip(axes[:3], ("tissue_mean_zn_cell_uM", "peak_ros_uM",
                                         "final_viability_percent"),
                              ("labile Zn in living cells at end (uM)", "peak ROS (uM)",
                               "final tissue-mean viability (%)"), strict=True):
        ax.bar(names, [r[key] for r in rows], color="0.4")
        ax.set_ylabel(label)
    for r in rows:
        axes[3].plot(r["profile_r_um"], 100 * r["profile_viability"], "o-", ms=3,
                     label=r["material"])
    axes[3].set_xlabel("distance from spheroid centre (um)")
    axes[3].set_ylabel("viability at end (%)")
    axes[3].set_ylim(0, 105)
    axes[3].legend(fontsize=8)
    fig.suptitle(f"Same spheroid, dose and ultrasound; {a.end_h:g} h")
    fig.savefig(out / "compare_materials.png", dpi=130)
    print(f"wrote {out / 'compare_materials.csv'} and {out / 'compare_materials.png'}")


if __name__ == "__main__":
    main()
