"""The notebook API (public contract, "Python API"): `simulate` and `open_run`.

Checked against the HDF5 output itself: the variables, dimensions, coordinates and `units`
of `xarray.open_dataset(path, engine="h5netcdf")`, the fields of a file written by
`zn-pde run` (bit for bit: the in-memory run is the same computation), the stored config
(it resolves back to the config that was asked for and re-running it reproduces the run),
and the summary series against the fields they summarise. Bad input raises
`zn_pde.InputError` with the message the command line prints.
"""

from __future__ import annotations

import re
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import zn_pde
from zn_pde import _api
from zn_pde.cli import main
from zn_pde.config import dumps, load_config, resolve

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "zno_spheroid_ultrasound.toml"
# a 12^3 grid at 10 um, a 40 um spheroid, 1 h with the exposure at 0.5 h: seconds per run
SMALL = {"grid.shape": [12, 12, 12], "geometry.radius_um": 40.0, "time.end_h": 1.0,
         "time.save_every_min": 30.0, "ultrasound[0].start_h": 0.5}
SET = [f"--set={k}={v}" for k, v in SMALL.items()]
FIELDS = ("np", "zn", "ros", "np_int", "zn_cell", "gsh", "viability")
WELL_MIXED = {
    "grid": {"kind": "well_mixed"},
    "time": {"end_h": 1.0, "dt_s": 60.0, "save_every_min": 20.0},
    "geometry": {"kind": "uniform", "cell_volume_fraction": 0.002},
    "material": {"kind": "ZnO", "dose_ug_per_ml": 20.0},
}


def _series(ds: xr.Dataset) -> tuple[str, ...]:
    """The per-frame summary scalars (marked as such in the file)."""
    return tuple(n for n in ds.data_vars if ds[n].attrs.get("zn_pde_role") == "series")


@pytest.fixture(scope="module")
def in_memory(tmp_path_factory) -> xr.Dataset:
    """The small scenario run in memory, with the temporary folder watched for leftovers."""
    tmp = tmp_path_factory.mktemp("tmpdir")
    mp = pytest.MonkeyPatch()
    mp.setattr("tempfile.tempdir", str(tmp))
    try:
        ds = zn_pde.simulate(str(CONFIG), progress=False, **SMALL)
    finally:
        mp.undo()
    assert list(tmp.iterdir()) == []  # streamed to a temporary file, which is gone
    return ds


@pytest.fixture(scope="module")
def cli_file(tmp_path_factory) -> Path:
    """The same scenario written by `zn-pde run`."""
    out = tmp_path_factory.mktemp("cli") / "run.h5"
    assert main(["run", str(CONFIG), "-o", str(out), "--quiet", *SET]) == 0
    return out


def test_simulate_returns_the_output_with_hours_units_config_and_summary(in_memory):
    ds = in_memory
    c = load_config(CONFIG, [s.removeprefix("--set=") for s in SET])
    for name in FIELDS:
        assert ds[name].dims == ("time", "z", "y", "x")
        assert ds[name].dtype == np.float32
    assert ds["tissue_mask"].dims == ("z", "y", "x")
    for axis in "xyz":
        np.testing.assert_array_equal(ds[axis], (np.arange(12) + 0.5) * 10.0)
        assert ds[axis].attrs["units"] == "um"
    # every 30 min, and at the end of the 1 min exposure (its start, 0.5 h, is on the grid)
    np.testing.assert_array_equal(ds["time"], [0.0, 1800.0, 1860.0, 3600.0])
    assert ds["time"].attrs["units"] == "s"
    np.testing.assert_array_equal(ds["time_h"], ds["time"] / 3600.0)
    assert ds["time_h"].dims == ("time",) and ds["time_h"].attrs["units"] == "h"
    xr.testing.assert_identical(ds.sel(time_h=0.5), ds.isel(time=1))  # indexed by hours
    # hours as the dimension (README): xarray's swap_dims keeps time_h's index on the old
    # dimension, so `ds.swap_dims(time="time_h").sel(time_h=...)` fails ("Dimensions
    # {'time'} do not exist", xarray 2026.9); the README's spelling drops it first
    by_h = ds.drop_indexes("time_h").swap_dims(time="time_h")
    assert by_h["zn"].dims[0] == "time_h"
    np.testing.assert_array_equal(by_h.sel(time_h=0.5)["zn"], ds.isel(time=1)["zn"])
    for name, v in ds.variables.items():
        assert "units" in v.attrs, name
    assert ds["zn"].attrs["units"] == "uM" and ds["viability"].attrs["units"] == "1"
    # the stored config is the resolved config that was asked for, defaults included
    stored = resolve(tomllib.loads(ds.attrs["config"]), "<stored>")
    assert stored == {k: v for k, v in c.items() if not k.startswith("_")}
    assert ds.attrs["status"] == "complete" and ds.attrs["zn_pde_version"] == zn_pde.__version__
    # the summary series are there and summarise the fields (float32 means)
    tissue = ds["tissue_mask"] == 1
    assert {"tissue_mean_viability", "tissue_mean_zn", "tissue_mean_zn_cell"} <= set(_series(ds))
    for name in _series(ds):
        assert ds[name].dims == ("time",)
    for series, field in (("tissue_mean_viability", "viability"), ("tissue_mean_zn", "zn")):
        mean = ds[field].where(tissue).mean(("z", "y", "x"))
        np.testing.assert_allclose(ds[series], mean, rtol=1e-5, atol=1e-7)
    # the living cells' pools: over the living cells (each voxel weighted by its viability)
    living = ds["viability"].where(tissue)
    mean = (ds["zn_cell"] * living).sum(("z", "y", "x")) / living.sum(("z", "y", "x"))
    np.testing.assert_allclose(ds["tissue_mean_zn_cell"], mean, rtol=1e-5, atol=1e-7)
    # the run did something (zinc reached the cells; the 1 h viability loss of this tiny
    # spheroid is below float32 resolution once the exposure is stepped finely)
    assert float(ds["tissue_mean_zn_cell"][-1]) > 0.0
    assert "time" not in ds["ph"].dims and ds["ph"].attrs["units"] == "1"


def _but_when(attrs: dict) -> dict:
    """A run's attributes without the UTC time its history line starts with (two runs of
    the same config differ only there)."""
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
    assert re.match(stamp, attrs["history"]), attrs["history"]
    return {**attrs, "history": re.sub(stamp, "", attrs["history"], flags=re.M)}


def _same_time(ds: xr.Dataset, like: xr.Dataset) -> xr.Dataset:
    """`ds` with `like`'s history once they agree in everything but its times."""
    assert _but_when(ds.attrs) == _but_when(like.attrs)
    return ds.assign_attrs(history=like.attrs["history"])


@pytest.mark.parametrize(("kind", "particles"), [("radial", False), ("well_mixed", False),
                                                 ("radial", True)])
def test_a_passive_species_run_gives_its_summary_scalars_as_attributes(tmp_path, capsys,
                                                                        kind, particles):
    """The contract: `simulate` and `open_run` return the summary scalars as attributes or
    variables. A run of passive species only writes no series, and its summary (each
    species' final tissue and domain mean, by volume) was only printed (an outside contract
    audit): each species' variable carries them as `final_tissue_mean` (where there is
    tissue) and `final_domain_mean` (uM), the numbers `zn-pde run` prints. So does a
    species beside the particles, whose means were neither printed nor given (an outside
    user audit, 2026-12-08: a dye added to a ZnO run had no summary anywhere)."""
    grid = ({"kind": "radial", "shape": [12], "spacing_um": 10.0} if kind == "radial"
            else {"kind": "well_mixed"})
    raw = {"grid": grid, "time": {"end_h": 0.5, "save_every_min": 15.0},
           "geometry": ({"radius_um": 60.0} if kind == "radial" else {"kind": "uniform"}),
           "species": [{"name": "tracer", "diffusivity_um2_per_s": {"tissue": 5.0,
                                                                    "medium": 500.0},
                        "decay_per_s": 1e-4, "initial_uM": {"tissue": 0.0, "medium": 2.0},
                        "boundary_uM": 2.0}]}
    if particles:
        raw["material"] = {"kind": "ZnO", "dose_ug_per_ml": 10.0}
    ds = zn_pde.simulate(raw, progress=False)
    cfg = tmp_path / "tracer.toml"
    cfg.write_text(dumps(resolve(raw)))
    out = tmp_path / "tracer.h5"
    assert main(["run", str(cfg), "-o", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    with zn_pde.open_run(out) as opened:
        attrs = dict(opened["tracer"].attrs)
    final = ds["tracer"].isel(time=-1)
    if kind == "radial":
        r, h = ds["r"].values, 10.0
        w = (r + h / 2) ** 3 - (r - h / 2) ** 3
        tissue = ds["tissue_mask"].values == 1
        expect = {"final_tissue_mean": np.average(final.values[tissue], weights=w[tissue]),
                  "final_domain_mean": np.average(final.values, weights=w)}
        text = (f"tracer: final tissue mean {expect['final_tissue_mean']:.4g} uM, "
                f"domain mean {expect['final_domain_mean']:.4g} uM")
    else:
        expect = {"final_domain_mean": float(final)}
        text = f"tracer: final {expect['final_domain_mean']:.4g} uM"
    assert text in printed
    for got in (ds["tracer"].attrs, attrs):
        assert set(expect) <= set(got)
        for key, value in expect.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-6)
    assert ds["tracer"].attrs["units"] == "uM"


def test_help_states_the_return_type_and_units_of_what_is_returned(in_memory):
    """help(zn_pde.simulate) and help(zn_pde.open_run) say what they return and in which
    units, and those are the units the Dataset carries; every paragraph starts at the
    docstring's margin (a paragraph indented in the source shows indented in help())."""
    import inspect

    units = {"time": "s", "time_h": "h", "x": "um"}
    assert {k: in_memory[k].attrs["units"] for k in units} == units
    for function in (zn_pde.simulate, zn_pde.open_run):
        doc = inspect.getdoc(function)
        text = " ".join(doc.split())  # as help() wraps it, whatever the line breaks
        assert "Returns an `xarray.Dataset`" in text, function.__name__
        for stated in ("`time` (s)", "`time_h` (h", "`r` (µm", "`viability`, a fraction"):
            assert stated in text, (function.__name__, stated)
        indented = [p for p in doc.split("\n\n") if p.startswith(" ")]
        assert indented == [], (function.__name__, indented)


def test_the_documented_tissue_means_equal_the_stored_series(in_memory):
    """docs/outputs.md "Reading the file": the tissue mean of a field over the mask is the
    stored series, on the 3D grid a plain mean over the tissue voxels and on the radial grid
    a mean weighted by shell volume, as written there; the living cells' zinc weighted by
    their viability too. rtol 1e-5: float32 fields and series
    summed in another order."""
    tissue = in_memory["tissue_mask"] == 1
    for name in ("viability", "zn"):
        mean = in_memory[name].where(tissue).mean(("z", "y", "x"))
        np.testing.assert_allclose(mean, in_memory[f"tissue_mean_{name}"], rtol=1e-5)
    living = in_memory["viability"].where(tissue)  # the living cells' pools: weighted by V
    mean = (in_memory["zn_cell"] * living).sum(("z", "y", "x")) / living.sum(("z", "y", "x"))
    np.testing.assert_allclose(mean, in_memory["tissue_mean_zn_cell"], rtol=1e-5)
    ds = zn_pde.simulate(str(ROOT / "configs" / "zno_spheroid_radial.toml"), progress=False,
                         **{"time.end_h": 6.0})
    h = float(ds.r[1] - ds.r[0])
    shell = ((ds.r + h / 2) ** 3 - (ds.r - h / 2) ** 3).where(ds["tissue_mask"] == 1)
    for name in ("viability", "zn"):
        mean = (ds[name] * shell).sum("r") / shell.sum("r")
        np.testing.assert_allclose(mean, ds[f"tissue_mean_{name}"], rtol=1e-5)
    living = shell * ds["viability"]
    mean = (ds["zn_cell"] * living).sum("r") / living.sum("r")
    np.testing.assert_allclose(mean, ds["tissue_mean_zn_cell"], rtol=1e-5)
    plain = ds["viability"].where(ds["tissue_mask"] == 1).mean("r")
    assert float(plain[-1]) > float(ds["tissue_mean_viability"][-1]) + 0.05  # why it matters


def test_same_variables_coordinates_and_units_as_the_hdf5_file(in_memory, cli_file):
    with xr.open_dataset(cli_file, engine="h5netcdf") as raw:
        assert set(in_memory.data_vars) == set(raw.data_vars)
        assert set(in_memory.coords) == set(raw.coords) | {"time_h"}
        for name, v in raw.variables.items():
            assert in_memory[name].dims == v.dims, name
            assert in_memory[name].attrs == v.attrs, name
        assert _but_when(in_memory.attrs) == _but_when(raw.attrs)


def test_open_run_of_a_zn_pde_run_file_equals_the_in_memory_run(in_memory, cli_file):
    with zn_pde.open_run(cli_file) as ds:
        # same computation, same float32 fields: identical (not just close), but for the
        # time each run was made
        xr.testing.assert_identical(_same_time(ds.load(), in_memory), in_memory)
        assert list(ds.data_vars)[:len(FIELDS)] == list(FIELDS)  # model order, then series


def test_open_run_while_xarray_or_h5py_hold_the_file_open(in_memory, cli_file):
    """A notebook that opened the file with xarray or h5py (which take the HDF5 lock) can
    still open it with zn_pde.open_run (which takes none, to read runs in progress): the
    same data, in either order."""
    import h5py

    with xr.open_dataset(cli_file, engine="h5netcdf") as raw, \
            zn_pde.open_run(cli_file) as ds:
        np.testing.assert_array_equal(ds["viability"].values, raw["viability"].values)
    with h5py.File(cli_file, "r") as f, zn_pde.open_run(cli_file) as ds:
        np.testing.assert_array_equal(ds["viability"].values, f["viability"][...])
    with zn_pde.open_run(cli_file) as ds, \
            xr.open_dataset(cli_file, engine="h5netcdf") as raw:
        np.testing.assert_array_equal(ds["viability"].values, raw["viability"].values)


def test_simulate_with_out_writes_the_file_that_open_run_reads(in_memory, tmp_path):
    out = tmp_path / "kept.h5"
    ds = zn_pde.simulate(str(CONFIG), out=out, progress=False, **SMALL)
    assert out.is_file() and out.with_suffix(".xmf").is_file()
    xr.testing.assert_allclose(ds, in_memory, rtol=1e-6, atol=0)  # float32 round-off
    with zn_pde.open_run(out) as back:
        xr.testing.assert_identical(back.load(), ds)
    with pytest.raises(zn_pde.InputError, match="exists"):
        zn_pde.simulate(str(CONFIG), out=out, progress=False, **SMALL)
    with pytest.raises(zn_pde.InputError, match=r"\.h5"):
        zn_pde.simulate(WELL_MIXED, out=tmp_path / "run.xmf", progress=False)


def test_overwrite_replaces_a_file_that_a_dataset_still_reads(tmp_path):
    """A notebook keeps `open_run`'s lazy dataset and re-runs into the same file: the new run
    is written (HDF5 refused to truncate a file this process had open: OutputError), and the
    old dataset still reads the old run whole (truncated in place, a reader in another
    process, ParaView say, failed on the new run's chunks). Through a symbolic link, the
    file it names is replaced and the link kept."""
    out = tmp_path / "again.h5"
    first = zn_pde.simulate(WELL_MIXED, out=out, progress=False)
    with zn_pde.open_run(out) as held:
        second = zn_pde.simulate(WELL_MIXED, out=out, overwrite=True, progress=False,
                                 **{"material.dose_ug_per_ml": 40.0})
        assert float(second["np"][0]) == 40.0
        np.testing.assert_array_equal(held["zn"].values, first["zn"].values)
    with zn_pde.open_run(out) as back:
        np.testing.assert_array_equal(back["zn"].values, second["zn"].values)
    link = tmp_path / "link.h5"
    link.symlink_to(out)
    zn_pde.simulate(WELL_MIXED, out=link, overwrite=True, progress=False)
    assert link.is_symlink()
    with zn_pde.open_run(out) as back:
        np.testing.assert_array_equal(back["zn"].values, first["zn"].values)


def test_simulate_a_dict_well_mixed_and_its_stored_config_reproduces_it(tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    ds = zn_pde.simulate(WELL_MIXED, progress=False, **{"material.dose_ug_per_ml": 10})
    assert list(tmp_path.iterdir()) == []  # no file unless asked
    assert "dissolved_percent" in _series(ds)
    for name in FIELDS + _series(ds):
        assert ds[name].dims == ("time",), name
    assert not {"x", "y", "z", "tissue_mask"} & set(ds.variables)
    np.testing.assert_array_equal(ds["time_h"], [0.0, 1 / 3, 2 / 3, 1.0])
    assert tomllib.loads(ds.attrs["config"])["material"]["dose_ug_per_ml"] == 10.0
    assert 0.0 < float(ds["dissolved_percent"][-1]) < 100.0
    # a config read back from a dataset is a valid config dict: the same run again
    again = zn_pde.simulate(tomllib.loads(ds.attrs["config"]), progress=False)
    assert tomllib.loads(again.attrs["config"]) == tomllib.loads(ds.attrs["config"])
    again.attrs["config"] = ds.attrs["config"]  # the same config, sections in another order
    xr.testing.assert_identical(_same_time(again, ds), ds)
    # a run name a program put in the dict never becomes a path (it once did: '../x' wrote
    # x.h5 beside the temporary folder, a red-team run)
    import tempfile

    (tmp_path / "t").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "t"))
    zn_pde.simulate({**WELL_MIXED, "_name": "../escaped"}, progress=False)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["t"]


def test_a_loaded_config_that_left_out_an_exposure_runs_as_a_dict(tmp_path):
    """`load_config` records the entries the run leaves out (at or after time.end_h) for a
    plan's controls; the record once had integer keys, which `simulate` refuses in a dict
    ("key 0 (int) is not allowed"), so the README's `simulate(load_config(...))` failed."""
    late = {**WELL_MIXED, "ultrasound": [{"start_h": 5.0, "duration_min": 1.0,
                                          "intensity_W_per_cm2": 1.0}]}
    path = tmp_path / "late.toml"
    path.write_text(dumps(late))
    loaded = load_config(path)
    assert loaded["ultrasound"] == [] and loaded["_left_out"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", zn_pde.ConfigNote)
        ds = zn_pde.simulate(loaded, progress=False)
    assert "ultrasound" not in set(ds["event_kind"].values.astype(str))
    xr.testing.assert_allclose(ds["viability"], zn_pde.simulate(WELL_MIXED, progress=False)
                               ["viability"])


def test_a_dict_config_takes_numpy_numbers_and_tuples_as_the_overrides_do():
    """A program's dict with np.float64/np.int64 values or a tuple was refused ('not
    allowed') where the same values as overrides were taken (an outside contract audit):
    both now give the run of the plain numbers and lists."""
    plain = zn_pde.simulate(WELL_MIXED, progress=False)
    typed = {**WELL_MIXED, "material": {**WELL_MIXED["material"],
                                        "dose_ug_per_ml": np.float32(
                                            WELL_MIXED["material"]["dose_ug_per_ml"])},
             "time": {k: np.float64(v) for k, v in WELL_MIXED["time"].items()}}
    ds = zn_pde.simulate(typed, progress=False)
    assert tomllib.loads(ds.attrs["config"]) == tomllib.loads(plain.attrs["config"])
    radial = {"grid": {"kind": "radial", "shape": (np.int64(8),), "spacing_um": 10.0},
              "geometry": {"kind": "spheroid", "radius_um": 50.0},
              "time": {"end_h": 0.1}, "material": {"kind": "ZnO"}}
    ds = zn_pde.simulate(radial, progress=False)
    assert tomllib.loads(ds.attrs["config"])["grid"]["shape"] == [8]


def test_progress_is_shown_unless_turned_off(capsys):
    zn_pde.simulate(WELL_MIXED, **{"time.end_h": 0.5})
    assert "simulating: 0.5/0.5 h (100%)" in capsys.readouterr().err
    zn_pde.simulate(WELL_MIXED, progress=False, **{"time.end_h": 0.5})
    assert capsys.readouterr().err == ""


def _cli_error(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    prefix = f"zn-pde {argv[0]}: error: "
    assert err.startswith(prefix)
    return err[len(prefix):].strip()


def test_bad_config_raises_input_error_with_the_cli_message(tmp_path, capsys):
    # a bad override of a file: the same paragraph as `zn-pde run --set`
    with pytest.raises(zn_pde.InputError) as e:
        zn_pde.simulate(str(CONFIG), **{"time.dt_s": -1.0})
    assert "time.dt_s" in str(e.value) and str(CONFIG) in str(e.value)
    assert str(e.value) == _cli_error(["run", str(CONFIG), "--set", "time.dt_s=-1.0"], capsys)
    # a bad file
    bad = tmp_path / "bad.toml"
    bad.write_text('[material]\nkind = "ZnO"\ndose_ug_per_ml = 20.0\ncolour = "red"\n')
    with pytest.raises(zn_pde.InputError) as e:
        zn_pde.simulate(bad)
    assert "material.colour" in str(e.value)
    assert str(e.value) == _cli_error(["run", str(bad), "-o", str(tmp_path / "x.h5")], capsys)
    assert not (tmp_path / "x.h5").exists()
    # a bad dict, an unknown override key, a value that is no config value, a missing file
    cases = [({**WELL_MIXED, "grid": {"kind": "hexagonal"}}, {}, "grid.kind"),
             (WELL_MIXED, {"time.end_hours": 2.0}, "time.end_hours"),
             (WELL_MIXED, {"material.dose_ug_per_ml": object()}, "material.dose_ug_per_ml"),
             ({**WELL_MIXED, "sweep": {"material.dose_ug_per_ml": [5.0, 10.0]}}, {}, "sweep"),
             (tmp_path / "missing.toml", {}, "not found"),
             (42, {}, "config"),
             # a misspelt argument, an undotted key: named as such, with the likely intent
             (WELL_MIXED, {"progres": False}, r"unknown keyword argument.*progress=\?"),
             (WELL_MIXED, {"end_h": 2.0}, r"did you mean 'time.end_h'"),
             # a dict key that is not text (TOML's keys are): named, not a TypeError or
             # AttributeError from the config checks
             ({**WELL_MIXED, 1: {}}, {}, r"key '1'.*keys are strings"),
             ({**WELL_MIXED, "grid": {"kind": "well_mixed", 2: 0}}, {}, r"key 'grid\.2'"),
             ({**WELL_MIXED, "sweep": {3: [1.0]}}, {}, r"key 'sweep\.3'"),
             (WELL_MIXED, {"dose": [{4: 1.0}]}, r"key 'dose\[0\]\.4'"),
             # a key with its value written into it (once read as the value "3=0.2")
             (WELL_MIXED, {"time.end_h=3": 0.2}, r"override key 'time.end_h=3' contains '='"),
             # a flag given as text: "no" is truthy, it would overwrite an existing run
             (WELL_MIXED, {"overwrite": "no"}, r"overwrite = 'no' must be True or False"),
             (WELL_MIXED, {"progress": "no"}, r"progress = 'no' must be True or False"),
             # an output that is no path: named, not a TypeError from pathlib
             (WELL_MIXED, {"out": 5}, r"out = 5 \(int\) is not a file path")]
    for config, overrides, words in cases:
        with pytest.raises(zn_pde.InputError, match=words):
            zn_pde.simulate(config, **{"progress": False, **overrides})


def test_open_run_rejects_what_is_not_a_run(tmp_path):
    with pytest.raises(zn_pde.InputError, match="not found"):
        zn_pde.open_run(tmp_path / "none.h5")
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(zn_pde.InputError, match="not an HDF5 file"):
        zn_pde.open_run(text)
    import h5py

    empty_sweep = tmp_path / "sweep.h5"
    with h5py.File(empty_sweep, "w") as f:
        f.attrs["format"] = "zn_pde_sweep"
    with pytest.raises(zn_pde.InputError, match="sweep output, but it holds no sweep points"):
        zn_pde.open_run(empty_sweep)
    for not_a_path in (42, None):  # a clear InputError, not a TypeError from pathlib
        with pytest.raises(zn_pde.InputError, match="open_run takes a file path"):
            zn_pde.open_run(not_a_path)


def test_open_run_of_a_damaged_run_file_is_an_input_error_naming_it(cli_file, tmp_path):
    """A zn-pde file whose HDF5 metadata xarray cannot follow (here the field `zn` removed,
    leaving the dimension scales' references to it dangling) is an InputError naming the
    file, as `zn-pde inspect` reports a damaged file, not h5py's KeyError from deep inside
    xarray."""
    import shutil

    import h5py

    path = tmp_path / "damaged.h5"
    shutil.copy(cli_file, path)
    with h5py.File(path, "r+") as f:
        del f["zn"]
    with pytest.raises(zn_pde.InputError, match="it is damaged") as caught:
        zn_pde.open_run(path)
    assert str(path) in str(caught.value)


def test_open_run_reads_again_after_an_hdf5_error_as_inspect_does(cli_file, monkeypatch):
    """Without SWMR a read that meets a frame being written can fail once inside h5py
    (docs/outputs.md); open_run tries again a moment later, as `zn-pde inspect` does. Here the
    first open fails inside h5py (a file that is not there), the second is the real one."""
    import h5py

    real, calls = xr.open_dataset, []

    def flaky(path, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            h5py.File(Path(path).with_name("not_there.h5"), "r")  # raises inside h5py
        return real(path, **kwargs)

    monkeypatch.setattr(xr, "open_dataset", flaky)
    with zn_pde.open_run(cli_file) as ds, h5py.File(cli_file, "r") as f:
        assert len(calls) == 2
        np.testing.assert_array_equal(ds["time_h"].values, f["time"][:] / 3600.0)


def test_a_failed_run_without_out_keeps_its_frames_in_the_error(tmp_path, monkeypatch):
    """A run-time failure of an in-memory run: the frames so far come with the error, and
    the message no longer points at the deleted temporary file."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    real = _api.simulate_to_file

    def interrupted(config, out, **kw):
        real(config, out, **kw)
        raise zn_pde.Interrupted(f"interrupted by SIGINT; 1 frame (0 to 1 h of 2 h) saved "
                                 f"in {out}; continue with: zn-pde run --resume {out}")

    monkeypatch.setattr(_api, "simulate_to_file", interrupted)
    with pytest.raises(zn_pde.Interrupted) as e:  # a RunError, its kind kept
        zn_pde.simulate(WELL_MIXED, progress=False)
    assert str(tmp_path) not in str(e.value) and "1 frame (0 to 1 h of 2 h) saved (" in str(
        e.value)
    assert e.value.dataset.sizes["time"] == 4
    assert list(tmp_path.iterdir()) == []


def test_closing_what_open_run_returned_releases_the_file(cli_file, tmp_path):
    """`close()` and `with` release the file: a handle left open in the process would keep
    HDF5 from opening it for writing (and would show later readers in this process the file
    as it was when opened, not the frames a run has written since)."""
    import shutil

    import h5py

    path = tmp_path / "copy.h5"
    shutil.copy(cli_file, path)
    with zn_pde.open_run(path) as ds:
        ds["viability"].values  # noqa: B018 (read through the handle)
    with h5py.File(path, "r+"):
        pass
    ds = zn_pde.open_run(path)
    ds.close()
    with h5py.File(path, "r+"):
        pass


def test_open_run_opens_a_sweep_s_file_as_written(tmp_path):
    """A sweep's file (written by `zn-pde run` of a config with [sweep]) opens with its
    (sweep, time) dims, its swept key as a coordinate and `time_h`; each point's series equals
    its own single run's (float32 round-off); close() releases the file."""
    import h5py

    from zn_pde.config import dumps

    config = tmp_path / "sweep.toml"
    config.write_text(dumps({**WELL_MIXED,
                             "sweep": {"material.dose_ug_per_ml": [5.0, 40.0]}}))
    out = tmp_path / "sweep.h5"
    assert main(["run", str(config), "-o", str(out), "--quiet", "--no-control"]) == 0
    with zn_pde.open_run(out) as ds:
        assert ds["tissue_mean_viability"].dims == ("sweep", "time")
        np.testing.assert_array_equal(ds["sweep_material_dose_ug_per_ml"].values, [5.0, 40.0])
        np.testing.assert_allclose(ds["time_h"].values, ds["time"].values / 3600.0)
        swept = ds["tissue_mean_viability"].values
    for i, dose in enumerate((5.0, 40.0)):
        one = zn_pde.simulate(dict(WELL_MIXED), progress=False,
                              **{"material.dose_ug_per_ml": dose})
        np.testing.assert_allclose(swept[i], one["tissue_mean_viability"].values, rtol=1e-5)
    with h5py.File(out, "r+"):
        pass


def test_the_public_functions_annotations_resolve():
    """Editors, type checkers and documentation tools (`typing.get_type_hints`, as
    `help()` and IDEs use) resolve every annotation of the exported API: an annotation
    naming a module imported only under TYPE_CHECKING raised NameError."""
    import typing

    for name in zn_pde.__all__:
        value = getattr(zn_pde, name)
        if callable(value) and not isinstance(value, type):
            hints = typing.get_type_hints(value)
            assert "return" in hints, name
    assert typing.get_type_hints(zn_pde.simulate)["return"] is xr.Dataset
    assert typing.get_type_hints(zn_pde.open_run)["return"] is xr.Dataset



def test_overrides_of_a_run_s_config_bring_the_changed_material_s_constants(tmp_path):
    """simulate(tomllib.loads(ds.attrs["config"]), **{"material.kind": "ZnO2"}) ran "ZnO2"
    with ZnO's band gap, solubility and no H2O2 co-product, silently: the run's config text
    holds every constant written out, and the overrides did not derive them again as
    docs/config.md says they do (an outside audit, 2026-12-06). Now they do, from a dict and
    from a file of that text alike (a tortuosity's tissue diffusivities and a new grid's
    centre too); a constant set to another value stays; without overrides nothing changes."""
    c = {"grid": {"kind": "well_mixed"}, "geometry": {"kind": "medium"},
         "time": {"end_h": 0.5, "dt_s": 60.0, "save_every_min": 30.0},
         "material": {"kind": "ZnO", "dose_ug_per_ml": 10.0}}
    zno = zn_pde.simulate(c, progress=False)
    resolved = tomllib.loads(zno.attrs["config"])
    assert zn_pde.simulate(resolved, progress=False).attrs["config"] == zno.attrs["config"]
    direct = zn_pde.simulate({**c, "material": {"kind": "ZnO2", "dose_ug_per_ml": 10.0}},
                             progress=False)
    path = tmp_path / "resolved.toml"
    path.write_text(zno.attrs["config"])
    for config in (resolved, path):
        zno2 = zn_pde.simulate(config, progress=False, **{"material.kind": "ZnO2"})
        assert zno2.attrs["config"] == direct.attrs["config"]
        assert float(zno2["h2o2"].values[-1]) > 0  # ZnO2 releases its co-product
        np.testing.assert_array_equal(zno2["zn"].values, direct["zn"].values)
    # on a grid: tissue diffusivities follow the tortuosity, the centre the grid; a constant
    # the config sets to its own value stays
    grid = {"grid": {"kind": "cartesian", "shape": [8, 8, 8], "spacing_um": 20.0},
            "geometry": {"kind": "spheroid", "radius_um": 40.0},
            "time": {"end_h": 0.1, "dt_s": 60.0}, "material": {"kind": "ZnO"},
            "kinetics": {"mt_capacity_uM": 33.0}}
    text = zn_pde.simulate(grid, progress=False).attrs["config"]
    changed = {"tissue.tortuosity": 3.0, "grid.shape": [10, 10, 10]}
    got = tomllib.loads(zn_pde.simulate(tomllib.loads(text), progress=False,
                                        **changed).attrs["config"])
    want = zn_pde.config.resolve({**grid, "tissue": {"tortuosity": 3.0},
                                  "grid": {**grid["grid"], "shape": [10, 10, 10]}})
    assert got["kinetics"] == want["kinetics"] and got["kinetics"]["mt_capacity_uM"] == 33.0
    assert got["geometry"]["center_um"] == want["geometry"]["center_um"] == [100.0] * 3


def test_simulate_issues_the_notes_run_prints_as_config_note_warnings(capsys):
    """What `zn-pde run` notes on a config (here light below ZnO's band gap, which activates
    no particle) reaches a Python user as a `ConfigNote` warning with the same text, and the
    run still happens; a config without notes warns nothing."""
    vial = {"time.end_h": 0.5, "time.save_every_min": 15.0, "material.dose_ug_per_ml": 5.0}
    red = [{"start_h": 0.1, "duration_min": 5.0, "wavelength_nm": 600.0,
            "irradiance_mW_per_cm2": 10.0}]
    with pytest.warns(zn_pde.ConfigNote, match=r"light\[0\] at 600 nm .* below the band gap"):
        ds = zn_pde.simulate("configs/zno_release_vial.toml", progress=False, light=red,
                             **vial)
    assert float(ds.time_h[-1]) == 0.5  # it ran
    with warnings.catch_warnings(record=True) as caught:  # the suite ignores ConfigNote
        warnings.simplefilter("always")
        zn_pde.simulate("configs/zno_release_vial.toml", progress=False, **vial)
    assert not [w for w in caught if w.category is zn_pde.ConfigNote]
    assert main(["validate", "configs/zno_release_vial.toml", "--set=time.end_h=0.5",
                 "--set=light=[{start_h=0.1, duration_min=5.0, wavelength_nm=600.0, "
                 "irradiance_mW_per_cm2=10.0}]"]) == 0
    assert "light[0] at 600 nm" in capsys.readouterr().out.replace("\n# ", " ")


def test_overrides_of_a_run_s_config_derive_the_volume_fractions_and_medium_limits_again():
    """On a resolved config read back as text, `tissue.extracellular_volume_fraction` (1 -
    the cell fraction) and the `[medium]` limits of `medium.composition` stayed as written:
    `geometry.cell_volume_fraction = 0.5` kept the fluid at 0.2 (another run than the same
    override of the original config), the fluid fraction alone was refused (0.4 + 0.8 > 1)
    and `medium.composition = "phosphate_saline"` kept culture's zinc complexation (found by
    fuzzing simulate's overrides against round trips, 2026-12-06). Now each run's config
    equals that of the original config with the same override."""
    c = {"grid": {"kind": "radial", "shape": [6], "spacing_um": 10.0},
         "geometry": {"kind": "spheroid", "radius_um": 30.0},
         "time": {"end_h": 0.05, "dt_s": 60.0, "save_every_min": 3.0},
         "material": {"kind": "ZnO", "dose_ug_per_ml": 10.0}}
    resolved = tomllib.loads(zn_pde.simulate(c, progress=False).attrs["config"])
    for key, value in (("geometry.cell_volume_fraction", 0.5),
                       ("tissue.extracellular_volume_fraction", 0.4),
                       ("medium.composition", "phosphate_saline")):
        again = zn_pde.simulate(resolved, progress=False, **{key: value})
        direct = zn_pde.simulate(c, progress=False, **{key: value})
        assert again.attrs["config"] == direct.attrs["config"], key
        np.testing.assert_array_equal(again["zn"].values, direct["zn"].values)
    # a pair set by hand (0.3 + 0.7) keeps the cell fraction; the fluid still follows it
    pair = {**resolved, "geometry": {**resolved["geometry"], "cell_volume_fraction": 0.7},
            "tissue": {**resolved["tissue"], "extracellular_volume_fraction": 0.3}}
    got = tomllib.loads(zn_pde.simulate(pair, progress=False, **{"ph.medium": 7.2})
                        .attrs["config"])
    assert got["geometry"]["cell_volume_fraction"] == 0.7
    assert got["tissue"]["extracellular_volume_fraction"] == 0.3


def test_an_override_that_is_no_config_value_names_the_config_as_every_error_does():
    """simulate's `InputError` for an override value no TOML can hold (None, a complex
    number), a table key that is not text or an override key with '=' said only "key
    'time.end_h': value None cannot be a config value", without the config it belongs to,
    where every other config error (and the command line's) starts with the file (found
    by fuzzing simulate's overrides, 2026-12-06)."""
    c = {"grid": {"kind": "well_mixed"}, "material": {"kind": "ZnO"}}
    for config, label in ((c, "<config dict>"), ("configs/zno_release_vial.toml",
                                                  "configs/zno_release_vial.toml"),
                          (None, "<built-in default>")):
        for key, value in (("time.end_h", None), ("ph.medium", 1j), ("kinetics", {1: 2.0}),
                           ("time.end_h=2", 2.0)):
            with pytest.raises(zn_pde.InputError) as e:
                zn_pde.simulate(config, progress=False, **{key: value})
            assert str(e.value).startswith(f"{label}: key "), (key, str(e.value))


def test_a_keyword_override_s_bad_key_path_names_the_key_without_cli_wording(capsys):
    """A keyword override past the end of an array, with a negative index, or into a number
    said "--set index 5 out of range", "--set index -1: ..." and "--set key goes inside a
    value that is not a table" from `simulate`, where no `--set` was typed (a client audit,
    2026-12-07). The message names the key as given, and is still the command line's."""
    for key in ("ultrasound[5].start_h", "ultrasound.5.start_h", "ultrasound[-1].start_h",
                "time.end_h.x"):
        with pytest.raises(zn_pde.InputError) as e:
            zn_pde.simulate(str(CONFIG), progress=False, **{key: 1.0})
        text = str(e.value)
        assert f"key '{key}'" in text and "--set" not in text, text
        assert text == _cli_error(["run", str(CONFIG), "--set", f"{key}=1.0"], capsys)


def test_simulate_to_file_and_simulate_control_refuse_a_config_that_is_not_resolved(
        tmp_path, cli_file):
    """`zn_pde.simulate_to_file` and `simulate_control` (public, README "The control run")
    take the resolved config of `zn_pde.load_config`. Given a TOML path, as `simulate`
    takes, or a raw dict, they failed deep inside with a TypeError ("string indices must be
    integers"), an AttributeError ("'str' object has no attribute 'get'") or a KeyError
    ('geometry') (a client audit, 2026-12-07). Now an `InputError` names the argument and
    what to pass, and no file is written."""
    out = tmp_path / "x.h5"
    raw = {"grid": {"kind": "well_mixed"}, "material": {"kind": "ZnO"}}
    for call in (lambda c: zn_pde.simulate_to_file(c, out, progress=False),
                 lambda c: zn_pde.simulate_control(c, cli_file, progress=False)):
        for config, words in ((str(CONFIG), r"key 'config'.*is a str, not.*load_config"),
                              (CONFIG, r"key 'config'.*is a PosixPath, not.*load_config"),
                              (raw, r"key 'config'.*not a resolved config.*\[geometry\]"
                                    r".*load_config")):
            with pytest.raises(zn_pde.InputError, match=words):
                call(config)
    assert not out.exists()
    # the resolved config still runs
    c = load_config(ROOT / "configs" / "zno_release_vial.toml",
                    ["time.end_h=0.5", "time.save_every_min=30"])
    assert zn_pde.simulate_to_file(c, out, progress=False).path == out


def test_a_fluid_fraction_written_alone_is_kept_when_an_override_sets_the_cell_fraction(
        tmp_path):
    """A config that writes `tissue.extracellular_volume_fraction = 0.2` without
    `geometry.cell_volume_fraction` set the fluid by hand (a resolved config read back
    writes both): simulate's override `geometry.cell_volume_fraction = 0.7` re-derived it to
    0.3, because 0.2 is also 1 minus the default cell fraction (0.21 was kept), where `--set`
    keeps it. The fluid is re-derived only where the pair is written, as a resolved config
    writes it."""
    c = {"grid": {"kind": "radial", "shape": [6], "spacing_um": 10.0},
         "geometry": {"kind": "spheroid", "radius_um": 30.0},
         "time": {"end_h": 0.05, "dt_s": 60.0, "save_every_min": 3.0},
         "material": {"kind": "ZnO", "dose_ug_per_ml": 10.0},
         "tissue": {"extracellular_volume_fraction": 0.2}}
    path = tmp_path / "fluid.toml"
    path.write_text(dumps(c))
    cli = load_config(path, ["geometry.cell_volume_fraction=0.7"])
    assert cli["tissue"]["extracellular_volume_fraction"] == 0.2
    for config in (c, path):
        got = tomllib.loads(zn_pde.simulate(config, progress=False,
                                            **{"geometry.cell_volume_fraction": 0.7})
                            .attrs["config"])
        assert got["geometry"]["cell_volume_fraction"] == 0.7, config
        assert got["tissue"]["extracellular_volume_fraction"] == 0.2, config
