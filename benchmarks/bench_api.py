"""Issue 2 benchmark: the v1 send path against a bare Starlette endpoint, in one run.

Reports single-send requests/s and p50/p99 latency at concurrency 1 and 32, the time to
answer one 15,000-message SendBulk, and RSS growth per stored message over 100,000
messages. Targets: single-send throughput >= 50% of bare; bulk <= 8x bare; <= 1 KiB
per stored message.

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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    args = parser.parse_args()
    n1, n32, bulk_repeat, stored = (
        (200, 1000, 2, 30_000) if args.quick else (2000, 8000, 5, 100_000)
    )
    big = bulk_body(15_000)
    results: dict[str, dict[str, float]] = {}
    for name, command_for in (("bare", bare_command), ("mock", mock_command)):
        port = free_port()
        extra = ["--clock", "virtual"] if name == "mock" else []
        command = command_for(port) + extra if name == "mock" else command_for(port)
        with serve(command, port, "/_mock/health") as server:
            url = server.base_url + "/v1/Sms/Send"
            asyncio.run(post_load(url, SINGLE, HEADERS, 200, 4))  # warm-up
            c1 = asyncio.run(post_load(url, SINGLE, HEADERS, n1, 1))
            c32 = asyncio.run(post_load(url, SINGLE, HEADERS, n32, 32))
            bulk_url = server.base_url + "/v1/Sms/SendBulk"
            timed_posts(bulk_url, big, HEADERS, 1)  # warm-up
            bulk = timed_posts(bulk_url, big, HEADERS, bulk_repeat)
            figures = {
                "c1_rps": c1.rps, "c1_p50_ms": c1.p50_ms, "c1_p99_ms": c1.p99_ms,
                "c32_rps": c32.rps, "c32_p50_ms": c32.p50_ms, "c32_p99_ms": c32.p99_ms,
                "bulk15k_ms": statistics.median(bulk) * 1000,
            }  # fmt: skip
            results[name] = figures
        if name == "mock":
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
                after = fresh.rss_bytes()
                results["mock"]["bytes_per_message"] = (after - before) / stored

    bare, mock = results["bare"], results["mock"]
    print(f"{'figure':<22}{'bare':>12}{'mock':>12}{'mock/bare':>12}")
    for key in bare:
        print(f"{key:<22}{bare[key]:>12.1f}{mock[key]:>12.1f}{mock[key] / bare[key]:>12.2f}")
    print(f"{'bytes_per_message':<22}{'':>12}{mock['bytes_per_message']:>12.0f}")
    checks = {
        "single-send throughput c1 >= 50% of bare": mock["c1_rps"] >= 0.5 * bare["c1_rps"],
        "single-send throughput c32 >= 50% of bare": mock["c32_rps"] >= 0.5 * bare["c32_rps"],
        "15k bulk <= 8x bare": mock["bulk15k_ms"] <= 8 * bare["bulk15k_ms"],
        "<= 1 KiB per stored message": mock["bytes_per_message"] <= 1024,
    }
    for label, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
