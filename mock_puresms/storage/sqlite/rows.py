"""How domain values become SQLite rows and back.

Messages are kept one row per send (``sends``: a JSON array per field), so a bulk of
15,000 is one row written in milliseconds rather than 15,000 rows; a message whose
state changed since it was sent has its current state in ``message_state``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import repeat
from operator import attrgetter, is_
from typing import Any, TypeVar

import orjson

from mock_puresms.domain.accounts import Account, WebhookSettings
from mock_puresms.domain.contacts import Contact
from mock_puresms.domain.deliveries import Attempt, Delivery
from mock_puresms.domain.endpoints import Endpoint
from mock_puresms.domain.messages import (
    V1,
    HistoryEntry,
    Message,
    PlannedStep,
    build_messages,
    new_entry,
)
from mock_puresms.domain.statuses import DeliveryStatus

Row = tuple[Any, ...]
T = TypeVar("T")
U = TypeVar("U")

_HISTORY, _PENDING, _NEXT_DUE, _REPLY_PLAN, _CLIENT_TAG = (
    attrgetter(name) for name in ("history", "pending", "next_due", "reply_plan", "client_tag")
)

# A send's row holds one JSON array per message field, in this order; the encoded
# history, pending steps and reply plan are embedded as they are stored in message_state.
SEND_FIELDS = (
    "reference", "to", "sender", "content", "encoding", "segments", "is_test", "status",
    "created_at", "client_reference", "batch_reference", "receipt_url", "send_at",
)  # fmt: skip
_SEND_GETTERS = tuple(attrgetter(name) for name in SEND_FIELDS)  # Message's attribute names


def history_json(history: tuple[HistoryEntry, ...]) -> bytes:
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


def history_column(messages: Sequence[Message]) -> list[bytes]:
    """Each message's history as JSON: the messages of one send, or of one simulation
    step, share one history tuple, which is then encoded once."""
    return _shared_column(list(map(_HISTORY, messages)), history_json)


def plan_columns(
    messages: Sequence[Message],
) -> tuple[list[bytes | None], list[int | None], list[bytes | None]]:
    """The pending steps, next due time and reply plan of each message, as stored."""
    pending = _shared_column(list(map(_PENDING, messages)), _pending_json)
    replies = _shared_column(list(map(_REPLY_PLAN, messages)), _reply_json)
    return pending, list(map(_NEXT_DUE, messages)), replies


def send_body(messages: Sequence[Message]) -> bytes:
    """The ``sends.body`` of messages created together: one JSON array per field."""
    if len(messages) == 1:
        return single_send_body(messages[0])
    return columns_send_body(messages)


def columns_send_body(messages: Sequence[Message]) -> bytes:
    """``send_body`` built a column at a time, values shared by the send encoded once."""
    body: dict[str, list[Any]] = {
        name: list(map(getter, messages))
        for name, getter in zip(SEND_FIELDS, _SEND_GETTERS, strict=True)
    }
    body["history"] = list(map(orjson.Fragment, history_column(messages)))
    pending, next_due, reply_plan = plan_columns(messages)
    body["pending"] = _fragments(pending)
    body["next_due"] = next_due
    body["reply_plan"] = _fragments(reply_plan)
    _add_api_fields(body, messages)
    return orjson.dumps(body)


def single_send_body(message: Message) -> bytes:
    """``send_body`` of one message, encoded in one pass (the same bytes)."""
    pending = [(int(s), after) for s, after in message.pending] if message.pending else None
    body: dict[str, list[Any]] = {
        name: [getter(message)] for name, getter in zip(SEND_FIELDS, _SEND_GETTERS, strict=True)
    }
    body["history"] = [[(int(status), at) for status, at in message.history]]
    body["pending"] = [pending]
    body["next_due"] = [message.next_due]
    body["reply_plan"] = [message.reply_plan]
    _add_api_fields(body, (message,))
    return orjson.dumps(body)


def _add_api_fields(body: dict[str, Any], messages: Sequence[Message]) -> None:
    """The API and client tags of a send, written only where they are not v1's defaults
    (a send comes through one API; most have no tags): rows stay as they were for v1."""
    if messages[0].api != V1:
        body["api"] = messages[0].api
    tags = list(map(_CLIENT_TAG, messages))
    if tags.count(None) != len(tags):
        body["client_tag"] = tags


def _fragments(encoded: list[bytes | None]) -> list[orjson.Fragment | None]:
    """Already-encoded JSON values, embedded as they are (null where there is none)."""
    return _shared_column(encoded, lambda value: None if value is None else orjson.Fragment(value))


def _history(stored: list[list[int]]) -> tuple[HistoryEntry, ...]:
    return tuple(new_entry(HistoryEntry, (DeliveryStatus(s), at)) for s, at in stored)


def _pending(stored: list[list[int]] | None) -> tuple[PlannedStep, ...]:
    return tuple((DeliveryStatus(s), after) for s, after in stored or ())


def _reply_plan(stored: list[Any] | None) -> tuple[int, str] | None:
    return (stored[0], stored[1]) if stored else None


def messages_of(account_id: str, body: dict[str, Any], changed: dict[str, Row]) -> list[Message]:
    """The messages of one stored send, with the state of those changed since
    (``changed``: reference -> status, history, pending, next_due, reply_plan,
    cancelled as stored)."""
    statuses, histories = body["status"], body["history"]
    pending, next_due, reply_plan = body["pending"], body["next_due"], body["reply_plan"]
    cancelled: list[bool] | None = None
    for index, reference in enumerate(body["reference"]):
        state = changed.get(reference)
        if state is not None:
            statuses[index], histories[index] = state[0], orjson.loads(state[1])
            pending[index] = orjson.loads(state[2]) if state[2] else None
            next_due[index] = state[3]
            reply_plan[index] = orjson.loads(state[4]) if state[4] else None
            if state[5]:
                if cancelled is None:
                    cancelled = [False] * len(statuses)
                cancelled[index] = True
    return build_messages(
        reference=body["reference"],
        account_id=repeat(account_id),
        to=body["to"],
        sender=body["sender"],
        content=body["content"],
        encoding=body["encoding"],
        segments=body["segments"],
        is_test=map(bool, body["is_test"]),
        status=map(DeliveryStatus, statuses),
        created_at=body["created_at"],
        client_reference=body["client_reference"],
        batch_reference=body["batch_reference"],
        receipt_url=body["receipt_url"],
        send_at=body["send_at"],
        history=map(_history, histories),
        pending=map(_pending, pending),
        next_due=next_due,
        reply_plan=map(_reply_plan, reply_plan),
        api=repeat(body.get("api", V1)),
        client_tag=body.get("client_tag") or repeat(None),
        cancelled=cancelled or repeat(False),
    )


def account_row(account: Account) -> Row:
    w = account.webhooks
    return (
        account.id,
        account.name,
        account.credits,
        w.delivery_receipt_url,
        w.reply_url,
        w.secret,
        orjson.dumps([endpoint_json(endpoint) for endpoint in account.endpoints]),
    )


def endpoint_json(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url, "events": list(endpoint.events), "secret": endpoint.secret,
        "format": endpoint.format, "enabled": endpoint.enabled, "failures": endpoint.failures,
    }  # fmt: skip


def account_of(row: Row) -> Account:
    endpoints = [
        Endpoint(
            e["url"], tuple(e["events"]), e["secret"], e["format"], e["enabled"], e["failures"]
        )
        for e in orjson.loads(row[6])
    ]
    return Account(row[0], row[1], row[2], WebhookSettings(row[3], row[4], row[5]), endpoints)


def contact_row(seq: int, contact: Contact) -> Row:
    return (
        contact.id, seq, contact.account_id, contact.phone_number, contact.first_name,
        contact.last_name, contact.email, orjson.dumps(dict(contact.custom)),
        orjson.dumps(list(contact.group_ids)), int(contact.opted_out), contact.created_at,
        contact.updated_at,
    )  # fmt: skip


def contact_of(row: Row) -> Contact:
    return Contact(
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


def delivery_row(seq: int, delivery: Delivery) -> Row:
    # An attempt's chaos is stored only when it had some: plain rows stay as they were.
    attempts = [
        (a.at, a.status, a.error, a.duration_ms, a.request_headers)
        + ((list(a.chaos),) if a.chaos else ())
        for a in delivery.attempts
    ]
    return (
        delivery.id, seq, delivery.account_id, delivery.url, delivery.kind, delivery.body,
        delivery.created_at, orjson.dumps(list(delivery.references)), delivery.state,
        delivery.next_attempt_at, orjson.dumps(attempts), delivery.endpoint,
        delivery.replayed_at, delivery.replayed_after,
    )  # fmt: skip


def _attempt(*fields: Any) -> Attempt:
    """An attempt as stored: its chaos (a list, when it had some) comes back a tuple."""
    at, status, error, duration_ms, *rest = fields
    headers = rest[0] if rest else {}
    chaos = tuple(rest[1]) if len(rest) > 1 else ()
    return Attempt(at, status, error, duration_ms, headers, chaos)


def delivery_of(row: Row) -> Delivery:
    # An attempt stored before request headers were kept has four fields: it loads with
    # none (``Attempt.request_headers`` defaults to empty).
    return Delivery(
        id=row[0], account_id=row[1], url=row[2], kind=row[3], body=bytes(row[4]),
        created_at=row[5], references=tuple(orjson.loads(row[6])), state=row[7],
        next_attempt_at=row[8], attempts=[_attempt(*attempt) for attempt in orjson.loads(row[9])],
        endpoint=row[10], replayed_at=row[11], replayed_after=row[12],
    )  # fmt: skip
