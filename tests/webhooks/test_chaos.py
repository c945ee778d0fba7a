"""Webhook chaos on purpose (issue 18): each kind, through a real receiver, on a real
server (uvicorn on loopback) and the virtual clock; the same seed gives the same POSTs.

Each message here is sent in a second of its own and is Delivered 1 s later, so each
receipt is a delivery of its own; its ``clientReference`` (``C0``, ``C1``...) names it
across servers, whose references differ.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from webhook_helpers import iso_ms

from mock_puresms.testing.server_thread import ServerThread
from mock_puresms.testing.webhook_sink import SinkRequest, SinkServer, WebhookSink

KEY = "chaos-key"
SECRET = "whsec-chaos"
SCENARIO = """\
name: chaos-test
seed: {seed}
default:
  lifecycle: [{{status: Delivered, after: 1s}}]
webhooks:
  chaos: {rules}
"""


class Live:
    """One fresh mock server and one receiver, driven over HTTP."""

    def __init__(self, server: ServerThread, receiver: WebhookSink) -> None:
        self.server = server
        self.receiver = receiver
        self.http = httpx.Client(base_url=server.base_url, trust_env=False, timeout=30)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.is_success, response.text
        return response.json() if response.content else None

    def scenario(self, rules: str, seed: int = 7) -> None:
        text = SCENARIO.format(seed=seed, rules=rules)
        self.ok("PUT", "/_mock/scenario", content=text, headers={"Content-Type": "text/yaml"})

    def webhooks(self, *, secret: str | None = None, replies: bool = False) -> None:
        body = {
            "deliveryReceiptUrl": self.receiver.url_for("/r"),
            "replyUrl": self.receiver.url_for("/replies") if replies else None,
            "secret": secret,
        }
        self.ok("PUT", "/v1/Account/Webhooks", json=body, headers={"X-API-Key": KEY})

    def account(self) -> str:
        account: str = self.ok("GET", "/v1/Account", headers={"X-API-Key": KEY})["id"]
        return account

    def send(self, client_reference: str, to: str = "447700900100") -> None:
        body = {"to": to, "from": "Acme", "content": "Hi", "clientReference": client_reference}
        self.ok("POST", "/v1/Sms/Send", json=body, headers={"X-API-Key": KEY})

    def advance(self, seconds: float) -> None:
        self.ok("POST", "/_mock/clock/advance", json={"seconds": seconds})

    def send_spread(self, count: int) -> None:
        """``count`` messages, one a second: one receipt delivery each."""
        for i in range(count):
            self.send(f"C{i}")
            self.advance(1)

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery, oldest first."""
        items: list[dict[str, Any]] = self.ok("GET", "/_mock/webhooks?pageSize=1000")["items"]
        return items[::-1]


@pytest.fixture
def start(live_server: Callable[..., ServerThread]) -> Iterator[Callable[[], Live]]:
    """Start a fresh mock and receiver pair (several per test: same seed, same POSTs)."""
    made: list[tuple[Live, SinkServer]] = []

    def make() -> Live:
        sink_server = SinkServer().__enter__()
        live = Live(live_server(), sink_server.sink(at_root=True))
        made.append((live, sink_server))
        return live

    yield make
    for live, sink_server in made:
        live.http.close()
        sink_server.__exit__(None, None, None)


def client_refs(body: Any) -> tuple[str, ...]:
    items = body if isinstance(body, list) else [body]
    return tuple(str(item.get("clientReference")) for item in items)


def signature_state(request: SinkRequest, secret: str = SECRET) -> str:
    """What a receiver checking signatures would make of this POST."""
    if "x-webhook-signature" not in request.headers:
        return "missing"
    timestamp = request.headers["x-webhook-timestamp"]
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
    if not hmac.compare_digest(
        base64.b64encode(digest.digest()).decode(), request.headers["x-webhook-signature"]
    ):
        return "bad"
    return "stale" if time.time() - int(timestamp) > 300 else "valid"


def fingerprint(live: Live) -> list[tuple[Any, ...]]:
    """What was done to each delivery, by message, in mock time: comparable across
    servers (references and delivery ids differ, clientReferences do not)."""
    first = min(iso_ms(d["createdAt"]) for d in live.deliveries())
    return [
        (
            client_refs(d["body"]),
            iso_ms(d["createdAt"]) - first,
            tuple((m["kind"], m.get("delayMs"), m.get("afterMs")) for m in d["chaos"]),
            tuple((iso_ms(a["at"]) - first, a["status"], a["chaos"]) for a in d["attempts"]),
        )
        for d in live.deliveries()
    ]


def received(live: Live) -> list[tuple[tuple[str, ...], str, str]]:
    """What the receiver got, in order: (clientReferences, attempt, signature state)."""
    return [
        (client_refs(post.json), post.headers["x-mock-attempt"], signature_state(post))
        for post in live.receiver.posts()
    ]


# --- the same seed gives the same POSTs, for every kind ---------------------------------

EVERY_KIND = [
    "{kind: duplicate, probability: 0.5, after: {min: 5s, max: 30s}}",
    "{kind: delay, probability: 0.5, after: {min: 1s, max: 2m}}",
    "{kind: reorder, probability: 0.5, within: 3s}",
    "{kind: badSignature, probability: 0.5}",
    "{kind: staleSignature, probability: 0.5, age: 1h}",
    "{kind: missingSignature, probability: 0.5}",
]


def chaotic_run(live: Live, rule: str, seed: int) -> list[tuple[Any, ...]]:
    live.scenario(f"[{rule}]", seed=seed)
    live.webhooks(secret=SECRET)
    live.receiver.respond_in_turn(*[200] * 100)
    live.send_spread(16)
    live.advance(300)
    return fingerprint(live)


@pytest.mark.parametrize("rule", EVERY_KIND, ids=lambda rule: rule.split(",")[0][7:])
def test_the_same_seed_gives_the_same_chaotic_posts(start: Callable[[], Live], rule: str) -> None:
    one, two, other = start(), start(), start()
    first = chaotic_run(one, rule, seed=7)
    assert chaotic_run(two, rule, seed=7) == first
    # POSTs due at one instant go concurrently, so compare what was received, not when
    # within the instant (``fingerprint`` holds the mock times).
    assert sorted(received(two)) == sorted(received(one))
    chosen = [entry for entry in first if entry[2]]
    # probability 0.5 over 16 deliveries: some chosen, not all (this seed's draw)
    assert 0 < len(chosen) < 16, first
    assert chaotic_run(other, rule, seed=8) != first


# --- each kind does exactly what it says -------------------------------------------------


def test_duplicate_sends_the_same_post_again_after_the_delay(start: Callable[[], Live]) -> None:
    live = start()
    live.scenario("[{kind: duplicate, next: 2, after: 30s}]")
    live.webhooks()
    live.send_spread(3)
    live.advance(28)  # C0 was received at 1.25 s and C1 at 2.25 s: copies at 31.25, 32.25
    assert [refs for refs, _, _ in received(live)] == [("C0",), ("C1",), ("C2",)]
    live.advance(0.5)
    assert [refs for refs, _, _ in received(live)][3:] == [("C0",)]
    live.advance(1)

    posts = live.receiver.posts()
    assert [client_refs(post.json) for post in posts] == [
        ("C0",),
        ("C1",),
        ("C2",),
        ("C0",),
        ("C1",),
    ]
    for original, copy in ((posts[0], posts[3]), (posts[1], posts[4])):
        assert copy.body == original.body
        assert copy.headers["x-mock-delivery-id"] == original.headers["x-mock-delivery-id"]
        assert (original.headers["x-mock-attempt"], copy.headers["x-mock-attempt"]) == ("1", "2")
    c0, c1, c2 = live.deliveries()
    for delivery in (c0, c1):
        assert delivery["state"] == "delivered"
        assert delivery["chaos"] == [{"kind": "duplicate", "afterMs": 30000}]
        original_at, copy_at = (iso_ms(a["at"]) for a in delivery["attempts"])
        assert copy_at - original_at == 30000
        assert [a["chaos"] for a in delivery["attempts"]] == [[], ["duplicate"]]
    assert c2["chaos"] == [] and len(c2["attempts"]) == 1


def test_delay_holds_the_next_posts_back_on_the_mock_clock(start: Callable[[], Live]) -> None:
    live = start()
    live.scenario("[{kind: delay, next: 2, after: 2m}]")
    live.webhooks()
    live.send_spread(3)
    live.advance(1)
    assert received(live) == [(("C2",), "1", "missing")]  # the third is not delayed

    live.advance(117)  # C0's receipt was due at 1.25 s: 2 min later is 121.25 s
    assert len(live.receiver.posts()) == 1
    live.advance(1)
    assert [refs for refs, _, _ in received(live)] == [("C2",), ("C0",)]
    live.advance(1)
    assert [refs for refs, _, _ in received(live)] == [("C2",), ("C0",), ("C1",)]
    for delivery in live.deliveries()[:2]:
        assert delivery["chaos"] == [{"kind": "delay", "delayMs": 120000}]
        (attempt,) = delivery["attempts"]
        assert attempt["chaos"] == ["delay"]
        assert iso_ms(attempt["at"]) - iso_ms(delivery["createdAt"]) == 120000


def test_delay_from_a_range_stays_in_it(start: Callable[[], Live]) -> None:
    live = start()
    live.scenario("[{kind: delay, probability: 1, after: {min: 5s, max: 20s}}]")
    live.webhooks()
    live.send_spread(10)
    live.advance(60)
    delays = []
    for delivery in live.deliveries():
        (mark,) = delivery["chaos"]
        (attempt,) = delivery["attempts"]
        assert iso_ms(attempt["at"]) - iso_ms(delivery["createdAt"]) == mark["delayMs"]
        delays.append(mark["delayMs"])
    assert all(5000 <= delay <= 20000 for delay in delays)
    assert len(set(delays)) > 1


def test_reorder_lets_a_later_post_overtake_one_of_another_message(
    start: Callable[[], Live],
) -> None:
    live = start()
    live.scenario("[{kind: reorder, next: 1, within: 10s}]")
    live.webhooks()
    live.send_spread(2)  # C0's receipt is held from 1.25 s
    assert live.receiver.posts() == []
    live.advance(0.5)  # C1's goes at 2.25 s, and C0's right after it

    assert [refs for refs, _, _ in received(live)] == [("C1",), ("C0",)]
    c0, c1 = live.deliveries()
    assert c0["chaos"] == [{"kind": "reorder", "withinMs": 10000, "overtakenBy": c1["id"]}]
    assert c1["chaos"] == []
    assert c0["attempts"][0]["at"] == c1["attempts"][0]["at"]
    assert (c0["attempts"][0]["chaos"], c1["attempts"][0]["chaos"]) == (["reorder"], [])


def test_reorder_never_reorders_one_message_and_gives_up_after_within(
    start: Callable[[], Live],
) -> None:
    live = start()
    text = (
        "seed: 1\n"
        "default: {lifecycle: [{status: Enroute, after: 1s}, {status: Delivered, after: 1s}]}\n"
        "webhooks: {chaos: [{kind: reorder, next: 1, within: 10s}]}\n"
    )
    live.ok("PUT", "/_mock/scenario", content=text, headers={"Content-Type": "text/yaml"})
    live.webhooks()
    live.send("C0")
    live.advance(11)  # Enroute's receipt is held from 1.25 s; Delivered's waits for it
    assert live.receiver.posts() == []
    live.advance(0.5)

    statuses = [post.json[0]["deliveryStatus"] for post in live.receiver.posts()]
    assert statuses == [1, 2]  # Enroute, then Delivered: the message's order holds
    enroute, delivered = live.deliveries()
    assert enroute["chaos"] == [{"kind": "reorder", "withinMs": 10000, "overtakenBy": None}]
    assert iso_ms(enroute["attempts"][0]["at"]) - iso_ms(enroute["createdAt"]) == 10000
    assert delivered["chaos"] == []


@pytest.mark.parametrize(
    ("rule", "state"),
    [
        ("{kind: badSignature, next: 1}", "bad"),
        ("{kind: staleSignature, next: 1, age: 10m}", "stale"),
        ("{kind: missingSignature, next: 1}", "missing"),
    ],
)
def test_signature_chaos_spoils_the_first_attempt_only(
    start: Callable[[], Live], rule: str, state: str
) -> None:
    live = start()
    live.scenario(f"[{rule}]")
    live.webhooks(secret=SECRET)
    live.receiver.respond_with(401)  # a receiver that checks signatures refuses it
    live.send_spread(1)
    live.advance(3)  # refused at 1.25 s, received at 2.25 s
    live.send("C1")
    live.advance(5)

    assert received(live) == [
        (("C0",), "1", state),
        (("C0",), "2", "valid"),
        (("C1",), "1", "valid"),
    ]
    first = live.receiver.posts()[0]
    if state == "stale":
        assert abs(time.time() - 600 - int(first.headers["x-webhook-timestamp"])) <= 5
    if state == "bad":
        assert abs(time.time() - int(first.headers["x-webhook-timestamp"])) <= 5
    c0, c1 = live.deliveries()
    kind = rule.split(",")[0][7:]
    assert [mark["kind"] for mark in c0["chaos"]] == [kind]
    assert [(a["status"], a["chaos"]) for a in c0["attempts"]] == [(401, [kind]), (200, [])]
    assert c1["chaos"] == []


def test_signature_chaos_counts_only_signed_posts(start: Callable[[], Live]) -> None:
    live = start()
    live.scenario("[{kind: missingSignature, next: 1}]")
    live.webhooks()  # no secret: nothing to spoil, and the rule is not used up
    live.send_spread(1)
    live.advance(1)  # C0's receipt is POSTed at 1.25 s
    live.webhooks(secret=SECRET)
    live.send("C1")
    live.advance(5)

    assert received(live) == [(("C0",), "1", "missing"), (("C1",), "1", "missing")]
    c0, c1 = live.deliveries()
    assert c0["chaos"] == [] and c0["attempts"][0]["chaos"] == []
    assert c1["chaos"] == [{"kind": "missingSignature"}]
    assert c1["attempts"][0]["chaos"] == ["missingSignature"]


def test_signature_chaos_applies_to_connect_events(start: Callable[[], Live]) -> None:
    live = start()
    live.scenario("[{kind: badSignature, next: 1}, {kind: duplicate, next: 1, after: 5s}]")
    account = live.account()
    endpoint = {"url": live.receiver.url_for("/connect"), "events": [2], "secret": SECRET}
    live.ok("PUT", f"/_mock/accounts/{account}/endpoints", json=[endpoint])
    reply = {"from": "447700900100", "to": "Acme", "content": "YES", "account": account}
    live.ok("POST", "/_mock/replies", json=reply)
    live.receiver.respond_with(401)
    live.advance(10)

    posts = live.receiver.posts("/connect")
    assert [signature_state(post) for post in posts] == ["bad", "valid", "valid"]
    assert len({post.json["id"] for post in posts}) == 1  # one event, its id kept
    (delivery,) = live.deliveries()
    assert delivery["kind"] == "connect.inbound"
    assert [m["kind"] for m in delivery["chaos"]] == ["badSignature", "duplicate"]
    assert [a["chaos"] for a in delivery["attempts"]] == [["badSignature"], [], ["duplicate"]]


# --- per account, through the control surface --------------------------------------------


def test_account_chaos_overrides_the_scenario_until_deleted(start: Callable[[], Live]) -> None:
    live = start()
    live.scenario("[{kind: duplicate, next: 5, after: 5s}]")
    live.webhooks()
    account = live.account()
    path = f"/_mock/accounts/{account}/chaos"
    assert live.ok("GET", path) == {
        "account": account,
        "source": "scenario",
        "seed": 7,
        "chaos": [{"kind": "duplicate", "next": 5, "after": "5s"}],
    }
    own = {"seed": 3, "chaos": [{"kind": "delay", "next": 1, "after": "10s"}]}
    assert live.ok("PUT", path, json=own) == {"account": account, "source": "account", **own}
    live.send_spread(1)
    live.advance(20)
    assert live.deliveries()[0]["chaos"] == [{"kind": "delay", "delayMs": 10000}]

    assert live.ok("DELETE", path)["source"] == "scenario"
    live.send("C1")
    live.advance(20)
    assert live.deliveries()[1]["chaos"] == [{"kind": "duplicate", "afterMs": 5000}]

    live.ok("PUT", path, json={"chaos": []})  # chaos off for this account alone
    live.send("C2")
    live.advance(20)
    assert live.deliveries()[2]["chaos"] == []
    live.ok("POST", "/_mock/reset")  # forgets it, like faults
    assert live.ok("GET", path)["source"] == "scenario"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ('{"chaos": [{"kind": "dely", "next": 1}]}', "chaos[0].kind", "unknown kind 'dely'"),
        (
            '{"chaos": [{"kind": "delay", "probability": 1.5, "after": "1s"}]}',
            "chaos[0].probability",
            "from 0 to 1",
        ),
        ('{"chaos": [{"kind": "delay", "next": 1}]}', "chaos[0].after", "'after' is missing"),
        (
            '{"chaos": [{"kind": "duplicate", "next": 1, "probability": 0.5}]}',
            "chaos[0]",
            "not both",
        ),
        ('{"chaos": [{"kind": "reorder", "next": 0}]}', "chaos[0].next", "from 1"),
        (
            '{"chaos": [{"kind": "delay", "next": 1, "after": {"min": "9s", "max": "1s"}}]}',
            "chaos[0].after.max",
            "less than 'min'",
        ),
        (
            '{"chaos": [{"kind": "badSignature", "next": 1, "age": "1m"}]}',
            "chaos[0].age",
            "unknown key",
        ),
        ('{"seed": "x"}', "seed", "integer"),
        ("[]", "$", "mapping"),
        ("", "$", "JSON object"),
        ('{"chaos": [', "$", "invalid"),
    ],
)
def test_a_bad_chaos_body_is_a_400_naming_the_field(
    start: Callable[[], Live], body: str, field: str, words: str
) -> None:
    live = start()
    response = live.http.put(f"/_mock/accounts/{live.account()}/chaos", content=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert field in errors, errors
    assert words in " ".join(errors[field]), errors


def test_a_bad_webhooks_section_names_its_line(start: Callable[[], Live]) -> None:
    live = start()
    text = SCENARIO.format(seed=1, rules="\n    - {kind: delay, next: 1, after: soon}")
    response = live.http.put("/_mock/scenario", content=text, headers={"Content-Type": "text/yaml"})
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == {
        "webhooks.chaos[0].after": [
            "line 7: 'soon' is not a duration: write a number and a unit (ms, s, m, h or d), "
            "e.g. 250ms, 2s, 1.5s, 5m, 1h, 2d"
        ]
    }


def test_unknown_account_is_a_404(start: Callable[[], Live]) -> None:
    live = start()
    response = live.http.get("/_mock/accounts/nobody-at-all/chaos")
    assert response.status_code == 404, response.text


# --- the event stream -------------------------------------------------------------------


def test_chaotic_posts_are_marked_on_the_event_stream(start: Callable[[], Live]) -> None:
    live = start()
    live.scenario("[{kind: duplicate, next: 1, after: 5s}]")
    live.webhooks()
    frames: list[tuple[str, Any]] = []
    connected = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(base_url=live.server.base_url, trust_env=False, timeout=30) as client,
            client.stream("GET", "/_mock/events") as response,
        ):
            connected.set()
            name = ""
            for line in response.iter_lines():
                if line.startswith("event: "):
                    name = line[len("event: ") :]
                elif line.startswith("data: ") and name == "webhook.attempted":
                    frames.append((name, json.loads(line[len("data: ") :])))
                    if len(frames) == 2:
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert connected.wait(5)
    live.send_spread(1)
    live.advance(10)
    thread.join(10)

    (delivery,) = live.deliveries()
    assert [data for _, data in frames] == [
        {"deliveryId": delivery["id"], "url": delivery["url"], "attempt": 1, "chaos": []},
        {
            "deliveryId": delivery["id"],
            "url": delivery["url"],
            "attempt": 2,
            "chaos": ["duplicate"],
        },
    ]


def test_with_a_database_the_chaos_of_each_attempt_outlives_a_restart(
    live_server: Callable[..., ServerThread], tmp_path: Path
) -> None:
    db = tmp_path / "mock.db"
    with SinkServer() as sinks:
        first = Live(live_server(db=db), sinks.sink(at_root=True))
        first.scenario("[{kind: delay, next: 1, after: 5s}, {kind: missingSignature, next: 1}]")
        first.webhooks(secret=SECRET)
        first.send_spread(1)
        first.advance(10)
        before = first.deliveries()
        first.http.close()
        first.server.stop()
        again = Live(live_server(db=db), first.receiver)
        after = again.deliveries()
        again.http.close()

    assert [a["chaos"] for a in before[0]["attempts"]] == [["delay", "missingSignature"]]
    assert [a["chaos"] for a in after[0]["attempts"]] == [["delay", "missingSignature"]]
