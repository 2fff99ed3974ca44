"""fit config -> problem -> multi-start optimum -> uncertainty, metrics, empirical models -> report.

`fit(cfg, outdir)` is what `zn-pde fit` does, as a library call.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError, check_flags, output_folder
from .._version import __version__
from ..config import resolve, unresolved
from ..observables._prediction import deep_merge
from ._checks import data_warnings
from ._config import FitConfig, check_fit_config
from ._empirical import RELEASE_MODELS, VIABILITY_MODELS, fit_empirical
from ._optimise import MultiStart, OptimiserState, Optimum, derivatives_warning, still_improving
from ._problem import Problem, build_problem
from ._uncertainty import ci_pair, gauss_newton, metrics, profile_likelihood, sd_warning


@dataclasses.dataclass
class FitResult:
    report: dict[str, Any]
    problem: Problem
    x: np.ndarray  # ln of the fitted free parameters
    files: dict[str, Path]

    @property
    def values(self) -> dict[str, float]:
        return {n: float(math.exp(v)) for n, v in zip(self.problem.free.names, self.x,
                                                       strict=True)}


# compiled programs of recent problems (config less optimiser settings, + data): a fit repeated
# in the same process (a notebook, a resumed fit, the tests) does not compile again
_COMPILED: dict[str, tuple[Problem, dict[str, Any]]] = {}
_COMPILED_MAX = 4


def gradient_mode(cfg: FitConfig, n_free: int) -> str:
    if cfg.settings.gradient != "auto":
        return cfg.settings.gradient
    return "forward" if cfg.observable.batch == "vmap" and n_free <= 6 else "reverse"


def profile_enabled(cfg: FitConfig, n_free: int) -> bool:
    p = cfg.settings.profile
    if n_free == 0:  # every parameter fixed (an evaluation): nothing to profile
        return False
    if p == "auto":
        return cfg.observable.name == "release" and n_free <= 3
    return bool(p)


PROFILE_RESTARTS = 2  # continuations of a fit from a profile point below its optimum


def resume_path(outdir: Path, name: str) -> Path:
    return outdir / f"{name}.resume.npz"


def fit(cfg: FitConfig, outdir: str | Path | None = "checkpoints", *, resume: bool = False,
        quiet: bool = True, command: str | None = None,
        on_checkpoint: Callable[[OptimiserState], None] | None = None,
        figure: bool = True) -> FitResult:
    """Run a fit; with `outdir`, write `<name>.json`, `<name>.eqx` and `<name>.png` there
    (those of a previous fit are removed when the optimisation starts)."""
    check_fit_config(cfg, "fit")
    check_flags("fit", cfg.file, resume=resume, quiet=quiet, figure=figure)
    t_start = time.perf_counter()
    fingerprint = cfg.fingerprint()
    key = cfg.problem_key()
    if key in _COMPILED:  # the same problem again in this process: reuse its programs
        problem, programs = _COMPILED[key]
        problem = dataclasses.replace(problem, cfg=cfg)
    else:
        problem, programs = build_problem(cfg, evaluate=True), None
    mode = gradient_mode(cfg, len(problem.free.names))
    ms = MultiStart(problem, cfg.settings, mode, programs)
    if key not in _COMPILED:
        while len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = (problem, ms.programs)
    free = problem.free
    label = f"fit {cfg.name}"
    warnings, parameter_warnings = data_warnings(problem)
    for w in warnings:  # not progress: shown even when quiet
        print(f"{label}: warning: {w}", file=sys.stderr)
    if not quiet:
        print(f"{label}: {cfg.observable.name}, {len(problem.table)} rows "
              f"({problem.n_points} values), {problem.prediction.n_conditions} simulated "
              "conditions, " + (f"free: {', '.join(free.names)}; gradient by {mode} mode"
                                  if free.names else "every parameter fixed: the model is "
                                  "evaluated on the data at their values, nothing fitted"),
              file=sys.stderr)
    out = output_folder(outdir) if outdir is not None else None
    state = None
    if out is not None:
        rp = resume_path(out, cfg.name)
        if resume and rp.is_file():
            state = OptimiserState.load(rp, fingerprint, cfg.file)
            if not quiet:
                print(f"{label}: resuming from {rp} ({state.phase}, chunk {state.step})",
                      file=sys.stderr)
        elif resume:  # said even with --quiet: the user asked to continue, it does not
            print(f"{label}: no interrupted fit in {rp}; starting afresh", file=sys.stderr)
    if out is not None:
        # the files this fit replaces go as it starts (`zn-pde fit` gets here over an existing
        # <name>.json only with --overwrite): the JSON marks a finished fit, which `zn-pde
        # design` takes as the fitted point, so an interrupt must not leave the previous
        # fit's (with its .eqx and .png) beside this one's resume state
        for suffix in ("json", "eqx", "png"):
            (out / f"{cfg.name}.{suffix}").unlink(missing_ok=True)
    if state is None and free.names:
        state = ms.initial_state()
    # the sessions before a resume: the report counts the whole fit
    before = state.fit_wall_s if state is not None else 0.0

    def checkpoint(s: OptimiserState) -> None:
        s.fit_wall_s = before + time.perf_counter() - t_start
        if out is not None:
            s.save(resume_path(out, cfg.name), fingerprint)
        if on_checkpoint is not None:
            on_checkpoint(s)

    if free.names:
        opt = ms.run(state, label=label, quiet=quiet, checkpoint=checkpoint)
    else:  # every parameter fixed: the model at those values, evaluated on the data
        x0 = np.zeros(0)
        loss0 = float(ms.loss_x_batch(x0[None])[0])
        opt = Optimum(x0, loss0, [], 0, [], 0.0, [])
    report, x = analyse(problem, opt, ms, quiet=quiet, label=label)
    report["optimisation"]["gradient"] = mode
    # every parameter fixed: an evaluation of the model at those values on the data
    report["evaluation_only"] = not free.names
    u = report["uncertainty"]
    late = sd_warning(u.get("chi2_per_dof"), u["dof"]) if u.get("weighted") else None
    if late is not None:
        print(f"{label}: warning: {late}", file=sys.stderr)
    for w in report["optimisation"]["warnings"]:
        print(f"{label}: warning: {w}", file=sys.stderr)
    report["warnings"] = warnings + report["optimisation"]["warnings"] + ([late] if late else [])
    for n, w in parameter_warnings.items():
        report["parameters"][n]["warning"] = w
    report["command"] = command or f"zn_pde.fit.fit(load_fit_config({cfg.file!r}))"
    files: dict[str, Path] = {}
    from ._report import dense_curves, derived, write_outputs

    curves = dense_curves(problem, x, ms)
    report["derived"] = derived(problem, curves)
    # the fit, before writing outputs, every session before a resume included
    report["wall_s"] = before + time.perf_counter() - t_start
    if out is not None:
        files = write_outputs(problem, x, report, out, curves, figure=figure)
        resume_path(out, cfg.name).unlink(missing_ok=True)
    return FitResult(report, problem, x, files)


def analyse(problem: Problem, opt: Optimum, ms: MultiStart, *, quiet: bool = True,
            label: str = "fit") -> tuple[dict[str, Any], np.ndarray]:
    """The report of an optimum (less what `fit` adds), and its ln p. Where the profile
    likelihood finds a point below the optimum, the fit continues from there by L-M (at most
    `PROFILE_RESTARTS` times) and everything is reported at the better point; both cases are
    in the report's `optimisation.warnings`."""
    cfg, free = problem.cfg, problem.free
    x, loss = np.asarray(opt.x, float), opt.loss
    short = still_improving(opt)
    restarts: list[dict[str, Any]] = []
    while True:
        r, jac = (a[0] for a in ms.rj_batch(x[None]))
        gn = gauss_newton(r, jac, x, free, problem.n_points, problem.weighted,
                          problem.pinned(r, jac))
        prof = None
        if not profile_enabled(cfg, len(free.names)):
            break
        if not quiet:
            print(f"{label}: profile likelihood", file=sys.stderr)
        prof = profile_likelihood(ms.rj_batch, ms.loss_x_batch, x, loss, free, gn,
                                  jtj=jac.T @ jac)
        below = prof.get("below_optimum")
        if below is None or len(restarts) == PROFILE_RESTARTS:
            break
        start = np.log([below["parameters"][n] for n in free.names])
        x_new, loss_new = ms.polish(start, below["ssr"] / 2.0, max(cfg.settings.lm_steps, 30))
        if not loss_new < loss:
            break
        restarts.append({"from": below["parameters"], "ssr_before": 2.0 * loss,
                         "ssr_profile_point": below["ssr"], "ssr_after": 2.0 * loss_new})
        if not quiet:
            print(f"{label}: the profile found a lower SSR ({below['ssr']:.6g} < "
                  f"{2.0 * loss:.6g}); continuing the fit from there", file=sys.stderr)
        x, loss = x_new, loss_new
    # once continued from a profile point, the values are no longer the optimiser's: its
    # stop short (said below) is what `short` warned of
    opt_warnings = [short] if short and not restarts else []
    if restarts:
        opt_warnings.append(
            f"the optimiser stopped short of the optimum: the profile likelihood found a "
            f"lower SSR ({restarts[0]['ssr_profile_point']:.6g} against "
            f"{restarts[0]['ssr_before']:.6g}), so the fit was continued from there by "
            f"Levenberg-Marquardt ({len(restarts)} time{'s' if len(restarts) > 1 else ''}, "
            f"SSR {restarts[-1]['ssr_after']:.6g}); values and intervals are reported at "
            "that point (optimisation.profile_restarts); more starts or lm_steps would find "
            "it directly")
    broken = derivatives_warning(jac, problem.table.lines)
    if broken:
        opt_warnings.append(broken)
    if prof is not None and prof.get("below_optimum"):
        b = prof["below_optimum"]
        opt_warnings.append(
            f"the reported optimum is not the optimum: the profile of {b['profiled']} found "
            f"SSR {b['ssr']:.6g}, below the reported {b['ssr_optimum']:.6g}, at "
            + ", ".join(f"{n} = {v:.6g}" for n, v in b["parameters"].items())
            + " (profile.below_optimum), and continuing the fit from there did not settle; "
            "the values and intervals reported are not the optimum's: raise starts and "
            "lm_steps and fit again")
    yhat = ms.predict_batch(x[None])[0]
    point = problem.kind == 0
    sd = problem.sd[point] if problem.weighted else None
    m = metrics(problem.y[point], yhat[point], len(free.names), sd, gn.get("pinned_rows", 0))
    # e^(ln p) of a value on the box's edge may lie an ulp outside it (e^(ln 10) =
    # 10.000000000000002), beyond a key's limit: the [kinetics] table would not validate
    values = np.clip(np.exp(np.asarray(x, float)), free.lower, free.upper)
    params: dict[str, Any] = {}
    for i, n in enumerate(free.names):
        g = gn["parameters"][n]
        d: dict[str, Any] = {"value": float(values[i]), "ci95": g.get("ci95"),
                             "units": free.units[i], "fixed": False,
                             "identifiable": g.get("identifiable"),
                             "initial": float(free.initial[i]),
                             "lower": float(free.lower[i]), "upper": float(free.upper[i]),
                             "ci95_gauss_newton": ci_pair(g.get("ci95")),
                             "se_ln": g.get("se_ln")}
        if n in free.moved_start:  # the default start, outside the box: `initial` is its bound
            d["default_initial"] = free.moved_start[n]
        for k in ("note", "at_bound"):
            if k in g:
                d[k] = g[k]
        if prof and "parameters" in prof:
            pp = prof["parameters"][n]
            d["ci95_profile"] = pp["ci95"]
            soft, soft_notes = _soft_limits(pp)
            # a limit the data set: not one the box of another parameter, or an unconverged
            # re-optimisation, may have set instead
            lower, upper = (None if side in soft else v
                            for side, v in zip(("lower", "upper"), pp["ci95"], strict=True))
            d["ci95"] = [lower, upper]
            edge = g.get("at_bound")
            # the limit on the side away from the box edge the optimum lies on
            inner = {"upper": lower, "lower": upper}.get(edge)
            closed = all(v is not None for v in pp["ci95"])
            if lower is not None and upper is not None:
                if d["identifiable"] is not True:
                    _note(d, "bounded by the profile likelihood (the local Gauss-Newton "
                          "interval was not usable)")
                d["identifiable"] = True
            elif soft and (closed or (edge and pp["ci95"][edge == "lower"] is not None)):
                # bounded inside the box, but on a side where the data alone may not bound it:
                # undecided, unless the local analysis already found the data do not
                if d["identifiable"] is not False:
                    d["identifiable"] = None
                _note(d, "; ".join(([f"the optimum lies on the {edge} bound of the box"]
                                    if edge else []) + soft_notes))
            elif inner is not None:
                # on a box edge and bounded on the other side by the data: the edge, not the
                # data, ends the interval, which the data may or may not close beyond it
                other = "below" if edge == "upper" else "above"
                d["identifiable"] = None
                _note(d, f"the optimum lies on the {edge} bound of the box; the profile "
                      f"bounds it {other} ({'>=' if edge == 'upper' else '<='} {inner:.3g}, "
                      f"95 %), but on the {edge} side the box, not the data, ends the "
                      "interval: widen the bound to see whether the data bound it there, or "
                      "fix the parameter")
            else:
                d["identifiable"] = False
                _note(d, "; ".join(([f"the optimum lies on the {edge} bound of the box"]
                                    if edge else []) + [pp["note"], *soft_notes]))
        d["ci95"] = ci_pair(d["ci95"])
        params[n] = d
    material_units = {}
    from ..materials import get_material

    mat = get_material(cfg.material)
    for n in free.fixed_by_config:
        material_units[n] = mat.parameter(n).unit
        params[n] = {"value": free.held[n], "ci95": [None, None], "units": material_units[n],
                     "fixed": True, "note": "fixed by the fit config"}
        if cfg.parameters[n].initial is not None:  # held at a value of the fit config's own
            params[n]["initial"] = float(cfg.parameters[n].initial)
    # bounds (<=, >=) are constraints, not data
    bound_rows = ~point
    bounds = None
    if bound_rows.any():
        ok = np.where(problem.kind[bound_rows] == 1, yhat[bound_rows] <= problem.y[bound_rows]
                      + 1e-9, yhat[bound_rows] >= problem.y[bound_rows] - 1e-9)
        bounds = {"n": int(bound_rows.sum()), "satisfied": int(ok.sum())}
    curves = cfg.observable.curves(problem.table, cfg.row_settings)
    curve_of = {int(i): label for label, idx in curves for i in idx}
    table = problem.table
    # a row's residual is what the fit weighed, in data units (`Problem.misfit_from`: the
    # hinge for a bound). It was predicted − observed for bounds too, so a bound that held
    # showed a residual the fit never counted.
    residual = problem.misfit_from(yhat)
    rows = [{"line": table.lines[i], "curve": curve_of.get(i),
             "relation": table.relation[i], "observed": float(problem.y[i]),
             "predicted": float(yhat[i]), "residual": float(residual[i]),
             **({"bound_satisfied": bool(abs(residual[i]) <= 1e-9)} if problem.kind[i]
                else {}),
             # every column of the row as read, the ones the fit does not use included
             "columns": {h: table.text[h][i] for h in table.header}}
            for i in range(len(table))]
    pcurves = [(lab, idx[point[idx]]) for lab, idx in curves if point[idx].any()]
    xcol = "time_h" if cfg.observable.table_kind == "release" else "concentration_ug_per_ml"
    models = RELEASE_MODELS if cfg.observable.table_kind == "release" else VIABILITY_MODELS
    empirical = fit_empirical(models, pcurves, problem.table.numbers[xcol], problem.y,
                              problem.sd if problem.weighted else None)
    comparison = [{"model": f"mechanistic ({cfg.observable.name})", **_short(m)}]
    comparison += [{"model": k, **_short(v["total"])} for k, v in empirical.items()]
    kinetics = dict(free.held)
    kinetics.update({n: float(v) for n, v in zip(free.names, values, strict=True)})
    report: dict[str, Any] = {
        "name": cfg.name,
        "observable": cfg.observable.name,
        "description": cfg.observable.description,
        "material": cfg.material,
        "zn_pde_version": __version__,
        "data": {"path": os.path.normpath(cfg.data), "rows": len(problem.table),
                 "values": problem.n_points, "select": cfg.select, "exclude": cfg.exclude,
                 "weighted_by_sd": problem.weighted, "bounds": bounds},
        "parameters": params,
        "correlation": gn.get("correlation"),
        "metrics": m,
        "uncertainty": {k: v for k, v in gn.items() if k not in ("parameters", "correlation")},
        "profile": prof,
        "empirical": empirical,
        "comparison": comparison,
        "kinetics": kinetics,
        "optimisation": {
            "seed": cfg.settings.seed, "starts": opt.starts, "best_start": opt.best_start,
            "loss": loss, "loss_optimiser": opt.loss,
            "lm_converged": opt.lm_converged, "profile_restarts": restarts,
            "warnings": opt_warnings, "settings": dataclasses.asdict(cfg.settings),
            "screened_candidates": len(opt.screened), "history": opt.history,
            "wall_s": opt.wall_s},
        "rows": rows,
        "numerics_warning": numerics_warning(problem, kinetics),
    }
    return report, x


def _soft_limits(pp: dict[str, Any]) -> tuple[set[str], list[str]]:
    """The sides of one parameter's profile interval that the data alone may not have set,
    with the reasons: another parameter pressed onto its box bound at the point where the
    profile crossed the threshold (`box_pressed`), or that point's re-optimisation not
    converged (`unsettled`: its SSR too high, so the limit too narrow)."""
    reasons: dict[str, list[str]] = {}
    sides = set()
    for i, side in enumerate(("lower", "upper")):
        v = pp["ci95"][i]
        if v is None:
            continue
        bound = f"{'>=' if side == 'lower' else '<='} {v:.3g}"
        others = pp.get("box_pressed", {}).get(side)
        if others:
            why = (f"where {', '.join(others)} reached the edge of its box: that box, not the "
                   "data alone, may be what ends the interval; widen it to see whether the "
                   "data bound this parameter")
        elif side in pp.get("unsettled", ()):
            why = ("from points whose re-optimisation of the other parameters did not "
                   "converge: the SSR there may be too high and the interval too narrow")
        else:
            continue
        reasons.setdefault(why, []).append(bound)
        sides.add(side)
    notes = [f"the profile's {'limits' if len(b) > 1 else 'limit'} ({' and '.join(b)}, 95 %) "
             f"{'are' if len(b) > 1 else 'is'} {why}" for why, b in reasons.items()]
    return sides, notes


def _note(d: dict[str, Any], note: str) -> None:
    """Set a parameter's `note` from the profile, keeping the Gauss-Newton one it replaces."""
    if d.get("note"):
        d["note_gauss_newton"] = d["note"]
    d["note"] = note


def _short(m: dict[str, Any]) -> dict[str, Any]:
    out = {k: m.get(k) for k in ("n", "k", "n_free", "r2", "rmse", "aic", "bic")}
    if m.get("note"):
        out["note"] = m["note"]
    return out


def numerics_warning(problem: Problem, kinetics: dict[str, float]) -> str | None:
    """Does the experiment's time step still pass the config's accuracy check at the fit?"""
    c = problem.prediction.configs[0]
    raw = unresolved(c)
    raw.pop("kinetics", None)
    raw = deep_merge(raw, {"kinetics": kinetics})
    try:
        resolve(raw, problem.cfg.file)
    except InputError as e:
        return f"at the fitted values the simulation's step fails the accuracy check: {e}"
    return None
