"""The dashboard's way into the editor, over HTTP with a signed-in session: "Send a document", "New template"
and "Edit template" open the same editor page, which answers only to the owner's session."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dropbox_sign
import pytest

from tests.client import wait_until
from tests.conftest import AccountInfo, Server
from tests.editor.helpers import TWO_PAGES, sig, text
from tests.receiver import Receiver
from tests.signature_request.helpers import listen, wait_event
from tests.template.helpers import wait_template_event
from tests.web.helpers import Client, Reply


def multipart(fields: dict[str, str], file: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="lease.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + file
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def compose(client: Client, path: str, fields: dict[str, str]) -> str:
    body, kind = multipart({"csrf_token": client.get(path).csrf, **fields}, TWO_PAGES)
    reply = client.post_raw(path, body, kind)
    assert reply.status == 303, reply.text
    return reply.headers["location"]


def open_editor(client: Client, path: str) -> Reply:
    return wait_until(lambda: (r := client.get(path)).status == 200 and r)  # type: ignore[no-any-return]


def save(client: Client, path: str, submit: str, layout: dict[str, Any]) -> tuple[int, Any]:
    token = parse_qs(urlsplit(path).query)["token"][0]
    reply = client.post_raw(submit, json.dumps(layout).encode(), "application/json", {"X-Paraph-Token": token})
    return reply.status, json.loads(reply.text)


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """SQLite only: these pages call the services tests/editor/test_drafts_api.py runs on both databases."""
    path = tmp_path / "paraph.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


def test_send_a_document_and_build_a_template_from_the_dashboard(
    server: Server, account: AccountInfo, sdk: Any, receiver: Receiver
) -> None:
    listen(sdk, receiver)
    client = Client(server.url)
    client.sign_in(account)
    claim = compose(
        client, "/dashboard/send", {"title": "Lease", "signer_name_0": "Jack", "signer_email_0": "jack@example.com"}
    )
    assert claim.startswith("/editor/claim?draft_id=")
    assert Client(server.url).get(claim).headers["location"].startswith("/login?next=%2Feditor%2Fclaim")
    page = open_editor(client, claim)
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    rid = parse_qs(urlsplit(claim).query)["draft_id"][0]
    status, body = save(client, claim, f"/editor/claim/{rid}/send", {"fields": [text(), sig(page=2)]})
    assert status == 200 and body == {"signatureRequestId": rid}
    sent = wait_event(receiver, "signature_request_sent", rid)["signature_request"]
    assert sent["title"] == "Lease" and sent["signatures"][0]["signer_email_address"] == "jack@example.com"

    editor = compose(client, "/dashboard/templates/new", {"title": "NDA", "roles": "Client, Witness"})
    assert editor.startswith("/editor/template?template_id=")
    tid = parse_qs(urlsplit(editor).query)["template_id"][0]
    assert '"roles":["Client","Witness"]' in open_editor(client, editor).text
    layout = {"fields": [sig(signer="Witness", api_id="w_sig")]}
    assert save(client, editor, f"/editor/template/{tid}/save", layout)[0] == 200
    wait_template_event(receiver, "template_created", tid)
    assert [r.name for r in dropbox_sign.TemplateApi(sdk).template_get(tid).template.signer_roles] == [
        "Client",
        "Witness",
    ]

    detail = client.get(f"/dashboard/templates/{tid}")
    edit = client.post(f"/dashboard/templates/{tid}/edit", {"csrf_token": detail.csrf})
    assert edit.status == 303 and edit.headers["location"].startswith("/editor/template?template_id=" + tid)
    assert "w_sig" in open_editor(client, edit.headers["location"]).text
