"""HTTP to one mock: kept-alive connections, plain bytes in and out.

At this layer there is no knowledge of the control surface: a request is a method, a
path under the base URL, headers and a body; the answer is a status and a body. It is
``http.client`` on kept-alive connections, one per thread: a control call costs a
fraction of a millisecond, which is what lets the pytest plugin reset the mock before
every test. Nothing here imports the server.

Why not httpx (a dependency already): measured by ``benchmarks/bench_control_transport.py``
(the plugin's per-test reset against its in-process server, the two alternating in one
run, 40 rounds of 200 resets), an ``httpx.Client`` pool made each reset 1.8 to 2.9 ms
slower over three runs (median per-round differences; e.g. 1.33 ms here against
3.12 ms), with 0.5 to 1.0 ms more CPU in the calling thread: over the 0.5 ms the
redesign allowed.
"""

from __future__ import annotations

import http.client
import select
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

TransportError = (OSError, http.client.HTTPException)
"""What ``request`` raises when the mock could not be reached or hung up."""


class Transport:
    """Kept-alive HTTP connections to one mock, one per thread, closed together."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"mock-puresms: {base_url!r} is not an http(s) base URL")
        self.base_url = base_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[http.client.HTTPConnection] = []

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it was used before."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None and not _dropped(connection):
            return connection, True
        if connection is not None:
            connection.close()
        factory = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = factory(self._host, self._port, timeout=self.timeout)
        self._local.connection = connection
        with self._lock:
            self._all = [c for c in self._all if c.sock is not None]
            self._all.append(connection)
        return connection, False

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        """Send one request; returns the status and the body."""
        target = self._prefix + path
        sent_headers = {"Accept": "application/json", **(headers or {})}
        if body is not None:
            sent_headers["Content-Length"] = str(len(body))
        while True:
            connection, reused = self._connection()
            if connection.sock is not None:
                connection.sock.settimeout(timeout or self.timeout)
            else:
                connection.timeout = timeout or self.timeout
            try:
                connection.request(method, target, body=body, headers=sent_headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()
                if reused:
                    continue  # the server closed an idle kept-alive connection: try anew
                raise
            except BaseException:
                connection.close()
                raise
            if response.will_close:
                connection.close()
            return response.status, data

    def close(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle kept-alive connection was closed by the server (it reads as ready)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
