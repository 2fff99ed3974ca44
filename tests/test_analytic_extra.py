"""Closed-form checks through the public contract (`zn_pde.simulate` on config dicts) that the
other numerics tests do not make: the well-mixed compartment's kinetics across a protocol of
doses and a wash-out, the documented pH law of the dissolution rate, and the release of a
tracer from a voxel ball on the 3D grid into a finite, closed well.

Biology is switched off where it would move the reference (the documented keys: no death by
energy failure, no zinc-driven mitochondrial ROS, no Zn²⁺ import or export, and a solubility
constant that keeps the limit out of reach), so what remains is linear and has an exact
solution. Tolerances are stated from the discretisation (see each test); the output is
float32 (public contract), so "exact" means to its rounding, 6e-8 relative, checked at 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import crank_finite_bath, crank_sphere, relaxing_to_windows

import zn_pde
from zn_pde.materials import get_material

pytestmark = pytest.mark.usefixtures("x64_module")

ZNO = get_material("ZnO")
#: relative rounding of the float32 output, with a margin for the float64 state's own
FLOAT32_OUTPUT = 1e-6

#: kinetic keys that leave the particle balance linear: no cell death, no zinc-driven ROS,
#: no Zn²⁺ exchange across the membrane, the solubility limit (10²⁰ [H⁺]² µM) out of reach
LINEAR = {"energy_kill_max_per_h": 0.0, "zn_ros_max_uM_per_s": 0.0, "zn_influx_per_h": 0.0,
          "zn_efflux_per_h": 0.0, "solubility_log10_K": 20.0}


def _rate_per_h(ph: float, p: dict) -> float:
    """The documented law: k(pH) = k₇.₄ 10^{n (7.4 − pH)} + k_sw / (1 + 10^{m (pH − pH½)})."""
    return (p["dissolution_rate_per_h"] * 10 ** (p["dissolution_proton_order"] * (7.4 - ph))
            + p["dissolution_switch_rate_per_h"]
            / (1 + 10 ** (p["dissolution_switch_steepness_per_ph"]
                          * (ph - p["dissolution_switch_ph"]))))


def test_well_mixed_particles_follow_the_two_exponential_solution_across_a_protocol():
    """A well-mixed culture (φ = 0.4, α = 0.6) given 10 µg/mL at t = 0, 5 more at 2.99 h and
    at 7.013 h a wash-out into fresh medium of pH 5.6 followed at once by 4 µg/mL (both off
    the 600 s step grid). Between events, with the fluid dissolution k_f = k(pH) and the
    uptake (φ/α) k_up into cells whose lysosomes (pH 5.5) dissolve at k_L:

        np = n₀ e^{−λt},  λ = k_f + (φ/α) k_up,
        np_int = i₀ e^{−k_L t} + k_up n₀ (e^{−λt} − e^{−k_L t}) / (k_L − λ),
        zn = zn₀ + c k_f n₀ (1 − e^{−λt}) / λ,

    c the µM of zinc per µg/mL of particles, and zn_cell the zinc of what the lysosomes
    dissolved. A dose adds to np, the wash-out zeroes np and zn and sets k_f = k(5.6) (the
    exchange acting before the dose at the same time), the cells keep theirs.

    The fluid's sinks are solved exactly, so np and zn match to the output's rounding at
    every frame, those saved around the events included (the state just before each event
    and one step after). The lysosomes take each step's endocytosed particles as a steady
    inflow; the inflow falls at λ, so np_int lags by λ k_L Δt²/12 relative (second order),
    allowed 1.5 times over; zn_cell carries the same absolute error times c."""
    phi, ph0, ph1, ph_lys, dt = 0.4, 6.0, 5.6, 5.5, 600.0
    d0, t1, d1, t2, d2 = 10.0, 2.99, 5.0, 7.013, 4.0
    ds = zn_pde.simulate({
        "grid": {"kind": "well_mixed"},
        "time": {"end_h": 10.0, "dt_s": dt, "save_every_min": 60.0},
        "geometry": {"kind": "uniform", "cell_volume_fraction": phi},
        "numerics": {"precision": "float64"},
        "ph": {"medium": ph0, "lysosome": ph_lys},
        "material": {"kind": "ZnO", "dose_ug_per_ml": d0},
        "kinetics": LINEAR,
        "dose": [{"time_h": t1, "dose_ug_per_ml": d1}, {"time_h": t2, "dose_ug_per_ml": d2}],
        "medium_exchange": [{"time_h": t2, "ph": ph1}]}, progress=False)
    p = {**ZNO.defaults(), **LINEAR}
    conv = ZNO.zn_uM_per_ug_per_ml
    k_up, k_lys = p["uptake_rate_per_h"], _rate_per_h(ph_lys, p)

    def exact(t):
        n, i, zn, zn_cell, start, k_f = d0, 0.0, 0.0, 0.0, 0.0, _rate_per_h(ph0, p)
        for event in (t1, t2, np.inf):
            lam = k_f + phi / (1 - phi) * k_up
            s = min(t, event) - start
            n_end = n * np.exp(-lam * s)
            i_end = (i * np.exp(-k_lys * s)
                     + k_up * n / (k_lys - lam) * (np.exp(-lam * s) - np.exp(-k_lys * s)))
            zn += conv * k_f * (n - n_end) / lam
            zn_cell += conv * (i + k_up * (n - n_end) / lam - i_end)
            n, i, start = n_end, i_end, min(t, event)
            if t <= event:  # a frame at an event's time holds the state just before it
                return n, i, zn, zn_cell
            if event == t1:
                n += d1
            else:  # the exchange, then the dose at the same time
                n, zn, k_f = d2, 0.0, _rate_per_h(ph1, p)

    t_h = ds["time_h"].values
    for event in (t1, t2):  # the frames around the events are there
        assert np.min(np.abs(t_h - event)) < 1e-9
        assert np.min(np.abs(t_h - event - dt / 3600)) < 1e-9
    n, i, zn, zn_cell = np.array([exact(t) for t in t_h]).T
    assert np.all(ds["viability"].values == 1.0)
    np.testing.assert_allclose(ds["np"].values, n, rtol=FLOAT32_OUTPUT, atol=0)
    np.testing.assert_allclose(ds["zn"].values, zn, rtol=FLOAT32_OUTPUT, atol=0)
    lam_max = max(_rate_per_h(ph, p) for ph in (ph0, ph1)) + phi / (1 - phi) * k_up
    lag = lam_max * k_lys * (dt / 3600) ** 2 / 12
    assert lag > 10 * FLOAT32_OUTPUT  # the check sees the second-order term
    np.testing.assert_allclose(ds["np_int"].values, i, rtol=1.5 * lag + FLOAT32_OUTPUT)
    assert np.max(np.abs(ds["zn_cell"].values - zn_cell)) <= conv * 1.5 * lag * i.max()


def test_dissolution_follows_the_documented_ph_law_in_a_cell_free_vial():
    """One cell-free vial whose medium is exchanged every 2 h for fresh medium of another pH
    (7.4, 6.5, 6.0, 5.2), each time redosed with 5 µg/mL: within each exchange's 2 h the
    particles decay as 5 e^{−k(pH) t}, with k(pH) the documented law (docs/config.md,
    `[kinetics]`): a proton-promoted term of order n = 1.7 and an acid switch of 0.3 /h
    centred at pH 6.0 of steepness 1.5 /pH, both set through `[kinetics]`. The solubility
    limit is out of reach and the decay is solved exactly, so every frame matches to the
    output's rounding, at a step (1 h) that is no fraction of the decay times."""
    kinetics = {"solubility_log10_K": 20.0, "dissolution_proton_order": 1.7,
                "dissolution_switch_rate_per_h": 0.3, "dissolution_switch_ph": 6.0,
                "dissolution_switch_steepness_per_ph": 1.5}
    phs = (7.4, 6.5, 6.0, 5.2)
    ds = zn_pde.simulate({
        "grid": {"kind": "well_mixed"},
        "time": {"end_h": 8.0, "dt_s": 3600.0, "save_every_min": 30.0,
                 "save_around_events": False},
        "geometry": {"kind": "medium"},
        "numerics": {"precision": "float64"},
        "ph": {"medium": phs[0]},
        "material": {"kind": "ZnO", "dose_ug_per_ml": 5.0},
        "kinetics": kinetics,
        "medium_exchange": [{"time_h": 2.0 * i, "ph": ph} for i, ph in enumerate(phs) if i],
        "dose": [{"time_h": 2.0 * i, "dose_ug_per_ml": 5.0} for i in range(1, len(phs))]},
        progress=False)
    p = {**ZNO.defaults(), **kinetics}
    t_h = ds["time_h"].values
    # a frame at an exchange holds the segment before it
    segment = np.clip(np.ceil(t_h / 2.0).astype(int) - 1, 0, len(phs) - 1)
    rate = np.array([_rate_per_h(ph, p) for ph in phs])
    expected = 5.0 * np.exp(-rate[segment] * (t_h - 2.0 * segment))
    np.testing.assert_allclose(ds["np"].values, expected, rtol=FLOAT32_OUTPUT, atol=0)
    assert expected.min() < 0.2 * 5.0  # the acid segment dissolves most of its dose


def test_a_voxel_ball_releases_a_tracer_into_a_closed_well_as_crank_predicts():
    """3D grid (20³ voxels of h = 12.5 µm, zero-flux walls): a ball of a = 100 µm holding a
    passive tracer at 1 µM, D = 10 µm²/s, in tracer-free medium of D = 10⁵ µm²/s (stirred)
    that holds α = 2.7 ball volumes, so the bath fills up (Crank eq. 6.30). At τ = D t/a² =
    0.02, 0.05, 0.1 and 0.2 the released fraction M_t/M_∞ (M_∞ = α/(1 + α) of the ball's
    tracer) lies within Crank's values for spheres of radius a ± h/2: the voxel surface is a
    staircase within half a voxel of the sphere, a first-order error in h, and the time
    error of Δt = 1 s (first order, Δt D/h² = 0.06) is an order below it. The tracer's total
    is conserved to 1e-7 (float32 output)."""
    a, d, h, n = 100.0, 10.0, 12.5, 20
    t_unit = a**2 / d
    ds = zn_pde.simulate({
        "grid": {"kind": "cartesian", "shape": [n, n, n], "spacing_um": h},
        "time": {"end_h": 0.2 * t_unit / 3600, "dt_s": 1.0, "save_every_min": 0.01 * t_unit / 60,
                 "save_around_events": False},
        "geometry": {"kind": "spheroid", "radius_um": a, "center_um": [n * h / 2] * 3},
        "boundary": {"kind": "neumann"},
        "numerics": {"precision": "float64"},
        "species": [{"name": "tracer", "diffusivity_um2_per_s": {"tissue": d, "medium": 1e5},
                     "initial_uM": {"tissue": 1.0, "medium": 0.0}}]}, progress=False)
    ball = ds["tissue_mask"].values.astype(bool)
    c = ds["tracer"].values.astype(float)
    total = c.sum(axis=(1, 2, 3))
    assert np.max(np.abs(total / total[0] - 1)) < 1e-7
    alpha = (~ball).sum() / ball.sum()
    held = c[:, ball].sum(axis=1)
    released = (held[0] - held) / (held[0] * alpha / (1 + alpha))
    t = ds["time"].values
    for tau in (0.02, 0.05, 0.1, 0.2):
        i = int(np.argmin(np.abs(t - tau * t_unit)))
        bounds = [crank_finite_bath(d * t[i] / r**2, alpha) for r in (a + h / 2, a - h / 2)]
        assert bounds[0] <= released[i] <= bounds[1], (tau, released[i], bounds)


def test_a_vial_s_diffusible_ros_follow_the_stimuli_laws_in_closed_form():
    """A cell-free vial of 10 µg/mL ZnO (its dissolution made negligible, so the particles
    stay put) under pulsed ultrasound (2.5 W/cm² at 2 MHz, duty 0.5, 3 min from 0.2 h) and
    then UV-A (20 mW/cm², 365 nm, 7 min from 1 h), both off the 600 s step grid. The
    diffusible ROS obey ∂ros/∂t = P(t) np − k_dec ros with, from docs/config.md and the
    README, P = Y'_us · duty · A(I/f^x) under ultrasound (A the cavitation law: threshold
    and saturation at 1 MHz, scaled by f^x) and P = Φ' κ q under light (q = E λ/(hc N_A) the
    photon flux, κ the mass absorption): piecewise ros = P np (1 − e^{−k t})/k, then
    e^{−k t} decay. The solver lands on the exposures' ends and solves the linear balance
    exactly, so every frame matches to the output's rounding."""
    import tomllib

    intensity, frequency, duty = 2.5, 2.0, 0.5
    irradiance, wavelength = 20.0, 365.0
    dose = 10.0
    windows = ((0.2 * 3600.0, 3 * 60.0), (3600.0, 7 * 60.0))
    ds = zn_pde.simulate({
        "grid": {"kind": "well_mixed"},
        "time": {"end_h": 2.0, "dt_s": 600.0, "save_every_min": 30.0},
        "geometry": {"kind": "medium"},
        "numerics": {"precision": "float64"},
        "material": {"kind": "ZnO", "dose_ug_per_ml": dose},
        "kinetics": {"dissolution_rate_per_h": 1e-12},
        "ultrasound": [{"start_h": windows[0][0] / 3600, "duration_min": windows[0][1] / 60,
                        "intensity_W_per_cm2": intensity, "frequency_MHz": frequency,
                        "duty_cycle": duty}],
        "light": [{"start_h": windows[1][0] / 3600, "duration_min": windows[1][1] / 60,
                   "wavelength_nm": wavelength, "irradiance_mW_per_cm2": irradiance}]},
        progress=False)
    p = ZNO.defaults()
    tissue = tomllib.loads(ds.attrs["config"])["tissue"]
    scale = frequency ** tissue["ultrasound_cavitation_frequency_exponent"]
    root_c = np.sqrt(tissue["ultrasound_cavitation_threshold_W_per_cm2"])
    peak = min(intensity / scale, tissue["ultrasound_cavitation_saturation_W_per_cm2"])
    activity = np.sqrt(max(np.sqrt(peak) - root_c, 0.0) / (1 - root_c))
    # photon flux, nmol/(cm² s): E / (hc/λ) / N_A (CODATA 2018 exact constants)
    photons = irradiance * 1e-3 / (1239.841984 / wavelength * 1.602176634e-19) / 6.02214076e23
    production = (p["sono_ros_yield_uM_per_s_per_ug_per_ml"] * duty * activity,
                  p["photo_ros_quantum_yield"] * p["light_absorption_cm2_per_ug"] * photons * 1e9)
    k = p["ros_decay_per_s"]

    made = [(start, length, rate * dose)
            for (start, length), rate in zip(windows, production, strict=True)]
    expected = np.array([relaxing_to_windows(t, made, k) for t in ds["time"].values])
    assert activity > 1.0 and expected.max() > 10.0  # above the threshold, a visible signal
    np.testing.assert_allclose(ds["ros"].values, expected, rtol=FLOAT32_OUTPUT, atol=1e-12)


@pytest.mark.parametrize("second_dose", [0.05, 0.15])
@pytest.mark.parametrize("bulk", ["reacting", "fixed"])
def test_a_dose_and_a_wash_out_reach_a_radial_spheroid_by_superposition(bulk, second_dose):
    """Particles as a tracer (no uptake, surface uptake or dissolution to speak of) in a
    porous ball (a = 100 µm, α = 0.2, D* = 10 µm²/s) on a radial grid whose Dirichlet wall
    holds the bulk medium (`bulk_medium` reacting or fixed) and whose medium mixes within a
    second (D = 10⁵ µm²/s): 2 µg/mL at t = 0, 3 more at 50 s, fresh medium at 150 s. The
    transport is linear, so the ball's mean fluid concentration is the superposition of
    Crank's sphere uptake F (eq. 6.20) started by each event,
    2 F(t) + 3 F(t − 50 s) − 5 F(t − 150 s), the wash-out a negative step. Or the 3 µg/mL
    at the wash-out's own time, which acts after it (wash, then re-dose: README
    'Protocols'), 2 F(t) + (3 − 2) F(t − 150 s) (a fixed bulk whose wall counted only the
    doses after the exchange's step would give 2 F(t) − 2 F(t − 150 s)). Allowed at each
    frame: what the exact curve moves over one step Δt (backward Euler's first-order lag)
    plus (h/a)² of the dose (the grid's second-order error in space), h = 5 µm, Δt = 0.5 s."""
    a, d_star, alpha, d_medium, h, dt = 100.0, 10.0, 0.2, 1e5, 5.0, 0.5
    t_unit = a**2 / d_star
    doses = ((0.0, 2.0), (second_dose * t_unit, 3.0))
    wash = 0.15 * t_unit
    ds = zn_pde.simulate({
        "grid": {"kind": "radial", "shape": [28], "spacing_um": h},
        "time": {"end_h": 0.3 * t_unit / 3600, "dt_s": dt,
                 "save_every_min": 0.025 * t_unit / 60, "save_around_events": False},
        "geometry": {"kind": "spheroid", "radius_um": a, "cell_volume_fraction": 1 - alpha},
        "boundary": {"kind": "dirichlet", "bulk_medium": bulk},
        "numerics": {"precision": "float64"},
        "material": {"kind": "ZnO", "dose_ug_per_ml": doses[0][1]},
        "tissue": {"surface_uptake_share": 0.0},
        "kinetics": {"uptake_rate_per_h": 0.0, "dissolution_rate_per_h": 1e-12,
                     "np_diffusivity_medium_um2_per_s": d_medium,
                     "np_tissue_diffusivity_fraction": d_star / d_medium},
        "dose": [{"time_h": doses[1][0] / 3600, "dose_ug_per_ml": doses[1][1]}],
        "medium_exchange": [{"time_h": wash / 3600}]}, progress=False)
    ball = ds["tissue_mask"].values.astype(bool)
    volume = 4 / 3 * np.pi * np.diff((np.arange(29) * h) ** 3)
    mean = ds["np"].values[:, ball] @ volume[ball] / volume[ball].sum()
    total = sum(amount for _, amount in doses)
    washed = sum(amount for at, amount in doses if at < wash)  # the medium held these

    def exact(t):
        t = np.asarray(t, float)
        return (sum(amount * crank_sphere(d_star * (t - at) / a**2) for at, amount in doses)
                - washed * crank_sphere(d_star * (t - wash) / a**2))

    t = ds["time"].values
    allowed = np.abs(exact(t) - exact(t - dt)) + (h / a) ** 2 * total
    assert np.all(np.abs(mean - exact(t)) <= allowed), (mean - exact(t)) / allowed
    if washed == total:
        assert mean[-1] < 0.5 * mean.max()  # the wash-out drew the ball's particles back out
