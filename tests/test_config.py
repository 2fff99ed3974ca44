"""Config validation and the CLI's bad-input contract: exit 2, the key, the value, what is
allowed, never a traceback; the resolved config round-trips through TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path

import jax.numpy as jnp
import pytest

from zn_pde import InputError, Kinetics
from zn_pde._kinetics import UNITS
from zn_pde.cli import main
from zn_pde.config import default_config_text, dumps, load_config, resolve
from zn_pde.io import read_run

CONFIGS = sorted(p for p in (Path(__file__).parent.parent / "configs").glob("*.toml")
                 if not p.name.startswith(("fit_", "plan_")))  # tests/test_fit*.py, test_plan.py


def _write(tmp_path, text: str) -> str:
    p = tmp_path / "c.toml"
    p.write_text(text)
    return str(p)


def _validate(capsys, *argv) -> tuple[int, str]:
    code = main(["validate", *argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_set_addresses_array_entries_and_quoted_keys_with_dots():
    """`--set` takes TOML's key syntax: `ultrasound[0].x` and `ultrasound.0.x` for an entry of
    an array of tables, a quoted part as one key with its dots (a `[sweep]` key)."""
    c = load_config(None, ["ultrasound[0].start_h=2", "ultrasound.0.duration_min=2",
                           'sweep."material.dose_ug_per_ml"=[5.0, 10.0]'])
    assert c["ultrasound"][0]["start_h"] == 2.0 and c["ultrasound"][0]["duration_min"] == 2.0
    assert c["sweep"] == {"material.dose_ug_per_ml": [5.0, 10.0]}


@pytest.mark.parametrize("overrides", ["time.end_h=2", {"time.end_h": 2},
                                       [("time.end_h", 2)]])
def test_overrides_from_python_that_are_no_list_of_texts_are_named(overrides):
    """`load_config(path, "time.end_h=2")` applied the text a character at a time and was
    refused with "--set expects KEY=VALUE, got 't'"; `load_fit_config` and `load_plan`
    likewise. Now the argument is named, with what it takes."""
    from zn_pde import InputError
    from zn_pde.fit import load_fit_config
    from zn_pde.plan import load_plan

    configs = Path(__file__).parent.parent / "configs"
    for load, name in ((load_config, "zno_spheroid_radial"), (load_fit_config,
                                                               "fit_zno_release"),
                       (load_plan, "plan_us_timing")):
        with pytest.raises(InputError, match=r"expected a list of 'KEY=VALUE' texts") as e:
            load(configs / f"{name}.toml", overrides)
        assert e.value.key == "overrides", load


def test_set_takes_a_key_part_in_single_quotes_as_toml_does(capsys):
    """TOML quotes a key 'literally' too: `--set "sweep.'material.dose_ug_per_ml'=[5.0]"`
    was split at its dots, quotes kept, and refused with "key 'sweep.'material': expected a
    non-empty list of numbers, got {"dose_ug_per_ml'": [5.0]}" (found by fuzzing `--set`,
    2026-12-06). It is the same key as the double-quoted one now."""
    c = load_config(None, ["sweep.'material.dose_ug_per_ml'=[5.0, 10.0]",
                           "'time'.'end_h'=12"])
    assert c["sweep"] == {"material.dose_ug_per_ml": [5.0, 10.0]}
    assert c["time"]["end_h"] == 12.0
    code, text = _validate(capsys, "--set", "sweep.'material.dose_ug_per_ml'=[5.0]")
    assert code == 0 and '"material.dose_ug_per_ml" = [5.0]' in text


@pytest.mark.parametrize("key", ["material.dose_ug_per_ml.", ".material.dose_ug_per_ml",
                                 "material..dose_ug_per_ml", "ultrasound[0.start_h",
                                 "ultrasound[0]start_h", "ultrasound[[0]].start_h"])
def test_set_refuses_a_key_with_a_stray_dot_or_bracket(capsys, key):
    """A key with an empty part or an unclosed bracket is refused naming it (exit 2): it was
    read as the key without the stray character, so a typo set a value silently."""
    code, text = _validate(capsys, "--set", f"{key}=5")
    assert code == 2 and f"key '{key}': not a key path" in text and "Traceback" not in text


@pytest.mark.parametrize("key, parent, value", [
    ("time.end_h.x", "time.end_h", "24.0"),
    ("time.end_h.x.y", "time.end_h", "24.0"),
    ("ultrasound[0].start_h.a.b", "ultrasound[0].start_h", "4.0"),
    ("material.kind.x.y", "material.kind", '"ZnO"'),
])
def test_set_inside_a_value_that_is_no_table_exits_2(capsys, key, parent, value):
    """A key that goes on inside a number or a string is refused naming the value it went
    into and what to set instead; two or more parts past it raised a Python TypeError
    ('argument of type 'float' is not iterable', exit 1, a traceback)."""
    code, text = _validate(capsys, "--set", f"{key}=5")
    assert code == 2, text
    assert f"key '{key}'" in text and f"{parent} is {value}" in text
    assert f"allowed: {parent}=VALUE" in text and "Traceback" not in text


def test_set_indexes_a_list_left_to_its_default_and_names_a_missing_index(capsys):
    """`geometry.center_um[0]` on a config that leaves the centre to its default (the
    domain's centre) moves that coordinate only, as a sweep does; an array of tables
    addressed without an index, or past its end, is refused naming the way to address it."""
    c = load_config(None, ["geometry.center_um[0]=300"])
    assert c["geometry"]["center_um"] == [300.0, 320.0, 320.0]
    code, text = _validate(capsys, "--set", "ultrasound.start_h=1")
    assert code == 2 and "address one by its index, e.g. ultrasound[0].start_h=VALUE" in text
    code, text = _validate(capsys, "--set", "ultrasound[2].start_h=1")
    assert code == 2 and "index 2 out of range (ultrasound has 1 entry; allowed: 0 to 0)" in text
    # a negative index names the last valid one (the hint read 'ultrasound[0].-1=VALUE')
    code, text = _validate(capsys, "--set", "ultrasound[-1].start_h=1")
    assert code == 2 and "indices count from 0" in text and "ultrasound[0]" in text
    # an array the config has no entries in: said so (it read 'could not be resolved yet')
    code, text = _validate(capsys, "--set", "dose[0].time_h=1")
    assert code == 2 and "the config has no dose entries, so there is no dose[0]" in text


def test_set_index_into_a_value_that_is_no_list_names_what_it_is(capsys):
    """An index into a key the config leaves to a default that is not a list
    (`numerics.precision[0]`, a text), into an optional key left unset
    (`material.hydrodynamic_diameter_nm[0]`) or into an unknown section (`nosuch[0].x`) was
    answered "the config leaves precision empty or to its default, which could not be
    resolved yet; set the whole list" (a client audit, 2026-12-07): none is a list, and
    nosuch is no section. Each is now named for what it is."""
    code, text = _validate(capsys, "--set", "numerics.precision[0]=1")
    assert code == 2 and "key 'numerics.precision[0]'" in text, text
    assert 'numerics.precision is "float32", not a list' in text and "whole list" not in text
    code, text = _validate(capsys, "--set", "material.hydrodynamic_diameter_nm[0]=1")
    assert code == 2 and "material.hydrodynamic_diameter_nm is not a list" in text, text
    assert "whole list" not in text
    code, text = _validate(capsys, "--set", "nosuch[0].x=1")
    assert code == 2 and "key 'nosuch': unknown section; allowed sections: grid" in text, text
    # a list the config leaves to its default is still indexed
    assert load_config(None, ["geometry.center_um[1]=300"])["geometry"]["center_um"][1] == 300


def test_set_index_into_a_fit_key_the_file_leaves_unset_does_not_call_it_a_list():
    """A fit file's keys have no resolved defaults at override time: `fit.starts[3]`
    (starts is an integer) was answered 'leaves starts empty or to its default, which could
    not be resolved yet; set the whole list', and `fit.starts[-1]` 'value { -1 = 1 } is not
    allowed' (the minus sign made -1 a key). Now: the file does not set it, set the whole
    key; a negative index is an index (counted from 0)."""
    from zn_pde.fit import load_fit_config

    path = Path(__file__).parents[1] / "configs" / "fit_zno_release.toml"
    with pytest.raises(InputError) as e:
        load_fit_config(path, ["fit.starts[3]=1"])
    assert "does not set starts" in str(e.value) and "set the whole key" in str(e.value)
    assert "list, e.g." not in str(e.value) and "resolved yet" not in str(e.value)
    with pytest.raises(InputError, match="index -1: indices count from 0"):
        load_fit_config(path, ["fit.starts[-1]=1"])


def test_set_one_entry_of_a_table_left_to_its_default(tmp_path):
    """`species[0].decay_per_s.medium` on a species that leaves decay_per_s to its default
    sets that entry and keeps the default's other (before: refused, the table holding only
    the entry set); a section left out stays empty but for the key set."""
    path = tmp_path / "s.toml"
    path.write_text('[grid]\nkind = "radial"\nshape = [16]\n[geometry]\nradius_um = 50.0\n'
                    '[[species]]\nname = "tracer"\ndiffusivity_um2_per_s = 50.0\n')
    c = load_config(path, ["species[0].decay_per_s.medium=0.5"])
    assert c["species"][0]["decay_per_s"] == {"tissue": 0.0, "medium": 0.5}
    # the sweep table is a section: it holds only the key set (a sweep needs a material)
    c = load_config(path, ['material={ kind = "ZnO" }',
                           'sweep."species[0].decay_per_s.medium"=[0.1, 0.2]'])
    assert c["sweep"] == {"species[0].decay_per_s.medium": [0.1, 0.2]}


def test_set_one_entry_of_a_pair_written_as_one_number(tmp_path, capsys):
    """`diffusivity_um2_per_s = 50.0` is the pair { tissue = 50.0, medium = 50.0 } (docs/
    config.md): `--set species[0].diffusivity_um2_per_s.tissue=5` sets its tissue entry and
    keeps the medium's (before: refused, '--set key goes inside a value that is not a
    table'), from the command line and from `simulate`'s overrides alike; a key that is no
    pair is still refused."""
    path = tmp_path / "s.toml"
    path.write_text('[grid]\nkind = "radial"\nshape = [16]\n[geometry]\nradius_um = 50.0\n'
                    '[[species]]\nname = "tracer"\ndiffusivity_um2_per_s = 50.0\n'
                    'initial_uM = 2.0\n')
    c = load_config(path, ["species[0].diffusivity_um2_per_s.tissue=5",
                           "species.0.initial_uM.medium=3"])
    assert c["species"][0]["diffusivity_um2_per_s"] == {"tissue": 5.0, "medium": 50.0}
    assert c["species"][0]["initial_uM"] == {"tissue": 2.0, "medium": 3.0}
    code, out = _validate(capsys, str(path), "--set", "species[0].name.tissue=1")
    assert code == 2 and "key 'species[0].name.tissue'" in out, out


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_are_valid_and_round_trip(path):
    c = load_config(path)
    again = resolve(tomllib.loads(dumps(c)))
    assert again == {k: v for k, v in c.items() if not k.startswith("_")}
    # and as text: a run of the config a file stores (attrs["config"]) stores the same text,
    # sections and keys in the schema's order whether given or filled in
    assert dumps(again) == dumps(c)


def test_the_builtin_default_is_the_shipped_ultrasound_config():
    shipped = Path(__file__).parent.parent / "configs" / "zno_spheroid_ultrasound.toml"
    assert tomllib.loads(default_config_text()) == tomllib.loads(shipped.read_text())


@pytest.mark.parametrize("override, key, words", [
    ("grid.shpe=[8,8,8]", "grid.shpe", "did you mean 'shape'"),
    ("time.dt_s=-5", "time.dt_s", "> 0"),
    ("time.dt_s=nan", "time.dt_s", "finite"),
    ("grid.shape=[8,8]", "grid.shape", "3 integers"),
    ("material.kind='ZnOO'", "material.kind", "did you mean 'ZnO'"),
    # lower case, the usual slip in a name, got no suggestion (an outside user audit)
    ("material.kind='zns'", "material.kind", "did you mean 'ZnS'"),
    ("material.kind='zif8'", "material.kind", "did you mean 'ZIF-8'"),
    ("material.kind='zno2'", "material.kind", "did you mean 'ZnO2'"),
    ("ph.medium=15", "ph.medium", "<= 14"),
    ("geometry.radius_um=400", "geometry.radius_um", "does not fit"),
    ("geometry.center_um=[10000.0,0.0,0.0]", "geometry.center_um", "outside the domain"),
    ("time.dt_s=1200", "time.dt_s", "cannot"),
    ("kinetics.uptake_rate_per_hour=1", "kinetics.uptake_rate_per_hour", "uptake_rate_per_h"),
    # a near miss names its neighbour and, as every unknown key does, what is allowed (the
    # neighbour replaced the list: 'gsh_per_ros' alone for this one)
    ("kinetics.bogus_per_s=1", "kinetics.bogus_per_s", "; allowed: dissolution_rate_per_h, "),
    ("kinetics.dissolution_proton_order=9", "kinetics.dissolution_proton_order", "<= 4"),
    ("materail.kind='ZnO'", "materail", "did you mean 'material'"),
    ("medium.composition='saline'", "medium.composition", "'phosphate_saline'"),
    ("medium.zn_complexation_factor=0.5", "medium.zn_complexation_factor", ">= 1"),
    # beyond float32 (it ran to a NaN blamed on 'np'), and a cell far wider than the grid
    # (the surface layer's walk took minutes): an outside contract audit
    ("kinetics.gsh_half_uM=1e39", "kinetics.gsh_half_uM", "<= 1e+30"),
    ("kinetics.cell_diameter_um=1e12", "kinetics.cell_diameter_um", "<= 1000"),
    # cells filling the whole tissue leave no fluid for particles and ions (it ran to NaN)
    ("geometry.cell_volume_fraction=1.0", "geometry.cell_volume_fraction", "< 1"),
    # a passive species may not take an output's name: model variables (every field the
    # model may write: np_dead and zn_dead were accepted, and the model's field overwrote
    # the species in the file), summary series, the event table, open_run's time_h, a
    # sweep's axis and swept keys
    *((f"species=[{{name='{n}', diffusivity_um2_per_s=1.0}}]", "species[0].name", "reserved")
      for n in ("radical_dose", "tissue_mean_zn", "bulk_zn", "event_time", "time_h",
                *UNITS, "sweep", "sweep_material_dose_ug_per_ml")),
])
def test_bad_values_exit_2_naming_key_value_and_range(capsys, override, key, words):
    code, text = _validate(capsys, "--set", override)
    assert code == 2
    assert f"'{key}'" in text or f"key '{key}" in text
    assert words in text
    assert "Traceback" not in text


def test_more_devices_than_visible_are_refused_by_validate_naming_the_file(capsys):
    """`numerics.devices` beyond the visible devices is known before running: `validate`
    refuses it as `run` does, exit 2 with the file, the key and the allowed range (it was
    refused only when the run built its mesh, without the file; a red-team run)."""
    cfg = str(Path(__file__).parent.parent / "configs" / "zno_spheroid_no_stimulus.toml")
    code, text = _validate(capsys, cfg, "--set", "numerics.devices=4096")
    assert code == 2 and "Traceback" not in text
    assert f"{cfg}: key 'numerics.devices'" in text and "allowed: 1 to" in text


def test_step_too_long_for_accuracy_names_the_process_and_the_remedy(capsys):
    no_stimulus = str(Path(__file__).parent.parent / "configs" / "zno_spheroid_no_stimulus.toml")
    code, text = _validate(capsys, no_stimulus, "--set", "time.dt_s=1800")
    assert code == 2
    assert "lysosomal dissolution" in text and "reaction_substeps" in text
    code, _ = _validate(capsys, no_stimulus, "--set", "time.dt_s=1800", "--set",
                        "numerics.reaction_substeps=6")
    assert code == 0
    # an exposure shorter than the step is no reason to refuse: the solver lands on its ends
    code, text = _validate(capsys, "--set", "time.dt_s=120")
    assert code == 0


LIGHT = ("[[light]]\nstart_h = 2.0\nduration_min = 5.0\nwavelength_nm = 365.0\n"
         "irradiance_mW_per_cm2 = 20.0\n")


@pytest.mark.parametrize("text, overrides, key, words", [
    # the default: 24 h, one 1 min ultrasound exposure at 4 h
    ("", ["ultrasound[0].start_h=23.99"], "ultrasound[0].duration_min",
     ["would end at 24.01 h", "duration_min <= 0.6"]),
    # the sixth repeat starts before the end and is still on at it
    ("", ["ultrasound[0].repeats=6", "ultrasound[0].repeat_every_h=4", "time.end_h=20.01"],
     "ultrasound[0].repeats", ["from 24 h to 24.02 h", "repeats <= 4"]),
    (LIGHT, ["light[0].start_h=22", "light[0].duration_min=121"], "light[0].duration_min",
     ["duration_min <= 120"]),
    (LIGHT, ["light[0].repeats=3", "light[0].repeat_every_h=11", "time.end_h=24.05"],
     "light[0].repeats", ["the last exposure would run from 24 h", "repeats <= 2"]),
    # a moment past the end: the two times are quoted with the digits that tell them apart
    ("", ["time.end_h=4.0000001", "ultrasound[0].duration_min=0.0001"],
     "ultrasound[0].duration_min", ["would end at 4.000002 h, after the run ends at 4 h"]),
], ids=["us-past-end", "us-repeats", "light-past-end", "light-repeats",
        "us-a-moment-past-end"])
def test_exposures_still_on_at_the_end_exit_2(capsys, tmp_path, text, overrides, key, words):
    """An exposure (repeats included) still on at time.end_h is refused, naming the key, the
    value, the end of the run and what is allowed: its duration is the user's to shorten."""
    args = [_write(tmp_path, default_config_text() + text)] if text else []
    code, out = _validate(capsys, *args, *[a for o in overrides for a in ("--set", o)])
    assert code == 2, out
    assert f"key '{key}'" in out
    for w in words:
        assert w in out, out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1


@pytest.mark.parametrize("text, overrides, left, words", [
    ("", ["ultrasound[0].start_h=30"], {"ultrasound": []},
     ["ultrasound[0] (start_h = 30) is at or after the run's end (time.end_h = 24 h)"]),
    ("", ["ultrasound[0].start_h=24"], {"ultrasound": []}, ["left out of this run"]),
    # the spec's example of a shortened run: the exposure at 4 h is not in its 2 h
    ("", ["time.end_h=2"], {"ultrasound": []}, ["(time.end_h = 2 h): left out"]),
    (LIGHT, ["light[0].start_h=25"], {"light": []}, ["light[0] (start_h = 25)"]),
    # starts at 4, 8, ..., 24 h: the sixth at the end
    ("", ["ultrasound[0].repeats=6", "ultrasound[0].repeat_every_h=4"],
     {"ultrasound": [5]}, ["the last 1 starts at or after", "this run has the first 5"]),
    (LIGHT, ["light[0].repeats=4", "light[0].repeat_every_h=11"], {"light": [2]},
     ["the last 2 start at or after"]),
    # the first left out, the second kept (and renumbered)
    ("", ["ultrasound=[{start_h=30.0, duration_min=1.0, intensity_W_per_cm2=1.0}, "
          "{start_h=6.0, duration_min=1.0, intensity_W_per_cm2=2.0}]"],
     {"ultrasound": [1]}, ["ultrasound[0] (start_h = 30)", "entries after it are renumbered"]),
    ("", ["dose=[{time_h=24.0, dose_ug_per_ml=10.0}, {time_h=2.0, dose_ug_per_ml=5.0}]",
          "medium_exchange=[{time_h=30.0}]"], {"dose": [None], "medium_exchange": []},
     ["dose[0] (time_h = 24) is at", "medium_exchange[0] (time_h = 30) is at"]),
    # within the step plan's merge tolerance (1e-6 of the run) of the end: it would act at it
    ("", ["dose=[{time_h=23.99999, dose_ug_per_ml=5.0}]"], {"dose": []}, ["23.99999"]),
], ids=["us-after", "us-at-end", "short-run", "light-after", "us-repeats", "light-repeats",
        "renumbered", "events", "dose-a-moment-before-end"])
def test_protocol_at_or_after_the_end_is_left_out_with_a_note(capsys, tmp_path, text,
                                                             overrides, left, words):
    """What a protocol does at or after time.end_h cannot change the state over the run
    (an event at the end acts after the last frame): a run shortened with `--set
    time.end_h=2`, or a config pasted from an experiment longer than the run, runs the part
    inside it, and the note names what was left out. `left`: per section, the repeats of
    each exposure kept (None for an event)."""
    args = [_write(tmp_path, default_config_text() + text)] if text else []
    sets = [a for o in overrides for a in ("--set", o)]
    code, out = _validate(capsys, *args, *sets)
    assert code == 0 and "Traceback" not in out, out
    flat = " ".join(out.replace("# ", "").split())
    for w in words:
        assert w in flat, out
    c = load_config(args[0] if args else None, overrides)
    for sec, kept in left.items():
        assert [e.get("repeats") for e in c[sec]] == kept, c[sec]
    assert any("left out" in n or "this run has" in n for n in c["_notes"])


def test_a_sweep_over_an_exposure_left_out_says_why(capsys):
    """A sweep over an exposure the run leaves out (it starts after time.end_h) is refused, as
    a key into nothing; the refusal quotes the note that left it out."""
    code, out = _validate(capsys, "--set", "time.end_h=2", "--set",
                          'sweep."ultrasound[0].intensity_W_per_cm2"=[1.0, 2.0]')
    flat = " ".join(out.split())
    assert code == 2 and "Traceback" not in out, out
    assert "key 'sweep.ultrasound[0].intensity_W_per_cm2'" in flat, out
    assert "(ultrasound[0] (start_h = 4) is at or after the run's end" in flat, out
    # an error on an entry the run keeps is not about what was left out: no note quoted
    code, out = _validate(capsys, "--set", "time.end_h=2", "--set",
                          "ultrasound=[{start_h=0.5, duration_min=1.0, intensity_W_per_cm2=1.0,"
                          " duty_cycle=2.0}, {start_h=3.0, duration_min=1.0, "
                          "intensity_W_per_cm2=1.0}]")
    assert code == 2 and "key 'ultrasound[0].duty_cycle'" in out, out
    assert "left out" not in out, out


def test_the_spec_s_protocol_snippets_pasted_together_run(tmp_path, capsys):
    """The interface's example protocol (a dose and a wash-out at 24 h, exposures at 4 h) in a
    24 h run: the events at the end are left out with a note, and the run writes its file."""
    from zn_pde.cli import main

    text = """[grid]
kind = "cartesian"
shape = [8, 8, 8]
spacing_um = 80.0
[time]
end_h = 24.0
dt_s = 600.0
save_every_min = 720.0
[geometry]
kind = "spheroid"
radius_um = 250.0
[material]
kind = "ZnO"
dose_ug_per_ml = 20.0
[[ultrasound]]
start_h = 4.0
duration_min = 1.0
intensity_W_per_cm2 = 1.0
frequency_MHz = 1.0
[[dose]]
time_h = 24.0
dose_ug_per_ml = 10.0
[[medium_exchange]]
time_h = 24.0
ph = 7.4
"""
    out = tmp_path / "out.h5"
    assert main(["run", _write(tmp_path, text), "-o", str(out), "--quiet", "--no-control"]) == 0
    said = " ".join(" ".join(capsys.readouterr()).split())
    assert "dose[0] (time_h = 24) is at or after the run's end" in said, said
    run = read_run(out)
    assert run.times_s[-1] == pytest.approx(24 * 3600.0) and not run.config.get("dose")


@pytest.mark.parametrize("overrides, words", [
    (["grid.kind='radial'", "grid.shape=[32]", "geometry.radius_um=320.0001"],
     ["radius 320.0001 um must lie", "radius_um <= 320"]),
    (["grid.kind='radial'", "grid.shape=[32]", "geometry.radius_um=9.9999999"],
     ["radius 9.9999999 um must lie", "10 <= radius_um"]),
    (["geometry.radius_um=320.0000001"], ["radius 320.0000001 um,", "radius_um <= 320 for"]),
    (["geometry.radius_um=9.9999999"], ["radius 9.9999999 um is below one voxel (10 um)"]),
    (["tissue.extracellular_volume_fraction=0.2000001", "geometry.cell_volume_fraction=0.8"],
     ["extracellular_volume_fraction = 0.2000001 plus", "allowed: <= 0.2"]),
], ids=["radial-over", "radial-under", "cartesian-over", "cartesian-under", "fluid-fraction"])
def test_a_value_a_moment_past_its_bound_is_quoted_as_given(capsys, overrides, words):
    """A radius or fluid fraction just outside its allowed range is named with the digits
    that tell it from the bound: 'radius 320 um ... allowed: radius_um <= 320' would name a
    value the range allows instead of the offending one."""
    code, out = _validate(capsys, *[a for o in overrides for a in ("--set", o)])
    assert code == 2, out
    assert "key 'geometry.radius_um'" in out or "key 'tissue.extracellular_volume" in out
    for w in words:
        assert w in out, out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1


@pytest.mark.parametrize("wavelength_nm", [300.0, 1000.0])
def test_light_outside_the_optics_table_needs_its_attenuation(capsys, tmp_path, wavelength_nm):
    """The tissue optics table covers 365-808 nm: another wavelength is refused (exit 2,
    naming the key, the table's range and the remedy) unless the attenuation is set."""
    path = _write(tmp_path, default_config_text() + LIGHT)
    code, out = _validate(capsys, path, "--set", f"light[0].wavelength_nm={wavelength_nm}")
    assert code == 2 and "key 'light[0].wavelength_nm'" in out, out
    assert "365-808 nm" in out and "tissue.light_attenuation_per_cm" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1
    code, out = _validate(capsys, path, "--set", f"light[0].wavelength_nm={wavelength_nm}",
                          "--set", "tissue.light_attenuation_per_cm=20.0")
    assert code == 0, out


@pytest.mark.parametrize("grid, geometry", [("well_mixed", "medium"), ("well_mixed", "uniform"),
                                            ("radial", "medium")])
def test_light_that_meets_no_tissue_needs_no_tissue_optics(grid, geometry):
    """A cell-free vial or a well-mixed culture under far UV-C (230 nm: only light below 243 nm
    excites ZIF-8, band gap 5.1 eV) was refused until tissue.light_attenuation_per_cm was set,
    a key that does not act there (an outside audit, 2026-12-06; config.md lists it among the
    keys a well-mixed run resolves but does not use). It runs without it, and the value, when
    set, changes nothing."""
    from zn_pde import simulate

    c = {"grid": {"kind": grid}, "geometry": {"kind": geometry},
         "time": {"end_h": 0.25, "dt_s": 60.0, "save_every_min": 15.0},
         "material": {"kind": "ZIF-8"},
         "light": [{"start_h": 0.05, "duration_min": 5.0, "wavelength_nm": 230.0,
                    "irradiance_mW_per_cm2": 5.0}]}
    if grid == "radial":
        c["grid"].update(shape=[5], spacing_um=20.0)
    ros = simulate(c, progress=False)["max_ros"].values
    assert ros.max() > 0  # the light acts on the particles
    set_ = simulate(c, progress=False, **{"tissue.light_attenuation_per_cm": 1000.0})
    assert (set_["max_ros"].values == ros).all()


@pytest.mark.parametrize("overrides", [
    ["ultrasound[0].duration_min=1200"],  # ends exactly at end_h
    ["ultrasound[0].repeats=5", "ultrasound[0].repeat_every_h=4"],  # last one 20 h-20 h 1 min
    ["ultrasound[0].start_h=0"],
])
def test_exposures_inside_the_run_are_accepted(capsys, overrides):
    code, out = _validate(capsys, *[a for o in overrides for a in ("--set", o)])
    assert code == 0, out


def test_unreadable_and_malformed_files(capsys, tmp_path):
    code, text = _validate(capsys, str(tmp_path / "missing.toml"))
    assert code == 2 and "not found" in text
    code, text = _validate(capsys, _write(tmp_path, "[grid\nshape = 3"))
    assert code == 2 and "not valid TOML" in text
    code, text = _validate(capsys, _write(tmp_path, "[[species]]\nname = 'zn'\n"
                                          "diffusivity_um2_per_s = 1.0\n"))
    assert code == 2 and "reserved" in text


@pytest.mark.parametrize("kind", ["ZnO", "ZnO2", "ZIF-8", "ZnS"])
def test_every_material_of_the_contract_validates(capsys, kind):
    code, text = _validate(capsys, "--set", f"material.kind='{kind}'")
    assert code == 0, text


def test_a_toml_syntax_error_quotes_the_line_it_is_on(capsys, tmp_path):
    """tomllib gives a position only: a key set twice said "not valid TOML: Cannot overwrite
    a value (at line 3, column 8)", naming neither the key nor the value (a client program's
    finding); the message quotes that line and says what is allowed."""
    code, text = _validate(capsys, _write(tmp_path, "[time]\nend_h = 1.0\nend_h = 2.0\n"))
    assert code == 2 and "Traceback" not in text
    assert "not valid TOML: Cannot overwrite a value (at line 3" in text
    assert "line 3 reads 'end_h = 2.0'; allowed: TOML 1.0" in text
    # at the end of the document there is no line to quote
    code, text = _validate(capsys, _write(tmp_path, '[time]\nend_h = "1'))
    assert code == 2 and "(at end of document); allowed: TOML 1.0" in text


def test_validate_prints_every_default(capsys, tmp_path):
    code, text = _validate(capsys, _write(tmp_path, "[material]\nkind = 'ZnO'\n"))
    assert code == 0
    body = tomllib.loads(text.split("\n", 1)[1])
    assert body["kinetics"]["band_gap_eV"] == 3.37
    assert body["ph"]["lysosome"] == 4.7
    assert body["grid"]["shape"] == [64, 64, 64]


def test_run_refuses_to_overwrite_and_leaves_nothing_on_bad_input(capsys, tmp_path):
    out = tmp_path / "r.h5"
    out.write_bytes(b"precious")
    code = main(["run", "-o", str(out), "--quiet", "--set", "time.end_h=5"])
    assert code == 2 and out.read_bytes() == b"precious"
    assert "--overwrite" in capsys.readouterr().err
    bad = tmp_path / "bad.h5"
    assert main(["run", "-o", str(bad), "--set", "time.dt_s=-1"]) == 2
    assert not bad.exists()


def test_a_well_mixed_spheroid_is_refused_naming_the_value(capsys, tmp_path):
    """A spheroid in a well-mixed run said only "geometry.kind must be 'uniform' ... or
    'medium'", not the value it refused (a client program's finding)."""
    text = '[grid]\nkind = "well_mixed"\n[geometry]\nkind = "spheroid"\n[material]\nkind = "ZnO"\n'
    code, out = _validate(capsys, _write(tmp_path, text))
    assert code == 2 and "Traceback" not in out
    assert ("key 'geometry.kind': geometry.kind = \"spheroid\": a well_mixed run has one "
            "compartment; allowed: 'uniform'") in out


def test_a_medium_section_needs_a_material(capsys, tmp_path):
    """[medium] acts on dissolved zinc, so like [kinetics] it needs particles: without a
    [material] it is refused (exit 2, naming the section), not silently ignored."""
    text = ('[grid]\nkind = "well_mixed"\n[geometry]\nkind = "medium"\n'
            '[[species]]\nname = "tracer"\ndiffusivity_um2_per_s = { tissue = 1.0, medium = 1.0 }\n'
            '[medium]\ncomposition = "water"\n')
    code, out = _validate(capsys, _write(tmp_path, text))
    assert code == 2 and "[medium] section needs a [material]" in out and "Traceback" not in out


@pytest.mark.parametrize("exposure", [
    "[[ultrasound]]\nstart_h = 0.5\nduration_min = 1.0\nintensity_W_per_cm2 = 3.0\n"
    "frequency_MHz = 1.0\n",
    "[[light]]\nstart_h = 0.5\nduration_min = 1.0\nwavelength_nm = 365.0\n"
    "irradiance_mW_per_cm2 = 10.0\n"])
def test_a_stimulus_without_particles_is_refused(capsys, tmp_path, exposure):
    """Passive species feel no ultrasound or light: an exposure in a config without a
    [material] is refused (exit 2, naming it) as a dose or exchange is, not run as a no-op
    that the figures would still shade (a red-team run)."""
    text = ('[grid]\nkind = "well_mixed"\n[geometry]\nkind = "medium"\n[time]\nend_h = 1.0\n'
            '[[species]]\nname = "tracer"\n'
            'diffusivity_um2_per_s = { tissue = 1.0, medium = 1.0 }\n' + exposure)
    code, out = _validate(capsys, _write(tmp_path, text))
    assert code == 2 and "acts on the nanoparticle model" in out and "Traceback" not in out
    assert ("'ultrasound[0]'" in out) or ("'light[0]'" in out)



@pytest.mark.parametrize("grid", ['shape = [8, 8, 8]\nspacing_um = 20.0\n',
                                  'kind = "radial"\nshape = [8]\nspacing_um = 20.0\n'])
@pytest.mark.parametrize("dose, key", [("dose_ug_per_ml = {v}\n", "material.dose_ug_per_ml"),
                                       ("dose_ug_per_ml = 0.0\n[[dose]]\ntime_h = 1.0\n"
                                        "dose_ug_per_ml = {v}\n", "dose[0].dose_ug_per_ml")])
def test_a_dose_into_tissue_with_closed_walls_is_refused(capsys, tmp_path, grid, dose, key):
    """Tissue only (geometry 'uniform') behind zero-flux walls has no medium for particles to
    be dosed into and no open face to enter by: a positive dose, at t = 0 or later, reached
    no cell and the run reported 0 uM of zinc everywhere (a protocol red-team run,
    2026-12-06). Refused (exit 2) naming the dose and what would carry it; a dose of 0 (the
    model with its kinetics, nothing dosed) is still accepted."""
    text = (f"[grid]\n{grid}[geometry]\nkind = \"uniform\"\n[boundary]\nkind = \"neumann\"\n"
            f"[time]\nend_h = 2.0\n[material]\nkind = \"ZnO\"\n{dose}")
    code, out = _validate(capsys, _write(tmp_path, text.format(v=5.0)))
    assert code == 2 and f"key '{key}'" in out and "would reach no cell" in out, out
    assert "boundary.kind = 'dirichlet'" in out and "Traceback" not in out
    code, out = _validate(capsys, _write(tmp_path, text.format(v=0.0)))
    assert code == 0, out


@pytest.mark.parametrize("grid, radius, fills", [
    ('kind = "radial"\nshape = [10]\nspacing_um = 10.0\n', 100.0, True),
    ('kind = "radial"\nshape = [10]\nspacing_um = 10.0\n', 95.0, True),  # last centre 95
    ('kind = "radial"\nshape = [10]\nspacing_um = 10.0\n', 94.0, False),
    ('shape = [2, 2, 2]\nspacing_um = 10.0\n', 10.0, True),  # corners 8.66 um out
    ('shape = [4, 4, 4]\nspacing_um = 10.0\n', 20.0, False)])
def test_a_dose_into_a_spheroid_that_fills_a_closed_grid_is_refused(capsys, tmp_path, grid,
                                                                     radius, fills):
    """A spheroid that holds every voxel or shell (each centre inside radius_um) leaves no
    medium, and behind zero-flux walls no face to enter by: the dose reached no cell, while
    the event table listed it (an outside check, 2026-12-07: a radial [10] x 10 um grid with
    radius 100 or 95 um, and a 2^3 x 10 um grid with radius 10 um, ended with np = np_int =
    0 everywhere after 20 ug/mL). Refused as for geometry 'uniform'; one medium shell or
    voxel left is enough."""
    text = (f"[grid]\n{grid}[geometry]\nkind = \"spheroid\"\nradius_um = {radius}\n"
            "[boundary]\nkind = \"neumann\"\n[time]\nend_h = 2.0\n[material]\nkind = \"ZnO\"\n"
            "dose_ug_per_ml = 5.0\n")
    code, out = _validate(capsys, _write(tmp_path, text))
    if fills:
        assert code == 2 and "key 'material.dose_ug_per_ml'" in out, out
        assert "would reach no cell" in out and "radius_um" in out and "Traceback" not in out
    else:
        assert code == 0, out
    dirichlet = text.replace('kind = "neumann"', 'kind = "dirichlet"')
    assert _validate(capsys, _write(tmp_path, dirichlet))[0] == 0


@pytest.mark.parametrize("text", ["", '[grid]\nkind = "radial"\n',
                                  '[[ultrasound]]\nstart_h = 1.0\nduration_min = 1.0\n'
                                  'intensity_W_per_cm2 = 1.0\nfrequency_MHz = 1.0\n'])
def test_a_config_with_nothing_to_simulate_exits_2(capsys, tmp_path, text):
    """Neither particles ([material]) nor a passive species ([[species]]): refused by
    validate and run alike (exit 2, naming the missing section), not a traceback."""
    path = _write(tmp_path, text)
    code, out = _validate(capsys, path)
    assert code == 2 and "nothing to simulate" in out and "key 'material'" in out
    code = main(["run", path, "-o", str(tmp_path / "r.h5"), "--quiet"])
    out = capsys.readouterr()
    assert code == 2 and "nothing to simulate" in out.err and "Traceback" not in out.err
    assert not (tmp_path / "r.h5").exists()


# a valid value other than the default for each key a well_mixed run resolves but does not use
INERT_CHANGES = {
    "grid.shape": [8, 8, 8], "grid.spacing_um": 50.0, "geometry.radius_um": 100.0,
    "boundary.kind": "neumann", "boundary.bulk_medium": "fixed", "ph.tissue_rim": 6.0,
    "ph.tissue_core": 6.0, "tissue.light_model": "diffusion",
    "tissue.light_attenuation_per_cm": 500.0, "tissue.medium_light_attenuation_per_cm": 500.0,
    "tissue.ultrasound_attenuation_dB_per_cm_MHz": 5.0,
    "tissue.medium_ultrasound_attenuation_dB_per_cm_MHz": 5.0, "tissue.tortuosity": 3.0,
    "tissue.extracellular_gap_nm": 50.0, "tissue.surface_uptake_share": 1.0}


def test_keys_a_well_mixed_run_ignores_are_listed_and_change_nothing(capsys):
    """`zn-pde validate` names the keys a well_mixed run lists but does not use, and changing
    every one of them leaves a 3 h culture with ultrasound and light bit for bit unchanged
    (while the cavitation threshold, which does act, changes it)."""
    import numpy as np

    import zn_pde
    from zn_pde.config import WELL_MIXED_INERT_KEYS

    assert set(INERT_CHANGES) == set(WELL_MIXED_INERT_KEYS)
    base = Path(__file__).parent.parent / "configs" / "zno_culture_well_mixed.toml"
    code, text = _validate(capsys, str(base))
    assert code == 0
    comment = " ".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    assert all(k in comment for k in WELL_MIXED_INERT_KEYS), comment

    def run(changes):
        raw = tomllib.loads(base.read_text())
        raw["time"].update(end_h=3.0, save_every_min=60.0)
        raw["ultrasound"] = [{"start_h": 1.0, "duration_min": 1.0,
                              "intensity_W_per_cm2": 1.5}]
        raw["light"] = [{"start_h": 1.5, "duration_min": 5.0,
                         "irradiance_mW_per_cm2": 50.0, "wavelength_nm": 365.0}]
        for key, value in changes.items():
            section, name = key.split(".")
            raw.setdefault(section, {})[name] = value
        return zn_pde.simulate(raw, progress=False)

    ref = run({})
    fields = ("zn", "zn_cell", "ros", "gsh", "viability")
    assert float(ref["radical_dose"][-1]) > 0  # the stimuli act
    inert = run(INERT_CHANGES)
    for name in fields:
        np.testing.assert_array_equal(inert[name].values, ref[name].values, err_msg=name)
    acting = run({"tissue.ultrasound_cavitation_threshold_W_per_cm2": 1.2})
    assert not np.allclose(acting["viability"].values, ref["viability"].values, rtol=1e-4)


def test_the_particle_diameter_sets_the_diffusivity_the_resolved_config_reports(capsys):
    """With material.hydrodynamic_diameter_nm the resolved config reports the particles'
    medium diffusivity the run uses, Stokes-Einstein at 37 °C (kT/(3 pi eta d): 4.381
    um^2/s at 150 nm, 67 nm's 9.809 times 67/150), and a contradicting explicit value is
    refused (exit 2, naming both keys). Before 2026-12-02 the config kept 67 nm's 9.809
    while the run used the diameter's (an outside audit)."""
    from zn_pde import build_model

    c = load_config(None, ["material.hydrodynamic_diameter_nm=150"])
    d = c["kinetics"]["np_diffusivity_medium_um2_per_s"]
    default = load_config(None, [])["kinetics"]["np_diffusivity_medium_um2_per_s"]
    assert d == pytest.approx(default * 67.0 / 150.0, rel=1e-9)
    model = build_model(load_config(None, ["material.hydrodynamic_diameter_nm=150",
                                           "grid.shape=[8,8,8]", "geometry.radius_um=30"]))
    assert float(model.diffusivity_medium_um2_per_s[0]) == pytest.approx(d, rel=1e-6)
    assert "np_diffusivity_medium_um2_per_s = 4.38" in _validate(
        capsys, "--set", "material.hydrodynamic_diameter_nm=150")[1]
    code, text = _validate(capsys, "--set", "material.hydrodynamic_diameter_nm=150",
                           "--set", "kinetics.np_diffusivity_medium_um2_per_s=9.0")
    assert code == 2 and "key 'kinetics.np_diffusivity_medium_um2_per_s'" in text
    assert "material.hydrodynamic_diameter_nm" in text and "Traceback" not in text
    # consistent values (a stored resolved config run again) are accepted
    assert _validate(capsys, "--set", "material.hydrodynamic_diameter_nm=150", "--set",
                     f"kinetics.np_diffusivity_medium_um2_per_s={d!r}")[0] == 0


def test_unresolved_keeps_a_derived_value_changed_by_hand():
    """`config.unresolved` (a sweep point, a plan's controls, simulate's overrides on a
    resolved dict) derives again only what still holds its derived value: a tissue
    diffusivity edited in the resolved dict is kept, the untouched ones follow a changed
    tortuosity."""
    from zn_pde.config import resolve, unresolved

    c = load_config(None, [])
    c["kinetics"]["zn_diffusivity_tissue_um2_per_s"] = 50.0
    c["tissue"]["tortuosity"] = 2.0
    again = resolve(unresolved(c))
    assert again["kinetics"]["zn_diffusivity_tissue_um2_per_s"] == 50.0
    ros = again["kinetics"]["ros_diffusivity_medium_um2_per_s"] / 4.0
    assert again["kinetics"]["ros_diffusivity_tissue_um2_per_s"] == pytest.approx(ros)


@pytest.mark.parametrize("override", [
    # a material's own constants follow its kind (before: ZnS kept ZnO's solubility and
    # released no H2S when simulate() changed the kind of a resolved dict)
    'material.kind="ZnS"',
    # the cell fraction left at its default follows the fluid fraction (before: kept at 0.8,
    # so a sweep or a plan control of the fluid fraction above 0.2 was refused)
    "tissue.extracellular_volume_fraction=0.3",
    # a medium's constants follow its composition
    'medium.composition="phosphate_saline"',
])
def test_a_resolved_config_changed_and_resolved_again_equals_the_raw_one(override):
    """`config.unresolved` gives back what the raw config gave: every default and every
    derived value is filled in again from the changed keys, exactly as resolving the raw
    config with the same override (`zn-pde run --set`)."""
    from zn_pde.config import apply_override, resolve, unresolved

    raw = unresolved(load_config(None, []))
    apply_override(raw, override, "<test>")
    again = resolve(raw)
    direct = load_config(None, [override])
    assert {k: v for k, v in again.items() if not k.startswith("_")} == {
        k: v for k, v in direct.items() if not k.startswith("_")}


def test_retired_peroxide_keys_are_read_in_their_old_meaning_and_converted_exactly(x64):
    """A [kinetics] table written before 2026-12-04 (a fit's model_config, a plan's scenario)
    has gpx_fraction g, intracellular_h2o2_removal_per_s K and catalase_rate_per_s as the
    whole-cell uptake k_cell. It is converted to catalase k_cat = (1 − g) K, peroxidases
    k_px = g K and a membrane k_p that gives the same uptake in series with the removal
    inside: the model's uptake is that k_cell and its escape share k_cell/(K + k_F [Fe]) to
    1e-12, its peroxidase and catalase shares g and 1 − g to the Fenton share (~1e-7)."""
    raw = {"material": {"kind": "ZnO2"},
           "kinetics": {"gpx_fraction": 0.2, "intracellular_h2o2_removal_per_s": 500.0,
                        "catalase_rate_per_s": 2.0}}
    k = resolve(raw, "legacy.toml")["kinetics"]
    assert "gpx_fraction" not in k and "intracellular_h2o2_removal_per_s" not in k
    assert k["catalase_rate_per_s"] == pytest.approx(400.0, rel=1e-12)
    assert k["peroxidase_rate_per_s"] == pytest.approx(100.0, rel=1e-12)
    kin = Kinetics.from_config(k, 4.7, 1.0, dtype=jnp.float64)
    fates = kin.peroxide_fates()
    fenton = k["fenton_rate_per_uM_per_s"] * k["fenton_catalyst_uM"]
    assert float(fates.uptake_per_s) == pytest.approx(2.0, rel=1e-12)
    assert float(fates.escape) == pytest.approx(2.0 / (500.0 + fenton), rel=1e-12)
    assert float(fates.glutathione) == pytest.approx(0.2, rel=1e-6)
    assert float(fates.damage) == pytest.approx(0.2, rel=1e-6)
    assert float(fates.catalase) == pytest.approx(0.8, rel=1e-6)
    # without the retired keys catalase_rate_per_s is the catalase inside the cells
    today = resolve({"material": {"kind": "ZnO2"}, "kinetics": {"catalase_rate_per_s": 2.0}},
                    "today.toml")["kinetics"]
    assert today["catalase_rate_per_s"] == 2.0 and today["h2o2_permeation_per_s"] == 1.0


def test_values_derived_at_resolution_are_derived_again_when_the_config_changes():
    """`unresolved` (a sweep point, a plan's controls, Python overrides) keeps what was given
    and derives the rest again (outside red-team findings): the zn-pde 0.1 peroxide keys'
    converted values stay (they were lost: a sweep of such a config ran today's defaults,
    viability 0.219 against its own run's 0.125), and a cartesian spheroid's default centre
    follows the grid (it stayed at the old grid's centre)."""
    from zn_pde.config import unresolved

    base = {"grid": {"kind": "radial", "shape": [12], "spacing_um": 25.0},
            "geometry": {"kind": "spheroid", "radius_um": 150.0},
            "material": {"kind": "ZnO2", "dose_ug_per_ml": 20.0},
            "kinetics": {"gpx_fraction": 0.2, "catalase_rate_per_s": 2.0}}
    first = resolve(base, "<test>")
    again = resolve({**unresolved(first), "material": {"kind": "ZnO2",
                                                       "dose_ug_per_ml": 40.0}}, "<test>")
    for key in ("catalase_rate_per_s", "peroxidase_rate_per_s", "peroxide_damage_rate_per_s",
                "h2o2_permeation_per_s"):
        assert again["kinetics"][key] == pytest.approx(first["kinetics"][key], rel=1e-12), key
    assert first["kinetics"]["peroxidase_rate_per_s"] == pytest.approx(0.2 * 693.0)
    cart = resolve({"grid": {"shape": [16, 16, 16], "spacing_um": 20.0},
                    "geometry": {"kind": "spheroid", "radius_um": 100.0},
                    "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0}}, "<test>")
    assert cart["geometry"]["center_um"] == [160.0] * 3
    raw = unresolved(cart)
    raw["grid"]["shape"] = [20, 20, 20]
    assert resolve(raw, "<test>")["geometry"]["center_um"] == [200.0] * 3


def test_every_kinetic_key_names_its_unit_and_old_names_still_read(tmp_path, capsys):
    """A key carries its unit (the standard): the sonodynamic yields, in uM/s per ug/mL,
    were named ..._uM_per_s until 2026-12-04. Every kinetic parameter's name now ends in its
    unit (or is dimensionless or pH), and a config or fit written with an old name is read
    as the new one; both names at once are refused naming the key."""
    from zn_pde.fit import load_fit_config
    from zn_pde.materials import RENAMED, get_material

    suffix = {"1/h": "_per_h", "1/s": "_per_s", "uM": "_uM", "uM/s": "_uM_per_s",
              "um^2/s": "_um2_per_s", "eV": "_eV", "cm^2/ug": "_cm2_per_ug", "nm": "_nm",
              "um": "_um", "ug/mL": "_ug_per_ml", "1/(uM s)": "_per_uM_per_s",
              "uM/s per ug/mL": "_uM_per_s_per_ug_per_ml", "1/pH": "_per_ph",
              "pH": "_ph"}
    for kind in ("ZnO", "ZnO2", "ZIF-8", "ZnS"):
        for p in get_material(kind).parameters:
            if p.unit != "1":
                assert p.name.endswith(suffix[p.unit]), (p.name, p.unit)
    old, new = next(iter(RENAMED.items()))
    c = load_config(None, [f"kinetics.{old}=0.02"])
    assert c["kinetics"][new] == 0.02 and old not in c["kinetics"]
    assert main(["validate", "--set", f"kinetics.{old}=0.02", "--set",
                 f"kinetics.{new}=0.03"]) == 2
    assert f"key 'kinetics.{old}'" in capsys.readouterr().err
    (tmp_path / "r.csv").write_text("time_h,released_percent,pH\n1,5,7.4\n2,9,7.4\n4,15,7.4\n")
    (tmp_path / "fit.toml").write_text(
        '[fit]\nname = "f"\nobservable = "release"\ndata = "r.csv"\nmaterial = "ZnO"\n'
        f"[fit.parameters.{old}]\nfixed = true\ninitial = 0.02\n")
    assert set(load_fit_config(tmp_path / "fit.toml").parameters) == {new}


def test_a_resolved_config_with_its_material_changed_says_its_chemistry_stays(capsys,
                                                                              tmp_path):
    """A resolved config (validate's output) lists every constant of its material; changing
    material.kind there keeps the first material's chemistry (the keys are given). validate
    says so, naming each such key with both defaults; the original config changed the same
    way resolves the new material's constants and says nothing."""
    cfg = str(Path(__file__).parent.parent / "configs" / "zno_spheroid_radial.toml")
    code, text = _validate(capsys, cfg)
    resolved = tmp_path / "resolved.toml"
    resolved.write_text("\n".join(line for line in text.splitlines()
                                  if not line.startswith("#")))
    code, text = _validate(capsys, str(resolved), "--set", 'material.kind="ZnO2"')
    assert code == 0
    note = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert "coproduct_per_zn = 0 (ZnO and ZIF-8's default; ZnO2's 1)" in note
    assert "band_gap_eV = 3.37 (ZnO's default; ZnO2's 3.75)" in note
    code, text = _validate(capsys, cfg, "--set", 'material.kind="ZnO2"')
    assert code == 0 and "another material's chemistry" not in text
    assert load_config(cfg, ['material.kind="ZnO2"'])["kinetics"]["coproduct_per_zn"] == 1.0


@pytest.mark.parametrize("intensity, noted", [(0.5, True), (0.813, True), (0.9, False)])
def test_ultrasound_below_the_cavitation_threshold_is_noted_by_validate(capsys, intensity,
                                                                        noted):
    """At or below the inertial-cavitation threshold (0.813 W/cm^2 at 1 MHz) ultrasound makes
    no ROS, the model's only effect of it: validate says so before any run."""
    code, text = _validate(capsys, "--set", f"ultrasound[0].intensity_W_per_cm2={intensity}")
    assert code == 0
    assert ("below the inertial-cavitation threshold" in text) == noted


@pytest.mark.parametrize("repeats, noted", [(1, True), (2, False)])
def test_a_repeat_interval_without_repeats_is_noted_by_validate(capsys, repeats, noted):
    """`repeat_every_h` with `repeats = 1` spaces nothing (one exposure): validate says so,
    naming the key, instead of silently running a single exposure."""
    code, text = _validate(capsys, "--set", "ultrasound[0].repeat_every_h=6.0",
                           "--set", f"ultrasound[0].repeats={repeats}")
    assert code == 0
    assert ("ultrasound[0].repeat_every_h = 6 h has no effect with repeats = 1" in text) == noted


def test_without_a_material_the_model_sections_do_not_act_and_validate_says_so(capsys):
    """A config of passive species alone: validate says [ph] and [tissue] do not act
    on them, and changing keys there leaves the run identical."""
    import numpy as np

    import zn_pde

    cfg = str(Path(__file__).parent.parent / "configs" / "tracer_spheroid.toml")
    code, text = _validate(capsys, cfg)
    assert code == 0 and "no [material]: only the [[species]] are simulated" in text
    small = {"grid.shape": [10, 10, 10], "grid.spacing_um": 60.0, "geometry.radius_um": 200.0,
             "time.end_h": 1.0}
    base = zn_pde.simulate(cfg, progress=False, **small)
    changed = zn_pde.simulate(cfg, progress=False, **small, **{
        "tissue.tortuosity": 3.0, "ph.tissue_core": 6.0, "tissue.extracellular_gap_nm": 10.0,
        })
    for name in base.data_vars:
        if base[name].dtype.kind == "f" and name != "ph":
            np.testing.assert_array_equal(base[name].values, changed[name].values, name)


def test_frames_finer_than_the_step_or_terabytes_of_output_are_noted(capsys):
    """`time.save_every_min` is validated only as positive; a typo (0.001 for 10 min) saves
    1.44 million frames of the 64³ default (~15 TB at 10 float32 fields) and shrinks the step
    from 60 s to 0.06 s: `validate` notes both (frames, size, step), the shipped configs
    none."""
    code, text = _validate(capsys, "--set", "time.save_every_min=0.001")
    assert code == 0
    note = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert "1,440,001 frames" in note and "GB of output" in note
    gb = float(note.split("~")[1].split(" GB")[0])
    assert gb == pytest.approx(1_440_001 * 64**3 * 10 * 4 / 1e9, rel=1e-3)
    assert "from dt_s = 60 s to 0.06 s" in note
    for path in CONFIGS:
        assert not [n for n in load_config(path)["_notes"] if "save_every_min" in n], path


@pytest.mark.parametrize("interval", ["1e-300", "5e-324", "1e-6"])
def test_a_vanishing_save_interval_is_refused_not_a_traceback(capsys, tmp_path, interval):
    """save_every_min is validated as > 0; 1e-300 made a frame count (an int) too large for
    the float of the output's size (OverflowError, a traceback; the CLI fuzz found it),
    5e-324 an infinite one. They were then noted and passed `validate` (exit 0), but no run
    can save them: `zn-pde run` built a list of every frame time (1e-8 min over 2 h: 1.2e10
    frames) until the process was killed for memory (an outside contract audit). Each frame
    takes a step, so more frames than the 1e9 steps a run can count are bad input: exit 2
    naming the key, the frame count and the shortest interval allowed, before any work."""
    code, text = _validate(capsys, "--set", f"time.save_every_min={interval}")
    assert code == 2 and "Traceback" not in text
    assert "key 'time.save_every_min'" in text and "frames over 24 h" not in text
    assert ("1.44e+303 frames" if interval == "1e-300" else "inf frames"
            if interval == "5e-324" else "1.44e+09 frames") in text
    assert "allowed: save_every_min >= 1.44e-06 min" in text
    out = tmp_path / "x.h5"
    assert main(["run", "--set", f"time.save_every_min={interval}", "-o", str(out)]) == 2
    assert not out.exists()


def test_a_step_count_of_hours_of_stepping_is_noted(capsys):
    """0.1 s over 10000 h (a typo, or seconds written for hours) asks for 3.6e8 steps and
    gave no hint before the run: `validate` notes the count; the shipped configs, and 1e7
    steps, none. (Beyond the 1e9 steps a run can count, 0.001 s over 10000 h, it is refused:
    the next test.)"""
    code, text = _validate(capsys, "--set", "time.end_h=10000", "--set", "time.dt_s=0.1")
    assert code == 0
    note = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert "time.dt_s = 0.1 s over time.end_h = 10000 h takes 3.6e+08 steps" in note
    edge = load_config(None, ["time.end_h=1000", "time.dt_s=0.36"])  # exactly 1e7 steps
    for c in [edge, *(load_config(path) for path in CONFIGS)]:
        assert not [n for n in c["_notes"] if "steps (the built-in" in n]


@pytest.mark.parametrize("command", ["validate", "run"])
def test_more_steps_than_a_run_can_count_exit_2_naming_dt_s(capsys, tmp_path, command):
    """A `time.dt_s` far too small for `time.end_h` (1e-6 s over 1 h: 3.6e9 steps, beyond
    the solver's int32 step counter) passed validation and `zn-pde run` died in building the
    step plan with an OverflowError traceback (exit 1; an outside contract audit): it is bad
    input, exit 2 naming the key, the value and the smallest step allowed. Passive species
    only, so that no other rule of the step applies."""
    cfg = _write(tmp_path, "[grid]\nkind = 'radial'\nshape = [8]\nspacing_um = 10.0\n"
                 "[time]\nend_h = 1.0\n[geometry]\nradius_um = 40.0\n"
                 "[[species]]\nname = 'tracer'\ndiffusivity_um2_per_s = 10.0\n")
    argv = [command, cfg, "--set", "time.dt_s=1e-6"]
    if command == "run":
        argv += ["-o", str(tmp_path / "x.h5"), "--quiet"]
    code = main(argv)
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 2 and "Traceback" not in text
    assert f"{cfg}: key 'time.dt_s'" in text and "dt_s = 1e-06" in text
    assert "3.6e+09 steps" in text and "allowed: dt_s >= 3.6e-06 s" in text
    assert not (tmp_path / "x.h5").exists()
    # the steps every exposure takes count too (10000 repeats of 1e5 steps each)
    code, text = _validate(capsys, "--set", "ultrasound[0].repeats=10000", "--set",
                           "ultrasound[0].duration_min=0.01", "--set",
                           "ultrasound[0].repeat_every_h=0.001", "--set",
                           "ultrasound[0].start_h=1", "--set", "time.exposure_min_steps=100000")
    assert code == 2 and "key 'time.exposure_min_steps'" in text and "Traceback" not in text


@pytest.mark.parametrize("command", ["run", "validate", "fit", "design", "plan"])
def test_each_command_s_set_example_is_a_key_that_command_accepts(command):
    """`zn-pde fit --help` and `design --help` gave `--set time.end_h=2` as the example, a
    simulation key a fit config refuses (exit 2, "unknown section"); every example a command's
    `--set` help gives must load with that command's own config."""
    import re

    from zn_pde.cli import _parser
    from zn_pde.fit._config import load_fit_config
    from zn_pde.plan import load_plan

    sub = next(a for a in _parser()._actions if a.choices and "run" in a.choices)
    action = next(a for a in sub.choices[command]._actions if a.dest == "overrides")
    examples = re.findall(r"e\.g\. ([\w.\[\]]+=[^\s,]+)", action.help)
    assert examples
    shipped = Path(__file__).parent.parent / "configs"
    load = {"run": lambda o: load_config(None, o),
            "validate": lambda o: load_config(shipped / "zno_spheroid_radial.toml", o),
            "fit": lambda o: load_fit_config(shipped / "fit_zno_release.toml", o),
            "design": lambda o: load_fit_config(shipped / "fit_zno_release.toml", o),
            "plan": lambda o: load_plan(shipped / "plan_us_timing.toml", o)}[command]
    for example in examples:
        load([example])  # an InputError fails the test, naming the key


def test_each_command_s_output_folder_help_states_its_default():
    """`zn-pde fit --help` said "-o OUTDIR: output folder" while the parser writes to
    checkpoints/ (the interface: "DIR defaults to checkpoints"); every -o with a default
    names it in its help."""
    from zn_pde.cli import _parser

    sub = next(a for a in _parser()._actions if a.choices and "run" in a.choices)
    checked = 0
    for name, command in sub.choices.items():
        for a in command._actions:
            if "-o" in a.option_strings and isinstance(a.default, str):
                assert f"default {a.default}" in a.help, (name, a.help)
                checked += 1
    assert checked >= 3  # fit, design, plan


def test_version_flag_prints_the_version_runs_store(capsys):
    """`zn-pde --version` answered "the following arguments are required: command" (exit 2;
    an outside audit, 2026-12-06): it prints the version a run writes as `zn_pde_version`
    and exits 0."""
    from zn_pde import __version__
    from zn_pde.cli import main

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"zn-pde {__version__}"


@pytest.mark.parametrize("config, command", [("fit_zno_release.toml", "zn-pde fit FILE"),
                                             ("plan_us_timing.toml", "zn-pde plan FILE")])
def test_a_fit_or_plan_config_run_as_a_simulation_is_named_for_what_it_is(capsys, config,
                                                                           command):
    """`zn-pde run configs/plan_us_timing.toml` (or a plan whose `config` names a plan file)
    said "key 'plan': unknown section; allowed sections: grid, ...", as for a typo: it says
    the file is a fit or plan config and which command reads it (exit 2)."""
    from zn_pde.cli import main

    path = Path(__file__).parent.parent / "configs" / config
    assert main(["run", str(path), "-o", "unused"]) == 2
    err = capsys.readouterr().err
    assert f"is a {config.split('_')[0]} config, not a simulation config" in err
    assert command in err and "unknown section" not in err


@pytest.mark.parametrize("kind, key, value, noted", [
    ("ZnO", "coproduct_per_zn", 1.0, True), ("ZIF-8", "coproduct_pKa", 11.6, True),
    ("ZnO", "h2s_respiration_ki_uM", 5.0, True), ("ZnO2", "h2s_oxidation_per_s", 0.01, True),
    ("ZnS", "h2s_respiration_ki_uM", 5.0, False), ("ZnO2", "coproduct_per_zn", 0.5, False),
    ("ZnO", "coproduct_per_zn", 0.0, False)])
def test_a_co_product_constant_of_a_material_without_that_co_product_is_noted_as_inert(
        capsys, kind, key, value, noted):
    """ZnO and ZIF-8 release no co-product and ZnO2 no H2S: the model has no such species
    for them, so [kinetics] coproduct_per_zn, coproduct_pKa or an h2s_ constant set there
    away from the material's own value does nothing. validate says so by name (it said
    nothing, or, for ZnO2's or ZnS's value, that the config 'has another material's
    chemistry there', which it has not: a helper's config audit, 2026-12-07); where the key
    acts, or sits at the material's own value (a resolved config lists every constant),
    there is no such note."""
    cfg = str(Path(__file__).parent.parent / "configs" / "zno_spheroid_radial.toml")
    code, text = _validate(capsys, cfg, "--set", f'material.kind="{kind}"', "--set",
                           f"kinetics.{key}={value}")
    assert code == 0
    note = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert (f"[kinetics] {key} does not act: {kind} releases" in note) == noted, note
    assert "another material's chemistry" not in note
