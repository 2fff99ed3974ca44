"""ZnS: acid release of H₂S, ZnS + 2H⁺ → Zn²⁺ + H₂S, with H₂S inhibiting catalase-like ROS
scavenging and mitochondrial respiration, and causing energy-deprivation death.

Solubility. The USGS WATEQ4F data set (wateq4f.dat of PHREEQC) tabulates ZnS + H⁺ = Zn²⁺ + HS⁻
for three solids: amorphous ZnS(a) log K −9.052, wurtzite −9.682, sphalerite −11.618; with
H₂S = H⁺ + HS⁻, log K −6.994 (same file), ZnS + 2H⁺ = Zn²⁺ + H₂S has log K −2.06
(amorphous), −2.69 (wurtzite), −4.62 (sphalerite) at 25 °C; the model uses 37 °C (van 't Hoff,
below). Nanoparticles are more soluble than the bulk crystal
and more so the smaller they are (Zhang, Chen & Banfield 2010, J Phys Chem C 114:14876), so
the default is the most soluble tabulated form, ZnS(a), as the proxy for the few-nm ZnS
cores used in H₂S therapy; set `kinetics.solubility_log10_K = -4.62` for bulk sphalerite.
"""

from __future__ import annotations

import math

from ._common import COMMON
from ._derive import log10_K_at_37C, override
from ._parameter import Parameter
from .zno import PARAMETERS as ZNO
from .zno import STIMULUS_YIELDS, dissolution_like_zno, like_zno, particles_like_zno

MOLAR_MASS_G_PER_MOL = 65.38 + 32.06  # IUPAC atomic weights (Prohaska et al. 2022)
# alpha / rho above the gap (the parameter's source): 4 pi k / lambda at 340.4 nm over 4.1 g/cm3
_ZNS_LIGHT_ABSORPTION_CM2_PER_UG = 4.0 * math.pi * 0.23301 / 340.4e-7 / 4.1 * 1e-6
_LOGK_AMORPHOUS = -9.052  # ZnS(a) + H+ = Zn2+ + HS-: wateq4f.dat (PHREEQC database)
_PKA1_H2S = 6.994  # H2S = H+ + HS-: wateq4f.dat
# reaction enthalpies (kJ/mol): ZnS(a) + H+ = Zn2+ + HS- 15.3553 (minteq.v4.dat of PHREEQC,
# which has the same log K); HS- + H+ = H2S -21.5518 (llnl.dat of PHREEQC)
_DH_KJ = 15.3553 - 21.5518  # ≈ -6.2
LOG10_K = log10_K_at_37C(_LOGK_AMORPHOUS + _PKA1_H2S, _DH_KJ)  # -2.058 at 25 °C, -2.100 at 37
_DH_H2S_KJ = -21.5518  # HS- + H+ = H2S (llnl.dat of PHREEQC)
PKA1_H2S_37C = log10_K_at_37C(_PKA1_H2S, _DH_H2S_KJ)  # 6.85

PARAMETERS = override(
    ZNO + COMMON,
    *particles_like_zno("ZnS"),
    *like_zno(
        "ZnS",
        STIMULUS_YIELDS,
        "No sonodynamic or photocatalytic yield of ZnS particles was found. ZnS is a "
        "wide-gap semiconductor (band_gap_eV 3.6) as ZnO is (3.37 eV), so the same order is "
        "plausible; light is absorbed by its own light_absorption_cm2_per_ug"),
    *dissolution_like_zno(
        "ZnS", "No release time course of ZnS particles was found; the equilibrium limit is "
        "ZnS's own (solubility_log10_K), and the cell's free Zn2+ and the fluid's H2S slow "
        "the dissolution as they approach it"),
    Parameter("solubility_log10_K", LOG10_K, "1",
              "log10 K of ZnS + 2H+ = Zn2+ + H2S at 37 °C; limit [Zn2+][H2S] = K [H+]^2",
              "amorphous ZnS(a): log K -9.052 (ZnS + H+ = Zn2+ + HS-) and H2S pKa1 6.994, both "
              "from wateq4f.dat of USGS PHREEQC (Ball & Nordstrom 1991, WATEQ4F, USGS "
              "Open-File Report 91-183; Parkhurst & Appelo 2013, doi:10.3133/tm6A43): -2.058 "
              "at 25 °C, taken to 37 °C by van 't Hoff with dH = 15.36 (minteq.v4.dat) - "
              "21.55 (HS- + H+ = H2S, llnl.dat) = -6.2 kJ/mol; the nano proxy because small "
              "ZnS particles are more soluble than bulk (Zhang, Chen & Banfield 2010, J Phys "
              "Chem C 114:14876); bulk sphalerite: -4.62 at 25 °C",
              lower=-30.0, upper=30.0),
    Parameter("coproduct_per_zn", 1.0, "1", "H2S released per Zn2+",
              "stoichiometry: ZnS + 2H+ -> Zn2+ + H2S", lower=0.0, upper=4.0),
    Parameter("coproduct_pKa", PKA1_H2S_37C, "1",
              "pKa1 of H2S at 37 °C: the `h2s` species is total sulfide, of which "
              "1 / (1 + 10^(pH - pKa1)) is H2S (28 % at pH 7.4 with the 25 °C pKa1, 22 % "
              "with the 37 °C one)",
              "6.994 at 25 °C (wateq4f.dat of USGS PHREEQC, as for solubility_log10_K: "
              "Ball & Nordstrom 1991, USGS Open-File Report 91-183; Parkhurst & Appelo "
              "2013, doi:10.3133/tm6A43) "
              "taken to 37 °C by van 't Hoff with dH = -21.55 kJ/mol for HS- + H+ = H2S "
              "(llnl.dat): 6.85", lower=0.0, upper=30.0),
    Parameter("band_gap_eV", 3.6, "eV", "optical band gap of ZnS",
              "assumed, bounded by Ozaki & Adachi 1993 (Jpn J Appl Phys 32:5008, "
              "doi:10.1143/JJAP.32.5008, Table I as transcribed on refractiveindex.info): the "
              "E0 critical point of cubic ZnS lies at 3.75 eV, but their absorption is already "
              "strong below it (k = 0.233 at 3.64 eV, the value the absorption coefficient "
              "below uses), so the model's step edge sits under 3.64 eV",
              lower=0.0, upper=10.0),
    Parameter("light_absorption_cm2_per_ug", _ZNS_LIGHT_ABSORPTION_CM2_PER_UG, "cm^2/ug",
              "mass absorption coefficient of the particles for light above the band gap (see "
              "ZnO)",
              "derived: alpha / rho with alpha = 4 pi k / lambda = 8.6e4 /cm from k = 0.233 at "
              "340.4 nm, just above the gap, of cubic ZnS (Ozaki & Adachi 1993, Jpn J Appl "
              "Phys 32:5008, doi:10.1143/JJAP.32.5008, model fit to their data, as tabulated "
              "on refractiveindex.info) and rho = 4.1 g/cm^3 (assumed: the specific gravity "
              "of sphalerite as dictionaries give it; 4.09 from a 5.41 A zinc-blende cell)",
              lower=0.0),
)
