"""The whole store, as the runtime wires it: every narrow Protocol the domain declares.

The domain's services each take only the part they need (``mock_puresms.domain.ports``);
``MemoryStore`` and ``SqliteStore`` implement all of them.
"""

from __future__ import annotations

from typing import Protocol

from mock_puresms.domain.ports import (
    AccountStore,
    ContactStore,
    GroupStore,
    MessageStore,
    ReplyStore,
    StateStore,
    TokenStore,
)


class Store(
    AccountStore,
    MessageStore,
    ReplyStore,
    ContactStore,
    GroupStore,
    TokenStore,
    StateStore,
    Protocol,
):
    """Where the mock keeps its state."""
