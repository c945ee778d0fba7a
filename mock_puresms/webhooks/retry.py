"""Attempts of a delivery: one signed POST, recorded; when the next comes; when to give up.

A delivery is POSTed until a ``200`` (a Connect event: any 2xx). After a failed attempt
the next waits ``firstRetry``, doubling each time up to ``maxInterval``, on the mock clock; once the
next attempt would come more than ``maxAge`` after the delivery was created, it has
failed. Each POST's timeout is wall time (it is about the network).
"""

from __future__ import annotations

import time

from mock_puresms.domain.deliveries import Attempt, ChaosMark, Delivery
from mock_puresms.settings import WebhookTuning
from mock_puresms.webhooks.chaos import tamper
from mock_puresms.webhooks.sender import DeliveryFailed, WebhookSender
from mock_puresms.webhooks.signing import signature


def backoff_ms(tuning: WebhookTuning, failed_attempts: int) -> int:
    """Wait before the next attempt: ``firstRetry`` doubling, at most ``maxInterval``."""
    exponent = min(failed_attempts - 1, 40)
    delay: int = min(tuning.first_retry_ms * (2**exponent), tuning.max_interval_ms)
    return delay


def next_attempt_at(tuning: WebhookTuning, delivery: Delivery, due: int, now: int) -> int | None:
    """After ``delivery``'s latest attempt (due at ``due``) failed: when to try again,
    or ``None`` when that would be past ``maxAge`` (the delivery has failed)."""
    # A replayed delivery starts over: backoff and ``maxAge`` count from the replay.
    failed = len(delivery.attempts) - delivery.replayed_after
    since = delivery.replayed_at if delivery.replayed_at is not None else delivery.created_at
    retry_at = max(due, now) + backoff_ms(tuning, failed)
    if retry_at - since > tuning.max_age_ms:
        return None
    return retry_at


def headers(delivery: Delivery, secret: str | None) -> dict[str, str]:
    """The headers of the delivery's next attempt, signed when the account has a secret."""
    result = {
        "Content-Type": "application/json",
        "User-Agent": "mock-puresms-webhooks",
        "X-Mock-Delivery-Id": delivery.id,
        "X-Mock-Attempt": str(len(delivery.attempts) + 1),
    }
    if secret:
        # Wall time, so receivers that reject stale signatures work on a virtual clock.
        timestamp = int(time.time())
        result["X-Webhook-Timestamp"] = str(timestamp)
        result["X-Webhook-Signature"] = signature(secret, timestamp, delivery.body)
    return result


async def post_once(
    sender: WebhookSender,
    delivery: Delivery,
    secret: str | None,
    timeout_ms: int,
    due: int,
    chaos: ChaosMark | None = None,
) -> Attempt:
    """POST ``delivery`` once; the attempt (not yet recorded on it): status or error.
    ``chaos``: a signature chaos to spoil this attempt's signature with."""
    status: int | None = None
    error: str | None = None
    sent_headers = headers(delivery, secret)
    if chaos is not None and secret:
        tamper(sent_headers, chaos, secret, delivery.body)
    started = time.perf_counter()
    try:
        status = await sender.post(delivery.url, delivery.body, sent_headers, timeout_ms / 1000)
    except DeliveryFailed as exc:
        error = str(exc)
    duration = (time.perf_counter() - started) * 1000
    kinds = (chaos.kind,) if chaos is not None and secret else ()
    return Attempt(due, status, error, round(duration, 3), sent_headers, kinds)
