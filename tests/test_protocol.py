"""Experimental protocols: doses, wash-out, exposures off the step grid (`zn_pde._protocol`).

Checked against exact statements, not snapshots:
- a wash-out removes exactly what the medium held (particles and zinc; zero-flux walls, so
  nothing else changes the totals; float64, rtol 1e-10: round-off);
- a dose at t is the same as a run started at t from the state with the dose added (the step
  sequence is identical, so rtol 1e-9: round-off);
- every exposure, repeats included, is on for exactly its duration as the solver steps it;
- an off-grid 40 s exposure has the same effect (radical dose delivered, cells killed) at
  dt = 60 s as at dt = 10 s (the steps differ only outside the exposure; within 3 %: the
  first-order time error of the background, which is what remains);
- a run resumed at a frame after an exchange equals the uninterrupted run (float32 state on
  disk, as the solver carries it: rtol 1e-5);
- the gradient with respect to an exposure's start time and to a dose equals central finite
  differences (float64, rtol 1e-4: the truncation error of the difference).
"""

from __future__ import annotations

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import config

from zn_pde import Schedule, State, advance, build_model, simulate_to_file, trajectory
from zn_pde._kinetics import total_zinc_uM
from zn_pde._protocol import exposure_seconds
from zn_pde._run import config_of_run
from zn_pde._solve import factorise

SPHEROID = {
    "grid": {"kind": "cartesian", "shape": [10, 10, 10], "spacing_um": 30.0},
    "time": {"end_h": 2.0, "dt_s": 60.0, "save_every_min": 30.0},
    "geometry": {"kind": "spheroid", "radius_um": 100.0},
    "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
}
WELL_MIXED = {
    "grid": {"kind": "well_mixed"},
    "time": {"end_h": 2.0, "dt_s": 60.0, "save_every_min": 30.0},
    "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
    "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
}
GRIDS = {"cartesian": SPHEROID, "well_mixed": WELL_MIXED}
#: the spheroid behind a fixed bulk medium: its Dirichlet wall holds the doses since the last
#: exchange (`Protocol.np_boundary`), not a reacting bulk's own state
FIXED_BULK = {**SPHEROID, "boundary": {"kind": "dirichlet", "bulk_medium": "fixed"}}


def _with(base, **sections):
    return config({**base, **sections})


def _frames(model, state=None):
    """Every saved frame's state (the host loop's chunks, as `zn-pde run` steps them)."""
    transport = factorise(model)
    state = model.initial_state() if state is None else state
    out = [state]
    for n in Schedule.from_model(model).chunks:
        state, _ = advance(model, transport, state, jnp.asarray(n))
        out.append(state)
    return out


def _totals(model, state):
    """(particle mass, zinc) summed over the domain (µg/mL and µM times voxels)."""
    local = model.local(state)
    mass = model.particle_mass(model.fields(state))
    zinc = total_zinc_uM(model.kinetics, local, model.cell_fraction, model.fluid_fraction)
    return float(jnp.sum(mass)), float(jnp.sum(zinc))


def _medium_content(model, state):
    """What the medium voxels hold: particles and zinc in their fluid."""
    local = model.local(state)
    medium = np.asarray(model.medium)
    alpha = np.broadcast_to(np.asarray(model.fluid_fraction), medium.shape)
    conv = float(model.kinetics.zn_uM_per_particle_ug_per_ml)
    np_fluid = alpha * np.asarray(local.np)
    zinc = alpha * (conv * np.asarray(local.np) + np.asarray(local.zn))
    return float(np_fluid[medium].sum()), float(zinc[medium].sum())


@pytest.mark.parametrize("grid", list(GRIDS))
def test_wash_out_removes_exactly_what_the_medium_held(grid, x64):
    c = _with(GRIDS[grid], boundary={"kind": "neumann"}, numerics={"precision": "float64"},
              medium_exchange=[{"time_h": 1.0}])
    model = build_model(c)
    frames = _frames(model)
    before = frames[2]  # t = 1 h: the frame holds the state just before the exchange
    assert float(Schedule.from_model(model).save_times_s[2]) == 3600.0
    held = _medium_content(model, before)
    assert held[0] > 0 and held[1] > 0
    total_before, total_end = _totals(model, before), _totals(model, frames[-1])
    # zero-flux walls: the steps conserve both totals, so the exchange alone removed this
    np.testing.assert_allclose(total_before[1] - total_end[1], held[1], rtol=1e-10)
    # particles dissolve after the exchange too; zinc is the conserved quantity, and the
    # exchange itself removed exactly the medium's particles
    after = model.protocol.apply(before.mobile, model.medium, model.fresh_medium_uM,
                                 before.step)
    removed = _totals(model, before)[0] - _totals(model, State(after, before.fixed,
                                                               before.step))[0]
    np.testing.assert_allclose(removed, held[0], rtol=1e-10)
    # the tissue keeps what it holds and releases it back into the fresh medium
    if grid == "cartesian":
        zn_medium_after = np.asarray(model.local(frames[-1]).zn)[np.asarray(model.medium)]
        assert zn_medium_after.max() > 0


@pytest.mark.parametrize("grid", [*GRIDS, "fixed_bulk"])
def test_an_exchange_at_t0_acts_before_the_initial_dose(grid, x64):
    """Events at one time act exchange first, then dose; the particles of
    `material.dose_ug_per_ml` are the dose at t = 0, so an exchange at t = 0 into medium of
    the same pH changes nothing: every field of every frame equals the run without it (to
    1e-12: the same steps), also where a fixed bulk's wall holds the dose."""
    base = {**GRIDS, "fixed_bulk": FIXED_BULK}[grid]
    same = {"numerics": {"precision": "float64"},
            "time": {**base["time"], "save_around_events": False}}
    plain = build_model(_with(base, **same))
    washed = build_model(_with(base, **same, medium_exchange=[{"time_h": 0.0}]))
    for a, b in zip(_frames(plain), _frames(washed), strict=True):
        np.testing.assert_allclose(np.asarray(b.mobile), np.asarray(a.mobile), rtol=1e-12,
                                   atol=1e-12)
        np.testing.assert_allclose(np.asarray(b.fixed), np.asarray(a.fixed), rtol=1e-12,
                                   atol=1e-12)


def test_the_event_table_lists_events_at_one_time_in_the_order_they_act():
    """Exchange, then dose, then exposures, whatever the config's order (the file's /event
    table is this list)."""
    from zn_pde._protocol import event_table

    c = _with(SPHEROID, dose=[{"time_h": 1.0, "dose_ug_per_ml": 5.0}],
              medium_exchange=[{"time_h": 0.0}, {"time_h": 1.0}],
              ultrasound=[{"start_h": 1.0, "duration_min": 1.0, "intensity_W_per_cm2": 1.5,
                           "frequency_MHz": 1.0}])
    table = [(e.time_s, e.kind) for e in event_table(c)]
    assert table[:2] == [(0.0, "medium_exchange"), (0.0, "dose")]
    assert table[2:5] == [(3600.0, "medium_exchange"), (3600.0, "dose"),
                          (3600.0, "ultrasound_start")]


@pytest.mark.parametrize("grid", list(GRIDS))
def test_a_dose_at_t_equals_a_run_started_from_that_state(grid, x64):
    base = {**GRIDS[grid], "numerics": {"precision": "float64"}}
    a = _with({**base, "material": {"kind": "ZnO", "dose_ug_per_ml": 10.0}},
              dose=[{"time_h": 1.0, "dose_ug_per_ml": 15.0}])
    model_a = build_model(a)
    frames = _frames(model_a)
    at_dose = frames[2]
    # the same from t = 1 h: 25 ug/mL in the bulk medium, the 15 added to the medium voxels
    b = _with({**base, "material": {"kind": "ZnO", "dose_ug_per_ml": 25.0},
               "time": {"end_h": 1.0, "dt_s": 60.0, "save_every_min": 30.0}})
    model_b = build_model(b)
    medium = np.asarray(model_b.medium)
    mobile = np.asarray(at_dose.mobile).copy()
    mobile[..., 0] += np.where(medium, 15.0, 0.0)
    bulk = None  # the reacting bulk medium (beyond the walls) gets the dose too
    if at_dose.bulk is not None:
        bulk = jnp.asarray(at_dose.bulk).at[0].add(15.0)
    start = State(jnp.asarray(mobile), at_dose.fixed, jnp.asarray(0, jnp.int32), bulk)
    end_b = _frames(model_b, start)[-1]
    np.testing.assert_allclose(np.asarray(frames[-1].mobile), np.asarray(end_b.mobile),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(frames[-1].fixed), np.asarray(end_b.fixed),
                               rtol=1e-9, atol=1e-12)


def test_repeated_exposures_each_deliver_their_duration_exactly(x64):
    c = _with(WELL_MIXED, numerics={"precision": "float64"}, time={
        "end_h": 2.0, "dt_s": 60.0, "save_every_min": 30.0},
        light=[{"start_h": 0.1234, "duration_min": 0.25, "wavelength_nm": 365.0,
                "irradiance_mW_per_cm2": 20.0, "repeats": 4, "repeat_every_h": 0.37}],
        ultrasound=[{"start_h": 1.7001, "duration_min": 0.1, "intensity_W_per_cm2": 1.0}])
    model = build_model(c)
    np.testing.assert_allclose(exposure_seconds(model, "light"), [15.0] * 4, rtol=1e-9)
    np.testing.assert_allclose(exposure_seconds(model, "ultrasound"), [6.0], rtol=1e-9)
    # every step is at most dt, and the plan lands on every exposure edge
    plan = model.protocol.plan
    _, h = plan.step_times_s()
    assert h.max() <= 60.0 + 1e-9
    for e in model.light + model.ultrasound:
        for t in (float(e.start_s), float(e.end_s)):
            assert np.min(np.abs(np.asarray(plan.breaks_s) - t)) < 1e-9


def _tissue_means(c):
    model = build_model(c)
    fields = model.fields(_frames(model)[-1])
    tissue = np.asarray(model.tissue)
    return {k: float(np.asarray(fields[k])[tissue].mean()) for k in ("radical_dose",
                                                                      "viability")}


def test_an_off_grid_exposure_has_the_same_effect_at_any_step():
    # the effect: the radical dose the exposure delivered to the cells, and the cells it killed
    # (tissue means at the end)
    us = [{"start_h": 0.2123, "duration_min": 40 / 60, "intensity_W_per_cm2": 3.0}]
    small = {**SPHEROID, "grid": {"kind": "cartesian", "shape": [8, 8, 8], "spacing_um": 30.0}}
    dose, killed = {}, {}
    for dt in (60.0, 10.0):
        time = {"end_h": 0.5, "dt_s": dt, "save_every_min": 30.0}
        on = _tissue_means(_with(small, time=time, ultrasound=us))
        # the same plan with the exposure switched off (one compiled program for both)
        off = _tissue_means(_with(small, time=time,
                                  ultrasound=[{**us[0], "intensity_W_per_cm2": 0.0}]))
        dose[dt] = on["radical_dose"] - off["radical_dose"]
        killed[dt] = off["viability"] - on["viability"]
    assert dose[10.0] > 0 and killed[10.0] > 0.01  # the exposure does something measurable
    assert dose[60.0] == pytest.approx(dose[10.0], rel=0.03)
    assert killed[60.0] == pytest.approx(killed[10.0], rel=0.03)


def test_a_short_exposure_after_hours_of_uptake_does_not_depend_on_the_step():
    """A 6 s ultrasound burst after 2 h of uptake (radial spheroid, 20 ug/mL ZnO): its radical
    dose is that of the particles in the cells, which enter all through each step and
    dissolve in the lysosomes from their arrival (∂np_int/∂t = J − k np_int solved exactly
    over the step). At the largest step `validate` allows (600 s: lysosomal k Δt = 0.5) the
    dose is within 2 % of that at 10 s (measured 0.6 %); dissolving each step's arrivals for
    the whole step instead gave 15 % less."""
    from zn_pde import simulate

    us = [{"start_h": 2.0 + 1 / 60, "duration_min": 0.1, "intensity_W_per_cm2": 1.5}]
    dose = {}
    for dt in (600.0, 10.0):
        ds = simulate("configs/zno_spheroid_radial.toml", progress=False,
                      **{"time.dt_s": dt, "time.end_h": 3.0, "time.save_every_min": 60.0,
                         "ultrasound": us})
        dose[dt] = float(ds["tissue_mean_radical_dose"][-1])
    assert dose[10.0] > 100.0
    assert dose[600.0] == pytest.approx(dose[10.0], rel=0.02)


@pytest.mark.parametrize("keep", [3, 4])
def test_resume_across_an_exchange_equals_the_uninterrupted_run(tmp_path, keep):
    """Frames 0, 0.5 h, 0.75 h (the exchange's time: the state just before it), 0.75 h + 60 s
    (just after it), 1 h, ...: killed after frame `keep` − 1, so resumed at the exchange
    itself (keep = 3; it acts as the resumed run's first step begins) or just after it."""
    c = _with(SPHEROID, medium_exchange=[{"time_h": 0.75, "ph": 7.2}],
              dose=[{"time_h": 1.25, "dose_ug_per_ml": 5.0}],
              time={"end_h": 2.0, "dt_s": 60.0, "save_every_min": 30.0})
    whole = tmp_path / "whole.h5"
    simulate_to_file(c, whole, progress=False)
    with h5py.File(whole, "r") as f:
        np.testing.assert_allclose(f["time"][:keep + 1], [0.0, 1800.0, 2700.0, 2760.0,
                                                          3600.0][:keep + 1])
    cut = tmp_path / "cut.h5"
    simulate_to_file(c, cut, progress=False)
    with h5py.File(cut, "r+") as f:
        for d in f.values():
            if isinstance(d, h5py.Dataset) and d.maxshape and d.maxshape[0] is None:
                d.resize(keep, axis=0)
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)
    simulate_to_file(config_of_run(cut), cut, progress=False, resume=True)
    with h5py.File(whole, "r") as f, h5py.File(cut, "r") as g:
        np.testing.assert_array_equal(f["time"][:], g["time"][:])
        for name in ("np", "zn", "ros", "zn_cell", "viability"):
            np.testing.assert_allclose(g[name][:], f[name][:], rtol=1e-5, atol=1e-7,
                                       equal_nan=True)


def test_frames_around_every_event_show_what_it_did(x64):
    """`time.save_around_events` (default on) adds frames at the start and the end of every
    exposure and at every dose and exchange and dt_s after it, nothing else: the steps are
    the same (the events are breakpoints either way and dt divides the offsets), so the
    regular frames equal those of the run without the extra frames (float64, rtol 1e-12:
    round-off); the frame at a dose holds the state without it and the frame dt_s later holds
    exactly the dose's zinc more than a run without the dose (conservation, rtol 1e-10); the
    exposure's radicals are 0 at its start frame and delivered by its end frame."""
    events = {"ultrasound": [{"start_h": 0.7123, "duration_min": 0.5,
                              "intensity_W_per_cm2": 3.0}],
              "dose": [{"time_h": 1.25, "dose_ug_per_ml": 30.0}],
              "medium_exchange": [{"time_h": 1.6}]}
    time = {"end_h": 2.0, "dt_s": 60.0, "save_every_min": 30.0}
    base = {**WELL_MIXED, "numerics": {"precision": "float64"}, **events}
    on = build_model(_with(base, time=time))
    off = build_model(_with(base, time={**time, "save_around_events": False}))
    t_on = Schedule.from_model(on).save_times_s
    t_off = Schedule.from_model(off).save_times_s
    start = 0.7123 * 3600.0
    np.testing.assert_allclose(t_off, [0.0, 1800.0, 3600.0, 5400.0, 7200.0], rtol=1e-12)
    np.testing.assert_allclose(t_on, sorted([*t_off, start, start + 30.0, 4500.0, 4560.0,
                                             5760.0, 5820.0]), rtol=1e-12)
    assert on.protocol.plan.total_steps == off.protocol.plan.total_steps
    frames_on, frames_off = _frames(on), _frames(off)
    regular = [int(np.argmin(np.abs(t_on - t))) for t in t_off]
    for i, j in enumerate(regular):
        np.testing.assert_allclose(np.asarray(frames_on[j].mobile),
                                   np.asarray(frames_off[i].mobile), rtol=1e-12, atol=1e-15)

    def frame(t):
        return frames_on[int(np.argmin(np.abs(t_on - t)))]

    radicals = on.fixed_names.index("radical_dose")
    assert float(frame(start).fixed[..., radicals].sum()) == 0.0
    assert float(frame(start + 30.0).fixed[..., radicals].sum()) > 0.0
    undosed = build_model(_with({**base, "dose": [{"time_h": 1.25, "dose_ug_per_ml": 0.0}]},
                                time=time))
    assert undosed.protocol.plan == on.protocol.plan
    frames_undosed = _frames(undosed)
    before = [int(np.argmin(np.abs(t_on - t))) for t in (4500.0, 4560.0)]
    np.testing.assert_allclose(np.asarray(frames_on[before[0]].mobile),
                               np.asarray(frames_undosed[before[0]].mobile), rtol=1e-12)
    alpha = float(np.asarray(on.fluid_fraction).ravel()[0])
    added = alpha * float(on.kinetics.zn_uM_per_particle_ug_per_ml) * 30.0
    gained = (_totals(on, frames_on[before[1]])[1]
              - _totals(undosed, frames_undosed[before[1]])[1])
    np.testing.assert_allclose(gained, added, rtol=1e-10)


def test_a_frame_after_an_event_never_takes_another_event_s_time_source():
    """A frame dt_s after a dose that falls on an exposure's start: the breakpoint stays
    traced from the exposure (its start keeps its gradient), and is saved; a regular frame
    at an event pins it (a fixed time)."""
    from zn_pde._protocol import build_plan

    c = _with(WELL_MIXED, time={"end_h": 2.0, "dt_s": 60.0, "save_every_min": 30.0},
              dose=[{"time_h": 0.7, "dose_ug_per_ml": 5.0}],
              ultrasound=[{"start_h": 0.7 + 60 / 3600, "duration_min": 0.5,
                           "intensity_W_per_cm2": 1.0}],
              medium_exchange=[{"time_h": 1.5}])
    plan = build_plan([c])
    times = Schedule(plan).save_times_s
    j = int(np.argmin(np.abs(np.asarray(plan.breaks_s) - 2580.0)))
    assert plan.sources[j] == ("ultrasound_start", 0)
    assert np.min(np.abs(times - 2580.0)) < 1e-6
    k = int(np.argmin(np.abs(np.asarray(plan.breaks_s) - 5400.0)))
    assert plan.sources[k] is None  # the exchange at 1.5 h, on the 30 min grid: pinned
    assert plan.sources[k + 1] == ("exchange", 0, 60.0)


def test_an_exposure_never_merges_whole_into_one_breakpoint():
    """Breakpoints within the plan's tolerance (max(1 ms, 1e-6 end_h): 3.6 ms in a 1 h run)
    are one, and a regular frame pins its breakpoint; an exposure of at least that length,
    which config accepts, must still keep its start and its end apart and take its own steps:
    one of exactly 3.6 ms at t = 0, and a 4 ms one starting 1.8 ms before the 0.5 h frame,
    used to merge whole into the frame's breakpoint and be smeared over a 60 s step (twice
    the radical dose per second of exposure, no frame at its end)."""
    from zn_pde import simulate
    from zn_pde._protocol import build_plan

    def us(start_h, duration_s):
        return [{"start_h": start_h, "duration_min": duration_s / 60.0,
                 "intensity_W_per_cm2": 2.0}]

    at_zero = _with(WELL_MIXED, time={"end_h": 1.0, "dt_s": 60.0, "save_every_min": 30.0},
                    ultrasound=us(0.0, 0.0036))
    plan = build_plan([at_zero])
    assert plan.breaks_s[:2] == (0.0, pytest.approx(0.0036, rel=1e-9))
    assert plan.steps[0] == 32
    straddling = _with(WELL_MIXED, time={"end_h": 1.0, "dt_s": 60.0, "save_every_min": 30.0},
                       ultrasound=us(0.5 - 0.0018 / 3600.0, 0.004))
    plan = build_plan([straddling])
    assert 1800.0022 == pytest.approx(plan.breaks_s[plan.breaks_s.index(1800.0) + 1], abs=1e-9)
    assert plan.steps[plan.breaks_s.index(1800.0)] > 1
    np.testing.assert_allclose(Schedule(plan).save_times_s, [0.0, 1800.0, 1800.0022, 3600.0],
                               atol=1e-9)
    # the effect per second of exposure: the shortest allowed exposure at t = 0 as a
    # slightly (1e-5) longer one, which was never merged
    per_s = []
    for duration_s in (0.0036, 0.0036 * 1.00001):
        ds = simulate({**at_zero, "ultrasound": us(0.0, duration_s)}, progress=False)
        per_s.append(float(ds["tissue_mean_radical_dose"][-1]) / duration_s)
    assert per_s[0] == pytest.approx(per_s[1], rel=1e-3)


def test_a_note_bounds_what_float32_times_do_to_a_millisecond_pulse():
    """float32 holds times near 0.5 h to 1.2e-4 s, 3 % of a 4 ms pulse there (an outside
    client's finding: its radical dose moved by ~3 % with where it fell): `validate` notes
    it, with a bound the float32 run's dose keeps to against float64's; a 10 s pulse, and the
    same pulse in float64, get no note."""
    from zn_pde import simulate
    from zn_pde._notes import config_notes

    def with_pulse(duration_s, precision):
        return _with(WELL_MIXED, time={"end_h": 1.0, "dt_s": 60.0, "save_every_min": 30.0},
                     numerics={"precision": precision},
                     ultrasound=[{"start_h": 0.5 - 0.01 / 3600.0, "duration_min": duration_s / 60,
                                  "intensity_W_per_cm2": 2.0}])

    notes = [n for n in config_notes(with_pulse(0.004, "float32"), at_validate=True)
             if "float32" in n]
    assert len(notes) == 1 and "ultrasound[0] lasts 0.004 s" in notes[0]
    bound = float(notes[0].split("off by up to ")[1].split("%")[0]) / 100
    assert 0.02 < bound < 0.04  # 1.2e-4 s of 4 ms
    dose = {p: float(simulate(with_pulse(0.004, p), progress=False)
                     ["tissue_mean_radical_dose"][-1]) for p in ("float32", "float64")}
    assert abs(dose["float32"] / dose["float64"] - 1.0) <= bound
    assert not [n for n in config_notes(with_pulse(10.0, "float32"), at_validate=True)
                if "float32" in n]
    assert not [n for n in config_notes(with_pulse(0.004, "float64"), at_validate=True)
                if "float32" in n]


def test_a_wash_out_before_the_first_particles_is_noted_and_changes_nothing():
    """A medium exchange at or before the first dose (a wash-out placed before its dose by
    mistake; an outside user audit found it run without a word) is noted by `validate`, and
    the note's claim holds: the culture's viability and zinc are those of the run without it
    (to float32 round-off, 1e-6 relative). An exchange after the dose is not noted; nor is
    one where no particles are given at all (the summary says so)."""
    from zn_pde import simulate
    from zn_pde._notes import config_notes

    base = dict(material={"kind": "ZnO", "dose_ug_per_ml": 0.0},
                time={"end_h": 3.0, "dt_s": 60.0, "save_every_min": 30.0},
                dose=[{"time_h": 1.0, "dose_ug_per_ml": 20.0}])
    washed = _with(WELL_MIXED, **base, medium_exchange=[{"time_h": 0.5}, {"time_h": 1.0},
                                                        {"time_h": 2.0}])
    notes = [n for n in config_notes(washed, at_validate=True) if "medium_exchange" in n]
    assert [n.split(" at ")[0] for n in notes] == ["  note: medium_exchange[0]",
                                                  "  note: medium_exchange[1]"]
    assert "comes before the first" in notes[0] and "comes at the time" in notes[1]
    early = _with(WELL_MIXED, **base, medium_exchange=[{"time_h": 0.5}, {"time_h": 1.0}])
    plain = _with(WELL_MIXED, **base)
    runs = [simulate(c, progress=False) for c in (early, plain)]
    for name in ("tissue_mean_viability", "tissue_mean_zn_cell", "tissue_mean_zn"):
        np.testing.assert_allclose(runs[0][name][-1], runs[1][name][-1], rtol=1e-6)
    assert not [n for n in config_notes(_with(WELL_MIXED, **{**base, "dose": []},
                                              medium_exchange=[{"time_h": 0.5}]),
                                        at_validate=True) if "medium_exchange" in n]


def test_frames_around_a_pulse_train_number_at_most_the_regular_frames():
    """A train of 200 light pulses (every 3 min from 0.1 h, 30 s each) in a 24 h run saved
    hourly: 25 regular frames, and the frames around the events are the starts and ends of
    the first 12 pulses (24), not 400; a pulse is kept whole (the 13th's start alone would
    be the 25th frame, but its end would not fit). (Frames around config entries
    themselves, doses, exchanges and each exposure's first pulse, are always kept:
    test_frames_around_every_event_show_what_it_did has 6 with 5 regular frames.)"""
    from zn_pde._protocol import build_plan

    c = _with(WELL_MIXED, time={"end_h": 24.0, "dt_s": 60.0, "save_every_min": 60.0},
              light=[{"start_h": 0.1, "duration_min": 0.5, "wavelength_nm": 365.0,
                      "irradiance_mW_per_cm2": 20.0, "repeats": 200,
                      "repeat_every_h": 0.05}])
    times = Schedule(build_plan([c])).save_times_s
    regular = np.arange(25) * 3600.0
    extra = np.setdiff1d(np.round(times, 6), np.round(regular, 6))
    assert times.size == 49 and extra.size == 24
    starts = 360.0 + 180.0 * np.arange(12)
    np.testing.assert_allclose(extra, np.sort(np.concatenate([starts, starts + 30.0])),
                               rtol=1e-12)


def test_a_kept_repeat_keeps_both_its_frames_when_one_falls_on_the_grid():
    """Pulses whose start falls on a regular frame cost one new frame each (their end): with
    3 regular frames and pulses on the hour (30 s each, hourly from 0 h in a 2 h run), the
    first pulse is a config entry (its end kept), the second's start is the 1 h frame and its
    end the one new frame it needs; every kept pulse has its start and its end saved."""
    from zn_pde._protocol import build_plan

    c = _with(WELL_MIXED, time={"end_h": 2.0, "dt_s": 60.0, "save_every_min": 60.0},
              light=[{"start_h": 0.0, "duration_min": 0.5, "wavelength_nm": 365.0,
                      "irradiance_mW_per_cm2": 20.0, "repeats": 2, "repeat_every_h": 1.0}])
    times = np.round(Schedule(build_plan([c])).save_times_s, 6)
    np.testing.assert_allclose(times, [0.0, 30.0, 3600.0, 3630.0, 7200.0], rtol=1e-12)


def test_a_file_from_before_frames_around_events_resumes_on_its_own_frames(tmp_path):
    """A stored config without `time.save_around_events` (written before it existed, when
    only the regular frames were saved) resumes on those frames and matches the
    uninterrupted run (float32 state on disk: rtol 1e-5)."""
    c = _with(SPHEROID, dose=[{"time_h": 0.75, "dose_ug_per_ml": 5.0}],
              time={"end_h": 1.5, "dt_s": 60.0, "save_every_min": 30.0,
                    "save_around_events": False})
    whole, cut = tmp_path / "whole.h5", tmp_path / "cut.h5"
    simulate_to_file(c, whole, progress=False)
    simulate_to_file(c, cut, progress=False)
    with h5py.File(cut, "r+") as f:
        text = f.attrs["config"]
        assert "save_around_events = false" in text
        f.attrs["config"] = text.replace("save_around_events = false\n", "")
        for d in f.values():
            if isinstance(d, h5py.Dataset) and d.maxshape and d.maxshape[0] is None:
                d.resize(2, axis=0)
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)
    stored = config_of_run(cut)
    assert stored["time"]["save_around_events"] is False
    simulate_to_file(stored, cut, progress=False, resume=True)
    with h5py.File(whole, "r") as f, h5py.File(cut, "r") as g:
        np.testing.assert_array_equal(g["time"][:], [0.0, 1800.0, 3600.0, 5400.0])
        np.testing.assert_array_equal(f["time"][:], g["time"][:])
        np.testing.assert_allclose(g["zn"][:], f["zn"][:], rtol=1e-5, atol=1e-7)


def _final_viability(model):
    index = model.fixed_names.index("viability")
    traj = trajectory(model, Schedule.from_model(model), lambda m, s: s.fixed[..., index])
    return jnp.sum(traj[-1])


def test_gradients_with_respect_to_exposure_start_and_dose_match_finite_differences(x64):
    c = _with(WELL_MIXED, numerics={"precision": "float64"},
              time={"end_h": 1.0, "dt_s": 60.0, "save_every_min": 30.0},
              ultrasound=[{"start_h": 0.7123, "duration_min": 0.5,
                           "intensity_W_per_cm2": 3.0}],
              dose=[{"time_h": 0.3377, "dose_ug_per_ml": 30.0}])
    model = build_model(c)
    # frames around the events (the default) follow their event: not pinned, so the gradient
    # with respect to the event's time is kept
    sources = set(model.protocol.plan.sources)
    assert {("ultrasound_start", 0), ("ultrasound_end", 0), ("dose", 0),
            ("dose", 0, 60.0)} <= sources
    assert len(Schedule.from_model(model).save_times_s) == 3 + 4
    duration = float(model.ultrasound[0].end_s - model.ultrasound[0].start_s)

    def shifted(start_s):
        return eqx.tree_at(lambda m: (m.ultrasound[0].start_s, m.ultrasound[0].end_s), model,
                           (start_s, start_s + duration))

    def dosed(dose):
        return eqx.tree_at(lambda m: m.protocol.dose_ug_per_ml, model, jnp.stack([dose]))

    for f, x0, eps in ((lambda s: _final_viability(shifted(s)), model.ultrasound[0].start_s,
                        5.0),
                       (lambda d: _final_viability(dosed(d)), model.protocol.dose_ug_per_ml[0],
                        0.1)):
        grad = float(jax.jit(jax.grad(f))(x0))
        f = jax.jit(f)
        fd = float((f(x0 + eps) - f(x0 - eps)) / (2 * eps))
        assert abs(fd) > 0
        assert grad == pytest.approx(fd, rel=1e-4)


def test_a_viability_row_is_fitted_with_its_own_protocol(tmp_path, x64):
    """Rows with a wash and a stimulus time: the prediction of each row equals a plain run of
    that protocol (the conditions share one plan; each lands on its own events)."""
    from zn_pde.observables import VIABILITY, load_table
    from zn_pde.observables._prediction import build_prediction, group_conditions

    (tmp_path / "v.csv").write_text(
        "concentration_ug_per_ml,viability_percent,exposure_h,ultrasound_W_per_cm2,wash_h,"
        "stimulus_h\n40,80,3,2.0,1.0,1.25\n40,85,3,2.0,0.5,2.1\n")
    table = load_table(tmp_path / "v.csv", "viability")
    sim = {"ultrasound": [{"start_h": 1.0, "duration_min": 1.0, "intensity_W_per_cm2": 1.0}]}
    conds, times = VIABILITY.row_conditions(table, {}, sim, "<test>")
    assert conds[0]["medium_exchange"] == [{"time_h": 1.0}]
    assert conds[1]["ultrasound"][0]["start_h"] == 2.1
    base = {**VIABILITY.base_config, **sim}
    unique, index = group_conditions(conds)
    pred = build_prediction(base, unique, index, times, (), VIABILITY.observe)
    got = np.asarray(pred(jnp.zeros(0)))
    for row in range(2):
        c = _with({**base, **conds[row], "time": {"end_h": 3.0, "dt_s": 60.0,
                                                  "save_every_min": 60.0}})
        # the same plan as the prediction's: the same steps, so equal to round-off
        model = build_model(c, plan=pred.schedule.plan)
        want = float(VIABILITY.observe(model, _frames(model)[-1]))
        assert got[row] == pytest.approx(want, rel=1e-9)
        # the row's own plan lacks the other row's breakpoints: first-order time error only
        model = build_model(c)
        own = float(VIABILITY.observe(model, _frames(model)[-1]))
        assert got[row] == pytest.approx(own, rel=1e-5)
    assert abs(got[0] - got[1]) > 1e-6  # the protocols differ, and so do the read-outs


def test_a_protocol_common_to_every_row_is_written_once_in_the_fit_config(tmp_path, x64):
    """[[fit.simulation.dose]] and [[fit.simulation.medium_exchange]] act in every row's
    simulation (docs/fitting.md; an outside client audit found them refused): a row read out
    before the common dose is unaffected by it, one read after matches a plain run of the
    whole protocol, and a row's own wash_h joins the common exchange in time order."""
    from zn_pde.fit import load_fit_config
    from zn_pde.fit._problem import build_problem
    from zn_pde.observables import VIABILITY

    (tmp_path / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h,"
                                    "wash_h\n40,80,1,0.5\n40,60,4,0.5\n")
    (tmp_path / "fit.toml").write_text(
        '[fit]\nname = "common"\nobservable = "viability"\ndata = "v.csv"\n'
        'material = "ZnO"\n[fit.simulation.time]\ndt_s = 60.0\n'
        "[[fit.simulation.dose]]\ntime_h = 2.0\ndose_ug_per_ml = 80.0\n"
        "[[fit.simulation.medium_exchange]]\ntime_h = 3.0\n")
    problem = build_problem(load_fit_config(tmp_path / "fit.toml"))
    (c,) = problem.prediction.configs  # both rows: one condition, read at 1 h and 4 h
    assert [e["time_h"] for e in c["medium_exchange"]] == [0.5, 3.0]
    assert [(e["time_h"], e["dose_ug_per_ml"]) for e in c["dose"]] == [(2.0, 80.0)]
    got = np.asarray(problem.prediction(jnp.log(jnp.asarray(problem.free.initial))))
    run = {**VIABILITY.base_config, "material": {"kind": "ZnO", "dose_ug_per_ml": 40.0},
           "medium_exchange": [{"time_h": 0.5}, {"time_h": 3.0}],
           "dose": [{"time_h": 2.0, "dose_ug_per_ml": 80.0}]}
    # read at 1 h, before the common dose and exchange: a run of what happened by then
    early = {**run, "medium_exchange": [{"time_h": 0.5}], "dose": []}
    for row, c, end_h in ((0, early, 1.0), (1, run, 4.0)):
        model = build_model(_with(c, time={"end_h": end_h, "dt_s": 60.0,
                                           "save_every_min": 60.0 * end_h}))
        want = float(VIABILITY.observe(model, _frames(model)[-1]))
        assert got[row] == pytest.approx(want, rel=1e-5)
    model = build_model(_with({**run, "dose": []}, time={"end_h": 4.0, "dt_s": 60.0,
                                                          "save_every_min": 240.0}))
    without = float(VIABILITY.observe(model, _frames(model)[-1]))
    assert got[1] < without - 0.5  # the second dose kills (viability in %)


@pytest.mark.parametrize("overrides, needles", [
    (["dose=[{time_h=1.0, dose_ug_per_ml=5.0}, {time_h=-2.0, dose_ug_per_ml=5.0}]"],
     ["key 'dose[1].time_h'", "dose[1].time_h = -2: outside the run"]),
    (["medium_exchange=[{time_h=-1.0}]"],
     ["key 'medium_exchange[0].time_h'", "time_h < time.end_h = 24"]),
    (["dose=[{time_h=2.0, dose_ug_per_ml=-1.0}]"], ["key 'dose[0].dose_ug_per_ml'", "-1"]),
    (["ultrasound=[{start_h=4.0, duration_min=10.0, intensity_W_per_cm2=1.0}, "
      "{start_h=4.1, duration_min=1.0, intensity_W_per_cm2=1.0}]"],
     ["key 'ultrasound[1].start_h'", "while ultrasound[0]", "still on"]),
    (["light=[{start_h=4.0, duration_min=10.0, wavelength_nm=808.0, irradiance_mW_per_cm2=1.0}, "
      "{start_h=4.1, duration_min=1.0, wavelength_nm=660.0, irradiance_mW_per_cm2=1.0}]"],
     ["key 'light[1].start_h'", "808 and 660 nm cannot be on together"]),
    (["medium_exchange=[{time_h=2.0, ph=15.0}]"], ["key 'medium_exchange[0].ph'", "<= 14"]),
])
def test_bad_protocols_exit_2_naming_the_event(capsys, overrides, needles):
    from zn_pde.cli import main

    code = main(["validate"] + [f"--set={o}" for o in overrides])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize("grid", list(GRIDS))
def test_end_and_frames_off_the_step_grid_are_landed_on(grid, x64):
    """`time.dt_s` is the largest step, never a reason to refuse a protocol: a run of
    1.01 h saved every 25 min at dt = 60 s (neither a whole number of steps) saves at
    0, 25, 50 min and 1.01 h exactly, conserves zinc (zero-flux walls, float64, rtol 1e-10)
    and ends with tissue means within 1 % of the run at dt = 12 s, which divides both (the
    first-order time error of the 3D spheroid's rim: 0.3 % in its cells' zinc); a run
    shorter than one step (36 s at dt = 60 s) takes one step of 36 s."""
    base = dict(GRIDS[grid], numerics={"precision": "float64"}, boundary={"kind": "neumann"})
    out = {}
    for dt in (60.0, 12.0):
        model = build_model(_with(base, time={"end_h": 1.01, "dt_s": dt,
                                               "save_every_min": 25.0}))
        plan = model.protocol.plan
        starts, lengths = plan.step_times_s()
        ends = np.concatenate([[0.0], starts + lengths])
        np.testing.assert_allclose(ends[list(plan.save_steps)], [0.0, 1500.0, 3000.0, 3636.0],
                                   rtol=0, atol=1e-9)
        assert lengths.max() <= dt + 1e-9
        frames = _frames(model)
        assert len(frames) == 4
        zinc = [_totals(model, f)[1] for f in frames]
        assert zinc[-1] == pytest.approx(zinc[0], rel=1e-10)
        tissue = np.asarray(model.tissue)
        out[dt] = {name: np.asarray(getattr(model.local(frames[-1]), name))[tissue].mean()
                   for name in ("zn_cell", "np_int", "viability")}
    for name, value in out[60.0].items():
        assert value == pytest.approx(out[12.0][name], rel=0.01), (name, out)
    short = build_model(_with(base, time={"end_h": 0.01, "dt_s": 60.0,
                                          "save_every_min": 60.0}))
    assert short.protocol.plan.steps == (1,)
    assert short.protocol.plan.breaks_s == pytest.approx((0.0, 36.0))


def test_an_exposure_shorter_than_the_step_is_accepted_and_landed_on(capsys):
    from zn_pde.cli import main

    assert main(["validate", "--set=ultrasound[0].duration_min=0.1666",
                 "--set=ultrasound[0].start_h=4.0123"]) == 0
    capsys.readouterr()


def test_the_static_ph_field_says_it_is_the_start_s_and_the_exchange_gives_the_later_one(
        tmp_path):
    """/ph is written once, before the run: after an exchange to pH 6.8 its medium voxels
    still read the 7.4 of t = 0, and its long_name said only "extracellular pH". It now says
    it is the pH at t = 0 and names event_medium_ph, where the exchange's 6.8 is."""
    import xarray as xr

    c = _with(SPHEROID, medium_exchange=[{"time_h": 0.5, "ph": 6.8}],
              time={"end_h": 1.0, "dt_s": 60.0, "save_every_min": 30.0})
    out = tmp_path / "run.h5"
    simulate_to_file(c, out, progress=False)
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        medium = ds["tissue_mask"] == 0
        np.testing.assert_allclose(ds["ph"].where(medium).max(), 7.4, rtol=1e-6)
        np.testing.assert_allclose(ds["ph"].where(medium).min(), 7.4, rtol=1e-6)
        assert "at t = 0" in ds["ph"].attrs["long_name"]
        assert "event_medium_ph" in ds["ph"].attrs["long_name"]
        exchange = ds["event_kind"] == "medium_exchange"
        np.testing.assert_allclose(ds["event_medium_ph"].where(exchange, drop=True), [6.8])
