"""A receiver's answer cannot hurt the mock (issue 16, defect 5): at most a few KiB of
its body are read, and the attempt timeout covers the whole attempt (connect, send,
headers, body). Through a real server and a raw loopback receiver that answers a huge or
a slow body.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_puresms.testing.server_thread import ServerThread

pytestmark = pytest.mark.slow

TIMEOUT_S = 2.0
CHUNK = b"x" * (1 << 20)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


Answer = Callable[[asyncio.StreamWriter], Any]


class RawReceiver:
    """An asyncio server in a thread of its own; each POST is read whole, then answered
    by ``answer(writer)`` (a coroutine function)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.started.wait(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _run(self) -> None:
        self.loop.run_until_complete(self._main())
        self.loop.close()

    async def _main(self) -> None:
        self.stopping = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self.started.set()
        await self.stopping.wait()
        server.close()
        handlers = asyncio.all_tasks() - {asyncio.current_task()}
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
        await asyncio.sleep(0.05)  # the closed transports' last callbacks

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            await self.answer(writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the mock hung up, as it should (or the receiver stops)
        finally:
            writer.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(5)


async def endless_body(writer: asyncio.StreamWriter) -> None:
    """200, then a body without a length (it ends when the connection does): for ever."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
    while True:
        writer.write(CHUNK)
        await writer.drain()


async def huge_declared_body(writer: asyncio.StreamWriter) -> None:
    """200 declaring 1.5 GB, then that body as fast as the mock reads it."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1500000000\r\n\r\n")
    while True:
        writer.write(CHUNK)
        await writer.drain()


async def slow_body(writer: asyncio.StreamWriter) -> None:
    """200 with a small body that comes one byte every 100 ms, for 60 s."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n")
    for _ in range(600):
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(0.1)


@pytest.fixture
def receivers() -> Iterator[Callable[[Answer], RawReceiver]]:
    made: list[RawReceiver] = []

    def start(answer: Answer) -> RawReceiver:
        receiver = RawReceiver(answer)
        made.append(receiver)
        return receiver

    yield start
    for receiver in made:
        receiver.stop()


@pytest.fixture
def server(live_server: Callable[..., ServerThread], tmp_path: Path) -> ServerThread:
    config = tmp_path / "mock.yaml"
    config.write_text(f"webhooks: {{timeout: {int(TIMEOUT_S * 1000)}ms, firstRetry: 1h}}\n")
    return live_server(config=config)


def first_attempt(server: ServerThread, url: str) -> dict[str, Any]:
    """Send one message with ``url`` for receipts, reach its first receipt's attempt."""
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=30) as http:
        body = {"to": "447700900100", "from": "Acme", "content": "Hi", "deliveryReceiptUrl": url}
        assert http.post("/v1/Sms/Send", json=body, headers={"X-API-Key": "k"}).is_success
        assert http.post("/_mock/clock/advance", json={"seconds": 1.5}).is_success
        items = http.get("/_mock/webhooks").json()["items"]
    (delivery,) = items
    (attempt,) = delivery["attempts"]
    result: dict[str, Any] = attempt
    return result


@pytest.mark.parametrize("answer", [endless_body, huge_declared_body])
def test_a_huge_answer_is_not_read(
    server: ServerThread, receivers: Callable[[Answer], RawReceiver], answer: Answer
) -> None:
    receiver = receivers(answer)
    before = rss_bytes()

    attempt = first_attempt(server, receiver.url)

    assert attempt["status"] == 200  # the status is all that counts
    assert attempt["durationMs"] < TIMEOUT_S * 1000
    grown = rss_bytes() - before
    assert grown < 64 * 2**20, f"the mock's memory grew by {grown / 2**20:.0f} MiB"


def test_a_slow_answer_ends_the_attempt_at_its_timeout(
    server: ServerThread, receivers: Callable[[Answer], RawReceiver]
) -> None:
    receiver = receivers(slow_body)

    attempt = first_attempt(server, receiver.url)

    assert attempt["status"] is None
    assert attempt["error"] == f"timeout after {int(TIMEOUT_S * 1000)} ms"
    assert TIMEOUT_S * 1000 <= attempt["durationMs"] < TIMEOUT_S * 1000 + 500
