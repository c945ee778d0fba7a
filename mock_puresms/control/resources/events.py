"""``/_mock/events``: a server-sent event stream of everything that happens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.control.events import EventStreamResponse
from mock_puresms.control.state import control_of


async def events(request: Request) -> Response:
    return EventStreamResponse(control_of(request).streams)
