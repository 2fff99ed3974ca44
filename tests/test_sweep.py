"""[sweep]: the vectorised grid of simulations equals the simulations run one by one."""

from __future__ import annotations

import itertools

import h5py
import numpy as np
import pytest
import xarray as xr
from helpers import WELL_MIXED_CULTURE, config, hold_lock, series

from zn_pde import InputError, build_model, simulate
from zn_pde._protocol import build_plan
from zn_pde._sweep import point_config, run_sweep, summary_panels, sweep_points
from zn_pde.cli import main
from zn_pde.config import dumps, key_units

SWEEP = {**WELL_MIXED_CULTURE,
         "time": {"end_h": 12.0, "dt_s": 60.0, "save_every_min": 120.0},
         "ultrasound": [{"start_h": 2.0, "duration_min": 5.0, "intensity_W_per_cm2": 1.0}],
         "sweep": {"material.dose_ug_per_ml": [3.0, 10.0, 30.0],
                   "ultrasound[0].intensity_W_per_cm2": [0.0, 2.0],
                   "ultrasound[0].start_h": [1.0, 6.0]}}


def test_each_sweep_point_equals_its_own_run(tmp_path, monkeypatch, capsys):
    """12 points in one vmapped computation; each point's final tissue-mean viability and
    zinc match a standalone run of that point's config to 1e-5 relative. The points share one
    step plan that lands on every point's exposure (they start at 1 or 6 h), so a standalone
    run on that plan matches to round-off, and one on the point's own plan (without the other
    points' exposure steps) to the first-order time error (1e-4, or 1e-6 of the cells).
    Building the points' models shows its progress (here from 12 points on, not 50)."""
    monkeypatch.setattr("zn_pde._sweep.BUILD_PROGRESS_POINTS", 12)
    c = config(SWEEP)
    table = run_sweep(c, tmp_path / "s.h5", progress=True)
    err = capsys.readouterr().err
    assert "building the sweep: 12/12 points (100%)" in err and "sweep of 12: 12/12 h" in err
    keys, points = sweep_points(c)
    assert len(points) == 12
    plan = build_plan([point_config(c, keys, p) for p in points])
    for i in (0, 5, 7, 11):
        for shared, rel in ((plan, 1e-5), (None, 1e-4)):
            _, out = series(point_config(c, keys, points[i]), shared)
            # (abs: a point that kills nearly every cell ends at ~1e-5, where the time
            # error is relatively larger; a millionth of the cells is below any reading)
            assert table["tissue_mean_viability"][i] == pytest.approx(out["viability"][-1],
                                                                       rel=rel, abs=1e-6)
            assert table["tissue_mean_zn_cell"][i] == pytest.approx(out["zn_cell"][-1],
                                                                     rel=rel)
    v = table["tissue_mean_viability"]
    assert v[0] > v[4] > v[8]  # more dose, fewer survivors (same stimulus)
    with h5py.File(tmp_path / "s.h5", "r") as f:
        np.testing.assert_array_equal(f["sweep_material_dose_ug_per_ml"][:],
                                      [p[0] for p in points])
        # every 2 h, and around every point's exposure (1 h and 1 h 5 min; 6 h 5 min: its
        # start is on the grid): the points share one plan and so one time axis
        np.testing.assert_allclose(f["time"][:] / 3600.0, sorted(
            [*np.arange(0.0, 13.0, 2.0), 1.0, 1.0 + 5 / 60, 6.0 + 5 / 60]), rtol=1e-12)
        assert f["tissue_mean_viability"].shape == (12, 10)
        assert int(f.attrs["complete"]) == 1
        assert " sweep on " in f.attrs["history"] and f.attrs["jax_backend"] in f.attrs["history"]
        unlabelled = []
        f.visititems(lambda n, o: unlabelled.append(n) if isinstance(o, h5py.Dataset) and not
                     {"units", "long_name"} <= set(o.attrs) else None)
        assert not unlabelled  # every dataset carries units and a long_name (CF)
    # xarray reads the swept keys as (auxiliary) coordinates, so a point is found by its value
    ds = xr.open_dataset(tmp_path / "s.h5", engine="h5netcdf")
    key = "sweep_material_dose_ug_per_ml"
    assert key in ds.coords and ds[key].attrs["units"] == "ug/mL"
    dose = points[4][0]
    final = ds.tissue_mean_viability.isel(time=-1).where(ds[key] == dose, drop=True)
    np.testing.assert_allclose(final.values, [v[i] for i, p in enumerate(points)
                                              if p[0] == dose], rtol=1e-6)
    ds.close()
    assert (tmp_path / "s_summary.csv").read_text().count("\n") == 13
    assert (tmp_path / "s_summary.png").stat().st_size > 1000
    # the figure shows what the stimulus itself killed: nothing at intensity 0, some at 2
    panels = summary_panels(table)
    assert [p[1].split(" (")[0] for p in panels] == [
        "final tissue-mean viability", "killed by the stimuli's own oxidative hits",
        "peak diffusible ROS in tissue"]
    on = np.array([p[1] == 2.0 for p in points])
    assert np.all(panels[1][0][~on] == 0) and np.all(panels[1][0][on] > 0.1)
    assert np.all(panels[2][0][on] > panels[2][0][~on])


@pytest.mark.parametrize("sweep, words", [
    ({"grid.spacing_um": [5.0, 10.0]}, "cannot be swept"),
    ({"time": [5.0, 10.0]}, "'sweep.time': this key changes the grid, schedule"),
    ({"material.dose_ug_per_ml": 5.0}, "list of numbers"),
    ({"material.dose_ug_per_ml": [5.0, -1.0]}, "not allowed"),
    ({"material.nonsense_um": [1.0]}, "unknown key"),
    # more exposures is another model structure (not one vmapped computation)
    ({"ultrasound[0].repeats": [1, 2]}, "cannot be swept"),
    # a value twice runs its points twice and makes the swept coordinate no index
    ({"material.dose_ug_per_ml": [5.0, 10.0, 5]}, "value 5.0 is listed more than once"),
    # an entry the config does not have: the sweep's key named, no '--set' (none was given)
    ({"dose[0].time_h": [1.0, 2.0]}, "'sweep.dose[0].time_h': index 0: the config has no dose"),
    # one key spelt two ways: validate passed it (the later list silently replacing the
    # earlier in every point) and run failed with a traceback writing `sweep_<key>` twice
    ({"ultrasound[0].start_h": [1.0, 6.0], "ultrasound.0.start_h": [3.0]},
     "'sweep.ultrasound.0.start_h': the same config key as the sweep's "
     "'ultrasound[0].start_h'"),
    # an unquoted dotted key is a nested table to TOML: the message says to quote it
    ({"material": {"dose_ug_per_ml": [5.0, 10.0]}},
     'quote the dotted key, "material.dose_ug_per_ml" = [...]'),
    # passive species alone: refused by validate, not only once run builds every point
    ({"species[0].decay_per_s": [0.0, 0.001]}, "a [sweep] section needs a [material]"),
])
def test_bad_sweeps_exit_2(tmp_path, capsys, sweep, words):
    c = {**SWEEP, "sweep": sweep}
    if "species[0].decay_per_s" in sweep:
        c = {k: v for k, v in c.items() if k not in ("material", "ultrasound")}
        c["species"] = [{"name": "tracer", "diffusivity_um2_per_s": 100.0}]
    path = tmp_path / "s.toml"
    path.write_text(dumps(c))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert words in err and "sweep" in err


def test_a_sweep_of_release_vials_reports_what_dissolved(tmp_path, capsys):
    """Cell-free vials have no viability: the sweep reports, prints and plots the material
    dissolved and the dissolved zinc instead. In a phosphate saline at pH 6.8 the dissolved
    zinc settles at the swept zinc-phosphate limit (to 1 %) within 2 days from 20 ug/mL."""
    vial = {"grid": {"kind": "well_mixed"},
            "time": {"end_h": 48.0, "dt_s": 600.0, "save_every_min": 720.0},
            "geometry": {"kind": "medium"}, "ph": {"medium": 6.8},
            "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
            "medium": {"composition": "phosphate_saline"},
            "sweep": {"medium.zinc_phosphate_limit_uM": [2.0, 10.0]}}
    path = tmp_path / "v.toml"
    path.write_text(dumps(vial))
    assert main(["run", str(path), "-o", str(tmp_path / "v.h5"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "dissolved" in out and "viability" not in out
    with h5py.File(tmp_path / "v.h5", "r") as f:
        np.testing.assert_allclose(f["mean_zn"][:, -1], [2.0, 10.0], rtol=0.01)
        assert np.all(f["dissolved_percent"][:, -1] > 0)
    assert (tmp_path / "v_summary.png").stat().st_size > 1000


def test_a_one_point_sweep_says_1_point(tmp_path, capsys):
    """A sweep of one point (a single value of a single key) runs, and `run` and `inspect`
    say '1 point' (they said '1 points')."""
    c = {**SWEEP, "time": {**SWEEP["time"], "end_h": 3.0},
         "sweep": {"material.dose_ug_per_ml": [10.0]}}
    path = tmp_path / "one.toml"
    path.write_text(dumps(c))
    out = tmp_path / "one.h5"
    assert main(["run", str(path), "-o", str(out), "--quiet"]) == 0
    assert "(1 point; " in capsys.readouterr().out
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "swept keys (1 point: " in text and "1 points" not in text


@pytest.mark.parametrize("key, units", [
    ("material.dose_ug_per_ml", "ug/mL"),
    ("geometry.center_um[0]", "um"),  # an index keeps its list's unit (it read "1")
    ("species[0].decay_per_s.medium", "1/s"),  # a pair's entry keeps the pair's
    ("ph.medium", "1"),
    # a suffix that ends in another's is not read as the shorter (they read 1/s, W/cm^2,
    # 1/s and MHz), and /cm is a unit (it read 1)
    ("kinetics.sono_ros_yield_uM_per_s", "uM/s"),
    ("kinetics.shg_efficiency_per_W_per_cm2", "1/(W/cm^2)"),
    ("kinetics.fenton_rate_per_uM_per_s", "1/(uM s)"),
    ("tissue.ultrasound_attenuation_dB_per_cm_MHz", "dB/(cm MHz)"),
    ("tissue.light_attenuation_per_cm", "1/cm"),
    ("kinetics.light_absorption_cm2_per_ug", "cm^2/ug"),
    # the sonodynamic yields are per ug/mL of particles (they read ug/mL, the unit of a
    # dose, on a sweep's axis and a plan's control), and the units of the names renamed to
    # carry them (they read 1)
    ("kinetics.sono_radical_yield_uM_per_s_per_ug_per_ml", "uM/s per ug/mL"),
    ("kinetics.sono_ros_yield_uM_per_s_per_ug_per_ml", "uM/s per ug/mL"),
    ("kinetics.dissolution_switch_steepness_per_ph", "1/pH"),
    ("photosensitiser.loading_ug_per_ug", "ug/ug"),
    ("photosensitiser.molar_mass_g_per_mol", "g/mol"),
    ("photosensitiser.molar_absorption_per_M_per_cm[1]", "1/(M cm)"),
])
def test_a_swept_key_s_coordinate_has_the_unit_its_name_carries(key, units):
    """The `units` of `sweep_<key>` (and the summary figure's axis) is the unit in the key's
    name, as the config reference reads it."""
    assert key_units(key) == units


@pytest.mark.parametrize("key, values, derived", [
    # the particles' diffusivities follow their diameter (Stokes-Einstein, Renkin)
    ("material.hydrodynamic_diameter_nm", [30.0, 150.0],
     ["kinetics.np_diffusivity_medium_um2_per_s", "kinetics.np_tissue_diffusivity_fraction"]),
    # the solutes' tissue diffusivities follow the tortuosity (D / lambda^2)
    ("tissue.tortuosity", [1.3, 2.0],
     ["kinetics.zn_diffusivity_tissue_um2_per_s", "kinetics.np_tissue_diffusivity_fraction"]),
    # the fluid fraction follows the cell fraction
    ("geometry.cell_volume_fraction", [0.5, 0.7], ["tissue.extracellular_volume_fraction"]),
    # and the cell fraction (left at its default) the fluid fraction
    ("tissue.extracellular_volume_fraction", [0.1, 0.3], ["geometry.cell_volume_fraction"]),
])
def test_a_sweep_point_derives_what_follows_from_the_swept_key(key, values, derived):
    """A sweep point is the config written with that value: every value resolution derives
    from the swept key is derived again (before 2026-12-02 a point kept the base config's
    derived values, so sweeping the particle diameter or the tortuosity changed nothing in
    tissue, and sweeping the cell fraction left the fluid fraction at 0.2)."""
    raw = {"grid": {"kind": "radial", "shape": [16], "spacing_um": 12.5},
           "geometry": {"kind": "spheroid", "radius_um": 100.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0,
                        "hydrodynamic_diameter_nm": 67.0}}
    swept = config({**raw, "sweep": {key: values}})
    keys, points = sweep_points(swept)
    seen = []
    for point in points:
        got = point_config(swept, keys, point)
        section, name = key.split(".")
        own = config({**raw, section: {**raw.get(section, {}), name: point[0]}})
        for d in derived:
            s, n = d.split(".")
            assert got[s][n] == pytest.approx(own[s][n], rel=1e-12), (d, point)
        seen.append([got[s][n] for s, n in (d.split(".") for d in derived)])
    assert all(a != b for a, b in zip(*seen, strict=True)), seen


def test_a_sweep_may_set_a_key_the_base_config_leaves_unset(tmp_path):
    """A key the base config leaves unset (the particle diameter) can be swept: each point
    equals the config written with its value, its diffusivities derived from the diameter
    (before: 'does not address a number of the resolved config'), and the sweep runs."""
    raw = {"grid": {"kind": "radial", "shape": [16], "spacing_um": 12.5},
           "geometry": {"kind": "spheroid", "radius_um": 100.0},
           "time": {"end_h": 2.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
           "sweep": {"material.hydrodynamic_diameter_nm": [30, 150.0]}}
    swept = config(raw)
    keys, points = sweep_points(swept)
    for point in points:
        got = point_config(swept, keys, point)
        own = config({**{k: v for k, v in raw.items() if k != "sweep"},
                      "material": {**raw["material"], "hydrodynamic_diameter_nm": point[0]}})
        assert got["kinetics"] == own["kinetics"]
    assert (points[0] != points[1] and got["kinetics"]["np_diffusivity_medium_um2_per_s"]
            == pytest.approx(9.8094 * 67.0 / 150.0, rel=1e-3))  # Stokes-Einstein, 1/d
    path = tmp_path / "s.toml"
    path.write_text(dumps(raw))
    assert main(["run", str(path), "-o", str(tmp_path / "s.h5"), "--quiet"]) == 0
    with h5py.File(tmp_path / "s.h5", "r") as f:
        np.testing.assert_array_equal(f["sweep_material_hydrodynamic_diameter_nm"][:],
                                      [30.0, 150.0])
        # the final radial profiles: each point's own run's last frame, labelled (CF)
        for i, point in enumerate(points):
            _, out = series(point_config(swept, keys, point))
            tissue = build_model(point_config(swept, keys, point)).tissue
            for name in ("viability", "np_int", "zn_cell"):
                d = f[f"final_{name}"]
                want = np.where(tissue, out[name][-1], np.nan) if name == "viability" else (
                    out[name][-1])  # (NaN in the medium, as a run's file holds it)
                np.testing.assert_allclose(d[i], want, rtol=1e-5, atol=1e-9)
                assert {"units", "long_name", "coordinates"} <= set(d.attrs)
        assert f["r"].attrs["units"] == "um" and "long_name" in f["r"].attrs


def test_a_sweep_may_set_one_coordinate_of_a_default_list():
    """`geometry.center_um[0]` on a config that leaves the centre to its default (the domain
    centre): each point moves that coordinate only (before: 'index 0 out of range')."""
    raw = {"grid": {"shape": [16, 16, 16], "spacing_um": 10.0},
           "geometry": {"kind": "spheroid", "radius_um": 40.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
           "sweep": {"geometry.center_um[0]": [70.0, 90.0]}}
    swept = config(raw)
    keys, points = sweep_points(swept)
    centres = [point_config(swept, keys, p)["geometry"]["center_um"] for p in points]
    assert centres == [[70.0, 80.0, 80.0], [90.0, 80.0, 80.0]]


@pytest.mark.parametrize("key, values", [("geometry.radius_um", [80.0, 160.0]),
                                         ("geometry.center_um[0]", [180.0, 200.0]),
                                         ("kinetics.cell_diameter_um", [10.0, 90.0])])
def test_a_sweep_of_a_spheroid_s_size_or_place_on_a_voxel_grid(tmp_path, key, values):
    """On a 3D grid a spheroid's radius or centre changes how many voxel faces its surface
    has, and the cell diameter how deep its layer reaches, which the surface cells' uptake
    gathers over: each point's surface is padded with inert faces and each point's final
    fields equal its own run's (before: the points did not stack, a traceback 'All input
    arrays must have the same shape', or for the diameter 'the swept values change the
    model's structure', after `zn-pde validate` had passed the sweep)."""
    raw = {"grid": {"shape": [10, 10, 10], "spacing_um": 40.0},
           "time": {"end_h": 2.0, "dt_s": 600.0, "save_every_min": 60.0},
           "geometry": {"kind": "spheroid", "radius_um": 120.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
           "sweep": {key: values}}
    swept = config(raw)
    keys, points = sweep_points(swept)
    run_sweep(swept, tmp_path / "s.h5", progress=False)
    plan = build_plan([point_config(swept, keys, p) for p in points])
    with h5py.File(tmp_path / "s.h5", "r") as f:
        for i, point in enumerate(points):
            _, out = series(point_config(swept, keys, point), plan)
            for name in ("np", "np_int", "viability"):
                want = out[name][-1]
                if name == "viability":  # NaN in the medium, as a run's file holds it
                    want = np.where(build_model(point_config(swept, keys, point)).tissue,
                                    want, np.nan)
                np.testing.assert_allclose(f[f"final_{name}"][i], want, rtol=1e-5,
                                           atol=1e-9, err_msg=f"{name} at {point}")
        assert np.all(f["final_np_int"][...].max(axis=(1, 2, 3)) > 0)  # the cells took some


def test_points_that_need_different_models_are_named(tmp_path):
    """A radius that fills the radial domain leaves no medium (no surface to take up from):
    that point cannot share the others' computation, and the message names both points
    (before: no point named, after `zn-pde validate` had passed the sweep)."""
    raw = {"grid": {"kind": "radial", "shape": [16], "spacing_um": 12.5},
           "geometry": {"kind": "spheroid", "radius_um": 100.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
           "sweep": {"geometry.radius_um": [100.0, 200.0]}}
    with pytest.raises(InputError, match="between the points geometry.radius_um = 100 and "
                                         "geometry.radius_um = 200"):
        run_sweep(config(raw), tmp_path / "s.h5", progress=False)
    assert not (tmp_path / "s.h5").exists()


@pytest.mark.parametrize("item", ["material.dose_ug_per_ml=7.0",
                                  "ultrasound.0.intensity_W_per_cm2=1.5"])
def test_a_set_of_a_swept_key_is_refused_not_ignored(tmp_path, capsys, item):
    """`--set` of a key the [sweep] varies was accepted and then replaced by every point's
    own value: the run ignored it without a word. It exits 2 naming the key and saying how
    to set the swept values; other keys still take --set beside a sweep."""
    path = tmp_path / "s.toml"
    path.write_text(dumps(SWEEP))
    assert main(["validate", str(path), "--set", item]) == 2
    err = capsys.readouterr().err
    key = item.split("=")[0]
    assert f"key '{key}'" in err and "the [sweep] varies this key" in err
    assert "--set 'sweep.\"" in err and "Traceback" not in err
    assert main(["validate", str(path), "--set", "time.end_h=10"]) == 0


def test_a_medium_exchange_without_a_ph_follows_a_swept_medium_ph(tmp_path, capsys):
    """A [[medium_exchange]] without `ph` brings fresh medium at `ph.medium`: a sweep point
    of ph.medium changes it too (an outside red-team finding: the exchange kept the base
    config's pH, so a vial swept from pH 5 to 7.4 and washed at 2 h ended at pH 5's
    dissolved zinc, ~800x its own run's), while an exchange's own `ph` stays. Each point's
    dissolved zinc equals its own run's (to 1e-5), and ZnO dissolves far less at 7.4."""
    vial = {"grid": {"kind": "well_mixed"}, "geometry": {"kind": "medium"},
            "time": {"end_h": 3.0, "dt_s": 600.0, "save_every_min": 60.0},
            "material": {"kind": "ZnO", "dose_ug_per_ml": 10.0}, "ph": {"medium": 5.0},
            "medium_exchange": [{"time_h": 1.0}],
            "dose": [{"time_h": 1.0, "dose_ug_per_ml": 10.0}]}
    own_ph = {**vial, "medium_exchange": [{"time_h": 1.0}, {"time_h": 2.0, "ph": 6.0}]}
    swept = config({**own_ph, "sweep": {"ph.medium": [5.0, 7.4]}})
    keys, points = sweep_points(swept)
    for point in points:
        got = point_config(swept, keys, point)
        assert [x["ph"] for x in got["medium_exchange"]] == [point[0], 6.0]
    path = tmp_path / "v.toml"
    path.write_text(dumps({**vial, "sweep": {"ph.medium": [5.0, 7.4]}}))
    assert main(["run", str(path), "-o", str(tmp_path / "v.h5"), "--quiet"]) == 0
    assert "dissolved: not counted (a medium exchange" in capsys.readouterr().out
    own = []
    for ph in (5.0, 7.4):
        _, out = series(config({**vial, "ph": {"medium": ph}}))
        own.append(float(np.asarray(out["zn"])[-1]))
    with h5py.File(tmp_path / "v.h5", "r") as f:
        np.testing.assert_allclose(f["mean_zn"][:, -1], own, rtol=1e-5)
    assert own[1] < own[0] / 10


def test_the_summary_figure_leaves_the_caller_s_matplotlib_backend(tmp_path):
    """The sweep's figure is drawn on a Figure rendered by Agg: a caller's backend (a
    notebook's inline one) is left as it was (it was switched to Agg by matplotlib.use), and
    doses spanning a decade get a logarithmic axis (an outside figure review)."""
    import matplotlib

    from zn_pde._sweep import _plot_summary

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        fig = _plot_summary(tmp_path / "s.h5", ["material.dose_ug_per_ml"],
                            [[5.0], [20.0], [80.0]],
                            [(np.array([90.0, 70.0, 30.0]), "final viability (%)", 105.0)])
        assert matplotlib.get_backend() == "svg"
        assert fig.axes[0].get_xscale() == "log"
    finally:
        matplotlib.use(before)
    assert (tmp_path / "s_summary.png").stat().st_size > 1000


def test_summary_figure_of_a_culture_without_exposures_leaves_out_empty_panels():
    """A well-mixed sweep without exposures drew "killed by the stimuli" and "peak ROS in
    tissue" at 0 on a meaningless axis (an outside figure audit): left out; "culture" and
    "well", not "tissue"."""
    table = {"tissue_mean_viability": np.array([0.9, 0.8, 0.5]),
             "stimulus_viability_loss": np.zeros(3), "peak_tissue_max_ros": np.zeros(3)}
    panels = summary_panels(table, exposed=False, well_mixed=True)
    assert [p[1] for p in panels] == ["final culture viability (%)"]
    table["peak_tissue_max_ros"] = np.array([0.0, 0.5, 2.0])  # ROS the particles make
    labels = [p[1] for p in summary_panels(table, exposed=False, well_mixed=True)]
    assert labels == ["final culture viability (%)", "peak diffusible ROS in the well (µM)"]
    labels = [p[1] for p in summary_panels(table)]  # a spheroid sweep with exposures
    assert labels == ["final tissue-mean viability (%)",
                      "killed by the stimuli's own oxidative hits (%)",
                      "peak diffusible ROS in tissue (µM)"]


def test_a_signal_stops_a_sweep_between_frames_and_the_file_says_so(tmp_path, monkeypatch,
                                                                     capsys):
    """SIGTERM while a sweep writes its third frame: the frame is finished, the command
    exits 1 saying how many frames the file keeps, and the file is `interrupted` with that
    message, every series with as many frames as `time`, readable by xarray. Before, the
    file stayed `running` (as if its writer had been killed) and the command said the run
    had not started and nothing was written."""
    import signal

    out = _interrupted_sweep(tmp_path, monkeypatch, SWEEP)
    err = capsys.readouterr().err
    assert "zn-pde run: sweep interrupted by SIGTERM; 3 frames" in err
    assert "nothing was written" not in err and "run failed" not in err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "interrupted" and f.attrs["complete"] == 0
        assert "3 frames" in f.attrs["message"]
        assert f["time"].shape == (3,) and f["tissue_mean_viability"].shape == (12, 3)
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.sizes["time"] == 3 and np.isfinite(ds["tissue_mean_viability"]).all()
    assert not (tmp_path / "s_summary.csv").exists()
    assert main(["inspect", str(out)]) == 0
    assert "interrupted by SIGTERM" in capsys.readouterr().out


def _interrupted_sweep(tmp_path, monkeypatch, config=None, overwrite=False):
    """A sweep (default SMALL_SWEEP) stopped by SIGTERM while it writes its third frame
    (exit 1); its output path."""
    import os
    import signal

    from zn_pde import _sweep

    original = _sweep._append_frame
    calls = {"n": 0}

    def append(f, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # Python runs the handler right here, inside the write
            os.kill(os.getpid(), signal.SIGTERM)
        original(f, *args, **kwargs)

    monkeypatch.setattr(_sweep, "_append_frame", append)
    path = tmp_path / "s.toml"
    path.write_text(dumps(SMALL_SWEEP if config is None else config))
    out = tmp_path / "s.h5"
    assert main(["run", str(path), "-o", str(out), "--quiet"]
                + (["--overwrite"] if overwrite else [])) == 1
    monkeypatch.setattr(_sweep, "_append_frame", original)
    return out


SMALL_SWEEP = {**WELL_MIXED_CULTURE,
               "time": {"end_h": 4.0, "dt_s": 600.0, "save_every_min": 60.0},
               "sweep": {"material.dose_ug_per_ml": [5.0, 10.0]}}


def test_an_interrupted_sweep_is_not_said_to_have_a_table_or_figure(tmp_path, monkeypatch,
                                                                    capsys):
    """--resume and plot of an interrupted sweep: exit 2 saying it did not complete and has
    no table or figure, and to run it again (before: they pointed at <out>_summary.csv and
    .png 'beside it', which an interrupted sweep does not write)."""
    out = _interrupted_sweep(tmp_path, monkeypatch)
    capsys.readouterr()
    for argv in (["run", "--resume", str(out)], ["plot", str(out)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "did not complete" in err and "run it again with --overwrite" in err, argv
        assert "s_summary.csv" not in err, argv


def test_an_interrupted_overwrite_leaves_no_table_or_figure_of_the_sweep_it_replaced(
        tmp_path, monkeypatch):
    """A complete sweep replaced by an --overwrite that is interrupted: the old sweep's
    <out>_summary.csv and .png are gone with the file they described (before: they stayed
    beside the interrupted file, whose points and values they do not describe)."""
    path = tmp_path / "s.toml"
    path.write_text(dumps(SMALL_SWEEP))
    out = tmp_path / "s.h5"
    assert main(["run", str(path), "-o", str(out), "--quiet"]) == 0
    assert (tmp_path / "s_summary.csv").exists() and (tmp_path / "s_summary.png").exists()
    _interrupted_sweep(tmp_path, monkeypatch, overwrite=True)
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "interrupted"
    assert not (tmp_path / "s_summary.csv").exists()
    assert not (tmp_path / "s_summary.png").exists()


def test_a_single_run_that_replaces_a_sweep_takes_its_table_and_figure_away(tmp_path):
    """`simulate(..., out=, overwrite=True)` (or `zn-pde run --overwrite`) of one point onto
    a complete sweep's file: the sweep's <out>_summary.csv and .png go with it (before: they
    stayed beside a single run they do not describe); a single run's own files are kept."""
    import zn_pde

    path = tmp_path / "s.toml"
    path.write_text(dumps(SMALL_SWEEP))
    out = tmp_path / "s.h5"
    assert main(["run", str(path), "-o", str(out), "--quiet"]) == 0
    single = {k: v for k, v in SMALL_SWEEP.items() if k != "sweep"}
    keep = tmp_path / "s_summary.txt"  # not the sweep's: stays
    keep.write_text("notes")
    zn_pde.simulate(single, out=out, overwrite=True, progress=False).close()
    assert not (tmp_path / "s_summary.csv").exists()
    assert not (tmp_path / "s_summary.png").exists()
    assert keep.exists()


def test_a_sweep_does_not_overwrite_a_file_another_process_writes(tmp_path, capsys):
    """A file whose writer holds its lock (POSIX lockf, like a live `zn-pde run`) is not
    replaced by a sweep's --overwrite: exit 2, the file untouched (the sweep took no lock
    and replaced it under the writer)."""
    out = tmp_path / "busy.h5"
    out.write_bytes(b"a run in progress")
    path = tmp_path / "s.toml"
    path.write_text(dumps(SWEEP))
    holder = hold_lock(out)
    try:
        assert main(["run", str(path), "-o", str(out), "--overwrite", "--quiet"]) == 2
        assert "another zn-pde process is writing this file" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.communicate()
    assert out.read_bytes() == b"a run in progress"


def test_summary_figure_says_what_it_shows_and_keys_lines_below_the_panels(tmp_path):
    """The summary figure had no title (which sweep, how many points, read-outs when) and
    the key of a second swept key sat inside the viability panel, over its points (an
    outside figure review): a title, wrapped to the figure's width, and one key below."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from zn_pde._sweep import _plot_summary

    keys = ["material.dose_ug_per_ml", "material.hydrodynamic_diameter_nm"]
    points = [[5.0, 30.0], [5.0, 200.0], [60.0, 30.0], [60.0, 200.0]]
    fig = _plot_summary(tmp_path / "s.h5", keys, points,
                        [(np.array([90.0, 99.0, 5.0, 80.0]), "final viability (%)", 105.0)],
                        end_h=24.0)
    title = fig.get_suptitle()
    assert " ".join(title.split()) == (
        "sweep s.h5: 4 points against material.dose_ug_per_ml, a line per "
        "material.hydrodynamic_diameter_nm; read-outs at the end of the runs (24 h)")
    assert fig.axes[0].get_legend() is None and len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "material.hydrodynamic_diameter_nm = 30", "material.hydrodynamic_diameter_nm = 200"]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    page = fig.bbox
    for box in (fig._suptitle.get_window_extent(renderer),
                fig.legends[0].get_window_extent(renderer)):
        assert page.x0 - 0.5 <= box.x0 and box.x1 <= page.x1 + 0.5  # on the one-panel page
    key = fig.legends[0].get_window_extent(renderer)
    ax = fig.axes[0].get_window_extent(renderer)
    assert key.y1 <= ax.y0 + 0.5 or key.y0 >= ax.y1 - 0.5


def test_the_summary_figure_s_axis_labels_stay_apart_and_inside_it(tmp_path):
    """A long swept key and unit (kinetics.sono_radical_yield_uM_per_s_per_ug_per_ml, in
    µM/s per µg/mL) made x labels wider than their panels: they ran into each other and off
    the figure's right edge, and a long y label past the panel's top (an outside audit).
    Every label is wrapped to its panel: no two overlap and each lies inside the figure."""
    from zn_pde._sweep import _plot_summary

    key = "kinetics.sono_radical_yield_uM_per_s_per_ug_per_ml"
    v = np.array([0.9, 0.6])
    fig = _plot_summary(tmp_path / "s.h5", [key], [[60.0], [118.0]],
                        [(100 * v, "final tissue-mean viability (%)", 105.0),
                         (100 * (1 - v), "killed by the stimuli's own oxidative hits (%)",
                          None),
                         (40 * v, "peak diffusible ROS in tissue (µM)", None)])
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    page = fig.bbox
    labels = [ax.xaxis.label for ax in fig.axes] + [ax.yaxis.label for ax in fig.axes]
    boxes = [label.get_window_extent(renderer) for label in labels]
    assert "µM/s per µg/mL" in labels[0].get_text()
    for box in boxes:
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1
        assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1
    for ax, box in zip(fig.axes, boxes[3:], strict=True):  # y labels within their panel
        assert box.height <= ax.get_window_extent(renderer).height + 1
    for a, b in itertools.combinations(boxes[:3], 2):
        assert not a.overlaps(b)


def test_the_summary_figure_of_a_long_or_many_lined_sweep_stays_readable(tmp_path):
    """A sweep of 120 doses on a log axis labelled every swept value: the tick labels ran
    into one black band. 24 lines (and a key with one value, repeated in every line's
    label) made a key taller than the panels and wider than the figure: it was cut off at
    both edges, squeezed the panels and ran the title into a y label, and the colours
    repeated after 10 lines. Now: labelled ticks keep apart, a key with one value is named
    once in the title, the key's columns fit the figure, which grows by its rows, and lines
    past the 10th change style."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from zn_pde._sweep import _plot_summary

    def draw(keys, points, values):
        panels = [(values, "final tissue-mean viability (%)", 105.0),
                  (values / 2, "peak diffusible ROS in tissue (µM)", None)]
        fig = _plot_summary(tmp_path / "s.h5", keys, points, panels, end_h=6.0)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return fig, canvas.get_renderer()

    doses = [0.5 * i for i in range(1, 121)]
    fig, renderer = draw(["material.dose_ug_per_ml"], [[d] for d in doses],
                         np.linspace(100.0, 80.0, 120))
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels()
                 if t.get_visible() and t.get_text()]
        assert len(boxes) >= 3
        for a, b in itertools.combinations(boxes, 2):
            assert not a.overlaps(b)

    keys = ["material.dose_ug_per_ml", "light[0].irradiance_mW_per_cm2",
            "species[0].decay_per_s.tissue", "ph.medium"]
    points = [[d, i, k, 7.4] for i in range(0, 60, 5) for k in (0.0, 0.001)
              for d in (1.0, 10.0, 100.0)]
    few, few_renderer = draw(keys[:2], [p[:2] for p in points[:6]], np.arange(6.0))
    fig, renderer = draw(keys, points, np.linspace(100.0, 5.0, len(points)))
    title = " ".join(fig.get_suptitle().split())
    assert "a line per light[0].irradiance_mW_per_cm2, species[0].decay_per_s.tissue " in title
    assert "(ph.medium = 7.4 at every point)" in title
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(texts) == 24 and not any("ph.medium" in t for t in texts)
    styles = {(line.get_color(), line.get_linestyle()) for line in fig.axes[0].get_lines()}
    assert len(styles) == 24
    page, key = fig.bbox, fig.legends[0].get_window_extent(renderer)
    assert page.x0 - 0.5 <= key.x0 and key.x1 <= page.x1 + 0.5 and key.y0 >= page.y0 - 0.5
    top = fig._suptitle.get_window_extent(renderer)
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        assert key.y1 <= box.y0 + 0.5  # below every panel
        assert not top.overlaps(ax.yaxis.label.get_window_extent(renderer))
        # the panels keep the height they have with a two-line key
        assert box.height >= 0.95 * few.axes[0].get_window_extent(few_renderer).height


@pytest.mark.parametrize("key, unit", [
    ("oxygen.consumption_max_uM_per_s", "(µM/s)"),
    ("kinetics.light_absorption_cm2_per_ug", "(cm²/µg)"),
    ("photosensitiser.loading_ug_per_ug", "(µg/µg)"),
    ("kinetics.shg_efficiency_per_W_per_cm2", "(1/(W/cm²))"),
    ("kinetics.fenton_rate_per_uM_per_s", "(1/(µM s))"),
    # a number without unit (the file's "1") is named alone, as the other figures do
    ("ph.medium", "ph.medium"),
])
def test_the_summary_figure_writes_a_swept_key_s_unit_as_the_other_figures_do(
        tmp_path, key, unit):
    """A sweep of oxygen.consumption_max_uM_per_s labelled its axis '(uM/s)' (and the other
    units a key can carry as plain ASCII: cm^2/ug, ug/ug, ...), where every figure writes µ
    and superscripts."""
    from zn_pde._sweep import _plot_summary

    fig = _plot_summary(tmp_path / "s.h5", [key], [[1.0], [2.0]],
                        [(np.array([90.0, 80.0]), "final tissue-mean viability (%)", 105.0)])
    label = " ".join(fig.axes[0].get_xlabel().split())
    assert label.endswith(unit), label


def test_a_sweep_that_fails_before_its_file_is_written_leaves_the_old_sweep_whole(
        tmp_path, monkeypatch):
    """A sweep that fails while it creates its file (here: its first frame) leaves the old
    sweep's file, table and figure as they were, and no new file: the new one is written
    under a hidden name and replaces the old only once its first frame is on disk, and the
    old table and figure go only then (they went first, so a failure left the old file
    without them)."""
    c = config({**SWEEP, "time": {**SWEEP["time"], "end_h": 3.0},
                "sweep": {"material.dose_ug_per_ml": [3.0, 10.0]}})
    out = tmp_path / "s.h5"
    run_sweep(c, out, progress=False)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert {"s.h5", "s_summary.csv", "s_summary.png"} <= set(before)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("zn_pde._sweep._append_frame", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        run_sweep(c, out, overwrite=True, progress=False)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_sweep_s_final_viability_is_nan_in_the_medium_as_a_run_s(tmp_path):
    """`final_viability` held 1 (the state's untouched value) in every medium voxel, where a
    single run's `viability` is NaN (no cells: docs/outputs.md), so a sweep's mean over the
    voxels or its figure of a point counted the medium as living tissue, and a sweep file,
    which has no `tissue_mask`, did not say where each point's spheroid was (found by
    comparing every sweep point of a fuzzed radial sweep with its own run, 2026-12-06). Each
    point's final viability now equals its own run's last frame, NaN where that is."""
    raw = {"grid": {"kind": "radial", "shape": [8], "spacing_um": 10.0},
           "time": {"end_h": 0.5, "dt_s": 60.0, "save_every_min": 30.0},
           "geometry": {"kind": "spheroid", "radius_um": 30.0},
           "material": {"kind": "ZnO", "dose_ug_per_ml": 50.0},
           "sweep": {"geometry.radius_um": [30.0, 50.0]}}
    swept = config(raw)
    keys, points = sweep_points(swept)
    run_sweep(swept, tmp_path / "s.h5", progress=False)
    with h5py.File(tmp_path / "s.h5", "r") as f:
        final = f["final_viability"][...]
    for i, point in enumerate(points):
        own = simulate({k: v for k, v in point_config(swept, keys, point).items()
                        if not k.startswith("_")}, progress=False)["viability"].values[-1]
        assert np.isnan(own).sum() == 8 - int(point[0]) // 10  # the medium shells
        np.testing.assert_allclose(final[i], own, rtol=1e-5, err_msg=f"{point}")


def test_a_series_at_zero_shows_its_markers_above_the_axis(tmp_path):
    """A swept value that does nothing (0.5 W/cm², below the cavitation threshold: 0 % killed
    at every dose) drew its markers on the x axis, half hidden by it: the panels start a
    little below 0."""
    from zn_pde._sweep import _plot_summary

    fig = _plot_summary(tmp_path / "s.h5", ["material.dose_ug_per_ml"], [[5.0], [20.0]],
                        [(np.array([0.0, 0.0]), "killed by the stimuli (%)", 105.0)])
    bottom, top = fig.axes[0].get_ylim()
    assert -0.05 * top < bottom < 0.0 and top == 105.0
