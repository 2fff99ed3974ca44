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
constant D), second order in space on box-aligned problems (measured in
tests/test_diffusion.py); about first order (0.8-1.1 observed) where a voxel spheroid's
staircase surface matters (tests/test_analytic_extra.py).

The tridiagonal matrices are symmetric, so each is factorised once per solve as
(I − Δt L_a) = L D Lᵀ (L unit lower bidiagonal, D = diag(pᵢ), the Thomas pivots); only two
arrays are stored per axis, uᵢ = rᵢ₊½ / pᵢ and 1/pᵢ (8 bytes per voxel-species per axis in
float32). A step then makes two sweeps per axis, both in place on the state buffer:

    forward   yᵢ = bᵢ + uᵢ₋₁ yᵢ₋₁                 (L y = b)
    backward  xᵢ = yᵢ / pᵢ + uᵢ xᵢ₊₁              (D Lᵀ x = y)

as `fori_loop`s over the planes of the leading axis (each plane a vectorised update of all
lines and species), with no temporary array: on CPU this in-place form runs ~2.5x faster
than a `lax.scan` that stacks its outputs, and it saves a state-sized buffer; on a GPU the
loops take 8 planes per iteration (`sweep_unroll`), as their iterations, not the bytes, bound
them there. Layout is
(z, y, x, species); the axes are cycled with `moveaxis` so the swept axis is always leading
(planes contiguous in memory), which costs one transpose per axis but is several times faster
than sweeping the strided innermost axis in place (measured in docs/performance.md).
"""

from __future__ import annotations

import os
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import Array, Float

from ._errors import InputError


class AxisFactors(NamedTuple):
    """L D Lᵀ factorisation of (I − Δt L) along the leading axis (n, ...)."""

    upper_over_pivot: Array  # uᵢ = rᵢ₊½ / pᵢ ≥ 0 (u_{n−1} = 0), shape (n, ...)
    inv_pivot: Array  # 1 / pᵢ, pᵢ = bᵢ − rᵢ₋½² / pᵢ₋₁ (bᵢ the diagonal), shape (n, ...)
    source_first: Array  # Dirichlet right-hand side added to the first plane, shape (...)
    source_last: Array  # ... and to the last plane


class Transport(NamedTuple):
    """Factors for the three axes, in the order they are swept (z, y, x)."""

    axes: tuple[AxisFactors, AxisFactors, AxisFactors]


def sweep_unroll() -> int:
    """Planes per iteration of the 3D sweeps' loops (`unroll` of the underlying scan), read
    when a solve is traced: once per model structure and process, as the compiled solvers
    are cached. Each iteration updates one plane, a few small kernels; on a GPU their launch
    cost, not the bytes, bounds the sweeps, and 8 planes per iteration made the transport
    core 3.5x and the default model step 1.8x faster at 128³ on an H200 (16 and 32: 3.0
    against 3.2 ms, and slower to compile; docs/performance.md, "GPU"). On CPU it stays 1:
    there unrolling cost the in-place update, 5-6x slower (measured). `ZN_PDE_SWEEP_UNROLL`
    overrides it (scripts/gpu_check.sh compares both in one run)."""
    env = os.environ.get("ZN_PDE_SWEEP_UNROLL", "").strip()
    if env:
        try:
            planes = int(env) if env.isascii() else 0
        except ValueError:
            planes = 0
        if planes < 1:
            raise InputError(f"the environment variable ZN_PDE_SWEEP_UNROLL = {env!r}; "
                             f"allowed: a whole number >= 1 (planes per loop iteration)")
        return planes
    return 8 if jax.default_backend() == "gpu" else 1


def _loop(lower: int, upper: int, body, init):
    """`fori_loop` over planes lower … upper − 1, unrolled by `sweep_unroll()`."""
    unroll = min(sweep_unroll(), max(upper - lower, 1))
    return jax.lax.fori_loop(lower, upper, body, init, unroll=unroll)


def _harmonic(a: Array, b: Array) -> Array:
    s = a + b
    safe = jnp.where(s > 0, s, 1.0)
    return jnp.where(s > 0, 2.0 * a * b / safe, 0.0)


def _axis_matrix(flux: Array, capacity: Array | float, r_scale: Array | float,
                 boundary: Array | None) -> tuple[Array, Array, Array, Array]:
    """The tridiagonal (capacity − Δt L) along the leading axis of `flux` (the face flux
    coefficient per voxel, D or α D*, shape (n, ...)) in positive terms: the couplings
    rᵢ₊½ (off-diagonals −rᵢ₊½; r₋½ = r_{n−½} = 0), each row's excess aᵢ of the diagonal over
    them (the capacity, plus the walls' couplings to a Dirichlet face), and the Dirichlet
    right-hand sides of the first and last planes (zero for zero-flux walls)."""
    r_face = r_scale * _harmonic(flux[:-1], flux[1:])  # (n−1, ...)
    upper = jnp.concatenate([r_face, jnp.zeros_like(flux[:1])])  # rᵢ₊½
    excess = jnp.broadcast_to(capacity, flux.shape)
    if boundary is None:
        first = last = jnp.zeros_like(flux[0])
    else:
        wall = 2.0 * r_scale * flux  # ghost node half a voxel beyond the face
        excess = excess.at[0].add(wall[0]).at[-1].add(wall[-1])
        first, last = wall[0] * boundary, wall[-1] * boundary
    return upper, excess, first, last


def _factor_axis(d: Array, r_scale: Array | float, boundary: Array | None,
                 absorb: Array | None = None) -> AxisFactors:
    """Factorise along the leading axis of `d` (diffusivity, shape (n, ...)); `absorb` (same
    shape, dimensionless) is added to the diagonal (a first-order sink's share Δt κ / 3).
    The pivots are pᵢ = eᵢ + rᵢ₊½ with eᵢ = aᵢ + rᵢ₋½ eᵢ₋₁/(eᵢ₋₁ + rᵢ₋½), sums of positive
    terms, as for the model's species (`_thomas_axis`): the textbook pᵢ = dᵢ − rᵢ₋½²/pᵢ₋₁
    subtracts, and a closed well's passive species drifted ~1e-4 per 100 steps in float32
    (a client audit)."""
    upper, excess, source_first, source_last = _axis_matrix(
        d, 1.0 if absorb is None else 1.0 + absorb, r_scale, boundary)
    lower = jnp.concatenate([jnp.zeros_like(upper[:1]), upper[:-1]])  # rᵢ₋½

    def pivot(e_prev, row):
        r, a = row
        e = a + r * e_prev / (e_prev + r)
        return e, e

    _, e = jax.lax.scan(pivot, jnp.ones_like(excess[0]), (lower, excess), unroll=sweep_unroll())
    inv_pivot = 1.0 / (e + upper)
    return AxisFactors(upper * inv_pivot, inv_pivot, source_first, source_last)


def _cycle(a: Array, mesh: Mesh | None = None) -> Array:
    """(a, b, c, ...) -> (b, c, a, ...): brings the next spatial axis to the front.

    On a device mesh the result is sharded along its second axis, so the axis about to be
    swept is whole on every device (the partitioner turns the transpose into an all-to-all).
    """
    a = jnp.moveaxis(a, 0, 2)
    if mesh is None:
        return a
    return jax.lax.with_sharding_constraint(
        a, NamedSharding(mesh, PartitionSpec(None, mesh.axis_names[0])))


def make_transport(
    diffusivity_um2_per_s: Float[Array, "z y x s"],
    dt_s: float,
    spacing_um: float,
    boundary_uM: Float[Array, " s"] | None,
    mesh: Mesh | None = None,
    sink_per_s: Float[Array, "z y x s"] | None = None,
) -> Transport:
    """Factorise the three LOD sweeps. `boundary_uM=None` means zero-flux walls; `mesh`: the
    fields are sharded along y over it (see `diffuse`).

    `sink_per_s` (κ ≥ 0, per voxel and species) adds first-order removal, ∂c/∂t = ∇·(D∇c) − κc,
    solved implicitly with the diffusion: each axis factor gets Δt κ/3 on its diagonal. The
    factors stay M-matrices (positive for any Δt), and a steady balance between diffusive
    supply and uptake stays close to the exact one at any step, which a split reaction step
    cannot do once κΔt is not small. Close, not exact: the product of the three factors
    carries Δt² cross terms, so the steady state moves with Δt (a sphere of Thiele modulus 3
    at h = 10 µm: centre value 0.305 of the surface's at Δt = 0.25 s, 0.335 at 60 s, 0.343 at
    600 s, exact 0.303; the uptake's effectiveness factor moves by at most 1.1 %).
    """
    r_scale = dt_s / spacing_um**2
    d = diffusivity_um2_per_s
    absorb = None if sink_per_s is None else (dt_s / 3.0) * sink_per_s
    axes = []
    for _ in range(3):
        axes.append(_factor_axis(d, r_scale, boundary_uM, absorb))
        d = _cycle(d, mesh)
        absorb = None if absorb is None else _cycle(absorb, mesh)
    return Transport(tuple(axes))


def _plane(a: Array, i) -> Array:
    return jax.lax.dynamic_index_in_dim(a, i, 0, keepdims=False)


def _set_plane(a: Array, value: Array, i) -> Array:
    return jax.lax.dynamic_update_index_in_dim(a, value, i, 0)  # in place inside the loop


def _solve_axis(f: AxisFactors, b: Array) -> Array:
    """Solve (I − Δt L) x = b along the leading axis, overwriting b plane by plane."""
    n = b.shape[0]
    u, inv = f.upper_over_pivot, f.inv_pivot
    b = b.at[0].add(f.source_first).at[-1].add(f.source_last)

    def forward(i, y):
        return _set_plane(y, _plane(y, i) + _plane(u, i - 1) * _plane(y, i - 1), i)

    def backward(k, x):
        i = n - 2 - k
        return _set_plane(x, _plane(x, i) * _plane(inv, i) + _plane(u, i) * _plane(x, i + 1), i)

    y = _loop(1, n, forward, b)
    x = y.at[n - 1].multiply(inv[n - 1])
    return _loop(0, n - 1, backward, x)


def diffuse(transport: Transport, c: Float[Array, "z y x s"], mesh: Mesh | None = None
            ) -> Float[Array, "z y x s"]:
    """One LOD backward-Euler step: sweep z, y, x; returns the same layout.

    With `mesh`, `c` is sharded along y: the z sweep is local, and each cycle re-shards the
    new layout along its second axis, so no device ever holds the whole domain.
    """
    for f in transport.axes:
        c = _cycle(_solve_axis(f, c), mesh)
    return c


# --- species whose local sinks and sources change every step ----------------------------------
#
# For the nanoparticle model's mobile species the extracellular volume fraction α (capacity)
# and first-order sinks κ and sources S enter the implicit solve:
#
#     α ∂c/∂t = ∇·(α D* ∇c) − α κ c + α S,
#
# with κ, S frozen at the step start (linearised). Each LOD axis solves
#
#     [α (1 + Δt κ/3) − Δt L_a] c⁽ᵃ⁾ = α (c⁽ᵃ⁻¹⁾ + Δt S/3),
#
# each 1-D operator carrying a third of the reaction: a symmetric M-matrix (positive
# solution for any Δt) whose column sums are α (1 + Δt κ/3), so
# Σ α c⁽ᵃ⁾ + Σ α Δt κ/3 c⁽ᵃ⁾ = Σ α (c⁽ᵃ⁻¹⁾ + Δt S/3) exactly with zero-flux walls. Without
# transport a voxel relaxes towards S/κ in every sweep, so a stiff sink holds its local
# balance. The amount each voxel's sink took, Σₐ α Δt κ/3 c⁽ᵃ⁾, is returned so the reaction
# step can hand it to its destination (cells, co-products), keeping the α-weighted totals
# conserved to round-off. (Measured alternatives: the whole source in the first sweep, or a
# stiffness-weighted share, made the default scenario's interstitial Zn²⁺ depend more on the
# step; docs/performance.md.) Because the pivots depend on κ they are recomputed every step,
# in a pass of their own (one pass more than the once-factorised `diffuse`).


class AxisOperator(NamedTuple):
    """The κ-independent part of one axis (leading axis n, ...), in that axis' layout."""

    coupling: Array  # rᵢ₊½ = Δt/h² (αD*)ᵢ₊½ ≥ 0 (0 on the last plane), shape (n, ...)
    capacity: Array  # α per voxel and species, shape (n, ...)
    source_first: Array  # Dirichlet right-hand side added to the first plane, shape (...)
    source_last: Array
    wall_first: Array  # the wall coefficient 2 Δt/h² (αD*) of the first plane (0: zero flux),
    wall_last: Array  # so a wall value g changing in time gives the source wall · g
    # the two as a field, wall_first, 0, ..., 0, wall_last, shape (n, ...), for the row
    # excess: one fused add per step (two plane updates there measured slower, 29.3 / 25.9
    # against 25.2 / 23.2 ms per default step, scripts/step_cost.py, 2026-12-02);
    # the planes above stay for the right-hand side, where a one-plane axis (shape [8, 8, 1])
    # must add each wall once
    wall: Array


class Operator(NamedTuple):
    """Static parts of the three axes, in the order they are swept (z, y, x)."""

    axes: tuple[AxisOperator, AxisOperator, AxisOperator]


def make_operator(
    diffusivity_um2_per_s: Float[Array, "z y x s"],
    capacity: Float[Array, "z y x s"],
    dt_s: float,
    spacing_um: float,
    boundary_uM: Float[Array, " s"] | None,
    mesh: Mesh | None = None,
) -> Operator:
    """The κ-independent parts of the LOD factors for `diffuse_react`: face couplings of the
    flux coefficient α D* (harmonic means), diagonals and the capacity α in each axis' layout.
    `boundary_uM=None` means zero-flux walls; a Dirichlet wall holds the value at the face."""
    r_scale = dt_s / spacing_um**2
    flux = capacity * diffusivity_um2_per_s
    alpha = capacity
    axes = []
    ones = None if boundary_uM is None else jnp.ones_like(boundary_uM)
    for _ in range(3):
        upper, _, first, last = _axis_matrix(flux, alpha, r_scale, boundary_uM)
        _, _, wall_first, wall_last = _axis_matrix(flux, alpha, r_scale, ones)
        wall = jnp.zeros_like(alpha).at[0].add(wall_first).at[-1].add(wall_last)
        axes.append(AxisOperator(upper, alpha, first, last, wall_first, wall_last, wall))
        flux, alpha = _cycle(flux, mesh), _cycle(alpha, mesh)
    return Operator(tuple(axes))


def _thomas_axis(coupling: Array, excess: Array, b: Array) -> Array:
    """Solve the symmetric tridiagonal system (off-diagonals −rᵢ₊½, diagonal dᵢ = aᵢ + rᵢ₋½ +
    rᵢ₊½, `excess` aᵢ > 0 the row's excess over its off-diagonals) along the leading axis by
    L D Lᵀ: pivots pᵢ = dᵢ − rᵢ₋½²/pᵢ₋₁ written as pᵢ = eᵢ + rᵢ₊½ with

        eᵢ = aᵢ + rᵢ₋½ eᵢ₋₁ / (eᵢ₋₁ + rᵢ₋½),   e₀ = a₀,

    a recurrence of positive terms (stored as 1/p in place), then

        yᵢ = bᵢ + (rᵢ₋½/pᵢ₋₁) yᵢ₋₁,    xᵢ = (yᵢ + rᵢ₊½ xᵢ₊₁) / pᵢ,

    each a `fori_loop` over planes with one carried buffer, updated in place (carrying the
    pivots and y together in one loop defeats the in-place update: 10x slower, measured).
    The textbook pivots subtract: with couplings 10²-10⁴ times the capacities (Zn²⁺ at 20 µm
    voxels and 60 s steps) they keep the capacity only in their last digits, and a closed
    well lost 3.5e-3 of its zinc in a day in float32 (ZIF-8; measured), as on radial grids
    (see the radial solve below)."""
    n = b.shape[0]
    inv, y = _pivots_and_forward(coupling, excess, b)

    def backward(k, x):
        i = n - 2 - k
        return _set_plane(
            x, (_plane(x, i) + _plane(coupling, i) * _plane(x, i + 1)) * _plane(inv, i), i)

    x = y.at[n - 1].multiply(inv[n - 1])
    return _loop(0, n - 1, backward, x)


def _pivots_and_forward(coupling: Array, excess: Array, b: Array) -> tuple[Array, Array]:
    """The first two loops of `_thomas_axis`: 1/pᵢ and y."""
    n = b.shape[0]

    def pivot(i, e):
        r, prev = _plane(coupling, i - 1), _plane(e, i - 1)
        return _set_plane(e, _plane(e, i) + r * prev / (prev + r), i)

    inv = 1.0 / (_loop(1, n, pivot, excess) + coupling)

    def forward(i, y):
        m = _plane(coupling, i - 1) * _plane(inv, i - 1)
        return _set_plane(y, _plane(y, i) + m * _plane(y, i - 1), i)

    return inv, _loop(1, n, forward, b)


def _thomas_last_axis(coupling: Array, excess: Array, b: Array, removed: Array,
                      absorb: Array) -> tuple[Array, Array]:
    """`_thomas_axis` for the last (x) sweep of `diffuse_react`, whose backward loop writes
    each plane xᵢ, and the sinks' total removed + absorb xᵢ, straight into the state's own
    layout: `b`, `removed`, `absorb` are (x, z, y, s); returns c and removed as (z, y, x, s).

    The same arithmetic as `_thomas_axis` and a transpose, without the transpose: XLA fused
    that transpose into every reaction kernel that read the solve's output, which then
    gathered each value across planes (docs/performance.md, "Reaction part of the step")."""
    n, s = b.shape[0], b.shape[-1]
    inv, y = _pivots_and_forward(coupling, excess, b)

    def both(i, x):  # plane i of (c, removed), as one (z, y, 1, 2s) slab of the output
        return jnp.concatenate([x, _plane(removed, i) + _plane(absorb, i) * x], -1)[:, :, None]

    out = jnp.zeros(b.shape[1:3] + (n, 2 * s), b.dtype)
    out = jax.lax.dynamic_update_index_in_dim(out, both(n - 1, y[n - 1] * inv[n - 1]), n - 1, 2)

    def backward(k, out):
        i = n - 2 - k
        x_next = jax.lax.dynamic_index_in_dim(out, i + 1, 2, keepdims=False)[..., :s]
        x = (_plane(y, i) + _plane(coupling, i) * x_next) * _plane(inv, i)
        return jax.lax.dynamic_update_index_in_dim(out, both(i, x), i, 2)

    out = _loop(0, n - 1, backward, out)
    return out[..., :s], out[..., s:]


def diffuse_react(operator: Operator, c: Float[Array, "z y x s"], sink_per_s: Array,
                  source_uM_per_s: Array, dt_s: float | Array, mesh: Mesh | None = None,
                  *, inv_ratio: float | Array = 1.0, boundary_uM: Array | None = None
                  ) -> tuple[Array, Array]:
    """One LOD backward-Euler step of α ∂c/∂t = ∇·(αD*∇c) − ακc + αS (κ = `sink_per_s`,
    S = `source_uM_per_s`, both (z, y, x, s) and frozen over the step; S enters the first
    sweep a third at a time, see the comment above).

    `inv_ratio` = Δt_op/`dt_s`, where Δt_op is the step `operator` was built for: a step of
    another length solves the same system divided by Δt_op/`dt_s`,

        [α (1 + Δt κ/3)/r − Δt_op L_a] c⁽ᵃ⁾ = α (c⁽ᵃ⁻¹⁾ + Δt S/3)/r + Δt_op W g,  r = Δt/Δt_op,

    so one operator serves every step length (a traced `dt_s` included) at no extra cost.
    `boundary_uM` (s,): the Dirichlet wall values g of this step (default: those the operator
    was built with).

    Returns the new c and the amount the sinks removed per voxel volume, Σₐ α Δt κ/3 c⁽ᵃ⁾
    (same layout), so that Σ α c_new + removed = Σ α (c + Δt S) (zero-flux walls)."""
    third = dt_s / 3.0
    removed = jnp.zeros_like(c)
    gain = third * source_uM_per_s
    for axis, ax in enumerate(operator.axes):
        absorb = ax.capacity * (third * sink_per_s)
        if boundary_uM is None:
            first, last = ax.source_first, ax.source_last
        else:
            first, last = ax.wall_first * boundary_uM, ax.wall_last * boundary_uM
        rhs = (inv_ratio * ax.capacity * (c + gain)).at[0].add(first).at[-1].add(last)
        # each row's excess over its couplings: capacity and sink (and a Dirichlet wall)
        excess = inv_ratio * (ax.capacity + absorb) + ax.wall
        if axis == 2 and mesh is None:  # sharded: the partitioner's transpose (all-to-all)
            return _thomas_last_axis(ax.coupling, excess, rhs, removed, absorb)
        c = _thomas_axis(ax.coupling, excess, rhs)
        removed = removed + absorb * c
        c, removed, sink_per_s, gain = (_cycle(a, mesh) for a in (c, removed, sink_per_s, gain))
    return c, removed


# --- radial grids: the spherically symmetric form --------------------------------------------
#
# On shells i = 0 … n−1 of thickness h (faces at rᵢ₊½ = (i + 1) h, volumes Vᵢ, face areas
# Aᵢ₊½ = 4π rᵢ₊½²) the finite-volume balance of α ∂c/∂t = (1/r²) ∂ᵣ(r² α D* ∂ᵣc) − α κ c + α S
# over one backward-Euler step is
#
#     Vᵢ αᵢ (1 + Δt κᵢ) cᵢ' − Δt Aᵢ₊½ (αD*)ᵢ₊½ (cᵢ₊₁' − cᵢ')/h + Δt Aᵢ₋½ (αD*)ᵢ₋½ (cᵢ' − cᵢ₋₁')/h
#         = Vᵢ αᵢ (cᵢ + Δt Sᵢ),
#
# with the same harmonic face rule as the 3D grid. A₋½ = 0 (the centre: zero flux by
# symmetry); at the outer wall a Dirichlet value sits on the face, half a shell away
# (coupling 2 Δt A_{n−½} (αD*)_{n−1}/h), or the wall is closed. The matrix is a symmetric
# M-matrix whose columns sum to Vᵢ αᵢ (1 + Δt κᵢ) with a closed wall, so Σ V α c is conserved
# and the solution stays positive for any Δt. Rows are scaled by 1/h³ (volumes in units of h³,
# areas of h²). Second order in r (measured in tests/test_radial.py), first order in time;
# one tridiagonal solve per species and step, and no splitting: the whole sink and source
# enter the one solve.
#
# Round-off. At the model's steps the couplings exceed the capacities by 10³-10⁵ (Zn²⁺:
# Δt D*/h² ≈ 10⁴ at h = 2.5 µm, Δt = 300 s), and the textbook pivots pᵢ = dᵢ − rᵢ₋½²/pᵢ₋₁
# carry the capacities only in their last digits: in float32 the Zn²⁺ total of a closed well
# drifted by 6 % over a day (measured). The solve therefore writes each pivot as its excess over
# the coupling to the next shell, pᵢ = eᵢ + rᵢ₊½, where eᵢ obeys a recurrence of positive terms
# only,
#
#     eᵢ = aᵢ + rᵢ₋½ eᵢ₋₁ / (eᵢ₋₁ + rᵢ₋½),     aᵢ = Vᵢ αᵢ (1 + Δt κᵢ) (+ the Dirichlet wall),
#
# (aᵢ is the row's excess over its off-diagonals, the capacity), so no step subtracts and the
# forward and backward sweeps, also sums of positive terms, keep every shell to a few units of
# round-off: the closed-well total then holds to 1e-5 in float32 over a day.


class RadialOperator(NamedTuple):
    """The κ-independent parts of the radial balance, shells leading: (n, s)."""

    coupling: Array  # rᵢ₊½ = Δt Aᵢ₊½ (αD*)ᵢ₊½ / h³ (0 on the last shell)
    wall: Array  # the Dirichlet wall's coupling on the last shell (0 elsewhere, or closed)
    capacity: Array  # αᵢ
    volume: Array  # Vᵢ / h³ (the same for every species)
    source_last: Array  # Dirichlet right-hand side of the last shell, shape (s,)


def make_radial_operator(
    diffusivity_um2_per_s: Float[Array, "r s"],
    capacity: Float[Array, "r s"],
    dt_s: float,
    spacing_um: float,
    boundary_uM: Float[Array, " s"] | None,
) -> RadialOperator:
    """The radial operator for `diffuse_react_radial`; `boundary_uM=None` closes the outer
    wall (zero flux), otherwise it holds those values on it."""
    n = capacity.shape[0]
    faces = jnp.arange(1, n + 1, dtype=capacity.dtype)  # rᵢ₊½ / h
    volume = (4.0 / 3.0 * jnp.pi * (faces**3 - (faces - 1) ** 3))[:, None]
    area = (4.0 * jnp.pi * faces**2)[:, None]
    flux = capacity * diffusivity_um2_per_s
    scale = dt_s / spacing_um**2
    upper = jnp.concatenate([scale * area[:-1] * _harmonic(flux[:-1], flux[1:]),
                             jnp.zeros_like(flux[:1])])
    wall = jnp.zeros_like(flux)
    last = jnp.zeros_like(flux[-1])
    if boundary_uM is not None:
        wall = wall.at[-1].set(2.0 * scale * area[-1] * flux[-1])
        last = wall[-1] * boundary_uM
    return RadialOperator(upper, wall, capacity, jnp.broadcast_to(volume, capacity.shape), last)


def _excess_tridiagonal(coupling: Array, excess: Array, b: Array) -> Array:
    """Solve the symmetric tridiagonal M-matrix with off-diagonals −rᵢ₊½ and diagonal
    aᵢ + rᵢ₋½ + rᵢ₊½ (aᵢ = `excess` ≥ 0) along the leading axis, in positive terms only (see
    the comment above): eᵢ = aᵢ + rᵢ₋½ eᵢ₋₁/(eᵢ₋₁ + rᵢ₋½), pᵢ = eᵢ + rᵢ₊½,
    yᵢ = bᵢ + (rᵢ₋½/pᵢ₋₁) yᵢ₋₁, xᵢ = (yᵢ + rᵢ₊½ xᵢ₊₁)/pᵢ."""
    lower = jnp.concatenate([jnp.zeros_like(coupling[:1]), coupling[:-1]])  # rᵢ₋½

    def forward(carry, row):
        e_prev, p_prev, y_prev = carry
        a, r_lo, r_up, bi = row
        e = a + r_lo * e_prev / jnp.where(e_prev + r_lo > 0, e_prev + r_lo, 1.0)
        p = e + r_up
        y = bi + r_lo / p_prev * y_prev
        return (e, p, y), (p, y)

    zero = jnp.zeros_like(b[0])
    one = jnp.ones_like(b[0])
    _, (p, y) = jax.lax.scan(forward, (zero, one, zero), (excess, lower, coupling, b))

    def backward(x_next, row):
        pi, yi, r_up = row
        x = (yi + r_up * x_next) / pi
        return x, x

    _, x = jax.lax.scan(backward, zero, (p, y, coupling), reverse=True)
    return x


def diffuse_react_radial(operator: RadialOperator, c: Float[Array, "r s"], sink_per_s: Array,
                         source_uM_per_s: Array, dt_s: float | Array, *,
                         inv_ratio: float | Array = 1.0, boundary_uM: Array | None = None
                         ) -> tuple[Array, Array]:
    """One backward-Euler step of the radial balance above (κ = `sink_per_s`,
    S = `source_uM_per_s`, (r, s), frozen over the step).

    `inv_ratio` = Δt_op/`dt_s`, Δt_op the step the operator was built for: a step of another
    length solves the same balance divided by Δt/Δt_op (capacities scaled by `inv_ratio`,
    couplings as built), so one operator serves every step length. `boundary_uM` (s,): the
    wall values of this step (default: those the operator was built with).

    Returns the new c and the amount the sink removed per shell volume, α Δt κ c' (same
    layout), so that Σ V (α c' + removed) = Σ V α (c + Δt S) with a closed wall."""
    op = operator
    absorb = op.capacity * (dt_s * sink_per_s)
    last = op.source_last if boundary_uM is None else op.wall[-1] * boundary_uM
    rhs = (inv_ratio * op.volume * op.capacity * (c + dt_s * source_uM_per_s)).at[-1].add(last)
    excess = inv_ratio * op.volume * (op.capacity + absorb) + op.wall
    new = _excess_tridiagonal(op.coupling, excess, rhs)
    return new, absorb * new
