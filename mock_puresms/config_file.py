"""The config file (``--config``): its model, and a reader that names the file, the line
and the key path of every mistake (``mock.yaml:7: accounts[0].webhooks.replyUrl: ...``),
as the scenario reader does.

The YAML is composed into nodes first, to map each key path to its line; pydantic then
checks the values, and the ``loc`` of each of its errors is mapped back to a line.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mock_puresms.domain.rate_limits import MAX_REQUESTS, MAX_WINDOW_MS, RateLimit
from mock_puresms.domain.urls import webhook_url_problem
from mock_puresms.simulation.durations import parse_duration

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One mistake in a config file: where (1-based line, key path) and why."""

    line: int | None
    path: str
    reason: str

    def format(self, source_name: str) -> str:
        """``FILE:LINE: path: reason``, the way compilers report."""
        where = source_name if self.line is None else f"{source_name}:{self.line}"
        return f"{where}: {self.path}: {self.reason}" if self.path else f"{where}: {self.reason}"


class ConfigError(ValueError):
    """The config file cannot be used; ``problems`` lists every mistake, in line order."""

    def __init__(self, problems: list[ConfigProblem], *, source_name: str) -> None:
        self.problems = problems
        self.source_name = source_name
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(problem.format(self.source_name) for problem in self.problems)


# --------------------------------------------------------------------------- the model


class _ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class OAuthClientConfig(_ConfigModel):
    client_id: str = Field(alias="clientId", min_length=1)
    client_secret: str = Field(alias="clientSecret", min_length=1)


class WebhookUrls(_ConfigModel):
    delivery_receipt_url: str | None = Field(default=None, alias="deliveryReceiptUrl")
    reply_url: str | None = Field(default=None, alias="replyUrl")
    secret: str | None = None

    @field_validator("delivery_receipt_url", "reply_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        # The rule of PUT /v1/Account/Webhooks, so a file cannot hold what the API refuses.
        if value is not None and (problem := webhook_url_problem(value)):
            raise ValueError(f"{problem} (or be left out)")
        return value

    @field_validator("secret")
    @classmethod
    def _check_secret(cls, value: str | None) -> str | None:
        if value == "":
            raise ValueError("must not be empty; leave it out for unsigned webhooks")
        return value


class EndpointConfig(_ConfigModel):
    """A webhook endpoint of the current API (API.md 9.5); also the body of
    ``PUT /_mock/accounts/{account}/endpoints``, item by item."""

    url: str
    events: tuple[Literal[1, 2], ...] = (1, 2)
    secret: str | None = None
    format: Literal["observed", "documented"] = "observed"

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        # The webhook URL rule of every other place a URL is given.
        if problem := webhook_url_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("events")
    @classmethod
    def _check_events(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("must name at least one event type: 1 (receipts), 2 (inbound)")
        return tuple(sorted(set(value)))

    @field_validator("secret")
    @classmethod
    def _check_secret(cls, value: str | None) -> str | None:
        if value == "":
            raise ValueError("must not be empty; leave it out for unsigned webhooks")
        return value


class RateLimitConfig(_ConfigModel):
    """``rateLimit: {requests: 10, window: 1s}``: at most ``requests`` API requests of the
    account in any ``window`` of mock time; also the body of
    ``PUT /_mock/accounts/{account}/rate-limit``."""

    requests: int = Field(ge=1, le=MAX_REQUESTS)
    window_ms: int = Field(alias="window")

    @field_validator("window_ms", mode="before")
    @classmethod
    def _parse_window(cls, value: object) -> int:
        window = _duration_ms(value)
        if not 1 <= window <= MAX_WINDOW_MS:
            raise ValueError("must be a duration from 1ms to 24h, such as 1s or 1m")
        return window

    def limit(self) -> RateLimit:
        return RateLimit(self.requests, self.window_ms)


class AccountConfig(_ConfigModel):
    """One configured account; configuring any switches the server to strict mode."""

    name: str = Field(min_length=1)
    api_keys: tuple[str, ...] = Field(default=(), alias="apiKeys")
    oauth_clients: tuple[OAuthClientConfig, ...] = Field(default=(), alias="oauthClients")
    credits: int | None = Field(default=None, ge=0)
    webhooks: WebhookUrls = WebhookUrls()
    webhook_endpoints: tuple[EndpointConfig, ...] = Field(default=(), alias="webhookEndpoints")
    rate_limit: RateLimitConfig | None = Field(default=None, alias="rateLimit")


class OpenModeConfig(_ConfigModel):
    """What every account created in open mode starts with."""

    webhook_endpoints: tuple[EndpointConfig, ...] = Field(default=(), alias="webhookEndpoints")
    rate_limit: RateLimitConfig | None = Field(default=None, alias="rateLimit")


class PricingConfig(_ConfigModel):
    """Prices per SMS segment: the costs of the current API's receipts and reports."""

    gbp_per_segment: float | None = Field(default=None, alias="gbpPerSegment", ge=0)
    eur_per_segment: float | None = Field(default=None, alias="eurPerSegment", ge=0)


def _duration_ms(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be a duration such as 250ms, 10s, 5m, 24h")
    return parse_duration(value)


class WebhookTuning(_ConfigModel):
    """How receipts are batched and retried; durations are milliseconds once parsed."""

    max_batch: int = Field(default=100, alias="maxBatch", ge=1, le=10_000)
    batch_window_ms: int = Field(default=250, alias="batchWindow")
    timeout_ms: int = Field(default=10_000, alias="timeout")
    first_retry_ms: int = Field(default=1_000, alias="firstRetry")
    max_interval_ms: int = Field(default=300_000, alias="maxInterval")
    max_age_ms: int = Field(default=86_400_000, alias="maxAge")
    # The current API's endpoints: their own attempt timeout, and how many consecutive
    # failed attempts disable one (API.md 9.6).
    connect_timeout_ms: int = Field(default=45_000, alias="connectTimeout")
    disable_after: int = Field(default=50, alias="disableAfter", ge=1)

    @field_validator(
        "batch_window_ms",
        "timeout_ms",
        "connect_timeout_ms",
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
    open_mode: OpenModeConfig = Field(default=OpenModeConfig(), alias="openMode")
    pricing: PricingConfig = PricingConfig()


# --------------------------------------------------------------------------- reading


def load_config_file(path: Path) -> ConfigFile:
    """Read and check a config file, raising :class:`ConfigError` naming every mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        problem = ConfigProblem(None, "", f"cannot read: {reason}")
        raise ConfigError([problem], source_name=str(path)) from None
    return parse_config(text, source_name=str(path))


def parse_config(text: str, *, source_name: str = "<config>") -> ConfigFile:
    """Check config text (YAML or JSON); raises :class:`ConfigError` listing every mistake."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([_syntax_problem(exc)], source_name=source_name) from None
    lines = _Lines()
    if root is not None:
        lines.walk(root, ())
    problems = list(lines.problems)
    if data is not None and not isinstance(data, dict):
        problems.append(
            ConfigProblem(
                1,
                "",
                "the file must be a mapping with the keys accounts, webhooks, openMode, pricing",
            )
        )
        raise ConfigError(problems, source_name=source_name)
    try:
        config = ConfigFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems += [_problem(error, lines) for error in exc.errors()]
    else:
        problems += _repeated_credentials(config, lines)
    if problems:
        problems.sort(key=lambda p: p.line if p.line is not None else 0)
        raise ConfigError(problems, source_name=source_name)
    return config


def _syntax_problem(error: yaml.YAMLError) -> ConfigProblem:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(part for part in (error.context, error.problem) if part)
        return ConfigProblem(line, "", f"not valid YAML: {reason or 'cannot be read'}")
    if isinstance(error, yaml.reader.ReaderError):
        return ConfigProblem(None, "", f"not valid YAML: {error.reason}")
    return ConfigProblem(None, "", f"not valid YAML: {error}")


class _Lines:
    """The line of every key path in a composed YAML document; repeated keys are problems
    (YAML would silently keep the last one)."""

    def __init__(self) -> None:
        self.lines: dict[Loc, int] = {}
        self.problems: list[ConfigProblem] = []

    def walk(self, node: Node, loc: Loc) -> None:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if not isinstance(key, ScalarNode):
                    continue
                child = (*loc, key.value)
                line = key.start_mark.line + 1
                if child in self.lines:
                    first = self.lines[child]
                    self.problems.append(
                        ConfigProblem(line, _path(child), f"repeated (first on line {first})")
                    )
                    continue
                # The line of the key: where a reader looks for it.
                self.lines[child] = line
                self.walk(value, child)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, (*loc, index))

    def line_of(self, loc: Loc) -> int | None:
        """The line of ``loc``, or of its nearest ancestor written in the file."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None


def _path(loc: Loc) -> str:
    """``accounts[0].webhooks.replyUrl`` from pydantic's (or the walk's) location."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _problem(error: ErrorDetails, lines: _Lines) -> ConfigProblem:
    loc = tuple(error["loc"])
    return ConfigProblem(lines.line_of(loc), _path(loc), _reason(error))


_REASONS = {
    "missing": "missing: this key is required",
    "string_type": "must be text",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "string_too_short": "must not be empty",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "url_type": "must be text",
}


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _allowed_keys(tuple(error["loc"])[:-1])
        return "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    if kind == "greater_than_equal":
        return f"must be {ctx['ge']:g} or more"
    if kind == "less_than_equal":
        return f"must be {ctx['le']:g} or less"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    message = error["msg"]
    return _REASONS.get(kind, message[:1].lower() + message[1:])


def _allowed_keys(loc: Loc) -> list[str]:
    """The keys the model at ``loc`` accepts, as written in the file."""
    model: Any = ConfigFile
    for part in loc:
        if isinstance(part, int):
            continue
        field = next(
            (f for name, f in model.model_fields.items() if (f.alias or name) == part), None
        )
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``Model``, ``tuple[Model, ...]`` or ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (tuple, list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _repeated_credentials(config: ConfigFile, lines: _Lines) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    owners: dict[str, str] = {}
    names: set[str] = set()
    for index, account in enumerate(config.accounts):
        if account.name in names:
            loc: Loc = ("accounts", index, "name")
            problems.append(
                ConfigProblem(
                    lines.line_of(loc), _path(loc), f"account name {account.name!r} is repeated"
                )
            )
        names.add(account.name)
        credentials: list[tuple[Loc, str]] = [
            (("apiKeys", i), key) for i, key in enumerate(account.api_keys)
        ]
        credentials += [
            (("oauthClients", i, "clientId"), client.client_id)
            for i, client in enumerate(account.oauth_clients)
        ]
        for where, key in credentials:
            owner = owners.setdefault(key, account.name)
            if owner != account.name:
                loc = ("accounts", index, *where)
                problems.append(
                    ConfigProblem(
                        lines.line_of(loc),
                        _path(loc),
                        f"a key or client id is used by both {owner!r} and {account.name!r}",
                    )
                )
    return problems
