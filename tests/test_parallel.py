"""Multi-device runs (forced host devices, as in CI) agree with a single device."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import numpy as np, jax
    assert len(jax.devices()) == 4, jax.devices()
    from zn_pde import build_model, load_config, Schedule
    from zn_pde._solve import run

    def final(devices):
        c = load_config(None, ["grid.shape=[16,16,16]", "grid.spacing_um=40",
                               "time.end_h=5", f"numerics.devices={devices}"])
        model = build_model(c)
        frames = []
        run(model, Schedule.from_config(c), lambda i, t, s, p: frames.append(s))
        s = frames[-1]
        return np.asarray(s.mobile), np.asarray(s.fixed), s.mobile.sharding

    m1, f1, sh1 = final(1)
    m4, f4, sh4 = final(4)
    assert len(sh4.device_set) == 4 and len(sh1.device_set) == 1, (sh1, sh4)
    scale = np.abs(m1).max(axis=(0, 1, 2)) + 1e-30
    err = (np.abs(m4 - m1).max(axis=(0, 1, 2)) / scale).max()
    errf = (np.abs(f4 - f1).max(axis=(0, 1, 2)) / (np.abs(f1).max(axis=(0, 1, 2)) + 1e-30)).max()
    print("max relative difference", err, errf)
    assert err < 1e-5 and errf < 1e-5

    # the domain is really split: the compiled step moves data with all-to-alls (the
    # re-sharding between sweeps) and never gathers a whole field onto one device
    from zn_pde._solve import advance, factorise
    from zn_pde._parallel import device_mesh, shard_spatial
    c = load_config(None, ["grid.shape=[16,16,16]", "grid.spacing_um=40",
                           "numerics.devices=4"])
    model = build_model(c)
    model, state = shard_spatial((model, model.initial_state()), model.tissue.shape,
                                 device_mesh(4))
    tr = factorise(model)
    hlo = jax.jit(lambda tr, s: advance(model, tr, s, 2)).lower(tr, state).compile().as_text()
    assert "all-to-all(" in hlo and "all-gather(" not in hlo
    assert all(len(a.sharding.device_set) == 4 for a in jax.tree.leaves(tr) if a.ndim >= 3)

    # a sweep of 6 points (padded to 8) sharded over the 4 devices along the sweep axis
    import tempfile, pathlib
    from zn_pde._sweep import run_sweep
    sweep = load_config(None, ["grid.kind='well_mixed'", "time.end_h=6",
                               "geometry.kind='uniform'", "geometry.cell_volume_fraction=0.002",
                               "sweep={'material.dose_ug_per_ml' = [1.0, 3.0, 10.0, 20.0, "
                               "30.0, 60.0]}"])
    d = pathlib.Path(tempfile.mkdtemp())
    one = run_sweep(sweep, d / "one.h5", progress=False)
    sweep["numerics"]["devices"] = 4
    four = run_sweep(sweep, d / "four.h5", progress=False)
    for k in one:
        np.testing.assert_allclose(four[k], one[k], rtol=1e-5, atol=1e-12)

    # a y extent the devices do not divide is refused when the config is read (exit 2 in
    # the CLI), before any model is built
    from zn_pde._errors import InputError
    try:
        load_config(None, ["grid.shape=[16,18,16]", "numerics.devices=4"])
    except InputError as e:
        assert "key 'numerics.devices'" in str(e) and "divisor of 18" in str(e), e
    else:
        raise AssertionError("a y extent of 18 voxels over 4 devices was accepted")
""")


def test_four_forced_host_devices_match_one_device():
    """The default scenario (16³, 5 h incl. the ultrasound burst) sharded over 4 host devices
    along y reproduces the single-device fields to 1e-5 relative (float32 round-off) and
    never gathers a whole field onto one device; a sweep
    sharded along its batch axis reproduces the unsharded sweep; a grid whose y extent the
    devices do not divide is refused with the key."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": os.environ.get("XLA_FLAGS", "")
           + " --xla_force_host_platform_device_count=4"}
    r = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
