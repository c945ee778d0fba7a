"""The admin token: with ``--admin-token``, every control route but health needs it.

Sent as ``Authorization: Bearer <token>``; for ``GET`` (reads and the event stream, which
a browser's ``EventSource`` opens without headers) the inbox's cookie is accepted too
(``mock_puresms.web.admin_token``).
"""

from __future__ import annotations

from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.web.admin_token import SAFE_METHODS, has_admin_token
from mock_puresms.web.problems import ProblemError
from mock_puresms.web.routing import Endpoint


def require_admin(token: str, endpoint: Endpoint) -> Endpoint:
    """``endpoint``, answering ``401`` unless the request carries ``Bearer <token>`` (or,
    for a safe method, the inbox's cookie holding it)."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not has_admin_token(request, token, cookie=request.method in SAFE_METHODS):
            raise ProblemError(
                401,
                "The control surface needs 'Authorization: Bearer <admin token>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await endpoint(request)

    return guarded
