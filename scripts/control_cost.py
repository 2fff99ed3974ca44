"""What the control run costs: `zn-pde run` of the default scenario with and without it.

    python scripts/control_cost.py [--shape 64] [--repeats 1]

Times the whole command (start-up, compiling, the run, the file, and the control run without
the stimuli that a run with exposures also makes; `--no-control` skips it), the two
interleaved, and prints each wall time and the ratio of the medians (with / without). The
grid is the default's 64^3 x 10 um or, with --shape N, N^3 voxels over the same 640 um box.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall_s(out: Path, shape: int, control: bool) -> float:
    cmd = [sys.executable, "-m", "zn_pde", "run", "-o", str(out), "--overwrite", "--quiet",
           "--set", f"grid.shape=[{shape},{shape},{shape}]",
           "--set", f"grid.spacing_um={640.0 / shape}"]
    if not control:
        cmd.append("--no-control")
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", type=int, default=64)
    p.add_argument("--repeats", type=int, default=1)
    a = p.parse_args()
    times: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.h5"
        for _ in range(a.repeats):
            for control in (False, True):
                times[control].append(wall_s(out, a.shape, control))
    without, with_ = statistics.median(times[False]), statistics.median(times[True])
    print(f"grid {a.shape}^3, {a.repeats} repeat(s): without the control "
          f"{', '.join(f'{t:.1f}' for t in times[False])} s; with it "
          f"{', '.join(f'{t:.1f}' for t in times[True])} s; ratio of medians "
          f"{with_ / without:.3f}")


if __name__ == "__main__":
    main()
