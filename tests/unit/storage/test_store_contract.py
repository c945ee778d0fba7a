"""What every store does alike, run on the memory store, on SQLite, and on SQLite read
back after a restart."""

from __future__ import annotations

from store_kinds import Stores, message, state

from mock_puresms.domain.accounts import Account, Debit, WebhookSettings
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.groups import Group
from mock_puresms.domain.messages import HistoryEntry
from mock_puresms.domain.ports import Store
from mock_puresms.domain.queries import ContactQuery, GroupQuery, MessageQuery, ReplyQuery
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.tokens import AccessToken

DELIVERED, ENROUTE = DeliveryStatus.DELIVERED, DeliveryStatus.ENROUTE


def contact(contact_id: str, phone: str, account_id: str = "acc", **fields: object) -> Contact:
    values: dict[str, object] = {
        "first_name": None, "last_name": None, "email": None, "custom": {}, "group_ids": (),
        "opted_out": False, "created_at": 1, "updated_at": 1, **fields,
    }  # fmt: skip
    return Contact(contact_id, account_id, phone, **values)  # type: ignore[arg-type]


def reply(reference: str, received_at: int, **fields: object) -> Reply:
    values: dict[str, object] = {
        "account_id": "acc", "from_": "447700900001", "to": "Acme", "content": "yes",
        "received_at": received_at, **fields,
    }  # fmt: skip
    return Reply(reference, **values)  # type: ignore[arg-type]


def test_messages_are_read_back_as_they_were_added(stores: Stores) -> None:
    one = message(
        "M1", client_reference="c1", batch_reference="B1", receipt_url="https://r.test/",
        send_at=5000, pending=((ENROUTE, 100),), next_due=1100, reply_plan=(10, "STOP"),
    )  # fmt: skip
    bulk = [message(f"M{i}", batch_reference="B2") for i in range(2, 5)]

    async def body(store: Store) -> None:
        await store.add_messages([one])
        await store.add_messages(bulk)
        store = await stores.restart(store)
        assert state(await store.get_message("M1")) == state(one)
        assert [state(m) for m in await store.batch_messages("acc", "B2")] == list(map(state, bulk))
        assert await store.get_message("M9") is None

    stores.run(body)


def test_a_saved_change_of_state_is_what_is_read_back(stores: Stores) -> None:
    first = message("M1", pending=((ENROUTE, 100),), next_due=1100)

    async def body(store: Store) -> None:
        await store.add_messages([first])
        first.status = ENROUTE
        first.history = (*first.history, HistoryEntry(ENROUTE, 1100))
        first.pending, first.next_due = (), None
        await store.save_messages([first])
        store = await stores.restart(store)
        assert state(await store.get_message("M1")) == state(first)

    stores.run(body)


def test_message_lists_are_newest_first_and_paged(stores: Stores) -> None:
    messages = [message(f"M{i}", created_at=1000 + i) for i in range(5)]

    async def body(store: Store) -> None:
        await store.add_messages(messages[:2])
        await store.add_messages(messages[2:])
        store = await stores.restart(store)
        page = await store.query_messages(MessageQuery("acc", page=2, page_size=2))
        assert [m.reference for m in page.items] == ["M2", "M1"]
        assert (page.page, page.page_size, page.total_count) == (2, 2, 5)
        last = await store.query_messages(MessageQuery("acc", page=3, page_size=2))
        assert [m.reference for m in last.items] == ["M0"]

    stores.run(body)


def test_message_lists_filter_on_every_field_they_offer(stores: Stores) -> None:
    messages = [
        message("M1", batch_reference="B1", client_reference="c1", to="447700900001"),
        message("M2", batch_reference="B1", client_reference="c2", to="447700900002",
                status=DELIVERED),
        message("M3", client_reference="c1", to="447700900001", is_test=True),
        message("M4", account_id="other", to="447700900001"),
    ]  # fmt: skip

    async def body(store: Store) -> None:
        await store.add_messages(messages[:3])
        await store.add_messages(messages[3:])
        store = await stores.restart(store)

        async def refs(**filters: object) -> list[str]:
            query = MessageQuery(**{"account_id": "acc", **filters})  # type: ignore[arg-type]
            return [m.reference for m in (await store.query_messages(query)).items]

        assert await refs() == ["M3", "M2", "M1"]
        assert await refs(batch_reference="B1") == ["M2", "M1"]
        assert await refs(client_reference="c1") == ["M3", "M1"]
        assert await refs(to="447700900001") == ["M3", "M1"]
        assert await refs(status=DELIVERED) == ["M2"]
        assert await refs(is_test=True) == ["M3"]
        assert await refs(to="447700900001", is_test=False) == ["M1"]
        assert await refs(batch_reference="nope") == []
        assert await refs(account_id=None) == ["M4", "M3", "M2", "M1"]
        assert await refs(account_id="nobody") == []

    stores.run(body)


def test_a_batch_is_summarised_by_status(stores: Stores) -> None:
    messages = [
        message("M1", batch_reference="B", created_at=7),
        message("M2", batch_reference="B", created_at=7, status=DELIVERED),
        message("M3", batch_reference="B", created_at=7, status=DELIVERED),
    ]

    async def body(store: Store) -> None:
        await store.add_messages(messages)
        store = await stores.restart(store)
        summary = await store.batch_summary("acc", "B")
        assert summary is not None
        assert (summary.count, summary.created_at) == (3, 7)
        assert summary.status_counts == {"Accepted": 1, "Delivered": 2}
        assert await store.batch_summary("acc", "nope") is None
        assert await store.batch_summary("other", "B") is None

    stores.run(body)


def test_the_latest_message_to_a_phone_is_found_per_account_and_across(stores: Stores) -> None:
    async def body(store: Store) -> None:
        await store.add_messages([message("M1", created_at=1), message("M2", sender="Other")])
        await store.add_messages([message("M3", created_at=5, account_id="b")])
        await store.add_messages([message("M4", created_at=3)])
        store = await stores.restart(store)
        latest = await store.latest_message("acc", "447700900001", "Acme")
        assert latest is not None and latest.reference == "M4"
        assert await store.latest_message("acc", "447700900009", "Acme") is None
        assert await store.latest_sender_account("447700900001", "Acme") == "b"
        assert await store.latest_sender_account("447700900001", "Nobody") is None

    stores.run(body)


def test_replies_are_listed_newest_first_with_filters(stores: Stores) -> None:
    replies = [
        reply("R1", 10, in_reply_to="M1"),
        reply("R2", 20, from_="447700900002"),
        reply("R3", 30, in_reply_to="M1"),
        reply("R4", 40, account_id="other"),
    ]

    async def body(store: Store) -> None:
        for each in replies:
            await store.add_reply(each)
        store = await stores.restart(store)
        assert await store.get_reply("R2") == replies[1]

        async def refs(**filters: object) -> list[str]:
            query = ReplyQuery(**{"account_id": "acc", **filters})  # type: ignore[arg-type]
            return [r.reference for r in (await store.query_replies(query)).items]

        assert await refs() == ["R3", "R2", "R1"]
        assert await refs(in_reply_to="M1") == ["R3", "R1"]
        assert await refs(from_="447700900002") == ["R2"]
        assert await refs(since=20) == ["R3", "R2"]

    stores.run(body)


def test_contacts_are_found_by_id_phone_and_search(stores: Stores) -> None:
    ann = contact("C1", "447700900001", first_name="Ann", email="ann@example.test")
    bob = contact("C2", "447700900002", last_name="Bobson", opted_out=True)

    async def body(store: Store) -> None:
        await store.save_contacts([ann, bob, contact("C3", "447700900001", account_id="x")])
        store = await stores.restart(store)
        assert await store.get_contact("acc", "C1") == ann
        assert await store.get_contact("other", "C1") is None
        assert await store.get_contacts("acc", ["C2", "C9"]) == {"C2": bob}
        assert await store.contacts_by_phone("acc", ["447700900001"]) == {"447700900001": ann}
        assert await store.opted_out("acc", ["447700900001", "447700900002"]) == {"447700900002"}

        async def ids(**filters: object) -> list[str]:
            query = ContactQuery(**{"account_id": "acc", **filters})  # type: ignore[arg-type]
            return [c.id for c in (await store.query_contacts(query)).items]

        assert await ids() == ["C2", "C1"]
        assert await ids(search="ANN") == ["C1"]
        assert await ids(search="+4477009000") == ["C2", "C1"]
        assert await ids(opted_out=False) == ["C1"]

    stores.run(body)


def test_a_replaced_contact_keeps_its_place_and_its_old_phone_is_free(stores: Stores) -> None:
    async def body(store: Store) -> None:
        await store.save_contacts([contact("C1", "447700900001", opted_out=True)])
        await store.save_contacts([contact("C2", "447700900002")])
        await store.save_contacts([contact("C1", "447700900003")])
        store = await stores.restart(store)
        page = await store.query_contacts(ContactQuery("acc"))
        assert [c.id for c in page.items] == ["C2", "C1"]
        assert await store.contacts_by_phone("acc", ["447700900001"]) == {}
        assert await store.opted_out("acc", ["447700900001"]) == set()
        assert await store.delete_contact("acc", "C1") is True
        assert await store.delete_contact("acc", "C1") is False
        assert await store.get_contact("acc", "C1") is None

    stores.run(body)


def test_groups_count_their_members_and_deleting_one_keeps_the_contacts(stores: Stores) -> None:
    group = Group("G1", "acc", "Team", 1, 1)
    members = [contact(f"C{i}", f"44770090000{i}", group_ids=("G1",)) for i in range(3)]

    async def body(store: Store) -> None:
        await store.save_group(group)
        await store.save_group(Group("G2", "acc", "Empty", 2, 2))
        await store.save_contacts(members)
        store = await stores.restart(store)
        found = await store.get_group("acc", "G1")
        assert found is not None and found.contact_count == 3
        page = await store.query_groups(GroupQuery("acc"))
        assert [(g.id, g.contact_count) for g in page.items] == [("G2", 0), ("G1", 3)]
        assert [c.id for c in await store.group_contacts("acc", "G1")] == ["C0", "C1", "C2"]
        left = [contact(c.id, c.phone_number) for c in members]
        await store.delete_group("acc", "G1", left)
        store = await stores.restart(store)
        assert await store.get_group("acc", "G1") is None
        assert await store.group_contacts("acc", "G1") == []
        assert await store.get_contact("acc", "C1") == left[1]

    stores.run(body)


def test_tokens_are_saved_found_and_deleted(stores: Stores) -> None:
    token = AccessToken("d1", "acc", 99)

    async def body(store: Store) -> None:
        await store.save_token(token)
        await store.save_token(AccessToken("d2", "acc", 5))
        await store.delete_token("d2")
        store = await stores.restart(store)
        assert await store.get_token("d1") == token
        assert await store.get_token("d2") is None

    stores.run(body)


def test_accounts_keep_their_balance_after_a_debited_send(stores: Stores) -> None:
    account = Account("acc", "Acc", 10, WebhookSettings("https://r.test/", None, "s"))

    async def body(store: Store) -> None:
        await store.save_account(account)
        account.credits = 7  # as Account.charge leaves it
        await store.add_messages([message("M1", segments=3)], Debit("acc", 3, 7))
        store = await stores.restart(store)
        stored = await store.get_account("acc")
        assert stored == account

    stores.run(body)


def test_retention_removes_finished_messages_oldest_first(stores: Stores) -> None:
    finished = [
        message("M1", status=DELIVERED, created_at=100),
        message("M2", status=DELIVERED, created_at=200),
        message("M3", status=DELIVERED, created_at=300, reply_plan=(5, "STOP")),  # owed a reply
        message("M4", created_at=50),  # not final
        message("M5", status=DELIVERED, created_at=400),
    ]

    async def body(store: Store) -> None:
        await store.add_messages(finished[:2])
        await store.add_messages(finished[2:])
        await store.add_reply(reply("R1", 150))
        await store.add_reply(reply("R2", 250))
        assert await store.prune(250, None) == 2
        assert await store.prune(None, 2) == 1  # M5 goes; M3 and M4 are not finished yet
        store = await stores.restart(store)
        page = await store.query_messages(MessageQuery(None))
        assert [m.reference for m in page.items] == ["M4", "M3"]
        replies = await store.query_replies(ReplyQuery("acc"))
        assert [r.reference for r in replies.items] == ["R2"]
        assert await store.prune(None, None) == 0

    stores.run(body)


def test_resetting_an_account_forgets_only_that_account(stores: Stores) -> None:
    async def body(store: Store) -> None:
        for account_id in ("a", "b"):
            await store.save_account(Account(account_id, account_id, 5))
            await store.add_messages([message(f"M{account_id}", account_id=account_id)])
            await store.add_reply(reply(f"R{account_id}", 1, account_id=account_id))
            await store.save_contacts([contact(f"C{account_id}", "447700900001", account_id)])
            await store.save_group(Group(f"G{account_id}", account_id, "g", 1, 1))
            await store.save_token(AccessToken(f"d{account_id}", account_id, 9))
        await store.reset("a")
        store = await stores.restart(store)
        assert await store.get_account("a") is None
        assert await store.get_message("Ma") is None
        assert await store.get_reply("Ra") is None
        assert await store.get_contact("a", "Ca") is None
        assert await store.get_group("a", "Ga") is None
        assert await store.get_token("da") is None
        assert await store.latest_sender_account("447700900001", "Acme") == "b"
        assert await store.get_account("b") is not None
        assert await store.get_message("Mb") is not None
        assert await store.get_reply("Rb") is not None
        assert await store.get_contact("b", "Cb") is not None
        assert await store.get_group("b", "Gb") is not None
        assert await store.get_token("db") is not None
        await store.reset()
        store = await stores.restart(store)
        assert await store.get_account("b") is None
        assert (await store.query_messages(MessageQuery(None))).total_count == 0
        assert await store.get_contact("b", "Cb") is None

    stores.run(body)


def test_the_inbox_filters_by_api_and_text_and_pages_without_counting(stores: Stores) -> None:
    sent = [
        message("M1", to="447700900111", content="Your parcel is here"),
        message("M2", api="connect", content="Code 1234"),
        message("M3", account_id="other", api="connect", content="PARCEL delayed"),
        message("M4", content="Hello"),
    ]

    async def body(store: Store) -> None:
        for one in sent:
            await store.add_messages([one])
        await store.add_messages([message(f"B{i}", batch_reference="B") for i in range(5)])
        store = await stores.restart(store)

        async def refs(**filters: object) -> list[str]:
            page = await store.query_messages(MessageQuery(**filters))  # type: ignore[arg-type]
            return [m.reference for m in page.items]

        assert await refs(account_id=None, api="connect") == ["M3", "M2"]
        assert await refs(account_id="acc", api="connect") == ["M2"]
        assert await refs(account_id="acc", api="v1", text="parcel") == ["M1"]
        assert await refs(account_id=None, text="parcel") == ["M3", "M1"]
        assert await refs(account_id=None, text="900111") == ["M1"]
        # Without a count, the total only says whether a next page exists (a store that
        # keeps counts may still give the whole count).
        first = await store.query_messages(MessageQuery(None, page_size=3, count=False))
        assert [m.reference for m in first.items] == ["B4", "B3", "B2"]
        assert first.total_count > 3  # the page and at least one more
        last = await store.query_messages(MessageQuery(None, page=3, page_size=3, count=False))
        assert [m.reference for m in last.items] == ["M3", "M2", "M1"]
        assert last.total_count == 9  # no next page
        await store.reset("other")
        assert await refs(account_id=None, api="connect") == ["M2"]

    stores.run(body)


def test_replies_are_listed_across_accounts(stores: Stores) -> None:
    async def body(store: Store) -> None:
        await store.add_reply(reply("R1", 1, in_reply_to="M1"))
        await store.add_reply(reply("R2", 2, account_id="other"))
        page = await store.query_replies(ReplyQuery(None))
        assert [r.reference for r in page.items] == ["R2", "R1"]
        page = await store.query_replies(ReplyQuery(None, in_reply_to="M1"))
        assert [r.reference for r in page.items] == ["R1"]

    stores.run(body)
