"""Fitting kinetic constants to reported data: `zn-pde fit FIT.toml [-o DIR] [--set ...]`.

Data flow: fit config (`load_fit_config`) -> data table (`zn_pde.observables.load_table`) ->
observable predictions through the simulator -> multi-start optimum in a log box (optax Adam,
optional optax L-BFGS, Levenberg-Marquardt) -> Gauss-Newton / profile-likelihood CIs,
metrics, empirical models -> `<name>.json`, `<name>.eqx`, `<name>.png`. See docs/fitting.md.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from pathlib import Path

from .._errors import output_folder, sigterm_as_interrupt
from ._config import FitConfig as FitConfig
from ._config import fit_config_from_dict as fit_config_from_dict
from ._config import load_fit_config as load_fit_config
from ._design import DesignResult as DesignResult
from ._design import design as design
from ._fit import FitResult as FitResult
from ._fit import fit as fit
from ._fit import resume_path as resume_path
from ._problem import Problem as Problem
from ._problem import build_problem as build_problem
from ._report import derived_text
from ._report import load_fitted_model as load_fitted_model
from ._uncertainty import interval_text


def _chi2_text(u: dict) -> str:
    """', chi2/dof = …' for a fit weighted by the table's sd (its intervals rest on it)."""
    c = u.get("chi2_per_dof")
    return f", chi2/dof = {c:.3g} (dof {u['dof']})" if u.get("weighted") and c is not None else ""


def _summary(result: FitResult) -> str:
    r = result.report
    m = r["metrics"]
    done = "evaluated (every parameter fixed)" if r.get("evaluation_only") else "fitted"
    lines = [f"{done} {r['name']} ({r['observable']}): r2 = "
             + (f"{m['r2']:.4f}" if m["r2"] is not None else "n/a")
             + f", RMSE = {m['rmse']:.4g}, n = {m['n']}, AIC = "
             + (f"{m['aic']:.4g}" if m["aic"] is not None else "n/a")
             + _chi2_text(r.get("uncertainty", {}))]
    if m.get("note"):
        lines.append(f"  note: {m['note']}")
    for name, p in r["parameters"].items():
        if p.get("fixed"):
            lines.append(f"  {name} = {p['value']:.4g} {p['units']} (fixed)")
            continue
        lines.append(f"  {name} = {p['value']:.4g} {p['units']}  {interval_text(p)}")
        if "default_initial" in p:  # as `zn-pde plan` notes a scenario value it moved
            side = "lower" if p["initial"] > p["default_initial"] else "upper"
            lines.append(f"    note: the default start of {name}, the simulation's own value "
                         f"{p['default_initial']:g}, is outside the bounds: the fit started "
                         f"from its {side} bound, {p['initial']:g}")
    derived = derived_text(r["derived"]) if r.get("derived") else None
    if derived:
        lines.append(derived)
    for k, v in r["empirical"].items():
        t = v["total"]
        r2 = f"{t['r2']:.4f}" if t["r2"] is not None else "n/a"
        aic = f"{t['aic']:.4g}" if t["aic"] is not None else "n/a"
        lines.append(f"  empirical {k}: r2 = {r2}, k = {t['k']}, AIC = {aic}"
                     + _extrapolated_text(v["curves"]))
    line = carry_line(r)
    if line:
        lines.append(line)
    return "\n".join(lines)


def _extrapolated_text(curves: list[dict]) -> str:
    """'; IC50 EXTRAPOLATED beyond the measured doses in 2 of 5 curves (…)' for an empirical
    model whose located parameters (IC50, τ) lie outside their curves' measured x."""
    flagged: dict[str, list[str]] = {}
    for c in curves:
        for name, p in c["parameters"].items():
            if p.get("extrapolated"):
                flagged.setdefault(name, []).append(str(c["curve"]))
    return "".join(f"; {name} EXTRAPOLATED beyond the measured range in {len(which)} of "
                   f"{len(curves)} curves ({', '.join(which[:4])}"
                   f"{', ...' if len(which) > 4 else ''})" for name, which in flagged.items())


def carry_line(report: dict) -> str | None:
    """How to carry a fit into a simulation: the fitted constants as `[kinetics]` keys. The
    JSON's `kinetics` holds every constant of the fit's model, its material's chemistry and
    the transport constants derived from its [tissue] and particle size included: pasted
    whole into another material's config it keeps this one's chemistry, and it pins the
    derived values against later changes of tortuosity or particle size."""
    if report.get("evaluation_only"):
        return None
    free = [(n, p["value"]) for n, p in report["parameters"].items() if not p.get("fixed")]
    if not free:
        return None
    # a constant held by `fixed = true` at an `initial` of the fit config's own is part of
    # the fitted model too: without it the fitted values describe another model
    held = [(n, p["value"]) for n, p in report["parameters"].items()
            if p.get("fixed") and p.get("initial") is not None]
    keys = ", ".join(f"{n} = {v:.6g}" for n, v in free + held)
    return (f"  to simulate with the fitted values, add to a config's [kinetics]: {keys} (and "
            "any constant the fit held at a value of its own in [fit.simulation.kinetics]); "
            f"the JSON's \"kinetics\" lists every constant of this {report['material']} "
            "model, which pasted whole also fixes its material's chemistry and the transport "
            "constants derived from [tissue] and the particle size")


def _persistent_compilation_cache() -> None:
    """Keep compiled programs between `zn-pde fit` runs (JAX's persistent cache) in
    $ZN_PDE_CACHE_DIR, default ~/.cache/zn-pde/jax; ZN_PDE_CACHE_DIR="" turns it off."""
    import os

    import jax

    path = os.environ.get("ZN_PDE_CACHE_DIR")
    if path is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                 ".cache")
        path = os.path.join(base, "zn-pde", "jax")
    if path and jax.config.jax_compilation_cache_dir is None:
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def check_output_free(outdir: str | Path, name: str, overwrite: bool) -> None:
    """`zn-pde fit` replaces an existing `<name>.json` only with --overwrite (like `run`)."""
    from .._errors import InputError

    path = output_folder(outdir, create=False) / f"{name}.json"
    if path.exists() and not overwrite:
        raise InputError("fit output exists (with its .eqx and .png beside it); pass "
                         "--overwrite to replace it, or write elsewhere with -o DIR or "
                         "--set fit.name=NAME", file=str(path))


def run_fit_cli(args) -> int:
    """`zn-pde fit`: args.config, args.outdir, args.overwrite, args.resume, args.quiet,
    args.overrides."""
    cfg = load_fit_config(args.config, args.overrides)
    overwrite = bool(getattr(args, "overwrite", False))
    check_output_free(args.outdir, cfg.name, overwrite)
    _persistent_compilation_cache()
    command = "zn-pde fit " + shlex.join(
        [str(args.config)] + (["-o", str(args.outdir)] if args.outdir else [])
        + [f"--set={o}" for o in args.overrides])
    try:
        with sigterm_as_interrupt():
            result = fit(cfg, args.outdir, resume=args.resume, quiet=args.quiet,
                         command=command)
    except KeyboardInterrupt:
        rp = resume_path(Path(args.outdir), cfg.name)
        if not rp.exists():  # interrupted before its first saved state (screening)
            print("zn-pde fit: interrupted before the optimiser saved a state; nothing to "
                  f"resume: run it again with: {command}"
                  + (" --overwrite" if overwrite else ""), file=sys.stderr)
            return 1
        again = command + " --resume" + (" --overwrite" if overwrite else "")
        print(f"zn-pde fit: interrupted; the optimiser state after the last completed chunk "
              f"is in {rp}; continue with: {again}", file=sys.stderr)
        return 1
    print(_summary(result))
    n_all = len(result.report.get("warnings") or [])
    n_opt = len(result.report["optimisation"].get("warnings") or [])
    for n, what in ((n_all - n_opt, "the data"),
                    (n_opt, "the optimisation (the values reported may not be the optimum)")):
        if n:
            print(f"  {n} warning{'s' if n > 1 else ''} about {what}: see above (stderr) and "
                  "\"warnings\" in the JSON")
    print("wrote " + ", ".join(str(p) for p in result.files.values()))
    return 0


def validate_fit_text(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> str:
    """`zn-pde validate FIT.toml`: every check `zn-pde fit` makes before it fits (config, data
    table, free set and box, each row's experiment resolved as `zn-pde run` would) and its data
    warnings, without fitting; the fit config resolved (defaults included) as TOML, the first
    experiment's resolved simulation config as comments."""
    import textwrap

    from ..config import dumps
    from ..config._toml import _value
    from ._checks import data_warnings

    cfg = load_fit_config(path, overrides)
    problem = build_problem(cfg, evaluate=True)
    free, table = problem.free, problem.table
    warnings, _ = data_warnings(problem)
    n_bounds = len(table) - problem.n_points
    head = [f"{cfg.observable.name}: {len(table)} rows of {table.path}, "
            f"{problem.n_points} values" + (f" and {n_bounds} bounds" if n_bounds else "")
            + f", {problem.prediction.n_conditions} simulated conditions; "
            + (f"free: {', '.join(free.names)}" if free.names else "every parameter fixed "
               "(zn-pde fit evaluates the model at their values on the data)")
            + ". Nothing fitted; the fully resolved fit config follows"]
    head += [f"warning: {w}" for w in warnings]
    s = cfg.settings
    fit = {"name": cfg.name, "observable": cfg.observable.name,
           "data": str(Path(cfg.data).resolve()),
           "material": cfg.material, "select": cfg.select, "exclude": cfg.exclude,
           "exposure_h": cfg.exposure_h, "dose_ug_per_ml": cfg.dose_ug_per_ml,
           "curve_by": cfg.curve_by, **dataclasses.asdict(s),
           # the experiment's settings: without them the printed config read back as
           # another fit (e.g. the release vials in culture medium instead of water)
           "simulation": cfg.simulation}
    fit = {k: v for k, v in fit.items() if v is not None and v != {}}
    params = [f"{n} = {{ initial = {_value(float(free.initial[i]))}, lower = "
              f"{_value(float(free.lower[i]))}, upper = {_value(float(free.upper[i]))} }}  "
              f"# {free.units[i]}" for i, n in enumerate(free.names)]
    params += [f"{n} = {{ initial = {_value(float(free.held[n]))}, fixed = true }}"
               for n in free.fixed_by_config]
    experiment = dumps(problem.prediction.configs[0]).rstrip("\n").splitlines()
    lines = ([f"# {path}: valid fit config"]
             + [f"# {x}" for h in head for x in textwrap.wrap(h, 90)]
             + [dumps({"fit": fit}).rstrip("\n"), "",
                "[fit.parameters]  # the free set, then those fixed"]
             + params
             + (["", dumps({"design": cfg.raw["design"]}).rstrip("\n")]
                if "design" in cfg.raw else [])
             + ["", f"# the experiment of the first row (line {table.lines[0]}), "
                         "resolved as `zn-pde run` would:"]
             + [f"# {x}" if x else "#" for x in experiment])
    return "\n".join(lines)


def run_design_cli(args) -> int:
    """`zn-pde design`: args.config, args.outdir, args.checkpoint, args.refit, args.overwrite,
    args.quiet, args.at, args.overrides."""
    from .._errors import InputError
    from ._design import summary

    cfg = load_fit_config(args.config, args.overrides)
    if "design" not in cfg.raw:
        raise InputError("the fit config has no [design] section; add one naming the "
                         "candidate measurements, e.g. [design] candidates = { time_h = [1, "
                         "24], pH = [5.5, 7.4] } (docs/fitting.md)", file=cfg.file,
                         key="design")
    path = output_folder(args.outdir, create=False) / f"{cfg.name}_design.json"
    if path.exists() and not args.overwrite:
        raise InputError("design output exists (with its .csv and .png beside it); pass "
                         "--overwrite to replace it, or write elsewhere with -o DIR",
                         file=str(path))
    _persistent_compilation_cache()
    command = "zn-pde design " + shlex.join(
        [str(args.config)] + (["-o", str(args.outdir)] if args.outdir else [])
        + (["--checkpoint", str(args.checkpoint)] if args.checkpoint else [])
        + (["--refit"] if args.refit else []) + [f"--at={a}" for a in args.at]
        + [f"--set={o}" for o in args.overrides])
    at: dict[str, float] = {}
    for item in args.at:
        name, _, value = item.partition("=")
        try:
            at[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"expected NAME=VALUE with a number, got {item!r}",
                             key="--at") from None
    result = design(cfg, args.outdir, checkpoint=args.checkpoint, refit=args.refit,
                    quiet=args.quiet, command=command, at=at)
    print(summary(result.report))
    print("wrote " + ", ".join(str(p) for p in result.files.values()))
    return 0
