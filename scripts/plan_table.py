"""The README's table of shipped plans, from their JSON reports in checkpoints/.

    python scripts/plan_table.py                 print the table
    python scripts/plan_table.py --update-readme  replace it between the README's markers

Rerun the plans first (`zn-pde plan configs/plan_<name>.toml --overwrite` for each).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLANS = ("plan_us_timing", "plan_split_dose", "plan_zno_selective", "plan_zno2_selective")
QUESTIONS = {
    "plan_us_timing": "(1) ultrasound timing, intensity, duration; energy <= 180 J/cm^2",
    "plan_split_dose": "(2) one dose or two, and when to wash; total <= 20 ug/mL",
    "plan_zno_selective": "(3) ZnO: dose and ultrasound timing; normal tissue >= 80 %",
    "plan_zno2_selective": "(3) ZnO2 at equal zinc: the same",
}


def table() -> str:
    rows = ["| plan | controls: start -> optimum | tumour viability, start -> optimum | "
            "constraints, start -> optimum | solves with gradient, wall time |",
            "|---|---|---|---|---|"]
    for name in PLANS:
        r = json.loads((ROOT / "checkpoints" / f"{name}.json").read_text())
        controls = "; ".join(f"`{k}` {c['start']:.3g} -> **{c['optimum']:.3g}** {c['unit']}"
                             + (f" (at its {c['at_bound']} bound)" if c["at_bound"] else "")
                             for k, c in r["controls"].items())
        cons = "; ".join(f"{k} {c['start']:.4g} -> {c['optimum']:.4g} "
                         f"({'>=' if 'min' in c else '<='} "
                         f"{c.get('min', c.get('max')):g})" for k, c in r["constraints"].items())
        o = r["objective"]
        bare = o.get("optimum_without_stimuli")
        rows.append(f"| {QUESTIONS[name]} | {controls} | {o['start']:.3f} -> "
                    f"**{o['optimum']:.3f}**"
                    + ("" if bare is None else f" ({bare:.3f} without its stimuli)")
                    + f" | {cons} | {r['solves']['gradient']}, "
                    f"{r['wall_s']:.0f} s |")
    return "\n".join(rows)


def main() -> None:
    text = table()
    if "--update-readme" not in sys.argv:
        print(text)
        return
    readme = ROOT / "README.md"
    s = readme.read_text()
    new, n = re.subn(r"(<!-- plans:start -->\n).*?(\n<!-- plans:end -->)",
                     lambda m: m.group(1) + text + m.group(2), s, flags=re.S)
    if n != 1:
        raise SystemExit("README markers <!-- plans:start/end --> not found")
    readme.write_text(new)
    print(f"updated {readme}")


if __name__ == "__main__":
    main()
