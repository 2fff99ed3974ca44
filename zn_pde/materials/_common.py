"""Processes every material shares but only some switch on: an acid-switched degradation
channel, co-released H₂O₂ or H₂S, a drug cargo, catalase, Fenton chemistry, oxygen.

Defaults here leave a process off (rate or fraction 0) unless a material preset sets it, so
ZnO's behaviour is unchanged by their presence; each value says where it comes from.
"""

from __future__ import annotations

import math

from ._parameter import Parameter
from .zno import H2O2_DIFFUSIVITY_37C, TO_37C, TO_37C_TEXT

_TORTUOSITY_SQ = 1.6**2  # Sykova & Nicholson 2008, doi:10.1152/physrev.00027.2007
_SYKOVA = "Sykova & Nicholson 2008, Physiol Rev 88:1277, doi:10.1152/physrev.00027.2007"
_H2S_DIFFUSIVITY = round(1360.0 * TO_37C, 1)
# Rigg's Arrhenius law of the Fenton rate constant (M^-1 s^-1, cal/mol) at 37 °C, in /(uM s)
_FENTON_37C = round(1.05e8 * math.exp(-8460.0 / (1.987 * 310.15)) * 1e-6, 10)
# H2S lost from an open culture well with a 5 min half-life (DeLeon, Stoy & Olson 2012)
_H2S_LOSS_PER_S = round(math.log(2.0) / 300.0, 7)
# O2 (see OXYGEN). Gas over culture medium at 37 °C, humidified (water vapour 6.275 kPa);
# dissolved O2 at 10.56 uM/kPa in water times 0.89 in media (Gnaiger, MiPNet06.03)
_HUMID_GAS_KPA = 101.325 - 6.275


def _o2_in_medium_uM(po2_kPa: float) -> float:
    return round(po2_kPa * 10.56 * 0.89, 1)


# air in a 5 % CO2 incubator
_O2_MEDIUM_UM = _o2_in_medium_uM(0.2095 * (_HUMID_GAS_KPA - 0.05 * 101.325))
# Han & Bartels 1996 interpolation for O2 in water at 310.15 K, cm^2/s -> um^2/s
_O2_D_WATER = round(1e8 * 10 ** (-4.410 + 773.8 / 310.15 - (506.4 / 310.15) ** 2), 0)
# Grimes et al. 2014: 7.29e-7 m^3 O2 (STP) per kg per s, per tissue volume, over phi = 0.8
_O2_CONSUMPTION = round(7.29e-7 * 1e3 / 22.414e-3 * 1e3 / 0.8, 1)
# Henderson & Fingar 1987: photodynamic kill half-maximal at 1 % O2 in the humidified gas
_O2_PDT_HALF_UM = _o2_in_medium_uM(0.01 * _HUMID_GAS_KPA)

COMMON: tuple[Parameter, ...] = (
    # --- acid-switched degradation (ZIF-8 style): k += k_sw / (1 + 10^{m (pH - pH_half)}) ----
    Parameter("dissolution_switch_rate_per_h", 0.0, "1/h",
              "extra degradation rate switched on below dissolution_switch_ph",
              "off: no acid switch unless a material sets one", lower=0.0),
    Parameter("dissolution_switch_ph", 6.5, "pH", "pH at half of the switched rate",
              "assumed: the ~6.5 onset of acid lability reported for ZIF-8 frameworks "
              "(issue statement; no primary source verified)", lower=0.0, upper=14.0),
    Parameter("dissolution_switch_steepness_per_ph", 2.0, "1/pH",
              "steepness m of the pH switch", "assumed: a decade of rate per half pH unit",
              lower=0.0, upper=20.0),
    # --- cargo --------------------------------------------------------------------------
    Parameter("cargo_mass_fraction", 0.0, "1",
              "drug mass per particle mass, released as the carrier degrades",
              "off: no cargo unless loaded", lower=0.0, upper=0.9),
    Parameter("cargo_diffusivity_medium_um2_per_s", 300.0, "um^2/s",
              "cargo (doxorubicin-like small molecule) diffusivity in medium",
              "assumed: Stokes-Einstein order for a ~540 Da molecule (~0.6 nm radius) in "
              "water at 37 °C gives ~500 um^2/s; 300 allows for binding", lower=0.0),
    Parameter("cargo_diffusivity_tissue_um2_per_s", 300.0 / _TORTUOSITY_SQ, "um^2/s",
              "cargo diffusivity in tissue"
              " (derived unless set: the medium value / [tissue] tortuosity^2)",
              "medium value / lambda^2, lambda = 1.6 (" + _SYKOVA + ")", lower=0.0),
    Parameter("cargo_kill_max_per_h", 0.2, "1/h", "maximal death rate from the cargo",
              "assumed: doxorubicin kills over one to two days in culture", lower=0.0),
    Parameter("cargo_kill_half_ug_per_ml", 0.5, "ug/mL",
              "cargo concentration at half-maximal death rate",
              "assumed: doxorubicin 24-48 h IC50 values lie around 0.1-1 ug/mL in common "
              "cancer lines", lower=0.0, lower_open=True),
    Parameter("cargo_kill_hill", 1.0, "1", "Hill coefficient of cargo killing",
              "assumed: 1, the hyperbolic (Michaelis-Menten-like) law, the fewest assumptions "
              "when no doxorubicin dose-response slope was read; with cargo_kill_half_ug_per_ml "
              "it sets how sharply killing rises around the half-maximal concentration",
              lower=0.5, upper=10.0),
    # --- co-released species: 1 per Zn for ZnO2 (H2O2) and ZnS (H2S) -------------------------
    Parameter("coproduct_per_zn", 0.0, "1",
              "H2O2 (ZnO2) or H2S (ZnS) released per Zn2+",
              "off: ZnO and ZIF-8 release no co-product", lower=0.0, upper=4.0),
    Parameter("coproduct_pKa", 30.0, "1",
              "acid dissociation constant of the co-product at 37 °C: of its total c only "
              "c / (1 + 10^(pH - pKa)), the neutral acid, enters the solubility product "
              "(written for H2O2 and H2S), so the limit on [Zn2+] c is K [H+]^2 "
              "(1 + 10^(pH - pKa)); the neutral acid crosses membranes, so a lysosome sees "
              "the fluid's neutral share",
              "off: every co-product counted neutral (30 keeps the share at 1) unless a "
              "material sets it; H2O2's pKa 11.6 would change it by < 0.01 % below pH 7.6",
              lower=0.0, upper=30.0),
    # --- H2O2 -------------------------------------------------------------------------------
    Parameter("h2o2_diffusivity_medium_um2_per_s", H2O2_DIFFUSIVITY_37C, "um^2/s",
              "H2O2 diffusivity",
              "assumed: the commonly quoted 1.43e-5 cm^2/s at 25 °C " + TO_37C_TEXT,
              lower=0.0),
    Parameter("h2o2_diffusivity_tissue_um2_per_s", H2O2_DIFFUSIVITY_37C / _TORTUOSITY_SQ, "um^2/s",
              "H2O2 diffusivity in tissue"
              " (derived unless set: the medium value / [tissue] tortuosity^2)",
              "medium value / lambda^2, lambda = 1.6 (" + _SYKOVA + ")", lower=0.0),
    Parameter("h2o2_decay_per_s", 1e-4, "1/s", "spontaneous H2O2 loss in medium",
              "assumed: H2O2 persists for hours in a pyruvate-free culture medium (no "
              "half-life was found). Pyruvate removes it: k = 2.36 /(M s) (Guarino et al. "
              "2019, Sci Rep 9:19568, doi:10.1038/s41598-019-55951-9, abstract: at 1 mM "
              "pyruvate '95% elimination of H2O2 at 5-200 uM requires 21-25 min'), so set "
              "2.4e-3 /s for a medium with 1 mM sodium pyruvate (e.g. the DMEM formulations "
              "that carry it)", lower=0.0),
    Parameter("h2o2_permeation_per_s", 1.0, "1/s",
              "permeation of H2O2 (and the diffusible ROS) across the plasma membrane, per "
              "cell volume (P A/V): in series with the removal inside (catalase, peroxidases, "
              "Fenton; k_int) the cells take up the fluid's H2O2 at k_p k_int / (k_p + "
              "k_int), keep k_p / (k_p + k_int) of its concentration inside, and let that "
              "share of the H2O2 they make leave",
              "derived: Wagner et al. 2013, Redox Biol 1:210, doi:10.1016/j.redox.2013.01.011 "
              "(abstract: whole-cell removal k_cell = 0.46e-12 (MIA PaCa-2) to 10.4e-12 "
              "(U937) L/s per cell) over an assumed 2 pL cell volume gives 0.23-5.2 /s; 1 /s "
              "near the geometric mean. Removal inside is ~700 /s, so uptake is limited by "
              "the membrane and k_cell ~ k_p. Checked: the cell keeps k_p / (k_p + k_int) = "
              "1/694 of the fluid's H2O2, against a ~390-fold gradient measured in K562 "
              "cells (Lyublinskaya & Antunes 2019, Redox Biol 24:101200, "
              "doi:10.1016/j.redox.2019.101200, abstract); the permeability of erythrocyte "
              "membranes, 1.6e-3 cm/s at 37 °C ('The permeability of human red blood cell "
              "membranes to hydrogen peroxide is independent of aquaporins', abstract, "
              "authors not read), times the area per volume 6/d of a 15 um cell gives "
              "6.4 /s", lower=0.0),
    Parameter("fenton_catalyst_uM", 0.35, "uM",
              "labile Fe2+ in cells, the catalyst of Fenton chemistry H2O2 -> ·OH",
              "cytosolic chelatable iron of K562 cells, 'the normal level of 350 nM' by "
              "calcein ('Dynamics of the cytosolic chelatable iron pool of K562 cells', "
              "abstract on scilit; authors and DOI not seen); 0.8 uM in K562 cells by the same "
              "probe (Konijn et al. 1999, Blood 94(6):2128, abstract); Cabantchik "
              "2014, Front Pharmacol 5:45, doi:10.3389/fphar.2014.00045 ('lower uM range'). "
              "Raise it for Fe- or Cu-doped particles", lower=0.0),
    Parameter("fenton_rate_per_uM_per_s", _FENTON_37C, "1/(uM s)",
              "Fenton rate constant Fe2+ + H2O2 -> Fe3+ + OH + OH- at 37 °C",
              "'k1=1.05x10^8 x exp(-8460/RT) l mole^-1 sec^-1', measured from 15 to 40 °C in "
              "sulfuric acid ('The rate constant of the reaction between hydrogen peroxide and "
              "ferrous ions', abstract on scite.ai's page of T. Rigg; co-authors, journal and "
              "DOI not seen), at 310.15 K with R = 1.987 cal/(mol K): 114.6 M^-1 s^-1 = "
              "1.146e-4 /(uM s). The 76 M^-1 s^-1 commonly cited to Walling 1975, Acc Chem Res "
              "8:125, doi:10.1021/ar50088a003 (not read), is this law's value at 28 °C (66 at "
              "25 °C); it stood here until 2026-12-07 uncorrected to 37 °C",
              lower=0.0),
    # --- H2S --------------------------------------------------------------------------------
    Parameter("h2s_diffusivity_medium_um2_per_s", _H2S_DIFFUSIVITY, "um^2/s",
              "H2S diffusivity",
              "1.36e-5 cm^2/s in water: the CRC Handbook's table 'Diffusion of gases in "
              "water' (p. 6-193, from Himmelblau 1964, Chem Rev 64:527, and Landolt-Bornstein "
              "II/5a), read in a web copy that lost the column headings; taken as 25 °C "
              "(assumed: a single value, as for N2's 2.0) " + TO_37C_TEXT,
              lower=0.0),
    Parameter("h2s_diffusivity_tissue_um2_per_s", _H2S_DIFFUSIVITY / _TORTUOSITY_SQ, "um^2/s",
              "H2S diffusivity in tissue"
              " (derived unless set: the medium value / [tissue] tortuosity^2)",
              "medium value / lambda^2, lambda = 1.6 (" + _SYKOVA + ")", lower=0.0),
    Parameter("h2s_oxidation_per_s", _H2S_LOSS_PER_S, "1/s",
              "H2S loss from the extracellular fluid (volatilisation from an open well; "
              "in tissue it stands for the cells' sulfide oxidation)",
              "ln 2 / 5 min: 'H2S loss from all apparatuses was rapid and exponential, with "
              "half-times (t 1/2) of 5 min' in 24-well culture plates, 'due to "
              "volatilization, not oxidation' (DeLeon, Stoy & Olson 2012, Anal Biochem "
              "421:203, abstract; temperature not stated); with colonic cells in plate "
              "culture 't1/2 of 3 to 4 min at 37 °C' (J Biol Chem 2021, "
              "doi:10.1016/j.jbc.2021.100736, abstract; authors not read). In tissue the "
              "same rate is assumed for the cells' oxidation by sulfide:quinone "
              "oxidoreductase: no rate per cell was found (cells keep infused sulfide below "
              "0.5 uM within their capacity: Bouillaud 2012, MiPNet 17.12, meeting abstract)",
              lower=0.0),
    Parameter("h2s_catalase_ki_uM", 10.0, "uM",
              "total sulfide (the h2s species, H2S + HS-) at half inhibition of the cells' "
              "catalase (its share of the removal of H2O2 inside them)",
              "assumed: sulfide inhibits haem catalase in the micromolar range (no Ki or "
              "IC50 was found, docs/research/science_sources.md, 2026-12-03)", lower=0.0,
              lower_open=True),
    Parameter("h2s_respiration_ki_uM", 20.0, "uM",
              "total sulfide (the h2s species, H2S + HS-) at half inhibition of "
              "mitochondrial respiration (cytochrome c oxidase)",
              "upper end of 'IC50 10-20 uM with cells' (Bouillaud 2012, 'Sulfide - a "
              "remarkable mitochondrial substrate', Mitochondr Physiol Network 17.12, "
              "Bioblast meeting abstract); the isolated enzyme's Ki is ~0.2 uM (a Brock "
              "University thesis, hdl 10464/2725, abstract), higher in cells, which oxidise "
              "sulfide ('above 10 uM' needed: Bouillaud et al. 2013, MiPNet 18.18, meeting "
              "abstract)", lower=0.0, lower_open=True),
)

#: Oxygen ([oxygen] section, off unless `enabled = true`).
OXYGEN: tuple[Parameter, ...] = (
    Parameter("medium_uM", _O2_MEDIUM_UM, "uM",
              "dissolved O2 in medium (air-saturated, 37 °C, in a humidified 5 % CO2 "
              "incubator)",
              "derived: O2 solubility 10.56 uM/kPa in water at 37 °C and 0.89 of it in "
              "culture media (Gnaiger, Oroboros MiPNet06.03, Bioblast wiki 'Oxygen "
              "solubility', which gives 207.3 uM for air-saturated water at 100 kPa) times "
              "pO2 = 0.2095 (101.325 - 6.275 kPa water vapour - 5 % CO2) = 18.85 kPa",
              lower=0.0),
    Parameter("diffusivity_medium_um2_per_s", _O2_D_WATER, "um^2/s",
              "O2 diffusivity in medium",
              "Han & Bartels 1996, 'Temperature dependence of oxygen diffusion in H2O and "
              "D2O', J Phys Chem 100(13):5597, DOI not seen (abstract: 'log(10)[D/cm(2) s(-1)] "
              "= -4.410 + 773.8/T - (506.4/T)(2)' for H2O, -0.5 to 95 °C) at 310.15 K: "
              "2.62e-5 cm^2/s", lower=0.0),
    Parameter("diffusivity_tissue_um2_per_s", 1750.0, "um^2/s", "O2 diffusivity in tissue",
              "Grote, Süsskind & Vaupel 1977, 'Oxygen diffusivity in tumor tissue "
              "(DS-Carcinosarcoma) under temperature conditions within the range of 20-40°C', "
              "Pflügers Arch 372:37, DOI not seen (summary, DS-carcinosarcoma "
              "tissue: 'for the conditions of 37°C: D=1.75·10−5 cm2/s')", lower=0.0),
    Parameter("consumption_max_uM_per_s", _O2_CONSUMPTION, "uM/s",
              "maximal O2 consumption of living cells (per cell volume)",
              "derived: DLD1 spheroids consume '7.29 ± 1.4 × 10(-7) m(3) kg(-1) s(-1)' "
              "(Grimes, Kelly, Bloch & Partridge 2014, J R Soc Interface 11:20131124, "
              "abstract), 32.5 uM/s per tissue volume (O2 volume at STP, 22.414 L/mol, and "
              "1 kg/L tissue, assumed), over the model's default cell volume fraction 0.8: "
              "40.7 uM/s per cell volume (81 amol/cell/s of a 2 pL cell, inside the <1 to "
              ">350 amol/cell/s measured in culture: Wagner, Venkataraman & Buettner 2011, "
              "Free Radic Biol Med 51:700, doi:10.1016/j.freeradbiomed.2011.05.024, "
              "abstract). With the O2 constants above, a sphere this dense turns anoxic at "
              "its centre from a radius sqrt(6 D c0 / q) = 239 um, near the 232 ± 22 um "
              "'diffusion limit' Grimes et al. measured (if that limit is this radius, as "
              "the name suggests; its definition was not read, and they derived the rate "
              "from it, so it is no independent check). Until 2026-12-03 an assumed 50 uM/s",
              lower=0.0),
    Parameter("consumption_half_uM", 1.0, "uM", "Michaelis constant of O2 consumption",
              "upper end of the p50 of 0.01-0.10 kPa (0.1-1.1 uM at 10.56 uM/kPa) of "
              "mitochondria and small cells, 0.05 kPa (0.5 uM) in 32D cells (Gnaiger 2010, "
              "doi:10.1007/978-1-4419-1241-1_2, abstract)", lower=0.0,
              lower_open=True),
    Parameter("ros_half_uM", _O2_PDT_HALF_UM, "uM",
              "O2 at half-maximal photodynamic and sonodynamic ROS yield",
              "derived: 'the half value of cell inactivation was found to be at 1% O2' "
              "(photodynamic, porphyrin-loaded RIF cells illuminated in vitro: Henderson & "
              "Fingar 1987, Cancer Res 47(12):3110, abstract on aacrjournals.org, DOI not "
              "seen; 'full effect was reached at 5% "
              "O2'), 1 % of the humidified gas (0.95 kPa) in medium at the solubility of "
              "medium_uM: 8.9 uM; a Photofrin dosimetry model's k4/k2 = 11.9 uM from "
              "spheroid studies (PMC4435602, Table 1) is the same order. The sonodynamic "
              "yield needs O2 alike but for sono_o2_free_share",
              lower=0.0, lower_open=True),
    Parameter("sono_o2_free_share", 0.0, "1",
              "share of the sonodynamic ROS yield (radical and diffusible) made without O2: "
              "its O2 factor is s + (1 - s) O2 / (ros_half_uM + O2)",
              "assumed: 0, as for photodynamic ROS, which the one in-vivo statement found "
              "supports, with no number: sonodynamic therapy 'is known to be inhibited in "
              "hypoxic tissue' (Owen et al. 2021, Nano Select, Rose Bengal, 1 MHz, abstract). "
              "Cavitation chemistry itself need not need O2: with ZnO at 20 and 858 kHz 'the "
              "different saturating gases [Ar, N2, air] have poor influence' on the radical "
              "production (Troia, Galati, Vighetto & Cauda 2023, Ultrason Sonochem 97:106470, "
              "doi:10.1016/j.ultsonch.2023.106470, abstract). Set it towards 1 for that "
              "reading; no measured share was found",
              lower=0.0, upper=1.0),
    Parameter("resupply_per_s", 1e-3, "1/s",
              "well-mixed runs and the reacting bulk medium beyond a grid's walls: relaxation "
              "of O2 towards medium_uM (gas exchange)",
              "assumed, inside the range found: kLa 3.72-12.47 /h (1.0-3.5e-3 /s) in an "
              "unmixed 96-well microbioreactor (a preprint on Authorea, Redbud Labs device, "
              "not peer reviewed); diffusion alone through an unstirred column of height h, "
              "pi^2 D / (4 h^2) with D = diffusivity_medium_um2_per_s, gives 1.7e-4 /s for "
              "200 uL in a 96-well (h = 6.2 mm), as slow as the '>3 h' medium in plates "
              "takes to reach equilibrium (Allen, Schneider & White 2001, Am J Physiol Lung "
              "Cell Mol Physiol 281:L1021, doi:10.1152/ajplung.2001.281.4.L1021, abstract). "
              "It scales as 1/h^2: set it for the well", lower=0.0),
)

#: Chlorin e6 absorption maxima (Soret, Q band), nm: assumed typical values (~400-405 and
#: ~654-667 nm are commonly reported; no primary spectrum read here).
CE6_ABSORPTION_NM = (404.0, 664.0)
#: ... and its molar absorption coefficients there (1/(M cm)), same order: assumed typical
#: values of a free-base chlorin (Soret ~1.5e5, Q band ~4e4); no primary spectrum was read
#: (a literature hunt found none in the searchable abstracts, docs/research/).
CE6_MOLAR_ABSORPTION_PER_M_PER_CM = (1.5e5, 4.0e4)
#: Molar mass of chlorin e6, C34H36N4O6 (g/mol), from IUPAC standard atomic weights C 12.011,
#: H 1.008, N 14.007, O 15.999 (Prohaska et al. 2022, Pure Appl Chem 94:573): 596.68.
CE6_MOLAR_MASS_G_PER_MOL = round(34 * 12.011 + 36 * 1.008 + 4 * 14.007 + 6 * 15.999, 3)

# Second-harmonic generation of a layer of ZnO as thick as one particle (thin-crystal limit,
# no phase mismatch below the coherence length): P_2w / P_w = 8 pi^2 d^2 L^2 I / (n^3 c eps0
# lambda^2), I in W/m^2, with d = chi(2)/2 from the chi(2) ~23 pm/V of ZnO nanocrystal films
# (Ozga et al. 2008, Nanotechnology 19:185709, abstract), L = 100 nm, n = 2.0 (ZnO near
# 800 nm), lambda = 808 nm. A dilute suspension converts less than a continuous layer.
_SHG_D_M_PER_V = 23e-12 / 2
_SHG_PER_W_PER_M2 = (8 * math.pi**2 * _SHG_D_M_PER_V**2 * (100e-9) ** 2
                     / (2.0**3 * 299792458.0 * 8.8541878128e-12 * (808e-9) ** 2))
SHG_EFFICIENCY_PER_W_PER_CM2 = float(f"{_SHG_PER_W_PER_M2 * 1e4:.2g}")  # 7.5e-17

#: Photosensitiser co-loaded on the particles ([photosensitiser] section, off unless enabled).
PHOTOSENSITISER: tuple[Parameter, ...] = (
    Parameter("singlet_oxygen_quantum_yield", 0.6, "1",
              "singlet oxygen per photon the dye absorbs (it absorbs eps ln10 c q per second, "
              "c its molar concentration, q the photon flux); acts where it is made, like the "
              "particles' own radicals",
              "assumed: the order of chlorins' singlet-oxygen yields in solution (0.5-0.7); "
              "no primary value for chlorin e6 was read (none in the searchable abstracts). "
              "Until 2026-12-03 the dye's yield was 11.8 uM/s per (mW/cm^2 x ug/mL), ~280 "
              "times the photons 5 % w/w of it absorbs at 664 nm (0.0428 uM/s per mW/cm^2 "
              "and ug/mL)",
              lower=0.0, upper=1.0),
    Parameter("loading_ug_per_ug", 0.05, "ug/ug",
              "dye mass per particle mass",
              "assumed: 5 % w/w, a typical order for a dye adsorbed on oxide particles; no "
              "ZnO-Ce6 loading was read. The singlet oxygen made scales with it", lower=0.0,
              upper=1.0),
    Parameter("molar_mass_g_per_mol", CE6_MOLAR_MASS_G_PER_MOL, "g/mol",
              "molar mass of the dye",
              "chlorin e6, C34H36N4O6, from IUPAC standard atomic weights (Prohaska et al. "
              "2022, Pure Appl Chem 94:573, doi:10.1515/pac-2019-0603)", lower=0.0,
              lower_open=True),
    Parameter("bandwidth_nm", 20.0, "nm",
              "full width of each absorption band (boxcar around each peak)",
              "assumed: chlorin e6 Soret and Q bands are ~20-30 nm wide", lower=0.0,
              lower_open=True),
    Parameter("emission_nm", 404.0, "nm",
              "wavelength the particle emits under `emission_excitation_nm` (ZnO)",
              "the second harmonic of 808 nm: half the excitation wavelength (two photons "
              "make one of twice the energy). Until 2026-12-06 an assumed 401 nm 'reported "
              "for ZnO-Ce6' (primary source not verified), which is not a harmonic of 808 nm; "
              "set it with emission_excitation_nm (lambda/2)", lower=200.0, upper=1500.0),
    Parameter("emission_excitation_nm", 808.0, "nm",
              "near-infrared wavelength that makes the particle emit at `emission_nm`",
              "assumed: ZnO-Ce6 under 808 nm (as stated in issue 5; primary source not "
              "verified)", lower=200.0, upper=1500.0),
    Parameter("shg_efficiency_per_W_per_cm2", SHG_EFFICIENCY_PER_W_PER_CM2, "1/(W/cm^2)",
              "second-harmonic generation by the particles: the fraction of the "
              "near-infrared irradiance E re-emitted at `emission_nm` is this times E, so the "
              "emission grows as E^2",
              "computed here, an upper bound: a layer of ZnO one 100 nm particle thick, "
              "8 pi^2 d^2 L^2 / (n^3 c eps0 lambda^2) with d = chi(2)/2 from the chi(2) "
              "~23 pm/V of ZnO nanocrystal films (Ozga et al. 2008, Nanotechnology 19:185709, "
              "doi:10.1088/0957-4484/19/18/185709, abstract: 'the value of the second order "
              "susceptibility is about 23 pm V(-1)', of Au-nanoparticle-deposited films under "
              "photo-treatment, which give 'a substantially larger SHG output' than pure ZnO: "
              "an upper value), n = 2.0, lambda = 808 nm; a dilute suspension converts less. So "
              "continuous 808 nm light excites the dye by second harmonic negligibly (1.5e-17 "
              "of 200 mW/cm^2); only pulses of high peak irradiance would (duty_cycle). "
              "Until 2026-12-03 this was an assumed 0.05, 1e15 times the bound",
              lower=0.0, upper=1e6),
)
