"""``/_mock/messages``: every account's messages; forcing a status, cancelling."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.resources._shared import (
    account_filter,
    control_message_json,
    json_object,
)
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query, message_query
from mock_puresms.web.problems import ProblemError, field_error
from mock_puresms.web.render import message_json, page_json
from mock_puresms.web.responses import json_response


async def list_messages(request: Request) -> Response:
    mock = mock_of(request)
    query = Query(request)
    account_id = await account_filter(mock, query)
    page = await mock.messages(message_query(query, account_id))
    return json_response(page_json(page, [control_message_json(m) for m in page.items]))


async def get_message(request: Request) -> Response:
    reference = request.path_params["reference"]
    message = await mock_of(request).find_message(reference)
    if message is None:
        raise ProblemError(404, f"No message with reference '{reference}'.")
    return json_response(control_message_json(message))


async def force_status(request: Request) -> Response:
    mock = mock_of(request)
    body = await json_object(request)
    try:
        status = DeliveryStatus.parse(body.get("deliverystatus"))
    except ValueError as exc:
        raise field_error("deliveryStatus", f"'deliveryStatus': {exc}.") from exc
    # NotFound is a 404, a final message a Conflict (409); the rest of its script is dropped.
    message = await mock.force_status(request.path_params["reference"], status)
    return json_response(message_json(message))


async def cancel_message(request: Request) -> Response:
    """Cancel a scheduled message of any account (as its sender could): it becomes Deleted.

    ``404`` for an unknown reference, ``409`` unless it is still Scheduled.
    """
    message = await mock_of(request).cancel_message(request.path_params["reference"])
    return json_response(control_message_json(message))
