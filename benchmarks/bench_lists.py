"""Issue 16, defect 4: the time of a message list must not grow with the account.

One server (``--clock virtual``, memory store) is filled with SendBulk requests of 15,000
messages to 10k, 100k and 1M messages (``--sizes`` to change). At each size, the median
time of ``GET /v1/Sms?pageSize=100``, of a list filtered by batch reference (an index)
and of one filtered by status (a scan) are reported, each as a ratio to one 15k SendBulk
timed in the same run.

    python benchmarks/bench_lists.py [--sizes 10000,100000,1000000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import httpx
import orjson
from _harness import free_port, mock_command, serve

HEADERS = {"X-API-Key": "bench", "Content-Type": "application/json"}
BULK = 15_000


def bulk_body(count: int, offset: int) -> bytes:
    return orjson.dumps(
        {
            "from": "Acme",
            "batchReference": f"B{offset}",
            "messages": [{"to": f"4477{offset + i:08d}", "content": "Hi"} for i in range(count)],
        }
    )


def median_ms(client: httpx.Client, path: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=HEADERS)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    port = free_port()
    with (
        serve(mock_command(port, "--clock", "virtual"), port, "/_mock/health") as server,
        httpx.Client(base_url=server.base_url, timeout=300) as client,
    ):
        stored = 0
        reference_body = bulk_body(BULK, 90_000_000)
        print("messages  bulk15k_ms  list_ms (ratio)  batch_ms (ratio)  status_ms (ratio)")
        for size in sizes:
            while stored < size:
                count = min(BULK, size - stored)
                body = bulk_body(count, stored)
                client.post("/v1/Sms/SendBulk", content=body, headers=HEADERS).raise_for_status()
                stored += count
            # The reference: one 15k SendBulk now, into another account.
            started = time.perf_counter()
            response = client.post(
                "/v1/Sms/SendBulk", content=reference_body, headers={**HEADERS, "X-API-Key": "ref"}
            )
            reference = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            listed = median_ms(client, "/v1/Sms?pageSize=100", args.repeat)
            batch = median_ms(client, "/v1/Sms?pageSize=100&batchReference=B0", args.repeat)
            status = median_ms(client, "/v1/Sms?pageSize=100&deliveryStatus=Accepted", 3)
            print(
                f"{size:>8}  {reference:>10.0f}  {listed:>7.2f} ({listed / reference:.4f})"
                f"  {batch:>8.2f} ({batch / reference:.4f})"
                f"  {status:>9.1f} ({status / reference:.4f})  rss={server.rss_bytes() >> 20} MiB",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
