"""Closed-form checks through the public contract (`zn_pde.simulate` on config dicts, the keys
of docs/config.md) that tests/test_analytic_extra.py, _more, _third, _fourth and _fifth do not
make:

* the transient of a composite sphere (a ball of one diffusivity in a shell of medium of
  another) against its eigenfunction series, found here from the interface conditions: a
  passive species (per-voxel convention: continuity of c and of D c') filling from a held
  wall, and particles (fluid concentrations: continuity of c and of α D* c', capacity α)
  spreading from an unstirred medium into a porous ball in a closed well; second order in r
  on the radial grid with the interface on a shell face; and a wash-out off the step grid
  restarting the series from the ball's exact profile with the medium emptied;
* the 3D grid's unsplit transport step (`numerics.transport_solve = "unsplit"`) against the
  held cube's product of three slabs: order 2 in space, 1 in time, within the space error
  plus backward Euler's lag, with no floor from the iterative solve's tolerance;
* a Bateman chain in a well-mixed culture, particles → Zn²⁺ → cells (dissolution, then
  import), in closed form, with the leading error term of the step's piecewise-constant
  zinc source derived and checked (second order in Δt).

Each test states its closed form, source and tolerance; `# fails if` names what a wrong model
would give. Biology that would move the reference is switched off through documented keys.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import held_cube
from scipy.optimize import brentq

import zn_pde
from zn_pde.materials import get_material

pytestmark = pytest.mark.usefixtures("x64_module")

#: kinetic keys that leave the particle balance linear: no cell death, no zinc-driven ROS,
#: no Zn²⁺ exchange across the membrane, the solubility limit (10²⁰ [H⁺]² µM) out of reach
LINEAR = {"energy_kill_max_per_h": 0.0, "zn_ros_max_uM_per_s": 0.0, "zn_influx_per_h": 0.0,
          "zn_efflux_per_h": 0.0, "solubility_log10_K": 20.0}
#: relative rounding of the float32 output, with a margin for the float64 state's own
FLOAT32_OUTPUT = 1e-6


def _order(coarse: float, fine: float) -> float:
    return float(np.log2(coarse / fine))


def _shell_volumes(n: int, h: float) -> np.ndarray:
    return 4 / 3 * np.pi * np.diff((np.arange(n + 1) * h) ** 3)


# --- a composite sphere: its eigenfunction series ----------------------------------------------


def _composite_sphere(r: np.ndarray, t: np.ndarray, a: float, b: float,
                      inner: tuple[float, float], outer: tuple[float, float], wall: str,
                      c0, c_wall: float = 0.0, modes: int = 300) -> np.ndarray:
    """c(t, r) of κ ∂c/∂t = r⁻² ∂(r² F ∂c/∂r)/∂r on 0 < r < b, (κ, F) = `inner` (capacity,
    flux coefficient: 1 and D for a passive species, α and α D* for particles) for r < a and
    `outer` beyond, c and F ∂c/∂r continuous at a, uniform initial values c0 = (inside,
    outside) or a function c0(r), the wall at b held at `c_wall` ("dirichlet") or closed
    ("neumann").

    Separation (Carslaw & Jaeger 1959 §9.8; Crank 1975 §6.3 for a single sphere): with
    u = r c and λ = s², u = C₁ sin(k₁r) inside and C₂ (sin k₂(r − b) + q cos k₂(r − b))
    outside, kᵢ = s √(κᵢ/Fᵢ), q = 0 (held wall, u(b) = 0) or k₂ b (closed, b u'(b) = u(b));
    u continuous at a and Fᵢ (uᵢ' − uᵢ/a) continuous give the eigenvalue condition
    F₁ u₁' u₂ − F₂ u₂' u₁ − (F₁ − F₂) u₁ u₂/a = 0 at r = a, whose roots s are bracketed on a
    grid 40 times finer than their asymptotic spacing π/Σ(length/√D). The modes are
    orthogonal in the weight κ r² (κ u² for u), so the initial deviation from the steady
    state (c_wall, or the capacity-weighted mean with a closed wall) has coefficients
    ∫κ r (c0 − c∞) u dr / ∫κ u² dr, by 16-point Gauss-Legendre on 400 panels per region.
    (C₁, C₂) is the null vector of the 2×2 interface system taken from its better-scaled
    row, since u₁(a) and u₂(a) vanish together for some modes."""
    (k1, f1), (k2, f2) = inner, outer
    d1, d2 = f1 / k1, f2 / k2
    q_of = (lambda w: 0.0) if wall == "dirichlet" else (lambda w: w * b)

    def at_interface(s):
        w1, w2 = s / np.sqrt(d1), s / np.sqrt(d2)
        q, y = q_of(w2), a - b
        u1, du1 = np.sin(w1 * a), w1 * np.cos(w1 * a)
        u2 = np.sin(w2 * y) + q * np.cos(w2 * y)
        du2 = w2 * (np.cos(w2 * y) - q * np.sin(w2 * y))
        return w1, w2, q, u1, du1, u2, du2

    def condition(s):
        _, _, _, u1, du1, u2, du2 = at_interface(s)
        return f1 * du1 * u2 - f2 * du2 * u1 - (f1 - f2) * u1 * u2 / a

    spacing = np.pi / (a / np.sqrt(d1) + (b - a) / np.sqrt(d2))
    grid = np.linspace(1e-9, spacing * (modes + 2), 40 * (modes + 2))
    values = condition(grid)
    roots = [brentq(condition, grid[i], grid[i + 1], xtol=1e-14)
             for i in np.flatnonzero(values[:-1] * values[1:] < 0)][:modes]

    def mode(rr, s):
        w1, w2, q, u1, du1, u2, du2 = at_interface(s)
        g1, g2 = f1 * (du1 - u1 / a), f2 * (du2 - u2 / a)
        c1, c2 = ((u2, u1) if np.hypot(u1, u2) * max(f1, f2) / a > np.hypot(g1, g2)
                  else (g2, g1))
        return np.where(rr < a, c1 * np.sin(w1 * rr),
                        c2 * (np.sin(w2 * (rr - b)) + q * np.cos(w2 * (rr - b))))

    xg, wg = np.polynomial.legendre.leggauss(16)

    def nodes(lo, hi, panels=400):
        edges = np.linspace(lo, hi, panels + 1)
        half = np.diff(edges)[:, None] / 2
        return (edges[:-1, None] + half * (xg + 1)).ravel(), (half * wg).ravel()

    (r1, w1), (r2, w2) = nodes(0.0, a), nodes(a, b)
    i1, i2 = ((c0(r1), c0(r2)) if callable(c0)
              else (np.full_like(r1, c0[0]), np.full_like(r2, c0[1])))
    steady = (c_wall if wall == "dirichlet" else
              (k1 * np.sum(w1 * r1**2 * i1) + k2 * np.sum(w2 * r2**2 * i2))
              / (k1 * a**3 + k2 * (b**3 - a**3)) * 3)
    out = np.full((len(t), len(r)), steady)
    for s in roots:
        m1, m2 = mode(r1, s), mode(r2, s)
        norm = k1 * np.sum(w1 * m1**2) + k2 * np.sum(w2 * m2**2)
        coef = (k1 * np.sum(w1 * r1 * (i1 - steady) * m1)
                + k2 * np.sum(w2 * r2 * (i2 - steady) * m2)) / norm
        out += coef * np.exp(-(s**2) * np.asarray(t))[:, None] * (mode(r, s) / r)[None, :]
    return out


def test_the_composite_sphere_series_reduces_to_crank_s_sphere_and_conserves():
    """The reference itself: with one diffusivity it is Crank's eq. 6.18 for a sphere of
    radius b held at c_s (to 1e-10, its series truncation), including the interface radius
    a = 0.4 b where u₁(a) and u₂(a) vanish together for every fifth mode; with a closed wall
    and contrasting (κ, F) its capacity-weighted total stays at its initial value."""
    b, d, a = 100.0, 10.0, 40.0
    r = np.array([5.0, 30.0, 60.0, 95.0])
    t = np.array([0.02, 0.1, 0.3]) * b**2 / d
    series = _composite_sphere(r, t, a, b, (1.0, d), (1.0, d), "dirichlet", (0.0, 0.0), 1.0)
    n = np.arange(1, 5000)[:, None, None]
    tau, rr = (d * t / b**2)[None, :, None], r[None, None, :]
    crank = 1 + 2 * b / (np.pi * rr[0]) * np.sum((-1.0) ** n / n * np.sin(n * np.pi * rr / b)
                                              * np.exp(-(n**2) * np.pi**2 * tau), axis=0)
    # fails if: the interface's null vector were taken from the continuity row alone (0/0
    # for those modes: 4e-2 off at the centre)
    np.testing.assert_allclose(series, crank, atol=1e-10)
    r = np.linspace(0.05, 99.95, 1000)
    weight = np.where(r < a, 0.2, 1.0) * r**2
    closed = _composite_sphere(r, np.array([10.0, 100.0]), a, b, (0.2, 2.0), (1.0, 50.0),
                               "neumann", (0.0, 1.0))
    total = (b**3 - a**3) / 3  # ∫ κ c0 r² dr: all of it outside, at 1
    np.testing.assert_allclose(closed @ weight * (r[1] - r[0]), total, rtol=1e-4)


def test_a_passive_species_fills_a_composite_sphere_by_its_eigenfunction_series():
    """A passive species (D = 10 µm²/s in a ball of a = 100 µm, 100 µm²/s in the medium out
    to the held wall at b = 200 µm, 1 µM there, none inside at t = 0) on a radial grid: the
    per-voxel convention (README "What the model computes", docs/config.md `species`) makes
    c and D ∂c/∂r continuous at a, `_composite_sphere` with κ = 1. Frames at τ = D_t t/a² =
    0.1, 0.2, 0.3 (the centre at 0.11, 0.55 and 0.81 of the wall's value).

    The harmonic face mean is the exact flux of a piecewise-constant D between two shell
    centres, so with a a whole number of shells the scheme keeps its second order (README
    "Numerics"). On 10 and 20 shells, Δt ∝ h² (8 and 2 s), the largest error over shells and
    frames falls 4-fold: order 2 ± 0.3 (measured 1.92, 3.2e-2 to 8.4e-3), and each within
    (h/a)², the space error's scale (measured 0.79 and 0.84 of it)."""
    a, b = 100.0, 200.0
    t_unit = a**2 / 10.0
    errors = []
    for h, dt in ((20.0, 8.0), (10.0, 2.0)):
        ds = zn_pde.simulate({
            "grid": {"kind": "radial", "shape": [int(round(b / h))], "spacing_um": h},
            "time": {"end_h": 0.3 * t_unit / 3600, "dt_s": dt,
                     "save_every_min": 0.1 * t_unit / 60, "save_around_events": False},
            "geometry": {"kind": "spheroid", "radius_um": a},
            "boundary": {"kind": "dirichlet"},
            "numerics": {"precision": "float64"},
            "species": [{"name": "s", "diffusivity_um2_per_s": {"tissue": 10.0, "medium": 100.0},
                         "initial_uM": {"tissue": 0.0, "medium": 0.0}, "boundary_uM": 1.0}]},
            progress=False)
        r, t = ds["r"].values, ds["time"].values[1:]
        exact = _composite_sphere(r, t, a, b, (1.0, 10.0), (1.0, 100.0), "dirichlet",
                                  (0.0, 0.0), 1.0)
        error = float(np.abs(ds["s"].values[1:] - exact).max())
        # fails if: the ball diffused at the medium's D (0.72 off), or the wall's value sat a
        # whole shell out (the (h/a)² bound is the space error's scale at each h)
        assert error <= (h / a) ** 2, (h, error)
        errors.append(error)
    assert _order(*errors) == pytest.approx(2.0, abs=0.3), errors


def _porous_ball(n: int, h: float, dt: float, end_tau: float, boundary: str, **extra):
    """The particle tracer of the two tests below (1 µg/mL of ZnO that neither dissolves nor
    enters cells, pH 7.4 throughout) on n shells of h µm around a ball of a = 100 µm, α = 0.2,
    D* = 10 µm²/s in medium of D = 50 µm²/s, run to τ = D* t/a² = `end_tau`, saved every
    0.1; `extra` adds top-level config keys."""
    a, alpha, d_star, d_medium = 100.0, 0.2, 10.0, 50.0
    t_unit = a**2 / d_star
    return zn_pde.simulate({
        "grid": {"kind": "radial", "shape": [n], "spacing_um": h},
        "time": {"end_h": end_tau * t_unit / 3600, "dt_s": dt,
                 "save_every_min": 0.1 * t_unit / 60, "save_around_events": False},
        "geometry": {"kind": "spheroid", "radius_um": a, "cell_volume_fraction": 1 - alpha},
        "boundary": {"kind": boundary},
        "numerics": {"precision": "float64"},
        "ph": {"medium": 7.4, "tissue_rim": 7.4, "tissue_core": 7.4, "lysosome": 14.0},
        "tissue": {"surface_uptake_share": 0.0},
        "material": {"kind": "ZnO", "dose_ug_per_ml": 1.0},
        **extra,
        "kinetics": {**LINEAR, "dissolution_rate_per_h": 1e-12, "uptake_rate_per_h": 0.0,
                     "np_diffusivity_medium_um2_per_s": d_medium,
                     "np_tissue_diffusivity_fraction": d_star / d_medium}}, progress=False)


def test_particles_spread_from_an_unstirred_closed_well_into_a_porous_ball_by_the_series():
    """Particles as a tracer (no dissolution, uptake or surface uptake) dosed at 1 µg/mL
    into a closed radial well (wall at b = 200 µm, zero flux) around a porous ball
    (a = 100 µm, α = 0.2, D* = 10 µm²/s) whose medium is not stirred (D = 50 µm²/s). The
    particles are fluid concentrations (README "What the model computes"), α ∂c/∂t =
    ∇·(α D* ∇c) in the ball: `_composite_sphere` with (κ, F) = (α, α D*) inside and (1, D)
    outside, continuity of c and of α D* ∂c/∂r, and the closed wall's equilibrium the
    capacity-weighted mean 0.972 µg/mL (per-voxel volumes would give 0.875). Frames at
    τ = D* t/a² = 0.1, 0.2, 0.3 (the centre at 0.28, 0.70 and 0.87 µg/mL).

    The α-weighted total is conserved to the output's rounding. On 10 and 20 shells with
    Δt ∝ h² (8 and 2 s) the largest error (in µg/mL, the dose 1) falls 4-fold: order
    2 ± 0.3 (measured 1.88, 2.8e-2 to 7.7e-3), each within (h/a)² (measured 0.71 and 0.77
    of it)."""
    a, b, alpha, d_star, d_medium = 100.0, 200.0, 0.2, 10.0, 50.0
    errors = []
    for h, dt in ((20.0, 8.0), (10.0, 2.0)):
        n = int(round(b / h))
        ds = _porous_ball(n, h, dt, 0.3, "neumann")
        ball = ds["tissue_mask"].values.astype(bool)
        assert ball.sum() == round(a / h)
        capacity = np.where(ball, alpha, 1.0) * _shell_volumes(n, h)
        c = ds["np"].values.astype(float)
        total = c @ capacity
        np.testing.assert_allclose(total, total[0], rtol=FLOAT32_OUTPUT)
        r, t = ds["r"].values, ds["time"].values[1:]
        exact = _composite_sphere(r, t, a, b, (alpha, alpha * d_star), (1.0, d_medium),
                                  "neumann", (0.0, 1.0))
        error = float(np.abs(c[1:] - exact).max())
        # fails if: the ball held particles per voxel volume (capacity 1, not α: its centre
        # at 0.77 instead of 0.87 at τ = 0.3, 0.11 off)
        assert error <= (h / a) ** 2, (h, error)
        errors.append(error)
    assert _order(*errors) == pytest.approx(2.0, abs=0.3), errors


# --- the unsplit 3D step against the held cube ------------------------------------------------


def _slab_deficit(x: np.ndarray, length: float, tau: float) -> np.ndarray:
    """1 − c/c_s in a slab 0 < x < ℓ, empty at t = 0, both faces held at c_s from then on,
    τ = D t/ℓ²: Σ 4/((2k+1)π) sin((2k+1)π x/ℓ) e^{−(2k+1)²π²τ} (Crank 1975 eq. 4.17 shifted
    to 0 < x < ℓ); a cube's deficit is the product of three (Carslaw & Jaeger 1959 §6.3)."""
    k = 2 * np.arange(2000) + 1
    return np.sum(4 / (k * np.pi) * np.sin(np.multiply.outer(x, k) * np.pi / length)
                  * np.exp(-(k**2) * np.pi**2 * tau), axis=-1)


def _held_cube(n: int, dt: float, tolerance: float = 1e-6) -> tuple[np.ndarray, np.ndarray,
                                                                     np.ndarray]:
    """(c, exact, exact one step earlier) at the three frames (π²τ = 0.5, 1, 1.5) of a
    cell-free cube of ℓ = 120 µm, D = 10 µm²/s, its faces held at 1 µM, stepped unsplit."""
    length, d = 120.0, 10.0
    h, end_s = length / n, 1.5 * length**2 / d / np.pi**2
    ds = zn_pde.simulate(held_cube(n, length, dt, end_s,
                                   {"precision": "float64", "transport_solve": "unsplit",
                                    "transport_tolerance": tolerance}, d), progress=False)
    x = (np.arange(n) + 0.5) * h

    def cube(t):
        f = _slab_deficit(x, length, d * t / length**2)
        return 1 - f[:, None, None] * f[None, :, None] * f[None, None, :]

    t = ds["time"].values[1:]
    return (ds["s"].values[1:].astype(float), np.array([cube(s) for s in t]),
            np.array([cube(s - dt) for s in t]))


def test_the_unsplit_step_fills_a_held_cube_at_second_order_in_space_and_first_in_time():
    """`numerics.transport_solve = "unsplit"` (docs/config.md: the whole 7-point backward-Euler
    system by preconditioned BiCGSTAB, no splitting error) on the held cube of
    tests/test_analytic_fourth.py, whose exact solution is the product of three slabs
    (`_slab_deficit`). README "Numerics": second order in space, first in time.

    On 6³ (Δt = 2 s) and 12³ (0.5 s), Δt ∝ h², the largest error over voxels and frames falls
    4-fold: order 2 ± 0.3 (measured 1.83, 2.9e-2 to 8.0e-3). Each voxel and frame within
    (h/ℓ)² (the space error's scale) plus what the exact solution moves over one step there
    (backward Euler's lag): unsplit backward Euler lags a mode by λ²Δt²/2 per step, where the
    LOD's three factors lag by λ²Δt²/6 on this separable problem, so the unsplit error is the
    larger (8.0e-3 against the LOD's 6.1e-3 at 12³) and (h/ℓ)² alone (6.9e-3) would not hold.
    In t on 6³ at Δt = 2, 1, 0.5 s the differences of successive results (the space error, the
    same in each, cancels) halve: order 1 ± 0.15 (measured 0.93; 0.81 at 8, 4, 2 s and 0.90
    at 4, 2, 1 s, where the wall's jump at t = 0 still weighs through the modes it excites
    with λΔt ≳ 1, backward Euler's pre-asymptotic range; the same with the tolerance at
    10⁻¹⁰). The solve's stopping tolerance (relative residual 10⁻⁶) leaves no floor: 10⁻¹⁰
    changes the result by < 10⁻³ of its error."""
    errors, coarse = [], {}
    for n, dt in ((6, 2.0), (12, 0.5)):
        c, exact, before = _held_cube(n, dt)
        coarse[dt] = c
        # fails if: the wall's value sat a whole voxel beyond the boundary voxel, not half
        # (the error at 6³ ~ 3 (h/ℓ)²), or the solve stopped short of the step's change
        assert np.all(np.abs(c - exact) <= (1 / n) ** 2 + np.abs(exact - before)), n
        errors.append(float(np.abs(c - exact).max()))
        if n == 6:
            tight = _held_cube(n, dt, tolerance=1e-10)[0]
            assert np.abs(tight - c).max() < 1e-3 * errors[0]
    assert _order(*errors) == pytest.approx(2.0, abs=0.3), errors
    in_t = [coarse[2.0]] + [_held_cube(6, dt)[0] for dt in (1.0, 0.5)]
    steps = [np.abs(in_t[i] - in_t[i + 1]).max() for i in (0, 1)]
    assert _order(*steps) == pytest.approx(1.0, abs=0.15), steps


# --- a Bateman chain in a well-mixed culture ---------------------------------------------------


def test_a_well_mixed_culture_passes_zinc_down_a_bateman_chain_at_second_order():
    """A well-mixed culture (φ = 0.4, α = 0.6) given 10 µg/mL of ZnO at t = 0 that dissolves at
    a pH-independent k_f = 0.5 /h (`dissolution_proton_order = 0`), no endocytosis, the cells
    importing Zn²⁺ at k_in = 0.3 /h and exporting none, no death (LINEAR). README "What the
    model computes": the fluid loses (φ/α) k_in Zn²⁺ per Zn²⁺, the cells gain k_in per cell
    volume, so with c the µM of zinc per µg/mL and μ = (φ/α) k_in (Bateman 1910, a chain of
    first-order steps):

        np = n₀ e^{−k_f t},  zn = c k_f n₀ (e^{−k_f t} − e^{−μt})/(μ − k_f),
        zn_cell = (α/φ) (c (n₀ − np) − zn)   (zinc conserved).

    The compartment's sinks are exact (README "Numerics"), so np and the total zinc match to
    the output's rounding. The dissolved zinc enters Zn²⁺'s step as a source constant over
    the step with the step's exact amount; the true source falls at k_f within it, so the
    step's Zn²⁺ is high by μ k_f S Δt³/12 (∫₀^Δt (Δt − s)(s − Δt/2) ds = −Δt³/12 under the
    kernel e^{−μ(Δt−s)} ≈ 1 − μ(Δt − s)), and these errors, carried on at e^{−μt} like the
    zinc itself, leave zn high by the relative amount μ k_f Δt²/12 at every time: second
    order, and zn_cell low by (α/φ) times that absolute error. Checked at Δt = 600 and 300 s
    within 1 % of that term (measured within 0.08 %; the float32 output's rounding is 0.1 %
    of it at 300 s)."""
    phi, k_f, k_in, n0 = 0.4, 0.5, 0.3, 10.0
    alpha = 1 - phi
    mu = phi / alpha * k_in
    conv = get_material("ZnO").zn_uM_per_ug_per_ml
    for dt in (600.0, 300.0):
        ds = zn_pde.simulate({
            "grid": {"kind": "well_mixed"},
            "time": {"end_h": 8.0, "dt_s": dt, "save_every_min": 60.0},
            "geometry": {"kind": "uniform", "cell_volume_fraction": phi},
            "numerics": {"precision": "float64"},
            "ph": {"medium": 7.4, "lysosome": 14.0},
            "material": {"kind": "ZnO", "dose_ug_per_ml": n0},
            "kinetics": {**LINEAR, "dissolution_rate_per_h": k_f,
                         "dissolution_proton_order": 0.0, "uptake_rate_per_h": 0.0,
                         "zn_influx_per_h": k_in}}, progress=False)
        t = ds["time_h"].values
        n = n0 * np.exp(-k_f * t)
        zn = conv * k_f * n0 * (np.exp(-k_f * t) - np.exp(-mu * t)) / (mu - k_f)
        zn_cell = alpha / phi * (conv * (n0 - n) - zn)
        assert np.all(ds["viability"].values == 1.0)
        np.testing.assert_allclose(ds["np"].values, n, rtol=FLOAT32_OUTPUT)
        total = alpha * (conv * ds["np"].values + ds["zn"].values) + phi * ds["zn_cell"].values
        np.testing.assert_allclose(total, alpha * conv * n0, rtol=FLOAT32_OUTPUT)
        lead = mu * k_f * (dt / 3600) ** 2 / 12
        # fails if: the zinc dissolved in a step arrived after it (first order, relative
        # error ~ k_f Δt/2 = 4 %, 170 times the term at 600 s) or the chain were exact (0)
        np.testing.assert_allclose((ds["zn"].values[1:] / zn[1:] - 1) / lead, 1.0, atol=0.01)
        np.testing.assert_allclose((ds["zn_cell"].values[1:] - zn_cell[1:])
                                   / (-alpha / phi * lead * zn[1:]), 1.0, atol=0.01)


def test_a_wash_out_off_the_step_grid_restarts_the_composite_series_from_the_ball_s_profile():
    """The porous ball of `test_particles_spread_from_an_unstirred_closed_well_...` (a = 100 µm,
    α = 0.2, D* = 10 µm²/s, medium D = 50 µm²/s) now in a well whose wall at b = 200 µm
    holds the medium's 1 µg/mL (`boundary.kind = "dirichlet"`, the bulk fixed), washed out
    at t₁ = 0.1037 a²/D* (103.7 s, off the step grid). Before it: `_composite_sphere` from
    (0, 1) with the wall at 1. docs/config.md `medium_exchange`: fresh medium replaces the
    medium, what is in the tissue stays; so after it the same series with the wall at 0,
    started from the ball's exact profile at t₁ inside and nothing outside (Duhamel's
    superposition in its simplest form: a step in the boundary value with a new initial
    state). Frames at τ = 0.1 (before), 0.2, 0.3 and 0.4.

    On 10 and 20 shells with Δt ∝ h² (8 and 2 s) the largest error over shells and frames
    (in µg/mL, the dose 1; at τ = 0.2) falls 4-fold: order 2 ± 0.3 (measured 1.92, 3.0e-2 to
    8.0e-3), each within (h/a)² (0.76 and 0.80 of it; 2.0e-3 on 40 shells at 0.5 s).
    (A frame one step after the exchange is not asked for: there backward Euler's first
    step from the jump of 1 between the rim and the emptied medium is O(1) off in the shells
    next to it at any h with Δt ∝ h², 0.15 at 10 and 5 µm; it has decayed by τ = 0.2.)"""
    a, b, alpha, d_star, d_medium = 100.0, 200.0, 0.2, 10.0, 50.0
    t_unit = a**2 / d_star
    t1 = 0.1037 * t_unit
    inner, outer = (alpha, alpha * d_star), (1.0, d_medium)

    def at_exchange(rr):
        profile = _composite_sphere(rr, np.array([t1]), a, b, inner, outer, "dirichlet",
                                    (0.0, 1.0), 1.0)[0]
        return np.where(rr < a, profile, 0.0)

    errors = []
    for h, dt in ((20.0, 8.0), (10.0, 2.0)):
        n = int(round(b / h))
        ds = _porous_ball(n, h, dt, 0.4, "dirichlet",
                          medium_exchange=[{"time_h": t1 / 3600}])
        r, t = ds["r"].values, ds["time"].values
        np.testing.assert_allclose(t / t_unit, [0.0, 0.1, 0.2, 0.3, 0.4], atol=1e-9)
        c = ds["np"].values.astype(float)
        exact = np.concatenate([
            _composite_sphere(r, t[1:2], a, b, inner, outer, "dirichlet", (0.0, 1.0), 1.0),
            _composite_sphere(r, t[2:] - t1, a, b, inner, outer, "dirichlet", at_exchange)])
        error = float(np.abs(c[1:] - exact).max())
        # fails if: the exchange emptied the ball's fluid too (its centre at τ = 0.2 would be
        # 0, not 0.445), or kept the medium (the wall alone falling to 0: 0.33 off)
        assert error <= (h / a) ** 2, (h, error)
        errors.append(error)
    assert _order(*errors) == pytest.approx(2.0, abs=0.3), errors
