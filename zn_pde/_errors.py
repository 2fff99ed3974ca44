"""The two tiers of failure (STYLE.md "Errors").

`InputError` is everything that can be known before running: a bad key, value, file or
argument. The CLI turns it into exit status 2 and a one-paragraph message, never a traceback.
`RunError` is a failure that only exists at run time (a NaN, a negative concentration, an
interrupted run); the CLI turns it into exit status 1. `Interrupted`, the RunError of a run,
sweep or plan stopped by Ctrl-C or SIGTERM, is printed without "run failed" (nothing failed:
its message says what was kept and how to continue).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType


class InputError(ValueError):
    """Bad input: names the file, the key, the offending value and what is allowed.

    `missing` marks a required key that is absent (the key names where it belongs), so that
    callers can tell it from a bad value without reading the message."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 missing: bool = False):
        self.file = file
        self.key = key
        self.message = message
        self.missing = missing
        where = []
        if file:
            where.append(str(file))
        if key:
            where.append(f"key '{key}'")
        prefix = ": ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


def check_flags(caller: str, file: str | None = None, **flags: object) -> None:
    """A Python caller's on/off arguments must be True or False: "no" or 0.5 would be read as
    on (truthy), and overwrite="no" would replace a run, a plan or an export."""
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            raise InputError(f"{caller}'s {name} = {flag!r} must be True or False", key=name,
                             file=file)


def check_path(caller: str, path: object) -> None:
    """A Python caller's file argument must be a path (str or os.PathLike): anything else
    failed as a TypeError inside os.fspath, far from the call."""
    if not isinstance(path, str | os.PathLike):
        raise InputError(f"{caller} takes a file path, got {type(path).__name__} {path!r}; "
                         "allowed: a str or os.PathLike naming a zn-pde output (.h5)",
                         key="path")


class ConfigNote(UserWarning):
    """A config the model runs, but not wholly as its user may expect (light below the band
    gap, ultrasound below the cavitation threshold, zinc nothing caps, ...): the notes
    `zn-pde validate` and `zn-pde run` print, which `simulate` issues as this warning."""


class RunError(RuntimeError):
    """A failure during a run (non-finite or negative field, interruption)."""


class Interrupted(RunError):
    """A run, sweep or plan stopped by Ctrl-C or SIGTERM; the message says what was kept."""


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all (a temporary beside it, then renamed), so an
    interrupted command never leaves a half-written result that marks its work as done."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def output_folder(path: str | os.PathLike, key: str = "outdir", *, create: bool = True
                  ) -> Path:
    """The folder a command writes into, created if missing: an InputError (exit 2) naming
    it when it is a file, cannot be created or cannot be written, checked before any work is
    done, so a long fit or plan does not fail at its end. `key` "outdir" is the Python
    functions' argument; the CLI names its option, --outdir, instead. `create=False` checks
    without creating: a missing folder's nearest existing parent must be a writable folder
    (so a config refused after the check leaves no empty folder behind)."""
    if not isinstance(path, str | os.PathLike):  # from Python: fit(cfg, 5)
        raise InputError(f"the output folder {path!r} ({type(path).__name__}) is not a path; "
                         "allowed: a str or os.PathLike naming a folder", key=key)
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError("the output folder is a file; give a folder", key=key, file=str(out))
    if not create and not out.exists():
        parent = next(p for p in out.absolute().parents if p.exists())
        if not parent.is_dir():
            raise InputError(f"cannot create the output folder: {parent} is a file", key=key,
                             file=str(out))
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"cannot create the output folder: {parent} is not writable",
                             key=key, file=str(out))
        return out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the output folder ({e.strerror})", key=key,
                         file=str(out)) from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError("the output folder is not writable", key=key, file=str(out))
    try:  # access() answers yes to root where writing still fails (sysfs, a read-only mount)
        tempfile.TemporaryFile(dir=out).close()
    except OSError as e:
        raise InputError(f"the output folder is not writable ({e.strerror})", key=key,
                         file=str(out)) from None
    return out


#: Signals (SIGINT, SIGTERM) that stopped work in this process: `note_signal` records them.
_SIGNALLED: list[int] = []


def note_signal(signum: int) -> None:
    """Record that a signal stopped work (see `signalled`)."""
    _SIGNALLED.append(signum)


def forget_signals() -> None:
    """Start a new command with no signal recorded."""
    _SIGNALLED.clear()


def signalled() -> bool:
    """Whether a SIGINT or SIGTERM stopped work in this process. The CLI then leaves without
    the interpreter's clean-up: a signal that cut XLA mid-compilation can leave its threads in
    a state that crashes at shutdown (exit 139 after the run's file was closed cleanly)."""
    return bool(_SIGNALLED)


_COLLECTING = [False]  # a garbage collection is under way (between its start and stop)


def _track_collection(phase: str, info: dict) -> None:
    _COLLECTING[0] = phase == "start"


gc.callbacks.insert(0, _track_collection)  # first: set before the other callbacks run


def may_raise_in(frame: FrameType | None, signum: int) -> bool:
    """Whether a signal handler, called in `frame`, may raise its exception there.

    Not while the garbage collector runs Python code: its callbacks (JAX registers one,
    `_xla_gc_callback`, that runs at every collection, so a signal during a compilation often
    lands in it), and the weakref callbacks and finalizers of what it collects (a
    WeakKeyDictionary's `remove`, 2026-12-05): Python prints an exception raised there as
    "Exception ignored in ..." with a traceback and drops it. The signal is then sent again
    20 ms later, when the collection is over, and False returned.
    """
    callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks} - {None}
    inside = _COLLECTING[0]
    while frame is not None and not inside:
        inside = frame.f_code in callbacks
        frame = frame.f_back
    if inside:
        timer = threading.Timer(0.02, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()
        return False
    return True


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM (`kill`, a batch scheduler's stop) raises KeyboardInterrupt, as
    Ctrl-C does, so that one `except KeyboardInterrupt` handles both; either is recorded
    (`note_signal`). Outside the main thread, where signal handlers cannot be set, it does
    nothing."""

    def interrupt(signum, frame):
        note_signal(signum)
        if may_raise_in(frame, signum):
            raise KeyboardInterrupt

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            if signal.getsignal(sig) is not signal.SIG_IGN:  # a background job's SIGINT
                previous[sig] = signal.signal(sig, interrupt)
        except ValueError:  # not the main thread
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
