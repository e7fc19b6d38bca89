"""process_document end to end on generated PDFs and images, the bad-document corpus, signature page,
field detection."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter

from paraph.pdf.fields import FieldsError
from paraph.pdf.model import DocumentError, DocumentErrorKind, Field, FieldType, ProcessedDocument
from paraph.pdf.processing import (
    MAX_PAGE_PIXELS,
    PixelBudget,
    append_signature_page,
    detect_fields,
    process_document,
    render_page_png,
    render_pages,
)
from tests.pdfs import deeply_nested_arrays, huge_object_stream, image_bomb

from .conftest import Line, expected_box, jpeg_image, png_image


def process(data: bytes, **options: Any) -> ProcessedDocument:
    settings: dict[str, Any] = {
        "document_index": 0,
        "signer_count": 2,
        "use_text_tags": True,
        "hide_text_tags": False,
        "ignore_text_tags_errors": False,
        "max_pages": 100,
    }
    settings.update(options)
    return process_document(data, **settings)


def dark_pixels(png: bytes, box: tuple[float, float, float, float] | None = None, page_width: float = 612) -> int:
    """Pixels darker than mid-grey in the page image, optionally inside a box given in points."""
    image = Image.open(io.BytesIO(png)).convert("L")
    if box is not None:
        scale = image.width / page_width
        x, y, width, height = box
        image = image.crop(
            (round(x * scale), round(y * scale), round((x + width) * scale), round((y + height) * scale))
        )
    return sum(image.histogram()[:128])


CONTRACT = [
    [
        Line(72, 720, "Agreement between the parties [1]. See [note] below."),
        Line(72, 200, "Client: [sig|req|signer1          ]   Date: [date|req|signer1]"),
        Line(72, 160, "Company: [text|req|signer2|Company|company_name]"),
    ],
    [Line(72, 720, "Initials [initial|req|signer2] and [text-merge|req|sender|deal_id|deal]")],
    [Line(72, 720, "Nothing to sign here.")],
]


def test_it_processes_a_tagged_pdf(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf(CONTRACT)
    result = process(data)

    assert result.pdf == data  # untouched when tags are not hidden
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert [(p.width, p.height) for p in result.pages] == [(612, 792)] * 3
    assert [(f.type, f.signer, f.page) for f in result.fields] == [
        (FieldType.SIGNATURE, 0, 1),
        (FieldType.DATE_SIGNED, 0, 1),
        (FieldType.TEXT, 1, 1),
        (FieldType.INITIALS, 1, 2),
        (FieldType.TEXT_MERGE, "sender", 2),
    ]
    signature = result.fields[0]
    x, y, width, height = expected_box(CONTRACT[0][1], "[sig|req|signer1          ]")
    assert signature.x == pytest.approx(x, abs=1.5) and signature.y == pytest.approx(y, abs=1.5)
    assert signature.width == pytest.approx(width, abs=2) and signature.height == pytest.approx(height, abs=2)
    assert result.fields[2].api_id == "company_name" and result.fields[2].name == "Company"

    assert len(result.page_images) == 3
    for png in result.page_images:
        image = Image.open(io.BytesIO(png))
        image.load()
        assert image.size == (918, 1188)  # 1.5 x 612 by 1.5 x 792
    assert dark_pixels(result.page_images[0], (signature.x, signature.y, signature.width, signature.height)) > 20


def test_it_renders_colour_pages_in_colour(make_pdf: Callable[..., bytes]) -> None:
    red_text = Line(72, 700, "RED TEXT " * 5, size=30, color=(1, 0, 0))
    speck = Line(300, 400, ".", size=4, color=(0.9, 0.1, 0.1))  # a small coloured mark on a grey page
    data = make_pdf([[red_text], [Line(72, 700, "grey page")], [Line(72, 700, "almost grey"), speck]])
    result = process(data, use_text_tags=False, render_scale=1.0)
    colour, grey, speckled = (Image.open(io.BytesIO(png)) for png in result.page_images)
    assert (colour.mode, grey.mode, speckled.mode) == (
        "RGB",
        "L",
        "RGB",
    )  # grey pages are stored as grey PNGs
    assert colour.size == grey.size == (612, 792)
    red, green, _ = colour.convert("RGB").split()
    reds = ImageChops.multiply(red.point(lambda v: 255 if v > 200 else 0), green.point(lambda v: 255 if v < 60 else 0))
    assert reds.histogram()[255] > 500


def test_it_caps_the_size_of_page_images(make_pdf: Callable[..., bytes]) -> None:
    result = process(make_pdf([[Line(72, 700, "huge")]], pagesize=(14400, 14400)), use_text_tags=False)
    image = Image.open(io.BytesIO(result.page_images[0]))
    assert image.width == image.height and image.width * image.height <= MAX_PAGE_PIXELS
    assert (result.pages[0].width, result.pages[0].height) == (14400, 14400)


def test_it_ignores_tags_unless_asked(make_pdf: Callable[..., bytes]) -> None:
    result = process(make_pdf(CONTRACT), use_text_tags=False, signer_count=1)
    assert result.fields == [] and result.groups == []


def test_it_hides_tags_under_white_rectangles(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf(CONTRACT)
    shown = process(data)
    hidden = process(data, hide_text_tags=True)

    assert hidden.pdf != data
    assert [(f.api_id, round(f.x), round(f.y)) for f in hidden.fields] == [
        (f.api_id, round(f.x), round(f.y)) for f in shown.fields
    ]
    for field in hidden.fields:
        box = (field.x, field.y, field.width, field.height)
        png_index = field.page - 1
        assert dark_pixels(shown.page_images[png_index], box) > 20
        assert dark_pixels(hidden.page_images[png_index], box) == 0, field.api_id
    # the rest of the page is still there, in the images and in the saved PDF
    prose = expected_box(CONTRACT[0][0], "Agreement")
    assert dark_pixels(hidden.page_images[0], prose) > 20
    assert len(pdfium.PdfDocument(hidden.pdf)) == 3
    first_page = render_page_png(hidden.pdf, 1)
    signature = hidden.fields[0]
    assert dark_pixels(first_page, prose) > 20
    assert dark_pixels(first_page, (signature.x, signature.y, signature.width, signature.height)) == 0


def test_it_refuses_a_tag_for_a_signer_the_request_does_not_have(make_pdf: Callable[..., bytes]) -> None:
    with pytest.raises(DocumentError) as caught:
        process(make_pdf(CONTRACT), signer_count=1, document_index=2)
    assert caught.value.kind is DocumentErrorKind.TEXT_TAG
    assert caught.value.message == ("Text tags error: No reference found in signer list to components labeled signer 2")
    assert caught.value.document_index == 2


def test_it_names_the_malformed_tag_and_its_page(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf([[Line(72, 700, "fine")], [Line(72, 700, "[sig|req|signerX] [sig|req|signer1]")]])
    with pytest.raises(DocumentError) as caught:
        process(data)
    assert caught.value.kind is DocumentErrorKind.TEXT_TAG
    assert "[sig|req|signerX]" in caught.value.message and "page 2" in caught.value.message


def test_it_skips_bad_tags_when_told_to_ignore_errors(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf([[Line(72, 700, "[sig|req|signerX] [sig|req|signer1] [sig|req|signer5] [$undefined]")]])
    result = process(data, ignore_text_tags_errors=True, hide_text_tags=True)
    assert [(f.type, f.signer) for f in result.fields] == [(FieldType.SIGNATURE, 0)]


def test_it_builds_checkbox_groups(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf([[Line(72, 700, "[def:$chk|check|req1-2|signer2]"), Line(72, 650, "A [$chk] B [$chk] C [$chk]")]])
    result = process(data)
    assert [(g.group_id, g.requirement) for g in result.groups] == [("chk", "require_1-2")]
    assert [(f.type, f.group, f.signer) for f in result.fields] == [(FieldType.CHECKBOX, "chk", 1)] * 3


def test_it_processes_images(make_pdf: Callable[..., bytes]) -> None:
    for data in (png_image((800, 600)), jpeg_image((600, 800))):
        result = process(data)
        assert len(result.pages) == 1 and len(result.page_images) == 1
        assert result.pdf.startswith(b"%PDF-") and result.fields == []
        assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_it_reports_sizes_of_rotated_and_odd_pages(make_pdf: Callable[..., bytes]) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([[Line(100, 650, "[sig|req|signer1    ]")]]))))
    writer.pages[0].rotate(90)
    out = io.BytesIO()
    writer.write(out)
    result = process(out.getvalue())
    assert (result.pages[0].width, result.pages[0].height) == (792, 612)
    field = result.fields[0]
    assert field.width < field.height  # the tag now runs down the page
    assert dark_pixels(result.page_images[0], (field.x, field.y, field.width, field.height), 792) == dark_pixels(
        result.page_images[0]
    )

    a4 = process(make_pdf([[Line(72, 700, "A4")]], pagesize=(595.28, 841.89)), use_text_tags=False)
    assert (round(a4.pages[0].width), round(a4.pages[0].height)) == (595, 842)


def test_it_refuses_documents_over_the_page_limit(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf([[Line(72, 700, f"page {n}")] for n in range(2000)])
    with pytest.raises(DocumentError) as caught:
        process(data, max_pages=500, document_index=1)
    assert caught.value.kind is DocumentErrorKind.FILE
    assert "2000 pages" in caught.value.message and "500" in caught.value.message
    assert caught.value.document_index == 1


@pytest.mark.parametrize(
    "name",
    [
        "zero_bytes",
        "random_bytes",
        "random_bytes_with_pdf_header",
        "truncated_half",
        "truncated_end",
        "encrypted_with_password",
        "encrypted_without_user_password",
        "header_only",
        "deeply_nested_page_tree",
        "word_document",
        "broken_png",
    ],
)
def test_it_refuses_bad_documents_as_file_errors(bad_documents: dict[str, bytes], name: str) -> None:
    with pytest.raises(DocumentError) as caught:
        process(bad_documents[name], document_index=4)
    assert caught.value.kind is DocumentErrorKind.FILE
    assert caught.value.message and caught.value.document_index == 4


def test_it_says_why_an_encrypted_pdf_is_refused(bad_documents: dict[str, bytes]) -> None:
    for name in ("encrypted_with_password", "encrypted_without_user_password"):
        with pytest.raises(DocumentError) as caught:
            process(bad_documents[name])
        assert "password" in caught.value.message


@pytest.mark.parametrize("data", [deeply_nested_arrays(200_000), huge_object_stream()], ids=["arrays", "objstm"])
def test_it_survives_pathological_structures(data: bytes) -> None:
    # pdfium copes with these (depth limits, lazy object streams): either a clean result or a file error.
    try:
        result = process(data)
    except DocumentError as error:
        assert error.kind is DocumentErrorKind.FILE
    else:
        assert len(result.pages) == 1 and len(result.page_images) == 1


def test_it_appends_a_signature_page(simple_pdf: bytes) -> None:
    pdf, fields, page = append_signature_page(simple_pdf, ["Alice Example", "Bob"], document_index=1)
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 3
    assert (page.width, page.height) == document[2].get_size()
    assert [(f.type, f.signer, f.page, f.document_index, f.name) for f in fields] == [
        (FieldType.SIGNATURE, 0, 3, 1, "Alice Example"),
        (FieldType.SIGNATURE, 1, 3, 1, "Bob"),
    ]
    assert len({f.api_id for f in fields}) == 2
    text = document[2].get_textpage().get_text_range()
    assert "Alice Example" in text and "Bob" in text
    assert_inside_page(fields, page.width, page.height)
    assert fields[0].y + fields[0].height <= fields[1].y  # one below the other


def assert_inside_page(fields: list[Field], width: float, height: float) -> None:
    for field in fields:
        assert 0 <= field.x and field.x + field.width <= width
        assert 0 <= field.y and field.y + field.height <= height


def test_it_fits_many_signers_on_the_signature_page(simple_pdf: bytes) -> None:
    names = [f"Signer Number {n}" for n in range(24)]
    _, fields, page = append_signature_page(simple_pdf, names, document_index=0)
    assert len(fields) == 24 and {f.page for f in fields} == {3}
    assert_inside_page(fields, page.width, page.height)
    boxes = [(f.x, f.y, f.x + f.width, f.y + f.height) for f in fields]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], "signature boxes overlap"


def test_it_detects_fields_like_the_api(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf(
        [
            [Line(72, 700, "[sig|req|signer3|Client|client_sig] [def:$c|check|req1|signer1] [$c] [$c]")],
            [Line(72, 700, "[text|req|signer1|||shoe_size]")],
            [Line(72, 700, "[initial|req|signer1]")],
        ]
    )
    result = detect_fields(data, None, now=1700000000)
    assert result["document_hash"] == hashlib.sha256(data).hexdigest()
    assert (result["detection_mode"], result["page_count"], result["pages_analyzed"]) == ("text_tags", 3, 3)
    assert result["detected_at"] == 1700000000
    assert result["warnings"] == [] and result["suggestions"] == []
    fields = result["form_fields_per_document"]
    assert [(f["api_id"], f["type"], f["signer"], f["page"]) for f in fields] == [
        ("client_sig", "signature", 2, 1),  # no signer list here: signer3 is fine
        ("texttag_0_1_3", "checkbox", 0, 1),
        ("texttag_0_1_4", "checkbox", 0, 1),
        ("texttag_0_3_1", "initials", 0, 3),
    ]
    assert all(f["document_index"] == 0 and f["required"] is True for f in fields)
    assert all(isinstance(f[k], int) for f in fields for k in ("x", "y", "width", "height"))
    assert fields[0]["name"] == "Client" and fields[1]["group"] == "c"
    assert result["form_field_groups"] == [{"group_id": "c", "group_label": "", "requirement": "require_1"}]
    [error] = result["errors"]
    assert "shoe_size" in error["error_msg"] and error["error_name"] == "invalid_text_tag"
    assert error["error_path"] == "pages[1].text_tags[0]"


def test_it_detects_fields_on_a_page_range(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf([[Line(72, 700, f"[sig|req|signer{n}]")] for n in range(1, 6)])
    result = detect_fields(data, "2-3, 5")
    assert result["pages_analyzed"] == 3 and result["page_count"] == 5
    assert [f["page"] for f in result["form_fields_per_document"]] == [2, 3, 5]
    with pytest.raises(FieldsError) as caught:
        detect_fields(data, "two")
    assert caught.value.error_path == "page_range"
    with pytest.raises(DocumentError):
        detect_fields(b"not a pdf", None)


def test_warming_a_pdf_process_up_never_raises(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The pool runs warm_up as each process starts; if it raised, the pool would be broken and every
    document refused. It warms the process when it can, and says so in the log when it cannot."""
    from paraph.pdf import processing

    processing.warm_up()  # the real thing: imports and one tagged page
    assert not caplog.records

    def broken() -> None:
        raise OSError("no fonts here")

    monkeypatch.setattr(processing, "_warm_up", broken)
    processing.warm_up()
    assert "warming up a PDF process failed" in caplog.text


def test_it_refuses_a_page_drawing_an_image_bomb() -> None:
    # 120 megapixels of zeros in 360 KB: past the default budget of 100 megapixels for the images of a page.
    with pytest.raises(DocumentError) as caught:
        process(image_bomb(12_000, 10_000), use_text_tags=False, document_index=2)
    assert caught.value.kind is DocumentErrorKind.FILE and caught.value.document_index == 2
    assert "Page 1" in caught.value.message and "100 megapixels" in caught.value.message


@pytest.mark.parametrize("in_form", [False, True], ids=["page", "form"])
def test_it_counts_the_images_a_page_draws_against_its_pixel_budget(in_form: bool) -> None:
    data = image_bomb(2000, 1000, in_form=in_form)  # 2 megapixels
    done = process(data, use_text_tags=False, pixel_budget=PixelBudget(page=2_000_000))
    assert len(done.page_images) == 1
    with pytest.raises(DocumentError, match="more than 2 megapixels"):
        process(data, use_text_tags=False, pixel_budget=PixelBudget(page=1_999_999))
    with pytest.raises(DocumentError, match="more than 2 megapixels"):
        render_pages(data, 1, 1, pixel_budget=PixelBudget(page=1_999_999))
    with pytest.raises(DocumentError, match="more than 2 megapixels"):
        render_page_png(data, 1, pixel_budget=PixelBudget(page=1_999_999))


def test_it_refuses_a_document_past_its_pixel_budget(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf([[Line(72, 700, f"page {n}")] for n in range(3)])
    one = process(data, use_text_tags=False)
    sizes = [Image.open(io.BytesIO(png)).size for png in one.page_images]
    page_pixels = sum(width * height for width, height in sizes)
    assert len(process(data, use_text_tags=False, pixel_budget=PixelBudget(document=page_pixels)).pages) == 3
    with pytest.raises(DocumentError) as caught:
        process(data, use_text_tags=False, pixel_budget=PixelBudget(document=page_pixels - 1), render_limit=1)
    assert caught.value.kind is DocumentErrorKind.FILE and "limit per document" in caught.value.message
