"""Active content is stripped from a processed document: scripts, launch actions, additional actions and
embedded files are gone from its structure and its bytes; its pages, text and web links stay."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, TextStringObject

from paraph.pdf.processing import process_document
from paraph.pdf.sanitize import strip_active_content
from tests.pdfs import ACTIVE_CONTENT_MARKS, active_content, uri_links, with_active_content

from .conftest import Line


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_the_fixture_carries_active_content(make_pdf: Callable[..., bytes]) -> None:
    hostile = with_active_content(make_pdf([[Line(72, 700, "Terms")]]))
    assert sorted(active_content(hostile)) == sorted(
        [
            "/OpenAction",
            "/JavaScript",
            "/EmbeddedFiles",
            "field /AA",
            "page 1 /AA",
            "page 1 annotation /Launch",
            "page 1 annotation /AA",
            "bookmark /A",
        ]
    )
    assert all(mark in hostile for mark in ACTIVE_CONTENT_MARKS)


def test_it_strips_scripts_launch_actions_and_embedded_files(make_pdf: Callable[..., bytes]) -> None:
    hostile = with_active_content(make_pdf([[Line(72, 700, "Terms of the agreement")], [Line(72, 700, "Page two")]]))
    stripped = strip_active_content(hostile)
    assert stripped is not None
    clean, removed = stripped
    assert active_content(clean) == []
    assert [mark for mark in ACTIVE_CONTENT_MARKS if mark in clean] == []
    assert uri_links(clean) == ["https://example.com/terms"]
    assert "Terms of the agreement" in _text(clean) and "Page two" in _text(clean)
    assert "catalog /OpenAction" in removed and "page 1 /AA" in removed


def test_it_leaves_a_document_without_active_content_as_it_is(make_pdf: Callable[..., bytes]) -> None:
    assert strip_active_content(make_pdf([[Line(72, 700, "Plain")]])) is None


def test_processing_strips_active_content_and_keeps_the_upload_s_hash(make_pdf: Callable[..., bytes]) -> None:
    hostile = with_active_content(make_pdf([[Line(72, 700, "Signer [sig|req|signer1]")]]))
    for hide in (False, True):  # the upload as it is, or rewritten by pdfium to hide the tags
        done = process_document(
            hostile,
            document_index=0,
            signer_count=1,
            use_text_tags=True,
            hide_text_tags=hide,
            ignore_text_tags_errors=False,
            max_pages=10,
        )
        assert active_content(done.pdf) == []
        assert [mark for mark in ACTIVE_CONTENT_MARKS if mark in done.pdf] == []
        assert done.sha256 == hashlib.sha256(hostile).hexdigest()
        assert len(done.fields) == 1 and len(done.page_images) == 1


def _with_page_actions(pdf: bytes, *, page_script: bool, launch_link: bool) -> bytes:
    """``pdf`` whose last page alone has active content: a script run on opening it, or a link launching a program."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    page = writer.pages[-1]
    if page_script:
        script = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("PAGESCRIPT")}
        )
        page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): script})
    if launch_link:
        launch = DictionaryObject(
            {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("LAUNCHME")}
        )
        writer.add_annotation(
            page,
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Annot"),
                    NameObject("/Subtype"): NameObject("/Link"),
                    NameObject("/Rect"): ArrayObject(FloatObject(v) for v in (72, 600, 200, 620)),
                    NameObject("/A"): launch,
                }
            ),
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("page_script", "launch_link"), [(True, False), (False, True)], ids=["page-aa", "launch"])
def test_processing_finds_active_content_on_a_page_alone(
    make_pdf: Callable[..., bytes], page_script: bool, launch_link: bool
) -> None:
    pages = [[Line(72, 700, f"page {n}")] for n in range(12)]  # longer than a rendering range
    hostile = _with_page_actions(make_pdf(pages), page_script=page_script, launch_link=launch_link)
    assert active_content(hostile) != []
    done = process_document(
        hostile,
        document_index=0,
        signer_count=1,
        use_text_tags=False,
        hide_text_tags=False,
        ignore_text_tags_errors=False,
        max_pages=20,
        render_limit=8,
    )
    assert active_content(done.pdf) == []
    assert b"PAGESCRIPT" not in done.pdf and b"LAUNCHME" not in done.pdf
    assert len(done.pages) == 12
