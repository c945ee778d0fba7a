"""The v1 document's ``WebhookUrl`` states the server's webhook URL rule
(``domain/urls.py``, README "Webhook URLs"): every URL its pattern allows is accepted,
and the URLs the rule refuses do not match it, read as Python and as the JSON Schema
validator schemathesis checks with (so its negative-data checks find no mismatch)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_puresms.api.docs import load_openapi
from mock_puresms.domain.urls import webhook_url_problem

SCHEMA: dict[str, Any] = load_openapi()["components"]["schemas"]["WebhookUrl"]
PATTERN = re.compile(SCHEMA["pattern"])
VALIDATOR = jsonschema_rs.validator_for({"type": "string", "pattern": SCHEMA["pattern"]})

ALLOWED = [
    "http://example.test/", "HTTPS://a_b.example:65535/x?y#z", "http://127.0.0.1:8080/r",
    "http://[::1]:9000/", "http://[2001:db8::1]/", "http://a:/", "http://1.2.3.a/",
    "http://localhost", "http://0x7g/", "http://127.0.0.1./p", "http://10.0.0.1:00080/",
    "http://example.test/é?q=ü",
]  # fmt: skip
REFUSED = [
    "http://127.1/", "http://2852039166/", "http://0x7f.0.0.1/", "http://010.0.0.1/",
    "http://0.0.0.0/", "http://[::]/", "http://[0:0:0:0:0:0:0:0]/", "http://255.255.255.255/",
    "http://224.0.0.1/", "http://169.254.169.254/", "http://[fe80::1]/", "http://[ff02::1]/",
    "http://[::ffff:0:0]/", "http://[::1%25eth0]/", "http://user:pw@example.test/",
    "http://a b/", "http://example.test/\x01", "http://example.test/x\n", "http://h:0/",
    "http://h:65536/", "ftp://h/", "http:///x", "http://a..b/", f"http://{'a' * 64}/",
    f"http://{'a.' * 126}ab/",
]  # fmt: skip


@pytest.mark.parametrize("url", ALLOWED)
def test_urls_the_rule_allows_match_the_pattern(url: str) -> None:
    assert webhook_url_problem(url) is None
    assert PATTERN.search(url) and VALIDATOR.is_valid(url)


@pytest.mark.parametrize("url", REFUSED)
def test_urls_the_rule_refuses_do_not_match_the_pattern(url: str) -> None:
    assert webhook_url_problem(url) is not None
    assert not PATTERN.search(url) and not VALIDATOR.is_valid(url)


@settings(max_examples=400, suppress_health_check=list(HealthCheck), deadline=None)
@given(st.from_regex(PATTERN))
def test_every_url_the_pattern_allows_is_accepted(url: str) -> None:
    assert webhook_url_problem(url) is None, url


# URL-shaped ASCII strings, most of them invalid: the pattern and the rule must agree.
_NEAR = st.from_regex(
    r"\A[Hh][Tt][Tt][Pp][Ss]?://[a-f0-9x_.:\[\]%@-]{0,24}(/[ -~\x00\x7f]{0,4})?\Z"
)


@settings(max_examples=600, suppress_health_check=list(HealthCheck), deadline=None)
@given(_NEAR)
def test_the_pattern_and_the_rule_agree_on_url_shaped_strings(url: str) -> None:
    assert bool(PATTERN.search(url)) == (webhook_url_problem(url) is None), url
    assert VALIDATOR.is_valid(url) == (webhook_url_problem(url) is None), url
