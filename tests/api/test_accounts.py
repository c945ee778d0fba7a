"""Accounts (API.md section 2): open and strict mode, isolation, credits, webhook settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from inprocess import Mock

MakeMock = Callable[..., "Mock"]
GOOD = {"to": "447700900100", "from": "Acme", "content": "Hello"}
TWO_SEGMENTS = "a" * 161
NO_WEBHOOKS = {"deliveryReceiptUrl": None, "replyUrl": None, "secret": None}


@pytest.fixture
def strict(make_mock: MakeMock, tmp_path: Path) -> Callable[..., Mock]:
    """Build a strict-mode mock from a list of account entries of the config file."""

    def build(*accounts: dict[str, Any]) -> Mock:
        path = tmp_path / f"config-{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(yaml.safe_dump({"accounts": list(accounts)}), encoding="utf-8")
        return make_mock(config=path)

    return build


def account(mock: Mock, key: str) -> dict[str, Any]:
    response = mock.v1("GET", "/v1/Account", key=key)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def send(mock: Mock, key: str, content: str = "Hello", query: str = "") -> Any:
    return mock.v1("POST", "/v1/Sms/Send" + query, key=key, json={**GOOD, "content": content})


def total(mock: Mock, key: str) -> int:
    response = mock.v1("GET", "/v1/Sms", key=key)
    assert response.status_code == 200, response.text
    count: int = response.json()["totalCount"]
    return count


# --- Open mode ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["a", "some key with spaces", "k" * 200, "ключ".encode()])
def test_open_mode_accepts_any_non_empty_key(mock: Mock, key: str | bytes) -> None:
    response = mock.v1("GET", "/v1/Account", headers={"X-API-Key": key}, key=None)

    assert response.status_code == 200, response.text
    assert mock.v1("GET", "/v1/Sms", headers={"X-API-Key": key}, key=None).status_code == 200


def test_open_mode_account_is_named_by_its_id_with_unlimited_credits(mock: Mock) -> None:
    body = account(mock, "my-secret-key")

    assert set(body) == {"id", "name", "credits", "webhooks"}
    assert body["name"] == body["id"]
    assert body["credits"] is None
    assert body["webhooks"] == NO_WEBHOOKS


def test_open_mode_account_id_never_contains_the_key(mock: Mock) -> None:
    key = "my-secret-key-123"

    body = account(mock, key)

    assert key not in body["id"]
    assert "secret" not in body["id"]


def test_open_mode_account_id_is_stable_across_fresh_servers(make_mock: MakeMock) -> None:
    first = account(make_mock(), "stable-key")["id"]
    second = account(make_mock(), "stable-key")["id"]

    assert first == second


def test_open_mode_keys_get_distinct_accounts(mock: Mock) -> None:
    assert account(mock, "key-one")["id"] != account(mock, "key-two")["id"]


def test_open_mode_keys_are_isolated(mock: Mock) -> None:
    mine = mock.send(key="key-a", batchReference="shared-name")
    bulk = mock.v1(
        "POST", "/v1/Sms/SendBulk", key="key-a", json={"messages": [GOOD], "batchReference": "bb"}
    )
    assert bulk.status_code == 200

    assert total(mock, "key-a") == 2
    assert total(mock, "key-b") == 0
    assert mock.v1("GET", f"/v1/Sms/{mine['reference']}", key="key-b").status_code == 404
    assert mock.v1("GET", "/v1/Sms/Batch/bb", key="key-b").status_code == 404
    assert mock.v1("GET", "/v1/Sms/Batch/shared-name", key="key-b").status_code == 404
    assert mock.v1("DELETE", "/v1/Sms/Batch/bb", key="key-b").status_code == 404
    assert mock.v1("GET", "/v1/Sms/Batch/bb", key="key-a").status_code == 200


def test_same_batch_reference_in_two_accounts_stays_separate(mock: Mock) -> None:
    mock.send(key="key-a", batchReference="same")
    mock.send(key="key-b", batchReference="same")
    mock.send(key="key-b", batchReference="same")

    assert mock.v1("GET", "/v1/Sms/Batch/same", key="key-a").json()["count"] == 1
    assert mock.v1("GET", "/v1/Sms/Batch/same", key="key-b").json()["count"] == 2


def test_open_mode_webhooks_are_isolated(mock: Mock) -> None:
    settings = {"deliveryReceiptUrl": "http://a.test/r", "replyUrl": None, "secret": None}
    assert mock.v1("PUT", "/v1/Account/Webhooks", key="key-a", json=settings).status_code == 200

    assert account(mock, "key-b")["webhooks"] == NO_WEBHOOKS
    assert account(mock, "key-a")["webhooks"] == settings


# --- Strict mode --------------------------------------------------------------------------


def test_strict_mode_refuses_an_unknown_key_with_401(strict: Callable[..., Mock]) -> None:
    mock = strict({"name": "acme", "apiKeys": ["acme-key"]})

    response = send(mock, "any-other-key")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["detail"] and body["traceId"]
    assert "errors" not in body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/Account"),
        ("GET", "/v1/Sms"),
        ("GET", "/v1/Sms/MXYZ"),
        ("DELETE", "/v1/Sms/MXYZ"),
        ("GET", "/v1/Sms/Batch/b"),
        ("DELETE", "/v1/Sms/Batch/b"),
        ("GET", "/v1/Account/Webhooks"),
        ("PUT", "/v1/Account/Webhooks"),
        ("POST", "/v1/Sms/SendBulk"),
    ],
)
def test_strict_mode_refuses_a_missing_key_on_every_route(
    strict: Callable[..., Mock], method: str, path: str
) -> None:
    mock = strict({"name": "acme", "apiKeys": ["acme-key"]})

    missing = mock.v1(method, path, key=None, json={})
    wrong = mock.v1(method, path, key="acme-key-but-wrong", json={})

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.headers["www-authenticate"] == wrong.headers["www-authenticate"] == "Bearer"


def test_open_mode_refuses_a_missing_key_on_reads_too(mock: Mock) -> None:
    response = mock.v1("GET", "/v1/Sms", key=None)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_strict_mode_configured_key_works(strict: Callable[..., Mock]) -> None:
    mock = strict({"name": "acme", "apiKeys": ["acme-key"], "credits": 50})

    response = send(mock, "acme-key")

    assert response.status_code == 200, response.text
    body = account(mock, "acme-key")
    assert body["name"] == "acme"
    assert body["credits"] == 49


def test_two_keys_of_one_account_share_its_data(strict: Callable[..., Mock]) -> None:
    mock = strict(
        {"name": "acme", "apiKeys": ["key-1", "key-2"]}, {"name": "globex", "apiKeys": ["g"]}
    )

    sent = send(mock, "key-1").json()

    assert mock.v1("GET", f"/v1/Sms/{sent['reference']}", key="key-2").status_code == 200
    assert total(mock, "key-2") == 1
    assert account(mock, "key-1")["id"] == account(mock, "key-2")["id"]
    assert total(mock, "g") == 0
    assert mock.v1("GET", f"/v1/Sms/{sent['reference']}", key="g").status_code == 404


def test_strict_mode_account_shows_its_configured_webhooks(strict: Callable[..., Mock]) -> None:
    webhooks = {
        "deliveryReceiptUrl": "http://receipts.test/in",
        "replyUrl": "http://replies.test/in",
        "secret": "shh",
    }
    mock = strict({"name": "acme", "apiKeys": ["k"], "webhooks": webhooks})

    assert account(mock, "k")["webhooks"] == webhooks
    assert mock.v1("GET", "/v1/Account/Webhooks", key="k").json() == webhooks


# --- Credits ------------------------------------------------------------------------------


def test_credits_are_consumed_one_per_segment(strict: Callable[..., Mock]) -> None:
    mock = strict({"name": "acme", "apiKeys": ["k"], "credits": 3})

    assert send(mock, "k", TWO_SEGMENTS).status_code == 200

    assert account(mock, "k")["credits"] == 1


def test_send_the_balance_cannot_cover_is_402_and_stores_nothing(
    strict: Callable[..., Mock],
) -> None:
    mock = strict({"name": "acme", "apiKeys": ["k"], "credits": 3})
    assert send(mock, "k", TWO_SEGMENTS).status_code == 200

    response = send(mock, "k", TWO_SEGMENTS)

    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "traceId"}
    assert body["status"] == 402
    assert body["type"] == "https://tools.ietf.org/html/rfc9110#section-15.5.3"
    assert total(mock, "k") == 1
    assert account(mock, "k")["credits"] == 1
    # What is left can still be spent.
    assert send(mock, "k", "short").status_code == 200
    assert account(mock, "k")["credits"] == 0


def test_test_mode_sends_consume_no_credits(strict: Callable[..., Mock]) -> None:
    mock = strict({"name": "acme", "apiKeys": ["k"], "credits": 3})

    for _ in range(3):
        assert send(mock, "k", TWO_SEGMENTS, "?isTest=true").status_code == 200
    bulk = mock.v1("POST", "/v1/Sms/SendBulk?isTest=true", key="k", json={"messages": [GOOD] * 10})

    assert bulk.status_code == 200
    assert account(mock, "k")["credits"] == 3
    assert total(mock, "k") == 13


def test_test_mode_sends_work_with_no_credits_left(strict: Callable[..., Mock]) -> None:
    mock = strict({"name": "acme", "apiKeys": ["k"], "credits": 0})

    assert send(mock, "k").status_code == 402
    assert send(mock, "k", query="?isTest=true").status_code == 200


def test_bulk_whose_total_exceeds_the_balance_is_refused_whole(
    strict: Callable[..., Mock],
) -> None:
    mock = strict({"name": "acme", "apiKeys": ["k"], "credits": 3})
    body = {"messages": [GOOD, GOOD, {**GOOD, "content": TWO_SEGMENTS}, {"to": "bad"}]}

    response = mock.v1("POST", "/v1/Sms/SendBulk", key="k", json=body)

    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    assert total(mock, "k") == 0
    assert account(mock, "k")["credits"] == 3


def test_bulk_that_the_balance_exactly_covers_is_accepted(strict: Callable[..., Mock]) -> None:
    mock = strict({"name": "acme", "apiKeys": ["k"], "credits": 3})
    body = {"messages": [GOOD, {**GOOD, "content": TWO_SEGMENTS}]}

    response = mock.v1("POST", "/v1/Sms/SendBulk", key="k", json=body)

    assert response.status_code == 200
    assert response.json()["segments"] == 3
    assert account(mock, "k")["credits"] == 0


def test_credits_are_shared_by_the_keys_of_one_account(strict: Callable[..., Mock]) -> None:
    mock = strict({"name": "acme", "apiKeys": ["k1", "k2"], "credits": 2})

    assert send(mock, "k1").status_code == 200
    assert send(mock, "k2").status_code == 200
    assert send(mock, "k1").status_code == 402
    assert account(mock, "k2")["credits"] == 0


def test_validation_comes_before_the_credit_check(strict: Callable[..., Mock]) -> None:
    mock = strict({"name": "acme", "apiKeys": ["k"], "credits": 0})

    response = mock.v1("POST", "/v1/Sms/Send", key="k", json={**GOOD, "to": "1"})

    assert response.status_code == 400


# --- Webhook settings -----------------------------------------------------------------------


def test_webhooks_start_unset(mock: Mock) -> None:
    response = mock.v1("GET", "/v1/Account/Webhooks")

    assert response.status_code == 200
    assert response.json() == NO_WEBHOOKS


def test_webhooks_put_then_get_round_trips(mock: Mock) -> None:
    settings = {
        "deliveryReceiptUrl": "https://hooks.example.test/receipts?x=1",
        "replyUrl": "http://127.0.0.1:9000/replies",
        "secret": "s3cret",
    }

    put = mock.v1("PUT", "/v1/Account/Webhooks", json=settings)

    assert put.status_code == 200, put.text
    assert put.json() == settings
    assert mock.v1("GET", "/v1/Account/Webhooks").json() == settings
    assert mock.v1("GET", "/v1/Account").json()["webhooks"] == settings


def test_webhooks_put_replaces_every_setting(mock: Mock) -> None:
    first = {"deliveryReceiptUrl": "http://a.test/", "replyUrl": "http://b.test/", "secret": "s"}
    mock.v1("PUT", "/v1/Account/Webhooks", json=first)

    put = mock.v1("PUT", "/v1/Account/Webhooks", json={"replyUrl": "http://c.test/"})

    expected = {"deliveryReceiptUrl": None, "replyUrl": "http://c.test/", "secret": None}
    assert put.json() == expected
    assert mock.v1("GET", "/v1/Account/Webhooks").json() == expected


def test_webhooks_put_matches_property_names_case_insensitively(mock: Mock) -> None:
    put = mock.v1(
        "PUT",
        "/v1/account/webhooks/",
        json={"DeliveryReceiptUrl": "http://a.test/r", "REPLYURL": None, "Secret": "x", "z": 1},
    )

    assert put.status_code == 200, put.text
    assert put.json() == {"deliveryReceiptUrl": "http://a.test/r", "replyUrl": None, "secret": "x"}


@pytest.mark.parametrize(
    ("body", "keys"),
    [
        ({"deliveryReceiptUrl": "not a url"}, {"deliveryReceiptUrl"}),
        ({"deliveryReceiptUrl": "ftp://files.test/x"}, {"deliveryReceiptUrl"}),
        ({"deliveryReceiptUrl": "/relative/path"}, {"deliveryReceiptUrl"}),
        ({"deliveryReceiptUrl": 42}, {"deliveryReceiptUrl"}),
        ({"replyUrl": "example.test/replies"}, {"replyUrl"}),
        ({"replyUrl": ["http://a.test"]}, {"replyUrl"}),
        ({"secret": ""}, {"secret"}),
        ({"secret": 7}, {"secret"}),
        (
            {"deliveryReceiptUrl": "x", "replyUrl": "y", "secret": ""},
            {
                "deliveryReceiptUrl",
                "replyUrl",
                "secret",
            },
        ),
    ],
)
def test_invalid_webhook_settings_are_400_keyed_by_field_and_change_nothing(
    mock: Mock, body: dict[str, Any], keys: set[str]
) -> None:
    before = {"deliveryReceiptUrl": "http://keep.test/", "replyUrl": None, "secret": "keep"}
    mock.v1("PUT", "/v1/Account/Webhooks", json=before)

    response = mock.v1("PUT", "/v1/Account/Webhooks", json=body)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.json()["errors"]) == keys
    assert mock.v1("GET", "/v1/Account/Webhooks").json() == before


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"[]", "application/json", 400),
        (b"{", "application/json", 400),
        (b'{"replyUrl": null}', "text/plain", 415),
    ],
)
def test_webhooks_put_body_must_be_a_json_object(
    mock: Mock, raw: bytes, content_type: str, status: int
) -> None:
    response = mock.v1(
        "PUT", "/v1/Account/Webhooks", content=raw, headers={"Content-Type": content_type}
    )

    assert response.status_code == status
    if status == 400:
        assert set(response.json()["errors"]) == {"$"}
