"""Who is calling a v1 route: an ``X-API-Key`` (or, later, an OAuth bearer token)."""

from __future__ import annotations

from starlette.requests import Request

from mock_puresms.api.problems import ProblemError
from mock_puresms.domain.accounts import Account
from mock_puresms.runtime import runtime_of

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def authenticate(request: Request) -> Account:
    """The caller's account; a ``401`` with a ``WWW-Authenticate`` challenge otherwise."""
    accounts = runtime_of(request).accounts
    key = request.headers.get("x-api-key")
    if key is not None:
        account = await accounts.by_api_key(key.strip())
        if account is None:
            raise ProblemError(401, "The API key is not valid.", headers=_CHALLENGE)
        return account
    raise ProblemError(
        401,
        "Authentication is required: send your API key in the 'X-API-Key' header.",
        headers=_CHALLENGE,
    )
