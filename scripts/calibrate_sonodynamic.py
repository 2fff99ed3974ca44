"""Calibrate the one constant of the sonodynamic model set to a reported phenomenon.

    python scripts/calibrate_sonodynamic.py

ZnO nanocrystals with 1 MHz, 1 W/cm², 1 min ultrasound kill cells that either alone spares
(Vighetto et al. 2019, Front Bioeng Biotechnol 7:374; Racca et al. 2020, Front Bioeng
Biotechnol 8:577); no viability numbers were found, so the target is stated here: in a
culture (cell volume fraction 0.002) incubated 4 h with 20 ug/mL ZnO, the exposure halves
the cells alive at 24 h relative to particles alone. The script finds the short-lived-ROS
yield `sono_radical_yield_uM_per_s_per_ug_per_ml` that meets it (bisection in log10) and
prints it; the value is copied into `zn_pde/materials/zno.py` (`_SONO_RADICAL_YIELD`).
"""

from __future__ import annotations

import math

from zn_pde.validation import culture, ultrasound

TARGET_RATIO = 0.5


def viability_24h(yield_uM_per_s: float, exposed: bool) -> float:
    """The culture of `zn_pde.validation.culture` (cells 0.2 % of the medium, 20 ug/mL ZnO,
    float64) at 24 h, with or without 1 MHz, 1 W/cm2, 1 min ultrasound at 4 h."""
    out = culture(ultrasound=ultrasound(1.0) if exposed else None,
                  kinetics={"sono_radical_yield_uM_per_s_per_ug_per_ml": yield_uM_per_s})
    return float(out["viability"][-1])


def main() -> None:
    alone = viability_24h(1.0, exposed=False)
    lo, hi = -2.0, 4.0  # log10 of the yield
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        ratio = viability_24h(10.0**mid, exposed=True) / alone
        lo, hi = (mid, hi) if ratio > TARGET_RATIO else (lo, mid)
    value = 10.0 ** (0.5 * (lo + hi))
    print(f"particles alone: viability {alone:.4f} at 24 h")
    print(f"sono_radical_yield_uM_per_s_per_ug_per_ml = {value:.4g} uM/s per ug/mL "
          f"(ratio {viability_24h(value, True) / alone:.4f}, target {TARGET_RATIO})")
    print(f"log10 = {math.log10(value):.4f}")


if __name__ == "__main__":
    main()
