"""Where tumour acidity acts: viability against depth in a spheroid whose own fluid only is
acidic, and one whose medium is acidic too; ZnO and ZnO2 at equal zinc.

    python scripts/acidity_figure.py [-o docs/figures/acidity_profiles.png]

The scenario is configs/zno2_spheroid_acidic_medium_radial.toml (a 250 um spheroid on the
radial grid, no stimulus, 24 h), with the material and the pH of medium and tissue changed:
pH 7.4 throughout; the spheroid's own gradient (7.0 at the rim to 6.6 in the core) in pH 7.4
medium; pH 6.7 throughout. ZnO at 20 ug/mL, ZnO2 at the same zinc. Prints each run's
tissue-mean viability and the bulk medium's Zn2+ and H2O2 at 24 h.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from zn_pde import load_config, simulate  # noqa: E402
from zn_pde.validation import ACIDIC_MEDIUM_PH, TUMOUR_PHE, ZNO2_PER_ZNO_MASS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "zno2_spheroid_acidic_medium_radial.toml"
# (medium, tissue rim, tissue core) pH, as the validation rows; the first two coincide (the
# message): a wide pale line under a dashed one
PH = {"pH 7.4 throughout": ((7.4, 7.4, 7.4), dict(ls="-", lw=5.0, alpha=0.3)),
      f"spheroid pH {TUMOUR_PHE[0]:.1f} → {TUMOUR_PHE[1]:.1f}, medium 7.4":
          ((7.4, *TUMOUR_PHE), dict(ls="--", lw=1.6)),
      f"pH {ACIDIC_MEDIUM_PH:g} throughout (medium too)":
          ((ACIDIC_MEDIUM_PH,) * 3, dict(ls="-", lw=2.0))}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", default=str(ROOT / "docs" / "figures" / "acidity_profiles.png"))
    a = p.parse_args()
    zno2_dose = 20.0 * ZNO2_PER_ZNO_MASS
    fig, ax = plt.subplots(figsize=(7.0, 4.2), constrained_layout=True)
    for kind, dose, colour in (("ZnO", 20.0, "tab:blue"), ("ZnO2", zno2_dose, "tab:red")):
        for label, ((medium, rim, core), style) in PH.items():
            c = load_config(str(CONFIG), [f"material.kind='{kind}'",
                                          f"material.dose_ug_per_ml={dose}",
                                          f"ph.medium={medium}", f"ph.tissue_rim={rim}",
                                          f"ph.tissue_core={core}"])
            ds = simulate(c, progress=False)
            radius = float(c["geometry"]["radius_um"])
            r = ds["r"].values
            tissue = ds["tissue_mask"].values.astype(bool)
            v = ds["viability"].values[-1]
            ax.plot(radius - r[tissue], v[tissue], color=colour, **style,
                    label=f"{kind.replace('O2', 'O₂')}, {label}")
            print(f"{kind:5s} {label:34s} tissue viability "
                  f"{float(ds['tissue_mean_viability'].values[-1]):.4f}  "
                  f"bulk Zn2+ {float(ds['bulk_zn'].values[-1]):.3g} uM"
                  + (f", H2O2 {float(ds['bulk_h2o2'].values[-1]):.3g} uM"
                     if np.isfinite(ds['bulk_h2o2'].values[-1]) else ""))
    ax.set_xlabel("depth below the spheroid surface (µm)")
    ax.set_ylabel("viability at 24 h (fraction of cells alive)")
    ax.set_ylim(0.0, 1.02)
    ax.set_title("ZnO 20 µg/mL and ZnO₂ at equal zinc, 250 µm spheroid, no stimulus")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    Path(a.o).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.o, dpi=130)
    print(f"wrote {a.o}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
