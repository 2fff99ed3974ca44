"""How sure the fit is: Gauss-Newton covariance, profile likelihood, identifiability, metrics.

Gauss-Newton (Bates & Watts 1988, Nonlinear Regression Analysis, ch. 2): with J = ∂r/∂ln p at
the optimum (r the weighted residuals), s² = SSR/(n − k) (or 1 when the table gives sd),

    Cov(ln p) = s² (JᵀJ)⁻¹,   95 % CI:  p · exp(± t₀.₉₇₅,ₙ₋ₖ √Cov_ii)

(log-normal, so the interval is asymmetric in p and never crosses zero). JᵀJ is
eigen-decomposed; a direction with eigenvalue below `NULL_RTOL` × the largest is one the data
do not constrain, and a parameter loading on it is *structurally non-identifiable* (only a
combination with other parameters is determined). A parameter whose interval would span more
than a factor `MAX_FACTOR` either way is *practically non-identifiable*. Neither gets a
number: `ci95` is null and `identifiable` false, with the reason. A parameter whose optimum
lies on a bound of its box has no valid local interval either, but the data may still bound
it: `identifiable` is null (undecided) unless it is non-identifiable on the grounds above.

Profile likelihood (Raue et al. 2009, Bioinformatics 25:1923, doi:10.1093/bioinformatics/
btp358), for fits with few parameters: each parameter is fixed at points beyond its optimum
and the others re-optimised (projected Levenberg-Marquardt, all points at once); the 95 %
limits are where ΔSSR/s² reaches t²₀.₉₇₅,ₙ₋ₖ (the F-test form; χ²₁ = 3.84 with known sd),
interpolating √Δ (linear in the offset where the profile is quadratic) between the points at
0.75, 1.5, 3 and 6 Gauss-Newton half-widths (a sixth of the box where that is undefined) and
the edge of the box. A crossing far above the threshold (Δ beyond `JUMP` times it) jumped
there, where the interpolation cannot place the limit and the point's re-optimisation, started
from the optimum's quadratic model, may have stalled on a plateau of the model (a release
saturated at 100 %): it is bisected towards (`REFINE_ROUNDS`), each new point, and the crossing
itself, started from its inner neighbour with the others moved along the residuals' level set
(continuation), the new point also from the crossing's others, the lower SSR standing.
A side that never reaches it inside the box is open: the data do not bound it there.
A crossing at a point where another parameter was pressed onto a bound of its box (one it was
inside at the optimum) is re-optimised with that box widened: if the pressed parameter moves
into the room and the rise stays above the threshold, the data set the limit (interpolated
on the wide box's profile); else it is recorded in `box_pressed` (the box, not the data
alone, may end the interval). A crossing
whose re-optimisation did not converge is recorded in `unsettled` (its SSR may be too high,
the limit too narrow). `_fit.analyse` reports neither as the data's limit.
A profile point with a lower SSR than the optimum (by more than `BELOW_OPTIMUM_RTOL` and
`BELOW_OPTIMUM_DELTA`) shows
that the optimiser stopped short: it is returned as `below_optimum`, and the fit continues
from it (`_fit.analyse`).

Metrics on the value rows, in the data's units: r² = 1 − SSR/SST, RMSE = √(SSR/n). AIC and
BIC are −2 ln L + 2k and −2 ln L + k ln n for the Gaussian likelihood the fit maximises
(Burnham & Anderson 2002, Model Selection and Multimodel Inference, §2.2), dropping terms
every model of the same rows shares:
- without sd, one unknown variance: −2 ln L = n ln(SSR/n), k = free parameters + 1;
- with the table's sd (known variances): −2 ln L = χ² = Σ ((ŷ − y)/sd)², k = free parameters
  (the weighted fit minimises χ², so its AIC must be built from χ², not from the unweighted
  SSR, which is not what it minimised; `likelihood` says which was used).
With at least as many free parameters as values no degree of freedom is left: r², AIC and
BIC then measure nothing and are null, with a `note` saying why (RMSE is kept).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._optimise import STALL_RTOL, lm_step
from ._parameters import FreeSet

NULL_RTOL = 1e-10  # eigenvalue of JᵀJ (relative to the largest) below which a direction is free
MAX_FACTOR = 100.0  # a CI wider than x/100 .. x·100 says nothing useful: flagged
NULL_LOADING = 1e-2  # squared loading on a free direction that makes a parameter unidentified
# a profile point whose SSR is below the optimum's by more than this (relative) shows that the
# optimum is not one; the tolerance of the optimiser's own test for still improving
BELOW_OPTIMUM_RTOL = STALL_RTOL
# ... and by more than this in ΔSSR/s² (the profile's statistic): with sd given, an exact
# fit's SSR of 1e-27 against 0 is no better optimum (without, Δ is the relative gain × dof)
BELOW_OPTIMUM_DELTA = 1e-6
# a profile crossing whose Δ exceeds JUMP × the threshold jumped there (√Δ at most twice the
# threshold's is what the interpolation can bridge): it is bisected towards, at most
# REFINE_ROUNDS times, down to points REFINE_MIN_LN apart in ln p
JUMP = 4.0
REFINE_ROUNDS = 6
REFINE_MIN_LN = 1e-3


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) by its continued fraction (Press et al.,
    Numerical Recipes, 3rd ed., §6.4), using the symmetry for x > (a + 1)/(a + b + 2)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _betainc(b, a, 1.0 - x)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 500):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return front * f


def t_quantile(q: float, dof: float) -> float:
    """Quantile of Student's t (q > 0.5) by bisection on its CDF (regularised incomplete beta)."""
    if not math.isfinite(dof) or dof > 1e6:
        dof = 1e6

    def upper_tail(x: float) -> float:
        return 0.5 * _betainc(dof / 2.0, 0.5, dof / (dof + x * x))

    lo, hi = 0.0, 1.0
    while upper_tail(hi) > 1 - q:
        hi *= 2.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if upper_tail(mid) > 1 - q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def chi2_quantile(q: float, dof: float) -> float:
    """Quantile of χ² with `dof` degrees of freedom, Wilson & Hilferty's cube-root normal
    approximation (1931, PNAS 17:684): dof (1 − 2/(9 dof) + z_q √(2/(9 dof)))³; within 1 %
    of the exact 0.5 % and 99.5 % points from 10 degrees of freedom (6.79 / 38.63 against
    6.84 / 38.58 at 19), cruder below."""
    from statistics import NormalDist

    a = 2.0 / (9.0 * dof)
    return dof * max(1.0 - a + NormalDist().inv_cdf(q) * math.sqrt(a), 0.0) ** 3


def sd_warning(chi2_per_dof: float | None, dof: int) -> str | None:
    """A warning where a weighted fit's χ²/dof lies outside the central 99 % of χ²/dof with the
    table's `sd` right: its intervals take `sd` as the noise, so they are too narrow (χ²/dof
    high: sd understates the scatter, or the model misses the data) or too wide (low)."""
    if chi2_per_dof is None or dof < 1:
        return None
    lo, hi = chi2_quantile(0.005, dof) / dof, chi2_quantile(0.995, dof) / dof
    if lo <= chi2_per_dof <= hi:
        return None
    high = chi2_per_dof > hi
    return (f"chi2/dof = {chi2_per_dof:.3g} on {dof} degrees of freedom is outside the "
            f"{lo:.2g}-{hi:.2g} that 99 % of fits with the sd column right would give: the sd "
            + ("understates the scatter about the fit (or the model misses the data), so the "
               "95 % intervals, which take sd as the noise, are too narrow" if high else
               "overstates the scatter about the fit, so the 95 % intervals, which take sd as "
               "the noise, are too wide")
            + "; without an sd column the noise is estimated from the residuals")


def ci_pair(ci: list[float] | tuple[float, float] | None) -> list[float | None]:
    """A report's `ci95`: always [lower, upper] (the contract's pair), null on a side the
    data do not bound (both for a parameter without an interval)."""
    return [None, None] if ci is None else [ci[0], ci[1]]


def has_interval(ci: list[float | None] | None) -> bool:
    """Whether a report's `ci95` bounds the parameter on both sides (reports written before
    2026-12-04 give null for none; later ones [null, null])."""
    return ci is not None and None not in ci


def interval_text(p: dict[str, Any], note: bool = True) -> str:
    """A fitted parameter's interval as the CLI and the shipped-fits table print it, from the
    report's `ci95` and `identifiable`: '95% CI [a, b]'; else 'not identifiable' (false) or
    'identifiability undecided' (null), with a one-sided bound ('>= a', '<= b') where the
    profile found one, and (`note`) the reason."""
    ci = p.get("ci95") or [None, None]
    if p.get("identifiable") is True and has_interval(ci):
        return f"95% CI [{ci[0]:.3g}, {ci[1]:.3g}]"
    text = "not identifiable" if p.get("identifiable") is False else "identifiability undecided"
    sides = ([f">= {ci[0]:.3g}"] if ci[0] is not None else []) + (
        [f"<= {ci[1]:.3g}"] if ci[1] is not None else [])
    if sides:
        text += f" (95% CI {' and '.join(sides)})"
    return text + (f": {p['note']}" if note and p.get("note") else "")


def underdetermined_note(n: int, n_free: int, pinned: int = 0) -> str:
    held = (f" ({pinned} of them predicted exactly whatever the parameters, e.g. an "
            "untreated control at 100 %)" if pinned else "")
    return (f"{n} values{held} for {n_free} free parameters: no degree of freedom is left to "
            "test the fit against (a model this flexible could match every value, whether "
            "or not this one does), so r², AIC and BIC are not meaningful and are not "
            "reported")


def metrics(y: np.ndarray, yhat: np.ndarray, n_free: int,
            sd: np.ndarray | None = None, pinned: int = 0) -> dict[str, Any]:
    """r², RMSE (data units) and AIC/BIC of the likelihood the fit maximised: with `sd` the
    weighted one (χ², known variances), else one unknown variance (module docstring).
    `pinned`: of the values, those the model predicts exactly whatever the parameters
    (`Problem.pinned`): they leave no degree of freedom to test the fit against, so with
    n − pinned ≤ n_free r², AIC and BIC are not reported, as `gauss_newton` gives no CI."""
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    n = int(y.size)
    ssr = float(np.sum((yhat - y) ** 2))
    sst = float(np.sum((y - y.mean()) ** 2)) if n else 0.0
    k = n_free if sd is not None else n_free + 1
    out: dict[str, Any] = {"n": n, "k": k, "n_free": n_free, "ssr": ssr,
                           "r2": 1.0 - ssr / sst if sst > 0 else None,
                           "rmse": math.sqrt(ssr / n) if n else None}
    if sd is not None:
        out["chi2"] = float(np.sum(((yhat - y) / np.asarray(sd, float)) ** 2))
        out["likelihood"] = "Gaussian, known sd: -2 ln L = chi2, k = free parameters"
    else:
        out["likelihood"] = "Gaussian, one unknown variance: -2 ln L = n ln(SSR/n), k = free + 1"
    if pinned:
        out["pinned"] = pinned
    if n - pinned <= n_free:
        out["r2"] = out["aic"] = out["bic"] = None
        out["note"] = underdetermined_note(n, n_free, pinned)
        return out
    if sst == 0:  # every value the same: no spread for the model to explain
        out["note"] = (f"every one of the {n} values is {float(y[0]):g}: with no spread in the "
                       "data (SST = 0) r² = 1 − SSR/SST is undefined and is not reported; "
                       "RMSE, AIC and BIC are")
    m2ll = out["chi2"] if sd is not None else (n * math.log(ssr / n) if ssr > 0 else None)
    if m2ll is None:
        out["aic"] = out["bic"] = None
    else:
        out["aic"] = m2ll + 2 * k
        out["bic"] = m2ll + k * math.log(n)
    return out


def gauss_newton(r: np.ndarray, jac: np.ndarray, x_hat: np.ndarray, free: FreeSet,
                 n_points: int, weighted: bool, pinned: int = 0) -> dict[str, Any]:
    """Covariance, CIs and identifiability from the residuals and Jacobian at the optimum.
    `pinned`: of the `n_points` value rows, those the model predicts exactly whatever the
    parameters (`Problem.pinned`), which leave the degrees of freedom."""
    names = free.names
    p = len(names)
    dof = n_points - pinned - p
    ssr = float(np.sum(r * r))
    out: dict[str, Any] = {"dof": dof, "weighted": weighted}
    if pinned:
        out["pinned_rows"] = pinned
    if weighted:
        s2 = 1.0
        t = t_quantile(0.975, math.inf)
        out["chi2_per_dof"] = ssr / dof if dof > 0 else None
    elif dof > 0:
        s2 = ssr / dof
        t = t_quantile(0.975, dof)
    else:
        s2, t = math.nan, math.nan
    out["residual_scale"] = math.sqrt(s2) if math.isfinite(s2) else None
    out["t"] = t if math.isfinite(t) else None
    if p == 0:  # every parameter fixed (an evaluation): nothing to estimate
        out.update(parameters={}, covariance_ln=None, correlation=None)
        return out
    a = jac.T @ jac
    per: dict[str, dict[str, Any]] = {n: {} for n in names}
    if not np.all(np.isfinite(a)):
        for n in names:
            per[n].update(identifiable=False, ci95=None,
                          note="the Jacobian at the optimum is not finite")
        out["parameters"] = per
        out["covariance_ln"] = None
        return out
    w, v = np.linalg.eigh(a)
    wmax = float(max(w.max(), 0.0))
    null = w <= NULL_RTOL * wmax if wmax > 0 else np.ones_like(w, bool)
    out["conditioning"] = {
        "eigenvalues_JtJ": w.tolist(),
        "condition_number": float(wmax / w.min()) if w.min() > 0 else None,
        "free_directions": [
            {n: float(v[i, k]) for i, n in enumerate(names) if abs(v[i, k]) > 1e-3}
            for k in np.flatnonzero(null)],
    }
    inv_w = np.where(null, 0.0, 1.0 / np.where(null, 1.0, w))
    cov = s2 * (v * inv_w) @ v.T if math.isfinite(s2) else np.full((p, p), np.nan)
    loading = (v[:, null] ** 2).sum(axis=1) if null.any() else np.zeros(p)
    bounds = free.at_bound(x_hat)
    structural = loading > NULL_LOADING
    for i, n in enumerate(names):
        d: dict[str, Any] = {}
        se = math.sqrt(cov[i, i]) if np.isfinite(cov[i, i]) and cov[i, i] >= 0 else math.nan
        half = t * se if math.isfinite(t) else math.nan
        d["se_ln"] = se if math.isfinite(se) and not structural[i] else None
        if structural[i] and a[i, i] <= NULL_RTOL * wmax:
            # its own column of J is (numerically) zero: no combination is fixed either
            d.update(identifiable=False, ci95=None,
                     note="structurally non-identifiable: the prediction of these data does "
                     "not change with it at the optimum (its derivative is zero: e.g. a "
                     "release held at a solubility limit, or a mechanism the data's "
                     "conditions do not engage)")
        elif structural[i]:
            partners = [m for j, m in enumerate(names)
                        if j != i and structural[j]]
            d.update(identifiable=False, ci95=None,
                     note="structurally non-identifiable: J^T J is singular along a direction "
                     "involving this parameter" + (f" and {', '.join(partners)}" if partners
                                                   else "") +
                     "; the data fix only that combination")
        elif dof <= 0 and not weighted:
            held = (f", {pinned} of them predicted exactly whatever the parameters: the "
                    "data's normalisation, e.g. an untreated control at 100 % or nothing "
                    "released at 0 h" if pinned else "")
            d.update(identifiable=None, ci95=None,
                     note=f"no residual degrees of freedom ({n_points} data points{held}, "
                     f"{p} parameters): the residual scale and so the CI are undefined")
        elif not math.isfinite(half):
            d.update(identifiable=False, ci95=None, note="the CI is undefined")
        elif half > math.log(MAX_FACTOR):
            d.update(identifiable=False, ci95=None,
                     note=f"practically non-identifiable: the 95 % CI would span more than a "
                     f"factor {MAX_FACTOR:g} either way (± {half:.3g} in ln units)")
        elif bounds[i]:
            # a local interval needs the optimum inside the box; the profile (if computed)
            # may still bound the other side
            d.update(identifiable=None, ci95=None,
                     note=f"the optimum lies on the {bounds[i]} bound of the box; the "
                     "Gauss-Newton interval is not valid there (profile = true gives the "
                     "profile likelihood's limit on the other side; widen the bound or fix "
                     "the parameter)")
        elif (x_hat[i] - half < free.ln_lower[i] - 1e-9
              or x_hat[i] + half > free.ln_upper[i] + 1e-9):
            lo, hi = (math.exp(x_hat[i] + sgn * half) for sgn in (-1.0, 1.0))
            d.update(identifiable=False, ci95=None,
                     note=f"not bounded inside the box by the data: the 95 % Gauss-Newton "
                     f"interval {lo:.3g}-{hi:.3g} reaches past the box "
                     f"{math.exp(free.ln_lower[i]):.3g}-{math.exp(free.ln_upper[i]):.3g} "
                     "(profile = true gives the profile likelihood's limits)")
        else:
            val = math.exp(x_hat[i])
            d.update(identifiable=True,
                     ci95=[val * math.exp(-half), val * math.exp(half)])
        if bounds[i]:
            d["at_bound"] = bounds[i]
        per[n] = d
    out["parameters"] = per
    out["covariance_ln"] = cov.tolist() if np.all(np.isfinite(cov)) else None
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    corr = np.full((p, p), np.nan)
    ok = (sd > 0) & ~structural & np.isfinite(sd)
    for i in range(p):
        for j in range(p):
            if ok[i] and ok[j]:
                corr[i, j] = cov[i, j] / (sd[i] * sd[j])
    out["correlation"] = {"parameters": list(names),
                          "matrix": [[None if not np.isfinite(c) else float(c) for c in row]
                                     for row in corr]}
    return out


def _reoptimise(rj_batch: Callable, loss_batch: Callable, xs: np.ndarray, mask: np.ndarray,
                free: FreeSet, lm_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Projected L-M on the coordinates not in `mask`, every row at once, within `free`'s
    box: the rows' new points, losses, and whether each converged (not failed, not stopped
    by the step limit). With nothing free to move, every row is settled as it stands."""
    loss = loss_batch(xs)
    if mask.all():
        return xs, loss, np.ones(len(xs), bool)
    mu = np.full(len(xs), 1e-3)
    done, settled = np.zeros(len(xs), bool), np.zeros(len(xs), bool)
    for _ in range(lm_steps):
        active = ~done
        xs, mu, loss, conv, failed = lm_step(rj_batch, loss_batch, xs, mu, loss, free,
                                             fixed_mask=mask, active=active, rtol=1e-9)
        settled |= active & conv & ~failed
        done |= conv | failed
        if done.all():
            break
    return xs, loss, settled


def _grid(x_hat: np.ndarray, free: FreeSet, gn: dict[str, Any], multiples: tuple[float, ...],
          jtj: np.ndarray | None) -> tuple[np.ndarray, list[tuple[int, float]]]:
    """The profile's first points and their owners (parameter, side): each free parameter at
    `multiples` of its Gauss-Newton half-width t·se (a sixth of the box where that is
    undefined or wider than the box) and at the box's edge, the others started where the
    quadratic model at the optimum puts them, x_o = x̂_o − A_oo⁻¹ A_oi δ_i (A = JᵀJ), so
    that most points need a step or two."""
    t, p = gn["t"], len(x_hat)
    lo, hi = free.ln_lower, free.ln_upper
    points, owner = [], []
    for i, n in enumerate(free.names):
        se = gn["parameters"][n].get("se_ln")
        span = hi[i] - lo[i]
        base = t * se if se and math.isfinite(se) and t * se < span else span / 6.0
        for sign in (-1.0, 1.0):
            edge = lo[i] if sign < 0 else hi[i]
            offsets = [m * base for m in multiples if m * base < abs(edge - x_hat[i])]
            for off in offsets + [abs(edge - x_hat[i])]:  # ... and the box edge itself
                if off <= 1e-12:
                    continue  # the optimum is on this edge: nothing to profile there
                x = x_hat.copy()
                x[i] = edge if off == abs(edge - x_hat[i]) else x_hat[i] + sign * off
                points.append(x)
                owner.append((i, sign))
    xs = np.array(points)
    if jtj is not None and p > 1:
        for k, (i, _) in enumerate(owner):
            o = [j for j in range(p) if j != i]
            try:
                shift = np.linalg.solve(jtj[np.ix_(o, o)], jtj[o, i]) * (xs[k, i] - x_hat[i])
            except np.linalg.LinAlgError:
                continue
            if np.all(np.isfinite(shift)):
                xs[k, o] = np.clip(x_hat[o] - shift, lo[o], hi[o])
    return xs, owner


def _continued(jac: np.ndarray | None, x_in: np.ndarray, i: int, x_i: float,
               free: FreeSet) -> np.ndarray:
    """`x_in` with parameter i moved to `x_i` and the others by the step that keeps the
    residuals as they were to first order at `x_in` (least squares J_o s = −J_i δ, J the
    Jacobian there), within the box: the start of a profile point continued from its
    neighbour nearer the optimum. Where that Jacobian is not finite (lstsq would raise), the
    others stay as they are at `x_in`; with no others, `jac` is not read (None allowed)."""
    x = x_in.copy()
    x[i] = x_i
    o = [j for j in range(len(x_in)) if j != i]
    if o and np.all(np.isfinite(jac)):
        shift = np.linalg.lstsq(jac[:, o], -jac[:, i] * (x_i - x_in[i]), rcond=None)[0]
        if np.all(np.isfinite(shift)):
            x[o] = np.clip(x_in[o] + shift, free.ln_lower[o], free.ln_upper[o])
    return x


def profile_likelihood(rj_batch: Callable, loss_batch: Callable, x_hat: np.ndarray,
                       loss_hat: float, free: FreeSet, gn: dict[str, Any], lm_steps: int = 25,
                       multiples: tuple[float, ...] = (0.75, 1.5, 3.0, 6.0),
                       jtj: np.ndarray | None = None) -> dict[str, Any]:
    """Profile every free parameter (see module docstring); the points of each stage in one
    batch."""
    names = free.names
    t = gn.get("t")
    s = gn.get("residual_scale")
    if t is None or s is None:
        return {"note": "no residual degrees of freedom: profile thresholds undefined"}
    if s == 0.0:
        return {"note": "the fit is exact (SSR 0, no sd given): no residual scale to set the "
                        "profile's thresholds by"}
    threshold = t * t
    s2 = s * s
    xs, owner = _grid(x_hat, free, gn, multiples, jtj)

    def held(rows: list[tuple[int, float]]) -> np.ndarray:
        mask = np.zeros((len(rows), len(names)), bool)
        for k, (i, _) in enumerate(rows):
            mask[k, i] = True
        return mask

    xs, loss, settled = _reoptimise(rj_batch, loss_batch, xs, held(owner), free, lm_steps)

    def delta_of(loss: np.ndarray) -> np.ndarray:
        return 2.0 * (loss - loss_hat) / s2  # ΔSSR/s², loss = SSR/2

    def side_rows(i: int, sign: float) -> list[int]:
        """The rows of one side of parameter i's profile, nearest the optimum first."""
        rows = [k for k, o in enumerate(owner) if o == (i, sign)]
        return sorted(rows, key=lambda k: abs(xs[k, i] - x_hat[i]))

    def crossings() -> dict[tuple[int, float], tuple[int | None, int]]:
        """Each side's first point at or above the threshold, with the point before it
        (None: the optimum)."""
        delta = delta_of(loss)
        out = {}
        for key in dict.fromkeys(owner):
            prev = None
            for k in side_rows(*key):
                if delta[k] >= threshold:
                    out[key] = (prev, k)
                    break
                prev = k
        return out

    # a crossing far above the threshold jumped there between two points: the √Δ
    # interpolation cannot place the limit, and the re-optimisation of a point far out,
    # started from the optimum's quadratic model, may have stalled on a plateau of the model
    # (a release saturated at 100 %) with the SSR raised. Bisect towards it (in ln p): the
    # new point started from its inner neighbour continued along the residuals' level set
    # and from the crossing's own others, the lower of the two standing; and the crossing
    # itself started again from the inner neighbour, kept if that lowers its SSR. Then the
    # late crossings' check (`_confirm_late`, once each): where its extra step brings one
    # below the threshold, the side passes to the next point, which may have jumped too.
    # A parameter whose optimum is on a bound of its box: its profile rises linearly from
    # there (the gradient is not zero), not quadratically, so √Δ from the optimum overstates
    # the limit: such a first crossing is bisected towards too
    on_bound = free.at_bound(x_hat)
    checked: set[int] = set()
    rounds = 0
    while True:
        jumps = [(key, prev, k) for key, (prev, k) in crossings().items()
                 if (delta_of(loss[k]) > JUMP * threshold
                     or (prev is None and on_bound[key[0]] is not None))
                 and abs(xs[k, key[0]] - (x_hat if prev is None else xs[prev])[key[0]])
                 > REFINE_MIN_LN] if rounds < REFINE_ROUNDS else []
        if not jumps:
            late = [k for _, k in crossings().values() if k not in checked]
            if not late:
                break
            checked.update(late)
            _confirm_late(rj_batch, loss_batch, xs, loss, settled, held(owner), free,
                          loss_hat, s2, threshold, late)
            continue
        rounds += 1
        inner = np.array([x_hat if prev is None else xs[prev] for _, prev, _ in jumps])
        # the Jacobian moves the others: with none, `_continued` does not read it
        jac_in = rj_batch(inner)[1] if len(names) > 1 else [None] * len(jumps)
        starts, rows = [], []
        for m, ((i, sign), _, k) in enumerate(jumps):
            x_i = 0.5 * (inner[m, i] + xs[k, i])
            far = xs[k].copy()
            far[i] = x_i
            starts += [_continued(jac_in[m], inner[m], i, x_i, free), far,
                       _continued(jac_in[m], inner[m], i, xs[k, i], free)]
            rows += [(i, sign)] * 3
        x_new, loss_new, settled_new = _reoptimise(rj_batch, loss_batch, np.array(starts),
                                                   held(rows), free, lm_steps)
        for m, (_, _, k) in enumerate(jumps):
            if loss_new[3 * m + 2] < loss[k]:
                xs[k], loss[k], settled[k] = (a[3 * m + 2] for a in (x_new, loss_new,
                                                                     settled_new))
                checked.discard(k)
        best = [3 * m + int(loss_new[3 * m + 1] < loss_new[3 * m]) for m in range(len(jumps))]
        xs = np.concatenate([xs, x_new[best]])
        loss = np.concatenate([loss, loss_new[best]])
        settled = np.concatenate([settled, settled_new[best]])
        owner += [key for key, _, _ in jumps]
    cross = crossings()
    pressed = _confirm_pressed(rj_batch, loss_batch, xs, loss, settled, owner, held(owner),
                               free, x_hat, loss_hat, s2, threshold, lm_steps,
                               list(cross.values()))
    delta = delta_of(loss)
    out: dict[str, Any] = {"threshold": threshold, "parameters": {}}
    k_min = int(np.argmin(loss))
    gain = loss_hat - loss[k_min]
    if gain > BELOW_OPTIMUM_RTOL * abs(loss_hat) and 2.0 * gain / s2 > BELOW_OPTIMUM_DELTA:
        # the optimiser's point is not the optimum: the caller continues the fit from here
        out["below_optimum"] = {
            "parameters": {n: math.exp(v) for n, v in zip(names, xs[k_min], strict=True)},
            "ssr": 2.0 * float(loss[k_min]), "ssr_optimum": 2.0 * float(loss_hat),
            "profiled": names[owner[k_min][0]]}
    for i, n in enumerate(names):
        d: dict[str, Any] = {"points": []}
        limits: list[float | None] = []
        for side, sign in (("lower", -1.0), ("upper", 1.0)):
            d["points"] += [[math.exp(xs[k, i]), float(delta[k])] for k in side_rows(i, sign)]
            limit: float | None = None
            if (i, sign) in cross:
                prev, k = cross[(i, sign)]
                prev_x, prev_d = ((x_hat[i], 0.0) if prev is None
                                  else (xs[prev, i], float(delta[prev])))
                # √Δ is linear in the offset for a quadratic profile: interpolate it
                a, b, c = math.sqrt(max(prev_d, 0.0)), math.sqrt(delta[k]), math.sqrt(threshold)
                frac = (c - a) / max(b - a, 1e-300)
                limit = math.exp(prev_x + frac * (xs[k, i] - prev_x))
                if pressed[k]:
                    d.setdefault("box_pressed", {})[side] = pressed[k]
                elif not settled[k]:
                    d.setdefault("unsettled", []).append(side)
            limits.append(limit)
        d["points"].sort()
        d["ci95"] = limits
        if limits[0] is None or limits[1] is None:
            sides = zip(("lower", "upper"), limits, strict=True)
            open_side = " and ".join(side for side, v in sides if v is None)
            d["note"] = (f"the profile does not reach the 95 % threshold on the {open_side} "
                         "side before the edge of the box: the data do not bound it there")
        out["parameters"][n] = d
    return out


def _confirm_late(rj_batch: Callable, loss_batch: Callable, xs: np.ndarray, loss: np.ndarray,
                  settled: np.ndarray, mask: np.ndarray, free: FreeSet, loss_hat: float,
                  s2: float, threshold: float, crossing: list[int]) -> None:
    """A crossing the step limit stopped: one more step from there; if ten times its gain
    (the rest of a descent whose gains shrink at least 10 % a step) cannot bring it below
    the threshold, the limit holds (`settled`); else the SSR may be too high there, the limit
    too narrow. `xs`, `loss` and `settled` are updated in place."""
    late = [k for k in crossing if not settled[k]]
    if not late:
        return
    before = loss[late].copy()
    # a rejected step gains nothing and so shows nothing: raise μ (lm_step: ×4 a
    # rejection) until one is accepted, it converges or fails, or 10 tries are spent
    x_l, mu_l, loss_l = xs[late], np.full(len(late), 1e-3), loss[late].copy()
    failed, stop = np.zeros(len(late), bool), np.zeros(len(late), bool)
    for _ in range(10):
        x_l, mu_l, loss_l, conv, f = lm_step(
            rj_batch, loss_batch, x_l, mu_l, loss_l, free, fixed_mask=mask[late],
            active=~stop, rtol=1e-9)
        failed |= f & ~stop
        stop |= (loss_l < before) | conv | f
        if stop.all():
            break
    xs[late], loss[late] = x_l, loss_l
    delta = 2.0 * (loss_l - loss_hat) / s2
    rest = 2.0 * 10.0 * (before - loss_l) / s2
    settled[late] = ~failed & (delta - rest >= threshold)


def _confirm_pressed(rj_batch: Callable, loss_batch: Callable, xs: np.ndarray,
                     loss: np.ndarray, settled: np.ndarray, owner: list[tuple[int, float]],
                     mask: np.ndarray,
                     free: FreeSet, x_hat: np.ndarray, loss_hat: float, s2: float,
                     threshold: float, lm_steps: int,
                     crossing: list[tuple[int | None, int]]) -> list[list[str]]:
    """For every profile point, the others that its re-optimisation pressed onto a bound of
    the box they were inside at the optimum: where one is, the box, not the data alone, may
    be what raises the SSR. The crossings among them (`crossing`: each with the point before
    it, None for the optimum) are re-optimised with the pressed boxes widened (by their own
    width in ln p, on the pressed side; all at once), with the point before each where it is
    pressed too: a rise the data make stays (its list is emptied, it is `settled`, and its
    loss, and that of the point before it, is the wide box's, which the narrow box's bounds
    from above: in place, so that the limit is interpolated on one profile), one the box
    made falls."""
    names = free.names
    bound_hat = free.at_bound(x_hat)

    def pressed_at(x: np.ndarray, i: int, box: FreeSet) -> list[str]:
        return [names[j] for j, b in enumerate(box.at_bound(x))
                if j != i and b is not None and b != bound_hat[j]]

    pressed = [pressed_at(xs[k], owner[k][0], free) for k in range(len(xs))]
    boxed = [k for _, k in crossing if pressed[k]]
    if not boxed:
        return pressed
    inner = {k: prev for prev, k in crossing if pressed[k] and prev is not None
             and pressed[prev]}
    rows = boxed + list(inner.values())
    lower, upper = free.lower.copy(), free.upper.copy()
    for k in rows:
        side = free.at_bound(xs[k])
        for j in map(names.index, pressed[k]):
            if side[j] == "lower":
                lower[j] = free.lower[j] * free.lower[j] / free.upper[j]
            else:
                upper[j] = free.upper[j] * free.upper[j] / free.lower[j]
    wide = dataclasses.replace(free, lower=lower, upper=upper)
    x_w, loss_w, settled_w = _reoptimise(rj_batch, loss_batch, xs[rows], mask[rows], wide,
                                         lm_steps)
    loss_inner = dict(zip(inner.values(), loss_w[len(boxed):], strict=True))
    span = free.ln_upper - free.ln_lower
    for m, k in enumerate(boxed):
        # ... provided the pressed ones used the room: one left on its old bound may be
        # stuck on a plateau of the model (a release saturated at 100 %), not held there
        moved = all(abs(x_w[m, j] - xs[k, j]) > 1e-3 * span[j]
                    for j in map(names.index, pressed[k]))
        if (settled_w[m] and moved and 2.0 * (loss_w[m] - loss_hat) / s2 >= threshold
                and not pressed_at(x_w[m], owner[k][0], wide)):
            # the data set the limit, at the wide box's SSR (the wide box holds the narrow
            # one, so its SSR is no higher: settled whatever the narrow run was)
            pressed[k], settled[k] = [], True
            loss[k] = min(loss[k], loss_w[m])
            if k in inner and loss_hat <= loss_inner[inner[k]]:  # not beyond the optimum
                loss[inner[k]] = min(loss[inner[k]], loss_inner[inner[k]])
    return pressed
