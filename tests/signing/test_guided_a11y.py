"""The signing page on a phone (guided mode: one field at a time, zoomed to) and on a desktop, by keyboard
only, and checked by axe-core for WCAG 2.1 AA (no serious or critical violation) on the page, the signature
dialog, the PIN step and the phone mode. Chromium, SQLite only (the browser is the slow part)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from paraph.signing.access import signing_link
from tests.conftest import AccountInfo, Server
from tests.signing.conftest import DESKTOP, PHONE, ROOT, screenshot
from tests.signing.helpers import create, f, request_state

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FIELDS = [
    f("name", "text", 0, 72, 100, 200, 22, name="Full name"),
    f("agree", "checkbox", 0, 72, 140, 14, 14, is_checked=False, name="I agree"),
    f("sig", "signature", 0, 72, 200, 200, 40, name="Signature"),
]
#: Optional fields of every other kind, after the signature: axe checks them too; the keyboard passes them.
MORE_FIELDS = [
    f("color", "dropdown", 0, 72, 280, options=["Red", "Green"], name="Colour", required=False),
    f("plan_a", "radio", 0, 72, 320, 14, 14, group="plan", is_checked=False, name="Plan A"),
    f("plan_b", "radio", 0, 120, 320, 14, 14, group="plan", is_checked=False, name="Plan B"),
    f("nickname", "text", 0, 72, 360, 120, 12, name="Email", required=False, validation_type="email_address"),
    f("signed_on", "date_signed", 0, 72, 400, name="Date"),
]


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "paraph.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now (injected here only:
    the page never loads it)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found: list[str] = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
        }""",
        WCAG_AA,
    )
    return found


def by_testid(page: Any, value: str) -> Any:
    return page.locator(f'[data-testid="{value}"]')


def focused(page: Any) -> str | None:
    testid: str | None = page.evaluate("document.activeElement && document.activeElement.dataset.testid || null")
    return testid


#: Whether the focused element shows its focus (an outline of 2 px or more).
FOCUS_VISIBLE = """() => { const s = getComputedStyle(document.activeElement);
    return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2; }"""


def wait_for_pages(page: Any) -> None:
    expect(page.locator(".pp-page-image").first).to_be_visible()
    page.locator(".pp-page-image").first.evaluate(
        "img => img.complete ? null : new Promise(r => img.addEventListener('load', r, { once: true }))"
    )


def on_screen_height(page: Any, testid: str) -> float:
    box = by_testid(page, testid).bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + min(box["width"], PHONE["width"] - 16) <= PHONE["width"], box
    return float(box["height"])


def test_a_phone_signs_in_guided_mode_one_legible_field_at_a_time(
    server: Server, account: AccountInfo, chromium: Any
) -> None:
    with_pin: dict[str, Any] = {"signers[0][pin]": "2468"}
    sr = create(server, account, signers=[("Jack Doe", "jack@example.com")], fields=FIELDS, **with_pin)
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(signing_link(server.runtime.settings, server.runtime.keys, sid))
        expect(by_testid(page, "pin-input")).to_be_focused()
        assert serious_violations(page) == []
        by_testid(page, "pin-input").fill("2468")
        by_testid(page, "pin-submit").click()
        wait_for_pages(page)

        # Guided mode: a count, Back and Next; nothing is called wrong before the signer did anything.
        progress = by_testid(page, "guided-progress")
        expect(progress).to_have_text("Fields to fill in: 3")
        assert "pp-guided" in (page.locator("body").get_attribute("class") or "")
        assert serious_violations(page) == []
        by_testid(page, "next-field").click()
        expect(progress).to_have_text("1 of 3")
        assert focused(page) == "field-name"
        expect(page.locator("#pp-status")).to_have_text("")
        assert by_testid(page, "field-name").get_attribute("aria-invalid") is None
        assert on_screen_height(page, "field-name") >= 32
        # Leaving a required field empty calls it wrong; Back returns to it.
        by_testid(page, "next-field").click()
        expect(progress).to_have_text("2 of 3")
        assert focused(page) == "field-agree"
        assert by_testid(page, "field-name").get_attribute("aria-invalid") == "true"
        expect(page.locator("#pp-status")).to_have_text("")
        by_testid(page, "guided-back").click()
        expect(progress).to_have_text("1 of 3")
        assert focused(page) == "field-name"
        page.keyboard.type("Jack Doe")
        assert by_testid(page, "field-name").get_attribute("aria-invalid") is None
        screenshot(page, "signing-guided-phone")

        by_testid(page, "next-field").click()
        assert on_screen_height(page, "field-agree") >= 32
        by_testid(page, "field-agree").tap()
        assert by_testid(page, "field-agree").is_checked()
        by_testid(page, "next-field").click()
        expect(progress).to_have_text("3 of 3")
        assert on_screen_height(page, "field-sig") >= 32
        by_testid(page, "field-sig").tap()
        by_testid(page, "signature-typed-input").fill("Jack Doe")
        assert serious_violations(page) == []
        by_testid(page, "signature-adopt").click()
        by_testid(page, "next-field").click()
        assert focused(page) == "sign-submit"
        screenshot(page, "signing-guided-phone-filled")
        by_testid(page, "sign-submit").click()
        expect(page.locator("#pp-done-text")).to_contain_text("You signed")
    finally:
        context.close()
    assert request_state(server, rid, lambda r: r.signers[0].status_code) == "signed"


def test_a_desktop_signer_goes_from_the_first_field_to_submit_by_keyboard_only(
    server: Server, account: AccountInfo, chromium: Any
) -> None:
    sr = create(
        server,
        account,
        signers=[("Jack Doe", "jack@example.com")],
        fields=FIELDS + MORE_FIELDS,
        form_field_groups=[{"group_id": "plan", "group_label": "Plan", "requirement": "require_0-1"}],
        allow_decline="1",
        allow_reassign="1",
    )
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]
    context = chromium.new_context(viewport=DESKTOP, bypass_csp=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(signing_link(server.runtime.settings, server.runtime.keys, sid))
        wait_for_pages(page)
        assert by_testid(page, "guided-progress").is_hidden()
        assert serious_violations(page) == []
        screenshot(page, "signing-desktop")

        for _ in range(10):
            page.keyboard.press("Tab")
            if focused(page) == "field-name":
                break
        assert focused(page) == "field-name"
        assert page.evaluate(FOCUS_VISIBLE)
        expect(page.locator("#pp-status")).to_have_text("")  # nothing is wrong before the signer typed
        page.keyboard.type("Jack Doe")
        page.keyboard.press("Tab")
        assert focused(page) == "field-agree"
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        assert focused(page) == "field-sig"
        page.keyboard.press("Enter")
        expect(by_testid(page, "signature-adopt")).to_be_visible()
        if page.evaluate("document.activeElement.id") != "pp-typed":
            page.keyboard.press("ArrowRight")  # from the default method's tab to "Type"
            page.keyboard.press("Tab")
        assert focused(page) == "signature-typed-input"
        assert serious_violations(page) == []
        page.keyboard.press("Enter")
        expect(by_testid(page, "signature-adopt")).to_be_hidden()
        assert focused(page) == "field-sig"
        passed = []
        for _ in range(3):
            page.keyboard.press("Tab")
            passed.append(focused(page))
        assert passed == ["field-color", "field-plan_a", "field-nickname"]
        # An email half typed is not called wrong while the signer types; it is once they leave it.
        nickname = by_testid(page, "field-nickname")
        page.keyboard.type("jack@")
        assert nickname.get_attribute("aria-invalid") is None
        expect(page.locator("#pp-status")).to_have_text("")
        page.keyboard.press("Tab")
        assert focused(page) == "field-signed_on"
        assert nickname.get_attribute("aria-invalid") == "true"
        page.keyboard.press("Shift+Tab")
        expect(page.locator("#pp-status")).to_contain_text("Email")
        page.keyboard.press("End")
        page.keyboard.type("example.com")
        assert nickname.get_attribute("aria-invalid") is None
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert focused(page) == "next-field"
        page.keyboard.press("Tab")
        assert focused(page) == "sign-submit"
        assert page.evaluate(FOCUS_VISIBLE)
        page.keyboard.press("Enter")
        expect(page.locator("#pp-done-text")).to_contain_text("You signed")
        assert serious_violations(page) == []
    finally:
        context.close()
    assert request_state(server, rid, lambda r: r.signers[0].status_code) == "signed"
