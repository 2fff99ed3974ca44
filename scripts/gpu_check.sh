#!/usr/bin/env bash
# The GPU checks of zn-pde in one short script (docs/performance.md, "GPU"): run it from the
# repository root on a machine with a CUDA GPU and jax[cuda] installed. It needs no install
# of zn-pde itself (the repository goes on PYTHONPATH), so it runs on a machine with no
# package registry as long as jax, equinox, optax, h5py, matplotlib, scipy and xarray are
# there.
#
#     bash scripts/gpu_check.sh [LOG]        # LOG defaults to gpu_check.log
#     CORE_SIZES=32 STEP_SIZES=16 REF=16 BIG=16 bash scripts/gpu_check.sh   # a dry run on a CPU
#
# Stages, each under its own time limit so that one slow stage cannot eat the others:
#   1. the device and package versions;
#   2. the transport core at 128^3 and 256^3 x 4 species against the device's own
#      streaming bandwidth measured in the same run (scripts/bench.py --only core);
#   3. the full model step of the default scenario at 64^3 and 128^3 (--only step);
#   3b. references: the sweeps' loops one plane per iteration at 128^3
#      (ZN_PDE_SWEEP_UNROLL=1; the GPU default is 8), and the same LOD step through
#      jax.lax.linalg.tridiagonal_solve (cuSPARSE) at the core's sizes;
#   4. a vmapped dose sweep against the same points one by one (--only sweep);
#   5. `zn-pde run` (built-in scenario, with its control run) on the GPU, then the same on
#      the host's CPUs (JAX_PLATFORMS=cpu), so the summaries can be compared number by number
#      and the wall times form a same-run ratio;
#   6. the default 24 h scenario at 128^3 (5 um voxels, same 640 um box), no control run
#      (BIG must divide 640);
#   7. the analytic, convergence and conservation tests of the transport on the GPU (they
#      need h5netcdf, which the H200 image of 2026-12 lacks: carry its wheel).
set -u
if ((BASH_VERSINFO[0] < 5)); then  # $EPOCHREALTIME
    echo "gpu_check.sh needs bash 5 or later (this is $BASH_VERSION)" >&2
    exit 2
fi
export LC_ALL=C  # a decimal point in $EPOCHREALTIME
log=${1:-gpu_check.log}
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
py=${PYTHON:-python3}
big=${BIG:-128}
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT  # the 128^3 run's files are ~2.4 GB
: >"$log"

stage() {  # stage NAME SECONDS COMMAND...
    local name=$1 limit=$2 t0 rc
    shift 2
    echo "=== $name (limit $limit s)" | tee -a "$log"
    t0=$EPOCHREALTIME
    timeout -k 15 "$limit" "$@" >>"$log" 2>&1  # KILL 15 s after TERM if it ignores it
    rc=$?
    awk -v n="$name" -v r="$rc" -v a="$t0" -v b="$EPOCHREALTIME" \
        'BEGIN { printf "=== %s: rc %d, %.1f s wall\n", n, r, b - a }' | tee -a "$log"
}

stage env 30 bash -c "nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; \
  nproc; $py -c 'import jax, equinox, optax, h5py, numpy; \
  print(\"jax\", jax.__version__, \"equinox\", equinox.__version__, \"optax\", optax.__version__, \
  \"h5py\", h5py.__version__, \"numpy\", numpy.__version__); print(jax.devices())'"
stage core 90 "$py" scripts/bench.py --only core --sizes ${CORE_SIZES:-128 256}
stage step 120 "$py" scripts/bench.py --only step --sizes ${STEP_SIZES:-64 128}
stage loops_ref 90 env ZN_PDE_SWEEP_UNROLL=1 bash -c "$py scripts/bench.py --only core \
  --sizes ${REF:-128} && $py scripts/bench.py --only step --sizes ${REF:-128}"
stage cusparse_ref 60 "$py" scripts/bench.py --only tridiagonal --sizes ${CORE_SIZES:-128 256}
stage sweep 60 "$py" scripts/bench.py --only sweep
stage run_gpu 120 "$py" -m zn_pde run -o "$runs/gpu.h5" --quiet
stage run_cpu 150 env JAX_PLATFORMS=cpu "$py" -m zn_pde run -o "$runs/cpu.h5" --quiet
stage run_128 120 "$py" -m zn_pde run -o "$runs/big.h5" --quiet --no-control \
    --set "grid.shape=[$big,$big,$big]" --set "grid.spacing_um=$((640 / big))"
stage tests 150 "$py" -m pytest -q -x -p no:cacheprovider tests/test_diffusion.py \
    tests/test_transport.py
