"""Bad input never produces a traceback: exit 0, or exit 2 with a one-paragraph message.

Property-based: hypothesis mutates the built-in default config (deletes keys and sections,
changes types, writes random numbers including nan, inf, negative and huge ones, adds unknown
keys and sections, turns tables into arrays of tables and back) and random `--set` overrides;
`zn-pde validate` must answer 0 or 2, never raise. When it answers 0 its printout is itself a
valid config that resolves to the same thing (validate's output can be used as input); when
it answers 2 the message names the file. A table of targeted bad inputs checks that each kind
of error the issue lists is caught with the key, the value and what is allowed.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from zn_pde.cli import main
from zn_pde.config import default_config_text, dumps, resolve

DEFAULT = tomllib.loads(default_config_text())
SETTINGS = settings(max_examples=100, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

KEYS = {
    "grid": ["kind", "shape", "spacing_um"],
    "time": ["end_h", "dt_s", "save_every_min"],
    "geometry": ["kind", "radius_um", "center_um", "cell_volume_fraction"],
    "boundary": ["kind"],
    "numerics": ["precision", "reaction_substeps", "check_every_saves"],
    "material": ["kind", "dose_ug_per_ml", "hydrodynamic_diameter_nm"],
    "ph": ["medium", "tissue_rim", "tissue_core", "lysosome"],
    "tissue": ["ultrasound_attenuation_dB_per_cm_MHz", "light_attenuation_per_cm"],
    "kinetics": ["dissolution_rate_per_h", "uptake_rate_per_h", "not_a_rate"],
    "ultrasound": ["start_h", "duration_min", "intensity_W_per_cm2", "frequency_MHz"],
    "light": ["start_h", "duration_min", "wavelength_nm", "irradiance_mW_per_cm2"],
    "species": ["name", "diffusivity_um2_per_s", "decay_per_s", "initial_uM", "boundary_uM"],
    "unknown_section": ["x"],
}
SECTIONS = list(KEYS)

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, -1.0, 1e-300, 5e-324, 1e300, -1e300, math.nan, math.inf,
                     -math.inf, 0.5, 30.0, 60.0, 250.0, 1e4, 1e6]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, 2, 3, 16, 64, 2048, 2049, -1]),
)
text = st.one_of(st.sampled_from(["ZnO", "ZnO2", "ZIF-8", "ZnS", "zno", "cartesian",
                                  "well_mixed", "spheroid", "uniform", "medium", "dirichlet",
                                  "neumann", "float64", "tracer", "np", "x", ""]),
                 st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8))
scalars = st.one_of(numbers, text, st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.fixed_dictionaries({"tissue": inner, "medium": inner}),
                            st.dictionaries(st.sampled_from(["tissue", "medium", "other"]),
                                            inner, max_size=3)),
    max_leaves=6)


def _set(cfg: dict[str, Any], section: str, key: str, value: Any, index: int) -> None:
    body = cfg.get(section)
    if isinstance(body, list):
        if not body:
            body.append({})
        target = body[index % len(body)]
        if isinstance(target, dict):
            target[key] = value
    elif isinstance(body, dict):
        body[key] = value
    else:
        cfg[section] = {key: value}


mutation = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(SECTIONS), st.data()),
    st.tuples(st.just("delete_key"), st.sampled_from(SECTIONS), st.data()),
    st.tuples(st.just("delete_section"), st.sampled_from(SECTIONS), st.data()),
    st.tuples(st.just("replace_section"), st.sampled_from(SECTIONS), st.data()),
    st.tuples(st.just("misspell"), st.sampled_from(SECTIONS), st.data()),
    st.tuples(st.just("table_array_swap"), st.sampled_from(SECTIONS), st.data()),
)


def _mutate(cfg: dict[str, Any], op: str, section: str, data) -> None:
    if op == "set":
        key = data.draw(st.sampled_from(KEYS[section]))
        _set(cfg, section, key, data.draw(values), data.draw(st.integers(0, 3)))
    elif op == "delete_key":
        body = cfg.get(section)
        items = body if isinstance(body, list) else [body]
        for item in items:
            if isinstance(item, dict) and item:
                item.pop(data.draw(st.sampled_from(sorted(item))), None)
    elif op == "delete_section":
        cfg.pop(section, None)
    elif op == "replace_section":
        cfg[section] = data.draw(values)
    elif op == "misspell":
        key = data.draw(st.sampled_from(KEYS[section]))
        _set(cfg, section, key[:-1] + key[-1].upper() + "x", 1.0, 0)
    elif op == "table_array_swap":
        body = cfg.get(section)
        if isinstance(body, dict):
            cfg[section] = [body, copy.deepcopy(body)]
        elif isinstance(body, list) and body:
            cfg[section] = body[0]


def _validate(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["validate", *argv])
        except SystemExit as e:  # argparse's own bad-argument exit (usage + message)
            code = e.code
            assert code == 2 and "zn-pde: error: " in err.getvalue(), err.getvalue()
            return code, out.getvalue(), "zn-pde validate: error: " + err.getvalue().split(
                "zn-pde: error: ", 1)[1]
    return code, out.getvalue(), err.getvalue()


def _check_outcome(code: int, out: str, err: str, file: str | None) -> None:
    assert code in (0, 2), (code, err)
    if code == 2:
        assert err.startswith("zn-pde validate: error: ")
        assert "Traceback" not in err and err.count("\n") == 1, err  # one paragraph
        if file is not None:
            assert file in err
    else:
        printed = out.split("\n", 1)[1]  # after the "# ...: valid" line
        # the printout is a valid config and a fixed point: validating it changes nothing
        again = resolve(tomllib.loads(printed), "<validate output>")
        assert tomllib.loads(dumps(again)) == tomllib.loads(printed)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@SETTINGS
@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_configs_exit_0_or_2_never_a_traceback(scratch, mutations):
    cfg = copy.deepcopy(DEFAULT)
    for op, section, data in mutations:
        _mutate(cfg, op, section, data)
    try:
        text_ = dumps(cfg)
    except TypeError:  # nothing TOML can say (cannot happen with these strategies)
        return
    path = scratch / "mutated.toml"
    path.write_text(text_, encoding="utf-8")
    code, out, err = _validate([str(path)])
    event(f"exit {code}")
    _check_outcome(code, out, err, str(path))


key_paths = st.one_of(
    st.builds(lambda s, k: f"{s}.{k}", st.sampled_from(SECTIONS),
              st.sampled_from(sorted({k for ks in KEYS.values() for k in ks}))),
    st.builds(lambda s, i, k: f"{s}[{i}].{k}", st.sampled_from(["ultrasound", "light",
                                                                 "species"]),
              st.integers(-1, 3), st.sampled_from(KEYS["ultrasound"] + ["name"])),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)
raw_values = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e400", "[1,2]", "[16,16,16]",
                     "{ tissue = 1.0, medium = -1.0 }", "true", "\"ZnO\"", "ZnO", "[[1]]",
                     "", "=", "[", "1979-05-27", "0x10", "1_000"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.tuples(key_paths, raw_values), min_size=1, max_size=3))
def test_random_set_overrides_exit_0_or_2_never_a_traceback(overrides):
    argv = []
    for key, value in overrides:
        argv += ["--set", f"{key}={value}"]
    code, out, err = _validate(argv)
    event(f"exit {code}")
    _check_outcome(code, out, err, None)


# (overrides separated by |, what the message must contain): each kind of error issue 4 lists
TARGETED = [
    ("geometry.radius_mu=100", ["key 'geometry.radius_mu'", "did you mean 'radius_um'"]),
    ("gird.shape=[8,8,8]", ["key 'gird'", "did you mean 'grid'"]),
    # the value as TOML spells it: "long", true, { tissue = 1.0 } (not 'long', True, a dict)
    ("time.end_h=\"long\"", ["key 'time.end_h'", 'value "long"', "a finite number"]),
    ("time.end_h=true", ["key 'time.end_h'", "value true is not allowed"]),
    ("numerics.precision={ a = 1.0 }", ["key 'numerics.precision'", "value { a = 1.0 }"]),
    ("grid.shape=[16,16]", ["key 'grid.shape'", "a list of 3 integers"]),
    ("time.dt_s=nan", ["key 'time.dt_s'", "nan", "a finite number"]),
    ("material.dose_ug_per_ml=inf", ["key 'material.dose_ug_per_ml'", "inf"]),
    ("material.dose_ug_per_ml=-5", ["key 'material.dose_ug_per_ml'", "-5", ">= 0"]),
    ("ph.medium=15", ["key 'ph.medium'", "15", "<= 14"]),
    ("geometry.radius_um=400", ["key 'geometry.radius_um'", "does not fit in the domain"]),
    # the interface's --set example on the default scenario: a smaller domain at the same
    # spacing; the spacing that keeps the spheroid is offered, rounded up so that it fits
    ("grid.shape=[32, 32, 32]", ["key 'geometry.radius_um'", "radius_um <= 160",
                                 "grid.spacing_um >= 15.63 to keep this grid.shape"]),
    # a centre on a face fits no radius (the least is one voxel): the centre is what to move,
    # not "radius_um <= 0"
    ("geometry.center_um=[0.0, 320.0, 320.0]",
     ["key 'geometry.center_um'", "no spheroid fits", "250 <= center_um[0] <= 390"]),
    # a radius below one voxel is named first: the "radius_um <= 2" a centre 2 um from a
    # face allows would be below it too
    ("geometry.center_um=[2.0, 320.0, 320.0]|geometry.radius_um=5",
     ["key 'geometry.radius_um'", "below one voxel", "radius_um >= grid.spacing_um"]),
    ("material.kind=ZnO3", ["key 'material.kind'", '"ZnO3"', "did you mean 'ZnO'"]),
    ("dose=[{time_h=-2.0, dose_ug_per_ml=5.0}]",
     ["key 'dose[0].time_h'", "dose[0].time_h = -2: outside the run", "0 <= time_h"]),
    ("medium_exchange=[{time_h=-0.5}]", ["key 'medium_exchange[0].time_h'", "< time.end_h"]),
    # shorter than that tolerance in a long run: its start and end would be one breakpoint
    ("time.end_h=700|time.dt_s=600|time.save_every_min=600|ultrasound[0].duration_min=0.03",
     ["key 'ultrasound[0].duration_min'", "shorter than the 2.52 s", "duration_min >= 0.042"]),
    # a wash-out and a dose closer than that tolerance would act as at one time, exchange
    # first, whatever their written order (a dose 0.36 ms before it would survive it)
    ("dose=[{time_h=2.0, dose_ug_per_ml=5.0}]|medium_exchange=[{time_h=2.0000001}]",
     ["key 'medium_exchange[0].time_h'", "0.00036 s apart", "allowed: the same time_h",
      "or more than 0.0864 s apart"]),  # exactly the tolerance merges too
    ("medium_exchange=[{time_h=1e-7}]",
     # the t = 0 dose is quoted by name, not as "= 0" (its value is a dose, not a time)
     ["key 'medium_exchange[0].time_h'", "material.dose_ug_per_ml (at t = 0) are 0.00036 s"]),
    ("dose=[{time_h=2.0, dose_ug_per_ml=-1.0}]",
     ["key 'dose[0].dose_ug_per_ml'", "-1", ">= 0", "[[medium_exchange]]"]),
    # a missing required key names its whole range too
    ("dose=[{time_h=2.0}]", ["key 'dose[0].dose_ug_per_ml'", "missing required key",
                             ">= 0 and <= 100000"]),
    ("time.dt_s=1200|ultrasound[0].duration_min=20",
     ["key 'time.dt_s'", "cannot be honoured", "allowed: dt_s <="]),
    # a lysosome at pH 0 dissolves too fast for any sub-step: the keys that set that rate
    # are named, not only the step (a helper's config audit)
    ("ph.lysosome=0", ["key 'time.dt_s'", "a slower lysosomal dissolution (set by "
                       "ph.lysosome = 0 and the kinetics.dissolution_* constants"]),
    ("kinetics.gpx_fraction=0.2|kinetics.peroxidase_rate_per_s=50",
     ["key 'kinetics.gpx_fraction'", "cannot be mixed", "allowed"]),
    ("kinetics.intracellular_h2o2_removal_per_s=0.5",
     ["key 'kinetics.catalase_rate_per_s'", "allowed: 0 <= catalase_rate_per_s < 0.5"]),
]


@pytest.mark.parametrize(("override", "needles"), TARGETED,
                         ids=[t[0].split("=")[0] for t in TARGETED])
def test_targeted_bad_inputs_name_key_value_and_what_is_allowed(override, needles):
    argv = [a for item in override.split("|") for a in ("--set", item)]
    code, _, err = _validate(argv)
    assert code == 2, err
    for needle in needles:
        assert needle in err, (needle, err)


def test_bad_config_files_exit_2(scratch):
    missing = scratch / "absent.toml"
    code, _, err = _validate([str(missing)])
    assert code == 2 and "config file not found" in err and str(missing) in err
    broken = scratch / "broken.toml"
    broken.write_text("[grid\nshape = [1, 2")
    code, _, err = _validate([str(broken)])
    assert code == 2 and "not valid TOML" in err and str(broken) in err
    binary = scratch / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00grid")
    code, _, err = _validate([str(binary)])
    assert code == 2 and str(binary) in err
    assert "byte 0 is not UTF-8" in err and "allowed: a TOML file encoded in UTF-8" in err


def test_a_config_saved_with_a_byte_order_mark_is_read_as_without_one(scratch):
    """Windows editors may start a UTF-8 file with a byte-order mark, which tomllib refuses
    ("not valid TOML"); the config reads as the same file without it."""
    text = '[time]\nend_h = 3.0\n[material]\nkind = "ZnO"\n'
    plain, marked = scratch / "plain.toml", scratch / "marked.toml"
    plain.write_text(text, encoding="utf-8")
    marked.write_bytes(b"\xef\xbb\xbf" + text.encode())
    (code_p, out_p, _), (code_m, out_m, err) = _validate([str(plain)]), _validate([str(marked)])
    assert code_m == 0 == code_p, err
    assert out_m.replace(str(marked), str(plain)) == out_p and "end_h = 3.0" in out_m


def test_an_empty_output_name_exits_2_and_says_what_is_allowed(scratch):
    """`-o ''` named no file; it used to fall back to runs/<config name>.h5 silently."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", "-o", "", "--quiet"])
    assert code == 2
    assert "key '-o'" in err.getvalue() and "allowed: a file name ending in .h5" in err.getvalue()


@pytest.mark.parametrize("argv", [
    ["run", "--resume", ""], ["inspect", ""], ["plot", ""], ["plot", "x.h5", "-o", ""],
    ["plot", "x.h5", "--compare", ""], ["export", "", "--vtk"], ["export", "x.h5", "-o", ""],
    ["fit", "configs/fit_zno_release.toml", "-o", ""],
    ["design", "configs/fit_zno_release.toml", "-o", ""],
    ["plan", "configs/plan_split_dose.toml", "-o", ""]])
def test_an_empty_path_argument_exits_2_naming_it(argv, tmp_path, monkeypatch):
    """An empty file or folder argument is refused naming the argument (exit 2), writing
    nothing. Path("") is ".": `run --resume ""` started a fresh default run into runs/, and
    `fit -o ""` wrote its checkpoint into the current folder (2026-12-06)."""
    monkeypatch.chdir(tmp_path)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        with pytest.raises(SystemExit) as stop:
            main(argv)
    assert stop.value.code == 2
    assert "the path is empty" in err.getvalue() and "argument" in err.getvalue()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["config", "fit", "plan", "output"])
def test_an_empty_path_in_the_api_names_it_empty_not_dot(kind):
    """The API's loaders say an empty path is empty, not that '.' is not found/not a file."""
    from zn_pde import InputError, open_run, simulate
    from zn_pde.fit._config import load_fit_config
    from zn_pde.plan._config import load_plan

    call = {"config": lambda: simulate(""), "fit": lambda: load_fit_config(""),
            "plan": lambda: load_plan(""), "output": lambda: open_run("")}[kind]
    with pytest.raises(InputError, match="path is empty") as e:
        call()
    assert "'.'" not in str(e.value) and not str(e.value).startswith(".:")


CONFIGS = Path(__file__).parent.parent / "configs"


@pytest.mark.parametrize("command, name, says", [
    ("fit", "zno_spheroid_radial.toml", "this is a simulation config, not a fit config: "
     "`zn-pde run FILE` runs it"),
    ("design", "plan_us_timing.toml", "this is a plan file, not a fit config: `zn-pde plan "
     "FILE` optimises it"),
    ("plan", "fit_zno_release.toml", "this is a fit config, not a plan file: `zn-pde fit "
     "FILE` fits it"),
    ("plan", "zno_spheroid_radial.toml", "this is a simulation config, not a plan file")])
def test_fit_and_plan_name_a_file_of_another_kind_for_what_it_is(command, name, says):
    """`run` given a fit or plan file says what it is and which command reads it; `fit`,
    `design` and `plan` given another kind said 'unknown section' or listed the sections
    as extra (a client audit, 2026-12-07). Exit 2 either way."""
    code, _, err = _command([command, str(CONFIGS / name)])
    assert code == 2, err
    assert says in err, err
    assert "Traceback" not in err


def _command(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()
