"""The control surface's own OpenAPI 3.1 document (issue 15, point 7): valid, listing
every route of ``control/routes.py`` and no other, served at ``/openapi/control.json``,
and true to the app: schemathesis drives every operation it can end (the event stream
never ends and the long poll waits) against the in-process app, requiring no 5xx and
answers as documented.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31
from starlette.routing import Route
from starlette.testclient import TestClient

from mock_puresms import Settings, create_app
from mock_puresms.api.docs import load_openapi, openapi_json_bytes
from mock_puresms.control.routes import control_routes

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# A stream open until shutdown, and a long poll: checked by tests of their own.
NOT_GENERATED = {("GET", "/_mock/events"), ("GET", "/_mock/wait")}


def document() -> dict[str, Any]:
    return load_openapi("control")


def documented_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }


def routed_operations() -> set[tuple[str, str]]:
    found = set()
    for route in control_routes():
        assert isinstance(route, Route)
        found |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return found


def refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_every_control_route_is_documented_and_no_other() -> None:
    assert documented_operations(document()) == routed_operations()


def test_the_document_is_valid_openapi_3_1_with_every_ref_resolving() -> None:
    doc = document()
    errors = [
        f"{list(error.instance_path)}: {error.message[:200]}"
        for error in jsonschema_rs.Draft202012Validator(OPENAPI_31).iter_errors(doc)
    ]
    assert errors == []
    assert doc["openapi"] == "3.1.0"
    for ref in set(refs(doc)):
        target: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
    for name, schema in doc["components"]["schemas"].items():
        try:
            jsonschema_rs.meta.validate(schema)
        except jsonschema_rs.ValidationError as error:
            pytest.fail(f"components.schemas.{name}: {error}")


def test_the_document_is_served_as_json_by_the_app() -> None:
    with TestClient(create_app(Settings(clock="virtual"))) as client:
        response = client.get("/openapi/control.json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == document()
        assert response.content == openapi_json_bytes("control")
        # The v1 document under the same naming, beside its PureSMS URL.
        assert client.get("/openapi/v1.json").json() == load_openapi("v1")


def _generated_document() -> dict[str, Any]:
    doc = copy.deepcopy(document())  # load_openapi's dict is shared: never mutate it
    for method, path in NOT_GENERATED:
        del doc["paths"][path][method.lower()]
        if not METHODS & doc["paths"][path].keys():
            del doc["paths"][path]
    return doc


app = create_app(Settings(clock="virtual"))
schema = schemathesis.openapi.from_dict(_generated_document())
schema.app = app


@schema.parametrize()
@settings(
    # About 20 operations: enough to try each one's bodies and parameters, valid and
    # not, within seconds.
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_operation_conforms_to_the_document(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(checks=CHECKS)


def test_a_walk_reaches_the_success_answer_of_every_operation() -> None:
    """Random references never find a message or a fault: a scripted walk with real
    ones checks each operation's success answer against the document too."""
    doc = document()
    validated: set[tuple[str, str]] = set()

    def call(method: str, path: str, template: str, status: int = 200, **kw: Any) -> Any:
        response = client.request(method, path, **kw)
        assert response.status_code == status, response.text
        answer = doc["paths"][template][method.lower()]["responses"][str(status)]
        while "$ref" in answer:
            answer = doc["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
        (media_type, content), *_ = answer["content"].items()
        assert response.headers["content-type"].split(";")[0] == media_type
        if media_type.endswith("json"):
            shape = {**content["schema"], "components": doc["components"]}
            errors = [
                e.message for e in jsonschema_rs.validator_for(shape).iter_errors(response.json())
            ]
            assert errors == [], (method, path, errors)
        validated.add((method, template))
        return response.json() if media_type.endswith("json") else response.text

    with TestClient(create_app(Settings(clock="virtual"))) as client:
        v1 = {"X-API-Key": "walk-key"}
        body = {"to": "447700900100", "from": "Acme", "content": "Hi"}
        sent = client.post("/v1/Sms/Send", json=body, headers=v1).json()["reference"]
        call("GET", "/_mock/health", "/_mock/health")
        call("GET", "/_mock/clock", "/_mock/clock")
        call("POST", "/_mock/clock/advance", "/_mock/clock/advance", json={"seconds": 5})
        call("GET", "/_mock/scenario", "/_mock/scenario")
        call("PUT", "/_mock/scenario?name=default", "/_mock/scenario")
        call("GET", "/_mock/messages?apiKey=walk-key", "/_mock/messages")
        call("GET", f"/_mock/messages/{sent}", "/_mock/messages/{reference}")
        call(
            "GET",
            f"/_mock/wait?reference={sent}&deliveryStatus=Delivered&timeout=0",
            "/_mock/wait",
        )
        other = client.post("/v1/Sms/Send", json=body, headers=v1).json()["reference"]
        call(
            "POST",
            f"/_mock/messages/{other}/status",
            "/_mock/messages/{reference}/status",
            json={"deliveryStatus": "Undeliverable"},
        )
        reply = {"from": "447700900100", "to": "Acme", "content": "YES"}
        call("POST", "/_mock/replies", "/_mock/replies", json=reply)
        hook = {"deliveryReceiptUrl": "http://127.0.0.1:9/hook"}
        client.put("/v1/Account/Webhooks", json=hook, headers=v1)
        # Chaos on the account's next receipt, so the listing shows a chaos mark.
        chaos = f"/_mock/accounts/{client.get('/v1/Account', headers=v1).json()['id']}/chaos"
        chaos_template = "/_mock/accounts/{account}/chaos"
        rule = {"kind": "delay", "next": 1, "after": {"min": "1s", "max": "2s"}}
        call("PUT", chaos, chaos_template, json={"seed": 1, "chaos": [rule]})
        call("GET", chaos, chaos_template)
        client.post("/v1/Sms/Send", json=body, headers=v1)
        call("POST", "/_mock/clock/advance", "/_mock/clock/advance", json={"seconds": 5})
        deliveries = call("GET", "/_mock/webhooks?apiKey=walk-key", "/_mock/webhooks")
        assert deliveries["items"], "no delivery to check the schema against"
        assert any(item["chaos"] for item in deliveries["items"]), "no chaos mark to check"
        call("DELETE", chaos, chaos_template)
        call("GET", "/_mock/replies?apiKey=walk-key", "/_mock/replies")
        later = {**body, "sendAt": "2999-01-01T00:00:00Z"}
        scheduled = client.post("/v1/Sms/Send", json=later, headers=v1).json()["reference"]
        call("POST", f"/_mock/messages/{scheduled}/cancel", "/_mock/messages/{reference}/cancel")
        # The receipt POSTs to a closed port fail for good once maxAge (a day) is past.
        call("POST", "/_mock/clock/advance", "/_mock/clock/advance", json={"seconds": 2 * 86400})
        failed = client.get("/_mock/webhooks?state=failed").json()["items"]
        assert failed, "no failed delivery to replay"
        call("POST", f"/_mock/webhooks/{failed[0]['id']}/replay", "/_mock/webhooks/{id}/replay")
        account = client.get("/v1/Account", headers=v1).json()["id"]
        endpoints = f"/_mock/accounts/{account}/endpoints"
        template = "/_mock/accounts/{account}/endpoints"
        call("PUT", endpoints, template, json=[{"url": "http://127.0.0.1:9/connect"}])
        call("GET", endpoints, template)
        call("POST", f"{endpoints}/0/enable", template + "/{index}/enable")
        limits, template = (
            f"/_mock/accounts/{account}/rate-limit",
            "/_mock/accounts/{account}/rate-limit",
        )
        call("PUT", limits, template, json={"requests": 1, "window": "1s"})
        client.get("/v1/Account", headers=v1)
        call("GET", limits, template)
        call("DELETE", limits, template)
        fault = {"method": "POST", "path": "/v1/Sms/Send", "status": 503, "body": {"x": 1}}
        added = call("POST", "/_mock/faults", "/_mock/faults", json=fault)
        call("GET", "/_mock/faults", "/_mock/faults")
        call("DELETE", f"/_mock/faults/{added['id']}", "/_mock/faults/{id}")
        call("DELETE", "/_mock/faults", "/_mock/faults")
        call("POST", "/_mock/reset?apiKey=walk-key", "/_mock/reset")

    assert validated == routed_operations() - {("GET", "/_mock/events")}
