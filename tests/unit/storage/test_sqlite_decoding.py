"""``SendDecoder`` (the restart's fast decoding, sharing values between messages) reads
back the very messages the plain ``rows.messages_of`` does."""

from __future__ import annotations

import random
import sqlite3
from typing import Any

import orjson
import pytest
from store_kinds import message, state

from mock_puresms.domain.messages import CONNECT, HistoryEntry, Message
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.storage.sqlite.decoding import SendDecoder
from mock_puresms.storage.sqlite.rows import (
    Row,
    history_column,
    messages_of,
    plan_columns,
    send_body,
)

STATUSES = list(DeliveryStatus)


def a_send(rng: random.Random, number: int) -> list[Message]:
    """The messages of one send: a uniform bulk, or messages that differ in every way."""
    count = rng.choice([1, 2, 7, 40])
    uniform = rng.random() < 0.5
    status = rng.choice(STATUSES)
    history = (HistoryEntry(status, 1000 + number),)
    fields: dict[str, Any] = {
        "sender": "Acme", "content": "Hi", "created_at": 1000 + number,
        "batch_reference": f"B{number}" if count > 1 else None, "status": status,
        "history": history,
    }  # fmt: skip
    if rng.random() < 0.3:
        fields.update(api=CONNECT, client_tag="tag")
    messages = []
    for i in range(count):
        own = dict(fields)
        if not uniform:
            own.update(
                content=rng.choice(["Hi", "Hello", f"Hi {i}"]),
                sender=rng.choice(["Acme", "Other"]),
                client_reference=rng.choice([None, "c1", f"c{i}"]),
                pending=rng.choice([(), ((DeliveryStatus.ENROUTE, 100),)]),
                next_due=rng.choice([None, 5000]),
                reply_plan=rng.choice([None, (10, "STOP")]),
                send_at=rng.choice([None, 9000]),
                receipt_url=rng.choice([None, "https://r.test/"]),
            )
            if "client_tag" in own:
                own["client_tag"] = rng.choice([None, "tag", "other"])
        messages.append(message(f"M{number}-{i}", to=f"4477009{i:05d}", **own))
    return messages


def state_rows(rng: random.Random, messages: list[Message]) -> list[Row]:
    """Move some messages on (none, some or all) and return their message_state rows,
    as the journal writes them, by position in the send (as the restart reads them)."""
    share = rng.choice([0.0, 0.5, 1.0])
    moved = [m for m in messages if rng.random() < share]
    step = (HistoryEntry(DeliveryStatus.DELIVERED, 7000),)
    for m in moved:
        m.status = rng.choice([DeliveryStatus.DELIVERED, DeliveryStatus.DELETED])
        m.history = (*m.history, *step) if rng.random() < 0.8 else (*m.history, (m.status, 1))
        m.pending = rng.choice([(), ((DeliveryStatus.DELIVERED, 50),)])
        m.next_due = rng.choice([None, 8000])
        m.reply_plan = rng.choice([None, (3, "YES")])
        m.cancelled = m.status is DeliveryStatus.DELETED and rng.random() < 0.5
    if not moved:
        return []
    histories = history_column(moved)
    pending, next_due, replies = plan_columns(moved)
    position = {m.reference: index for index, m in enumerate(messages)}
    return [
        (position[m.reference], int(m.status), h.decode(), p and p.decode(), d,
         r and r.decode(), int(m.cancelled))
        for m, h, p, d, r in zip(moved, histories, pending, next_due, replies, strict=True)
    ]  # fmt: skip


@pytest.mark.parametrize("seed", range(8))
def test_the_decoder_reads_back_what_the_plain_decoding_does(seed: int) -> None:
    rng = random.Random(seed)
    decoder = SendDecoder()  # one for every send, as at a restart: its caches carry over
    connection = sqlite3.connect(":memory:")
    for number in range(30):
        messages = a_send(rng, number)
        body = send_body(messages)  # as sent: the body keeps the state at the send
        rows = state_rows(rng, messages)
        columns = dict(connection.execute("SELECT key, value FROM json_each(?)", (body,)))
        by_reference = {messages[row[0]].reference: row[1:] for row in rows}
        plain = messages_of("acc", orjson.loads(body), by_reference)
        fast = decoder.messages("acc", columns, rows)
        assert [state(m) for m in fast] == [state(m) for m in plain] == list(map(state, messages))


def test_a_bulk_decoded_shares_its_repeated_values() -> None:
    bulk = [message(f"M{i}", to=f"44770090{i:04d}") for i in range(50)]
    connection = sqlite3.connect(":memory:")
    body = send_body(bulk)
    columns = dict(connection.execute("SELECT key, value FROM json_each(?)", (body,)))
    decoded = SendDecoder().messages("acc", columns, [])
    for name in ("sender", "content", "encoding", "created_at", "history"):
        assert len({id(getattr(m, name)) for m in decoded}) == 1, name
    assert len({m.to for m in decoded}) == 50
