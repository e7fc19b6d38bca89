"""A corpus of bad documents, generated here, sent through the API: each gets the documented error event
(``file_error``, ``has_error``, signers ``error_file``, the reason in ``event_message``), never a 500, and the
server goes on serving. SQLite only: the database plays no part in how a document fails."""

from __future__ import annotations

import io
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dropbox_sign
import pytest
from pypdf import PdfReader, PdfWriter

from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.signature_request.helpers import call, listen, make_pdf, send, send_and_wait, wait_event


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "paraph.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


def _encrypted(pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password="open-sesame", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _many_pages(count: int) -> bytes:
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _hand_written(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _deeply_nested(depth: int) -> bytes:
    """A page tree ``depth`` /Pages nodes deep, one page at the bottom."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = 2 + level
        parent = b"/Parent %d 0 R " % (number - 1) if level else b""
        objects.append(b"<< /Type /Pages %s/Kids [%d 0 R] /Count 1 >>" % (parent, number + 1))
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] >>" % (depth + 1))
    return _hand_written(objects)


def corpus() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, a word the event_message must contain)."""
    good = make_pdf([["one"], ["two"]])
    noise = random.Random(7).randbytes(8192)
    return {
        "truncated": (good[: len(good) // 2], "truncated"),
        "encrypted": (_encrypted(good), "password"),
        "zero_bytes": (b"", "empty"),
        "random_bytes_named_pdf": (noise, "not a PDF"),
        "random_bytes_with_a_pdf_header": (b"%PDF-1.7\n" + noise + b"\n%%EOF\n", "PDF"),
        "two_thousand_pages": (_many_pages(2000), "2000 pages"),
        "deeply_nested_object": (_deeply_nested(5000), "PDF"),
        "broken_png": (b"\x89PNG\r\n\x1a\n" + noise, "image"),
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
