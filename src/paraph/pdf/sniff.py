"""Recognise uploads by their bytes and turn images into one-page PDFs.

Uploads arrive as ``application/octet-stream`` parts named ``files[0]``; neither the part's content type nor
its file name can be trusted, so the first bytes decide what a file is.
"""

from __future__ import annotations

import io
import warnings
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from paraph.pdf.model import DocumentError, DocumentErrorKind

FileKind = Literal["pdf", "png", "jpeg"]

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
#: Readers accept a PDF header anywhere in the first KiB (some generators prepend junk or a BOM).
_PDF_HEADER_WINDOW = 1024
#: Images larger than this are refused rather than decoded (a 20k x 20k PNG is a few KiB compressed).
MAX_IMAGE_PIXELS = 40_000_000
#: Images become a page this size (US Letter, the size Dropbox Sign's coordinate systems assume), rotated
#: to landscape for wide images, the image scaled to fit inside a margin.
_PAGE_MARGIN = 18.0


def sniff(data: bytes) -> FileKind | None:
    """What ``data`` is, judged by its magic bytes, or None when it is none of the accepted kinds."""
    if data.startswith(_PNG_MAGIC):
        return "png"
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if b"%PDF-" in data[:_PDF_HEADER_WINDOW]:
        return "pdf"
    return None


def to_pdf(data: bytes) -> bytes:
    """The upload as PDF: PDFs pass through untouched, PNG and JPEG images become a one-page PDF.

    Raises DocumentError(FILE) for an empty file, an unknown format or an image that cannot be decoded.
    """
    if not data:
        raise DocumentError(DocumentErrorKind.FILE, "The file is empty.")
    kind = sniff(data)
    if kind == "pdf":
        return data
    if kind is None:
        raise DocumentError(
            DocumentErrorKind.FILE,
            "The file could not be converted: it is not a PDF, PNG or JPEG file "
            "(other formats must be converted to PDF before upload).",
        )
    return _image_to_pdf(data, kind)


def _open_image(data: bytes) -> Image.Image:
    """Decode the image header, refusing decompression bombs before any pixel is decoded."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise DocumentError(DocumentErrorKind.FILE, "The image is too large to convert.") from exc
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise DocumentError(DocumentErrorKind.FILE, "The image file is damaged and cannot be read.") from exc
    width, height = img.size
    if width < 1 or height < 1 or width * height > MAX_IMAGE_PIXELS:
        raise DocumentError(
            DocumentErrorKind.FILE,
            f"The image is too large to convert ({width}x{height} pixels; the limit is {MAX_IMAGE_PIXELS:,} pixels).",
        )
    return img


def _image_to_pdf(data: bytes, kind: FileKind) -> bytes:
    """Place the image on a Letter page, upright (EXIF orientation applied), flattened onto white."""
    img = _open_image(data)
    try:
        img.load()
        orientation = img.getexif().get(0x0112, 1)
        upright = ImageOps.exif_transpose(img) if orientation != 1 else img
    except (OSError, ValueError, SyntaxError) as exc:
        raise DocumentError(DocumentErrorKind.FILE, "The image file is damaged and cannot be read.") from exc

    # A baseline RGB/grey JPEG goes into the PDF as-is (no re-encoding); anything else is decoded and
    # flattened, because CMYK JPEGs, alpha channels and palettes render inconsistently across viewers.
    if kind == "jpeg" and upright is img and img.mode in ("RGB", "L"):
        source: ImageReader = ImageReader(io.BytesIO(data))
    else:
        source = ImageReader(_flatten(upright))

    width_px, height_px = upright.size
    page_w, page_h = letter if height_px >= width_px else (letter[1], letter[0])
    scale = min((page_w - 2 * _PAGE_MARGIN) / width_px, (page_h - 2 * _PAGE_MARGIN) / height_px)
    draw_w, draw_h = width_px * scale, height_px * scale

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(page_w, page_h), pageCompression=1)
    pdf.drawImage(source, (page_w - draw_w) / 2, (page_h - draw_h) / 2, draw_w, draw_h)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _flatten(img: Image.Image) -> Image.Image:
    """An RGB (or L) image, transparency composited onto white."""
    if img.mode in ("RGB", "L"):
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if img.mode.startswith("I;16"):
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return img.convert("RGB")
