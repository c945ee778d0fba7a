"""The SQLite store: ``SqliteStore`` keeps a ``MemoryStore`` and a journal beside it.

``migrations`` holds the schema, ``writer`` the thread that commits, ``rows`` how values
are encoded, ``journal`` what each change writes.
"""

from mock_puresms.storage.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
