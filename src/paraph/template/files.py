"""A template's files: the processed documents as one PDF, a zip of them, a data URI, and signed expiring
download URLs (like a request's, ``signature_request.files``)."""

from __future__ import annotations

import base64
import io
import zipfile

from paraph.errors import BadRequest, Conflict, NotFound
from paraph.models import Account, Template
from paraph.models.template import TemplateState
from paraph.scope import Scope
from paraph.signature_request.create import UNSAFE_NAME
from paraph.signature_request.files import FileBody, check_signed_file_url, file_link
from paraph.storage import Storage
from paraph.template import repository, service


def _ready(t: Template) -> None:
    if t.state == TemplateState.PROCESSING:
        raise Conflict("The files are being prepared; wait for the template_created callback event.")
    if t.state == TemplateState.ERROR:
        raise BadRequest(f"The documents of this template could not be processed: {t.error_message}")


def _name(t: Template) -> str:
    return UNSAFE_NAME.sub("_", t.title).strip(" ._")[:100] or t.template_id


def pdf(storage: Storage, t: Template) -> FileBody:
    _ready(t)
    if t.current_pdf_key is None:
        raise Conflict("The files are being prepared; wait for the template_created callback event.")
    return FileBody(storage.get(t.current_pdf_key), "application/pdf", f"{_name(t)}.pdf")


def documents_zip(storage: Storage, t: Template) -> FileBody:
    _ready(t)
    out = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for doc in t.documents:
            stem = doc.filename.rsplit(".", 1)[0] if doc.filename.lower().endswith(".pdf") else doc.filename
            name, n = f"{stem}.pdf", 1
            while name in used:
                n += 1
                name = f"{stem} ({n}).pdf"
            used.add(name)
            archive.writestr(name, storage.get(doc.processed_key or doc.original_key))
    return FileBody(out.getvalue(), "application/zip", f"{_name(t)}.zip")


def files(scope: Scope, account: Account, template_id: str, file_type: str) -> FileBody:
    t = service.get(scope.session, account, template_id)
    if file_type == "zip":
        return documents_zip(scope.storage, t)
    if file_type == "pdf":
        return pdf(scope.storage, t)
    raise BadRequest("file_type: must be pdf or zip", error_path="file_type")


def data_uri(scope: Scope, account: Account, template_id: str) -> str:
    body = files(scope, account, template_id, "pdf")
    return "data:application/pdf;base64," + base64.b64encode(body.data).decode()


def file_url(scope: Scope, account: Account, template_id: str, force_download: bool) -> tuple[str, int]:
    """A signed URL on PARAPH_BASE_URL that serves the PDF without an API key until it expires."""
    t = service.get(scope.session, account, template_id)
    _ready(t)
    if t.current_pdf_key is None:
        raise Conflict("The files are being prepared; wait for the template_created callback event.")
    return file_link(scope, "template", t.template_id, force_download, t.current_pdf_key, f"{_name(t)}.pdf")


def signed_download(scope: Scope, template_id: str, expires: str, force_download: str, mac: str) -> FileBody:
    """What a URL from :func:`file_url` serves; 404 for a bad or expired signature (it reveals nothing)."""
    check_signed_file_url(scope, "template", template_id, expires, force_download, mac)
    t = repository.by_public_id(scope.session, template_id)
    if t is None:
        raise NotFound("Not found.")
    return pdf(scope.storage, t)
