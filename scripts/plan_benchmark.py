"""Benchmark `zn-pde plan`: a 4-control plan on the radial grid end to end, solves per second,
and the cost of a gradient relative to a forward solve, measured in the same run.

    python scripts/plan_benchmark.py [PLAN.toml]     (default configs/plan_split_dose.toml)

Prints: wall time of the whole plan (starts, Adam, polish, the reported re-runs), the number
of solves with gradient, solves per second, and for one evaluation at the start: a forward
solve of the planning model, a forward + reverse solve (gradient with respect to every float
leaf), and the builder differences (2 builds per control), best of 5 after compilation.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import jax

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zn_pde.plan import PlanProblem, load_plan, plan  # noqa: E402
from zn_pde.plan._problem import (  # noqa: E402
    _forward,
    _planning,
    _value_and_grad,
    build_model,
    canonical,
    planning_plan,
)


def best_of(f, n: int = 5) -> float:
    f()  # compile
    times = []
    for _ in range(n):
        t = time.perf_counter()
        jax.block_until_ready(f())
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "configs/plan_split_dose.toml")
    settings = load_plan(path)
    problem = PlanProblem(settings)
    cfg = problem.tumour(problem.start)
    sched = planning_plan(cfg, settings.controls, problem.start)
    model = canonical(build_model(_planning(cfg), plan=sched))
    forward = best_of(lambda: _forward(model))
    gradient = best_of(lambda: _value_and_grad(model)[0])
    t = time.perf_counter()
    problem.evaluate(problem.start)
    evaluation = time.perf_counter() - t
    print(f"plan {path.name}: {len(settings.controls)} controls, "
          f"{settings.config['grid']['kind']} grid {settings.config['grid']['shape']}, "
          f"{sched.total_steps} steps in the planning step plan "
          f"(the run's own plan: {build_model(cfg).protocol.plan.total_steps})")
    print(f"  forward solve {1e3 * forward:.1f} ms, forward + gradient {1e3 * gradient:.1f} ms "
          f"(gradient / forward = {gradient / forward:.2f}); one evaluation with the builder "
          f"differences {1e3 * evaluation:.0f} ms")
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        report = plan(settings, out, progress=False)
        wall = time.perf_counter() - t
    s = report["solves"]
    print(f"  whole plan: {wall:.1f} s wall, {s['gradient']} solves with gradient + "
          f"{s['forward']} forward, {s['gradient'] / wall:.2f} gradient solves/s; objective "
          f"{report['objective']['start']:.4f} -> {report['objective']['optimum']:.4f}")
    print(f"  machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
          f"jax {jax.__version__} {jax.default_backend()}")


if __name__ == "__main__":
    main()
