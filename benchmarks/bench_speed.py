"""Issue 17 benchmark: the send paths measured with a C load generator (``wrk``).

Every figure is a ratio to the ceiling of this stack, a bare Starlette + orjson endpoint
(``bare_app.py``: it parses the body and, for a bulk, counts its messages) measured in
the same run. Servers run side by side; each figure is taken from every server in turn
(ceiling, mock, Prism), round after round, so a ratio compares two servers at the same
moment of a machine whose speed drifts; each target is the median of the rounds' ratios,
and the spread (min-max) is printed beside it.

- request rates and latency: ``wrk`` (one thread: the client shares the two cores) with
  ``wrk/post.lua`` posting a prepared body;
- one big request (the 15,000-message bulk): a raw-socket timer; then more bulks, each
  while a probe on a second connection asks ``/_mock/health`` again and again: its
  slowest answer is the longest the event loop was held (apart from the timed bulks,
  whose time the probes the loop answers between phases would lengthen);
- ``bench_bulk_floor.py`` beside it: the least work any SendBulk handler can do, as a
  ratio to the same ceiling, in process;
- memory: RSS growth per stored message of a fresh mock, after single sends and after
  bulks, once their lifecycles have run out;
- the throughput of a mock already holding 1,000,000 messages against a fresh one.

Prism 5 (``prism mock -v error``, against the mock's own OpenAPI documents) joins the
comparison when it is installed (``$PRISM``, ``/work/prism`` or ``npx``); ``--no-prism``
leaves it out. The mock runs its default scenario on the real clock.

    python benchmarks/bench_speed.py [--quick] [--no-prism] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
from _harness import HERE, Server, bare_command, free_port, mock_command, serve, stop

KEY = "bench"
WRK_SCRIPT = HERE / "wrk" / "post.lua"
APIS = {
    # name: (single path, bulk path)
    "v1": ("/v1/Sms/Send", "/v1/Sms/SendBulk"),
    "connect": ("/sms/send", "/sms/send/bulk"),
}
BULK_SIZE = 15_000
BULKS_PER_ROUND = 3


def single_body(api: str) -> bytes:
    if api == "v1":
        return orjson.dumps({"to": "447700900100", "from": "Acme", "content": "Your code is 1234"})
    return orjson.dumps({"sender": "Acme", "recipient": "+447700900100", "content": "Code 1234"})


def bulk_body(api: str, count: int, offset: int = 0) -> bytes:
    if api == "v1":
        items: list[dict[str, str]] = [
            {"to": f"4477{offset + i:08d}", "content": f"Hello {offset + i}, code {i * 7919}"}
            for i in range(count)
        ]
        return orjson.dumps({"from": "Acme", "messages": items})
    items = [
        {"sender": "Acme", "recipient": f"+4477{offset + i:08d}", "content": f"Hello {i}"}
        for i in range(count)
    ]
    return orjson.dumps({"messages": items})


# -- load --------------------------------------------------------------------------------


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int


def wrk(url: str, body_file: Path, connections: int, seconds: float) -> WrkResult:
    """``wrk`` posting ``body_file`` over ``connections`` kept-alive connections."""
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
        "-s", str(WRK_SCRIPT), url, "--", str(body_file), KEY,
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"BENCH (.*)", out)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    fields = dict(part.split("=") for part in match.group(1).split())
    if int(fields["non2xx"]) or "Socket errors" in out:
        raise RuntimeError(f"{url} answered errors under load:\n{out}")
    requests, duration = int(fields["requests"]), int(fields["duration_us"]) / 1e6
    return WrkResult(
        requests / duration,
        int(fields["p50_us"]) / 1000,
        int(fields["p99_us"]) / 1000,
        requests,
    )


def _request(host: str, port: int, method: str, path: str, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _read_response(sock: socket.socket) -> int:
    """Read one HTTP/1.1 response with a Content-Length; return its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed mid-response")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("connection closed mid-body")
        rest += chunk
    return int(head[9:12])


def timed_post(base_url: str, path: str, body: bytes) -> float:
    """Seconds from the first byte of one POST sent to the last byte of its answer."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        request = _request(host, int(port), "POST", path, body)
        started = time.perf_counter()
        sock.sendall(request)
        status = _read_response(sock)
        elapsed = time.perf_counter() - started
    if not 200 <= status < 300:
        raise RuntimeError(f"{path} answered {status}")
    return elapsed


@contextmanager
def stall_probe(base_url: str) -> Iterator[list[float]]:
    """Ask ``/_mock/health`` back to back on one connection while the block runs; the
    list gets each answer's latency (the slowest is the longest the loop was held)."""
    host, port = base_url.removeprefix("http://").split(":")
    latencies: list[float] = []
    stop = threading.Event()
    request = _request(host, int(port), "GET", "/_mock/health")

    def probe() -> None:
        with socket.create_connection((host, int(port))) as sock:
            while not stop.is_set():
                started = time.perf_counter()
                sock.sendall(request)
                _read_response(sock)
                latencies.append(time.perf_counter() - started)
                time.sleep(0.002)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    time.sleep(0.05)
    try:
        yield latencies
    finally:
        stop.set()
        thread.join(10)


# -- servers -----------------------------------------------------------------------------


def prism_command() -> list[str] | None:
    candidates = [os.environ.get("PRISM", ""), "/work/prism/node_modules/.bin/prism"]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return [candidate]
    if shutil.which("npx"):
        probe = subprocess.run(
            ["npx", "--no-install", "prism", "--version"], capture_output=True, timeout=60
        )
        if probe.returncode == 0:
            return ["npx", "--no-install", "prism"]
    return None


@contextmanager
def serve_prism(command: list[str], document: Path, port: int) -> Iterator[Server]:
    """Prism on ``document``; it has no health route, so wait for its port to listen."""
    process = subprocess.Popen(
        [*command, "mock", "-v", "error", "-h", "127.0.0.1", "-p", str(port), str(document)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("prism exited early")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("prism did not listen in 60 s") from None
                time.sleep(0.2)
        yield Server(process, f"http://127.0.0.1:{port}")
    finally:
        stop(process)


def start_mock(stack: ExitStack, *extra: str) -> Server:
    port = free_port()
    return stack.enter_context(serve(mock_command(port, *extra), port, "/_mock/health"))


# -- measurements ------------------------------------------------------------------------


@dataclass
class Plan:
    rounds: int
    seconds: float  # of each wrk run
    stored_bulk: int  # messages sent in bulks for the memory figure
    single_seconds: float  # of single sends for the memory figure
    loaded: int  # messages stored before the loaded-throughput figure


def settle_rss(server: Server, wait: float) -> int:
    """RSS once the default scenario's lifecycles (3 s) have run out."""
    time.sleep(wait)
    return server.rss_bytes()


def memory_bulk(plan: Plan, stack: ExitStack) -> float:
    server = start_mock(stack)
    timed_post(server.base_url, "/v1/Sms/SendBulk", bulk_body("v1", 1000))  # warm up
    before = settle_rss(server, 4)
    sent = 0
    while sent < plan.stored_bulk:
        count = min(BULK_SIZE, plan.stored_bulk - sent)
        timed_post(server.base_url, "/v1/Sms/SendBulk", bulk_body("v1", count, sent))
        sent += count
    return (settle_rss(server, 4) - before) / sent


def memory_single(plan: Plan, stack: ExitStack, body_file: Path) -> float:
    server = start_mock(stack)
    url = server.base_url + "/v1/Sms/Send"
    wrk(url, body_file, 8, 1)  # warm up
    before = settle_rss(server, 4)
    sent = wrk(url, body_file, 32, plan.single_seconds).requests
    return (settle_rss(server, 4) - before) / sent


def load(server: Server, count: int) -> None:
    sent = 0
    while sent < count:
        size = min(BULK_SIZE, count - sent)
        timed_post(server.base_url, "/v1/Sms/SendBulk", bulk_body("v1", size, sent))
        sent += size


Figures = dict[str, dict[str, list[float]]]  # figure -> server -> one value per round


def median_ratio(figures: Figures, key: str, name: str, ref: str = "ceiling") -> list[float]:
    return [m / c for m, c in zip(figures[key][name], figures[key][ref], strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    args = parser.parse_args()
    plan = (
        Plan(args.rounds, 2, 45_000, 3, 200_000)
        if args.quick
        else Plan(args.rounds, 5, 105_000, 10, 1_000_000)
    )
    prism = None if args.no_prism else prism_command()
    tmp = Path(tempfile.mkdtemp(prefix="bench-speed-"))
    bodies = {}
    for api in APIS:
        bodies[api] = (tmp / f"{api}-single.json", bulk_body(api, BULK_SIZE))
        bodies[api][0].write_bytes(single_body(api))
    figures: Figures = {}

    def record(key: str, name: str, value: float) -> None:
        figures.setdefault(key, {}).setdefault(name, []).append(value)

    with ExitStack() as stack:
        port = free_port()
        servers: dict[str, dict[str, Server]] = {
            "ceiling": dict.fromkeys(
                APIS, stack.enter_context(serve(bare_command(port), port, "/_mock/health"))
            ),
        }
        mock = start_mock(stack)
        servers["mock"] = dict.fromkeys(APIS, mock)
        if prism is not None:
            from mock_puresms.api.docs import openapi_json_bytes

            servers["prism"] = {}
            for api in APIS:
                document = tmp / f"{api}.json"
                document.write_bytes(openapi_json_bytes(api))
                port = free_port()
                servers["prism"][api] = stack.enter_context(serve_prism(prism, document, port))
        for by_api in servers.values():  # warm up
            for api, (single_path, bulk_path) in APIS.items():
                wrk(by_api[api].base_url + single_path, bodies[api][0], 8, 1)
                timed_post(by_api[api].base_url, bulk_path, bodies[api][1])
        for round_ in range(plan.rounds):
            print(f"round {round_ + 1}/{plan.rounds}", file=sys.stderr)
            for api, (single_path, bulk_path) in APIS.items():
                single = bodies[api][0]
                for name, by_api in servers.items():
                    result = wrk(by_api[api].base_url + single_path, single, 32, plan.seconds)
                    record(f"{api} c32 rps", name, result.rps)
                    record(f"{api} c32 p99", name, result.p99_ms)
                for name, by_api in servers.items():
                    result = wrk(by_api[api].base_url + single_path, single, 1, plan.seconds)
                    record(f"{api} c1 rps", name, result.rps)
                # The lifecycles of the load just measured (3 s in the default scenario)
                # run out first: the bulk is timed on a quiet machine, as the ceiling's.
                time.sleep(3.5)
                # A bulk takes milliseconds: each server's best of three in the round
                # (a timer tick or the other helper's burst stretches single ones).
                for name, by_api in servers.items():
                    times = [
                        timed_post(by_api[api].base_url, bulk_path, bodies[api][1])
                        for _ in range(BULKS_PER_ROUND)
                    ]
                    record(f"{api} bulk", name, min(times))
                # The stall, from bulks of their own: the probes the loop answers between
                # a bulk's phases would lengthen a timed one, and the ceiling's have none.
                stalls = []
                for _ in range(BULKS_PER_ROUND):
                    with stall_probe(mock.base_url) as probes:
                        timed_post(mock.base_url, bulk_path, bodies[api][1])
                    stalls.append(max(probes) * 1000)
                # The worst, not the best: no request may hold the loop.
                record(f"{api} stall ms", "mock", max(stalls))
    # The loaded mock, beside a fresh one, in alternating rounds.
    with ExitStack() as stack:
        print(f"storing {plan.loaded:,} messages", file=sys.stderr)
        loaded = start_mock(stack)
        load(loaded, plan.loaded)
        fresh = start_mock(stack)
        wrk(fresh.base_url + "/v1/Sms/Send", bodies["v1"][0], 8, 1)
        for _ in range(plan.rounds):
            for name, server in (("fresh", fresh), ("loaded", loaded)):
                result = wrk(server.base_url + "/v1/Sms/Send", bodies["v1"][0], 32, plan.seconds)
                record("loaded c32 rps", name, result.rps)
    with ExitStack() as stack:
        print("memory", file=sys.stderr)
        record("rss bulk", "mock", memory_bulk(plan, stack))
    with ExitStack() as stack:
        record("rss single", "mock", memory_single(plan, stack, bodies["v1"][0]))
    shutil.rmtree(tmp)
    return report(figures, plan, prism is not None, args)


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def report(figures: Figures, plan: Plan, with_prism: bool, args: argparse.Namespace) -> int:
    cores = os.cpu_count()
    print(
        f"\n{plan.rounds} rounds, {plan.seconds:g} s per wrk run, {cores} cores"
        + ("" if with_prism else "; Prism not measured (--no-prism, or not installed)")
    )
    print("absolute medians (ceiling / mock): " + "; ".join(
        f"{key} {statistics.median(by['ceiling']):.4g} / {statistics.median(by['mock']):.4g}"
        for key, by in figures.items() if "ceiling" in by
    ))  # fmt: skip
    print(f"{'figure':<26}{'mock':>8}{'spread':>12}{'prism':>8}   target")
    rows: list[tuple[str, float, list[float], str, Callable[[float], bool]]] = []
    for api in APIS:
        label = "v1" if api == "v1" else "current"
        for key, text, target, check in (
            (f"{api} c32 rps", "single send c=32 rps", ">= 0.5x", lambda r: r >= 0.5),
            (f"{api} c32 p99", "single send c=32 p99", "<= 2.5x", lambda r: r <= 2.5),
            (f"{api} c1 rps", "single send c=1 rps", ">= 0.7x", lambda r: r >= 0.7),
            (f"{api} bulk", "15k bulk time", "<= 3x count-only", lambda r: r <= 3),
        ):
            ratios = median_ratio(figures, key, "mock")
            rows.append((f"{label} {text}", statistics.median(ratios), ratios, target, check))
    passed = True
    for label, value, ratios, target, check in rows:
        key = _key_of(label)
        prism = (
            f"{statistics.median(median_ratio(figures, key, 'prism')):.2f}x"
            if with_prism and "prism" in figures[key]
            else "-"
        )
        ok = check(value)
        passed &= ok
        print(f"{label:<26}{value:>7.2f}x{_spread(ratios):>12}{prism:>8}   {target}  "
              f"{'PASS' if ok else 'FAIL'}")  # fmt: skip
    for api in APIS:
        # Each round's worst probe over its bulks; the median of the rounds, as every
        # target (the spread shows the worst of all).
        stalls = figures[f"{api} stall ms"]["mock"]
        value = statistics.median(stalls)
        ok = value <= 50
        passed &= ok
        label = f"{'v1' if api == 'v1' else 'current'} loop stall"
        print(f"{label:<26}{value:>6.1f}ms{_spread(stalls):>12}{'-':>8}   <= 50 ms  "
              f"{'PASS' if ok else 'FAIL'}")  # fmt: skip
    ratios = median_ratio(figures, "loaded c32 rps", "loaded", "fresh")
    value = statistics.median(ratios)
    ok = value >= 0.9
    passed &= ok
    print(f"{f'{plan.loaded:,} stored c=32 rps':<26}{value:>7.2f}x{_spread(ratios):>12}{'-':>8}"
          f"   >= 0.9x fresh  {'PASS' if ok else 'FAIL'}")  # fmt: skip
    for key, label in (("rss bulk", "RSS per msg, bulks"), ("rss single", "RSS per msg, singles")):
        [value] = figures[key]["mock"]
        ok = value <= 600
        passed &= ok
        print(f"{label:<26}{value:>7.0f}B{'':>12}{'-':>8}   <= 600 B  {'PASS' if ok else 'FAIL'}")
    print("ALL PASS" if passed else "SOME FAIL")
    return 0 if passed else 1


def _key_of(label: str) -> str:
    api = "v1" if label.startswith("v1") else "connect"
    for part, key in (("c=32 rps", "c32 rps"), ("c=32 p99", "c32 p99"), ("c=1", "c1 rps")):
        if part in label:
            return f"{api} {key}"
    return f"{api} bulk"


if __name__ == "__main__":
    sys.exit(main())
