"""The messages of a ``--db`` file, read back on a thread of their own after start-up.

A million messages take seconds to read and decode: the server answers before they
are all in memory (``SqliteStore.open``). A ``SendsReader`` reads the sends written
before start-up, oldest first, on its own read-only connection and one snapshot of the
file (writes made meanwhile are not seen: sends made since are added by the store, and
nothing else changes a message not yet loaded), decodes them (``SendDecoder``) and
hands them over in slices: the event loop adds a slice to memory in a millisecond or
two, and takes turns with requests between slices.

Decoding holds the interpreter, but never for long at a time: SQLite splits each send's
body into its fields (``json_each``, without the interpreter) and each is decoded alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mock_puresms.domain.messages import Message
from mock_puresms.storage.sqlite.decoding import SendDecoder

SLICE = 2048
"""Messages handed over at once: a slice is added to memory in about a millisecond."""
QUEUED_MOST = 8
"""Slices decoded ahead of the event loop at most: the reader never runs far ahead."""

# The state of the messages of one send that changed since, by position in the send
# (json_each's key), in order: the send's references, one index lookup each.
_STATE_OF_SEND = (
    "SELECT r.key, s.status, s.history, s.pending, s.next_due, s.reply_plan, s.cancelled "
    "FROM json_each(?) AS r JOIN message_state AS s ON s.reference = r.value ORDER BY r.key"
)


@dataclass(frozen=True, slots=True)
class Slice:
    """Messages of one send, in order, and those of them the simulation must resume."""

    messages: list[Message]
    in_flight: list[Message]


_DONE = object()


class SendsReader:
    """Reads the sends with ``seq <= top`` on a thread: ``take`` (blocking, before the
    server answers) or ``await next()`` each ``Slice``; ``None`` at the end."""

    def __init__(self, path: Path, top: int, slice_size: int = SLICE) -> None:
        self._path = path
        self._top = top
        self._slice_size = slice_size
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._room = threading.Semaphore(QUEUED_MOST)
        self._stopping = threading.Event()
        self._ready: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finished = False
        self._thread = threading.Thread(target=self._run, name="mock-puresms-load", daemon=True)
        self._thread.start()

    # -- the event loop's side ----------------------------------------------------------

    def take(self, timeout: float) -> Slice | Literal[False] | None:
        """The next slice, waiting up to ``timeout`` seconds (``False`` if none came,
        ``None`` at the end). Blocks: for start-up, before the server answers."""
        if self._finished:
            return None
        try:
            item = self._queue.get(timeout=max(timeout, 0))
        except queue.Empty:
            return False
        return self._handed(item)

    async def next(self) -> Slice | None:
        """The next slice (``None`` at the end), waiting without blocking the loop."""
        if self._finished:
            return None
        if self._ready is None:
            self._ready = asyncio.Event()
            self._loop = asyncio.get_running_loop()
        while True:
            # Cleared before looking: a slice put after the look wakes the wait below.
            self._ready.clear()
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                await self._ready.wait()
                continue
            return self._handed(item)

    def _handed(self, item: object) -> Slice | None:
        if item is _DONE:
            self._finished = True
            return None
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        self._room.release()
        assert isinstance(item, Slice)
        return item

    def close(self) -> None:
        """Stop reading (at once, or after the slice being decoded) and wait for it."""
        self._stopping.set()
        self._room.release()  # a reader waiting for room sees it is stopping
        self._thread.join()

    # -- the reader thread --------------------------------------------------------------

    def _put(self, item: object) -> None:
        self._queue.put(item)
        loop, ready = self._loop, self._ready
        if loop is not None and ready is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(ready.set)

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self._path, check_same_thread=False)
        except BaseException as error:  # handed to the event loop, raised there
            self._put(error)
            return
        try:
            self._read(connection)
        except BaseException as error:  # handed to the event loop, raised there
            self._put(error)
        else:
            self._put(_DONE)
        finally:
            connection.close()

    def _read(self, connection: sqlite3.Connection) -> None:
        connection.execute("PRAGMA query_only = ON")
        connection.execute("BEGIN")  # one snapshot of the file for the whole read
        has_state = connection.execute("SELECT EXISTS (SELECT 1 FROM message_state)").fetchone()[0]
        decoder = SendDecoder()
        sends = connection.execute(
            "SELECT account_id, body FROM sends WHERE seq <= ? ORDER BY seq", (self._top,)
        )
        for account_id, body in sends:
            if self._stopping.is_set():
                return
            columns = dict(connection.execute("SELECT key, value FROM json_each(?)", (body,)))
            changed = (
                connection.execute(_STATE_OF_SEND, (columns["reference"],)).fetchall()
                if has_state
                else []
            )
            messages = decoder.messages(account_id, columns, changed)
            for start in range(0, len(messages), self._slice_size):
                part = messages[start : start + self._slice_size]
                in_flight = [m for m in part if m.pending or m.reply_plan is not None]
                while not self._room.acquire(timeout=0.5):
                    if self._stopping.is_set():
                        return
                if self._stopping.is_set():
                    return
                self._put(Slice(part, in_flight))
        connection.execute("COMMIT")
