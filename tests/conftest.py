"""Strict harness: warnings are errors (pyproject), float64 where a test needs it, and JAX's
compiled programs released after every test module."""

from __future__ import annotations

import os
import tempfile

import jax
import pytest

# XLA programs cached on disk by their HLO: tests that build the same model in different
# modules (after `_release_compiled_programs`) load it instead of compiling it again (~10 %
# of a cold suite on 2 CPU cores; a rerun starts warm). JAX_COMPILATION_CACHE_DIR overrides.
# A cache that cannot be read or written only costs a compile (its warnings are ignored in
# pyproject); one directory per user, at most 1 GiB.
_USER = str(os.getuid()) if hasattr(os, "getuid") else "user"
jax.config.update("jax_compilation_cache_dir", os.environ.get(
    "JAX_COMPILATION_CACHE_DIR",
    os.path.join(tempfile.gettempdir(), f"zn_pde_test_xla_cache_{_USER}")))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
jax.config.update("jax_compilation_cache_max_size", 2**30)


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
