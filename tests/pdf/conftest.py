"""Documents generated on the spot: reportlab PDFs with text tags at known places, images, a bad corpus."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.pdfbase.pdfmetrics import getAscentDescent, stringWidth
from reportlab.pdfgen import canvas

from tests.pdfs import deeply_nested_page_tree, encrypted

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


def expected_box(line: Line, fragment: str, page_height: float = letter[1]) -> tuple[float, float, float, float]:
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
