"""README's scenario examples (blocks marked ``<!-- run: scenario-... -->``) are valid for
``scenarios validate`` and do, on a real server, what the text around them says."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_readme_snippets import loopback_env, snippets

from mock_puresms.testing.server_thread import ServerThread

HEADERS = {"X-API-Key": "readme-key"}
NAMES = ["scenario-carriers", "scenario-replay"]


@pytest.fixture
def client(live_server: Callable[..., ServerThread]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server().base_url, timeout=30, trust_env=False) as client:
        yield client


def activate(client: httpx.Client, name: str) -> None:
    response = client.put(
        "/_mock/scenario",
        content=snippets()[name],
        headers={"Content-Type": "application/yaml"},
    )
    assert response.status_code == 200, response.text


def send(client: httpx.Client, to: str, content: str = "Hello") -> str:
    response = client.post(
        "/v1/Sms/Send", json={"to": to, "from": "Acme", "content": content}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    reference: str = response.json()["reference"]
    return reference


def finals(client: httpx.Client, references: list[str]) -> list[str]:
    response = client.get("/_mock/messages", params={"pageSize": 1000})
    by_reference = {m["reference"]: m for m in response.json()["items"]}
    return [by_reference[r]["history"][-1]["deliveryStatusName"] for r in references]


def advance(client: httpx.Client, seconds: float) -> None:
    response = client.post("/_mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", NAMES)
def test_the_readme_scenario_passes_validate(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(snippets()[name], encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "mock_puresms", "scenarios", "validate", str(path)],
        capture_output=True,
        text=True,
        env=loopback_env(),
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_carriers_example_decides_by_the_longest_prefix(client: httpx.Client) -> None:
    activate(client, "scenario-carriers")
    uk = [send(client, f"447911{i:06d}") for i in range(40)]
    uk_78 = [send(client, f"447811{i:06d}") for i in range(40)]
    ireland = [send(client, "353871234567", "Reply YES to confirm") for _ in range(3)]
    us = [send(client, f"1202555{i:04d}") for i in range(120)]
    germany = send(client, "4915112345678")

    advance(client, 60)
    # A minute on: the delivered ones are (p99 of the two steps: 43 s), the others not yet.
    assert set(finals(client, ireland)) == {"Delivered"}
    assert finals(client, [germany]) == ["Rejected"]
    assert "Enroute" in finals(client, uk + uk_78)  # the Expired ones are still on their way
    advance(client, 3 * 86400)

    assert set(finals(client, uk)) <= {"Delivered", "Expired"}
    assert finals(client, uk).count("Delivered") >= 34
    assert set(finals(client, uk_78)) <= {"Delivered", "Expired"}
    assert set(finals(client, us)) == {"Delivered", "Rejected"}
    replies = client.get("/v1/Replies", headers=HEADERS)
    assert replies.status_code == 200, replies.text
    assert [reply["content"] for reply in _items(replies.json())] == ["YES"] * 3


def _items(body: Any) -> list[dict[str, Any]]:
    return body["items"] if isinstance(body, dict) else body  # type: ignore[no-any-return]


def test_the_replay_example_replays_then_falls_back_to_default(client: httpx.Client) -> None:
    activate(client, "scenario-replay")

    uk = [send(client, "447911123456") for _ in range(4)]
    us = [send(client, "12025550123") for _ in range(2)]
    advance(client, 7 * 3600)

    assert finals(client, uk) == ["Delivered", "Expired", "Delivered", "Undeliverable"]
    assert finals(client, us) == ["Rejected", "Undeliverable"]


def test_every_realism_key_is_documented_in_the_scenarios_section() -> None:
    from test_readme_snippets import README

    from mock_puresms.simulation.scenarios import realism

    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Scenarios") : text.index("## Running it")]
    keys = {"lifecycles", "byPrefix", "replay", "then", "rules", "cycle"}
    keys |= {*realism._DELAY_KEYS, *realism._LOGNORMAL_KEYS, *realism._REPLAY_KEYS}
    keys |= set(realism._RECORD_KEYS)
    missing = sorted(key for key in keys if f"{key}:" not in section and f"`{key}" not in section)
    assert not missing, f"scenario keys missing from README's Scenarios section: {missing}"


def test_validate_names_the_line_of_each_realism_mistake(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "lifecycles:\n"
        "  ok: [{status: Delivered, after: {lognormal: {median: 3s, p99: 1s}}}]\n"
        "rules:\n"
        "  - match: {}\n"
        "    byPrefix: {'447': {okk: 1}}\n"
        "replay: {then: forever, recorded: [{toPattern: '^44', lifecycle: ok}]}\n",
        encoding="utf-8",
    )

    result = subprocess.run(
        [sys.executable, "-m", "mock_puresms", "scenarios", "validate", str(path)],
        capture_output=True,
        text=True,
        env=loopback_env(),
        check=False,
    )

    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert f"{path}:2: lifecycles.ok[0].after.lognormal.p99: 1s must be more than the median" in (
        output
    )
    assert f"{path}:5: rules[0].byPrefix.447.okk: unknown lifecycle 'okk'" in output
    assert f"{path}:6: replay.then: must be one of rules, cycle" in output
