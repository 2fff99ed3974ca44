"""Strict harness: warnings are errors (pyproject), float64 where a test needs it."""

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
