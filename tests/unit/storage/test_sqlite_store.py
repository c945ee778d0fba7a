"""What only the SQLite store does: it writes to its file before changing its memory,
and ``open`` hands back what a restart must resume."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from store_kinds import message

from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.messages import HistoryEntry
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.storage.sqlite import SqliteStore

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
