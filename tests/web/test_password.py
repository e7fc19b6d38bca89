"""Changing the dashboard password on the account page, and the sign-in page's hint for a first password."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from paraph.models import AuditEvent
from tests.conftest import AccountInfo, Server
from tests.web.conftest import sign_in
from tests.web.helpers import Client

pytestmark = pytest.mark.browser

Shoot = Callable[[Page, str], None]


def _change(page: Page, current: str, new: str, again: str) -> None:
    page.get_by_test_id("password-current").fill(current)
    page.get_by_test_id("password-new").fill(new)
    page.get_by_test_id("password-new-again").fill(again)
    page.get_by_test_id("password-submit").click()


def test_it_changes_the_password_on_the_account_page(
    server: Server, account: AccountInfo, page: Page, shoot: Shoot
) -> None:
    elsewhere = Client(server.url)  # another signed-in session of the same account
    assert elsewhere.sign_in(account).status == 303
    assert elsewhere.get("/dashboard/account").status == 200

    sign_in(page, server.url, account)
    page.goto(server.url + "/dashboard/account")
    _change(page, "not-it", "N3w-password", "N3w-password")
    expect(page.get_by_test_id("password-error")).to_have_text("The current password is not right.")
    _change(page, account.password, "N3w-password", "typo")
    expect(page.get_by_test_id("password-error")).to_have_text("The two new passwords differ.")
    shoot(page, "account-password-error")
    _change(page, account.password, "N3w-password", "N3w-password")
    expect(page.locator(".notice")).to_contain_text("Password changed.")
    expect(page.locator("input[name=callback_url]")).to_be_visible()  # still signed in, on the same page

    assert elsewhere.get("/dashboard/account").status == 303  # the other session was signed out
    assert Client(server.url).sign_in(account).status == 401  # the old password no longer works
    assert Client(server.url).sign_in(account, "N3w-password").status == 303
    with server.runtime.unit_of_work(write=False) as session:
        tags = session.scalars(sa.select(AuditEvent.tag).order_by(AuditEvent.id)).all()
        changed = session.scalars(sa.select(AuditEvent).where(AuditEvent.tag == "web:account:password_changed")).one()
        assert changed.ip_address == "127.0.0.1" and changed.data == {"sessions_ended": 1}
    assert tags.count("web:account:password_changed") == 1


def test_it_refuses_a_password_change_without_the_form_token(server: Server, account: AccountInfo) -> None:
    client = Client(server.url)
    client.sign_in(account)
    fields = {"current_password": account.password, "new_password": "x-x-x-x", "new_password_again": "x-x-x-x"}
    assert client.post("/dashboard/account/password", fields).status == 403
    assert client.post("/dashboard/account/password", {**fields, "csrf_token": "forged"}).status == 403
    assert Client(server.url).sign_in(account).status == 303  # unchanged


def test_it_names_the_command_that_sets_a_first_password(server: Server, page: Page) -> None:
    page.goto(server.url + "/login")
    hint = page.get_by_test_id("login-hint")
    expect(hint).to_contain_text("paraph account set-password you@example.com")
    expect(hint).to_contain_text("paraph account create you@example.com --password")
