"""The mock's notion of now, in epoch milliseconds: wall time (optionally sped up) or virtual."""

from __future__ import annotations

import time
from typing import Literal, Protocol

ClockMode = Literal["real", "virtual"]


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Clock(Protocol):
    mode: ClockMode
    time_scale: float

    def now(self) -> int:
        """Mock-clock time in epoch milliseconds."""
        ...

    def wall_seconds_until(self, due: int) -> float:
        """How long to wait in wall time for the clock to reach ``due`` (0 if past)."""
        ...


class RealClock:
    """Wall time from ``start`` on, running ``time_scale`` times faster than it."""

    mode: ClockMode = "real"

    def __init__(self, time_scale: float = 1.0, start: int | None = None) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self._origin = wall_ms() if start is None else start
        self._origin_monotonic = time.monotonic()

    def now(self) -> int:
        elapsed = time.monotonic() - self._origin_monotonic
        return self._origin + int(elapsed * 1000 * self.time_scale)

    def wall_seconds_until(self, due: int) -> float:
        return max(0.0, (due - self.now()) / 1000 / self.time_scale)


class VirtualClock:
    """Time that stands still until the scheduler moves it forward."""

    mode: ClockMode = "virtual"
    time_scale = 1.0

    def __init__(self, start: int | None = None) -> None:
        self._now = wall_ms() if start is None else start

    def now(self) -> int:
        return self._now

    def move_to(self, instant: int) -> None:
        """Set the time; it never goes backwards."""
        if instant > self._now:
            self._now = instant

    def resume_at(self, instant: int) -> None:
        """Stand where a previous run left the clock (``--db``), even if that is earlier."""
        self._now = instant

    def wall_seconds_until(self, due: int) -> float:
        # Virtual time never arrives by waiting.
        return float("inf") if due > self._now else 0.0
