"""Orderings that hold whatever the constants are (metamorphic relations), on a well-mixed
2D culture with every material: more particles or more stimulus never leave more cells
alive, more catalase never fewer, a stimulus at zero intensity is no stimulus, an exposure
split into two back-to-back halves acts as the whole, and an earlier wash spares more cells.
A red-team run checked them on ~640 small runs (docs/research/science_sources.md, sixth
session); these are the cheap ones, kept so that a change of the model that breaks one
fails here.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import WELL_MIXED_CULTURE, config, series

from zn_pde.materials import get_material

MATERIALS = ("ZnO", "ZnO2", "ZIF-8", "ZnS")
EXPOSURE = {"start_h": 4.0, "duration_min": 1.0, "intensity_W_per_cm2": 1.5,
            "frequency_MHz": 1.0}
# round-off of a float32 run: two runs that must agree do so to this in viability
SAME = 1e-5


def _viability(material: str = "ZnO", dose: float = 20.0, **sections) -> float:
    """Final viability (fraction) of a well-mixed culture at 24 h, Δt = 120 s."""
    raw = copy.deepcopy(WELL_MIXED_CULTURE)
    raw["time"].update(dt_s=120.0, save_every_min=240.0)
    raw["material"] = {"kind": material, "dose_ug_per_ml": dose}
    raw.update(copy.deepcopy(sections))
    _, out = series(config(raw))
    return float(out["viability"][-1])


def _non_increasing(values: list[float]) -> bool:
    return bool(np.all(np.diff(values) <= SAME))


@pytest.mark.parametrize("material", MATERIALS)
def test_more_particles_never_leave_more_cells_alive(material):
    """Doses 2-80 ug/mL, without and with 1 min of ultrasound at 1.5 W/cm^2: viability never
    rises with the dose, and the ultrasound never raises it."""
    doses = (2.0, 10.0, 40.0)
    alone = [_viability(material, d) for d in doses]
    treated = [_viability(material, d, ultrasound=[EXPOSURE]) for d in doses]
    assert _non_increasing(alone) and _non_increasing(treated), (alone, treated)
    assert all(t <= a + SAME for a, t in zip(alone, treated, strict=True)), (alone, treated)
    assert treated[-1] < alone[-1] - 0.01  # the stimulus kills where the particles are


def test_more_intense_or_longer_ultrasound_never_leaves_more_cells_alive():
    """Below the cavitation threshold (~0.6 W/cm^2 at 1 MHz) ultrasound does nothing; above
    it more intensity, or a longer exposure, kills more."""
    by_intensity = [_viability(ultrasound=[{**EXPOSURE, "intensity_W_per_cm2": w}])
                    for w in (0.5, 1.0, 1.5, 3.0)]
    by_duration = [_viability(ultrasound=[{**EXPOSURE, "duration_min": m}])
                   for m in (0.5, 1.0, 2.0)]
    assert _non_increasing(by_intensity) and _non_increasing(by_duration)
    assert by_intensity[0] == pytest.approx(_viability(), abs=SAME)
    assert by_intensity[-1] < by_intensity[1] - 0.01 and by_duration[-1] < by_duration[0] - 0.01


def test_an_exposure_at_zero_intensity_is_no_exposure():
    none = _viability()
    assert _viability(ultrasound=[{**EXPOSURE, "intensity_W_per_cm2": 0.0}]) == \
        pytest.approx(none, abs=SAME)
    assert _viability(light=[{"start_h": 4.0, "duration_min": 5.0, "wavelength_nm": 365.0,
                              "irradiance_mW_per_cm2": 0.0}]) == pytest.approx(none, abs=SAME)


def test_an_exposure_split_into_back_to_back_halves_acts_as_the_whole():
    whole = _viability(ultrasound=[{**EXPOSURE, "duration_min": 2.0}])
    halves = _viability(ultrasound=[EXPOSURE, {**EXPOSURE, "start_h": 4.0 + 1.0 / 60.0}])
    assert halves == pytest.approx(whole, abs=1e-4)
    assert whole < _viability(ultrasound=[EXPOSURE]) - 0.01  # the second half matters


@pytest.mark.parametrize("material", ["ZnO", "ZnS"])
def test_an_earlier_wash_spares_more_cells(material):
    """A medium exchange removes the particles not yet taken up: the earlier, the fewer the
    cells take up and the more survive; no wash is the latest."""
    washed = [_viability(material, 40.0, medium_exchange=[{"time_h": t}])
              for t in (1.0, 6.0, 12.0)]
    never = _viability(material, 40.0)
    assert _non_increasing([*washed, never]), (washed, never)
    assert washed[0] > never + 0.01


@pytest.mark.parametrize("material", MATERIALS)
def test_more_catalase_never_leaves_fewer_cells_alive(material):
    """The cells' catalase (`kinetics.catalase_rate_per_s`, x0.1 to x10 of the default)
    removes the peroxide inside them before it reaches their glutathione or iron: more of
    it never kills more, with and without ultrasound (whose diffusible ROS the cells take
    up), at 20 ug/mL; for ZnO2, whose H2O2 is the point, a tenth of it kills more by over
    a point. (The red-team found the opposite before 2026-12-04, when the constant was the
    uptake.)"""
    default = get_material(material).parameter("catalase_rate_per_s").value
    factors = (0.1, 1.0, 10.0)
    for sections in ({}, {"ultrasound": [EXPOSURE]}):
        alive = [_viability(material, 20.0, kinetics={"catalase_rate_per_s": f * default},
                            **sections) for f in factors]
        assert np.all(np.diff(alive) >= -SAME), (material, sections, alive)
        if material == "ZnO2":  # 0.648 vs 0.672 alive without ultrasound
            assert alive[0] < alive[1] - 0.01, alive
