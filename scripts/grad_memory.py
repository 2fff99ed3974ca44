"""Peak memory of forward and gradient runs of a 3D observable vs grid size and step count.

    python scripts/grad_memory.py

The observable is the final tissue-mean viability of the default scenario (ZnO, ultrasound);
the gradient is with respect to every kinetic constant. Memory is XLA's compiled memory
analysis (arguments + outputs + temporaries) of the jitted function, so no run is needed.
`trajectory` checkpoints each save interval and each step (two levels), so gradient memory
should grow like (saves + steps per save) x state size, not like the total step count.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from zn_pde import Schedule, build_model, load_config, trajectory


def measure(n: int, end_h: float, save_min: float) -> tuple[float, float, int, int]:
    c = load_config(None, [f"grid.shape=[{n},{n},{n}]", f"grid.spacing_um={640 / n}",
                           f"time.end_h={end_h}", f"time.save_every_min={save_min}"])
    model = build_model(c)
    sched = Schedule.from_config(c)

    def final_viability(m):
        tissue = m.cell_fraction > 0
        v = trajectory(m, sched, lambda mm, s: jnp.sum(
            jnp.where(tissue, s.fixed[..., -1], 0.0)) / jnp.sum(tissue))
        return v[-1]

    params, static = eqx.partition(model, eqx.is_inexact_array)
    fwd = jax.jit(lambda p: final_viability(eqx.combine(p, static)))
    grad = jax.jit(jax.grad(lambda p: final_viability(eqx.combine(p, static))))

    def peak(f):
        m = f.lower(params).compile().memory_analysis()
        return m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes

    return peak(fwd), peak(grad), sched.total_steps, len(sched.chunks)


def main() -> None:
    print("| grid | steps (saves) | state MB | forward MB | gradient MB | gradient / state |")
    print("|---|---|---|---|---|---|")
    for n, end_h, save in ((16, 24, 60), (32, 24, 60), (48, 24, 60), (32, 6, 60),
                           (32, 12, 60), (32, 24, 30), (32, 24, 120), (64, 24, 60)):
        f, g, steps, saves = measure(n, end_h, save)
        state = n**3 * 7 * 4
        print(f"| {n}^3 | {steps} ({saves}) | {state / 1e6:.2f} | {f / 1e6:.1f} | "
              f"{g / 1e6:.1f} | {g / state:.0f} |")


if __name__ == "__main__":
    main()
