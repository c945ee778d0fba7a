"""Guards of every control route: the admin token (with ``--admin-token``, every route
but health needs it), and the refusal of the mock's own webhook POSTs.

The token is sent as ``Authorization: Bearer <token>``; for ``GET`` (reads and the event
stream, which a browser's ``EventSource`` opens without headers) the inbox's cookie is
accepted too (``mock_puresms.web.admin_token``).
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


# Every webhook POST the mock makes carries this header (``webhooks/retry.py``).
WEBHOOK_MARK = "x-mock-delivery-id"


def refuse_webhooks(endpoint: Endpoint) -> Endpoint:
    """``endpoint``, answering ``403`` to a request that is one of the mock's webhook
    POSTs. The dispatcher never POSTs to its own ``/_mock``; this catches what reaches
    it another way (a proxy, a receiver that forwards, a name for this host the
    dispatcher cannot know), so a receipt URL can never reset accounts and a reply URL
    can never loop replies."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if WEBHOOK_MARK in request.headers:
            raise ProblemError(
                403,
                "This request is a webhook POST of a mock-puresms server (it carries "
                "X-Mock-Delivery-Id); the control surface never acts on webhooks.",
            )
        return await endpoint(request)

    return guarded
