"""The final document: entered values stamped onto the pages, an audit trail appended, the file sealed.

The file is built in three revisions, each appended to the previous one unchanged:

1. the stamped pages (every value drawn as page content, no form widgets), written in full;
2. the audit trail pages, an incremental update; it states the SHA-256 and the length of revision 1, so
   anyone can check it by hashing that many leading bytes of the file;
3. the seal, a PAdES signature covering the whole file.

Stamping is :mod:`paraph.pdf.stamp`, the audit trail :mod:`paraph.pdf.audit_trail`, the seal
:mod:`paraph.pdf.seal`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pypdf import PdfReader, PdfWriter

from paraph.pdf.audit_trail import AuditTrail, audit_trail_pdf
from paraph.pdf.stamp import FilledField, stamp

if TYPE_CHECKING:  # pyHanko is heavy to import; a process that only stamps never loads it
    from paraph.pdf.seal import Sealer


def build_final(
    original_pdf: bytes | Sequence[bytes],
    fields: list[FilledField],
    trail: AuditTrail,
    sealer: Sealer,
) -> bytes:
    """The sealed final document: stamped pages, then the audit trail pages, then the seal.

    ``original_pdf`` is one PDF, or the request's documents in order (joined into one file; a field's
    ``document_index`` then says which document its ``page`` is in).
    """
    stamped = stamp(original_pdf, fields, test_mode=trail.test_mode)
    final_sha256 = hashlib.sha256(stamped).hexdigest()
    audit = audit_trail_pdf(trail, final_sha256, final_content_length=len(stamped))
    with_trail = _append_pages(stamped, audit)
    return sealer.seal(with_trail)


def _append_pages(pdf: bytes, extra: bytes) -> bytes:
    """``pdf`` unchanged, followed by an incremental update that adds the pages of ``extra`` at the end."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.append(PdfReader(io.BytesIO(extra)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
