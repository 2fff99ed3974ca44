"""The unsplit transport solve (`numerics.transport_solve = "unsplit"`) against the LOD one, in
one process: wall time of a run's steps, BiCGSTAB iterations per solve, and the axis
asymmetry of the ROS in the rim voxels that the LOD splitting leaves (docs/limitations.md).

    python scripts/bench_unsplit.py                       # default scenario, 64³, 1 h
    python scripts/bench_unsplit.py --set grid.shape=[24,24,24] --set grid.spacing_um=20.0 \
        --set geometry.radius_um=150.0 --exposure 1.5 1.0 --end-h 0.5167

Each solve runs the scenario (the built-in default unless `--config`, with `--set`
overrides) to `--end-h` h with one ultrasound exposure (`--exposure` W/cm² for minutes,
default 1.5 for 1, the default scenario's, but starting at 0.5 h, 1 MHz, replacing the
scenario's), stepping its protocol as `zn-pde run`
does but without writing; the steps are timed (wall and this process's CPU time, the latter
less disturbed by other jobs) after a one-step warm-up that compiles them,
LOD and unsplit one after the other in this process, `--rounds` times (best kept), so that
the ratio is what to read on a shared machine. Iterations are counted by a debug callback
(the unsplit runs are timed without it). The ROS of the tissue rim voxel on each axis
through the spheroid's centre (the lower side, the voxel on that axis nearest the centre
on the other two) is printed for each solve at the end.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import zn_pde._unsplit as unsplit
from zn_pde import build_model, load_config
from zn_pde._solve import Schedule, advance, factorise


def _run(overrides: list[str], solve: str, warm=lambda: None):
    model = build_model(load_config(None, overrides + [f"numerics.transport_solve='{solve}'"]))
    factors, state = factorise(model), model.initial_state()
    advance(model, factors, state, jnp.asarray(1))[0].mobile.block_until_ready()  # compile
    warm()
    t0, c0 = time.perf_counter(), time.process_time()
    for n in Schedule.from_model(model).chunks:
        state, _ = advance(model, factors, state, jnp.asarray(n))
    state.mobile.block_until_ready()
    return (model, state, (time.perf_counter() - t0, time.process_time() - c0),
            Schedule.from_model(model).total_steps)


def _rim(model, state) -> dict[str, float]:
    """ROS (µM) of the outermost tissue voxel below the centre along x, y and z."""
    tissue = np.asarray(model.tissue)
    ros = np.asarray(state.mobile[..., list(model.model_mobile_names).index("ros")], float)
    k = np.array(tissue.shape) // 2 - 1
    out = {}
    for axis, name in ((2, "x"), (1, "y"), (0, "z")):
        line = [tuple(k[:axis]) + (i,) + tuple(k[axis + 1:]) for i in range(tissue.shape[axis])]
        first = next(p for p in line if tissue[p])
        out[name] = float(ros[first])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    ap.add_argument("--end-h", type=float, default=1.0)
    ap.add_argument("--exposure", type=float, nargs=2, default=(1.5, 1.0),
                    metavar=("W_PER_CM2", "MIN"))
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    intensity, minutes = a.exposure
    overrides = a.overrides + [
        f"time.end_h={a.end_h}",
        f"ultrasound=[{{start_h=0.5, duration_min={minutes}, "
        f"intensity_W_per_cm2={intensity}, frequency_MHz=1.0}}]"]
    best: dict[str, np.ndarray] = {}
    for _ in range(a.rounds):
        for solve in ("lod", "unsplit"):
            model, state, seconds, steps = _run(overrides, solve)
            best[solve] = np.minimum(best.get(solve, np.inf), seconds)
            print(f"{solve}: {steps} steps in {seconds[0]:.2f} s wall, {seconds[1]:.2f} s CPU "
                  f"({1e3 * seconds[0] / steps:.1f} ms/step wall); ROS rim voxels (µM) "
                  f"{_rim(model, state)}", flush=True)
    wall, cpu = best["unsplit"] / best["lod"]
    print(f"unsplit / lod: wall time {wall:.2f}, CPU time {cpu:.2f}")

    counts: list[int] = []
    real = unsplit.bicgstab

    def counted(*args, **kw):
        x, k = real(*args, **kw)
        jax.debug.callback(lambda v: counts.append(int(v)), k)
        return x, k

    unsplit.bicgstab = counted
    jax.clear_caches()  # the timed runs compiled the step without the callback
    try:
        _run(overrides, "unsplit", warm=counts.clear)
    finally:
        unsplit.bicgstab = real
    c = np.array(counts)
    model_solves = c.reshape(-1, 2) if c.size % 2 == 0 else c[:, None]
    print("iterations per step (particles, then the species they feed): mean "
          f"{model_solves.mean(0).round(1).tolist()}, max {model_solves.max(0).tolist()}, "
          f"median {np.median(model_solves, 0).tolist()}")


if __name__ == "__main__":
    main()
