"""Issue 17: how close any Python handler can come to the 15,000-message bulk target.

The target (``bench_speed.py``) is a v1 SendBulk answered in at most 3x the time of a
bare endpoint that parses the same body and counts its messages. This script measures,
in one process and without sockets, three handlers of the same body:

- ``ceiling``: the bare endpoint's work (``orjson.loads``, a count, a small answer);
- ``floor``: only the work no SendBulk can skip, done the fastest way the mock knows,
  every step a C-level pass over a column: the same parse, the recipient and content
  columns, the phone check (``normalize_phones``), segment counting (``measure_column``),
  15,000 references, an index of them (a dict, as a store needs to find a message by
  reference) and the answer's 15,000 entries (``entries_json``). No message object, no
  plan, no status counts, no event;
- ``mock``: the mock's own SendBulk, through its ASGI app (virtual clock: no lifecycle
  step runs meanwhile; the collector policy of ``mock-puresms serve``).

Rounds alternate the three; each round takes each handler's best of ``--repeat`` calls,
and the figures are the medians of the rounds' ratios to the ceiling, with their spread.
The floor's steps are timed alone too. Over HTTP, both sides also pay about a
millisecond for the socket and the server around them (``bench_speed.py``'s ceiling
takes 3.4 ms where its handler takes 2.4), which moves the ratios toward 1 a little.

    python benchmarks/bench_bulk_floor.py [--rounds N] [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from operator import itemgetter

import orjson
from bench_speed import BULK_SIZE, bulk_body
from workload_inprocess import HEADERS, call

from mock_puresms import Settings, collector, create_app
from mock_puresms.app import mock_for
from mock_puresms.domain.encoding import measure_column
from mock_puresms.domain.messages import new_references
from mock_puresms.domain.phones import normalize_phones
from mock_puresms.web.bulk_json import entries_json

_TO = itemgetter("to")
_CONTENT = itemgetter("content")


def ceiling(body: bytes) -> bytes:
    parsed = orjson.loads(body)
    return orjson.dumps({"ok": True, "count": len(parsed["messages"])})


def floor_steps(body: bytes) -> dict[str, Callable[[], object]]:
    """Each step of the floor on its own, its inputs made beforehand."""
    items = orjson.loads(body)["messages"]
    count = len(items)
    to, content = list(map(_TO, items)), list(map(_CONTENT, items))
    references = new_references("M", count)
    return {
        "parse (as the ceiling)": lambda: orjson.loads(body),
        "two columns": lambda: (list(map(_TO, items)), list(map(_CONTENT, items))),
        "phone check": lambda: normalize_phones(to),
        "segment counts": lambda: measure_column(content),
        "references": lambda: new_references("M", count),
        "index by reference": lambda: dict(zip(references, range(count), strict=True)),
        "answer entries": lambda: orjson.dumps(
            {"messages": entries_json(range(count), references, [None] * count)}
        ),
    }


def floor(body: bytes) -> bytes:
    items = orjson.loads(body)["messages"]
    count = len(items)
    phones = normalize_phones(list(map(_TO, items)))
    encodings = measure_column(list(map(_CONTENT, items)))
    assert phones is not None and encodings is not None
    references = new_references("M", count)
    index = dict(zip(references, range(count), strict=True))
    assert len(index) == count
    return orjson.dumps({"messages": entries_json(range(count), references, [None] * count)})


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


async def measure(rounds: int, repeat: int) -> dict[str, list[float]]:
    app = create_app(Settings(clock="virtual", api_key="bench-key"))
    HEADERS[:] = [(b"content-type", b"application/json"), (b"x-api-key", b"bench-key")]
    collector.manage_for_server()
    mock_for(app).subscribe(collector.on_event)
    sent = 0

    async def mock_call() -> float:
        nonlocal sent
        times = []
        for _ in range(repeat):
            body = bulk_body("v1", BULK_SIZE, sent)  # new numbers: no opt-out, no repeats
            sent += BULK_SIZE
            started = time.perf_counter()
            status = await call(app, "POST", "/v1/Sms/SendBulk", body)
            times.append(time.perf_counter() - started)
            assert status == 200, status
        return min(times)

    body = bulk_body("v1", BULK_SIZE)
    figures: dict[str, list[float]] = {"ceiling": [], "floor": [], "mock": []}
    async with app.router.lifespan_context(app):
        await mock_call()  # warm up
        for _ in range(rounds):
            figures["ceiling"].append(best_of(repeat, lambda: ceiling(body)))
            figures["floor"].append(best_of(repeat, lambda: floor(body)))
            figures["mock"].append(await mock_call())
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5, help="calls per handler per round")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.rounds, args.repeat))
    body = bulk_body("v1", BULK_SIZE)
    steps = {name: best_of(args.repeat * 3, run) for name, run in floor_steps(body).items()}
    ceiling_ms = statistics.median(figures["ceiling"]) * 1000
    print(f"{args.rounds} rounds, best of {args.repeat} each; in process, no sockets")
    print(f"{'ceiling (parse + count)':29s}  1.00x  ({ceiling_ms:.2f} ms)")
    for name in ("floor", "mock"):
        ratios = [m / c for m, c in zip(figures[name], figures["ceiling"], strict=True)]
        label = "floor (unavoidable work only)" if name == "floor" else "mock SendBulk"
        print(
            f"{label:29s} {statistics.median(ratios):5.2f}x  ({min(ratios):.2f}-{max(ratios):.2f})"
        )
    print("the floor's steps alone (best of many):")
    for name, seconds in steps.items():
        print(f"  {name:24s} {seconds * 1000 / ceiling_ms:5.2f}x the ceiling")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
