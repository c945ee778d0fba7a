"""Every v1 operation the app serves answers as the packaged OpenAPI document says.

Schemathesis generates requests (valid and invalid) from ``mock_puresms/openapi/v1.yaml``
and runs them against the in-process app: no answer is a 5xx, and each answer's status
code, content type and body are the ones the document declares for that operation.

The document also describes operations that are not built yet; an operation is tested
as soon as the app routes its path and method, so it joins this test when it is built.
"""

from __future__ import annotations

import copy
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette
from starlette.routing import Match, Route

from mock_puresms import Settings, create_app
from mock_puresms.api.docs import load_openapi

API_KEY = "contract-key"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}

app = create_app(Settings(clock="virtual"))


def _is_routed(app: Starlette, method: str, path: str) -> bool:
    """Whether a route of ``app`` fully matches ``method`` on ``path`` (parameters filled)."""
    concrete = path.replace("{", "").replace("}", "")  # "/v1/Sms/{reference}" -> "/v1/Sms/reference"
    scope = {"type": "http", "method": method.upper(), "path": concrete, "root_path": ""}
    return any(route.matches(scope)[0] is Match.FULL for route in app.routes)


def _routed_document(app: Starlette) -> dict[str, Any]:
    """The OpenAPI document without the operations ``app`` does not route yet."""
    document = copy.deepcopy(load_openapi())  # load_openapi's dict is shared: never mutate it
    paths: dict[str, dict[str, Any]] = document["paths"]
    for path, item in list(paths.items()):
        for method in [name for name in item if name in HTTP_METHODS]:
            if not _is_routed(app, method, path):
                del item[method]
        if not HTTP_METHODS & item.keys():
            del paths[path]
    return document


ROUTED = _routed_document(app)
schema = schemathesis.openapi.from_dict(ROUTED)
schema.app = app


def test_every_v1_route_of_the_app_is_in_the_document() -> None:
    documented = {
        (method.upper(), path)
        for path, item in ROUTED["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith(("/v1/", "/connect/"))
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert served == documented


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_operation_conforms_to_the_document(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"X-API-Key": API_KEY}, checks=CHECKS)
