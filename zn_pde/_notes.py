"""Notes on a resolved config: what it asks for that the model does not do, or does only in
part (light below the band gap, ultrasound below the cavitation threshold or above the range
without mechanical damage, zinc nothing caps, ...). Each is one line of text starting
"  note: ", as `zn-pde validate` and `zn-pde run` print them; `config_notes` gathers them,
and `simulate` issues them as `ConfigNote` warnings."""

from __future__ import annotations

import math


def inactive_light_lines(config: dict) -> list[str]:
    """A note for each [[light]] whose photons are below the material's band gap: it makes no
    ROS at the particles (a co-loaded photosensitiser may still absorb it)."""
    from .stimuli.light import activates, photon_energy_eV

    if "material" not in config:
        return []
    from ._model import photosensitiser_excitation_uM_per_s

    gap = config["kinetics"]["band_gap_eV"]
    kind = config["material"]["kind"]
    ps = config.get("photosensitiser") or {}
    out = []
    for i, e in enumerate(config.get("light", [])):
        if not activates(e["wavelength_nm"], gap):
            energy = photon_energy_eV(e["wavelength_nm"])
            note = (f"  note: light[{i}] at {e['wavelength_nm']:g} nm ({energy:.2f} eV) is "
                    f"below the band gap of {kind} ({gap:g} eV): it activates no particle")
            if not ps.get("enabled"):
                note += " (only a [photosensitiser] could absorb it)"
            else:
                direct, harmonic = photosensitiser_excitation_uM_per_s(
                    e["wavelength_nm"], e["irradiance_mW_per_cm2"], ps, kind)
                share = ps["shg_efficiency_per_W_per_cm2"] * e["irradiance_mW_per_cm2"] / 1e3
                note += ("; the photosensitiser absorbs it" if direct else
                         f"; the photosensitiser absorbs {kind}'s second harmonic of it, "
                         f"{share:.2g} of the light at the entry"
                         + (" (negligible: second-harmonic generation needs pulses of high "
                            "peak irradiance: irradiance_mW_per_cm2 the in-pulse value, "
                            "duty_cycle the share of time on)" if share < 1e-6 else "")
                         if harmonic else
                         "; nor does it excite the photosensitiser (outside its absorption "
                         "bands, and no second harmonic in them)")
            out.append(note)
    return out


def quiet_ultrasound_lines(config: dict) -> list[str]:
    """A note for each ultrasound exposure below the inertial-cavitation threshold at its
    frequency (`tissue.ultrasound_cavitation_threshold_W_per_cm2` at 1 MHz, scaled as f^x):
    it makes no ROS, so it does nothing in the model."""
    from .stimuli.ultrasound import cavitation_threshold_W_per_cm2

    if "material" not in config:
        return []
    tissue = config["tissue"]
    out = []
    for i, e in enumerate(config.get("ultrasound", [])):
        threshold = cavitation_threshold_W_per_cm2(e["frequency_MHz"], tissue)
        if 0 < e["intensity_W_per_cm2"] <= threshold:
            out.append(f"  note: ultrasound[{i}] at {e['intensity_W_per_cm2']:g} W/cm^2 is "
                       f"at or below the inertial-cavitation threshold at "
                       f"{e['frequency_MHz']:g} MHz ({threshold:.3g} W/cm^2): it makes no "
                       "ROS, and the model has no other effect of ultrasound")
    return out


def first_particles_h(config: dict) -> float | None:
    """When particles are first given (h): 0 for a `material.dose_ug_per_ml` above 0, else the
    earliest [[dose]] above 0; None where none are (or without a [material])."""
    if "material" not in config:
        return None
    times = ([0.0] if config["material"]["dose_ug_per_ml"] > 0 else []) + [
        d["time_h"] for d in config.get("dose", []) if d["dose_ug_per_ml"] > 0]
    return min(times) if times else None


def exposures_before_particles(config: dict) -> list[tuple[str, int, int, int, float]]:
    """(kind, index, repeats that end before the first particles, all its repeats, the end
    (h) of the last of them) for each exposure of non-zero intensity with a repeat that ends
    at or before the first particles are given (`first_particles_h`): the stimuli make their
    ROS at the particles (a [photosensitiser] is loaded on them), so such a repeat makes
    none. A dose at an exposure's end acts after it (at the start of the next step)."""
    from ._model import expand_repeats

    first = first_particles_h(config)
    if first is None:  # no particles at all: the summary says so ("no particles are given")
        return []
    out = []
    for kind, i, entry in active_exposures(config):
        ends = [r["start_h"] + r["duration_min"] / 60.0 for r in expand_repeats([entry])]
        early = [end for end in ends if end <= first + 1e-12 * max(1.0, first)]
        if early:
            out.append((kind, i, len(early), len(ends), max(early)))
    return out


def active_exposures(config: dict) -> list[tuple[str, int, dict]]:
    """(kind, index, entry) of each ultrasound or light exposure of non-zero intensity
    (irradiance)."""
    from ._protocol import EXPOSURE_KINDS

    out = []
    for kind in EXPOSURE_KINDS:
        amplitude = "intensity_W_per_cm2" if kind == "ultrasound" else "irradiance_mW_per_cm2"
        out += [(kind, i, e) for i, e in enumerate(config.get(kind, [])) if e[amplitude] > 0]
    return out


def early_exposure_lines(config: dict) -> list[str]:
    """A note for each exposure (or its first repeats) over before any particles are given:
    it makes no ROS (`exposures_before_particles`)."""
    first = first_particles_h(config)
    lines = []
    for kind, i, early, repeats, end in exposures_before_particles(config):
        which = (f"{kind}[{i}]" if repeats == 1 else
                 f"all {repeats} repeats of {kind}[{i}]" if early == repeats else
                 f"the first {early} of the {repeats} repeats of {kind}[{i}]")
        lines.append(f"  note: {which} end{'s' if repeats == 1 else ''} by {end:.4g} h, "
                     f"before any particles are given (the first at {first:g} h): the "
                     "stimuli make their ROS at the particles, so "
                     + ("it makes" if repeats == 1 else "they make") + " none")
    return lines


def early_exchange_lines(config: dict) -> list[str]:
    """A note for each medium exchange at or before the first particles are given
    (`first_particles_h`; at one time an exchange acts before a dose): there is nothing of
    theirs to wash out, which a wash-out placed before its dose by mistake would otherwise
    leave unsaid (the run is the same without it, but for its `ph` and the reset of oxygen
    and passive species)."""
    first = first_particles_h(config)
    if first is None:  # no particles at all: the summary says so ("no particles are given")
        return []
    return [f"  note: medium_exchange[{i}] at {e['time_h']:g} h comes "
            + ("at the time" if e["time_h"] >= first else "before")
            + f" the first particles are given ({first:g} h; an exchange acts before a dose "
            "at its time): it washes out no particles, nor anything they release"
            for i, e in enumerate(config.get("medium_exchange", []))
            if e["time_h"] <= first + 1e-12 * max(1.0, first)]


#: The highest intensity at which ultrasound without cavitation was reported to leave cell
#: membranes intact: 0.5-4 W/cm^2 (IEEE Ultrasonics Symp 1993, doi:10.1109/ULTSYM.1993.339656,
#: abstract; the validation row "no mechanical damage by ultrasound alone").
NO_DAMAGE_MAX_W_PER_CM2 = 4.0


def intense_ultrasound_lines(config: dict) -> list[str]:
    """A note for each ultrasound exposure above the range the model's lack of mechanical and
    thermal damage rests on."""
    return [f"  note: ultrasound[{i}] at {e['intensity_W_per_cm2']:g} W/cm^2 is above "
            f"{NO_DAMAGE_MAX_W_PER_CM2:g} W/cm^2, the highest intensity at which ultrasound "
            "was reported to leave cells intact without cavitation: the model has no heating "
            "and no mechanical damage, so it shows only the ROS the particles make"
            for i, e in enumerate(config.get("ultrasound", []))
            if e["intensity_W_per_cm2"] > NO_DAMAGE_MAX_W_PER_CM2]


def particle_loads(config: dict) -> list[tuple[float, float]]:
    """(particle mass the medium holds (µg/mL), the medium's pH) after every [[dose]] and
    [[medium_exchange]] in time order, by the protocol alone, before any dissolves: an
    exchange washes the particles out and sets its fresh medium's pH (default ph.medium); it
    acts before a dose at the same time, the t = 0 one of `material.dose_ug_per_ml` included
    (an exchange at t = 0 washes out nothing), and of two at one time the later listed sets
    the pH."""
    ph0 = config["ph"]["medium"]
    events = sorted([(e["time_h"], 0, i, 0.0, ph0 if e.get("ph") is None else e["ph"])
                     for i, e in enumerate(config.get("medium_exchange", []))]
                    + [(0.0, 1, -1, config["material"]["dose_ug_per_ml"], None)]
                    + [(d["time_h"], 1, i, d["dose_ug_per_ml"], None)
                       for i, d in enumerate(config.get("dose", []))])
    held, ph, out = 0.0, ph0, []
    for _, is_dose, _, amount, new_ph in events:
        held, ph = (held + amount, ph) if is_dose else (0.0, new_ph)
        out.append((held, ph))
    return out


def most_particles_held_ug_per_ml(config: dict) -> float:
    """The most particle mass the medium holds at once (µg/mL) by the protocol alone (see
    `particle_loads`)."""
    return max(held for held, _ in particle_loads(config))


def uncapped_zinc_lines(config: dict) -> list[str]:
    """A note where the particles carry more zinc than complete medium was seen to hold and
    neither their solubility nor the medium caps what dissolves (ZIF-8, whose breakdown is
    irreversible, or ZnO₂ in acid, in a medium without a zinc phosphate limit). A material
    with a co-product is capped by the ion product of the two: its zinc at saturation is the
    root of α K [H⁺]² / n while the co-product stays in solution (more as it is cleared)."""
    from ._kinetics import log10_k_h2_uM, neutral_share
    from .materials import get_material
    from .materials.media import CULTURE_ZN_UM

    material = config.get("material")
    if material is None or config["medium"].get("zinc_phosphate_limit_uM") is not None:
        return []
    k = config["kinetics"]
    kind = get_material(material["kind"])

    def cap_uM(ph: float) -> float:
        # α K [H⁺]²: µM for a lone Zn²⁺; for a co-product (one per Zn²⁺) µM² of Zn²⁺ times its
        # neutral form, whose root is the zinc at saturation while the co-product stays in
        # solution
        log_cap = (math.log10(config["medium"]["zn_complexation_factor"])
                   + log10_k_h2_uM(k["solubility_log10_K"], ph))
        if kind.coproduct is not None:
            log_cap = 0.5 * (log_cap + 6.0 - math.log10(neutral_share(ph, k["coproduct_pKa"])))
        return 10.0 ** min(log_cap, 300.0)

    per_ug = kind.zn_uM_per_ug_per_ml * (1.0 - k["cargo_mass_fraction"])
    # ZnO's cap in complete medium is CULTURE_ZN_UM by construction (its complexation factor
    # is calibrated on it): equal up to round-off, which must not count as above it. The pH
    # is the medium's while it holds the particles: an acidic fresh medium lifts the cap a
    # hundredfold per pH unit, but only for the doses given into it
    loads = [(held, -ph, cap_uM(ph)) for held, ph in particle_loads(config)]
    over = [load for load in loads if load[0] * per_ug > CULTURE_ZN_UM
            and load[2] > CULTURE_ZN_UM * (1.0 + 1e-9)]
    if not over:
        return []
    dose, minus_ph, cap = max(over)
    ph, zinc_uM = -minus_ph, dose * per_ug
    limit = ("no solubility limit" if cap > 1e6 else
             f"its solubility allows {cap:.3g} uM")
    what = ("dissolved zinc" if config["geometry"]["kind"] == "medium" else
            "zinc toxicity")
    if kind.coproduct is not None:
        # what lowers the co-product and so lets more dissolve: a vial has no cells, only
        # H2O2's decay or H2S's escape from the open well (`h2s_oxidation_per_s`)
        cleared = ("the cells clear it" if config["geometry"]["kind"] != "medium" else
                   "it decays" if kind.coproduct == "h2o2" else "it escapes from the medium")
        limit += f" while its {kind.coproduct.upper()} stays in solution, more as {cleared}"
    return [f"  note: {material['kind']} at {dose:g} ug/mL carries {zinc_uM:.0f} uM of zinc, "
            f"and in medium at pH {ph:g}, nothing in the model caps what dissolves ({limit}, "
            f"the medium no zinc "
            f"phosphate limit), while complete "
            f"medium held ~{CULTURE_ZN_UM:.0f} uM of ZnO's zinc (Song et al. 2010) and zinc "
            "salts precipitate in media (Turney et al. 2012, no threshold given): read the "
            f"{what} above that as an upper bound, or set medium.composition = "
            "\"phosphate_saline\" (or medium.zinc_phosphate_limit_uM) for a ceiling"]


def fast_decay_lines(config: dict) -> list[str]:
    """A note for each passive species whose decay the step resolves coarsely (κ times the
    transport's step, dt_s / numerics.reaction_substeps, above FAST_DECAY_RATE_TIMES_DT). Not
    refused: the decay is implicit with the diffusion, so it stays stable and its steady
    balance with diffusion does not depend on the step (exactly on the radial grid); only its
    time course does. A well-mixed compartment decays exactly."""
    from .config import FAST_DECAY_RATE_TIMES_DT

    if config["grid"]["kind"] == "well_mixed":
        return []
    dt = config["time"]["dt_s"]
    # the transport, passive species included, steps dt_s / reaction_substeps at a time
    substeps = config.get("numerics", {}).get("reaction_substeps", 1)
    step = dt / substeps
    at = f"dt_s = {dt:g}" + (f" in {substeps} sub-steps of {step:g} s" if substeps > 1 else "")
    # the 3D grid splits the decay over its three axes' solves: (1 + κΔt/3)⁻³ per step
    parts = 1 if config["grid"]["kind"] == "radial" else 3
    lines = []
    for i, sp in enumerate(config.get("species", [])):
        where, rate = max(sp["decay_per_s"].items(), key=lambda kv: kv[1])
        x = rate * step
        if x <= FAST_DECAY_RATE_TIMES_DT:
            continue
        excess = math.expm1((x - parts * math.log1p(x / parts)) / x)  # left over per e-fold
        lines.append(
            f"  note: species[{i}] '{sp['name']}' decays at {rate:g} /s in the {where}: at "
            f"{at} (rate x step = {x:.3g}) the implicit step follows that decay only "
            f"to first order, leaving ~{excess:.0%} too much per e-fold; its steady balance "
            "with diffusion depends on the step far less (on the radial grid not at all). "
            f"Take dt_s <= {FAST_DECAY_RATE_TIMES_DT * substeps / rate:.3g} to follow its "
            "time course")
    return lines


def inverted_ph_lines(config: dict) -> list[str]:
    """A note where the tissue is more acidic at its surface than at its centre: the profile
    is the steady state of acid made by the cells, whose centre is the most acidic."""
    ph = config["ph"]
    if (config["grid"]["kind"] == "well_mixed" or config["geometry"]["kind"] != "spheroid"
            or ph["tissue_core"] <= ph["tissue_rim"]):
        return []
    return [f"  note: ph.tissue_core = {ph['tissue_core']:g} is above ph.tissue_rim = "
            f"{ph['tissue_rim']:g}: the tissue's pH profile is that of acid made by the cells "
            "and cleared through the surface, most acidic at the centre; an inverted one was "
            "run as given"]


def alkaline_rim_lines(config: dict) -> list[str]:
    """A note where a spheroid's surface is more alkaline than the medium that bathes it
    (`ph.tissue_rim` above `ph.medium`): the fluid at the surface meets the medium, and the
    cells' acid can only lower its pH inwards. Setting `ph.medium` alone (an acidic medium)
    leaves the tissue's default 7.0 -> 6.6 above it."""
    ph = config["ph"]
    if (config["grid"]["kind"] == "well_mixed" or config["geometry"]["kind"] != "spheroid"
            or ph["tissue_rim"] <= ph["medium"]):
        return []
    return [f"  note: ph.tissue_rim = {ph['tissue_rim']:g} is above ph.medium = "
            f"{ph['medium']:g}: the fluid at the spheroid's surface meets the medium, and the "
            "cells' acid lowers its pH inwards, not raises it; run as given (for a spheroid in "
            "acidic medium set ph.tissue_rim and ph.tissue_core too, at or below ph.medium)"]


def excluded_particle_lines(config: dict) -> list[str]:
    """A note where tissue meets medium but the particles cannot move in its extracellular
    fluid (as wide as its channels, or a tissue diffusivity set to 0): only the surface cells
    meet them, and what they release into the medium."""
    if ("material" not in config or config["grid"]["kind"] == "well_mixed"
            or config["geometry"]["kind"] != "spheroid"
            or config["kinetics"]["np_tissue_diffusivity_fraction"] > 0):
        return []
    d_nm = config["material"].get("hydrodynamic_diameter_nm")
    why = (f"particles of {d_nm:g} nm hydrodynamic diameter are as wide as the tissue's "
           f"extracellular channels (tissue.extracellular_gap_nm = "
           f"{config['tissue']['extracellular_gap_nm']:g} nm)" if d_nm is not None else
           "the particles do not move in tissue (kinetics.np_tissue_diffusivity_fraction = 0)")
    share = config["tissue"]["surface_uptake_share"]
    return [f"  note: {why}: they do not enter the fluid between the cells; the tissue meets "
            "them only where its surface cells take them up straight from the medium "
            f"(tissue.surface_uptake_share = {share:.3g}) and as the Zn2+ (and co-product or "
            "cargo) they release in the medium"]


def float32_time_lines(config: dict) -> list[str]:
    """A note for each exposure that float32 times cannot hold to 0.1 % of its duration: the
    solver steps it between its start and end as float32 seconds, each rounded to half the
    spacing of float32 numbers there, so the time it is on (and its dose) may be off by up to
    that spacing (2.4e-4 s near 1 h, 7.8e-3 s near 24 h): a millisecond pulse late in a run.
    float64 holds it to ~1e-11 s."""
    import numpy as np

    from ._model import expand_repeats
    from ._protocol import EXPOSURE_KINDS, exposure_window_s

    if "material" not in config or config["numerics"]["precision"] != "float32":
        return []
    lines = []
    for kind in EXPOSURE_KINDS:
        worst: dict[int, tuple[float, float, float]] = {}
        for i, e in enumerate(config.get(kind, [])):
            for start, end in (exposure_window_s(r) for r in expand_repeats([e])):
                error = float(np.spacing(np.float32(end)))
                if end > start and error / (end - start) > worst.get(i, (0.0,))[0]:
                    worst[i] = (error / (end - start), end - start, end)
        lines += [f"  note: {kind}[{i}] lasts {d:.3g} s, and float32 holds times near "
                  f"{end / 3600:.3g} h only to {share * d:.2g} s: the time it is on as the "
                  f"solver steps it, and its effect, may be off by up to {share:.1%}; "
                  'numerics.precision = "float64" holds it to ~1e-11 s'
                  for i, (share, d, end) in worst.items() if share > 1e-3]
    return lines


def config_notes(config: dict, *, at_validate: bool = False) -> list[str]:
    """Every note on a resolved config, each "  note: ..." (`config["_notes"]`, the notes
    resolution made, last). `at_validate`: those `zn-pde validate` prints (the run's summary
    adds the others)."""
    lines = (inactive_light_lines(config) + quiet_ultrasound_lines(config)
             + early_exposure_lines(config) + early_exchange_lines(config))
    if not at_validate:
        lines += (intense_ultrasound_lines(config) + inverted_ph_lines(config)
                  + alkaline_rim_lines(config)
                  + excluded_particle_lines(config) + uncapped_zinc_lines(config))
    return (lines + fast_decay_lines(config) + float32_time_lines(config)
            + [f"  {n}" for n in config.get("_notes", [])])
