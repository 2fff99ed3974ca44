"""VTK-native export of a 3D run: a ParaView collection (.pvd) of XML ImageData files (.vti).

`zn-pde export RUN.h5 --vtk [-o DIR]` writes

    DIR/<stem>.pvd                  the time series: one DataSet per saved frame, its
                                    `timestep` the frame's time in s (as `/time`)
    DIR/<stem>_vtk/<stem>_NNNN.vti  frame NNNN (0, 1, ...)

which every ParaView (and VTK's own readers, and the Python `vtk` package) opens without
XDMF or HDF5: File > Open of the .pvd gives the time series. Each .vti is VTK's XML ImageData
format ("VTK File Formats", VTK User's Guide; vtk.org), uncompressed raw appended binary,
little endian, UInt64 block headers. The grid is the run's voxels as cells: points at the
voxel corners, `Origin` the domain's corner (0, 0, 0) µm, `Spacing` the voxel edge (µm), so
`WholeExtent = 0 nx 0 ny 0 nz` and nx·ny·nz cells, x fastest (the C order of the HDF5
(z, y, x) arrays, written unchanged). Cell data: every time-varying field (float32, as in the
HDF5 file: NaN where the HDF5 file has NaN, e.g. viability in the medium) and the static
`tissue_mask` (UInt8) and `ph` (Float32). Field data: `TimeValue` (s) and every per-frame
summary series of the run (Float64, one value each; units as in the HDF5 file, listed in
docs/outputs.md). The XDMF sidecar shows the same values on nodes at the voxel centres.

VTKHDF (ParaView >= 5.10's single-file HDF5 layout) is not used: ParaView 5.11 reads no time
series from it (temporal VTKHDF came with VTK 9.3 / ParaView 5.12), while .pvd + .vti works
in every version.

Only a 3D run is exported: a radial run is one profile in r and a well-mixed run has no
space (InputError, exit 2, saying what to use instead), and so is a sweep output. A run still
being written, interrupted or failed exports the frames saved so far.
"""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from .._errors import InputError, check_flags
from ._hdf5 import OutputError, open_read_only, read_run

_VTK_TYPES = {np.dtype("float32"): "Float32", np.dtype("float64"): "Float64",
              np.dtype("uint8"): "UInt8"}


def export_vtk(h5_path: str | Path, outdir: str | Path | None = None, *,
               overwrite: bool = False) -> Path:
    """Write `<outdir>/<stem>.pvd` and its .vti frames for the 3D run in `h5_path` (outdir:
    default the file's folder). Returns the .pvd path. InputError (exit 2) for a file that
    is not a 3D zn-pde run with at least one frame, or outputs that exist without
    `overwrite`, and for arguments of the wrong type (as `simulate` does)."""
    if not isinstance(h5_path, str | os.PathLike):
        raise InputError(f"export_vtk's h5_path = {h5_path!r} ({type(h5_path).__name__}) is "
                         "not a file path; allowed: a str or os.PathLike naming a 3D zn-pde "
                         "output (.h5)", key="h5_path")
    if outdir is not None and not isinstance(outdir, str | os.PathLike):
        raise InputError(f"export_vtk's outdir = {outdir!r} ({type(outdir).__name__}) is not "
                         "a folder path; allowed: a str or os.PathLike, or None (the run "
                         "file's folder)", key="outdir", file=str(h5_path))
    check_flags("export_vtk", str(h5_path), overwrite=overwrite)
    h5_path = Path(h5_path)
    _refuse_sweep(h5_path)
    run = read_run(h5_path)
    if run.well_mixed or run.radial:
        what = ("a well-mixed run has no space" if run.well_mixed else
                "a radial run's fields are profiles in r (time, r), not a 3D grid")
        raise InputError(f"--vtk exports 3D runs only: {what}; open it with xarray "
                         "(zn_pde.open_run) or draw it with zn-pde plot", file=str(h5_path))
    if run.n_frames == 0:
        raise InputError("no frame is saved in this file yet; nothing to export",
                         file=str(h5_path))
    outdir = h5_path.parent if outdir is None else Path(outdir)
    stem = h5_path.stem
    pvd = outdir / f"{stem}.pvd"
    frames_dir = outdir / f"{stem}_vtk"
    if not overwrite and (pvd.exists() or frames_dir.exists()):
        raise OutputError(f"{pvd} or {frames_dir} exists; pass --overwrite (export_vtk: "
                          "overwrite=True) to replace them",
                          file=str(pvd))
    try:
        frames_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the output folder ({e.strerror})",
                          file=str(frames_dir)) from None
    for old in frames_dir.glob(f"{stem}_*.vti"):  # a longer earlier export's frames
        old.unlink()
    nz, ny, nx = run.tissue.shape
    h = float(run.config["grid"]["spacing_um"])
    entries = []
    with run.open() as f:
        static = {"tissue_mask": np.asarray(f["tissue_mask"][...], np.uint8)}
        static.update({n: np.asarray(f[n][...]) for n in run.static if n != "tissue_mask"})
        for i, t_s in enumerate(run.times_s):
            cells = {n: np.asarray(f[n][i]) for n in run.fields}
            cells.update(static)
            field_data = {"TimeValue": np.float64(t_s)}
            field_data.update({n: np.float64(f[n][i]) for n in run.series})
            name = f"{stem}_{i:04d}.vti"
            _write_vti(frames_dir / name, (nx, ny, nz), h, cells, field_data)
            entries.append((float(t_s), f"{frames_dir.name}/{name}"))
    lines = ['<?xml version="1.0"?>',
             '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">',
             "  <Collection>"]
    lines += [f'    <DataSet timestep="{t!r}" group="" part="0" file={quoteattr(p)}/>'
              for t, p in entries]
    lines += ["  </Collection>", "</VTKFile>", ""]
    tmp = Path(f"{pvd}.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, pvd)
    return pvd


def _refuse_sweep(path: Path) -> None:
    try:
        with open_read_only(path) as f:
            mark = f.attrs.get("format")
    except Exception:  # not a file or not HDF5: read_run says why
        return
    if isinstance(mark, bytes):
        mark = mark.decode()
    if mark == "zn_pde_sweep":
        raise InputError("a zn-pde sweep output holds summaries and final fields per point, "
                         "not a time series of one run; run one point's config alone to "
                         "export it", file=str(path))


def _write_vti(path: Path, shape_xyz: tuple[int, int, int], spacing_um: float,
               cells: dict[str, np.ndarray], field_data: dict[str, np.float64]) -> None:
    """One XML ImageData file with raw appended little-endian arrays (UInt64 headers)."""
    nx, ny, nz = shape_xyz
    extent = f"0 {nx} 0 {ny} 0 {nz}"
    blocks: list[bytes] = []
    offset = 0

    def item(name: str, a: np.ndarray, indent: str) -> str:
        nonlocal offset
        a = np.ascontiguousarray(a).ravel()
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        data = a.tobytes()
        block = np.uint64(len(data)).astype("<u8").tobytes() + data
        text = (f'{indent}<DataArray type="{_VTK_TYPES[a.dtype.newbyteorder("=")]}" '
                f'Name={quoteattr(name)} NumberOfComponents="1" NumberOfTuples="{a.size}" '
                f'format="appended" offset="{offset}"/>')
        blocks.append(block)
        offset += len(block)
        return text

    spacing = f"{spacing_um!r} {spacing_um!r} {spacing_um!r}"
    lines = ['<?xml version="1.0"?>',
             '<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" '
             'header_type="UInt64">',
             f'  <ImageData WholeExtent="{extent}" Origin="0 0 0" Spacing="{spacing}">',
             "    <FieldData>"]
    lines += [item(n, np.asarray([v], np.float64), "      ") for n, v in field_data.items()]
    lines += ["    </FieldData>",
              f'    <Piece Extent="{extent}">',
              "      <PointData>",
              "      </PointData>",
              "      <CellData>"]
    for name, a in cells.items():
        a = np.asarray(a)
        if a.shape != (nz, ny, nx):
            continue
        if a.dtype not in _VTK_TYPES:
            a = a.astype(np.float32)
        lines.append(item(name, a, "        "))
    lines += ["      </CellData>", "    </Piece>", "  </ImageData>",
              '  <AppendedData encoding="raw">']
    head = ("\n".join(lines) + "\n   _").encode("ascii")
    tail = b"\n  </AppendedData>\n</VTKFile>\n"
    tmp = Path(f"{path}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(head)
        for b in blocks:
            fh.write(b)
        fh.write(tail)
    os.replace(tmp, path)
