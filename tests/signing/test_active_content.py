"""An uploaded PDF's active content (JavaScript on opening, a page's additional actions, a launch action, a
field's keystroke script, an embedded file) is never served back: neither by the files endpoint while the
request is out for signature nor in the sealed final PDF, whose audit trail still names the upload's hash."""

from __future__ import annotations

import hashlib
import io

import pypdf

from tests.conftest import AccountInfo, Server
from tests.pdfs import ACTIVE_CONTENT_MARKS, active_content, uri_links, with_active_content
from tests.receiver import Receiver
from tests.signing.helpers import (
    action,
    api,
    create,
    f,
    make_pdf,
    new_app,
    set_callback,
    sign_url,
    token_of,
    wait_event,
)


def test_active_content_is_stripped_from_the_served_and_the_final_pdf(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    set_callback(server, account, receiver)
    upload = with_active_content(make_pdf())
    assert len(active_content(upload)) == 8
    client_id = new_app(server, account, ["localhost"])
    sr = create(
        server,
        account,
        client_id=client_id,
        signers=[("Jack Doe", "jack@example.com")],
        fields=[f("sig", "signature", 0, 72, 420, 200, 40)],
        pdf=upload,
    )
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]

    status, served = api(server, account, "GET", f"/signature_request/files/{rid}")
    assert status == 200
    assert active_content(served) == []
    assert [mark for mark in ACTIVE_CONTENT_MARKS if mark in served] == []
    assert uri_links(served) == ["https://example.com/terms"]
    assert "Clause 1.1" in pypdf.PdfReader(io.BytesIO(served)).pages[0].extract_text()

    url = sign_url(server, account, sid)
    status, body = action(
        server,
        sid,
        "submit",
        {"token": token_of(url), "values": {"sig": True}, "signature": {"method": "type", "text": "Jack Doe"}},
    )
    assert (status, body) == (200, {"ok": True, "complete": True})
    wait_event(receiver, rid, "signature_request_downloadable")

    status, final = api(server, account, "GET", f"/signature_request/files/{rid}")
    assert status == 200
    assert active_content(final) == []
    assert [mark for mark in ACTIVE_CONTENT_MARKS if mark in final] == []
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(final)).pages)
    assert "Audit trail" in text
    assert hashlib.sha256(upload).hexdigest() in text.replace("\n", "").replace(" ", "")
