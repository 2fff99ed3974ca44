"""The config schema: every key, its type, unit, default and allowed range.

One table drives validation, defaults, `zn-pde validate` output and the docs. Units are part
of every key name (`_um`, `_s`, `_h`, `_uM`, ...), as the public contract requires.
Material-dependent defaults of the `[kinetics]` section live with the material presets
(`zn_pde.materials`), not here.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

REQUIRED = object()  # sentinel: the key has no default

# the unit a key's name ends in, as plain text for files (HDF5 `units`, JSON, figure labels);
# longest first where one suffix ends another (`_uM_per_s` is not `_per_s`)
_KEY_SUFFIX_UNITS = (
    ("_dB_per_cm_MHz", "dB/(cm MHz)"), ("_uM_per_s_per_ug_per_ml", "uM/s per ug/mL"),
    ("_per_uM_per_s", "1/(uM s)"), ("_uM_per_s", "uM/s"),
    ("_um2_per_s", "um^2/s"), ("_ug_per_ml", "ug/mL"), ("_cm2_per_ug", "cm^2/ug"),
    ("_per_W_per_cm2", "1/(W/cm^2)"), ("_W_per_cm2", "W/cm^2"), ("_mW_per_cm2", "mW/cm^2"),
    ("_J_per_cm2", "J/cm^2"), ("_per_M_per_cm", "1/(M cm)"), ("_per_cm", "1/cm"),
    ("_per_h", "1/h"), ("_per_s", "1/s"),
    ("_uM", "uM"), ("_um", "um"), ("_min", "min"), ("_h", "h"), ("_s", "s"), ("_nm", "nm"),
    ("_MHz", "MHz"), ("_eV", "eV"), ("_per_ph", "1/pH"), ("_ug_per_ug", "ug/ug"),
    ("_g_per_mol", "g/mol"),
)


def key_units(key: str) -> str:
    """The unit a dotted config key's name carries ("1" for none); an index
    (`geometry.center_um[0]`) or the tissue/medium entry of a pair
    (`species[0].decay_per_s.medium`) keeps its list's or pair's unit. One reading for every
    output that names a key's unit: a sweep's coordinates, a plan's controls and caps."""
    key = re.sub(r"(\[\d+\]|\.(tissue|medium))+$", "", key)
    for suffix, unit in _KEY_SUFFIX_UNITS:
        if key.endswith(suffix):
            return unit
    return "1"


@dataclasses.dataclass(frozen=True)
class Key:
    """One config key.

    kind: "float" | "int" | "str" | "bool" | "float3" | "int3" | "pair" (a
    `{ tissue = x, medium = y }` table of floats) | "float_list" | "shape" (a list of 1 or 3
    integers: a radial or a cartesian grid).
    lo, hi: inclusive bounds unless `lo_open`/`hi_open`; `choices` for strings.
    """

    kind: str
    default: Any = REQUIRED
    doc: str = ""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] | None = None
    optional: bool = False  # may be absent with no default (e.g. center_um)
    hint: str = ""  # said after an out-of-range value's allowed range (what to do instead)

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo = "" if self.lo is None else ("> " if self.lo_open else ">= ") + f"{self.lo:g}"
        hi = "" if self.hi is None else ("< " if self.hi_open else "<= ") + f"{self.hi:g}"
        what = {
            "float": "a finite number",
            "int": "an integer",
            "str": "a string",
            "bool": "true or false",
            "float3": "a list of 3 finite numbers",
            "int3": "a list of 3 integers",
            "shape": "a list of 3 integers (cartesian: x, y, z) or 1 (radial: shells)",
            "pair": ("a number (the same in tissue and medium) or a table "
                     "{ tissue = number, medium = number }"),
            "float_list": "a list of finite numbers",
        }[self.kind]
        bounds = " and ".join(b for b in (lo, hi) if b)
        several = self.kind in ("float3", "int3", "pair", "float_list", "shape")
        joiner = (", each " if several else " ") if bounds else ""
        return f"{what}{joiner}{bounds}".rstrip()


def _pos(doc: str, default: Any = REQUIRED, **kw: Any) -> Key:
    return Key("float", default, doc, lo=0.0, lo_open=True, **kw)


def _nonneg(doc: str, default: Any = REQUIRED, **kw: Any) -> Key:
    return Key("float", default, doc, lo=0.0, **kw)


_PH = {"lo": 0.0, "hi": 14.0}


#: The largest value a constant without a physical upper bound may take: inside float32
#: (3.4e38) with room for the products a step forms, so that an absurd value is refused by name
#: instead of turning a field into inf or NaN mid-run.
UNBOUNDED_MAX = 1e30


def parameter_key(p) -> Key:
    """The config key of a cited `Parameter`: its value, bounds and provenance."""
    return Key("float", p.value, f"{p.meaning} ({p.unit}); {p.source}", lo=p.lower,
               lo_open=p.lower_open, hi=UNBOUNDED_MAX if p.upper == float("inf") else p.upper)


def _oxygen_section() -> dict[str, Key]:
    from ..materials._common import OXYGEN

    keys = {"enabled": Key("bool", False, "simulate dissolved oxygen (consumption by cells, "
                           "supply from the medium and catalase; scales photo/sono ROS yield)")}
    return keys | {p.name: parameter_key(p) for p in OXYGEN}


SECTIONS: dict[str, dict[str, Key]] = {
    "grid": {
        "kind": Key("str", "cartesian", "cartesian (3D), radial (a spherically symmetric "
                    "spheroid centred at r = 0, 1-D in r) or well_mixed (one compartment)",
                    choices=("cartesian", "radial", "well_mixed")),
        "shape": Key("shape", [64, 64, 64], "cartesian: voxels along x, y, z; radial: [n] "
                     "shells out to the domain radius n x spacing_um (default [32]: the "
                     "sphere inscribed in the default 64^3 box)", lo=1, hi=2048),
        "spacing_um": _pos("isotropic voxel edge, or radial shell thickness (um)", 10.0,
                           hi=1e5),
    },
    "time": {
        "end_h": _pos("simulated time (h)", 24.0, hi=1e4),
        "dt_s": _pos("time step (s)", 60.0, hi=86400.0),
        "save_every_min": _pos("interval between saved frames (min)", 60.0, hi=1e6),
        "exposure_min_steps": Key(
            "int", 32, "fewest steps taken inside every exposure (each repeat), however short "
            "it is; dt_s stays the largest step. The radicals an exposure delivers change "
            "within it; 32 steps give its effect within 0.1 % of 512 steps (1 step: 97 %; "
            "measured without [oxygen], see zn_pde/_protocol.py). An exposure that drains "
            "the O2 its yield needs ([oxygen] on) converges more slowly: with 32 steps "
            "well-mixed cultures got 0.7 % (10 min of 20 mW/cm2 at 365 nm on "
            "configs/zno_culture_well_mixed.toml) and 1.7 % (2 min of 2 W/cm2 on ZnS at "
            "100 ug/mL, cell volume fraction 0.2) less radical dose than with 512; raise it "
            "there", lo=1, hi=100000),
        "save_around_events": Key(
            "bool", True, "also save a frame at the start and at the end of every exposure "
            "(each repeat), and at the time of every [[dose]] and [[medium_exchange]] (the "
            "state just before it) and dt_s seconds after it (what it did), besides the "
            "frames every save_every_min minutes; frames around later repeats of an "
            "exposure are kept a whole repeat (start and end) at a time, earliest first, "
            "while the frames around events number at most the regular ones; the saved "
            "times are then not evenly spaced"),
    },
    "geometry": {
        "kind": Key("str", "spheroid",
                    "spheroid: a ball of tissue in medium; uniform: all tissue; "
                    "medium: no tissue (a cell-free vial)",
                    choices=("spheroid", "uniform", "medium")),
        "radius_um": _pos("spheroid radius (um)", 250.0, hi=1e6),
        "center_um": Key("float3", None, "spheroid centre (um); default: domain centre "
                         "(cartesian only: a radial spheroid is centred at r = 0)",
                         optional=True),
        "cell_volume_fraction": Key(
            "float", 0.8,
            "volume fraction of cells in tissue voxels (well_mixed: cells per well volume); "
            "default 1 - tissue.extracellular_volume_fraction (0.8 when neither is set: "
            "extracellular fraction 0.2, Sykova & Nicholson 2008); below 1, leaving the fluid "
            "through which particles and ions reach the cells",
            lo=0.0, lo_open=True, hi=1.0, hi_open=True),
    },
    "boundary": {
        "kind": Key("str", "dirichlet",
                    "dirichlet: faces (radial: the outer wall) held at the medium value; "
                    "neumann: zero flux",
                    choices=("dirichlet", "neumann")),
        "bulk_medium": Key("str", "reacting",
                           "the bulk medium beyond dirichlet faces: reacting (a cell-free "
                           "well-mixed medium whose particles dissolve at ph.medium, its Zn2+, "
                           "co-product and cargo accumulating and its ROS decaying, as in a "
                           "well; the spheroid's exchange with it is neglected) or fixed (the "
                           "dose and fresh medium, an unlimited reservoir)",
                           choices=("reacting", "fixed")),
    },
    "numerics": {
        "precision": Key("str", "float32", "state precision", choices=("float32", "float64")),
        "reaction_substeps": Key("int", 1, "reaction sub-steps per time step", lo=1, hi=1000),
        "transport_solve": Key("str", "lod",
                               "the 3D grid's implicit transport step: lod (one tridiagonal "
                               "solve per axis, sink and source split in thirds; an O(dt) "
                               "sweep-order asymmetry between axes where D dt/h^2 and "
                               "k dt are large) or unsplit (the whole 7-point system by "
                               "BiCGSTAB preconditioned by shifted LOD sweeps: no splitting "
                               "error, several times the transport's cost; "
                               "docs/performance.md). Radial and well_mixed grids always "
                               "solve unsplit and ignore it",
                               choices=("lod", "unsplit")),
        "transport_tolerance": Key("float", 1e-6,
                                   "relative residual |b - A c|/|b| (2-norm, per species) at "
                                   "which the unsplit solve stops (at most 50 iterations a "
                                   "step; the summary notes solves that ended above 10x "
                                   "it); a change per step below it may be taken only in "
                                   "part (see zn_pde/_unsplit.py)", lo=1e-12, hi=1e-2),
        "devices": Key("int", 1, "devices to shard the grid over (along y; a radial grid "
                       "runs whole on one, a sweep spreads its points over them); see "
                       "docs/performance.md", lo=1, hi=4096),
    },
    "material": {
        "kind": Key("str", "ZnO", "nanoparticle material", choices=("ZnO", "ZnO2", "ZIF-8", "ZnS")),
        "dose_ug_per_ml": _nonneg("nanoparticle mass concentration added to the medium at t = 0",
                                  20.0, hi=1e5),
        "hydrodynamic_diameter_nm": _pos("hydrodynamic diameter (nm), sets the particle "
                                         "diffusivity by Stokes-Einstein", None, hi=1e5,
                                         optional=True),
    },
    "ph": {
        "medium": Key("float", 7.4, "bulk medium pH (and the only compartment of well_mixed)",
                      **_PH),
        "tissue_rim": Key("float", 7.0, "extracellular pH at the spheroid surface", **_PH),
        "tissue_core": Key("float", 6.6, "extracellular pH at the spheroid centre", **_PH),
        "lysosome": Key("float", None, "lysosomal pH of internalised particles (default from "
                        "the material table)", optional=True, **_PH),
    },
    "tissue": {
        "ultrasound_attenuation_dB_per_cm_MHz": _nonneg(
            "acoustic attenuation of tissue (dB/cm/MHz)", None, hi=100.0, optional=True),
        "medium_ultrasound_attenuation_dB_per_cm_MHz": _nonneg(
            "acoustic attenuation of the medium (dB/cm/MHz)", None, hi=100.0, optional=True),
        "light_attenuation_per_cm": _nonneg(
            "effective optical attenuation of tissue (1/cm); default from the wavelength table",
            None, hi=1e4, optional=True),
        "light_model": Key("str", "beer_lambert",
                           "tissue optics of the default attenuation: beer_lambert (mu_a + "
                           "mu_s', spheroid scale, within a transport mean free path) or "
                           "diffusion (sqrt(3 mu_a (mu_a + mu_s')), thick tissue)",
                           choices=("beer_lambert", "diffusion")),
        "medium_light_attenuation_per_cm": _nonneg(
            "effective optical attenuation of the medium (1/cm)", None, hi=1e4, optional=True),
        "ultrasound_cavitation_threshold_W_per_cm2": _nonneg(
            "inertial-cavitation threshold intensity at 1 MHz: no sonodynamic ROS below it "
            "(W/cm^2; default 0.813, scaled to the exposure's frequency as f^x)", None,
            hi=100.0, optional=True),
        "ultrasound_cavitation_saturation_W_per_cm2": _pos(
            "intensity at 1 MHz above which the cavitation ROS yield stops rising (W/cm^2; "
            "default 3.66, scaled to the exposure's frequency as f^x)", None, hi=100.0,
            optional=True),
        "ultrasound_cavitation_frequency_exponent": _nonneg(
            "x: the cavitation threshold and saturation intensities scale as (f / 1 MHz)^x "
            "(default 1: the mechanical index p/sqrt(f))", None, hi=4.0, optional=True),
        "extracellular_volume_fraction": Key(
            "float", None, "extracellular fluid volume fraction alpha of tissue voxels; "
            "default 1 - geometry.cell_volume_fraction (0.2 when neither is set, Sykova & "
            "Nicholson 2008); well_mixed runs use 1 - cell_volume_fraction",
            lo=0.0, lo_open=True, hi=1.0, optional=True),
        "tortuosity": Key("float", None, "tortuosity lambda of the extracellular space: "
                          "D* = D / lambda^2 for the model's solutes in tissue (default 1.6)",
                          lo=1.0, hi=10.0, optional=True),
        "extracellular_gap_nm": _pos("width of the extracellular channels, the pore of the "
                                     "Renkin hindrance of particles (nm; default 120)", None,
                                     hi=1e5, optional=True),
        "surface_uptake_share": Key("float", None, "particle uptake by the surface cells "
                                    "straight from the medium, as a share of a 2D-cultured "
                                    "cell's (default 1/3)", lo=0.0, hi=1.0, optional=True),
    },
}

SECTIONS["oxygen"] = _oxygen_section()


def _photosensitiser_section() -> dict[str, Key]:
    from ..materials._common import (
        CE6_ABSORPTION_NM,
        CE6_MOLAR_ABSORPTION_PER_M_PER_CM,
        PHOTOSENSITISER,
    )

    keys = {"enabled": Key("bool", False, "particles carry a photosensitiser (e.g. chlorin e6)"),
            "absorption_nm": Key("float_list", list(CE6_ABSORPTION_NM),
                                 "absorption maxima (nm); default chlorin e6 (assumed typical)",
                                 lo=200.0, hi=1500.0),
            "molar_absorption_per_M_per_cm": Key(
                "float_list", list(CE6_MOLAR_ABSORPTION_PER_M_PER_CM),
                "molar absorption coefficient at each of absorption_nm, in the same order "
                "(1/(M cm)); default chlorin e6 (assumed: typical free-base chlorin values, "
                "Soret ~1.5e5, Q band ~4e4; no primary spectrum read)", lo=0.0, hi=1e7)}
    return keys | {p.name: parameter_key(p) for p in PHOTOSENSITISER}


SECTIONS["photosensitiser"] = _photosensitiser_section()


def _medium_section() -> dict[str, Key]:
    from ..materials.media import COMPOSITION_DOC, COMPOSITIONS, DEFAULT_COMPOSITION, MEDIUM

    keys = {"composition": Key("str", DEFAULT_COMPOSITION,
                               "what the extracellular fluid (medium and interstitial fluid) "
                               "holds that binds dissolved zinc: " + COMPOSITION_DOC,
                               choices=tuple(COMPOSITIONS))}
    for p in MEDIUM:
        k = parameter_key(p)
        keys[p.name] = dataclasses.replace(k, default=None, optional=True)
    return keys


SECTIONS["medium"] = _medium_section()

ARRAY_SECTIONS: dict[str, dict[str, Key]] = {
    "species": {
        "name": Key("str", REQUIRED, "variable name in the output"),
        "diffusivity_um2_per_s": Key("pair", REQUIRED, "diffusivity (um^2/s)", lo=0.0, hi=1e7),
        "decay_per_s": Key("pair", {"tissue": 0.0, "medium": 0.0},
                           "first-order decay (1/s), implicit with the diffusion",
                           lo=0.0, hi=1e9),
        "initial_uM": Key("pair", {"tissue": 0.0, "medium": 0.0},
                          "initial concentration (uM); a well_mixed compartment of "
                          "geometry 'uniform' (cells in medium) starts from the tissue value, "
                          "one of geometry 'medium' from the medium value; a medium exchange "
                          "(with a [material]: exchanges need one) sets the medium value",
                          lo=0.0, hi=1e9),
        "boundary_uM": _nonneg("value held on the faces under dirichlet (uM)", 0.0, hi=1e9),
    },
    "ultrasound": {
        "start_h": _nonneg("exposure start (h); an exposure (or a repeat) that starts at or "
                           "after time.end_h is left out of the run, with a note", REQUIRED,
                           hi=1e4),
        "duration_min": _pos("exposure duration (min)", REQUIRED, hi=1e6),
        "intensity_W_per_cm2": _nonneg("spatial-peak intensity while the pulse is on, at the "
                                       "z = 0 face (W/cm^2)", REQUIRED, hi=100.0),
        "frequency_MHz": _pos("frequency (MHz)", 1.0, hi=100.0),
        "duty_cycle": Key("float", 1.0, "fraction of time the pulsed beam is on (the step sees "
                          "duty x the cavitation activity of the peak intensity)",
                          lo=0.0, lo_open=True, hi=1.0),
        "repeats": Key("int", 1, "number of identical exposures", lo=1, hi=10000),
        "repeat_every_h": _pos("interval between repeated exposures (h)", None, hi=1e4,
                               optional=True),
    },
    "light": {
        "start_h": _nonneg("exposure start (h); an exposure (or a repeat) that starts at or "
                           "after time.end_h is left out of the run, with a note", REQUIRED,
                           hi=1e4),
        "duration_min": _pos("exposure duration (min)", REQUIRED, hi=1e6),
        "wavelength_nm": Key("float", REQUIRED, "wavelength (nm)", lo=200.0, hi=1500.0),
        "irradiance_mW_per_cm2": _nonneg("irradiance at the z = 0 face while the light is "
                                         "on (mW/cm^2; a pulsed source's in-pulse, peak "
                                         "value: the mean is it times duty_cycle, at most "
                                         "1e5)", REQUIRED, hi=1e12),
        "duty_cycle": Key("float", 1.0, "fraction of time the light is on (pulsed sources)",
                          lo=0.0, lo_open=True, hi=1.0),
        "repeats": Key("int", 1, "number of identical exposures", lo=1, hi=10000),
        "repeat_every_h": _pos("interval between repeated exposures (h)", None, hi=1e4,
                               optional=True),
    },
    "dose": {
        "time_h": Key("float", REQUIRED, "time the particles are added to the medium (h), in "
                      "[0, time.end_h) (one at or after the end is left out, with a note)"),
        "dose_ug_per_ml": Key("float", REQUIRED, "nanoparticle mass concentration added to the "
                              "medium (ug/mL), on top of what it holds", lo=0.0, hi=1e5,
                              hint="a dose cannot remove particles: a [[medium_exchange]] "
                              "does"),
    },
    "medium_exchange": {
        "time_h": Key("float", REQUIRED, "time the medium is replaced by fresh, particle-free "
                      "medium (h), in [0, time.end_h) (one at or after the end is left out, "
                      "with a note); the tissue keeps what it holds"),
        "ph": Key("float", None, "pH of the fresh medium (default: ph.medium)", optional=True,
                  **_PH),
    },
}

# Names the passive species may not take: the model's own variables and the file's coordinates.
RESERVED_NAMES = frozenset(
    {"x", "y", "z", "r", "time", "tissue_mask", "np", "np_int", "zn", "zn_cell", "zn_free_cell",
     "ros", "gsh", "viability", "ph", "h2o2", "h2s", "cargo", "o2", "zn_phosphate",
     "radical_dose", "np_dead", "zn_dead", "sweep"}
)
