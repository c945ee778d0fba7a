"""``/_mock/health``: the one control route open without the admin token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.version import __version__
from mock_puresms.web.responses import json_response


async def health(request: Request) -> Response:
    return json_response({"status": "ok", "version": __version__})
