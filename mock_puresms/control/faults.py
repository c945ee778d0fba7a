"""Injected faults: the next requests to a path answer a chosen status, or arrive late.

A fault names a method and a path. The path is matched like a route (ignoring case and
one trailing slash); a ``*`` at its end matches any rest of the path. The query string
is not looked at. Faults apply to every path outside ``/_mock`` (the control surface
must stay reachable to clear them) and run before anything else of the v1 surface,
authentication included (API.md section 1). When several faults match, the oldest
takes the request; each fault takes ``times`` requests and is then gone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_puresms.control.closing import Closing
from mock_puresms.web.body import MAX_BODY_BYTES
from mock_puresms.web.problems import problem_body, validation_error

MAX_TIMES = 1_000_000
MAX_DELAY_MS = 300_000
MAX_BODY_DEPTH = 64  # as System.Text.Json's default MaxDepth
_METHOD = re.compile(r"^[A-Za-z]{1,20}$|^\*$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_HEADER_VALUE = re.compile(r"^(?:[\x21-\x7e](?:[\x20\x21-\x7e\t]*[\x21-\x7e])?)?\Z")
_FORBIDDEN_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
_NO_BODY = frozenset({204, 304})


@dataclass(slots=True, eq=False)
class Fault:
    """One injected fault; ``times`` counts the requests it will still take."""

    id: str
    method: str
    path: str
    status: int | None
    times: int
    delay_ms: int
    body: Any = None
    has_body: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method != method:
            return False
        wanted = self.path.lower()
        if wanted.endswith("*"):
            return path.lower().startswith(wanted[:-1])
        return _trimmed(path).lower() == _trimmed(wanted)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "times": self.times,
            "delayMs": self.delay_ms,
            "body": self.body if self.has_body else None,
            "headers": self.headers,
            "hits": self.hits,
        }


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in a JSON value (a loop: it may be very deep)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return deepest


def _trimmed(path: str) -> str:
    return path[:-1] if path.endswith("/") and len(path) > 1 else path


def _is_header_value(value: str) -> bool:
    # RFC 9110 section 5.5: visible ASCII, spaces and tabs between. A control character
    # (NUL, CR, LF, DEL ...) makes the HTTP server drop the connection without an answer.
    return _HEADER_VALUE.match(value) is not None


def _is_control(path: str) -> bool:
    lowered = path.lower()
    return lowered == "/_mock" or lowered.startswith("/_mock/")


class FaultTable:
    """The faults in force, oldest first."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def all(self) -> list[Fault]:
        """Every fault in force, newest first (the order of every list)."""
        return list(reversed(self._faults))

    def clear(self) -> int:
        count = len(self._faults)
        self._faults.clear()
        return count

    def remove(self, fault_id: str) -> bool:
        for index, fault in enumerate(self._faults):
            if fault.id == fault_id:
                del self._faults[index]
                return True
        return False

    def take(self, method: str, path: str) -> Fault | None:
        """The oldest fault matching the request, counting the request against it."""
        if not self._faults or _is_control(path):
            return None
        for index, fault in enumerate(self._faults):
            if fault.matches(method, path):
                fault.hits += 1
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[index]
                return fault
        return None


def parse_fault(body: Mapping[str, Any]) -> Fault:
    """A fault from a ``POST /_mock/faults`` body whose keys are lower-cased.

    Raises a ``400`` naming every offending field.
    """
    errors: dict[str, list[str]] = {}
    method = body.get("method")
    if not isinstance(method, str) or not _METHOD.match(method):
        errors["method"] = ["'method' must be an HTTP method such as POST, or '*' for any."]
    path = body.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        errors["path"] = ["'path' must be a path starting with '/', such as /v1/Sms/Send."]
    elif "*" in path[:-1] or "?" in path:
        errors["path"] = ["'path' may end with '*' (any rest of the path) and has no query."]
    elif _is_control(path):
        errors["path"] = ["Faults cannot apply to the control surface (/_mock)."]
    status = body.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599
    ):
        errors["status"] = ["'status' must be an HTTP status from 200 to 599."]
    times = body.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= MAX_TIMES:
        errors["times"] = [f"'times' must be a whole number from 1 to {MAX_TIMES}."]
    delay = body.get("delayms", 0)
    if delay is None:
        delay = 0
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= MAX_DELAY_MS:
        errors["delayMs"] = [
            f"'delayMs' must be a whole number of milliseconds, 0 to {MAX_DELAY_MS}."
        ]
    has_body = body.get("body") is not None
    if has_body and status is None:
        errors["body"] = ["'body' needs a 'status' to answer with."]
    elif has_body and _depth(body["body"]) > MAX_BODY_DEPTH:
        # The body is written back as JSON, which stops at 255 levels (a 500 then).
        errors["body"] = [f"'body' may be nested at most {MAX_BODY_DEPTH} levels deep."]
    headers = body.get("headers")
    if headers is None:
        headers = {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str)
        and isinstance(v, str)
        and _HEADER_NAME.match(k)
        and k.lower() not in _FORBIDDEN_HEADERS
        and _is_header_value(v)
        for k, v in headers.items()
    ):
        errors["headers"] = [
            "'headers' must map header names to string values of visible ASCII characters, "
            "spaces and tabs, with no control characters and no leading or trailing "
            "space (and no Content-Length, Transfer-Encoding or Connection)."
        ]
    elif headers and status is None:
        errors["headers"] = ["'headers' need a 'status' to answer with."]
    if not errors and status is None and delay == 0:
        errors["status"] = ["Give a 'status' to answer with, a 'delayMs', or both."]
    if errors:
        raise validation_error(errors)
    assert isinstance(method, str) and isinstance(path, str)
    return Fault(
        id="F" + os.urandom(6).hex().upper(),
        method=method.upper(),
        path=path,
        status=status,
        times=times,
        delay_ms=delay,
        body=body.get("body"),
        has_body=has_body,
        headers=dict(headers),
    )


class FaultMiddleware:
    """Pure ASGI middleware answering (or delaying) requests that a fault matches.

    It sits inside ``RequestIdMiddleware``, so an injected answer carries
    ``X-Request-Id`` and its problem body the matching ``traceId``.
    """

    def __init__(self, app: ASGIApp, faults: FaultTable, closing: Closing) -> None:
        self.app = app
        self.faults = faults
        self.closing = closing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fault = self.faults.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.delay_ms:
            await self.closing.sleep(fault.delay_ms / 1000)
        if fault.status is None:
            await self.app(scope, receive, send)
            return
        await _drain(receive)
        await _answer(scope, send, fault)


async def _drain(receive: Receive) -> None:
    """Read the request body away, so the client sees the answer and not a reset."""
    size = 0
    while size <= MAX_BODY_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _answer(scope: Scope, send: Send, fault: Fault) -> None:
    status = fault.status
    assert status is not None
    if fault.has_body:
        content = orjson.dumps(fault.body)
        media_type = "application/json"
    else:
        detail = f"Injected by mock-puresms fault {fault.id} ({fault.method} {fault.path})."
        content = orjson.dumps(problem_body(Request(scope), status, detail))
        media_type = "application/problem+json"
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in fault.headers.items()]
    if status in _NO_BODY:
        content = b""
    else:
        if not any(name == b"content-type" for name, _ in headers):
            headers.append((b"content-type", media_type.encode()))
        headers.append((b"content-length", str(len(content)).encode()))
        if scope["method"] == "HEAD":
            content = b""
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": content})
