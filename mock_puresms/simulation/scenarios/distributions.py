"""Delays drawn from distributions, and the per-message draws they are made with.

A step's ``after`` (or a reply's) may be a fixed duration or a distribution::

    after: {lognormal: {median: 3s, p99: 40s}, max: 5m}
    after: {uniform: {min: 1s, max: 5s}}
    after: {exponential: {mean: 2s}}

Every draw of a message comes from :class:`MessageDraws`: a hash of the scenario's seed,
the recipient and how many messages that recipient was sent before (since the scenario
was made active or the mock reset), and the draw's index within the message. So two
fresh servers with the same scenario and seed give the same recipient's nth message the
same delays, whatever else they were sent in between or in what order concurrent
requests arrived.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Protocol

from mock_puresms.simulation.durations import MAX_DURATION_MS

_STANDARD = NormalDist()
PERCENTILES = {"p90": 0.90, "p95": 0.95, "p99": 0.99}
"""The tail a lognormal may be given by, besides its median."""


class Delay(Protocol):
    """A distribution of delays in milliseconds."""

    @property
    def median_ms(self) -> int:
        """The delay half the draws stay under (shown where one number is wanted)."""
        ...

    def sample(self, unit: float) -> int:
        """The delay at quantile ``unit`` (in (0, 1)), whole milliseconds, clamped."""
        ...


def _clamp(value: float, cap_ms: int) -> int:
    if not value < cap_ms:  # also NaN, never expected
        return cap_ms
    return max(0, round(value))


@dataclass(frozen=True, slots=True)
class Lognormal:
    """Carrier-like delays: most near ``median_ms``, a long tail reaching ``tail_ms`` at
    quantile ``tail_at``; never above ``cap_ms``."""

    median_ms: int
    tail_ms: int
    tail_at: float
    cap_ms: int = MAX_DURATION_MS
    # The normal distribution of log(delay), and log(cap), worked out once.
    _mu: float = field(init=False, repr=False, compare=False)
    _sigma: float = field(init=False, repr=False, compare=False)
    _log_cap: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mu = math.log(self.median_ms)
        object.__setattr__(self, "_mu", mu)
        sigma = (math.log(self.tail_ms) - mu) / _STANDARD.inv_cdf(self.tail_at)
        object.__setattr__(self, "_sigma", sigma)
        object.__setattr__(self, "_log_cap", math.log(self.cap_ms) if self.cap_ms else -math.inf)

    def sample(self, unit: float) -> int:
        exponent = self._mu + self._sigma * _STANDARD.inv_cdf(unit)
        # exp() of a large exponent overflows: compare in log space first.
        if exponent >= self._log_cap:
            return self.cap_ms
        return _clamp(math.exp(exponent), self.cap_ms)


@dataclass(frozen=True, slots=True)
class Uniform:
    """Any delay from ``min_ms`` to ``max_ms``, each as likely."""

    min_ms: int
    max_ms: int
    cap_ms: int = MAX_DURATION_MS

    @property
    def median_ms(self) -> int:
        return min((self.min_ms + self.max_ms) // 2, self.cap_ms)

    def sample(self, unit: float) -> int:
        return _clamp(self.min_ms + unit * (self.max_ms - self.min_ms), self.cap_ms)


@dataclass(frozen=True, slots=True)
class Exponential:
    """Memoryless delays averaging ``mean_ms`` (before the cap)."""

    mean_ms: int
    cap_ms: int = MAX_DURATION_MS

    @property
    def median_ms(self) -> int:
        return min(round(self.mean_ms * math.log(2)), self.cap_ms)

    def sample(self, unit: float) -> int:
        return _clamp(-self.mean_ms * math.log1p(-unit), self.cap_ms)


KINDS = ("lognormal", "uniform", "exponential")
"""The distributions an ``after`` may name."""


_MASK = 2**64 - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix(value: int) -> int:
    """SplitMix64's finalizer: every input bit flips about half the output bits."""
    value = (value + _GOLDEN) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _number(to: str) -> int:
    if to.isdigit() and to.isascii() and len(to) <= 19:
        return int(to)
    # Recipients are digits; anything else still gets a stable number (not hash()).
    digest = hashlib.blake2b(to.encode(errors="surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class MessageDraws:
    """The draws of one message, uniform in (0, 1): ``random()`` gives the next one.

    Each is a mix of (seed, recipient, count, index) alone: not of other messages,
    timing, or a generator shared with them. Quacks like ``random.Random`` for the one
    method a weighted choice uses. Integer mixing rather than a hash of text: it made
    planning a 15,000-message bulk three times faster than blake2b did.
    """

    __slots__ = ("_index", "_state")

    def __init__(self, seed: int, to: str, count: int = 0) -> None:
        self._state = _mix(_mix(_mix(seed & _MASK) ^ _number(to)) ^ count)
        self._index = 0

    def random(self) -> float:
        self._index += 1
        value = _mix((self._state + self._index * _GOLDEN) & _MASK)
        # 52 bits so that (n + 0.5) / 2**52 is exact: never 0.0, never 1.0.
        return ((value >> 12) + 0.5) / 2**52
