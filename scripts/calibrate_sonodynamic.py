"""Calibrate the one constant of the sonodynamic model set to a reported phenomenon.

    python scripts/calibrate_sonodynamic.py

ZnO nanocrystals with 1 MHz, 1 W/cm², 1 min ultrasound kill cells that either alone spares
(Vighetto et al. 2019, Front Bioeng Biotechnol 7:374; Racca et al. 2020, Front Bioeng
Biotechnol 8:577); no viability numbers were found, so the target is stated here: in a
culture (cell volume fraction 0.002) incubated 4 h with 20 ug/mL ZnO, the exposure halves
the cells alive at 24 h relative to particles alone. The script finds the short-lived-ROS
yield `sono_radical_yield_uM_per_s` that meets it (bisection in log10) and prints it; the
value is copied into `zn_pde/materials/zno.py` (`_SONO_RADICAL_YIELD`).
"""

from __future__ import annotations

import math

from zn_pde import Schedule, build_model, trajectory
from zn_pde.config import resolve

TARGET_RATIO = 0.5


def culture(yield_uM_per_s: float, ultrasound: bool) -> float:
    raw = {"grid": {"kind": "well_mixed"},
           "time": {"end_h": 24.0, "dt_s": 60.0, "save_every_min": 60.0},
           "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
           "kinetics": {"sono_radical_yield_uM_per_s": yield_uM_per_s},
           "numerics": {"precision": "float64"}}
    if ultrasound:
        raw["ultrasound"] = [{"start_h": 4.0, "duration_min": 1.0,
                              "intensity_W_per_cm2": 1.0, "frequency_MHz": 1.0}]
    c = resolve(raw, "<calibration>")
    model = build_model(c)
    out = trajectory(model, Schedule.from_config(c), lambda m, s: m.fields(s)["viability"])
    return float(out[-1].reshape(-1)[0])


def main() -> None:
    alone = culture(1.0, ultrasound=False)
    lo, hi = -2.0, 4.0  # log10 of the yield
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        ratio = culture(10.0**mid, ultrasound=True) / alone
        lo, hi = (mid, hi) if ratio > TARGET_RATIO else (lo, mid)
    value = 10.0 ** (0.5 * (lo + hi))
    print(f"particles alone: viability {alone:.4f} at 24 h")
    print(f"sono_radical_yield_uM_per_s = {value:.4g} uM/s per ug/mL "
          f"(ratio {culture(value, True) / alone:.4f}, target {TARGET_RATIO})")
    print(f"log10 = {math.log10(value):.4f}")


if __name__ == "__main__":
    main()
