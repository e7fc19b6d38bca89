"""The final document as a recipient opens it: values on the right pages, the audit trail, the marks."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from paraph.pdf.audit_trail import AuditEntry, AuditSigner, audit_trail_pdf, format_utc
from paraph.pdf.final import build_final
from paraph.pdf.model import FieldType
from paraph.pdf.seal import PadesSealer, load_or_create_sealer
from paraph.pdf.signature_image import normalize_signature_image, render_typed_signature
from paraph.pdf.stamp import TEST_MODE_MARK, FilledField, stamp

from ._finalize_fixtures import (
    CHROME,
    FIREFOX,
    PAGE_H,
    PAGE_W,
    dark_pixels,
    field,
    first_revision,
    ink_box,
    is_red,
    is_white,
    lines_of,
    make_pdf,
    page_texts,
    pdfium_texts,
    pixel,
    render,
    signature_count,
    solid_png,
    text,
    trail,
    validate_seal,
    with_page_boxes,
)

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FINAL_SHA = "ab" * 32


@pytest.fixture(scope="module")
def sealer(tmp_path_factory: pytest.TempPathFactory) -> PadesSealer:
    return load_or_create_sealer(tmp_path_factory.mktemp("data"), None, None)


# ------------------------------------------------------------------------------------------------ stamping


def test_it_stamps_text_on_its_page_only() -> None:
    out = stamp(make_pdf(3), [text(2, 100, 200, 250, 20, "Acme Widgets Ltd")], test_mode=False)

    texts = page_texts(out)
    assert "Acme Widgets Ltd" in texts[1]
    assert "Original page 2" in texts[1]  # the page's own content is kept
    assert "Acme Widgets Ltd" not in texts[0] + texts[2]


def test_it_draws_text_inside_its_box_at_the_top_left_origin() -> None:
    out = stamp(make_pdf(1), [text(1, 300, 500, 200, 24, "WWWWWWWWWW")], test_mode=False)

    page = render(out, 0)
    assert dark_pixels(page, (300, 500, 200, 24)) > 50
    assert dark_pixels(page, (300, 530, 200, 40)) == 0  # nothing below the box
    assert dark_pixels(page, (300, PAGE_H - 560, 200, 40)) == 0  # nor where a bottom-left origin would put it


def test_it_shrinks_long_text_to_fit_the_box_width() -> None:
    value = "A rather long company name that needs a smaller font"
    out = stamp(make_pdf(1), [text(1, 100, 300, 230, 14, value)], test_mode=False)

    assert value in page_texts(out)[0]  # still one line
    page = render(out, 0)
    assert dark_pixels(page, (100, 300, 230, 14)) > 50
    assert dark_pixels(page, (332, 296, 150, 22)) == 0  # nothing runs out to the right
    assert dark_pixels(page, (100, 316, 230, 30)) == 0  # nor below


def test_it_never_cuts_off_text_too_long_for_its_box_even_at_seven_points() -> None:
    value = "A rather long company name that needs a smaller font"
    out = stamp(make_pdf(1), [text(1, 100, 300, 160, 14, value)], test_mode=False)

    assert value in " ".join(page_texts(out)[0].split())
    assert dark_pixels(render(out, 0), (262, 296, 150, 22)) == 0  # wrapped to the box width, not past it


def test_it_wraps_text_in_a_tall_box_rather_than_shrinking_below_seven_points() -> None:
    value = "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"
    out = stamp(make_pdf(1), [text(1, 100, 300, 90, 120, value)], test_mode=False)

    extracted = " ".join(page_texts(out)[0].split())
    for word in value.split():
        assert word in extracted
    page = render(out, 0)
    assert dark_pixels(page, (192, 296, 150, 130)) == 0


def test_it_places_an_image_inside_its_box_keeping_its_aspect_ratio() -> None:
    # A 4:1 image in a 2:1 box: full width, half the height, centred vertically.
    png = solid_png((400, 100))
    filled = FilledField(field(FieldType.SIGNATURE, 1, 100, 200, 200, 100), None, png)
    out = stamp(make_pdf(1), [filled], test_mode=False)

    page = render(out, 0)
    assert is_red(pixel(page, 200, 250))  # centre of the box
    assert is_red(pixel(page, 104, 230)) and is_red(pixel(page, 296, 270))  # near the drawn corners
    assert is_white(pixel(page, 200, 210)) and is_white(pixel(page, 200, 290))  # box bands left empty
    assert is_white(pixel(page, 95, 250)) and is_white(pixel(page, 305, 250))  # outside the box


def test_it_embeds_a_signature_used_on_many_pages_once() -> None:
    png = solid_png((300, 100))
    fields = [FilledField(field(FieldType.INITIALS, p, 50, 50, 60, 20), None, png) for p in (1, 2, 3)]
    out = stamp(make_pdf(3), fields, test_mode=False)

    images = set()
    for page in PdfReader(io.BytesIO(out)).pages:
        resources: Any = page["/Resources"]
        xobjects = resources["/XObject"]
        images |= {v.idnum for v in xobjects.values() if v.get_object()["/Subtype"] == "/Image"}
    assert len(images) == 1


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_it_places_fields_where_a_rotated_page_shows_them(rotate: int) -> None:
    pdf = with_page_boxes(make_pdf(1), rotate=rotate)
    displayed_w = PAGE_H if rotate in (90, 270) else PAGE_W
    filled = FilledField(field(FieldType.SIGNATURE, 1, displayed_w - 160, 40, 120, 60), None, solid_png((120, 60)))
    out = stamp(pdf, [filled], test_mode=False)

    page = render(out, 0)
    assert page.width == round(displayed_w * 2)
    assert is_red(pixel(page, displayed_w - 100, 70))
    assert is_white(pixel(page, displayed_w - 100, 120))
    assert is_white(pixel(page, displayed_w - 180, 70))


def test_it_places_fields_relative_to_the_crop_box() -> None:
    pdf = with_page_boxes(make_pdf(1), cropbox=(100, 200, 500, 700))
    filled = FilledField(field(FieldType.SIGNATURE, 1, 10, 10, 50, 50), None, solid_png((50, 50)))
    out = stamp(pdf, [filled], test_mode=False)

    page = render(out, 0)
    assert page.size == (800, 1000)
    assert is_red(pixel(page, 35, 35))
    assert is_white(pixel(page, 35, 70))


def test_it_crosses_checked_boxes_and_leaves_unchecked_ones_blank() -> None:
    fields = [
        FilledField(field(FieldType.CHECKBOX, 1, 100, 100, 14, 14), True, None),
        FilledField(field(FieldType.CHECKBOX, 1, 200, 100, 14, 14), False, None),
        FilledField(field(FieldType.RADIO, 1, 300, 100, 14, 14), True, None),
        FilledField(field(FieldType.CHECKBOX_MERGE, 1, 400, 100, 14, 14), "true", None),
    ]
    out = stamp(make_pdf(1), fields, test_mode=False)

    page = render(out, 0)
    assert dark_pixels(page, (100, 100, 14, 14)) > 20
    assert dark_pixels(page, (200, 100, 14, 14)) == 0
    assert dark_pixels(page, (300, 100, 14, 14)) > 20
    assert dark_pixels(page, (400, 100, 14, 14)) > 20


def test_it_flattens_values_into_page_content_without_form_widgets() -> None:
    fields = [
        text(1, 100, 100, 200, 20, "Flattened value"),
        FilledField(field(FieldType.CHECKBOX, 1, 100, 150, 12, 12), True, None),
        FilledField(field(FieldType.SIGNATURE, 1, 100, 200, 200, 50), None, solid_png((200, 50))),
    ]
    out = stamp(make_pdf(1), fields, test_mode=False)

    reader = PdfReader(io.BytesIO(out))
    assert "/AcroForm" not in reader.root_object
    annotations = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    assert not [a for a in annotations if a.get("/Subtype") == "/Widget"]
    assert "Flattened value" in reader.pages[0].extract_text()


def test_it_links_a_hyperlink_field_to_its_url() -> None:
    link = field(FieldType.HYPERLINK, 1, 100, 100, 200, 16, content="Our terms", content_url="https://example.com/t")
    out = stamp(make_pdf(1), [FilledField(link, None, None)], test_mode=False)

    page = PdfReader(io.BytesIO(out)).pages[0]
    assert "Our terms" in page.extract_text()
    uris = [a.get_object()["/A"]["/URI"] for a in page.get("/Annots", [])]
    assert uris == ["https://example.com/t"]


@pytest.mark.skipif(not DEJAVU.exists(), reason="no DejaVu font: non-Latin text is drawn as '?'")
def test_it_writes_non_latin_text_extractably() -> None:
    out = stamp(make_pdf(1), [text(1, 100, 100, 300, 20, "Иван Петров, Łódź")], test_mode=False)

    assert "Иван Петров, Łódź" in page_texts(out)[0]


def test_it_joins_documents_and_places_fields_by_document_and_page() -> None:
    first, second = make_pdf(2), make_pdf(3)
    fields = [text(2, 100, 100, 200, 20, "in the second document", document_index=1)]
    out = stamp([first, second], fields, test_mode=False)

    texts = page_texts(out)
    assert len(texts) == 5
    assert [i for i, t in enumerate(texts) if "in the second document" in t] == [3]


def test_it_refuses_a_field_on_a_page_the_document_lacks() -> None:
    with pytest.raises(ValueError, match="page 4"):
        stamp(make_pdf(3), [text(4, 100, 100, 200, 20, "lost")], test_mode=False)


def test_it_marks_every_page_in_test_mode() -> None:
    out = stamp(make_pdf(3), [text(1, 100, 100, 200, 20, "value")], test_mode=True)

    assert all(TEST_MODE_MARK in t for t in page_texts(out))
    assert dark_pixels(render(out, 2), (0, 0, PAGE_W, 20)) > 0  # the header band is visible


def test_it_leaves_live_documents_unmarked() -> None:
    out = stamp(make_pdf(3), [text(1, 100, 100, 200, 20, "value")], test_mode=False)

    assert not any("TEST MODE" in t for t in page_texts(out))


# --------------------------------------------------------------------------------------------- audit trail


def test_it_lists_every_signer_event_with_time_ip_and_user_agent() -> None:
    pdf = audit_trail_pdf(trail(), FINAL_SHA)

    for texts in (page_texts(pdf), pdfium_texts(pdf)):
        joined = "\n".join(texts)
        flat = " ".join(joined.split())
        for needle in ("Master services agreement", "Jane Doe", "John Roe", "owner@example.com"):
            assert needle in flat
        lines = list(lines_of(texts))
        for whole in (
            "jane.doe@example.com",
            "john.roe@example.org",
            "203.0.113.7",
            "2001:db8::42",
            "2026-11-28 15:04:05 UTC",
            "2026-11-28 15:06:05 UTC",
            "2026-11-28 16:04:05 UTC",
        ):
            assert any(whole in line for line in lines), whole
        assert CHROME in flat and FIREFOX in flat  # wrapped at spaces, nothing lost or hyphenated


def test_it_states_every_hash_and_the_request_id_on_one_line() -> None:
    originals = [hashlib.sha256(b"one").hexdigest(), hashlib.sha256(b"two").hexdigest()]
    names = ["Master agreement.docx", "annex.pdf"]  # a converted Word file keeps its name and hash
    pdf = audit_trail_pdf(trail(original_sha256=originals, original_names=names), FINAL_SHA)

    for texts in (page_texts(pdf), pdfium_texts(pdf)):
        lines = list(lines_of(texts))
        for whole in [*originals, FINAL_SHA, "fa5c8a0b0f492d768749333ad6fcc214c111e967"]:
            assert any(whole in line for line in lines), whole
        assert any("Master agreement.docx" in line for line in lines)


def test_it_never_splits_an_overlong_email_or_identifier() -> None:
    email = "a.very.long.mailbox.name.used.for.testing.line.breaks." * 2 + "x@subdomain.example-company.com"
    request_id = "f" * 40 + "0123456789" * 10
    signer = AuditSigner("Long Address", email, [AuditEntry(dt.datetime(2026, 1, 2, 3, 4, 5), "signed")])
    pdf = audit_trail_pdf(trail(signers=[signer], signature_request_id=request_id), FINAL_SHA)

    for texts in (page_texts(pdf), pdfium_texts(pdf)):
        lines = list(lines_of(texts))
        assert any(email in line for line in lines)
        assert any(request_id in line for line in lines)


def test_it_continues_on_more_pages_when_there_are_many_signers() -> None:
    at = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    signers = [
        AuditSigner(f"Signer {n}", f"signer{n}@example.com", [AuditEntry(at, "signed", ip=f"198.51.100.{n}")])
        for n in range(60)
    ]
    pdf = audit_trail_pdf(trail(signers=signers), FINAL_SHA)

    texts = page_texts(pdf)
    assert len(texts) > 1
    joined = "\n".join(texts)
    assert all(f"signer{n}@example.com" in joined and f"198.51.100.{n}" in joined for n in range(60))


def test_it_writes_times_in_utc_whatever_zone_they_come_in() -> None:
    eastern = dt.timezone(dt.timedelta(hours=-5))
    assert format_utc(dt.datetime(2026, 11, 28, 10, 4, 5, tzinfo=eastern)) == "2026-11-28 15:04:05 UTC"
    assert format_utc(dt.datetime(2026, 11, 28, 15, 4, 5)) == "2026-11-28 15:04:05 UTC"


def test_it_marks_the_audit_trail_in_test_mode_only() -> None:
    assert all(TEST_MODE_MARK in t for t in page_texts(audit_trail_pdf(trail(test_mode=True), FINAL_SHA)))
    assert not any("TEST MODE" in t for t in page_texts(audit_trail_pdf(trail(), FINAL_SHA)))


# ---------------------------------------------------------------------------------------------- final file


def test_it_builds_stamped_pages_then_the_audit_trail_then_the_seal(sealer: PadesSealer) -> None:
    original = make_pdf(2)
    fields = [text(2, 100, 100, 200, 20, "Signed value")]
    out = build_final(original, fields, trail(original_sha256=[hashlib.sha256(original).hexdigest()]), sealer)

    texts = page_texts(out)
    assert len(texts) >= 3
    assert "Signed value" in texts[1]
    assert "Audit trail" in texts[2] and hashlib.sha256(original).hexdigest() in texts[2]
    assert signature_count(out) == 1
    status = validate_seal(out, sealer.certificate)
    assert status.intact and status.valid and status.trusted


def test_it_states_the_hash_of_the_stamped_pages_that_anyone_can_recompute(sealer: PadesSealer) -> None:
    out = build_final(make_pdf(2), [text(1, 100, 100, 200, 20, "Signed value")], trail(), sealer)

    audit = " ".join(" ".join(page_texts(out)[2:]).split())
    stated_length = re.search(r"the first (\d+) bytes of this PDF file", audit)
    assert stated_length is not None
    revision = out[: int(stated_length.group(1))]
    assert revision == first_revision(out)  # exactly the first revision, nothing more or less
    assert hashlib.sha256(revision).hexdigest() in audit
    stamped = PdfReader(io.BytesIO(revision))
    assert len(stamped.pages) == 2 and "Signed value" in stamped.pages[0].extract_text()


def test_it_marks_test_mode_final_documents_on_every_page(sealer: PadesSealer) -> None:
    out = build_final(make_pdf(2), [], trail(test_mode=True), sealer)

    assert all(TEST_MODE_MARK in t for t in page_texts(out))


# --------------------------------------------------------------------------------------- signature images


def test_it_renders_a_typed_signature_as_dark_ink_on_transparency() -> None:
    image = Image.open(io.BytesIO(render_typed_signature("Jane O'Brien", height_px=120)))

    assert image.format == "PNG" and image.mode == "RGBA" and 40 < image.height <= 120
    alpha = image.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0
    bbox = alpha.getbbox()
    assert bbox is not None  # some ink, cropped to within a hairline of the image's edges
    assert bbox[0] <= 3 and bbox[1] <= 3 and image.width - bbox[2] <= 3 and image.height - bbox[3] <= 3


def test_it_renders_names_the_script_font_lacks_with_a_fallback() -> None:
    if not DEJAVU.exists():
        pytest.skip("no DejaVu font on this system")
    image = Image.open(io.BytesIO(render_typed_signature("Łukasz Żółć")))
    assert image.getchannel("A").getbbox() is not None


def test_it_refuses_an_empty_typed_signature() -> None:
    with pytest.raises(ValueError):
        render_typed_signature("   ")


def test_it_bounds_and_crops_an_uploaded_signature() -> None:
    canvas = Image.new("RGBA", (3000, 2000), (0, 0, 0, 0))
    canvas.paste(Image.new("RGBA", (2400, 600), (0, 0, 80, 255)), (300, 700))
    raw = io.BytesIO()
    canvas.save(raw, format="PNG")

    out = Image.open(io.BytesIO(normalize_signature_image(raw.getvalue(), 10_000_000)))
    assert out.format == "PNG"
    assert out.size == (1200, 300)  # transparent margins cropped, then scaled into 1200x400


def _photo_of_a_signature() -> bytes:
    """A JPEG as a phone takes it: greyish paper, a mid-grey pen stroke in the middle."""
    photo = Image.new("RGB", (600, 300), (214, 210, 200))
    ImageDraw.Draw(photo).line([(150, 200), (250, 110), (350, 190), (450, 100)], fill=(110, 110, 120), width=8)
    raw = io.BytesIO()
    photo.save(raw, format="JPEG", quality=90)
    return raw.getvalue()


def test_it_turns_a_photo_of_a_signature_into_dark_ink_without_its_paper() -> None:
    out = Image.open(io.BytesIO(normalize_signature_image(_photo_of_a_signature(), 10_000_000)))
    assert out.format == "PNG" and out.mode == "RGBA"
    assert 300 <= out.width <= 320 and 100 <= out.height <= 120  # cropped to the stroke
    assert out.getchannel("A").getpixel((0, 0)) == 0  # the paper is gone
    assert out.getchannel("A").getextrema() == (0, 255)  # the stroke in full ink, whatever grey it was


@pytest.mark.parametrize("kind", ["typed", "uploaded"])
def test_a_signature_fills_its_fields_height_with_dark_ink(kind: str) -> None:
    png = render_typed_signature("Jack Doe") if kind == "typed" else _photo_of_a_signature()
    png = normalize_signature_image(png, 10_000_000) if kind == "uploaded" else png
    boxes = [(72.0, 100.0, 200.0, 40.0), (72.0, 300.0, 120.0, 18.0)]
    fields = [FilledField(field(FieldType.SIGNATURE, 1, *box), "Jack Doe", png) for box in boxes]
    image = render(stamp(make_pdf(1), fields, test_mode=False), 0)
    for box in boxes:
        ink = ink_box(image, box)
        assert ink is not None, box
        assert ink[3] >= 0.8 * box[3], (box, ink)  # most of the height, in ink darker than mid-grey
        assert ink[2] <= box[2] + 0.5  # within the box, its aspect ratio kept


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7 not an image", b"", b"\x89PNG\r\n\x1a\n truncated"],
    ids=["pdf", "empty", "truncated-png"],
)
def test_it_refuses_what_is_not_an_image(data: bytes) -> None:
    with pytest.raises(ValueError):
        normalize_signature_image(data, 10_000_000)


def test_it_refuses_other_image_formats_oversized_uploads_and_blank_drawings() -> None:
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    with pytest.raises(ValueError, match="PNG or a JPEG"):
        normalize_signature_image(gif.getvalue(), 10_000_000)
    with pytest.raises(ValueError, match="larger than"):
        normalize_signature_image(solid_png((200, 200)), 100)
    with pytest.raises(ValueError, match="blank"):
        normalize_signature_image(solid_png((200, 200), (0, 0, 0, 0)), 10_000_000)


def test_it_refuses_a_picture_too_large_to_decode_safely() -> None:
    raw = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(raw, format="PNG")  # small file, 50 million pixels

    with pytest.raises(ValueError, match="too many pixels"):
        normalize_signature_image(raw.getvalue(), 10_000_000)
