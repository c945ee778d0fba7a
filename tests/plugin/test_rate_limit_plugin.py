"""The plugin's rate limits: ``puresms.rate_limit(...)`` and the ``puresms_rate_limit``
marker, run on temporary projects with ``pytester``."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

STRICT_INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider
filterwarnings = error
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(STRICT_INI)
    return pytester


def test_the_helper_limits_the_tests_account_on_the_virtual_clock(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_tmp_helper="""
        import httpx

        def test_limited(puresms):
            info = puresms.rate_limit(2, "1s")
            assert (info.requests, info.window, info.source) == (2, "1s", "control")
            with httpx.Client(base_url=puresms.base_url,
                              headers={"X-API-Key": puresms.api_key}) as client:
                send = lambda: client.post(
                    "/v1/Sms/Send", json={"to": "447700900100", "from": "A", "content": "x"})
                assert [send().status_code for _ in range(3)] == [200, 200, 429]
                assert send().headers["retry-after"] == "1"
                state = puresms.rate_limit_state()
                assert (state.used, state.remaining, state.retry_after) == (2, 0, 1)
                puresms.advance(1)
                assert send().status_code == 200
                puresms.clear_rate_limit()
                assert all(send().status_code == 200 for _ in range(5))
            assert len(puresms.messages(api_key=puresms.api_key)) == 8

        def test_the_next_test_has_no_limit(puresms):
            assert puresms.rate_limit_state().requests is None
        """
    )

    project.runpytest().assert_outcomes(passed=2)


def test_the_marker_limits_one_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_marker="""
        import httpx
        import pytest

        def connect_sends(puresms, n):
            with httpx.Client(base_url=puresms.base_url,
                              headers={"X-Api-Key": puresms.api_key}) as client:
                return [
                    client.post("/sms/send", json={"sender": "A",
                        "recipient": "+447700900100", "content": "x"}).status_code
                    for _ in range(n)
                ]

        @pytest.mark.puresms_rate_limit(3, "1m")
        def test_marked(puresms):
            assert connect_sends(puresms, 4) == [200, 200, 200, 429]
            puresms.advance(60)
            assert connect_sends(puresms, 1) == [200]

        @pytest.mark.puresms_rate_limit(requests=1)
        def test_marked_by_keyword_with_the_default_window(puresms):
            assert puresms.rate_limit_state().window == "1s"
            assert connect_sends(puresms, 2) == [200, 429]

        def test_unmarked(puresms):
            assert connect_sends(puresms, 5) == [200] * 5
        """
    )

    project.runpytest().assert_outcomes(passed=3)


@pytest.mark.parametrize(
    "arguments", ["", "(0, '1s')", "(10, 'soon')", "(10, '1s', 3)", "(10, windw='1s')"]
)
def test_a_wrong_marker_is_a_usage_error_naming_the_tool(
    project: pytest.Pytester, arguments: str
) -> None:
    project.makepyfile(
        test_tmp_bad=f"""
        import pytest

        @pytest.mark.puresms_rate_limit{arguments}
        def test_marked(puresms):
            pass
        """
    )

    result = project.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mock-puresms: @pytest.mark.puresms_rate_limit takes*"])


def test_the_marker_is_registered(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")

    result.stdout.fnmatch_lines(["@pytest.mark.puresms_rate_limit(requests, window='1s'):*"])
