"""With ``--admin-token``, every ``/_mock`` route but health needs the bearer token."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from starlette.routing import Route

from mock_puresms.control.routes import control_routes
from mock_puresms.testing.server_thread import ServerThread

TOKEN = "s3cret-admin"


def every_route() -> list[tuple[str, str]]:
    """(method, path) of every control route, path parameters filled in."""
    found = []
    for route in control_routes():
        assert isinstance(route, Route)
        path = re.sub(r"\{[^}]+\}", "X1", route.path)
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, path))
    return found


PROTECTED = [(m, p) for m, p in every_route() if p != "/_mock/health"]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    from mock_puresms.settings import Settings

    with ServerThread(Settings(port=0, clock="virtual", admin_token=TOKEN)) as server:
        yield server


@pytest.fixture
def call(server: ServerThread) -> Iterator[Callable[..., httpx.Response]]:
    with httpx.Client(base_url=server.base_url, timeout=10, trust_env=False) as client:

        def request(method: str, path: str, authorization: str | None) -> httpx.Response:
            headers = {"Authorization": authorization} if authorization is not None else {}
            if path == "/_mock/events":
                # A stream: only its status and headers matter here.
                with client.stream(method, path, headers=headers) as response:
                    return response
            params = {"timeout": "0"} if path == "/_mock/wait" else None
            return client.request(method, path, headers=headers, params=params)

        yield request


def test_the_route_list_covers_the_whole_control_surface() -> None:
    paths = {path for _, path in every_route()}
    assert {
        "/_mock/health", "/_mock/reset", "/_mock/messages", "/_mock/replies",
        "/_mock/webhooks", "/_mock/clock", "/_mock/clock/advance", "/_mock/scenario",
        "/_mock/faults", "/_mock/wait", "/_mock/events",
    } <= paths  # fmt: skip


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", "Bearer", f"Basic {TOKEN}", f"Bearer {TOKEN}x"]
)
def test_a_missing_or_wrong_token_is_a_401_with_www_authenticate(
    call: Callable[..., httpx.Response], method: str, path: str, authorization: str | None
) -> None:
    response = call(method, path, authorization)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_the_right_token_passes(
    call: Callable[..., httpx.Response], method: str, path: str
) -> None:
    response = call(method, path, f"Bearer {TOKEN}")

    assert response.status_code != 401, response.text


def test_health_needs_no_token(call: Callable[..., httpx.Response]) -> None:
    assert call("GET", "/_mock/health", None).status_code == 200


def test_the_scheme_is_case_insensitive(call: Callable[..., httpx.Response]) -> None:
    response = call("GET", "/_mock/clock", None)
    assert response.status_code == 401
    with httpx.Client(trust_env=False) as client:
        url = str(response.request.url)
        ok = client.get(url, headers={"Authorization": f"bearer {TOKEN}"})
    assert ok.status_code == 200
