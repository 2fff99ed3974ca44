"""Strict harness: warnings are errors (pyproject), float64 where a test needs it."""

from __future__ import annotations

import jax
import pytest


@pytest.fixture
def x64():
    """Enable float64 for a test that checks a conservation law or a convergence order."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)
