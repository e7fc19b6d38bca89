"""Files a signer is asked to attach: one input each on the page, type and size refused clearly, a required one
blocking the signature on the server, ``uploaded_at`` in the API, the files in the zip and on the dashboard."""

from __future__ import annotations

import io
import json
import urllib.parse
import zipfile
from typing import Any

import urllib3

from tests.conftest import AccountInfo, Server
from tests.signing.helpers import action, api, create, f, new_app, page, sign_url, token_of
from tests.web.helpers import Client

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ATTACHMENTS = [
    {"name": "ID card", "signer_index": 0, "instructions": "Both sides, please", "required": True},
    {"name": "Proof of address", "signer_index": 0, "required": False},
]


def upload(server: Server, sid: str, token: str, index: int, data: bytes, name: str) -> tuple[int, Any]:
    headers = {"X-Paraph-Token": token, "X-Paraph-Filename": urllib.parse.quote(name)}
    resp = urllib3.request(
        "POST", f"{server.url}/sign/{sid}/attachment/{index}", body=data, headers=headers, retries=False, timeout=60
    )
    return resp.status, json.loads(resp.data)


def test_a_signer_attaches_the_files_asked_and_the_sender_gets_them(server: Server, account: AccountInfo) -> None:
    client_id = new_app(server, account, ["localhost"])
    sr = create(
        server,
        account,
        client_id=client_id,
        signers=[("Jack Doe", "jack@example.com")],
        fields=[f("sig", "signature", 0, 72, 420, 200, 40)],
        attachments=ATTACHMENTS,
    )
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]
    url = sign_url(server, account, sid)
    token = token_of(url)
    html = page(server, url, client_id=client_id, parent_url="http://localhost/", skip_domain_verification="1")
    text = html.data.decode()
    assert 'data-testid="attachment-0"' in text and 'data-testid="attachment-1"' in text
    assert "Both sides, please" in text

    signing = {"token": token, "values": {"sig": True}, "signature": {"method": "type", "text": "Jack Doe"}}
    status, answer = action(server, sid, "submit", signing)
    assert status == 422 and answer["error"]["fields"] == {"attachment-0": "Attach \u201cID card\u201d before signing."}

    status, answer = upload(server, sid, token, 0, b"#!/bin/sh\necho hi\n", "id.sh")
    assert status == 422 and "PDF, PNG or JPEG" in answer["error"]["fields"]["attachment-0"]
    status, answer = upload(server, sid, token, 0, b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024), "id.pdf")
    assert status == 422 and "larger than 10 MB" in answer["error"]["message"]
    assert upload(server, "f" * 32, token, 0, PNG, "id.png")[0] == 404
    assert upload(server, sid, token, 5, PNG, "id.png")[0] == 422  # not one asked of this signer

    status, answer = upload(server, sid, token, 0, PNG, "../../My ID<card>.png")
    assert status == 200 and answer["filename"] == "My ID_card_.png"
    status, body = api(server, account, "GET", f"/signature_request/{rid}")
    assert status == 200
    uploaded = [a["uploaded_at"] for a in body["signature_request"]["attachments"]]
    assert isinstance(uploaded[0], int) and uploaded[0] > 0 and uploaded[1] is None

    assert action(server, sid, "submit", signing) == (200, {"ok": True, "complete": True})
    status, served = api(server, account, "GET", f"/signature_request/files/{rid}?file_type=zip")
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(served)) as archive:
        assert archive.read("attachments/1 My ID_card_.png") == PNG

    client = Client(server.url)
    client.sign_in(account)
    detail = client.get(f"/dashboard/requests/{rid}")
    assert 'data-testid="request-attachments"' in detail.text and "My ID_card_.png" in detail.text
    assert f'href="/dashboard/requests/{rid}/attachments/0"' in detail.text
    opener = client.get(f"/dashboard/requests/{rid}/attachments/0")
    assert opener.status == 200 and opener.headers["content-disposition"].startswith("attachment;")
    assert client.get(f"/dashboard/requests/{rid}/attachments/1").status == 404
