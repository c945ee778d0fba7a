"""``/reporting/client-tag-report``: messages by tag and UTC day (API.md 9.3, 9.6)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.api_connect.auth import authenticate
from mock_puresms.api_connect.errors import Errors, connect_endpoint, validation_error
from mock_puresms.api_connect.requests import worded
from mock_puresms.domain.reports import TagSummary
from mock_puresms.web.context import mock_of
from mock_puresms.web.responses import json_response

_EPOCH = date(1970, 1, 1)


def _day(request: Request, name: str, errors: Errors) -> int | None:
    """A ``YYYY-MM-DD`` query parameter as days since the epoch."""
    value = request.query_params.get(name)
    if value is None or value == "":
        errors[name] = [worded(name, "is required, as YYYY-MM-DD.")]
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return (date.fromisoformat(value) - _EPOCH).days
    except ValueError:
        errors[name] = [worded(name, f"must be a date as YYYY-MM-DD; got '{value}'.")]
        return None


def _summary_json(summary: TagSummary, gbp: float | None, eur: float | None) -> dict[str, Any]:
    return {
        "clientTag": summary.client_tag,
        "date": (_EPOCH + timedelta(days=summary.day)).isoformat(),
        "sentCount": summary.sent_count,
        "deliveredCount": summary.delivered_count,
        "failedCount": summary.failed_count,
        "totalSegments": summary.total_segments,
        "totalCostGbp": summary.cost(gbp),
        "totalCostEur": summary.cost(eur),
    }


@connect_endpoint
async def client_tag_report(request: Request) -> Response:
    """``GET /reporting/client-tag-report?dateStart=&dateEnd=&clientTag=``."""
    account = await authenticate(request)
    errors: Errors = {}
    first, last = _day(request, "dateStart", errors), _day(request, "dateEnd", errors)
    if first is not None and last is not None and last < first:
        errors["dateEnd"] = [worded("dateEnd", "must not be before 'dateStart'.")]
    if errors or first is None or last is None:
        raise validation_error(errors)
    client_tag = request.query_params.get("clientTag") or None
    mock = mock_of(request)
    summaries = await mock.client_tag_report(account.id, first, last, client_tag)
    pricing = mock.pricing
    return json_response(
        {
            "summaries": [
                _summary_json(s, pricing.gbp_per_segment, pricing.eur_per_segment)
                for s in summaries
            ]
        }
    )
