"""A scenario's ``webhooks:`` section: read with lines and paths, drawn repeatably."""

from __future__ import annotations

import pytest

from mock_puresms.domain.deliveries import Delivery
from mock_puresms.simulation.scenarios import ScenarioError, parse_scenario
from mock_puresms.simulation.scenarios.chaos import ChaosRule, Span, WebhookChaos
from mock_puresms.simulation.scenarios.chaos_text import parse_chaos
from mock_puresms.webhooks.chaos import WebhookChaosState, unit_draw


def test_a_section_reads_into_rules_with_defaults() -> None:
    scenario = parse_scenario(
        "seed: 5\n"
        "webhooks:\n"
        "  chaos:\n"
        "    - {kind: duplicate, probability: 0.25}\n"
        "    - {kind: delay, next: 2, after: {min: 1s, max: 1m}}\n"
        "    - {kind: reorder, probability: 1}\n"
        "    - {kind: staleSignature, next: 1}\n"
    )
    assert scenario.webhooks == WebhookChaos(
        None,
        (
            ChaosRule("duplicate", probability=0.25, after=Span(1000, 1000)),
            ChaosRule("delay", next=2, after=Span(1000, 60000)),
            ChaosRule("reorder", probability=1.0, within_ms=10000),
            ChaosRule("staleSignature", next=1, age_ms=600000),
        ),
    )
    assert parse_scenario("name: plain\n").webhooks is None


def test_every_mistake_names_its_line_and_path() -> None:
    text = (
        "name: bad\n"
        "webhooks:\n"
        "  seed: x\n"
        "  chaos:\n"
        "    - {kind: delay, probability: 0.5}\n"
        "    - {kind: reorder, next: 1, after: 1s}\n"
        "    - {probability: 1}\n"
        "  extra: 1\n"
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    found = {(p.path, p.line) for p in caught.value.problems}
    assert found == {
        ("webhooks.seed", 3),
        ("webhooks.chaos[0].after", 5),
        ("webhooks.chaos[1].after", 6),
        ("webhooks.chaos[2].kind", 7),
        ("webhooks.extra", 8),
    }


def test_a_control_body_is_read_the_same_way() -> None:
    chaos = parse_chaos('{"seed": 9, "chaos": [{"kind": "missingSignature", "next": 3}]}')
    assert chaos == WebhookChaos(9, (ChaosRule("missingSignature", next=3),))
    assert chaos.to_json() == {"seed": 9, "chaos": [{"kind": "missingSignature", "next": 3}]}
    with pytest.raises(ScenarioError) as caught:
        parse_chaos('{"chaos": [{"kind": "delay", "next": 1, "after": -1}]}')
    assert [p.path for p in caught.value.problems] == ["chaos[0].after"]


def test_draws_depend_on_the_seed_and_key_only() -> None:
    assert unit_draw(7, "receipts", None, 3, 0) == unit_draw(7, "receipts", None, 3, 0)
    draws = {unit_draw(7, "receipts", None, n, 0) for n in range(1000)}
    assert len(draws) == 1000 and all(0 <= d < 1 for d in draws)
    assert 0.45 < sum(d < 0.5 for d in draws) / 1000 < 0.55


def _delivery(account: str, url: str) -> Delivery:
    return Delivery("WH" + account + url, account, url, "receipts", b"[]", 0)


def test_each_account_and_url_counts_its_own_deliveries() -> None:
    """The draw for a delivery does not depend on what other accounts or URLs did in
    between (concurrency), only on its place among its own (account, URL)'s."""
    chaos = WebhookChaos(3, (ChaosRule("delay", probability=0.5, after=Span(1, 1)),))
    alone = WebhookChaosState(lambda: (chaos, None))
    mixed = WebhookChaosState(lambda: (chaos, None))
    plain = [
        bool(alone.plan(_delivery("a", f"u{i % 2}"), signed=False).delay_ms) for i in range(40)
    ]
    interleaved = []
    for i in range(40):
        mixed.plan(_delivery("b", "u0"), signed=False)  # another account's traffic
        interleaved.append(bool(mixed.plan(_delivery("a", f"u{i % 2}"), signed=False).delay_ms))
    assert interleaved == plain
    assert 0 < sum(plain) < 40


def test_next_counts_start_over_when_the_account_gets_its_own_chaos() -> None:
    chaos = WebhookChaos(None, (ChaosRule("delay", next=1, after=Span(5, 5)),))
    state = WebhookChaosState(lambda: (None, None))
    state.override("a", chaos)
    delays = [state.plan(_delivery("a", "u"), signed=False).delay_ms for _ in range(3)]
    state.override("a", chaos)
    delays.append(state.plan(_delivery("a", "u"), signed=False).delay_ms)
    assert delays == [5, 0, 0, 5]
    state.reset("a")
    assert state.setting("a") == (None, 0, "none")
