"""Log lines about webhook attempts (logger ``mock_puresms.webhooks``).

A receiver that refuses is the first thing to look for when a test waits for a receipt
in vain, so each failed attempt is a ``warning`` (URL, status or error, attempt number,
when the next comes on the mock clock); the end of a delivery that needed retries, given
up or finally received, is an ``info`` line. A first-time success says nothing: that is
the normal case, and a bulk send makes thousands.
"""

from __future__ import annotations

import logging

from mock_puresms.domain.deliveries import Attempt, Delivery
from mock_puresms.domain.timestamps import format_ms

log = logging.getLogger("mock_puresms.webhooks")


def attempt_ended(
    delivery: Delivery,
    attempt: Attempt,
    retry_at: int | None,
    now: int,
    *,
    received: bool | None = None,
    no_retry: str = "maxAge reached",
) -> None:
    """After ``attempt`` (already recorded on ``delivery``): ``retry_at`` is when the next
    comes, ``None`` when there is none (received, or given up: ``no_retry`` says why).
    ``received`` defaults to v1's rule (only a ``200`` counts)."""
    number = len(delivery.attempts)
    if received is None:
        received = attempt.status == 200
    if received and number == 1:
        return  # the hot path: nothing to build
    data = {
        "deliveryId": delivery.id,
        "url": delivery.url,
        "attempt": number,
        "status": attempt.status,
        "error": attempt.error,
    }
    if received:
        log.info(
            "webhook %s to %s received at attempt %d",
            delivery.id,
            delivery.url,
            number,
            extra={"data": data},
        )
        return
    outcome = f"answered {attempt.status}" if attempt.status is not None else attempt.error
    if retry_at is None:
        next_try = f"no retry: {no_retry}"
    else:
        wait = (retry_at - now) / 1000
        next_try = f"next try at {format_ms(retry_at)} on the mock clock (in {wait:g} s)"
    log.warning(
        "webhook %s to %s: attempt %d failed (%s); %s",
        delivery.id,
        delivery.url,
        number,
        outcome,
        next_try,
        extra={"data": {**data, "nextAttemptAt": format_ms(retry_at) if retry_at else None}},
    )
    if retry_at is None:
        log.info(
            "webhook %s to %s failed: gave up after %d attempts since %s",
            delivery.id,
            delivery.url,
            number,
            format_ms(delivery.created_at),
            extra={"data": {**data, "state": "failed"}},
        )
