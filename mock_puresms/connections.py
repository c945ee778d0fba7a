"""uvicorn's HTTP protocol (httptools) with limits on slow clients and on connections.

uvicorn bounds the idle time between a kept-alive connection's requests
(``timeout_keep_alive``) but not the time a client takes to send a request: a client
that connects and sends nothing, or sends its headers or its body a byte at a time,
holds its connection (and a file descriptor) for ever, and thousands of them exhaust
the process's file limit. This protocol adds:

- a header timeout, from connecting (or from the first byte of a kept-alive connection's
  next request) until the headers are in;
- a body timeout, from the headers until the whole body is in;
- a connection limit: a connection beyond it is answered ``503`` at once and closed.

A timeout answers ``408`` (when no response has started) and closes the connection;
the handler still reading that body sees the client gone, which the request-id
middleware logs as one line.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_puresms.settings import Settings

log = logging.getLogger("mock_puresms")


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 1000


def _answer(status: str, detail: str) -> bytes:
    body = detail.encode()
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class LimitedHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with the limits of ``limits`` (see ``limited_protocol``).

    The timeouts add nothing to a request's path: a sweep of the open connections, a
    few times per timeout (``_Sweeper``), finds each one's wait from the state uvicorn
    keeps anyway. A connection waits for headers when it has no request in progress
    and no keep-alive timer (uvicorn cancels it on the next request's first byte, and a
    new connection has none), and for a body while its request's body is unfinished.
    A wait seen at two sweeps, over the limit apart, ends the connection: never before
    the limit, at most one sweep after it. (Timers armed by parser callbacks cost every
    request three more Python calls: about 8% of a single send's throughput.)
    """

    limits = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The wait the last sweep saw ("headers" or "body", and the request cycle it
        # belongs to) and when it was first seen (loop time).
        self._waiting: tuple[str, object] | None = None
        self._since = 0.0

    # -- connection ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = self.limits.max_connections
        if len(self.connections) > limit:
            log.warning("refused a connection: %d are open, the limit (--max-connections)", limit)
            transport.write(
                _answer("503 Service Unavailable", f"The mock serves at most {limit} connections.")
            )
            transport.close()
            return
        _Sweeper.of(self).start()

    # -- deadlines ---------------------------------------------------------------------------

    def _wait(self) -> tuple[str, object] | None:
        """What the connection waits for from its client, and for which request."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            if self.timeout_keep_alive_task is None and not self.pipeline:
                return ("headers", cycle)
            return None  # idle between requests: uvicorn's keep-alive timeout applies
        if cycle.more_body:
            return ("body", cycle)
        return None  # the mock is answering

    def check(self, now: float) -> None:
        """One sweep's look at the connection: end a wait that has gone on too long."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        wait = self._wait()
        seen = self._waiting
        if wait is None or seen is None or wait[0] != seen[0] or wait[1] is not seen[1]:
            self._waiting, self._since = wait, now
            return
        what = wait[0]
        seconds = self.limits.header_timeout if what == "headers" else self.limits.body_timeout
        if now - self._since >= seconds:
            self._waiting = None
            self._expired(seconds, what)

    def _expired(self, seconds: float, what: str) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        cycle = self.cycle
        # A request has its cycle once its headers are in: while headers are awaited,
        # ``cycle`` is the previous request's (a kept-alive connection's).
        if what == "headers":
            respond = cycle is None or cycle.response_complete
        else:
            respond = cycle is not None and not cycle.response_started
        flag = "--header-timeout" if what == "headers" else "--body-timeout"
        log.info("closed a connection: the request's %s took over %g s (%s)", what, seconds, flag)
        if respond:
            transport.write(
                _answer(
                    "408 Request Timeout",
                    f"The request's {what} did not arrive within {seconds:g} s.",
                )
            )
        transport.close()


class _Sweeper:
    """Looks at every open connection of a server a few times per timeout, while any
    is open (one per server, kept on uvicorn's ``ServerState``)."""

    def __init__(self, protocol: LimitedHttpProtocol) -> None:
        self._loop = protocol.loop
        self._connections = protocol.connections
        limits = protocol.limits
        shortest = min(limits.header_timeout, limits.body_timeout)
        self._every = min(max(shortest / 8, 0.01), 1.0)
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, protocol: LimitedHttpProtocol) -> _Sweeper:
        state = protocol.server_state
        sweeper: _Sweeper | None = getattr(state, "mock_puresms_sweeper", None)
        if sweeper is None:
            sweeper = cls(protocol)
            state.mock_puresms_sweeper = sweeper  # type: ignore[attr-defined]
        return sweeper

    def start(self) -> None:
        if self._timer is None:
            self._timer = self._loop.call_later(self._every, self._sweep)

    def _sweep(self) -> None:
        self._timer = None
        now = self._loop.time()
        for connection in list(self._connections):
            if isinstance(connection, LimitedHttpProtocol):
                connection.check(now)
        if self._connections:
            self.start()


def limited_protocol(settings: Settings) -> type[LimitedHttpProtocol]:
    """The protocol class to give uvicorn (``Config(http=...)``) for the settings' limits."""
    limits = ConnectionLimits(
        settings.header_timeout, settings.body_timeout, settings.max_connections
    )
    return type("LimitedHttpProtocol", (LimitedHttpProtocol,), {"limits": limits})
