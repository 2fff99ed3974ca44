"""ZnO nanoparticles: proton-promoted dissolution to Zn²⁺, Zn²⁺-driven ROS, sono/photo-activation.

Every default below is in the table `PARAMETERS`; the README's parameter table is generated
from it (`scripts/parameter_table.py`). Constants marked "assumed" are placeholders with
their reasoning, to be replaced by fits (`zn-pde fit`) or better sources.
"""

from __future__ import annotations

import dataclasses
import math

from ._derive import log10_K_at_37C
from ._parameter import Parameter
from .tissue import SYKOVA, particle_tissue_fraction

# --- derived constants, with the arithmetic shown -----------------------------------------

#: Molar mass of ZnO (g/mol) from IUPAC standard atomic weights: Zn 65.38, O 15.999
#: (Prohaska et al. 2022, Pure Appl Chem 94:573, doi:10.1515/pac-2019-0603).
MOLAR_MASS_G_PER_MOL = 65.38 + 15.999

# Two reported dissolution anchors (shared/data/release, Olejnik et al. 2021, Cell Biol Toxicol
# 37:573, doi:10.1007/s10565-020-09571-z): ~10 % dissolved after 120 h at pH 7.4 and ~100 %
# within ~1 h at pH 4.7 (taken as 95 %). A first-order law k(pH) = k74 * 10**(n (7.4 - pH))
# through both gives:
_K74_PER_H = -math.log(1.0 - 0.10) / 120.0  # 8.78e-4 1/h
_K47_PER_H = -math.log(1.0 - 0.95) / 1.0  # 3.00 1/h
_PROTON_ORDER = math.log10(_K47_PER_H / _K74_PER_H) / (7.4 - 4.7)  # 1.31

# ZnO solubility: log K = 11.2 at 25 °C (database consensus), van 't Hoff to 37 °C with the
# MINTEQ enthalpy of ZnO(s) + 2H+ = Zn2+ + H2O, dH = -89.6 kJ/mol (phreeqc minteq.v4.dat).
_LOG10_K_37C = log10_K_at_37C(11.2, -89.6)

# Light absorbed by the particles above the band gap: a dilute suspension of small particles
# absorbs as its volume of bulk solid, kappa = alpha / rho (mass absorption coefficient).
# alpha at 365 nm from the extinction coefficient k = 0.20768 of a ZnO film (Aguilar et al.
# 2019, Opt Mater Express 9:3638, doi:10.1364/OME.9.003638, n-k table as published on
# refractiveindex.info, ZnO/Aguilar): alpha = 4 pi k / lambda; rho = 5.606 g/cm3 (ZnO
# density at room temperature, Nanomaterials 10:1086, 2020, PMC7353225, Table 1).
_ZNO_ALPHA_365_PER_CM = 4.0 * math.pi * 0.20768 / 365e-7  # 7.15e4 1/cm
_ZNO_DENSITY_G_PER_CM3 = 5.606
ZNO_LIGHT_ABSORPTION_CM2_PER_UG = _ZNO_ALPHA_365_PER_CM / _ZNO_DENSITY_G_PER_CM3 * 1e-6

# Stokes-Einstein diffusivity D = kT / (3 pi eta d) at 37 °C in water.
_KB_J_PER_K = 1.380649e-23  # exact (SI 2019)
_T_K = 310.15

# Water viscosity, one definition for every use here (Stokes-Einstein below, the 25 -> 37 °C
# scaling of measured diffusivities, TO_37C): the IAPWS 2008 formulation, Huber et al. 2009,
# J Phys Chem Ref Data 38:101, doi:10.1063/1.3088050, eqs. 11-12 with Tables 2-3 (the
# critical enhancement mu2 = 1, as outside the critical region), at water's density at
# 0.1 MPa (IAPWS-95, Wagner & Pruss 2002, J Phys Chem Ref Data 31:387: 997.05 kg/m^3 at
# 25 °C, 993.33 at 37 °C): 0.8900 and 0.6913 mPa s. Kestin, Sokolov & Wakeham 1978 (J Phys
# Chem Ref Data 7:941, doi:10.1063/1.555581) give the same to 1e-4 (0.8901, 0.6914).
# Formerly the scaling used the International Critical Tables' 0.8949 and 0.6925 cP (as
# reprinted in a handbook appendix) beside 0.6913 for Stokes-Einstein: x1.344, not 1.339.
_IAPWS_MU0 = (1.67752, 2.20462, 0.6366564, -0.241605)
# H_ij of mu1, one row per power j = 0..6 of (rho* - 1), one column per power i = 0..5 of
# (1/T* - 1)
_IAPWS_H = ((0.520094, 0.0850895, -1.08374, -0.289555, 0.0, 0.0),
            (0.222531, 0.999115, 1.88797, 1.26613, 0.0, 0.120573),
            (-0.281378, -0.906851, -0.772479, -0.489837, -0.257040, 0.0),
            (0.161913, 0.257399, 0.0, 0.0, 0.0, 0.0),
            (-0.0325372, 0.0, 0.0, 0.0698452, 0.0, 0.0),
            (0.0, 0.0, 0.0, 0.0, 0.00872102, 0.0),
            (0.0, 0.0, 0.0, -0.00435673, 0.0, -0.000593264))


def water_viscosity_mPa_s(temperature_K: float, density_kg_per_m3: float) -> float:
    """Viscosity of liquid water (mPa s), IAPWS 2008 (Huber et al. 2009) without the critical
    enhancement: mu = mu0(T*) mu1(T*, rho*), T* = T / 647.096 K, rho* = rho / 322 kg/m^3."""
    t = temperature_K / 647.096
    rho = density_kg_per_m3 / 322.0
    mu0 = 100.0 * math.sqrt(t) / sum(h / t**i for i, h in enumerate(_IAPWS_MU0))
    mu1 = math.exp(rho * sum((1.0 / t - 1.0) ** i * sum(
        row[i] * (rho - 1.0) ** j for j, row in enumerate(_IAPWS_H)) for i in range(6)))
    return mu0 * mu1 * 1e-3  # mu* = 1 uPa s


ETA_WATER_25C_MPA_S = water_viscosity_mPa_s(298.15, 997.05)  # 0.8900
ETA_WATER_37C_MPA_S = water_viscosity_mPa_s(310.15, 993.33)  # 0.6913
_ETA_WATER_37C_PA_S = ETA_WATER_37C_MPA_S * 1e-3
#: Median particle size over the 51 groups of the shipped ZnO viability compilation
#: (zn_pde/data/zno_viability_compiled.csv, column size_nm): 67 nm.
HYDRODYNAMIC_DIAMETER_NM = 67.0


def stokes_einstein_um2_per_s(diameter_nm: float) -> float:
    """D = k_B T / (3 π η d), water at 37 °C, in µm²/s."""
    d_m = diameter_nm * 1e-9
    return _KB_J_PER_K * _T_K / (3.0 * math.pi * _ETA_WATER_37C_PA_S * d_m) * 1e12


# Extracellular-space tortuosity: effective diffusivity in tissue D* = D / lambda**2 with
# lambda = 1.6 (Sykova & Nicholson 2008, Physiol Rev 88:1277, doi:10.1152/physrev.00027.2007).
_TORTUOSITY = 1.6
#: Solute diffusivities measured at 25 °C, taken to 37 °C by the Stokes-Einstein scaling
#: D ∝ T/η with the water viscosity above (IAPWS 2008): x1.339.
TO_37C = (310.15 / 298.15) * (ETA_WATER_25C_MPA_S / ETA_WATER_37C_MPA_S)
TO_37C_TEXT = (f"x (310.15/298.15)({ETA_WATER_25C_MPA_S:.4f}/{ETA_WATER_37C_MPA_S:.4f}) = "
               f"{TO_37C:.3f} to 37 °C (Stokes-Einstein D ∝ T/eta, water viscosity "
               f"{ETA_WATER_25C_MPA_S:.4f} and {ETA_WATER_37C_MPA_S:.4f} mPa s at 25 and 37 °C, "
               "IAPWS 2008: Huber et al. 2009, J Phys Chem Ref Data 38:101, "
               "doi:10.1063/1.3088050)")
_ZN_DIFFUSIVITY_WATER = round(703.0 * TO_37C, 1)  # 7.03e-6 cm^2/s, Zn2+ at 25 °C: Li &
#            Gregory 1974, Geochim Cosmochim Acta 38:703, doi:10.1016/0016-7037(74)90145-8
#: H2O2 in water at 37 °C (um^2/s), for the lumped ROS here and ZnO2's H2O2 (_common.py):
#: assumed, the commonly quoted 1.43e-5 cm^2/s at 25 °C; no primary source was verified
H2O2_DIFFUSIVITY_37C = round(1430.0 * TO_37C, 1)

_GAP_NM = 120.0  # default extracellular gap, see tissue.ENVIRONMENT

#: Lethal oxidant dose D0 (uM per cell volume): 3.8e19 photons/cm^3 = 63.1 mM absorbed
#: (Patterson, Wilson & Graff 1990), x 0.5 singlet-oxygen yield (assumed), / ln(100).
# Removal of H2O2 inside cells: a cellular half-life of ~1 ms (Andres et al. 2022) split
# between catalase and glutathione peroxidase 1 : 0.17 (Gaetani et al. 1996)
_H2O2_REMOVAL_PER_S = math.log(2.0) / 1e-3
_CATALASE_PER_S = round(_H2O2_REMOVAL_PER_S / 1.17, 1)  # 592.4
_PEROXIDASE_PER_S = round(_H2O2_REMOVAL_PER_S * 0.17 / 1.17, 1)  # 100.7
_LETHAL_DOSE_UM = 3.8e19 / 6.02214076e23 * 1e3 * 1e6 * 0.5 / math.log(100.0)

#: Short-lived ROS per second per ug/mL of particles at cavitation activity 1 (uM/s), from
#: `python scripts/calibrate_sonodynamic.py` (the calibration stated in the table below).
_SONO_RADICAL_YIELD = 118.0

# The dissolution constants below are calibrated on two reported points and checked against
# the joint fit of the three shipped ZnO release points (docs/fitting.md), which cannot
# replace them: with one residual degree of freedom it does not bound k(7.4) from below nor n
# from above.
RELEASE_FIT = ("the joint fit of the ZnO release points at pH 7.4 and 4.7 "
               "(zn_pde/data/zno_release_timecourses.csv): zn-pde fit "
               "configs/fit_zno_release.toml (checkpoints/zno_release.json)")

# The cytotoxicity constants below are one joint fit of every ZnO series shipped in
# zn_pde/data/zno_viability_compiled.csv (docs/fitting.md, "Shipped fits"). With them a
# well-mixed culture (cell volume fraction 0.002) has IC50 ≈ 37 ug/mL at 24 h, ≈ 19 at 36 h and
# ≈ 14 at 48 h, the tens of ug/mL typical of the compilation.
POOLED_VIABILITY_FIT = (
    "zn_pde/data/zno_viability_compiled.csv, every ZnO series (284 points, 47 series from 16 "
    "papers, 3-48 h; duplicated digitisations excluded), one parameter set for all doses and "
    "exposure times (r2 = 0.411 across cell lines and assays), with energy_kill_half_atp and "
    "the other constants held: zn-pde fit configs/fit_zno_viability_pooled.toml "
    "(checkpoints/zno_viability_pooled.json)")

PARAMETERS: tuple[Parameter, ...] = (
    # --- dissolution ---------------------------------------------------------------------
    Parameter("dissolution_rate_per_h", _K74_PER_H, "1/h",
              "first-order dissolution rate constant at pH 7.4",
              "calibrated: ~10 % dissolved in 120 h at pH 7.4, Olejnik et al. 2021, Cell Biol "
              "Toxicol 37:573, doi:10.1007/s10565-020-09571-z (text); -ln(0.9)/120 h, read as "
              "release far below the solubility limit: with the limit, 20 ug/mL dissolves "
              "9.26 % in 120 h in the default culture medium and 8.30 % in water (zn-pde run "
              "configs/zno_release_vial.toml --set ph.medium=7.4 --set time.end_h=120). "
              "Checked, not replaced: " + RELEASE_FIT + " gives 1.06e-3 /h, 95 % CI unbounded "
              "below, upper limit 7.1e-3 /h (profile likelihood). Their particles are "
              "PVP-stabilised: uncoated ZnO reaches its solubility limit within about an hour "
              "at pH 7.7 (Environ Toxicol Chem 2014, 33:341, doi:10.1002/etc.2447, abstract; "
              "organic-coated: 7 d), so for uncoated particles set 3 /h with "
              "dissolution_proton_order = 0 (the pH 4.7 anchor kept; "
              "docs/research/science_sources.md, fourth session). The cytotoxicity constants "
              "hold for either law: the pooled viability fit set them with this one, and "
              "refitted with the uncoated law on its 254 points that name no coating it gives "
              "r2 0.363 against 0.366 and constants within each other's 95 % CI "
              "(docs/fitting.md, 'Defaults')",
              lower=0.0, lower_open=True),
    Parameter("dissolution_proton_order", _PROTON_ORDER, "1",
              "reaction order in [H+]: k(pH) = k(7.4) * 10^(n (7.4 - pH))",
              "calibrated: with ~100 % (taken as 95 %) dissolved within 1 h at pH 4.7 in "
              "simulated lysosomal fluid, Olejnik et al. 2021, Cell Biol Toxicol 37:573, "
              "doi:10.1007/s10565-020-09571-z (abstract: 'dissolved within about 1 h in two "
              "different simulated lysosomal media (pH 4.5 to 4.8)'; text): "
              "n = log10(3.00/8.78e-4)/2.7. Checked, not replaced: " + RELEASE_FIT + " bounds "
              "n only from below, n >= 0.86 (95 % profile likelihood; the point estimate is "
              "arbitrary above that), consistent with this value",
              lower=0.0, upper=4.0),
    Parameter("solubility_log10_K", _LOG10_K_37C, "1",
              "log10 of K = [Zn2+]/[H+]^2 for ZnO(s) + 2H+ = Zn2+ + H2O at 37 °C; "
              "solubility limit [Zn2+]sat = K [H+]^2 in water (the medium's ligands and "
              "phosphate change it: [medium])",
              "11.2 at 25 °C, where geochemical databases agree (LLNL 11.21, Thermoddem 11.19 "
              "after Powell et al. 2013, Pure Appl Chem, doi:10.1351/PAC-REP-13-06-03, "
              "WATEQ4F 11.14, MINTEQ 11.33, read from the phreeqc database files), taken to "
              "37 °C by van 't Hoff with the MINTEQ dissolution enthalpy -89.6 kJ/mol (the "
              "same file): 10.59",
              lower=0.0, upper=20.0),
    Parameter("band_gap_eV", 3.37, "eV",
              "optical band gap; light with photon energy below it does not activate",
              "Klingshirn 2007, ChemPhysChem 8:782, doi:10.1002/cphc.200700002 ('a direct gap "
              "around 3.4 eV', an excerpt read, its place in the paper not recorded); 3.37 eV "
              "at room temperature, the value commonly quoted from the review of Ozgur et al. "
              "2005, J Appl Phys 98:041301 (not read: neither the number nor the DOI seen)",
              lower=0.0, upper=10.0),
    Parameter("light_absorption_cm2_per_ug", ZNO_LIGHT_ABSORPTION_CM2_PER_UG, "cm^2/ug",
              "mass absorption coefficient of the particles for light above the band gap: "
              "particles of mass m per volume (ug/mL, in the fluid and in cells) attenuate it "
              "by exp(-kappa * integral of m ds) on its way in, on top of the tissue's own "
              "attenuation (20 ug/mL: 0.26 /cm)",
              "derived: alpha / rho, a dilute suspension absorbing as its volume of bulk ZnO "
              "(alpha d ~ 0.5 at 67 nm; the small-sphere local-field factor, ~0.8 in water, "
              "left out), with alpha = 4 pi k / lambda = 7.15e4 /cm from k = 0.208 at 365 nm of "
              "a ZnO film (Aguilar et al. 2019, Opt Mater Express 9:3638, "
              "doi:10.1364/OME.9.003638, n-k table on refractiveindex.info; its n ~ 1.9 "
              "suggests a porous film, so alpha may be low: a 40 nm film gives 2.35e4 /cm, "
              "Stelling et al. 2017, Sci Rep 7:42530, doi:10.1038/srep42530) and rho = 5.606 "
              "g/cm^3 (Nanomaterials 10:1086, 2020, PMC7353225, Table 1). One value for every "
              "wavelength above the gap (alpha rises ~25 % from 365 to 350 nm in the same "
              "table)",
              lower=0.0),
    # --- transport -------------------------------------------------------------------------
    Parameter("np_diffusivity_medium_um2_per_s",
              stokes_einstein_um2_per_s(HYDRODYNAMIC_DIAMETER_NM), "um^2/s",
              "nanoparticle diffusivity in medium",
              f"Stokes-Einstein at 37 °C (water viscosity {ETA_WATER_37C_MPA_S:.4f} mPa s, "
              "IAPWS 2008: Huber et al. 2009, doi:10.1063/1.3088050) for the 67 nm median "
              "size of the shipped viability data",
              lower=0.0),
    Parameter("np_tissue_diffusivity_fraction",
              particle_tissue_fraction(HYDRODYNAMIC_DIAMETER_NM, _TORTUOSITY, _GAP_NM), "1",
              "nanoparticle diffusivity in tissue relative to medium (derived unless set: "
              "Renkin hindrance in the extracellular channels over tortuosity^2, for "
              "material.hydrodynamic_diameter_nm and [tissue] tortuosity, extracellular_gap_nm; "
              "the value shown is for 67 nm)",
              "derived: Renkin 1954, J Gen Physiol 38:225, doi:10.1085/jgp.38.2.225, with the "
              "[tissue] tortuosity (" + SYKOVA + ") and extracellular gap (assumed, see the "
              "tissue table)",
              lower=0.0, upper=1.0),
    Parameter("zn_diffusivity_medium_um2_per_s", _ZN_DIFFUSIVITY_WATER, "um^2/s",
              "Zn2+ diffusivity in medium",
              "7.03e-6 cm^2/s at 25 °C, the value commonly quoted from Li & Gregory 1974, "
              "Geochim Cosmochim Acta 38:703, doi:10.1016/0016-7037(74)90145-8 (not read: its "
              "table was seen only second-hand, docs/research/parameter_sources.md item 2; "
              "phreeqc.dat's -dw 0.715e-9 m^2/s, read, would give 957.6 um^2/s, 1.7 % more) "
              + TO_37C_TEXT,
              lower=0.0),
    Parameter("zn_diffusivity_tissue_um2_per_s", _ZN_DIFFUSIVITY_WATER / _TORTUOSITY**2,
              "um^2/s", "Zn2+ diffusivity in tissue"
              " (derived unless set: the medium value / [tissue] tortuosity^2)",
              "D_water / lambda^2 with tortuosity lambda = 1.6, " + SYKOVA, lower=0.0),
    Parameter("ros_diffusivity_medium_um2_per_s", H2O2_DIFFUSIVITY_37C, "um^2/s",
              "ROS (lumped as H2O2) diffusivity in medium",
              "assumed: the commonly quoted 1.43e-5 cm^2/s for H2O2 in water at 25 °C (no "
              "primary source verified: docs/research/parameter_sources.md, item 3) "
              + TO_37C_TEXT,
              lower=0.0),
    Parameter("ros_diffusivity_tissue_um2_per_s", H2O2_DIFFUSIVITY_37C / _TORTUOSITY**2,
              "um^2/s", "ROS diffusivity in tissue"
              " (derived unless set: the medium value / [tissue] tortuosity^2)",
              "D_water / lambda^2 with lambda = 1.6, " + SYKOVA, lower=0.0),
    # --- cells: uptake, zinc handling ------------------------------------------------------
    Parameter("uptake_rate_per_h", 0.0738, "1/h",
              "endocytosis: intracellular particle concentration rises at this rate times the "
              "extracellular concentration (per living cell)",
              "fitted: " + POOLED_VIABILITY_FIT + "; 95 % CI 0.0469-0.105 /h (profile "
              "likelihood). Previously assumed 0.1/h (internalisation of oxide nanoparticles "
              "reaches a plateau over hours to a day in culture)",
              lower=0.0),
    Parameter("zn_influx_per_h", 0.1, "1/h",
              "Zn2+ import into cells (ZIP transporters and leak), per extracellular Zn2+",
              "assumed: import on the ~10 h scale; with the fitted zn_kill constants, 200 uM "
              "extracellular Zn2+ leaves 59 % of cells alive at 24 h (a well-mixed culture, "
              "computed 2026-12-03: zn_pde.validation.bolus_culture), the gentle side of "
              "reported ZnCl2 IC50s of 150-200 uM (docs/research item 9)",
              lower=0.0),
    Parameter("zn_efflux_per_h", 1.0, "1/h",
              "export of free intracellular Zn2+ by living cells (ZnT1)",
              "order of magnitude read: a 65Zn efflux rate constant of ~1.0 /h in human "
              "leucocytes at 4.3-15.4 uM external zinc, 0.57 /h at none ('Zinc transport in "
              "normal human leucocytes', Clin Sci 1980, 59(5):353, abstract points 4-5 on "
              "portlandpress.com; authors and DOI not seen); "
              "that is the exchangeable cellular zinc's, taken here for the free Zn2+ "
              "that ZnT1 exports (assumed): the tracer's turnover is that of mostly bound "
              "zinc, so per free Zn2+ the export is faster, and the value is a lower bound",
              lower=0.0),
    Parameter("mt_capacity_uM", 20.0, "uM",
              "metallothionein Zn-binding sites free to buffer excess Zn2+ (per cell volume)",
              "assumed: MT binds 7 Zn per molecule at cellular MT of a few uM "
              "(Krezel & Maret 2017, Int J Mol Sci 18:1237, doi:10.3390/ijms18061237). "
              "The shipped viability data want less: freed in the pooled fit it goes to the "
              "box's 1 uM edge (r2 0.411 -> 0.422 before glutathione reductase, not bounded "
              "below), per source where it lowers the AIC more than zn_ros_max_uM_per_s to "
              "7.5 and 4.8 uM (Caco-2) or 1 uM (HCMEC LDH and MTT, SH-SY5Y MTT), never "
              "bounded below "
              "(docs/fitting.md); the assumed value stays until a measurement bounds it. "
              "Induced cells hold far more: 0.08-0.92 fmol/cell of MT-bound zinc in "
              "zinc-grown BHK clones (Palmiter 2004, PNAS 101:4918, "
              "doi:10.1073/pnas.0401022101, Table 1), 40-460 uM at 2 pL (6-66 uM MT); "
              "induction is not modelled",
              lower=0.0),
    Parameter("mt_kd_uM", 0.01, "uM",
              "dissociation constant of the MT zinc sites (fast equilibrium)",
              "assumed: the weakest MT zinc sites bind in the nanomolar range (Krezel & Maret "
              "2007, J Am Chem Soc; not re-read here); 10 nM taken as representative",
              lower=0.0, lower_open=True),
    Parameter("mt_redox_coupling", 1.0, "1",
              "share of the metallothionein zinc sites that follow the glutathione couple: "
              "capacity B (1 - c + c GSH/GSH0), so oxidants that consume glutathione free "
              "MT-bound zinc (the Zn2+-ROS loop); 0 switches the loop off",
              "mechanism: MT's thiolate ligands are oxidised with release of zinc, coupling "
              "the cellular redox state to zinc availability; oxidative stress compromises "
              "the zinc buffering capacity ('Cellular zinc and redox "
              "buffering capacity of metallothionein/thionein in health and disease', Mol "
              "Med, doi:10.2119/2007-00036.Maret, abstract; authors' names not on the page "
              "read). The proportional law (c = 1, MT "
              "oxidised in step with glutathione) is assumed: no rate or stoichiometry for "
              "the cellular exchange was found (docs/research/science_sources.md)",
              lower=0.0, upper=1.0),
    # --- ROS ------------------------------------------------------------------------------
    # Two kinds (docs/research/science_sources.md): the diffusible H2O2-like pool `ros`
    # (lifetime of minutes in medium, removed by cells in seconds) and the short-lived ·OH and
    # 1O2 made at activated particles, which react where they are made (tens of nm).
    Parameter("ros_decay_per_s", 1e-4, "1/s",
              "loss of the diffusible ROS (H2O2 formed from the radicals) outside cells",
              "assumed equal to h2o2_decay_per_s: H2O2 persists for hours in cell-free "
              "medium (no half-life was found; pyruvate-containing media remove it faster: "
              "Long & Halliwell 2009, Biochem Biophys Res Commun 388:700, "
              "doi:10.1016/j.bbrc.2009.08.069, abstract; 2.4e-3 /s at 1 mM pyruvate, see "
              "h2o2_decay_per_s)",
              lower=0.0, lower_open=True),
    Parameter("gsh_initial_uM", 5000.0, "uM",
              "intracellular glutathione at rest (per cell volume)",
              "1-10 mM in cells, as commonly stated; Forman, Zhang & Rinna 2009, Mol Aspects "
              "Med 30:1, doi:10.1016/j.mam.2008.08.006, cited for it, gives no concentration "
              "in its abstract (GSH 'the most abundant low molecular weight thiol compound "
              "synthesized in cells'; its text not read). Secondary: 1-11 mM in cytosol (a "
              "review excerpt, source unidentified), 0.5-10 mM (an encyclopaedia); mid-range",
              lower=0.0),
    Parameter("gsh_half_uM", 500.0, "uM",
              "glutathione at which it intercepts half of the peroxide the cell's thiols "
              "meet: the glutathione peroxidases work at GSH/(K + GSH) of "
              "peroxidase_rate_per_s, the cell's own molecules react at K/(K + GSH) of "
              "peroxide_damage_rate_per_s",
              "assumed: a tenth of the resting level, as cells keep their thiol defence until "
              "glutathione is depleted to ~10-20 % of control (depletion by buthionine "
              "sulfoximine to 15-30 % of control is tolerated: Shedlofsky et al. 1984, "
              "Biochem Pharmacol 33:1487, doi:10.1016/0006-2952(84)90417-9, abstract). The "
              "form is a competition, not an enzyme's saturation: glutathione peroxidase "
              "shows ping-pong kinetics with no detectable Michaelis constant (Flohe 1979, "
              "'Glutathione peroxidase: fact and fiction', PMID 383423, abstract) and cells "
              "remove H2O2 at a rate that is 'a direct function of GPx activity x GSH' (Ng, "
              "Schafer, Buettner & Rodgers 2007, Free Radic Res 41:1201, "
              "doi:10.1080/10715760701625075, abstract), so the share GSH/(GSH + K) is that "
              "second-order rate against the rate of damage, and K, their ratio, is the "
              "assumed part",
              lower=0.0, lower_open=True),
    Parameter("gsh_per_ros", 2.0, "1",
              "GSH consumed per peroxide intercepted",
              "stoichiometry of 2 GSH + H2O2 -> GSSG + 2 H2O (glutathione peroxidase), "
              "Forman, Zhang & Rinna 2009, doi:10.1016/j.mam.2008.08.006",
              lower=0.0),
    Parameter("gsh_resynthesis_per_h", 0.2, "1/h",
              "relaxation of GSH back to its resting level in living cells",
              "assumed: GSH half-life of 2-3 h in lymphocytes (Zarka & Bridge 2017, Redox "
              "Biol 11:631, doi:10.1016/j.redox.2017.01.014, PMC5284489, abstract: after an oral "
              "dose of gamma-glutamylcysteine raised lymphocyte GSH two- to threefold, 'The GSH "
              "half-life was between 2 and 3 h', back to near basal by 5 h) gives "
              "0.23-0.35 /h; 0.2 /h on the slow side for tumour cells",
              lower=0.0),
    Parameter("gssg_reduction_max_uM_per_s", 2.4, "uM/s",
              "most GSSG that glutathione reductase reduces back to 2 GSH per second, per "
              "cell volume, as the NADPH supply (pentose phosphate pathway) allows: the "
              "peroxidases' glutathione is given back at V S/(K + S) (S = GSSG = (GSH0 - "
              "GSH)/2), so GSH holds while the load stays below 2 V GSH/s and collapses "
              "beyond it",
              "assumed from a human erythrocyte H2O2 model's NADPH supply, NADP_reduction_V "
              "= 2.4 uM/s (its published PySCeS input file, 'H2O2 metabolism', read; "
              "attributed to Benfeitas et al. 2014, Free Radic Biol Med, not read), the "
              "limit there as glutathione reductase itself is faster (GSR_VMax 49 uM/s). "
              "Tumour cells may differ either way: methylene-blue-stimulated sheep "
              "erythrocytes oxidise 0.36 umol glucose /h/mL cells (~0.2 uM/s NADPH; "
              "abstract, authors not read), a HeLa mitochondrial model (K. T. Stein 2018, "
              "MATLAB code read) takes 375 uM/s of G6PD. Two measurements pull it apart "
              "in this model (docs/validation.md): lens epithelial cells' GSH back from 19 % "
              "'within the next few minutes' of an H2O2 exposure asks for ~6.3 uM/s at a 5 "
              "mM pool (12.9 min to 90 % at 2.4), where the H2O2 bolus IC50 would rise to "
              "187 uM (reported 50-100) and stop doubling with the cell density; kept at "
              "the value the bolus rows accept. The collapse is Flohe 1979's "
              "(PMID 383423, abstract): the system 'will abruptly collapse if the rate of "
              "hydroperoxide formation exceeds that of regeneration of GSH'",
              lower=0.0),
    Parameter("gssg_reduction_half_uM", 65.0, "uM",
              "GSSG at which glutathione reductase works at half its rate (its Michaelis "
              "constant for GSSG)",
              "human erythrocyte glutathione reductase: K_m(GSSG) = 65 uM (GSR_KMGSSG, marked "
              "'as in paper' in the model file of the erythrocyte H2O2 model attributed to "
              "Benfeitas et al. 2014, see gssg_reduction_max_uM_per_s); 65.2 uM credited to "
              "PMID 4018089 in a second model's code (primary text not read)",
              lower=0.0, lower_open=True),
    Parameter("peroxidase_rate_per_s", _PEROXIDASE_PER_S, "1/s",
              "first-order removal of H2O2 inside cells by glutathione peroxidases "
              "(consuming GSH), per cell volume",
              "derived: the cellular H2O2 half-life of ~1 ms (ln 2 / 1e-3 s = 693 /s, Andres "
              "et al. 2022, Stresses 2:256, doi:10.3390/stresses2030019, introduction; "
              "secondary) split between glutathione peroxidase and catalase as Gaetani et "
              "al. 1996, 'Predominant role of catalase in the disposal of hydrogen peroxide "
              "within human erythrocytes', Blood 87(4):1595 (abstract: glutathione peroxidase "
              "removed H2O2 at 'only 17% of the rate' of catalase; DOI not seen): 693 x 0.17 "
              "/ 1.17. Erythrocyte enzymes (GPx 'only approximately 8%' of catalase in Mueller "
              "et al. 1997, Blood 90(12):4973, abstract); in tumour cells peroxiredoxins clear "
              "much of it, "
              "so the transfer is assumed",
              lower=0.0),
    Parameter("peroxide_damage_rate_per_s", _PEROXIDASE_PER_S, "1/s",
              "first-order reaction of H2O2 inside cells with their own molecules (protein "
              "thiols), per cell volume, as far as glutathione does not intercept it: at "
              "gsh_half_uM / (gsh_half_uM + GSH) of this rate; the oxidative damage of "
              "peroxide",
              "assumed: equal to peroxidase_rate_per_s, so that as glutathione runs out the "
              "peroxide its peroxidases no longer remove reacts with the cell's own thiols "
              "at the rate they removed it (a cell's reactive protein thiols are of the "
              "order of its glutathione; no rate constant for the whole thiol proteome was "
              "found). The viability fits and the H2O2 bolus rows were made with this value",
              lower=0.0),
    Parameter("zn_ros_max_uM_per_s", 0.05, "uM/s",
              "mitochondrial H2O2 production by Zn2+-inhibited respiration at saturation "
              "(per living-cell volume)",
              "assumed: Zn2+ inhibits the electron transport chain and raises mitochondrial "
              "O2- and H2O2 (Lin et al. 2019, Theranostics 9:7200, doi:10.7150/thno.39831, "
              "abstract); no rate was found. The shipped viability compilation does not "
              "bound it: freed in the pooled fit it went to 0.029 uM/s (r2 0.4106 -> 0.4111, "
              "AIC 1806.3 -> 1808.0, before glutathione reductase was added), not "
              "identifiable, so the assumed value stays; per source it is fitted where it "
              "lowers the AIC more than the metallothionein "
              "capacity (docs/fitting.md: A549 MTT to the box's lower edge, SH-SY5Y NRU "
              "0.0065, neither bounded)",
              lower=0.0),
    Parameter("zn_ros_half_uM", 1.0, "uM",
              "free intracellular Zn2+ at half-maximal mitochondrial H2O2 production",
              "assumed equal to the Ki(app) of respiration's inhibition by Zn2+ added to "
              "isolated rat-liver mitochondria, ~1 uM (Brown et al. 2000, J Biol Chem "
              "275:13441, abstract, alpha-ketoglutarate-driven respiration); no free "
              "cytosolic Zn2+ at half-maximal H2O2 output was found; complex III "
              "0.1 uM (Link & von Jagow 1995, doi:10.1074/jbc.270.42.25001), complex IV "
              "1 uM (FEBS Lett 2008, doi:10.1016/j.febslet.2008.11.018)",
              lower=0.0, lower_open=True),
    Parameter("sono_ros_yield_uM_per_s_per_ug_per_ml", 0.01, "uM/s per ug/mL",
              "diffusible ROS (H2O2 via superoxide) made by particles in the fluid under "
              "ultrasound, at a cavitation activity of 1 (1 W/cm^2)",
              "assumed: ~20 uM ROS in medium after 1 min at 1.5 W/cm^2 with 20 ug/mL; "
              "no absolute yield with particles near 1 MHz was found "
              "(docs/research/science_sources.md). Order check: air-saturated water without "
              "particles forms H2O2 at 4.9 uM/min at 487 kHz and 30 W, 0.75 uM/min at 20 kHz "
              "(Petrier et al. 1994, J Phys Chem 98:10514, doi:10.1021/j100092a021, "
              "abstract); near 1 MHz sonochemistry is less efficient than at 358-487 kHz "
              "(Beckett & Hua 2001, J Phys Chem A 105:3796, abstract), so the assumed value "
              "stands for a particle enhancement of roughly tenfold, which no source "
              "quantified",
              lower=0.0),
    Parameter("photo_ros_quantum_yield", 0.003, "1",
              "diffusible ROS (H2O2 via superoxide) per photon the particles in the fluid "
              "absorb (photon energy above the band gap; they absorb "
              "light_absorption_cm2_per_ug x the photon flux)",
              "derived, order only: 4-5 nm ZnO colloids make H2O2 with a quantum yield "
              "'near 30 %' at low photon flux with a formate hole scavenger (320-370 nm), and "
              "'100-1000 times faster' than 0.1 um particles (Hoffman, Carraway & Hoffmann "
              "1994, Environ Sci Technol 28:776, abstract); 0.30/100 for particles near "
              "0.1 um, reading the rate ratio as a yield ratio, an upper estimate without "
              "the scavenger. Until 2026-12-03 an assumed 2.6 %",
              lower=0.0, upper=1.0),
    Parameter("sono_radical_yield_uM_per_s_per_ug_per_ml", _SONO_RADICAL_YIELD, "uM/s per ug/mL",
              "short-lived ROS (.OH, 1O2) made by particles under ultrasound at a "
              "cavitation activity of 1 (1 W/cm^2), which react where they are made",
              "assumed, calibrated: the one constant set to a reported phenomenon, that "
              "ZnO nanocrystals and 1 MHz, 1 W/cm^2, 1 min ultrasound kill cells that either "
              "alone spares (Vighetto et al. 2019, Front Bioeng Biotechnol 7:374; Racca et "
              "al. 2020, doi:10.3389/fbioe.2020.00577; no viability numbers read): it "
              "halves the 24 h survivors of a culture incubated 4 h with 20 ug/mL "
              "(scripts/calibrate_sonodynamic.py). Far above cell-free radical yields; read "
              "it as an effective constant that lumps cavitation at cell-bound particles, "
              "not a count of molecules: with [oxygen] on, it uses no O2 (cavitation's O2 "
              "use is sono_ros_yield_uM_per_s_per_ug_per_ml's)",
              lower=0.0),
    Parameter("photo_radical_quantum_yield", 0.1, "1",
              "short-lived ROS (.OH, 1O2) per photon the particles absorb (photon energy "
              "above the band gap), which react where they are made",
              "assumed: 0.1, below the singlet-oxygen quantum yield of TiO2 powders in air, "
              "0.12-0.38 at 355 nm (Daimon & Nosaka 2007, J Phys Chem C 111:4420, "
              "abstract), as ZnO makes less .OH than TiO2 (Zhao et al. 2017, Acta Sci "
              "Circumst 37:2609, EPR, abstract, qualitative) and .OH from TiO2 is 0.0038 "
              "per photon (Nafradi et al. 2019, Proc 25th Int Symp Anal Environ Probl, "
              "Szeged, coumarin, abstract); no yield of ZnO was found. A quantum yield "
              "cannot exceed 1: until 2026-12-03 this was 11.8 uM/s per (mW/cm^2 x ug/mL), "
              "~300 radicals per absorbed photon at 365 nm",
              lower=0.0, upper=1.0),
    Parameter("short_lived_ros_reach_nm", 20.0, "nm",
              "distance the short-lived ROS (1O2, ·OH) travel before reacting",
              "Moan & Berg 1991, Photochem Photobiol 53:549, PMID 1830395 (abstract: the "
              "distance diffused by the reactive intermediate, 'supposedly mainly 1O2', in "
              "NHIK 3025 cells 'on the order of 0.01-0.02 micron', lifetime 0.01-0.04 us); "
              "upper end",
              lower=0.0),
    Parameter("cell_diameter_um", 15.0, "um",
              "diameter of a cell, for the membrane area short-lived ROS can reach",
              "assumed: a typical suspended carcinoma cell (10-20 um). Allowed up to 1 mm, a "
              "bound on the input beyond any cell", lower=0.0, lower_open=True, upper=1000.0),
    Parameter("oxidative_lethal_dose_uM", _LETHAL_DOSE_UM, "uM",
              "oxidant reacted with a cell's own molecules per cell volume that leaves 1/e "
              "of cells alive (single-hit survival exp(-dose/D0))",
              "derived: the photodynamic necrosis threshold of 3.8e19 absorbed photons/cm^3 "
              "(63 mM; Patterson, Wilson & Graff 1990, Photochem Photobiol 51:343, "
              "doi:10.1111/j.1751-1097.1990.tb01720.x, abstract; aluminium "
              "chlorosulphonated phthalocyanine in normal rat liver) times a singlet-oxygen "
              "yield of 0.5 (assumed) is ~32 mM, read as the dose leaving "
              "1 % alive: D0 = 32 mM / ln 100. The same order as the lethal H2O2 dose of "
              "86 fmol per cell (~43 mM of a 2 pL cell, C6 glioma, 'Cytotoxic potency of "
              "H2O2 in cell cultures', abstract). Patterson's photons are per tissue volume; "
              "per cell volume (cells ~0.8 of liver, as the O2 consumption is converted) D0 "
              "would be 8.6 mM, inside the assumed yield's uncertainty (a factor of 2 either "
              "way); kept at the tissue value, with which the sonodynamic yield was "
              "calibrated and the H2O2 bolus rows were checked", lower=0.0, lower_open=True),
    Parameter("catalase_rate_per_s", _CATALASE_PER_S, "1/s",
              "first-order removal of H2O2 inside cells by catalase (giving O2), per cell "
              "volume; more catalase lowers the cell's H2O2 and so its peroxidase flux, "
              "Fenton chemistry and damage",
              "derived: 693 /s (ln 2 / 1e-3 s, the cellular H2O2 half-life of ~1 ms, Andres "
              "et al. 2022, Stresses 2:256, doi:10.3390/stresses2030019, introduction; "
              "secondary) less the glutathione peroxidases' share, 693 / 1.17 (Gaetani et "
              "al. 1996, Blood 87(4):1595, abstract: GPx at 17 % of the catalase rate; see "
              "peroxidase_rate_per_s)",
              lower=0.0),
    # --- cell death -----------------------------------------------------------------------
    Parameter("energy_kill_max_per_h", 0.0391, "1/h",
              "maximal death rate from energy (ATP) failure",
              "fitted: " + POOLED_VIABILITY_FIT + "; 95 % CI 0.0318-0.0503 /h (profile "
              "likelihood)", lower=0.0),
    Parameter("energy_kill_half_atp", 0.05, "1",
              "ATP supply E (fraction of an untreated cell's) at half-maximal death rate; "
              "death rate max x H(1/E - 1; 1/E_half - 1, hill), zero for an untreated cell",
              "Venkatachalam et al. 1988, J Clin Invest, doi:10.1172/JCI113380 "
              "(abstract, LLC-PK1 cells: 'over a range of ATP levels down to approximately "
              "5 % of normal, over 5 h, cells were altered only minimally, or injured "
              "reversibly'; cells with ATP not measurable or below 5 % were lethally "
              "injured): death sets in as the supply falls below ~5 %", lower=0.0,
              lower_open=True, upper=1.0),
    Parameter("energy_kill_hill", 1.69, "1", "Hill coefficient of death by energy failure",
              "fitted: " + POOLED_VIABILITY_FIT + "; 95 % CI 1.12-2.58 (profile likelihood)",
              lower=0.5, upper=10.0),
    Parameter("energy_kill_frailty_variance", 0.0, "1",
              "variance of the cells' frailty to energy failure (gamma-distributed, mean "
              "1: each cell dies at its frailty times the death rate); energy failure alone "
              "leaves (1 + variance x H)^(-1/variance) of the cells alive after a hazard H of "
              "a cell of mean frailty (exp(-H) at 0, cells of one sensitivity)",
              "assumed 0, cells of one sensitivity (the model before 2026-12-08), with whose "
              "value the pooled fit set the death law's constants. The law: the gamma "
              "frailty model of Vaupel, Manton & Stallard 1979, Demography 16:439, "
              "doi:10.2307/2061224 (abstract); clonal cells differ in whether and when a "
              "uniform death stimulus kills them, from cell-to-cell differences in protein "
              "levels ('fractional killing': Spencer et al. 2009, Nature 459:428, "
              "doi:10.1038/nature08012, abstract). Freed, the shipped fits give 2.4 (HCMEC "
              "MTT), 0.9 (SH-SY5Y MTT), 18 (SH-SY5Y NRU); A549 MTT (10, its kill rate at a box "
              "edge) and HCMEC LDH (0.5) gain too little for it (AICc), Caco-2 none; "
              "6.1 for the pooled compilation, where it also absorbs the differences between "
              "studies (docs/fitting.md 'Cells of different sensitivity'): fit it for your "
              "cell line", lower=0.0, upper=100.0),
    Parameter("zn_energy_ki_uM", 1.0, "uM",
              "free intracellular Zn2+ at half inhibition of ATP supply (glycolysis and "
              "respiration)",
              "respiration: Brown et al. 2000, J Biol Chem 275:13441 (abstract: Ki(app) ~1 uM "
              "for alpha-ketoglutarate-driven respiration); cytochrome c oxidase 1 uM (FEBS "
              "Lett 2008, doi:10.1016/j.febslet.2008.11.018). Glycolysis: 40 uM Zn2+ in the "
              "bathing medium of cortical neurons (3-22 h; the free intracellular level not "
              "given) raises DHAP and FBP, lowers NAD+ and ATP, then kills (Sheline, Behrens "
              "& Choi 2000, "
              "J Neurosci 20:3139, doi:10.1523/JNEUROSCI.20-09-03139.2000, abstract); no "
              "GAPDH Ki was found, so the respiratory value is assumed for both",
              lower=0.0, lower_open=True),
    Parameter("glycolysis_atp_fraction", 0.17, "1",
              "share of a resting cell's ATP made by glycolysis (the rest by respiration)",
              "Zu & Guppy 2004, Biochem Biophys Res Commun 313:459, "
              "doi:10.1016/j.bbrc.2003.11.136 (cancer cells make on average 17 % of their "
              "ATP by glycolysis; not re-read)", lower=0.0, upper=1.0))


#: ZnO's yields of oxidants under ultrasound and light, which another material inherits
STIMULUS_YIELDS = ("sono_ros_yield_uM_per_s_per_ug_per_ml",
                   "sono_radical_yield_uM_per_s_per_ug_per_ml",
                   "photo_ros_quantum_yield", "photo_radical_quantum_yield")
#: ZnO's particle size (the diffusivities follow material.hydrodynamic_diameter_nm) and
#: endocytosis rate, fitted to ZnO's viability data, which another material inherits
PARTICLE_TRANSPORT = ("np_diffusivity_medium_um2_per_s", "uptake_rate_per_h")


def like_zno(material: str, names: tuple[str, ...], why: str,
             whose: str = "; its source is in ZnO's table") -> tuple[Parameter, ...]:
    """ZnO's values of `names` for a material whose own were not found, stated as assumed
    with the reason (`why`) in its parameter table: the value is ZnO's, and the table says
    so (and `whose`, what ZnO's value is of) instead of repeating ZnO's sources as if they
    were the material's."""
    by_name = {p.name: p for p in PARAMETERS}
    return tuple(
        dataclasses.replace(by_name[name], meaning=by_name[name].meaning + f" ({material})",
                            source=f"assumed: ZnO's value ({by_name[name].value:.3g}"
                                   f"{whose}). {why}")
        for name in names)


def dissolution_like_zno(material: str, why: str) -> tuple[Parameter, ...]:
    """ZnO's dissolution constants (rate at pH 7.4 and proton order) for a material whose own
    were not found (`like_zno`)."""
    return like_zno(material, ("dissolution_rate_per_h", "dissolution_proton_order"), why,
                    whose=", PVP-stabilised ZnO, Olejnik et al. 2021")


def particles_like_zno(material: str) -> tuple[Parameter, ...]:
    """ZnO's particle size and endocytosis rate (`PARTICLE_TRANSPORT`) for `material`."""
    return like_zno(material, PARTICLE_TRANSPORT,
                    f"No size or endocytosis rate of {material} particles is built in: the "
                    "defaults are those of the 67 nm ZnO particles of the shipped viability "
                    "data; material.hydrodynamic_diameter_nm sets the size (the diffusivities "
                    "follow), and the uptake rate is a [kinetics] key")
