"""An exposure: an on/off window in time times a fixed spatial field."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array


class Exposure(eqx.Module):
    """Amplitude at the entry face × relative field (attenuation with depth), on in [start, end).
    `bulk` is the relative value in the bulk medium beyond the grid's walls, which meets the
    exposure where it enters (no tissue in the way).

    `step_average(t, dt)` is the mean over the step [t, t + dt]: the overlap of the step with
    the window, so the delivered dose is exact whatever the step. Start and end are array
    leaves, so sweeps can vectorise over exposure timing.
    """

    amplitude: Array  # where it enters: W/cm² (ultrasound), photon flux nmol/(cm²·s) (light
    #                   on the particles), photons absorbed by a photosensitiser µM/s per µg/mL
    field: Array  # relative local value, the field shape
    start_s: Array
    end_s: Array
    bulk: Array  # the relative value in the bulk medium: the field where it enters

    def step_average(self, t_s: Array, dt_s: float) -> Array:
        overlap = jnp.clip(jnp.minimum(t_s + dt_s, self.end_s) - jnp.maximum(t_s, self.start_s),
                           0.0, dt_s) / dt_s
        return overlap * self.amplitude * self.field
