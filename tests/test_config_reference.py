"""docs/config.md is generated from the schema and the material tables, is current, and
documents every key; the README links it (not a path users do not have)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zn_pde.config import ARRAY_SECTIONS, SECTIONS
from zn_pde.config._reference import markdown, unit_of
from zn_pde.config._schema import parameter_key
from zn_pde.materials import MATERIALS

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "config.md"


@pytest.fixture(scope="module")
def page() -> str:
    return markdown()


def _sections(text: str) -> dict[str, str]:
    """Heading ('[grid]', '[[light]]', ...) -> the text under it."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _row(block: str, key: str) -> list[str]:
    for line in block.splitlines():
        if line.startswith(f"| `{key}` |"):
            return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
    raise AssertionError(f"no row for {key}")


def test_config_reference_is_current(page):
    assert PAGE.read_text() == page, "docs/config.md is stale: python scripts/config_reference.py"


def test_every_schema_key_has_type_unit_default_range_and_meaning(page):
    sections = _sections(page)
    for heading, schema in [(f"[{s}]", k) for s, k in SECTIONS.items()] + [
            (f"[[{s}]]", k) for s, k in ARRAY_SECTIONS.items()]:
        assert heading in sections, heading
        section = heading.strip("[]")
        for name, key in schema.items():
            cells = _row(sections[heading], name)
            assert len(cells) == 6, (heading, name, cells)
            _, kind, unit, default, allowed, meaning = cells
            assert kind and default and meaning, (heading, name)
            assert unit == unit_of(section, name)
            assert allowed == key.allowed().replace("|", "\\|")


def test_every_kinetic_constant_of_every_material_is_listed(page):
    block = _sections(page)["[kinetics]"]
    kinds = list(MATERIALS)
    for p in MATERIALS["ZnO"].parameters:
        cells = _row(block, p.name)
        assert cells[1] == p.unit and parameter_key(p).allowed() == cells[2 + len(kinds)]
        for j, kind in enumerate(kinds):  # every material's value, in its column
            assert float(cells[2 + j]) == pytest.approx(MATERIALS[kind].parameter(p.name).value,
                                                        rel=1e-5, abs=1e-12)
    for kind, m in MATERIALS.items():  # a differing value comes with its own source
        for p in m.parameters:
            if p != MATERIALS["ZnO"].parameter(p.name):
                assert f"| `{p.name}` | {kind} |" in block and p.source[:60] in block


@pytest.mark.parametrize("section, name, unit", [
    ("grid", "spacing_um", "µm"), ("time", "dt_s", "s"), ("time", "save_every_min", "min"),
    ("ultrasound", "intensity_W_per_cm2", "W/cm²"), ("light", "irradiance_mW_per_cm2", "mW/cm²"),
    ("tissue", "ultrasound_attenuation_dB_per_cm_MHz", "dB/(cm MHz)"),
    ("species", "diffusivity_um2_per_s", "µm²/s"), ("ph", "medium", "pH"),
    ("geometry", "cell_volume_fraction", "1"), ("numerics", "devices", "—"),
    # a molar absorption coefficient, 1/(M cm), not the attenuation's 1/cm
    ("photosensitiser", "molar_absorption_per_M_per_cm", "1/(M cm)"),
])
def test_units_come_from_the_key_names(section, name, unit):
    assert unit_of(section, name) == unit


def test_readme_links_the_reference_not_the_private_spec():
    readme = (ROOT / "README.md").read_text()
    assert "](docs/config.md)" in readme
    assert "shared/spec" not in readme
