"""Only http(s) URLs end up as links on the signing page: signing_redirect_url and a hyperlink's content_url."""

from __future__ import annotations

import json
from typing import Any

import urllib3

from tests.conftest import AccountInfo, Server
from tests.signing.helpers import api, f, make_pdf

HOSTILE = [
    "javascript:alert(document.domain)",
    " JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/path",
    "https://",
    "https://ok.example/\x00x",
    "https://ok.example/a b",
]


def _send(server: Server, account: AccountInfo, **extra: Any) -> tuple[int, Any]:
    form: dict[str, Any] = {
        "title": "Links",
        "test_mode": "1",
        "files[0]": ("a.pdf", make_pdf(1), "application/pdf"),
        "signers[0][name]": "Ann",
        "signers[0][email_address]": "ann@example.com",
    }
    form.update(extra)
    return api(server, account, "POST", "/signature_request/send", fields=form)


def test_it_refuses_a_signing_redirect_url_that_is_not_http(server: Server, account: AccountInfo) -> None:
    for url in HOSTILE:
        status, body = api(
            server,
            account,
            "POST",
            "/signature_request/send",
            json={
                "title": "Links",
                "test_mode": True,
                "file_urls": ["https://files.example/a.pdf"],
                "signers": [{"name": "Ann", "email_address": "ann@example.com"}],
                "signing_redirect_url": url,
            },
        )
        assert status == 400, (url, body)
        assert body["error"]["error_path"] == "signing_redirect_url"


def test_it_refuses_a_hyperlink_to_javascript_and_keeps_https_links(server: Server, account: AccountInfo) -> None:
    def link(url: str) -> str:
        field = f("link", "hyperlink", 0, 72, 500, content="Terms", content_url=url, required=False)
        return json.dumps([field])

    for url in HOSTILE[:3]:
        status, body = _send(server, account, form_fields_per_document=link(url))
        assert status == 400, (url, body)
        assert body["error"]["error_path"].endswith("content_url"), body
    status, body = _send(
        server,
        account,
        form_fields_per_document=link("https://ok.example/terms"),
        signing_redirect_url="https://ok.example/done",
    )
    assert status == 200, body
    assert body["signature_request"]["signing_redirect_url"] == "https://ok.example/done"


def test_the_signing_page_refuses_inline_script(server: Server) -> None:
    resp = urllib3.request("GET", server.url + "/editor/embeddedSign?signature_id=nope&token=nope", retries=False)
    csp = {d.strip().split(" ")[0]: d.strip() for d in resp.headers["content-security-policy"].split(";")}
    assert csp["script-src"] == "script-src 'self'"
    assert "unsafe-inline" not in resp.headers["content-security-policy"]
    assert csp["default-src"] == "default-src 'none'"


def test_links_stored_before_the_check_are_not_rendered(server: Server, account: AccountInfo) -> None:
    from paraph.models import RequestField, SignatureRequest
    from paraph.signature_request import repository
    from tests.signing.helpers import create, new_app, page, sign_url

    client_id = new_app(server, account, ["localhost"])
    fields = [
        f("sig", "signature", 0, 72, 420, 200, 40),
        f("link", "hyperlink", 0, 72, 500, content="Terms", content_url="https://ok.example/t", required=False),
    ]
    sr = create(
        server,
        account,
        client_id=client_id,
        signers=[("Jack Doe", "jack@example.com")],
        fields=fields,
        signing_redirect_url="https://ok.example/done",
    )
    with server.runtime.unit_of_work() as session:  # as an older version could have stored them
        row = repository.by_public_id(session, sr["signature_request_id"])
        assert isinstance(row, SignatureRequest)
        row.signing_redirect_url = "javascript:alert(1)"
        for field in session.query(RequestField).filter(RequestField.signature_request_id == row.id):
            if field.spec.get("content_url"):
                field.spec = {**field.spec, "content_url": "javascript:alert(2)"}
    url = sign_url(server, account, sr["signatures"][0]["signature_id"])
    opened = page(server, url, client_id=client_id, parent_url="http://localhost/x", skip_domain_verification="1")
    assert opened.status == 200
    assert b"Terms" in opened.data
    assert b"javascript:" not in opened.data.lower()
