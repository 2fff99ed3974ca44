"""Every row of docs/validation.md, asserted on the test-suite's coarse grids: the model at
its default constants against reported numbers and phenomena (zn_pde/validation.py holds the
experiments, their sources and tolerances).

Rows the model does not reproduce are strict xfails with the reason: they fail loudly the day
the model starts to reproduce them, so the page and the tests cannot drift apart.
"""

from __future__ import annotations

import pytest

from zn_pde import validation as v

KNOWN_FAILURES = {
    "ZnO2 vs ZnO at equal zinc in an acidic spheroid":
        "a spheroid's cells meet the peroxide of the zinc they take up and the few uM of the "
        "pH 7.4 bulk medium: glutathione ~6 % and viability ~0.01 lower, against a lethal "
        "oxidant dose of mM; no ZnO2 release at pH 7.4 or spheroid comparison was found to "
        "set otherwise",
    "ZnO2 more oxidative and toxic than ZnO at equal zinc (acidic 2D culture, pH 6.5)":
        "released over days (ZnO's PVP-stabilised rate stands in for ZnO2's, not found), "
        "the peroxide stays within glutathione reductase's reach (2.4 uM/s of GSSG), so GSH "
        "does not fall and the kill is the zinc's; released within hours it would pass "
        "(tests/test_biology.py)",
    "ZnO2 more oxidative and toxic than ZnO at equal zinc, spheroid in acidic medium "
    "(medium and tissue at pH 6.7)":
        "ZnO2 kills more, but glutathione reductase gives back the glutathione its peroxide "
        "costs the outer cells: GSH does not fall by 30 %",
    "acidic tumour spheroid hit harder than neutral tissue by the same dose":
        "uptake by the cells in tissue (~0.3 /h) outpaces extracellular dissolution at pHe "
        "6.6 (~0.01 /h), so the cells end with the same zinc whatever the tissue pH",
    "ZnO toxic to a similar extent in 2D culture and in spheroids (24 h)":
        "the spheroid's cells meet the particles only in its outer layers and the few uM of "
        "Zn2+ the pH 7.4 bulk medium gathers: its EC50 is ~4x the 2D one",
    "ZIF-8 degrades faster in a phosphate buffer at pH 7.4 than in lactic acid at pH 5.0":
        "the acid switch was calibrated on release in PBS at both pH (0.0670 /h at pH 5.0, "
        "0.0314 /h at 7.4): phosphate-free pH 5.0 falls below PBS pH 7.4 only if phosphate "
        "carries > 0.0356 /h of the pH 5.0 rate, while a term first order in HPO4(2-) carries "
        "<= 3.3e-4 /h there and one in total phosphate <= 0.0314 /h; no phosphate rate was "
        "found either",
    "glutathione back to normal within minutes of a short H2O2 exposure":
        "glutathione reductase's supply (2.4 uM/s of GSSG) takes ~13 min from 19 % to 90 % "
        "of a 5 mM pool; the 6.3 uM/s that 5 min needs would move the H2O2 bolus's density "
        "scaling out of its reported range",
    "free Zn2+ in cells under a toxic zinc load (300 uM Zn2+ in the medium)":
        "the model's free Zn2+ is an effective variable: metallothionein's assumed 20 uM "
        "fills and the energy law's K_Zn (1 uM, zinc added to isolated mitochondria) puts "
        "death at ~19 uM free, against the probes' 40-100 nM rise",
    "particles up to 10 nm in radius diffuse unobstructed in a spheroid's extracellular "
    "matrix":
        "the Renkin hindrance in the 120 nm channels (set so that 100 nm particles stay in "
        "the outer layers) slows a 20 nm particle to ~0.46 of free diffusion, where FCS finds "
        "it unobstructed",
    "ZnO IC50 in MCF-7 breast cancer cells at 24, 48 and 72 h (2D culture)":
        "the pooled constants' 24 h IC50 (~37 ug/mL) is 2.3x MCF-7's 16 ug/mL; at 48 and "
        "72 h the model is within the factor 2",
    "HepG2 spheroids tolerate ZnO at <= 10 ug/mL for 24 h and 120 h":
        "a steady zinc load kills at a steady rate: no adaptation of zinc handling and no "
        "proliferation, so half the tissue dies in 5 days at 10 ug/mL",
}


@pytest.fixture(scope="module")
def rows() -> dict[str, v.Row]:
    res = v.COARSE
    out = [*v.release_rows(), v.zif8_phosphate_row(), *v.medium_rows(), *v.peroxide_rows(),
           v.catalase_row(), v.glutathione_recovery_row(), v.zinc_salt_row(), v.free_zinc_row(),
           v.culture_ic50_row(),
           v.zif8_carrier_row(),
           *v.synergy_rows(res), *v.peroxide_material_rows(res, release_what_if=False),
           v.selectivity_row(res),
           *v.acidic_medium_rows(res), v.hypoxia_row(res), v.fractionation_row(),
           *v.penetration_rows(), v.ecm_diffusion_row(), v.mcf7_ic50_row(),
           *v.spheroid_vs_culture_rows(res, uncoated=False)]
    return {r.phenomenon: r for r in out}


ROW_NAMES = [
    "ZnO release at pH 7.4, 120 h", "ZnO release at pH 4.7, 1 h", "ZnO release at pH 7.4, 24 h",
    "ZIF-8 release at pH 5, 15 h", "ZIF-8 release at pH 7.4, 15 h",
    "ZIF-8 degrades faster in a phosphate buffer at pH 7.4 than in lactic acid at pH 5.0",
    "ZnO in a phosphate medium: effective solubility (pH 6.8, 37 °C)",
    "ZnO in complete culture medium: dissolved zinc at equilibrium",
    "ZnO dissolves more in culture medium than in a phosphate saline at pH 7.4, and "
    "relatively more at a lower initial concentration",
    "H2O2 bolus IC50 at 24 h (2D culture)",
    "lethal H2O2 dose per cell, independent of cell density",
    "catalase enrichment protects cells from an H2O2 bolus that kills controls (2D culture, "
    "24 h)",
    "glutathione back to normal within minutes of a short H2O2 exposure",
    "ZnCl2 IC50 at 24 h (2D culture)", "ZnO culture IC50 at 24 h",
    "free Zn2+ in cells under a toxic zinc load (300 uM Zn2+ in the medium)",
    "ZIF-8 without a cargo tolerated up to 30 ug/mL and toxic above it (2D culture)",
    "sonodynamic synergy on a spheroid", "kill where particles and stimulus meet",
    "inertial-cavitation threshold",
    "no mechanical damage by ultrasound alone at <= 2 W/cm^2, 1 MHz",
    "ZnO2 more oxidative and toxic than ZnO at equal zinc (acidic 2D culture, pH 6.5)",
    "ZnO2 vs ZnO at equal zinc in an acidic spheroid",
    "acidic tumour spheroid hit harder than neutral tissue by the same dose",
    "a spheroid in acidic medium (medium and tissue at pH 6.7) hit harder than one at pH 7.4 "
    "by the same dose",
    "ZnO2 more oxidative and toxic than ZnO at equal zinc, spheroid in acidic medium "
    "(medium and tissue at pH 6.7)",
    "hypoxia lowers the sonodynamic yield in the core (300 um spheroid, [oxygen] on)",
    "light in fractions does more where O2 runs out (same fluence)",
    "particles of ~100 nm and more stay in a formed spheroid's outer cell layers (24 h)",
    "particles below ~100 nm reach a spheroid's core (24 h)",
    "particles up to 10 nm in radius diffuse unobstructed in a spheroid's extracellular "
    "matrix",
    "ZnO IC50 in MCF-7 breast cancer cells at 24, 48 and 72 h (2D culture)",
    "ZnO toxic to a similar extent in 2D culture and in spheroids (24 h)",
    "HepG2 spheroids tolerate ZnO at <= 10 ug/mL for 24 h and 120 h",
]


def test_every_row_is_asserted(rows):
    assert sorted(rows) == sorted(ROW_NAMES)


# explicit ids: pytest >= 9 names a parameter over 100 characters by its index ("name24")
@pytest.mark.parametrize("name", [
    pytest.param(n, id=n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[n])
                 if n in KNOWN_FAILURES else ()) for n in ROW_NAMES])
def test_row(rows, name):
    r = rows[name]
    assert r.passed, f"{r.phenomenon}: reported {r.reported}; model {r.model}; needs {r.criterion}"


def test_the_zif8_row_states_the_doxorubicin_its_own_culture_holds():
    """The note said 'about 1 uM doxorubicin', a number no run computed: the culture at
    10 ug/mL holds 0.31 ug/mL at 24 h, 0.57 uM (an outside user audit). The note's uM is the
    run's cargo over doxorubicin's molar mass (543.5 g/mol), to its 2 printed digits."""
    import re

    note = v.zif8_carrier_row().note
    found = re.search(r"\(([\d.]+) ug/mL of doxorubicin in the medium at 24 h, ([\d.]+) uM\)",
                      note)
    assert found, note
    cargo_ug_per_ml = float(v.culture("ZIF-8", 10.0)["cargo"][-1])
    assert float(found[1]) == pytest.approx(cargo_ug_per_ml, rel=0.02)
    assert float(found[2]) == pytest.approx(cargo_ug_per_ml / 543.52e-3, rel=0.02)
