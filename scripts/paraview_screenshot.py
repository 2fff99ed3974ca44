"""Render a ParaView screenshot of a zn-pde run: a slice through the spheroid centre.

Runs in ParaView's Python (pvpython), not in the project's environment:

    pvpython scripts/paraview_screenshot.py runs/zno_spheroid_ultrasound.xmf -o zn.png
    pvpython scripts/paraview_screenshot.py RUN.xmf --field viability --time-h 12 -o v.png
    pvpython scripts/paraview_screenshot.py RUN.pvd ...   # the VTK export (zn-pde export --vtk)
    xvfb-run -a pvpython scripts/paraview_screenshot.py RUN.xmf ...   # machine without display

It opens the run's XDMF sidecar with ParaView's "XDMF Reader" (`OpenDataFile` for a .pvd),
cuts the x-z plane of voxel centres nearest the centroid of the tissue voxels (the spheroid
centre; the plane `zn-pde plot` shows, drawn the same way: x to the right, z up, so stimuli
enter from the bottom face z = 0), colours it by `--field` at the last saved frame (or the
frame nearest `--time-h`), draws the spheroid surface (the `tissue_mask` = 0.5 contour on
the slice) in white, and saves a PNG with a colour bar, the time and coordinates in µm. The
colour range is the field's range on the slice at that frame (`--log` for a logarithmic
scale). Fields are node (voxel-centre) values interpolated in between, and NaN (`viability`
in the medium) is grey, so the half voxel between the last tissue centre and the white
surface line is grey too. The plane is the sidecar's plane of nodes itself (ExtractSubset,
which the XDMF 2 library's reader serves; ParaView 5.11's Xdmf3 readers return an empty
subset), not a Slice through it: a Slice interpolates each node of the plane with its
neighbours off the plane at weight 0, and 0 x NaN is NaN, so a tissue voxel with medium
above or below it (the rim, where most cells die) came out grey and the colour range missed
its value. The VTK export (`zn-pde export RUN.h5 --vtk`, a .pvd of .vti) holds the voxels as
cells: the slice then shows each voxel's own value as a square, and the surface is the 0.5
contour of the tissue mask interpolated to the voxel corners.

docs/figures/paraview_viability_slice.png was made with `--field viability --size 1000 750`
from `zn-pde run configs/zno_spheroid_ultrasound.toml --set grid.shape=[32,32,32] --set
grid.spacing_um=20` (the default scenario on a coarser grid).

Debian's and most distribution builds of ParaView render through X: on a machine without
a display, run the script under `xvfb-run -a` (package `xvfb`; if it reports "bad X server
connection", another Xvfb took the display: run it again). Reading needs no display.

Only 3D runs have a plane to slice: the sidecar of a radial run (fields against r) or a
well-mixed one (no space) is refused before ParaView is loaded, with exit status 2 and one
line naming `zn-pde plot`, which draws those runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import xml.etree.ElementTree as ET

import numpy as np

UNITS = {"np": "µg/mL", "zn": "µM", "ros": "µM", "np_int": "µg/mL", "zn_cell": "µM",
         "gsh": "µM", "viability": "fraction alive", "ph": "1"}


def _not_3d(path: str) -> str | None:
    """Why the XDMF sidecar at `path` cannot be sliced (a radial or well-mixed run: its
    mesh, the first Topology's Dimensions (z y x), has at most one axis longer than one
    voxel), or None (a 3D run; a .pvd, the VTK export of a 3D run; a file this check cannot
    read, left to ParaView)."""
    if not path.lower().endswith((".xmf", ".xdmf")):
        return None
    try:
        topology = next((e for e in ET.parse(path).iter() if e.tag.endswith("Topology")), None)
        dims = [int(d) for d in topology.get("Dimensions", "").split()] if topology is not None \
            else []
    except (OSError, ET.ParseError, ValueError):
        return None
    if len(dims) != 3 or sum(d > 1 for d in dims) >= 2:
        return None
    what = ("a well-mixed run (no space)" if max(dims) == 1
            else f"a radial run ({max(dims)} shells against r)")
    return (f"{path} holds {what}, not a 3D grid: there is no plane to slice; draw it with "
            f"`zn-pde plot {path.rsplit('.', 1)[0]}.h5`")


def _first_block(data):
    if data.IsA("vtkCompositeDataSet"):
        it = data.NewIterator()
        it.InitTraversal()
        return it.GetCurrentDataObject()
    return data


def _voxels(image, cells: bool) -> tuple[list[int], list[float], list[float]]:
    """(voxel counts x y z, centre of the first voxel, spacing): the nodes of the XDMF
    sidecar's mesh are the voxel centres; the VTK export's voxels are its cells."""
    n = list(image.GetDimensions())
    o = list(image.GetOrigin())
    h = list(image.GetSpacing())
    if cells:
        n = [m - 1 for m in n]
        o = [a + b / 2 for a, b in zip(o, h, strict=True)]
    return n, o, h


def _centre(image, cells: bool) -> list[float]:
    """Centroid of the tissue voxels (the spheroid centre); the domain centre without tissue."""
    from vtk.util.numpy_support import vtk_to_numpy

    (nx, ny, nz), (ox, oy, oz), (hx, hy, hz) = _voxels(image, cells)
    data = image.GetCellData() if cells else image.GetPointData()
    mask = data.GetArray("tissue_mask")
    if mask is not None:
        tissue = vtk_to_numpy(mask).reshape(nz, ny, nx) > 0.5
        if tissue.any():
            k, j, i = (idx.mean() for idx in np.nonzero(tissue))
            return [ox + i * hx, oy + j * hy, oz + k * hz]
    return [ox + (nx - 1) * hx / 2, oy + (ny - 1) * hy / 2, oz + (nz - 1) * hz / 2]


def _open(pv, path: str):
    """A reader of the sidecar (the XDMF 2 library's, which serves `_plane`'s subset) or of
    the VTK export's .pvd; None where ParaView cannot open the file."""
    # an absolute path: ParaView 5.11's Xdmf3 readers join a bare file name with the data
    # file's ("run.xmfrun.h5") and abort
    path = os.path.abspath(path)
    if path.lower().endswith((".xmf", ".xdmf")):
        return pv.XDMFReader(FileNames=[path])
    return pv.OpenDataFile(path)


def _plane(pv, reader, image, cells: bool, centre: list[float]):
    """The x-z plane of voxel centres through `centre`: for the sidecar's nodes, that plane
    of the mesh, values exactly as stored; for the VTK export's cells, a Slice through their
    centres (each cut cell keeps its own value)."""
    if cells:
        plane = pv.Slice(Input=reader)
        plane.SliceType = "Plane"
        plane.SliceType.Origin = centre
        plane.SliceType.Normal = [0.0, 1.0, 0.0]
        return plane
    (nx, ny, nz), (_, oy, _), (_, hy, _) = _voxels(image, cells)
    j = int(round((centre[1] - oy) / hy))
    return pv.ExtractSubset(Input=reader, VOI=[0, nx - 1, j, j, 0, nz - 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xmf", help="the run's XDMF sidecar (OUT.xmf beside OUT.h5), or the "
                        ".pvd of its VTK export")
    parser.add_argument("-o", "--output", default=None,
                        help="PNG to write (default: <xmf stem>_paraview_<field>.png)")
    parser.add_argument("--field", default="zn", help="point array to colour by (default zn)")
    parser.add_argument("--time-h", type=float, default=None,
                        help="time in hours (nearest saved frame; default: the last frame)")
    parser.add_argument("--log", action="store_true", help="logarithmic colour scale")
    parser.add_argument("--size", type=int, nargs=2, default=[1200, 900],
                        metavar=("W", "H"), help="image size in pixels")
    args = parser.parse_args(argv)
    why = _not_3d(args.xmf)
    if why is not None:  # before loading ParaView, which would fail or draw an empty frame
        print(why, file=sys.stderr)
        return 2
    from paraview import servermanager as sm
    from paraview import simple as pv
    from vtk.util.numpy_support import vtk_to_numpy

    reader = _open(pv, args.xmf)
    if reader is None:
        print(f"ParaView cannot open {args.xmf}", file=sys.stderr)
        return 2
    times = reader.TimestepValues
    times = [float(t) for t in times] if hasattr(times, "__len__") else [float(times)]
    t = times[-1] if args.time_h is None else min(times, key=lambda s: abs(s - 3600 * args.time_h))
    reader.UpdatePipeline(t)
    image = _first_block(sm.Fetch(reader))
    cells = image.GetCellData().GetArray(args.field) is not None  # the VTK export
    data = image.GetCellData() if cells else image.GetPointData()
    if data.GetArray(args.field) is None:
        names = [data.GetArrayName(i) for i in range(data.GetNumberOfArrays())]
        print(f"no field {args.field!r} in {args.xmf}; fields: {', '.join(names)}",
              file=sys.stderr)
        return 2
    where = "CELLS" if cells else "POINTS"
    centre = _centre(image, cells)
    # cut through a plane of voxel centres (the one `zn-pde plot` shows), not between two
    (_, ny, _), (_, oy, _), (_, hy, _) = _voxels(image, cells)
    centre[1] = oy + hy * int(np.argmin(np.abs(oy + hy * np.arange(ny) - centre[1])))

    view = pv.CreateView("RenderView")
    view.ViewSize = list(args.size)
    view.ViewTime = t
    view.Background = [1.0, 1.0, 1.0]
    view.OrientationAxesVisibility = 0
    grid = view.AxesGrid  # coordinates in µm along the slice's edges
    grid.Visibility = 1
    grid.FacesToRender = 0x10  # vtkGridAxesHelper::MAX_ZX, the face behind the slice
    grid.AxesToLabel = 0x01 | 0x04  # MIN_X | MIN_Z: x along the bottom, z on the left
    grid.XTitle, grid.YTitle, grid.ZTitle = "x (µm)", "y (µm)", "z (µm)"
    grid.XTitleColor = grid.YTitleColor = grid.ZTitleColor = [0.0, 0.0, 0.0]
    grid.XLabelColor = grid.YLabelColor = grid.ZLabelColor = [0.0, 0.0, 0.0]
    grid.GridColor = [0.3, 0.3, 0.3]
    grid.XTitleFontSize = grid.ZTitleFontSize = 18
    grid.XLabelFontSize = grid.ZLabelFontSize = 16
    try:  # ParaView >= 5.10 uses palettes; keep a white background either way
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass

    plane = _plane(pv, reader, image, cells, centre)
    plane.UpdatePipeline(t)
    shown = pv.Show(plane, view)
    shown.SetRepresentationType("Surface")  # an image plane would show as pixels, not nodes
    pv.ColorBy(shown, (where, args.field))
    cut = _first_block(sm.Fetch(plane))
    values = vtk_to_numpy((cut.GetCellData() if cells else cut.GetPointData())
                          .GetArray(args.field))
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if args.log:
        positive = finite[finite > 0]
        lo = float(positive.min()) if positive.size else 1e-12
        hi = max(hi, lo * 10)
    elif hi <= lo:
        hi = lo + (abs(lo) or 1.0) * 1e-6
    lut = pv.GetColorTransferFunction(args.field)
    lut.ApplyPreset("Viridis (matplotlib)", True)
    lut.RescaleTransferFunction(lo, hi)
    lut.AutomaticRescaleRangeMode = "Never"
    lut.NanColor = [0.75, 0.75, 0.75]
    if args.log:
        lut.UseLogScale = 1
    bar = pv.GetScalarBar(lut, view)
    unit = UNITS.get(args.field)
    bar.Title = f"{args.field} ({unit})" if unit else args.field
    bar.ComponentTitle = ""
    bar.TitleColor = bar.LabelColor = [0.0, 0.0, 0.0]
    bar.TitleFontSize = bar.LabelFontSize = 18
    bar.WindowLocation = "Any Location"
    bar.Position = [0.87, 0.2]
    bar.ScalarBarLength = 0.6
    bar.AddRangeLabels = 0
    shown.SetScalarBarVisibility(view, True)

    if data.GetArray("tissue_mask") is not None:
        nodes = pv.CellDatatoPointData(Input=plane) if cells else plane
        surface = pv.Contour(Input=nodes, ContourBy=["POINTS", "tissue_mask"],
                             Isosurfaces=[0.5])
        outline = pv.Show(surface, view)
        pv.ColorBy(outline, None)
        outline.AmbientColor = outline.DiffuseColor = [1.0, 1.0, 1.0]
        outline.LineWidth = 3.0

    label = pv.Text(Text=f"{args.field} at t = {t / 3600:g} h, x-z slice through the "
                         f"spheroid centre (y = {centre[1]:.0f} µm)")
    text = pv.Show(label, view)
    text.Color = [0.0, 0.0, 0.0]
    text.FontSize = 20
    text.WindowLocation = "Upper Center"

    # look along +y: x to the right, z up (as `zn-pde plot` draws the x-z plane)
    pv.ResetCamera(view)
    view.CameraFocalPoint = centre
    view.CameraPosition = [centre[0], centre[1] - 1e4, centre[2]]
    view.CameraViewUp = [0.0, 0.0, 1.0]
    view.CameraParallelProjection = 1
    pv.ResetCamera(view)
    view.CameraParallelScale *= 0.92

    out = args.output or f"{args.xmf.rsplit('.', 1)[0]}_paraview_{args.field}.png"
    pv.SaveScreenshot(out, view, ImageResolution=list(args.size))
    print(f"wrote {out} ({args.field} at t = {t / 3600:g} h, slice y = {centre[1]:.1f} um, "
          f"colour range {lo:.4g} to {hi:.4g})")
    # release the render window before Python exits: left to the interpreter's teardown, it
    # ends an Xvfb session with "GLXBadContext" and exit status 1 after the PNG is written
    pv.Delete(view)
    del view
    return 0


if __name__ == "__main__":
    sys.exit(main())
