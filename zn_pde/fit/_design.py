"""Which measurement next: candidate measurements ranked by D-optimality from a fit.

With J = ∂r/∂ln p of the fit's rows at the fitted point (forward mode through the simulator,
as the fit computes it; r the residuals, already divided by each row's `sd` when the table
gives one) and s² the fit's residual variance (SSR/(n − k); 1 with `sd`), the Fisher
information of the ln-parameters is

    F = JᵀJ / s² + P,     P = diag(12 / (ln upper − ln lower)²).

P is the information of a uniform prior over the fit's log box (variance (width)²/12): it is
negligible where the data constrain a parameter and keeps F invertible where they do not (a
structurally non-identifiable direction, e.g. the proton order from data at one pH), so every
candidate gets a finite score; the report says when F without P is singular. A candidate
measurement c (one more row: its time, pH, dose, exposure, stimulus) has the row Jacobian
j_c = ∂ŷ_c/∂ln p / sd_c, computed through the same observable and simulator as the fit's
rows, with sd_c the sd of the new measurement (`[design] sd_percent`, else the fit's noise:
s, or the median `sd` of the table). Adding it gives F_c = F + j_cᵀ j_c, and

    gain_c = ln det F_c − ln det F = ln(1 + j_c F⁻¹ j_cᵀ)            (matrix determinant lemma)
    shrink_c,i = √((F⁻¹)_ii / (F_c⁻¹)_ii),
    F_c⁻¹ = F⁻¹ − F⁻¹ j_cᵀ j_c F⁻¹ / (1 + j_c F⁻¹ j_cᵀ)                (Sherman-Morrison)

the D-optimality criterion for one added observation (Atkinson, Donev & Tobias 2007, Optimum
Experimental Designs, with SAS, Oxford University Press) and the factor by which the
parameter's standard error (so its local confidence interval) would narrow. A candidate
*identifies* a parameter when it would narrow its interval at least `IDENTIFY_SHRINK`-fold.
These are predictions of the local (linearised) analysis at the fitted point; the refit with
the new measurement decides (tests/test_design.py checks the ranking by refitting). Where the
data leave a parameter free its fitted value is arbitrary, so `[design] at` lists values of
it: the gain is then averaged over those points (Bayesian D-optimality with equal weights,
Chaloner & Verdinelli 1995, Statistical Science 10:273, doi:10.1214/ss/1177009939), and the
shrink factors and standard errors are geometric means over them.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import InputError, RunError, check_flags, output_folder, write_text_atomic
from .._version import __version__
from ..observables._base import STIMULUS_COLUMNS
from ..observables._data import OBSERVED
from ._config import FitConfig, check_fit_config
from ._design_config import DesignSettings, design_settings
from ._optimise import forward_mode_options
from ._problem import Problem, build_problem
from ._uncertainty import NULL_RTOL

IDENTIFY_SHRINK = 2.0  # a candidate "identifies" a parameter it would narrow 2-fold or more

LABELS = {"time_h": "time (h)", "pH": "pH (1)", "dose_ug_per_ml": "dose (ug/mL)",
          "concentration_ug_per_ml": "concentration (ug/mL)", "exposure_h": "exposure (h)",
          "ultrasound_W_per_cm2": "ultrasound (W/cm^2)", "light_mW_per_cm2": "light (mW/cm^2)"}


def box_prior(free) -> np.ndarray:
    """Precision (1/variance) of a uniform prior over each parameter's log box."""
    return 12.0 / (free.ln_upper - free.ln_lower) ** 2


def d_optimal_gain(fisher: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each candidate row j (m, p): ln det(F + jᵀj) − ln det F (m,) and the predicted
    shrink √((F⁻¹)_ii / ((F + jᵀj)⁻¹)_ii) of every parameter (m, p). F must be positive
    definite."""
    f_inv = np.linalg.inv(fisher)
    f_inv = 0.5 * (f_inv + f_inv.T)
    u = rows @ f_inv  # (m, p): F⁻¹ jᵀ of each row
    q = np.einsum("mp,mp->m", u, rows)
    gain = np.log1p(q)
    after = np.diag(f_inv)[None, :] - u * u / (1.0 + q)[:, None]
    shrink = np.sqrt(np.diag(f_inv)[None, :] / after)
    return gain, shrink


@dataclasses.dataclass
class DesignResult:
    report: dict[str, Any]
    files: dict[str, Path]


def _changed_row(rows: Any, table) -> str | None:
    """The first data cell where the checkpoint's rows (as `zn-pde fit` read them) and the
    table now differ, said for people; None where they agree (or the checkpoint keeps no
    rows). The same number of rows from another table, or the table edited since the fit,
    would otherwise give a design at a point fitted to other data."""
    if not isinstance(rows, list):
        return None
    for i, row in enumerate(rows):
        cols = row.get("columns") if isinstance(row, dict) else None
        if not isinstance(cols, dict):
            return None
        for h in table.header:
            now = table.text[h][i]
            if cols.get(h) != now:
                return (f"line {table.lines[i]}, column {h}: {cols.get(h)!r} in the checkpoint, "
                        f"{now!r} in the table now")
    return None


def _first_difference(then: Any, now: Any, key: str) -> str | None:
    """The first dotted key where two JSON-like values differ, or None."""
    if isinstance(then, dict) and isinstance(now, dict):
        for k in sorted(set(then) | set(now)):
            if k.startswith("_"):  # `_derived`: what the others imply, not a setting
                continue
            if k not in then or k not in now:
                return f"{key}.{k}" if key else k
            found = _first_difference(then[k], now[k], f"{key}.{k}" if key else k)
            if found:
                return found
        return None
    return None if then == now else key


def _changed_model(model_config: Any, problem: Problem) -> str | None:
    """The first setting of the simulated experiment (a held kinetic constant, the medium, the
    step, ...) where the checkpoint's fit and this config differ, said for people; None where
    they agree (or the checkpoint keeps no `model_config`). The free parameters' values are
    the fit's result, not a setting, and are not compared. The same data fitted with another
    held constant or medium would otherwise give a design at a point that is not this
    config's optimum."""
    if not isinstance(model_config, dict):
        return None
    from ._report import _jsonable

    now = json.loads(json.dumps(_jsonable(dict(problem.prediction.configs[0]))))
    then = _with_later_defaults(dict(model_config), now)
    for c in (now, then):
        if isinstance(c.get("kinetics"), dict):
            c["kinetics"] = {k: v for k, v in c["kinetics"].items()
                             if k not in problem.free.names}
    key = _first_difference(then, now, "")
    if key is None:
        return None

    def at(c: Any) -> Any:
        for part in key.split("."):
            if not isinstance(c, dict) or part not in c:
                return "(not set)"
            c = c[part]
        return c

    return f"{key}: {at(then)!r} in the checkpoint, {at(now)!r} in this config"


def _with_later_defaults(then: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint's config `then` with each key it lacks that `now` holds at the schema's
    default added at that default: a key added to zn-pde after the fit was written (e.g.
    `numerics.transport_solve`, 2026-12-07) defaults to the behaviour the fit had, so a
    checkpoint is not refused for a key it could not know. The same for a kinetic constant
    at its material's default (`kinetics.energy_kill_frailty_variance`, 2026-12-08: 0, the
    model before it). A key it lacks that `now` sets otherwise stays a difference."""
    from ..config import SECTIONS
    from ..materials import get_material

    out = dict(then)
    for section, keys in SECTIONS.items():
        if not isinstance(now.get(section), dict) or not isinstance(out.get(section), dict):
            continue
        for name, spec in keys.items():
            if (name in now[section] and name not in out[section]
                    and now[section][name] == spec.default):
                out[section] = {**out[section], name: spec.default}
    kind = now.get("material", {}).get("kind") if isinstance(now.get("material"), dict) else None
    if kind and isinstance(now.get("kinetics"), dict) and isinstance(out.get("kinetics"), dict):
        defaults = {p.name: p.value for p in get_material(kind).parameters}
        for name, value in now["kinetics"].items():
            if name not in out["kinetics"] and name in defaults and value == defaults[name]:
                out["kinetics"] = {**out["kinetics"], name: value}
    return out


def _fitted_point(cfg: FitConfig, problem: Problem, checkpoint: Path, refit: bool,
                  quiet: bool) -> tuple[np.ndarray, str]:
    free = problem.free
    if checkpoint.is_file() and not refit:
        try:
            report = json.loads(checkpoint.read_text())
            params = report["parameters"]
            names = tuple(n for n, p in params.items() if not p.get("fixed"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise InputError(f"cannot read the fitted parameters from the checkpoint ({e!r}); "
                             "rerun zn-pde fit, or pass --refit", file=str(checkpoint),
                             key="--checkpoint") from None
        if (report.get("observable") != cfg.observable.name or names != free.names
                or report.get("data", {}).get("rows") != len(problem.table)):
            raise InputError(
                f"the checkpoint was not made by this fit config (observable "
                f"{report.get('observable')!r}, free {', '.join(names)}, "
                f"{report.get('data', {}).get('rows')} rows; this config: "
                f"{cfg.observable.name!r}, free {', '.join(free.names)}, {len(problem.table)} "
                "rows); rerun zn-pde fit, or pass --refit", file=str(checkpoint),
                key="--checkpoint")
        changed = _changed_row(report.get("rows"), problem.table)
        if changed:
            raise InputError(f"the checkpoint was fitted to other data ({changed}); rerun "
                             "zn-pde fit, or pass --refit", file=str(checkpoint),
                             key="--checkpoint")
        try:
            values = [float(params[n]["value"]) for n in free.names]
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"cannot read the fitted value {e!r} from the checkpoint; rerun "
                             "zn-pde fit, or pass --refit", file=str(checkpoint),
                             key="--checkpoint") from None
        model = _changed_model(report.get("model_config"), problem)
        if model:
            raise InputError(f"the checkpoint was fitted with another experiment ({model}); "
                             "rerun zn-pde fit, or pass --refit", file=str(checkpoint),
                             key="--checkpoint")
        for k, (n, v) in enumerate(zip(free.names, values, strict=True)):
            # a value on a bound comes back through exp(ln p): allow its rounding
            inside = (math.isfinite(v) and (free.lower[k] <= v or math.isclose(v, free.lower[k]))
                      and (v <= free.upper[k] or math.isclose(v, free.upper[k])))
            if not inside:
                raise InputError(
                    f"the checkpoint's {n} = {v:g} lies outside this config's box "
                    f"[{free.lower[k]:g}, {free.upper[k]:g}] (fit.parameters.{n}); rerun "
                    "zn-pde fit, or pass --refit", file=str(checkpoint), key="--checkpoint")
        return np.log(np.asarray(values, float)), f"checkpoint {checkpoint}"
    from ._fit import fit

    why = "--refit" if refit else f"no checkpoint at {checkpoint}"
    print(f"zn-pde design: {why}: refitting {cfg.name} (not written; zn-pde fit writes "
          "the checkpoint)", file=sys.stderr)
    result = fit(cfg, None, quiet=quiet, figure=False)
    return np.asarray(result.x, float), f"refit ({why})"


def _rows_and_jacobian(prediction):
    """x -> (predicted rows, ∂ŷ/∂ln p) by forward mode (one JVP per free parameter)."""

    @functools.partial(jax.jit, compiler_options=forward_mode_options())
    def both(z):
        basis = jnp.eye(z.shape[-1], dtype=z.dtype)
        y, dy = jax.vmap(lambda b: jax.jvp(prediction, (z,), (b,)), out_axes=(None, 0))(basis)
        return y, dy.T

    def at(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, dy = both(jnp.asarray(x, prediction.dtype))
        return np.asarray(y, float), np.asarray(dy, float)

    return at


def _candidate_error(e: InputError, cfg: FitConfig, settings: DesignSettings) -> InputError:
    """An exposure template whose amplitude the data's stimulus column sets, met by
    candidates without that column: it was refused naming the template's key bare
    ('ultrasound[0].intensity_W_per_cm2', in no file); name the candidates instead."""
    for section, (column, key) in STIMULUS_COLUMNS.items():
        if (e.missing and e.key and e.key.startswith(f"{section}[")
                and e.key.endswith(f".{key}") and column not in settings.columns):
            return InputError(
                f"the candidates set no {column}, and the fit's [[fit.simulation.{section}]] "
                f"exposure has no {key} of its own (each data row's {column} sets it): add "
                f"{column} = [...] to design.candidates (0 for a measurement without it)",
                file=cfg.file, key="design.candidates")
    return e


#: protocol columns a candidate takes from the data when it lists none and the data hold one
#: value (a candidate without them would be simulated without that wash or exposure time)
_PROTOCOL = ("wash_h", "stimulus_h")


def candidate_table(cfg: FitConfig, settings: DesignSettings, data=None):
    """The candidates as a table the observable predicts; a protocol column (`_PROTOCOL`)
    of the `data` table that the candidates do not list is inherited where every data row
    holds one value, and must be listed where they hold several."""
    from ._report import synthetic_table

    grid = np.asarray(settings.grid(), float)
    cols = {c: grid[:, k] for k, c in enumerate(settings.columns)}
    for c in _PROTOCOL:
        if data is None or c not in data.numbers or c in cols:
            continue
        values = np.unique(np.asarray(data.numbers[c], float))
        if values.size != 1:
            raise InputError(
                f"the data's rows follow several {c} ({', '.join(f'{v:g}' for v in values)} "
                f"h) and the candidates list none: add {c} = [...] to design.candidates (a "
                "candidate without it would be simulated without that protocol)",
                file=cfg.file, key="design.candidates")
        cols[c] = np.full(len(grid), float(values[0]))
    cols[OBSERVED[cfg.observable.table_kind]] = np.zeros(len(grid))
    return synthetic_table(cfg.observable.table_kind, cols), grid


def design(cfg: FitConfig, outdir: str | Path = "checkpoints", *,
           checkpoint: str | Path | None = None, refit: bool = False, quiet: bool = True,
           command: str | None = None, figure: bool = True,
           at: dict[str, float] | None = None) -> DesignResult:
    """Rank `[design] candidates` by D-optimality at the fitted point (module docstring);
    with `outdir`, write `<name>_design.json`, `.csv` and `.png` there. `at` moves free
    parameters from their fitted value (a local design is only as good as the point it is
    made at: check a parameter the data do not bound at other values of its interval);
    `[design] at` averages over several values instead."""
    check_fit_config(cfg, "design")
    check_flags("design", cfg.file, refit=refit, quiet=quiet, figure=figure)
    if "design" not in cfg.raw:
        raise InputError("the fit config has no [design] section; add one naming the "
                         "candidate measurements, e.g. [design] candidates = { time_h = [1, "
                         "24], pH = [5.5, 7.4] } (docs/fitting.md)", file=cfg.file,
                         key="design")
    settings = design_settings(cfg.raw["design"], cfg.observable.table_kind, cfg.file,
                               cfg.exposure_h)
    # checked before any work, created once the inputs are accepted
    out = output_folder(outdir, create=False) if outdir is not None else None
    problem = build_problem(cfg)
    # the candidates (a protocol they must list is refused here, before any fit)
    table, grid = candidate_table(cfg, settings, problem.table)
    free = problem.free
    for nm, v in (at or {}).items():  # checked before anything is computed
        if nm not in free.names:
            raise InputError(f"{nm!r} is not a free parameter of this fit; free: "
                             f"{', '.join(free.names)}", key="--at")
        k = free.names.index(nm)
        if not (math.isfinite(v) and free.lower[k] <= v <= free.upper[k]):
            raise InputError(f"{nm} = {v!r} is outside the fit's box [{free.lower[k]:g}, "
                             f"{free.upper[k]:g}]", key="--at")
    for nm, vs in settings.at:
        if nm not in free.names:
            raise InputError(f"{nm!r} is not a free parameter of this fit; free: "
                             f"{', '.join(free.names)}", file=cfg.file, key=f"design.at.{nm}")
        k = free.names.index(nm)
        for v in vs:
            if not free.lower[k] <= v <= free.upper[k]:
                raise InputError(f"value {v:g} is outside the fit's box [{free.lower[k]:g}, "
                                 f"{free.upper[k]:g}]", file=cfg.file, key=f"design.at.{nm}")
    if checkpoint is not None and not refit and not Path(checkpoint).is_file():
        # a checkpoint named explicitly must exist (the default one may not: then it refits)
        raise InputError("no such checkpoint; allowed: the JSON of `zn-pde fit` on this "
                         "fit config, or --refit to fit again", file=str(checkpoint),
                         key="--checkpoint")
    ck = Path(checkpoint) if checkpoint is not None else (
        (out if out is not None else Path("checkpoints")) / f"{cfg.name}.json")
    x, source = _fitted_point(cfg, problem, ck, refit, quiet)
    rows_at = _rows_and_jacobian(problem.prediction)
    # the fit's noise: its residuals at the fitted point
    y0, dy0 = rows_at(x)
    r = problem.residuals_from(y0)
    x_fit, x = x, x.copy()
    for nm, v in (at or {}).items():
        k = free.names.index(nm)
        x[k] = math.log(v)
        source += f"; {nm} set to {v:g} (--at)"
    points = [x]
    if settings.at:
        names = [nm for nm, _ in settings.at]
        points = []
        for combo in itertools.product(*(v for _, v in settings.at)):
            xp = x.copy()
            for nm, v in zip(names, combo, strict=True):
                xp[free.names.index(nm)] = math.log(v)
            points.append(xp)
        source += "; criterion averaged over " + ", ".join(
            f"{nm} in {list(v)}" for nm, v in settings.at)
    point = problem.kind == 0
    # the rows the model predicts whatever the parameters (a control) hold no noise
    n = problem.n_points - problem.pinned(r, problem.jacobian_from(y0, dy0))
    p = len(free.names)
    ssr = float(np.sum(r * r))
    if problem.weighted:
        s2 = 1.0
        noise = "the table's sd (residuals weighted by 1/sd)"
        sd_default = float(np.median(problem.sd[point]))
        sd_note = "median sd of the table's value rows"
    elif n > p and ssr > 0:
        s2 = ssr / (n - p)
        noise = f"residual scale s = sqrt(SSR/(n - k)) = {math.sqrt(s2):.4g} % (n = {n}, k = {p})"
        sd_default = math.sqrt(s2)
        sd_note = "the fit's residual scale s"
    else:
        if settings.sd_percent is None:
            raise InputError(f"the fit has no residual degree of freedom ({n} values, {p} free "
                             "parameters), so its noise is unknown; give the sd of a new "
                             "measurement as [design] sd_percent", file=cfg.file,
                             key="design.sd_percent")
        s2 = settings.sd_percent ** 2
        noise = "no residual degree of freedom: the existing rows weighted by design.sd_percent"
        sd_default, sd_note = settings.sd_percent, "design.sd_percent"
    sd_new = settings.sd_percent if settings.sd_percent is not None else sd_default
    if settings.sd_percent is not None:
        sd_note = "design.sd_percent"
    prior = box_prior(free)
    # the candidates: extra rows through the same observable, simulator and parameters
    try:
        pred = cfg.observable.prediction(table, free.names, material=cfg.material,
                                         simulation=problem.simulation,
                                         settings=cfg.row_settings, file=cfg.file)
    except InputError as e:
        raise _candidate_error(e, cfg, settings) from None
    cand_at = _rows_and_jacobian(pred)
    yc, dyc = cand_at(x)
    gains, log_shrinks, log_se, per_point = [], [], [], []
    for xp in points:
        # the fit's rows: Jacobian exactly as the fit's uncertainty analysis computes it
        same = np.array_equal(xp, x_fit)
        yhat, dyhat = (y0, dy0) if same else rows_at(xp)
        jac = problem.jacobian_from(yhat, dyhat)
        dyp = dyc if np.array_equal(xp, x) else cand_at(xp)[1]
        if not (np.all(np.isfinite(dyp)) and np.all(np.isfinite(jac))):
            raise RunError(f"{cfg.file}: the simulator's derivative at the design point is "
                           "not finite for some rows or candidates (design.candidates); "
                           "nothing was written")
        data_info = jac.T @ jac / s2
        fisher = data_info + np.diag(prior)
        w = np.linalg.eigvalsh(data_info)
        singular = bool(w.min() <= NULL_RTOL * max(w.max(), 0.0)) if w.max() > 0 else True
        g, sh = d_optimal_gain(fisher, dyp / sd_new)
        se = np.sqrt(np.diag(np.linalg.inv(fisher)))
        gains.append(g)
        log_shrinks.append(np.log(sh))
        log_se.append(np.log(se))
        per_point.append({
            "values": {nm: float(math.exp(xp[k])) for k, nm in enumerate(free.names)},
            "fisher_without_prior_singular": singular,
            "eigenvalues_fisher_without_prior": w.tolist(),
            "se_ln_before": {nm: float(se[k]) for k, nm in enumerate(free.names)},
            "se_ln_data_only": {nm: (float(math.sqrt(s2 * np.linalg.inv(jac.T @ jac)[k, k]))
                                     if not singular else None)
                                for k, nm in enumerate(free.names)}})
    # Bayesian D-optimality over the points (equal weights): the mean gain; shrink factors
    # and standard errors as geometric means
    gain = np.mean(gains, axis=0)
    shrink = np.exp(np.mean(log_shrinks, axis=0))
    se_before = np.exp(np.mean(log_se, axis=0))
    singular = any(q["fisher_without_prior_singular"] for q in per_point)
    order = np.argsort(-gain, kind="stable")
    observed = OBSERVED[cfg.observable.table_kind]
    candidates = []
    for rank, i in enumerate(order, 1):
        identifies = [nm for k, nm in enumerate(free.names) if shrink[i, k] >= IDENTIFY_SHRINK]
        candidates.append({
            "rank": rank,
            "conditions": {c: float(grid[i, k]) for k, c in enumerate(settings.columns)},
            f"predicted_{observed}": float(yc[i]),
            "logdet_gain_nat": float(gain[i]),
            "ci_shrink_factor": {nm: float(shrink[i, k]) for k, nm in enumerate(free.names)},
            "se_ln_after": {nm: float(se_before[k] / shrink[i, k])
                            for k, nm in enumerate(free.names)},
            "identifies": identifies,
            **({"logdet_gain_nat_per_point": [float(g[i]) for g in gains]}
               if len(points) > 1 else {})})
    report: dict[str, Any] = {
        "name": cfg.name,
        "observable": cfg.observable.name,
        "material": cfg.material,
        "zn_pde_version": __version__,
        "command": command or f"zn_pde.fit.design(load_fit_config({cfg.file!r}))",
        "fitted_point_from": source,
        "criterion": "D-optimality: logdet_gain = ln det(F + j^T j) - ln det F for one added "
                     "measurement, F = J^T J / s^2 + P of the ln-parameters (docs/fitting.md)",
        "noise": {"existing_rows": noise, "sd_new_measurement_percent": sd_new,
                  "sd_new_from": sd_note},
        "regularisation": {
            "kind": "uniform prior over the fit's log box: precision 12 / (ln upper - ln "
                    "lower)^2 per parameter",
            "precision_ln": {nm: float(prior[k]) for k, nm in enumerate(free.names)},
            "fisher_without_prior_singular": singular,
            "note": ("F of the data alone is singular (a direction the data do not constrain), "
                     "so the prior sets the scale of the gains along it; the ranking is what "
                     "to read" if singular else "negligible where the data constrain every "
                     "parameter")},
        "identify_shrink": IDENTIFY_SHRINK,
        "parameters": {nm: {"value": float(math.exp(x[k])), "units": free.units[k],
                            "se_ln_before": float(se_before[k])}
                       for k, nm in enumerate(free.names)},
        "design_points": per_point,
        "averaged": ("over the design points: logdet_gain_nat is the mean, ci_shrink_factor "
                     "and se_ln the geometric means" if len(points) > 1 else None),
        "grid": {c: list(v) for c, v in zip(settings.columns, settings.values, strict=True)},
        "n_best": settings.n_best,
        "candidates": candidates,
        "best": candidates[0],
    }
    files: dict[str, Path] = {}
    if out is not None:
        output_folder(out)
        # the JSON last, whole (a temporary file renamed): it marks a finished design (a
        # rerun without --overwrite stops at it), so an interrupt while the figure or the
        # table is written leaves no JSON and the command can simply be run again
        files = {"json": out / f"{cfg.name}_design.json", "csv": out / f"{cfg.name}_design.csv"}
        if figure:
            files["figure"] = out / f"{cfg.name}_design.png"
            tmp = files["figure"].with_suffix(".png.tmp")
            plot_design(report, settings, grid, gain, shrink, free.names, tmp)
            os.replace(tmp, files["figure"])
        write_csv(report, settings, free.names, observed, files["csv"])
        write_text_atomic(files["json"], json.dumps(report, indent=1) + "\n")
    return DesignResult(report, files)


def write_csv(report: dict[str, Any], settings: DesignSettings, names, observed: str,
              path: Path) -> None:
    head = (["rank", *settings.columns, f"predicted_{observed}", "logdet_gain_nat"]
            + [f"ci_shrink_factor_{n}" for n in names] + ["identifies"])
    lines = [",".join(head)]
    for c in report["candidates"]:
        row = [str(c["rank"]), *(f"{c['conditions'][k]:g}" for k in settings.columns),
               f"{c[f'predicted_{observed}']:.6g}", f"{c['logdet_gain_nat']:.6g}",
               *(f"{c['ci_shrink_factor'][n]:.6g}" for n in names), " ".join(c["identifies"])]
        lines.append(",".join(row))
    path.write_text("\n".join(lines) + "\n")


def plot_design(report: dict[str, Any], settings: DesignSettings, grid: np.ndarray,
                gain: np.ndarray, shrink: np.ndarray, names, path: Path) -> None:
    """The D-optimality gain (and each parameter's shrink) over the two grid columns with the
    most values (a line for a one-column grid; further columns: the best over them)."""
    from matplotlib import patheffects
    from matplotlib.figure import Figure  # rendered by Agg: the caller's backend is kept

    varying = sorted([k for k, v in enumerate(settings.values) if len(v) > 1],
                     key=lambda k: -len(settings.values[k]))
    axes_cols = varying[:2] if varying else [0]
    others = [settings.columns[k] for k in varying[2:]]
    panels = [("D-optimality gain ln det F_c - ln det F (1)", gain)]
    panels += [(f"CI shrink factor of {n} (fold)", shrink[:, k]) for k, n in enumerate(names)]
    fig = Figure(figsize=(4.6 * len(panels), 3.9))
    axs = fig.subplots(1, len(panels), squeeze=False)
    best = report["best"]["conditions"]
    for ax, (title, values) in zip(axs[0], panels, strict=True):
        if len(axes_cols) == 2:
            a, b = axes_cols
            xs, ys = settings.values[a], settings.values[b]
            img = np.full((len(ys), len(xs)), -np.inf)
            for i in range(len(grid)):
                ix, iy = xs.index(grid[i, a]), ys.index(grid[i, b])
                img[iy, ix] = max(img[iy, ix], values[i])
            finite = img[np.isfinite(img)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            # a criterion flat to round-off is drawn in one colour (a colour scale over
            # 1e-7 would show the round-off as data)
            flat = hi - lo <= 1e-6 * max(abs(hi), abs(lo), 1e-12)
            if flat:
                title += f"\n(the same everywhere: {hi:.4g})"
                lo, hi = lo - 0.5 * max(abs(lo), 1.0), hi + 0.5 * max(abs(hi), 1.0)
            m = ax.imshow(img, origin="lower", aspect="auto", cmap="viridis", vmin=lo,
                          vmax=hi)
            ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs])
            ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
            for iy in range(len(ys)):
                for ix in range(len(xs)):
                    v = img[iy, ix]
                    ax.text(ix, iy, f"{v:.3g}" if abs(v) >= 1e-3 else "< 0.001",
                            ha="center", va="center", fontsize=7, color="w",
                            path_effects=[patheffects.withStroke(linewidth=1.5,
                                                                 foreground="k")])
            ax.scatter([xs.index(best[settings.columns[a]])],
                       [ys.index(best[settings.columns[b]])], marker="*", s=260,
                       facecolor="none", edgecolor="r", linewidth=1.6)
            ax.set_xlabel(LABELS[settings.columns[a]])
            ax.set_ylabel(LABELS[settings.columns[b]])
            if not flat:
                fig.colorbar(m, ax=ax, shrink=0.85)
        else:
            a = axes_cols[0]
            xs = np.asarray(settings.values[a])
            ys = [max(values[i] for i in range(len(grid)) if grid[i, a] == v) for v in xs]
            ax.plot(xs, ys, "o-", color="k")
            ax.plot([best[settings.columns[a]]], [max(ys) if title.startswith("D") else
                                                  ys[list(xs).index(best[settings.columns[a]])]],
                    "r*", ms=14)
            ax.set_xlabel(LABELS[settings.columns[a]])
            ax.set_ylabel(title)
            ax.grid(alpha=0.3)
        ax.set_title(title, fontsize=9)
    where = ", ".join(f"{k} = {v:g}" for k, v in best.items())
    extra = f"; best over {', '.join(others)} shown" if others else ""
    if report.get("averaged"):
        extra += (f"\ngains averaged over {len(report['design_points'])} parameter points "
                  f"({report['fitted_point_from'].split('criterion averaged over ')[-1]}); "
                  "shrink: geometric mean")
    fig.suptitle(f"{report['name']}: next measurement by D-optimality (red star, rank 1: "
                 f"{where}){extra}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")


def summary(report: dict[str, Any]) -> str:
    p = report["parameters"]
    lines = [f"design {report['name']} ({report['observable']}): "
             f"{len(report['candidates'])} candidates ranked by D-optimality at the fitted "
             f"point ({report['fitted_point_from']}); sd of a new measurement "
             f"{report['noise']['sd_new_measurement_percent']:.3g} % "
             f"({report['noise']['sd_new_from']})"]
    if report["regularisation"]["fisher_without_prior_singular"]:
        lines.append("  note: the fit's Fisher information is singular (the data leave a "
                     "direction free); regularised by the box prior (docs/fitting.md)")
    if report.get("averaged"):
        lines.append(f"  averaged over {len(report['design_points'])} design points: mean "
                     "gain, geometric-mean CI shrink and se")
    lines.append("  now: " + ", ".join(f"{n} = {v['value']:.4g} {v['units']} (se of ln "
                                       f"{v['se_ln_before']:.3g})" for n, v in p.items()))
    for c in report["candidates"][:report["n_best"]]:
        where = ", ".join(f"{k} = {v:g}" for k, v in c["conditions"].items())
        shr = ", ".join(f"{n} x{s:.3g}" for n, s in c["ci_shrink_factor"].items())
        ident = ", ".join(c["identifies"]) or "none"
        lines.append(f"  {c['rank']}. {where}: gain {c['logdet_gain_nat']:.3g}; CI shrink {shr}; "
                     f"identifies {ident}")
    return "\n".join(lines)
