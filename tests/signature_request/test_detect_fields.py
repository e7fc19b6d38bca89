"""POST /document/detect_fields (SDK 2.0.0): the text-tag parser of signature requests, nothing stored."""

from __future__ import annotations

import json
from typing import Any

import dropbox_sign
import pytest
from dropbox_sign import models

from tests.conftest import AccountInfo, Server
from tests.signature_request.helpers import FileServer, call_json, make_pdf

DOC = make_pdf([["Name: [text|req|signer1|Full name|name_1]"], ["[sig|req|signer2]   [sig|req|nobody]"]])


def detect(sdk: Any, **kw: Any) -> Any:
    request = models.DocumentFieldDetectionRequest(detection_mode="text_tags", **kw)
    return dropbox_sign.DocumentApi(sdk).document_detect_fields(request).detection_result


def test_it_detects_text_tags_in_an_upload(sdk: Any) -> None:
    result = detect(sdk, file=DOC)
    assert result.page_count == 2
    assert result.pages_analyzed == "all"
    assert len(result.document_hash) == 64
    found = {(f.api_id, f.type, f.page) for f in _fields(result)}
    assert ("name_1", "text", 1) in found
    assert any(t == "signature" and p == 2 for _, t, p in found)
    assert len(result.errors) == 1 and "nobody" in result.errors[0].error_msg


def _fields(result: Any) -> list[Any]:
    return list(result.form_fields_per_document)


def test_it_detects_in_a_file_url_and_a_page_range(sdk: Any, files: FileServer) -> None:
    result = detect(sdk, file_url=files.add("/doc.pdf", DOC), page_range="0")
    assert result.pages_analyzed == "0"
    assert [f.page for f in _fields(result)] == [1]
    assert result.errors == []


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"detection_mode": "text_tags", "page_range": "x"}, "page_range"),
        ({"detection_mode": "annotations"}, "detection_mode"),
        ({"detection_mode": "text_tags"}, "file"),
        ({"detection_mode": "text_tags", "file": ("a.pdf", b"garbage", "application/pdf")}, "file"),
    ],
)
def test_it_refuses_what_it_cannot_detect(
    server: Server, account: AccountInfo, fields: dict[str, Any], path: str
) -> None:
    status, body = call_json(server, "POST", "/document/detect_fields", account.api_key, fields=fields)
    assert status == 400, body
    assert body["error"]["error_path"] == path
    assert json.dumps(body).count("error_name") == 1
