"""A second, independent implementation of the well-mixed kinetics, written from the README
("What the model computes", the parameter table) and the resolved config, not from
zn_pde/_kinetics.py: a NumPy right-hand side integrated by SciPy's Radau at rtol 1e-9.

zn-pde's well-mixed 2D culture (`grid.kind = "well_mixed"`, `geometry.kind = "uniform"`,
the default culture medium, no stimuli, no oxygen, fixed pH) must converge to it at first
order in dt (operator splitting and exact/implicit sub-steps), for ZnO, ZnO2 (H2O2,
glutathione and its reductase, the metallothionein-redox loop) and ZnS (sulfide, the energy
law's complex IV factor, the lysosomal saturation). Writing it found three README gaps,
since fixed there: Omega_lys = 0 for ZnO, the fluid's limit alpha_m K [H+]^2 with the
medium's complexation factor, and sulfide inhibiting as total sulfide (the `h2s` species).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import series
from scipy.integrate import solve_ivp

from zn_pde import load_config

pytestmark = pytest.mark.usefixtures("x64_module")

CONFIG = "configs/zno_culture_well_mixed.toml"
MOLAR_MASS = {"ZnO": 65.38 + 15.999, "ZnO2": 65.38 + 2 * 15.999,  # g/mol, IUPAC
              "ZnS": 65.38 + 32.06}
STATE = ("np", "np_int", "zn", "zn_cell", "gsh", "hazard", "np_dead", "zn_dead", "coproduct")


def _hill(x, half, n):
    x = max(x, 0.0)
    return x**n / (half**n + x**n)


def rhs(_t, y, c):
    """d/dt of STATE (units per second). c: the resolved config."""
    k, kind = c["kinetics"], c["material"]["kind"]
    np_, np_int, zn, zn_cell, gsh, hazard, _, _, cp = y
    # np, np_int, np_dead: ug/mL; zn, zn_cell, zn_dead, gsh, cp (H2O2 or total sulfide): uM
    # np, zn, cp per fluid volume; np_int, zn_cell, gsh per living-cell volume;
    # np_dead, zn_dead per volume of all cells; hazard dimensionless, viability e^-hazard
    alive = np.exp(-hazard)
    phi = c["geometry"]["cell_volume_fraction"]
    per_fluid = phi / (1.0 - phi)                      # cell volume per fluid volume
    ph, ph_lys = c["ph"]["medium"], c["ph"]["lysosome"]
    uM = 1000.0 / MOLAR_MASS[kind]                     # uM of Zn per ug/mL of particle
    K = 10.0 ** k["solubility_log10_K"]                # [Zn2+](c n) / [H+]^2, M or M^2
    nu_cp = k["coproduct_per_zn"]
    neutral = 1.0 / (1.0 + 10.0 ** (ph - k["coproduct_pKa"]))  # H2S share of total sulfide

    def rate(p):                                       # k(pH) = k7.4 10^{n(7.4 - pH)}, 1/s
        return (k["dissolution_rate_per_h"] / 3600
                * 10.0 ** (k["dissolution_proton_order"] * (7.4 - p)))

    # metallothionein: f + B f / (Kd + f) = zn_cell, B = B0 (1 - c + c GSH/GSH0)
    g0 = k["gsh_initial_uM"]
    cmt = k["mt_redox_coupling"]
    B = k["mt_capacity_uM"] * (1.0 - cmt + cmt * gsh / g0)
    b = k["mt_kd_uM"] + B - zn_cell
    free = 0.5 * (-b + np.sqrt(b * b + 4.0 * zn_cell * k["mt_kd_uM"]))   # uM
    # sulfide inhibits catalase and complex IV as total sulfide
    sulfide = cp if kind == "ZnS" else 0.0
    catalase = 1.0 / (1.0 + sulfide / k["h2s_catalase_ki_uM"])
    respiration = 1.0 / (1.0 + sulfide / k["h2s_respiration_ki_uM"])
    # peroxide inside cells (1/s): k_int = a k_cat + k_px g + k_dmg (1 - g) + k_F [Fe]
    g = gsh / (k["gsh_half_uM"] + gsh)
    fenton = k["fenton_rate_per_uM_per_s"] * k["fenton_catalyst_uM"]
    k_int = (catalase * k["catalase_rate_per_s"] + k["peroxidase_rate_per_s"] * g
             + k["peroxide_damage_rate_per_s"] * (1 - g) + fenton)
    k_p = k["h2o2_permeation_per_s"]
    k_cell = k_p * k_int / (k_p + k_int)
    escape = k_p / (k_p + k_int) if kind == "ZnO2" else 1.0   # H2S leaves whole
    # saturation in the fluid: free Zn2+ = zn / alpha_m (the medium's complexation)
    zn_free_M = zn / c["medium"]["zn_complexation_factor"] * 1e-6
    if nu_cp > 0:
        omega = zn_free_M * neutral * cp * 1e-6 / (K * 10.0 ** (-2 * ph))
        omega_lys = free * 1e-6 * escape * neutral * cp * 1e-6 / (K * 10.0 ** (-2 * ph_lys))
    else:
        omega = zn_free_M / (K * 10.0 ** (-2 * ph))
        omega_lys = 0.0                                    # no lysosomal limit for ZnO
    dissolve = rate(ph) * max(1.0 - omega, 0.0) * np_                  # ug/mL/s (fluid)
    uptake = k["uptake_rate_per_h"] / 3600 * np_                       # per living cell
    release = rate(ph_lys) * max(1.0 - omega_lys, 0.0) * np_int * uM   # uM Zn/s, per cell
    influx = k["zn_influx_per_h"] / 3600 * zn                          # uM/s per cell
    efflux = k["zn_efflux_per_h"] / 3600 * free
    # co-product in the fluid and the peroxide J a cell removes (uM/s per cell volume)
    J, dcp = 0.0, 0.0
    if kind == "ZnO2":
        J = k_cell * cp + (1 - escape) * nu_cp * release
        dcp = (nu_cp * uM * dissolve + per_fluid * alive * escape * nu_cp * release
               - (k["h2o2_decay_per_s"] + per_fluid * alive * k_cell) * cp)
    elif kind == "ZnS":
        dcp = (nu_cp * uM * dissolve + per_fluid * alive * nu_cp * release
               - k["h2s_oxidation_per_s"] * cp)
    mito = k["zn_ros_max_uM_per_s"] * _hill(free, k["zn_ros_half_uM"], 2.0)
    peroxidases = k["peroxidase_rate_per_s"] / k_int * J + mito                # F, at g
    damage = (1 - g) * (k["peroxide_damage_rate_per_s"] / k_int * J + mito)     # at 1 - g
    hydroxyl = fenton / k_int * J
    gssg = (g0 - gsh) / 2
    dgsh = (-k["gsh_per_ros"] * peroxidases * g
            + k["gssg_reduction_max_uM_per_s"] * (g0 - gsh) / (k["gssg_reduction_half_uM"] + gssg)
            + k["gsh_resynthesis_per_h"] / 3600 * (g0 - gsh))
    gly = k["glycolysis_atp_fraction"]
    atp = (gly + (1 - gly) * respiration) / (1 + free / k["zn_energy_ki_uM"])
    e_half = k["energy_kill_half_atp"]
    death = (k["energy_kill_max_per_h"] / 3600
             * _hill(1 / atp - 1, 1 / e_half - 1, k["energy_kill_hill"])
             + (damage + hydroxyl) / k["oxidative_lethal_dose_uM"])      # 1/s
    return np.array([
        -dissolve - per_fluid * alive * uptake,
        uptake - release / uM,
        uM * dissolve + per_fluid * alive * (efflux - influx),
        release + influx - efflux,
        dgsh,
        death,
        alive * death * np_int,          # the dying cells keep what they held
        alive * death * zn_cell,
        dcp,
    ])


def reference(c, times):
    y0 = np.zeros(len(STATE))
    y0[0] = c["material"]["dose_ug_per_ml"]
    y0[STATE.index("gsh")] = c["kinetics"]["gsh_initial_uM"]
    sol = solve_ivp(rhs, (0.0, times[-1]), y0, method="Radau", t_eval=times, args=(c,),
                    rtol=1e-9, atol=1e-12)
    assert sol.success, sol.message
    out = dict(zip(STATE, sol.y, strict=True))
    out["viability"] = np.exp(-out["hazard"])
    return out


# (overrides, variables compared): every case runs 24 h at dt = 600 s and 60 s
CASES = {
    "ZnO 30 ug/mL": (["material.dose_ug_per_ml=30"],
                     ("np", "np_int", "zn", "zn_cell", "viability", "np_dead", "zn_dead")),
    # glutathione reductase limited so GSH collapses and the MT-redox loop acts
    "ZnO2 100 ug/mL, pH 6.8": (['material.kind="ZnO2"', "material.dose_ug_per_ml=100",
                                "ph.medium=6.8", "kinetics.gssg_reduction_max_uM_per_s=0.02"],
                               ("np", "np_int", "zn", "zn_cell", "gsh", "viability",
                                "np_dead", "zn_dead", "h2o2")),
    # sulfide kept (slow loss) so it slows respiration and saturates the lysosomes
    "ZnS 100 ug/mL, pH 6.8": (['material.kind="ZnS"', "material.dose_ug_per_ml=100",
                               "ph.medium=6.8", "kinetics.h2s_oxidation_per_s=1e-5"],
                              ("np", "np_int", "zn", "zn_cell", "viability", "np_dead",
                               "zn_dead", "h2s")),
}
DTS = (600.0, 60.0)
TOLERANCE_60S = 1e-2      # max over the saved frames of |zn-pde - reference| / max|reference|
# A variable whose error at 600 s is below 1e-4 (the particles, solved exactly within a
# step) has no clean order; it must stay below 1e-5 at 60 s and not grow.
ORDERED_ABOVE, SMALL = 1e-4, 1e-5


@pytest.mark.parametrize("case", list(CASES))
def test_well_mixed_culture_converges_to_independent_ode(case):
    """Observed (2026-12-05): the largest error at 60 s is 7.6e-3 (ZnO2's zn_cell); orders
    0.96-1.24, and the same again from 60 to 6 s (0.98-1.29)."""
    overrides, names = CASES[case]
    errors = {}
    for dt in DTS:
        c = load_config(CONFIG, ['numerics.precision="float64"', "time.end_h=24",
                                 "time.save_every_min=240", f"time.dt_s={dt}", *overrides])
        times, got = series(c)
        ref = reference(c, np.asarray(times, float))
        for name in names:
            r = ref["coproduct" if name in ("h2o2", "h2s") else name]
            errors.setdefault(name, []).append(
                float(np.max(np.abs(got[name] - r)) / np.max(np.abs(r))))
    for name, (coarse, fine) in errors.items():
        assert fine < TOLERANCE_60S, (case, name, fine)
        if coarse < ORDERED_ABOVE:
            assert fine <= coarse and fine < SMALL, (case, name, coarse, fine)
            continue
        order = np.log(coarse / fine) / np.log(DTS[0] / DTS[1])
        assert 0.85 < order < 1.35, (case, name, coarse, fine, order)


def test_independent_rhs_conserves_zinc():
    """The reference itself: zinc in the fluid, the living and the dead cells and the
    particles (all per well volume) is constant, ZnO2 with its peroxide loop at work."""
    c = load_config(CONFIG, CASES["ZnO2 100 ug/mL, pH 6.8"][0])
    ref = reference(c, np.linspace(0.0, 24 * 3600.0, 7))
    phi = c["geometry"]["cell_volume_fraction"]
    uM = 1000.0 / MOLAR_MASS["ZnO2"]
    living = phi * ref["viability"]
    total = ((1 - phi) * (ref["zn"] + uM * ref["np"])
             + living * (ref["zn_cell"] + uM * ref["np_int"])
             + phi * (ref["zn_dead"] + uM * ref["np_dead"]))
    assert ref["gsh"][-1] < 0.1 * c["kinetics"]["gsh_initial_uM"]   # the loop did act
    np.testing.assert_allclose(total, total[0], rtol=1e-8)
