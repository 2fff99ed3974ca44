"""The README's parameter table is generated from the cited tables, and every default carries
a source or says "assumed"."""

from __future__ import annotations

import re
from pathlib import Path

from zn_pde.materials import ENVIRONMENT, MATERIALS
from zn_pde.materials._table import markdown_table

ROOT = Path(__file__).resolve().parent.parent


def test_readme_parameter_table_is_current():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- parameter-table:start -->\n(.*?)\n<!-- parameter-table:end -->",
                      text, re.S)
    assert block, "README lacks the parameter table markers"
    assert block.group(1) == markdown_table(), "run scripts/parameter_table.py --update-readme"


def test_every_default_cites_a_source_or_says_assumed():
    from zn_pde.materials._common import OXYGEN, PHOTOSENSITISER

    params = ([p for m in MATERIALS.values() for p in m.parameters] + list(ENVIRONMENT)
              + list(OXYGEN) + list(PHOTOSENSITISER))
    for p in params:
        cited = re.search(r"(doi:|ISBN|\b(19|20)\d\d\b)", p.source)
        # a definition: a process switched off (0), an unreachable limit or a pKa that
        # leaves the co-product neutral
        switched_off = p.source.startswith("off:") and (
            p.value == 0.0 or p.name in ("solubility_log10_K", "coproduct_pKa"))
        assert (p.assumed or p.source.startswith(("calibrated", "fitted", "stoichiometry:"))
                or cited or switched_off), p.name
        assert p.lower <= p.value <= p.upper, p.name


def test_readme_starts_with_the_two_setup_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```bash") + 1: lines.index("```")]
    assert len(block) == 2
    assert block[0].endswith("zn-pde run") and block[1].endswith("pytest")


def test_every_relative_link_in_the_docs_resolves():
    """Every relative Markdown link of the README and docs/ names a file or folder that
    exists (pages move: the limitations moved from the README to docs/limitations.md), and
    every #anchor into the README names one of its headings."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    readme_anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-")
                      for h in re.findall(r"^#+ (.+)$", pages[0].read_text(), re.M)}
    broken = []
    for page in pages:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(#[^)\s]*)?\)", page.read_text()):
            if "://" in target:
                continue
            path = (page.parent / target) if target else page
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
            elif anchor and path == pages[0] and anchor[1:] not in readme_anchors:
                broken.append(f"{page.relative_to(ROOT)} -> {target}{anchor}")
    assert len(pages) > 5 and not broken, broken


def test_doc_commands_that_redo_a_shipped_result_pass_overwrite():
    """A `zn-pde fit`, `design` or `plan` command in a docs code block that writes to the
    default folder (`checkpoints`, no `-o`) where the shipped result of that name already is
    exits 2 on a checkout unless it passes `--overwrite` (or `--resume`): docs/fitting.md gave
    `zn-pde design configs/fit_zno_release.toml` so, which a user copying it found refused
    (an outside audit of the docs' examples)."""
    import shlex
    import tomllib

    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    checked, failing = 0, []
    for page in pages:
        fence = None  # the language of the code block a line is in, None outside one
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                fence = None if fence is not None else line[3:].strip()
                continue
            if fence not in ("bash", "sh", "") or not line.startswith("zn-pde "):
                continue
            # a command continued on the next line ends in a backslash (the first line
            # holds the command, its config and -o where the docs give one)
            words = shlex.split(line.split("#")[0].rstrip().removesuffix("\\"))
            command, config = words[1], ROOT / words[2]
            if command not in ("fit", "design", "plan") or not config.is_file():
                continue
            table = tomllib.loads(config.read_text())["plan" if command == "plan" else "fit"]
            name = table["name"] + ("_design" if command == "design" else "")
            if ({"-o", "--outdir", "--overwrite", "--resume"} & set(words)
                    or not (ROOT / "checkpoints" / f"{name}.json").exists()):
                checked += 1
                continue
            failing.append(f"{page.relative_to(ROOT)}: {line.strip()}")
    assert checked >= 4 and not failing, failing


def test_fitting_page_table_is_generated_from_the_stored_checkpoints():
    """docs/fitting.md's shipped-fits table is scripts/fit_shipped.py's table of checkpoints/
    (a refit that is not copied into the docs fails here)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fit_shipped",
                                                  ROOT / "scripts" / "fit_shipped.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    block = re.search(r"<!-- shipped-fits:start -->\n(.*?)\n<!-- shipped-fits:end -->",
                      (ROOT / "docs" / "fitting.md").read_text(), re.S)
    assert block and block.group(1) == module.table(ROOT / "checkpoints").strip()


def test_every_parameter_table_key_is_a_config_key_with_the_row_s_default():
    """Each key in the README parameter table's first column (`section.key`) is a key a
    config takes: one of `[kinetics]` (any material's) or of the config schema's section;
    and where the row shows one number for a key outside `[kinetics]`, the built-in default
    config resolves that key to it (to the table's 4 significant figures). Until 2026-12-06
    four `[tissue]` rows named their key without its section (`surface_uptake_share`, the
    three `ultrasound_cavitation_*`), and the pH and cell-fraction rows were typed by hand."""
    from zn_pde.config import load_config
    from zn_pde.config._schema import SECTIONS

    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- parameter-table:start -->\n(.*?)\n<!-- parameter-table:end -->",
                      text, re.S).group(1)
    kinetic = {p.name for m in MATERIALS.values() for p in m.parameters}
    resolved = load_config(None, [])
    checked = 0
    for line in block.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0].startswith("**"):  # a heading row: a material or a section
            continue
        keys = re.findall(r"`([^`]+)`", cells[0])
        values = [v.strip() for v in cells[1].split(",")]
        for i, key in enumerate(keys):
            section, _, name = key.partition(".")
            assert name, f"{key!r}: the table names a key without its section"
            if section == "kinetics":
                assert name in kinetic, key
                continue
            assert name in SECTIONS.get(section, {}), f"{key!r} is not a config key"
            shown = values[i] if len(values) == len(keys) else None
            value = resolved[section].get(name)
            if shown is not None and isinstance(value, float):
                assert f"{value:.4g}" == f"{float(shown):.4g}", key
                checked += 1
    assert checked >= 20
