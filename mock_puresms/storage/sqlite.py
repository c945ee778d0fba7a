"""The SQLite store (``--db PATH``): the memory store's state, written through to a file.

Reads are served from memory; every write is first committed to SQLite as one unit
(on the writer thread, see ``sqlite_writer``) and only then applied in memory, so what
a client was told has happened survives a crash. At start-up the file is loaded back
into memory, and ``open`` returns what the mock must resume: planned lifecycle steps,
receipts not yet handed to the webhook dispatcher, and unfinished deliveries.

Messages are kept one row per send (``sends``: a JSON array per field), so a bulk of
15,000 is one row written in milliseconds rather than 15,000 rows; a message whose
state changed since it was sent has its current state in ``message_state``.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from operator import attrgetter, is_
from pathlib import Path
from typing import Any, TypeVar

import orjson

from mock_puresms.domain.accounts import Account, InsufficientCredits, WebhookSettings
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.deliveries import Attempt, Delivery
from mock_puresms.domain.groups import Group
from mock_puresms.domain.messages import HistoryEntry, Message, PlannedStep, new_entry
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.tokens import AccessToken
from mock_puresms.storage.base import Recovered
from mock_puresms.storage.memory import MemoryStore
from mock_puresms.storage.migrations import migrate
from mock_puresms.storage.sqlite_writer import SqliteWriter, connect

Row = tuple[Any, ...]
T = TypeVar("T")
U = TypeVar("U")

_REFERENCE, _ACCOUNT_ID, _STATUS, _HISTORY = (
    attrgetter(name) for name in ("reference", "account_id", "status", "history")
)
_PENDING, _NEXT_DUE, _REPLY_PLAN = (
    attrgetter(name) for name in ("pending", "next_due", "reply_plan")
)

_INSERT_SEND = "INSERT INTO sends (seq, account_id, body) VALUES (?, ?, ?)"
_UPSERT_STATE = (
    "INSERT INTO message_state (reference, account_id, status, history, pending, next_due, "
    "reply_plan) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reference) DO UPDATE SET "
    "status = excluded.status, history = excluded.history, pending = excluded.pending, "
    "next_due = excluded.next_due, reply_plan = excluded.reply_plan"
)
# A send's row holds one JSON array per message field, in this order; the encoded
# history, pending steps and reply plan are embedded as they are stored in message_state.
_SEND_FIELDS = (
    "reference", "to", "sender", "content", "encoding", "segments", "is_test", "status",
    "created_at", "client_reference", "batch_reference", "receipt_url", "send_at",
)  # fmt: skip
_SEND_GETTERS = tuple(attrgetter(name) for name in _SEND_FIELDS)  # Message's attribute names
_INSERT_OUTBOX = "INSERT OR IGNORE INTO outbox (reference, position, account_id) VALUES (?, ?, ?)"
_UPSERT_ACCOUNT = (
    "INSERT INTO accounts (id, name, credits, receipt_url, reply_url, secret) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
    "credits = excluded.credits, receipt_url = excluded.receipt_url, "
    "reply_url = excluded.reply_url, secret = excluded.secret"
)
_UPSERT_CONTACT = (
    "INSERT INTO contacts (id, seq, account_id, phone_number, first_name, last_name, email, "
    "custom, group_ids, opted_out, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "phone_number = excluded.phone_number, first_name = excluded.first_name, "
    "last_name = excluded.last_name, email = excluded.email, custom = excluded.custom, "
    "group_ids = excluded.group_ids, opted_out = excluded.opted_out, "
    "updated_at = excluded.updated_at"
)
_UPSERT_GROUP = (
    "INSERT INTO groups (id, seq, account_id, name, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
    "updated_at = excluded.updated_at"
)
_UPSERT_DELIVERY = (
    "INSERT INTO deliveries (id, seq, account_id, url, kind, body, created_at, refs, state, "
    "next_attempt_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
    "next_attempt_at = excluded.next_attempt_at, attempts = excluded.attempts"
)
# Writes of up to this many rows may commit inline when the writer is idle.
SMALL_WRITE = 8
_ACCOUNT_TABLES = (
    "sends", "message_state", "replies", "contacts", "groups", "tokens", "outbox", "deliveries",
)  # fmt: skip


def _history_json(history: tuple[HistoryEntry, ...]) -> bytes:
    return orjson.dumps([(int(status), at) for status, at in history])


def _pending_json(pending: tuple[PlannedStep, ...]) -> bytes | None:
    return orjson.dumps([(int(s), after) for s, after in pending]) if pending else None


def _reply_json(reply_plan: tuple[int, str] | None) -> bytes | None:
    return orjson.dumps(reply_plan) if reply_plan is not None else None


def _shared_column(values: list[T], encode: Callable[[T], U]) -> list[U]:
    """``encode`` of each value; once when they are all the very same object."""
    first = values[0]
    if all(map(is_, values, repeat(first))):
        return [encode(first)] * len(values)
    return list(map(encode, values))


def _history_column(messages: Sequence[Message]) -> list[bytes]:
    """Each message's history as JSON: the messages of one send, or of one simulation
    step, share one history tuple, which is then encoded once."""
    return _shared_column(list(map(_HISTORY, messages)), _history_json)


def _plan_columns(
    messages: Sequence[Message],
) -> tuple[list[bytes | None], list[int | None], list[bytes | None]]:
    """The pending steps, next due time and reply plan of each message, as stored."""
    pending = _shared_column(list(map(_PENDING, messages)), _pending_json)
    replies = _shared_column(list(map(_REPLY_PLAN, messages)), _reply_json)
    return pending, list(map(_NEXT_DUE, messages)), replies


def _send_body(messages: Sequence[Message]) -> bytes:
    """The ``sends.body`` of messages created together: one JSON array per field."""
    if len(messages) == 1:
        return _single_send_body(messages[0])
    return _columns_send_body(messages)


def _columns_send_body(messages: Sequence[Message]) -> bytes:
    """``_send_body`` built a column at a time, values shared by the send encoded once."""
    body: dict[str, list[Any]] = {
        name: list(map(getter, messages))
        for name, getter in zip(_SEND_FIELDS, _SEND_GETTERS, strict=True)
    }
    body["history"] = list(map(orjson.Fragment, _history_column(messages)))
    pending, next_due, reply_plan = _plan_columns(messages)
    body["pending"] = _fragments(pending)
    body["next_due"] = next_due
    body["reply_plan"] = _fragments(reply_plan)
    return orjson.dumps(body)


def _single_send_body(message: Message) -> bytes:
    """``_send_body`` of one message, encoded in one pass (the same bytes)."""
    pending = [(int(s), after) for s, after in message.pending] if message.pending else None
    body: dict[str, list[Any]] = {
        name: [getter(message)] for name, getter in zip(_SEND_FIELDS, _SEND_GETTERS, strict=True)
    }
    body["history"] = [[(int(status), at) for status, at in message.history]]
    body["pending"] = [pending]
    body["next_due"] = [message.next_due]
    body["reply_plan"] = [message.reply_plan]
    return orjson.dumps(body)


def _fragments(encoded: list[bytes | None]) -> list[orjson.Fragment | None]:
    """Already-encoded JSON values, embedded as they are (null where there is none)."""
    return _shared_column(encoded, lambda value: None if value is None else orjson.Fragment(value))


def _contact_row(seq: int, contact: Contact) -> Row:
    return (
        contact.id, seq, contact.account_id, contact.phone_number, contact.first_name,
        contact.last_name, contact.email, orjson.dumps(dict(contact.custom)),
        orjson.dumps(list(contact.group_ids)), int(contact.opted_out), contact.created_at,
        contact.updated_at,
    )  # fmt: skip


def _delivery_row(seq: int, delivery: Delivery) -> Row:
    attempts = [(a.at, a.status, a.error, a.duration_ms) for a in delivery.attempts]
    return (
        delivery.id, seq, delivery.account_id, delivery.url, delivery.kind, delivery.body,
        delivery.created_at, orjson.dumps(list(delivery.references)), delivery.state,
        delivery.next_attempt_at, orjson.dumps(attempts),
    )  # fmt: skip


def _messages_of(
    account_id: str, body: dict[str, list[Any]], changed: dict[str, tuple[Any, ...]]
) -> list[Message]:
    """The messages of one stored send, with the state of those changed since."""
    messages = []
    for index, reference in enumerate(body["reference"]):
        state = changed.get(reference)
        if state is None:
            status, history = body["status"][index], body["history"][index]
            pending, next_due = body["pending"][index], body["next_due"][index]
            reply_plan = body["reply_plan"][index]
        else:
            status, history = state[0], orjson.loads(state[1])
            pending, next_due = orjson.loads(state[2]) if state[2] else None, state[3]
            reply_plan = orjson.loads(state[4]) if state[4] else None
        messages.append(
            Message(
                reference=reference,
                account_id=account_id,
                to=body["to"][index],
                sender=body["sender"][index],
                content=body["content"][index],
                encoding=body["encoding"][index],
                segments=body["segments"][index],
                is_test=bool(body["is_test"][index]),
                status=DeliveryStatus(status),
                created_at=body["created_at"][index],
                client_reference=body["client_reference"][index],
                batch_reference=body["batch_reference"][index],
                receipt_url=body["receipt_url"][index],
                send_at=body["send_at"][index],
                history=tuple(
                    new_entry(HistoryEntry, (DeliveryStatus(s), at)) for s, at in history
                ),
                pending=tuple((DeliveryStatus(s), after) for s, after in pending or ()),
                next_due=next_due,
                reply_plan=(reply_plan[0], reply_plan[1]) if reply_plan else None,
            )
        )
    return messages


def _drop_from_sends(connection: sqlite3.Connection, gone: set[str]) -> None:
    """Remove messages from the sends holding them, oldest sends first (retention takes
    the oldest messages, so the search stops early); a send left empty is deleted."""
    rewritten: list[tuple[bytes, int]] = []
    emptied: list[tuple[int]] = []
    cursor = connection.execute("SELECT seq, body FROM sends ORDER BY seq")
    while gone and (row := cursor.fetchone()) is not None:
        seq, encoded = row
        body = orjson.loads(encoded)
        references = body["reference"]
        if gone.isdisjoint(references):
            continue
        keep = [i for i, reference in enumerate(references) if reference not in gone]
        gone.difference_update(references)
        if not keep:
            emptied.append((seq,))
        else:
            kept = {name: [column[i] for i in keep] for name, column in body.items()}
            rewritten.append((orjson.dumps(kept), seq))
    cursor.close()
    connection.executemany("UPDATE sends SET body = ? WHERE seq = ?", rewritten)
    connection.executemany("DELETE FROM sends WHERE seq = ?", emptied)


class SqliteStore(MemoryStore):
    """Everything in SQLite at ``path`` (WAL mode), served from memory."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._connection = connect(path)
        try:
            migrate(self._connection)
        except BaseException:  # e.g. SchemaTooNew: the caller gets no store to close
            self._connection.close()
            raise
        self._writer: SqliteWriter | None = None
        self._seq = itertools.count(1)

    @property
    def writer(self) -> SqliteWriter:
        if self._writer is None:
            raise RuntimeError("the SQLite store is not open")
        return self._writer

    # -- start-up and shutdown ------------------------------------------------------

    async def open(self) -> Recovered:
        connection = self._connection
        top = 0
        for table in ("sends", "replies", "contacts", "groups", "deliveries"):
            top = max(
                top, connection.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {table}").fetchone()[0]
            )
        self._seq = itertools.count(top + 1)
        for row in connection.execute(
            "SELECT id, name, credits, receipt_url, reply_url, secret FROM accounts"
        ):
            await MemoryStore.save_account(
                self, Account(row[0], row[1], row[2], WebhookSettings(row[3], row[4], row[5]))
            )
        in_flight = await self._load_messages(connection)
        for row in connection.execute(
            "SELECT reference, account_id, from_number, to_sender, content, received_at, "
            "in_reply_to, client_reference, batch_reference FROM replies ORDER BY seq"
        ):
            await MemoryStore.add_reply(self, Reply(*row))
        await self._load_contacts(connection)
        for row in connection.execute("SELECT digest, account_id, expires_at FROM tokens"):
            await MemoryStore.save_token(self, AccessToken(*row))
        receipts = []
        for reference, position in connection.execute(
            "SELECT reference, position FROM outbox ORDER BY rowid"
        ):
            message = self._messages.get(reference)
            if message is not None and position < len(message.history):
                receipts.append((message, position))
        deliveries = list(self._load_deliveries(connection))
        clock = connection.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
        self._writer = SqliteWriter(connection)
        return Recovered(
            clock=int(clock[0]) if clock is not None else None,
            in_flight=in_flight,
            receipts=receipts,
            deliveries=deliveries,
        )

    async def _load_messages(self, connection: sqlite3.Connection) -> list[Message]:
        changed = {
            row[0]: row[1:]
            for row in connection.execute(
                "SELECT reference, status, history, pending, next_due, reply_plan "
                "FROM message_state"
            )
        }
        in_flight: list[Message] = []
        for account_id, body in connection.execute(
            "SELECT account_id, body FROM sends ORDER BY seq"
        ):
            messages = _messages_of(account_id, orjson.loads(body), changed)
            in_flight.extend(m for m in messages if m.pending or m.reply_plan is not None)
            await MemoryStore.add_messages(self, messages, 0)
        return in_flight

    async def _load_contacts(self, connection: sqlite3.Connection) -> None:
        for row in connection.execute(
            "SELECT id, account_id, name, created_at, updated_at FROM groups ORDER BY seq"
        ):
            await MemoryStore.save_group(self, Group(*row))
        contacts = [
            Contact(
                id=row[0],
                account_id=row[1],
                phone_number=row[2],
                first_name=row[3],
                last_name=row[4],
                email=row[5],
                custom=orjson.loads(row[6]),
                group_ids=tuple(orjson.loads(row[7])),
                opted_out=bool(row[8]),
                created_at=row[9],
                updated_at=row[10],
            )
            for row in connection.execute(
                "SELECT id, account_id, phone_number, first_name, last_name, email, custom, "
                "group_ids, opted_out, created_at, updated_at FROM contacts ORDER BY seq"
            )
        ]
        await MemoryStore.save_contacts(self, contacts)

    @staticmethod
    def _load_deliveries(connection: sqlite3.Connection) -> Iterator[Delivery]:
        for row in connection.execute(
            "SELECT id, account_id, url, kind, body, created_at, refs, state, next_attempt_at, "
            "attempts FROM deliveries ORDER BY seq"
        ):
            yield Delivery(
                id=row[0], account_id=row[1], url=row[2], kind=row[3], body=bytes(row[4]),
                created_at=row[5], references=tuple(orjson.loads(row[6])), state=row[7],
                next_attempt_at=row[8],
                attempts=[Attempt(*attempt) for attempt in orjson.loads(row[9])],
            )  # fmt: skip

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        else:
            self._connection.close()

    async def save_clock(self, now: int) -> None:
        await self.writer.write(
            lambda c: c.execute(
                "INSERT INTO meta (key, value) VALUES ('clock', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(now),),
            )
        )

    # -- writes: to the file first, then to memory ------------------------------------

    async def save_account(self, account: Account) -> None:
        w = account.webhooks
        row = (
            account.id,
            account.name,
            account.credits,
            w.delivery_receipt_url,
            w.reply_url,
            w.secret,
        )
        await self.writer.write(lambda c: c.execute(_UPSERT_ACCOUNT, row), small=True)
        await super().save_account(account)

    async def add_messages(self, messages: Sequence[Message], cost: int) -> None:
        if not messages:
            return
        account_id = messages[0].account_id
        account = self._accounts.get(account_id)
        debited = bool(cost and account is not None and account.credits is not None)
        if debited:
            assert account is not None and account.credits is not None
            if account.credits < cost:
                raise InsufficientCredits(cost, account.credits)
            # Reserved now, before any await, so concurrent sends cannot overdraw.
            account.credits -= cost
        row = (next(self._seq), account_id, _send_body(messages))
        owed = []
        if DeliveryStatus.SKIPPED in map(_STATUS, messages):  # its receipt is owed at once
            skipped = DeliveryStatus.SKIPPED
            owed = [(m.reference, 0, m.account_id) for m in messages if m.status is skipped]
        balance = (account.id, account.credits) if debited and account is not None else None

        def unit(connection: sqlite3.Connection) -> None:
            connection.execute(_INSERT_SEND, row)
            if owed:
                connection.executemany(_INSERT_OUTBOX, owed)
            if balance is not None:
                connection.execute("UPDATE accounts SET credits = ? WHERE id = ?", balance[::-1])

        try:
            await self.writer.write(unit, small=len(messages) <= SMALL_WRITE)
        except BaseException:
            if debited and account is not None and account.credits is not None:
                account.credits += cost
            raise
        await super().add_messages(messages, 0)

    async def save_messages(
        self, messages: Sequence[Message], *, status_changed: bool = True
    ) -> None:
        if not messages:
            return
        rows = list(
            zip(
                map(_REFERENCE, messages),
                map(_ACCOUNT_ID, messages),
                map(int, map(_STATUS, messages)),
                _history_column(messages),
                *_plan_columns(messages),
                strict=True,
            )
        )
        owed: list[Row] = []
        if status_changed:  # the receipt of each message's newest history entry
            positions = map(int.__sub__, map(len, map(_HISTORY, messages)), repeat(1))
            owed = list(
                zip(map(_REFERENCE, messages), positions, map(_ACCOUNT_ID, messages), strict=True)
            )

        def unit(connection: sqlite3.Connection) -> None:
            connection.executemany(_UPSERT_STATE, rows)
            if owed:
                connection.executemany(_INSERT_OUTBOX, owed)

        await self.writer.write(unit, small=len(rows) <= SMALL_WRITE)

    async def save_deliveries(
        self, deliveries: Sequence[Delivery], flushed: Sequence[tuple[str, int]] = ()
    ) -> None:
        rows = [_delivery_row(next(self._seq), d) for d in deliveries]
        done = list(flushed)

        def unit(connection: sqlite3.Connection) -> None:
            connection.executemany(_UPSERT_DELIVERY, rows)
            if done:
                connection.executemany(
                    "DELETE FROM outbox WHERE reference = ? AND position = ?", done
                )

        await self.writer.write(unit)

    async def add_reply(self, reply: Reply) -> None:
        row = (
            reply.reference, next(self._seq), reply.account_id, reply.from_, reply.to,
            reply.content, reply.received_at, reply.in_reply_to, reply.client_reference,
            reply.batch_reference,
        )  # fmt: skip
        await self.writer.write(
            lambda c: c.execute(f"INSERT INTO replies VALUES ({', '.join('?' * 10)})", row)
        )
        await super().add_reply(reply)

    async def save_contacts(
        self, contacts: Sequence[Contact], groups: Sequence[Group] = ()
    ) -> None:
        contact_rows = [_contact_row(next(self._seq), c) for c in contacts]
        group_rows = [
            (g.id, next(self._seq), g.account_id, g.name, g.created_at, g.updated_at)
            for g in groups
        ]

        def unit(connection: sqlite3.Connection) -> None:
            connection.executemany(_UPSERT_CONTACT, contact_rows)
            connection.executemany(_UPSERT_GROUP, group_rows)

        await self.writer.write(unit)
        await super().save_contacts(contacts, groups)

    async def delete_contact(self, account_id: str, contact_id: str) -> bool:
        await self.writer.write(
            lambda c: c.execute(
                "DELETE FROM contacts WHERE id = ? AND account_id = ?", (contact_id, account_id)
            )
        )
        return await super().delete_contact(account_id, contact_id)

    async def save_group(self, group: Group) -> None:
        await self.save_contacts((), (group,))

    async def delete_group(
        self, account_id: str, group_id: str, contacts: Sequence[Contact]
    ) -> None:
        contact_rows = [_contact_row(next(self._seq), c) for c in contacts]

        def unit(connection: sqlite3.Connection) -> None:
            connection.executemany(_UPSERT_CONTACT, contact_rows)
            connection.execute(
                "DELETE FROM groups WHERE id = ? AND account_id = ?", (group_id, account_id)
            )

        await self.writer.write(unit)
        await super().delete_group(account_id, group_id, contacts)

    async def save_token(self, token: AccessToken) -> None:
        row = (token.digest, token.account_id, token.expires_at)
        await self.writer.write(
            lambda c: c.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", row)
        )
        await super().save_token(token)

    async def delete_token(self, digest: str) -> None:
        await self.writer.write(
            lambda c: c.execute("DELETE FROM tokens WHERE digest = ?", (digest,))
        )
        await super().delete_token(digest)

    async def prune(self, finished_before: int | None, max_messages: int | None) -> int:
        messages = self.prunable(finished_before, max_messages)
        replies = self.prunable_replies(finished_before)
        if not messages and not replies:
            return 0
        gone = [(m.reference,) for m in messages]
        gone_replies = [(r.reference,) for r in replies]

        def unit(connection: sqlite3.Connection) -> None:
            _drop_from_sends(connection, {reference for (reference,) in gone})
            connection.executemany("DELETE FROM message_state WHERE reference = ?", gone)
            connection.executemany("DELETE FROM outbox WHERE reference = ?", gone)
            connection.executemany("DELETE FROM replies WHERE reference = ?", gone_replies)

        await self.writer.write(unit)
        self.forget_messages(messages)
        self.forget_replies(replies)
        return len(messages)

    async def delete_deliveries(self, ids: Sequence[str]) -> None:
        rows = [(delivery_id,) for delivery_id in ids]
        if rows:
            await self.writer.write(
                lambda c: c.executemany("DELETE FROM deliveries WHERE id = ?", rows)
            )

    async def reset(self, account_id: str | None = None) -> None:
        def unit(connection: sqlite3.Connection) -> None:
            for table in _ACCOUNT_TABLES:
                if account_id is None:
                    connection.execute(f"DELETE FROM {table}")
                else:
                    connection.execute(f"DELETE FROM {table} WHERE account_id = ?", (account_id,))
            if account_id is None:
                connection.execute("DELETE FROM accounts")
            else:
                connection.execute("DELETE FROM accounts WHERE id = ?", (account_id,))

        await self.writer.write(unit)
        await super().reset(account_id)
