"""Fitting benchmarks (not timed tests): run on 2 CPU cores with

    taskset -c 0,1 python scripts/fit_benchmark.py [release] [viability] [spheroid]

1. release:   a joint release fit across 3 pH values (synthetic first-order data, 6 times per
              pH, the default optimiser settings, profile likelihood included): wall time of
              `zn-pde fit` in a fresh process, imports and compilation included, with an
              empty compilation cache (cold) and again with the cache it filled (cached).
2. viability: the joint fit of one shipped source across its exposure times
              (configs/fit_zno_viability_shsy5y_mtt.toml: 4 exposure times, 31 points, 8
              simulated doses), cold and cached, profile likelihood off (an optional extra).
3. spheroid:  the cost of the gradient of a spheroid observable (32³ grid, 24 h, Δt = 300 s,
              float32) by reverse mode through the checkpointed solve, relative to its forward
              run (both compiled; the median of 3 runs each).
Prints one line per figure; `--json` also writes them to scripts/fit_benchmark.json.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _release_files(d: Path) -> Path:
    lines = ["time_h,released_percent,pH,dose_ug_per_ml"]
    for ph in (5.5, 6.5, 7.4):
        k = 2e-3 * 10 ** (0.9 * (7.4 - ph))
        for t in (1.0, 2.0, 4.0, 8.0, 24.0, 48.0):
            lines.append(f"{t},{100 * -math.expm1(-k * t):.4f},{ph},2.0")
    (d / "release.csv").write_text("\n".join(lines) + "\n")
    cfg = d / "release.toml"
    cfg.write_text('[fit]\nname = "bench_release"\nobservable = "release"\n'
                   'data = "release.csv"\n')
    return cfg


def _cli(cfg: Path, out: Path, overrides: list[str], cache: Path) -> float:
    """Wall seconds of `zn-pde fit` in a fresh process (imports and compilation included)."""
    env = dict(os.environ, ZN_PDE_CACHE_DIR=str(cache))
    cmd = [sys.executable, "-m", "zn_pde", "fit", str(cfg), "-o", str(out), "--quiet",
           "--overwrite"]
    cmd += [f"--set={o}" for o in overrides]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, capture_output=True)
    return time.perf_counter() - t0


def bench_fit(which: str) -> dict[str, float]:
    """`zn-pde fit` with an empty compilation cache (cold), again with the cache filled by
    the first run (cached), and r² of the result."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        if which == "release":
            cfg, overrides = _release_files(d), []
        else:
            cfg = ROOT / "configs" / "fit_zno_viability_shsy5y_mtt.toml"
            overrides = ["fit.profile=false"]
        cold = _cli(cfg, d / "out", overrides, d / "cache")
        cached = _cli(cfg, d / "out", overrides, d / "cache")
        name = json.loads(next((d / "out").glob("*.json")).read_text())
    return {"cold_cli_s": cold, "cached_cli_s": cached, "r2": name["metrics"]["r2"],
            "fit_s_inside": name["wall_s"]}


def bench_spheroid() -> dict[str, float]:
    import jax
    import jax.numpy as jnp

    from zn_pde.fit import build_problem, fit_config_from_dict

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h\n"
                                 "20,80,24\n")
        raw = {"fit": {"name": "bench_sph", "observable": "spheroid_viability",
                       "data": "v.csv", "simulation": {
                           "grid": {"shape": [32, 32, 32], "spacing_um": 20.0},
                           "geometry": {"radius_um": 250.0}, "time": {"dt_s": 300.0}}}}
        problem = build_problem(fit_config_from_dict(raw, "<bench>", d))
    x = jnp.log(jnp.asarray(problem.free.initial, problem.prediction.dtype))
    forward = jax.jit(problem.loss)
    gradient = jax.jit(jax.grad(problem.loss))
    out = {}
    for name, f in (("forward", forward), ("gradient", gradient)):
        t0 = time.perf_counter()
        jax.block_until_ready(f(x))
        out[f"{name}_compile_s"] = time.perf_counter() - t0
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            jax.block_until_ready(f(x))
            runs.append(time.perf_counter() - t0)
        out[f"{name}_run_s"] = statistics.median(runs)
    out["gradient_over_forward"] = out["gradient_run_s"] / out["forward_run_s"]
    out["steps"] = problem.prediction.schedule.total_steps
    return out


def main(argv: list[str]) -> int:
    which = [a for a in argv if not a.startswith("--")] or ["release", "viability", "spheroid"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    results = {"cpu_cores": cores, "load_average_1min": os.getloadavg()[0]}
    for w in which:
        results[w] = bench_spheroid() if w == "spheroid" else bench_fit(w)
        print(w, json.dumps({k: round(v, 3) for k, v in results[w].items()}), flush=True)
    print(f"cores {cores}, load average at the end {os.getloadavg()[0]:.2f}")
    if "--json" in argv:
        (ROOT / "scripts" / "fit_benchmark.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
