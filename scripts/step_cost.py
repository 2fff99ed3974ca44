"""Milliseconds per model step of the default scenario (64³), for the zn_pde package of the
checkout given as the first argument, so that two versions can be timed in one session:

    git worktree add /tmp/before <commit>
    python scripts/step_cost.py /tmp/before; python scripts/step_cost.py .

Best of `repeats` (second argument, default 3) runs of 30 steps after a warm-up; compilation
is excluded. docs/performance.md records the figures.
"""

from __future__ import annotations

import os
import sys
import time


def main() -> None:
    checkout = os.path.abspath(sys.argv[1])
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sys.path.insert(0, checkout)
    import zn_pde
    from zn_pde import build_model, load_config
    from zn_pde._solve import advance, factorise

    assert os.path.abspath(zn_pde.__file__).startswith(checkout), zn_pde.__file__
    model = build_model(load_config(None, []))
    factors, state = factorise(model), model.initial_state()
    steps = 30
    advance(model, factors, state, steps)[0].mobile.block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        advance(model, factors, state, steps)[0].mobile.block_until_ready()
        best = min(best, time.perf_counter() - t0)
    print(f"{checkout}: {1000 * best / steps:.1f} ms/step")


if __name__ == "__main__":
    main()
