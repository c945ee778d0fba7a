"""The network under webhook deliveries: one POST, its status or why it failed.

This is the dispatcher's only contact with the network, so tests and embedders can
swap it (any object with ``post`` and ``close``). The default sends with aiohttp,
whose client costs a fraction of httpx's per request on the dispatcher's hot path
(measured in ``benchmarks/bench_webhooks.py``), and bounds concurrency per URL, so one
slow or dead receiver cannot take every connection.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import Protocol

import aiohttp

MAX_CONCURRENT_POSTS = 32
# Two in flight per URL keeps a receiver busy while the mock prepares the next POST;
# more only added connection overhead (bench_webhooks.py: 8 gave 0.35-0.44 of the
# ceiling, 2 gave 0.54-0.68, 1 gave less than 2).
MAX_CONCURRENT_POSTS_PER_URL = 2


@functools.lru_cache(maxsize=16)
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    """One timeout object per value (the dispatcher uses one), not one per POST."""
    return aiohttp.ClientTimeout(total=seconds)


class DeliveryFailed(Exception):
    """The POST got no HTTP answer: refused, reset, timed out, bad URL..."""


class WebhookSender(Protocol):
    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:  # noqa: ASYNC109
        """POST ``body`` and return the answer's status; ``DeliveryFailed`` without one."""
        ...

    async def close(self) -> None: ...


class AiohttpSender:
    """Kept-alive connections, at most 32 POSTs at once and 2 per URL."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._all = asyncio.Semaphore(MAX_CONCURRENT_POSTS)
        self._per_url: dict[str, asyncio.Semaphore] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=MAX_CONCURRENT_POSTS)
            # No environment proxies: a mock delivers to the URLs it was given.
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    def _url_limit(self, url: str) -> asyncio.Semaphore:
        limit = self._per_url.get(url)
        if limit is None:
            limit = self._per_url[url] = asyncio.Semaphore(MAX_CONCURRENT_POSTS_PER_URL)
        return limit

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:  # noqa: ASYNC109
        # The URL's slot first: a dead receiver then holds at most 2 of the 32.
        async with self._url_limit(url), self._all:
            try:
                async with self._client().post(
                    url,
                    data=body,
                    headers=headers,
                    timeout=_timeout(timeout),
                    allow_redirects=False,
                ) as response:
                    await response.read()
                    return response.status
            except TimeoutError as exc:
                raise DeliveryFailed(f"timeout after {round(timeout * 1000)} ms") from exc
            except (aiohttp.ClientError, ValueError, OSError) as exc:
                # ValueError covers URLs the client refuses (aiohttp.InvalidURL is one).
                detail = str(exc)
                raise DeliveryFailed(
                    f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
                ) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
