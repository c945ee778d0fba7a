"""A typed client of the mock's control surface (``/_mock``), as the pytest plugin uses it.

It works against any running mock (the plugin's, a Docker container, a CI service):
``ControlClient("http://localhost:8080")``. Every method returns typed objects
(``mock_puresms.control.models``), never raw dicts, and every error it raises starts
with ``mock-puresms:``.

At this layer HTTP is ``http.client`` on kept-alive connections (one per thread): a
control call costs a fraction of a millisecond, which is what lets the plugin reset the
mock before every test. Nothing here imports the server.
"""

from __future__ import annotations

import difflib
import http.client
import os
import select
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson

from mock_puresms.control.models import (
    ClockState,
    Fault,
    Message,
    Reply,
    ScenarioInfo,
    WebhookDelivery,
)
from mock_puresms.domain.statuses import DeliveryStatus

StatusLike = DeliveryStatus | int | str
"""A delivery status as a code (``2``), a name (``"Delivered"``, any case) or a member."""

_PAGE_SIZE = 1000
_NEAR_MISSES = 10


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


class Transport:
    """Kept-alive HTTP connections to one mock, one per thread, closed together."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"mock-puresms: {base_url!r} is not an http(s) base URL")
        self.base_url = base_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[http.client.HTTPConnection] = []

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it was used before."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None and not _dropped(connection):
            return connection, True
        if connection is not None:
            connection.close()
        factory = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = factory(self._host, self._port, timeout=self.timeout)
        self._local.connection = connection
        with self._lock:
            self._all = [c for c in self._all if c.sock is not None]
            self._all.append(connection)
        return connection, False

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        """Send one request; returns the status and the body."""
        target = self._prefix + path
        sent_headers = {"Accept": "application/json", **(headers or {})}
        if body is not None:
            sent_headers["Content-Length"] = str(len(body))
        while True:
            connection, reused = self._connection()
            if connection.sock is not None:
                connection.sock.settimeout(timeout or self.timeout)
            else:
                connection.timeout = timeout or self.timeout
            try:
                connection.request(method, target, body=body, headers=sent_headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()
                if reused:
                    continue  # the server closed an idle kept-alive connection: try anew
                raise
            except BaseException:
                connection.close()
                raise
            if response.will_close:
                connection.close()
            return response.status, data

    def close(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle kept-alive connection was closed by the server (it reads as ready)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class ControlClient:
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
        except (OSError, http.client.HTTPException) as exc:
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

    def reset(self, *, account: str | None = None, scenario: str | None = None) -> None:
        """Forget messages, replies, contacts, webhooks and faults (of one account, or all).

        ``scenario`` (a shipped name) is made active at the same time.
        """
        self._call("POST", "/_mock/reset", query={"account": account, "scenario": scenario})

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
        to: str | None = None,
        batch_reference: str | None = None,
        client_reference: str | None = None,
        status: StatusLike | None = None,
        is_test: bool | None = None,
    ) -> list[Message]:
        """Every message of every account (or of ``account``) matching the filters,
        newest first."""
        query = {
            "account": account,
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

    def reply(self, from_: str, to: str, content: str, *, account: str | None = None) -> Reply:
        """Simulate an inbound SMS: the phone ``from_`` texts the sender ``to``."""
        body = {"from": from_, "to": to, "content": content, "account": account}
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
    ) -> list[WebhookDelivery]:
        """Every webhook POST the mock made or owes (``state``: pending, delivered,
        failed), newest first."""
        query = {"url": url, "state": state, "account": account}
        return [WebhookDelivery.from_json(i) for i in self._pages("/_mock/webhooks", query)]

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
            near = _near_messages(reference, self.messages())
            raise AssertionError(f"mock-puresms: no message {reference}; {near}") from None
        if message.status is not wanted:
            history = " -> ".join(f"{c.status.label} ({_clock(c.at)})" for c in message.history)
            raise AssertionError(
                f"mock-puresms: message {reference} is {message.status.label}, not "
                f"{wanted.label}; its history: {history}; the mock's clock is at "
                f"{_clock(self.clock().now)}"
            )
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
        wanted_to = to.lstrip("+") if to is not None else None
        matches = [
            m
            for m in everything
            if (wanted_to is None or m.to == wanted_to)
            and (content is None or m.content == content)
            and (from_ is None or m.from_ == from_)
        ]
        if (count is None and matches) or (count is not None and len(matches) == count):
            return matches
        criteria = ", ".join(
            f"{name}={value!r}"
            for name, value in (("to", to), ("content", content), ("from_", from_))
            if value is not None
        )
        expected = f"{count} message(s)" if count is not None else "a message"
        raise AssertionError(
            f"mock-puresms: expected {expected} with {criteria or 'any values'}, found "
            f"{len(matches)}; {_list_messages(everything)}"
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


def _clock(moment: Any) -> str:
    return str(moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"))


def _summary(message: Message) -> str:
    content = message.content if len(message.content) <= 30 else message.content[:27] + "..."
    return f"{message.reference} to {message.to} ({message.status.label}) {content!r}"


def _list_messages(messages: Iterable[Message]) -> str:
    listed = list(messages)
    if not listed:
        return "the mock has no message at all"
    shown = "; ".join(_summary(m) for m in listed[:_NEAR_MISSES])
    more = f" and {len(listed) - _NEAR_MISSES} more" if len(listed) > _NEAR_MISSES else ""
    return f"the mock has {len(listed)} message(s): {shown}{more}"


def _near_messages(reference: str, messages: list[Message]) -> str:
    by_reference = {m.reference: m for m in messages}
    close = difflib.get_close_matches(reference, by_reference, n=3, cutoff=0.6)
    if close:
        return "did you mean " + ", ".join(_summary(by_reference[r]) for r in close) + "?"
    return _list_messages(messages)
