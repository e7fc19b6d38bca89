"""The signing page in Chromium, opened by the unmodified hellosign-embedded library from another origin,
and from a mail link. SQLite only: the browser is the slow part, and the database paths are the same."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from paraph.models import SignatureImage
from tests.client import wait_until
from tests.conftest import AccountInfo, Inbox, Server
from tests.mail.helpers import links
from tests.receiver import Receiver
from tests.signing.conftest import DESKTOP, PHONE, Host, screenshot
from tests.signing.helpers import (
    create,
    events,
    f,
    new_app,
    request_state,
    set_callback,
    sign_url,
    wait_event,
)

pytestmark = pytest.mark.browser


def _initials_png() -> bytes:
    image = Image.new("RGBA", (240, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(20, 80), (80, 20), (140, 80), (220, 20)], fill=(10, 20, 120, 255), width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


INITIALS_PNG = _initials_png()
IFRAME = "iframe.x-hellosign-embedded__iframe"
BOB_PIN: dict[str, Any] = {"signers[1][pin]": "4321"}


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "paraph.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings_overrides(inbox: Inbox) -> dict[str, Any]:
    return {"smtp_url": f"smtp://{inbox.host}:{inbox.port}"}


def open_sign(page: Any, host: Host, url: str, client_id: str, options: dict[str, Any] | None = None) -> Any:
    if not page.url.startswith(host.url):
        page.goto(host.url)
    page.evaluate("([u, c, o]) => window.openSign(u, c, o)", [url, client_id, options or {"testMode": True}])
    return page.frame_locator(IFRAME)


def expect_true(check: Any, timeout: float = 15.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def wait_js_event(page: Any, name: str, count: int = 1) -> list[dict[str, Any]]:
    page.wait_for_function(f"window.events.filter(e => e.name === {name!r}).length >= {count}")
    return [e for e in page.evaluate("window.events") if e["name"] == name]


def by_testid(frame: Any, value: str) -> Any:
    return frame.locator(f'[data-testid="{value}"]')


EVERY_FIELD = [
    f("full_name", "text", 0, 72, 100, 200, 22, name="Full name", placeholder="Your name"),
    f("nickname", "text", 0, 300, 100, 120, 12, name="Nickname", required=False),
    f("v_numbers", "text", 0, 72, 140, validation_type="numbers_only", name="Amount"),
    f("v_letters", "text", 0, 300, 140, validation_type="letters_only", name="City"),
    f("v_phone", "text", 0, 72, 180, validation_type="phone_number", name="Phone"),
    f("v_routing", "text", 0, 300, 180, validation_type="bank_routing_number", name="Routing number"),
    f("v_account", "text", 0, 72, 220, validation_type="bank_account_number", name="Account number"),
    f("v_email", "text", 0, 300, 220, validation_type="email_address", name="Email"),
    f("v_zip", "text", 0, 72, 260, validation_type="zip_code", name="ZIP"),
    f("v_ssn", "text", 0, 300, 260, validation_type="social_security_number", name="SSN"),
    f("v_ein", "text", 0, 72, 300, validation_type="employer_identification_number", name="EIN"),
    f(
        "v_regex",
        "text",
        0,
        300,
        300,
        validation_type="custom_regex",
        validation_custom_regex="[A-Z]{3}-[0-9]{2}",
        validation_custom_regex_format_label="ABC-12",
        name="Code",
    ),
    f("color", "dropdown", 0, 72, 340, options=["Red", "Green", "Blue"], name="Colour"),
    f("agree", "checkbox", 0, 72, 380, 14, 14, is_checked=False, name="I agree"),
    f("plan_a", "radio", 0, 72, 410, 14, 14, group="plan", is_checked=False, name="Plan A"),
    f("plan_b", "radio", 0, 120, 410, 14, 14, group="plan", is_checked=False, name="Plan B"),
    f("extra_1", "checkbox", 0, 72, 440, 14, 14, group="extras", is_checked=False, required=False, name="Extra 1"),
    f("extra_2", "checkbox", 0, 120, 440, 14, 14, group="extras", is_checked=False, required=False, name="Extra 2"),
    f("has_company", "checkbox", 0, 72, 470, 14, 14, is_checked=False, required=False, name="For a company"),
    f("company", "text", 0, 120, 466, name="Company"),
    f("sig", "signature", 0, 72, 500, 200, 40, page=2, name="Signature"),
    f("init", "initials", 0, 300, 500, 80, 40, page=2, name="Initials"),
    f("signed_on", "date_signed", 0, 72, 560, page=2, name="Date"),
]
GROUPS = [
    {"group_id": "plan", "group_label": "Plan", "requirement": "require_1"},
    {"group_id": "extras", "group_label": "Extras", "requirement": "require_1-ormore"},
]
RULES = [
    {
        "id": "company_rule",
        "trigger_operator": "AND",
        "triggers": [{"id": "has_company", "operator": "is", "value": "1"}],
        "actions": [{"field_id": "company", "hidden": False, "type": "change-field-visibility"}],
    }
]
TEXT_VALUES = {
    "full_name": "Jack Doe",
    "v_numbers": "1200",
    "v_letters": "Lyon",
    "v_phone": "+1 415 555 0100",
    "v_routing": "011000015",
    "v_account": "000123456789",
    "v_email": "jack@example.com",
    "v_zip": "94105",
    "v_ssn": "123-45-6789",
    "v_ein": "12-3456789",
    "v_regex": "ABC-12",
    "company": "Acme",
}


def test_it_signs_every_field_type_through_hellosign_embedded(
    server: Server, account: AccountInfo, receiver: Receiver, host: Host, browser_page: Any
) -> None:
    set_callback(server, account, receiver)
    client_id = new_app(server, account, ["localhost"], white_labeling_options={"primary_button_color": "#00aa55"})
    sr = create(
        server,
        account,
        client_id=client_id,
        signers=[("Jack Doe", "jack@example.com")],
        fields=EVERY_FIELD,
        form_field_groups=GROUPS,
        form_field_rules=RULES,
    )
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]
    url = sign_url(server, account, sid)
    page = browser_page
    frame = open_sign(page, host, url, client_id)
    assert wait_js_event(page, "ready")[0]["payload"] == {"signatureId": sid}
    screenshot(page, "signing-embedded-desktop")
    submit = by_testid(frame, "sign-submit")
    assert submit.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(0, 170, 85)"
    # A 12 pt text field leaves room for descenders; required and optional fields look different.
    nickname, full_name = by_testid(frame, "field-nickname"), by_testid(frame, "field-full_name")
    nickname.fill("gyp")
    assert nickname.evaluate("el => parseFloat(getComputedStyle(el).fontSize) * 1.15 <= el.clientHeight")
    look = "el => [getComputedStyle(el).borderStyle, getComputedStyle(el).backgroundColor].join()"
    assert nickname.evaluate(look) != full_name.evaluate(look)
    assert by_testid(frame, "field-company").is_hidden()

    for api_id, value in TEXT_VALUES.items():
        if api_id not in ("company", "v_phone"):
            by_testid(frame, f"field-{api_id}").fill(value)
    by_testid(frame, "field-v_phone").fill("12")
    by_testid(frame, "field-color").select_option("Green")
    by_testid(frame, "field-agree").check()
    by_testid(frame, "field-plan_b").check()
    by_testid(frame, "field-extra_2").check()
    by_testid(frame, "field-has_company").check()
    by_testid(frame, "field-company").fill(TEXT_VALUES["company"])

    # The signature first; then an initials field still opens the dialog, for initials.
    by_testid(frame, "field-sig").click()
    by_testid(frame, "signature-typed-input").fill("Jack Doe")
    frame.locator("#pp-typed-preview").wait_for()
    screenshot(page, "signing-embedded-dialog")
    by_testid(frame, "signature-adopt").click()
    assert by_testid(frame, "signature-adopt").is_hidden()
    # The adopted signature fills its field's height (the image's drawn height, its aspect ratio kept).
    fills = """el => { const i = el.querySelector('img'); if (!i || !i.naturalWidth) return false;
        const r = i.getBoundingClientRect();
        return Math.min(r.height, r.width * i.naturalHeight / i.naturalWidth) >= 0.8 * el.clientHeight; }"""
    expect_true(lambda: bool(by_testid(frame, "field-sig").evaluate(fills)))
    by_testid(frame, "field-init").click()
    expect(frame.locator("#pp-sig-title")).to_have_text("Your initials")
    by_testid(frame, "signature-typed-input").fill("JD")
    by_testid(frame, "signature-adopt").click()
    assert by_testid(frame, "field-init").locator("img").count() == 1

    # A bad phone number keeps the document unsigned and takes the signer to the field.
    submit.click()
    expect(frame.locator("#pp-status")).to_contain_text("Phone")
    assert by_testid(frame, "field-v_phone").get_attribute("aria-invalid") == "true"
    by_testid(frame, "field-v_phone").fill(TEXT_VALUES["v_phone"])
    screenshot(page, "signing-embedded-filled-desktop")
    page.set_viewport_size(PHONE)
    expect(by_testid(frame, "guided-progress")).to_be_visible()  # the iFrame, as narrow, is in guided mode
    screenshot(page, "signing-embedded-phone")
    page.set_viewport_size(DESKTOP)

    submit.click()
    assert wait_js_event(page, "sign")[0]["payload"] == {"signatureId": sid}
    by_testid(frame, "done-close").click()
    wait_js_event(page, "finish")
    wait_js_event(page, "close")

    downloadable = wait_event(receiver, rid, "signature_request_downloadable")
    values = {item["api_id"]: item["value"] for item in downloadable.request["response_data"]}
    for api_id, value in TEXT_VALUES.items():
        assert values[api_id] == value
    assert values["color"] == "Green"
    assert (values["agree"], values["plan_a"], values["plan_b"]) == (True, False, True)
    assert (values["extra_1"], values["extra_2"], values["has_company"]) == (False, True, True)
    assert values["sig"] == "Jack Doe" and values["init"] == "JD"
    assert values["signed_on"].count(" / ") == 2
    kinds = [e.event_type for e in events(receiver, rid)]
    assert kinds.count("signature_request_viewed") == 1 and kinds.count("signature_request_signed") == 1

    # The used sign URL now explains itself and reports sign_url_invalid.
    frame = open_sign(page, host, url, client_id)
    errors = wait_js_event(page, "error")
    assert errors[0]["payload"]["code"] == "sign_url_invalid"
    expect(frame.locator("#pp-notice-text")).to_contain_text("already been used")
    screenshot(page, "signing-embedded-used-link")
    wait_event(receiver, rid, "sign_url_invalid")


def test_it_verifies_the_parent_and_lets_two_signers_sign_in_order(
    server: Server, account: AccountInfo, receiver: Receiver, host: Host, browser_page: Any
) -> None:
    set_callback(server, account, receiver)
    client_id = new_app(server, account, ["localhost"])
    sr = create(
        server,
        account,
        client_id=client_id,
        signers=[("Ann First", "ann@example.com"), ("Bob Second", "bob@example.com")],
        fields=[
            f("ann_sig", "signature", 0, 72, 420, 200, 40),
            f("bob_sig", "signature", 1, 320, 420, 200, 40),
            f("bob_title", "text", 1, 320, 480, name="Title"),
        ],
        ordered=True,
        signing_options={"draw": True, "type": True, "upload": False, "default_type": "draw"},
    )
    rid = sr["signature_request_id"]
    ann, bob = (s["signature_id"] for s in sr["signatures"])
    page = browser_page
    verified = {"testMode": False, "skipDomainVerification": False}

    frame = open_sign(page, host, sign_url(server, account, bob), client_id, verified)
    assert wait_js_event(page, "error")[0]["payload"]["code"] == "waiting"
    expect(frame.locator("#pp-notice-text")).to_contain_text("Ann First")
    page.evaluate("window.client.close()")

    frame = open_sign(page, host, sign_url(server, account, ann), client_id, verified)
    wait_js_event(page, "ready", 2)
    by_testid(frame, "field-ann_sig").click()
    assert frame.locator("#pp-tab-draw").get_attribute("aria-selected") == "true"
    assert frame.locator("#pp-tab-upload").is_hidden()
    box = frame.locator("#pp-canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(box["x"] + 40 + i * 30, box["y"] + box["height"] * (0.3 if i % 2 else 0.7), steps=3)
    page.mouse.up()
    by_testid(frame, "signature-adopt").click()
    by_testid(frame, "sign-submit").click()
    wait_js_event(page, "sign")
    by_testid(frame, "done-close").click()
    wait_js_event(page, "finish")

    frame = open_sign(page, host, sign_url(server, account, bob), client_id)
    wait_js_event(page, "ready", 3)
    by_testid(frame, "field-bob_title").fill("CFO")
    by_testid(frame, "field-bob_sig").click()
    frame.locator("#pp-tab-type").click()
    by_testid(frame, "signature-typed-input").fill("Bob Second")
    by_testid(frame, "signature-adopt").click()
    by_testid(frame, "sign-submit").click()
    assert wait_js_event(page, "sign", 2)[1]["payload"] == {"signatureId": bob}

    done = wait_event(receiver, rid, "signature_request_downloadable")
    values = {item["api_id"]: (item["value"], item["signature_id"]) for item in done.request["response_data"]}
    assert values["bob_title"] == ("CFO", bob)
    assert values["ann_sig"][1] == ann and values["bob_sig"] == ("Bob Second", bob)
    methods = request_state(server, rid, lambda r: sorted(s.status_code for s in r.signers))
    assert methods == ["signed", "signed"]


def test_it_reassigns_and_declines_in_the_iframe(
    server: Server, account: AccountInfo, receiver: Receiver, host: Host, browser_page: Any
) -> None:
    set_callback(server, account, receiver)
    client_id = new_app(server, account, ["localhost"])
    sr = create(
        server,
        account,
        client_id=client_id,
        signers=[("Ann", "ann@example.com"), ("Bob", "bob@example.com")],
        fields=[f("a", "signature", 0, 72, 420, 200, 40), f("b", "signature", 1, 320, 420, 200, 40)],
        allow_decline="1",
        allow_reassign="1",
        **BOB_PIN,
    )
    rid = sr["signature_request_id"]
    ann, bob = (s["signature_id"] for s in sr["signatures"])
    page = browser_page

    ann_url = sign_url(server, account, ann)
    frame = open_sign(page, host, ann_url, client_id)
    wait_js_event(page, "ready")
    # The library's close button asks the page, which answers "cancel"; the unused URL opens again.
    page.locator(".x-hellosign-embedded__modal-close-button").click()
    wait_js_event(page, "cancel")
    frame = open_sign(page, host, ann_url, client_id)
    wait_js_event(page, "ready", 2)
    by_testid(frame, "reassign").click()
    by_testid(frame, "reassign-name").fill("Carol New")
    by_testid(frame, "reassign-email").fill("carol@example.com")
    by_testid(frame, "reassign-reason").fill("Carol handles contracts")
    by_testid(frame, "reassign-confirm").click()
    moved = wait_js_event(page, "reassign")[0]["payload"]
    assert moved == {
        "signatureId": ann,
        "name": "Carol New",
        "email": "carol@example.com",
        "reason": "Carol handles contracts",
    }
    by_testid(frame, "done-close").click()
    wait_js_event(page, "finish")
    reassigned = wait_event(receiver, rid, "signature_request_reassigned")
    carol = reassigned.request["signatures"][0]
    assert (carol["signer_email_address"], carol["reassigned_from"]) == ("carol@example.com", ann)
    assert carol["signature_id"] != ann

    # Bob has an access code: the page asks for it before showing anything, and counts a wrong one.
    frame = open_sign(page, host, sign_url(server, account, bob), client_id)
    wait_js_event(page, "ready", 3)
    by_testid(frame, "pin-input").fill("1111")
    by_testid(frame, "pin-submit").click()
    expect(frame.locator("#pp-pin-error")).to_contain_text("Tries left: 4")
    assert frame.locator(".pp-page-image").count() == 0 and by_testid(frame, "decline").count() == 0
    screenshot(page, "signing-embedded-pin")
    by_testid(frame, "pin-input").fill("4321")
    by_testid(frame, "pin-submit").click()
    # The page opens again, past the PIN step, in the same iFrame: the library is not initialized again, and
    # the Close button it configured for the PIN step stays.
    expect_true(lambda: frame.locator(".pp-page-image").first.evaluate("img => img.naturalWidth > 0"))
    expect(frame.locator("#pp-close")).to_be_visible()
    by_testid(frame, "decline").click()
    by_testid(frame, "decline-confirm").click()
    expect(frame.locator("#pp-decline-error")).to_have_text("Say why you decline.")
    by_testid(frame, "decline-reason").fill("The amount is wrong")
    by_testid(frame, "decline-confirm").click()
    assert wait_js_event(page, "decline")[0]["payload"] == {"signatureId": bob, "reason": "The amount is wrong"}
    assert [e["name"] for e in page.evaluate("window.events")].count("ready") == 3
    declined = wait_event(receiver, rid, "signature_request_declined")
    assert declined.metadata["event_message"] == "The amount is wrong"
    assert declined.metadata["related_signature_id"] == bob


def test_it_signs_from_the_mail_link_on_a_phone(
    server: Server, account: AccountInfo, receiver: Receiver, inbox: Inbox, chromium: Any
) -> None:
    set_callback(server, account, receiver)
    sr = create(
        server,
        account,
        signers=[("Jack Doe", "jack@example.com")],
        fields=[
            f("name", "text", 0, 72, 380, 220, 24, name="Full name"),
            f("sig", "signature", 0, 72, 420, 200, 40),
            f("init", "initials", 0, 72, 480, 80, 40),
            f("when", "date_signed", 0, 320, 430),
        ],
        message="Here is the agreement we discussed.",
        attachments=[{"name": "ID card", "signer_index": 0, "required": True}],
    )
    rid = sr["signature_request_id"]
    signature_id, token = links(inbox.wait_for(1)[0])
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/sign/{signature_id}?token={token}")
        expect(page.locator("#pp-intro")).to_contain_text("Here is the agreement we discussed.")
        by_testid(page, "next-field").click()
        focused = page.evaluate("document.activeElement.getAttribute('data-testid')")
        assert focused == "field-name"
        page.keyboard.type("Jack Doe")
        screenshot(page, "signing-mail-phone")
        by_testid(page, "field-sig").click()
        by_testid(page, "signature-typed-input").fill("Jack Doe")
        # Polled with evaluate: wait_for_function compiles its predicate in the page, which the signing page's
        # CSP (no unsafe-eval) refuses.
        expect_true(lambda: page.evaluate("document.getElementById('pp-typed-preview').naturalWidth > 0"))
        screenshot(page, "signing-mail-phone-dialog")
        by_testid(page, "signature-adopt").click()
        by_testid(page, "field-init").click()
        page.locator("#pp-tab-upload").click()
        page.set_input_files("#pp-upload", files=[{"name": "jd.png", "mimeType": "image/png", "buffer": INITIALS_PNG}])
        page.locator("#pp-upload-preview").wait_for()
        by_testid(page, "signature-adopt").click()
        # The required attachment blocks the signature until it is uploaded; a wrong type is refused clearly.
        by_testid(page, "sign-submit").click()
        expect(page.locator("#pp-status")).to_have_text("Attach \u201cID card\u201d before signing.")
        attachment = by_testid(page, "attachment-0")
        attachment.set_input_files(files=[{"name": "id.txt", "mimeType": "text/plain", "buffer": b"hello"}])
        expect(page.locator("#pp-attachment-status-0")).to_contain_text("not accepted")
        attachment.set_input_files(files=[{"name": "id.png", "mimeType": "image/png", "buffer": INITIALS_PNG}])
        expect(page.locator("#pp-attachment-status-0")).to_have_text("Attached: id.png")
        by_testid(page, "sign-submit").click()
        page.locator("#pp-done").wait_for()
        expect(page.locator("#pp-done-text")).to_contain_text("You signed")
        screenshot(page, "signing-mail-phone-signed")
    finally:
        context.close()
    done = wait_event(receiver, rid, "signature_request_downloadable")
    values = {item["api_id"]: item["value"] for item in done.request["response_data"]}
    assert values["name"] == "Jack Doe" and values["sig"] == "Jack Doe"
    with server.runtime.unit_of_work(write=False) as session:
        kinds = dict(session.execute(sa.select(SignatureImage.api_id, SignatureImage.method)).all())
    assert kinds == {"sig": "type", "init": "upload"}
    wait_until(lambda: any("Completed" in str(m["Subject"]) for m in inbox.to("jack@example.com")), 60)
