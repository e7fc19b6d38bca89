"""Files a signer is asked to attach (``attachments[]`` of the request): what is accepted, where it is stored,
and what must be there before the signer may sign.

A request's ``attachments`` (a JSON list on the request) keeps, once a file is uploaded, ``uploaded_at`` (a
Unix timestamp, as Dropbox Sign's API shows it) and the file's ``storage_key``, ``filename``, ``size`` and
``content_type``. The file goes through the storage Protocol under ``sr/<id>/attachments/<attachment id>``;
uploading again replaces it. The sender gets the files in ``files?file_type=zip`` and on the dashboard.
"""

from __future__ import annotations

import re
from typing import Any

from paraph.db import utcnow
from paraph.i18n import N_
from paraph.models import SignatureRequest, Signer

#: The largest file a signer may attach (the signing page reads an action's body up to 12 MiB).
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: What a signer may attach, recognized by the file's first bytes (its name and declared type are not trusted).
ACCEPTED = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg"}
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()-]+")


class AttachmentRefused(ValueError):
    pass


def sniff(data: bytes) -> str | None:
    """The accepted kind of ``data`` by its first bytes, or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def safe_filename(name: str, kind: str) -> str:
    """A name safe in a zip and a Content-Disposition header, with the extension of what the file is."""
    stem = _UNSAFE.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" ._")
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    ext = "jpg" if kind == "jpeg" else kind
    return f"{(stem or 'attachment')[:100]}.{ext}"


def check_file(data: bytes) -> str:
    """The kind of an attached file, or :class:`AttachmentRefused` with a message the signer can act on."""
    if not data:
        raise AttachmentRefused(N_("The file is empty. Attach a PDF, PNG or JPEG file of at most 10 MB."))
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise AttachmentRefused(N_("The file is larger than 10 MB. Attach a PDF, PNG or JPEG file of at most 10 MB."))
    kind = sniff(data)
    if kind is None:
        raise AttachmentRefused(
            N_("This type of file is not accepted. Attach a PDF, PNG or JPEG file of at most 10 MB.")
        )
    return kind


def of_signer(sr: SignatureRequest, signer: Signer) -> list[tuple[int, dict[str, Any]]]:
    """The attachments asked of this signer, with their index in the request's ``attachments``."""
    return [(i, a) for i, a in enumerate(sr.attachments or []) if a.get("signer_index") == signer.signer_index]


def storage_key(sr: SignatureRequest, attachment: dict[str, Any]) -> str:
    return f"sr/{sr.signature_request_id}/attachments/{attachment['id']}"


def record_upload(
    sr: SignatureRequest, index: int, *, key: str, filename: str, kind: str, size: int, signature_id: str
) -> dict[str, Any]:
    """Mark attachment ``index`` uploaded (a new list, so the JSON column sees the change)."""
    items = [dict(a) for a in sr.attachments or []]
    items[index].update(
        uploaded_at=int(utcnow().timestamp()),
        storage_key=key,
        filename=filename,
        content_type=ACCEPTED[kind],
        size=size,
        signature_id=signature_id,
    )
    sr.attachments = items
    return items[index]


def missing_required(sr: SignatureRequest, signer: Signer) -> dict[str, str]:
    """``attachment-<index>`` -> why, for each required attachment of this signer not uploaded yet."""
    return {
        f"attachment-{i}": f"Attach \u201c{a.get('name')}\u201d before signing."
        for i, a in of_signer(sr, signer)
        if a.get("required") and not a.get("uploaded_at")
    }


def page_json(sr: SignatureRequest, signer: Signer) -> list[dict[str, Any]]:
    """What the signing page shows of the signer's attachments."""
    return [
        {
            "index": i,
            "name": a.get("name") or "",
            "instructions": a.get("instructions") or "",
            "required": bool(a.get("required")),
            "filename": a.get("filename") if a.get("uploaded_at") else None,
        }
        for i, a in of_signer(sr, signer)
    ]
