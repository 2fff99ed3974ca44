"""The spatial interface: how a layout of cells moves the mobile species and names a place.

A run's fields live on one of three layouts, each an implementation of the same small
interface (py-pde's grids and operators, exponax's steppers over a common base):

| layout       | field shape | transport                                               |
|--------------|-------------|---------------------------------------------------------|
| `WellMixed`  | (1,)        | none: each species' linear sink and source solved exactly |
| `Radial`     | (r,)        | 1-D spherically symmetric finite volumes, one tridiagonal |
|              |             | backward-Euler solve per species (`_diffusion`, radial)   |
| `Cartesian`  | (z, y, x)   | 3D LOD backward Euler (`_diffusion.diffuse_react`)        |

Each solves, over one step of Δt with κ and S frozen,

    α ∂c/∂t = ∇·(α D* ∇c) − α κ c + α S,

and returns the new c with the amount the sink removed per cell volume, so that the
α-weighted total is conserved to round-off with closed walls. The model, the kinetics, the
protocol and the writers call only these methods (and read the layout from `Geometry`); no
code outside this module and `_grid` asks which kind of grid a run has.

- `operator(D, α, Δt, wall)` / `solve(operator, c, κ, S, Δt)`: the model's mobile species
  (the κ-independent part built once per solve, traced so D stays differentiable);
- `passive_operator(D, Δt, wall)` / `diffuse(operator, c)`: the user's passive species
  (per-cell convention, capacity 1, decay applied separately);
- `locate(flat_index)`: where a cell is, in words, for run-time error messages;
- `entry_path(a)`: ∫ a ds from where an exposure enters, for a coefficient that changes
  with the state (light absorbed by the particles on the way);
- `surface_faces(tissue)`: the faces between medium and tissue (`Faces`, built once), across
  which the surface cells take up particles straight from the medium;
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

    def passive_operator(self, diffusivity_um2_per_s: Array, dt_s: float,
                         wall_uM: Array | None) -> Any:
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

    def surface_faces(self, tissue: np.ndarray) -> Faces | None:
        """The faces between a medium cell and a tissue cell (None if there are none), built
        once from the static tissue mask: where the surface cells take up particles straight
        from the medium (`Faces.exchange`)."""
        raise NotImplementedError


class WellMixed(Space):
    """One compartment: no transport; c(Δt) = c e^{−κΔt} + S (1 − e^{−κΔt})/κ exactly."""

    has_transport = False

    def operator(self, diffusivity_um2_per_s, capacity, dt_s, wall_uM):
        return capacity  # all the exact local solve needs

    def solve(self, operator, c, sink_per_s, source_uM_per_s, dt_s, **step):
        return kin.solve_linear(c, operator, sink_per_s, source_uM_per_s, dt_s)

    def passive_operator(self, diffusivity_um2_per_s, dt_s, wall_uM):
        return None

    def diffuse(self, operator, c):
        return c

    def locate(self, flat_index):
        return "in the well-mixed compartment"

    def entry_path(self, per_cm):
        return jnp.zeros_like(per_cm)  # the compartment sees the entry value

    def surface_faces(self, tissue):
        return None  # cells suspended in the medium: no surface


class Radial(Space):
    """Spherical shells of `spacing_um` about r = 0 (zero flux there by symmetry)."""

    def operator(self, diffusivity_um2_per_s, capacity, dt_s, wall_uM):
        return make_radial_operator(diffusivity_um2_per_s, capacity, dt_s, self.spacing_um,
                                    wall_uM)

    def solve(self, operator, c, sink_per_s, source_uM_per_s, dt_s, **step):
        return diffuse_react_radial(operator, c, sink_per_s, source_uM_per_s, dt_s, **step)

    def passive_operator(self, diffusivity_um2_per_s, dt_s, wall_uM):
        d = diffusivity_um2_per_s
        return make_radial_operator(d, np.ones(d.shape, d.dtype), dt_s, self.spacing_um,
                                    wall_uM)

    def diffuse(self, operator, c):
        zero = np.zeros((), c.dtype)
        return diffuse_react_radial(operator, c, zero, zero, 0.0)[0]

    def locate(self, flat_index):
        return f"at r = {(int(flat_index) + 0.5) * self.spacing_um:g} um"

    def entry_path(self, per_cm):
        return path_from_entry(per_cm, self.spacing_um, True, jnp)

    def surface_faces(self, tissue):
        # shell i spans [i h, (i + 1) h]: volume ∝ (i+1)³ − i³, face k (between shells k and
        # k + 1, at r = (k + 1) h) has area ∝ (k + 1)²: A / V = 3 (k+1)² / (h ((i+1)³ − i³))
        t = np.asarray(tissue, bool)
        k = np.flatnonzero(t[:-1] != t[1:])  # faces where tissue meets medium
        medium = np.where(t[k], k + 1, k)
        inside = np.where(t[k], k, k + 1)

        def area_per_volume(i):
            return 3.0 * (k + 1.0) ** 2 / (self.spacing_um * ((i + 1.0) ** 3 - i**3.0))

        return Faces.build(medium, inside, area_per_volume(medium), area_per_volume(inside))


class Cartesian(Space):
    """Voxels (z, y, x) of edge `spacing_um`; optionally sharded along y over `devices`."""

    devices: int = eqx.field(static=True, default=1)

    @property
    def mesh(self) -> Mesh | None:
        return device_mesh(self.devices) if self.devices > 1 else None

    def operator(self, diffusivity_um2_per_s, capacity, dt_s, wall_uM):
        return make_operator(diffusivity_um2_per_s, capacity, dt_s, self.spacing_um, wall_uM,
                             self.mesh)

    def solve(self, operator, c, sink_per_s, source_uM_per_s, dt_s, **step):
        return diffuse_react(operator, c, sink_per_s, source_uM_per_s, dt_s, self.mesh, **step)

    def passive_operator(self, diffusivity_um2_per_s, dt_s, wall_uM):
        return make_transport(diffusivity_um2_per_s, dt_s, self.spacing_um, wall_uM, self.mesh)

    def diffuse(self, operator, c):
        return diffuse(operator, c, self.mesh)

    def locate(self, flat_index):
        k, j, i = np.unravel_index(int(flat_index), self.shape)
        x, y, z = ((a + 0.5) * self.spacing_um for a in (i, j, k))
        return f"at x = {x:g} um, y = {y:g} um, z = {z:g} um"

    def entry_path(self, per_cm):
        return path_from_entry(per_cm, self.spacing_um, False, jnp)

    def surface_faces(self, tissue):
        t = np.asarray(tissue, bool)
        index = np.arange(t.size).reshape(t.shape)
        medium, inside = [], []
        for axis in range(3):  # faces between neighbours along each axis, either way round
            lo = [slice(None)] * 3
            hi = [slice(None)] * 3
            lo[axis], hi[axis] = slice(0, -1), slice(1, None)
            a, b = t[tuple(lo)], t[tuple(hi)]
            ia, ib = index[tuple(lo)], index[tuple(hi)]
            medium += [ia[~a & b], ib[a & ~b]]
            inside += [ib[~a & b], ia[a & ~b]]
        medium, inside = np.concatenate(medium), np.concatenate(inside)
        per = np.full(medium.shape, 1.0 / self.spacing_um)  # A / V = h² / h³ either side
        return Faces.build(medium, inside, per, per)

    def sharded_surface_exchange(self, c: Array, g_um_per_s: Array, tissue: Array,
                                 h_s: Array) -> tuple[Array, Array]:
        """`Faces.exchange` as whole fields (taken, given per cell volume), from neighbour
        shifts only: a grid sharded along y must not gather a field onto one device, which
        `Faces`' gathers at arbitrary cells would. Same flux, same exponential share."""
        t = jnp.asarray(tissue)
        faces = []  # (axis, s, flux per area out of the medium cell i into its tissue i + s)
        for axis in range(3):
            for s in (1, -1):
                into = ~t & _shift(t, axis, s, False)
                faces.append((axis, s, jnp.where(
                    into, _shift(g_um_per_s, axis, s, 0.0)
                    * jnp.maximum(c - _shift(c, axis, s, 0.0), 0.0), 0.0)))
        rate = sum(f for _, _, f in faces) / self.spacing_um
        share = kin.decayed_share(jnp.where(c > 0, rate / jnp.where(c > 0, c, 1.0), 0.0) * h_s)
        taken = given = jnp.zeros_like(c)
        for axis, s, flux in faces:
            moved = flux * share * h_s / self.spacing_um
            taken = taken + moved
            given = given + _shift(moved, axis, -s, 0.0)
        return taken, given


class Faces(eqx.Module):
    """The faces between medium cells and tissue cells of a grid (flat indices), with each
    face's area over the volume of the cell on either side (1/µm), and the distinct medium
    cells (`cells`; `slot`: each face's among them). Only these few cells take part in the
    surface cells' uptake, so it is computed on them alone (gathers and scatters), not on
    whole fields."""

    medium: Array  # (F,) int
    tissue: Array  # (F,) int
    slot: Array  # (F,) int, index into `cells`
    cells: Array  # (M,) int, flat indices of the medium cells with a face
    medium_area_per_volume: Array  # (F,) 1/µm
    tissue_area_per_volume: Array  # (F,) 1/µm

    @classmethod
    def build(cls, medium, tissue, medium_av, tissue_av) -> Faces | None:
        if len(medium) == 0:
            return None
        cells, slot = np.unique(np.asarray(medium), return_inverse=True)
        i32 = lambda a: jnp.asarray(np.asarray(a), jnp.int32)  # noqa: E731
        return cls(i32(medium), i32(tissue), i32(slot), i32(cells),
                   jnp.asarray(np.asarray(medium_av, float)),
                   jnp.asarray(np.asarray(tissue_av, float)))

    def exchange(self, c: Array, g_um_per_s: Array, h_s: Array) -> tuple[Array, Array]:
        """What a flux F = g (c_medium − c_tissue)₊ per area across each face moves over a step
        of `h_s`, `c` a concentration field and `g` (µm/s) the tissue side's conductance per
        face: (taken per volume of the face's medium cell, given per volume of its tissue
        cell), so Σ taken V = Σ given V exactly. Each medium cell loses at its total rate
        R = Σ F A / (c V), frozen over the step: c (1 − e^{−R h}) in all, shared among its
        faces by their F, never more than it holds whatever the step."""
        flat = c.reshape(-1)
        cm = flat[self.medium]
        flux = g_um_per_s * jnp.maximum(cm - flat[self.tissue], 0.0)
        av_m = self.medium_area_per_volume.astype(c.dtype)
        rate = jax.ops.segment_sum(flux * av_m, self.slot, num_segments=self.cells.shape[0])
        held = flat[self.cells]
        x = jnp.where(held > 0, rate / jnp.where(held > 0, held, 1.0), 0.0) * h_s
        share = kin.decayed_share(x)
        moved = flux * share[self.slot] * h_s  # per area
        return moved * av_m, moved * self.tissue_area_per_volume.astype(c.dtype)


def _shift(a: Array, axis: int, s: int, fill) -> Array:
    """b[i] = a[i + s] along `axis` (s = ±1), `fill` beyond the edge."""
    n = a.shape[axis]
    edge = jnp.full_like(jax.lax.slice_in_dim(a, 0, 1, axis=axis), fill)
    if s > 0:
        return jnp.concatenate([jax.lax.slice_in_dim(a, 1, n, axis=axis), edge], axis=axis)
    return jnp.concatenate([edge, jax.lax.slice_in_dim(a, 0, n - 1, axis=axis)], axis=axis)


def make_space(geo: Geometry, devices: int = 1) -> Space:
    """The layout of a geometry (`devices` shards a 3D grid; other layouts run on one)."""
    if geo.well_mixed:
        return WellMixed(geo.shape, geo.spacing_um)
    if geo.dims == ("r",):
        return Radial(geo.shape, geo.spacing_um)
    return Cartesian(geo.shape, geo.spacing_um, devices)
