"""Strict harness: warnings are errors (pyproject), float64 where a test needs it, JAX's
compiled programs released after every test module, one compilation cache per session, and
XLA:CPU compiling for a short compile rather than a fast program."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Tests compile far more than they compute: small grids, short runs, hundreds of distinct
# programs (models, gradients, plans), so XLA's compilation is most of the suite's time.
# These XLA:CPU options (read once, when JAX starts its CPU backend: set before it does; a
# user's own XLA_FLAGS are kept, and `zn-pde` subprocesses inherit them) compile the same
# HLO program with the plain loop emitters and LLVM at -O1: a plan's gradient program
# compiles in 4-6 s instead of 13, and three of the heaviest test files take 0.72x their time
# (a small run computes a little slower; the 3D default run ~17 % slower, so users' runs keep
# XLA's defaults). The numerics are the program's: float rounding may differ in the last
# bits, well inside every tolerance asserted. Measured 2026-12-05 on 2 cores
# (docs/performance.md, "The test-suite").
TEST_XLA_FLAGS = "--xla_cpu_use_fusion_emitters=false --xla_backend_optimization_level=1"
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {TEST_XLA_FLAGS}".strip()

import jax  # noqa: E402 (after XLA_FLAGS)
import pytest  # noqa: E402

# One JAX persistent compilation cache for the session, in a fresh temporary folder removed
# at its end (a user's own JAX_COMPILATION_CACHE_DIR is kept): a program compiled once, e.g.
# a run of the same grid and model for another dose, in another test or in a `zn-pde`
# subprocess (which inherits the variable), is loaded instead of compiled again. XLA's
# compilation is most of a small run's time; the cache takes about a fifth off the suite.
# Tests that need a cold compiler set their own folder (tests/test_faults.py).
if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    _CACHE = tempfile.mkdtemp(prefix="zn-pde-test-jax-cache-")
    atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _CACHE
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0.2"
    jax.config.update("jax_compilation_cache_dir", _CACHE)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


def _float64():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.fixture
def x64():
    """Enable float64 for a test that checks a conservation law or a convergence order."""
    yield from _float64()


@pytest.fixture(scope="module")
def x64_module():
    """float64 for a whole module (`pytestmark = pytest.mark.usefixtures("x64_module")`)."""
    yield from _float64()


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each module. Every XLA:CPU executable keeps memory
    maps of its code; the whole suite compiles thousands, and one process would otherwise
    pass the kernel's limit of 65530 maps per process (vm.max_map_count) and abort inside
    the compiler. Modules rarely share programs, so little is recompiled."""
    yield
    jax.clear_caches()
