"""Issue 3 benchmark: advancing the virtual clock over 100,000 in-flight messages.

Each message has two steps in the default scenario (Enroute, then Delivered). The time
of one ``POST /_mock/clock/advance`` that runs all 200,000 steps is compared with the
time it took to send the messages (SendBulk, 15,000 at a time), on the same real
server in one run. Target: advance <= 10x send.

    python benchmarks/bench_simulation.py [--messages N]
"""

from __future__ import annotations

import argparse
import sys
import time

import httpx
from _harness import free_port, mock_command, serve
from bench_api import HEADERS, bulk_body


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    port = free_port()
    with serve(mock_command(port, "--clock", "virtual"), port, "/_mock/health") as server:
        bodies = []
        for offset in range(0, args.messages, 15_000):
            bodies.append(bulk_body(min(15_000, args.messages - offset), offset))
        with httpx.Client(base_url=server.base_url, timeout=600) as client:
            started = time.perf_counter()
            for body in bodies:
                response = client.post("/v1/Sms/SendBulk", content=body, headers=HEADERS)
                response.raise_for_status()
            send_seconds = time.perf_counter() - started

            started = time.perf_counter()
            client.post("/_mock/clock/advance", json={"seconds": 10}).raise_for_status()
            advance_seconds = time.perf_counter() - started

            counts = client.get("/_mock/messages", params={"pageSize": 1}).json()["totalCount"]
            delivered = client.get(
                "/_mock/messages", params={"deliveryStatus": "Delivered", "pageSize": 1}
            ).json()["totalCount"]
    ratio = advance_seconds / send_seconds
    print(f"messages sent        {counts}")
    print(f"delivered after      {delivered}")
    print(f"send time            {send_seconds * 1000:.0f} ms")
    print(f"advance time         {advance_seconds * 1000:.0f} ms")
    print(f"advance / send       {ratio:.2f}  (target <= 10)")
    ok = ratio <= 10 and delivered >= 0.99 * args.messages
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
