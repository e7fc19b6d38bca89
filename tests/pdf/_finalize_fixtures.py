"""Builders for the final-document tests: PDFs, fields, images, renders, a trusted seal check."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pypdfium2 as pdfium
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject, RectangleObject
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from paraph.pdf.audit_trail import AuditEntry, AuditSigner, AuditTrail
from paraph.pdf.model import Field, FieldType
from paraph.pdf.stamp import FilledField

PAGE_W, PAGE_H = letter
RENDER_SCALE = 2.0  # pixels per point


def make_pdf(pages: int = 3, *, pagesize: tuple[float, float] = letter) -> bytes:
    """Pages reading "Original page N", uncompressed so a test can find and change their bytes."""
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=pagesize, pageCompression=0)
    for n in range(1, pages + 1):
        sheet.setFont("Helvetica", 11)
        sheet.drawString(40, pagesize[1] - 40, f"Original page {n}")
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def with_page_boxes(pdf: bytes, *, rotate: int = 0, cropbox: tuple[float, float, float, float] | None = None) -> bytes:
    """``pdf`` with every page rotated (``/Rotate``) and/or cropped."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for page in writer.pages:
        if rotate:
            page[NameObject("/Rotate")] = NumberObject(rotate)
        if cropbox is not None:
            page.cropbox = RectangleObject(cropbox)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def field(
    kind: FieldType,
    page: int,
    x: float,
    y: float,
    w: float,
    h: float,
    *,
    document_index: int = 0,
    **extra: Any,
) -> Field:
    return Field(
        api_id=f"{kind.value}-{page}-{x:g}-{y:g}",
        type=kind,
        signer=0,
        document_index=document_index,
        page=page,
        x=x,
        y=y,
        width=w,
        height=h,
        **extra,
    )


def text(page: int, x: float, y: float, w: float, h: float, value: str, **extra: Any) -> FilledField:
    return FilledField(field(FieldType.TEXT, page, x, y, w, h, **extra), value, None)


def solid_png(size: tuple[int, int], color: tuple[int, int, int, int] = (220, 0, 0, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, color).save(out, format="PNG")
    return out.getvalue()


def render(pdf: bytes, page_index: int) -> Image.Image:
    """The page as a viewer shows it (crop box, rotation), at :data:`RENDER_SCALE` pixels per point."""
    doc = pdfium.PdfDocument(pdf)
    try:
        image: Image.Image = doc[page_index].render(scale=RENDER_SCALE).to_pil()
        return image.convert("RGB")
    finally:
        doc.close()


def pixel(image: Image.Image, x_pt: float, y_pt: float) -> tuple[int, int, int]:
    """The colour at a point given from the top-left corner of the displayed page, in points."""
    value = image.getpixel((round(x_pt * RENDER_SCALE), round(y_pt * RENDER_SCALE)))
    assert isinstance(value, tuple)
    return value[0], value[1], value[2]


def is_red(rgb: tuple[int, int, int]) -> bool:
    r, g, b = rgb
    return r > 170 and g < 80 and b < 80


def is_white(rgb: tuple[int, int, int]) -> bool:
    return min(rgb) > 235


def dark_pixels(image: Image.Image, box_pt: tuple[float, float, float, float]) -> int:
    """How many clearly dark pixels lie in a box (x, y, w, h, top-left origin, points)."""
    x, y, w, h = (round(v * RENDER_SCALE) for v in box_pt)
    crop = image.crop((x, y, x + w, y + h)).convert("L")
    histogram = crop.histogram()
    return sum(histogram[:128])


def ink_box(image: Image.Image, box_pt: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
    """The bounding box (x, y, w, h, points, relative to the box) of the dark ink inside a box, or None."""
    x, y, w, h = (round(v * RENDER_SCALE) for v in box_pt)
    crop = image.crop((x, y, x + w, y + h)).convert("L").point(lambda v: 255 if v < 128 else 0)
    found = crop.getbbox()
    if found is None:
        return None
    left, top, right, bottom = (v / RENDER_SCALE for v in found)
    return left, top, right - left, bottom - top


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def pdfium_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        texts = []
        for page in doc:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
        return texts
    finally:
        doc.close()


def lines_of(texts: list[str]) -> Iterator[str]:
    for t in texts:
        yield from (line.strip() for line in t.splitlines())


def trail(*, test_mode: bool = False, signers: list[AuditSigner] | None = None, **extra: Any) -> AuditTrail:
    at = dt.datetime(2026, 11, 28, 15, 4, 5, tzinfo=dt.UTC)
    default_signers = [
        AuditSigner(
            "Jane Doe",
            "jane.doe@example.com",
            [
                AuditEntry(at, "viewed", ip="203.0.113.7", user_agent=CHROME),
                AuditEntry(at + dt.timedelta(minutes=2), "signed", ip="203.0.113.7", user_agent=CHROME),
            ],
        ),
        AuditSigner(
            "John Roe",
            "john.roe@example.org",
            [AuditEntry(at + dt.timedelta(hours=1), "signed", ip="2001:db8::42", user_agent=FIREFOX)],
        ),
    ]
    values: dict[str, Any] = {
        "title": "Master services agreement",
        "signature_request_id": "fa5c8a0b0f492d768749333ad6fcc214c111e967",
        "original_sha256": ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
        "signers": default_signers if signers is None else signers,
        "other_entries": [AuditEntry(at - dt.timedelta(hours=1), "sent", actor_email="owner@example.com")],
        "test_mode": test_mode,
    }
    values.update(extra)
    return AuditTrail(**values)


CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def validate_seal(pdf: bytes, trusted: x509.Certificate) -> Any:
    """pyHanko's verdict on the last signature, trusting only ``trusted``."""
    root = asn1_x509.Certificate.load(trusted.public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    signature = reader.embedded_signatures[-1]
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))


def signature_count(pdf: bytes) -> int:
    return len(PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures)


def first_revision(pdf: bytes) -> bytes:
    """The bytes up to the first ``%%EOF`` and its line end: the file as it was before any update."""
    end = pdf.index(b"%%EOF") + len(b"%%EOF")
    while pdf[end : end + 1] in (b"\r", b"\n"):
        end += 1
    return pdf[:end]
