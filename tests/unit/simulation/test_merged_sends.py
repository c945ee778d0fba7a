"""The engine's ``merge_window_ms`` (on for the real clock) held to the plain engine: sends
due within the window share one script; each message still goes through the same
statuses, at the same times when its send was alone or due at the same instant as the
others, and never earlier nor a window later otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.contacts import ContactService
from mock_puresms.domain.events import Event, EventBus, StatusChanged, StatusesChanged
from mock_puresms.domain.inbound import ReplyService
from mock_puresms.domain.messages import Message
from mock_puresms.domain.sending import MessageService, Outbound, OutboundSms
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.simulation.clock import VirtualClock
from mock_puresms.simulation.engine import SimulationEngine
from mock_puresms.simulation.planner import ScenarioPlanner
from mock_puresms.simulation.scenarios import parse_scenario
from mock_puresms.simulation.scheduler import Scheduler
from mock_puresms.storage.memory import MemoryStore

START = 1_700_000_000_000
STUCK = "447700900005"
SCENARIO = f"""
name: merge-test
seed: 3
rules:
  - match: {{to: "{STUCK}"}}
    lifecycle: [{{status: Enroute, after: 1s}}]
default:
  lifecycle: [{{status: Enroute, after: 1s}}, {{status: Delivered, after: 2s}}]
"""


@dataclass
class Sim:
    clock: VirtualClock
    scheduler: Scheduler
    messages: MessageService
    engine: SimulationEngine
    store: MemoryStore
    receipts: list[tuple[str, DeliveryStatus, int]] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)
    most_scheduled: int = 0

    def record(self, event: Event) -> None:
        if isinstance(event, StatusChanged | StatusesChanged):
            changes = event.each() if isinstance(event, StatusesChanged) else [event]
            self.receipts += [(c.message.to, c.status, c.at - START) for c in changes]

    async def send(self, *phones: str, account: str = "acct", send_at: int | None = None) -> None:
        outbound = Outbound.of([OutboundSms(to, "Acme", "Hi", "GSM7", 1) for to in phones])
        self.sent += await self.messages.send(
            Account(account, account), outbound, is_test=False, send_at=send_at
        )
        self.most_scheduled = max(self.most_scheduled, len(self.scheduler))

    def histories(self) -> list[list[tuple[str, DeliveryStatus, int]]]:
        return [[(m.to, e.status, e.at - START) for e in m.history] for m in self.sent]


def sim(window: int) -> Sim:
    clock = VirtualClock(start=START)
    scheduler = Scheduler(clock)
    store = MemoryStore()
    events = EventBus()
    planner = ScenarioPlanner(parse_scenario(SCENARIO))
    messages = MessageService(store, events, clock.now, planner.plan)
    replies = ReplyService(store, events, ContactService(store, clock.now))
    engine = SimulationEngine(scheduler, messages, replies, planner, merge_window_ms=window)
    events.subscribe(engine)
    result = Sim(clock, scheduler, messages, engine, store)
    events.subscribe(result.record)
    return result


async def story(s: Sim) -> None:
    """Sends at one instant and at the next, a bulk among them, another account, a
    scheduled send, a forced status change before the first step, and a reset."""
    for index in range(5):
        await s.send(f"4477009001{index:02d}")
    await s.send("447700900200", "447700900201", STUCK)
    await s.send("447700900300", account="other")
    await s.send("447700900301", send_at=START + 500)
    await s.send(STUCK)
    await s.scheduler.advance(1)
    await s.send("447700900400")
    await s.send("447700900401")
    await s.messages.change_status(s.sent[1], DeliveryStatus.UNDELIVERABLE, s.clock.now())
    await s.scheduler.advance(1500)
    await s.send("447700900500")
    await s.send("447700900501")
    await s.scheduler.advance(5000)
    s.engine.reset()
    s.scheduler.clear()
    await s.send("447700900600")
    await s.send("447700900601")
    await s.scheduler.advance(5000)


def both(story: Callable[[Sim], Awaitable[None]], window: int = 1) -> tuple[Sim, Sim]:
    plain, merged = sim(0), sim(window)
    asyncio.run(story(plain))
    asyncio.run(story(merged))
    return plain, merged


def test_sends_merged_at_one_instant_have_the_plain_histories_and_receipts() -> None:
    plain, merged = both(story)

    assert merged.histories() == plain.histories()
    assert merged.receipts == plain.receipts
    # Not vacuous: the plain engine took a scheduler entry per send (and per lifecycle
    # in the mixed bulk); merged, the five single sends of the first instant took one.
    assert (plain.most_scheduled, merged.most_scheduled) == (12, 7)
    # Every message ran its whole lifecycle (the ones after the reset too).
    finals = [h[-1][1] for h in merged.histories()]
    assert finals.count(DeliveryStatus.DELIVERED) == len(finals) - 3  # 2 stuck, 1 forced


def test_merged_sends_share_one_history_and_one_due_time() -> None:
    async def same_instant(s: Sim) -> None:
        for index in range(4):
            await s.send(f"4477009001{index:02d}")
        await s.scheduler.advance(3000)

    plain, merged = both(same_instant, window=10)

    assert merged.histories() == plain.histories()
    first = merged.sent[0]
    assert all(m.history is first.history for m in merged.sent)
    assert len({id(m.history) for m in plain.sent}) == 4


def test_sends_merged_in_a_window_step_when_the_last_is_due_never_earlier() -> None:
    async def spread(s: Sim) -> None:
        await s.send("447700900100")  # alone in its window: exact times
        await s.scheduler.advance(20)
        for index in range(6):  # one every 3 ms: two windows of 10 ms
            await s.send(f"4477009002{index:02d}")
            await s.send(f"4477009003{index:02d}", account="other")
            await s.scheduler.advance(3)
        await s.send("447700900400", STUCK)  # a mixed send: scripts of its own
        await s.scheduler.advance(5000)

    plain, merged = both(spread, window=10)

    assert merged.histories()[0] == plain.histories()[0]
    for mine, theirs in zip(merged.histories(), plain.histories(), strict=True):
        assert [status for _, status, _ in mine] == [status for _, status, _ in theirs]
        lateness = [a - b for (_, _, a), (_, _, b) in zip(mine, theirs, strict=True)]
        assert all(0 <= late < 10 for late in lateness), lateness
    assert sorted(r[:2] for r in merged.receipts) == sorted(r[:2] for r in plain.receipts)
    # The sends of each account's window stepped as one: four windows, and the lone send
    # and the mixed send's two scripts, against a script per send.
    assert (plain.most_scheduled, merged.most_scheduled) == (15, 7)
