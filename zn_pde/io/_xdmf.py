"""XDMF 3 sidecar so ParaView opens the HDF5 output as a time series on a uniform 3D mesh.

Topology 3DCoRectMesh (dimensions in z, y, x order, i.e. slowest first, as XDMF expects),
geometry ORIGIN_DXDYDZ with the voxel-centre origin (nodes = voxel centres), one Uniform grid
per saved frame in a temporal Collection, each field an Attribute pointing to a hyperslab
`file.h5:/name` of that frame. Rewritten after every frame, so it always lists what is saved.
"""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np


def write_xdmf(path: str | Path, h5_name: str, shape_zyx: tuple[int, int, int],
               origin_zyx: tuple[float, float, float], spacing_um: float,
               times_s: np.ndarray, variables: list[str],
               static: dict[str, tuple[str, int]]) -> None:
    """`static`: time-independent (z, y, x) datasets, name -> (XDMF NumberType, bytes)."""
    nz, ny, nx = shape_zyx
    dims = f"{nz} {ny} {nx}"
    lines = ['<?xml version="1.0" ?>',
             '<Xdmf Version="3.0" xmlns:xi="http://www.w3.org/2001/XInclude">',
             "  <Domain>",
             '    <Grid Name="zn_pde" GridType="Collection" CollectionType="Temporal">']
    for i, t in enumerate(np.asarray(times_s)):
        lines += [f'      <Grid Name="frame_{i}" GridType="Uniform">',
                  f'        <Time Value="{float(t)!r}"/>',
                  f'        <Topology TopologyType="3DCoRectMesh" Dimensions="{dims}"/>',
                  '        <Geometry GeometryType="ORIGIN_DXDYDZ">',
                  '          <DataItem Name="Origin" Dimensions="3" NumberType="Float" '
                  f'Precision="8" Format="XML">{" ".join(repr(float(o)) for o in origin_zyx)}'
                  "</DataItem>",
                  '          <DataItem Name="Spacing" Dimensions="3" NumberType="Float" '
                  f'Precision="8" Format="XML">{spacing_um!r} {spacing_um!r} {spacing_um!r}'
                  "</DataItem>",
                  "        </Geometry>"]
        for name in variables:
            lines += [f"        <Attribute Name={quoteattr(name)} AttributeType=\"Scalar\" "
                      'Center="Node">',
                      f'          <DataItem ItemType="HyperSlab" Dimensions="1 {dims}" '
                      'Type="HyperSlab">',
                      '            <DataItem Dimensions="3 4" Format="XML">'
                      f"{i} 0 0 0 1 1 1 1 1 {dims}</DataItem>",
                      f'            <DataItem Dimensions="{len(times_s)} {dims}" '
                      f'NumberType="Float" Precision="4" Format="HDF">{h5_name}:/{name}'
                      "</DataItem>",
                      "          </DataItem>",
                      "        </Attribute>"]
        for name, (number_type, precision) in static.items():
            lines += [f"        <Attribute Name={quoteattr(name)} AttributeType=\"Scalar\" "
                      'Center="Node">',
                      f'          <DataItem Dimensions="{dims}" NumberType="{number_type}" '
                      f'Precision="{precision}" Format="HDF">{h5_name}:/{name}</DataItem>',
                      "        </Attribute>"]
        lines.append("      </Grid>")
    lines += ["    </Grid>", "  </Domain>", "</Xdmf>", ""]
    tmp = Path(str(path) + ".tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, path)
