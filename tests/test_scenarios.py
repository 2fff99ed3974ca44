"""Scenarios a researcher would try that the shipped configs do not cover, each checked against
a hand calculation or a budget the README states (an outside domain review, 2026-12-07).

Each test says (`# fails if`) which wrong model it catches, and states its tolerance.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import WELL_MIXED_CULTURE, config, series


@pytest.mark.parametrize("kind", ["ZnS", "ZnO2"])
def test_a_cargo_on_a_particle_with_a_coproduct_is_released_with_the_mass_that_dissolves(kind):
    """README, "cargo": ∂cargo/∂t = f_c [k(pHₑ)(1 − Ω)₊ np + (φ/α) V k(pH_lys) np_int], the
    cargo released with the particle mass that dissolves, in the fluid and in the lysosomes
    alike, and all of it into the fluid, with no sink. In a closed well-mixed culture
    (φ = 0.2, α = 0.8) its amount per well volume α·cargo is then f_c times the particle
    mass that has dissolved, the dose less what the fluid and the cells still hold:
        α cargo = f_c [α dose − α np − φ (V np_int + np_dead)].
    A dense ZnS culture at pH 6 saturates its lysosomes with H₂S (README, ZnS), so they
    dissolve less than they would unsaturated; the cargo must follow what they dissolved.
    Tolerance 1e-3 relative (float32 over 720 steps); the defect gave 2.7 times the cargo."""
    raw = copy.deepcopy(WELL_MIXED_CULTURE)
    raw["time"] = {"end_h": 12.0, "dt_s": 60.0, "save_every_min": 240.0}
    raw["geometry"]["cell_volume_fraction"] = 0.2
    raw["material"]["kind"] = kind
    raw["ph"] = {"medium": 6.0}
    raw["kinetics"] = {"cargo_mass_fraction": 0.1}
    _, out = series(config(raw))
    phi, alpha, dose, f_c = 0.2, 0.8, 20.0, 0.1
    end = {name: float(v[-1]) for name, v in out.items()}
    held = alpha * end["np"] + phi * (end["viability"] * end["np_int"] + end["np_dead"])
    # fails if: the lysosomes' cargo is released at their unsaturated rate while their
    # co-product's saturation holds the particles (and their zinc) back
    assert alpha * end["cargo"] == pytest.approx(f_c * (alpha * dose - held), rel=1e-3)
    assert np.isfinite(end["cargo"]) and end["cargo"] > 0


@pytest.mark.parametrize("config_file, overrides, misleading", [
    # a cell-free vial given no particles: no [[medium_exchange]] washed any out
    ("configs/zno_release_vial.toml", ["material.dose_ug_per_ml=0.0"], "[[medium_exchange]]"),
    # a closed (zero-flux) cell-free radial well: no faces held by a bulk medium
    ("configs/zno_spheroid_radial.toml",
     ['geometry.kind="medium"', 'boundary.kind="neumann"', "ultrasound=[]"],
     "faces held by the bulk medium"),
])
def test_a_cell_free_run_says_why_it_counts_no_dissolved_share(config_file, overrides,
                                                               misleading, tmp_path, capsys):
    """`zn-pde run` of a cell-free run whose dissolved share is not counted says why: the
    reason it gave (a medium exchange, faces exchanging particles with a bulk medium) must be
    one the run has. Exact text check."""
    from zn_pde.cli import main

    args = ["run", config_file, "-o", str(tmp_path / "run.h5"), "--quiet",
            "--set", "time.end_h=1.0"]
    for o in overrides:
        args += ["--set", o]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "  dissolved: " in out
    # fails if: the summary gives a reason the run does not have
    assert misleading not in out


def test_a_swept_vial_given_no_particles_says_so(tmp_path, capsys):
    """A sweep of cell-free vials over the dose, 0 included: the point given no particles
    counts no dissolved share, and its line says that this may be why (it has no medium
    exchange and no grid). Exact text check."""
    from zn_pde.cli import main
    from zn_pde.config import dumps

    vial = {"grid": {"kind": "well_mixed"}, "geometry": {"kind": "medium"},
            "time": {"end_h": 1.0, "dt_s": 600.0, "save_every_min": 60.0},
            "material": {"kind": "ZnO", "dose_ug_per_ml": 10.0}, "ph": {"medium": 5.0},
            "sweep": {"material.dose_ug_per_ml": [0.0, 10.0]}}
    path = tmp_path / "v.toml"
    path.write_text(dumps(vial))
    assert main(["run", str(path), "-o", str(tmp_path / "v.h5"), "--quiet"]) == 0
    zero = next(line for line in capsys.readouterr().out.splitlines()
                if "material.dose_ug_per_ml=0:" in line)
    # fails if: the only reasons given are ones this point does not have
    assert "dissolved: not counted" in zero and "no particles given" in zero
