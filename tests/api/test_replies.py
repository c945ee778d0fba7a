"""Replies: scripted by a scenario, injected by ``POST /_mock/replies``, read by ``/v1/Replies``.

Also the opt-out they drive: after STOP a send is ``Skipped``, free and final; START
opts the phone back in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mock_puresms.domain.timestamps import format_ms, parse_iso

if TYPE_CHECKING:
    from inprocess import Mock

STOPPER = "447700900006"
ORDINARY = "447700900100"

STRICT_CONFIG = """\
accounts:
  - name: acme
    apiKeys: [acme-key]
    credits: 10
  - name: globex
    apiKeys: [globex-key]
"""


@pytest.fixture
def strict(make_mock: Callable[..., Mock], tmp_path: Path) -> Mock:
    """A strict-mode mock: account ``acme`` (key ``acme-key``, 10 credits) and ``globex``."""
    config = tmp_path / "config.yaml"
    config.write_text(STRICT_CONFIG, encoding="utf-8")
    return make_mock(config=config)


def ms(timestamp: str) -> int:
    return parse_iso(timestamp)


def replies(mock: Mock, key: str = "test-key", **params: Any) -> dict[str, Any]:
    response = mock.v1("GET", "/v1/Replies", key, params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def inject(mock: Mock, **body: Any) -> Any:
    return mock.client.post("/_mock/replies", json=body)


def credits(mock: Mock, key: str) -> Any:
    return mock.v1("GET", "/v1/Account", key).json()["credits"]


# --------------------------------------------------------------------------- scripted replies


def test_stop_reply_arrives_five_seconds_after_delivery_and_not_before(mock: Mock) -> None:
    sent = mock.send(to=STOPPER, clientReference="CLI-6", batchReference="BATCH-6")
    delivered_at = ms(sent["createdAt"]) + 3000

    mock.advance(3)
    assert mock.message(sent["reference"])["history"][-1] == {
        "deliveryStatus": 2,
        "deliveryStatusName": "Delivered",
        "at": format_ms(delivered_at),
    }
    mock.advance(4.999)
    assert replies(mock)["items"] == []
    mock.advance(0.001)

    listed = replies(mock)
    assert listed["totalCount"] == 1
    [reply] = listed["items"]
    assert reply["reference"]
    assert {k: v for k, v in reply.items() if k != "reference"} == {
        "inReplyTo": sent["reference"],
        "clientReference": "CLI-6",
        "batchReference": "BATCH-6",
        "from": STOPPER,
        "to": "Acme",
        "content": "STOP",
        "receivedAt": format_ms(delivered_at + 5000),
    }


def test_stop_reply_skips_the_next_send_for_free_and_for_ever(strict: Mock) -> None:
    first = strict.send(key="acme-key", to=STOPPER)
    assert credits(strict, "acme-key") == 9
    strict.advance(8)
    assert [r["content"] for r in replies(strict, "acme-key")["items"]] == ["STOP"]

    skipped = strict.send(key="acme-key", to=STOPPER)

    assert skipped["deliveryStatus"] == 9
    assert skipped["deliveryStatusName"] == "Skipped"
    assert [e["deliveryStatusName"] for e in skipped["history"]] == ["Skipped"]
    assert credits(strict, "acme-key") == 9
    strict.advance(3600)
    later = strict.message(skipped["reference"], key="acme-key")
    assert later["deliveryStatusName"] == "Skipped"
    assert later["history"] == skipped["history"]
    # The opt-out is the phone's, not the message's: others are still sent and charged.
    other = strict.send(key="acme-key", to=ORDINARY)
    assert other["deliveryStatusName"] == "Accepted"
    assert credits(strict, "acme-key") == 8
    assert strict.message(first["reference"], key="acme-key")["deliveryStatusName"] == "Delivered"


def test_opt_out_belongs_to_the_account_that_got_the_stop(strict: Mock) -> None:
    strict.send(key="acme-key", to=STOPPER)
    strict.advance(8)

    elsewhere = strict.send(key="globex-key", to=STOPPER)

    assert elsewhere["deliveryStatusName"] == "Accepted"


def test_injected_start_opts_the_phone_back_in(strict: Mock) -> None:
    strict.send(key="acme-key", to=STOPPER)
    strict.advance(8)
    assert strict.send(key="acme-key", to=STOPPER)["deliveryStatusName"] == "Skipped"

    response = inject(strict, **{"from": STOPPER, "to": "Acme", "content": " start "})

    assert response.status_code == 200, response.text
    again = strict.send(key="acme-key", to=STOPPER)
    assert again["deliveryStatusName"] == "Accepted"
    assert credits(strict, "acme-key") == 8


def test_injected_stop_word_in_any_case_opts_out(mock: Mock) -> None:
    mock.send(to=ORDINARY)

    assert inject(mock, **{"from": ORDINARY, "to": "Acme", "content": "unsubscribe"}).is_success

    assert mock.send(to=ORDINARY)["deliveryStatusName"] == "Skipped"


def test_message_never_delivered_gets_no_scripted_reply(mock: Mock) -> None:
    scenario = """\
name: everyone-answers
rules:
  - match: {to: "447700900001"}
    lifecycle: [{status: Enroute, after: 1s}, {status: Undeliverable, after: 2s}]
  - match: {to: "447700900005"}
    lifecycle: [{status: Enroute, after: 1s}]
replies:
  - match: {toPrefix: "4477009"}
    after: 5s
    content: "Thanks"
"""
    response = mock.client.put(
        "/_mock/scenario", content=scenario, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text
    delivered = mock.send(to="447700900000")
    mock.send(to="447700900001")
    mock.send(to="447700900005")

    mock.advance(3600)

    listed = replies(mock)["items"]
    assert [(r["from"], r["inReplyTo"]) for r in listed] == [
        ("447700900000", delivered["reference"])
    ]


def test_scripted_reply_counts_from_a_forced_delivery(mock: Mock) -> None:
    sent = mock.send(to=STOPPER)
    mock.advance(0.5)

    forced = mock.client.post(
        f"/_mock/messages/{sent['reference']}/status", json={"deliveryStatus": "Delivered"}
    )

    assert forced.status_code == 200
    delivered_at = ms(sent["createdAt"]) + 500
    mock.advance(60)
    [reply] = replies(mock)["items"]
    assert reply["receivedAt"] == format_ms(delivered_at + 5000)
    # The dropped script does not deliver (or reply) a second time.
    assert len(mock.message(sent["reference"])["history"]) == 2


# --------------------------------------------------------------------------- injected replies


def test_injected_reply_goes_to_the_account_that_last_sent_to_that_phone(mock: Mock) -> None:
    mock.send(key="key-a", to=ORDINARY)
    latest = mock.send(key="key-b", to=ORDINARY)
    now = mock.client.get("/_mock/clock").json()["now"]

    response = inject(mock, **{"from": "+" + ORDINARY, "to": "Acme", "content": "Hi there"})

    assert response.status_code == 200, response.text
    body = response.json()
    account_b = mock.v1("GET", "/v1/Account", "key-b").json()["id"]
    assert body["account"] == account_b
    assert body["from"] == ORDINARY
    assert body["inReplyTo"] == latest["reference"]
    assert body["receivedAt"] == now
    assert replies(mock, "key-a")["items"] == []
    [listed] = replies(mock, "key-b")["items"]
    assert listed == {k: v for k, v in body.items() if k != "account"}


def test_injected_reply_for_a_pair_nobody_sent_to_is_a_400(mock: Mock) -> None:
    mock.send(to=ORDINARY, **{"from": "Acme"})

    response = inject(mock, **{"from": ORDINARY, "to": "Other", "content": "Who?"})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert list(response.json()["errors"]) == ["account"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "Acme", "content": "Hi"}, "from"),
        ({"from": "12", "to": "Acme", "content": "Hi"}, "from"),
        ({"from": ORDINARY, "content": "Hi"}, "to"),
        ({"from": ORDINARY, "to": "Acme"}, "content"),
        ({"from": ORDINARY, "to": "Acme", "content": "Hi", "account": 5}, "account"),
        ({"from": ORDINARY, "to": "Acme", "content": "Hi", "account": "nobody"}, "account"),
    ],
)
def test_injected_reply_with_a_bad_field_is_a_400_naming_it(
    mock: Mock, body: dict[str, Any], field: str
) -> None:
    mock.send(to=ORDINARY)

    response = inject(mock, **body)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_injected_reply_with_an_account_id_links_that_accounts_newest_message(
    mock: Mock,
) -> None:
    mock.send(key="key-a", to=ORDINARY)
    older = mock.send(key="key-b", to=ORDINARY)
    newer = mock.send(key="key-b", to=ORDINARY)
    mock.send(key="key-b", to=ORDINARY, **{"from": "Other"})
    mock.send(key="key-b", to="447700900101")
    mock.send(key="key-a", to=ORDINARY)
    account_b = mock.v1("GET", "/v1/Account", "key-b").json()["id"]

    response = inject(
        mock, **{"from": ORDINARY, "to": "Acme", "content": "Yes", "account": account_b}
    )

    assert response.status_code == 200, response.text
    assert response.json()["account"] == account_b
    assert response.json()["inReplyTo"] == newer["reference"] != older["reference"]
    assert [r["inReplyTo"] for r in replies(mock, "key-b")["items"]] == [newer["reference"]]


def test_injected_reply_with_an_account_name_and_no_message_has_no_in_reply_to(
    strict: Mock,
) -> None:
    strict.send(key="acme-key", to=ORDINARY)

    response = inject(
        strict, **{"from": ORDINARY, "to": "Acme", "content": "Hi", "account": "globex"}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    globex = strict.v1("GET", "/v1/Account", "globex-key").json()["id"]
    assert body["account"] == globex
    assert (body["inReplyTo"], body["clientReference"], body["batchReference"]) == (
        None,
        None,
        None,
    )
    assert [r["reference"] for r in replies(strict, "globex-key")["items"]] == [body["reference"]]
    assert replies(strict, "acme-key")["items"] == []


# --------------------------------------------------------------------------- /v1/Replies


def test_replies_list_filters_by_from_in_reply_to_and_since_newest_first(mock: Mock) -> None:
    a = mock.send(to=ORDINARY)
    b = mock.send(to="447700900101")
    said: dict[str, dict[str, Any]] = {}
    for phone, content in [(ORDINARY, "one"), ("447700900101", "two"), (ORDINARY, "three")]:
        mock.advance(10)
        response = inject(mock, **{"from": phone, "to": "Acme", "content": content})
        assert response.status_code == 200, response.text
        said[content] = response.json()

    def contents(**params: Any) -> list[str]:
        return [r["content"] for r in replies(mock, **params)["items"]]

    assert contents() == ["three", "two", "one"]
    assert contents(**{"from": ORDINARY}) == ["three", "one"]
    assert contents(**{"from": "+" + ORDINARY}) == ["three", "one"]
    assert contents(inReplyTo=b["reference"]) == ["two"]
    assert contents(inReplyTo=a["reference"]) == ["three", "one"]
    assert contents(since=said["two"]["receivedAt"]) == ["three", "two"]
    assert contents(since=said["three"]["receivedAt"], **{"from": ORDINARY}) == ["three"]
    assert contents(**{"from": "447700900999"}) == []


def test_replies_list_pages(mock: Mock) -> None:
    mock.send(to=ORDINARY)
    for content in ["r1", "r2", "r3"]:
        assert inject(mock, **{"from": ORDINARY, "to": "Acme", "content": content}).is_success

    second = replies(mock, page=2, pageSize=2)

    assert (second["page"], second["pageSize"], second["totalCount"]) == (2, 2, 3)
    assert [r["content"] for r in second["items"]] == ["r1"]
    assert [r["content"] for r in replies(mock, page=1, pageSize=2)["items"]] == ["r3", "r2"]
    assert replies(mock, page=3, pageSize=2)["items"] == []


@pytest.mark.parametrize("params", [{"pageSize": 0}, {"pageSize": 1001}, {"since": "yesterday"}])
def test_replies_list_rejects_bad_query_values(mock: Mock, params: dict[str, Any]) -> None:
    response = mock.v1("GET", "/v1/Replies", params=params)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == list(params)


def test_reply_is_fetched_by_reference_by_its_own_account_only(mock: Mock) -> None:
    mock.send(to=ORDINARY)
    reply = inject(mock, **{"from": ORDINARY, "to": "Acme", "content": "Hi"}).json()

    own = mock.v1("GET", f"/v1/Replies/{reply['reference']}")
    unknown = mock.v1("GET", "/v1/Replies/RNOSUCHREPLY0000")
    foreign = mock.v1("GET", f"/v1/Replies/{reply['reference']}", "another-key")

    assert own.status_code == 200
    assert own.json() == {k: v for k, v in reply.items() if k != "account"}
    assert unknown.status_code == 404
    assert foreign.status_code == 404
    assert foreign.headers["content-type"].startswith("application/problem+json")
