"""Issue 16, defect 12: how long a restart on a large ``--db`` takes to be healthy, and
the memory it holds then, beside the memory before the restart.

A server on a fresh ``--db`` (``--clock virtual``) is filled with SendBulk requests of
15,000 messages, its clock advanced until every message is final, and its RSS read;
then it is stopped and started again on the same file. Measured from the start of the
process: the first healthy answer of ``/_mock/health`` (beside the same for a start on
an empty file, the reference, in the same run), the RSS then, the time until a list
answers with every message (lists wait for the background load), and the RSS then. A
probe asks ``/_mock/health`` back to back meanwhile: its slowest answer bounds how long
the event loop was held at once while the messages loaded.

    python benchmarks/bench_restart.py [--messages 1000000] [--keep-db PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
from _harness import Server, free_port, mock_command, serve

HEADERS = {"X-API-Key": "bench", "Content-Type": "application/json"}
BULK = 15_000
REFERENCE_STARTS = 3


def bulk_body(count: int, offset: int) -> bytes:
    return orjson.dumps(
        {
            "from": "Acme",
            "messages": [{"to": f"4477{offset + i:08d}", "content": "Hi"} for i in range(count)],
        }
    )


def _wait_healthy(base_url: str, started: float) -> float:
    """Seconds from ``started`` to the first healthy answer."""
    while time.perf_counter() - started < 600:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(base_url + "/_mock/health", timeout=1).status_code == 200:
                return time.perf_counter() - started
        time.sleep(0.01)
    raise RuntimeError("not healthy in 600 s")


def fill(db: Path, messages: int, port: int) -> int:
    """Fill a fresh ``db`` with ``messages``, all final; the server's RSS at the end."""
    command = mock_command(port, "--clock", "virtual", "--db", str(db))
    with (
        serve(command, port, "/_mock/health") as server,
        httpx.Client(base_url=server.base_url, timeout=600) as client,
    ):
        for offset in range(0, messages, BULK):
            count = min(BULK, messages - offset)
            body = bulk_body(count, offset)
            client.post("/v1/Sms/SendBulk", content=body, headers=HEADERS).raise_for_status()
        client.post("/_mock/clock/advance", json={"seconds": 60}).raise_for_status()
        return server.rss_bytes()


def empty_start(directory: Path, attempt: int) -> float:
    """Seconds to healthy on an empty ``--db`` file (the reference)."""
    port = free_port()
    db = directory / f"empty-{attempt}.db"
    command = mock_command(port, "--clock", "virtual", "--db", str(db))
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return _wait_healthy(f"http://127.0.0.1:{port}", started)
    finally:
        process.terminate()
        process.wait(30)


class Probe:
    """Asks for health back to back on a thread; the slowest answer, in seconds."""

    def __init__(self, base_url: str) -> None:
        self.slowest = 0.0
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(base_url,), daemon=True)
        self._thread.start()

    def _run(self, base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                client.get("/_mock/health").raise_for_status()
                self.slowest = max(self.slowest, time.perf_counter() - started)
                self.count += 1
                time.sleep(0.002)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def restart(db: Path) -> dict[str, float]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = mock_command(port, "--clock", "virtual", "--db", str(db))
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        healthy = _wait_healthy(base_url, started)
        server = Server(process, base_url)
        rss_healthy = server.rss_bytes()
        probe = Probe(base_url)
        listed = httpx.get(base_url + "/v1/Sms?pageSize=1", headers=HEADERS, timeout=600)
        loaded = time.perf_counter() - started
        probe.stop()
        return {
            "healthy": healthy,
            "rss_healthy": rss_healthy,
            "loaded": loaded,
            "rss_loaded": server.rss_bytes(),
            "total": listed.json()["totalCount"],
            "slowest_probe": probe.slowest,
            "probes": probe.count,
        }
    finally:
        process.terminate()
        process.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--keep-db", type=Path, help="fill this file (or reuse it, filled)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        db = args.keep_db or directory / "mock.db"
        before = None
        started = time.perf_counter()
        if not db.exists():
            before = fill(db, args.messages, free_port())
        filled = time.perf_counter() - started
        # The reference and the restart in turn, so both see the machine alike.
        references = [empty_start(directory, i) for i in range(REFERENCE_STARTS)]
        figures = restart(db)
        references.append(empty_start(directory, REFERENCE_STARTS))
        size = db.stat().st_size
    reference = statistics.median(references)
    healthy, loaded = figures["healthy"], figures["loaded"]
    load = os.getloadavg()[0]
    print(f"messages: {figures['total']:.0f} (filled in {filled:.1f} s), db: {size >> 20} MiB")
    print(f"load average (1 min): {load:.2f} on {os.cpu_count()} cores")
    print(f"start on an empty --db (reference, median of {len(references)}): {reference:.2f} s")
    print(
        f"healthy after restart: {healthy:.2f} s = {healthy / reference:.2f}x the reference "
        "(target < 2 s)"
    )
    print(f"every message listed after: {loaded:.2f} s = {loaded / reference:.2f}x the reference")
    print(
        f"slowest health answer while loading: {figures['slowest_probe'] * 1000:.0f} ms "
        f"of {figures['probes']:.0f} (the event loop's longest hold, target <= 50 ms)"
    )
    rss_healthy, rss_loaded = figures["rss_healthy"], figures["rss_loaded"]
    if before is not None:
        print(
            f"RSS before: {before / 2**20:.0f} MiB; healthy: {rss_healthy / 2**20:.0f} MiB "
            f"({rss_healthy / before:.2f}x); all loaded: {rss_loaded / 2**20:.0f} MiB "
            f"({rss_loaded / before:.2f}x, target <= 1x)"
        )
    else:
        print(
            f"RSS healthy: {rss_healthy / 2**20:.0f} MiB; all loaded: "
            f"{rss_loaded / 2**20:.0f} MiB (file reused: no figure before)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
