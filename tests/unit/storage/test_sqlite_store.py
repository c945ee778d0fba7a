"""What only the SQLite store does: it writes to its file before changing its memory,
and ``open`` hands back what a restart must resume."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from store_kinds import message

from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.messages import HistoryEntry
from mock_puresms.domain.ports import Recovered
from mock_puresms.domain.queries import MessageQuery
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.storage.sqlite import SqliteStore
from mock_puresms.storage.sqlite.loading import SendsReader

ENROUTE, SKIPPED = DeliveryStatus.ENROUTE, DeliveryStatus.SKIPPED


def test_a_restart_hands_back_the_clock_plans_owed_receipts_and_deliveries(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mock.db"
    planned = message("M1", pending=((ENROUTE, 100),), next_due=1100)
    replying = message("M2", status=DeliveryStatus.DELIVERED, reply_plan=(5, "STOP"))
    skipped = message("M3", status=SKIPPED)
    moved = message("M4")
    delivered = Delivery("D1", "acc", "https://r.test/", "receipts", b"[]", 1, ("M9",))
    pending = Delivery("D2", "acc", "https://r.test/", "receipts", b"[]", 2, ("M3",))

    async def before() -> None:
        store = SqliteStore(path)
        await store.open()
        await store.save_clock(4242)
        await store.add_messages([planned, replying, skipped])
        await store.add_messages([moved])
        moved.status = ENROUTE
        moved.history = (*moved.history, HistoryEntry(ENROUTE, 1200))
        await store.save_messages([moved])
        await store.save_deliveries([delivered, pending])
        delivered.state = "delivered"
        # D1 was made from M4's new receipt: it is no longer owed.
        await store.save_deliveries([delivered], [("M4", 1)])
        await store.close()

    async def after() -> None:
        store = SqliteStore(path)
        recovered = await store.open()
        try:
            assert recovered.clock == 4242
            assert sorted(m.reference for m in recovered.in_flight) == ["M1", "M2"]
            assert [(m.reference, at) for m, at in recovered.receipts] == [("M3", 0)]
            assert [(d.id, d.state) for d in recovered.deliveries] == [
                ("D1", "delivered"),
                ("D2", "pending"),
            ]
            again = await store.get_message("M4")
            assert again is not None and again.status is ENROUTE
            # The receipts handed back are of the very messages the store now serves.
            assert recovered.receipts[0][0] is await store.get_message("M3")
        finally:
            await store.close()

    asyncio.run(before())
    asyncio.run(after())


def test_a_write_the_file_refuses_leaves_memory_unchanged(tmp_path: Path) -> None:
    first = Reply("R1", "acc", "447700900001", "Acme", "yes", 10)

    async def main() -> None:
        store = SqliteStore(tmp_path / "mock.db")
        await store.open()
        try:
            await store.add_reply(first)
            with pytest.raises(sqlite3.IntegrityError):  # the same reference twice
                await store.add_reply(Reply("R1", "acc", "447700900002", "Acme", "no", 20))
            assert await store.get_reply("R1") == first
        finally:
            await store.close()

    asyncio.run(main())


def test_nothing_is_written_before_the_store_is_opened(tmp_path: Path) -> None:
    async def main() -> None:
        store = SqliteStore(tmp_path / "mock.db")
        try:
            with pytest.raises(RuntimeError, match="not open"):
                await store.add_messages([message("M1")])
            assert await store.get_message("M1") is None
        finally:
            await store.close()

    asyncio.run(main())


def test_the_api_client_tags_and_a_cancel_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "mock.db"
    tagged = [
        message("362902582244425728", api="connect", client_tag="promo"),
        message("362902582244425729", api="connect", client_tag=None),
    ]
    plain = message("M1")
    cancelled = message("M2", status=DeliveryStatus.SCHEDULED)

    async def before() -> None:
        store = SqliteStore(path)
        await store.open()
        await store.add_messages(tagged)
        await store.add_messages([plain, cancelled])
        cancelled.cancelled = True
        cancelled.status = DeliveryStatus.DELETED
        await store.save_messages([cancelled])
        await store.close()

    async def after() -> None:
        store = SqliteStore(path)
        await store.open()
        try:
            found = [await store.get_message(m.reference) for m in (*tagged, plain, cancelled)]
            assert [(m.api, m.client_tag, m.cancelled) for m in found if m is not None] == [
                ("connect", "promo", False),
                ("connect", None, False),
                ("v1", None, False),
                ("v1", None, True),
            ]
        finally:
            await store.close()

    asyncio.run(before())
    asyncio.run(after())


async def _drain(store: SqliteStore, rest: AsyncIterator[Recovered]) -> list[Recovered]:
    return [part async for part in rest]


def test_the_background_load_resumes_plans_and_receipts_and_sends_join_after_it(
    tmp_path: Path,
) -> None:
    """Opened with everything left to the background (a message a slice): the parts
    hand over every plan and owed receipt; a send made meanwhile, and its status change,
    wait for the loaded messages and come after them, counted right."""
    path = tmp_path / "mock.db"
    planned = message("M1", pending=((ENROUTE, 100),), next_due=1100, created_at=1)
    skipped = message("M2", status=SKIPPED, created_at=2)
    plain = [message(f"M{i}", created_at=i) for i in range(3, 8)]

    async def before() -> None:
        store = SqliteStore(path)
        await store.open()
        await store.add_messages([planned, skipped])
        await store.add_messages(plain)
        await store.close()

    async def during() -> None:
        store = SqliteStore(path, eager_seconds=0, slice_size=1)
        recovered = await store.open()
        assert recovered.rest is not None and store.loading
        assert (recovered.in_flight, recovered.receipts, recovered.loaded) == ([], [], 0)
        loading = asyncio.create_task(_drain(store, recovered.rest))
        new = message("N1", created_at=100)
        await store.add_messages([new])  # written at once, in memory after the load
        new.status = ENROUTE
        new.history = (*new.history, HistoryEntry(ENROUTE, 101))
        await store.save_messages([new])
        assert store.loading  # still loading: the list below waits
        page = await store.query_messages(MessageQuery("acc", page_size=3))
        assert not store.loading  # the owed receipts may still be on their way
        assert [m.reference for m in page.items] == ["N1", "M7", "M6"]
        assert page.total_count == 8
        enroute = await store.query_messages(MessageQuery("acc", status=ENROUTE))
        assert [m.reference for m in enroute.items] == ["N1"]
        parts = await loading
        assert sum(part.loaded for part in parts) == 7
        assert [m.reference for part in parts for m in part.in_flight] == ["M1"]
        assert [(m.reference, at) for part in parts for m, at in part.receipts] == [("M2", 0)]
        await store.close()

    async def after() -> None:
        store = SqliteStore(path)
        await store.open()
        page = await store.query_messages(MessageQuery("acc", page_size=20))
        assert [m.reference for m in page.items] == ["N1", *(f"M{i}" for i in range(7, 0, -1))]
        await store.close()

    asyncio.run(before())
    asyncio.run(during())
    asyncio.run(after())


def test_closing_while_loading_stops_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "mock.db"

    async def before() -> None:
        store = SqliteStore(path)
        await store.open()
        for i in range(50):
            await store.add_messages([message(f"M{i}")])
        await store.close()

    async def during() -> None:
        store = SqliteStore(path, eager_seconds=0, slice_size=1)
        recovered = await store.open()
        assert recovered.rest is not None
        loading = asyncio.create_task(_drain(store, recovered.rest))
        await asyncio.sleep(0)
        loading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loading
        assert not store.loading  # what waited answers from what is loaded
        await store.close()
        names = [thread.name for thread in threading.enumerate()]
        assert "mock-puresms-load" not in names

    asyncio.run(before())
    asyncio.run(during())


def test_a_send_made_while_a_failing_load_runs_is_still_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader fails half-way (a broken file, say): reads then answer from what was
    loaded, and a send acknowledged during the load is among it, not only in the file."""
    path = tmp_path / "mock.db"

    async def before() -> None:
        store = SqliteStore(path)
        await store.open()
        for i in range(3):
            await store.add_messages([message(f"M{i}", created_at=i)])
        await store.close()

    def failing_read(self: SendsReader, connection: sqlite3.Connection) -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    async def during() -> None:
        monkeypatch.setattr(SendsReader, "_read", failing_read)
        store = SqliteStore(path, eager_seconds=0, slice_size=1)
        recovered = await store.open()
        assert recovered.rest is not None and store.loading
        await store.add_messages([message("N1", created_at=100)])
        with pytest.raises(sqlite3.DatabaseError):
            await _drain(store, recovered.rest)
        assert not store.loading
        page = await store.query_messages(MessageQuery("acc", page_size=10))
        assert [m.reference for m in page.items] == ["N1"]
        assert await store.get_message("N1") is not None
        await store.close()

    asyncio.run(before())
    asyncio.run(during())
