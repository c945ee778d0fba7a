"""``/v1/Replies``: inbound SMS."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.api.auth import authenticate
from mock_puresms.domain.phones import normalize_phone
from mock_puresms.domain.queries import ReplyQuery
from mock_puresms.domain.timestamps import parse_iso
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query
from mock_puresms.web.problems import field_error
from mock_puresms.web.render import page_json, reply_json
from mock_puresms.web.responses import json_response


async def list_replies(request: Request) -> Response:
    """``GET /v1/Replies?from=&inReplyTo=&since=``, newest first."""
    account = await authenticate(request)
    query = Query(request)
    page, page_size = query.paging()
    since_text = query.text("since")
    since = None
    if since_text is not None:
        try:
            since = parse_iso(since_text)
        except (ValueError, OverflowError) as exc:
            raise field_error(
                "since", "'since' must be an ISO-8601 date and time, e.g. 2026-11-24T10:15:00Z."
            ) from exc
    phone = query.text("from")
    result = await mock_of(request).replies(
        ReplyQuery(
            account_id=account.id,
            from_=(normalize_phone(phone) or phone) if phone is not None else None,
            in_reply_to=query.text("inReplyTo"),
            since=since,
            page=page,
            page_size=page_size,
        )
    )
    return json_response(page_json(result, [reply_json(r) for r in result.items]))


async def get_reply(request: Request) -> Response:
    """``GET /v1/Replies/{reference}``."""
    account = await authenticate(request)
    reference = request.path_params["reference"]
    reply = await mock_of(request).reply(account.id, reference)
    return json_response(reply_json(reply))
