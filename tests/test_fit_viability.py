"""Viability observables: a joint dose x time fit on shipped data, the gradient through the 3D
reaction-diffusion solve against finite differences, and stimulus handling."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_loss_gradient_matches_fd

from zn_pde import InputError
from zn_pde.fit import build_problem, fit, load_fit_config
from zn_pde.observables import SPHEROID_VIABILITY, VIABILITY, load_table

CONFIGS = Path(__file__).parents[1] / "configs"
FAST = ["fit.starts=3", "fit.candidates=8", "fit.adam_steps=10", "fit.lm_steps=20",
        "fit.profile=false"]


pytestmark = pytest.mark.usefixtures("x64_module")


def test_joint_dose_time_fit_of_a_shipped_source():
    """Caco-2, 20 nm ZnO, 24/36/48 h (15 points), one parameter set for all three times.
    The stored fit reaches r² = 0.97; a short optimisation must still pass 0.9, and the
    model's IC50 must fall with exposure time as the data's does."""
    cfg = load_fit_config(CONFIGS / "fit_zno_viability_caco2_20nm.toml", FAST)
    r = fit(cfg, None).report
    assert r["metrics"]["n"] == 15
    assert r["metrics"]["r2"] > 0.9
    ic50 = r["derived"]["ic50_ug_per_ml"]
    assert ic50["24 h"] > ic50["36 h"] > ic50["48 h"]
    per_curve = r["empirical"]["log_logistic_4p"]["curves"]
    assert len(per_curve) == 3 and r["empirical"]["log_logistic_4p"]["total"]["k"] == 13


@pytest.mark.parametrize("name", ["zno_viability_caco2_20nm", "zno_viability_hcmec_ldh",
                                  "zno_viability_a549_mtt", "zno_release"])
def test_shipped_checkpoint_is_the_current_model(name):
    """A shipped fit (checkpoints/<name>.json) is the model as it stands: its fitted constants,
    run again through its config, give the predictions it stored, to 1e-6 relative. A change
    to the model that moves them (a new process, a new default) makes the checkpoint and
    docs/fitting.md stale: refit with scripts/fit_shipped.py."""
    report = json.loads((CONFIGS.parent / "checkpoints" / f"{name}.json").read_text())
    problem = build_problem(load_fit_config(CONFIGS / f"fit_{name}.toml"))
    x = jnp.log(jnp.asarray([report["parameters"][n]["value"] for n in problem.free.names]))
    stored = [row["predicted"] for row in report["rows"]]
    np.testing.assert_allclose(np.asarray(problem.predict(x)), stored, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("config", sorted(p.stem for p in CONFIGS.glob("fit_*.toml")))
def test_every_shipped_checkpoint_was_fitted_with_the_model_as_it_stands(config):
    """Every shipped fit's `model_config` (the experiment it simulated, every held constant
    included) is what its config resolves to now: `zn-pde design configs/<fit>.toml` reuses
    the checkpoint only then, and refused it ("fitted with another experiment") after water's
    viscosity moved the default H2O2 diffusivity 1922.3 -> 1915.2 µm²/s, though no
    well-mixed prediction moved (the test above). Refit with scripts/fit_shipped.py."""
    from zn_pde.fit._design import _changed_model

    cfg = load_fit_config(CONFIGS / f"{config}.toml")
    report = json.loads((CONFIGS.parent / "checkpoints" / f"{cfg.name}.json").read_text())
    assert "model_config" in report
    assert _changed_model(report["model_config"], build_problem(cfg)) is None


@pytest.mark.parametrize("name, section, key, other", [
    ("zno_release", "numerics", "transport_solve", "'unsplit'"),
    ("zno_viability_a549_mtt", "kinetics", "energy_kill_frailty_variance", "2.0")])
def test_a_checkpoint_older_than_a_config_key_is_the_model_at_its_default(name, section, key,
                                                                          other):
    """A checkpoint written before a config key or kinetic constant existed lacks it in
    `model_config`: at the key's default (the behaviour the fit had) it is the same model.
    The shipped checkpoints were refused for each by `zn-pde design`: fitted before
    `numerics.transport_solve` ("'(not set)' in the checkpoint, 'lod' in this config") and
    before the cells' frailty variance (2026-12-08, 0 = cells of one sensitivity: "... 0.0 in
    this config"); set otherwise, it differs."""
    from zn_pde.fit._design import _changed_model

    report = json.loads((CONFIGS.parent / "checkpoints" / f"{name}.json").read_text())
    then = copy.deepcopy(report["model_config"])
    then[section].pop(key, None)
    problem = build_problem(load_fit_config(CONFIGS / f"fit_{name}.toml"))
    assert _changed_model(then, problem) is None
    changed = build_problem(load_fit_config(CONFIGS / f"fit_{name}.toml",
                                            [f"fit.simulation.{section}.{key}={other}"]))
    assert f"{section}.{key}" in _changed_model(then, changed)


def test_every_parameter_fixed_evaluates_the_model_on_the_data(tmp_path, capsys):
    """A fit config with every parameter fixed evaluates the model at those values on the
    data (how a user tests a shipped parameter set on new data), where it was refused as
    'nothing to fit': fixed at the shipped A549 MTT fit's values it predicts exactly that
    fit's rows (1e-6 relative, as the checkpoint test) and so its r², says it fitted nothing,
    and writes the figure; `zn-pde validate` accepts it too."""
    from zn_pde.cli import main

    name = "zno_viability_a549_mtt"
    report = json.loads((CONFIGS.parent / "checkpoints" / f"{name}.json").read_text())
    shipped = load_fit_config(CONFIGS / f"fit_{name}.toml")
    lines = ["[fit]", 'name = "a549_evaluated"', 'observable = "viability"',
             f"data = {json.dumps(str(Path(shipped.data).resolve()))}", 'material = "ZnO"',
             "select = { group_id = [17, 18] }"]
    for p, entry in report["parameters"].items():
        lines += [f"[fit.parameters.{p}]", f"initial = {entry['value']!r}", "fixed = true"]
    path = tmp_path / "evaluate.toml"
    path.write_text("\n".join(lines) + "\n")
    assert main(["validate", str(path)]) == 0
    assert "every parameter fixed" in capsys.readouterr().out
    assert main(["fit", str(path), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "evaluated (every parameter fixed) a549_evaluated" in out
    got = json.loads((tmp_path / "out" / "a549_evaluated.json").read_text())
    assert got["evaluation_only"] is True
    assert all(p["fixed"] for p in got["parameters"].values())
    assert set(got["parameters"]) == set(report["parameters"])
    np.testing.assert_allclose([r["predicted"] for r in got["rows"]],
                               [r["predicted"] for r in report["rows"]], rtol=1e-6, atol=1e-9)
    assert got["metrics"]["n"] == report["metrics"]["n"] == 10
    assert got["metrics"]["r2"] == pytest.approx(report["metrics"]["r2"], rel=1e-6)
    assert got["metrics"]["n_free"] == 0 and got["correlation"] is None
    assert (tmp_path / "out" / "a549_evaluated.png").stat().st_size > 10_000


def test_stimulus_rows_need_a_template_exposure(tmp_path):
    (tmp_path / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h,"
                                    "ultrasound_W_per_cm2\n10,80,24,1.0\n10,90,24,0\n")
    (tmp_path / "f.toml").write_text('[fit]\nname = "us"\nobservable = "viability"\n'
                                     'data = "v.csv"\n')
    with pytest.raises(InputError, match=r"no \[\[fit.simulation.ultrasound\]\] exposure"):
        build_problem(load_fit_config(tmp_path / "f.toml"))


@pytest.mark.parametrize("rows, line", [
    # read at 2 h, the exposure at 4 h: among 24 h rows this row was fitted as unstimulated
    # (the run goes to 24 h; its 2 h frame is before the exposure), silently
    ("10,80,24,1.0\n10,90,24,0\n10,95,2,1.0\n", 4),
    # every row read before it: the run to 2 h refused the template saying "or a longer
    # time.end_h", a key a fit may not set
    ("10,95,2,1.0\n10,96,2,0\n", 2),
])
def test_a_stimulus_row_read_before_its_exposure_starts_is_refused(tmp_path, rows, line):
    (tmp_path / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h,"
                                    "ultrasound_W_per_cm2\n" + rows)
    (tmp_path / "f.toml").write_text(
        '[fit]\nname = "us"\nobservable = "viability"\ndata = "v.csv"\n'
        "[[fit.simulation.ultrasound]]\nstart_h = 4.0\nduration_min = 1.0\n"
        "intensity_W_per_cm2 = 1.0\n")
    with pytest.raises(InputError) as e:
        build_problem(load_fit_config(tmp_path / "f.toml"))
    assert e.value.key == "ultrasound_W_per_cm2" and e.value.file.endswith("v.csv")
    assert (f"the row at line {line} has ultrasound_W_per_cm2 = 1, but its ultrasound "
            "exposure starts at 4 h" in str(e.value) and "exposure_h = 2 h" in str(e.value))
    # the same rows unstimulated at 2 h, or stimulated after 4 h, are what the model runs
    fixed = rows.replace(",2,1.0", ",2,0")
    (tmp_path / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h,"
                                    "ultrasound_W_per_cm2\n" + fixed + "10,70,6,1.0\n")
    build_problem(load_fit_config(tmp_path / "f.toml"))


def test_stimulus_rows_become_conditions(tmp_path):
    (tmp_path / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h,"
                                    "ultrasound_W_per_cm2\n10,80,24,1.0\n10,90,24,0\n"
                                    "10,85,12,1.0\n")
    table = load_table(tmp_path / "v.csv", "viability")
    sim = {"ultrasound": [{"start_h": 4.0, "duration_min": 1.0, "intensity_W_per_cm2": 9.0}]}
    conds, times = VIABILITY.row_conditions(table, {}, sim, "<test>")
    assert [c["ultrasound"][0]["intensity_W_per_cm2"] for c in conds] == [1.0, 0.0, 1.0]
    assert conds[0] == conds[2] and list(times) == [24.0, 24.0, 12.0]


def test_spheroid_gradient_matches_finite_differences(tmp_path):
    """d(loss)/d(ln p) by reverse-mode autodiff through the checkpointed 3D solve (12³ grid,
    float64) against central differences. Truncation error of the central difference is
    O(h²) ≈ 1e-8 relative at h = 1e-4; round-off ≈ 1e-16 |L| / h ≈ 1e-12: rtol 1e-5 is
    generous for both and still fails any wrong derivative."""
    (tmp_path / "v.csv").write_text("concentration_ug_per_ml,viability_percent,exposure_h\n"
                                    "20,90,2\n80,60,2\n")
    (tmp_path / "f.toml").write_text(
        '[fit]\nname = "sph"\nobservable = "spheroid_viability"\ndata = "v.csv"\n'
        "[fit.simulation]\n"
        'grid = { shape = [12, 12, 12], spacing_um = 20.0 }\n'
        "geometry = { radius_um = 80.0 }\n"
        'time = { dt_s = 600.0 }\nnumerics = { precision = "float64" }\n'
        # fast kinetics so that two hours of a tiny spheroid move the read-out
        "kinetics = { uptake_rate_per_h = 2.0, energy_kill_max_per_h = 1.0, "
        "energy_kill_half_atp = 0.5, np_tissue_diffusivity_fraction = 0.5 }\n")
    problem = build_problem(load_fit_config(tmp_path / "f.toml"))
    assert problem.prediction.batch == "map" and problem.prediction.schedule.total_steps == 12
    assert_loss_gradient_matches_fd(problem)


def test_spheroid_observable_defaults():
    assert SPHEROID_VIABILITY.base_config["grid"]["kind"] == "cartesian"
    assert SPHEROID_VIABILITY.standard_free == VIABILITY.standard_free


def test_default_kinetics_give_the_typical_reported_ic50():
    """The defaults (set from the pooled fit of the shipped compilation) put the 24 h IC50 of
    a well-mixed culture in the tens of ug/mL, falling with exposure time."""
    from zn_pde.fit._report import crossing, synthetic_table

    doses = np.geomspace(1.0, 1000.0, 25)
    table = synthetic_table("viability", {
        "concentration_ug_per_ml": np.tile(doses, 2),
        "exposure_h": np.repeat([24.0, 48.0], doses.size),
        "viability_percent": np.zeros(2 * doses.size)})
    pred = VIABILITY.prediction(table, (), material="ZnO", simulation={}, settings={})
    v = np.asarray(jax.jit(pred)(jnp.zeros(0))).reshape(2, -1)
    ic50_24, ic50_48 = (crossing(doses, row, 50.0, log=True) for row in v)
    assert 10.0 < ic50_24 < 100.0
    assert ic50_48 < 0.6 * ic50_24


def test_a_table_without_exposure_h_is_read_at_24_h_with_a_warning(tmp_path):
    """The contract makes `exposure_h` optional: a table and [fit] section with neither read
    the rows at DEFAULT_EXPOSURE_H (24 h, the most common read-out), the same prediction as
    a stated 24 h and not as 48 h, and the fit's warnings say so."""
    from zn_pde.fit._checks import data_warnings

    rows = "concentration_ug_per_ml,viability_percent\n10,80\n50,40\n"
    (tmp_path / "v.csv").write_text(rows)
    base = '[fit]\nname = "v"\nobservable = "viability"\ndata = "v.csv"\nmaterial = "ZnO"\n'
    predictions = {}
    for label, extra in (("none", ""), ("24", "exposure_h = 24.0\n"),
                         ("48", "exposure_h = 48.0\n")):
        (tmp_path / f"{label}.toml").write_text(base + extra)
        cfg = load_fit_config(tmp_path / f"{label}.toml")
        problem = build_problem(cfg)
        predictions[label] = np.asarray(problem.predict(jnp.log(jnp.asarray(problem.free.initial))))
        warnings, _ = data_warnings(problem)
        assert any("have no exposure_h" in w for w in warnings) == (label == "none")
        # the curve is labelled with the time it is read at ("? h" before)
        ((name, _),) = cfg.observable.curves(problem.table, cfg.row_settings)
        assert name == ("48 h" if label == "48" else "24 h"), name
    np.testing.assert_array_equal(predictions["none"], predictions["24"])
    assert np.all(predictions["48"] < predictions["24"])  # the read-out time matters


def test_rows_of_another_protocol_form_their_own_curve(tmp_path):
    """Without group_id the viability rows form a curve per read-out time, pH and stimulus,
    and per protocol: rows washed at 2 h and rows washed at 6 h (`wash_h`) are two
    experiments, so two curves (two 4PL fits, two colours), not one pooled curve of both
    (a client audit, 2026-12-07: the grouping left the protocol columns out). Rows that
    agree in every such column stay one curve."""
    rows = ("concentration_ug_per_ml,viability_percent,exposure_h,wash_h\n"
            "10,80,24,2\n50,40,24,2\n10,90,24,6\n50,60,24,6\n")
    (tmp_path / "v.csv").write_text(rows)
    (tmp_path / "v.toml").write_text(
        '[fit]\nname = "v"\nobservable = "viability"\ndata = "v.csv"\nmaterial = "ZnO"\n')
    cfg = load_fit_config(tmp_path / "v.toml")
    table = load_table(tmp_path / "v.csv", "viability")
    curves = cfg.observable.curves(table, cfg.row_settings)
    assert sorted(name for name, _ in curves) == ["24 h, wash_h 2", "24 h, wash_h 6"]
    assert sorted(tuple(idx) for _, idx in curves) == [(0, 1), (2, 3)]
