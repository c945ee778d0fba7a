"""The running mock's parts, built once per app from its settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from mock_puresms import collector
from mock_puresms.api.render import reply_json
from mock_puresms.control.state import ControlState
from mock_puresms.domain.accounts import AccountDirectory, AccountSpec, WebhookSettings
from mock_puresms.domain.contacts import ContactService
from mock_puresms.domain.events import EventBus
from mock_puresms.domain.groups import GroupService
from mock_puresms.domain.inbound import ReplyService
from mock_puresms.domain.sending import MessageService
from mock_puresms.domain.tokens import TokenService
from mock_puresms.settings import ConfigFile, Settings
from mock_puresms.simulation.clock import Clock, RealClock, VirtualClock
from mock_puresms.simulation.engine import SimulationEngine
from mock_puresms.simulation.planner import ScenarioPlanner
from mock_puresms.simulation.scenarios import load_scenario
from mock_puresms.simulation.scheduler import Scheduler
from mock_puresms.storage.base import Store
from mock_puresms.storage.memory import MemoryStore
from mock_puresms.storage.sqlite import SqliteStore
from mock_puresms.webhooks.dispatcher import WebhookDispatcher
from mock_puresms.webhooks.sender import WebhookSender

log = logging.getLogger("mock_puresms")

# How often (wall time) retention runs; also after every advance of a virtual clock.
PRUNE_INTERVAL_SECONDS = 10.0


@dataclass(slots=True)
class Runtime:
    """Everything a request handler may need; one per app, so servers never share state."""

    settings: Settings
    config: ConfigFile
    store: Store
    events: EventBus
    clock: Clock
    scheduler: Scheduler
    accounts: AccountDirectory
    messages: MessageService
    replies: ReplyService
    engine: SimulationEngine
    webhooks: WebhookDispatcher
    contacts: ContactService
    groups: GroupService
    tokens: TokenService

    control: ControlState
    pruner: asyncio.Task[None] | None = None

    async def prune(self) -> int:
        """Apply ``--retention`` and ``--max-messages``; returns the messages removed."""
        retention = self.settings.retention_ms
        if retention is None and self.settings.max_messages is None:
            return 0
        cutoff = self.clock.now() - retention if retention is not None else None
        removed = await self.store.prune(cutoff, self.settings.max_messages)
        if cutoff is not None:
            await self.store.delete_deliveries(self.webhooks.prune(cutoff))
        return removed

    async def _prune_periodically(self) -> None:
        while True:
            await asyncio.sleep(PRUNE_INTERVAL_SECONDS)
            try:
                await self.prune()
            except Exception:
                log.exception("pruning old messages failed")

    async def start(self) -> None:
        """Load what a durable store kept and carry on from there; start the clock."""
        recovered = await self.store.open()
        if isinstance(self.clock, VirtualClock):
            if recovered.clock is not None:
                self.clock.resume_at(recovered.clock)
            # Saved now, so a crash before the first advance still resumes here.
            await self.store.save_clock(self.clock.now())
        self.engine.resume(recovered.in_flight)
        self.engine.resume_replies(recovered.in_flight)
        self.webhooks.resume(recovered.receipts, recovered.deliveries)
        self.scheduler.start()
        if self.settings.retention is not None or self.settings.max_messages is not None:
            await self.prune()
            self.pruner = asyncio.get_running_loop().create_task(self._prune_periodically())

    async def stop(self) -> None:
        if self.pruner is not None:
            self.pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pruner
            self.pruner = None
        await self.scheduler.stop()
        await self.webhooks.close()
        if isinstance(self.clock, VirtualClock):
            await self.store.save_clock(self.clock.now())
        await self.store.close()

    async def advance(self, milliseconds: int) -> None:
        """Move the virtual clock (``ClockNotVirtual`` on a real one) and remember it."""
        await self.scheduler.advance(milliseconds)
        await self.store.save_clock(self.clock.now())
        await self.prune()

    async def reset(self, account_id: str | None = None) -> None:
        """Forget state (of one account, or all); configuration and scenario stay."""
        await self.store.reset(account_id)
        self.webhooks.reset(account_id)
        if account_id is None:
            self.scheduler.clear()
            self.engine.reset()
        else:
            self.engine.forget_account(account_id)
        self.control.reset(account_id)
        collector.after_reset()


def account_specs(config: ConfigFile) -> list[AccountSpec]:
    return [
        AccountSpec(
            name=account.name,
            api_keys=account.api_keys,
            oauth_clients=tuple((c.client_id, c.client_secret) for c in account.oauth_clients),
            credits=account.credits,
            webhooks=WebhookSettings(
                account.webhooks.delivery_receipt_url,
                account.webhooks.reply_url,
                account.webhooks.secret,
            ),
        )
        for account in config.accounts
    ]


def build_runtime(
    settings: Settings,
    *,
    webhook_sender: WebhookSender | None = None,
    config: ConfigFile | None = None,
) -> Runtime:
    """Wire the parts; raises ``ConfigError`` or ``ScenarioError`` for bad files.

    ``webhook_sender`` replaces the network under the webhook dispatcher; ``config``
    replaces the config file (the pytest plugin passes its fast webhook tuning).
    """
    config = config if config is not None else settings.load_config()
    scenario = load_scenario(settings.scenario)
    clock: Clock = VirtualClock() if settings.clock == "virtual" else RealClock(settings.time_scale)
    store: Store = SqliteStore(settings.db) if settings.db is not None else MemoryStore()
    events = EventBus()
    scheduler = Scheduler(clock)
    planner = ScenarioPlanner(scenario)
    messages = MessageService(store, events, clock.now, planner.plan)
    contacts = ContactService(store, clock.now)
    replies = ReplyService(store, events, contacts)
    engine = SimulationEngine(scheduler, messages, replies, planner)
    events.subscribe(engine)
    webhooks = WebhookDispatcher(
        scheduler,
        store.get_account,
        config.webhooks,
        reply_json,
        store.save_deliveries,
        sender=webhook_sender,
        durable=settings.db is not None,
        publish=events.publish,
    )
    events.subscribe(webhooks)
    return Runtime(
        settings=settings,
        config=config,
        store=store,
        events=events,
        clock=clock,
        scheduler=scheduler,
        accounts=AccountDirectory(store, account_specs(config)),
        messages=messages,
        replies=replies,
        engine=engine,
        webhooks=webhooks,
        contacts=contacts,
        groups=GroupService(store, clock.now),
        tokens=TokenService(store, clock.now),
        control=ControlState(events),
    )


def runtime_of(connection: HTTPConnection) -> Runtime:
    """The runtime of the app serving ``connection`` (a ``MockApp``)."""
    runtime: Runtime = connection.scope["app"].runtime
    return runtime
