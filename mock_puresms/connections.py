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
    """``HttpToolsProtocol`` with the limits of ``limits`` (see ``limited_protocol``)."""

    limits = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The deadline in force (loop time) and what it is for, or None. Arming only
        # moves it: the one timer of the connection looks at it when it fires and, if
        # the deadline has moved on, waits again. A timer armed and cancelled twice a
        # request cost a kept-alive connection's requests more than their routing.
        self._deadline: float | None = None
        self._limit: tuple[float, str] = (0.0, "")
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

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
        self._arm(self.limits.header_timeout, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    # -- parser callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the next request of a kept-alive connection
            self._arm(self.limits.header_timeout, "headers")

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        self._arm(self.limits.body_timeout, "body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # -- deadlines ---------------------------------------------------------------------------

    def _arm(self, seconds: float, what: str) -> None:
        deadline = self.loop.time() + seconds
        self._deadline, self._limit = deadline, (seconds, what)
        if self._timer is None or deadline < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(deadline, self._check)
            self._timer_at = deadline

    def _disarm(self) -> None:
        self._deadline = None  # the timer, when it fires, finds nothing to do

    def _check(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return
        if self.loop.time() < deadline:  # moved on since the timer was set: wait again
            self._timer = self.loop.call_at(deadline, self._check)
            self._timer_at = deadline
            return
        self._deadline = None
        self._expired(*self._limit)

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


def limited_protocol(settings: Settings) -> type[LimitedHttpProtocol]:
    """The protocol class to give uvicorn (``Config(http=...)``) for the settings' limits."""
    limits = ConnectionLimits(
        settings.header_timeout, settings.body_timeout, settings.max_connections
    )
    return type("LimitedHttpProtocol", (LimitedHttpProtocol,), {"limits": limits})
