"""Malformed and hostile PDFs, built byte by byte: the bad-document corpus of the processing tests and of the
API tests draws on these."""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject, TextStringObject


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


def with_active_content(pdf: bytes) -> bytes:
    """``pdf`` carrying what a reader would run or open by itself: JavaScript on opening the document (an
    ``/OpenAction`` and a document-level script), a page ``/AA`` script, a link that launches a program, a form
    field whose keystrokes run a script, a bookmark running a script, an embedded file; and a harmless web link.
    """
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))

    def script(code: str) -> DictionaryObject:
        return DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(code)}
        )

    def link(rect: list[float], action: DictionaryObject) -> DictionaryObject:
        return DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject(FloatObject(v) for v in rect),
                NameObject("/Border"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(0)]),
                NameObject("/A"): action,
            }
        )

    root = writer.root_object
    root[NameObject("/OpenAction")] = writer._add_object(script("app.alert('OPENACTIONSCRIPT')"))
    writer.add_attachment("payload.exe", b"MZ EMBEDDEDPAYLOAD")
    document_script = writer._add_object(script("app.alert('DOCUMENTLEVELSCRIPT');"))
    names: Any = root["/Names"]
    names.get_object()[NameObject("/JavaScript")] = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("start"), document_script])}
    )
    page = writer.pages[0]
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): script("app.alert('PAGEOPENSCRIPT')")})
    launch = DictionaryObject(
        {
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("LAUNCHEDPROGRAM"),
        }
    )
    uri = DictionaryObject(
        {NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://example.com/terms")}
    )
    field = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/FT"): NameObject("/Tx"),
            NameObject("/T"): TextStringObject("comment"),
            NameObject("/Rect"): ArrayObject(FloatObject(v) for v in (300, 100, 500, 120)),
            NameObject("/AA"): DictionaryObject({NameObject("/K"): script("app.alert('KEYSTROKESCRIPT')")}),
        }
    )
    annots = ArrayObject(
        [
            writer._add_object(link([72, 600, 200, 620], launch)),
            writer._add_object(link([72, 560, 200, 580], uri)),
            writer._add_object(field),
        ]
    )
    page[NameObject("/Annots")] = annots
    root[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): ArrayObject([annots[2]])})
    bookmark = writer.add_outline_item(title="Start", page_number=0)
    bookmark_dict: Any = bookmark.get_object()
    bookmark_dict.pop(NameObject("/Dest"), None)
    bookmark_dict[NameObject("/A")] = script("app.alert('BOOKMARKSCRIPT')")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


#: What :func:`with_active_content` puts in the file's bytes (each must be gone after stripping).
ACTIVE_CONTENT_MARKS = (
    b"OPENACTIONSCRIPT",
    b"DOCUMENTLEVELSCRIPT",
    b"PAGEOPENSCRIPT",
    b"KEYSTROKESCRIPT",
    b"BOOKMARKSCRIPT",
    b"LAUNCHEDPROGRAM",
    b"EMBEDDEDPAYLOAD",
)


def active_content(pdf: bytes) -> list[str]:
    """What of :func:`with_active_content`'s list a PDF still has, read the way a PDF reader finds it."""
    reader = PdfReader(io.BytesIO(pdf))
    root: Any = reader.trailer["/Root"].get_object()
    found = [key for key in ("/OpenAction", "/AA") if key in root]
    names: Any = root.get("/Names")
    if names is not None:
        found += [key for key in ("/JavaScript", "/EmbeddedFiles") if key in names.get_object()]
    form: Any = root.get("/AcroForm")
    for ref in form.get_object().get("/Fields") or [] if form is not None else []:
        if "/AA" in ref.get_object():
            found.append("field /AA")
    for number, page in enumerate(reader.pages, start=1):
        if "/AA" in page:
            found.append(f"page {number} /AA")
        annots: Any = page.get("/Annots")
        for ref in annots or []:
            annot = ref.get_object()
            if "/AA" in annot:
                found.append(f"page {number} annotation /AA")
            action = annot.get("/A")
            if action is not None and action.get_object().get("/S") != "/URI":
                found.append(f"page {number} annotation {action.get_object().get('/S')}")
    outlines: Any = root.get("/Outlines")
    item: Any = outlines.get_object().get("/First") if outlines is not None else None
    while item is not None:
        if "/A" in item.get_object():
            found.append("bookmark /A")
        item = item.get_object().get("/Next")
    return found


def uri_links(pdf: bytes) -> list[str]:
    """The web addresses of the links on a PDF's pages."""
    links = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        annots: Any = page.get("/Annots")
        for ref in annots or []:
            action = ref.get_object().get("/A")
            if action is not None and action.get_object().get("/S") == "/URI":
                links.append(str(action.get_object()["/URI"]))
    return links
