"""Text tag syntax (API.md 5.2) and where tags are found on real PDFs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pypdfium2 as pdfium
import pytest

from paraph.pdf.model import FieldType
from paraph.pdf.texttags import (
    ParsedTag,
    TagSyntaxError,
    build_fields,
    field_to_api,
    find_tags,
    parse_tag,
)

from .conftest import Line, expected_box

S, INI, T, C, D = (
    FieldType.SIGNATURE,
    FieldType.INITIALS,
    FieldType.TEXT,
    FieldType.CHECKBOX,
    FieldType.DATE_SIGNED,
)
TM, CM = FieldType.TEXT_MERGE, FieldType.CHECKBOX_MERGE

# (tag, expected attributes of the ParsedTag)
WELL_FORMED: list[tuple[str, dict[str, Any]]] = [
    ("[sig|req|signer1]", {"type": S, "required": True, "signer": 0}),
    ("[sig|noreq|signer2]", {"type": S, "required": False, "signer": 1}),
    (
        "[initial|req|signer2|OptionalLabel|OptionalID]",
        {"type": INI, "signer": 1, "label": "OptionalLabel", "unique_id": "OptionalID"},
    ),
    (
        "[text|noreq|signer1|Label|UniqueId]",
        {"type": T, "required": False, "label": "Label", "unique_id": "UniqueId"},
    ),
    (
        "[text|req|signer1|Label|UniqueId|letters_only|firstName]",
        {"validation_type": "letters_only", "auto_fill_type": "firstName"},
    ),
    (
        "[text|req|signer1||||firstName]",
        {"label": None, "unique_id": None, "validation_type": None, "auto_fill_type": "firstName"},
    ),
    ("[text|req|signer1|||numbers_only]", {"validation_type": "numbers_only"}),
    (
        "[text|req|signer1|||EMAIL_ADDRESS|lastname]",
        {"validation_type": "email_address", "auto_fill_type": "lastName"},
    ),
    ("[check|req|signer3]", {"type": C, "signer": 2}),
    ("[date|req|signer1]", {"type": D}),
    (
        "[text-merge|req|sender|firstname|firstname_api_id]",
        {"type": TM, "signer": "sender", "label": "firstname", "unique_id": "firstname_api_id"},
    ),
    ("[checkbox-merge|req|sender|is_registered|product_id]", {"type": CM, "signer": "sender"}),
    ("[text-merge|req|signer1|firstname|firstname_api_id]", {"type": TM, "signer": 0}),
    # anything not understood as a requirement means "req"
    ("[sig|maybe|signer1]", {"required": True}),
    ("[sig||signer1]", {"required": True}),
    ("[sig|req2|signer1]", {"required": True}),
    # padding widens the field and is not part of the tag
    ("[sig|req|signer1          ]", {"signer": 0}),
    ("[sig|req|signer1______]", {"signer": 0}),
    ("[text|req|signer1|Name|name_id   ]", {"unique_id": "name_id"}),
    ("[ SIG | REQ | Signer1 ]", {"type": S, "signer": 0}),
    ("sig|req|signer12", {"signer": 11}),
    # checkbox groups
    (
        "[def:$chk|check|req2|signer1]",
        {
            "kind": "group_def",
            "variable": "chk",
            "group_requirement": "require_2",
            "signer": 0,
            "required": True,
        },
    ),
    (
        "[def:$chk2|check|req1-2|signer2]",
        {"variable": "chk2", "group_requirement": "require_1-2", "signer": 1},
    ),
    ("[def:$c|check|req|signer1]", {"group_requirement": "require_1-ormore"}),
    ("[def:$c|check|noreq|signer1]", {"group_requirement": "require_0-ormore", "required": False}),
    ("[def:$c|check|req0-1|signer1]", {"group_requirement": "require_0-1", "required": False}),
    ("[$chk]", {"kind": "group_use", "type": C, "variable": "chk", "signer": None}),
    ("[$chk|Option A|opt_a]", {"kind": "group_use", "label": "Option A", "unique_id": "opt_a"}),
]

NOT_TAGS = [
    "[1]",
    "[see note]",
    "[a|b|c]",
    "[signature|req|signer1]",  # a form_fields type name, not a text tag token
    "[date]",  # a bare word: a placeholder in prose
    "[text]",
    "[]",
    "[    ]",
    "[$100]",
    "[$ amount due]",
    "[hyperlink|req|signer1]",
]

# (tag, words the reason must contain)
MALFORMED = [
    ("[sig|req]", "missing signer"),
    ("[sig|req|]", "missing signer"),
    ("[sig|req|signerX]", "bad signer"),
    ("[sig|req|signer0]", "counted from 1"),
    ("[sig|req|bob]", "bad signer"),
    ("[sig|req|sender]", "sender"),
    ("[text|req|signer1|||digits_only]", "unknown validation"),
    ("[text|req|signer1||||nickname]", "unknown auto-fill"),
    ("[sig|req|signer1|||numbers_only]", "text tags only"),
    ("[text|req|signer1|a|b|numbers_only|name|extra]", "too many parts"),
    ("[def:chk|check|req1|signer1]", "variable"),
    ("[def:$chk|text|req1|signer1]", "'check'"),
    ("[def:$chk|check|req3-1|signer1]", "N <= M"),
    ("[def:$chk|check|req1]", "missing signer"),
    ("[def:$chk|check|req1|sender]", "not the sender"),
]


@pytest.mark.parametrize(("tag", "expected"), WELL_FORMED, ids=[t for t, _ in WELL_FORMED])
def test_it_parses_well_formed_tags(tag: str, expected: dict[str, Any]) -> None:
    parsed = parse_tag(tag)
    assert isinstance(parsed, ParsedTag), parsed
    for attribute, value in expected.items():
        assert getattr(parsed, attribute) == value, attribute


@pytest.mark.parametrize("text", NOT_TAGS)
def test_it_leaves_bracketed_prose_alone(text: str) -> None:
    assert parse_tag(text) is None


@pytest.mark.parametrize(("tag", "reason"), MALFORMED, ids=[t for t, _ in MALFORMED])
def test_it_reports_malformed_tags(tag: str, reason: str) -> None:
    parsed = parse_tag(tag)
    assert isinstance(parsed, TagSyntaxError), parsed
    assert reason in parsed.reason
    assert parsed.tag.startswith("[")


def test_it_finds_tags_where_reportlab_drew_them(make_pdf: Callable[..., bytes]) -> None:
    first = Line(100, 700, "Sign here: [sig|req|signer1        ] and [text|noreq|signer2|Name|name_id]")
    small = Line(72, 300, "Ref [1] see [see note] then [check|req|signer1]", size=9)
    big = Line(150, 450, "[initial|req|signer2______]", size=20)
    second_page = Line(300, 80, "Date: [date|req|signer1]")
    pdf = pdfium.PdfDocument(make_pdf([[first, small, big], [second_page]]))
    found = find_tags(pdf)

    assert [tag.text.split("|")[0] for tag in found] == ["[sig", "[text", "[check", "[initial", "[date"]
    expectations = [
        (found[0], first, "[sig|req|signer1        ]", 1),
        (found[1], first, "[text|noreq|signer2|Name|name_id]", 1),
        (found[2], small, "[check|req|signer1]", 1),
        (found[3], big, "[initial|req|signer2______]", 1),
        (found[4], second_page, "[date|req|signer1]", 2),
    ]
    for tag, line, fragment, page in expectations:
        x, y, width, height = expected_box(line, fragment)
        assert tag.page == page
        assert tag.x == pytest.approx(x, abs=1.5), fragment
        assert tag.y == pytest.approx(y, abs=1.5), fragment
        assert tag.width == pytest.approx(width, abs=2), fragment
        assert tag.height == pytest.approx(height, abs=2), fragment


def test_it_widens_the_field_with_padding(make_pdf: Callable[..., bytes]) -> None:
    pdf = pdfium.PdfDocument(
        make_pdf([[Line(72, 700, "[sig|req|signer1]"), Line(72, 600, "[sig|req|signer1                    ]")]])
    )
    narrow, wide = find_tags(pdf)
    assert wide.width > narrow.width + 30


def test_it_ignores_tags_split_over_two_lines(make_pdf: Callable[..., bytes]) -> None:
    pdf = pdfium.PdfDocument(make_pdf([[Line(72, 700, "[sig|req|"), Line(72, 686, "signer1]")]]))
    assert find_tags(pdf) == []


def test_it_builds_fields_with_zero_based_signers_and_stable_ids(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf(
        [
            [Line(72, 700, "[sig|req|signer1]  [text|req|signer2|Company|company_id|letters_only]")],
            [Line(72, 700, "[initial|noreq|signer2]  [text-merge|req|sender|firstname]")],
        ]
    )
    result = build_fields(find_tags(pdfium.PdfDocument(data)), document_index=3, signer_count=2)
    assert result.problems == []
    by_id = {field.api_id: field for field in result.fields}
    assert set(by_id) == {"texttag_3_1_1", "company_id", "texttag_3_2_1", "texttag_3_2_2"}
    assert by_id["texttag_3_1_1"].signer == 0 and by_id["texttag_3_1_1"].type is FieldType.SIGNATURE
    assert by_id["company_id"].signer == 1 and by_id["company_id"].name == "Company"
    assert by_id["company_id"].validation_type == "letters_only"
    assert by_id["texttag_3_2_1"].required is False and by_id["texttag_3_2_1"].page == 2
    assert by_id["texttag_3_2_2"].signer == "sender" and by_id["texttag_3_2_2"].name == "firstname"
    assert all(field.document_index == 3 for field in result.fields)
    again = build_fields(find_tags(pdfium.PdfDocument(data)), document_index=3, signer_count=2)
    assert [f.api_id for f in again.fields] == [f.api_id for f in result.fields]


def test_it_builds_checkbox_groups_from_definitions(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf(
        [
            [
                Line(72, 700, "A: [$chk]  B: [$chk]  C: [$chk|Option C|opt_c]"),  # used before the definition
                Line(72, 600, "[def:$chk|check|req2|signer2]  [def:$other|check|req1-2|signer1|Colours]"),
            ],
            [Line(72, 700, "Red [$other]  Blue [$other]")],
        ]
    )
    result = build_fields(find_tags(pdfium.PdfDocument(data)), document_index=0, signer_count=2)
    assert result.problems == []
    assert [(g.group_id, g.requirement, g.group_label) for g in result.groups] == [
        ("chk", "require_2", None),
        ("other", "require_1-2", "Colours"),
    ]
    chk = [f for f in result.fields if f.group == "chk"]
    other = [f for f in result.fields if f.group == "other"]
    assert len(chk) == 3 and len(other) == 2
    assert all(f.type is FieldType.CHECKBOX and f.signer == 1 and f.required for f in chk)
    assert all(f.signer == 0 and f.page == 2 for f in other)
    assert chk[2].api_id == "opt_c" and chk[2].name == "Option C"
    assert len(result.fields) == 5  # definitions place nothing


def test_it_names_the_missing_signer_like_dropbox_sign(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf([[Line(72, 700, "[sig|req|signer1] [sig|req|signer3]")]])
    result = build_fields(find_tags(pdfium.PdfDocument(data)), document_index=0, signer_count=2)
    assert [p.message for p in result.problems] == [
        "Text tags error: No reference found in signer list to components labeled signer 3"
    ]
    assert [f.signer for f in result.fields] == [0]


def test_it_skips_the_signer_check_when_signers_are_unknown(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf([[Line(72, 700, "[sig|req|signer9]")]])
    result = build_fields(find_tags(pdfium.PdfDocument(data)), document_index=0, signer_count=None)
    assert result.problems == [] and result.fields[0].signer == 8


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[sig|req|signerX]", ["bad signer", "[sig|req|signerX]", "page 1"]),
        ("[text|req|signer1|||shoe_size]", ["unknown validation", "page 1"]),
        ("[$nope]", ["$nope", "never defined"]),
        ("[sig|req|signer1|a|dup] [sig|req|signer1|b|dup]", ["unique id 'dup'"]),
        ("[def:$x|check|req|signer1] [def:$x|check|req|signer1] [$x]", ["defined twice"]),
    ],
)
def test_it_explains_tag_problems(make_pdf: Callable[..., bytes], text: str, words: list[str]) -> None:
    data = make_pdf([[Line(40, 700, text, size=10)]])
    result = build_fields(find_tags(pdfium.PdfDocument(data)), document_index=0, signer_count=1)
    assert result.problems, text
    message = result.problems[0].message
    assert message.startswith("Text tags error:")
    for word in words:
        assert word in message


def test_it_drops_uses_of_a_broken_definition_without_a_second_error(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf([[Line(72, 700, "[def:$x|check|req|signer7] [$x] [$x]")]])
    result = build_fields(find_tags(pdfium.PdfDocument(data)), document_index=0, signer_count=1)
    assert len(result.problems) == 1 and "signer 7" in result.problems[0].message
    assert result.fields == []


def test_it_writes_fields_as_api_entries(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf([[Line(72, 700, "[text|req|signer2|Zip|zip|zip_code]")]])
    field = build_fields(find_tags(pdfium.PdfDocument(data)), document_index=0, signer_count=None).fields[0]
    entry = field_to_api(field)
    assert entry["api_id"] == "zip" and entry["signer"] == 1 and entry["type"] == "text"
    assert entry["validation_type"] == "zip_code" and entry["page"] == 1 and entry["name"] == "Zip"
    assert all(isinstance(entry[key], int) for key in ("x", "y", "width", "height"))
    assert entry["x"] == 72


def test_a_check_tag_becomes_a_square_of_the_tags_height(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf(
        [[Line(72, 700, "[check|req|signer1                                        ]  [text|req|signer1]")]]
    )
    tags = find_tags(pdfium.PdfDocument(data))
    box, text = build_fields(tags, document_index=0, signer_count=1).fields
    assert tags[0].width > 150  # the tag's text, padded, is wide...
    assert box.type is FieldType.CHECKBOX and box.width == pytest.approx(box.height) == tags[0].height
    assert (box.x, box.y) == (tags[0].x, tags[0].y)  # ...the checkbox is a square where it starts
    assert text.width == tags[1].width  # other fields keep the tag's extent
