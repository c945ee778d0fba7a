"""``/sms/send``: sending and cancelling through the current API (API.md 9.2, 9.3)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.api_connect.auth import authenticate
from mock_puresms.api_connect.errors import ConnectError, connect_endpoint
from mock_puresms.api_connect.requests import (
    bulk_error_entries,
    bulk_rejected,
    parse_bulk,
    parse_send,
)
from mock_puresms.domain.accounts import InsufficientCredits
from mock_puresms.domain.messages import CONNECT, new_ids
from mock_puresms.domain.phones import region_of
from mock_puresms.domain.sending import Outbound
from mock_puresms.web.body import read_json
from mock_puresms.web.context import mock_of
from mock_puresms.web.pacing import between_phases
from mock_puresms.web.responses import json_response


def _payment_required(exc: InsufficientCredits) -> ConnectError:
    return ConnectError(402, str(exc))


@connect_endpoint
async def send(request: Request) -> Response:
    """``POST /sms/send``: one message; answers its id and the recipient's region."""
    account = await authenticate(request)
    # The body is read first: 415 and 413 come before any 400.
    parsed = parse_send(await read_json(request))
    try:
        [message] = await mock_of(request).send(
            account,
            Outbound.of([parsed.item]),
            is_test=False,
            send_at=parsed.send_at,
            api=CONNECT,
        )
    except InsufficientCredits as exc:
        raise _payment_required(exc) from exc
    return json_response({"id": message.reference, "countryCode": region_of(message.to)})


@connect_endpoint
async def send_bulk(request: Request) -> Response:
    """``POST /sms/send/bulk``: 1 to 15,000 messages, each valid or not on its own.

    ``200`` when all were accepted, ``207`` when some were, ``400`` when none were.
    """
    account = await authenticate(request)
    body = await read_json(request)
    bulk = parse_bulk(body)
    # Freed before the messages are made, so the collector never scans both (as v1).
    del body
    if not bulk.items:
        raise bulk_rejected(bulk.errors)
    await between_phases(len(bulk.items))
    [batch_id] = new_ids(1)
    try:
        messages = await mock_of(request).send(
            account,
            bulk.items,
            is_test=False,
            batch_reference=batch_id,
            send_at=bulk.send_at,
            api=CONNECT,
        )
    except InsufficientCredits as exc:
        raise _payment_required(exc) from exc
    result: dict[str, Any] = {"batchId": batch_id, "messageCount": len(messages)}
    if bulk.errors:
        result["errors"] = bulk_error_entries(bulk.errors)
        return json_response(result, 207)
    return json_response(result)


@connect_endpoint
async def cancel(request: Request) -> Response:
    """``DELETE /sms/send/{id}``: a scheduled message is cancelled; an empty ``200``.

    Unknown, another account's or no longer scheduled: ``400`` (the façade's
    ``NotFound``/``Conflict``, answered by ``connect_endpoint``).
    """
    account = await authenticate(request)
    await mock_of(request).cancel(account.id, request.path_params["id"])
    return Response(status_code=200)


@connect_endpoint
async def cancel_bulk(request: Request) -> Response:
    """``DELETE /sms/send/bulk/{id}``: cancel what is still scheduled in a batch."""
    account = await authenticate(request)
    batch_id = request.path_params["id"]
    count = await mock_of(request).cancel_batch(account.id, batch_id)
    reason = None
    if count == 0:
        reason = f"No message of batch '{batch_id}' is still scheduled: nothing was cancelled."
    return json_response({"cancelledCount": count, "reason": reason, "errors": []})
