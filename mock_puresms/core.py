"""The façade of the mock's core: everything a surface (v1 API, control surface, inbox,
CLI) may ask of the mock, and nothing else.

Surfaces call ``Mock`` and never reach below it: the domain services, the simulation,
the webhook dispatcher and the store are its private parts, wired by the composition
root (``mock_puresms.app``). At this layer there is no HTTP: arguments are domain values
that a surface has already parsed, and answers are domain objects it renders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import orjson

from mock_puresms.domain.accounts import Account, AccountDirectory, WebhookSettings
from mock_puresms.domain.contacts import Contact, ContactDraft, ContactService, ImportResult
from mock_puresms.domain.deliveries import Delivery
from mock_puresms.domain.endpoints import Endpoint
from mock_puresms.domain.errors import NotFound
from mock_puresms.domain.events import EventBus, StateReset, Subscriber
from mock_puresms.domain.groups import Group, GroupService
from mock_puresms.domain.inbound import ReplyService
from mock_puresms.domain.messages import V1, BatchSummary, Message
from mock_puresms.domain.ports import Store
from mock_puresms.domain.queries import ContactQuery, GroupQuery, MessageQuery, Page, ReplyQuery
from mock_puresms.domain.rate_limits import RateLimit, RateLimiter, RateLimitState
from mock_puresms.domain.replies import Reply
from mock_puresms.domain.reports import DAY_MS, Pricing, TagSummary, client_tag_report
from mock_puresms.domain.sending import MessageService, Outbound
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.domain.tokens import IssuedToken, TokenService
from mock_puresms.recovery import Recovery
from mock_puresms.simulation.clock import Clock, VirtualClock
from mock_puresms.simulation.durations import parse_duration
from mock_puresms.simulation.engine import SimulationEngine
from mock_puresms.simulation.scenarios import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
    shipped_scenarios,
)
from mock_puresms.simulation.scenarios.chaos import WebhookChaos
from mock_puresms.simulation.scenarios.chaos_text import parse_chaos
from mock_puresms.simulation.scheduler import ClockNotVirtual, Scheduler
from mock_puresms.webhooks.dispatcher import WebhookDispatcher

# Errors a surface answers: re-exported so that surfaces import nothing below the façade.
__all__ = [
    "ChaosSetting",
    "ClockInfo",
    "ClockNotVirtual",
    "CoreParts",
    "Mock",
    "Retention",
    "ScenarioError",
    "parse_duration",
    "shipped_scenario_names",
]

log = logging.getLogger("mock_puresms")

# How often (wall time) retention runs; also after every advance of a virtual clock.
PRUNE_INTERVAL_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Retention:
    """``--retention`` (in mock milliseconds) and ``--max-messages``; ``None`` is no limit."""

    max_age_ms: int | None = None
    max_messages: int | None = None

    @property
    def active(self) -> bool:
        return self.max_age_ms is not None or self.max_messages is not None


@dataclass(frozen=True, slots=True)
class ClockInfo:
    mode: str  # "real" or "virtual"
    now: int  # mock milliseconds since the epoch
    time_scale: float


@dataclass(frozen=True, slots=True)
class ChaosSetting:
    """The webhook chaos in force for an account: ``source`` is ``account`` (its own
    setting), ``scenario`` (the active scenario's ``webhooks:``) or ``none``."""

    source: str
    seed: int
    chaos: WebhookChaos | None


@dataclass(slots=True)
class CoreParts:
    """What the composition root wires together; the façade's private parts."""

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
    rate_limits: RateLimiter


class Mock:
    """One mock's state and behaviour; one per app, so servers never share state."""

    def __init__(
        self,
        parts: CoreParts,
        retention: Retention = Retention(),
        pricing: Pricing | None = None,
    ) -> None:
        self._parts = parts
        self._store = parts.store
        self._retention = retention
        self._pricing = pricing if pricing is not None else Pricing()
        self._pruner: asyncio.Task[None] | None = None
        self._recovery = Recovery(parts.engine, parts.webhooks, parts.events)
        # admit(account_id): count an API request of the account against its rate limit;
        # ``None`` when admitted, else the milliseconds until it would be (nothing is
        # counted then). The limiter's own method rather than a façade method calling it:
        # every API request makes this call, and with no limit set the extra frame cost
        # as much as the limiter's one dict lookup (about 0.15 us each, measured).
        self.admit: Callable[[str], int | None] = parts.rate_limits.admit

    # ---- life cycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Load what a durable store kept and carry on from there; start the clock."""
        parts = self._parts
        recovered = await self._store.open()
        if isinstance(parts.clock, VirtualClock):
            if recovered.clock is not None:
                parts.clock.resume_at(recovered.clock)
            # Saved now, so a crash before the first advance still resumes here.
            await self._store.save_clock(parts.clock.now())
        self._recovery.start(recovered)
        parts.scheduler.start()
        if self._retention.active:
            if not self._recovery.loading:  # else the first prune follows the load
                await self.prune()
            self._pruner = asyncio.get_running_loop().create_task(
                self._prune_periodically(first=self._recovery.loading)
            )

    async def stop(self) -> None:
        await self._recovery.stop()
        if self._pruner is not None:
            self._pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pruner
            self._pruner = None
        await self._parts.scheduler.stop()
        await self._parts.webhooks.close()
        if isinstance(self._parts.clock, VirtualClock):
            await self._store.save_clock(self._parts.clock.now())
        await self._store.close()

    def listening_on(self, addresses: Sequence[tuple[str, int]]) -> None:
        """Where the server listens (``(host, port)`` pairs): webhooks bound for its own
        control surface there are never sent."""
        self._parts.webhooks.listening_on(addresses)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Be told of every domain event (synchronously: record or schedule, never block);
        returns a function that unsubscribes."""
        return self._parts.events.subscribe(subscriber)

    async def reset(self, account_id: str | None = None) -> None:
        """Forget state (of one account, or all); configuration and scenario stay."""
        parts = self._parts
        await self._recovery.wait()  # what is still loading is part of what is forgotten
        await self._store.reset(account_id)
        parts.webhooks.reset(account_id)
        parts.rate_limits.reset(None if account_id is None else (account_id,))
        if account_id is None:
            parts.scheduler.clear()
            parts.engine.reset()
        else:
            parts.engine.forget_account(account_id)
        parts.events.publish(StateReset(account_id))

    async def prune(self) -> int:
        """Apply ``--retention`` and ``--max-messages``; returns the messages removed."""
        if not self._retention.active:
            return 0
        await self._recovery.wait()
        max_age = self._retention.max_age_ms
        cutoff = self._parts.clock.now() - max_age if max_age is not None else None
        removed = await self._store.prune(cutoff, self._retention.max_messages)
        # Deliveries are bounded like messages: by age, and at most --max-messages kept
        # (a delivery carries at least one receipt or reply, so that is never tighter).
        gone = self._parts.webhooks.prune(cutoff, self._retention.max_messages)
        if gone:
            await self._store.delete_deliveries(gone)
        await self._parts.tokens.forget_expired()
        return removed

    async def _prune_periodically(self, first: bool = False) -> None:
        while True:
            if not first:
                await asyncio.sleep(PRUNE_INTERVAL_SECONDS)
            first = False
            try:
                await self.prune()
            except Exception:
                log.exception("pruning old messages failed")

    # ---- clock and scenario ------------------------------------------------------------

    def now(self) -> int:
        """Mock time, in milliseconds since the epoch."""
        return self._parts.clock.now()

    def clock(self) -> ClockInfo:
        clock = self._parts.clock
        return ClockInfo(clock.mode, clock.now(), clock.time_scale)

    async def advance(self, milliseconds: int) -> None:
        """Move the virtual clock (``ClockNotVirtual`` on a real one) and remember it."""
        # Steps of messages still loading are resumed first, so none is skipped over.
        await self._recovery.wait()
        await self._parts.scheduler.advance(milliseconds)
        await self._store.save_clock(self._parts.clock.now())
        await self.prune()

    @property
    def scenario(self) -> Scenario:
        return self._parts.engine.scenario

    def use_scenario(self, scenario: Scenario) -> None:
        """Make ``scenario`` decide the fate of messages sent from now on."""
        self._parts.engine.use_scenario(scenario)

    def use_shipped_scenario(self, name: str) -> Scenario:
        """Make a shipped scenario active; ``KeyError`` for an unknown name."""
        scenario = _shipped(name)
        self._parts.engine.use_scenario(scenario)
        return scenario

    def use_scenario_text(self, text: str) -> Scenario:
        """Make a scenario written in YAML or JSON active; ``ScenarioError`` when it is
        invalid (the active scenario then stays)."""
        scenario = _parsed(text)
        self._parts.engine.use_scenario(scenario)
        return scenario

    async def reset_to(self, account_id: str | None, scenario_name: str) -> None:
        """``reset``, then a shipped scenario active (the pytest plugin's per-test reset,
        in one request); ``KeyError`` for an unknown name, before anything is reset."""
        scenario = _shipped(scenario_name)
        await self.reset(account_id)
        active = self._parts.engine.scenario
        if active is scenario or (active.name, active.source) == (scenario.name, scenario.source):
            return  # a reset has already reseeded it
        self._parts.engine.use_scenario(scenario)

    # ---- accounts and credentials ------------------------------------------------------

    async def account(self, account_id: str) -> Account:
        return await self._parts.accounts.get(account_id)

    async def find_account(self, ident: str) -> Account | None:
        """The account with this id or configured name."""
        return await self._parts.accounts.by_id_or_name(ident)

    async def account_for_api_key(self, key: str) -> Account | None:
        return await self._parts.accounts.by_api_key(key)

    def account_id_for_api_key(self, key: str) -> str | None:
        """The id of the account of an API key without creating it (open mode: the id
        that key's account has or will have); ``None`` when the key is not accepted."""
        return self._parts.accounts.id_for_api_key(key)

    async def account_for_client(self, client_id: str, secret: str) -> Account | None:
        """The account of OAuth client credentials."""
        return await self._parts.accounts.by_client(client_id, secret)

    async def account_for_token(self, token: str) -> Account | None:
        """The account an unexpired access token was issued to."""
        account_id = await self._parts.tokens.account_of(token)
        return await self._parts.accounts.get(account_id) if account_id is not None else None

    async def issue_token(self, account: Account) -> IssuedToken:
        return await self._parts.tokens.issue(account.id)

    async def accounts(self) -> list[Account]:
        """Every account: the configured ones, then those that have been used."""
        return await self._parts.accounts.all()

    async def set_webhooks(self, account: Account, webhooks: WebhookSettings) -> None:
        account.webhooks = webhooks
        await self._store.save_account(account)

    async def find_account_to_configure(self, ident: str) -> Account | None:
        """``find_account``, and in open mode also an account not used yet, by the id
        its key will give it (so a test can add endpoints before it sends)."""
        return await self._parts.accounts.by_id_or_open_id(ident)

    async def set_endpoints(self, account: Account, endpoints: Sequence[Endpoint]) -> None:
        """Replace the account's webhook endpoints of the current API (all enabled)."""
        account.endpoints = list(endpoints)
        await self._store.save_account(account)

    async def enable_endpoint(self, account: Account, index: int) -> Endpoint:
        """Enable a (disabled) endpoint again, its failure count at zero; ``NotFound``."""
        if not 0 <= index < len(account.endpoints):
            raise NotFound(f"The account has no endpoint {index}.")
        endpoint = account.endpoints[index]
        endpoint.enabled = True
        endpoint.failures = 0
        await self._store.save_account(account)
        return endpoint

    # ---- rate limits -------------------------------------------------------------------

    def rate_limit(self, account_id: str) -> RateLimitState:
        """The account's rate limit, where it came from, and how much of it is used."""
        return self._parts.rate_limits.state(account_id)

    def set_rate_limit(self, account_id: str, limit: RateLimit | None) -> RateLimitState:
        """Give the account ``limit`` (``None``: no limit) until the next reset."""
        self._parts.rate_limits.set(account_id, limit)
        return self._parts.rate_limits.state(account_id)

    def webhook_chaos(self, account: Account) -> ChaosSetting:
        """The webhook chaos in force for the account, and where it comes from."""
        chaos, seed, source = self._parts.webhooks.chaos.setting(account.id)
        return ChaosSetting(source, seed, chaos)

    def set_webhook_chaos(self, account: Account, text: str | None) -> ChaosSetting:
        """Give the account its own webhook chaos (a scenario's ``webhooks:`` section
        as JSON or YAML; ``ScenarioError``), or drop it with ``None``: the scenario's
        applies again. Its ``next: N`` counts start over either way."""
        chaos = parse_chaos(text) if text is not None else None
        self._parts.webhooks.chaos.override(account.id, chaos)
        return self.webhook_chaos(account)

    # ---- messages ----------------------------------------------------------------------

    async def send(
        self,
        account: Account,
        outbound: Outbound,
        *,
        is_test: bool,
        batch_reference: str | None = None,
        send_at: int | None = None,
        api: str = V1,
    ) -> list[Message]:
        """Create one message per outbound item, all or none (``InsufficientCredits``);
        ``api`` is the PureSMS API the send came through (``V1`` or ``CONNECT``)."""
        return await self._parts.messages.send(
            account,
            outbound,
            is_test=is_test,
            batch_reference=batch_reference,
            send_at=send_at,
            api=api,
        )

    async def message(self, account_id: str, reference: str) -> Message:
        """The account's message; ``NotFound`` otherwise."""
        return await self._parts.messages.get(account_id, reference)

    async def find_message(self, reference: str) -> Message | None:
        """A message of any account."""
        return await self._store.get_message(reference)

    async def messages(self, query: MessageQuery) -> Page[Message]:
        return await self._store.query_messages(query)

    async def batch_summary(self, account_id: str, batch_reference: str) -> BatchSummary:
        summary = await self._store.batch_summary(account_id, batch_reference)
        if summary is None:
            raise NotFound(f"No batch with reference '{batch_reference}'.")
        return summary

    async def cancel(self, account_id: str, reference: str) -> Message:
        """A scheduled message becomes ``Deleted``; ``Conflict`` for any other."""
        return await self._parts.messages.cancel(account_id, reference)

    async def cancel_message(self, reference: str) -> Message:
        """``cancel`` for a message of any account (the control surface and the inbox):
        ``NotFound``, or ``Conflict`` unless it is still scheduled."""
        message = await self._store.get_message(reference)
        if message is None:
            raise NotFound(f"No message with reference '{reference}'.")
        return await self._parts.messages.cancel(message.account_id, reference)

    async def cancel_batch(self, account_id: str, batch_reference: str) -> int:
        """Cancel what is still scheduled in a batch; returns how many."""
        return await self._parts.messages.cancel_batch(account_id, batch_reference)

    async def force_status(self, reference: str, status: DeliveryStatus) -> Message:
        """Move a message (of any account) on now, dropping its script.

        ``NotFound``, or ``Conflict`` when its status is final.
        """
        message = await self._store.get_message(reference)
        if message is None:
            raise NotFound(f"No message with reference '{reference}'.")
        await self._parts.messages.change_status(message, status, self._parts.clock.now())
        return message

    @property
    def pricing(self) -> Pricing:
        """What a segment costs (the config file's ``pricing``)."""
        return self._pricing

    async def client_tag_report(
        self, account_id: str, first_day: int, last_day: int, client_tag: str | None
    ) -> list[TagSummary]:
        """The account's messages created on UTC days ``first_day..last_day`` (days since
        the epoch, inclusive), summed by tag and day; ``client_tag=None``: every tag."""
        messages = await self._store.messages_created(
            account_id, first_day * DAY_MS, (last_day + 1) * DAY_MS
        )
        return client_tag_report(messages, client_tag, any_tag=client_tag is None)

    # ---- replies -----------------------------------------------------------------------

    async def replies(self, query: ReplyQuery) -> Page[Reply]:
        return await self._store.query_replies(query)

    async def reply(self, account_id: str, reference: str) -> Reply:
        """The account's reply; ``NotFound`` otherwise."""
        reply = await self._store.get_reply(reference)
        if reply is None or reply.account_id != account_id:
            raise NotFound(f"No reply with reference '{reference}'.")
        return reply

    async def last_sender_account(self, phone: str, sender: str) -> str | None:
        """The account that last sent to ``phone`` from ``sender``, across accounts."""
        return await self._store.latest_sender_account(phone, sender)

    async def receive_reply(self, account_id: str, phone: str, sender: str, content: str) -> Reply:
        """The phone ``phone`` answers ``sender`` now, as if by SMS."""
        return await self._parts.replies.receive(
            account_id, phone, sender, content, self._parts.clock.now()
        )

    # ---- contacts and groups -----------------------------------------------------------

    async def contact(self, account_id: str, contact_id: str) -> Contact:
        return await self._parts.contacts.get(account_id, contact_id)

    async def contacts(self, query: ContactQuery) -> Page[Contact]:
        return await self._store.query_contacts(query)

    async def create_contact(self, account_id: str, draft: ContactDraft) -> Contact:
        return await self._parts.contacts.create(account_id, draft)

    async def replace_contact(
        self, account_id: str, contact_id: str, draft: ContactDraft
    ) -> Contact:
        return await self._parts.contacts.replace(account_id, contact_id, draft)

    async def delete_contact(self, account_id: str, contact_id: str) -> None:
        await self._parts.contacts.delete(account_id, contact_id)

    async def import_contacts(
        self, account_id: str, drafts: Sequence[ContactDraft]
    ) -> ImportResult:
        return await self._parts.contacts.import_contacts(account_id, drafts)

    async def group(self, account_id: str, group_id: str) -> Group:
        return await self._parts.groups.get(account_id, group_id)

    async def groups(self, query: GroupQuery) -> Page[Group]:
        return await self._store.query_groups(query)

    async def create_group(self, account_id: str, name: str) -> Group:
        return await self._parts.groups.create(account_id, name)

    async def rename_group(self, account_id: str, group_id: str, name: str) -> Group:
        return await self._parts.groups.rename(account_id, group_id, name)

    async def delete_group(self, account_id: str, group_id: str) -> None:
        await self._parts.groups.delete(account_id, group_id)

    async def add_to_group(
        self, account_id: str, group_id: str, contact_ids: Sequence[str]
    ) -> Group:
        return await self._parts.groups.add_contacts(account_id, group_id, contact_ids)

    async def remove_from_group(self, account_id: str, group_id: str, contact_id: str) -> Group:
        return await self._parts.groups.remove_contact(account_id, group_id, contact_id)

    async def group_members(self, account_id: str, group_id: str) -> list[Contact]:
        return await self._parts.groups.members(account_id, group_id)

    # ---- webhooks ----------------------------------------------------------------------

    def deliveries(
        self, url: str | None = None, state: str | None = None, account_id: str | None = None
    ) -> Iterable[Delivery]:
        """Webhook deliveries, newest first, filtered by URL, state and account."""
        return self._parts.webhooks.deliveries(url, state, account_id)

    async def replay_delivery(self, delivery_id: str) -> Delivery:
        """Queue a failed webhook delivery again (``NotFound``, ``Conflict``)."""
        return await self._parts.webhooks.replay(delivery_id)

    def deliveries_of(self, message: Message, replies: Sequence[Reply] = ()) -> list[Delivery]:
        """The webhook deliveries concerning ``message``: those carrying its receipts and
        those carrying one of its ``replies``, newest first."""
        reply_references = {reply.reference for reply in replies}
        found: list[Delivery] = []
        for delivery in self._parts.webhooks.deliveries(None, None, message.account_id):
            if delivery.kind in ("receipts", "connect.receipt"):
                if message.reference in delivery.references:
                    found.append(delivery)
            elif reply_references and _reply_reference(delivery) in reply_references:
                found.append(delivery)
        return found


def _reply_reference(delivery: Delivery) -> str | None:
    """The reference of the reply a reply webhook carries (its body is the reply's JSON)."""
    try:
        body = orjson.loads(delivery.body)
    except orjson.JSONDecodeError:
        return None
    reference = body.get("reference") if isinstance(body, dict) else None
    return reference if isinstance(reference, str) else None


def shipped_scenario_names() -> tuple[str, ...]:
    """The names of the scenarios shipped with the package."""
    return _shipped_names()


@lru_cache(maxsize=1)
def _shipped_names() -> tuple[str, ...]:
    return tuple(shipped.name for shipped in shipped_scenarios())


@lru_cache(maxsize=16)
def _shipped_scenario(name: str) -> Scenario:
    """A shipped scenario, parsed once per process (scenarios are immutable)."""
    return load_scenario(name)


def _shipped(name: str) -> Scenario:
    if name not in _shipped_names():
        raise KeyError(name)
    return _shipped_scenario(name)


@lru_cache(maxsize=8)
def _parsed(text: str) -> Scenario:
    """A scenario from text; the plugin PUTs the same file before every test."""
    return parse_scenario(text, source_name="<request body>")
