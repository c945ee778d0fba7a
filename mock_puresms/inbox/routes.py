"""The inbox's route table: its pages, the login form and its assets (``static/``).

With an admin token every page needs it (the login form's cookie); the assets are the
same for everyone and hold nothing secret, so they are served without it.
"""

from __future__ import annotations

from functools import wraps
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from mock_puresms.inbox import pages
from mock_puresms.inbox.auth import (
    LOGIN_PATH,
    logged_in,
    logged_out,
    login_redirect,
    safe_next,
    submitted_token,
)
from mock_puresms.web.admin_token import token_matches
from mock_puresms.web.routing import Endpoint

STATIC_PATH = "/_inbox/static"


def _guarded(token: str | None, endpoint: Endpoint) -> Endpoint:
    @wraps(endpoint)
    async def page(request: Request) -> Response:
        redirect = login_redirect(request, token)
        return redirect if redirect is not None else await endpoint(request)

    return page


def _login(token: str | None) -> tuple[Endpoint, Endpoint]:
    async def login_form(request: Request) -> Response:
        if token is None:
            return RedirectResponse("/", status_code=303)
        target = safe_next(request.query_params.get("next"))
        return pages.templates.TemplateResponse(
            request, "login.html", {"next": target, "error": None}
        )

    async def login(request: Request) -> Response:
        if token is None:
            return RedirectResponse("/", status_code=303)
        given, target = await submitted_token(request)
        if not given or not token_matches(given, token):
            return pages.templates.TemplateResponse(
                request,
                "login.html",
                {"next": target, "error": "That is not the admin token."},
                status_code=401,
            )
        return logged_in(RedirectResponse(target, status_code=303), given)

    return login_form, login


async def logout(request: Request) -> Response:
    return logged_out(RedirectResponse(LOGIN_PATH, status_code=303))


def inbox_routes(admin_token: str | None = None) -> list[BaseRoute]:
    """The inbox at ``/``; with ``admin_token``, its pages need the login form's cookie."""
    login_form, login = _login(admin_token)
    table: list[tuple[str, Endpoint]] = [
        ("/", pages.messages_page),
        ("/messages/{reference}", pages.message_page),
        ("/webhooks", pages.webhooks_page),
        ("/accounts", pages.accounts_page),
        ("/scenario", pages.scenario_page),
    ]
    return [
        *(Route(path, _guarded(admin_token, page), methods=["GET"]) for path, page in table),
        Route(LOGIN_PATH, login_form, methods=["GET"]),
        Route(LOGIN_PATH, login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount(
            STATIC_PATH,
            StaticFiles(directory=str(Path(__file__).with_name("static"))),
            name="inbox_static",
        ),
    ]
