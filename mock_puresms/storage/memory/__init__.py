"""The in-memory store: one table per concern (messages, replies, address books),
assembled by ``MemoryStore``."""

from mock_puresms.storage.memory.store import MemoryStore

__all__ = ["MemoryStore"]
