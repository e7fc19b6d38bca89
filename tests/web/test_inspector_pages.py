"""The inspector's names in Chromium, with PARAPH_INSPECTOR=account: create one with the form, catch at it,
a taken name is refused on the form, delete it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.client import request, request_json
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("settings_overrides", [{"inspector": "account"}])
def test_it_creates_catches_at_and_deletes_an_inspector(
    server: Server, account: AccountInfo, page: Page, shoot: Callable[[Page, str], None]
) -> None:
    other = make_account(server.runtime)
    status, _ = request_json(server.url, "POST", "/paraph/v1/inspectors", other.api_key, json={"name": "taken"})
    assert status == 201

    sign_in(page, server.url, account)
    page.click("nav >> text=Inspector")
    expect(page.get_by_test_id("inspector-names")).to_have_count(0)
    page.get_by_test_id("inspector-create-name").fill("taken")
    page.get_by_test_id("inspector-create-submit").click()
    expect(page.get_by_test_id("inspector-create-error")).to_contain_text("taken")

    page.get_by_test_id("inspector-create-name").fill("team-hook")
    page.get_by_test_id("inspector-create-submit").click()
    expect(page.locator(".notice")).to_contain_text("Inspector created")
    expect(page.get_by_test_id("inspector-owned")).to_be_visible()
    expect(page.locator(".empty")).to_contain_text("Nothing caught yet")

    event = json.dumps({"event": {"event_type": "team_event", "event_time": "1", "event_hash": "x"}})
    assert request(server.url, "POST", "/paraph/inspect/team-hook", fields={"json": event}).status == 200
    page.reload()
    expect(page.locator(".caught h2")).to_have_text("team_event")
    shoot(page, "inspector-owned")

    page.click("nav >> text=Inspector")
    expect(page.get_by_test_id("inspector-name")).to_have_count(1)
    expect(page.get_by_test_id("inspector-name")).to_contain_text("team-hook")
    shoot(page, "inspector-names")
    page.get_by_test_id("inspector-delete").click()
    expect(page.locator(".notice")).to_contain_text("Inspector deleted")
    expect(page.get_by_test_id("inspector-name")).to_have_count(0)
    assert request(server.url, "POST", "/paraph/inspect/team-hook", fields={"json": event}).status == 404
    page.goto(server.url + "/dashboard/inspector/team-hook")
    expect(page.locator("h1")).to_have_text("Not found")
