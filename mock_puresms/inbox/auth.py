"""The inbox behind ``--admin-token``: a login form that stores the token in a cookie.

Pages need the cookie (``mock_puresms.web.admin_token``); without it they redirect to
the form. The cookie is readable by the page's script, which sends the token as
``Authorization: Bearer`` on every action; the control surface takes the cookie alone
only for reads and the event stream.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mock_puresms.web.admin_token import ADMIN_COOKIE, has_admin_token

LOGIN_PATH = "/login"


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this server only, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request: Request, token: str | None) -> Response | None:
    """A redirect to the login form when ``request`` lacks the admin token, else ``None``."""
    if token is None or has_admin_token(request, token, cookie=True):
        return None
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)


async def submitted_token(request: Request) -> tuple[str, str]:
    """The token and the ``next`` path a login form posted (url-encoded)."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = fields.get("token", [""])[0]
    return token, safe_next(fields.get("next", [None])[0])


def logged_in(response: Response, token: str) -> Response:
    # Not HttpOnly: the page's script reads it to send the header. SameSite=Strict: no
    # other site's page makes the browser send it.
    response.set_cookie(ADMIN_COOKIE, token, path="/", samesite="strict", httponly=False)
    return response


def logged_out(response: Response) -> Response:
    response.delete_cookie(ADMIN_COOKIE, path="/", samesite="strict")
    return response
