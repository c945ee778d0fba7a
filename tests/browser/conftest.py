"""The inbox in a real headless Chromium (Debian's ``chromium``) through Playwright.

Never ``playwright install``: the browser download cannot work offline; Playwright drives
the system's ``/usr/bin/chromium`` instead (``.ci/run`` installs it with apt-get). Without
it these tests are skipped with the reason. On a failure the page is saved as a
screenshot under ``$TMPDIR/mock-puresms-browser/`` and its path printed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_puresms.settings import Settings
from mock_puresms.testing.server_thread import ServerThread

CHROMIUM = Path(os.environ.get("MOCK_PURESMS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(tempfile.gettempdir()) / "mock-puresms-browser"

if not CHROMIUM.exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: install Debian's 'chromium' package (apt-get install "
        "chromium) to run the inbox's browser tests",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Kept on the item, so the page fixture's teardown knows whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# Per module, not per session: while Playwright's sync API runs, the main thread has a
# running event loop, and later tests that call asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def server() -> Iterator[ServerThread]:
    """A fresh mock on the virtual clock for each test."""
    with ServerThread(Settings(clock="virtual", port=0)) as server:
        yield server


@pytest.fixture
def api(server: ServerThread) -> Iterator[httpx.Client]:
    """A client of the server: the v1 API (with an API key) and /_mock."""
    with httpx.Client(
        base_url=server.base_url, headers={"X-API-Key": "browser-tests"}, timeout=10
    ) as client:
        yield client


def _page(browser: Any, request: pytest.FixtureRequest, **options: Any) -> Iterator[Any]:
    context = browser.new_context(**options)
    context.set_default_timeout(5000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOTS / f"{request.node.name}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"\nscreenshot of the failed page: {path}")
        context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A laptop-sized page; saved as a screenshot when the test fails."""
    yield from _page(browser, request, viewport={"width": 1280, "height": 800})


@pytest.fixture
def phone_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone-sized page (375 px wide, touch)."""
    yield from _page(
        browser,
        request,
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
