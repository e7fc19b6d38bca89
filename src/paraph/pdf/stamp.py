"""Stamping: the values entered into a request's fields drawn onto its pages (revision 1 of the final
document, :mod:`paraph.pdf.final`).

Stamping draws text and marks in one reportlab overlay (one overlay page per touched page) and places each
overlay page on its page as a Form XObject painted after the page's own content, which is wrapped in
``q``/``Q``; signature images are embedded directly as image XObjects, once each. The page's content
streams are neither parsed nor rewritten (unlike pypdf's ``merge_page``), so stamping costs the same on a
light page and on a heavy one, and the original drawing is carried over byte for byte.

Geometry: a field box is in points from the top-left corner of the page as a viewer shows it (crop box,
page rotation applied). The overlay is drawn in that displayed space and mapped back to the page's own
coordinates by the form's matrix.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.annotations import Link
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from paraph.pdf.model import Field, FieldType

TEST_MODE_MARK = "TEST MODE \u2014 not legally binding"
MIN_FONT_SIZE = 7
MAX_FONT_SIZE = 49
#: Resolution cap for embedded signature images, in pixels per point of the box (4 = 288 DPI).
IMAGE_PX_PER_POINT = 4.0

_IMAGE_TYPES = frozenset({FieldType.SIGNATURE, FieldType.INITIALS})
_MARK_TYPES = frozenset({FieldType.CHECKBOX, FieldType.CHECKBOX_MERGE, FieldType.RADIO})
_TRUE_WORDS = frozenset({"true", "1", "yes", "on", "x", "checked"})
INK = (0.07, 0.09, 0.15)
_LINK_BLUE = (0.05, 0.27, 0.75)
_MARK_RED = (0.8, 0.05, 0.05)


@dataclass(slots=True)
class FilledField:
    """A field and what was entered into it.

    ``value``: a string for text, date, dropdown, merge and hyperlink fields; a bool for checkboxes and
    radio buttons; ``None`` for a field left empty. Signatures and initials come as ``image_png``
    (drawn, typed and rendered, or uploaded; see :mod:`paraph.pdf.signature_image`).
    """

    field: Field
    value: str | bool | None
    image_png: bytes | None = None


def stamp(pdf: bytes | Sequence[bytes], fields: list[FilledField], *, test_mode: bool) -> bytes:
    """Draw every entered value onto its page and return the whole PDF, flattened.

    With one PDF, every field is on it (``document_index`` is not looked at); with a list of PDFs they are
    joined in order and a field lands on page ``page`` of document ``document_index``. A test-mode
    document carries :data:`TEST_MODE_MARK` on every page. Raises ``ValueError`` for a field on a page
    the document does not have (a value must never be dropped silently).
    """
    writer, offsets = _open(pdf)
    by_page: dict[int, list[FilledField]] = {}
    for filled in fields:
        f = filled.field
        if offsets is not None and not 0 <= f.document_index < len(offsets) - 1:
            raise ValueError(f"field {f.api_id!r} is in document {f.document_index}, which was not given")
        index = (offsets[f.document_index] if offsets is not None else 0) + f.page - 1
        last = offsets[f.document_index + 1] if offsets is not None else len(writer.pages)
        if f.page < 1 or index >= last:
            raise ValueError(f"field {f.api_id!r} is on page {f.page}, which document {f.document_index} lacks")
        by_page.setdefault(index, []).append(filled)
    targets = range(len(writer.pages)) if test_mode else sorted(by_page)
    if targets:
        _apply_overlay(writer, targets, by_page, test_mode)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open(pdf: bytes | Sequence[bytes]) -> tuple[PdfWriter, list[int] | None]:
    if isinstance(pdf, bytes | bytearray):
        return PdfWriter(clone_from=PdfReader(io.BytesIO(pdf))), None
    writer = PdfWriter()
    offsets = [0]
    for one in pdf:
        writer.append(PdfReader(io.BytesIO(one)))
        offsets.append(len(writer.pages))
    return writer, offsets


@dataclass(slots=True, frozen=True)
class _Geometry:
    """A page as displayed (size) and the matrix from displayed space to the page's own space."""

    width: float
    height: float
    matrix: tuple[float, float, float, float, float, float]

    def to_page(self, x: float, y: float) -> tuple[float, float]:
        a, b, c, d, e, f = self.matrix
        return a * x + c * y + e, b * x + d * y + f


def _geometry(page: PageObject) -> _Geometry:
    box = page.cropbox  # the media box when the page has no crop box
    x0, y0 = min(float(box.left), float(box.right)), min(float(box.bottom), float(box.top))
    w, h = abs(float(box.width)), abs(float(box.height))
    rotation = page.rotation % 360  # inherited from the page tree when the page does not set it
    if rotation == 90:
        return _Geometry(h, w, (0, 1, -1, 0, x0 + w, y0))
    if rotation == 180:
        return _Geometry(w, h, (-1, 0, 0, -1, x0 + w, y0 + h))
    if rotation == 270:
        return _Geometry(h, w, (0, -1, 1, 0, x0, y0 + h))
    return _Geometry(w, h, (1, 0, 0, 1, x0, y0))


def _apply_overlay(
    writer: PdfWriter, targets: Sequence[int], by_page: dict[int, list[FilledField]], test_mode: bool
) -> None:
    geometries = {i: _geometry(writer.pages[i]) for i in targets}
    buf = io.BytesIO()
    canvas = Canvas(buf, invariant=True, pageCompression=1)
    images = _ImageCache(writer)
    placed: dict[int, list[_Placed]] = {}
    links: list[tuple[int, tuple[float, float, float, float], str]] = []
    for i in targets:
        geo = geometries[i]
        canvas.setPageSize((geo.width, geo.height))
        for filled in by_page.get(i, []):
            f = filled.field
            x, y, w, h = f.x, geo.height - f.y - f.height, f.width, f.height
            if w <= 0 or h <= 0:
                continue
            if f.type in _IMAGE_TYPES and filled.image_png:
                placed.setdefault(i, []).append(images.place(filled.image_png, x, y, w, h))
                continue
            url = _draw_field(canvas, filled, x, y, w, h)
            if url:
                links.append((i, _page_rect(geo, x, y, w, h), url))
        if test_mode:
            draw_test_mark(canvas, geo.width, geo.height)
        canvas.showPage()
    canvas.save()
    overlay = PdfReader(io.BytesIO(buf.getvalue()))
    wrap_open = writer._add_object(_stream(b"q\n"))
    wrap_close = writer._add_object(_stream(b"\nQ\n"))
    for overlay_page, i in zip(overlay.pages, targets, strict=True):
        form = _as_form(writer, overlay_page, geometries[i])
        _paint(writer, writer.pages[i], geometries[i], form, placed.get(i, []), (wrap_open, wrap_close))
    for i, rect, url in links:
        writer.add_annotation(i, Link(rect=rect, url=url))


def _page_rect(geo: _Geometry, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    corners = [geo.to_page(px, py) for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h))]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return min(xs), min(ys), max(xs), max(ys)


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


def _as_form(writer: PdfWriter, overlay_page: PageObject, geo: _Geometry) -> IndirectObject:
    """Copy an overlay page into ``writer`` as a Form XObject drawn in the page's displayed space."""
    content = overlay_page["/Contents"].get_object()
    if not isinstance(content, StreamObject):  # reportlab writes one stream per page
        raise TypeError("unexpected overlay content")
    form = content.clone(writer)
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(FloatObject(v) for v in (0, 0, geo.width, geo.height))
    form[NameObject("/Matrix")] = ArrayObject(FloatObject(v) for v in geo.matrix)
    form[NameObject("/Resources")] = overlay_page["/Resources"].clone(writer)
    assert form.indirect_reference is not None
    return form.indirect_reference


def _paint(
    writer: PdfWriter,
    page: PageObject,
    geo: _Geometry,
    form: IndirectObject,
    images: list[_Placed],
    wrappers: tuple[IndirectObject, IndirectObject],
) -> None:
    """Paint the images and the overlay form over the page's own content, itself wrapped in ``q``/``Q``."""
    resources = DictionaryObject(_resources(page))  # a page of its own: shared dictionaries stay untouched
    found = resources.get("/XObject")
    xobjects = DictionaryObject(found.get_object()) if found is not None else DictionaryObject()

    def name_for(ref: IndirectObject, stem: str) -> str:
        name, n = f"/{stem}", 0
        while name in xobjects:
            n += 1
            name = f"/{stem}{n}"
        xobjects[NameObject(name)] = ref
        return name

    ops = []
    if images:
        ops.append(f"q {' '.join(_num(v) for v in geo.matrix)} cm")
        for image in images:
            x, y, w, h = (_num(v) for v in image.rect)
            ops.append(f"q {w} 0 0 {h} {x} {y} cm {name_for(image.xobject, 'ParaphImage')} Do Q")
        ops.append("Q")
    ops.append(f"q {name_for(form, 'ParaphStamp')} Do Q\n")
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources

    existing = page.get("/Contents")
    contents = ArrayObject()
    if existing is not None:
        resolved = existing.get_object()
        parts = list(resolved) if isinstance(resolved, ArrayObject) else [existing]
        contents.extend([wrappers[0], *parts, wrappers[1]])
    contents.append(writer._add_object(_stream("\n".join(ops).encode())))
    page[NameObject("/Contents")] = contents


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _resources(page: DictionaryObject) -> DictionaryObject:
    node: DictionaryObject | None = page
    while node is not None:
        found = node.get("/Resources")
        if found is not None:
            resolved = found.get_object()
            return resolved if isinstance(resolved, DictionaryObject) else DictionaryObject()
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return DictionaryObject()


@dataclass(slots=True, frozen=True)
class _Placed:
    xobject: IndirectObject
    rect: tuple[float, float, float, float]  # x, y, width, height in the page's displayed space


class _ImageCache:
    """Signature images as PDF image XObjects, each embedded once however many boxes show it.

    The image is embedded at no more than :data:`IMAGE_PX_PER_POINT` pixels per point of the box it is
    drawn in (288 DPI at 4): a 1200-pixel-wide drawing in a 150-point box need not carry all its pixels.
    This is done here rather than by reportlab, whose image path re-hashes and ASCII85-encodes the pixels
    in pure Python on every use and was most of the stamping time.
    """

    def __init__(self, writer: PdfWriter) -> None:
        self._writer = writer
        self._sources: dict[bytes, Image.Image] = {}
        self._embedded: dict[tuple[bytes, tuple[int, int]], IndirectObject] = {}

    def place(self, png: bytes, x: float, y: float, w: float, h: float) -> _Placed:
        key = png  # bytes cache their hash: a PNG repeated on every page is hashed once, not per box
        source = self._sources.get(key)
        if source is None:
            source = self._sources[key] = _decode(png)
        iw, ih = source.size
        scale = min(w / iw, h / ih)
        dw, dh = iw * scale, ih * scale
        factor = min(1.0, IMAGE_PX_PER_POINT * scale)
        size = (max(1, round(iw * factor)), max(1, round(ih * factor)))
        ref = self._embedded.get((key, size))
        if ref is None:
            ref = self._embedded[(key, size)] = self._embed(source, size)
        return _Placed(ref, (x + (w - dw) / 2, y + (h - dh) / 2, dw, dh))

    def _embed(self, source: Image.Image, size: tuple[int, int]) -> IndirectObject:
        image = source
        if source.size != size:
            image = source.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
        smask = None
        if image.mode == "RGBA":
            alpha = image.getchannel("A")
            if alpha.getextrema() != (255, 255):
                smask = self._add(alpha, "/DeviceGray")
            # Composite onto white so a viewer that ignores soft masks still shows ink on paper.
            flat = Image.new("RGB", size, (255, 255, 255))
            flat.paste(image, mask=alpha)
            image = flat
        return self._add(image, "/DeviceRGB", smask)

    def _add(self, image: Image.Image, colour_space: str, smask: IndirectObject | None = None) -> IndirectObject:
        # Plain zlib over the pixels: measured smaller and faster than PNG row filters (predictor 15) on
        # anti-aliased strokes, whose edges defeat the filters.
        stream = _stream(image.tobytes())
        stream[NameObject("/Type")] = NameObject("/XObject")
        stream[NameObject("/Subtype")] = NameObject("/Image")
        stream[NameObject("/Width")] = NumberObject(image.width)
        stream[NameObject("/Height")] = NumberObject(image.height)
        stream[NameObject("/ColorSpace")] = NameObject(colour_space)
        stream[NameObject("/BitsPerComponent")] = NumberObject(8)
        if smask is not None:
            stream[NameObject("/SMask")] = smask
        return self._writer._add_object(stream.flate_encode(level=6))


def _decode(png: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(png)) as opened:
            opened.load()
            has_alpha = opened.mode in ("RGBA", "LA", "PA") or "transparency" in opened.info
            return opened.convert("RGBA" if has_alpha else "RGB")
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError("a signature image is not a readable PNG or JPEG") from exc


def _draw_field(canvas: Canvas, filled: FilledField, x: float, y: float, w: float, h: float) -> str | None:
    """Draw one non-image value in its box; return a URL when the field is a hyperlink to annotate."""
    f = filled.field
    if f.type in _MARK_TYPES:
        if _is_checked(filled.value):
            (_draw_dot if f.type == FieldType.RADIO else _draw_cross)(canvas, x, y, w, h)
        return None
    if f.type == FieldType.HYPERLINK:
        text = filled.value if isinstance(filled.value, str) and filled.value else f.content or f.content_url
        if text:
            _draw_text(canvas, text, f, x, y, w, h, color=_LINK_BLUE)
        return f.content_url or None
    if isinstance(filled.value, str) and filled.value.strip():
        # A signature given as text only (no image) is still written, never dropped.
        _draw_text(canvas, filled.value, f, x, y, w, h, color=INK)
    return None


def _is_checked(value: str | bool | None) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_WORDS
    return bool(value)


def _draw_cross(canvas: Canvas, x: float, y: float, w: float, h: float) -> None:
    side = min(w, h)
    inset = side * 0.2
    left, bottom = x + (w - side) / 2 + inset, y + (h - side) / 2 + inset
    span = side - 2 * inset
    canvas.setStrokeColorRGB(*INK)
    canvas.setLineWidth(max(0.75, side * 0.1))
    canvas.setLineCap(1)
    canvas.line(left, bottom, left + span, bottom + span)
    canvas.line(left, bottom + span, left + span, bottom)


def _draw_dot(canvas: Canvas, x: float, y: float, w: float, h: float) -> None:
    canvas.setFillColorRGB(*INK)
    canvas.circle(x + w / 2, y + h / 2, min(w, h) * 0.3, stroke=0, fill=1)


def _draw_text(
    canvas: Canvas,
    text: str,
    f: Field,
    x: float,
    y: float,
    w: float,
    h: float,
    *,
    color: tuple[float, float, float],
) -> None:
    font, text = font_for(text, _FAMILIES.get((f.font_family or "").lower(), "Helvetica"))
    pad = 1.0 if w > 8 else 0.0
    size, lines = _fit(text, font, min(max(f.font_size, MIN_FONT_SIZE), MAX_FONT_SIZE), w - 2 * pad, h)
    ascent, descent = (v * size / 1000 for v in _ascent_descent(font))
    leading = size * 1.15
    block = ascent - descent + (len(lines) - 1) * leading
    baseline = y + h - max(0.0, (h - block) / 2) - ascent
    canvas.setFillColorRGB(*color)
    canvas.setFont(font, size)
    for line in lines:
        canvas.drawString(x + pad, baseline, line)
        baseline -= leading


def _fit(text: str, font: str, start: int, width: float, height: float) -> tuple[int, list[str]]:
    """The largest size from ``start`` down to 7 at which the text fits the box, and its lines.

    One line is preferred; wrapping (at spaces, inside a word only when the word alone is too wide) is used
    when the box is tall enough. At 7 points a text that still does not fit is wrapped to the box width
    and runs below it: a value that was entered is never cut off.
    """
    paragraphs = [" ".join(p.split()) for p in text.splitlines()] or [""]
    for size in range(start, MIN_FONT_SIZE - 1, -1):
        if len(paragraphs) == 1 and pdfmetrics.stringWidth(paragraphs[0], font, size) <= width:
            if size <= height + 0.5:
                return size, paragraphs
        lines = [line for p in paragraphs for line in wrap(p, font, size, width)]
        if size + (len(lines) - 1) * size * 1.15 <= height + 0.5:
            return size, lines
    return MIN_FONT_SIZE, [line for p in paragraphs for line in wrap(p, font, MIN_FONT_SIZE, width)]


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if pdfmetrics.stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for piece in _split_word(word, font, size, width):
            if current:
                lines.append(current)
            current = piece
    lines.append(current)
    return lines


def _split_word(word: str, font: str, size: float, width: float) -> Iterator[str]:
    piece = ""
    for ch in word:
        if piece and pdfmetrics.stringWidth(piece + ch, font, size) > width:
            yield piece
            piece = ""
        piece += ch
    yield piece


def draw_test_mark(canvas: Canvas, width: float, height: float) -> None:
    """A red header line and a faint diagonal band, both reading :data:`TEST_MODE_MARK`."""
    canvas.saveState()
    canvas.setFillColorRGB(*_MARK_RED)
    full_width = pdfmetrics.stringWidth(TEST_MODE_MARK, "Helvetica-Bold", 9)
    header = min(9.0, max(4.0, 9.0 * (width - 12) / full_width))  # shrinks on a very narrow page
    canvas.setFont("Helvetica-Bold", header)
    canvas.drawCentredString(width / 2, height - header - 3, TEST_MODE_MARK)
    diagonal = math.hypot(width, height)
    size = 0.7 * diagonal * 1000 / pdfmetrics.stringWidth(TEST_MODE_MARK, "Helvetica-Bold", 1000)
    canvas.setFillAlpha(0.14)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(math.degrees(math.atan2(height, width)))
    canvas.setFont("Helvetica-Bold", size)
    canvas.drawCentredString(0, -size * 0.35, TEST_MODE_MARK)
    canvas.restoreState()


# -------------------------------------------------------------------------------------------------- fonts

#: Dropbox Sign's ``font_family`` values mapped onto the PDF standard fonts (no embedding needed).
_FAMILIES = {
    "courier": "Courier",
    "robotomono": "Courier",
    "times": "Times-Roman",
    "georgia": "Times-Roman",
    "cambria": "Times-Roman",
    "notoserif": "Times-Roman",
}
#: For text the standard fonts cannot encode (outside Windows-1252): DejaVu, when the system has it, is
#: embedded as a subset. Without it such characters are drawn as "?".
_UNICODE_FONTS = {
    "Helvetica": "DejaVuSans.ttf",
    "Helvetica-Bold": "DejaVuSans-Bold.ttf",
    "Times-Roman": "DejaVuSerif.ttf",
    "Courier": "DejaVuSansMono.ttf",
}
_UNICODE_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


def font_for(text: str, base: str) -> tuple[str, str]:
    """The font to draw ``text`` with, and the text as it will be drawn (control characters removed)."""
    text = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text)
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        unicode_font = _unicode_font(base)
        if unicode_font is not None:
            return unicode_font, text
        return base, text.encode("cp1252", "replace").decode("cp1252")
    return base, text


@functools.cache
def _unicode_font(base: str) -> str | None:
    file_name = _UNICODE_FONTS.get(base)
    for directory in _UNICODE_FONT_DIRS:
        if file_name and (directory / file_name).exists():
            name = f"Paraph-{file_name.removesuffix('.ttf')}"
            pdfmetrics.registerFont(TTFont(name, str(directory / file_name)))
            return name
    return None


@functools.cache
def _ascent_descent(font: str) -> tuple[float, float]:
    ascent, descent = pdfmetrics.getAscentDescent(font, 1000)
    return float(ascent), float(descent)
