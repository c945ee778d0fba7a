"""The pytest plugin (entry point ``pytest11``): a live mock per session, reset per test.

Fixtures:

- ``puresms_server`` (session): a real uvicorn server on a free loopback port, in a
  background thread, on the virtual clock, with fast webhook retries; ``.base_url``.
  ``MOCK_PURESMS_PLUGIN_HOST`` and ``MOCK_PURESMS_PLUGIN_PORT`` choose where it listens.
- ``puresms`` (function): a ``ControlClient`` for that server, whose ``api_key`` is
  fresh for each test; the server is reset before the test and runs the configured
  scenario: ``@pytest.mark.puresms(scenario=...)``, else ``--puresms-scenario``, else
  the ``puresms_scenario`` ini key, else ``default``. A scenario is a shipped name or a
  file's path (relative to the test file for the marker, to the invocation folder for
  the option, and to the ini file's folder for the ini key).
- ``webhook_sink`` (function): a real HTTP receiver on loopback (``WebhookSink``).

``@pytest.mark.puresms_chaos(*rules, seed=None)`` gives the test's account webhook
chaos of its own (``puresms.chaos(...)`` before the test starts), e.g.
``@pytest.mark.puresms_chaos({"kind": "duplicate", "next": 1, "after": "5s"})``.

This module imports only pytest and the standard library: it is loaded by every pytest
run where the package is installed, and the server's modules load when a fixture is
first used.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mock_puresms.testing.client import ControlClient, Transport
    from mock_puresms.testing.server_thread import ServerThread
    from mock_puresms.testing.webhook_sink import SinkServer, WebhookSink

HOST_ENV = "MOCK_PURESMS_PLUGIN_HOST"
PORT_ENV = "MOCK_PURESMS_PLUGIN_PORT"
DEFAULT_SCENARIO = "default"
MARKER = "puresms"
RATE_LIMIT_MARKER = "puresms_rate_limit"
CHAOS_MARKER = "puresms_chaos"

# Webhook tuning of the plugin's server: receipts leave at the instant of their status
# change (so ``advance(3)`` includes the receipt of a change due at 3 s), and a refused
# POST is retried within a fraction of a virtual second. ``timeout`` is wall time: how
# long one POST to a stuck receiver may hold an ``advance`` up.
FAST_WEBHOOKS = {
    "batchWindow": "0ms",
    "firstRetry": "100ms",
    "maxInterval": "2s",
    "timeout": "2s",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("puresms", "mock-puresms (PureSMS API mock)")
    group.addoption(
        "--puresms-scenario",
        dest="puresms_scenario",
        default=None,
        metavar="NAME_OR_PATH",
        help="scenario of the mock for every test: a shipped name "
        "(default, realistic, failures, slow, replies, replay) or a scenario file",
    )
    parser.addini(
        "puresms_scenario",
        help="scenario of the mock for every test (shipped name or file path); "
        "--puresms-scenario wins over it",
        default=None,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(scenario=NAME_OR_PATH): run this test's mock (the puresms fixture) "
        "with that scenario: a shipped name or a scenario file",
    )
    config.addinivalue_line(
        "markers",
        f"{RATE_LIMIT_MARKER}(requests, window='1s'): limit this test's account (the "
        "puresms fixture's api_key) to that many API requests in any window of mock time",
    )
    config.addinivalue_line(
        "markers",
        f"{CHAOS_MARKER}(*rules, seed=None): webhook chaos for this test's account (the "
        "puresms fixture), e.g. {'kind': 'duplicate', 'next': 1, 'after': '5s'}",
    )


@dataclass(frozen=True)
class ScenarioChoice:
    """A scenario to run: a shipped ``name``, or the text of a file at ``path``."""

    name: str | None = None
    path: Path | None = None

    def describe(self) -> str:
        return self.name if self.name is not None else str(self.path)


class PureSMSServer:
    """The session's mock: a real server on a loopback port, and a connection to it."""

    def __init__(self, thread: ServerThread, transport: Transport, default: ScenarioChoice):
        self._thread = thread
        self.transport = transport
        self.default_scenario = default
        self._texts: dict[Path, bytes] = {}

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the code under test's PureSMS base URL."""
        return self._thread.base_url

    @property
    def port(self) -> int:
        return self._thread.port

    @classmethod
    def start(cls, host: str, port: int, default: ScenarioChoice) -> PureSMSServer:
        from mock_puresms.app import create_app
        from mock_puresms.settings import ConfigFile, Settings, WebhookTuning
        from mock_puresms.testing.client import Transport
        from mock_puresms.testing.server_thread import ServerThread

        # Every setting is given (its default unless named here), so MOCK_PURESMS_*
        # variables meant for a standalone mock do not leak into the plugin's.
        values = {
            name: field.get_default(call_default_factory=True)
            for name, field in Settings.model_fields.items()
        }
        values.update(
            host=host, port=port, scenario=DEFAULT_SCENARIO, clock="virtual", log_level="warning"
        )
        settings = Settings(**values)
        config = ConfigFile(webhooks=WebhookTuning.model_validate(FAST_WEBHOOKS))
        thread = ServerThread(settings, app=create_app(settings, config=config))
        try:
            thread.start()
        except RuntimeError as exc:
            thread.stop()
            raise RuntimeError(
                f"mock-puresms: the plugin's mock could not listen on {host}:{port} "
                f"(set {HOST_ENV} / {PORT_ENV} to change it)"
            ) from exc
        return cls(thread, Transport(thread.base_url), default)

    def client(self, api_key: str | None = None) -> ControlClient:
        """A control client on the session's connections."""
        from mock_puresms.testing.client import ControlClient

        return ControlClient(self.transport, api_key=api_key)

    def prepare(self, scenario: ScenarioChoice) -> None:
        """Reset the mock and make ``scenario`` active: one request for a shipped one."""
        client = self.client()
        if scenario.name is not None:
            client.reset(scenario=scenario.name)
            return
        assert scenario.path is not None
        text = self._texts.get(scenario.path)
        if text is None:
            text = self._texts[scenario.path] = scenario.path.read_bytes()
        client.reset()
        client.use_scenario(text.decode("utf-8"))

    def stop(self) -> None:
        self.transport.close()
        self._thread.stop()


def _shipped_names() -> list[str]:
    from mock_puresms.simulation.scenarios import shipped_scenarios

    return [shipped.name for shipped in shipped_scenarios()]


def resolve_scenario(value: str, base: Path, where: str) -> ScenarioChoice:
    """A shipped name, or a file (relative paths from ``base``); ``where`` names the
    setting in the error."""
    names = _shipped_names()
    if value in names:
        return ScenarioChoice(name=value)
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    if path.is_file():
        return ScenarioChoice(path=path.resolve())
    raise pytest.UsageError(
        f"mock-puresms: {where} names scenario {value!r}, which is neither a shipped "
        f"scenario ({', '.join(names)}) nor a file (looked for {path})"
    )


def _configured_scenario(config: pytest.Config) -> ScenarioChoice:
    option = config.getoption("puresms_scenario", None)
    if option:
        return resolve_scenario(option, config.invocation_params.dir, "--puresms-scenario")
    ini = config.getini("puresms_scenario")
    if ini:
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        return resolve_scenario(str(ini), base, "the ini key puresms_scenario")
    return ScenarioChoice(name=DEFAULT_SCENARIO)


def _marked_scenario(request: pytest.FixtureRequest) -> ScenarioChoice | None:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return None
    unknown = set(marker.kwargs) - {"scenario"}
    if unknown or len(marker.args) > 1 or (marker.args and "scenario" in marker.kwargs):
        raise pytest.UsageError(
            f"mock-puresms: @pytest.mark.{MARKER} takes one argument, scenario=NAME_OR_PATH; "
            f"got args {marker.args!r} and kwargs {marker.kwargs!r}"
        )
    value = marker.kwargs.get("scenario", marker.args[0] if marker.args else None)
    if not isinstance(value, str | os.PathLike):
        raise pytest.UsageError(
            f"mock-puresms: @pytest.mark.{MARKER}(scenario=...) needs a shipped name or a "
            f"path, got {value!r}"
        )
    return resolve_scenario(str(value), request.path.parent, f"@pytest.mark.{MARKER}")


def _listen_address() -> tuple[str, int]:
    host = os.environ.get(HOST_ENV) or "127.0.0.1"
    raw_port = os.environ.get(PORT_ENV) or "0"
    try:
        port = int(raw_port)
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise pytest.UsageError(
            f"mock-puresms: {PORT_ENV}={raw_port!r} is not a port number (0 to 65535)"
        ) from None
    return host, port


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test that used the mock names its inbox, to open while debugging."""
    report: pytest.TestReport = yield
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    server = funcargs.get("puresms_server")
    if report.failed and isinstance(server, PureSMSServer):
        line = f"inbox: {server.base_url}/"
        report.sections.append(("mock-puresms", line))
        if item.config.getoption("usepdb", False):
            # --pdb stops before the summary: say it now, while the server is paused with it.
            reporter = item.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"\nmock-puresms {line}")
    return report


@pytest.fixture(scope="session")
def puresms_server(pytestconfig: pytest.Config) -> Iterator[PureSMSServer]:
    """A mock on a loopback port for the whole session: virtual clock, fast webhooks."""
    default = _configured_scenario(pytestconfig)
    host, port = _listen_address()
    server = PureSMSServer.start(host, port, default)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def puresms(puresms_server: PureSMSServer, request: pytest.FixtureRequest) -> ControlClient:
    """A control client of the session's mock, reset for this test, with a fresh api_key."""
    scenario = _marked_scenario(request) or puresms_server.default_scenario
    puresms_server.prepare(scenario)
    client = puresms_server.client(api_key="pytest-" + secrets.token_hex(8))
    marker = request.node.get_closest_marker(RATE_LIMIT_MARKER)
    if marker is not None:
        _apply_rate_limit(client, marker)
    chaos = request.node.get_closest_marker(CHAOS_MARKER)
    if chaos is not None:
        unknown = set(chaos.kwargs) - {"seed"}
        if unknown or not all(isinstance(rule, dict) for rule in chaos.args):
            raise pytest.UsageError(
                f"mock-puresms: @pytest.mark.{CHAOS_MARKER} takes chaos rules (dicts) and "
                f"seed=; got args {chaos.args!r} and kwargs {chaos.kwargs!r}"
            )
        client.chaos(*chaos.args, seed=chaos.kwargs.get("seed"))
    return client


def _apply_rate_limit(client: ControlClient, marker: pytest.Mark) -> None:
    """``@pytest.mark.puresms_rate_limit(requests, window="1s")`` on the test's account."""
    from mock_puresms.testing.client import MockPureSMSError

    usage = (
        f"mock-puresms: @pytest.mark.{RATE_LIMIT_MARKER} takes (requests, window='1s'), "
        f"e.g. @pytest.mark.{RATE_LIMIT_MARKER}(10, '1s'); got args {marker.args!r} and kwargs "
        f"{marker.kwargs!r}"
    )
    try:
        bound = _rate_limit_signature(*marker.args, **marker.kwargs)
    except TypeError:
        raise pytest.UsageError(usage) from None
    try:
        client.rate_limit(*bound)
    except MockPureSMSError as exc:
        raise pytest.UsageError(f"{usage}: {exc}") from None


def _rate_limit_signature(requests: Any, window: Any = "1s") -> tuple[int, str | float]:
    return requests, window


@pytest.fixture(scope="session")
def puresms_sink_server() -> Iterator[SinkServer]:
    """The listening socket behind every ``webhook_sink`` of the session."""
    from mock_puresms.testing.webhook_sink import SinkServer

    host, _ = _listen_address()
    server = SinkServer(host)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def webhook_sink(puresms_sink_server: SinkServer) -> Iterator[WebhookSink]:
    """A real HTTP receiver for this test: ``.url``, ``.requests``, ``.respond_with()``."""
    sink = puresms_sink_server.sink()
    try:
        yield sink
    finally:
        puresms_sink_server.drop(sink)
