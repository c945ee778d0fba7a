"""Rate limits: at most ``requests`` API requests of an account in any ``window`` of mock time.

A sliding log, which is what "N per window" means to the people who write it: a request
is admitted when fewer than ``requests`` admitted requests of its account happened in the
``window`` milliseconds before it (a request at ``t`` holds its slot until ``t + window``).
A fixed window would let ``2 * requests`` through around a window's edge. Requests that
are refused are not logged, so a client retrying early never pushes its own wait back.

Time is the mock's clock, so a test on the virtual clock frees slots by advancing it.
Each account's log holds at most ``requests`` timestamps (older ones are dropped as they
leave the window), and there is one log per account that has a limit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

MAX_REQUESTS = 100_000
"""The most requests a limit may allow in one window: the size of the largest log kept."""
MAX_WINDOW_MS = 86_400_000
"""The longest window: a day (a limit over days is a quota, not a rate)."""

# Where an account's limit came from (``RateLimitState.source``).
CONFIG = "config"  # the account in the config file
OPEN_MODE = "openMode"  # the config file's openMode, for accounts created in open mode
CONTROL = "control"  # PUT /_mock/accounts/{account}/rate-limit


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``requests`` requests in any ``window_ms`` milliseconds."""

    requests: int
    window_ms: int

    def __post_init__(self) -> None:
        if not 1 <= self.requests <= MAX_REQUESTS:
            raise ValueError(f"requests must be 1 to {MAX_REQUESTS}")
        if not 1 <= self.window_ms <= MAX_WINDOW_MS:
            raise ValueError(f"window must be 1ms to {MAX_WINDOW_MS // 3_600_000}h")

    @property
    def window(self) -> str:
        """The window as the config file writes it: ``1s``, ``500ms``, ``1m``, ``1h``."""
        for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
            if self.window_ms % size == 0:
                return f"{self.window_ms // size}{unit}"
        return f"{self.window_ms}ms"


def retry_after_seconds(milliseconds: int) -> int:
    """``Retry-After`` for a wait: whole seconds, rounded up, so a client that waits
    that long always finds a slot free (never 0: that would say "now")."""
    return max(1, -(-milliseconds // 1_000))


def refusal(limit: RateLimit | None, retry_after_ms: int) -> str:
    """The ``detail`` of a ``429``: the limit, and how long to wait."""
    seconds = retry_after_seconds(retry_after_ms)
    rule = (
        f"at most {limit.requests} API request(s) per {limit.window}"
        if limit is not None
        else "a rate limit"
    )
    return (
        f"Too many requests: this account may make {rule} (the mock's rate limit). "
        f"Retry after {seconds} second(s)."
    )


class RateLimitState(NamedTuple):
    """An account's limit as it stands: ``limit`` ``None`` is no limit."""

    limit: RateLimit | None
    source: str | None  # CONFIG, OPEN_MODE, CONTROL, or None (no limit)
    used: int  # admitted requests still inside the window
    retry_after_ms: int  # 0 when a request would be admitted now


class RateLimiter:
    """Admits or refuses each API request of an account; time from ``now`` (mock ms).

    ``configured`` are the config file's limits by account id; ``open_default`` is the
    limit of every other account (``openMode.rateLimit``; ``None`` in strict mode).
    Limits set through ``set`` override both until ``reset``.
    """

    def __init__(
        self,
        now: Callable[[], int],
        configured: dict[str, RateLimit] | None = None,
        open_default: RateLimit | None = None,
    ) -> None:
        self._now = now
        self._configured = dict(configured or {})
        self._open_default = open_default
        # The limit in force per account (None: explicitly none); accounts absent from
        # it get ``_default``. Rebuilt from the configuration by ``reset``.
        self._limits: dict[str, RateLimit | None] = dict(self._configured)
        self._default = open_default
        self._overridden: set[str] = set()
        self._logs: dict[str, deque[int]] = {}

    def admit(self, account_id: str) -> int | None:
        """Count one request of the account now: ``None`` when it is admitted, else the
        milliseconds until a slot frees (the request is then not counted).

        With no limit this is one dict lookup: it sits on every request's path.
        """
        limit = self._limits.get(account_id, self._default)
        if limit is None:
            return None
        now = self._now()
        log = self._logs.get(account_id)
        if log is None:
            log = self._logs[account_id] = deque()
        _expire(log, now - limit.window_ms)
        if len(log) < limit.requests:
            log.append(now)
            return None
        return _wait(log[0] + limit.window_ms - now, limit)

    def state(self, account_id: str) -> RateLimitState:
        limit = self._limits.get(account_id, self._default)
        if limit is None:
            return RateLimitState(None, None, 0, 0)
        now = self._now()
        log = self._logs.get(account_id, deque())
        _expire(log, now - limit.window_ms)
        used = len(log)
        retry = _wait(log[0] + limit.window_ms - now, limit) if used >= limit.requests else 0
        return RateLimitState(limit, self._source(account_id), used, retry)

    def _source(self, account_id: str) -> str:
        if account_id in self._overridden:
            return CONTROL
        return CONFIG if account_id in self._configured else OPEN_MODE

    def set(self, account_id: str, limit: RateLimit | None) -> None:
        """Give the account ``limit`` (``None``: no limit) until the next reset; the
        requests already counted in the window still count against a new limit."""
        self._limits[account_id] = limit
        self._overridden.add(account_id)
        if limit is None:
            self._logs.pop(account_id, None)
        else:
            log = self._logs.get(account_id)
            if log is not None:
                # Only the newest ``requests`` entries can matter for the new limit.
                while len(log) > limit.requests:
                    log.popleft()

    def reset(self, account_ids: Iterable[str] | None = None) -> None:
        """Forget counts and ``set`` limits (of some accounts, or all): back to the
        configuration."""
        if account_ids is None:
            self._limits = dict(self._configured)
            self._overridden.clear()
            self._logs.clear()
            return
        for account_id in account_ids:
            self._logs.pop(account_id, None)
            self._overridden.discard(account_id)
            if account_id in self._configured:
                self._limits[account_id] = self._configured[account_id]
            else:
                self._limits.pop(account_id, None)


def _expire(log: deque[int], before_or_at: int) -> None:
    """Drop the timestamps whose slot has freed (at or before ``before_or_at``)."""
    while log and log[0] <= before_or_at:
        log.popleft()


def _wait(milliseconds: int, limit: RateLimit) -> int:
    """A wait of 1 ms to a window: a real clock stepped back cannot make it longer."""
    return max(1, min(milliseconds, limit.window_ms))
