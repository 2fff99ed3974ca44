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
- `has_transport`: False for the well-mixed compartment, whose fluid *is* the medium (it
  starts with the particles in it and exchanges gas with the air).

`wall` is the per-species Dirichlet value held on the boundary, or None for zero flux.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
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


def make_space(geo: Geometry, devices: int = 1) -> Space:
    """The layout of a geometry (`devices` shards a 3D grid; other layouts run on one)."""
    if geo.well_mixed:
        return WellMixed(geo.shape, geo.spacing_um)
    if geo.dims == ("r",):
        return Radial(geo.shape, geo.spacing_um)
    return Cartesian(geo.shape, geo.spacing_um, devices)
