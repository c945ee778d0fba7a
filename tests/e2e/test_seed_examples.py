"""The public PureSMS examples work against the mock by changing only the base URL.

The PHP example of the PureSMS developer page (``seed_send.php``) runs with the real
``php`` binary, and the README's curl command with the real ``curl`` binary, each against
a live server on a loopback port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mock_puresms.testing.server_thread import ServerThread

SEED_PHP = Path(__file__).with_name("seed_send.php")

# The README's curl example, exactly as README.md shows it; $BASE is the mock's base URL.
README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_curl() -> str:
    """The README's send example, exactly as a reader would paste it."""
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith('curl -s -X POST "$BASE/v1/Sms/Send'):
            return line
    raise AssertionError("README.md no longer has its curl send example")


README_CURL = _readme_curl()

_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def loopback_env(**extra: str) -> dict[str, str]:
    """This environment with no HTTP proxy, so curl and PHP talk to loopback directly."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARIABLES}
    env.update(no_proxy="*", NO_PROXY="*", **extra)
    return env


def require(binary: str, packages: str) -> str:
    """The path of ``binary``, or skip the test naming the packages to install."""
    found = shutil.which(binary)
    if found is None:
        pytest.skip(f"{binary!r} is not on PATH (Debian/Ubuntu: apt-get install {packages})")
    return found


def test_seed_php_example_sends_in_test_mode(live_server: Callable[..., ServerThread]) -> None:
    php = require("php", "php-cli php-curl")
    has_curl = subprocess.run([php, "-r", "exit(function_exists('curl_init') ? 0 : 1);"])
    if has_curl.returncode != 0:
        pytest.skip("php has no curl extension (Debian/Ubuntu: apt-get install php-curl)")
    server = live_server()

    result = subprocess.run(
        [php, str(SEED_PHP), server.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        env=loopback_env(),
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["The test was successful.", "HTTP status: 200"], result.stdout
    body = json.loads(lines[2].removeprefix("Body: "))
    assert body["reference"]
    assert (body["to"], body["from"], body["isTest"]) == ("4471234123123", "Somebody", True)


def test_readme_curl_example_sends_in_test_mode(live_server: Callable[..., ServerThread]) -> None:
    require("curl", "curl")
    server = live_server()

    result = subprocess.run(
        README_CURL,
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=loopback_env(BASE=server.base_url),
    )

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["reference"]
    assert body["deliveryStatusName"] == "Accepted"
    assert body["content"] == "Hello this is my first SMS"


def _readme_block(heading: str, language: str) -> str:
    """The first ``language`` code block after ``heading`` in README.md."""
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    fence = text.index(f"```{language}\n", start) + len(language) + 4
    return text[fence : text.index("```", fence)]


def test_readme_python_example_sends_against_the_mock(
    live_server: Callable[..., ServerThread],
) -> None:
    server = live_server()
    code = _readme_block("### Python", "python").replace("http://127.0.0.1:8080", server.base_url)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=loopback_env(),
    )
    assert result.returncode == 0, result.stderr
    reference, status = result.stdout.split()
    assert reference.startswith("M")
    assert status == "Accepted"
