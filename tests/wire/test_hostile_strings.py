"""Hostile strings (NUL, unpaired surrogates, combining and RTL marks, 100 KB) in any write operation of /v3,
/paraph/v1 and the dashboard's forms give a 2xx or a 4xx naming the parameter, never a 5xx: on both databases.

Property-based (hypothesis), with the cases the probe found as explicit examples, and few random examples so
the suite stays fast.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import urllib3
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import AccountInfo, Server
from tests.web.helpers import Client

NASTY = [
    "a\x00b",
    "a\ud800b",
    "\udfff",
    "e\u0301\u0301\u0301",
    "\u202eevil\u202c\u200f",
    "\U0001f600",
    "x" * 256,
    "y" * 100_000,
]
hostile = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
    st.builds(lambda c, n: c * n, st.sampled_from(["z", "\x00", "\u0301", "é"]), st.integers(200, 100_000)),
)
RUN = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
BAD_CHARS = ("\x00", "\ud800", "\udfff")


def _json(server: Server, account: AccountInfo, method: str, path: str, body: dict[str, Any]) -> Any:
    headers = {"Content-Type": "application/json", **urllib3.make_headers(basic_auth=f"{account.api_key}:")}
    data = json.dumps(body, ensure_ascii=True).encode()  # a lone surrogate travels as \ud800, as a client sends it
    return urllib3.request(method, server.url + path, body=data, headers=headers, retries=False, timeout=60)


def _check(resp: Any, s: str, what: str) -> None:
    assert resp.status < 500, (what, ascii(s[:80]), resp.status, resp.data[:300])
    if any(c in s for c in ("\x00", *(chr(x) for x in range(0xD800, 0xE000)))) and resp.status == 400:
        err = json.loads(resp.data)["error"]
        assert err["error_name"] == "bad_request"


def _send_body(s: str, where: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "T",
        "subject": "S",
        "message": "M",
        "test_mode": True,
        "file_urls": ["https://files.test/a.pdf"],
        "signers": [{"name": "Ann", "email_address": "ann@example.com"}],
        "metadata": {"k": "v"},
        "custom_fields": [{"name": "c", "value": "v"}],
    }
    if where in ("title", "subject", "message"):
        body[where] = s
    elif where == "signer_name":
        body["signers"][0]["name"] = s
    elif where == "metadata_value":
        body["metadata"] = {"k": s}
    elif where == "metadata_key":
        body["metadata"] = {s[:40] or "k": "v"}
    elif where == "custom_field":
        body["custom_fields"] = [{"name": s, "value": s}]
    elif where == "api_id":
        body["form_fields_per_document"] = [
            {
                "api_id": s,
                "type": "signature",
                "signer": 0,
                "document_index": 0,
                "page": 1,
                "x": 10,
                "y": 10,
                "width": 100,
                "height": 20,
                "required": True,
            }
        ]
    elif where == "cc":
        body["cc_email_addresses"] = [s]
    return body


SEND_FIELDS = [
    "title",
    "subject",
    "message",
    "signer_name",
    "metadata_value",
    "metadata_key",
    "custom_field",
    "api_id",
    "cc",
]


@settings(parent=RUN)
@given(s=hostile, where=st.sampled_from(SEND_FIELDS))
@example(s="a\x00b", where="title")
@example(s="a\x00b", where="message")
@example(s="a\x00b", where="signer_name")
@example(s="a\x00b", where="metadata_value")
@example(s="a\x00b", where="custom_field")
@example(s="a\x00b", where="api_id")
@example(s="a\ud800b", where="title")
@example(s="a\ud800b", where="message")
@example(s="a\ud800b", where="signer_name")
@example(s="a\ud800b", where="metadata_value")
@example(s="n" * 256, where="signer_name")
@example(s="n" * 300, where="api_id")
def test_signature_request_send_never_answers_5xx(server: Server, account: AccountInfo, s: str, where: str) -> None:
    resp = _json(server, account, "POST", "/v3/signature_request/send", _send_body(s, where))
    _check(resp, s, where)


@settings(parent=RUN)
@given(s=hostile, op=st.sampled_from(["locale", "create", "verify", "app_name", "app_domain", "app_update"]))
@example(s="a\ud800b", op="locale")
@example(s="a\x00b", op="locale")
@example(s="l" * 40, op="locale")
@example(s="a\ud800b", op="app_name")
@example(s="a\ud800b", op="app_domain")
@example(s="a\x00b", op="app_name")
@example(s="a\ud800b", op="create")
@example(s="a\x00b", op="app_update")
def test_account_and_api_app_writes_never_answer_5xx(server: Server, account: AccountInfo, s: str, op: str) -> None:
    ops: dict[str, Callable[[], Any]] = {
        "locale": lambda: _json(server, account, "PUT", "/v3/account", {"locale": s}),
        "create": lambda: _json(
            server,
            account,
            "POST",
            "/v3/account/create",
            {"email_address": f"{uuid.uuid4().hex}@example.com", "locale": s},
        ),
        "verify": lambda: _json(server, account, "POST", "/v3/account/verify", {"email_address": s}),
        "app_name": lambda: _json(server, account, "POST", "/v3/api_app", {"name": s, "domains": ["ok.example"]}),
        "app_domain": lambda: _json(server, account, "POST", "/v3/api_app", {"name": "n", "domains": [s]}),
        "app_update": lambda: _update_app(server, account, s),
    }
    _check(ops[op](), s, op)


def _update_app(server: Server, account: AccountInfo, s: str) -> Any:
    made = _json(server, account, "POST", "/v3/api_app", {"name": "n", "domains": ["ok.example"]})
    client_id = json.loads(made.data)["api_app"]["client_id"]
    return _json(server, account, "PUT", f"/v3/api_app/{client_id}", {"name": s})


@pytest.mark.parametrize("s", ["a\x00b", "n" * 300, "\u202eé\u0301"])
def test_multipart_forms_never_answer_5xx(server: Server, account: AccountInfo, s: str) -> None:
    auth = urllib3.make_headers(basic_auth=f"{account.api_key}:")
    resp = urllib3.request(
        "POST", server.url + "/v3/api_app", fields={"name": s, "domains[0]": "ok.example"}, headers=auth, retries=False
    )
    _check(resp, s, "api_app form")
    fields = {
        "title": s,
        "message": s,
        "signers[0][name]": s,
        "signers[0][email_address]": "ann@example.com",
        "metadata[k]": s,
        "test_mode": "1",
        "file_urls[0]": "https://files.test/a.pdf",
    }
    resp = urllib3.request(
        "POST", server.url + "/v3/signature_request/send", fields=fields, headers=auth, retries=False
    )
    _check(resp, s, "send form")


@settings(parent=RUN)
@given(s=hostile, op=st.sampled_from(["test", "replay", "events"]))
@example(s="a\ud800b", op="test")
@example(s="a\x00b", op="test")
@example(s="a\x00b", op="events")
@example(s="a\ud800b", op="replay")
def test_paraph_v1_never_answers_5xx(server: Server, account: AccountInfo, s: str, op: str) -> None:
    if op == "test":
        resp = _json(server, account, "POST", "/paraph/v1/callbacks/test", {"target": s})
    elif op == "replay":
        resp = _json(server, account, "POST", "/paraph/v1/events/replay", {"since": s, "state": s})
    else:
        query = urllib.parse.urlencode(
            {"event_type": s, "signature_request_id": s}, encoding="utf-8", errors="surrogatepass"
        )
        resp = urllib3.request(
            "GET",
            f"{server.url}/paraph/v1/events?{query}",
            headers=urllib3.make_headers(basic_auth=f"{account.api_key}:"),
        )
    _check(resp, s, op)


@settings(parent=RUN)
@given(s=hostile, op=st.sampled_from(["key", "app", "app_domains", "account_locale", "account_url", "login"]))
@example(s="a\x00b", op="key")
@example(s="a\ud800b", op="key")
@example(s="a\x00b", op="app")
@example(s="a\x00b", op="account_locale")
@example(s="a\x00b", op="login")
def test_dashboard_forms_never_answer_5xx(server: Server, account: AccountInfo, s: str, op: str) -> None:
    client = Client(server.url)
    if op == "login":
        token = client.get("/login").csrf
        reply = _post_form(client, "/login", {"csrf_token": token, "email": s, "password": s})
        assert reply.status < 500, (op, ascii(s[:80]), reply.status)
        return
    assert client.sign_in(account).status == 303
    for listing in ("/dashboard/requests", "/dashboard/callbacks"):
        query = urllib.parse.urlencode({"q": s, "signature_request_id": s}, encoding="utf-8", errors="surrogatepass")
        got = client.get(f"{listing}?{query}")
        assert got.status < 500, (listing, ascii(s[:80]), got.status, got.text[:300])
    page, fields = {
        "key": ("/dashboard/api-keys", {"name": s}),
        "app": ("/dashboard/apps", {"name": s, "domains": "ok.example"}),
        "app_domains": ("/dashboard/apps", {"name": "n", "domains": s}),
        "account_locale": ("/dashboard/account", {"locale": s, "callback_url": ""}),
        "account_url": ("/dashboard/account", {"callback_url": s}),
    }[op]
    token = client.get(page).csrf
    reply = _post_form(client, page, {"csrf_token": token, **fields})
    assert reply.status < 500, (op, ascii(s[:80]), reply.status, reply.text[:300])


def _post_form(client: Client, path: str, fields: dict[str, str]) -> Any:
    body = urllib.parse.urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()
    return client.post_raw(path, body, "application/x-www-form-urlencoded")


def test_a_nul_or_lone_surrogate_is_a_400_naming_the_parameter(server: Server, account: AccountInfo) -> None:
    cases = [
        ("title", "title"),
        ("signer_name", "signers[0].name"),
        ("metadata_value", "metadata.k"),
        ("api_id", "form_fields_per_document[0]"),
    ]
    for s in ("a\x00b", "a\ud800b"):
        for where, path in cases:
            resp = _json(server, account, "POST", "/v3/signature_request/send", _send_body(s, where))
            assert resp.status == 400, resp.data
            err = json.loads(resp.data)["error"]
            assert err["error_name"] == "bad_request"
            assert err["error_path"].startswith(path), (where, err)


def test_the_signing_page_refuses_hostile_values_without_a_5xx(server: Server, account: AccountInfo) -> None:
    from tests.signing.helpers import action, create, f, new_app, sign_url, token_of

    client_id = new_app(server, account, ["localhost"])
    fields = [f("sig", "signature", 0, 72, 420, 200, 40), f("note", "text", 0, 72, 480, required=False)]
    sr = create(server, account, client_id=client_id, signers=[("Jack Doe", "jack@example.com")], fields=fields)
    sid = sr["signatures"][0]["signature_id"]
    token = token_of(sign_url(server, account, sid))
    signature = {"method": "type", "text": "Jack Doe"}
    for s in ("a\x00b", "a\ud800b"):
        for body in (
            {"values": {"sig": True, "note": s}, "signature": signature},
            {"values": {"sig": True}, "signature": {"method": "type", "text": s}},
        ):
            data = json.dumps(body, ensure_ascii=True).encode()
            headers = {"Content-Type": "application/json", "X-Paraph-Token": token}
            resp = urllib3.request("POST", f"{server.url}/sign/{sid}/submit", body=data, headers=headers)
            assert 400 <= resp.status < 500, (ascii(s), resp.status, resp.data[:200])
    status, answer = action(server, sid, "submit", {"token": token, "values": {"sig": True}, "signature": signature})
    assert status == 200, answer


def test_overlong_values_are_4xx_in_every_send_field(server: Server, account: AccountInfo) -> None:
    for where in SEND_FIELDS:
        for s in ("n" * 256, "n" * 6000):
            _check(_json(server, account, "POST", "/v3/signature_request/send", _send_body(s, where)), s, where)
    made = _json(server, account, "POST", "/v3/api_app", {"name": "n", "domains": ["ok.example"]})
    client_id = json.loads(made.data)["api_app"]["client_id"]
    long = "n" * 6000
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", "/v3/account", {"locale": long}),
        ("PUT", "/v3/account", {"callback_url": "https://ok.example/" + long}),
        ("POST", "/v3/account/create", {"email_address": f"{uuid.uuid4().hex}@example.com", "locale": long}),
        ("POST", "/v3/api_app", {"name": long, "domains": ["ok.example"]}),
        ("POST", "/v3/api_app", {"name": "n", "domains": [long]}),
        ("PUT", f"/v3/api_app/{client_id}", {"name": long, "callback_url": "https://ok.example/" + long}),
        ("POST", "/paraph/v1/callbacks/test", {"target": long}),
    ]
    for method, path, body in cases:
        _check(_json(server, account, method, path, body), long, path)


def test_a_nul_in_any_path_or_query_is_a_400_before_any_lookup(server: Server, account: AccountInfo) -> None:
    auth = urllib3.make_headers(basic_auth=f"{account.api_key}:")
    for path in [
        "/v3/signature_request/a%00b",
        "/v3/signature_request/files/a%00b",
        "/v3/api_app/a%00b",
        "/v3/embedded/sign_url/a%00b",
        "/v3/signature_request/list?query=a%00b",
        "/paraph/v1/events/a%00b",
        "/paraph/v1/events?event_type=a%00b",
        "/editor/embeddedSign?signature_id=a%00b&token=x",
        "/sign/request/a%00b",
        "/sign/a%00b/page/0/1?token=x",
        "/dashboard/requests/a%00b",
        "/dashboard/requests?q=a%00b",
        "/paraph/files/signature_request/a%00b?expires=1&signature=x",
    ]:
        resp = urllib3.request("GET", server.url + path, headers=auth, retries=False, redirect=False)
        assert resp.status == 400, (path, resp.status)
        assert json.loads(resp.data)["error"]["error_name"] == "bad_request"
