"""``/_mock/webhooks``: every webhook delivery and its attempts."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.resources._shared import account_filter
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.queries import paginate
from mock_puresms.domain.timestamps import format_ms
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query
from mock_puresms.web.problems import field_error
from mock_puresms.web.render import page_json
from mock_puresms.web.responses import json_response


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "url": delivery.url,
        "kind": delivery.kind,
        "account": delivery.account_id,
        "body": orjson.loads(delivery.body),
        "state": delivery.state,
        "createdAt": format_ms(delivery.created_at),
        "nextAttemptAt": (
            format_ms(delivery.next_attempt_at) if delivery.next_attempt_at is not None else None
        ),
        "endpoint": delivery.endpoint,
        # Chaos done on purpose (scenario ``webhooks:`` or the account's): what and how.
        "chaos": [{"kind": mark.kind, **mark.detail} for mark in delivery.chaos],
        "attempts": [
            {
                "at": format_ms(attempt.at),
                "status": attempt.status,
                "error": attempt.error,
                "durationMs": attempt.duration_ms,
                "requestHeaders": attempt.request_headers,
                "chaos": list(attempt.chaos),
            }
            for attempt in delivery.attempts
        ],
    }


async def list_webhooks(request: Request) -> Response:
    mock = mock_of(request)
    query = Query(request)
    state = query.text("state")
    if state is not None and state not in ("pending", "delivered", "failed"):
        raise field_error("state", "'state' must be pending, delivered or failed.")
    account_id = await account_filter(mock, query)
    page, page_size = query.paging()
    result = paginate(mock.deliveries(query.text("url"), state, account_id), page, page_size)
    return json_response(page_json(result, [delivery_json(d) for d in result.items]))


async def replay_webhook(request: Request) -> Response:
    """Queue a failed delivery again now; its attempt numbers go on."""
    delivery = await mock_of(request).replay_delivery(request.path_params["id"])
    return json_response(delivery_json(delivery))
