"""What a newcomer sees when ``mock-puresms serve`` starts, or cannot: the banner, one
actionable line per start-up failure with its exit code, the logs (health probes left
out, ``--log-format json``), ``config validate`` and ``health --wait``.

Every server is a real ``python -m mock_puresms serve`` process on loopback.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cli_helpers import clean_env, free_port

from mock_puresms import __version__

START_TIMEOUT = 30.0
READY = re.compile(r'mock-puresms \S+ ready at (http://[^\s"\\]+)')


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_puresms", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env if env is not None else clean_env(),
    )


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    base_url: str

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()


@contextmanager
def serving(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """``serve --port 0 ARGS`` until the block ends; the base URL is read from the banner.
    stdout and stderr go to separate files (read them after the block: the server has
    stopped and flushed)."""
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_puresms", "serve", "--port", "0", *args],
            stdout=out,
            stderr=err,
            env=env if env is not None else clean_env(),
        )
        try:
            served = Served(process, stdout, stderr, _wait_for_banner(process, stderr))
            yield served
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_banner(process: subprocess.Popen[bytes], stderr: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        text = stderr.read_text()
        found = READY.search(text) or re.search(r'"url": "(http://[^"]+)"', text)
        if found:
            return found[1]
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{text}")
        time.sleep(0.05)
    pytest.fail(f"no banner in {START_TIMEOUT} s:\n{stderr.read_text()}")


def get(url: str) -> httpx.Response:
    return httpx.get(url, trust_env=False, timeout=10)


# ----------------------------------------------------------------------------- banner


def test_the_banner_gives_the_real_port_urls_and_every_setting(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("accounts:\n  - name: acme\n    apiKeys: [k]\n")
    db = tmp_path / "mock.db"
    with serving(
        tmp_path,
        *("--clock", "virtual", "--scenario", "failures", "--config", str(config)),
        *("--db", str(db), "--admin-token", "s3cret"),
    ) as served:
        assert get(f"{served.base_url}/_mock/health").status_code == 200
    banner = served.stderr.read_text()

    port = int(served.base_url.rsplit(":", 1)[1])
    assert port > 0
    assert f"mock-puresms {__version__} ready at http://127.0.0.1:{port}\n" in banner
    assert f"http://127.0.0.1:{port}/\n" in banner  # the inbox
    assert f"http://127.0.0.1:{port}/swagger\n" in banner
    for fact in ("failures", "virtual", "strict (1 configured accounts)", str(db)):
        assert fact in banner
    assert re.search(r"admin token +on", banner)
    # Once listening: after uvicorn's start-up lines.
    assert banner.index("Application startup complete") < banner.index("ready at")


def test_the_banner_of_the_defaults_says_open_memory_real_and_no_token(tmp_path: Path) -> None:
    with serving(tmp_path, "--time-scale", "60") as served:
        pass
    banner = served.stderr.read_text()

    assert "open (any API key gets its own account)" in banner
    assert "in memory" in banner
    assert "real, 60x wall time" in banner
    assert re.search(r"admin token +off", banner)


# ------------------------------------------------------------------- start-up failures


@pytest.mark.parametrize(
    ("flags", "env", "names", "allowed"),
    [
        ([], {"MOCK_PURESMS_PORT": "abc"}, "MOCK_PURESMS_PORT='?abc'?", "0 to 65535"),
        (["--port", "70000"], {}, "--port 70000", "0 to 65535"),
        (["--port", "abc"], {}, "--port abc", "0 to 65535"),
        (
            [],
            {"MOCK_PURESMS_CLOCK": "sometimes"},
            "MOCK_PURESMS_CLOCK=sometimes",
            "real or virtual",
        ),
        (["--clock", "sometimes"], {}, "--clock sometimes", "real or virtual"),
        ([], {"MOCK_PURESMS_TIME_SCALE": "fast"}, "MOCK_PURESMS_TIME_SCALE=fast", "above 0"),
        (["--time-scale", "0"], {}, "--time-scale 0", "above 0"),
        ([], {"MOCK_PURESMS_LOG_LEVEL": "loud"}, "MOCK_PURESMS_LOG_LEVEL=loud", "warning, info"),
        ([], {"MOCK_PURESMS_LOG_FORMAT": "xml"}, "MOCK_PURESMS_LOG_FORMAT=xml", "text or json"),
        (["--retention", "soon"], {}, "--retention soon", "7d"),
        (["--max-messages", "0"], {}, "--max-messages 0", "1 or more"),
    ],
)
def test_a_bad_setting_is_one_line_naming_flag_and_variable_exit_2(
    flags: list[str], env: dict[str, str], names: str, allowed: str
) -> None:
    result = run_cli("serve", *flags, env=clean_env(**env))

    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("mock-puresms: invalid ")
    assert re.search(names, line), line
    field = (flags[0] if flags else next(iter(env))).removeprefix("--")
    flag = "--" + field.removeprefix("MOCK_PURESMS_").lower().replace("_", "-")
    variable = "MOCK_PURESMS_" + flag.removeprefix("--").upper().replace("-", "_")
    assert flag in line and variable in line, line
    assert allowed in line
    assert "pydantic" not in line and "https://" not in line and "Traceback" not in line


def test_a_taken_port_is_one_line_with_the_remedies_exit_3(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port))

    assert result.returncode == 3
    assert result.stderr.splitlines() == [
        f"mock-puresms: cannot listen on 127.0.0.1:{port}: the port is already in use; stop "
        "what uses it or choose another port with --port or MOCK_PURESMS_PORT (--port 0 "
        "picks a free one)"
    ]


def test_a_host_of_another_machine_is_one_line_naming_host_exit_3() -> None:
    # TEST-NET-1 (RFC 5737) is no address of this machine; binding to it sends nothing.
    result = run_cli("serve", "--port", "0", env=clean_env(MOCK_PURESMS_HOST="192.0.2.1"))

    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "192.0.2.1" in lines[0] and "not an address of this machine" in lines[0]
    assert "--host" in lines[0] and "MOCK_PURESMS_HOST" in lines[0]


def test_a_config_file_mistake_names_file_line_and_path_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(
        "accounts:\n  - name: acme\n    webhooks:\n      deliveryReceiptUrl: not a url\n"
    )

    result = run_cli("serve", "--port", "0", "--config", str(config))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"mock-puresms: {config}:4: accounts[0].webhooks.deliveryReceiptUrl: "
        "must be an absolute http or https URL (or be left out)"
    ]


# ------------------------------------------------------------------------ config validate


def test_config_validate_exits_0_for_valid_files_and_1_with_one_line_per_problem(
    tmp_path: Path,
) -> None:
    good, bad, broken = tmp_path / "good.yaml", tmp_path / "bad.yaml", tmp_path / "broken.yaml"
    good.write_text("accounts:\n  - name: acme\n    apiKeys: [k]\n")
    bad.write_text("accounts:\n  - name: acme\n    credits: lots\n    colour: blue\n")
    broken.write_text("accounts: [\n")

    assert run_cli("config", "validate", str(good)).stdout == f"{good}: ok\n"
    result = run_cli("config", "validate", str(good), str(bad), str(broken))

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{good}: ok"
    assert lines[1] == f"{bad}:3: accounts[0].credits: must be a whole number"
    assert lines[2].startswith(f"{bad}:4: accounts[0].colour: unknown key; allowed: name")
    assert lines[3].startswith(f"{broken}:2: not valid YAML:")
    assert len(lines) == 4


# ------------------------------------------------------------------------------- logs


def test_health_probes_are_not_logged_at_info_but_other_requests_are(tmp_path: Path) -> None:
    with serving(tmp_path, "--log-level", "info") as served:
        for _ in range(3):
            assert get(f"{served.base_url}/_mock/health").status_code == 200
        assert get(f"{served.base_url}/_mock/health?probe=1").status_code == 200
        assert get(f"{served.base_url}/v1/Account").status_code == 401
    log = served.output()

    assert '"GET /v1/Account HTTP/1.1" 401' in log
    assert "/_mock/health" not in log


def test_log_format_json_is_one_object_a_line_for_uvicorn_and_the_mock(tmp_path: Path) -> None:
    with serving(tmp_path, "--log-format", "json") as served:
        assert get(f"{served.base_url}/v1/Account").status_code == 401
        assert get(f"{served.base_url}/_mock/health").status_code == 200
    lines = [line for line in served.stderr.read_text().splitlines() if line]

    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert served.stdout.read_text() == ""
    for entry in entries:
        assert {"timestamp", "level", "logger", "message"} <= set(entry)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["timestamp"])
    by_logger = {entry["logger"]: entry for entry in entries}
    assert "Application startup complete." in [e["message"] for e in entries]
    banner = by_logger["mock_puresms.banner"]
    assert banner["message"] == f"mock-puresms {__version__} ready at {served.base_url}"
    assert (banner["url"], banner["adminToken"]) == (served.base_url, False)
    access = by_logger["uvicorn.access"]
    assert (access["method"], access["path"], access["status"]) == ("GET", "/v1/Account", 401)
    assert [e for e in entries if e["logger"] == "uvicorn.access"] == [access]


# ----------------------------------------------------------------------------- health


def test_health_wait_returns_once_serve_is_ready(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(MOCK_PURESMS_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_puresms", "serve", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # At once, while the server is still importing: health waits for it.
        result = run_cli("health", "--wait", "30", env=env)
        assert result.returncode == 0, result.stderr
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_health_wait_gives_up_with_exit_1() -> None:
    started = time.monotonic()
    result = run_cli("health", "--wait", "0.5", "--port", str(free_port()))

    assert result.returncode == 1
    assert "is not healthy" in result.stderr
    assert time.monotonic() - started < 30


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_health_with_host_double_colon_probes_ipv6_loopback(tmp_path: Path) -> None:
    # The server listens on ::1 only (not on every interface); the health check is
    # configured as for a server on `::`, and must find it on ::1 (not 127.0.0.1).
    port = free_port()
    with serving(tmp_path, "--host", "::1", "--port", str(port)) as served:
        assert served.base_url == f"http://[::1]:{port}"
        result = run_cli(
            "health", env=clean_env(MOCK_PURESMS_HOST="::", MOCK_PURESMS_PORT=str(port))
        )
    assert result.returncode == 0, result.stderr
