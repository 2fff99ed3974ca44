"""Honest summaries (issue 15): where each ROS peak is (tissue / medium / anywhere), rim and
core viability, depth of kill; sweeps summarise exactly as single runs; inspect describes a
sweep file and plot refuses one with a message that says what to do instead."""

from __future__ import annotations

import copy

import h5py
import numpy as np
import pytest
from helpers import WELL_MIXED_CULTURE, config, sonicated_culture

from zn_pde._grid import penetration_depth_um
from zn_pde._model import build_model
from zn_pde._run import SUMMARY_UNITS, summarise
from zn_pde._sweep import run_sweep
from zn_pde.cli import main
from zn_pde.config import dumps

# a small spheroid (radius 200 um, 30 um voxels) with an ultrasound burst between frames
SPHEROID = {
    "grid": {"shape": [16, 16, 16], "spacing_um": 30.0},
    "geometry": {"kind": "spheroid", "radius_um": 200.0},
    "time": {"end_h": 3.0, "dt_s": 60.0, "save_every_min": 60.0},
    "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
    "ultrasound": [{"start_h": 1.5, "duration_min": 1.0, "intensity_W_per_cm2": 1.0,
                    "frequency_MHz": 1.0}],
}


def _fields(model, viability, ros_tissue=0.5, ros_medium=3.0):
    tissue = np.asarray(model.tissue)
    shape = tissue.shape
    return {"np": np.zeros(shape), "np_int": np.zeros(shape), "zn": np.zeros(shape),
            "zn_cell": np.zeros(shape),
            "ros": np.where(tissue, ros_tissue, ros_medium),
            "viability": np.where(tissue, viability, np.nan)}


def test_summarise_names_where_each_value_is():
    """On constructed fields: ROS maxima per place, rim / core shell means, depth of kill."""
    c = config({**SPHEROID, "grid": {"shape": [24, 24, 24], "spacing_um": 20.0}})
    model = build_model(c)
    tissue = np.asarray(model.tissue)
    depth = np.asarray(model.depth_um)
    radius = depth[tissue].max()
    assert 180.0 < radius <= 200.0

    # dead (20 %) down to 50 um below the surface, alive (100 %) deeper
    s = summarise(model, _fields(model, np.where(depth < 50.0, 0.2, 1.0)))
    assert s["tissue_max_ros"] == 0.5 and s["medium_max_ros"] == 3.0 and s["max_ros"] == 3.0
    assert s["tissue_rim_viability"] == pytest.approx(0.2)  # 0.2 R < 50 um: all dead
    assert s["tissue_core_viability"] == pytest.approx(1.0)
    assert 40.0 < s["depth_of_kill_um"] < 60.0  # the 40-60 um shell straddles 50 um
    rim = depth[tissue] <= 0.2 * radius
    assert s["tissue_mean_viability"] == pytest.approx(
        np.where(depth[tissue] < 50.0, 0.2, 1.0).mean())
    assert rim.sum() > 0 and (depth[tissue] >= 0.8 * radius).sum() > 0

    # a stepped profile: the crossing is between the last dead and the first live shell
    s = summarise(model, _fields(model, np.where(depth < 100.0, 0.0, 1.0)))
    assert 80.0 < s["depth_of_kill_um"] < 120.0
    # all alive: 0; all dead: down to the deepest voxel; medium ROS above tissue ROS is kept
    assert summarise(model, _fields(model, 0.6))["depth_of_kill_um"] == 0.0
    dead = summarise(model, _fields(model, 0.1, ros_tissue=7.0, ros_medium=1.0))
    assert dead["depth_of_kill_um"] == pytest.approx(radius)
    assert dead["tissue_max_ros"] == 7.0 and dead["medium_max_ros"] == 1.0
    assert dead["tissue_rim_viability"] == pytest.approx(0.1)
    assert set(s) == set(SUMMARY_UNITS)


def test_living_cell_pools_average_over_the_living_cells():
    """`tissue_mean_zn_cell` and `tissue_mean_gsh` are per living-cell volume: their tissue
    mean weighs each voxel by its living cells (φ V times its volume), as a lysate assay
    does, so the dead rim's pools (exactly: a rim at V = 0.2 counts a fifth) do not pull the
    mean to the rim's values; NaN once no cell is alive."""
    model = build_model(config({**SPHEROID, "grid": {"shape": [24, 24, 24],
                                                     "spacing_um": 20.0}}))
    tissue = np.asarray(model.tissue)
    depth = np.asarray(model.depth_um)
    rim = depth < 50.0
    v = np.where(rim, 0.2, 1.0)
    fields = _fields(model, v)
    fields["zn_cell"] = np.where(rim, 100.0, 10.0)
    fields["gsh"] = np.where(rim, 1000.0, 5000.0)
    s = summarise(model, fields)
    n_rim, n_core = (tissue & rim).sum(), (tissue & ~rim).sum()
    for key, (at_rim, deeper) in (("tissue_mean_zn_cell", (100.0, 10.0)),
                                  ("tissue_mean_gsh", (1000.0, 5000.0))):
        expect = (0.2 * n_rim * at_rim + n_core * deeper) / (0.2 * n_rim + n_core)
        assert s[key] == pytest.approx(expect, rel=1e-12)
        plain = (n_rim * at_rim + n_core * deeper) / (n_rim + n_core)
        assert abs(s[key] - plain) > 0.1 * abs(plain - deeper)  # the weighting matters here
    # the viability itself stays the plain tissue mean (of all cells, dead included)
    assert s["tissue_mean_viability"] == pytest.approx(v[tissue].mean(), rel=1e-12)
    dead = summarise(model, {**fields, "viability": np.where(tissue, 0.0, np.nan)})
    assert np.isnan(dead["tissue_mean_zn_cell"]) and np.isnan(dead["tissue_mean_gsh"])


def test_the_atp_supply_series_is_the_energy_law_at_the_living_cells_free_zinc():
    """`tissue_mean_atp_supply`: the living cells' ATP supply E = 1/(1 + f/K_Zn) without
    H2S or O2 (respiration unlimited), f the free Zn2+ metallothionein leaves of the cells'
    zinc T at resting glutathione: the positive root of f² + (K_d + B − T) f − K_d T = 0,
    solved here by numpy's polynomial roots; averaged over the living cells as the other
    pools are (a rim at V = 0.2 with 100 µM zinc, deeper cells 10 µM). No zinc: 1 (an
    untreated cell). Fails if: the series read another zinc (total, not free), ignored the
    living-cell weighting, or the inhibition constant."""
    model = build_model(config({**SPHEROID, "grid": {"shape": [24, 24, 24],
                                                     "spacing_um": 20.0}}))
    k = model.kinetics
    tissue, rim = np.asarray(model.tissue), np.asarray(model.depth_um) < 50.0
    fields = _fields(model, np.where(rim, 0.2, 1.0))
    fields["gsh"] = np.full(tissue.shape, float(k.gsh_initial_uM))
    assert summarise(model, {**fields, "zn_cell": np.zeros(tissue.shape)})[
        "tissue_mean_atp_supply"] == pytest.approx(1.0, rel=1e-12)
    fields["zn_cell"] = np.where(rim, 100.0, 10.0)
    kd, cap, ki = (float(x) for x in (k.mt_kd_uM, k.mt_capacity_uM, k.zn_energy_ki_uM))

    def supply(total):
        free = max(np.roots([1.0, kd + cap - total, -kd * total]).real)
        return 1.0 / (1.0 + free / ki)

    n_rim, n_core = (tissue & rim).sum(), (tissue & ~rim).sum()
    expect = (0.2 * n_rim * supply(100.0) + n_core * supply(10.0)) / (0.2 * n_rim + n_core)
    assert supply(100.0) < 0.5 < supply(10.0)  # the two pools differ: the weighting counts
    # to the float32 rounding of the kinetic constants the model holds
    assert summarise(model, fields)["tissue_mean_atp_supply"] == pytest.approx(expect,
                                                                               rel=1e-6)


def test_well_mixed_and_tissue_free_summaries():
    """Well-mixed: one compartment, so both ROS maxima are its value and nothing spatial is
    defined (NaN); a release vial (no cells) has no tissue values."""
    model = build_model(config(WELL_MIXED_CULTURE))
    fields = {k: np.full((1, 1, 1), v) for k, v in
              {"np": 10.0, "np_int": 0.0, "zn": 1.0, "zn_cell": 2.0, "ros": 0.3,
               "viability": 0.4}.items()}
    s = summarise(model, fields)
    assert s["tissue_max_ros"] == pytest.approx(0.3) and s["medium_max_ros"] == pytest.approx(0.3)
    for k in ("tissue_rim_viability", "tissue_core_viability", "depth_of_kill_um"):
        assert np.isnan(s[k])
    vial = copy.deepcopy(WELL_MIXED_CULTURE)
    vial["geometry"] = {"kind": "medium"}
    model = build_model(config(vial))
    s = summarise(model, fields)
    assert np.isnan(s["tissue_max_ros"]) and np.isnan(s["tissue_mean_viability"])
    assert s["medium_max_ros"] == pytest.approx(0.3)


def test_stimulus_loss_holds_when_the_stimulus_kills_nearly_every_cell():
    """The viability the stimuli removed, min(V e^{D/D₀}, 1) − V per voxel, taken through
    logarithms: right at V = 1e-26, D/D₀ = 58.7 (to 1e-9), and never more than the cells
    left to lose. In a culture where ultrasound (3 W/cm², 10 min at 23 h) kills all but
    < 1e-6 of the cells, it stays within 0.1 of the run without it (0.63 alive; an
    attribution, not a second run, so not exact: the stimulus also changes what the
    survivors meet)."""
    from zn_pde._run import stimulus_loss

    lost = stimulus_loss(np.asarray([1e-26, 0.5, 0.5]), np.asarray([58.7, 5.0, 0.1]))
    assert lost[0] == pytest.approx(np.exp(np.log(1e-26) + 58.7) - 1e-26, rel=1e-9)
    assert lost[1] == pytest.approx(0.5, rel=1e-12)  # capped: all its cells
    assert lost[2] == pytest.approx(0.5 * np.expm1(0.1), rel=1e-12)
    from zn_pde import simulate

    # (UV-A, bounded by the photons the particles absorb, no longer kills that many)
    sound = [{"start_h": 23.0, "duration_min": 10.0, "intensity_W_per_cm2": 3.0,
              "frequency_MHz": 1.0}]
    dark = simulate(copy.deepcopy(WELL_MIXED_CULTURE), progress=False)
    lit = simulate({**copy.deepcopy(WELL_MIXED_CULTURE), "ultrasound": sound}, progress=False)
    alive = float(lit["tissue_mean_viability"][-1])
    assert alive < 1e-6
    assert alive + float(lit["stimulus_viability_loss"][-1]) == pytest.approx(
        float(dark["tissue_mean_viability"][-1]), abs=0.1)


def test_stimulus_loss_is_exact_where_the_viability_underflows():
    """An hour of 3 W/cm² ultrasound takes the culture's hazard H past float32's range: its
    viability underflows to 0. The attribution comes from the stored H (V = e^{-H}, checked
    to 1e-5 before), so float32 and float64 runs agree to 0.05 on it; through ln V with V
    floored at float32's smallest normal it read ~1 (every cell), more than the particles
    alone leave alive (the red-team case). (Since glutathione reductase, 2026-12-04, the
    float64 run's last e^-100 of cells lose their glutathione late in the exposure, as the
    fluid's ROS, no longer taken up by the dead, outruns the reductase, while float32's
    cells are gone at the underflow: 0.026 apart, 0.01 before.)"""
    from zn_pde import simulate
    from zn_pde._run import stimulus_loss

    sound = [{"start_h": 22.0, "duration_min": 60.0, "intensity_W_per_cm2": 3.0,
              "frequency_MHz": 1.0}]
    raw = {**copy.deepcopy(WELL_MIXED_CULTURE), "ultrasound": sound}
    runs = {p: simulate({**copy.deepcopy(raw), "numerics": {"precision": p}}, progress=False)
            for p in ("float32", "float64")}
    h = {p: np.asarray(runs[p]["hazard"], float) for p in runs}
    v = {p: np.asarray(runs[p]["viability"], float) for p in runs}
    # past float32's smallest normal number, e^-87.3: the stored viability is 0
    assert h["float32"][-1] > 88.0 and v["float32"][-1] == 0.0
    ok = h["float64"] < 80.0  # the frames before (stored as float32: to its precision)
    assert ok.sum() >= 20
    np.testing.assert_allclose(v["float64"][ok], np.exp(-h["float64"][ok]), rtol=1e-5)
    lost = {p: float(runs[p]["stimulus_viability_loss"][-1]) for p in runs}
    # (H and D/D0 reach ~200 each: float32 arithmetic over the exposure moves their
    # difference, the exponent, by ~0.01)
    assert lost["float32"] == pytest.approx(lost["float64"], abs=0.05)
    dark = simulate(copy.deepcopy(WELL_MIXED_CULTURE), progress=False)
    assert lost["float32"] < float(dark["tissue_mean_viability"][-1]) + 0.1 < 0.9
    hits = float(runs["float32"]["radical_dose"][-1]) / config(raw)["kinetics"][
        "oxidative_lethal_dose_uM"]
    assert float(stimulus_loss(np.zeros(1), np.asarray([hits]))[0]) == 1.0  # without H


@pytest.mark.parametrize("first, doses", [(20.0, []), (20.0, [(2.0, 20.0), (3.0, 5.0)]),
                                          (0.0, [(1.0, 10.0)])])
def test_dissolved_percent_is_the_share_of_the_particles_given_so_far(first, doses):
    """A release vial's `dissolved_percent` is the share of the particles given so far that
    dissolved: the dose at t = 0 and each [[dose]] from its time on (a frame at a dose's time
    holds the state just before it). Checked against the zinc balance of a cell-free vial,
    dissolved Zn2+ = c_Zn x dissolved share x particles given (c_Zn = 12.29 uM per ug/mL of
    ZnO, 1000/81.379), at every frame; it once was NaN with any [[dose]]. With a
    [[medium_exchange]], which washes out an untracked share, it stays NaN."""
    from zn_pde import simulate

    vial = {"grid": {"kind": "well_mixed"},
            "time": {"end_h": 4.0, "dt_s": 60.0, "save_every_min": 60.0},
            "geometry": {"kind": "medium"}, "ph": {"medium": 6.5},
            "numerics": {"precision": "float64"},
            "material": {"kind": "ZnO", "dose_ug_per_ml": first},
            "dose": [{"time_h": t, "dose_ug_per_ml": d} for t, d in doses]}
    ds = simulate(copy.deepcopy(vial), progress=False)
    t_h = np.asarray(ds["time"]) / 3600.0
    given = first + sum(d * (t_h > t + 1e-9) for t, d in doses)
    share = np.asarray(ds["dissolved_percent"], float)
    zn = np.asarray(ds["mean_zn"], float)
    c_zn = 1000.0 / (65.38 + 15.999)  # ZnO, g/mol
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(given > 0, 100.0 * zn / (c_zn * given), np.nan)
    assert np.all((share >= 0) & (share <= 100) | np.isnan(share))
    assert np.isnan(share[given == 0]).all()
    assert np.allclose(share[given > 0], expected[given > 0], rtol=1e-6, atol=1e-9)
    assert share[-1] > 1.0  # pH 6.5 dissolves a measurable share within hours
    vial["medium_exchange"] = [{"time_h": 2.5}]
    assert np.all(np.isnan(simulate(vial, progress=False)["dissolved_percent"]))


@pytest.mark.parametrize("geometry", [{"kind": "medium"},
                                      {"kind": "uniform", "cell_volume_fraction": 0.01}])
def test_dissolved_percent_holds_a_slow_dissolution_in_float32(geometry):
    """At a 1 s step, ZnO at pH 7.4 loses ~5e-6 ug/mL of its 20 ug/mL per step, below the
    float32 particle pool's last digit (1.9e-6 at 20): the share read from the particles left
    was 0.82 % where float64 gives 1.04 % after 12 h (an outside audit). Read from the zinc
    out of the particles, it agrees with the float64 run to the float32 zinc's accuracy
    (1e-3 relative, stated: the dissolved pools' own round-off over 14400 steps), in a
    cell-free vial and in a culture."""
    from zn_pde import simulate

    vial = {"grid": {"kind": "well_mixed"},
            "time": {"end_h": 4.0, "dt_s": 1.0, "save_every_min": 60.0},
            "geometry": geometry, "ph": {"medium": 7.4},
            "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0}}
    share = {}
    for precision in ("float32", "float64"):
        raw = copy.deepcopy(vial)
        raw["numerics"] = {"precision": precision}
        share[precision] = np.asarray(simulate(raw, progress=False)["dissolved_percent"], float)
    assert share["float64"][-1] > 0.2  # a measurable share
    assert np.allclose(share["float32"][1:], share["float64"][1:], rtol=1e-3)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A single run (through the CLI, with its printed summary), a one-point sweep of the same
    config and a two-point sweep."""
    d = tmp_path_factory.mktemp("summaries")
    single = d / "single.h5"
    toml = d / "single.toml"
    toml.write_text(dumps(config(SPHEROID)))
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["run", str(toml), "-o", str(single), "--quiet"]) == 0
    one = d / "one.h5"
    run_sweep(config({**SPHEROID, "sweep": {"material.dose_ug_per_ml": [20.0]}}), one,
              progress=False)
    two = d / "two.h5"
    table = run_sweep(config({**SPHEROID, "sweep": {"material.dose_ug_per_ml": [5.0, 40.0]}}),
                      two, progress=False)
    return {"single": single, "printed": buf.getvalue(), "one": one, "two": two,
            "table": table}


def test_one_point_sweep_summarises_as_the_single_run(runs):
    """Every series of the single run (SUMMARY_UNITS) is in the sweep, frame by frame equal
    within float32 round-off, per-step ROS peaks by place included."""
    with h5py.File(runs["single"], "r") as f, h5py.File(runs["one"], "r") as g:
        np.testing.assert_allclose(g["time"][:], f["time"][:])
        for name, (units, long_name) in SUMMARY_UNITS.items():
            a, b = np.asarray(f[name][:], float), np.asarray(g[name][0], float)
            np.testing.assert_allclose(b, a, rtol=2e-5, atol=1e-9, err_msg=name)
            assert g[name].attrs["units"] == units == f[name].attrs["units"]
            assert g[name].attrs["long_name"] == long_name
        # the peak anywhere is the larger of the peaks by place, frame by frame
        np.testing.assert_array_equal(f["max_ros"][:], np.maximum(f["tissue_max_ros"][:],
                                                                  f["medium_max_ros"][:]))


def test_peaks_by_place_are_the_maxima_over_every_step():
    """`advance`'s peaks are the maxima of ROS over the tissue and over the medium after every step
    since the frame it starts from (checked against stepping one step at a time: the same float32
    operations, so equal to 1e-6), and the run's summary carries them: the exposure at 1.5 h,
    between the frames at 1 and 2 h, is in the 2 h frame's tissue and medium peaks though not in
    either frame."""
    import jax.numpy as jnp

    from zn_pde._run import with_step_peaks
    from zn_pde._solve import PEAK_PLACES, Schedule, advance, factorise

    # a fixed bulk medium: its walls hold no peroxide, so the ROS of the exposure is gone by
    # the next frame (a reacting bulk keeps the ROS its particles made under the beam)
    c = config({**SPHEROID, "grid": {"shape": [10, 10, 10], "spacing_um": 40.0},
                "time": {**SPHEROID["time"], "end_h": 2.0, "save_around_events": False},
                "boundary": {"kind": "dirichlet", "bulk_medium": "fixed"}})
    model = build_model(c)
    assert PEAK_PLACES == ("tissue", "medium")
    transport = factorise(model)
    chunks = Schedule.from_model(model).chunks
    assert len(chunks) == 2  # frames at 0, 1 and 2 h only
    state, _ = advance(model, transport, model.initial_state(), jnp.asarray(chunks[0]))
    tissue, medium = np.asarray(model.tissue), ~np.asarray(model.tissue)
    ros = model.mobile_names.index("ros")
    by_step = []  # (tissue max, medium max) after every step from the 1 h frame
    s = state
    for _ in range(chunks[1]):
        s, _ = advance(model, transport, s, jnp.asarray(1))
        r = np.asarray(s.mobile[..., ros])
        by_step.append((r[tissue].max(), r[medium].max()))
    end, peaks = advance(model, transport, state, jnp.asarray(chunks[1]))
    np.testing.assert_allclose(np.asarray(peaks)[:, ros], np.max(by_step, axis=0), rtol=1e-6)
    frames = [np.asarray(x.mobile[..., ros]) for x in (state, end)]
    for j, where in enumerate((tissue, medium)):
        assert np.max(by_step, axis=0)[j] > 10 * max(f[where].max() for f in frames)
    fields = {n: np.asarray(end.mobile[..., i]) for i, n in enumerate(model.mobile_names)}
    fields.update({n: np.asarray(end.fixed[..., i]) for i, n in enumerate(model.fixed_names)})
    frame = summarise(model, fields)
    raised = with_step_peaks(model, frame, np.asarray(peaks))
    assert raised["tissue_max_ros"] == pytest.approx(float(peaks[0, ros]), rel=1e-6)
    assert raised["medium_max_ros"] == pytest.approx(float(peaks[1, ros]), rel=1e-6)
    assert raised["max_ros"] == max(raised["tissue_max_ros"], raised["medium_max_ros"])
    assert raised["tissue_max_ros"] > 10 * frame["tissue_max_ros"]


def test_a_frame_s_peak_leaves_out_the_previous_frame():
    """A frame's per-step peaks are over the steps since the previous frame, not that frame
    itself (found by an outside audit, 2026-12-06: the interval's starting state was among
    them, so with one step per frame the ROS peak of a cell-free well after its exposure
    repeated the previous frame's value, frame after frame, while the ROS decayed; and the
    frame after a medium exchange showed the ROS of the medium it washed out). With one step
    per frame each frame's peak is its own ROS."""
    from zn_pde import simulate

    c = {"grid": {"kind": "well_mixed"}, "geometry": {"kind": "medium"},
         "time": {"end_h": 1.0, "dt_s": 300.0, "save_every_min": 5.0},
         "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
         "ultrasound": [{"start_h": 0.0, "duration_min": 10.0, "intensity_W_per_cm2": 2.0}]}
    ds = simulate(c, progress=False)
    ros = ds["ros"].values
    assert ros[3] < ros[2]  # decaying after the exposure: a lag would show
    np.testing.assert_allclose(ds["medium_max_ros"].values, ros, rtol=1e-6)
    np.testing.assert_allclose(ds["max_ros"].values, ros, rtol=1e-6)


def test_sweep_table_gives_peaks_over_time(runs):
    table = runs["table"]
    with h5py.File(runs["two"], "r") as g:
        for name in ("max_ros", "tissue_max_ros", "medium_max_ros"):
            np.testing.assert_allclose(table[f"peak_{name}"], g[name][:].max(axis=1))
            np.testing.assert_allclose(table[name], g[name][:, -1])
    csv = runs["two"].with_name("two_summary.csv").read_text().splitlines()
    head = csv[0].split(",")
    assert "final_depth_of_kill_um" in head and "peak_tissue_max_ros_uM" in head
    assert len(csv) == 3


def test_run_summary_names_places(runs):
    out = runs["printed"]
    assert "peak ROS in tissue: " in out and " / in medium: " in out
    assert "over every step" in out
    assert "(6 frames, 0 to 3 h; 2 of them around the exposures, doses and exchanges)" in out
    assert "depth of kill (shell-mean viability below 50 %)" in out
    assert "particle penetration depth" in out and "rim " in out and "core " in out
    assert "\n  peak ROS: " not in out  # no unqualified peak
    assert "glutathione in the living cells: final " in out


def test_inspect_single_run_columns(runs, capsys):
    assert main(["inspect", str(runs["single"])]) == 0
    out = capsys.readouterr().out
    for words in ("ROS max tissue", "ROS max medium", "ROS max all*", "rim %", "core %",
                  "kill depth um", "NP depth um", "GSH uM", "tissue_max_ros",
                  "depth_of_kill_um"):
        assert words in out, words


def test_inspect_describes_a_sweep(runs, capsys):
    assert main(["inspect", str(runs["two"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"zn-pde sweep output {runs['two']}")
    assert "material.dose_ug_per_ml = 5, 40 ug/mL" in out and "2 points" in out
    # hourly, and at the start and the end of the 1.5 h exposure
    assert "6 frames from 0 to 3 h" in out and "final_viability" in out
    assert "every 60 min and around every point's events: 1.5, 1.517 h" in out
    lines = out.splitlines()
    i = next(k for k, x in enumerate(lines) if x.strip().startswith("material.dose_ug_per_ml  "))
    assert "peak ROS tissue" in lines[i] and "viability %" in lines[i]
    rows = [lines[i + 1].split(), lines[i + 2].split()]
    assert [r[0] for r in rows] == ["5", "40"]
    with h5py.File(runs["two"], "r") as g:
        v = g["tissue_mean_viability"][:, -1]
    assert [float(r[1]) for r in rows] == pytest.approx(100 * v, rel=1e-3)
    assert main(["inspect", "--config", str(runs["two"])]) == 0
    assert "[sweep]" in capsys.readouterr().out


def test_inspect_lists_a_sweep_s_keys_in_the_sweep_s_order(tmp_path, capsys):
    """`inspect` listed the swept keys, and the points' columns, alphabetically (the file's
    dataset order), where the summary table and figure follow the [sweep] table: its first
    key is the figure's x axis and its last varies fastest down the points (an outside
    audit)."""
    raw = {**copy.deepcopy(WELL_MIXED_CULTURE), "time": {"end_h": 1.0, "dt_s": 120.0},
           "sweep": {"ph.medium": [6.5, 7.4], "material.dose_ug_per_ml": [5.0, 20.0]}}
    run_sweep(config(raw), tmp_path / "s.h5", progress=False)
    assert main(["inspect", str(tmp_path / "s.h5")]) == 0
    lines = capsys.readouterr().out.splitlines()
    i = lines.index("swept keys (4 points: every combination of the values)")
    assert lines[i + 1].startswith("  ph.medium = 6.5, 7.4")
    assert lines[i + 2].startswith("  material.dose_ug_per_ml = 5, 20 ug/mL")
    j = next(k for k, x in enumerate(lines) if x.strip().startswith("ph.medium  "))
    assert lines[j].split()[:2] == ["ph.medium", "material.dose_ug_per_ml"]
    assert [x.split()[:2] for x in lines[j + 1:j + 5]] == [
        ["6.5", "5"], ["6.5", "20"], ["7.4", "5"], ["7.4", "20"]]


def test_plot_refuses_a_sweep_saying_what_to_do(runs, capsys):
    assert main(["plot", str(runs["two"])]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"zn-pde plot: error: {runs['two']}: a zn-pde sweep output")
    assert "two_summary.png" in err and "zn-pde inspect" in err and "Traceback" not in err


def test_inspect_rejects_a_sweep_file_without_points(tmp_path, capsys):
    path = tmp_path / "s.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "zn_pde_sweep"
        f.attrs["config"] = ""
    assert main(["inspect", str(path)]) == 2
    assert "a zn-pde sweep output, but it holds no sweep points" in capsys.readouterr().err


@pytest.mark.parametrize("kind, dose, composition, ph, exchange_ph, noted", [
    ("ZIF-8", 100.0, "culture", 7.4, None, True), ("ZIF-8", 20.0, "culture", 7.4, None, False),
    ("ZnO", 100.0, "culture", 7.4, None, False),
    ("ZIF-8", 100.0, "phosphate_saline", 7.4, None, False),
    ("ZnO2", 100.0, "culture", 6.5, None, True), ("ZnO2", 100.0, "culture", 7.4, None, False),
    # an acidic fresh medium lifts the cap (a hundredfold per pH unit) for the particles
    # dosed into it (the note once took ph.medium only); the ones it washed out are gone
    ("ZnO2", 100.0, "culture", 7.4, (6.5, True), True),
    ("ZnO", 100.0, "culture", 7.4, (6.0, True), True),
    ("ZnO", 100.0, "culture", 7.4, (6.0, False), False),
    ("ZnO", 100.0, "culture", 7.4, (7.4, True), False)])
def test_the_summary_notes_zinc_nothing_caps(tmp_path, capsys, kind, dose, composition, ph,
                                             exchange_ph, noted):
    """ZIF-8's breakdown is irreversible: above the ~153 uM of zinc complete medium held
    (Song et al. 2010; ZIF-8 at 100 ug/mL carries 414 uM) nothing in the model caps what
    dissolves in a medium without a zinc phosphate limit, and the summary says so (a
    red-team finding); ZnO's own solubility caps it, a phosphate medium does, and 20 ug/mL
    of ZIF-8 (83 uM) is within it. ZnO2 (100 ug/mL: 1027 uM of zinc) is capped by the
    product of its Zn2+ and H2O2: with the H2O2 in solution sqrt(alpha K [H+]^2) = 875 uM at
    pH 6.5 (noted; the note once took that product for a zinc limit, 0.77 uM, and was
    silent) and 110 uM at pH 7.4 (within complete medium's)."""
    raw = copy.deepcopy(WELL_MIXED_CULTURE)
    raw["time"].update(end_h=0.2, save_every_min=6.0)
    raw["material"] = {"kind": kind, "dose_ug_per_ml": dose}
    raw["medium"] = {"composition": composition}
    raw["ph"] = {"medium": ph}
    if exchange_ph is not None:
        exchange_ph, redose = exchange_ph
        raw["medium_exchange"] = [{"time_h": 0.1, "ph": exchange_ph}]
        raw["dose"] = [{"time_h": 0.1, "dose_ug_per_ml": dose}] if redose else []
    path = tmp_path / "cfg.toml"
    path.write_text(dumps(config(raw)))
    assert main(["run", str(path), "-o", str(tmp_path / "run.h5"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert ("nothing in the model caps what dissolves" in out) == noted, out
    if noted:
        assert f"at pH {min(ph, exchange_ph or ph):g}," in out
        assert "read the zinc toxicity above that as an upper bound" in out


def test_the_zinc_note_of_a_cell_free_vial_speaks_of_dissolved_zinc():
    """A vial has no cells: what the missing cap overstates there is the dissolved zinc,
    not a toxicity (ZnO at pH 5.5, the shipped release vial's acid)."""
    from zn_pde._notes import uncapped_zinc_lines

    raw = {"grid": {"kind": "well_mixed"}, "geometry": {"kind": "medium"},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0}, "ph": {"medium": 5.5}}
    (line,) = uncapped_zinc_lines(config(raw))
    assert "at pH 5.5," in line and "read the dissolved zinc above that" in line


@pytest.mark.parametrize("kind, ph, cleared", [
    ("ZnO2", 3.0, "more as it decays"), ("ZnS", 1.0, "more as it escapes from the medium")])
def test_the_zinc_note_of_a_cell_free_vial_names_no_cells(kind, ph, cleared):
    """A vial of ZnO2 (or ZnS) in acid: the co-product's ion product lets more zinc dissolve
    as the co-product is removed, which in a vial without cells is its own decay (H2O2) or
    escape from the open well (H2S); the note said "more as the cells clear it" there too (a
    domain audit, 2026-12-07: ZnO2 at 20 ug/mL, pH 5, a well_mixed medium vial). A culture
    of cells keeps the cells' clearance. (ZnS's product caps its zinc below complete
    medium's ~153 uM above pH ~2, hence pH 1.)"""
    from zn_pde._notes import uncapped_zinc_lines

    raw = {"grid": {"kind": "well_mixed"}, "geometry": {"kind": "medium"},
           "material": {"kind": kind, "dose_ug_per_ml": 2000.0}, "ph": {"medium": ph}}
    (line,) = uncapped_zinc_lines(config(raw))
    assert cleared in line and "cells" not in line, line
    raw["geometry"] = {"kind": "uniform", "cell_volume_fraction": 0.002}
    (line,) = uncapped_zinc_lines(config(raw))
    assert "more as the cells clear it" in line, line


@pytest.mark.parametrize("exchanges, doses, most", [
    ([], [(3.0, 10.0), (3.5, 5.0)], 35.0),  # doses add up
    ([2.0, 4.0], [(3.0, 10.0), (3.5, 5.0)], 20.0),  # the first exchange washed out the 20
    ([3.0], [(3.0, 30.0), (5.0, 1.0)], 31.0),  # an exchange acts before a dose at its time
    # ... the t = 0 one of material.dose_ug_per_ml too: it washes out nothing
    ([0.0], [(2.0, 5.0)], 25.0),
    ([0.0, 1.0], [(0.0, 5.0), (2.0, 5.0)], 25.0),
])
def test_the_zinc_note_counts_only_the_particles_the_medium_holds_at_once(exchanges, doses,
                                                                          most):
    """The uncapped-zinc note quotes the most particle mass the medium holds at once: doses
    washed out by a [[medium_exchange]] no longer count (a black-box tester's finding: 20
    ug/mL, an exchange, 10 + 5 ug/mL and another exchange were quoted as 35 ug/mL). An
    exchange at t = 0 acts before the dose of material.dose_ug_per_ml (README "Protocols"):
    it once reset the count to 0 after that dose, so 20 ug/mL and 5 more at 2 h were quoted
    as 20 and a medium holding more than the note's threshold could go unnoted."""
    from zn_pde._notes import most_particles_held_ug_per_ml

    c = {"material": {"dose_ug_per_ml": 20.0}, "ph": {"medium": 7.4},
         "medium_exchange": [{"time_h": t} for t in exchanges],
         "dose": [{"time_h": t, "dose_ug_per_ml": d} for t, d in doses]}
    assert most_particles_held_ug_per_ml(c) == most


@pytest.mark.parametrize("kind, dt, noted, substeps", [
    ("radial", 600.0, True, 1), ("cartesian", 600.0, True, 1), ("radial", 60.0, False, 1),
    ("well_mixed", 600.0, False, 1), ("radial", 600.0, False, 10), ("cartesian", 600.0, True, 2)])
def test_the_summary_notes_a_decay_the_step_resolves_coarsely(tmp_path, capsys, kind, dt,
                                                              noted, substeps):
    """A passive species decaying at 1e-3 /s with no gradient (closed walls, uniform start):
    the implicit step is stable at any dt but follows the decay to first order, so above
    rate x dt = 0.1 run and validate say so (an outside verifier's finding: at dt 600 s the
    radial run ended 1 h at 2.2x the exact value). The note's 'too much left per e-fold' is
    the run's own, within 0.5 % points: (1 + 0.6)^-1 per step on the radial grid,
    (1 + 0.2)^-3 on the 3D one (the decay split over its three axes); a well-mixed
    compartment decays exactly, and at dt 60 s the step is fine. `numerics.reaction_substeps`
    splits the transport's step too (the passive species' decay with it): 10 sub-steps of
    600 s resolve it as dt 60 s does, and 2 leave the 3D grid's (1 + 0.1)^-3 per sub-step
    (until 2026-12-07 the note read dt_s whole: it stated 24 % on the radial grid where 10
    sub-steps left 3 %, and 9 % on the 3D grid where 2 left 5 %)."""
    rate, end_s = 1e-3, 3600.0
    grid = ({"kind": "well_mixed"} if kind == "well_mixed" else
            {"kind": kind, "shape": [4] if kind == "radial" else [4, 4, 4], "spacing_um": 10.0})
    raw = {"grid": grid, "geometry": {"kind": "uniform"},
           "time": {"end_h": end_s / 3600.0, "dt_s": dt, "save_every_min": 60.0},
           "boundary": {"kind": "neumann"},
           "numerics": {"precision": "float64", "reaction_substeps": substeps},
           "species": [{"name": "s", "diffusivity_um2_per_s": {"tissue": 100.0, "medium": 100.0},
                        "decay_per_s": {"tissue": rate, "medium": rate},
                        "initial_uM": {"tissue": 1.0, "medium": 1.0}}]}
    path = tmp_path / "cfg.toml"
    path.write_text(dumps(config(raw)))
    out_h5 = tmp_path / "run.h5"
    assert main(["run", str(path), "-o", str(out_h5), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert ("decays at 0.001 /s" in out) == noted, out
    assert main(["validate", str(path)]) == 0
    assert ("decays at 0.001 /s" in capsys.readouterr().out) == noted
    with h5py.File(out_h5) as f:
        end = float(np.mean(f["s"][-1]))
    measured = (end / np.exp(-rate * end_s)) ** (1.0 / (rate * end_s)) - 1.0
    if noted:
        stated = float(out.split("leaving ~")[1].split("%")[0]) / 100.0
        assert abs(stated - measured) < 0.005, (stated, measured)
    else:
        assert measured < 0.05


def test_the_oxygen_series_are_the_tissue_s_mean_and_its_share_below_half_yield(tmp_path,
                                                                                 capsys):
    """With [oxygen] on, a 300 um radial spheroid at the default consumption develops an
    O2-poor core (the documented anoxic radius sqrt(6 D c0 / q) is 239 um): the summary's
    tissue_mean_o2 and tissue_hypoxic_fraction are the shell-volume-weighted tissue mean of
    the o2 field and the volume share of the tissue below oxygen.ros_half_uM, recomputed
    here from the shells' radii (4/3 pi (r_out^3 - r_in^3)); the run's summary prints them;
    a run without oxygen has NaN there. The mean's long_name names the volume the o2 field is
    per (the tissue's, docs/outputs.md), as the interface asks of species that cross cells:
    it said "in the interstitium", a volume 5x smaller at the default fraction 0.2."""
    raw = {"grid": {"kind": "radial", "shape": [20], "spacing_um": 20.0},
           "geometry": {"kind": "spheroid", "radius_um": 300.0},
           "time": {"end_h": 2.0, "dt_s": 120.0, "save_every_min": 60.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 10.0}, "oxygen": {"enabled": True}}
    path = tmp_path / "cfg.toml"
    path.write_text(dumps(config(raw)))
    out = tmp_path / "run.h5"
    assert main(["run", str(path), "-o", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    with h5py.File(out) as f:
        o2 = f["o2"][-1].astype(float)
        tissue = f["tissue_mask"][:].astype(bool)
        mean, low = float(f["tissue_mean_o2"][-1]), float(f["tissue_hypoxic_fraction"][-1])
        names = [f[k].attrs["long_name"] for k in ("o2", "tissue_mean_o2")]
    assert all("per tissue volume" in n and "interstitium" not in n for n in names), names
    edges = np.arange(o2.size + 1) * 20.0
    volume = (edges[1:] ** 3 - edges[:-1] ** 3)[tissue]
    below = (o2[tissue] < 8.9).astype(float)
    assert 0.05 < np.average(below, weights=volume) < 0.95  # the case has a hypoxic core
    assert low == pytest.approx(np.average(below, weights=volume), rel=1e-6)  # float32
    assert mean == pytest.approx(np.average(o2[tissue], weights=volume), rel=1e-5)
    assert f"below 8.9 uM (the photo/sonodynamic yield under half): {100 * low:.1f} %" in printed
    raw.pop("oxygen")
    path.write_text(dumps(config(raw)))
    assert main(["run", str(path), "-o", str(out), "--quiet", "--overwrite"]) == 0
    assert "O2:" not in capsys.readouterr().out
    with h5py.File(out) as f:
        assert np.isnan(f["tissue_mean_o2"][:]).all()
        assert np.isnan(f["tissue_hypoxic_fraction"][:]).all()


def test_a_run_that_leaves_no_cell_alive_says_so(tmp_path, capsys):
    """Two and a half hours of 3 W/cm^2 ultrasound on a well-mixed culture with 100 ug/mL ZnO
    drive the viability to float32's 0: the living cells' pools have no cells to average
    over (NaN), and the printed summary says none are left alive instead of 'nan uM'."""
    raw = sonicated_culture(3.0, dose_ug_per_ml=100.0, end_h=3.0, start_h=0.5,
                            duration_min=150.0)
    (tmp_path / "c.toml").write_text(dumps(raw))
    assert main(["run", str(tmp_path / "c.toml"), "-o", str(tmp_path / "c.h5"), "--quiet",
                 "--no-control"]) == 0
    out = capsys.readouterr().out
    assert "final viability: 0.00 %" in out
    assert "labile Zn in the living cells: final none left alive" in out
    assert "glutathione in the living cells: final none left alive, lowest saved" in out
    assert "nan" not in out.lower()


def test_penetration_after_a_wash_out_is_read_against_the_tissue_maximum(tmp_path, capsys):
    """A radial spheroid dosed, then washed at 3 h: an hour later its rim's fluid is empty
    and the particle mass peaks below the surface. The penetration depth is read against
    the tissue's largest shell mean (where `particle_peak_depth_um` says), stays within the
    tissue, and the summary says where the maximum lies; before any particles (t = 0) there
    is nothing to measure (NaN, not 0 um)."""
    raw = {"grid": {"kind": "radial", "shape": [24], "spacing_um": 10.0},
           "geometry": {"kind": "spheroid", "radius_um": 150.0},
           "time": {"end_h": 4.0, "dt_s": 60.0, "save_every_min": 30.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
           "medium_exchange": [{"time_h": 3.0}]}
    path = tmp_path / "wash.toml"
    path.write_text(dumps(config(raw)))
    out = tmp_path / "wash.h5"
    assert main(["run", str(path), "-o", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    model = build_model(config(raw))
    tissue = np.asarray(model.tissue)
    depth_um = np.asarray(model.depth_um)
    with h5py.File(out, "r") as f:
        t_h = f["time"][:] / 3600.0
        depth, peak = f["penetration_depth_um"][:], f["particle_peak_depth_um"][:]
        last = {k: f[k][-1] for k in ("np", "np_int", "np_dead", "viability")}
    assert np.isnan(depth[0]) and np.isnan(peak[0])
    assert np.all((depth[1:] > 0.0) & (depth[1:] <= 150.0))
    assert np.all(peak[t_h < 3.0][1:] < 10.0)  # particles entering: the rim shell holds most
    assert peak[-1] > 10.0  # washed: the maximum lies deeper
    mass = np.asarray(model.particle_mass({k: np.nan_to_num(v, nan=1.0)
                                           for k, v in last.items()}))
    shells = mass[tissue][np.argsort(depth_um[tissue])]
    level = 0.1 * shells.max()
    beyond = depth_um[tissue][np.argsort(depth_um[tissue])][np.flatnonzero(shells > level)[-1]]
    assert beyond <= depth[-1] <= beyond + 10.0
    assert shells[0] < shells.max()  # the rim is depleted: 10 % of it would read deeper
    assert f"final {depth[-1]:.4g} um" in text and "below 10 % of its tissue maximum" in text
    assert f"that maximum lies {peak[-1]:.4g} um below the surface, not at the rim" in text


@pytest.mark.parametrize("intensity, whole", [(3.0, True), (0.0, False)])
def test_a_kill_through_the_whole_spheroid_is_said_to_reach_the_centre(tmp_path, capsys,
                                                                       intensity, whole):
    """A 10 um spheroid (two 5 um shells) under 3 W/cm^2 for 2 min: every shell ends below
    50 % alive, so the depth of kill is the deepest shell's, 7.5 um, which read as a kill
    that stopped there (a domain audit, 2026-12-07: a 250 um spheroid after 240 h, 'final
    245 um' with its core 35 % alive); the line now says the kill reaches the centre, and
    only then (no exposure: none below 50 %, depth 0)."""
    raw = {"grid": {"kind": "radial", "shape": [8], "spacing_um": 5.0},
           "geometry": {"kind": "spheroid", "radius_um": 10.0},
           "time": {"end_h": 1.0, "dt_s": 60.0, "save_every_min": 30.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
           "ultrasound": [{"start_h": 0.5, "duration_min": 2.0,
                           "intensity_W_per_cm2": intensity, "frequency_MHz": 1.0}]}
    path = tmp_path / "small.toml"
    path.write_text(dumps(config(raw)))
    out = tmp_path / "small.h5"
    assert main(["run", str(path), "-o", str(out), "--quiet", "--no-control"]) == 0
    text = capsys.readouterr().out
    with h5py.File(out, "r") as f:
        tissue = f["tissue_mask"][:].astype(bool)
        below = bool(np.all(f["viability"][-1][tissue] < 0.5))
        depth = float(f["depth_of_kill_um"][-1])
    assert below == whole  # the scenario
    assert (depth == pytest.approx(7.5 if whole else 0.0)), depth
    assert ("the kill reaches the centre" in text) == whole, text


def test_no_particles_in_the_tissue_is_said_not_read_as_0_um(tmp_path, capsys):
    raw = {"grid": {"kind": "radial", "shape": [24], "spacing_um": 10.0},
           "geometry": {"kind": "spheroid", "radius_um": 150.0},
           "time": {"end_h": 1.0, "dt_s": 300.0, "save_every_min": 30.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 0.0}}
    path = tmp_path / "none.toml"
    path.write_text(dumps(config(raw)))
    assert main(["run", str(path), "-o", str(tmp_path / "none.h5"), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "particle penetration depth: none to measure, no particles left" in text
    with h5py.File(tmp_path / "none.h5", "r") as f:
        assert np.isnan(f["penetration_depth_um"][:]).all()


@pytest.mark.parametrize("radius_um, diameter_nm, end_h, reaches",
                         [(40.0, 5.0, 6.0, True), (150.0, 67.0, 1.0, False),
                          # 200 nm particles stay in the outer cell layer: the centre shell
                          # holds none, though the depth, read between the two inner shells,
                          # lies within a voxel of the radius (23.5 of 30 um)
                          (30.0, 200.0, 2.0, False)])
def test_particles_that_reach_the_centre_are_said_to(tmp_path, capsys, radius_um, diameter_nm,
                                                      end_h, reaches):
    """Where no shell falls below 10 % of the tissue maximum the penetration depth is the
    deepest shell's (R - h/2), which alone would read as a depth the particles stopped at:
    the summary says they reach the centre, and only then (not for any depth within a voxel
    of the radius)."""
    raw = {"grid": {"kind": "radial", "shape": [24], "spacing_um": 10.0},
           "geometry": {"kind": "spheroid", "radius_um": radius_um},
           "time": {"end_h": end_h, "dt_s": 300.0, "save_every_min": 60.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0,
                        "hydrodynamic_diameter_nm": diameter_nm}}
    path = tmp_path / "centre.toml"
    path.write_text(dumps(config(raw)))
    out = tmp_path / "centre.h5"
    assert main(["run", str(path), "-o", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    with h5py.File(out, "r") as f:
        depth = float(f["penetration_depth_um"][-1])
        tissue = f["tissue_mask"][:].astype(bool)
        v = f["viability"][-1]
        mass = (0.2 * f["np"][-1] + 0.8 * (v * f["np_int"][-1] + f["np_dead"][-1]))[tissue]
    # the centre shell (first) holds at least 10 % of the largest shell's particles
    assert (mass[0] >= 0.1 * mass.max()) == reaches
    assert np.isclose(depth, radius_um - 5.0, rtol=1e-6) == reaches  # the deepest shell's
    assert ("the particles reach the centre" in text) == reaches


@pytest.mark.parametrize("overrides", [
    ["grid.shape=[16,16,16]", "geometry.radius_um=68"],  # deepest shell 53.4 um, < R - h
    ["grid.shape=[17,16,15]", "geometry.radius_um=55", "geometry.center_um=[85,80,75]"],
    ["grid.shape=[24,24,24]", "geometry.radius_um=80", "geometry.center_um=[101,93,117.3]"],
    ['grid.kind="radial"', "grid.shape=[20]", "geometry.radius_um=35"]])
def test_the_deepest_shell_depth_is_the_one_the_penetration_depth_stops_at(overrides):
    """`deepest_shell_depth_um`, which the summary's "reach the centre" compares with, is the
    mean depth of the deepest one-voxel shell that `penetration_depth_um` returns where no
    shell falls below its level, computed from the voxels near the centre alone; on a 3D
    grid it may lie more than a voxel short of the radius (R = 68 um on 10 um voxels around a
    voxel corner: 53.4 um), where "depth >= R - h" never said so."""
    from zn_pde._grid import _shell_means, build_geometry, deepest_shell_depth_um
    from zn_pde.config import load_config

    c = load_config(None, overrides)
    geo = build_geometry(c)
    tissue = np.asarray(geo.tissue)
    uniform = np.where(tissue, 1.0, 0.0)  # particles everywhere: no shell below the level
    depth = penetration_depth_um(np.asarray(geo.depth_um), tissue, uniform,
                                 c["grid"]["spacing_um"])
    _, centre = _shell_means(np.asarray(geo.depth_um), tissue, uniform, c["grid"]["spacing_um"])
    assert deepest_shell_depth_um(c) == pytest.approx(depth, rel=1e-12)
    assert depth == centre[-1]


def test_a_uniform_block_s_rim_and_core_are_read_by_depth_below_its_faces(tmp_path, capsys):
    """A uniform tissue block (radial, all shells tissue, the outer wall held by the medium)
    has no radius: its depth is below the outer wall, deepest at the middle (r = 0). The
    summary's rim / core viability are the shell-volume-weighted means over the outer / inner
    20 % of that depth, recomputed here from the shells' radii, and the summary says so
    without calling it a radius (until 2026-12-07 it read 'of the radius', a helper's
    audit). A cell-free radial run's inspect says it has no tissue (it read 'tissue 0 shells,
    r < 0 um')."""
    n, h = 10, 10.0
    raw = {"grid": {"kind": "radial", "shape": [n], "spacing_um": h},
           "geometry": {"kind": "uniform"}, "boundary": {"kind": "dirichlet"},
           "time": {"end_h": 3.0, "dt_s": 120.0, "save_every_min": 60.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 200.0}}
    path = tmp_path / "block.toml"
    path.write_text(dumps(config(raw)))
    out_h5 = tmp_path / "block.h5"
    assert main(["run", str(path), "-o", str(out_h5), "--quiet", "--no-control"]) == 0
    out = capsys.readouterr().out
    assert "outer / inner 20 % of the way from the faces to the middle" in out, out
    assert "of the radius" not in out
    with h5py.File(out_h5) as f:
        v = np.asarray(f["viability"][-1], float)
        r = np.asarray(f["r"][:], float)
        rim, core = float(f["tissue_rim_viability"][-1]), float(f["tissue_core_viability"][-1])
    volume = 4 / 3 * np.pi * ((r + h / 2) ** 3 - (r - h / 2) ** 3)
    depth = n * h - r
    outer, inner = depth <= 0.2 * depth.max(), depth >= 0.8 * depth.max()
    # fails if: rim and core were read against a radius the block does not have (or the
    # summary's wording and its numbers parted); the rim must be the harder hit, as the
    # particles enter by the wall
    assert rim == pytest.approx(np.average(v[outer], weights=volume[outer]), abs=1e-6)
    assert core == pytest.approx(np.average(v[inner], weights=volume[inner]), abs=1e-6)
    assert rim < core
    vial = copy.deepcopy(raw)
    vial["geometry"] = {"kind": "medium"}
    path.write_text(dumps(config(vial)))
    assert main(["run", str(path), "-o", str(tmp_path / "vial.h5"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "vial.h5")]) == 0
    shown = capsys.readouterr().out
    assert "tissue      none (cell-free medium)" in shown and "tissue      0 shells" not in shown
