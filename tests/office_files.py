"""Office files made on the spot (python-docx, openpyxl, python-pptx; OpenDocument, RTF, text and HTML by hand),
good and hostile, for the conversion tests and ``make bench-convert``. Each good file shows one word of its
own, which the converted PDF must contain."""

from __future__ import annotations

import io
import zipfile

import msoffcrypto.format.ooxml
import openpyxl
from docx import Document
from docx.enum.text import WD_BREAK
from pptx import Presentation
from pptx.util import Inches

#: file name -> the word its converted PDF shows
WORDS = {
    "contract.docx": "WordAlpha",
    "figures.xlsx": "ExcelBravo",
    "slides.pptx": "PowerPointCharlie",
    "letter.odt": "OpenDocumentDelta",
    "memo.rtf": "RichTextEcho",
    "notes.txt": "PlainTextFoxtrot",
    "page.html": "HypertextGolf",
}


def docx(paragraphs: list[str], *, pages: int = 1) -> bytes:
    """A Word document: ``paragraphs`` on each of ``pages`` pages (a page break between them)."""
    document = Document()
    for page in range(pages):
        for text in paragraphs:
            document.add_paragraph(text)
        if page < pages - 1:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx(word: str) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = word
    sheet["B2"] = 42
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pptx(word: str) -> bytes:
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])  # blank
    slide.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(1)).text_frame.text = word
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def odt(word: str) -> bytes:
    """The smallest OpenDocument text: the ``mimetype`` entry first and stored, a manifest, the content."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:text><text:p>{word}</text:p></office:text></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def good_corpus(*, text_tags: bool = True) -> dict[str, bytes]:
    """One file of every kind, by name; the Word file carries two text tags for signer 1 when asked."""
    tags = ["Signature: [sig|req|signer1]", "Date: [date|req|signer1]"] if text_tags else []
    return {
        "contract.docx": docx([f"{WORDS['contract.docx']} agreement between the parties.", *tags]),
        "figures.xlsx": xlsx(WORDS["figures.xlsx"]),
        "slides.pptx": pptx(WORDS["slides.pptx"]),
        "letter.odt": odt(WORDS["letter.odt"]),
        "memo.rtf": b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Helvetica;}}\\f0 " + WORDS["memo.rtf"].encode() + b"\\par}",
        "notes.txt": f"{WORDS['notes.txt']}\nA second line, caf\u00e9.\n".encode(),
        "page.html": f"<!DOCTYPE html><html><body><h1>{WORDS['page.html']}</h1></body></html>".encode(),
    }


def zip_bomb_docx() -> bytes:
    """A Word file's parts, its document part 20 MiB of spaces deflated to a few dozen KiB (1,000 to 1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            chunk = b" " * (1024 * 1024)
            for _ in range(20):
                part.write(chunk)
    return out.getvalue()


def password_docx() -> bytes:
    """A Word file protected by a password (Office's agile encryption: an OLE file holding the package)."""
    out = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(docx(["Secret"]))).encrypt("open-sesame", out)
    return out.getvalue()


def corrupt_xlsx() -> bytes:
    """An Excel file cut in half (its zip directory lost)."""
    data = xlsx("Broken")
    return data[: len(data) // 2]


def long_text(pages: int = 5000, lines_per_page: int = 50) -> bytes:
    return b"".join(b"Line %d of a very long text file.\n" % n for n in range(pages * lines_per_page))
