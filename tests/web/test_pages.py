"""The dashboard in Chromium: every page loads, its forms work, and it looks right at desktop and phone widths
(screenshots in test-artifacts/screenshots/)."""

from __future__ import annotations

import base64
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from paraph.db import utcnow
from paraph.models import CallbackEndpoint
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.receiver import Receiver
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser

Shoot = Callable[[Page, str], None]


def api_status(server: Server, key: str, path: str = "/account") -> int:
    auth = base64.b64encode(f"{key}:".encode()).decode()
    req = urllib.request.Request(server.api + path, headers={"authorization": f"Basic {auth}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def reload_until(page: Page, selector: str, count: int, timeout: float = 20.0) -> None:
    """Reload until ``selector`` matches ``count`` elements: background delivery is not instant."""
    deadline = time.monotonic() + timeout
    while page.locator(selector).count() < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} x {selector}, got {page.locator(selector).count()}")
        page.wait_for_timeout(250)
        page.reload()


def test_it_catches_and_verifies_a_real_callback(
    server: Server, account: AccountInfo, page: Page, shoot: Shoot
) -> None:
    sign_in(page, server.url, account)
    welcome = page.locator(".welcome")
    expect(welcome).to_contain_text("Send your first signature request")
    snippet = welcome.locator("pre.code").inner_text()
    assert f'host="{server.url}/v3"' in snippet or f"host='{server.url}/v3'" in snippet
    assert "YOUR_API_KEY" in snippet and account.api_key not in page.content()
    compile(snippet, "first_request.py", "exec")
    shoot(page, "overview-new-account")

    page.click("nav >> text=Inspector")
    shoot(page, "inspector-start")
    page.get_by_test_id("inspector-create-name").fill("my-hook")
    page.get_by_test_id("inspector-create-submit").click()
    expect(page.get_by_test_id("inspector-owned")).to_be_visible()
    expect(page.locator(".key-box")).to_contain_text(f"{server.url}/paraph/inspect/my-hook")
    expect(page.locator(".empty")).to_contain_text("Nothing caught yet")
    page.click("button:has-text('Use as my account callback URL')")
    expect(page.locator(".notice")).to_have_text("Saved.")

    page.click("button:has-text('Send a test callback')")
    expect(page.locator(".notice")).to_have_text("Test callback delivered.")
    caught = page.locator(".caught")
    expect(caught).to_have_count(1)
    expect(caught.locator("h2")).to_have_text("callback_test")
    expect(caught.locator(".check-verified")).to_have_count(2)  # event_hash and webhook-signature
    expect(caught.locator(".check-verified").first).to_contain_text(f"…{account.api_key[-4:]}")
    expect(caught.locator("pre.code").first).to_contain_text('"event_type": "callback_test"')
    shoot(page, "inspector")

    page.click("nav >> text=Callbacks")
    row = page.locator("table.table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("callback_test")
    expect(row.locator(".badge")).to_have_text("delivered")
    expect(page.locator(".endpoint")).to_contain_text("/paraph/inspect/my-hook")
    page.click(".endpoint summary:has-text('Show secret')")
    expect(page.locator(".endpoint details.secret code")).to_contain_text("whsec_")
    shoot(page, "callbacks")

    page.select_option("select[name=state]", "failed")
    page.click("button:has-text('Filter')")
    expect(page.locator(".empty")).to_contain_text("No event matches these filters")
    page.click("text=Clear")

    page.click("table a:has-text('callback_test')")
    expect(page.locator("table.attempts tbody tr")).to_have_count(1)
    expect(page.locator("table.attempts tbody tr")).to_contain_text("200")
    expect(page.locator("table.attempts tbody tr")).to_contain_text("Hello API Event Received")
    expect(page.locator("pre.code")).to_contain_text('"event_hash"')
    page.click("button:has-text('Resend')")
    expect(page.locator(".notice")).to_contain_text("queued again")
    shoot(page, "event")
    reload_until(page, "table.attempts tbody tr", 1)

    page.goto(server.url + "/dashboard/inspector/my-hook")
    reload_until(page, ".caught", 2)
    expect(page.locator(".caught").first.locator(".check-verified")).to_have_count(2)

    page.click("nav >> text=Overview")
    expect(page.locator(".welcome")).to_have_count(0)
    expect(page.locator(".stat-value").first).to_have_text("100.0%")
    expect(page.locator(".chart svg rect.bar-ok")).to_have_count(24)
    shoot(page, "overview")


def test_it_manages_api_keys_and_api_apps(
    server: Server, account: AccountInfo, page: Page, shoot: Shoot, receiver: Receiver
) -> None:
    sign_in(page, server.url, account)
    page.click("nav >> text=API keys")
    expect(page.locator("table.keys tbody tr")).to_have_count(1)
    expect(page.locator("table.keys")).to_contain_text(account.api_key[-4:])
    expect(page.locator("button:has-text('Revoke')")).to_have_count(0)  # never the last key

    page.fill("input[name=name]", "Staging <server>")
    page.click("button:has-text('Create key')")
    new_key = page.locator("#key-value").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", new_key)
    expect(page.locator("h2").first).to_have_text("Staging <server>")
    expect(page.locator("pre.code")).to_contain_text(new_key)
    shoot(page, "api-key-created")
    assert api_status(server, new_key) == 200

    page.click("text=Done")
    staging = page.locator("tr", has_text="Staging <server>")
    staging.locator("button:has-text('Make primary')").click()
    expect(page.locator(".notice")).to_contain_text("Primary API key changed")
    expect(page.locator("tr", has_text="Staging <server>").locator(".badge-primary")).to_have_count(1)

    default = page.locator("tr", has_text="Default")
    default.locator("summary:has-text('Show key')").click()
    default.locator("input[name=password]").fill("not-my-password")
    default.locator("button:has-text('Show')").click()
    expect(page.locator(".alert")).to_have_text("That password is not right.")
    default = page.locator("tr", has_text="Default")
    default.locator("summary:has-text('Show key')").click()
    default.locator("input[name=password]").fill(account.password)
    default.locator("button:has-text('Show')").click()
    expect(page.locator("#key-value")).to_have_text(account.api_key)

    page.goto(server.url + "/dashboard/api-keys")
    page.locator("tr", has_text="Default").locator("button:has-text('Revoke')").click()
    expect(page.locator(".notice")).to_have_text("API key revoked.")
    expect(page.locator("table.keys tbody tr")).to_have_count(1)
    expect(page.locator("button:has-text('Revoke')")).to_have_count(0)
    assert api_status(server, account.api_key) == 401
    assert api_status(server, new_key) == 200
    shoot(page, "api-keys")

    page.click("nav >> text=API apps")
    expect(page.locator(".empty")).to_contain_text("No API app yet")
    page.fill("input[name=name]", "Shop")
    page.fill("input[name=domains]", "shop.example.com, localhost")
    page.fill("input[name=callback_url]", "http://169.254.169.254/latest")
    page.click("button:has-text('Create app')")
    expect(page.locator(".alert")).to_be_visible()  # the API's SSRF guard refuses cloud metadata
    expect(page.locator("input[name=name]")).to_have_value("Shop")
    page.fill("input[name=callback_url]", receiver.url + "/app-hook")
    page.click("button:has-text('Create app')")
    expect(page.locator(".notice")).to_have_text("API app created.")
    client_id = page.url.rsplit("/", 1)[1].split("?")[0]
    assert re.fullmatch(r"[0-9a-f]{32}", client_id)
    expect(page.locator(".page-head")).to_contain_text(client_id)
    shoot(page, "app")

    page.fill("input[name=name]", "Shop & Co")
    page.fill("input[name=domains]", "shop.example.com")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_have_text("Shop & Co")
    page.click(".endpoint button:has-text('Send test')")
    expect(page.locator(".notice")).to_have_text("Test callback delivered.")
    assert receiver.events("/app-hook") == ["callback_test"]

    page.click("nav >> text=API apps")
    expect(page.locator("table tbody tr")).to_contain_text("Shop & Co")
    expect(page.locator("table tbody tr")).to_contain_text(client_id)
    shoot(page, "apps")
    page.click("text=Shop & Co")
    page.click("button:has-text('Delete this app')")
    expect(page.locator(".notice")).to_have_text("API app deleted.")
    expect(page.locator(".empty")).to_contain_text("No API app yet")


def test_it_keeps_accounts_apart_and_refuses_forms_without_a_token(
    server: Server, account: AccountInfo, page: Page, shoot: Shoot
) -> None:
    from tests.web.helpers import Client

    owner = Client(server.url)
    owner.sign_in(account)
    apps_form = owner.get("/dashboard/apps")
    created = owner.post(
        "/dashboard/apps",
        {"csrf_token": apps_form.csrf, "name": "Private app", "domains": "example.com", "callback_url": ""},
    )
    client_id = created.headers["location"].split("/")[-1].split("?")[0]
    owner.post("/paraph/inspect/owner-only", {"json": "{}"})
    with server.runtime.unit_of_work() as session:
        from paraph.account.repository import active_keys, by_email
        from paraph.callbacks.events import EventType
        from paraph.callbacks.service import emit

        found = by_email(session, account.email)
        assert found is not None
        event_id = emit(session, server.runtime.keys, found, EventType.CALLBACK_TEST).event.event_id
        key_id = active_keys(session, found)[0].id

    intruder = make_account(server.runtime)
    sign_in(page, server.url, intruder)
    expect(page.locator(".welcome")).to_be_visible()  # a new account: nothing of the other's shows
    page.click("nav >> text=API apps")
    expect(page.locator("body")).not_to_contain_text("Private app")
    page.click("nav >> text=Callbacks")
    expect(page.locator("table")).to_have_count(0)
    for path in (f"/dashboard/apps/{client_id}", f"/dashboard/callbacks/events/{event_id}"):
        page.goto(server.url + path)
        expect(page.locator("h1")).to_have_text("Not found")
    page.goto(server.url + "/dashboard/api-keys")
    expect(page.locator("table.keys")).not_to_contain_text(account.api_key[-4:])
    page.evaluate(
        """([id, token]) => {
            const f = document.createElement('form');
            f.method = 'post'; f.action = '/dashboard/api-keys/' + id + '/revoke';
            const i = document.createElement('input');
            i.type = 'hidden'; i.name = 'csrf_token'; i.value = token;
            f.appendChild(i); document.body.appendChild(f); f.submit();
        }""",
        [key_id, page.locator("input[name=csrf_token]").first.get_attribute("value")],
    )
    expect(page.locator("h1")).to_have_text("Not found")
    assert api_status(server, account.api_key) == 200

    page.goto(server.url + "/dashboard/api-keys")
    page.locator("form[action='/dashboard/api-keys'] input[name=csrf_token]").evaluate("e => e.remove()")
    page.fill("input[name=name]", "sneaky")
    page.click("button:has-text('Create key')")
    expect(page.locator("h1")).to_have_text("This form has expired")
    expect(page.locator(".error-code")).to_have_text("Error 403")
    shoot(page, "error-csrf")
    page.goto(server.url + "/dashboard/api-keys")
    expect(page.locator("table.keys")).not_to_contain_text("sneaky")


def test_it_throttles_failed_sign_ins(server: Server, account: AccountInfo, page: Page, shoot: Shoot) -> None:
    page.goto(server.url + "/dashboard/callbacks")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdashboard%2Fcallbacks$"))
    shoot(page, "login")
    for _ in range(5):
        page.fill("input[name=email]", account.email)
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]")
        expect(page.locator(".alert")).to_have_text("That email address and password do not match.")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    expect(page.locator(".alert")).to_contain_text("Too many failed sign-ins")
    expect(page).to_have_url(re.compile(r"/login$"))
    shoot(page, "login-throttled")

    other = make_account(server.runtime)
    page.fill("input[name=email]", other.email)
    page.fill("input[name=password]", other.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(server.url + "/dashboard/callbacks")


def _write_mail(directory: Path, ms: int, uid: str, to: str, *, account_id: str | None = None) -> str:
    msg = EmailMessage()
    msg["From"] = "Paraph <noreply@paraph.local>"
    msg["To"] = to
    msg["Subject"] = f"Please sign <contract> {uid[-4:]}"
    if account_id:
        msg["X-Paraph-Account"] = account_id
    msg.set_content("Hello,\n\nSign here: https://sign.example.test/s/abc?x=1&y=2.\n\n<b>not bold</b>\n")
    msg.add_alternative(
        "<p>Hello, <a href='https://sign.example.test/s/abc'>sign here</a></p><script>parent.alert(1)</script>",
        subtype="html",
    )
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{ms}-{uid}"
    (directory / f"{name}.eml").write_bytes(bytes(msg))
    return name


def test_it_shows_the_mail_outbox_and_account_settings(
    server: Server, account: AccountInfo, page: Page, shoot: Shoot, receiver: Receiver
) -> None:
    mail = server.runtime.settings.data_dir / "mail"
    now = int(time.time() * 1000)
    mine = _write_mail(mail, now - 60_000, "0c6b1c9e-8a8e-4d8b-9a57-2d7fb1c1a001", f"Dev <{account.email.upper()}>")
    about_me = _write_mail(
        mail, now, "0c6b1c9e-8a8e-4d8b-9a57-2d7fb1c1a002", "signer@example.com", account_id=account.account_id
    )
    theirs = _write_mail(mail, now - 1000, "0c6b1c9e-8a8e-4d8b-9a57-2d7fb1c1a003", "someone@example.com")

    sign_in(page, server.url, account)
    page.click("nav >> text=Mail outbox")
    rows = page.locator(".mail-list li")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("a002")  # newest first
    expect(rows.nth(1)).to_contain_text("a001")
    shoot(page, "mail")
    rows.nth(1).click()
    expect(page.locator("h1")).to_contain_text("Please sign <contract>")
    link = page.locator(".mail-text a")
    expect(link).to_have_attribute("href", "https://sign.example.test/s/abc?x=1&y=2")
    expect(page.locator(".mail-text")).to_contain_text("<b>not bold</b>")
    frame = page.locator("iframe.mail-frame")
    expect(frame).to_have_attribute("sandbox", "allow-popups allow-popups-to-escape-sandbox")
    expect(page.frame_locator("iframe.mail-frame").locator("a")).to_have_text("sign here")
    shoot(page, "mail-view")
    html_part = page.request.get(f"{server.url}/dashboard/mail/{mine}/html")
    assert "sandbox" in html_part.headers["content-security-policy"]
    assert page.request.get(f"{server.url}/dashboard/mail/{about_me}").status == 200
    page.goto(f"{server.url}/dashboard/mail/{theirs}")
    expect(page.locator("h1")).to_have_text("Not found")

    page.click("nav >> text=Account")
    expect(page.locator("button:has-text('Send test')")).to_be_disabled()
    page.fill("input[name=callback_url]", "ftp://example.com/hook")
    page.click("button:has-text('Save')")
    expect(page.locator(".alert")).to_be_visible()
    page.fill("input[name=callback_url]", receiver.url + "/account-hook")
    page.select_option("select[name=locale]", "fr-FR")
    page.click("button:has-text('Save')")
    expect(page.locator(".notice")).to_have_text("Saved.")
    expect(page.locator("select[name=locale]")).to_have_value("fr-FR")
    receiver.behaviour.status = 500
    page.click("button:has-text('Send test')")
    expect(page.locator(".notice-bad")).to_contain_text("Test callback failed")
    expect(page.locator("table.attempts")).to_contain_text("500")
    receiver.behaviour.status = 200
    page.click("nav >> text=Account")
    page.click("button:has-text('Send test')")
    expect(page.locator(".notice")).to_have_text("Test callback delivered.")
    page.click("nav >> text=Account")
    shoot(page, "account")

    with server.runtime.unit_of_work() as session:  # as if five events had failed in a row
        ep = session.query(CallbackEndpoint).one()
        ep.consecutive_failures, ep.disabled_at = 5, utcnow()
    page.click("nav >> text=Overview")
    first = page.locator(".endpoint").first
    expect(first.locator(".badge")).to_have_text("disabled")
    expect(page.locator(".stat-value").first).to_have_text("50.0%")
    shoot(page, "overview-disabled-endpoint")

    page.click("button:has-text('Sign out')")
    expect(page).to_have_url(server.url + "/login")
    page.goto(server.url + "/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next="))
