"""Accounts: who owns messages, replies, contacts, webhooks and credits."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from mock_puresms.domain.endpoints import Endpoint


def open_mode_account_id(credential: str) -> str:
    """The id of the open-mode account behind an API key or OAuth ``client_id``.

    Stable across restarts, and a one-way hash so the id never reveals the key.
    """
    return "acc_" + hashlib.sha256(b"puresms-key:" + credential.encode()).hexdigest()[:20]


_OPEN_ID = re.compile(r"acc_[0-9a-f]{20}")


def configured_account_id(name: str) -> str:
    """The id of an account from the config file, derived from its name."""
    return "acc_" + hashlib.sha256(b"puresms-account:" + name.encode()).hexdigest()[:20]


@dataclass(slots=True)
class WebhookSettings:
    """Where an account's receipts and replies go, and how they are signed."""

    delivery_receipt_url: str | None = None
    reply_url: str | None = None
    secret: str | None = None


class Debit(NamedTuple):
    """Credits taken from an account for a send, and the balance left, for the store."""

    account_id: str
    cost: int
    balance: int


@dataclass(slots=True)
class Account:
    """An account's mutable state: remaining credits (``None`` = unlimited) and webhooks."""

    id: str
    name: str
    credits: int | None = None
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    # The current API's webhook endpoints (API.md 9.5), in order: their index names them.
    endpoints: list[Endpoint] = field(default_factory=list)

    def charge(self, cost: int) -> Debit | None:
        """The credit rule: take ``cost`` credits now; ``None`` when nothing is taken
        (no cost, or unlimited credits).

        Raises ``InsufficientCredits``, taking nothing, when the balance is limited and
        below ``cost``. Called before the send's store write is awaited, so concurrent
        sends cannot overdraw; ``refund`` undoes it if that write fails.
        """
        if not cost or self.credits is None:
            return None
        if self.credits < cost:
            raise InsufficientCredits(cost, self.credits)
        self.credits -= cost
        return Debit(self.id, cost, self.credits)

    def refund(self, debit: Debit) -> None:
        """Give back what ``charge`` took, for a send that was not stored."""
        if self.credits is not None:
            self.credits += debit.cost


class InsufficientCredits(Exception):
    """A send needs more credits than the account has left."""

    def __init__(self, needed: int, balance: int) -> None:
        super().__init__(f"This send needs {needed} credit(s) but the account has {balance} left.")
        self.needed = needed
        self.balance = balance


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """A configured account: its credentials and its starting state."""

    name: str
    api_keys: tuple[str, ...] = ()
    oauth_clients: tuple[tuple[str, str], ...] = ()
    credits: int | None = None
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    endpoints: tuple[Endpoint, ...] = ()

    @property
    def id(self) -> str:
        return configured_account_id(self.name)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


_OPEN_IDS_KEPT = 10_000


class AccountDirectory:
    """Finds the account behind a credential, creating its state on first use.

    With no specs the directory is in open mode: any non-empty key is an account.
    Keys are looked up by their SHA-256 digest, so the time taken does not depend on
    how much of a wrong key matches a right one.
    """

    def __init__(
        self,
        store: AccountStore,
        specs: Sequence[AccountSpec] = (),
        open_endpoints: Sequence[Endpoint] = (),
    ) -> None:
        self._store = store
        # ``openMode.webhookEndpoints``: every account created in open mode starts with these.
        self._open_endpoints = tuple(open_endpoints)
        self._specs = {spec.id: spec for spec in specs}
        self._by_name = {spec.name: spec for spec in specs}
        self._by_key = {_digest(key): spec for spec in specs for key in spec.api_keys}
        self._clients = {
            _digest(client_id): (spec, _digest(secret))
            for spec in specs
            for client_id, secret in spec.oauth_clients
        }
        self._open_ids: dict[str, str] = {}  # open mode: credential -> account id

    @property
    def strict(self) -> bool:
        return bool(self._specs)

    async def by_api_key(self, key: str) -> Account | None:
        """The account of an API key, or ``None`` when the key is not accepted."""
        if not key:
            return None
        if not self.strict:
            return await self._open_account(key)
        spec = self._by_key.get(_digest(key))
        return await self._configured_account(spec) if spec is not None else None

    def id_for_api_key(self, key: str) -> str | None:
        """The id of the account an API key authenticates as, creating nothing: in open
        mode the id the key's account has or will get; ``None`` for a refused key."""
        if not key:
            return None
        if not self.strict:
            return open_mode_account_id(key)
        spec = self._by_key.get(_digest(key))
        return spec.id if spec is not None else None

    async def by_client(self, client_id: str, secret: str) -> Account | None:
        """The account of an OAuth client whose secret is right, else ``None``."""
        if not client_id or not secret:
            return None
        if not self.strict:
            return await self._open_account(client_id)
        found = self._clients.get(_digest(client_id))
        if found is None or not hmac.compare_digest(found[1], _digest(secret)):
            return None
        return await self._configured_account(found[0])

    async def by_id_or_name(self, ident: str) -> Account | None:
        """An account known to the store by id, or a configured one by id or name."""
        spec = self._specs.get(ident) or self._by_name.get(ident)
        if spec is not None:
            return await self._configured_account(spec)
        account = await self._store.get_account(ident)
        if account is None and not self.strict:
            # Open-mode ids equal names, so an id not yet seen is an unused account.
            return None
        return account

    async def by_id_or_open_id(self, ident: str) -> Account | None:
        """``by_id_or_name``, and in open mode also an account not used yet, by the id
        its key gives it (``open_mode_account_id``): a test can set it up before it sends."""
        account = await self.by_id_or_name(ident)
        if account is None and not self.strict and _OPEN_ID.fullmatch(ident):
            account = await self.get(ident)
        return account

    async def get(self, account_id: str) -> Account:
        """The current state of a known account (it exists: something authenticated it)."""
        account = await self._store.get_account(account_id)
        if account is not None:
            return account
        spec = self._specs.get(account_id)
        if spec is not None:
            return await self._configured_account(spec)
        return await self._create(self._new_open(account_id))

    def _new_open(self, account_id: str) -> Account:
        opening = () if self.strict else self._open_endpoints
        endpoints = [endpoint.copy() for endpoint in opening]
        return Account(id=account_id, name=account_id, endpoints=endpoints)

    async def all(self) -> list[Account]:
        """Every configured account, then every other account the store holds."""
        configured = [await self._configured_account(spec) for spec in self._specs.values()]
        seen = {account.id for account in configured}
        return configured + [a for a in await self._store.list_accounts() if a.id not in seen]

    async def _open_account(self, credential: str) -> Account:
        # The hash is remembered per credential: it costs a single send noticeably.
        account_id = self._open_ids.get(credential)
        if account_id is None:
            if len(self._open_ids) >= _OPEN_IDS_KEPT:
                self._open_ids.clear()
            account_id = self._open_ids[credential] = open_mode_account_id(credential)
        account = await self._store.get_account(account_id)
        return account or await self._create(self._new_open(account_id))

    async def _configured_account(self, spec: AccountSpec) -> Account:
        account = await self._store.get_account(spec.id)
        if account is not None:
            return account
        return await self._create(
            Account(
                id=spec.id,
                name=spec.name,
                credits=spec.credits,
                webhooks=WebhookSettings(
                    spec.webhooks.delivery_receipt_url,
                    spec.webhooks.reply_url,
                    spec.webhooks.secret,
                ),
                endpoints=[endpoint.copy() for endpoint in spec.endpoints],
            )
        )

    async def _create(self, account: Account) -> Account:
        await self._store.save_account(account)
        return account


class AccountStore(Protocol):
    """The part of the store the directory needs."""

    async def get_account(self, account_id: str) -> Account | None: ...

    async def save_account(self, account: Account) -> None: ...

    async def list_accounts(self) -> list[Account]:
        """Every account the store holds, in the order they were first saved."""
        ...
