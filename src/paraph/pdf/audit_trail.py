"""The audit trail: the pages appended to the final document (revision 2, :mod:`paraph.pdf.final`) that say
who did what and when, and the SHA-256 and length of the stamped pages they follow.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from paraph.pdf.stamp import INK, draw_test_mark, font_for, wrap


@dataclass(slots=True)
class AuditEntry:
    """One event of the request. ``at`` is UTC (a naive datetime is taken as UTC)."""

    at: dt.datetime
    action: str  # sent | viewed | signed | declined | reassigned | completed | ...
    actor_name: str | None = None
    actor_email: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    detail: str | None = None


@dataclass(slots=True)
class AuditSigner:
    name: str
    email: str
    entries: list[AuditEntry] = field(default_factory=list)


@dataclass(slots=True)
class AuditTrail:
    title: str
    signature_request_id: str
    original_sha256: list[str]  # hex, one per uploaded document, in order
    signers: list[AuditSigner]
    other_entries: list[AuditEntry]  # events not tied to a signer: sent, completed, ...
    test_mode: bool
    #: The uploaded files' names, beside their hashes (a converted Word file keeps its name and hash here).
    original_names: list[str] = field(default_factory=list)


_ACTIONS = {
    "sent": "Sent for signature",
    "viewed": "Viewed",
    "pin_verified": "Access code entered",
    "pin_failed": "Wrong access code",
    "signed": "Signed",
    "declined": "Declined",
    "reassigned": "Reassigned",
    "completed": "Completed",
    "canceled": "Canceled",
    "cancelled": "Canceled",
    "reminded": "Reminder sent",
    "downloaded": "Downloaded",
    "email_verified": "Email verified",
    "simulated": "Simulated (test mode)",
}


def audit_trail_pdf(trail: AuditTrail, final_content_sha256: str, *, final_content_length: int | None = None) -> bytes:
    """The audit trail as PDF pages of real, selectable text.

    ``final_content_length``, when given, is stated too: the final content is that many leading bytes of
    the file :func:`build_final` makes, so a reader can cut and hash them.

    Lines wrap at spaces; an identifier, hash, email address or timestamp is never split: when one does
    not fit beside its label it goes on its own line, and when it does not fit there it is set smaller.
    """
    doc = _AuditDocument(trail.test_mode)
    doc.heading("Audit trail", 16)
    doc.labelled("Title: ", trail.title, breakable=True)
    doc.labelled("Signature request ID: ", trail.signature_request_id, mono=True)
    doc.gap(6)
    doc.heading("Documents", 12)
    for i, sha in enumerate(trail.original_sha256, start=1):
        name = trail.original_names[i - 1] if i <= len(trail.original_names) else ""
        if name:
            doc.labelled(f"Document {i}: ", name, breakable=True)
        doc.labelled(f"Document {i} SHA-256: ", sha, mono=True)
    doc.labelled("Final content SHA-256: ", final_content_sha256, mono=True)
    where = (
        f"the first {final_content_length} bytes of this PDF file (its first revision)"
        if final_content_length is not None
        else "the first revision of this PDF file"
    )
    doc.paragraph(
        "Document hashes are of the files as uploaded (an office, HTML or text file before its conversion to PDF,"
        " which is what was signed). The final content is the signed document with every "
        f"entered value, before this audit trail: {where}. The whole file is sealed with a PAdES signature.",
        size=8,
    )
    for n, signer in enumerate(trail.signers, start=1):
        doc.gap(8)
        doc.heading(f"Signer {n}: {signer.name}", 12)
        doc.labelled("Email: ", signer.email)
        for entry in sorted(signer.entries, key=lambda e: _utc(e.at)):
            _entry(doc, entry, signer_email=signer.email)
    if trail.other_entries:
        doc.gap(8)
        doc.heading("Other events", 12)
        for entry in sorted(trail.other_entries, key=lambda e: _utc(e.at)):
            _entry(doc, entry, signer_email=None)
    return doc.finish()


def format_utc(at: dt.datetime) -> str:
    """``2026-11-28 15:04:05 UTC``: how the audit trail writes a time."""
    return _utc(at).strftime("%Y-%m-%d %H:%M:%S UTC")


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _entry(doc: _AuditDocument, entry: AuditEntry, *, signer_email: str | None) -> None:
    doc.gap(3)
    action = _ACTIONS.get(entry.action.lower(), entry.action.replace("_", " ").capitalize())
    doc.event_line(format_utc(entry.at), action)
    indent = 14
    if entry.actor_email and entry.actor_email != signer_email:
        if entry.actor_name:
            doc.labelled("By: ", entry.actor_name, breakable=True, indent=indent, size=9)
        doc.labelled("Email: ", entry.actor_email, indent=indent, size=9)
    elif entry.actor_name and not signer_email:
        doc.labelled("By: ", entry.actor_name, breakable=True, indent=indent, size=9)
    if entry.ip:
        doc.labelled("IP address: ", entry.ip, indent=indent, size=9)
    if entry.user_agent:
        doc.labelled("User agent: ", entry.user_agent, breakable=True, indent=indent, size=9)
    if entry.detail:
        doc.labelled("Detail: ", entry.detail, breakable=True, indent=indent, size=9)


class _AuditDocument:
    """A tiny flowing-text layout on reportlab's canvas: lines top to bottom, a new page when full."""

    MARGIN = 54.0
    WIDTH, HEIGHT = letter

    def __init__(self, test_mode: bool) -> None:
        self._buf = io.BytesIO()
        self._canvas = Canvas(self._buf, pagesize=letter, invariant=True, pageCompression=1)
        self._canvas.setTitle("Audit trail")
        self._test_mode = test_mode
        self._page = 0
        self._y = 0.0
        self._new_page()

    @property
    def _line_width(self) -> float:
        return self.WIDTH - 2 * self.MARGIN

    def _new_page(self) -> None:
        if self._page:
            self._canvas.showPage()
        self._page += 1
        if self._test_mode:
            draw_test_mark(self._canvas, self.WIDTH, self.HEIGHT)
        self._canvas.setFillColorRGB(0.45, 0.45, 0.45)
        self._canvas.setFont("Helvetica", 8)
        self._canvas.drawRightString(self.WIDTH - self.MARGIN, self.MARGIN / 2, f"Audit trail, page {self._page}")
        self._canvas.setFillColorRGB(*INK)
        self._y = self.HEIGHT - self.MARGIN

    def _advance(self, height: float) -> float:
        """Reserve ``height`` points; return the baseline for a line of that height."""
        if self._y - height < self.MARGIN:
            self._new_page()
        self._y -= height
        return self._y + height * 0.22

    def _draw(self, x: float, baseline: float, text: str, font: str, size: float) -> float:
        font, text = font_for(text, font)
        self._canvas.setFont(font, size)
        self._canvas.drawString(x, baseline, text)
        return pdfmetrics.stringWidth(text, font, size)

    def gap(self, points: float) -> None:
        self._y -= points

    def heading(self, text: str, size: float) -> None:
        font, text = font_for(text, "Helvetica-Bold")
        for line in wrap(" ".join(text.split()), font, size, self._line_width):
            self._draw(self.MARGIN, self._advance(size * 1.35), line, font, size)

    def paragraph(self, text: str, *, size: float = 10, indent: float = 0) -> None:
        font, text = font_for(text, "Helvetica")
        for line in wrap(" ".join(text.split()), font, size, self._line_width - indent):
            self._draw(self.MARGIN + indent, self._advance(size * 1.3), line, font, size)

    def event_line(self, when: str, action: str) -> None:
        baseline = self._advance(10 * 1.35)
        width = self._draw(self.MARGIN, baseline, when, "Courier", 9.5)
        self._draw(self.MARGIN + width + 8, baseline, action, "Helvetica-Bold", 10)

    def labelled(
        self,
        label: str,
        value: str,
        *,
        breakable: bool = False,
        mono: bool = False,
        indent: float = 0,
        size: float = 10,
    ) -> None:
        """``label`` then ``value``; a breakable value wraps at spaces, any other is kept on one line."""
        x = self.MARGIN + indent
        room = self._line_width - indent
        value_font, value = font_for(value, "Courier" if mono else "Helvetica")
        value_size = size - 0.5 if mono else size
        label_width = pdfmetrics.stringWidth(label, "Helvetica", size)
        if breakable:
            value = " ".join(value.split())
            first, *rest = wrap(value, value_font, value_size, room - label_width) or [""]
            if pdfmetrics.stringWidth(first, value_font, value_size) > room - label_width:
                first, rest = "", wrap(value, value_font, value_size, room)
            baseline = self._advance(size * 1.3)
            self._draw(x, baseline, label, "Helvetica", size)
            self._draw(x + label_width, baseline, first, value_font, value_size)
            for line in rest:
                self._draw(x + label_width if first else x, self._advance(size * 1.3), line, value_font, value_size)
            return
        value_width = pdfmetrics.stringWidth(value, value_font, value_size)
        if label_width + value_width <= room:
            baseline = self._advance(size * 1.3)
            self._draw(x, baseline, label, "Helvetica", size)
            self._draw(x + label_width, baseline, value, value_font, value_size)
            return
        self._draw(x, self._advance(size * 1.3), label, "Helvetica", size)
        fitted = value_size if value_width <= room - 12 else value_size * (room - 12) / value_width
        self._draw(x + 12, self._advance(max(fitted, 6) * 1.3), value, value_font, fitted)

    def finish(self) -> bytes:
        self._canvas.showPage()
        self._canvas.save()
        return self._buf.getvalue()
