"""Check `zn-pde design`'s ranking by refitting every candidate (docs/fitting.md).

Synthetic release data at pH 7.4 only (24-120 h; k7.4 = 2e-3 /h, n = 0.9, dose 2 ug/mL,
sd 0.5 %, noise-free: the setting of tests/test_design.py), where the proton order is not
identifiable. The design ranks a grid of candidates at the fitted point; each candidate is then
added (its noise-free value at the true constants) and the fit rerun. Prints, per candidate,
the predicted and the refitted standard error of ln n (Gauss-Newton; "free": not identifiable)
as a markdown table.

    python scripts/design_refit_check.py [--times 1,6,24,72] [--ph 5.5,6.5,7.4]
                                         [--order-at 0.5,1,2,4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import jax

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--times", default="1,6,24,72", help="candidate times (h)")
    ap.add_argument("--ph", default="5.5,6.5,7.4", help="candidate pH values")
    ap.add_argument("--order-at", default="", help="average the criterion over these proton "
                    "orders ([design] at), e.g. 0.5,1,2,4")
    a = ap.parse_args()
    jax.config.update("jax_enable_x64", True)
    import test_design as t  # the synthetic data and fit settings of the test

    from zn_pde.fit import design, fit, load_fit_config
    from zn_pde.fit._uncertainty import has_interval

    times = [float(v) for v in a.times.split(",")]
    phs = [float(v) for v in a.ph.split(",")]
    t.DESIGN = (f"[design]\ncandidates = {{ time_h = {times}, pH = {phs} }}\n")
    if a.order_at:
        orders = [float(v) for v in a.order_at.split(",")]
        t.DESIGN += f"at = {{ dissolution_proton_order = {orders} }}\n"
        print(f"criterion averaged over proton orders {orders}")
    d = Path(tempfile.mkdtemp(prefix="design_check_"))
    t.write_fit(d, "one_ph", t.TIMES, [7.4] * len(t.TIMES))
    fit(load_fit_config(d / "one_ph.toml", t.FAST), d / "out", figure=False)
    report = design(load_fit_config(d / "one_ph.toml", t.FAST), None,
                    checkpoint=d / "out" / "one_ph.json").report
    order = "dissolution_proton_order"
    p = report["parameters"]
    print(f"fitted point: k7.4 = {p['dissolution_rate_per_h']['value']:.4g} /h, n = "
          f"{p[order]['value']:.4g} (true {t.TRUE[order]}); se of ln n before: "
          f"{p[order]['se_ln_before']:.3g} (box prior)\n")
    print("| rank | time (h) | pH | ln det gain | predicted se of ln n | refitted se of ln n "
          "| refitted n (95 % CI) |")
    print("|---|---|---|---|---|---|---|")
    for c in report["candidates"]:
        tc, pc = c["conditions"]["time_h"], c["conditions"]["pH"]
        name = f"c{c['rank']}"
        t.write_fit(d, name, list(t.TIMES) + [tc], [7.4] * len(t.TIMES) + [pc])
        r = fit(load_fit_config(d / f"{name}.toml", t.FAST), None, figure=False).report
        q = r["parameters"][order]
        se = f"{q['se_ln']:.3g}" if q["se_ln"] is not None else "free"
        ci = (f"{q['value']:.3g} ({q['ci95'][0]:.3g}-{q['ci95'][1]:.3g})" if has_interval(q["ci95"])
              else f"{q['value']:.3g} (none)")
        print(f"| {c['rank']} | {tc:g} | {pc:g} | {c['logdet_gain_nat']:.3g} | "
              f"{c['se_ln_after'][order]:.3g} | {se} | {ci} |")


if __name__ == "__main__":
    main()
