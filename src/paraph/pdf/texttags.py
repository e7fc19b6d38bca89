"""Dropbox Sign text tags: ``[type|requirement|signer|label|unique_id|validation|auto_fill]`` in a PDF's text.

Three layers, so that each can be used and tested alone:

* :func:`parse_tag` reads one bracketed string. Bracketed prose (``[1]``, ``[see note]``, ``[date]``) is not
  a tag and yields None; a string that is clearly meant as a tag (a known type token followed by ``|``, a
  ``def:`` definition, a ``$variable`` use) but is malformed yields a :class:`TagSyntaxError`.
* :func:`find_page_tags` finds the bracketed runs on one line of a page's text with pypdfium2 and measures
  their rendered extent, which is the field's box (padding a tag with spaces or underscores widens it).
* :func:`build_fields` turns the tags of one document into :class:`Field` and :class:`FieldGroup` objects,
  checking what needs the whole document or the request (signer indexes, ``def:`` variables, unique ids).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from paraph.pdf.model import TAG_VALIDATION_TYPES as VALIDATION_TYPES
from paraph.pdf.model import Field, FieldGroup, FieldType, PageInfo

#: Type token -> field type (the walkthrough's exact tokens; matched case-insensitively).
TYPE_TOKENS: dict[str, FieldType] = {
    "sig": FieldType.SIGNATURE,
    "initial": FieldType.INITIALS,
    "text": FieldType.TEXT,
    "check": FieldType.CHECKBOX,
    "date": FieldType.DATE_SIGNED,
    "text-merge": FieldType.TEXT_MERGE,
    "checkbox-merge": FieldType.CHECKBOX_MERGE,
}
MERGE_TYPES = frozenset({FieldType.TEXT_MERGE, FieldType.CHECKBOX_MERGE})
AUTO_FILL_TYPES = ("firstName", "lastName", "name", "email", "company", "title")
_VALIDATION_BY_KEY = {v.lower(): v for v in VALIDATION_TYPES}
_AUTO_FILL_BY_KEY = {v.lower(): v for v in AUTO_FILL_TYPES}

_MAX_PARTS = 7
_SIGNER_RE = re.compile(r"signer(\d+)", re.IGNORECASE)
_VARIABLE_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_-]*)")
_GROUP_REQ_RE = re.compile(r"req(\d+)(?:-(\d+))?", re.IGNORECASE)
#: A bracketed run on one line of extracted text. A tag split over two lines is not a tag (Dropbox Sign
#: behaves the same); nested brackets are not tags either.
_BRACKETED_RE = re.compile(r"\[[^\[\]\r\n]{1,400}\]")

TagKind = Literal["field", "group_def", "group_use"]


@dataclass(frozen=True, slots=True)
class ParsedTag:
    """The meaning of one well-formed tag.

    ``kind`` is ``field`` for an ordinary tag, ``group_def`` for ``[def:$var|check|reqN|signerN]`` (places
    nothing itself) and ``group_use`` for ``[$var]`` (a checkbox of the variable's group).
    """

    kind: TagKind
    type: FieldType
    required: bool = True
    signer: int | Literal["sender"] | None = None  # 0-based; None for a group use (the def decides)
    label: str | None = None
    unique_id: str | None = None
    validation_type: str | None = None
    auto_fill_type: str | None = None
    variable: str | None = None  # group def / use, without the "$"
    group_requirement: str | None = None  # group def: require_N | require_N-M | require_1-ormore | ...


@dataclass(frozen=True, slots=True)
class TagSyntaxError:
    """A string clearly meant as a tag that cannot be understood. ``reason`` says why, for people."""

    tag: str
    reason: str


@dataclass(frozen=True, slots=True)
class FoundTag:
    """A tag (or malformed tag) found on a page.

    ``x``/``y``/``width``/``height`` are points from the page's displayed top-left corner (rotation and
    crop box applied); ``pdf_rect`` is the tag's full extent in PDF user space (left, bottom, right, top),
    the font's whole height included, which is what a white cover rectangle needs.
    """

    page: int  # 1-based
    order: int  # 1-based position among the tags of its page, in reading order
    text: str
    parsed: ParsedTag | TagSyntaxError
    x: float
    y: float
    width: float
    height: float
    pdf_rect: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class TagProblem:
    """A text tag that makes the document unusable (unless extraction errors are ignored)."""

    message: str
    page: int
    order: int
    tag: str


@dataclass(slots=True)
class TagBuildResult:
    fields: list[Field]
    groups: list[FieldGroup]
    problems: list[TagProblem]


# --------------------------------------------------------------------------------------------- parsing


def parse_tag(text: str) -> ParsedTag | TagSyntaxError | None:
    """Read one tag such as ``[text|req|signer1|Label|id|numbers_only|firstName]``.

    The brackets are optional. Returns None for bracketed text that is not a tag (it stays plain text),
    a TagSyntaxError for a malformed tag, a ParsedTag otherwise. A bare type word without any ``|``
    (``[date]``, ``[text]``) is treated as prose: it names no signer and documents use such placeholders.
    """
    raw = text.strip()
    body = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    # Padding before "]" widens the field: "[sig|req|signer1      ]" or "[sig|req|signer1_____]".
    body = body.strip().rstrip("_").strip()
    if not body:
        return None
    parts = [part.strip() for part in body.split("|")]
    head = parts[0].lower()
    tag = f"[{body}]"
    if head.startswith("def:"):
        return _parse_group_def(tag, parts)
    if head.startswith("$"):
        return _parse_group_use(tag, parts)
    field_type = TYPE_TOKENS.get(head)
    if field_type is None or len(parts) == 1:
        return None
    return _parse_field(tag, field_type, parts)


def _parse_field(tag: str, field_type: FieldType, parts: list[str]) -> ParsedTag | TagSyntaxError:
    if len(parts) > _MAX_PARTS:
        return TagSyntaxError(tag, f"too many parts ({len(parts)}; at most {_MAX_PARTS})")
    parts = parts + [""] * (_MAX_PARTS - len(parts))
    _type, requirement, signer_token, label, unique_id, validation, auto_fill = parts
    signer = _parse_signer(signer_token)
    if isinstance(signer, _BadSigner):
        return TagSyntaxError(tag, signer.reason)
    if signer == "sender" and field_type not in MERGE_TYPES:
        return TagSyntaxError(tag, "'sender' can only fill text-merge and checkbox-merge tags")
    validation_type: str | None = None
    if validation:
        validation_type = _VALIDATION_BY_KEY.get(validation.lower())
        if validation_type is None:
            return TagSyntaxError(tag, f"unknown validation type '{validation}'")
        if field_type is not FieldType.TEXT:
            return TagSyntaxError(tag, "a validation type applies to text tags only")
    auto_fill_type: str | None = None
    if auto_fill:
        auto_fill_type = _AUTO_FILL_BY_KEY.get(auto_fill.lower())
        if auto_fill_type is None:
            return TagSyntaxError(tag, f"unknown auto-fill type '{auto_fill}'")
        if field_type is not FieldType.TEXT:
            return TagSyntaxError(tag, "an auto-fill type applies to text tags only")
    return ParsedTag(
        kind="field",
        type=field_type,
        required=requirement.lower() != "noreq",  # anything not understood means "req"
        signer=signer,
        label=label or None,
        unique_id=unique_id or None,
        validation_type=validation_type,
        auto_fill_type=auto_fill_type,
    )


@dataclass(frozen=True, slots=True)
class _BadSigner:
    reason: str


def _parse_signer(token: str) -> int | Literal["sender"] | _BadSigner:
    """0-based signer index, ``"sender"``, or why the token is wrong."""
    if not token:
        return _BadSigner("missing signer (expected signerN, N counted from 1)")
    if token.lower() == "sender":
        return "sender"
    match = _SIGNER_RE.fullmatch(token)
    if match is None:
        return _BadSigner(f"bad signer '{token}' (expected signerN, N counted from 1)")
    number = int(match.group(1))
    if number < 1:
        return _BadSigner(f"bad signer '{token}' (signers are counted from 1)")
    return number - 1


def _parse_group_def(tag: str, parts: list[str]) -> ParsedTag | TagSyntaxError:
    """``[def:$var|check|reqN or reqN-M|signerN(|group label)]``."""
    variable = _VARIABLE_RE.fullmatch(parts[0][4:].strip())
    if variable is None:
        return TagSyntaxError(tag, "a definition must name a variable like def:$name")
    if len(parts) > 5:
        return TagSyntaxError(tag, f"too many parts in a definition ({len(parts)}; at most 5)")
    parts = parts + [""] * (5 - len(parts))
    _def, type_token, requirement, signer_token, group_label = parts
    if type_token.lower() != "check":
        return TagSyntaxError(tag, f"a definition's type must be 'check', not '{type_token}'")
    signer = _parse_signer(signer_token)
    if isinstance(signer, _BadSigner):
        return TagSyntaxError(tag, signer.reason)
    if signer == "sender":
        return TagSyntaxError(tag, "a group is filled by a signer, not the sender")
    group_requirement = _group_requirement(requirement)
    if group_requirement is None:
        return TagSyntaxError(tag, f"bad group rule '{requirement}' (reqN-M needs N <= M)")
    return ParsedTag(
        kind="group_def",
        type=FieldType.CHECKBOX,
        required=not group_requirement.startswith("require_0"),
        signer=signer,
        label=group_label or None,
        variable=variable.group(1),
        group_requirement=group_requirement,
    )


def _group_requirement(token: str) -> str | None:
    """reqN -> require_N, reqN-M -> require_N-M, noreq -> require_0-ormore, else require_1-ormore."""
    lowered = token.lower()
    if lowered == "noreq":
        return "require_0-ormore"
    match = _GROUP_REQ_RE.fullmatch(lowered)
    if match is None:
        return "require_1-ormore"
    low = int(match.group(1))
    if match.group(2) is None:
        return f"require_{low}"
    high = int(match.group(2))
    if high < low:
        return None
    return f"require_{low}-{high}"


def _parse_group_use(tag: str, parts: list[str]) -> ParsedTag | TagSyntaxError | None:
    """``[$var]``, optionally ``[$var|label|unique_id]``."""
    variable = _VARIABLE_RE.fullmatch(parts[0])
    if variable is None:
        return None  # "[$100]", "[$ amount]": prose
    if len(parts) > 3:
        return TagSyntaxError(tag, f"too many parts in a group checkbox ({len(parts)}; at most 3)")
    parts = parts + [""] * (3 - len(parts))
    return ParsedTag(
        kind="group_use",
        type=FieldType.CHECKBOX,
        label=parts[1] or None,
        unique_id=parts[2] or None,
        variable=variable.group(1),
    )


# ------------------------------------------------------------------------------------------ extraction


@dataclass(frozen=True, slots=True)
class PageGeometry:
    """How PDF user space maps onto the displayed page: crop box and /Rotate."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int  # clockwise degrees: 0, 90, 180, 270

    @classmethod
    def of(cls, page: pdfium.PdfPage) -> PageGeometry:
        left, bottom, right, top = page.get_bbox()
        return cls(float(left), float(bottom), float(right), float(top), int(page.get_rotation()) % 360)

    @property
    def info(self) -> PageInfo:
        width, height = self.right - self.left, self.top - self.bottom
        return PageInfo(height, width) if self.rotation in (90, 270) else PageInfo(width, height)

    def to_top_left(self, rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in user space -> (x, y, width, height) from the displayed top-left."""
        left, bottom, right, top = rect
        # Unrotated page, origin top-left, y down.
        u0, u1 = left - self.left, right - self.left
        v0, v1 = self.top - top, self.top - bottom
        w0, h0 = self.right - self.left, self.top - self.bottom
        if self.rotation == 90:
            x0, x1, y0, y1 = h0 - v1, h0 - v0, u0, u1
        elif self.rotation == 180:
            x0, x1, y0, y1 = w0 - u1, w0 - u0, h0 - v1, h0 - v0
        elif self.rotation == 270:
            x0, x1, y0, y1 = v0, v1, w0 - u1, w0 - u0
        else:
            x0, x1, y0, y1 = u0, u1, v0, v1
        return x0, y0, x1 - x0, y1 - y0


def find_page_tags(page: pdfium.PdfPage, page_number: int, geometry: PageGeometry | None = None) -> list[FoundTag]:
    """The tags (well-formed or not) on one page, with their rendered extent.

    One text extraction per page, a regular expression over it, and four pdfium calls per candidate: the
    cost is dominated by pdfium building the text page.
    """
    geometry = geometry or PageGeometry.of(page)
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        if "[" not in text:
            return []
        found: list[FoundTag] = []
        for match in _BRACKETED_RE.finditer(text):
            parsed = parse_tag(match.group())
            if parsed is None:
                continue
            rects = _run_rect(textpage, match.start(), match.end() - 1)
            if rects is None:
                continue
            x, y, width, height = geometry.to_top_left(rects[0])
            found.append(
                FoundTag(
                    page=page_number,
                    order=len(found) + 1,
                    text=match.group(),
                    parsed=parsed,
                    x=x,
                    y=y,
                    width=width,
                    height=height,
                    pdf_rect=rects[1],
                )
            )
        return found
    finally:
        textpage.close()


def _run_rect(
    textpage: pdfium.PdfTextPage, first: int, last: int
) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float]] | None:
    """Extents of the characters from the opening to the closing bracket (text indexes), in user space.

    Returns (field box, cover box). The field spans the brackets' advance widths horizontally and the
    bracket glyphs vertically: brackets reach from about the ascender to the descender in every common
    font, so the height follows the font size, not the letters inside the tag. The cover box uses the
    font's full bounds, so that hiding leaves no trace of any glyph.
    """
    loose: list[tuple[float, float, float, float]] = []
    tight: list[tuple[float, float, float, float]] = []
    for text_index in (first, last):
        char_index = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, text_index)
        if char_index < 0:
            char_index = text_index
        try:
            loose.append(textpage.get_charbox(char_index, loose=True))
            tight.append(textpage.get_charbox(char_index))
        except pdfium.PdfiumError:
            return None
    left, right = _span(loose, 0, 2)
    bottom, top = _span(tight, 1, 3)
    cover_bottom, cover_top = _span(loose, 1, 3)
    if right - left <= 0 or top - bottom <= 0:
        return None
    return (left, bottom, right, top), (left, min(bottom, cover_bottom), right, max(top, cover_top))


def _span(boxes: list[tuple[float, float, float, float]], low: int, high: int) -> tuple[float, float]:
    values = [box[low] for box in boxes] + [box[high] for box in boxes]
    return min(values), max(values)


def find_tags(pdf: pdfium.PdfDocument, page_numbers: Iterable[int] | None = None) -> list[FoundTag]:
    """Tags on the given 1-based pages (all pages by default), in page then reading order."""
    numbers = range(1, len(pdf) + 1) if page_numbers is None else page_numbers
    found: list[FoundTag] = []
    for number in numbers:
        page = pdf[number - 1]
        try:
            found.extend(find_page_tags(page, number))
        finally:
            page.close()
    return found


# ------------------------------------------------------------------------------------------ building


def signer_reference_message(signer: int) -> str:
    """Dropbox Sign's wording for a tag naming a signer the request does not have (``signer`` 0-based)."""
    return f"Text tags error: No reference found in signer list to components labeled signer {signer + 1}"


_SQUARE_TYPES = frozenset({FieldType.CHECKBOX, FieldType.CHECKBOX_MERGE, FieldType.RADIO})


def build_fields(
    tags: list[FoundTag],
    *,
    document_index: int,
    signer_count: int | None,
) -> TagBuildResult:
    """Fields and checkbox groups for one document's tags, and every problem found.

    ``signer_count`` None skips the signer-index check (field detection, where signers are unknown).
    A tag with a problem yields no field; a ``[$var]`` whose definition is broken yields none either.
    Auto-generated api_ids (``texttag_<doc>_<page>_<order>``) are stable for a given document.
    """
    problems: list[TagProblem] = []

    def problem(tag: FoundTag, message: str) -> None:
        problems.append(TagProblem(message, tag.page, tag.order, tag.text))

    def signer_ok(tag: FoundTag, signer: int | str | None) -> bool:
        if isinstance(signer, int) and signer_count is not None and signer >= signer_count:
            problem(tag, signer_reference_message(signer))
            return False
        return True

    definitions: dict[str, ParsedTag] = {}
    broken_variables: set[str] = set()
    for tag in tags:
        parsed = tag.parsed
        if isinstance(parsed, TagSyntaxError):
            problem(tag, f"Text tags error: {parsed.reason} in tag {parsed.tag} on page {tag.page}")
            if parsed.tag.lower().startswith("[def:"):
                defined = _VARIABLE_RE.match(parsed.tag[5:].strip())
                if defined is not None:
                    broken_variables.add(defined.group(1))
        elif parsed.kind == "group_def" and parsed.variable is not None:
            if parsed.variable in definitions:
                problem(tag, f"Text tags error: ${parsed.variable} is defined twice (page {tag.page})")
            elif signer_ok(tag, parsed.signer):
                definitions[parsed.variable] = parsed
            else:
                broken_variables.add(parsed.variable)

    fields: list[Field] = []
    used_ids: dict[str, FoundTag] = {}
    used_variables: list[str] = []
    pending_ids: list[tuple[Field, FoundTag]] = []
    for tag in tags:
        parsed = tag.parsed
        if isinstance(parsed, TagSyntaxError) or parsed.kind == "group_def":
            continue
        group: str | None = None
        required = parsed.required
        signer = parsed.signer
        if parsed.kind == "group_use":
            variable = parsed.variable or ""
            definition = definitions.get(variable)
            if definition is None:
                if variable not in broken_variables:
                    problem(
                        tag,
                        f"Text tags error: ${variable} is used in tag {tag.text} on page {tag.page} "
                        f"but never defined with [def:${variable}|check|req|signerN]",
                    )
                continue
            group, required, signer = variable, definition.required, definition.signer
            if variable not in used_variables:
                used_variables.append(variable)
        elif not signer_ok(tag, signer):
            continue
        assert signer is not None
        # A checkbox is a square of the tag's height at its start, however many spaces pad the tag's text.
        width = min(tag.width, tag.height) if parsed.type in _SQUARE_TYPES else tag.width
        field = Field(
            api_id=parsed.unique_id or "",
            type=parsed.type,
            signer=signer,
            document_index=document_index,
            page=tag.page,
            x=tag.x,
            y=tag.y,
            width=width,
            height=tag.height,
            required=required,
            name=parsed.label,
            validation_type=parsed.validation_type,
            auto_fill_type=parsed.auto_fill_type,
            group=group,
        )
        if parsed.unique_id:
            if parsed.unique_id in used_ids:
                first = used_ids[parsed.unique_id]
                problem(
                    tag,
                    f"Text tags error: unique id '{parsed.unique_id}' of tag {tag.text} on page {tag.page} "
                    f"is already used by a tag on page {first.page}",
                )
                continue
            used_ids[parsed.unique_id] = tag
        else:
            pending_ids.append((field, tag))
        fields.append(field)

    for field, tag in pending_ids:
        candidate = base = f"texttag_{document_index}_{tag.page}_{tag.order}"
        suffix = 1
        while candidate in used_ids:
            suffix += 1
            candidate = f"{base}_{suffix}"
        used_ids[candidate] = tag
        field.api_id = candidate

    groups = [
        FieldGroup(
            group_id=variable,
            requirement=definitions[variable].group_requirement or "require_1-ormore",
            group_label=definitions[variable].label,
        )
        for variable in used_variables
    ]
    problems.sort(key=lambda p: (p.page, p.order))
    return TagBuildResult(fields, groups, problems)


def field_to_api(field: Field) -> dict[str, Any]:
    """A field as a ``form_fields_per_document`` entry (72-DPI page coordinates, integers)."""
    entry: dict[str, Any] = {
        "api_id": field.api_id,
        "name": field.name or "",
        "type": field.type.value,
        "signer": field.signer,
        "x": round(field.x),
        "y": round(field.y),
        "width": round(field.width),
        "height": round(field.height),
        "page": field.page,
        "document_index": field.document_index,
        "required": field.required,
    }
    if field.validation_type:
        entry["validation_type"] = field.validation_type
    if field.auto_fill_type:
        entry["auto_fill_type"] = field.auto_fill_type
    if field.type in (FieldType.CHECKBOX, FieldType.RADIO):
        entry["is_checked"] = field.is_checked
        if field.group:
            entry["group"] = field.group
    return entry
