"""The journal: writes each change of the mock's state to its SQLite file, and reads the
file back at start-up.

Every write is one unit, committed on the writer thread (``storage.sqlite.writer``); the
store applies a change in memory only once the journal has written it, so what a client
was told has happened survives a crash. The journal keeps no state of its own beside
the connection and the sequence that orders rows.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter
from pathlib import Path

import orjson

from mock_puresms.domain.accounts import Account, Debit
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.groups import Group
from mock_puresms.domain.messages import Message
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.tokens import AccessToken
from mock_puresms.storage.sqlite.migrations import migrate
from mock_puresms.storage.sqlite.rows import (
    Row,
    account_of,
    account_row,
    contact_of,
    contact_row,
    delivery_of,
    delivery_row,
    history_column,
    plan_columns,
    send_body,
)
from mock_puresms.storage.sqlite.writer import SqliteWriter, connect

_REFERENCE, _ACCOUNT_ID, _STATUS, _HISTORY, _CANCELLED = (
    attrgetter(name) for name in ("reference", "account_id", "status", "history", "cancelled")
)

_INSERT_SEND = "INSERT INTO sends (seq, account_id, body) VALUES (?, ?, ?)"
_UPSERT_STATE = (
    "INSERT INTO message_state (reference, account_id, status, history, pending, next_due, "
    "reply_plan, cancelled) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reference) DO UPDATE "
    "SET status = excluded.status, history = excluded.history, pending = excluded.pending, "
    "next_due = excluded.next_due, reply_plan = excluded.reply_plan, "
    "cancelled = excluded.cancelled"
)
_INSERT_OUTBOX = "INSERT OR IGNORE INTO outbox (reference, position, account_id) VALUES (?, ?, ?)"
_UPSERT_ACCOUNT = (
    "INSERT INTO accounts (id, name, credits, receipt_url, reply_url, secret, endpoints) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
    "credits = excluded.credits, receipt_url = excluded.receipt_url, "
    "reply_url = excluded.reply_url, secret = excluded.secret, endpoints = excluded.endpoints"
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
    "next_attempt_at, attempts, endpoint, replayed_at, replayed_after) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
    "next_attempt_at = excluded.next_attempt_at, attempts = excluded.attempts, "
    "replayed_at = excluded.replayed_at, replayed_after = excluded.replayed_after"
)
# Writes of up to this many rows may commit inline when the writer is idle.
SMALL_WRITE = 8
_ACCOUNT_TABLES = (
    "sends", "message_state", "replies", "contacts", "groups", "tokens", "outbox", "deliveries",
)  # fmt: skip


@dataclass(slots=True)
class Loaded:
    """Everything the file held at start-up but its messages (read in the background,
    see ``storage.sqlite.loading``), oldest first within each kind."""

    clock: int | None = None
    last_send: int = 0  # the seq of the newest send: those up to it are to be read
    accounts: list[Account] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    tokens: list[AccessToken] = field(default_factory=list)
    owed: list[tuple[str, int]] = field(default_factory=list)  # receipts (reference, index)
    deliveries: list[Delivery] = field(default_factory=list)


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
            # A value the whole send shares (its API) is stored once, not as a column.
            kept = {
                name: [column[i] for i in keep] if isinstance(column, list) else column
                for name, column in body.items()
            }
            rewritten.append((orjson.dumps(kept), seq))
    cursor.close()
    connection.executemany("UPDATE sends SET body = ? WHERE seq = ?", rewritten)
    connection.executemany("DELETE FROM sends WHERE seq = ?", emptied)


class SqliteJournal:
    """The SQLite file at ``path`` (WAL mode): ``load`` once, ``start``, then write."""

    def __init__(self, path: Path) -> None:
        self._connection = connect(path)
        try:
            migrate(self._connection)
        except BaseException:  # e.g. SchemaTooNew: the caller gets no journal to close
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

    def load(self) -> Loaded:
        """Read back everything the file holds but its messages (before ``start``)."""
        connection = self._connection
        top = 0
        for table in ("sends", "replies", "contacts", "groups", "deliveries"):
            top = max(
                top, connection.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {table}").fetchone()[0]
            )
        self._seq = itertools.count(top + 1)
        loaded = Loaded()
        loaded.accounts = [
            account_of(row)
            for row in connection.execute(
                "SELECT id, name, credits, receipt_url, reply_url, secret, endpoints FROM accounts"
            )
        ]
        last_send = connection.execute("SELECT COALESCE(MAX(seq), 0) FROM sends").fetchone()
        loaded.last_send = last_send[0]
        loaded.replies = [
            Reply(*row)
            for row in connection.execute(
                "SELECT reference, account_id, from_number, to_sender, content, received_at, "
                "in_reply_to, client_reference, batch_reference, inbound_id FROM replies "
                "ORDER BY seq"
            )
        ]
        loaded.groups = [
            Group(*row)
            for row in connection.execute(
                "SELECT id, account_id, name, created_at, updated_at FROM groups ORDER BY seq"
            )
        ]
        loaded.contacts = [
            contact_of(row)
            for row in connection.execute(
                "SELECT id, account_id, phone_number, first_name, last_name, email, custom, "
                "group_ids, opted_out, created_at, updated_at FROM contacts ORDER BY seq"
            )
        ]
        loaded.tokens = [
            AccessToken(*row)
            for row in connection.execute("SELECT digest, account_id, expires_at FROM tokens")
        ]
        loaded.owed = list(
            connection.execute("SELECT reference, position FROM outbox ORDER BY rowid")
        )
        loaded.deliveries = list(self._load_deliveries(connection))
        clock = connection.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
        loaded.clock = int(clock[0]) if clock is not None else None
        return loaded

    @staticmethod
    def _load_deliveries(connection: sqlite3.Connection) -> Iterator[Delivery]:
        for row in connection.execute(
            "SELECT id, account_id, url, kind, body, created_at, refs, state, next_attempt_at, "
            "attempts, endpoint, replayed_at, replayed_after FROM deliveries ORDER BY seq"
        ):
            yield delivery_of(row)

    def start(self) -> None:
        """Start the writer thread: writes are accepted from now on."""
        self._writer = SqliteWriter(self._connection)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        else:
            self._connection.close()

    # -- writes, one unit each --------------------------------------------------------

    async def save_clock(self, now: int) -> None:
        await self.writer.write(
            lambda c: c.execute(
                "INSERT INTO meta (key, value) VALUES ('clock', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(now),),
            )
        )

    async def save_account(self, account: Account) -> None:
        row = account_row(account)
        await self.writer.write(lambda c: c.execute(_UPSERT_ACCOUNT, row), small=True)

    async def add_messages(self, messages: Sequence[Message], debit: Debit | None) -> None:
        """The send's row, the receipts owed at once (skipped messages) and the
        account's balance after ``debit``, as one unit."""
        row = (next(self._seq), messages[0].account_id, send_body(messages))
        owed = []
        if DeliveryStatus.SKIPPED in map(_STATUS, messages):  # its receipt is owed at once
            skipped = DeliveryStatus.SKIPPED
            owed = [(m.reference, 0, m.account_id) for m in messages if m.status is skipped]

        def unit(connection: sqlite3.Connection) -> None:
            connection.execute(_INSERT_SEND, row)
            if owed:
                connection.executemany(_INSERT_OUTBOX, owed)
            if debit is not None:
                connection.execute(
                    "UPDATE accounts SET credits = ? WHERE id = ?",
                    (debit.balance, debit.account_id),
                )

        await self.writer.write(unit, small=len(messages) <= SMALL_WRITE)

    async def save_messages(self, messages: Sequence[Message], *, status_changed: bool) -> None:
        rows = list(
            zip(
                map(_REFERENCE, messages),
                map(_ACCOUNT_ID, messages),
                map(int, map(_STATUS, messages)),
                history_column(messages),
                *plan_columns(messages),
                map(int, map(_CANCELLED, messages)),
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
        self, deliveries: Sequence[Delivery], flushed: Sequence[tuple[str, int]]
    ) -> None:
        rows = [delivery_row(next(self._seq), d) for d in deliveries]
        done = list(flushed)

        def unit(connection: sqlite3.Connection) -> None:
            connection.executemany(_UPSERT_DELIVERY, rows)
            if done:
                connection.executemany(
                    "DELETE FROM outbox WHERE reference = ? AND position = ?", done
                )

        await self.writer.write(unit)

    async def delete_deliveries(self, ids: Sequence[str]) -> None:
        rows = [(delivery_id,) for delivery_id in ids]
        if rows:
            await self.writer.write(
                lambda c: c.executemany("DELETE FROM deliveries WHERE id = ?", rows)
            )

    async def add_reply(self, reply: Reply) -> None:
        row = (
            reply.reference, next(self._seq), reply.account_id, reply.from_, reply.to,
            reply.content, reply.received_at, reply.in_reply_to, reply.client_reference,
            reply.batch_reference, reply.inbound_id,
        )  # fmt: skip
        await self.writer.write(
            lambda c: c.execute(f"INSERT INTO replies VALUES ({', '.join('?' * 11)})", row)
        )

    async def save_contacts(self, contacts: Sequence[Contact], groups: Sequence[Group]) -> None:
        contact_rows = [contact_row(next(self._seq), c) for c in contacts]
        group_rows = [
            (g.id, next(self._seq), g.account_id, g.name, g.created_at, g.updated_at)
            for g in groups
        ]

        def unit(connection: sqlite3.Connection) -> None:
            connection.executemany(_UPSERT_CONTACT, contact_rows)
            connection.executemany(_UPSERT_GROUP, group_rows)

        await self.writer.write(unit)

    async def delete_contact(self, account_id: str, contact_id: str) -> None:
        await self.writer.write(
            lambda c: c.execute(
                "DELETE FROM contacts WHERE id = ? AND account_id = ?", (contact_id, account_id)
            )
        )

    async def delete_group(
        self, account_id: str, group_id: str, contacts: Sequence[Contact]
    ) -> None:
        contact_rows = [contact_row(next(self._seq), c) for c in contacts]

        def unit(connection: sqlite3.Connection) -> None:
            connection.executemany(_UPSERT_CONTACT, contact_rows)
            connection.execute(
                "DELETE FROM groups WHERE id = ? AND account_id = ?", (group_id, account_id)
            )

        await self.writer.write(unit)

    async def save_token(self, token: AccessToken) -> None:
        row = (token.digest, token.account_id, token.expires_at)
        await self.writer.write(
            lambda c: c.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", row)
        )

    async def delete_token(self, digest: str) -> None:
        await self.writer.write(
            lambda c: c.execute("DELETE FROM tokens WHERE digest = ?", (digest,))
        )

    async def delete_expired_tokens(self, now: int) -> None:
        await self.writer.write(
            lambda c: c.execute("DELETE FROM tokens WHERE expires_at <= ?", (now,))
        )

    async def forget(self, messages: Sequence[Message], replies: Sequence[Reply]) -> None:
        """Delete messages (wherever their send and state are kept) and replies."""
        gone = [(m.reference,) for m in messages]
        gone_replies = [(r.reference,) for r in replies]

        def unit(connection: sqlite3.Connection) -> None:
            _drop_from_sends(connection, {reference for (reference,) in gone})
            connection.executemany("DELETE FROM message_state WHERE reference = ?", gone)
            connection.executemany("DELETE FROM outbox WHERE reference = ?", gone)
            connection.executemany("DELETE FROM replies WHERE reference = ?", gone_replies)

        await self.writer.write(unit)

    async def reset(self, account_id: str | None) -> None:
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
