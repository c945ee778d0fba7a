"""The in-memory store: dictionaries and newest-first scans, the default."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from operator import attrgetter, is_
from typing import TypeVar

from mock_puresms.domain.accounts import Account, InsufficientCredits
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.groups import Group
from mock_puresms.domain.messages import BatchSummary, Message
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import FINAL_STATUSES, DeliveryStatus
from mock_puresms.domain.tokens import AccessToken
from mock_puresms.storage.base import (
    ContactQuery,
    GroupQuery,
    MessageQuery,
    Page,
    Recovered,
    ReplyQuery,
    paginate,
)

T = TypeVar("T")

_REFERENCE = attrgetter("reference")
_BATCH_REFERENCE = attrgetter("batch_reference")
_CLIENT_REFERENCE = attrgetter("client_reference")
_TO = attrgetter("to")


class _Index:
    """Messages by a key, oldest first; a key seen once holds the message itself.

    Most client references and recipients occur once, and a one-element list per key
    would cost more than the message it points to.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[str, Message | list[Message]] = {}

    def add(self, key: str | None, message: Message) -> None:
        if key is None:
            return
        present = self._entries.get(key)
        if present is None:
            self._entries[key] = message
        elif isinstance(present, list):
            present.append(message)
        else:
            self._entries[key] = [present, message]

    def extend(self, key: str, messages: Sequence[Message]) -> None:
        """``add`` for many messages under one key."""
        present = self._entries.get(key)
        if present is None:
            self._entries[key] = messages[0] if len(messages) == 1 else list(messages)
        elif isinstance(present, list):
            present.extend(messages)
        else:
            self._entries[key] = [present, *messages]

    def add_all(self, keys: list[str], messages: Sequence[Message]) -> None:
        """``add`` for many messages, in C-level passes when no key is seen twice."""
        # setdefault() stores each new key in one C-level pass; where it hands back
        # something else, the key was held already (or given twice) and goes one by one.
        present = list(map(self._entries.setdefault, keys, messages))
        if all(map(is_, present, messages)):
            return
        for key, message, held in zip(keys, messages, present, strict=True):
            if held is not message:
                self.add(key, message)

    def get(self, key: str) -> list[Message]:
        present = self._entries.get(key)
        if present is None:
            return []
        return present if isinstance(present, list) else [present]


class _AccountData:
    __slots__ = (
        "by_batch",
        "by_client_reference",
        "by_phone",
        "by_to",
        "by_to_covers",
        "contacts",
        "groups",
        "members",
        "messages",
        "opted_out",
        "replies",
    )

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.by_batch = _Index()
        self.by_client_reference = _Index()
        # Filled on first use: an index by recipient costs a bulk send more than its
        # other indexes together, and most runs never ask by recipient.
        self.by_to = _Index()
        self.by_to_covers = 0  # how many of ``messages`` by_to holds, oldest first
        self.replies: list[Reply] = []
        self.contacts: dict[str, Contact] = {}  # by id, in creation order
        self.by_phone: dict[str, Contact] = {}
        # Derived from the contacts, so a send checks each phone with one set lookup.
        self.opted_out: set[str] = set()
        self.groups: dict[str, Group] = {}  # by id, in creation order
        self.members: dict[str, set[str]] = {}  # group id -> contact ids

    def keep_messages(self, kept: dict[str, Message]) -> None:
        """Drop every message not in ``kept`` and rebuild the indexes (retention)."""
        self.messages = [m for m in self.messages if m.reference in kept]
        self.by_batch, self.by_client_reference, self.by_to = _Index(), _Index(), _Index()
        self.by_to_covers = 0
        for message in self.messages:
            self.by_batch.add(message.batch_reference, message)
            self.by_client_reference.add(message.client_reference, message)

    def recipient_index(self) -> _Index:
        """Messages by recipient, brought up to date with the messages added since."""
        fresh = self.messages[self.by_to_covers :]
        if fresh:
            self.by_to.add_all(list(map(_TO, fresh)), fresh)
            self.by_to_covers = len(self.messages)
        return self.by_to

    def put_contact(self, contact: Contact) -> None:
        old = self.contacts.get(contact.id)
        if old is not None:
            self._unindex(old, keep=contact.group_ids)
        self.contacts[contact.id] = contact
        self.by_phone[contact.phone_number] = contact
        if contact.opted_out:
            self.opted_out.add(contact.phone_number)
        for group_id in contact.group_ids:
            self.members.setdefault(group_id, set()).add(contact.id)

    def remove_contact(self, contact_id: str) -> bool:
        old = self.contacts.pop(contact_id, None)
        if old is None:
            return False
        self._unindex(old, keep=())
        return True

    def _unindex(self, old: Contact, keep: tuple[str, ...]) -> None:
        if self.by_phone.get(old.phone_number) is old:
            del self.by_phone[old.phone_number]
        self.opted_out.discard(old.phone_number)
        for group_id in old.group_ids:
            if group_id not in keep and (members := self.members.get(group_id)) is not None:
                members.discard(old.id)

    def counted(self, group: Group) -> Group:
        """The group as stored, with its current member count."""
        count = len(self.members.get(group.id, ()))
        return group if group.contact_count == count else replace(group, contact_count=count)


def _search(text: str) -> Callable[[Contact], bool]:
    """A case-insensitive substring test on the names, email and phone number."""
    needle = text.casefold()
    digits = needle.removeprefix("+")

    def matches(contact: Contact) -> bool:
        return (
            (bool(digits) and digits in contact.phone_number)
            or needle in (contact.first_name or "").casefold()
            or needle in (contact.last_name or "").casefold()
            or needle in (contact.email or "").casefold()
        )

    return matches


class MemoryStore:
    """Keeps everything in process memory; state is lost when the process ends."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self._accounts: dict[str, Account] = {}
        self._data: dict[str, _AccountData] = {}
        self._messages: dict[str, Message] = {}
        self._replies: dict[str, Reply] = {}
        self._tokens: dict[str, AccessToken] = {}

    def _account_data(self, account_id: str) -> _AccountData:
        data = self._data.get(account_id)
        if data is None:
            data = self._data[account_id] = _AccountData()
        return data

    async def open(self) -> Recovered:
        return Recovered()

    async def close(self) -> None:
        return None

    async def save_clock(self, now: int) -> None:
        return None

    async def save_deliveries(
        self, deliveries: Sequence[Delivery], flushed: Sequence[tuple[str, int]] = ()
    ) -> None:
        # The dispatcher holds its deliveries; only a durable store writes them down.
        return None

    async def get_account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    async def save_account(self, account: Account) -> None:
        self._accounts[account.id] = account

    async def add_messages(self, messages: Sequence[Message], cost: int) -> None:
        if not messages:
            return
        account_id = messages[0].account_id
        account = self._accounts.get(account_id)
        if cost and account is not None and account.credits is not None:
            if account.credits < cost:
                raise InsufficientCredits(cost, account.credits)
            account.credits -= cost
        data = self._account_data(account_id)
        if len(messages) == 1:  # a single send: plain adds cost less than the passes below
            [message] = messages
            self._messages[message.reference] = message
            data.by_batch.add(message.batch_reference, message)
            data.by_client_reference.add(message.client_reference, message)
            data.messages.append(message)
            return
        # C-level passes over the columns: this runs for every message of a bulk send.
        self._messages.update(zip(map(_REFERENCE, messages), messages, strict=True))
        batches = set(map(_BATCH_REFERENCE, messages))
        if len(batches) == 1:  # one send, one batch (or none)
            (batch,) = batches
            if batch is not None:
                data.by_batch.extend(batch, messages)
        else:
            for message in messages:
                data.by_batch.add(message.batch_reference, message)
        client_references = list(map(_CLIENT_REFERENCE, messages))
        if client_references.count(None) < len(client_references):
            for reference, message in zip(client_references, messages, strict=True):
                data.by_client_reference.add(reference, message)
        data.messages.extend(messages)

    async def save_messages(
        self, messages: Sequence[Message], *, status_changed: bool = True
    ) -> None:
        # Live objects were changed in place: nothing to write.
        return None

    async def get_message(self, reference: str) -> Message | None:
        return self._messages.get(reference)

    def _candidates(self, query: MessageQuery) -> Iterator[Message]:
        """The smallest newest-first sequence that can hold every match."""
        if query.account_id is None:
            return reversed(self._messages.values())
        data = self._data.get(query.account_id)
        if data is None:
            return iter(())
        if query.batch_reference is not None:
            return reversed(data.by_batch.get(query.batch_reference))
        if query.client_reference is not None:
            return reversed(data.by_client_reference.get(query.client_reference))
        if query.to is not None:
            return reversed(data.recipient_index().get(query.to))
        return reversed(data.messages)

    async def query_messages(self, query: MessageQuery) -> Page[Message]:
        checks: list[Callable[[Message], bool]] = []
        if query.batch_reference is not None:
            checks.append(lambda m: m.batch_reference == query.batch_reference)
        if query.client_reference is not None:
            checks.append(lambda m: m.client_reference == query.client_reference)
        if query.to is not None:
            checks.append(lambda m: m.to == query.to)
        if query.status is not None:
            checks.append(lambda m: m.status == query.status)
        if query.is_test is not None:
            checks.append(lambda m: m.is_test == query.is_test)
        matches = (m for m in self._candidates(query) if all(check(m) for check in checks))
        return paginate(matches, query.page, query.page_size)

    async def batch_messages(self, account_id: str, batch_reference: str) -> list[Message]:
        data = self._data.get(account_id)
        return list(data.by_batch.get(batch_reference)) if data is not None else []

    async def batch_summary(self, account_id: str, batch_reference: str) -> BatchSummary | None:
        messages = await self.batch_messages(account_id, batch_reference)
        if not messages:
            return None
        counts = Counter(m.status.label for m in messages)
        return BatchSummary(
            batch_reference=batch_reference,
            count=len(messages),
            created_at=messages[0].created_at,
            status_counts=dict(counts),
        )

    async def latest_message(self, account_id: str, to: str, sender: str) -> Message | None:
        data = self._data.get(account_id)
        if data is None:
            return None
        for message in reversed(data.recipient_index().get(to)):
            if message.sender == sender:
                return message
        return None

    async def latest_sender_account(self, to: str, sender: str) -> str | None:
        # Rare (an injected reply without an account): a scan beats an index per send.
        newest: Message | None = None
        for account_id in self._data:
            message = await self.latest_message(account_id, to, sender)
            if message is not None and (newest is None or message.created_at >= newest.created_at):
                newest = message
        return newest.account_id if newest is not None else None

    async def add_reply(self, reply: Reply) -> None:
        self._replies[reply.reference] = reply
        self._account_data(reply.account_id).replies.append(reply)

    async def get_reply(self, reference: str) -> Reply | None:
        return self._replies.get(reference)

    async def query_replies(self, query: ReplyQuery) -> Page[Reply]:
        data = self._data.get(query.account_id)
        replies = reversed(data.replies) if data is not None else iter(())
        matches = (
            r
            for r in replies
            if (query.from_ is None or r.from_ == query.from_)
            and (query.in_reply_to is None or r.in_reply_to == query.in_reply_to)
            and (query.since is None or r.received_at >= query.since)
        )
        return paginate(matches, query.page, query.page_size)

    async def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        data = self._data.get(account_id)
        if data is None or not data.opted_out:
            return set()
        return data.opted_out.intersection(phones)

    async def get_contact(self, account_id: str, contact_id: str) -> Contact | None:
        data = self._data.get(account_id)
        return data.contacts.get(contact_id) if data is not None else None

    async def get_contacts(self, account_id: str, contact_ids: Iterable[str]) -> dict[str, Contact]:
        data = self._data.get(account_id)
        if data is None:
            return {}
        contacts = data.contacts
        return {cid: contacts[cid] for cid in contact_ids if cid in contacts}

    async def contacts_by_phone(self, account_id: str, phones: Iterable[str]) -> dict[str, Contact]:
        data = self._data.get(account_id)
        if data is None or not data.by_phone:
            return {}
        by_phone = data.by_phone
        return {phone: by_phone[phone] for phone in phones if phone in by_phone}

    async def save_contacts(
        self, contacts: Sequence[Contact], groups: Sequence[Group] = ()
    ) -> None:
        for contact in contacts:
            self._account_data(contact.account_id).put_contact(contact)
        for group in groups:
            self._account_data(group.account_id).groups[group.id] = group

    async def delete_contact(self, account_id: str, contact_id: str) -> bool:
        data = self._data.get(account_id)
        return data is not None and data.remove_contact(contact_id)

    async def query_contacts(self, query: ContactQuery) -> Page[Contact]:
        data = self._data.get(query.account_id)
        contacts = reversed(data.contacts.values()) if data is not None else iter(())
        checks: list[Callable[[Contact], bool]] = []
        if query.group_id is not None:
            checks.append(lambda c: query.group_id in c.group_ids)
        if query.opted_out is not None:
            checks.append(lambda c: c.opted_out == query.opted_out)
        if query.search is not None:
            checks.append(_search(query.search))
        matches = (c for c in contacts if all(check(c) for check in checks))
        return paginate(matches, query.page, query.page_size)

    async def group_contacts(self, account_id: str, group_id: str) -> list[Contact]:
        data = self._data.get(account_id)
        members = data.members.get(group_id) if data is not None else None
        if data is None or not members:
            return []
        # Creation order, from the account's contacts: a set of ids keeps none.
        return [c for c in data.contacts.values() if c.id in members]

    async def save_group(self, group: Group) -> None:
        self._account_data(group.account_id).groups[group.id] = group

    async def get_group(self, account_id: str, group_id: str) -> Group | None:
        data = self._data.get(account_id)
        group = data.groups.get(group_id) if data is not None else None
        return data.counted(group) if data is not None and group is not None else None

    async def query_groups(self, query: GroupQuery) -> Page[Group]:
        data = self._data.get(query.account_id)
        if data is None:
            return paginate((), query.page, query.page_size)
        page = paginate(reversed(data.groups.values()), query.page, query.page_size)
        return replace(page, items=[data.counted(group) for group in page.items])

    async def delete_group(
        self, account_id: str, group_id: str, contacts: Sequence[Contact]
    ) -> None:
        data = self._account_data(account_id)
        for contact in contacts:
            data.put_contact(contact)
        data.groups.pop(group_id, None)
        data.members.pop(group_id, None)

    # ---- retention -------------------------------------------------------------------

    def prunable(self, finished_before: int | None, max_messages: int | None) -> list[Message]:
        """The messages retention removes: finished ones, oldest first, that finished
        before ``finished_before`` or are beyond ``max_messages``. A message still owed
        a scripted reply is kept until it has had it."""
        excess = len(self._messages) - max_messages if max_messages is not None else 0
        if excess <= 0 and finished_before is None:
            return []
        doomed: list[Message] = []
        for message in self._messages.values():  # oldest first
            if message.status not in FINAL_STATUSES or (
                message.reply_plan is not None and message.status is DeliveryStatus.DELIVERED
            ):
                continue
            old = finished_before is not None and message.updated_at < finished_before
            if old or excess > 0:
                doomed.append(message)
                excess -= 1
            elif finished_before is None:
                break
        return doomed

    def forget_messages(self, messages: Sequence[Message]) -> None:
        touched: set[str] = set()
        for message in messages:
            if self._messages.pop(message.reference, None) is not None:
                touched.add(message.account_id)
        for account_id in touched:
            data = self._data.get(account_id)
            if data is not None:
                data.keep_messages(self._messages)

    def prunable_replies(self, received_before: int | None) -> list[Reply]:
        if received_before is None:
            return []
        return [r for r in self._replies.values() if r.received_at < received_before]

    def forget_replies(self, replies: Sequence[Reply]) -> None:
        touched: set[str] = set()
        for reply in replies:
            if self._replies.pop(reply.reference, None) is not None:
                touched.add(reply.account_id)
        for account_id in touched:
            data = self._data.get(account_id)
            if data is not None:
                data.replies = [r for r in data.replies if r.reference in self._replies]

    async def prune(self, finished_before: int | None, max_messages: int | None) -> int:
        messages = self.prunable(finished_before, max_messages)
        replies = self.prunable_replies(finished_before)
        self.forget_messages(messages)
        self.forget_replies(replies)
        return len(messages)

    async def delete_deliveries(self, ids: Sequence[str]) -> None:
        return None

    async def save_token(self, token: AccessToken) -> None:
        self._tokens[token.digest] = token

    async def get_token(self, digest: str) -> AccessToken | None:
        return self._tokens.get(digest)

    async def delete_token(self, digest: str) -> None:
        self._tokens.pop(digest, None)

    async def reset(self, account_id: str | None = None) -> None:
        if account_id is None:
            self._clear()
            return
        self._accounts.pop(account_id, None)
        self._tokens = {d: t for d, t in self._tokens.items() if t.account_id != account_id}
        data = self._data.pop(account_id, None)
        if data is None:
            return
        for message in data.messages:
            self._messages.pop(message.reference, None)
        for reply in data.replies:
            self._replies.pop(reply.reference, None)
