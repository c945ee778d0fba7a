"""A real HTTP receiver on loopback for webhook tests: it records requests and answers 200.

One ``SinkServer`` (a ``ThreadingHTTPServer`` in a background thread) serves many
``WebhookSink`` objects, each under its own path prefix, so a test gets a fresh
receiver without a new socket; or one sink at its root (``sink(at_root=True)``), for
tests that want a server of their own, refused once it is closed. A sink answers
``200`` unless told otherwise by ``respond_with`` (a status, a delay) or
``respond_in_turn``. It records a request before answering it (and before any delay),
so when the mock's ``advance`` returns, every POST it attempted is already in
``requests``.

Only the standard library is used: the pytest plugin imports this lazily, and it must be
cheap to start.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from mock_puresms.domain.statuses import DeliveryStatus


class Headers(Mapping[str, str]):
    """Request headers by case-insensitive name (the first value of a repeated one)."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items
        self._by_name: dict[str, str] = {}
        for name, value in items:
            self._by_name.setdefault(name.lower(), value)

    def __getitem__(self, name: str) -> str:
        return self._by_name[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass(frozen=True, slots=True)
class SinkRequest:
    """One request the sink received, and the status it answered."""

    method: str
    path: str
    query: str
    headers: Headers
    body: bytes
    status: int

    @property
    def ok(self) -> bool:
        """Whether the sink answered ``200``."""
        return self.status == 200

    @property
    def json(self) -> Any:
        """The body parsed as JSON; ``ValueError`` when it is not JSON."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Receipt:
    """One delivery receipt out of a receipts POST."""

    reference: str
    client_reference: str | None
    batch_reference: str | None
    status: DeliveryStatus
    additional_message: str | None


@dataclass(slots=True)
class _Script:
    status: int
    remaining: int | None  # None: for ever
    delay: float = 0.0


@dataclass(eq=False)
class WebhookSink:
    """One receiver: ``url`` to give the mock, ``requests`` it got, ``respond_with`` to
    make it refuse."""

    url: str
    path: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _arrived: threading.Condition = field(init=False, repr=False)
    _requests: list[SinkRequest] = field(default_factory=list, repr=False)
    _script: deque[_Script] = field(default_factory=deque, repr=False)
    # Requests being answered now, per path, and the most there were at once.
    _open: dict[str, int] = field(default_factory=dict, repr=False)
    _peak_by_path: dict[str, int] = field(default_factory=dict, repr=False)
    _peak: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    @property
    def requests(self) -> list[SinkRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def url_for(self, suffix: str) -> str:
        """A URL under this sink (``url_for("/replies")``): requests there are recorded
        here too, with their full path."""
        return self.url + "/" + suffix.lstrip("/")

    def posts(self, suffix: str | None = None) -> list[SinkRequest]:
        """The POSTs received so far (to ``url_for(suffix)`` only, when given), oldest
        first."""
        posts = [r for r in self.requests if r.method == "POST"]
        if suffix is None:
            return posts
        path = self._path_for(suffix)
        return [r for r in posts if r.path == path]

    def respond_with(self, status: int, times: int | None = 1, *, delay: float = 0.0) -> None:
        """Answer the next ``times`` requests (after those already scripted; ``None``:
        every request from now on) with ``status``, each after ``delay`` seconds of wall
        time; then ``200`` again."""
        if times is not None and times < 1:
            raise ValueError("mock-puresms: times must be 1 or more (or None for always)")
        with self._lock:
            self._script.append(_Script(status, times, delay))

    def respond_in_turn(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, one each, in order (e.g.
        ``500, 200, 500``); then ``200`` again."""
        with self._lock:
            self._script.extend(_Script(status, 1) for status in statuses)

    def clear(self) -> None:
        """Forget the requests received and the scripted answers."""
        with self._lock:
            self._requests.clear()
            self._script.clear()

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[SinkRequest]:
        """Every request so far, once there are ``count`` (a real-clock test's wait: on
        the virtual clock, ``advance`` returns after the POSTs it caused)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"mock-puresms: webhook sink {self.url} received "
                        f"{len(self._requests)} request(s) in {timeout} s, expected {count}"
                    )
                self._arrived.wait(left)
            return list(self._requests)

    def peak_concurrency(self, suffix: str | None = None) -> int:
        """The most requests (to ``url_for(suffix)``, or to any URL of this sink) it was
        answering at once."""
        with self._lock:
            if suffix is None:
                return self._peak
            return self._peak_by_path.get(self._path_for(suffix), 0)

    def raw_receipts(
        self, suffix: str | None = None, *, ok_only: bool = False
    ) -> list[dict[str, Any]]:
        """The receipts as they were posted (JSON objects), in arrival order: of the
        POSTs to ``url_for(suffix)`` only, when given; answered 200 only, with
        ``ok_only``."""
        found = []
        for request in self.posts(suffix):
            if ok_only and not request.ok:
                continue
            try:
                body = request.json
            except ValueError:
                continue
            if isinstance(body, list):
                found += [item for item in body if _is_receipt(item)]
        return found

    def receipts(self, suffix: str | None = None, *, ok_only: bool = False) -> list[Receipt]:
        """Every delivery receipt received (answered 200 or not, unless ``ok_only``), in
        arrival order; those posted to ``url_for(suffix)`` only, when given."""
        return [
            Receipt(
                reference=item["reference"],
                client_reference=item.get("clientReference"),
                batch_reference=item.get("batchReference"),
                status=DeliveryStatus.parse(item["deliveryStatus"]),
                additional_message=item.get("additionalMessage"),
            )
            for item in self.raw_receipts(suffix, ok_only=ok_only)
        ]

    def assert_receipt(
        self, reference: str, status: DeliveryStatus | int | str = DeliveryStatus.DELIVERED
    ) -> Receipt:
        """The receipt for ``reference`` in ``status``; the failure lists what arrived."""
        wanted = DeliveryStatus.parse(status)
        receipts = self.receipts()
        for receipt in receipts:
            if receipt.reference == reference and receipt.status is wanted:
                return receipt
        if not receipts:
            requests = self.requests
            got = (
                f"it received {len(requests)} request(s) but no receipt"
                if requests
                else "it received no request at all"
            )
        else:
            same = [r.status.label for r in receipts if r.reference == reference]
            seen = list(dict.fromkeys(f"{r.reference} {r.status.label}" for r in receipts))
            listed = ", ".join(seen[:10]) + (
                f" and {len(seen) - 10} more" if len(seen) > 10 else ""
            )
            if same:
                got = f"for {reference} it got {', '.join(same)}; all receipts: {listed}"
            else:
                got = f"it got no receipt for {reference}; all receipts: {listed}"
        raise AssertionError(
            f"mock-puresms: webhook sink {self.url} has no {wanted.label} receipt for "
            f"{reference}; {got}"
        )

    def _path_for(self, suffix: str) -> str:
        return self.path + "/" + suffix.lstrip("/")

    def _record(self, request: SinkRequest) -> None:
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()

    def _next_answer(self) -> tuple[int, float]:
        """The status of the next answer, and the seconds to wait before it."""
        with self._lock:
            if not self._script:
                return 200, 0.0
            script = self._script[0]
            if script.remaining is not None:
                script.remaining -= 1
                if script.remaining <= 0:
                    self._script.popleft()
            return script.status, script.delay

    def _enter(self, path: str) -> None:
        with self._lock:
            now = self._open[path] = self._open.get(path, 0) + 1
            self._peak_by_path[path] = max(self._peak_by_path.get(path, 0), now)
            self._peak = max(self._peak, sum(self._open.values()))

    def _leave(self, path: str) -> None:
        with self._lock:
            self._open[path] -= 1


def _is_receipt(item: object) -> bool:
    return isinstance(item, dict) and "reference" in item and "deliveryStatus" in item


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        body = self._read_body()
        sink = self.server.owner.find(parts.path)
        if sink is None:
            self._answer(404)
            return
        sink._enter(parts.path)
        try:
            status, delay = sink._next_answer()
            sink._record(
                SinkRequest(
                    method=self.command,
                    path=parts.path,
                    query=parts.query,
                    headers=Headers(list(self.headers.items())),
                    body=body,
                    status=status,
                )
            )
            if delay:
                time.sleep(delay)
            self._answer(status)
        finally:
            sink._leave(parts.path)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            # The client gave up waiting (its timeout) and hung up: nothing to tell it.
            self.close_connection = True

    do_POST = do_PUT = do_GET = do_DELETE = do_PATCH = _handle

    def log_message(self, format: str, *args: Any) -> None:
        return None  # quiet: the sink's record is the log


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The mock opens up to 32 connections at once; socketserver's default backlog of 5
    # overflows and the kernel resets the surplus (the mock sees an error and retries).
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: SinkServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up every kept-alive connection, so a closed sink is not reached."""
        with self.connections_lock:
            connections, self.connections = self.connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client hanging up mid-answer is expected (its timeouts)


class _Server6(_Server):
    address_family = socket.AF_INET6


class SinkServer:
    """The listening socket shared by sinks; ``sink()`` makes a receiver with its own URL.

    Use as a context manager, or ``close()`` it: from then on its port refuses
    connections.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        server_class = _Server6 if ":" in host else _Server
        self._server = server_class((host, port), self)
        self._sinks: dict[str, WebhookSink] = {}
        self._root: WebhookSink | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="mock-puresms-webhook-sink",
            daemon=True,
        )
        self._thread.start()
        bound_host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{_url_host(str(bound_host))}:{bound_port}"

    def sink(self, *, at_root: bool = False) -> WebhookSink:
        """A new receiver under a path of its own; ``at_root``: at this server's base URL,
        taking every request no other sink takes (one such sink per server)."""
        if at_root:
            with self._lock:
                if self._root is not None:
                    raise ValueError("mock-puresms: this sink server has a root sink already")
                self._root = WebhookSink(url=self.base_url, path="")
                return self._root
        path = "/sink/" + os.urandom(6).hex()
        sink = WebhookSink(url=self.base_url + path, path=path)
        with self._lock:
            self._sinks[path] = sink
        return sink

    def drop(self, sink: WebhookSink) -> None:
        """Stop routing to ``sink``: later requests to its URL answer 404."""
        with self._lock:
            if sink is self._root:
                self._root = None
            else:
                self._sinks.pop(sink.path, None)

    def find(self, path: str) -> WebhookSink | None:
        prefix = "/".join(path.split("/", 3)[:3])  # "/sink/<id>"
        with self._lock:
            return self._sinks.get(prefix, self._root)

    def close(self) -> None:
        """Stop listening and hang up kept-alive connections. Idempotent."""
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(5)

    def __enter__(self) -> SinkServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
