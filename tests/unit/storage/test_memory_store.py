"""What only the memory store does: it hands out the live objects it keeps, and its
indexes follow what is added after they were first used."""

from __future__ import annotations

import asyncio

from store_kinds import message

from mock_puresms.domain.ports import Recovered
from mock_puresms.domain.queries import MessageQuery
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.storage.memory import MemoryStore
from mock_puresms.storage.memory.ledger import BLOCK_SIZE
from mock_puresms.storage.memory.messages import SCAN_CHUNK


def test_it_hands_out_the_messages_it_was_given_and_counts_a_saved_status_change() -> None:
    async def main() -> None:
        store = MemoryStore()
        assert await store.open() == Recovered()
        sent = message("M1")
        await store.add_messages([sent])
        assert await store.get_message("M1") is sent
        sent.change_status(DeliveryStatus.DELIVERED, 2000)
        # The counts by status follow the save (ports.py: a change is saved), not the object.
        await store.save_messages([sent])
        page = await store.query_messages(MessageQuery("acc", status=DeliveryStatus.DELIVERED))
        assert page.items == [sent] and page.total_count == 1
        accepted = await store.query_messages(MessageQuery("acc", status=DeliveryStatus.ACCEPTED))
        assert accepted.items == [] and accepted.total_count == 0

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


class _Watched(list):  # type: ignore[type-arg]
    """A list that counts how many of its items a walk (iteration, reversed) handed out."""

    walked = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for item in super().__iter__():
            _Watched.walked += 1
            yield item

    def __reversed__(self):  # type: ignore[no-untyped-def]
        for item in super().__reversed__():
            _Watched.walked += 1
            yield item


def test_a_page_of_an_account_or_a_batch_does_not_walk_every_message() -> None:
    # Issue 16, defect 4: totalCount walked every match, so a list's time grew with the
    # account. A page now comes from a slice of the list (or index) and its length.
    async def main() -> None:
        store = MemoryStore()
        sent = [message(f"M{i}", batch_reference="B1") for i in range(5000)]
        await store.add_messages(sent)
        data = store._messages._accounts["acc"]  # the account's list and its batch index
        data.messages = _Watched(data.messages)
        data.by_batch._entries["B1"] = _Watched(data.by_batch._entries["B1"])
        _Watched.walked = 0
        for query in (
            MessageQuery("acc", page=2, page_size=100),
            MessageQuery("acc", batch_reference="B1", page=2, page_size=100),
        ):
            page = await store.query_messages(query)
            assert page.total_count == 5000
            assert [m.reference for m in page.items] == [f"M{i}" for i in range(4899, 4799, -1)]
        assert _Watched.walked <= 200
        last = await store.query_messages(MessageQuery("acc", page=50, page_size=101))
        assert [m.reference for m in last.items] == [f"M{i}" for i in range(50, -1, -1)]
        beyond = await store.query_messages(MessageQuery("acc", page=51, page_size=100))
        assert beyond.items == [] and beyond.total_count == 5000

    asyncio.run(main())


def test_a_filtered_scan_of_a_large_batch_lets_other_work_run_between_chunks() -> None:
    # Issue 16, defect 4: a batch with a status filter walks the batch (no index holds
    # both); it pauses every SCAN_CHUNK messages so that it cannot stall other requests.
    async def main() -> None:
        store = MemoryStore()
        await store.add_messages(
            [message(f"M{i}", batch_reference="B") for i in range(3 * SCAN_CHUNK + 5)]
        )
        turns = 0

        async def other_request() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        other = asyncio.create_task(other_request())
        await asyncio.sleep(0)
        before = turns
        page = await store.query_messages(
            MessageQuery("acc", batch_reference="B", status=DeliveryStatus.ACCEPTED)
        )
        during = turns - before
        other.cancel()
        assert page.total_count == 3 * SCAN_CHUNK + 5
        assert page.items[0].reference == f"M{3 * SCAN_CHUNK + 4}"
        assert during >= 3

    asyncio.run(main())


def test_messages_created_in_a_range_are_found_in_and_out_of_time_order() -> None:
    # In time order they are found by bisection; a clock that went back (a --db resumed
    # earlier) leaves them out of order, and the range must still be exact.
    async def main() -> None:
        store = MemoryStore()
        times = {"A": 10, "B": 20, "C": 20, "D": 30}
        await store.add_messages([message(r, created_at=t) for r, t in times.items()])
        found = await store.messages_created("acc", 20, 30)
        assert [m.reference for m in found] == ["B", "C"]
        await store.add_messages([message("E", created_at=15)])
        found = await store.messages_created("acc", 11, 21)
        assert [m.reference for m in found] == ["B", "C", "E"]
        assert await store.messages_created("nobody", 0, 99) == []

    asyncio.run(main())


def test_retention_lets_the_status_counts_shrink_with_the_messages() -> None:
    # A long run with --max-messages must not keep a block of counts per 128 messages it
    # ever held: emptied oldest blocks are dropped, and the lists stay right.
    async def main() -> None:
        store = MemoryStore()
        sent = [message(f"M{i}", created_at=i) for i in range(100 * BLOCK_SIZE)]
        await store.add_messages(sent)
        await store.add_messages([message("other", account_id="gone")])
        for one in sent:
            one.change_status(DeliveryStatus.DELIVERED, 10**6)
        await store.save_messages(sent)
        await store.reset("gone")
        assert await store.prune(None, 300) == len(sent) - 300
        ledger = store._messages._ledger
        assert len(ledger._blocks) <= 4 and set(ledger._scopes) == {None, "acc"}
        page = await store.query_messages(
            MessageQuery("acc", status=DeliveryStatus.DELIVERED, page=2, page_size=200)
        )
        assert page.total_count == 300
        assert [m.reference for m in page.items] == [f"M{i}" for i in range(12599, 12499, -1)]
        await store.add_messages([message("new")])
        accepted = await store.query_messages(MessageQuery(None, status=DeliveryStatus.ACCEPTED))
        assert [m.reference for m in accepted.items] == ["new"]

    asyncio.run(main())
