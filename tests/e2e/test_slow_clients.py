"""Slow and vanishing clients (issue 16, defects 8 and 9), through a real ``serve``
process and raw sockets: a client that hangs up mid-body is one quiet log line (no ERROR,
no traceback); a client that sends its headers or its body too slowly gets a ``408`` and
the connection is closed; connections over ``--max-connections`` get a ``503`` at once.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from test_startup import serving

pytestmark = pytest.mark.slow


def address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def read_all(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (or ``timeout``)."""
    sock.settimeout(timeout)
    chunks: list[bytes] = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except TimeoutError:
        chunks.append(b"<still open>")
    except ConnectionResetError:
        chunks.append(b"<reset>")
    return b"".join(chunks)


def healthy(base_url: str) -> bool:
    return httpx.get(f"{base_url}/_mock/health", trust_env=False, timeout=10).status_code == 200


def test_a_client_hanging_up_mid_body_is_one_quiet_line(tmp_path: Path) -> None:
    with serving(tmp_path) as served:
        for _ in range(3):
            with socket.create_connection(address(served.base_url)) as sock:
                sock.sendall(
                    b"POST /v1/Sms/Send HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                    b'{"to": "4477'
                )
                time.sleep(0.2)  # the handler is reading the body when the client goes
        assert healthy(served.base_url)
    log = served.stderr.read_text()

    assert "Traceback" not in log
    assert "ERROR" not in log
    lines = [line for line in log.splitlines() if "before sending the whole body" in line]
    assert len(lines) == 3, log
    assert "POST /v1/Sms/Send" in lines[0]


def test_slow_headers_get_a_408_and_the_connection_closes(tmp_path: Path) -> None:
    with serving(tmp_path, "--header-timeout", "1") as served:
        started = time.monotonic()
        with socket.create_connection(address(served.base_url)) as sock:
            sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n")  # never finished
            answer = read_all(sock, timeout=10)
        took = time.monotonic() - started
        with socket.create_connection(address(served.base_url)) as idle:
            silent = read_all(idle, timeout=10)  # connected, nothing sent at all
        assert healthy(served.base_url)
    log = served.stderr.read_text()

    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in answer.lower()
    assert 0.9 <= took < 3
    assert silent.startswith(b"HTTP/1.1 408 "), silent
    assert "Traceback" not in log and "ERROR" not in log


def test_a_slow_body_gets_a_408_and_the_connection_closes(tmp_path: Path) -> None:
    with serving(tmp_path, "--body-timeout", "1") as served:
        started = time.monotonic()
        with socket.create_connection(address(served.base_url)) as sock:
            sock.sendall(
                b"POST /v1/Sms/Send HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            answer = read_all(sock, timeout=10)
        took = time.monotonic() - started
        # A kept-alive connection's next request gets the same limits.
        with socket.create_connection(address(served.base_url)) as sock:
            sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.3)
            sock.sendall(b"POST /_mock/replies HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n")
            second = read_all(sock, timeout=10)
        assert healthy(served.base_url)
    log = served.stderr.read_text()

    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert 0.9 <= took < 3
    assert second.startswith(b"HTTP/1.1 200 ") and b"HTTP/1.1 408 " in second, second
    assert "Traceback" not in log and "ERROR" not in log


def test_connections_over_the_limit_get_a_503_at_once(tmp_path: Path) -> None:
    with serving(tmp_path, "--max-connections", "5") as served:
        held = [socket.create_connection(address(served.base_url)) for _ in range(5)]
        try:
            time.sleep(0.3)
            with socket.create_connection(address(served.base_url)) as extra:
                refused = read_all(extra, timeout=5)
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.3)
        assert healthy(served.base_url)  # the held ones are gone: served again

    assert refused.startswith(b"HTTP/1.1 503 "), refused
    assert b"connection: close" in refused.lower()


def test_a_busy_connection_and_a_slow_answer_are_not_cut(tmp_path: Path) -> None:
    # The timeouts are a sweep of the connections' waits: a request the mock takes long
    # to answer, and a kept-alive connection in use for longer than the limits, are no
    # wait of the client's.
    limits = ("--header-timeout", "1", "--body-timeout", "1")
    with (
        serving(tmp_path, *limits) as served,
        httpx.Client(base_url=served.base_url, trust_env=False, timeout=10) as client,
    ):
        fault = {"method": "POST", "path": "/v1/Sms/Send", "delayMs": 2500, "times": 1}
        assert client.post("/_mock/faults", json=fault).status_code == 200
        started = time.monotonic()
        slow = client.post(
            "/v1/Sms/Send",
            headers={"X-API-Key": "k"},
            json={"to": "447700900100", "from": "Acme", "content": "Hi"},
        )
        took = time.monotonic() - started
        statuses = []
        until = time.monotonic() + 2.5
        while time.monotonic() < until:
            statuses.append(client.get("/_mock/health").status_code)
            time.sleep(0.3)
        time.sleep(2)  # idle between requests: uvicorn's keep-alive timeout (5 s) applies
        statuses.append(client.get("/_mock/health").status_code)
    log = served.stderr.read_text()

    assert "closed a connection" not in log, log
    assert slow.status_code == 200, slow.text
    assert took >= 2.4
    assert len(statuses) >= 8 and set(statuses) == {200}
