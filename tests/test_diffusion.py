"""Transport core against mathematics: eigenmodes, convergence orders, conservation, spheres."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import config, crank_sphere
from scipy.stats import linregress

from zn_pde import Schedule, build_model, diffuse, make_transport
from zn_pde._solve import advance, factorise


def _centres(n: int, h: float) -> np.ndarray:
    return (np.arange(n) + 0.5) * h


def _mode(shape_zyx, h, kind):
    """cos (zero-flux) or sin (zero Dirichlet) fundamental mode on each axis."""
    grids = np.meshgrid(*[_centres(n, h) for n in shape_zyx], indexing="ij")
    f = np.cos if kind == "neumann" else np.sin
    out = np.ones(shape_zyx)
    for g, n in zip(grids, shape_zyx, strict=True):
        out = out * f(np.pi * g / (n * h))
    return out


def _run_mode(n: int, kind: str, dt: float, steps: int, d: float = 1.0, length: float = 1.0):
    h = length / n
    shape = (n, n, n)
    u0 = _mode(shape, h, kind)
    c = _advance(jnp.asarray(u0[..., None]), jnp.full(shape + (1,), d), dt, h,
                 kind == "dirichlet", steps)
    return np.asarray(c[..., 0]), u0, h


@partial(jax.jit, static_argnums=(2, 3, 4, 5))
def _advance(c, dfield, dt, h, dirichlet, steps):
    tr = make_transport(dfield, dt, h, jnp.zeros(1, c.dtype) if dirichlet else None)
    return jax.lax.fori_loop(0, steps, lambda i, c: diffuse(tr, c), c)


def test_fourier_mode_is_an_exact_discrete_eigenmode(x64):
    """Zero-flux walls: cos modes are eigenvectors of the cell-centred operator; LOD backward
    Euler multiplies the mode by Π_a 1/(1 + Δt D λ_a), λ_a = (4/h²) sin²(π h / 2L) exactly."""
    n, dt, steps, d = 12, 0.01, 5, 1.0
    c, u0, h = _run_mode(n, "neumann", dt, steps, d)
    lam = 4 / h**2 * np.sin(np.pi * h / 2) ** 2
    expected = u0 * (1 + dt * d * lam) ** (-3 * steps)
    np.testing.assert_allclose(c, expected, rtol=0, atol=1e-13)


def test_fourier_mode_decays_like_the_heat_equation(x64):
    """Decay of exp(−3 D π² t) on the unit cube, to within the O(h² + Δt) discretisation error
    (about 2 % here for h = 1/32, Δt D / L² = 1e-3 over 30 steps)."""
    n, dt, steps = 32, 1e-3, 30
    c, u0, _ = _run_mode(n, "neumann", dt, steps)
    ratio = c.ravel() @ u0.ravel() / (u0.ravel() @ u0.ravel())
    assert ratio == pytest.approx(np.exp(-3 * np.pi**2 * dt * steps), rel=0.02)


@pytest.mark.parametrize("kind", ["neumann", "dirichlet"])
def test_spatial_convergence_order_is_two(x64, kind):
    """Same time discretisation on every grid; the reference is the continuous mode advanced
    by the exact backward-Euler LOD factor Π_a (1 + Δt D k_a²)^−n, so what remains is the
    spatial error alone. Observed order from a log-log fit over h = 1/8 ... 1/64: 2 ± 0.15."""
    dt, steps = 2e-3, 10
    k2 = np.pi**2
    errors, hs = [], []
    for n in (8, 16, 32, 64):
        c, u0, h = _run_mode(n, kind, dt, steps)
        ref = u0 * (1 + dt * k2) ** (-3 * steps)
        errors.append(np.abs(c - ref).max())
        hs.append(h)
    slope = linregress(np.log(hs), np.log(errors)).slope
    assert slope == pytest.approx(2.0, abs=0.15)


def test_time_convergence_order_is_one(x64):
    """Against the exact-in-time solution of the semi-discrete system, exp(−D Σλ_a t) (same
    grid), backward Euler converges at first order: slope 1 ± 0.1 over Δt halvings."""
    n, t_end = 16, 0.02
    h = 1.0 / n
    lam = 3 * 4 / h**2 * np.sin(np.pi * h / 2) ** 2
    errs, dts = [], []
    for steps in (4, 8, 16, 32):
        c, u0, _ = _run_mode(n, "neumann", t_end / steps, steps)
        errs.append(np.abs(c - u0 * np.exp(-lam * t_end)).max())
        dts.append(t_end / steps)
    slope = linregress(np.log(dts), np.log(errs)).slope
    assert slope == pytest.approx(1.0, abs=0.1)


def test_mass_is_conserved_with_zero_flux_walls_and_contrasting_diffusivity(x64):
    """Harmonic-mean face coefficients keep the scheme in flux form: Σc is conserved to
    round-off (relative 1e-12) even across a 100x tissue/medium contrast, and stays ≥ 0."""
    rng = np.random.default_rng(0)
    shape = (10, 12, 14)
    zz, yy, xx = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    ball = (xx - 7) ** 2 + (yy - 6) ** 2 + (zz - 5) ** 2 < 16
    d = np.where(ball, 5.0, 500.0)[..., None] * np.array([1.0, 0.1])
    c0 = rng.uniform(0, 1, shape + (2,))
    c = _advance(jnp.asarray(c0), jnp.asarray(d), 30.0, 10.0, False, 20)
    np.testing.assert_allclose(np.asarray(c).sum((0, 1, 2)), c0.sum((0, 1, 2)), rtol=1e-12)
    assert np.asarray(c).min() >= 0.0


def test_a_passive_species_is_conserved_in_float32_in_a_closed_well():
    """A tracer in a closed 16³ well (zero-flux walls, a 100 µm spheroid, D 50 / 500 µm²/s,
    Δt = 60 s, so couplings ~75 times the capacity) keeps its total to 1e-4 over 2 h in
    float32: the pivots are sums of positive terms. The textbook pivots drifted linearly,
    +5.4e-4 in 2 h (a client audit)."""
    import zn_pde

    cfg = {"grid": {"shape": [16, 16, 16], "spacing_um": 20.0},
           "time": {"end_h": 2.0, "dt_s": 60.0, "save_every_min": 20.0},
           "geometry": {"kind": "spheroid", "radius_um": 100.0},
           "boundary": {"kind": "neumann"},
           "species": [{"name": "tracer",
                        "diffusivity_um2_per_s": {"tissue": 50.0, "medium": 500.0},
                        "initial_uM": {"tissue": 0.0, "medium": 1.0}}]}
    ds = zn_pde.simulate(cfg, progress=False)
    assert ds["tracer"].dtype == np.float32
    total = ds["tracer"].astype("f8").sum(("x", "y", "z")).values
    assert np.abs(total / total[0] - 1.0).max() < 1e-4


def test_stability_with_steps_far_beyond_the_explicit_limit():
    """Δt = 10⁴ × h²/(6D): stays bounded between the initial extremes (maximum principle)."""
    rng = np.random.default_rng(1)
    c0 = rng.uniform(0.2, 0.9, (16, 16, 16, 1)).astype(np.float32)
    d, h = 700.0, 10.0
    tr = make_transport(jnp.full(c0.shape, d, jnp.float32), 1e4 * h**2 / (6 * d), h, None)
    c = np.asarray(diffuse(tr, jnp.asarray(c0)))
    assert np.isfinite(c).all()
    assert c.min() >= c0.min() - 1e-6 and c.max() <= c0.max() + 1e-6


def _sphere_config(n, h, radius, d_tissue, d_medium, decay_tissue, dt, end_s):
    return config({
        "grid": {"shape": [n, n, n], "spacing_um": h},
        "time": {"end_h": end_s / 3600, "dt_s": dt, "save_every_min": end_s / 60},
        "geometry": {"kind": "spheroid", "radius_um": radius},
        "boundary": {"kind": "dirichlet"},
        "numerics": {"precision": "float64"},
        "species": [{"name": "solute",
                     "diffusivity_um2_per_s": {"tissue": d_tissue, "medium": d_medium},
                     "decay_per_s": {"tissue": decay_tissue, "medium": 0.0},
                     "initial_uM": {"tissue": 0.0, "medium": 1.0}, "boundary_uM": 1.0}],
    })


def test_uptake_into_a_sphere_follows_crank(x64):
    """Sphere of radius R, surface held at C₀ by a 1000x faster medium: fractional uptake
    M_t/M_∞ = 1 − (6/π²) Σ n⁻² exp(−D n² π² t / R²) (Crank 1975, The Mathematics of
    Diffusion, eq. 6.20). Voxelised sphere of R = 10 voxels: within 0.03 absolute."""
    n, h, radius, d = 28, 1.0, 10.0, 1.0
    checks = [0.02, 0.05, 0.1, 0.2]  # D t / R²
    dt = 0.5
    steps_per = [round(f * radius**2 / d / dt) for f in checks]
    c = _sphere_config(n, h, radius, d, 1000.0 * d, 0.0, dt, dt * steps_per[-1])
    model = build_model(c)
    tissue = np.asarray(model.tissue)
    tr = factorise(model)
    state = model.initial_state()
    done = 0
    for f, s in zip(checks, steps_per, strict=True):
        state, _ = advance(model, tr, state, s - done)
        done = s
        uptake = np.asarray(state.mobile[..., 0])[tissue].mean()
        assert uptake == pytest.approx(float(crank_sphere(f)), abs=0.03), f


def test_steady_state_with_uptake_in_a_sphere(x64):
    """−D∇²c + k c = 0 in the sphere, c = C₀ on its surface: c(0)/C₀ = (R/L)/sinh(R/L),
    L = √(D/k). Steps of k Δt = 0.01 (splitting error ~1 %) run for 10 diffusion times
    R²/(π² D) to reach steady state; voxelised R = 10 voxels, R/L = 3: within 5 % relative
    at the centre."""
    n, h, radius, d = 28, 1.0, 10.0, 1.0
    k = d * (3.0 / radius) ** 2
    dt = 0.01 / k
    steps = round(10 * radius**2 / (np.pi**2 * d) / dt)
    c = _sphere_config(n, h, radius, d, 1000.0 * d, k, dt, dt * steps)
    model = build_model(c)
    state, _ = advance(model, factorise(model), model.initial_state(), steps)
    centre = np.asarray(state.mobile[n // 2, n // 2, n // 2, 0])
    # the voxel centre nearest the sphere centre is half a voxel off along each axis
    r = np.sqrt(3) * 0.5 * h
    lam = np.sqrt(d / k)
    expected = radius * np.sinh(r / lam) / (r * np.sinh(radius / lam))
    assert centre == pytest.approx(expected, rel=0.05)


def test_schedule_counts_steps_and_frames():
    c = _sphere_config(8, 1.0, 3.0, 1.0, 1.0, 0.0, 10.0, 95 * 10.0)
    c["time"]["save_every_min"] = 200 / 60
    s = Schedule.from_config(c)
    assert s.total_steps == 95 and s.chunks == [20] * 4 + [15]
    np.testing.assert_allclose(s.save_times_s[-1], 950.0)


@pytest.mark.parametrize("unroll", ["5", "8"])
def test_unrolled_sweeps_solve_the_same_systems(x64, monkeypatch, unroll):
    """On a GPU the plane loops run 8 planes per iteration (launch cost bounds them there);
    unrolled by 5 or 8 over axes of 9, 12 and 7 planes (remainders included) both solvers
    give the loop's answer to round-off (1e-13), Dirichlet walls, sinks and sources on."""
    from zn_pde._diffusion import diffuse_react, make_operator

    rng = np.random.default_rng(3)
    shape = (9, 12, 7, 2)
    d = jnp.asarray(rng.uniform(5.0, 500.0, shape))
    alpha = jnp.asarray(rng.uniform(0.2, 1.0, shape))
    c0 = jnp.asarray(rng.uniform(0.0, 1.0, shape))
    sink = jnp.asarray(rng.uniform(0.0, 1e-2, shape))
    source = jnp.asarray(rng.uniform(0.0, 1e-3, shape))
    wall = jnp.asarray([0.5, 0.0])

    def solve():  # a fresh function: traced again under the current setting
        def f(c):
            tr = make_transport(d, 60.0, 10.0, wall)
            op = make_operator(d, alpha, 60.0, 10.0, wall)
            return diffuse(tr, c), diffuse_react(op, c, sink, source, 60.0)
        return jax.jit(f)(c0)

    def jaxpr():
        def f(c):
            return diffuse_react(make_operator(d, alpha, 60.0, 10.0, wall), c, sink, source,
                                 60.0)
        return str(jax.make_jaxpr(f)(c0))

    monkeypatch.setenv("ZN_PDE_SWEEP_UNROLL", "1")
    plain = solve()
    assert f"unroll={unroll}" not in jaxpr()
    monkeypatch.setenv("ZN_PDE_SWEEP_UNROLL", unroll)
    unrolled = solve()
    assert f"unroll={unroll}" in jaxpr()  # the setting reached the loops
    for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(unrolled), strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("value", ["0", "-2", "eight", "1.5", "²"])
def test_a_bad_unroll_setting_is_refused_by_name(monkeypatch, value):
    """ZN_PDE_SWEEP_UNROLL must be a whole number >= 1; anything else is an input error
    naming it (zn-pde exits 2 with the message), not a traceback from inside the trace."""
    from zn_pde import InputError
    from zn_pde._diffusion import sweep_unroll

    monkeypatch.setenv("ZN_PDE_SWEEP_UNROLL", value)
    with pytest.raises(InputError, match=r"ZN_PDE_SWEEP_UNROLL = .*allowed: a whole number >= 1"):
        sweep_unroll()
    monkeypatch.setenv("ZN_PDE_SWEEP_UNROLL", " 3 ")
    assert sweep_unroll() == 3
    monkeypatch.delenv("ZN_PDE_SWEEP_UNROLL")
    assert sweep_unroll() == (8 if jax.default_backend() == "gpu" else 1)
