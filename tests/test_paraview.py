"""ParaView reads the XDMF sidecar and the VTK export: every reader, every field, the values
h5py reads.

A small ZnO run (a non-cubic grid and an off-centre spheroid, so a swapped axis or a wrong
origin shows; an ultrasound burst, so frames differ; a passive species) is opened with
ParaView's own pvpython in a subprocess, through `OpenDataFile` (pvpython's choice of
reader) and each XDMF reader by name: "XDMF Reader" (the XDMF 2 library), "Xdmf3 Reader S"
and "Xdmf3 Reader T" (the XDMF 3 library). At two saved frames each field must come back
with exactly nz*ny*nx values equal to h5py's within float32 round-off, on the right mesh and
with the run's times, and neither HDF5 nor XDMF may print an error (ParaView 5.11 read the previous
sidecar with "Can't Write Temp Dataset" and nz times too many values, or dropped the
fields).

The VTK export (`zn-pde export RUN.h5 --vtk`: a .pvd of .vti ImageData) is opened the same
way with ParaView's PVD reader: the times, the voxel grid (cells) and, at two frames, every
field equal to h5py's bit for bit (the float32 arrays are written unchanged).

Skipped only where `pvpython` is not installed; CI installs it (Debian's python3-paraview,
see .ci/run) and sets ZN_PDE_REQUIRE_PARAVIEW=1, which turns that skip into a failure.
pvpython is started from another folder than the run's, so the HDF5 path in the sidecar
must resolve against the sidecar's folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from zn_pde._run import simulate_to_file
from zn_pde.config import load_config

PVPYTHON = shutil.which("pvpython")

H = 40.0  # um
CONFIG = f"""
[grid]
shape = [12, 10, 8]
spacing_um = {H}

[time]
end_h = 0.5
dt_s = 60.0
save_every_min = 10.0

[geometry]
kind = "spheroid"
radius_um = 120.0
center_um = [260.0, 180.0, 140.0]

[material]
kind = "ZnO"
dose_ug_per_ml = 20.0

[[ultrasound]]
start_h = 0.1
duration_min = 2.0
intensity_W_per_cm2 = 1.5

[[species]]
name = "tracer"
diffusivity_um2_per_s = {{ tissue = 50.0, medium = 500.0 }}
decay_per_s = {{ tissue = 0.0, medium = 0.0 }}
initial_uM = {{ tissue = 0.0, medium = 1.0 }}
boundary_uM = 1.0
"""
# time-varying (zn changes between the frames read; viability is NaN in the medium) and static
FIELDS = ("zn", "ros", "viability", "tracer", "tissue_mask", "ph")
READERS = ("OpenDataFile", "XDMFReader", "Xdmf3ReaderS", "Xdmf3ReaderT")

# Runs inside pvpython (ParaView's Python): argv = xmf, output folder, fields, frame indices.
PV_SCRIPT = r'''
import json, sys
import numpy as np
from paraview import simple as pv
from paraview import servermanager as sm
from vtk.util.numpy_support import vtk_to_numpy

xmf, out, fields, frames = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
frames = [int(i) for i in frames.split(",")]
make = {"OpenDataFile": lambda: pv.OpenDataFile(xmf),
        "XDMFReader": lambda: pv.XDMFReader(FileNames=[xmf]),
        "Xdmf3ReaderS": lambda: pv.Xdmf3ReaderS(FileName=[xmf]),
        "Xdmf3ReaderT": lambda: pv.Xdmf3ReaderT(FileName=[xmf])}
report = {}
for name, new in make.items():
    reader = new()
    times = reader.TimestepValues
    times = [float(t) for t in times] if hasattr(times, "__len__") else [float(times)]
    entry = report[name] = {"proxy": reader.GetXMLName(), "times": times, "frames": {}}
    for i in frames:
        reader.UpdatePipeline(times[i])
        data = sm.Fetch(reader)
        if data.IsA("vtkCompositeDataSet"):
            it = data.NewIterator()
            it.InitTraversal()
            data = it.GetCurrentDataObject()
        frame = entry["frames"][str(i)] = {
            "class": data.GetClassName(), "dims": list(data.GetDimensions()),
            "origin": list(data.GetOrigin()), "spacing": list(data.GetSpacing()), "n": {}}
        for field in fields:
            array = data.GetPointData().GetArray(field)
            if array is None:
                frame["n"][field] = None
                continue
            values = vtk_to_numpy(array)
            frame["n"][field] = int(values.size)
            np.save(f"{out}/{name}_{field}_{i}.npy", values)
            print(f"{name:13s} ({entry['proxy']}) t = {times[i]:7.1f} s {field:12s} "
                  f"n = {values.size} mean = {np.nanmean(values):.9g} "
                  f"first = {values[:3].tolist()}", flush=True)
json.dump(report, open(f"{out}/report.json", "w"))
'''


@pytest.fixture(scope="module")
def pvpython() -> str:
    if PVPYTHON is None:
        if os.environ.get("ZN_PDE_REQUIRE_PARAVIEW") == "1":
            pytest.fail("pvpython not on PATH but ZN_PDE_REQUIRE_PARAVIEW=1 (CI): install "
                        "ParaView (Debian: apt-get install python3-paraview)")
        pytest.skip("pvpython (ParaView) not installed")
    return PVPYTHON


@pytest.fixture(scope="module")
def run(pvpython, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("paraview")
    (d / "run").mkdir()
    (d / "run" / "pv.toml").write_text(CONFIG)
    out = d / "run" / "pv.h5"
    simulate_to_file(load_config(d / "run" / "pv.toml"), out, progress=False)
    return out


def _read_with_paraview(pvpython: str, xmf: Path, tmp_path: Path, fields, frames
                        ) -> tuple[dict, Path]:
    """Run PV_SCRIPT in pvpython on `xmf`: every reader's report and the folder of the
    values it read, after checking that ParaView exited cleanly and complained of nothing."""
    script = tmp_path / "read_xmf.py"
    script.write_text(PV_SCRIPT)
    got = tmp_path / "got"
    got.mkdir()
    proc = subprocess.run(
        [pvpython, "--no-mpi", "--force-offscreen-rendering", str(script), str(xmf), str(got),
         ",".join(fields), ",".join(map(str, frames))],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    sys.stdout.write(output)  # shown with -s or on failure: what ParaView read
    assert proc.returncode == 0, output
    for complaint in ("HDF5-DIAG", "XDMF Error", "Skipping unrecognized", "ERR|"):
        assert complaint not in output, f"ParaView complained ({complaint!r}):\n{output}"
    report = json.loads((got / "report.json").read_text())
    assert set(report) == set(READERS)
    return report, got


def test_paraview_reads_every_field_at_each_frame_as_h5py_does(pvpython, run, tmp_path):
    with h5py.File(run, "r") as f:
        times = f["time"][:]
        x, y, z = (f[c][:] for c in ("x", "y", "z"))
        stored = {name: f[name][...] for name in FIELDS}
    frames = (1, len(times) - 1)
    assert frames[0] < frames[1]
    # uneven saved times: every 10 min and at the start and end of the exposure (6, 8 min)
    np.testing.assert_allclose(times, [0, 360, 480, 600, 1200, 1800])
    report, got = _read_with_paraview(pvpython, run.with_suffix(".xmf"), tmp_path, FIELDS,
                                      frames)
    assert report["OpenDataFile"]["proxy"] in {"XdmfReader", "Xdmf3ReaderS", "Xdmf3ReaderT"}
    n = z.size * y.size * x.size
    for reader, entry in report.items():
        np.testing.assert_allclose(entry["times"], times, rtol=1e-12, err_msg=reader)
        for i in frames:
            frame = entry["frames"][str(i)]
            # VTK lists x y z; nodes are the voxel centres
            assert frame["dims"] == [x.size, y.size, z.size], (reader, frame)
            np.testing.assert_allclose(frame["origin"], [x[0], y[0], z[0]], err_msg=reader)
            np.testing.assert_allclose(frame["spacing"], [H, H, H], err_msg=reader)
            for name in FIELDS:
                assert frame["n"][name] == n, (reader, i, name, frame["n"][name], n)
                values = np.load(got / f"{reader}_{name}_{i}.npy")
                want = stored[name][i] if stored[name].ndim == 4 else stored[name]
                # VTK's point order (x fastest) is the C order of the (z, y, x) array
                np.testing.assert_allclose(values, want.ravel(), rtol=1e-6, atol=0,
                                           equal_nan=True, err_msg=f"{reader} {name} {i}")
        # the frames read are different frames, not one frame twice
        first, last = (np.load(got / f"{reader}_zn_{i}.npy") for i in frames)
        assert not np.allclose(first, last, rtol=1e-3), reader


def test_paraview_reads_a_radial_run_as_a_line_of_shells(pvpython, tmp_path):
    """A radial run's sidecar: every ParaView reader sees each field on a 1 x 1 x n line of
    nodes from r₀ in steps of the shell thickness, the values as h5py reads them (rtol
    1e-6), with no complaint."""
    from zn_pde import load_config

    out = tmp_path / "radial.h5"
    c = load_config("configs/zno_spheroid_radial.toml",
                    ["grid.shape=[12]", "grid.spacing_um=25.0", "geometry.radius_um=200.0",
                     "time.end_h=5", "time.save_every_min=60"])
    simulate_to_file(c, out, progress=False)
    fields = ("zn", "viability", "tissue_mask", "ph")
    with h5py.File(out, "r") as f:
        r = f["r"][:]
        stored = {name: f[name][...] for name in fields}
        n_times = f["time"].size
    frames = (1, n_times - 1)
    report, got = _read_with_paraview(pvpython, out.with_suffix(".xmf"), tmp_path, fields,
                                      frames)
    for reader, entry in report.items():
        for i in frames:
            frame = entry["frames"][str(i)]
            assert frame["dims"] == [r.size, 1, 1], (reader, frame)
            assert frame["origin"][0] == pytest.approx(r[0])
            assert frame["spacing"][0] == pytest.approx(r[1] - r[0])
            for name in fields:
                values = np.load(got / f"{reader}_{name}_{i}.npy")
                want = stored[name][i] if stored[name].ndim == 2 else stored[name]
                np.testing.assert_allclose(values, want, rtol=1e-6, equal_nan=True,
                                           err_msg=f"{reader} {name} {i}")


def test_paraview_reads_a_run_whose_name_starts_with_a_non_ascii_letter(pvpython, tmp_path):
    """An output named `µrun.h5`: ParaView's "XDMF Reader" (XDMF 2) dropped the data file
    name's leading non-ASCII letter (it opened `run.h5`: HDF5-DIAG, and garbage values such
    as 4e22 instead of the field); the sidecar refers to such a file as `./µrun.h5`, which
    every reader reads."""
    from zn_pde import load_config

    out = tmp_path / "\u00b5run.h5"
    c = load_config("configs/zno_spheroid_radial.toml",
                    ["grid.shape=[8]", "grid.spacing_um=40.0", "geometry.radius_um=150.0",
                     "time.end_h=1", "time.save_every_min=30", "ultrasound=[]"])
    simulate_to_file(c, out, progress=False, control=False)
    with h5py.File(out, "r") as f:
        zn = f["zn"][1]
    report, got = _read_with_paraview(pvpython, out.with_suffix(".xmf"), tmp_path, ("zn",),
                                      (1,))
    for reader in report:
        np.testing.assert_allclose(np.load(got / f"{reader}_zn_1.npy"), zn, rtol=1e-6,
                                   err_msg=reader)


# Runs inside pvpython: argv = scripts/paraview_screenshot.py, xmf, output folder. The plane
# the screenshot script colours, at the last frame, without rendering it.
PV_PLANE_SCRIPT = r'''
import importlib.util, json, sys
import numpy as np
from paraview import simple as pv
from paraview import servermanager as sm
from vtk.util.numpy_support import vtk_to_numpy

path, xmf, out = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("paraview_screenshot", path)
shot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shot)
reader = shot._open(pv, xmf)
t = float(reader.TimestepValues[-1])
reader.UpdatePipeline(t)
image = shot._first_block(sm.Fetch(reader))
plane = shot._plane(pv, reader, image, False, shot._centre(image, False))
plane.UpdatePipeline(t)
cut = shot._first_block(sm.Fetch(plane))
np.save(f"{out}/points.npy", np.array([cut.GetPoint(i) for i in range(cut.GetNumberOfPoints())]))
np.save(f"{out}/viability.npy", vtk_to_numpy(cut.GetPointData().GetArray("viability")))
'''


def test_screenshot_script_colours_every_voxel_of_its_plane_as_h5py_reads_it(
        pvpython, run, tmp_path):
    """scripts/paraview_screenshot.py colours the x-z plane of the sidecar's nodes through
    the spheroid centre: each node of that plane must hold the stored value, NaN only in the
    medium. A Slice through the plane of nodes interpolated each node with its neighbours off
    the plane at weight 0, and 0 x NaN is NaN: tissue voxels with medium above or below
    them, at the rim where the stimuli kill most, came out NaN (grey), and the colour range
    printed missed the lowest viability."""
    script = tmp_path / "plane.py"
    script.write_text(PV_PLANE_SCRIPT)
    shot = Path(__file__).parents[1] / "scripts" / "paraview_screenshot.py"
    proc = subprocess.run([pvpython, "--no-mpi", str(script), str(shot),
                           str(run.with_suffix(".xmf")), str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    points = np.load(tmp_path / "points.npy")
    got = np.load(tmp_path / "viability.npy")
    with h5py.File(run, "r") as f:
        x, y, z = (f[c][:] for c in ("x", "y", "z"))
        viability = f["viability"][-1]
        tissue = f["tissue_mask"][...] == 1
    j = int(np.argmin(np.abs(y - points[0, 1])))
    np.testing.assert_allclose(points[:, 1], y[j])
    # the case in question: tissue voxels of the plane with medium above or below them
    assert (tissue[:, j] & ~(tissue[:, j - 1] & tissue[:, j + 1])).any()
    i = np.rint((points[:, 0] - x[0]) / H).astype(int)
    k = np.rint((points[:, 2] - z[0]) / H).astype(int)
    assert sorted(zip(k, i, strict=True)) == list(np.ndindex(z.size, x.size))  # each node once
    np.testing.assert_allclose(got, viability[k, j, i], rtol=1e-6, equal_nan=True)


# --- VTK export (zn-pde export --vtk): a .pvd time series of .vti ImageData -----------------

# Runs inside pvpython: argv = pvd, output folder, fields, frame indices.
PV_VTK_SCRIPT = r'''
import json, sys
import numpy as np
from paraview import simple as pv
from paraview import servermanager as sm
from vtk.util.numpy_support import vtk_to_numpy

pvd, out, fields, frames = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
frames = [int(i) for i in frames.split(",")]
reader = pv.OpenDataFile(pvd)
times = [float(t) for t in reader.TimestepValues]
report = {"proxy": reader.GetXMLName(), "times": times, "frames": {}}
for i in frames:
    reader.UpdatePipeline(times[i])
    data = sm.Fetch(reader)
    frame = report["frames"][str(i)] = {
        "class": data.GetClassName(), "dims": list(data.GetDimensions()),
        "origin": list(data.GetOrigin()), "spacing": list(data.GetSpacing()),
        "cells": data.GetNumberOfCells(), "points_arrays": data.GetPointData().GetNumberOfArrays(),
        "time_value": float(vtk_to_numpy(data.GetFieldData().GetArray("TimeValue"))[0]),
        "n": {}}
    for field in fields:
        array = data.GetCellData().GetArray(field)
        if array is None:
            frame["n"][field] = None
            continue
        values = vtk_to_numpy(array)
        frame["n"][field] = int(values.size)
        np.save(f"{out}/{field}_{i}.npy", values)
        print(f"t = {times[i]:7.1f} s {field:12s} n = {values.size} "
              f"mean = {np.nanmean(values):.9g}", flush=True)
json.dump(report, open(f"{out}/report.json", "w"))
'''


def test_paraview_reads_the_vtk_export_as_h5py_does(pvpython, run, tmp_path):
    """`zn-pde export RUN.h5 --vtk`: ParaView's own reader of the .pvd gives every saved time
    and, at two frames, each field's voxel values bit for bit as h5py reads them (the float32
    arrays are written unchanged; NaN where the file has NaN), on the voxel grid (cells:
    corners from 0 in steps of the spacing)."""
    from zn_pde.cli import main

    outdir = tmp_path / "vtk"
    assert main(["export", str(run), "--vtk", "-o", str(outdir)]) == 0
    pvd = outdir / f"{run.stem}.pvd"
    with h5py.File(run, "r") as f:
        times = f["time"][:]
        x, y, z = (f[c][:] for c in ("x", "y", "z"))
        stored = {name: f[name][...] for name in FIELDS}
    assert len(list((outdir / f"{run.stem}_vtk").glob("*.vti"))) == times.size
    frames = (1, len(times) - 1)
    script = tmp_path / "read_pvd.py"
    script.write_text(PV_VTK_SCRIPT)
    got = tmp_path / "got"
    got.mkdir()
    proc = subprocess.run(
        [pvpython, "--no-mpi", "--force-offscreen-rendering", str(script), str(pvd), str(got),
         ",".join(FIELDS), ",".join(map(str, frames))],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    sys.stdout.write(output)
    assert proc.returncode == 0, output
    assert "ERR|" not in output and "Error" not in output, output
    report = json.loads((got / "report.json").read_text())
    assert report["proxy"] == "PVDReader"
    np.testing.assert_allclose(report["times"], times, rtol=1e-12)
    for i in frames:
        frame = report["frames"][str(i)]
        assert frame["class"] == "vtkImageData"
        assert frame["dims"] == [x.size + 1, y.size + 1, z.size + 1]  # points: voxel corners
        assert frame["cells"] == x.size * y.size * z.size
        np.testing.assert_allclose(frame["origin"], [0.0, 0.0, 0.0])
        np.testing.assert_allclose(frame["spacing"], [H, H, H])
        assert frame["time_value"] == times[i]
        for name in FIELDS:
            values = np.load(got / f"{name}_{i}.npy")
            want = stored[name][i] if stored[name].ndim == 4 else stored[name]
            assert values.dtype == want.dtype, name
            np.testing.assert_array_equal(values, want.ravel(), err_msg=f"{name} {i}")
    first, last = (np.load(got / f"zn_{i}.npy") for i in frames)
    assert not np.allclose(first, last, rtol=1e-3)


def test_paraview_reads_a_well_mixed_run_as_one_node(pvpython, tmp_path):
    """A well-mixed run's sidecar: every ParaView reader sees one node per frame holding the
    field's value in that frame (h5py's, rtol 1e-6), at the run's times, with no complaint."""
    from zn_pde import load_config

    out = tmp_path / "culture.h5"
    c = load_config("configs/zno_culture_well_mixed.toml",
                    ["time.end_h=6", "time.save_every_min=60"])
    simulate_to_file(c, out, progress=False)
    fields = ("zn", "zn_cell", "viability")
    with h5py.File(out, "r") as f:
        times = f["time"][:]
        stored = {name: f[name][...] for name in fields}
    frames = (1, times.size - 1)
    report, got = _read_with_paraview(pvpython, out.with_suffix(".xmf"), tmp_path, fields,
                                      frames)
    for reader, entry in report.items():
        np.testing.assert_allclose(entry["times"], times, rtol=1e-12, err_msg=reader)
        for i in frames:
            assert entry["frames"][str(i)]["dims"] == [1, 1, 1], (reader, entry)
            for name in fields:
                values = np.load(got / f"{reader}_{name}_{i}.npy")
                np.testing.assert_allclose(values, [stored[name][i]], rtol=1e-6,
                                           err_msg=f"{reader} {name} {i}")
        first, last = (np.load(got / f"{reader}_zn_cell_{i}.npy") for i in frames)
        assert not np.allclose(first, last, rtol=1e-3), reader
