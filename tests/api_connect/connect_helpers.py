"""Helpers of the current API's tests (imported by name, as ``webhook_helpers`` is)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from inprocess import Mock

API_KEY = "test-key"  # the key tests/conftest.py's Mock sends
GOOD = {"sender": "Acme", "recipient": "+447700900123", "content": "Hello"}
FUTURE = "2099-01-01T00:00:00Z"


def call(mock: Mock, method: str, path: str, key: str | None = API_KEY, **kwargs: Any) -> Any:
    """A request to the current API, with ``X-Api-Key: key`` unless ``key`` is None."""
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers.setdefault("X-Api-Key", key)
    return mock.client.request(method, path, headers=headers, **kwargs)


def send(mock: Mock, key: str = API_KEY, **fields: Any) -> str:
    """``POST /sms/send`` that must succeed; the message's id."""
    response = call(mock, "POST", "/sms/send", key, json={**GOOD, **fields})
    assert response.status_code == 200, response.text
    message_id: str = response.json()["id"]
    return message_id


def control_message(mock: Mock, reference: str) -> dict[str, Any]:
    response = mock.client.get(f"/_mock/messages/{reference}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def errors_of(response: httpx.Response) -> dict[str, list[str]]:
    """The ``errors`` of a FastEndpoints ``400``, after checking the rest of its shape."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["statusCode"] == 400
    assert body["message"] == "One or more errors occurred!"
    errors: dict[str, list[str]] = body["errors"]
    return errors
