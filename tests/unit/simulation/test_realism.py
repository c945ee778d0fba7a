"""Carrier realism in scenarios: delays drawn from distributions, outcomes per number
prefix, replayed recordings, and the reader's problems with them (each with its line)."""

from __future__ import annotations

import random
import statistics

import pytest

from mock_puresms.domain.sending import Draft, Outbound, OutboundSms
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.simulation.durations import MAX_DURATION_MS
from mock_puresms.simulation.planner import ScenarioPlanner
from mock_puresms.simulation.scenarios import Problem, ScenarioError, load_scenario, parse_scenario
from mock_puresms.simulation.scenarios.distributions import (
    Exponential,
    Lognormal,
    MessageDraws,
    Uniform,
)

S = DeliveryStatus


def draws(count: int, seed: int = 1) -> list[float]:
    """One draw of each of ``count`` messages to different recipients."""
    return [MessageDraws(seed, f"4479{i:08d}").random() for i in range(count)]


def quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source_name="bad.yaml")
    return caught.value.problems


def plan(planner: ScenarioPlanner, *recipients: str) -> list[tuple[tuple[S, int], ...]]:
    """The steps the planner gives one send to ``recipients``, in order."""
    outbound = Outbound.of([OutboundSms(to, "Acme", "Hi", "GSM", 1) for to in recipients])
    draft = Draft(outbound, False, S.ACCEPTED, frozenset(), 0, None)
    return [tuple(steps) for steps in planner.plan(draft).pending]


# --------------------------------------------------------------------------- the draws


def test_draws_are_uniform_in_the_open_unit_interval() -> None:
    values = draws(20_000)

    assert all(0.0 < value < 1.0 for value in values)
    assert abs(statistics.fmean(values) - 0.5) < 0.01
    # Each tenth holds about a tenth: no clumping from the hash.
    tenths = [sum(1 for v in values if k / 10 <= v < (k + 1) / 10) for k in range(10)]
    assert all(1_800 < count < 2_200 for count in tenths), tenths


def test_same_seed_and_key_give_the_same_draws_and_another_seed_others() -> None:
    first, again, other = (MessageDraws(seed, "447911123456", 3) for seed in (5, 5, 6))

    sequence = [first.random() for _ in range(5)]
    assert sequence == [again.random() for _ in range(5)]
    assert sequence != [other.random() for _ in range(5)]
    assert len(set(sequence)) == 5  # each draw of a message is its own


@pytest.mark.parametrize("seed", [1, 2, 3, 20261124])
def test_lognormal_delays_hold_their_median_and_p99(seed: int) -> None:
    delay = Lognormal(median_ms=3_000, tail_ms=40_000, tail_at=0.99)

    samples = [delay.sample(u) for u in draws(40_000, seed)]

    assert quantile(samples, 0.5) == pytest.approx(3_000, rel=0.04)
    assert quantile(samples, 0.99) == pytest.approx(40_000, rel=0.12)
    assert min(samples) > 0


def test_a_lognormal_p90_tail_holds_too() -> None:
    delay = Lognormal(median_ms=500, tail_ms=2_000, tail_at=0.90)

    samples = [delay.sample(u) for u in draws(40_000)]

    assert quantile(samples, 0.9) == pytest.approx(2_000, rel=0.05)


def test_uniform_delays_spread_evenly_between_min_and_max() -> None:
    samples = [Uniform(1_000, 5_000).sample(u) for u in draws(20_000)]

    assert 1_000 <= min(samples) < 1_050
    assert 4_950 < max(samples) <= 5_000
    assert statistics.fmean(samples) == pytest.approx(3_000, rel=0.02)


def test_exponential_delays_average_their_mean() -> None:
    samples = [Exponential(2_000).sample(u) for u in draws(40_000)]

    assert statistics.fmean(samples) == pytest.approx(2_000, rel=0.03)
    assert quantile(samples, 0.5) == pytest.approx(Exponential(2_000).median_ms, rel=0.04)


def test_max_clamps_every_draw_and_extremes_never_overflow() -> None:
    capped = Lognormal(3_000, 40_000, 0.99, cap_ms=10_000)
    wild = Lognormal(1, MAX_DURATION_MS, 0.99)  # from 1 ms to ten years at p99

    assert max(capped.sample(u) for u in draws(5_000)) == 10_000
    for unit in (2**-52, 0.5, 1 - 2**-52):
        assert 0 <= wild.sample(unit) <= MAX_DURATION_MS
        assert 0 <= Exponential(MAX_DURATION_MS).sample(unit) <= MAX_DURATION_MS


# --------------------------------------------------------------------------- planning

DRAWN = """\
seed: 99
default:
  lifecycle:
    - {status: Enroute, after: {uniform: {min: 1s, max: 2s}}}
    - {status: Delivered, after: {lognormal: {median: 3s, p99: 40s}, max: 5m}}
replies:
  - match: {}
    after: {exponential: {mean: 10s}}
    content: "OK"
"""


def test_same_scenario_and_seed_plan_the_same_delays_whatever_the_order() -> None:
    scenario = parse_scenario(DRAWN)
    recipients = [f"4479111{i:05d}" for i in range(50)]

    in_order = plan(ScenarioPlanner(scenario), *recipients)
    reversed_plan = plan(ScenarioPlanner(scenario), *reversed(recipients))

    # Keyed by recipient, not by a generator shared in request order.
    assert in_order == list(reversed(reversed_plan))
    enroute = [steps[0][1] for steps in in_order]
    assert all(1_000 <= after <= 2_000 for after in enroute)
    assert len(set(enroute)) > 40  # drawn, not fixed
    assert all(steps[1][0] is S.DELIVERED and steps[1][1] <= 300_000 for steps in in_order)


def test_a_recipients_next_message_draws_anew_and_a_reset_starts_over() -> None:
    planner = ScenarioPlanner(parse_scenario(DRAWN))

    first = plan(planner, "447911000001", "447911000001")
    later = plan(planner, "447911000001")
    planner.reseed()

    assert first[0] != first[1]  # the second message to a number is another message
    assert later[0] not in first
    assert plan(planner, "447911000001") == first[:1]


def test_another_seed_plans_other_delays() -> None:
    recipients = [f"4479111{i:05d}" for i in range(20)]
    seeded = plan(ScenarioPlanner(parse_scenario(DRAWN)), *recipients)
    other_seed = parse_scenario(DRAWN.replace("seed: 99", "seed: 100"))
    reseeded = plan(ScenarioPlanner(other_seed), *recipients)

    assert seeded != reseeded


def test_replies_draw_their_delay() -> None:
    planner = ScenarioPlanner(parse_scenario(DRAWN))
    outbound = Outbound.of(
        [OutboundSms(f"4479111{i:05d}", "Acme", "Hi", "GSM", 1) for i in range(30)]
    )
    replies = planner.plan(Draft(outbound, False, S.ACCEPTED, frozenset(), 0, None)).reply_plan

    delays = [reply[0] for reply in replies if reply is not None]
    assert len(delays) == 30 and len(set(delays)) == 30
    assert all(reply is not None and reply[1] == "OK" for reply in replies)


# --------------------------------------------------------------------------- byPrefix

PREFIXES = """\
seed: 3
lifecycles:
  delivered: [{status: Delivered, after: 1s}]
  expired: [{status: Expired, after: 1s}]
  rejected: [{status: Rejected, after: 1s}]
rules:
  - name: carriers
    match: {}
    byPrefix:
      44: delivered
      "+447": expired
      "4478": rejected
      "353": {delivered: 3, expired: 1}
      "1": [{weight: 1, lifecycle: [{status: Unknown, after: 2s}]}]
default:
  lifecycle: [{status: Undeliverable, after: 1s}]
"""


class Msg:
    def __init__(self, to: str) -> None:
        self.to, self.sender, self.content, self.is_test = to, "Acme", "Hi", False


@pytest.mark.parametrize(
    ("to", "status"),
    [
        ("441234567890", S.DELIVERED),  # only "44"
        ("447911123456", S.EXPIRED),  # "447" is longer than "44"
        ("447811123456", S.REJECTED),  # "4478" is longer than "447"
        ("12025550123", S.UNKNOWN),  # a list of outcomes
        ("4915112345678", S.UNDELIVERABLE),  # no prefix: the rule does not match, default does
    ],
)
def test_the_longest_prefix_decides(to: str, status: S) -> None:
    scenario = parse_scenario(PREFIXES)

    assert scenario.lifecycle_for(Msg(to), random.Random(0))[-1].status is status


def test_a_prefixes_weights_apply() -> None:
    scenario = parse_scenario(PREFIXES)
    rng = random.Random(1)

    finals = [scenario.lifecycle_for(Msg("353871234567"), rng)[-1].status for _ in range(4_000)]

    assert finals.count(S.DELIVERED) / len(finals) == pytest.approx(0.75, abs=0.03)
    assert set(finals) == {S.DELIVERED, S.EXPIRED}


def test_realistic_gives_each_country_its_mix() -> None:
    scenario = load_scenario("realistic")
    planner = ScenarioPlanner(scenario)

    def finals(prefix: str) -> list[S]:
        steps = plan(planner, *(f"{prefix}{i:06d}" for i in range(3_000)))
        return [s[-1][0] for s in steps]

    uk_mobile, uk_landline, us = finals("447911"), finals("441632"), finals("1202555")
    assert uk_mobile.count(S.DELIVERED) / 3_000 == pytest.approx(0.94, abs=0.02)
    assert uk_landline.count(S.UNDELIVERABLE) / 3_000 == pytest.approx(0.83, abs=0.03)
    assert us.count(S.REJECTED) / 3_000 == pytest.approx(0.03, abs=0.01)
    # Delays are drawn: carrier-like, mostly seconds with a tail.
    delivered = plan(planner, *(f"353871{i:06d}" for i in range(2_000)))
    totals = [s[0][1] + s[1][1] for s in delivered if s[-1][0] is S.DELIVERED]
    assert 2_500 < statistics.median(totals) < 5_500
    assert max(totals) > 20_000


# --------------------------------------------------------------------------- replay

REPLAY = """\
lifecycles:
  ok: [{status: Delivered, after: 1s}]
replay:
  then: THEN
  recorded:
    - {toPattern: "^44", lifecycle: ok}
    - {toPattern: "^1", lifecycle: [{status: Rejected, after: 2s}]}
    - {toPattern: "^44", lifecycle: [{status: Expired, after: 3s}]}
    - {toPattern: "^44", lifecycle: [{status: Undeliverable, after: 4s}]}
default:
  lifecycle: [{status: Unknown, after: 9s}]
"""


def test_the_nth_matching_message_gets_the_nth_recording_then_the_rules() -> None:
    planner = ScenarioPlanner(parse_scenario(REPLAY.replace("THEN", "rules")))

    first = plan(planner, "447911000001", "12025550123", "447911000002")
    second = plan(planner, "447911000003", "447911000004", "12025550123", "4915112345678")

    assert [steps[-1] for steps in first + second] == [
        (S.DELIVERED, 1_000),
        (S.REJECTED, 2_000),
        (S.EXPIRED, 3_000),
        (S.UNDELIVERABLE, 4_000),
        (S.UNKNOWN, 9_000),  # "^44" used up: the default
        (S.UNKNOWN, 9_000),  # "^1" used up
        (S.UNKNOWN, 9_000),  # no track
    ]


def test_a_cycling_replay_starts_over_and_a_reset_rewinds_it() -> None:
    planner = ScenarioPlanner(parse_scenario(REPLAY.replace("THEN", "cycle")))

    finals = [steps[-1][0] for steps in plan(planner, *["447911000001"] * 7)]
    planner.reseed()

    assert finals == [S.DELIVERED, S.EXPIRED, S.UNDELIVERABLE] * 2 + [S.DELIVERED]
    assert plan(planner, "447911000001")[0][-1][0] is S.DELIVERED


def test_the_shipped_replay_scenario_replays_its_recording() -> None:
    planner = ScenarioPlanner(load_scenario("replay"))

    uk = [steps[-1][0] for steps in plan(planner, *["447911123456"] * 13)]
    ie = [steps[-1][0] for steps in plan(planner, *["353871234567"] * 4)]

    run = [S.DELIVERED, S.DELIVERED, S.DELIVERED, S.EXPIRED, S.DELIVERED, S.UNDELIVERABLE]
    assert uk == run * 2 + [S.DELIVERED]
    assert ie == [S.DELIVERED, S.DELIVERED, S.REJECTED, S.DELIVERED]
    assert plan(planner, "447700900001")[0][-1][0] is S.UNDELIVERABLE  # magic numbers kept


# --------------------------------------------------------------------------- mistakes


def step_after(after: str) -> str:
    return f"default:\n  lifecycle:\n    - status: Delivered\n      after: {after}\n"


AFTER = "default.lifecycle[0].after"


@pytest.mark.parametrize(
    ("text", "path", "line", "reason"),
    [
        (step_after("{lognormal: {median: 3s}}"), f"{AFTER}.lognormal", 4, "one tail"),
        (step_after("{lognormal: {p99: 3s}}"), f"{AFTER}.lognormal.median", 4, "missing"),
        (
            step_after("{lognormal: {median: 3s, p99: 1s}}"),
            f"{AFTER}.lognormal.p99",
            4,
            "more than the median (3s)",
        ),
        (
            step_after("{lognormal: {median: 3s, p99: 3s}}"),
            f"{AFTER}.lognormal.p99",
            4,
            "more than the median",
        ),
        (
            step_after("{lognormal: {median: 0s, p99: 3s}}"),
            f"{AFTER}.lognormal.median",
            4,
            "more than 0",
        ),
        (
            step_after("{lognormal: {median: -3s, p99: 3s}}"),
            f"{AFTER}.lognormal.median",
            4,
            "negative",
        ),
        (
            step_after("{lognormal: {median: .nan, p99: 3s}}"),
            f"{AFTER}.lognormal.median",
            4,
            "not a duration",
        ),
        (
            step_after("{lognormal: {median: 3s, p99: 99999999d}}"),
            f"{AFTER}.lognormal.p99",
            4,
            "too long",
        ),
        (
            step_after("{lognormal: {median: 3s, p99: 1e400}}"),
            f"{AFTER}.lognormal.p99",
            4,
            "not a duration",
        ),
        (
            step_after("{lognormal: {median: 3s, p99: 9s, p95: 5s}}"),
            f"{AFTER}.lognormal",
            4,
            "one tail",
        ),
        (
            step_after("{lognormal: {median: 3s, p50: 9s}}"),
            f"{AFTER}.lognormal.p50",
            4,
            "unknown key",
        ),
        (
            step_after("{uniform: {min: 5s, max: 1s}}"),
            f"{AFTER}.uniform.max",
            4,
            "less than min (5s)",
        ),
        (step_after("{uniform: {min: 5s}}"), f"{AFTER}.uniform.max", 4, "missing"),
        (step_after("{exponential: {mean: 0}}"), f"{AFTER}.exponential.mean", 4, "more than 0"),
        (
            step_after("{exponential: {mean: 2s}, uniform: {min: 1s, max: 2s}}"),
            AFTER,
            4,
            "one distribution",
        ),
        (
            step_after("{lognormal: {median: 3s, p99: 9s}, max: 1s}"),
            f"{AFTER}.max",
            4,
            "below the median",
        ),
        (step_after("{max: 1s}"), AFTER, 4, "give one of lognormal, uniform, exponential"),
        (step_after("{gaussian: {mean: 1s}}"), AFTER, 4, "a distribution"),
        (step_after("{lognormal: [3s, 9s]}"), f"{AFTER}.lognormal", 4, "must be a mapping"),
        (
            "replies:\n  - match: {}\n    content: hi\n    after: {uniform: {min: 2s, max: 1s}}\n",
            "replies[0].after.uniform.max",
            4,
            "less than min",
        ),
        (
            "default:\n  outcomes:\n    - {weight: 1.0e+300, lifecycle: [{status: 2, after: 1}]}\n",
            "default.outcomes[0].weight",
            3,
            "at most 1,000,000,000",
        ),
        (
            "lifecycles:\n  ok: [{status: 2, after: 1}]\ndefault:\n  lifecycle: okay\n",
            "default.lifecycle",
            4,
            "unknown lifecycle 'okay' (did you mean 'ok'?)",
        ),
        ("default:\n  lifecycle: ok\n", "default.lifecycle", 2, "names no lifecycles"),
        (
            "lifecycles:\n  ok: [{status: Bogus, after: 1}]\n",
            "lifecycles.ok[0].status",
            2,
            "unknown status",
        ),
        ("lifecycles: [1]\n", "lifecycles", 1, "mapping of names"),
    ],
)
def test_each_realism_mistake_is_reported_where_it_is(
    text: str, path: str, line: int, reason: str
) -> None:
    problems = problems_of(text)

    assert [(p.path, p.line) for p in problems] == [(path, line)], problems
    assert reason in problems[0].reason


PREFIX_MISTAKES = """\
lifecycles:
  ok: [{status: Delivered, after: 1s}]
rules:
  - match: {}
    byPrefix:
      "447": {ok: 1, okk: 2}
      "44a": ok
      "+447": ok
      "353": {ok: 0}
      "1": {ok: 1000000000000}
      "7": missing
  - match: {}
    byPrefix: {}
  - match: {}
    lifecycle: ok
    byPrefix: {"44": ok}
"""


def test_prefix_table_mistakes_each_name_their_line() -> None:
    found = {(p.path, p.line): p.reason for p in problems_of(PREFIX_MISTAKES)}

    assert list(found) == [
        ("rules[0].byPrefix.447.okk", 6),
        ("rules[0].byPrefix", 7),
        ("rules[0].byPrefix.447", 8),
        ("rules[0].byPrefix.353.ok", 9),
        ("rules[0].byPrefix.1.ok", 10),
        ("rules[0].byPrefix.7", 11),
        ("rules[1].byPrefix", 13),
        ("rules[2]", 15),
    ]
    assert "did you mean 'ok'" in found[("rules[0].byPrefix.447.okk", 6)]
    assert "'44a' must be 1 to 15 digits" in found[("rules[0].byPrefix", 7)]
    assert "duplicate prefix '447' (first on line 6)" in found[("rules[0].byPrefix.447", 8)]
    assert "positive" in found[("rules[0].byPrefix.353.ok", 9)]
    assert "at most" in found[("rules[0].byPrefix.1.ok", 10)]
    assert "non-empty mapping" in found[("rules[1].byPrefix", 13)]
    assert "one of 'lifecycle', 'outcomes' or 'byPrefix'" in found[("rules[2]", 15)]


REPLAY_MISTAKES = """\
replay:
  then: forever
  recorded:
    - {toPattern: "(", lifecycle: [{status: Delivered, after: 1s}]}
    - {toPattern: "^44"}
    - {toPattern: "^44", lifecycle: [{status: Delivered, after: {uniform: {min: 2s, max: 1s}}}]}
    - toPattern: 44
      lifecycle: nope
"""


def test_replay_mistakes_each_name_their_line() -> None:
    found = [(p.path, p.line) for p in problems_of(REPLAY_MISTAKES)]

    assert found == [
        ("replay.then", 2),
        ("replay.recorded[0].toPattern", 4),
        ("replay.recorded[1].lifecycle", 5),
        ("replay.recorded[2].lifecycle[0].after.uniform.max", 6),
        ("replay.recorded[3].toPattern", 7),
        ("replay.recorded[3].lifecycle", 8),
    ]
    assert problems_of("replay: {recorded: []}\n")[0].reason.startswith("must not be empty")
