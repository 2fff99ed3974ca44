"""Do two checkouts of zn_pde give the same fields? Runs each config for `--hours` simulated
hours in each checkout (fresh processes) and reports the largest relative difference of every
final field, max |a − b| / max |a| per variable, against the tolerance:

    git worktree add /tmp/before <commit>
    python scripts/compare_checkouts.py /tmp/before . --precision float64 --tol 1e-5
    python scripts/compare_checkouts.py /tmp/before . --precision float32 --tol 1e-4

Default configs: the shipped spheroid scenarios of each material (ZnO, ZnO₂ with H₂O₂, ZnS
with H₂S, ZIF-8 with cargo), oxygen with repeated ultrasound, UV light, the SDT protocol
(a wash and a medium exchange), the radial spheroid and the well-mixed culture, on a 24³
grid (3D configs) so that the check is cheap. Exit status 1 when any field differs by more
than `--tol`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

CONFIGS = ["configs/zno_spheroid_ultrasound.toml", "configs/zno2_spheroid_ultrasound.toml",
           "configs/zns_spheroid_ultrasound.toml", "configs/zif8_spheroid_ultrasound.toml",
           "configs/zno_spheroid_oxygen_repeated_us.toml", "configs/zno_spheroid_uv.toml",
           "configs/zno_spheroid_sdt_protocol.toml", "configs/zno_spheroid_radial.toml",
           "configs/zno_culture_well_mixed.toml"]

CHILD = """
import sys, numpy as np
sys.path.insert(0, {checkout!r})
import zn_pde
assert zn_pde.__file__.startswith({checkout!r}), zn_pde.__file__
from zn_pde import build_model, load_config
from zn_pde._solve import advance, factorise
overrides = {overrides!r}
kind = load_config({config!r}, [])["grid"]["kind"]
c = load_config({config!r}, [o for o in overrides
                             if kind == "cartesian" or not o.startswith("grid.")])
m = build_model(c)
steps = int(round({hours} * 3600 / m.dt_s))
s, _ = advance(m, factorise(m), m.initial_state(), steps)
f = m.fields(s)
np.savez({out!r}, **{{k: np.asarray(v) for k, v in f.items()}})
"""


def run(checkout: str, config: str, hours: float, precision: str, grid: int, out: str) -> None:
    overrides = [f"numerics.precision={precision}"]
    if grid:
        overrides += [f"grid.shape=[{grid},{grid},{grid}]", f"grid.spacing_um={640 / grid}"]
    code = CHILD.format(checkout=os.path.abspath(checkout), overrides=overrides,
                        config=os.path.abspath(config), hours=hours, out=out)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout))
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("candidate")
    ap.add_argument("--configs", nargs="*", default=CONFIGS)
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--precision", choices=("float32", "float64"), default="float64")
    ap.add_argument("--grid", type=int, default=24, help="3D grids run on grid³ (0: as is)")
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for config in a.configs:
            files = []
            for i, checkout in enumerate((a.reference, a.candidate)):
                files.append(os.path.join(tmp, f"{i}.npz"))
                run(checkout, config, a.hours, a.precision, a.grid, files[-1])
            ref, new = (np.load(f) for f in files)
            diffs = {k: float(np.max(np.abs(new[k] - ref[k])) / max(np.max(np.abs(ref[k])),
                                                                       1e-300))
                     for k in ref.files}
            name, d = max(diffs.items(), key=lambda x: x[1])
            worst = max(worst, d)
            print(f"{os.path.basename(config)}: largest relative difference {d:.2e} ({name}) "
                  f"{'ok' if d <= a.tol else 'ABOVE ' + str(a.tol)}", flush=True)
    print(f"worst {worst:.2e}, tolerance {a.tol:g} ({a.precision}, {a.hours:g} h)")
    return 0 if worst <= a.tol else 1


if __name__ == "__main__":
    sys.exit(main())
