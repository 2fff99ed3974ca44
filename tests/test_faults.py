"""Runs that survive faults: SIGKILL, Ctrl-C, SIGTERM, the run-time guard, resume, overwrite.

Every claim of docs/outputs.md "Runs that survive faults" is checked on a real run:
- a run killed by SIGKILL at a random frame leaves a file that h5py and xarray open, flagged
  incomplete, holding exactly the frames of an uninterrupted run up to the kill;
- `zn-pde run --resume` continues it to the same result as the uninterrupted run (rtol 1e-5:
  the state is saved in full as float32, the solver's precision, so the continuation starts
  from the very same state; the tolerance only allows for thread-order effects in XLA);
- SIGINT stops cleanly (exit 1, message, status "interrupted", file readable), also when the
  signal lands in the middle of writing a frame;
- the NaN/negativity guard names variable, time and place and keeps the frames saved so far;
- an existing output is never replaced without --overwrite, and a file that another process
  is writing cannot be resumed or overwritten.
Runs use a 16^3 grid and the subprocesses share a JAX compilation cache, so the file takes
well under a minute on 2 cores.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import h5py
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from helpers import hold_lock

from zn_pde import Interrupted, RunError, _solve, build_model
from zn_pde._run import simulate_to_file
from zn_pde.cli import main
from zn_pde.config import load_config, resolve

FIELDS = ("np", "zn", "ros", "np_int", "zn_cell", "gsh", "viability")
SERIES = ("tissue_mean_zn", "tissue_mean_zn_cell", "tissue_mean_ros", "max_ros",
          "tissue_mean_viability")
# 96 frames of 5 steps on 16^3: long enough to stop at frame >= 3, short enough to finish fast
CONFIG = """
[grid]
shape = [16, 16, 16]
spacing_um = 40.0

[time]
end_h = 8.0
dt_s = 60.0
save_every_min = 5.0

[geometry]
kind = "spheroid"
radius_um = 200.0

[material]
kind = "ZnO"
dose_ug_per_ml = 20.0

[[ultrasound]]
start_h = 0.25
duration_min = 1.0
intensity_W_per_cm2 = 1.5
frequency_MHz = 1.0
"""
N_FRAMES = 98  # every 5 min, and at the end of the exposure (its start is on the grid)
# a short run (the first 4 frames) of CONFIG: it ends where CONFIG's exposure begins, and an
# exposure must lie inside the run, so the short run moves it inside with zero intensity, on
# the dt grid and stepped by one step (CONFIG's steps up to 0.25 h exactly), without frames
# around it (CONFIG has none before 0.25 h)
SHORT = ["time.end_h=0.25", "ultrasound[0].start_h=0.1", "ultrasound[0].intensity_W_per_cm2=0",
         "time.exposure_min_steps=1", "time.save_around_events=false"]
RTOL = 1e-5


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("faults")
    (d / "cfg.toml").write_text(CONFIG)
    return d


@pytest.fixture(scope="module")
def reference(workdir) -> dict[str, np.ndarray]:
    """An uninterrupted run of CONFIG: every saved variable, (T, ...) each."""
    out = workdir / "reference.h5"
    result = simulate_to_file(load_config(workdir / "cfg.toml"), out, progress=False)
    assert result.status == "complete"
    with h5py.File(out, "r") as f:
        return {k: f[k][...] for k in ("time",) + FIELDS + SERIES}


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"JAX_PLATFORMS": "cpu",
                "JAX_COMPILATION_CACHE_DIR": str(workdir / "jax-cache"),
                "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"})
    return env


def _start_run(workdir: Path, out: Path) -> subprocess.Popen:
    """`zn-pde run` in a child process, with the default SIGINT handler (KeyboardInterrupt)
    whatever the parent's (CI may start us with SIGINT ignored)."""
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from zn_pde.cli import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.Popen([sys.executable, "-c", code, "run", str(workdir / "cfg.toml"),
                             "-o", str(out), "--quiet"], env=_env(workdir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _frames_listed(xmf: Path) -> int:
    """Frames in the XDMF sidecar, which is replaced atomically after each frame is flushed."""
    try:
        return xmf.read_text().count("<Time ")
    except FileNotFoundError:
        return 0


def _wait_for_frames(proc: subprocess.Popen, xmf: Path, n: int, timeout_s: float = 120.0):
    t0 = time.monotonic()
    while _frames_listed(xmf) < n:
        assert proc.poll() is None, f"the run ended early: {proc.communicate()}"
        assert time.monotonic() - t0 < timeout_s, "no frames appeared"
        time.sleep(0.01)


def _assert_prefix_of(path: Path, reference: dict[str, np.ndarray]) -> int:
    """The file holds the first n frames of the reference run, exactly as saved there."""
    with h5py.File(path, "r") as f:  # default locking, as any user would open it
        n = f["time"].shape[0]
        np.testing.assert_array_equal(f["time"][:], reference["time"][:n])
        for k in FIELDS + SERIES:
            assert f[k].shape[0] == n, k
            np.testing.assert_allclose(f[k][:], reference[k][:n], rtol=RTOL, atol=0, err_msg=k)
    return n


def _assert_opens_in_xarray(path: Path, n: int) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds.sizes["time"] == n
        assert ds["zn"].dims == ("time", "z", "y", "x")
        ds.load()
        return ds


def test_sigkill_leaves_readable_incomplete_file_and_resume_matches(workdir, reference):
    out = workdir / "killed.h5"
    proc = _start_run(workdir, out)
    try:
        _wait_for_frames(proc, out.with_suffix(".xmf"), 3)
    finally:
        proc.kill()  # SIGKILL: no handler, no cleanup
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    n = _assert_prefix_of(out, reference)
    assert 3 <= n < N_FRAMES
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "running" and f.attrs["complete"] == 0
    ds = _assert_opens_in_xarray(out, n)
    assert ds.attrs["complete"] == 0
    assert _frames_listed(out.with_suffix(".xmf")) <= n  # the sidecar never runs ahead

    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    n_after = _assert_prefix_of(out, reference)
    assert n_after == N_FRAMES
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "complete" and f.attrs["complete"] == 1
        assert "message" not in f.attrs
    assert _frames_listed(out.with_suffix(".xmf")) == N_FRAMES


def test_ctrl_c_stops_cleanly(workdir, reference):
    out = workdir / "interrupted.h5"
    proc = _start_run(workdir, out)
    try:
        _wait_for_frames(proc, out.with_suffix(".xmf"), 2)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    assert "Traceback" not in stderr
    # an interruption, not a failure: said as what was kept and how to go on
    assert "zn-pde run: interrupted by SIGINT" in stderr and f"--resume {out}" in stderr
    assert "run failed" not in stderr
    n = _assert_prefix_of(out, reference)
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "interrupted" and f.attrs["complete"] == 0
        assert f"{n} frames" in f.attrs["message"]
    _assert_opens_in_xarray(out, n)


def test_a_signal_during_the_first_compilation_exits_1_not_a_crash(workdir):
    """SIGTERM while the first interval is still being compiled: the command stops with its
    message and exit 1. Until 2026-12-05 the interpreter's clean-up after the signal had cut
    XLA mid-compilation crashed most such runs (exit 139, a segmentation fault, after the
    file had been closed cleanly); `zn-pde` now leaves without it once a signal stopped it.
    Started as users start it (`python -m zn_pde`, no argv), on the default scenario (a
    coarser grid), with no compilation cache."""
    out = workdir / "first_compile.h5"
    env = {**_env(workdir), "JAX_COMPILATION_CACHE_DIR": str(workdir / "no-cache-here")}
    code = ("import signal, runpy; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "runpy.run_module('zn_pde', run_name='__main__')")
    proc = subprocess.Popen([sys.executable, "-c", code, "run", "-o", str(out),
                             "--no-control", "--set", "grid.shape=[24,24,24]",
                             "--set", "grid.spacing_um=25"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_frames(proc, out.with_suffix(".xmf"), 1)  # frame 0: compiling the first
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr and "interrupted by SIGTERM" in stderr


def test_ctrl_c_while_starting_up_exits_1_without_a_traceback(workdir):
    """Ctrl-C in the first second, while JAX is still being imported: the command says it was
    interrupted (exit 1), not a traceback, and writes nothing. Until 2026-12-06 `import
    zn_pde` imported JAX (1.5 s on 2 cores) before `main` could handle the signal; the
    package now imports its names on first use, so the command's entry point is reached
    within a fraction of that and the heavy imports run under its handling."""
    out = workdir / "start_up.h5"
    # 'ready' is printed by the command itself (under main's handling), before its imports
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "import zn_pde.cli as cli; heavy = [m for m in ('jax', 'h5py', 'equinox') "
            "if m in sys.modules]; run = cli.COMMANDS['run']; "
            "cli.COMMANDS['run'] = lambda a: (print('ready', heavy, flush=True), run(a))[1]; "
            "sys.exit(cli.main(sys.argv[1:]))")
    proc = subprocess.Popen([sys.executable, "-c", code, "run", "-o", str(out)],
                            env=_env(workdir), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline()
        proc.send_signal(signal.SIGINT)  # the command has started; JAX is not imported yet
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert ready.strip() == "ready []", ready  # the entry point imports none of them
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr and "zn-pde run: interrupted" in stderr, stderr
    assert not out.exists()


@pytest.mark.parametrize("guard", ["run", "command"])
@pytest.mark.parametrize("where", ["gc callback", "weakref callback"])
def test_a_signal_inside_a_garbage_collector_callback_is_raised_after_the_collection(guard,
                                                                                      where):
    """A signal whose handler runs while the garbage collector runs Python code, in one of
    its callbacks (JAX's runs at every collection, so a signal during a compilation often
    lands there) or in a weakref callback of what it collects (a WeakKeyDictionary's
    `remove`: CI of 2026-12-05, in parallel processes), is raised once the collection is
    over, not inside it: there Python prints the exception as "Exception ignored in" with a
    traceback (which pytest turns into an error here) and drops it. The CI run of 2026-12-05
    showed that traceback on `zn-pde run` stopped during its first compilation. Both guards:
    a run's (`_Stop`) and a command's (SIGTERM as KeyboardInterrupt)."""
    import gc
    import weakref

    from zn_pde._errors import sigterm_as_interrupt
    from zn_pde._run import _Signals, _Stop

    fired = []

    def send(*args):
        if not fired:
            fired.append(args)
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(1000))  # Python bytecode: the handler runs here, inside the callback

    class Cycle:
        pass

    expected, guarded = ((_Stop, _Signals()) if guard == "run"
                         else (KeyboardInterrupt, sigterm_as_interrupt()))
    if where == "gc callback":
        gc.callbacks.append(send)
    else:  # garbage only a collection frees: its weakref's callback runs inside it
        cycle = Cycle()
        cycle.me = cycle
        ref = weakref.ref(cycle, send)
        del cycle
    try:
        with pytest.raises(expected), guarded:
            gc.collect()
            assert fired
            time.sleep(5.0)  # the signal comes again within ~20 ms of the collection's end
            pytest.fail("the signal was lost")
    finally:
        if where == "gc callback":
            gc.callbacks.remove(send)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert where == "gc callback" or ref() is None


def test_signal_during_a_frame_write_waits_for_the_frame(workdir, reference, monkeypatch):
    """A SIGTERM that arrives while a frame is being written stops the run only once the
    whole frame is on disk: every variable ends with the same number of frames, and the file
    is the reference run's first four frames."""
    from zn_pde.io import Writer

    original = Writer.append
    calls = {"n": 0}

    def append(self, t_s, fields):
        calls["n"] += 1
        if calls["n"] == 4:  # Python runs the handler right here, inside the write
            os.kill(os.getpid(), signal.SIGTERM)
        original(self, t_s, fields)

    monkeypatch.setattr(Writer, "append", append)
    out = workdir / "sigterm.h5"
    with pytest.raises(Interrupted, match="interrupted by SIGTERM; 4 frames"):
        simulate_to_file(load_config(workdir / "cfg.toml"), out, progress=False)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
    assert _assert_prefix_of(out, reference) == 4
    _assert_opens_in_xarray(out, 4)


def test_a_signal_while_the_file_is_set_up_leaves_it_interrupted(workdir, monkeypatch):
    """A SIGTERM while the new file is being set up (its events written) waits until the file
    is open, then stops the run before its first frame: the file ends 'interrupted', not
    'running' (an outside red-team finding: a control stopped there was left 'running' with 0
    frames, and the command said it never started); handlers are restored."""
    from zn_pde.io import Writer

    original = Writer.write_events

    def write_events(self, table):
        os.kill(os.getpid(), signal.SIGTERM)
        original(self, table)

    monkeypatch.setattr(Writer, "write_events", write_events)
    out = workdir / "setup.h5"
    with pytest.raises(RunError, match="interrupted by SIGTERM before the first frame"):
        simulate_to_file(load_config(workdir / "cfg.toml"), out, progress=False)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "interrupted" and f["time"].shape[0] == 0


def test_guard_stops_a_run_whose_field_turns_nan_and_keeps_frames(workdir, monkeypatch, capsys):
    """Poison the state after the third interval: the run stops with exit 1 naming the
    variable, the time and the voxel; frames 0-2 stay in the file, flagged failed."""
    original = _solve.advance
    calls = {"n": 0}

    def advance(model, transport, state, n_steps):
        state, peaks = original(model, transport, state, n_steps)
        calls["n"] += 1
        if calls["n"] == 3:
            state = state._replace(mobile=state.mobile.at[2, 5, 7, 1].set(jnp.nan))
        return state, peaks

    monkeypatch.setattr(_solve, "advance", advance)
    out = workdir / "guard.h5"
    assert main(["run", str(workdir / "cfg.toml"), "-o", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    # mobile index 1 is zn; voxel (z, y, x) = (2, 5, 7) has centre ((i + 0.5) * 40 um)
    assert "variable 'zn' became NaN or infinite by t = 0.25 h" in err
    assert "x = 300 um, y = 220 um, z = 100 um" in err
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "failed" and f.attrs["complete"] == 0
        assert "'zn' became NaN" in f.attrs["message"]
        assert f["time"].shape == (3,)
        assert np.isfinite(f["zn"][:]).all()


def test_check_state_names_variable_time_and_place():
    c = load_config(None, ["grid.shape=[8,10,12]", "grid.spacing_um=20",
                           "geometry.radius_um=60"])
    model = build_model(c)
    s = model.initial_state()
    _solve.check_state(model, s, 3600.0)  # the initial state is healthy
    bad = s._replace(fixed=s.fixed.at[11, 0, 3, 1].set(jnp.inf))  # zn_cell
    with pytest.raises(RunError, match=r"'zn_cell' became NaN or infinite by t = 2 h "
                       r"at x = 70 um, y = 10 um, z = 230 um"):
        _solve.check_state(model, bad, 7200.0)
    with pytest.raises(RunError, match=r"overflow float32 .*numerics.precision = \"float64\""):
        _solve.check_state(model, bad, 7200.0)  # a float32 state suggests float64
    negative = s._replace(mobile=s.mobile.at[4, 9, 0, 2].set(-1.0))  # ros
    with pytest.raises(RunError, match=r"'ros' became negative \(-1\) by t = 0.5 h at "
                       r"x = 10 um, y = 190 um, z = 90 um"):
        _solve.check_state(model, negative, 1800.0)
    # round-off below the tolerance is not a defect
    tiny = s._replace(mobile=s.mobile.at[0, 0, 0, 0].set(-1e-9))
    _solve.check_state(model, tiny, 0.0)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_existing_output_s_message_offers_resume_only_for_an_incomplete_run(workdir,
                                                                               capsys):
    """Running into an existing output said "pass --overwrite (simulate: overwrite=True) to
    replace it, or --resume to continue it" whatever the file held: `--resume` of a
    complete run is refused (exit 2), and `simulate` has no resume (a client audit,
    2026-12-07). Now a complete run's message offers only the replacement; an incomplete
    run's gives the command that continues it; a file that is no run offers neither."""
    out = workdir / "again.h5"
    base = ["run", str(workdir / "cfg.toml"), "-o", str(out), "--quiet",
            *[a for o in SHORT for a in ("--set", o)]]
    assert main(base) == 0
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "output file exists" in err and "overwrite=True" in err and "resume" not in err, err
    with h5py.File(out, "r+") as f:
        f.attrs["status"], f.attrs["complete"] = "interrupted", np.uint8(0)
    assert main(base) == 2
    err = capsys.readouterr().err
    assert f"continue it with: zn-pde run --resume {out}" in err, err
    junk = workdir / "junk.h5"
    junk.write_bytes(b"not hdf5")
    assert main(base[:3] + [str(junk)] + base[4:]) == 2
    assert "resume" not in capsys.readouterr().err


def test_existing_output_is_never_overwritten_silently(workdir, capsys):
    out = workdir / "keep.h5"
    out.write_bytes(b"precious")
    base = ["run", str(workdir / "cfg.toml"), "-o", str(out), "--quiet",
            *[a for o in SHORT for a in ("--set", o)]]
    assert main(base) == 2
    assert "output file exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"
    assert main(base + ["--overwrite"]) == 0
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "complete" and f["time"].shape == (4,)
    folder = workdir / "folder.h5"
    folder.mkdir()
    assert main(["run", str(workdir / "cfg.toml"), "-o", str(folder), "--overwrite"]) == 2
    assert "the output is a folder" in capsys.readouterr().err
    assert folder.is_dir()
    (workdir / "sidecar.xmf").mkdir()  # the sidecar's name taken by a folder: exit 2 up front
    assert main(base[:3] + [str(workdir / "sidecar.h5"), *base[4:]]) == 2
    assert "its XDMF sidecar" in capsys.readouterr().err
    assert not (workdir / "sidecar.h5").exists()


def test_resume_refuses_what_it_cannot_continue(workdir, reference, capsys):
    done = workdir / "reference.h5"
    before = _digest(done)
    assert main(["run", "--resume", str(done)]) == 2
    assert "already complete" in capsys.readouterr().err
    assert main(["run", "--resume", str(done), "--set", "time.end_h=9"]) == 2
    assert "do not pass CONFIG, --set" in capsys.readouterr().err
    assert _digest(done) == before
    text = workdir / "notes.h5"
    text.write_text("not hdf5")
    assert main(["run", "--resume", str(text)]) == 2
    assert "not an HDF5 file" in capsys.readouterr().err
    assert main(["run", "--resume", str(workdir / "missing.h5")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_resume_of_a_damaged_file_is_bad_input(workdir, reference, capsys):
    """A file whose root group's header never reached the disk (what a SIGKILL while the
    writer creates the file leaves: the superblock, zeros where the header goes) is refused
    with exit 2 and a message naming it, as `inspect` refuses it, not with a traceback."""
    damaged = workdir / "damaged.h5"
    data = bytearray((workdir / "reference.h5").read_bytes())
    root = int.from_bytes(data[36:44], "little")  # superblock v2: the root header's address
    assert data[root:root + 4] == b"OHDR"
    data[root:root + 64] = bytes(64)
    damaged.write_bytes(data)
    assert main(["run", "--resume", str(damaged), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "damaged.h5" in err and "damaged" in err and "Traceback" not in err
    assert "run its config again with --overwrite" in err  # what to do instead


def test_a_refused_resume_leaves_the_file_s_provenance(workdir, capsys):
    """A file whose saved times do not fit its config's schedule cannot be resumed: exit 2,
    and its history and jax_* attributes stay as they were (once a refused resume added a
    'resumed' line and the current backend)."""
    out = workdir / "odd_times.h5"
    simulate_to_file(load_config(workdir / "cfg.toml", SHORT), out, progress=False)
    with h5py.File(out, "r+") as f:
        f["time"][1] = f["time"][1] + 7.0
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)
        f.attrs["jax_backend"] = "gpu"  # as if it had begun on another machine
        before = {k: f.attrs[k] for k in ("history", "jax_backend", "jax_devices",
                                          "jax_version")}
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    assert "saved times do not match" in capsys.readouterr().err
    with h5py.File(out, "r") as f:
        assert {k: f.attrs[k] for k in before} == before
        assert len(f.attrs["history"].splitlines()) == 1


def test_resume_of_a_file_killed_before_its_first_frame_starts_afresh(workdir, reference):
    out = workdir / "empty.h5"
    simulate_to_file(load_config(workdir / "cfg.toml", SHORT), out,
                     progress=False)
    with h5py.File(out, "r+") as f:  # as a kill right after the file was created leaves it
        for k in ("time",) + FIELDS + SERIES:
            f[k].resize(0, axis=0)
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "complete" and f["time"].shape == (4,)
        np.testing.assert_allclose(f["zn"][:], reference["zn"][:4], rtol=RTOL)


def test_a_file_being_written_cannot_be_resumed_or_overwritten(workdir, capsys):
    """Another process holds the writer's lock (POSIX lockf, like a live `zn-pde run`)."""
    out = workdir / "busy.h5"
    simulate_to_file(load_config(workdir / "cfg.toml", SHORT), out,
                     progress=False)
    with h5py.File(out, "r+") as f:
        f.attrs["status"] = "running"
        f.attrs["complete"] = np.uint8(0)
    before = _digest(out)
    holder = hold_lock(out)
    try:
        assert main(["run", "--resume", str(out), "--quiet"]) == 2
        assert "another zn-pde process is writing this file" in capsys.readouterr().err
        assert main(["run", str(workdir / "cfg.toml"), "-o", str(out), "--overwrite",
                     "--quiet"]) == 2
        assert "another zn-pde process is writing this file" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.communicate()
    assert _digest(out) == before
    # readers are never locked out: inspect works while a writer holds the file
    assert main(["inspect", str(out)]) == 0
    assert "still running, or killed while running" in capsys.readouterr().out


def test_stored_config_round_trips(workdir, reference):
    """The config attribute is the resolved config (empty [[light]] and [[species]] arrays
    have no TOML spelling and come back as defaults): what resume re-validates and runs."""
    with h5py.File(workdir / "reference.h5", "r") as f:
        stored = tomllib.loads(f.attrs["config"])
    # the private entries (`_name`, `_derived`: what resolution derived) are not stored
    resolved = {k: v for k, v in load_config(workdir / "cfg.toml").items()
                if not k.startswith("_")}
    assert stored["geometry"]["center_um"] == [320.0, 320.0, 320.0]  # defaults are explicit
    assert stored["kinetics"] == resolved["kinetics"]
    assert resolve(stored) == resolved


def test_a_new_file_stays_locked_while_its_writer_holds_it(tmp_path):
    """Creating the HDF5 file opens and closes descriptors of HDF5's own, which would drop a
    POSIX lock taken before: the writer must hold it from creation to close, so that a second
    `zn-pde run --overwrite` (another process) is refused instead of replacing the file."""
    from zn_pde.io._hdf5 import Writer

    out = tmp_path / "fresh.h5"
    probe = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
             "try:\n    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
             "except OSError:\n    print('held')")

    def state() -> str:
        return subprocess.run([sys.executable, "-c", probe, str(out)], capture_output=True,
                              text=True, check=True).stdout.strip()

    w = Writer(out, config_toml="", coords={}, tissue_mask=np.ones(()), well_mixed=True,
               variables={"zn": {"units": "uM", "long_name": "zinc"}})
    assert state() == "held"
    w.append(0.0, {"zn": np.zeros(())})
    assert state() == "held"
    w.close("complete")
    assert state() == "free"


def test_a_kill_while_the_file_is_created_leaves_the_old_output_whole(tmp_path):
    """SIGKILL while `--overwrite` writes the new file's header (here: at its first dimension
    scale): the old output stays, whole and readable, because the new file is written beside
    it and renamed onto it only once its header is on disk. The next creation removes what
    the killed one left. (The old file was removed first, and a kill then left neither run.)"""
    out = tmp_path / "run.h5"
    make = ("import os, sys, numpy as np; from pathlib import Path; from zn_pde.io import _hdf5\n"
            "if sys.argv[2] == 'kill':\n"
            "    _hdf5.Writer._attach = lambda *a: os.kill(os.getpid(), 9)\n"
            "w = _hdf5.Writer(Path(sys.argv[1]), config_toml='', coords={'r': np.arange(3.0)},"
            " tissue_mask=np.ones(3), variables={'zn': {'units': 'uM'}}, overwrite=True)\n"
            "w.append(0.0, {'zn': np.full(3, float(sys.argv[3]))}); w.close('complete')\n")

    def write(how: str, value: float) -> int:
        return subprocess.run([sys.executable, "-c", make, str(out), how, str(value)],
                              capture_output=True).returncode

    def frame() -> tuple[str, list[float]]:
        with h5py.File(out, "r") as f:
            return f.attrs["status"], f["zn"][0].tolist()

    assert write("plain", 1.0) == 0
    assert write("kill", 2.0) == -signal.SIGKILL
    assert frame() == ("complete", [1.0, 1.0, 1.0])
    assert [p.name for p in tmp_path.iterdir() if p.name != "run.h5"] != []  # its leftover
    assert write("plain", 3.0) == 0
    assert frame() == ("complete", [3.0, 3.0, 3.0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.h5"]


def test_a_damaged_output_file_is_bad_input_wherever_the_damage_lies(tmp_path, capsys,
                                                                    monkeypatch):
    """inspect, plot and export of a file with 2 kB overwritten (at every 8 kB of it):
    each either works (the damage missed what it reads) or exits 2 naming the file; never
    a traceback (h5py's OSError, or KeyError for a damaged object header, gave exit 1 with
    one; an outside contract audit). At least one damage is detected. Each read is still
    tried READ_ATTEMPTS times, without the pause between tries that gives a frame being
    written time to finish (nothing writes here: the pauses were ~17 s of the test)."""
    from zn_pde.io import _hdf5

    monkeypatch.setattr(_hdf5, "READ_RETRY_S", 0.0)
    good = tmp_path / "good.h5"
    assert main(["run", "configs/zno_spheroid_radial.toml", "-o", str(good), "--no-control",
                 "--quiet", "--set", "time.end_h=6"]) == 0
    data = good.read_bytes()
    codes = set()
    for offset in range(0, len(data) - 2048, 8192):
        bad = tmp_path / f"bad{offset}.h5"
        bad.write_bytes(data[:offset] + b"\xff" * 2048 + data[offset + 2048:])
        for argv in (["inspect", str(bad)], ["plot", str(bad), "-o", str(tmp_path / "png"),
                                             "--fields", "viability"],
                     ["export", str(bad), "--vtk", "-o", str(tmp_path / "vtk")]):
            capsys.readouterr()
            code = main(argv)
            err = capsys.readouterr().err
            assert code in (0, 2), (offset, argv[0], err)
            assert code == 0 or str(bad) in err, (offset, argv[0], err)
            codes.add(code)
    assert 2 in codes


@pytest.mark.parametrize("error", [
    MemoryError("Unable to allocate 64.0 GiB for an array with shape (2048, 2048, 2048)"),
    RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 68719476736 "
                 "bytes.\nmore detail"),
])
def test_running_out_of_memory_is_a_run_failure_with_a_message(tmp_path, capsys, monkeypatch,
                                                               error):
    """A grid far larger than memory (grid.shape = [2048]*3 passes validation) ended in
    NumPy's or XLA's traceback: exit 1 with one line saying what ran out and what needs less
    (an outside contract audit)."""
    import zn_pde._run

    def exhausted(*args, **kwargs):
        raise error

    monkeypatch.setattr(zn_pde._run, "build_model", exhausted)
    code = main(["run", "configs/zno_spheroid_radial.toml", "-o", str(tmp_path / "m.h5"),
                 "--quiet", "--no-control"])
    err = capsys.readouterr().err
    assert code == 1 and "run failed: out of memory" in err and "grid.shape" in err, err
    assert "Traceback" not in err and "more detail" not in err


def test_a_read_that_meets_a_frame_being_written_is_tried_again(tmp_path, capsys, monkeypatch):
    """Without SWMR a live read can fail once inside h5py while a frame is written
    (docs/outputs.md); `zn-pde inspect` reads again a moment later and succeeds, where it
    reported the error (exit 2). Here the first read fails inside h5py (a file that is not
    there), the second is the real one."""
    import zn_pde.inspect

    good = tmp_path / "good.h5"
    assert main(["run", "configs/zno_spheroid_radial.toml", "-o", str(good), "--no-control",
                 "--quiet", "--set", "time.end_h=6"]) == 0
    real, calls = zn_pde.inspect.describe, []

    def flaky(path, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            h5py.File(tmp_path / "not_there.h5", "r")  # raises inside h5py
        return real(path, **kwargs)

    monkeypatch.setattr(zn_pde.inspect, "describe", flaky)
    capsys.readouterr()
    assert main(["inspect", str(good)]) == 0
    assert len(calls) == 2 and "good.h5" in capsys.readouterr().out
