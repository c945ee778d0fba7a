"""What only the memory store does: it hands out the live objects it keeps, and its
indexes follow what is added after they were first used."""

from __future__ import annotations

import asyncio

from store_kinds import message

from mock_puresms.domain.ports import Recovered
from mock_puresms.domain.queries import MessageQuery
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.storage.memory import MemoryStore


def test_it_hands_out_the_messages_it_was_given_and_their_changes_need_no_save() -> None:
    async def main() -> None:
        store = MemoryStore()
        assert await store.open() == Recovered()
        sent = message("M1")
        await store.add_messages([sent])
        assert await store.get_message("M1") is sent
        sent.status = DeliveryStatus.DELIVERED
        page = await store.query_messages(MessageQuery("acc", status=DeliveryStatus.DELIVERED))
        assert page.items == [sent]

    asyncio.run(main())


def test_the_recipient_index_covers_messages_added_after_its_first_use() -> None:
    async def main() -> None:
        store = MemoryStore()
        await store.add_messages([message("M1", to="447700900001")])
        assert await store.latest_message("acc", "447700900002", "Acme") is None
        await store.add_messages([message("M2", to="447700900002"), message("M3")])
        await store.add_messages([message("M4", to="447700900002")])
        latest = await store.latest_message("acc", "447700900002", "Acme")
        assert latest is not None and latest.reference == "M4"
        page = await store.query_messages(MessageQuery("acc", to="447700900001"))
        assert [m.reference for m in page.items] == ["M3", "M1"]

    asyncio.run(main())


def test_one_send_spanning_batches_and_client_references_is_indexed_by_each() -> None:
    async def main() -> None:
        store = MemoryStore()
        await store.add_messages(
            [
                message("M1", batch_reference="B1", client_reference="c"),
                message("M2", batch_reference="B2"),
                message("M3", batch_reference="B1", client_reference="c"),
            ]
        )
        await store.add_messages([message("M4", batch_reference="B1")])
        assert [m.reference for m in await store.batch_messages("acc", "B1")] == ["M1", "M3", "M4"]
        assert [m.reference for m in await store.batch_messages("acc", "B2")] == ["M2"]
        page = await store.query_messages(MessageQuery("acc", client_reference="c"))
        assert [m.reference for m in page.items] == ["M3", "M1"]

    asyncio.run(main())


def test_retention_rebuilds_the_indexes_of_the_accounts_it_touched() -> None:
    async def main() -> None:
        store = MemoryStore()
        await store.add_messages(
            [message("M1", batch_reference="B", status=DeliveryStatus.DELIVERED, created_at=1)]
        )
        await store.add_messages([message("M2", batch_reference="B")])
        assert await store.prune(10, None) == 1
        assert [m.reference for m in await store.batch_messages("acc", "B")] == ["M2"]
        assert await store.latest_message("acc", "447700900001", "Acme") is not None

    asyncio.run(main())
