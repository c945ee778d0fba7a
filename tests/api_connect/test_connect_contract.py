"""Every operation of the current API answers as its OpenAPI document says.

schemathesis generates requests, valid and invalid, for every operation of
``mock_puresms/openapi/connect.yaml`` (no 5xx; status, content type, headers and body as
declared); a scripted walk reaches the success answer of every operation, which random
ids alone never find.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route
from starlette.testclient import TestClient

from mock_puresms import Settings, create_app
from mock_puresms.api.docs import load_openapi

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}

app = create_app(Settings(clock="virtual"))
DOCUMENT = load_openapi("connect")
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = app


def test_every_connect_route_of_the_app_is_in_the_document() -> None:
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith(("/sms", "/reporting"))
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {
        (method.upper(), path)
        for path, item in DOCUMENT["paths"].items()  # type: ignore[attr-defined]
        for method in item
        if method in HTTP_METHODS
    }
    assert served == documented


def test_the_document_is_served_and_offered_by_swagger() -> None:
    with TestClient(app) as client:
        served = client.get("/openapi/connect.json")
        assert served.status_code == 200
        assert served.headers["content-type"] == "application/json"
        assert served.json() == DOCUMENT
        assert served.json()["openapi"] == "3.1.0"
        assert '"/openapi/connect.json"' in client.get("/swagger").text


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_operation_conforms_to_the_document(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(headers={"X-Api-Key": "contract-key"}, checks=CHECKS)


def _call(method: str, path: str, status: int, **data: Any) -> Any:
    case = schema[path][method].Case(**data)
    response = case.call_and_validate(headers={"X-Api-Key": "walk-key"}, checks=CHECKS)
    assert response.status_code == status, (method, path, response.text)
    return response.json() if response.content else None


def test_walk_reaches_the_success_answer_of_every_operation() -> None:
    future = "2099-01-01T00:00:00Z"
    message = {"sender": "Walk", "recipient": "+447700900100", "content": "Hi", "clientTag": "w"}
    sent = _call("POST", "/sms/send", 200, body={**message, "sendAtUtc": future})
    _call("POST", "/sms/send", 400, body={**message, "recipient": "447700900100"})
    bulk = _call(
        "POST", "/sms/send/bulk", 200, body={"messages": [message, message], "sendAtUtc": future}
    )
    partial = _call(
        "POST", "/sms/send/bulk", 207, body={"messages": [message, {**message, "sender": ""}]}
    )
    assert partial["errors"] == [{"index": 1, "error": "sender: is required."}]
    _call("DELETE", "/sms/send/{id}", 200, path_parameters=sent)
    _call("DELETE", "/sms/send/{id}", 400, path_parameters=sent)
    batch = {"id": bulk["batchId"]}
    assert _call("DELETE", "/sms/send/bulk/{id}", 200, path_parameters=batch)["cancelledCount"] == 2
    _call("DELETE", "/sms/send/bulk/{id}", 400, path_parameters={"id": "1"})
    report = _call(
        "GET",
        "/reporting/client-tag-report",
        200,
        query={"dateStart": "2000-01-01", "dateEnd": "2100-01-01", "clientTag": "w"},
    )
    assert report["summaries"][0]["sentCount"] == 1  # the partial bulk's one message
