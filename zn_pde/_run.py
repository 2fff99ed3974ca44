"""config -> model -> solver -> HDF5 + XDMF: what `zn-pde run` does, as a library call.

Fault handling (docs/outputs.md): every frame is flushed before the next interval starts;
Ctrl-C (SIGINT) and SIGTERM stop the run between two HDF5 writes, close the file with
`status = "interrupted"` and raise RunError (exit 1); the run-time guard's RunError closes it
with `status = "failed"`; a killed run keeps `status = "running"`, `complete = 0`. `resume`
continues any incomplete file from its last frame: the state is saved in full (float32, like
the solver's default state), so a resumed float32 run follows the uninterrupted one exactly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import signal
import threading
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import _kinetics as kin
from ._diffusion import sweep_unroll
from ._errors import InputError, Interrupted, RunError, may_raise_in, note_signal
from ._grid import build_geometry, peak_depth_um, penetration_depth_um
from ._model import Model, State, build_model
from ._parallel import history_line, platform
from ._progress import Progress, count
from ._protocol import event_table
from ._solve import PEAK_PLACES, Schedule, run
from ._unsplit import short_note, take_short
from .config import dumps, largest_accurate_dt_s, resolve, unresolved
from .io import Writer, open_run, write_xdmf
from .io._hdf5 import STATUSES, _is_xdmf, _text, read_retrying

SUMMARY_UNITS = {
    "tissue_mean_zn": ("uM", "tissue-mean dissolved Zn2+ in the interstitium"),
    "tissue_mean_zn_cell": ("uM", "labile intracellular zinc of the living cells (per "
                           "living-cell volume), averaged over the tissue's living cells (each "
                           "voxel weighted by them; NaN once none are alive)"),
    "max_ros": ("uM", "maximum ROS anywhere (medium or tissue) over the domain, at the saved "
                "frame and after every step since the previous frame: the larger of "
                "tissue_max_ros and medium_max_ros"),
    "tissue_max_ros": ("uM", "maximum interstitial ROS over the tissue voxels, at the saved "
                       "frame and after every step since the previous frame (NaN without "
                       "tissue; well-mixed runs: the compartment's value)"),
    "medium_max_ros": ("uM", "maximum ROS over the cell-free medium voxels, at the saved frame "
                       "and after every step since the previous frame (NaN without medium; "
                       "well-mixed runs: the compartment's value)"),
    "tissue_mean_ros": ("uM", "tissue-mean ROS"),
    "tissue_mean_gsh": ("uM", "glutathione (GSH) of the living cells (per living-cell "
                        "volume), averaged over the tissue's living cells (each voxel "
                        "weighted by them; NaN once none are alive): what the glutathione "
                        "peroxidases spend on peroxide and glutathione reductase gives back"),
    "tissue_mean_atp_supply": ("1", "ATP supply of the living cells relative to an untreated "
                               "cell, E = (g + (1 - g) R) / (1 + f/K_Zn): free Zn2+ f "
                               "inhibits glycolysis and respiration, H2S (complex IV) and O2 "
                               "([oxygen]) limit respiration R; averaged over the tissue's "
                               "living cells (each voxel weighted by them; NaN once none are "
                               "alive). The energy failure's death rate is half its most "
                               "where E falls to kinetics.energy_kill_half_atp"),
    "tissue_mean_viability": ("1", "tissue-mean fraction of cells alive"),
    "tissue_rim_viability": ("1", "mean fraction of cells alive in the rim: tissue voxels at "
                             "most 20 % of the spheroid radius (the deepest tissue voxel's "
                             "depth) below the surface; NaN without tissue and in well-mixed "
                             "runs"),
    "tissue_core_viability": ("1", "mean fraction of cells alive in the core: tissue voxels at "
                              "least 80 % of the spheroid radius below the surface (the inner "
                              "20 %); NaN without tissue and in well-mixed runs"),
    "depth_of_kill_um": ("um", "depth below the tissue surface down to which the viability, "
                         "averaged over one-voxel shells, stays below 50 % (linear between "
                         "shell centres; 0 if the outermost shell is at least 50 % alive, the "
                         "deepest voxel's depth if no shell is; NaN without tissue and in "
                         "well-mixed runs)"),
    "tissue_mean_radical_dose": ("uM", "tissue-mean cumulative oxidative dose from the "
                                 "stimuli (per cell volume): short-lived ROS (.OH, 1O2) that "
                                 "activated particles delivered to the cells, and the diffusible "
                                 "ROS the stimuli made that escaped the cells' glutathione or "
                                 "made .OH"),
    "stimulus_viability_loss": ("1", "fraction of the tissue's cells killed by the stimuli "
                                "(tissue mean of min(V exp(D / D0), 1) - V, D the radical "
                                "dose, D0 the lethal dose: the viability the stimuli's oxidative "
                                "hazard removed; a run without the stimuli differs from V plus "
                                "it by a few % points either way, as the stimuli also change "
                                "what the survivors meet); well-mixed runs: of the "
                                "compartment's cells"),
    "tissue_mean_o2": ("uM", "tissue-mean dissolved O2, per tissue volume as the o2 field "
                       "([oxygen] enabled; NaN without it and without tissue; well-mixed "
                       "runs: the compartment's)"),
    "tissue_hypoxic_fraction": ("1", "fraction of the tissue volume whose O2 is below "
                                "oxygen.ros_half_uM (default 8.9 uM, 1 % O2), where the "
                                "photodynamic and sonodynamic ROS yield falls below half its "
                                "most ([oxygen] enabled; NaN without it and without tissue; "
                                "well-mixed runs: 0 or 1)"),
    "mean_zn": ("uM", "domain-mean dissolved Zn2+ in medium / interstitium"),
    "dissolved_percent": ("%", "percent of the particle mass dissolved, or in a phosphate "
                          "medium turned into zinc phosphate (well-mixed runs: of the "
                          "particles given so far, the dose at t = 0 and the [[dose]] events "
                          "before the frame; NaN with [[medium_exchange]] events, which wash "
                          "out an untracked share, and on grids, whose medium faces exchange "
                          "particles)"),
    "penetration_depth_um": ("um", "particle penetration depth: the depth below the tissue "
                             "surface down to which the particle mass per voxel (extracellular "
                             "+ internalised, living and dead cells), averaged over one-voxel "
                             "shells, stays at or above 10 % of its largest shell mean (the "
                             "deepest shell above it, linear to where it falls to it; the "
                             "deepest shell's depth if none does); NaN without tissue, in "
                             "well-mixed runs and when the tissue holds no particles (none "
                             "above 1e-6 of the largest dose given)"),
    "particle_peak_depth_um": ("um", "depth below the tissue surface of the one-voxel shell "
                               "whose mean particle mass per voxel is the largest (the "
                               "reference of penetration_depth_um): the outermost shell while "
                               "particles enter from the medium, deeper once a medium exchange "
                               "has washed the rim's fluid out; NaN as penetration_depth_um"),
}
# the reacting bulk medium beyond the walls of a grid run (boundary.bulk_medium = "reacting"):
# one series per model mobile species the medium can carry, NaN where the run has no such
# medium or the material no such species
_BULK_NAMES = {"np": "extracellular nanoparticle mass", "zn": "dissolved Zn2+",
               "ros": "ROS (lumped as H2O2)", "h2o2": "H2O2 released by the particles",
               "h2s": "total sulfide (H2S + HS-) released by the particles",
               "cargo": "drug cargo released",
               "zn_phosphate": "zinc precipitated as zinc phosphate"}
BULK_SPECIES = tuple(_BULK_NAMES)
SUMMARY_UNITS.update({
    f"bulk_{name}": (kin.UNITS[name], f"{what} in the well-mixed bulk medium beyond the "
                     "grid's dirichlet faces, which the faces hold (boundary.bulk_medium = "
                     "\"reacting\"); NaN in runs without one (fixed bulk medium, no dirichlet "
                     "faces, well-mixed runs) and for species the material does not make")
    for name, what in _BULK_NAMES.items()})


#: The particle mass per voxel, as a share of the largest dose given (µg/mL), below which
#: the tissue holds nothing to measure a penetration depth by (`penetration_depth_um` NaN).
PARTICLES_LEFT = 1e-6


@dataclasses.dataclass
class RunResult:
    path: Path
    times_s: np.ndarray
    summary: dict[str, np.ndarray]
    status: str
    #: a signal (SIGINT, SIGTERM) that came as the complete file was being closed: the run
    #: is complete, but the command was asked to stop (no further work, such as a control)
    interrupted: str | None = None
    #: what the run met that its summary should say (`_unsplit.short_note`), "  note: ...",
    #: indented as the summary's other notes (`config_notes`)
    notes: tuple[str, ...] = ()


def _output_fields(model: Model, state: State) -> dict[str, np.ndarray]:
    """Every output variable by name, (z, y, x) each (as `Model.fields`, one device copy)."""
    mobile, fixed = np.asarray(state.mobile), np.asarray(state.fixed)
    fields = {n: mobile[..., i] for i, n in enumerate(model.mobile_names)}
    fields.update({n: fixed[..., i] for i, n in enumerate(model.fixed_names)})
    if "viability" in fields:
        fields["viability"] = viability_output(fields["viability"], model.cell_fraction)
    return fields


def viability_output(viability: np.ndarray, cell_fraction: Any) -> np.ndarray:
    """The viability as outputs hold it: NaN where a voxel has no cells (the medium)."""
    return np.where(np.asarray(cell_fraction) > 0, viability, np.nan)


def stimulus_loss(viability: np.ndarray, hits: np.ndarray,
                  hazard: np.ndarray | None = None) -> np.ndarray:
    """Per voxel, the viability the stimuli's oxidative hits removed: V e^{D/D₀} − V, with
    `hits` = D/D₀, capped where it would exceed 1 − V (no voxel had more than all its cells
    to lose). With the cells' cumulative `hazard` H (V = e^{−H}) the survivors without the
    hits are e^{−(H − D/D₀)}, exact even where V underflowed float32 (V ~ 0 after H > ~87:
    the stimuli and energy failure together); without it (files written before 2026-12-03)
    through ln V, an upper bound where V underflowed. 0 where there were no hits."""
    v = np.nan_to_num(np.asarray(viability, float))
    hits = np.asarray(hits, float)
    if hazard is not None:
        log_spared = -(np.nan_to_num(np.asarray(hazard, float)) - hits)
    else:
        log_spared = np.log(np.maximum(v, float(np.finfo(np.float32).tiny))) + hits
    # no hits, no loss: exactly 0 there, not the float32 round-off between V and e^{−H}
    return np.where(hits > 0, np.maximum(np.exp(np.minimum(log_spared, 0.0)) - v, 0.0), 0.0)


def living_mean(pool: np.ndarray, living: np.ndarray, tissue: np.ndarray) -> float:
    """A pool of the living cells (per living-cell volume) averaged over them, as an assay of
    the tissue's lysate reads it: each `tissue` voxel weighted by `living`, its living cells
    (φ V times its volume), so a voxel whose cells have died adds nothing; NaN once none are
    alive (or without tissue)."""
    weights = np.asarray(living, float).reshape(tissue.shape)[tissue]
    if not weights.sum() > 0:
        return float("nan")
    return float(np.average(np.asarray(pool).reshape(tissue.shape)[tissue], weights=weights))


def summarise(model: Model, fields: dict[str, np.ndarray],
              bulk: np.ndarray | None = None, step: int | None = None) -> dict[str, float]:
    """Key scalars of one frame (tissue means over tissue cells, weighted by cell volume:
    uniform voxels on a 3D grid, shell volumes on a radial one; SUMMARY_UNITS says what each
    is); `bulk` is the state's reacting bulk medium (`State.bulk`, None without one); `step`
    the frame's step index (`State.step`), which counts the [[dose]] events given before it
    (None: `dissolved_percent` only for a run without them).
    Single runs and sweeps (`_sweep`) both call this, so they agree by construction.
    The ROS maxima here are the frame's; `with_step_peaks` raises them to the per-step peaks
    of the interval."""
    if not model.has_material:
        return {}
    nan = float("nan")
    tissue = np.asarray(model.cell_fraction) > 0
    medium = ~tissue
    volume = np.asarray(model.volume_um3, float)
    ros = np.asarray(fields["ros"])
    viability = np.asarray(fields["viability"])

    def volume_mean(a: np.ndarray, where: np.ndarray) -> float:
        return float(np.average(np.asarray(a).reshape(where.shape)[where],
                                weights=volume[where]))

    def tmean(a: np.ndarray) -> float:
        return volume_mean(a, tissue) if tissue.any() else nan

    # the living cells in each voxel, φ V times its volume: the weights of their pools' means
    living = (np.asarray(model.cell_fraction, float) * viability.astype(float)
              * volume).reshape(tissue.shape)

    dissolved = nan
    # the particle mass given so far (µg/mL): without exchanges, the bulk medium's particles
    # during the step before this frame (a frame holds the state just before its step's
    # events); a wash-out takes an untracked share of it away
    protocol = model.protocol
    dose = float(model.dose_ug_per_ml)
    counted = not protocol.has_exchanges and (step is not None or not protocol.has_doses)
    if counted and step is not None:
        dose = float(protocol.np_boundary(model.dose_ug_per_ml, step - 1))
    if model.well_mixed and dose > 0 and counted:
        # the zinc out of the particles (fluid, phosphate, cells; c_Zn per µg/mL), not the
        # particles left: a float32 particle pool of ~20 µg/mL cannot hold a slow dissolution's
        # per-step loss (below its last digit at a 1 s step), while the dissolved pools,
        # small numbers, do (an outside audit: a ZnO vial at pH 7.4, Δt = 1 s, read 0.82 %
        # for 1.04 %); the same share in exact arithmetic, as the zinc balance holds
        alpha = float(np.asarray(model.fluid_fraction).ravel()[0])
        phi = float(np.asarray(model.cell_fraction).ravel()[0])

        def one(name: str) -> float:
            return float(np.asarray(fields[name]).ravel()[0]) if name in fields else 0.0

        cells = (one("viability") * one("zn_cell") + one("zn_dead")) if phi > 0 else 0.0
        zinc = alpha * (one("zn") + one("zn_phosphate")) + phi * cells
        per_ug = float(model.kinetics.zn_uM_per_particle_ug_per_ml)
        dissolved = min(max(100.0 * zinc / (per_ug * alpha * dose), 0.0), 100.0)
    if model.well_mixed:  # one compartment: the medium, with any cells suspended in it
        tissue_max = float(np.max(ros)) if tissue.any() else nan
        medium_max = float(np.max(ros))
    else:
        tissue_max = float(ros[tissue].max()) if tissue.any() else nan
        medium_max = float(ros[medium].max()) if medium.any() else nan
    depth = peak = rim = core = kill = nan
    if not model.well_mixed and tissue.any():
        mass = np.asarray(model.particle_mass(fields))
        depth_um = np.asarray(model.depth_um)
        # nothing left to measure below a millionth of the largest dose given (float32
        # round-off of what a wash-out leaves)
        least = PARTICLES_LEFT * max([float(model.dose_ug_per_ml)]
                                     + [float(d) for d in np.asarray(protocol.dose_ug_per_ml)])
        depth = penetration_depth_um(depth_um, tissue, mass, model.spacing_um, least=least)
        peak = peak_depth_um(depth_um, tissue, mass, model.spacing_um, least=least)
        d, v, w = depth_um[tissue], viability[tissue].astype(float), volume[tissue]
        radius = float(d.max())
        outer, inner = d <= 0.2 * radius, d >= 0.8 * radius
        if radius > 0 and outer.any():
            rim = float(np.average(v[outer], weights=w[outer]))
        if radius > 0 and inner.any():
            core = float(np.average(v[inner], weights=w[inner]))
        # depth of kill: shells one voxel thick from the surface inwards
        shell = np.floor(d / model.spacing_um).astype(int)
        counts = np.bincount(shell)
        filled = counts > 0
        mean = np.bincount(shell, weights=v)[filled] / counts[filled]
        centre = np.bincount(shell, weights=d)[filled] / counts[filled]
        alive = np.flatnonzero(mean >= 0.5)
        if alive.size == 0:
            kill = radius
        elif alive[0] == 0:
            kill = 0.0
        else:
            i = int(alive[0])
            w = (0.5 - mean[i - 1]) / (mean[i] - mean[i - 1])
            kill = float(centre[i - 1] + w * (centre[i] - centre[i - 1]))
    # runs written before the radical dose existed have no such field
    radicals = np.asarray(fields.get("radical_dose", np.full(viability.shape, nan)), float)
    d0 = float(model.kinetics.oxidative_lethal_dose_uM)
    hazard = fields.get("hazard")  # runs written before it existed have no such field
    lost = stimulus_loss(viability, radicals / d0, hazard)
    o2_mean = hypoxic = nan
    if "o2" in fields and model.oxygen is not None and tissue.any():
        o2 = np.asarray(fields["o2"], float)
        o2_mean = tmean(o2)
        hypoxic = tmean((o2 < float(model.oxygen.ros_half_uM)).astype(float))
    atp = nan
    if "zn_cell" in fields and tissue.any():
        atp = living_mean(energy_of_fields(model, fields), living, tissue)
    in_bulk = dict(zip(model.model_mobile_names, np.asarray(bulk, float), strict=True)
                   ) if bulk is not None else {}
    return {"tissue_mean_zn": tmean(fields["zn"]),
            "tissue_mean_radical_dose": tmean(radicals),
            "stimulus_viability_loss": tmean(lost),
            "tissue_mean_zn_cell": living_mean(fields["zn_cell"], living, tissue),
            "max_ros": float(np.max(ros)),
            "tissue_max_ros": tissue_max,
            "medium_max_ros": medium_max,
            "tissue_mean_ros": tmean(ros),
            "tissue_mean_gsh": (living_mean(fields["gsh"], living, tissue) if "gsh" in fields
                                else nan),
            "tissue_mean_atp_supply": atp,
            "tissue_mean_viability": tmean(viability),
            "tissue_rim_viability": rim,
            "tissue_core_viability": core,
            "depth_of_kill_um": kill,
            "tissue_mean_o2": o2_mean,
            "tissue_hypoxic_fraction": hypoxic,
            "mean_zn": volume_mean(fields["zn"], np.ones(tissue.shape, bool)),
            "dissolved_percent": dissolved,
            "penetration_depth_um": depth,
            "particle_peak_depth_um": peak,
            **{f"bulk_{n}": float(in_bulk.get(n, nan)) for n in BULK_SPECIES}}


def energy_of_fields(model: Model, fields: dict[str, np.ndarray]) -> np.ndarray:
    """The cells' ATP supply E (`_kinetics.energy_charge`, 1 untreated) from a frame's fields:
    free Zn2+ from the living cells' zinc and glutathione, the interstitial H2S and O2 where
    the run has them, as the step that follows the frame meets them."""
    k = model.kinetics
    gsh = fields.get("gsh")
    free = k.free_zinc_uM(np.asarray(fields["zn_cell"], float),
                          None if gsh is None else np.asarray(gsh, float))
    h2s, o2 = fields.get("h2s"), fields.get("o2")
    return np.asarray(kin.energy_charge(
        k, free, None if h2s is None else np.asarray(h2s, float),
        None if o2 is None or model.oxygen is None else np.asarray(o2, float), model.oxygen),
        float)


def with_step_peaks(model: Model, scalars: dict[str, float], peaks: np.ndarray | None
                    ) -> dict[str, float]:
    """`scalars` (from `summarise`) with `tissue_max_ros`, `medium_max_ros` and `max_ros`
    raised to the per-step peaks of the interval ending at the frame (`peaks`: (places,
    mobile species) from `_solve.advance`, places in PEAK_PLACES order; None for the initial
    frame). A place without voxels keeps NaN. Single runs and sweeps both use this: one
    definition of a peak."""
    if peaks is None or "max_ros" not in scalars:
        return scalars
    ros = np.asarray(peaks, float)[:, model.mobile_names.index("ros")]
    out = dict(scalars)
    for place, peak in zip(PEAK_PLACES, ros, strict=True):
        name = f"{place}_max_ros"
        if np.isfinite(out[name]) and np.isfinite(peak):
            out[name] = max(out[name], float(peak))
    found = [out[f"{p}_max_ros"] for p in PEAK_PLACES if np.isfinite(out[f"{p}_max_ros"])]
    out["max_ros"] = max([out["max_ros"]] + found)
    return out


def _variables(model: Model) -> dict[str, dict[str, str]]:
    out = {}
    for name in model.mobile_names + model.fixed_names:
        units = kin.UNITS.get(name, "uM")
        long = kin.LONG_NAMES.get(name, f"passive species '{name}'")
        out[name] = {"units": units, "long_name": long}
    if "viability" in out:
        out["viability"]["comment"] = "NaN where there are no cells (medium voxels)"
    return out


def _series(model: Model) -> dict[str, dict[str, str]]:
    if not model.has_material:
        return {}
    return {name: {"units": u, "long_name": long} for name, (u, long) in SUMMARY_UNITS.items()}


class _Stop(Exception):
    """Raised (from a signal handler or after a write) to stop the run cleanly."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """SIGINT/SIGTERM stop the run, but never in the middle of writing a frame.

    Outside `critical()` the handler raises `_Stop` at once; inside it the signal is noted
    and `_Stop` is raised as soon as the frame is on disk. Inside a garbage-collector callback,
    where Python would print the exception with a traceback and drop it, the signal comes
    again when the collection is over (`may_raise_in`); a `_Stop` swallowed all the same stays
    `pending` until the run has `delivered` it, so the next frame raises it again. A signal
    that was ignored when the run started (e.g. SIGINT of a background job) stays ignored.
    Handlers can only be set in the main thread; elsewhere the defaults stay (and
    KeyboardInterrupt is still handled).
    """

    def __init__(self) -> None:
        self.pending: int | None = None
        self.in_critical = False
        self.stopping = False  # a _Stop was raised: later signals must not cut its clean-up
        self.delivered = False  # the run caught a _Stop: it is closing as interrupted
        self.previous: dict[int, Any] = {}

    def _handler(self, signum, frame):
        note_signal(signum)
        self.pending = signum
        if self.in_critical or self.stopping or not may_raise_in(frame, signum):
            return
        self.stopping = True
        raise _Stop(signum)

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                current = signal.getsignal(sig)
                if current is not signal.SIG_IGN:
                    self.previous[sig] = current
                    signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

    def hold(self) -> None:
        """From now on a signal waits in `pending` (the run is complete: nothing is left for
        a signal to stop, and the closing that follows must not be cut)."""
        self.in_critical = True

    @contextlib.contextmanager
    def critical(self, reraise: bool = True) -> Iterator[None]:
        """A block no signal cuts: one that arrives waits in `pending`, raised as `_Stop`
        after the block (`reraise`) or left for the caller to read."""
        self.in_critical = True
        try:
            yield
        finally:
            self.in_critical = False
        if reraise and self.pending is not None and not self.delivered:
            self.stopping = True
            raise _Stop(self.pending)


# /ph is written once: a [[medium_exchange]] with a ph changes the medium voxels' pH later, so
# the file says which time it holds and where the later values are
PH_LONG_NAME = ("extracellular pH at t = 0 (static; a medium exchange with a ph sets the "
                "medium voxels' pH from its time to its event_medium_ph)")


# the sections a resolved config always holds, whatever the model (`resolve` fills each)
_RESOLVED_SECTIONS = ("grid", "geometry", "time", "ph", "boundary", "tissue", "numerics")


def _check_resolved(config: Any, caller: str) -> None:
    """`simulate_to_file` and `simulate_control` take the resolved config, not a path or a
    raw dict as `simulate` does: either failed deep inside (a TypeError on a path's text, a
    KeyError on a section the raw dict leaves to its default). Say what to pass instead."""
    how = ("pass zn_pde.load_config(path, overrides) (a dict: zn_pde.resolve(config)), or "
           "use zn_pde.simulate(config, out=OUT.h5), which takes a path or a dict")
    if not isinstance(config, Mapping):
        raise InputError(f"{caller}'s config is a {type(config).__name__}, not the resolved "
                         f"config (a dict); {how}", file=str(config) if isinstance(
                             config, str | Path) else None, key="config")
    missing = [k for k in _RESOLVED_SECTIONS if not isinstance(config.get(k), dict)]
    if missing:
        raise InputError(f"{caller}'s config is not a resolved config (it has no "
                         f"[{missing[0]}], which resolution always fills in); {how}",
                         key="config")


def simulate_to_file(config: dict[str, Any], out: str | Path, *, overwrite: bool = False,
                     progress: bool = True, resume: bool = False,
                     seed: tuple[Path, int] | None = None,
                     progress_label: str = "simulating", control: bool = True) -> RunResult:
    """Run `config` and stream every saved frame to `out` (HDF5) and `out.xmf` (XDMF).

    `resume=True` continues the incomplete run in `out` from its last saved frame (`config`
    must be the one stored in the file, see `config_of_run`). `seed = (other, frame)` starts
    from frame `frame` of the output `other`, whose frames up to it are copied: a run of a
    config that differs from `other`'s only after that frame's time (`simulate_control`).
    `control=False` marks the file as a run whose control was declined (`zn-pde run
    --no-control`), which a resumed run keeps (`control_declined`).
    Raises InputError for an unusable output (exists without `overwrite`, in use, not
    resumable) and RunError when the run fails or is interrupted; frames saved until then
    stay in the file.
    """
    _check_resolved(config, "simulate_to_file")
    out = Path(out)
    sweep_unroll()  # a bad ZN_PDE_SWEEP_UNROLL is refused before any file is written
    geo = build_geometry(config)
    model = build_model(config, geo)
    schedule = Schedule.from_model(model)
    variables = _variables(model)
    series = _series(model)
    xmf = out.with_suffix(".xmf")
    signals = _Signals()
    static = {} if model.well_mixed else {"tissue_mask": ("UChar", 1), "ph": ("Float", 4)}
    writer: Writer | None = None
    times: list[float] = []
    summary: dict[str, list[float]] = {k: [] for k in series}

    def write_sidecar() -> None:
        if times:
            write_xdmf(xmf, out.name, geo.coords, geo.spacing_um, np.asarray(times),
                       list(model.mobile_names + model.fixed_names), static)

    def on_frame(i: int, t_s: float, state: State, peaks: np.ndarray | None) -> None:
        fields = _output_fields(model, state)
        scalars = with_step_peaks(model, summarise(model, fields, state.bulk,
                                                   int(np.asarray(state.step))), peaks)
        for k, v in scalars.items():
            fields[k] = np.asarray(v)
        with signals.critical():
            writer.append(t_s, fields)
            times.append(t_s)
            for k, v in scalars.items():
                summary[k].append(v)
            write_sidecar()

    total_s = schedule.end_s
    bar = None
    status, message, short = "failed", None, None
    # SIGINT/SIGTERM are handled from before the file is opened until it is closed: a signal
    # while it is opened or closed waits until that is done, so the file always ends with a
    # status (an interrupted run's `interrupted`) and never holds half a frame
    with signals:
        try:
            try:
                with signals.critical():
                    writer, start_frame, state0, saved, seeded = _open_output(
                        config, out, model, geo, schedule, variables, series,
                        overwrite=overwrite, resume=resume, seed=seed, control=control)
                    times.extend(saved)  # (a resumed or seeded file's frames)
                    summary.update(seeded)
                bar = Progress(total_s, enabled=progress, start=times[-1] if times else 0.0,
                               label=progress_label)
                take_short()  # another run's, interrupted before it read them
                run(model, schedule, on_frame, state=state0, start_frame=start_frame,
                    progress=bar)
                short = short_note(take_short(),
                                   config["numerics"].get("transport_tolerance", 0.0))
                signals.hold()  # complete: a signal now waits for the closing
            except KeyboardInterrupt:  # SIGINT outside the main thread's handler
                raise _Stop(signal.SIGINT) from None
            status = "complete"
        except _Stop as e:
            signals.delivered = True
            status = "interrupted"
            name = signal.Signals(e.signum).name
            if writer is None:
                message = f"interrupted by {name} before the run started; nothing was written"
            elif times:
                message = (f"interrupted by {name}; {count(len(times), 'frame')} (0 to "
                           f"{times[-1] / 3600:g} h of {total_s / 3600:g} h) saved in "
                           f"{out}; continue with: zn-pde run --resume {shlex.quote(str(out))}")
            else:
                message = f"interrupted by {name} before the first frame was saved"
            raise Interrupted(message) from None
        except RunError as e:
            message = str(e)
            raise
        except BaseException as e:
            message = f"{type(e).__name__}: {e}"
            raise
        finally:
            with signals.critical(reraise=False):
                if bar is not None:
                    bar.close()
                if writer is not None:
                    try:
                        write_sidecar()
                    finally:
                        writer.close(status, message)
    late = signals.pending  # a signal as the complete file was closed: it is complete
    return RunResult(out, np.asarray(times), {k: np.asarray(v) for k, v in summary.items()},
                     status, None if late is None else signal.Signals(late).name,
                     () if short is None else (short,))


def _open_output(config: dict[str, Any], out: Path, model: Model, geo: Any,
                 schedule: Schedule, variables: dict[str, Any], series: dict[str, Any], *,
                 overwrite: bool,
                 resume: bool, seed: tuple[Path, int] | None, control: bool):
    """The output's writer, set up (created, continued from its last frame, or seeded with
    another run's frames; see `simulate_to_file`), with the frame to start from, its state,
    and the times and series saved so far."""
    state0 = None
    start_frame = 0
    times: list[float] = []
    summary: dict[str, list[float]] = {k: [] for k in series}
    writer = Writer.reopen(out) if resume else None
    if writer is not None and writer.n_frames == 0:
        writer.close("failed", "no frame was saved; restarted from t = 0")
        writer, overwrite = None, True  # killed before its first frame: start afresh
    if writer is not None:
        try:
            start_frame, state0, times, summary = _resume_point(model, schedule, writer,
                                                                variables, series)
        except BaseException:  # leave the file as it was found
            previous = writer.previous_status
            writer.close(previous if previous in STATUSES else "failed",
                         writer.previous_message)
            raise
        # accepted: jax_* say where it is computed from now on, history keeps every part
        history = _text(writer.f.attrs.get("history", ""))
        writer.f.attrs.update({**platform(), "history": "\n".join(
            filter(None, (history, history_line("resumed"))))})
        return writer, start_frame, state0, times, summary
    from ._sweep import _summary_paths
    from .inspect import is_sweep
    if seed is not None and _lacks_any(seed[0], [*variables, *series]):
        # a run written before one of them was saved (tissue_mean_atp_supply: 2026-12-07)
        # has no frames to copy in full: the control computes its own from t = 0, as one
        # with no frame to continue from (`_seed_frame`) does
        seed = None

    replaced_sweep = overwrite and out.exists() and is_sweep(out)
    writer = Writer(out, config_toml=dumps(config),
                    coords=geo.coords,
                    tissue_mask=geo.tissue, variables=variables, series=series,
                    static_fields={"ph": (geo.ph, {"units": "1",
                                                   "long_name": PH_LONG_NAME})},
                    overwrite=overwrite,
                    attrs={**platform(), "history": history_line("run"),
                           **({} if control else {CONTROL_ATTR: "declined"})})
    if replaced_sweep:  # its table and figure go with the file they described
        for old in _summary_paths(out):
            old.unlink(missing_ok=True)
    try:
        writer.write_events(event_table(config))
        if seed is not None:
            start_frame, state0, times, summary = _copy_frames(model, writer, *seed, series)
    except BaseException as e:
        writer.close("failed", f"{type(e).__name__}: {e}")
        raise
    return writer, start_frame, state0, times, summary


def _resume_point(model: Model, schedule: Schedule, writer: Writer,
                  variables: dict[str, Any], series: dict[str, Any]):
    """The frame to continue from, its state, and the times and series saved so far."""
    f, path = writer.f, str(writer.path)
    missing = [k for k in list(variables) + list(series) if k not in f]
    if missing:
        raise InputError(f"cannot resume: the file lacks {', '.join(missing)}, which this "
                         "version of zn-pde writes for its config", file=path)
    n = writer.n_frames
    times = np.asarray(f["time"][:n], float)
    planned = schedule.save_times_s
    if n > planned.size or not np.allclose(times, planned[:n], rtol=1e-9, atol=1e-6):
        raise InputError("cannot resume: the saved times do not match the schedule of the "
                         "stored config", file=path)
    return _history(model, f, n - 1, series)


def _history(model: Model, f, frame: int, series: dict[str, Any]):
    """What a run continued from frame `frame` of the open output `f` starts with: that
    frame, its state, and the times and series saved up to it."""
    times = [float(t) for t in np.asarray(f["time"][:frame + 1], float)]
    summary = {k: [float(v) for v in np.asarray(f[k][:frame + 1])] for k in series}
    return frame, _state_from_file(model, f, frame), times, summary


def _state_from_file(model: Model, f, frame: int) -> State:
    """Rebuild the carried state from a saved frame (the state is saved in full)."""
    import jax.numpy as jnp

    def field(name: str) -> np.ndarray:
        # files written before these were stored: the hazard from the viability (V = e^{−H}),
        # and all of it read as energy failure's (those runs knew no frailty). Not reached by
        # `--resume` (`_resume_point` refuses a file lacking a variable) nor by a control's
        # seed (`_lacks_any`: it starts from t = 0)
        if name in ("hazard", "energy_hazard") and name not in f:
            v = np.nan_to_num(np.asarray(f["viability"][frame], np.float64), nan=1.0)
            return -np.log(np.maximum(v, np.finfo(np.float32).tiny)).reshape(model.tissue.shape)
        a = np.asarray(f[name][frame], np.float64).reshape(model.tissue.shape)
        if name == "viability":  # medium voxels have no cells: saved as NaN, carried as 1
            a = np.where(np.isnan(a), 1.0, a)
        return a

    def stack(names: tuple[str, ...]) -> jnp.ndarray:
        if not names:
            return jnp.zeros(model.tissue.shape + (0,), model.dtype)
        return jnp.asarray(np.stack([field(n) for n in names], -1), model.dtype)

    t_s = float(f["time"][frame])
    step = model.protocol.plan.step_at(t_s)  # the protocol resumes at its own step
    return State(stack(model.mobile_names), stack(model.fixed_names),
                 jnp.asarray(step, jnp.int32), model.bulk_at(step))


def _lacks_any(path: Path, names: list[str]) -> bool:
    """Whether the output `path` lacks any of the datasets `names`."""
    with open_run(path) as f:
        return any(name not in f for name in names)


def _copy_frames(model: Model, writer: Writer, source: Path, frame: int,
                 series: dict[str, Any]):
    """Frames 0..`frame` of the output `source` appended to `writer`; returns its
    `_history`, for continuing from `frame`."""
    with open_run(source) as f:
        history = _history(model, f, frame, series)
        for i, t in enumerate(history[2]):
            writer.append(t, {name: np.asarray(f[name][i]) for name in writer.variables})
    return history


#: Largest step (s) of the control run without the stimuli (`simulate_control`), unless the
#: run's own step is longer or the kinetics need a shorter one, and never with [oxygen] on
#: (`control_dt_s`). Over the default scenario's 20 h after its exposure, 300 s instead of
#: 60 s moves the tissue-mean viability by 0.11 % points
#: (`configs/zno_spheroid_no_stimulus.toml`, 85.94 % vs 85.83 %), at a fifth of the cost.
CONTROL_DT_S = 300.0


#: A control that ends this much (fraction of the cells) below its run shows its own step
#: error, not a gain from the stimuli: the default scenario's control moves by 0.11 % points
#: between dt_s 60 and 300 s (`CONTROL_DT_S`).
CONTROL_STEP_ERROR = 0.005


def within_step_error(kill: float, longer_step: bool = True) -> bool:
    """Whether a kill (the control's final viability minus the run's, a fraction) is the
    control ending below the run by no more than its step error (`CONTROL_STEP_ERROR`): no
    measurable kill, not cells the stimuli spared. Only a control that stepped longer than
    its run (`longer_step`, `control_steps_longer`) has such an error; at the run's own
    step the difference is the stimuli's."""
    return longer_step and -CONTROL_STEP_ERROR <= kill < 0.0


def control_steps_longer(config: dict[str, Any], control: dict[str, Any]) -> bool:
    """Whether the control (its resolved config `control`) stepped longer than the run of
    `config`: its `time.dt_s` the larger (`control_dt_s`; True where a stored config does
    not say, as every control did before [oxygen] kept the run's step)."""
    try:
        return float(control["time"]["dt_s"]) > float(config["time"]["dt_s"])
    except (KeyError, TypeError, ValueError):
        return True


def killed_text(alive: float, alive_control: float, longer_step: bool = True) -> str:
    """What the stimuli killed, in words: "X % of the cells", or none where the control ends
    below the run by no more than its step error (`within_step_error`)."""
    kill = alive_control - alive
    if within_step_error(kill, longer_step):
        return (f"none measurable (the control ends {-100 * kill:.2f} % points below the run, "
                "within its step error)")
    # a kill that rounds to 0 reads "0.00", not "-0.00" (a control a hair below its run)
    return f"{round(100 * kill, 2) + 0.0:.2f} % of the cells"


def control_path(out: str | Path) -> Path:
    """Where `simulate_control` writes the control of the run in `out`."""
    out = Path(out)
    return out.with_name(f"{out.stem}_control{out.suffix}")


def first_exposure_h(config: dict[str, Any]) -> float | None:
    """Start (h) of the run's first ultrasound or light exposure of non-zero intensity, None
    without any (a control run has none)."""
    starts = [e["start_h"] for e in config.get("ultrasound", []) if e["intensity_W_per_cm2"] > 0]
    starts += [e["start_h"] for e in config.get("light", []) if e["irradiance_mW_per_cm2"] > 0]
    return min(starts) if starts else None


def control_dt_s(config: dict[str, Any]) -> float:
    """The control run's step: with [oxygen] on, and in a well-mixed compartment, the run's
    own (the control then steps as the run does, `time.exposure_min_steps` inside its
    zero-intensity exposures included, and differs only in the stimuli it removes);
    otherwise `CONTROL_DT_S` where the kinetics allow it, never shorter than the run's own.
    A well-mixed control costs nothing at any step, and 300 s moved the shipped 2D culture's
    (`configs/zno_culture_well_mixed.toml`) viability at 24 h by 0.32 % points (62.74 %
    against 63.06 % at its 60 s; a domain audit, 2026-12-07), three times the default
    spheroid's: a kill of 0.12 % by the stimuli's own hits then read "none measurable".
    The longer step's error, 0.11 % points of the default scenario's viability
    (`CONTROL_STEP_ERROR`), was measured without oxygen; with it the O2 profile depends on
    the step too (the splitting's ~5 % at large steps, docs/limitations.md), and the O2 is
    what the stimuli change most there:
    `configs/zno_spheroid_oxygen_repeated_us.toml`'s control read a 3.86 % hypoxic tissue
    at 300 s against 3.22 % at the run's 60 s (tissue-mean O2 120.1 against 119.2 uM,
    viability 86.92 against 87.05 %)."""
    dt = config["time"]["dt_s"]
    if (config.get("oxygen") or {}).get("enabled") or config["grid"]["kind"] == "well_mixed":
        return dt
    return max(dt, min(CONTROL_DT_S, largest_accurate_dt_s(config)))


def control_config(config: dict[str, Any]) -> dict[str, Any]:
    """`config` without its stimuli: every exposure kept, at intensity (irradiance) 0, so
    that the protocol and the saved times stay the run's own, and the step `control_dt_s`
    (resolved again, so it is a valid config)."""
    raw = unresolved(config)
    for e in raw.get("ultrasound", []):
        e["intensity_W_per_cm2"] = 0.0
    for e in raw.get("light", []):
        e["irradiance_mW_per_cm2"] = 0.0
    raw["time"]["dt_s"] = control_dt_s(config)
    out = resolve(raw, "the control run's config")
    out["_name"] = f"{config.get('_name', 'run')}_control"
    return out


def stimuli_can_act(config: dict[str, Any]) -> bool:
    """Whether any exposure of the run can make ROS (`stimuli.exposure_can_act`: ultrasound
    above the inertial-cavitation threshold at its frequency, light whose photons the
    material, above its band gap, or an enabled [photosensitiser] absorbs, directly or as
    ZnO's second harmonic). The others change nothing in the model (`zn_pde._notes` says so
    for each), so their control would be the run itself."""
    from .stimuli import exposure_can_act

    return any(exposure_can_act(section, e, config) for section in ("ultrasound", "light")
               for e in config.get(section, []))


def particles_given(config: dict[str, Any]) -> bool:
    """Whether the run gives any particles: a [material] with a dose at t = 0 or in a
    [[dose]] event. The stimuli act through the particles (and a [photosensitiser] loaded on
    them), so without any they make no ROS."""
    from ._notes import most_particles_held_ug_per_ml

    return "material" in config and most_particles_held_ug_per_ml(config) > 0


def makes_control(config: dict[str, Any]) -> bool:
    """Whether `zn-pde run` of this config makes a control run (`simulate_control`): an
    exposure that can act (`stimuli_can_act`), particles given (`particles_given`) and
    cells, and not every exposure over before the first particles are given
    (`_notes.exposures_before_particles`: those make no ROS, so the control would be the run
    itself)."""
    return (first_exposure_h(config) is not None and particles_given(config)
            and config["geometry"]["kind"] != "medium" and stimuli_can_act(config)
            and not all_exposures_before_particles(config))


def all_exposures_before_particles(config: dict[str, Any]) -> bool:
    """Whether every exposure of non-zero intensity, each repeat, ends before the first
    particles are given (`_notes.exposures_before_particles`)."""
    from ._notes import active_exposures, exposures_before_particles

    early = {(kind, i): n == repeats
             for kind, i, n, repeats, _ in exposures_before_particles(config)}
    exposures = [(kind, i) for kind, i, _ in active_exposures(config)]
    return bool(exposures) and all(early.get(x, False) for x in exposures)


def simulate_control(config: dict[str, Any], out: str | Path, *, progress: bool = True
                     ) -> RunResult | None:
    """The control of the complete run in `out`: the same run without its stimuli
    (`control_config`), written to `control_path(out)` (replacing an earlier one). Before
    the first exposure the two are the same run, so the control copies the run's frames up
    to the last one saved at or before it that its own schedule saves too (`_seed_frame`)
    and continues from there. None for a run without exposures, particles or cells (a
    cell-free vial: the stimuli have nothing to kill, and the control would only show its
    medium without their ROS). Raises InputError when `config` is not the config of the run
    in `out` (the control would continue that run's frames under another protocol)."""
    _check_resolved(config, "simulate_control")
    if not makes_control(config):
        return None
    if _public(resolve(unresolved(config), "simulate_control's config")) != _public(
            config_of_run(out)):
        raise InputError("simulate_control's config is not the one this run was made from, "
                         "so its control would continue the run's frames under another "
                         "config; allowed: the run's own config, e.g. zn_pde.load_config("
                         "path, overrides) with the overrides the run had, or "
                         "tomllib.loads(ds.attrs['config'])", file=str(out), key="config")
    start_h = first_exposure_h(config)
    control = control_config(config)
    with open_run(out) as f:
        saved_s = np.asarray(f["time"][:], float)
    frame = _seed_frame(saved_s, Schedule.from_config(control).save_times_s, start_h * 3600.0)
    return simulate_to_file(control, control_path(out), overwrite=True, progress=progress,
                            seed=None if frame is None else (Path(out), frame),
                            progress_label="control without the stimuli")


def _seed_frame(saved_s: np.ndarray, planned_s: np.ndarray, start_s: float) -> int | None:
    """The last of the run's frames (times `saved_s`) at or before `start_s` that the
    control can continue from: one of the leading frames the control's own schedule saves
    at the same times (`planned_s`). The frames one step after a dose or a medium exchange
    differ, as the control's step is longer: from the first such frame on, the control
    computes its own. None when no frame qualifies."""
    n = min(saved_s.size, planned_s.size)
    same = np.isclose(saved_s[:n], planned_s[:n], rtol=1e-9, atol=1e-6)
    common = n if same.all() else int(np.argmin(same))
    ok = np.flatnonzero(saved_s[:common] <= start_s + 1e-6)
    return int(ok[-1]) if ok.size else None


def own_control(out: str | Path) -> Path | None:
    """The control `zn-pde run` wrote beside the complete run in `out` (`control_path`), when
    it is there and was made from this run's config (`control_config`); None when the run is
    incomplete, or the control absent, unreadable, or left from a run of another config."""
    path = control_path(out)
    if not path.exists():
        return None
    try:
        config = config_of_run(out)
        # not `makes_control`: a control an earlier version wrote beside a cell-free run or
        # one given no particles is still read (inspect says what it shows)
        if (not config["_complete"] or first_exposure_h(config) is None
                or "material" not in config or not stimuli_can_act(config)):
            return None
        expected, stored = control_config(config), config_of_run(path)
    except (InputError, OSError, KeyError):
        return None
    return path if _public(stored) == _public(expected) else None


def _public(config: dict[str, Any]) -> dict[str, Any]:
    """`config` without its private `_` entries (name, file, derived values)."""
    return {k: v for k, v in config.items() if not k.startswith("_")}


def config_of_run(path: str | Path) -> dict[str, Any]:
    """The resolved config stored in an output file (validated again)."""
    with open_run(path) as f:
        text = f.attrs["config"]
        text = text.decode() if isinstance(text, bytes) else str(text)
        complete = int(f.attrs.get("complete", 0))
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"the stored config is not valid TOML ({e})", file=str(path)
                         ) from None
    if isinstance(raw.get("time"), dict) and "save_around_events" not in raw["time"]:
        # written before frames around events existed: its frames are the regular ones only
        raw["time"]["save_around_events"] = False
    cfg = resolve(raw, f"{path} (stored config)")
    cfg["_name"] = Path(path).stem
    cfg["_complete"] = complete
    return cfg


#: File attribute of a run started without its control run (`zn-pde run --no-control`).
CONTROL_ATTR = "control_run"


def control_declined(path: str | Path) -> bool:
    """Was the run in `path` started without its control (`simulate_to_file(control=False)`)?
    A resumed run keeps that choice."""
    with open_run(path) as f:
        value = f.attrs.get(CONTROL_ATTR, "")
    return (value.decode() if isinstance(value, bytes) else str(value)) == "declined"


def check_resumable(path: Path) -> None:
    # a damaged file (e.g. killed while its header was being written) is bad input, exit 2,
    # and holds nothing to resume from: the way on is to start again
    try:
        cfg = read_retrying(path, lambda: config_of_run(path))
    except InputError as e:
        if _is_xdmf(path):  # the sidecar: the message names the run to resume instead
            raise
        raise InputError(f"{e.message}; nothing can be resumed from it: run its config again "
                         "with --overwrite (from t = 0)", file=str(path)) from None
    if cfg["_complete"]:
        raise InputError("this run is already complete; nothing to resume (plot or inspect "
                         "it, or run again with --overwrite)", file=str(path))
