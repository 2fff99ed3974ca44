"""ZnO₂ (zinc peroxide): acid-driven decomposition ZnO₂ + 2H⁺ → Zn²⁺ + H₂O₂.

Wolanov et al. 2013 (Environ Sci Technol 47:8251, doi:10.1021/es401590d) found ZnO₂ retains
its peroxide down to about pH 6 and that release at low pH is thermodynamically controlled.
The equilibrium constant follows from their Gibbs energy of formation with standard values
for the ions; the solubility limit is then [Zn²⁺][H₂O₂] = K [H⁺]², taken to 37 °C with the
reaction enthalpy from enthalpies of formation (below).
"""

from __future__ import annotations

from ._common import COMMON
from ._derive import log10_K_at_37C, log10_K_from_gibbs, override
from ._parameter import Parameter
from .zno import PARAMETERS as ZNO
from .zno import (
    STIMULUS_YIELDS,
    ZNO_LIGHT_ABSORPTION_CM2_PER_UG,
    dissolution_like_zno,
    like_zno,
    particles_like_zno,
)

MOLAR_MASS_G_PER_MOL = 65.38 + 2 * 15.999  # IUPAC atomic weights (Prohaska et al. 2022)
_DG_ZNO2 = -242.0  # kJ/mol, Wolanov et al. 2013 (abstract)
_DG_ZN_ION = -147.06  # kJ/mol, Zn2+(aq): Wagman et al. 1982, NBS tables, J Phys Chem Ref
_DG_H2O2_AQ = -134.03  # kJ/mol, H2O2(aq):   Data 11 Suppl 2 (values not re-read here)
LOG10_K_25C = log10_K_from_gibbs(_DG_ZN_ION + _DG_H2O2_AQ - _DG_ZNO2)  # ≈ 6.85
# reaction enthalpy from enthalpies of formation (kJ/mol): ZnO2 -292.1 (Wolanov et al. 2013,
# abstract); Zn2+(aq) -36.66 kcal/mol = -153.39 (llnl.dat of USGS PHREEQC, usgs-coupled/
# phreeqc3); H2O2(aq) -45690 cal/mol = -191.17 (OBIGT of CHNOSZ, after Shock et al. 1997)
_DH_KJ = -36.66 * 4.184 + -45.690 * 4.184 - (-292.1)  # ≈ -52.5
LOG10_K = log10_K_at_37C(LOG10_K_25C, _DH_KJ)  # ≈ 6.50

PARAMETERS = override(
    ZNO + COMMON,
    *particles_like_zno("ZnO2"),
    *like_zno(
        "ZnO2",
        STIMULUS_YIELDS,
        "No sonodynamic or photocatalytic yield of ZnO2 particles was found. ZnO2 is a "
        "wide-gap oxide (band_gap_eV 3.75) whose point, in the sources read, is the H2O2 "
        "it releases (Lin et al. 2019, Theranostics 9:7200, abstract). "
        "Counted per ug/mL like ZnO's, so at equal zinc ZnO2 (20 % more mass per zinc) makes "
        "20 % more"),
    *dissolution_like_zno(
        "ZnO2", "No dissolution rate of ZnO2 particles was found: the abstracts read say only "
        "'controlled release of H2O2 and Zn2+' at mild acidic pH (Lin et al. 2019, "
        "Theranostics 9:7200, doi:10.7150/thno.39831, whose particles are polymer-modified, "
        "as Olejnik's are PVP-stabilised) and 'quick release' in acid, 'relatively stable' at "
        "neutral pH (Indian J Pharm Sci 86:219, 2024); the time courses are in figures not "
        "read (docs/research/science_sources.md). The equilibrium limit is ZnO2's own "
        "(solubility_log10_K). The ZnO2-vs-ZnO validation rows turn on this rate "
        "(docs/validation.md)"),
    Parameter("solubility_log10_K", LOG10_K, "1",
              "log10 K of ZnO2 + 2H+ = Zn2+ + H2O2 at 37 °C; limit [Zn2+][H2O2] = K [H+]^2",
              "6.85 at 25 °C from dGf(ZnO2) = -242.0 kJ/mol (Wolanov et al. 2013, Environ "
              "Sci Technol 47:8251, doi:10.1021/es401590d, abstract) and dGf of Zn2+(aq), "
              "H2O2(aq) (Wagman et al. 1982, NBS tables; not re-read), taken to 37 °C by "
              "van 't Hoff with dH = -52.5 kJ/mol from dHf(ZnO2) = -292.1 (Wolanov et al. "
              "2013, abstract), Zn2+(aq) -153.39 (llnl.dat, USGS PHREEQC) and H2O2(aq) "
              "-191.17 (OBIGT, CHNOSZ, after Shock et al. 1997)", lower=-30.0, upper=30.0),
    Parameter("coproduct_per_zn", 1.0, "1", "H2O2 released per Zn2+",
              "stoichiometry: ZnO2 + 2H+ -> Zn2+ + H2O2", lower=0.0, upper=4.0),
    Parameter("band_gap_eV", 3.75, "eV", "optical band gap of ZnO2",
              "measured on ZnO2 nanohybrid films: 'Decomposition of ZnO2 to ZnO and O2 at "
              "400 degrees C resulted in the decrease of the band gap energy from 3.75 to 3.3 "
              "eV' (Appl Surf Sci 255:6953 (2009), doi:10.1016/j.apsusc.2009.03.020, "
              "abstract; authors not read). A film value: the same abstract reports the films' "
              "gaps larger than that of a pure ZnO2 nanodispersion (not read)",
              lower=0.0, upper=10.0),
    Parameter("light_absorption_cm2_per_ug", ZNO_LIGHT_ABSORPTION_CM2_PER_UG, "cm^2/ug",
              "mass absorption coefficient of the particles for light above the band gap (see "
              "ZnO)",
              "assumed: ZnO's value (no absorption coefficient of ZnO2 above its gap was "
              "found)", lower=0.0),
)
