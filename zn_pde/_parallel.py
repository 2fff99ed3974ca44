"""Multi-device execution with JAX's own SPMD partitioner (no home-made communication).

The state and every spatial leaf of the model, laid out (z, y, x, ...), are sharded along y
over a 1-D device mesh. The jitted loop then runs partitioned: reactions are local; the
implicit diffusion cycles its layout (z, y, x) -> (y, x, z) -> (x, z, y) between the three
sweeps and constrains each layout to be sharded along its second axis (`_diffusion._cycle`),
so the swept axis is always whole on every device and the partitioner turns each transpose
into one all-to-all. No device ever holds a whole field (tests/test_parallel.py checks the
compiled step has no all-gather). The arithmetic is that of a single device, so results
agree to round-off.

Multi-host: start every process with `jax.distributed.initialize()` (see docs/performance.md);
`jax.devices()` then lists the devices of all hosts and the same code shards across them.
"""

from __future__ import annotations

import datetime

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ._errors import InputError
from ._version import __version__


def platform() -> dict[str, str]:
    """Where a run computes, for its output's attributes: `jax_version`, `jax_backend` (cpu,
    gpu, ...) and `jax_devices` (count and kind, e.g. '1 x NVIDIA H200'). The same config
    gives the same results on another backend only to round-off (a CPU and a GPU run of the
    built-in scenario agree to the printed digits but one, docs/performance.md "GPU")."""
    devices = jax.devices()
    return {"jax_version": jax.__version__, "jax_backend": jax.default_backend(),
            "jax_devices": f"{len(devices)} x {devices[0].device_kind}"}


def history_line(what: str) -> str:
    """One line of a CF `history` attribute: UTC time, what was done and where."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    p = platform()
    return (f"{now} zn-pde {__version__} {what} on {p['jax_backend']} ({p['jax_devices']}, "
            f"jax {p['jax_version']})")


def check_devices(n_devices: int, y_extent: int | None = None, file: str | None = None) -> None:
    """`numerics.devices` must not exceed the visible devices and, for a sharded grid, must
    divide its y extent (voxels); raises InputError naming the key (and `file`)."""
    visible = len(jax.devices())
    if n_devices > visible:
        raise InputError(f"{n_devices} devices requested but only {visible} "
                         f"{jax.default_backend()} device(s) are visible; allowed: 1 to "
                         f"{visible}", file=file, key="numerics.devices")
    if y_extent is not None and y_extent % n_devices:
        raise InputError(f"the grid's y extent ({y_extent} voxels) must be divisible by the "
                         f"number of devices ({n_devices}); allowed: a divisor of "
                         f"{y_extent}", file=file, key="numerics.devices")


def device_mesh(n_devices: int) -> Mesh:
    check_devices(n_devices)
    return Mesh(jax.devices()[:n_devices], ("y",))


def shard_spatial(tree, grid_zyx: tuple[int, int, int], mesh: Mesh):
    """Place every array whose leading dims are the grid's (z, y, x) sharded along y; replicate
    the rest (scalars, per-species vectors)."""
    check_devices(mesh.size, grid_zyx[1])
    split = NamedSharding(mesh, PartitionSpec(None, "y"))
    whole = NamedSharding(mesh, PartitionSpec())

    def place(a):
        if not isinstance(a, jax.Array):
            return a
        spatial = a.ndim >= 3 and tuple(a.shape[:3]) == tuple(grid_zyx)
        return jax.device_put(a, split if spatial else whole)

    return jax.tree.map(place, tree)
