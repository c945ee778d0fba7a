"""The kinds of store the storage tests run on (memory, SQLite, and SQLite read back
after a restart), and messages to store."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mock_puresms.domain.messages import HistoryEntry, Message
from mock_puresms.domain.ports import Store
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.storage.memory import MemoryStore
from mock_puresms.storage.sqlite import SqliteStore


class Stores:
    """Opens a store of one kind; ``restart`` closes and reopens a durable one."""

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind
        self.path = path
        self.current: Store | None = None

    def new(self) -> Store:
        return MemoryStore() if self.kind == "memory" else SqliteStore(self.path)

    async def open(self) -> Store:
        self.current = self.new()
        await self.current.open()
        return self.current

    async def restart(self, store: Store) -> Store:
        """The store to read from now: for ``sqlite-restarted`` a new one on the file."""
        if self.kind != "sqlite-restarted":
            return store
        await store.close()
        return await self.open()

    def run(self, body: Callable[[Store], Awaitable[Any]]) -> None:
        async def main() -> None:
            await self.open()
            try:
                assert self.current is not None
                await body(self.current)
            finally:
                if self.current is not None:
                    await self.current.close()

        asyncio.run(main())


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
