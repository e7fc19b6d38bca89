"""A corpus of bad documents, generated here, sent through the API: each gets the documented error event
(``file_error``, ``has_error``, signers ``error_file``, the reason in ``event_message``), never a 500, and the
server goes on serving. SQLite only: the database plays no part in how a document fails."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dropbox_sign
import pytest

from tests.conftest import AccountInfo, Server
from tests.pdfs import blank_pages, deeply_nested_page_tree, encrypted, image_bomb, xobject_fan_out
from tests.receiver import Receiver
from tests.signature_request.helpers import call, listen, make_pdf, send, send_and_wait, wait_event


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "paraph.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


def corpus() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, a word the event_message must contain)."""
    good = make_pdf([["one"], ["two"]])
    noise = random.Random(7).randbytes(8192)
    return {
        "truncated": (good[: len(good) // 2], "truncated"),
        "encrypted": (encrypted(good, "open-sesame"), "password"),
        "zero_bytes": (b"", "empty"),
        "random_bytes_named_pdf": (noise, "not a PDF"),
        "random_bytes_with_a_pdf_header": (b"%PDF-1.7\n" + noise + b"\n%%EOF\n", "PDF"),
        "two_thousand_pages": (blank_pages(2000), "2000 pages"),
        "deeply_nested_object": (deeply_nested_page_tree(5000), "PDF"),
        "broken_png": (b"\x89PNG\r\n\x1a\n" + noise, "image"),
        "image_bomb": (image_bomb(12_000, 10_000), "megapixels"),  # the pixel budget of a page
        "xobject_fan_out": (xobject_fan_out(), "could not be processed"),  # the PDF processes' memory limit
    }


def test_it_reports_every_bad_document_as_a_file_error(
    server: Server, sdk: Any, receiver: Receiver, account: AccountInfo
) -> None:
    listen(sdk, receiver)
    sent: dict[str, tuple[str, str]] = {}
    for name, (data, word) in corpus().items():
        resp = call(
            server,
            "POST",
            "/signature_request/send",
            account.api_key,
            fields={
                "signers[0][name]": "Jack",
                "signers[0][email_address]": "jack@example.com",
                "files[0]": (f"{name}.pdf", data, "application/pdf"),
            },
        )
        assert resp.status == 200, (name, resp.status, resp.data[:300])
        sent[name] = (json.loads(resp.data)["signature_request"]["signature_request_id"], word)
    for name, (rid, word) in sent.items():
        payload = wait_event(receiver, "file_error", rid, timeout=60)
        message = payload["event"]["event_metadata"]["event_message"]
        assert word.lower() in message.lower(), (name, message)
        sr = payload["signature_request"]
        assert sr["has_error"] is True
        assert [s["status_code"] for s in sr["signatures"]] == ["error_file"], name
        got = dropbox_sign.SignatureRequestApi(sdk).signature_request_get(rid).signature_request
        assert got.has_error is True and got.signatures[0].error == message
    # Still serving: a good document goes through.
    ok = send_and_wait(sdk, receiver, files=[make_pdf()])
    assert ok.has_error is False


def test_it_reports_an_unreachable_file_url_as_a_file_error(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    created = send(sdk, file_urls=["http://nowhere.test:9/missing.pdf"]).signature_request
    payload = wait_event(receiver, "file_error", created.signature_request_id)
    assert "file_urls[0] could not be downloaded" in payload["event"]["event_metadata"]["event_message"]
