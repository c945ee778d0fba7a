"""Helpers for webhook tests that drive the in-process mock.

``mock`` is the ``Mock`` of tests/conftest.py (anything with ``.v1`` and ``.client``).
The receiver itself is the package's ``WebhookSink`` (see conftest.py's ``receiver``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mock_puresms.testing.webhook_sink import SinkServer


def closed_port_url(path: str = "/hook") -> str:
    """A loopback URL on which nothing listens (connections are refused)."""
    with SinkServer() as dead:
        url = dead.sink(at_root=True).url_for(path)
    return url


def set_webhooks(
    mock: Any,
    *,
    receipts: str | None = None,
    replies: str | None = None,
    secret: str | None = None,
    key: str | None = None,
) -> None:
    """``PUT /v1/Account/Webhooks`` for the account of ``key`` (the mock's default key)."""
    body = {"deliveryReceiptUrl": receipts, "replyUrl": replies, "secret": secret}
    kwargs = {"key": key} if key is not None else {}
    response = mock.v1("PUT", "/v1/Account/Webhooks", json=body, **kwargs)
    assert response.status_code == 200, response.text


def deliveries(mock: Any, **params: str) -> list[dict[str, Any]]:
    """Every delivery ``GET /_mock/webhooks`` lists (newest first) for ``params``."""
    response = mock.client.get("/_mock/webhooks", params={"pageSize": "1000", **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def use_scenario(mock: Any, text: str) -> None:
    """Make the YAML scenario ``text`` active (``PUT /_mock/scenario``)."""
    response = mock.client.put(
        "/_mock/scenario", content=text, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text


def iso_ms(text: str) -> int:
    """A timestamp of the mock as epoch milliseconds."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(value.timestamp() * 1000)


def attempt_offsets(delivery: dict[str, Any], origin: str) -> list[float]:
    """Seconds from ``origin`` (an ISO timestamp) to each attempt of ``delivery``."""
    start = iso_ms(origin)
    return [(iso_ms(attempt["at"]) - start) / 1000 for attempt in delivery["attempts"]]
