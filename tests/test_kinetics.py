"""Local kinetics: exactness for stiff decay, positivity, zinc conservation, analytic ODEs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import WELL_MIXED_CULTURE, config, series

from zn_pde import Environment, Kinetics, Local, local_step, total_zinc_uM
from zn_pde.materials import get_material
from zn_pde.materials.media import COMPOSITIONS, phosphate_limit_ratio

ZNO = get_material("ZnO")


def _kinetics(material: str = "ZnO", composition: str = "culture", **over) -> Kinetics:
    m = get_material(material)
    k = {**m.defaults(), **over}
    alpha, limit = COMPOSITIONS[composition]
    return Kinetics.from_config(k, 4.7, m.zn_uM_per_ug_per_ml, jnp.float64,
                                medium={"zn_complexation_factor": alpha,
                                        "zinc_phosphate_limit_uM": limit})


def _k_int(k: Kinetics, catalase_activity: float = 1.0) -> float:
    """Removal of H₂O₂ inside a cell, a k_cat + k_px + k_F [Fe] (1/s), from the fields."""
    return (catalase_activity * float(k.catalase_rate_per_s) + float(k.peroxidase_rate_per_s)
            + float(k.fenton_rate_per_uM_per_s) * float(k.fenton_catalyst_uM))


def _k_cell(k: Kinetics, catalase_activity: float = 1.0) -> float:
    """Whole-cell uptake of the fluid's H₂O₂, the membrane in series with the removal inside:
    k_p k_int / (k_p + k_int) (1/s per cell volume)."""
    k_p, k_int = float(k.h2o2_permeation_per_s), _k_int(k, catalase_activity)
    return k_p * k_int / (k_p + k_int)


def _random_state(rng, n, optional=()):
    u = lambda lo, hi: jnp.asarray(10 ** rng.uniform(lo, hi, n))  # noqa: E731
    extra = {name: u(-3, 2) for name in optional}
    return Local(np=u(-3, 2), zn=u(-3, 3), ros=u(-3, 2), np_int=u(-3, 3), zn_cell=u(-3, 3),
                 gsh=u(0, 4), viability=jnp.asarray(rng.uniform(0, 1, n)), np_dead=u(-3, 2),
                 zn_dead=u(-3, 3), **extra)


MATERIAL_SPECIES = {"ZnO": (), "ZnO2": ("h2o2",), "ZIF-8": ("cargo",), "ZnS": ("h2s",)}


def _random_env(rng, n):
    return Environment(ph=jnp.asarray(rng.uniform(4.5, 8.0, n)),
                       cell_fraction=jnp.asarray(np.where(rng.uniform(size=n) < 0.3, 0.0,
                                                          rng.uniform(1e-3, 0.9, n))),
                       cavitation=jnp.asarray(rng.uniform(0, 1.3, n)),
                       photon_flux_nmol_per_cm2_s=jnp.asarray(rng.uniform(0, 150, n)))


def _random_fluid(rng, env):
    """α: 1 where there are no cells, else a random share of what the cells leave."""
    phi = np.asarray(env.cell_fraction)
    return jnp.asarray(np.where(phi > 0, (1 - phi) * rng.uniform(0.05, 1.0, phi.shape), 1.0))


@pytest.mark.parametrize("composition", ["culture", "phosphate_saline"])
@pytest.mark.parametrize("material", list(MATERIAL_SPECIES))
@pytest.mark.parametrize("dt_s", [1.0, 60.0, 3600.0, 1e6])
def test_zinc_is_conserved_and_fields_stay_non_negative(x64, dt_s, material, composition):
    """Every exchange moves zinc between pools; Σ Zn per voxel changes by < 1e-12 relative,
    for any step, including rate × step ≫ 1 and saturated solutions, for every material, in
    a culture medium and in a phosphate saline (zinc phosphate precipitating, redissolving,
    endocytosed)."""
    rng = np.random.default_rng(0)
    k = _kinetics(material, composition)
    phosphate = ("zn_phosphate",) if composition == "phosphate_saline" else ()
    s = _random_state(rng, 2000, MATERIAL_SPECIES[material] + phosphate)
    env = _random_env(rng, 2000)
    alpha = _random_fluid(rng, env)
    new = local_step(k, s, env, dt_s, alpha)
    before = np.asarray(total_zinc_uM(k, s, env.cell_fraction, alpha))
    after = np.asarray(total_zinc_uM(k, new, env.cell_fraction, alpha))
    np.testing.assert_allclose(after, before, rtol=1e-12)
    for name, v in new._asdict().items():
        if v is None:
            continue
        assert np.all(np.asarray(v) >= 0), name
        assert np.all(np.isfinite(np.asarray(v))), name
    assert np.all(np.asarray(new.viability) <= 1.0)


@pytest.mark.parametrize("rate_times_dt", [1e-3, 1.0, 1e3, 1e6])
def test_stiff_ros_decay_is_exact(x64, rate_times_dt):
    """With no production, ros(Δt) = ros(0) e^{−λΔt} exactly (λ = k_dec + (φ/α) k_cell,
    removal by the living cells in each litre of extracellular fluid), however stiff: no
    oscillation, no negative value."""
    k = _kinetics(zn_ros_max_uM_per_s=0.0)
    phi, alpha, gsh = 0.5, 0.3, 2000.0
    lam = float(k.ros_decay_per_s) + phi / alpha * _k_cell(k)
    dt = rate_times_dt / lam
    zeros = jnp.zeros(1)
    s = Local(np=zeros, zn=zeros, ros=jnp.full(1, 7.0), np_int=zeros, zn_cell=zeros,
              gsh=jnp.full(1, gsh), viability=jnp.ones(1))
    env = Environment(ph=7.0, cell_fraction=phi, cavitation=0.0, photon_flux_nmol_per_cm2_s=0.0)
    out = float(local_step(k, s, env, dt, alpha).ros[0])
    assert out == pytest.approx(7.0 * np.exp(-rate_times_dt), rel=1e-12, abs=1e-300)
    assert out >= 0.0


@pytest.mark.parametrize("dt_s", [1.0, 60.0, 3600.0])
def test_diffusible_ros_are_made_in_the_fluid_of_a_tissue_voxel(x64, dt_s):
    """Particles at np µg/mL of the extracellular fluid (a share α of the voxel) under
    cavitation A make the diffusible ROS in that fluid at S = Y' A np per fluid volume (α Y' A
    np per voxel volume), whatever α: from none, ros(Δt) = S (1 − e^{−λΔt})/λ exactly, λ =
    k_dec + (φ/α) k_cell (no O₂ modelled, so all of the yield; particles neither dissolve nor
    enter cells). Per voxel volume instead, S/α, it was 3.3x too high at α = 0.3."""
    k = _kinetics(zn_ros_max_uM_per_s=0.0, uptake_rate_per_h=0.0, dissolution_rate_per_h=0.0)
    phi, alpha, gsh, np0, cavitation = 0.5, 0.3, 2000.0, 10.0, 1.2
    lam = float(k.ros_decay_per_s) + phi / alpha * _k_cell(k)
    source = float(k.sono_ros_yield_uM_per_s_per_ug_per_ml) * cavitation * np0
    zeros = jnp.zeros(1)
    s = Local(np=jnp.full(1, np0), zn=zeros, ros=zeros, np_int=zeros, zn_cell=zeros,
              gsh=jnp.full(1, gsh), viability=jnp.ones(1))
    env = Environment(ph=7.4, cell_fraction=phi, cavitation=cavitation,
                      photon_flux_nmol_per_cm2_s=0.0)
    out = local_step(k, s, env, dt_s, alpha)
    assert float(out.ros[0]) == pytest.approx(source * -np.expm1(-lam * dt_s) / lam, rel=1e-12)
    assert float(out.np[0]) == pytest.approx(np0, rel=1e-15)  # the source stayed constant


@pytest.mark.parametrize("dt_s", [1.0, 60.0, 3600.0])
def test_zinc_import_in_tissue_drains_the_fluid_at_the_cells_volume_per_fluid_volume(x64,
                                                                                      dt_s):
    """Zn²⁺ in the extracellular fluid (a share α = 0.3 of the voxel) taken up by the living
    cells (φ = 0.5) at k_in per cell volume, nothing exported or dissolving and no cell
    dying: the fluid's zinc decays as e^{−(φ/α) k_in t} exactly at any step, and the cells
    hold what left it, α (zn₀ − zn)/φ per cell volume. With φ k_in instead of (φ/α) k_in
    it decayed 3.3x too slowly."""
    k = _kinetics(zn_efflux_per_h=0.0, energy_kill_max_per_h=0.0, zn_ros_max_uM_per_s=0.0)
    phi, alpha, zn0, t_s = 0.5, 0.3, 40.0, 7200.0
    zeros = jnp.zeros(1)
    s = Local(np=zeros, zn=jnp.full(1, zn0), ros=zeros, np_int=zeros, zn_cell=zeros,
              gsh=jnp.full(1, float(k.gsh_initial_uM)), viability=jnp.ones(1))
    env = Environment(ph=7.4, cell_fraction=phi, cavitation=0.0, photon_flux_nmol_per_cm2_s=0.0)
    step = jax.jit(lambda s: local_step(k, s, env, dt_s, alpha))  # 7200 steps at 1 s
    for _ in range(int(t_s / dt_s)):
        s = step(s)
    expected = zn0 * np.exp(-phi / alpha * float(k.zn_influx_per_h) / 3600.0 * t_s)
    assert 0.01 * zn0 < expected < 0.9 * zn0  # a measurable, unfinished import
    assert float(s.zn[0]) == pytest.approx(expected, rel=1e-10)
    assert float(s.zn_cell[0]) == pytest.approx(alpha * (zn0 - expected) / phi, rel=1e-10)


@pytest.mark.parametrize("dt_s", [1.0, 600.0])
def test_zinc_export_in_tissue_fills_the_fluid_at_the_cells_volume_per_fluid_volume(x64, dt_s):
    """Zn²⁺ exported by the living cells (φ = 0.5) of a tissue voxel into its extracellular
    fluid (α = 0.3): per living cell at k_out f, into the fluid at S = (φ/α) V k_out f per
    fluid volume (the `_kinetics` docstring's source, which stated φ V k_out f, the amount
    per voxel volume). Without metallothionein f = zn_cell, and with no import, dissolution
    or death the cells' zinc decays as e^{−k_out t} exactly at any step while the fluid
    gains (φ/α)(T₀ − T): zinc per voxel, α zn + φ T, is conserved."""
    k = _kinetics(mt_capacity_uM=0.0, zn_influx_per_h=0.0, energy_kill_max_per_h=0.0,
                  zn_ros_max_uM_per_s=0.0)
    phi, alpha, t0, t_s = 0.5, 0.3, 40.0, 3600.0
    zeros = jnp.zeros(1)
    s = Local(np=zeros, zn=zeros, ros=zeros, np_int=zeros, zn_cell=jnp.full(1, t0),
              gsh=jnp.full(1, float(k.gsh_initial_uM)), viability=jnp.ones(1))
    env = Environment(ph=7.4, cell_fraction=phi, cavitation=0.0, photon_flux_nmol_per_cm2_s=0.0)
    step = jax.jit(lambda s: local_step(k, s, env, dt_s, alpha))
    for _ in range(int(t_s / dt_s)):
        s = step(s)
    left = t0 * np.exp(-float(k.zn_efflux_per_h) / 3600.0 * t_s)
    assert 0.1 * t0 < left < 0.9 * t0  # a measurable, unfinished export
    assert float(s.zn_cell[0]) == pytest.approx(left, rel=1e-10)
    assert float(s.zn[0]) == pytest.approx(phi / alpha * (t0 - left), rel=1e-10)
    assert float(s.viability[0]) == 1.0


@pytest.mark.parametrize("ph", [6.5, 7.4])
@pytest.mark.parametrize("material", ["ZnO", "ZnS"])
def test_fluid_dissolution_slows_as_the_medium_s_limit_on_free_zinc_nears(x64, material, ph):
    """The particles' dissolution rate in culture medium, k(pH) (1 − Ω)₊ with Ω =
    zn/(α_m K[H⁺]²) (ZnO) or zn n c/(α_m K[H⁺]²) (ZnS, c its total sulfide, n =
    1/(1 + 10^(pH − pKa₁)) the H₂S share), α_m = 2.47 the medium's total per free Zn²⁺: the
    `_kinetics` docstring wrote zn_sat = K[H⁺]² and Ω = zn c/K[H⁺]², without the medium's
    complexation and the sulfide's speciation that the code applies (and the README
    states). Hand calculation from the constants, at a fluid a third of the way to its
    limit; the sulfide is not removed over the step (k_ox = 0), so its step mean is c."""
    from zn_pde._kinetics import rates

    k = _kinetics(material, h2s_oxidation_per_s=0.0)
    alpha_m = COMPOSITIONS["culture"][0]
    assert alpha_m == pytest.approx(2.47, abs=0.01)
    k_ph = (float(k.dissolution_rate_per_h) * 10 ** (float(k.dissolution_proton_order)
                                                      * (7.4 - ph)) / 3600.0)
    limit = alpha_m * 10 ** (float(k.solubility_log10_K) - 2 * ph + 6)  # µM, or µM² / 1e6
    one = jnp.ones(1)
    if material == "ZnS":
        n = 1.0 / (1.0 + 10 ** (ph - float(k.coproduct_pKa)))
        c = 2.0
        zn = limit * 1e6 / (3.0 * n * c)  # Ω = 1/3
        extra = {"h2s": c * one}
    else:
        zn, extra = limit / 3.0, {}
    s = Local(np=one, zn=zn * one, ros=0 * one, np_int=0 * one, zn_cell=0 * one,
              gsh=float(k.gsh_initial_uM) * one, viability=one, **extra)
    env = Environment(ph=ph, cell_fraction=0.0, cavitation=0.0,
                      photon_flux_nmol_per_cm2_s=0.0)
    r = rates(k, s, env, 60.0, 1.0)
    assert float(r.dissolution[0]) == pytest.approx(k_ph * (1.0 - 1.0 / 3.0), rel=1e-12)


def test_free_zinc_solves_the_buffer_equation(x64):
    """f + B f / (K_d + f) = T for T across twelve decades (both root forms)."""
    k = _kinetics()
    total = jnp.asarray(10 ** np.linspace(-6, 6, 200))
    f = k.free_zinc_uM(total)
    resid = f + k.mt_capacity_uM * f / (k.mt_kd_uM + f) - total
    np.testing.assert_allclose(np.asarray(resid), 0.0, atol=1e-9 * np.asarray(total).max())
    assert np.all(np.asarray(f) > 0) and np.all(np.diff(np.asarray(f)) > 0)
    g = jax.grad(lambda t: k.free_zinc_uM(t))(jnp.asarray(20.0))
    assert np.isfinite(float(g))



def test_glutathione_loss_frees_metallothionein_zinc(x64):
    """The Zn2+-ROS loop: at fixed total zinc, the buffer keeps B(1 - c + c GSH/GSH0) sites, so
    free Zn2+ solves the buffer equation with that capacity; resting glutathione (or c = 0)
    leaves the full capacity, and free zinc rises monotonically as glutathione falls."""
    k = _kinetics()
    gsh0 = float(k.gsh_initial_uM)
    total = jnp.asarray(15.0)  # below the full capacity (20 uM): nearly all bound at rest
    gsh = jnp.asarray(np.linspace(0.0, gsh0, 11))
    f = np.asarray(k.free_zinc_uM(total, gsh))
    cap = float(k.mt_capacity_uM) * np.asarray(gsh) / gsh0  # c = 1
    np.testing.assert_allclose(f + cap * f / (float(k.mt_kd_uM) + f), 15.0, rtol=1e-10)
    assert np.all(np.diff(f) < 0)  # less glutathione, more free zinc
    assert f[-1] == pytest.approx(float(k.free_zinc_uM(total)), rel=1e-12)
    # at rest nearly all bound (f ~ K_d T / (B - T) = 30 nM); with no glutathione all free
    assert f[-1] < 0.05 and f[0] == pytest.approx(15.0, rel=1e-12)
    off = _kinetics(mt_redox_coupling=0.0)
    assert float(off.free_zinc_uM(total, jnp.asarray(0.0))) == pytest.approx(f[-1], rel=1e-12)
    g = jax.grad(lambda x: k.free_zinc_uM(total, x))(jnp.asarray(0.5 * gsh0))
    assert np.isfinite(float(g)) and float(g) < 0

def _vial(ph: float, dose: float, dt_s: float, end_h: float, composition="culture") -> dict:
    return config({"grid": {"kind": "well_mixed"},
                   "time": {"end_h": end_h, "dt_s": dt_s, "save_every_min": end_h * 60},
                   "geometry": {"kind": "medium"},
                   "ph": {"medium": ph},
                   "material": {"kind": "ZnO", "dose_ug_per_ml": dose},
                   "medium": {"composition": composition},
                   "numerics": {"precision": "float64"}})


def _saturation_uM(ph, composition):
    """The dissolved zinc at saturation: α K [H⁺]² (α = total / free Zn²⁺ of the medium), or
    the zinc-phosphate limit if lower, zn_P(6.8) (f₃(6.8)/f₃(pH))^{2/3}."""
    p = ZNO.defaults()
    alpha, limit = COMPOSITIONS[composition]
    csat = alpha * 10 ** (p["solubility_log10_K"] - 2 * ph + 6)
    return csat if limit is None else min(csat, limit * phosphate_limit_ratio(ph))


def _analytic_dissolved_fraction(ph, dose, t_s, composition="culture"):
    """dm/dt = −k m (1 − c(m)/c_sat), c = c_Zn (m₀ − m): a Bernoulli equation with
    m(t) = a m₀ e^{−akt} / (a + b m₀ (1 − e^{−akt})), a = 1 − c_Zn m₀/c_sat, b = c_Zn/c_sat."""
    p = ZNO.defaults()
    k = p["dissolution_rate_per_h"] / 3600 * 10 ** (p["dissolution_proton_order"] * (7.4 - ph))
    csat = _saturation_uM(ph, composition)
    conv = ZNO.zn_uM_per_ug_per_ml
    a, b = 1 - conv * dose / csat, conv / csat
    e = np.exp(-a * k * t_s)
    m = a * dose * e / (a + b * dose * (1 - e))
    return 1 - m / dose


@pytest.mark.parametrize("composition, dose", [("water", 20.0), ("culture", 50.0)])
def test_well_mixed_dissolution_matches_the_analytic_ode(x64, composition, dose):
    """Vial at pH 7.4 near enough to saturation that the limit matters (the dissolved zinc
    reaches over a fifth of it, so 1 − Ω slows dissolution that much: in water at 20 ug/mL;
    in culture medium, whose ligands hold α = 2.47x more zinc at saturation, at 50 ug/mL): the
    dissolved fraction after 72 h matches the Bernoulli solution, with error falling at first
    order in Δt (each halving at least 1.8x smaller), and within 0.5 % at Δt = 15 min."""
    errs = []
    exact = _analytic_dissolved_fraction(7.4, dose, 72 * 3600.0, composition)
    for dt in (3600.0, 1800.0, 900.0):
        _, out = series(_vial(7.4, dose, dt, 72.0, composition))
        errs.append(abs(1 - out["np"][-1] / dose - exact))
    assert errs[0] / errs[1] > 1.8 and errs[1] / errs[2] > 1.8
    assert errs[-1] < 0.005 * exact
    assert ZNO.zn_uM_per_ug_per_ml * dose * exact > 0.2 * _saturation_uM(7.4, composition)


@pytest.mark.parametrize("ph", [6.8, 7.4, 6.2])
def test_phosphate_caps_dissolved_zinc_at_the_zinc_phosphate_limit(x64, ph):
    """In a phosphate buffer the dissolved zinc settles at the zinc-phosphate (hopeite) limit,
    measured at pH 6.8 (0.29-0.47 mg/L, David et al. 2019; the midpoint 5.8 uM) and carried
    to other pH by the phosphate speciation: [Zn]³[PO₄³⁻]² = K_sp at fixed phosphate, so
    zn ∝ [PO₄³⁻]^{−2/3}. Recomputed here from the stepwise pKa values (2.17, 7.21, 12.35 at
    25 °C, PHREEQC's phreeqc.dat) without their small 37 °C shift: to 2 %. Far below ZnO's own
    limit in water (1 mM at pH 6.8) and reached within 2 days from 20 ug/mL."""
    _, out = series(_vial(ph, 20.0, 600.0, 48.0, "phosphate_saline"))
    pka = (2.168, 7.207, 12.346)  # 21.721 - 19.553, 19.553 - 12.346, 12.346

    def f3(p):
        h = 10.0 ** -p
        k1, k2, k3 = (10.0 ** -x for x in pka)
        return k1 * k2 * k3 / (h**3 + k1 * h**2 + k1 * k2 * h + k1 * k2 * k3)

    expected = 0.5 * (0.29 + 0.47) / 65.38e-3 * (f3(6.8) / f3(ph)) ** (2 / 3)
    assert out["zn"][-1] == pytest.approx(expected, rel=0.02)
    water = _saturation_uM(ph, "water")
    assert out["zn"][-1] < 0.03 * water


def test_zinc_phosphate_precipitates_and_redissolves_with_the_limit(x64):
    """A phosphate medium holds dissolved zinc at zinc phosphate's limit zn_P(pH): a
    cell-free voxel with 50 µM zinc (dissolved + precipitated, no particles) ends one step
    with exactly min(50, zn_P) dissolved, whichever form it started in: at pH 7.4 (1.4 µM)
    the rest precipitates, at pH 5.0 (zn_P ~ 0.4 mM) the precipitate redissolves (to
    1e-12). Without phosphate in the medium a precipitate redissolves whole."""
    k = _kinetics("ZnO", "phosphate_saline", uptake_rate_per_h=0.0)
    zero = jnp.zeros(2)
    for ph in (7.4, 5.0):
        env = Environment(ph=ph, cell_fraction=0.0, cavitation=0.0, photon_flux_nmol_per_cm2_s=0.0)
        limit = float(k.phosphate_limit_uM(ph))
        start = Local(np=zero, zn=jnp.asarray([50.0, 0.0]), ros=zero, np_int=zero,
                      zn_cell=zero, gsh=zero, viability=jnp.ones(2),
                      zn_phosphate=jnp.asarray([0.0, 50.0]))
        new = local_step(k, start, env, 60.0)
        np.testing.assert_allclose(np.asarray(new.zn), min(50.0, limit), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(new.zn + new.zn_phosphate), 50.0, rtol=1e-12)
    assert float(k.phosphate_limit_uM(7.4)) < 2.0 < 50.0 < float(k.phosphate_limit_uM(5.0))
    free = _kinetics("ZnO", "culture")
    env = Environment(ph=7.4, cell_fraction=0.0, cavitation=0.0, photon_flux_nmol_per_cm2_s=0.0)
    new = local_step(free, start, env, 60.0)
    np.testing.assert_allclose(np.asarray(new.zn), 50.0, rtol=1e-12)


def test_dissolution_without_saturation_is_exact(x64):
    """At pH 5.5 the solubility is far above the dose: first-order decay, exact for any step."""
    c = _vial(5.5, 5.0, 3600.0, 6.0)
    _, out = series(c)
    p = ZNO.defaults()
    k = p["dissolution_rate_per_h"] * 10 ** (p["dissolution_proton_order"] * 1.9)
    assert out["np"][-1] == pytest.approx(5.0 * np.exp(-k * 6.0), rel=1e-3)


@pytest.mark.parametrize("num, den", [(0.0, 8.5e-20), (1e-30, 3e-20), (1e-30, 1e-30),
                                      (2.0, 0.0), (2.0, -1.0)])
def test_quotient_derivatives_stay_finite_where_the_denominator_squared_underflows(num, den):
    """`_safe_div` in float32, compiled: where den > 0 its derivatives are 1/den and −num/den²,
    finite here (to 1e-6 relative; −1.1e9 at num = 1e-30, den = 3e-20), also where den² is
    below the smallest normal float32 (~1.2e-38: XLA flushes it to 0) or below every
    float32; where den ≤ 0 both are 0. JAX's own derivative of a quotient, −num den⁻²,
    gave 0 · ∞ = NaN at num = 0, den = 8.5e-20: a radial spheroid's first medium shell
    holding its last particles (`Faces.exchange`) made a float32 fit's derivatives NaN."""
    from zn_pde._kinetics import _safe_div

    n32, d32 = jnp.float32(num), jnp.float32(den)
    value, tangent = jax.jit(lambda a, b: jax.jvp(_safe_div, (a, b), (jnp.float32(1.0),
                                                                      jnp.float32(1.0))))(
        n32, d32)
    grad = jax.jit(jax.grad(_safe_div, argnums=(0, 1)))(n32, d32)
    n, d = float(n32), float(d32)  # the float32 inputs, exactly
    expected = (1.0 / d, -n / d**2) if d > 0 else (0.0, 0.0)
    assert float(value) == pytest.approx(n / d if d > 0 else 0.0, rel=1e-6)
    np.testing.assert_allclose([float(g) for g in grad], expected, rtol=1e-6)
    assert float(tangent) == pytest.approx(sum(expected), rel=1e-6)


@pytest.mark.parametrize("x", [0.0, 1e-30, 1e-20, 1e-6, 0.7, 3.0])
def test_hill_derivatives_are_finite_and_exact_down_to_a_vanishing_argument(x):
    """`_hill` (x^n/(K^n + x^n)) in float32, compiled: its derivatives in x, K and n are
    h(1 − h) n/x, −h(1 − h) n/K and h(1 − h) ln(x/K) (to 1e-5 relative, 1e-30 absolute), and
    0 where h underflows to 0. Through (K/x)^n, which overflows at x = 1e-20 (K = 1.3,
    n = 2.5), JAX's derivative was ∞/∞ = NaN there."""
    from zn_pde._kinetics import _hill

    k, n = 1.3, 2.5
    args = tuple(jnp.float32(v) for v in (x, k, n))
    grad = jax.jit(jax.grad(_hill, argnums=(0, 1, 2)))(*args)
    x32 = float(args[0])
    h = float(_hill(*args))  # 0 where float32 underflows (x = 1e-20: 1e-50)
    expected = ((h * (1 - h) * n / x32, -h * (1 - h) * n / k, h * (1 - h) * np.log(x32 / k))
                if h > 0 else (0.0, 0.0, 0.0))
    np.testing.assert_allclose([float(g) for g in grad], expected, rtol=1e-5, atol=1e-30)


def test_hill_derivatives_stay_finite_at_a_zero_half_constant(x64):
    """`_hill` with K = 0 (energy failure's K = 1/E½ − 1 at energy_kill_half_atp = 1, the
    upper end of its range) is 1 for every x > 0 and flat: its forward-mode derivatives (the
    fit's Jacobian is taken by JVPs) are 0, not 0 · ∞ = NaN from 1/K and ln(x/K)."""
    from zn_pde._kinetics import _hill

    args = (jnp.float64(0.5), jnp.float64(0.0), jnp.float64(1.69))
    assert float(_hill(*args)) == 1.0
    for i in range(3):
        tangents = tuple(jnp.float64(float(i == j)) for j in range(3))
        _, t = jax.jvp(_hill, args, tangents)
        assert float(t) == 0.0
    assert np.all(np.isfinite(jax.grad(_hill, argnums=(0, 1, 2))(*args)))


def test_more_acid_releases_faster():
    fractions = []
    for ph in (7.4, 6.5, 5.5, 4.7):
        _, out = series(_vial(ph, 20.0, 600.0, 6.0))
        fractions.append(1 - out["np"][-1] / 20.0)
    assert np.all(np.diff(fractions) > 0), fractions


def test_more_dose_lowers_viability():
    finals = []
    for dose in (2.0, 10.0, 30.0, 100.0):
        c = config({**WELL_MIXED_CULTURE, "material": {"kind": "ZnO", "dose_ug_per_ml": dose}})
        _, out = series(c)
        finals.append(out["viability"][-1])
    assert np.all(np.diff(finals) < 0), finals
    assert finals[0] > 0.9  # a low dose is nearly harmless over 24 h


@pytest.mark.parametrize("material, species", [("ZnO2", "h2o2"), ("ZnS", "h2s")])
def test_coproduct_is_released_one_per_zinc(x64, material, species):
    """With its removal switched off (for H2O2 inside the cells too, so that what the
    lysosomes make all leaves them), the co-product (per voxel: α × fluid concentration)
    rises by exactly ν = 1 per Zn²⁺ released from the particles (extracellular and
    lysosomal)."""
    rng = np.random.default_rng(3)
    k = _kinetics(material, h2o2_decay_per_s=0.0, catalase_rate_per_s=0.0,
                  peroxidase_rate_per_s=0.0, peroxide_damage_rate_per_s=0.0,
                  fenton_catalyst_uM=0.0, h2s_oxidation_per_s=0.0,
                  solubility_log10_K=20.0)
    s = _random_state(rng, 500, (species,))
    env = _random_env(rng, 500)
    alpha = _random_fluid(rng, env)
    new = local_step(k, s, env, 600.0, alpha)
    phi, a = np.asarray(env.cell_fraction), np.asarray(alpha)
    conv = float(k.zn_uM_per_particle_ug_per_ml)

    def particles(x):  # per voxel: in the fluid, the living cells and the dead cells
        return a * np.asarray(x.np) + phi * (np.asarray(x.viability) * np.asarray(x.np_int)
                                             + np.asarray(x.np_dead))

    zn_released = conv * (particles(s) - particles(new))
    gained = a * (np.asarray(getattr(new, species)) - np.asarray(getattr(s, species)))
    np.testing.assert_allclose(gained, zn_released, rtol=1e-10, atol=1e-12)


def test_peroxide_made_in_a_cell_is_removed_by_that_cell(x64):
    """ZnO2 dissolving in a cell's lysosomes makes one H2O2 per Zn2+ inside the cell: its own
    catalase and peroxidases remove all but e = k_p/(k_p + k_int) of it (1/694 at the
    defaults) before it can leave, and the glutathione peroxidases' share k_px/k_int
    consumes its glutathione. A dilute culture
    (cell fraction 1e-6, particles only inside the cells, resynthesis and glutathione
    reductase off) over one 60 s step: K_g ln(G₀/G) + G₀ − G = 2 (k_px/k_int) (1 − e) R (the
    exact integral of dG = −2 (k_px/k_int) G/(K_g + G) dR), R the H2O2 its lysosomes made per
    cell volume, to 1e-6 relative, and the fluid (no decay there) gains e R per cell volume
    (to 1e-4: the cells take a little of it back). Released to the fluid as before
    2026-12-03, the H2O2 was diluted a million-fold before any cell met it, and the cell's
    glutathione did not move."""
    k = _kinetics("ZnO2", gsh_resynthesis_per_h=0.0,
                  gssg_reduction_max_uM_per_s=0.0, zn_ros_max_uM_per_s=0.0,
                  h2o2_decay_per_s=0.0)
    phi, dt = 1e-6, 60.0
    one, zero = jnp.ones(()), jnp.zeros(())
    s = Local(np=zero, zn=zero, ros=zero, np_int=100.0 * one, zn_cell=zero,
              gsh=k.gsh_initial_uM * one, viability=one, h2o2=zero, np_dead=zero,
              zn_dead=zero)
    env = Environment(ph=7.4, cell_fraction=phi, cavitation=0.0, photon_flux_nmol_per_cm2_s=0.0)
    new = local_step(k, s, env, dt, 1.0 - phi)
    k_lys = float(k.dissolution_rate_per_s(4.7))
    made = float(k.zn_uM_per_particle_ug_per_ml) * 100.0 * -np.expm1(-k_lys * dt)
    k_int = _k_int(k)
    e = float(k.h2o2_permeation_per_s) / (float(k.h2o2_permeation_per_s) + k_int)
    assert float(k.peroxide_escape_share()) == pytest.approx(e, rel=1e-12)
    gsh0 = float(k.gsh_initial_uM)
    share = float(k.peroxidase_rate_per_s) / k_int
    g = float(new.gsh)
    spent = float(k.gsh_half_uM) * np.log(gsh0 / g) + gsh0 - g
    assert spent == pytest.approx(2.0 * share * (1.0 - e) * made, rel=1e-6)
    assert (1.0 - phi) * float(new.h2o2) / phi == pytest.approx(e * made, rel=1e-4)


@pytest.mark.parametrize("material, bolus", [("ZnO", "zn"), ("ZnO2", "h2o2"), ("ZnO", "np")])
def test_a_living_cell_s_fate_does_not_depend_on_how_many_have_died(x64, material, bolus):
    """The cell pools are the living cells': in a medium the cells barely deplete (cell
    fraction 1e-9), a culture that starts with half its cells already dead follows the same
    per-living-cell course as one that starts all alive, for 48 h of 200 uM Zn2+, 200 uM
    H2O2 or 20 ug/mL ZnO: the same labile zinc, glutathione and particles per living cell
    (to 1e-5 relative) and survivors in the ratio 1/2 throughout (to 1e-5). Averaged over
    dead and alive cells, Zn2+ import into the dead raised the living cells' zinc, and
    uptake-driven kill entered as V^2."""
    k = _kinetics(material)
    amount = jnp.asarray(200.0 if bolus != "np" else 20.0)
    zero = jnp.zeros(())

    def start(v):
        extra = {"h2o2": amount if bolus == "h2o2" else zero} if material == "ZnO2" else {}
        return Local(np=amount if bolus == "np" else zero, zn=amount if bolus == "zn" else zero,
                     ros=zero, np_int=zero, zn_cell=zero, gsh=k.gsh_initial_uM + zero,
                     viability=jnp.asarray(v), np_dead=zero, zn_dead=zero, **extra)

    env = Environment(ph=7.4, cell_fraction=1e-9, cavitation=0.0, photon_flux_nmol_per_cm2_s=0.0)

    @jax.jit
    def run(s):
        def body(x, _):
            x = local_step(k, x, env, 120.0, 1.0 - 1e-9)
            return x, (x.viability, x.zn_cell, x.gsh, x.np_int)
        return jax.lax.scan(body, s, None, length=48 * 30)[1]

    full, half = run(start(1.0)), run(start(0.5))
    assert float(full[0][-1]) < 0.9  # the bolus kills: the test has something to compare
    np.testing.assert_allclose(np.asarray(half[0]), 0.5 * np.asarray(full[0]), rtol=1e-5)
    for a, b in zip(full[1:], half[1:], strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("catalase_factor, h2s_over_ki", [(0.1, 0.0), (1.0, 0.0), (10.0, 0.0),
                                                          (1.0, 1.0), (1.0, 9.0)])
def test_catalase_protects_cells_from_the_fluid_s_peroxide(x64, catalase_factor, h2s_over_ki):
    """H₂O₂ in the fluid crosses the membrane (k_p) into a cell whose catalase (a k_cat, a =
    1/(1 + H₂S/K_i) left by sulfide), glutathione peroxidases (k_px) and iron (k_F [Fe])
    remove it: uptake k_cell = k_p k_int/(k_p + k_int), of which the peroxidases' share
    k_px/k_int consumes glutathione. One 60 s step of a ZnS culture (its H₂S held by setting
    its oxidation and release off) with 10 µM diffusible ROS in the fluid: K_g ln(G₀/G) +
    G₀ − G = ν (k_px/k_int) T, T the ROS taken up per cell volume, (φ/α)k_cell/λ of
    α c₀ (1 − e^{−λΔt})/φ, λ = k_dec + (φ/α) k_cell, to 1e-7; and viability (energy failure
    off) falls with the Fenton and unintercepted peroxidase flux. Ten times the catalase
    lowers the glutathione spent and the kill ~tenfold (a tenth raises them ~sixfold, as k_px
    and k_F [Fe] are left); sulfide inhibiting catalase raises them, against the same cells
    without sulfide (before 2026-12-04 the catalase constant was the uptake, and more of it killed
    more)."""
    ki = 10.0
    base = _kinetics("ZnS", energy_kill_max_per_h=0.0, gsh_resynthesis_per_h=0.0,
                     gssg_reduction_max_uM_per_s=0.0,
                     zn_ros_max_uM_per_s=0.0, h2s_oxidation_per_s=0.0, h2s_catalase_ki_uM=ki,
                     fenton_catalyst_uM=3.5, oxidative_lethal_dose_uM=50.0)
    k = _kinetics("ZnS", energy_kill_max_per_h=0.0, gsh_resynthesis_per_h=0.0,
                  gssg_reduction_max_uM_per_s=0.0,
                  zn_ros_max_uM_per_s=0.0, h2s_oxidation_per_s=0.0, h2s_catalase_ki_uM=ki,
                  fenton_catalyst_uM=3.5, oxidative_lethal_dose_uM=50.0,
                  catalase_rate_per_s=catalase_factor * float(base.catalase_rate_per_s))
    phi, dt, c0, g0 = 0.01, 60.0, 0.1, 5000.0
    alpha = 1.0 - phi
    one, zero = jnp.ones(()), jnp.zeros(())

    def step(kin, h2s_uM):
        s = Local(np=zero, zn=zero, ros=c0 * one, np_int=zero, zn_cell=zero, gsh=g0 * one,
                  viability=one, h2s=h2s_uM * one, np_dead=zero, zn_dead=zero)
        env = Environment(ph=7.4, cell_fraction=phi, cavitation=0.0,
                          photon_flux_nmol_per_cm2_s=0.0)
        return local_step(kin, s, env, dt, alpha)

    new, ref = step(k, h2s_over_ki * ki), step(base, 0.0)
    a = 1.0 / (1.0 + h2s_over_ki)
    k_int, k_cell = _k_int(k, a), _k_cell(k, a)
    lam = float(k.ros_decay_per_s) + phi / alpha * k_cell
    taken = alpha * c0 * -np.expm1(-lam * dt) * (phi / alpha * k_cell / lam) / phi
    g = float(new.gsh)
    expected = float(k.gsh_per_ros) * float(k.peroxidase_rate_per_s) / k_int * taken
    assert float(k.gsh_half_uM) * np.log(g0 / g) + g0 - g == pytest.approx(expected, rel=1e-7)
    killed, killed_ref = 1.0 - float(new.viability), 1.0 - float(ref.viability)
    spent, spent_ref = g0 - float(new.gsh), g0 - float(ref.gsh)
    if catalase_factor > 1.0:
        assert killed < 0.2 * killed_ref and spent < 0.2 * spent_ref
    elif catalase_factor < 1.0:
        assert killed > 4.0 * killed_ref and spent > 4.0 * spent_ref
    if h2s_over_ki > 0.0:  # the same catalase, inhibited: more peroxide stays to do harm
        assert killed > 1.5 * killed_ref and spent > 1.5 * spent_ref


@pytest.mark.parametrize("gsh", [0.0, 500.0, 5000.0])
def test_peroxide_fates_weigh_glutathione_against_the_cell_s_own_molecules(x64, gsh):
    """Inside a cell H₂O₂ meets catalase (a k_cat), the glutathione peroxidases as far as
    glutathione G lets them (k_px g, g = G/(K_g + G)), the cell's own molecules as far as it
    does not (k_dmg (1 − g)) and iron (k_F [Fe]): the uptake is k_p k_int/(k_p + k_int) and
    the shares of what the cell removes sum to 1, to 1e-12, with k_dmg five times k_px so
    that k_int moves with G (1/(0.5 + 1) of catalase at H₂S = K_i/2)."""
    k = _kinetics("ZnO2", peroxidase_rate_per_s=100.0, peroxide_damage_rate_per_s=500.0)
    a = 1.0 / 1.5
    g = gsh / (float(k.gsh_half_uM) + gsh)
    fenton = float(k.fenton_rate_per_uM_per_s) * float(k.fenton_catalyst_uM)
    k_int = a * float(k.catalase_rate_per_s) + 100.0 * g + 500.0 * (1.0 - g) + fenton
    k_p = float(k.h2o2_permeation_per_s)
    fates = k.peroxide_fates(a, jnp.asarray(gsh))
    assert float(fates.uptake_per_s) == pytest.approx(k_p * k_int / (k_p + k_int), rel=1e-12)
    assert float(fates.escape) == pytest.approx(k_p / (k_p + k_int), rel=1e-12)
    total = (float(fates.catalase) + float(fates.fenton) + float(fates.glutathione) * g
             + float(fates.damage) * (1.0 - g))
    assert total == pytest.approx(1.0, rel=1e-12)
    assert float(fates.damage) == pytest.approx(500.0 / k_int, rel=1e-12)


def _glutathione_constants(k: Kinetics) -> tuple[float, float, float, float, float]:
    """G₀, K_g, V, K_R and k_syn (1/s) as Python floats, read from `k` once: the reference
    below calls the rate ~300 000 times, and reading them from the arrays at every call
    (a device-to-host copy each) took most of the test's time."""
    return (float(k.gsh_initial_uM), float(k.gsh_half_uM),
            float(k.gssg_reduction_max_uM_per_s), float(k.gssg_reduction_half_uM),
            float(k.gsh_resynthesis_per_h) / 3600.0)


def _glutathione_rate(constants: tuple[float, ...], load_uM_per_s: float, g: float) -> float:
    """dG/dt (µM/s) under a constant peroxidase load L (GSH-consuming flux at full
    interception): −L G/(K_g + G) + V (G₀ − G)/(K_R + (G₀ − G)/2) + k_syn (G₀ − G), with
    the constants of `_glutathione_constants`."""
    g0, kg, v, kr, syn = constants
    return -load_uM_per_s * g / (kg + g) + (v / (kr + 0.5 * (g0 - g)) + syn) * (g0 - g)


def _glutathione_steady_uM(k: Kinetics, load_uM_per_s: float) -> float:
    """The GSH G* at which the load balances glutathione reductase and resynthesis
    (`_glutathione_rate` = 0), by bisection: the rate falls as G rises."""
    constants = _glutathione_constants(k)
    lo, hi = 0.0, float(k.gsh_initial_uM)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = ((lo, mid) if _glutathione_rate(constants, load_uM_per_s, mid) < 0.0
                  else (mid, hi))
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("load_over_capacity", [0.25, 0.9, 1.5, 4.0])
def test_glutathione_reductase_holds_gsh_until_the_load_exceeds_its_capacity(
        x64, load_over_capacity):
    """A constant peroxidase load L (GSH consumed per second at full interception, ν F)
    against glutathione reductase's capacity 2V (GSH given back per second): stepped for
    12 h at 60 s, GSH settles at the root G* of L G/(K_g + G) = V (G₀ − G)/(K_R + S)
    + k_syn (G₀ − G), S = (G₀ − G)/2, to 1e-6 relative; and it follows a fine reference (RK4
    at 0.05 s) over the first hour to 3 % of G₀ (the step's coefficients are frozen at a
    predicted mean, first order: 2.4 % at four times the capacity, where GSH falls by a
    tenth of G₀ per step). Below the capacity GSH stays near G₀; above it it collapses (the 'abrupt
    collapse' when hydroperoxide formation exceeds GSH regeneration: Flohé 1979)."""
    k = _kinetics("ZnO2")
    g0 = float(k.gsh_initial_uM)
    load = load_over_capacity * 2.0 * float(k.gssg_reduction_max_uM_per_s)
    g, dt, course = jnp.asarray(g0), 60.0, []
    step = jax.jit(lambda g: k.glutathione_after(g, jnp.asarray(load), dt))  # compiled once
    for _ in range(12 * 60):
        g = step(g)
        course.append(float(g))
    expected = _glutathione_steady_uM(k, load)
    assert course[-1] == pytest.approx(expected, rel=1e-6)
    if load_over_capacity < 1.0:
        assert expected > 0.8 * g0
    else:
        assert expected < 0.5 * g0

    constants = _glutathione_constants(k)

    def rhs(x):
        return _glutathione_rate(constants, load, x)

    x, h = g0, 0.05
    for minute in range(60):
        for _ in range(int(60 / h)):
            a = rhs(x)
            b = rhs(x + 0.5 * h * a)
            c = rhs(x + 0.5 * h * b)
            d = rhs(x + h * c)
            x += h / 6.0 * (a + 2 * b + 2 * c + d)
        assert course[minute] == pytest.approx(x, abs=0.03 * g0)


@pytest.mark.parametrize("nadph_factor", [1.0, 4.0])
def test_glutathione_recovers_from_gssg_at_the_analytic_time(x64, nadph_factor):
    """With the peroxide gone, GSSG S = (G₀ − G)/2 falls as dS/dt = −V S/(K_R + S) − k_syn S;
    the time from 19 % to 90 % of G₀ is ∫ (K_R + S)/(S (V + k_syn (K_R + S))) dS between the
    two GSSG levels. The model's step (`zn_pde.validation.glutathione_recovery_s`: the full
    culture step at 5 s, linear between steps) gives it to 1 % at the default supply and at
    four times it (the same coefficients the validation row reads)."""
    from scipy.integrate import quad

    from zn_pde import validation as v

    k = v._culture_kinetics("ZnO", nadph_factor=nadph_factor)
    g0, kr = float(k.gsh_initial_uM), float(k.gssg_reduction_half_uM)
    vmax = float(k.gssg_reduction_max_uM_per_s)
    syn = float(k.gsh_resynthesis_per_h) / 3600.0
    s_hi, s_lo = 0.5 * g0 * (1.0 - v.LENS_GSH_LOW), 0.5 * g0 * (1.0 - v.RECOVERED)
    expected, _ = quad(lambda s: (kr + s) / (s * (vmax + syn * (kr + s))), s_lo, s_hi)
    assert v.glutathione_recovery_s(nadph_factor) == pytest.approx(expected, rel=0.01)
    # without the resynthesis term the integral is closed-form: (S₁ − S₂ + K_R ln(S₁/S₂))/V
    assert expected == pytest.approx((s_hi - s_lo + kr * np.log(s_hi / s_lo)) / vmax, rel=0.05)


# --- cells of different sensitivity to energy failure (gamma frailty) ------------------------

def test_frailty_hazard_composes_to_the_gamma_survival_and_is_the_plain_hazard_at_zero(x64):
    """Any split of a cell's energy hazard into steps adds up, on the population, to
    −ln S(H) = ln(1 + θH)/θ, the gamma frailty survival (Vaupel et al. 1979); at θ = 0 it
    is the hazard itself; its θ-derivative at 0 is the series' −ΔH (H + ΔH/2)."""
    from zn_pde._kinetics import frailty_hazard

    rng = np.random.default_rng(3)
    for theta in (0.0, 1e-6, 0.3, 1.0, 7.0):
        steps = rng.exponential(0.2, 40)
        h, total = 0.0, 0.0
        for dh in steps:
            total += float(frailty_hazard(jnp.float64(theta), h, dh))
            h += dh
        exact = h if theta == 0 else np.log1p(theta * h) / theta
        np.testing.assert_allclose(total, exact, rtol=1e-9)
    # at θ = 0 the exact hazard, and the derivative a fit starting there needs
    h, dh = 1.3, 0.4
    assert float(frailty_hazard(jnp.float64(0.0), h, dh)) == pytest.approx(dh, rel=1e-15)
    grad = jax.grad(lambda t: frailty_hazard(t, h, dh))(jnp.float64(0.0))
    assert float(grad) == pytest.approx(-dh * (h + dh / 2), rel=1e-9)
    # both branches meet: no jump where the series hands over to log1p (u = θ here)
    from zn_pde._kinetics import FRAILTY_SERIES_BELOW

    for theta in FRAILTY_SERIES_BELOW * np.array([1.0 - 1e-9, 1.0 + 1e-9]):
        got = float(frailty_hazard(jnp.float64(theta), 0.0, 1.0))
        assert got == pytest.approx(np.log1p(theta) / theta, rel=1e-15)


def test_energy_failure_of_frail_cells_leaves_the_gamma_survivors_in_a_culture():
    """A 2D culture that dies by energy failure alone (no oxidative path: no zinc-driven
    mitochondrial H2O2, no stimulus, no co-product) keeps, whatever the zinc does over time,
    V = (1 + θ H_E)^(−1/θ) of its cells, H_E the stored energy hazard of a cell of mean
    frailty, and V = e^{−H} with the stored population hazard; more spread (θ) spares more
    cells than cells of one sensitivity at the same zinc load."""
    base = {**WELL_MIXED_CULTURE, "material": {"kind": "ZnO", "dose_ug_per_ml": 100.0},
            "kinetics": {"zn_ros_max_uM_per_s": 0.0}}
    alive = {}
    for theta in (0.0, 2.0):
        c = config({**base, "kinetics": {**base["kinetics"],
                                         "energy_kill_frailty_variance": theta}})
        _, s = series(c)
        v, hz, he = (np.asarray(s[n], float) for n in ("viability", "hazard", "energy_hazard"))
        gamma = np.exp(-he) if theta == 0 else (1.0 + theta * he) ** (-1.0 / theta)
        np.testing.assert_allclose(v, gamma, rtol=1e-5)  # float32 over 1440 steps
        np.testing.assert_allclose(v, np.exp(-hz), rtol=1e-5)
        assert he[-1] > 0.5  # the zinc load kills: 40 % of cells of one sensitivity by 24 h
        alive[theta] = v[-1]
    assert alive[2.0] > alive[0.0] + 0.05


def test_frailty_hazard_is_float_exact_across_the_series_hand_over(x64):
    """The value in float64 and the variance-derivative in float32 (a 3D run's precision)
    match ln(1 + u)/θ, u = θΔH/(1 + θH), on both sides of the hand-over from the series to
    log1p: the derivative of log1p(u)/θ, (u/(1 + u) − ln(1 + u))/θ², cancels to ~u²/2, so
    just past a hand-over at u = 1e-3 float32 kept ~4 of its 7 digits (1.2e-4 relative),
    and a 3-term series left a 2.5e-10 jump in the float64 value there."""
    from zn_pde._kinetics import frailty_hazard

    def exact(theta, h, dh):  # float64 reference: ln(1 + u)/θ and its θ-derivative
        u = theta * dh / (1.0 + theta * h)
        du = dh / (1.0 + theta * h) ** 2  # ∂u/∂θ
        return np.log1p(u) / theta, (du / (1.0 + u) - np.log1p(u) / theta) / theta

    grad32 = jax.jit(jax.grad(frailty_hazard))
    for u in np.geomspace(1e-5, 3.0, 47):
        for theta, h in ((1e-3, 0.0), (0.7, 0.0), (2.0, 1.5), (60.0, 0.2)):
            dh = u * (1.0 + theta * h) / theta
            value, derivative = exact(theta, h, dh)
            got = float(frailty_hazard(jnp.float64(theta), jnp.float64(h), jnp.float64(dh)))
            assert got == pytest.approx(value, rel=1e-14), (u, theta, h)
            g = float(grad32(jnp.float32(theta), jnp.float32(h), jnp.float32(dh)))
            assert g == pytest.approx(derivative, rel=1e-5), (u, theta, h)
            got32 = float(frailty_hazard(jnp.float32(theta), jnp.float32(h), jnp.float32(dh)))
            assert got32 == pytest.approx(value, rel=1e-6), (u, theta, h)
