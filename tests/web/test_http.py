"""Dashboard behaviour over plain HTTP: cookies, headers, CSRF, error rendering, the inspector endpoint."""

from __future__ import annotations

import json
import urllib.request

import pytest

from paraph.inspector import service as inspector_service
from paraph.web import inspector
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.web.helpers import Client


def test_it_sets_session_cookies_and_page_headers(server: Server, account: AccountInfo) -> None:
    client = Client(server.url)
    login = client.get("/login")
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert "default-src 'self'" in login.headers["content-security-policy"]
    assert login.headers["x-content-type-options"] == "nosniff"
    assert login.headers["referrer-policy"] == "same-origin"

    signed = client.sign_in(account)
    assert signed.status == 303 and signed.headers["location"] == "/dashboard"
    cookie = next(c for c in signed.set_cookies if c.startswith("paraph_session="))
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
    assert "secure" not in attrs  # PARAPH_BASE_URL is http here

    page = client.get("/dashboard")
    assert page.status == 200 and "Overview" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("settings_overrides", [{"base_url": "https://paraph.example.com"}])
def test_it_marks_cookies_secure_behind_https(server: Server, account: AccountInfo) -> None:
    client = Client(server.url)
    form = client.get("/login")
    login_cookie = next(c for c in form.set_cookies if c.startswith("paraph_login="))
    assert "secure" in [a.strip().lower() for a in login_cookie.split(";")]
    # The client talks plain HTTP, so it would not send a Secure cookie back: send it by hand.
    signed = client.post(
        "/login",
        {"csrf_token": form.csrf, "email": account.email, "password": account.password},
        headers={"cookie": login_cookie.split(";")[0]},
    )
    cookie = next(c for c in signed.set_cookies if c.startswith("paraph_session="))
    assert "secure" in [a.strip().lower() for a in cookie.split(";")]


def test_it_refuses_forms_without_their_csrf_token(server: Server, account: AccountInfo) -> None:
    anonymous = Client(server.url)
    anonymous.get("/login")
    refused = anonymous.post("/login", {"email": account.email, "password": account.password})
    assert refused.status == 403 and "This form has expired" in refused.text
    assert "text/html" in refused.headers["content-type"]

    client = Client(server.url)
    client.sign_in(account)
    other = Client(server.url)
    other.sign_in(make_account(server.runtime))
    foreign_token = other.get("/dashboard/api-keys").csrf

    for fields in ({"name": "no token"}, {"name": "wrong", "csrf_token": foreign_token}):
        reply = client.post("/dashboard/api-keys", fields)
        assert reply.status == 403 and "This form has expired" in reply.text
    assert client.post("/logout", {}).status == 403
    keys_page = client.get("/dashboard/api-keys")
    assert "no token" not in keys_page.text and "wrong" not in keys_page.text

    created = client.post("/dashboard/api-keys", {"name": "with token", "csrf_token": keys_page.csrf})
    assert created.status == 200 and "with token" in created.text


def test_it_renders_html_for_pages_and_json_for_the_api(server: Server, account: AccountInfo) -> None:
    client = Client(server.url)
    out = client.get("/dashboard/callbacks?state=failed")
    assert out.status == 303 and out.headers["location"] == "/login?next=%2Fdashboard%2Fcallbacks%3Fstate%3Dfailed"

    api = client.get("/v3/account")
    assert api.status == 401 and json.loads(api.text)["error"]["error_name"] == "unauthorized"

    token = client.get("/login").csrf
    evil = client.post(
        "/login", {"csrf_token": token, "email": account.email, "password": account.password, "next": "//evil.example"}
    )
    assert evil.headers["location"] == "/dashboard"

    for path in ("/dashboard/no-such-page", "/dashboard/api-keys/1/revoke", "/dashboard/callbacks/events/evt_nope"):
        reply = client.get(path)
        assert reply.status == 404 and "text/html" in reply.headers["content-type"], path
        assert "Not found" in reply.text
    # The API gate answers a caller without an API key before routing (a keyed caller gets not_found).
    assert json.loads(client.get("/v3/no-such-endpoint").text)["error"]["error_name"] == "unauthorized"


def test_it_catches_requests_at_the_inspector(
    server: Server, account: AccountInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inspector_service, "KEEP_PER_NAME", 3)
    client = Client(server.url)
    for i in range(5):
        payload = json.dumps({"event": {"event_type": f"kind_{i}", "event_time": "1", "event_hash": "x"}})
        reply = client.post("/paraph/inspect/catch-me", {"json": payload, "n": str(i)})
        assert reply.status == 200 and reply.text == "Hello API Event Received"
    as_json = client.post_raw("/paraph/inspect/other_one", b'{"hello": "<script>"}', "application/json")
    assert as_json.status == 200
    assert client.post("/paraph/inspect/bad.name", {}).status == 404
    assert client.post("/paraph/inspect/" + "a" * 65, {}).status == 404
    too_big = client.post_raw("/paraph/inspect/catch-me", b"x" * (inspector.MAX_BODY + 1), "text/plain")
    assert too_big.status == 413

    client.sign_in(account)
    page = client.get("/dashboard/inspector/catch-me").text
    assert [f"kind_{i}" in page for i in range(5)] == [False, False, True, True, True]
    other = client.get("/dashboard/inspector/other_one").text
    assert "&lt;script&gt;" in other and "<script>" not in other.split("</head>", 1)[1]


def test_it_answers_the_inspector_without_sign_in(server: Server) -> None:
    req = urllib.request.Request(server.url + "/paraph/inspect/open", data=b"a=1", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
        assert resp.read() == b"Hello API Event Received"


def test_it_sends_the_site_root_to_the_dashboard(server: Server, account: AccountInfo) -> None:
    client = Client(server.url)
    root = client.get("/")
    assert root.status in (302, 303, 307) and root.headers["location"] == "/dashboard"
    client.sign_in(account)
    assert "Overview" in client.get(client.get("/").headers["location"]).text
