"""The kinds of store the storage tests run on (memory, SQLite, and SQLite read back
after a restart), and messages to store."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from mock_puresms.domain.messages import HistoryEntry, Message
from mock_puresms.domain.ports import Recovered, Store
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.storage.memory import MemoryStore
from mock_puresms.storage.sqlite import SqliteStore


class Stores:
    """Opens a store of one kind; ``restart`` closes and reopens a durable one.

    ``sqlite-loading`` reopens with every message left to the background load, a message
    a slice, which runs as the mock runs it (a task beside the reads): the reads after a
    restart are made while it loads, and must wait for it.
    """

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind
        self.path = path
        self.current: Store | None = None
        self.loading: asyncio.Task[None] | None = None

    def new(self) -> Store:
        if self.kind == "memory":
            return MemoryStore()
        if self.kind == "sqlite-loading":
            return SqliteStore(self.path, eager_seconds=0, slice_size=1)
        return SqliteStore(self.path)

    async def open(self) -> Store:
        self.current = self.new()
        recovered = await self.current.open()
        if recovered.rest is not None:
            self.loading = asyncio.create_task(_drain(recovered.rest))
        return self.current

    async def restart(self, store: Store) -> Store:
        """The store to read from now: for ``sqlite-restarted`` and ``sqlite-loading``
        a new one on the file."""
        if self.kind not in ("sqlite-restarted", "sqlite-loading"):
            return store
        await self.close(store)
        store = await self.open()
        if self.kind == "sqlite-loading":
            assert isinstance(store, SqliteStore) and store.loading
        return store

    async def close(self, store: Store) -> None:
        if self.loading is not None:
            self.loading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.loading
            self.loading = None
        await store.close()

    def run(self, body: Callable[[Store], Awaitable[Any]]) -> None:
        async def main() -> None:
            await self.open()
            try:
                assert self.current is not None
                await body(self.current)
            finally:
                if self.current is not None:
                    await self.close(self.current)

        asyncio.run(main())


async def _drain(rest: AsyncIterator[Recovered]) -> None:
    async for _ in rest:
        pass


def message(reference: str, **fields: Any) -> Message:
    """A stored message with plain defaults."""
    status = fields.pop("status", DeliveryStatus.ACCEPTED)
    created_at = fields.pop("created_at", 1000)
    values: dict[str, Any] = {
        "reference": reference, "account_id": "acc", "to": "447700900001", "sender": "Acme",
        "content": "Hi", "encoding": "GSM", "segments": 1, "is_test": False, "status": status,
        "created_at": created_at, "history": (HistoryEntry(status, created_at),), **fields,
    }  # fmt: skip
    return Message(**values)


def state(message: Message | None) -> tuple[Any, ...] | None:
    """A message's fields, to compare copies read back from a file with the originals."""
    if message is None:
        return None
    # The store's handle is where a store keeps the message, not part of its state.
    return tuple(
        getattr(message, f.name) for f in dataclasses.fields(message) if f.name != "store_handle"
    )
