"""Limits: files per request and bytes per file are refused at once with a clear 400."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import AccountInfo, Server
from tests.signature_request.helpers import call_json, make_pdf


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_files": 2, "max_file_bytes": 50_000, "max_upload_bytes": 80_000}


def test_it_enforces_the_file_limits_with_a_clear_400(server: Server, account: AccountInfo) -> None:
    signers = json.dumps([{"name": "A", "email_address": "a@example.com"}])
    small = make_pdf()
    status, body = call_json(
        server,
        "POST",
        "/signature_request/send",
        account.api_key,
        fields={"signers": signers, **{f"files[{i}]": (f"{i}.pdf", small, "application/pdf") for i in range(3)}},
    )
    assert status == 400
    assert "2" in body["error"]["error_msg"]
    status, body = call_json(
        server,
        "POST",
        "/signature_request/send",
        account.api_key,
        fields={"signers": signers, "files[0]": ("big.pdf", b"%PDF-" + b"0" * 60_000, "application/pdf")},
    )
    assert status == 400
    assert body["error"]["error_path"] == "files[0]"
    status, body = call_json(
        server,
        "POST",
        "/signature_request/send",
        account.api_key,
        json={
            "signers": [{"name": "A", "email_address": "a@example.com"}],
            "file_urls": [f"https://example.com/{i}.pdf" for i in range(3)],
        },
    )
    assert status == 400 and body["error"]["error_path"] == "file_urls"


def test_it_refuses_files_larger_together_than_the_upload_limit(server: Server, account: AccountInfo) -> None:
    signers = json.dumps([{"name": "A", "email_address": "a@example.com"}])
    part = b"%PDF-" + b"0" * 45_000  # each under the per-file limit, the two over the total
    status, body = call_json(
        server,
        "POST",
        "/signature_request/send",
        account.api_key,
        fields={"signers": signers, **{f"files[{i}]": (f"{i}.pdf", part, "application/pdf") for i in range(2)}},
    )
    assert status == 400
    assert body["error"] == {
        "error_msg": "The files of the request are larger than the limit of 80000 bytes together",
        "error_name": "bad_request",
        "error_path": "files",
    }
    # The server goes on serving, and files within the limits are taken.
    small = make_pdf()
    status, body = call_json(
        server,
        "POST",
        "/signature_request/send",
        account.api_key,
        fields={"signers": signers, **{f"files[{i}]": (f"{i}.pdf", small, "application/pdf") for i in range(2)}},
    )
    assert status == 200, body
