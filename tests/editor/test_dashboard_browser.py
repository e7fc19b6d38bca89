"""The dashboard's way into the editor in Chromium: a signed-in user sends a document through "Send a document"
(upload, name a signer, place the fields, send) and builds a template through "New template". SQLite only: the
services are those tests/editor/test_drafts_api.py runs on both databases, and the browser is the slow part."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dropbox_sign
import pytest
from playwright.sync_api import expect

from tests.conftest import AccountInfo, Server
from tests.editor.helpers import TWO_PAGES
from tests.editor.test_browser import by, placed_fields
from tests.receiver import Receiver
from tests.signature_request.helpers import listen, wait_event
from tests.signing.conftest import DESKTOP, PHONE, screenshot
from tests.template.helpers import wait_template_event
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser
PDF = {"name": "lease.pdf", "mimeType": "application/pdf", "buffer": TWO_PAGES}


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "paraph.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


def test_send_a_document_and_build_a_template_from_the_dashboard_in_chromium(
    server: Server, account: AccountInfo, sdk: Any, receiver: Receiver, browser_page: Any
) -> None:
    listen(sdk, receiver)
    page = browser_page
    sign_in(page, server.url, account)

    # Send a document: upload, one signer, then the editor.
    page.goto(server.url + "/dashboard/send")
    by(page, "compose-file").set_input_files(PDF)
    by(page, "compose-title").fill("Lease")
    by(page, "compose-signer-name-0").fill("Jack")
    by(page, "compose-signer-email-0").fill("jack@example.com")
    by(page, "compose-submit").click()
    page.wait_for_url("**/editor/claim?**")
    rid = parse_qs(urlsplit(page.url).query)["draft_id"][0]
    by(page, "editor-tool-signature").click()
    by(page, "editor-page-1").click(position={"x": 120, "y": 500})
    by(page, "editor-tool-text").click()
    by(page, "editor-page-1").click(position={"x": 160, "y": 120})
    expect(by(page, "editor-field")).to_have_count(2)
    screenshot(page, "editor-dashboard-desktop")
    by(page, "editor-submit").click()
    page.wait_for_url(f"{server.url}/dashboard/requests/{rid}")
    expect(page.locator("body")).to_contain_text("Lease")
    sent = wait_event(receiver, "signature_request_sent", rid)["signature_request"]
    assert sent["title"] == "Lease" and sent["signatures"][0]["signer_email_address"] == "jack@example.com"
    got = dropbox_sign.SignatureRequestApi(sdk).signature_request_get(rid).signature_request
    assert got.test_mode is True and [s.signer_name for s in got.signatures] == ["Jack"]
    assert [(kind, signer, pg) for _, kind, signer, pg in placed_fields(server, rid)] == [
        ("signature", "0", 1),
        ("text", "0", 1),
    ]

    # New template: one role, a signature field, saved; it is listed on the Templates page.
    page.goto(server.url + "/dashboard/templates/new")
    by(page, "compose-file").set_input_files(PDF)
    by(page, "compose-title").fill("Mutual NDA")
    by(page, "compose-roles").fill("Client")
    by(page, "compose-submit").click()
    page.wait_for_url("**/editor/template?**")
    tid = parse_qs(urlsplit(page.url).query)["template_id"][0]
    expect(by(page, "editor-signer").locator("option")).to_have_text(["Client"])
    by(page, "editor-tool-signature").click()
    by(page, "editor-page-1").click(position={"x": 120, "y": 500})
    by(page, "editor-submit").click()
    page.wait_for_url(f"{server.url}/dashboard/templates/{tid}")
    wait_template_event(receiver, "template_created", tid)
    template = dropbox_sign.TemplateApi(sdk).template_get(tid).template
    assert [r.name for r in template.signer_roles] == ["Client"]
    assert [(f.type, f.signer) for d in template.documents for f in d.form_fields or []] == [("signature", "1")]
    page.goto(server.url + "/dashboard/templates")
    expect(by(page, "template-row")).to_contain_text(["Mutual NDA"])

    # Edit template: the saved field is moved with the mouse, a text field dragged from the toolbar onto the
    # page; saved, the template's fields (read through the SDK) are those.
    (before,) = [f for d in template.documents for f in d.form_fields or []]
    page.goto(f"{server.url}/dashboard/templates/{tid}")
    by(page, "template-edit").click()
    page.wait_for_url("**/editor/template?**")
    field = by(page, "editor-field")
    expect(field).to_have_count(1)
    box = field.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 60, box["y"] + 50, steps=4)
    page.mouse.move(box["x"] + 120, box["y"] + 110, steps=4)
    page.mouse.up()
    by(page, "editor-tool-text").drag_to(by(page, "editor-page-2"), target_position={"x": 150, "y": 200})
    expect(field).to_have_count(2)
    screenshot(page, "editor-template-edit-desktop")
    page.set_viewport_size(PHONE)
    expect(by(page, "editor-page-1")).to_be_visible()
    screenshot(page, "editor-template-edit-phone")
    page.set_viewport_size(DESKTOP)
    by(page, "editor-submit").click()
    page.wait_for_url(f"{server.url}/dashboard/templates/{tid}")
    edited = dropbox_sign.TemplateApi(sdk).template_get(tid).template
    moved, dropped = [f for d in edited.documents for f in d.form_fields or []]
    assert (moved.api_id, moved.type) == (before.api_id, "signature")
    assert moved.x > before.x + 50 and moved.y > before.y + 50
    assert (dropped.type, dropped.signer) == ("text", "1")
