"""Issue 16, deliverable 5: hostile values against every route, in process; never a 5xx.

A hypothesis strategy of values an attacker (or a broken client) sends: numbers of
thousands of digits, nesting hundreds deep, lone surrogates, control characters,
durations of 10^29 days, huge floats, NaN and Infinity, and every wrong JSON type. They
go into each route's query parameters, path parameters, body fields (at every place of
a plausible body) and credentials. Every answer must be below 500 and, when it has a
body, JSON (``application/json`` or ``application/problem+json``).

Each place first gets one value of every class (the defects the adversarial run found),
then a few drawn by hypothesis, derandomized so that the suite is stable. The route
table is checked against the app's routes so that a new route cannot be left out.
A fault's header value with control characters (defect 7) breaks only the HTTP server's
writing of the answer, which no in-process client sees: test_hostile_inputs covers it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inprocess import Mock
from starlette.routing import Mount, Route


@pytest.fixture
def store_kind() -> str:
    """The memory store only: what is parsed does not depend on the store, and the cases
    of test_hostile_inputs (run on both) cover what the SQLite store keeps."""
    return "memory"


FUZZ = settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_SLOT = "__HOSTILE__"

# ---- hostile values -------------------------------------------------------------------

_DIGITS = st.sampled_from([20, 30, 400, 4301, 5000, 20000]).map(lambda n: "9" * n)
_SURROGATES = st.sampled_from(["\ud800", "a\udfffb", "\udc00\ud800", "x" * 10 + "\udbff"])
_CONTROLS = st.text(
    alphabet=st.sampled_from([chr(c) for c in (*range(0, 32), 127)]), min_size=1, max_size=5
).map(lambda s: "a" + s + "b")
_DURATIONS = st.tuples(_DIGITS, st.sampled_from(["ms", "s", "m", "h", "d", ""])).map("".join)
_HOSTILE_TEXT = st.one_of(
    _DIGITS,
    _DIGITS.map(lambda d: "-" + d),
    _SURROGATES,
    _CONTROLS,
    _DURATIONS,
    st.sampled_from(
        ["", " ", "NaN", "Infinity", "-Infinity", "1e309", "-0", "0x10", "1_000", "٣", "a" * 20000]
    ),
)


def _nested(depth: int, mapping: bool) -> str:
    return ('{"a":' * depth + "1" + "}" * depth) if mapping else "[" * depth + "]" * depth


_FRAGMENTS = st.one_of(
    _HOSTILE_TEXT.map(lambda s: json.dumps(s, ensure_ascii=True)),  # escapes lone surrogates
    _DIGITS,  # a bare number of thousands of digits
    _DIGITS.map(lambda d: "-" + d),
    _DIGITS.map(lambda d: "0." + d),
    st.sampled_from(
        ["1e400", "-1e400", "1e-400", "1.7976931348623157e308", "NaN", "Infinity", "-Infinity"]
    ),
    st.tuples(st.sampled_from([100, 600, 5000]), st.booleans()).map(lambda t: _nested(*t)),
    st.sampled_from(["null", "true", "false", "[]", "{}", "0", "-1", '"x"', "[1]", '{"x": 1}']),
    st.lists(_HOSTILE_TEXT, min_size=1, max_size=3).map(lambda v: json.dumps(v, ensure_ascii=True)),
)
"""JSON text of one hostile value (some of it JSON only to lenient parsers, such as NaN)."""

CANONICAL_FRAGMENTS = [
    "9" * 5000,
    "-" + "9" * 5000,
    "18446744073709551616",
    "1e400",
    "NaN",
    "Infinity",
    _nested(600, False),
    _nested(600, True),
    "null",
    "true",
    "[]",
    "{}",
    "-1",
    json.dumps("9" * 5000),
    json.dumps("99999999999999999999999999999d"),
    json.dumps("\ud800", ensure_ascii=True),
    json.dumps("a\x00\x01\x7fb"),
    json.dumps(""),
]
"""Every class of the strategy once, tried at every place first: the known defects."""

CANONICAL_QUERY = [
    "9" * 5000,
    "-" + "9" * 5000,
    "99999999999999999999999999999d",
    "%ED%A0%80",
    "%ff%fe",
    "%00",
    "NaN",
    "1e309",
]

_QUERY_VALUES = st.one_of(
    _HOSTILE_TEXT.filter(lambda s: not any("\ud800" <= c <= "\udfff" for c in s)).map(
        lambda s: quote(s, safe="")
    ),
    st.sampled_from(["%ff%fe", "%ED%A0%80", "%00", "%C0%AF", "%"]),  # bytes that are no UTF-8
)
"""Percent-encoded query or path text."""

# ---- the routes ------------------------------------------------------------------------

_PAGED = ("page", "pageSize")
_MESSAGE_FILTERS = (*_PAGED, "to", "deliveryStatus", "isTest", "batchReference", "clientReference")
_SEND = {"to": "447700900100", "from": "Acme", "content": "Hi", "sendAt": "2030-01-01T00:00:00Z"}
_CONTACT = {"phoneNumber": "447700900100", "firstName": "A", "email": "a@example.com", "custom": {}}
_SCENARIO = {
    "name": "x",
    "seed": 1,
    "rules": [
        {"match": {"to": "447700900100"}, "lifecycle": [{"status": "Delivered", "after": "1s"}]}
    ],
    "default": {"outcomes": [{"weight": 1, "lifecycle": [{"status": "Enroute", "after": "1s"}]}]},
    "replies": [{"match": {"toPrefix": "44"}, "after": "2s", "content": "Hi"}],
    "lifecycles": {
        "ok": [{"status": "Delivered", "after": {"lognormal": {"median": "3s", "p99": "40s"}}}]
    },
    "replay": {"then": "cycle", "recorded": [{"toPattern": "^44", "lifecycle": "ok"}]},
}
_SCENARIO["rules"].append({"match": {}, "byPrefix": {"447": {"ok": 3}, "1": "ok"}})

# (method, path) -> query names, JSON body to mutate (None: no body)
ROUTES: dict[tuple[str, str], tuple[tuple[str, ...], Any]] = {
    ("POST", "/v1/Sms/Send"): (("isTest",), _SEND),
    ("POST", "/v1/Sms/SendBulk"): (
        ("isTest",),
        {"messages": [{"to": "447700900100", "clientReference": "c"}], **_SEND},
    ),
    ("POST", "/connect/token"): ((), None),  # a form; fuzzed by its own test
    ("POST", "/v1/Sms/SendToGroup"): (("isTest",), {"groupId": "G1", **_SEND}),
    ("GET", "/v1/Sms/Batch/{batchReference}"): ((), None),
    ("DELETE", "/v1/Sms/Batch/{batchReference}"): ((), None),
    ("GET", "/v1/Sms"): (_MESSAGE_FILTERS, None),
    ("GET", "/v1/Sms/{reference}"): ((), None),
    ("DELETE", "/v1/Sms/{reference}"): ((), None),
    ("GET", "/v1/Replies"): ((*_PAGED, "from", "to"), None),
    ("GET", "/v1/Replies/{reference}"): ((), None),
    ("GET", "/v1/Contacts"): ((*_PAGED, "phoneNumber", "groupId", "optedOut"), None),
    ("POST", "/v1/Contacts"): ((), _CONTACT),
    ("POST", "/v1/Contacts/Import"): ((), [_CONTACT]),
    ("GET", "/v1/Contacts/{id}"): ((), None),
    ("PUT", "/v1/Contacts/{id}"): ((), _CONTACT),
    ("DELETE", "/v1/Contacts/{id}"): ((), None),
    ("GET", "/v1/ContactGroups"): (_PAGED, None),
    ("POST", "/v1/ContactGroups"): ((), {"name": "g"}),
    ("GET", "/v1/ContactGroups/{id}"): ((), None),
    ("PUT", "/v1/ContactGroups/{id}"): ((), {"name": "g"}),
    ("DELETE", "/v1/ContactGroups/{id}"): ((), None),
    ("POST", "/v1/ContactGroups/{id}/Contacts"): ((), {"contactIds": ["C1"]}),
    ("DELETE", "/v1/ContactGroups/{id}/Contacts/{contactId}"): ((), None),
    ("GET", "/v1/Account"): ((), None),
    ("GET", "/v1/Account/Webhooks"): ((), None),
    ("PUT", "/v1/Account/Webhooks"): (
        (),
        {"deliveryReceiptUrl": "http://example.com/r", "replyUrl": None, "secret": "s"},
    ),
    ("GET", "/_mock/health"): ((), None),
    ("GET", "/_mock/clock"): ((), None),
    ("POST", "/_mock/clock/advance"): ((), {"seconds": 1}),
    ("GET", "/_mock/scenario"): ((), None),
    ("PUT", "/_mock/scenario"): (("name",), _SCENARIO),
    ("GET", "/_mock/messages"): ((*_MESSAGE_FILTERS, "account"), None),
    ("GET", "/_mock/messages/{reference}"): ((), None),
    ("POST", "/_mock/messages/{reference}/status"): ((), {"deliveryStatus": 5}),
    ("POST", "/_mock/replies"): (
        (),
        {"from": "447700900100", "to": "Acme", "content": "Hi", "account": "test-key"},
    ),
    ("GET", "/_mock/webhooks"): ((*_PAGED, "url", "state", "account"), None),
    ("POST", "/_mock/reset"): (("account", "scenario"), None),
    ("GET", "/_mock/faults"): (_PAGED, None),
    ("POST", "/_mock/faults"): (
        (),
        {
            "method": "GET",
            "path": "/v1/Account",
            "status": 418,
            "times": 1,
            "delayMs": 0,
            "body": {},
            "headers": {"X-A": "b"},
        },
    ),
    ("DELETE", "/_mock/faults"): ((), None),
    ("DELETE", "/_mock/faults/{id}"): ((), None),
    # A missing message answers at once; "timeout" is fuzzed with it (up to 300 s if valid).
    ("GET", "/_mock/wait"): (("reference", "deliveryStatus", "timeout"), None),
    ("GET", "/_mock/replies"): ((*_PAGED, "account", "inReplyTo", "from"), None),
    ("POST", "/_mock/messages/{reference}/cancel"): ((), None),
    ("POST", "/_mock/webhooks/{id}/replay"): ((), None),
    ("GET", "/_mock/accounts/{account}/endpoints"): (_PAGED, None),
    ("PUT", "/_mock/accounts/{account}/endpoints"): (
        (),
        [{"url": "http://127.0.0.1:9/hooks", "events": [1, 2], "secret": "s"}],
    ),
    ("POST", "/_mock/accounts/{account}/endpoints/{index}/enable"): ((), None),
    ("GET", "/_mock/accounts/{account}/rate-limit"): ((), None),
    ("PUT", "/_mock/accounts/{account}/rate-limit"): ((), {"requests": 10, "window": "1s"}),
    ("DELETE", "/_mock/accounts/{account}/rate-limit"): ((), None),
    ("GET", "/_mock/accounts/{account}/chaos"): ((), None),
    ("PUT", "/_mock/accounts/{account}/chaos"): (
        (),
        {"seed": 7, "chaos": [{"kind": "delay", "next": 1, "after": {"min": "1s", "max": "2s"}}]},
    ),
    ("DELETE", "/_mock/accounts/{account}/chaos"): ((), None),
    # The current PureSMS API.
    ("POST", "/sms/send"): (
        (),
        {"sender": "Acme", "recipient": "+447700900100", "content": "Hi", "clientTag": "t"},
    ),
    ("POST", "/sms/send/bulk"): (
        (),
        {"messages": [{"sender": "Acme", "recipient": "+447700900100", "content": "Hi"}]},
    ),
    ("DELETE", "/sms/send/{id}"): ((), None),
    ("DELETE", "/sms/send/bulk/{id}"): ((), None),
    ("GET", "/reporting/client-tag-report"): (("dateStart", "dateEnd", "clientTag"), None),
    # The inbox's pages (HTML) and its login form.
    ("GET", "/"): (("account", "status", "api", "batch", "q", "page"), None),
    ("GET", "/messages/{reference}"): ((), None),
    ("GET", "/webhooks"): (("url", "kind", "state"), None),
    ("GET", "/accounts"): ((), None),
    ("GET", "/scenario"): ((), None),
    ("GET", "/login"): (("next",), None),
    ("POST", "/login"): (("next",), None),
    ("POST", "/logout"): ((), None),
    ("GET", "/openapi/v1.json"): ((), None),
    ("GET", "/openapi/connect.json"): ((), None),
    ("GET", "/openapi/control.json"): ((), None),
    ("GET", "/swagger/v1/swagger.json"): ((), None),
    ("GET", "/openapi.json"): ((), None),
    ("GET", "/swagger"): ((), None),
    ("GET", "/swagger/"): ((), None),
    ("GET", "/swagger/index.html"): ((), None),
}
NOT_FUZZED = {
    # An event stream never ends while the mock runs: a request cannot be waited for.
    ("GET", "/_mock/events"),
}
_BASE_QUERY = {"/_mock/wait": {"reference": "Mnone", "deliveryStatus": "Delivered", "timeout": "0"}}
_HTML = ("/swagger", "/swagger/", "/swagger/index.html", "/", "/webhooks", "/accounts")
_HTML += ("/scenario", "/login", "/logout")


def _is_html(path: str) -> bool:
    """Whether ``path`` is a page for a browser (the inbox, Swagger UI), not JSON."""
    return path in _HTML or path.startswith("/messages/")


def test_every_route_of_the_app_is_fuzzed(mock: Mock) -> None:
    routes: set[tuple[str, str]] = set()
    for route in mock.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route):
            routes |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
        else:
            assert isinstance(route, Mount)  # static assets: no parameters to fuzz
    assert routes == set(ROUTES) | NOT_FUZZED


def _templates(value: Any) -> list[str]:
    """JSON texts of ``value`` with one part (each leaf, each subtree, the whole) the slot."""
    found = [json.dumps(_SLOT)]
    if isinstance(value, dict):
        for key, inner in value.items():
            for template in _templates(inner):
                found.append(_replace_part(value, key, template))
    elif isinstance(value, list) and value:
        for template in _templates(value[0]):
            found.append("[" + template + "]")
    return found


def _replace_part(mapping: dict[str, Any], key: str, template: str) -> str:
    marker = "__PART__"
    return json.dumps({**mapping, key: marker}).replace(json.dumps(marker), template)


def _path(template: str, value: str) -> str:
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + value + path[end + 1 :]
    return path


def _check(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what} -> {response.status_code} {response.text[:300]}"
    if response.content and not _is_html(response.request.url.path):
        content_type = response.headers.get("content-type", "")
        assert "json" in content_type, f"{what} -> {content_type}: {response.text[:300]}"
        response.json()


def _after(mock: Mock, method: str, path: str) -> None:
    if (method, path) == ("POST", "/_mock/faults"):
        # A fault accepted here would answer later requests with its status or delay.
        mock.client.delete("/_mock/faults")


_QUERY_CASES = sorted(
    (m, p, name) for (m, p), (names, _) in ROUTES.items() for name in (names or ("page",))
)


@pytest.mark.parametrize(("method", "path", "name"), _QUERY_CASES)
def test_hostile_query_values_are_never_a_5xx(
    mock: Mock, method: str, path: str, name: str
) -> None:
    def attempt(value: str) -> None:
        query = {**_BASE_QUERY.get(path, {}), name: value}
        url = _path(path, "x") + "?" + "&".join(f"{k}={v}" for k, v in query.items())
        _check(mock.v1(method, url), f"{method} {url[:200]}")
        _after(mock, method, path)

    for value in CANONICAL_QUERY:
        attempt(value)
    FUZZ(given(value=_QUERY_VALUES)(attempt))()


_PATH_ROUTES = sorted(key for key in ROUTES if "{" in key[1])


@pytest.mark.parametrize(("method", "path"), _PATH_ROUTES)
def test_hostile_path_values_are_never_a_5xx(mock: Mock, method: str, path: str) -> None:
    body = ROUTES[(method, path)][1]

    @FUZZ
    @given(value=_QUERY_VALUES.filter(lambda v: "%2F" not in v.upper() and v not in ("", "%")))
    def run(value: str) -> None:
        url = _path(path, value)
        _check(mock.v1(method, url, json=body), f"{method} {url[:200]}")

    run()


_BODY_CASES = [
    (method, path, template)
    for (method, path), (_, body) in sorted(ROUTES.items(), key=lambda item: item[0])
    if body is not None
    for template in _templates(body)
]


@pytest.mark.parametrize(
    ("method", "path", "template"),
    _BODY_CASES,
    ids=[f"{m} {p} #{i}" for i, (m, p, _) in enumerate(_BODY_CASES)],
)
def test_hostile_body_values_are_never_a_5xx(
    mock: Mock, method: str, path: str, template: str
) -> None:
    def attempt(fragment: str) -> None:
        text = template.replace(json.dumps(_SLOT), fragment)
        response = mock.v1(
            method,
            _path(path, "x"),
            content=text.encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        _check(response, f"{method} {path} {text[:200]}")
        _after(mock, method, path)

    for fragment in CANONICAL_FRAGMENTS:
        attempt(fragment)
    FUZZ(given(fragment=_FRAGMENTS)(attempt))()


_CREDENTIALS = st.one_of(
    st.binary(max_size=40),
    _HOSTILE_TEXT.filter(lambda s: s.isascii() and len(s) < 5000).map(str.encode),
)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/v1/Sms"), ("GET", "/v1/Account"), ("POST", "/connect/token")]
)
def test_hostile_credentials_are_never_a_5xx(mock: Mock, method: str, path: str) -> None:
    @FUZZ
    @given(
        header=st.sampled_from(["X-API-Key", "Authorization"]),
        scheme=st.sampled_from([b"", b"Basic ", b"Bearer "]),
        value=_CREDENTIALS,
    )
    def run(header: str, scheme: bytes, value: bytes) -> None:
        # Header values are bytes on the wire: anything but CR/LF can arrive.
        raw = (scheme + value).replace(b"\r", b"").replace(b"\n", b"").strip()
        response = mock.client.request(
            method,
            path,
            headers=[(header.encode(), raw)],
            data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}
            if method == "POST"
            else None,
        )
        _check(response, f"{method} {path} {header}: {raw[:100]!r}")

    run()


@given(
    field=st.sampled_from(["grant_type", "client_id", "client_secret", "scope"]),
    value=_QUERY_VALUES,
)
@FUZZ
def test_hostile_token_forms_are_never_a_5xx(mock: Mock, field: str, value: str) -> None:
    form = {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}
    text = "&".join(f"{k}={value if k == field else v}" for k, v in {**form, field: ""}.items())
    response = mock.client.post(
        "/connect/token",
        content=text.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _check(response, f"token form {text[:200]}")
