"""Uploads recognised by their bytes; images become one-page PDFs."""

from __future__ import annotations

import io
import struct
import zlib

import pypdfium2 as pdfium
import pytest
from PIL import Image

from paraph.pdf import sniff as sniff_module
from paraph.pdf.model import DocumentError, DocumentErrorKind
from paraph.pdf.sniff import check_zip_bomb, is_encrypted_ooxml, sniff, to_pdf
from tests import office_files

from .conftest import jpeg_image, png_image


def test_it_recognises_files_by_magic_bytes(simple_pdf: bytes) -> None:
    assert sniff(simple_pdf) == "pdf"
    assert sniff(b"\xef\xbb\xbf" + simple_pdf) == "pdf"  # junk before the header, as readers allow
    assert sniff(png_image()) == "png"
    assert sniff(jpeg_image()) == "jpeg"
    assert sniff(b"") is None
    assert sniff(b"PK\x03\x04 a docx") is None  # a zip, but no office file's parts
    assert sniff(b"GIF89a\x01\x00\x01\x00\x80\x00\x00") is None
    assert sniff(b"x" * 2000 + b"%PDF-1.4") == "text"  # no PDF header where readers look: text


def test_it_passes_pdfs_through_untouched(simple_pdf: bytes) -> None:
    assert to_pdf(simple_pdf) is simple_pdf


def page_image(pdf: bytes) -> tuple[tuple[float, float], Image.Image]:
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 1
    page = document[0]
    return page.get_size(), page.render(scale=0.5).to_pil()


def test_it_turns_a_png_into_a_one_page_pdf() -> None:
    size, image = page_image(to_pdf(png_image((400, 300), color=(200, 30, 30))))
    assert size == (792, 612)  # wide image, landscape Letter
    red, green, blue = image.getpixel((image.width // 2, image.height // 2))  # type: ignore[misc]
    assert red > 150 and green < 80 and blue < 80


def test_it_turns_a_tall_jpeg_into_a_portrait_page() -> None:
    size, image = page_image(to_pdf(jpeg_image((300, 500))))
    assert size == (612, 792)
    red, _, blue = image.getpixel((image.width // 2, image.height // 2))  # type: ignore[misc]
    assert blue > 150 and red < 80


def test_it_applies_the_jpeg_exif_orientation() -> None:
    # 600x300 pixels stored, orientation 6 = "rotate 90 degrees to display": shown 300 wide, 600 tall.
    size, _ = page_image(to_pdf(jpeg_image((600, 300), orientation=6)))
    assert size == (612, 792)


def test_it_flattens_transparent_pngs_onto_white() -> None:
    _, image = page_image(to_pdf(png_image((300, 300), mode="RGBA", color=(0, 0, 0, 0))))
    assert image.getpixel((image.width // 2, image.height // 2))[:3] == (255, 255, 255)  # type: ignore[index]


@pytest.mark.parametrize("mode", ["L", "P", "I;16", "CMYK", "LA"])
def test_it_converts_images_of_any_mode(mode: str) -> None:
    color: object = {"L": 128, "P": 3, "I;16": 30000, "CMYK": (0, 0, 0, 0), "LA": (10, 255)}[mode]
    if mode == "CMYK":
        out = io.BytesIO()
        Image.new("CMYK", (50, 40), color).save(out, format="JPEG")  # type: ignore[arg-type]
        data = out.getvalue()
    else:
        data = png_image((50, 40), mode=mode, color=color)
    size, _ = page_image(to_pdf(data))
    assert size == (792, 612)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 a word document", "not a PDF, PNG or JPEG"),
        (b"{\\rtf1 converted before, by paraph.pdf.convert}", "not a PDF, PNG or JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "damaged"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "damaged"),
    ],
)
def test_it_refuses_what_it_cannot_convert(data: bytes, words: str) -> None:
    with pytest.raises(DocumentError) as caught:
        to_pdf(data)
    assert caught.value.kind is DocumentErrorKind.FILE
    assert words in caught.value.message


def test_it_refuses_huge_images_before_decoding_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sniff_module, "MAX_IMAGE_PIXELS", 100 * 100)
    with pytest.raises(DocumentError) as caught:
        to_pdf(png_image((200, 200)))
    assert caught.value.kind is DocumentErrorKind.FILE and "too large" in caught.value.message


def test_it_refuses_an_image_bomb_from_its_header_alone() -> None:
    def chunk(tag: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)  # 900 megapixels, no pixel data at all
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    with pytest.raises(DocumentError) as caught:
        to_pdf(bomb)
    assert caught.value.kind is DocumentErrorKind.FILE and "too large" in caught.value.message


def test_it_recognises_office_files_by_their_content_not_their_name() -> None:
    kinds = {name: sniff(data) for name, data in office_files.good_corpus().items()}
    assert kinds == {
        "contract.docx": "docx",
        "figures.xlsx": "xlsx",
        "slides.pptx": "pptx",
        "letter.odt": "odt",
        "memo.rtf": "rtf",
        "notes.txt": "text",
        "page.html": "html",
    }
    assert sniff(office_files.password_docx()) == "ole"  # what Word, Excel and PowerPoint 97-2003 files are too
    assert is_encrypted_ooxml(office_files.password_docx())
    assert sniff(office_files.corrupt_xlsx()) == "xlsx"  # cut in half: still an Excel file, a damaged one
    assert sniff("Grüße\r\n".encode("utf-16")) == "text"
    assert sniff(b"  <!-- hi -->\n<HTML><p>x</p>") == "html"
    assert sniff(b"<p>a fragment</p>") == "html"
    assert sniff(b"<?xml version='1.0'?><p/>") == "text"
    assert sniff(b"<paraph> is not a tag of HTML") == "text"
    assert sniff(b"PK\x03\x04" + bytes(200)) is None  # a zip, but not an office file
    assert sniff(b"text with a NUL\x00 byte") is None


def test_it_refuses_zip_bombs_before_any_converter_sees_them() -> None:
    with pytest.raises(DocumentError, match="zip bomb"):
        check_zip_bomb(office_files.zip_bomb_docx())
    check_zip_bomb(office_files.docx(["fine"]))
