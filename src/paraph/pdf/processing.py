"""Turn one uploaded document into what a signature request needs: a PDF, page sizes, fields, page images.

Everything here is CPU-bound C work (pdfium, deflate) on untrusted bytes. Callers run it in a worker
process with a time limit, never in the web server: pdfium is C code and a pathological file could be slow
or, in the worst case, take the process down. Cheap guards come first (magic bytes, end-of-file marker,
encryption, page count before any page is loaded or rendered, a pixel budget per page and per document, see
:class:`PixelBudget`), so the common bad uploads fail fast with a DocumentError; what is left (a page that
takes minutes or gigabytes) is the process pool's to stop (time and memory limits, ADR 0014).

pdfium is not thread-safe: all pdfium calls stay on the calling thread. PNG compression (ISA-L's deflate,
which releases the GIL) runs on a helper thread, overlapping the rendering of later pages.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import logging
import math
import re
import struct
import sys
import time
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from isal import isal_zlib
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from paraph.pdf.fields import FieldsError
from paraph.pdf.model import (
    DocumentError,
    DocumentErrorKind,
    Field,
    FieldType,
    PageInfo,
    ProcessedDocument,
)
from paraph.pdf.sanitize import page_has_active_content, strip_active_content
from paraph.pdf.sniff import sniff, to_pdf
from paraph.pdf.texttags import FoundTag, PageGeometry, build_fields, field_to_api, find_page_tags

#: Page images never exceed this many pixels, whatever the page size (a 200-inch page must not allocate
#: gigabytes); the scale is lowered for such pages instead.
MAX_PAGE_PIXELS = 12_000_000
#: Deflate level for page images, compressed by ISA-L (levels 0-3): on rendered documents (mostly white, text
#: anti-aliasing) its level 1 measured 7x faster than zlib's level 1 and 15% smaller; zlib took longer than
#: rendering the pages, ISA-L a sixth of it.
PNG_COMPRESS_LEVEL = 1
#: Page images waiting for compression before rendering pauses (bounds memory to a few bitmaps).
_MAX_PENDING_IMAGES = 4
#: The low-resolution rendering that decides whether a page image can be grey, relative to the image.
_COLOUR_PROBE_FRACTION = 1 / 3
#: Readers accept an end-of-file marker within the last KiB; trailing NULs and whitespace are common.
_EOF_WINDOW = 2048
_HIDE_PADDING = 0.5  # points added around a tag's extent when covering it
_DEFAULT_DETECT_MAX_PAGES = 1000


@dataclass(frozen=True, slots=True)
class PixelBudget:
    """What rendering a document may cost, in pixels, checked on each page before it is rendered.

    ``page``: the pixels of the images one page draws (their decoded size, form XObjects included): a
    compressed image of a few kilobytes can declare billions of pixels. ``document``: those of every page
    plus the page images themselves, added up: bounds the work one document makes. Past either the
    document is refused (DocumentError FILE). Settings ``PARAPH_PDF_MAX_PAGE_MEGAPIXELS`` and
    ``PARAPH_PDF_MAX_DOCUMENT_MEGAPIXELS``.
    """

    page: int = 100_000_000
    document: int = 5_000_000_000


def _drawn_image_pixels(objects: Iterator[Any], limit: int) -> int:
    """Pixels of the images among ``objects`` and inside their form XObjects; stops counting past ``limit``."""
    total = 0
    stack = [objects]
    width, height = ctypes.c_uint(), ctypes.c_uint()
    while stack and total <= limit:
        obj = next(stack[-1], None)
        if obj is None:
            stack.pop()
            continue
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            if pdfium_c.FPDFImageObj_GetImagePixelSize(obj, ctypes.byref(width), ctypes.byref(height)):
                total += width.value * height.value
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            stack.append(_form_objects(obj))
    return total


def _page_objects(page: pdfium.PdfPage) -> Iterator[Any]:
    raw = page.raw
    for index in range(pdfium_c.FPDFPage_CountObjects(raw)):
        yield pdfium_c.FPDFPage_GetObject(raw, index)


def _form_objects(form: Any) -> Iterator[Any]:
    for index in range(pdfium_c.FPDFFormObj_CountObjects(form)):
        yield pdfium_c.FPDFFormObj_GetObject(form, index)


class _PixelCount:
    """A document's pixels so far, against its :class:`PixelBudget`."""

    def __init__(self, budget: PixelBudget, document_index: int | None) -> None:
        self.budget = budget
        self.document_index = document_index
        self.total = 0

    def add(self, page: pdfium.PdfPage, number: int, scale: float) -> None:
        """Count page ``number`` (1-based) drawn at ``scale``; DocumentError past the budget."""
        drawn = _drawn_image_pixels(_page_objects(page), self.budget.page)
        if drawn > self.budget.page:
            raise DocumentError(
                DocumentErrorKind.FILE,
                f"Page {number} of the PDF draws images of more than {_megapixels(self.budget.page)} megapixels,"
                " the limit per page; reduce their resolution and upload it again.",
                document_index=self.document_index,
            )
        width, height = _image_size(page, scale)
        self.total += drawn + width * height
        if self.total > self.budget.document:
            raise DocumentError(
                DocumentErrorKind.FILE,
                f"The PDF's pages and images add up to more than {_megapixels(self.budget.document)} megapixels,"
                " the limit per document; split it or reduce the resolution of its images.",
                document_index=self.document_index,
            )


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:,.0f}"


# ------------------------------------------------------------------------------------------- opening


def _check_complete(data: bytes) -> None:
    """A PDF must end with ``%%EOF`` (pdfium would otherwise "repair" a truncated upload silently)."""
    tail = data.rstrip(b"\x00\t\n\x0c\r ")[-_EOF_WINDOW:]
    if b"%%EOF" not in tail:
        raise DocumentError(
            DocumentErrorKind.FILE,
            "The PDF is truncated or damaged (it has no end-of-file marker); upload the complete file.",
        )


def _open(pdf_bytes: bytes) -> pdfium.PdfDocument:
    """Open with pdfium, mapping every failure to DocumentError(FILE); refuse encrypted PDFs."""
    try:
        pdf = pdfium.PdfDocument(pdf_bytes)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            message = "The PDF is password-protected; remove the password and upload it again."
        elif code == pdfium_c.FPDF_ERR_SUCCESS:
            message = "The PDF has no pages."
        else:
            message = "The file could not be read as a PDF (it is damaged or not a PDF)."
        raise DocumentError(DocumentErrorKind.FILE, message) from exc
    if pdfium_c.FPDF_GetSecurityHandlerRevision(pdf) != -1:
        pdf.close()
        raise DocumentError(
            DocumentErrorKind.FILE,
            "The PDF is encrypted; remove its password protection and upload it again.",
        )
    return pdf


@contextmanager
def _opened(data: bytes, *, max_pages: int, document_index: int | None) -> Iterator[tuple[bytes, pdfium.PdfDocument]]:
    """(PDF bytes, open document) for an upload, with every file-level check done; closed on exit."""
    try:
        if not data:
            raise DocumentError(DocumentErrorKind.FILE, "The file is empty.")
        if sniff(data) == "pdf":
            _check_complete(data)
        pdf_bytes = to_pdf(data)
        pdf = _open(pdf_bytes)
    except DocumentError as exc:
        exc.document_index = document_index
        raise
    try:
        page_count = len(pdf)
        if page_count < 1:
            raise DocumentError(DocumentErrorKind.FILE, "The PDF has no pages.", document_index=document_index)
        if page_count > max_pages:
            raise DocumentError(
                DocumentErrorKind.FILE,
                f"The document has {page_count} pages; the limit is {max_pages} pages per document.",
                document_index=document_index,
            )
        yield pdf_bytes, pdf
    finally:
        pdf.close()


def _load_page(pdf: pdfium.PdfDocument, index: int, document_index: int | None) -> pdfium.PdfPage:
    try:
        page = pdf[index]
    except pdfium.PdfiumError as exc:
        raise DocumentError(
            DocumentErrorKind.FILE,
            f"Page {index + 1} of the PDF cannot be read.",
            document_index=document_index,
        ) from exc
    width, height = page.get_size()
    if not (width > 0 and height > 0 and math.isfinite(width) and math.isfinite(height)):
        page.close()
        raise DocumentError(
            DocumentErrorKind.FILE, f"Page {index + 1} of the PDF has no area.", document_index=document_index
        )
    return page


# ------------------------------------------------------------------------------------------ page images


def _png_chunk(tag: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))


def _png(rows: memoryview, width: int, height: int, grey: bool) -> bytes:
    """PNG from scanlines that already carry their filter byte (0, "none"): 8-bit grey or RGB.

    Filter "none" and ISA-L deflate (a standard zlib stream) on buffers pdfium rendered into directly:
    many times faster than Pillow's PNG writer (whose adaptive filtering dominates its cost), for files of
    about the same size.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 0 if grey else 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", isal_zlib.compress(rows, PNG_COMPRESS_LEVEL))
        + _png_chunk(b"IEND", b"")
    )


_Buffer = ctypes.Array[ctypes.c_ubyte]
_RENDER_FLAGS = pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_REVERSE_BYTE_ORDER


@dataclass(frozen=True, slots=True)
class _Raster:
    """A page rendered as PNG scanlines: ``height`` rows of ``stride`` bytes, each starting with its filter
    byte (0) followed by the pixels (1 byte grey or 3 bytes RGB)."""

    buffer: _Buffer
    width: int
    height: int
    grey: bool

    @property
    def stride(self) -> int:
        return (1 if self.grey else 3) * self.width + 1

    def png(self) -> bytes:
        return _png(memoryview(self.buffer)[: self.stride * self.height], self.width, self.height, self.grey)


def _image_size(page: pdfium.PdfPage, scale: float) -> tuple[int, int]:
    page_w, page_h = page.get_size()
    scale = min(scale, math.sqrt(MAX_PAGE_PIXELS / (page_w * page_h)))
    return max(1, round(page_w * scale)), max(1, round(page_h * scale))


def _has_colour(page: pdfium.PdfPage, scale: float) -> bool:
    """Whether any rendered pixel is not grey, judged on a rendering at a third of the page image's
    resolution: anti-aliasing blends even a one-pixel coloured mark into a visibly tinted pixel there.
    Most documents are black on white, and a grey page image is a third of the pixels to compress."""
    width, height = _image_size(page, scale * _COLOUR_PROBE_FRACTION)
    bitmap = pdfium.PdfBitmap.new_native(width, height, pdfium_c.FPDFBitmap_BGR, rev_byteorder=True)
    try:
        bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
        pdfium_c.FPDF_RenderPageBitmap(bitmap, page, 0, 0, width, height, 0, _RENDER_FLAGS)
        pixels = bytes(memoryview(bitmap.buffer).cast("B")[: bitmap.stride * height])
    finally:
        bitmap.close()
    if bitmap.stride != 3 * width:  # rows padded: drop the padding first
        pixels = b"".join(pixels[row * bitmap.stride : row * bitmap.stride + 3 * width] for row in range(height))
    red = pixels[0::3]
    return red != pixels[1::3] or red != pixels[2::3]


def _render(page: pdfium.PdfPage, width: int, height: int, grey: bool, buffer: _Buffer | None = None) -> _Raster:
    """Render a page straight into PNG scanlines (a zero filter byte before each row), grey or RGB.

    A buffer from an earlier page of the same size and kind may be passed in: pdfium overwrites every
    pixel and never touches the filter bytes, and reusing memory saves faulting in megabytes of fresh
    pages for every page (as costly as rendering a text page).
    """
    raster_stride = (1 if grey else 3) * width + 1
    if buffer is None:
        buffer = (ctypes.c_ubyte * (raster_stride * height + 1))()
    pixels = (ctypes.c_ubyte * (raster_stride * height)).from_buffer(buffer, 1)
    bitmap = pdfium.PdfBitmap.new_native(
        width,
        height,
        pdfium_c.FPDFBitmap_Gray if grey else pdfium_c.FPDFBitmap_BGR,
        rev_byteorder=not grey,
        buffer=pixels,
        stride=raster_stride,
    )
    try:
        bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
        # FPDF_REVERSE_BYTE_ORDER only means something for colour: on a grey bitmap it garbles the output.
        flags = pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_GRAYSCALE if grey else _RENDER_FLAGS
        pdfium_c.FPDF_RenderPageBitmap(bitmap, page, 0, 0, width, height, 0, flags)
    finally:
        bitmap.close()
    # The byte after row N is row N+1's filter byte; pdfium writes only pixels, but make sure.
    filter_bytes = memoryview(buffer).cast("B")[0 : raster_stride * height : raster_stride]
    if filter_bytes.tobytes().count(0) != height:
        for row in range(height):
            buffer[row * raster_stride] = 0
    return _Raster(buffer, width, height, grey)


def _render_png(page: pdfium.PdfPage, scale: float) -> bytes:
    width, height = _image_size(page, scale)
    return _render(page, width, height, not _has_colour(page, scale)).png()


def _png_job(raster: _Raster) -> tuple[bytes, _Raster]:
    return raster.png(), raster


class _PageImages:
    """Render pages on the calling thread (pdfium) while a helper thread compresses earlier ones (ISA-L
    releases the GIL). Page order is kept; at most a few rasters wait, and their buffers are reused for
    later pages of the same size."""

    def __init__(self, scale: float) -> None:
        self._scale = scale
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paraph-png")
        self._pending: deque[Future[tuple[bytes, _Raster]]] = deque()
        self._done: list[bytes] = []
        self._free: dict[tuple[int, int, bool], list[_Buffer]] = {}

    def add(self, page: pdfium.PdfPage) -> None:
        self._collect(wait=len(self._pending) >= _MAX_PENDING_IMAGES)
        width, height = _image_size(page, self._scale)
        grey = not _has_colour(page, self._scale)
        free = self._free.get((width, height, grey))
        raster = _render(page, width, height, grey, free.pop() if free else None)
        self._pending.append(self._pool.submit(_png_job, raster))

    def _collect(self, *, wait: bool) -> None:
        while self._pending and (wait or self._pending[0].done()):
            png, raster = self._pending.popleft().result()
            self._done.append(png)
            self._free.setdefault((raster.width, raster.height, raster.grey), []).append(raster.buffer)
            wait = False

    def results(self) -> list[bytes]:
        while self._pending:
            self._collect(wait=True)
        return self._done

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def render_page_png(
    pdf_bytes: bytes, page: int, render_scale: float = 1.5, pixel_budget: PixelBudget = PixelBudget()
) -> bytes:
    """PNG of one page (1-based) of a PDF, as :func:`process_document` renders it."""
    with _opened(pdf_bytes, max_pages=10**9, document_index=None) as (_, pdf):
        if not 1 <= page <= len(pdf):
            raise ValueError(f"page {page} is not in 1..{len(pdf)}")
        loaded = _load_page(pdf, page - 1, None)
        try:
            _PixelCount(pixel_budget, None).add(loaded, page, render_scale)
            return _render_png(loaded, render_scale)
        finally:
            loaded.close()


def render_pages(
    pdf_bytes: bytes, first: int, count: int, render_scale: float = 1.5, pixel_budget: PixelBudget = PixelBudget()
) -> list[bytes]:
    """PNGs of ``count`` pages from page ``first`` (1-based), exactly as :func:`process_document` renders
    them: a long document's pages are rendered by several processes at once, each taking a range (the
    document's pixel budget was checked by :func:`process_document`; each page's is checked again here)."""
    with _opened(pdf_bytes, max_pages=10**9, document_index=None) as (_, pdf):
        if not (1 <= first and count >= 0 and first + count - 1 <= len(pdf)):
            raise ValueError(f"pages {first}..{first + count - 1} are not in 1..{len(pdf)}")
        renderer = _PageImages(render_scale)
        pixels = _PixelCount(PixelBudget(pixel_budget.page, document=sys.maxsize), None)
        try:
            for index in range(first - 1, first - 1 + count):
                page = _load_page(pdf, index, None)
                try:
                    pixels.add(page, index + 1, render_scale)
                    renderer.add(page)
                finally:
                    page.close()
            return renderer.results()
        finally:
            renderer.close()


# ---------------------------------------------------------------------------------------------- hiding


def _cover(page: pdfium.PdfPage, tags: list[FoundTag]) -> None:
    """Paint a white rectangle over each tag. The tag text stays underneath (as with white-on-white)."""
    for tag in tags:
        left, bottom, right, top = tag.pdf_rect
        rect = pdfium_c.FPDFPageObj_CreateNewRect(
            left - _HIDE_PADDING,
            bottom - _HIDE_PADDING,
            right - left + 2 * _HIDE_PADDING,
            top - bottom + 2 * _HIDE_PADDING,
        )
        pdfium_c.FPDFPageObj_SetFillColor(rect, 255, 255, 255, 255)
        pdfium_c.FPDFPath_SetDrawMode(rect, pdfium_c.FPDF_FILLMODE_WINDING, False)
        pdfium_c.FPDFPage_InsertObject(page, rect)  # the page owns the object from here on
    if not pdfium_c.FPDFPage_GenerateContent(page):
        raise DocumentError(DocumentErrorKind.FILE, "Text tags could not be hidden on this PDF.")


def _save(pdf: pdfium.PdfDocument) -> bytes:
    out = io.BytesIO()
    try:
        pdf.save(out)
    except pdfium.PdfiumError as exc:
        raise DocumentError(DocumentErrorKind.FILE, "The PDF could not be rewritten.") from exc
    return out.getvalue()


# ------------------------------------------------------------------------------------------ processing


def process_document(
    data: bytes,
    *,
    document_index: int,
    signer_count: int,
    use_text_tags: bool,
    hide_text_tags: bool,
    ignore_text_tags_errors: bool,
    max_pages: int,
    render_scale: float = 1.5,
    render_limit: int | None = None,
    pixel_budget: PixelBudget = PixelBudget(),
) -> ProcessedDocument:
    """Process one upload (PDF, PNG or JPEG): check it, read its text tags, hide them, render its pages, strip
    its active content (:mod:`paraph.pdf.sanitize`; ``sha256`` stays the upload's).

    Raises DocumentError: FILE for anything unreadable (empty, unknown format, corrupt, truncated,
    encrypted, no pages, more than ``max_pages`` pages, past ``pixel_budget``), TEXT_TAG for the first bad tag
    in page order unless ``ignore_text_tags_errors`` (then bad tags are skipped). Run it in a worker process with a time
    limit (see the module docstring).

    Page images are PNG at ``render_scale`` (1.5 = 108 DPI, sharp on the signing page at 100% zoom),
    grey when the page has no colour, ISA-L deflate level 1, no PNG filter. bench/bench_documents.py measured a
    50-page, 200-tag PDF at ~107 ms against ~91 ms for bare pdfium text extraction + rendering (1.2x);
    Pillow's PNG writer alone would have added ~800 ms.

    ``render_limit``: render page images only when the document has at most this many pages (``None``:
    always); otherwise ``page_images`` is empty and the caller renders the pages of the returned PDF with
    :func:`render_pages`, several processes at once.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    with _opened(data, max_pages=max_pages, document_index=document_index) as (pdf_bytes, pdf):
        try:
            page_count = len(pdf)
            # Pass 1 (text tags only): every tag, checked before any page is rendered.
            tags_by_page: list[list[FoundTag]] = [[] for _ in range(page_count)]
            if use_text_tags:
                for index in range(page_count):
                    page = _load_page(pdf, index, document_index)
                    try:
                        tags_by_page[index] = find_page_tags(page, index + 1)
                    finally:
                        page.close()
            all_tags = [tag for page_tags in tags_by_page for tag in page_tags]
            built = build_fields(all_tags, document_index=document_index, signer_count=signer_count)
            if built.problems and not ignore_text_tags_errors:
                raise DocumentError(DocumentErrorKind.TEXT_TAG, built.problems[0].message)

            # Pass 2: hide tags, render. One page is loaded at a time, whatever the page count.
            hide = use_text_tags and hide_text_tags and bool(all_tags)
            sizes: list[PageInfo] = []
            render = render_limit is None or page_count <= render_limit
            renderer = _PageImages(render_scale) if render else None
            pixels = _PixelCount(pixel_budget, document_index)
            active = False
            try:
                for index in range(page_count):
                    page = _load_page(pdf, index, document_index)
                    try:
                        pixels.add(page, index + 1, render_scale)  # counted whether rendered here or later
                        active = active or page_has_active_content(page)
                        sizes.append(PageGeometry.of(page).info)
                        if hide and tags_by_page[index]:
                            _cover(page, tags_by_page[index])
                        if renderer is not None:
                            renderer.add(page)
                    finally:
                        page.close()
                images = renderer.results() if renderer is not None else []
            finally:
                if renderer is not None:
                    renderer.close()
            output = _save(pdf) if hide else pdf_bytes
        except DocumentError as exc:
            exc.document_index = document_index
            raise
    # Scripts, launch actions, embedded files: never served back (the pages were checked above, in pdfium).
    stripped = strip_active_content(output, pages_checked=not active)
    if stripped is not None:
        output = stripped[0]
    return ProcessedDocument(
        pdf=output,
        pages=sizes,
        fields=built.fields,
        groups=built.groups,
        page_images=images,
        sha256=sha256,
    )


def warm_up() -> None:
    """Make a fresh process ready for documents: pdfium's fonts and caches loaded by processing a small tagged
    page. The PDF pool runs it as each process starts (``paraph.pdf.stored.warm_up``, whose imports load the
    PDF modules).
    Best effort: a failure here is logged and the process serves documents all the same (an initializer
    that raised would break the whole pool, and every document would become a file_error)."""
    try:
        _warm_up()
    except Exception:
        logging.getLogger(__name__).exception("warming up a PDF process failed; it starts cold")


def _warm_up() -> None:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=letter)
    sheet.setFont("Helvetica", 11)
    sheet.drawString(72, 700, "Paraph [sig|req|signer1]")
    sheet.showPage()
    sheet.save()
    process_document(
        out.getvalue(),
        document_index=0,
        signer_count=1,
        use_text_tags=True,
        hide_text_tags=True,
        ignore_text_tags_errors=False,
        max_pages=1,
    )


# ----------------------------------------------------------------------------------- signature page

_SIG_MARGIN = 54.0
_SIG_TITLE_GAP = 48.0
_SIG_BOX_WIDTH = 234.0
_SIG_BLOCK = 96.0  # label + box + gap, per signer, at full size
_SIG_MIN_SCALE = 0.4


def append_signature_page(
    pdf: bytes, signer_names: list[str], document_index: int
) -> tuple[bytes, list[Field], PageInfo]:
    """Append a page with a labelled signature box per signer (what Dropbox Sign does for a request with
    neither form fields nor text tags) and return the new PDF, the signature fields and the page's size.

    The page has the size of the document's last page when that page is portrait, US Letter otherwise.
    Signers are laid out in one column, two when there are many, shrinking to fit on the one page.
    """
    if not signer_names:
        raise ValueError("a signature page needs at least one signer")
    with _opened(pdf, max_pages=10**9, document_index=document_index) as (_, document):
        last_w, last_h = document.get_page_size(len(document) - 1)
        page_w, page_h = (float(last_w), float(last_h)) if last_h >= last_w else letter
        boxes = _signature_layout(len(signer_names), page_w, page_h)
        overlay = _signature_page_pdf(signer_names, boxes, page_w, page_h)
        page_number = len(document) + 1
        addition = pdfium.PdfDocument(overlay)
        try:
            document.import_pages(addition)
        finally:
            addition.close()
        out = _save(document)
    fields = [
        Field(
            api_id=f"signature_page_{document_index}_{index}",
            type=FieldType.SIGNATURE,
            signer=index,
            document_index=document_index,
            page=page_number,
            x=x,
            y=y,
            width=width,
            height=height,
            required=True,
            name=name,
        )
        for index, (name, (x, y, width, height, _label_y)) in enumerate(zip(signer_names, boxes, strict=True))
    ]
    return out, fields, PageInfo(page_w, page_h)


def _signature_layout(count: int, page_w: float, page_h: float) -> list[tuple[float, float, float, float, float]]:
    """(x, y, width, height, label baseline y) per signer, top-left origin, in points."""
    top = _SIG_MARGIN + _SIG_TITLE_GAP
    available = page_h - top - _SIG_MARGIN
    columns = 1 if count * _SIG_BLOCK <= available else 2
    per_column = math.ceil(count / columns)
    scale = max(_SIG_MIN_SCALE, min(1.0, available / (per_column * _SIG_BLOCK)))
    block = _SIG_BLOCK * scale
    column_w = (page_w - 2 * _SIG_MARGIN) / columns
    box_w = min(_SIG_BOX_WIDTH, column_w - 18)
    box_h = 48 * scale
    layout = []
    for index in range(count):
        column, row = divmod(index, per_column)
        x = _SIG_MARGIN + column * column_w
        label_y = top + row * block + 12 * scale
        layout.append((x, label_y + 8 * scale, box_w, box_h, label_y))
    return layout


def _signature_page_pdf(
    names: list[str], boxes: list[tuple[float, float, float, float, float]], page_w: float, page_h: float
) -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=(page_w, page_h))
    sheet.setTitle("Signatures")
    sheet.setFont("Helvetica-Bold", 16)
    sheet.drawString(_SIG_MARGIN, page_h - _SIG_MARGIN - 16, "Signatures")
    for index, (name, (x, y, width, height, label_y)) in enumerate(zip(names, boxes, strict=True)):
        font_size = max(7.0, min(11.0, height / 4))
        sheet.setFont("Helvetica", font_size)
        label = f"Signer {index + 1}: {name}" if name else f"Signer {index + 1}"
        while len(label) > 4 and sheet.stringWidth(label, "Helvetica", font_size) > width:
            label = label[:-2] + "…"
        sheet.drawString(x, page_h - label_y, label)
        sheet.setStrokeGray(0.6)
        sheet.setLineWidth(0.75)
        sheet.rect(x, page_h - y - height, width, height, stroke=1, fill=0)
        sheet.setStrokeGray(0.2)
        sheet.line(x + 6, page_h - y - height + 10, x + width - 6, page_h - y - height + 10)
    sheet.showPage()
    sheet.save()
    return out.getvalue()


# ----------------------------------------------------------------------------------- field detection

_PAGE_RANGE_RE = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")


def _parse_page_range(page_range: str | None, page_count: int) -> list[int]:
    """``"1-3,5"`` -> [1, 2, 3, 5] (1-based, clipped to the document); None or "" -> every page."""
    if page_range is None or not page_range.strip():
        return list(range(1, page_count + 1))
    pages: set[int] = set()
    for part in page_range.split(","):
        match = _PAGE_RANGE_RE.fullmatch(part)
        if match is None:
            raise FieldsError(f"page_range '{page_range}' is not like '1-3,5'", "page_range")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last < first:
            raise FieldsError(f"page_range '{page_range}' is not like '1-3,5'", "page_range")
        pages.update(range(first, min(last, page_count) + 1))
    return sorted(pages)


def detect_fields(
    data: bytes,
    page_range: str | None = None,
    *,
    max_pages: int = _DEFAULT_DETECT_MAX_PAGES,
    now: int | None = None,
) -> dict[str, Any]:
    """The ``detection_result`` of ``POST /document/detect_fields`` (``detection_mode`` text_tags).

    Uses the same parser as :func:`process_document`, without the signer-count check (the request has no
    signers). Tag problems are reported in ``errors``; file problems raise DocumentError (FILE) and a
    malformed ``page_range`` raises FieldsError.
    """
    document_hash = hashlib.sha256(data).hexdigest()
    with _opened(data, max_pages=max_pages, document_index=0) as (_, pdf):
        page_count = len(pdf)
        analyzed = _parse_page_range(page_range, page_count)
        tags: list[FoundTag] = []
        for number in analyzed:
            page = _load_page(pdf, number - 1, 0)
            try:
                tags.extend(find_page_tags(page, number))
            finally:
                page.close()
    built = build_fields(tags, document_index=0, signer_count=None)
    return {
        "document_hash": document_hash,
        "detection_mode": "text_tags",
        "page_count": page_count,
        "pages_analyzed": len(analyzed),
        "detected_at": int(time.time()) if now is None else now,
        "form_fields_per_document": [field_to_api(field) for field in built.fields],
        "form_field_groups": [
            {
                "group_id": group.group_id,
                "group_label": group.group_label or "",
                "requirement": group.requirement,
            }
            for group in built.groups
        ],
        "warnings": [],
        "errors": [
            {
                "error_msg": problem.message,
                "error_name": "invalid_text_tag",
                "error_path": f"pages[{problem.page - 1}].text_tags[{problem.order - 1}]",
            }
            for problem in built.problems
        ],
        "suggestions": [],
    }
