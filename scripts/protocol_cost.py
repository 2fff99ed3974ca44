"""What a short pulse costs: a 24 h protocol with one 10 s light pulse against the same
protocol without it, both at dt = 60 s, timed in one session (docs/performance.md).

The protocol is `configs/zno_spheroid_sdt_protocol.toml` (incubate, wash at 4 h, 1 MHz
ultrasound for 1 min at 4.25 h) cut to 24 h; the pulse is 365 nm, 50 mW/cm², 10 s at
6.1234 h, off the 60 s grid. Before event-exact stepping such a pulse forced the whole run
onto a 10 s step (6x the steps); now the solver lands on both ends of the pulse and takes
`time.exposure_min_steps` steps inside it.

    python scripts/protocol_cost.py [--shape 64] [--repeats 2]

Each run is the host loop of `zn-pde run` (`_solve.run`, saves every hour, no file), timed
after a first run that compiles; best of `repeats`, the two protocols interleaved. On a
shared machine whole runs are noisy (other jobs come and go within a minute), so the script
also times the step itself: best of `bursts` interleaved bursts of 30 steps of each model;
steps x that cost is the second ratio printed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax.numpy as jnp

from zn_pde import Schedule, build_model, load_config
from zn_pde._solve import advance, factorise, run

ROOT = Path(__file__).resolve().parents[1]
PULSE = ("light=[{start_h=6.1234, duration_min=0.16666666666666666, wavelength_nm=365.0, "
         "irradiance_mW_per_cm2=50.0}]")


def _timed(model, schedule) -> float:
    t0 = time.perf_counter()
    state = run(model, schedule, lambda *a: None)
    state.mobile.block_until_ready()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", type=int, default=64, help="voxels per axis (default 64)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--bursts", type=int, default=7)
    args = ap.parse_args()
    n = args.shape
    common = [f"grid.shape=[{n},{n},{n}]", f"grid.spacing_um={640.0 / n}", "time.end_h=24",
              "time.dt_s=60"]
    cases = {"without the pulse": common, "with a 10 s pulse": common + [PULSE]}
    built = {}
    for name, overrides in cases.items():
        c = load_config(ROOT / "configs" / "zno_spheroid_sdt_protocol.toml", overrides)
        model = build_model(c)
        schedule = Schedule.from_model(model)
        first = _timed(model, schedule)  # compiles
        built[name] = (model, schedule, first)
    best = {name: float("inf") for name in cases}
    for _ in range(args.repeats):
        for name, (model, schedule, _) in built.items():
            best[name] = min(best[name], _timed(model, schedule))
    for name, (_, schedule, first) in built.items():
        print(f"{name:<18} {schedule.total_steps:5d} steps  {best[name]:7.2f} s "
              f"({1000 * best[name] / schedule.total_steps:.1f} ms/step; first run with "
              f"compilation {first:.2f} s)")
    ratio = best["with a 10 s pulse"] / best["without the pulse"]
    print(f"cost ratio (with / without the pulse), whole runs: {ratio:.3f}  [{n}^3, dt 60 s, "
          "24 h]")
    burst = {name: float("inf") for name in cases}
    prepared = {name: (m, factorise(m), m.initial_state()) for name, (m, _, _) in built.items()}
    for _ in range(args.bursts):
        for name, (m, factors, state) in prepared.items():
            t0 = time.perf_counter()
            advance(m, factors, state, jnp.asarray(30))[0].mobile.block_until_ready()
            burst[name] = min(burst[name], (time.perf_counter() - t0) / 30)
    for name in cases:
        print(f"{name:<18} {1000 * burst[name]:.1f} ms/step (best of {args.bursts} bursts)")
    steady = {name: burst[name] * built[name][1].total_steps for name in cases}
    print(f"cost ratio (with / without the pulse), steps x step cost: "
          f"{steady['with a 10 s pulse'] / steady['without the pulse']:.3f}")


if __name__ == "__main__":
    main()
