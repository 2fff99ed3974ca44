"""Radial spheroid grid: cost against the 3D grid, accuracy against a 3D spheroid, and a
spheroid viability fit on the radial grid. Prints Markdown tables (pasted into
docs/performance.md, "Radial grid"); run from the repository root:

    python scripts/radial_speed.py speed      [--end-h 24]   # cost per simulated hour
    python scripts/radial_speed.py accuracy   [--end-h 24]   # radial vs 3D (closed well)
    python scripts/radial_speed.py fit                       # 30-point dose x time fit
    python scripts/radial_speed.py default                   # shipped radial vs 3D default

speed: the default scenario without its one-sided ultrasound (`ultrasound = []`, Dirichlet
medium at the walls, dt = 60 s) on its own 3D grid (64³ voxels of 10 µm) and on radial grids
of 10 and 2.5 µm shells out to the radius of the sphere inscribed in that box (320 µm). Each
is compiled first, then timed (3D over one simulated hour, radial over the whole run).

accuracy: the same spheroid in a closed well (zero-flux walls) of the same medium volume
(a 640 µm cube; a sphere of radius 640·(3/4π)^⅓ = 397 µm), so box and sphere hold the same
amounts and only the discretisation differs; 3D at 10 and 5 µm voxels against radial shells
of 250/63 µm (100 shells, 396.8 µm) and half that. dt = 300 s. Quantities: tissue-mean
viability, interstitial Zn²⁺ and intracellular zinc, and the particle mass profile against
depth below the surface (3D: averaged over 10 µm depth bins; compared at the bin centres,
difference relative to the profile's maximum). The Dirichlet box and sphere differ as domains
(the 3D box's corners hold more medium near the spheroid than a sphere of the inscribed
radius), which the same tables show for the Dirichlet walls.

fit: synthetic viability of a 200 µm-radius spheroid (10 doses x 24, 48, 72 h = 30 points)
from the radial model at known kinetics, fitted back from the standard starts with the
`spheroid_viability` observable on a radial grid (`[fit.simulation] grid.kind = "radial"`).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

from zn_pde import build_model, load_config
from zn_pde._run import _output_fields, summarise
from zn_pde._solve import Schedule, advance, factorise

NO_STIMULUS = ["ultrasound=[]"]
QUANTITIES = (("tissue_mean_viability", "viability (%)", 100.0),
              ("tissue_mean_zn", "interstitial Zn²⁺ (µM)", 1.0),
              ("tissue_mean_zn_cell", "intracellular Zn (µM)", 1.0),
              ("penetration_depth_um", "penetration (µm)", 1.0))


def _timed_run(c: dict, steps: int | None = None, warm: bool = True):
    """(seconds per step, final state, model); `warm`: compile (by a first run) before
    timing, otherwise the time includes compiling."""
    model = build_model(c)
    total = Schedule.from_config(c).total_steps
    n = total if steps is None else steps
    factors = factorise(model)
    state = model.initial_state()
    if warm:
        jax.block_until_ready(advance(model, factors, state, n))
    t0 = time.perf_counter()
    out, _ = advance(model, factors, state, n)
    jax.block_until_ready(out)
    per_step = (time.perf_counter() - t0) / n
    if steps is not None and steps != total:
        out, _ = advance(model, factors, state, total)
    return per_step, out, model


def speed(end_h: float) -> str:
    base = NO_STIMULUS + [f"time.end_h={end_h}", "time.dt_s=60",
                          f"time.save_every_min={end_h * 60}"]
    cases = [("3D 64³ x 10 µm", []),
             ("radial 32 x 10 µm", ["grid.kind='radial'", "grid.shape=[32]"]),
             ("radial 128 x 2.5 µm", ["grid.kind='radial'", "grid.shape=[128]",
                                       "grid.spacing_um=2.5"])]
    rows, ref = [], None
    for label, over in cases:
        c = load_config(None, base + over)
        steps = 60 if not over else None  # 3D: one simulated hour is enough to time
        per_step, _, _ = _timed_run(c, steps)
        per_hour = per_step * 3600.0 / 60.0
        ref = per_hour if ref is None else ref
        rows.append(f"| {label} | {per_step * 1e3:.4g} | {per_hour:.4g} | {ref / per_hour:.0f} |")
    head = ["| grid | ms per step | s per simulated hour | cheaper than 3D (x) |",
            "|---|---|---|---|"]
    return "\n".join(head + rows)


def _depth_profile(model, state, bin_um: float = 10.0):
    """Particle mass per cell volume (µg/mL) averaged over depth bins below the surface."""
    fields = _output_fields(model, state)
    mass = np.asarray(model.particle_mass(fields), float)
    tissue = np.asarray(model.tissue)
    depth = np.asarray(model.depth_um)[tissue]
    vol = np.asarray(model.volume_um3, float)[tissue]
    b = np.floor(depth / bin_um).astype(int)
    total = np.bincount(b, weights=vol * mass[tissue])
    weight = np.bincount(b, weights=vol)
    centre = np.bincount(b, weights=vol * depth) / np.where(weight > 0, weight, 1)
    ok = weight > 0
    return centre[ok], total[ok] / weight[ok]


def accuracy(end_h: float, walls: str) -> str:
    closed = walls == "neumann"
    base = NO_STIMULUS + [f"time.end_h={end_h}", "time.dt_s=300",
                          f"time.save_every_min={end_h * 60}", f"boundary.kind='{walls}'"]
    if closed:
        radial = [("radial 100 x 3.97 µm", ["grid.shape=[100]", f"grid.spacing_um={250 / 63}"]),
                  ("radial 200 x 1.98 µm", ["grid.shape=[200]", f"grid.spacing_um={250 / 126}"])]
    else:
        radial = [("radial 32 x 10 µm", ["grid.shape=[32]"]),
                  ("radial 128 x 2.5 µm", ["grid.shape=[128]", "grid.spacing_um=2.5"])]
    cases = [(label, ["grid.kind='radial'"] + o) for label, o in radial] + [
        ("3D 64³ x 10 µm", []),
        ("3D 128³ x 5 µm", ["grid.shape=[128,128,128]", "grid.spacing_um=5"])]
    results = {}
    for label, over in cases:
        t0 = time.perf_counter()
        _, state, model = _timed_run(load_config(None, base + over), warm=False)
        results[label] = (summarise(model, _output_fields(model, state)),
                          _depth_profile(model, state), time.perf_counter() - t0)
        print(f"  {label}: {results[label][2]:.0f} s", flush=True)
    ref_label = radial[-1][0]
    ref, (ref_d, ref_p), _ = results[ref_label]
    head = ("| grid | " + " | ".join(q[1] for q in QUANTITIES)
            + " | particle profile vs reference (max % of peak) | wall time incl. compile (s) |")
    rows = [head, "|---|" + "---|" * (len(QUANTITIES) + 2)]
    for label, (s, (d, p), wall) in results.items():
        cells = []
        for key, _, scale in QUANTITIES:
            diff = 100 * (s[key] - ref[key]) / abs(ref[key]) if label != ref_label else None
            cells.append(f"{scale * s[key]:.4g}" + (f" ({diff:+.2g} %)" if diff is not None
                                                     else " (reference)"))
        prof = np.interp(d, ref_d, ref_p)
        err = 100 * np.max(np.abs(p - prof)) / np.max(ref_p)
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {err:.2g} | {wall:.0f} |")
    return "\n".join(rows)


def default_scenario() -> str:
    """The shipped radial config (ultrasound from all sides) against the built-in 3D default
    (the same exposure entering through z = 0), 24 h at dt = 60 s."""
    keys = (("tissue_mean_viability", "viability (%)", 100.0),
            ("tissue_rim_viability", "rim viability (%)", 100.0),
            ("tissue_mean_zn_cell", "intracellular Zn (µM)", 1.0),
            ("tissue_mean_zn", "interstitial Zn²⁺ (µM)", 1.0),
            ("depth_of_kill_um", "depth of kill (µm)", 1.0),
            ("penetration_depth_um", "penetration (µm)", 1.0))
    rows = ["| run | " + " | ".join(k[1] for k in keys) + " | wall time incl. compile (s) |",
            "|---|" + "---|" * (len(keys) + 1)]
    for label, path in (("3D default, 64³ x 10 µm, beam through z = 0", None),
                        ("configs/zno_spheroid_radial.toml, 32 x 10 µm, from all sides",
                         "configs/zno_spheroid_radial.toml")):
        t0 = time.perf_counter()
        _, state, model = _timed_run(load_config(path), warm=False)
        s = summarise(model, _output_fields(model, state))
        rows.append(f"| {label} | " + " | ".join(f"{f * s[k]:.4g}" for k, _, f in keys)
                    + f" | {time.perf_counter() - t0:.0f} |")
    return "\n".join(rows)


FIT_TOML = """\
[fit]
name = "radial_spheroid"
observable = "spheroid_viability"
data = "synthetic.csv"
material = "ZnO"
profile = false

[fit.simulation]
grid = {{ kind = "radial", shape = [25], spacing_um = 10.0 }}
geometry = {{ radius_um = 200.0 }}
time = {{ dt_s = 600.0 }}
numerics = {{ precision = "float64" }}
{kinetics}
"""


def fit_benchmark() -> str:
    from zn_pde.fit import fit, load_fit_config
    from zn_pde.fit._report import synthetic_table
    from zn_pde.observables import OBSERVABLES

    truth = {"uptake_rate_per_h": 0.2, "energy_kill_max_per_h": 0.2, "energy_kill_hill": 2.0}
    doses = np.geomspace(2.0, 200.0, 10)
    times = np.repeat([24.0, 48.0, 72.0], doses.size)
    table = synthetic_table("viability", {
        "concentration_ug_per_ml": np.tile(doses, 3), "exposure_h": times,
        "viability_percent": np.zeros(times.size)})
    obs = OBSERVABLES["spheroid_viability"]
    kin = "kinetics = { " + ", ".join(f"{k} = {v}" for k, v in truth.items()) + " }"
    sim = load_fit_config_dict(FIT_TOML.format(kinetics=kin))
    pred = obs.prediction(table, (), material="ZnO", simulation=sim, settings={})
    observed = np.asarray(jax.jit(pred)(jax.numpy.zeros(0)))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lines = ["concentration_ug_per_ml,viability_percent,exposure_h"]
        lines += [f"{d:.6g},{v:.6g},{t:g}" for d, v, t in
                  zip(np.tile(doses, 3), observed, times, strict=True)]
        (tmp / "synthetic.csv").write_text("\n".join(lines) + "\n")
        (tmp / "f.toml").write_text(FIT_TOML.format(kinetics=""))
        t0 = time.perf_counter()
        result = fit(load_fit_config(tmp / "f.toml"), outdir=None, figure=False)
        wall = time.perf_counter() - t0
    got = result.report["parameters"]
    rows = ["| parameter | truth | fitted |", "|---|---|---|"]
    rows += [f"| {k} | {v:g} | {got[k]['value']:.4g} |" for k, v in truth.items()]
    m = result.report["metrics"]
    return (f"30 points (10 doses x 3 times, synthetic viability {observed.min():.3g} to "
            f"{observed.max():.3g} %), {len(truth)} free parameters: {wall:.1f} s wall on this "
            f"machine (compile included), r2 = {m['r2']:.6f}\n\n" + "\n".join(rows))


def load_fit_config_dict(text: str) -> dict:
    import tomllib

    return tomllib.loads(text)["fit"]["simulation"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("speed", "accuracy", "fit", "default"))
    ap.add_argument("--end-h", type=float, default=24.0)
    ap.add_argument("--walls", choices=("neumann", "dirichlet"), default="neumann")
    a = ap.parse_args()
    if a.what == "speed":
        print(speed(a.end_h))
    elif a.what == "accuracy":
        print(accuracy(a.end_h, a.walls))
    elif a.what == "default":
        print(default_scenario())
    else:
        print(fit_benchmark())


if __name__ == "__main__":
    main()
