"""The inbox's pages: each reads the façade and renders one template.

Pages only read. What a page lets a person do (reply, force a status, advance the
clock...) its script asks of the control surface, exactly as a test would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from mock_puresms.core import Mock, shipped_scenario_names
from mock_puresms.domain.endpoints import INBOUND_EVENT, RECEIPT_EVENT
from mock_puresms.domain.messages import CONNECT, V1
from mock_puresms.domain.queries import TEXT_SCAN_LIMIT, MessageQuery, ReplyQuery, paginate
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.timestamps import format_ms
from mock_puresms.inbox import present
from mock_puresms.version import __version__
from mock_puresms.web.context import mock_of
from mock_puresms.web.paging import Query

PAGE_SIZE = 50
WEBHOOK_KINDS = ("receipts", "reply")
WEBHOOK_STATES = ("pending", "delivered", "failed")

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.globals.update(
    clock_text=present.clock_text,
    full_time=present.full_time,
    badge_class=present.badge_class,
    format_ms=format_ms,
    version=__version__,
    event_names={RECEIPT_EVENT: "receipts", INBOUND_EVENT: "inbound"},
)


async def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """``name`` with what every page shows: the clock, the scenario, the accounts."""
    mock = mock_of(request)
    clock = mock.clock()
    accounts = await mock.accounts()
    common = {
        "clock": clock,
        "today": clock.now,
        "scenario": mock.scenario,
        "accounts": accounts,
        "account_names": {a.id: a.name for a in accounts},
        "statuses": present.STATUSES,
        "nav": name.removesuffix(".html"),
    }
    return templates.TemplateResponse(request, name, {**common, **context}, status_code=status_code)


async def _account_id(mock: Mock, ident: str | None) -> str | None:
    if ident is None:
        return None
    account = await mock.find_account(ident)
    # An unknown account matches nothing (rather than failing the page).
    return account.id if account is not None else ident


def _status(raw: str | None) -> DeliveryStatus | None:
    try:
        return DeliveryStatus.parse(raw) if raw is not None else None
    except ValueError:
        return None


async def messages_page(request: Request) -> Response:
    """``/``: newest first, filtered, paged; the script keeps page 1 live."""
    mock = mock_of(request)
    query = Query(request)
    filters = {
        "account": query.text("account"),
        "status": query.text("status"),
        "api": query.text("api"),
        "batch": query.text("batch"),
        "q": query.text("q"),
    }
    status = _status(filters["status"])
    api = filters["api"] if filters["api"] in (V1, CONNECT) else None
    page_number = query.integer("page", 1, 1, 2**31 - 1)
    page = await mock.messages(
        MessageQuery(
            account_id=await _account_id(mock, filters["account"]),
            batch_reference=filters["batch"],
            status=status,
            api=api,
            text=filters["q"].strip() if filters["q"] else None,
            page=page_number,
            page_size=PAGE_SIZE,
            count=False,  # a next page exists or not: no count of 100,000 messages
        )
    )
    live_filters = {
        "account": await _account_id(mock, filters["account"]),
        "status": int(status) if status is not None else None,
        "api": api,
        "batch": filters["batch"],
        "q": filters["q"],
    }
    return await _render(
        request,
        "messages.html",
        {
            "messages": page.items,
            "filters": filters,
            "live_filters": live_filters,
            "page": page_number,
            "has_next": page.total_count > page_number * PAGE_SIZE,
            "partial": page.partial,
            "text_scan_limit": TEXT_SCAN_LIMIT,
            "page_size": PAGE_SIZE,
            "apis": (V1, CONNECT),
        },
    )


async def message_page(request: Request) -> Response:
    """``/messages/{reference}``: every field, the phone's view, history, webhooks, replies."""
    mock = mock_of(request)
    reference = request.path_params["reference"]
    message = await mock.find_message(reference)
    if message is None:
        return await _render(request, "not_found.html", {"reference": reference}, 404)
    replies = await mock.replies(
        ReplyQuery(message.account_id, in_reply_to=message.reference, page_size=1000)
    )
    thread = sorted(replies.items, key=lambda r: r.received_at)
    return await _render(
        request,
        "message.html",
        {
            "message": message,
            "segments": present.phone_segments(message.content, message.encoding),
            "replies": thread,
            "deliveries": mock.deliveries_of(message, thread),
            "final": message.is_final,
        },
    )


async def webhooks_page(request: Request) -> Response:
    """``/webhooks``: every delivery, filtered by URL, kind and state."""
    mock = mock_of(request)
    query = Query(request)
    url, kind, state = query.text("url"), query.text("kind"), query.text("state")
    state = state if state in WEBHOOK_STATES else None
    kind = kind if kind in WEBHOOK_KINDS else None
    deliveries = mock.deliveries(None, state)
    if url is not None:
        deliveries = (d for d in deliveries if url in d.url)
    if kind is not None:
        deliveries = (d for d in deliveries if d.kind == kind)
    page_number = query.integer("page", 1, 1, 2**31 - 1)
    page = paginate(deliveries, page_number, PAGE_SIZE)
    return await _render(
        request,
        "webhooks.html",
        {
            "deliveries": page.items,
            "filters": {"url": url, "kind": kind, "state": state},
            "kinds": WEBHOOK_KINDS,
            "states": WEBHOOK_STATES,
            "page": page_number,
            "total": page.total_count,
            "has_next": page.total_count > page_number * PAGE_SIZE,
            "partial": page.partial,
            "text_scan_limit": TEXT_SCAN_LIMIT,
        },
    )


async def accounts_page(request: Request) -> Response:
    """``/accounts``: credits, v1 webhook settings and Connect endpoints of every account."""
    return await _render(request, "accounts.html", {})


async def scenario_page(request: Request) -> Response:
    """``/scenario``: the active scenario; switch to a shipped one or paste YAML."""
    return await _render(request, "scenario.html", {"shipped": shipped_scenario_names()})
