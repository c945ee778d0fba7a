"""Typed results of the control client: the mock's JSON as dataclasses with snake_case names.

Timestamps become aware ``datetime`` objects in UTC and statuses become
``DeliveryStatus`` members. At this layer there is no HTTP: each ``from_json`` takes the
decoded JSON of one resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from mock_puresms.domain.statuses import DeliveryStatus


def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp of the mock (``...Z``) as an aware UTC ``datetime``."""
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _time(value: str) -> datetime:
    parsed = parse_time(value)
    assert parsed is not None
    return parsed


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One entry of a message's history: the status and the mock-clock time it was due."""

    status: DeliveryStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class Message:
    """An outbound SMS as the mock holds it."""

    reference: str
    account: str | None
    to: str
    from_: str
    content: str
    status: DeliveryStatus
    is_test: bool
    segments: int
    encoding: str
    created_at: datetime
    updated_at: datetime
    client_reference: str | None = None
    batch_reference: str | None = None
    delivery_receipt_url: str | None = None
    send_at: datetime | None = None
    history: tuple[StatusChange, ...] = ()
    api: str = "v1"  # the PureSMS API it came through: "v1" or "connect"
    client_tag: str | None = None
    connect_status: str | None = None  # the current API's name for its status
    error_code: str | None = None

    @property
    def statuses(self) -> list[DeliveryStatus]:
        """Every status the message has had, oldest first."""
        return [change.status for change in self.history]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(
            reference=data["reference"],
            account=data.get("account"),
            to=data["to"],
            from_=data["from"],
            content=data["content"],
            status=DeliveryStatus(data["deliveryStatus"]),
            is_test=data["isTest"],
            segments=data["segments"],
            encoding=data["encoding"],
            created_at=_time(data["createdAt"]),
            updated_at=_time(data["updatedAt"]),
            client_reference=data.get("clientReference"),
            batch_reference=data.get("batchReference"),
            delivery_receipt_url=data.get("deliveryReceiptUrl"),
            send_at=parse_time(data.get("sendAt")),
            history=tuple(
                StatusChange(DeliveryStatus(entry["deliveryStatus"]), _time(entry["at"]))
                for entry in data.get("history", ())
            ),
            api=data.get("api", "v1"),
            client_tag=data.get("clientTag"),
            connect_status=data.get("connectStatusName"),
            error_code=data.get("errorCode"),
        )


@dataclass(frozen=True, slots=True)
class Reply:
    """An inbound SMS: the phone ``from_`` texted the sender ``to``."""

    reference: str
    from_: str
    to: str
    content: str
    received_at: datetime
    in_reply_to: str | None = None
    client_reference: str | None = None
    batch_reference: str | None = None
    account: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(
            reference=data["reference"],
            from_=data["from"],
            to=data["to"],
            content=data["content"],
            received_at=_time(data["receivedAt"]),
            in_reply_to=data.get("inReplyTo"),
            client_reference=data.get("clientReference"),
            batch_reference=data.get("batchReference"),
            account=data.get("account"),
        )


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One try of a webhook POST: the status answered, or the error; the headers sent."""

    at: datetime
    status: int | None
    error: str | None
    duration_ms: float
    request_headers: dict[str, str] = field(default_factory=dict)
    # The chaos this POST carried on purpose (``delay``, ``badSignature``, ``duplicate``...).
    chaos: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """A webhook POST the mock owes (or owed) a receiver, with every attempt."""

    id: str
    url: str
    kind: Literal["receipts", "reply", "connect.receipt", "connect.inbound"]
    account: str
    body: Any
    state: Literal["pending", "delivered", "failed"]
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: tuple[WebhookAttempt, ...] = ()
    endpoint: int | None = None  # a Connect event's endpoint index
    # The chaos chosen for it: ``{"kind": "delay", "delayMs": 120000}``...
    chaos: tuple[dict[str, Any], ...] = ()

    @property
    def chaos_kinds(self) -> tuple[str, ...]:
        """The kinds of chaos done to it on purpose, in rule order."""
        return tuple(mark["kind"] for mark in self.chaos)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookDelivery:
        return cls(
            id=data["id"],
            url=data["url"],
            kind=data["kind"],
            account=data["account"],
            body=data["body"],
            state=data["state"],
            created_at=_time(data["createdAt"]),
            next_attempt_at=parse_time(data.get("nextAttemptAt")),
            endpoint=data.get("endpoint"),
            chaos=tuple(data.get("chaos") or ()),
            attempts=tuple(
                WebhookAttempt(
                    _time(attempt["at"]),
                    attempt["status"],
                    attempt["error"],
                    attempt["durationMs"],
                    dict(attempt.get("requestHeaders") or {}),
                    tuple(attempt.get("chaos") or ()),
                )
                for attempt in data.get("attempts", ())
            ),
        )


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """A webhook endpoint of the current API: where an account's Connect events go."""

    index: int
    url: str
    events: tuple[int, ...]
    secret: str | None
    format: Literal["observed", "documented"]
    enabled: bool
    consecutive_failures: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookEndpoint:
        return cls(
            index=data["index"],
            url=data["url"],
            events=tuple(data["events"]),
            secret=data["secret"],
            format=data["format"],
            enabled=data["enabled"],
            consecutive_failures=data["consecutiveFailures"],
        )

    def config(self) -> dict[str, Any]:
        """The endpoint as ``PUT /_mock/accounts/{account}/endpoints`` takes it."""
        return {
            "url": self.url,
            "events": list(self.events),
            "secret": self.secret,
            "format": self.format,
        }


@dataclass(frozen=True, slots=True)
class Fault:
    """An injected fault: the next ``times`` matching requests answer ``status``
    (or are delayed by ``delay_ms`` first)."""

    id: str
    method: str
    path: str
    status: int | None
    times: int
    delay_ms: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        return cls(
            id=data["id"],
            method=data["method"],
            path=data["path"],
            status=data.get("status"),
            times=data["times"],
            delay_ms=data["delayMs"],
            body=data.get("body"),
            headers=dict(data.get("headers") or {}),
            hits=data.get("hits", 0),
        )


@dataclass(frozen=True, slots=True)
class ClockState:
    """The mock's clock: ``virtual`` (moves only by ``advance``) or ``real``."""

    mode: Literal["real", "virtual"]
    now: datetime
    time_scale: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClockState:
        return cls(mode=data["mode"], now=_time(data["now"]), time_scale=data["timeScale"])


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    """The active scenario; ``source`` is its YAML (or JSON) text."""

    name: str
    description: str | None
    seed: int | None
    source: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScenarioInfo:
        return cls(
            name=data["name"],
            description=data.get("description"),
            seed=data.get("seed"),
            source=data["source"],
        )
