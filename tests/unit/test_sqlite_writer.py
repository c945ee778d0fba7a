"""The SQLite writer thread: group commit, units that fail alone, shutdown, a free event loop."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mock_puresms.storage.sqlite.writer import MAX_UNITS_PER_TRANSACTION, SqliteWriter, connect


class Recorder:
    """A writer on a fresh file whose connection counts the transactions it commits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        connection = connect(path)
        connection.execute("CREATE TABLE rows (n INTEGER PRIMARY KEY, unit TEXT)")
        self.commits = 0
        connection.set_trace_callback(self._trace)
        self.writer = SqliteWriter(connection)
        self.gate = threading.Event()

    def _trace(self, statement: str) -> None:
        # Called on the writer thread only; the tests read it after the writes finish.
        if statement.strip().upper() == "COMMIT":
            self.commits += 1

    def hold(self) -> Callable[[sqlite3.Connection], None]:
        """A unit that keeps the writer thread busy until ``gate`` is set."""

        def unit(connection: sqlite3.Connection) -> None:
            if not self.gate.wait(10):
                raise TimeoutError("the test never opened the gate")

        return unit

    def rows(self) -> list[int]:
        with sqlite3.connect(self.path) as reader:
            return [n for (n,) in reader.execute("SELECT n FROM rows ORDER BY n")]


def insert(n: int, seen: list[int] | None = None) -> Callable[[sqlite3.Connection], int]:
    """A unit inserting row ``n``; returns ``n`` and, with ``seen``, records that it ran."""

    def unit(connection: sqlite3.Connection) -> int:
        connection.execute("INSERT INTO rows (n, unit) VALUES (?, 'insert')", (n,))
        if seen is not None:
            seen.append(n)
        return n

    return unit


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    made = Recorder(tmp_path / "writer.db")
    yield made
    made.gate.set()
    made.writer.close()


# ------------------------------------------------------------------------ group commit


def test_concurrent_writes_share_transactions(recorder: Recorder) -> None:
    count = 300
    ran: list[int] = []

    async def scenario() -> list[int]:
        held = asyncio.ensure_future(recorder.writer.write(recorder.hold()))
        await asyncio.sleep(0.05)  # the writer thread is now inside the held unit
        tasks = [asyncio.ensure_future(recorder.writer.write(insert(n, ran))) for n in range(count)]
        await asyncio.sleep(0)  # every write is queued behind the held one
        recorder.gate.set()
        await held
        return list(await asyncio.gather(*tasks))

    results = asyncio.run(scenario())

    assert results == list(range(count))
    assert ran == list(range(count))  # in submission order
    assert recorder.rows() == list(range(count))
    # One transaction for the held unit, then the 300 queued units together.
    assert recorder.commits == 2, f"{count} units took {recorder.commits - 1} transactions"


def test_a_transaction_holds_at_most_the_unit_limit(recorder: Recorder) -> None:
    count = MAX_UNITS_PER_TRANSACTION + 10

    async def scenario() -> None:
        held = asyncio.ensure_future(recorder.writer.write(recorder.hold()))
        await asyncio.sleep(0.05)
        tasks = [asyncio.ensure_future(recorder.writer.write(insert(n))) for n in range(count)]
        await asyncio.sleep(0)
        recorder.gate.set()
        await held
        await asyncio.gather(*tasks)

    asyncio.run(scenario())

    assert len(recorder.rows()) == count
    assert recorder.commits == 3  # the held unit, a full transaction, the 10 left over


def test_sequential_writes_each_commit_before_they_return(recorder: Recorder) -> None:
    async def scenario() -> None:
        for n in range(5):
            await recorder.writer.write(insert(n))
            # What a caller awaited is in the file, visible to another connection.
            assert recorder.rows() == list(range(n + 1))

    asyncio.run(scenario())

    assert recorder.commits == 5


# ------------------------------------------------------------------- failures stay alone


@pytest.mark.parametrize(
    "failure",
    [ValueError("the unit's own bug"), sqlite3.IntegrityError("UNIQUE constraint failed")],
    ids=["python-error", "sqlite-error"],
)
def test_a_failing_unit_rolls_back_alone_and_the_others_commit(
    recorder: Recorder, failure: Exception
) -> None:
    def failing(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO rows (n, unit) VALUES (100, 'failing')")
        connection.execute("INSERT INTO rows (n, unit) VALUES (101, 'failing')")
        raise failure

    async def scenario() -> list[object]:
        held = asyncio.ensure_future(recorder.writer.write(recorder.hold()))
        await asyncio.sleep(0.05)
        tasks = [
            asyncio.ensure_future(recorder.writer.write(insert(1))),
            asyncio.ensure_future(recorder.writer.write(failing)),
            asyncio.ensure_future(recorder.writer.write(insert(2))),
        ]
        await asyncio.sleep(0)
        recorder.gate.set()
        await held
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    first, second, third = asyncio.run(scenario())

    assert (first, third) == (1, 2)
    assert second is failure  # the caller gets its own exception back
    assert recorder.rows() == [1, 2]  # neither row of the failing unit is kept
    # The shared transaction was rolled back and each unit ran again alone: the held
    # unit's commit, then one for each unit that succeeded.
    assert recorder.commits == 3


def test_a_real_constraint_violation_rolls_back_only_its_unit(recorder: Recorder) -> None:
    def duplicate(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO rows (n, unit) VALUES (50, 'duplicate')")
        connection.execute("INSERT INTO rows (n, unit) VALUES (1, 'duplicate')")  # taken

    async def scenario() -> list[object]:
        held = asyncio.ensure_future(recorder.writer.write(recorder.hold()))
        await asyncio.sleep(0.05)
        tasks = [
            asyncio.ensure_future(recorder.writer.write(unit))
            for unit in (insert(1), duplicate, insert(2))
        ]
        await asyncio.sleep(0)
        recorder.gate.set()
        await held
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    first, second, third = asyncio.run(scenario())

    assert (first, third) == (1, 2)
    assert isinstance(second, sqlite3.IntegrityError)
    assert recorder.rows() == [1, 2]
    # The writer carries on after it: a later write commits normally.
    asyncio.run(recorder.writer.write(insert(3)))
    assert recorder.rows() == [1, 2, 3]


def test_write_blocking_returns_the_result_and_raises_the_error(recorder: Recorder) -> None:
    assert recorder.writer.write_blocking(insert(7)) == 7

    with pytest.raises(sqlite3.IntegrityError):
        recorder.writer.write_blocking(insert(7))

    assert recorder.rows() == [7]


# ------------------------------------------------------------------ cancelled callers


def test_a_write_cancelled_before_it_runs_is_skipped_and_the_writer_carries_on(
    recorder: Recorder,
) -> None:
    async def scenario() -> None:
        held = asyncio.ensure_future(recorder.writer.write(recorder.hold()))
        await asyncio.sleep(0.05)
        cancelled = asyncio.ensure_future(recorder.writer.write(insert(1)))
        kept = asyncio.ensure_future(recorder.writer.write(insert(2)))
        await asyncio.sleep(0)
        cancelled.cancel()  # e.g. a task stopped at shutdown while its write was queued
        await asyncio.sleep(0.01)  # the cancellation reaches the writer's future
        recorder.gate.set()
        await held
        assert await kept == 2
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        # The writer thread is still serving.
        assert await asyncio.wait_for(recorder.writer.write(insert(3)), 5) == 3

    asyncio.run(scenario())

    assert recorder.rows() == [2, 3]


def test_a_write_cancelled_while_it_runs_commits_and_the_writer_carries_on(
    recorder: Recorder,
) -> None:
    running = threading.Event()

    def slow_insert(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO rows (n, unit) VALUES (1, 'slow')")
        running.set()
        if not recorder.gate.wait(10):
            raise TimeoutError("the test never opened the gate")

    async def scenario() -> None:
        writing = asyncio.ensure_future(recorder.writer.write(slow_insert))
        assert await asyncio.to_thread(running.wait, 5)
        writing.cancel()
        await asyncio.sleep(0.01)  # the cancellation reaches the writer's future
        recorder.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await writing
        assert await asyncio.wait_for(recorder.writer.write(insert(2)), 5) == 2

    asyncio.run(scenario())

    assert recorder.rows() == [1, 2]


# --------------------------------------------------------------------------- shutdown


def test_close_finishes_every_queued_write(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "closing.db")
    count = 2_000

    async def scenario() -> list[int]:
        held = asyncio.ensure_future(recorder.writer.write(recorder.hold()))
        await asyncio.sleep(0.05)
        tasks = [asyncio.ensure_future(recorder.writer.write(insert(n))) for n in range(count)]
        await asyncio.sleep(0)
        recorder.gate.set()
        recorder.writer.close()  # blocks until the queue is drained and the thread ends
        await held
        return list(await asyncio.gather(*tasks))

    results = asyncio.run(scenario())

    assert results == list(range(count))
    assert recorder.rows() == list(range(count))
    with pytest.raises(sqlite3.ProgrammingError):  # the connection is closed
        recorder.writer._connection.execute("SELECT 1")


def test_close_twice_is_harmless(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "twice.db")
    recorder.writer.write_blocking(insert(1))

    recorder.writer.close()
    recorder.writer.close()

    assert recorder.rows() == [1]


# ------------------------------------------------------------------ the event loop runs


def _max_tick_gap(work: Callable[[], asyncio.Future[object]], tick: float = 0.005) -> float:
    """Run ``work`` while a ``call_later`` ticker ticks; the longest gap between ticks."""

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        ticks: list[float] = [time.perf_counter()]
        done = False

        def ticker() -> None:
            ticks.append(time.perf_counter())
            if not done:
                loop.call_later(tick, ticker)

        loop.call_later(tick, ticker)
        await work()
        done = True
        await asyncio.sleep(2 * tick)
        return max(b - a for a, b in itertools.pairwise(ticks))

    return asyncio.run(scenario())


def test_a_slow_unit_does_not_block_the_event_loop(recorder: Recorder) -> None:
    def slow(connection: sqlite3.Connection) -> None:
        time.sleep(0.4)  # stands for a slow disk: the writer thread waits, not the loop

    gap = _max_tick_gap(lambda: asyncio.ensure_future(recorder.writer.write(slow)))

    assert gap < 0.1, f"the event loop stood still for {gap * 1000:.0f} ms"


def test_a_big_insert_does_not_block_the_event_loop(recorder: Recorder) -> None:
    rows = [(n, "x" * 200) for n in range(50_000)]

    def bulk(connection: sqlite3.Connection) -> None:
        connection.executemany("INSERT INTO rows (n, unit) VALUES (?, ?)", rows)

    started_at = time.perf_counter()
    gap = _max_tick_gap(lambda: asyncio.ensure_future(recorder.writer.write(bulk)))
    took = time.perf_counter() - started_at

    assert len(recorder.rows()) == 50_000
    # SQLite releases the GIL while it steps, so the loop keeps getting turns; allow for
    # a loaded machine, but far less than the write itself would block a loop doing it.
    assert gap < 0.1, f"the event loop stood still for {gap * 1000:.0f} ms of {took:.2f} s"
