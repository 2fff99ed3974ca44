"""Where a model step's time goes, by source: the XLA kernels of the jitted loop, each
attributed to the zn_pde modules its operations come from.

    python scripts/step_profile.py                       # the default scenario at 64³
    python scripts/step_profile.py --set grid.shape=[32,32,32] --steps 20 --top 15

Runs `steps` steps under `jax.profiler` (after a compiling run) and reads the kernel times
back from its Perfetto trace; the optimised HLO (dumped with `XLA_FLAGS=--xla_dump_to`, which
this script sets for itself) says which source lines each fused kernel holds. A kernel's
time is split between "transport" (operations from `_diffusion.py`: the implicit solves,
their set-up and transposes), "reaction" (`_kinetics.py`: rates, the split of what the
sinks removed, `react`) and "glue" (`_model.py`'s packing of the state, `_protocol.py`, the
loop) in proportion to its operations from each. Only leaf kernels are summed (a while
loop's own event encloses its body's). The profiler adds some overhead; the split, not the
total, is the point. docs/performance.md ("Reaction part of the step") records the figures.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile

SKIP = ("parameter", "constant", "bitcast", "broadcast", "get-tuple-element", "tuple")


def _fusion_sources(hlo_text: str) -> dict[str, collections.Counter]:
    """Instruction name -> how many of the operations it runs come from each zn_pde source
    file (parameters, constants, bitcasts and broadcasts not counted)."""
    files = dict(re.findall(r'^(\d+) "(.*)"$', hlo_text.split("FunctionNames")[0], re.M))
    locs = {i: f for i, f in re.findall(r"^(\d+) \{file_name_id=(\d+)", hlo_text, re.M)}
    frames = {i: (loc, parent) for i, loc, parent in re.findall(
        r"^(\d+) \{file_location_id=(\d+) parent_frame_id=(\d+)\}", hlo_text, re.M)}

    def sources(frame: str) -> set[str]:
        out = set()
        while frame in frames and frame != "0":
            loc, parent = frames[frame]
            name = os.path.basename(files.get(locs.get(loc, ""), ""))
            if name.startswith("_") and name.endswith(".py") and "zn_pde" in files.get(
                    locs.get(loc, ""), ""):
                out.add(name)
                break  # the innermost zn_pde frame
            if parent == frame:
                break
            frame = parent
        return out

    comps: dict[str, collections.Counter] = {}
    current = None
    calls: dict[str, str] = {}
    own: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in hlo_text.splitlines():
        m = re.match(r"^%?([\w.\-]+) .*\{$", line) if not line.startswith(" ") else None
        if m:
            current = m.group(1)
            comps[current] = collections.Counter()
            continue
        m = re.match(r"^\s+(?:ROOT )?%?([\w.\-]+) = \S+ ([\w\-]+)\(", line)
        if not m or current is None:
            continue
        name, op = m.groups()
        f = re.search(r"stack_frame_id=(\d+)", line)
        if f and op not in SKIP:
            src = collections.Counter(sources(f.group(1)) or {"other"})
            comps[current].update(src)
            own[name].update(src)
        c = re.search(r"calls=%?([\w.\-]+)", line)
        if c:
            calls[name] = c.group(1)
    return {name: (comps.get(calls[name], collections.Counter()) + own[name]
                   if name in calls else own[name]) for name in set(own) | set(calls)}


PART = {"_diffusion.py": "transport", "_kinetics.py": "reaction"}


def split(counts: collections.Counter) -> dict[str, float]:
    """A kernel's share of each part, in proportion to its operations from each source."""
    total = sum(counts.values()) or 1
    out: dict[str, float] = collections.defaultdict(float)
    for src, n in counts.items():
        out[PART.get(src, "glue")] += n / total
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--config", default=None)
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="zn_step_profile_")
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               f" --xla_dump_to={work}/hlo --xla_dump_hlo_as_text").strip()
    import jax

    from zn_pde import build_model, load_config
    from zn_pde._solve import advance, factorise

    model = build_model(load_config(a.config, a.overrides))
    factors, state = factorise(model), model.initial_state()
    state = advance(model, factors, state, a.steps)[0]  # compile, and a state under way
    jax.block_until_ready(state)
    jax.profiler.start_trace(f"{work}/trace", create_perfetto_trace=True)
    jax.block_until_ready(advance(model, factors, state, a.steps)[0])
    jax.profiler.stop_trace()

    hlo = max(glob.glob(f"{work}/hlo/*jit_advance*cpu_after_optimizations.txt") or
              glob.glob(f"{work}/hlo/*jit_advance*after_optimizations.txt"),
              key=os.path.getsize)
    sources = _fusion_sources(open(hlo).read())
    trace = glob.glob(f"{work}/trace/plugins/profile/*/perfetto_trace.json.gz")[0]
    events = json.load(gzip.open(trace))
    events = events["traceEvents"] if isinstance(events, dict) else events
    per_kernel: dict[str, float] = collections.defaultdict(float)
    for e in events:
        name = e.get("name", "")
        if e.get("ph") != "X" or name not in sources or name.startswith(
                ("while", "conditional", "call")):
            continue
        per_kernel[name] += e.get("dur", 0.0) / 1e3 / a.steps  # ms per step
    per_class: dict[str, float] = collections.defaultdict(float)
    for name, ms in per_kernel.items():
        for part, share in split(sources[name]).items():
            per_class[part] += share * ms
    total = sum(per_class.values())
    print(f"# {model.tissue.shape} grid, {', '.join(model.mobile_names)} mobile; kernel time "
          f"per step under the profiler, load average {os.getloadavg()[0]:.2f}")
    print("| part | ms per step | share |\n|---|---|---|")
    for part in ("transport", "reaction", "glue"):
        print(f"| {part} | {per_class[part]:.2f} | {100 * per_class[part] / total:.0f} % |")
    print("\n| top kernels | ms per step | operations by source |\n|---|---|---|")
    for name, ms in sorted(per_kernel.items(), key=lambda x: -x[1])[:a.top]:
        ops = ", ".join(f"{src} {n}" for src, n in sources[name].most_common())
        print(f"| {name} | {ms:.2f} | {ops} |")


if __name__ == "__main__":
    sys.exit(main())
