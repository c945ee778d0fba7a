"""The control client's transport: ``http.client`` kept-alive connections against httpx.

Issue 12 asked for httpx (a dependency already) unless it cost the plugin's per-test
reset more than 0.5 ms. This measures that reset (``puresms``'s work: a reset with the
scenario, a client with a fresh key) against the plugin's in-process server, with the
package's ``Transport`` and with an ``httpx.Client`` pool doing the same requests.
Blocks of ``--tests`` resets alternate between the two in one run (``--rounds`` each),
so both see the same machine load; reported: wall time per reset, CPU time of the
calling thread per reset, and the median of the per-round differences.

    python benchmarks/bench_control_transport.py [--tests 200] [--rounds 40]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from collections.abc import Mapping

import httpx

from mock_puresms.testing.client import ControlClient, Transport
from mock_puresms.testing.pytest_plugin import PureSMSServer, ScenarioChoice


class HttpxTransport(Transport):
    """The same requests on an ``httpx.Client`` keep-alive pool."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        super().__init__(base_url, timeout=timeout)
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            trust_env=False,
            headers={"Accept": "application/json"},
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        response = self._client.request(
            method, path, content=body, headers=headers, timeout=timeout or self.timeout
        )
        return response.status_code, response.content

    def close(self) -> None:
        self._client.close()
        super().close()


def resets(transport: Transport, tests: int) -> tuple[float, float]:
    """Wall and calling-thread CPU milliseconds per reset, over ``tests`` resets."""
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(tests):
        ControlClient(transport).reset(scenario="default")
        ControlClient(transport, api_key="pytest-" + secrets.token_hex(8))
    return (
        (time.perf_counter() - wall) / tests * 1000,
        (time.thread_time() - cpu) / tests * 1000,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    server = PureSMSServer.start("127.0.0.1", 0, ScenarioChoice(name="default"))
    transports = {
        "http.client": Transport(server.base_url),
        "httpx": HttpxTransport(server.base_url),
    }
    try:
        for transport in transports.values():
            resets(transport, args.tests)  # warm-up: connections open, code paths hot
        walls: dict[str, list[float]] = {name: [] for name in transports}
        cpus: dict[str, list[float]] = {name: [] for name in transports}
        names = list(transports)
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else names[::-1]:
                wall, cpu = resets(transports[name], args.tests)
                walls[name].append(wall)
                cpus[name].append(cpu)
    finally:
        for transport in transports.values():
            transport.close()
        server.stop()

    for name in names:
        print(
            f"{name:12} per reset  wall {statistics.median(walls[name]):6.3f} ms   "
            f"calling-thread CPU {statistics.median(cpus[name]):6.3f} ms"
        )
    wall = statistics.median(map(float.__sub__, walls["httpx"], walls["http.client"]))
    cpu = statistics.median(map(float.__sub__, cpus["httpx"], cpus["http.client"]))
    print(f"httpx - http.client (median per round)  wall {wall:+.3f} ms   CPU {cpu:+.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
