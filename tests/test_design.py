"""`zn-pde design`: the D-optimality update against direct computation (linear model), the
ranking checked by refitting synthetic release data with the top and the bottom candidate,
and the CLI (three files; bad [design] input is exit 2 naming the key)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from zn_pde.cli import main
from zn_pde.fit import design, fit, load_fit_config
from zn_pde.fit._design import d_optimal_gain
from zn_pde.fit._report import synthetic_table
from zn_pde.observables import RELEASE

pytestmark = pytest.mark.usefixtures("x64_module")

TRUE = {"dissolution_rate_per_h": 2e-3, "dissolution_proton_order": 0.9}
DOSE = 2.0  # ug/mL: below the solubility limit at every pH used
SD = 0.5  # percentage points, declared in the table
TIMES = (24.0, 48.0, 72.0, 120.0)  # all at pH 7.4: the proton order is not identifiable
FAST = ["fit.starts=3", "fit.candidates=8", "fit.adam_steps=10", "fit.lm_steps=25",
        "fit.profile=false"]
DESIGN = "[design]\ncandidates = { time_h = [1, 24, 72], pH = [5.5, 6.5, 7.4] }\nn_best = 3\n"


def test_gain_and_shrink_equal_direct_computation_for_a_linear_model():
    """Linear model y = A θ with noise σ: F = AᵀA/σ² exactly; one more row a gives
    ln det(F + aaᵀ/σ²) − ln det F and diag((F + aaᵀ/σ²)⁻¹) directly (to rounding)."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 3))
    sigma = 0.7
    fisher = a.T @ a / sigma**2
    rows = rng.normal(size=(10, 3)) * np.array([1.0, 10.0, 0.01])
    gain, shrink = d_optimal_gain(fisher, rows / sigma)
    for k, row in enumerate(rows):
        after = fisher + np.outer(row, row) / sigma**2
        direct = np.linalg.slogdet(after)[1] - np.linalg.slogdet(fisher)[1]
        assert gain[k] == pytest.approx(direct, rel=1e-10, abs=1e-12)
        s = np.sqrt(np.diag(np.linalg.inv(fisher)) / np.diag(np.linalg.inv(after)))
        np.testing.assert_allclose(shrink[k], s, rtol=1e-10)
    # a row along a parameter's own axis narrows only what it measures
    gain, shrink = d_optimal_gain(np.diag([1.0, 4.0]), np.array([[3.0, 0.0]]))
    assert gain[0] == pytest.approx(math.log(10.0))
    np.testing.assert_allclose(shrink[0], [math.sqrt(10.0), 1.0])


def simulated(times, phs) -> np.ndarray:
    """Released percent at TRUE through the release observable itself (noise-free)."""
    n = len(times)
    table = synthetic_table("release", {"time_h": np.asarray(times, float),
                                        "released_percent": np.zeros(n),
                                        "pH": np.asarray(phs, float),
                                        "dose_ug_per_ml": np.full(n, DOSE)})
    pred = RELEASE.prediction(table, tuple(TRUE), material="ZnO", simulation={},
                              settings={"dose_ug_per_ml": DOSE})
    return np.asarray(pred(np.log(np.array(list(TRUE.values())))), float)


def write_fit(d, name: str, times, phs) -> None:
    y = simulated(times, phs)
    lines = ["time_h,released_percent,pH,sd,dose_ug_per_ml"]
    lines += [f"{t:g},{v:.10f},{p:g},{SD},{DOSE}" for t, p, v in zip(times, phs, y,
                                                                       strict=True)]
    (d / f"{name}.csv").write_text("\n".join(lines) + "\n")
    (d / f"{name}.toml").write_text(
        f'[fit]\nname = "{name}"\nobservable = "release"\ndata = "{name}.csv"\n'
        "[fit.parameters.dissolution_rate_per_h]\ninitial = 1e-3\n"
        "[fit.parameters.dissolution_proton_order]\ninitial = 1.5\n\n" + DESIGN)


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    d = tmp_path_factory.mktemp("design")
    write_fit(d, "one_ph", TIMES, [7.4] * len(TIMES))
    fit(load_fit_config(d / "one_ph.toml", FAST), d / "out", figure=False)
    return d, design(load_fit_config(d / "one_ph.toml", FAST), None,
                     checkpoint=d / "out" / "one_ph.json").report


def test_ranking_is_confirmed_by_refitting(ranked):
    d, report = ranked
    assert report["fitted_point_from"].startswith("checkpoint")
    assert report["regularisation"]["fisher_without_prior_singular"]  # one pH: n is free
    order = "dissolution_proton_order"
    top, bottom = report["candidates"][0], report["candidates"][-1]
    assert order in top["identifies"] and top["conditions"]["pH"] != 7.4
    gains = [c["logdet_gain_nat"] for c in report["candidates"]]
    assert gains == sorted(gains, reverse=True)
    se = {}
    for which, c in (("top", top), ("bottom", bottom)):
        t, p = c["conditions"]["time_h"], c["conditions"]["pH"]
        write_fit(d, which, list(TIMES) + [t], [7.4] * len(TIMES) + [p])
        r = fit(load_fit_config(d / f"{which}.toml", FAST), None, figure=False).report
        # the Gauss-Newton standard error of ln n (None: not identifiable, infinitely wide)
        se[which] = r["parameters"][order]["se_ln"] or math.inf
        if which == "top":
            assert r["parameters"][order]["identifiable"] is True
            lo, hi = r["parameters"][order]["ci95"]
            assert lo < TRUE[order] < hi
    assert se["top"] < se["bottom"]


def test_cli_writes_table_figure_json(ranked, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZN_PDE_CACHE_DIR", "")
    d, _ = ranked
    out = tmp_path / "cli"
    code = main(["design", str(d / "one_ph.toml"), "-o", str(out), "--quiet"]
                + [f"--set={s}" for s in FAST])
    assert code == 0
    cap = capsys.readouterr()
    assert "no checkpoint at" in cap.err and "refitting one_ph" in cap.err  # said so
    assert "1. time_h = " in cap.out and "identifies" in cap.out
    report = json.loads((out / "one_ph_design.json").read_text())
    assert report["fitted_point_from"].startswith("refit")
    assert len(report["candidates"]) == 9
    csv = (out / "one_ph_design.csv").read_text().splitlines()
    assert csv[0].startswith("rank,time_h,pH,predicted_released_percent,logdet_gain_nat")
    assert len(csv) == 10
    assert (out / "one_ph_design.png").stat().st_size > 10_000
    assert not (out / "one_ph.json").exists()  # the refit is not written as a checkpoint
    # an existing design is not replaced silently
    code = main(["design", str(d / "one_ph.toml"), "-o", str(out), "--quiet"])
    assert code == 2 and "--overwrite" in capsys.readouterr().err
    # --at moves a parameter the data do not bound; it must be free and inside the box
    ck = str(d / "out" / "one_ph.json")
    code = main(["design", str(d / "one_ph.toml"), "-o", str(out), "--overwrite", "--quiet",
                 "--checkpoint", ck, "--at", "dissolution_proton_order=0.9"]
                + [f"--set={s}" for s in FAST])
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "one_ph_design.json").read_text())
    assert report["parameters"]["dissolution_proton_order"]["value"] == pytest.approx(0.9)
    assert report["fitted_point_from"].startswith("checkpoint")
    assert "--at" in report["fitted_point_from"]
    # [design] at: the criterion averaged over values of the order (Bayesian D-optimality)
    code = main(["design", str(d / "one_ph.toml"), "-o", str(out), "--overwrite", "--quiet",
                 "--checkpoint", ck, "--set=design.at={dissolution_proton_order=[0.9, 2.0]}"]
                + [f"--set={s}" for s in FAST])
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "one_ph_design.json").read_text())
    assert [q["values"]["dissolution_proton_order"] for q in report["design_points"]] == \
        pytest.approx([0.9, 2.0])
    for c in report["candidates"]:
        assert c["logdet_gain_nat"] == pytest.approx(np.mean(c["logdet_gain_nat_per_point"]))
    for bad, needle in (("dissolution_rate=1e-3", "not a free parameter"),
                        ("dissolution_proton_order=400", "outside the fit's box"),
                        ("dissolution_proton_order=high", "NAME=VALUE")):
        code = main(["design", str(d / "one_ph.toml"), "-o", str(out), "--overwrite",
                     "--checkpoint", ck, "--at", bad])
        err = capsys.readouterr().err
        assert code == 2 and "key '--at'" in err and needle in err, err


def test_an_interrupt_while_writing_leaves_no_json_and_a_rerun_is_not_refused(
        ranked, tmp_path, capsys, monkeypatch):
    """Ctrl-C (or SIGTERM) while the figure is drawn: exit 1 and no `<name>_design.json`
    (the JSON, written last, marks a finished design), so the same command runs again
    without --overwrite and writes all three files (before: the JSON and the CSV were
    written first, and the rerun was refused because the design output "exists (with its
    .csv and .png beside it)", though there was no .png)."""
    from zn_pde.fit import _design

    monkeypatch.setenv("ZN_PDE_CACHE_DIR", "")
    d, _ = ranked
    out = tmp_path / "int"
    argv = ["design", str(d / "one_ph.toml"), "-o", str(out), "--quiet",
            "--checkpoint", str(d / "out" / "one_ph.json")] + [f"--set={s}" for s in FAST]
    real = _design.plot_design

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_design, "plot_design", stopped)
    assert main(argv) == 1
    assert "interrupted" in capsys.readouterr().err
    assert not (out / "one_ph_design.json").exists()
    monkeypatch.setattr(_design, "plot_design", real)
    code = main(argv)
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        "one_ph_design.csv", "one_ph_design.json", "one_ph_design.png"]


@pytest.mark.parametrize(("design_toml", "needles"), [
    ("candidates = { time_h = [-1], pH = [7.4] }",
     ["key 'design.candidates.time_h'", "-1", ">= 0"]),
    ("candidates = { time_h = [1], ph = [7.4] }",
     ["key 'design.candidates.ph'", "did you mean 'pH'"]),
    ("candidates = { time_h = [1] }", ["key 'design.candidates.pH'", "missing"]),
    ("candidates = { time_h = [1], pH = [15] }", ["key 'design.candidates.pH'", "<= 14"]),
    # values as TOML spells them (a Python repr printed 'a' and True)
    ('candidates = { time_h = ["a"], pH = [7] }',
     ["key 'design.candidates.time_h'", 'value "a" is not allowed']),
    ("candidates = { time_h = [1], pH = [7] }\nn_best = true",
     ["key 'design.n_best'", "value true is not allowed"]),
    ("candidates = { time_h = [1], pH = [7] }\nsd_percent = 0",
     ["key 'design.sd_percent'", "> 0"]),
    ("candidates = { time_h = [1], pH = [7] }\nat = { dissolution_proton_order = [0] }",
     ["key 'design.at.dissolution_proton_order'", "numbers > 0"]),
    ("candidates = { time_h = [1], pH = [7] }\nat = { uptake_rate_per_h = [0.1] }",
     ["key 'design.at.uptake_rate_per_h'", "not a free parameter"]),
    ("candidates = { time_h = [1], pH = [7] }\nnbest = 2",
     ["key 'design.nbest'", "did you mean 'n_best'"]),
])
def test_bad_design_input_exits_2_naming_the_key(tmp_path, capsys, design_toml, needles):
    (tmp_path / "d.csv").write_text("time_h,released_percent,pH\n24,1,7.4\n48,2,7.4\n")
    cfg = tmp_path / "d.toml"
    cfg.write_text('[fit]\nname = "d"\nobservable = "release"\ndata = "d.csv"\n\n[design]\n'
                   + design_toml + "\n")
    code = main(["design", str(cfg), "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2, err
    for needle in needles:
        assert needle in err, (needle, err)
    assert "Traceback" not in err


def test_candidates_without_the_data_s_stimulus_column_are_named(tmp_path, capsys):
    """The data's ultrasound_W_per_cm2 sets the amplitude of the fit's exposure template;
    candidates without that column were refused naming the template's key bare,
    'ultrasound[0].intensity_W_per_cm2', a key of no file. The refusal names
    design.candidates and the column to add."""
    (tmp_path / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h,"
                                    "ultrasound_W_per_cm2\n10,90,4,0\n40,60,4,1.5\n")
    cfg = tmp_path / "v.toml"
    cfg.write_text('[fit]\nname = "v"\nobservable = "viability"\ndata = "v.csv"\n'
                   "starts = 1\ncandidates = 2\nadam_steps = 2\nlm_steps = 2\n"
                   "[fit.parameters.energy_kill_hill]\nfixed = true\n"
                   "[[fit.simulation.ultrasound]]\nstart_h = 1.0\nduration_min = 1.0\n\n"
                   "[design]\nsd_percent = 2.0\n"
                   "candidates = { concentration_ug_per_ml = [20], exposure_h = [4] }\n")
    code = main(["design", str(cfg), "-o", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "key 'design.candidates'" in err and "add ultrasound_W_per_cm2" in err, err
    assert "Traceback" not in err


def test_candidates_take_the_data_s_single_wash_and_must_list_several(tmp_path, capsys):
    """The data's rows were washed at 2 h (`wash_h`); candidates that list no wash_h were
    simulated without a wash, another protocol (a candidate identical to a washed row
    predicted 33.6 % against the row's 77.4 %: a client audit). They now take the data's one
    value, so they predict what candidates listing wash_h = [2] predict; data with several
    washes make the candidates list theirs (exit 2 naming design.candidates)."""
    rows = "concentration_ug_per_ml,viability_percent,exposure_h,wash_h\n"
    (tmp_path / "v.csv").write_text(rows + "10,90,24,2\n40,70,24,2\n80,55,24,2\n")
    base = ('[fit]\nname = "v"\nobservable = "viability"\ndata = "v.csv"\n'
            "starts = 1\ncandidates = 2\nadam_steps = 2\nlm_steps = 2\n"
            "[fit.parameters.energy_kill_hill]\nfixed = true\n"
            "[design]\nsd_percent = 2.0\n")
    predicted = {}
    for label, extra in (("inherited", ""), ("listed", ", wash_h = [2]")):
        (tmp_path / f"{label}.toml").write_text(
            base + f"candidates = {{ concentration_ug_per_ml = [20, 60], exposure_h = [24]"
            f"{extra} }}\n")
        code = main(["design", str(tmp_path / f"{label}.toml"), "-o", str(tmp_path / label),
                     "--quiet"])
        assert code == 0, capsys.readouterr().err
        report = json.loads((tmp_path / label / "v_design.json").read_text())
        predicted[label] = sorted(c["predicted_viability_percent"]
                                  for c in report["candidates"])
    # fails if: the candidates without wash_h were simulated without the data's wash
    assert predicted["inherited"] == pytest.approx(predicted["listed"], rel=1e-9)
    (tmp_path / "v.csv").write_text(rows + "10,90,24,2\n40,70,24,6\n")
    code = main(["design", str(tmp_path / "inherited.toml"), "-o", str(tmp_path / "x"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "key 'design.candidates'" in err and "several wash_h (2, 6 h)" in err


def test_a_fit_config_without_design_is_exit_2(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("time_h,released_percent,pH\n24,1,7.4\n")
    cfg = tmp_path / "d.toml"
    cfg.write_text('[fit]\nname = "d"\nobservable = "release"\ndata = "d.csv"\n')
    assert main(["design", str(cfg), "-o", str(tmp_path)]) == 2
    assert "key 'design'" in capsys.readouterr().err


def test_a_checkpoint_of_another_fit_is_exit_2(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("time_h,released_percent,pH\n24,1,7.4\n48,2,7.4\n")
    cfg = tmp_path / "d.toml"
    cfg.write_text('[fit]\nname = "d"\nobservable = "release"\ndata = "d.csv"\n\n' + DESIGN)
    (tmp_path / "d.json").write_text(json.dumps({
        "observable": "release", "data": {"rows": 2},
        "parameters": {"dissolution_rate_per_h": {"value": 1e-3, "fixed": False}}}))
    assert main(["design", str(cfg), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "key '--checkpoint'" in err and "not made by this fit config" in err, err


def test_a_checkpoint_fitted_to_other_data_of_the_same_shape_is_exit_2(ranked, tmp_path,
                                                                        capsys):
    """The same observable, free parameters and number of rows, but one value edited since
    the fit (or another table of the same shape): the design would rank candidates at a
    point fitted to other data; refused naming the line, column and both values."""
    d, _ = ranked
    lines = (d / "one_ph.csv").read_text().splitlines()
    cells = lines[2].split(",")
    cells[1] = "7.5"  # released_percent of the second data row
    lines[2] = ",".join(cells)
    (tmp_path / "one_ph.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "one_ph.toml").write_text((d / "one_ph.toml").read_text())
    assert main(["design", str(tmp_path / "one_ph.toml"), "-o", str(tmp_path),
                 "--checkpoint", str(d / "out" / "one_ph.json")]) == 2
    err = capsys.readouterr().err
    assert "key '--checkpoint'" in err and "fitted to other data" in err, err
    assert "line 3, column released_percent" in err and "'7.5' in the table now" in err, err


@pytest.mark.parametrize("override, needles", [
    ("fit.simulation.kinetics.solubility_log10_K=9.0",
     ("fitted with another experiment", "kinetics.solubility_log10_K", "9.0 in this config")),
    ('fit.simulation.medium.composition="phosphate_saline"',
     ("fitted with another experiment", "medium.composition", "'phosphate_saline'")),
    ("fit.parameters.dissolution_rate_per_h={lower=0.01, upper=0.1}",
     ("dissolution_rate_per_h", "outside this config's box", "[0.01, 0.1]")),
])
def test_a_checkpoint_fitted_with_other_settings_is_exit_2(ranked, tmp_path, capsys,
                                                            override, needles):
    """The same data and free set, but a held constant, the medium or the box changed since
    the fit: the checkpoint's point is not this config's optimum (before: the design ran at
    it silently, the box's fitted value outside the box included)."""
    d, _ = ranked
    assert main(["design", str(d / "one_ph.toml"), "-o", str(tmp_path), "--quiet",
                 "--checkpoint", str(d / "out" / "one_ph.json"), "--set", override]) == 2
    err = capsys.readouterr().err
    assert "key '--checkpoint'" in err and all(n in err for n in needles), err
    assert not (tmp_path / "one_ph_design.json").exists()


def test_a_named_checkpoint_that_does_not_exist_is_exit_2(tmp_path, capsys):
    """`--checkpoint PATH` names a file: a missing one is a typo, not a reason to refit
    silently (before: exit 0 after a refit)."""
    (tmp_path / "d.csv").write_text("time_h,released_percent,pH\n24,1,7.4\n48,2,7.4\n")
    cfg = tmp_path / "d.toml"
    cfg.write_text('[fit]\nname = "d"\nobservable = "release"\ndata = "d.csv"\n\n' + DESIGN)
    missing = tmp_path / "nowhere" / "d.json"
    assert main(["design", str(cfg), "-o", str(tmp_path), "--checkpoint", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "key '--checkpoint'" in err and "no such checkpoint" in err and str(missing) in err
