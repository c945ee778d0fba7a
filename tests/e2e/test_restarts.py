"""``serve --db``: a real server killed and started again on the same file loses nothing.

Every server here is a ``python -m mock_puresms serve`` subprocess on a free loopback
port. A test stops it with SIGTERM (a clean shutdown) or SIGKILL (a crash: nothing runs
after the signal), starts it again on the same SQLite file and checks that whatever a
client was told has happened is still there, and that the simulation carries on from
where it stood. The ``launch`` fixture kills every server it started when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from mock_puresms import Settings, create_app
from mock_puresms.domain.accounts import open_mode_account_id
from mock_puresms.domain.timestamps import format_ms, parse_iso
from mock_puresms.storage.sqlite.migrations import MIGRATIONS, migrate
from mock_puresms.testing.webhook_sink import SinkServer

START_TIMEOUT = 30.0
KEY = "restart-key"
HEADERS = {"X-API-Key": KEY}

# Strict mode: one account with an API key, an OAuth client and a credit balance.
CONFIG = """\
accounts:
  - name: acme
    apiKeys: [acme-key]
    oauthClients: [{clientId: acme-app, clientSecret: s3cret}]
    credits: 1000
webhooks: {batchWindow: 250ms, firstRetry: 1s, maxInterval: 1m}
"""
ACME = {"X-API-Key": "acme-key"}


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """This process's environment without MOCK_PURESMS_* variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MOCK_PURESMS_")}


@dataclass
class Served:
    """One running ``serve`` process on the test's database file."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=headers or HEADERS, timeout=60)

    def stop(self, sig: signal.Signals) -> int:
        """Send ``sig`` and wait for the process to end (SIGKILL after 15 s)."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"mock-puresms ignored {sig.name} for 15 s:\n{self.log.read_text()}")


Launch = Callable[..., Served]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    """Start ``serve --db`` processes; each still running at the end is killed."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(db: Path, *args: str) -> Served:
        port = free_port()
        log = tmp_path / f"serve-{len(processes)}.log"
        command = [sys.executable, "-m", "mock_puresms", "serve", "--port", str(port)]
        command += ["--db", str(db), "--log-level", "warning", *args]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=clean_env()
            )
        processes.append(process)
        served = Served(process, f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(served.base_url + "/_mock/health", timeout=1).status_code == 200:
                    return served
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"serve did not answer in {START_TIMEOUT} s:\n{log.read_text()}")
            time.sleep(0.02)

    try:
        yield start
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


# ------------------------------------------------------------------------------ helpers


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


def clock_ms(client: httpx.Client) -> int:
    return parse_iso(ok(client.get("/_mock/clock"))["now"])


def advance(client: httpx.Client, seconds: float) -> None:
    ok(client.post("/_mock/clock/advance", json={"seconds": seconds}))


def send(client: httpx.Client, to: str, sender: str = "Acme", **fields: Any) -> dict[str, Any]:
    body = {"to": to, "from": sender, "content": f"Hello {to}", **fields}
    result: dict[str, Any] = ok(client.post("/v1/Sms/Send", json=body))
    return result


def offsets(message: dict[str, Any], origin: int) -> list[tuple[str, int]]:
    """Each history entry as (status name, ms after ``origin``)."""
    return [(e["deliveryStatusName"], parse_iso(e["at"]) - origin) for e in message["history"]]


def every(client: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(client.get(path, params={"pageSize": "1000", **params}))[
        "items"
    ]
    return items


def snapshot(client: httpx.Client) -> dict[str, Any]:
    """Everything a client of the mock can see, for before/after comparisons."""
    return {
        "clock": ok(client.get("/_mock/clock")),
        "messages": every(client, "/_mock/messages"),
        "batch": ok(client.get("/v1/Sms/Batch/BATCH-1")),
        "replies": every(client, "/v1/Replies"),
        "contacts": every(client, "/v1/Contacts"),
        "groups": every(client, "/v1/ContactGroups"),
        "account": ok(client.get("/v1/Account")),
        "webhooks": ok(client.get("/v1/Account/Webhooks")),
        "deliveries": every(client, "/_mock/webhooks"),
    }


def batch_count(client: httpx.Client, batch_reference: str) -> int:
    page = ok(
        client.get("/_mock/messages", params={"batchReference": batch_reference, "pageSize": "1"})
    )
    count: int = page["totalCount"]
    return count


# ------------------------------------------------------------- everything acknowledged


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_everything_acknowledged_survives_a_restart_and_carries_on(
    launch: Launch, tmp_path: Path, sig: signal.Signals
) -> None:
    db = tmp_path / "mock.db"
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    args = ("--clock", "virtual", "--config", str(config))
    sinks = SinkServer()
    receiver = sinks.sink(at_root=True)
    try:
        first = launch(db, *args)
        with first.client(ACME) as client:
            t0 = clock_ms(client)
            token = ok(
                client.post(
                    "/connect/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": "acme-app",
                        "client_secret": "s3cret",
                    },
                )
            )["access_token"]
            ok(
                client.put(
                    "/v1/Account/Webhooks",
                    json={
                        "deliveryReceiptUrl": receiver.url_for("/receipts"),
                        "replyUrl": receiver.url_for("/replies"),
                        "secret": "whsec",
                    },
                )
            )
            ada = ok(
                client.post(
                    "/v1/Contacts",
                    json={"phoneNumber": "447700900200", "firstName": "Ada", "custom": {"k": "v"}},
                ),
                201,
            )
            ok(client.post("/v1/Contacts", json={"phoneNumber": "447700900201"}), 201)
            group = ok(client.post("/v1/ContactGroups", json={"name": "VIP"}), 201)
            ok(
                client.post(
                    f"/v1/ContactGroups/{group['id']}/Contacts", json={"contactIds": [ada["id"]]}
                )
            )

            delivered = send(client, "447700900000", clientReference="single")
            send(client, "447700900001")  # Undeliverable at +3 s
            stop_acme = send(client, "447700900006")  # STOP comes back 5 s after delivery
            scheduled = send(client, "447700900300", sendAt=format_ms(t0 + 10_000))
            bearer = {"Authorization": f"Bearer {token}"}
            with first.client(bearer) as oauth:  # a bulk send authenticated by the token
                ok(
                    oauth.post(
                        "/v1/Sms/SendBulk",
                        json={
                            "batchReference": "BATCH-1",
                            "from": "Acme",
                            "content": "Bulk hello",
                            "messages": [{"to": f"44770090040{i}"} for i in range(3)],
                        },
                    )
                )
            ok(
                client.post(
                    "/v1/Sms/Send?isTest=true",
                    json={"to": "447700900500", "from": "Acme", "content": "t"},
                )
            )
            advance(client, 3.5)  # all delivered at t0 + 3 s; one STOP owed at t0 + 8 s

            enroute = send(client, "447700900100")  # at t0 + 3.5 s
            stop_other = send(client, "447700900006", sender="Other")
            ok(
                client.post(
                    "/_mock/replies",
                    json={"from": "447700900000", "to": "Acme", "content": "Thanks"},
                )
            )
            # Enroute at t0 + 4.5 s; their receipts are owed (the batch window ends at 4.75).
            advance(client, 1.2)
            before = snapshot(client)
        posts_before = len(receiver.posts())

        # uvicorn re-raises SIGTERM once it has shut down cleanly: the status says -15.
        assert first.stop(sig) == -sig
        second = launch(db, *args)

        with second.client(ACME) as client:
            assert snapshot(client) == before
            # The numbers behind that equality, so a regression says what went missing.
            assert before["clock"]["now"] == format_ms(t0 + 4_700)
            assert before["account"]["credits"] == 1000 - 9  # 9 live messages, the test one free
            assert before["batch"]["count"] == 3
            assert before["batch"]["statusCounts"] == {"Delivered": 3}
            assert [r["content"] for r in before["replies"]] == ["Thanks"]
            assert len(before["contacts"]) == 2 and len(before["groups"]) == 1
            assert before["webhooks"]["secret"] == "whsec"
            by_ref = {m["reference"]: m for m in before["messages"]}
            assert by_ref[enroute["reference"]]["deliveryStatusName"] == "Enroute"
            assert offsets(by_ref[delivered["reference"]], t0) == [
                ("Accepted", 0), ("Enroute", 1000), ("Delivered", 3000),
            ]  # fmt: skip

            # An OAuth token issued before the restart still works.
            with second.client(bearer) as oauth:
                assert ok(oauth.get("/v1/Account"))["name"] == "acme"

            advance(client, 10)  # to t0 + 14.7 s

            after = {m["reference"]: m for m in every(client, "/_mock/messages")}
            assert offsets(after[enroute["reference"]], t0) == [
                ("Accepted", 3500), ("Enroute", 4500), ("Delivered", 6500),
            ]  # fmt: skip
            assert offsets(after[scheduled["reference"]], t0) == [
                ("Scheduled", 0), ("Accepted", 10_000), ("Enroute", 11_000), ("Delivered", 13_000),
            ]  # fmt: skip
            replies = sorted(every(client, "/v1/Replies"), key=lambda r: r["receivedAt"])
            assert [(r["content"], r["to"], r["inReplyTo"], parse_iso(r["receivedAt"]) - t0)
                    for r in replies] == [
                ("Thanks", "Acme", delivered["reference"], 3500),
                ("STOP", "Acme", stop_acme["reference"], 8000),
                ("STOP", "Other", stop_other["reference"], 11_500),
            ]  # fmt: skip
            stopped = every(client, "/v1/Contacts", search="447700900006")
            assert [(c["phoneNumber"], c["optedOut"]) for c in stopped] == [("447700900006", True)]

            # The receipts owed at the kill, and those of the steps since, were POSTed.
            receipts = [
                (r["reference"], r["deliveryStatus"])
                for post in receiver.posts("/receipts")
                if post.ok
                for r in post.json
            ]
            assert [s for ref, s in receipts if ref == enroute["reference"]] == [1, 2]
            assert [s for ref, s in receipts if ref == scheduled["reference"]] == [6, 1, 2]
            assert len(receiver.posts()) > posts_before
            stop_posts = [p.json["content"] for p in receiver.posts("/replies") if p.ok]
            assert stop_posts.count("STOP") == 2

            # The balance carries on from the stored one.
            send(client, "447700900600")
            assert ok(client.get("/v1/Account"))["credits"] == 1000 - 10
        assert second.stop(signal.SIGTERM) == -signal.SIGTERM
    finally:
        sinks.close()

    # The file was written by this version (it carries its schema version) and opened again.
    with contextlib.closing(sqlite3.connect(db)) as connection:
        versions = connection.execute("SELECT version FROM schema_version").fetchall()
    assert versions == [(len(MIGRATIONS),)]


# ------------------------------------------------------------- a crash mid bulk send


def bulk_body(batch_reference: str, count: int = 15_000) -> bytes:
    return orjson.dumps(
        {
            "batchReference": batch_reference,
            "from": "Acme",
            "messages": [{"to": f"4477{i:08d}", "content": f"Hi {i}"} for i in range(count)],
        }
    )


def post_in_thread(
    client: httpx.Client, path: str, body: bytes
) -> tuple[threading.Thread, dict[str, Any]]:
    """POST ``body`` on a thread; the dict gets the ``status``, or the transport ``error``."""
    answer: dict[str, Any] = {}

    def post() -> None:
        try:
            answer["status"] = client.post(path, content=body).status_code
        except httpx.TransportError as exc:
            answer["error"] = type(exc).__name__

    return threading.Thread(target=post, daemon=True), answer


@pytest.mark.slow
def test_sigkill_during_a_bulk_send_keeps_the_batch_whole_or_absent(
    launch: Launch, tmp_path: Path
) -> None:
    db = tmp_path / "mock.db"
    headers = {**HEADERS, "Content-Type": "application/json"}
    acknowledged: list[str] = []
    tried: list[str] = []
    outcomes: list[str] = []

    served = launch(db, "--clock", "virtual")
    # One bulk send that completes: how long one takes, and a batch acknowledged early.
    started = time.monotonic()
    with served.client() as client:
        ok(client.post("/v1/Sms/SendBulk", content=bulk_body("WHOLE"), headers=headers))
    took = time.monotonic() - started
    acknowledged.append("WHOLE")
    tried.append("WHOLE")

    # Two kills early in the request (the brief's 5-50 ms), one in the middle of it and
    # one near its end, where the answer may or may not have gone out. Fixed points, so
    # a failure reruns the same way.
    delays = [0.01, 0.04, 0.5 * took, 1.05 * took]
    for attempt, delay in enumerate(delays):
        reference = f"KILLED-{attempt}"
        body = bulk_body(reference)
        with served.client(headers) as client:
            ok(client.get("/_mock/health"))  # connected, so the kill lands on the request
            sender, answer = post_in_thread(client, "/v1/Sms/SendBulk", body)
            sender.start()
            time.sleep(delay)
            served.stop(signal.SIGKILL)
            sender.join(30)
        assert not sender.is_alive(), "the client never heard back from a killed server"
        tried.append(reference)
        if answer.get("status") == 200:
            acknowledged.append(reference)
        outcomes.append(f"{reference} killed after {delay * 1000:.0f} ms: {answer}")

        served = launch(db, "--clock", "virtual")
        with served.client() as client:
            counts = {ref: batch_count(client, ref) for ref in tried}
        context = f"one bulk took {took:.2f} s; {outcomes}; counts {counts}"
        for ref, count in counts.items():
            assert count in (0, 15_000), f"batch {ref} is partial: {count} ({context})"
            if ref in acknowledged:
                assert count == 15_000, f"acknowledged batch {ref} lost: {context}"

    served.stop(signal.SIGTERM)


# ------------------------------------------------------------- pending webhook POSTs


def test_pending_webhooks_resume_with_their_attempts_after_a_kill(
    launch: Launch, tmp_path: Path
) -> None:
    db = tmp_path / "mock.db"
    config = tmp_path / "config.yaml"
    config.write_text("webhooks: {batchWindow: 250ms, firstRetry: 1s, maxInterval: 1m}\n")
    args = ("--clock", "virtual", "--config", str(config))
    sinks = SinkServer()
    receiver = sinks.sink(at_root=True)
    try:
        receiver.respond_with(500, times=2)
        first = launch(db, *args)
        with first.client() as client:
            t0 = clock_ms(client)
            ok(
                client.put(
                    "/v1/Account/Webhooks",
                    json={"deliveryReceiptUrl": receiver.url_for("/receipts")},
                )
            )
            references = [send(client, f"44770090010{i}")["reference"] for i in range(3)]
            advance(client, 1.25)  # Enroute at +1 s, first POST at +1.25 s: 500
            advance(client, 1.0)  # the retry at +2.25 s: 500 again; next one at +4.25 s
            advance(client, 0.75)  # Delivered at +3 s: receipts owed, not yet POSTed
            [pending] = every(client, "/_mock/webhooks")
        posts = receiver.posts()
        assert [(p.headers["x-mock-delivery-id"], p.headers["x-mock-attempt"]) for p in posts] == [
            (pending["id"], "1"),
            (pending["id"], "2"),
        ]
        assert pending["state"] == "pending"
        assert [a["status"] for a in pending["attempts"]] == [500, 500]
        assert pending["nextAttemptAt"] == format_ms(t0 + 4_250)

        first.stop(signal.SIGKILL)
        second = launch(db, *args)
        with second.client() as client:
            # Listed as it was, with its earlier attempts.
            assert every(client, "/_mock/webhooks") == [pending]
            advance(client, 5)
            deliveries = every(client, "/_mock/webhooks")

        later = receiver.posts()[2:]
        seen = [(p.headers["x-mock-delivery-id"], p.headers["x-mock-attempt"]) for p in later]
        assert seen[0] == (pending["id"], "3")  # its attempts go on counting
        assert len(seen) == 2 and seen[1][1] == "1"
        assert [(r["reference"], r["deliveryStatus"]) for r in later[0].json] == [
            (reference, 1) for reference in references
        ]
        # The Delivered receipts owed at the kill arrive, after the Enroute ones.
        assert [(r["reference"], r["deliveryStatus"]) for r in later[1].json] == [
            (reference, 2) for reference in references
        ]
        old = next(d for d in deliveries if d["id"] == pending["id"])
        assert old["state"] == "delivered"
        assert [(a["status"], parse_iso(a["at"]) - t0) for a in old["attempts"]] == [
            (500, 1250), (500, 2250), (200, 4250),
        ]  # fmt: skip
        assert old["attempts"][:2] == pending["attempts"]
        assert [d["state"] for d in deliveries] == ["delivered", "delivered"]
        second.stop(signal.SIGTERM)
    finally:
        sinks.close()


# ------------------------------------------------------------------------ real clock

STEPS_SCENARIO = """\
name: restart-steps
description: Enroute 1 s after acceptance, Delivered 500 ms later.
default:
  lifecycle: [{status: Enroute, after: 1s}, {status: Delivered, after: 500ms}]
"""


@pytest.mark.slow
def test_real_clock_steps_that_fell_due_while_down_happen_at_once_after_a_restart(
    launch: Launch, tmp_path: Path
) -> None:
    db = tmp_path / "mock.db"
    scenario = tmp_path / "steps.yaml"
    scenario.write_text(STEPS_SCENARIO)
    args = ("--clock", "real", "--time-scale", "10", "--scenario", str(scenario))
    sinks = SinkServer()
    receiver = sinks.sink(at_root=True)
    try:
        first = launch(db, *args)
        with first.client() as client:
            message = send(client, "447700900100", deliveryReceiptUrl=receiver.url_for("/r"))
            # Killed at once: the first step is 100 ms of wall time away at 10x.
            first.stop(signal.SIGKILL)
        created = parse_iso(message["createdAt"])
        assert [e["deliveryStatusName"] for e in message["history"]] == ["Accepted"]

        # A restarted real clock starts from the wall time, so wait until the wall time
        # is past the last step (the first run's sped-up clock was ahead of it).
        last_due = created + 1_500
        time.sleep(max(0.0, (last_due - time.time() * 1000) / 1000) + 0.2)

        second = launch(db, *args)
        with second.client() as client:
            up = time.monotonic()
            while True:
                message = ok(client.get(f"/v1/Sms/{message['reference']}"))
                waited = time.monotonic() - up
                if message["deliveryStatusName"] == "Delivered" or waited > 5:
                    break
                time.sleep(0.02)
            receiver.wait_for_requests(2)
        # Due before the server was up again: run as soon as its scheduler starts.
        assert waited < 1, f"Delivered {waited:.2f} s after the restart"
        assert offsets(message, created) == [
            ("Accepted", 0), ("Enroute", 1000), ("Delivered", 1500),
        ]  # fmt: skip
        # Both receipts went out, in order. (Had a slow machine let the Enroute POST out
        # before the kill but not its bookkeeping, it is sent again: at least once.)
        received = {
            post.headers["x-mock-delivery-id"]: [r["deliveryStatus"] for r in post.json]
            for post in receiver.posts()
            if post.ok
        }
        assert list(received.values()) == [[1], [2]]
        second.stop(signal.SIGTERM)
    finally:
        sinks.close()


# --------------------------------------------------------------------------- schema


def test_a_file_from_a_newer_version_makes_serve_exit_2_with_a_message(tmp_path: Path) -> None:
    db = tmp_path / "newer.db"
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as connection:
        migrate(connection)
        connection.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS) + 1,))

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mock_puresms",
            "serve",
            "--port",
            str(free_port()),
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert str(db) in result.stderr
    assert f"schema version {len(MIGRATIONS) + 1}" in result.stderr
    assert "upgrade mock-puresms" in result.stderr
    # The file is left as it was.
    with contextlib.closing(sqlite3.connect(db)) as connection:
        version = connection.execute("SELECT version FROM schema_version").fetchall()
    assert version == [(len(MIGRATIONS) + 1,)]


# ------------------------------------------------------- crashes simulated in process
# The same file opened by a second in-process mock while the first is still up sees
# exactly what a crash would leave: the first one never gets to shut down.


def in_process(db: Path) -> TestClient:
    return TestClient(create_app(Settings(db=db, clock="virtual")), headers=HEADERS)


def test_virtual_clock_stands_where_it_was_after_a_crash_before_any_advance(
    tmp_path: Path,
) -> None:
    db = tmp_path / "mock.db"
    with in_process(db) as crashed:
        before = ok(crashed.get("/_mock/clock"))["now"]
        ok(crashed.post("/v1/Sms/Send", json={"to": "447700900100", "from": "A", "content": "x"}))
        time.sleep(0.01)  # a clock restarted from the wall time would differ
        with in_process(db) as restarted:
            after = ok(restarted.get("/_mock/clock"))["now"]

    assert after == before


def test_finished_deliveries_are_listed_as_they_were_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    with SinkServer() as sinks:
        receiver = sinks.sink(at_root=True)
        with in_process(db) as first:
            body = {"deliveryReceiptUrl": receiver.url, "replyUrl": None, "secret": None}
            ok(first.put("/v1/Account/Webhooks", json=body))
            ok(first.post("/v1/Sms/Send", json={"to": "447700900100", "from": "A", "content": "x"}))
            ok(first.post("/_mock/clock/advance", json={"seconds": 5}))
            before = ok(first.get("/_mock/webhooks"))["items"]
        with in_process(db) as second:
            after = ok(second.get("/_mock/webhooks"))["items"]

    assert [d["state"] for d in before] == ["delivered", "delivered"]
    assert after == before
    assert all(a["requestHeaders"]["X-Mock-Attempt"] for d in after for a in d["attempts"])


def test_attempts_stored_before_request_headers_were_kept_load_with_none(
    tmp_path: Path,
) -> None:
    db = tmp_path / "mock.db"
    with SinkServer() as sinks:
        receiver = sinks.sink(at_root=True)
        with in_process(db) as first:
            body = {"deliveryReceiptUrl": receiver.url, "replyUrl": None, "secret": None}
            ok(first.put("/v1/Account/Webhooks", json=body))
            ok(first.post("/v1/Sms/Send", json={"to": "447700900100", "from": "A", "content": "x"}))
            ok(first.post("/_mock/clock/advance", json={"seconds": 5}))
            before = ok(first.get("/_mock/webhooks"))["items"]
    # As an earlier version wrote them: [at, status, error, durationMs], no headers.
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as connection:
        for ident, attempts in connection.execute("SELECT id, attempts FROM deliveries").fetchall():
            old = [attempt[:4] for attempt in orjson.loads(attempts)]
            connection.execute(
                "UPDATE deliveries SET attempts = ? WHERE id = ?", (orjson.dumps(old), ident)
            )
    with in_process(db) as second:
        after = ok(second.get("/_mock/webhooks"))["items"]

    assert [a["requestHeaders"] for d in after for a in d["attempts"]] == [{}, {}]
    for d in before:
        for attempt in d["attempts"]:
            attempt["requestHeaders"] = {}
    assert after == before


def test_a_file_of_schema_version_1_is_migrated_with_its_messages(tmp_path: Path) -> None:
    # Version 1 kept one row per message; version 2 keeps one row per send. A message
    # mid-lifecycle and a finished one must come through with their history and plan.
    db = tmp_path / "v1.db"
    account_id = open_mode_account_id(HEADERS["X-API-Key"])
    created = parse_iso("2026-11-24T10:00:00Z")
    columns = (
        "reference, seq, account_id, to_number, sender, content, encoding, segments, "
        "is_test, status, created_at, client_reference, batch_reference, receipt_url, "
        "send_at, history, pending, next_due, reply_plan"
    )
    accepted, enroute, delivered = 6, 1, 2  # DeliveryStatus values
    rows = [
        ("MOLD0000000000001", 1, account_id, "447700900100", "Acme", "Hi", "GSM7", 1, 0,
         accepted, created, "c-1", "BOLD0000000000001", None, None,
         orjson.dumps([[accepted, created]]), orjson.dumps([[enroute, 1000], [delivered, 2000]]),
         created + 1000, None),
        ("MOLD0000000000002", 2, account_id, "447700900101", "Acme", "Hé", "UCS2", 1, 1,
         delivered, created, None, None, "https://example.test/dlr", None,
         orjson.dumps([[accepted, created], [enroute, created + 1000],
                       [delivered, created + 3000]]),
         None, None, None),
    ]  # fmt: skip
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        connection.executescript(
            f"BEGIN; {MIGRATIONS[0]}; INSERT INTO schema_version VALUES (1); COMMIT;"
        )
        connection.executemany(
            f"INSERT INTO messages ({columns}) VALUES ({', '.join('?' * 19)})", rows
        )
        connection.execute("INSERT INTO meta VALUES ('clock', ?)", (str(created),))

    with in_process(db) as mock:
        pending = ok(mock.get("/v1/Sms/MOLD0000000000001"))
        done = ok(mock.get("/v1/Sms/MOLD0000000000002"))
        ok(mock.post("/_mock/clock/advance", json={"seconds": 5}))
        moved = ok(mock.get("/v1/Sms/MOLD0000000000001"))

    assert pending["clientReference"] == "c-1"
    assert pending["batchReference"] == "BOLD0000000000001"
    assert [e["deliveryStatusName"] for e in done["history"]] == [
        "Accepted",
        "Enroute",
        "Delivered",
    ]
    assert (done["isTest"], done["encoding"], done["content"]) == (True, "UCS2", "Hé")
    assert done["deliveryReceiptUrl"] == "https://example.test/dlr"
    assert [(e["deliveryStatusName"], parse_iso(e["at"]) - created) for e in moved["history"]] == [
        ("Accepted", 0), ("Enroute", 1000), ("Delivered", 3000)
    ]  # fmt: skip
    with contextlib.closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT version FROM schema_version").fetchall() == [
            (len(MIGRATIONS),)
        ]
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert "messages" not in tables


def test_connect_endpoints_and_reply_ids_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    account_id = open_mode_account_id(HEADERS["X-API-Key"])
    path = f"/_mock/accounts/{account_id}/endpoints"
    endpoint = {"url": "http://127.0.0.1:9/hooks", "events": [2], "secret": "k"}
    with in_process(db) as first:
        ok(first.put(path, json=[endpoint, {"url": "http://127.0.0.1:9/other"}]))
        ok(first.post("/v1/Sms/Send", json={"to": "447700900100", "from": "A", "content": "x"}))
        ok(first.post("/_mock/replies", json={"from": "447700900100", "to": "A", "content": "Y"}))
        ok(first.post("/_mock/clock/advance", json={"seconds": 1}))
        replies = ok(first.get("/_mock/webhooks"))["items"]
        before = ok(first.get(path))  # nothing listens on port 9: failures are counted
    with in_process(db) as second:
        after = ok(second.get(path))
        kept = ok(second.get("/_mock/webhooks"))["items"]

    assert after == before
    assert after["items"][0]["secret"] == "k"
    assert [e["consecutiveFailures"] for e in after["items"]] == [2, 2]  # at 0 s and 1 s
    inbound = [d for d in replies if d["kind"] == "connect.inbound"]
    assert sorted(d["endpoint"] for d in inbound) == [0, 1]  # both want inbound events
    assert [d for d in kept if d["kind"] == "connect.inbound"] == inbound
    (inbound_id,) = {d["body"]["data"]["MessageId"] for d in inbound}
    assert inbound_id.isdigit()
