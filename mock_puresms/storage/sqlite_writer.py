"""One thread that owns the SQLite connection and commits writes in groups.

Each submitted write is one unit (a function of the connection) run inside its own
SAVEPOINT, so a failing unit rolls back alone; units that arrive while a commit is in
progress share the next transaction (group commit), which keeps many small writes from
each paying for a commit. The event loop only waits on a future: it never blocks on disk.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
Unit = Callable[[sqlite3.Connection], Any]

_STOP = object()
MAX_UNITS_PER_TRANSACTION = 512


def connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode, tuned for a single writer."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a process crash (SIGKILL); only an OS crash or power
    # loss can lose the last transactions, which is the trade a local mock wants.
    connection.execute("PRAGMA synchronous=NORMAL")
    # Checkpoint the WAL less often and cache more pages: a 15,000-message bulk insert
    # otherwise pays for a checkpoint inside its own commit.
    connection.execute("PRAGMA wal_autocheckpoint=10000")
    connection.execute("PRAGMA cache_size=-65536")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


class SqliteWriter:
    """Runs write units on a dedicated thread; ``await write(unit)`` returns its result."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._queue: queue.SimpleQueue[tuple[Unit, Future[Any]] | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="mock-puresms-sqlite", daemon=True)
        self._thread.start()

    async def write(self, unit: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``unit`` in a transaction on the writer thread; raises what it raised."""
        future: Future[T] = Future()
        self._queue.put((unit, future))
        return await asyncio.wrap_future(future)

    def write_blocking(self, unit: Callable[[sqlite3.Connection], T]) -> T:
        """The same, for callers outside the event loop (start-up, shutdown)."""
        future: Future[T] = Future()
        self._queue.put((unit, future))
        return future.result()

    def close(self) -> None:
        """Finish every queued write, then stop the thread and close the connection."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._connection.close()

    def _run(self) -> None:
        connection = self._connection
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_UNITS_PER_TRANSACTION:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._commit(connection, batch)  # type: ignore[arg-type]
            if stop:
                return

    @staticmethod
    def _commit(connection: sqlite3.Connection, batch: list[tuple[Unit, Future[Any]]]) -> None:
        outcomes: list[tuple[Future[Any], bool, Any]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for unit, future in batch:
                # A caller cancelled before its unit started (a task stopped at shutdown)
                # gets nothing written; once running, a unit can no longer be cancelled,
                # so setting its result below cannot fail and stop this thread.
                if not future.set_running_or_notify_cancel():
                    continue
                connection.execute("SAVEPOINT unit")
                try:
                    result = unit(connection)
                except BaseException as exc:  # the unit's own failure, reported to it
                    connection.execute("ROLLBACK TO unit")
                    connection.execute("RELEASE unit")
                    outcomes.append((future, False, exc))
                else:
                    connection.execute("RELEASE unit")
                    outcomes.append((future, True, result))
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
