"""Issue 16, defect 4: the time of a message list must not grow with the account.

One server (``--clock virtual``, memory store) is filled with SendBulk requests of 15,000
messages to 10k, 100k and 1M messages (``--sizes`` to change). Its oldest ten messages
are test messages forced to Delivered, so ``deliveryStatus=Delivered`` and ``isTest=true``
find their matches only at the far end of the account (the case a walk is slowest at).
At each size the median time of every kind of list is printed (ms, over ``--repeat``
requests), and at the end each list's ratio of its time at the largest size to its
time at the smallest: about 1 when the time does not grow with the account. The slowest
single request is printed too, and the longest wait of a probe that asks
``/_mock/health`` over and over while the lists run: how long a list held the event loop
(a list that pauses between chunks takes long itself but holds nobody up).

    python benchmarks/bench_lists.py [--sizes 10000,100000,1000000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable

import httpx
import orjson
from _harness import free_port, mock_command, serve

HEADERS = {"X-API-Key": "bench", "Content-Type": "application/json"}
BULK = 15_000
RARE = 10  # the oldest messages: test messages, then forced to Delivered


def bulk_body(count: int, offset: int) -> bytes:
    return orjson.dumps(
        {
            "from": "Acme",
            "batchReference": f"B{offset}",
            "messages": [{"to": f"4477{offset + i:08d}", "content": "Hi"} for i in range(count)],
        }
    )


# name -> the path of a list at ``size`` stored messages
LISTS: dict[str, Callable[[int], str]] = {
    "all": lambda size: "/v1/Sms?pageSize=100",
    "all_deep": lambda size: f"/v1/Sms?pageSize=100&page={size // 200}",
    "batch": lambda size: "/v1/Sms?pageSize=100&batchReference=B10",
    "accepted": lambda size: "/v1/Sms?pageSize=100&deliveryStatus=Accepted",
    "accepted_deep": lambda size: f"/v1/Sms?pageSize=100&deliveryStatus=6&page={size // 200}",
    "delivered_rare": lambda size: "/v1/Sms?pageSize=100&deliveryStatus=Delivered",
    "test_rare": lambda size: "/v1/Sms?pageSize=100&isTest=true",
    "status_and_test": lambda size: "/v1/Sms?pageSize=1000&deliveryStatus=Accepted&isTest=false",
    "control_delivered": lambda size: "/_mock/messages?pageSize=100&deliveryStatus=Delivered",
    "control_to": lambda size: "/_mock/messages?pageSize=100&to=447700000011",
}


def timed(client: httpx.Client, path: str, repeat: int) -> tuple[float, float, int]:
    """Median and slowest time (ms) of ``repeat`` GETs, and the totalCount answered."""
    times = []
    total = -1
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=HEADERS)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        total = response.json()["totalCount"]
    return statistics.median(times) * 1000, max(times) * 1000, total


class Probe(threading.Thread):
    """Asks the server's health route back to back; keeps the longest answer time."""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.running = threading.Event()
        self.stopped = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.longest = 0.0

    def pause(self) -> None:
        """Stop probing, once the request under way has its answer."""
        self.running.clear()
        self.idle.wait()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=300) as client:
            while not self.stopped.is_set():
                if not self.running.wait(0.05):
                    continue
                self.idle.clear()
                if self.running.is_set():
                    started = time.perf_counter()
                    client.get("/_mock/health").raise_for_status()
                    self.longest = max(self.longest, (time.perf_counter() - started) * 1000)
                self.idle.set()
                time.sleep(0.002)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    port = free_port()
    medians: dict[str, list[float]] = {name: [] for name in LISTS}
    stalls: dict[str, list[float]] = {name: [] for name in LISTS}
    slowest = (0.0, "")
    with (
        serve(mock_command(port, "--clock", "virtual"), port, "/_mock/health") as server,
        httpx.Client(base_url=server.base_url, timeout=300) as client,
    ):
        sent = client.post(
            "/v1/Sms/SendBulk?isTest=true", content=bulk_body(RARE, 0), headers=HEADERS
        )
        sent.raise_for_status()
        for item in sent.json()["messages"]:
            forced = client.post(
                f"/_mock/messages/{item['reference']}/status", json={"deliveryStatus": 2}
            )
            forced.raise_for_status()
        stored = RARE
        probe = Probe(server.base_url)
        probe.start()
        print(f"{'messages':>9} " + " ".join(f"{name:>17}" for name in LISTS) + "   rss")
        for size in sizes:
            while stored < size:
                count = min(BULK, size - stored)
                body = bulk_body(count, stored)
                client.post("/v1/Sms/SendBulk", content=body, headers=HEADERS).raise_for_status()
                stored += count
            row = []
            probe.running.set()  # only while lists run: a 15k bulk send holds the loop
            for name, path in LISTS.items():
                before = probe.longest
                probe.longest = 0.0
                median, worst, _total = timed(client, path(size), args.repeat)
                stalls[name].append(probe.longest)
                probe.longest = max(before, probe.longest)
                medians[name].append(median)
                slowest = max(slowest, (worst, f"{name} at {size:,}"))
                row.append(f"{median:>14.2f} ms")
            probe.pause()
            rss = server.rss_bytes() >> 20
            print(f"{size:>9} " + " ".join(row) + f"   {rss} MiB", flush=True)
    ratios = " ".join(f"{values[-1] / values[0]:>17.2f}" for values in medians.values())
    print(f"{'ratio':>9} {ratios}   (time at {sizes[-1]:,} / time at {sizes[0]:,})")
    print(f"slowest single list request: {slowest[0]:.1f} ms ({slowest[1]})")
    print(f"longest wait of a health probe while lists ran: {probe.longest:.1f} ms")
    longest = " ".join(f"{max(values):>14.1f} ms" for values in stalls.values())
    print(f"{'probe max':>9} {longest}")
    probe.stopped.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
