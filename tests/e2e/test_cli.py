"""The ``mock-puresms`` command, run for real in subprocesses.

Each server is a ``python -m mock_puresms serve`` process on a free loopback port,
stopped (terminate, then wait) at the end of its test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import clean_env, free_port

from mock_puresms import __version__
from mock_puresms.api.docs import load_openapi
from mock_puresms.simulation.scenarios import shipped_scenarios

SHIPPED = ["default", "failures", "realistic", "replay", "replies", "slow"]
START_TIMEOUT = 20.0


def get(url: str, **kwargs: Any) -> httpx.Response:
    """GET on loopback, ignoring any proxy configured in the environment."""
    return httpx.get(url, trust_env=False, **kwargs)


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m mock_puresms ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "mock_puresms", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(env) if env is not None else clean_env(),
    )


@contextmanager
def serving(
    tmp_path: Path, *args: str, port: int, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Run ``mock-puresms serve ARGS`` until the block ends; yields the base URL.

    ``port`` is where the server is expected to listen (the caller passes it on the
    command line or in the environment). Output goes to a file, so a chatty server can
    never block on a full pipe, and is shown when the server does not come up.
    """
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_puresms", "serve", "--log-level", "warning", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else clean_env(),
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_healthy(process, base_url, log_path)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"mock-puresms serve exited with {process.returncode}:\n{log_path.read_text()}"
            )
        try:
            if get(f"{base_url}/_mock/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"mock-puresms serve did not answer at {base_url}:\n{log_path.read_text()}")


# ----------------------------------------------------------------------------- serve


def test_serve_with_port_flag_answers_health(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, "--port", str(port), port=port) as base_url:
        response = get(f"{base_url}/_mock/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


@pytest.mark.parametrize(("level", "logged"), [("info", True), ("warning", False)])
def test_requests_are_logged_at_info_and_not_above(
    tmp_path: Path, level: str, logged: bool
) -> None:
    port = free_port()
    with serving(tmp_path, "--port", str(port), "--log-level", level, port=port) as base_url:
        assert get(f"{base_url}/v1/Account").status_code == 401

    log = (tmp_path / f"serve-{port}.log").read_text()
    assert ('"GET /v1/Account HTTP/1.1" 401' in log) is logged


def test_serve_reads_the_port_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(MOCK_PURESMS_PORT=str(port))
    with serving(tmp_path, port=port, env=env) as base_url:
        response = get(f"{base_url}/_mock/health")

    assert response.json()["status"] == "ok"


def test_serve_port_flag_beats_the_environment(tmp_path: Path) -> None:
    flag_port, env_port = free_port(), free_port()
    env = clean_env(MOCK_PURESMS_PORT=str(env_port))
    with serving(tmp_path, "--port", str(flag_port), port=flag_port, env=env) as base_url:
        assert get(f"{base_url}/_mock/health").status_code == 200
        with pytest.raises(httpx.ConnectError):
            get(f"http://127.0.0.1:{env_port}/_mock/health", timeout=1)


def test_serve_virtual_clock_shows_in_the_clock_route(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, "--port", str(port), "--clock", "virtual", port=port) as base_url:
        clock = get(f"{base_url}/_mock/clock").json()

    assert clock["mode"] == "virtual"


def test_serve_scenario_shows_in_the_scenario_route(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, "--port", str(port), "--scenario", "realistic", port=port) as base_url:
        scenario = get(f"{base_url}/_mock/scenario").json()

    assert scenario["name"] == "realistic"


def test_serve_config_with_accounts_is_strict_mode(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("accounts:\n  - name: acme\n    apiKeys: [acme-live-key]\n")
    port = free_port()
    with serving(tmp_path, "--port", str(port), "--config", str(config), port=port) as base_url:
        unknown = get(f"{base_url}/v1/Account", headers={"X-API-Key": "some-other-key"})
        known = get(f"{base_url}/v1/Account", headers={"X-API-Key": "acme-live-key"})

    assert unknown.status_code == 401
    assert unknown.headers["www-authenticate"] == "Bearer"
    assert known.status_code == 200, known.text
    assert known.json()["name"] == "acme"


def test_serve_admin_token_protects_the_control_routes_but_health(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, "--port", str(port), "--admin-token", "s3cret", port=port) as base_url:
        health = get(f"{base_url}/_mock/health")
        anonymous = get(f"{base_url}/_mock/clock")
        admin = get(f"{base_url}/_mock/clock", headers={"Authorization": "Bearer s3cret"})

    assert health.status_code == 200
    assert anonymous.status_code == 401
    assert admin.status_code == 200


@pytest.mark.parametrize(
    ("config_text", "mentioned"),
    [
        ("accounts: [\n", "not valid YAML"),
        ("accounts:\n  - name: acme\n    apiKeys: [k]\n    colour: blue\n", "colour"),
        ("accounts:\n  - apiKeys: [k]\n", "name"),
    ],
    ids=["invalid-yaml", "unknown-key", "missing-name"],
)
def test_serve_with_a_bad_config_file_exits_2_with_a_message(
    tmp_path: Path, config_text: str, mentioned: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(config_text)

    result = run_cli("serve", "--port", str(free_port()), "--config", str(config))

    assert result.returncode == 2
    assert str(config) in result.stderr
    assert mentioned in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_a_missing_config_file_exits_2_with_a_message(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"

    result = run_cli("serve", "--port", str(free_port()), "--config", str(missing))

    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_an_unknown_scenario_exits_2_with_a_message() -> None:
    result = run_cli("serve", "--port", str(free_port()), "--scenario", "no-such-scenario")

    assert result.returncode == 2
    assert "no-such-scenario" in result.stderr
    assert "realistic" in result.stderr  # the message lists the shipped scenarios
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------- openapi, scenarios, version


def test_openapi_prints_the_packaged_document_as_json() -> None:
    result = run_cli("openapi")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == load_openapi()


def test_scenarios_list_shows_the_five_shipped_scenarios_with_descriptions() -> None:
    result = run_cli("scenarios", "list")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == SHIPPED
    descriptions = {shipped.name: shipped.description for shipped in shipped_scenarios()}
    for line in lines:
        name, description = line.split(maxsplit=1)
        assert description == descriptions[name]
        assert len(description) > 20


def test_scenarios_validate_accepts_the_shipped_files() -> None:
    paths = [str(shipped.path) for shipped in shipped_scenarios()]
    assert len(paths) == len(SHIPPED)

    result = run_cli("scenarios", "validate", *paths)

    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines() == [f"{path}: ok" for path in paths]


def test_scenarios_validate_names_file_and_line_of_each_mistake(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "name: good\n"
        "default:\n"
        "  lifecycle: [{status: Enroute, after: 1s}, {status: Delivered, after: 2s}]\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\n"
        "default:\n"
        "  lifecycle:\n"
        "    - {status: Bogus, after: 1s}\n"
        "    - {status: Delivered, after: soon}\n"
    )

    result = run_cli("scenarios", "validate", str(good), str(bad))

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{good}: ok" in lines
    mistakes = [line for line in lines if line.startswith(f"{bad}:")]
    assert [line.split(":")[1] for line in mistakes] == ["4", "5"], result.stdout
    assert "Bogus" in mistakes[0]
    assert "soon" in mistakes[1]


def test_version_flag_prints_the_package_version() -> None:
    result = run_cli("--version")

    assert result.returncode == 0
    assert result.stdout.strip() == f"mock-puresms {__version__}"


def test_console_script_is_installed_and_prints_the_version() -> None:
    script = Path(sys.executable).with_name("mock-puresms")
    found = str(script) if script.exists() else shutil.which("mock-puresms")
    if found is None:
        pytest.skip("the mock-puresms console script is not installed next to this Python")

    result = subprocess.run(
        [found, "--version"], capture_output=True, text=True, timeout=60, env=clean_env()
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mock-puresms {__version__}"


# ----------------------------------------------------------------------------- health


def test_health_exits_0_against_a_running_server(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, "--port", str(port), port=port) as base_url:
        result = run_cli("health", "--url", base_url)

    assert result.returncode == 0, result.stderr


def test_health_exits_1_against_a_dead_port() -> None:
    base_url = f"http://127.0.0.1:{free_port()}"

    result = run_cli("health", "--url", base_url)

    assert result.returncode == 1
    assert base_url in result.stderr
    assert "Traceback" not in result.stderr
