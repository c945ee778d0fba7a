"""The planner: draws the fate of the messages a send is about to create.

``MessageService`` calls ``plan`` inside a send, before the messages are built, and
builds each message's steps, next due time and scripted reply into it, so the plan is
stored with the message. It is made before the service and the engine (which shares
it for the active scenario), so neither needs the other to exist first.

Every draw of a message (its weighted outcome, delays drawn from distributions, its
reply's delay) comes from :class:`.MessageDraws` keyed by the scenario's seed, the
recipient and how many messages that recipient had before: repeatable without a
generator shared between messages. Those counts, and the replay's, start over when a
scenario is made active and on a reset (not across a restart with ``--db``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import NamedTuple

from mock_puresms.domain.sending import Draft, Plans, Steps
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.simulation.scenarios import Lifecycle, Scenario
from mock_puresms.simulation.scenarios.distributions import MessageDraws

MAX_COUNTED_RECIPIENTS = 100_000
"""Recipients whose message counts are kept; past it every count starts over (still
repeatable: it happens at the same message on every server), bounding the memory to
about 10 MB."""


class _Facts(NamedTuple):
    """What a scenario rule matches on, for a message not built yet."""

    to: str
    sender: str
    content: str
    is_test: bool


class ScenarioPlanner:
    """Plans messages by the active scenario, with its seeded random draws."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._steps_of: dict[int, tuple[Lifecycle, Steps | None]] = {}
        self.reseed()

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    def use_scenario(self, scenario: Scenario) -> None:
        """Make ``scenario`` active for messages accepted from now on."""
        self._scenario = scenario
        self.reseed()

    def reseed(self) -> None:
        """Start the active scenario's draws over (a reset)."""
        seed = self._scenario.seed
        self._seed = random.getrandbits(64) if seed is None else seed
        self._sent_to: dict[str, int] = {}
        self._replayed: dict[int, int] = {}

    def _steps(self, lifecycle: Lifecycle, draws: MessageDraws | None = None) -> Steps:
        # One shared tuple per fixed lifecycle object: scripts are grouped by identity.
        known = self._steps_of.get(id(lifecycle))
        if known is None or known[0] is not lifecycle:
            fixed = all(step.delay is None for step in lifecycle)
            steps = tuple((step.status, step.after_ms) for step in lifecycle) if fixed else None
            known = (lifecycle, steps)
            self._steps_of[id(lifecycle)] = known
        if known[1] is not None or draws is None:
            return known[1] or tuple((step.status, step.after_ms) for step in lifecycle)
        return tuple(
            (
                step.status,
                step.after_ms if step.delay is None else step.delay.sample(draws.random()),
            )
            for step in lifecycle
        )

    def _draws(self, to: str) -> MessageDraws:
        """The draws of the next message to ``to``."""
        sent_to = self._sent_to
        count = sent_to.get(to, 0)
        if count == 0 and len(sent_to) >= MAX_COUNTED_RECIPIENTS:
            sent_to.clear()
        sent_to[to] = count + 1
        return MessageDraws(self._seed, to, count)

    def _replayed_lifecycle(self, to: str) -> Lifecycle | None:
        replay = self._scenario.replay
        if replay is None:
            return None
        track = replay.track_of(to)
        if track is None:
            return None
        count = self._replayed.get(track, 0)
        self._replayed[track] = count + 1
        return replay.lifecycle(track, count)

    def plan(self, draft: Draft) -> Plans:
        """Draw the fate of the messages a send is about to create, in request order
        (repeatable): their steps, when the first is due, and their scripted reply."""
        scenario = self._scenario
        outbound = draft.outbound
        count = len(outbound)
        common = scenario.common_lifecycle
        steps = self._steps(common) if common is not None else ()
        if steps:
            # Everyone gets the common fate in one pass; only the recipients a rule
            # names, and skipped messages, are looked at one by one below.
            due = self._first_due(draft, steps)
            plans = Plans([steps] * count, [due] * count, [None] * count)
        else:
            plans = Plans.nothing(count)
        individual: Iterable[int] = range(count)
        if common is not None:
            named = scenario.named_recipients
            if named.isdisjoint(outbound.to):
                individual = sorted(draft.skipped)
            else:
                chosen = {i for i, to in enumerate(outbound.to) if to in named}
                individual = sorted(chosen.union(draft.skipped))  # draws in request order
        has_replies = bool(scenario.replies)
        for index in individual:
            if index in draft.skipped:
                plans.pending[index], plans.next_due[index] = (), None
                continue
            facts = _Facts(
                outbound.to[index], outbound.sender[index], outbound.content[index], draft.is_test
            )
            draws = self._draws(facts.to)
            lifecycle = self._replayed_lifecycle(facts.to)
            if lifecycle is None:
                lifecycle = scenario.lifecycle_for(facts, draws)
            steps = self._steps(lifecycle, draws)
            plans.pending[index] = steps
            plans.next_due[index] = self._first_due(draft, steps) if steps else None
            if has_replies:
                # What a reply rule matches never changes, so the reply is decided now.
                rule = scenario.reply_for(facts)
                if rule is not None:
                    after_ms = rule.after_ms
                    if rule.delay is not None:
                        after_ms = rule.delay.sample(draws.random())
                    plans.reply_plan[index] = (after_ms, rule.content)
        return plans

    @staticmethod
    def _first_due(draft: Draft, steps: Steps) -> int:
        if draft.status is DeliveryStatus.SCHEDULED and draft.send_at is not None:
            return draft.send_at
        return draft.created_at + steps[0][1]
