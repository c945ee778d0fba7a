"""Memory stays flat under sustained load once ``--max-messages`` is reached (issue 16,
defect 3: webhook deliveries were pruned only under ``--retention``, so RSS grew in a
straight line).

A real ``serve`` process on the virtual clock with ``--max-messages 2000`` takes bulk
sends and clock advances for ~30 s, with a receiver up for every receipt (one POST
each) and reply; its RSS at the end must be within 10 % (and 5 MiB) of its RSS half-way.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_startup import serving

pytestmark = pytest.mark.slow

DURATION_S = 30.0
MAX_MESSAGES = 2000


class FastReceiver:
    """A keep-alive loopback receiver answering every POST ``200`` at once."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.posts = 0
        self.port = 0
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),))
        self.thread.start()
        assert self.ready.wait(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _main(self) -> None:
        self.stopping = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        await self.stopping.wait()
        server.close()
        handlers = asyncio.all_tasks() - {asyncio.current_task()}
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
        await asyncio.sleep(0.05)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                self.posts += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def receiver() -> Iterator[FastReceiver]:
    made = FastReceiver()
    yield made
    made.stop()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_rss_stays_flat_under_sustained_load(tmp_path: Path, receiver: FastReceiver) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("webhooks: {maxBatch: 1}\n")  # one delivery per receipt: many of them
    args = ("--clock", "virtual", "--max-messages", str(MAX_MESSAGES), "--config", str(config))
    with (
        serving(tmp_path, *args) as served,
        httpx.Client(base_url=served.base_url, trust_env=False, timeout=60) as http,
    ):
        key = {"X-API-Key": "load"}
        hooks = {"deliveryReceiptUrl": receiver.url, "replyUrl": receiver.url}
        assert http.put("/v1/Account/Webhooks", json=hooks, headers=key).is_success
        # 447700900006 is delivered and replies STOP; the rest are ordinary numbers.
        phones = ["447700900006" if i % 10 == 0 else f"4479{i:08d}" for i in range(200)]
        bulk = {"from": "Load", "content": "x", "messages": [{"to": p} for p in phones]}
        started = time.monotonic()
        rounds = 0
        middle: float | None = None
        samples: list[float] = []
        while (elapsed := time.monotonic() - started) < DURATION_S:
            assert http.post("/v1/Sms/SendBulk", json=bulk, headers=key).is_success
            assert http.post("/_mock/clock/advance", json={"seconds": 10}).is_success
            rounds += 1
            if rounds % 10 == 0:
                samples.append(rss_mib(served.process.pid))
            if middle is None and elapsed >= DURATION_S / 2:
                middle = rss_mib(served.process.pid)
        end = rss_mib(served.process.pid)
        listed = http.get("/_mock/webhooks", params={"pageSize": 1}).json()["totalCount"]
        messages = http.get("/_mock/messages", params={"pageSize": 1}).json()["totalCount"]

    sent = rounds * len(phones)
    print(
        f"\n{rounds} rounds, {sent} messages, {receiver.posts} webhook POSTs; RSS MiB "
        f"middle {middle:.1f}, end {end:.1f}, samples {[round(s) for s in samples]}"
    )
    assert middle is not None
    assert sent >= 5 * MAX_MESSAGES, "too little load to show anything"
    assert messages <= MAX_MESSAGES
    assert listed <= MAX_MESSAGES
    # Before the fix: 72 MiB half-way, 84 at the end (+17 %), in a straight line.
    assert end <= middle * 1.10, f"RSS grew from {middle:.1f} to {end:.1f} MiB"
    assert end - middle < 5, f"RSS grew from {middle:.1f} to {end:.1f} MiB"
