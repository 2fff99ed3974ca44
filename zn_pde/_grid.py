"""Geometry: cell-centre coordinates, tissue mask, cell fraction and extracellular pH field.

Built once, in NumPy, at model construction (I/O-free set-up outside any jitted code), for
each of the three spatial layouts (`grid.kind`):

- `well_mixed`: one compartment, arrays of shape (1,), no coordinates;
- `radial`: a spherically symmetric spheroid centred at r = 0, `grid.shape = [n]` shells of
  `grid.spacing_um` (h) out to the domain radius n·h; arrays (r,), shell centres rᵢ = (i + ½)h,
  shell volumes 4π/3 ((i + 1)³ − i³) h³;
- `cartesian`: arrays laid out (z, y, x) (the config's `grid.shape` is [nx, ny, nz]), voxel
  volume h³.

Everything downstream (model, kinetics, stimuli, summaries, writers) reads the layout from
`Geometry.coords` (dimension names, slowest first, with their coordinates) and weights cells by
`Geometry.volume_um3`; none of it asks which kind of grid it is.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class Geometry(NamedTuple):
    kind: str  # "well_mixed" | "radial" | "cartesian"
    coords: dict[str, np.ndarray]  # dimension name -> cell centres (um), slowest first
    spacing_um: float  # cell edge (radial: shell thickness); 1 for well_mixed
    tissue: np.ndarray  # bool, the field shape
    cell_fraction: np.ndarray  # φ in tissue, 0 in medium
    fluid_fraction: np.ndarray  # α (extracellular fluid) in tissue, 1 in medium
    depth_um: np.ndarray  # distance below the tissue surface (0 in medium)
    ph: np.ndarray  # extracellular pH
    volume_um3: np.ndarray  # volume of each cell (um^3); 1 for well_mixed

    @property
    def well_mixed(self) -> bool:
        return not self.coords

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(self.coords)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.tissue.shape

    @property
    def x_um(self) -> np.ndarray:
        return self.coords.get("x", np.zeros(0))

    @property
    def y_um(self) -> np.ndarray:
        return self.coords.get("y", np.zeros(0))

    @property
    def z_um(self) -> np.ndarray:
        return self.coords.get("z", np.zeros(0))

    @property
    def r_um(self) -> np.ndarray:
        return self.coords.get("r", np.zeros(0))


def shell_volumes_um3(n: int, spacing_um: float) -> np.ndarray:
    """Volumes 4π/3 ((i + 1)³ − i³) h³ of the n shells of a radial grid (um³)."""
    faces = np.arange(n + 1) * spacing_um
    return 4.0 / 3.0 * np.pi * np.diff(faces**3)


def build_geometry(c: dict[str, Any]) -> Geometry:
    grid, geo, ph = c["grid"], c["geometry"], c["ph"]
    phi = geo["cell_volume_fraction"]
    kind = grid["kind"]
    if kind == "well_mixed":
        tissue = np.full((1,), geo["kind"] == "uniform")
        cells = np.where(tissue, phi, 0.0)
        return Geometry(kind, {}, 1.0, tissue, cells, 1.0 - cells, np.zeros(1),
                        np.full(1, ph["medium"]), np.ones(1))
    h = grid["spacing_um"]
    if kind == "radial":
        (n,) = grid["shape"]
        r = (np.arange(n) + 0.5) * h
        coords = {"r": r}
        volume = shell_volumes_um3(n, h)
        outer = n * h
        if geo["kind"] == "spheroid":
            radius = geo["radius_um"]
            s = r / radius
            tissue = s <= 1.0
            below = np.where(tissue, radius - r, 0.0)
        else:  # "uniform" (all tissue, depth below the outer wall) or "medium"
            s = r / outer
            tissue = np.full(n, geo["kind"] == "uniform")
            below = np.where(tissue, outer - r, 0.0)
    else:
        nx, ny, nz = grid["shape"]
        x, y, z = ((np.arange(m) + 0.5) * h for m in (nx, ny, nz))
        coords = {"z": z, "y": y, "x": x}
        volume = np.full((nz, ny, nx), h**3)
        zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
        if geo["kind"] == "spheroid":
            cx, cy, cz = geo["center_um"]
            radius = geo["radius_um"]
            s = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2 + (zz - cz) ** 2) / radius
            tissue = s <= 1.0
            below = np.where(tissue, radius * (1.0 - s), 0.0)
        elif geo["kind"] == "uniform":
            tissue = np.ones(xx.shape, bool)
            # distance to the nearest face, normalised by the largest such distance
            below = np.minimum.reduce([xx, x[-1] + h / 2 - xx, yy, y[-1] + h / 2 - yy,
                                       zz, z[-1] + h / 2 - zz])
            s = 1.0 - below / below.max()
        else:  # medium only
            tissue = np.zeros(xx.shape, bool)
            s = below = np.zeros(xx.shape)
    # parabolic fall from rim to core: the steady state of uniform acid production with
    # diffusive clearance in a sphere, c(r) ∝ R² − r²
    depth = np.where(tissue, 1.0 - np.clip(s, 0.0, 1.0) ** 2, 0.0)
    ph_field = np.where(tissue, ph["tissue_rim"] + (ph["tissue_core"] - ph["tissue_rim"]) * depth,
                        ph["medium"])
    alpha = c.get("tissue", {}).get("extracellular_volume_fraction") or 1.0 - phi
    return Geometry(kind, coords, float(h), tissue, np.where(tissue, phi, 0.0),
                    np.where(tissue, alpha, 1.0), np.where(tissue, below, 0.0), ph_field,
                    volume)


def _shell_means(depth_um: np.ndarray, tissue: np.ndarray, amount: np.ndarray,
                 spacing_um: float) -> tuple[np.ndarray, np.ndarray]:
    """`amount` averaged over the tissue's shells one voxel thick below its surface
    (outermost first), and each shell's mean depth."""
    depth, a = depth_um[tissue], amount[tissue]
    shell = np.floor(depth / spacing_um).astype(int)
    counts = np.bincount(shell)
    filled = counts > 0
    mean = np.bincount(shell, weights=a)[filled] / counts[filled]
    centre = np.bincount(shell, weights=depth)[filled] / counts[filled]
    return mean, centre


def _measurable_shells(depth_um: np.ndarray, tissue: np.ndarray, amount: np.ndarray,
                       spacing_um: float, least: float) -> tuple[np.ndarray, np.ndarray] | None:
    """`_shell_means` of `amount`, or None without tissue or where no shell holds more than
    `least` (nothing to measure)."""
    if not np.any(tissue):
        return None
    mean, centre = _shell_means(depth_um, tissue, amount, spacing_um)
    top = float(np.max(mean))
    return (mean, centre) if np.isfinite(top) and top > max(least, 0.0) else None


def penetration_depth_um(depth_um: np.ndarray, tissue: np.ndarray, amount: np.ndarray,
                         spacing_um: float, fraction: float = 0.1,
                         least: float = 0.0) -> float:
    """Depth below the tissue surface down to which `amount` (e.g. particle mass per voxel
    volume), averaged over shells one voxel thick, stays at or above `fraction` of its
    largest shell mean: the deepest shell still above that level, and on to where the
    profile falls to it (linear between shell centres). While the outermost shell holds
    the most (particles entering from the medium) this is where the profile first falls
    to `fraction` of the rim's; after a wash-out has emptied the rim's fluid the reference
    stays the tissue's maximum, not the depleted rim. The deepest shell's depth if no shell
    falls to it; NaN without tissue, and when no shell holds more than `least` (nothing
    left to measure)."""
    profile = _measurable_shells(depth_um, tissue, amount, spacing_um, least)
    if profile is None:
        return float("nan")
    mean, centre = profile
    level = fraction * float(np.max(mean))
    i = int(np.flatnonzero(mean > level)[-1])  # the deepest shell above the level
    if i == mean.size - 1:
        return float(centre[-1])
    w = (mean[i] - level) / (mean[i] - mean[i + 1])
    return float(centre[i] + w * (centre[i + 1] - centre[i]))


def deepest_shell_depth_um(c: dict[str, Any]) -> float | None:
    """Mean depth of a spheroid's deepest one-voxel shell (`_shell_means`), the depth that
    `penetration_depth_um` gives where no shell falls below its level: R − h/2 on a radial
    grid; on a cartesian one from the voxels near the centre only (those of the deepest
    shell, as `build_geometry` places them), so no field of the grid's size is built. None
    for other geometries and grids."""
    grid, geo = c["grid"], c["geometry"]
    if geo["kind"] != "spheroid" or grid["kind"] not in ("radial", "cartesian"):
        return None
    h, radius = grid["spacing_um"], geo["radius_um"]
    if grid["kind"] == "radial":
        r = (np.arange(grid["shape"][0]) + 0.5) * h
        tissue = r / radius <= 1.0
        depth, inside = np.where(tissue, radius - r, 0.0), tissue
    else:
        axes = []
        for n, cx in zip(grid["shape"], geo["center_um"], strict=True):
            x = (np.arange(n) + 0.5) * h
            axes.append((x, cx))
        nearest = np.sqrt(sum(np.min((x - cx) ** 2) for x, cx in axes))
        # the deepest shell's voxels lie within R - k h of the centre, k its index
        reach = radius - np.floor(radius * (1.0 - nearest / radius) / h) * h + 1e-9 * h
        near = [x[np.abs(x - cx) <= reach] for x, cx in axes]
        xx, yy, zz = np.meshgrid(*near, indexing="ij")
        cx, cy, cz = geo["center_um"]
        s = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2 + (zz - cz) ** 2) / radius
        inside = s <= 1.0
        depth = np.where(inside, radius * (1.0 - s), 0.0)
    if not inside.any():
        return None
    _, centre = _shell_means(depth, inside, np.zeros(depth.shape), h)
    return float(centre[-1])


def peak_depth_um(depth_um: np.ndarray, tissue: np.ndarray, amount: np.ndarray,
                  spacing_um: float, least: float = 0.0) -> float:
    """Mean depth below the tissue surface of the one-voxel shell whose mean `amount` is the
    largest (the outermost of equal ones); NaN as `penetration_depth_um`."""
    profile = _measurable_shells(depth_um, tissue, amount, spacing_um, least)
    if profile is None:
        return float("nan")
    mean, centre = profile
    return float(centre[int(np.argmax(mean))])


def entry_path_cm(geo: Geometry, per_cm: np.ndarray) -> np.ndarray:
    """Optical/acoustic depth ∫ a ds (dimensionless) at each cell centre along the path an
    exposure takes from where it enters, for a coefficient `per_cm` given per cell.

    cartesian: a beam through the z = 0 face, s from that face along z; radial: exposure
    arriving from all sides, s from the outer wall r = n·h inwards to r (the spherically
    symmetric form of a beam that barely attenuates across the spheroid; `config` refuses
    the others); well_mixed: 0 (the compartment sees the entry value)."""
    if geo.well_mixed:
        return np.zeros_like(per_cm, dtype=float)
    return path_from_entry(np.asarray(per_cm), geo.spacing_um, geo.dims == ("r",), np)


def path_from_entry(per_cm, spacing_um: float, inward: bool, xp=np):
    """∫ a ds from the entry to each cell centre along axis 0 (z of a 3D grid; r of a radial
    one, entering at the outer wall when `inward`): the whole cells before it plus half its
    own, cell thickness `spacing_um`. `xp`: numpy, or jax.numpy inside a traced step."""
    if inward:
        per_cm = per_cm[::-1]
    before = xp.cumsum(per_cm, axis=0) - per_cm
    path = (before + 0.5 * per_cm) * (spacing_um * 1e-4)
    return path[::-1] if inward else path
