"""Issue 16, defect 4: lists filtered by status, test flag and API are answered from
counts kept as messages change. Whatever happened (sends across accounts, status
changes, retention, a reset, a restart on SQLite), every such list and its totalCount
must be what filtering every message one by one gives."""

from __future__ import annotations

import random
from itertools import product

from store_kinds import Stores, message

from mock_puresms.domain.messages import CONNECT, V1, HistoryEntry, Message
from mock_puresms.domain.ports import Store
from mock_puresms.domain.queries import MessageQuery
from mock_puresms.domain.statuses import FINAL_STATUSES, DeliveryStatus
from mock_puresms.storage.memory.ledger import BLOCK_SIZE

ACCEPTED = DeliveryStatus.ACCEPTED


def _send(rng: random.Random, serial: int, account_id: str, count: int) -> list[Message]:
    """One send's messages, sharing their values and first history tuple as the domain
    makes them (the ledger counts such a send in one step); some sends have one
    message of another status and copies of the shared values (counted one by one)."""
    is_test, api = rng.random() < 0.3, rng.choice((V1, CONNECT))
    status = DeliveryStatus.SCHEDULED if rng.random() < 0.2 else ACCEPTED
    history = (HistoryEntry(status, 1000 + serial),)
    sent = [
        message(
            f"M{serial + i}", account_id=account_id, is_test=is_test, api=api,
            status=status, created_at=1000 + serial, history=history,
        )
        for i in range(count)
    ]  # fmt: skip
    if count > 1 and rng.random() < 0.3:
        odd = sent[rng.randrange(count)]
        odd.status = DeliveryStatus.SKIPPED
        odd.history = (HistoryEntry(DeliveryStatus.SKIPPED, 1000 + serial),)
        odd.account_id = "".join(account_id)  # equal, not the same object
    return sent


async def _expect_lists_match(store: Store, held: list[Message]) -> None:
    newest_first = held[::-1]
    statuses: list[DeliveryStatus | None] = [None, *DeliveryStatus]
    for account_id, status, is_test, api in product(
        (None, "a", "b"), statuses, (None, True, False), (None, V1, CONNECT)
    ):
        if is_test is not None and api is not None and status is None:
            continue  # enough combinations without every triple
        expected = [
            m.reference
            for m in newest_first
            if (account_id is None or m.account_id == account_id)
            and (status is None or m.status == status)
            and (is_test is None or m.is_test == is_test)
            and (api is None or m.api == api)
        ]
        for page, size in ((1, 100), (2, 7), (3, 150)):
            query = MessageQuery(
                account_id, status=status, is_test=is_test, api=api, page=page, page_size=size
            )
            got = await store.query_messages(query)
            want = expected[(page - 1) * size : page * size]
            assert [m.reference for m in got.items] == want, query
            assert got.total_count == len(expected), query


def test_filtered_lists_and_counts_follow_every_change(stores: Stores) -> None:
    rng = random.Random(16)

    async def body(store: Store) -> None:
        held: list[Message] = []
        serial = 0
        for round_ in range(12):
            for _ in range(4):
                # Sends of every size: within a block, across blocks, a single one.
                count = rng.choice((1, 3, BLOCK_SIZE - 1, BLOCK_SIZE + 5))
                sent = _send(rng, serial, rng.choice("ab"), count)
                serial += count
                await store.add_messages(sent)
                held.extend(sent)
            # The simulation's way: statuses changed in place, then saved, one by one
            # and in groups.
            live = [m for m in held if m.status not in FINAL_STATUSES]
            for group in (rng.sample(live, min(len(live), 150)), rng.sample(live, 3)):
                status = rng.choice(list(DeliveryStatus))
                moved = [m for m in group if m.status not in FINAL_STATUSES]
                for one in moved:
                    one.change_status(status, 5000 + round_)
                await store.save_messages(moved)
            # The engine's way: a send's messages that moved together share one history
            # tuple and move to the next one at once.
            together = [m for m in sent if m.history is sent[0].history and not m.is_final]
            if together:
                entry = HistoryEntry(DeliveryStatus.ENROUTE, 6000 + round_)
                history = (*together[0].history, entry)
                for one in together:
                    one.status, one.history = DeliveryStatus.ENROUTE, history
                await store.save_messages(together)
            if round_ == 5:
                await store.prune(None, len(held) - 200)
                held = [m for m in held if await store.get_message(m.reference) is not None]
            if round_ == 8:
                await store.reset("b")
                held = [m for m in held if m.account_id != "b"]
        # Read back from the file after a restart: the counts are rebuilt from it.
        store = await stores.restart(store)
        await _expect_lists_match(store, [await _fresh(store, m) for m in held])

    stores.run(body)


async def _fresh(store: Store, held: Message) -> Message:
    got = await store.get_message(held.reference)
    assert got is not None
    assert got.status == held.status
    return got
