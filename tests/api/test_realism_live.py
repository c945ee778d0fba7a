"""Carrier realism through a real server on the virtual clock: messages follow the
lifecycles their scenario draws, two fresh servers with the same scenario and seed give
the same timings, and broken realism keys are a 400 naming each line (never a 500, never
an active broken scenario)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml

from mock_puresms.domain.sending import Draft, Outbound, OutboundSms
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.timestamps import parse_iso
from mock_puresms.simulation.planner import ScenarioPlanner
from mock_puresms.simulation.scenarios import parse_scenario
from mock_puresms.testing.server_thread import ServerThread

if TYPE_CHECKING:
    from inprocess import Mock

HEADERS = {"X-API-Key": "realism-key"}
SCENARIO = """\
name: carrier
seed: 4242
lifecycles:
  delivered:
    - {status: Enroute, after: {uniform: {min: 200ms, max: 2s}}}
    - {status: Delivered, after: {lognormal: {median: 3s, p99: 40s}, max: 10m}}
  expired:
    - {status: Enroute, after: {exponential: {mean: 1s}}}
    - {status: Expired, after: {uniform: {min: 1h, max: 2h}}}
rules:
  - name: carriers
    match: {}
    byPrefix:
      "447": {delivered: 80, expired: 20}
      "353": delivered
default:
  lifecycle: [{status: Rejected, after: {lognormal: {median: 500ms, p90: 2s}}}]
"""
RECIPIENTS = [f"447911{i:06d}" for i in range(30)] + ["353871234567"] * 3 + ["4915112345678"]


@pytest.fixture
def servers(live_server: Callable[..., ServerThread]) -> Iterator[list[httpx.Client]]:
    clients = [
        httpx.Client(base_url=live_server().base_url, timeout=30, trust_env=False) for _ in range(2)
    ]
    yield clients
    for client in clients:
        client.close()


def send_all(client: httpx.Client) -> list[str]:
    """A bulk of most recipients, then the rest one by one; the references in order."""
    bulk = client.post(
        "/v1/Sms/SendBulk",
        json={
            "from": "Acme",
            "content": "Your code is 1234",
            "messages": [{"to": to} for to in RECIPIENTS[:-4]],
        },
        headers=HEADERS,
    )
    assert bulk.status_code == 200, bulk.text
    references = [item["reference"] for item in bulk.json()["messages"]]
    for to in RECIPIENTS[-4:]:
        response = client.post(
            "/v1/Sms/Send",
            json={"to": to, "from": "Acme", "content": "Your code is 1234"},
            headers=HEADERS,
        )
        assert response.status_code == 200, response.text
        references.append(response.json()["reference"])
    return references


def timelines(client: httpx.Client, references: list[str]) -> list[list[tuple[int, int]]]:
    """Each message's history as (status code, ms after creation), in sending order."""
    response = client.get("/_mock/messages", params={"pageSize": 1000})
    assert response.status_code == 200, response.text
    by_reference = {m["reference"]: m for m in response.json()["items"]}
    result = []
    for reference in references:
        message = by_reference[reference]
        created = parse_iso(message["createdAt"])
        result.append(
            [(e["deliveryStatus"], parse_iso(e["at"]) - created) for e in message["history"]]
        )
    return result


def expected_timelines() -> list[list[tuple[int, int]]]:
    """What the scenario draws for the same sends, planned apart from any server."""
    planner = ScenarioPlanner(parse_scenario(SCENARIO))
    outbound = Outbound.of(
        [OutboundSms(to, "Acme", "Your code is 1234", "GSM", 1) for to in RECIPIENTS]
    )
    pending = planner.plan(
        Draft(outbound, False, DeliveryStatus.ACCEPTED, frozenset(), 0, None)
    ).pending
    result = []
    for steps in pending:
        at, timeline = 0, [(int(DeliveryStatus.ACCEPTED), 0)]
        for status, after_ms in steps:
            at += after_ms
            timeline.append((int(status), at))
        result.append(timeline)
    return result


def test_messages_follow_the_drawn_lifecycles_and_same_seed_servers_agree(
    servers: list[httpx.Client],
) -> None:
    first, second = servers
    # The same scenario, once as YAML and once in its JSON form.
    as_yaml = first.put(
        "/_mock/scenario", content=SCENARIO, headers={"Content-Type": "application/yaml"}
    )
    as_json = second.put("/_mock/scenario", json=yaml.safe_load(SCENARIO))
    assert (as_yaml.status_code, as_json.status_code) == (200, 200), (as_yaml.text, as_json.text)

    runs = []
    for client in servers:
        references = send_all(client)
        for _ in range(3):  # advanced in steps: the history does not depend on them
            moved = client.post("/_mock/clock/advance", json={"seconds": 3600})
            assert moved.status_code == 200, moved.text
        runs.append(timelines(client, references))

    assert runs[0] == runs[1]
    assert runs[0] == expected_timelines()
    finals = [DeliveryStatus(timeline[-1][0]) for timeline in runs[0]]
    uk = finals[:30]
    assert set(uk) == {DeliveryStatus.DELIVERED, DeliveryStatus.EXPIRED}
    assert finals[30:33] == [DeliveryStatus.DELIVERED] * 3
    assert finals[33] is DeliveryStatus.REJECTED
    # Drawn: three messages to the same number took three different times.
    assert len({timeline[-1][1] for timeline in runs[0][30:33]}) == 3


def test_the_shipped_replay_scenario_replays_on_a_server(mock: Mock) -> None:
    assert mock.client.put("/_mock/scenario", params={"name": "replay"}).status_code == 200

    references = [mock.send(to="447911123456")["reference"] for _ in range(7)]
    mock.advance(7 * 3600)

    response = mock.client.get("/_mock/messages", params={"pageSize": 100})
    by_reference = {m["reference"]: m for m in response.json()["items"]}
    finals = [by_reference[r]["history"][-1]["deliveryStatusName"] for r in references]
    assert finals == [
        "Delivered",
        "Delivered",
        "Delivered",
        "Expired",
        "Delivered",
        "Undeliverable",
        "Delivered",
    ]


HOSTILE = [
    ("after: {lognormal: {median: 3s, p99: 1s}}", "default.lifecycle[0].after.lognormal.p99"),
    ("after: {lognormal: {median: 0, p99: 1s}}", "default.lifecycle[0].after.lognormal.median"),
    ("after: {lognormal: {median: 1s, p99: 1e999}}", "default.lifecycle[0].after.lognormal.p99"),
    ("after: {uniform: {min: 1s, max: 99999999999d}}", "default.lifecycle[0].after.uniform.max"),
    ("after: {exponential: {mean: .nan}}", "default.lifecycle[0].after.exponential.mean"),
    ("after: {exponential: {mean: -1}}", "default.lifecycle[0].after.exponential.mean"),
    ("after: {uniform: {min: 1s, max: 2s}, max: 1ms}", "default.lifecycle[0].after.max"),
]


@pytest.mark.parametrize(("after", "path"), HOSTILE)
def test_a_hostile_distribution_is_a_400_and_the_scenario_stays(
    mock: Mock, after: str, path: str
) -> None:
    before = mock.client.get("/_mock/scenario").json()
    text = f"name: hostile\ndefault:\n  lifecycle:\n    - status: Delivered\n      {after}\n"

    response = mock.client.put(
        "/_mock/scenario", content=text, headers={"Content-Type": "application/yaml"}
    )

    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert list(errors) == [path]
    assert "line 5" in json.dumps(errors)
    assert mock.client.get("/_mock/scenario").json() == before


def test_huge_prefix_weights_in_json_are_a_400_naming_the_key(mock: Mock) -> None:
    body: dict[str, Any] = {
        "lifecycles": {"ok": [{"status": "Delivered", "after": "1s"}]},
        "rules": [{"match": {}, "byPrefix": {"447": {"ok": 1e308}, "44": {"ok": 1e308}}}],
    }

    response = mock.client.put("/_mock/scenario", json=body)

    assert response.status_code == 400, response.text
    assert set(response.json()["errors"]) == {"rules[0].byPrefix.447.ok", "rules[0].byPrefix.44.ok"}
    assert mock.client.get("/_mock/scenario").json()["name"] == "default"
