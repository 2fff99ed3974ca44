"""The field's empirical models, fitted per curve beside the mechanistic fit.

Release (F in %, t in h; Costa & Sousa Lobo 2001, Eur J Pharm Sci 13:123,
doi:10.1016/S0928-0987(01)00095-1):
    first order        F = 100 (1 − e^{−k t})
    Higuchi            F = k_H √t
    Korsmeyer-Peppas   F = k t^n            (meant for F ≤ 60 %)
    Weibull            F = 100 (1 − exp(−(t/τ)^β))
Viability (V in %, c in µg/mL): four-parameter log-logistic (Hill)
    V = bottom + (top − bottom) / (1 + (c/IC50)^h)   (Ritz et al. 2015, PLoS ONE 10:e0146021,
    doi:10.1371/journal.pone.0146021)

Each curve (rows grouped by `curve_by`) gets its own parameters: that is what these models
cost. Least squares by projected Levenberg-Marquardt from several starts, with positive
parameters in log space; per-curve 95 % CIs by Gauss-Newton where the curve has more points
than parameters. When the table gives sd, every curve is fitted weighted by 1/sd, as the
mechanistic fit is, and its CIs take sd as the noise. The totals (the likelihood the
mechanistic fit uses: one pooled residual variance, k = Σ parameters + 1, or χ² with known sd,
k = Σ parameters; `metrics`) are comparable with the mechanistic fit's on the same rows.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._uncertainty import MAX_FACTOR, metrics, t_quantile


@dataclasses.dataclass(frozen=True)
class Empirical:
    name: str
    equation: str
    params: tuple[str, ...]
    units: tuple[str, ...]
    log: tuple[bool, ...]
    box: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]  # natural parameters, x -> y
    starts: Callable[[np.ndarray, np.ndarray], list[np.ndarray]]  # natural parameters
    # parameters that are a place on the x axis (a dose or a time: the IC50, Weibull's τ),
    # flagged `extrapolated` where they lie beyond the curve's measured x
    located: tuple[str, ...] = ()


def _fixed_box(lo: list[float], hi: list[float]):
    return lambda x, y: (np.array(lo, float), np.array(hi, float))


def _grid_starts(points: list[list[float]]):
    def starts(x, y):
        return [np.array(p, float) for p in np.array(np.meshgrid(*points)).reshape(
            len(points), -1).T]
    return starts


def _first_order(p, t):
    return 100.0 * -np.expm1(-p[0] * t)


def _higuchi(p, t):
    return p[0] * np.sqrt(t)


def _peppas(p, t):
    return p[0] * np.power(t, p[1])


def _weibull(p, t):
    return 100.0 * -np.expm1(-np.power(t / p[0], p[1]))


def _log_logistic(p, c):
    top, bottom, ic50, h = p
    ratio = np.where(c > 0, np.power(np.where(c > 0, c, 1.0) / ic50, h), 0.0)
    return bottom + (top - bottom) / (1.0 + ratio)


def _ll4_box(c, v):
    pos = c[c > 0]
    cmin = pos.min() if pos.size else 1.0
    cmax = c.max() if c.size and c.max() > 0 else 1.0
    return (np.array([0.0, -50.0, cmin / 1e3, 0.05]),
            np.array([200.0, 100.0, cmax * 1e3, 20.0]))


def _ll4_starts(c, v):
    pos = c[c > 0]
    mid = math.exp(np.mean(np.log(pos))) if pos.size else 1.0
    top = max(100.0, float(np.max(v)))
    out = []
    for bottom in (0.0, float(max(np.min(v), -20.0))):
        for ic50 in (mid / 4, mid, mid * 4):
            for h in (1.0, 3.0):
                out.append(np.array([top, bottom, ic50, h]))
    return out


RELEASE_MODELS = (
    Empirical("first_order", "F = 100 (1 - exp(-k t))", ("k_per_h",), ("1/h",), (True,),
              _fixed_box([1e-6], [1e3]), _first_order,
              _grid_starts([[1e-3, 1e-2, 1e-1, 1.0, 10.0]])),
    Empirical("higuchi", "F = k_H sqrt(t)", ("k_H_percent_per_sqrt_h",), ("%/h^0.5",), (True,),
              _fixed_box([1e-4], [1e4]), _higuchi, _grid_starts([[0.1, 1.0, 10.0, 100.0]])),
    Empirical("korsmeyer_peppas", "F = k t^n", ("k_percent_per_h_n", "n"), ("%/h^n", "1"),
              (True, True), _fixed_box([1e-4, 0.05], [1e4, 3.0]), _peppas,
              _grid_starts([[0.1, 1.0, 10.0], [0.3, 0.5, 1.0]])),
    Empirical("weibull", "F = 100 (1 - exp(-(t/tau)^beta))", ("tau_h", "beta"), ("h", "1"),
              (True, True), _fixed_box([1e-3, 0.05], [1e6, 10.0]), _weibull,
              _grid_starts([[0.3, 3.0, 30.0, 300.0], [0.5, 1.0, 2.0]]), located=("tau_h",)),
)
VIABILITY_MODELS = (
    Empirical("log_logistic_4p", "V = bottom + (top - bottom) / (1 + (c/IC50)^h)",
              ("top_percent", "bottom_percent", "ic50_ug_per_ml", "hill"),
              ("%", "%", "ug/mL", "1"), (False, False, True, True), _ll4_box,
              _log_logistic, _ll4_starts, located=("ic50_ug_per_ml",)),
)


def _to_theta(m: Empirical, p: np.ndarray) -> np.ndarray:
    return np.array([math.log(v) if lg else v for v, lg in zip(p, m.log, strict=True)])


def _to_natural(m: Empirical, th: np.ndarray) -> np.ndarray:
    return np.array([math.exp(v) if lg else v for v, lg in zip(th, m.log, strict=True)])


def _lm(m: Empirical, x: np.ndarray, y: np.ndarray, w: np.ndarray, th0: np.ndarray,
        lo: np.ndarray, hi: np.ndarray, iters: int = 200) -> tuple[np.ndarray, float, np.ndarray]:
    """Projected L-M with a central-difference Jacobian (closed-form models, few params), on
    the residuals weighted by `w` (1/sd, or ones)."""

    def res(th):
        with np.errstate(all="ignore"):
            r = (m.f(_to_natural(m, th), x) - y) * w
        return np.where(np.isfinite(r), r, 1e10)

    def jac(th):
        j = np.empty((len(y), len(th)))
        for k in range(len(th)):
            h = 1e-6 * max(1.0, abs(th[k]))
            e = np.zeros_like(th)
            e[k] = h
            j[:, k] = (res(th + e) - res(th - e)) / (2 * h)
        return j

    th = np.clip(th0, lo, hi)
    r = res(th)
    ssr = float(r @ r)
    mu = 1e-3
    for _ in range(iters):
        j = jac(th)
        a, g = j.T @ j, j.T @ r
        d = np.where(np.diag(a) > 0, np.diag(a), 1.0)
        try:
            step = np.linalg.solve(a + mu * np.diag(d), -g)
        except np.linalg.LinAlgError:
            break
        new = np.clip(th + step, lo, hi)
        rn = res(new)
        sn = float(rn @ rn)
        if sn < ssr:
            done = (ssr - sn) <= 1e-14 * max(ssr, 1e-300)
            th, r, ssr, mu = new, rn, sn, max(mu / 3, 1e-12)
            if done:
                break
        else:
            mu *= 4
            if mu > 1e12 or np.max(np.abs(new - th)) < 1e-12:
                break
    return th, ssr, jac(th)


def fit_curve(m: Empirical, x: np.ndarray, y: np.ndarray,
              sd: np.ndarray | None = None) -> dict[str, Any]:
    """One curve by least squares, weighted by 1/sd when `sd` is given (then the CIs take sd
    as the noise, s² = 1, as the mechanistic fit's do)."""
    lo_n, hi_n = m.box(x, y)
    lo, hi = _to_theta(m, lo_n), _to_theta(m, hi_n)
    w = np.ones_like(y, dtype=float) if sd is None else 1.0 / np.asarray(sd, float)
    best = None
    for s in m.starts(x, y):
        th, ssr, j = _lm(m, x, y, w, _to_theta(m, np.clip(s, lo_n, hi_n)), lo, hi)
        if best is None or ssr < best[1]:
            best = (th, ssr, j)
    th, ssr, j = best
    k = len(m.params)
    n = len(y)
    yhat = m.f(_to_natural(m, th), x)
    out: dict[str, Any] = {"n": n, "parameters": {}, "_yhat": yhat}
    out.update({key: v for key, v in metrics(y, yhat, k).items() if key in ("r2", "rmse", "ssr")})
    dof = n - k
    if dof <= 0:
        out["note"] = (f"underdetermined: {n} points for {k} parameters; the curve is "
                       "interpolated, so its parameters and r² are not reported")
        for name, unit in zip(m.params, m.units, strict=True):
            out["parameters"][name] = {"value": None, "ci95": None, "units": unit}
        out["underdetermined"] = True
        return out
    s2, t = (1.0, t_quantile(0.975, math.inf)) if sd is not None else (
        ssr / dof, t_quantile(0.975, dof))
    a = j.T @ j
    try:
        cov = s2 * np.linalg.inv(a) if np.linalg.cond(a) < 1e12 else None
    except np.linalg.LinAlgError:
        cov = None
    frac = (th - lo) / np.where(hi > lo, hi - lo, 1.0)
    for i, (name, unit, lg) in enumerate(zip(m.params, m.units, m.log, strict=True)):
        val = float(_to_natural(m, th)[i])
        d: dict[str, Any] = {"value": val, "ci95": None, "units": unit}
        if frac[i] < 1e-3 or frac[i] > 1 - 1e-3:
            d["note"] = "at the bound of the fitting box"
        elif cov is None or not cov[i, i] >= 0:
            d["note"] = "not identifiable from this curve (J^T J near-singular)"
        else:
            half = t * math.sqrt(cov[i, i])
            if lg:
                if half > math.log(MAX_FACTOR):
                    d["note"] = ("practically non-identifiable: the 95 % CI would span more "
                                 f"than a factor {MAX_FACTOR:g} either way")
                else:
                    d["ci95"] = [val * math.exp(-half), val * math.exp(half)]
            else:
                d["ci95"] = [val - half, val + half]
        if name in m.located:
            _flag_extrapolated(d, x)
        out["parameters"][name] = d
    return out


def _flag_extrapolated(d: dict[str, Any], x: np.ndarray) -> None:
    """`extrapolated` (and, where true, the side and the measured range) on a parameter that
    is a place on the x axis: an IC50 beyond the highest dose of its curve is the curve's
    extrapolation, not a dose the data bracket."""
    span = measured_range(x)
    side = extrapolation(d["value"], span)
    d["extrapolated"] = side is not None
    if side:
        d["extrapolated_side"] = side
        d["measured_range"] = span


def measured_range(x: np.ndarray) -> list[float] | None:
    """[lowest, highest] of a curve's measured positive x (dose or time), None without one:
    a dose of 0 (the untreated control) or a time of 0 has no place on the log dose axis
    and says nothing about where a curve crosses a level."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x) & (x > 0)]
    return [float(x.min()), float(x.max())] if x.size else None


def extrapolation(value: float | None, span: list[float] | None) -> str | None:
    """'above' or 'below' where a derived x (an IC50, a time to 50 %) lies beyond the measured
    range `span` (no measurement on that side of it to check it against), else None."""
    if value is None:
        return None
    if span is None:
        return "above"  # nothing measured at a positive x: all of it is extrapolated
    if value > span[1] * (1 + 1e-9):
        return "above"
    if value < span[0] * (1 - 1e-9):
        return "below"
    return None


def fit_empirical(models: tuple[Empirical, ...], curves: list[tuple[str, np.ndarray]],
                  x: np.ndarray, y: np.ndarray, sd: np.ndarray | None = None) -> dict[str, Any]:
    """Every model on every curve, with pooled totals; weighted by 1/sd when `sd` is given."""
    result: dict[str, Any] = {}
    for m in models:
        per, yhat, rows, k_total = [], np.full(len(y), np.nan), [], 0
        for label, idx in curves:
            c = fit_curve(m, x[idx], y[idx], None if sd is None else sd[idx])
            c["curve"] = label
            per.append(c)
            yhat[idx] = c.pop("_yhat")
            rows.extend(idx.tolist())
            k_total += len(m.params)
        rows = np.array(sorted(rows))
        total = metrics(y[rows], yhat[rows], k_total, None if sd is None else sd[rows])
        under = [c["curve"] for c in per if c.get("underdetermined")]
        if under:
            total["r2"] = total["aic"] = total["bic"] = None
            total["note"] = (f"{len(under)} of {len(per)} curves have no more points than "
                             f"parameters ({', '.join(under)}): the model interpolates them, "
                             "so r², AIC and BIC would reward that and are not reported")
        result[m.name] = {"equation": m.equation, "curves": per, "total": total}
    return result
