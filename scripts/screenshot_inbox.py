"""Regenerate docs/inbox.png: the inbox of a mock with a few messages, in headless Chromium.

Uses the browser set-up of the browser tests (tests/browser/conftest.py): Debian's
``/usr/bin/chromium`` driven by Playwright, never ``playwright install``.

    python scripts/screenshot_inbox.py [--out docs/inbox.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import httpx

from mock_puresms.app import create_app
from mock_puresms.settings import ConfigFile, Settings
from mock_puresms.testing.server_thread import ServerThread

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

# (API key, recipient, sender, content): magic numbers of the default scenario give a
# mix of outcomes (see README, "Magic numbers").
TRAFFIC = [
    ("shop-live", "447700900000", "AcmeShop", "Your order #1042 has shipped and arrives Tuesday."),
    ("shop-live", "447700900001", "AcmeShop", "Your code is 482913. It expires in 10 minutes."),
    (
        "clinic",
        "447700900006",
        "Clinic",
        "Reminder: your appointment is tomorrow 09:30.",
    ),
    ("clinic", "447700900002", "Clinic", "Résumé prêt ✓ — merci! 😀"),
    ("shop-live", "447700900005", "AcmeShop", "Flash sale: 20% off everything today only."),
    ("shop-live", "447700900000", "AcmeShop", "Thanks for your order. Track it at acme.test/t/88"),
]


def populate(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for key, to, sender, content in TRAFFIC[:4]:
            body = {"to": to, "from": sender, "content": content}
            client.post("/v1/Sms/Send", json=body, headers={"X-API-Key": key}).raise_for_status()
        client.post("/_mock/clock/advance", json={"seconds": 10}).raise_for_status()
        for key, to, sender, content in TRAFFIC[4:]:
            body = {"to": to, "from": sender, "content": content}
            client.post("/v1/Sms/Send", json=body, headers={"X-API-Key": key}).raise_for_status()
        client.post("/_mock/clock/advance", json={"seconds": 1}).raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "inbox.png")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"no Chromium at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    settings = Settings(clock="virtual", port=0)
    # Named accounts read better than open mode's hashed ids.
    config = ConfigFile.model_validate(
        {
            "accounts": [
                {"name": "acme-shop", "apiKeys": ["shop-live"], "credits": 5000},
                {"name": "clinic", "apiKeys": ["clinic"]},
            ]
        }
    )
    with ServerThread(settings, app=create_app(settings, config=config)) as server:
        populate(server.base_url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 560})
            page.goto(server.base_url + "/")
            page.wait_for_selector('#live[data-state="live"]')
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
