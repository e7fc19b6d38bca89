"""A signature request's files: the current PDF (the sealed final one once there is one), the zip, the data
URI, signed download URLs, and where the final document is stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import Any, Literal

from paraph.db import utcnow
from paraph.errors import (
    BadRequest,
    Conflict,
    Deleted,
    NotFound,
)
from paraph.models import Account, SignatureRequest
from paraph.models.signature_request import FilesState
from paraph.scope import Scope
from paraph.signature_request import repository
from paraph.signature_request.create import UNSAFE_NAME
from paraph.signature_request.service import get
from paraph.storage import Presigning, Storage

FILE_URL_TTL = dt.timedelta(days=3)


def final_key(signature_request_id: str) -> str:
    return f"sr/{signature_request_id}/final.pdf"


@dataclass(slots=True)
class FileBody:
    data: bytes
    media_type: str
    filename: str


def _ready(sr: SignatureRequest) -> None:
    if sr.files_state == FilesState.PROCESSING:
        raise Conflict("The files are being prepared; try again in a moment.")
    if sr.files_state == FilesState.ERROR:
        raise BadRequest(f"The documents of this signature request could not be processed: {sr.error_message}")


def _pdf_name(sr: SignatureRequest) -> str:
    base = UNSAFE_NAME.sub("_", sr.title).strip(" ._")[:100]
    return f"{base or sr.signature_request_id}.pdf"


def current_pdf(storage: Storage, sr: SignatureRequest) -> FileBody:
    """The final PDF once there is one, the processed documents merged before."""
    _ready(sr)
    key = sr.final_pdf_key or sr.current_pdf_key
    if key is None:
        raise Conflict("The files are being prepared; try again in a moment.")
    return FileBody(storage.get(key), "application/pdf", _pdf_name(sr))


def documents_zip(storage: Storage, sr: SignatureRequest) -> FileBody:
    _ready(sr)
    final = final_zip(storage, sr)  # once finalized, the zip holds the sealed final copy
    if final is not None:
        return FileBody(final, "application/zip", f"{_pdf_name(sr).removesuffix('.pdf')}.zip")
    out = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for doc in sr.documents:
            stem = doc.filename.rsplit(".", 1)[0] if doc.filename.lower().endswith(".pdf") else doc.filename
            name, n = f"{stem}.pdf", 1
            while name in used:
                n += 1
                name = f"{stem} ({n}).pdf"
            used.add(name)
            archive.writestr(name, storage.get(doc.processed_key or doc.original_key))
        _add_attachments(archive, storage, sr)
    base = _pdf_name(sr).removesuffix(".pdf")
    return FileBody(out.getvalue(), "application/zip", f"{base}.zip")


def files(scope: Scope, account: Account, rid: str, file_type: str) -> FileBody:
    sr = get(scope.session, account, rid)
    storage = scope.storage
    if file_type == "zip":
        return documents_zip(storage, sr)
    if file_type == "pdf":
        return current_pdf(storage, sr)
    raise BadRequest("file_type: must be pdf or zip", error_path="file_type")


def data_uri(scope: Scope, account: Account, rid: str) -> str:
    body = files(scope, account, rid, "pdf")
    return "data:application/pdf;base64," + base64.b64encode(body.data).decode()


FileKind = Literal["signature_request", "template"]


def _file_url_message(kind: FileKind, public_id: str, expires: int, force_download: int) -> str:
    return f"{kind}_files:{public_id}:{expires}:{force_download}"


def signed_file_url(scope: Scope, kind: FileKind, public_id: str, force_download: bool | int) -> tuple[str, int]:
    """A signed URL on PARAPH_BASE_URL (``/paraph/files/<kind>/<id>``) that serves a request's or a template's
    PDF without an API key until it expires; :func:`check_signed_file_url` verifies it."""
    expires = int((utcnow() + FILE_URL_TTL).timestamp())
    fd = 1 if force_download else 0
    mac = scope.keys.sign(_file_url_message(kind, public_id, expires, fd))
    url = (
        f"{scope.settings.base_url}/paraph/files/{kind}/{public_id}"
        f"?expires={expires}&force_download={fd}&signature={mac}"
    )
    return url, expires


def file_link(
    scope: Scope, kind: FileKind, public_id: str, force_download: bool | int, key: str, filename: str
) -> tuple[str, int]:
    """What ``file_url`` answers: a presigned URL of the bucket for the stored PDF ``key`` when
    PARAPH_STORAGE_PRESIGNED_URLS is on (same expiry), else :func:`signed_file_url` (served by Paraph)."""
    storage = scope.storage
    if scope.settings.storage_presigned_urls and isinstance(storage, Presigning):
        now = int(utcnow().timestamp())
        expires = now + int(FILE_URL_TTL.total_seconds())
        url = storage.presigned_url(key, expires - now, filename, "application/pdf", bool(force_download))
        return url, expires
    return signed_file_url(scope, kind, public_id, force_download)


def check_signed_file_url(
    scope: Scope, kind: FileKind, public_id: str, expires: str, force_download: str, mac: str
) -> None:
    """404 for a bad or expired signature of a URL from :func:`signed_file_url` (it reveals nothing)."""
    if not (expires.isdigit() and force_download in ("0", "1")):
        raise NotFound("Not found.")
    if not scope.keys.verify(_file_url_message(kind, public_id, int(expires), int(force_download)), mac):
        raise NotFound("Not found.")
    if int(expires) < int(utcnow().timestamp()):
        raise NotFound("This link has expired; ask the API for a new one.")


def file_url(scope: Scope, account: Account, rid: str, force_download: int) -> tuple[str, int]:
    """A signed URL on PARAPH_BASE_URL that serves the PDF without an API key until it expires."""
    sr = get(scope.session, account, rid)
    _ready(sr)
    key = sr.final_pdf_key or sr.current_pdf_key
    if key is None:
        raise Conflict("The files are being prepared; try again in a moment.")
    return file_link(scope, "signature_request", rid, force_download, key, _pdf_name(sr))


def signed_download(scope: Scope, rid: str, expires: str, force_download: str, mac: str) -> FileBody:
    """What a URL from :func:`file_url` serves; 404 for a bad or expired signature (it reveals nothing)."""
    check_signed_file_url(scope, "signature_request", rid, expires, force_download, mac)
    sr = repository.by_public_id(scope.session, rid)
    if sr is None or sr.removed_at is not None:
        raise NotFound("Not found.")
    if sr.cancel_requested_at is not None:
        raise Deleted("This signature request has been canceled.")
    return current_pdf(scope.storage, sr)


def final_pdf(storage: Storage, sr: SignatureRequest) -> bytes | None:
    """The sealed final document, once it is stored (for the files endpoints and final-copy links)."""
    return storage.get(sr.final_pdf_key) if sr.final_pdf_key else None


def final_zip(storage: Storage, sr: SignatureRequest) -> bytes | None:
    """What ``files?file_type=zip`` should return once the request is finalized: the sealed final PDF in a
    zip (one file: the seal covers the documents and the audit trail together). None before that."""
    pdf = final_pdf(storage, sr)
    if pdf is None:
        return None
    name = "".join(ch if ch.isalnum() or ch in " ._()-" else "_" for ch in sr.title).strip(" ._")[:100]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name or sr.signature_request_id}.pdf", pdf)
        _add_attachments(archive, storage, sr)
    return out.getvalue()


def uploaded_attachments(sr: SignatureRequest) -> list[tuple[int, dict[str, Any]]]:
    """The files signers attached (``attachments[]`` with ``uploaded_at``), with their index."""
    return [(i, a) for i, a in enumerate(sr.attachments or []) if a.get("uploaded_at") and a.get("storage_key")]


def attachment_file(storage: Storage, sr: SignatureRequest, index: int) -> FileBody | None:
    found = dict(uploaded_attachments(sr)).get(index)
    if found is None:
        return None
    return FileBody(storage.get(found["storage_key"]), found["content_type"], found["filename"])


def _add_attachments(archive: zipfile.ZipFile, storage: Storage, sr: SignatureRequest) -> None:
    """The signers' attached files, under ``attachments/`` (numbered: two signers may send the same name)."""
    for i, a in uploaded_attachments(sr):
        archive.writestr(f"attachments/{i + 1} {a['filename']}", storage.get(a["storage_key"]))
