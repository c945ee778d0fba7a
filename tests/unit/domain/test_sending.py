"""MessageService on a memory store: sends all or nothing, credits, opt-outs, plans,
cancelling and status changes."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import re
from collections.abc import Sequence
from typing import Any

import pytest

from mock_puresms.domain.accounts import Account, Debit, InsufficientCredits
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.errors import Conflict, NotFound
from mock_puresms.domain.events import (
    Event,
    EventBus,
    MessagesCreated,
    StatusChanged,
    StatusesChanged,
)
from mock_puresms.domain.messages import CONNECT, V1, Message, build_message, build_messages
from mock_puresms.domain.queries import MessageQuery
from mock_puresms.domain.sending import Draft, MessageService, Outbound, OutboundSms, Plans
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.storage.memory import MemoryStore

NOW = 1_000_000
ENROUTE, DELIVERED = DeliveryStatus.ENROUTE, DeliveryStatus.DELIVERED


class Harness:
    """A service on a memory store, recording events and the drafts it planned."""

    def __init__(self, store: MemoryStore | None = None, plans: Plans | None = None) -> None:
        self.store = store or MemoryStore()
        self.events: list[Event] = []
        self.drafts: list[Draft] = []
        bus = EventBus()
        bus.subscribe(self.events.append)
        self.now = NOW
        self._plans = plans
        self.service = MessageService(self.store, bus, lambda: self.now, self.plan)

    def plan(self, draft: Draft) -> Plans:
        self.drafts.append(draft)
        return self._plans or Plans.nothing(len(draft.outbound))

    async def account(self, credits: int | None = None) -> Account:
        account = Account("acc", "acc", credits)
        await self.store.save_account(account)
        return account

    async def stored(self) -> list[Message]:
        return (await self.store.query_messages(MessageQuery(account_id=None))).items


def outbound(*phones: str, segments: int = 1) -> Outbound:
    return Outbound.of([OutboundSms(phone, "Acme", "Hi", "GSM", segments) for phone in phones])


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_send_stores_every_message_and_publishes_them_once() -> None:
    async def main() -> None:
        mock = Harness()
        account = await mock.account()
        sent = await mock.service.send(
            account, outbound("447700900001", "447700900002"), is_test=False, batch_reference="B1"
        )
        assert [m.to for m in sent] == ["447700900001", "447700900002"]
        assert all(m.status is DeliveryStatus.ACCEPTED and m.batch_reference == "B1" for m in sent)
        assert await mock.store.batch_messages("acc", "B1") == sent
        [created] = mock.events
        assert isinstance(created, MessagesCreated) and list(created.messages) == sent

    run(main())


def test_credits_are_debited_per_segment() -> None:
    async def main() -> None:
        mock = Harness()
        account = await mock.account(credits=10)
        await mock.service.send(
            account, outbound("447700900001", "447700900002", segments=3), is_test=False
        )
        assert account.credits == 4

    run(main())


def test_a_send_the_credits_cannot_cover_stores_nothing_and_takes_nothing() -> None:
    async def main() -> None:
        mock = Harness()
        account = await mock.account(credits=2)
        with pytest.raises(InsufficientCredits) as raised:
            await mock.service.send(
                account, outbound("447700900001", "447700900002", "447700900003"), is_test=False
            )
        assert (raised.value.needed, raised.value.balance) == (3, 2)
        assert account.credits == 2
        assert await mock.stored() == []
        assert mock.events == []

    run(main())


def test_test_mode_and_unlimited_accounts_cost_nothing() -> None:
    async def main() -> None:
        mock = Harness()
        limited = await mock.account(credits=0)
        await mock.service.send(limited, outbound("447700900001"), is_test=True)
        assert limited.credits == 0
        unlimited = Account("free", "free")
        await mock.store.save_account(unlimited)
        await mock.service.send(unlimited, outbound("447700900001", segments=5), is_test=False)
        assert unlimited.credits is None
        assert len(await mock.stored()) == 2

    run(main())


class FailingStore(MemoryStore):
    """A store whose message writes fail, as a full disk would."""

    def __init__(self) -> None:
        super().__init__()
        self.debits: list[Debit | None] = []

    async def add_messages(self, messages: Sequence[Message], debit: Debit | None = None) -> None:
        self.debits.append(debit)
        raise OSError("disk full")


def test_a_send_whose_write_fails_gives_the_credits_back_and_publishes_nothing() -> None:
    async def main() -> None:
        store = FailingStore()
        mock = Harness(store)
        account = await mock.account(credits=5)
        with pytest.raises(OSError):
            await mock.service.send(account, outbound("447700900001", segments=2), is_test=False)
        assert store.debits == [Debit("acc", 2, 3)]  # the balance the write would have stored
        assert account.credits == 5
        assert mock.events == []

    run(main())


def test_messages_to_opted_out_phones_are_skipped_and_free() -> None:
    async def main() -> None:
        mock = Harness()
        account = await mock.account(credits=10)
        stop = Contact("C1", "acc", "447700900002", None, None, None, {}, (), True, 0, 0)
        await mock.store.save_contacts([stop])
        sent = await mock.service.send(
            account, outbound("447700900001", "447700900002", segments=2), is_test=False
        )
        assert [m.status for m in sent] == [DeliveryStatus.ACCEPTED, DeliveryStatus.SKIPPED]
        assert [m.history[0].status for m in sent] == [
            DeliveryStatus.ACCEPTED,
            DeliveryStatus.SKIPPED,
        ]
        assert account.credits == 8
        assert mock.drafts[0].skipped == frozenset({1})
        created, skipped = mock.events
        assert isinstance(created, MessagesCreated)
        assert skipped == StatusChanged(sent[1], DeliveryStatus.SKIPPED, NOW)

    run(main())


def test_the_planners_plans_are_built_into_the_messages() -> None:
    async def main() -> None:
        steps = ((ENROUTE, 1000), (DELIVERED, 2000))
        plans = Plans([steps, ()], [NOW + 1000, None], [None, (500, "STOP")])
        mock = Harness(plans=plans)
        account = await mock.account()
        first, second = await mock.service.send(
            account, outbound("447700900001", "447700900002"), is_test=False
        )
        assert (first.pending, first.next_due, first.reply_plan) == (steps, NOW + 1000, None)
        assert (second.pending, second.next_due, second.reply_plan) == ((), None, (500, "STOP"))
        [draft] = mock.drafts
        assert (draft.status, draft.created_at, draft.is_test) == (
            DeliveryStatus.ACCEPTED,
            NOW,
            False,
        )

    run(main())


def test_a_future_send_is_scheduled_and_can_be_cancelled() -> None:
    async def main() -> None:
        mock = Harness()
        account = await mock.account()
        [message] = await mock.service.send(
            account, outbound("447700900001"), is_test=False, send_at=NOW + 60_000
        )
        assert message.status is DeliveryStatus.SCHEDULED
        mock.now += 5
        cancelled = await mock.service.cancel("acc", message.reference)
        assert cancelled is message and message.status is DeliveryStatus.DELETED
        assert message.history[-1] == (DeliveryStatus.DELETED, NOW + 5)
        with pytest.raises(Conflict):
            await mock.service.cancel("acc", message.reference)

    run(main())


def test_only_a_scheduled_message_of_ones_own_account_can_be_cancelled() -> None:
    async def main() -> None:
        mock = Harness()
        account = await mock.account()
        [accepted] = await mock.service.send(account, outbound("447700900001"), is_test=False)
        with pytest.raises(Conflict):
            await mock.service.cancel("acc", accepted.reference)
        with pytest.raises(NotFound):
            await mock.service.cancel("someone-else", accepted.reference)
        with pytest.raises(NotFound):
            await mock.service.cancel("acc", "M0000000000000000")
        assert accepted.status is DeliveryStatus.ACCEPTED

    run(main())


def test_cancelling_a_batch_cancels_its_scheduled_messages_only() -> None:
    async def main() -> None:
        mock = Harness()
        account = await mock.account()
        later = await mock.service.send(
            account,
            outbound("447700900001", "447700900002"),
            is_test=False,
            batch_reference="B",
            send_at=NOW + 1000,
        )
        await mock.service.change_status(later[1], DeliveryStatus.ACCEPTED, NOW)
        assert await mock.service.cancel_batch("acc", "B") == 1
        assert [m.status for m in later] == [DeliveryStatus.DELETED, DeliveryStatus.ACCEPTED]
        with pytest.raises(NotFound):
            await mock.service.cancel_batch("acc", "nope")

    run(main())


def test_changing_the_status_of_a_final_message_is_a_conflict() -> None:
    async def main() -> None:
        mock = Harness()
        account = await mock.account()
        [message] = await mock.service.send(account, outbound("447700900001"), is_test=False)
        await mock.service.change_status(message, DELIVERED, NOW + 1)
        with pytest.raises(Conflict):
            await mock.service.change_status(message, ENROUTE, NOW + 2)
        assert message.status is DELIVERED and len(message.history) == 2

    run(main())


def test_changing_a_status_drops_the_plan_and_publishes_a_receipt() -> None:
    async def main() -> None:
        steps = ((ENROUTE, 1000),)
        mock = Harness(plans=Plans([steps], [NOW + 1000], [None]))
        account = await mock.account()
        [message] = await mock.service.send(account, outbound("447700900001"), is_test=False)
        await mock.service.change_status(message, DeliveryStatus.UNDELIVERABLE, NOW + 7)
        assert (message.pending, message.next_due) == ((), None)
        assert mock.events[-1] == StatusChanged(message, DeliveryStatus.UNDELIVERABLE, NOW + 7)

    run(main())


def stored_messages(count: int, status: DeliveryStatus = DeliveryStatus.ACCEPTED) -> list[Message]:
    history = ((status, 0),)
    return build_messages(
        reference=[f"M{i}" for i in range(count)], account_id=["acc"] * count,
        to=["447700900001"] * count, sender=["Acme"] * count, content=["Hi"] * count,
        encoding=["GSM"] * count, segments=[1] * count, is_test=[False] * count,
        status=[status] * count, created_at=[0] * count, client_reference=[None] * count,
        batch_reference=[None] * count, receipt_url=[None] * count, send_at=[None] * count,
        history=[history] * count, pending=[()] * count, next_due=[None] * count,
        reply_plan=[None] * count, api=["v1"] * count, client_tag=[None] * count,
        cancelled=[False] * count,
    )  # fmt: skip


def test_advancing_statuses_moves_the_messages_that_are_not_final() -> None:
    async def main() -> None:
        mock = Harness()
        messages = stored_messages(3)
        messages[1].status = DELIVERED
        await mock.store.add_messages(messages)
        moved = await mock.service.advance_statuses(messages, ENROUTE, 50)
        assert list(moved) == [messages[0], messages[2]]
        assert [m.status for m in messages] == [ENROUTE, DELIVERED, ENROUTE]
        assert messages[0].history == ((DeliveryStatus.ACCEPTED, 0), (ENROUTE, 50))
        assert messages[1].history == ((DeliveryStatus.ACCEPTED, 0),)
        # Messages that shared one history tuple still share one.
        assert messages[0].history is messages[2].history
        [event] = mock.events
        assert event == StatusesChanged(moved, ENROUTE, 50)

    run(main())


def test_advancing_messages_that_are_all_final_publishes_nothing() -> None:
    async def main() -> None:
        mock = Harness()
        messages = stored_messages(2, DELIVERED)
        assert list(await mock.service.advance_statuses(messages, ENROUTE, 50)) == []
        assert mock.events == []

    run(main())


def test_messages_with_separate_histories_each_get_the_new_entry() -> None:
    async def main() -> None:
        mock = Harness()
        messages = stored_messages(2)
        messages[1].history = ((DeliveryStatus.SCHEDULED, 0), (DeliveryStatus.ACCEPTED, 3))
        await mock.service.advance_statuses(messages, ENROUTE, 9)
        assert messages[0].history[-1] == (ENROUTE, 9)
        assert messages[1].history == (
            (DeliveryStatus.SCHEDULED, 0), (DeliveryStatus.ACCEPTED, 3), (ENROUTE, 9),
        )  # fmt: skip

    run(main())


def test_build_messages_takes_the_columns_in_message_field_order() -> None:
    parameters = list(inspect.signature(build_messages).parameters)
    assert parameters == [f.name for f in dataclasses.fields(Message) if f.init]


def test_build_message_takes_the_same_values_in_the_same_order_as_build_messages() -> None:
    assert list(inspect.signature(build_message).parameters) == list(
        inspect.signature(build_messages).parameters
    )
    values = [f"value {f.name}" for f in dataclasses.fields(Message) if f.init]
    [plain] = build_messages(**{name: [value] for name, value in zip(_FIELDS, values, strict=True)})
    one = build_message(*values)
    assert [getattr(one, name) for name in _FIELDS] == [getattr(plain, n) for n in _FIELDS]


_FIELDS = [f.name for f in dataclasses.fields(Message) if f.init]
_SAME_IN_A_SEND = {"reference", "store_handle"}


@pytest.mark.parametrize("api", [V1, CONNECT])
@pytest.mark.parametrize("is_test", [False, True])
@pytest.mark.parametrize("send_at", [None, NOW + 60_000])
def test_a_single_send_makes_the_message_a_bulk_makes_of_the_same_item(
    api: str, is_test: bool, send_at: int | None
) -> None:
    """A single send builds its message from one value per field, a bulk from columns:
    every field but the reference comes out the same."""

    async def main() -> None:
        steps = ((ENROUTE, 1000), (DELIVERED, 2000))
        mock = Harness(plans=Plans([steps, steps], [NOW + 1000] * 2, [(500, "STOP")] * 2))
        account = await mock.account()
        item = OutboundSms(
            "447700900001", "".join(("Ac", "me")), "Hi é", "UCS2", 2, "client-1",
            "https://example.com/hook", "tag-1",
        )  # fmt: skip
        options: dict[str, Any] = {"is_test": is_test, "send_at": send_at, "api": api}
        bulk, _ = await mock.service.send(
            account, Outbound.of([item, item]), batch_reference="B1", **options
        )
        mock._plans = Plans([steps], [NOW + 1000], [(500, "STOP")])
        [single] = await mock.service.send(
            account, Outbound.of([item]), batch_reference="B1", **options
        )
        for field in dataclasses.fields(Message):
            if field.name not in _SAME_IN_A_SEND:
                assert getattr(single, field.name) == getattr(bulk, field.name), field.name
        assert single.store_handle is not None

    run(main())


@pytest.mark.parametrize("client_tag", [None, "tag-1"])
def test_one_items_columns_are_the_first_of_two_items_columns(client_tag: str | None) -> None:
    item = OutboundSms("447700900001", "Acme", "Hi", "GSM", 2, "ref", "https://e.com/h", client_tag)
    one, two = Outbound.of([item]), Outbound.of([item, item])
    for field in dataclasses.fields(Outbound):
        column, columns = getattr(one, field.name), getattr(two, field.name)
        assert column == (None if columns is None else columns[:1]), field.name


def test_messages_of_the_current_api_get_increasing_64_bit_ids_as_references() -> None:
    from mock_puresms.domain.messages import new_ids

    first = new_ids(3)
    later = new_ids(1)
    ids = [int(i) for i in first + later]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert all(i.isdigit() and len(i) in (18, 19) for i in first + later)
    assert max(ids) < 2**63


def test_senders_are_kept_as_one_string_per_value_across_sends() -> None:
    async def main() -> None:
        mock = Harness()
        account = await mock.account()
        # Each request (and each current-API bulk message) parses its own copy.
        names = ["".join(("Ac", "me")), "".join(("Ac", "me")), "".join(("Other", "Co"))]
        assert names[0] is not names[1]
        items = [
            OutboundSms(f"44770090000{i}", name, "Hi", "GSM", 1) for i, name in enumerate(names)
        ]
        bulk = await mock.service.send(account, Outbound.of(items), is_test=False)
        again = OutboundSms("447700900009", "".join(("Ac", "me")), "Hi", "GSM", 1)
        [single] = await mock.service.send(account, Outbound.of([again]), is_test=False)
        # The same values as sent, each value one object.
        assert [m.sender for m in [*bulk, single]] == ["Acme", "Acme", "OtherCo", "Acme"]
        assert bulk[0].sender is bulk[1].sender is single.sender

    run(main())


def test_a_large_send_pauses_before_storing_and_other_sends_wait_for_it() -> None:
    async def main() -> None:
        store = MemoryStore()
        account = Account("acc", "acc", None)
        await store.save_account(account)
        clock = [NOW]
        seen: list[str] = []

        async def pause() -> None:
            # Another request runs here: the bulk is built, not yet stored.
            seen.append(f"paused with {len(await store_items(store))} stored")
            clock[0] += 5
            await asyncio.sleep(0)

        service = MessageService(
            store, EventBus(), lambda: clock[0], lambda d: Plans.nothing(len(d.outbound)),
            pause=pause, pause_from=3,
        )  # fmt: skip
        bulk = asyncio.create_task(
            service.send(account, outbound("447700900001", "447700900002", "447700900003"),
                         is_test=False)
        )  # fmt: skip
        await asyncio.sleep(0)  # the bulk runs up to its pause
        single = asyncio.create_task(service.send(account, outbound("447700900004"), is_test=False))
        small = await service.send(account, outbound("447700900005", "447700900006"), is_test=False)
        bulk_messages, [one] = await bulk, await single
        assert seen == ["paused with 0 stored"]
        # Stored in the order of their creation times: the bulk first, as it was built.
        stored = await store_items(store)
        assert [m.to for m in stored][::-1][:3] == ["447700900001", "447700900002", "447700900003"]
        times = [m.created_at for m in stored][::-1]
        assert times == sorted(times) and bulk_messages[0].created_at == NOW
        assert one.created_at >= NOW + 5 and small[0].created_at >= NOW + 5

    run(main())


async def store_items(store: MemoryStore) -> list[Message]:
    return (await store.query_messages(MessageQuery(account_id=None))).items


def test_references_drawn_ahead_for_single_sends_are_like_a_bulk_s() -> None:
    # A single send takes a reference drawn ahead (a speed seam): held to the shape and
    # uniqueness of references drawn for a bulk, per prefix, across refills.
    from mock_puresms.domain.messages import new_references

    singles = [new_references("M", 1)[0] for _ in range(1_000)]
    others = [new_references("C", 1)[0] for _ in range(300)]
    bulk = new_references("M", 1_000)

    assert all(re.fullmatch(r"M[0-9A-F]{16}", reference) for reference in singles + bulk)
    assert all(re.fullmatch(r"C[0-9A-F]{16}", reference) for reference in others)
    assert len(set(singles + bulk + others)) == 2_300
