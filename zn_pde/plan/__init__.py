"""`zn-pde plan`: optimise a protocol (doses, event times, exposure settings) by gradients
through the simulator.

`plan(path)` reads a plan file (`_config`), builds the objective and constraints with their
gradients (`_problem`), minimises from several starts (`_optimise`) and writes
`<outdir>/<name>.json` (controls, objective and constraints at the start and the optimum,
gradient norms, solves), `<name>.toml` (the optimised scenario: `zn-pde run <name>.toml`
reproduces the reported optimum) and `<name>.png` (`_report`).
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Any

from .._errors import InputError, Interrupted, check_flags, output_folder, sigterm_as_interrupt
from .._notes import config_notes
from ._config import OBJECTIVES as OBJECTIVES
from ._config import PlanSettings as PlanSettings
from ._config import load_plan as load_plan
from ._optimise import FEASIBLE, optimise
from ._problem import PlanProblem as PlanProblem
from ._report import write_outputs


def plan(path_or_settings: str | Path | PlanSettings, outdir: str | Path = "checkpoints", *,
         overwrite: bool = False, resume: bool = False, progress: bool = True,
         overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Optimise the plan; returns the JSON report as a dict (see `zn-pde plan`)."""
    check_flags("plan", path_or_settings.file if isinstance(path_or_settings, PlanSettings)
                else str(path_or_settings), overwrite=overwrite, resume=resume,
                progress=progress)
    settings = (path_or_settings if isinstance(path_or_settings, PlanSettings)
                else load_plan(path_or_settings, overrides))
    out = output_folder(outdir, create=False)  # created once the plan is accepted
    target = out / f"{settings.name}.json"
    resume_file = out / f"{settings.name}.resume.json"
    if target.exists() and not overwrite and not resume:
        raise InputError("plan output exists (with its .toml and .png beside it); pass "
                         "--overwrite (plan: overwrite=True) to replace it, or write "
                         "elsewhere with -o DIR or --set plan.name=NAME (plan: another "
                         "outdir, or overrides=['plan.name=NAME'])", file=str(target))
    t0 = time.perf_counter()
    problem = PlanProblem(settings)
    output_folder(outdir)
    for warning in problem.warnings.values():  # before the solves: the user may stop here
        print(f"zn-pde plan: warning: {settings.file}: {warning}", file=sys.stderr, flush=True)
    for note in config_notes(settings.config):  # what `zn-pde run` notes on the scenario
        print(f"zn-pde plan: {settings.file}: scenario {note.strip()}", file=sys.stderr,
              flush=True)
    if overwrite and not resume:
        # the files being replaced go now: the JSON marks a finished plan, so an interrupt
        # must not leave the previous plan's (with its .toml and .png) beside this one's state
        for suffix in ("json", "toml", "png"):
            (out / f"{settings.name}.{suffix}").unlink(missing_ok=True)
    try:
        with sigterm_as_interrupt():
            result = optimise(problem, resume_file, resume=resume, progress=progress)
            # the outputs: the JSON last, so an interrupt here leaves no finished-looking set
            report = write_outputs(problem, result, out, wall_s=time.perf_counter() - t0
                                   + result.get("wall_s_before", 0.0))
    except KeyboardInterrupt:
        # the whole command, as `zn-pde fit` gives it: --resume is refused without the same
        # --set overrides, and looks in the default folder without the same -o
        config = settings.file if isinstance(path_or_settings, PlanSettings) else path_or_settings
        again = "zn-pde plan " + shlex.join([str(config), "-o", str(outdir)]
                                            + [f"--set={o}" for o in overrides] + ["--resume"])
        kept = (f"{resume_file} holds every finished iteration: continue with: {again}"
                if resume_file.exists() else "nothing was kept (no iteration had finished)")
        raise Interrupted(f"interrupted; {kept}") from None
    resume_file.unlink(missing_ok=True)
    return report


def control_line(key: str, c: dict) -> str:
    """A control's line of the plan summary: start -> optimum, its unit (none for a
    dimensionless one, pH or a share, whose unit is "1"), its bounds, a bound it ends at."""
    at = f", at its {c['at_bound']} bound" if c.get("at_bound") else ""
    unit = "" if c["unit"] == "1" else f" {c['unit']}"
    return (f"  {key}: {c['start']:.4g} -> {c['optimum']:.4g}{unit} "
            f"(bounds {c['lower']:g} to {c['upper']:g}{at})")


def objective_line(o: dict, toml: str, feasible: bool = True) -> str:
    """The objective's line of the plan summary: start -> optimum. Where a constraint does
    not hold, the protocol reported is the best found, not an optimum (its objective may be
    worse than the start's, traded for the constraint), and the line says so."""
    where = ("at the optimum" if feasible else
             "at the best protocol found, which breaks a constraint (below)")
    return (f"  objective {o['name']}: {o['start']:.4f} at the start -> {o['optimum']:.4f} "
            f"{where} (zn-pde run {toml} gives it)")


def run_plan_cli(a) -> int:
    from ..cli import _emit

    report = plan(a.config, a.outdir, overwrite=a.overwrite, resume=a.resume,
                  progress=not a.quiet, overrides=a.overrides)
    o = report["objective"]
    feasible = all(c["holds"] for c in report["constraints"].values())
    lines = [f"wrote {report['files']['json']}, {report['files']['toml']} and "
             f"{report['files']['png']}",
             objective_line(o, report["files"]["toml"], feasible)]
    if o.get("optimum_without_stimuli") is not None:
        best = "optimum" if feasible else "best protocol found"
        lines.append(f"    the {best} without its stimuli (exposures at intensity 0, the run's "
                     f"control): {o['optimum_without_stimuli']:.4f}")
    for key, c in report["controls"].items():
        lines.append(control_line(key, c))
        if "warning" in c:
            lines.append(f"    warning: {c['warning']}")
        if "scenario_value" in c:
            lines.append(f"    note: the scenario's own value, {c['scenario_value']:g}, is "
                         f"outside the bounds: the plan started from {c['start']:g}, and "
                         "'at the start' above is that protocol, not the scenario's")
    broken, step_plan = [], []
    for name, c in report["constraints"].items():
        bound = (f">= {c['min']:g}" if "min" in c else f"<= {c['max']:g}")
        verdict = ("holds" if c["strictly"] else
                   f"holds within the {c['tolerance']:.1%} tolerance" if c["holds"]
                   else "VIOLATED")
        lines.append(f"  constraint {name}: {c['start']:.4g} -> {c['optimum']:.6g} ({bound}, "
                     f"{verdict})")
        if "warning" in c:
            lines.append(f"    warning: {c['warning']}")
        if not c["holds"]:
            limit = c["min"] if "min" in c else c["max"]
            estimate = c.get("optimum_planning_estimate")
            if estimate is not None and (
                    estimate >= limit * (1 - c["tolerance"]) if "min" in c
                    else estimate <= limit * (1 + c["tolerance"])):
                step_plan.append(f"{c['key']} = {limit:g} ({c['optimum']:.6g} as zn-pde run "
                                 f"computes it, {estimate:.6g} by the optimiser's estimate)")
            else:
                broken.append(f"{c['key']} = {limit:g} (the best found: {c['optimum']:.6g})")
    s = report["solves"]
    lines.append(f"  {s['gradient']} solves with gradient, {s['forward']} forward solves, "
                 f"{report['wall_s']:.0f} s")
    _emit("\n".join(lines))
    if broken:
        # caps no protocol in the box can meet were refused before the solve (exit 2), so
        # here the box holds protocols that meet each cap alone (unless a corner of it could
        # not be resolved to bound the cap): the optimiser missed them, or they clash with
        # the normal-tissue minimum
        print(f"zn-pde plan: error: {report['plan_file']}: no start found a protocol in the "
              f"controls' box that meets {'; '.join(broken)}; the files hold the best "
              "protocol found. More starts or iterations ([plan.optimiser], or --set "
              "plan.optimiser.starts=N), wider bounds of the controls or a relaxed "
              "constraint may find one; where no value of these controls can meet it (the "
              "normal tissue dying with the tumour, whatever the timing), add a control "
              "that moves it, e.g. the dose", file=sys.stderr)
    if step_plan:
        # the optimiser met it on its own step plan; the run's plan, which the report and
        # `zn-pde run` use, puts the optimum past the tolerance: the step-plan error decides
        print(f"zn-pde plan: error: {report['plan_file']}: the optimum breaks "
              f"{'; '.join(step_plan)}: the optimiser's estimate, on the fixed step plan it "
              "solves with, met the constraint, but the run's own step plan does not, and "
              "their difference (the step-plan error, which time.dt_s sets) exceeds the "
              f"constraint's {FEASIBLE:.1%} tolerance; the files hold this protocol. A "
              "smaller time.dt_s (--set time.dt_s=...) narrows the difference; a constraint "
              "stricter by it keeps the run's value inside", file=sys.stderr)
    return 1 if broken or step_plan else 0
