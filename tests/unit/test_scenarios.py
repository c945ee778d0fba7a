"""Scenario files: parsing with every mistake reported by line, matching, and the shipped files."""

from __future__ import annotations

import random
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.simulation.scenarios import (
    DEFAULT_LIFECYCLE,
    Lifecycle,
    Problem,
    Scenario,
    ScenarioError,
    Step,
    UnknownScenarioError,
    load_scenario,
    parse_scenario,
    shipped_scenarios,
)

S = DeliveryStatus
MAGIC = [f"44770090000{digit}" for digit in range(7)]


@dataclass(frozen=True)
class Msg:
    to: str = "447123456789"
    sender: str = "Shop"
    content: str = "Hello"
    is_test: bool = False


def parse(text: str, source_name: str = "test.yaml") -> Scenario:
    return parse_scenario(textwrap.dedent(text), source_name=source_name)


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        parse(text)
    return caught.value.problems


def lifecycle(*steps: tuple[S, int]) -> Lifecycle:
    return tuple(Step(status, after_ms) for status, after_ms in steps)


def draw(scenario: Scenario, message: Msg) -> Lifecycle:
    return scenario.lifecycle_for(message, random.Random(0))


# --------------------------------------------------------------------------- shipped


def test_every_shipped_scenario_parses_and_describes_itself() -> None:
    listing = shipped_scenarios()

    assert [s.name for s in listing] == [
        "default",
        "failures",
        "realistic",
        "replay",
        "replies",
        "slow",
    ]
    for shipped in listing:
        scenario = load_scenario(shipped.name)
        assert scenario.name == shipped.name
        assert shipped.description == scenario.description
        assert len(scenario.description) > 40
        assert scenario.source == shipped.path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("447700900000", lifecycle((S.ENROUTE, 1_000), (S.DELIVERED, 2_000))),
        ("447700900001", lifecycle((S.ENROUTE, 1_000), (S.UNDELIVERABLE, 2_000))),
        ("447700900002", lifecycle((S.ENROUTE, 1_000), (S.EXPIRED, 2_000))),
        ("447700900003", lifecycle((S.ENROUTE, 1_000), (S.REJECTED, 2_000))),
        ("447700900004", lifecycle((S.ENROUTE, 1_000), (S.UNKNOWN, 2_000))),
        ("447700900005", lifecycle((S.ENROUTE, 1_000))),
        ("447700900006", lifecycle((S.ENROUTE, 1_000), (S.DELIVERED, 2_000))),
        ("447123456789", lifecycle((S.ENROUTE, 1_000), (S.DELIVERED, 2_000))),
    ],
)
def test_default_scenario_gives_each_magic_number_its_lifecycle(
    to: str, expected: Lifecycle
) -> None:
    scenario = load_scenario("default")

    assert draw(scenario, Msg(to=to)) == expected


def test_default_scenario_replies_stop_only_from_447700900006() -> None:
    scenario = load_scenario("default")

    reply = scenario.reply_for(Msg(to="447700900006"))
    assert reply is not None
    assert (reply.content, reply.after_ms) == ("STOP", 5_000)
    assert all(scenario.reply_for(Msg(to=to)) is None for to in [*MAGIC[:6], "447123456789"])


@pytest.mark.parametrize("name", ["failures", "realistic", "replay", "replies", "slow"])
def test_other_shipped_scenarios_keep_the_magic_numbers(name: str) -> None:
    default, other = load_scenario("default"), load_scenario(name)

    for to in MAGIC:
        assert draw(other, Msg(to=to)) == draw(default, Msg(to=to)), to
    assert other.reply_for(Msg(to="447700900006")) == default.reply_for(Msg(to="447700900006"))
    assert "447700900000" in other.description


@pytest.mark.parametrize(
    ("content", "reply"),
    [
        ("Your appointment is at 10. Reply YES to confirm", "YES"),
        ("Reply no to cancel", "NO"),
        ("Stuck? Reply HELP", "HELP"),
        ("Offers inside. Text STOP to opt out", "STOP"),
        ("Just saying hello", None),
    ],
)
def test_replies_scenario_answers_what_the_message_asks(content: str, reply: str | None) -> None:
    rule = load_scenario("replies").reply_for(Msg(content=content))

    assert (rule.content if rule else None) == reply


def test_load_scenario_reads_a_file_and_names_it_after_its_stem(tmp_path: Path) -> None:
    path = tmp_path / "my-carrier.yaml"
    path.write_text("default: {lifecycle: [{status: Rejected, after: 1s}]}\n", encoding="utf-8")

    scenario = load_scenario(str(path))

    assert scenario.name == "my-carrier"
    assert draw(scenario, Msg()) == lifecycle((S.REJECTED, 1_000))


def test_load_scenario_refuses_what_is_neither_a_shipped_name_nor_a_file() -> None:
    with pytest.raises(
        UnknownScenarioError, match=r"'nope'.*default, failures, realistic"
    ) as caught:
        load_scenario("nope")

    assert isinstance(caught.value, ScenarioError)  # one `except ScenarioError` covers both


def test_load_scenario_reports_the_problems_of_an_invalid_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("seed: x\n", encoding="utf-8")

    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path))

    assert str(caught.value) == f"{path}:1: seed: must be an integer, got a string ('x')"


# --------------------------------------------------------------------------- matching


def test_first_matching_rule_wins() -> None:
    scenario = parse(
        """
        rules:
          - name: first
            match: {toPrefix: "447"}
            lifecycle: [{status: Rejected, after: 1s}]
          - name: second
            match: {to: "447123456789"}
            lifecycle: [{status: Delivered, after: 1s}]
        """
    )

    assert scenario.rule_for(Msg(to="447123456789")).name == "first"
    assert draw(scenario, Msg(to="447123456789")) == lifecycle((S.REJECTED, 1_000))
    assert draw(scenario, Msg(to="15551234567")) == DEFAULT_LIFECYCLE


MATCH_ALL_KEYS = """
    rules:
      - match:
          to: "+447123456789"
          toPrefix: "+4471"
          toPattern: "^44\\\\d+9$"
          from: Shop
          contentPattern: "(?i)code"
          isTest: true
        lifecycle: [{status: Rejected, after: 1s}]
    """


@pytest.mark.parametrize(
    ("message", "matched"),
    [
        (Msg(content="Your CODE is 1", is_test=True), True),
        (Msg(content="Your CODE is 1", is_test=False), False),
        (Msg(content="Hello", is_test=True), False),
        (Msg(content="Your CODE is 1", is_test=True, sender="shop"), False),
        (Msg(content="Your CODE is 1", is_test=True, to="447123456788"), False),
    ],
)
def test_match_keys_combine_with_and(message: Msg, matched: bool) -> None:
    scenario = parse(MATCH_ALL_KEYS)

    assert scenario.rules[0].match.matches(message) is matched


def test_to_and_to_prefix_drop_a_leading_plus_and_may_be_unquoted() -> None:
    scenario = parse(
        """
        rules:
          - match: {to: +447700900001}
            lifecycle: [{status: Undeliverable, after: 1s}]
          - match: {toPrefix: 1555}
            lifecycle: [{status: Rejected, after: 1s}]
        """
    )

    assert scenario.rules[0].match.to == "447700900001"
    assert draw(scenario, Msg(to="447700900001")) == lifecycle((S.UNDELIVERABLE, 1_000))
    assert draw(scenario, Msg(to="15551234567")) == lifecycle((S.REJECTED, 1_000))


def test_a_missing_default_enroutes_after_1s_and_delivers_2s_later() -> None:
    scenario = parse("name: bare\n")

    assert draw(scenario, Msg()) == lifecycle((S.ENROUTE, 1_000), (S.DELIVERED, 2_000))
    assert (scenario.name, scenario.description, scenario.seed) == ("bare", "", None)


def test_optional_keys_set_to_null_count_as_absent() -> None:
    scenario = parse("rules:\nreplies:\ndefault:\nseed:\ndescription:\n")

    assert (scenario.rules, scenario.replies, scenario.seed) == ((), (), None)
    assert draw(scenario, Msg()) == DEFAULT_LIFECYCLE


def test_statuses_may_be_codes_and_durations_bare_seconds() -> None:
    scenario = parse("default: {lifecycle: [{status: 1, after: 0.5}, {status: '2', after: 3}]}")

    assert draw(scenario, Msg()) == lifecycle((S.ENROUTE, 500), (S.DELIVERED, 3_000))


def test_first_matching_reply_rule_wins() -> None:
    scenario = parse(
        """
        replies:
          - match: {contentPattern: "(?i)yes"}
            after: 5s
            content: "YES"
          - match: {}
            after: 1m
            content: "WHAT?"
        """
    )

    first, second = scenario.replies
    assert scenario.reply_for(Msg(content="reply yes")) is first
    assert scenario.reply_for(Msg(content="hi")) is second
    assert second.after_ms == 60_000


def test_json_scenarios_are_read_too_even_indented_with_tabs() -> None:
    text = (
        '{\n\t"name": "j",\n\t"rules": [{"match": {"to": "447700900001"},\n'
        '\t\t"lifecycle": [{"status": "Expired", "after": "2s"}]}]\n}'
    )

    scenario = parse_scenario(text)

    assert scenario.name == "j"
    assert draw(scenario, Msg(to="447700900001")) == lifecycle((S.EXPIRED, 2_000))


def test_anchors_and_merge_keys_share_lifecycles() -> None:
    scenario = parse(
        """
        rules:
          - match: {to: "447700900001"}
            lifecycle: &bounce [{status: Enroute, after: 1s}, {status: Undeliverable, after: 2s}]
          - &slow-rule
            match: {to: "447700900002"}
            lifecycle: [{status: Enroute, after: 1m}]
          - <<: *slow-rule
            match: {to: "447700900003"}
        default:
          lifecycle: *bounce
        """
    )

    bounce = lifecycle((S.ENROUTE, 1_000), (S.UNDELIVERABLE, 2_000))
    assert draw(scenario, Msg()) == bounce
    assert draw(scenario, Msg(to="447700900003")) == lifecycle((S.ENROUTE, 60_000))


# --------------------------------------------------------------------------- weighted outcomes

WEIGHTED = """
    seed: 42
    default:
      outcomes:
        - weight: 70
          lifecycle: [{status: Delivered, after: 1s}]
        - weight: 20
          lifecycle: [{status: Expired, after: 1s}]
        - weight: 10
          lifecycle: [{status: Rejected, after: 1s}]
    """


def test_same_seed_draws_the_same_outcomes_in_roughly_the_weights() -> None:
    scenario = parse(WEIGHTED)
    assert scenario.seed == 42
    messages = [Msg(to=f"4471234{i:05d}") for i in range(1_000)]

    first_rng, second_rng = random.Random(scenario.seed), random.Random(scenario.seed)
    first = [scenario.lifecycle_for(m, first_rng)[-1].status for m in messages]
    second = [scenario.lifecycle_for(m, second_rng)[-1].status for m in messages]

    assert first == second
    counts = Counter(first)
    assert 650 <= counts[S.DELIVERED] <= 750
    assert 160 <= counts[S.EXPIRED] <= 240
    assert 70 <= counts[S.REJECTED] <= 130


def test_a_weighted_draw_uses_exactly_one_random_call() -> None:
    scenario = parse(WEIGHTED)
    used, reference = random.Random(7), random.Random(7)

    for _ in range(10):
        scenario.lifecycle_for(Msg(), used)
        reference.random()

    assert used.random() == reference.random()


def test_a_single_outcome_rule_leaves_the_rng_alone() -> None:
    scenario = load_scenario("default")
    rng = random.Random(3)
    state = rng.getstate()

    for to in [*MAGIC, "447123456789"]:
        scenario.lifecycle_for(Msg(to=to), rng)

    assert rng.getstate() == state


def test_new_rng_follows_the_seed() -> None:
    scenario = parse(WEIGHTED)

    assert scenario.new_rng().random() == random.Random(42).random()


# --------------------------------------------------------------------------- mistakes

MANY_MISTAKES = """\
name: broken
seed: twelve
colour: blue
rules:
  - match: {toPattern: "([0-9"}
    lifecycle:
      - {status: Enroute, after: 1s}
      - {status: Delivred, after: 2s}
  - match: {to: "447700900001", isTest: maybe}
    lifecycle:
      - {status: Delivered, after: -3s}
      - {status: Enroute, after: 1s}
  - match: {}
    outcomes:
      - weight: 0
        lifecycle: [{status: Scheduled, after: 1x}]
      - lifecycle: []
    lifecycle: [{status: Delivered, after: 1s}]
default:
  match: {}
  lifecycle: [{status: Delivered, after: 1s}]
replies:
  - match: {contentPattern: "(?i)yes"}
    content: 42
"""


def test_every_mistake_is_reported_with_its_line_and_path() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(MANY_MISTAKES, source_name="broken.yaml")

    found = [(p.line, p.path) for p in caught.value.problems]
    assert found == [
        (2, "seed"),
        (3, "colour"),
        (5, "rules[0].match.toPattern"),
        (8, "rules[0].lifecycle[1].status"),
        (9, "rules[1].match.isTest"),
        (11, "rules[1].lifecycle[0].after"),
        (12, "rules[1].lifecycle[1]"),
        (15, "rules[2].outcomes[0].weight"),
        (16, "rules[2].outcomes[0].lifecycle[0].status"),
        (16, "rules[2].outcomes[0].lifecycle[0].after"),
        (17, "rules[2].outcomes[1].weight"),
        (17, "rules[2].outcomes[1].lifecycle"),
        (18, "rules[2]"),
        (20, "default.match"),
        (23, "replies[0].after"),
        (24, "replies[0].content"),
    ]
    reasons = {p.path: p.reason for p in caught.value.problems}
    assert "integer" in reasons["seed"]
    assert "allowed keys: name, description, seed, rules, default, replies" in reasons["colour"]
    assert "unterminated character set" in reasons["rules[0].match.toPattern"]
    assert "Delivred" in reasons["rules[0].lifecycle[1].status"]
    assert "Undeliverable" in reasons["rules[0].lifecycle[1].status"]  # names the allowed ones
    assert "true or false" in reasons["rules[1].match.isTest"]
    assert "negative" in reasons["rules[1].lifecycle[0].after"]
    assert "after Delivered, a final status" in reasons["rules[1].lifecycle[1]"]
    assert "positive number" in reasons["rules[2].outcomes[0].weight"]
    assert "Scheduled" in reasons["rules[2].outcomes[0].lifecycle[0].status"]
    assert "unknown unit" in reasons["rules[2].outcomes[0].lifecycle[0].after"]
    assert "missing" in reasons["rules[2].outcomes[1].weight"]
    assert "not be empty" in reasons["rules[2].outcomes[1].lifecycle"]
    assert "not both" in reasons["rules[2]"]
    assert "allowed keys: lifecycle, outcomes" in reasons["default.match"]
    assert "missing" in reasons["replies[0].after"]
    assert "must be a string" in reasons["replies[0].content"]


def test_scenario_error_lists_problems_as_file_line_path_reason() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("seed: x\nextra: 1\n", source_name="s.yaml")

    lines = str(caught.value).splitlines()
    assert lines[0] == "s.yaml:1: seed: must be an integer, got a string ('x')"
    assert lines[1].startswith("s.yaml:2: extra: unknown key 'extra'")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("name: x\nrules: [\n  {match: {}\n", 4),
        ("name: x\ndescription: a\n  seed: 1\n", 3),
        ('name: "open\n', 2),
        ("a: 1\n---\nb: 2\n", 2),
        ("name: x\nseed: *missing\n", 2),
    ],
)
def test_invalid_yaml_syntax_reports_its_line(text: str, line: int) -> None:
    (problem,) = problems_of(text)

    assert (problem.path, problem.line) == ("$", line)
    assert problem.reason.startswith("invalid YAML: ")


@pytest.mark.parametrize(
    ("text", "path", "line", "reason"),
    [
        ("", "$", 1, "empty"),
        ("- 1\n", "$", 1, "must be a mapping"),
        ("rules:\n  - lifecycle: [{status: 2, after: 1s}]\n", "rules[0].match", 2, "missing"),
        ("rules:\n  - match: {}\n", "rules[0].lifecycle", 2, "give 'lifecycle'"),
        ("default: {outcomes: []}\n", "default.outcomes", 1, "not be empty"),
        ("default:\n  lifecycle:\n    - {status: 2}\n", "default.lifecycle[0].after", 3, "missing"),
        (
            "default: {lifecycle: [{status: 2, after: 1}], outcome: []}\n",
            "default.outcome",
            1,
            "did you mean 'outcomes'",
        ),
        (
            "default:\n  lifecycle: [{status: 6, after: 1s}]\n",
            "default.lifecycle[0].status",
            2,
            "already Accepted",
        ),
        (
            "default:\n  lifecycle:\n    - {status: 1, after: 1s}\n    - {status: 1, after: 1s}\n",
            "default.lifecycle[1].status",
            4,
            "already Enroute",
        ),
        (
            "default:\n  lifecycle:\n    - {status: 9, after: 1s}\n    - {status: 7, after: 1s}\n",
            "default.lifecycle[1]",
            4,
            "after Skipped",
        ),
        (
            "default:\n  outcomes:\n    - {weight: -1, lifecycle: [{status: 2, after: 1}]}\n",
            "default.outcomes[0].weight",
            3,
            "positive",
        ),
        (
            "default:\n  outcomes:\n    - {weight: '5', lifecycle: [{status: 2, after: 1}]}\n",
            "default.outcomes[0].weight",
            3,
            "positive",
        ),
        (
            "default: {lifecycle: [{status: [2], after: 1}]}\n",
            "default.lifecycle[0].status",
            1,
            "status name or code",
        ),
        (
            "default: {lifecycle: [{status: 2, after: {s: 1}}]}\n",
            "default.lifecycle[0].after",
            1,
            "duration",
        ),
        ("seed: true\n", "seed", 1, "integer"),
        ("seed: 1.5\n", "seed", 1, "integer"),
        ("name: 7\n", "name", 1, "string"),
        (
            "rules:\n  - match: {to: '+44 7700'}\n    lifecycle: [{status: 2, after: 1}]\n",
            "rules[0].match.to",
            2,
            "digits",
        ),
        (
            "rules:\n  - match: {isTest: 1}\n    lifecycle: [{status: 2, after: 1}]\n",
            "rules[0].match.isTest",
            2,
            "true or false",
        ),
        (
            "rules:\n  - match: {contentPattern: '*'}\n    lifecycle: [{status: 2, after: 1}]\n",
            "rules[0].match.contentPattern",
            2,
            "nothing to repeat",
        ),
        (
            "replies:\n  - {match: {}, after: 1s, content: YES}\n",
            "replies[0].content",
            2,
            'write "YES"',
        ),
        (
            "replies:\n  - {match: {}, after: 1s, content: ''}\n",
            "replies[0].content",
            2,
            "not be empty",
        ),
        ("name: a\nseed: 1\nname: b\n", "name", 3, "duplicate key 'name' (first on line 1)"),
    ],
)
def test_each_kind_of_mistake_is_reported_where_it_is(
    text: str, path: str, line: int, reason: str
) -> None:
    problems = problems_of(text)

    assert [(p.path, p.line) for p in problems] == [(path, line)]
    assert reason in problems[0].reason
