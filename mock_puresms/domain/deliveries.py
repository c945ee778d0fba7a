"""A webhook delivery: one POST body bound for one URL, and every attempt to send it.

Plain data, so stores can keep deliveries; the webhooks package does the sending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DeliveryKind = Literal["receipts", "reply", "connect.receipt", "connect.inbound"]
DeliveryState = Literal["pending", "delivered", "failed"]


@dataclass(slots=True)
class Attempt:
    """One try: when (mock clock), the status answered or the error, how long it took,
    and the headers the mock sent with it (none when it was never sent)."""

    at: int
    status: int | None
    error: str | None
    duration_ms: float
    request_headers: dict[str, str] = field(default_factory=dict)
    # The chaos this POST carried on purpose: on a first attempt its timing chaos
    # (``delay``/``reorder``) then its signature chaos, on a copy ``duplicate``.
    chaos: tuple[str, ...] = ()


@dataclass(slots=True)
class ChaosMark:
    """Chaos chosen for a delivery when it was created (scenario ``webhooks.chaos`` or
    the account's): its kind and what exactly was done (``{"delayMs": 120000}``)."""

    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Delivery:
    """A POST the mock owes a receiver; retried until a ``200`` or until it is too old.

    ``references`` are the messages whose receipts it carries: a later delivery that
    carries one of them waits for this one (``blocked_by``), so per-message order holds.
    """

    id: str
    account_id: str
    url: str
    kind: DeliveryKind
    body: bytes
    created_at: int
    references: tuple[str, ...] = ()
    state: DeliveryState = "pending"
    next_attempt_at: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    # A Connect event's endpoint: its index among its account's endpoints.
    endpoint: int | None = None
    # Replayed through the control surface: when, and after how many attempts (backoff
    # and ``maxAge`` count afresh from there; attempt numbers go on).
    replayed_at: int | None = None
    replayed_after: int = 0
    # The chaos chosen for it, in the order of the rules that chose it.
    chaos: list[ChaosMark] = field(default_factory=list)
    blocked_by: set[Delivery] = field(default_factory=set)
    dependents: list[Delivery] = field(default_factory=list)
    waiting: bool = False

    @property
    def finished(self) -> bool:
        return self.state != "pending"

    @property
    def is_connect(self) -> bool:
        """A Connect event (one per POST, any 2xx counts) rather than a v1 webhook."""
        return self.endpoint is not None
