"""Durable state benchmark: the mock with ``--db`` (SQLite) against its in-memory store.

Both servers run in the same session on the virtual clock, fed the bodies of
``bench_api.py``. Reports single-send requests/s and p50/p99 latency at concurrency 1
and 32, the time to answer one 15,000-message SendBulk, and how responsive the event
loop stays while 15,000-message bulks are written: the latency of ``GET /_mock/health``
requests sent one after another on their own connection while bulks are being sent
(p50/p99/max; the in-memory figure is the reference, since both parse and build each
bulk on the loop, and only ``--db`` has a commit to wait for). Targets: single-send
throughput with ``--db`` >= 60% of in-memory; bulk <= 3x in-memory.

    python benchmarks/bench_db.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from _harness import Server, _raw_post, free_port, mock_command, post_load, serve, timed_posts
from bench_api import HEADERS, SINGLE, bulk_body

HEALTH_PAUSE = 0.002  # seconds between two health requests of the poller


async def health_during_bulks(base_url: str, bulks: list[bytes]) -> tuple[list[float], float]:
    """Send ``bulks`` one after another while polling health; health latencies (s) and
    the seconds the bulks took."""
    parts = httpx.URL(base_url)
    health = f"GET /_mock/health HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\n\r\n".encode()
    done = asyncio.Event()
    latencies: list[float] = []

    async def poll() -> None:
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        try:
            while not done.is_set():
                started = time.perf_counter()
                status = await _raw_post(reader, writer, health)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"health answered {status}")
                await asyncio.sleep(HEALTH_PAUSE)
        finally:
            writer.close()

    async def send() -> float:
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        started = time.perf_counter()
        try:
            for body in bulks:
                head = (
                    f"POST /v1/Sms/SendBulk HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\n"
                    + "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
                    + f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                status = await _raw_post(reader, writer, head + body)
                if status != 200:
                    raise RuntimeError(f"SendBulk answered {status}")
        finally:
            writer.close()
            done.set()
        return time.perf_counter() - started

    poller = asyncio.ensure_future(poll())
    await asyncio.sleep(0.2)  # a few quiet polls first
    took = await send()
    await poller
    return latencies, took


def quantile_ms(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def interleaved(
    servers: dict[str, Server], rounds: int, n1: int, n32: int, loop_bulks: int
) -> dict[str, dict[str, float]]:
    """Take every figure of both servers in alternating rounds (memory, db, db, memory,
    ...), so a noisy neighbour on the machine weighs on both alike; medians over rounds."""
    big = bulk_body(15_000)
    rps1: dict[str, list[float]] = {name: [] for name in servers}
    rps32: dict[str, list[float]] = {name: [] for name in servers}
    lat1: dict[str, list[float]] = {name: [] for name in servers}
    lat32: dict[str, list[float]] = {name: [] for name in servers}
    bulk: dict[str, list[float]] = {name: [] for name in servers}
    health: dict[str, list[float]] = {name: [] for name in servers}
    names = list(servers)
    for server in servers.values():  # warm-up
        asyncio.run(post_load(server.base_url + "/v1/Sms/Send", SINGLE, HEADERS, 200, 4))
        timed_posts(server.base_url + "/v1/Sms/SendBulk", big, HEADERS, 1)
    offset = 15_000
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            base_url = servers[name].base_url
            url = base_url + "/v1/Sms/Send"
            c1 = asyncio.run(post_load(url, SINGLE, HEADERS, n1, 1))
            c32 = asyncio.run(post_load(url, SINGLE, HEADERS, n32, 32))
            rps1[name].append(c1.rps)
            rps32[name].append(c32.rps)
            lat1[name] += c1.latencies
            lat32[name] += c32.latencies
            bulk[name] += timed_posts(base_url + "/v1/Sms/SendBulk", big, HEADERS, 1)
            bodies = [bulk_body(15_000, offset + 15_000 * i) for i in range(loop_bulks)]
            latencies, _ = asyncio.run(health_during_bulks(base_url, bodies))
            health[name] += latencies
        offset += 15_000 * loop_bulks
    return {
        name: {
            "c1_rps": statistics.median(rps1[name]),
            "c1_p50_ms": quantile_ms(lat1[name], 50),
            "c1_p99_ms": quantile_ms(lat1[name], 99),
            "c32_rps": statistics.median(rps32[name]),
            "c32_p50_ms": quantile_ms(lat32[name], 50),
            "c32_p99_ms": quantile_ms(lat32[name], 99),
            "bulk15k_ms": statistics.median(bulk[name]) * 1000,
            "health_n": len(health[name]),
            "health_p50_ms": quantile_ms(health[name], 50),
            "health_p99_ms": quantile_ms(health[name], 99),
            "health_max_ms": max(health[name]) * 1000,
        }
        for name in names
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    args = parser.parse_args()
    rounds, n1, n32, loop_bulks = (2, 200, 1000, 1) if args.quick else (6, 1000, 4000, 2)
    with tempfile.TemporaryDirectory(prefix="bench-db-") as folder, ExitStack() as stack:
        servers: dict[str, Server] = {}
        for name in ("memory", "db"):
            port = free_port()
            extra = ["--clock", "virtual"]
            if name == "db":
                extra += ["--db", str(Path(folder) / "bench.db")]
            command = mock_command(port, *extra)
            servers[name] = stack.enter_context(serve(command, port, "/_mock/health"))
        results = interleaved(servers, rounds, n1, n32, loop_bulks)

    memory, db = results["memory"], results["db"]
    print(f"{'figure':<22}{'memory':>12}{'--db':>12}{'db/memory':>12}")
    for key in memory:
        ratio = db[key] / memory[key] if memory[key] else float("nan")
        print(f"{key:<22}{memory[key]:>12.1f}{db[key]:>12.1f}{ratio:>12.2f}")
    print(
        f"event loop while 15k bulks are written with --db: GET /_mock/health "
        f"p50 {db['health_p50_ms']:.1f} ms, p99 {db['health_p99_ms']:.1f} ms, "
        f"max {db['health_max_ms']:.1f} ms ({db['health_n']:.0f} requests; in-memory: "
        f"p50 {memory['health_p50_ms']:.1f}, p99 {memory['health_p99_ms']:.1f}, "
        f"max {memory['health_max_ms']:.1f} ms)"
    )
    checks = {
        "single-send throughput c1 with --db >= 60% of memory": db["c1_rps"]
        >= 0.6 * memory["c1_rps"],
        "single-send throughput c32 with --db >= 60% of memory": db["c32_rps"]
        >= 0.6 * memory["c32_rps"],
        "15k bulk with --db <= 3x memory": db["bulk15k_ms"] <= 3 * memory["bulk15k_ms"],
    }
    for label, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
