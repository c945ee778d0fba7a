"""The simulation: gives each accepted message its scripted lifecycle and its replies.

It subscribes to domain events and schedules work on the scheduler; it changes state
only through the domain services, so every change is published like any other.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import partial

from mock_puresms.domain.events import Event, MessagesCreated, StatusChanged
from mock_puresms.domain.inbound import ReplyService
from mock_puresms.domain.messages import Message
from mock_puresms.domain.sending import MessageService
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.simulation.scenarios import Lifecycle, Scenario
from mock_puresms.simulation.scheduler import Scheduler

_SIMULATED = frozenset({DeliveryStatus.ACCEPTED, DeliveryStatus.SCHEDULED})


class _Script:
    """The remaining steps of one lifecycle, shared by the messages of one request
    that drew it: a 15,000-message bulk send is a handful of scheduler entries."""

    __slots__ = ("account_id", "generation", "lifecycle", "messages", "scenario", "step")

    def __init__(
        self,
        messages: list[Message],
        lifecycle: Lifecycle,
        scenario: Scenario,
        generation: int,
    ) -> None:
        self.messages = messages
        self.account_id = messages[0].account_id
        self.generation = generation
        self.lifecycle = lifecycle
        self.scenario = scenario
        self.step = 0


class SimulationEngine:
    """Drives messages through the active scenario on the scheduler's clock."""

    def __init__(
        self,
        scheduler: Scheduler,
        messages: MessageService,
        replies: ReplyService,
        scenario: Scenario,
    ) -> None:
        self._scheduler = scheduler
        self._messages = messages
        self._replies = replies
        self._scenario = scenario
        self._rng = self._new_rng(scenario)
        # Messages whose script was dropped (a forced status) while steps were pending.
        self._detached: set[str] = set()
        # Which scenario scripted each in-flight message, for its scripted replies.
        self._scripted_by: dict[str, Scenario] = {}
        # Bumped when an account is reset, so its pending scripts and replies lapse.
        self._generations: dict[str, int] = {}

    @staticmethod
    def _new_rng(scenario: Scenario) -> random.Random:
        return random.Random(scenario.seed) if scenario.seed is not None else random.Random()

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    def use_scenario(self, scenario: Scenario) -> None:
        """Make ``scenario`` active for messages accepted from now on."""
        self._scenario = scenario
        self._rng = self._new_rng(scenario)

    def reset(self) -> None:
        """Forget every script (the scheduler is cleared by the caller) and reseed."""
        self._detached.clear()
        self._scripted_by.clear()
        self._rng = self._new_rng(self._scenario)

    def forget_account(self, account_id: str) -> None:
        """Let the pending scripts and scripted replies of one account lapse."""
        self._generations[account_id] = self._generations.get(account_id, 0) + 1

    def _generation(self, account_id: str) -> int:
        return self._generations.get(account_id, 0)

    def detach(self, message: Message) -> None:
        """Drop the rest of a message's script: a status was forced on it."""
        # Scripts skip final messages anyway; only a forced non-final status needs noting.
        if not message.is_final:
            self._detached.add(message.reference)

    def __call__(self, event: Event) -> None:
        if isinstance(event, MessagesCreated):
            self._on_created(event.messages)
        elif isinstance(event, StatusChanged) and event.status is DeliveryStatus.DELIVERED:
            self._on_delivered(event.message, event.at)

    def _on_created(self, messages: Sequence[Message]) -> None:
        scenario = self._scenario
        rng = self._rng
        # One script per (start time, lifecycle): the messages of one request share their
        # start, so a bulk send becomes one script per distinct outcome.
        scripts: dict[tuple[int, int], _Script] = {}
        # Draw in request order so the same requests give the same outcomes.
        for message in messages:
            if message.status not in _SIMULATED:
                continue
            lifecycle = scenario.lifecycle_for(message, rng)
            key = (self._start_of(message), id(lifecycle))
            script = scripts.get(key)
            if script is None:
                generation = self._generation(message.account_id)
                scripts[key] = _Script([message], lifecycle, scenario, generation)
            else:
                script.messages.append(message)
            if scenario.replies and scenario.reply_for(message) is not None:
                # What a reply rule matches never changes, so decide now which messages
                # can be answered; only those are remembered until delivery.
                self._scripted_by[message.reference] = scenario
        for (start, _), script in scripts.items():
            if script.messages[0].status is DeliveryStatus.SCHEDULED:
                self._scheduler.at(start, partial(self._accept, script))
            else:
                self._schedule_next(script, start)

    @staticmethod
    def _start_of(message: Message) -> int:
        if message.status is DeliveryStatus.SCHEDULED and message.send_at is not None:
            return message.send_at
        return message.created_at

    def _schedule_next(self, script: _Script, previous: int) -> None:
        if script.step < len(script.lifecycle) and script.messages:
            step = script.lifecycle[script.step]
            self._scheduler.at(previous + step.after_ms, partial(self._run_step, script))
        else:
            self._finish(script)

    async def _accept(self, script: _Script, due: int) -> None:
        live = self._live(script)
        await self._messages.advance_statuses(
            [m for m in live if m.status is DeliveryStatus.SCHEDULED], DeliveryStatus.ACCEPTED, due
        )
        script.messages = [m for m in live if m.status is DeliveryStatus.ACCEPTED]
        self._schedule_next(script, due)

    async def _run_step(self, script: _Script, due: int) -> None:
        step = script.lifecycle[script.step]
        script.step += 1
        script.messages = self._live(script)
        await self._messages.advance_statuses(script.messages, step.status, due)
        self._schedule_next(script, due)

    def _live(self, script: _Script) -> list[Message]:
        """The script's messages still following it: not final, not forced elsewhere."""
        if script.generation != self._generation(script.account_id):
            return []
        detached = self._detached
        live = []
        for message in script.messages:
            if message.reference in detached or message.status.is_final:
                detached.discard(message.reference)
                self._scripted_by.pop(message.reference, None)
            else:
                live.append(message)
        return live

    def _finish(self, script: _Script) -> None:
        for message in script.messages:
            self._detached.discard(message.reference)
            if message.status is not DeliveryStatus.DELIVERED:
                self._scripted_by.pop(message.reference, None)

    def _on_delivered(self, message: Message, at: int) -> None:
        scenario = self._scripted_by.pop(message.reference, None)
        if scenario is None:
            return
        rule = scenario.reply_for(message)
        if rule is None:
            return
        account_id, phone, sender, content = (
            message.account_id,
            message.to,
            message.sender,
            rule.content,
        )

        generation = self._generation(account_id)

        async def reply(due: int) -> None:
            if generation == self._generation(account_id):
                await self._replies.receive(
                    account_id, phone, sender, content, due, answering=message
                )

        self._scheduler.at(at + rule.after_ms, reply)
