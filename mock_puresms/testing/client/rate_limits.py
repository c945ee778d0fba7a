"""The control client's rate-limit calls (``/_mock/accounts/{account}/rate-limit``) and
their typed result; mixed into ``ControlClient``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mock_puresms.domain.accounts import open_mode_account_id


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """An account's rate limit and how much of it the current window has used.

    ``requests`` and ``window`` are ``None`` when the account has no limit; ``source``
    says where the limit came from (``config``, ``openMode``, ``control``).
    ``retry_after`` is the ``Retry-After`` a request would get now (0: it would pass).
    """

    account: str
    requests: int | None
    window: str | None
    window_ms: int | None
    source: str | None
    used: int
    remaining: int | None
    retry_after: int
    retry_after_ms: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RateLimitInfo:
        return cls(
            account=data["account"],
            requests=data["requests"],
            window=data["window"],
            window_ms=data["windowMs"],
            source=data["source"],
            used=data["used"],
            remaining=data["remaining"],
            retry_after=data["retryAfter"],
            retry_after_ms=data["retryAfterMs"],
        )


class RateLimitCalls:
    """``rate_limit``, ``rate_limit_state`` and ``clear_rate_limit`` of ``ControlClient``."""

    api_key: str | None

    if TYPE_CHECKING:

        def _call(self, method: str, path: str, *, json: Any = None) -> Any: ...

    def _rate_limit_path(self, account: str | None) -> str:
        if account is None:
            if not self.api_key:
                from mock_puresms.testing.client.client import MockPureSMSError

                raise MockPureSMSError(
                    "rate limits need an account: pass account= or set client.api_key"
                )
            # In open mode an API key's account id follows from the key.
            account = open_mode_account_id(self.api_key)
        return f"/_mock/accounts/{quote(account, safe='')}/rate-limit"

    def rate_limit(
        self, requests: int, window: str | float = "1s", *, account: str | None = None
    ) -> RateLimitInfo:
        """Allow the account at most ``requests`` API requests (v1 and current API
        together) in any ``window`` of mock time (``"1s"``, ``"500ms"``, ``"1m"``, or a
        number of seconds); more get ``429`` with ``Retry-After``. By default the account
        of this client's ``api_key``; it lasts until the next reset (the next test)."""
        body = {"requests": requests, "window": window}
        return RateLimitInfo.from_json(self._call("PUT", self._rate_limit_path(account), json=body))

    def rate_limit_state(self, *, account: str | None = None) -> RateLimitInfo:
        """The account's limit and how much of its window is used now."""
        return RateLimitInfo.from_json(self._call("GET", self._rate_limit_path(account)))

    def clear_rate_limit(self, *, account: str | None = None) -> RateLimitInfo:
        """No limit for the account (until the next reset brings back the config file's)."""
        return RateLimitInfo.from_json(self._call("DELETE", self._rate_limit_path(account)))
