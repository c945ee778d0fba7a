"""Webhook chaos from the pytest plugin: ``puresms.chaos(...)`` and the
``@pytest.mark.puresms_chaos`` marker, run on temporary projects with ``pytester``."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

STRICT_INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider
filterwarnings = error
"""

SENDING = """
import httpx
import pytest


def send(puresms, webhook_sink):
    httpx.put(puresms.base_url + "/v1/Account/Webhooks",
              headers={"X-API-Key": puresms.api_key},
              json={"deliveryReceiptUrl": webhook_sink.url})
    return httpx.post(
        puresms.base_url + "/v1/Sms/Send",
        headers={"X-API-Key": puresms.api_key},
        json={"to": "447700900100", "from": "Acme", "content": "Hi"},
    ).json()["reference"]
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(STRICT_INI)
    return pytester


def test_the_marker_gives_one_test_chaos_and_the_next_none(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_chaos_marker=SENDING
        + """

@pytest.mark.puresms_chaos({"kind": "duplicate", "next": 1, "after": "1s"}, seed=3)
def test_marked(puresms, webhook_sink):
    reference = send(puresms, webhook_sink)
    puresms.advance(3)

    enroute, copy, delivered = webhook_sink.requests
    assert copy.body == enroute.body
    assert copy.headers["X-Mock-Delivery-Id"] == enroute.headers["X-Mock-Delivery-Id"]
    assert [r.headers["X-Mock-Attempt"] for r in webhook_sink.requests] == ["1", "2", "1"]
    newest, oldest = puresms.webhooks()
    assert oldest.chaos_kinds == ("duplicate",) and newest.chaos_kinds == ()
    assert [a.chaos for a in oldest.attempts] == [(), ("duplicate",)]
    assert puresms.chaos_in_force()["source"] == "account"
    assert puresms.chaos_in_force()["seed"] == 3


def test_after_it(puresms, webhook_sink):
    send(puresms, webhook_sink)
    puresms.advance(3)
    assert len(webhook_sink.requests) == 2
    assert puresms.chaos_in_force()["source"] == "none"
"""
    )

    project.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_the_helper_sets_and_clears_chaos(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_chaos_helper=SENDING
        + """

def test_helper(puresms, webhook_sink):
    setting = puresms.chaos({"kind": "delay", "next": 1, "after": "10s"})
    assert setting["chaos"] == [{"kind": "delay", "next": 1, "after": "10s"}]
    send(puresms, webhook_sink)
    puresms.advance(10.5)
    # The Enroute receipt, due at 1 s, is held back 10 s, and Delivered's waits for it
    assert webhook_sink.requests == []
    puresms.advance(0.5)
    assert [r.json[0]["deliveryStatus"] for r in webhook_sink.requests] == [1, 2]
    delayed = puresms.webhooks()[-1]
    assert delayed.chaos == ({"kind": "delay", "delayMs": 10000},)

    assert puresms.clear_chaos()["source"] == "none"
"""
    )

    project.runpytest().assert_outcomes(passed=1)


def test_a_chaos_marker_with_bad_arguments_is_refused(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_bad_chaos="""
        import pytest

        @pytest.mark.puresms_chaos("duplicate", sed=1)
        def test_marked(puresms):
            pass
        """
    )

    result = project.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mock-puresms: @pytest.mark.puresms_chaos takes chaos rules*"])


def test_a_chaos_rule_the_mock_refuses_names_the_field(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_bad_rule="""
        def test_bad(puresms):
            puresms.chaos({"kind": "delay", "next": 1})
        """
    )

    result = project.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*chaos[[]0[]].after*"])


def test_the_chaos_marker_is_registered(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")

    result.stdout.fnmatch_lines(["@pytest.mark.puresms_chaos(*rules, seed=None):*"])
