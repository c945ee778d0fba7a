"""A server-wide "the mock is shutting down" signal for requests that wait."""

from __future__ import annotations

import asyncio


class Closing:
    """A server-wide "the mock is shutting down" signal for requests that wait.

    uvicorn waits for every open response before it stops, so long polls, event
    streams and injected delays must end by themselves when the server shuts down.
    Futures are made per wait, so one app may be served by successive event loops.
    """

    def __init__(self) -> None:
        self.closed = False
        self._futures: set[asyncio.Future[None]] = set()

    def future(self) -> asyncio.Future[None]:
        """A future resolved at shutdown (already resolved when it has begun)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.closed:
            future.set_result(None)
        else:
            self._futures.add(future)
        return future

    def discard(self, future: asyncio.Future[None]) -> None:
        self._futures.discard(future)

    async def sleep(self, seconds: float) -> bool:
        """Sleep ``seconds`` of wall time; ``False`` when shutdown cut it short."""
        future = self.future()
        handle = asyncio.get_running_loop().call_later(seconds, _resolve, future)
        try:
            await future
        finally:
            handle.cancel()
            self.discard(future)
        return not self.closed

    def close(self) -> None:
        self.closed = True
        futures, self._futures = self._futures, set()
        for future in futures:
            _resolve(future)

    def reopen(self) -> None:
        self.closed = False


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
