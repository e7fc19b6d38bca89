"""Templates in the dashboard, read-only: the list with its title search, and a template's page (roles, merge
fields, pages with the fields drawn over them, the requests sent from it), in Chromium; another account's
template is a 404 page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.receiver import Receiver
from tests.signature_request.helpers import listen, wait_event
from tests.template.helpers import ready_template
from tests.template.test_send import MERGE, send
from tests.web.conftest import sign_in
from tests.web.helpers import Client

pytestmark = pytest.mark.browser


def test_it_lists_templates_and_shows_one_with_its_fields_and_requests(
    server: Server,
    account: AccountInfo,
    sdk: Any,
    receiver: Receiver,
    page: Page,
    shoot: Callable[[Page, str], None],
) -> None:
    listen(sdk, receiver)
    tid = ready_template(sdk, receiver, merge_fields=MERGE)
    ready_template(sdk, receiver, title="Lease")
    sr = send(sdk, [tid], title="NDA for Jack")
    wait_event(receiver, "signature_request_sent", sr.signature_request_id)

    sign_in(page, server.url, account)
    page.goto(server.url + "/dashboard/templates")
    expect(page.get_by_test_id("template-row")).to_have_count(2)
    page.get_by_test_id("templates-search").fill("nda")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("template-row")).to_have_count(1)
    shoot(page, "templates")

    page.get_by_role("link", name="Mutual NDA").click()
    expect(page.get_by_test_id("template-state")).to_have_text("ready")
    expect(page.get_by_test_id("template-roles")).to_contain_text("Client")
    expect(page.get_by_test_id("template-roles")).to_contain_text("Manager")
    expect(page.get_by_test_id("template-merge-fields")).to_contain_text("Price")
    expect(page.get_by_test_id("template-page")).to_have_count(1)
    expect(page.get_by_test_id("template-field-sig_client")).to_have_count(1)
    expect(page.get_by_test_id("template-field-price")).to_contain_text("Sender: Price")
    expect(page.get_by_test_id("template-requests")).to_contain_text("NDA for Jack")
    loaded = page.evaluate(
        "fetch(document.querySelector('svg image').getAttribute('href')).then(r => r.headers.get('content-type'))"
    )
    assert loaded == "image/png"
    shoot(page, "template")

    # The template's events are on the callbacks page, linked to the template.
    page.goto(server.url + "/dashboard/callbacks")
    page.locator(f'a[href="/dashboard/templates/{tid}"]').first.click()
    expect(page.get_by_test_id("template-state")).to_have_text("ready")

    other = make_account(server.runtime, "other@example.com")
    client = Client(server.url)
    client.sign_in(other)
    assert client.get(f"/dashboard/templates/{tid}").status == 404
    assert client.get(f"/dashboard/templates/{tid}/pages/0/1").status == 404
