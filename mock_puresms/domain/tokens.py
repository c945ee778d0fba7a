"""OAuth 2.0 access tokens: opaque strings that stand for an account until they expire."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # The port speaks of tokens: importing it at run time would be circular.
    from mock_puresms.domain.ports import TokenStore

TOKEN_LIFETIME_SECONDS = 3600
TOKEN_SCOPE = "puresms.api"


def token_digest(token: str) -> str:
    """How the store knows a token: its SHA-256, so a saved state never holds a credential."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An issued token, by digest; ``expires_at`` is mock-clock epoch milliseconds."""

    digest: str
    account_id: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """What the token endpoint hands out; the only place the token itself appears."""

    access_token: str
    expires_in: int


class TokenService:
    """Issues tokens and tells which account a presented token stands for.

    Expiry is on the mock's clock, so advancing the virtual clock ages tokens.
    """

    def __init__(self, store: TokenStore, now: Callable[[], int]) -> None:
        self._store = store
        self._now = now

    async def issue(self, account_id: str) -> IssuedToken:
        token = secrets.token_urlsafe(32)
        expires_at = self._now() + TOKEN_LIFETIME_SECONDS * 1000
        await self._store.save_token(AccessToken(token_digest(token), account_id, expires_at))
        return IssuedToken(token, TOKEN_LIFETIME_SECONDS)

    async def forget_expired(self) -> None:
        """Drop expired tokens: one never used again would otherwise stay for ever."""
        await self._store.delete_expired_tokens(self._now())

    async def account_of(self, token: str) -> str | None:
        """The account id of a live token; ``None`` when unknown or expired."""
        digest = token_digest(token)
        found = await self._store.get_token(digest)
        if found is None:
            return None
        if self._now() >= found.expires_at:
            # An expired token never comes back to life: forget it.
            await self._store.delete_token(digest)
            return None
        return found.account_id
