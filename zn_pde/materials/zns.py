"""ZnS: acid release of H₂S, ZnS + 2H⁺ → Zn²⁺ + H₂S, with H₂S inhibiting catalase-like ROS
scavenging and mitochondrial respiration, and causing energy-deprivation death.

Solubility of sphalerite: ZnS + H⁺ = Zn²⁺ + HS⁻, log K = −11.62 (phreeqc.dat), combined with
H₂S = H⁺ + HS⁻, pKa₁ = 6.99, gives ZnS + 2H⁺ = Zn²⁺ + H₂S, log K = −4.63: a very small limit
([Zn²⁺][H₂S] = K [H⁺]²). Nanocrystalline and amorphous ZnS are more soluble than sphalerite;
raise `kinetics.solubility_log10_K` for such particles.
"""

from __future__ import annotations

from ._common import COMMON
from ._derive import override
from ._parameter import Parameter
from .zno import PARAMETERS as ZNO

MOLAR_MASS_G_PER_MOL = 65.38 + 32.06  # IUPAC atomic weights (Prohaska et al. 2022)
_LOGK_HS = -11.62  # ZnS(sphalerite) + H+ = Zn2+ + HS-: phreeqc.dat (USGS PHREEQC database)
_PKA1_H2S = 6.99  # H2S = H+ + HS-: phreeqc.dat
LOG10_K = _LOGK_HS + _PKA1_H2S

PARAMETERS = override(
    ZNO + COMMON,
    Parameter("solubility_log10_K", LOG10_K, "1",
              "log10 K of ZnS + 2H+ = Zn2+ + H2S; limit [Zn2+][H2S] = K [H+]^2",
              "sphalerite log K -11.62 (ZnS + H+ = Zn2+ + HS-) and H2S pKa1 6.99, both from "
              "the phreeqc.dat database of USGS PHREEQC (Parkhurst & Appelo 2013, doi:"
              "10.3133/tm6A43; read via docs/research item 1b)",
              lower=-30.0, upper=30.0),
    Parameter("coproduct_per_zn", 1.0, "1", "H2S released per Zn2+",
              "stoichiometry: ZnS + 2H+ -> Zn2+ + H2S", lower=0.0, upper=4.0),
    Parameter("band_gap_eV", 3.6, "eV", "optical band gap of ZnS",
              "assumed: zinc-blende ZnS ~3.6-3.7 eV (docs/research item 12; no primary value "
              "verified)", lower=0.0, upper=10.0),
)
