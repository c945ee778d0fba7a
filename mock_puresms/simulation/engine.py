"""The simulation: gives each accepted message its scripted lifecycle and its replies.

The planner (``simulation.planner``) runs inside a send, before the messages are built:
it draws each message's lifecycle and the send builds it into the message
(``pending``, ``next_due``, ``reply_plan``), so the plan is stored with the message and
a durable store can ``resume`` it after a restart. Events then schedule the steps. The
engine changes state only through the domain services, so every change is published
like any other.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from itertools import compress, repeat
from operator import attrgetter, is_
from typing import NamedTuple

from mock_puresms.domain.events import Event, MessagesCreated, StatusChanged, StatusesChanged
from mock_puresms.domain.inbound import ReplyService
from mock_puresms.domain.messages import Message, Routing
from mock_puresms.domain.sending import MessageService, Steps
from mock_puresms.domain.statuses import FINAL_STATUSES, DeliveryStatus
from mock_puresms.simulation.planner import ScenarioPlanner
from mock_puresms.simulation.scenarios import Scenario
from mock_puresms.simulation.scheduler import Scheduler

# Enum attribute access is slow on Python 3.11, and this is checked per status change.
_DELIVERED = DeliveryStatus.DELIVERED

_HISTORY = attrgetter("history")
_PENDING = attrgetter("pending")
_STATUS = attrgetter("status")
_REPLY_PLAN = attrgetter("reply_plan")


class _Script:
    """Messages that follow the same remaining steps, due at the same time.

    The messages of one request that drew the same lifecycle share one script, so a
    15,000-message bulk send is a handful of scheduler entries. A message follows the
    script while its ``pending`` is the script's very ``steps`` object: forcing a status
    clears it (``MessageService.change_status``), which detaches the message. The engine
    only counts such outside changes, and looks at a script's messages again after one.
    """

    __slots__ = (
        "account_id",
        "checked_at",
        "generation",
        "latest",
        "messages",
        "routing",
        "steps",
        "together",
    )

    def __init__(
        self, account_id: str, steps: Steps, generation: int, routing: Routing | None = None
    ) -> None:
        self.messages: list[Message] = []
        # What the script's messages are known to share (they came from one send).
        self.routing = routing
        self.steps = steps
        self.account_id = account_id
        self.generation = generation
        # The engine's count of outside status changes when every message was last
        # seen to follow the script (-1: never).
        self.checked_at = -1
        # Whether the messages have shared one history tuple since they were created
        # (one send's messages do; those loaded after a restart need not).
        self.together = False
        # When the last of its messages falls due, once sends have joined the script
        # (``merge_window_ms``): it waits for them until then.
        self.latest = 0


ScriptStep = Callable[[_Script, int], Awaitable[None]]


class _Open(NamedTuple):
    """A script sends may still join (``merge_window_ms``), and when it was first due."""

    script: _Script
    due: int


class SimulationEngine:
    """Drives messages through the active scenario on the scheduler's clock."""

    def __init__(
        self,
        scheduler: Scheduler,
        messages: MessageService,
        replies: ReplyService,
        planner: ScenarioPlanner,
        *,
        merge_window_ms: int = 0,
    ) -> None:
        self._scheduler = scheduler
        self._messages = messages
        self._replies = replies
        # The planner ``messages`` was built with: it holds the active scenario.
        self._planner = planner
        # Bumped when an account is reset, so its pending scripts and replies lapse.
        self._generations: dict[str, int] = {}
        # Status changes the engine did not make (forced, cancelled, skipped): only
        # they can take a message off its script. While there are none, a script's
        # messages need no second look (``_live``).
        self._outside_changes = 0
        self._own_step: Sequence[Message] | None = None
        # ``merge_window_ms`` (the real clock): a send whose messages fall due less than
        # that long after the previous send's, on the same steps, joins that send's
        # script instead of scheduling its own, and the script runs when its last
        # member is due. Under load many sends land within a few milliseconds, and each
        # script step costs a store write and an event whatever its size. A send alone
        # in its window keeps its exact times; one that joins may see its steps taken
        # up to the window later (as the real clock may be late anyway), and its history
        # says when they were taken. 0: every send has its own script.
        self._merge_window = merge_window_ms
        # Per account, steps and first status: the last script made, until it runs.
        self._open: dict[tuple[str, int, DeliveryStatus], _Open] = {}

    @property
    def scenario(self) -> Scenario:
        return self._planner.scenario

    def use_scenario(self, scenario: Scenario) -> None:
        """Make ``scenario`` active for messages accepted from now on."""
        self._planner.use_scenario(scenario)

    def reset(self) -> None:
        """Reseed (the scheduler is cleared by the caller)."""
        self._planner.reseed()
        self._generations = {key: value + 1 for key, value in self._generations.items()}
        self._open.clear()  # the scheduler no longer holds them

    def forget_account(self, account_id: str) -> None:
        """Let the pending scripts and scripted replies of one account lapse."""
        self._generations[account_id] = self._generations.get(account_id, 0) + 1
        self._open.clear()

    def _generation(self, account_id: str) -> int:
        return self._generations.get(account_id, 0)

    # -- scheduling -----------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if isinstance(event, MessagesCreated):
            self._schedule_created(event.messages, event.routing)
        elif type(event) is StatusChanged:
            self._outside_changes += 1
            if event.status is _DELIVERED:
                self._on_delivered(event.message, event.at)
        elif type(event) is StatusesChanged:
            if event.messages is not self._own_step:
                self._outside_changes += 1
            if event.status is _DELIVERED:
                # Only the messages with a scripted reply, picked out in C.
                for message in compress(event.messages, map(_REPLY_PLAN, event.messages)):
                    self._on_delivered(message, event.at)

    def resume(self, messages: Sequence[Message]) -> None:
        """Schedule the planned steps (and owed scripted replies) of these messages."""
        scripts: dict[tuple[str, int, Steps], _Script] = {}
        for message in messages:
            if message.is_final:
                continue
            if message.next_due is not None and message.pending:
                # Grouping by value re-shares the steps of messages loaded from disk.
                key = (message.account_id, message.next_due, message.pending)
                script = scripts.get(key)
                if script is None:
                    generation = self._generation(message.account_id)
                    script = scripts[key] = _Script(message.account_id, message.pending, generation)
                message.pending = script.steps
                script.messages.append(message)
        for (_, due, _), script in scripts.items():
            if script.messages[0].status is DeliveryStatus.SCHEDULED:
                self._scheduler.at(due, partial(self._accept, script))
            else:
                self._scheduler.at(due, partial(self._run_step, script))

    def _schedule_created(self, messages: Sequence[Message], routing: Routing | None) -> None:
        """Schedule the messages of one send.

        They share the account, the creation time and the initial status, so messages
        that share their steps object share the due time too (``plan``). The usual bulk
        shares one, which one C-level scan confirms, and becomes one script.
        """
        first = messages[0] if messages else None
        if (
            first is None
            or not first.pending
            or first.next_due is None
            or not all(map(is_, map(_PENDING, messages), repeat(first.pending)))
        ):
            self.resume(messages)
            return
        generation = self._generation(first.account_id)
        # One send's messages share their first history tuple (``MessageService.send``),
        # and all follow the script in their first status, as just checked.
        together = all(map(is_, map(_HISTORY, messages), repeat(first.history)))
        if self._merge_window and self._joined(first, messages, routing, generation, together):
            return
        script = _Script(first.account_id, first.pending, generation, routing)
        script.together = together
        script.checked_at = self._outside_changes
        script.messages = list(messages)
        run = self._accept if first.status is DeliveryStatus.SCHEDULED else self._run_step
        self._scheduler.at(first.next_due, partial(run, script))
        if self._merge_window:
            key = (first.account_id, id(first.pending), first.status)
            self._open[key] = _Open(script, first.next_due)

    def _joined(
        self,
        first: Message,
        messages: Sequence[Message],
        routing: Routing | None,
        generation: int,
        together: bool,
    ) -> bool:
        """Add one send's messages (all on ``first``'s steps) to the open script when
        it has not run yet and they fall due within the window, on the same steps, in
        the same first status; whether they were added."""
        due = first.next_due
        found = self._open.get((first.account_id, id(first.pending), first.status))
        if (
            found is None
            or due is None
            or found.script.steps is not first.pending
            or not found.due <= due < found.due + self._merge_window
            or found.script.generation != generation
        ):
            return False
        script = found.script
        shared = script.messages[0]
        if script.routing != routing:
            script.routing = None  # no longer known to be shared
        # Still one history tuple when the sends share theirs (``MessageService.send``
        # reuses it for sends at the same instant).
        script.together = together and script.together and first.history is shared.history
        if due > script.latest:
            script.latest = due
        script.messages.extend(messages)
        return True

    def _postponed(self, script: _Script, due: int, run: ScriptStep) -> bool:
        """Whether the open script, falling due, waits for a member due later; it then
        runs when that one is due (and becomes a plain script once it runs)."""
        if script.latest > due:
            self._scheduler.at(script.latest, partial(run, script))
            return True
        if self._open:
            key = (script.account_id, id(script.steps), script.messages[0].status)
            found = self._open.get(key)
            if found is not None and found.script is script:
                del self._open[key]  # it runs: too late to join
        return False

    def resume_replies(self, messages: Iterable[Message]) -> None:
        """Schedule the scripted replies owed by delivered messages (after a restart)."""
        for message in messages:
            if message.reply_plan is not None and message.status is DeliveryStatus.DELIVERED:
                delivered_at = next(
                    entry.at
                    for entry in reversed(message.history)
                    if entry.status is DeliveryStatus.DELIVERED
                )
                self._on_delivered(message, delivered_at)

    def _live(self, script: _Script, status: DeliveryStatus | None = None) -> list[Message]:
        """The script's messages still following it (and in ``status``, when given)."""
        if script.generation != self._generation(script.account_id):
            return []
        steps, messages = script.steps, script.messages
        if script.checked_at == self._outside_changes:
            return messages  # nothing but the engine changed a status since the last look
        script.checked_at = self._outside_changes
        # Usually every message still follows: C-level scans say so without a loop.
        statuses = set(map(_STATUS, messages))
        if (
            all(map(is_, map(_PENDING, messages), repeat(steps)))
            and statuses.isdisjoint(FINAL_STATUSES)
            and (status is None or statuses <= {status})
        ):
            return messages
        return [
            m
            for m in messages
            if m.pending is steps
            and m.status not in FINAL_STATUSES
            and (status is None or m.status is status)
        ]

    def _advance_plan(self, live: list[Message], script: _Script, due: int, rest: Steps) -> None:
        next_due = due + rest[0][1] if rest else None
        deque(map(setattr, live, repeat("pending"), repeat(rest)), maxlen=0)
        deque(map(setattr, live, repeat("next_due"), repeat(next_due)), maxlen=0)
        script.messages = live
        script.steps = rest
        if next_due is not None and live:
            self._scheduler.at(next_due, partial(self._run_step, script))

    async def _accept(self, script: _Script, due: int) -> None:
        """A scheduled send falls due: Accepted now, its lifecycle counts from here."""
        if self._postponed(script, due, self._accept):
            return
        live = self._live(script, DeliveryStatus.SCHEDULED)
        self._advance_plan(live, script, due, script.steps)
        await self._step(live, DeliveryStatus.ACCEPTED, due, script)

    async def _run_step(self, script: _Script, due: int) -> None:
        if self._postponed(script, due, self._run_step):
            return
        live = self._live(script)
        status = script.steps[0][0]
        # The plan moves on before the change is saved, so both are stored together.
        self._advance_plan(live, script, due, script.steps[1:])
        await self._step(live, status, due, script)

    async def _step(
        self, live: list[Message], status: DeliveryStatus, due: int, script: _Script
    ) -> None:
        """Move a script's live messages on; the event it publishes is the engine's own.

        ``_live`` left no final message among them, and those of a script that moved
        together since creation still share one history tuple.
        """
        self._own_step = live
        try:
            await self._messages.advance_statuses(
                live, status, due, script.routing, together=script.together
            )
        finally:
            self._own_step = None

    def _on_delivered(self, message: Message, at: int) -> None:
        plan = message.reply_plan
        if plan is None:
            return
        after_ms, content = plan
        account_id = message.account_id
        generation = self._generation(account_id)

        async def reply(due: int) -> None:
            if generation != self._generation(account_id) or message.reply_plan is None:
                return
            # The reply is stored before its plan is cleared: a crash in between repeats
            # the reply after a restart rather than losing it.
            await self._replies.receive(
                account_id, message.to, message.sender, content, due, answering=message
            )
            message.reply_plan = None
            await self._messages.save(message)

        self._scheduler.at(at + after_ms, reply)
