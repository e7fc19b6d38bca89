"""Malformed and hostile PDFs, built byte by byte: the bad-document corpus of the processing tests and of the
API tests draws on these."""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence

from pypdf import PdfReader, PdfWriter


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


def blank_pages(count: int) -> bytes:
    """A valid PDF of ``count`` empty letter pages."""
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), entries) + data + b"\nendstream"


def slow_path(segments: int = 1_000_000) -> bytes:
    """One page stroking a path of ``segments`` line pairs, deflated: 30 KB and a quarter of a gigabyte at a
    million segments, which pdfium takes about two minutes to draw (the time, not the memory, is the harm)."""
    content = zlib.compress(b"0 0 m " + b"612 792 l 0 0 l " * segments + b"S", 9)
    return hand_written_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            _stream(content, b"/Filter /FlateDecode"),
        ]
    )


def xobject_fan_out(levels: int = 9, fan: int = 10) -> bytes:
    """One page drawing a form XObject that draws the next one ``fan`` times, ``levels`` deep: about 2 KB that
    pdfium expands into ``fan ** (levels - 1)`` lines, taking minutes and gigabytes (9 levels: 100 million)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        _stream(b"/X Do"),
    ]
    for level in range(levels):
        number = 5 + level
        last = level == levels - 1
        body = b"0 0 m 612 792 l S" if last else b"/X Do " * fan
        resources = b"" if last else b"/Resources << /XObject << /X %d 0 R >> >>" % (number + 1)
        objects.append(_stream(body, b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] " + resources))
    return hand_written_pdf(objects)


def image_bomb(width: int, height: int, *, in_form: bool = False) -> bytes:
    """One page drawing a ``width`` x ``height`` RGB image of zeros, deflated (1000:1): a decompression bomb;
    ``in_form``: drawn by a form XObject the page draws."""
    zeros = zlib.compressobj(9)
    row = b"\x00" * (width * 3)
    data = b"".join(zeros.compress(row) for _ in range(height)) + zeros.flush()
    image = _stream(
        data,
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8"
        b" /Filter /FlateDecode" % (width, height),
    )
    draw = b"q 612 0 0 792 0 0 cm /Im Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im 5 0 R >> >>"
        b" /Contents 4 0 R >>",
    ]
    if in_form:
        resources = b"/Resources << /XObject << /Im 6 0 R >> >>"
        objects += [
            _stream(b"/Im Do"),
            _stream(draw, b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] " + resources),
            image,
        ]
    else:
        objects += [_stream(draw), image]
    return hand_written_pdf(objects)
