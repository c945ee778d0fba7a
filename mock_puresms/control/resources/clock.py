"""``/_mock/clock``: read the mock clock, and move a virtual one forward."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.resources._shared import json_object
from mock_puresms.core import ClockNotVirtual, Mock
from mock_puresms.domain.timestamps import format_ms
from mock_puresms.web.context import mock_of
from mock_puresms.web.problems import ProblemError, field_error
from mock_puresms.web.responses import json_response

MAX_ADVANCE_SECONDS = 10 * 366 * 86400


def _clock_json(mock: Mock) -> dict[str, Any]:
    clock = mock.clock()
    return {"mode": clock.mode, "now": format_ms(clock.now), "timeScale": clock.time_scale}


async def get_clock(request: Request) -> Response:
    return json_response(_clock_json(mock_of(request)))


async def advance_clock(request: Request) -> Response:
    mock = mock_of(request)
    body = await json_object(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise field_error("seconds", "'seconds' must be a number of seconds, 0 or more.")
    if seconds > MAX_ADVANCE_SECONDS:
        raise field_error("seconds", "'seconds' must be at most ten years.")
    try:
        await mock.advance(round(seconds * 1000))
    except ClockNotVirtual as exc:
        raise ProblemError(
            409, "The clock is real; start the mock with '--clock virtual' to advance it."
        ) from exc
    return json_response(_clock_json(mock))
