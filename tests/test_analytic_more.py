"""More closed-form checks through the public contract (`zn_pde.simulate` on config dicts, the
keys of docs/config.md, the fields of docs/outputs.md), beyond tests/test_analytic_extra.py:

* oxygen: Greenspan's zero-order consumption in a spheroid with the medium's own diffusion
  resistance (an anoxic core or none), the documented critical radius sqrt(6 D c₀ / q), and a
  well-mixed culture's Michaelis-Menten balance against gas exchange;
* the equilibrium limits of dissolution (ZnO in water and culture medium, the ZnO₂ and ZnS ion
  products with their co-products, zinc phosphate and its pH law in a phosphate saline) and
  the µg/mL to µM conversion by the molar masses (ZIF-8's cargo carries no zinc);
* the documented release of ZnO in 120 h at pH 7.4, 9.26 % (culture) and 8.30 % (water), as
  the closed-form solution of first-order dissolution slowed by (1 − Ω);
* the depth laws of the stimuli in a cell-free column: Beer-Lambert light with the particles'
  own absorption, and the ultrasound's dB attenuation feeding the cavitation law with its
  threshold, saturation and frequency scaling.

Every derivation is in the test's docstring; each test says (`# fails if`) which wrong model it
catches. Biology that would move the reference is switched off through documented keys.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
from scipy.optimize import brentq

import zn_pde
from zn_pde.materials import get_material

pytestmark = pytest.mark.usefixtures("x64_module")

#: relative rounding of the float32 output, with a margin for the float64 state's own
FLOAT32_OUTPUT = 1e-6
#: oxygen defaults of docs/config.md ([oxygen]); the tests read them back from the run
O2_MEDIUM_UM, O2_D_MEDIUM, O2_D_TISSUE, O2_QMAX = 177.2, 2624.0, 1750.0, 40.7


def _resolved(ds) -> dict:
    return tomllib.loads(ds.attrs["config"])


# --- oxygen -----------------------------------------------------------------------------------


def _greenspan(r, radius, outer, c0, q, d_tissue, d_medium):
    """Steady O₂ of a sphere of radius R consuming at a constant rate Q (per tissue volume,
    where O₂ > 0) inside a medium shell R < r < L whose wall r = L is held at c₀
    (Greenspan 1972, with the medium's resistance added). With an anoxic core of radius ρ
    (c = c' = 0 at ρ), D_t (r² c')'/r² = Q on ρ < r < R gives
        c(r) = c(R) + Q/(6 D_t) [(r² − 3ρ² + 2ρ³/r) − (R² − 3ρ² + 2ρ³/R)],
    and in the medium D_m (r² c')' = 0 carries the whole uptake 4π Q (R³ − ρ³)/3:
        c(r) = c₀ − Q (R³ − ρ³)/(3 D_m) (1/r − 1/L),
    so c(R) = c₀ − Q (R³ − ρ³)/(3 D_m) (1/R − 1/L).
    ρ = 0 while that gives c(0) ≥ 0; else ρ is the root of c(ρ) = 0, i.e. of
        c₀ = Q (R³ − ρ³)/(3 D_m) (1/R − 1/L) + Q/(6 D_t) (R² − 3ρ² + 2ρ³/R).
    Returns (c at r, ρ)."""
    medium = (1 / radius - 1 / outer) / (3 * d_medium)

    def centre(rho):
        return (c0 - q * (radius**3 - rho**3) * medium
                - q / (6 * d_tissue) * (radius**2 - 3 * rho**2 + 2 * rho**3 / radius))

    rho = 0.0 if centre(0.0) >= 0 else brentq(centre, 0.0, radius, xtol=1e-12)
    c_rim = c0 - q * (radius**3 - rho**3) * medium
    rs = np.maximum(r, 1e-30)
    inside = c_rim + q / (6 * d_tissue) * ((r**2 - 3 * rho**2 + 2 * rho**3 / rs)
                                           - (radius**2 - 3 * rho**2 + 2 * rho**3 / radius))
    outside = c0 - q * (radius**3 - rho**3) / (3 * d_medium) * (1 / rs - 1 / outer)
    return np.where(r < radius, np.where(r > rho, inside, 0.0), outside), rho


def _michaelis_menten_reference(r, radius, outer, c0, q, half, d_tissue, d_medium):
    """The same sphere consuming Q c/(K_m + c) (smooth, no sharp anoxic edge), computed
    independently with scipy's collocation BVP solver: D_t (c'' + 2c'/r) = Q c/(K_m + c) on
    0 < r < R, c'(0) = 0, and at R the medium shell's flux, D_t c'(R) =
    D_m (c₀ − c(R)) L/(R (L − R)) (its c = c₀ − (c₀ − c(R))(1/r − 1/L)/(1/R − 1/L))."""
    from scipy.integrate import solve_bvp

    def rhs(x, y):
        return np.vstack([y[1], q * y[0] / (half + np.maximum(y[0], 0.0)) / d_tissue])

    def edges(ya, yb):
        return np.array([ya[1], d_tissue * yb[1]
                         - d_medium * (c0 - yb[0]) * outer / (radius * (outer - radius))])

    x = np.linspace(0.0, radius, 2001)
    sol = solve_bvp(rhs, edges, x, np.vstack([np.full_like(x, 50.0), np.zeros_like(x)]),
                    S=np.array([[0.0, 0.0], [0.0, -2.0]]), tol=1e-8, max_nodes=200000)
    assert sol.status == 0
    c_rim = sol.sol(radius)[0]
    outside = c0 - (c0 - c_rim) * (1 / np.maximum(r, 1e-30) - 1 / outer) / (1 / radius - 1 / outer)
    return np.where(r < radius, sol.sol(np.minimum(r, radius))[0], outside)


def _oxygen_run(grid, geometry, q_max=O2_QMAX, end_s=300.0, dt_s=5.0, half_uM=1e-4):
    """Only oxygen acts: no particles (dose 0), no death by energy failure (hypoxia would
    otherwise kill the core and stop its consumption), K_m = 1e-4 µM unless given (zero order
    above ~0.01 µM)."""
    return zn_pde.simulate({
        "grid": grid,
        "time": {"end_h": end_s / 3600, "dt_s": dt_s, "save_every_min": end_s / 60,
                 "save_around_events": False},
        "geometry": geometry,
        "boundary": {"kind": "dirichlet", "bulk_medium": "fixed"},
        "numerics": {"precision": "float64"},
        "material": {"kind": "ZnO", "dose_ug_per_ml": 0.0},
        "kinetics": {"energy_kill_max_per_h": 0.0},
        "oxygen": {"enabled": True, "consumption_half_uM": half_uM,
                   "consumption_max_uM_per_s": q_max}}, progress=False)


@pytest.mark.parametrize(("q_max", "half_uM"), [(20.0, 1e-4), (O2_QMAX, 1e-4), (O2_QMAX, 1.0)])
def test_oxygen_in_a_spheroid_follows_greenspan_s_profile_at_second_order(q_max, half_uM):
    """A spheroid (R = 250 µm, φ = 0.8) in medium out to a wall at L = 400 µm held at the
    medium's O₂ (radial grid, `bulk_medium = "fixed"`), the documented consumption
    φ V q_max O₂/(K_m + O₂) per tissue volume with K_m → 0 (zero order, Q = φ q_max) and the
    documented diffusivities (tissue 1750, medium 2624 µm²/s). After 300 s (≫ L²/(π² D) ≈ 6 s)
    the profile is `_greenspan`'s: at q_max = 20 µM/s oxygen reaches the centre (34.3 µM);
    at the default 40.7 µM/s the core r < ρ = 128.1 µm is anoxic. With the default
    K_m = 1 µM (Michaelis-Menten) the reference is `_michaelis_menten_reference`'s (the
    centre keeps 2.4e-6 µM).

    Tolerance: the cell-centred finite volumes are second order in h (the interface at R a
    cell face); allowed (h/R)² c₀ at every shell (0.44 µM at h = 12.5 µm), and halving h cuts
    the error more than threefold (measured: 0.40 -> 0.10 µM and 0.81 -> 0.18 µM)."""
    radius, outer = 250.0, 400.0
    errors = []
    for n in (16, 32):
        h = outer / n
        ds = _oxygen_run({"kind": "radial", "shape": [n], "spacing_um": h},
                         {"kind": "spheroid", "radius_um": radius, "cell_volume_fraction": 0.8},
                         q_max=q_max, half_uM=half_uM)
        ox = _resolved(ds)["oxygen"]
        assert (ox["diffusivity_tissue_um2_per_s"], ox["diffusivity_medium_um2_per_s"],
                ox["medium_uM"]) == (O2_D_TISSUE, O2_D_MEDIUM, O2_MEDIUM_UM)
        r = ds["r"].values
        exact, rho = _greenspan(r, radius, outer, O2_MEDIUM_UM, 0.8 * q_max, O2_D_TISSUE,
                                O2_D_MEDIUM)
        if half_uM >= 1.0:
            exact = _michaelis_menten_reference(r, radius, outer, O2_MEDIUM_UM, 0.8 * q_max,
                                                half_uM, O2_D_TISSUE, O2_D_MEDIUM)
        o2 = ds["o2"].values[-1]
        err = np.abs(o2 - exact).max()
        # fails if: the consumption is per cell volume without φ, the tissue takes the
        # medium's diffusivity, the wall holds another value, or the interface flux is wrong
        assert err <= (h / radius) ** 2 * O2_MEDIUM_UM, (n, err)
        if rho > 0 and half_uM < 1.0:  # the anoxic core, to a cell either side
            assert np.all(o2[r < rho - h] < 1e-3) and np.all(o2[r > rho + h] > 0.5)
        elif rho == 0:
            assert o2.min() > 30.0
        errors.append(err)
    assert errors[1] < errors[0] / 3  # second order (fails if: a first-order interface)


def test_the_documented_critical_radius_of_an_all_tissue_sphere():
    """docs/config.md (`oxygen.consumption_max_uM_per_s`): 'a sphere this dense turns anoxic
    at its centre from a radius sqrt(6 D c₀ / q) = 239 um', q = φ q_max = 0.8 x 40.7 per
    tissue volume, D the tissue's. A tissue ball (`geometry.kind = "uniform"`, radial grid)
    whose surface is held at c₀: c(r) = c₀ − q (R² − r²)/(6 D) (`_greenspan` with no medium,
    L = R), c(0) = c₀ (1 − (R/R_c)²). At R = 0.95 R_c the centre keeps 9.75 % of c₀ (17.3 µM);
    at 1.05 R_c a core of ρ = 0.188 R is anoxic (x = ρ/R: 1 − 3x² + 2x³ = 1/1.05²).
    Tolerance (h/R)² c₀ as in the spheroid test."""
    phi, n = 0.8, 24
    r_crit = np.sqrt(6 * O2_D_TISSUE * O2_MEDIUM_UM / (phi * O2_QMAX))
    assert round(r_crit) == 239  # the documented number
    for factor in (0.95, 1.05):
        radius = factor * r_crit
        ds = _oxygen_run({"kind": "radial", "shape": [n], "spacing_um": radius / n},
                         {"kind": "uniform", "cell_volume_fraction": phi})
        r, o2 = ds["r"].values, ds["o2"].values[-1]
        # L = R: no medium shell (its term vanishes)
        exact, rho = _greenspan(r, radius, radius * (1 + 1e-12), O2_MEDIUM_UM, phi * O2_QMAX,
                                O2_D_TISSUE, O2_D_MEDIUM)
        assert np.abs(o2 - exact).max() <= (1 / n) ** 2 * O2_MEDIUM_UM
        if factor < 1:
            assert rho == 0.0 and o2[0] > 0.08 * O2_MEDIUM_UM  # fails if: q lacks φ (R_c 214)
        else:
            assert 0.18 < rho / radius < 0.195 and o2[0] < 1e-3


def _well_mixed_oxygen(k_m, dt, end_h, resupply):
    return zn_pde.simulate({
        "grid": {"kind": "well_mixed"},
        "time": {"end_h": end_h, "dt_s": dt, "save_every_min": 10.0},
        "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
        "numerics": {"precision": "float64"},
        "material": {"kind": "ZnO", "dose_ug_per_ml": 0.0},
        "kinetics": {"energy_kill_max_per_h": 0.0},
        "oxygen": {"enabled": True, "consumption_half_uM": k_m, "resupply_per_s": resupply}},
        progress=False)


def _quadratic_steady_state(sink_uM_per_s, half_uM, resupply_per_s, c0=O2_MEDIUM_UM):
    """The positive root O of k_L (c₀ − O) = P O/(K + O):
    k_L O² + (P + k_L K − k_L c₀) O − k_L c₀ K = 0."""
    b = sink_uM_per_s + resupply_per_s * (half_uM - c0)
    return (-b + np.sqrt(b * b + 4 * resupply_per_s**2 * c0 * half_uM)) / (2 * resupply_per_s)


def test_well_mixed_oxygen_falls_by_zero_order_consumption_at_first_order_in_dt():
    """A well-mixed culture (φ = 0.002, no particles, no death) whose O₂ is consumed at the
    documented φ q_max O₂/(K_m + O₂) and resupplied at k_L (c₀ − O₂) (`resupply_per_s`):
    dO/dt = k_L (c₀ − O) − Q O/(K_m + O), Q = φ q_max. Zero order (K_m = 1e-4 µM):
    O(t) = c₀ − (Q/k_L)(1 − e^{−k_L t}) while O > 0, towards c₀ − Q/k_L = 95.8 µM. The step
    freezes the sink's rate Q/(K_m + O) at its start, a first-order error in dt: at dt = 120
    and 60 s the largest error over 3 h is below Q dt/8 (measured 1.03 and 0.51 µM) and
    halves with dt."""
    k_l = 1e-3
    q = 0.002 * O2_QMAX
    errors = []
    for dt in (120.0, 60.0):
        ds = _well_mixed_oxygen(1e-4, dt, 3.0, k_l)
        t, o2 = ds["time"].values, ds["o2"].values
        exact = O2_MEDIUM_UM - q / k_l * (1 - np.exp(-k_l * t))
        errors.append(np.abs(o2 - exact).max())
        # fails if: resupply towards another value, or consumption without φ (anoxic)
        assert errors[-1] < q * dt / 8, (dt, errors[-1])
    assert 1.7 < errors[0] / errors[1] < 2.3  # first order in dt


def test_well_mixed_oxygen_reaches_the_michaelis_menten_steady_state():
    """As above with K_m = 20 µM: the steady state k_L (c₀ − O) = Q O/(K_m + O) is the
    positive root of a quadratic (`_quadratic_steady_state`, 108.47 µM). The frozen rate is
    exact there (a fixed point of the step), so after 12 h, 43 relaxation times, it matches
    to the output's rounding (fails if: the Michaelis constant enters otherwise, e.g.
    Q O/K_m or Q K_m/(K_m + O))."""
    k_l, k_m = 1e-3, 20.0
    steady = _quadratic_steady_state(0.002 * O2_QMAX, k_m, k_l)
    assert steady == pytest.approx(108.472, abs=1e-3)
    o2 = _well_mixed_oxygen(k_m, 600.0, 12.0, k_l)["o2"].values
    np.testing.assert_allclose(o2[-1], steady, rtol=FLOAT32_OUTPUT)


def test_a_photosensitiser_s_singlet_oxygen_draws_a_vial_s_oxygen_as_documented():
    """A cell-free vial of 20 µg/mL ZnO carrying the default chlorin e6 (5 % w/w, M = 596.684
    g/mol, ε = 40000 /(M cm) at 664 nm, singlet-oxygen yield 0.6), lit at 664 nm (below
    ZnO's gap: only the dye absorbs) with 1 mW/cm² from 1 h on. docs/config.md
    ([photosensitiser]): the dye absorbs ε ln10 c q per second, c its molar concentration
    (w 1e-3/M per µg/mL of particles), q the photon flux (E λ/(hc N_A), 5.55 nmol/(cm² s)); the
    singlet oxygen made, P = Φ_Δ ε ln10 c q m = 0.514 µM/s at m = 20 µg/mL, is made from O₂
    at O₂/(K_o + O₂) (`oxygen.ros_half_uM`, README: one O₂ per oxidant), against the well's
    gas exchange k_L (c₀ − O₂). Before the light O₂ stays at c₀; under it the steady state is
    the root of k_L (c₀ − O) = P O/(K_o + O) (`_quadratic_steady_state`), reached to the
    output's rounding after 13 h (fails if: the absorbance lacks ln10, the dye's molar mass
    or loading enters otherwise, or the O₂ factor is left out of the consumption)."""
    import math

    k_l, irradiance, wavelength, dose = 1e-3, 1.0, 664.0, 20.0
    ds = zn_pde.simulate({
        "grid": {"kind": "well_mixed"},
        "time": {"end_h": 14.0, "dt_s": 600.0, "save_every_min": 60.0},
        "geometry": {"kind": "medium"},
        "numerics": {"precision": "float64"},
        "material": {"kind": "ZnO", "dose_ug_per_ml": dose},
        "kinetics": {"dissolution_rate_per_h": 1e-12},
        "oxygen": {"enabled": True, "resupply_per_s": k_l},
        "photosensitiser": {"enabled": True},
        "light": [{"start_h": 1.0, "duration_min": 13 * 60.0, "wavelength_nm": wavelength,
                   "irradiance_mW_per_cm2": irradiance}]}, progress=False)
    config = _resolved(ds)
    ps, ox = config["photosensitiser"], config["oxygen"]
    assert ps["absorption_nm"][1] == 664.0 and ps["molar_absorption_per_M_per_cm"][1] == 4e4
    photons = (irradiance * 1e-3 / (1239.841984 / wavelength * 1.602176634e-19)
               / 6.02214076e23 * 1e9)
    molar = ps["loading_ug_per_ug"] * 1e-3 / ps["molar_mass_g_per_mol"]  # M per µg/mL
    made = ps["singlet_oxygen_quantum_yield"] * 4e4 * math.log(10) * molar * photons * dose
    assert made == pytest.approx(0.514, abs=1e-3)
    steady = _quadratic_steady_state(made, ox["ros_half_uM"], k_l)
    t_h, o2 = ds["time_h"].values, ds["o2"].values
    np.testing.assert_allclose(o2[t_h <= 1.0], O2_MEDIUM_UM, rtol=FLOAT32_OUTPUT)
    np.testing.assert_allclose(o2[-1], steady, rtol=FLOAT32_OUTPUT)
    assert steady < 0.9 * O2_MEDIUM_UM  # a visible draw


# --- equilibrium limits and units --------------------------------------------------------------


def _vial(kind, ph, composition="water", dose=20.0, kinetics=None, end_h=2.0, dt_s=60.0,
          save_every_min=30.0):
    """A cell-free well-mixed vial whose particles dissolve fast (20 /h at pH 7.4, so the limit
    or the end of the dose is reached within the run)."""
    return zn_pde.simulate({
        "grid": {"kind": "well_mixed"},
        "time": {"end_h": end_h, "dt_s": dt_s, "save_every_min": save_every_min},
        "geometry": {"kind": "medium"},
        "numerics": {"precision": "float64"},
        "ph": {"medium": ph},
        "medium": {"composition": composition},
        "material": {"kind": kind, "dose_ug_per_ml": dose},
        "kinetics": {"dissolution_rate_per_h": 20.0, **(kinetics or {})}}, progress=False)


def _phosphate_f3(ph):
    """PO₄³⁻ share of phosphate: 1/(1 + Σ βₙ [H⁺]ⁿ), the cumulative protonation constants at
    25 °C (log β 12.346, 19.553, 21.721; phreeqc.dat) taken to 37 °C by van 't Hoff with
    ΔH = −3.53, −4.52 kcal/mol and −10.1 kJ/mol. Cross-check: pKa₂ = log β₂ − log β₁ = 7.18
    at 37 °C, the textbook value of the phosphate buffer at body temperature."""
    gas, t25, t37 = 8.314462618e-3, 298.15, 310.15
    logs = [b - dh / (gas * np.log(10)) * (1 / t37 - 1 / t25)
            for b, dh in zip((12.346, 19.553, 21.721), (-3.53 * 4.184, -4.52 * 4.184, -10.1),
                             strict=True)]
    assert abs(logs[1] - logs[0] - 7.18) < 0.01
    h = 10.0 ** -ph
    return 1 / (1 + sum(10.0**b * h ** (i + 1) for i, b in enumerate(logs)))


ZN_PER_UG = {m: 1000.0 / get_material(m).molar_mass_g_per_mol
             for m in ("ZnO", "ZnO2", "ZnS", "ZIF-8")}


def _ion_product_limit(kind, ph, alpha=1.0):
    """α K [H⁺]² in µM (no co-product: the Zn²⁺ limit) or µM² (with one: of Zn²⁺ times its
    neutral co-product), K the documented `solubility_log10_K` (docs/config.md)."""
    log_k = get_material(kind).defaults()["solubility_log10_K"]
    return alpha * 10.0 ** (log_k - 2 * ph + (12.0 if kind in ("ZnO2", "ZnS") else 6.0))


@pytest.mark.parametrize("case", ["zno_water", "zno_culture", "zno_acid", "zno2", "zns",
                                  "phosphate_6.8", "phosphate_7.4", "zif8_cargo"])
def test_dissolution_stops_at_the_documented_equilibrium_limits(case):
    """20 µg/mL in a cell-free vial, dissolved to equilibrium. From docs/config.md:

    * ZnO: Zn²⁺ ≤ α K [H⁺]², log K = 10.5927: 62.04 µM at pH 7.4 in water (α = 1); in the
      culture medium α = 2.4655, 152.95 µM (docs: '~10 ug/mL = 153 uM': 10/65.38 mM); at
      pH 6.5 the limit (3.9 mM) is beyond the dose, which dissolves whole:
      20 x 1000/81.379 = 245.77 µM (the molar mass of docs/config.md), np → 0.
    * ZnO₂ (+ 2H⁺ → Zn²⁺ + H₂O₂, ν = 1, its H₂O₂ kept: `h2o2_decay_per_s = 0`):
      zn · h2o2 = K [H⁺]², log K = 6.49273, and zn = h2o2 = 10^{(6.49273 − 14.8 + 12)/2}
      = 70.20 µM at pH 7.4.
    * ZnS (H₂S kept: `h2s_oxidation_per_s = 0`): zn · h2s / (1 + 10^{pH − pKa}) = K [H⁺]²,
      log K = −2.1, pKa 6.848, the neutral share entering: at pH 5.5 zn = h2s = 0.288 µM.
    * phosphate_saline: dissolved zinc ≤ zn_P(pH) = zn_P(6.8) (f₃(6.8)/f₃(pH))^{2/3}
      (`_phosphate_f3`), zn_P(6.8) = 5.81 µM (0.38 mg/L of Zn); ZnO's own limit is far above,
      so the dose dissolves whole and the rest is `zn_phosphate`: 5.81 µM dissolved at 6.8,
      1.40 µM at 7.4 (the figure of configs/zno_release_vial.toml).
    * ZIF-8 at pH 5.0 (no equilibrium limit): Zn²⁺ = dose (1 − f) 1000/227.576 and
      cargo = f dose, f = 0.05838 the cargo mass fraction (the cargo carries no zinc).

    The limit is applied as a cap on what dissolves (`(1 − Ω)₊` and the headroom), so the
    equilibrium is met to the output's rounding, and the zinc is conserved."""
    dose = 20.0
    if case.startswith("zno_"):
        comp, ph = {"zno_water": ("water", 7.4), "zno_culture": ("culture", 7.4),
                    "zno_acid": ("water", 6.5)}[case]
        ds = _vial("ZnO", ph, comp)
        alpha = _resolved(ds)["medium"]["zn_complexation_factor"]
        assert alpha == (1.0 if comp == "water" else pytest.approx(2.4655, abs=1e-4))
        total = dose * ZN_PER_UG["ZnO"]
        zn = min(_ion_product_limit("ZnO", ph, alpha), total)
        # fails if: the limit is K [H+] or K [H+]^2 in M, ignores α, or the molar mass is off
        np.testing.assert_allclose(ds["zn"].values[-1], zn, rtol=FLOAT32_OUTPUT)
        np.testing.assert_allclose(ds["np"].values[-1], (total - zn) / ZN_PER_UG["ZnO"],
                                   rtol=FLOAT32_OUTPUT, atol=1e-9)
        expected = {"zno_water": 62.04, "zno_culture": 152.95, "zno_acid": 245.77}[case]
        assert ds["zn"].values[-1] == pytest.approx(expected, abs=0.01)
    elif case in ("zno2", "zns"):
        kind, ph, cop, key = {"zno2": ("ZnO2", 7.4, "h2o2", "h2o2_decay_per_s"),
                              "zns": ("ZnS", 5.5, "h2s", "h2s_oxidation_per_s")}[case]
        ds = _vial(kind, ph, kinetics={key: 0.0})
        k = _resolved(ds)["kinetics"]
        neutral = 1 / (1 + 10 ** (ph - k["coproduct_pKa"]))
        zn = np.sqrt(_ion_product_limit(kind, ph) / neutral)
        # fails if: the co-product is left out of the ion product, or its total (not its
        # neutral share) enters it (ZnS at pH 5.5: 2 % off)
        np.testing.assert_allclose(ds["zn"].values[-1], zn, rtol=FLOAT32_OUTPUT)
        np.testing.assert_allclose(ds[cop].values[-1], zn, rtol=FLOAT32_OUTPUT)
        np.testing.assert_allclose(ds["np"].values[-1], dose - zn / ZN_PER_UG[kind],
                                   rtol=FLOAT32_OUTPUT)
        assert ds["zn"].values[-1] == pytest.approx({"zno2": 70.20, "zns": 0.288}[case],
                                                    abs=0.005)
    elif case.startswith("phosphate"):
        ph = float(case.split("_")[1])
        ds = _vial("ZnO", ph, "phosphate_saline", end_h=3.0)
        limit_68 = _resolved(ds)["medium"]["zinc_phosphate_limit_uM"]
        assert limit_68 == pytest.approx(0.38 / 65.38 * 1e3)
        zn = limit_68 * (_phosphate_f3(6.8) / _phosphate_f3(ph)) ** (2 / 3)
        total = dose * ZN_PER_UG["ZnO"]
        # fails if: the pH law's exponent is not 2/3 (hopeite Zn3(PO4)2: [Zn]^3 [PO4]^2), or
        # the precipitate holds back the particle's dissolution
        np.testing.assert_allclose(ds["zn"].values[-1], zn, rtol=1e-5)
        np.testing.assert_allclose(ds["zn_phosphate"].values[-1], total - zn, rtol=1e-5)
        assert ds["np"].values[-1] < 1e-6
        assert ds["zn"].values[-1] == pytest.approx({6.8: 5.81, 7.4: 1.40}[ph], abs=0.005)
    else:
        ds = _vial("ZIF-8", 5.0, kinetics={"dissolution_switch_rate_per_h": 20.0},
                   end_h=3.0)
        f = _resolved(ds)["kinetics"]["cargo_mass_fraction"]
        assert f == pytest.approx(0.0583804, rel=1e-5)
        # fails if: the cargo's mass is counted as zinc, or the wrong molar mass is used
        np.testing.assert_allclose(ds["zn"].values[-1], dose * (1 - f) * ZN_PER_UG["ZIF-8"],
                                   rtol=1e-5)
        np.testing.assert_allclose(ds["cargo"].values[-1], dose * f, rtol=1e-5)
        assert ds["zn"].values[-1] == pytest.approx(82.75, abs=0.01)


@pytest.mark.parametrize(("comp", "documented"), [("culture", 9.26), ("water", 8.30)])
def test_the_documented_release_at_ph_7_4_is_the_closed_form_of_saturating_dissolution(
        comp, documented):
    """docs/config.md (`dissolution_rate_per_h`): with the limit, 20 µg/mL of ZnO dissolves
    9.26 % in 120 h in the default culture medium and 8.30 % in water at pH 7.4. In a vial the
    dissolved zinc u obeys du/dt = k (a − u)(1 − u/z_s), a = 20 c_Zn = 245.77 µM the whole
    dose, z_s = α K [H⁺]² the limit, k = 8.78e-4 /h. Separating,
        k t = z_s/(a − z_s) · [ln((a − u)/(z_s − u)) − ln(a/z_s)],
    solved for u at t = 120 h: 9.261 % (culture) and 8.300 % (water). The step freezes
    (1 − Ω) at its start, so each step dissolves a little too much, ½ k² dt² (a − u)² / z_s
    more than the exact one: a first-order error, relative ½ k dt (a/z_s) at most. Allowed
    k dt a/z_s (2.8e-3 in culture, 7e-3 in water at dt = 2 h), and it halves with dt
    (measured: 2.4e-3 of the percentage in culture at dt = 4 h, 3e-4 at 30 min)."""
    total = 20.0 * ZN_PER_UG["ZnO"]
    rate = get_material("ZnO").defaults()["dissolution_rate_per_h"]  # the documented one
    k = rate * 120.0
    errors = []
    for dt_h in (2.0, 1.0):
        ds = _vial("ZnO", 7.4, comp, kinetics={"dissolution_rate_per_h": rate},
                   end_h=120.0, dt_s=dt_h * 3600, save_every_min=dt_h * 60)
        alpha = _resolved(ds)["medium"]["zn_complexation_factor"]
        sat = _ion_product_limit("ZnO", 7.4, alpha)
        u = brentq(lambda x, s=sat: s / (total - s) * (np.log((total - x) / (s - x))
                                                      - np.log(total / s)) - k,
                   0.0, min(total, sat) * (1 - 1e-12), xtol=1e-12)
        exact = 100 * u / total
        assert round(exact, 2) == documented
        model = 100 * (1 - ds["np"].values[-1] / 20.0)
        # fails if: the saturation slows dissolution otherwise (e.g. not at all: 10 %)
        allowed = rate * dt_h * total / sat * exact
        assert abs(model - exact) < allowed, (comp, dt_h, model, exact)
        errors.append(abs(model - exact))
    assert 1.6 < errors[0] / errors[1] < 2.4  # first order in dt


# --- the stimuli's depth laws ------------------------------------------------------------------


def test_light_and_ultrasound_fall_with_depth_by_their_documented_laws():
    """A cell-free column (cartesian 1 x 1 x 60 cells of 10 µm, zero-flux walls, 20 µg/mL
    ZnO that neither dissolves nor moves, diffusible ROS that neither move nor decay to speak
    of: `ros_diffusivity_medium_um2_per_s = 0`, `ros_decay_per_s = 1e-9`), first under
    ultrasound (10 W/cm² at 2 MHz, medium attenuation a = 100 dB/(cm MHz), frequency exponent
    x = 0.5), then under 365 nm light (30 mW/cm², medium attenuation μ = 40 /cm). At the cell
    centre at depth z (README, docs/config.md, the modules' laws):

        I(z) = I₀ 10^{−a f z / 10},  A = ((√min(I/f^x, I_sat) − √I_c)₊ / (1 − √I_c))^{1/2},
        E(z) = E₀ exp(−(μ + κ m) z),  P_light = Φ' κ q(E) m,  P_us = Y'_us A m,

    κ the particles' mass absorption and m = 20 µg/mL their mass (they shade the light
    too). With no decay, ros = P_us T after the ultrasound and ros + P_light T after the
    light (T = 6 min each), to the output's rounding. I/f^x is saturated down to 143 µm and
    falls below the threshold I_c = 0.813 W/cm² at 470 µm (√2 x 0.813 x 10^{20 z}, z in cm),
    so the ultrasound's ROS end there (fails if: the attenuation omits f, the threshold is
    not scaled by f^x, or the law is linear in I); the light's fall is one exponential
    (fails if: the particles' shading or the medium's μ is left out, or the depth is taken
    at the cell's far face)."""
    n, h, dose = 60, 10.0, 20.0
    intensity, freq, exponent, a_us = 10.0, 2.0, 0.5, 100.0
    irradiance, wavelength, mu = 30.0, 365.0, 40.0
    exposure_s = 360.0
    ds = zn_pde.simulate({
        "grid": {"kind": "cartesian", "shape": [1, 1, n], "spacing_um": h},
        "time": {"end_h": 0.7, "dt_s": 300.0, "save_every_min": 60.0},
        "geometry": {"kind": "medium"},
        "boundary": {"kind": "neumann"},
        "numerics": {"precision": "float64"},
        "material": {"kind": "ZnO", "dose_ug_per_ml": dose},
        "tissue": {"medium_ultrasound_attenuation_dB_per_cm_MHz": a_us,
                   "ultrasound_cavitation_frequency_exponent": exponent,
                   "medium_light_attenuation_per_cm": mu},
        "kinetics": {"dissolution_rate_per_h": 1e-12, "ros_decay_per_s": 1e-9,
                     "ros_diffusivity_medium_um2_per_s": 0.0,
                     "np_diffusivity_medium_um2_per_s": 0.0},
        "ultrasound": [{"start_h": 0.1, "duration_min": exposure_s / 60,
                        "intensity_W_per_cm2": intensity, "frequency_MHz": freq}],
        "light": [{"start_h": 0.5, "duration_min": exposure_s / 60,
                   "wavelength_nm": wavelength, "irradiance_mW_per_cm2": irradiance}]},
        progress=False)
    p = get_material("ZnO").defaults()
    tissue = _resolved(ds)["tissue"]
    z_cm = ds["z"].values * 1e-4
    assert ds["z"].values[0] == pytest.approx(h / 2)

    def activity(i):
        i = np.minimum(i, tissue["ultrasound_cavitation_saturation_W_per_cm2"])
        root_c = np.sqrt(tissue["ultrasound_cavitation_threshold_W_per_cm2"])
        return np.sqrt(np.maximum(np.sqrt(i) - root_c, 0.0) / (1 - root_c))

    local = intensity * 10 ** (-a_us * freq * z_cm / 10) / freq**exponent
    p_us = p["sono_ros_yield_uM_per_s_per_ug_per_ml"] * activity(local) * dose
    photons = (irradiance * 1e-3 / (1239.841984 / wavelength * 1.602176634e-19)
               / 6.02214076e23 * 1e9)  # nmol/(cm² s), CODATA 2018 exact constants
    kappa = p["light_absorption_cm2_per_ug"]
    p_light = (p["photo_ros_quantum_yield"] * kappa * photons
               * np.exp(-(mu + kappa * dose) * z_cm) * dose)
    t = ds["time"].values
    ros = ds["ros"].values[:, :, 0, 0]
    after_us = int(np.argmin(np.abs(t - (360.0 + exposure_s))))
    after_light = int(np.argmin(np.abs(t - (1800.0 + exposure_s))))
    assert t[after_us] == pytest.approx(720.0) and t[after_light] == pytest.approx(2160.0)
    np.testing.assert_allclose(ros[after_us], p_us * exposure_s, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(ros[after_light], (p_us + p_light) * exposure_s, rtol=1e-5,
                               atol=1e-9)
    cut = ds["z"].values[p_us > 0].max()
    assert 460.0 < cut < 475.0 and np.all(ros[after_us][ds["z"].values > cut] == 0.0)
    assert np.sum(local > tissue["ultrasound_cavitation_saturation_W_per_cm2"]) >= 10
