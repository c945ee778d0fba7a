"""The simulation engine in process: scripted lifecycles on the virtual clock.

The parts are wired as ``app.build_mock`` wires them (a ``MessageService`` on a
``MemoryStore``, an ``EventBus``, the engine planning sends and subscribed to the bus),
with a scenario parsed from YAML text; ``Simulation`` is the one place that does it.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from mock_puresms.domain.accounts import Account
from mock_puresms.domain.contacts import ContactService
from mock_puresms.domain.events import (
    Event,
    EventBus,
    ReplyReceived,
    StatusChanged,
    StatusesChanged,
)
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
ACCEPTED = DeliveryStatus.ACCEPTED
SCHEDULED = DeliveryStatus.SCHEDULED
ENROUTE = DeliveryStatus.ENROUTE
DELIVERED = DeliveryStatus.DELIVERED
UNDELIVERABLE = DeliveryStatus.UNDELIVERABLE

STUCK = "447700900005"  # goes Enroute and stays there
ANSWERS = "447700900006"  # delivered sooner, then replies
COIN = "447700900300"  # a seeded draw between two outcomes
SCENARIO = f"""
name: engine-test
seed: 7
rules:
  - match: {{to: "{STUCK}"}}
    lifecycle: [{{status: Enroute, after: 1s}}]
  - match: {{to: "{ANSWERS}"}}
    lifecycle: [{{status: Enroute, after: 1s}}, {{status: Delivered, after: 2s}}]
  - match: {{to: "{COIN}"}}
    outcomes:
      - weight: 1
        lifecycle: [{{status: Delivered, after: 1s}}]
      - weight: 1
        lifecycle: [{{status: Undeliverable, after: 1s}}]
default:
  lifecycle: [{{status: Enroute, after: 1s}}, {{status: Delivered, after: 10s}}]
replies:
  - match: {{to: "{ANSWERS}"}}
    after: 5s
    content: "OK"
"""


@dataclass
class Simulation:
    """The engine and the parts it drives; ``receipts`` and ``replies`` log what the
    bus published (times from ``START``)."""

    clock: VirtualClock
    scheduler: Scheduler
    store: MemoryStore
    messages: MessageService
    engine: SimulationEngine
    receipts: list[tuple[str, DeliveryStatus, int]] = field(default_factory=list)
    replies: list[tuple[str | None, str, int]] = field(default_factory=list)

    def record(self, event: Event) -> None:
        if isinstance(event, StatusChanged | StatusesChanged):
            changes = event.each() if isinstance(event, StatusesChanged) else [event]
            self.receipts += [(c.message.to, c.status, c.at - START) for c in changes]
        elif isinstance(event, ReplyReceived):
            reply = event.reply
            self.replies.append((reply.in_reply_to, reply.content, reply.received_at - START))

    async def send(
        self, *phones: str, account: str = "acct", send_at: int | None = None
    ) -> list[Message]:
        outbound = Outbound.of([OutboundSms(to, "Acme", "Hi", "GSM7", 1) for to in phones])
        return await self.messages.send(
            Account(account, account), outbound, is_test=False, send_at=send_at
        )

    async def advance(self, milliseconds: int) -> None:
        await self.scheduler.advance(milliseconds)


def simulation(*, store: MemoryStore | None = None, start: int = START) -> Simulation:
    clock = VirtualClock(start=start)
    scheduler = Scheduler(clock)
    store = store if store is not None else MemoryStore()
    events = EventBus()
    planner = ScenarioPlanner(parse_scenario(SCENARIO))
    messages = MessageService(store, events, clock.now, planner.plan)
    replies = ReplyService(store, events, ContactService(store, clock.now))
    engine = SimulationEngine(scheduler, messages, replies, planner)
    events.subscribe(engine)
    sim = Simulation(clock, scheduler, store, messages, engine)
    events.subscribe(sim.record)
    return sim


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async test in its own event loop."""

    def sync() -> None:
        asyncio.run(test())

    sync.__name__ = test.__name__
    return sync


def history(message: Message) -> list[tuple[DeliveryStatus, int]]:
    return [(entry.status, entry.at - START) for entry in message.history]


@run
async def test_a_message_follows_its_lifecycle_at_the_scheduled_times() -> None:
    sim = simulation()
    plain, stuck = await sim.send("447700900100", STUCK)
    assert (plain.pending, plain.next_due) == (((ENROUTE, 1000), (DELIVERED, 10_000)), START + 1000)

    await sim.advance(999)
    assert sim.receipts == []
    await sim.advance(1)
    assert sim.receipts == [("447700900100", ENROUTE, 1000), (STUCK, ENROUTE, 1000)]
    # The plan moves on with the message, so a durable store keeps where it stands.
    assert (plain.pending, plain.next_due) == (((DELIVERED, 10_000),), START + 11_000)

    await sim.advance(9_999)
    assert plain.status is ENROUTE
    await sim.advance(1)

    assert history(plain) == [(ACCEPTED, 0), (ENROUTE, 1000), (DELIVERED, 11_000)]
    assert history(stuck) == [(ACCEPTED, 0), (ENROUTE, 1000)]
    assert sim.receipts[2:] == [("447700900100", DELIVERED, 11_000)]
    assert (plain.pending, plain.next_due) == ((), None)
    assert (stuck.pending, stuck.next_due) == ((), None)
    assert len(sim.scheduler) == 0


@run
async def test_a_scheduled_send_starts_its_lifecycle_when_it_falls_due() -> None:
    sim = simulation()
    [message] = await sim.send("447700900100", send_at=START + 60_000)
    assert message.status is SCHEDULED

    await sim.advance(61_000)

    assert history(message) == [(SCHEDULED, 0), (ACCEPTED, 60_000), (ENROUTE, 61_000)]


@run
async def test_a_delivered_message_gets_its_scripted_reply() -> None:
    sim = simulation()
    [message] = await sim.send(ANSWERS)

    await sim.advance(7_999)  # Delivered at +3 s, the reply is due 5 s later
    assert sim.replies == []
    await sim.advance(1)

    assert sim.replies == [(message.reference, "OK", 8_000)]
    assert message.reply_plan is None


async def coin_outcomes(sim: Simulation, count: int = 24) -> list[DeliveryStatus]:
    messages = await sim.send(*[COIN] * count)
    await sim.advance(1000)
    return [message.status for message in messages]


@run
async def test_a_seeded_outcome_is_repeatable() -> None:
    first = await coin_outcomes(simulation())
    again = await coin_outcomes(simulation())

    assert first == again
    assert set(first) == {DELIVERED, UNDELIVERABLE}  # a real draw, not one fixed fate


@run
async def test_reset_reseeds_the_draw() -> None:
    sim = simulation()
    first = await coin_outcomes(sim)
    assert await coin_outcomes(sim) != first  # the draw goes on from where it was

    sim.scheduler.clear()  # as the runtime does on a reset
    sim.engine.reset()

    assert await coin_outcomes(sim) == first


@run
async def test_a_forced_status_change_drops_the_plan() -> None:
    sim = simulation()
    kept, forced, failed = await sim.send("447700900100", "447700900101", "447700900102")

    # Forced into a status the script also uses: it must not walk the script from there.
    await sim.advance(500)
    await sim.messages.change_status(forced, ENROUTE, sim.clock.now())
    assert (forced.pending, forced.next_due) == ((), None)
    await sim.advance(500)
    await sim.messages.change_status(failed, UNDELIVERABLE, sim.clock.now())
    await sim.advance(10_000)

    assert history(kept) == [(ACCEPTED, 0), (ENROUTE, 1000), (DELIVERED, 11_000)]
    assert history(forced) == [(ACCEPTED, 0), (ENROUTE, 500)]
    assert history(failed) == [(ACCEPTED, 0), (ENROUTE, 1000), (UNDELIVERABLE, 1000)]
    assert len(sim.scheduler) == 0


@run
async def test_forgetting_an_account_lets_its_scripts_and_replies_lapse() -> None:
    sim = simulation()
    [gone, answered] = await sim.send("447700900100", ANSWERS, account="gone")
    [kept] = await sim.send("447700900100", account="kept")
    await sim.advance(3_000)  # all Enroute; the reply phone Delivered, its reply owed

    sim.engine.forget_account("gone")
    await sim.advance(60_000)

    assert history(gone) == [(ACCEPTED, 0), (ENROUTE, 1000)]
    assert answered.status is DELIVERED and sim.replies == []
    assert history(kept)[-1] == (DELIVERED, 11_000)

    # The account's new sends follow their scripts again.
    [fresh] = await sim.send("447700900100", account="gone")
    await sim.advance(11_000)
    assert fresh.status is DELIVERED


@run
async def test_resume_after_a_restart_carries_on_at_the_planned_times() -> None:
    before = simulation()
    moving = await before.send("447700900100", "447700900101")
    [answering] = await before.send(ANSWERS)
    [scheduled] = await before.send("447700900100", send_at=START + 6_000)
    await before.advance(4_000)  # Enroute (Delivered due at +11 s); Delivered, reply owed
    assert answering.status is DELIVERED and before.replies == []

    # What a durable store hands back: copies whose plans are equal but not shared.
    loaded = [copy.copy(m) for m in [*moving, answering, scheduled]]
    for message in loaded:
        message.pending = tuple((status, after) for status, after in message.pending)
    store = MemoryStore()
    await store.add_messages(loaded, 0)
    after = simulation(store=store, start=before.clock.now())
    after.engine.resume(loaded)
    after.engine.resume_replies(loaded)
    await after.advance(60_000)

    first, second, answered, accepted_later = loaded
    plain = [(ACCEPTED, 0), (ENROUTE, 1000), (DELIVERED, 11_000)]
    assert history(first) == history(second) == plain
    assert after.replies == [(answered.reference, "OK", 8_000)]
    assert history(accepted_later) == [
        (SCHEDULED, 0),
        (ACCEPTED, 6_000),
        (ENROUTE, 7_000),
        (DELIVERED, 17_000),
    ]
    # Each step ran once: the resumed messages did not move on twice.
    assert sorted(after.receipts) == sorted(
        [
            ("447700900100", DELIVERED, 11_000),
            ("447700900101", DELIVERED, 11_000),
            ("447700900100", ACCEPTED, 6_000),
            ("447700900100", ENROUTE, 7_000),
            ("447700900100", DELIVERED, 17_000),
        ]
    )
