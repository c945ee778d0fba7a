"""Settings: one object built from flags, environment variables, the config file and defaults.

Precedence is flags > environment (``MOCK_PURESMS_*``) > defaults; the config file
(``--config``, read by :mod:`mock_puresms.config_file`) holds what does not fit a flag:
accounts and webhook tuning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mock_puresms.config_file import (
    AccountConfig,
    ConfigError,
    ConfigFile,
    EndpointConfig,
    OAuthClientConfig,
    OpenModeConfig,
    PricingConfig,
    RateLimitConfig,
    WebhookTuning,
    WebhookUrls,
    load_config_file,
)
from mock_puresms.simulation.durations import parse_duration

# The config file's names, imported from here by the rest of the package.
__all__ = [
    "AccountConfig",
    "ConfigError",
    "ConfigFile",
    "EndpointConfig",
    "OAuthClientConfig",
    "OpenModeConfig",
    "PricingConfig",
    "RateLimitConfig",
    "Settings",
    "WebhookTuning",
    "WebhookUrls",
    "load_config_file",
]


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
    time_scale: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    """How much faster than wall time the real clock runs."""
    db: Path | None = None
    """SQLite file holding all state; in memory when unset."""
    config: Path | None = None
    """Config file with accounts and webhook tuning."""
    retention: str | None = None
    """Keep finished messages, replies and webhook deliveries this long (``7d``)."""
    max_messages: int | None = Field(default=1_000_000, ge=1)
    """Keep at most this many messages (and as many replies and finished webhook
    deliveries), deleting the oldest finished ones first; a bound by default, so a
    long-running mock cannot grow without limit."""
    header_timeout: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    """Seconds a client has to send a request's line and headers (from connecting, or
    from the first byte of a kept-alive connection's next request); then ``408``."""
    body_timeout: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    """Seconds a client has to send a request's body once its headers are in; then
    ``408``."""
    max_connections: int = Field(default=1000, ge=1)
    """Open connections served at once; one more is answered ``503`` and closed."""
    admin_token: str | None = None
    """When set, every ``/_mock`` route but health needs ``Authorization: Bearer <token>``."""
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    """The level of uvicorn's and the mock's logs."""
    log_format: Literal["text", "json"] = "text"
    """``text`` for people; ``json``: one JSON object a line, for log collectors."""

    @field_validator("clock", "log_level", "log_format", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        # MOCK_PURESMS_LOG_LEVEL=INFO is as clear as info.
        return value.strip().lower() if isinstance(value, str) else value

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
