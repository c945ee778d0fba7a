"""Messages sent and status changes as log lines at ``debug`` (logger ``mock_puresms.messages``).

A subscriber of the core's events, installed by the composition root (``build_mock``): the
domain publishes what happened and knows nothing of logging. Every event pays one
``isEnabledFor`` check and nothing else unless ``debug`` is on, so a 15,000-message bulk
send costs nothing to log at the usual levels. At ``debug`` a bulk gets one summary line,
then one line per message (that much is what ``debug`` asks for). Times are mock-clock
times, as the API shows them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mock_puresms.domain.events import Event, MessagesCreated, StatusChanged, StatusesChanged
from mock_puresms.domain.messages import Message
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.timestamps import format_ms

log = logging.getLogger("mock_puresms.messages")


def on_event(event: Event) -> None:
    """Log sends and status changes when ``mock_puresms.messages`` logs ``debug``."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    if isinstance(event, MessagesCreated):
        _created(event.messages)
    elif isinstance(event, StatusesChanged):
        _changed(event.messages, event.status, event.at)
    elif isinstance(event, StatusChanged):
        _changed((event.message,), event.status, event.at)


def _created(messages: Sequence[Message]) -> None:
    if not messages:
        return
    first = messages[0]
    if len(messages) > 1:
        batch = f" (batch {first.batch_reference})" if first.batch_reference else ""
        log.debug(
            "sent %d messages%s for account %s at %s",
            len(messages),
            batch,
            first.account_id,
            format_ms(first.created_at),
            extra={
                "data": {
                    "count": len(messages),
                    "batchReference": first.batch_reference,
                    "accountId": first.account_id,
                }
            },
        )
    for message in messages:
        scheduled = f", scheduled for {format_ms(message.send_at)}" if message.send_at else ""
        log.debug(
            "sent %s to %s from %s: %d segment(s), %s%s (account %s)",
            message.reference,
            message.to,
            message.sender,
            message.segments,
            message.status.label,
            scheduled,
            message.account_id,
            extra={
                "data": {
                    "reference": message.reference,
                    "to": message.to,
                    "status": message.status.label,
                    "accountId": message.account_id,
                }
            },
        )


def _changed(messages: Sequence[Message], status: DeliveryStatus, at: int) -> None:
    when = format_ms(at)
    if len(messages) > 1:
        log.debug("%d messages became %s at %s", len(messages), status.label, when)
    for message in messages:
        log.debug(
            "%s became %s at %s",
            message.reference,
            status.label,
            when,
            extra={"data": {"reference": message.reference, "status": status.label, "at": when}},
        )
