"""Connect events (API.md 9.5): one JSON object per POST, in the endpoint's format.

``observed`` is what the real service was seen sending (snake_case envelope, PascalCase
data, ``MessageId`` of a receipt as an exact JSON number); ``documented`` is what its
documentation shows (camelCase, ids as strings). Both carry the event's id, stable
across retries, and its time on the mock clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from mock_puresms.domain.connect_status import ConnectStatus, error_code
from mock_puresms.domain.endpoints import INBOUND_EVENT, RECEIPT_EVENT, EndpointFormat
from mock_puresms.domain.messages import Message
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.reports import Pricing
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.timestamps import format_ms


@dataclass(frozen=True, slots=True)
class ReceiptEvent:
    """A Connect status change of one message, captured when it happened."""

    message: Message
    status: DeliveryStatus
    connect: ConnectStatus
    at: int
    event: uuid.UUID


def event_id(event: uuid.UUID, fmt: EndpointFormat) -> str:
    """One event, two spellings: a uuid4 (observed) or ``evt_<hex>`` (documented)."""
    return str(event) if fmt == "observed" else f"evt_{event.hex}"


def _cost(segments: int, price: float | None) -> float | None:
    # Rounded so that 3 x 0.035 reads 0.105, not 0.10500000000000001.
    return round(segments * price, 6) if price is not None else None


def receipt_body(change: ReceiptEvent, fmt: EndpointFormat, prices: Pricing) -> bytes:
    message = change.message
    at = format_ms(change.at)
    delivered = at if change.connect is ConnectStatus.DELIVERED else None
    code = error_code(change.status)
    gbp, eur = (
        _cost(message.segments, prices.gbp_per_segment),
        _cost(message.segments, prices.eur_per_segment),
    )
    body: dict[str, Any]
    if fmt == "observed":
        body = {
            "id": event_id(change.event, fmt),
            "timestamp": at,
            "workspace_id": message.account_id,
            "event_type": RECEIPT_EVENT,
            "data": {
                # A JSON number with all its digits (orjson writes 64-bit ints exactly).
                "MessageId": int(message.reference),
                "ClientReference": message.client_reference,
                "DeliveryStatus": int(change.connect),
                "DeliveryStatusStr": change.connect.label,
                "ErrorCode": code,
                "ProcessedAt": at,
                "DeliveredAt": delivered,
                "SmsParts": message.segments,
                "CostEur": eur,
                "CostGbp": gbp,
            },
        }
    else:
        body = {
            "id": event_id(change.event, fmt),
            "timestamp": at,
            "workspaceId": message.account_id,
            "eventType": RECEIPT_EVENT,
            "data": {
                "messageId": message.reference,
                "clientReference": message.client_reference,
                "deliveryStatus": change.connect.label,
                "errorCode": code,
                "processedAt": at,
                "deliveredAt": delivered,
                "smsParts": message.segments,
                "costEur": eur,
                "costGbp": gbp,
            },
        }
    return orjson.dumps(body)


def inbound_body(reply: Reply, event: uuid.UUID, fmt: EndpointFormat) -> bytes:
    at = format_ms(reply.received_at)
    # Replies stored before they had ids get one now (old stores only).
    inbound_id = reply.inbound_id or str(event.int >> 65)
    sender = reply.from_ if reply.from_.startswith("+") else f"+{reply.from_}"
    body: dict[str, Any]
    if fmt == "observed":
        body = {
            "id": event_id(event, fmt),
            "timestamp": at,
            "workspace_id": reply.account_id,
            "event_type": INBOUND_EVENT,
            "data": {
                "MessageId": inbound_id,
                "InboundNumber": reply.to,
                "Sender": sender,
                "Body": reply.content,
                "ReceivedAt": at,
                "Channel": "sms",
            },
        }
    else:
        body = {
            "id": event_id(event, fmt),
            "timestamp": at,
            "workspaceId": reply.account_id,
            "eventType": INBOUND_EVENT,
            "data": {
                "messageId": inbound_id,
                "inboundNumber": reply.to,
                "sender": sender,
                "body": reply.content,
                "receivedAt": at,
            },
        }
    return orjson.dumps(body)
