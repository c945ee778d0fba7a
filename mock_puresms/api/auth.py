"""Who is calling a v1 route: an ``X-API-Key``, or an OAuth ``Authorization: Bearer`` token."""

from __future__ import annotations

from starlette.requests import Request

from mock_puresms.domain.accounts import Account
from mock_puresms.web.context import mock_of
from mock_puresms.web.problems import ProblemError

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
# RFC 6750 section 3.1, as ASP.NET Core's JwtBearer handler answers a token it refuses.
_TOKEN_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme in any case)."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


async def authenticate(request: Request) -> Account:
    """The caller's account; a ``401`` with a ``WWW-Authenticate`` challenge otherwise.

    An ``X-API-Key`` wins over a bearer token when a request carries both.
    """
    mock = mock_of(request)
    key = request.headers.get("x-api-key")
    if key is not None:
        account = await mock.account_for_api_key(key.strip())
        if account is None:
            raise ProblemError(401, "The API key is not valid.", headers=_CHALLENGE)
        return account
    token = bearer_token(request)
    if token is not None:
        account = await mock.account_for_token(token) if token else None
        if account is None:
            raise ProblemError(
                401,
                "The access token is not valid or has expired: get a new one from "
                "POST /connect/token.",
                headers=_TOKEN_CHALLENGE,
            )
        return account
    raise ProblemError(
        401,
        "Authentication is required: send your API key in the 'X-API-Key' header, "
        "or an access token as 'Authorization: Bearer <token>'.",
        headers=_CHALLENGE,
    )
