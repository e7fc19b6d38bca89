"""form_fields_per_document / form_field_groups / custom_fields as integrators send them (API.md 5.4)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from paraph.pdf.fields import (
    FieldsError,
    apply_custom_fields,
    normalize_form_fields,
    resolve_legacy_positions,
    validate_positions,
)
from paraph.pdf.model import DocumentError, DocumentErrorKind, FieldType, PageInfo

LETTER = PageInfo(612, 792)
LANDSCAPE = PageInfo(792, 612)


def base(**extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "document_index": 0,
        "api_id": "f1",
        "type": "signature",
        "required": True,
        "signer": 0,
        "x": 100,
        "y": 120,
        "width": 120,
        "height": 30,
        "page": 1,
    }
    entry.update(extra)
    return entry


def normalize(entries: Any, groups: Any = None, signers: int = 2, documents: int = 2) -> Any:
    return normalize_form_fields(entries, signer_count=signers, document_count=documents, form_field_groups=groups)


def test_it_reads_every_field_type() -> None:
    entries = [
        base(api_id="sig", name="Sign"),
        base(api_id="ini", type="initials", signer="1"),
        base(
            api_id="txt",
            type="text",
            placeholder="Your name",
            auto_fill_type="name",
            link_id="l1",
            masked=True,
            validation_type="custom_regex",
            validation_custom_regex=r"^\d{5}$",
            validation_custom_regex_format_label="5 digits",
            font_family="Roboto",
            font_size=10,
            content="prefilled",
        ),
        base(api_id="date", type="date_signed", document_index=1, page=2),
        base(api_id="chk", type="checkbox", is_checked=True, group="g1"),
        base(api_id="chk2", type="checkbox", is_checked=False, group="g1"),
        base(api_id="r1", type="radio", is_checked=False, group="r"),
        base(api_id="r2", type="radio", is_checked=True, group="r"),
        base(api_id="dd", type="dropdown", options=["a", "b"], content="b"),
        base(api_id="link", type="hyperlink", content="Terms", content_url="https://example.com/terms"),
        base(api_id="tm", type="text-merge", signer="sender", name="firstname"),
        base(api_id="cm", type="checkbox-merge", signer="sender", name="agree"),
        base(api_id="now", type="text", signer="me_now", content="ACME Inc."),
    ]
    groups = [
        {"group_id": "g1", "group_label": "Options", "requirement": "require_1-ormore"},
        {"group_id": "r", "requirement": "require_1"},
    ]
    fields, field_groups = normalize(entries, groups)
    by_id = {f.api_id: f for f in fields}
    assert [f.api_id for f in fields] == [e["api_id"] for e in entries]
    assert by_id["sig"].type is FieldType.SIGNATURE and by_id["sig"].name == "Sign"
    assert by_id["ini"].signer == 1
    text = by_id["txt"]
    assert (text.placeholder, text.auto_fill_type, text.link_id, text.masked) == (
        "Your name",
        "name",
        "l1",
        True,
    )
    assert (text.validation_type, text.validation_custom_regex) == ("custom_regex", r"^\d{5}$")
    assert text.validation_custom_regex_format_label == "5 digits"
    assert (text.font_family, text.font_size, text.content) == ("roboto", 10, "prefilled")
    assert by_id["date"].document_index == 1 and by_id["date"].page == 2
    assert by_id["chk"].is_checked and by_id["chk"].group == "g1"
    assert by_id["r2"].is_checked and by_id["r1"].group == "r"
    assert by_id["dd"].options == ["a", "b"] and by_id["dd"].content == "b"
    assert (by_id["link"].content, by_id["link"].content_url) == ("Terms", "https://example.com/terms")
    assert by_id["tm"].signer == "sender" and by_id["cm"].type is FieldType.CHECKBOX_MERGE
    assert by_id["now"].signer == "me_now"
    assert (by_id["sig"].x, by_id["sig"].y, by_id["sig"].width, by_id["sig"].height) == (100, 120, 120, 30)
    assert [(g.group_id, g.requirement, g.group_label) for g in field_groups] == [
        ("g1", "require_1-ormore", "Options"),
        ("r", "require_1", None),
    ]


def test_it_reads_the_legacy_list_per_document() -> None:
    legacy = [[base(api_id="a")], [base(api_id="b", signer=1)]]
    for entry in legacy[1]:
        del entry["document_index"]
    fields, _ = normalize(legacy)
    assert [(f.api_id, f.document_index, f.signer) for f in fields] == [("a", 0, 0), ("b", 1, 1)]


def test_it_accepts_nothing() -> None:
    assert normalize(None) == ([], [])
    assert normalize([]) == ([], [])


ERRORS: list[tuple[str, list[Any], Any, str, str]] = [
    # (id, entries, groups, error_path, words in message)
    (
        "missing api_id",
        [{k: v for k, v in base().items() if k != "api_id"}],
        None,
        "form_fields_per_document[0].api_id",
        "required",
    ),
    (
        "missing signer",
        [{k: v for k, v in base().items() if k != "signer"}],
        None,
        "form_fields_per_document[0].signer",
        "required",
    ),
    (
        "missing x",
        [base(), {k: v for k, v in base(api_id="f2").items() if k != "x"}],
        None,
        "form_fields_per_document[1].x",
        "required",
    ),
    (
        "missing document_index",
        [{k: v for k, v in base().items() if k != "document_index"}],
        None,
        "form_fields_per_document[0].document_index",
        "required",
    ),
    ("unknown type", [base(type="stamp")], None, "form_fields_per_document[0].type", "type must be one of"),
    (
        "signer out of range",
        [base(), base(api_id="f2"), base(api_id="f3"), base(api_id="f4", signer=2)],
        None,
        "form_fields_per_document[3].signer",
        "out of range",
    ),
    (
        "signer string out of range",
        [base(signer="5")],
        None,
        "form_fields_per_document[0].signer",
        "out of range",
    ),
    ("signer negative", [base(signer=-1)], None, "form_fields_per_document[0].signer", "out of range"),
    ("signer nonsense", [base(signer="bob")], None, "form_fields_per_document[0].signer", "signer index"),
    ("sender on a signature", [base(signer="sender")], None, "form_fields_per_document[0].signer", "merge"),
    ("duplicate api_id", [base(), base()], None, "form_fields_per_document[1].api_id", "more than one"),
    (
        "dropdown without options",
        [base(type="dropdown")],
        None,
        "form_fields_per_document[0].options",
        "options",
    ),
    (
        "dropdown empty options",
        [base(type="dropdown", options=[])],
        None,
        "form_fields_per_document[0].options",
        "options",
    ),
    (
        "dropdown content not an option",
        [base(type="dropdown", options=["a"], content="z")],
        None,
        "form_fields_per_document[0].content",
        "options",
    ),
    (
        "radio without group",
        [base(type="radio", is_checked=False)],
        None,
        "form_fields_per_document[0].group",
        "group",
    ),
    (
        "document_index out of range",
        [base(document_index=2)],
        None,
        "form_fields_per_document[0].document_index",
        "out of range",
    ),
    (
        "custom_regex without regex",
        [base(type="text", validation_type="custom_regex")],
        None,
        "form_fields_per_document[0].validation_custom_regex",
        "required",
    ),
    (
        "custom_regex invalid",
        [base(type="text", validation_type="custom_regex", validation_custom_regex="(")],
        None,
        "form_fields_per_document[0].validation_custom_regex",
        "regular expression",
    ),
    (
        "unknown validation",
        [base(type="text", validation_type="shoe_size")],
        None,
        "form_fields_per_document[0].validation_type",
        "validation_type",
    ),
    (
        "unknown group",
        [base(type="checkbox", is_checked=False, group="nope")],
        None,
        "form_fields_per_document[0].group",
        "not defined",
    ),
    (
        "unknown radio group",
        [base(type="radio", is_checked=False, group="nope")],
        [{"group_id": "other", "requirement": "require_1"}],
        "form_fields_per_document[0].group",
        "not defined",
    ),
    (
        "two radios checked",
        [
            base(api_id="a", type="radio", is_checked=True, group="r"),
            base(api_id="b", type="radio", is_checked=True, group="r"),
        ],
        [{"group_id": "r", "requirement": "require_1"}],
        "form_fields_per_document[1].is_checked",
        "only one",
    ),
    (
        "group with two signers",
        [
            base(api_id="a", type="checkbox", group="g"),
            base(api_id="b", type="checkbox", group="g", signer=1),
        ],
        [{"group_id": "g", "requirement": "require_1"}],
        "form_fields_per_document[1].signer",
        "same signer",
    ),
    (
        "bad group requirement",
        [base()],
        [{"group_id": "g", "requirement": "require_2"}],
        "form_field_groups[0].requirement",
        "requirement",
    ),
    (
        "duplicate group",
        [base()],
        [{"group_id": "g", "requirement": "require_1"}, {"group_id": "g", "requirement": "require_1"}],
        "form_field_groups[1].group_id",
        "more than once",
    ),
    (
        "font size too big",
        [base(type="text", font_size=50)],
        None,
        "form_fields_per_document[0].font_size",
        "49",
    ),
    (
        "unknown font",
        [base(type="text", font_family="comic")],
        None,
        "form_fields_per_document[0].font_family",
        "font_family",
    ),
    (
        "hyperlink without url",
        [base(type="hyperlink", content="x")],
        None,
        "form_fields_per_document[0].content_url",
        "required",
    ),
    ("zero width", [base(width=0)], None, "form_fields_per_document[0].width", "greater than"),
    ("negative x", [base(x=-5)], None, "form_fields_per_document[0].x", "at least"),
    ("page zero", [base(page=0)], None, "form_fields_per_document[0].page", "at least 1"),
    (
        "required not boolean",
        [base(required="perhaps")],
        None,
        "form_fields_per_document[0].required",
        "boolean",
    ),
    ("not an object", ["signature"], None, "form_fields_per_document[0]", "object"),
]


@pytest.mark.parametrize(("entries", "groups", "path", "words"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_it_rejects_invalid_fields_with_a_path(entries: list[Any], groups: Any, path: str, words: str) -> None:
    with pytest.raises(FieldsError) as caught:
        normalize(copy.deepcopy(entries), groups)
    assert caught.value.error_path == path
    assert words in caught.value.message


def test_it_gives_legacy_paths_for_the_legacy_format() -> None:
    with pytest.raises(FieldsError) as caught:
        normalize([[base()], [base(api_id="x", document_index=1, signer=9)]])
    assert caught.value.error_path == "form_fields_per_document[1][0].signer"


def test_it_converts_legacy_coordinates_with_page_sizes() -> None:
    entries = [
        base(api_id="p1", x=200, y=100, width=100, height=50),
        base(api_id="p2", x=200, y=880 + 20, width=100, height=50),  # 880 legacy px = one letter page
        base(api_id="land", document_index=1, x=50, y=10, width=100, height=50),
        base(api_id="beyond", x=200, y=880 * 3, width=100, height=50),
    ]
    for entry in entries:
        del entry["page"]
    fields, _ = normalize_form_fields(
        entries, signer_count=1, document_count=2, pages_per_document=[[LETTER, LETTER], [LANDSCAPE]]
    )
    by_id = {f.api_id: f for f in fields}
    placed = {
        key: (f.page, round(f.x, 6), round(f.y, 6), round(f.width, 6), round(f.height, 6)) for key, f in by_id.items()
    }
    assert placed["p1"] == (1, 90, 90, 90, 45)  # 80 DPI -> 72 DPI, portrait x origin at 100
    assert placed["p2"] == (2, 90, 18, 90, 45)  # y 900 = 20 legacy px into page 2
    assert placed["land"] == (1, 45, 9, 90, 45)  # landscape: x origin at 0
    assert by_id["beyond"].page == 3
    with pytest.raises(DocumentError) as caught:
        validate_positions([by_id["beyond"]], [[LETTER, LETTER], [LANDSCAPE]])
    assert caught.value.kind is DocumentErrorKind.COMPONENT_POSITION


def test_it_keeps_legacy_fields_pending_until_pages_are_known() -> None:
    entry = base(x=300, y=50)
    del entry["page"]
    fields, _ = normalize([entry])
    assert fields[0].page == 0 and fields[0].x == 300
    resolve_legacy_positions(fields, [[LETTER]])
    assert fields[0].page == 1 and fields[0].x == pytest.approx(180)


def test_it_refuses_fields_off_the_page() -> None:
    fields, _ = normalize([base(api_id="far", page=3)])
    with pytest.raises(DocumentError) as caught:
        validate_positions(fields, [[LETTER, LETTER]])
    assert caught.value.kind is DocumentErrorKind.COMPONENT_POSITION
    assert "far" in caught.value.message and "page 3" in caught.value.message

    fields, _ = normalize([base(api_id="right", x=700)])
    with pytest.raises(DocumentError) as caught:
        validate_positions(fields, [[LETTER]])
    assert caught.value.kind is DocumentErrorKind.COMPONENT_POSITION and "outside" in caught.value.message


def test_it_clips_fields_that_overhang_the_page_edge() -> None:
    fields, _ = normalize([base(api_id="edge", x=550, y=770, width=100, height=40), base(api_id="ok")])
    warnings = validate_positions(fields, [[LETTER]])
    assert len(warnings) == 1 and "edge" in warnings[0]
    assert fields[0].x + fields[0].width == pytest.approx(612)
    assert fields[0].y + fields[0].height == pytest.approx(792)
    assert (fields[1].width, fields[1].height) == (120, 30)


def test_it_fills_merge_fields_from_custom_fields() -> None:
    fields, _ = normalize(
        [
            base(api_id="first", type="text-merge", signer="sender", name="firstname"),
            base(api_id="again", type="text-merge", signer="sender", name="firstname", page=2),
            base(api_id="reg", type="checkbox-merge", signer="sender", name="is_registered"),
            base(api_id="edit", type="text-merge", signer="sender", name="company"),
            base(api_id="sig", name="firstname"),
        ]
    )
    unmatched = apply_custom_fields(
        fields,
        [
            {"name": "firstname", "value": "John"},
            {"name": "is_registered", "value": "true"},
            {"name": "company", "value": "ACME", "editor": "Client", "required": True},
            {"name": "unknown", "value": "x"},
        ],
        editor_index=lambda role: {"Client": 1}.get(role),
    )
    by_id = {f.api_id: f for f in fields}
    assert by_id["first"].content == "John" and by_id["again"].content == "John"
    assert by_id["reg"].is_checked is True and by_id["reg"].content == "true"
    assert by_id["edit"].content == "ACME" and by_id["edit"].signer == 1 and by_id["edit"].required
    assert by_id["sig"].content is None  # not a merge field
    assert unmatched == ["unknown"]


def test_it_rejects_custom_fields_naming_no_signer_as_editor() -> None:
    fields, _ = normalize([base(type="text-merge", signer="sender", name="company")])
    with pytest.raises(FieldsError) as caught:
        apply_custom_fields(fields, [{"name": "company", "value": "ACME", "editor": "Nobody"}])
    assert caught.value.error_path == "custom_fields[0].editor"
    with pytest.raises(FieldsError) as caught:
        apply_custom_fields(fields, [{"value": "ACME"}])
    assert caught.value.error_path == "custom_fields[0].name"
