"""Radial spheroid grid against mathematics (sphere uptake, Thiele steady state, spherical
Bessel eigenmodes, conservation, order in r), against the 3D grid, and through the outputs."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import linregress

from zn_pde._space import Radial


def _shells(n: int, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres (um) and volumes (um^3) of n shells of thickness h."""
    faces = np.arange(n + 1) * h
    return (np.arange(n) + 0.5) * h, 4 / 3 * np.pi * np.diff(faces**3)


@partial(jax.jit, static_argnums=(4, 5, 6, 7))
def _run(c0, d, kappa, capacity, h, dt, steps, wall):
    """`steps` backward-Euler steps of α∂c/∂t = ∇·(αD∇c) − ακc on n shells of h (one
    species); `wall`: None (closed) or the value held on the outer wall."""
    space = Radial((c0.shape[0],), h)
    op = space.operator(d[:, None], capacity[:, None], dt,
                        None if wall is None else jnp.full(1, wall, c0.dtype))
    zero = jnp.zeros_like(c0[:, None])

    def body(_, c):
        return space.solve(op, c, kappa[:, None], zero, dt)[0]

    return jax.lax.fori_loop(0, steps, body, c0[:, None])[:, 0]


def _uniform(n, value):
    return jnp.full(n, value, jnp.float64)


def test_crank_uptake_by_a_sphere(x64):
    """A sphere of radius a, empty at t = 0, surface held at c_s: M_t/M_∞ =
    1 − (6/π²) Σ exp(−D m² π² t/a²)/m² (Crank 1975, The Mathematics of Diffusion, eq. 6.20).
    50 shells, Δt D/a² = 5e-4: the O(Δt + h²) error stays below 0.3 % of the uptake at
    every checked time (about half-way and nearly full)."""
    n, a, d = 50, 1.0, 1.0
    h = a / n
    _, vol = _shells(n, h)
    dt = 5e-4
    for tau in (0.03, 0.2):
        steps = round(tau / dt)
        c = np.asarray(_run(_uniform(n, 0.0), _uniform(n, d), _uniform(n, 0.0),
                            _uniform(n, 1.0), h, dt, steps, 1.0))
        uptake = np.sum(c * vol) / np.sum(vol)
        m = np.arange(1, 400)
        exact = 1 - 6 / np.pi**2 * np.sum(np.exp(-d * m**2 * np.pi**2 * tau / a**2) / m**2)
        assert uptake == pytest.approx(exact, abs=3e-3), (tau, uptake, exact)


def _thiele_error(n: int, phi: float) -> float:
    """Max error of the steady profile c(r)/c_s = R sinh(φ r/R) / (r sinh φ) (first-order
    sink κ = φ² D/R² in a sphere with c_s on its surface; Thiele 1939). A huge Δt makes each
    backward-Euler step the steady discrete problem."""
    a, d = 1.0, 1.0
    h = a / n
    r, _ = _shells(n, h)
    kappa = phi**2 * d / a**2
    c = np.asarray(_run(_uniform(n, 0.0), _uniform(n, d), _uniform(n, kappa),
                        _uniform(n, 1.0), h, 1e12, 3, 1.0))
    exact = a * np.sinh(phi * r / a) / (r * np.sinh(phi))
    return float(np.max(np.abs(c - exact)))


def test_thiele_steady_state_in_a_sphere(x64):
    """Thiele modulus φ = 3 on 40 shells: the profile within 1e-3 of c_s everywhere."""
    assert _thiele_error(40, 3.0) < 1e-3


def test_observed_order_two_in_r(x64):
    """The Thiele error falls as h²: slope of log(error) against log(h) within 2 ± 0.15."""
    ns = np.array([10, 20, 40, 80])
    errors = [_thiele_error(int(n), 3.0) for n in ns]
    slope = linregress(np.log(1.0 / ns), np.log(errors)).slope
    assert 1.85 < slope < 2.15, (slope, errors)


@pytest.mark.parametrize(("wall", "ka"), [(0.0, np.pi), (None, 4.493409457909064)])
def test_spherical_bessel_mode_decays_like_the_heat_equation(x64, wall, ka):
    """j₀(kr) = sin(kr)/(kr) is a mode of the radial Laplacian; with c = 0 on r = a it needs
    k a = π, with a closed wall tan(ka) = ka (ka = 4.4934). Its amplitude decays as
    exp(−D k² t): after D k² t = 1, within 1 % on 100 shells at Δt D k² = 1e-3."""
    n, a, d = 100, 1.0, 1.0
    h = a / n
    r, vol = _shells(n, h)
    k = ka / a
    mode = np.sin(k * r) / (k * r)
    steps = 1000
    dt = 1.0 / (d * k**2) / steps
    c = np.asarray(_run(jnp.asarray(mode), _uniform(n, d), _uniform(n, 0.0), _uniform(n, 1.0),
                        h, dt, steps, wall))
    amplitude = np.sum(c * mode * vol) / np.sum(mode * mode * vol)
    assert amplitude == pytest.approx(np.exp(-1.0), rel=1e-2)
    np.testing.assert_allclose(c, amplitude * mode, atol=2e-3 * np.abs(mode).max())


def test_closed_wall_conserves_mass_to_round_off(x64):
    """Tissue/medium jump in D and α, a first-order sink and a source, closed wall:
    Σ V (α c' + removed) = Σ V α (c + Δt S) to round-off, at any Δt."""
    n, h = 30, 10.0
    r, vol = _shells(n, h)
    tissue = r < 150.0
    alpha = np.where(tissue, 0.2, 1.0)
    d = np.where(tissue, 0.5, 20.0)
    rng = np.random.default_rng(0)
    c = rng.uniform(0.0, 5.0, n)
    kappa = np.where(tissue, 1e-2, 0.0)
    source = rng.uniform(0.0, 0.1, n)
    space = Radial((n,), h)
    for dt in (1.0, 600.0, 1e6):
        op = space.operator(jnp.asarray(d[:, None]), jnp.asarray(alpha[:, None]), dt, None)
        new, removed = space.solve(op, jnp.asarray(c[:, None]), jnp.asarray(kappa[:, None]),
                                   jnp.asarray(source[:, None]), dt)
        new, removed = np.asarray(new[:, 0]), np.asarray(removed[:, 0])
        before = np.sum(vol * alpha * (c + dt * source))
        after = np.sum(vol * (alpha * new + removed))
        assert after == pytest.approx(before, rel=1e-12)
        assert np.all(new >= 0) and np.all(removed >= 0)
