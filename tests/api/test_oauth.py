"""OAuth 2.0 client credentials (API.md section 2): ``POST /connect/token`` and bearer tokens."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import pytest
import yaml

if TYPE_CHECKING:
    from inprocess import Mock

MakeMock = Callable[..., "Mock"]
TOKEN = "/connect/token"
GRANT = {"grant_type": "client_credentials"}
ACME = {"name": "acme", "oauthClients": [{"clientId": "acme app", "clientSecret": "s3:cr&t é"}]}


@pytest.fixture
def strict(make_mock: MakeMock, tmp_path: Path) -> Mock:
    """Two configured accounts: acme (an OAuth client and a key) and globex (a client)."""
    path = tmp_path / "config.yaml"
    accounts = [
        {**ACME, "apiKeys": ["acme-key"]},
        {"name": "globex", "oauthClients": [{"clientId": "globex-app", "clientSecret": "pw"}]},
    ]
    path.write_text(yaml.safe_dump({"accounts": accounts}), encoding="utf-8")
    return make_mock(config=path)


def basic(client_id: str, secret: str) -> str:
    # RFC 6749 section 2.3.1: each part is form-urlencoded, then the pair base64-encoded.
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def request_token(mock: Mock, form: dict[str, str] | None = None, **kwargs: Any) -> Any:
    return mock.client.post(TOKEN, data=form, **kwargs)


def get_token(mock: Mock, client_id: str, secret: str = "secret") -> str:
    response = request_token(mock, {**GRANT, "client_id": client_id, "client_secret": secret})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(mock: Mock, method: str, path: str, token: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    return mock.v1(method, path, key=None, headers=headers, **kwargs)


def oauth_error(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    # RFC 6749 errors are plain JSON, never problem+json, and never cached.
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert body["error_description"]
    return body


# --- Issuing tokens -----------------------------------------------------------------------


def test_client_credentials_in_the_form_get_a_bearer_token(mock: Mock) -> None:
    response = request_token(mock, {**GRANT, "client_id": "app", "client_secret": "x"})

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "puresms.api"
    assert len(body["access_token"]) >= 32


def test_every_token_is_new(mock: Mock) -> None:
    assert get_token(mock, "app") != get_token(mock, "app")


def test_bearer_token_is_accepted_wherever_an_api_key_is(mock: Mock) -> None:
    token = get_token(mock, "app")

    sent = bearer(
        mock,
        "POST",
        "/v1/Sms/Send",
        token,
        json={"to": "447700900100", "from": "Acme", "content": "Hi"},
    )
    assert sent.status_code == 200, sent.text
    reference = sent.json()["reference"]
    assert bearer(mock, "GET", f"/v1/Sms/{reference}", token).status_code == 200
    created = bearer(mock, "POST", "/v1/Contacts", token, json={"phoneNumber": "447700900100"})
    assert created.status_code == 201, created.text
    assert bearer(mock, "GET", "/v1/Account", token).status_code == 200


def test_bearer_scheme_name_is_case_insensitive(mock: Mock) -> None:
    token = get_token(mock, "app")
    response = mock.v1("GET", "/v1/Account", key=None, headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200, response.text


def test_same_string_as_api_key_and_client_id_is_the_same_account(mock: Mock) -> None:
    sent = mock.send(key="shared")
    token = get_token(mock, "shared", "any secret")

    account = bearer(mock, "GET", "/v1/Account", token).json()
    assert account == mock.v1("GET", "/v1/Account", key="shared").json()
    assert bearer(mock, "GET", f"/v1/Sms/{sent['reference']}", token).status_code == 200


def test_clients_of_different_accounts_never_see_each_others_data(mock: Mock) -> None:
    alice, bob = get_token(mock, "alice"), get_token(mock, "bob")
    sent = bearer(
        mock,
        "POST",
        "/v1/Sms/Send",
        alice,
        json={"to": "447700900100", "from": "Acme", "content": "Hi"},
    ).json()
    contact = bearer(
        mock, "POST", "/v1/Contacts", alice, json={"phoneNumber": "447700900100"}
    ).json()

    assert bearer(mock, "GET", f"/v1/Sms/{sent['reference']}", bob).status_code == 404
    assert bearer(mock, "GET", "/v1/Sms", bob).json()["totalCount"] == 0
    assert bearer(mock, "GET", f"/v1/Contacts/{contact['id']}", bob).status_code == 404
    assert bearer(mock, "GET", "/v1/Contacts", bob).json()["totalCount"] == 0
    assert (
        bearer(mock, "GET", "/v1/Account", bob).json()["id"]
        != (bearer(mock, "GET", "/v1/Account", alice).json()["id"])
    )
    # The same number is free in the other account.
    again = bearer(mock, "POST", "/v1/Contacts", bob, json={"phoneNumber": "447700900100"})
    assert again.status_code == 201, again.text


def test_basic_credentials_are_form_urlencoded_before_base64(strict: Mock) -> None:
    response = request_token(
        strict, GRANT, headers={"Authorization": basic("acme app", "s3:cr&t é")}
    )

    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert bearer(strict, "GET", "/v1/Account", token).json()["name"] == "acme"


def test_basic_credentials_may_repeat_the_client_id_in_the_form(strict: Mock) -> None:
    response = request_token(
        strict,
        {**GRANT, "client_id": "acme app"},
        headers={"Authorization": basic("acme app", "s3:cr&t é")},
    )
    assert response.status_code == 200, response.text


def test_strict_client_token_and_api_key_reach_the_same_account(strict: Mock) -> None:
    sent = strict.send(key="acme-key")
    token = get_token(strict, "acme app", "s3:cr&t é")

    assert bearer(strict, "GET", f"/v1/Sms/{sent['reference']}", token).status_code == 200
    globex = get_token(strict, "globex-app", "pw")
    assert bearer(strict, "GET", f"/v1/Sms/{sent['reference']}", globex).status_code == 404
    assert bearer(strict, "GET", "/v1/Account", globex).json()["name"] == "globex"


# --- Token errors (RFC 6749 section 5.2) ----------------------------------------------------


def test_wrong_secret_in_the_form_is_invalid_client(strict: Mock) -> None:
    response = request_token(strict, {**GRANT, "client_id": "acme app", "client_secret": "s3:cr&t"})
    oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


def test_wrong_secret_as_basic_is_invalid_client_with_a_basic_challenge(strict: Mock) -> None:
    response = request_token(strict, GRANT, headers={"Authorization": basic("acme app", "wrong")})
    oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


def test_unknown_client_in_strict_mode_is_invalid_client(strict: Mock) -> None:
    response = request_token(strict, {**GRANT, "client_id": "acme-key", "client_secret": "x"})
    oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"client_id": "app"},
        {"client_secret": "x"},
        {"client_id": "app", "client_secret": ""},
    ],
    ids=["nothing", "no-secret", "no-id", "empty-secret"],
)
def test_missing_client_credentials_are_invalid_client(mock: Mock, form: dict[str, str]) -> None:
    oauth_error(request_token(mock, {**GRANT, **form}), 401, "invalid_client")


@pytest.mark.parametrize("header", ["Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode()])
def test_malformed_basic_credentials_are_invalid_client(mock: Mock, header: str) -> None:
    response = request_token(mock, GRANT, headers={"Authorization": header})
    oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "CLIENT_CREDENTIALS"])
def test_other_grant_types_are_unsupported(mock: Mock, grant_type: str) -> None:
    form = {"grant_type": grant_type, "client_id": "app", "client_secret": "x"}
    oauth_error(request_token(mock, form), 400, "unsupported_grant_type")


def test_missing_grant_type_is_invalid_request(mock: Mock) -> None:
    form = {"client_id": "app", "client_secret": "x"}
    oauth_error(request_token(mock, form), 400, "invalid_request")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"grant_type": "client_credentials"}', "application/json"),
        (b"grant_type=client_credentials", "text/plain"),
        (b"grant_type=client_credentials", None),
        (b"grant_type", "application/x-www-form-urlencoded"),
        (b"grant_type=client_credentials&&client_id=a", "application/x-www-form-urlencoded"),
        (b"grant_type=client_credentials&client_id=%ff", "application/x-www-form-urlencoded"),
        (
            b"grant_type=client_credentials&grant_type=client_credentials",
            "application/x-www-form-urlencoded",
        ),
    ],
    ids=["json", "text", "no-type", "no-equals", "empty-field", "bad-utf8", "repeated"],
)
def test_a_body_that_is_not_a_valid_form_is_invalid_request(
    mock: Mock, content: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = mock.client.post(TOKEN, content=content, headers=headers)
    oauth_error(response, 400, "invalid_request")


def test_form_content_type_may_carry_a_charset(mock: Mock) -> None:
    response = mock.client.post(
        TOKEN,
        content=b"grant_type=client_credentials&client_id=app&client_secret=x",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert response.status_code == 200, response.text


def test_two_ways_of_sending_the_secret_is_invalid_request(mock: Mock) -> None:
    response = request_token(
        mock,
        {**GRANT, "client_id": "app", "client_secret": "x"},
        headers={"Authorization": basic("app", "x")},
    )
    oauth_error(response, 400, "invalid_request")


def test_only_the_puresms_scope_can_be_asked_for(mock: Mock) -> None:
    credentials = {**GRANT, "client_id": "app", "client_secret": "x"}
    assert request_token(mock, {**credentials, "scope": "puresms.api"}).status_code == 200
    oauth_error(request_token(mock, {**credentials, "scope": "admin"}), 400, "invalid_scope")


# --- Using tokens -------------------------------------------------------------------------


def test_token_expires_by_the_virtual_clock(mock: Mock) -> None:
    token = get_token(mock, "app")

    mock.advance(3599)
    assert bearer(mock, "GET", "/v1/Account", token).status_code == 200
    mock.advance(2)
    response = bearer(mock, "GET", "/v1/Account", token)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    # A new token works again.
    assert bearer(mock, "GET", "/v1/Account", get_token(mock, "app")).status_code == 200


def test_unknown_token_is_401(mock: Mock) -> None:
    response = bearer(mock, "GET", "/v1/Account", "not-a-token")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert bearer(mock, "GET", "/v1/Account", "").status_code == 401


def test_basic_credentials_do_not_authenticate_v1_requests(mock: Mock) -> None:
    response = mock.v1("GET", "/v1/Account", key=None, headers={"Authorization": basic("a", "b")})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_reset_forgets_tokens(mock: Mock) -> None:
    token = get_token(mock, "app")
    assert mock.client.post("/_mock/reset").status_code == 200
    assert bearer(mock, "GET", "/v1/Account", token).status_code == 401


def test_reset_of_another_account_keeps_the_token(mock: Mock) -> None:
    token = get_token(mock, "app")
    other = mock.v1("GET", "/v1/Account", key="other").json()["id"]
    assert mock.client.post("/_mock/reset", params={"account": other}).status_code == 200
    assert bearer(mock, "GET", "/v1/Account", token).status_code == 200
    mine = bearer(mock, "GET", "/v1/Account", token).json()["id"]
    assert mock.client.post("/_mock/reset", params={"account": mine}).status_code == 200
    assert bearer(mock, "GET", "/v1/Account", token).status_code == 401
