"""A typed client of the mock's control surface (``/_mock``), as the pytest plugin uses it.

It works against any running mock (the plugin's, a Docker container, a CI service):
``ControlClient("http://localhost:8080")``. Every method returns typed objects
(``mock_puresms.control.models``), never raw dicts, and every error it raises starts
with ``mock-puresms:``. HTTP is the ``Transport``'s business; how a failed assertion is
explained is ``asserts``'s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from mock_puresms.control.models import (
    ClockState,
    Fault,
    Message,
    Reply,
    ScenarioInfo,
    WebhookDelivery,
    WebhookEndpoint,
)
from mock_puresms.domain.accounts import open_mode_account_id
from mock_puresms.domain.statuses import DeliveryStatus
from mock_puresms.testing.client import asserts
from mock_puresms.testing.client.rate_limits import RateLimitCalls
from mock_puresms.testing.client.transport import Transport, TransportError

StatusLike = DeliveryStatus | int | str
"""A delivery status as a code (``2``), a name (``"Delivered"``, any case) or a member."""

_PAGE_SIZE = 1000


class MockPureSMSError(Exception):
    """The mock refused a control call, or could not be reached.

    ``status`` is the HTTP status (``None`` when the mock was not reached) and
    ``problem`` the problem+json body, when there was one.
    """

    def __init__(self, message: str, *, status: int | None = None, problem: Any = None) -> None:
        super().__init__(
            message if message.startswith("mock-puresms:") else f"mock-puresms: {message}"
        )
        self.status = status
        self.problem = problem


def parse_status(status: StatusLike) -> DeliveryStatus:
    """A status given as a code, a name or a member; ``ValueError`` naming the choices."""
    try:
        return DeliveryStatus.parse(status)
    except ValueError as exc:
        raise ValueError(f"mock-puresms: {status!r} is not a delivery status: {exc}") from None


class ControlClient(RateLimitCalls):
    """Inspect, steer and reset a running mock.

    ``api_key`` is the key tests send to the v1 surface (the pytest plugin makes a fresh
    one per test; in open mode it is a private account). ``admin_token`` is sent to
    ``/_mock`` when the mock was started with ``--admin-token``.
    """

    def __init__(
        self,
        base_url: str | Transport,
        *,
        api_key: str | None = None,
        admin_token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        if isinstance(base_url, Transport):
            self._transport = base_url
            self._owns_transport = False
        else:
            self._transport = Transport(base_url, timeout=timeout)
            self._owns_transport = True
        self.api_key = api_key
        self.admin_token = admin_token

    @property
    def base_url(self) -> str:
        """The mock's base URL, e.g. ``http://127.0.0.1:51234``: point the code under test here."""
        return self._transport.base_url

    def close(self) -> None:
        if self._owns_transport:
            self._transport.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- HTTP -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, object] | None = None,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        headers: dict[str, str] = {}
        if path.startswith("/_mock") and self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        if api_key is not None:
            headers["X-API-Key"] = api_key
        if json is not None:
            content = orjson.dumps(json)
            content_type = "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        if method != "GET" and content is None:
            content = b""
        target = path
        if query:
            pairs = [(k, _query_value(v)) for k, v in query.items() if v is not None]
            if pairs:
                target += "?" + urlencode(pairs)
        try:
            status, data = self._transport.request(
                method, target, body=content, headers=headers, timeout=timeout
            )
        except TransportError as exc:
            raise MockPureSMSError(
                f"cannot reach the mock at {self.base_url} ({method} {path}): {exc}"
            ) from exc
        parsed: Any = None
        if data:
            try:
                parsed = orjson.loads(data)
            except orjson.JSONDecodeError:
                parsed = data.decode("utf-8", "replace")
        if not 200 <= status < 300:
            raise MockPureSMSError(
                f"{method} {path} answered {status}: {_describe_problem(parsed)}",
                status=status,
                problem=parsed,
            )
        return parsed

    def _pages(self, path: str, query: Mapping[str, object], **kwargs: Any) -> list[Any]:
        items: list[Any] = []
        page = 1
        while True:
            body = self._call(
                "GET", path, query={**query, "page": page, "pageSize": _PAGE_SIZE}, **kwargs
            )
            items.extend(body["items"])
            if not body["items"] or len(items) >= body["totalCount"]:
                return items
            page += 1

    # -- the mock -------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "version": ...}``."""
        result: dict[str, Any] = self._call("GET", "/_mock/health")
        return result

    def reset(
        self,
        *,
        account: str | None = None,
        api_key: str | None = None,
        scenario: str | None = None,
    ) -> None:
        """Forget messages, replies, contacts, webhooks and faults (of one account, or all).

        The account is given by id or name (``account``) or by one of its API keys
        (``api_key``). ``scenario`` (a shipped name) is made active at the same time.
        """
        query = {"account": account, "apiKey": api_key, "scenario": scenario}
        self._call("POST", "/_mock/reset", query=query)

    def clock(self) -> ClockState:
        return ClockState.from_json(self._call("GET", "/_mock/clock"))

    def advance(self, seconds: float) -> ClockState:
        """Move the virtual clock; returns once everything due by then has happened,
        webhook POSTs included."""
        return ClockState.from_json(
            self._call("POST", "/_mock/clock/advance", json={"seconds": seconds})
        )

    def scenario(self) -> ScenarioInfo:
        return ScenarioInfo.from_json(self._call("GET", "/_mock/scenario"))

    def use_scenario(self, name_or_yaml: str | os.PathLike[str]) -> ScenarioInfo:
        """Make a scenario active: a shipped name (``"failures"``), a scenario file's path,
        or the YAML (or JSON) text of one."""
        if isinstance(name_or_yaml, os.PathLike) or _is_file_name(name_or_yaml):
            text = Path(name_or_yaml).read_text(encoding="utf-8")
        elif "\n" not in name_or_yaml and ":" not in name_or_yaml:
            return ScenarioInfo.from_json(
                self._call("PUT", "/_mock/scenario", query={"name": name_or_yaml})
            )
        else:
            text = name_or_yaml
        is_json = text.lstrip().startswith("{")
        return ScenarioInfo.from_json(
            self._call(
                "PUT",
                "/_mock/scenario",
                content=text.encode("utf-8"),
                content_type="application/json" if is_json else "application/yaml",
            )
        )

    # -- messages and replies ---------------------------------------------------------

    def messages(
        self,
        *,
        account: str | None = None,
        api_key: str | None = None,
        to: str | None = None,
        batch_reference: str | None = None,
        client_reference: str | None = None,
        status: StatusLike | None = None,
        is_test: bool | None = None,
    ) -> list[Message]:
        """Every message of every account (or of one: ``account``, an id or name, or
        ``api_key``, a key it sends with) matching the filters, newest first."""
        query = {
            "account": account,
            "apiKey": api_key,
            "to": to,
            "batchReference": batch_reference,
            "clientReference": client_reference,
            "deliveryStatus": parse_status(status) if status is not None else None,
            "isTest": is_test,
        }
        return [Message.from_json(item) for item in self._pages("/_mock/messages", query)]

    def message(self, reference: str) -> Message:
        """One message by reference, whichever account sent it."""
        return Message.from_json(self._call("GET", f"/_mock/messages/{_segment(reference)}"))

    def set_status(self, reference: str, status: StatusLike) -> Message:
        """Force a status now; a receipt follows and the rest of its lifecycle is dropped."""
        code = int(parse_status(status))
        return Message.from_json(
            self._call(
                "POST",
                f"/_mock/messages/{_segment(reference)}/status",
                json={"deliveryStatus": code},
            )
        )

    def wait_for(self, reference: str, status: StatusLike, timeout: float = 10.0) -> Message:
        """Block until the message has reached ``status`` (wall-time ``timeout`` seconds).

        Useful with a real clock; on the virtual clock, ``advance`` instead.
        """
        code = int(parse_status(status))
        return Message.from_json(
            self._call(
                "GET",
                "/_mock/wait",
                query={"reference": reference, "deliveryStatus": code, "timeout": timeout},
                timeout=timeout + 10,
            )
        )

    def reply(
        self,
        from_: str,
        to: str,
        content: str,
        *,
        account: str | None = None,
        api_key: str | None = None,
    ) -> Reply:
        """Simulate an inbound SMS: the phone ``from_`` texts the sender ``to``.

        The reply goes to ``account`` (an id or name), to the account of ``api_key``, or
        by default to the account that last sent to ``from_`` from ``to``.
        """
        body = {"from": from_, "to": to, "content": content, "account": account, "apiKey": api_key}
        return Reply.from_json(
            self._call("POST", "/_mock/replies", json={k: v for k, v in body.items() if v})
        )

    def replies(
        self,
        *,
        from_: str | None = None,
        in_reply_to: str | None = None,
        api_key: str | None = None,
    ) -> list[Reply]:
        """The replies of the account of ``api_key`` (this client's key by default),
        newest first."""
        key = api_key or self.api_key
        if not key:
            raise MockPureSMSError("replies() needs an api_key: pass one or set client.api_key")
        query = {"from": from_, "inReplyTo": in_reply_to}
        items = self._pages("/v1/Replies", query, api_key=key)
        return [Reply.from_json(item) for item in items]

    # -- webhooks and faults ----------------------------------------------------------

    def webhooks(
        self,
        *,
        url: str | None = None,
        state: str | None = None,
        account: str | None = None,
        api_key: str | None = None,
    ) -> list[WebhookDelivery]:
        """Every webhook POST the mock made or owes (``state``: pending, delivered,
        failed), newest first; of one account if given by ``account`` or ``api_key``."""
        query = {"url": url, "state": state, "account": account, "apiKey": api_key}
        return [WebhookDelivery.from_json(i) for i in self._pages("/_mock/webhooks", query)]

    def replay(self, delivery_id: str) -> WebhookDelivery:
        """Queue a failed webhook delivery again; its attempt numbers go on."""
        path = f"/_mock/webhooks/{quote(delivery_id, safe='')}/replay"
        return WebhookDelivery.from_json(self._call("POST", path))

    # -- the current API's webhook endpoints -----------------------------------------

    def _endpoints_path(self, account: str | None) -> str:
        if account is None:
            if not self.api_key:
                raise MockPureSMSError(
                    "endpoints need an account: pass account= or set client.api_key"
                )
            # In open mode an API key's account id follows from the key.
            account = open_mode_account_id(self.api_key)
        return f"/_mock/accounts/{quote(account, safe='')}/endpoints"

    def endpoints(self, *, account: str | None = None) -> list[WebhookEndpoint]:
        """The webhook endpoints of the current API of ``account`` (id or name; by
        default the open-mode account of this client's ``api_key``), in index order."""
        items = self._pages(self._endpoints_path(account), {})
        return [WebhookEndpoint.from_json(item) for item in items]

    def set_endpoints(
        self, endpoints: list[dict[str, Any]], *, account: str | None = None
    ) -> list[WebhookEndpoint]:
        """Replace the account's endpoints (each ``{url, events?, secret?, format?}``)."""
        body = self._call("PUT", self._endpoints_path(account), json=endpoints)
        return [WebhookEndpoint.from_json(item) for item in body["items"]]

    def add_endpoint(
        self,
        url: str,
        events: tuple[int, ...] = (1, 2),
        secret: str | None = None,
        format: str = "observed",
        *,
        account: str | None = None,
    ) -> WebhookEndpoint:
        """Add a webhook endpoint of the current API to the test's account: Connect
        events of type 1 (receipts) and 2 (inbound SMS) in ``events`` are POSTed to
        ``url`` one per request, signed with ``secret`` when given, in the ``observed``
        or ``documented`` format."""
        current = [endpoint.config() for endpoint in self.endpoints(account=account)]
        new = {"url": url, "events": list(events), "secret": secret, "format": format}
        return self.set_endpoints([*current, new], account=account)[-1]

    def enable_endpoint(self, index: int, *, account: str | None = None) -> WebhookEndpoint:
        """Enable an endpoint that repeated failures disabled; its failure count is reset."""
        path = f"{self._endpoints_path(account)}/{index}/enable"
        return WebhookEndpoint.from_json(self._call("POST", path))

    # -- webhook chaos ----------------------------------------------------------------

    def _chaos_path(self, account: str | None) -> str:
        return self._endpoints_path(account).removesuffix("/endpoints") + "/chaos"

    def chaos(
        self, *rules: Mapping[str, Any], seed: int | None = None, account: str | None = None
    ) -> dict[str, Any]:
        """Give the test's account webhook chaos of its own, overriding the scenario's
        ``webhooks:`` section: rules such as ``{"kind": "duplicate", "next": 1,
        "after": "30s"}`` (none: no chaos for this account). Returns what is in force;
        a reset (the plugin's, before each test) forgets it."""
        body: dict[str, Any] = {"chaos": [dict(rule) for rule in rules]}
        if seed is not None:
            body["seed"] = seed
        result: dict[str, Any] = self._call("PUT", self._chaos_path(account), json=body)
        return result

    def chaos_in_force(self, *, account: str | None = None) -> dict[str, Any]:
        """The webhook chaos in force for the account: ``{source, seed, chaos}``."""
        result: dict[str, Any] = self._call("GET", self._chaos_path(account))
        return result

    def clear_chaos(self, *, account: str | None = None) -> dict[str, Any]:
        """Drop the account's own webhook chaos: the scenario's applies again."""
        result: dict[str, Any] = self._call("DELETE", self._chaos_path(account))
        return result

    def fail_next(
        self,
        method: str,
        path: str,
        status: int = 503,
        times: int = 1,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        delay_ms: int = 0,
    ) -> Fault:
        """Make the next ``times`` ``method`` requests to ``path`` answer ``status``
        (with ``body``, else a problem+json body). ``path`` may end with ``*``."""
        fault = {
            "method": method,
            "path": path,
            "status": status,
            "times": times,
            "delayMs": delay_ms,
            "body": body,
            "headers": dict(headers) if headers else None,
        }
        return Fault.from_json(self._call("POST", "/_mock/faults", json=fault))

    def delay_next(self, method: str, path: str, delay_ms: int, times: int = 1) -> Fault:
        """Hold the next ``times`` matching requests ``delay_ms`` of wall time, then
        serve them normally."""
        fault = {"method": method, "path": path, "times": times, "delayMs": delay_ms}
        return Fault.from_json(self._call("POST", "/_mock/faults", json=fault))

    def faults(self) -> list[Fault]:
        return [Fault.from_json(item) for item in self._pages("/_mock/faults", {})]

    def clear_faults(self) -> int:
        """Remove every fault; returns how many there were."""
        deleted: int = self._call("DELETE", "/_mock/faults")["deleted"]
        return deleted

    # -- assertions -------------------------------------------------------------------

    def assert_status(self, reference: str, status: StatusLike) -> Message:
        """The message, once checked to be in ``status`` now; the failure lists near misses."""
        wanted = parse_status(status)
        try:
            message = self.message(reference)
        except MockPureSMSError as exc:
            if exc.status != 404:
                raise
            raise AssertionError(asserts.no_such_message(reference, self.messages())) from None
        if message.status is not wanted:
            raise AssertionError(asserts.wrong_status(message, wanted, self.clock().now))
        return message

    def assert_delivered(self, reference: str) -> Message:
        """The message, once checked to be ``Delivered``."""
        return self.assert_status(reference, DeliveryStatus.DELIVERED)

    def assert_sent(
        self,
        *,
        to: str | None = None,
        content: str | None = None,
        from_: str | None = None,
        count: int | None = None,
    ) -> list[Message]:
        """The messages sent with these values (any account); at least one, or exactly
        ``count``. The failure lists the messages that were sent."""
        everything = self.messages()
        matches = asserts.sent_matching(everything, to=to, content=content, from_=from_)
        if (count is None and matches) or (count is not None and len(matches) == count):
            return matches
        raise AssertionError(
            asserts.not_sent(
                everything, len(matches), to=to, content=content, from_=from_, count=count
            )
        )


def _is_file_name(text: str) -> bool:
    return "\n" not in text and text.endswith((".yaml", ".yml", ".json"))


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, DeliveryStatus):
        return str(int(value))
    return str(value)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _describe_problem(problem: Any) -> str:
    if isinstance(problem, dict):
        errors = problem.get("errors")
        if isinstance(errors, dict) and errors:
            return "; ".join(
                f"{key}: {' '.join(str(m) for m in messages)}" for key, messages in errors.items()
            )
        return str(problem.get("detail") or problem.get("title") or problem)
    return str(problem) if problem else "no body"
