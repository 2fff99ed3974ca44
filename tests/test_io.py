"""Outputs: the HDF5 file in xarray, the XDMF sidecar against the HDF5 file, `inspect`,
`plot`, progress reporting, and exit 2 for files that are not zn-pde outputs.

The XDMF test resolves every frame selection of the sidecar (both spellings, XDMF 2 and 3) and
compares the selected array with the field xarray gives for that frame, so a wrong index,
shape, origin, spacing or dataset path fails. Plot tests check the drawn artists (masked
medium, outline level, stimulus spans, axis units) and, on a synthetic file whose field is
the distance from the spheroid centre, that the radial profile recovers r.
"""

from __future__ import annotations

import io
import re
import shutil
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import h5py
import matplotlib.image as mpimg
import numpy as np
import pytest
import xarray as xr
from matplotlib.colors import LogNorm

import zn_pde
from zn_pde import InputError, Schedule, __version__
from zn_pde._progress import Progress, format_duration
from zn_pde._run import simulate_to_file
from zn_pde.cli import main
from zn_pde.config import dumps, load_config
from zn_pde.inspect import describe
from zn_pde.io import Writer, read_run
from zn_pde.plot import TISSUE_PERCENTILES, _radial, _slices, _timeseries, _tissue_norm, plot_run

FIELDS = ("np", "zn", "ros", "np_int", "zn_cell", "gsh", "viability", "radical_dose",
          "np_dead", "zn_dead", "hazard", "energy_hazard")
SERIES = ("tissue_mean_zn", "tissue_mean_zn_cell", "tissue_mean_ros", "max_ros",
          "tissue_mean_viability")
H = 40.0  # um
CONFIG = f"""
[grid]
shape = [16, 16, 16]
spacing_um = {H}

[time]
end_h = 0.5
dt_s = 60.0
save_every_min = 5.0

[geometry]
kind = "spheroid"
radius_um = 200.0
center_um = [320.0, 300.0, 340.0]

[material]
kind = "ZnO"
dose_ug_per_ml = 20.0

[[ultrasound]]
start_h = 0.1
duration_min = 1.0
intensity_W_per_cm2 = 1.5

[[light]]
start_h = 0.3
duration_min = 2.0
wavelength_nm = 365.0
irradiance_mW_per_cm2 = 20.0
"""
WELL_MIXED = """
[grid]
kind = "well_mixed"

[time]
end_h = 1.0
dt_s = 60.0
save_every_min = 10.0

[geometry]
kind = "uniform"
cell_volume_fraction = 0.002

[material]
kind = "ZnO"
dose_ug_per_ml = 20.0

[[ultrasound]]
start_h = 0.5
duration_min = 1.0
intensity_W_per_cm2 = 1.5
"""


@pytest.fixture(scope="module")
def run3d(tmp_path_factory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("io")
    (d / "spheroid.toml").write_text(CONFIG)
    config = load_config(d / "spheroid.toml")
    out = d / "spheroid.h5"
    simulate_to_file(config, out, progress=False)
    return out, config


@pytest.fixture(scope="module")
def run_wm(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("wm")
    (d / "vial.toml").write_text(WELL_MIXED)
    out = d / "vial.h5"
    simulate_to_file(load_config(d / "vial.toml"), out, progress=False)
    return out


# --- HDF5 / xarray -----------------------------------------------------------------------


def test_xarray_opens_with_named_dimensions_coordinates_and_units(run3d):
    path, config = run3d
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds.load()
    # the protocol's event table: the t = 0 dose, the start and end of each exposure; frames
    # every 5 min and at the start and end of each exposure (1200 s is on the 5 min grid)
    assert dict(ds.sizes) == {"time": 10, "z": 16, "y": 16, "x": 16, "event": 5}
    np.testing.assert_allclose(ds["time"].values, sorted(
        [300.0 * k for k in range(7)] + [360.0, 420.0, 1080.0]))
    assert list(ds["event_kind"].values) == ["dose", "ultrasound_start", "ultrasound_end",
                                             "light_start", "light_end"]
    np.testing.assert_allclose(ds["event_time"].values, [0, 360, 420, 1080, 1200])
    assert ds["event_time"].attrs["units"] == "s"
    # one quantity per column with its own units (event_value mixes them, row by row)
    by_units = {"event_dose": "ug/mL", "event_ultrasound_intensity": "W/cm^2",
                "event_light_irradiance": "mW/cm^2"}
    for name, units in by_units.items():
        assert ds[name].attrs["units"] == units
        mine = np.asarray(ds["event_units"].values == units)
        np.testing.assert_array_equal(ds[name].values[mine], ds["event_value"].values[mine])
        assert np.isnan(ds[name].values[~mine]).all()
    assert "event_medium_ph" not in ds  # no medium exchange in this protocol
    for name in FIELDS:
        assert ds[name].dims == ("time", "z", "y", "x") and ds[name].dtype == np.float32
    for name in SERIES:
        assert ds[name].dims == ("time",)
    assert ds["tissue_mask"].dims == ("z", "y", "x") and ds["tissue_mask"].dtype == np.uint8
    assert ds["ph"].dims == ("z", "y", "x")
    for c in ("x", "y", "z"):
        assert ds[c].attrs["units"] == "um"
        np.testing.assert_array_equal(ds[c].values, (np.arange(16) + 0.5) * H)
    assert ds["time"].attrs["units"] == "s"
    np.testing.assert_array_equal(ds["time"].values, Schedule.from_config(config).save_times_s)
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units"), f"{name} has no units"
    assert ds["viability"].attrs["units"] == "1" and ds["zn"].attrs["units"] == "uM"
    assert ds["np"].attrs["units"] == "ug/mL"
    # the tissue mask is the ball of the config, addressed by coordinates
    r = np.sqrt((ds.x - 320.0) ** 2 + (ds.y - 300.0) ** 2 + (ds.z - 340.0) ** 2)
    np.testing.assert_array_equal(ds["tissue_mask"].values, (r <= 200.0).transpose(
        "z", "y", "x").values.astype(np.uint8))
    # viability is NaN exactly in the medium; the stored series is its tissue mean
    tissue = ds["tissue_mask"] == 1
    assert bool(ds["viability"].where(~tissue).isnull().all())
    assert bool(ds["viability"].where(tissue, 0.5).notnull().all())
    mean = ds["viability"].where(tissue).mean(("z", "y", "x"))
    np.testing.assert_allclose(ds["tissue_mean_viability"], mean, rtol=1e-6)
    assert ds.attrs["Conventions"] == "CF-1.8" and ds.attrs["zn_pde_version"] == __version__
    assert ds.attrs["status"] == "complete" and ds.attrs["complete"] == 1
    stored = tomllib.loads(ds.attrs["config"])
    assert stored["geometry"]["center_um"] == [320.0, 300.0, 340.0]
    assert stored["light"][0]["wavelength_nm"] == 365.0


def test_the_output_records_where_it_was_computed(run3d):
    """Results on another backend agree only to round-off, so a run's file names the JAX
    version, backend and devices it computed on, and a CF `history` line with the time (UTC)."""
    import jax

    path, _ = run3d
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        attrs = dict(ds.attrs)
    assert attrs["jax_version"] == jax.__version__
    assert attrs["jax_backend"] == jax.default_backend()
    assert attrs["jax_devices"] == f"{len(jax.devices())} x {jax.devices()[0].device_kind}"
    (line,) = attrs["history"].splitlines()
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ zn-pde {re.escape(__version__)} "
                        rf"run on {jax.default_backend()} \(.+, jax .+\)", line), line


def test_well_mixed_output_in_xarray_inspect_and_plot(run_wm, tmp_path):
    with xr.open_dataset(run_wm, engine="h5netcdf") as ds:
        # every 10 min, and at the end of the exposure (its start, 0.5 h, is on the grid)
        assert dict(ds.sizes) == {"time": 8, "event": 3}
        assert set(FIELDS) <= set(ds.data_vars)
        assert all(ds[n].dims == ("time",) for n in FIELDS)
        assert not {"x", "y", "z", "tissue_mask"} & set(ds.variables)
        zn = ds["zn"].values
    assert run_wm.with_suffix(".xmf").exists()  # one node (tests/test_paraview.py)
    text = describe(run_wm)
    assert "well_mixed: one compartment" in text
    rows = _table(text, "key scalars (the well-mixed compartment")
    np.testing.assert_allclose([float(r[0]) for r in rows],
                               sorted([*np.arange(7) / 6, 0.5 + 1 / 60]), rtol=1e-5)
    head = _table_head(text, "key scalars (the well-mixed compartment")
    col = head.index("Zn2+ uM")
    np.testing.assert_allclose([float(r[col]) for r in rows], zn, rtol=5e-4, atol=1e-12)
    paths = plot_run(run_wm, outdir=tmp_path)
    assert [p.name for p in paths] == ["vial_timeseries.png"]
    assert _png_size(paths[0])[0] > 0


# --- XDMF ----------------------------------------------------------------------------------


def _hyperslab(item: ET.Element, base: Path) -> np.ndarray:
    """Resolve a field's frame both ways the sidecar spells it (see zn_pde/io/_xdmf.py):
    XDMF 2's `Type="HyperSlab"` children (start, stride, count rows over an HDF DataItem)
    and XDMF 3's text `file:dataset|start:stride:count:dataset dims`; both must agree."""
    assert item.get("Type") == "HyperSlab" and item.get("Format") == "HDF"
    frame = tuple(int(n) for n in item.get("Dimensions").split())
    select, source = item.findall("DataItem")
    start, stride, count = np.array(select.text.split(), int).reshape(3, -1)
    file, dataset = source.text.strip().split(":")
    declared = tuple(int(n) for n in source.get("Dimensions").split())
    location, slab = item.text.strip().split("|")
    start3, stride3, count3, declared3 = (np.array(p.split(), int) for p in slab.split(":"))
    assert location == f"{file}:{dataset}"
    for a, b in ((start, start3), (stride, stride3), (count, count3), (declared, declared3)):
        np.testing.assert_array_equal(a, b)
    with h5py.File(base / file, "r") as f:
        d = f[dataset]
        assert d.shape == declared, f"{dataset}: declared {declared}, stored {d.shape}"
        index = tuple(slice(s, s + c * st, st) for s, st, c in
                      zip(start, stride, count, strict=True))
        out = d[index]
    assert out.shape == (1, *frame)  # one frame, which readers take as (z, y, x)
    return out[0]


def test_xdmf_sidecar_matches_the_hdf5_file(run3d):
    path, _ = run3d
    xmf = path.with_suffix(".xmf")
    root = ET.parse(xmf).getroot()
    assert root.tag == "Xdmf" and root.get("Version") == "3.0"
    collection = root.find("Domain/Grid")
    assert collection.get("GridType") == "Collection"
    assert collection.get("CollectionType") == "Temporal"
    frames = collection.findall("Grid")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds.load()
    assert len(frames) == ds.sizes["time"]
    shape = (ds.sizes["z"], ds.sizes["y"], ds.sizes["x"])
    for i, grid in enumerate(frames):
        assert grid.get("GridType") == "Uniform"
        assert float(grid.find("Time").get("Value")) == ds["time"].values[i]
        topo = grid.find("Topology")
        assert topo.get("TopologyType") == "3DCoRectMesh"
        assert tuple(int(n) for n in topo.get("Dimensions").split()) == shape
        geom = grid.find("Geometry")
        assert geom.get("GeometryType") == "ORIGIN_DXDYDZ"
        origin, spacing = (np.array(e.text.split(), float) for e in geom.findall("DataItem"))
        # nodes are voxel centres, listed z y x like the topology
        np.testing.assert_array_equal(origin, [ds.z[0], ds.y[0], ds.x[0]])
        np.testing.assert_array_equal(spacing, [np.diff(ds[c])[0] for c in ("z", "y", "x")])
        names = []
        for attr in grid.findall("Attribute"):
            name = attr.get("Name")
            names.append(name)
            assert attr.get("Center") == "Node" and attr.get("AttributeType") == "Scalar"
            item = attr.find("DataItem")
            if item.get("Type") == "HyperSlab":
                data = _hyperslab(item, path.parent)
                np.testing.assert_array_equal(data, ds[name].values[i])
            else:
                file, dataset = item.text.strip().split(":")
                assert file == path.name
                with h5py.File(path.parent / file, "r") as f:
                    np.testing.assert_array_equal(f[dataset][...], ds[name].values)
        assert set(names) == set(FIELDS) | {"tissue_mask", "ph"}


# --- inspect ---------------------------------------------------------------------------------


def _table_head(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith(title))
    return re.split(r"\s{2,}", lines[k + 1].strip())


def _table(text: str, title: str) -> list[list[str]]:
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[k + 2:]:
        if not line.strip() or line.strip().startswith("("):
            break
        rows.append(line.split())
    return rows


def test_inspect_describes_config_grid_times_variables_and_key_scalars(run3d, capsys):
    path, config = run3d
    assert main(["inspect", str(path)]) == 0
    text = capsys.readouterr().out
    assert "status      complete" in text
    with h5py.File(path, "r") as f:
        assert f"  history     {f.attrs['history']}\n" in text  # when and on what
    assert "ZnO, dose 20 ug/mL" in text
    assert "ultrasound  from 0.1 h for 1 min, 1.5 W/cm2, 1 MHz" in text
    assert "light       from 0.3 h for 2 min, 20 mW/cm2, 365 nm" in text
    assert "16 x 16 x 16 voxels (x, y, z), spacing 40 um" in text
    # every 5 min, and at the start and end of each exposure (the light's end is on the grid)
    assert "10 frames from 0 to 0.5 h" in text
    assert "and around the events (time.save_around_events): 0.1, 0.1167, 0.3 h" in text
    with h5py.File(path, "r") as f:
        tissue = f["tissue_mask"][...] > 0
        assert f"tissue      {int(tissue.sum())} voxels" in text
        variables = {r[0]: r for r in _table(text, "variables")}
        for name in FIELDS + SERIES + ("ph", "tissue_mask"):
            row = variables[name]
            assert row[1] == f[name].attrs["units"]
            data = f[name][...]
            lo, hi = np.nanmin(data), np.nanmax(data)
            dims = 4 if name in FIELDS else 1 if name in SERIES else 3
            assert float(row[1 + dims + 1]) == pytest.approx(lo, rel=5e-4, abs=1e-30)
            assert float(row[1 + dims + 2]) == pytest.approx(hi, rel=5e-4, abs=1e-30)
        title = "key scalars (tissue means"
        head = _table_head(text, title)
        rows = _table(text, title)
        np.testing.assert_allclose([float(r[0]) for r in rows], f["time"][:] / 3600, rtol=1e-5)
        for column, name, factor in (("Zn2+ uM", "tissue_mean_zn", 1), ("ROS uM",
                                     "tissue_mean_ros", 1), ("viability %",
                                     "tissue_mean_viability", 100)):
            got = [float(r[head.index(column)]) for r in rows]
            np.testing.assert_allclose(got, f[name][:] * factor, rtol=5e-4, atol=1e-30)
    assert main(["inspect", "--config", str(path)]) == 0
    full = capsys.readouterr().out
    toml_text = full.split("full resolved config (as stored in the file)\n")[1].split("\n", 1)[1]
    stripped = {k: v for k, v in config.items() if not k.startswith("_")}
    assert tomllib.loads(toml_text) == tomllib.loads(dumps(stripped))


def test_inspect_flags_an_incomplete_file_and_shows_its_message(run3d, tmp_path):
    path, _ = run3d
    copy = tmp_path / "partial.h5"
    copy.write_bytes(path.read_bytes())
    with h5py.File(copy, "r+") as f:
        f.attrs["status"] = "interrupted"
        f.attrs["complete"] = np.uint8(0)
        f.attrs["message"] = "interrupted by SIGINT; 7 frames"
    text = describe(copy)
    assert "INCOMPLETE: interrupted" in text
    assert "message     interrupted by SIGINT; 7 frames" in text
    assert f"continue    zn-pde run --resume {copy}" in text
    # killed after its first frame: one frame, in the singular
    with h5py.File(copy, "r+") as f:
        f["time"].resize((1,))
    assert "  1 frame from 0 to 0 h" in describe(copy)


def test_a_complete_run_saved_again_by_xarray_is_still_complete(run_wm, tmp_path):
    """`open_run(path).to_netcdf(copy, engine="h5netcdf")` keeps every attribute, but
    h5netcdf writes the scalar `complete = 1` as a one-element array, which `inspect` read
    as the text "[1]": it called the complete copy incomplete and offered `zn-pde run
    --resume`, and `plot` titled its figures INCOMPLETE (a client audit, 2026-12-07). A
    one-element attribute now reads as its element."""
    copy = tmp_path / "copy.nc"
    with zn_pde.open_run(run_wm) as ds:
        ds.load().to_netcdf(copy, engine="h5netcdf")
    with h5py.File(copy, "r") as f:
        assert np.asarray(f.attrs["complete"]).shape == (1,)  # what h5netcdf writes
    assert read_run(copy).complete and read_run(copy).status == "complete"
    text = describe(copy)
    assert "status      complete" in text and "--resume" not in text, text
    with zn_pde.open_run(copy) as again, zn_pde.open_run(run_wm) as first:
        xr.testing.assert_identical(again.load(), first.load())


# --- plot ------------------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    h, w = mpimg.imread(path).shape[:2]
    return w, h


def test_plot_writes_every_figure_with_defaults_and_options(run3d, tmp_path, capsys):
    path, _ = run3d
    assert main(["plot", str(path), "-o", str(tmp_path / "all")]) == 0
    printed = capsys.readouterr().out.split()
    names = sorted(Path(p).name for p in printed if p.endswith(".png"))
    expected = sorted([f"spheroid_slice_{n}.png" for n in FIELDS]
                      + ["spheroid_radial.png", "spheroid_timeseries.png"])
    assert names == expected
    w3 = _png_size(tmp_path / "all" / "spheroid_slice_zn.png")[0]
    paths = plot_run(path, outdir=tmp_path / "some", fields=["zn", "viability"],
                     times_h=[0.25, 0.5], log=True)
    assert [p.name for p in paths] == ["spheroid_slice_zn.png", "spheroid_slice_viability.png",
                                       "spheroid_radial.png", "spheroid_timeseries.png"]
    w2 = _png_size(paths[0])[0]
    assert w2 < w3  # two time panels instead of three
    # the radial profiles follow the times asked for too (they once kept their own frames)
    from zn_pde.plot import _default_frames, _profile_frames, _radial

    run = read_run(path)
    lines = [len(_radial(run, ["zn"], False, chosen).axes[0].lines)
             for chosen in (None, [0, run.n_frames - 1])]
    default = len(_profile_frames(run.times_s[:run.n_frames] / 3600.0, _default_frames(run)))
    assert default > 2 and lines[0] - lines[1] == default - 2


def test_slice_masks_medium_viability_and_outlines_the_spheroid(run3d):
    path, _ = run3d
    run = read_run(path)
    fig = _slices(run, "viability", [0, run.n_frames - 1], log=False)
    axes = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in axes] == ["t = 0 h", "t = 0.5 h"]
    j = int(np.argmin(np.abs(run.y_um - 300.0)))  # the plane through the spheroid centre
    plane_mask = run.tissue[:, j, :]
    for ax in axes:
        image = ax.images[0].get_array()
        np.testing.assert_array_equal(np.ma.getmaskarray(image), ~plane_mask)
        levels = [list(c.levels) for c in ax.collections if hasattr(c, "levels")]
        assert levels == [[0.5]]
        assert ax.get_xlabel() == "x (µm)"
        assert ax.images[0].get_extent() == [0.0, 640.0, 0.0, 640.0]
    assert axes[0].get_ylabel() == "z (µm)"
    assert "y = 300 µm" in fig._suptitle.get_text()


def test_log_scale_is_for_concentrations_only(run3d):
    run = read_run(path := run3d[0])
    with h5py.File(path, "r") as f:
        zn = [f["zn"][-1, :, 8, :]]
        viability = [f["viability"][-1, :, 8, :]]
    norm, _ = _tissue_norm(run, "zn", zn, None, log=True)
    assert isinstance(norm, LogNorm)
    positive = zn[0][np.isfinite(zn[0]) & (zn[0] > 0)]
    assert norm.vmax == pytest.approx(np.percentile(positive, TISSUE_PERCENTILES[1]))
    assert norm.vmin >= norm.vmax * 1e-4 * (1 - 1e-6)
    assert not isinstance(_tissue_norm(run, "viability", viability, None, log=True)[0], LogNorm)
    assert not isinstance(_tissue_norm(run, "zn", zn, None, log=False)[0], LogNorm)


def test_viability_keeps_its_whole_scale_and_a_zero_field_reads_zero(run3d):
    """Fitted to tissue that is 99 % alive, a viability scale of 95-100 % would draw the dead
    cells no darker than the 95 %-alive ones: it stays 0 to 100 % (figures show viability
    in %). A field that is zero everywhere gets 0 to 1, not a +-1e-9 band that reads as
    negative concentrations."""
    run = read_run(run3d[0])
    alive = np.full((8, 8), 99.9)
    alive[0, 0] = 0.0
    norm, _ = _tissue_norm(run, "viability", [alive], np.ones_like(alive, bool), log=False)
    assert (norm.vmin, norm.vmax) == (0.0, 100.0)
    zero = np.zeros((8, 8))
    norm, extend = _tissue_norm(run, "ros", [zero], np.ones_like(zero, bool), log=False)
    assert (norm.vmin, norm.vmax, extend) == (0.0, 1.0, "neither")


def test_time_series_shades_the_stimulus_windows(run3d):
    run = read_run(run3d[0])
    fig = _timeseries(run, list(run.fields), log=False)
    first = fig.axes[0]
    assert first.get_xlabel() == "time (h)"
    labels = first.get_legend_handles_labels()[1]
    assert "ultrasound 1.5 W/cm², 1 min" in labels and "light 365 nm, 20 mW/cm², 2 min" in labels
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        spans = sorted(p.get_x() for p in ax.patches)
        assert spans == pytest.approx([0.1, 0.3])
    # ROS by place: tissue (mean, per-step max) and medium (per-step max) on their own axes
    ros = next(ax for ax in fig.axes if ax.get_title() == "ROS in tissue")
    assert [ln.get_label() for ln in ros.lines] == ["mean", "max, every step"]
    with h5py.File(run3d[0], "r") as f:
        np.testing.assert_allclose(ros.lines[1].get_ydata(), f["tissue_max_ros"][:], rtol=1e-6)
        medium = next(ax for ax in fig.axes if ax.get_title() == "ROS in the medium")
        np.testing.assert_allclose(medium.lines[0].get_ydata(), f["medium_max_ros"][:],
                                   rtol=1e-6)


def test_radial_profile_recovers_a_known_field(tmp_path):
    """A synthetic file whose field is the distance from the spheroid centre (and 2x that at
    the second frame): the shell averages must lie within half a shell of r and 2r."""
    n, h = 20, 10.0
    centre = np.array([100.0, 95.0, 105.0])  # x, y, z
    radius = 60.0
    x = (np.arange(n) + 0.5) * h
    zz, yy, xx = np.meshgrid(x, x, x, indexing="ij")
    r = np.sqrt((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 + (zz - centre[2]) ** 2)
    config = load_config(None, [f"grid.shape=[{n},{n},{n}]", f"grid.spacing_um={h}",
                                f"geometry.radius_um={radius}",
                                f"geometry.center_um={centre.tolist()}"])
    w = Writer(tmp_path / "synthetic.h5", config_toml=dumps(config),
               coords={"x": x, "y": x, "z": x}, tissue_mask=r <= radius,
               variables={"tracer": {"units": "uM", "long_name": "distance"}})
    w.append(0.0, {"tracer": r})
    w.append(3600.0, {"tracer": 2 * r})
    w.close("complete")
    run = read_run(tmp_path / "synthetic.h5")
    fig = _radial(run, ["tracer"], log=False)
    ax = fig.axes[0]
    first, second = ax.lines[0], ax.lines[1]
    centres = first.get_xdata()
    assert centres.max() <= 95.0 + h / 2  # complete shells only: nearest face 95 um away
    np.testing.assert_allclose(first.get_ydata(), centres, atol=h / 2)
    np.testing.assert_allclose(second.get_ydata(), 2 * centres, atol=h)
    assert any(np.allclose(ln.get_xdata(), radius) for ln in ax.lines[2:])  # the surface
    assert ax.get_xlabel().replace("\n", " ") == "distance from the spheroid centre (µm)"
    # inspect of a passive-species file averages the field over the tissue itself
    text = describe(tmp_path / "synthetic.h5")
    rows = _table(text, "key scalars (tissue means)")
    assert float(rows[1][1]) == pytest.approx(2 * r[r <= radius].mean(), rel=1e-3)


@pytest.mark.parametrize("frames, note", [
    (26, None),  # the default scenario's day (hourly, t = 0 and an exposure's frame): whole
    (32, "30 of 32 frames shown, "),
    (61, "30 of 61 frames shown, 31 left out; every frame: zn_pde.open_run("),
])
def test_inspect_shows_a_day_whole_and_says_which_frames_it_leaves_out(tmp_path, frames, note):
    """The key-scalar table showed 25 of the default scenario's 26 frames and said only
    "(25 of 26 frames shown)": a day saved hourly is now shown whole, and a longer table
    names the frames it leaves out (their times when few) and how to read every one."""
    n, h = 8, 10.0
    r = (np.arange(n) + 0.5) * h
    config = load_config(None, ["grid.kind='radial'", f"grid.shape=[{n}]",
                                f"grid.spacing_um={h}", "geometry.radius_um=50.0"])
    path = tmp_path / "many.h5"
    w = Writer(path, config_toml=dumps(config), coords={"r": r}, tissue_mask=r <= 50.0,
               variables={"tracer": {"units": "uM", "long_name": "tracer"}})
    for i in range(frames):
        w.append(3600.0 * i, {"tracer": r + i})
    w.close("complete")
    text = describe(path)
    rows = _table(text, "key scalars (tissue means)")
    assert len(rows) == min(frames, 30)
    if note is None:
        assert "frames shown" not in text
    else:
        assert note in text, text
    if frames == 32:
        shown = {float(row[0]) for row in rows}
        left = sorted(set(range(frames)) - shown)
        assert len(left) == 2 and f"{left[0]:g}, {left[1]:g} h left out" in text


def test_inspect_of_a_radial_passive_species_file_weights_shells_by_volume(tmp_path):
    """Passive-species runs store no series, so inspect averages the fields itself; on a
    radial grid its tissue mean weights each shell by its volume, as the model's tissue
    means do (docs/outputs.md), not the small inner shells as much as the outer ones."""
    n, h, radius = 20, 10.0, 150.0
    r = (np.arange(n) + 0.5) * h
    config = load_config(None, ["grid.kind='radial'", f"grid.shape=[{n}]",
                                f"grid.spacing_um={h}", f"geometry.radius_um={radius}"])
    w = Writer(tmp_path / "radial.h5", config_toml=dumps(config), coords={"r": r},
               tissue_mask=r <= radius,
               variables={"tracer": {"units": "uM", "long_name": "distance"}})
    w.append(0.0, {"tracer": r})
    w.close("complete")
    rows = _table(describe(tmp_path / "radial.h5"), "key scalars (tissue means)")
    volume = (r + h / 2) ** 3 - (r - h / 2) ** 3
    tissue = r <= radius
    expected = (r * volume)[tissue].sum() / volume[tissue].sum()  # 113 um, not the plain 75
    assert float(rows[0][1]) == pytest.approx(expected, rel=1e-3)


def test_run_of_passive_species_prints_their_final_means(tmp_path, capsys):
    """`zn-pde run` prints a short summary (the public contract) for a run of passive species
    only too, which writes no series: each species' final tissue and domain means, by volume
    (shells weighted on a radial grid), as inspect's table reads the file."""
    config = tmp_path / "tracer.toml"
    config.write_text('[grid]\nkind = "radial"\nshape = [12]\nspacing_um = 10.0\n'
                      "[time]\nend_h = 0.25\ndt_s = 60.0\nsave_every_min = 15.0\n"
                      "[geometry]\nradius_um = 80.0\n"
                      '[[species]]\nname = "tracer"\n'
                      "diffusivity_um2_per_s = { tissue = 5.0, medium = 500.0 }\n"
                      "initial_uM = { tissue = 0.0, medium = 1.0 }\nboundary_uM = 1.0\n")
    out = tmp_path / "tracer.h5"
    assert main(["run", str(config), "-o", str(out), "--quiet"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines()
                if ln.strip().startswith("tracer:"))
    with h5py.File(out, "r") as f:
        final, tissue = f["tracer"][-1].astype(float), f["tissue_mask"][:] == 1
    r = (np.arange(12) + 0.5) * 10.0
    volume = (r + 5.0) ** 3 - (r - 5.0) ** 3
    mean = (final * volume)[tissue].sum() / volume[tissue].sum()
    assert 0.0 < mean < 1.0 and f"tissue mean {mean:.4g} uM" in line
    rows = _table(describe(out), "key scalars (tissue means)")
    assert float(rows[-1][1]) == pytest.approx(mean, rel=1e-3)


def test_inspect_keeps_the_frames_around_an_event_in_a_shortened_table(tmp_path):
    """A table cut to 30 of 50 frames keeps the frame after an exposure (off the save grid)
    and the one before it (on the grid: before, it could be dropped, and the jump had no
    'before' row)."""
    config = load_config(None, ["grid.shape=[8,8,8]", "geometry.radius_um=30",
                                "time.save_every_min=30",
                                "ultrasound[0].start_h=2.0"])
    x = (np.arange(8) + 0.5) * 10.0
    w = Writer(tmp_path / "events.h5", config_toml=dumps(config),
               coords={"x": x, "y": x, "z": x}, tissue_mask=np.ones((8, 8, 8), bool),
               variables={"tracer": {"units": "uM", "long_name": "time"}})
    times_h = sorted([*np.arange(0.0, 24.5, 0.5), 2.0 + 1.0 / 60.0])
    for t in times_h:
        w.append(3600.0 * t, {"tracer": np.full((8, 8, 8), t)})
    w.close("complete")
    shown = [float(r[0]) for r in _table(describe(tmp_path / "events.h5"),
                                         "key scalars (tissue means)")]
    assert len(times_h) == 50 and len(shown) == 30
    assert 2.0 in shown and any(abs(t - 2.0167) < 1e-3 for t in shown)


# --- bad files --------------------------------------------------------------------------------


@pytest.fixture
def bad_files(tmp_path, run3d) -> dict[str, tuple[Path, str]]:
    text = tmp_path / "notes.h5"
    text.write_text("just text\n")
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.arange(3)
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(run3d[0].read_bytes()[:4096])
    folder = tmp_path / "folder.h5"
    folder.mkdir()
    sweep = tmp_path / "sweep.h5"
    with h5py.File(sweep, "w") as f:
        f.attrs["format"] = "zn_pde_sweep"
        f.attrs["config"] = ""
    return {"missing": (tmp_path / "missing.h5", "file not found"),
            "text": (text, "not an HDF5 file"),
            "empty": (empty, "not an HDF5 file"),
            "foreign": (foreign, "not a zn-pde output"),
            "truncated": (truncated, "cannot be opened"),
            "folder": (folder, "not a file"),
            "sweep": (sweep, "a zn-pde sweep output"),
            # the ParaView sidecar given for its run (a client audit, 2026-12-07: it said
            # only "not an HDF5 file"): named, with the file to give instead
            "sidecar": (run3d[0].with_suffix(".xmf"),
                        f"the XDMF sidecar of {run3d[0]} (ParaView's view of it); give "
                        f"the run itself, {run3d[0]}")}


@pytest.mark.parametrize("command", ["inspect", "plot"])
@pytest.mark.parametrize("kind", ["missing", "text", "empty", "foreign", "truncated", "folder",
                                  "sweep", "sidecar"])
def test_inspect_and_plot_reject_files_that_are_not_outputs(command, kind, bad_files, capsys):
    path, why = bad_files[kind]
    assert main([command, str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"zn-pde {command}: error: {path}: ") and why in err


def test_resume_of_the_sidecar_names_the_run_to_resume(bad_files, capsys):
    """`zn-pde run --resume OUT.xmf` added "run its config again with --overwrite (from
    t = 0)" to the sidecar's message, as for a damaged file: advice that would overwrite
    the sidecar; it now names the run to resume (a client audit, 2026-12-07)."""
    path, why = bad_files["sidecar"]
    assert main(["run", "--resume", str(path)]) == 2
    err = capsys.readouterr().err
    assert why in err and "--overwrite" not in err, err
    assert "Traceback" not in err


def test_plot_rejects_unknown_fields_and_times(run3d, tmp_path, capsys):
    path, _ = run3d
    out = ["-o", str(tmp_path)]
    assert main(["plot", str(path), "--fields", "zinc", *out]) == 2
    err = capsys.readouterr().err
    assert "no field 'zinc'" in err and "did you mean 'zn'" in err and "allowed: np, zn" in err
    assert main(["plot", str(path), "--fields", "max_ros", *out]) == 2
    assert "a time series" in capsys.readouterr().err
    assert main(["plot", str(path), "--times-h", "3", *out]) == 2
    assert ("no saved frame near t = 3 h; the file holds 10 frames from 0 to 0.5 h, every "
            "5 min and around the events") in capsys.readouterr().err
    assert main(["plot", str(path), "--times-h", "0.1,x", *out]) == 2
    assert "--times-h must be comma-separated numbers" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.png"))


def test_plot_run_and_describe_from_python_refuse_arguments_of_the_wrong_type(run3d,
                                                                              tmp_path):
    """`zn_pde.plot.plot_run` and `zn_pde.inspect.describe`, the Python side of `plot` and
    `inspect`: `fields="zn"` was read a letter at a time ("no field 'z' ... did you mean
    'zn'?"), `times_h=3.0` failed with "TypeError: 'float' object is not iterable",
    `log="no"` drew logarithmic axes (a truthy text), and a path that is no path
    (`describe(42)`) was a TypeError from os.fspath (a client audit, 2026-12-07). Each is now
    an InputError naming the argument, and nothing is drawn."""
    path, _ = run3d
    cases = [(dict(fields="zn"), r"key 'fields'.*'zn' \(str\).*a list of field names"),
             (dict(times_h=3.0), r"key 'times_h'.*3\.0 \(float\).*a list of times"),
             (dict(log="no"), r"plot_run's log = 'no' must be True or False")]
    for kwargs, words in cases:
        with pytest.raises(InputError, match=words):
            plot_run(path, tmp_path, **kwargs)
    for call in (lambda: plot_run(42, tmp_path), lambda: describe(42)):
        with pytest.raises(InputError, match=r"key 'path'.*a file path, got int 42"):
            call()
    assert not list(tmp_path.glob("*.png"))
    # a list of one field, and of one time, still draw
    assert plot_run(path, tmp_path, fields=["zn"], times_h=[0.25])


def test_plot_of_a_file_without_frames_says_so(run3d, tmp_path, capsys):
    copy = tmp_path / "blank.h5"
    copy.write_bytes(run3d[0].read_bytes())
    with h5py.File(copy, "r+") as f:
        for d in f.values():
            if d.maxshape and d.maxshape[0] is None:
                d.resize(0, axis=0)
    assert main(["plot", str(copy), "-o", str(tmp_path)]) == 2
    assert "no frame is saved in this file yet" in capsys.readouterr().err
    assert "no frame saved yet" in describe(copy)


# --- progress --------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_prints_plain_periodic_lines_off_a_terminal(monkeypatch):
    clock = iter([0.0, 1.0, 2.0, 12.0, 13.0, 30.0])
    monkeypatch.setattr("zn_pde._progress.time.perf_counter", lambda: next(clock))
    out = io.StringIO()
    bar = Progress(4 * 3600.0, stream=out, every_s=10.0)  # t0 = 0
    for t_h in (1, 2, 3, 3.5):  # at wall 1, 2, 12, 13 s
        bar.update(t_h * 3600.0)
    bar.update(4 * 3600.0)  # the end is always reported
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 3  # first, after 10 s, final
    # the first update's work includes compiling: no ETA yet; then rates count from it
    assert lines[0] == "simulating: 1/4 h ( 25%), 1 h/s, elapsed 1.0 s, ETA ?"
    # 2 h in the 11 s since the first line: 1 h left in 5.5 s
    assert lines[1].startswith("simulating: 3/4 h ( 75%), 0.182 h/s, elapsed 12 s, ETA 5.5 s")
    assert lines[2].startswith("simulating: 4/4 h (100%)") and lines[2].endswith("ETA 0.0 s")


def test_progress_redraws_one_line_on_a_terminal_and_counts_a_resume(monkeypatch):
    clock = iter([0.0, 10.0, 15.0, 20.0])
    monkeypatch.setattr("zn_pde._progress.time.perf_counter", lambda: next(clock))
    out = _Tty()
    bar = Progress(10 * 3600.0, stream=out, start=6 * 3600.0)  # resumed at 6 of 10 h
    bar.update(7 * 3600.0)
    bar.update(8 * 3600.0)
    bar.close()  # interrupted: the line is ended
    text = out.getvalue()
    assert text.startswith("\r[") and text.endswith("\n") and text.count("\n") == 1
    # only the hour simulated by this process counts: 1 h in 10 s, no ETA yet (compiling)
    assert "7/10 h ( 70%), 0.1 h/s, elapsed 10 s, ETA ?" in text
    # then 1 h in the 5 s since: 2 h left in 10 s
    assert "8/10 h ( 80%), 0.2 h/s, elapsed 15 s, ETA 10 s" in text
    assert format_duration(3725) == "1 h 02 min" and format_duration(65) == "1 min 05 s"


def test_progress_of_work_that_ends_early_reports_what_was_done(monkeypatch):
    # an optimiser converged at 4 of 30 steps: not a bar jumped to 100 % at a rate of steps
    # never taken (once printed as "30/30 steps (100%), 5.7e+05 steps/s")
    clock = iter([0.0, 1.0, 2.0])
    monkeypatch.setattr("zn_pde._progress.time.perf_counter", lambda: next(clock))
    out = io.StringIO()
    bar = Progress(30, unit="steps", scale=1.0, label="fit: L-M", stream=out)
    bar.update(2)
    bar.finish(4, "converged")
    bar.update(30)  # nothing after the end
    lines = out.getvalue().splitlines()
    assert lines == ["fit: L-M: 2/30 steps (  7%), 2 steps/s, elapsed 1.0 s, ETA ?",
                     "fit: L-M: converged at 4/30 steps, elapsed 2.0 s"]


# --- VTK export ----------------------------------------------------------------------------


def _read_vti(path: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """A minimal reader of the exporter's .vti (raw appended, UInt64 headers, little endian):
    the ImageData attributes and every array by name. ParaView's own reading is checked in
    tests/test_paraview.py."""
    raw = path.read_bytes()
    marker = raw.index(b'<AppendedData encoding="raw">')
    start = raw.index(b"_", marker) + 1
    head = raw[:marker].decode()
    image = dict(re.findall(r'(\w+)="([^"]*)"', re.search(r"<ImageData[^>]*>", head).group(0)))
    types = {"Float32": "<f4", "Float64": "<f8", "UInt8": "u1"}
    arrays = {}
    for tag in re.findall(r"<DataArray[^>]*/>", head):
        a = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        at = start + int(a["offset"])
        n = int(np.frombuffer(raw[at:at + 8], "<u8")[0])
        arrays[a["Name"]] = np.frombuffer(raw[at + 8:at + 8 + n], types[a["type"]])
    return image, arrays


def test_vtk_export_holds_every_frame_as_the_hdf5_file(run3d, tmp_path, capsys):
    """Every saved frame becomes one .vti listed in the .pvd at its time (s); each array is
    the HDF5 dataset's float32 values unchanged (x fastest), and the per-frame series ride
    along as field data."""
    path, _ = run3d
    assert main(["export", str(path), "--vtk", "-o", str(tmp_path)]) == 0
    assert "spheroid.pvd" in capsys.readouterr().out
    pvd = ET.parse(tmp_path / "spheroid.pvd").getroot()
    sets = pvd.findall("./Collection/DataSet")
    with h5py.File(path, "r") as f:
        times = f["time"][:]
        np.testing.assert_array_equal([float(d.get("timestep")) for d in sets], times)
        for i in (0, 4, len(times) - 1):
            image, arrays = _read_vti(tmp_path / sets[i].get("file"))
            assert image["WholeExtent"] == "0 16 0 16 0 16"
            assert image["Spacing"] == f"{H!r} {H!r} {H!r}" and image["Origin"] == "0 0 0"
            assert arrays["TimeValue"][0] == times[i]
            for name in FIELDS:
                np.testing.assert_array_equal(arrays[name], f[name][i].ravel(), err_msg=name)
            np.testing.assert_array_equal(arrays["tissue_mask"], f["tissue_mask"][...].ravel())
            np.testing.assert_array_equal(arrays["ph"], f["ph"][...].ravel())
            assert arrays["tissue_mean_viability"][0] == np.float64(
                f["tissue_mean_viability"][i])
    # a second export refuses to replace the first unless asked
    assert main(["export", str(path), "--vtk", "-o", str(tmp_path)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["export", str(path), "--vtk", "-o", str(tmp_path), "--overwrite"]) == 0
    # a run killed after 3 frames exports those 3 (and an earlier, longer export's extra
    # frames are removed)
    killed = tmp_path / "spheroid.h5"
    shutil.copy(path, killed)
    with h5py.File(killed, "r+") as f:
        for d in f.values():
            if isinstance(d, h5py.Dataset) and d.maxshape and d.maxshape[0] is None:
                d.resize(3, axis=0)
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)
    assert main(["export", str(killed), "--vtk", "--overwrite"]) == 0
    sets = ET.parse(tmp_path / "spheroid.pvd").getroot().findall("./Collection/DataSet")
    assert len(sets) == 3 == len(list((tmp_path / "spheroid_vtk").glob("*.vti")))


def test_vtk_export_refuses_what_it_cannot_write(run3d, run_wm, tmp_path, capsys):
    path, _ = run3d
    for argv, needle in (([str(path)], "say which format to write: --vtk"),
                         ([str(run_wm), "--vtk"], "3D runs only: a well-mixed run"),
                         ([str(tmp_path / "missing.h5"), "--vtk"], "missing.h5"),
                         ([str(tmp_path), "--vtk"], str(tmp_path))):
        assert main(["export", *argv, "-o", str(tmp_path / "out")]) == 2, argv
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.vti"))


def test_vtk_export_from_python_refuses_arguments_of_the_wrong_type(run3d, tmp_path):
    """`zn_pde.export_vtk` checks its arguments as `simulate` does: overwrite="no" (truthy)
    replaced an existing export, and a number for a path was a TypeError from pathlib."""
    import zn_pde

    path, _ = run3d
    pvd = zn_pde.export_vtk(path, tmp_path)
    before = pvd.stat().st_mtime_ns
    for kwargs, key in ((dict(outdir=tmp_path, overwrite="no"), "overwrite"),
                        (dict(outdir=5), "outdir")):
        with pytest.raises(zn_pde.InputError, match=f"export_vtk's {key} = ") as e:
            zn_pde.export_vtk(path, **kwargs)
        assert e.value.key == key
    with pytest.raises(zn_pde.InputError, match="export_vtk's h5_path = 5 .int. is not"):
        zn_pde.export_vtk(5, tmp_path)
    assert pvd.stat().st_mtime_ns == before


def test_log_leaves_glutathione_linear(run3d):
    """`--log` puts concentrations on a log scale but not glutathione, a ~5 mM pool whose
    fall of a few % is the signal (an outside figure review: a log scale hid it); Zn2+
    does go logarithmic."""
    from matplotlib.colors import LogNorm

    from zn_pde.plot import _slices

    path, _ = run3d
    run = read_run(path)
    frames = [0, run.n_frames - 1]
    gsh = [ax.images[0].norm for ax in _slices(run, "gsh", frames, log=True).axes
           if ax.images]
    zn = [ax.images[0].norm for ax in _slices(run, "zn", frames, log=True).axes if ax.images]
    assert gsh and not any(isinstance(n, LogNorm) for n in gsh)
    assert zn and all(isinstance(n, LogNorm) for n in zn)


@pytest.mark.parametrize("name", ["run 12:30.h5", "a|b.h5"])
def test_an_output_name_the_sidecar_cannot_refer_to_is_bad_input(tmp_path, name):
    """XDMF spells a frame as FILE:/name|selection and ParaView's readers split at ':' and
    '|' whatever the file is called: a sidecar for `run 12:30.h5` made Xdmf3 Reader S abort
    (SIGABRT) and XDMF Reader fail to read every field. Such a name is refused before
    anything is written, saying what to use instead; a folder with a ':' is fine (the
    sidecar names the file alone)."""
    from zn_pde.io import OutputError

    variables = {"zn": {"units": "uM", "long_name": "zinc"}}
    with pytest.raises(OutputError, match=r"has ':' or '\|'.*e\.g\. (run 12-30|a-b)\.h5"):
        Writer(tmp_path / name, config_toml="", coords={}, tissue_mask=np.ones(()),
               well_mixed=True, variables=variables)
    assert list(tmp_path.iterdir()) == []
    folder = tmp_path / "12:30"
    w = Writer(folder / "run.h5", config_toml="", coords={}, tissue_mask=np.ones(()),
               well_mixed=True, variables=variables)
    w.close("complete")
    assert (folder / "run.h5").is_file()


def test_an_output_that_cannot_be_created_is_named_not_its_temporary_file(tmp_path,
                                                                         monkeypatch):
    """A new output is written under a hidden name beside it first; where that cannot be
    created (a read-only folder, /proc) the message named the hidden file,
    `.run.h5.<pid>.zn-pde-partial`, which the user never gave (a client program's finding)."""
    import os

    from zn_pde.io import OutputError, _hdf5

    real = os.open

    def refuse(path, *a, **k):
        if str(path).endswith(".zn-pde-partial"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(_hdf5.os, "open", refuse)
    out = tmp_path / "run.h5"
    with pytest.raises(OutputError) as e:
        Writer(out, config_toml="", coords={}, tissue_mask=np.ones(()), well_mixed=True,
               variables={"zn": {"units": "uM", "long_name": "zinc"}})
    assert str(e.value) == f"{out}: cannot open the output for writing (Permission denied)"
    assert list(tmp_path.iterdir()) == []


def test_a_sub_minute_exposure_is_named_in_seconds():
    """A 10 s exposure (duration_min = 1/6) was printed "0.166667 min" by `inspect` and in
    every figure's key; durations below a minute are now said in seconds, longer ones in min."""
    from zn_pde.inspect import duration_text

    assert duration_text(1 / 6) == "10 s"
    assert duration_text(0.5) == "30 s"
    assert duration_text(1.0) == "1 min"
    assert duration_text(2.5) == "2.5 min"
