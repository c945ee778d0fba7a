"""The SQLite store (``--db PATH``): the memory store's state, written through to a file.

Reads are served from memory; every write is first committed to SQLite as one unit
(on the writer thread, see ``sqlite_writer``) and only then applied in memory, so what
a client was told has happened survives a crash. At start-up the file is loaded back
into memory, and ``open`` returns what the mock must resume: planned lifecycle steps,
receipts not yet handed to the webhook dispatcher, and unfinished deliveries.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from mock_puresms.domain.accounts import Account, InsufficientCredits, WebhookSettings
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.deliveries import Attempt, Delivery
from mock_puresms.domain.groups import Group
from mock_puresms.domain.messages import HistoryEntry, Message, new_entry
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.tokens import AccessToken
from mock_puresms.storage.base import Recovered
from mock_puresms.storage.memory import MemoryStore
from mock_puresms.storage.migrations import migrate
from mock_puresms.storage.sqlite_writer import SqliteWriter, connect

Row = tuple[Any, ...]

_MESSAGE_COLUMNS = (
    "reference, seq, account_id, to_number, sender, content, encoding, segments, is_test, "
    "status, created_at, client_reference, batch_reference, receipt_url, send_at, history, "
    "pending, next_due, reply_plan"
)
_INSERT_MESSAGE = f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES ({', '.join('?' * 19)})"
_UPDATE_MESSAGE = (
    "UPDATE messages SET status = ?, history = ?, pending = ?, next_due = ?, reply_plan = ? "
    "WHERE reference = ?"
)
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
_ACCOUNT_TABLES = ("messages", "replies", "contacts", "groups", "tokens", "outbox", "deliveries")


def _history_json(message: Message) -> bytes:
    return orjson.dumps([(int(status), at) for status, at in message.history])


def _plan_json(message: Message) -> tuple[bytes | None, int | None, bytes | None]:
    pending = (
        orjson.dumps([(int(s), after) for s, after in message.pending]) if message.pending else None
    )
    reply = orjson.dumps(message.reply_plan) if message.reply_plan is not None else None
    return (pending, message.next_due, reply)


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
        for table in ("messages", "replies", "contacts", "groups", "deliveries"):
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
        in_flight: list[Message] = []
        run: list[Message] = []
        for row in connection.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages ORDER BY seq"):
            message = Message(
                reference=row[0], account_id=row[2], to=row[3], sender=row[4], content=row[5],
                encoding=row[6], segments=row[7], is_test=bool(row[8]),
                status=DeliveryStatus(row[9]), created_at=row[10], client_reference=row[11],
                batch_reference=row[12], receipt_url=row[13], send_at=row[14],
                history=[
                    new_entry(HistoryEntry, (DeliveryStatus(s), at))
                    for s, at in orjson.loads(row[15])
                ],
                pending=tuple((DeliveryStatus(s), a) for s, a in orjson.loads(row[16] or "[]")),
                next_due=row[17],
                reply_plan=tuple(orjson.loads(row[18])) if row[18] else None,
            )  # fmt: skip
            if message.pending or message.reply_plan is not None:
                in_flight.append(message)
            # Consecutive messages of one account go in together, keeping global order.
            if run and run[0].account_id != message.account_id:
                await MemoryStore.add_messages(self, run, 0)
                run = []
            run.append(message)
        if run:
            await MemoryStore.add_messages(self, run, 0)
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
        account = self._accounts.get(messages[0].account_id)
        debited = bool(cost and account is not None and account.credits is not None)
        if debited:
            assert account is not None and account.credits is not None
            if account.credits < cost:
                raise InsufficientCredits(cost, account.credits)
            # Reserved now, before any await, so concurrent sends cannot overdraw.
            account.credits -= cost
        rows = [
            (
                m.reference,
                next(self._seq),
                m.account_id,
                m.to,
                m.sender,
                m.content,
                m.encoding,
                m.segments,
                m.is_test,
                int(m.status),
                m.created_at,
                m.client_reference,
                m.batch_reference,
                m.receipt_url,
                m.send_at,
                _history_json(m),
                *_plan_json(m),
            )
            for m in messages
        ]
        owed = [
            (m.reference, 0, m.account_id) for m in messages if m.status is DeliveryStatus.SKIPPED
        ]
        balance = (account.id, account.credits) if debited and account is not None else None

        def unit(connection: sqlite3.Connection) -> None:
            connection.executemany(_INSERT_MESSAGE, rows)
            if owed:
                connection.executemany(_INSERT_OUTBOX, owed)
            if balance is not None:
                connection.execute("UPDATE accounts SET credits = ? WHERE id = ?", balance[::-1])

        try:
            await self.writer.write(unit, small=len(rows) <= SMALL_WRITE)
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
        rows = [(int(m.status), _history_json(m), *_plan_json(m), m.reference) for m in messages]
        owed = (
            [(m.reference, len(m.history) - 1, m.account_id) for m in messages]
            if status_changed
            else []
        )

        def unit(connection: sqlite3.Connection) -> None:
            connection.executemany(_UPDATE_MESSAGE, rows)
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
            connection.executemany("DELETE FROM messages WHERE reference = ?", gone)
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
