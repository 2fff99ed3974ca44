"""The control run without the stimuli that `zn-pde run` writes beside a run with exposures:
what the stimuli killed, counted against the same run without them, not attributed."""

from __future__ import annotations

import contextlib
import copy
import io
import re

import h5py
import jax
import numpy as np
import pytest
from helpers import WELL_MIXED_CULTURE, config

from zn_pde._run import (
    CONTROL_DT_S,
    control_config,
    control_path,
    first_exposure_h,
    killed_text,
    own_control,
)
from zn_pde._solve import Schedule
from zn_pde.cli import main
from zn_pde.config import dumps

# the default scenario's chemistry on a radial 150 um spheroid, ultrasound at 3 h, 12 h run
RADIAL = {
    "grid": {"kind": "radial", "shape": [24], "spacing_um": 10.0},
    "geometry": {"kind": "spheroid", "radius_um": 150.0},
    "time": {"end_h": 12.0, "dt_s": 60.0, "save_every_min": 60.0},
    "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
    "ultrasound": [{"start_h": 3.0, "duration_min": 1.0, "intensity_W_per_cm2": 1.5,
                    "frequency_MHz": 1.0}],
}


def _run(tmp_path, raw, *args):
    path = tmp_path / "cfg.toml"
    path.write_text(dumps(config(raw)))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", str(path), "-o", str(tmp_path / "run.h5"), "--quiet", *args])
    return code, out.getvalue()


def _final_viability(path) -> float:
    with h5py.File(path, "r") as f:
        return float(f["tissue_mean_viability"][-1])


@pytest.fixture(scope="module")
def treated(tmp_path_factory):
    d = tmp_path_factory.mktemp("control")
    code, text = _run(d, RADIAL)
    assert code == 0
    return d, text


def test_the_control_shares_the_history_before_the_first_exposure(treated):
    """Before the first exposure the two runs are one: the control's frames up to it are the
    run's, bit for bit; its config is the run's with the intensities 0 (the exposure events
    kept, so both save the same times) and a longer step, and a control has no control."""
    d, _ = treated
    run, control = d / "run.h5", control_path(d / "run.h5")
    assert control.name == "run_control.h5"
    with h5py.File(run, "r") as a, h5py.File(control, "r") as b:
        assert b.attrs["status"] == "complete"
        np.testing.assert_array_equal(a["time"][:], b["time"][:])
        before = np.flatnonzero(a["time"][:] <= 3.0 * 3600.0)
        after = np.flatnonzero(a["time"][:] > 3.0 * 3600.0 + 60.0)
        for name in ("viability", "zn", "np_int", "gsh"):
            np.testing.assert_array_equal(a[name][before], b[name][before])
        assert np.nanmean(a["viability"][after[-1]]) < np.nanmean(b["viability"][after[-1]])
    c = control_config(config(RADIAL))
    assert c["ultrasound"][0]["intensity_W_per_cm2"] == 0.0
    assert c["time"]["dt_s"] == CONTROL_DT_S
    assert first_exposure_h(c) is None and first_exposure_h(config(RADIAL)) == 3.0


def test_the_control_is_the_run_without_the_stimuli(treated, tmp_path):
    """The control's final viability is that of the same config without its ultrasound, run
    from t = 0 at the run's own step, within 0.3 % points (the control steps 300 s after
    the exposure: the default scenario's error is 0.11 points)."""
    d, _ = treated
    plain = copy.deepcopy(RADIAL)
    del plain["ultrasound"]
    code, _ = _run(tmp_path, plain)
    assert code == 0
    assert not control_path(tmp_path / "run.h5").exists()  # no stimuli, no control
    exact = _final_viability(tmp_path / "run.h5")
    assert _final_viability(control_path(d / "run.h5")) == pytest.approx(exact, abs=3e-3)


def test_the_summary_counts_the_kill_against_the_control(treated):
    """The printed kill is the control's viability minus the run's, as stored in the two
    files; the attribution to the stimuli's own hits is printed beside it."""
    d, text = treated
    killed = re.search(r"killed by the stimuli: ([\d.]+) % of the cells \(([\d.]+) % alive "
                       r"against ([\d.]+) % in the control", text)
    assert killed, text
    run, control = _final_viability(d / "run.h5"), _final_viability(control_path(d / "run.h5"))
    assert float(killed[2]) == pytest.approx(100 * run, abs=0.006)
    assert float(killed[3]) == pytest.approx(100 * control, abs=0.006)
    assert float(killed[1]) == pytest.approx(100 * (control - run), abs=0.011)
    assert float(killed[1]) > 5.0  # the scenario's ultrasound kills
    assert "their own oxidative hits" in text and "run_vs_run_control.png" in text


def test_plot_draws_the_run_against_its_control(treated, tmp_path):
    d, _ = treated
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["plot", str(d / "run.h5"), "-o", str(tmp_path)]) == 0
    assert (tmp_path / "run_vs_run_control.png").stat().st_size > 10_000


def test_no_control_skips_it_and_says_what_is_left_out(tmp_path):
    code, text = _run(tmp_path, RADIAL, "--no-control")
    assert code == 0
    assert not control_path(tmp_path / "run.h5").exists()
    assert "killed by the stimuli's own oxidative hits" in text
    assert "--no-control" in text


def _cut_short(path, keep: int) -> None:
    """Leave the run in `path` as a kill after its first `keep` frames leaves it."""
    with h5py.File(path, "r+") as f:
        n = f["time"].shape[0]
        for d in f.values():
            if isinstance(d, h5py.Dataset) and d.ndim and d.shape[0] == n and d.maxshape[0] is None:
                d.resize(keep, axis=0)
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)


def test_a_new_run_never_replaces_a_file_at_its_control_s_name_silently(tmp_path, capsys):
    """`zn-pde run CFG -o run.h5` (run.h5 new, no --overwrite) beside an existing
    run_control.h5 (another run of that name, or a control left beside a deleted run) exits
    2 before running, naming the file and the choices, and leaves it as it was (before: the
    control replaced it silently, against the rule that outputs are never overwritten
    without --overwrite); --no-control runs and leaves it."""
    other = control_path(tmp_path / "run.h5")
    other.write_bytes(b"someone else's file")
    code, _ = _run(tmp_path, RADIAL)
    err = capsys.readouterr().err
    assert code == 2 and "run_control.h5" in err and "--overwrite" in err, err
    assert "--no-control" in err and "Traceback" not in err
    assert other.read_bytes() == b"someone else's file"
    assert not (tmp_path / "run.h5").exists()
    code, _ = _run(tmp_path, RADIAL, "--no-control", "--set", "time.end_h=4")
    assert code == 0 and other.read_bytes() == b"someone else's file"


def test_a_resumed_run_keeps_its_no_control(tmp_path):
    """A run started with --no-control and killed is resumed without a control run too
    (before: --resume forgot the choice and ran the control); one started with it resumes
    with it."""
    code, _ = _run(tmp_path, RADIAL, "--no-control")
    assert code == 0
    out = tmp_path / "run.h5"
    _cut_short(out, 2)
    with contextlib.redirect_stdout(io.StringIO()) as text:
        assert main(["run", "--resume", str(out), "--quiet"]) == 0
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "complete"
        # the CF history keeps both parts, each with where it computed
        history = f.attrs["history"].splitlines()
    assert [line.split()[3] for line in history] == ["run", "resumed"]
    assert all(f" on {jax.default_backend()} (" in line for line in history)
    assert not control_path(out).exists()
    assert "--no-control" in text.getvalue()
    code, _ = _run(tmp_path, RADIAL, "--overwrite")
    _cut_short(out, 2)
    control_path(out).unlink()
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["run", "--resume", str(out), "--quiet"]) == 0
    assert own_control(out) is not None


def test_an_interrupted_control_leaves_the_run_s_summary(tmp_path, monkeypatch, capsys):
    """SIGINT while the control computes: the run is complete, so its summary is printed
    (before: nothing on stdout), the control's file is kept as interrupted with the way to
    resume it, and the command exits 1; resuming the control completes it."""
    import zn_pde._run as run_module

    real, calls = run_module.run, []

    def interrupted_control(model, schedule, on_frame, **kw):
        calls.append(1)

        def frame(i, *args):
            on_frame(i, *args)
            if len(calls) == 2 and i >= 1:  # the control, after saving a frame of its own
                raise KeyboardInterrupt
        return real(model, schedule, frame, **kw)

    monkeypatch.setattr(run_module, "run", interrupted_control)
    path = tmp_path / "cfg.toml"
    path.write_text(dumps(config(RADIAL)))
    out = tmp_path / "run.h5"
    assert main(["run", str(path), "-o", str(out), "--quiet"]) == 1
    std = capsys.readouterr()
    assert "final tissue-mean viability" in std.out and "was not made" in std.out
    assert "the control run did not finish: interrupted by SIGINT" in std.err
    assert "run failed" not in std.err  # an interruption, not a failure
    assert f"the run itself is complete in {out}" in std.err
    control = control_path(out)
    with h5py.File(control, "r") as f:
        assert f.attrs["status"] == "interrupted"
    assert f"zn-pde run --resume {control}" in std.err
    monkeypatch.setattr(run_module, "run", real)
    assert main(["run", "--resume", str(control), "--quiet"]) == 0
    assert own_control(out) == control


def test_a_signal_as_the_run_completes_stops_the_command_not_the_file(tmp_path, monkeypatch,
                                                                   capsys):
    """SIGTERM (or Ctrl-C) while the complete run's file is being closed: the closing is not
    cut (the file says complete, every frame in it), the run's summary is printed, no control
    is started, and the command exits 1 saying why (an outside red-team finding: it said
    'interrupted before the run started; nothing was written' of a complete file)."""
    import os
    import signal

    from zn_pde.io import Writer

    original = Writer.close

    def close(self, status, message=None):
        if status == "complete":
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs inside the closing
        original(self, status, message)

    monkeypatch.setattr(Writer, "close", close)
    code, stdout = _run(tmp_path, RADIAL)
    out = tmp_path / "run.h5"
    assert code == 1
    err = capsys.readouterr().err
    assert "final tissue-mean viability" in stdout
    assert "interrupted by SIGTERM as the run completed; no control run was made" in err
    assert "run failed" not in err
    assert "nothing was written" not in err
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "complete" and f["time"][-1] == 12 * 3600.0
    assert not control_path(out).exists()


def test_the_python_api_makes_the_same_control(treated, tmp_path):
    """`simulate(..., out=path)` then `simulate_control(config, path)`: the control the
    command line writes, to the same numbers."""
    import zn_pde

    d, _ = treated
    path = tmp_path / "api.h5"
    zn_pde.simulate(copy.deepcopy(RADIAL), out=path, progress=False).close()
    result = zn_pde.simulate_control(config(RADIAL), path, progress=False)
    assert result.path == control_path(path) and result.status == "complete"
    assert float(result.summary["tissue_mean_viability"][-1]) == pytest.approx(
        _final_viability(control_path(d / "run.h5")), abs=1e-6)


def test_a_control_of_a_run_written_before_a_series_existed_computes_its_own_frames(
        treated, tmp_path):
    """A run written before `tissue_mean_atp_supply` was saved (2026-12-07) has no frames the
    control can copy in full: `simulate_control` raised h5py's KeyError on it (not an
    InputError, and a control file left `failed`). It now computes the control from t = 0,
    as a control with no frame to continue from does: complete, the series there, and its
    final viability that of the control copied from the run's frames to within the
    control's step error (`CONTROL_STEP_ERROR`: it steps at CONTROL_DT_S from t = 0 where
    the copied frames stepped at the run's 60 s up to the exposure)."""
    import shutil

    import zn_pde
    from zn_pde._run import CONTROL_STEP_ERROR

    d, _ = treated
    path = tmp_path / "old.h5"
    shutil.copy(d / "run.h5", path)
    with h5py.File(path, "r+") as f:
        del f["tissue_mean_atp_supply"]
    result = zn_pde.simulate_control(config(RADIAL), path, progress=False)
    assert result.status == "complete"
    with h5py.File(control_path(path), "r") as f:
        assert np.isfinite(f["tissue_mean_atp_supply"][-1])
    assert _final_viability(control_path(path)) == pytest.approx(
        _final_viability(control_path(d / "run.h5")), abs=CONTROL_STEP_ERROR)


def test_the_python_api_refuses_a_control_of_another_config(treated, tmp_path):
    """`simulate_control` given a config other than the run's (an override the run had
    left out) would continue the run's frames under another protocol and replace its
    control: an InputError naming the file and the argument, and no control written."""
    import shutil

    import zn_pde

    d, _ = treated
    path = tmp_path / "run.h5"
    shutil.copy(d / "run.h5", path)
    other = copy.deepcopy(RADIAL)
    other["material"]["dose_ug_per_ml"] = 10.0
    with pytest.raises(zn_pde.InputError, match="not the one this run was made from") as e:
        zn_pde.simulate_control(config(other), path, progress=False)
    assert e.value.key == "config" and str(path) in str(e.value)
    assert not control_path(path).exists()


def test_inspect_reports_the_control_and_the_kill(treated):
    from zn_pde.inspect import describe

    d, text = treated
    killed = re.search(r"killed by the stimuli: ([\d.]+) %", text)[1]
    shown = describe(d / "run.h5")
    assert f"control run without the stimuli: {control_path(d / 'run.h5')} (complete)" in shown
    assert f"killed by the stimuli: {killed} % of the cells" in shown


def test_a_dose_just_before_the_exposure_leaves_the_control_exact(tmp_path):
    """A dose 3 min before the exposure: the run saves a frame one of its steps (60 s) after
    it, the control one of its own (300 s). The control takes the run's frames only up to
    where the two schedules part, then computes its own, so its times are its schedule's
    (it can be resumed) and its end is the run without the ultrasound, within 0.3 % points
    as above (copying past the parting frame once left it 1.2 points off)."""
    dosed = copy.deepcopy(RADIAL)
    dosed["dose"] = [{"time_h": 2.95, "dose_ug_per_ml": 10.0}]
    code, _ = _run(tmp_path, dosed)
    assert code == 0
    stored = control_config(config(dosed))
    with h5py.File(control_path(tmp_path / "run.h5"), "r") as f:
        np.testing.assert_allclose(f["time"][:], Schedule.from_config(stored).save_times_s,
                                   rtol=1e-9, atol=1e-6)
    plain = copy.deepcopy(dosed)
    del plain["ultrasound"]
    (tmp_path / "plain").mkdir()
    code, _ = _run(tmp_path / "plain", plain)
    assert code == 0
    assert _final_viability(control_path(tmp_path / "run.h5")) == pytest.approx(
        _final_viability(tmp_path / "plain" / "run.h5"), abs=3e-3)


def test_a_control_left_by_another_run_is_not_used(treated, tmp_path):
    """The run made again at another dose without a control: the old control beside it is
    not its own, so inspect and plot leave it out instead of counting a kill against it."""
    import shutil

    from zn_pde.inspect import describe

    d, _ = treated
    shutil.copy(control_path(d / "run.h5"), control_path(tmp_path / "run.h5"))
    code, _ = _run(tmp_path, RADIAL, "--no-control", "--set", "material.dose_ug_per_ml=5")
    assert code == 0 and control_path(tmp_path / "run.h5").exists()
    assert own_control(tmp_path / "run.h5") is None
    assert own_control(d / "run.h5") == control_path(d / "run.h5")
    assert "killed by the stimuli:" not in describe(tmp_path / "run.h5")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["plot", str(tmp_path / "run.h5"), "-o", str(tmp_path)]) == 0
    assert not (tmp_path / "run_vs_run_control.png").exists()


def test_a_control_below_its_run_within_its_step_error_is_no_kill():
    assert killed_text(0.80, 0.90) == "10.00 % of the cells"
    assert killed_text(0.80, 0.7987).startswith("none measurable (the control ends 0.13 % points")
    assert killed_text(0.80, 0.70) == "-10.00 % of the cells"  # beyond it: shown as it is


def test_a_control_at_its_run_s_step_has_no_step_error_to_excuse():
    """A control that stepped as its run did (`longer_step` False: [oxygen] on) has no step
    error: a control ending a little below the run is what the stimuli did, shown as it is."""
    assert killed_text(0.80, 0.7987, longer_step=False) == "-0.13 % of the cells"
    # one that rounds to no kill at all reads 0.00, not -0.00 (an anoxic run, whose stimuli
    # could not act, ended 3e-8 above its control)
    assert killed_text(0.80, 0.80 - 3e-8, longer_step=False) == "0.00 % of the cells"


def test_a_well_mixed_control_steps_as_its_run(tmp_path):
    """A 2D culture (the shipped well-mixed one, 60 s steps) given a 0.6 s exposure just
    above the cavitation threshold at 1 h: the stimuli's own hits kill ~0.1 % of the cells.
    The control stepped 300 s, which alone moved it 0.05 % points below the run by 6 h
    (0.32 at 24 h, three times the default spheroid's step error), and the summary read
    "none measurable ... the control's difference from the run is its step error, not their
    doing" (a domain audit, 2026-12-07). A well-mixed control costs nothing at the run's
    step: now it takes it, and the kill it measures is the stimuli's own hits to 0.01 %
    points (what they changed for the survivors besides is far smaller here)."""
    raw = copy.deepcopy(WELL_MIXED_CULTURE)
    raw["time"].update(end_h=6.0)
    raw["ultrasound"] = [{"start_h": 1.0, "duration_min": 0.01, "intensity_W_per_cm2": 0.82,
                          "frequency_MHz": 1.0}]
    assert control_config(config(raw))["time"]["dt_s"] == 60.0
    code, text = _run(tmp_path, raw)
    assert code == 0, text
    assert "none measurable" not in text, text
    with h5py.File(tmp_path / "run.h5") as f:
        alive = float(f["tissue_mean_viability"][-1])
        own = float(f["stimulus_viability_loss"][-1])
    kill = _final_viability(control_path(tmp_path / "run.h5")) - alive
    assert own > 5e-4  # the scenario: a kill below the 300 s control's step error
    assert kill == pytest.approx(own, abs=1e-4)


def test_with_oxygen_the_control_steps_as_the_run(tmp_path):
    """With [oxygen] on the control takes the run's own step, not 300 s (the O2 profile, which
    the stimuli change most there, depends on the step: the shipped oxygen config's control
    read a 3.86 % hypoxic tissue at 300 s against 3.22 % at the run's 60 s), so it differs
    from the run only in the stimuli it removes: its frames are bit for bit those of the
    same config run with the intensities 0 from t = 0. Without oxygen it keeps the longer
    step."""
    raw = copy.deepcopy(RADIAL)
    raw["oxygen"] = {"enabled": True}
    raw["time"]["end_h"] = 6.0
    c = control_config(config(raw))
    assert c["time"]["dt_s"] == raw["time"]["dt_s"] == 60.0
    assert control_config(config(RADIAL))["time"]["dt_s"] == CONTROL_DT_S
    code, text = _run(tmp_path, raw)
    assert code == 0 and "dt_s = 60)" in text
    plain = copy.deepcopy(raw)
    plain["ultrasound"][0]["intensity_W_per_cm2"] = 0.0
    (tmp_path / "plain").mkdir()
    code, _ = _run(tmp_path / "plain", plain, "--no-control")
    assert code == 0
    with (h5py.File(control_path(tmp_path / "run.h5"), "r") as a,
          h5py.File(tmp_path / "plain" / "run.h5", "r") as b):
        np.testing.assert_array_equal(a["time"][:], b["time"][:])
        for name in ("viability", "o2", "zn", "np_int", "tissue_hypoxic_fraction"):
            np.testing.assert_array_equal(a[name][:], b[name][:], err_msg=name)


def test_inspect_of_a_cell_free_run_says_there_are_no_cells_instead_of_nan(tmp_path):
    """A cell-free grid (geometry.kind = "medium") with an exposure has no viability to
    compare: `inspect` said "killed by the stimuli: nan % of the cells (nan % alive against
    nan % at the end)"; it now says there are no cells. `zn-pde run` no longer writes such
    a control; one left by an earlier version (written here as it was) is still read."""
    from zn_pde._run import simulate_to_file
    from zn_pde.inspect import describe

    raw = copy.deepcopy(RADIAL)
    raw["geometry"] = {"kind": "medium"}
    raw["time"] = {"end_h": 4.0, "dt_s": 300.0, "save_every_min": 60.0}
    code, _ = _run(tmp_path, raw)
    assert code == 0 and not control_path(tmp_path / "run.h5").exists()
    assert "control run without the stimuli" not in describe(tmp_path / "run.h5")
    simulate_to_file(control_config(config(raw)), control_path(tmp_path / "run.h5"),
                     progress=False)
    shown = describe(tmp_path / "run.h5")
    control_part = shown[shown.index("control run without the stimuli"):]
    assert "nan" not in control_part
    assert "no cells in the run: nothing for the stimuli to kill" in control_part


@pytest.mark.parametrize("grid", [{"kind": "well_mixed"},
                                  {"kind": "radial", "shape": [4], "spacing_um": 10.0}])
def test_a_cell_free_run_makes_no_control(tmp_path, grid):
    """A vial without cells (geometry.kind = "medium") under ultrasound: the stimuli have no
    cells to kill, so no control is written (it once was, unmentioned in the summary, at the
    cost of a second run), while the same exposure on cells makes one."""
    raw = {"grid": grid, "geometry": {"kind": "medium"},
           "time": {"end_h": 0.5, "dt_s": 60.0, "save_every_min": 30.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
           "ultrasound": [{"start_h": 0.1, "duration_min": 1.0, "intensity_W_per_cm2": 1.5}]}
    code, text = _run(tmp_path, raw)
    assert code == 0, text
    assert not control_path(tmp_path / "run.h5").exists()
    assert zn_pde_run_ros(tmp_path / "run.h5") > 0.0  # the exposure acted in the medium
    raw["geometry"] = {"kind": "uniform", "cell_volume_fraction": 0.002}
    if grid["kind"] != "well_mixed":
        raw["boundary"] = {"kind": "dirichlet"}
    code, text = _run(tmp_path, raw, "--overwrite")
    assert code == 0, text
    assert control_path(tmp_path / "run.h5").exists()


def zn_pde_run_ros(path) -> float:
    with h5py.File(path, "r") as f:
        return float(np.max(f["max_ros"][:]))


@pytest.mark.parametrize("exposure", [
    {"light": [{"start_h": 0.1, "duration_min": 1.0, "irradiance_mW_per_cm2": 20.0,
                "wavelength_nm": 650.0}]},  # below ZnO's band gap, no photosensitiser
    {"ultrasound": [{"start_h": 0.1, "duration_min": 1.0, "intensity_W_per_cm2": 0.2,
                     "frequency_MHz": 1.0}]},  # below the inertial-cavitation threshold
])
def test_stimuli_that_cannot_act_make_no_control(tmp_path, exposure, capsys):
    """Light below the band gap (nothing absorbs it) and ultrasound below the cavitation
    threshold make no ROS, so their control would be the run itself: none is made (it once
    was, a second run for nothing), the summary says why, and the note that says they do
    nothing comes before the run (on stderr), not only in the summary after it. The same
    run above the gap / the threshold makes one."""
    raw = {"grid": {"kind": "radial", "shape": [4], "spacing_um": 5.0},
           "geometry": {"kind": "spheroid", "radius_um": 10.0},
           "time": {"end_h": 0.5, "dt_s": 60.0, "save_every_min": 30.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0}, **exposure}
    code, text = _run(tmp_path, raw)
    assert code == 0, text
    assert not control_path(tmp_path / "run.h5").exists()
    assert "none of them can make ROS" in text
    assert "note:" in capsys.readouterr().err
    assert own_control(tmp_path / "run.h5") is None
    for e in raw.get("light", []):
        e["wavelength_nm"] = 365.0
    for e in raw.get("ultrasound", []):
        e["intensity_W_per_cm2"] = 1.5
    code, text = _run(tmp_path, raw, "--overwrite")
    assert code == 0, text
    assert control_path(tmp_path / "run.h5").exists()
    assert "none of them can make ROS" not in text


@pytest.mark.parametrize("events", [{}, {"dose": [{"time_h": 0.25, "dose_ug_per_ml": 0.0}]}])
def test_a_run_with_no_particles_makes_no_control(tmp_path, events):
    """Ultrasound above the cavitation threshold on a spheroid given no particles (dose 0 at
    t = 0 and in every [[dose]]): the stimuli act only through particles, so the run is its
    own control; none is made (a helper's config audit found one made, its summary 'killed
    0.00 %' with a line on what the stimuli changed for the survivors), and the summary says
    why. The same run with a dose makes one."""
    raw = {"grid": {"kind": "radial", "shape": [4], "spacing_um": 5.0},
           "geometry": {"kind": "spheroid", "radius_um": 10.0},
           "time": {"end_h": 0.5, "dt_s": 60.0, "save_every_min": 30.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 0.0},
           "ultrasound": [{"start_h": 0.1, "duration_min": 1.0, "intensity_W_per_cm2": 1.5,
                           "frequency_MHz": 1.0}], **events}
    code, text = _run(tmp_path, raw)
    assert code == 0, text
    assert not control_path(tmp_path / "run.h5").exists()
    assert "no particles are given (dose 0)" in text, text
    assert "for the survivors" not in text
    raw["material"]["dose_ug_per_ml"] = 20.0
    code, text = _run(tmp_path, raw, "--overwrite")
    assert code == 0, text
    assert control_path(tmp_path / "run.h5").exists()
    assert "no particles are given" not in text


def test_an_exposure_before_any_particles_kills_none_and_claims_no_change(tmp_path):
    """Ultrasound at 2 h, the particles given at 4 h: the stimuli make their ROS at the
    particles, so the exposure makes none and hits no cell (radical dose 0 everywhere). An
    outside review of such a protocol found the summary's next line claiming "what they
    changed for the survivors"; then (a domain audit, 2026-12-07) a control was still made
    that could only differ from the run by its own longer step (0.04 % points on the 250 um
    default spheroid), with nothing in the output saying why the exposure did nothing. Now
    validate and run note that the exposure ends before any particles are given, and no
    control is made, as for a run given no particles at all. Particles given at the
    exposure's start make a control again."""
    raw = copy.deepcopy(RADIAL)
    raw["material"]["dose_ug_per_ml"] = 0.0
    raw["dose"] = [{"time_h": 4.0, "dose_ug_per_ml": 20.0}]
    raw["ultrasound"][0]["start_h"] = 2.0
    code, text = _run(tmp_path, raw)
    assert code == 0
    with h5py.File(tmp_path / "run.h5", "r") as f:
        assert np.nanmax(f["radical_dose"][:]) == 0.0
    assert not control_path(tmp_path / "run.h5").exists()
    assert ("note: ultrasound[0] ends by 2.017 h, before any particles are given (the first "
            "at 4 h)") in text, text
    assert "killed by the stimuli: 0.00 % of the cells: none of them can make ROS" in text
    assert "what they changed for the survivors" not in text
    raw["dose"][0]["time_h"] = 2.0  # given as the exposure starts: it acts on them
    code, text = _run(tmp_path, raw, "--overwrite")
    assert code == 0
    assert control_path(tmp_path / "run.h5").exists()
    assert "before any particles are given" not in text


def test_the_note_on_exposures_before_the_particles_counts_their_repeats():
    """Of three light repeats (0.5, 1.5, 2.5 h, 5 min each) before a dose at 2 h, the first
    two are noted; an exposure ending exactly at the dose's time is over before it acts (a
    dose acts at the start of the step at its time); one of zero intensity is not noted
    (the control's own kind of exposure)."""
    from zn_pde._notes import config_notes
    from zn_pde._run import all_exposures_before_particles

    raw = {"grid": {"kind": "well_mixed"},
           "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
           "time": {"end_h": 3.0, "dt_s": 60.0, "save_every_min": 60.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 0.0},
           "dose": [{"time_h": 2.0, "dose_ug_per_ml": 20.0}],
           "light": [{"start_h": 0.5, "duration_min": 5.0, "wavelength_nm": 365.0,
                      "irradiance_mW_per_cm2": 20.0, "repeats": 3, "repeat_every_h": 1.0}],
           "ultrasound": [{"start_h": 1.0, "duration_min": 60.0, "intensity_W_per_cm2": 1.5,
                           "frequency_MHz": 1.0}]}
    notes = [n for n in config_notes(config(raw), at_validate=True) if "before any" in n]
    assert notes == [
        "  note: ultrasound[0] ends by 2 h, before any particles are given (the first at 2 h): "
        "the stimuli make their ROS at the particles, so it makes none",
        "  note: the first 2 of the 3 repeats of light[0] end by 1.583 h, before any particles "
        "are given (the first at 2 h): the stimuli make their ROS at the particles, so they "
        "make none"]
    assert not all_exposures_before_particles(config(raw))  # light's third repeat acts
    raw["light"][0]["repeats"] = 2
    assert all_exposures_before_particles(config(raw))
    raw["ultrasound"][0]["intensity_W_per_cm2"] = 0.0
    assert [n for n in config_notes(config(raw), at_validate=True)
            if "ultrasound[0]" in n] == []
