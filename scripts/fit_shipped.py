"""Fit every shipped config (configs/fit_*.toml) into checkpoints/ and print the summary table.

    python scripts/fit_shipped.py                 # all fits, then the table
    python scripts/fit_shipped.py --table-only    # the table from the stored checkpoints
    python scripts/fit_shipped.py fit_zno_release # only the configs whose name contains this

Each fit is exactly `zn-pde fit configs/<config>.toml -o checkpoints --overwrite`. The table
(markdown) is what docs/fitting.md shows under "Shipped fits".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from zn_pde.fit._uncertainty import has_interval, interval_text

ROOT = Path(__file__).resolve().parents[1]


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def table(checkpoints: Path) -> str:
    rows = ["| fit | data | n | r² | RMSE | AIC (4PL/Weibull AIC) | parameters (95 % CI) |",
            "|---|---|---|---|---|---|---|"]
    for path in sorted(checkpoints.glob("*.json")):
        r = json.loads(path.read_text())
        if "metrics" not in r or "parameters" not in r:
            continue
        m = r["metrics"]
        params = []
        for name, p in r["parameters"].items():
            if p.get("fixed"):
                continue
            ci = p.get("ci95")
            # as the CLI prints it (`interval_text`), less the note
            ci_text = (f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"
                       if has_interval(ci) and p.get("identifiable") is True
                       else interval_text(p, note=False))
            params.append(f"{name} = {_fmt(p['value'])} {ci_text}")
        emp = r.get("empirical", {})
        best = min((v["total"]["aic"] for v in emp.values()
                    if v["total"].get("aic") is not None), default=None)
        sel, exc = r["data"].get("select") or {}, r["data"].get("exclude") or {}
        data = (", ".join(f"{k} {v}" for k, v in sel.items()) or "all rows") + "".join(
            f", except {k} {v}" for k, v in exc.items())
        if not sel and not exc:
            data = Path(r["data"]["path"]).name
        rows.append(f"| `{r['name']}` | {data} | {m['n']} | {_fmt(m['r2'])} | "
                    f"{_fmt(m['rmse'])} | {_fmt(m['aic'])} ({_fmt(best)}) | "
                    f"{'; '.join(params)} |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    checkpoints = ROOT / "checkpoints"
    if "--table-only" not in argv:
        wanted = [a for a in argv if not a.startswith("--")]
        for cfg in sorted((ROOT / "configs").glob("fit_*.toml")):
            if wanted and not any(w in cfg.stem for w in wanted):
                continue
            cmd = [sys.executable, "-m", "zn_pde", "fit", str(cfg.relative_to(ROOT)), "-o",
                   "checkpoints", "--overwrite"]
            print("$ zn-pde " + " ".join(cmd[3:]), flush=True)
            code = subprocess.call(cmd, cwd=ROOT)
            if code:
                return code
    print(table(checkpoints))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
