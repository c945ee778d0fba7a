"""The network under webhook deliveries: one POST, its status or why it failed.

This is the dispatcher's only contact with the network, so tests and embedders can
swap it (any object with ``post`` and ``close``). The default sends with aiohttp,
whose client costs a fraction of httpx's per request on the dispatcher's hot path
(measured in ``benchmarks/bench_webhooks.py``). The dispatcher bounds how many POSTs
run at once, in all and per URL (``lanes.py``); the connection pool is sized to match.

Only the status counts, so at most ``MAX_BODY_READ`` bytes of an answer are read (to
keep a small answer's connection for the next POST); a bigger or slower one is dropped
with its connection. The timeout bounds the whole attempt: connecting, sending, the
answer's headers and that read. Redirects are never followed: a ``3xx`` is an answer
like any other non-``200``.

aiohttp takes a tenth of a second to import, a fifth of the server's start-up: ``serve``
imports it on a thread of its own (``import_in_background``), so the server answers
without waiting for it and the first POST finds it imported. Elsewhere (in-process
servers) the first POST imports it.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import sys
import threading
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from mock_puresms.webhooks.lanes import MAX_CONCURRENT_POSTS

if TYPE_CHECKING:
    import aiohttp

# The most of a receiver's answer read; the rest is never read (its connection closes).
MAX_BODY_READ = 4096


def _aiohttp() -> ModuleType:
    return importlib.import_module("aiohttp")


def import_in_background() -> None:
    """Import aiohttp on a thread (once a process): a no-op when it is imported."""
    if "aiohttp" not in sys.modules:
        threading.Thread(target=_aiohttp, name="mock-puresms-import", daemon=True).start()


@functools.lru_cache(maxsize=16)
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    """One timeout object per value (the dispatcher uses one), not one per POST."""
    timeout: aiohttp.ClientTimeout = _aiohttp().ClientTimeout(total=seconds)
    return timeout


class DeliveryFailed(Exception):
    """The POST got no HTTP answer: refused, reset, timed out, bad URL..."""


class WebhookSender(Protocol):
    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:  # noqa: ASYNC109
        """POST ``body`` and return the answer's status; ``DeliveryFailed`` without one."""
        ...

    async def close(self) -> None: ...


class AiohttpSender:
    """Kept-alive connections, at most ``MAX_CONCURRENT_POSTS`` of them."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            aiohttp = _aiohttp()
            connector = aiohttp.TCPConnector(limit=MAX_CONCURRENT_POSTS)
            # No environment proxies: a mock delivers to the URLs it was given.
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:  # noqa: ASYNC109
        try:
            # aiohttp's own total timeout lets a slow answer's body run past it.
            async with asyncio.timeout(timeout):
                async with self._client().post(
                    url,
                    data=body,
                    headers=headers,
                    timeout=_timeout(timeout),
                    allow_redirects=False,
                ) as response:
                    await _read_some(response)
                    return response.status
        except TimeoutError as exc:
            raise DeliveryFailed(f"timeout after {round(timeout * 1000)} ms") from exc
        except (_aiohttp().ClientError, ValueError, OSError) as exc:
            # ValueError covers URLs the client refuses (aiohttp.InvalidURL is one).
            detail = str(exc)
            raise DeliveryFailed(
                f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
            ) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _read_some(response: aiohttp.ClientResponse) -> None:
    """Read a small answer whole (its connection can then serve the next POST); close
    the connection of a big one after ``MAX_BODY_READ`` bytes, unread."""
    length = response.content_length
    if length is not None and length > MAX_BODY_READ:
        response.close()
        return
    read = 0
    while read <= MAX_BODY_READ:
        chunk = await response.content.read(MAX_BODY_READ + 1 - read)
        if not chunk:
            return  # the whole answer: the connection may be reused
        read += len(chunk)
    response.close()
