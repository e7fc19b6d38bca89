"""files (pdf, zip), files_as_data_uri and files_as_file_url: the current documents, 409 while processing."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dropbox_sign
import pytest
import urllib3
from pypdf import PdfReader

from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.signature_request.helpers import FileServer, call, listen, make_pdf, send, send_and_wait, wait_event

TAGGED = make_pdf([["[sig|req|signer1]"], ["second page"]])


def api(sdk: Any) -> Any:
    return dropbox_sign.SignatureRequestApi(sdk)


def test_it_answers_409_while_the_files_are_being_prepared(sdk: Any, receiver: Receiver, files: FileServer) -> None:
    listen(sdk, receiver)
    files.delays["/slow.pdf"] = 2.0
    created = send(sdk, file_urls=[files.add("/slow.pdf", make_pdf())]).signature_request
    rid = created.signature_request_id
    for call_files in (
        api(sdk).signature_request_files,
        api(sdk).signature_request_files_as_data_uri,
        api(sdk).signature_request_files_as_file_url,
    ):
        with pytest.raises(dropbox_sign.ApiException) as err:
            call_files(rid)
        assert err.value.status == 409
        assert json.loads(err.value.body)["error"]["error_name"] == "conflict"
    wait_event(receiver, "signature_request_sent", rid)
    assert api(sdk).signature_request_files(rid).read().startswith(b"%PDF")


def test_it_returns_the_documents_merged_or_zipped(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(sdk, receiver, files=[TAGGED, make_pdf([["other"]])], use_text_tags=True)
    rid = sr.signature_request_id
    merged = PdfReader(io.BytesIO(api(sdk).signature_request_files(rid, file_type="pdf").read()))
    assert len(merged.pages) == 3
    assert "other" in merged.pages[2].extract_text()
    archive = zipfile.ZipFile(io.BytesIO(api(sdk).signature_request_files(rid, file_type="zip").read()))
    assert archive.namelist() == ["document-1.pdf", "document-2.pdf"]
    assert len(PdfReader(io.BytesIO(archive.read("document-1.pdf"))).pages) == 2


def test_it_returns_a_data_uri(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(sdk, receiver, files=[TAGGED], use_text_tags=True)
    uri = api(sdk).signature_request_files_as_data_uri(sr.signature_request_id).data_uri
    prefix = "data:application/pdf;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri[len(prefix) :]).startswith(b"%PDF")


def test_it_hands_out_a_signed_expiring_link(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(sdk, receiver, files=[TAGGED], use_text_tags=True, title="Deal 42")
    link = api(sdk).signature_request_files_as_file_url(sr.signature_request_id, force_download=0)
    assert link.file_url.startswith(server.url + "/paraph/files/signature_request/")
    assert link.expires_at > sr.created_at
    resp = urllib3.request("GET", link.file_url, retries=False)  # no API key
    assert resp.status == 200 and resp.data.startswith(b"%PDF")
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("inline")
    parts = urlsplit(link.file_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    tampered = (
        f"{server.url}{parts.path}?expires={int(query['expires']) + 1}&force_download=0&signature={query['signature']}"
    )
    assert urllib3.request("GET", tampered, retries=False).status == 404


def test_it_answers_400_for_the_files_of_a_failed_request(
    server: Server, sdk: Any, receiver: Receiver, account: AccountInfo
) -> None:
    listen(sdk, receiver)
    created = send(sdk, files=[b"\x00\x01 not a pdf, not text either"]).signature_request
    wait_event(receiver, "file_error", created.signature_request_id)
    resp = call(server, "GET", f"/signature_request/files/{created.signature_request_id}", account.api_key)
    assert resp.status == 400
    resp = call(
        server, "GET", f"/signature_request/files/{created.signature_request_id}?file_type=doc", account.api_key
    )
    assert resp.status == 400
