"""Geometry: voxel-centre coordinates, tissue mask, cell fraction and extracellular pH field.

Built once, in NumPy, at model construction (I/O-free set-up outside any jitted code).
Arrays are laid out (z, y, x); the config's `grid.shape` is [nx, ny, nz].
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class Geometry(NamedTuple):
    x_um: np.ndarray  # (nx,) voxel centres
    y_um: np.ndarray
    z_um: np.ndarray
    tissue: np.ndarray  # (z, y, x) bool
    cell_fraction: np.ndarray  # (z, y, x): φ in tissue, 0 in medium
    fluid_fraction: np.ndarray  # (z, y, x): α (extracellular fluid) in tissue, 1 in medium
    depth_um: np.ndarray  # (z, y, x): distance below the tissue surface (0 in medium)
    ph: np.ndarray  # (z, y, x) extracellular pH
    well_mixed: bool


def build_geometry(c: dict[str, Any]) -> Geometry:
    grid, geo, ph = c["grid"], c["geometry"], c["ph"]
    phi = geo["cell_volume_fraction"]
    if grid["kind"] == "well_mixed":
        tissue = np.full((1, 1, 1), geo["kind"] == "uniform")
        zero = np.zeros(1)
        cells = np.where(tissue, phi, 0.0)
        return Geometry(zero, zero, zero, tissue, cells, 1.0 - cells, np.zeros((1, 1, 1)),
                        np.full((1, 1, 1), ph["medium"]), True)
    nx, ny, nz = grid["shape"]
    h = grid["spacing_um"]
    x, y, z = ((np.arange(n) + 0.5) * h for n in (nx, ny, nz))
    zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
    if geo["kind"] == "spheroid":
        cx, cy, cz = geo["center_um"]
        radius = geo["radius_um"]
        s = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2 + (zz - cz) ** 2) / radius
        tissue = s <= 1.0
        below = np.where(tissue, radius * (1.0 - s), 0.0)
        # parabolic fall from rim to core: the steady state of uniform acid production
        # with diffusive clearance in a sphere, c(r) ∝ R² − r²
        depth = 1.0 - np.clip(s, 0.0, 1.0) ** 2
    elif geo["kind"] == "uniform":
        tissue = np.ones(xx.shape, bool)
        # distance to the nearest face, normalised by the largest such distance
        d = np.minimum.reduce([xx, x[-1] + h / 2 - xx, yy, y[-1] + h / 2 - yy,
                               zz, z[-1] + h / 2 - zz])
        s = 1.0 - d / d.max()
        below = d
        depth = 1.0 - s**2
    else:  # medium only
        tissue = np.zeros(xx.shape, bool)
        depth = below = np.zeros(xx.shape)
    ph_field = np.where(tissue, ph["tissue_rim"] + (ph["tissue_core"] - ph["tissue_rim"]) * depth,
                        ph["medium"])
    alpha = c.get("tissue", {}).get("extracellular_volume_fraction") or 1.0 - phi
    return Geometry(x, y, z, tissue, np.where(tissue, phi, 0.0), np.where(tissue, alpha, 1.0),
                    below, ph_field, False)


def penetration_depth_um(depth_um: np.ndarray, tissue: np.ndarray, amount: np.ndarray,
                         spacing_um: float, fraction: float = 0.1) -> float:
    """Depth below the tissue surface where `amount` (e.g. particle mass per voxel volume),
    averaged over shells one voxel thick, first falls to `fraction` of the outermost shell's
    value (linear between shell centres). The deepest shell's depth if it never does; 0 if
    the outermost shell holds nothing; NaN without tissue."""
    depth, a = depth_um[tissue], amount[tissue]
    if depth.size == 0:
        return float("nan")
    shell = np.floor(depth / spacing_um).astype(int)
    counts = np.bincount(shell)
    filled = counts > 0
    mean = np.bincount(shell, weights=a)[filled] / counts[filled]
    centre = (np.bincount(shell, weights=depth)[filled] / counts[filled])
    if not mean[0] > 0:
        return 0.0
    level = fraction * mean[0]
    below = np.flatnonzero(mean <= level)
    if below.size == 0:
        return float(centre[-1])
    i = int(below[0])
    if i == 0:
        return float(centre[0])
    w = (mean[i - 1] - level) / (mean[i - 1] - mean[i])
    return float(centre[i - 1] + w * (centre[i] - centre[i - 1]))


def depth_integral_cm(per_cm: np.ndarray, spacing_um: float) -> np.ndarray:
    """∫₀^z a dz' (dimensionless optical/acoustic depth) at voxel centres, from the z = 0 face,
    for a coefficient `per_cm` given per voxel (z, y, x)."""
    h_cm = spacing_um * 1e-4
    before = np.cumsum(per_cm, axis=0) - per_cm
    return (before + 0.5 * per_cm) * h_cm
