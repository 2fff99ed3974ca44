"""Strict harness: warnings are errors (pyproject), float64 where a test needs it, and JAX's
compiled programs released after every test module."""

from __future__ import annotations

import jax
import pytest


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
