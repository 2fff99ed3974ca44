"""What a fit says about data that cannot carry its numbers: warnings (one pH for a pH law,
a percent column that looks like fractions, values beyond measurement noise) on stderr and
in the JSON, no r²/AIC/BIC for a model with at least as many free parameters as values
(JSON null + note, figure text), and `zn-pde fit` refuses to replace an existing
`<name>.json` without --overwrite."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from zn_pde import InputError
from zn_pde.cli import main
from zn_pde.fit import build_problem, load_fit_config
from zn_pde.fit._checks import data_warnings
from zn_pde.fit._report import metrics_caption
from zn_pde.fit._uncertainty import metrics

FAST = ["fit.starts=2", "fit.candidates=4", "fit.adam_steps=5", "fit.lm_steps=10",
        "fit.profile=false"]
HEADER = "time_h,released_percent,pH,dose_ug_per_ml\n"

pytestmark = pytest.mark.usefixtures("x64_module")


def _fit_files(d: Path, rows: str, extra: str = "") -> Path:
    (d / "release.csv").write_text(HEADER + rows)
    cfg = d / "fit.toml"
    cfg.write_text('[fit]\nname = "guarded"\nobservable = "release"\ndata = "release.csv"\n'
                   + extra)
    return cfg


def _warnings(cfg: Path) -> tuple[list[str], dict[str, str]]:
    return data_warnings(build_problem(load_fit_config(cfg)))


# --- metrics --------------------------------------------------------------------------------

def test_metrics_are_null_with_as_many_parameters_as_values():
    y, yhat = np.array([10.0, 20.0, 35.0]), np.array([10.0, 20.0, 35.0])
    m = metrics(y, yhat, n_free=3)
    assert m["r2"] is None and m["aic"] is None and m["bic"] is None
    assert "3 values for 3 free parameters" in m["note"] and "r²" in m["note"]
    assert m["rmse"] == 0.0 and m["n"] == 3
    m = metrics(y, yhat + np.array([0.5, -0.5, 0.2]), n_free=2)  # one value more: reported
    assert m["r2"] is not None and m["aic"] is not None and "note" not in m


def test_metrics_leave_out_a_row_predicted_whatever_the_parameters():
    """The 4-row table of `test_a_row_predicted_whatever_the_parameters_leaves_the_degrees_
    of_freedom` (an untreated control at 100 %, 3 free parameters, fitted exactly): its
    uncertainty has dof 0 and no CI, and its metrics likewise no r², AIC or BIC (they gave
    r² = 1 and AIC = 4 ln(SSR/4) ~ -240 of an exact fit of 3 informative values by 3
    parameters); the note and the figure's caption say why. With a fifth value they are
    reported. Fails if: the pinned row were counted as a value that tests the fit."""
    y = np.array([100.0, 80.0, 40.0, 10.0])
    yhat = y + np.array([0.0, 1e-13, -2e-13, 1e-13])
    m = metrics(y, yhat, n_free=3, pinned=1)
    assert m["r2"] is None and m["aic"] is None and m["bic"] is None and m["pinned"] == 1
    assert "4 values (1 of them predicted exactly whatever the parameters" in m["note"]
    assert "no degree of freedom" in metrics_caption(m)
    assert metrics(y, yhat, n_free=3)["r2"] is not None  # counted as a value: reported
    five = metrics(np.append(y, 5.0), np.append(yhat, 5.3), n_free=3, pinned=1)
    assert five["r2"] is not None and five["aic"] is not None and "note" not in five
    assert metrics_caption(five).startswith("r² = ")


def test_metrics_of_data_without_spread_say_why_r2_is_missing():
    """Every value the same (SST = 0): r² is undefined; before, the summary printed
    "r2 = n/a" with no reason (not the underdetermined case, which has its own note)."""
    y = np.full(5, 50.0)
    m = metrics(y, y + np.array([1.0, -2.0, 0.5, 3.0, -1.0]), n_free=2)
    assert m["r2"] is None and m["aic"] is not None and m["rmse"] > 0
    assert "SST = 0" in m["note"] and "50" in m["note"]
    w = metrics(y, y + 1.0, n_free=2, sd=np.full(5, 2.0))
    assert w["r2"] is None and "SST = 0" in w["note"] and w["aic"] is not None


def test_figure_caption_says_r2_is_not_meaningful():
    text = metrics_caption({"n": 2, "k": 3, "r2": None})
    assert "2 values for 2 free parameters" in text and "not meaningful" in text
    assert "r² =" not in text
    assert metrics_caption({"n": 5, "k": 3, "r2": 0.98765}) == ("r² = 0.988, n = 5, "
                                                                "2 free parameters")
    # a weighted fit's k is its free parameters (no variance to estimate): 2 free of k = 2,
    # not 1 (an outside contract audit); the caption reads what metrics() reports
    weighted = metrics(np.array([1.0, 2.0, 3.5, 4.0]), np.array([1.1, 2.0, 3.3, 4.1]),
                       n_free=2, sd=np.full(4, 0.1))
    assert weighted["k"] == 2 and weighted["n_free"] == 2
    assert metrics_caption(weighted).endswith("n = 4, 2 free parameters")
    assert metrics_caption({"n": 2, "k": 2, "chi2": 1.0, "r2": None}).startswith(
        "n = 2 values for 2 free parameters")
    # a perfect r² from parameters the data do not bound says so (an outside figure review)
    assert metrics_caption({"n": 3, "k": 3, "r2": 1.0}, ["a", "b"]).endswith(
        "not identifiable from these data: a, b")


# --- data warnings ----------------------------------------------------------------------------

def test_no_warning_for_two_ph_values_in_percent(tmp_path):
    cfg = _fit_files(tmp_path, "24,2.0,7.4,20\n1,90,4.7,20\n")
    assert _warnings(cfg) == ([], {})


def test_single_ph_warns_only_while_a_ph_law_parameter_is_free(tmp_path):
    cfg = _fit_files(tmp_path, "24,2.0,6.5,20\n48,4.0,6.5,20\n")
    warnings, per = _warnings(cfg)
    assert len(warnings) == 1 and "single pH (6.5)" in warnings[0]
    assert "dissolution_proton_order" in warnings[0]
    assert set(per) == {"dissolution_proton_order", "dissolution_rate_per_h"}
    fixed = _fit_files(tmp_path, "24,2.0,6.5,20\n48,4.0,6.5,20\n",
                       "[fit.parameters.dissolution_proton_order]\nfixed = true\n")
    assert _warnings(fixed) == ([], {})


@pytest.mark.parametrize("rows, warns", [
    ("24,0.2,7.4,20\n1,0.9,4.7,20\n", True),  # fractions
    # the edges of [0, 1] (a release fraction cannot exceed 1; the band was [0, 1.5], and
    # this case was 1.5, until a genuine 1.12 % point warned: see the test below)
    ("24,0.0,7.4,20\n1,1.0,4.7,20\n", True),
    ("24,0.2,7.4,20\n1,1.6,4.7,20\n", False),
    ("24,-0.1,7.4,20\n1,0.9,4.7,20\n", False),
    # all zero: the same read as percent or as fractions (it said "0 means 0 %, not 0 %")
    ("24,0,7.4,20\n1,0.0,4.7,20\n", False),
])
def test_percent_column_that_looks_like_fractions_warns(tmp_path, rows, warns):
    warnings, _ = _warnings(_fit_files(tmp_path, rows))
    assert (len(warnings) == 1) == warns
    if warns:
        assert "released_percent" in warnings[0] and "fractions" in warnings[0]


def _fraction_warnings(tmp_path: Path, table: str) -> list[str]:
    """The fraction warnings of a release table (one pH also warns of the pH law)."""
    (tmp_path / "release.csv").write_text(table)
    (tmp_path / "fit.toml").write_text('[fit]\nname = "f"\nobservable = "release"\n'
                                       'data = "release.csv"\n')
    return [w for w in _warnings(tmp_path / "fit.toml")[0] if "fraction" in w]


def test_a_small_release_curve_in_percent_is_not_taken_for_fractions(tmp_path):
    """A genuine percent release can be small: the shipped ZnO table's ICP-AES point is
    1.12 % at 24 h (Zn dissolved in MEM), and fitting it alone warned that the column
    'looks like fractions' (every value in [0, 1.5]). A release fraction cannot exceed 1,
    so the band is now [0, 1]; a curve that tops out below 1 % cannot be told from
    fractions by its values, and a `unit` column saying % on every row settles it."""
    from zn_pde.fit._checks import fraction_warning

    shipped = load_fit_config(Path(__file__).parents[1] / "configs" / "fit_zno_release.toml",
                              ['fit.select={quantity="Zn dissolved (ICP-AES)"}'])
    problem = build_problem(shipped)
    assert problem.table.numbers["released_percent"].tolist() == [1.12]
    assert fraction_warning(problem) is None
    slow = "".join(f"{t},{v},7.4\n" for t, v in ((1, 0.05), (4, 0.2), (8, 0.4), (24, 0.8)))
    # the values alone: ambiguous, so it still warns, and says how to settle it
    (w,) = _fraction_warnings(tmp_path, "time_h,released_percent,pH\n" + slow)
    assert "looks like fractions" in w and "unit" in w
    said = "".join(f"{row.rstrip()},%\n" for row in slow.splitlines())
    assert _fraction_warnings(tmp_path, "time_h,released_percent,pH,unit\n" + said) == []
    assert _fraction_warnings(tmp_path, "time_h,released_percent,pH,Units\n"
                             + said.replace(",%", ", percent")) == []


def test_release_fractions_still_warn_with_noise_or_a_unit_that_says_so(tmp_path):
    """The true positives: a fraction curve to complete release, one whose last value is
    past 1 by less than 2 of its sd (noise on a fraction), and one whose unit column says
    fraction; not one past 1 by more than that."""
    curve = "time_h,released_percent,pH\n1,0.12,5.5\n4,0.45,5.5\n24,0.93,5.5\n48,0.99,5.5\n"
    (w,) = _fraction_warnings(tmp_path, curve)
    assert "looks like fractions" in w and "[0, 1]" in w and "not 99 %" in w
    noisy = ("time_h,released_percent,pH,sd\n1,0.12,5.5,0.03\n24,0.93,5.5,0.03\n"
             "48,1.04,5.5,0.03\n")
    (w,) = _fraction_warnings(tmp_path, noisy)
    assert "within 2 sd" in w
    assert _fraction_warnings(tmp_path, noisy.replace("1.04", "1.07")) == []
    (w,) = _fraction_warnings(tmp_path, "time_h,released_percent,pH,unit\n"
                             "1,0.12,5.5,fraction\n24,0.93,5.5,fraction\n")
    assert "unit column says fraction" in w


@pytest.mark.parametrize("unit, warns", [("fraction", "says fraction"),
                                         ("ug/mL", "says 'ug/ml'"), ("%", None)])
def test_a_unit_column_that_contradicts_the_percent_reading_warns(tmp_path, unit, warns):
    """Values a fraction cannot take (up to 93) under a unit column saying fraction, or a
    unit that is no share at all, are read as percent: the fit says the table contradicts
    itself (a client audit found both silent); a unit saying % on every row does not."""
    rows = "".join(f"{t},{v},5.5,{unit}\n" for t, v in ((1, 12.0), (24, 93.0)))
    (tmp_path / "release.csv").write_text("time_h,released_percent,pH,unit\n" + rows)
    (tmp_path / "fit.toml").write_text('[fit]\nname = "f"\nobservable = "release"\n'
                                       'data = "release.csv"\n')
    found = [w for w in _warnings(tmp_path / "fit.toml")[0] if "unit column" in w]
    if warns is None:
        assert found == []
    else:
        (w,) = found
        assert warns in w and "read as percent (largest 93 %)" in w


@pytest.mark.parametrize("rows, lines", [
    ("1,-5,5.5,20\n6,150,5.5,20\n24,60,7.4,20\n", ["line 3: 150"]),  # -5 is noise
    ("1,-11,5.5,20\n6,110,5.5,20\n24,60,7.4,20\n", ["line 2: -11"]),  # 110: the edge
    ("1,2,5.5,20\n6,100,5.5,20\n24,60,7.4,20\n", []),
])
def test_release_beyond_what_noise_explains_warns_naming_lines(tmp_path, rows, lines):
    """A released share below -10 % or above 110 % (accepted: inside the hard limits) warns,
    naming the line and value (it ran silently before)."""
    warnings, _ = _warnings(_fit_files(tmp_path, rows))
    assert len(warnings) == len(lines)
    for line in lines:
        assert line in warnings[0] and "no measurement noise explains" in warnings[0]


def _viability_warnings(tmp_path, rows: str) -> list[str]:
    (tmp_path / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h\n"
                                    + rows)
    (tmp_path / "v.toml").write_text('[fit]\nname = "v"\nobservable = "viability"\n'
                                     'data = "v.csv"\n')
    return _warnings(tmp_path / "v.toml")[0]


def test_viability_below_what_noise_explains_warns(tmp_path):
    """Viability below -10 % warns; above 100 % does not (cells may outgrow the control)."""
    warnings = _viability_warnings(tmp_path, "0,120,24\n10,-20,24\n50,-3.6,24\n")
    assert len(warnings) == 1 and "line 3: -20" in warnings[0]


def test_viability_fractions_warn(tmp_path):
    warnings = _viability_warnings(tmp_path, "0,1.0,24\n10,0.8,24\n50,0.3,24\n")
    assert len(warnings) == 1 and "viability_percent" in warnings[0]


def test_a_row_repeated_in_every_column_warns_naming_its_lines(tmp_path):
    """A row pasted twice counts twice (double weight, narrower intervals); it was taken
    without a word. Rows that differ in any column (a replicate's own value) do not warn."""
    warnings = _viability_warnings(tmp_path, "5,90,24\n50,60,24\n5,90,24\n100,30,24\n"
                                             "50,60,24\n50,60,48\n")
    assert len(warnings) == 1, warnings
    assert "line 4 repeats line 2" in warnings[0] and "line 6 repeats line 3" in warnings[0]
    assert _viability_warnings(tmp_path, "5,90,24\n5,91,24\n50,60,24\n50,60,48\n") == []


# --- the command line: warnings, null metrics, --overwrite ------------------------------------

def test_cli_fit_warns_marks_and_refuses_to_overwrite(tmp_path, capsys, monkeypatch):
    """Two values at one pH, given as fractions, for the two standard ZnO release parameters:
    both warnings on stderr and in the JSON, r²/AIC/BIC null with a note (JSON, summary,
    figure); a second run stops with exit 2 before fitting, naming the file and --overwrite,
    and leaves the output untouched; --overwrite replaces it."""
    monkeypatch.setenv("ZN_PDE_CACHE_DIR", "")
    cfg = _fit_files(tmp_path, "24,0.2,6.5,20\n48,0.4,6.5,20\n")
    out = tmp_path / "out"
    argv = ["fit", str(cfg), "-o", str(out), "--quiet"] + [f"--set={s}" for s in FAST]
    assert main(argv) == 0
    std = capsys.readouterr()
    assert std.err.count("fit guarded: warning:") == 2
    assert "single pH (6.5)" in std.err and "looks like fractions" in std.err
    assert "2 warnings about the data" in std.out and "note: 2 values for 2" in std.out
    path = out / "guarded.json"
    report = json.loads(path.read_text())
    assert len(report["warnings"]) == 2
    assert "single pH" in report["parameters"]["dissolution_proton_order"]["warning"]
    m = report["metrics"]
    assert m["n"] == 2 and m["r2"] is None and m["aic"] is None and m["bic"] is None
    assert "not meaningful" in m["note"] and m["rmse"] is not None
    assert report["comparison"][0]["r2"] is None and "note" in report["comparison"][0]
    assert (out / "guarded.png").stat().st_size > 10_000
    before = path.read_bytes()

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "--overwrite" in err and "Traceback" not in err
    assert path.read_bytes() == before

    assert main(argv + ["--overwrite"]) == 0
    capsys.readouterr()
    assert json.loads(path.read_text())["name"] == "guarded"


def test_a_gauss_newton_interval_past_the_box_is_not_reported(tmp_path):
    """Release flat at 50 % whatever the pH and time: the data hardly bound either constant,
    and the Gauss-Newton interval (profile off) reaches past the box (the rate to 2.7 /h
    against a box top of 0.088, the proton order to 21 against 4). That is 'not bounded
    inside the box', identifiable false with no interval, as an open profile is; it was
    reported as an identifiable 95 % CI."""
    (tmp_path / "flat.csv").write_text(
        "time_h,released_percent,pH\n2,50,6.5\n6,50,6.5\n24,50,7.4\n48,50,7.4\n")
    (tmp_path / "flat.toml").write_text(
        '[fit]\nname = "flat"\nobservable = "release"\ndata = "flat.csv"\nmaterial = "ZnO"\n'
        "profile = false\n")
    assert main(["fit", str(tmp_path / "flat.toml"), "-o", str(tmp_path / "out"),
                 "--quiet"]) == 0
    report = json.loads((tmp_path / "out" / "flat.json").read_text())
    for name in ("dissolution_rate_per_h", "dissolution_proton_order"):
        p = report["parameters"][name]
        assert p["ci95"] == [None, None] and p["identifiable"] is False, p
        assert "reaches past the box" in p["note"]


def test_a_fit_leaves_a_row_predicted_whatever_the_parameters_out_of_its_dof(tmp_path):
    """`zn-pde fit` end to end (the unit tests call `gauss_newton` and `metrics` directly):
    ZnO release at pH 7.4 with a row at 0 h, 0 % (nothing is released before any time has
    passed, whatever the constants: a Jacobian row of zeros, residual 0) and two informative
    rows, 2 free parameters. The 0 h row is counted by `Problem.pinned` in `analyse`:
    `uncertainty.dof` 0 (it was 1), `pinned_rows` 1, no interval and no r²/AIC. Fails if:
    the fit's wiring left the row in the degrees of freedom (dof 1, an interval and an r²)."""
    (tmp_path / "z.csv").write_text("time_h,released_percent,pH\n0,0,7.4\n24,3,7.4\n"
                                    "120,10,7.4\n")
    (tmp_path / "z.toml").write_text('[fit]\nname = "z"\nobservable = "release"\n'
                                     'data = "z.csv"\nmaterial = "ZnO"\nprofile = false\n')
    assert main(["fit", str(tmp_path / "z.toml"), "-o", str(tmp_path / "out"),
                 "--quiet"]) == 0
    report = json.loads((tmp_path / "out" / "z.json").read_text())
    u, m = report["uncertainty"], report["metrics"]
    assert u["dof"] == 0 and u["pinned_rows"] == 1 and u["residual_scale"] is None
    assert m["n"] == 3 and m["pinned"] == 1 and m["r2"] is None and m["aic"] is None
    rate = report["parameters"]["dissolution_rate_per_h"]
    assert rate["ci95"] == [None, None] and "predicted exactly whatever" in rate["note"]


def _one_release_point(tmp_path: Path, row: str) -> dict:
    """The report of `zn-pde fit` (profile on) of ZnO release on one row with its sd."""
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "one.csv").write_text("time_h,released_percent,pH,sd\n" + row + "\n")
    (tmp_path / "one.toml").write_text('[fit]\nname = "one"\nobservable = "release"\n'
                                       'data = "one.csv"\nmaterial = "ZnO"\n')
    assert main(["fit", str(tmp_path / "one.toml"), "-o", str(tmp_path / "out"),
                 "--quiet"]) == 0
    return json.loads((tmp_path / "out" / "one.json").read_text())


def test_a_profile_closed_by_another_parameters_box_is_not_an_interval(tmp_path, capsys):
    """One release point at pH 4.7 (80 % in 1 h, sd 5) fixes only k(4.7) = k(7.4) 10^(2.7 n):
    rate and proton order trade along a line, and the profile of the order rises only where
    the rate, compensating, reaches the edge of its box (1e-5-0.0878 /h), at n ~ 0.5 and ~ 2.3.
    That was reported as '95% CI [0.539, 2.27]', identifiable. Now the limits stay in
    `ci95_profile`, `ci95` is open and the note names the box that ends it; the local analysis
    (J^T J singular) keeps `identifiable` false. The same fit at pH 7.4 (10 % in 120 h, sd 2)
    bounds the rate by the data alone: its interval stays."""
    r = _one_release_point(tmp_path, "1,80,4.7,5")
    order = r["parameters"]["dissolution_proton_order"]
    lo, hi = order["ci95_profile"]
    assert lo is not None and hi is not None and lo < order["value"] < hi
    assert set(r["profile"]["parameters"]["dissolution_proton_order"]["box_pressed"]) == {
        "lower", "upper"}
    assert order["ci95"] == [None, None] and order["identifiable"] is False
    assert "dissolution_rate_per_h reached the edge of its box" in order["note"]
    assert "95% CI [" not in capsys.readouterr().out
    rate = _one_release_point(tmp_path / "neutral", "120,10,7.4,2")["parameters"][
        "dissolution_rate_per_h"]
    assert rate["identifiable"] is True and rate["ci95"] == rate["ci95_profile"]
    # -ln(0.9)/120 h = 8.78e-4 /h, the sd of 2 points on 10 % is +- 20 % in ln(1 - f) ~ f
    assert rate["ci95"][0] < 8.78e-4 < rate["ci95"][1]
    assert 1.3 < rate["ci95"][1] / rate["ci95"][0] < 3.0


def test_a_profile_point_stalled_on_a_plateau_of_the_model_does_not_close_a_side(tmp_path):
    """One release point at pH 5.5 (40 +- 3 % at 2 h) fixes k(5.5) = k(7.4) 10^(1.9 n) =
    -ln(0.6)/2 h: the proton order's profile is flat (Δ = 0) until the rate, compensating,
    reaches the lower edge of its box, at n = log10(k(5.5)/k_lo)/1.9. The profile's point at
    the box's edge (n = 4), started from the optimum's quadratic model, undershot the
    compensation (linear in ln n), saturated the release at 100 % and stalled there (Δ = 400):
    the side was closed at n = 1.17 by interpolation, as the data's limit. Bisecting towards a
    crossing far above the threshold, each point continued from its inner neighbour, finds
    the rise where the rate's box ends it, and says so."""
    r = _one_release_point(tmp_path, "2,40,5.5,3")
    order = r["parameters"]["dissolution_proton_order"]
    rate = r["parameters"]["dissolution_rate_per_h"]
    expected = math.log10(-math.log(0.6) / 2.0 / rate["lower"]) / 1.9  # 2.35
    assert order["ci95_profile"][1] == pytest.approx(expected, rel=0.02)
    pressed = r["profile"]["parameters"]["dissolution_proton_order"]["box_pressed"]
    assert pressed["upper"] == ["dissolution_rate_per_h"]
    assert order["ci95"][1] is None and order["identifiable"] is not True
    # every rate in its box is matched by an order inside the order's box (n <= 4)
    assert rate["ci95_profile"] == [None, None]


def test_a_parameter_the_prediction_does_not_depend_on_is_named_so(tmp_path):
    """ZnS release at pH 5.5 and 7.4 is held at ZnS's solubility limit (log K of
    ZnS + 2H+ = Zn2+ + H2S), whatever its rate and proton order: their columns of J are zero.
    The note said 'J^T J is singular along a direction involving this parameter and ...; the
    data fix only that combination', but no combination is fixed: it says the prediction does
    not change with them, and the free direction is listed for each."""
    (tmp_path / "r.csv").write_text("time_h,released_percent,pH\n2,5,5.5\n6,12,5.5\n"
                                    "24,30,5.5\n48,40,7.4\n")
    (tmp_path / "f.toml").write_text('[fit]\nname = "zns"\nobservable = "release"\n'
                                     'data = "r.csv"\nmaterial = "ZnS"\nprofile = false\n')
    assert main(["fit", str(tmp_path / "f.toml"), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST if "profile" not in s]) == 0
    r = json.loads((tmp_path / "out" / "zns.json").read_text())
    for name in ("dissolution_rate_per_h", "dissolution_proton_order"):
        p = r["parameters"][name]
        assert p["identifiable"] is False and p["ci95"] == [None, None]
        assert "does not change with it" in p["note"], p["note"]
    assert r["uncertainty"]["conditioning"]["eigenvalues_JtJ"][-1] == 0.0 or max(
        r["uncertainty"]["conditioning"]["eigenvalues_JtJ"]) < 1e-20


def _refused_viability_table(tmp_path, capsys, table: str) -> str:
    """`zn-pde fit` of a ZnO viability fit on `table` (CSV text, as v.csv): exit 2 asserted;
    its stderr."""
    (tmp_path / "v.csv").write_text(table)
    (tmp_path / "v.toml").write_text('[fit]\nname = "v"\nobservable = "viability"\n'
                                     'data = "v.csv"\nmaterial = "ZnO"\n')
    assert main(["fit", str(tmp_path / "v.toml"), "-o", str(tmp_path / "out")]) == 2
    return capsys.readouterr().err


def test_a_row_without_its_wash_time_is_named_plainly(tmp_path, capsys):
    """An empty protocol cell: exit 2 naming the line and the column, the value said in
    words (it printed numpy's repr, 'np.float64(nan)')."""
    err = _refused_viability_table(tmp_path, capsys, "concentration_ug_per_ml,"
                                   "viability_percent,exposure_h,wash_h\n5,50,24,4\n10,20,24,\n")
    assert "v.csv: key 'wash_h': the row at line 3 has no valid wash_h (empty or not a " \
        "number)" in err, err
    assert "np.float64" not in err and "Traceback" not in err


def test_a_stimulus_time_without_a_stimulus_is_named(tmp_path, capsys):
    """A stimulus_h column in a table with no stimulus column and a fit config with no
    template exposure: exit 2 naming the column (it was accepted and had no effect)."""
    err = _refused_viability_table(tmp_path, capsys, "concentration_ug_per_ml,"
                                   "viability_percent,exposure_h,stimulus_h\n5,50,24,4\n"
                                   "10,20,24,4\n")
    assert "v.csv: key 'stimulus_h': the table says when its exposures start" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("table, words", [
    # the wash after the read-out was refused as 'medium_exchange[0].time_h ... outside the
    # run', a key the user never wrote
    ("concentration_ug_per_ml,viability_percent,exposure_h,wash_h\n5,50,24,30\n10,20,24,4\n",
     "v.csv: key 'wash_h': wash_h = 30 at line 2 is not before the row's read-out at "
     "exposure_h = 24 h"),
    # a time past the longest run was refused as the key 'time.end_h'
    ("concentration_ug_per_ml,viability_percent,exposure_h\n5,50,1e9\n10,20,24\n",
     "value 1e9 at line 2 is not allowed; expected a finite number > 0 and <= 10000"),
    # a dose past the config's range was refused as 'material.dose_ug_per_ml' of the fit
    # config (an outside contract audit)
    ("concentration_ug_per_ml,viability_percent,exposure_h\n5,50,24\n1e12,20,24\n",
     "value 1e12 at line 3 is not allowed; expected a finite number >= 0 and <= 100000"),
])
def test_a_table_time_the_simulation_cannot_take_is_named_at_its_line(tmp_path, capsys,
                                                                      table, words):
    err = _refused_viability_table(tmp_path, capsys, table)
    assert words in err and "Traceback" not in err, err


# --- what the rows and the data set is not the fit config's (an outside contract audit) --------

def _release_fit(d: Path, simulation: str = "") -> Path:
    (d / "r.csv").write_text("time_h,pH,released_percent\n1,5.5,10\n4,5.5,30\n24,7.4,2\n")
    (d / "r.toml").write_text('[fit]\nname = "r"\nobservable = "release"\ndata = "r.csv"\n'
                              'material = "ZnO"\nprofile = false\n' + simulation)
    return d / "r.toml"


@pytest.mark.parametrize("simulation, key", [
    ('[fit.simulation.time]\nend_h = "abc"\n', "fit.simulation.time.end_h"),
    ("[fit.simulation.time]\nsave_every_min = -5\n", "fit.simulation.time.save_every_min"),
    ("[fit.simulation.time]\nsave_around_events = true\n",
     "fit.simulation.time.save_around_events"),
    ("[fit.simulation.ph]\nmedium = 5.0\n", "fit.simulation.ph.medium"),
    # a required key missing from a table written there is named where it belongs
    ("[[fit.simulation.dose]]\ntime_h = 2.0\n", "fit.simulation.dose[0].dose_ug_per_ml"),
    ("[[fit.simulation.ultrasound]]\nstart_h = 2.0\n",
     "fit.simulation.ultrasound[0].duration_min"),
])
def test_keys_the_data_set_are_refused_not_silently_dropped(tmp_path, capsys, simulation, key):
    """The fit runs to the latest read-out with frames at the rows' times and a release vial
    takes its pH from its row: a [fit.simulation] key saying otherwise was dropped without a
    word (exit 0, even for end_h = "abc"); it is exit 2 naming the key."""
    cfg = _release_fit(tmp_path, simulation)
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"key '{key}'" in err and "Traceback" not in err, err


def test_an_output_folder_that_is_a_file_or_unwritable_is_refused_before_fitting(
        tmp_path, capsys):
    """`fit -o FILE` raised FileExistsError (a traceback, exit 1) after the whole fit: now
    exit 2 naming --outdir, before any simulation (plan, design and plot share the check)."""
    cfg = _release_fit(tmp_path)
    (tmp_path / "taken").write_text("")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "taken"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "key '--outdir'" in err and "is a file" in err and "Traceback" not in err, err
    assert main(["fit", str(cfg), "-o", str(tmp_path / "taken" / "below"), "--quiet"]) == 2
    assert "cannot create the output folder" in capsys.readouterr().err
    # from Python the same check names the argument, outdir, not the command's option
    from zn_pde import InputError
    from zn_pde.plan import plan

    with pytest.raises(InputError, match="key 'outdir': the output folder is a file"):
        plan(Path(__file__).parents[1] / "configs" / "plan_us_timing.toml",
             tmp_path / "taken", progress=False)


def test_a_refused_input_leaves_no_empty_output_folder(tmp_path, capsys):
    """`fit -o NEW` with a bad data table, and `plan -o NEW` / `design -o NEW` with a bad
    config, created NEW before refusing (exit 2), leaving an empty folder behind: the folder
    is checked first and created only once the inputs are accepted."""
    cfg = _release_fit(tmp_path)
    (tmp_path / "r.csv").write_text("time_h,pH,released_percent\n1,5.5,abc\n")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "new" / "fit"), "--quiet"]) == 2
    assert "key 'released_percent'" in capsys.readouterr().err
    assert main(["design", str(cfg), "-o", str(tmp_path / "new" / "design"), "--quiet"]) == 2
    capsys.readouterr()
    # refused by the plan's problem (its box moves the exposure past the run's end)
    scenario = Path(__file__).parents[1] / "configs" / "zno_spheroid_ultrasound.toml"
    plan = tmp_path / "p.toml"
    plan.write_text(f'[plan]\nname = "p"\nconfig = "{scenario.as_posix()}"\n'
                    '[plan.controls]\n"ultrasound[0].start_h" = { lower = 1.0, upper = 30.0 }\n')
    assert main(["plan", str(plan), "-o", str(tmp_path / "new" / "plan"), "--quiet"]) == 2
    assert "ultrasound[0].start_h" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs")
def test_a_folder_that_refuses_files_is_refused_though_access_says_writable(tmp_path, capsys):
    """os.access() answers yes to root for /sys/kernel (and on some read-only mounts), where
    creating a file fails: `fit -o /sys/kernel` and `plan -o /sys/kernel` then ended in a
    PermissionError traceback (exit 1) at their first save; now exit 2 naming --outdir."""
    cfg = _release_fit(tmp_path)
    assert main(["fit", str(cfg), "-o", "/sys/kernel", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "key '--outdir'" in err and "not writable" in err and "Traceback" not in err, err
    plan = Path(__file__).parents[1] / "configs" / "plan_us_timing.toml"
    assert main(["plan", str(plan), "-o", "/sys/kernel", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "key '--outdir'" in err and "not writable" in err and "Traceback" not in err, err


def test_a_damaged_resume_state_is_refused_by_name(tmp_path, capsys):
    """A garbage `<name>.resume.npz` gave numpy's ValueError (a traceback, exit 1)."""
    cfg = _release_fit(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "r.resume.npz").write_text("garbage\n")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "key '--resume'" in err and "not a readable interrupted-fit state" in err, err


def test_resume_without_a_saved_state_says_it_starts_afresh_even_when_quiet(tmp_path, capsys):
    """`--resume --quiet` with no `<name>.resume.npz` (a mistyped -o, a fit that finished)
    refitted from the start without a word; the notice was printed only without --quiet."""
    cfg = _release_fit(tmp_path)
    out = tmp_path / "elsewhere"
    assert main(["fit", str(cfg), "-o", str(out), "--resume", "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    err = capsys.readouterr().err
    assert "no interrupted fit in" in err and "starting afresh" in err, err
    assert (out / "r.json").is_file()


def test_no_residual_degree_of_freedom_prints_undecided_as_the_json_says(tmp_path, capsys,
                                                                         monkeypatch):
    """Two values at two pH for the rate and the proton order: the fit interpolates them and
    no degree of freedom is left for an interval. The JSON says `identifiable` null
    (undecided) with the reason; the summary says the same, not 'not identifiable'."""
    monkeypatch.setenv("ZN_PDE_CACHE_DIR", "")
    cfg = _fit_files(tmp_path, "24,10,7.4,20\n24,60,5.5,20\n",
                     "[fit.parameters.dissolution_rate_per_h]\n"
                     "[fit.parameters.dissolution_proton_order]\n")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "guarded.json").read_text())
    for name in ("dissolution_rate_per_h", "dissolution_proton_order"):
        p = report["parameters"][name]
        assert p["identifiable"] is None and p["ci95"] == [None, None]
        assert "no residual degrees of freedom" in p["note"]
        line = next(x for x in out.splitlines() if x.strip().startswith(name))
        assert "identifiability undecided: no residual degrees of freedom" in line
        assert "not identifiable" not in line


def test_a_default_start_outside_a_set_box_is_said_to_be_moved(tmp_path, capsys,
                                                               monkeypatch):
    """Only `lower` set, above the simulation's own rate, and only `upper`, below its proton
    order: each start is moved to that bound (before: silently). The summary notes it,
    naming the parameter, the default start and the bound, as `zn-pde plan` does for a
    scenario's value outside its bounds, and the JSON keeps the default as `default_initial`
    beside the `initial` used."""
    from zn_pde.materials import get_material

    monkeypatch.setenv("ZN_PDE_CACHE_DIR", "")
    default = get_material("ZnO").defaults()
    rate, order = default["dissolution_rate_per_h"], default["dissolution_proton_order"]
    cfg = _fit_files(tmp_path, "24,10,7.4,20\n48,18,7.4,20\n24,60,5.5,20\n",
                     f"[fit.parameters.dissolution_rate_per_h]\nlower = {3 * rate!r}\n"
                     f"[fit.parameters.dissolution_proton_order]\nupper = {order / 2!r}\n")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    out = capsys.readouterr().out
    assert (f"note: the default start of dissolution_rate_per_h, the simulation's own value "
            f"{rate:g}, is outside the bounds: the fit started from its lower bound, "
            f"{3 * rate:g}") in out, out
    assert (f"note: the default start of dissolution_proton_order, the simulation's own value "
            f"{order:g}, is outside the bounds: the fit started from its upper bound, "
            f"{order / 2:g}") in out, out
    report = json.loads((tmp_path / "out" / "guarded.json").read_text())
    p = report["parameters"]
    assert p["dissolution_rate_per_h"]["initial"] == pytest.approx(3 * rate)
    assert p["dissolution_rate_per_h"]["default_initial"] == pytest.approx(rate)
    assert p["dissolution_proton_order"]["initial"] == pytest.approx(order / 2)
    assert p["dissolution_proton_order"]["default_initial"] == pytest.approx(order)


def test_the_fit_figure_draws_the_reported_sd_as_error_bars(tmp_path, monkeypatch):
    """A table with an `sd` column (percent, as the data): one error bar per point, of that
    half-length, and the title says what the bars are (a tester found them missing)."""
    from matplotlib.figure import Figure

    drawn = []
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: drawn.append(self))
    (tmp_path / "release.csv").write_text(
        "time_h,released_percent,pH,sd\n1,5,5.5,1.5\n24,40,5.5,3\n1,1,7.4,0.5\n24,4,7.4,1\n")
    cfg = tmp_path / "fit.toml"
    cfg.write_text('[fit]\nname = "sd"\nobservable = "release"\ndata = "release.csv"\n')
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    (fig,) = drawn
    ax = fig.axes[0]
    bars = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
    assert len(bars) == 4
    half = sorted(float(np.ptp(c.lines[2][0].get_segments()[0][:, 1])) / 2 for c in bars)
    np.testing.assert_allclose(half, [0.5, 1.0, 1.5, 3.0], rtol=1e-6)
    assert "bars: reported SD" in fig.texts[0].get_text()


def test_check_output_free_is_the_python_api_s_guard(tmp_path):
    """docs/fitting.md (Python): fit()/design() replace their files; `check_output_free` is
    the command line's refusal, importable from zn_pde.fit."""
    from zn_pde import InputError
    from zn_pde.fit import check_output_free

    check_output_free(tmp_path, "r", overwrite=False)  # nothing there: no error
    (tmp_path / "r.json").write_text("{}\n")
    with pytest.raises(InputError, match="fit output exists"):
        check_output_free(tmp_path, "r", overwrite=False)
    check_output_free(tmp_path, "r", overwrite=True)


def test_fit_and_design_from_python_name_an_argument_of_the_wrong_type(tmp_path):
    """docs/fitting.md (Python): `fit(path)` (a path where load_fit_config(path) goes) failed
    with "'str' object has no attribute 'fingerprint'", and a number for the output folder
    with a TypeError from pathlib; each is an InputError naming the argument."""
    from zn_pde import InputError
    from zn_pde.fit import design, fit

    path = Path(__file__).parent.parent / "configs" / "fit_zno_release.toml"
    for function in (fit, design):
        with pytest.raises(InputError, match=r"takes a FitConfig.*load_fit_config\(path\)"
                           ) as e:
            function(str(path), tmp_path)
        assert e.value.key == "cfg"
    with pytest.raises(InputError, match=r"the output folder 5 \(int\) is not a path"):
        design(load_fit_config(path), 5)
    # on/off arguments that are not True or False ("no" is truthy) are named, before any work
    cfg = load_fit_config(path)
    for function, flag in ((fit, "resume"), (fit, "quiet"), (fit, "figure"),
                           (design, "refit"), (design, "quiet"), (design, "figure")):
        with pytest.raises(InputError, match=rf"{flag} = 'no' must be True or False") as e:
            function(cfg, tmp_path, **{flag: "no"})
        assert e.value.key == flag
    assert not any(tmp_path.iterdir())


def test_validate_checks_a_fit_config_as_the_fit_would(tmp_path, capsys):
    """`zn-pde validate FIT.toml` (the README's "check a config") was exit 2 with "key 'fit':
    unknown section" for every fit config: it now makes the fit's checks without fitting and
    prints the resolved fit config, which reads back as the same fit."""
    import tomllib

    cfg = _fit_files(tmp_path, "1,1.5,5.5,2\n24,30,5.5,2\n48,0.6,7.4,2\n",
                     "[fit.parameters.dissolution_proton_order]\nfixed = true\ninitial = 1.1\n")
    assert main(["validate", str(cfg), "--set", "fit.starts=2"]) == 0
    out = capsys.readouterr().out
    assert "valid fit config" in out and "3 rows" in out
    resolved = tomllib.loads(out)["fit"]
    assert resolved["starts"] == 2 and resolved["observable"] == "release"
    assert resolved["parameters"]["dissolution_proton_order"] == {"initial": 1.1, "fixed": True}
    assert set(resolved["parameters"]) == {"dissolution_rate_per_h", "dissolution_proton_order"}
    again = tmp_path / "resolved.toml"
    again.write_text(out)
    assert main(["validate", str(again)]) == 0
    body = out[out.index("[fit]"):]
    assert capsys.readouterr().out.endswith(body)
    # the fit's data warnings and table errors, as `zn-pde fit` gives them
    (tmp_path / "release.csv").write_text(HEADER + "1,0.5,5.5,2\n24,0.9,5.5,2\n")
    assert main(["validate", str(cfg)]) == 0
    assert "looks like fractions" in capsys.readouterr().out
    (tmp_path / "release.csv").write_text(HEADER + "1,abc,5.5,2\n")
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "'abc' at line 2" in err and "Traceback" not in err


def test_validate_s_resolved_config_keeps_the_experiment_and_the_design(tmp_path, capsys):
    """The resolved fit config `zn-pde validate` prints left out [fit.simulation] (and
    [design]): read back, a release fit in water ran in culture medium, another fit. It now
    keeps both, and the experiment read back is the same."""
    import tomllib

    from zn_pde.fit import load_fit_config

    cfg = _fit_files(tmp_path, "1,1.5,5.5,2\n24,30,5.5,2\n48,0.6,7.4,2\n",
                     '[fit.simulation.medium]\ncomposition = "water"\n'
                     "[fit.simulation.time]\ndt_s = 150.0\n"
                     "[design]\ncandidates = { time_h = [1, 6], pH = [6.5, 7.4] }\n")
    assert main(["validate", str(cfg)]) == 0
    out = capsys.readouterr().out
    resolved = tomllib.loads(out)
    assert resolved["fit"]["simulation"] == {"medium": {"composition": "water"},
                                             "time": {"dt_s": 150.0}}
    assert resolved["design"] == {"candidates": {"time_h": [1, 6], "pH": [6.5, 7.4]}}
    again = tmp_path / "resolved.toml"
    again.write_text(out)
    assert load_fit_config(again).simulation == load_fit_config(cfg).simulation
    assert main(["validate", str(again)]) == 0
    assert capsys.readouterr().out.endswith(out[out.index("[fit]"):])


def test_validate_names_a_plan_config_for_what_it_is(tmp_path, capsys):
    plan = tmp_path / "plan.toml"
    plan.write_text('[plan]\nname = "p"\nconfig = "tumour.toml"\n')
    assert main(["validate", str(plan)]) == 2
    err = capsys.readouterr().err
    assert "a plan config" in err and "zn-pde validate tumour.toml" in err
    assert "unknown section" not in err


@pytest.mark.parametrize("dt_s, times", [(4e7, "24"), (86400, "9999")])
def test_a_step_too_long_for_the_fit_s_run_names_the_step(tmp_path, capsys, dt_s, times):
    """The fit sets time.end_h (whole steps to the latest read-out): a dt_s of 4e7 s, or
    86400 s with a read-out at 9999 h, was refused as "key 'time.end_h': value ... out of
    range", a key the fit refuses to take. It names the step the user set."""
    (tmp_path / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h\n"
                                    f"4,98,{times}\n8,90,{times}\n")
    cfg = tmp_path / "fit.toml"
    cfg.write_text('[fit]\nname = "late"\nobservable = "viability"\ndata = "v.csv"\n'
                   f"[fit.simulation.time]\ndt_s = {dt_s}\n")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "key 'fit.simulation.time.dt_s'" in err and "end_h'" not in err


def _viability_figure(tmp_path, monkeypatch, name: str, rows: str,
                      header: str = "concentration_ug_per_ml,viability_percent,exposure_h"):
    """The figure of a quick viability fit of `rows` (one exposure time), as drawn."""
    from matplotlib.figure import Figure

    drawn = []
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: drawn.append(self))
    (tmp_path / "viability.csv").write_text(header + "\n" + rows)
    cfg = tmp_path / "fit.toml"
    cfg.write_text(f'[fit]\nname = "{name}"\nobservable = "viability"\n'
                   'data = "viability.csv"\n')
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    (fig,) = drawn
    return fig


def test_model_lines_sharing_a_viability_panel_can_be_told_apart(tmp_path, monkeypatch):
    """A panel with several model lines (one exposure time at two pH, or with and without
    ultrasound) drew them all solid black, so their legend entries could not be told apart.
    They now differ in dash."""
    from matplotlib.figure import Figure

    drawn = []
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: drawn.append(self))
    (tmp_path / "viability.csv").write_text(
        "concentration_ug_per_ml,viability_percent,exposure_h,pH\n"
        "5,95,24,7.4\n50,60,24,7.4\n5,90,24,6.5\n50,40,24,6.5\n")
    cfg = tmp_path / "fit.toml"
    cfg.write_text('[fit]\nname = "two_ph"\nobservable = "viability"\n'
                   'data = "viability.csv"\n')
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    (fig,) = drawn
    (ax,) = [a for a in fig.axes if a.get_visible()]
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("model")]
    assert len(lines) == 2
    assert len({(ln.get_color(), ln.get_linestyle()) for ln in lines}) == 2


def test_release_model_lines_take_their_data_s_colour_under_curve_by(tmp_path, monkeypatch):
    """A release line's colour was looked up by its label, which `curve_by` words
    otherwise ("pH 7.40" from the table against the line's "pH 7.4"): every line was drawn
    black, none could be told to belong to its points. Each takes its rows' colour."""
    from matplotlib.colors import to_hex
    from matplotlib.figure import Figure

    drawn = []
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: drawn.append(self))
    cfg = _fit_files(tmp_path, "24,10,7.40,20\n48,18,7.40,20\n2,40,5.50,20\n6,70,5.50,20\n",
                     'curve_by = ["pH"]\n')
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    (fig,) = drawn
    (ax,) = [a for a in fig.axes if a.get_visible()]
    points = {c.get_label(): to_hex(c.get_facecolor()[0]) for c in ax.collections
              if len(c.get_offsets()) and not c.get_label().startswith("_")}
    lines = {ln.get_label(): to_hex(ln.get_color()) for ln in ax.get_lines()
             if ln.get_label().startswith("model")}
    assert points.keys() == {"pH 7.40", "pH 5.50"}, points
    assert lines == {"model pH 7.4": points["pH 7.40"], "model pH 5.5": points["pH 5.50"]}


def test_the_title_of_a_one_panel_viability_figure_stays_on_the_page(tmp_path, monkeypatch):
    """One exposure time (most published series) gives one 4.6 in panel: the title, a name
    of 14 characters and the metrics, ran past both edges of the figure (a user's fit of
    the compilation's A549 WST-1 series, 'user_a549_wst1', lost its first and last letters)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _viability_figure(tmp_path, monkeypatch, "user_a549_wst1",
                            "1,98,48\n5,97,48\n50,65,48\n125,50,48\n250,20,48\n1000,10,48\n")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    title = fig._suptitle.get_window_extent(canvas.get_renderer())
    assert "user_a549_wst1" in fig._suptitle.get_text()
    assert title.x0 >= 0 and title.x1 <= fig.bbox.x1, (title, fig.bbox)


def test_the_legend_of_a_viability_panel_hides_no_data_point(tmp_path, monkeypatch):
    """A user's fit of the compilation's A549 WST-1 series (groups 39 and 40, 48 h): the
    legend, two series named by cell line, assay and size and the model line, drawn inside
    the one panel (loc "best", opaque frame) where every place held data, hid the points at
    50 and 125 ug/mL; a HepG2 MTT fit (groups 5 and 6) lost those at 80 ug/mL. The figure
    must show every point it fits."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rows = "".join(f"{c},{v},48,{g},A549,WST-1,67.0\n" for g, pts in (
        (39, ((0.5, 101.0), (5, 101.7), (50, 66.5), (125, 55.2), (250, 25.1), (500, 10.1),
              (1000, 9.4))),
        (40, ((0.5, 97.7), (5, 99.8), (50, 62.5), (125, 10.1), (250, 9.2), (500, 14.6),
              (1000, 27.2)))) for c, v in pts)
    fig = _viability_figure(tmp_path, monkeypatch, "user_a549_wst1", rows,
                            "concentration_ug_per_ml,viability_percent,exposure_h,group_id,"
                            "cell_line,assay,size_nm")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    (ax,) = [a for a in fig.axes if a.get_visible()]
    legend = ax.get_legend().get_window_extent(renderer)
    points = np.concatenate([c.get_offset_transform().transform(c.get_offsets())
                             for c in ax.collections if len(c.get_offsets())])
    assert len(points) == 14
    hidden = [p for p in points if legend.contains(*p)]
    assert not hidden, (legend, hidden)
    title = fig._suptitle.get_window_extent(renderer)
    assert not legend.overlaps(title) and legend.y0 >= 0, (legend, title)


def test_a_viability_row_without_a_stimulus_is_one_line_not_one_per_row(tmp_path):
    """An empty stimulus cell is a row without that stimulus (docs/fitting.md); the figure's
    model lines were keyed by a set of tuples holding NaN for it, and NaN != NaN, so every
    such row drew its own copy of the same line (legend entries 'dashed: coincides with')
    and the IC50 table was read on whichever copy came last."""
    from zn_pde.fit._report import dense_curves

    (tmp_path / "v.csv").write_text(
        "concentration_ug_per_ml,viability_percent,exposure_h,ultrasound_W_per_cm2\n"
        "3,90,4,\n9,80,4,\n27,75,4,\n3,70,4,1.5\n9,60,4,1.5\n")
    (tmp_path / "fit.toml").write_text(
        '[fit]\nname = "empty_cells"\nobservable = "viability"\ndata = "v.csv"\n'
        "[[fit.simulation.ultrasound]]\nstart_h = 1.0\nduration_min = 1.0\n")
    problem = build_problem(load_fit_config(tmp_path / "fit.toml"))
    curves = dense_curves(problem, np.log(problem.free.initial))
    assert [c["label"] for c in curves] == ["4 h", "4 h, ultrasound_W_per_cm2 1.5"]
    assert [list(c["rows"]) for c in curves] == [[0, 1, 2], [3, 4]]


def test_an_evaluation_with_every_parameter_fixed_computes_no_profile(tmp_path, capsys,
                                                                      monkeypatch):
    """`profile = "auto"` is on for a release fit with at most 3 free parameters, and 0 is
    at most 3: an evaluation (nothing fitted) said "profile likelihood" on stderr and wrote
    an empty profile with a likelihood-ratio threshold for no parameter. Nothing is
    profiled, as with profile = false."""
    monkeypatch.setenv("ZN_PDE_CACHE_DIR", "")
    cfg = _fit_files(tmp_path, "24,10,7.4,20\n24,60,5.5,20\n",
                     "[fit.parameters.dissolution_rate_per_h]\nfixed = true\n"
                     "[fit.parameters.dissolution_proton_order]\nfixed = true\n")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "nothing fitted" in err and "profile likelihood" not in err, err
    report = json.loads((tmp_path / "out" / "guarded.json").read_text())
    assert report["evaluation_only"] is True and report["profile"] is None


def test_the_figure_lines_and_ic50_run_the_rows_protocol(tmp_path):
    """The model lines (and the IC50 read on them) of a viability table with `wash_h` and
    `stimulus_h` ran without those columns: particles on the cells for the whole exposure
    and the exposure at the template's time. A user's washed SDT series drew lines far
    below every point that the fit's own predictions matched (an IC50 of 12.6 ug/mL at 24 h
    where 80 ug/mL left 71 % alive). Each line now passes through its rows' predictions:
    rows at 3 and 9 ug/mL, whose figure doses geomspace(3 / 3, 9 x 3, 40) hold at indices
    13 and 26."""
    from zn_pde.fit._report import N_DENSE, dense_curves

    assert N_DENSE == 40
    (tmp_path / "v.csv").write_text(
        "concentration_ug_per_ml,viability_percent,exposure_h,ultrasound_W_per_cm2,wash_h,"
        "stimulus_h\n3,90,8,0,2,3\n9,80,8,0,2,3\n3,70,8,1.5,2,3\n9,60,8,1.5,2,3\n")
    (tmp_path / "fit.toml").write_text(
        '[fit]\nname = "washed"\nobservable = "viability"\ndata = "v.csv"\n'
        "[[fit.simulation.ultrasound]]\nstart_h = 1.0\nduration_min = 1.0\n")
    problem = build_problem(load_fit_config(tmp_path / "fit.toml"))
    x = np.log(problem.free.initial)
    rows = np.asarray(problem.prediction(x), float)
    curves = dense_curves(problem, x)
    assert len(curves) == 2, [c["label"] for c in curves]
    for c in curves:
        assert np.allclose(c["x"][[13, 26]], [3.0, 9.0], rtol=1e-9)
        assert c["y"][[13, 26]] == pytest.approx(rows[c["rows"]], abs=1e-6), c["label"]
    assert abs(rows[0] - rows[2]) > 0.01  # the ultrasound acts: the lines differ


def test_the_fit_figure_says_which_rows_its_log_axis_cannot_show(tmp_path, monkeypatch):
    """Rows at 0 ug/mL (the untreated control a user copies in with the series) are fitted
    and counted in n and r², but a log concentration axis has no place for them: they were
    left out of the figure without a word."""
    fig = _viability_figure(tmp_path, monkeypatch, "controls",
                            "0,100,48\n0,99,48\n1,98,48\n5,97,48\n50,65,48\n250,20,48\n")
    title = " ".join(fig._suptitle.get_text().split())
    assert "n = 6" in title
    assert "2 rows at 0 µg/mL not drawn (log axis)" in title, title


@pytest.mark.parametrize("bound, value, default", [("upper", 1e-5, "lower"),
                                                   ("lower", 20.0, "upper")])
def test_one_bound_beyond_the_default_box_names_the_other_as_a_default(tmp_path, capsys,
                                                                       bound, value, default):
    """Only `upper` (or `lower`) set, beyond the default box around the simulation's value:
    the refusal printed a box '[0.000738, 1e-05]' whose other end the user never wrote. It
    now says which end is the default, where it comes from and what to set."""
    (tmp_path / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h\n"
                                    "5,90,24\n50,60,24\n")
    cfg = tmp_path / "fit.toml"
    cfg.write_text('[fit]\nname = "box"\nobservable = "viability"\ndata = "v.csv"\n'
                   f"[fit.parameters.uptake_rate_per_h]\n{bound} = {value}\n")
    assert main(["validate", str(cfg)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "key 'fit.parameters.uptake_rate_per_h'" in err, err
    assert f"{default} = " in err and "the default" in err, err
    assert f"set fit.parameters.uptake_rate_per_h.{default}" in err, err
    assert "Traceback" not in err


def test_a_profile_crossing_whose_extra_step_is_rejected_is_not_settled():
    """A crossing the step limit stopped gets one more L-M step; a rejected one (μ too small
    for the curvature) gains nothing and so shows nothing: μ is raised until a step is
    accepted, and a crossing whose SSR then falls is `unsettled`, not the data's limit.
    Here the other parameter sits behind an arctan residual whose Gauss-Newton step
    overshoots: with one re-optimisation step the profile of `a` crosses at ± 0.38 in ln
    units where the converged profile crosses at ± 0.62."""

    from zn_pde.fit._parameters import FreeSet
    from zn_pde.fit._uncertainty import profile_likelihood

    e = np.array([0.3, -0.3, 0.3, -0.3, 0.0])

    def res(x):
        return np.concatenate([x[0] + e, [math.atan(10 * (x[1] - x[0]))]])

    def jac(x):
        j = np.zeros((6, 2))
        j[:5, 0] = 1.0
        g = 10 / (1 + 100 * (x[1] - x[0]) ** 2)
        j[5] = [-g, g]
        return j

    def rj(xs):
        return np.array([res(x) for x in xs]), np.array([jac(x) for x in xs])

    def loss(xs):
        return np.array([0.5 * np.sum(res(x) ** 2) for x in xs])

    free = FreeSet(("a", "b"), ("", ""), np.ones(2), np.exp([-5.0, -5.0]),
                   np.exp([5.0, 5.0]), {}, ())
    x_hat = np.zeros(2)
    se = math.sqrt(0.2) * 0.5
    gn = {"t": 2.776, "residual_scale": 0.5,
          "parameters": {"a": {"se_ln": se}, "b": {"se_ln": se}}}
    short = profile_likelihood(rj, loss, x_hat, float(loss(x_hat[None])[0]), free, gn,
                               lm_steps=1)["parameters"]["a"]
    assert short["unsettled"] == ["lower", "upper"]
    full = profile_likelihood(rj, loss, x_hat, float(loss(x_hat[None])[0]), free, gn,
                              lm_steps=25)["parameters"]["a"]
    assert "unsettled" not in full
    assert math.log(full["ci95"][1]) == pytest.approx(2.776 * se, rel=1e-3)


def test_a_profile_bisection_from_an_optimum_whose_derivatives_failed_does_not_raise():
    """A crossing far above the threshold is bisected towards, each point continued from its
    inner neighbour by least squares on the Jacobian there; at an optimum whose Jacobian is
    not finite (`derivatives_warning`: here |u| differentiated as u/|u| at u = 0) lstsq
    raised LinAlgError ('SVD did not converge') and the whole fit with it. Without a
    direction the point is started from the neighbour's others as they stand; the limits
    are those of the same problem with the derivative there taken as 0."""
    from zn_pde.fit._parameters import FreeSet
    from zn_pde.fit._uncertainty import gauss_newton, profile_likelihood

    rng = np.random.default_rng(5)
    a = rng.normal(size=(8, 2))
    a[:, 1] += 0.5 * a[:, 0]
    y = rng.normal(size=8) * 0.2
    x_hat = np.linalg.lstsq(a, y, rcond=None)[0]
    free = FreeSet(("a", "b"), ("", ""), np.ones(2), np.exp([-5.0, -5.0]),
                   np.exp([5.0, 5.0]), {}, ())

    def res(x):
        return np.concatenate([a @ x - y, [0.1 * np.linalg.norm(x - x_hat)]])

    def limits(kink: float) -> list[float]:
        def jac(x):
            j = np.zeros((9, 2))
            j[:8] = a
            u = x - x_hat
            j[8] = 0.1 * (u / np.linalg.norm(u) if u.any() else kink)
            return j

        def rj(xs):
            return np.array([res(x) for x in xs]), np.array([jac(x) for x in xs])

        def loss(xs):
            return np.array([0.5 * np.sum(res(x) ** 2) for x in xs])

        gn = gauss_newton(res(x_hat), jac(x_hat), x_hat, free, 9, False)
        if not math.isfinite(kink):  # the optimum's own Jacobian fails: GN has no se
            assert gn["parameters"]["a"]["ci95"] is None
        prof = profile_likelihood(rj, loss, x_hat, float(loss(x_hat[None])[0]), free, gn,
                                  jtj=jac(x_hat).T @ jac(x_hat))
        return [v for n in ("a", "b") for v in prof["parameters"][n]["ci95"]]

    assert limits(math.nan) == pytest.approx(limits(0.0), rel=1e-3)


def test_a_profile_crossing_the_widened_box_confirms_is_interpolated_on_the_wide_profile():
    """A crossing where another parameter was pressed onto its box's bound is re-optimised
    with that box widened; confirmed, it is the data's limit, interpolated at the wide box's
    SSR. Its inner neighbour, pressed too, kept the narrow box's SSR, so the limit was
    interpolated between two profiles, matching neither: here (a linear model, b's box ending
    0.05 above its optimum) a's lower limit came out 0.839 below the optimum in ln units
    where the narrow box's profile gives 0.793 and the data's (the wide box's, quadratic)
    t·se = 0.982. The pressed inner neighbour is re-optimised in the wide box as well."""
    from zn_pde.fit._parameters import FreeSet
    from zn_pde.fit._uncertainty import gauss_newton, profile_likelihood

    rng = np.random.default_rng(7)
    a = rng.normal(size=(8, 2))
    a[:, 1] += 0.8 * a[:, 0]
    y = rng.normal(size=8) * 0.2
    x_hat = np.linalg.lstsq(a, y, rcond=None)[0]  # inside the box below
    free = FreeSet(("a", "b"), ("", ""), np.ones(2), np.exp([-5.0, -5.0]),
                   np.exp([5.0, x_hat[1] + 0.05]), {}, ())

    def rj(xs):
        return np.array([a @ x - y for x in xs]), np.array([a for _ in xs])

    def loss(xs):
        return np.array([0.5 * np.sum((a @ x - y) ** 2) for x in xs])

    gn = gauss_newton(a @ x_hat - y, a, x_hat, free, 8, False)
    prof = profile_likelihood(rj, loss, x_hat, float(loss(x_hat[None])[0]), free, gn,
                              jtj=a.T @ a)["parameters"]["a"]
    assert "box_pressed" not in prof and "unsettled" not in prof
    half = gn["t"] * gn["parameters"]["a"]["se_ln"]  # 0.982
    assert math.log(prof["ci95"][0]) == pytest.approx(x_hat[0] - half, abs=1e-6)
    assert math.log(prof["ci95"][1]) == pytest.approx(x_hat[0] + half, abs=1e-6)


def test_a_profile_side_handed_on_by_a_late_crossing_is_bisected_too():
    """One release point (40 +- 3 % at 2 h, weighted) fixes k = k0 10^(1.9 n) only: n's
    profile is flat until k0, compensating, reaches the lower edge of its box, at
    n = log10(k/k0_lo)/1.9 (2.32; Δ = 3.84 at 2.36). With one re-optimisation step the upper
    side first crossed at n = 1.26 (Δ 5.6, stopped by the step limit); its extra step (the
    late crossing's check) brought it to Δ 0.03, handing the side to the box's edge point,
    stalled on the saturated release (Δ 400, settled): that crossing, far above the
    threshold, was never bisected, and the side closed at n = 1.37 as the data's limit. A
    side handed on so is bisected towards in turn (and its new crossing late-checked): it
    ends where k0's box does, and says so."""
    from zn_pde.fit._parameters import FreeSet
    from zn_pde.fit._uncertainty import profile_likelihood

    k_obs = -math.log(0.6) / 2.0

    def res(x):
        k = math.exp(x[0]) * 10 ** (1.9 * math.exp(x[1]))
        return np.array([(0.6 - math.exp(-2.0 * k)) / 0.03])

    def jac(x):
        k = math.exp(x[0]) * 10 ** (1.9 * math.exp(x[1]))
        d = 2.0 * k * math.exp(-2.0 * k) / 0.03
        return np.array([[d, d * math.log(10) * 1.9 * math.exp(x[1])]])

    def rj(xs):
        return np.array([res(x) for x in xs]), np.array([jac(x) for x in xs])

    def loss(xs):
        return np.array([0.5 * np.sum(res(x) ** 2) for x in xs])

    free = FreeSet(("k0", "n"), ("", ""), np.ones(2), np.array([1e-5, 0.1]),
                   np.array([10.0, 4.0]), {}, ())
    x_hat = np.array([math.log(k_obs / 10 ** 0.95), math.log(0.5)])  # n = 0.5, exact
    gn = {"t": 1.959964, "residual_scale": 1.0,
          "parameters": {"k0": {"se_ln": None}, "n": {"se_ln": None}}}
    prof = profile_likelihood(rj, loss, x_hat, 0.0, free, gn, lm_steps=1,
                              jtj=jac(x_hat).T @ jac(x_hat))["parameters"]["n"]
    assert prof["ci95"][0] is None
    assert prof["ci95"][1] == pytest.approx(math.log10(k_obs / 1e-5) / 1.9, rel=0.02)
    assert prof["box_pressed"] == {"upper": ["k0"]}


def test_an_exact_unweighted_fit_has_no_profile_thresholds_and_no_warning():
    """Residuals exactly 0 without sd: s² = SSR/dof = 0, so ΔSSR/s² is undefined everywhere
    (it divided by zero, with RuntimeWarnings, and bisected 'jumps' of infinite Δ). The profile
    says why it has no thresholds instead, as with no degrees of freedom."""
    from zn_pde.fit._parameters import FreeSet
    from zn_pde.fit._uncertainty import gauss_newton, profile_likelihood

    a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])

    def rj(xs):
        return np.array([a @ x for x in xs]), np.array([a for _ in xs])

    def loss(xs):
        return np.array([0.5 * np.sum((a @ x) ** 2) for x in xs])

    free = FreeSet(("a", "b"), ("", ""), np.ones(2), np.exp([-5.0, -5.0]),
                   np.exp([5.0, 5.0]), {}, ())
    x_hat = np.zeros(2)
    r, jac = rj(x_hat[None])
    gn = gauss_newton(r[0], jac[0], x_hat, free, 3, False)
    assert gn["residual_scale"] == 0.0
    prof = profile_likelihood(rj, loss, x_hat, 0.0, free, gn)
    assert "parameters" not in prof and "exact" in prof["note"]


def test_a_profile_from_an_optimum_on_its_bound_is_not_read_as_quadratic():
    """r = ln a + 0.5 + e (5 rows, sd 1) with ln a's box from 0: the optimum sits on the lower
    bound and the profile rises linearly from it, Δ(x) = 5 ((x + 0.5)² − 0.25), so
    interpolating √Δ from the optimum (0) to the first point placed the upper limit at 0.553
    where Δ = 3.84 at x = 0.509. Such a first crossing is bisected towards."""
    from zn_pde.fit._parameters import FreeSet
    from zn_pde.fit._uncertainty import gauss_newton, profile_likelihood

    e = np.array([0.3, -0.3, 0.2, -0.2, 0.0])

    def rj(xs):
        return (np.array([x[0] + 0.5 + e for x in xs]),
                np.array([np.ones((5, 1)) for _ in xs]))

    def loss(xs):
        return 0.5 * np.sum(rj(xs)[0] ** 2, axis=1)

    free = FreeSet(("a",), ("",), np.ones(1), np.ones(1), np.exp([5.0]), {}, ())
    x_hat = np.zeros(1)
    r, jac = rj(x_hat[None])
    gn = gauss_newton(r[0], jac[0], x_hat, free, 5, True)
    prof = profile_likelihood(rj, loss, x_hat, float(loss(x_hat[None])[0]), free, gn)
    upper = math.log(prof["parameters"]["a"]["ci95"][1])
    exact = math.sqrt(0.25 + 3.841458820694124 / 5.0) - 0.5  # 0.509
    assert upper == pytest.approx(exact, abs=0.01)


def test_the_summary_says_which_constants_to_carry_into_a_simulation():
    """The JSON's `kinetics` holds every constant of the fit's model, "ready to paste" as the
    docs said: pasted whole into a ZnO2 config it kept ZnO's chemistry (no H2O2), and into
    any config it pinned the tissue diffusivities against a later tissue.tortuosity. The
    summary now names the fitted constants as [kinetics] keys, which carry the fit alone."""
    import tomllib

    from zn_pde.config import resolve
    from zn_pde.config._load import other_material_notes
    from zn_pde.fit import carry_line
    from zn_pde.materials import MATERIALS

    zno = MATERIALS["ZnO"].defaults()
    report = {"material": "ZnO", "parameters": {
        "uptake_rate_per_h": {"value": 0.0328733, "fixed": False},
        "energy_kill_max_per_h": {"value": 0.0693453, "fixed": False},
        "energy_kill_hill": {"value": 1.8813, "fixed": False},
        "mt_capacity_uM": {"value": 20.0, "fixed": True}},
        "kinetics": dict(zno)}
    line = carry_line(report)
    assert "mt_capacity_uM" not in line  # held at the model's value: nothing to carry
    keys = line.split("[kinetics]: ")[1].split(" (and")[0]
    kinetics = tomllib.loads(keys.replace(", ", "\n"))
    assert kinetics == {"uptake_rate_per_h": 0.0328733, "energy_kill_max_per_h": 0.0693453,
                        "energy_kill_hill": 1.8813}
    raw = {"material": {"kind": "ZnO2"}, "kinetics": kinetics}
    config = resolve(raw, "carried.toml")
    assert config["kinetics"]["coproduct_per_zn"] == 1.0
    assert config["kinetics"]["uptake_rate_per_h"] == 0.0328733
    assert other_material_notes(raw, config) == []
    whole = {"material": {"kind": "ZnO2"}, "kinetics": dict(zno)}
    assert other_material_notes(whole, resolve(whole, "whole.toml"))  # what the line warns of
    assert carry_line({**report, "evaluation_only": True}) is None


def test_the_carry_line_names_a_constant_held_at_an_initial_of_the_fit_config(
        tmp_path, capsys, monkeypatch):
    """A constant held by `fixed = true` at an `initial` of its own is part of the fitted
    model: the summary's [kinetics] keys left it out (a viability fit with the Hill exponent
    held at 2.5, against the simulation's 1.69, printed only uptake and kill rate, so a
    config following the line simulated another model). The line names it; the JSON keeps
    the `initial` it was held at; one held at the simulation's value stays out."""
    import tomllib

    from zn_pde.materials import get_material

    monkeypatch.setenv("ZN_PDE_CACHE_DIR", "")
    order = 2 * get_material("ZnO").defaults()["dissolution_proton_order"]
    cfg = _fit_files(tmp_path, "24,10,7.4,20\n48,18,7.4,20\n24,60,5.5,20\n",
                     f"[fit.parameters.dissolution_proton_order]\ninitial = {order!r}\n"
                     "fixed = true\n")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    out = capsys.readouterr().out
    keys = out.split("add to a config's [kinetics]: ")[1].split(" (and")[0]
    carried = tomllib.loads(keys.replace(", ", "\n"))
    assert set(carried) == {"dissolution_rate_per_h", "dissolution_proton_order"}, out
    assert carried["dissolution_proton_order"] == pytest.approx(order, rel=1e-5)
    report = json.loads((tmp_path / "out" / "guarded.json").read_text())
    held = report["parameters"]["dissolution_proton_order"]
    assert held["fixed"] is True and held["initial"] == pytest.approx(order)
    assert report["kinetics"]["dissolution_proton_order"] == pytest.approx(order)


def test_the_gauss_newton_interval_of_a_parameter_on_its_box_edge_is_a_pair(tmp_path):
    """A parameter whose optimum lies on its box's edge has no local interval: its `ci95`
    was [null, null], the contract's pair, but `ci95_gauss_newton` beside it was a bare
    null (a user's Lymphocyte 3 h fit, its Hill exponent on the box's lower edge 0.5), so
    `lo, hi = p["ci95_gauss_newton"]` failed on one parameter of the report only."""
    cfg = _fit_files(tmp_path, "24,5,7.4,20\n72,14,7.4,20\n120,21,7.4,20\n",
                     "[fit.parameters.dissolution_rate_per_h]\ninitial = 1e-4\n"
                     "upper = 5e-4\n[fit.parameters.dissolution_proton_order]\nfixed = true\n")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    rate = json.loads((tmp_path / "out" / "guarded.json").read_text()
                      )["parameters"]["dissolution_rate_per_h"]
    assert rate["at_bound"] == "upper", rate
    assert rate["ci95"] == [None, None] and rate["ci95_gauss_newton"] == [None, None], rate


def test_a_parameter_on_its_box_edge_that_no_profile_side_bounds_is_said_to_be_on_it(tmp_path,
                                                                                    capsys):
    """The proton order pressed onto its upper bound (0.3; the pH 6.5 point wants more), one
    residual degree of freedom, so the profile bounds neither side: the summary printed
    'not identifiable: the profile does not reach the 95 % threshold on the lower and upper
    side before the edge of the box', silent that the value printed, 0.3, is that edge (a
    user's Lymphocyte 3 h fit printed its Hill exponent 0.5, the box's lower edge, so). The
    note now says so, as it does where the profile bounds the other side."""
    cfg = _fit_files(tmp_path, "24,2,7.4,20\n120,10,7.4,20\n24,30,6.5,20\n",
                     "[fit.parameters.dissolution_proton_order]\ninitial = 0.2\n"
                     "lower = 0.01\nupper = 0.3\n")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST] + ["--set=fit.profile=true"]) == 0
    order = json.loads((tmp_path / "out" / "guarded.json").read_text()
                       )["parameters"]["dissolution_proton_order"]
    assert order["at_bound"] == "upper" and order["identifiable"] is False, order
    assert order["note"].startswith("the optimum lies on the upper bound of the box"), order
    out = capsys.readouterr().out
    assert "dissolution_proton_order = 0.3 1  not identifiable: the optimum lies on the upper " \
           "bound of the box" in out, out


# --- derived quantities beyond the measured range ----------------------------------------------

def test_an_ic50_beyond_the_highest_measured_dose_is_reported_as_extrapolated(tmp_path,
                                                                               capsys):
    """At 24 h the cells lose at most 30 % up to the highest dose, 20 ug/mL, yet the model's
    IC50 there (~30 ug/mL) was printed in the JSON's `derived` like the 48 h one the doses
    bracket, and the 4PL's IC50 of that curve likewise: nothing said either was the
    model's extrapolation. Both are now flagged (JSON extra keys, the summary); the
    existing keys keep their values."""
    (tmp_path / "v.csv").write_text(
        "concentration_ug_per_ml,viability_percent,exposure_h\n"
        "1,100,24\n5,96,24\n10,88,24\n20,72,24\n1,99,48\n5,85,48\n10,60,48\n20,30,48\n")
    cfg = tmp_path / "fit.toml"
    cfg.write_text('[fit]\nname = "beyond"\nobservable = "viability"\ndata = "v.csv"\n')
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    out = capsys.readouterr().out
    d = json.loads((tmp_path / "out" / "beyond.json").read_text())["derived"]
    ic50 = d["ic50_ug_per_ml"]
    assert ic50["24 h"] > 20.0 and 1.0 < ic50["48 h"] < 20.0  # the case this test is about
    assert d["extrapolated"] == {"24 h": True, "48 h": False}
    assert d["extrapolated_side"] == {"24 h": "above"}
    assert d["measured_dose_range_ug_per_ml"] == {"24 h": [1.0, 20.0], "48 h": [1.0, 20.0]}
    line = next(x for x in out.splitlines() if x.startswith("  model IC50"))
    assert "24 h" in line.split("EXTRAPOLATED")[0]
    assert line.count("EXTRAPOLATED") == 1 and "above the highest measured dose, 20" in line
    empirical = json.loads((tmp_path / "out" / "beyond.json").read_text())["empirical"]
    for c in empirical["log_logistic_4p"]["curves"]:
        p = c["parameters"]["ic50_ug_per_ml"]
        if p["value"] is not None:
            assert p["extrapolated"] == (not 1.0 <= p["value"] <= 20.0), (c["curve"], p)


def test_a_time_to_half_release_before_the_first_measured_time_is_flagged(tmp_path):
    """The release counterpart (`derived.t50_h`): a vial measured only after half its
    particles dissolved has a model t50 no measurement brackets; one inside its times is
    not flagged, nor is a curve that never reaches 50 %."""
    from zn_pde.fit._report import derived, derived_text

    cfg = _fit_files(tmp_path, "2,80,5.5,20\n6,95,5.5,20\n1,10,6.5,20\n24,70,6.5,20\n"
                               "24,2,7.4,20\n")
    problem = build_problem(load_fit_config(cfg))
    t = np.linspace(0.0, 24.0, 97)
    rows = {ph: np.flatnonzero(problem.table.numbers["pH"] == ph) for ph in (5.5, 6.5, 7.4)}
    curves = [{"label": "pH 5.5", "x": t, "y": 100 * (1 - np.exp(-t)), "rows": rows[5.5]},
              {"label": "pH 6.5", "x": t, "y": 100 * (1 - np.exp(-t / 12)),
               "rows": rows[6.5]},
              {"label": "pH 7.4", "x": t, "y": 0.1 * t, "rows": rows[7.4]}]
    d = derived(problem, curves)
    assert d["t50_h"]["pH 5.5"] == pytest.approx(math.log(2), abs=0.05)
    assert d["extrapolated"] == {"pH 5.5": True, "pH 6.5": False, "pH 7.4": False}
    assert d["extrapolated_side"] == {"pH 5.5": "below"}
    assert d["measured_time_range_h"]["pH 5.5"] == [2.0, 6.0]
    text = derived_text(d)
    assert "pH 5.5: 0.699 h (EXTRAPOLATED: before the earliest measured time, 2 h)" in text
    assert "pH 7.4: not reached" in text and text.count("EXTRAPOLATED") == 1


# --- bounds (relation <=, >=) -------------------------------------------------------------------

def test_a_bound_row_s_residual_is_a_hinge_on_the_scale_of_the_values(tmp_path):
    """docs/fitting.md: a bound enters the fit as a one-sided residual, zero while it holds
    and linear in the violation, divided by the row's sd as a value's residual is; its
    derivative is zero while it holds. (This held before the test was written; it pins it.)"""
    import jax.numpy as jnp

    (tmp_path / "release.csv").write_text(
        "time_h,released_percent,pH,sd,relation\n"
        "24,10,7.4,2,=\n24,30,6.5,4,<=\n1,80,4.7,5,>=\n")
    cfg = tmp_path / "fit.toml"
    cfg.write_text('[fit]\nname = "bounds"\nobservable = "release"\ndata = "release.csv"\n')
    problem = build_problem(load_fit_config(cfg))
    assert problem.kind.tolist() == [0, 1, 2] and problem.n_points == 1
    holds = np.array([12.0, 25.0, 90.0])  # <= 30 and >= 80 hold
    np.testing.assert_array_equal(problem.residuals_from(holds), [1.0, 0.0, 0.0])
    for v in (1.0, 2.0, 7.0):  # violated by v: v / sd, the sign of each side's excess
        broken = np.array([12.0, 30.0 + v, 80.0 - v])
        np.testing.assert_allclose(problem.residuals_from(broken), [1.0, v / 4, v / 5])
    dpred = np.ones((3, 2))
    np.testing.assert_array_equal(problem.jacobian_from(holds, dpred)[1:], 0.0)
    np.testing.assert_allclose(problem.jacobian_from(np.array([12.0, 31.0, 79.0]), dpred),
                               [[0.5, 0.5], [0.25, 0.25], [-0.2, -0.2]])
    # the compiled residuals (the loss) are the same hinge as the host-side ones
    x = jnp.log(jnp.asarray(problem.free.initial))
    np.testing.assert_allclose(np.asarray(problem.residuals(x)),
                               problem.residuals_from(np.asarray(problem.predict(x))),
                               rtol=1e-12, atol=1e-12)


def test_the_report_gives_a_bound_row_the_residual_the_fit_used(tmp_path):
    """The JSON's rows gave a bound row predicted − observed as its residual: a bound that
    held (model 2 % under "<= 40 %") showed −38, a residual the fit never counted. It is
    now the hinge, 0 where the bound holds and the signed violation where not, with
    `bound_satisfied` beside it."""
    (tmp_path / "release.csv").write_text(
        "time_h,released_percent,pH,relation\n24,1.1,7.4,=\n120,10,7.4,=\n"
        "24,40,7.4,<=\n120,0.5,7.4,<=\n24,60,7.4,>=\n")
    cfg = tmp_path / "fit.toml"
    cfg.write_text('[fit]\nname = "bounds"\nobservable = "release"\ndata = "release.csv"\n'
                   "[fit.parameters.dissolution_proton_order]\nfixed = true\n")
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    report = json.loads((tmp_path / "out" / "bounds.json").read_text())
    rows = report["rows"]
    for r in rows[:2]:  # values: predicted − observed, no bound key
        assert r["residual"] == pytest.approx(r["predicted"] - r["observed"])
        assert "bound_satisfied" not in r
    held, above, below = rows[2:]
    assert held["predicted"] < 40 and held["residual"] == 0.0 and held["bound_satisfied"]
    assert above["predicted"] > 0.5 and not above["bound_satisfied"]
    assert above["residual"] == pytest.approx(above["predicted"] - 0.5)
    assert below["predicted"] < 60 and not below["bound_satisfied"]
    assert below["residual"] == pytest.approx(below["predicted"] - 60) and below["residual"] < 0
    assert report["data"]["bounds"] == {"n": 3, "satisfied": 1}


# --- model lines that coincide ------------------------------------------------------------------

def test_a_release_curve_hidden_under_another_is_drawn_so_both_show(tmp_path, monkeypatch):
    """ZIF-8's acid switch (pH 6.5, steepness 2/pH) is full at pH 5.0 and 5.5 alike, so the
    two model curves of a release fit at pH 5.0, 5.5 and 7.4 coincide to within the line
    width: the pH 5.0 curve was hidden under pH 5.5's, both solid. The later one is now
    dashed over the first and its legend entry says they coincide; pH 7.4 stays solid."""
    from matplotlib.figure import Figure

    drawn = []
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: drawn.append(self))
    (tmp_path / "release.csv").write_text(
        "time_h,released_percent,pH\n15,63.4,5.0\n15,62.9,5.5\n15,37.6,7.4\n")
    cfg = tmp_path / "fit.toml"
    cfg.write_text('[fit]\nname = "zif3"\nobservable = "release"\ndata = "release.csv"\n'
                   'material = "ZIF-8"\n')
    assert main(["fit", str(cfg), "-o", str(tmp_path / "out"), "--quiet"]
                + [f"--set={s}" for s in FAST]) == 0
    (fig,) = drawn
    ax = fig.axes[0]
    lines = {ln.get_label().split(" (")[0]: ln for ln in ax.get_lines()
             if ln.get_label().startswith("model")}
    assert set(lines) == {"model pH 5", "model pH 5.5", "model pH 7.4"}
    assert lines["model pH 5"].get_linestyle() == "-"
    assert lines["model pH 7.4"].get_linestyle() == "-"
    assert lines["model pH 5.5"].get_linestyle() == "--"
    assert lines["model pH 5.5"].get_zorder() > lines["model pH 5"].get_zorder()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert ("model pH 5.5 (dashed: coincides with model pH 5 to within the line width)"
            in legend), legend
    assert "model pH 7.4" in legend and "model pH 5" in legend


def test_only_lines_within_the_line_width_of_each_other_are_marked():
    """The test behind it, on a bare panel (display units): a line 0.5 pt from another is
    marked, one 3 line widths away is not, nor one that meets it only over part of its
    length (release curves all start at 0)."""
    from matplotlib.figure import Figure

    from zn_pde.fit._report import _mark_coincident

    fig = Figure(figsize=(4, 3), dpi=100)
    ax = fig.subplots()
    x = np.linspace(0.0, 10.0, 50)
    ax.plot(x, x, lw=1.4)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    per_pt = 10.0 / (ax.get_position().height * 3 * 72)  # data units per point, vertically
    base = ax.get_lines()[0]
    (near,) = ax.plot(x, x + 0.5 * per_pt, lw=1.4)
    (far,) = ax.plot(x, x + 3 * 1.4 * per_pt, lw=1.4)
    (part,) = ax.plot(x, x * 1.3, lw=1.4)
    lines = {0: [(base, "a"), (near, "b"), (far, "c"), (part, "d")]}
    for ln, name in lines[0]:
        ln.set_label(f"model {name}")
    assert _mark_coincident(fig, lines, ("-", "--", ":", "-."))
    assert [ln.get_linestyle() for ln, _ in lines[0]] == ["-", "--", "-", "-"]
    assert near.get_label() == "model b (dashed: coincides with model a to within the line width)"
    assert far.get_label() == "model c" and part.get_label() == "model d"


def test_an_unknown_shipped_table_lists_the_shipped_ones():
    """`data = "shipped:<file>"` with a name zn_pde/data does not hold said only that the
    path was not found (a client audit): the error lists the shipped tables to choose from."""
    shipped = Path(__file__).parents[1] / "configs" / "fit_zno_release.toml"
    with pytest.raises(InputError) as e:
        load_fit_config(shipped, ['fit.data="shipped:nope.csv"'])
    assert e.value.key == "fit.data"
    assert "shipped:zno_viability_compiled.csv" in str(e.value)
    assert "shipped:zno_release_timecourses.csv" in str(e.value)


def test_a_row_predicted_whatever_the_parameters_leaves_the_degrees_of_freedom():
    """A viability table of 4 rows, one an untreated control at 100 % (the model predicts
    100 % there whatever the parameters: its Jacobian row is 0, its residual 0), and 3
    free parameters: the other 3 rows fix the parameters exactly, so nothing is left to
    estimate the noise. Counted as a fourth value it made dof 1 and an exact fit's SSR of
    3e-26 a residual scale of 2e-13: 95 % intervals of zero width (a spec audit's
    `zn-pde fit` of such a table, 2026-12-07). Now dof 0 and no interval, the note naming
    the control; with a fifth informative row (dof 1) the interval is the usual one. A
    control measured off 100 % (residual 3) is a measurement and keeps its degree."""
    from types import SimpleNamespace

    from zn_pde.fit._parameters import FreeSet
    from zn_pde.fit._problem import Problem
    from zn_pde.fit._uncertainty import gauss_newton

    rng = np.random.default_rng(11)
    free = FreeSet(("a", "b", "c"), ("", "", ""), np.ones(3), np.exp([-5.0] * 3),
                   np.exp([5.0] * 3), {}, ())
    x_hat = np.zeros(3)
    jac = np.vstack([np.zeros(3), rng.normal(size=(3, 3))])
    r = np.array([0.0, 1e-13, -2e-13, 1e-13])
    dose = {"concentration_ug_per_ml": np.array([0.0, 10.0, 20.0, 50.0])}
    table = SimpleNamespace(kind=np.zeros(4, int),
                            table=SimpleNamespace(kind="viability", numbers=dose))
    pinned = Problem.pinned(table, r, jac)
    assert pinned == 1
    # the same flat, matched row at a dose is a measurement at a saturated prediction (a
    # release complete in 1 h at pH 4.7, the shipped ZnO release fit's): it counts
    saturated = SimpleNamespace(kind=np.zeros(4, int), table=SimpleNamespace(
        kind="viability", numbers={"concentration_ug_per_ml": np.full(4, 10.0)}))
    assert Problem.pinned(saturated, r, jac) == 0
    gn = gauss_newton(r, jac, x_hat, free, 4, False, pinned)
    assert gn["dof"] == 0 and gn["pinned_rows"] == 1
    for d in gn["parameters"].values():
        assert d["ci95"] is None and "untreated control" in d["note"]
    # counted as before it would give the zero-width interval the audit saw
    before = gauss_newton(r, jac, x_hat, free, 4, False)["parameters"]["a"]["ci95"]
    assert before[1] / before[0] - 1 < 1e-10
    # a control measured at 97 %: a residual, so a measurement, not the normalisation
    assert Problem.pinned(table, np.array([3.0, *r[1:]]), jac) == 0
    # a fifth, informative row with noise: dof 1 and a finite, non-zero interval
    jac5, r5 = np.vstack([jac, rng.normal(size=3)]), np.append(r, 0.02)
    five = SimpleNamespace(kind=np.zeros(5, int), table=SimpleNamespace(
        kind="viability", numbers={"concentration_ug_per_ml": np.append(dose[
            "concentration_ug_per_ml"], 5.0)}))
    gn5 = gauss_newton(r5, jac5, x_hat, free, 5, False, Problem.pinned(five, r5, jac5))
    lo, hi = gn5["parameters"]["a"]["ci95"] or (np.nan, np.nan)
    assert gn5["dof"] == 1 and hi / lo > 1.01
