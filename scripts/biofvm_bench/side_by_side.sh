#!/bin/sh
# BioFVM's LOD solver and zn-pde's transport core, 96^3 x 4, interleaved `rounds` times,
# each with its peak resident memory (/usr/bin/time -v) and the load average beside it.
#   scripts/biofvm_bench/side_by_side.sh ./lod_bench [rounds=3] [python]
set -e
bench=${1:?path to the built lod_bench}
rounds=${2:-3}
py=${3:-python}
root=$(cd "$(dirname "$0")/../.." && pwd)
rss() { grep "Maximum resident" "$1" | awk '{printf "peak RSS %.0f MB (%.0f B per voxel-species)", $6/1024, $6*1024/(96*96*96*4)}'; }
for r in $(seq "$rounds"); do
  echo "## round $r, $(uptime | sed 's/.*load/load/')"
  /usr/bin/time -v "$bench" 96 4 20 2 > /tmp/sbs_out 2> /tmp/sbs_time
  echo "BioFVM LOD float64, 2 threads: $(cat /tmp/sbs_out | tr ' ' '\n' | grep -E 'best_ms|best_updates|median_updates' | tr '\n' ' ') $(rss /tmp/sbs_time)"
  for p in float64 float32; do
    /usr/bin/time -v env PYTHONPATH="$root" "$py" "$root/scripts/bench.py" --only core \
      --precision $p --steps 20 > /tmp/sbs_out 2> /tmp/sbs_time
    echo "zn-pde core $p: $(grep 'transport core\|peak memory' /tmp/sbs_out | cut -d'|' -f3 | tr '\n' ';') $(rss /tmp/sbs_time)"
  done
done
/usr/bin/time -v env PYTHONPATH="$root" "$py" -c "import jax.numpy as jnp, zn_pde._diffusion; jnp.zeros(1).block_until_ready()" 2> /tmp/sbs_time
echo "reference: a Python process that only imports jax and zn_pde: $(rss /tmp/sbs_time | cut -d'(' -f1)"
echo "## end, $(uptime | sed 's/.*load/load/')"
