"""Implicit diffusion: locally one-dimensional (LOD) backward Euler on a cell-centred grid.

For each diffusing species c with diffusivity D(x) (tissue or medium value per voxel),

    ∂c/∂t = ∇·(D ∇c),

one step of length Δt solves, axis after axis (z, then y, then x),

    (I − Δt L_a) c* = c,   (L_a c)_i = [D_{i+½}(c_{i+1} − c_i) − D_{i−½}(c_i − c_{i−1})] / h²,

with face diffusivities the harmonic means D_{i+½} = 2 D_i D_{i+1} / (D_i + D_{i+1}) (flux
continuity across a tissue/medium interface). Each factor is an M-matrix, so the step is
unconditionally stable and positivity preserving for any Δt; with zero-flux walls every
column of (I − Δt L_a) sums to one, so Σc is conserved to round-off. Dirichlet walls put a
ghost value g at the face, half a voxel away: the boundary voxel gets 2 D Δt/h² on the
diagonal and 2 D Δt/h² · g on the right-hand side.

Accuracy: first order in time (backward Euler, and LOD splitting commutes exactly only for
constant D), second order in space (measured in tests/test_diffusion.py).

The tridiagonal factorisations (Thomas algorithm) depend only on D and Δt, so they are
computed once per solve and each step does two sweeps per axis: a `lax.scan` over the axis,
vectorised over the other two axes and the species. Only two arrays are stored per axis: the
face coefficients rᵢ₋½ and the inverse pivots 1/pᵢ; the modified upper diagonal
c′ᵢ = −rᵢ₊½/pᵢ is rebuilt in the backward sweep, which carries rᵢ₊½ from the previous
row (8 bytes per voxel-species per axis in float32). Layout is (z, y, x, species); the axes
are cycled with `moveaxis` so the swept axis is always leading.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


class AxisFactors(NamedTuple):
    """Thomas factorisation of (I − Δt L) along the leading axis (n, ...)."""

    lower: Array  # r_{i−½} ≥ 0 (sub-diagonal is −lower; super-diagonal is −lower[i+1])
    inv_pivot: Array  # 1 / p_i, p_i = b_i − r_{i−½}² / p_{i−1}, shape (n, ...)
    source_first: Array  # Dirichlet right-hand side added to the first plane, shape (...)
    source_last: Array  # ... and to the last plane


class Transport(NamedTuple):
    """Factors for the three axes, in the order they are swept (z, y, x)."""

    axes: tuple[AxisFactors, AxisFactors, AxisFactors]


def _harmonic(a: Array, b: Array) -> Array:
    s = a + b
    safe = jnp.where(s > 0, s, 1.0)
    return jnp.where(s > 0, 2.0 * a * b / safe, 0.0)


def _factor_axis(d: Array, r_scale: Array | float, boundary: Array | None) -> AxisFactors:
    """Factorise along the leading axis of `d` (diffusivity, shape (n, ...))."""
    r_face = r_scale * _harmonic(d[:-1], d[1:])  # (n−1, ...)
    zero = jnp.zeros_like(d[:1])
    lower = jnp.concatenate([zero, r_face])
    upper = jnp.concatenate([r_face, zero])
    diag = 1.0 + lower + upper
    if boundary is not None:
        wall = 2.0 * r_scale * d  # ghost node half a voxel beyond the face
        diag = diag.at[0].add(wall[0]).at[-1].add(wall[-1])
        source_first, source_last = wall[0] * boundary, wall[-1] * boundary
    else:
        source_first = source_last = jnp.zeros_like(d[0])

    def sweep(c_prev, row):
        lo, dg, up = row
        inv = 1.0 / (dg + lo * c_prev)  # sub-diagonal is −lo
        c = -up * inv
        return c, (c, inv)

    _, (_, inv_pivot) = jax.lax.scan(sweep, jnp.zeros_like(d[0]), (lower, diag, upper))
    return AxisFactors(lower, inv_pivot, source_first, source_last)


def _cycle(a: Array) -> Array:
    """(a, b, c, ...) -> (b, c, a, ...): brings the next spatial axis to the front."""
    return jnp.moveaxis(a, 0, 2)


def make_transport(
    diffusivity_um2_per_s: Float[Array, "z y x s"],
    dt_s: float,
    spacing_um: float,
    boundary_uM: Float[Array, " s"] | None,
) -> Transport:
    """Factorise the three LOD sweeps. `boundary_uM=None` means zero-flux walls."""
    r_scale = dt_s / spacing_um**2
    d = diffusivity_um2_per_s
    axes = []
    for _ in range(3):
        axes.append(_factor_axis(d, r_scale, boundary_uM))
        d = _cycle(d)
    return Transport(tuple(axes))


def _solve_axis(f: AxisFactors, b: Array) -> Array:
    b = b.at[0].add(f.source_first).at[-1].add(f.source_last)

    def forward(d_prev, row):
        lo, inv, rhs = row
        d = (rhs + lo * d_prev) * inv
        return d, d

    _, d = jax.lax.scan(forward, jnp.zeros_like(b[0]), (f.lower, f.inv_pivot, b))

    def backward(carry, row):
        x_next, r_next = carry  # x_{i+1} and r_{i+½} = lower[i+1]
        lo, inv, dd = row
        x = dd + r_next * inv * x_next  # x_i = d′_i − c′_i x_{i+1}, c′_i = −r_{i+½}/p_i
        return (x, lo), x

    zero = jnp.zeros_like(b[0])
    _, x = jax.lax.scan(backward, (zero, zero), (f.lower, f.inv_pivot, d), reverse=True)
    return x


def diffuse(transport: Transport, c: Float[Array, "z y x s"]) -> Float[Array, "z y x s"]:
    """One LOD backward-Euler step: sweep z, y, x; returns the same layout."""
    for f in transport.axes:
        c = _cycle(_solve_axis(f, c))
    return c
