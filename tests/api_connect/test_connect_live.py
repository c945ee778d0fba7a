"""The current API on a real uvicorn server on loopback: what a client sees on the wire."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from mock_puresms.testing.server_thread import ServerThread

GOOD = {"sender": "Acme", "recipient": "+447700900123", "content": "Hello"}


@pytest.fixture
def base_url(live_server: Callable[..., ServerThread]) -> str:
    return live_server().base_url


def test_send_bulk_cancel_and_report_over_the_wire(base_url: str) -> None:
    with httpx.Client(base_url=base_url, headers={"X-Api-Key": "live-key"}) as client:
        sent = client.post("/sms/send", json={**GOOD, "sendAtUtc": "2099-01-01T00:00:00Z"})
        assert sent.status_code == 200, sent.text
        # The raw body: the id is a JSON string of digits, not a number.
        assert sent.content.startswith(b'{"id":"') and b'"countryCode":"GB"' in sent.content
        assert sent.headers["x-request-id"]

        bulk = client.post("/sms/send/bulk", json={"messages": [GOOD, {**GOOD, "recipient": "1"}]})
        assert bulk.status_code == 207, bulk.text
        assert bulk.json()["messageCount"] == 1

        cancelled = client.delete(f"/sms/send/{sent.json()['id']}")
        assert (cancelled.status_code, cancelled.content) == (200, b"")
        found = client.get(f"/v1/Sms/{sent.json()['id']}")
        assert found.json()["deliveryStatusName"] == "Deleted"

        report = client.get(
            "/reporting/client-tag-report",
            params={"dateStart": "2000-01-01", "dateEnd": "2100-12-31"},
        )
        assert report.status_code == 200
        assert report.json()["summaries"][0]["sentCount"] == 1


def test_errors_over_the_wire_are_fastendpoints_bodies(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        unauthorized = client.post("/sms/send", json=GOOD)
        malformed = client.post(
            "/sms/send",
            content=b"{",
            headers={"X-Api-Key": "k", "Content-Type": "application/json"},
        )

    assert unauthorized.status_code == 401
    assert unauthorized.headers["content-type"] == "application/problem+json"
    assert "www-authenticate" not in unauthorized.headers
    assert set(unauthorized.json()) == {"statusCode", "message"}
    assert malformed.status_code == 400
    assert list(malformed.json()["errors"]) == ["serializerErrors"]


def test_the_document_is_served(base_url: str) -> None:
    document = httpx.get(f"{base_url}/openapi/connect.json")

    assert document.status_code == 200 and "/sms/send" in document.json()["paths"]
