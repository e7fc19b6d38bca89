"""The request page's simulation buttons, in Chromium: a test-mode request's signers viewed, signed and
declined from the dashboard, through the signing page's rules."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.signing.helpers import create, f, set_callback, wait_event
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser


def test_the_request_page_signs_and_declines_as_simulated_signers(
    server: Server, account: AccountInfo, receiver: Receiver, page: Page
) -> None:
    set_callback(server, account, receiver)
    fields = [f("sig", "signature", 0, 72, 420, 200, 40), f("sig1", "signature", 1, 72, 520, 200, 40)]
    sr = create(
        server,
        account,
        fields=fields,
        signers=[("Jack Doe", "jack@example.com"), ("Jill Roe", "jill@example.com")],
        allow_decline="1",
    )
    rid = sr["signature_request_id"]
    sign_in(page, server.url, account)
    page.goto(f"{server.url}/dashboard/requests/{rid}")
    panel = page.get_by_test_id("simulate-panel")
    expect(panel.get_by_test_id("simulate-sign")).to_have_count(2)

    forged = page.request.post(f"{server.url}/dashboard/requests/{rid}/simulate", form={"action": "expire"})
    assert forged.status == 403  # a form without the session's CSRF token does nothing
    panel.get_by_test_id("simulate-view").first.click()
    expect(page.locator(".notice")).to_contain_text("simulated signer")
    page.get_by_test_id("simulate-sign").first.click()
    expect(page.locator(".notice")).to_contain_text("simulated signer")
    expect(page.get_by_test_id("simulate-sign")).to_have_count(1)  # Jack signed: only Jill is left to act
    page.get_by_test_id("simulate-decline-reason").fill("Not today")
    page.get_by_test_id("simulate-decline").click()
    expect(page.get_by_test_id("simulate-panel")).to_have_count(0)  # declined: nothing left to simulate
    expect(page.locator("table.signers")).to_contain_text("Declined: Not today")

    wait_event(receiver, rid, "signature_request_declined")
    expect(page.locator(".timeline")).to_contain_text("Simulated")
