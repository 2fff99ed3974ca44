"""Progress for long runs and fits: a one-line bar on a terminal, plain periodic lines in logs."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO


def format_duration(seconds: float) -> str:
    """Wall time for people: '42 s', '3 min 05 s', '2 h 07 min'; '?' when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = round(seconds)
    if s < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def count(n: int, noun: str) -> str:
    """'1 frame', '3 frames': a count with its noun in the number it takes."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class Progress:
    """Report simulated time (or iterations) done, rate and ETA.

    On a terminal the line is redrawn in place (carriage return); otherwise a plain line is
    printed at the first update, then at most every `every_s` seconds of wall time, and at
    the end, so CI logs stay short. `start` is where the work begins (a resumed run): the rate
    and ETA count only the work done by this process. The first update's work includes
    compiling (a short run's first chunk can take longer than all the rest), so from the
    second update on the rate and ETA count from the first; until then the ETA is '?'.
    """

    def __init__(self, total: float, *, unit: str = "h", scale: float = 3600.0,
                 label: str = "simulating", stream: TextIO | None = None, every_s: float = 10.0,
                 enabled: bool = True, start: float = 0.0):
        self.total, self.unit, self.scale, self.label = total, unit, scale, label
        self.stream = stream or sys.stderr
        try:
            self.tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):  # a closed or unusual stream
            self.tty = False
        self.every_s = every_s
        self.enabled = enabled
        self.start = start
        self.t0 = time.perf_counter()
        self.last_print = -math.inf
        self.done = start
        self.finished = False
        self.first: tuple[float, float] | None = None  # (elapsed, done) at the first update

    def text(self, done: float, elapsed: float) -> str:
        frac = min(1.0, done / self.total) if self.total > 0 else 1.0
        since, base = self.first if self.first is not None else (elapsed, done)
        worked, took = done - base, elapsed - since
        if worked <= 0 or took <= 0:  # the first update: its work includes compiling
            worked, took = done - self.start, elapsed
        rate = worked / self.scale / took if took > 0 else math.nan
        left = self.total - done
        eta = (left / (worked / took) if worked > 0 and took > 0 and self.first is not None
               else math.nan)
        rate_text = f"{rate:.3g} {self.unit}/s" if math.isfinite(rate) else f"? {self.unit}/s"
        return (f"{self.label}: {done / self.scale:.4g}/{self.total / self.scale:.4g} "
                f"{self.unit} ({100 * frac:3.0f}%), {rate_text}, elapsed "
                f"{format_duration(elapsed)}, ETA {format_duration(eta if left > 0 else 0.0)}")

    def update(self, done: float) -> None:
        self.done = done
        if not self.enabled or self.finished:
            return
        now = time.perf_counter()
        final = done >= self.total
        if not self.tty and not final and now - self.last_print < self.every_s:
            return
        self.last_print = now
        text = self.text(done, now - self.t0)
        if self.first is None:
            self.first = (now - self.t0, done)
        if self.tty:
            width = 24
            frac = min(1.0, done / self.total) if self.total > 0 else 1.0
            filled = int(width * frac)
            self.stream.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {text}\033[K"
                              + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.finished = final

    def finish(self, done: float, note: str) -> None:
        """End at less than `total` because the work is complete early (an optimiser that
        converged): one last line with the work actually done and `note`, not a bar jumped to
        100 % at a rate of steps never taken."""
        self.done = done
        if not self.enabled or self.finished:
            return
        elapsed = time.perf_counter() - self.t0
        text = (f"{self.label}: {note} at {done / self.scale:.4g}/"
                f"{self.total / self.scale:.4g} {self.unit}, elapsed {format_duration(elapsed)}")
        self.stream.write((f"\r{text}\033[K\n") if self.tty else text + "\n")
        self.stream.flush()
        self.finished = True

    def close(self) -> None:
        """End the terminal line if the work stopped early (interrupted, failed)."""
        if self.enabled and self.tty and not self.finished and self.last_print > -math.inf:
            self.stream.write("\n")
            self.stream.flush()
        self.finished = True
