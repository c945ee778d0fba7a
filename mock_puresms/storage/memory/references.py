"""Messages by reference, as a dict would hold them, in segments that stop growing.

A Python dict grows by copying its whole table at once: at 699,050 entries a dict of
references takes 20 ms on an idle core to grow, and up to 90 ms beside a thread that
wants the interpreter too (a restart's background load), all that time holding the event
loop. ``References`` keeps the newest entries in a dict and seals it once it holds
``SEGMENT`` (a send may take it past that by its size); lookups try the newest segment
first, then the sealed ones, so no growth copies more than one segment. The order of
``values`` is the order of insertion, as a dict's; ``tests/unit/storage/test_references.py``
holds it to a dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Generic, TypeVar

V = TypeVar("V")

SEGMENT = 1 << 16
"""Entries of a segment: growing one copies at most a table of this size (a millisecond)."""

_MISSING = object()


class References(Generic[V]):
    """A mapping of unique keys (references) to values, in insertion order."""

    __slots__ = ("_current", "_sealed")

    def __init__(self) -> None:
        self._sealed: list[dict[str, V]] = []  # full segments, oldest first
        self._current: dict[str, V] = {}

    def __len__(self) -> int:
        return len(self._current) + sum(map(len, self._sealed))

    def __contains__(self, key: object) -> bool:
        return key in self._current or any(key in segment for segment in self._sealed)

    def get(self, key: str) -> V | None:
        value = self._current.get(key)
        if value is None and self._sealed:
            for segment in reversed(self._sealed):  # the newest messages are asked most
                value = segment.get(key)
                if value is not None:
                    return value
        return value

    def __setitem__(self, key: str, value: V) -> None:
        self._current[key] = value
        if len(self._current) >= SEGMENT:
            self._seal()

    def update(self, pairs: Iterable[tuple[str, V]]) -> None:
        """Add new keys (a send's references), in order."""
        self._current.update(pairs)
        if len(self._current) >= SEGMENT:
            self._seal()

    def _seal(self) -> None:
        self._sealed.append(self._current)
        self._current = {}

    def pop(self, key: str, default: V | None = None) -> V | None:
        value = self._current.pop(key, _MISSING)
        if value is not _MISSING:
            return value  # type: ignore[return-value]
        for index, segment in enumerate(self._sealed):
            value = segment.pop(key, _MISSING)
            if value is not _MISSING:
                if not segment:  # retention empties the oldest segments: they go
                    del self._sealed[index]
                return value  # type: ignore[return-value]
        return default

    def values(self) -> Iterator[V]:
        """Oldest first."""
        return chain.from_iterable(segment.values() for segment in (*self._sealed, self._current))
