"""Per-voxel reaction kinetics of the nanoparticle model: one source of truth for every geometry.

Written elementwise on arrays of any shape (a scalar vial, a (z, y, x) grid); the caller
vectorises. Mobile species that move only outside cells (`np`, `zn`, `ros`, `h2o2`, `h2s`,
`cargo`) are concentrations in the extracellular fluid, volume fraction α of the voxel (1 in
medium); intracellular pools (`np_int`, `zn_cell`, `gsh`) are those of the living cells, per
living-cell volume (a fraction φ V of the voxel, V the viability): what crosses the living
cells' membranes changes them by amount/(φ V), and the cells that die keep what they held
(`np_dead`, `zn_dead`, per cell volume of all cells), no longer exchanged. `o2` is per voxel
volume. Amounts per voxel are α c, φ V c_cell and φ c_dead, so every exchange conserves mass
exactly, and each per-cell rate acts on a living cell once: V enters dV/dt = −V·hazard
through the living share alone.

A step has two parts (`_model.Model.substep`):

A. `rates`: the first-order sinks κ and sources S of the mobile species at the step start,
   which the transport solves implicitly with diffusion (`_diffusion.diffuse_react`; a
   well-mixed compartment solves them exactly, `local_step`):
       particles:  κ = k(pH) (1 − Ω)₊ + (φ/α) k_up V,   k(pH) = k₇.₄ · 10^{n (7.4 − pH)}
                   + k_sw / (1 + 10^{m (pH − pH½)}),  Ω = zn/zn_sat (zn_sat = α_m K [H⁺]²,
                   α_m the medium's total per free Zn²⁺) (with a co-product c, Ω =
                   zn n_c c̄/(α_m K[H⁺]²), n_c its neutral share, c̄ its mean over the step
                   under its removal κ_c; the limit itself holds at the step's end,
                   `dissolution`)
       Zn²⁺:       κ = (φ/α) V k_in,  S = export from living cells (φ/α) V k_out f per
                   fluid volume (exact over the step)
       ROS:        κ = k_dec + (φ/α) V k_cell,  S = o₂f (Y'_us A + Φ'_light κ q) np
       H₂O₂:       κ = k_dec + (φ/α) V k_cell;   H₂S: κ = k_ox; both with the co-product
                   of the particles that dissolve outside and inside cells as a source
                   (it crosses membranes), as the cargo; of the H₂O₂ made inside cells
                   only the share e = k_p/(k_p + k_int) that escapes the cell's own
                   catalase and peroxidases; k_cell = k_p k_int/(k_p + k_int), the
                   membrane's permeation k_p in series with the removal inside k_int =
                   a k_cat + k_px g + k_dmg (1 − g) + k_F [Fe] (catalase at the activity a
                   that H₂S leaves it, glutathione peroxidases as far as glutathione lets
                   them, g = GSH/(K_g + GSH), the cell's own molecules as far as it does
                   not, Fenton; `Kinetics.peroxide_fates`);
       O₂:         κ = φ V q_max/(K_m + O₂) (respiration inhibited by free Zn²⁺ and
                   H₂S as in `energy_charge`, 1/(1 + f/K_Zn) and 1/(1 + H₂S/K_i))
                   + [(Φ_light κ q + Φ_Δ a_ps)(φ V np_int + α np)
                   + (Y'_us (1 − s) A + Φ'_light κ q) α np]/(K_o + O₂): every oxidant the
                   stimuli make with O₂ (o₂f = s + (1 − s) Ō₂/(K_o + O₂), s = 0 for light,
                   Ō₂ the step's mean O₂ under these frozen rates, so that what is made
                   is what the sink removes) is made from one O₂ (¹O₂; O₂•−, two of which
                   dismute to H₂O₂ + O₂), wherever it goes; catalase gives ½ O₂ per H₂O₂
                   back (B). Cavitation's short-lived yield Y_us, an effective constant
                   calibrated to a kill rather than a count of molecules, uses none: its
                   O₂ use is its cell-free diffusible yield Y'_us's
   with f the free intracellular Zn²⁺ left by metallothionein buffering (fast equilibrium,
   dissociation constant K_d): f + B f/(K_d + f) = zn_cell, its capacity B = B₀ (1 − c + c
   GSH/GSH₀) lost as oxidants consume glutathione (the Zn²⁺–ROS loop), A the ultrasound's
   cavitation activity, κ q the photons the particles absorb per µg/mL (µM/s: κ their mass
   absorption, q the photon flux above the band gap) and Φ, Φ' the quantum yields of
   radicals and diffusible ROS per photon, a_ps the photons a co-loaded dye absorbs (per
   µg/mL) and Φ_Δ its singlet-oxygen yield. Frozen with them: the short-lived radicals (·OH,
   ¹O₂) that hit the cells, R = o₂f (Y_us A + Φ_light κ q + Φ_Δ a_ps) (np_int + ℓa α np/φ)
   per cell volume (ℓa the share reaching a membrane), and the mitochondrial H₂O₂ of
   Zn²⁺-inhibited respiration, P_zn H(f; K, 2) per living cell.
B. `react`: what each sink removed goes to its destination in the proportions of the rates —
   dissolved particles to Zn²⁺ (never beyond zn_sat; the rest stays particulate) and to the
   co-product (H₂O₂ or H₂S, ν per Zn²⁺) or cargo, endocytosed particles to `np_int`, imported
   Zn²⁺ to `zn_cell`, the peroxide the cells took up, and the 1 − e of their lysosomes'
   H₂O₂ they kept, to catalase (O₂), glutathione peroxidase, the cell's own molecules and
   Fenton chemistry in the proportions a k_cat : k_px g : k_dmg (1 − g) : k_F [Fe] (so
   more catalase protects: the cell's H₂O₂, and with it the damage and the ·OH, fall as
   1/k_int); in a phosphate medium Zn²⁺
   beyond zinc phosphate's limit zn_P(pH) precipitates (`zn_phosphate`, particulate: moved
   and endocytosed as the particles, dissolved in the lysosomes) — then the local
   processes, each exact or positivity preserving: lysosomal dissolution of `np_int` into
   `zn_cell` (prepared with the particles' sink, `dissolution`, as its co-product is a
   source of the solve, slowed by the lysosome's saturation (1 − f e n c/K[H⁺]²)₊ implicit in
   that co-product, f after the step's Zn²⁺ export); glutathione takes the peroxidase
   flux F = (k_px/k_int) J + P_zn H(f) at GSH/(K_g + GSH), consuming ν each (to GSSG),
   is given back by glutathione reductase at V S/(K_R + S) GSSG per second (S = (GSH₀ −
   GSH)/2, V the NADPH supply's capacity) and resynthesised towards GSH₀ at k_syn; at
   K_g/(K_g + GSH) the peroxide D = (k_dmg/k_int) J
   + P_zn H(f) reacts with the cell's own molecules; the radical dose accumulates;
   viability dV/dt = −V [κ_E H(1/E − 1; 1/E½ − 1, h)/(1 + θ H_E) + (R + D K_g/(K_g + GSH)
   + ·OH_Fenton)/D₀ (·OH_Fenton = (k_F [Fe]/k_int) J)
   + κ_cargo H(cargo)], E the ATP supply (`energy_charge`), J the oxidant the living cells
   took up per living-cell volume, H_E = ∫ κ_E H dt the energy hazard of a cell of mean
   frailty (gamma-distributed frailties of variance θ: the population's energy death rate
   falls as the frailer cells die); the cells that died over the step take the living
   cells' pools at its end to `np_dead`, `zn_dead`.

Every update is a convex combination or of the form x e^{−kΔt}, so every field stays
non-negative for any Δt; the total zinc Σ[α (c_Zn np + zn + zn_phosphate) + φ (V (c_Zn np_int
+ zn_cell) + c_Zn np_dead + zn_dead)] is unchanged by a step up to round-off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .materials.media import DEFAULT_COMPOSITION, medium_constants, phosphate_limit_ratio

#: `Kinetics` fields that come from the `[medium]` table, not from `[kinetics]`.
MEDIUM_FIELDS = ("zn_complexation_factor", "zinc_phosphate_limit_uM")

# The model's own variables, in the order they are stored. MOBILE ones diffuse. Optional
# mobile species (OPTIONAL, in that order after MOBILE) exist only when the material
# (co-product, cargo) or the config ([oxygen], a [medium] with zinc phosphate) needs them:
# `Model.optional_names`.
MOBILE = ("np", "zn", "ros")
OPTIONAL = ("h2o2", "h2s", "cargo", "o2", "zn_phosphate")
FIXED = ("np_int", "zn_cell", "gsh", "viability", "radical_dose", "np_dead", "zn_dead",
         "hazard", "energy_hazard")

UNITS = {
    "np": "ug/mL",
    "np_int": "ug/mL",
    "zn": "uM",
    "zn_cell": "uM",
    "ros": "uM",
    "gsh": "uM",
    "viability": "1",
    "h2o2": "uM",
    "h2s": "uM",
    "cargo": "ug/mL",
    "o2": "uM",
    "radical_dose": "uM",
    "zn_phosphate": "uM",
    "np_dead": "ug/mL",
    "zn_dead": "uM",
    "hazard": "1",
    "energy_hazard": "1",
}
LONG_NAMES = {
    "np": "extracellular nanoparticle mass concentration (per fluid volume)",
    "np_int": "internalised nanoparticle mass concentration in the living cells (per "
              "living-cell volume)",
    "zn": ("dissolved Zn2+ (free and bound by the medium) in medium / interstitium (per "
           "fluid volume)"),
    "zn_cell": "labile intracellular zinc, free + metallothionein-bound, in the living cells "
               "(per living-cell volume)",
    "ros": "reactive oxygen species, lumped (per fluid volume)",
    "gsh": "intracellular glutathione in the living cells (per living-cell volume)",
    "viability": "fraction of cells alive",
    "h2o2": "hydrogen peroxide released by the particles (per fluid volume)",
    "h2s": "hydrogen sulfide released by the particles (per fluid volume)",
    "cargo": "drug cargo released by the carrier (per fluid volume)",
    "o2": "dissolved oxygen (per tissue volume)",
    "radical_dose": "oxidative hits from the stimuli, cumulative, on the living cells (per "
                    "cell volume): the "
                    "short-lived ROS from activated particles that hit the cells, and the "
                    "diffusible ROS the stimuli made that the cells took up and that escaped "
                    "glutathione or made .OH; survival factor exp(-dose / "
                    "oxidative_lethal_dose_uM)",
    "zn_phosphate": "zinc precipitated as zinc phosphate (hopeite) from a phosphate medium, "
                    "as zinc (per fluid volume); particulate: moves as the particles do and "
                    "is endocytosed by living cells",
    "np_dead": "internalised nanoparticle mass held by the dead cells, as they held it when "
               "they died (per cell volume of all cells: the voxel holds cell_fraction times "
               "this)",
    "zn_dead": "labile zinc held by the dead cells, as they held it when they died (per cell "
               "volume of all cells)",
    "hazard": "cumulative death hazard of the cells (energy failure, oxidative hits, cargo): "
              "viability = exp(-hazard); kept apart from the viability so that the part the "
              "stimuli's hits (radical_dose / oxidative_lethal_dose_uM) take of it stays "
              "known where the viability underflows",
    "energy_hazard": "cumulative hazard of death by energy failure of a cell of mean "
                     "sensitivity (frailty 1); the cells' frailties spread as a gamma "
                     "distribution of variance energy_kill_frailty_variance, so that "
                     "energy failure alone leaves (1 + variance x energy_hazard)^(-1/variance) "
                     "of them alive",
}


class Local(NamedTuple):
    """Per-voxel state of the nanoparticle model (arrays of one common shape)."""

    np: Array
    zn: Array
    ros: Array
    np_int: Array
    zn_cell: Array
    gsh: Array
    viability: Array
    h2o2: Array | None = None
    h2s: Array | None = None
    cargo: Array | None = None
    o2: Array | None = None
    radical_dose: Array | None = None  # always stored; optional so callers may omit it
    zn_phosphate: Array | None = None  # with a phosphate medium (`[medium]`)
    # what the dead cells hold (per cell volume of all cells); always stored, optional so
    # callers may omit them (then what dying cells held is not tracked)
    np_dead: Array | None = None
    zn_dead: Array | None = None
    hazard: Array | None = None  # always stored; optional so callers may omit it
    # always stored; optional so callers may omit it (then death by energy failure is that of
    # cells of one sensitivity, as with energy_kill_frailty_variance = 0)
    energy_hazard: Array | None = None


class Environment(NamedTuple):
    """What the voxel sees during the step (arrays broadcastable to the state)."""

    ph: ArrayLike  # extracellular pH
    cell_fraction: ArrayLike  # φ, cell volume per voxel volume (0 in medium)
    cavitation: ArrayLike  # inertial-cavitation activity of the local ultrasound, step average
    #                        (1 at 1 W/cm²; `zn_pde.stimuli.ultrasound.cavitation_activity`)
    photon_flux_nmol_per_cm2_s: ArrayLike  # local photon flux of the light above the band gap
    #                                        (nmol photons/(cm²·s)), averaged over the step
    o2_resupply_per_s: ArrayLike = 0.0  # a well's medium (well-mixed runs, the reacting bulk):
    #                                     gas exchange towards the O2 medium value, 1 on, 0 off
    photosensitiser_photons_uM_per_s: ArrayLike = 0.0  # photons a co-loaded photosensitiser
    #                                                  absorbs per µg/mL of particles


class Oxygen(eqx.Module):
    """Oxygen constants (the `[oxygen]` section; see `zn_pde.materials._common.OXYGEN`)."""

    medium_uM: Array
    consumption_max_uM_per_s: Array
    consumption_half_uM: Array
    ros_half_uM: Array
    resupply_per_s: Array
    sono_o2_free_share: Array  # share of the sonodynamic yield that needs no O2


class PeroxideFates(NamedTuple):
    """H₂O₂ at a cell (`Kinetics.peroxide_fates`): its uptake from the fluid, the share of
    what the cell makes that leaves it, and the shares of what the cell removes by each path
    inside: catalase (to O₂) and Fenton chemistry (·OH) as they are; the glutathione
    peroxidases' k_px/k_int and the reaction with the cell's own molecules k_dmg/k_int before
    the glutathione weighting, G/(K_g + G) and K_g/(K_g + G) (`react` integrates G over the
    step). catalase + fenton + glutathione G/(K_g + G) + damage K_g/(K_g + G) = 1."""

    uptake_per_s: Array  # k_cell, per cell volume
    escape: Array  # e = k_p / (k_p + k_int)
    catalase: Array
    fenton: Array
    glutathione: Array  # k_px / k_int
    damage: Array  # k_dmg / k_int


class Kinetics(eqx.Module):
    """Kinetic constants as array leaves (so `jax.grad` reaches every one of them).

    Field names equal the `[kinetics]` config keys (units in the names); see the
    material tables in `zn_pde.materials` for meanings and sources.
    """

    dissolution_rate_per_h: Array
    dissolution_proton_order: Array
    solubility_log10_K: Array
    uptake_rate_per_h: Array
    zn_influx_per_h: Array
    zn_efflux_per_h: Array
    mt_capacity_uM: Array
    mt_kd_uM: Array
    mt_redox_coupling: Array
    ros_decay_per_s: Array
    gsh_initial_uM: Array
    gsh_half_uM: Array
    gsh_per_ros: Array
    gsh_resynthesis_per_h: Array
    gssg_reduction_max_uM_per_s: Array
    gssg_reduction_half_uM: Array
    peroxidase_rate_per_s: Array
    peroxide_damage_rate_per_s: Array
    zn_ros_max_uM_per_s: Array
    zn_ros_half_uM: Array
    sono_ros_yield_uM_per_s_per_ug_per_ml: Array
    photo_ros_quantum_yield: Array
    sono_radical_yield_uM_per_s_per_ug_per_ml: Array
    photo_radical_quantum_yield: Array
    short_lived_ros_reach_nm: Array
    cell_diameter_um: Array
    oxidative_lethal_dose_uM: Array
    catalase_rate_per_s: Array
    energy_kill_max_per_h: Array
    energy_kill_half_atp: Array
    energy_kill_hill: Array
    energy_kill_frailty_variance: Array
    zn_energy_ki_uM: Array
    glycolysis_atp_fraction: Array
    dissolution_switch_rate_per_h: Array
    dissolution_switch_ph: Array
    dissolution_switch_steepness_per_ph: Array
    cargo_mass_fraction: Array
    cargo_kill_max_per_h: Array
    cargo_kill_half_ug_per_ml: Array
    cargo_kill_hill: Array
    coproduct_per_zn: Array
    coproduct_pKa: Array
    h2o2_decay_per_s: Array
    h2o2_permeation_per_s: Array
    fenton_catalyst_uM: Array
    fenton_rate_per_uM_per_s: Array
    h2s_oxidation_per_s: Array
    h2s_catalase_ki_uM: Array
    h2s_respiration_ki_uM: Array
    lysosome_ph: Array
    extracellular_gap_nm: Array
    light_absorption_cm2_per_ug: Array
    # the medium's hold on dissolved zinc (`[medium]`, zn_pde.materials.media)
    zn_complexation_factor: Array  # total / free Zn2+ in the extracellular fluid
    zinc_phosphate_limit_uM: Array  # dissolved zinc at hopeite saturation, pH 6.8 (0: none)
    zn_uM_per_ug_per_ml: float = eqx.field(static=True)

    @classmethod
    def from_config(cls, kinetics: dict[str, float], lysosome_ph: float,
                    zn_uM_per_ug_per_ml: float, dtype=jnp.float32,
                    extracellular_gap_nm: float = 120.0,
                    medium: dict[str, float | None] | None = None) -> Kinetics:
        """`medium`: the resolved `[medium]` table (default: its default composition)."""
        own = ("zn_uM_per_ug_per_ml", "lysosome_ph", "extracellular_gap_nm", *MEDIUM_FIELDS)
        names = [f.name for f in cls.__dataclass_fields__.values() if f.name not in own]
        values = {n: jnp.asarray(kinetics[n], dtype) for n in names}
        medium = medium or medium_constants(DEFAULT_COMPOSITION)
        limit = medium.get("zinc_phosphate_limit_uM")
        return cls(**values, lysosome_ph=jnp.asarray(lysosome_ph, dtype),
                   extracellular_gap_nm=jnp.asarray(extracellular_gap_nm, dtype),
                   zn_complexation_factor=jnp.asarray(medium["zn_complexation_factor"], dtype),
                   zinc_phosphate_limit_uM=jnp.asarray(0.0 if limit is None else limit,
                                                       dtype),
                   zn_uM_per_ug_per_ml=zn_uM_per_ug_per_ml)

    # --- the laws, each a pure function of arrays --------------------------------------------

    def dissolution_rate_per_s(self, ph: ArrayLike) -> Array:
        """The material's dissolution law at this pH (1/s; `dissolution_law_per_s`)."""
        return dissolution_law_per_s(
            ph, self.dissolution_rate_per_h, self.dissolution_proton_order,
            self.dissolution_switch_rate_per_h, self.dissolution_switch_ph,
            self.dissolution_switch_steepness_per_ph)

    @property
    def zn_uM_per_particle_ug_per_ml(self) -> Array:
        """Zn released per µg/mL of particle (the cargo carries no zinc)."""
        return self.zn_uM_per_ug_per_ml * (1.0 - self.cargo_mass_fraction)

    def solubility_uM(self, ph: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
        """zn_sat = α K [H⁺]² (µM) for a material without a co-product; α = total / free
        Zn²⁺ of the fluid (1 in the cells' lysosomes, whose zinc `zn` is the free one)."""
        return alpha * 10.0 ** log10_k_h2_uM(self.solubility_log10_K, ph)

    def ion_product_K_uM2(self, ph: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
        """α K [H⁺]² (µM²): the limit of [Zn²⁺] times the neutral co-product (H₂O₂, H₂S)
        for a material with a co-product (ZnO₂ + 2H⁺ → Zn²⁺ + H₂O₂, ZnS + 2H⁺ → Zn²⁺ + H₂S)."""
        return alpha * 10.0 ** (log10_k_h2_uM(self.solubility_log10_K, ph) + 6.0)

    def ion_product_limit_uM2(self, ph: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
        """α K [H⁺]² / n(pH) (µM²): the limit of [Zn²⁺] c, c the co-product's total and n
        its neutral share at this pH (`neutral_coproduct_share`)."""
        return self.ion_product_K_uM2(ph, alpha) / self.neutral_coproduct_share(ph)

    def neutral_coproduct_share(self, ph: ArrayLike) -> Array:
        """n = 1 / (1 + 10^(pH − pKa)): the share of the co-product's total that is the
        neutral acid (H₂S of total sulfide), the form in K and the one crossing membranes."""
        return neutral_share(jnp.asarray(ph), self.coproduct_pKa)

    def headroom_uM(self, zn: Array, coproduct: Array | None, ph: ArrayLike,
                    alpha: ArrayLike = 1.0, removal: ArrayLike = 0.0) -> Array:
        """Zn²⁺ that may still dissolve before the solubility limit: zn_sat − zn without a
        co-product; with one (ν per Zn), the positive root x of (zn + x)(c + νx) = α K [H⁺]²/n,
        n the co-product's neutral share (`ion_product_limit_uM2`).

        `removal` = κΔt, the co-product's first-order removal over a step (H₂S's oxidation,
        H₂O₂'s decay and uptake by cells): the limit then holds at the step's end, where c
        has decayed to c e^{−κΔt} and the νx released evenly over the step left ν x (1 −
        e^{−κΔt})/(κΔt) (`decayed_share`): the root of (zn + x)(c e^{−κΔt} + ν x (1 −
        e^{−κΔt})/(κΔt)) = α K [H⁺]²/n. So what the removal makes room for dissolves within
        the step, as it does in continuous time, instead of one step later (at κΔt = 1.4, a
        ZnS vial's 600 s steps, the fluid's zinc came out a third low)."""
        if coproduct is None:
            return jnp.maximum(self.solubility_uM(ph, alpha) - zn, 0.0)
        ksat = self.ion_product_limit_uM2(ph, alpha)
        removal = jnp.asarray(removal)
        coproduct = coproduct * jnp.exp(-removal)
        nu = jnp.maximum(self.coproduct_per_zn * decayed_share(removal), 1e-12)
        b = nu * zn + coproduct
        gap = ksat - zn * coproduct
        root = 2.0 * gap / (b + jnp.sqrt(jnp.maximum(b * b + 4.0 * nu * gap, 0.0)))
        return jnp.maximum(root, 0.0)

    def saturation(self, zn: Array, coproduct: Array | None, ph: ArrayLike,
                   alpha: ArrayLike = 1.0, removal: ArrayLike = 0.0) -> Array:
        """Ω = ion product / (α K [H⁺]² / n) (`ion_product_limit_uM2`, n the co-product's
        neutral share; without a co-product Ω = zn / zn_sat); dissolution slows as (1 − Ω)₊.
        With `removal` = κΔt (`headroom_uM`), the co-product's mean over the step under that
        removal, c (1 − e^{−κΔt})/(κΔt), enters the ion product: the step's dissolution runs
        at the saturation the step holds on average, not at its start's."""
        if coproduct is None:
            return zn / self.solubility_uM(ph, alpha)
        coproduct = coproduct * decayed_share(jnp.asarray(removal))
        return zn * coproduct / self.ion_product_limit_uM2(ph, alpha)

    def phosphate_limit_uM(self, ph: ArrayLike) -> Array:
        """Dissolved zinc at saturation with zinc phosphate (hopeite) at this pH:
        zn_P(6.8) (f₃(6.8) / f₃(pH))^{2/3}, f₃ the PO₄³⁻ share of the phosphate; zinc
        beyond it precipitates (`precipitate_phosphate`). 0 when the medium holds no
        phosphate that binds."""
        return self.zinc_phosphate_limit_uM * phosphate_limit_ratio(ph)

    def precipitate_phosphate(self, zn: Array, zn_phosphate: Array, ph: ArrayLike
                              ) -> tuple[Array, Array]:
        """Zinc phosphate in equilibrium with the fluid (taken as instantaneous): of the
        zinc dissolved and precipitated, what exceeds `phosphate_limit_uM` is solid, the
        rest dissolved (a precipitate redissolves where the limit rises, e.g. in acid).
        Returns (dissolved, precipitated), per fluid volume; their sum is conserved."""
        pool = zn + zn_phosphate
        solid = jnp.where(self.zinc_phosphate_limit_uM > 0,
                          jnp.maximum(pool - self.phosphate_limit_uM(ph), 0.0), 0.0)
        return pool - solid, solid

    def fluid_saturation(self, zn: Array, coproduct: Array | None, ph: ArrayLike,
                         removal: ArrayLike = 0.0) -> Array:
        """Ω of the particle in the extracellular fluid, with the medium's complexation.
        Zinc phosphate does not enter it: it holds the dissolved zinc at its own limit, so
        in a phosphate medium the particle keeps dissolving (and releasing its co-product
        and cargo) as its zinc precipitates. `removal`: see `saturation`."""
        return self.saturation(zn, coproduct, ph, self.zn_complexation_factor, removal)

    def fluid_headroom_uM(self, zn: Array, coproduct: Array | None, ph: ArrayLike,
                          removal: ArrayLike = 0.0) -> Array:
        """Zinc that may still dissolve in the extracellular fluid (see `fluid_saturation`
        and, for `removal`, `headroom_uM`)."""
        return self.headroom_uM(zn, coproduct, ph, self.zn_complexation_factor, removal)

    def membrane_reach_fraction(self, cell_fraction: ArrayLike, fluid_fraction: ArrayLike
                                ) -> Array:
        """Share of the short-lived ROS made by particles in the fluid that reach a cell
        before they react: ℓ a, ℓ their diffusion distance and a the membrane area per fluid
        volume, the smaller of a slit channel's 2 / gap (tissue) and the cells' own surface
        6 φ / (d α) (sparse cells in a culture well), at most 1."""
        per_fluid = _safe_div(jnp.asarray(cell_fraction), jnp.asarray(fluid_fraction))
        area_per_um = jnp.minimum(2.0e3 / self.extracellular_gap_nm,
                                  6.0 * per_fluid / self.cell_diameter_um)
        return jnp.minimum(1.0, 1e-3 * self.short_lived_ros_reach_nm * area_per_um)

    def peroxide_fates(self, catalase_activity: ArrayLike = 1.0,
                       gsh: Array | None = None) -> PeroxideFates:
        """What becomes of H₂O₂ at a cell (`PeroxideFates`): a membrane of permeation k_p
        (per cell volume) in series with first-order removal inside,
            k_int = a k_cat + k_px G/(K_g + G) + k_dmg K_g/(K_g + G) + k_F [Fe]:
        catalase at the activity a that H₂S leaves it, the glutathione peroxidases as far as
        the cell's glutathione G lets them, its own molecules (protein thiols: damage) as
        far as glutathione does not intercept the peroxide first, and Fenton chemistry with
        labile iron (G the resting level without a glutathione pool). The cell's H₂O₂
        answers the fluid's c and its own production P within milliseconds (1/k_int), so it
        is at steady state, c_in = (k_p c + P) / (k_p + k_int): the cell takes the fluid's
        H₂O₂ up at k_cell = k_p k_int / (k_p + k_int), lets the share e = k_p / (k_p +
        k_int) of what it makes leave, and removes what it keeps by each path in proportion
        to its rate. More catalase, or more glutathione peroxidase while glutathione lasts,
        lowers c_in and with it the damage and the ·OH."""
        g = self.gsh_initial_uM if gsh is None else gsh
        share = g / (self.gsh_half_uM + g)  # glutathione's, against the cell's own molecules
        fenton = self.fenton_rate_per_uM_per_s * self.fenton_catalyst_uM
        catalase = catalase_activity * self.catalase_rate_per_s
        k_int = (catalase + self.peroxidase_rate_per_s * share
                 + self.peroxide_damage_rate_per_s * (1.0 - share) + fenton)
        k_p = self.h2o2_permeation_per_s
        total = k_p + k_int
        return PeroxideFates(
            uptake_per_s=_safe_div(k_p * k_int, total),
            escape=jnp.where(total > 0, _safe_div(k_p, total), 1.0),
            catalase=_safe_div(catalase, k_int), fenton=_safe_div(fenton, k_int),
            glutathione=_safe_div(self.peroxidase_rate_per_s, k_int),
            damage=_safe_div(self.peroxide_damage_rate_per_s, k_int))

    def peroxide_escape_share(self, catalase_activity: ArrayLike = 1.0,
                              gsh: Array | None = None) -> Array:
        """Share of the H₂O₂ made inside a cell (ZnO₂ dissolving in its lysosomes) that
        leaves it, and the ratio of the cell's H₂O₂ to the fluid's when it makes none:
        k_p / (k_p + k_int) (`peroxide_fates`)."""
        return self.peroxide_fates(catalase_activity, gsh).escape

    def coproduct_escape_share(self, h2o2: bool, catalase_activity: ArrayLike = 1.0,
                               gsh: Array | None = None) -> Array | float:
        """Share of the co-product made in the lysosomes that reaches the fluid: H₂O₂'s
        `peroxide_escape_share`; H₂S (its intracellular removal not modelled) all of it."""
        return self.peroxide_escape_share(catalase_activity, gsh) if h2o2 else 1.0

    def gssg_reduction_per_s(self, gsh: Array) -> Array:
        """First-order rate (1/s) at which glutathione reductase returns the oxidised
        glutathione G₀ − G to GSH: it reduces the GSSG, S = (G₀ − G)₊/2, at V S/(K_R + S)
        (V the capacity the NADPH supply allows), giving back 2 GSH each, so
        dG/dt = V/(K_R + S) (G₀ − G). The cell's total glutathione is taken as its resting
        level G₀ (GSSG that is exported or conjugated is the slow resynthesis's part)."""
        gssg = 0.5 * jnp.maximum(self.gsh_initial_uM - gsh, 0.0)
        return _safe_div(self.gssg_reduction_max_uM_per_s, self.gssg_reduction_half_uM + gssg)

    def glutathione_after(self, gsh: Array, load_uM_per_s: Array, dt_s: float) -> Array:
        """GSH after a step of dG/dt = −L G/(K_g + G) + (k_R(G) + k_syn)(G₀ − G): the
        peroxidases' load L (GSH they would consume per second at full interception, ν F,
        frozen) taken at G/(K_g + G), glutathione reductase's recycling at k_R
        (`gssg_reduction_per_s`) and resynthesis at k_syn. Linear in G with the two
        coefficients frozen, it is solved exactly over the step (so G stays in [0, G₀]);
        the coefficients are taken at the step's start, then twice at its mean G
        (predictor–corrector: k_R grows steeply as GSSG vanishes, and L/(K_g + G) as GSH
        does). The recycling holds GSH near G₀ while L stays below its capacity 2V, and
        GSH collapses beyond it (the abrupt collapse when 'hydroperoxide formation exceeds
        that of regeneration of GSH': Flohé 1979)."""
        syn = self.gsh_resynthesis_per_h / 3600.0

        def advance(at: Array) -> Array:
            consumption = load_uM_per_s / (self.gsh_half_uM + at)
            back = self.gssg_reduction_per_s(at) + syn
            rate = consumption + back
            target = _safe_div(back * self.gsh_initial_uM, rate)
            return _relax(gsh, target, rate, dt_s)

        after = advance(gsh)
        for _ in range(2):
            after = advance(0.5 * (gsh + after))
        return after

    def mt_capacity_left_uM(self, gsh: Array | None) -> Array:
        """Metallothionein zinc sites left to buffer, B (1 − c + c GSH/GSH₀): the thiolate
        clusters are oxidised, releasing their zinc, as the glutathione couple is (c the
        `mt_redox_coupling`; none lost at the resting level)."""
        if gsh is None:
            return self.mt_capacity_uM
        gsh0 = self.gsh_initial_uM
        reduced = jnp.where(gsh0 > 0, jnp.clip(_safe_div(gsh, gsh0), 0.0, 1.0), 1.0)
        return self.mt_capacity_uM * (1.0 - self.mt_redox_coupling * (1.0 - reduced))

    def free_zinc_slope(self, free_uM: Array, gsh: Array | None = None) -> Array:
        """∂f/∂T at free Zn²⁺ f: 1 / (1 + B K_d / (K_d + f)²), the share of a change in the
        cell's labile zinc T that metallothionein leaves free (`free_zinc_uM`)."""
        kd = self.mt_kd_uM
        return 1.0 / (1.0 + self.mt_capacity_left_uM(gsh) * kd / (kd + free_uM) ** 2)

    def free_zinc_uM(self, zn_cell: Array, gsh: Array | None = None) -> Array:
        """Free Zn²⁺ left by metallothionein: positive root of f² + (K_d + B − T) f − K_d T = 0,
        B the sites left by the cell's redox state (`mt_capacity_left_uM`)."""
        kd, cap, total = self.mt_kd_uM, self.mt_capacity_left_uM(gsh), zn_cell
        b = kd + cap - total
        disc = jnp.sqrt(b * b + 4.0 * kd * total)
        # the two algebraically equal forms, each free of cancellation on its own side
        pos = 2.0 * kd * total / jnp.where(b > 0, b + disc, 1.0)
        return jnp.where(b > 0, pos, 0.5 * (disc - b))


def dissolution_law_per_s(ph: ArrayLike, rate_per_h: ArrayLike, proton_order: ArrayLike,
                          switch_rate_per_h: ArrayLike, switch_ph: ArrayLike,
                          steepness_per_ph: ArrayLike) -> ArrayLike:
    """k(pH) = k₇.₄ · 10^{n (7.4 − pH)} + k_sw / (1 + 10^{m (pH − pH½)}) (1/s): a
    proton-promoted term (oxides) and an acid switch (frameworks such as ZIF-8); the
    `dissolution_*` kinetic constants, as arrays (the solver) or numbers (the step check)."""
    proton = rate_per_h * 10.0 ** (proton_order * (7.4 - ph))
    switch = switch_rate_per_h / (1.0 + 10.0 ** (steepness_per_ph * (ph - switch_ph)))
    return (proton + switch) / 3600.0


def log10_k_h2_uM(solubility_log10_K: ArrayLike, ph: ArrayLike) -> ArrayLike:
    """log₁₀ of K [H⁺]² in µM (K in M⁻¹ of MO + 2H⁺ ⇌ M²⁺ + H₂O, [H⁺] = 10^−pH M): the
    saturated Zn²⁺ of a material without a co-product; + 6 makes it the ion product's µM²."""
    return solubility_log10_K - 2.0 * ph + 6.0


def neutral_share(ph: ArrayLike, pKa: ArrayLike) -> ArrayLike:
    """1 / (1 + 10^(pH − pKa)): the share of a weak acid's total that is the neutral acid."""
    return 1.0 / (1.0 + 10.0 ** (ph - pKa))


def _float_tangents(primals: tuple, tangents: tuple) -> tuple[Array, ...]:
    """A custom JVP's tangents with an integer argument's (a Python or NumPy constant's:
    JAX passes float0, no tangent) as a zero of the primals' float type."""
    zero = jnp.zeros((), jnp.result_type(*primals, float))
    return tuple(zero if t.dtype == jax.dtypes.float0 else t for t in tangents)


#: u = θΔH/(1 + θH) below which `frailty_hazard` sums the series of ln(1 + u)/u, and its
#: number of terms: the first left out, u¹⁶/17, is 6e-18 of the sum at u = 0.1 (below float64
#: round-off), u⁸/9 = 1.1e-9 in float32 (below its 6e-8); above 0.1 log1p's θ-derivative
#: loses at most ~1.3 digits to cancellation
FRAILTY_SERIES_BELOW = 0.1
FRAILTY_SERIES_TERMS = 16
FRAILTY_SERIES_TERMS_FLOAT32 = 8


def frailty_hazard(variance: ArrayLike, hazard: ArrayLike, step: ArrayLike) -> Array:
    """The population's hazard over a step in which a cell of frailty 1 accumulates `step`
    on top of `hazard`, its frailties gamma-distributed with mean 1 and `variance` θ
    (Vaupel, Manton & Stallard 1979, Demography 16:439, doi:10.2307/2061224): the survival
    S(H) = (1 + θ H)^(−1/θ) gives −ln S(H + ΔH) + ln S(H) = ln(1 + θ ΔH/(1 + θ H))/θ, which
    is ΔH at θ = 0 (cells of one sensitivity, S = e^{−H}) and falls below it as the frailer
    cells die. Evaluated as a · ln(1 + u)/u, u = θ ΔH/(1 + θ H), a = ΔH/(1 + θ H): below
    u = `FRAILTY_SERIES_BELOW` by the series Σ (−u)ⁿ/(n + 1) (exact value and θ-derivative
    at θ = 0, where a fit may start), else through log1p. The hand-over lies at 0.1, not
    near 0, because the θ-derivative of log1p(u)/θ is (u/(1 + u) − ln(1 + u))/θ², which
    cancels to ~u²/2: in float32 it keeps ~−log10(u) digits fewer (1e-4 relative at u =
    1e-3); `FRAILTY_SERIES_TERMS` terms leave the series within round-off there."""
    theta = jnp.asarray(variance)
    step = jnp.asarray(step)
    a = step / (1.0 + theta * hazard)  # ΔH/(1 + θH): the step's hazard of the survivors' mean
    u = theta * a
    small = u < FRAILTY_SERIES_BELOW
    theta_safe = jnp.where(small, 1.0, theta)
    log_form = jnp.log1p(jnp.where(small, 0.0, u)) / theta_safe
    v = jnp.where(small, u, 0.0)  # the polynomial never sees a large u (no overflow, no NaN)
    ratio = jnp.zeros_like(v)  # ln(1 + v)/v by Horner: 1 − v(1/2 − v(1/3 − ...))
    terms = FRAILTY_SERIES_TERMS_FLOAT32 if v.dtype == jnp.float32 else FRAILTY_SERIES_TERMS
    for n in range(terms - 1, -1, -1):
        ratio = 1.0 / (n + 1) - v * ratio
    return jnp.where(small, a * ratio, log_form)


@jax.custom_jvp
def _hill(x: Array, half: Array, n: Array) -> Array:
    """x^n / (K^n + x^n), zero (with zero gradient) at x = 0.

    Differentiated as dh = h (1 − h) [n (dx/x − dK/K) + ln(x/K) dn] (`_hill_jvp`), not
    through (K/x)^n: at a tiny x (a nearly empty voxel's zinc, 1e-20 in float32) that power
    overflows to ∞, and JAX's derivative of 1/(1 + ∞) came out ∞/∞ = NaN where the exact
    one is 0. The value is computed as before."""
    pos = x > 0
    xs = jnp.where(pos, x, 1.0)
    return jnp.where(pos, 1.0 / (1.0 + (half / xs) ** n), 0.0)


@_hill.defjvp
def _hill_jvp(primals: tuple[Array, Array, Array], tangents: tuple[Array, Array, Array]
              ) -> tuple[Array, Array]:
    x, half, n = primals
    h = _hill(x, half, n)
    dx, dk, dn = _float_tangents(primals, tangents)
    # where 0 < h < 1, (K/x)^n is finite and positive, and so are 1/x, 1/K and ln(x/K);
    # elsewhere h is 0 or 1 and h (1 − h) = 0: flat (at K = 0, h = 1 for every x > 0, and
    # 1/K and ln(x/K) would make that 0 · ∞ = NaN)
    live = (h > 0) & (h < 1)
    xs = jnp.where(live, x, 1.0)
    ks = jnp.where(live, half, 1.0)
    slope = n * (dx / xs - dk / ks) + jnp.log(xs / ks) * dn
    return h, jnp.where(live, h * (1.0 - h) * slope, 0.0)


def _relax(x0: Array, target: Array, rate_per_s: Array, dt_s: float) -> Array:
    """Exact solution of dx/dt = rate (target − x) over dt."""
    return target + (x0 - target) * jnp.exp(-rate_per_s * dt_s)


@jax.custom_jvp
def _safe_div(num: Array, den: Array) -> Array:
    """num / den where den > 0, else 0 (with zero derivative there).

    Differentiated as d(n/d) = (dn − (n/d) dd)/d (`_safe_div_jvp`), not by JAX's rule for
    a quotient, dn/d − n dd d⁻²: d⁻² overflows once d is below ~1e-19 in float32, the
    square root of the smallest normal number (and XLA:CPU flushes a subnormal d² to 0), so
    where nothing moves (n = 0) the derivative was 0 · ∞ = NaN. Such d occur: a medium
    shell's last particles (~1e-19 µg/mL, `_space.Faces.exchange`) made a float32 spheroid
    fit's derivatives NaN; a nearly dead voxel's living share φ V. The quotient is the same
    as before."""
    ok = den > 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


@_safe_div.defjvp
def _safe_div_jvp(primals: tuple[Array, Array], tangents: tuple[Array, Array]
                  ) -> tuple[Array, Array]:
    num, den = primals
    ok = den > 0
    d_num, d_den = _float_tangents(primals, tangents)
    safe = jnp.where(ok, den, 1.0)
    quotient = jnp.where(ok, num / safe, 0.0)
    return quotient, jnp.where(ok, (d_num - quotient * d_den) / safe, 0.0)


def oxygen_uptake_per_s(oxygen: Oxygen, o2: Array, cell_fraction: ArrayLike,
                        viability: Array, respiration: ArrayLike = 1.0) -> Array:
    """First-order rate κ (1/s) of O₂ consumption by living cells: Michaelis–Menten uptake
    φ · viability · respiration · q_max / (K_m + O₂), divided by O₂ (`respiration` < 1 where
    free Zn²⁺ or H₂S inhibits it, as in `energy_charge`). Grid runs remove κ·O₂ implicitly
    in the transport solve (`Model.step`), well-mixed runs in `react`."""
    return (cell_fraction * viability * respiration * oxygen.consumption_max_uM_per_s
            / (oxygen.consumption_half_uM + o2))


def ros_o2_factor(o2: ArrayLike, half_uM: ArrayLike, o2_free_share: ArrayLike = 0.0
                  ) -> ArrayLike:
    """Share of a photo- or sonodynamic ROS yield left at O₂ (µM): s + (1 − s) O₂/(K + O₂),
    with s the share made without O₂ (0 for light; `Oxygen.sono_o2_free_share` for
    ultrasound). Plain arithmetic, so NumPy arrays and floats work too."""
    return o2_free_share + (1.0 - o2_free_share) * o2 / (half_uM + o2)


def respiration_factor(k: Kinetics, h2s: Array) -> Array:
    """Fraction of mitochondrial respiration left by H₂S: 1 / (1 + H₂S / K_i)."""
    return 1.0 / (1.0 + h2s / k.h2s_respiration_ki_uM)


def energy_charge(k: Kinetics, free_zn: Array, h2s: Array | None = None,
                  o2: Array | None = None, oxygen: Oxygen | None = None) -> Array:
    """ATP supply relative to an untreated cell, E = G (g + (1 − g) R) ∈ [0, 1]: free Zn²⁺
    inhibits both glycolysis (GAPDH, NAD⁺ loss) and respiration (α-KGDH, complexes III, IV)
    as G = 1 / (1 + f / K_Zn); respiration, a share 1 − g of ATP at rest, is also limited by
    O₂ (Michaelis–Menten, when oxygen is modelled) and H₂S (complex IV, `respiration_factor`)."""
    g = k.glycolysis_atp_fraction
    resp = 1.0
    if h2s is not None:
        resp = respiration_factor(k, h2s)
    if o2 is not None and oxygen is not None:
        resp = resp * o2 / (oxygen.consumption_half_uM + o2)
    return (g + (1.0 - g) * resp) / (1.0 + free_zn / k.zn_energy_ki_uM)


class Rates(NamedTuple):
    """First-order rates (1/s) and sources, frozen at the step start, of the processes that
    remove or feed a mobile species; the transport solve applies them implicitly
    (`Model.step`), and `react` hands what each sink removed to its destination in the
    proportions of these rates. All mobile concentrations are per extracellular fluid volume
    (α, `fluid_fraction`); amounts are per voxel volume."""

    dissolution: Array  # particles -> Zn2+ (and co-product, cargo), k(pH) (1 - Ω)+
    uptake: Array  # particles -> cells, φ k_up V / α
    zn_influx: Array  # Zn2+ -> living cells, φ V k_in / α
    zn_efflux_uM: Array  # Zn2+ leaving cells over the step, per voxel volume (exact, ≤ pool)
    ros_decay: Array  # diffusible ROS lost outside cells
    ros_cells: Array  # diffusible ROS taken up and removed by living cells, φ V k_cell / α
    ros_production_uM_per_s: Array  # diffusible ROS made outside cells, per voxel volume
    local_ros_uM_per_s: ArrayLike = 0.0  # short-lived ROS reaching cells, per cell volume
    zn_ros_uM_per_s: ArrayLike = 0.0  # mitochondrial H2O2 from Zn2+, per living-cell volume
    h2o2_decay: ArrayLike = 0.0
    h2o2_cells: ArrayLike = 0.0  # taken up and removed by living cells, φ V k_cell / α
    h2s_oxidation: ArrayLike = 0.0
    o2_uptake: ArrayLike = 0.0  # per tissue volume (O2 crosses cells)
    o2_stimulus: ArrayLike = 0.0  # O2 the stimuli's oxidants are made from, per tissue volume
    o2_resupply: ArrayLike = 0.0  # well-mixed gas exchange towards the medium value
    o2_resupply_uM_per_s: ArrayLike = 0.0
    catalase_activity: ArrayLike = 1.0  # left by H2S inhibition


def coproduct_removal_per_s(h2s_oxidation: ArrayLike, h2o2_decay: ArrayLike,
                            h2o2_cells: ArrayLike) -> Array:
    """κ (1/s): the first-order removal of the particle's co-product from the fluid (H₂S's
    oxidation, or H₂O₂'s decay and uptake by the cells; 0 without a co-product), which
    makes room for dissolution at the solubility limit (`Kinetics.headroom_uM`)."""
    return jnp.asarray(h2s_oxidation) + h2o2_decay + h2o2_cells


def rates(k: Kinetics, s: Local, env: Environment, dt_s: float, fluid_fraction: ArrayLike,
          oxygen: Oxygen | None = None, photosensitiser_yield: Array | None = None) -> Rates:
    """The linear(ised) sinks and sources of the mobile species at the step start."""
    phi = jnp.asarray(env.cell_fraction, s.np.dtype)
    alpha = jnp.asarray(fluid_fraction, s.np.dtype)
    has_cells = phi > 0
    alive = s.viability
    coproduct = s.h2o2 if s.h2o2 is not None else s.h2s
    per_fluid = phi / alpha  # cell volume per fluid volume

    uptake = per_fluid * k.uptake_rate_per_h / 3600.0 * alive

    # Zn2+ export from the living cells (free fraction frozen; exact, so never more than
    # the pool); the cells' pools are per living-cell volume, φ V of the voxel
    free = k.free_zinc_uM(s.zn_cell, s.gsh)
    free_fraction = jnp.where(s.zn_cell > 0, _safe_div(free, s.zn_cell),
                              k.mt_kd_uM / (k.mt_kd_uM + k.mt_capacity_left_uM(s.gsh)))
    beta = jnp.where(has_cells, k.zn_efflux_per_h / 3600.0 * free_fraction, 0.0)
    efflux = phi * alive * s.zn_cell * -jnp.expm1(-beta * dt_s)

    catalase_activity = respiration = 1.0
    h2s_oxidation = 0.0
    if s.h2s is not None:
        h2s_oxidation = k.h2s_oxidation_per_s
        catalase_activity = 1.0 / (1.0 + s.h2s / k.h2s_catalase_ki_uM)
        respiration = respiration_factor(k, s.h2s)
    # H2O2-like oxidants outside cells cross the living cells' membranes and are removed
    # inside (catalase, glutathione peroxidases, Fenton), at k_cell per cell volume
    cells = per_fluid * alive * k.peroxide_fates(catalase_activity, s.gsh).uptake_per_s
    h2o2_decay = h2o2_cells = 0.0
    if s.h2o2 is not None:
        h2o2_decay, h2o2_cells = k.h2o2_decay_per_s, cells
    # dissolution slows as the fluid nears saturation, at the co-product the step holds on
    # average under its removal (`Kinetics.saturation`)
    omega = k.fluid_saturation(s.zn, coproduct, env.ph,
                               coproduct_removal_per_s(h2s_oxidation, h2o2_decay, h2o2_cells)
                               * dt_s)
    dissolution = k.dissolution_rate_per_s(env.ph) * jnp.clip(1.0 - omega, 0.0, 1.0)

    # ROS made by activated particles (ultrasound cavitation, photons above the band gap, a
    # co-loaded photosensitiser), fewer where O2 is short. Short-lived ·OH and ¹O₂ act where
    # they are made: those from particles inside cells, and the share of those from particles
    # in the fluid that reaches a membrane, hit the cells (per cell volume); in the fluid the
    # rest react with its solutes. The particles in the fluid also make H2O2 (via
    # superoxide), the diffusible ROS (per voxel volume).
    # Light acts through the photons the particles absorb, κ q per µg/mL (µM/s; κ the mass
    # absorption, q the photon flux above the band gap), times a quantum yield (≤ 1); a
    # photosensitiser through those its dye absorbs, times its singlet-oxygen quantum yield.
    # Per µg/mL of particles at full O2: radicals and diffusible ROS, by cavitation and light.
    absorbed = k.light_absorption_cm2_per_ug * env.photon_flux_nmol_per_cm2_s
    sono_radicals = k.sono_radical_yield_uM_per_s_per_ug_per_ml * env.cavitation
    light_radicals = k.photo_radical_quantum_yield * absorbed
    if photosensitiser_yield is not None:
        light_radicals = light_radicals + (photosensitiser_yield
                                           * env.photosensitiser_photons_uM_per_s)
    sono_diffusible = k.sono_ros_yield_uM_per_s_per_ug_per_ml * env.cavitation
    light_diffusible = k.photo_ros_quantum_yield * absorbed

    o2_factor = sono_o2_factor = 1.0
    o2_uptake = o2_stimulus = o2_resupply = o2_resupply_source = 0.0
    if s.o2 is not None and oxygen is not None:
        # respiration consumes O2 only as far as free Zn2+ and H2S leave it running (the same
        # inhibition G = 1/(1 + f/K_Zn) and R_H2S as in `energy_charge`)
        o2_uptake = oxygen_uptake_per_s(oxygen, s.o2, phi, alive,
                                        respiration / (1.0 + free / k.zn_energy_ki_uM))
        o2_resupply = jnp.asarray(env.o2_resupply_per_s) * oxygen.resupply_per_s
        o2_resupply_source = o2_resupply * oxygen.medium_uM
        # The stimuli's oxidants are made from O2, one each: ¹O₂ by energy transfer to O2,
        # O2•− by electron transfer, whose dismutation (2 O2•− + 2 H⁺ → H2O2 + O2) leaves one
        # H2O2 per O2 consumed; catalase gives half of it back (`react`). Cavitation may make
        # a share s of its ROS without O2 (water's pyrolysis, the particles' holes); the rest,
        # and all of light's, needs O2 as f = O2/(K + O2). That O2-dependent production,
        # P (1 − s) f for every oxidant made (at the particles in the living cells and in
        # the fluid, whether or not it reaches a cell), is a first-order sink
        # P (1 − s)/(K + O2) per tissue volume. Not counted: the ultrasound's short-lived
        # yield, an effective constant calibrated to a kill (far above cell-free radical
        # yields, `sono_radical_yield_uM_per_s_per_ug_per_ml`), not a count of molecules made
        # from O2: at 20 µg/mL and 1 W/cm² it would take a well's O2 in a tenth of a second.
        # Cavitation's O2 use is that of its diffusible ROS, the cell-free sonochemical yield...
        free_share = oxygen.sono_o2_free_share
        made_at = alive * phi * s.np_int + alpha * s.np  # particle mass per tissue volume
        o2_stimulus = ((light_radicals * made_at
                        + ((1.0 - free_share) * sono_diffusible + light_diffusible)
                        * alpha * s.np) / (oxygen.ros_half_uM + s.o2))
        # ... and f is taken at the O2 the step holds on average under its frozen sinks and
        # supply, c∞ + (c₀ − c∞)(1 − e^{−κΔt})/(κΔt), over K + c₀: so the oxidants made over
        # a step are the O2 the step's sink removes (exactly in a well-mixed compartment;
        # never more than there is)
        kappa = o2_uptake + o2_stimulus + o2_resupply
        settled = _safe_div(o2_resupply_source, kappa)
        mean_o2 = settled + (s.o2 - settled) * decayed_share(kappa * dt_s)
        o2_factor = mean_o2 / (oxygen.ros_half_uM + s.o2)
        sono_o2_factor = free_share + (1.0 - free_share) * o2_factor

    radicals = sono_o2_factor * sono_radicals + o2_factor * light_radicals
    reach = jnp.where(has_cells, k.membrane_reach_fraction(phi, alpha), 0.0)
    local = jnp.where(has_cells, radicals
                      * (s.np_int + reach * _safe_div(alpha * s.np, phi)), 0.0)
    diffusible = sono_o2_factor * sono_diffusible + o2_factor * light_diffusible
    production = diffusible * alpha * s.np
    zn_ros = jnp.where(has_cells, k.zn_ros_max_uM_per_s * _hill(free, k.zn_ros_half_uM, 2.0),
                       0.0)

    return Rates(
        dissolution=dissolution, uptake=uptake,
        zn_influx=per_fluid * alive * k.zn_influx_per_h / 3600.0, zn_efflux_uM=efflux,
        ros_decay=k.ros_decay_per_s + jnp.zeros_like(s.ros), ros_cells=cells,
        ros_production_uM_per_s=production, local_ros_uM_per_s=local, zn_ros_uM_per_s=zn_ros,
        h2o2_decay=h2o2_decay, h2o2_cells=h2o2_cells,
        h2s_oxidation=h2s_oxidation, o2_uptake=o2_uptake, o2_stimulus=o2_stimulus,
        o2_resupply=o2_resupply,
        o2_resupply_uM_per_s=o2_resupply_source, catalase_activity=catalase_activity)


class Dissolution(NamedTuple):
    """Where the particle mass the `np` sink removed over a step went, per voxel volume, and
    what may dissolve in the cells' lysosomes."""

    dissolved: Array  # into Zn²⁺ (and co-product, cargo)
    refused: Array  # beyond the solubility limit: stays particulate
    taken_up: Array  # endocytosed by the cells
    lysosomal: Array  # internalised particle mass the lysosomes dissolve unsaturated
    feedback_per_s: Array | ArrayLike = 0.0  # the co-product's saturation sink S f/K[H⁺]²
    # share of the lysosomes' co-product that leaves the cells for the fluid
    # (`Kinetics.coproduct_escape_share`; the rest the cells remove themselves)
    escape: Array | ArrayLike = 1.0


def dissolution(k: Kinetics, s: Local, removed_np: Array, r: Rates, env: Environment,
                fluid_fraction: ArrayLike, dt_s: float) -> Dissolution:
    """Split what the particle sink removed (`removed_np`, per voxel volume) between
    dissolution and uptake in the proportions of their rates; dissolution stops at the
    solubility limit of the step-start fluid (`s`), with a co-product at the step's end
    after its removal over the step (`Kinetics.headroom_uM`); the rest stays particulate.

    Lysosomal dissolution of the internalised particles: those held at the step start for
    the whole step, those endocytosed during it (at a steady rate, as the implicit uptake
    took them) from their arrival, ∂np_int/∂t = J − k np_int solved exactly over the step
    (`lysosomal`); with a co-product (ZnO₂, ZnS) slowed by (1 − Ω)₊, Ω = f e n c /
    K[H⁺]²_lys, f the cell's free Zn²⁺ after the step's export (known at its start), c the
    co-product in the fluid at the step end, e the cell's co-product per the fluid's (H₂O₂:
    `peroxide_escape_share`; H₂S: 1) and n its neutral share at the fluid's pH.
    The co-product leaves the cells (H₂O₂ and H₂S cross membranes) and its
    concentration answers the release within seconds (diffusion out of a spheroid), far
    faster than a step, so Ω is implicit in c: the release enters the solve of the mobile
    species as the source e S (1 − f e n c / K[H⁺]²), a source e S and a sink
    e² n S f / K[H⁺]² (`sinks_and_sources`), and `react` dissolves what that c leaves.
    Explicit in c, a spheroid's release alternated between full and none from step to
    step."""
    alpha = jnp.asarray(fluid_fraction, s.np.dtype)
    living = jnp.asarray(env.cell_fraction, s.np.dtype) * s.viability  # φ V
    conv = k.zn_uM_per_particle_ug_per_ml
    coproduct = s.h2o2 if s.h2o2 is not None else s.h2s
    # the smaller share as a product, the larger as the rest (so the two add up to what was
    # removed): as a difference the uptake of a nearly dead culture, its living cells' share
    # ~1e-16 of the sink, cancelled to 0 and its lysosomes emptied
    total = r.dissolution + r.uptake
    share_dissolved = _safe_div(r.dissolution, total)
    taken = removed_np * _safe_div(r.uptake, total)
    minor = share_dissolved <= 0.5
    would = jnp.where(minor, removed_np * share_dissolved, removed_np - taken)
    taken_up = jnp.where(minor, removed_np - would, taken)
    removal = coproduct_removal_per_s(r.h2s_oxidation, r.h2o2_decay, r.h2o2_cells) * dt_s
    dissolved = jnp.minimum(would, alpha * k.fluid_headroom_uM(s.zn, coproduct, env.ph,
                                                               removal) / conv)
    arrived = _safe_div(taken_up, living)  # per living-cell volume
    k_lys = k.dissolution_rate_per_s(k.lysosome_ph)
    freed = s.np_int * -jnp.expm1(-k_lys * dt_s) + arrived * _arrivals_dissolved(k_lys * dt_s)
    feedback, escape = 0.0, 1.0
    if coproduct is not None:
        # the co-product the lysosomes see: the fluid's times the share of what a cell makes
        # that leaves it (H2O2: its own peroxidases keep the cell's ~k_cell/k_int of the
        # fluid's, `peroxide_escape_share`; H2S: the fluid's); that share of the release
        # reaches the fluid, so the saturation sink on the fluid's c is e^2 n S f / K[H⁺]²
        # (n the fluid's neutral share of the co-product)
        escape = k.coproduct_escape_share(s.h2o2 is not None, r.catalase_activity, s.gsh)
        # the lysosomes' co-product per fluid µM: its neutral form crosses membranes and
        # the lysosome's pH keeps it neutral, so the fluid's neutral share n(pH) enters
        seen = escape * k.neutral_coproduct_share(env.ph)
        inside = seen * coproduct
        # f: the cell's free Zn²⁺ at the step end before the lysosomes' release, after the
        # step's export (known at its start, `rates`), which makes room for that release;
        # with the step-start f the release lagged the export and the cell's zinc
        # alternated about saturation from step to step
        exported = _safe_div(r.zn_efflux_uM, living)
        free = k.free_zinc_uM(jnp.maximum(s.zn_cell - exported, 0.0), s.gsh)
        ksat = k.ion_product_K_uM2(k.lysosome_ph)  # `inside` is neutral already
        feedback = free / ksat
        # implicit in f as well, linearised: the release R = S (1 − (f + f' R) c₀/K[H⁺]²)
        # raises the cell's free Zn²⁺ by f' R (f' = ∂f/∂T, metallothionein's buffering),
        # so S becomes S / (1 + S f' c₀/K[H⁺]²). The lysosomes dissolve ~3/h at pH 4.7: a
        # step's S can be tens of µM, and explicit in f the release overshot saturation
        # and swung the cell's zinc by several µM from step to step
        gain = freed * conv * k.free_zinc_slope(free, s.gsh) * inside / ksat
        freed = freed / (1.0 + gain)
        # saturated even so (f c₀ ≥ K[H⁺]²): the lysosomes dissolve as much as the
        # co-product's removal makes room for over the step, S (1 − c/c₀), the feedback
        # f/K[H⁺]² capped at 1/c₀, so the release is continuous in f c₀ and its sink
        # never takes co-product the lysosomes did not make while c stays below c₀
        # (written without dividing by c where it may be 0, so its gradient stays finite)
        saturated = feedback * inside > 1.0
        feedback = jnp.where(saturated, 1.0 / jnp.where(saturated, inside, 1.0), feedback)
        # e S (µM/s per fluid volume, what reaches the fluid) times that coefficient (1/µM
        # of the lysosomes' co-product) times e (the lysosomes' co-product per fluid µM)
        feedback = (k.coproduct_per_zn * conv * ((living * freed) / (alpha * dt_s))
                    * escape * seen * feedback)
    return Dissolution(dissolved, would - dissolved, taken_up, living * freed, feedback,
                       escape)


def sinks_and_sources(r: Rates, names: tuple[str, ...], fluid_fraction: ArrayLike, dt_s: float,
                      k: Kinetics | None = None, dissolved: Array | None = None,
                      lysosomal: Array | None = None, feedback_per_s: ArrayLike = 0.0,
                      escape: ArrayLike = 1.0) -> tuple[list[Array], list[Array]]:
    """κ (1/s) and S (µM/s, per the species' own volume) of each mobile species in `names`.

    Zn²⁺ export is exactly what leaves the cells over the step, spread over it; with
    `dissolved` (the particle mass per voxel volume that dissolved this step, `dissolution`)
    the Zn²⁺, co-product and cargo it releases enter as sources of the same solve, so the
    dissolved zinc is transported within the step instead of arriving after it; with
    `lysosomal` (dissolved in the cells, unsaturated) its co-product and cargo, which leave
    the cells, too (its zinc stays in the cells), the co-product's with its saturation
    implicit (`dissolution`) and only its share `escape` that leaves the cells (H₂O₂'s
    escapes the cell's own peroxidases, `Kinetics.peroxide_escape_share`; `react` hands the
    rest to the cell)."""
    alpha = jnp.asarray(fluid_fraction)
    release = cell_release = 0.0
    if dissolved is not None:
        release = dissolved / (alpha * dt_s)  # particle mass per fluid volume per second
    lysosome = 0.0
    if lysosomal is not None:  # unsaturated, particle mass per fluid volume per second
        lysosome = lysosomal / (alpha * dt_s)
        cell_release = release + lysosome
    # the lysosomes' co-product source e S (1 − f e n c / K[H⁺]²): e S and a sink
    # e² n S f / K[H⁺]² (1/s, `feedback_per_s`)
    # (a cargo with a co-product is solved after it, from what the lysosomes dissolved:
    # `step_with`; the cargo's source here is then not used)
    conv = 0.0 if k is None else k.zn_uM_per_particle_ug_per_ml
    nu = 0.0 if k is None else k.coproduct_per_zn
    cp_source = nu * conv * (release + escape * lysosome)
    cargo = 0.0 if k is None else k.cargo_mass_fraction
    table = {
        "np": (r.dissolution + r.uptake, 0.0),
        "zn": (r.zn_influx, r.zn_efflux_uM / (alpha * dt_s) + conv * release),
        "ros": (r.ros_decay + r.ros_cells, r.ros_production_uM_per_s / alpha),
        "h2o2": (r.h2o2_decay + r.h2o2_cells + feedback_per_s, cp_source),
        "h2s": (r.h2s_oxidation + feedback_per_s, cp_source),
        "cargo": (0.0, cargo * cell_release),
        "o2": (r.o2_uptake + r.o2_stimulus + r.o2_resupply, r.o2_resupply_uM_per_s),
        "zn_phosphate": (r.uptake, 0.0),  # particulate: endocytosed as the particles are
    }
    shape = jnp.shape(r.dissolution)
    sinks = [jnp.broadcast_to(jnp.asarray(table[n][0], r.dissolution.dtype), shape)
             for n in names]
    sources = [jnp.broadcast_to(jnp.asarray(table[n][1], r.dissolution.dtype), shape)
               for n in names]
    return sinks, sources


def lysosomal_freed(k: Kinetics, s: Local, removed: dict[str, Array], r: Rates,
                    d: Dissolution) -> Array:
    """Internalised particle mass the lysosomes dissolved over the step, per voxel volume:
    `d.lysosomal`, less, with a co-product (ZnO₂, ZnS), what its saturation held back. That is
    what the co-product's feedback sink took in the solve (its share of the sink), so each
    Zn²⁺ freed comes with ν co-product exactly (the fluid received the escaping share e of
    it: the sink took e ν per Zn²⁺)."""
    if s.h2o2 is None and s.h2s is None:
        return d.lysosomal
    name, kappa = (("h2o2", r.h2o2_decay + r.h2o2_cells) if s.h2o2 is not None
                   else ("h2s", r.h2s_oxidation))
    held = _safe_div(removed[name] * _safe_div(d.feedback_per_s, kappa + d.feedback_per_s),
                     jnp.maximum(k.coproduct_per_zn, 1e-12) * k.zn_uM_per_particle_ug_per_ml
                     * d.escape)
    return jnp.clip(d.lysosomal - held, 0.0, d.lysosomal)


def oxidants_taken(k: Kinetics, s: Local, removed: dict[str, Array], r: Rates,
                   d: Dissolution, freed: Array) -> tuple[Array, Array]:
    """Oxidants the living cells removed over the step, per voxel volume: (the diffusible
    ROS, that plus H₂O₂). The shares of the ROS and H₂O₂ sinks that are the cells' uptake
    (the saturation share of H₂O₂'s, `dissolution`, is no removal), and the H₂O₂ the
    lysosomes made from `freed` (`lysosomal_freed`, per voxel volume) that the cells' own
    peroxidases removed before it could leave (1 − e of it,
    `Kinetics.peroxide_escape_share`)."""
    taken_ros = removed["ros"] * _safe_div(r.ros_cells, r.ros_decay + r.ros_cells)
    taken = taken_ros
    if s.h2o2 is not None:
        taken = taken + removed["h2o2"] * _safe_div(
            r.h2o2_cells, r.h2o2_decay + r.h2o2_cells + d.feedback_per_s)
        taken = taken + ((1.0 - d.escape) * k.coproduct_per_zn
                         * k.zn_uM_per_particle_ug_per_ml * freed)
    return taken_ros, taken


def react(k: Kinetics, s: Local, removed: dict[str, Array], r: Rates, env: Environment,
          dt_s: float, fluid_fraction: ArrayLike, d: Dissolution,
          oxygen: Oxygen | None = None) -> Local:
    """The local processes after the implicit transport step (see the module docstring).

    `s` is the state after transport (mobile species already diffused, their sinks and
    sources applied, the dissolved zinc, co-product and cargo included); `removed[name]` is
    what each mobile species' sink took over the step, per voxel volume, handed here to its
    destination in the proportions of the rates `r`: endocytosed particles (`d.taken_up`)
    and imported Zn²⁺ to the cells, particle mass beyond the solubility limit (`d.refused`)
    back to the particles, catalysed H₂O₂ to O₂.
    """
    phi = jnp.asarray(env.cell_fraction, s.np.dtype)
    alpha = jnp.asarray(fluid_fraction, s.np.dtype)
    has_cells = phi > 0
    conv = k.zn_uM_per_particle_ug_per_ml
    alive = s.viability
    # the cells' pools are per living-cell volume: what crosses the membranes of a voxel's
    # living cells (φ V of its volume) changes them by amount / (φ V)
    living = phi * alive

    # 1. extracellular particles: what the solubility limit refused stays, uptake arrives;
    # in a phosphate medium the dissolved zinc beyond zinc phosphate's limit precipitates
    np_ext = s.np + d.refused / alpha
    zn, zn_phosphate = s.zn, s.zn_phosphate
    if zn_phosphate is not None:
        zn, zn_phosphate = k.precipitate_phosphate(zn, zn_phosphate, env.ph)
    arrived = _safe_div(d.taken_up, living)

    # 2. lysosomal dissolution of internalised particles (`lysosomal_freed`): its zinc stays
    # in the cells; its co-product (H2O2 or H2S) and cargo left them as sources of the solve
    freed = _safe_div(lysosomal_freed(k, s, removed, r, d), living)
    np_int = s.np_int + arrived - freed
    zn_cell = s.zn_cell + freed * conv
    if zn_phosphate is not None:  # endocytosed zinc phosphate, dissolved in the lysosomes
        zn_cell = zn_cell + _safe_div(removed["zn_phosphate"], living)
    h2o2, h2s, cargo = s.h2o2, s.h2s, s.cargo

    # 3. Zn2+ exchange: imported zinc arrives, exported zinc (already in the fluid) leaves
    zn_cell = jnp.maximum(zn_cell + _safe_div(removed["zn"] - r.zn_efflux_uM, living), 0.0)
    free = k.free_zinc_uM(zn_cell, s.gsh)

    # 4. oxidants the living cells removed over the step (`oxidants_taken`), split among the
    # paths inside in proportion to their rates at the step start (`Kinetics.peroxide_fates`):
    # catalase's share became O2 (2 H2O2 -> 2 H2O + O2, a source of O2's solve: `step_with`),
    # the glutathione peroxidases' consumes glutathione, what glutathione does not intercept
    # reacts with the cell's own molecules, Fenton's is ·OH
    fates = k.peroxide_fates(r.catalase_activity, s.gsh)
    taken_ros, taken = oxidants_taken(k, s, removed, r, d, freed * living)
    o2 = s.o2
    oxidant_in = _safe_div(taken, living * dt_s)  # µM/s per living-cell volume

    # 5. glutathione intercepts, at GSH/(K + GSH) while it lasts, the glutathione
    # peroxidases' flux F = (k_px/k_int) J and the mitochondrial H2O2 P of Zn2+-inhibited
    # respiration, consuming ν per oxidant (to GSSG, which glutathione reductase reduces back
    # as far as NADPH allows: `Kinetics.glutathione_after`); at K/(K + GSH) the peroxide
    # reacts instead with the cell's own molecules, (k_dmg/k_int) J and the rest of P, and
    # damages (the pool is the living cells')
    flux = fates.glutathione * oxidant_in + r.zn_ros_uM_per_s
    gsh0 = s.gsh
    gsh = k.glutathione_after(gsh0, k.gsh_per_ros * flux, dt_s)
    escape = k.gsh_half_uM / (k.gsh_half_uM + 0.5 * (gsh0 + gsh))
    escaped = (fates.damage * oxidant_in + r.zn_ros_uM_per_s) * escape
    gsh = jnp.where(has_cells, gsh, 0.0)

    # 6. cell death. Oxidative: every oxidant that reacts with the cell's own molecules
    # (short-lived ROS made at its particles, peroxide that escaped glutathione, ·OH from
    # Fenton chemistry of imported H2O2 with labile iron) is a hit; survival exp(−dose/D₀).
    damage_uM_per_s = r.local_ros_uM_per_s + escaped + fates.fenton * oxidant_in
    kill_per_s = damage_uM_per_s / k.oxidative_lethal_dose_uM
    # Energy failure: death as the ATP supply E falls (Zn2+, H2S, hypoxia): a Hill law in
    # the supply shortfall x = 1/E − 1 (0 for an untreated cell, f/K_Zn under zinc alone),
    # half-maximal at E = E½. The cells differ in how much energy failure they withstand
    # (frailty z, gamma-distributed with mean 1, variance θ): a cell's death rate is z times
    # the law's, so the population's energy survival is (1 + θ H_E)^(−1/θ), H_E the hazard
    # of a cell of mean frailty (`energy_hazard`); its step adds to the population's hazard
    # the increment of that survival's −ln (`frailty_hazard`)
    energy = jnp.maximum(energy_charge(k, free, h2s, o2, oxygen), 1e-12)
    energy_per_h = k.energy_kill_max_per_h * _hill(1.0 / energy - 1.0,
                                                   1.0 / k.energy_kill_half_atp - 1.0,
                                                   k.energy_kill_hill)
    energy_step = jnp.where(has_cells, energy_per_h / 3600.0 * dt_s, 0.0)
    energy_hazard = s.energy_hazard
    if energy_hazard is None:
        population_energy_step = energy_step
    else:
        population_energy_step = frailty_hazard(k.energy_kill_frailty_variance,
                                                energy_hazard, energy_step)
        energy_hazard = energy_hazard + energy_step
    kill_per_h = jnp.zeros_like(energy_per_h)
    if cargo is not None:
        kill_per_h = kill_per_h + k.cargo_kill_max_per_h * _hill(
            cargo, k.cargo_kill_half_ug_per_ml, k.cargo_kill_hill)
    step_hazard = population_energy_step + jnp.where(
        has_cells, (kill_per_h / 3600.0 + kill_per_s) * dt_s, 0.0)
    viability = alive * jnp.exp(-step_hazard)
    hazard = None if s.hazard is None else s.hazard + step_hazard

    # the stimuli's share of the oxidative hits: the short-lived ROS at the particles, and of
    # the diffusible ROS (made only by the stimuli) what escaped glutathione or made ·OH
    radical_dose = s.radical_dose
    if radical_dose is not None:
        stimulus_in = _safe_div(taken_ros, living * dt_s)
        hits = r.local_ros_uM_per_s + stimulus_in * (fates.damage * escape + fates.fenton)
        radical_dose = radical_dose + hits * dt_s
    # 7. the cells that died over the step keep what they held (the living cells' pools at
    # the step end), no longer exchanged, dissolved or exported
    np_dead, zn_dead = s.np_dead, s.zn_dead
    if np_dead is not None and zn_dead is not None:
        died = jnp.where(has_cells, alive - viability, 0.0)
        np_dead, zn_dead = np_dead + died * np_int, zn_dead + died * zn_cell
    return Local(np=np_ext, zn=zn, ros=s.ros, np_int=np_int, zn_cell=zn_cell, gsh=gsh,
                 viability=viability, h2o2=h2o2, h2s=h2s, cargo=cargo, o2=o2,
                 radical_dose=radical_dose, zn_phosphate=zn_phosphate, np_dead=np_dead,
                 zn_dead=zn_dead, hazard=hazard, energy_hazard=energy_hazard)


def _arrivals_dissolved(x: Array) -> Array:
    """Share of what arrives at a steady rate over a step that first-order decay (x = k Δt)
    removes within it: 1 − (1 − e^{−x})/x = 1 − `decayed_share` (x/2 − x²/6 for small x,
    where the difference would lose its digits)."""
    safe = jnp.where(x > 1e-3, x, 1.0)
    return jnp.where(x > 1e-3, 1.0 + jnp.expm1(-safe) / safe, x / 2.0 - x * x / 6.0)


def decayed_share(x: Array) -> Array:
    """(1 − e^{−x})/x, x = k Δt ≥ 0: what first-order decay at rate k removes over a step, as
    a share of the k c Δt it would remove at the starting rate (1 − x/2 as x → 0); the
    complement of `_arrivals_dissolved`."""
    small = x < 1e-6
    safe = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - 0.5 * x, -jnp.expm1(-safe) / safe)


def mobile_names(s: Local) -> tuple[str, ...]:
    """The mobile species present in `s`, in storage order."""
    return MOBILE + tuple(n for n in OPTIONAL if getattr(s, n) is not None)


def capacity(names: tuple[str, ...], fluid_fraction: ArrayLike) -> list[ArrayLike]:
    """Volume basis per species: α for those that move only outside cells, 1 for O₂."""
    return [1.0 if n == "o2" else fluid_fraction for n in names]


def solve_linear(c: Array, capacity: ArrayLike, sink_per_s: Array, source_uM_per_s: Array,
                 dt_s: float) -> tuple[Array, Array]:
    """dc/dt = S − κ c with κ, S frozen, solved exactly (no transport: a well-mixed
    compartment): c(Δt) = c e^{−κΔt} + S (1 − e^{−κΔt})/κ. Returns c(Δt) and the amount the
    sink removed per voxel volume, α (c + S Δt − c(Δt)) = α (c (1 − e^{−κΔt}) + S Δt −
    gained) ≥ 0, written without the difference c − c(Δt) (which loses the digits of a slow
    sink, e.g. particles dissolving 10⁻⁶ per step, in float32); the source's share the sink
    took within the step, S Δt − gained = S Δt (1 − (1 − e^{−κΔt})/(κΔt)), is written without
    that difference as well (κΔt ~ 1e-9, the import of a voxel's last living cells, would
    leave only round-off of it in float32)."""
    x = sink_per_s * dt_s
    decay = -jnp.expm1(-x)
    taken = source_uM_per_s * dt_s * _arrivals_dissolved(x)
    # what the source left, S Δt − taken = S (1 − e^{−κΔt})/κ, from the same share, so that
    # the step conserves c + S Δt to round-off whichever form the share takes
    new = c * (1.0 - decay) + (source_uM_per_s * dt_s - taken)
    return new, capacity * jnp.maximum(c * decay + taken, 0.0)


#: solve(names, sinks, sources) -> (new values, removed amounts), one array per name: the
#: linear problem α ∂c/∂t = (transport) − α κ c + α S of those mobile species over the step.
Solve = Callable[[tuple[str, ...], list[Array], list[Array]], tuple[list[Array], list[Array]]]


def step_with(k: Kinetics, s: Local, env: Environment, dt_s: float, fluid_fraction: ArrayLike,
              solve: Solve, oxygen: Oxygen | None = None,
              photosensitiser_yield: Array | None = None) -> Local:
    """One step in the order every geometry uses: the rates at the step start; the particles'
    sinks solved by `solve` and what they removed split by `dissolution`; the other mobile
    species solved with the dissolved zinc, co-product and cargo as sources; then `react`.
    `solve` is the exact local solution in a well-mixed compartment (`local_step`) and the
    implicit transport on a grid (`Model.substep`)."""
    r = rates(k, s, env, dt_s, fluid_fraction, oxygen, photosensitiser_yield)
    names = mobile_names(s)
    sinks, _ = sinks_and_sources(r, names[:1], fluid_fraction, dt_s)
    (particles,), (removed_np,) = solve(names[:1], sinks, [jnp.zeros_like(s.np)])
    d = dissolution(k, s, removed_np, r, env, fluid_fraction, dt_s)
    sinks, sources = sinks_and_sources(r, names[1:], fluid_fraction, dt_s, k, d.dissolved,
                                       d.lysosomal, d.feedback_per_s, d.escape)
    moved, removed = {"np": particles}, {"np": removed_np}
    # A cargo with a co-product (a drug on ZnS or ZnO2): the lysosomes release the cargo of
    # what they dissolve once the co-product's saturation held part back
    # (`lysosomal_freed`), known after the co-product's solve, so the cargo is solved after
    # it; with the unsaturated release as its source, a dense ZnS culture at pH 6 released
    # 2.7 times the cargo its dissolved particles carried
    late_cargo = s.cargo is not None and (s.h2o2 is not None or s.h2s is not None)
    # O2 last: catalase makes it from the oxidants the cells removed over the step, a source
    # of its own solve, so that it diffuses as it is made (added after the step, one step's
    # worth stood undiffused in the rim cells: 650 uM against the medium's 177 at dt = 60 s)
    for run in _runs_without(names[1:], "o2", *(("cargo",) if late_cargo else ())):
        at = [names.index(n) - 1 for n in run]
        new, gone = solve(run, [sinks[i] for i in at], [sources[i] for i in at])
        moved.update(zip(run, new, strict=True))
        removed.update(zip(run, gone, strict=True))
    if late_cargo or s.o2 is not None:  # what the cargo and catalase's O2 both follow
        freed = lysosomal_freed(k, s._replace(**moved), removed, r, d)
    if late_cargo:
        at = names.index("cargo") - 1
        source = (k.cargo_mass_fraction * (d.dissolved + freed)
                  / (jnp.asarray(fluid_fraction) * dt_s))
        (moved["cargo"],), (removed["cargo"],) = solve(("cargo",), [sinks[at]], [source])
    if s.o2 is not None:
        _, taken = oxidants_taken(k, s._replace(**moved), removed, r, d, freed)
        made = (0.5 * k.peroxide_fates(r.catalase_activity, s.gsh).catalase * taken) / dt_s
        at = names.index("o2") - 1
        (moved["o2"],), (removed["o2"],) = solve(("o2",), [sinks[at]], [sources[at] + made])
    return react(k, s._replace(**moved), removed, r, env, dt_s, fluid_fraction, d, oxygen)


def _runs_without(names: tuple[str, ...], *excluded: str) -> list[tuple[str, ...]]:
    """`names` less those `excluded`, as the contiguous runs that `solve` takes in one call
    each: ("zn", "ros", "o2", "zn_phosphate") without "o2" -> [("zn", "ros"),
    ("zn_phosphate",)]."""
    runs, run = [], ()
    for name in names:
        if name in excluded:
            runs, run = runs + [run], ()
        else:
            run = run + (name,)
    return [r for r in runs + [run] if r]


def local_step(k: Kinetics, s: Local, env: Environment, dt_s: float,
               fluid_fraction: ArrayLike = 1.0, oxygen: Oxygen | None = None,
               photosensitiser_yield: Array | None = None) -> Local:
    """One step of a compartment without transport (well-mixed, or a voxel in isolation):
    `step_with` the exact local solution of each species' linear sinks and sources."""

    def solve(names, sinks, sources):
        out = [solve_linear(getattr(s, n), cap, kappa, src, dt_s) for n, cap, kappa, src in
               zip(names, capacity(names, fluid_fraction), sinks, sources, strict=True)]
        return [new for new, _ in out], [gone for _, gone in out]

    return step_with(k, s, env, dt_s, fluid_fraction, solve, oxygen, photosensitiser_yield)


def total_zinc_uM(k: Kinetics, s: Local, cell_fraction: ArrayLike,
                  fluid_fraction: ArrayLike = 1.0) -> Array:
    """Zinc per voxel volume in all forms (µM): α (c_Zn np + zn + zn_phosphate) +
    φ (V (c_Zn np_int + zn_cell) + c_Zn np_dead + zn_dead), conserved by a step (transport +
    `react`) up to round-off."""
    phi, alpha = jnp.asarray(cell_fraction), jnp.asarray(fluid_fraction)
    conv = k.zn_uM_per_particle_ug_per_ml
    fluid = conv * s.np + s.zn
    if s.zn_phosphate is not None:
        fluid = fluid + s.zn_phosphate
    cells = s.viability * (conv * s.np_int + s.zn_cell)
    if s.np_dead is not None and s.zn_dead is not None:
        cells = cells + conv * s.np_dead + s.zn_dead
    return alpha * fluid + phi * cells


def initial_local(k: Kinetics, dose_ug_per_ml: float, medium: Array, cell_fraction: Array,
                  dtype, optional: tuple[str, ...] = (), o2_uM: ArrayLike = 0.0) -> Local:
    """t = 0: particles in the medium (`medium`, the places a dose acts on: a grid's
    cell-free voxels, the whole fluid of a well-mixed compartment), cells alive with resting
    GSH, optional species at zero (oxygen at its medium value)."""
    shape = jnp.shape(medium)
    zeros = jnp.zeros(shape, dtype)
    has_cells = jnp.asarray(cell_fraction) > 0
    extra = {name: zeros for name in optional}
    if "o2" in optional:
        extra["o2"] = jnp.full(shape, o2_uM, dtype)
    return Local(
        np=jnp.where(medium, dose_ug_per_ml, 0.0).astype(dtype),
        zn=zeros, ros=zeros, np_int=zeros, zn_cell=zeros,
        gsh=jnp.where(has_cells, k.gsh_initial_uM, 0.0).astype(dtype),
        viability=jnp.ones(shape, dtype), radical_dose=zeros, np_dead=zeros, zn_dead=zeros,
        hazard=zeros, energy_hazard=zeros, **extra,
    )


