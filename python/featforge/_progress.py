"""A dependency-free progress bar: redrawn in place on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(
        self,
        total: int,
        *,
        label: str = "rows",
        prefix: str = "",
        stream: TextIO | None = None,
    ) -> None:
        self.total = max(total, 0)
        self.label = label
        self.prefix = f"{prefix} " if prefix else ""
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.start = time.perf_counter()
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._next_line_at = 0.1  # non-terminal output: a line per 10 %

    def update(self, n: int) -> None:
        self.done += n
        frac = self.done / self.total if self.total else 1.0
        if self._tty:
            self.stream.write("\r" + self._render(frac))
            self.stream.flush()
        elif frac + 1e-12 >= self._next_line_at or self.done >= self.total:
            self.stream.write(self._render(frac) + "\n")
            self.stream.flush()
            while self._next_line_at <= frac + 1e-12:
                self._next_line_at += 0.1

    def close(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def _render(self, frac: float) -> str:
        width = 30
        filled = int(round(width * min(frac, 1.0)))
        rate = self.done / self.elapsed if self.elapsed > 0 else 0.0
        bar = "#" * filled + "-" * (width - filled)
        return (
            f"{self.prefix}[{bar}] {frac * 100:5.1f}%  {self.done:,}/{self.total:,} {self.label}  "
            f"{rate:,.0f} {self.label}/s"
        )
