"""Browser fixtures: one headless Chromium per test session (Debian's, never a downloaded one), a fresh
context per test, and helpers to sign in and take screenshots at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import AccountInfo

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser(shared_chromium: Browser) -> Browser:
    return shared_chromium


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    p = context.new_page()
    p.on("dialog", lambda dialog: dialog.accept())  # confirm() before revoke and delete
    return p


def sign_in(page: Page, base_url: str, account: AccountInfo) -> None:
    page.goto(base_url + "/login")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/dashboard")


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    """``shoot(page, name)`` saves name-desktop.png and name-phone.png (full page) and checks that nothing
    makes the page scroll sideways at either width. Only on SQLite: the
    pages look the same on PostgreSQL, and screenshots are the slow part of a browser test."""
    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("db_url", "sqlite") if callspec else "sqlite"

    def take(page: Page, name: str) -> None:
        if backend != "sqlite":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        size = page.viewport_size
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)  # type: ignore[arg-type]
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= viewport["width"], f"{name} is {wide} px wide at {label} width {viewport['width']}"
        if size is not None:
            page.set_viewport_size(size)

    return take
