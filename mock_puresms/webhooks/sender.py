"""The network under webhook deliveries: one POST, its status or why it failed.

This is the dispatcher's only contact with the network, so tests and embedders can
swap it (any object with ``post`` and ``close``). The default sends with aiohttp,
whose client costs a fraction of httpx's per request on the dispatcher's hot path
(measured in ``benchmarks/bench_webhooks.py``). The dispatcher bounds how many POSTs
run at once, in all and per URL (``lanes.py``); the connection pool is sized to match.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Protocol

import aiohttp

from mock_puresms.webhooks.lanes import MAX_CONCURRENT_POSTS


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
    """Kept-alive connections, at most ``MAX_CONCURRENT_POSTS`` of them."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=MAX_CONCURRENT_POSTS)
            # No environment proxies: a mock delivers to the URLs it was given.
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:  # noqa: ASYNC109
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
