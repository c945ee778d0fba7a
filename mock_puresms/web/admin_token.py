"""The admin token as a request carries it: ``Authorization: Bearer``, or the inbox's cookie.

With ``--admin-token`` the control surface and the inbox need it. The inbox's login form
stores it in the ``mock_puresms_admin`` cookie (``SameSite=Strict``); its page script
reads the cookie and sends the header on every action. A browser's ``EventSource`` cannot
send headers, so safe requests (``GET``, ``HEAD``: reads and the event stream) are also
let in by the cookie; anything that changes state needs the header, so a page of another
site can never act through a visitor's cookie.
"""

from __future__ import annotations

import hmac

from starlette.requests import HTTPConnection

ADMIN_COOKIE = "mock_puresms_admin"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def token_matches(value: str | None, expected: str) -> bool:
    """Whether ``value`` is the token, compared in constant time."""
    return value is not None and hmac.compare_digest(value.strip().encode(), expected.encode())


def bearer_token(connection: HTTPConnection) -> str | None:
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" else None


def has_admin_token(connection: HTTPConnection, token: str, *, cookie: bool) -> bool:
    """Whether ``connection`` carries ``token``: as a Bearer header, or (``cookie=True``)
    in the inbox's cookie."""
    if token_matches(bearer_token(connection), token):
        return True
    return cookie and token_matches(connection.cookies.get(ADMIN_COOKIE), token)
