"""The admin token: with ``--admin-token``, every control route but health needs it."""

from __future__ import annotations

import hmac
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from mock_puresms.web.problems import ProblemError
from mock_puresms.web.routing import Endpoint


def require_admin(token: str, endpoint: Endpoint) -> Endpoint:
    """``endpoint``, answering ``401`` unless the request carries ``Bearer <token>``."""
    expected = token.encode()

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), expected):
            raise ProblemError(
                401,
                "The control surface needs 'Authorization: Bearer <admin token>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await endpoint(request)

    return guarded
