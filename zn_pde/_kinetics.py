"""Per-voxel reaction kinetics of the nanoparticle model: one source of truth for every geometry.

Written elementwise on arrays of any shape (a scalar vial, a (z, y, x) grid); the caller
vectorises. Concentrations of mobile species (`np`, `zn`, `ros`) are per voxel volume;
intracellular pools (`np_int`, `zn_cell`, `gsh`) are per cell volume, and φ (the cell volume
fraction, 0 in medium) converts between them, so every exchange conserves mass exactly.

Processes over one step Δt, each integrated exactly with the other species frozen at their
start-of-step values and applied in sequence (Lie splitting):

1. Extracellular particles (µg/mL) dissolve towards the solubility limit and are taken up:
       dnp/dt = −k(pH) (1 − zn/zn_sat(pH))₊ np − φ k_up V np,
       k(pH) = k₇.₄ · 10^{n (7.4 − pH)},   zn_sat = 10^{log K − 2 pH} M
   (proton-promoted dissolution; ZnO + 2H⁺ → Zn²⁺ + H₂O). The dissolved mass enters `zn`
   (by molar mass) but never beyond zn_sat; the uptake enters `np_int` (÷ φ).
2. Internalised particles dissolve at the lysosomal pH: dnp_int/dt = −k(pH_lys) np_int → zn_cell.
3. Zn²⁺ exchange between medium/interstitium and cells: influx φ k_in zn, export k_out V f,
   with f the free intracellular Zn²⁺ left by metallothionein buffering (fast equilibrium,
   capacity B, dissociation constant K_d): f + B f/(K_d + f) = zn_cell. The exchange is linear
   once the free fraction f/zn_cell is frozen, and is integrated exactly.
4. ROS (µM, lumped as H₂O₂): dros/dt = P − (k_dec + φ k_gsh GSH) ros with
       P = φ V P_zn f^h/(K^h + f^h) + Y_us (np + φ np_int) I_us + Y_light (np + φ np_int) E_light;
   the exact solution of this linear ODE over the step (exact decay however stiff, never
   negative) and its step average r̄.
5. Glutathione: consumed by scavenging, GSH ← GSH e^{−ν k_gsh r̄ Δt}, then resynthesised
   by living cells towards GSH₀ at rate k_syn V (exact relaxation).
6. Viability: dV/dt = −V [κ_ros H(r̄; K_r, h_r) + κ_zn H(f; K_z, h_z)], H the Hill function.
7. Passive species: exact first-order decay.

Every update is of the form x e^{−kΔt} or a convex combination, so every field stays
non-negative for any Δt; the total zinc Σ[c_Zn(np + φ np_int) + zn + φ zn_cell] is unchanged
by steps 1-3 up to round-off.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

# The model's own variables, in the order they are stored. MOBILE ones diffuse.
MOBILE = ("np", "zn", "ros")
FIXED = ("np_int", "zn_cell", "gsh", "viability")
VARIABLES = MOBILE + FIXED

UNITS = {
    "np": "ug/mL",
    "np_int": "ug/mL",
    "zn": "uM",
    "zn_cell": "uM",
    "ros": "uM",
    "gsh": "uM",
    "viability": "1",
}
LONG_NAMES = {
    "np": "extracellular nanoparticle mass concentration (per voxel volume)",
    "np_int": "internalised nanoparticle mass concentration (per cell volume)",
    "zn": "free Zn2+ in medium / interstitium (per voxel volume)",
    "zn_cell": "labile intracellular zinc, free + metallothionein-bound (per cell volume)",
    "ros": "reactive oxygen species, lumped as H2O2 (per voxel volume)",
    "gsh": "intracellular glutathione (per cell volume)",
    "viability": "fraction of cells alive",
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


class Environment(NamedTuple):
    """What the voxel sees during the step (arrays broadcastable to the state)."""

    ph: ArrayLike  # extracellular pH
    cell_fraction: ArrayLike  # φ, cell volume per voxel volume (0 in medium)
    ultrasound_W_per_cm2: ArrayLike  # local intensity, averaged over the step
    light_mW_per_cm2: ArrayLike  # local irradiance above the band gap, averaged over the step


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
    ros_decay_per_s: Array
    gsh_initial_uM: Array
    gsh_scavenging_per_uM_per_s: Array
    gsh_per_ros: Array
    gsh_resynthesis_per_h: Array
    zn_ros_max_uM_per_s: Array
    zn_ros_half_uM: Array
    sono_ros_yield_uM_per_s: Array
    photo_ros_yield_uM_per_s: Array
    ros_kill_max_per_h: Array
    ros_kill_half_uM: Array
    ros_kill_hill: Array
    zn_kill_max_per_h: Array
    zn_kill_half_uM: Array
    zn_kill_hill: Array
    lysosome_ph: Array
    zn_uM_per_ug_per_ml: float = eqx.field(static=True)

    @classmethod
    def from_config(cls, kinetics: dict[str, float], lysosome_ph: float,
                    zn_uM_per_ug_per_ml: float, dtype=jnp.float32) -> Kinetics:
        names = [f.name for f in cls.__dataclass_fields__.values()
                 if f.name not in ("zn_uM_per_ug_per_ml", "lysosome_ph")]
        values = {n: jnp.asarray(kinetics[n], dtype) for n in names}
        return cls(**values, lysosome_ph=jnp.asarray(lysosome_ph, dtype),
                   zn_uM_per_ug_per_ml=zn_uM_per_ug_per_ml)

    # --- the laws, each a pure function of arrays --------------------------------------------

    def dissolution_rate_per_s(self, ph: ArrayLike) -> Array:
        """k(pH) = k₇.₄ · 10^{n (7.4 − pH)} (1/s)."""
        return self.dissolution_rate_per_h / 3600.0 * 10.0 ** (
            self.dissolution_proton_order * (7.4 - ph))

    def solubility_uM(self, ph: ArrayLike) -> Array:
        """zn_sat = K [H⁺]² (µM)."""
        return 10.0 ** (self.solubility_log10_K - 2.0 * ph + 6.0)

    def free_zinc_uM(self, zn_cell: Array) -> Array:
        """Free Zn²⁺ left by metallothionein: positive root of f² + (K_d + B − T) f − K_d T = 0."""
        kd, cap, total = self.mt_kd_uM, self.mt_capacity_uM, zn_cell
        b = kd + cap - total
        disc = jnp.sqrt(b * b + 4.0 * kd * total)
        # the two algebraically equal forms, each free of cancellation on its own side
        pos = 2.0 * kd * total / jnp.where(b > 0, b + disc, 1.0)
        return jnp.where(b > 0, pos, 0.5 * (disc - b))


def _hill(x: Array, half: Array, n: Array) -> Array:
    """x^n / (K^n + x^n), zero (with zero gradient) at x = 0."""
    pos = x > 0
    xs = jnp.where(pos, x, 1.0)
    return jnp.where(pos, 1.0 / (1.0 + (half / xs) ** n), 0.0)


def _relax(x0: Array, target: Array, rate_per_s: Array, dt_s: float) -> Array:
    """Exact solution of dx/dt = rate (target − x) over dt."""
    return target + (x0 - target) * jnp.exp(-rate_per_s * dt_s)


def _safe_div(num: Array, den: Array) -> Array:
    ok = den > 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def react(k: Kinetics, s: Local, env: Environment, dt_s: float) -> Local:
    """Advance the local kinetics by `dt_s` seconds (see the module docstring)."""
    phi = jnp.asarray(env.cell_fraction, s.np.dtype)
    has_cells = phi > 0
    conv = k.zn_uM_per_ug_per_ml
    alive = s.viability

    # 1. extracellular particles: dissolution towards saturation, and uptake
    zsat = k.solubility_uM(env.ph)
    k_diss = k.dissolution_rate_per_s(env.ph) * jnp.clip(1.0 - s.zn / zsat, 0.0, 1.0)
    k_up = phi * k.uptake_rate_per_h / 3600.0 * alive
    k_tot = k_diss + k_up
    lost = s.np * -jnp.expm1(-k_tot * dt_s)
    would_dissolve = lost * _safe_div(k_diss, k_tot)
    dissolved = jnp.minimum(would_dissolve, jnp.maximum(zsat - s.zn, 0.0) / conv)
    taken_up = lost * _safe_div(k_up, k_tot)
    # what stays: the undecayed part plus what the solubility limit refused (both ≥ 0)
    np_ext = s.np * jnp.exp(-k_tot * dt_s) + (would_dissolve - dissolved)
    zn = s.zn + dissolved * conv
    np_int = s.np_int + _safe_div(taken_up, phi)

    # 2. lysosomal dissolution of internalised particles
    freed = np_int * -jnp.expm1(-k.dissolution_rate_per_s(k.lysosome_ph) * dt_s)
    np_int = np_int - freed
    zn_cell = s.zn_cell + freed * conv

    # 3. Zn2+ exchange a = zn (voxel) <-> b = φ zn_cell (voxel), rates α (a→b), β (b→a)
    free = k.free_zinc_uM(zn_cell)
    free_fraction = jnp.where(zn_cell > 0, _safe_div(free, zn_cell),
                              k.mt_kd_uM / (k.mt_kd_uM + k.mt_capacity_uM))
    alpha = phi * k.zn_influx_per_h / 3600.0
    beta = jnp.where(has_cells, k.zn_efflux_per_h / 3600.0 * alive * free_fraction, 0.0)
    a0, b0 = zn, phi * zn_cell
    rate = alpha + beta
    x = jnp.where(rate > 0, -jnp.expm1(-rate * dt_s) / jnp.where(rate > 0, rate, 1.0), dt_s)
    moved = (alpha * a0 - beta * b0) * x
    zn = jnp.maximum(a0 - moved, 0.0)
    zn_cell = jnp.maximum(zn_cell + _safe_div(moved, phi), 0.0)
    free = k.free_zinc_uM(zn_cell)

    # 4. ROS: dr/dt = P − λ r, exact
    particles = np_ext + phi * np_int
    production = (phi * alive * k.zn_ros_max_uM_per_s * _hill(free, k.zn_ros_half_uM, 2.0)
                  + k.sono_ros_yield_uM_per_s * particles * env.ultrasound_W_per_cm2
                  + k.photo_ros_yield_uM_per_s * particles * env.light_mW_per_cm2)
    lam = k.ros_decay_per_s + phi * k.gsh_scavenging_per_uM_per_s * s.gsh
    r_eq = production / lam
    decay = -jnp.expm1(-lam * dt_s)
    ros = r_eq + (s.ros - r_eq) * (1.0 - decay)
    ros_mean = r_eq + (s.ros - r_eq) * decay / (lam * dt_s)

    # 5. glutathione: consumption, then resynthesis by living cells
    gsh = s.gsh * jnp.exp(-k.gsh_per_ros * k.gsh_scavenging_per_uM_per_s * ros_mean * dt_s)
    gsh = jnp.where(has_cells,
                    _relax(gsh, k.gsh_initial_uM, k.gsh_resynthesis_per_h / 3600.0 * alive,
                           dt_s), 0.0)

    # 6. cell death
    kill_per_s = (k.ros_kill_max_per_h * _hill(ros_mean, k.ros_kill_half_uM, k.ros_kill_hill)
                  + k.zn_kill_max_per_h * _hill(free, k.zn_kill_half_uM, k.zn_kill_hill)
                  ) / 3600.0
    viability = jnp.where(has_cells, alive * jnp.exp(-kill_per_s * dt_s), alive)

    return Local(np=np_ext, zn=zn, ros=ros, np_int=np_int, zn_cell=zn_cell, gsh=gsh,
                 viability=viability)


def total_zinc_uM(k: Kinetics, s: Local, cell_fraction: ArrayLike) -> Array:
    """Zinc per voxel volume in all forms (µM): conserved by `react`."""
    phi = jnp.asarray(cell_fraction)
    return (k.zn_uM_per_ug_per_ml * (s.np + phi * s.np_int) + s.zn + phi * s.zn_cell)


def initial_local(k: Kinetics, dose_ug_per_ml: float, tissue: Array, cell_fraction: Array,
                  dtype, well_mixed: bool = False) -> Local:
    """t = 0: particles in the medium (in a well-mixed compartment: everywhere), cells alive
    with resting GSH."""
    zeros = jnp.zeros(tissue.shape, dtype)
    has_cells = jnp.asarray(cell_fraction) > 0
    return Local(
        np=jnp.where(tissue & (not well_mixed), 0.0, dose_ug_per_ml).astype(dtype),
        zn=zeros, ros=zeros, np_int=zeros, zn_cell=zeros,
        gsh=jnp.where(has_cells, k.gsh_initial_uM, 0.0).astype(dtype),
        viability=jnp.ones(tissue.shape, dtype),
    )


def passive_decay(c: Float[Array, "... s"], decay_per_s: Float[Array, "... s"],
                  dt_s: float) -> Array:
    """Exact first-order decay of the user's passive species."""
    return c * jnp.exp(-decay_per_s * dt_s)
