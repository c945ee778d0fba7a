"""Issues 2 and 13 benchmark: the send paths of both APIs against a bare Starlette
endpoint, in one run.

Reports single-send requests/s and p50/p99 latency at concurrency 1 and 32 and the time
to answer one 15,000-message bulk, for v1 (``/v1/Sms/Send``, ``/v1/Sms/SendBulk``) and
for the current API (``connect_*``: ``/sms/send``, ``/sms/send/bulk``), and RSS growth
per stored message over 100,000 messages. Targets, for each API: single-send throughput
>= 50% of bare; bulk <= 8x bare; <= 1 KiB per stored message.

    python benchmarks/bench_api.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys

import orjson
from _harness import bare_command, free_port, mock_command, post_load, serve, timed_posts

HEADERS = {"X-API-Key": "bench", "Content-Type": "application/json"}
SINGLE = orjson.dumps({"to": "447700900100", "from": "Acme", "content": "Your code is 123456"})
CONNECT_SINGLE = orjson.dumps(
    {"sender": "Acme", "recipient": "+447700900100", "content": "Your code is 123456"}
)


def bulk_body(count: int, offset: int = 0) -> bytes:
    return orjson.dumps(
        {
            "from": "Acme",
            "messages": [
                {"to": f"4477{offset + i:08d}", "content": f"Hello {offset + i}, code {i * 7919}"}
                for i in range(count)
            ],
        }
    )


def connect_bulk_body(count: int) -> bytes:
    return orjson.dumps(
        {
            "messages": [
                {
                    "sender": "Acme",
                    "recipient": f"+4477{i:08d}",
                    "content": f"Hello {i}, code {i * 7919}",
                }
                for i in range(count)
            ],
        }
    )


def measure_round(
    base_url: str, n1: int, n32: int, big: bytes, connect_big: bytes
) -> dict[str, float]:
    """One round of every figure against one server."""
    figures: dict[str, float] = {}
    for prefix, single_path, bulk_path, single, bulk_body_ in (
        ("", "/v1/Sms/Send", "/v1/Sms/SendBulk", SINGLE, big),
        ("connect_", "/sms/send", "/sms/send/bulk", CONNECT_SINGLE, connect_big),
    ):
        url = base_url + single_path
        c1 = asyncio.run(post_load(url, single, HEADERS, n1, 1))
        c32 = asyncio.run(post_load(url, single, HEADERS, n32, 32))
        [bulk] = timed_posts(base_url + bulk_path, bulk_body_, HEADERS, 1)
        figures.update({
            f"{prefix}c1_rps": c1.rps, f"{prefix}c1_p50_ms": c1.p50_ms,
            f"{prefix}c1_p99_ms": c1.p99_ms, f"{prefix}c32_rps": c32.rps,
            f"{prefix}c32_p50_ms": c32.p50_ms, f"{prefix}c32_p99_ms": c32.p99_ms,
            f"{prefix}bulk15k_ms": bulk * 1000,
        })  # fmt: skip
    return figures


def bytes_per_message(stored: int) -> float:
    """RSS growth per message over ``stored`` messages sent to a fresh mock."""
    port = free_port()
    with serve(mock_command(port, "--clock", "virtual"), port, "/_mock/health") as fresh:
        bulk_url = fresh.base_url + "/v1/Sms/SendBulk"
        timed_posts(bulk_url, bulk_body(1000), HEADERS, 1)  # warm the allocator
        before = fresh.rss_bytes()
        sent = 0
        while sent < stored:
            count = min(15_000, stored - sent)
            timed_posts(bulk_url, bulk_body(count, sent), HEADERS, 1)
            sent += count
        return (fresh.rss_bytes() - before) / stored


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    args = parser.parse_args()
    rounds, n1, n32, stored = (2, 200, 1000, 30_000) if args.quick else (7, 1000, 2000, 100_000)
    big, connect_big = bulk_body(15_000), connect_bulk_body(15_000)
    # Both servers run side by side and are measured in alternating rounds: this
    # machine's speed drifts by up to 2x within minutes, and alternating makes each
    # figure's ratio compare the two at the same moment. Each ratio is the median of
    # the rounds' ratios.
    bare_port, mock_port = free_port(), free_port()
    rows: dict[str, list[dict[str, float]]] = {"bare": [], "mock": []}
    with (
        serve(bare_command(bare_port), bare_port, "/_mock/health") as bare_server,
        serve(mock_command(mock_port, "--clock", "virtual"), mock_port, "/_mock/health") as mock,
    ):
        servers = {"bare": bare_server, "mock": mock}
        for server in servers.values():  # warm-up
            asyncio.run(post_load(server.base_url + "/v1/Sms/Send", SINGLE, HEADERS, 200, 4))
            timed_posts(server.base_url + "/v1/Sms/SendBulk", big, HEADERS, 1)
            asyncio.run(post_load(server.base_url + "/sms/send", CONNECT_SINGLE, HEADERS, 200, 4))
            timed_posts(server.base_url + "/sms/send/bulk", connect_big, HEADERS, 1)
        for _ in range(rounds):
            for name, server in servers.items():
                rows[name].append(measure_round(server.base_url, n1, n32, big, connect_big))
    bare = {key: statistics.median(row[key] for row in rows["bare"]) for key in rows["bare"][0]}
    mock_figures = {key: statistics.median(r[key] for r in rows["mock"]) for key in bare}
    ratios = {
        key: statistics.median(
            m[key] / b[key] for m, b in zip(rows["mock"], rows["bare"], strict=False)
        )
        for key in bare
    }
    per_message = bytes_per_message(stored)

    print(f"{'figure':<22}{'bare':>12}{'mock':>12}{'mock/bare':>12}   (medians of {rounds} rounds)")
    for key in bare:
        print(f"{key:<22}{bare[key]:>12.1f}{mock_figures[key]:>12.1f}{ratios[key]:>12.2f}")
    print(f"{'bytes_per_message':<22}{'':>12}{per_message:>12.0f}")
    checks = {
        "single-send throughput c1 >= 50% of bare": ratios["c1_rps"] >= 0.5,
        "single-send throughput c32 >= 50% of bare": ratios["c32_rps"] >= 0.5,
        "15k bulk <= 8x bare": ratios["bulk15k_ms"] <= 8,
        "current API single-send c1 >= 50% of bare": ratios["connect_c1_rps"] >= 0.5,
        "current API single-send c32 >= 50% of bare": ratios["connect_c32_rps"] >= 0.5,
        "current API 15k bulk <= 8x bare": ratios["connect_bulk15k_ms"] <= 8,
        "<= 1 KiB per stored message": per_message <= 1024,
    }
    for label, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
