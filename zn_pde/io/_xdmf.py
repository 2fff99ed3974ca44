"""XDMF sidecar so ParaView (and other XDMF readers) open the HDF5 output as a time series
on a uniform 3D mesh.

Structure (xdmf.org "XDMF Model and Format"): one `Domain` holding a temporal `Collection`
grid with one `Uniform` grid per saved frame. Each frame has a `Time` (s, as in `/time`), a
`3DCoRectMesh` topology whose `Dimensions` are node counts listed slowest first (z y x, the
HDF5 array order), an `ORIGIN_DXDYDZ` geometry whose nodes are the voxel centres (origin and
spacing also listed z y x; every component is the same for the isotropic grid, so readers
that take x y z read the same mesh), and one node-centred scalar `Attribute` per field.
Time-independent datasets (`tissue_mask`, `ph`) are plain HDF DataItems, listed in every
frame. The HDF5 path is relative (the file name only, `./name` where it starts with a
non-ASCII letter; readers resolve it against the folder of the .xmf), so the pair can be
moved together.

Frame i of a 4D field `file.h5:/name` (time, z, y, x) is a (z, y, x) selection, and
ParaView's two XDMF libraries disagree on how to spell one, so each such DataItem carries
both spellings (checked with ParaView 5.11 by tests/test_paraview.py, every reader, values
against h5py):

    <DataItem Type="HyperSlab" Dimensions="nz ny nx" NumberType="Float" Precision="4"
              Format="HDF">file.h5:/name|i 0 0 0:1 1 1 1:1 nz ny nx:T nz ny nx
      <DataItem Dimensions="3 4" NumberType="Int" Format="XML">i 0 0 0 1 1 1 1 1 nz ny nx</DataItem>
      <DataItem Dimensions="T nz ny nx" NumberType="Float" Precision="4"
                Format="HDF">file.h5:/name</DataItem>
    </DataItem>

- The XDMF 2 library ("XDMF Reader") reads the item type from `ItemType` or, the
  XDMF 1 spelling it still accepts, `Type`: a HyperSlab whose children are the selection
  (start, stride and count rows) and the whole dataset. The item's `Dimensions` must be the
  frame's own shape, "nz ny nx": with the count's shape "1 nz ny nx" (the previous sidecar)
  it fails with "Can't Write Temp Dataset" and returns nz times too many, wrong values.
- The XDMF 3 library ("Xdmf3 Reader S"/"T"; pvpython's `OpenDataFile` picks S) ignores
  `Type` and reads the item as heavy data whose text is
  `file:dataset|start:stride:count:dataset dims`, the hyperslab spelling its own writer
  uses. (It turns `ItemType="HyperSlab"` into a lazily evaluated subset whose number type
  ParaView 5.11 reads before evaluating it: "Skipping unrecognized array type [None]", the
  field is dropped.)

A radial run's fields are 1-D profiles (time, r): its sidecar puts the shell centres on a
line of nodes along x (a 1 × 1 × n `3DCoRectMesh` from r₀ in steps of the shell thickness),
so ParaView shows each field against r (Plot Over Line, or the line itself), not the
spheroid; `zn-pde plot` draws profiles and r × t kymographs.

A well-mixed run's fields are one value per frame (time,): its sidecar is one node at the
origin (a 1 × 1 × 1 mesh), so ParaView shows each field's time course (Plot Data Over Time)
alongside the spatial runs it is compared with.

Rewritten atomically (temporary file + rename) after every frame is flushed to the HDF5
file, so it lists the frames saved so far (one fewer if a kill lands between the two
writes), and is never seen half-written.
"""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np


def write_xdmf(path: str | Path, h5_name: str, coords: dict[str, np.ndarray],
               spacing_um: float, times_s: np.ndarray, variables: list[str],
               static: dict[str, tuple[str, int]]) -> None:
    """Write `path` for the frames at `times_s` of the `variables` in HDF5 file `h5_name`:
    `coords` (dimension -> cell centres, um) is a 3D grid's (z, y, x), a radial one's (r,) or
    empty (a well-mixed run: one node). Anything else is refused (ValueError).

    `static`: time-independent datasets of the grid's shape, name -> (XDMF NumberType,
    bytes).
    """
    if tuple(coords) == ("z", "y", "x"):
        nz, ny, nx = (np.asarray(coords[n]).size for n in ("z", "y", "x"))
        origin_zyx = tuple(float(np.asarray(coords[n])[0]) for n in ("z", "y", "x"))
        stored = f"{nz} {ny} {nx}"  # one frame of a field as stored: (z, y, x)
        start, stride = "@I@ 0 0 0", "1 1 1 1"
    elif tuple(coords) == ("r",):  # shell centres along x: a line of nodes, 1 x 1 x n
        # (each item declares the mesh's "1 1 n": the XDMF 2 reader reads one value of an
        # item declared "n"; checked with ParaView 5.11, every reader, by tests/test_paraview.py)
        nz, ny, nx = 1, 1, np.asarray(coords["r"]).size
        origin_zyx = (0.0, 0.0, float(np.asarray(coords["r"])[0]))
        stored = f"{nx}"  # one frame of a field as stored: (r,)
        start, stride = "@I@ 0", "1 1"
    elif not coords:  # well-mixed: one value per frame, one node
        nz = ny = nx = 1
        origin_zyx = (0.0, 0.0, 0.0)
        stored = ""  # one frame of a field as stored: a scalar
        start, stride = "@I@", "1"
    else:
        raise ValueError(f"no XDMF mesh for coordinates {tuple(coords)}")
    dims = f"{nz} {ny} {nx}"
    rank = len(stored.split()) + 1
    count = f"1 {stored}".strip()  # the hyperslab's count: one frame
    shape = f"{len(times_s)} {stored}".strip()  # the dataset's shape: every frame
    origin = " ".join(repr(float(o)) for o in origin_zyx)
    spacing = " ".join([repr(float(spacing_um))] * 3)
    # ParaView's "XDMF Reader" (XDMF 2) drops a leading non-ASCII letter of the file name
    # (`µrun.h5` opens `run.h5`); `./µrun.h5` every reader resolves as the same file
    h5 = escape(h5_name if h5_name[:1].isascii() else f"./{h5_name}")
    # one frame's text with @I@ (frame index) and @T@ (time) to fill in: a 1000-frame file
    # is rewritten after every frame, so the per-frame cost stays one string substitution
    frame = ['      <Grid Name="frame_@I@" GridType="Uniform">',
             '        <Time Value="@T@"/>',
             f'        <Topology TopologyType="3DCoRectMesh" Dimensions="{dims}"/>',
             '        <Geometry GeometryType="ORIGIN_DXDYDZ">',
             '          <DataItem Name="Origin" Dimensions="3" NumberType="Float" '
             f'Precision="8" Format="XML">{origin}</DataItem>',
             '          <DataItem Name="Spacing" Dimensions="3" NumberType="Float" '
             f'Precision="8" Format="XML">{spacing}</DataItem>',
             "        </Geometry>"]
    for name in variables:
        source = f"{h5}:/{escape(name)}"
        # XDMF 3: the text (file:dataset|start:stride:count:dataset dims);
        # XDMF 2: Type="HyperSlab" and the two child items (see the module docstring)
        frame += [f'        <Attribute Name={quoteattr(name)} AttributeType="Scalar" '
                  'Center="Node">',
                  f'          <DataItem Type="HyperSlab" Dimensions="{dims}" '
                  'NumberType="Float" Precision="4" Format="HDF">'
                  f"{source}|{start}:{stride}:{count}:{shape}",
                  f'            <DataItem Dimensions="3 {rank}" NumberType="Int" '
                  f'Format="XML">{start} {stride} {count}</DataItem>',
                  f'            <DataItem Dimensions="{shape}" '
                  f'NumberType="Float" Precision="4" Format="HDF">{source}</DataItem>',
                  "          </DataItem>",
                  "        </Attribute>"]
    for name, (number_type, precision) in static.items():
        frame += [f'        <Attribute Name={quoteattr(name)} AttributeType="Scalar" '
                  'Center="Node">',
                  f'          <DataItem Dimensions="{dims}" NumberType="{number_type}" '
                  f'Precision="{precision}" Format="HDF">{h5}:/{escape(name)}</DataItem>',
                  "        </Attribute>"]
    frame.append("      </Grid>")
    template = "\n".join(frame)
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<Xdmf Version="3.0" xmlns:xi="http://www.w3.org/2001/XInclude">',
             "  <Domain>",
             '    <Grid Name="zn_pde" GridType="Collection" CollectionType="Temporal">']
    lines += [template.replace("@I@", str(i)).replace("@T@", repr(float(t)))
              for i, t in enumerate(np.asarray(times_s, float))]
    lines += ["    </Grid>", "  </Domain>", "</Xdmf>", ""]
    tmp = Path(f"{path}.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, path)
