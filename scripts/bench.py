"""Benchmarks of the transport core and the full model step (not timed tests).

    python scripts/bench.py            # 96^3 x 4 species transport, default-scenario model step
    python scripts/bench.py --quick    # smaller, for a smoke run

Reports voxel-species updates per second and bytes per voxel-species (XLA's compiled memory
analysis: arguments + outputs + temporaries − donated buffers of one jitted loop), and, as a
same-run reference,
the rate at which NumPy merely copies the same array (one read + one write per value): the
ratio says how many array copies one implicit LOD step costs.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from zn_pde import build_model, load_config
from zn_pde._diffusion import diffuse, make_transport
from zn_pde._solve import advance, factorise


def _time(fn, repeats: int) -> float:
    fn()  # compile / warm
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def transport_core(n: int, species: int, steps: int, repeats: int) -> dict:
    """Implicit LOD diffusion of `species` fields on n^3 with tissue/medium diffusivities."""
    shape = (n, n, n)
    zz, yy, xx = np.meshgrid(*[np.arange(n)] * 3, indexing="ij")
    ball = (xx - n / 2) ** 2 + (yy - n / 2) ** 2 + (zz - n / 2) ** 2 < (0.4 * n) ** 2
    d_tissue = jnp.asarray([1.0, 275.0, 560.0, 50.0][:species], jnp.float32)
    d_medium = jnp.asarray([10.0, 703.0, 1430.0, 500.0][:species], jnp.float32)
    c0 = jnp.asarray(np.random.default_rng(0).uniform(0, 1, shape + (species,)), jnp.float32)
    tissue = jnp.asarray(ball)

    # the state buffer is donated, as the carried state of the solver's scan is updated in place
    @functools.partial(jax.jit, donate_argnums=0)
    def loop(c, tissue):  # as in Model.transport: D built from the mask inside the jit
        d = jnp.where(tissue[..., None], d_tissue, d_medium)
        tr = make_transport(d, 60.0, 10.0, jnp.ones(species, jnp.float32))
        return jax.lax.fori_loop(0, steps, lambda i, c: diffuse(tr, c), c)

    sec = _time(lambda: loop(jnp.copy(c0), tissue).block_until_ready(), repeats)
    mem = loop.lower(c0, tissue).compile().memory_analysis()
    nbytes = (mem.argument_size_in_bytes + mem.output_size_in_bytes + mem.temp_size_in_bytes
              - mem.alias_size_in_bytes)  # a donated input shares the output buffer
    vs = n**3 * species
    host = np.asarray(c0)
    copy_sec = _time(lambda: host.copy(), repeats * 5)
    return {"grid": f"{n}^3 x {species}", "updates_per_s": vs * steps / sec,
            "bytes_per_voxel_species": nbytes / vs, "copy_updates_per_s": vs / copy_sec,
            "step_ms": 1e3 * sec / steps}


def model_step(shape: int, steps: int, repeats: int) -> dict:
    """The full default scenario's step (reactions + transport) on shape^3."""
    c = load_config(None, [f"grid.shape=[{shape},{shape},{shape}]",
                           f"grid.spacing_um={640 / shape}"])
    model = build_model(c)
    tr = factorise(model)
    s0 = model.initial_state()
    sec = _time(lambda: advance(model, tr, s0, steps)[0].mobile.block_until_ready(), repeats)
    voxels = shape**3
    n_vars = len(model.mobile_names) + len(model.fixed_names)
    return {"grid": f"{shape}^3, {n_vars} variables", "steps_per_s": steps / sec,
            "voxel_updates_per_s": voxels * steps / sec,
            "sim_hours_per_s": steps * model.dt_s / 3600 / sec}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n, steps, rep = (48, 5, 2) if a.quick else (96, 10, 3)
    print(f"# zn-pde bench on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, jax {jax.__version__} ({jax.default_backend()})")
    t = transport_core(n, 4, steps, rep)
    print("| benchmark | figure |\n|---|---|")
    print(f"| transport core {t['grid']}, LOD backward Euler | "
          f"{t['updates_per_s']:.3g} voxel-species updates/s ({t['step_ms']:.1f} ms/step) |")
    print(f"| same-run reference: NumPy copy of the same array | "
          f"{t['copy_updates_per_s']:.3g} values/s; ratio core/copy = "
          f"{t['updates_per_s'] / t['copy_updates_per_s']:.3f} |")
    print(f"| peak memory of the jitted transport loop | "
          f"{t['bytes_per_voxel_species']:.1f} bytes per voxel-species |")
    m = model_step(32 if a.quick else 64, 20 if a.quick else 60, rep)
    print(f"| full model step, default scenario, {m['grid']} | {m['steps_per_s']:.3g} steps/s, "
          f"{m['voxel_updates_per_s']:.3g} voxel-steps/s, {m['sim_hours_per_s']:.3g} "
          f"simulated h/s |")


if __name__ == "__main__":
    main()
