"""Fit inputs without any simulation: data tables, fit configs, statistics helpers, the
empirical models. Fast (no JAX compilation)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from zn_pde import InputError
from zn_pde.cli import main
from zn_pde.fit import load_fit_config
from zn_pde.fit._empirical import RELEASE_MODELS, VIABILITY_MODELS, fit_curve
from zn_pde.fit._uncertainty import metrics, t_quantile
from zn_pde.observables import load_table, select_rows, shipped_path
from zn_pde.observables._prediction import frame_schedule

RELEASE_HEADER = "time_h,released_percent,pH,note\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# --- shipped tables ----------------------------------------------------------------------------

def test_shipped_viability_table_loads_with_every_column():
    t = load_table(shipped_path("zno_viability_compiled.csv"), "viability")
    assert len(t) == 310
    for col in ("group_id", "source_doi", "assay", "dataset_origin", "doi_also_in_gul"):
        assert col in t.text
    assert np.all(t.numbers["exposure_h"] > 0)
    assert len({g for g in t.text["group_id"]}) == 51


def test_shipped_release_table_repeats_the_reported_values_exactly():
    """The spec-format release table is the ZnO rows of the reported points that state both
    pH and time, values copied as text (never altered), provenance kept."""
    with open(shipped_path("reported_release_points.csv"), newline="") as f:
        src = list(csv.DictReader(f))
    with open(shipped_path("zno_release_timecourses.csv"), newline="") as f:
        ours = list(csv.DictReader(f))
    expected = [r for r in src if r["material"] == "ZnO" and r["pH"] and r["time_h"]]
    assert len(ours) == len(expected) == 3
    for a, b in zip(ours, expected, strict=True):
        for col in ("time_h", "released_percent", "pH", "relation", "statement", "source",
                    "doi", "seen_at", "system", "medium", "quantity"):
            assert a[col] == b[col]
        line = int(a["derived_from"].rsplit(" ", 1)[1])
        assert src[line - 2] == b
    t = load_table(shipped_path("zno_release_timecourses.csv"), "release")
    assert set(t.relation) <= {"=", "~"}


def test_select_and_exclude():
    t = load_table(shipped_path("zno_viability_compiled.csv"), "viability")
    s = select_rows(t, {"group_id": [8, 10]})
    assert set(s.text["group_id"]) == {"8", "10"}
    s = select_rows(t, {"source_doi": "10.1016/j.envint.2013.02.013", "assay": "MTT"})
    assert set(s.text["group_id"]) == {"8", "10", "12", "14"}
    s = select_rows(t, exclude={"doi_also_in_gul": True})
    assert "True" not in s.text["doi_also_in_gul"]
    with pytest.raises(InputError, match="no row"):
        select_rows(t, {"group_id": 999})
    with pytest.raises(InputError, match="not in the data table"):
        select_rows(t, {"colour": "red"})



def test_a_selection_that_leaves_no_row_names_the_key_and_value_that_did():
    """An exclude alone that removed every row was reported under key 'fit.select', with
    neither selection's value; now the message names the key(s) given and their values, as
    the config spells them (TOML's `{ pH = [7.4, 4.7] }`, not Python's `{'pH': [7.4, 4.7]}`)."""
    t = load_table(shipped_path("zno_release_timecourses.csv"), "release")
    with pytest.raises(InputError) as e:
        select_rows(t, exclude={"pH": [7.4, 4.7]}, file="f.toml")
    assert e.value.key == "fit.exclude"
    assert "fit.exclude = { pH = [7.4, 4.7] }" in str(e.value)
    with pytest.raises(InputError) as e:
        select_rows(t, {"pH": 9}, file="f.toml")
    assert e.value.key == "fit.select" and "fit.select = { pH = 9 }" in str(e.value)


# --- malformed tables ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, match", [
    ("time_h,pH\n1,7\n", "missing column released_percent"),
    ("time_h,released_percent,ph\n1,7,5\n", "case-sensitive: 'ph' here is 'pH'"),
    (RELEASE_HEADER + "1,abc,7.4,x\n", "non-numeric value 'abc' at line 2"),
    # Python's float reads '1_0' as 10: a typo or a label, not a number in a table
    (RELEASE_HEADER + "1_0,5,7.4,x\n", "non-numeric value '1_0' at line 2"),
    (RELEASE_HEADER + "-1,5,7.4,x\n", "negative value -1 at line 2"),
    (RELEASE_HEADER + "1,5,15,x\n", "value 15 at line 2 is not allowed"),
    (RELEASE_HEADER + "1,,7.4,x\n", "empty value at line 2"),
    (RELEASE_HEADER + "1,5,7.4\n", "has 3 fields but the header has 4"),
    (RELEASE_HEADER, "no data rows"),
    ("", "empty"),
    ("time_h,released_percent,pH,pH\n1,2,3,4\n", "repeated column name"),
    ("time_h,released_percent,pH,relation\n1,2,7,<\n", "relation '<' at line 2"),
    # a bound written into the value's cell: refused, saying how a table gives one
    (RELEASE_HEADER + "1,<5,7.4,x\n", r"'<5' at line 2.*number in released_percent \(5\) "
     "and <= in a relation column"),
    (RELEASE_HEADER + "1,>= 80,7.4,x\n", r"\(80\) and >= in a relation column"),
    ("time_h,released_percent,pH,sd\n1,2,7,0\n", "value 0 at line 2 is not allowed"),
])
def test_bad_release_tables_are_refused(tmp_path, text, match):
    p = write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError, match=match) as e:
        load_table(p, "release")
    assert "bad.csv" in str(e.value)


def test_line_numbers_are_the_files_lines_where_a_quoted_cell_spans_lines(tmp_path):
    """A provenance cell pasted with its line breaks (quoted, as CSV allows) makes a record
    span several lines of the file: a message names the line an editor shows, not the
    record's index + 1, and so do the rows kept for the report (CRLF line ends, a blank
    line)."""
    p = write(tmp_path, "multi.csv", RELEASE_HEADER + '1,5,7.4,"said:\nabout 5 %"\n'
              "2,x,7.4,y\n")
    with pytest.raises(InputError, match="non-numeric value 'x' at line 4"):
        load_table(p, "release")
    p.write_bytes((RELEASE_HEADER + '1,5,7.4,"a\nb\nc"\n\n2,6,7.4,y\n')
                  .replace("\n", "\r\n").encode())
    assert load_table(p, "release").lines == (2, 6)


def test_blank_lines_above_the_header_are_skipped(tmp_path):
    """Blank lines (or a row of empty cells, a spreadsheet's empty first row) above the
    header were taken for the header itself: a table with 3 data rows was refused as "the
    data table is empty". Found by auditing fit files with unusual CSV layouts."""
    p = write(tmp_path, "lead.csv", "\n,,\n" + RELEASE_HEADER + "1,5,7.4,x\n\n24,20,6.5,y\n")
    t = load_table(p, "release")
    assert t.header == ("time_h", "released_percent", "pH", "note")
    assert t.lines == (4, 6)
    assert list(t.numbers["time_h"]) == [1.0, 24.0]
    p.write_text("\n\n")
    with pytest.raises(InputError, match="the data table is empty"):
        load_table(p, "release")
    p.write_text("\n" + RELEASE_HEADER + "1,x,7.4,x\n")
    with pytest.raises(InputError, match="non-numeric value 'x' at line 3"):
        load_table(p, "release")


def test_a_quoted_cell_after_a_space_is_read_without_its_quotes(tmp_path):
    """`time_h, "released_percent", "pH"` (a space after each comma, names quoted, as a
    hand-written or R-written CSV has them) kept the quotes in the names, so the table was
    refused for missing columns it has; quoted numbers after a space were non-numeric."""
    p = write(tmp_path, "q.csv", 'time_h, "released_percent", "pH" , note\n'
              '1, "5.5", 7.4, "a, b"\n24 , 20,"6.5",  y\n')
    t = load_table(p, "release")
    assert t.header == ("time_h", "released_percent", "pH", "note")
    assert list(t.numbers["released_percent"]) == [5.5, 20.0]
    assert list(t.numbers["pH"]) == [7.4, 6.5]
    assert t.text["note"] == ("a, b", "y")


def test_an_unnamed_empty_column_is_ignored_and_one_with_values_is_named(tmp_path):
    """A spreadsheet's export writes a trailing comma on every line for a column once used:
    the table was refused for "an empty column name ''" without saying which column. An
    unnamed column empty in every row is now ignored; one holding values is refused naming
    its position, its neighbour, the value and the line."""
    p = write(tmp_path, "t.csv", "time_h,released_percent,pH,\n1,5,7.4,\n24,20,6.5,\n")
    t = load_table(p, "release")
    assert t.header == ("time_h", "released_percent", "pH")
    assert list(t.numbers["released_percent"]) == [5.0, 20.0]
    p.write_text("time_h,released_percent,,pH\n1,5,,7.4\n24,20,x,6.5\n")
    with pytest.raises(InputError, match=r"column 3 of the header, after 'released_percent', "
                       r"has no name but holds 'x' at line 3"):
        load_table(p, "release")


def test_a_column_in_other_units_is_kept_and_named_in_a_warning(tmp_path):
    """A viability table with `exposure_min` (and no `exposure_h`) keeps it as an extra
    column, as the contract keeps every extra column, and reads every row at the default
    24 h; the fit's warnings now name the column and what to do (they did not). A release
    table's `dose_mg_per_ml` alike; a required column in other units (`time_min`) is named in
    the missing-column message (exit 2, as any missing required column)."""
    from zn_pde.observables._data import SCHEMAS, other_unit_notes

    p = write(tmp_path, "v.csv", "concentration_ug_per_ml,viability_percent,exposure_min\n"
              "5,90,1440\n10,70,1440\n")
    t = load_table(p, "viability")
    assert t.text["exposure_min"] == ("1440", "1440")
    (note,) = other_unit_notes(t, SCHEMAS["viability"])
    assert "column 'exposure_min'" in note and "exposure_h in other units (min for h)" in note
    assert "every row takes the fit's default for exposure_h" in note
    p = write(tmp_path, "r.csv", "time_h,released_percent,pH,dose_mg_per_ml\n1,5,7.4,0.02\n")
    (note,) = other_unit_notes(load_table(p, "release"), SCHEMAS["release"])
    assert "'dose_mg_per_ml'" in note and "dose_ug_per_ml" in note
    p = write(tmp_path, "t.csv", "time_min,released_percent,pH\n60,5,7.4\n")
    with pytest.raises(InputError, match="missing column time_h.*'time_min' looks like time_h "
                       "in other units"):
        load_table(p, "release")
    # descriptive columns sharing a stem, and the unit columns beside the right one: no note
    p = write(tmp_path, "ok.csv", "concentration_ug_per_ml,viability_percent,exposure_h,"
              "exposure_min,light_source,concentration_uM\n5,90,24,1440,LED,61\n")
    t = load_table(p, "viability")
    assert t.text["light_source"] == ("LED",) and not other_unit_notes(t, SCHEMAS["viability"])


def test_a_stimulus_column_named_as_the_exposure_s_config_key_is_named_in_a_warning(tmp_path):
    """A viability table with `irradiance_mW_per_cm2` (the [[light]] key's name) or
    `intensity_W_per_cm2` ([[ultrasound]]'s) for the data's `light_mW_per_cm2` and
    `ultrasound_W_per_cm2` kept it as an extra column and fitted every row without the
    stimulus, in silence (a spec audit); the warning now names the column the data reads,
    and the unit where it differs too."""
    from zn_pde.observables._data import SCHEMAS, other_unit_notes

    p = write(tmp_path, "v.csv", "concentration_ug_per_ml,viability_percent,"
              "irradiance_mW_per_cm2,intensity_mW_per_cm2\n5,90,20,1000\n10,70,20,1000\n")
    notes = other_unit_notes(load_table(p, "viability"), SCHEMAS["viability"])
    light = next(n for n in notes if "'irradiance_mW_per_cm2'" in n)
    assert "looks like light_mW_per_cm2 under the exposure's config key:" in light
    assert "name the column light_mW_per_cm2" in light
    sound = next(n for n in notes if "'intensity_mW_per_cm2'" in n)
    assert ("ultrasound_W_per_cm2 under the exposure's config key, in other units "
            "(mW_per_cm2 for W_per_cm2)") in sound and len(notes) == 2


def test_the_sd_and_ph_columns_spelt_otherwise_are_named_in_a_warning(tmp_path):
    """`sd` and `pH` carry no unit suffix, so the check for a column in other units or
    another case skipped them: a user's table with `SD` and `ph` (or `sd_percent`) was fitted
    unweighted at the simulation's pH 7.4 without a word, though the case check names
    `Exposure_h` and `exposure_min`."""
    from zn_pde.observables._data import SCHEMAS, other_unit_notes

    p = write(tmp_path, "v.csv", "concentration_ug_per_ml,viability_percent,exposure_h,SD,ph\n"
              "5,90,24,3,6.5\n10,70,24,4,6.5\n")
    notes = other_unit_notes(load_table(p, "viability"), SCHEMAS["viability"])
    assert len(notes) == 2, notes
    assert "column 'SD'" in notes[0] and "is sd spelt in another case" in notes[0]
    assert "column 'ph'" in notes[1] and "is pH spelt in another case" in notes[1]
    assert "every row takes the fit's default for pH" in notes[1]
    p = write(tmp_path, "w.csv", "concentration_ug_per_ml,viability_percent,sd_percent\n"
              "5,90,3\n10,70,4\n")
    (note,) = other_unit_notes(load_table(p, "viability"), SCHEMAS["viability"])
    assert "column 'sd_percent'" in note and "looks like sd with a unit in its name" in note
    assert "name the column sd" in note
    p = write(tmp_path, "r.csv", "time_h,released_percent,ph_pct\n1,5,7\n")  # required
    with pytest.raises(InputError, match="'ph_pct' looks like pH with a unit in its name"):
        load_table(p, "release")
    # beside the right column, or a descriptive one sharing no stem: no note
    p = write(tmp_path, "ok.csv", "concentration_ug_per_ml,viability_percent,sd,sd_percent,"
              "pH,phase\n5,90,3,3,7.4,a\n")
    assert not other_unit_notes(load_table(p, "viability"), SCHEMAS["viability"])


def test_bad_viability_table_negative_concentration(tmp_path):
    p = write(tmp_path, "v.csv", "concentration_ug_per_ml,viability_percent\n-5,80\n")
    with pytest.raises(InputError, match="concentration_ug_per_ml.*negative value -5 at line 2"):
        load_table(p, "viability")


def test_cli_bad_data_exits_2_without_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZN_PDE_CACHE_DIR", "")
    write(tmp_path, "d.csv", RELEASE_HEADER + "1,five,7.4,x\n")
    cfg = write(tmp_path, "f.toml", '[fit]\nname = "x"\nobservable = "release"\n'
                'data = "d.csv"\n')
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "non-numeric value 'five' at line 2" in err and "released_percent" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("section, value, want", [
    ("time", "5", "expected a table [fit.simulation.time], got 5"),
    ("kinetics", "5", "expected a table [fit.simulation.kinetics], got 5"),
    ("ph", '"7"', 'expected a table [fit.simulation.ph], got "7"'),  # as TOML spells it
    ("dose", "5", "expected an array of tables [[fit.simulation.dose]], got 5"),
])
def test_a_simulation_section_of_the_wrong_type_exits_2(tmp_path, capsys, section, value,
                                                        want):
    """`[fit.simulation] time = 5` (or `kinetics = 5`) ended `zn-pde validate` and `zn-pde
    fit` with a traceback (exit 1) where the step or the fixed constants were read. Found by
    auditing fit files with sections of the wrong type."""
    write(tmp_path, "d.csv", RELEASE_HEADER + "1,5,7.4,x\n")
    cfg = write(tmp_path, "f.toml", '[fit]\nname = "x"\nobservable = "release"\n'
                f'data = "d.csv"\n[fit.simulation]\n{section} = {value}\n')
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert want in err and f"fit.simulation.{section}" in err and "f.toml" in err
    assert "Traceback" not in err


def test_an_exposure_template_that_is_not_a_table_exits_2(tmp_path, capsys):
    """`[fit.simulation] ultrasound = [5]` beside an ultrasound_W_per_cm2 column ended with
    a traceback where each row's intensity is written into the template."""
    write(tmp_path, "v.csv", "concentration_ug_per_ml,viability_percent,ultrasound_W_per_cm2\n"
          "10,90,1\n")
    cfg = write(tmp_path, "f.toml", '[fit]\nname = "x"\nobservable = "viability"\n'
                'data = "v.csv"\n[fit.simulation]\nultrasound = [5]\n')
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "key 'fit.simulation.ultrasound[0]': expected a table" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("body, match", [
    ('observable = "release"\ndata = "d.csv"\nnme = "x"', "unknown key.*did you mean 'name'"),
    ('name = "x"\nobservable = "relase"\ndata = "d.csv"', "unknown observable.*'release'"),
    ('name = "x"\nobservable = "release"\ndata = "missing.csv"', "data file .* not found"),
    # a folder was "not found", though it is there
    ('name = "x"\nobservable = "release"\ndata = "."', "data file .* is a folder"),
    ('name = "x"\nobservable = "release"\ndata = "d.csv"\nstarts = 0', "fit.starts"),
    # an empty name was "value '' is not allowed; expected a string", which it is
    ('name = ""\nobservable = "release"\ndata = "d.csv"', "expected a non-empty string"),
    ('name = "x"\nobservable = "release"\ndata = "d.csv"\n'
     '[fit.parameters.dissolution_rate]\ninitial = 1.0', "not a fittable kinetic parameter"),
    ('name = "x"\nobservable = "release"\ndata = "d.csv"\n'
     '[fit.parameters.dissolution_rate_per_h]\nlower = 1.0\nupper = 0.1', "must be below"),
    ('name = "x"\nobservable = "release"\ndata = "d.csv"\n'
     '[fit.parameters.energy_kill_hill]\ninitial = 50.0', "outside the physically allowed"),
])
def test_bad_fit_configs_are_refused(tmp_path, body, match):
    write(tmp_path, "d.csv", RELEASE_HEADER + "1,5,7.4,x\n")
    cfg = write(tmp_path, "f.toml", "[fit]\n" + body + "\n")
    with pytest.raises(InputError, match=match):
        load_fit_config(cfg)


@pytest.mark.parametrize("body, key", [
    ('material = "TiO2"', "fit.material"),
    ("[fit.simulation.time]\nbogus = 1", "fit.simulation.time.bogus"),
    ("[fit.simulation.time]\ndt_s = -5.0", "fit.simulation.time.dt_s"),
    ("[[fit.simulation.dose]]\ntime_h = -1.0\ndose_ug_per_ml = 5.0",
     "fit.simulation.dose[0].time_h"),
    # a required key missing from an exposure template was named 'ultrasound[0].duration_min'
    ("[[fit.simulation.ultrasound]]\nstart_h = 4.0\nintensity_W_per_cm2 = 1.0\n"
     "frequency_MHz = 1.0", "fit.simulation.ultrasound[0].duration_min"),
])
def test_a_bad_fit_key_is_named_as_the_fit_config_writes_it(tmp_path, body, key):
    """An error in [fit] material or in [fit.simulation] names the key as written there,
    not as the simulation config it is merged into calls it (an outside client audit)."""
    from zn_pde.fit import build_problem

    write(tmp_path, "d.csv", RELEASE_HEADER + "1,5,7.4,x\n2,9,7.4,x\n")
    cfg = write(tmp_path, "f.toml", '[fit]\nname = "x"\nobservable = "release"\n'
                'data = "d.csv"\n' + body + "\n")
    with pytest.raises(InputError) as e:
        build_problem(load_fit_config(cfg))
    assert e.value.key == key


@pytest.mark.parametrize("body, key, said", [
    # a release fit runs to its latest time_h (2 h here)
    ("[[fit.simulation.dose]]\ntime_h = 3.0\ndose_ug_per_ml = 5.0",
     "fit.simulation.dose[0].time_h", "the largest time_h"),
    ("[[fit.simulation.ultrasound]]\nstart_h = 1.99\nduration_min = 1.0\n"
     "intensity_W_per_cm2 = 1.0", "fit.simulation.ultrasound[0].duration_min",
     "the largest time_h"),
])
def test_a_protocol_past_the_fit_s_run_names_where_the_run_ends(tmp_path, body, key, said):
    """A [fit.simulation] event or exposure past the fit's run was refused with the
    simulation's "allowed: ... or a longer time.end_h", a key a fit may not set (it then
    says "fit.simulation.time may only set dt_s"): the message says the run ends at the
    data's latest read-out instead."""
    from zn_pde.fit import build_problem

    write(tmp_path, "d.csv", RELEASE_HEADER + "1,5,7.4,x\n2,9,7.4,x\n")
    cfg = write(tmp_path, "f.toml", '[fit]\nname = "x"\nobservable = "release"\n'
                'data = "d.csv"\n' + body + "\n")
    with pytest.raises(InputError) as e:
        build_problem(load_fit_config(cfg))
    text = " ".join(str(e.value).split())
    assert e.value.key == key and "time.end_h = 2" in text, text
    assert f"a fit's time.end_h is the data's latest read-out, {said}" in text, text
    assert "or a longer time.end_h" not in text


def test_a_curve_by_column_not_in_the_table_is_refused_naming_it(tmp_path, capsys,
                                                                 monkeypatch):
    """`curve_by = ["Source"]` on a table whose column is `source`: exit 2 naming
    fit.curve_by and the table's columns, before any solve (before: the misspelt column was
    read as empty on every row, so every row fell into one curve, labelled by its first
    row's exposure time: 24 h and 48 h rows pooled under "24 h" for the empirical fits and
    the figure)."""
    monkeypatch.setenv("ZN_PDE_CACHE_DIR", "")
    write(tmp_path, "v.csv", "source,exposure_h,concentration_ug_per_ml,viability_percent\n"
          "a,24,1,98\na,24,20,60\nb,48,1,95\nb,48,20,30\n")
    cfg = write(tmp_path, "f.toml", '[fit]\nname = "x"\nobservable = "viability"\n'
                'data = "v.csv"\ncurve_by = ["Source"]\n')
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "key 'fit.curve_by'" in err and "'Source'" in err
    assert "source, exposure_h" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "x.json").exists()


def test_fit_config_paths_overrides_and_shipped_data(tmp_path):
    cfg = write(tmp_path, "f.toml", '[fit]\nname = "x"\nobservable = "release"\n'
                'data = "shipped:zno_release_timecourses.csv"\n')
    c = load_fit_config(cfg, ["fit.starts=2", "fit.seed=7"])
    assert c.settings.starts == 2 and c.settings.seed == 7
    assert c.data == shipped_path("zno_release_timecourses.csv")


# --- statistics --------------------------------------------------------------------------------

@pytest.mark.parametrize("dof", [1, 2, 3, 7, 30, 250])
def test_t_quantile_matches_scipy(dof):
    assert t_quantile(0.975, dof) == pytest.approx(stats.t.ppf(0.975, dof), rel=1e-9)


def test_metrics_definitions():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    yhat = np.array([1.1, 1.9, 3.2, 3.8])
    m = metrics(y, yhat, n_free=2)
    ssr = 0.01 + 0.01 + 0.04 + 0.04
    assert m["ssr"] == pytest.approx(ssr)
    assert m["r2"] == pytest.approx(1 - ssr / 5.0)
    assert m["rmse"] == pytest.approx(math.sqrt(ssr / 4))
    assert m["aic"] == pytest.approx(4 * math.log(ssr / 4) + 2 * 3)
    assert m["bic"] == pytest.approx(4 * math.log(ssr / 4) + 3 * math.log(4))


def test_metrics_with_known_sd_use_chi2():
    """A fit weighted by the table's sd maximises the known-variance likelihood, whose
    −2 ln L is χ² (Burnham & Anderson 2002 §2.2), with no variance parameter in k."""
    y = np.array([1.0, 2.0, 3.0, 4.0])
    yhat = np.array([1.1, 1.9, 3.2, 3.8])
    sd = np.array([0.1, 0.1, 0.4, 0.4])
    m = metrics(y, yhat, n_free=2, sd=sd)
    chi2 = 1.0 + 1.0 + 0.25 + 0.25
    assert m["chi2"] == pytest.approx(chi2)
    assert m["k"] == 2
    assert m["aic"] == pytest.approx(chi2 + 2 * 2)
    assert m["bic"] == pytest.approx(chi2 + 2 * math.log(4))
    # r² and RMSE stay descriptive, in data units
    assert m["r2"] == pytest.approx(metrics(y, yhat, n_free=2)["r2"])


def test_empirical_fit_is_weighted_by_sd():
    """A point with a large sd barely pulls a weighted fit: first-order release with one
    wild point recovers its rate when the point's sd says so, and not without sd."""
    model = RELEASE_MODELS[0]
    t = np.array([0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 24.0])
    y = model.f(np.array([0.1]), t)
    y[3] += 30.0
    sd = np.full(t.size, 1.0)
    sd[3] = 1e4
    weighted = fit_curve(model, t, y, sd)["parameters"]["k_per_h"]
    plain = fit_curve(model, t, y)["parameters"]["k_per_h"]
    assert weighted["value"] == pytest.approx(0.1, rel=1e-4)
    assert abs(plain["value"] / 0.1 - 1) > 0.05
    # exact data at the known sd: the interval is the sd's, not the residuals' (which are ~0)
    lo, hi = fit_curve(model, t, model.f(np.array([0.1]), t), np.full(t.size, 2.0))[
        "parameters"]["k_per_h"]["ci95"]
    assert lo < 0.1 < hi and hi / lo > 1.01


def test_frame_schedule_hits_every_time():
    every, n = frame_schedule(np.array([3.0, 6.0, 24.0, 48.0]), 60.0)
    assert every == 180 and n == 16  # gcd of 3 h: every time is a frame
    every, n = frame_schedule(np.array([1.0, 24.0, 120.0]), 300.0, min_frames=100)
    assert 120 * 12 % every == 0 and n * every == 120 * 12 and n >= 100



def test_frame_schedule_brackets_a_time_between_steps_by_adjacent_frames():
    """A read-out that is not a whole number of steps (11.99 h at dt 60 s: 719.4 steps) is
    interpolated between frames; the save interval was the gcd of the whole times alone
    (24 h), so it was read from the straight line between 0 and 24 h (a viability row 1.6
    points off the run at 11.99 h). Found by comparing a fit's predictions at fixed
    parameters with `zn_pde.simulate` at the rows' times."""
    for times in ([24.0, 11.99], [24.0, 6.01, 48.0], [0.1 / 60.0, 2.0]):
        every, n = frame_schedule(np.array(times), 60.0)
        assert n * every >= max(times) * 60.0 - 1e-9
        for t in times:
            s = t * 60.0  # steps of 60 s
            lo, hi = math.floor(s + 1e-9), math.ceil(s - 1e-9)
            assert lo % every == 0 and hi % every == 0, (times, t, every)
    # whole times keep their coarse schedule
    assert frame_schedule(np.array([12.0, 24.0]), 60.0) == (720, 2)


# --- empirical models ---------------------------------------------------------------------------

@pytest.mark.parametrize("model", RELEASE_MODELS, ids=lambda m: m.name)
def test_empirical_release_models_recover_their_parameters(model):
    t = np.array([0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 24.0])
    truth = {"first_order": [0.1], "higuchi": [9.0], "korsmeyer_peppas": [12.0, 0.45],
             "weibull": [6.0, 0.8]}[model.name]
    y = model.f(np.array(truth), t)
    fit = fit_curve(model, t, y)
    got = [fit["parameters"][p]["value"] for p in model.params]
    np.testing.assert_allclose(got, truth, rtol=1e-5)
    assert fit["r2"] == pytest.approx(1.0, abs=1e-9)


def test_log_logistic_recovers_ic50_with_a_covering_ci():
    rng = np.random.default_rng(1)
    c = np.repeat([1.0, 3.0, 10.0, 30.0, 100.0, 300.0], 3)
    truth = np.array([98.0, 12.0, 25.0, 1.6])
    v = VIABILITY_MODELS[0].f(truth, c) + rng.normal(0, 2.0, c.size)
    fit = fit_curve(VIABILITY_MODELS[0], c, v)
    ic50 = fit["parameters"]["ic50_ug_per_ml"]
    assert ic50["ci95"][0] < 25.0 < ic50["ci95"][1]
    assert ic50["value"] == pytest.approx(25.0, rel=0.15)


# --- NaN safety -----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_non_finite_loss_counts_as_big_with_zero_gradient(mode):
    import jax
    import jax.numpy as jnp

    from zn_pde.fit._optimise import BIG, safe_loss

    def f(x):  # a simulation that blows up for x[0] > 1
        return jnp.where(x[0] > 1.0, jnp.nan, jnp.sum(x * x))

    g = jax.value_and_grad(safe_loss(f, mode))
    v, d = g(jnp.array([0.5, -2.0]))
    assert float(v) == pytest.approx(4.25) and np.allclose(d, [1.0, -4.0])
    v, d = g(jnp.array([2.0, -2.0]))
    assert float(v) == pytest.approx(BIG, rel=1e-6) and np.all(np.asarray(d) == 0.0)


def test_levenberg_marquardt_rejects_a_non_finite_step():
    from zn_pde.fit._optimise import lm_step
    from zn_pde.fit._parameters import FreeSet

    free = FreeSet(("a",), ("1",), np.array([1.0]), np.array([1e-3]), np.array([1e3]), {}, ())

    def rj(x):  # r = ln a − 2 (optimum at ln a = 2) but NaN beyond ln a = 1
        r = np.where(x > 1.0, np.nan, x - 2.0)
        return r, np.ones_like(x)[:, :, None]

    def loss(x):
        r = rj(x)[0]
        v = 0.5 * np.sum(r * r, axis=1)
        return np.where(np.isfinite(v), v, 1e30)

    x = np.array([[0.0]])
    x1, mu1, l1, _, _ = lm_step(rj, loss, x, np.array([1e-3]), loss(x), free)
    assert x1[0, 0] == 0.0 and mu1[0] > 1e-3 and l1[0] == loss(x)[0]  # rejected, damped
    for _ in range(10):
        x, mu1, l, _, _ = lm_step(rj, loss, x, mu1, loss(x), free)
    assert 0.0 < x[0, 0] <= 1.0 and np.isfinite(l[0])  # moved towards the optimum, safely


def test_a_legend_naming_a_group_id_says_what_the_series_is():
    """'group_id 8' tells a reader nothing: the figure adds the row's cell line, assay and
    particle size (an outside figure review)."""
    from types import SimpleNamespace

    from zn_pde.fit._report import _described

    table = SimpleNamespace(text={"cell_line": ["SHSY5Y", "A549"], "assay": ["MTT", ""],
                                  "size_nm": ["100.0", "nan"]})
    assert _described(table, "3 h, group_id 8", 0) == "3 h, group_id 8 (SHSY5Y, MTT, 100 nm)"
    assert _described(table, "24 h, group_id 3", 1) == "24 h, group_id 3 (A549)"
    assert _described(table, "24 h, pH 6.5", 0) == "24 h, pH 6.5"


def test_levenberg_marquardt_steps_along_a_bound_that_holds_a_correlated_parameter():
    """r = A x − b with strongly correlated columns and its unconstrained minimum beyond the
    upper bound of x₀: the box optimum has x₀ on the bound and x₁ minimising ‖r‖ there. A step
    solved in both coordinates and then clipped loses x₀'s share and leaves x₁ with the share
    meant to compensate for it (the release fit that crept along its bound); the step solved
    over the free coordinate reaches the box optimum in a few steps (exact for a linear r)."""
    from zn_pde.fit._optimise import lm_step
    from zn_pde.fit._parameters import FreeSet

    a = np.array([[1.0, 1.0], [1.0, 1.05], [1.0, 0.95], [0.5, 0.52]])
    b = a @ np.array([2.0, 0.5])  # unconstrained minimum at x = (2, 0.5), outside the box
    hi = np.array([1.0, 5.0])
    free = FreeSet(("a", "b"), ("1", "1"), np.ones(2), np.exp([-5.0, -5.0]), np.exp(hi),
                   {}, ())

    def rj(x):
        return x @ a.T - b, np.broadcast_to(a, (len(x),) + a.shape)

    def loss(x):
        r = rj(x)[0]
        return 0.5 * np.sum(r * r, axis=1)

    x1_best = np.linalg.lstsq(a[:, 1:], b - a[:, 0] * hi[0], rcond=None)[0][0]
    x = np.array([[hi[0], 0.0]])  # on the bound, where the gradient pushes x₀ outwards
    mu, v = np.array([1e-3]), loss(x)
    for _ in range(6):
        x, mu, v, conv, _ = lm_step(rj, loss, x, mu, v, free)
    assert x[0, 0] == hi[0] and x[0, 1] == pytest.approx(x1_best, abs=1e-6)
    assert v[0] == pytest.approx(loss(np.array([[hi[0], x1_best]]))[0], rel=1e-9)


def test_a_start_whose_derivatives_are_not_finite_has_not_converged_and_is_warned_of():
    """Where the model's Jacobian is NaN (seen in a radial spheroid fit, compiled float32),
    L-M has no step: the start stays where it is and is not reported as converged (it was:
    its step was 'negligible') but failed, so callers stop it rather than repeat the same
    failing step to their step limit; the report's warning names the data rows."""
    from zn_pde.fit._optimise import derivatives_warning, lm_step
    from zn_pde.fit._parameters import FreeSet

    free = FreeSet(("a",), ("1",), np.ones(1), np.exp([-5.0]), np.exp([5.0]), {}, ())
    r0 = np.array([1.0, -2.0, 0.5])

    def rj(x):
        jac = np.ones((len(x), 3, 1))
        jac[:, 1, 0] = np.nan
        return np.broadcast_to(r0, (len(x), 3)), jac

    def loss(x):
        return np.full(len(x), 0.5 * float(r0 @ r0))

    x = np.array([[0.3]])
    x1, _, v1, conv, failed = lm_step(rj, loss, x, np.array([1e-3]), loss(x), free)
    assert np.array_equal(x1, x) and v1[0] == loss(x)[0] and not conv[0] and failed[0]
    warning = derivatives_warning(rj(x)[1][0], np.array([2, 3, 5]))
    assert "not finite for 1 of 3 data rows (lines 3)" in warning
    assert derivatives_warning(np.ones((3, 1)), np.array([2, 3, 5])) is None


# --- text encoding --------------------------------------------------------------------------

def test_a_table_that_is_not_utf8_is_refused_naming_file_and_line(tmp_path):
    """A Latin-1 export (µ as the byte 0xb5) exits 2 naming the file, the line and UTF-8;
    the same table in UTF-8, with or without a byte-order mark, reads with µ kept."""
    text = RELEASE_HEADER + "1,5,7.4,x\n24,15,7.4,\u00b5g\n"
    p = tmp_path / "latin.csv"
    p.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError, match=r"line 3: byte 0xb5 .*must be UTF-8") as e:
        load_table(p, "release")
    assert str(p) in str(e.value)
    for name, raw in (("utf8.csv", text.encode("utf-8")),
                      ("bom.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))):
        (tmp_path / name).write_bytes(raw)
        t = load_table(tmp_path / name, "release")
        assert t.text["note"] == ("x", "\u00b5g") and t.lines == (2, 3)
        assert t.header[0] == "time_h"
