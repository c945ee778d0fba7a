"""The pytest plugin, run on temporary projects with ``pytester``."""

from __future__ import annotations

import socket
import textwrap

import pytest

pytest_plugins = ["pytester"]

STRICT_INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider
filterwarnings = error
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A temporary project as strict as this one: unknown markers and warnings fail."""
    pytester.makeini(STRICT_INI)
    return pytester


def test_a_test_using_only_the_fixtures_passes_end_to_end(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_end_to_end="""
        import httpx

        def test_x(puresms, webhook_sink):
            # The code under test: a plain HTTP client of PureSMS.
            response = httpx.post(
                puresms.base_url + "/v1/Sms/Send",
                headers={"X-API-Key": puresms.api_key},
                json={"to": "447700900100", "from": "Acme", "content": "Hi",
                      "deliveryReceiptUrl": webhook_sink.url},
            )
            assert response.status_code == 200
            reference = response.json()["reference"]

            puresms.advance(3)

            [first, second] = webhook_sink.requests
            assert (first.method, second.method) == ("POST", "POST")
            assert second.path == first.path and webhook_sink.url.endswith(first.path)
            assert second.json == [{"reference": reference, "clientReference": None,
                                    "batchReference": None, "deliveryStatus": 2,
                                    "additionalMessage": None}]
            assert second.body.startswith(b"[")
            assert second.headers["x-mock-attempt"] == "1"
        """
    )

    project.runpytest().assert_outcomes(passed=1)


def test_faults_make_a_real_client_see_503_twice_then_succeed(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_faults="""
        import httpx

        def test_retry(puresms):
            puresms.fail_next("POST", "/v1/Sms/Send", status=503, times=2)
            seen = []
            with httpx.Client(base_url=puresms.base_url,
                              headers={"X-API-Key": puresms.api_key}) as client:
                for _ in range(3):
                    response = client.post(
                        "/v1/Sms/Send", json={"to": "447700900100", "from": "A", "content": "x"}
                    )
                    seen.append(response.status_code)
            assert seen == [503, 503, 200]
            assert response.headers["x-request-id"]
            assert len(puresms.messages()) == 1
            assert puresms.faults() == []
        """
    )

    project.runpytest().assert_outcomes(passed=1)


def test_tests_are_isolated_from_each_other(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_isolation="""
        import httpx
        import pytest

        SEEN = {}

        def send(puresms):
            response = httpx.post(
                puresms.base_url + "/v1/Sms/Send",
                headers={"X-API-Key": puresms.api_key},
                json={"to": "447700900100", "from": "Acme", "content": "Hi"},
            )
            return response.json()["reference"]

        def test_one(puresms):
            SEEN["reference"], SEEN["key"] = send(puresms), puresms.api_key
            puresms.fail_next("GET", "/v1/Account", status=500, times=5)
            puresms.use_scenario("failures")
            assert len(puresms.messages()) == 1

        def test_two(puresms):
            assert puresms.api_key != SEEN["key"]
            assert puresms.messages() == []
            assert puresms.faults() == []
            assert puresms.scenario().name == "default"
            for key in (puresms.api_key, SEEN["key"]):
                response = httpx.get(
                    f"{puresms.base_url}/v1/Sms/{SEEN['reference']}", headers={"X-API-Key": key}
                )
                assert response.status_code == 404
        """
    )

    project.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


SCENARIO_PROBE = """
import pytest

def test_scenario(puresms):
    print("SCENARIO=" + puresms.scenario().name)

@pytest.mark.puresms(scenario="slow")
def test_marked(puresms):
    print("SCENARIO=" + puresms.scenario().name)

@pytest.mark.puresms("replies")
def test_marked_positionally(puresms):
    print("SCENARIO=" + puresms.scenario().name)

def test_after_the_marked_ones(puresms):
    print("SCENARIO=" + puresms.scenario().name)
"""


def scenarios_seen(result: pytest.RunResult) -> list[str]:
    return [line.split("SCENARIO=")[1] for line in result.outlines if "SCENARIO=" in line]


def test_the_marker_picks_the_scenario_of_one_test(project: pytest.Pytester) -> None:
    project.makepyfile(test_tmp_probe=SCENARIO_PROBE)

    result = project.runpytest("-s")

    result.assert_outcomes(passed=4)
    assert scenarios_seen(result) == ["default", "slow", "replies", "default"]


def test_the_option_picks_the_scenario_and_the_marker_wins(project: pytest.Pytester) -> None:
    project.makepyfile(test_tmp_probe=SCENARIO_PROBE)

    result = project.runpytest("-s", "--puresms-scenario=failures")

    result.assert_outcomes(passed=4)
    assert scenarios_seen(result) == ["failures", "slow", "replies", "failures"]


def test_the_ini_key_picks_the_scenario_and_the_option_wins(project: pytest.Pytester) -> None:
    project.makeini(STRICT_INI + "puresms_scenario = realistic\n")
    project.makepyfile(test_tmp_probe=SCENARIO_PROBE)

    assert scenarios_seen(project.runpytest("-s")) == ["realistic", "slow", "replies", "realistic"]
    with_option = project.runpytest("-s", "--puresms-scenario", "failures")
    assert scenarios_seen(with_option) == ["failures", "slow", "replies", "failures"]


def test_a_scenario_file_next_to_the_test_can_be_named_by_path(project: pytest.Pytester) -> None:
    project.mkdir("tests")
    (project.path / "tests" / "mine.yaml").write_text(
        "name: mine\ndefault:\n  lifecycle: [{status: Rejected, after: 1s}]\n"
    )
    project.makeini(STRICT_INI + "puresms_scenario = tests/mine.yaml\n")
    (project.path / "tests" / "test_tmp_file.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_from_the_ini(puresms):
                assert puresms.scenario().name == "mine"

            @pytest.mark.puresms(scenario="mine.yaml")
            def test_from_the_marker(puresms):
                assert puresms.scenario().name == "mine"

            def test_back_to_the_file_after_a_switch(puresms):
                puresms.use_scenario("slow")

            def test_restored(puresms):
                assert puresms.scenario().name == "mine"
            """
        )
    )

    project.runpytest("-p", "no:randomly").assert_outcomes(passed=4)


def test_an_unknown_scenario_is_an_error_naming_the_tool(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_unknown="""
        import pytest

        @pytest.mark.puresms(scenario="nope")
        def test_marked(puresms):
            pass
        """
    )

    result = project.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*mock-puresms: @pytest.mark.puresms names scenario 'nope', which is neither*"]
    )


def test_a_marker_with_other_arguments_is_refused(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_bad_marker="""
        import pytest

        @pytest.mark.puresms(scenaro="slow")
        def test_marked(puresms):
            pass
        """
    )

    result = project.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mock-puresms: @pytest.mark.puresms takes one argument*"])


def test_the_marker_is_registered(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")

    result.stdout.fnmatch_lines(["@pytest.mark.puresms(scenario=NAME_OR_PATH):*"])


def test_a_failed_assertion_lists_near_misses(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_fails="""
        import httpx

        def test_not_delivered_yet(puresms):
            reference = httpx.post(
                puresms.base_url + "/v1/Sms/Send",
                headers={"X-API-Key": puresms.api_key},
                json={"to": "447700900100", "from": "Acme", "content": "Hi"},
            ).json()["reference"]
            puresms.advance(1)
            puresms.assert_delivered(reference)
        """
    )

    result = project.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*AssertionError: mock-puresms: message M* is Enroute, not Delivered; its history:*"]
    )


def test_the_sink_can_refuse_and_the_mock_retries(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_sink="""
        import httpx

        def test_refused(puresms, webhook_sink):
            webhook_sink.respond_with(503, times=2)
            httpx.put(puresms.base_url + "/v1/Account/Webhooks",
                      headers={"X-API-Key": puresms.api_key},
                      json={"deliveryReceiptUrl": webhook_sink.url})
            reference = httpx.post(
                puresms.base_url + "/v1/Sms/Send",
                headers={"X-API-Key": puresms.api_key},
                json={"to": "447700900100", "from": "Acme", "content": "Hi"},
            ).json()["reference"]

            puresms.advance(1.5)

            assert [r.status for r in webhook_sink.requests] == [503, 503, 200]
            assert [r.headers["X-Mock-Attempt"] for r in webhook_sink.requests] == ["1", "2", "3"]
            [delivery] = puresms.webhooks()
            assert delivery.state == "delivered"
            assert [a.status for a in delivery.attempts] == [503, 503, 200]
            webhook_sink.assert_receipt(reference, "Enroute")
        """
    )

    project.runpytest().assert_outcomes(passed=1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_environment_variables_choose_where_the_mock_listens(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.setenv("MOCK_PURESMS_PLUGIN_HOST", "127.0.0.1")
    monkeypatch.setenv("MOCK_PURESMS_PLUGIN_PORT", str(port))
    # Variables of a standalone mock do not reach the plugin's.
    monkeypatch.setenv("MOCK_PURESMS_ADMIN_TOKEN", "not-for-the-plugin")
    monkeypatch.setenv("MOCK_PURESMS_CLOCK", "real")
    monkeypatch.setenv("MOCK_PURESMS_DB", str(project.path / "leaked.db"))
    project.makepyfile(
        test_tmp_env=f"""
        def test_port(puresms_server, puresms):
            assert puresms_server.base_url == "http://127.0.0.1:{port}"
            assert puresms.base_url == puresms_server.base_url
            assert puresms.clock().mode == "virtual"
        """
    )

    project.runpytest().assert_outcomes(passed=1)
    assert not (project.path / "leaked.db").exists()


def test_a_bad_port_variable_is_a_usage_error(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCK_PURESMS_PLUGIN_PORT", "eighty")
    project.makepyfile(test_tmp_env="def test_port(puresms):\n    pass\n")

    result = project.runpytest()

    result.stdout.fnmatch_lines(["*mock-puresms: MOCK_PURESMS_PLUGIN_PORT='eighty'*"])


def test_the_entry_point_loads_the_plugin_without_importing_the_server(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_tmp_light="""
        import sys

        def test_plugin_is_loaded(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("puresms")
            assert "mock_puresms.testing.pytest_plugin" in sys.modules
            assert "mock_puresms.app" not in sys.modules
            assert "uvicorn" not in sys.modules
        """
    )

    project.runpytest_subprocess().assert_outcomes(passed=1)


def test_a_failed_test_names_the_inbox_of_its_mock(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_tmp_inbox="""
        def test_fails(puresms):
            assert False, "look at the inbox"

        def test_passes(puresms):
            pass

        def test_fails_without_the_mock():
            assert False
        """
    )
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.re_match_lines([r".*mock-puresms.*", r"inbox: http://127\.0\.0\.1:\d+/$"])
    # Named once: for the failed test that used the mock, not the other.
    assert len([line for line in result.stdout.lines if "inbox: http://" in line]) == 1
