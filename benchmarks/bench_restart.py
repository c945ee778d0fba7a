"""Issue 16, defect 12: how long a restart on a large ``--db`` takes to be healthy, and
the memory it holds then, beside the memory before the restart.

A server on a fresh ``--db`` (``--clock virtual``) is filled with SendBulk requests of
15,000 messages, its clock advanced until every message is final, and its RSS read;
then it is stopped and started again on the same file, timed from the start of the
process to the first healthy answer of ``/_mock/health``, and its RSS read again.

    python benchmarks/bench_restart.py [--messages 1000000]
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from _harness import Server, free_port, mock_command, serve

HEADERS = {"X-API-Key": "bench", "Content-Type": "application/json"}
BULK = 15_000


def bulk_body(count: int, offset: int) -> bytes:
    return orjson.dumps(
        {
            "from": "Acme",
            "messages": [{"to": f"4477{offset + i:08d}", "content": "Hi"} for i in range(count)],
        }
    )


def _wait_healthy(base_url: str, started: float) -> float:
    """Seconds from ``started`` to the first healthy answer (the harness gives up at 30)."""
    while time.perf_counter() - started < 600:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(base_url + "/_mock/health", timeout=1).status_code == 200:
                return time.perf_counter() - started
        time.sleep(0.05)
    raise RuntimeError("not healthy in 600 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        db = Path(directory) / "mock.db"
        port = free_port()
        command = mock_command(port, "--clock", "virtual", "--db", str(db))
        with (
            serve(command, port, "/_mock/health") as server,
            httpx.Client(base_url=server.base_url, timeout=600) as client,
        ):
            started = time.perf_counter()
            for offset in range(0, args.messages, BULK):
                count = min(BULK, args.messages - offset)
                body = bulk_body(count, offset)
                client.post("/v1/Sms/SendBulk", content=body, headers=HEADERS).raise_for_status()
            filled = time.perf_counter() - started
            client.post("/_mock/clock/advance", json={"seconds": 60}).raise_for_status()
            before = server.rss_bytes()
        size = db.stat().st_size
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base_url = f"http://127.0.0.1:{port}"
        try:
            healthy = _wait_healthy(base_url, started)
            after = Server(process, base_url).rss_bytes()
            listed = httpx.get(base_url + "/v1/Sms?pageSize=1", headers=HEADERS, timeout=60)
            total = listed.json()["totalCount"]
        finally:
            process.terminate()
            process.wait(30)
    print(f"messages: {args.messages} (filled in {filled:.1f} s), db: {size >> 20} MiB")
    print(f"healthy after restart: {healthy:.2f} s (target < 2 s); messages listed: {total}")
    print(f"RSS before: {before >> 20} MiB, after restart: {after >> 20} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
