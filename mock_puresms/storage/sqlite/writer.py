"""One thread that owns the SQLite connection and commits writes in groups.

Each submitted write is one unit (a function of the connection) run inside its own
SAVEPOINT, so a failing unit rolls back alone; units that arrive while a commit is in
progress share the next transaction (group commit), which keeps many small writes from
each paying for a commit. The event loop only waits on a future: it never blocks on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
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


_Outcome = tuple["asyncio.Future[Any] | Future[Any]", bool, Any]
_Item = tuple[Unit, "asyncio.Future[Any] | Future[Any]", "asyncio.AbstractEventLoop | None"]


def _settle(outcomes: list[_Outcome]) -> None:
    """On the caller's event loop: hand each unit its result (skipping cancelled ones)."""
    for future, ok, value in outcomes:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class SqliteWriter:
    """Runs write units on a dedicated thread; ``await write(unit)`` returns its result.

    The callers of one transaction are woken by one callback on their event loop, not
    one each: a thread-safe call wakes the loop through a pipe, and under load a
    transaction serves dozens of callers.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._queue: queue.SimpleQueue[_Item | object] = queue.SimpleQueue()
        # Held while a transaction runs, by the writer thread or by an inline write.
        self._lock = threading.Lock()
        # Each counter is written by one thread only, so their difference is safe to read.
        self._submitted = 0  # by the event loop
        self._completed = 0  # by the writer thread
        self._thread = threading.Thread(target=self._run, name="mock-puresms-sqlite", daemon=True)
        self._thread.start()

    async def write(self, unit: Callable[[sqlite3.Connection], T], *, small: bool = False) -> T:
        """Run ``unit`` in a transaction on the writer thread; raises what it raised.

        A ``small`` unit (a row or a few) runs at once on the calling thread when the
        writer is idle: its commit costs less than the two thread switches, and with
        nothing queued or running it cannot overtake an earlier write.
        """
        if small and self._submitted == self._completed and self._lock.acquire(blocking=False):
            try:
                return self._inline(unit)
            finally:
                self._lock.release()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._submitted += 1
        self._queue.put((unit, future, loop))
        return await future

    def _inline(self, unit: Callable[[sqlite3.Connection], T]) -> T:
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = unit(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return result

    def write_blocking(self, unit: Callable[[sqlite3.Connection], T]) -> T:
        """The same, for callers outside the event loop (start-up, shutdown)."""
        future: Future[T] = Future()
        self._submitted += 1
        self._queue.put((unit, future, None))
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
            with self._lock:
                outcomes = self._commit(connection, batch)  # type: ignore[arg-type]
            self._completed += len(batch)
            self._deliver(outcomes)
            if stop:
                return

    @staticmethod
    def _started(future: asyncio.Future[Any] | Future[Any]) -> bool:
        """Whether the caller still waits: a unit whose caller was cancelled before it
        started (a task stopped at shutdown) is not written."""
        if isinstance(future, Future):
            return future.set_running_or_notify_cancel()
        return not future.cancelled()

    def _commit(
        self, connection: sqlite3.Connection, batch: list[_Item]
    ) -> list[tuple[_Outcome, asyncio.AbstractEventLoop | None]]:
        """Run the batch's units in one transaction.

        Units almost never fail, so they first run together with no savepoints (each
        would cost two more statements per unit); if one fails, that transaction is
        rolled back and every unit runs again in a transaction of its own, so a failing
        unit still fails alone.
        """
        live = [item for item in batch if self._started(item[1])]
        if not live:
            return []
        if len(live) > 1:
            try:
                connection.execute("BEGIN IMMEDIATE")
                results = [unit(connection) for unit, _, _ in live]
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
            else:
                return [
                    ((future, True, result), loop)
                    for (_, future, loop), result in zip(live, results, strict=True)
                ]
        return [self._alone(connection, item) for item in live]

    @staticmethod
    def _alone(
        connection: sqlite3.Connection, item: _Item
    ) -> tuple[_Outcome, asyncio.AbstractEventLoop | None]:
        unit, future, loop = item
        try:
            connection.execute("BEGIN IMMEDIATE")
            result = unit(connection)
            connection.execute("COMMIT")
        except BaseException as exc:  # the unit's own failure, reported to it
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            return (future, False, exc), loop
        return (future, True, result), loop

    @staticmethod
    def _deliver(outcomes: list[tuple[_Outcome, asyncio.AbstractEventLoop | None]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        for outcome, loop in outcomes:
            if loop is None:
                _settle_concurrent(outcome)
            else:
                by_loop.setdefault(loop, []).append(outcome)
        for loop, settled in by_loop.items():
            # A closed loop raises RuntimeError: nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, settled)


def _settle_concurrent(outcome: _Outcome) -> None:
    future, ok, value = outcome
    assert isinstance(future, Future)
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
