"""Figures that answer questions (issue 15 item 3): treated-vs-control view, colour scales
fitted to the tissue, intracellular fields blank in the medium, exposures (repeats included)
shaded and sliced around, release vials showing % dissolved, layout without overlaps.

Tests check what the figures hold (data, limits, titles), not pixels."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from zn_pde._errors import InputError
from zn_pde._run import simulate_to_file
from zn_pde.cli import main
from zn_pde.config import load_config
from zn_pde.io import read_run
from zn_pde.plot import (
    INTRACELLULAR,
    LOG_DECADES,
    TISSUE_PERCENTILES,
    _choose_fields,
    _choose_frames,
    _compare,
    _slices,
    _stimuli,
    _timeseries,
    plot_run,
)

H = 50.0  # um
N = 12
RADIUS = 200.0
BASE = [f"grid.shape=[{N},{N},{N}]", f"grid.spacing_um={H}", f"geometry.radius_um={RADIUS}",
        "time.end_h=1.0", "time.dt_s=60.0", "time.save_every_min=10.0"]
EXPOSURE = ("ultrasound=[{start_h=0.25, duration_min=5.0, intensity_W_per_cm2=3.0, "
            "frequency_MHz=1.0, repeats=2, repeat_every_h=0.5}]")
VIAL = """
[grid]
kind = "well_mixed"

[time]
end_h = 2.0
dt_s = 60.0
save_every_min = 10.0

[geometry]
kind = "medium"

[material]
kind = "ZnO"
dose_ug_per_ml = 20.0

[ph]
medium = 5.5
"""


def _run(path: Path, overrides: list[str]) -> Path:
    simulate_to_file(load_config(None, overrides), path, progress=False)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("figs")
    return {"treated": _run(d / "treated.h5", [*BASE, EXPOSURE]),
            "control": _run(d / "control.h5", [*BASE, "ultrasound=[]"])}


@pytest.fixture(scope="module")
def vial(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("vial")
    (d / "vial.toml").write_text(VIAL)
    out = d / "vial.h5"
    simulate_to_file(load_config(d / "vial.toml"), out, progress=False)
    return out


def _centre_plane_index(run) -> int:
    return int(np.argmin(np.abs(run.y_um - N * H / 2)))


def _axes(fig, gid: str):
    found = [ax for ax in fig.get_axes() if ax.get_gid() == gid]
    assert len(found) == 1, f"no axes {gid!r}: {[ax.get_gid() for ax in fig.get_axes()]}"
    return found[0]


# --- treated vs control ---------------------------------------------------------------------


def test_compare_writes_the_figure_beside_the_others(runs, tmp_path):
    paths = plot_run(runs["treated"], outdir=tmp_path, fields=["viability"],
                     compare=runs["control"])
    names = [p.name for p in paths]
    assert names[-1] == "treated_vs_control.png"
    assert "treated_slice_viability.png" in names
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)


def test_compare_difference_maps_depth_profile_and_series_hold_the_right_data(runs):
    run, control = read_run(runs["treated"]), read_run(runs["control"])
    fig = _compare(run, control)
    j = _centre_plane_index(run)
    tissue = run.tissue
    with (h5py.File(runs["treated"], "r", locking=False) as f,
          h5py.File(runs["control"], "r", locking=False) as g):
        vt, vc = f["viability"][-1].astype(float), g["viability"][-1].astype(float)
        zt, zc = f["radical_dose"][-1].astype(float), g["radical_dose"][-1].astype(float)
        mt, mc = f["tissue_mean_viability"][:], g["tissue_mean_viability"][:]
        zmt, zmc = f["tissue_mean_zn"][:], g["tissue_mean_zn"][:]
    # maps: treated - control at the final frame, plane through the centre; viability in %
    dv = _axes(fig, "diff_viability").images[0]
    expected = 100.0 * (vt - vc)[:, j, :]
    np.testing.assert_array_equal(np.ma.getmaskarray(dv.get_array()), ~tissue[:, j, :])
    np.testing.assert_allclose(dv.get_array().compressed(), expected[tissue[:, j, :]],
                               rtol=1e-6, atol=1e-12)
    vmin, vmax = dv.get_clim()
    assert vmin == pytest.approx(-vmax) and vmax > 0  # symmetric about no difference
    # the stimuli's oxidative dose (the control has none), in the tissue's cells only
    dz = _axes(fig, "diff_radical_dose").images[0]
    np.testing.assert_allclose(dz.get_array().compressed(), (zt - zc)[:, j, :][tissue[:, j, :]],
                               rtol=1e-6, atol=1e-12)
    assert np.all(zc == 0) and dz.get_array().max() > 0
    assert np.any(np.abs(expected[tissue[:, j, :]]) > 0)  # the exposure did something
    # Δviability against depth below the surface: shell means over tissue, final frame
    zz, yy, xx = np.meshgrid(run.z_um, run.y_um, run.x_um, indexing="ij")
    centre = N * H / 2
    depth = RADIUS - np.sqrt((xx - centre) ** 2 + (yy - centre) ** 2 + (zz - centre) ** 2)
    shell = np.floor(depth[tissue] / H).astype(int)
    diff = 100.0 * (vt - vc)[tissue]
    means = [diff[shell == k].mean() for k in np.unique(shell)]
    centres = [depth[tissue][shell == k].mean() for k in np.unique(shell)]
    final = [ln for ln in _axes(fig, "depth").lines if ln.get_label() == "t = 1 h"]
    assert len(final) == 1
    np.testing.assert_allclose(final[0].get_xdata(), centres, rtol=1e-9)
    np.testing.assert_allclose(final[0].get_ydata(), means, rtol=1e-6, atol=1e-12)
    assert _axes(fig, "depth").get_xlabel() == "depth below the spheroid surface (µm)"
    # tissue-mean series side by side, and their difference
    ax = _axes(fig, "series_tissue_mean_viability")
    treated, ctrl = ax.lines[:2]
    np.testing.assert_allclose(treated.get_ydata(), 100 * mt, rtol=1e-6)
    np.testing.assert_allclose(ctrl.get_ydata(), 100 * mc, rtol=1e-6)
    # each run on its own saved times: the treated run's also at the start of each exposure
    # (0.25 and 0.75 h; their ends, 20 and 50 min, are on the 10 min grid)
    regular = np.arange(7) / 6
    np.testing.assert_allclose(treated.get_xdata(), sorted([*regular, 0.25, 0.75]), rtol=1e-9)
    np.testing.assert_allclose(ctrl.get_xdata(), regular, rtol=1e-9)
    ax = _axes(fig, "series_tissue_mean_zn")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), zmt, rtol=1e-6)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), zmc, rtol=1e-6)
    # the difference at the times both saved
    line = _axes(fig, "series_delta_viability").lines[0]
    shared = np.isin(np.round(treated.get_xdata(), 9), np.round(regular, 9))
    np.testing.assert_allclose(line.get_xdata(), regular, rtol=1e-9)
    np.testing.assert_allclose(line.get_ydata(), 100 * (mt[shared] - mc), rtol=1e-5,
                               atol=1e-12)
    assert sorted(p.get_x() for p in ax.patches) == pytest.approx([0.25, 0.75])


def test_compare_refuses_different_grids_and_times(runs, tmp_path):
    other_grid = _run(tmp_path / "grid.h5", [*BASE, "grid.shape=[10,10,10]", "ultrasound=[]"])
    other_times = _run(tmp_path / "times.h5", [*BASE, "time.save_every_min=20.0",
                                               "ultrasound=[]"])
    out = tmp_path / "figs"
    with pytest.raises(InputError, match="different grids") as e:
        plot_run(runs["treated"], outdir=out, compare=other_grid)
    assert "--compare" in str(e.value) and "grid.h5" in str(e.value)
    with pytest.raises(InputError, match="different saved times"):
        plot_run(runs["treated"], outdir=out, compare=other_times)
    assert not out.exists()  # refused before anything was written
    assert main(["plot", str(runs["treated"]), "-o", str(out), "--compare",
                 str(other_times)]) == 2
    assert main(["plot", str(runs["treated"]), "-o", str(out), "--fields", "viability",
                 "--compare", str(runs["control"])]) == 0
    assert (out / "treated_vs_control.png").is_file()


# --- colour scales, medium voxels, exposures ------------------------------------------------


def test_slice_colour_scales_come_from_tissue_values(runs):
    run = read_run(runs["treated"])
    frames = [0, 3, 6]
    j = _centre_plane_index(run)
    mask = run.tissue[:, j, :]
    with h5py.File(runs["treated"], "r", locking=False) as f:
        for name in ("zn_cell", "zn", "viability", "gsh"):
            planes = [f[name][i, :, j, :].astype(float) for i in frames]
            tissue_values = np.concatenate([p[mask] for p in planes])
            lo, hi = np.percentile(tissue_values, TISSUE_PERCENTILES)
            if name == "viability":  # a fraction alive keeps its whole scale, in %
                lo, hi = 0.0, 100.0
            if name == "gsh":  # its fall, in few voxels, is the signal: the whole range
                lo, hi = tissue_values.min(), tissue_values.max()
            fig = _slices(run, name, frames, log=False)
            image = next(ax for ax in fig.axes if ax.images).images[0]
            if hi - lo > 1e-6:
                assert image.get_clim() == pytest.approx((lo, hi), rel=1e-6, abs=1e-12)
            else:  # uniform: a narrow band at the value
                assert image.get_clim()[0] <= lo and image.get_clim()[1] >= hi
    fig = _slices(run, "zn_cell", frames, log=False)
    assert "percentile of the tissue" in fig._suptitle.get_text()


@pytest.mark.parametrize("name", INTRACELLULAR)
def test_intracellular_fields_are_blank_in_the_medium(runs, name):
    run = read_run(runs["treated"])
    j = _centre_plane_index(run)
    fig = _slices(run, name, [0, 6], log=False)
    for ax in (a for a in fig.axes if a.images):
        mask = np.ma.getmaskarray(ax.images[0].get_array())
        np.testing.assert_array_equal(mask, ~run.tissue[:, j, :])
    zn = _slices(run, "zn", [6], log=False)
    assert not np.ma.getmaskarray(next(a for a in zn.axes if a.images).images[0]
                                  .get_array()).any()  # extracellular: drawn everywhere


def test_repeated_exposures_are_shaded_and_sliced_around(runs):
    run = read_run(runs["treated"])
    windows = [(s, e) for _, s, e, _ in _stimuli(run)]
    np.testing.assert_allclose(windows, [(0.25, 0.25 + 5 / 60), (0.75, 0.75 + 5 / 60)])
    fig = _timeseries(run, list(run.fields), log=False)
    first = fig.axes[0]
    labels = first.get_legend_handles_labels()[1]
    assert "ultrasound 3 W/cm², 5 min, 2× every 0.5 h" in labels
    for ax in fig.axes:
        if ax.get_visible():
            assert sorted(p.get_x() for p in ax.patches) == pytest.approx([0.25, 0.75])
    t_h = run.times_s / 3600
    frames = _choose_frames(run, None)
    shown = t_h[frames]
    assert shown[0] == 0 and shown[-1] == pytest.approx(1.0)
    for _, end in windows:  # the first saved frame at or after each exposure's end
        after = t_h[t_h >= end - 1e-6][0]
        assert after in shown
    assert t_h[t_h <= 0.25 + 1e-6][-1] in shown  # and the last one before the first
    # a run without exposures keeps start, middle, end
    control = read_run(runs["control"])
    assert _choose_frames(control, None) == [0, 3, 6]


# --- release vial ------------------------------------------------------------------------------


def test_release_vial_shows_percent_dissolved_and_no_cell_panels(vial, tmp_path):
    run = read_run(vial)
    names = _choose_fields(run, None)
    assert not set(names) & set(INTRACELLULAR)
    paths = plot_run(vial, outdir=tmp_path)
    assert [p.name for p in paths] == ["vial_timeseries.png"]
    fig = _timeseries(run, names, log=False)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles[0] == "particle mass dissolved (% of the dose)"
    assert not any(w in t for t in titles for w in ("viability", "glutathione",
                                                     "intracellular", "internalised"))
    with h5py.File(vial, "r", locking=False) as f:
        dissolved = f["dissolved_percent"][:]
    y = fig.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(y, dissolved, rtol=1e-6)
    assert 0 < y[-1] <= 100.0 + 1e-3 and fig.axes[0].get_ylabel() == "%"
    assert "release vial" in fig._suptitle.get_text()



def test_a_cell_free_grid_plots_its_dissolved_zinc_averaged_over_the_domain(tmp_path):
    """geometry.kind = "medium" on a grid: no tissue, so every tissue-mean series is NaN. The
    time-series figure left out the dissolved Zn2+ panel ("tissue mean: no value") though the
    field holds the run's main result; it now draws the domain means of the fields."""
    out = _run(tmp_path / "cellfree.h5", [*BASE, "geometry.kind='medium'", "ultrasound=[]"])
    run = read_run(out)
    fig = _timeseries(run, _choose_fields(run, None), log=False)
    assert "no value" not in fig._suptitle.get_text()
    assert "no tissue" in fig._suptitle.get_text()
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    zn = panels["dissolved Zn²⁺ (extracellular fluid), mean"]
    with h5py.File(out, "r", locking=False) as f:
        expected = f["zn"][:].astype(float).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(zn.lines[0].get_ydata(), expected, rtol=1e-6)
    assert expected[-1] > 0 and zn.get_ylabel() == "µM"



def test_log_slices_draw_zero_concentrations_in_the_lowest_colour_not_blank(runs):
    """`--log`: at t = 0 the particles are all in the medium, np = 0 in the tissue. A log
    colour scale masks values <= 0, and those voxels were drawn blank, as NaN (no cells) is;
    they now take the colour bar's lowest colour (below its lower end, extend "min")."""
    run = read_run(runs["treated"])
    j = _centre_plane_index(run)
    fig = _slices(run, "np", [0, 3], log=True)
    first = fig.axes[0].images[0]
    with h5py.File(runs["treated"], "r", locking=False) as f:
        plane = f["np"][0, :, j, :].astype(float)
    zero = plane <= 0
    assert zero.any()
    data = first.get_array()
    assert not np.ma.getmaskarray(data).any()
    assert np.all(data[zero] < first.norm.vmin)
    np.testing.assert_array_equal(data[~zero], plane[~zero])
    assert first.cmap(first.norm(data[zero]))[..., 3].min() == 1.0  # opaque, not "bad"


# --- layout ------------------------------------------------------------------------------------


def _no_overlap_and_inside(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    sup = fig._suptitle.get_window_extent(renderer)
    page = fig.bbox
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        title = ax.title.get_window_extent(renderer)
        if ax.get_title():
            assert title.y1 <= sup.y0 + 0.5, f"suptitle over the title {ax.get_title()!r}"
        for label in (ax.xaxis.label, ax.yaxis.label):
            if label.get_text():
                box = label.get_window_extent(renderer)
                assert box.x0 >= page.x0 - 0.5 and box.y0 >= page.y0 - 0.5, \
                    f"label {label.get_text()!r} clipped"
                assert box.x1 <= page.x1 + 0.5 and box.y1 <= page.y1 + 0.5


def test_layout_keeps_titles_apart_and_labels_on_the_page(runs, vial):
    run, control = read_run(runs["treated"]), read_run(runs["control"])
    _no_overlap_and_inside(_slices(run, "viability", [0, 3, 6], log=False))
    _no_overlap_and_inside(_timeseries(run, list(run.fields), log=False))
    _no_overlap_and_inside(_compare(run, control))
    wm = read_run(vial)
    _no_overlap_and_inside(_timeseries(wm, _choose_fields(wm, None), log=False))


# --- an outside figure audit: titles, legends, undefined series, glutathione, hazard --------


def _boxes_apart(a, b) -> bool:
    return a.x1 <= b.x0 + 0.5 or b.x1 <= a.x0 + 0.5 or a.y1 <= b.y0 + 0.5 or b.y1 <= a.y0 + 0.5


def test_timeseries_figure_titles_never_collide_and_stay_on_the_page(runs):
    """A control's "(0 throughout)" made a title run into its neighbour and off the page."""
    from zn_pde.plot import TITLE_CHARACTERS

    for key in ("control", "treated"):
        run = read_run(runs[key])
        fig = _timeseries(run, list(run.fields), log=False)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        shown = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
        boxes = [ax.title.get_window_extent(renderer) for ax in shown]
        for i, a in enumerate(boxes):
            assert a.x0 >= fig.bbox.x0 - 0.5 and a.x1 <= fig.bbox.x1 + 0.5, \
                shown[i].get_title()
            for j in range(i + 1, len(boxes)):
                assert _boxes_apart(a, boxes[j]), (shown[i].get_title(), shown[j].get_title())
        assert all(len(line) <= TITLE_CHARACTERS for ax in shown
                   for line in ax.get_title().splitlines())
        if key == "control":  # the case that collided: a long title with its note
            assert any("(0 throughout)" in ax.get_title() for ax in shown)


def test_timeseries_figure_keys_the_exposures_below_the_panels_in_one_legend(runs):
    """The exposure's legend entry spanned a panel without a frame and curves ran through
    it: it is a figure legend outside every axes; a panel's own legend is framed."""
    run = read_run(runs["treated"])
    fig = _timeseries(run, list(run.fields), log=False)
    label = "ultrasound 3 W/cm², 5 min, 2× every 0.5 h"
    assert len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [label]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    key = fig.legends[0].get_window_extent(renderer)
    for ax in (a for a in fig.axes if a.get_visible()):
        assert _boxes_apart(key, ax.get_window_extent(renderer))
        legend = ax.get_legend()
        if legend is not None:
            assert label not in [t.get_text() for t in legend.get_texts()]
            assert legend.get_frame_on()


def test_timeseries_glutathione_axis_fits_its_values_and_resting_level(runs):
    run = read_run(runs["treated"])
    fig = _timeseries(run, list(run.fields), log=False)
    ax = next(a for a in fig.axes if a.get_title().startswith("glutathione"))
    y = ax.lines[0].get_ydata()
    rest = [ln for ln in ax.lines if ln.get_label() == "resting level (t = 0)"]
    assert len(rest) == 1 and rest[0].get_ydata()[0] == pytest.approx(y[0])
    lo, hi = ax.get_ylim()
    assert 0 < lo <= np.nanmin(y) and np.nanmax(y) <= hi
    # the dip fills a visible part of the axis, not 1 % of a 0 to 5000 µM one
    assert (np.nanmax(y) - np.nanmin(y)) / (hi - lo) > 0.5
    _no_overlap_and_inside(fig)


def test_timeseries_draws_the_atp_supply_in_percent_with_its_half_death_rate_level(runs, vial):
    """The living cells' ATP supply (`tissue_mean_atp_supply`, a fraction in the file) is
    drawn in % of an untreated cell's, its curve the stored series x 100, with the level at
    which the energy failure's death rate is half its most (kinetics.energy_kill_half_atp)
    keyed in the panel; a cell-free vial has no such panel (no cells, no value)."""
    run = read_run(runs["treated"])
    fig = _timeseries(run, list(run.fields), log=False)
    ax = next(a for a in fig.axes if a.get_title().startswith("ATP supply"))
    assert ax.get_ylabel() == "%"
    with h5py.File(runs["treated"], "r") as f:
        stored = np.asarray(f["tissue_mean_atp_supply"][:run.n_frames], float)
    curve = next(ln for ln in ax.lines if len(ln.get_ydata()) == run.n_frames)
    np.testing.assert_allclose(curve.get_ydata(), 100 * stored, rtol=1e-12)
    half = 100 * load_config(None)["kinetics"]["energy_kill_half_atp"]
    level = [ln for ln in ax.lines if ln.get_label().startswith("death rate half its most")]
    assert len(level) == 1 and level[0].get_ydata()[0] == pytest.approx(half)
    assert stored[0] == pytest.approx(1.0) and np.nanmin(stored) < 1.0  # the zinc lowers it
    _no_overlap_and_inside(fig)
    cell_free = read_run(vial)
    assert not [a for a in _timeseries(cell_free, list(cell_free.fields), log=False).axes
                if a.get_title().startswith("ATP")]
    # shown beside the cells' zinc or viability: not for `--fields np`
    assert not [a for a in _timeseries(run, ["np"], log=False).axes
                if a.get_title().startswith("ATP")]


def test_hazard_panels_have_a_label_and_mathtext_not_a_bare_unit(runs):
    run = read_run(runs["treated"])
    fig = _timeseries(run, list(run.fields), log=False)
    ax = next(a for a in fig.axes if a.get_title().startswith("cumulative death hazard"))
    assert ax.get_ylabel() == "cumulative hazard H (1)"
    energy = next(a for a in fig.axes if a.get_title().startswith("energy-failure hazard"))
    assert energy.get_ylabel() == "cumulative hazard H_E (1)"
    assert "$e^{-H}$" in ax.get_title() and "e^-hazard" not in ax.get_title()
    assert all(a.get_ylabel() != "1" for a in fig.axes if a.get_visible())
    slices = _slices(run, "hazard", [0, 6], log=False)
    _no_overlap_and_inside(slices)
    bar = next(a for a in slices.axes if not a.images and a.get_ylabel())
    canvas = FigureCanvasAgg(slices)
    canvas.draw()
    box = bar.yaxis.label.get_window_extent(canvas.get_renderer())
    assert box.x1 <= slices.bbox.x1 and box.y0 >= slices.bbox.y0 and box.y1 <= slices.bbox.y1


def test_viability_slice_subtitle_names_its_fixed_scale(runs):
    run = read_run(runs["treated"])
    title = _slices(run, "viability", [0, 6], log=False)._suptitle.get_text()
    assert "colour scale: fixed, 0–100 %" in title and "percentile" not in title


def test_undefined_percent_dissolved_is_not_drawn_and_the_title_says_why(tmp_path):
    """With a [[medium_exchange]], % dissolved is NaN (not counted): no panel titled "(0
    throughout)"."""
    (tmp_path / "v.toml").write_text(VIAL + "\n[[medium_exchange]]\ntime_h = 1.0\n")
    out = tmp_path / "v.h5"
    simulate_to_file(load_config(tmp_path / "v.toml"), out, progress=False)
    run = read_run(out)
    fig = _timeseries(run, _choose_fields(run, None), log=False)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles and not any("dissolved" in t and "%" in t for t in titles)
    assert "not counted across medium exchanges" in fig._suptitle.get_text()
    assert len(fig.legends) == 1  # the exchange line, keyed below the panels
    _no_overlap_and_inside(fig)


def test_plan_figure_writes_units_as_the_other_figures_do():
    """The plan's protocol panel wrote "ug/mL" and "W/cm^2"."""
    from matplotlib.figure import Figure

    from zn_pde.plan._report import _timeline

    config = load_config(None, [*BASE, "ultrasound=[{start_h=0.25, duration_min=5.0, "
                                "intensity_W_per_cm2=1.5, frequency_MHz=1.0}]"])
    ax = Figure().subplots()
    _timeline(ax, [("start", config)])
    texts = [t.get_text() for t in ax.texts] + [ax.get_title()]
    assert any("µg/mL" in t for t in texts) and any("W/cm²" in t for t in texts)
    assert not any(u in t for t in texts for u in ("ug/mL", "W/cm^2", "um"))


def test_paraview_screenshot_refuses_runs_without_a_3d_grid(vial, tmp_path, capsys):
    """A radial or well-mixed sidecar: exit 2 naming `zn-pde plot`, before ParaView loads
    (it died with a traceback or wrote an empty frame)."""
    import importlib.util

    path = Path(__file__).parents[1] / "scripts" / "paraview_screenshot.py"
    spec = importlib.util.spec_from_file_location("paraview_screenshot", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)  # no ParaView needed to load it
    radial = tmp_path / "r.xmf"
    text = vial.with_suffix(".xmf").read_text()
    assert 'Dimensions="1 1 1"' in text
    radial.write_text(text.replace('TopologyType="3DCoRectMesh" Dimensions="1 1 1"',
                                   'TopologyType="3DCoRectMesh" Dimensions="1 1 32"'))
    for xmf, what in ((vial.with_suffix(".xmf"), "well-mixed"), (radial, "radial")):
        assert script.main([str(xmf), "-o", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and what in err and "zn-pde plot" in err
    assert not (tmp_path / "x.png").exists()


def test_log_time_series_span_at_most_the_colour_scales_decades(tmp_path):
    """`--log` time series: a wash-out half an hour after the shipped radial exposure takes
    its ROS from ~10 µM to ~1e-29 µM (float32) within the next frames; the log axes span at
    most `LOG_DECADES` below the largest value drawn, as the colour scales do, so the
    exposure's µM signal is not squashed into the top of a 30-decade axis."""
    out = tmp_path / "washed.h5"
    simulate_to_file(load_config("configs/zno_spheroid_radial.toml", [
        "time.end_h=6", "time.save_every_min=15", "medium_exchange=[{time_h=4.5}]"]),
        out, progress=False)
    run = read_run(out)
    fig = _timeseries(run, _choose_fields(run, None), log=True)
    spans = []
    for ax in fig.axes:
        if ax.get_yscale() != "log":
            continue
        ys = np.concatenate([np.asarray(line.get_ydata(), float) for line in ax.get_lines()])
        top = np.nanmax(ys)
        low = np.nanmin(ys[ys > 0])
        spans.append(np.log10(top / low))
        assert ax.get_ylim()[0] >= top * 10.0**-LOG_DECADES * (1 - 1e-6), ax.get_ylabel()
    assert max(spans) > 2 * LOG_DECADES  # the case is what it claims: a deep fall


def test_kymographs_mark_exposures_doses_and_exchanges_above_every_map(tmp_path):
    """The r × t maps showed no sign of the exposure, the second dose or the wash-out (an
    outside figure review): each is a marker on every map's top edge at its time, outside
    the data, keyed once below the panels."""
    from zn_pde.plot import _kymographs

    out = tmp_path / "split.h5"
    simulate_to_file(load_config("configs/zno_spheroid_radial.toml", [
        "grid.shape=[16]", "grid.spacing_um=20.0", "time.end_h=3", "time.dt_s=120.0",
        "ultrasound[0].start_h=1.0", "dose=[{time_h=0.5, dose_ug_per_ml=10.0}]",
        "medium_exchange=[{time_h=2.0}]"]), out, progress=False)
    run = read_run(out)
    fig = _kymographs(run, ["zn", "viability"], log=False)
    keyed = {"ultrasound 1.5 W/cm², 1 min": 1.0, "dose 10 µg/mL": 0.5,
             "medium exchange (wash-out)": 2.0}
    assert len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(keyed)
    maps = [ax for ax in fig.axes if ax.get_xlabel() == "time (h)"]
    assert len(maps) == 2
    for ax in maps:
        marks = {line.get_label(): line for line in ax.get_lines() if line.get_marker() == "v"}
        assert {k: float(line.get_xdata()[0]) for k, line in marks.items()} == keyed
        assert all(line.get_ydata()[0] == 1.0 and not line.get_clip_on()
                   for line in marks.values())


def test_a_kymograph_of_zeros_says_so_in_its_title(tmp_path):
    """A map that is 0 throughout (the stimuli's oxidative dose of a run without them) is one
    flat colour on a 0-1 colour bar, which reads like a field of some value: its title says
    "(0 throughout)", as the time series' do; a field that is not zero has no such words."""
    from zn_pde.plot import _kymographs

    out = tmp_path / "plain.h5"
    simulate_to_file(load_config("configs/zno_spheroid_radial.toml", [
        "grid.shape=[8]", "grid.spacing_um=20.0", "geometry.radius_um=100.0", "time.end_h=1",
        "time.dt_s=300.0", "ultrasound=[]"]), out, progress=False)
    fig = _kymographs(read_run(out), ["zn", "radical_dose"], log=False)
    titles = [ax.get_title() for ax in fig.axes if ax.get_xlabel() == "time (h)"]
    assert len(titles) == 2
    assert not titles[0].endswith("(0 throughout)") and titles[1].endswith("(0 throughout)")


def test_compare_keys_treated_and_control_below_the_series_and_wraps_their_titles(runs):
    """The treated/control key sat inside the viability panel, where the treated curve's
    fall at the exposure ran through it, and the series titles ("dissolved Zn²⁺
    (extracellular fluid), tissue mean") all but touched their neighbours (an outside figure
    review): the key is below the panels, outside every axes; titles wrap and stay apart."""
    from zn_pde.plot import COMPARE_TITLE_CHARACTERS

    run, control = read_run(runs["treated"]), read_run(runs["control"])
    fig = _compare(run, control)
    series = [ax for ax in fig.axes if (ax.get_gid() or "").startswith("series_")]
    assert len(series) >= 3 and all(ax.get_legend() is None for ax in series)
    keys = [leg for sub in fig.subfigs for leg in sub.legends]
    assert len(keys) == 1
    assert [t.get_text() for t in keys[0].get_texts()] == [
        "treated (treated)", "control (control)", "ultrasound 3 W/cm², 5 min, 2× every 0.5 h"]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    key = keys[0].get_window_extent(renderer)
    boxes = [ax.title.get_window_extent(renderer) for ax in series]
    for i, ax in enumerate(series):
        assert _boxes_apart(key, ax.get_window_extent(renderer))
        assert all(len(line) <= COMPARE_TITLE_CHARACTERS
                   for line in ax.get_title().splitlines())
        assert all(_boxes_apart(boxes[i], b) for b in boxes[i + 1:]), ax.get_title()


def test_profiles_before_and_after_an_exposure_take_distinct_colours_keyed_by_time(runs):
    """Profiles were coloured by time on a continuous scale: the frames just before and
    after an exposure (minutes apart) took the same colour, so the profile before the kill
    could not be told from the one after it (an outside figure review). Each drawn frame
    has its own colour, and the colour bar has a band per frame ticked with its time."""
    from zn_pde.plot import _default_frames, _profile_frames, _radial

    run = read_run(runs["treated"])
    fig = _radial(run, ["viability"], log=False)
    t_h = run.times_s / 3600.0
    frames = _profile_frames(t_h, _default_frames(run))
    assert np.diff(t_h[frames]).min() <= 5.0 / 60 + 1e-9  # a pair minutes apart
    ax = fig.axes[0]
    colours = [tuple(line.get_color()) for line in ax.get_lines() if line.get_ls() == "-"]
    assert len(colours) == len(frames)
    # neighbours in time as far apart in colour as any: a band of viridis each
    steps = np.abs(np.diff(np.asarray(colours)[:, :3], axis=0)).max(axis=1)
    assert steps.min() > 0.05
    bar = fig.axes[-1]
    assert bar.get_ylabel() == "time of the profile (h)"
    assert [t.get_text() for t in bar.get_yticklabels()] == [f"{t_h[i]:.4g}" for i in frames]


def test_time_series_at_zero_are_drawn_over_the_bottom_spine(vial):
    """A series at 0 on an axis from 0 (a vial's ROS throughout, a spheroid's before its
    exposure) lay under the bottom spine, invisible beside its legend entry (an outside
    figure review): the curves are drawn over the spines."""
    wm = read_run(vial)
    fig = _timeseries(wm, _choose_fields(wm, None), log=False)
    ros = next(ax for ax in fig.axes if ax.get_title().startswith("ROS"))
    assert ros.get_ylim()[0] == 0.0
    curves = [line for line in ros.get_lines() if np.all(line.get_ydata() == 0)]
    assert curves
    assert all(line.get_zorder() > ros.spines["bottom"].get_zorder() for line in curves)


def test_every_figure_of_an_incomplete_run_says_where_it_stopped(runs, tmp_path):
    """A run killed or interrupted early was plotted with its last saved frame as the last
    slice and profile, and only the kymographs and time series said the run was incomplete:
    the slices and the radial profiles of a run stopped at 0.5 h of 1 h read like the run's
    end. Every figure's title now says so, wrapped to the figure's width, and where the
    frames stop; a complete run's say nothing of it."""
    import shutil

    from zn_pde.plot import _radial, _radial_profiles

    cut = tmp_path / "cut.h5"
    shutil.copy(runs["treated"], cut)
    with h5py.File(cut, "r+") as f:
        keep = int(np.searchsorted(f["time"][:], 0.5 * 3600.0)) + 1
        for name, d in f.items():
            if d.ndim and d.shape[0] == f["time"].shape[0] and name != "time" and (
                    d.maxshape[0] is None):
                d.resize(keep, axis=0)
        f["time"].resize(keep, axis=0)
        f.attrs["status"] = "interrupted"
        f.attrs["complete"] = np.uint8(0)
    run = read_run(cut)
    frames = _choose_frames(run, None)
    figures = [_slices(run, "zn", frames, log=False), _radial(run, ["zn"], log=False),
               _timeseries(run, ["zn"], log=False)]
    radial = tmp_path / "radial.h5"
    simulate_to_file(load_config("configs/zno_spheroid_radial.toml", [
        "grid.shape=[8]", "grid.spacing_um=20.0", "geometry.radius_um=100.0", "time.end_h=1",
        "time.dt_s=300.0", "ultrasound=[]"]), radial, progress=False)
    with h5py.File(radial, "r+") as f:
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)
    figures.append(_radial_profiles(read_run(radial), ["zn"], log=False))
    for fig, status, end in zip(figures, ["interrupted"] * 3 + ["running"], [0.5] * 3 + [1],
                                strict=True):
        title = " ".join(fig.get_suptitle().split())
        assert f"INCOMPLETE run: status '{status}', frames to {end:g} h" in title, title
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        box = fig._suptitle.get_window_extent(canvas.get_renderer())
        assert fig.bbox.x0 - 0.5 <= box.x0 and box.x1 <= fig.bbox.x1 + 0.5
    complete = read_run(runs["treated"])
    assert "INCOMPLETE" not in _slices(complete, "zn", frames, log=False).get_suptitle()
    assert "INCOMPLETE" not in _radial(complete, ["zn"], log=False).get_suptitle()


def _with_control(config, out):
    """The run of `config` written to `out` and its control (`simulate_control`), as read."""
    from zn_pde._run import simulate_control

    simulate_to_file(config, out, progress=False, control=False)
    return read_run(out), read_run(simulate_control(config, out, progress=False).path)


def test_compare_keys_the_dose_and_exchange_lines_it_draws(tmp_path):
    """The treated-vs-control series drew every [[dose]] (dashed) and [[medium_exchange]]
    (dotted) as a line, but keyed only treated and control, and the subtitle names only the
    shaded exposures (an outside review of a wash-out protocol): the key below the panels
    names each of them once too."""
    config = load_config("configs/zno_culture_well_mixed.toml", [
        "time.end_h=3.0", "time.save_every_min=30.0", "dose=[{time_h=0.5, dose_ug_per_ml=10.0}]",
        "medium_exchange=[{time_h=1.0}, {time_h=2.5}]",
        "ultrasound=[{start_h=1.5, duration_min=1.0, intensity_W_per_cm2=1.5}]"])
    fig = _compare(*_with_control(config, tmp_path / "wash.h5"))
    keys = [leg for sub in (fig.subfigs or [fig]) for leg in sub.legends] or fig.legends
    assert len(keys) == 1
    assert [t.get_text() for t in keys[0].get_texts()] == [
        "treated (wash)", "control (wash_control)", "ultrasound 1.5 W/cm², 1 min",
        "dose 10 µg/mL", "medium exchange (wash-out)"]


def test_a_pulsed_exposure_is_keyed_with_its_duty_cycle(tmp_path):
    """`configs/zno_spheroid_oxygen_repeated_us.toml` pulses its ultrasound at 50 % duty;
    `zn-pde inspect` says so, but every figure's key read "ultrasound 1.5 W/cm², 5 min, 3×
    every 2 h", a continuous beam of that intensity (an outside review): the key names the
    duty cycle, as inspect does, and a continuous beam's key is unchanged."""
    config = load_config("configs/zno_culture_well_mixed.toml", [
        "time.end_h=1.0", "time.save_every_min=30.0",
        "ultrasound=[{start_h=0.25, duration_min=5.0, intensity_W_per_cm2=1.5, "
        "duty_cycle=0.5, repeats=2, repeat_every_h=0.5}]",
        "light=[{start_h=0.5, duration_min=1.0, wavelength_nm=365.0, "
        "irradiance_mW_per_cm2=10.0}]"])
    run, control = _with_control(config, tmp_path / "pulsed.h5")
    assert [what for _, _, _, what in _stimuli(run)] == [
        "ultrasound 1.5 W/cm², 5 min, pulsed at 50% duty, 2× every 0.5 h"] * 2 + [
        "light 365 nm, 10 mW/cm², 1 min"]
    assert "pulsed at 50% duty" in _stimuli(control)[0][3]


def test_compare_title_says_a_control_within_its_step_error_is_no_kill(runs, tmp_path):
    """A 0.6 s exposure just above the cavitation threshold: the stimuli kill almost none,
    the control (its longer step from the exposure on) ends a little below the run, and
    the run's summary says "none measurable"; the figure drew the treated run above its
    control in red with no word of it, which reads as cells the stimuli spared (an outside
    review): its title now says what the summary says. A run whose stimuli kill keeps the
    plain title. (The scenario was ultrasound before any particles are given in a
    well-mixed culture: such a run now makes no control, and a well-mixed control steps as
    its run.)"""
    config = load_config("configs/zno_spheroid_radial.toml", [
        "time.end_h=6.0", "time.save_every_min=60.0",
        "ultrasound=[{start_h=1.0, duration_min=0.01, intensity_W_per_cm2=0.82}]"])
    run, control = _with_control(config, tmp_path / "early.h5")
    with h5py.File(run.path) as f, h5py.File(control.path) as g:
        gap = 100 * (f["tissue_mean_viability"][-1] - g["tissue_mean_viability"][-1])
    assert 0.0 < gap <= 0.5  # the scenario this test is about
    title = _compare(run, control)._suptitle.get_text()
    assert f"no measurable kill: the control ends {gap:.2f} % points below the run" in title
    killing = _compare(read_run(runs["treated"]), read_run(runs["control"]))
    assert "no measurable kill" not in killing._suptitle.get_text()


def test_slice_subtitle_says_how_many_exposures_end_where_it_lists_six(runs, tmp_path):
    """`configs/zno_spheroid_pulsed_light.toml` gives twelve 10 s pulses from 4 h to 6.75 h;
    the slices' subtitle listed the first six ends, "exposures end at 4.003, ..., 5.253 h",
    as if the train ended at 5.25 h (an outside review): it now says how many there are and
    when the last ends. Six or fewer are listed as before."""
    from zn_pde.plot import _after_exposure_note

    out = tmp_path / "train.h5"
    simulate_to_file(load_config("configs/zno_culture_well_mixed.toml", [
        "time.end_h=8.0", "time.save_every_min=60.0", "time.save_around_events=false",
        "light=[{start_h=4.0, duration_min=0.5, wavelength_nm=365.0, "
        "irradiance_mW_per_cm2=50.0, repeats=12, repeat_every_h=0.25}]"]), out,
        progress=False, control=False)
    note = _after_exposure_note(read_run(out), [])
    assert note.startswith("; exposures end at 4.008, 4.258, 4.508, 4.758, 5.008, 5.258, ")
    assert note.endswith("(12 in all, the last at 6.758 h)")
    assert _after_exposure_note(read_run(runs["treated"]), []) == (
        "; exposures end at 0.3333, 0.8333 h")


def test_a_bulk_species_far_below_the_others_gets_a_readable_axis_of_its_own(tmp_path):
    """ZnS's bulk sulfide volatilises (5 min half-life) and stays ~1/75 of the bulk Zn2+; on
    their shared linear axis it lay flat on 0 (an outside user audit). Every bulk series is
    drawn on an axis whose top is at most BULK_PANEL_RANGE (20) times its own peak, and the
    Zn2+ keeps the panel titled as before. 20: a series under 1/20 of its axis is a line
    on 0 at the figure's size (a panel ~2.6 in high)."""
    path = _run(tmp_path / "zns.h5", ["grid.kind='radial'", "grid.shape=[16]",
                                      "grid.spacing_um=20.0", "geometry.radius_um=200.0",
                                      "material.kind='ZnS'", "ultrasound=[]", "ph.medium=6.7",
                                      "ph.tissue_rim=6.7", "ph.tissue_core=6.4",
                                      "time.end_h=4.0", "time.dt_s=300.0"])
    run = read_run(path)
    fig = _timeseries(run, list(run.fields), log=False)
    drawn = {line.get_label(): ax for ax in fig.axes
             for line in ax.get_lines() if line.get_label() in ("Zn²⁺", "sulfide")}
    assert set(drawn) == {"Zn²⁺", "sulfide"}
    assert drawn["Zn²⁺"].get_title() == "bulk medium beyond the walls"
    for label, ax in drawn.items():
        line = next(ln for ln in ax.get_lines() if ln.get_label() == label)
        peak = float(np.nanmax(line.get_ydata()))
        assert peak > 0 and ax.get_ylim()[1] <= 20.0 * peak, label


def test_glutathione_ticks_read_as_its_values_without_an_offset(tmp_path):
    """Glutathione dips by thousandths of a µM from 5000 µM early in a run: matplotlib's
    default moved the 5000 into an offset ('+4.99999e3') and ticked 0.005-0.01, which read
    as the pool itself (an outside user audit). The radial profiles, the kymograph's and a
    slice's colour bar tick plain values inside the data's range, no offset."""
    from zn_pde.plot import _kymographs, _radial_profiles

    path = _run(tmp_path / "r.h5", ["grid.kind='radial'", "grid.shape=[16]",
                                    "grid.spacing_um=20.0", "geometry.radius_um=200.0",
                                    "ultrasound=[]", "time.end_h=3.0", "time.dt_s=300.0",
                                    "material.dose_ug_per_ml=10.0"])
    run = read_run(path)
    with h5py.File(path) as f:
        gsh = np.asarray(f["gsh"][:], float)[:, np.asarray(f["tissue_mask"][:]) > 0]
    lo, hi = np.nanmin(gsh), np.nanmax(gsh)
    assert 0 < hi - lo < 0.5 and hi > 4000  # the case: a dip far below the pool's size
    for fig in (_radial_profiles(run, ["gsh"], log=False), _kymographs(run, ["gsh"], False)):
        FigureCanvasAgg(fig).draw()
        axis = next(ax.yaxis for ax in fig.axes if ax.get_label() == "<colorbar>"
                    or "glutathione" in ax.get_ylabel())
        assert axis.get_offset_text().get_text() == ""
        shown = [float(t.get_text().replace("−", "-")) for t in axis.get_ticklabels()
                 if t.get_text()]
        assert shown and all(lo - (hi - lo) <= v <= hi + (hi - lo) for v in shown), shown


def test_a_slice_of_zeros_says_so_in_its_title(runs):
    """The control's ROS is 0 in every plane: its slice drew one flat colour on a 0-1 µM bar
    with nothing saying the field is 0 (an outside user audit; the kymographs and time series
    say '(0 throughout)'). The treated run's ROS, made by its exposures, is not so titled."""
    for key, zero in (("control", True), ("treated", False)):
        run = read_run(runs[key])
        frames = _choose_frames(run, None)
        with h5py.File(runs[key]) as f:
            assert bool(np.any(np.asarray(f["ros"][:]))) is not zero
        fig = _slices(run, "ros", frames, log=False)
        assert ("(0 throughout)" in fig._suptitle.get_text()) is zero
