"""The packaged OpenAPI document: valid OpenAPI 3.1, complete, and saying what API.md says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import orjson
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31

from mock_puresms.api import docs

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

# API.md sections 2-5, operation by operation, with every status code it can answer
# (every operation but /connect/token also a 429 when the account has a rate limit).
SEND = {"200", "400", "401", "402", "413", "415", "429"}
LIST = {"200", "400", "401", "429"}
GET_ONE = {"200", "401", "404", "429"}
EXPECTED_RESPONSES: dict[tuple[str, str], set[str]] = {
    ("/connect/token", "post"): {"200", "400", "401"},
    ("/v1/Account", "get"): {"200", "401", "429"},
    ("/v1/Account/Webhooks", "get"): {"200", "401", "429"},
    ("/v1/Account/Webhooks", "put"): {"200", "400", "401", "413", "415", "429"},
    ("/v1/Sms/Send", "post"): SEND,
    ("/v1/Sms/SendBulk", "post"): SEND | {"207"},
    ("/v1/Sms/SendToGroup", "post"): SEND | {"207", "404"},
    ("/v1/Sms", "get"): LIST,
    ("/v1/Sms/{reference}", "get"): GET_ONE,
    ("/v1/Sms/{reference}", "delete"): GET_ONE | {"409"},
    ("/v1/Sms/Batch/{batchReference}", "get"): GET_ONE,
    ("/v1/Sms/Batch/{batchReference}", "delete"): GET_ONE,
    ("/v1/Replies", "get"): LIST,
    ("/v1/Replies/{reference}", "get"): GET_ONE,
    ("/v1/Contacts", "get"): LIST,
    ("/v1/Contacts", "post"): {"201", "400", "401", "409", "413", "415", "429"},
    ("/v1/Contacts/{id}", "get"): GET_ONE,
    ("/v1/Contacts/{id}", "put"): {"200", "400", "401", "404", "409", "413", "415", "429"},
    ("/v1/Contacts/{id}", "delete"): {"204", "401", "404", "429"},
    ("/v1/Contacts/Import", "post"): {"200", "400", "401", "413", "415", "429"},
    ("/v1/ContactGroups", "get"): LIST,
    ("/v1/ContactGroups", "post"): {"201", "400", "401", "413", "415", "429"},
    ("/v1/ContactGroups/{id}", "get"): GET_ONE,
    ("/v1/ContactGroups/{id}", "put"): {"200", "400", "401", "404", "413", "415", "429"},
    ("/v1/ContactGroups/{id}", "delete"): {"204", "401", "404", "429"},
    ("/v1/ContactGroups/{id}/Contacts", "post"): {"200", "400", "401", "404", "413", "415", "429"},
    ("/v1/ContactGroups/{id}/Contacts/{contactId}", "delete"): GET_ONE,
}
SEND_PATHS = ["/v1/Sms/Send", "/v1/Sms/SendBulk", "/v1/Sms/SendToGroup"]
LIST_PATHS = ["/v1/Sms", "/v1/Replies", "/v1/Contacts", "/v1/ContactGroups"]
STATUS_NAMES = [
    "Scheduled",
    "Enroute",
    "Delivered",
    "Expired",
    "Deleted",
    "Undeliverable",
    "Accepted",
    "Unknown",
    "Rejected",
    "Skipped",
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return docs.load_openapi()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


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


def validator(document: dict[str, Any], name: str) -> jsonschema_rs.Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    errors = [
        f"{list(error.instance_path)}: {error.message}"
        for error in jsonschema_rs.Draft202012Validator(OPENAPI_31).iter_errors(document)
    ]
    assert errors == []
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "PureSMS API (mock-puresms)"
    assert document["info"]["version"] == "v1"
    assert document["servers"] == [{"url": "/"}]


def test_every_component_schema_is_valid_json_schema(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        try:
            jsonschema_rs.meta.validate(schema)
        except jsonschema_rs.ValidationError as error:
            pytest.fail(f"components.schemas.{name}: {error}")


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    for ref in set(refs(document)):
        assert ref.startswith("#/components/"), ref
        resolve(document, {"$ref": ref})


def test_json_document_equals_yaml_document(document: dict[str, Any]) -> None:
    assert orjson.loads(docs.openapi_json_bytes()) == document


def test_every_operation_of_api_md_is_documented_and_no_other(
    document: dict[str, Any],
) -> None:
    documented = {(path, method) for path, method, _ in operations(document)}
    assert documented == set(EXPECTED_RESPONSES)


@pytest.mark.parametrize("key", sorted(EXPECTED_RESPONSES), ids="{0[1]} {0[0]}".format)
def test_operation_documents_every_status_api_md_gives_it(
    document: dict[str, Any], key: tuple[str, str]
) -> None:
    path, method = key
    responses = document["paths"][path][method]["responses"]
    assert set(responses) == EXPECTED_RESPONSES[key]


def test_every_operation_has_an_id_summary_and_known_tag(document: dict[str, Any]) -> None:
    tags = {tag["name"] for tag in document["tags"]}
    assert tags == {"Sms", "Replies", "Account", "Contacts", "ContactGroups", "Auth"}
    ids = []
    for path, method, operation in operations(document):
        assert operation.get("operationId"), (method, path)
        assert operation.get("summary"), (method, path)
        assert len(operation["tags"]) == 1 and operation["tags"][0] in tags, (method, path)
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))


def test_every_v1_operation_accepts_an_api_key_or_a_bearer_token(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["apiKey"]["description"],
    }
    assert schemes["bearer"]["type"] == "http"
    assert schemes["bearer"]["scheme"] == "bearer"
    for path, method, operation in operations(document):
        security = operation.get("security", document["security"])
        if path == "/connect/token":
            assert {} in security, "the token endpoint must not require a credential"
        else:
            assert security == [{"apiKey": []}, {"bearer": []}], (method, path)


def test_send_operations_take_is_test(document: dict[str, Any]) -> None:
    for path in SEND_PATHS:
        parameters = [
            resolve(document, parameter)
            for parameter in document["paths"][path]["post"].get("parameters", [])
        ]
        is_test = [p for p in parameters if p["name"] == "isTest"]
        assert len(is_test) == 1, path
        assert is_test[0]["in"] == "query"
        assert is_test[0]["schema"]["type"] == "boolean"


def test_path_parameters_are_declared(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        shared = [resolve(document, p) for p in item.get("parameters", [])]
        for method, operation in item.items():
            if method not in METHODS:
                continue
            own = [resolve(document, p) for p in operation.get("parameters", [])]
            declared = {p["name"] for p in shared + own if p["in"] == "path"}
            templated = {part[1:-1] for part in path.split("/") if part.startswith("{")}
            assert declared == templated, (method, path)


def test_list_operations_take_page_and_page_size(document: dict[str, Any]) -> None:
    page_size = resolve(document, {"$ref": "#/components/parameters/PageSize"})["schema"]
    assert (page_size["minimum"], page_size["maximum"], page_size["default"]) == (1, 1000, 100)
    for path in LIST_PATHS:
        operation = document["paths"][path]["get"]
        names = {resolve(document, p)["name"] for p in operation["parameters"]}
        assert {"page", "pageSize"} <= names, path
        listed = resolve(document, operation["responses"]["200"]["content"]["application/json"])
        schema = resolve(document, listed["schema"])
        assert schema["required"] == ["items", "page", "pageSize", "totalCount"], path


def test_message_list_filters_match_api_md(document: dict[str, Any]) -> None:
    parameters = document["paths"]["/v1/Sms"]["get"]["parameters"]
    names = {resolve(document, p)["name"] for p in parameters}
    assert names == {
        "batchReference",
        "clientReference",
        "to",
        "deliveryStatus",
        "isTest",
        "page",
        "pageSize",
    }
    replies = document["paths"]["/v1/Replies"]["get"]["parameters"]
    assert {resolve(document, p)["name"] for p in replies} == {
        "from",
        "inReplyTo",
        "since",
        "page",
        "pageSize",
    }


def test_every_response_carries_x_request_id(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            headers = resolve(document, response).get("headers", {})
            assert headers.get("X-Request-Id") == {"$ref": "#/components/headers/XRequestId"}, (
                method,
                path,
                status,
            )


def test_v1_errors_are_problem_json_and_token_errors_are_rfc_6749(
    document: dict[str, Any],
) -> None:
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            content = resolve(document, response)["content"]
            if path == "/connect/token":
                assert content["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/TokenError"
                }
                continue
            assert list(content) == ["application/problem+json"], (method, path, status)
            expected = "ValidationProblemDetails" if status == "400" else "ProblemDetails"
            assert content["application/problem+json"]["schema"] == {
                "$ref": f"#/components/schemas/{expected}"
            }


def test_creates_answer_201_with_location(document: dict[str, Any]) -> None:
    for path in ["/v1/Contacts", "/v1/ContactGroups"]:
        created = document["paths"][path]["post"]["responses"]["201"]
        assert "Location" in created["headers"]


def test_unauthorized_carries_www_authenticate(document: dict[str, Any]) -> None:
    unauthorized = document["components"]["responses"]["Unauthorized"]
    assert "WWW-Authenticate" in unauthorized["headers"]


def test_import_takes_a_json_array_or_csv(document: dict[str, Any]) -> None:
    content = document["paths"]["/v1/Contacts/Import"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "text/csv"}
    assert content["application/json"]["schema"]["type"] == "array"


def test_token_request_is_form_encoded_client_credentials(document: dict[str, Any]) -> None:
    body = document["paths"]["/connect/token"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/x-www-form-urlencoded"]
    schema = resolve(document, body["application/x-www-form-urlencoded"]["schema"])
    assert schema["properties"]["grant_type"]["enum"] == ["client_credentials"]


def test_every_request_schema_allows_unknown_properties(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            schema = resolve(document, content["schema"])
            if schema.get("type") == "array":
                schema = resolve(document, schema["items"])
            if schema.get("type") == "object":
                assert schema["additionalProperties"] is True, (method, path, media_type)


# ---- what the schemas accept ------------------------------------------------------------

VALID_SEND = {"to": "+447700900123", "from": "Somebody", "content": "Hello"}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"to": "4471234123"},
        {"to": "1234567"},
        {"to": "+123456789012345"},
        {"from": "A"},
        {"from": "My Shop 123"},
        {"from": "123"},
        {"from": "+447700900999"},
        {"clientReference": "CLI-1", "batchReference": None},
        {"sendAt": "2026-11-24T10:15:00.123Z"},
        {"deliveryReceiptUrl": "https://example.test/receipts"},
        {"somethingUnknown": [1, 2]},
    ],
)
def test_send_request_schema_accepts(document: dict[str, Any], change: dict[str, Any]) -> None:
    assert validator(document, "SendRequest").is_valid({**VALID_SEND, **change})


@pytest.mark.parametrize(
    "change",
    [
        {"to": "+44 7700 900123"},
        {"to": "123456"},
        {"to": "1234567890123456"},
        {"to": "++447700900123"},
        {"from": ""},
        {"from": "ABCDEFGHIJKL"},
        {"from": "12"},
        {"from": "1234567890123456"},
        {"from": "Shop-1"},
        {"from": "     "},
        {"content": ""},
        {"content": None},
        {"sendAt": "tomorrow"},
    ],
)
def test_send_request_schema_rejects(document: dict[str, Any], change: dict[str, Any]) -> None:
    assert not validator(document, "SendRequest").is_valid({**VALID_SEND, **change})


def test_send_request_schema_requires_to_from_and_content(document: dict[str, Any]) -> None:
    check = validator(document, "SendRequest")
    for name in VALID_SEND:
        assert not check.is_valid({k: v for k, v in VALID_SEND.items() if k != name}), name


def test_bulk_messages_fall_back_to_the_batch_from_and_content(
    document: dict[str, Any],
) -> None:
    check = validator(document, "BulkSendRequest")
    bare = {"messages": [{"to": "447700900123"}]}
    assert check.is_valid({**bare, "from": "Somebody", "content": "Hello"})
    assert check.is_valid({"messages": [{"to": "447700900123", **VALID_SEND}]})
    assert not check.is_valid(bare)
    assert not check.is_valid({**bare, "from": "Somebody"})
    assert not check.is_valid({**bare, "from": None, "content": "Hello"})
    # A bad message is not refused with the others: it is reported under `errors` (a 207,
    # or a 400 when none is valid), so the envelope takes any item and `BulkMessage`
    # describes what each must be.
    empty_from = {"to": "447700900123", "from": ""}
    assert check.is_valid({"messages": [empty_from], "from": "Somebody", "content": "Hello"})
    assert not validator(document, "BulkMessage").is_valid(empty_from)


def test_bulk_send_takes_1_to_15000_messages(document: dict[str, Any]) -> None:
    check = validator(document, "BulkSendRequest")
    one = {"to": "447700900123"}
    envelope = {"from": "Somebody", "content": "Hello"}
    assert not check.is_valid({**envelope, "messages": []})
    assert check.is_valid({**envelope, "messages": [one] * 15000})
    assert not check.is_valid({**envelope, "messages": [one] * 15001})


def test_message_example_of_api_md_is_a_message(document: dict[str, Any]) -> None:
    at = "2026-11-24T10:15:00.123Z"
    message = {
        "reference": "MS3K9Q2ZP7XW",
        "clientReference": "CLI-1",
        "batchReference": None,
        "to": "4471234123123",
        "from": "Somebody",
        "content": "Hello",
        "isTest": True,
        "segments": 1,
        "encoding": "GSM7",
        "deliveryStatus": 6,
        "deliveryStatusName": "Accepted",
        "deliveryReceiptUrl": None,
        "sendAt": None,
        "createdAt": at,
        "updatedAt": at,
        "history": [{"deliveryStatus": 6, "deliveryStatusName": "Accepted", "at": at}],
    }
    check = validator(document, "Message")
    assert check.is_valid(message)
    assert not check.is_valid({**message, "deliveryStatus": 10})
    assert not check.is_valid({**message, "encoding": "UTF8"})
    assert not check.is_valid({k: v for k, v in message.items() if k != "history"})


def test_delivery_status_names_are_the_ten_of_api_md(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["DeliveryStatusName"]["enum"] == STATUS_NAMES
    code = schemas["DeliveryStatusCode"]
    assert (code["minimum"], code["maximum"]) == (0, 9)


def test_validation_problem_example_of_api_md_is_a_validation_problem(
    document: dict[str, Any],
) -> None:
    problem = {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": {
            "to": ["'to' must be 7 to 15 digits, optionally prefixed by '+'."],
            "messages[3].content": ["'content' is required."],
        },
        "traceId": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    }
    assert validator(document, "ValidationProblemDetails").is_valid(problem)
    without_errors = {k: v for k, v in problem.items() if k != "errors"}
    assert not validator(document, "ValidationProblemDetails").is_valid(without_errors)
    assert validator(document, "ProblemDetails").is_valid({**without_errors, "detail": "x"})


def test_token_examples_of_api_md_match(document: dict[str, Any]) -> None:
    token = {
        "access_token": "abc",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "puresms.api",
    }
    assert validator(document, "TokenResponse").is_valid(token)
    assert validator(document, "TokenError").is_valid({"error": "unsupported_grant_type"})
    assert validator(document, "TokenError").is_valid({"error": "invalid_client"})


def test_contact_input_requires_a_valid_phone_number(document: dict[str, Any]) -> None:
    check = validator(document, "ContactInput")
    assert check.is_valid({"phoneNumber": "+447700900123", "custom": {"team": "red"}})
    assert not check.is_valid({"phoneNumber": "+44 7700 900123"})
    assert not check.is_valid({"firstName": "Ada"})
    assert not check.is_valid({"phoneNumber": "447700900123", "custom": {"n": 1}})


def test_swagger_ui_assets_are_bundled() -> None:
    assets = docs.swagger_assets_dir()
    for name in ["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"]:
        assert (assets / name).is_file(), assets / name
