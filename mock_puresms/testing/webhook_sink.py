"""A real HTTP receiver on loopback for webhook tests: it records requests and answers 200.

One ``SinkServer`` (a ``ThreadingHTTPServer`` in a background thread) serves many
``WebhookSink`` objects, each under its own path prefix, so a test gets a fresh
receiver without a new socket. A sink answers ``200`` unless told otherwise by
``respond_with``. It records a request before answering it, so when the mock's
``advance`` returns, every POST it attempted is already in ``requests``.

Only the standard library is used: the pytest plugin imports this lazily, and it must be
cheap to start.
"""

from __future__ import annotations

import json
import os
import socket
import threading
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


@dataclass(eq=False)
class WebhookSink:
    """One receiver: ``url`` to give the mock, ``requests`` it got, ``respond_with`` to
    make it refuse."""

    url: str
    path: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _requests: list[SinkRequest] = field(default_factory=list, repr=False)
    _script: deque[_Script] = field(default_factory=deque, repr=False)

    @property
    def requests(self) -> list[SinkRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def url_for(self, suffix: str) -> str:
        """A URL under this sink (``url_for("/replies")``): requests there are recorded
        here too, with their full path."""
        return self.url + "/" + suffix.lstrip("/")

    def respond_with(self, status: int, times: int | None = 1) -> None:
        """Answer the next ``times`` requests with ``status`` (``None``: every request
        from now on); then ``200`` again."""
        if times is not None and times < 1:
            raise ValueError("mock-puresms: times must be 1 or more (or None for always)")
        with self._lock:
            self._script.append(_Script(status, times))

    def clear(self) -> None:
        """Forget the requests received and the scripted answers."""
        with self._lock:
            self._requests.clear()
            self._script.clear()

    def receipts(self) -> list[Receipt]:
        """Every delivery receipt received (answered 200 or not), in arrival order."""
        found = []
        for request in self.requests:
            try:
                body = request.json
            except ValueError:
                continue
            if not isinstance(body, list):
                continue
            for item in body:
                if isinstance(item, dict) and "reference" in item and "deliveryStatus" in item:
                    found.append(
                        Receipt(
                            reference=item["reference"],
                            client_reference=item.get("clientReference"),
                            batch_reference=item.get("batchReference"),
                            status=DeliveryStatus.parse(item["deliveryStatus"]),
                            additional_message=item.get("additionalMessage"),
                        )
                    )
        return found

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

    def _record(self, request: SinkRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_status(self) -> int:
        with self._lock:
            if not self._script:
                return 200
            script = self._script[0]
            if script.remaining is not None:
                script.remaining -= 1
                if script.remaining <= 0:
                    self._script.popleft()
            return script.status


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
        status = sink._next_status()
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
        self._answer(status)

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
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_GET = do_DELETE = do_PATCH = _handle

    def log_message(self, format: str, *args: Any) -> None:
        return None  # quiet: the sink's record is the log


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: SinkServer


class _Server6(_Server):
    address_family = socket.AF_INET6


class SinkServer:
    """The listening socket shared by sinks; ``sink()`` makes a receiver with its own URL."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        server_class = _Server6 if ":" in host else _Server
        self._server = server_class((host, port), _Handler)
        self._server.owner = self
        self._sinks: dict[str, WebhookSink] = {}
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

    def sink(self) -> WebhookSink:
        path = "/sink/" + os.urandom(6).hex()
        sink = WebhookSink(url=self.base_url + path, path=path)
        with self._lock:
            self._sinks[path] = sink
        return sink

    def drop(self, sink: WebhookSink) -> None:
        """Stop routing to ``sink``: later requests to its URL answer 404."""
        with self._lock:
            self._sinks.pop(sink.path, None)

    def find(self, path: str) -> WebhookSink | None:
        prefix = "/".join(path.split("/", 3)[:3])  # "/sink/<id>"
        with self._lock:
            return self._sinks.get(prefix)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
