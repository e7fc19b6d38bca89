"""Documents generated on the spot: reportlab PDFs with text tags at known places, images, a bad corpus."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import letter
from reportlab.pdfbase.pdfmetrics import getAscentDescent, stringWidth
from reportlab.pdfgen import canvas

FONT = "Helvetica"


@dataclass(frozen=True)
class Line:
    """A line of text drawn at ``x`` with its baseline ``baseline`` points above the page bottom."""

    x: float
    baseline: float
    text: str
    size: float = 12
    color: tuple[float, float, float] = (0, 0, 0)


def build_pdf(pages: Sequence[Sequence[Line]], pagesize: tuple[float, float] = letter) -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=pagesize)
    for lines in pages:
        for line in lines:
            sheet.setFillColorRGB(*line.color)
            sheet.setFont(FONT, line.size)
            sheet.drawString(line.x, line.baseline, line.text)
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def expected_box(
    line: Line, fragment: str, page_height: float = letter[1]
) -> tuple[float, float, float, float]:
    """Where ``fragment`` (inside ``line.text``) is drawn: x, y (top-left origin), width, height in points.

    The height spans the font's ascent to descent, which is what a text tag's field covers.
    """
    start = line.text.index(fragment)
    x = line.x + stringWidth(line.text[:start], FONT, line.size)
    width = stringWidth(fragment, FONT, line.size)
    ascent, descent = getAscentDescent(FONT, line.size)
    top = page_height - (line.baseline + ascent)
    return x, top, width, ascent - descent


@pytest.fixture
def make_pdf() -> Callable[..., bytes]:
    return build_pdf


def png_image(size: tuple[int, int] = (400, 300), mode: str = "RGB", color: object = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format="PNG")  # type: ignore[arg-type]
    return out.getvalue()


def jpeg_image(size: tuple[int, int] = (400, 300), orientation: int | None = None) -> bytes:
    img = Image.new("RGB", size, (30, 30, 200))
    out = io.BytesIO()
    if orientation is None:
        img.save(out, format="JPEG")
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def hand_written_pdf(objects: Sequence[bytes]) -> bytes:
    """A PDF from raw object bodies (object 1 is the catalog), with a correct xref table."""
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


def deeply_nested_page_tree(depth: int) -> bytes:
    """A page tree ``depth`` /Pages nodes deep with one page at the bottom."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = 2 + level
        parent = b"/Parent %d 0 R " % (number - 1) if level else b""
        objects.append(b"<< /Type /Pages %s/Kids [%d 0 R] /Count 1 >>" % (parent, number + 1))
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] >>" % (depth + 1))
    return hand_written_pdf(objects)


def deeply_nested_arrays(depth: int) -> bytes:
    """One page whose resources hold an array nested ``depth`` levels deep."""
    return hand_written_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 4 0 R >>",
            b"<< /Deep " + b"[" * depth + b"]" * depth + b" >>",
        ]
    )


def huge_object_stream() -> bytes:
    """An object stream claiming two billion objects (a classic allocation bomb)."""
    return hand_written_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Type /ObjStm /N 2000000000 /First 10 /Length 20 >>\nstream\n1 0 2 5 abcdefghij\nendstream",
        ]
    )


@pytest.fixture(scope="session")
def simple_pdf() -> bytes:
    return build_pdf([[Line(72, 700, "Hello [sig|req|signer1]")], [Line(72, 700, "Page two")]])


@pytest.fixture(scope="session")
def bad_documents(simple_pdf: bytes) -> dict[str, bytes]:
    """Uploads that must be refused with DocumentError(FILE), by name."""
    rng = random.Random(1234)
    noise = bytes(rng.getrandbits(8) for _ in range(4096))
    return {
        "zero_bytes": b"",
        "random_bytes": noise,
        "random_bytes_with_pdf_header": b"%PDF-1.7\n" + noise + b"\n%%EOF\n",
        "truncated_half": simple_pdf[: len(simple_pdf) // 2],
        "truncated_end": simple_pdf[:-40],
        "encrypted_with_password": encrypted(simple_pdf, "open-sesame"),
        "encrypted_without_user_password": encrypted(simple_pdf, ""),
        "header_only": b"%PDF-1.4\n%%EOF\n",
        "deeply_nested_page_tree": deeply_nested_page_tree(5000),
        "word_document": b"PK\x03\x04" + noise,
        "broken_png": b"\x89PNG\r\n\x1a\n" + noise,
    }
