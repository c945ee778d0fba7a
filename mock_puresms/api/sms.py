"""``/v1/Sms``: sending, reading, listing and cancelling messages."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.api.auth import authenticate
from mock_puresms.api.sms_requests import (
    BulkValidation,
    all_rejected,
    group_messages,
    parse_bulk,
    parse_group_send,
    parse_is_test,
    parse_single,
)
from mock_puresms.domain.accounts import Account, InsufficientCredits
from mock_puresms.domain.sending import new_batch_reference
from mock_puresms.web.body import read_json
from mock_puresms.web.bulk_json import entries_json
from mock_puresms.web.context import mock_of
from mock_puresms.web.pacing import between_phases
from mock_puresms.web.paging import Query, message_query
from mock_puresms.web.problems import ProblemError, field_error
from mock_puresms.web.render import batch_json, message_json, page_json
from mock_puresms.web.responses import json_response


def _payment_required(exc: InsufficientCredits) -> ProblemError:
    return ProblemError(402, str(exc))


async def send(request: Request) -> Response:
    """``POST /v1/Sms/Send``: one message."""
    account = await authenticate(request)
    # The body is read first: 415 and 413 come before any 400, ?isTest= included.
    body = await read_json(request)
    is_test = parse_is_test(Query(request).text("isTest"))
    parsed = parse_single(body)
    try:
        [message] = await mock_of(request).send(
            account,
            parsed.items,
            is_test=is_test,
            batch_reference=parsed.batch_reference,
            send_at=parsed.send_at,
        )
    except InsufficientCredits as exc:
        raise _payment_required(exc) from exc
    return json_response(message_json(message))


async def send_bulk(request: Request) -> Response:
    """``POST /v1/Sms/SendBulk``: up to 15,000 messages, each validated on its own."""
    account = await authenticate(request)
    body = await read_json(request)
    is_test = parse_is_test(Query(request).text("isTest"))
    bulk = parse_bulk(body)
    # Its 15,000 dicts are freed before the messages are made: the garbage collector
    # then never finds them alive beside the messages (it would scan both).
    del body
    await between_phases(len(bulk.request.items))
    return await send_many(request, account, bulk, is_test)


async def send_to_group(request: Request) -> Response:
    """``POST /v1/Sms/SendToGroup``: one message per contact, answered like SendBulk."""
    account = await authenticate(request)
    body = await read_json(request)
    is_test = parse_is_test(Query(request).text("isTest"))
    envelope = parse_group_send(body)
    contacts = await mock_of(request).group_members(account.id, envelope.group_id)
    if not contacts:
        raise field_error("groupId", f"The group '{envelope.group_id}' has no contacts.")
    return await send_many(request, account, group_messages(envelope, contacts), is_test)


async def send_many(
    request: Request, account: Account, bulk: BulkValidation, is_test: bool
) -> Response:
    """Send the valid messages of a bulk-like request and answer as SendBulk does.

    ``200`` when every message was accepted, ``207`` when some were, ``400`` when none
    were, ``402`` when the credits cannot cover them all.
    """
    if not bulk.request.items:
        raise all_rejected(bulk.errors)
    batch_reference = bulk.request.batch_reference or new_batch_reference()
    try:
        messages = await mock_of(request).send(
            account,
            bulk.request.items,
            is_test=is_test,
            batch_reference=batch_reference,
            send_at=bulk.request.send_at,
        )
    except InsufficientCredits as exc:
        raise _payment_required(exc) from exc
    await between_phases(len(messages))
    result: dict[str, Any] = {
        "batchReference": batch_reference,
        "acceptedCount": len(messages),
        "rejectedCount": len(bulk.errors),
        "segments": sum(bulk.request.items.segments),
        # Written from the columns, without a dict per message (bulk_json.py).
        "messages": entries_json(
            bulk.indexes,
            list(map(attrgetter("reference"), messages)),
            bulk.request.items.client_reference,
        ),
        "errors": [{"index": index, "errors": errors} for index, errors in bulk.errors],
    }
    return json_response(result, 207 if bulk.errors else 200)


async def get_message(request: Request) -> Response:
    """``GET /v1/Sms/{reference}``."""
    account = await authenticate(request)
    message = await mock_of(request).message(account.id, request.path_params["reference"])
    return json_response(message_json(message))


async def list_messages(request: Request) -> Response:
    """``GET /v1/Sms`` with filters and paging, newest first."""
    account = await authenticate(request)
    query = message_query(Query(request), account.id)
    page = await mock_of(request).messages(query)
    return json_response(page_json(page, [message_json(m) for m in page.items]))


async def get_batch(request: Request) -> Response:
    """``GET /v1/Sms/Batch/{batchReference}``: counts by status."""
    account = await authenticate(request)
    batch_reference = request.path_params["batchReference"]
    summary = await mock_of(request).batch_summary(account.id, batch_reference)
    return json_response(batch_json(summary))


async def cancel_message(request: Request) -> Response:
    """``DELETE /v1/Sms/{reference}``: a scheduled message becomes Deleted."""
    account = await authenticate(request)
    message = await mock_of(request).cancel(account.id, request.path_params["reference"])
    return json_response(message_json(message))


async def cancel_batch(request: Request) -> Response:
    """``DELETE /v1/Sms/Batch/{batchReference}``: cancel what is still scheduled."""
    account = await authenticate(request)
    count = await mock_of(request).cancel_batch(account.id, request.path_params["batchReference"])
    return json_response({"cancelledCount": count})
