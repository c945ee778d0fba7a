"""Shared pieces of the benchmarks: servers in subprocesses, load loops, RSS readings.

Every figure is taken against a real uvicorn server on a loopback port, and reported
beside the same measurement of a reference in the same run, as a ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_bytes(self) -> int:
        """Resident set size of the server process, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS line")


@contextlib.contextmanager
def serve(command: Sequence[str], port: int, health_path: str) -> Iterator[Server]:
    """Run a server command until it answers ``health_path``; stop it afterwards."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        list(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"server exited early: {stderr}")
            try:
                if httpx.get(base_url + health_path, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in 30 s")
            time.sleep(0.05)
        yield Server(process, base_url)
    finally:
        stop(process)


def mock_command(port: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "mock_puresms", "serve", "--port", str(port),
        "--log-level", "warning", *extra,
    ]  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a server to stop; kill it if it has not within 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def bare_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(HERE),
        "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98] * 1000


async def _raw_post(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one prepared HTTP/1.1 request on a kept-alive connection; return the status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def post_load(
    url: str, body: bytes, headers: dict[str, str], total: int, concurrency: int
) -> LoadResult:
    """POST ``body`` ``total`` times over ``concurrency`` kept-alive connections.

    A minimal HTTP/1.1 client on asyncio streams: a general-purpose client spends more
    CPU per request than the servers measured, and shares their two cores.
    """
    parts = httpx.URL(url)
    header_lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (
        f"POST {parts.raw_path.decode()} HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\n"
        f"{header_lines}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        try:
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                status = await _raw_post(reader, writer, request)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"{url} answered {status}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadResult(total, time.perf_counter() - started, latencies)


def timed_posts(url: str, body: bytes, headers: dict[str, str], repeat: int) -> list[float]:
    """Seconds each of ``repeat`` sequential POSTs took to be answered."""
    times = []
    with httpx.Client(timeout=120) as client:
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.post(url, content=body, headers=headers)
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
    return times
