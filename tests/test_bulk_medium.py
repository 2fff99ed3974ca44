"""The bulk medium beyond a grid's Dirichlet faces (`boundary.bulk_medium`).

`reacting` (the default): a cell-free, well-mixed medium whose particles dissolve at the
medium's pH and whose Zn²⁺ accumulates, exactly as a cell-free vial of the same dose; the
faces hold it (its mean over each step). `fixed`: the dose and fresh medium for ever.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import config, series

from zn_pde import Schedule, build_model, trajectory

SPHEROID = {"grid": {"shape": [12, 12, 12], "spacing_um": 30.0},
            "geometry": {"kind": "spheroid", "radius_um": 120.0},
            "time": {"end_h": 24.0, "dt_s": 300.0, "save_every_min": 240.0,
                     "save_around_events": False},
            "ph": {"medium": 7.0, "tissue_rim": 6.9, "tissue_core": 6.7},
            "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
            "numerics": {"precision": "float64"}}


def _bulk(raw: dict) -> tuple[object, np.ndarray, dict]:
    model = build_model(config(raw))
    out = trajectory(model, Schedule.from_model(model),
                     lambda m, s: {**m.fields(s), "bulk": s.bulk})
    return model, np.asarray(out["bulk"]), {k: np.asarray(v) for k, v in out.items()}


def _vial(raw: dict) -> dict:
    vial = {**raw, "grid": {"kind": "well_mixed"}, "geometry": {"kind": "medium"}}
    return series(config(vial))[1]


def test_reacting_bulk_is_a_cell_free_vial(x64):
    """The bulk's particles and Zn²⁺ follow a cell-free vial of the same dose and medium pH
    (the same kinetics and steps) to round-off; the fixed bulk keeps the dose and no zinc."""
    model, bulk, _ = _bulk(SPHEROID)
    names = model.model_mobile_names
    vial = _vial(SPHEROID)
    for name in ("np", "zn"):
        np.testing.assert_allclose(bulk[:, names.index(name)], vial[name], rtol=1e-9,
                                   atol=1e-12)
    assert bulk[-1, names.index("zn")] > 1.0  # µM of Zn²⁺ gathered in a day at pH 7.0
    fixed = {**SPHEROID, "boundary": {"bulk_medium": "fixed"}}
    m_fixed = build_model(config(fixed))
    assert m_fixed.initial_state().bulk is None


def test_the_bulk_takes_the_vial_s_reaction_substeps(x64):
    """`numerics.reaction_substeps` splits the bulk's step as it splits a vial's: a ZnS bulk
    on a radial grid at dt_s = 600 s with 4 sub-steps follows the cell-free vial of the same
    settings to round-off. ZnS dissolves in the fluid up to its solubility limit, as the
    H2S oxidised over a step (half-life 5 min) makes room, so the step matters: over whole
    600 s steps the bulk gathered a quarter less Zn2+ in 12 h than the vial."""
    raw = {"grid": {"kind": "radial", "shape": [8], "spacing_um": 40.0},
           "geometry": {"kind": "spheroid", "radius_um": 100.0},
           "time": {"end_h": 12.0, "dt_s": 600.0, "save_every_min": 240.0,
                    "save_around_events": False},
           "material": {"kind": "ZnS", "dose_ug_per_ml": 20.0},
           "numerics": {"precision": "float64", "reaction_substeps": 4}}
    model, bulk, _ = _bulk(raw)
    names = model.model_mobile_names
    vial = _vial(raw)
    for name in ("np", "zn", "h2s"):
        np.testing.assert_allclose(bulk[:, names.index(name)], vial[name], rtol=1e-9,
                                   atol=1e-12)


def test_the_bulk_zinc_reaches_the_interstitium(x64):
    """With the bulk's Zn²⁺ on the faces, the interstitial Zn²⁺ of the spheroid rises towards
    it: at 24 h the tissue mean lies within a factor 2 of the bulk value and at least 10x the
    fixed reservoir's (which holds none)."""
    model, bulk, out = _bulk(SPHEROID)
    tissue = np.asarray(model.tissue)
    zn_bulk = bulk[-1, model.model_mobile_names.index("zn")]
    reacting = out["zn"][-1][tissue].mean()
    _, fixed = series(config({**SPHEROID, "boundary": {"bulk_medium": "fixed"}}))
    assert 0.5 * zn_bulk < reacting < 2.0 * zn_bulk
    assert reacting > 10.0 * fixed["zn"][-1][tissue].mean()


def test_an_exchange_resets_the_bulk_and_a_dose_adds_to_it(x64):
    """A medium exchange at 6 h empties the bulk of particles and zinc (fresh medium); a dose
    at 12 h adds its particles; afterwards Zn²⁺ gathers again from the new particles only."""
    raw = {**SPHEROID, "medium_exchange": [{"time_h": 6.0}],
           "dose": [{"time_h": 12.0, "dose_ug_per_ml": 10.0}]}
    model, bulk, _ = _bulk(raw)
    names = model.model_mobile_names
    t_h = Schedule.from_model(model).save_times_s / 3600.0
    np_b, zn_b = bulk[:, names.index("np")], bulk[:, names.index("zn")]
    at = {float(t): i for i, t in enumerate(t_h)}
    assert zn_b[at[4.0]] > 0.0
    # frames hold the state before the event at their time; 8 h: fresh medium for 2 h
    assert np_b[at[8.0]] == pytest.approx(0.0, abs=1e-12)
    assert zn_b[at[8.0]] == pytest.approx(0.0, abs=1e-12)
    vial = _vial({**SPHEROID, "material": {"kind": "ZnO", "dose_ug_per_ml": 10.0},
                  "time": {**SPHEROID["time"], "end_h": 12.0}})  # frames at 0, 4, 8, 12 h
    assert np_b[at[16.0]] == pytest.approx(vial["np"][1], rel=1e-6)  # 4 h of the new dose
    assert zn_b[-1] == pytest.approx(vial["zn"][-1], rel=1e-6)  # 12 h of it


def test_a_resumed_run_replays_the_bulk(x64):
    """`Model.bulk_at(step)` (used to resume from a saved frame) equals the carried bulk."""
    model = build_model(config(SPHEROID))
    sched = Schedule.from_model(model)
    out = trajectory(model, sched, lambda m, s: (s.bulk, s.step))
    bulks, steps = (np.asarray(a) for a in out)
    for i in (1, 3, len(steps) - 1):
        np.testing.assert_allclose(np.asarray(model.bulk_at(int(steps[i]))), bulks[i],
                                   rtol=1e-12, atol=1e-15)


def test_the_output_file_stores_the_bulk_medium(tmp_path, x64):
    """`bulk_<species>` series in the HDF5 file: a ZnO2 spheroid's bulk Zn²⁺ and H₂O₂ follow
    the cell-free vial of the same dose (to float32 storage, rtol 1e-5); species the material
    does not make (H₂S, cargo) and every bulk series of a fixed-bulk run are NaN."""
    from zn_pde import open_run
    from zn_pde._run import simulate_to_file

    raw = {**SPHEROID, "material": {"kind": "ZnO2", "dose_ug_per_ml": 20.0}}
    simulate_to_file(config(raw), tmp_path / "r.h5", progress=False)
    ds = open_run(tmp_path / "r.h5")
    vial = _vial(raw)
    for name in ("zn", "h2o2", "np"):
        assert ds[f"bulk_{name}"].attrs["units"] == ("ug/mL" if name == "np" else "uM")
        np.testing.assert_allclose(ds[f"bulk_{name}"].values, vial[name], rtol=1e-5,
                                   atol=1e-9)
    assert ds["bulk_zn"].values[-1] > 1.0
    assert np.isnan(ds["bulk_h2s"].values).all() and np.isnan(ds["bulk_cargo"].values).all()
    simulate_to_file(config({**raw, "boundary": {"bulk_medium": "fixed"}}),
                     tmp_path / "f.h5", progress=False)
    fixed = open_run(tmp_path / "f.h5")
    assert all(np.isnan(fixed[f"bulk_{n}"].values).all() for n in ("np", "zn", "h2o2"))


def test_a_sweep_stores_each_points_bulk_medium(tmp_path, x64):
    """A radial sweep over the dose stores `bulk_zn` per point, each equal to the cell-free
    vial of that point's dose (rtol 1e-5, float32 storage): the bulk is carried per point."""
    import h5py

    from zn_pde._sweep import run_sweep

    raw = {**SPHEROID, "grid": {"kind": "radial", "shape": [16], "spacing_um": 10.0},
           "geometry": {"kind": "spheroid", "radius_um": 100.0},
           "sweep": {"material.dose_ug_per_ml": [5.0, 20.0]}}
    run_sweep(config(raw), tmp_path / "s.h5", progress=False)
    with h5py.File(tmp_path / "s.h5", "r") as f:
        stored = f["bulk_zn"][:]
    for i, dose in enumerate((5.0, 20.0)):
        vial = _vial({**SPHEROID, "material": {"kind": "ZnO", "dose_ug_per_ml": dose}})
        np.testing.assert_allclose(stored[i], vial["zn"], rtol=1e-5, atol=1e-9)
    assert stored[1, -1] > 3.0 * stored[0, -1]


def test_the_bulk_medium_is_exposed_where_the_beam_enters(x64):
    """Ultrasound at 2 W/cm² for 10 min: the bulk's particles make diffusible ROS exactly as
    a cell-free vial given the same exposure (rtol 1e-6 at every frame, 5 min apart), so
    the walls hold it during the exposure and after, as it decays (H2O2-like, over hours in
    cell-free medium)."""
    raw = {**SPHEROID, "time": {"end_h": 3.0, "dt_s": 60.0, "save_every_min": 5.0,
                                "save_around_events": False},
           "ultrasound": [{"start_h": 2.0, "duration_min": 10.0, "intensity_W_per_cm2": 2.0,
                           "frequency_MHz": 1.0}]}
    model, bulk, _ = _bulk(raw)
    ros = bulk[:, model.model_mobile_names.index("ros")]
    vial = _vial(raw)
    np.testing.assert_allclose(ros, vial["ros"], rtol=1e-6, atol=1e-12)
    t_h = Schedule.from_model(model).save_times_s / 3600.0
    during = (t_h > 2.0) & (t_h <= 2.0 + 10 / 60)
    assert ros[during].min() > 0.1  # uM while the beam is on
    assert ros[t_h < 2.0].max() == 0.0 and 0.0 < ros[-1] < ros[during].max()


def test_the_bulk_medium_s_oxygen_feeds_a_photosensitiser_as_a_vial_s_does(x64):
    """A co-loaded photosensitiser under 664 nm light (its Q band; ZnO's band gap is not
    reached) makes singlet oxygen from O2 in the bulk medium as in a cell-free vial given the
    same exposure: the bulk's O2 follows the vial's at every frame (rtol 1e-9), which the
    dye drives below 1 uM within 10 min at 50 mW/cm² and which recovers by gas exchange
    after. Until 2026-12-06 the bulk took no dye photons and kept 177 uM, so the walls fed
    the spheroid O2 that its well had spent."""
    raw = {"grid": {"kind": "radial", "shape": [12], "spacing_um": 10.0},
           "geometry": {"radius_um": 30.0},
           "time": {"end_h": 0.5, "dt_s": 60.0, "save_every_min": 10.0,
                    "save_around_events": False},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
           "oxygen": {"enabled": True}, "photosensitiser": {"enabled": True},
           "numerics": {"precision": "float64"},
           "light": [{"start_h": 0.0, "duration_min": 20.0, "irradiance_mW_per_cm2": 50.0,
                      "wavelength_nm": 664.0}]}
    model, bulk, _ = _bulk(raw)
    o2 = bulk[:, model.model_mobile_names.index("o2")]
    vial = _vial(raw)
    np.testing.assert_allclose(o2, vial["o2"], rtol=1e-9, atol=1e-12)
    assert o2[1] < 1.0 < o2[-1] < o2[0]
