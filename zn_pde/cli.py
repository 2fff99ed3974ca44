"""`zn-pde` command line: run, validate, inspect, plot, export, fit, design, plan.

Exit status: 0 success; 2 bad input (a one-paragraph message naming the file, key, value and
what is allowed; never a traceback); 1 a failure during the run, with a message.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from ._errors import (
    InputError,
    Interrupted,
    RunError,
    forget_signals,
    signalled,
    sigterm_as_interrupt,
)
from ._notes import config_notes
from ._progress import count
from ._version import __version__

T = TypeVar("T")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own exit 2, with our wording
        self.print_usage(sys.stderr)
        print(f"zn-pde: error: {message}", file=sys.stderr)
        raise SystemExit(2)


# a fit config has [fit] and [design], not a simulation's sections: its example is one of them
_FIT_SET_HELP = ("override a key of the fit config with a TOML value, e.g. fit.starts=8 or "
                 "fit.simulation.kinetics.dissolution_rate_per_h=0.001")


def _path(text: str) -> str:
    """A file or folder argument: an empty one is refused, not read as Path("") = ".", the
    current folder (`--resume ""` started a fresh default run; `fit -o ""` wrote here)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty; give a file or folder name")
    return text


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="zn-pde", description="Reaction-diffusion simulator for zinc "
                "nanoparticles in tumour spheroids.")
    p.add_argument("--version", action="version", version=f"zn-pde {__version__}",
                   help="print the version (the zn_pde_version a run stores) and exit")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add_set(q, help="override a config key with a TOML value, e.g. time.end_h=12"):
        q.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help=help)

    r = sub.add_parser("run", help="run a simulation (no CONFIG: the built-in default)")
    r.add_argument("config", nargs="?", help="TOML config (default: built-in scenario)")
    r.add_argument("-o", "--output", help="output HDF5 (default runs/<config name>.h5)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing output")
    r.add_argument("--resume", metavar="OUT.h5", type=_path, help="continue an incomplete run")
    r.add_argument("--quiet", action="store_true", help="no progress output")
    r.add_argument("--no-control", action="store_true",
                   help="skip the control run: a run of cells with ultrasound or light that can "
                        "act (above the cavitation threshold, absorbed) also writes "
                        "OUT_control.h5, the same run without them (their intensities 0 "
                        "from the first exposure on), to report what they killed")
    add_set(r)

    v = sub.add_parser("validate", help="check a config and print it fully resolved")
    v.add_argument("config", nargs="?", help="TOML config (default: built-in scenario)")
    add_set(v)

    i = sub.add_parser("inspect", help="describe an output file")
    i.add_argument("file", type=_path, help="a zn-pde output (.h5)")
    i.add_argument("--config", action="store_true",
                   help="also print the full resolved config stored in the file")

    pl = sub.add_parser("plot", help="write PNG figures of an output file")
    pl.add_argument("file", type=_path, help="a zn-pde output (.h5)")
    pl.add_argument("-o", "--outdir", type=_path,
                    help="folder for the PNGs (default: beside the file)")
    pl.add_argument("--fields", help="comma-separated variables (default: every field)")
    pl.add_argument("--times-h", help="comma-separated times in h for the slices and the "
                    "radial profiles; each is shown at the nearest saved frame, which must "
                    "lie within half the gap to its neighbour (a time past the last frame is "
                    "refused) (default: slices at start, end, the first exposure's start and "
                    "each exposure's end, the middle without exposures; profiles at up to "
                    "eight frames)")
    pl.add_argument("--log", action="store_true",
                    help="logarithmic colour scale and y axis for concentrations")
    pl.add_argument("--compare", metavar="CONTROL.h5", type=_path,
                    help="also write <stem>_vs_<control stem>.png: treated minus control "
                    "(the control needs the same grid and the same frames every save_every_min)")

    e = sub.add_parser("export", help="write a run in another format (ParaView: --vtk)")
    e.add_argument("file", type=_path, help="a zn-pde output of a 3D run (.h5)")
    e.add_argument("--vtk", action="store_true",
                   help="VTK: DIR/<stem>.pvd, a time series of DIR/<stem>_vtk/*.vti "
                   "(XML ImageData) that ParaView opens directly")
    e.add_argument("-o", "--outdir", type=_path, help="output folder (default: beside the file)")
    e.add_argument("--overwrite", action="store_true", help="replace an earlier export")

    f = sub.add_parser("fit", help="fit kinetic parameters to data")
    f.add_argument("config", help="fit config (TOML)")
    f.add_argument("-o", "--outdir", default="checkpoints", type=_path,
                   help="output folder (default checkpoints): <name>.json, .eqx, .png")
    f.add_argument("--overwrite", action="store_true",
                   help="replace an existing DIR/<name>.json (and its .eqx and .png)")
    f.add_argument("--resume", action="store_true", help="continue an interrupted fit")
    f.add_argument("--quiet", action="store_true", help="no progress output")
    add_set(f, help=_FIT_SET_HELP)

    d = sub.add_parser("design", help="rank candidate measurements by how much each would "
                       "shrink a fit's confidence region (D-optimality)")
    d.add_argument("config", help="fit config (TOML) with a [design] section")
    d.add_argument("-o", "--outdir", default="checkpoints", type=_path,
                   help="output folder (default checkpoints); the fit is read from "
                   "DIR/<name>.json unless --checkpoint is given")
    d.add_argument("--checkpoint", metavar="FIT.json",
                   help="the fit's JSON (default DIR/<name>.json; refitted if absent)")
    d.add_argument("--refit", action="store_true",
                   help="refit instead of reading the checkpoint")
    d.add_argument("--overwrite", action="store_true",
                   help="replace an existing DIR/<name>_design.json (and .csv, .png)")
    d.add_argument("--at", action="append", default=[], metavar="NAME=VALUE",
                   help="make the design with a free parameter at VALUE instead of its "
                   "fitted value (check a parameter the data do not bound)")
    d.add_argument("--quiet", action="store_true", help="no progress output")
    add_set(d, help=_FIT_SET_HELP)

    pn = sub.add_parser("plan", help="optimise a protocol (doses, event times, exposure "
                        "settings) by gradients through the simulator")
    pn.add_argument("config", help="plan file (TOML) with a [plan] table")
    pn.add_argument("-o", "--outdir", default="checkpoints", type=_path,
                    help="output folder (default checkpoints): <name>.json, .toml, .png")
    pn.add_argument("--overwrite", action="store_true",
                    help="replace an existing DIR/<name>.json (and its .toml and .png)")
    pn.add_argument("--resume", action="store_true", help="continue an interrupted plan")
    pn.add_argument("--quiet", action="store_true", help="no progress output")
    add_set(pn, help="override a key of the tumour scenario with a TOML value, e.g. "
            "time.end_h=12, or with plan. in front a key of the plan file, e.g. "
            "plan.optimiser.starts=1")
    return p


def _cmd_fit(a) -> int:
    from .fit import run_fit_cli

    return run_fit_cli(a)


def _cmd_design(a) -> int:
    from .fit import run_design_cli

    return run_design_cli(a)


def _cmd_plan(a) -> int:
    from .plan import run_plan_cli

    return run_plan_cli(a)


def _run_sweep(config, out: Path, a) -> int:
    from ._sweep import cell_free, run_sweep, sweep_points

    table = run_sweep(config, out, overwrite=a.overwrite, progress=not a.quiet)
    keys, points = sweep_points(config)
    stem = out.with_name(out.stem)
    vials = cell_free(table)
    culture = config["grid"]["kind"] == "well_mixed"
    what = ("material dissolved and dissolved Zn2+ at the end" if vials else
            "final culture viability, peak ROS in the well over every step" if culture else
            "final tissue-mean viability, peak ROS in tissue / in medium over every step")
    lines = [f"wrote {out}, {stem}_summary.csv and {stem}_summary.png "
             f"({count(len(points), 'point')}; {what}, as for single runs)"]
    for i, p in enumerate(points):
        where = ", ".join(f"{k}={v:g}" for k, v in zip(keys, p, strict=True))
        if vials:
            share = table["dissolved_percent"][i]
            dissolved = (f"dissolved {share:.4g} % of the particles given" if np.isfinite(share)
                         else "dissolved: not counted (a medium exchange, a grid, or no "
                         "particles given)")
            lines.append(f"  {where}: {dissolved}, dissolved Zn2+ {table['mean_zn'][i]:.4g} uM")
            continue
        peaks = (f"peak ROS in the well {table['peak_tissue_max_ros'][i]:.4g} uM" if culture
                 else f"peak ROS in tissue {table['peak_tissue_max_ros'][i]:.4g} uM / in "
                 f"medium {table['peak_medium_max_ros'][i]:.4g} uM")
        lines.append(f"  {where}: final viability "
                     f"{100 * table['tissue_mean_viability'][i]:.2f} %, {peaks}")
    _emit("\n".join(lines))
    return 0


def _glutathione_lines(s: dict[str, np.ndarray], where: str) -> list[str]:
    """The living cells' glutathione: final and lowest (runs written before it was saved have
    none)."""
    gsh = s.get("tissue_mean_gsh")
    if gsh is None or not np.isfinite(gsh).any():
        return []
    return [f"  {where}glutathione in the living cells: final {_living_final(gsh)}, lowest "
            f"saved {np.nanmin(gsh):.4g} uM"]


def _energy_lines(s: dict[str, np.ndarray], where: str, config: dict) -> list[str]:
    """The living cells' ATP supply (runs written before it was saved have none)."""
    atp = s.get("tissue_mean_atp_supply")
    if atp is None or not np.isfinite(atp).any():
        return []
    final = f"{100 * atp[-1]:.4g} %" if np.isfinite(atp[-1]) else "none left alive"
    half = (config.get("kinetics") or {}).get("energy_kill_half_atp")
    return [f"  {where}ATP supply of the living cells (of an untreated cell's): final {final}, "
            f"lowest saved {100 * np.nanmin(atp):.4g} %"
            + (f" (the energy-failure death rate is half its most at {100 * half:g} %)"
               if half is not None else "")]


def _living_final(series: np.ndarray) -> str:
    """The final value of a living cells' pool (NaN once no cell is alive)."""
    return f"{series[-1]:.4g} uM" if np.isfinite(series[-1]) else "none left alive"


def _ros_lines(s, well_mixed: bool) -> list[str]:
    """Peak ROS by place (tissue, medium), each over every step of the run."""
    if well_mixed:
        return [f"  peak ROS in the well-mixed culture: {s['max_ros'].max():.4g} uM (over all "
                "steps)"]

    def peak(name: str) -> str:
        a = np.asarray(s.get(name, []), float)
        a = a[np.isfinite(a)]
        return f"{a.max():.4g} uM" if a.size else "none"

    return [f"  peak ROS in tissue: {peak('tissue_max_ros')} / in medium: "
            f"{peak('medium_max_ros')} (over every step, incl. between frames, e.g. in an "
            "exposure)"]


def _oxygen_lines(s, config: dict, where: str) -> list[str]:
    """The tissue's O2 with [oxygen] on: its mean at the end and at its lowest, and the share
    of the tissue below oxygen.ros_half_uM, where the photo/sonodynamic yield is under half."""
    o2 = np.asarray(s.get("tissue_mean_o2", []), float)
    if not (o2.size and np.isfinite(o2).any()):
        return []
    low = np.asarray(s["tissue_hypoxic_fraction"], float)
    half = config["oxygen"]["ros_half_uM"]
    cells = "the tissue" if where else "the culture"
    return [f"  {where}O2: final {o2[-1]:.4g} uM, lowest {np.nanmin(o2):.4g} uM "
            f"(fresh medium {config['oxygen']['medium_uM']:g} uM); below {half:g} uM (the "
            f"photo/sonodynamic yield under half): {100 * low[-1]:.1f} % of {cells} at the "
            f"end, at most {100 * np.nanmax(low):.1f} %"]


def _cmd_run(a) -> int:
    from ._run import (
        check_resumable,
        config_of_run,
        control_declined,
        control_path,
        makes_control,
        simulate_control,
        simulate_to_file,
    )
    from .config import load_config
    from .config._load import frame_notes

    no_control = a.no_control
    try:
        if a.resume is not None:  # not truthiness: `--resume ""` is no fresh run (`_path`)
            if a.config or a.overrides or a.output is not None or a.overwrite:
                raise InputError("--resume continues the file with the config stored in it; "
                                 "do not pass CONFIG, --set, -o or --overwrite with it",
                                 key="--resume")
            path = Path(a.resume)
            check_resumable(path)
            config = config_of_run(path)
            out = path
            no_control = no_control or control_declined(path)  # as the run was started
        else:
            config = load_config(a.config, a.overrides)
            if a.output is not None and not a.output.strip():
                raise InputError("the output name is empty; allowed: a file name ending in .h5 "
                                 "or .hdf5 (or leave -o out for runs/<config name>.h5)",
                                 key="-o")
            out = Path(a.output) if a.output else Path("runs") / f"{config['_name']}.h5"
            if out.suffix not in (".h5", ".hdf5"):
                raise InputError("the output must end in .h5 or .hdf5", key="-o",
                                 file=str(out))
            if "sweep" in config:
                return _run_sweep(config, out, a)
            control_out = control_path(out)
            if (not a.overwrite and not no_control and makes_control(config)
                    and (control_out.exists() or control_out.is_symlink())):
                # the control is this command's output too: a file of that name that this
                # run did not make (another run's, its own control left beside a deleted
                # run) is not replaced silently, as the run's own file is not
                raise InputError(
                    "the control run this command writes beside the output (the same run "
                    "without its stimuli) would replace this existing file; allowed: "
                    "--overwrite to replace it (and the output), --no-control to run "
                    "without a control and leave it, or another output name with -o",
                    file=str(control_out), key="-o")
            # before a run that may not finish soon: what the frames will hold, and what
            # the config itself makes inert (the summary repeats the latter with its results)
            for note in frame_notes(config) + config_notes(config, at_validate=True):
                print(note, file=sys.stderr)
        result = simulate_to_file(config, out, overwrite=a.overwrite, progress=not a.quiet,
                                  resume=a.resume is not None, control=not no_control)
    except KeyboardInterrupt:  # before the output was opened: nothing to keep
        raise Interrupted("interrupted before the run started; nothing was written") from None
    # the run is complete: whatever becomes of its control, its summary is printed (without
    # the comparison); an interrupted or failed control still ends the command with exit 1
    control, unfinished, stopped = None, None, True
    try:
        if result.interrupted is not None:  # as the run's file was closed
            unfinished = (f"interrupted by {result.interrupted} as the run completed; no "
                          "control run was made")
        elif not no_control:
            control = simulate_control(config, result.path, progress=not a.quiet)
            if control is not None and control.interrupted is not None:
                unfinished = (f"interrupted by {control.interrupted} as the control run "
                              "completed (both files are complete)")
    except KeyboardInterrupt:  # before the control's file was opened
        unfinished = "interrupted before the control run started"
    except RunError as e:  # interrupted or failed (its file says which, and keeps its frames)
        unfinished, stopped = f"the control run did not finish: {e}", isinstance(e, Interrupted)
    except InputError as e:
        print(f"zn-pde run: warning: no control run ({e}); the run itself is complete",
              file=sys.stderr)
    xmf = result.path.with_suffix(".xmf")
    also = f" and {xmf}" if xmf.exists() else ""
    from .inspect import event_frame_times_h

    around = event_frame_times_h(result.times_s / 3600.0, config["time"]).size
    lines = [f"wrote {result.path}{also} "
             f"({count(len(result.times_s), 'frame')}, 0 to {result.times_s[-1] / 3600:g} h"
             + (f"; {around} of them around the exposures, doses and exchanges" if around
                else "") + ")"]
    if config["grid"]["kind"] == "radial":
        lines.append("  the sidecar shows the radial profiles on a line of nodes along x (r "
                     "in um); zn-pde plot draws profiles and r x t kymographs")
    s = result.summary
    given = "the particles given" if config.get("dose") else "the dose"  # dissolved_percent's
    if s and np.isnan(s["tissue_mean_viability"][-1]):  # no cells: a release vial
        phosphate = (config.get("medium") or {}).get("zinc_phosphate_limit_uM") is not None
        if np.isfinite(s["dissolved_percent"][-1]):
            lines.append(f"  dissolved: {s['dissolved_percent'][-1]:.4g} % of {given}"
                         + ("; counted with the zinc precipitated as zinc phosphate beyond "
                            "its limit (zn_phosphate)" if phosphate else ""))
        elif config["grid"]["kind"] != "well_mixed":
            lines.append("  dissolved: a share of the dose only in well-mixed runs"
                         + (" (on a grid, faces held by the bulk medium exchange particles)"
                            if config["boundary"]["kind"] == "dirichlet" else "")
                         + "; see np and zn")
        elif config.get("medium_exchange"):
            lines.append("  dissolved: not counted across a [[medium_exchange]], which washes "
                         "out an untracked share of the particles; see np and zn")
        else:
            lines.append("  dissolved: no particles were given (material.dose_ug_per_ml and "
                         "every [[dose]] 0); see np and zn")
        lines += [f"  dissolved Zn2+: final {s['mean_zn'][-1]:.4g} uM",
                  f"  peak ROS in medium: {s['max_ros'].max():.4g} uM (no cells; over all "
                  "steps)"]
    elif s:
        if not np.isnan(s["dissolved_percent"][-1]):
            lines.append(f"  dissolved: {s['dissolved_percent'][-1]:.4g} % of {given}")
        well_mixed = config["grid"]["kind"] == "well_mixed"
        # a well-mixed compartment's cells are suspended in its fluid: no tissue to average
        where = ("", "dissolved Zn2+ in the medium") if well_mixed else (
            "tissue-mean ", "tissue-mean dissolved Zn2+ (extracellular fluid)")
        lines += [f"  {where[1]}: final {s['tissue_mean_zn'][-1]:.4g} uM, "
                  f"peak {s['tissue_mean_zn'].max():.4g} uM",
                  f"  {where[0]}labile Zn in the living cells: final "
                  f"{_living_final(s['tissue_mean_zn_cell'])}",
                  *_glutathione_lines(s, where[0]),
                  *_energy_lines(s, where[0], config),
                  *_ros_lines(s, well_mixed),
                  *_oxygen_lines(s, config, where[0]),
                  f"  final {where[0]}viability: "
                  f"{100 * s['tissue_mean_viability'][-1]:.2f} %"]
        rim, core = s.get("tissue_rim_viability"), s.get("tissue_core_viability")
        if rim is not None and core is not None and np.isfinite(rim[-1]):
            # a uniform block's depth is below its nearest face, deepest in its middle
            extent = ("radius" if config.get("geometry", {}).get("kind", "spheroid") == "spheroid"
                      else "way from the faces to the middle")
            lines[-1] += (f" (rim {100 * rim[-1]:.2f} %, core {100 * core[-1]:.2f} %: "
                          f"outer / inner 20 % of the {extent})")
        lines += _stimulus_lines(config, s, result.path, control, no_control)
        kill = s.get("depth_of_kill_um")
        if kill is not None and np.isfinite(kill[-1]):
            lines.append(f"  depth of kill (shell-mean viability below 50 %): final "
                         f"{kill[-1]:.4g} um" + _to_the_centre(kill[-1], config))
        lines += _penetration_lines(s, config, kill is not None and np.isfinite(kill[-1]))
        lines += _bulk_lines(s)
    if config.get("species"):  # passive species (alone or beside the particles): final means
        lines += _species_lines(result.path, config)
    lines += config_notes(config) + list(result.notes)
    _emit("\n".join(lines))
    if unfinished is not None:
        raise (Interrupted if stopped else RunError)(
            f"{unfinished}; the run itself is complete in {result.path} (its summary above)")
    return 0


def _to_the_centre(kill_um: float, config: dict) -> str:
    """Where every shell's mean viability is below 50 % the depth of kill is the deepest
    shell's (R - h/2 on a radial grid), which alone reads as a depth the kill stopped at: say
    it reaches the centre, as the penetration depth's line does."""
    from ._grid import deepest_shell_depth_um

    deepest = deepest_shell_depth_um(config)
    if deepest is None or kill_um < deepest - 1e-5 * max(deepest, 1.0):
        return ""
    return " (every shell is below 50 %: the kill reaches the centre)"


def _penetration_lines(s: dict[str, np.ndarray], config: dict, tissue: bool) -> list[str]:
    """The particles' final penetration depth, against the tissue's largest shell mean (and
    where that lies when it is not the rim's: after a wash-out), or that none are left."""
    from ._grid import deepest_shell_depth_um

    depth, peak = s.get("penetration_depth_um"), s.get("particle_peak_depth_um")
    if depth is None or not tissue:
        return []
    if not np.isfinite(depth[-1]):
        if peak is None:  # a file of an earlier version: NaN meant no tissue
            return []
        return ["  particle penetration depth: none to measure, no particles left in the "
                "tissue (none above a millionth of the largest dose given)"]
    line = (f"  particle penetration depth (down to where the shell-mean particle mass falls "
            f"below 10 % of its tissue maximum): final {depth[-1]:.4g} um")
    if peak is not None and np.isfinite(peak[-1]) and peak[-1] >= config["grid"]["spacing_um"]:
        line += f"; that maximum lies {peak[-1]:.4g} um below the surface, not at the rim"
    # no shell falls below the level exactly where the depth is the deepest shell's (an
    # interpolated depth short of it, even within a voxel of the radius, is where one does)
    deepest = deepest_shell_depth_um(config)
    if deepest is not None and depth[-1] >= deepest - 1e-5 * max(deepest, 1.0):
        line += " (no shell falls below that level: the particles reach the centre)"
    return [line]


def _stimulus_lines(config: dict, s: dict[str, np.ndarray], path: Path, control,
                    skipped: bool = False) -> list[str]:
    """What the stimuli killed: against the control run without them when there is one
    (`simulate_control`), and the share their own oxidative hits account for."""
    from ._run import (
        control_dt_s,
        first_exposure_h,
        killed_text,
        makes_control,
        particles_given,
        within_step_error,
    )

    lost = s.get("stimulus_viability_loss")
    if lost is None or not np.isfinite(lost[-1]) or first_exposure_h(config) is None:
        return []
    alive = s["tissue_mean_viability"][-1]
    if control is None and not makes_control(config):
        why = ("none of them can make ROS (see the notes below)" if particles_given(config)
               else "no particles are given (dose 0), and the stimuli act only through them")
        return [f"  killed by the stimuli: {100 * lost[-1]:.2f} % of the cells: {why}, so no "
                "control run was made"]
    if control is None or not control.summary:
        return [f"  killed by the stimuli's own oxidative hits (radicals at the particles, "
                f"and the diffusible ROS they made): {100 * lost[-1]:.2f} % of the cells "
                "(field radical_dose shows where); what else they changed for the survivors "
                "is counted by the control run, which "
                + ("--no-control skipped" if skipped else "was not made (see the warning)")]
    alive_control = control.summary["tissue_mean_viability"][-1]
    dt_s = control_dt_s(config)
    longer = dt_s > config["time"]["dt_s"]
    own = (f"    their own oxidative hits (radicals at the particles, the diffusible ROS they "
           f"made) account for {100 * lost[-1]:.2f} %; ")
    if within_step_error(alive_control - alive, longer):
        # no kill to explain: the control's step, not the stimuli, set the difference
        own += "the control's difference from the run is its step error, not their doing"
    else:
        own += ("the difference is what they changed for the survivors ("
                + ("" if config["grid"]["kind"] == "well_mixed" else
                   "particles reach deeper past the cells they killed; ")
                + "the glutathione they used, until glutathione reductase gives it back, "
                "leaves the zinc-driven peroxide less checked)")
    return [f"  killed by the stimuli: {killed_text(alive, alive_control, longer)} "
            f"({100 * alive:.2f} % alive against {100 * alive_control:.2f} % in the control "
            f"without them, {control.path}: their intensities 0 from "
            f"{first_exposure_h(config):g} h on, dt_s = {dt_s:g})",
            own,
            f"    where: zn-pde plot {shlex.quote(str(path))} draws "
            f"{path.stem}_vs_{control.path.stem}.png"
            + ("" if config["grid"]["kind"] == "well_mixed" else
               " (and the field radical_dose)")]


def _species_lines(path: Path, config: dict) -> list[str]:
    """A run's passive species: each one's final mean over the tissue and the domain,
    by volume (a radial grid weights its shells), read back from the file as `inspect`
    averages it (`passive_final_means`, which `open_run` also gives as attributes)."""
    from .inspect import passive_final_means
    from .io import read_run

    lines = []
    for name, m in passive_final_means(read_run(path)).items():
        if len(m) == 1 and config["grid"]["kind"] == "well_mixed":  # the compartment
            lines.append(f"  {name}: final {m['final_domain_mean']:.4g} uM")
            continue
        text = f"domain mean {m['final_domain_mean']:.4g} uM"
        if "final_tissue_mean" in m:
            text = f"tissue mean {m['final_tissue_mean']:.4g} uM, " + text
        lines.append(f"  {name}: final {text}")
    return lines


def _bulk_lines(s: dict[str, np.ndarray]) -> list[str]:
    """The reacting bulk medium at the end (series bulk_*), where the run has one."""
    from ._run import BULK_SPECIES, SUMMARY_UNITS

    label = {"np": "particles", "zn": "Zn2+", "ros": "ROS", "h2o2": "H2O2", "h2s": "H2S",
             "cargo": "cargo", "zn_phosphate": "zinc phosphate (as Zn)"}
    parts = [f"{label[n]} {s[key][-1]:.4g} {SUMMARY_UNITS[key][0]}"
             for n, key in ((n, f"bulk_{n}") for n in BULK_SPECIES)
             if key in s and np.isfinite(s[key][-1])]
    return [f"  bulk medium beyond the walls, final: {', '.join(parts)}"] if parts else []


def _emit(text: str) -> None:
    """Print to stdout; a reader that leaves early (`| head`) is not an error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def wrap_comment(text: str) -> str:
    """`text` as TOML comment lines of at most 92 characters."""
    import textwrap

    return "".join(f"# {line}\n" for line in textwrap.wrap(text, 90))


def _cmd_validate(a) -> int:
    from .config import WELL_MIXED_INERT_KEYS, dumps, load_config, read_toml_file

    if a.config is not None:  # a fit or plan config is checked as its command would
        raw = read_toml_file(a.config, "config")
        if isinstance(raw.get("fit"), dict):
            from .fit import validate_fit_text

            _emit(validate_fit_text(a.config, a.overrides))
            return 0
        if isinstance(raw.get("plan"), dict):
            scenario = raw["plan"].get("config", "CONFIG.toml")
            raise InputError("a plan config ([plan]): `zn-pde validate` checks simulation and "
                             "fit configs; `zn-pde plan` checks a plan config before it "
                             f"optimises, and `zn-pde validate {scenario}` the scenario it "
                             "names (paths relative to the plan file)",
                             file=str(a.config), key="plan")
    config = load_config(a.config, a.overrides)
    head = f"# {a.config or 'built-in default'}: valid; fully resolved config follows\n"
    if config["grid"]["kind"] == "well_mixed":
        head += wrap_comment("grid.kind = \"well_mixed\" is one compartment without space: "
                             + ", ".join(WELL_MIXED_INERT_KEYS) + " are listed at their "
                             "values but do not act")
    if "material" not in config:
        head += wrap_comment("no [material]: only the [[species]] are simulated; the "
                             "nanoparticle model's [ph] and [tissue] are listed at their "
                             "values but do not act on them")
    for line in config_notes(config, at_validate=True):
        head += wrap_comment(line.strip())
    _emit(head + dumps(config))
    return 0


def _read(path, read: Callable[[], T]) -> T:
    """`read()` of a run file, tried again on an HDF5 error, a damaged file an InputError
    (`zn_pde.io._hdf5.read_retrying`, imported here: h5py loads only for the commands that
    read a file)."""
    from .io._hdf5 import read_retrying

    return read_retrying(path, read)


def _cmd_inspect(a) -> int:
    from .inspect import describe

    _emit(_read(a.file, lambda: describe(a.file, config=a.config)))
    return 0


def _cmd_plot(a) -> int:
    from .plot import plot_run

    fields = [x.strip() for x in a.fields.split(",") if x.strip()] if a.fields else None
    try:
        times = [float(t) for t in a.times_h.split(",")] if a.times_h else None
    except ValueError:
        raise InputError(f"--times-h must be comma-separated numbers, got {a.times_h!r}",
                         key="--times-h") from None
    try:
        paths = _read(a.file, lambda: plot_run(a.file, outdir=a.outdir, fields=fields,
                                               times_h=times, log=a.log, compare=a.compare))
    except InputError as e:
        from .inspect import is_sweep, sweep_complete

        if "a zn-pde sweep output" not in str(e) or not is_sweep(a.file):
            raise
        stem = Path(a.file).with_suffix("")
        figure = (f"The sweep's figure (final tissue-mean viability against the swept values) "
                  f"is {stem}_summary.png and its table {stem}_summary.csv, written beside it "
                  "by the sweep" if sweep_complete(a.file) else
                  "The sweep did not complete, so it has no figure or table (a sweep cannot "
                  "be resumed: run it again with --overwrite)")
        raise InputError(
            "a zn-pde sweep output: `zn-pde plot` draws single runs and does not plot sweeps. "
            f"{figure}; `zn-pde inspect {shlex.quote(str(a.file))}` lists the swept values and "
            "every point's summary; "
            "to plot one point, run its config alone (zn-pde run CONFIG --set KEY=VALUE for "
            "the point's values, without [sweep]) and plot that file",
            file=a.file) from None
    _emit("\n".join(f"wrote {path}" for path in paths))
    return 0


def _cmd_export(a) -> int:
    from .io import export_vtk

    if not a.vtk:
        raise InputError("say which format to write: --vtk (a ParaView .pvd time series of "
                         ".vti files; the only export so far)", key="export")
    pvd = _read(a.file, lambda: export_vtk(a.file, a.outdir, overwrite=a.overwrite))
    _emit(f"wrote {pvd} and its frames in {pvd.with_name(pvd.stem + '_vtk')} (open the .pvd "
          "in ParaView: one time step per saved frame, time in s)")
    return 0


COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "inspect": _cmd_inspect,
            "plot": _cmd_plot, "fit": _cmd_fit, "design": _cmd_design,
            "plan": _cmd_plan, "export": _cmd_export}


def main(argv: list[str] | None = None) -> int:
    """The `zn-pde` command: its exit status. As the process's entry point (no `argv`), a
    command a signal stopped leaves without the interpreter's clean-up (`signalled`), its
    files already closed and its message printed."""
    forget_signals()
    code = _main(argv)
    if code and argv is None and signalled():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv: list[str] | None) -> int:
    try:
        a = _parser().parse_args(argv)
    except KeyboardInterrupt:  # Ctrl-C at once: before any command started
        print("zn-pde: interrupted", file=sys.stderr)
        return 1
    try:
        with sigterm_as_interrupt():  # SIGTERM stops a command as Ctrl-C does (exit 1)
            return COMMANDS[a.command](a)
    except KeyboardInterrupt:  # where no command's own handling applies
        print(f"zn-pde {a.command}: interrupted", file=sys.stderr)
        return 1
    except InputError as e:
        if e.key == "outdir":  # the Python argument's name; on the command line, its option
            e = InputError(e.message, file=e.file, key="--outdir", missing=e.missing)
        print(f"zn-pde {a.command}: error: {e}", file=sys.stderr)
        return 2
    except Interrupted as e:  # what was kept, and how to go on
        print(f"zn-pde {a.command}: {e}", file=sys.stderr)
        return 1
    except RunError as e:
        print(f"zn-pde {a.command}: run failed: {e}", file=sys.stderr)
        return 1
    except MemoryError as e:  # NumPy's allocations (a grid far larger than memory)
        print(f"zn-pde {a.command}: run failed: out of memory ({e}); a coarser or smaller "
              "grid (grid.shape, grid.spacing_um) needs less", file=sys.stderr)
        return 1
    except Exception as e:
        if "RESOURCE_EXHAUSTED" not in str(e):  # XLA's out of memory (CPU or GPU)
            raise
        first = str(e).strip().splitlines()[0]
        print(f"zn-pde {a.command}: run failed: out of memory ({first}); a coarser or "
              "smaller grid (grid.shape, grid.spacing_um) needs less", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
