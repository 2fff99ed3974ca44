"""The material library: each preset's distinctive mechanism and the numbers it reproduces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import config, series

from zn_pde._grid import build_geometry
from zn_pde._model import expand_repeats
from zn_pde.materials import get_material


def _vial(kind: str, ph: float = 7.4, end_h: float = 15.0, dose: float = 20.0, geometry="medium",
          kinetics=None, phi=0.002, save_min=60.0, **sections):
    """A well-mixed vial; in water unless `medium` is given (these tests are about the
    material's own chemistry)."""
    sections.setdefault("medium", {"composition": "water"})
    raw = {"grid": {"kind": "well_mixed"},
           "time": {"end_h": end_h, "dt_s": 60.0, "save_every_min": save_min},
           "geometry": {"kind": geometry, "cell_volume_fraction": phi},
           "ph": {"medium": ph}, "material": {"kind": kind, "dose_ug_per_ml": dose}, **sections}
    if kinetics:
        raw["kinetics"] = kinetics
    return series(config(raw))[1]


#: IUPAC standard atomic weights (Prohaska et al. 2022), g/mol, and each preset's formula:
#: ZIF-8 is Zn(mIm)₂, two 2-methylimidazolates C₄H₅N₂⁻ per zinc (C₈H₁₀N₄Zn)
ATOMIC_WEIGHT = {"Zn": 65.38, "O": 15.999, "S": 32.06, "C": 12.011, "H": 1.008, "N": 14.007}
FORMULA = {"ZnO": {"Zn": 1, "O": 1}, "ZnO2": {"Zn": 1, "O": 2}, "ZnS": {"Zn": 1, "S": 1},
           "ZIF-8": {"Zn": 1, "C": 8, "H": 10, "N": 4}}


#: IAPWS 2008 check values (Huber et al. 2009, J Phys Chem Ref Data 38:101, Table 4, without
#: the critical enhancement): (T in K, rho in kg/m^3) -> viscosity in uPa s
IAPWS_2008_CHECK = {(298.15, 998.0): 889.735100, (298.15, 1200.0): 1437.649467,
                    (373.15, 1000.0): 307.883622, (433.15, 1000.0): 217.685358,
                    (873.15, 1.0): 32.619287}


def test_one_water_viscosity_sets_every_diffusivity_it_scales():
    """Water's viscosity has one definition (`zno.water_viscosity_mPa_s`, IAPWS 2008): it
    reproduces the formulation's check values to 1e-8, gives 0.8900 and 0.6913 mPa s at 25
    and 37 °C (0.1 MPa; Kestin et al. 1978's correlation gives 0.8901 and 0.6914, within
    2e-4), and the same two numbers set both Stokes-Einstein (a 67 nm particle) and the
    25 -> 37 °C scaling T/eta of the measured small-solute diffusivities (Zn2+, H2O2, H2S),
    which formerly used another pair (0.8949 and 0.6925 cP, x1.344 for 1.339)."""
    from zn_pde.materials import zno
    from zn_pde.materials._common import _H2S_DIFFUSIVITY

    for (t_k, rho), mu in IAPWS_2008_CHECK.items():
        assert zno.water_viscosity_mPa_s(t_k, rho) * 1e3 == pytest.approx(mu, rel=1e-8)
    assert zno.ETA_WATER_25C_MPA_S == pytest.approx(0.8900, abs=5e-5)
    assert zno.ETA_WATER_37C_MPA_S == pytest.approx(0.6913, abs=5e-5)
    ratio = (310.15 / 298.15) * zno.ETA_WATER_25C_MPA_S / zno.ETA_WATER_37C_MPA_S
    assert zno.TO_37C == pytest.approx(ratio, rel=1e-12)
    k_t = 1.380649e-23 * 310.15
    d_67 = k_t / (3 * math.pi * zno.ETA_WATER_37C_MPA_S * 1e-3 * 67e-9) * 1e12
    defaults = get_material("ZnO2").defaults()
    assert defaults["np_diffusivity_medium_um2_per_s"] == pytest.approx(d_67, rel=1e-12)
    for name, at_25c in (("zn_diffusivity_medium_um2_per_s", 703.0),
                         ("h2o2_diffusivity_medium_um2_per_s", 1430.0),
                         ("ros_diffusivity_medium_um2_per_s", 1430.0)):
        assert defaults[name] == pytest.approx(at_25c * ratio, abs=0.051)  # rounded to 0.1
    assert _H2S_DIFFUSIVITY == pytest.approx(1360.0 * ratio, abs=0.051)


@pytest.mark.parametrize("kind", list(FORMULA))
def test_a_microgram_per_ml_of_each_preset_holds_its_formula_s_zinc(kind):
    """1 µg/mL of particles holds 1000 n_Zn / M µM of zinc, M the molar mass of the preset's
    formula from the atomic weights (ZIF-8: 4.39 µM, 28.7 % zinc by mass), to 1e-9: the
    conversion every dose, release and viability table goes through (the independent ODE of
    tests/test_second_implementation.py uses it for ZnO, ZnO₂ and ZnS, not for ZIF-8)."""
    molar_mass = sum(n * ATOMIC_WEIGHT[element] for element, n in FORMULA[kind].items())
    material = get_material(kind)
    assert material.zn_uM_per_ug_per_ml == pytest.approx(
        1000.0 * FORMULA[kind]["Zn"] / molar_mass, rel=1e-9)

def test_zno2_makes_h2o2_in_acid_and_not_at_neutral_ph():
    """ZnO₂ + 2H⁺ → Zn²⁺ + H₂O₂ (Wolanov et al. 2013: stable down to ~pH 6): after 6 h in a
    cell-free vial, 100x more H₂O₂ at pH 5.5 than at 7.4, and released Zn²⁺ rises as pH
    falls."""
    h2o2 = {ph: _vial("ZnO2", ph, end_h=6.0)["h2o2"][-1] for ph in (7.4, 6.5, 5.5)}
    assert h2o2[5.5] > 100 * h2o2[7.4]
    assert h2o2[7.4] < h2o2[6.5] < h2o2[5.5]


def test_zno2_keeps_its_peroxide_down_to_ph_6_at_its_measured_solubility():
    """Wolanov et al. 2013 (doi:10.1021/es401590d): ZnO₂ "retains its peroxide content down to
    pH 6" and its release at low pH is thermodynamically controlled, with ΔG_f(ZnO₂) =
    −242.0 kJ/mol. With ΔG_f of Zn²⁺(aq) −147.06 and H₂O₂(aq) −134.03 kJ/mol (NBS tables),
    ZnO₂ + 2H⁺ = Zn²⁺ + H₂O₂ has log K = 6.85, so a closed vial (no decay) settles at
    Zn²⁺ = H₂O₂ = √K · 10^−pH M (to 1 %). For a 1 g/L suspension (a solubility-study loading;
    the paper's loading was not reachable) that keeps ≥ 70 % of the peroxide solid at pH 6 and
    ≥ 98 % at 7.4, but < 25 % at pH 5.5: the reported threshold (taken at 25 °C, the
    temperature of the free energies; the experiment's own was not read). The default is the
    37 °C constant, lower by van 't Hoff with ΔH = −153.39 − 191.17 + 292.1 kJ/mol (Zn²⁺ and
    H₂O₂(aq) from the PHREEQC and OBIGT tables, ZnO₂ from Wolanov et al.)."""
    rt_ln10 = 8.314462618e-3 * 298.15 * np.log(10)
    log_k = -(-147.06 - 134.03 + 242.0) / rt_ln10
    retained = {}
    for ph in (7.4, 6.0, 5.5):
        v = _vial("ZnO2", ph, end_h=240.0, dose=1000.0,
                  kinetics={"h2o2_decay_per_s": 0.0, "solubility_log10_K": log_k})
        assert v["h2o2"][-1] == pytest.approx(np.sqrt(10**log_k) * 10**-ph * 1e6, rel=0.01)
        retained[ph] = v["np"][-1] / 1000.0
    assert retained[7.4] > 0.98 and retained[6.0] > 0.70 and retained[5.5] < 0.25
    dh_kj = -36.66 * 4.184 - 45.690 * 4.184 + 292.1
    at_37 = log_k - dh_kj / (rt_ln10 / 298.15) * (1 / 310.15 - 1 / 298.15)
    default = get_material("ZnO2").parameter("solubility_log10_K").value
    assert default == pytest.approx(at_37, abs=1e-9) and 6.4 < default < log_k - 0.3
    v = _vial("ZnO2", 6.0, end_h=240.0, dose=1000.0, kinetics={"h2o2_decay_per_s": 0.0})
    assert v["h2o2"][-1] == pytest.approx(np.sqrt(10**default) * 1e-6 * 1e6, rel=0.01)


def test_zif8_reproduces_the_reported_release_contrast():
    """Doxorubicin released at 15 h: 63.4 % at pH 5.0 and 37.6 % at pH 7.4 (Zhang et al. 2024,
    doi:10.1016/j.jddst.2024.106263; the preset is calibrated on these two points, so this
    checks the calibration survives the whole pipeline: config, kinetics, solver) to 0.1 %
    absolute; and the release switches on below pH 6.5: under 15 % of the acid gain appears
    between 7.4 and 7.0, over 70 % of it is reached by 6.0."""
    w = get_material("ZIF-8").parameter("cargo_mass_fraction").value
    released = {ph: 100 * _vial("ZIF-8", ph)["cargo"][-1] / (w * 20.0)
                for ph in (7.4, 7.0, 6.5, 6.0, 5.0)}
    assert released[5.0] == pytest.approx(63.4, abs=0.1)
    assert released[7.4] == pytest.approx(37.6, abs=0.1)
    gain = released[5.0] - released[7.4]
    assert released[7.0] - released[7.4] < 0.15 * gain  # little change above the switch
    assert released[6.0] - released[7.4] > 0.7 * gain  # most of it below 6.5


def test_zif8_other_reported_points_are_reported_honestly():
    """The other shipped ZIF-8 release points come from different carriers; the preset is not
    expected to fit them all. Zheng et al. 2017 (ZnO-DOX@ZIF-8): ≤ 20 % at pH 7.4 (no time)
    is met only for t ≤ 7 h; Tran & Lee 2021 (PAA-coated): 24.7 % at 100 h, pH 7.4 is not met
    by this preset (its own carrier fit, configs/fit_zif8_paa_release.toml, reproduces it:
    tests/test_fit_release.py). This test pins the model's numbers so a change in the preset
    shows up here."""
    w = get_material("ZIF-8").parameter("cargo_mass_fraction").value
    out = _vial("ZIF-8", 7.4, end_h=100.0)
    pct = 100 * out["cargo"] / (w * 20.0)
    assert pct[7] <= 20.0 < pct[8]  # the 20 % bound holds up to 7 h
    assert pct[100] > 90.0  # far above Tran & Lee's 24.7 %: a different, coated carrier


@pytest.mark.parametrize("ph", [4.0, 5.0, 7.0])
def test_zns_dissolves_to_its_tabulated_solubility(ph):
    """In a closed vial (no cells, sulfide kept) ZnS dissolves until [Zn²⁺][H₂S] = K [H⁺]²
    with K from WATEQ4F's amorphous ZnS(a) (log K −9.052 for ZnS + H⁺ = Zn²⁺ + HS⁻, H₂S pKa
    6.994) taken to 37 °C (van 't Hoff, ΔH = 15.36 − 21.55 kJ/mol), H₂S being the share
    n = 1/(1 + 10^(pH − pKa₁)) of the total sulfide (pKa₁ 6.85 at 37 °C, ΔH −21.55 kJ/mol):
    Zn²⁺ = total sulfide = √(K/n) · 10^−pH M, 0.90 µM at pH 5, 8.9 µM at pH 4 and 0.014 µM at
    pH 7 (where n = 0.41), to 0.1 %."""
    v = _vial("ZnS", ph, end_h=24.0, kinetics={"h2s_oxidation_per_s": 0.0})
    r_ln10 = 8.314462618 * np.log(10.0)
    to_37 = 1e3 / r_ln10 * (1 / 310.15 - 1 / 298.15)
    log_k = -9.052 + 6.994 - (15.3553 - 21.5518) * to_37
    pka1 = 6.994 + 21.5518 * to_37
    neutral = 1.0 / (1.0 + 10 ** (ph - pka1))
    expected_uM = np.sqrt(10**log_k / neutral) * 10**-ph * 1e6
    assert v["h2s"][-1] == pytest.approx(expected_uM, rel=1e-3)
    assert v["zn"][-1] == pytest.approx(expected_uM, rel=1e-3)
    # bulk sphalerite (log K −4.62) holds 10^((4.62 − 2.10)/2) ≈ 18x less
    bulk = _vial("ZnS", ph, end_h=24.0, kinetics={"h2s_oxidation_per_s": 0.0,
                                                   "solubility_log10_K": -4.624})
    assert v["h2s"][-1] / bulk["h2s"][-1] == pytest.approx(10 ** ((4.624 + log_k) / 2), rel=1e-2)


def test_zns_held_at_its_limit_by_sulfide_oxidation_dissolves_alike_at_any_step():
    """In a cell-free ZnS vial (water, pH 6.8, 12 h) the fluid stays near ZnS's solubility
    limit and dissolves as fast as the sulfide's oxidation (t½ 5 min) makes room. The limit is
    applied at the step's end, with the co-product removed over the step
    (`Kinetics.headroom_uM`): the dissolved Zn²⁺ at Δt = 60 and 600 s is within 3 % of Δt =
    5 s (measured 0.2717 and 0.2705 against 0.2699 µM; 0.2693 at 1 s). With the limit of the
    step's start they read 0.2546 and 0.1747 µM (0.2692 at 5 s): the room the oxidation made
    was filled one step late, a third too little at κΔt = 1.4."""
    def zinc(dt_s: float) -> float:
        time = {"end_h": 12.0, "dt_s": dt_s, "save_every_min": 720.0}
        return float(_vial("ZnS", 6.8, time=time)["zn"][-1])

    small = zinc(5.0)
    assert 0.26 < small < 0.28  # the reference itself, near the small-step limit
    for dt_s in (60.0, 600.0):
        assert zinc(dt_s) == pytest.approx(small, rel=0.03)


def test_the_medium_acts_on_dissolved_zinc_whatever_the_particle():
    """[medium] changes the limit on *total* dissolved zinc for every material: a culture
    medium's ligands (α = total / free Zn²⁺) raise ZnO₂'s closed-vial equilibrium
    Zn·H₂O₂ = α K [H⁺]² to √α times the water value (to 1 %); zinc phosphate caps the dissolved
    zinc only where it lies below the particle's own limit: ZnS at pH 5 (0.89 µM against
    ~150 µM of zinc phosphate) dissolves as in water (to 0.1 %)."""
    from zn_pde.materials.media import COMPOSITIONS

    kin = {"h2o2_decay_per_s": 0.0}
    water = _vial("ZnO2", 6.0, end_h=240.0, dose=1000.0, kinetics=kin)
    culture = _vial("ZnO2", 6.0, end_h=240.0, dose=1000.0, kinetics=kin,
                    medium={"composition": "culture"})
    alpha = COMPOSITIONS["culture"][0]
    assert culture["h2o2"][-1] / water["h2o2"][-1] == pytest.approx(np.sqrt(alpha), rel=0.01)
    assert culture["zn"][-1] * culture["h2o2"][-1] == pytest.approx(
        alpha * water["zn"][-1] * water["h2o2"][-1], rel=0.02)
    kin = {"h2s_oxidation_per_s": 0.0}
    zns = [_vial("ZnS", 5.0, end_h=24.0, kinetics=kin, medium={"composition": m})["zn"][-1]
           for m in ("water", "phosphate_saline")]
    assert zns[1] == pytest.approx(zns[0], rel=1e-3)


def test_zinc_phosphate_does_not_stop_a_particle_releasing_its_cargo_or_peroxide():
    """In a phosphate saline (PBS) the Zn²⁺ a particle releases beyond zinc phosphate's limit
    precipitates (`zn_phosphate`), while the particle goes on dissolving by its own law:
    ZIF-8 at pH 7.4 releases its cargo as in water (to 1e-6; ~38 % in 15 h, the calibration
    point of Zhang et al. 2024, measured in PBS) with the dissolved zinc held at the limit
    (1.4 µM, to 1e-6) and every zinc conserved (particle + dissolved + precipitate = dose, to
    1e-9); ZnO₂ at pH 6.0 (no peroxide decay) releases one H₂O₂ per zinc dissolved or
    precipitated (to 1e-6), over twice the dissolved zinc, which stays at the limit (56 µM
    at pH 6.0)."""
    f64 = {"precision": "float64"}
    water = _vial("ZIF-8", 7.4, numerics=f64)
    pbs = _vial("ZIF-8", 7.4, medium={"composition": "phosphate_saline"}, numerics=f64)
    assert pbs["cargo"][-1] == pytest.approx(water["cargo"][-1], rel=1e-6)
    m = get_material("ZIF-8")
    conv = m.zn_uM_per_ug_per_ml * (1 - m.defaults()["cargo_mass_fraction"])
    assert 100 * (1 - pbs["np"][-1] / 20.0) == pytest.approx(37.6, abs=0.5)
    from zn_pde.materials.media import COMPOSITIONS, phosphate_limit_ratio
    limit = COMPOSITIONS["phosphate_saline"][1] * phosphate_limit_ratio(7.4)
    assert pbs["zn"][-1] == pytest.approx(limit, rel=1e-6)
    total = conv * pbs["np"] + pbs["zn"] + pbs["zn_phosphate"]
    np.testing.assert_allclose(total, conv * 20.0, rtol=1e-9)
    zno2 = _vial("ZnO2", 6.0, end_h=24.0, kinetics={"h2o2_decay_per_s": 0.0},
                 medium={"composition": "phosphate_saline"}, numerics=f64)
    zinc = zno2["zn"][-1] + zno2["zn_phosphate"][-1]
    assert zno2["h2o2"][-1] == pytest.approx(zinc, rel=1e-6)
    assert zno2["zn"][-1] == pytest.approx(limit / phosphate_limit_ratio(7.4)
                                           * phosphate_limit_ratio(6.0), rel=1e-6)
    assert zno2["h2o2"][-1] > 2 * zno2["zn"][-1]


def test_zns_h2s_inhibits_catalase_so_more_peroxide_reaches_glutathione():
    """ZnS releases H₂S (here mostly from particles dissolving in the cells' lysosomes);
    H₂S inhibits the cells' catalase (activity a = 1/(1 + H₂S/K_i)), so of the diffusible
    ROS the cells take up under the same ultrasound a larger share k_px/(a k_cat + k_px +
    k_F [Fe]) goes through the glutathione peroxidases: the glutathione spent over the
    exposure is larger than with the inhibition switched off by that ratio, which lies
    between its values at the exposure's highest and lowest H₂S (within 5 %), while the
    ROS in the fluid hardly moves (uptake is limited by the membrane, not by catalase: within
    1 %), in a dense pellet of cells (φ = 0.5). The default solubility gives ~0.9 µM H₂S, so
    the test takes a sensitive catalase (K_i = 0.5 µM instead of the assumed 10 µM) to make
    the mechanism large enough to measure; mitochondrial peroxide, resynthesis and glutathione
    reductase are off so that glutathione counts the ultrasound's peroxide alone."""
    us = [{"start_h": 2.0, "duration_min": 30.0, "intensity_W_per_cm2": 2.0}]
    common = {"energy_kill_max_per_h": 0.0, "oxidative_lethal_dose_uM": 1e12,
              "h2s_catalase_ki_uM": 0.5, "zn_ros_max_uM_per_s": 0.0,
              "gsh_resynthesis_per_h": 0.0, "gssg_reduction_max_uM_per_s": 0.0}
    kw = {"end_h": 3.0, "geometry": "uniform", "ultrasound": us, "phi": 0.5, "save_min": 10.0}
    base = _vial("ZnS", 6.0, kinetics=common, **kw)
    blocked = _vial("ZnS", 6.0, kinetics={**common, "h2s_catalase_ki_uM": 1e6}, **kw)
    exposure = slice(12, 16)  # t = 2 h to 2 h 30 min
    h2s = base["h2s"][exposure]
    assert h2s.min() > 0.5
    k = get_material("ZnS").defaults()
    k_int = lambda a: (a * k["catalase_rate_per_s"] + k["peroxidase_rate_per_s"]  # noqa: E731
                       + k["fenton_rate_per_uM_per_s"] * k["fenton_catalyst_uM"])
    ratio = lambda c: k_int(1.0) / k_int(1.0 / (1.0 + c / 0.5))  # noqa: E731
    lo, hi = ratio(h2s.min()), ratio(h2s.max())
    assert lo > 1.5  # the mechanism matters here
    spent = (base["gsh"][0] - base["gsh"][-1]) / (blocked["gsh"][0] - blocked["gsh"][-1])
    assert lo / 1.05 < spent < hi * 1.05
    during = 14  # t = 2 h 20 min, inside the exposure
    assert base["ros"][during] == pytest.approx(blocked["ros"][during], rel=0.01)


def _oxygen_drop(dt_s: float, end_s: float) -> tuple[float, float, float]:
    """Centre-to-surface O₂ drop in a respiring spheroid after `end_s` (steady by then), the
    analytic drop, and the smallest O₂ value."""
    raw = {"grid": {"shape": [30, 30, 30], "spacing_um": 10.0},
           "time": {"end_h": end_s / 3600, "dt_s": dt_s, "save_every_min": end_s / 60},
           "geometry": {"kind": "spheroid", "radius_um": 120.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 0.0},
           "oxygen": {"enabled": True}}
    c = config(raw)
    _, out = series(c)
    o2 = out["o2"][-1]
    zz, yy, xx = np.meshgrid(*[(np.arange(30) + 0.5) * 10.0] * 3, indexing="ij")
    r = np.sqrt((xx - 150) ** 2 + (yy - 150) ** 2 + (zz - 150) ** 2)
    surface = o2[(r > 115) & (r < 125)].mean()
    ox = c["oxygen"]
    q = c["geometry"]["cell_volume_fraction"] * ox["consumption_max_uM_per_s"]
    r_centre = np.sqrt(3) * 5.0  # the 8 voxels around the centre
    drop = q * (120.0**2 - r_centre**2) / (6 * ox["diffusivity_tissue_um2_per_s"])
    return surface - o2[14:16, 14:16, 14:16].mean(), drop, float(o2.min())


def test_oxygen_profile_in_a_respiring_spheroid_is_parabolic_at_any_step():
    """Zero-order consumption q in a sphere: c(r) = c_s − q (R² − r²)/(6D) (Michaelis constant
    1 µM ≪ c, so consumption is zero-order to ~1 %). Uptake is solved implicitly with the
    diffusion, so the balance holds at any step: with Δt = 0.5 s (uptake rate × Δt ≈ 0.06) the
    steady drop is within 3.5 % of the analytic one (the spatial error, 10 µm voxels); with
    Δt = 60 s (rate × Δt ≈ 7, where a split reaction step overshoots) within 8 % (the LOD
    splitting perturbs the steady balance by ~5 %), and O₂ stays positive."""
    fine, drop, _ = _oxygen_drop(0.5, 60.0)
    coarse, _, lowest = _oxygen_drop(60.0, 3600.0)
    assert fine == pytest.approx(drop, rel=0.035)
    assert coarse == pytest.approx(drop, rel=0.08)
    assert lowest > 0


def test_repeated_pulsed_exposures_expand_to_the_delivered_dose(x64):
    """Three exposures a day at 50 % duty deliver 1.5x the cavitation of one continuous
    exposure at the same peak: duty x A(peak), not A(duty x peak), which for 2 W/cm^2 at
    50 % would be A(1 W/cm^2) = 1 instead of 0.5 A(2 W/cm^2) = 1.14."""
    import jax.numpy as jnp

    from zn_pde.stimuli.ultrasound import cavitation_activity, ultrasound_exposure

    ex = [{"start_h": 1.0, "duration_min": 10.0, "intensity_W_per_cm2": 2.0,
           "frequency_MHz": 1.0, "duty_cycle": 0.5, "repeats": 3, "repeat_every_h": 8.0}]
    out = expand_repeats(ex)
    assert [e["start_h"] for e in out] == [1.0, 9.0, 17.0]
    c = config({"grid": {"kind": "well_mixed"}, "material": {"kind": "ZnO"},
                "time": {"end_h": 24.0}, "ultrasound": ex})
    geo = build_geometry(c)
    built = [ultrasound_exposure(e, c["tissue"], geo, 1.0, jnp.float64) for e in out]
    dose = sum(float(x.amplitude * x.field.max()) * 10.0 for x in built)
    law = (c["tissue"]["ultrasound_cavitation_threshold_W_per_cm2"],
           c["tissue"]["ultrasound_cavitation_saturation_W_per_cm2"])
    a2 = float(cavitation_activity(2.0, *law))
    assert dose == pytest.approx(1.5 * a2 * 10.0, rel=1e-6)
    assert abs(0.5 * a2 - float(cavitation_activity(1.0, *law))) > 0.05  # not A(duty x peak)


def test_cavitation_threshold_scales_with_frequency_as_the_mechanical_index(x64):
    """I_c and I_sat scale as f^x (x = 1: p/sqrt(f) at threshold, I ~ p^2): in a well-mixed
    compartment 2 MHz at 2 I gives the activity of 1 MHz at I, and 0.82 MHz has the measured
    threshold (0.667 W/cm^2 at 820 kHz) back; x = 0 makes the field frequency independent."""
    import jax.numpy as jnp

    from zn_pde.stimuli.ultrasound import ultrasound_exposure

    def activity(intensity, mhz, exponent=None):
        tissue = {} if exponent is None else {
            "ultrasound_cavitation_frequency_exponent": exponent}
        ex = {"start_h": 1.0, "duration_min": 1.0, "intensity_W_per_cm2": intensity,
              "frequency_MHz": mhz}
        c = config({"grid": {"kind": "well_mixed"}, "material": {"kind": "ZnO"},
                    "time": {"end_h": 2.0}, "ultrasound": [ex], "tissue": tissue})
        built = ultrasound_exposure(c["ultrasound"][0], c["tissue"], build_geometry(c), 1.0,
                                    jnp.float64)
        return float(built.field.max())

    for i in (0.9, 1.5, 2.5):
        assert activity(2.0 * i, 2.0) == pytest.approx(activity(i, 1.0), rel=1e-9)
    threshold_820k = 0.667
    assert activity(0.99 * threshold_820k, 0.82) == 0.0
    assert activity(1.01 * threshold_820k, 0.82) > 0.0
    assert activity(1.5, 3.0, exponent=0.0) == pytest.approx(activity(1.5, 1.0), rel=1e-12)
    assert activity(1.5, 3.0) == 0.0  # 3 MHz: threshold 2.4 W/cm^2


@pytest.mark.parametrize("wavelength_nm, with_ce6, active", [
    (808.0, False, False),  # NIR photons are far below the ZnO gap
    # ZnO's second harmonic (404 nm) falls in Ce6's Soret band, but continuous light makes
    # ~1e-17 of it (the default efficiency, a chi(2) bound): nothing to see ...
    (808.0, True, False),
    # ... unless the conversion is that of intense pulses (a user-set efficiency)
    (808.0, {"shg_efficiency_per_W_per_cm2": 0.05}, True),
    (664.0, False, False),  # red light: below the gap, nothing without Ce6
    (664.0, True, True),  # direct excitation of the Ce6 Q band
])
def test_near_infrared_excites_zno_ce6_but_not_bare_zno(wavelength_nm, with_ce6, active):
    light = [{"start_h": 2.0, "duration_min": 30.0, "wavelength_nm": wavelength_nm,
              "irradiance_mW_per_cm2": 200.0}]
    kw = {"end_h": 3.0, "geometry": "uniform", "save_min": 10.0, "ph": 7.4,
          "kinetics": {"energy_kill_max_per_h": 0.0}}
    # the dark control keeps the exposure at zero irradiance: the same step plan (exposures
    # are stepped finely), so only the light's action can differ
    dark = _vial("ZnO", light=[{**light[0], "irradiance_mW_per_cm2": 0.0}], **kw)
    extra = {"photosensitiser": {"enabled": True, **(with_ce6 if isinstance(with_ce6, dict)
                                                     else {})}} if with_ce6 else {}
    lit = _vial("ZnO", light=light, **kw, **extra)
    # the photosensitiser's singlet oxygen acts where it is made: it kills the cells holding
    # particles, it does not raise the diffusible ROS
    if active:
        assert lit["viability"][-1] < 0.99 * dark["viability"][-1]
    else:  # the same within float32 round-off (the lit run compiles a different program)
        np.testing.assert_allclose(lit["viability"], dark["viability"], rtol=1e-5, atol=1e-12)


def test_gradient_through_the_implicit_oxygen_solve_matches_finite_differences(x64):
    """O₂ uptake sits inside the transport factorisation (rebuilt every step from the state),
    so gradients flow through the factors themselves: d(mean O₂ after 1 h)/d(q_max) by reverse
    mode through the checkpointed trajectory equals a central difference to 1e-5 relative."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from zn_pde import Schedule, build_model, trajectory

    c = config({"grid": {"shape": [10, 10, 10], "spacing_um": 50.0},
                "time": {"end_h": 1.0, "dt_s": 60.0, "save_every_min": 30.0},
                "geometry": {"kind": "spheroid", "radius_um": 200.0},
                "material": {"kind": "ZnO"}, "oxygen": {"enabled": True},
                "numerics": {"precision": "float64"}})
    model = build_model(c)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    o2 = model.mobile_names.index("o2")

    def mean_o2(p):
        m = eqx.combine(p, static)
        out = trajectory(m, Schedule.from_config(c), lambda _, s: jnp.mean(s.mobile[..., o2]))
        return out[-1]

    grad = jax.grad(mean_o2)(params).oxygen.consumption_max_uM_per_s
    q = params.oxygen.consumption_max_uM_per_s
    h = 1e-4 * q
    at = lambda v: eqx.tree_at(lambda p: p.oxygen.consumption_max_uM_per_s, params, v)  # noqa: E731
    fd = (mean_o2(at(q + h)) - mean_o2(at(q - h))) / (2 * h)
    assert float(grad) < 0
    assert float(grad) == pytest.approx(float(fd), rel=1e-5)


def test_well_mixed_oxygen_settles_where_gas_exchange_meets_uptake():
    """A well-mixed culture with oxygen (no particles): r (c_m − c) = φ q c / (K_m + c) at
    steady state, the positive root of r c² + (r K_m + φ q − r c_m) c − r c_m K_m = 0; the
    exact-relaxation step reaches it to 0.1 % after 2 h (r = 1e-3/s, so ~7 relaxation times)."""
    out = _vial("ZnO", 7.4, end_h=2.0, dose=0.0, geometry="uniform", phi=0.002,
                oxygen={"enabled": True})
    from zn_pde.materials._common import OXYGEN

    p = {q.name: q.value for q in OXYGEN}
    r, cm, km = p["resupply_per_s"], p["medium_uM"], p["consumption_half_uM"]
    q = 0.002 * p["consumption_max_uM_per_s"]
    b = r * km + q - r * cm
    c_ss = (-b + np.sqrt(b * b + 4 * r * r * cm * km)) / (2 * r)
    assert 0.1 * cm < c_ss < 0.9 * cm  # uptake and supply both matter
    assert out["o2"][-1] == pytest.approx(c_ss, rel=1e-3)


def test_second_harmonic_falls_with_the_square_of_the_light_at_depth():
    """ZnO–Ce6 under 808 nm: the second harmonic made at depth z is η E(z)², so its field is
    the square of the 808 nm field (e^{−2∫μ dz}), to round-off, with the entry amplitude
    η E₀² (before 2026-12-02 it fell as e^{−∫μ dz}: 1.3x too much at 250 µm depth)."""
    import jax.numpy as jnp

    from zn_pde._model import build_model
    from zn_pde.stimuli.light import light_exposure

    c = config({"grid": {"shape": [24, 24, 24], "spacing_um": 20.0},
                "geometry": {"kind": "spheroid", "radius_um": 200.0},
                "material": {"kind": "ZnO"}, "photosensitiser": {"enabled": True},
                "light": [{"start_h": 1.0, "duration_min": 10.0, "wavelength_nm": 808.0,
                           "irradiance_mW_per_cm2": 200.0}]})
    model = build_model(c)
    (shg,) = model.photosensitiser_light
    geo = build_geometry(c)
    light = light_exposure(c["light"][0], c["tissue"], geo, 20.0, 0.0, jnp.float32)
    eta = c["photosensitiser"]["shg_efficiency_per_W_per_cm2"]
    assert float(shg.amplitude) == pytest.approx(eta * 0.2 * 200.0, rel=1e-6)
    np.testing.assert_allclose(np.asarray(shg.field), np.asarray(light.field) ** 2,
                               rtol=1e-5, atol=1e-30)
    deep = np.asarray(light.field)[geo.tissue].min()
    assert 0.5 < deep < 0.9  # the light does fall across the spheroid


def test_an_absorbed_photon_makes_at_most_one_product():
    """Light's yields are quantum yields of the photons absorbed: each is refused above 1, and
    so is a radical and a diffusible yield that together exceed 1 (exit 2, the key named);
    a dye needs one molar absorption coefficient per band."""
    from zn_pde import InputError

    base = {"grid": {"kind": "well_mixed"}, "material": {"kind": "ZnO"}}
    with pytest.raises(InputError, match="kinetics.photo_radical_quantum_yield.*at most one"):
        config({**base, "kinetics": {"photo_radical_quantum_yield": 0.8,
                                     "photo_ros_quantum_yield": 0.3}})
    with pytest.raises(InputError, match="photo_ros_quantum_yield.*<= 1"):
        config({**base, "kinetics": {"photo_ros_quantum_yield": 1.5}})
    config({**base, "kinetics": {"photo_radical_quantum_yield": 0.7,
                                 "photo_ros_quantum_yield": 0.3}})  # exactly one: allowed
    with pytest.raises(InputError, match="molar_absorption_per_M_per_cm.*one coefficient per"):
        config({**base, "photosensitiser": {"enabled": True,
                                            "absorption_nm": [404.0, 500.0, 664.0]}})


def test_the_dye_makes_singlet_oxygen_from_the_photons_it_absorbs():
    """Chlorin e6 at w = 5 % w/w (M = 596.7 g/mol) under 664 nm: per µg/mL of particles it
    absorbs ε ln10 (w 1e-3 / M) q µM/s, q = E λ/(h c N_A) the photon flux, nmol/(cm² s):
    at 100 mW/cm² and ε = 4e4 /(M cm), 4.28 µM/s (hand arithmetic, 1e-3); twice the
    loading absorbs twice as much, and a wavelength outside every band nothing."""
    from zn_pde._model import photosensitiser_excitation_uM_per_s

    ps = config({"grid": {"kind": "well_mixed"}, "material": {"kind": "ZnO"},
                 "photosensitiser": {"enabled": True}})["photosensitiser"]
    assert ps["molar_mass_g_per_mol"] == pytest.approx(596.68, abs=0.01)
    q = 100e-3 / (6.62607015e-34 * 299792458.0 / 664e-9) / 6.02214076e23 * 1e9  # 555 nmol
    hand = 4.0e4 * math.log(10.0) * 0.05 * 1e-3 / 596.684 * q
    assert hand == pytest.approx(4.28, rel=1e-3)
    direct, harmonic = photosensitiser_excitation_uM_per_s(664.0, 100.0, ps, "ZnO")
    assert direct == pytest.approx(hand, rel=1e-6) and harmonic == 0.0
    doubled = photosensitiser_excitation_uM_per_s(664.0, 100.0,
                                                   {**ps, "loading_ug_per_ug": 0.1}, "ZnO")
    assert doubled[0] == pytest.approx(2 * direct, rel=1e-12)
    assert photosensitiser_excitation_uM_per_s(550.0, 100.0, ps, "ZnO") == (0.0, 0.0)


def test_the_dye_yield_s_history_note_states_the_photons_it_was_set_above():
    """The singlet-oxygen yield's source recalls the former per-mW yield, 11.8 µM/s per
    (mW/cm² · µg/mL), against the photons a 5 % w/w chlorin e6 loading absorbs at 664 nm:
    ε ln10 (w 1e-3 / M) q = 0.0428 µM/s per (mW/cm² · µg/mL) (the test above, per mW), so
    it was ~276 times those photons (~460 times the singlet oxygen at the 0.6 yield). Until
    2026-12-06 the note said ~400 times."""
    from zn_pde._model import photosensitiser_excitation_uM_per_s
    from zn_pde.materials._common import PHOTOSENSITISER

    ps = config({"grid": {"kind": "well_mixed"}, "material": {"kind": "ZnO"},
                 "photosensitiser": {"enabled": True}})["photosensitiser"]
    per_mw = photosensitiser_excitation_uM_per_s(664.0, 1.0, ps, "ZnO")[0]
    ratio = 11.8 / per_mw
    assert ratio == pytest.approx(276, rel=0.01)
    source = next(p.source for p in PHOTOSENSITISER if p.name == "singlet_oxygen_quantum_yield")
    assert f"~{10 * round(ratio / 10):.0f} times the photons" in source  # ~280
    assert "~400" not in source


def test_the_stimuli_consume_one_o2_per_oxidant_they_make_with_it():
    """Photodynamic oxidants are made from O₂ (¹O₂ by energy transfer; O₂•−, two of which
    dismute to H₂O₂ + O₂, by electron transfer): one O₂ per oxidant, so illumination depletes
    O₂ (Foster et al. 1991, Radiat Res 126:296, abstract: 6-9 µM/s at 50 mW/cm²). In a sealed
    cell-free vial (no gas exchange, no cells) whose diffusible ROS does not decay, the O₂
    lost equals the oxidants made: the diffusible ROS left plus the short-lived radicals
    made beside it in the ratio of their quantum yields, Y_rad/Y_ros, at every save (float64:
    to 1e-6). Until 2026-12-05 the stimuli used none, and catalase, giving ½ O₂ per H₂O₂
    back, made the light a source of O₂ (100 → 179 µM in 30 min of UV)."""
    from zn_pde.materials.zno import PARAMETERS

    p = {q.name: q.value for q in PARAMETERS}
    out = _vial("ZnO", 7.4, end_h=1.0, geometry="medium", save_min=10.0,
                kinetics={"ros_decay_per_s": 1e-30},
                oxygen={"enabled": True, "resupply_per_s": 0.0},
                light=[{"start_h": 0.0, "duration_min": 50.0, "wavelength_nm": 365.0,
                        "irradiance_mW_per_cm2": 50.0}],
                numerics={"precision": "float64"})
    lost = out["o2"][0] - out["o2"]
    made = out["ros"] * (1.0 + p["photo_radical_quantum_yield"] / p["photo_ros_quantum_yield"])
    assert lost[-1] > 1.0  # the light has used a measurable share of the O2
    assert np.all(np.diff(out["o2"]) <= 0)
    np.testing.assert_allclose(lost, made, rtol=1e-6, atol=1e-9)


def test_cavitation_uses_the_o2_of_its_diffusible_ros_and_a_well_gets_o2_back():
    """Ultrasound's short-lived yield is an effective constant calibrated to a kill (118 µM/s
    per µg/mL at 1 W/cm², far above cell-free radical yields), not a count of molecules made
    from O₂: counted as O₂ it emptied a well's 177 µM within a second of exposure, and a
    diffusible ROS that needs O₂ fell 1000-fold. Cavitation's O₂ use is its diffusible ROS's,
    the cell-free sonochemical yield. In a sealed cell-free vial (no decay, no gas exchange)
    1 min at 1.5 W/cm² with 20 µg/mL ZnO: O₂ lost = diffusible ROS made (to 1e-6), the ROS
    within 15 % of a run without [oxygen] (the O₂ factor stays near 1). On a grid, the
    reacting bulk medium beyond the walls exchanges gas with the air as a well-mixed run
    does: an hour after the exposure the medium faces hold ≥ 90 % of the air-saturated O₂
    (before 2026-12-05 they stayed at 0 for the rest of the run)."""
    us = [{"start_h": 0.0, "duration_min": 1.0, "intensity_W_per_cm2": 1.5}]
    sealed = _vial("ZnO", 7.4, end_h=0.05, geometry="medium", save_min=1.0, ultrasound=us,
                   kinetics={"ros_decay_per_s": 1e-30},
                   oxygen={"enabled": True, "resupply_per_s": 0.0},
                   numerics={"precision": "float64"})
    without = _vial("ZnO", 7.4, end_h=0.05, geometry="medium", save_min=1.0, ultrasound=us,
                    kinetics={"ros_decay_per_s": 1e-30}, numerics={"precision": "float64"})
    lost = sealed["o2"][0] - sealed["o2"]
    assert sealed["ros"][-1] > 5.0  # the documented order: ~20 uM in a minute
    np.testing.assert_allclose(lost, sealed["ros"], rtol=1e-6, atol=1e-9)
    assert sealed["ros"][-1] == pytest.approx(without["ros"][-1], rel=0.15)

    c = config({"grid": {"kind": "radial", "shape": [12], "spacing_um": 10.0},
                "time": {"end_h": 2.0, "dt_s": 60.0, "save_every_min": 30.0},
                "geometry": {"kind": "spheroid", "radius_um": 60.0},
                "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
                "oxygen": {"enabled": True},
                "ultrasound": [{"start_h": 0.5, "duration_min": 1.0,
                                "intensity_W_per_cm2": 1.5}]})
    times, out = series(c)
    medium_o2 = out["o2"][:, -1]  # the outermost shell: medium at the wall
    air = c["oxygen"]["medium_uM"]
    assert medium_o2[np.searchsorted(times, 1.5 * 3600.0)] >= 0.9 * air


def test_catalase_oxygen_diffuses_as_it_is_made_at_any_step():
    """The O₂ catalase makes from the peroxide the cells take up is a source of O₂'s implicit
    solve, so it diffuses as it is made: after 5 min of ultrasound (50 % duty) on a radial
    spheroid, whose rim cells take up the diffusible ROS of the medium, the O₂ field at
    Δt = 60 s matches Δt = 5 s (peak within 2 %, the profile 10 min later within 5 % of the
    air-saturated value; the first-order time error of the transport). Until 2026-12-05 it was
    added after the step, one step's worth undiffused in the rim cells: a peak of 595 µM
    against the medium's 177 at Δt = 60 s and profiles 438 µM apart."""
    def o2(dt_s: float) -> tuple[np.ndarray, float]:
        c = config({"grid": {"kind": "radial", "shape": [40], "spacing_um": 7.5},
                    "time": {"end_h": 0.25, "dt_s": dt_s, "save_every_min": 5.0},
                    "geometry": {"kind": "spheroid", "radius_um": 200.0},
                    "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
                    "oxygen": {"enabled": True},
                    "ultrasound": [{"start_h": 0.0, "duration_min": 5.0,
                                    "intensity_W_per_cm2": 1.5, "duty_cycle": 0.5}]})
        return series(c)[1]["o2"], c["oxygen"]["medium_uM"]

    (coarse, air), (fine, _) = o2(60.0), o2(5.0)
    assert fine.max() == pytest.approx(air, rel=0.01)  # the medium's is the highest
    assert coarse.max() == pytest.approx(fine.max(), rel=0.02)
    assert np.abs(coarse[-1] - fine[-1]).max() < 0.05 * air


def test_pulses_of_the_same_mean_irradiance_make_more_second_harmonic():
    """Second-harmonic generation follows the in-pulse irradiance squared: a pulse train of
    duty d at peak E/d (the same mean E) makes d (E/d)² = E²/d, 1/d times a continuous
    beam's. A femtosecond source (d = 1e-5, peak 2e7 mW/cm² for a 200 mW/cm² mean) is
    accepted: the in-pulse irradiance may reach 1e12 mW/cm², its mean not 1e5 (exit 2 naming
    the key). Until 2026-12-05 any irradiance above 1e5 mW/cm² was refused, so the pulses the
    second harmonic needs could not be configured."""
    from zn_pde import InputError
    from zn_pde._model import build_model

    def amplitude(peak: float, duty: float) -> float:
        c = config({"grid": {"shape": [8, 8, 8], "spacing_um": 40.0},
                    "geometry": {"kind": "spheroid", "radius_um": 100.0},
                    "material": {"kind": "ZnO"}, "photosensitiser": {"enabled": True},
                    "light": [{"start_h": 1.0, "duration_min": 10.0, "wavelength_nm": 808.0,
                               "irradiance_mW_per_cm2": peak, "duty_cycle": duty}]})
        (shg,) = build_model(c).photosensitiser_light
        return float(shg.amplitude)

    assert amplitude(2e7, 1e-5) == pytest.approx(1e5 * amplitude(200.0, 1.0), rel=1e-5)
    with pytest.raises(InputError, match=r"light\[0\].irradiance_mW_per_cm2.*pulse-averaged"):
        amplitude(2e7, 1e-2)

