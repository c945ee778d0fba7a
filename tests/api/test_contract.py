"""Every v1 operation the app serves answers as the packaged OpenAPI document says.

Two tests, both against the in-process app and checked the same way (no 5xx; status
code, content type, headers and body as the document declares for that operation):

- schemathesis generates requests, valid and invalid, for every operation;
- a scripted walk through the API with real identifiers reaches the success answer of
  every operation, which random references alone almost never find.

The document may describe operations that are not built yet: an operation is tested as
soon as the app routes its path and method, so it joins these tests when it is built.
"""

from __future__ import annotations

import copy
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette
from starlette.routing import Match, Route
from starlette.testclient import TestClient

from mock_puresms import Settings, create_app
from mock_puresms.api.docs import load_openapi

API_KEY = "contract-key"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}

app = create_app(Settings(clock="virtual"))


def _is_routed(app: Starlette, method: str, path: str) -> bool:
    """Whether a route of ``app`` fully matches ``method`` on ``path`` (parameters filled)."""
    concrete = path.replace("{", "").replace(
        "}", ""
    )  # "/v1/Sms/{reference}" -> "/v1/Sms/reference"
    scope = {"type": "http", "method": method.upper(), "path": concrete, "root_path": ""}
    return any(route.matches(scope)[0] is Match.FULL for route in app.routes)


def _routed_document(app: Starlette) -> dict[str, Any]:
    """The OpenAPI document without the operations ``app`` does not route yet."""
    # load_openapi's dict is shared: never mutate it.
    document: dict[str, Any] = copy.deepcopy(load_openapi())
    paths: dict[str, dict[str, Any]] = document["paths"]
    for path, item in list(paths.items()):
        for method in [name for name in item if name in HTTP_METHODS]:
            if not _is_routed(app, method, path):
                del item[method]
        if not HTTP_METHODS & item.keys():
            del paths[path]
    return document


ROUTED = _routed_document(app)
OPERATIONS = {
    (method.upper(), path)
    for path, item in ROUTED["paths"].items()
    for method in item
    if method in HTTP_METHODS
}
schema = schemathesis.openapi.from_dict(ROUTED)
schema.app = app
# Valid and invalid data both: an invalid request the server accepts is a mismatch too
# (a limit it enforces that the document does not state, or the other way round).
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True
)


def test_every_v1_route_of_the_app_is_in_the_document() -> None:
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith(("/v1/", "/connect/"))
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert served == OPERATIONS


@schema.parametrize()
@settings(
    max_examples=30,  # each mode: about a minute for every operation on a busy machine
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_operation_conforms_to_the_document(case: schemathesis.Case[Any]) -> None:
    try:
        case.call_and_validate(
            headers={"X-API-Key": API_KEY}, checks=[*CHECKS, negative_data_rejection]
        )
    except FailureGroup as group:
        if not all(_moot_authorization(failure) for failure in group.exceptions):
            raise


def _moot_authorization(failure: BaseException) -> bool:
    """An invalid ``Authorization`` header that was accepted: every request here also
    carries a valid ``X-API-Key``, which wins over a bearer token (API.md section 2), so
    the server rightly never reads it."""
    return isinstance(failure, AcceptedNegativeData) and "/properties/Authorization" in str(failure)


# --------------------------------------------------------------------------- the walk


class Walk:
    """Calls operations of the document with given data, checking every answer."""

    def __init__(self, key: str) -> None:
        self.headers = {"X-API-Key": key}
        self.succeeded: set[tuple[str, str]] = set()

    def call(
        self,
        method: str,
        path: str,
        status: int,
        headers: dict[str, str] | None = None,
        **data: Any,
    ) -> Any:
        """Call ``method path`` (a document path) with ``data``; return the JSON answer."""
        operation = schema[path][method]
        case = operation.Case(**data)
        response = case.call_and_validate(headers=headers or self.headers, checks=CHECKS)
        assert response.status_code == status, (method, path, response.text)
        if status < 300:
            self.succeeded.add((method, path))
        return response.json() if response.content else None


def test_walk_reaches_the_success_answer_of_every_operation() -> None:
    walk = Walk("contract-walk-key")
    control = TestClient(app)
    future = "2099-01-01T00:00:00Z"

    token = walk.call(
        "POST",
        "/connect/token",
        200,
        body={
            "grant_type": "client_credentials",
            "client_id": "contract-walk-key",
            "client_secret": "s3cret",
        },
        media_type="application/x-www-form-urlencoded",
    )
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    account = walk.call("GET", "/v1/Account", 200, headers=bearer)
    webhooks = {
        "deliveryReceiptUrl": "https://example.test/receipts",
        "replyUrl": "https://example.test/replies",
        "secret": "hush",
    }
    assert walk.call("PUT", "/v1/Account/Webhooks", 200, body=webhooks) == webhooks
    assert walk.call("GET", "/v1/Account/Webhooks", 200) == webhooks

    # Sends: one scheduled message, a bulk of two, a bulk with one rejected message.
    scheduled = walk.call(
        "POST",
        "/v1/Sms/Send",
        200,
        query={"isTest": "true"},
        body={
            "to": "447700900100",
            "from": "Walk",
            "content": "Later",
            "clientReference": "CLI-1",
            "batchReference": "WALK-1",
            "sendAt": future,
        },
    )
    assert scheduled["deliveryStatusName"] == "Scheduled"
    bulk = walk.call(
        "POST",
        "/v1/Sms/SendBulk",
        200,
        body={
            "from": "Walk",
            "content": "Hello",
            "batchReference": "WALK-2",
            "sendAt": future,
            "messages": [{"to": "447700900101"}, {"to": "447700900102", "content": "Hi"}],
        },
    )
    walk.call(
        "POST",
        "/v1/Sms/SendBulk",
        207,
        body={"from": "Walk", "messages": [{"to": "447700900103", "content": "x"}, {"to": "1"}]},
    )

    # Reads and cancels.
    listed = walk.call("GET", "/v1/Sms", 200, query={"batchReference": "WALK-2"})
    assert listed["totalCount"] == 2
    walk.call("GET", "/v1/Sms/{reference}", 200, path_parameters=scheduled)
    walk.call("GET", "/v1/Sms/Batch/{batchReference}", 200, path_parameters=bulk)
    walk.call("DELETE", "/v1/Sms/{reference}", 200, path_parameters=scheduled)
    walk.call("DELETE", "/v1/Sms/{reference}", 409, path_parameters=scheduled)
    cancelled = walk.call("DELETE", "/v1/Sms/Batch/{batchReference}", 200, path_parameters=bulk)
    assert cancelled == {"cancelledCount": 2}

    # Replies, injected through the control surface.
    replied = control.post(
        "/_mock/replies",
        json={"from": "447700900100", "to": "Walk", "content": "YES", "account": account["id"]},
    )
    assert replied.status_code == 200, replied.text
    replies = walk.call("GET", "/v1/Replies", 200, query={"from": "447700900100"})
    assert replies["totalCount"] == 1
    walk.call("GET", "/v1/Replies/{reference}", 200, path_parameters=replies["items"][0])

    # Contacts and groups, and a send to the group.
    contact = walk.call(
        "POST",
        "/v1/Contacts",
        201,
        body={"phoneNumber": "447700900110", "firstName": "Ada", "custom": {"team": "red"}},
    )
    walk.call("POST", "/v1/Contacts", 409, body={"phoneNumber": "+447700900110"})
    walk.call("GET", "/v1/Contacts", 200, query={"search": "Ada"})
    walk.call("GET", "/v1/Contacts/{id}", 200, path_parameters=contact)
    walk.call(
        "PUT",
        "/v1/Contacts/{id}",
        200,
        path_parameters=contact,
        body={"phoneNumber": "447700900110", "firstName": "Ada", "lastName": "Lovelace"},
    )
    imported = walk.call(
        "POST",
        "/v1/Contacts/Import",
        200,
        body=[{"phoneNumber": "447700900111"}, {"phoneNumber": "447700900110", "email": "a@b.c"}],
        media_type="application/json",
    )
    assert (imported["created"], imported["updated"]) == (1, 1)
    walk.call(
        "POST",
        "/v1/Contacts/Import",
        200,
        body="phoneNumber,firstName,team\n447700900112,Alan,blue\n",
        media_type="text/csv",
    )
    group = walk.call("POST", "/v1/ContactGroups", 201, body={"name": "Walkers"})
    walk.call("GET", "/v1/ContactGroups", 200)
    walk.call("GET", "/v1/ContactGroups/{id}", 200, path_parameters=group)
    walk.call("PUT", "/v1/ContactGroups/{id}", 200, path_parameters=group, body={"name": "Walk"})
    walk.call(
        "POST",
        "/v1/ContactGroups/{id}/Contacts",
        200,
        path_parameters=group,
        body={"contactIds": [contact["id"]]},
    )
    walk.call(
        "POST",
        "/v1/Sms/SendToGroup",
        200,
        query={"isTest": "true"},
        body={"groupId": group["id"], "from": "Walk", "content": "Hi {firstName}"},
    )
    walk.call(
        "DELETE",
        "/v1/ContactGroups/{id}/Contacts/{contactId}",
        200,
        path_parameters={"id": group["id"], "contactId": contact["id"]},
    )
    walk.call("DELETE", "/v1/ContactGroups/{id}", 204, path_parameters=group)
    walk.call("DELETE", "/v1/Contacts/{id}", 204, path_parameters=contact)

    missing = sorted(OPERATIONS - walk.succeeded)
    assert not missing, f"add a successful call of these operations to the walk: {missing}"
