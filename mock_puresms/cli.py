"""The ``mock-puresms`` command: serve | scenarios list/validate | config validate | openapi |
health.

Exit codes: 0 ok; 1 an invalid file (``validate``) or an unhealthy server (``health``);
2 a bad setting, config file, scenario or database, or a usage error; 3 cannot listen.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mock_puresms import exit_codes
from mock_puresms.version import __version__


def _serve_parser(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the mock server",
        description="Run the mock. Every flag also reads MOCK_PURESMS_<FLAG> "
        "(e.g. MOCK_PURESMS_PORT); flags win over the environment.",
    )
    # Values are checked by Settings, the same way for a flag and its variable, so the
    # message names both (argparse's type= and choices= would name only the flag).
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", help="port to listen on (default 8080; 0 = any free port)")
    serve.add_argument("--scenario", help="shipped scenario name or scenario file path")
    serve.add_argument("--clock", metavar="real|virtual", help="the mock's clock (default real)")
    serve.add_argument("--time-scale", help="speed of the real clock (default 1.0)")
    serve.add_argument("--db", help="keep all state in SQLite at this path")
    serve.add_argument("--config", help="config file with accounts and webhooks")
    serve.add_argument(
        "--retention", help="keep finished messages this long, e.g. 7d (default: for ever)"
    )
    serve.add_argument(
        "--max-messages",
        help="keep at most this many messages, replies and finished webhook deliveries "
        "(oldest finished go; default 1000000)",
    )
    serve.add_argument(
        "--header-timeout", help="seconds to send a request's headers, then 408 (default 10)"
    )
    serve.add_argument(
        "--body-timeout", help="seconds to send a request's body, then 408 (default 30)"
    )
    serve.add_argument(
        "--max-connections", help="connections served at once; more get 503 (default 1000)"
    )
    serve.add_argument("--admin-token", help="protect /_mock routes with this bearer token")
    serve.add_argument(
        "--log-level",
        metavar="critical|error|warning|info|debug|trace",
        help="log level (default info)",
    )
    serve.add_argument(
        "--log-format", metavar="text|json", help="text (default) or one JSON object a line"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mock-puresms",
        description="An offline mock of the PureSMS v1 SMS API.",
        epilog="Exit codes: 0 ok; 1 invalid file or unhealthy server; 2 bad setting, file "
        "or usage; 3 cannot listen.",
    )
    parser.add_argument("--version", action="version", version=f"mock-puresms {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _serve_parser(commands)
    scenarios = commands.add_parser("scenarios", help="list or validate scenario files")
    scenario_commands = scenarios.add_subparsers(dest="scenario_command", required=True)
    scenario_commands.add_parser("list", help="the shipped scenarios and what they do")
    validate = scenario_commands.add_parser("validate", help="check scenario files (exit 1)")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    config = commands.add_parser("config", help="validate config files")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    config_validate = config_commands.add_parser("validate", help="check config files (exit 1)")
    config_validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    commands.add_parser("openapi", help="print the OpenAPI document of the v1 surface")
    health = commands.add_parser(
        "health",
        help="exit 0 when a server answers health",
        description="Probe /_mock/health where `serve` with the same settings listens "
        "(--host/--port or MOCK_PURESMS_HOST/MOCK_PURESMS_PORT; 0.0.0.0 and :: are "
        "probed on loopback), or at --url.",
    )
    health.add_argument("--url", default=None, help="base URL (default: host and port)")
    health.add_argument("--host", help="the host serve listens on (default 127.0.0.1)")
    health.add_argument("--port", help="the port serve listens on (default 8080)")
    health.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep probing up to this long until the server is healthy",
    )
    return parser


def _serve(args: argparse.Namespace) -> int:
    from mock_puresms.serving import serve

    return serve({k: v for k, v in vars(args).items() if k != "command" and v is not None})


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
    return exit_codes.INVALID if failed else 0


def _config(args: argparse.Namespace) -> int:
    from mock_puresms.config_file import ConfigError, load_config_file

    failed = False
    for path in args.files:
        try:
            load_config_file(path)
        except ConfigError as exc:
            print(exc)
            failed = True
        else:
            print(f"{path}: ok")
    return exit_codes.INVALID if failed else 0


def _openapi() -> int:
    from mock_puresms.api.docs import openapi_json_bytes

    sys.stdout.write(openapi_json_bytes().decode("utf-8") + "\n")
    return 0


def _health(args: argparse.Namespace) -> int:
    from mock_puresms import health
    from mock_puresms.listening import url_for
    from mock_puresms.settings import Settings
    from mock_puresms.settings_errors import explain

    if args.url:
        base = args.url.rstrip("/")
    else:
        flags = {k: getattr(args, k) for k in ("host", "port") if getattr(args, k) is not None}
        try:
            settings = Settings(**flags)
        except ValidationError as exc:
            for line in explain(exc, flags):
                print(f"mock-puresms: {line}", file=sys.stderr)
            return exit_codes.BAD_SETTINGS
        if settings.port == 0:
            print(
                "mock-puresms: the port is 0 (any free port): give the server's --port or --url",
                file=sys.stderr,
            )
            return exit_codes.BAD_SETTINGS
        base = url_for(settings.host, settings.port)
    problem = health.wait(base, args.wait) if args.wait > 0 else health.check(base)
    if problem is not None:
        print(f"mock-puresms: {problem}", file=sys.stderr)
        return exit_codes.INVALID
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "scenarios":
        return _scenarios(args)
    if args.command == "config":
        return _config(args)
    if args.command == "openapi":
        return _openapi()
    return _health(args)
