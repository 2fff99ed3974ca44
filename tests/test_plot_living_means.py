"""The time-series figure averages the living cells' pools (glutathione, internalised
particles, labile zinc) over the living cells, as the run's series and printed summary do
(an outside user audit, 2026-12-08: after an exposure killed the rim, the figure's
glutathione panel read a plain voxel mean, 4777 µM, where `tissue_mean_gsh`, `zn-pde run`
and `zn-pde inspect` read 4917 µM)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from zn_pde._run import simulate_to_file
from zn_pde.config import load_config
from zn_pde.io import read_run
from zn_pde.plot import _choose_fields, _timeseries

# a radial spheroid whose rim an ultrasound exposure kills (~60 % of the outer shells)
OVERRIDES = ["grid.kind=\"radial\"", "grid.shape=[12]", "grid.spacing_um=15.0",
             "geometry.radius_um=150.0", "time.end_h=1.5", "time.dt_s=120.0",
             "time.save_every_min=30.0",
             "ultrasound=[{start_h=0.5, duration_min=1.0, intensity_W_per_cm2=2.0}]"]


def _panel(fig, title_start: str):
    found = [ax for ax in fig.axes if ax.get_title().startswith(title_start)]
    assert len(found) == 1, [ax.get_title() for ax in fig.axes]
    return np.asarray(found[0].lines[0].get_ydata(), float)


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("living") / "rim_killed.h5"
    simulate_to_file(load_config(None, OVERRIDES), out, progress=False)
    return out


def test_glutathione_panel_is_the_living_cells_mean_the_summary_reports(run_file):
    run = read_run(run_file)
    with h5py.File(run_file) as f:
        series = np.asarray(f["tissue_mean_gsh"][...], float)
        v = np.asarray(f["viability"][-1], float)
    tissue = run.tissue.astype(bool)
    assert np.nanmin(v[tissue]) < 0.6  # the case is what it claims: rim cells died
    y = _panel(_timeseries(run, _choose_fields(run, None), log=False), "glutathione")
    np.testing.assert_allclose(y, series, rtol=1e-5)


def test_internalised_particles_panel_weights_voxels_by_their_living_cells(run_file):
    run = read_run(run_file)
    shells = 4 / 3 * np.pi * ((run.r_um + 7.5) ** 3 - (run.r_um - 7.5) ** 3)
    tissue = run.tissue.astype(bool)
    with h5py.File(run_file) as f:
        ni, v = np.asarray(f["np_int"][-1], float), np.asarray(f["viability"][-1], float)
    w = shells * v
    expected = np.sum((ni * w)[tissue]) / np.sum(w[tissue])
    y = _panel(_timeseries(run, _choose_fields(run, None), log=False), "internalised")
    assert y[-1] == pytest.approx(expected, rel=1e-5)


def test_a_well_mixed_comparison_keys_its_exposure(tmp_path):
    """A well-mixed treated-minus-control figure has no subtitle naming the shading: the
    exposure's shading stood unexplained beside the keyed dose and exchange lines (an
    outside user audit, 2026-12-08); it is keyed below the panels as the time series key it."""
    from zn_pde.plot import _compare

    base = ["grid.kind=\"well_mixed\"", "geometry.kind=\"uniform\"",
            "geometry.cell_volume_fraction=0.01", "time.end_h=2.0", "time.dt_s=120.0",
            "time.save_every_min=30.0", "dose=[{time_h=0.5, dose_ug_per_ml=5.0}]"]
    exposure = "ultrasound=[{start_h=1.0, duration_min=0.5, intensity_W_per_cm2=2.0}]"
    treated, control = tmp_path / "t.h5", tmp_path / "c.h5"
    simulate_to_file(load_config(None, [*base, exposure]), treated, progress=False)
    simulate_to_file(load_config(None, base), control, progress=False)
    fig = _compare(read_run(treated), read_run(control))
    keys = [leg for leg in fig.legends] + [leg for sub in fig.subfigs for leg in sub.legends]
    texts = [t.get_text() for leg in keys for t in leg.get_texts()]
    assert any(t.startswith("ultrasound 2 W/cm²") for t in texts), texts
    assert "dose 5 µg/mL" in texts


def test_shell_profiles_of_a_3d_run_average_the_living_cells_pools_over_living_cells(
        tmp_path):
    """The 3D run's shell-averaged profile of glutathione, as its time series, weights each
    voxel of a shell by its living cells: a plain mean let the rim's dead voxels pull it."""
    from zn_pde.plot import _radial

    out = tmp_path / "cube.h5"
    simulate_to_file(load_config(None, [
        "grid.shape=[12,12,12]", "grid.spacing_um=15.0", "geometry.radius_um=75.0",
        "time.end_h=1.5", "time.dt_s=180.0", "time.save_every_min=30.0",
        "ultrasound=[{start_h=0.5, duration_min=1.0, intensity_W_per_cm2=2.5}]"]), out,
        progress=False)
    run = read_run(out)
    last = run.n_frames - 1
    fig = _radial(run, ["gsh"], log=False, chosen=[last])
    line = fig.axes[0].lines[0]
    centres, shown = np.asarray(line.get_xdata()), np.asarray(line.get_ydata(), float)
    with h5py.File(out) as f:
        g, v = np.asarray(f["gsh"][last], float), np.asarray(f["viability"][last], float)
    zz, yy, xx = np.meshgrid(run.z_um, run.y_um, run.x_um, indexing="ij")
    r = np.sqrt((xx - 90.0) ** 2 + (yy - 90.0) ** 2 + (zz - 90.0) ** 2)
    tissue = run.tissue.astype(bool)
    assert np.nanmin(v[tissue]) < 0.5  # the rim's cells died
    for c, y in zip(centres, shown, strict=True):
        shell = tissue & (np.abs(r - c) <= 7.5) & (v > 0)
        if shell.any() and np.isfinite(y):
            assert y == pytest.approx(np.average(g[shell], weights=v[shell]), rel=1e-5)
