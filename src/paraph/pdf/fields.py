"""``form_fields_per_document`` and ``form_field_groups`` as the API receives them -> Field / FieldGroup.

Validation happens here, synchronously, so the API can answer ``400 bad_request`` with an ``error_path``
(``form_fields_per_document[3].signer``) instead of failing the request later. Two coordinate systems
exist (see the help-center article on form_fields_per_document):

* with ``page``: 72 DPI, page-relative, top-left origin: already PDF points;
* without ``page`` (legacy): 80 DPI, y accumulated over the pages of the document, and on portrait pages
  x starts at 100 (the old editor centred 680-px-wide portrait pages on an 880-px canvas). Such fields
  keep ``page = 0`` and raw coordinates until :func:`resolve_legacy_positions` knows the page sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Literal

from paraph import sender_regex
from paraph.pdf.model import (
    TAG_VALIDATION_TYPES,
    DocumentError,
    DocumentErrorKind,
    Field,
    FieldGroup,
    FieldType,
    PageInfo,
    SignerRef,
)
from paraph.wire.validators import check_http_url

#: What a form field's ``validation_type`` may be: a text tag's vocabulary, plus ``custom_regex``.
VALIDATION_TYPES = frozenset((*TAG_VALIDATION_TYPES, "custom_regex"))
FONT_FAMILIES = (
    "helvetica",
    "arial",
    "courier",
    "calibri",
    "cambria",
    "georgia",
    "times",
    "trebuchet",
    "verdana",
    "roboto",
    "robotoMono",
    "notoSans",
    "notoSerif",
    "notoCJK-JP-Regular",
    "notoHebrew-Regular",
    "notoSanThaiMerged",
)
_FONT_BY_KEY = {f.lower(): f for f in FONT_FAMILIES}
CHECKBOX_GROUP_REQUIREMENTS = frozenset({"require_0-1", "require_1", "require_1-ormore"})
RADIO_GROUP_REQUIREMENTS = frozenset({"require_0-1", "require_1"})
MERGE_TYPES = frozenset({FieldType.TEXT_MERGE, FieldType.CHECKBOX_MERGE})
#: Older clients say "date" (the help-center article's type list) for date_signed.
_TYPE_ALIASES = {"date": FieldType.DATE_SIGNED}
_FONT_SIZE_RANGE = (7, 49)
_REQUIRED_KEYS = ("api_id", "type", "required", "signer", "x", "y", "width", "height")

LEGACY_DPI = 80.0
LEGACY_PORTRAIT_X_ORIGIN = 100.0
_LEGACY_SCALE = 72.0 / LEGACY_DPI
#: A field may overhang the page by this much (points) before it counts as outside.
POSITION_TOLERANCE = 1.0
_TRUE_STRINGS = frozenset({"true", "1", "yes", "on"})
_FALSE_STRINGS = frozenset({"false", "0", "no", "off", ""})


class FieldsError(ValueError):
    """Invalid form fields; ``error_path`` points at the offending parameter for the API's error body."""

    def __init__(self, message: str, error_path: str) -> None:
        super().__init__(message)
        self.message = message
        self.error_path = error_path


# ----------------------------------------------------------------------------------------- normalizing


def normalize_form_fields(
    form_fields_per_document: Any,
    *,
    signer_count: int,
    document_count: int,
    form_field_groups: Any = None,
    pages_per_document: list[list[PageInfo]] | None = None,
) -> tuple[list[Field], list[FieldGroup]]:
    """Validate and convert the API's field list (flat list of objects, or legacy list per document).

    Raises FieldsError. Legacy-coordinate fields are resolved when ``pages_per_document`` is given and
    otherwise keep ``page == 0`` (see :func:`resolve_legacy_positions`).
    """
    groups = normalize_form_field_groups(form_field_groups)
    entries = _flatten_entries(form_fields_per_document)
    fields: list[Field] = []
    seen_ids: set[str] = set()
    for path, implied_document, entry in entries:
        field = _field_from_entry(entry, path, implied_document, signer_count, document_count)
        if field.api_id in seen_ids:
            raise FieldsError(f"api_id '{field.api_id}' is used by more than one field", f"{path}.api_id")
        seen_ids.add(field.api_id)
        fields.append(field)
    _check_group_references(fields, groups, [path for path, _, _ in entries])
    if pages_per_document is not None:
        resolve_legacy_positions(fields, pages_per_document)
    return fields, groups


def normalize_form_field_groups(form_field_groups: Any) -> list[FieldGroup]:
    """``[{group_id, group_label?, requirement}]`` -> FieldGroup list. Raises FieldsError."""
    if form_field_groups is None:
        return []
    if not isinstance(form_field_groups, list):
        raise FieldsError("form_field_groups must be an array of objects", "form_field_groups")
    groups: list[FieldGroup] = []
    seen: set[str] = set()
    for index, entry in enumerate(form_field_groups):
        path = f"form_field_groups[{index}]"
        if not isinstance(entry, Mapping):
            raise FieldsError("each form field group must be an object", path)
        group_id = _required_string(entry, "group_id", path)
        if group_id in seen:
            raise FieldsError(f"group_id '{group_id}' is defined more than once", f"{path}.group_id")
        seen.add(group_id)
        requirement = _required_string(entry, "requirement", path)
        if requirement not in CHECKBOX_GROUP_REQUIREMENTS:
            allowed = ", ".join(sorted(CHECKBOX_GROUP_REQUIREMENTS))
            raise FieldsError(f"requirement must be one of {allowed}", f"{path}.requirement")
        label = entry.get("group_label")
        if label is not None and not isinstance(label, str):
            raise FieldsError("group_label must be a string", f"{path}.group_label")
        groups.append(FieldGroup(group_id=group_id, requirement=requirement, group_label=label or None))
    return groups


def _flatten_entries(raw: Any) -> list[tuple[str, int | None, Any]]:
    """(error path, document index implied by the legacy nesting or None, entry) for every field."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FieldsError("form_fields_per_document must be an array", "form_fields_per_document")
    if raw and all(isinstance(item, list) for item in raw):
        return [
            (f"form_fields_per_document[{doc}][{index}]", doc, entry)
            for doc, items in enumerate(raw)
            for index, entry in enumerate(items)
        ]
    return [(f"form_fields_per_document[{index}]", None, entry) for index, entry in enumerate(raw)]


def _field_from_entry(
    entry: Any, path: str, implied_document: int | None, signer_count: int, document_count: int
) -> Field:
    if not isinstance(entry, Mapping):
        raise FieldsError("each form field must be an object", path)
    for key in _REQUIRED_KEYS:
        if entry.get(key) is None:
            raise FieldsError(f"{key} is required", f"{path}.{key}")

    field_type = _field_type(entry["type"], f"{path}.type")
    api_id = _required_string(entry, "api_id", path)
    document_index = _document_index(entry, path, implied_document, document_count)
    signer = _signer(entry["signer"], f"{path}.signer", signer_count, field_type)
    page_value = entry.get("page")
    page = 0 if page_value is None else _integer(page_value, f"{path}.page", minimum=1)
    x = _number(entry["x"], f"{path}.x", minimum=0)
    y = _number(entry["y"], f"{path}.y", minimum=0)
    width = _number(entry["width"], f"{path}.width", minimum=0, exclusive=True)
    height = _number(entry["height"], f"{path}.height", minimum=0, exclusive=True)
    name = _optional_string(entry, "name", path)

    field = Field(
        api_id=api_id,
        type=field_type,
        signer=signer,
        document_index=document_index,
        page=page,
        x=x,
        y=y,
        width=width,
        height=height,
        required=_boolean(entry["required"], f"{path}.required"),
        name=name,
    )
    _apply_type_options(field, entry, path)
    return field


def _apply_type_options(field: Field, entry: Mapping[str, Any], path: str) -> None:
    """Type-specific parameters (API.md 5.4); unknown extra keys are ignored, as the SaaS does."""
    kind = field.type
    if kind in (
        FieldType.TEXT,
        FieldType.TEXT_MERGE,
        FieldType.DATE_SIGNED,
        FieldType.DROPDOWN,
        FieldType.HYPERLINK,
    ):
        font = _optional_string(entry, "font_family", path)
        if font is not None:
            canonical = _FONT_BY_KEY.get(font.lower())
            if canonical is None:
                raise FieldsError(f"font_family must be one of {', '.join(FONT_FAMILIES)}", f"{path}.font_family")
            field.font_family = canonical
        if entry.get("font_size") is not None:
            low, high = _FONT_SIZE_RANGE
            size = _integer(entry["font_size"], f"{path}.font_size", minimum=low)
            if size > high:
                raise FieldsError(f"font_size must be between {low} and {high}", f"{path}.font_size")
            field.font_size = size

    if kind is FieldType.TEXT:
        field.placeholder = _optional_string(entry, "placeholder", path)
        field.auto_fill_type = _optional_string(entry, "auto_fill_type", path)
        field.link_id = _optional_string(entry, "link_id", path)
        if entry.get("masked") is not None:
            field.masked = _boolean(entry["masked"], f"{path}.masked")
        field.content = _optional_string(entry, "content", path)
        validation = _optional_string(entry, "validation_type", path)
        if validation is not None:
            if validation not in VALIDATION_TYPES:
                allowed = ", ".join(sorted(VALIDATION_TYPES))
                raise FieldsError(f"validation_type must be one of {allowed}", f"{path}.validation_type")
            field.validation_type = validation
        regex = _optional_string(entry, "validation_custom_regex", path)
        if validation == "custom_regex":
            if not regex:
                raise FieldsError(
                    "validation_custom_regex is required when validation_type is custom_regex",
                    f"{path}.validation_custom_regex",
                )
            try:
                sender_regex.check_pattern(regex)
            except sender_regex.PatternError as exc:
                raise FieldsError(
                    f"validation_custom_regex is not a usable regular expression: {exc}",
                    f"{path}.validation_custom_regex",
                ) from None
            field.validation_custom_regex = regex
            field.validation_custom_regex_format_label = _optional_string(
                entry, "validation_custom_regex_format_label", path
            )
    elif kind is FieldType.DROPDOWN:
        options = entry.get("options")
        if not isinstance(options, list) or not options:
            raise FieldsError("a dropdown needs a non-empty options array", f"{path}.options")
        if not all(isinstance(option, str) and option for option in options):
            raise FieldsError("dropdown options must be non-empty strings", f"{path}.options")
        field.options = list(options)
        content = _optional_string(entry, "content", path)
        if content is not None and content not in options:
            raise FieldsError("content must be one of the dropdown's options", f"{path}.content")
        field.content = content
    elif kind is FieldType.HYPERLINK:
        field.content = _required_string(entry, "content", path)
        content_url = _required_string(entry, "content_url", path)
        try:
            field.content_url = check_http_url(content_url)
        except ValueError as exc:
            raise FieldsError(str(exc), f"{path}.content_url") from None
    elif kind in (FieldType.CHECKBOX, FieldType.RADIO):
        # is_checked is required by the spec; clients posting raw JSON often omit it: unchecked.
        if entry.get("is_checked") is not None:
            field.is_checked = _boolean(entry["is_checked"], f"{path}.is_checked")
        field.group = _optional_string(entry, "group", path)
        if kind is FieldType.RADIO and not field.group:
            raise FieldsError("a radio field needs a group", f"{path}.group")
    elif kind is FieldType.CHECKBOX_MERGE or kind is FieldType.TEXT_MERGE:
        field.content = _optional_string(entry, "content", path)


def _check_group_references(fields: list[Field], groups: list[FieldGroup], paths: list[str]) -> None:
    """Grouped fields name a declared group; a group holds one signer's fields of one type."""
    declared = {group.group_id: group for group in groups}
    members: dict[str, Field] = {}
    checked_radios: dict[str, int] = {}
    for field, path in zip(fields, paths, strict=True):
        if field.group is None:
            continue
        group = declared.get(field.group)
        if group is None:
            raise FieldsError(f"group '{field.group}' is not defined in form_field_groups", f"{path}.group")
        first = members.setdefault(field.group, field)
        if first.type is not field.type:
            raise FieldsError(f"group '{field.group}' mixes {first.type} and {field.type} fields", f"{path}.group")
        if first.signer != field.signer:
            raise FieldsError(f"the fields of group '{field.group}' must have the same signer", f"{path}.signer")
        if field.type is FieldType.RADIO:
            if group.requirement not in RADIO_GROUP_REQUIREMENTS:
                raise FieldsError(
                    f"radio group '{field.group}' requirement must be require_0-1 or require_1",
                    f"{path}.group",
                )
            if field.is_checked:
                checked_radios[field.group] = checked_radios.get(field.group, 0) + 1
                if checked_radios[field.group] > 1:
                    raise FieldsError(
                        f"only one radio field of group '{field.group}' can be checked", f"{path}.is_checked"
                    )


@dataclass(frozen=True, slots=True)
class MissingRuleTarget:
    """A ``form_field_rules`` entry naming a field or group that does not exist."""

    rule_id: Any  # the rule's ``id``
    path: str  # form_field_rules[1].actions[0].field_id
    kind: Literal["field", "group"]
    name: Any  # the api_id or group_id it names


def missing_rule_target(
    rules: Sequence[Mapping[str, Any]], api_ids: Set[str], group_ids: Set[str]
) -> MissingRuleTarget | None:
    """The first reference of ``rules`` (``form_field_rules`` as stored: dicts) to a field or group that does not
    exist, or None. Checked at creation and again after processing, once text tags have added their fields;
    each caller words the problem its own way."""
    for ri, rule in enumerate(rules):
        for ti, trigger in enumerate(rule.get("triggers") or []):
            if trigger.get("id") not in api_ids:
                return MissingRuleTarget(
                    rule.get("id"), f"form_field_rules[{ri}].triggers[{ti}].id", "field", trigger.get("id")
                )
        for ai, action in enumerate(rule.get("actions") or []):
            field_id, group_id = action.get("field_id"), action.get("group_id")
            if field_id is not None and field_id not in api_ids:
                return MissingRuleTarget(
                    rule.get("id"), f"form_field_rules[{ri}].actions[{ai}].field_id", "field", field_id
                )
            if group_id is not None and group_id not in group_ids:
                return MissingRuleTarget(
                    rule.get("id"), f"form_field_rules[{ri}].actions[{ai}].group_id", "group", group_id
                )
    return None


# ---------------------------------------------------------------------------------------- value checks


def _field_type(value: Any, path: str) -> FieldType:
    if isinstance(value, str):
        if value in _TYPE_ALIASES:
            return _TYPE_ALIASES[value]
        try:
            return FieldType(value)
        except ValueError:
            pass
    allowed = ", ".join(t.value for t in FieldType)
    raise FieldsError(f"type must be one of {allowed}", path)


def _document_index(entry: Mapping[str, Any], path: str, implied: int | None, document_count: int) -> int:
    value = entry.get("document_index")
    if implied is not None and value is None:
        index = implied
    elif value is None:
        raise FieldsError("document_index is required", f"{path}.document_index")
    else:
        index = _integer(value, f"{path}.document_index", minimum=0)
        if implied is not None and index != implied:
            raise FieldsError(
                f"document_index {index} contradicts the field's position in document list {implied}",
                f"{path}.document_index",
            )
    if index >= document_count:
        raise FieldsError(
            f"document_index {index} is out of range: the request has {document_count} document(s)",
            f"{path}.document_index",
        )
    return index


def _signer(value: Any, path: str, signer_count: int, field_type: FieldType) -> SignerRef:
    """0-based int (or numeric string), ``sender`` (merge fields only) or ``me_now``."""
    if isinstance(value, str):
        token = value.strip()
        if token == "sender":  # noqa: S105 - a signer token, not a password
            if field_type not in MERGE_TYPES:
                raise FieldsError("signer 'sender' is only valid for text-merge and checkbox-merge fields", path)
            return "sender"
        if token == "me_now":  # noqa: S105 - a signer token, not a password
            return "me_now"
        if not token.isdigit():
            raise FieldsError("signer must be a signer index, 'sender' or 'me_now'", path)
        index = int(token)
    elif isinstance(value, int) and not isinstance(value, bool):
        index = value
    else:
        raise FieldsError("signer must be a signer index, 'sender' or 'me_now'", path)
    if index < 0 or index >= signer_count:
        raise FieldsError(f"signer {index} is out of range: the request has {signer_count} signer(s) (0-based)", path)
    return index


def _number(value: Any, path: str, *, minimum: float, exclusive: bool = False) -> float:
    if isinstance(value, bool):
        raise FieldsError("must be a number", path)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise FieldsError("must be a number", path) from None
    if not isinstance(value, int | float) or value != value or value in (float("inf"), float("-inf")):
        raise FieldsError("must be a number", path)
    number = float(value)
    if number < minimum or (exclusive and number == minimum):
        raise FieldsError(f"must be {'greater than' if exclusive else 'at least'} {minimum:g}", path)
    return number


def _integer(value: Any, path: str, *, minimum: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise FieldsError("must be an integer", path)
    if value < minimum:
        raise FieldsError(f"must be at least {minimum}", path)
    return value


def _boolean(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE_STRINGS:
            return True
        if lowered in _FALSE_STRINGS:
            return False
    raise FieldsError("must be a boolean", path)


def _required_string(entry: Mapping[str, Any], key: str, path: str) -> str:
    value = entry.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise FieldsError(f"{key} is required and must be a non-empty string", f"{path}.{key}")
    return value


def _optional_string(entry: Mapping[str, Any], key: str, path: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise FieldsError(f"{key} must be a string", f"{path}.{key}")
    return value


# ------------------------------------------------------------------------------------------- positions


def resolve_legacy_positions(fields: list[Field], pages_per_document: list[list[PageInfo]]) -> None:
    """Convert legacy-coordinate fields (``page == 0``) to a page and 72-DPI points, in place.

    A y beyond the last page lands on page ``len(pages) + 1``, which :func:`validate_positions` reports.
    """
    for field in fields:
        if field.page != 0 or field.document_index >= len(pages_per_document):
            continue
        pages = pages_per_document[field.document_index]
        top = 0.0  # of the current page, in legacy pixels
        page_number = len(pages) + 1
        page_info: PageInfo | None = None
        for number, info in enumerate(pages, start=1):
            legacy_height = info.height / _LEGACY_SCALE
            if field.y < top + legacy_height:
                page_number, page_info = number, info
                break
            top += legacy_height
        origin = LEGACY_PORTRAIT_X_ORIGIN if page_info is not None and page_info.height >= page_info.width else 0.0
        field.page = page_number
        field.x = (field.x - origin) * _LEGACY_SCALE
        field.y = (field.y - top) * _LEGACY_SCALE
        field.width *= _LEGACY_SCALE
        field.height *= _LEGACY_SCALE


def validate_positions(fields: list[Field], pages_per_document: list[list[PageInfo]]) -> list[str]:
    """Raise DocumentError(COMPONENT_POSITION) for a field on a missing page or outside its page.

    A field that starts on the page but overhangs its right or bottom edge is clipped to the page (the
    SaaS only warns about it); the returned list holds a warning message for each clipped field.
    """
    warnings: list[str] = []
    for field in fields:
        if field.document_index >= len(pages_per_document):
            raise DocumentError(
                DocumentErrorKind.COMPONENT_POSITION,
                f"Field '{field.api_id}' refers to document {field.document_index}, which does not exist.",
                document_index=field.document_index,
            )
        pages = pages_per_document[field.document_index]
        if field.page < 1 or field.page > len(pages):
            raise DocumentError(
                DocumentErrorKind.COMPONENT_POSITION,
                f"Field '{field.api_id}' is placed on page {field.page}, but document {field.document_index} "
                f"has {len(pages)} page(s).",
                document_index=field.document_index,
            )
        page = pages[field.page - 1]
        outside = (
            field.x < -POSITION_TOLERANCE
            or field.y < -POSITION_TOLERANCE
            or field.x >= page.width - POSITION_TOLERANCE
            or field.y >= page.height - POSITION_TOLERANCE
        )
        if outside:
            raise DocumentError(
                DocumentErrorKind.COMPONENT_POSITION,
                f"Field '{field.api_id}' at x={field.x:g}, y={field.y:g} is outside page {field.page} "
                f"({page.width:g} x {page.height:g} points).",
                document_index=field.document_index,
            )
        field.x, field.y = max(field.x, 0.0), max(field.y, 0.0)
        overhang_x = field.x + field.width - page.width
        overhang_y = field.y + field.height - page.height
        if overhang_x > POSITION_TOLERANCE or overhang_y > POSITION_TOLERANCE:
            warnings.append(f"Field '{field.api_id}' extends beyond page {field.page} and was clipped to the page.")
        if overhang_x > 0:
            field.width = page.width - field.x
        if overhang_y > 0:
            field.height = page.height - field.y
    return warnings


# --------------------------------------------------------------------------------------- custom fields


def apply_custom_fields(
    fields: list[Field],
    custom_fields: list[dict[str, Any]] | None,
    *,
    editor_index: Callable[[str], int | None] | None = None,
) -> list[str]:
    """Fill merge fields (text-merge, checkbox-merge) from ``custom_fields`` matched by name (the label).

    ``editor`` names the signer (role or name; ``editor_index`` resolves it to a 0-based index) who may
    change the prefilled value: the field becomes that signer's. ``required`` sets the field's required
    flag. Returns the names that matched no merge field (for a ``parameter_ignored`` style warning).
    Raises FieldsError for malformed entries (``custom_fields[2].name``).
    """
    if not custom_fields:
        return []
    if not isinstance(custom_fields, list):
        raise FieldsError("custom_fields must be an array of objects", "custom_fields")
    by_name: dict[str, list[Field]] = {}
    for field in fields:
        if field.type in MERGE_TYPES and field.name:
            by_name.setdefault(field.name, []).append(field)
    unmatched: list[str] = []
    for index, entry in enumerate(custom_fields):
        path = f"custom_fields[{index}]"
        if not isinstance(entry, Mapping):
            raise FieldsError("each custom field must be an object", path)
        name = _required_string(entry, "name", path)
        targets = by_name.get(name)
        if not targets:
            unmatched.append(name)
            continue
        value = entry.get("value")
        editor = _optional_string(entry, "editor", path)
        editor_signer: int | None = None
        if editor is not None:
            editor_signer = editor_index(editor) if editor_index is not None else None
            if editor_signer is None and editor.isdigit():
                editor_signer = int(editor)
            if editor_signer is None:
                raise FieldsError(f"editor '{editor}' does not name a signer of the request", f"{path}.editor")
        required = None if entry.get("required") is None else _boolean(entry["required"], f"{path}.required")
        for field in targets:
            if value is not None:
                if field.type is FieldType.CHECKBOX_MERGE:
                    checked = value if isinstance(value, bool) else str(value).strip().lower() in _TRUE_STRINGS
                    field.is_checked = checked
                    field.content = "true" if checked else "false"
                else:
                    field.content = value if isinstance(value, str) else str(value)
            if editor_signer is not None:
                field.signer = editor_signer
            if required is not None:
                field.required = required
    return unmatched
