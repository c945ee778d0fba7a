"""The inbox as a person meets it: a real Chromium against a real server on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from mock_puresms.domain.accounts import open_mode_account_id
from mock_puresms.settings import Settings
from mock_puresms.testing.server_thread import ServerThread
from mock_puresms.testing.webhook_sink import WebhookSink


def send(api: httpx.Client, content: str = "Your code is 1234", **fields: Any) -> str:
    body = {"to": "447700900123", "from": "Shop", "content": content, **fields}
    response = api.post("/v1/Sms/Send", json=body)
    assert response.status_code == 200, response.text
    reference: str = response.json()["reference"]
    return reference


def row(page: Any, reference: str) -> Any:
    return page.locator(f'tr[data-reference="{reference}"]')


def test_a_sent_message_appears_and_turns_delivered_without_a_reload(
    page: Any, server: ServerThread, api: httpx.Client
) -> None:
    page.goto(server.base_url + "/")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    page.evaluate("window.stillTheSamePage = true")

    reference = send(api, "Hello from the live test")

    line = row(page, reference)
    expect(line).to_be_visible()
    expect(line.locator(".content")).to_have_text("Hello from the live test")
    expect(line.locator(".to")).to_have_text("447700900123")
    expect(line.locator(".from")).to_have_text("Shop")
    expect(line.locator(".api")).to_have_text("v1")
    expect(line.locator(".parts")).to_have_text("1 · GSM7")
    expect(line.locator(".time")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    expect(line.locator(".badge")).to_have_text("Accepted")

    api.post("/_mock/clock/advance", json={"seconds": 5}).raise_for_status()

    expect(line.locator(".badge")).to_have_text("Delivered")
    expect(line.locator(".badge")).to_have_class(re.compile("status-delivered"))
    assert page.evaluate("window.stillTheSamePage") is True
    expect(page.locator("#new-count")).to_have_attribute("data-count", "1")


def test_the_list_follows_its_filters_live(
    page: Any, server: ServerThread, api: httpx.Client
) -> None:
    send(api, "before the page")
    page.goto(server.base_url + "/?q=parcel")
    expect(page.locator("tbody#messages tr")).to_have_count(0)
    expect(page.locator("#live")).to_have_attribute("data-state", "live")

    send(api, "no match here")
    wanted = send(api, "Your PARCEL is on its way")

    expect(row(page, wanted)).to_be_visible()
    expect(page.locator("tbody#messages tr")).to_have_count(1)


def test_content_is_shown_as_text_never_as_markup(
    page: Any, server: ServerThread, api: httpx.Client
) -> None:
    markup = '<script>window.pwned = 1</script><img src=x onerror="pwned=2"><b>bold</b>'
    before = send(api, markup)
    page.goto(server.base_url + "/")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    during = send(api, markup)  # rendered by the page's script, not the server

    for reference in (before, during):
        content = row(page, reference).locator(".content")
        expect(content).to_have_text(markup)  # 80 characters: shown whole
        assert content.locator("b, img, script").count() == 0

    page.goto(f"{server.base_url}/messages/{before}")
    expect(page.locator("#phone")).to_contain_text("<b>bold</b>")
    expect(page.locator("#thread .out .text")).to_have_text(markup)
    assert page.locator("main b, main img, main script").count() == 0
    assert page.evaluate("window.pwned") is None


def test_the_message_page_marks_ucs2_characters_and_segments(
    page: Any, server: ServerThread, api: httpx.Client
) -> None:
    content = "Café ✓ " + "x" * 80  # ✓ is not GSM-7: 87 UCS-2 units, two segments
    reference = send(api, content)
    api.post("/_mock/clock/advance", json={"seconds": 5}).raise_for_status()

    page.goto(f"{server.base_url}/messages/{reference}")

    expect(page.locator("mark.ucs2")).to_have_text(["✓"])
    segments = page.locator("#phone .segment")
    expect(segments).to_have_count(2)
    assert len(segments.nth(0).inner_text()) == 67
    expect(page.locator(".segment-break")).to_have_count(1)
    timeline = page.locator(".timeline li .badge")
    expect(timeline).to_have_text(["Accepted", "Enroute", "Delivered"])


def test_reply_as_the_phone(page: Any, server: ServerThread, api: httpx.Client) -> None:
    reference = send(api, "Reply YES to confirm")
    page.goto(f"{server.base_url}/messages/{reference}")

    page.get_by_placeholder("Text the phone sends back").fill("YES <please>")
    page.get_by_role("button", name="Reply as the phone").click()

    expect(page.locator("#thread .in .text")).to_have_text(["YES <please>"])
    replies = api.get("/_mock/replies", params={"inReplyTo": reference}).json()["items"]
    assert [r["content"] for r in replies] == ["YES <please>"]


def test_force_a_status(page: Any, server: ServerThread, api: httpx.Client) -> None:
    reference = send(api)
    page.goto(f"{server.base_url}/messages/{reference}")

    page.get_by_label("Status").select_option("Undeliverable")
    page.get_by_role("button", name="Force status").click()

    expect(page.locator("#message-status")).to_have_text("Undeliverable")
    assert api.get(f"/_mock/messages/{reference}").json()["deliveryStatusName"] == "Undeliverable"
    expect(page.get_by_role("button", name="Force status")).to_be_disabled()


def test_cancel_a_scheduled_message(page: Any, server: ServerThread, api: httpx.Client) -> None:
    later = api.get("/_mock/clock").json()["now"][:4]
    reference = send(api, sendAt=f"{int(later) + 1}-01-01T00:00:00Z")
    page.goto(f"{server.base_url}/messages/{reference}")
    expect(page.locator("#message-status")).to_have_text("Scheduled")

    page.get_by_role("button", name="Cancel scheduled message").click()

    expect(page.locator("#message-status")).to_have_text("Deleted")
    expect(page.get_by_role("button", name="Cancel scheduled message")).to_have_count(0)


def test_a_failed_webhook_offers_replay(
    page: Any, server: ServerThread, api: httpx.Client, webhook_sink: WebhookSink
) -> None:
    webhook_sink.respond_with(500, times=None)
    reference = send(api, deliveryReceiptUrl=webhook_sink.url)
    # Past the default retry age (a day) on the virtual clock: the delivery has failed.
    api.post("/_mock/clock/advance", json={"seconds": 2 * 86_400}).raise_for_status()
    failed = api.get("/_mock/webhooks", params={"state": "failed"}).json()["items"]
    assert failed, "the delivery should have failed"
    replays: list[str] = []

    def answer(route: Any) -> None:
        replays.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", body="{}")

    # The replay route belongs to the control surface: here the browser's call is seen.
    page.route("**/_mock/webhooks/*/replay", answer)
    page.goto(f"{server.base_url}/messages/{reference}")
    delivery = page.locator(f'[data-delivery="{failed[0]["id"]}"]')
    expect(delivery.locator(".badge")).to_have_text("failed")
    expect(delivery.locator(".attempts tbody tr").first).to_contain_text("500")

    delivery.get_by_role("button", name="Replay").click()

    expect(page.locator("#message-status")).to_be_visible()  # reloaded
    assert replays == [f"{server.base_url}/_mock/webhooks/{failed[0]['id']}/replay"]


def test_the_webhooks_page_filters_by_state(
    page: Any, server: ServerThread, api: httpx.Client, webhook_sink: WebhookSink
) -> None:
    send(api, deliveryReceiptUrl=webhook_sink.url)
    api.post("/_mock/clock/advance", json={"seconds": 5}).raise_for_status()

    page.goto(server.base_url + "/webhooks")
    expect(page.locator(".delivery .badge").first).to_have_text("delivered")
    page.get_by_label("State").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".delivery")).to_have_count(0)


@pytest.fixture
def disables_at_once(tmp_path: Path) -> Iterator[ServerThread]:
    """A mock whose Connect endpoints are disabled after one failed attempt."""
    config = tmp_path / "config.yaml"
    config.write_text("webhooks: {disableAfter: 1}\n", encoding="utf-8")
    with ServerThread(Settings(clock="virtual", port=0, config=config)) as server:
        yield server


def test_a_disabled_endpoint_is_shown_and_re_enabled(
    page: Any, disables_at_once: ServerThread, webhook_sink: WebhookSink
) -> None:
    base = disables_at_once.base_url
    account = open_mode_account_id("browser-tests")
    endpoints = f"/_mock/accounts/{account}/endpoints"
    with httpx.Client(base_url=base, headers={"X-API-Key": "browser-tests"}) as api:
        api.get("/v1/Account").raise_for_status()  # the open-mode account appears
        hooks = [{"url": webhook_sink.url_for("/connect"), "events": [2], "secret": "k"}]
        api.put(endpoints, json=hooks).raise_for_status()
        webhook_sink.respond_with(500, times=None)
        # An inbound SMS is a Connect event: its one failed attempt disables the endpoint.
        reply = {"from": "447700900123", "to": "Shop", "account": account, "content": "YES"}
        api.post("/_mock/replies", json=reply).raise_for_status()
        api.post("/_mock/clock/advance", json={"seconds": 1}).raise_for_status()
        (listed,) = api.get(endpoints).json()["items"]
        assert (listed["enabled"], listed["consecutiveFailures"]) == (False, 1)

        page.goto(base + "/webhooks")
        row = page.locator(f'[data-endpoints="{account}"] tr[data-endpoint="0"]')
        expect(row).to_contain_text("disabled")
        # The failed attempt lists the headers the mock sent, signature included.
        headers = page.locator(".delivery .attempts tr.headers").first
        expect(headers).to_contain_text("X-Mock-Attempt: 1")
        expect(headers).to_contain_text("X-Webhook-Signature: ")

        page.goto(base + "/accounts")
        row = page.locator(f'[data-endpoints="{account}"] tr[data-endpoint="0"]')
        expect(row).to_have_attribute("data-enabled", "false")
        expect(row).to_contain_text(webhook_sink.url_for("/connect"))
        expect(row.locator(".failures")).to_have_text("1")
        row.get_by_role("button", name="Re-enable").click()

        expect(row).to_have_attribute("data-enabled", "true")  # reloaded
        expect(row.locator(".badge")).to_have_text("enabled")
        expect(row.get_by_role("button", name="Re-enable")).to_have_count(0)
        (listed,) = api.get(endpoints).json()["items"]
        assert (listed["enabled"], listed["consecutiveFailures"]) == (True, 0)


def test_advance_the_clock(page: Any, server: ServerThread, api: httpx.Client) -> None:
    start = api.get("/_mock/clock").json()["now"]
    page.goto(server.base_url + "/")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    reference = send(api)

    page.get_by_role("button", name="+1 min").click()
    expect(row(page, reference).locator(".badge")).to_have_text("Delivered")
    page.get_by_label("Seconds to advance").fill("3600")
    page.get_by_role("button", name="Advance", exact=True).click()
    expect(page.locator("#notice")).to_have_text("Advanced the clock by 3600 s.")

    now = api.get("/_mock/clock").json()["now"]
    moved = httpx_ms(now) - httpx_ms(start)
    assert moved == 3_660_000
    expect(page.locator("#clock-now")).to_have_text(now[:10] + " " + now[11:23] + " UTC")


def httpx_ms(iso: str) -> int:
    from mock_puresms.domain.timestamps import parse_iso

    return parse_iso(iso)


def test_switch_the_scenario_and_see_yaml_mistakes_by_line(
    page: Any, server: ServerThread, api: httpx.Client
) -> None:
    page.goto(server.base_url + "/scenario")
    page.get_by_label("Shipped scenario").select_option("failures")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("#active-scenario")).to_have_text("failures")
    assert api.get("/_mock/scenario").json()["name"] == "failures"

    page.get_by_label("Scenario YAML").fill(
        "name: broken\nrules:\n  - match: {to: 1}\n    bogus: 2\n"
    )
    page.get_by_role("button", name="Use this scenario").click()

    errors = page.locator("#scenario-errors li")
    expect(errors.first).to_contain_text("line ")
    expect(page.locator("#notice")).to_contain_text("mistakes")
    assert api.get("/_mock/scenario").json()["name"] == "failures"


def test_reset_everything_or_one_account(
    page: Any, server: ServerThread, api: httpx.Client
) -> None:
    send(api)
    with httpx.Client(base_url=server.base_url, headers={"X-API-Key": "other"}) as other:
        send(other)
    page.goto(server.base_url + "/accounts")
    expect(page.locator(".account")).to_have_count(2)

    other_id = open_mode_account_id("other")
    reset = page.locator(f'[data-account="{other_id}"] [data-reset]')
    reset.click()
    reset.click()  # the second click confirms
    expect(page.locator(".account")).to_have_count(1)
    assert api.get("/_mock/messages").json()["totalCount"] == 1

    page.goto(server.base_url + "/")
    expect(page.locator("tbody#messages tr")).to_have_count(1)
    page.get_by_role("button", name="Reset all").click()
    page.get_by_role("button", name="Click again to confirm").click()
    expect(page.locator("tbody#messages tr")).to_have_count(0)
    assert api.get("/_mock/messages").json()["totalCount"] == 0


def test_pages_at_a_phone_width(phone_page: Any, server: ServerThread, api: httpx.Client) -> None:
    reference = send(api, "A long message that has to wrap on a phone screen " * 3)
    # A Connect endpoint with a long URL: its table on /accounts and /webhooks must wrap.
    endpoints = f"/_mock/accounts/{open_mode_account_id('browser-tests')}/endpoints"
    long_url = "https://receiver.example.test/" + "webhooks/connect/" * 6
    api.put(endpoints, json=[{"url": long_url}]).raise_for_status()
    for path in ("/", f"/messages/{reference}", "/webhooks", "/accounts", "/scenario"):
        phone_page.goto(server.base_url + path)
        if path in ("/webhooks", "/accounts"):
            expect(phone_page.locator("table.endpoints")).to_contain_text("enabled")
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide on a 375px screen"
    phone_page.goto(server.base_url + "/")
    expect(row(phone_page, reference).locator(".badge")).to_be_visible()
    expect(row(phone_page, reference).locator(".to")).to_be_in_viewport()


ADMIN = "s3cret-admin"


@pytest.fixture
def guarded() -> Any:
    from mock_puresms.settings import Settings

    with ServerThread(Settings(clock="virtual", port=0, admin_token=ADMIN)) as server:
        yield server


def test_the_admin_token_guards_pages_and_actions(page: Any, guarded: ServerThread) -> None:
    base = guarded.base_url
    page.goto(base + "/accounts")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Admin token").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("That is not the admin token.")

    page.get_by_label("Admin token").fill(ADMIN)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base + "/accounts")

    # Logged in: the live list (EventSource, with the cookie) and actions (with the header).
    page.goto(base + "/")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    with httpx.Client(base_url=base, headers={"X-API-Key": "k"}) as api:
        reference = send(api)
        expect(row(page, reference)).to_be_visible()
        page.get_by_role("button", name="+1 min").click()
        expect(row(page, reference).locator(".badge")).to_have_text("Delivered")

        # The cookie alone reads, but never acts: a forged cross-site POST gets nowhere.
        cookie = {"Cookie": f"mock_puresms_admin={ADMIN}"}
        assert api.get("/_mock/clock", headers=cookie).status_code == 200
        advance = api.post("/_mock/clock/advance", json={"seconds": 1}, headers=cookie)
        assert advance.status_code == 401
        assert api.get("/", follow_redirects=False).status_code == 303

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
