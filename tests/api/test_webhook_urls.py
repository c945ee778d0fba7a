"""The webhook URL rule (README "Webhook URLs") at every place the API takes a URL: the
account's webhooks, and a send's ``deliveryReceiptUrl`` (single, bulk and its fast path,
group). Loopback stays allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from inprocess import Mock

REFUSED = [
    "http://127.1:8080/r",
    "http://2852039166/",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/",
    "http://user:secret@hooks.test/",
    "http://0.0.0.0:9000/",
]


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


@pytest.mark.parametrize("url", REFUSED)
def test_account_webhooks_refuse_with_the_reason(mock: Mock, url: str) -> None:
    body = {"deliveryReceiptUrl": None, "replyUrl": url}
    errors = errors_of(mock.v1("PUT", "/v1/Account/Webhooks", json=body))
    assert list(errors) == ["replyUrl"]
    assert errors["replyUrl"][0].startswith("'replyUrl' must ")


@pytest.mark.parametrize("url", REFUSED)
def test_every_send_refuses_the_url(mock: Mock, url: str) -> None:
    single = {"to": "447700900100", "from": "Acme", "content": "Hi", "deliveryReceiptUrl": url}
    assert list(errors_of(mock.v1("POST", "/v1/Sms/Send", json=single))) == ["deliveryReceiptUrl"]
    # Every message alike takes the bulk fast path; the batch's URL the common one.
    plain = {"to": "447700900100", "from": "Acme", "content": "Hi"}
    for body in (
        {"messages": [{**plain, "deliveryReceiptUrl": url}] * 3},
        {"messages": [plain, plain], "deliveryReceiptUrl": url},
    ):
        response = mock.v1("POST", "/v1/Sms/SendBulk", json=body)
        assert any("deliveryReceiptUrl" in key for key in errors_of(response)), body
    assert mock.v1("GET", "/v1/Sms").json()["totalCount"] == 0


def test_loopback_and_private_urls_stay_allowed(mock: Mock) -> None:
    for url in (
        "http://127.0.0.1:9000/r",
        "http://localhost/r",
        "http://[::1]:1/r",
        "http://10.0.0.7/r",
    ):
        body = {"deliveryReceiptUrl": url, "replyUrl": url}
        assert mock.v1("PUT", "/v1/Account/Webhooks", json=body).status_code == 200
        assert mock.send(deliveryReceiptUrl=url)["deliveryReceiptUrl"] == url
