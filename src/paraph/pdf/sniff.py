"""Recognise uploads by their bytes and turn images into one-page PDFs.

Uploads arrive as ``application/octet-stream`` parts named ``files[0]``; neither the part's content type nor
its file name can be trusted, so the first bytes decide what a file is.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from typing import Literal, get_args

from PIL import Image, ImageOps, UnidentifiedImageError
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from paraph.pdf.model import DocumentError, DocumentErrorKind

OfficeKind = Literal["ole", "docx", "xlsx", "pptx", "odt", "ods", "odp", "rtf", "html", "text"]
FileKind = Literal["pdf", "png", "jpeg"] | OfficeKind
OFFICE_KINDS: frozenset[str] = frozenset(get_args(OfficeKind))

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
#: Readers accept a PDF header anywhere in the first KiB (some generators prepend junk or a BOM).
_PDF_HEADER_WINDOW = 1024
#: Images larger than this are refused rather than decoded (a 20k x 20k PNG is a few KiB compressed).
MAX_IMAGE_PIXELS = 40_000_000
#: Images become a page this size (US Letter, the size Dropbox Sign's coordinate systems assume), rotated
#: to landscape for wide images, the image scaled to fit inside a margin.
_PAGE_MARGIN = 18.0


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word, Excel, PowerPoint 97-2003; encrypted OOXML
_ZIP_MAGIC = b"PK\x03\x04"
_OOXML_PARTS: dict[str, OfficeKind] = {
    "word/document.xml": "docx",
    "xl/workbook.xml": "xlsx",
    "ppt/presentation.xml": "pptx",
}
_ODF_TYPES: dict[bytes, OfficeKind] = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
#: A text is HTML when it starts (after blanks and comments) with a document's or a common element's tag.
_HTML_START = re.compile(
    rb"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title|style|div|p|table|h[1-6]|ul|ol|span|section)[\s/>]",
    re.IGNORECASE | re.DOTALL,
)
#: A zipped office file may inflate to at most this many bytes, and each part to this many times its
#: compressed size (a zip bomb declares gigabytes in a few kilobytes: refused before LibreOffice reads it).
MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_ZIP_RATIO = 200
MAX_ZIP_ENTRIES = 10_000
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def sniff(data: bytes) -> FileKind | None:
    """What ``data`` is, judged by its content (magic bytes, the parts of a zip, the start of a text), or None
    when it is none of the accepted kinds. The file name is never consulted."""
    if not data:
        return None
    if data.startswith(_PNG_MAGIC):
        return "png"
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if b"%PDF-" in data[:_PDF_HEADER_WINDOW]:
        return "pdf"
    if data.startswith(_OLE_MAGIC):
        return "ole"
    if data.startswith(_ZIP_MAGIC):
        return _zip_kind(data)
    if data.lstrip()[:5] == b"{\\rtf":
        return "rtf"
    text = _decode_text(data)
    if text is None:
        return None
    if _HTML_START.match(text[:4096].encode("utf-8", "replace")):
        return "html"
    return "text"


def _zip_kind(data: bytes) -> OfficeKind | None:
    """OOXML by its main part, ODF by its ``mimetype`` entry; None for any other zip (or a damaged one)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype").strip()  # stored, a few bytes (checked below)
                return _ODF_TYPES.get(mimetype[:64]) if archive.getinfo("mimetype").file_size < 128 else None
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, NotImplementedError, RuntimeError):
        return _damaged_zip_kind(data)
    if "[Content_Types].xml" not in names:
        return None
    for part, kind in _OOXML_PARTS.items():
        if part in names:
            return kind
    return None


def _damaged_zip_kind(data: bytes) -> OfficeKind | None:
    """A zip too damaged to list (truncated, say) still names its first parts in their local headers: an office
    file by those names (its conversion then fails as damaged), None otherwise."""
    head = data[:65536]
    names: list[bytes] = []
    at = 0
    while (at := head.find(_ZIP_MAGIC, at)) >= 0 and len(names) < 64:
        size = int.from_bytes(head[at + 26 : at + 28], "little")
        names.append(head[at + 30 : at + 30 + size])
        at += 4
    for part, kind in _OOXML_PARTS.items():
        folder = part.split("/")[0].encode() + b"/"
        if any(name.startswith(folder) for name in names):
            return kind
    if names[:1] == [b"mimetype"]:
        for mimetype, kind in _ODF_TYPES.items():
            if mimetype in head[:200]:
                return kind
    return None


def is_encrypted_ooxml(data: bytes) -> bool:
    """A password-protected Word, Excel or PowerPoint file: an OLE compound file holding an encrypted package."""
    return data.startswith(_OLE_MAGIC) and "EncryptedPackage".encode("utf-16-le") in data


def check_zip_bomb(data: bytes) -> None:
    """Refuse a zipped office file whose parts would inflate past the limits (DocumentError FILE)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentError(DocumentErrorKind.FILE, "it is damaged (not a readable zip archive)") from exc
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1024 * 1024 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise DocumentError(DocumentErrorKind.FILE, "its parts inflate to far more than their size (a zip bomb)")
    if len(infos) > MAX_ZIP_ENTRIES or total > MAX_UNZIPPED_BYTES:
        raise DocumentError(
            DocumentErrorKind.FILE,
            f"it unpacks to more than {MAX_UNZIPPED_BYTES // (1024 * 1024)} MiB or {MAX_ZIP_ENTRIES:,} parts",
        )


def _decode_text(data: bytes) -> str | None:
    """The file as text when it reads as text: UTF-8 or UTF-16 with a byte order mark, UTF-8, or Windows-1252
    without control characters; None for binary data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                return None
            return text if _looks_like_text(text) else None
    if b"\x00" in data:
        return None
    for encoding in ("utf-8", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text if _looks_like_text(text) else None
    return None


def _looks_like_text(text: str) -> bool:
    sample = text[:65536]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r\f")
    return controls <= len(sample) // 1000


def text_as_utf8(data: bytes) -> bytes:
    """A text file (as :func:`sniff` judged it) as UTF-8, what the converter is told to read."""
    text = _decode_text(data)
    return (text if text is not None else data.decode("utf-8", "replace")).encode("utf-8")


def to_pdf(data: bytes) -> bytes:
    """The upload as PDF: PDFs pass through untouched, PNG and JPEG images become a one-page PDF.

    Raises DocumentError(FILE) for an empty file, an unknown format or an image that cannot be decoded.
    """
    if not data:
        raise DocumentError(DocumentErrorKind.FILE, "The file is empty.")
    kind = sniff(data)
    if kind == "pdf":
        return data
    if kind is None or kind in OFFICE_KINDS:  # office files are converted before (paraph.pdf.convert)
        raise DocumentError(
            DocumentErrorKind.FILE,
            "The file could not be converted: it is not a PDF, PNG or JPEG file, an office document (Word, Excel,"
            " PowerPoint, OpenDocument, RTF), HTML or text.",
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
