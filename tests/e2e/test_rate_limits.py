"""Rate limits on a real server, counted on the virtual clock: N requests pass, the next
gets 429 + Retry-After in each API's own error shape, the refused request changes
nothing, and advancing the clock past the window lets requests through again."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mock_puresms.domain.accounts import configured_account_id, open_mode_account_id
from mock_puresms.testing.server_thread import ServerThread

README = Path(__file__).resolve().parents[2] / "README.md"

V1_SEND = {"to": "447700900100", "from": "Acme", "content": "Hello"}
CONNECT_SEND = {"sender": "Acme", "recipient": "+447700900123", "content": "Hello"}
KEY = "limited-key"
ACCOUNT = open_mode_account_id(KEY)


@pytest.fixture
def server(live_server: Callable[..., ServerThread]) -> ServerThread:
    return live_server()


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"X-API-Key": KEY}) as client:
        yield client


def limit(client: httpx.Client, requests: int, window: Any, account: str = ACCOUNT) -> Any:
    response = client.put(
        f"/_mock/accounts/{account}/rate-limit", json={"requests": requests, "window": window}
    )
    assert response.status_code == 200, response.text
    return response.json()


def advance(client: httpx.Client, seconds: float) -> None:
    response = client.post("/_mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


def stored(client: httpx.Client, key: str = KEY) -> int:
    response = client.get("/_mock/messages", params={"apiKey": key})
    assert response.status_code == 200, response.text
    count: int = response.json()["totalCount"]
    return count


def test_v1_answers_429_problem_with_retry_after_and_stores_nothing(
    client: httpx.Client,
) -> None:
    limit(client, 3, "2s")
    for _ in range(3):
        assert client.post("/v1/Sms/Send", json=V1_SEND).status_code == 200

    refused = client.post("/v1/Sms/Send", json=V1_SEND)

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == "https://tools.ietf.org/html/rfc6585#section-4"
    assert problem["status"] == 429
    assert problem["title"] == "Too Many Requests"
    assert "at most 3 API request(s) per 2s" in problem["detail"]
    assert problem["traceId"].startswith("00-") and "errors" not in problem
    assert stored(client) == 3


def test_advancing_past_the_window_frees_the_slots(client: httpx.Client) -> None:
    limit(client, 2, "1s")
    assert client.get("/v1/Account").status_code == 200
    advance(client, 0.4)
    assert client.get("/v1/Account").status_code == 200

    # A sliding log: the first slot frees 1 s after the first request, not at a boundary.
    assert client.get("/v1/Account").headers["retry-after"] == "1"  # 600 ms, rounded up
    advance(client, 0.6)
    assert client.get("/v1/Account").status_code == 200
    refused = client.get("/v1/Account")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"  # 400 ms
    advance(client, 1)
    assert [client.get("/v1/Account").status_code for _ in range(3)] == [200, 200, 429]


def test_refused_requests_do_not_count(client: httpx.Client) -> None:
    limit(client, 1, "10s")
    assert client.get("/v1/Account").status_code == 200
    advance(client, 5)
    for _ in range(5):
        refused = client.get("/v1/Account")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "5"
    advance(client, 5)
    assert client.get("/v1/Account").status_code == 200


def test_connect_answers_429_in_the_fastendpoints_shape(client: httpx.Client) -> None:
    limit(client, 2, "1m")
    assert client.post("/sms/send", json=CONNECT_SEND).status_code == 200
    # A bulk is one request however many messages it carries.
    bulk = client.post("/sms/send/bulk", json={"messages": [CONNECT_SEND] * 5})
    assert bulk.status_code == 200, bulk.text

    refused = client.post("/sms/send/bulk", json={"messages": [CONNECT_SEND] * 5})

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert set(body) == {"statusCode", "message"}
    assert body["statusCode"] == 429 and "per 1m" in body["message"]
    assert stored(client) == 6
    advance(client, 60)
    assert client.post("/sms/send", json=CONNECT_SEND).status_code == 200


def test_both_apis_share_the_account_count(client: httpx.Client) -> None:
    limit(client, 3, "1s")
    assert client.post("/v1/Sms/Send", json=V1_SEND).status_code == 200
    assert client.post("/sms/send", json=CONNECT_SEND).status_code == 200
    assert client.get("/v1/Sms").status_code == 200

    assert client.post("/sms/send", json=CONNECT_SEND).status_code == 429
    assert client.post("/v1/Sms/Send", json=V1_SEND).status_code == 429
    assert stored(client) == 2


def test_what_counts_and_what_does_not(client: httpx.Client) -> None:
    limit(client, 1, "1s")
    # The control surface, refused credentials and the token endpoint are not API
    # requests of the account; an authenticated request answered 400 is one.
    for _ in range(3):
        assert client.get("/_mock/messages").status_code == 200
        assert client.get("/v1/Account", headers={"X-API-Key": ""}).status_code == 401
        token = client.post(
            "/connect/token",
            data={"grant_type": "client_credentials", "client_id": KEY, "client_secret": "s"},
        )
        assert token.status_code == 200
    assert client.post("/v1/Sms/Send", json={"to": "x"}).status_code == 400
    assert client.post("/v1/Sms/Send", json=V1_SEND).status_code == 429
    # A limit is per account: another key is not limited.
    other = client.post("/v1/Sms/Send", json=V1_SEND, headers={"X-API-Key": "other"})
    assert other.status_code == 200


def test_a_bearer_token_counts_against_its_account(client: httpx.Client) -> None:
    token = client.post(
        "/connect/token",
        data={"grant_type": "client_credentials", "client_id": KEY, "client_secret": "s"},
    ).json()["access_token"]
    limit(client, 1, "1s")
    del client.headers["X-API-Key"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/Account", headers=bearer).status_code == 200
    assert client.get("/v1/Account", headers=bearer).status_code == 429
    # The token's account is the key's: the key is limited by the same count.
    assert client.get("/v1/Account", headers={"X-API-Key": KEY}).status_code == 429


def test_control_surface_reads_sets_and_removes_a_limit(client: httpx.Client) -> None:
    path = f"/_mock/accounts/{ACCOUNT}/rate-limit"
    none = client.get(path).json()
    assert none == {
        "account": ACCOUNT,
        "requests": None,
        "window": None,
        "windowMs": None,
        "source": None,
        "used": 0,
        "remaining": None,
        "retryAfter": 0,
        "retryAfterMs": 0,
    }
    assert limit(client, 2, 1.5)["window"] == "1500ms"
    client.get("/v1/Account")
    client.get("/v1/Account")
    state = client.get(path).json()
    assert state["used"] == 2 and state["remaining"] == 0 and state["source"] == "control"
    assert (state["retryAfter"], state["retryAfterMs"]) == (2, 1500)

    removed = client.delete(path)
    assert removed.status_code == 200 and removed.json()["requests"] is None
    assert all(client.get("/v1/Account").status_code == 200 for _ in range(5))
    assert client.get("/_mock/accounts/nobody/rate-limit").status_code == 404


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"requests", "window"}),
        ({"requests": 0, "window": "1s"}, {"requests"}),
        ({"requests": 1.5, "window": "1s"}, {"requests"}),
        ({"requests": True, "window": "1s"}, {"requests"}),
        ({"requests": 100_001, "window": "1s"}, {"requests"}),
        ({"requests": 10, "window": "0s"}, {"window"}),
        ({"requests": 10, "window": "soon"}, {"window"}),
        ({"requests": 10, "window": "25h"}, {"window"}),
        ({"requests": 10, "window": -1}, {"window"}),
        ({"requests": 10, "window": None}, {"window"}),
    ],
)
def test_bad_bodies_are_400_naming_the_field(
    client: httpx.Client, body: dict[str, Any], fields: set[str]
) -> None:
    response = client.put(f"/_mock/accounts/{ACCOUNT}/rate-limit", json=body)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.json()["errors"]) == fields
    assert client.get(f"/_mock/accounts/{ACCOUNT}/rate-limit").json()["requests"] is None


def test_not_json_is_400_naming_the_body(client: httpx.Client) -> None:
    path = f"/_mock/accounts/{ACCOUNT}/rate-limit"
    assert set(client.put(path, content=b"[1]").json()["errors"]) == {"$"}
    assert set(client.put(path, content=b"{").json()["errors"]) == {"$"}


def test_reset_clears_counts_and_limits_set_through_the_control_surface(
    client: httpx.Client,
) -> None:
    limit(client, 1, "1h")
    limit(client, 1, "1h", account=open_mode_account_id("other"))
    client.get("/v1/Account")
    client.get("/v1/Account", headers={"X-API-Key": "other"})

    assert client.post("/_mock/reset", params={"apiKey": KEY}).status_code == 200

    assert all(client.get("/v1/Account").status_code == 200 for _ in range(3))
    assert client.get("/v1/Account", headers={"X-API-Key": "other"}).status_code == 429
    client.post("/_mock/reset")
    assert client.get("/v1/Account", headers={"X-API-Key": "other"}).status_code == 200


def _config(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "mock.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_config_file_limits_a_configured_account(
    live_server: Callable[..., ServerThread], tmp_path: Path
) -> None:
    config = {
        "accounts": [
            {"name": "acme", "apiKeys": ["acme-key"], "rateLimit": {"requests": 2, "window": "1s"}},
            {"name": "free", "apiKeys": ["free-key"]},
        ],
        # Accounts are configured: openMode's limit has no account to apply to.
        "openMode": {"rateLimit": {"requests": 1, "window": "1s"}},
    }
    server = live_server(config=_config(tmp_path, config))
    with httpx.Client(base_url=server.base_url) as client:
        acme = {"X-API-Key": "acme-key"}
        codes = [client.get("/v1/Account", headers=acme).status_code for _ in range(3)]
        free = [
            client.get("/v1/Account", headers={"X-API-Key": "free-key"}).status_code
            for _ in range(3)
        ]
        state = client.get("/_mock/accounts/acme/rate-limit").json()
        assert state["source"] == "config" and state["account"] == configured_account_id("acme")

        # A limit set through the control surface lasts until a reset brings back the file's.
        limit(client, 5, "1s", account="acme")
        client.post("/_mock/reset")
        after_reset = client.get("/_mock/accounts/acme/rate-limit").json()

    assert codes == [200, 200, 429]
    assert free == [200, 200, 200]
    assert (after_reset["requests"], after_reset["source"], after_reset["used"]) == (2, "config", 0)


def test_config_file_open_mode_limit_applies_to_every_new_account(
    live_server: Callable[..., ServerThread], tmp_path: Path
) -> None:
    config = {"openMode": {"rateLimit": {"requests": 1, "window": "30s"}}}
    server = live_server(config=_config(tmp_path, config))
    with httpx.Client(base_url=server.base_url) as client:
        for key in ("a", "b"):
            assert client.get("/v1/Account", headers={"X-API-Key": key}).status_code == 200
            refused = client.get("/v1/Account", headers={"X-API-Key": key})
            assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
        state = client.get(f"/_mock/accounts/{open_mode_account_id('a')}/rate-limit").json()
        assert state["source"] == "openMode"


def test_the_readme_config_example_limits_acme_as_it_says(
    live_server: Callable[..., ServerThread], tmp_path: Path
) -> None:
    [snippet] = re.findall(
        r"<!-- run: rate-limit-config -->\n```yaml\n(.*?)```", README.read_text("utf-8"), re.S
    )
    path = tmp_path / "mock.yaml"
    path.write_text(snippet, encoding="utf-8")
    server = live_server(config=path)
    with httpx.Client(base_url=server.base_url, headers={"X-API-Key": "acme-live-key"}) as client:
        codes = [client.get("/v1/Account").status_code for _ in range(101)]
        refused = client.get("/v1/Account")
        state = client.get("/_mock/accounts/acme/rate-limit").json()

    assert codes == [200] * 100 + [429]
    assert refused.headers["retry-after"] == "60"
    assert (state["requests"], state["window"], state["source"]) == (100, "1m", "config")


def test_a_refused_request_takes_no_credit_and_creates_nothing(
    live_server: Callable[..., ServerThread], tmp_path: Path
) -> None:
    config = {
        "accounts": [
            {
                "name": "acme",
                "apiKeys": ["acme-key"],
                "credits": 10,
                "rateLimit": {"requests": 2, "window": "1s"},
            }
        ]
    }
    server = live_server(config=_config(tmp_path, config))
    with httpx.Client(base_url=server.base_url, headers={"X-API-Key": "acme-key"}) as client:
        assert client.post("/v1/Sms/Send", json=V1_SEND).status_code == 200
        assert client.post("/v1/Contacts", json={"phoneNumber": "447700900111"}).is_success
        refused = [
            client.post("/v1/Sms/SendBulk", json={"messages": [V1_SEND] * 3}),
            client.post("/v1/Contacts", json={"phoneNumber": "447700900222"}),
            client.put("/v1/Account/Webhooks", json={"replyUrl": "http://127.0.0.1:9/r"}),
        ]
        advance(client, 1)
        account = client.get("/v1/Account").json()
        contacts = client.get("/v1/Contacts").json()

    assert [r.status_code for r in refused] == [429, 429, 429]
    assert account["credits"] == 9 and account["webhooks"]["replyUrl"] is None
    assert contacts["totalCount"] == 1


def test_injected_faults_stay_separate_and_use_no_slot(client: httpx.Client) -> None:
    limit(client, 1, "1s")
    fault = {"method": "GET", "path": "/v1/Account", "status": 503, "times": 2}
    assert client.post("/_mock/faults", json=fault).status_code == 200

    codes = [client.get("/v1/Account").status_code for _ in range(4)]

    assert codes == [503, 503, 200, 429]
