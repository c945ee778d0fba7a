"""Webhook endpoints of the current PureSMS API (API.md 9.5): where an account's
Connect events go, which event types each wants, how they are signed and written.

Plain data kept with the account. ``failures`` counts consecutive failed attempts to the
endpoint across events; after ``disableAfter`` of them it is disabled until re-enabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EndpointFormat = Literal["observed", "documented"]
FORMATS: tuple[EndpointFormat, ...] = ("observed", "documented")

# Event types of the current API.
RECEIPT_EVENT = 1
INBOUND_EVENT = 2
EVENT_TYPES = (RECEIPT_EVENT, INBOUND_EVENT)


@dataclass(slots=True)
class Endpoint:
    """One receiver of Connect events; ``enabled`` and ``failures`` change as it is used."""

    url: str
    events: tuple[int, ...] = EVENT_TYPES
    secret: str | None = None
    format: EndpointFormat = "observed"
    enabled: bool = True
    failures: int = 0

    def wants(self, event_type: int) -> bool:
        return event_type in self.events

    def copy(self) -> Endpoint:
        """A fresh endpoint with the same settings (each account gets its own state)."""
        return Endpoint(self.url, self.events, self.secret, self.format)
