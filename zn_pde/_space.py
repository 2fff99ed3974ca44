"""The spatial interface: how a layout of cells moves the mobile species and names a place.

A run's fields live on one of three layouts, each an implementation of the same small
interface (py-pde's grids and operators, exponax's steppers over a common base):

| layout       | field shape | transport                                               |
|--------------|-------------|---------------------------------------------------------|
| `WellMixed`  | (1,)        | none: each species' linear sink and source solved exactly |
| `Radial`     | (r,)        | 1-D spherically symmetric finite volumes, one tridiagonal |
|              |             | backward-Euler solve per species (`_diffusion`, radial)   |
| `Cartesian`  | (z, y, x)   | 3D LOD backward Euler (`_diffusion.diffuse_react`), or    |
|              |             | the unsplit 7-point system (`_unsplit`, an option)        |

Each solves, over one step of Δt with κ and S frozen,

    α ∂c/∂t = ∇·(α D* ∇c) − α κ c + α S,

and returns the new c with the amount the sink removed per cell volume, so that the
α-weighted total is conserved to round-off with closed walls. The model, the kinetics, the
protocol and the writers call only these methods (and read the layout from `Geometry`); no
code outside this module and `_grid` asks which kind of grid a run has.

- `operator(D, α, Δt, wall)` / `solve(operator, c, κ, S, Δt)`: the model's mobile species
  (the κ-independent part built once per solve, traced so D stays differentiable);
- `passive_operator(D, Δt, wall, κ)` / `diffuse(operator, c)`: the user's passive species
  (per-cell convention, capacity 1; their first-order decay κ implicit with the diffusion,
  so a steady balance of supply and decay does not depend on Δt on the radial and
  well-mixed grids and moves little with it on the 3D grid's LOD splitting, as the model
  species' sinks);
- `locate(flat_index)`: where a cell is, in words, for run-time error messages;
- `entry_path(a)`: ∫ a ds from where an exposure enters, for a coefficient that changes
  with the state (light absorbed by the particles on the way);
- `surface_faces(tissue, d)`: the faces between medium and tissue and the cell layer d deep
  behind each (`Faces`, built once), across which the surface cells take up particles
  straight from the medium;
- `has_transport`: False for the well-mixed compartment, whose fluid *is* the medium (it
  starts with the particles in it and exchanges gas with the air).

`wall` is the per-species Dirichlet value held on the boundary, or None for zero flux.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array

from . import _kinetics as kin
from ._diffusion import (
    diffuse,
    diffuse_react,
    diffuse_react_radial,
    make_operator,
    make_radial_operator,
    make_transport,
)
from ._grid import Geometry, path_from_entry
from ._parallel import device_mesh
from ._unsplit import make_unsplit_operator, solve_unsplit


class Space(eqx.Module):
    """Base of the three layouts (see the module docstring for the contract)."""

    shape: tuple[int, ...] = eqx.field(static=True)
    spacing_um: float = eqx.field(static=True)

    has_transport = True
    devices = 1

    @property
    def mesh(self) -> Mesh | None:
        return None

    def operator(self, diffusivity_um2_per_s: Array, capacity: Array, dt_s: float,
                 wall_uM: Array | None) -> Any:
        raise NotImplementedError

    def solve(self, operator: Any, c: Array, sink_per_s: Array, source_uM_per_s: Array,
              dt_s: float | Array, **step: Any) -> tuple[Array, Array]:
        """`step`: `inv_ratio` (Δt_op/Δt, a step shorter than the operator's) and
        `boundary_uM` (this step's wall values), where the transport supports them."""
        raise NotImplementedError

    def passive_operator(self, diffusivity_um2_per_s: Array, dt_s: float | Array,
                         wall_uM: Array | None, decay_per_s: Array) -> Any:
        raise NotImplementedError

    def diffuse(self, operator: Any, c: Array) -> Array:
        raise NotImplementedError

    def locate(self, flat_index: int) -> str:
        raise NotImplementedError

    def entry_path(self, per_cm: Array) -> Array:
        """∫ a ds (dimensionless) at each cell centre from where an exposure enters, for a
        coefficient `per_cm` (1/cm) per cell that changes with the state: the traced twin of
        `_grid.entry_path_cm` (z = 0 face of a 3D grid, outer wall of a radial one)."""
        raise NotImplementedError

    def surface_faces(self, tissue: np.ndarray, depth_um: float) -> Faces | None:
        """The faces between a medium cell and a tissue cell (None if there are none), built
        once from the static tissue mask, with the tissue cells a surface layer `depth_um`
        deep (one cell diameter) crosses behind each: where the surface cells take up
        particles straight from the medium (`Faces.exchange`)."""
        raise NotImplementedError


class WellMixed(Space):
    """One compartment: no transport; c(Δt) = c e^{−κΔt} + S (1 − e^{−κΔt})/κ exactly."""

    has_transport = False

    def operator(self, diffusivity_um2_per_s, capacity, dt_s, wall_uM):
        return capacity  # all the exact local solve needs

    def solve(self, operator, c, sink_per_s, source_uM_per_s, dt_s, **step):
        return kin.solve_linear(c, operator, sink_per_s, source_uM_per_s, dt_s)

    def passive_operator(self, diffusivity_um2_per_s, dt_s, wall_uM, decay_per_s):
        return decay_per_s, dt_s  # no transport: the decay is exact

    def diffuse(self, operator, c):
        decay_per_s, dt_s = operator
        return c * jnp.exp(-decay_per_s * dt_s)

    def locate(self, flat_index):
        return "in the well-mixed compartment"

    def entry_path(self, per_cm):
        return jnp.zeros_like(per_cm)  # the compartment sees the entry value

    def surface_faces(self, tissue, depth_um):
        return None  # cells suspended in the medium: no surface


class Radial(Space):
    """Spherical shells of `spacing_um` about r = 0 (zero flux there by symmetry)."""

    def operator(self, diffusivity_um2_per_s, capacity, dt_s, wall_uM):
        return make_radial_operator(diffusivity_um2_per_s, capacity, dt_s, self.spacing_um,
                                    wall_uM)

    def solve(self, operator, c, sink_per_s, source_uM_per_s, dt_s, **step):
        return diffuse_react_radial(operator, c, sink_per_s, source_uM_per_s, dt_s, **step)

    def passive_operator(self, diffusivity_um2_per_s, dt_s, wall_uM, decay_per_s):
        d = diffusivity_um2_per_s
        return (make_radial_operator(d, np.ones(d.shape, d.dtype), dt_s, self.spacing_um,
                                     wall_uM), decay_per_s, dt_s)

    def diffuse(self, operator, c):
        op, decay_per_s, dt_s = operator
        return diffuse_react_radial(op, c, decay_per_s, np.zeros((), c.dtype), dt_s)[0]

    def locate(self, flat_index):
        return f"at r = {(int(flat_index) + 0.5) * self.spacing_um:g} um"

    def entry_path(self, per_cm):
        return path_from_entry(per_cm, self.spacing_um, True, jnp)

    def surface_faces(self, tissue, depth_um):
        # shell i spans [i h, (i + 1) h]: volume ∝ (i+1)³ − i³, face k (between shells k and
        # k + 1, at r = (k + 1) h) has area ∝ (k + 1)²: A / V = 3 (k+1)² / (h ((i+1)³ − i³))
        t = np.asarray(tissue, bool)
        h, n = self.spacing_um, len(t)
        k = np.flatnonzero(t[:-1] != t[1:])  # faces where tissue meets medium
        inwards = t[k]  # tissue inside the face: the layer runs towards r = 0
        medium = np.where(inwards, k + 1, k)

        def area_per_volume(i, face):
            return 3.0 * (k[face] + 1.0) ** 2 / (h * ((i + 1.0) ** 3 - i**3.0))

        layer = _layer_entries(
            np.where(inwards, k, k + 1)[:, None], np.where(inwards, -1, 1)[:, None],
            lambda p: (p[:, 0] >= 0) & (p[:, 0] < n) & t[np.clip(p[:, 0], 0, n - 1)],
            layer_cells(depth_um, h, n), h, np.where(inwards, -1.0, 1.0) / ((k + 1.0) * h),
            lambda p, face: area_per_volume(p[:, 0], face))
        layer["cell"] = layer.pop("position")[:, 0]
        return Faces.build(medium, area_per_volume(medium, np.arange(len(k))), layer)


class Cartesian(Space):
    """Voxels (z, y, x) of edge `spacing_um`; optionally sharded along y over `devices`.
    `transport_solve`: "lod" (`_diffusion`) or "unsplit" (`_unsplit`, to the relative
    residual `transport_tolerance`), for the model's and the passive species alike."""

    devices: int = eqx.field(static=True, default=1)
    transport_solve: str = eqx.field(static=True, default="lod")
    transport_tolerance: float = eqx.field(static=True, default=1e-6)

    @property
    def mesh(self) -> Mesh | None:
        return device_mesh(self.devices) if self.devices > 1 else None

    @property
    def unsplit(self) -> bool:
        return self.transport_solve == "unsplit"

    def operator(self, diffusivity_um2_per_s, capacity, dt_s, wall_uM):
        make = make_unsplit_operator if self.unsplit else make_operator
        return make(diffusivity_um2_per_s, capacity, dt_s, self.spacing_um, wall_uM, self.mesh)

    def solve(self, operator, c, sink_per_s, source_uM_per_s, dt_s, **step):
        if self.unsplit:
            return solve_unsplit(operator, c, sink_per_s, source_uM_per_s, dt_s, self.mesh,
                                 tolerance=self.transport_tolerance, **step)
        return diffuse_react(operator, c, sink_per_s, source_uM_per_s, dt_s, self.mesh, **step)

    def passive_operator(self, diffusivity_um2_per_s, dt_s, wall_uM, decay_per_s):
        decay = jnp.broadcast_to(decay_per_s, diffusivity_um2_per_s.shape)
        if self.unsplit:  # per-cell convention: capacity 1
            d = diffusivity_um2_per_s
            return (make_unsplit_operator(d, jnp.ones_like(d), dt_s, self.spacing_um, wall_uM,
                                          self.mesh), decay, dt_s)
        return make_transport(diffusivity_um2_per_s, dt_s, self.spacing_um, wall_uM, self.mesh,
                              sink_per_s=decay)

    def diffuse(self, operator, c):
        if self.unsplit:
            op, decay, dt_s = operator
            return solve_unsplit(op, c, decay, jnp.zeros((), c.dtype), dt_s, self.mesh,
                                 tolerance=self.transport_tolerance)[0]
        return diffuse(operator, c, self.mesh)

    def locate(self, flat_index):
        k, j, i = np.unravel_index(int(flat_index), self.shape)
        x, y, z = ((a + 0.5) * self.spacing_um for a in (i, j, k))
        return f"at x = {x:g} um, y = {y:g} um, z = {z:g} um"

    def entry_path(self, per_cm):
        return path_from_entry(per_cm, self.spacing_um, False, jnp)

    def surface_faces(self, tissue, depth_um, cosines=None):
        """As `Space.surface_faces`; `cosines`, the mask's `face_cosine_fields` where the
        caller has them already (a sharded grid keeps them as fields), saves smoothing the
        mask twice."""
        t = np.asarray(tissue, bool)
        shape = np.array(t.shape)
        medium, start, step, cosine = [], [], [], []
        cosines = self.face_cosine_fields(t) if cosines is None else np.asarray(cosines)
        for axis in range(3):  # faces between neighbours along each axis, either way round
            lo = [slice(None)] * 3
            hi = [slice(None)] * 3
            lo[axis], hi[axis] = slice(0, -1), slice(1, None)
            a, b = t[tuple(lo)], t[tuple(hi)]
            unit = np.eye(3, dtype=int)[axis]
            for face, inside_at, sign in ((~a & b, 1, 1), (a & ~b, 0, -1)):
                p = np.argwhere(face)  # positions of the lower cell of each face
                m = p + (1 - inside_at) * unit
                medium.append(m)
                start.append(p + inside_at * unit)
                step.append(np.broadcast_to(sign * unit, p.shape))
                cos = cosines[..., FACE_DIRECTIONS.index((axis, sign))]
                cosine.append(cos[m[:, 0], m[:, 1], m[:, 2]])
        medium, start, step, cosine = (np.concatenate(x)
                                       for x in (medium, start, step, cosine))

        def in_tissue(p):
            inside = np.all((p >= 0) & (p < shape), axis=1)
            q = np.clip(p, 0, shape - 1)
            return inside & t[q[:, 0], q[:, 1], q[:, 2]]

        h = self.spacing_um
        layer = _layer_entries(start, step, in_tissue, layer_cells(depth_um, h, max(t.shape)), h,
                               np.zeros(len(medium)),
                               lambda p, face: cosine[face] / h)  # A/V = h²/h³, projected
        layer["cell"] = np.ravel_multi_index(tuple(layer.pop("position").T), t.shape)
        flat_medium = np.ravel_multi_index(tuple(medium.T), t.shape)
        return Faces.build(flat_medium, cosine / h, layer)

    def face_cosine_fields(self, tissue) -> np.ndarray:
        """(z, y, x, 6): `face_cosines` of each cell's face in each of FACE_DIRECTIONS, from
        the tissue mask (NumPy, once per model: the mask does not change during a run)."""
        smoothed = smoothed_mask(np.asarray(tissue, bool), np)
        return np.stack([face_cosines(smoothed, axis, s, np) for axis, s in FACE_DIRECTIONS],
                        axis=-1)

    def sharded_surface_exchange(self, c: Array, live: Array, per_area_um: Array,
                                 depth_um: Array, n_layer: int, tissue: Array,
                                 cosines: Array, h_s: Array) -> tuple[Array, Array]:
        """`Faces.layer_uptake`, `exchange` and `deposit` as whole fields (taken, given per
        voxel volume), from neighbour shifts only: a grid sharded along y must not gather a
        field onto one device, which `Faces`' gathers at arbitrary cells would. Same layer,
        same flux (`cosines`: `face_cosine_fields`, sharded like the grid), same exponential
        share (`n_layer` cells of each chain, as `Faces` has)."""
        t = jnp.asarray(tissue)
        h = self.spacing_um
        faces = []  # (axis, s, flux per area out of medium cell i, layer shares along i + s j)
        for d, (axis, s) in enumerate(FACE_DIRECTIONS):
            alive = ~t
            shares, m_sum = [], 0.0
            for j in range(1, n_layer + 1):
                alive = alive & _shift(t, axis, s * j, False)
                m = jnp.clip(jnp.minimum(j * h, depth_um) - (j - 1) * h, 0.0, None)
                m = jnp.where(alive, m, 0.0).astype(c.dtype)
                shares.append(m * _shift(live, axis, s * j, 0.0))
                m_sum = m_sum + m
            total = sum(shares)
            g = per_area_um * total / jnp.where(m_sum > 0, m_sum, 1.0)
            shares = [kin._safe_div(a, total) for a in shares]
            flux = (g * cosines[..., d].astype(c.dtype)
                    * jnp.maximum(c - _shift(c, axis, s, 0.0), 0.0))
            faces.append((axis, s, flux, shares))
        rate = sum(f for _, _, f, _ in faces) / h
        share = kin.decayed_share(kin._safe_div(rate, c) * h_s)
        taken = given = jnp.zeros_like(c)
        for axis, s, flux, shares in faces:
            moved = flux * share * h_s / h
            taken = taken + moved
            for j, part in enumerate(shares, start=1):
                given = given + _shift(moved * part, axis, -s * j, 0.0)
        return taken, given


class Faces(eqx.Module):
    """The faces between medium cells and tissue cells of a grid (flat indices), with each
    face's area over the volume of its medium cell (1/µm), the distinct medium cells
    (`cells`; `slot`: each face's among them), and the surface cell layer behind each face:
    the tissue cells the layer of one cell diameter d crosses along the face's normal
    (`layer_*`, one entry per cell and face, chains cut where the tissue ends). Only these
    few cells take part in the surface cells' uptake, so it is computed on them alone
    (gathers and scatters), not on whole fields.

    A layer entry spans depths [lo, hi] from its face (µm); the layer's volume in it, per
    face area, is m = ∫ (1 + σx)² dx over [lo, min(hi, d)] (σ = ∓1/r on a radial grid,
    inwards or outwards from the face at radius r; 0 on a voxel grid), computed from d as
    traced so that the cell diameter stays a differentiable parameter. On a grid coarser
    than a cell (h ≥ d) the layer is the first tissue cell alone."""

    medium: Array  # (F,) int
    tissue: Array  # (F,) int, the tissue cell across the face
    slot: Array  # (F,) int, index into `cells`
    cells: Array  # (M,) int, flat indices of the medium cells with a face
    medium_area_per_volume: Array  # (F,) 1/µm
    layer_face: Array  # (E,) int, index into the faces
    layer_cell: Array  # (E,) int, flat index of the tissue cell
    layer_lo_um: Array  # (E,) depth of the entry's near side below its face
    layer_hi_um: Array  # (E,) depth of its far side
    layer_curvature_per_um: Array  # (E,) σ
    layer_area_per_volume: Array  # (E,) the face's area over the entry cell's volume, 1/µm

    @classmethod
    def build(cls, medium, medium_av, layer: dict[str, np.ndarray]) -> Faces | None:
        """`layer`: the entries' face, cell, lo, hi, curvature, area_per_volume (numpy); each
        face's first entry (depth 0) is the tissue cell across it."""
        if len(medium) == 0:
            return None
        cells, slot = np.unique(np.asarray(medium), return_inverse=True)
        first = layer["lo"] == 0.0
        tissue = np.empty(len(medium), int)
        tissue[layer["face"][first]] = layer["cell"][first]
        i32 = lambda a: jnp.asarray(np.asarray(a), jnp.int32)  # noqa: E731
        f64 = lambda a: jnp.asarray(np.asarray(a, float))  # noqa: E731
        return cls(i32(medium), i32(tissue), i32(slot), i32(cells), f64(medium_av),
                   i32(layer["face"]), i32(layer["cell"]), f64(layer["lo"]),
                   f64(layer["hi"]), f64(layer["curvature"]), f64(layer["area_per_volume"]))

    @property
    def sizes(self) -> tuple[int, int, int]:
        """(faces, medium cells, layer entries): the lengths of the index arrays."""
        return self.medium.shape[-1], self.cells.shape[-1], self.layer_face.shape[-1]

    def padded(self, n_faces: int, n_cells: int, n_entries: int) -> Faces:
        """The same faces with inert ones appended up to these lengths, so that models whose
        surfaces differ in size (a sweep of a spheroid's radius or centre on a voxel grid)
        stack into one batch: a padding face has no area (it takes and gives nothing) and one
        layer entry of one voxel's depth (so its conductance is finite), a padding medium
        cell no face, and the entries beyond those no depth (they add to no layer).
        `n_entries` must leave one entry for each padding face."""
        f, m, e = self.sizes
        pad_f, pad_m, pad_e = n_faces - f, n_cells - m, n_entries - e
        if min(pad_f, pad_m, pad_e - pad_f) < 0:
            raise ValueError(f"cannot pad faces {self.sizes} to {(n_faces, n_cells, n_entries)}")

        def grow(a: Array, n: int, fill) -> Array:
            return jnp.concatenate([a, jnp.full((n,), fill, a.dtype)])

        depth = self.layer_hi_um[0] - self.layer_lo_um[0]  # one voxel (or shell)
        return Faces(
            medium=grow(self.medium, pad_f, self.medium[0]),
            tissue=grow(self.tissue, pad_f, self.tissue[0]),
            slot=grow(self.slot, pad_f, self.slot[0]),
            cells=grow(self.cells, pad_m, self.cells[0]),
            medium_area_per_volume=grow(self.medium_area_per_volume, pad_f, 0.0),
            layer_face=jnp.concatenate([self.layer_face,
                                        jnp.arange(f, n_faces, dtype=self.layer_face.dtype),
                                        jnp.zeros(pad_e - pad_f, self.layer_face.dtype)]),
            layer_cell=grow(self.layer_cell, pad_e, self.layer_cell[0]),
            layer_lo_um=grow(self.layer_lo_um, pad_e, 0.0),
            layer_hi_um=jnp.concatenate([self.layer_hi_um,
                                         jnp.full((pad_f,), depth, self.layer_hi_um.dtype),
                                         jnp.zeros(pad_e - pad_f, self.layer_hi_um.dtype)]),
            layer_curvature_per_um=grow(self.layer_curvature_per_um, pad_e, 0.0),
            layer_area_per_volume=grow(self.layer_area_per_volume, pad_e, 0.0))

    def layer_measure(self, depth_um: Array) -> Array:
        """m per entry (µm): the layer of depth `depth_um`'s volume in the entry per face
        area, ∫ (1 + σx)² dx over [lo, min(hi, d)], 0 for entries beyond the layer."""
        a = self.layer_lo_um
        b = jnp.maximum(jnp.minimum(self.layer_hi_um, depth_um), a)
        sigma = self.layer_curvature_per_um
        return (b - a) + sigma * (b * b - a * a) + sigma**2 * (b**3 - a**3) / 3.0

    def layer_uptake(self, per_area_um: Array, live: Array, depth_um: Array
                     ) -> tuple[Array, Array]:
        """The conductance of each face's surface layer, g = k d s ⟨φ V⟩ (µm/s, `per_area_um`
        = k d s; ⟨φ V⟩ the living-cell fraction `live` (flat) averaged over the layer's
        volume), and each entry's share of what crosses the face (its living cells' share
        of the layer's, so each living cell takes up at the same rate)."""
        m = self.layer_measure(depth_um).astype(live.dtype)
        a = m * live[self.layer_cell]
        n = self.medium.shape[0]
        total = jax.ops.segment_sum(a, self.layer_face, num_segments=n)
        volume = jax.ops.segment_sum(m, self.layer_face, num_segments=n)
        held = total[self.layer_face]
        share = kin._safe_div(a, held)
        return per_area_um * total / volume, share

    def exchange(self, c: Array, g_um_per_s: Array, h_s: Array) -> tuple[Array, Array]:
        """What a flux F = g (c_medium − c_tissue)₊ per area across each face moves over a step
        of `h_s`, `c` a concentration field and `g` (µm/s) each face's conductance: (taken
        per volume of the face's medium cell, moved per face area); `deposit` hands the
        latter to the layer's cells, so Σ taken V = Σ given V exactly. Each medium cell loses
        at its total rate R = Σ F A / (c V), frozen over the step: c (1 − e^{−R h}) in all,
        shared among its faces by their F, never more than it holds whatever the step."""
        flat = c.reshape(-1)
        cm = flat[self.medium]
        flux = g_um_per_s * jnp.maximum(cm - flat[self.tissue], 0.0)
        av_m = self.medium_area_per_volume.astype(c.dtype)
        rate = jax.ops.segment_sum(flux * av_m, self.slot, num_segments=self.cells.shape[0])
        held = flat[self.cells]
        # (`_safe_div`: the derivative of rate/held stays finite as a medium cell's last
        # particles, held ~1e-19 in float32, leave it, rate 0 where the tissue holds more)
        x = kin._safe_div(rate, held) * h_s
        share = kin.decayed_share(x)
        moved = flux * share[self.slot] * h_s  # per area
        return moved * av_m, moved

    def deposit(self, moved: Array, share: Array) -> Array:
        """What each layer entry's cell receives per its volume (voxel, not cell, volume)
        from `moved` per face area, split by the entries' `share` (`layer_uptake`)."""
        return moved[self.layer_face] * share * self.layer_area_per_volume.astype(moved.dtype)


def _layer_entries(start: np.ndarray, step, in_tissue, n_max: int, spacing_um: float,
                   curvature: np.ndarray, area_per_volume) -> dict[str, np.ndarray]:
    """The surface layer behind faces whose first tissue cell is `start` (positions, (F, D)
    integer arrays), walking `step` (a (D,) or (F, D) array) away from the medium for at most
    `n_max` cells while `in_tissue(positions)` holds; `area_per_volume(positions, face)` the
    face's area over each entry cell's volume."""
    parts = []
    face = np.arange(len(start))
    alive = np.ones(len(start), bool)
    for j in range(n_max):
        pos = start + j * np.asarray(step)
        alive &= in_tissue(pos)
        parts.append((face[alive], pos[alive], np.full(int(alive.sum()), j * spacing_um)))
        if not alive.any():  # every chain has left the tissue
            break
    f, p, lo = (np.concatenate([q[i] for q in parts]) for i in range(3))
    return {"face": f, "position": p, "lo": lo, "hi": lo + spacing_um,
            "curvature": curvature[f], "area_per_volume": area_per_volume(p, f)}


def layer_cells(depth_um: float, spacing_um: float, extent: int) -> int:
    """How many cells of a chain the surface layer may reach: those one layer depth covers,
    and one more, so that a fitted cell diameter a little larger still finds its cells; at
    most `extent`, the grid's longest side in cells (no chain is longer)."""
    return min(int(np.ceil(depth_um / spacing_um - 1e-9)) + 1, int(extent))


def _shift(a: Array, axis: int, s: int, fill) -> Array:
    """b[i] = a[i + s] along `axis`, `fill` beyond the edge."""
    return _shift_any(jnp, a, axis, s, fill)


#: The six directions (axis, sign) of a voxel's faces, in the order of `face_cosine_fields`.
FACE_DIRECTIONS = tuple((axis, s) for axis in range(3) for s in (1, -1))

#: Smoothing length (voxels, a Gaussian's σ) of the tissue mask whose gradient gives the
#: surface's normal at a voxel face (`face_cosines`). Measured on voxel spheres of radius
#: 6-25 voxels: the faces weighted by their cosine add up to 4πR² (R from the voxels'
#: volume) within 1.2 % at σ = 2 (5.6 % at σ = 1); unweighted, 1.48-1.50 times it.
FACE_NORMAL_SMOOTHING_VOXELS = 2.0


def smoothed_mask(tissue, xp=jnp, dtype=np.float64):
    """The tissue mask (1 in tissue) smoothed by a Gaussian of FACE_NORMAL_SMOOTHING_VOXELS
    along each axis, zero beyond the grid; `xp` NumPy or jax.numpy alike (a model computes it
    once, with NumPy, when it is built: `Cartesian.face_cosine_fields`)."""
    sigma = FACE_NORMAL_SMOOTHING_VOXELS
    k = np.arange(-int(np.ceil(4 * sigma)), int(np.ceil(4 * sigma)) + 1)
    w = np.exp(-(k**2) / (2 * sigma**2))
    w = w / w.sum()
    m = xp.asarray(tissue).astype(dtype)
    for a in range(3):
        m = sum(float(wi) * _shift_any(xp, m, a, int(ki)) for ki, wi in zip(k, w, strict=True))
    return m


def face_cosines(smoothed, axis: int, s: int, xp=jnp):
    """At each cell i, the cosine between the face to its neighbour i + s along `axis` and
    the tissue surface's normal there: the gradient of the `smoothed_mask`, its component
    across the face over its length. A voxelised surface has more face area than the surface
    it stands for (a sphere ~1.5 times: each face counts its own area, not the projection
    of the surface onto it); weighted by this cosine the faces add up to the surface's area
    (FACE_NORMAL_SMOOTHING_VOXELS). 1 where the smoothed mask is flat."""
    m = smoothed
    across = _shift_any(xp, m, axis, s)
    comps = []
    for b in range(3):
        if b == axis:
            comps.append(across - m)
        else:  # central differences at the two cells of the face, averaged
            comps.append(0.25 * (_shift_any(xp, m, b, 1) - _shift_any(xp, m, b, -1)
                                 + _shift_any(xp, across, b, 1) - _shift_any(xp, across, b, -1)))
    length = xp.sqrt(sum(c * c for c in comps))
    safe = xp.where(length > 0, length, 1.0)
    return xp.where(length > 0, xp.minimum(xp.abs(comps[axis]) / safe, 1.0), 1.0)


def _shift_any(xp, a, axis: int, s: int, fill=0):
    """b[i] = a[i + s] along `axis`, `fill` beyond the edge, for NumPy or jax.numpy arrays
    (`xp`) alike."""
    n = a.shape[axis]
    k = min(abs(s), n)
    if k == 0:
        return a
    edge_shape = list(a.shape)
    edge_shape[axis] = k
    edge = xp.full(edge_shape, fill, a.dtype)
    idx = [slice(None)] * a.ndim
    if s > 0:
        idx[axis] = slice(k, n)
        return xp.concatenate([a[tuple(idx)], edge], axis=axis)
    idx[axis] = slice(0, n - k)
    return xp.concatenate([edge, a[tuple(idx)]], axis=axis)


def make_space(geo: Geometry, devices: int = 1, transport_solve: str = "lod",
               transport_tolerance: float = 1e-6) -> Space:
    """The layout of a geometry (`devices` shards a 3D grid; other layouts run on one;
    `transport_solve`, `transport_tolerance`: the 3D grid's, see `Cartesian`; the radial and
    well-mixed layouts solve their one system whole already)."""
    if geo.well_mixed:
        return WellMixed(geo.shape, geo.spacing_um)
    if geo.dims == ("r",):
        return Radial(geo.shape, geo.spacing_um)
    return Cartesian(geo.shape, geo.spacing_um, devices, transport_solve, transport_tolerance)
