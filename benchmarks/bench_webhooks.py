"""Issue 4 benchmark: delivery receipts per second, the mock's dispatcher against a bare loop.

One receiver process (uvicorn running ``receiver_app`` below: counts POSTs and receipts,
answers 200) serves ten paths, one per URL. The mock (virtual clock, strict mode) has
ten accounts, each with its default receipt URL on its own path, and a scenario in which
every message makes exactly one status change (Delivered after 1 s). Each account sends
``--per-url`` messages with one SendBulk; then one ``advance`` of 2 s makes them all
Delivered, and the time from that advance until the receiver has counted every receipt
is the mock's figure.

The ceiling is the same receiver fed the same number of POST bodies of ``maxBatch``
(100) receipts by a bare loop: one kept-alive connection per URL, sequential per URL,
with aiohttp, the client the dispatcher uses. More loops are printed for context: a
minimal HTTP/1.1 client on asyncio streams (the receiver's own limit), httpx, and raw
with 32 connections. Target: mock >= 50% of the ceiling.

    python benchmarks/bench_webhooks.py [--per-url 10000] [--urls 10] [--rounds 7]
                                        [--profile OUT.prof]

``--profile`` runs the mock under cProfile (slower: its figures then only show where
the time goes) and prints the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
from _harness import HERE, _raw_post, free_port, mock_command, serve

MAX_BATCH = 100
SCENARIO = "name: one-change\ndefault: {lifecycle: [{status: Delivered, after: 1s}]}\n"

# The mock's command under cProfile: uvicorn re-raises SIGTERM once it has shut down, so
# the stats are written from a handler for it (``python -m cProfile`` would be killed).
PROFILED = """\
import cProfile, signal, sys, time
from mock_puresms.cli import main
profiler = cProfile.Profile(time.process_time)
def stop(*_):
    raise SystemExit(0)
signal.signal(signal.SIGTERM, stop)
profiler.enable()
try:
    main(sys.argv[2:])
finally:
    profiler.disable()
    profiler.dump_stats(sys.argv[1])
"""

# --- The receiver: a tiny ASGI app run by uvicorn in its own process ------------------

_counts = {"posts": 0, "receipts": 0}
_OK = [(b"content-type", b"application/json"), (b"content-length", b"2")]

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def receiver_app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """POST anything: counted (receipts by their ``deliveryStatus`` keys), ``200 {}``.
    GET: the counts as JSON."""
    if scope["type"] != "http":
        return
    if scope["method"] == "POST":
        receipts = 0
        more = True
        while more:
            message = await receive()
            receipts += message.get("body", b"").count(b'"deliveryStatus"')
            more = message.get("more_body", False)
        _counts["posts"] += 1
        _counts["receipts"] += receipts
        await send({"type": "http.response.start", "status": 200, "headers": _OK})
        await send({"type": "http.response.body", "body": b"{}"})
        return
    body = orjson.dumps(_counts)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def receiver_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "bench_webhooks:receiver_app", "--app-dir", str(HERE),
        "--port", str(port), "--log-level", "warning", "--lifespan", "off",
    ]  # fmt: skip


class Counter:
    """Reads the receiver's counts."""

    def __init__(self, base_url: str) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=10)

    def receipts(self) -> int:
        count: int = self._client.get("/count").json()["receipts"]
        return count

    def wait_for(self, target: int, timeout: float = 600) -> float:
        """Poll until ``target`` receipts were counted; return ``time.perf_counter()`` then."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.perf_counter()
            got = self.receipts()
            if got >= target:
                return now
            if time.monotonic() > deadline:
                raise RuntimeError(f"receiver counted {got} receipts of {target}")
            time.sleep(0.002)

    def close(self) -> None:
        self._client.close()


# --- The ceiling: a bare loop POSTing the same batches ---------------------------------


def receipt_bodies(count: int, salt: int) -> list[bytes]:
    """``count`` bodies of ``MAX_BATCH`` receipts shaped like the mock's."""
    return [
        orjson.dumps(
            [
                {
                    "reference": f"M{salt:04X}{b:06X}{i:06X}",
                    "clientReference": None,
                    "batchReference": f"B{salt:04X}{b:012X}",
                    "deliveryStatus": 2,
                    "additionalMessage": None,
                }
                for i in range(MAX_BATCH)
            ]
        )
        for b in range(count)
    ]


def _request(url: str, body: bytes) -> bytes:
    parts = httpx.URL(url)
    head = (
        f"POST {parts.raw_path.decode()} HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\n"
        "Content-Type: application/json\r\nUser-Agent: mock-puresms-webhooks\r\n"
        "X-Mock-Delivery-Id: WH0123456789ABCDEF\r\nX-Mock-Attempt: 1\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def raw_loop(jobs: list[list[bytes]], url_of: list[str]) -> None:
    """One kept-alive connection per job list, POSTing its bodies one after another."""

    async def worker(url: str, bodies: list[bytes]) -> None:
        parts = httpx.URL(url)
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        try:
            for body in bodies:
                if await _raw_post(reader, writer, _request(url, body)) != 200:
                    raise RuntimeError(f"{url} did not answer 200")
        finally:
            writer.close()

    await asyncio.gather(*(worker(url, bodies) for url, bodies in zip(url_of, jobs, strict=True)))


async def httpx_loop(jobs: list[list[bytes]], url_of: list[str]) -> None:
    """The same with httpx (one client, one connection per URL in use at a time)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mock-puresms-webhooks",
        "X-Mock-Delivery-Id": "WH0123456789ABCDEF",
        "X-Mock-Attempt": "1",
    }
    limits = httpx.Limits(max_connections=len(jobs), max_keepalive_connections=len(jobs))
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def worker(url: str, bodies: list[bytes]) -> None:
            for body in bodies:
                response = await client.post(url, content=body, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} did not answer 200")

        await asyncio.gather(
            *(worker(url, bodies) for url, bodies in zip(url_of, jobs, strict=True))
        )


async def aiohttp_loop(jobs: list[list[bytes]], url_of: list[str]) -> None:
    """The same with aiohttp, the dispatcher's client: the target's ceiling."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mock-puresms-webhooks",
        "X-Mock-Delivery-Id": "WH0123456789ABCDEF",
        "X-Mock-Attempt": "1",
    }
    connector = aiohttp.TCPConnector(limit=len(jobs))
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:

        async def worker(url: str, bodies: list[bytes]) -> None:
            for body in bodies:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{url} did not answer 200")

        await asyncio.gather(
            *(worker(url, bodies) for url, bodies in zip(url_of, jobs, strict=True))
        )


def timed_loop(
    counter: Counter,
    loop: Callable[[list[list[bytes]], list[str]], Awaitable[None]],
    urls: list[str],
    posts_per_url: int,
    connections: int,
    salt: int,
) -> float:
    """Receipts/s of ``loop`` spreading ``posts_per_url`` bodies per URL over
    ``connections`` connections (round-robin over the URLs)."""
    bodies = receipt_bodies(posts_per_url * len(urls), salt)
    jobs: list[list[bytes]] = [[] for _ in range(connections)]
    url_of = [urls[c % len(urls)] for c in range(connections)]
    for n, body in enumerate(bodies):
        # Body n goes to URL n % len(urls), on one of that URL's connections.
        url_index = n % len(urls)
        same_url = [c for c in range(connections) if c % len(urls) == url_index]
        jobs[same_url[(n // len(urls)) % len(same_url)]].append(body)
    target = counter.receipts() + len(bodies) * MAX_BATCH
    started = time.perf_counter()
    asyncio.run(loop(jobs, url_of))
    finished = counter.wait_for(target)
    return len(bodies) * MAX_BATCH / (finished - started)


# --- The mock ---------------------------------------------------------------------------


def write_files(folder: Path, receiver_url: str, urls: int) -> tuple[Path, Path]:
    accounts = "".join(
        f"  - name: bench{i}\n"
        f"    apiKeys: [bench-key-{i}]\n"
        f"    webhooks: {{deliveryReceiptUrl: '{receiver_url}/hook/{i}'}}\n"
        for i in range(urls)
    )
    # An account without any URL: the same simulation, no webhook, for the breakdown.
    accounts += "  - name: silent\n    apiKeys: [bench-key-silent]\n"
    config = folder / "config.yaml"
    config.write_text(f"accounts:\n{accounts}", encoding="utf-8")
    scenario = folder / "one-change.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    return config, scenario


def send_round(
    client: httpx.Client, urls: int, per_url: int, offset: int, silent: bool = False
) -> None:
    """One SendBulk of ``per_url`` messages per account (all by the silent one)."""
    for i in range(urls):
        body = orjson.dumps(
            {
                "from": "Acme",
                "content": "Your code is 123456",
                "messages": [{"to": f"44{i:02d}{offset + n:08d}"} for n in range(per_url)],
            }
        )
        response = client.post(
            "/v1/Sms/SendBulk",
            content=body,
            headers={
                "X-API-Key": "bench-key-silent" if silent else f"bench-key-{i}",
                "Content-Type": "application/json",
            },
        )
        if response.status_code != 200:
            raise RuntimeError(f"SendBulk answered {response.status_code}: {response.text[:300]}")


def mock_round(
    client: httpx.Client, counter: Counter, urls: int, per_url: int, offset: int
) -> dict[str, float]:
    """Send, advance 2 s, wait for every receipt; the figures of that round."""
    started = time.perf_counter()
    send_round(client, urls, per_url, offset)
    sent = time.perf_counter()
    target = counter.receipts() + urls * per_url
    started_advance = time.perf_counter()
    client.post("/_mock/clock/advance", json={"seconds": 2}).raise_for_status()
    advanced = time.perf_counter()
    finished = counter.wait_for(target)
    return {
        "send_s": sent - started,
        "advance_s": advanced - started_advance,
        "rate": urls * per_url / (finished - started_advance),
    }


def simulation_round(client: httpx.Client, urls: int, per_url: int, offset: int) -> float:
    """Seconds one advance takes to make as many status changes with no webhook at all."""
    send_round(client, urls, per_url, offset, silent=True)
    started = time.perf_counter()
    client.post("/_mock/clock/advance", json={"seconds": 2}).raise_for_status()
    return time.perf_counter() - started


def check_deliveries(client: httpx.Client, expected_posts: int) -> None:
    def total(**params: str) -> int:
        page = client.get("/_mock/webhooks", params={"pageSize": "1", **params}).json()
        count: int = page["totalCount"]
        return count

    delivered, pending, failed = (total(state=s) for s in ("delivered", "pending", "failed"))
    if (delivered, pending, failed) != (expected_posts, 0, 0):
        raise RuntimeError(
            f"expected {expected_posts} delivered POSTs; got delivered={delivered} "
            f"pending={pending} failed={failed}"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", type=int, default=10)
    parser.add_argument("--per-url", type=int, default=10_000, help="messages per URL")
    parser.add_argument("--rounds", type=int, default=7, help="mock rounds between ceilings")
    parser.add_argument("--profile", type=Path, help="run the mock under cProfile, save here")
    args = parser.parse_args()
    urls, per_url = args.urls, args.per_url
    if per_url % MAX_BATCH:
        parser.error(f"--per-url must be a multiple of {MAX_BATCH}")

    receiver_port = free_port()
    with (
        serve(receiver_command(receiver_port), receiver_port, "/count") as receiver,
        tempfile.TemporaryDirectory() as tmp,
    ):
        counter = Counter(receiver.base_url)
        hook_urls = [f"{receiver.base_url}/hook/{i}" for i in range(urls)]
        posts_per_url = per_url // MAX_BATCH

        # Context: each loop once (after a warm-up).
        ceilings: dict[str, float] = {}
        loops = (
            ("aiohttp, 1 connection per URL", aiohttp_loop, urls),
            ("raw, 1 connection per URL", raw_loop, urls),
            ("httpx, 1 connection per URL", httpx_loop, urls),
            ("raw, 32 connections", raw_loop, 32),
        )
        for salt, (name, loop, connections) in enumerate(loops):
            timed_loop(counter, loop, hook_urls, 5, connections, salt)
            ceilings[name] = timed_loop(counter, loop, hook_urls, posts_per_url, connections, salt)

        # The mock, in rounds between measurements of the ceiling: this machine's speed
        # drifts, so each round is compared with the ceilings taken just before and after.
        config, scenario = write_files(Path(tmp), receiver.base_url, urls)
        port = free_port()
        command = mock_command(
            port, "--clock", "virtual", "--config", str(config), "--scenario", str(scenario)
        )
        if args.profile is not None:
            command[1:3] = ["-c", PROFILED, str(args.profile)]
        ceiling_runs: list[float] = []
        runs: list[dict[str, float]] = []

        def measure_ceiling() -> None:
            salt = 100 + len(ceiling_runs)
            ceiling_runs.append(
                timed_loop(counter, aiohttp_loop, hook_urls, posts_per_url, urls, salt)
            )

        with (
            serve(command, port, "/_mock/health") as mock,
            httpx.Client(base_url=mock.base_url, timeout=900) as client,
        ):
            warm = mock_round(client, counter, urls, 500, 0)
            simulation_s = simulation_round(client, urls, per_url, 2_000_000)
            measure_ceiling()
            for number in range(args.rounds):
                runs.append(mock_round(client, counter, urls, per_url, 1_000_000 * (number + 1)))
                measure_ceiling()
            check_deliveries(client, urls * (500 + args.rounds * per_url) // MAX_BATCH)
            rss = mock.rss_bytes()
        counter.close()

    # The target compares with the same client library POSTing the same batches in a bare
    # loop; the raw-socket loop shows how much a leaner client than aiohttp could gain.
    ratios = [
        run["rate"] / ((ceiling_runs[i] + ceiling_runs[i + 1]) / 2) for i, run in enumerate(runs)
    ]
    ratio = statistics.median(ratios)
    rate = statistics.median(run["rate"] for run in runs)
    raw = ceilings["raw, 1 connection per URL"]
    total = urls * per_url
    print(f"{total:,} status changes across {urls} URLs, {MAX_BATCH} receipts per POST")
    print(f"{'':<34}{'receipts/s':>12}{'POSTs/s':>10}")
    for name, loop_rate in ceilings.items():
        label = f"bare loop ({name})"
        print(f"{label:<34}{loop_rate:>12,.0f}{loop_rate / MAX_BATCH:>10,.0f}")
    print(f"{'mock dispatcher (median)':<34}{rate:>12,.0f}{rate / MAX_BATCH:>10,.0f}")
    print(
        f"ceiling (aiohttp loop) around the rounds: {', '.join(f'{c:,.0f}' for c in ceiling_runs)}"
    )
    print(f"mock / ceiling per round          {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"mock / ceiling (median)           {ratio:.2f}   (target >= 0.50)")
    print(f"mock / raw-socket loop            {rate / raw:.2f}")
    print(f"  advance returned after          {runs[-1]['advance_s'] * 1000:,.0f} ms (last round)")
    print(f"  the same advance, no webhooks   {simulation_s * 1000:,.0f} ms (simulation alone)")
    print(f"  sending the messages took       {runs[-1]['send_s'] * 1000:,.0f} ms")
    print(f"  warm-up round ({urls * 500:,} receipts)    {warm['rate']:,.0f} receipts/s")
    print(f"  mock RSS at the end             {rss / 2**20:,.0f} MiB")
    if args.profile is not None:
        print(f"\ncProfile of the mock ({args.profile}), top 30 by own time:")
        stats = pstats.Stats(str(args.profile))
        stats.sort_stats("tottime").print_stats(30)
    return 0 if ratio >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
