"""ZIF-8 (Zn(2-methylimidazolate)₂): an acid-labile framework carrying a drug cargo.

Degradation k(pH) = k₇.₄ + k_sw / (1 + 10^{m (pH − pH½)}) releases Zn²⁺ (one per formula unit)
and the cargo in proportion to the framework mass lost. k₇.₄ and k_sw are calibrated to the
doxorubicin release of cellulose@ZIF-8 at 15 h, 63.4 % at pH 5.0 and 37.6 % at pH 7.4 (Zhang
et al. 2024, J Drug Deliv Sci Technol, doi:10.1016/j.jddst.2024.106263; in PBS at both pH,
inferred), with the switch at pH 6.5 and steepness 2/pH (assumed, see the table). No
equilibrium limit: the degradation is irreversible (the solubility constant is set far above
any reachable concentration); in a phosphate medium its zinc precipitates as zinc phosphate
while the framework degrades on.
"""

from __future__ import annotations

import math

from ._common import COMMON
from ._derive import override
from ._parameter import Parameter
from .zno import PARAMETERS as ZNO
from .zno import STIMULUS_YIELDS, ZNO_LIGHT_ABSORPTION_CM2_PER_UG, like_zno, particles_like_zno

# C8H10N4Zn from IUPAC atomic weights (C 12.011, H 1.008, N 14.007, Zn 65.38)
MOLAR_MASS_G_PER_MOL = 8 * 12.011 + 10 * 1.008 + 4 * 14.007 + 65.38

_T_H = 15.0
#: first-order rates (1/h) through Zhang et al.'s 63.4 % (pH 5.0) and 37.6 % (pH 7.4) at 15 h
ZHANG_RATE_PH5_PER_H = -math.log(1 - 0.634) / _T_H
ZHANG_RATE_PH74_PER_H = -math.log(1 - 0.376) / _T_H
_K50, _K74 = ZHANG_RATE_PH5_PER_H, ZHANG_RATE_PH74_PER_H
_PH_HALF, _STEEP = 6.5, 2.0


def _switch(ph: float) -> float:
    return 1.0 / (1.0 + 10.0 ** (_STEEP * (ph - _PH_HALF)))


# k(pH) = base + sw * switch(pH) through both points: two linear equations
_SW = (_K50 - _K74) / (_switch(5.0) - _switch(7.4))
_BASE = _K74 - _SW * _switch(7.4)
_ZHANG = ("calibrated: 63.4 % (pH 5.0) and 37.6 % (pH 7.4) doxorubicin released at 15 h "
          "from ZIF-8 grown on cellulose microspheres (CM@ZIF-8), Zhang, Wang, Wu, Yuan & Luo "
          "2024, J Drug Deliv Sci Technol 106263, doi:10.1016/j.jddst.2024.106263 "
          "(abstract; in PBS at both pH, inferred from the same group's 5-FU carrier with the "
          "same percentages 'in phosphoric acid buffer solution (PBS)': Guo, Mao & Luo 2024, "
          "J Wuhan Inst Technol 46:137, abstract), so degradation by phosphate is inside it")

PARAMETERS = override(
    ZNO + COMMON,
    *particles_like_zno("ZIF-8"),
    *like_zno(
        "ZIF-8",
        STIMULUS_YIELDS,
        "No sonodynamic or photocatalytic yield of ZIF-8 was found. ZIF-8 is no "
        "semiconductor photocatalyst at its 5.1 eV gap (light acts below ~243 nm only), and "
        "frameworks in sonodynamic therapy carry a sonosensitiser (review: Pharmaceutics "
        "15:2071, 2023, doi:10.3390/pharmaceutics15082071, abstract). Cavitation at any "
        "particle's surface, which the calibrated radical yield lumps, remains, so ZnO's "
        "value may overstate a bare framework's: set 0 to leave it out"),
    Parameter("dissolution_rate_per_h", _BASE, "1/h", "pH-independent degradation rate",
              _ZHANG, lower=0.0, lower_open=True),
    Parameter("dissolution_proton_order", 0.0, "1", "no proton-order term for ZIF-8",
              "off: the acid dependence is carried by the switch term", lower=0.0,
              upper=4.0),
    Parameter("dissolution_switch_rate_per_h", _SW, "1/h",
              "acid-switched degradation rate (full value below the switch pH)", _ZHANG,
              lower=0.0),
    Parameter("solubility_log10_K", 30.0, "1", "no equilibrium limit (irreversible)",
              "off: no equilibrium limit, framework degradation is irreversible (30 keeps the "
              "limit unreachable)",
              lower=0.0, upper=40.0),
    Parameter("cargo_mass_fraction", 0.062 / 1.062, "1",
              "doxorubicin per particle mass",
              "62 mg Dox per g ZIF-8 loading: Tran & Lee 2021, RSC Adv, doi:10.1039/d0ra10423j "
              "(abstract: 'a high loading capacity for doxorubicin (62 mg Dox per g ZIF8)'), "
              "as 0.062 / 1.062 of the loaded particle's mass. Another carrier than the one "
              "the degradation rates are calibrated on: Tran & Lee's is coated with "
              "polyacrylic acid and showed 'the low release rate of 24.7% even after 100 h' at "
              "pH 7.4 (same abstract); Zhang et al.'s CM@ZIF-8 'had a high loading capacity of "
              "DOX (Qe = 159.71 mg g^-1)' (abstract), per g of the cellulose composite",
              lower=0.0, upper=0.9),
    Parameter("band_gap_eV", 5.1, "eV", "optical band gap of ZIF-8",
              "assumed: ~5.1 eV as commonly quoted for ZIF-8 (docs/research item 12; no "
              "primary value verified); doped variants (Fe-ZIF-8 ~2.2 eV) set it in config",
              lower=0.0, upper=10.0),
    Parameter("light_absorption_cm2_per_ug", ZNO_LIGHT_ABSORPTION_CM2_PER_UG, "cm^2/ug",
              "mass absorption coefficient of the particles for light above the band gap (see "
              "ZnO)",
              "assumed: ZnO's value (no absorption coefficient of ZIF-8 above its gap was "
              "found)", lower=0.0),
)
