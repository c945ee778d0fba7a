"""Issue 14 benchmark: the inbox with 100,000 stored messages, and its live list.

A mock on the virtual clock (a subprocess, ``--clock virtual``) is filled by seven
15,000-message SendBulk requests (105,000 messages). Then the inbox's first page and
filtered pages are each timed (median of several GETs of the whole HTML page) and
reported as a ratio to the median time of those SendBulk requests, measured in the same
run. Target: each under 0.10.

The live check opens ``/`` in headless Chromium (Debian's ``/usr/bin/chromium`` through
Playwright, as the browser tests do) and sends 200 single messages a second for five
seconds from another thread, paced by the wall clock. Twice a second it reads how many
new rows the page has counted (``#new-count``, which the page's script updates from
``/_mock/events``); it passes when the page never falls more than one second of traffic
(200 messages) behind what was sent and has every message within one second of the
last send. Without Chromium the same is measured on the event stream itself.

    python benchmarks/bench_inbox.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson
from _harness import free_port, mock_command, serve, timed_posts

HEADERS = {"X-API-Key": "bench", "Content-Type": "application/json"}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
RATE = 200  # messages a second
SECONDS = 5


def bulk_body(count: int, offset: int) -> bytes:
    return orjson.dumps(
        {
            "from": "Acme",
            "messages": [
                {"to": f"4477{offset + i:08d}", "content": f"Hello {offset + i}, code {i * 7919}"}
                for i in range(count)
            ],
        }
    )


def timed_get(client: httpx.Client, path: str, repeat: int) -> float:
    """Median seconds to answer ``GET path`` (the whole page)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return statistics.median(times)


def paced_sends(base_url: str, sent: list[float]) -> None:
    """``RATE`` single sends a second for ``SECONDS``, each at its slot of wall time."""
    body = orjson.dumps({"to": "447700900100", "from": "Live", "content": "live traffic"})
    with httpx.Client(base_url=base_url, headers=HEADERS, timeout=10) as client:
        start = time.perf_counter()
        for i in range(RATE * SECONDS):
            delay = start + i / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            client.post("/v1/Sms/Send", content=body).raise_for_status()
            sent.append(time.perf_counter())


def live_in_browser(base_url: str) -> tuple[float, float, str]:
    """(worst lag in messages, seconds after the last send until the page had all, how)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.goto(base_url + "/?account=bench-live-only")
        page.goto(base_url + "/")
        page.wait_for_selector('#live[data-state="live"]')
        sent: list[float] = []
        sender = threading.Thread(target=paced_sends, args=(base_url, sent))
        sender.start()
        worst = 0
        while sender.is_alive():
            time.sleep(0.5)
            shown = int(page.evaluate("document.getElementById('new-count').dataset.count || 0"))
            worst = max(worst, len(sent) - shown)
        sender.join()
        total = RATE * SECONDS
        last = sent[-1]
        page.wait_for_function(
            f"Number(document.getElementById('new-count').dataset.count || 0) >= {total}",
            timeout=30_000,
        )
        caught_up = time.perf_counter() - last
        browser.close()
    return worst, caught_up, "headless Chromium, #new-count of the live list"


def live_on_stream(base_url: str) -> tuple[float, float, str]:
    """The same figures from an SSE client, when no browser is there."""
    received = 0
    done = threading.Event()

    def follow() -> None:
        nonlocal received
        with (
            httpx.Client(timeout=None) as client,
            client.stream("GET", base_url + "/_mock/events") as stream,
        ):
            for line in stream.iter_lines():
                if line == "event: message.created":
                    received += 1
                    if received >= RATE * SECONDS:
                        done.set()
                        return

    threading.Thread(target=follow, daemon=True).start()
    time.sleep(0.5)
    sent: list[float] = []
    sender = threading.Thread(target=paced_sends, args=(base_url, sent))
    sender.start()
    worst = 0
    while sender.is_alive():
        time.sleep(0.5)
        worst = max(worst, len(sent) - received)
    sender.join()
    done.wait(30)
    return worst, time.perf_counter() - sent[-1], "SSE client (no Chromium)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 bulks, fewer repeats")
    args = parser.parse_args()
    bulks = 2 if args.quick else 7
    repeat = 3 if args.quick else 7

    port = free_port()
    with (
        serve(mock_command(port, "--clock", "virtual"), port, "/_mock/health") as mock,
        httpx.Client(base_url=mock.base_url, timeout=60) as client,
    ):
        bulk_times = []
        batch = None
        for round_ in range(bulks):
            body = bulk_body(15_000, round_ * 15_000)
            [seconds] = timed_posts(mock.base_url + "/v1/Sms/SendBulk", body, HEADERS, 1)
            bulk_times.append(seconds)
        stored = client.get("/_mock/messages", params={"pageSize": 1}).json()
        batch = stored["items"][0]["batchReference"]
        reference = statistics.median(bulk_times)
        pages = {
            "first page": "/",
            "account filter": "/?account=" + stored["items"][0]["account"],
            "batch filter": f"/?batch={batch}",
            "status + api filter": "/?status=Accepted&api=v1",
            "text search (common)": "/?q=code+7",
            "page 20": "/?page=20",
        }
        print(f"stored messages: {stored['totalCount']:,}")
        print(f"15,000-message SendBulk (median of {bulks}): {reference * 1000:.1f} ms")
        print(f"{'page':<24}{'ms':>10}{'ratio':>10}")
        ratios = {}
        for label, path in pages.items():
            seconds = timed_get(client, path, repeat)
            ratios[label] = seconds / reference
            print(f"{label:<24}{seconds * 1000:>10.1f}{ratios[label]:>10.3f}")
        rare = timed_get(client, "/?q=447700000042", 3)
        print(
            f"{'text search (rare, scans every message)':<24} {rare * 1000:.1f} ms (not a target)"
        )

        if CHROMIUM.exists():
            worst, caught_up, how = live_in_browser(mock.base_url)
        else:
            worst, caught_up, how = live_on_stream(mock.base_url)
        print(f"live list at {RATE} messages/s for {SECONDS} s, measured by {how}:")
        print(f"  most messages sent but not yet shown: {worst}")
        print(f"  all shown {caught_up * 1000:.0f} ms after the last send")

    checks = {
        "first page < 0.10 of a 15k SendBulk": ratios["first page"] < 0.10,
        "filtered pages < 0.10 of a 15k SendBulk": all(
            ratios[k] < 0.10 for k in pages if k not in ("first page", "page 20")
        ),
        f"live list keeps up with {RATE}/s (<= 1 s behind)": worst <= RATE and caught_up <= 1.0,
    }
    for label, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
