"""The planner: draws the fate of the messages a send is about to create.

``MessageService`` calls ``plan`` inside a send, before the messages are built, and
builds each message's steps, next due time and scripted reply into it, so the plan is
stored with the message. It is made before the service and the engine (which shares
it for the active scenario), so neither needs the other to exist first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from mock_puresms.domain.sending import Draft, Plans, Steps
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.simulation.scenarios import Lifecycle, Scenario


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
        self._rng = scenario.new_rng()
        self._steps_of: dict[int, tuple[Lifecycle, Steps]] = {}

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    def use_scenario(self, scenario: Scenario) -> None:
        """Make ``scenario`` active for messages accepted from now on."""
        self._scenario = scenario
        self._rng = scenario.new_rng()

    def reseed(self) -> None:
        """Start the active scenario's draws over (a reset)."""
        self._rng = self._scenario.new_rng()

    def _steps(self, lifecycle: Lifecycle) -> Steps:
        # One shared tuple per lifecycle object: scripts are grouped by identity.
        known = self._steps_of.get(id(lifecycle))
        if known is None or known[0] is not lifecycle:
            known = (lifecycle, tuple((step.status, step.after_ms) for step in lifecycle))
            self._steps_of[id(lifecycle)] = known
        return known[1]

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
        rng = self._rng
        has_replies = bool(scenario.replies)
        for index in individual:
            if index in draft.skipped:
                plans.pending[index], plans.next_due[index] = (), None
                continue
            facts = _Facts(
                outbound.to[index], outbound.sender[index], outbound.content[index], draft.is_test
            )
            steps = self._steps(scenario.lifecycle_for(facts, rng))
            plans.pending[index] = steps
            plans.next_due[index] = self._first_due(draft, steps) if steps else None
            if has_replies:
                # What a reply rule matches never changes, so the reply is decided now.
                rule = scenario.reply_for(facts)
                if rule is not None:
                    plans.reply_plan[index] = (rule.after_ms, rule.content)
        return plans

    @staticmethod
    def _first_due(draft: Draft, steps: Steps) -> int:
        if draft.status is DeliveryStatus.SCHEDULED and draft.send_at is not None:
            return draft.send_at
        return draft.created_at + steps[0][1]
