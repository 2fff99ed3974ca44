"""The biology's laws one at a time, against their closed forms: cavitation activity, where
short-lived ROS land, single-hit oxidative kill, glutathione interception, energy failure."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zn_pde import Environment, Kinetics, Local, local_step
from zn_pde._kinetics import energy_charge
from zn_pde.materials import get_material
from zn_pde.stimuli.ultrasound import cavitation_activity

IC, ISAT = 0.667, 3.0


def _kinetics(material: str = "ZnO", **over) -> Kinetics:
    m = get_material(material)
    return Kinetics.from_config({**m.defaults(), **over}, 4.7, m.zn_uM_per_ug_per_ml,
                                jnp.float64)


def test_cavitation_activity_has_a_threshold_a_unit_point_and_a_ceiling(x64):
    """A(I) = ((√I − √I_c)₊ / (1 − √I_c))^½: zero up to the threshold, 1 at 1 W/cm², rising
    faster from 1 to 2 W/cm² than from 2 to 3, constant beyond the saturation intensity."""
    a = lambda i: float(cavitation_activity(i, IC, ISAT))  # noqa: E731
    assert a(0.0) == a(0.5) == a(IC) == 0.0
    assert a(1.0) == pytest.approx(1.0, rel=1e-12)
    assert a(2.0) - a(1.0) > a(3.0) - a(2.0) > 0
    assert a(5.0) == a(3.0)
    i = np.linspace(0.7, 3.0, 50)
    assert np.all(np.diff(np.asarray(cavitation_activity(i, IC, ISAT))) > 0)


def test_short_lived_ros_reach_cells_by_membrane_area(x64):
    """The share of radicals made in the fluid that reach a membrane is ℓ·a: tissue channels
    bound it by 2/gap, sparse culture cells by 6φ/(dα) (20 nm, 120 nm gap, 15 µm cells)."""
    k = _kinetics()
    tissue = float(k.membrane_reach_fraction(0.8, 0.2))
    assert tissue == pytest.approx(0.020 * min(2 / 0.120, 6 * 0.8 / (15.0 * 0.2)), rel=1e-9)
    loose = float(k.membrane_reach_fraction(0.05, 0.95))
    assert loose == pytest.approx(0.020 * 6 * 0.05 / (15.0 * 0.95), rel=1e-9)
    assert float(k.membrane_reach_fraction(0.0, 1.0)) == 0.0


@pytest.mark.parametrize("dt_s", [1.0, 60.0, 600.0])
def test_radicals_at_internalised_particles_kill_by_single_hit(x64, dt_s):
    """Particles held in cells (no uptake, no dissolution) under constant ultrasound: the
    radical dose grows as Y·A·np_int·t and survival is exp(−dose/D₀), exactly, at any step."""
    k = _kinetics(uptake_rate_per_h=0.0, dissolution_rate_per_h=0.0, energy_kill_max_per_h=0.0,
                  zn_ros_max_uM_per_s=0.0)
    one = jnp.ones(1)
    s = Local(np=0 * one, zn=0 * one, ros=0 * one, np_int=2.0 * one, zn_cell=0 * one,
              gsh=5000.0 * one, viability=one, radical_dose=0 * one)
    env = Environment(ph=7.4, cell_fraction=0.5, cavitation=1.3, photon_flux_nmol_per_cm2_s=0.0)
    t = 0.0
    # the model's step compiled once, not dispatched op by op (1200 steps at 1 s)
    step = jax.jit(lambda s: local_step(k, s, env, dt_s, 0.5))
    for _ in range(int(1200 / dt_s)):
        s = step(s)
        t += dt_s
    dose = float(k.sono_radical_yield_uM_per_s_per_ug_per_ml) * 1.3 * 2.0 * t
    assert float(s.radical_dose[0]) == pytest.approx(dose, rel=1e-10)
    assert float(s.viability[0]) == pytest.approx(
        np.exp(-dose / float(k.oxidative_lethal_dose_uM)), rel=1e-10)
    assert float(s.gsh[0]) == pytest.approx(5000.0, rel=1e-12)  # radicals bypass glutathione


def test_the_stimulus_dose_counts_every_oxidative_hit_the_stimulus_caused(x64):
    """Particles in a culture's medium under ultrasound, with zinc toxicity switched off: every
    oxidative hit then comes from the stimulus (radicals at the particles near membranes, and
    the diffusible ROS the cells take up that escapes glutathione or makes ·OH), so survival is
    exactly exp(−radical_dose/D₀) at any step, also with the diffusible ROS as the only
    oxidant (no radical yield)."""
    def run(dt_s, **over):
        k = _kinetics(uptake_rate_per_h=0.0, dissolution_rate_per_h=0.0,
                      energy_kill_max_per_h=0.0, zn_ros_max_uM_per_s=0.0, **over)
        one = jnp.ones(1)
        s = Local(np=20.0 * one, zn=0 * one, ros=0 * one, np_int=0 * one, zn_cell=0 * one,
                  gsh=200.0 * one, viability=one, radical_dose=0 * one)
        env = Environment(ph=7.4, cell_fraction=0.002, cavitation=2.0,
                          photon_flux_nmol_per_cm2_s=0.0)
        step = jax.jit(lambda s: local_step(k, s, env, dt_s, 0.998))  # 360 steps at 10 s
        for _ in range(int(3600 / dt_s)):
            s = step(s)
        return k, s

    for dt_s, over in ((10.0, {}), (60.0, {}),
                       (60.0, {"sono_radical_yield_uM_per_s_per_ug_per_ml": 0.0})):
        k, s = run(dt_s, **over)
        dose = float(s.radical_dose[0])
        assert dose > 0.0
        assert float(s.viability[0]) == pytest.approx(
            np.exp(-dose / float(k.oxidative_lethal_dose_uM)), rel=1e-9)
    assert float(s.viability[0]) < 0.999  # the diffusible ROS alone kills measurably


@pytest.mark.parametrize("dt_s", [1.0, 60.0, 600.0])
def test_radicals_made_in_a_tissue_voxel_s_fluid_hit_its_cells_per_cell_volume(x64, dt_s):
    """Particles in the extracellular fluid of tissue (a share α = 0.3 of the voxel, cells
    φ = 0.5), none inside cells, under constant ultrasound: the fluid's particles make
    Y A α np radicals per voxel volume, the share ℓa (`membrane_reach_fraction`) reaches a
    membrane, spread over the cells' φ, so the radical dose grows as Y A ℓa (α/φ) np t and
    survival is exp(−dose/D₀), exactly, at any step (no diffusible ROS: Y' = 0). Without
    the α, the dose was 3.3x too high."""
    k = _kinetics(uptake_rate_per_h=0.0, dissolution_rate_per_h=0.0, energy_kill_max_per_h=0.0,
                  zn_ros_max_uM_per_s=0.0, sono_ros_yield_uM_per_s_per_ug_per_ml=0.0)
    phi, alpha, np0, cavitation = 0.5, 0.3, 2.0, 1.3
    one = jnp.ones(1)
    s = Local(np=np0 * one, zn=0 * one, ros=0 * one, np_int=0 * one, zn_cell=0 * one,
              gsh=5000.0 * one, viability=one, radical_dose=0 * one)
    env = Environment(ph=7.4, cell_fraction=phi, cavitation=cavitation,
                      photon_flux_nmol_per_cm2_s=0.0)
    t = 0.0
    step = jax.jit(lambda s: local_step(k, s, env, dt_s, alpha))  # 1200 steps at 1 s
    for _ in range(int(1200 / dt_s)):
        s = step(s)
        t += dt_s
    reach = float(k.membrane_reach_fraction(phi, alpha))
    dose = (float(k.sono_radical_yield_uM_per_s_per_ug_per_ml) * cavitation * reach
            * alpha / phi * np0 * t)
    assert float(s.radical_dose[0]) == pytest.approx(dose, rel=1e-10)
    assert float(s.viability[0]) == pytest.approx(
        np.exp(-dose / float(k.oxidative_lethal_dose_uM)), rel=1e-10)


def test_glutathione_intercepts_peroxide_until_it_is_depleted(x64):
    """H₂O₂ given to a culture: the peroxidases' share k_px/k_int of what the cells take up
    is intercepted at GSH/(K_g + GSH), ν GSH each, so dG/dF = −ν G/(K_g + G) over the
    cumulative peroxide F: K_g ln(G₀/G) + G₀ − G = ν (k_px/k_int) F (to 2 %, the step
    freezes K_g + G); viability stays up while glutathione lasts and falls once a 100x
    larger bolus has spent it."""
    k = _kinetics("ZnO2", energy_kill_max_per_h=0.0, gsh_resynthesis_per_h=0.0,
                  gssg_reduction_max_uM_per_s=0.0,
                  h2o2_decay_per_s=0.0)
    phi = 0.002

    def run(h2o2_uM: float, minutes: int):
        one = jnp.ones(1)
        s = Local(np=0 * one, zn=0 * one, ros=0 * one, np_int=0 * one, zn_cell=0 * one,
                  gsh=5000.0 * one, viability=one, h2o2=h2o2_uM * one, radical_dose=0 * one)
        env = Environment(ph=7.4, cell_fraction=phi, cavitation=0.0, photon_flux_nmol_per_cm2_s=0.0)
        step = jax.jit(lambda s: local_step(k, s, env, 60.0, 1.0 - phi))
        for _ in range(minutes):
            s = step(s)
        return s

    small = run(10.0, 120)
    # all 10 µM (per medium volume) taken up by then (14 lifetimes): per cell volume
    taken = 10.0 * (1.0 - phi) / phi
    g = float(small.gsh[0])
    lhs = float(k.gsh_half_uM) * np.log(5000.0 / g) + 5000.0 - g
    share = float(k.peroxidase_rate_per_s) / float(
        k.catalase_rate_per_s + k.peroxidase_rate_per_s
        + k.fenton_rate_per_uM_per_s * k.fenton_catalyst_uM)
    assert lhs == pytest.approx(float(k.gsh_per_ros) * share * taken, rel=0.02)
    assert float(small.viability[0]) > 0.98  # ~10 % escapes while GSH ~ 10 K_g
    big = run(1000.0, 120)
    assert float(big.gsh[0]) < 50.0 and float(big.viability[0]) < 0.05


def test_energy_charge_combines_zinc_sulfide_and_oxygen(x64):
    """E = (g + (1 − g) R)/(1 + f/K_Zn), R = 1/(1 + H₂S/K_i) × O₂/(K_m + O₂)."""
    k = _kinetics("ZnS")
    g, kz, ki = (float(k.glycolysis_atp_fraction), float(k.zn_energy_ki_uM),
                 float(k.h2s_respiration_ki_uM))
    assert float(energy_charge(k, jnp.asarray(0.0))) == pytest.approx(1.0)
    assert float(energy_charge(k, jnp.asarray(3.0))) == pytest.approx(1 / (1 + 3.0 / kz))
    e = float(energy_charge(k, jnp.asarray(0.5), jnp.asarray(7.0)))
    assert e == pytest.approx((g + (1 - g) / (1 + 7.0 / ki)) / (1 + 0.5 / kz))


def test_free_zinc_slows_oxygen_uptake_as_it_slows_respiration(x64):
    """O₂ uptake φ V q_max/(K_m + O₂) × 1/(1 + f/K_Zn): the free Zn²⁺ that inhibits the
    respiratory part of the cell's ATP supply (`energy_charge`) inhibits its O₂ consumption
    by the same factor (before 2026-12-02 only H₂S did), exactly."""
    from zn_pde._kinetics import Environment, Local, Oxygen, rates

    k = _kinetics("ZnO")
    ox = Oxygen(*(jnp.asarray(v) for v in (200.0, 50.0, 1.0, 10.0, 1e-3, 0.0)))
    one = jnp.ones(1)

    def uptake(zn_cell: float) -> tuple[float, float]:
        s = Local(np=0 * one, zn=0 * one, ros=0 * one, np_int=0 * one,
                  zn_cell=zn_cell * one, gsh=5000.0 * one, viability=one, o2=100.0 * one)
        env = Environment(ph=7.4, cell_fraction=0.8, cavitation=0.0, photon_flux_nmol_per_cm2_s=0.0)
        r = rates(k, s, env, 60.0, 0.2, oxygen=ox)
        return float(r.o2_uptake[0]), float(k.free_zinc_uM(s.zn_cell, s.gsh)[0])

    base, f0 = uptake(0.0)
    assert f0 == pytest.approx(0.0, abs=1e-9)
    assert base == pytest.approx(0.8 * 50.0 / (1.0 + 100.0), rel=1e-12)
    loaded, f = uptake(60.0)
    assert f > 1.0  # the metallothionein is saturated: micromolar free zinc
    assert loaded == pytest.approx(base / (1.0 + f / float(k.zn_energy_ki_uM)), rel=1e-12)


@pytest.mark.parametrize("o2_uM", [0.0, 8.9, 100.0])
def test_the_sonodynamic_share_made_without_oxygen_is_spared_and_only_it(x64, o2_uM):
    """ROS yield × O₂ factor: f = O₂/(K + O₂) for light, s + (1 − s) f for ultrasound
    (`oxygen.sono_o2_free_share` s), for the short-lived radicals hitting cells and the
    diffusible ROS made in the fluid alike, exactly; s = 0 gives ultrasound light's factor.
    At the instant (Δt = 0): over a step f is taken at the step's mean O₂, which the
    stimuli's own consumption lowers (test_materials: one O₂ per oxidant)."""
    from zn_pde._kinetics import Environment, Local, Oxygen, rates

    k = _kinetics("ZnO")
    half = 10.0
    one = jnp.ones(1)
    s = Local(np=5.0 * one, zn=0 * one, ros=0 * one, np_int=2.0 * one, zn_cell=0 * one,
              gsh=5000.0 * one, viability=one, o2=o2_uM * one)
    f = o2_uM / (half + o2_uM)

    def yields(share: float | None, cavitation: float, light: float) -> tuple[float, float]:
        """(radicals hitting cells, diffusible ROS made); share None: no O2 model."""
        ox = None if share is None else Oxygen(
            *(jnp.asarray(v) for v in (200.0, 50.0, 1.0, half, 1e-3, share)))
        env = Environment(ph=7.4, cell_fraction=0.8, cavitation=cavitation,
                          photon_flux_nmol_per_cm2_s=light)
        r = rates(k, s, env, 0.0, 0.2, oxygen=ox)
        return float(r.local_ros_uM_per_s[0]), float(r.ros_production_uM_per_s[0])

    sono, photo = yields(None, 1.0, 0.0), yields(None, 0.0, 20.0)
    assert sono[0] > 0 and sono[1] > 0 and photo[0] > 0 and photo[1] > 0
    for share in (0.0, 0.4, 1.0):
        factor = share + (1 - share) * f
        assert yields(share, 1.0, 0.0) == pytest.approx(
            (factor * sono[0], factor * sono[1]), rel=1e-12, abs=1e-300)
        assert yields(share, 0.0, 20.0) == pytest.approx(
            (f * photo[0], f * photo[1]), rel=1e-12, abs=1e-300)


def test_glutathione_peroxidase_protects_under_a_load_within_the_nadph_supply():
    """ZnO₂ dissolving in an acidic 2D well (40 µg/mL, pH 6.5, 24 h) feeds the cells a
    peroxide load the glutathione reductase keeps up with (GSH stays above 95 % of rest):
    there more glutathione peroxidase removes more of the cells' H₂O₂ before it damages
    them, so viability rises with `peroxidase_rate_per_s` (0 → 101 → 1000 /s), by at least
    0.02 from none to ten times the default. Without glutathione reductase the peroxidases
    spent glutathione for good and the most peroxidase killed the most."""
    from zn_pde import validation as v

    alive, lowest = [], []
    for k_px in (0.0, 100.7, 1000.0):
        run = v.culture("ZnO2", 40.0, ph=6.5, kinetics={"peroxidase_rate_per_s": k_px})
        alive.append(float(run["viability"][-1]))
        lowest.append(float(run["gsh"].min()))
    assert alive[0] < alive[1] < alive[2] and alive[2] > alive[0] + 0.02
    assert min(lowest) > 0.95 * 5000.0


def test_a_faster_nadph_supply_postpones_the_collapse_that_makes_a_bolus_lethal():
    """An H₂O₂ bolus kills (almost) only through glutathione's collapse, the damage path
    opening as K_g/(K_g + GSH): so a bolus at the model's IC50 (133 µM, 2D culture, 24 h)
    leaves about half the cells alive at the default NADPH supply and clearly more (by at
    least 0.2) at 2.6 times it (the 6.3 µM/s that would bring GSH back from 19 % within
    5 min, the lens cells' recovery on the validation page), while without a bolus the
    supply changes nothing (viability 1 either way)."""
    from zn_pde import validation as v

    default = v.bolus_culture("h2o2", 133.0)
    faster = v.bolus_culture("h2o2", 133.0, nadph_factor=2.6)
    assert 0.4 < default < 0.6
    assert faster > default + 0.2
    assert v.bolus_culture("h2o2", 0.0, nadph_factor=2.6) == pytest.approx(1.0, abs=1e-12)


def test_zno2_peroxide_kills_as_a_bolus_and_is_recycled_when_released_over_days():
    """ZnO₂ and ZnO at equal zinc (20 µg/mL ZnO's worth) in an acidic 2D well (pH 6.5, 6 h):
    released over days (ZnO's PVP-stabilised rate, ZnO₂'s default for want of its own) the
    peroxide trickles in below the NADPH supply's reach — glutathione stays above 99 % of
    rest and ZnO₂ costs at most 0.05 more viability than ZnO; released within hours (uncoated
    ZnO's rate) the same peroxide arrives as a bolus (tens of µM in the medium), glutathione
    collapses below 20 % and ZnO₂ kills nearly every cell (viability < 0.1) while ZnO leaves
    most alive (> 0.6). The chemodynamic effect is the release rate's, not the dose's."""
    from zn_pde import validation as v

    dose2 = 20.0 * v.ZNO2_PER_ZNO_MASS
    for kinetics, substeps, bolus in ((None, 1, False), (v.UNCOATED_ZNO, 16, True)):
        zno = v.culture("ZnO", 20.0, end_h=6.0, ph=6.5, kinetics=kinetics, substeps=substeps)
        zno2 = v.culture("ZnO2", dose2, end_h=6.0, ph=6.5, kinetics=kinetics,
                         substeps=substeps)
        if bolus:
            assert zno2["h2o2"].max() > 10.0
            assert zno2["gsh"].min() < 0.2 * 5000.0
            assert zno2["viability"][-1] < 0.1 and zno["viability"][-1] > 0.6
        else:
            assert zno2["h2o2"].max() < 1.0
            assert zno2["gsh"].min() > 0.99 * 5000.0
            assert zno2["viability"][-1] > zno["viability"][-1] - 0.05
