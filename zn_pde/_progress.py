"""Progress for long runs and fits: a one-line bar on a terminal, plain periodic lines in logs."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Report simulated time (or iterations) done, rate and ETA.

    On a terminal the line is redrawn in place; otherwise a line is printed every
    `every_s` seconds of wall time and at the end, so CI logs stay short.
    """

    def __init__(self, total: float, *, unit: str = "h", scale: float = 3600.0,
                 label: str = "simulating", stream: TextIO | None = None, every_s: float = 10.0,
                 enabled: bool = True):
        self.total, self.unit, self.scale, self.label = total, unit, scale, label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.last_print = -float("inf")
        self.done = 0.0

    def update(self, done: float) -> None:
        self.done = done
        if not self.enabled:
            return
        now = time.perf_counter()
        final = done >= self.total
        if not self.tty and not final and now - self.last_print < self.every_s:
            return
        self.last_print = now
        elapsed = now - self.t0
        frac = min(1.0, done / self.total) if self.total else 1.0
        rate = done / self.scale / elapsed if elapsed > 0 else 0.0
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        text = (f"{self.label}: {done / self.scale:.4g}/{self.total / self.scale:.4g} {self.unit} "
                f"({100 * frac:3.0f}%) {rate:.3g} {self.unit}/s elapsed {elapsed:.1f} s "
                f"ETA {eta:.1f} s")
        if self.tty:
            width = 24
            bar = "#" * int(width * frac) + "-" * (width - int(width * frac))
            self.stream.write(f"\r[{bar}] {text}" + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
