"""The ``mock-puresms`` command: serve | scenarios list/validate | openapi | health."""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mock_puresms import collector
from mock_puresms.version import __version__


def _serve_parser(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the mock server",
        description="Run the mock. Every flag also reads MOCK_PURESMS_<FLAG> "
        "(e.g. MOCK_PURESMS_PORT); flags win over the environment.",
    )
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080; 0 = any)")
    serve.add_argument("--scenario", help="shipped scenario name or scenario file path")
    serve.add_argument("--clock", choices=["real", "virtual"], help="the mock's clock")
    serve.add_argument("--time-scale", type=float, help="speed of the real clock (default 1.0)")
    serve.add_argument("--db", type=Path, help="keep all state in SQLite at this path")
    serve.add_argument("--config", type=Path, help="config file with accounts and webhooks")
    serve.add_argument(
        "--retention", help="keep finished messages this long, e.g. 7d (default: for ever)"
    )
    serve.add_argument(
        "--max-messages", type=int, help="keep at most this many messages (oldest finished go)"
    )
    serve.add_argument("--admin-token", help="protect /_mock routes with this bearer token")
    serve.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="log level (default info)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mock-puresms", description="An offline mock of the PureSMS v1 SMS API."
    )
    parser.add_argument("--version", action="version", version=f"mock-puresms {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _serve_parser(commands)
    scenarios = commands.add_parser("scenarios", help="list or validate scenario files")
    scenario_commands = scenarios.add_subparsers(dest="scenario_command", required=True)
    scenario_commands.add_parser("list", help="the shipped scenarios and what they do")
    validate = scenario_commands.add_parser("validate", help="check scenario files")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    commands.add_parser("openapi", help="print the OpenAPI document of the v1 surface")
    health = commands.add_parser("health", help="exit 0 when a local server answers health")
    health.add_argument("--url", default=None, help="base URL (default: host and port settings)")
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mock_puresms.app import create_app, mock_for
    from mock_puresms.server import MockServer
    from mock_puresms.settings import ConfigError, Settings
    from mock_puresms.simulation.scenarios import ScenarioError
    from mock_puresms.storage.sqlite.migrations import SchemaTooNew

    flags = {
        name: value
        for name, value in vars(args).items()
        if name not in ("command",) and value is not None
    }
    try:
        settings = Settings(**flags)
        app = create_app(settings)
    except ValidationError as exc:
        print(f"mock-puresms: invalid setting: {exc}", file=sys.stderr)
        return 2
    except (ConfigError, ScenarioError) as exc:
        print(f"mock-puresms: {exc}", file=sys.stderr)
        return 2
    except (SchemaTooNew, sqlite3.Error) as exc:
        print(f"mock-puresms: cannot use --db {settings.db}: {exc}", file=sys.stderr)
        return 2
    collector.manage_for_server()
    mock_for(app).subscribe(collector.on_event)
    server = MockServer(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=settings.logs_requests,
        )
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    # uvicorn's own exit status when it could not start (e.g. the port is taken).
    return 0 if server.started else 3


def _scenarios(args: argparse.Namespace) -> int:
    from mock_puresms.simulation.scenarios import (
        ScenarioError,
        parse_scenario,
        shipped_scenarios,
    )

    if args.scenario_command == "list":
        for shipped in shipped_scenarios():
            print(f"{shipped.name:<12} {shipped.description}")
        return 0
    failed = False
    for path in args.files:
        try:
            parse_scenario(path.read_text(encoding="utf-8"), source_name=str(path))
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}")
            failed = True
        except ScenarioError as exc:
            print(exc)
            failed = True
        else:
            print(f"{path}: ok")
    return 1 if failed else 0


def _openapi() -> int:
    from mock_puresms.api.docs import openapi_json_bytes

    sys.stdout.write(openapi_json_bytes().decode("utf-8") + "\n")
    return 0


def _health(args: argparse.Namespace) -> int:
    from mock_puresms.settings import Settings

    if args.url:
        base = args.url.rstrip("/")
    else:
        settings = Settings()
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        base = f"http://{host}:{settings.port}"
    try:
        with urllib.request.urlopen(f"{base}/_mock/health", timeout=5) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"mock-puresms: {base} is not healthy: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "scenarios":
        return _scenarios(args)
    if args.command == "openapi":
        return _openapi()
    return _health(args)
