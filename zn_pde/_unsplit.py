"""The 3D grid's transport step without splitting (`numerics.transport_solve = "unsplit"`).

One backward-Euler step of α ∂c/∂t = ∇·(αD*∇c) − ακc + αS (κ, S frozen over the step) is the
full 7-point system

    A c' = b,   A = α (1 + Δt κ) + W − Δt Σₐ Lₐ,   b = α (c + Δt S) + W g,

(Lₐ the 1-D operators of `_diffusion` with the same harmonic face couplings, W the Dirichlet
walls' couplings to the wall value g, zero for zero-flux walls): symmetric, positive
definite, an M-matrix whose columns sum to α (1 + Δt κ) with closed walls, so
Σ α c' + Σ α Δt κ c' = Σ α (c + Δt S) to the residual. `_diffusion.diffuse_react` solves
instead the product of the three 1-D factors, each with a third of κ and S; the product's
Δt² cross terms leave an O(Δt) sweep-order asymmetry between axes where κΔt and DΔt/h² are
large (docs/limitations.md, "Tissue transport").

Here A is solved by BiCGSTAB (A is symmetric, but the preconditioner is not) preconditioned
by the LOD sweeps with zero source, their capacities shifted by σ ≥ 1 (`_sweeps`: the plain
sweeps, σ = 1, are a poor inverse where DΔt/h² is large, 137 iterations on the 16³ cube at
60 s steps against 11-17 shifted), started from x₀ = c + P (b − A c) (c the state at the
step's start: a quasi-steady species, the case that needs the unsplit solve, starts at its
solution and takes no iteration), each species' iteration stopped when its residual
‖b − A c'‖₂ falls to `tolerance` ‖b‖₂ (the species' scalars and norms kept apart: a
block-diagonal system whose rows differ by orders of magnitude between species). The
product A x is written as α (1 + Δtκ) x + W x + Σ r (xᵢ − xⱼ) over faces, differences of
neighbours, so that in float32 the large couplings (10²-10⁴ times α, `_diffusion`'s
round-off note) multiply differences, not the values themselves.

A tolerance is a tolerance: a step whose change is below it relative to ‖b‖ may be taken
only as far as x₀ takes it (the preconditioner underestimates a smooth change ~σ times),
so a slow transient lags by up to that much per step: after twelve 60 s steps the held
cube's centre was 4e-6 below its steady value at the default 1e-6, creeping up 1e-6 a step,
and 2e-10 below at 1e-10 (scratch run, float64). Likewise the LOD's guarantees hold only
to the tolerance: the exact solution of A is positive (an M-matrix), an iterate may fall
below zero by about the residual; and a step that reaches `MAX_ITERATIONS` keeps its last
iterate. A solve whose true residual ends above `SHORT_FACTOR` times its tolerance (at the
cap, a breakdown, or below float32's round-off) notes it on the host (`take_short`), which
the run's summary reports (none in the runs measured at the default tolerance).

Gradients: the solve goes through `lax.custom_linear_solve` (symmetric), so `jax.grad`
differentiates the exact solution A⁻¹b by the implicit-function rule (one more solve per
step on the way back), not the iterations.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, Float

from ._diffusion import Operator, _cycle, _harmonic, _loop, _plane, _set_plane, make_operator

#: iterations at most per step: the default scenario's steps took up to 33 (64³, 1 h around a
#: 1.5 W/cm² minute; docs/performance.md, "Unsplit transport"), a quasi-steady species none.
MAX_ITERATIONS = 50

#: a solve is reported (`take_short`) where its true relative residual ends above this many
#: times the tolerance: BiCGSTAB stops on its recursive residual, and the true one lands
#: near the tolerance, above it by round-off (float32 on an 8³ cube at 1e-6: 0.81-1.01e-6;
#: its floor there 3-5e-7, so float32 at 1e-8 is reported)
SHORT_FACTOR = 10.0

#: the solves whose largest relative residual ‖b − A c'‖₂/‖b‖₂ over species ended above
#: `SHORT_FACTOR` times their tolerance (at `MAX_ITERATIONS`, a breakdown or round-off) since
#: `take_short` last emptied it, and the largest such residual: counted on the host by a
#: debug callback from the step (a count, not a list: a fit's many runs never read it)
_SHORT = {"solves": 0, "residual": 0.0}


def _note_short(short: Array, residual: Array) -> None:
    # under vmap the callback runs for every member of the batch, short or not
    for flag, r in zip(np.ravel(short), np.ravel(residual), strict=True):
        if flag:
            _SHORT["solves"] += 1
            _SHORT["residual"] = max(_SHORT["residual"], float(r))


def short_note(short: tuple[int, float], tolerance: float) -> str | None:
    """The summary's note on the solves that ended above their tolerance (`take_short`'s
    count and largest residual), or None where there were none."""
    solves, residual = short
    if not solves:
        return None
    return (f"  note: the unsplit transport solve ended above numerics.transport_tolerance = "
            f"{tolerance:g} (more than {SHORT_FACTOR:g}x) in {solves} step solve(s), "
            f"its relative residual up to {residual:.3g}: stopped at its cap of "
            f"{MAX_ITERATIONS} BiCGSTAB iterations, a breakdown or round-off (float32's floor "
            "is ~1e-7-1e-6); those steps keep that iterate. A larger tolerance, "
            "numerics.precision = \"float64\", a smaller time.dt_s or the default "
            "numerics.transport_solve = \"lod\" avoids it")


def take_short() -> tuple[int, float]:
    """(solves, largest relative residual) of the solves that ended above their tolerance
    since the last call, which empties the count: a run calls it before and after it
    steps."""
    out = (_SHORT["solves"], _SHORT["residual"])
    _SHORT.update(solves=0, residual=0.0)
    return out


class UnsplitOperator(NamedTuple):
    """The 7-point operator in the state's (z, y, x, s) layout, and the LOD factors' static
    parts (`lod`) for the preconditioner."""

    lod: Operator
    coupling: tuple[Array, Array, Array]  # Δt/h² (αD*)ᵢ₊½ along z, y, x (0 past the end)
    capacity: Array  # α
    wall: Array  # Σ over the voxel's wall faces of 2 Δt/h² αD* (0 inside, or closed walls)
    boundary: Array  # g (s,), the wall values the operator was built with (0: closed)


def make_unsplit_operator(
    diffusivity_um2_per_s: Float[Array, "z y x s"],
    capacity: Float[Array, "z y x s"],
    dt_s: float | Array,
    spacing_um: float,
    boundary_uM: Float[Array, " s"] | None,
    mesh: Mesh | None = None,
) -> UnsplitOperator:
    """The operator of `solve_unsplit` (as `_diffusion.make_operator`, whose factors it
    keeps for the preconditioner)."""
    r_scale = dt_s / spacing_um**2
    flux = capacity * diffusivity_um2_per_s
    couplings = []
    wall = jnp.zeros_like(flux)
    for axis in range(3):
        lo, hi = jnp.split(flux, [flux.shape[axis] - 1], axis)[0], jnp.split(flux, [1], axis)[1]
        face = r_scale * _harmonic(lo, hi)
        couplings.append(jnp.concatenate([face, jnp.zeros_like(_edge(flux, axis, 0))], axis))
        if boundary_uM is not None:
            ends = jnp.zeros(flux.shape[axis], flux.dtype).at[0].add(1.0).at[-1].add(1.0)
            wall = wall + 2.0 * r_scale * flux * jnp.expand_dims(
                ends, [a for a in range(4) if a != axis])
    g = (jnp.zeros(flux.shape[-1:], flux.dtype) if boundary_uM is None
         else jnp.asarray(boundary_uM, flux.dtype))
    return UnsplitOperator(
        make_operator(diffusivity_um2_per_s, capacity, dt_s, spacing_um, boundary_uM, mesh),
        tuple(couplings), capacity, wall, g)


def _edge(a: Array, axis: int, i: int) -> Array:
    return jax.lax.slice_in_dim(a, i, i + 1, axis=axis)


def _matvec(op: UnsplitOperator, diagonal: Array, x: Array) -> Array:
    """A x = diagonal · x + Σ over faces rᵢ₊½ (xᵢ − xᵢ₊₁) on both sides of each face."""
    out = diagonal * x
    for axis, r in enumerate(op.coupling):
        n = x.shape[axis]
        lo = jax.lax.slice_in_dim(x, 0, n - 1, axis=axis)
        hi = jax.lax.slice_in_dim(x, 1, n, axis=axis)
        flow = jax.lax.slice_in_dim(r, 0, n - 1, axis=axis) * (lo - hi)  # out of i into i+1
        zero = jnp.zeros_like(_edge(x, axis, 0))
        out = out + jnp.concatenate([flow, zero], axis) - jnp.concatenate([zero, flow], axis)
    return out


class _Sweeps(NamedTuple):
    """The preconditioner's three 1-D factors, each in its axis' layout: couplings, 1/pivots
    and the capacity that scales the next axis' right-hand side."""

    coupling: tuple[Array, Array, Array]
    inv_pivot: tuple[Array, Array, Array]
    shift: tuple[Array, Array, Array]  # σ dₐ, which scales the next axis' right-hand side


def _sweeps(op: UnsplitOperator, diagonal: Array, sink_per_s: Array, dt_s: float | Array,
            inv_ratio: float | Array, mesh: Mesh | None) -> _Sweeps:
    """The preconditioner's factors Bₐ = σ dₐ + Wₐ − Δt_op Lₐ, dₐ = α (1 + Δtκ/3) r⁻¹ (the LOD
    factors of `diffuse_react` where σ = 1), pivots as sums of positive terms, once per step.

    The shift σ ≥ 1: for a mode with 1-D eigenvalues λₐ of Δt Lₐ/d the plain LOD (σ = 1)
    gives P A = (1 + Σλₐ)/Π(1 + λₐ), from 1 for smooth modes down to ~3/Λ² where all three
    λₐ reach the largest, Λ ≈ 4 Δt D/h² (Λ ≈ 150 at the 16³ cube's 60 s steps: P A's
    condition number ~10⁴, 137 BiCGSTAB iterations), while σ gives ~1/σ for smooth modes,
    ~1 where one λₐ is large and ~3σ²/Λ² where all three are, balanced by σ = Λ^(2/3): the
    cube took 137, 52, 26, 11, 9 iterations at σ = 1, 3, 10, 30, 100 (Λ^(2/3) = 29), and
    44, 20, 7, 10, 15 at 10 s steps (Λ^(2/3) = 9). Λ is taken per species as the largest
    over the voxels of (Σ of the voxel's six face couplings + walls) / (1.5 × diagonal);
    a shift per voxel took more iterations where D and α vary (measured on a 6×5×7 grid:
    500+ against 21-28), scratch runs, 2026-12-07."""
    third, couplings, invs, shifts = dt_s / 3.0, [], [], []
    around = op.wall
    for axis, r in enumerate(op.coupling):
        n = r.shape[axis]
        before = jnp.concatenate([jnp.zeros_like(_edge(r, axis, 0)),
                                  jax.lax.slice_in_dim(r, 0, n - 1, axis=axis)], axis)
        around = around + r + before
    most = jnp.max(around / (1.5 * diagonal), axis=(0, 1, 2), keepdims=True)
    sigma = jnp.broadcast_to(jnp.maximum(most, 1.0) ** (2.0 / 3.0), diagonal.shape)
    sink = sink_per_s
    for ax in op.lod.axes:
        shift = sigma * inv_ratio * ax.capacity * (1.0 + third * sink)
        excess = shift + ax.wall
        n = excess.shape[0]

        def pivot(i, e, r=ax.coupling):
            prev = _plane(e, i - 1)
            return _set_plane(e, _plane(e, i) + _plane(r, i - 1) * prev / (prev + _plane(
                r, i - 1)), i)

        invs.append(1.0 / (_loop(1, n, pivot, excess) + ax.coupling))
        couplings.append(ax.coupling)
        shifts.append(shift)
        sink, sigma = _cycle(sink, mesh), _cycle(sigma, mesh)
    return _Sweeps(tuple(couplings), tuple(invs), tuple(shifts))


def _precondition(sw: _Sweeps, r: Array, mesh: Mesh | None) -> Array:
    """P r = B₃⁻¹ S₃ B₂⁻¹ S₂ B₁⁻¹ r (Sₐ = σ dₐ; `_sweeps`), in the state's layout: the shifted
    LOD step with zero source and wall values, its first right-hand side r itself."""
    x = r
    for axis, (coupling, inv, cap) in enumerate(zip(sw.coupling, sw.inv_pivot, sw.shift,
                                                    strict=True)):
        n = x.shape[0]
        b = x if axis == 0 else cap * x

        def forward(i, y, coupling=coupling, inv=inv):
            m = _plane(coupling, i - 1) * _plane(inv, i - 1)
            return _set_plane(y, _plane(y, i) + m * _plane(y, i - 1), i)

        def backward(k, x, coupling=coupling, inv=inv, n=n):
            i = n - 2 - k
            return _set_plane(
                x, (_plane(x, i) + _plane(coupling, i) * _plane(x, i + 1)) * _plane(inv, i), i)

        y = _loop(1, n, forward, b)
        x = _cycle(_loop(0, n - 1, backward, y.at[n - 1].multiply(inv[n - 1])), mesh)
    return x


def _dot(a: Array, b: Array) -> Array:
    return jnp.sum(a * b, axis=(0, 1, 2))  # per species


def bicgstab(matvec, precondition, b: Array, x0: Array, tolerance: float,
             max_iterations: int = MAX_ITERATIONS) -> tuple[Array, Array]:
    """Right-preconditioned BiCGSTAB (van der Vorst 1992, SIAM J Sci Stat Comput 13:631,
    doi:10.1137/0913035, Alg. 'preconditioned') with every scalar per species (the last
    axis): a species stops when ‖r‖₂ ≤ `tolerance` ‖b‖₂, or at a breakdown (ρ or ω zero).
    Returns x and the iterations taken (the most over species)."""
    tiny = jnp.finfo(b.dtype).tiny
    limit = tolerance**2 * _dot(b, b)

    def safe(num, den):
        return jnp.where(den != 0, num / jnp.where(den != 0, den, 1.0), 0.0)

    r0 = b - matvec(x0)
    one = jnp.ones(b.shape[-1:], b.dtype)
    init = (x0, r0, r0, one, one, one, jnp.zeros_like(b), jnp.zeros_like(b),
            _dot(r0, r0) > limit, 0)

    def cond(v):
        return jnp.any(v[8]) & (v[9] < max_iterations)

    def body(v):
        x, r, rhat, rho, alpha, omega, p, q, active, k = v
        rho_ = _dot(rhat, r)
        beta = safe(rho_, rho) * safe(alpha, omega)
        p_ = r + beta * (p - omega * q)
        phat = precondition(p_)
        q_ = matvec(phat)
        alpha_ = safe(rho_, _dot(rhat, q_))
        s = r - alpha_ * q_
        half = _dot(s, s) <= limit  # converged at the half step
        shat = precondition(s)
        t = matvec(shat)
        omega_ = jnp.where(half, 0.0, safe(_dot(t, s), _dot(t, t)))
        x_ = x + alpha_ * phat + omega_ * shat
        r_ = s - omega_ * t
        still = (active & ~half & (_dot(r_, r_) > limit) & (jnp.abs(rho_) > tiny)
                 & (jnp.abs(omega_) > tiny))

        def pick(new, old):  # species already stopped keep their values
            return jnp.where(active, new, old)

        return (pick(x_, x), pick(r_, r), rhat, pick(rho_, rho), pick(alpha_, alpha),
                pick(omega_, omega), pick(p_, p), pick(q_, q), still, k + 1)

    out = jax.lax.while_loop(cond, body, init)
    return out[0], out[9]


def solve_unsplit(op: UnsplitOperator, c: Float[Array, "z y x s"], sink_per_s: Array,
                  source_uM_per_s: Array, dt_s: float | Array, mesh: Mesh | None = None, *,
                  inv_ratio: float | Array = 1.0, boundary_uM: Array | None = None,
                  tolerance: float = 1e-6) -> tuple[Array, Array]:
    """One backward-Euler step of the full 7-point system (module docstring); the same
    arguments and returns as `_diffusion.diffuse_react`: the new c and the amount the sink
    removed per voxel volume, α Δt κ c', so that Σ α c' + removed = Σ α (c + Δt S) with
    closed walls, to the solve's residual.

    `inv_ratio` = Δt_op/`dt_s` (Δt_op the step `op` was built for): the system is solved
    divided by Δt/Δt_op, [α (1 + Δtκ) r⁻¹ + W − Δt_op L] c' = α (c + ΔtS) r⁻¹ + W g."""
    x = _solve(op, c, sink_per_s, source_uM_per_s, dt_s, mesh, inv_ratio, boundary_uM,
               tolerance)
    return x, op.capacity * (dt_s * sink_per_s) * x


def _system(op, c, sink_per_s, source_uM_per_s, dt_s, mesh, inv_ratio, boundary_uM):
    """A's product, the preconditioner and b of one step."""
    g = op.boundary if boundary_uM is None else boundary_uM
    diagonal = inv_ratio * op.capacity * (1.0 + dt_s * sink_per_s) + op.wall
    b = inv_ratio * op.capacity * (c + dt_s * source_uM_per_s) + op.wall * g
    sw = _sweeps(op, diagonal, sink_per_s, dt_s, inv_ratio, mesh)
    return (lambda x: _matvec(op, diagonal, x)), (lambda r: _precondition(sw, r, mesh)), b


def _scaled_bicgstab(matvec, precondition, b, start, tolerance):
    """`bicgstab` on b/‖b‖ per species (the dot products of a species of tiny values would
    underflow in float32), started from x₀ = c + P (b − A c), c = `start` (the state at the
    step's start: a quasi-steady species, the case that needs the solve, takes no
    iteration)."""
    norm = jnp.sqrt(_dot(b, b))
    norm = jnp.where(norm > 0, norm, 1.0)
    unit, start = b / norm, start / norm
    x0 = start + precondition(unit - matvec(start))
    x, k = bicgstab(matvec, precondition, unit, x0, tolerance)
    # the true residual, not BiCGSTAB's recursive one, which falls on below round-off
    r = unit - matvec(x)
    residual = jnp.sqrt(jnp.max(_dot(r, r)))
    short = residual > SHORT_FACTOR * tolerance
    jax.lax.cond(short, lambda: jax.debug.callback(_note_short, short, residual), lambda: None)
    return x * norm, k


def _solve(op, c, sink_per_s, source_uM_per_s, dt_s, mesh, inv_ratio, boundary_uM,
           tolerance):
    matvec, precondition, b = _system(op, c, sink_per_s, source_uM_per_s, dt_s, mesh,
                                      inv_ratio, boundary_uM)
    return jax.lax.custom_linear_solve(
        matvec, b, lambda mv, rhs: _scaled_bicgstab(mv, precondition, rhs, c, tolerance)[0],
        symmetric=True)


def iterations(op, c, sink_per_s, source_uM_per_s, dt_s, mesh=None, *, inv_ratio=1.0,
               boundary_uM=None, tolerance=1e-6) -> tuple[Array, Array]:
    """(c', the BiCGSTAB iterations taken) of `solve_unsplit`'s step, without the implicit
    gradient (for scripts/bench_unsplit.py and the tests)."""
    matvec, precondition, b = _system(op, c, sink_per_s, source_uM_per_s, dt_s, mesh,
                                      inv_ratio, boundary_uM)
    return _scaled_bicgstab(matvec, precondition, b, c, tolerance)
