"""Sign-in throttling over real HTTP on both databases: a per-address budget across emails (password
spraying), and a bounded failure table that a flood of distinct failures cannot make forget a throttled
(email, IP)."""

from __future__ import annotations

import time
import types

import pytest

from paraph.web import auth_pages
from paraph.web import sessions as web_sessions
from paraph.web.sessions import LoginThrottle
from tests.conftest import AccountInfo, Server
from tests.web.helpers import Client, Reply


def attempt(client: Client, email: str, password: str) -> Reply:
    token = client.get("/login").csrf
    return client.post("/login", {"csrf_token": token, "email": email, "password": password})


def signed_in(reply: Reply) -> bool:
    return reply.status == 303 and any(c.startswith("paraph_session=") for c in reply.set_cookies)


def test_spraying_many_emails_from_one_address_is_throttled(
    server: Server, account: AccountInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(server.url)
    budget = LoginThrottle().ip_limit
    for i in range(budget):
        reply = attempt(client, f"user{i}@example.com", "Winter2026!")
        assert reply.status == 401 and "do not match" in reply.text
    refused = attempt(client, account.email, account.password)
    assert refused.status == 429 and not signed_in(refused)
    assert "Too many failed sign-ins from this address" in refused.text

    later = time.time() + 15 * 60 + 1  # the window passes
    monkeypatch.setattr(web_sessions, "time", types.SimpleNamespace(time=lambda: later))
    assert signed_in(attempt(Client(server.url), account.email, account.password))


def test_a_flood_of_distinct_failures_does_not_forget_a_throttled_email(
    server: Server, account: AccountInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = LoginThrottle()
    monkeypatch.setattr(auth_pages, "throttle", lambda request: table)
    client = Client(server.url)
    for _ in range(table.limit):
        assert attempt(client, account.email, "guess").status == 401
    assert attempt(client, account.email, account.password).status == 429

    # 12,000 distinct (email, address) failures, more than the table holds, from as many addresses.
    flood = [(f"spray{i}@example.com", f"198.18.{i // 250}.{i % 250}") for i in range(12_000)]
    for key in flood:
        table.failed(key)
    assert len(table) <= 2 * table.max_keys

    refused = attempt(client, account.email, account.password)
    assert refused.status == 429 and not signed_in(refused)
    assert "Too many failed sign-ins for this email address" in refused.text
    for _ in range(table.limit - 1):  # the newest failures are remembered too
        table.failed(flood[-1])
    assert table.retry_after(flood[-1]) > 0
