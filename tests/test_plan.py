"""`zn-pde plan`: gradients through the protocol against finite differences, an analytic
optimum found, the optimised config reproduced by `zn-pde run`, constraints honoured,
resume, and clear refusals."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from helpers import sonicated_culture

from zn_pde import InputError, RunError
from zn_pde.cli import main
from zn_pde.config import dumps
from zn_pde.plan import PlanProblem, _optimise, load_plan, plan

# a small radial spheroid (150 um in 200 um of medium), 8 h, float64: ~0.1 s per solve
SPHEROID = {
    "grid": {"kind": "radial", "shape": [20], "spacing_um": 10.0},
    "time": {"end_h": 8.0, "dt_s": 120.0, "save_every_min": 60.0},
    "geometry": {"kind": "spheroid", "radius_um": 150.0},
    "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
    "ph": {"medium": 7.4, "tissue_rim": 7.0, "tissue_core": 6.6},
    "numerics": {"precision": "float64"},
    "ultrasound": [{"start_h": 2.0, "duration_min": 1.0, "intensity_W_per_cm2": 1.5,
                    "frequency_MHz": 1.0}],
}


def write_plan(tmp_path: Path, controls: dict, scenario: dict | None = None,
               constraints: dict | None = None, optimiser: dict | None = None,
               normal: dict | None = None, name: str = "toy") -> Path:
    (tmp_path / "scenario.toml").write_text(dumps(scenario or SPHEROID))
    lines = ["[plan]", f'name = "{name}"', 'config = "scenario.toml"',
             'objective = "tissue_viability"', "[plan.controls]"]
    lines += [f'"{k}" = {{ lower = {lo!r}, upper = {hi!r} }}' for k, (lo, hi) in
              controls.items()]
    cons = dict(constraints or {})
    if normal is not None:
        (tmp_path / "normal.toml").write_text(dumps(normal))
        cons["normal_config"] = "normal.toml"
    if cons:
        lines.append("[plan.constraints]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in cons.items()]
    if optimiser:
        lines.append("[plan.optimiser]")
        lines += [f"{k} = {v!r}" for k, v in optimiser.items()]
    path = tmp_path / "plan.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def scenario(**sections) -> dict:
    c = copy.deepcopy(SPHEROID)
    c.update(copy.deepcopy(sections))
    return c


def fd_check(tmp_path: Path, controls: dict, scen: dict, rtol: float) -> None:
    """The plan's gradient (reverse mode through the solver, the builder by differences)
    against central differences of the objective, at a point inside the box."""
    problem = PlanProblem(load_plan(write_plan(tmp_path, controls, scen)))
    x = problem.lower + np.linspace(0.35, 0.6, len(controls)) * (problem.upper - problem.lower)
    grad = problem.evaluate(x).objective_grad
    for i in range(x.size):
        h = 1e-4 * (problem.upper[i] - problem.lower[i])
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        fd = (problem.evaluate(xp, gradient=False).objective
              - problem.evaluate(xm, gradient=False).objective) / (2 * h)
        assert abs(fd) > 1e-8, f"{problem.keys[i]} does not move the objective"
        np.testing.assert_allclose(grad[i], fd, rtol=rtol, err_msg=problem.keys[i])


@pytest.mark.parametrize("x", [[2.0], [2.0, 1.5, 1.0], "2.0", {"ultrasound[0].start_h": 2.0}])
def test_evaluate_names_its_controls_for_values_of_the_wrong_shape(tmp_path, x):
    """README: `PlanProblem(load_plan(path)).evaluate(x)`, x the controls' values. Two of
    three values, or a dict by key, failed inside zip() or float() (ValueError, TypeError);
    an InputError names the controls in the order x takes them."""
    keys = {"ultrasound[0].start_h": (1.0, 4.0), "ultrasound[0].intensity_W_per_cm2": (1.0, 2.0)}
    problem = PlanProblem(load_plan(write_plan(tmp_path, keys)))
    with pytest.raises(InputError, match=r"evaluate takes the 2 controls' values, a sequence "
                       r"of numbers in the order ultrasound\[0\]\.start_h, ultrasound\[0\]"
                       r"\.intensity_W_per_cm2") as e:
        problem.evaluate(x, gradient=False)
    assert e.value.key == "x"


@pytest.mark.parametrize("flag", ["overwrite", "resume", "progress"])
def test_plan_from_python_refuses_a_flag_that_is_not_a_bool(tmp_path, flag):
    """`plan(path, out, overwrite="no")`: a truthy text replaced an existing plan's files.
    Each flag is True or False, as simulate's are; nothing is written."""
    path = write_plan(tmp_path, {"ultrasound[0].start_h": (1.0, 4.0)})
    with pytest.raises(InputError, match=f"plan's {flag} = 'no' must be True or False"):
        plan(path, tmp_path / "o", **{flag: "no"})
    assert not (tmp_path / "o").exists()


def test_plan_from_python_names_its_own_arguments_for_an_existing_output(tmp_path):
    """`plan(path, DIR)` over an existing `DIR/<name>.json` said only "pass --overwrite to
    replace it, or write elsewhere with -o DIR or --set plan.name=NAME", and `plan(...,
    resume=True)` with nothing to resume named "key '--resume'": command-line flags a
    notebook caller never typed (a client audit, 2026-12-07). Both now name the Python
    arguments beside the flags, as simulate's and export_vtk's messages do; nothing is
    solved or written."""
    path = write_plan(tmp_path, {"ultrasound[0].start_h": (1.0, 4.0)})
    out = tmp_path / "o"
    out.mkdir()
    (out / "toy.json").write_text("{}")
    with pytest.raises(InputError, match=r"plan output exists") as e:
        plan(path, out, progress=False)
    assert "overwrite=True" in str(e.value) and "overrides=['plan.name=NAME']" in str(e.value)
    assert "--overwrite" in str(e.value)  # the command line's way is still named
    with pytest.raises(InputError, match=r"nothing to resume") as e:
        plan(path, tmp_path / "elsewhere", resume=True, progress=False)
    assert "resume=True" in str(e.value)
    assert sorted(p.name for p in out.iterdir()) == ["toy.json"]
    assert not (tmp_path / "elsewhere" / "toy.json").exists()


def test_gradient_matches_differences_exposure_controls(tmp_path):
    """Ultrasound start, duration, intensity and repeat spacing (two repeats): event times
    move through the step lengths, the intensity through the cavitation law."""
    scen = scenario(ultrasound=[{"start_h": 2.0, "duration_min": 2.0, "intensity_W_per_cm2": 1.5,
                                 "frequency_MHz": 1.0, "repeats": 2, "repeat_every_h": 1.5}])
    fd_check(tmp_path, {"ultrasound[0].start_h": (0.5, 3.0),
                        "ultrasound[0].duration_min": (0.5, 4.0),
                        "ultrasound[0].intensity_W_per_cm2": (1.0, 3.0),
                        "ultrasound[0].repeat_every_h": (1.0, 2.5)}, scen, rtol=2e-4)


def test_gradient_matches_differences_dose_and_wash_controls(tmp_path):
    """The first dose, a second dose (amount and time) and a medium exchange's time."""
    scen = scenario(dose=[{"time_h": 3.0, "dose_ug_per_ml": 10.0}],
                    medium_exchange=[{"time_h": 5.0}])
    fd_check(tmp_path, {"material.dose_ug_per_ml": (5.0, 30.0),
                        "dose[0].time_h": (2.5, 4.0), "dose[0].dose_ug_per_ml": (1.0, 20.0),
                        "medium_exchange[0].time_h": (4.5, 7.0)}, scen, rtol=2e-4)


def test_gradient_matches_differences_light_control(tmp_path):
    """Light irradiance and start in a well-mixed culture (UV-A on ZnO)."""
    culture = {"grid": {"kind": "well_mixed"},
               "time": {"end_h": 6.0, "dt_s": 120.0, "save_every_min": 60.0},
               "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
               "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
               "numerics": {"precision": "float64"},
               "light": [{"start_h": 2.0, "duration_min": 5.0, "irradiance_mW_per_cm2": 10.0,
                          "wavelength_nm": 365.0}]}
    fd_check(tmp_path, {"light[0].irradiance_mW_per_cm2": (2.0, 40.0),
                        "light[0].start_h": (1.0, 4.0)}, culture, rtol=2e-4)


def test_evaluate_beyond_the_box_keeps_the_steps_and_the_gradient(tmp_path):
    """`evaluate` takes any x, but the step plan sized each segment for the controls' box
    only: with a dose moved past the box, after a wash, the 30 min between them were one
    step at dt_s = 120 s (a user's brute-force scan beyond the bounds). The value at x no
    longer depends on whether the box holds x (a box that does gives it within 2e-5; before,
    3e-4 apart, as far as the step-plan error itself), and the gradient there matches
    central differences."""
    culture = {"grid": {"kind": "well_mixed"},
               "time": {"end_h": 6.0, "dt_s": 120.0, "save_every_min": 60.0},
               "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
               "material": {"kind": "ZnO", "dose_ug_per_ml": 10.0},
               "numerics": {"precision": "float64"},
               "dose": [{"time_h": 1.0, "dose_ug_per_ml": 30.0}],
               "medium_exchange": [{"time_h": 4.0}]}
    x = np.array([4.5])  # after the wash
    narrow, wide = (PlanProblem(load_plan(write_plan(tmp_path, {"dose[0].time_h": box},
                                                     culture)))
                    for box in ((0.5, 3.0), (0.5, 5.0)))
    from zn_pde.plan._problem import planning_plan

    steps = planning_plan(narrow.tumour(x), narrow.s.controls, x)
    assert max(np.diff(steps.breaks_s) / steps.steps) <= 120.0 * (1 + 1e-9)  # dt_s
    e = narrow.evaluate(x)
    assert e.objective == pytest.approx(wide.evaluate(x, gradient=False).objective, abs=2e-5)
    h = 0.01
    fd = (narrow.evaluate(x + h, gradient=False).objective
          - narrow.evaluate(x - h, gradient=False).objective) / (2 * h)
    assert abs(fd) > 1e-4
    assert e.objective_grad[0] == pytest.approx(fd, rel=2e-2)


def test_caps_give_the_analytic_optimum_and_run_reproduces_it(tmp_path):
    """More particles and more ultrasound kill more, so under caps on the total dose (25
    ug/mL) and the acoustic energy (150 J/cm^2 in a 1 min exposure) the optimum is the corner
    dose = 25 ug/mL, intensity = 150 / 60 = 2.5 W/cm^2, found within 1 %; `zn-pde run` on the
    written config gives the reported objective; the caps hold."""
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (5.0, 40.0),
                                 "ultrasound[0].intensity_W_per_cm2": (0.8, 3.0)},
                      constraints={"max_total_dose_ug_per_ml": 25.0,
                                   "max_ultrasound_energy_J_per_cm2": 150.0},
                      optimiser={"starts": 1, "iterations": 60, "learning_rate": 0.3})
    out = tmp_path / "out"
    report = plan(path, out, progress=False)
    c = report["controls"]
    assert c["material.dose_ug_per_ml"]["optimum"] == pytest.approx(25.0, rel=0.01)
    assert c["ultrasound[0].intensity_W_per_cm2"]["optimum"] == pytest.approx(2.5, rel=0.01)
    for name, cap in (("total_dose_ug_per_ml", 25.0), ("ultrasound_energy_J_per_cm2", 150.0)):
        assert report["constraints"][name]["holds"]
        assert report["constraints"][name]["optimum"] <= cap * (1 + 1e-3)
    assert report["objective"]["optimum"] < report["objective"]["start"]
    # the optimised config through the public CLI
    h5 = tmp_path / "rerun.h5"
    assert main(["run", str(out / "toy.toml"), "-o", str(h5), "--quiet"]) == 0
    import h5py

    with h5py.File(h5) as f:
        final = float(f["tissue_mean_viability"][-1])
    # the same run; the file keeps its series in float32
    assert final == pytest.approx(report["objective"]["optimum"], rel=1e-7)
    # without its ultrasound the optimum is the run's control: particles alone kill less.
    # The run's control continues from the run's own frame before the exposure (made at the
    # run's step), the plan's from t = 0 at the control's step: equal to the step error
    with h5py.File(tmp_path / "rerun_control.h5") as f:
        bare = float(f["tissue_mean_viability"][-1])
    assert bare == pytest.approx(report["objective"]["optimum_without_stimuli"], abs=5e-4)
    assert bare > final + 0.01
    # the planning step plan's estimate agrees with the run's own plan to the step error
    assert report["objective"]["optimum_planning_estimate"] == pytest.approx(final, abs=5e-3)
    assert (out / "toy.png").stat().st_size > 10_000


def test_fixed_energy_optimum_is_where_cavitation_per_watt_peaks(tmp_path):
    """Intensity I and duration T free under an energy cap E = I T: the radical dose, so the
    kill, grows with T A(I) = E A(I) / I (A the cavitation law, attenuation across 150 um
    below 0.5 %), so the optimum intensity is the maximiser of A(I) / I, computed here from
    the law itself (16/9 of the threshold: 1.45 W/cm^2 at the default 0.813), found within 1 %, and
    the energy cap is active."""
    from zn_pde.stimuli.ultrasound import cavitation_activity

    path = write_plan(tmp_path, {"ultrasound[0].intensity_W_per_cm2": (0.8, 3.0),
                                 "ultrasound[0].duration_min": (0.5, 5.0)},
                      constraints={"max_ultrasound_energy_J_per_cm2": 180.0},
                      optimiser={"starts": 2, "iterations": 24})
    report = plan(path, tmp_path / "out", progress=False)
    tissue = load_plan(path).config["tissue"]
    grid = np.linspace(0.8, 3.0, 22001)
    a = np.asarray(cavitation_activity(grid, tissue["ultrasound_cavitation_threshold_W_per_cm2"],
                                       tissue["ultrasound_cavitation_saturation_W_per_cm2"]))
    best = grid[np.argmax(a / grid)]
    c = report["controls"]
    assert c["ultrasound[0].intensity_W_per_cm2"]["optimum"] == pytest.approx(best, rel=0.01)
    energy = report["constraints"]["ultrasound_energy_J_per_cm2"]["optimum"]
    assert energy == pytest.approx(180.0, rel=0.01) and energy <= 180.0 * (1 + 1e-3)


def test_normal_tissue_constraint_is_active_and_holds(tmp_path):
    """Minimising tumour viability by the dose while normal tissue (pH 7.4 throughout) must
    keep 80 %: the start (20 ug/mL) violates it, the optimum sits on the constraint (within
    2 % of the bound) and satisfies it, and the tumour's viability there is within 2 % of the
    normal tissue's (the model's only selectivity is the tumour's acidity, which is weak)."""
    normal = scenario(ph={"medium": 7.4, "tissue_rim": 7.4, "tissue_core": 7.4})
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (2.0, 60.0)}, normal=normal,
                      constraints={"normal_viability_min": 0.8},
                      optimiser={"starts": 1, "iterations": 48, "learning_rate": 0.3})
    report = plan(path, tmp_path / "out", progress=False)
    n = report["constraints"]["normal_viability"]
    assert n["holds"] and n["optimum"] >= 0.8 * (1 - 1e-3)
    assert n["start"] < 0.8
    assert n["optimum"] == pytest.approx(0.8, rel=0.02)
    assert report["objective"]["optimum"] == pytest.approx(n["optimum"], rel=0.02)


def test_event_bounds_that_coincide_with_other_events(tmp_path):
    """A dose time bounded below by the first dose (0 h) and an exposure bounded above by the
    time the optimum pushes it to: iterates stay 0.1 % of the box inside their bounds, so no
    segment between two events has zero length, and the plan ends at the bounds, finite."""
    scen = scenario(dose=[{"time_h": 1.0, "dose_ug_per_ml": 10.0}])
    path = write_plan(tmp_path, {"ultrasound[0].start_h": (0.0, 4.0),
                                 "dose[0].time_h": (0.0, 1.5)}, scen,
                      optimiser={"starts": 1, "iterations": 8, "polish": 6})
    report = plan(path, tmp_path / "out", progress=False)
    c = report["controls"]
    assert c["dose[0].time_h"]["at_bound"] == "lower"
    assert c["dose[0].time_h"]["optimum"] >= 1e-3 * 1.5 * (1 - 1e-9)
    assert np.isfinite(report["objective"]["optimum"])
    assert report["objective"]["optimum"] < report["objective"]["start"]


def test_a_control_exactly_at_another_event_s_time_gives_the_run_s_value(tmp_path):
    """An exposure whose start, the plan's starting value, is the time of a fixed dose: the
    planning plan has a segment of zero length between the two there (a microsecond step,
    `_protocol.ZERO_SEGMENT_STEP_S`). The objective is finite, within the step-plan error of
    the run's own value (the planning step at most dt either side: 1e-3 here), and
    continuous: the values a thousandth of the box either side bracket it. Until 2026-12-05
    the zero step divided by zero and the plan exited 1 with a non-finite viability."""
    scen = scenario(dose=[{"time_h": 2.0, "dose_ug_per_ml": 10.0}])
    problem = PlanProblem(load_plan(write_plan(tmp_path, {"ultrasound[0].start_h": (1.0, 3.0)},
                                               scen)))
    x = np.array([2.0])
    at = problem.evaluate(x).objective
    assert np.isfinite(at) and np.all(np.isfinite(problem.evaluate(x).objective_grad))
    run_value = problem.outcome(x)["objective"]
    assert at == pytest.approx(run_value, abs=1e-3)
    sides = [problem.evaluate(x + d, gradient=False).objective for d in (-2e-3, 2e-3)]
    assert min(sides) - 1e-3 <= at <= max(sides) + 1e-3


class Quadratic:
    """A stand-in problem with an analytic optimum: J = Σ (x − a)² / w², g = x₀ + x₁ − 1 ≤ 0
    as a "total dose" cap; optimum at the projection of a onto the half-plane."""

    def __init__(self, settings):
        self.s = settings
        self.lower, self.upper = np.zeros(2), np.full(2, 2.0)
        self.start = np.array([1.5, 1.5])
        self.gradient_solves = self.forward_solves = 0

    def evaluate(self, x, gradient=True):
        a = np.array([0.9, 0.7])
        self.gradient_solves += 1
        total = x[0] + x[1]
        return _optimise.Evaluation(float(np.sum((x - a) ** 2)), 2 * (x - a),
                                    {"total_dose_ug_per_ml": total},
                                    {"total_dose_ug_per_ml": np.ones(2)})


def test_optimiser_finds_a_constrained_analytic_optimum(tmp_path):
    """min (x−0.9)² + (y−0.7)² s.t. x + y ≤ 1 in [0, 2]²: (0.6, 0.4), within 1 %."""
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (1.0, 2.0)},
                      constraints={"max_total_dose_ug_per_ml": 1.0},
                      optimiser={"starts": 2, "iterations": 200, "learning_rate": 0.1})
    problem = Quadratic(load_plan(path))
    result = _optimise.optimise(problem, None, progress=False)
    best = np.asarray(result["starts"][result["best"]]["x"])
    np.testing.assert_allclose(best, [0.6, 0.4], rtol=0.01)


def test_a_point_beyond_the_bound_never_beats_one_that_keeps_it():
    """The normal tissue as objective and constraint alike (v ≥ 0.9): an iterate at 0.8992
    (g = 8.6e-4, inside the 1e-3 tolerance) would win over one at 0.9004 by the very amount
    it breaks the bound, and `zn-pde run` of it ends below 0.9 × (1 − 1e-3). Within a start
    and across starts, the point that keeps every bound (g ≤ STRICT) wins; the tolerance only
    ranks points that all break it a little, above those that break it more."""
    def entry(x, v):
        g = (0.9 - v) / 0.9
        return {"x": [x], "objective": v, "constraints": {"normal_viability": g},
                "gradient_norm": 1.0, "lagrangian": v}

    keeps, within, beyond = entry(0.0, 0.9004), entry(1.0, 0.8992), entry(2.0, 0.85)
    assert (0.9 - 0.8992) / 0.9 <= _optimise.FEASIBLE  # the tolerance admits it
    summary = _optimise._summary({"index": 0, "history": [within, keeps, beyond]})
    assert summary["x"] == [0.0] and summary["feasible"]
    summary = _optimise._summary({"index": 0, "history": [within, beyond]})
    assert summary["x"] == [1.0] and summary["feasible"]
    summary = _optimise._summary({"index": 0, "history": [beyond]})
    assert summary["x"] == [2.0] and not summary["feasible"]
    ranked = sorted([(0.8992, 8.6e-4), (0.85, 0.056), (0.9004, 0.0), (0.9001, 5e-6)],
                    key=lambda c: _optimise.rank(*c))
    assert ranked == [(0.9001, 5e-6), (0.9004, 0.0), (0.8992, 8.6e-4), (0.85, 0.056)]


def test_resume_ends_where_an_uninterrupted_plan_ends(tmp_path, monkeypatch):
    path = write_plan(tmp_path, {"ultrasound[0].intensity_W_per_cm2": (0.8, 3.0)},
                      optimiser={"starts": 2, "iterations": 5})
    whole = plan(path, tmp_path / "a", progress=False)
    calls = {"n": 0}
    real = PlanProblem.evaluate

    def interrupted(self, x, gradient=True):
        calls["n"] += 1
        if calls["n"] == 7:  # in the second start
            raise KeyboardInterrupt
        return real(self, x, gradient)

    monkeypatch.setattr(PlanProblem, "evaluate", interrupted)
    with pytest.raises(RunError, match="continue with: zn-pde plan .* --resume"):  # exit 1
        plan(path, tmp_path / "b", progress=False)
    assert (tmp_path / "b" / "toy.resume.json").is_file()
    monkeypatch.setattr(PlanProblem, "evaluate", real)
    # the same plan file on another scenario (an override) is not resumed (before, it
    # mixed the iterations of both)
    with pytest.raises(InputError, match="other scenarios"):
        plan(path, tmp_path / "b", resume=True, progress=False,
             overrides=["kinetics.uptake_rate_per_h=0.2"])
    spent = json.loads((tmp_path / "b" / "toy.resume.json").read_text())["spent"]
    assert spent["gradient_solves"] > 0 and spent["wall_s"] > 0
    resumed = plan(path, tmp_path / "b", resume=True, progress=False)
    assert resumed["controls"] == whole["controls"]
    assert resumed["objective"]["optimum"] == whole["objective"]["optimum"]
    assert not (tmp_path / "b" / "toy.resume.json").exists()
    # the report counts the whole plan, the interrupted session's work included (before: only
    # the resumed session's solves and seconds, e.g. "0 solves with gradient, 1 s" for a plan
    # interrupted while its files were written)
    assert resumed["solves"] == whole["solves"]
    assert resumed["wall_s"] > spent["wall_s"]


def _stop_at_the_second_evaluation(monkeypatch):
    """`PlanProblem.evaluate` raises KeyboardInterrupt at its second call, after the first
    iteration's state is saved; returns the real method, to put back."""
    calls = {"n": 0}
    real = PlanProblem.evaluate

    def interrupted(self, x, gradient=True):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, x, gradient)

    monkeypatch.setattr(PlanProblem, "evaluate", interrupted)
    return real


def test_the_interrupt_message_gives_the_whole_command_to_resume(tmp_path, capsys,
                                                                 monkeypatch):
    """A plan run with -o and --set overrides, interrupted: the message gives the command that
    continues it, those included, as `zn-pde fit` does (before: only 'continue with
    --resume', and --resume without the same --set is refused); that command finishes it."""
    import shlex

    path = write_plan(tmp_path, {"ultrasound[0].intensity_W_per_cm2": (0.8, 3.0)},
                      optimiser={"starts": 1, "iterations": 3, "polish": 0})
    out = tmp_path / "some out"
    sets = ["--set=kinetics.uptake_rate_per_h=0.2", "--set=plan.optimiser.iterations=2"]
    real = _stop_at_the_second_evaluation(monkeypatch)
    assert main(["plan", str(path), "-o", str(out), "--quiet"] + sets) == 1
    err = capsys.readouterr().err
    assert (out / "toy.resume.json").is_file()
    again = shlex.split(err.split("continue with: ")[1])
    assert again == ["zn-pde", "plan", str(path), "-o", str(out)] + sets + ["--resume"]
    monkeypatch.setattr(PlanProblem, "evaluate", real)
    assert main(again[1:] + ["--quiet"]) == 0
    capsys.readouterr()
    assert (out / "toy.json").is_file() and not (out / "toy.resume.json").exists()


@pytest.mark.parametrize("content", ["garbage{", "[1, 2]", '{"plan": "x"}'])
def test_a_damaged_resume_state_is_refused_by_name(tmp_path, content):
    """A `<name>.resume.json` that is not JSON, or not a plan's state, gave a traceback
    (JSONDecodeError, exit 1; an outside contract audit): exit 2 naming --resume."""
    path = write_plan(tmp_path, {"ultrasound[0].intensity_W_per_cm2": (0.8, 3.0)},
                      optimiser={"starts": 1, "iterations": 2})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "toy.resume.json").write_text(content)
    with pytest.raises(InputError, match="not a readable interrupted-plan state"):
        plan(path, tmp_path / "out", resume=True, progress=False)


def test_an_interrupt_while_writing_the_outputs_leaves_no_json_and_resumes(tmp_path,
                                                                          monkeypatch):
    """Ctrl-C or SIGTERM after the optimiser, while the start and optimum are run again and
    the files written, is exit 1 with the resume command (it was a traceback, a segfault or a
    JSON without its PNG that a rerun refused as finished). The JSON, which marks a finished
    plan, is written last."""
    import os
    import signal

    from zn_pde.plan import _report

    path = write_plan(tmp_path, {"ultrasound[0].intensity_W_per_cm2": (0.8, 3.0)},
                      optimiser={"starts": 1, "iterations": 3})
    real = _report.figure

    def stopped(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # as `kill` or a batch scheduler stops a job

    monkeypatch.setattr(_report, "figure", stopped)
    with pytest.raises(RunError, match="continue with: zn-pde plan .* --resume"):
        plan(path, tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "toy.json").exists()
    assert (tmp_path / "out" / "toy.resume.json").is_file()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back
    monkeypatch.setattr(_report, "figure", real)
    report = plan(path, tmp_path / "out", resume=True, progress=False)
    assert all(Path(f).is_file() for f in report["files"].values())
    assert not (tmp_path / "out" / "toy.resume.json").exists()


def test_an_interrupted_overwrite_leaves_no_json_of_the_plan_it_replaces(tmp_path,
                                                                        monkeypatch, capsys):
    """`--overwrite` on a finished plan, stopped in its first iteration: exit 1 with the
    resume state and no `<name>.json`, `.toml` or `.png` (before: the previous plan's three
    files stayed beside the new plan's state, so the folder looked finished with results
    the interrupted plan was replacing); --resume then finishes it."""
    path = write_plan(tmp_path, {"ultrasound[0].intensity_W_per_cm2": (0.8, 3.0)},
                      optimiser={"starts": 1, "iterations": 2, "polish": 0})
    out = tmp_path / "out"
    plan(path, out, progress=False)
    assert (out / "toy.json").is_file()
    # without --overwrite: exit 2 naming the file once and the ways on (it read
    # ".../toy.json: .../toy.json exists")
    assert main(["plan", str(path), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("toy.json") == 1 and "plan output exists" in err, err
    assert "--overwrite" in err and "--set plan.name=NAME" in err, err
    real = _stop_at_the_second_evaluation(monkeypatch)
    code = main(["plan", str(path), "-o", str(out), "--overwrite", "--quiet"])
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["toy.resume.json"]
    monkeypatch.setattr(PlanProblem, "evaluate", real)
    report = plan(path, out, resume=True, progress=False)
    assert all(Path(f).is_file() for f in report["files"].values())
    assert not (out / "toy.resume.json").exists()


@pytest.mark.parametrize("controls, words", [
    ({"ultrasound[0].strat_h": (0.5, 3.0)}, "did you mean 'ultrasound[0].start_h'"),
    # a name in brackets was read as a dotted key: two spellings of one control, whose
    # error then said the control 'does not change the simulation' (a red-team run)
    ({"material[dose_ug_per_ml]": (1.0, 10.0)}, "is not a config key"),
    ({"ultrasound[0].repeats": (1.0, 3.0)}, "an integer"),
    ({"ultrasound[0].intensity_W_per_cm2": (3.0, 1.0)}, "lower < upper"),
    # a value as the plan file spells it, not as Python's repr ('a'; a client's finding)
    ({"ultrasound[0].start_h": ("a", 3.0)}, 'got lower = "a", upper = 3.0'),
    ({"ultrasound[0].start_h": (0.5, 9.0)}, "ultrasound[0].start_h = 9"),
    ({"geometry.radius_um": (100.0, 180.0)}, "cannot be optimised by gradients"),
    # the read-out time and the numerics are not the protocol (before: "does not change the
    # simulation" for end_h, "the structure (species, ...)" for dt_s)
    ({"time.end_h": (6.0, 10.0)}, "the run's time axis"),
    ({"time.dt_s": (60.0, 120.0)}, "the run's time axis"),
    ({"grid.spacing_um": (8.0, 12.0)}, "the grid"),
    ({"ultrasound[0].frequency_MHz": (0.5, 3.0)}, None),
    # light below ZnO's band gap (808 nm, 1.53 eV) activates no particle: its irradiance ran
    # a plan that left it at its start (exit 0), where the refusal names this very case (an
    # outside audit: 365 nm on ZnO2, 3.75 eV)
    ({"light[0].irradiance_mW_per_cm2": (5.0, 40.0)}, "does not change the simulation"),
    ({"light[0].duty_cycle": (0.2, 1.0)}, "does not change the simulation"),
    # an optional key the scenario leaves unset was 'no numeric key' (an outside audit)
    ({"material.hydrodynamic_diameter_nm": (50.0, 200.0)}, "is not set in the scenario"),
    # each bound is fine alone, but the latest start with the longest exposure runs past 8 h
    ({"ultrasound[0].start_h": (5.0, 7.95), "ultrasound[0].duration_min": (0.5, 10.0)},
     "a corner of the controls' box (ultrasound[0].start_h = 7.95, "
     "ultrasound[0].duration_min = 10)"),
])
def test_bad_controls_exit_2_naming_the_key(tmp_path, capsys, controls, words):
    scen = (scenario(light=[{"start_h": 1.0, "duration_min": 5.0, "wavelength_nm": 808.0,
                             "irradiance_mW_per_cm2": 20.0, "duty_cycle": 0.5}],
                     tissue={"light_attenuation_per_cm": 1.0})  # weak: the radial grid's
            if any(k.startswith("light") for k in controls) else None)
    path = write_plan(tmp_path, controls, scen, optimiser={"starts": 1, "iterations": 2})
    code = main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    if words is None:  # frequency moves the attenuation: a valid control
        assert code == 0
        return
    assert code == 2
    assert words in err and "plan.controls" in err and "Traceback" not in err


def test_a_control_on_an_exposure_the_scenario_leaves_out_says_why(tmp_path, capsys):
    """A scenario's exposure at or after its time.end_h (here through `--set`) is left out of
    the run (with a note): a control on it was 'the scenario has no numeric key', which the
    scenario file plainly has; the refusal now says the run leaves it out."""
    path = write_plan(tmp_path, {"ultrasound[0].start_h": (0.5, 1.5)})
    code = main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet",
                 "--set", "time.end_h=1.9"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and "Traceback" not in err, err
    assert ("key 'plan.controls.ultrasound[0].start_h'" in err
            and "ultrasound[0] (start_h = 2) is at or after its end (time.end_h = 1.9 h)"
            in err), err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("old, new, words", [
    # a list or table as the objective was looked up in the objectives' dict: a TypeError
    # (unhashable) and its traceback, exit 1 (a client program's finding)
    ('objective = "tissue_viability"', 'objective = ["tissue_viability"]',
     "key 'plan.objective': unknown objective [\"tissue_viability\"]"),
    ('objective = "tissue_viability"', "objective = { name = 1 }",
     "key 'plan.objective': unknown objective"),
    # [plan] a number or a list, not a table: iterated over, a TypeError
    (None, "plan = 3\n", "key 'plan': plan = 3: expected a table [plan]"),
    (None, "plan = [1]\n", "key 'plan': plan = [1]: expected a table [plan]"),
])
def test_a_plan_file_value_of_the_wrong_type_exits_2_naming_the_key(tmp_path, capsys, old,
                                                                     new, words):
    path = write_plan(tmp_path, {"ultrasound[0].start_h": (0.5, 3.0)})
    path.write_text(new if old is None else path.read_text().replace(old, new))
    code = main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert words in err and str(path) in err


def test_a_control_that_acts_only_in_part_of_its_box_is_not_refused(tmp_path):
    """An ultrasound intensity below the cavitation threshold (0.813 W/cm^2 at 1 MHz) at the
    scenario's own value moves nothing there, but does above it: a box up to 2 W/cm^2 was
    refused as 'does not change the simulation' (an outside audit), though the optimiser's
    other starts, and its steps from a bound, reach it. Refused only when nothing in the box
    acts (a box below the threshold)."""
    quiet = scenario(ultrasound=[{"start_h": 2.0, "duration_min": 1.0,
                                  "intensity_W_per_cm2": 0.4, "frequency_MHz": 1.0}])
    key = "ultrasound[0].intensity_W_per_cm2"
    PlanProblem(load_plan(write_plan(tmp_path, {key: (0.2, 2.0)}, quiet)))  # no refusal
    with pytest.raises(InputError, match=r"does not change the simulation anywhere in its "
                                         r"bounds") as e:
        PlanProblem(load_plan(write_plan(tmp_path, {key: (0.2, 0.6)}, quiet)))
    assert e.value.key == f"plan.controls.{key}"


def test_a_control_with_a_key_besides_its_bounds_is_refused_naming_that_key(tmp_path, capsys):
    """`{ lower = 1, upper = 3, initial = 2 }` said only "expected { lower = ..., upper = ...
    }", naming neither the stray key nor the value; now the key itself is named, as every
    other unknown key of a plan file is."""
    path = write_plan(tmp_path, {"ultrasound[0].intensity_W_per_cm2": (0.8, 3.0)},
                      optimiser={"starts": 1, "iterations": 2})
    code = main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet", "--set",
                 'plan.controls."ultrasound[0].intensity_W_per_cm2".initial=2'])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "key 'plan.controls.ultrasound[0].intensity_W_per_cm2.initial': unknown key" in err
    assert "allowed: lower, upper" in err


def test_an_unquoted_dotted_control_key_is_refused_saying_to_quote_it(tmp_path):
    """`material.dose_ug_per_ml = { lower = 1, upper = 40 }` without quotes is, in TOML, a
    table `material` holding `dose_ug_per_ml`: the refusal said "material is {'kind': 'ZnO',
    ...}; a control must be a real number", the scenario's own table, not what was written;
    now it names the key and says to quote it."""
    path = write_plan(tmp_path, {"ultrasound[0].start_h": (1.0, 3.0)})
    path.write_text(path.read_text().replace(
        '"ultrasound[0].start_h"', "material.dose_ug_per_ml").replace("1.0, upper = 3.0",
                                                                       "1.0, upper = 40.0"))
    with pytest.raises(InputError, match='write the whole key in quotes: '
                       '"material.dose_ug_per_ml" = ') as e:
        load_plan(path)
    assert e.value.key == "plan.controls.material"


@pytest.mark.parametrize("key", ["plan.config", "plan.constraints.normal_config"])
def test_a_scenario_path_that_is_a_folder_is_called_a_folder(tmp_path, key):
    """A folder given as the scenario or the normal-tissue config was 'no such file'."""
    path = write_plan(tmp_path, {"ultrasound[0].intensity_W_per_cm2": (0.8, 3.0)},
                      constraints={"normal_viability_min": 0.5}, normal=SPHEROID)
    with pytest.raises(InputError, match="a folder, not a file") as e:
        load_plan(path, [f'{key}="."'])
    assert e.value.key == key


def test_a_plan_that_cannot_meet_its_constraint_writes_its_files_and_exits_1(tmp_path,
                                                                          capsys, monkeypatch):
    """A cap the box can meet (doses down to 1 ug/mL under a 5 ug/mL cap) but that one Adam
    step from the scenario's 20 ug/mL, without a polish, does not reach: the files are
    written with the best found, the printed line says VIOLATED, and the exit status is 1
    naming the plan file and the constraint's key with its value (before: 0; then a message
    with the reported name only, `total_dose_ug_per_ml`, which is no key of the file). The
    summary's objective line and the figure call that protocol the best found, not the
    optimum (they did, with an objective worse than the start's where the constraint
    cost kill, 2026-12-07)."""
    import zn_pde.plan._report as plan_report

    drawn = []
    original = plan_report.figure

    def figure(*args, **kwargs):
        drawn.append(kwargs.get("best"))
        return original(*args, **kwargs)

    monkeypatch.setattr(plan_report, "figure", figure)
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (1.0, 20.0)},
                      constraints={"max_total_dose_ug_per_ml": 5.0},
                      optimiser={"starts": 1, "iterations": 1, "polish": 0})
    code = main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "VIOLATED" in captured.out
    assert "at the best protocol found, which breaks a constraint" in captured.out
    assert "at the optimum" not in captured.out and "the optimum without" not in captured.out
    assert drawn == ["best found (constraint broken)"]
    assert str(path) in captured.err
    assert "plan.constraints.max_total_dose_ug_per_ml = 5 " in captured.err
    # and what to do where no value of the controls can meet it (a constraint the timing
    # cannot move: normal tissue dying with the tumour)
    assert "add a control that moves it, e.g. the dose" in captured.err
    report = json.loads((tmp_path / "o" / "toy.json").read_text())
    cap = report["constraints"]["total_dose_ug_per_ml"]
    assert not cap["holds"] and cap["optimum"] > 5.0 and cap["tolerance"] == 1e-3
    assert cap["key"] == "plan.constraints.max_total_dose_ug_per_ml"


def test_a_constraint_only_the_step_plan_breaks_is_said_so(tmp_path, capsys, monkeypatch):
    """The optimiser's estimate (its fixed step plan) meets the normal-tissue minimum but the
    rerun as `zn-pde run` computes it does not (here forced: the rerun's normal viability is
    replaced by one below the minimum; in use, a coarse time.dt_s, e.g. 300 s on a radial
    plan, put a constraint the optimiser held at 0.70000 at 0.69875 for a minimum of 0.7).
    Exit 1 with both numbers and the step plan named as the cause, and the estimate in the
    JSON (before: "no start found a protocol in the controls' box that meets ..." and advice
    to add starts or iterations, which cannot help)."""
    normal = scenario(ph={"medium": 7.4, "tissue_rim": 7.4, "tissue_core": 7.4})
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (5.0, 20.0)}, normal=normal,
                      constraints={"normal_viability_min": 0.05},
                      optimiser={"starts": 1, "iterations": 1, "polish": 0})
    real = PlanProblem.outcome

    def rerun(self, x):
        out = real(self, x)
        out["constraints"]["normal_viability"] = 0.04
        return out

    monkeypatch.setattr(PlanProblem, "outcome", rerun)
    code = main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "no start found" not in err and "optimiser's estimate" in err, err
    assert "plan.constraints.normal_viability_min = 0.05 (0.04 as zn-pde run" in err
    assert "time.dt_s" in err and str(path) in err
    n = json.loads((tmp_path / "o" / "toy.json").read_text())["constraints"][
        "normal_viability"]
    assert not n["holds"] and n["optimum_planning_estimate"] > 0.05


@pytest.mark.parametrize("controls, scen, constraint, words", [
    # a fixed 10 ug/mL [[dose]] besides doses of 1-20 ug/mL: at least 11 > 5 (this case ran
    # the whole optimisation and exited 1, naming no file or key: an outside red-team run)
    ({"material.dose_ug_per_ml": (1.0, 20.0)},
     {"dose": [{"time_h": 3.0, "dose_ug_per_ml": 10.0}]},
     {"max_total_dose_ug_per_ml": 5.0},
     ["max_total_dose_ug_per_ml = 5 ug/mL", "smallest total dose the controls allow is 11 "
      "ug/mL", "material.dose_ug_per_ml = 1)", "a cap of at least 11 ug/mL"]),
    # no control moves the dose: the scenario's own 20 ug/mL
    ({"ultrasound[0].start_h": (1.0, 3.0)}, {}, {"max_total_dose_ug_per_ml": 5.0},
     ["smallest total dose the controls allow is 20 ug/mL (no control moves it"]),
    # acoustic energy: at least 2 W/cm^2 x 1 min x 2 repeats = 240 J/cm^2 > 200, the
    # start time (which does not move it) kept at its start
    ({"ultrasound[0].intensity_W_per_cm2": (2.0, 3.0),
      "ultrasound[0].duration_min": (1.0, 3.0), "ultrasound[0].start_h": (1.0, 3.0)},
     {"ultrasound": [{"start_h": 2.0, "duration_min": 2.0, "intensity_W_per_cm2": 2.5,
                      "frequency_MHz": 1.0, "repeats": 2, "repeat_every_h": 1.5}]},
     {"max_ultrasound_energy_J_per_cm2": 200.0},
     ["smallest ultrasound energy the controls allow is 240 J/cm^2",
      "ultrasound[0].intensity_W_per_cm2 = 2, ultrasound[0].duration_min = 1)"]),
])
def test_a_cap_no_protocol_in_the_box_meets_is_refused_before_any_solve(
        tmp_path, capsys, monkeypatch, controls, scen, constraint, words):
    """Each cap's quantity is monotone in every control, so its smallest value over the box
    is known before any solve: above the cap, the plan is bad input (exit 2) naming the plan
    file, the constraint's key and value, that smallest value and what to change. A solve
    (here made to fail) is never reached."""
    from zn_pde.plan import _problem

    def no_solve(*args, **kwargs):
        raise AssertionError("a solve was started")

    monkeypatch.setattr(_problem, "trajectory", no_solve)
    path = write_plan(tmp_path, controls, scenario(**scen), constraints=constraint,
                      optimiser={"starts": 1, "iterations": 2})
    code = main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    (key,) = constraint
    assert f"{path}: key 'plan.constraints.{key}'" in err and "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    assert not (tmp_path / "o" / "toy.json").exists()


def test_a_cap_that_cannot_bind_is_kept_with_a_warning(tmp_path, capsys):
    """Caps on light and ultrasound energy over a well-mixed culture that has neither, and
    a dose cap above every dose of the box: each does nothing, which is allowed (one
    constraints block may serve several scenarios), but said on stderr before the solve, in
    the summary and in the JSON's `warnings` and the constraint's `warning` (before: only
    "0 -> 0 (<= 5, holds)")."""
    culture = {"grid": {"kind": "well_mixed"},
               "time": {"end_h": 2.0, "dt_s": 300.0, "save_every_min": 60.0},
               "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
               "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0}}
    caps = {"max_light_energy_J_per_cm2": 5.0, "max_ultrasound_energy_J_per_cm2": 100.0,
            "max_total_dose_ug_per_ml": 50.0}
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (10.0, 30.0)}, culture,
                      constraints=caps, optimiser={"starts": 1, "iterations": 1, "polish": 0})
    problem = PlanProblem(load_plan(path))  # no solve: the checks alone
    assert set(problem.warnings) == set(caps)
    assert "has no [[light]] exposure" in problem.warnings["max_light_energy_J_per_cm2"]
    assert "has no [[ultrasound]]" in problem.warnings["max_ultrasound_energy_J_per_cm2"]
    assert "at most 30 ug/mL" in problem.warnings["max_total_dose_ug_per_ml"]
    assert main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet"]) == 0
    captured = capsys.readouterr()
    report = json.loads((tmp_path / "o" / "toy.json").read_text())
    assert sorted(report["warnings"]) == sorted(problem.warnings.values())
    for key, name in (("max_light_energy_J_per_cm2", "light_energy_J_per_cm2"),
                      ("max_ultrasound_energy_J_per_cm2", "ultrasound_energy_J_per_cm2")):
        text = problem.warnings[key]
        assert text.startswith(f"plan.constraints.{key} = ") and "does nothing" in text
        assert report["constraints"][name]["warning"] == text
        assert text in captured.err and f"warning: {text}" in captured.out


def test_a_well_mixed_plan_s_figure_draws_no_empty_depth_panels(tmp_path, monkeypatch):
    """A well-mixed scenario has no depth: its figure drew the two tumour-viability
    kymographs as empty panels on a depth axis of -0.04 to 0.04 um under titles that
    promised the viability by depth. They are left out; the protocol and the viability in
    time remain."""
    from matplotlib.figure import Figure

    drawn = []

    def savefig(self, path, *args, **kwargs):  # the plan renames what it wrote
        drawn.append(self)
        Path(path).write_bytes(b"")

    monkeypatch.setattr(Figure, "savefig", savefig)
    culture = {"grid": {"kind": "well_mixed"},
               "time": {"end_h": 2.0, "dt_s": 300.0, "save_every_min": 60.0},
               "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
               "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0}}
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (10.0, 30.0)}, culture,
                      optimiser={"starts": 1, "iterations": 1, "polish": 0})
    assert main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet"]) == 0
    (fig,) = drawn
    axes = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title() for a in axes][1:] == ["viability in time"]  # and the protocol
    assert not any("depth" in a.get_ylabel() for a in axes)


def test_set_changes_the_plan_file_s_own_settings_with_its_checks(tmp_path, capsys):
    """`--set plan.<key>=VALUE` changes the plan file as read, as `--set fit.*` does for a
    fit (before: "key 'plan': unknown section" of the scenario); the other keys still change
    the scenario; a bad value is refused as if written in the file; a resume sees the
    plan's overrides as part of the plan."""
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (1.0, 30.0)})
    s = load_plan(path, ["plan.optimiser.starts=1", "time.end_h=4.0",
                         'plan.controls."material.dose_ug_per_ml".upper=25.0',
                         "plan.constraints.max_total_dose_ug_per_ml=22.0"])
    assert s.optimiser.starts == 1 and s.config["time"]["end_h"] == 4.0
    assert s.controls[0].upper == 25.0 and s.caps == {"max_total_dose_ug_per_ml": 22.0}
    assert s.text != load_plan(path).text
    code = main(["plan", str(path), "-o", str(tmp_path / "o"), "--set",
                 "plan.optimiser.starts=0"])
    err = capsys.readouterr().err
    assert code == 2 and "key 'plan.optimiser.starts'" in err and "got 0" in err
    # an integer's range in full: the seed's upper bound read 2.14748e+09, below the value
    # refused (an outside audit)
    code = main(["plan", str(path), "-o", str(tmp_path / "o"), "--set",
                 "plan.optimiser.seed=2147483648"])
    err = capsys.readouterr().err
    assert code == 2 and "key 'plan.optimiser.seed'" in err and "Traceback" not in err
    assert "expected an integer in [0, 2147483647], got 2147483648" in err


def test_shipped_plans_are_valid_and_the_readme_reports_their_results():
    """Every configs/plan_*.toml passes the plan checks (bounds the scenario accepts, controls
    that move the model smoothly) and has a finite, non-zero gradient at its start (a
    division by a co-product that was 0 once made the ZnO2 plan's gradient NaN), and the
    README's table is generated from their reports."""
    import importlib.util
    import re

    root = Path(__file__).resolve().parent.parent
    paths = sorted((root / "configs").glob("plan_*.toml"))
    assert len(paths) >= 4
    for path in paths:
        problem = PlanProblem(load_plan(path))
        grad = problem.evaluate(problem.start).objective_grad
        assert np.all(np.isfinite(grad)) and np.any(grad != 0), (path.name, grad)
    spec = importlib.util.spec_from_file_location("plan_table", root / "scripts/plan_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    block = re.search(r"<!-- plans:start -->\n(.*?)\n<!-- plans:end -->",
                      (root / "README.md").read_text(), re.S)
    assert block and block.group(1) == module.table(), "run scripts/plan_table.py --update-readme"
    for name in module.PLANS:
        report = json.loads((root / "checkpoints" / f"{name}.json").read_text())
        assert all(c["holds"] for c in report["constraints"].values())
        start_feasible = all(c["start"] >= c["min"] if "min" in c else c["start"] <= c["max"]
                             for c in report["constraints"].values())
        if start_feasible:  # a feasible start is never worse than the optimum
            assert report["objective"]["optimum"] <= report["objective"]["start"]


def test_a_medium_ph_control_reaches_an_exchange_without_its_own_ph(tmp_path):
    """A plan control of ph.medium is the config written with that value: a
    [[medium_exchange]] without `ph` brings fresh medium at it (an outside red-team finding:
    the plan evaluated the exchange at the scenario's pH, 0.873 against the run's 0.944), so
    the plan's objective equals zn_pde.simulate's tissue viability at each pH (1e-6)."""
    import zn_pde

    scen = scenario(ph={"medium": 5.0, "tissue_rim": 7.0, "tissue_core": 6.6},
                    medium_exchange=[{"time_h": 1.0}],
                    dose=[{"time_h": 1.0, "dose_ug_per_ml": 20.0}], ultrasound=[])
    scen["time"] = {"end_h": 4.0, "dt_s": 300.0, "save_every_min": 60.0}
    problem = PlanProblem(load_plan(write_plan(tmp_path, {"ph.medium": (5.0, 7.4)}, scen)))
    for ph in (5.0, 7.4):
        objective = problem.evaluate(np.array([ph])).objective
        ds = zn_pde.simulate({**scen, "ph": {**scen["ph"], "medium": ph}}, progress=False)
        assert objective == pytest.approx(float(ds["tissue_mean_viability"][-1]), rel=1e-6)


def test_the_normal_scenario_s_exchange_takes_its_own_medium_ph(tmp_path):
    """A [[medium_exchange]] without `ph` brings fresh medium at the scenario's ph.medium:
    under the tumour's protocol the normal tissue's exchange is at the normal scenario's pH
    (7.4), not the tumour's (6.6; an outside red-team finding: the tumour's resolved pH was
    copied), and an exchange's own ph is kept."""
    from zn_pde.config import resolve
    from zn_pde.plan._problem import with_protocol

    tumour = resolve(scenario(ph={"medium": 6.6, "tissue_rim": 6.8, "tissue_core": 6.6},
                              medium_exchange=[{"time_h": 1.0}, {"time_h": 3.0, "ph": 7.0}]),
                     "<tumour>")
    normal = resolve(scenario(ph={"medium": 7.4, "tissue_rim": 7.4, "tissue_core": 7.4}),
                     "<normal>")
    both = with_protocol(normal, tumour)
    assert [x["ph"] for x in both["medium_exchange"]] == [7.4, 7.0]
    assert [x["ph"] for x in tumour["medium_exchange"]] == [6.6, 7.0]


def test_a_scenario_value_outside_the_bounds_is_said_to_be_moved(tmp_path, capsys):
    """The plan starts from the scenario's own value clipped into the box: the JSON keeps the
    scenario's value (`scenario_value`) and the summary says the 'start' is the moved
    protocol, not the scenario (it said nothing: an outside audit). The control is the
    intensity (the scenario's 1.5 W/cm^2 below a box of 2-3): the clipping and its report do
    not depend on which key is clipped, and a control that moves no event time keeps the
    planning step plan, so the plan reuses the programs the other tests of the SPHEROID
    compiled (with the exposure's start as control this test compiled its own, 9 of 11 s)."""
    path = write_plan(tmp_path, {"ultrasound[0].intensity_W_per_cm2": (2.0, 3.0)},
                      optimiser={"starts": 1, "iterations": 2, "polish": 0})
    assert main(["plan", str(path), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    report = json.loads((tmp_path / "out" / "toy.json").read_text())
    control = report["controls"]["ultrasound[0].intensity_W_per_cm2"]
    assert control["start"] == 2.0 and control["scenario_value"] == 1.5
    assert "the scenario's own value, 1.5, is outside the bounds" in capsys.readouterr().out
    inside = write_plan(tmp_path, {"ultrasound[0].intensity_W_per_cm2": (0.8, 3.0)})
    assert PlanProblem(load_plan(inside)).s.controls[0].scenario is None


@pytest.mark.parametrize("starts, key, words", [
    # the exposure starts after the 8 h run: its run leaves it out, and the control said
    # "the scenario has no numeric key 'ultrasound[0].start_h'" (the scenario has it)
    ([9.0], "ultrasound[0].start_h", "the scenario's ultrasound[0] (start_h = 9) is at or "
     "after its end (time.end_h = 8 h), so its run leaves it out"),
    # the first left out, the second renumbered to [0]: [1] said "no numeric key", and [0]
    # would have moved the second exposure while the plan file named the first
    ([9.0, 2.0], "ultrasound[1].start_h", "so ultrasound[1] as written is ultrasound[0] of "
     "the run"),
    ([9.0, 2.0], "ultrasound[0].start_h", "the scenario's ultrasound[0] (start_h = 9)"),
])
def test_a_control_of_an_exposure_the_run_leaves_out_exits_2_naming_it(tmp_path, capsys,
                                                                       starts, key, words):
    scen = scenario(ultrasound=[dict(SPHEROID["ultrasound"][0], start_h=t) for t in starts])
    path = write_plan(tmp_path, {key: (0.5, 3.0)}, scen)
    assert main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert words in err and f"key 'plan.controls.{key}'" in err and "Traceback" not in err
    # a control of an exposure the run keeps, after one it leaves out, is not refused
    scen["ultrasound"] = scen["ultrasound"][::-1]
    if len(starts) == 2:
        kept = load_plan(write_plan(tmp_path, {"ultrasound[0].start_h": (0.5, 3.0)}, scen))
        assert kept.controls[0].start == 2.0


def test_a_control_s_unit_is_the_one_its_key_name_carries(tmp_path):
    """The plan's JSON `controls[key].unit` (and its summary line) read a unit from the key's
    name with a shorter suffix list than the sweep's: `_uM_per_s` came out as "1/s",
    `_dB_per_cm_MHz` as "MHz" and `_um2_per_s` as "1/s". One reading serves both now."""
    expected = {"ultrasound[0].start_h": "h",
                "kinetics.zn_ros_max_uM_per_s": "uM/s",
                "kinetics.zn_diffusivity_tissue_um2_per_s": "um^2/s",
                "tissue.ultrasound_attenuation_dB_per_cm_MHz": "dB/(cm MHz)",
                "kinetics.light_absorption_cm2_per_ug": "cm^2/ug",
                "tissue.medium_light_attenuation_per_cm": "1/cm"}
    settings = load_plan(write_plan(tmp_path, dict.fromkeys(expected, (1e-3, 10.0))))
    assert {c.key: c.unit for c in settings.controls} == expected


def test_the_summary_says_a_control_at_its_bound_and_the_scenario_s_notes(tmp_path, capsys):
    """`zn-pde plan` prints what `zn-pde run` notes on the scenario (ultrasound below the
    cavitation threshold, which does nothing) before it solves, and a control the optimum
    leaves at a bound says so in the summary, as the JSON's `at_bound` does."""
    culture = sonicated_culture(0.5)
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (10.0, 30.0)}, culture,
                      optimiser={"starts": 1, "iterations": 30, "learning_rate": 0.5})
    assert main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "scenario note: ultrasound[0] at 0.5 W/cm^2 is at or below" in captured.err
    report = json.loads((tmp_path / "o" / "toy.json").read_text())
    assert report["controls"]["material.dose_ug_per_ml"]["at_bound"] == "upper"
    assert "(bounds 10 to 30, at its upper bound)" in captured.out


def test_a_control_held_at_its_bound_by_its_gradient_is_not_said_to_have_none(tmp_path):
    """The scenario's dose on the upper bound of its box (30 in 10 to 30): more particles
    kill more, so every step pushes the dose out of the box and it stays at the box's edge.
    It was reported as one that "no start moved" for want of a gradient, which it had: the
    JSON says it is at its upper bound, with no such warning."""
    culture = sonicated_culture(1.5, dose_ug_per_ml=30.0)
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (10.0, 30.0)}, culture,
                      optimiser={"starts": 1, "iterations": 3, "polish": 0})
    report = plan(path, tmp_path / "o", progress=False)
    dose = report["controls"]["material.dose_ug_per_ml"]
    assert dose["at_bound"] == "upper" and "warning" not in dose, dose


def test_a_dimensionless_control_s_summary_line_has_no_unit():
    """pH's unit is "1" (dimensionless); the summary printed "7.4 -> 7.399 1"."""
    from zn_pde.plan import control_line

    ph = {"start": 7.4, "optimum": 7.399, "unit": "1", "lower": 6.0, "upper": 7.4}
    assert control_line("ph.medium", ph) == "  ph.medium: 7.4 -> 7.399 (bounds 6 to 7.4)"
    dose = {**ph, "start": 10.0, "optimum": 30.0, "unit": "ug/mL", "lower": 10.0,
            "upper": 30.0, "at_bound": "upper"}
    assert control_line("material.dose_ug_per_ml", dose) == (
        "  material.dose_ug_per_ml: 10 -> 30 ug/mL (bounds 10 to 30, at its upper bound)")


def test_the_objective_line_names_an_infeasible_protocol_the_best_found():
    """Where every constraint holds the objective's line says "at the optimum"; where one
    does not, "at the best protocol found, which breaks a constraint"."""
    from zn_pde.plan import objective_line

    o = {"name": "tissue_viability", "start": 0.5673, "optimum": 0.7668}
    assert objective_line(o, "d/p.toml") == (
        "  objective tissue_viability: 0.5673 at the start -> 0.7668 at the optimum "
        "(zn-pde run d/p.toml gives it)")
    assert objective_line(o, "d/p.toml", feasible=False) == (
        "  objective tissue_viability: 0.5673 at the start -> 0.7668 at the best protocol "
        "found, which breaks a constraint (below) (zn-pde run d/p.toml gives it)")


def test_a_control_no_start_moved_is_said_to_have_no_gradient(tmp_path, capsys):
    """An ultrasound intensity below the cavitation threshold at the start (0.5 W/cm^2, box
    up to 2) has a gradient of exactly 0 there, so one start never moves it: the optimum
    reported for it is only where it started, which the summary and the JSON say (a control
    that moves, the dose, has no such warning)."""
    culture = sonicated_culture(0.5)
    key = "ultrasound[0].intensity_W_per_cm2"
    path = write_plan(tmp_path, {"material.dose_ug_per_ml": (10.0, 30.0), key: (0.2, 2.0)},
                      culture, optimiser={"starts": 1, "iterations": 6, "learning_rate": 0.5})
    assert main(["plan", str(path), "-o", str(tmp_path / "o"), "--quiet"]) == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "o" / "toy.json").read_text())
    stuck = report["controls"][key]
    assert stuck["optimum"] == pytest.approx(0.5, rel=1e-9) and "no start moved it" in (
        stuck["warning"])
    assert "warning" not in report["controls"]["material.dose_ug_per_ml"]
    assert out.count("warning: no start moved it") == 1
    assert out.index(key) < out.index("warning: no start moved it")


def test_a_polish_stopped_by_its_evaluation_budget_counts_its_iterations():
    """SLSQP on Rosenbrock's valley (no constraints) from (−1.2, 1): with max_iter = 2 its
    line search spends the 6 evaluations allowed before the second iteration's end check. The
    polish reported iterations = −1 there; it now reports those SLSQP completed (callback
    count): 2."""
    from types import SimpleNamespace

    from zn_pde.plan._optimise import polish
    from zn_pde.plan._problem import Evaluation

    def evaluate(x):
        a, b = x
        f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
        grad = np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
        return Evaluation(float(f), grad, {}, {})

    problem = SimpleNamespace(
        lower=np.array([-2.0, -2.0]), upper=np.array([2.0, 2.0]), evaluate=evaluate,
        s=SimpleNamespace(config={"numerics": {"precision": "float64"}}))
    start = evaluate(np.array([-1.2, 1.0]))
    out = polish(problem, {"x": [-1.2, 1.0], "objective": start.objective, "violation": 0.0},
                 max_iter=2)["polish"]
    assert out["evaluations"] == 6 and out["message"] == "stopped after 6 evaluations"
    assert out["iterations"] == 2, out
