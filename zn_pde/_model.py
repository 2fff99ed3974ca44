"""The model: kinetics + stimuli + geometry + transport coefficients, and its pure `step`.

The nanoparticle model's mobile species (particles, Zn²⁺, ROS, H₂O₂/H₂S, cargo) move only
outside cells: each is a concentration c in the fluid it moves in (medium, or the
extracellular fluid of tissue, volume fraction α), and obeys

    α ∂c/∂t = ∇·(α D* ∇c) − α κ c + α S + (deliveries from the local processes),

D* = D/λ² in tissue (Syková & Nicholson 2008). Oxygen also crosses cells and is per tissue
volume (α = 1 for it); user-defined passive species keep BioFVM's per-voxel convention.

One step: the first-order sinks κ (particle dissolution and uptake, Zn²⁺ import, ROS and H₂O₂
clearance, H₂S oxidation, O₂ uptake) and sources S (Zn²⁺ export, ROS production), frozen at
the step start (`_kinetics.rates`), are solved implicitly with the transport of the run's
layout (`Model.space`, see `_space`: the exact local solve of a well-mixed compartment, one
tridiagonal solve per species on a radial grid, LOD backward Euler on a 3D grid; positive
for any Δt, α-weighted totals conserved to round-off): the particles first, then the other
species with the zinc, co-product and cargo that dissolved as sources; then `_kinetics.react`
hands what each sink removed to its destination and advances the intracellular pools. A fast
sink and its diffusive supply are thus never split, so a local balance (e.g. a penetration
depth √(D*/κ)) holds at any step: exactly on the radial grid, to the LOD splitting's Δt²
cross terms on the 3D grid (a Thiele-modulus-3 sphere's centre value 12 % high at
Δt = 600 s, its uptake within 1.1 %: `_diffusion.make_transport`).
First order in time; second order in space on the radial grid and on box-aligned 3D
problems, about first order on a voxel spheroid (its staircase surface).

Steps follow the run's protocol (`_protocol`): step k has its own length h ≤ dt_s from the
step plan (landing on every event), the doses and medium exchanges due at its start act
first as pure maps on the medium voxels, and each exposure acts by its on-fraction over the
step's segment.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, Float, Int

from . import _kinetics as kin
from ._grid import Geometry, build_geometry
from ._protocol import Protocol, StepPlan, build_plan, on_fraction
from ._space import Faces, Space, layer_cells, make_space
from .materials import get_material
from .stimuli import Exposure, light_exposure, ultrasound_exposure
from .stimuli.light import photon_flux_nmol_per_cm2_s


class State(NamedTuple):
    """Carried state: mobile species (..., S) move, fixed ones (..., F) do not; `...` is the
    layout's field shape ((1,) well-mixed, (r,) radial, (z, y, x) cartesian)."""

    mobile: Float[Array, "... s"]
    fixed: Float[Array, "... f"]
    step: Int[Array, ""]
    bulk: Float[Array, " m"] | None = None  # the reacting bulk medium's model mobile species


class Factors(NamedTuple):
    """What a solve precomputes once (`Space.operator`, `Space.passive_operator`): the model
    species' κ-independent operator and the passive species' (None when absent)."""

    model: Any
    passive: Any


class Model(eqx.Module):
    """Everything a run needs besides its state. Float leaves are differentiable."""

    kinetics: kin.Kinetics | None
    oxygen: kin.Oxygen | None
    diffusivity_tissue_um2_per_s: Array  # (S,) mobile species
    diffusivity_medium_um2_per_s: Array
    decay_tissue_per_s: Array  # (P,) passive species
    decay_medium_per_s: Array
    boundary_uM: Array  # (S,) Dirichlet values
    cell_fraction: Array  # φ: cell volume per cell of the grid (0 in medium), field shape
    fluid_fraction: Array  # α: extracellular fluid per cell of the grid (1 in medium)
    depth_um: Array  # distance below the tissue surface (0 in medium)
    ph: Array  # extracellular pH
    tissue: Array  # bool
    volume_um3: Array  # volume of each cell of the grid (um^3; 1 for well_mixed)
    ultrasound: tuple[Exposure, ...]
    light: tuple[Exposure, ...]
    photosensitiser_light: tuple[Exposure, ...]  # light absorbed by a co-loaded photosensitiser
    photosensitiser_yield: Array | None
    dose_ug_per_ml: Array
    passive_initial_tissue_uM: Array  # (P,)
    passive_initial_medium_uM: Array
    protocol: Protocol  # doses, exchanges and the step plan (`_protocol`)
    fresh_medium_uM: Array  # (S,) what a medium exchange puts in the medium voxels
    surface_uptake_share: Array  # the surface cells' uptake from the medium vs a 2D cell's
    surface: Faces | None  # faces between medium and tissue (None: none, or no particles)
    # (z, y, x, 6) the faces' cosines to the surface normal, for a grid sharded over devices
    # (`Cartesian.face_cosine_fields`; None on one device, where `surface` holds them)
    surface_cosines: Array | None
    dt_s: float = eqx.field(static=True)  # the largest step (s)
    spacing_um: float = eqx.field(static=True)
    reaction_substeps: int = eqx.field(static=True)
    dirichlet: bool = eqx.field(static=True)
    reacting_bulk: bool = eqx.field(static=True)  # dirichlet faces follow a reacting bulk medium
    space: Space  # the layout: transport operator, field shape, places (`_space`)
    passive_names: tuple[str, ...] = eqx.field(static=True)
    optional_names: tuple[str, ...] = eqx.field(static=True, default=())
    surface_layer_cells: int = eqx.field(static=True, default=1)  # chain length of the layer

    # --- names ---------------------------------------------------------------------------

    @property
    def has_material(self) -> bool:
        return self.kinetics is not None

    @property
    def model_mobile_names(self) -> tuple[str, ...]:
        """The nanoparticle model's mobile species, optional ones included."""
        return (kin.MOBILE + self.optional_names) if self.has_material else ()

    @property
    def mobile_names(self) -> tuple[str, ...]:
        return self.model_mobile_names + self.passive_names

    @property
    def fixed_names(self) -> tuple[str, ...]:
        return kin.FIXED if self.has_material else ()

    @property
    def dtype(self):
        return self.cell_fraction.dtype

    @property
    def medium(self) -> Array:
        """(z, y, x) bool: the voxels a dose or an exchange acts on (cell-free voxels of a
        grid; the whole fluid of a well-mixed compartment)."""
        if self.well_mixed:
            return jnp.ones(self.tissue.shape, bool)
        return ~self.tissue

    @property
    def mesh(self) -> Mesh | None:
        """The device mesh the grid is sharded over along y (None on one device)."""
        return self.space.mesh

    @property
    def devices(self) -> int:
        return self.space.devices

    @property
    def well_mixed(self) -> bool:
        """One compartment without transport: its fluid is the medium itself."""
        return not self.space.has_transport

    # --- set-up ----------------------------------------------------------------------------

    def initial_state(self) -> State:
        shape = self.tissue.shape
        tissue = self.tissue[..., None]
        passive = jnp.where(tissue, self.passive_initial_tissue_uM,
                            self.passive_initial_medium_uM).astype(self.dtype)
        if self.has_material:
            local = kin.initial_local(
                self.kinetics, self.dose_ug_per_ml, self.medium, self.cell_fraction, self.dtype,
                self.optional_names,
                self.oxygen.medium_uM if self.oxygen is not None else 0.0)
            mobile, fixed = self._pack(local, passive)
        else:
            mobile = passive
            fixed = jnp.zeros(shape + (0,), self.dtype)
        return State(mobile, fixed, jnp.asarray(0, jnp.int32), self._initial_bulk())

    def _initial_bulk(self) -> Array | None:
        """The bulk medium at t = 0: the dose and the fresh medium (the walls' values)."""
        if not self.has_bulk:
            return None
        return self.boundary_uM[:len(self.model_mobile_names)].astype(self.dtype)

    @property
    def has_bulk(self) -> bool:
        """Whether the dirichlet faces follow a reacting bulk medium (carried in the state)."""
        return self.has_material and self.dirichlet and self.reacting_bulk \
            and not self.well_mixed

    def bulk_events(self, bulk: Array, k: Array) -> Array:
        """The doses and exchanges due at the start of step k, applied to the bulk medium."""
        n = len(self.model_mobile_names)
        return self.protocol.apply(bulk[None, :], jnp.ones((1,), bool),
                                   self.fresh_medium_uM[:n], k, self.dose_ug_per_ml)[0]

    def bulk_step(self, bulk: Array, k: Array, h_s: Array, a: Array, b: Array) -> Array:
        """The bulk medium over step k (the segment [a, b] of length h) from just after its
        events: its own cell-free kinetics at the medium's pH, exposed to the ultrasound and
        light as they enter (its particles make diffusible ROS; without cells, the
        short-lived radicals hit nothing, but those made with O2, a co-loaded
        photosensitiser's singlet oxygen too, use it as in a well-mixed run), its O2
        exchanging with the air as a well-mixed run's does (`oxygen.resupply_per_s`), in
        `reaction_substeps` sub-steps as a well-mixed run takes them."""
        protocol = self.protocol
        fields = {name: bulk[i] for i, name in enumerate(self.model_mobile_names)}
        zero = jnp.zeros((), self.dtype)
        fields.update({name: zero for name in kin.FIXED})
        ph = protocol.medium_ph(k) if protocol.has_exchanges else protocol.initial_medium_ph
        env = kin.Environment(
            ph=ph, cell_fraction=0.0,
            cavitation=_exposed(self.ultrasound, a, b, "bulk", self.dtype),
            photon_flux_nmol_per_cm2_s=_exposed(self.light, a, b, "bulk", self.dtype),
            o2_resupply_per_s=1.0,  # the well's medium exchanges gas with the air
            photosensitiser_photons_uM_per_s=_exposed(self.photosensitiser_light, a, b,
                                                      "bulk", self.dtype))
        out = _repeat(self.reaction_substeps, lambda o: kin.local_step(
            self.kinetics, o, env, h_s / self.reaction_substeps, 1.0, self.oxygen,
            self.photosensitiser_yield), kin.Local(**fields))
        return jnp.stack([getattr(out, name) for name in self.model_mobile_names]).astype(
            self.dtype)

    def bulk_at(self, step: int) -> Array | None:
        """The bulk medium at the start of `step` (replayed from the start: it does not depend
        on the grid), for a run resumed from a saved frame."""
        if not self.has_bulk:
            return None

        def body(j, bulk):
            _, h, a, b = self.protocol.locate(self, j)
            return self.bulk_step(self.bulk_events(bulk, j), j, h, a, b)

        return jax.lax.fori_loop(0, step, body, self._initial_bulk())

    def _pack(self, local: kin.Local, passive: Array) -> tuple[Array, Array]:
        """Local fields -> the stored (mobile, fixed) layout."""
        mobile = _interleave([getattr(local, n) for n in self.model_mobile_names]
                             + [passive[..., i] for i in range(passive.shape[-1])])
        return mobile, _interleave([getattr(local, n) for n in kin.FIXED])

    def _diffusivity(self) -> Array:
        return jnp.where(self.tissue[..., None], self.diffusivity_tissue_um2_per_s,
                         self.diffusivity_medium_um2_per_s).astype(self.dtype)

    def capacity(self) -> Array:
        """(z, y, x, s) volume basis of each model mobile species: α for those that move
        only outside cells, 1 for oxygen (per tissue volume)."""
        return jnp.stack([jnp.broadcast_to(c, self.fluid_fraction.shape) for c in
                          kin.capacity(self.model_mobile_names, self.fluid_fraction)],
                         -1).astype(self.dtype)

    @property
    def substep_s(self) -> float:
        return self.dt_s / self.reaction_substeps

    def transport(self) -> Factors:
        """Precompute the implicit transport once per solve (traced: D stays differentiable)."""
        n = len(self.model_mobile_names)
        d = self._diffusivity()
        boundary = self.boundary_uM if self.dirichlet else None
        model = passive = None
        if n:
            model = self.space.operator(d[..., :n], self.capacity(), self.substep_s,
                                        None if boundary is None else boundary[:n])
        if self.passive_names:
            passive = self.space.passive_operator(d[..., n:], self.substep_s,
                                                  None if boundary is None else boundary[n:],
                                                  self._passive_decay())
        return Factors(model, passive)

    # --- the step ----------------------------------------------------------------------------

    def substep(self, state: State, factors: Factors, h_s: Array, env: kin.Environment | None,
                boundary_uM: Array | None) -> State:
        """[t, t + h]: the model species' transport with their linear sinks and sources
        (implicit), the passive species' diffusion and decay (implicit), then the local
        processes.
        `h_s` (traced) may be shorter than `substep_s`, the step the factors were built for."""
        h = h_s
        n = len(self.model_mobile_names)
        passive = state.mobile[..., n:]
        if self.passive_names:
            passive = jax.lax.cond(
                jnp.abs(h - self.substep_s) <= 1e-6 * self.substep_s,
                lambda p: self.space.diffuse(factors.passive, p),
                lambda p: self.space.diffuse(self._passive_transport(h), p), passive)
        if not self.has_material:
            return state._replace(mobile=passive.astype(self.dtype))
        local = self.local(state)
        order = self.model_mobile_names
        inv_ratio = self.substep_s / h

        def solve(names, sinks, sources):  # a contiguous run of the model species
            i = order.index(names[0])
            j = i + len(names)
            op = jax.tree.map(lambda a: a[..., i:j], factors.model)
            c, removed = self.space.solve(
                op, state.mobile[..., i:j], _interleave(sinks), _interleave(sources), h,
                inv_ratio=inv_ratio,
                boundary_uM=None if boundary_uM is None else boundary_uM[i:j])
            return ([c[..., m] for m in range(len(names))],
                    [removed[..., m] for m in range(len(names))])

        local = kin.step_with(self.kinetics, local, env, h, self.fluid_fraction, solve,
                              self.oxygen, self.photosensitiser_yield)
        if self.surface is not None:
            local = self.surface_uptake(local, h)
        mobile, fixed = self._pack(local, passive)
        return state._replace(mobile=mobile.astype(self.dtype), fixed=fixed.astype(self.dtype))

    def _passive_transport(self, h_s: Array) -> Any:
        """The passive species' operator for a step `h_s` other than the factorised one."""
        n = len(self.model_mobile_names)
        boundary = self.boundary_uM[n:] if self.dirichlet else None
        return self.space.passive_operator(self._diffusivity()[..., n:], h_s, boundary,
                                           self._passive_decay())

    def _passive_decay(self) -> Array:
        """The passive species' first-order decay per voxel (1/s): tissue or medium value."""
        return jnp.where(self.tissue[..., None], self.decay_tissue_per_s,
                         self.decay_medium_per_s).astype(self.dtype)

    def step(self, state: State, factors: Factors) -> State:
        """Step `state.step` of the plan (`_protocol`): the doses and exchanges due at its
        start, then `reaction_substeps` sub-steps (transport and reactions each) over its
        length h ≤ dt_s, with every exposure's on-fraction over the step's segment."""
        k = state.step
        protocol = self.protocol
        _, h, a, b = protocol.locate(self, k)
        mobile = protocol.apply(state.mobile, self.medium, self.fresh_medium_uM, k,
                                self.dose_ug_per_ml if self.has_material else None)
        state = state._replace(mobile=mobile)
        env = boundary = None
        bulk = state.bulk
        if self.has_material:
            if bulk is not None:  # the faces hold the bulk medium, its mean over the step
                start = self.bulk_events(bulk, k)
                bulk = self.bulk_step(start, k, h, a, b)
                boundary = jnp.concatenate([0.5 * (start + bulk),
                                            self.boundary_uM[len(start):]])
            elif self.dirichlet and (protocol.has_doses or protocol.has_exchanges):
                boundary = self.boundary_uM.at[0].set(
                    protocol.np_boundary(self.boundary_uM[0], k))

            def stimulus(exposures):
                return _exposed(exposures, a, b, "field", self.dtype)

            ph = self.ph
            if protocol.has_exchanges:
                ph = jnp.where(self.medium, protocol.medium_ph(k), self.ph)
            light = stimulus(self.light)
            if self.light:
                light = light * self.particle_transmission(state)
            env = kin.Environment(
                ph=ph, cell_fraction=self.cell_fraction,
                cavitation=stimulus(self.ultrasound),
                photon_flux_nmol_per_cm2_s=light,
                o2_resupply_per_s=1.0 if self.well_mixed else 0.0,
                photosensitiser_photons_uM_per_s=stimulus(self.photosensitiser_light))
        h_sub = h / self.reaction_substeps
        state = _repeat(self.reaction_substeps,
                        lambda s: self.substep(s, factors, h_sub, env, boundary), state)
        return state._replace(step=state.step + 1, bulk=bulk)

    # --- views ----------------------------------------------------------------------------

    def local(self, state: State) -> kin.Local:
        fields = {n: state.mobile[..., i] for i, n in enumerate(self.model_mobile_names)}
        fields.update({n: state.fixed[..., i] for i, n in enumerate(kin.FIXED)})
        return kin.Local(**fields)

    def surface_uptake(self, s: kin.Local, h_s: Array) -> kin.Local:
        """The surface cells' uptake of particles straight from the medium over a step, after
        the implicit one (rates frozen at the step end's transport; exponential in each medium
        cell, so it never takes more than the cell holds). Across each face between medium and
        tissue the outer cell layer, one cell diameter d thick, takes up
        F = k_up ⟨φ V⟩ d s (c_medium − c_fluid)₊ per area: a 2D cell's uptake k_up at the
        share s (`tissue.surface_uptake_share`) of its membrane that faces the medium, for
        what the fluid between the cells does not already bring (particles too wide for the
        channels have none there), ⟨φ V⟩ the living-cell fraction averaged over the layer.
        Each living cell of the layer takes its share: on a grid finer than a cell the
        layer's cells behind the face (`Faces`), so the load per cell does not depend on the
        grid. Conserves the particle mass exactly."""
        k, f = self.kinetics, self.surface
        per_area = k.uptake_rate_per_h / 3600.0 * k.cell_diameter_um * self.surface_uptake_share
        live = self.cell_fraction * s.viability
        if self.devices > 1:  # sharded: neighbour shifts, whole fields
            taken, given = self.space.sharded_surface_exchange(
                s.np, jnp.where(self.tissue, live, 0.0), per_area, k.cell_diameter_um,
                self.surface_layer_cells, self.tissue, self.surface_cosines, h_s)
            return s._replace(np=s.np - taken / self.fluid_fraction,
                              np_int=s.np_int + jnp.where(self.tissue,
                                                          kin._safe_div(given, live), 0.0))
        g, share = f.layer_uptake(per_area, live.reshape(-1), k.cell_diameter_um)
        taken, moved = f.exchange(s.np, g, h_s)
        alpha = self.fluid_fraction.reshape(-1)[f.medium]
        # per living-cell volume (each living cell takes its share: none where all died)
        given = kin._safe_div(f.deposit(moved, share), live.reshape(-1)[f.layer_cell])
        return s._replace(
            np=s.np.reshape(-1).at[f.medium].add(-taken / alpha).reshape(s.np.shape),
            np_int=s.np_int.reshape(-1).at[f.layer_cell].add(given).reshape(s.np.shape))

    def particle_transmission(self, state: State) -> Array:
        """Share of the light above the band gap that the particles on the way let through to
        each cell centre, exp(−κ ∫ m ds): κ the particles' mass absorption coefficient
        (`light_absorption_cm2_per_ug`), m their mass per volume (in the fluid and inside
        cells) at the step start. Multiplies the tissue's and medium's own attenuation (fixed
        per exposure); the particles absorb only what activates them, so light that is gated
        off (below the gap) or absorbed by a photosensitiser is not touched."""
        mass = self.particle_mass(self.local(state)._asdict())  # µg/mL
        return jnp.exp(-self.space.entry_path(self.kinetics.light_absorption_cm2_per_ug * mass))

    def particle_mass(self, fields: dict[str, Array]) -> Array:
        """Particle mass per voxel volume (µg/mL): in the fluid α np plus in the cells
        φ (V np_int + np_dead), living (np_int per living-cell volume) and dead."""
        cells = fields["viability"] * fields["np_int"]
        if "np_dead" in fields:
            cells = cells + fields["np_dead"]
        # (no cells: nothing, whatever a medium voxel's viability holds, NaN when saved)
        phi = self.cell_fraction
        return self.fluid_fraction * fields["np"] + jnp.where(phi > 0, phi * cells, 0.0)

    def fields(self, state: State) -> dict[str, Array]:
        """Every output variable by name, each of the field shape."""
        out = {n: state.mobile[..., i] for i, n in enumerate(self.mobile_names)}
        out.update({n: state.fixed[..., i] for i, n in enumerate(self.fixed_names)})
        return out


def _exposed(exposures: tuple[Exposure, ...], a: Array, b: Array, where: str,
             dtype: Any) -> Array:
    """Σ over `exposures` of on-fraction over [a, b] × amplitude × the relative value `where`
    ("field": per grid cell; "bulk": in the bulk medium beyond the walls)."""
    return sum((on_fraction(e, a, b) * e.amplitude * getattr(e, where) for e in exposures),
               jnp.zeros((), dtype))


def _repeat(n: int, body: Any, carry: Any) -> Any:
    """`body` applied `n` times (static) to `carry`: a loop the compiler sees once, not `n`
    unrolled copies (a Python loop of 50 reaction sub-steps took minutes to compile and
    1000, `numerics.reaction_substeps`' upper bound, over 11 GB), or the body itself once.
    Each pass keeps the carry's dtypes, as the loop needs."""
    if n == 1:
        return body(carry)

    def once(_, c):
        return jax.tree.map(lambda new, old: jnp.asarray(new).astype(jnp.result_type(old)),
                            body(c), c)

    return jax.lax.fori_loop(0, n, once, carry)


def _interleave(fields: list[Array]) -> Array:
    """`jnp.stack(fields, -1)`, the same values, built as a stack along a new leading axis and
    one transpose. XLA fuses the fields' producers (the whole reaction step) into the stack;
    along the innermost axis that fused loop ran element by element on one core (over a third
    of the default scenario's step on 2 CPU cores), along the leading one it is vectorised and
    split over the cores (docs/performance.md, "Reaction part of the step")."""
    return jnp.moveaxis(jnp.stack(fields, 0), 0, -1)


def build_model(config: dict[str, Any], geometry: Geometry | None = None,
                plan: StepPlan | None = None) -> Model:
    """Resolved config -> Model. All set-up (masks, stimulus fields, the step plan) happens
    here, once. `plan`: a common plan of several configs (`_protocol.build_plan`)."""
    dtype = jnp.float64 if config["numerics"]["precision"] == "float64" else jnp.float32
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)
    geo = geometry or build_geometry(config)
    h = config["grid"]["spacing_um"]
    species = config["species"]
    d_t = [s["diffusivity_um2_per_s"]["tissue"] for s in species]
    d_m = [s["diffusivity_um2_per_s"]["medium"] for s in species]
    bnd = [s["boundary_uM"] for s in species]
    kinetics = None
    oxygen = None
    optional: tuple[str, ...] = ()
    us: tuple[Exposure, ...] = ()
    light: tuple[Exposure, ...] = ()
    ps_light: tuple[Exposure, ...] = ()
    ps_yield = None
    dose = 0.0
    if "material" in config:
        material = get_material(config["material"]["kind"])
        k = config["kinetics"]
        kinetics = kin.Kinetics.from_config(k, config["ph"]["lysosome"],
                                            material.zn_uM_per_ug_per_ml, dtype,
                                            config["tissue"]["extracellular_gap_nm"],
                                            config["medium"])
        np_medium = k["np_diffusivity_medium_um2_per_s"]  # resolution derives it from a diameter
        np_tissue = np_medium * k["np_tissue_diffusivity_fraction"]
        d_t = [np_tissue, k["zn_diffusivity_tissue_um2_per_s"],
               k["ros_diffusivity_tissue_um2_per_s"]] + d_t
        d_m = [np_medium, k["zn_diffusivity_medium_um2_per_s"],
               k["ros_diffusivity_medium_um2_per_s"]] + d_m
        dose = config["material"]["dose_ug_per_ml"]
        extra_t, extra_m, extra_b = [], [], []
        if material.coproduct is not None:
            optional += (material.coproduct,)
        if k["cargo_mass_fraction"] > 0:
            optional += ("cargo",)
        ox = config.get("oxygen", {})
        if ox.get("enabled"):
            optional += ("o2",)
            oxygen = kin.Oxygen(**{f: jnp.asarray(ox[f], dtype) for f in (
                "medium_uM", "consumption_max_uM_per_s", "consumption_half_uM", "ros_half_uM",
                "resupply_per_s", "sono_o2_free_share")})
        if config["medium"].get("zinc_phosphate_limit_uM") is not None:
            optional += ("zn_phosphate",)
        for name in optional:
            if name == "zn_phosphate":  # a precipitate: moves as the particles do
                extra_t.append(np_tissue)
                extra_m.append(np_medium)
                extra_b.append(0.0)
            elif name == "o2":
                extra_t.append(ox["diffusivity_tissue_um2_per_s"])
                extra_m.append(ox["diffusivity_medium_um2_per_s"])
                extra_b.append(ox["medium_uM"])
            else:
                extra_t.append(k[f"{name}_diffusivity_tissue_um2_per_s"])
                extra_m.append(k[f"{name}_diffusivity_medium_um2_per_s"])
                extra_b.append(0.0)
        d_t = d_t[:3] + extra_t + d_t[3:]
        d_m = d_m[:3] + extra_m + d_m[3:]
        bnd = [dose, 0.0, 0.0] + extra_b + bnd
        us = tuple(ultrasound_exposure(e, config["tissue"], geo, h, dtype)
                   for e in expand_repeats(config["ultrasound"]))
        # the particles' light as its photon flux (nmol/(cm²·s)): what they absorb of it,
        # κ m q, bounds what it can make
        light = tuple(light_exposure(e, config["tissue"], geo, h, k["band_gap_eV"], dtype,
                                     per_mW=photon_flux_nmol_per_cm2_s(e["wavelength_nm"]))
                      for e in expand_repeats(config["light"]))
        ps = config.get("photosensitiser", {})
        if ps.get("enabled"):
            ps_yield = jnp.asarray(ps["singlet_oxygen_quantum_yield"], dtype)
            for e in expand_repeats(config["light"]):
                excited = photosensitiser_excitation_uM_per_s(
                    e["wavelength_nm"], e["irradiance_mW_per_cm2"], ps,
                    config["material"]["kind"])
                # its own absorption follows the light (order 1), the second harmonic the
                # square of the light at depth (order 2); no band-gap gate: the
                # photosensitiser absorbs by its own bands
                for order, amplitude in enumerate(excited, start=1):
                    if amplitude > 0:
                        scaled = dict(e, irradiance_mW_per_cm2=amplitude)
                        ps_light += (light_exposure(scaled, config["tissue"], geo, h, 0.0,
                                                    dtype, order=order),)

    def arr(v):
        return jnp.asarray(np.asarray(v, float), dtype)

    fresh = [0.0] * (len(d_t) - len(species))  # particles, Zn2+, ROS, co-product, cargo: none
    if "o2" in optional:
        fresh[3 + optional.index("o2")] = config["oxygen"]["medium_uM"]
    fresh += [s["initial_uM"]["medium"] for s in species]
    plan = plan or build_plan([config])
    numerics = config["numerics"]
    space = make_space(geo, int(numerics["devices"]), numerics.get("transport_solve", "lod"),
                       float(numerics.get("transport_tolerance", 1e-6)))
    # a sharded grid keeps the surface's face cosines as fields (one smoothing of the mask)
    cosines = (space.face_cosine_fields(geo.tissue)
               if kinetics is not None and space.devices > 1 else None)
    # the surface layer, one cell diameter deep (its chain length is fixed here)
    cell_um = None if kinetics is None else float(config["kinetics"]["cell_diameter_um"])

    return Model(
        protocol=Protocol.from_config(config, plan, dtype),
        fresh_medium_uM=arr(fresh),
        surface_uptake_share=arr(config["tissue"].get("surface_uptake_share", 0.0)),
        surface=None if kinetics is None else (
            space.surface_faces(geo.tissue, cell_um) if cosines is None
            else space.surface_faces(geo.tissue, cell_um, cosines)),
        surface_cosines=None if cosines is None else arr(cosines),
        surface_layer_cells=1 if kinetics is None else layer_cells(cell_um, h,
                                                                   max(geo.tissue.shape)),
        kinetics=kinetics,
        oxygen=oxygen,
        photosensitiser_light=ps_light,
        photosensitiser_yield=ps_yield,
        optional_names=optional,
        diffusivity_tissue_um2_per_s=arr(d_t),
        diffusivity_medium_um2_per_s=arr(d_m),
        decay_tissue_per_s=arr([s["decay_per_s"]["tissue"] for s in species]),
        decay_medium_per_s=arr([s["decay_per_s"]["medium"] for s in species]),
        boundary_uM=arr(bnd),
        cell_fraction=arr(geo.cell_fraction),
        fluid_fraction=arr(geo.fluid_fraction),
        depth_um=arr(geo.depth_um),
        ph=arr(geo.ph),
        tissue=jnp.asarray(geo.tissue),
        volume_um3=arr(geo.volume_um3),
        ultrasound=us,
        light=light,
        dose_ug_per_ml=arr(dose),
        passive_initial_tissue_uM=arr([s["initial_uM"]["tissue"] for s in species]),
        passive_initial_medium_uM=arr([s["initial_uM"]["medium"] for s in species]),
        dt_s=float(config["time"]["dt_s"]),
        spacing_um=float(h),
        reaction_substeps=int(config["numerics"]["reaction_substeps"]),
        dirichlet=config["boundary"]["kind"] == "dirichlet",
        reacting_bulk=config["boundary"].get("bulk_medium", "reacting") == "reacting",
        space=space,
        passive_names=tuple(s["name"] for s in species),
    )


def photosensitiser_excitation_uM_per_s(wavelength_nm: float, irradiance_mW_per_cm2: float,
                                        ps: dict[str, Any], material: str
                                        ) -> tuple[float, float]:
    """Photons the photosensitiser absorbs where the light enters, per µg/mL of particles
    (µM/s), (direct, second harmonic): ε ln10 c q, with c = w · 1e-3 / M (mol/L per µg/mL of
    particles carrying a mass fraction w of a dye of molar mass M), ε the molar absorption of
    the band (boxcar of `bandwidth_nm` around each peak) and q the photon flux
    (nmol/(cm²·s)) in it. For ZnO at `emission_excitation_nm` the second harmonic η E² (η =
    `shg_efficiency_per_W_per_cm2`) is what excites it when `emission_nm` falls in a band
    (ZnO-Ce6 under 808 nm); at depth it is η E(z)², so it falls with the square of the light's
    field. Pulsed light applies the duty cycle afterwards, so the second harmonic of a pulse
    train is duty × η E_peak². Times the singlet-oxygen quantum yield, this is the ¹O₂ made."""
    half = ps["bandwidth_nm"] / 2
    per_ug = math.log(10.0) * ps["loading_ug_per_ug"] * 1e-3 / ps["molar_mass_g_per_mol"]

    def absorbed(w: float, e: float) -> float:  # µM/s per µg/mL of particles
        eps = [m for peak, m in zip(ps["absorption_nm"], ps["molar_absorption_per_M_per_cm"],
                                    strict=True) if abs(w - peak) <= half]
        return max(eps, default=0.0) * per_ug * photon_flux_nmol_per_cm2_s(w, e)

    e = irradiance_mW_per_cm2
    direct = absorbed(wavelength_nm, e)
    harmonic = 0.0
    if material == "ZnO" and abs(wavelength_nm - ps["emission_excitation_nm"]) <= half:
        harmonic = absorbed(ps["emission_nm"],
                            ps["shg_efficiency_per_W_per_cm2"] * (e / 1000.0) * e)
    return direct, harmonic


def expand_repeats(exposures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`repeats` exposures `repeat_every_h` apart; each keeps its peak amplitude and
    `duty_cycle` (the builders average a pulsed beam: light linearly, ultrasound through its
    cavitation law; valid while the pulse period is far below the time step)."""
    return [dict(ex, start_h=ex["start_h"] + i * ex.get("repeat_every_h", 0.0))
            for ex in exposures for i in range(ex.get("repeats", 1))]
