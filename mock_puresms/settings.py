"""Settings: one object built from flags, environment variables, the config file and defaults.

Precedence is flags > environment (``MOCK_PURESMS_*``) > defaults; the config file
(``--config``) holds what does not fit a flag: accounts and webhook tuning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mock_puresms.simulation.durations import parse_duration


class ConfigError(ValueError):
    """The config file cannot be used; the message says where and why."""


class _ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class OAuthClientConfig(_ConfigModel):
    client_id: str = Field(alias="clientId", min_length=1)
    client_secret: str = Field(alias="clientSecret", min_length=1)


class WebhookUrls(_ConfigModel):
    delivery_receipt_url: str | None = Field(default=None, alias="deliveryReceiptUrl")
    reply_url: str | None = Field(default=None, alias="replyUrl")
    secret: str | None = None


class AccountConfig(_ConfigModel):
    """One configured account; configuring any switches the server to strict mode."""

    name: str = Field(min_length=1)
    api_keys: tuple[str, ...] = Field(default=(), alias="apiKeys")
    oauth_clients: tuple[OAuthClientConfig, ...] = Field(default=(), alias="oauthClients")
    credits: int | None = Field(default=None, ge=0)
    webhooks: WebhookUrls = WebhookUrls()


def _duration_ms(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("a duration such as 250ms, 10s, 5m, 24h")
    return parse_duration(value)


class WebhookTuning(_ConfigModel):
    """How receipts are batched and retried; durations are milliseconds once parsed."""

    max_batch: int = Field(default=100, alias="maxBatch", ge=1, le=10_000)
    batch_window_ms: int = Field(default=250, alias="batchWindow")
    timeout_ms: int = Field(default=10_000, alias="timeout")
    first_retry_ms: int = Field(default=1_000, alias="firstRetry")
    max_interval_ms: int = Field(default=300_000, alias="maxInterval")
    max_age_ms: int = Field(default=86_400_000, alias="maxAge")

    @field_validator(
        "batch_window_ms",
        "timeout_ms",
        "first_retry_ms",
        "max_interval_ms",
        "max_age_ms",
        mode="before",
    )
    @classmethod
    def _parse_duration(cls, value: object) -> int:
        return _duration_ms(value)


class ConfigFile(_ConfigModel):
    """The ``--config`` file; every key optional."""

    accounts: tuple[AccountConfig, ...] = ()
    webhooks: WebhookTuning = WebhookTuning()


def load_config_file(path: Path) -> ConfigFile:
    """Read and check a config file, raising ``ConfigError`` naming each mistake."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    try:
        config = ConfigFile.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        ]
        raise ConfigError(f"config file {path} is invalid:\n  " + "\n  ".join(lines)) from exc
    _check_unique_credentials(config, path)
    return config


def _check_unique_credentials(config: ConfigFile, path: Path) -> None:
    seen: dict[str, str] = {}
    names: set[str] = set()
    for account in config.accounts:
        if account.name in names:
            raise ConfigError(f"config file {path}: account name {account.name!r} is repeated")
        names.add(account.name)
        for key in (*account.api_keys, *(c.client_id for c in account.oauth_clients)):
            owner = seen.setdefault(key, account.name)
            if owner != account.name:
                raise ConfigError(
                    f"config file {path}: a key or client id is used by both "
                    f"{owner!r} and {account.name!r}"
                )


class Settings(BaseSettings):
    """Everything the server needs to start; each field is a ``serve`` flag too."""

    model_config = SettingsConfigDict(env_prefix="MOCK_PURESMS_", extra="ignore")

    host: str = "127.0.0.1"
    """Interface to listen on."""
    port: int = Field(default=8080, ge=0, le=65535)
    """TCP port to listen on (0 picks a free one)."""
    scenario: str = "default"
    """A shipped scenario name or the path of a scenario file."""
    clock: Literal["real", "virtual"] = "real"
    """``real`` follows wall time; ``virtual`` moves only by ``POST /_mock/clock/advance``."""
    time_scale: float = Field(default=1.0, gt=0)
    """How much faster than wall time the real clock runs."""
    db: Path | None = None
    """SQLite file holding all state; in memory when unset."""
    config: Path | None = None
    """Config file with accounts and webhook tuning."""
    retention: str | None = None
    """Keep finished messages, replies and webhook deliveries this long (``7d``)."""
    max_messages: int | None = Field(default=None, ge=1)
    """Keep at most this many messages, deleting the oldest finished ones first."""
    admin_token: str | None = None
    """When set, every ``/_mock`` route but health needs ``Authorization: Bearer <token>``."""
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    """uvicorn's log level."""

    @property
    def logs_requests(self) -> bool:
        """Whether uvicorn's access log is shown at this level. When it is not, uvicorn
        is told so: it would still format every request's log line to drop it."""
        return self.log_level in ("info", "debug", "trace")

    @field_validator("retention")
    @classmethod
    def _check_retention(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)  # raises ValueError with the reason
        return value

    @property
    def retention_ms(self) -> int | None:
        return parse_duration(self.retention) if self.retention is not None else None

    def load_config(self) -> ConfigFile:
        """The config file's contents, or the defaults when none is given."""
        return load_config_file(self.config) if self.config is not None else ConfigFile()
