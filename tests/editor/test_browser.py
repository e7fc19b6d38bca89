"""The editor in Chromium, opened by the unmodified hellosign-embedded library from another origin: embedded
requesting end to end, the embedded template editor, and a refused domain. SQLite only: the browser is the
slow part, and the database paths are those of tests/editor/test_drafts_api.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dropbox_sign
import pytest
from dropbox_sign import models
from playwright.sync_api import expect

from tests.client import wait_until
from tests.conftest import AccountInfo, Server
from tests.editor.helpers import TWO_PAGES, create_embedded_draft, draft_signer, open_claim, request_fields
from tests.receiver import Receiver
from tests.signature_request.helpers import listen, wait_event
from tests.signing.conftest import PHONE, Host, screenshot
from tests.signing.helpers import new_app
from tests.template.helpers import role, wait_template_event

pytestmark = pytest.mark.browser
IFRAME = "iframe.x-hellosign-embedded__iframe"
REQUEST_TOOLS = ["signature", "initials", "text", "checkbox", "radio", "dropdown", "date_signed", "hyperlink"]


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "paraph.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


def by(frame: Any, testid: str) -> Any:
    return frame.locator(f'[data-testid="{testid}"]')


def open_editor(page: Any, url: str, client_id: str, options: dict[str, Any]) -> Any:
    page.evaluate("() => window.client && window.client.close()")
    page.evaluate("([u, c, o]) => window.openEditor(u, c, o)", [url, client_id, options])
    return page.frame_locator(IFRAME)


def js_events(page: Any, name: str, count: int = 1) -> list[dict[str, Any]]:
    # Up to 60 s: an event that follows a server round trip (send, createTemplate) once took more than the
    # context's 20 s default in a fresh-clone CI run on a loaded machine (cause not established).
    page.wait_for_function(f"window.events.filter(e => e.name === {name!r}).length >= {count}", timeout=60_000)
    return [e for e in page.evaluate("window.events") if e["name"] == name]


def placed_fields(server: Server, rid: str) -> list[tuple[str, str, str, int]]:
    return [(f["api_id"], f["type"], f["signer"], f["page"]) for f in request_fields(server, rid)]


def test_embedded_requesting_and_the_template_editor_in_hellosign_embedded(
    server: Server, account: AccountInfo, sdk: Any, receiver: Receiver, editor_host: Host, browser_page: Any
) -> None:
    listen(sdk, receiver)
    client_id = new_app(server, account, ["localhost"], white_labeling_options={"primary_button_color": "#00aa55"})
    elsewhere = new_app(server, account, ["example.com"])
    signers = [draft_signer(), draft_signer("Jill", "jill@example.com")]
    draft = create_embedded_draft(sdk, client_id, is_for_embedded_signing=True, signers=signers, subject="Lease")
    refused = create_embedded_draft(sdk, elsewhere, test_mode=False)
    page = browser_page
    page.goto(editor_host.url)

    # Embedded requesting, opened at once (the page waits for the documents), the parent's domain verified (not
    # skipped), white labeled.
    frame = open_editor(page, draft.claim_url, client_id, {"testMode": False})
    assert js_events(page, "ready")[0]["payload"] == {"signatureRequestId": draft.signature_request_id}
    submit = by(frame, "editor-submit")
    assert submit.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(0, 170, 85)"
    options = by(frame, "editor-signer").locator("option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["0", "1", "me_now"]
    for tool in REQUEST_TOOLS:
        expect(by(frame, f"editor-tool-{tool}")).to_be_visible()
    by(frame, "editor-tool-text").click()
    by(frame, "editor-page-1").click(position={"x": 160, "y": 120})
    by(frame, "editor-tool-signature").click()
    by(frame, "editor-page-2").click(position={"x": 120, "y": 300})
    fields = by(frame, "editor-field")
    expect(fields).to_have_count(2)

    # Keyboard: duplicate, delete, undo, redo, move; all on the focused field.
    fields.nth(1).focus()
    fields.nth(1).press("Control+d")
    expect(fields).to_have_count(3)
    fields.nth(2).press("Delete")
    expect(fields).to_have_count(2)
    page.keyboard.press("Control+z")
    expect(fields).to_have_count(3)
    page.keyboard.press("Control+Shift+z")
    expect(fields).to_have_count(2)
    before = fields.nth(1).evaluate("el => el.style.left")
    fields.nth(1).focus()
    fields.nth(1).press("Shift+ArrowRight")
    assert fields.nth(1).evaluate("el => el.style.left") != before

    # Properties; a clash the server finds is shown beside the field at fault.
    fields.nth(0).click()
    by(frame, "editor-prop-api-id").fill("tenant")
    by(frame, "editor-prop-api-id").press("Tab")
    by(frame, "editor-prop-label").fill("Tenant name")
    by(frame, "editor-prop-label").press("Tab")
    fields.nth(1).click()
    by(frame, "editor-prop-api-id").fill("tenant")
    by(frame, "editor-prop-api-id").press("Tab")
    submit.click()
    expect(by(frame, "editor-field-error")).to_contain_text("more than one field")
    expect(fields.nth(1)).to_have_attribute("aria-invalid", "true")
    screenshot(page, "editor-embedded-desktop")
    by(frame, "editor-prop-api-id").fill("tenant_sig")
    by(frame, "editor-prop-api-id").press("Tab")
    page.set_viewport_size(PHONE)
    expect(by(frame, "editor-page-1")).to_be_visible()
    screenshot(page, "editor-embedded-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    submit.click()
    rid = draft.signature_request_id
    assert js_events(page, "send")[0]["payload"] == {"signatureRequestId": rid}
    wait_event(receiver, "signature_request_sent", rid)
    assert placed_fields(server, rid) == [("tenant", "text", "0", 1), ("tenant_sig", "signature", "0", 2)]

    # A page not on the app's domains: refused, and the library hears why.
    frame = open_editor(page, refused.claim_url, elsewhere, {"testMode": False})
    errors = js_events(page, "error")
    assert errors[-1]["payload"]["code"] == "domain_not_allowed"
    expect(by(frame, "editor-problem")).to_contain_text("not one of the API app's domains")

    # The embedded template editor: roles in the signer select, merge fields as tools; createTemplate on save.
    created = (
        dropbox_sign.TemplateApi(sdk)
        .template_create_embedded_draft(
            models.TemplateCreateEmbeddedDraftRequest(
                client_id=client_id,
                files=[TWO_PAGES],
                signer_roles=[role("Client"), role("Witness")],
                merge_fields=[models.SubMergeField(name="Price", type="text")],
                test_mode=True,
            )
        )
        .template
    )
    wait_until(lambda: open_claim(server, created.edit_url, client_id).status == 200)
    frame = open_editor(page, created.edit_url, client_id, {"testMode": True})
    assert js_events(page, "ready", 3)[-1]["payload"] == {"templateId": created.template_id}
    signer = by(frame, "editor-signer")
    assert signer.locator("option").evaluate_all("os => os.map(o => o.value)") == ["Client", "Witness"]
    signer.select_option("Witness")
    by(frame, "editor-tool-signature").click()
    by(frame, "editor-page-1").click(position={"x": 100, "y": 400})
    by(frame, "editor-tool-text-merge").click()
    by(frame, "editor-page-1").click(position={"x": 100, "y": 100})
    expect(by(frame, "editor-prop-merge-field")).to_have_value("Price")
    by(frame, "editor-submit").click()
    assert js_events(page, "createTemplate")[0]["payload"]["templateId"] == created.template_id
    wait_template_event(receiver, "template_created", created.template_id)
    got = dropbox_sign.TemplateApi(sdk).template_get(created.template_id).template
    assert [(f.type, f.signer) for d in got.documents for f in d.form_fields or []] == [("signature", "2")]
    assert [c.name for d in got.documents for c in d.custom_fields or []] == ["Price"]

    # Me (now): the requester fills a text field while preparing (no signature for it); requesting_redirect_url:
    # once sent (and the library told), the integrator's page is replaced by it.
    after = editor_host.url + "?requested=1"
    redirecting = create_embedded_draft(sdk, client_id, requesting_redirect_url=after)
    frame = open_editor(page, redirecting.claim_url, client_id, {"testMode": True})
    by(frame, "editor-signer").select_option("me_now")
    expect(by(frame, "editor-tool-signature")).to_be_disabled()
    by(frame, "editor-tool-text").click()
    by(frame, "editor-page-1").click(position={"x": 120, "y": 100})
    by(frame, "editor-prop-value").fill("REF-7")
    by(frame, "editor-prop-value").press("Tab")
    by(frame, "editor-signer").select_option("0")
    by(frame, "editor-tool-signature").click()
    by(frame, "editor-page-1").click(position={"x": 120, "y": 300})
    by(frame, "editor-submit").click()
    page.wait_for_url(after)
    rid = redirecting.signature_request_id
    wait_event(receiver, "signature_request_sent", rid)
    assert [(kind, signer) for _, kind, signer, _ in placed_fields(server, rid)] == [
        ("text", "me_now"),
        ("signature", "0"),
    ]
