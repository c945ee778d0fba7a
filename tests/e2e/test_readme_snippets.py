"""README's snippets work when pasted: each block marked ``<!-- run: NAME -->`` is read
from README.md and run as written (only the port changes, 8080 being possibly taken)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_puresms.testing.server_thread import ServerThread

README = Path(__file__).resolve().parents[2] / "README.md"
SNIPPET = re.compile(r"<!-- run: (?P<name>[\w-]+) -->\n```(?P<lang>\w+)\n(?P<code>.*?)```", re.S)
_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def snippets() -> dict[str, str]:
    return {m["name"]: m["code"] for m in SNIPPET.finditer(README.read_text(encoding="utf-8"))}


def loopback_env(**extra: str) -> dict[str, str]:
    """This environment with no proxy and no MOCK_PURESMS_* variable, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in _PROXY_VARIABLES and not k.startswith("MOCK_PURESMS_")
    }
    env.update(no_proxy="*", NO_PROXY="*", **extra)
    return env


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_readme_marks_its_runnable_snippets() -> None:
    assert {"local-development", "php-send", "config-file"} <= set(snippets())


def test_the_local_development_snippet_works_when_pasted(tmp_path: Path) -> None:
    # As pasted into a shell: `serve &` returns at once, while the server still needs
    # about a second before it listens; the snippet must wait for it.
    script = Path(sys.executable).with_name("mock-puresms")
    if not script.exists():
        pytest.skip("the mock-puresms console script is not installed next to this Python")
    if shutil.which("curl") is None:
        pytest.skip("curl is not on PATH (Debian/Ubuntu: apt-get install curl)")
    port = free_port()
    code = snippets()["local-development"].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    env = loopback_env(
        MOCK_PURESMS_PORT=str(port),
        PATH=f"{script.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        # Files, not pipes: the background server keeps its output open after the shell
        # exits. Its own session, so the whole group (server included) is stopped after.
        shell = subprocess.Popen(
            ["bash", "-e", "-c", code],
            stdout=out,
            stderr=err,
            env=env,
            cwd=tmp_path,
            start_new_session=True,
        )
        try:
            status = shell.wait(timeout=60)
        finally:
            os.killpg(shell.pid, signal.SIGTERM)
    assert status == 0, stdout.read_text() + stderr.read_text()
    clock = json.loads(stdout.read_text().splitlines()[-1])
    assert clock["mode"] == "virtual"


def test_the_php_snippet_sends_as_written(live_server: Callable[..., ServerThread]) -> None:
    php = shutil.which("php")
    if php is None:
        pytest.skip("'php' is not on PATH (Debian/Ubuntu: apt-get install php-cli php-curl)")
    has_curl = subprocess.run([php, "-r", "exit(function_exists('curl_init') ? 0 : 1);"])
    if has_curl.returncode != 0:
        pytest.skip("php has no curl extension (Debian/Ubuntu: apt-get install php-curl)")
    server = live_server()
    code = snippets()["php-send"]
    assert code.startswith("<?php\n")

    result = subprocess.run(
        [php],
        input=code.replace("http://127.0.0.1:8080", server.base_url),
        capture_output=True,
        text=True,
        timeout=60,
        env=loopback_env(),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "The test was successful.", result.stdout + result.stderr


def test_the_config_file_example_is_valid(tmp_path: Path) -> None:
    config = tmp_path / "mock-puresms.yaml"
    config.write_text(snippets()["config-file"], encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "mock_puresms", "config", "validate", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=loopback_env(),
    )

    assert (result.returncode, result.stdout) == (0, f"{config}: ok\n"), result.stderr


def test_the_connect_config_example_is_valid(tmp_path: Path) -> None:
    config = tmp_path / "connect.yaml"
    config.write_text(snippets()["connect-config"], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mock_puresms", "config", "validate", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=loopback_env(),
    )
    assert (result.returncode, result.stdout) == (0, f"{config}: ok\n"), result.stderr


def _receiver_namespace() -> dict[str, Any]:
    """The receiver snippet's definitions, without starting its server."""
    code = snippets()["connect-receiver"]
    definitions, _, start = code.rpartition("\nHTTPServer(")
    assert start.startswith('("127.0.0.1", 9000), Hooks)')
    namespace: dict[str, Any] = {}
    exec(compile(definitions, "README.md", "exec"), namespace)
    return namespace


def test_the_connect_receiver_checks_the_documented_test_vector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    namespace = _receiver_namespace()
    namespace["SECRET"] = b"webhook-secret"
    body = b'{"id":"evt_123","eventType":1}'
    headers = {
        "X-Webhook-Timestamp": "1736937000",
        "X-Webhook-Signature": "xsSOjC8SdEID77BwImeaD/TKPdXNtrfLSbeCLFKasjI=",
    }
    monkeypatch.setattr(time, "time", lambda: 1736937010.0)
    assert namespace["verified"](headers, body)
    assert not namespace["verified"](headers, body + b" ")
    monkeypatch.setattr(time, "time", lambda: 1736937000.0 + 3600)
    assert not namespace["verified"](headers, body)  # an hour old: refused


def test_the_connect_receiver_accepts_the_mocks_signed_events(
    live_server: Callable[..., ServerThread], tmp_path: Path
) -> None:
    import httpx

    port = free_port()
    code = snippets()["connect-receiver"].replace("9000", str(port))
    receiver = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=loopback_env(),
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/hooks"
        config = tmp_path / "mock.yaml"
        config.write_text(
            "openMode:\n  webhookEndpoints:\n"
            f"    - {{url: '{url}', events: [2], secret: whsec}}\n"
            f"    - {{url: '{url}?wrong', events: [2], secret: other}}\n",
            encoding="utf-8",
        )
        server = live_server(config=config)
        with httpx.Client(base_url=server.base_url, trust_env=False) as client:
            key = {"X-API-Key": "readme-key"}
            sent = {"to": "447700900123", "from": "Acme", "content": "Hi"}
            assert client.post("/v1/Sms/Send", json=sent, headers=key).status_code == 200
            reply = {"from": "447700900123", "to": "Acme", "content": "YES"}
            assert client.post("/_mock/replies", json=reply).status_code == 200
            statuses: dict[str, list[int | None]] = {}
            for _ in range(100):  # the receiver may still be starting: retries reach it
                client.post("/_mock/clock/advance", json={"seconds": 1})
                items = client.get("/_mock/webhooks").json()["items"]
                statuses = {d["url"]: [a["status"] for a in d["attempts"]] for d in items}
                if statuses.get(url, [None])[-1] == 204 and 401 in statuses.get(url + "?wrong", []):
                    break
        assert statuses[url][-1] == 204, statuses
        assert 401 in statuses[url + "?wrong"], statuses
    finally:
        receiver.terminate()
        out, _ = receiver.communicate(timeout=10)
    assert " 2 {'MessageId': '" in out and "'Body': 'YES'" in out, out
