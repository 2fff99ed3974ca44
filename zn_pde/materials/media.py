"""What the medium does to dissolved zinc: complexation and zinc phosphate.

A particle's solubility limit, K [H⁺]² on the *free* Zn²⁺ (`solubility_log10_K`), is that of
pure water. A medium changes it two ways (`[medium]`, applied to all extracellular fluid: the
medium and the tissue's interstitial fluid, which holds the same solutes):

* **complexation** by its ligands (amino acids, serum albumin): only the free Zn²⁺ enters the
  particle's ion product, so the *total* dissolved zinc at saturation is α K [H⁺]², with
  α = total / free Zn²⁺ (the side-reaction coefficient of Ringbom's conditional constants);
* **zinc phosphate**: with phosphate, Zn²⁺ precipitates as hopeite, Zn₃(PO₄)₂·4H₂O, whatever
  the particle, and the dissolved zinc cannot exceed the hopeite limit. At a fixed phosphate
  total P, [Zn²⁺]³ [PO₄³⁻]² = K_sp with [PO₄³⁻] = P f₃(pH) gives
  zn_P(pH) = zn_P(6.8) (f₃(6.8) / f₃(pH))^{2/3}, f₃ the PO₄³⁻ fraction of the phosphate.
  Zinc beyond it precipitates (the variable `zn_phosphate`; equilibrium taken as instant),
  and the particle dissolves on by its own law: ZnO turns into zinc phosphate (David et al.
  2019), ZnO₂ releases its H₂O₂, ZIF-8 its cargo. The precipitate is particulate: it moves
  and is endocytosed as the particles are, and dissolves in the lysosomes.

The three compositions carry the measured limits below; `medium.zn_complexation_factor` and
`medium.zinc_phosphate_limit_uM` override them. Intracellular (lysosomal) dissolution is not
affected: the cell's own zinc buffering is the `mt_*` constants.
"""

from __future__ import annotations

from ._derive import log10_K_at_37C
from ._parameter import Parameter
from .zno import PARAMETERS as _ZNO

#: IUPAC standard atomic weight of Zn (Prohaska et al. 2022, doi:10.1515/pac-2019-0603).
ZN_G_PER_MOL = 65.38

#: Cumulative protonation constants of PO₄³⁻ at 25 °C and their enthalpies (phreeqc.dat of
#: PHREEQC 3, USGS, after minteq.v4 / NIST 46.3): log β for PO₄³⁻ + nH⁺ = HₙPO₄ (n = 1, 2, 3)
#: and ΔH (kJ/mol; −3.53 and −4.52 kcal, −10.1 kJ), taken to 37 °C by van 't Hoff.
_PHOSPHATE_LOG_BETA_25C = (12.346, 19.553, 21.721)
_PHOSPHATE_DH_KJ = (-3.53 * 4.184, -4.52 * 4.184, -10.1)
PHOSPHATE_LOG_BETA = tuple(log10_K_at_37C(b, h) for b, h in
                           zip(_PHOSPHATE_LOG_BETA_25C, _PHOSPHATE_DH_KJ, strict=True))
#: pH at which the phosphate limit is given (that of the measurement below).
PHOSPHATE_LIMIT_PH = 6.8


def phosphate_fraction(ph, protons: int = 0):
    """The share of the phosphate present as HₙPO₄⁽³⁻ⁿ⁾⁻, n = `protons` (0: PO₄³⁻, f₃; 1:
    HPO₄²⁻), at this pH (37 °C, activities taken as concentrations); `ph` a number or an
    array (NumPy or JAX, traced too)."""
    h = 10.0 ** -ph
    terms = [1.0] + [10.0 ** b * h ** (n + 1) for n, b in enumerate(PHOSPHATE_LOG_BETA)]
    return terms[protons] / sum(terms)


def _zno_solubility_uM(ph: float) -> float:
    log_k = next(p.value for p in _ZNO if p.name == "solubility_log10_K")
    return 10.0 ** (log_k - 2.0 * ph + 6.0)


# Complete culture medium (serum-supplemented): dissolved zinc at equilibrium ~10 ug/mL
# (Song et al. 2010, Toxicol Lett 199:389, abstract: ZnO
# particle suspensions in complete cell medium, 37 °C, 24 h) against the ZnO limit in water at
# pH 7.4 and 37 °C.
_CULTURE_ZN_UM = 10.0 / ZN_G_PER_MOL * 1e3  # 153 uM
#: dissolved zinc in complete medium at ZnO's equilibrium (uM; Song et al. 2010)
CULTURE_ZN_UM = _CULTURE_ZN_UM
_CULTURE_ALPHA = _CULTURE_ZN_UM / _zno_solubility_uM(7.4)

# Phosphate medium without organic ligands: effective ZnO solubility 0.29-0.47 mg/L in
# synthetic saliva at pH 6.8 and 37 °C, where the particles turn into zinc phosphate (David et
# al. 2019, Environ Sci Technol, doi:10.1021/acs.est.8b06531, abstract); the midpoint.
_PHOSPHATE_ZN_UM = 0.5 * (0.29 + 0.47) / ZN_G_PER_MOL * 1e3  # 5.8 uM

SONG_2010 = ("Song, Zhang, Guo, Zhang, Ding, Li & Sun 2010, 'Role of the dissolved zinc ion "
             "and reactive oxygen species in cytotoxicity of ZnO nanoparticles', Toxicol Lett "
             "199:389, DOI not seen (abstract: 'when the concentration of dissolved Zn2+ "
             "tended to equilibrium in the complete cell medium, the zinc ion concentration "
             "was approximately 10 ug/ml', mass of zinc as its ZnCl2 IC50 '13.33 ug Zn/ml' "
             "beside it; 37 °C, 24 h)")
DAVID_2019 = ("David et al. 2019, Environ Sci Technol, doi:10.1021/acs.est.8b06531 "
              "(abstract: effective ZnO solubility 0.29-0.47 mg/L in phosphate-containing "
              "synthetic saliva, pH 6.8, 37 °C, as the particles turn into zinc phosphate)")

#: composition -> (zn_complexation_factor, zinc_phosphate_limit_uM or None)
COMPOSITIONS: dict[str, tuple[float, float | None]] = {
    "culture": (_CULTURE_ALPHA, None),
    "water": (1.0, None),
    "phosphate_saline": (1.0, _PHOSPHATE_ZN_UM),
}
DEFAULT_COMPOSITION = "culture"
COMPOSITION_DOC = (
    "culture: complete cell-culture medium with serum (amino acids and proteins bind Zn2+, "
    "raising the dissolved zinc at saturation; its phosphate is in the measured value); "
    "water: pure water or a simple salt solution (the particle's own limit); "
    "phosphate_saline: a phosphate buffer without organic ligands (PBS, Gamble's solution, "
    "synthetic saliva): zinc phosphate caps the dissolved zinc, the rest precipitates "
    "(zn_phosphate)")

MEDIUM: tuple[Parameter, ...] = (
    Parameter("zn_complexation_factor", _CULTURE_ALPHA, "1",
              "alpha = total dissolved zinc / free Zn2+ in the extracellular fluid: the "
              "particle's solubility limit on total zinc is alpha K [H+]^2 (default from "
              "medium.composition: culture as shown, water and phosphate_saline 1)",
              "derived: ~10 ug/mL = 153 uM dissolved zinc at equilibrium in complete medium, "
              + SONG_2010 + ", over the ZnO limit in water at pH 7.4 and 37 °C, "
              f"{_zno_solubility_uM(7.4):.0f} uM: {_CULTURE_ALPHA:.2f} (the medium's pH "
              "taken as 7.4; the supernatant's 'dissolved' zinc may include zinc-phosphate "
              "nanoprecipitates: 'Formation of zinc-containing nanoparticles from Zn2+ ions in "
              "cell culture media', abstract, authors not read)",
              lower=1.0, upper=1e6),
    Parameter("zinc_phosphate_limit_uM", _PHOSPHATE_ZN_UM, "uM",
              "dissolved zinc at saturation with zinc phosphate at pH 6.8; other pH by the "
              "phosphate speciation, (f3(6.8)/f3(pH))^(2/3) (default from medium.composition: "
              "phosphate_saline as shown, culture and water none)",
              "calibrated: the midpoint of 0.29-0.47 mg/L read as mg of zinc (/65.38 g/mol: "
              "4.4-7.2 uM), " + DAVID_2019 + "; the abstract calls it the 'solubility of "
              "ZnO' without saying mg of Zn or of ZnO: read as ZnO (81.38 g/mol) it is "
              "3.6-5.8 uM, midpoint 4.7 uM, 20 % below the default; checked: "
              "hopeite log Ksp -35.42 (minteq.v4.dat of PHREEQC 3) with an assumed 1 mM "
              "phosphate (the order of culture media and saliva) gives 1.8 uM at pH 6.8 "
              "taking concentrations for activities and 8.0 uM with Davies activity "
              "coefficients at 0.15 M ionic strength (25 °C): the measurement lies between",
              lower=0.0, lower_open=True, upper=1e9),
)


def medium_constants(composition: str) -> dict[str, float | None]:
    """The defaults of `[medium]` for a composition."""
    alpha, limit = COMPOSITIONS[composition]
    return {"zn_complexation_factor": alpha, "zinc_phosphate_limit_uM": limit}


def phosphate_limit_ratio(ph):
    """zn_P(pH) / zn_P(6.8) = (f₃(6.8) / f₃(pH))^{2/3} (`ph` as for `phosphate_fraction`)."""
    return (phosphate_fraction(PHOSPHATE_LIMIT_PH) / phosphate_fraction(ph)) ** (2.0 / 3.0)

