"""An index of messages by a key (batch, client reference, recipient), oldest first."""

from __future__ import annotations

from collections.abc import Sequence
from operator import is_

from mock_puresms.domain.messages import Message


class MessageIndex:
    """Messages by a key, oldest first; a key seen once holds the message itself.

    Most client references and recipients occur once, and a one-element list per key
    would cost more than the message it points to.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[str, Message | list[Message]] = {}

    def add(self, key: str | None, message: Message) -> None:
        if key is None:
            return
        present = self._entries.get(key)
        if present is None:
            self._entries[key] = message
        elif isinstance(present, list):
            present.append(message)
        else:
            self._entries[key] = [present, message]

    def extend(self, key: str, messages: Sequence[Message]) -> None:
        """``add`` for many messages under one key."""
        present = self._entries.get(key)
        if present is None:
            self._entries[key] = messages[0] if len(messages) == 1 else list(messages)
        elif isinstance(present, list):
            present.extend(messages)
        else:
            self._entries[key] = [present, *messages]

    def add_all(self, keys: list[str], messages: Sequence[Message]) -> None:
        """``add`` for many messages, in C-level passes when no key is seen twice."""
        # setdefault() stores each new key in one C-level pass; where it hands back
        # something else, the key was held already (or given twice) and goes one by one.
        present = list(map(self._entries.setdefault, keys, messages))
        if all(map(is_, present, messages)):
            return
        for key, message, held in zip(keys, messages, present, strict=True):
            if held is not message:
                self.add(key, message)

    def get(self, key: str) -> list[Message]:
        present = self._entries.get(key)
        if present is None:
            return []
        return present if isinstance(present, list) else [present]
