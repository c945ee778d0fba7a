"""The control routes the inbox needs: every reply across accounts, cancelling a
scheduled message, and the login cookie that reads but never acts."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_puresms.settings import Settings
from mock_puresms.testing.server_thread import ServerThread

TOKEN = "s3cret-admin"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(Settings(port=0, clock="virtual")) as server:
        yield server


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url) as client:
        client.post("/_mock/reset").raise_for_status()
        yield client


def send(client: httpx.Client, key: str, **fields: object) -> str:
    body = {"to": "447700900123", "from": "Shop", "content": "Hi", **fields}
    response = client.post("/v1/Sms/Send", json=body, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    reference: str = response.json()["reference"]
    return reference


def test_replies_of_every_account_are_listed_newest_first(client: httpx.Client) -> None:
    first = send(client, "one")
    second = send(client, "two", to="447700900124")
    for phone, content in (("447700900123", "YES"), ("447700900124", "NO")):
        client.post("/_mock/replies", json={"from": phone, "to": "Shop", "content": content})

    page = client.get("/_mock/replies").json()
    assert [r["content"] for r in page["items"]] == ["NO", "YES"]
    assert page["totalCount"] == 2 and page["page"] == 1
    assert page["items"][1]["inReplyTo"] == first and page["items"][0]["inReplyTo"] == second
    assert page["items"][0]["account"] != page["items"][1]["account"]

    one = client.get("/_mock/replies", params={"inReplyTo": first}).json()["items"]
    assert [r["content"] for r in one] == ["YES"]
    by_phone = client.get("/_mock/replies", params={"from": "+447700900124"}).json()["items"]
    assert [r["content"] for r in by_phone] == ["NO"]
    account = page["items"][0]["account"]
    mine = client.get("/_mock/replies", params={"account": account}).json()["items"]
    assert [r["content"] for r in mine] == ["NO"]
    unknown = client.get("/_mock/replies", params={"account": "nobody"})
    assert unknown.status_code == 400 and "account" in unknown.json()["errors"]


def test_a_scheduled_message_is_cancelled_and_others_refused(client: httpx.Client) -> None:
    scheduled = send(client, "k", sendAt="2999-01-01T00:00:00Z")
    answer = client.post(f"/_mock/messages/{scheduled}/cancel")
    assert answer.status_code == 200
    assert answer.json()["deliveryStatusName"] == "Deleted"
    assert answer.json()["account"]

    again = client.post(f"/_mock/messages/{scheduled}/cancel")
    assert again.status_code == 409
    assert client.post("/_mock/messages/MNOPE/cancel").status_code == 404


def test_messages_say_which_api_sent_them(client: httpx.Client) -> None:
    send(client, "k")
    assert client.get("/_mock/messages").json()["items"][0]["api"] == "v1"


def test_the_login_cookie_reads_but_never_acts() -> None:
    with (
        ServerThread(Settings(port=0, clock="virtual", admin_token=TOKEN)) as guarded,
        httpx.Client(base_url=guarded.base_url) as client,
    ):
        cookie = {"Cookie": f"mock_puresms_admin={TOKEN}"}
        wrong = {"Cookie": "mock_puresms_admin=nope"}
        assert client.get("/_mock/replies", headers=cookie).status_code == 200
        assert client.get("/_mock/replies", headers=wrong).status_code == 401
        assert client.post("/_mock/reset", headers=cookie).status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert client.post("/_mock/reset", headers=bearer).status_code == 200
        # The pages want the cookie; the login form sets it.
        assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=%2F"
        assert client.get("/", headers=cookie).status_code == 200
        login = client.post(
            "/login",
            content=f"token={TOKEN}&next=//elsewhere.test/",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert login.status_code == 303 and login.headers["location"] == "/"
        assert "samesite=strict" in login.headers["set-cookie"].lower()
        refused = client.post("/login", content="token=nope", follow_redirects=False)
        assert refused.status_code == 401
