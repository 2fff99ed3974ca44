"""The parameter table as Markdown (the README's "Parameters" section is generated from it)."""

from __future__ import annotations

from . import ENVIRONMENT, MATERIALS


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _row(key: str, p) -> str:
    return f"| `{key}` | {_fmt(p.value)} | {p.unit} | {p.meaning} | {p.source} |"


def markdown_table() -> str:
    """ZnO in full, then for each other material only the rows where it differs from ZnO,
    then the shared optional processes (`_common.py`) and `[oxygen]`."""
    from ._common import (
        CE6_ABSORPTION_NM,
        CE6_MOLAR_ABSORPTION_PER_M_PER_CM,
        COMMON,
        OXYGEN,
        PHOTOSENSITISER,
    )

    rows = ["| key | value | unit | meaning | source |", "|---|---|---|---|---|"]
    zno = MATERIALS["ZnO"]
    common = {p.name for p in COMMON}
    for kind, material in MATERIALS.items():
        extra = f"; releases {material.coproduct}" if material.coproduct else ""
        which = "" if kind == "ZnO" else ", differences from ZnO"
        rows.append(f"| **{kind}** (`[kinetics]`{which}) | | | molar mass "
                    f"{material.molar_mass_g_per_mol:.4g} g/mol{extra} | IUPAC atomic weights |")
        for p in material.parameters:
            if kind == "ZnO" and p.name in common:
                continue
            if kind != "ZnO" and zno.parameter(p.name) == p:
                continue
            rows.append(_row(f"kinetics.{p.name}", p))
    rows.append("| **shared optional processes** (`[kinetics]`, every material) | | | | |")
    rows += [_row(f"kinetics.{p.name}", zno.parameter(p.name)) for p in COMMON]
    rows.append("| **oxygen** (`[oxygen]`, with `enabled = true`) | | | | |")
    rows += [_row(f"oxygen.{p.name}", p) for p in OXYGEN]
    rows.append("| **photosensitiser** (`[photosensitiser]`, with `enabled = true`) | | | | |")
    rows.append("| `photosensitiser.absorption_nm` | "
                + ", ".join(f"{w:g}" for w in CE6_ABSORPTION_NM)
                + " | nm | absorption maxima (chlorin e6 Soret and Q bands) | assumed: typical "
                "reported Ce6 maxima; no primary spectrum read |")
    rows.append("| `photosensitiser.molar_absorption_per_M_per_cm` | "
                + ", ".join(f"{e:g}" for e in CE6_MOLAR_ABSORPTION_PER_M_PER_CM)
                + " | 1/(M cm) | molar absorption coefficients at those maxima, in the same "
                "order | assumed: typical values of a free-base chlorin (Soret ~1.5e5, Q band "
                "~4e4); no primary chlorin e6 spectrum was read (none in the searchable "
                "abstracts, docs/research/) |")
    rows += [_row(f"photosensitiser.{p.name}", p) for p in PHOTOSENSITISER]
    rows.append("| **tissue and physiology** | | | | |")
    from ..config._schema import SECTIONS  # the config's own keys and defaults, not copies

    renamed = {"lysosome_ph": "ph.lysosome",
               "ultrasound_attenuation_tissue_dB_per_cm_MHz":
                   "tissue.ultrasound_attenuation_dB_per_cm_MHz",
               "ultrasound_attenuation_medium_dB_per_cm_MHz":
                   "tissue.medium_ultrasound_attenuation_dB_per_cm_MHz"}

    def config_key(name: str) -> str:  # the config key a user sets, [tissue] unless renamed
        return renamed.get(name) or (f"tissue.{name}" if name in SECTIONS["tissue"] else name)

    for p in ENVIRONMENT:
        rows.append(f"| `{config_key(p.name)}` | {_fmt(p.value)} | {p.unit} | {p.meaning} "
                    f"| {p.source} |")
    from .tissue import (
        JACQUES_SOFT_TISSUE_A_PER_CM,
        JACQUES_SOFT_TISSUE_B,
        LIGHT_ABSORPTION_PER_CM,
        LIGHT_WAVELENGTH_NM,
        light_attenuation_per_cm,
    )

    mu = ", ".join(f"{w:g} nm: {light_attenuation_per_cm(w):.3g}" for w in LIGHT_WAVELENGTH_NM)
    mua = ", ".join(f"{w:g}: {a:g}" for w, a in zip(LIGHT_WAVELENGTH_NM,
                                                     LIGHT_ABSORPTION_PER_CM, strict=True))
    rows.append(f"| `tissue.light_attenuation_per_cm` (default by wavelength) | {mu} | 1/cm | "
                f"tissue.light_model = beer_lambert: mu_a + mu_s' (diffusion: sqrt(3 mu_a "
                f"(mu_a + mu_s'))) | mu_s' = "
                f"{JACQUES_SOFT_TISSUE_A_PER_CM:g} (lambda/500 nm)^-{JACQUES_SOFT_TISSUE_B:g} "
                f"1/cm, Jacques 2013, Phys Med Biol 58:R37, doi:10.1088/0031-9155/58/11/R37, "
                f"Table 2 ('other soft tissues'; read second-hand, in two public code files "
                f"citing that table); mu_a (1/cm) at {mua}: assumed, see "
                f"zn_pde/materials/tissue.py |")
    phi = SECTIONS["geometry"]["cell_volume_fraction"].default
    rows.append(f"| `geometry.cell_volume_fraction` | {_fmt(phi)} | 1 | cell volume per tissue "
                "volume | "
                "1 - extracellular volume fraction 0.2, Sykova & Nicholson 2008, Physiol Rev "
                "88:1277, doi:10.1152/physrev.00027.2007 |")
    from .media import COMPOSITIONS, DEFAULT_COMPOSITION, MEDIUM, PHOSPHATE_LOG_BETA

    rows.append(f"| **medium** (`[medium]`, composition = `\"{DEFAULT_COMPOSITION}\"` by "
                "default) | | | what the extracellular fluid does to dissolved zinc | "
                "zn_pde/materials/media.py |")
    rows += [_row(f"medium.{p.name}", p) for p in MEDIUM]
    presets = "; ".join(f"{c}: alpha {a:.3g}, " + ("no zinc phosphate" if lim is None
                                                      else f"zinc phosphate {lim:.3g} uM")
                        for c, (a, lim) in COMPOSITIONS.items())
    rows.append(f"| `medium.composition` | \"{DEFAULT_COMPOSITION}\" | - | the presets of the "
                f"two keys above ({presets}) | as the two rows above; phosphate speciation "
                "f3 = 1 / (1 + sum_n beta_n [H+]^n), the PO4(3-) share, with "
                f"log beta1-3 of PO4(3-) {', '.join(f'{b:.5f}' for b in PHOSPHATE_LOG_BETA)} "
                "at 37 °C (phreeqc.dat of PHREEQC 3, 25 °C values 12.346, 19.553, 21.721 and "
                "their enthalpies, van 't Hoff) |")
    rim, core = (SECTIONS["ph"][key].default for key in ("tissue_rim", "tissue_core"))
    rows.append(f"| `ph.tissue_rim`, `ph.tissue_core` | {rim}, {core} | pH | extracellular pH "
                "at the spheroid surface and centre (parabolic in between) | assumed: the public "
                "contract's values, inside the pHe measured in human tumours by microelectrode, "
                "mean 7.06 +- 0.05, range 5.66-7.78, 67 nodules ('Extracellular pH distribution "
                "in human tumours', Int J Hyperthermia 1995, 11:211, "
                "doi:10.3109/02656739509022457 from the page address, abstract; authors not "
                "read); Gatenby & Gillies 2004 (Nat Rev Cancer 4:891, doi:10.1038/nrc1478, "
                "abstract) state the acidosis, not a range; no measured spheroid profile was "
                "found |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
