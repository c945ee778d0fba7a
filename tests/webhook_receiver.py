"""A real HTTP receiver on a loopback port, for webhook tests.

``Receiver`` runs a ``ThreadingHTTPServer`` in a background thread and records every
request it gets (method, path, headers, raw body, parsed JSON, arrival time, the status
it answered). By default it answers ``200``; ``respond_with`` scripts the answers (and
delays) of the next POSTs, and ``close`` stops listening so that connections are refused.
Everything is guarded by one lock: the mock's POSTs arrive on other threads.

The end of the module holds small helpers for tests that drive the mock (set an
account's webhook URLs, list ``GET /_mock/webhooks``, read attempt times).

Each connection carries one request (HTTP/1.0, ``Connection: close``), so a closed
receiver cannot be reached through a kept-alive connection either.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the receiver saw it, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes
    json: Any
    """The parsed body, or ``None`` when it was not JSON."""
    arrived: float
    """``time.monotonic()`` when the request line was read."""
    wall: float
    """``time.time()`` when the request line was read."""
    answered: int
    """The status the receiver answered."""

    @property
    def ok(self) -> bool:
        return self.answered == 200


@dataclass
class _Answer:
    status: int
    delay: float = 0.0


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)
    requests: list[ReceivedRequest] = field(default_factory=list)
    script: deque[_Answer] = field(default_factory=deque)
    # Requests being handled now, per path and in all, and the most there ever were.
    open_by_path: dict[str, int] = field(default_factory=dict)
    peak_by_path: dict[str, int] = field(default_factory=dict)
    peak: int = 0

    def enter(self, path: str) -> None:
        with self.lock:
            now = self.open_by_path[path] = self.open_by_path.get(path, 0) + 1
            self.peak_by_path[path] = max(self.peak_by_path.get(path, 0), now)
            self.peak = max(self.peak, sum(self.open_by_path.values()))

    def leave(self, path: str) -> None:
        with self.lock:
            self.open_by_path[path] -= 1

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def _serve(self) -> None:
        self.server.state.enter(self.path)
        try:
            self._answer()
        finally:
            self.server.state.leave(self.path)

    def _answer(self) -> None:
        arrived, wall = time.monotonic(), time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        state = self.server.state
        with state.lock:
            answer = state.script.popleft() if state.script else _Answer(200)
        request = ReceivedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            json=parsed,
            arrived=arrived,
            wall=wall,
            answered=answer.status,
        )
        # Recorded before answering (and before any delay): once the client has an
        # answer, or has given up waiting for one, the request is listed.
        with state.changed:
            state.requests.append(request)
            state.changed.notify_all()
        if answer.delay:
            time.sleep(answer.delay)
        payload = b'{"ok":true}' if answer.status < 400 else b'{"ok":false}'
        # A client that gave up (a timeout) has closed the socket: nothing to tell it.
        with contextlib.suppress(OSError):
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    do_POST = do_GET = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return None  # keep the test output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The mock opens up to 32 connections at once; socketserver's default backlog of 5
    # overflows and the kernel resets the surplus (the mock sees ReadError and retries).
    request_queue_size = 128

    def __init__(self, state: _State) -> None:
        self.state = state
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client hanging up mid-answer is expected (timeouts)


class Receiver:
    """A webhook receiver on ``127.0.0.1``; use as a context manager or ``close()`` it."""

    def __init__(self) -> None:
        self._state = _State()
        self._server: _Server | None = _Server(self._state)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The receiver's base URL; any path under it is accepted and recorded."""
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, path: str) -> str:
        return self.url + "/" + path.lstrip("/")

    # -- answers -----------------------------------------------------------------------

    def respond_with(self, status: int, times: int = 1, delay: float = 0.0) -> None:
        """Answer the next ``times`` requests (after those already scripted) with
        ``status``, each after sleeping ``delay`` wall seconds; then ``200`` again."""
        with self._state.lock:
            self._state.script.extend(_Answer(status, delay) for _ in range(times))

    def peak_concurrency(self, path: str | None = None) -> int:
        """The most requests (to ``path``, or to any) this receiver handled at once."""
        with self._state.lock:
            return self._state.peak if path is None else self._state.peak_by_path.get(path, 0)

    def respond_in_turn(self, *statuses: int) -> None:
        """Script the next requests' statuses in order (e.g. ``500, 200, 500, 200``)."""
        with self._state.lock:
            self._state.script.extend(_Answer(status) for status in statuses)

    # -- what arrived ------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        """A snapshot of every request so far, in arrival order."""
        with self._state.lock:
            return list(self._state.requests)

    def posts(self, path: str | None = None) -> list[ReceivedRequest]:
        """The POSTs so far (to ``path`` only, when given), in arrival order."""
        return [r for r in self.requests if r.method == "POST" and (path is None or r.path == path)]

    def receipts(self, path: str | None = None, *, ok_only: bool = False) -> list[dict[str, Any]]:
        """Every receipt of every POST (answered 200 only, with ``ok_only``), flattened."""
        return [
            receipt
            for r in self.posts(path)
            if not ok_only or r.ok
            for receipt in (r.json if isinstance(r.json, list) else [])
        ]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """Block until ``count`` requests have arrived (for real-clock tests only)."""
        deadline = time.monotonic() + timeout
        with self._state.changed:
            while len(self._state.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"webhook receiver: {len(self._state.requests)} requests "
                        f"after {timeout} s, expected {count}"
                    )
                self._state.changed.wait(left)
            return list(self._state.requests)

    def clear(self) -> None:
        with self._state.lock:
            self._state.requests.clear()
            self._state.script.clear()

    # -- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Stop listening: from now on connections to ``url`` are refused. Idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self._thread.join(5)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def closed_port_url(path: str = "/hook") -> str:
    """A loopback URL on which nothing listens (connections are refused)."""
    with Receiver() as dead:
        url = dead.url_for(path)
    return url


# -- helpers for tests that drive the mock ---------------------------------------------
# ``mock`` is the in-process ``Mock`` of tests/conftest.py (anything with ``.v1`` and
# ``.client``).


def set_webhooks(
    mock: Any,
    *,
    receipts: str | None = None,
    replies: str | None = None,
    secret: str | None = None,
    key: str | None = None,
) -> None:
    """``PUT /v1/Account/Webhooks`` for the account of ``key`` (the mock's default key)."""
    body = {"deliveryReceiptUrl": receipts, "replyUrl": replies, "secret": secret}
    kwargs = {"key": key} if key is not None else {}
    response = mock.v1("PUT", "/v1/Account/Webhooks", json=body, **kwargs)
    assert response.status_code == 200, response.text


def deliveries(mock: Any, **params: str) -> list[dict[str, Any]]:
    """Every delivery ``GET /_mock/webhooks`` lists (newest first) for ``params``."""
    response = mock.client.get("/_mock/webhooks", params={"pageSize": "1000", **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def use_scenario(mock: Any, text: str) -> None:
    """Make the YAML scenario ``text`` active (``PUT /_mock/scenario``)."""
    response = mock.client.put(
        "/_mock/scenario", content=text, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text


def iso_ms(text: str) -> int:
    """A timestamp of the mock as epoch milliseconds."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(value.timestamp() * 1000)


def attempt_offsets(delivery: dict[str, Any], origin: str) -> list[float]:
    """Seconds from ``origin`` (an ISO timestamp) to each attempt of ``delivery``."""
    start = iso_ms(origin)
    return [(iso_ms(attempt["at"]) - start) / 1000 for attempt in delivery["attempts"]]
