"""A fixed in-process workload of the v1 send path, for instruction counts.

Drives an app made by ``create_app`` through raw ASGI calls (no sockets, no threads):
``SINGLES`` single sends, then ``BULKS`` 15,000-message SendBulks, then a virtual-clock
advance that moves every message through the default scenario. Run under
``valgrind --tool=callgrind`` by ``bench_revisions.py``, it gives an instruction count
that does not depend on what else the machine is doing, so two revisions of the package
can be compared on a busy machine.

    python benchmarks/workload_inprocess.py [single|bulk|advance]
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import orjson

from mock_puresms import Settings, create_app

SINGLES = 300
BULKS = 2
HEADERS = [(b"content-type", b"application/json"), (b"x-api-key", b"bench-key")]
SINGLE = orjson.dumps({"to": "447700900100", "from": "Acme", "content": "Hello"})
BULK = orjson.dumps(
    {
        "from": "Acme",
        "content": "Hello",
        "messages": [{"to": f"4477{i:08d}"} for i in range(15_000)],
    }
)


async def call(app: Any, method: str, path: str, body: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [*HEADERS, (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8080),
        "root_path": "",
        "app": app,
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def main(part: str) -> None:
    app = create_app(Settings(clock="virtual"))
    started = asyncio.Event()
    stop = asyncio.Event()

    async def lifespan_receive() -> dict[str, Any]:
        if not started.is_set():
            started.set()
            return {"type": "lifespan.startup"}
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def lifespan_send(message: dict[str, Any]) -> None:
        pass

    runner = asyncio.ensure_future(app({"type": "lifespan"}, lifespan_receive, lifespan_send))
    await asyncio.sleep(0.05)
    if part in ("single", "all"):
        for _ in range(SINGLES):
            assert await call(app, "POST", "/v1/Sms/Send", SINGLE) == 200
    if part in ("bulk", "advance", "all"):
        for _ in range(BULKS):
            assert await call(app, "POST", "/v1/Sms/SendBulk", BULK) == 200
    if part in ("advance", "all"):
        advance = orjson.dumps({"seconds": 60})
        assert await call(app, "POST", "/_mock/clock/advance", advance) == 200
    stop.set()
    await runner


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "all"))
