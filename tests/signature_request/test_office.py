"""Office, HTML and text files sent through the official SDK become PDFs (LibreOffice, issue 17): each kind of
file reaches ``signature_request_sent``, the files endpoint returns a PDF with each original's text, text tags
in a Word file become fields, ``form_fields_per_document`` lands on converted pages, ``template/create``
takes them too, and hostile files get a ``file_error`` naming them while the server goes on serving.

LibreOffice is required (like Chromium and PostgreSQL): without it these tests fail rather than skip. SQLite
only: the database plays no part in conversion. One test, so one server and its converters start once."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dropbox_sign
import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
from dropbox_sign import models

from paraph.models import Document, RequestField, SignatureRequest
from tests import office_files
from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.signature_request.helpers import call, listen, send, wait_event
from tests.template.helpers import role, wait_template_event


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "paraph.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def libreoffice() -> None:
    if shutil.which("soffice") is None:
        pytest.fail(
            "No LibreOffice: apt-get install libreoffice-writer-nogui libreoffice-calc-nogui"
            " libreoffice-impress-nogui python3-uno (.ci/run does)."
        )


def pdf_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def hostile() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, words the event_message must contain)."""
    return {
        "bomb.docx": (office_files.zip_bomb_docx(), "zip bomb"),
        "locked.docx": (office_files.password_docx(), "password-protected"),
        "broken.xlsx": (office_files.corrupt_xlsx(), "damaged"),
        "endless.txt": (office_files.long_text(), "more than 500 pages"),
    }


def test_office_files_become_pdfs_and_hostile_ones_fail_cleanly(
    server: Server, sdk: Any, receiver: Receiver, account: AccountInfo, tmp_path: Path
) -> None:
    listen(sdk, receiver)
    failing: dict[str, tuple[str, str]] = {}
    for name, (data, words) in hostile().items():
        resp = call(
            server,
            "POST",
            "/signature_request/send",
            account.api_key,
            fields={
                "signers[0][name]": "Jack",
                "signers[0][email_address]": "jack@example.com",
                "files[0]": (name, data, "application/octet-stream"),
            },
        )
        assert resp.status == 200, (name, resp.status, resp.data[:300])
        failing[name] = (json.loads(resp.data)["signature_request"]["signature_request_id"], words)

    corpus = office_files.good_corpus()
    paths = []
    for name, data in corpus.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(path)
    on_sheet = models.SubFormFieldsPerDocumentText(
        document_index=1, api_id="on_sheet", name="Note", type="text", x=100, y=120, width=150, height=20,
        required=False, signer=0, page=1,
    )  # fmt: skip
    handles = [path.open("rb") for path in paths]
    try:
        rid = send(sdk, files=handles, use_text_tags=True, form_fields_per_document=[on_sheet])
        rid = rid.signature_request.signature_request_id
    finally:
        for handle in handles:
            handle.close()
    client_signature = models.SubFormFieldsPerDocumentSignature(
        document_index=0, api_id="client_sig", name="", type="signature", x=72, y=500, width=200, height=40,
        required=True, signer=0, page=1,
    )  # fmt: skip
    with (tmp_path / "contract.docx").open("rb") as handle:
        template = dropbox_sign.TemplateApi(sdk).template_create(
            models.TemplateCreateRequest(
                files=[handle],
                title="Word template",
                signer_roles=[role("Client", 0)],
                form_fields_per_document=[client_signature],
                test_mode=True,
            )
        )
    template_id = template.template.template_id

    # The hostile files: a file_error naming the file, each.
    for name, (failed_id, words) in failing.items():
        payload = wait_event(receiver, "file_error", failed_id, timeout=60)
        message = payload["event"]["event_metadata"]["event_message"]
        assert name in message and words in message, (name, message)
        assert [s["status_code"] for s in payload["signature_request"]["signatures"]] == ["error_file"]

    # The good ones: sent, one PDF with every original's text, the Word file's tags as fields.
    wait_event(receiver, "signature_request_sent", rid, timeout=90)
    merged = dropbox_sign.SignatureRequestApi(sdk).signature_request_files(rid, file_type="pdf").read()
    text = pdf_text(merged)
    for name, word in office_files.WORDS.items():
        assert word in text, (name, text[:500])
    assert "café" in text
    with server.runtime.unit_of_work(write=False) as session:
        fields = session.execute(
            sa.select(RequestField.api_id, RequestField.type, RequestField.document_index, RequestField.page)
            .join(SignatureRequest, SignatureRequest.id == RequestField.signature_request_id)
            .where(SignatureRequest.signature_request_id == rid)
        ).all()
        documents = session.execute(
            sa.select(Document.filename, Document.sha256)
            .join(SignatureRequest, SignatureRequest.id == Document.signature_request_id)
            .where(SignatureRequest.signature_request_id == rid)
            .order_by(Document.index)
        ).all()
    assert sorted((t, d, p) for _, t, d, p in fields) == [("date_signed", 0, 1), ("signature", 0, 1), ("text", 1, 1)]
    # What the audit trail states: each original's name and the SHA-256 of the file as uploaded.
    assert [tuple(row) for row in documents] == [(n, hashlib.sha256(d).hexdigest()) for n, d in corpus.items()]

    # template/create takes them too; its files are the converted PDF.
    wait_template_event(receiver, "template_created", template_id, timeout=60)
    template_pdf = dropbox_sign.TemplateApi(sdk).template_files(template_id, file_type="pdf").read()
    assert office_files.WORDS["contract.docx"] in pdf_text(io.BytesIO(template_pdf).getvalue())
