"""Tissue and physiology constants shared by every material: lysosomal pH, acoustic and optical
attenuation. Each is a cited `Parameter`; the README table lists them beside the materials'.
"""

from __future__ import annotations

import math

import numpy as np

from ._parameter import Parameter

SYKOVA = "Sykova & Nicholson 2008, Physiol Rev 88:1277, doi:10.1152/physrev.00027.2007"
_CAVITATION_MHZ = 0.82  # frequency of the cavitation threshold measurement (MHz)

ENVIRONMENT: tuple[Parameter, ...] = (
    Parameter("extracellular_volume_fraction", 0.2, "1",
              "volume fraction alpha of extracellular fluid in tissue; mobile species of the "
              "nanoparticle model are concentrations in this fluid (default of "
              "`tissue.extracellular_volume_fraction`, and 1 - alpha of "
              "`geometry.cell_volume_fraction`)",
              SYKOVA + " (abstract: 'the volume fraction of the ECS typically is approximately "
              "20%', brain); no measurement for spheroids or solid tumours was found "
              "(docs/research/transport_sources.md), so the brain value stands in",
              lower=0.0, lower_open=True, upper=1.0),
    Parameter("tortuosity", 1.6, "1",
              "tortuosity lambda of the extracellular space: a small solute diffuses in tissue "
              "with D* = D / lambda^2 (default of `tissue.tortuosity`)",
              SYKOVA + " (abstract: free diffusion of TMA+ 'reduced by 2.6' = lambda^2, brain); "
              "no tumour value was found, the brain value stands in",
              lower=1.0, upper=10.0),
    Parameter("extracellular_gap_nm", 120.0, "nm",
              "effective width of the extracellular channels between cells, the pore size of "
              "the Renkin hindrance of particles (default of `tissue.extracellular_gap_nm`)",
              "assumed: wider than the 38-64 nm of brain (Thorne & Nicholson 2006, PNAS "
              "103:5567, doi:10.1073/pnas.0509425103; value not re-read) as tumour interstitium "
              "is looser (Nugent & Jain 1984, Cancer Res 44:238, abstract), and just above "
              "100 nm so that particles of 100 nm and more stay in the outer cell layers while "
              "20-40 nm ones reach the core (Goodman, Olive & Pun 2007, Int J Nanomedicine "
              "2:265, abstract; Fleddermann et al. 2019, Int J Nanomedicine 14:1411, "
              "doi:10.2147/IJN.S189888, abstract: ~20 um, three cell layers)",
              lower=0.0, lower_open=True, upper=1e5),
    Parameter("surface_uptake_share", 1.0 / 3.0, "1",
              "particle uptake by the tissue's surface cells straight from the medium, as a "
              "share of a 2D-cultured cell's uptake at the same concentration: per area of "
              "tissue surface the outer cell layer (thickness one cell diameter) takes up "
              "k_up phi d s (c_medium - c_interstitial)+ (default of "
              "`tissue.surface_uptake_share`)",
              "assumed, geometric: the share of a surface cell's membrane that faces the "
              "medium (one face of a cube-like cell, 1/6) over that of a cell spread on a "
              "dish (its apical half, 1/2); no measurement was found. It lets particles too "
              "wide for the extracellular channels reach the outer cells, as reported for "
              "agglomerates on formed spheroids (Fleddermann et al. 2019, Int J Nanomedicine "
              "14:1411, doi:10.2147/IJN.S189888, abstract)",
              lower=0.0, upper=1.0),
    Parameter("lysosome_ph", 4.7, "pH",
              "pH around internalised particles (default of `ph.lysosome`)",
              "Mindell 2012, Annu Rev Physiol 74:69, "
              "doi:10.1146/annurev-physiol-012110-142317 (abstract: 'the highly acidic pH "
              "(between 4.5 and 5.0)' of the lysosome's interior); also the "
              "pH 4.5-4.8 of the simulated lysosomal fluid in Olejnik et al. 2021",
              lower=0.0, upper=14.0),
    Parameter("ultrasound_attenuation_tissue_dB_per_cm_MHz", 0.5, "dB/(cm MHz)",
              "acoustic amplitude-intensity attenuation of soft tissue, linear in frequency",
              "Duck 1990, Physical Properties of Tissue, Academic Press, "
              "ISBN 0-12-222800-6, ch. 4 (soft tissues ~0.3-1 dB/cm/MHz; the book not read); "
              "read in a secondary compilation: liver 0.50, breast 0.75, heart 0.52 dB/cm at "
              "1 MHz (Diagnostics 2023, 13:855, doi:10.3390/diagnostics13050855, Table 4). "
              "Lower mid-range for a cell aggregate without collagen-rich stroma",
              lower=0.0),
    Parameter("ultrasound_cavitation_threshold_W_per_cm2", round(0.667 / _CAVITATION_MHZ, 3),
              "W/cm^2",
              "inertial (transient) cavitation threshold at 1 MHz: ultrasound below it makes "
              "no ROS (default of `tissue.ultrasound_cavitation_threshold_W_per_cm2`); other "
              "frequencies scale it as f^x (`ultrasound_cavitation_frequency_exponent`)",
              "Acta Acustica 1991, doi:10.15949/j.cnki.0371-0025.1991.04.008 (abstract, "
              "authors not read: threshold 0.537-0.632 W/cm^2 in water at 820 kHz, and the "
              "OH yield law D = (sqrt(I) - sqrt(Ic))^(1/2) with Ic = 0.667 W/cm^2), taken "
              "from 0.82 to 1 MHz with the frequency exponent at its default x = 1: "
              "0.667 / 0.82 (with another x, set this to 0.667 (1 / 0.82)^x to keep the "
              "measured point; the saturation likewise); 0.7 W/cm^2 by "
              "terephthalate dosimetry in air-saturated water (a second abstract, source and "
              "frequency not identified). Particles as nuclei may lower it; not modelled",
              lower=0.0),
    Parameter("ultrasound_cavitation_saturation_W_per_cm2", round(3.0 / _CAVITATION_MHZ, 2),
              "W/cm^2",
              "intensity above which the cavitation ROS yield no longer rises, at 1 MHz "
              "(default of `tissue.ultrasound_cavitation_saturation_W_per_cm2`; scaled with "
              "frequency as the threshold)",
              "same abstract (doi:10.15949/j.cnki.0371-0025.1991.04.008): at 820 kHz the OH "
              "yield 'raises rapidly' from 1 to 2 W/cm^2 and does not increase above 3 "
              "W/cm^2; taken to 1 MHz as the threshold: 3 / 0.82 (x = 1)",
              lower=0.0, lower_open=True),
    Parameter("ultrasound_cavitation_frequency_exponent", 1.0, "1",
              "x in I_c(f) = I_c(1 MHz) (f / 1 MHz)^x, the frequency scaling of the "
              "cavitation threshold and saturation intensities",
              "the mechanical index p / sqrt(f) gauges the onset of inertial cavitation "
              "(Apfel & Holland 1991, Ultrasound Med Biol 17:179, "
              "doi:10.1016/0301-5629(91)90125-G; the p / sqrt(f) form itself not read in "
              "the abstract), so the threshold pressure goes as f^0.5 and the intensity "
              "(proportional to p^2) as f^1; computed thresholds in tissue suggest the "
              "exponent on frequency 'could be increased to 0.75' (x = 1.5; PMC4297318, "
              "abstract)", lower=0.0, upper=4.0),
    Parameter("ultrasound_attenuation_medium_dB_per_cm_MHz", 0.0014, "dB/(cm MHz)",
              "acoustic attenuation of water-like medium at 1 MHz and 37 °C (water scales "
              "with f^2; taken linear here, exact at 1 MHz)",
              "water's absorption at 37 °C: 0.00139 dB/cm/MHz^2 from the 7th-order "
              "polynomial fit to Pinkerton 1949, Proc Phys Soc B 62:129, in k-Wave "
              "(attenuationWater.m, read in its source; it gives 0.00219 at 20 °C, Duck "
              "1990's water value of 0.0022 at 20-25 °C, ISBN 0-12-222800-6). Until "
              "2026-12-04 the 20 °C value stood (an outside citation check)",
              lower=0.0),
)

def renkin_hindrance(diameter_nm: float, gap_nm: float) -> float:
    """D_pore / D_free of a sphere of `diameter_nm` in a cylindrical pore of `gap_nm`:
    H = (1 − λ)² (1 − 2.104 λ + 2.09 λ³ − 0.95 λ⁵), λ = d / gap (steric partition times
    hydrodynamic drag), 0 for λ ≥ 1. Renkin 1954, J Gen Physiol 38:225,
    doi:10.1085/jgp.38.2.225."""
    lam = diameter_nm / gap_nm
    if lam >= 1.0:
        return 0.0
    return (1.0 - lam) ** 2 * (1.0 - 2.104 * lam + 2.09 * lam**3 - 0.95 * lam**5)


def particle_tissue_fraction(diameter_nm: float, tortuosity: float, gap_nm: float) -> float:
    """D*_particle / D_medium in tissue: tortuosity and Renkin pore hindrance, H / λ²."""
    return renkin_hindrance(diameter_nm, gap_nm) / tortuosity**2


# Optical attenuation of tissue: mu_eff = sqrt(3 mu_a (mu_a + mu_s')) (diffusion theory).
# Reduced scattering mu_s' = a (lambda / 500 nm)^-b with the "other soft tissues" means
# a = 18.9 1/cm, b = 1.286 of Jacques 2013, Phys Med Biol 58:R37,
# doi:10.1088/0031-9155/58/11/R37, Table 2 (read second-hand through two public code files
# citing that table). Absorption mu_a is ASSUMED (Jacques' Table 3 was not read): avascular
# spheroids hold no haemoglobin, so mu_a is set by cellular chromophores and water; the values
# below are an assumed order of magnitude for perfused soft tissue, falling from the UV to the
# near-infrared window, and are an upper bound for spheroids. Override with
# `tissue.light_attenuation_per_cm`.
JACQUES_SOFT_TISSUE_A_PER_CM = 18.9
JACQUES_SOFT_TISSUE_B = 1.286
LIGHT_WAVELENGTH_NM = np.array([365.0, 405.0, 630.0, 660.0, 808.0])
LIGHT_ABSORPTION_PER_CM = np.array([10.0, 5.0, 0.3, 0.3, 0.2])  # assumed, see above


def reduced_scattering_per_cm(wavelength_nm: float) -> float:
    """mu_s' = a (lambda/500 nm)^-b, Jacques 2013 soft-tissue means (1/cm)."""
    return JACQUES_SOFT_TISSUE_A_PER_CM * (wavelength_nm / 500.0) ** -JACQUES_SOFT_TISSUE_B


#: How light is attenuated in tissue (`tissue.light_model`).
LIGHT_MODELS = ("beer_lambert", "diffusion")


def light_attenuation_per_cm(wavelength_nm: float, model: str = "beer_lambert") -> float:
    """Attenuation of tissue at `wavelength_nm` (1/cm).

    Diffusion theory, mu_eff = sqrt(3 mu_a (mu_a + mu_s')), holds only many transport mean
    free paths 1/(mu_a + mu_s') from the source: 0.26 mm at 365 nm and 1 mm at 808 nm, as
    deep as or deeper than a spheroid. At that scale ("beer_lambert", the default) the light is
    the beam not yet turned out of the forward direction, attenuated as exp(-(mu_a + mu_s') z)
    (Beer-Lambert with the transport coefficient; assumed: an upper bound on the attenuation,
    as scattered light adds fluence). "diffusion" keeps mu_eff for tissue slabs many mean free
    paths thick. mu_a is interpolated log-linearly between the tabulated wavelengths; beyond
    them (UV-B/C, where protein absorption climbs, or above 808 nm, where water's does) the
    table says nothing, so NotImplementedError: the config must set the attenuation.
    mu_s' follows Jacques' power law.
    """
    w = float(wavelength_nm)
    if not LIGHT_WAVELENGTH_NM[0] <= w <= LIGHT_WAVELENGTH_NM[-1]:
        raise NotImplementedError(f"no tissue optics at {w:g} nm")
    mu_a = float(np.exp(np.interp(w, LIGHT_WAVELENGTH_NM, np.log(LIGHT_ABSORPTION_PER_CM))))
    mu_s = reduced_scattering_per_cm(w)
    if model == "diffusion":
        return math.sqrt(3.0 * mu_a * (mu_a + mu_s))
    return mu_a + mu_s
