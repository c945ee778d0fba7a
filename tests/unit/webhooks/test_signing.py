"""The signature of every signed webhook, against the test vector of API.md 9.5."""

from __future__ import annotations

from mock_puresms.webhooks.signing import signature


def test_the_documented_test_vector() -> None:
    body = b'{"id":"evt_123","eventType":1}'
    expected = "xsSOjC8SdEID77BwImeaD/TKPdXNtrfLSbeCLFKasjI="
    assert signature("webhook-secret", 1736937000, body) == expected


def test_the_signature_covers_timestamp_and_body() -> None:
    body = b'{"id":"evt_123","eventType":1}'
    reference = signature("webhook-secret", 1736937000, body)
    assert signature("webhook-secret", 1736937001, body) != reference
    assert signature("webhook-secret", 1736937000, body + b" ") != reference
    assert signature("other-secret", 1736937000, body) != reference
