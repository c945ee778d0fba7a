"""The pytest plugin's costs: session start-up, and the per-test reset of ``puresms``.

Targets: the session server starts in under 1 s; 1,000 tests that use ``puresms`` pay
under 1 s in total for it.

Three measurements, each the best of ``--rounds`` runs:

1. start-up, in a fresh interpreter: importing the plugin, then starting
   ``puresms_server`` (importing the server's modules, building the app, uvicorn up);
2. the fixture's own work 1,000 times in one process (reset with the scenario, a
   client with a fresh key), as ``puresms`` does it before each test;
3. end to end: pytest on 1,000 tests that take ``puresms`` against 1,000 that take
   nothing, in subprocesses; the difference is what the fixture costs them.

    python benchmarks/bench_plugin.py [--tests 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

_STARTUP = """
import time
started = time.perf_counter()
import mock_puresms.testing.pytest_plugin as plugin
imported = time.perf_counter()
server = plugin.PureSMSServer.start("127.0.0.1", 0, plugin.ScenarioChoice(name="default"))
up = time.perf_counter()
server.client().health()
server.stop()
print(imported - started, up - imported)
"""


def startup(rounds: int) -> tuple[float, float]:
    """Seconds to import the plugin, and to start the session server (best of rounds)."""
    results = []
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, "-c", _STARTUP], check=True, capture_output=True, text=True
        ).stdout
        imported, up = (float(x) for x in out.split())
        results.append((imported, up))
    return min(r[0] for r in results), min(r[1] for r in results)


def fixture_loop(tests: int, rounds: int) -> float:
    """Seconds the fixture's per-test work takes ``tests`` times (best of rounds)."""
    import secrets

    from mock_puresms.testing.pytest_plugin import PureSMSServer, ScenarioChoice

    default = ScenarioChoice(name="default")
    server = PureSMSServer.start("127.0.0.1", 0, default)
    try:
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(tests):
                server.prepare(default)
                server.client(api_key="pytest-" + secrets.token_hex(8))
            best = min(best, time.perf_counter() - started)
        return best
    finally:
        server.stop()


def _pytest_seconds(folder: Path, name: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name],
        cwd=folder,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return time.perf_counter() - started


def end_to_end(tests: int, rounds: int) -> tuple[float, float]:
    """Seconds pytest takes for ``tests`` tests with ``puresms`` and without it."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text("[pytest]\n")
        body = "\n".join(f"def test_{i}(puresms):\n    pass\n" for i in range(tests))
        plain = "\n".join(f"def test_{i}():\n    pass\n" for i in range(tests))
        # One plain test that also starts the session server, so only resets differ.
        (folder / "test_with.py").write_text(body)
        (folder / "test_without.py").write_text(
            plain
            + "\n"
            + textwrap.dedent("""
                def test_server(puresms_server):
                    pass
            """)
        )
        with_fixture = min(_pytest_seconds(folder, "test_with.py") for _ in range(rounds))
        without = min(_pytest_seconds(folder, "test_without.py") for _ in range(rounds))
        return with_fixture, without


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    imported, up = startup(args.rounds)
    loop = fixture_loop(args.tests, args.rounds)
    with_fixture, without = end_to_end(args.tests, args.rounds)
    per_test = (with_fixture - without) / args.tests

    print(f"plugin import                 {imported * 1000:7.0f} ms")
    print(f"session server start          {up * 1000:7.0f} ms   (target < 1000 ms)")
    print(f"fixture work x{args.tests:<6}          {loop * 1000:7.0f} ms   (target < 1000 ms)")
    print(f"  per test                    {loop / args.tests * 1000:7.3f} ms")
    print(f"pytest, {args.tests} tests with puresms {with_fixture * 1000:7.0f} ms")
    print(f"pytest, {args.tests} tests without      {without * 1000:7.0f} ms")
    print(f"  fixture cost per test       {per_test * 1000:7.3f} ms (with pytest's own)")
    ok = up < 1 and loop < 1
    print("OK" if ok else "OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
