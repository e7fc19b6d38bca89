"""Request models of the template endpoints and of the sends from templates, and the one serializer of a
template (``TemplateResponse``), shared by the API and the ``template_created`` / ``template_error`` callbacks.

Field positions are answered as Dropbox Sign answers them: ``x``, ``y``, ``width``, ``height`` in whole
72-DPI points from the page's top left, and ``signer`` as the 1-based number of the signer role (``"1"``
is the first role); merge fields have ``signer: null``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from paraph.models import Account, Template, TemplateField
from paraph.models.template import TemplateState
from paraph.pdf.model import FieldType
from paraph.signature_request.schemas import (
    MAX_MESSAGE_LENGTH,
    MAX_TITLE_LENGTH,
    Email,
    Name,
    NonBlank,
    SubAttachment,
    SubCustomField,
    SubFieldOptions,
    SubFormFieldRule,
    SubSignerExperience,
    SubSigningOptions,
    check_metadata,
)
from paraph.wire.decode import NullableInt, NullableStr, WireBool, WireList, WireObject
from paraph.wire.parse import RequestModel
from paraph.wire.validators import check_optional_http_url

#: At most this many roles of each kind, merge fields, and templates combined in one send.
MAX_ROLES = 50
MAX_MERGE_FIELDS = 200
MAX_TEMPLATES_PER_SEND = 5


class _Sub(BaseModel):
    """Nested objects: unknown keys ignored, like the top level."""

    model_config = ConfigDict(extra="ignore")


def _length(limit: int) -> Any:
    def check(v: str | None) -> str | None:
        if v is not None and len(v) > limit:
            raise ValueError(f"must be at most {limit} characters")
        return v

    return check


def _metadata(v: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if v is None else check_metadata(v)


class SubTemplateRole(_Sub):
    name: Name
    order: NullableInt = None

    @field_validator("order")
    @classmethod
    def _order(cls, v: int | None) -> int | None:
        if v is not None and v < 0:
            raise ValueError("order must be 0 or more")
        return v


class SubMergeField(_Sub):
    name: Name
    type: Literal["text", "checkbox"]


def _unique_names(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        key = value.strip().lower()
        if key in seen:
            raise ValueError(f"{what} '{value}' is given more than once")
        seen.add(key)


class TemplateCreateRequest(RequestModel):
    """``/template/create``. Uploaded ``files`` arrive beside the data."""

    file_urls: WireList[str] | None = None
    signer_roles: WireList[SubTemplateRole]
    cc_roles: WireList[Name] | None = None
    merge_fields: WireList[SubMergeField] | None = None
    form_fields_per_document: WireList[Any] | None = None  # checked by pdf.fields
    form_field_groups: WireList[Any] | None = None
    form_field_rules: WireList[SubFormFieldRule] | None = None
    attachments: WireList[SubAttachment] | None = None
    allow_reassign: WireBool = False
    allow_ccs: WireBool = True
    client_id: NullableStr = None
    field_options: WireObject[SubFieldOptions] | None = None
    message: NullableStr = None
    metadata: WireObject[dict[str, Any]] | None = None
    subject: NullableStr = None
    test_mode: WireBool = False
    title: NullableStr = None
    use_preexisting_fields: WireBool = False
    ignore_text_tags_extraction_errors: WireBool = False
    signer_experience: WireObject[SubSignerExperience] | None = None

    _title = field_validator("title", "subject")(_length(MAX_TITLE_LENGTH))
    _message = field_validator("message")(_length(MAX_MESSAGE_LENGTH))
    _meta = field_validator("metadata")(_metadata)

    @field_validator("signer_roles")
    @classmethod
    def _roles(cls, v: list[SubTemplateRole]) -> list[SubTemplateRole]:
        if not v:
            raise ValueError("At least one signer role is required")
        if len(v) > MAX_ROLES:
            raise ValueError(f"At most {MAX_ROLES} signer roles")
        _unique_names([r.name for r in v], "signer role")
        return v

    @field_validator("cc_roles")
    @classmethod
    def _cc_roles(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if len(v) > MAX_ROLES:
                raise ValueError(f"At most {MAX_ROLES} CC roles")
            _unique_names(v, "CC role")
        return v

    @field_validator("merge_fields")
    @classmethod
    def _merge_fields(cls, v: list[SubMergeField] | None) -> list[SubMergeField] | None:
        if v is not None:
            if len(v) > MAX_MERGE_FIELDS:
                raise ValueError(f"At most {MAX_MERGE_FIELDS} merge fields")
            _unique_names([m.name for m in v], "merge field")
        return v


class SubUpdateFormField(_Sub):
    api_id: NonBlank
    name: NullableStr = None
    signer: NullableStr = None


class TemplateUpdateRequest(RequestModel):
    """``/template/update/{id}``: only what is given changes."""

    cc_roles: WireList[Name] | None = None
    title: NullableStr = None
    subject: NullableStr = None
    message: NullableStr = None
    form_fields: WireList[SubUpdateFormField] | None = None
    signer_experience: WireObject[SubSignerExperience] | None = None

    _title = field_validator("title", "subject")(_length(MAX_TITLE_LENGTH))
    _message = field_validator("message")(_length(MAX_MESSAGE_LENGTH))

    @field_validator("cc_roles")
    @classmethod
    def _cc_roles(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if len(v) > MAX_ROLES:
                raise ValueError(f"At most {MAX_ROLES} CC roles")
            _unique_names(v, "CC role")
        return v


class TemplateUpdateFilesRequest(RequestModel):
    client_id: NullableStr = None
    file_urls: WireList[str] | None = None
    message: NullableStr = None
    subject: NullableStr = None
    test_mode: WireBool = False

    _title = field_validator("subject")(_length(MAX_TITLE_LENGTH))
    _message = field_validator("message")(_length(MAX_MESSAGE_LENGTH))


class TemplateUserRequest(RequestModel):
    """``add_user`` and ``remove_user``: the account by ``account_id`` (which prevails) or ``email_address``."""

    account_id: NullableStr = None
    email_address: NullableStr = None
    skip_notification: WireBool = False


class SubTemplateSigner(_Sub):
    role: Name
    name: Name
    email_address: Email
    pin: NullableStr = None
    sms_phone_number: NullableStr = None
    sms_phone_number_type: NullableStr = None

    @field_validator("pin")
    @classmethod
    def _pin(cls, v: str | None) -> str | None:
        if v is not None and not 4 <= len(v) <= 12:
            raise ValueError("pin must be 4 to 12 characters")
        return v


class SubCC(_Sub):
    role: Name
    email_address: Email


class SendWithTemplateRequest(RequestModel):
    """``/signature_request/send_with_template`` and ``create_embedded_with_template`` (a union of both)."""

    template_ids: WireList[NonBlank]
    signers: WireList[SubTemplateSigner]
    ccs: WireList[SubCC] | None = None
    custom_fields: WireList[SubCustomField] | None = None
    file_urls: WireList[str] | None = None
    allow_decline: WireBool = False
    client_id: NullableStr = None
    is_qualified_signature: WireBool = False
    is_eid: WireBool = False
    message: NullableStr = None
    metadata: WireObject[dict[str, Any]] | None = None
    signing_options: WireObject[SubSigningOptions] | None = None
    signing_redirect_url: NullableStr = None
    subject: NullableStr = None
    test_mode: WireBool = False
    title: NullableStr = None
    populate_auto_fill_fields: WireBool = False
    expires_at: NullableInt = None
    signer_experience: WireObject[SubSignerExperience] | None = None

    _title = field_validator("title", "subject")(_length(MAX_TITLE_LENGTH))
    _message = field_validator("message")(_length(MAX_MESSAGE_LENGTH))
    _meta = field_validator("metadata")(_metadata)
    _redirect = field_validator("signing_redirect_url")(check_optional_http_url)

    @field_validator("template_ids")
    @classmethod
    def _template_ids(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("At least one template_id is required")
        if len(v) > MAX_TEMPLATES_PER_SEND:
            raise ValueError(f"At most {MAX_TEMPLATES_PER_SEND} templates in one signature request")
        return v

    @field_validator("signers")
    @classmethod
    def _signers(cls, v: list[SubTemplateSigner]) -> list[SubTemplateSigner]:
        if not v:
            raise ValueError("At least one signer is required")
        _unique_names([s.role for s in v], "signer role")
        return v


# -- serializing ---------------------------------------------------------------------------------------------

_MERGE_TYPES = frozenset({FieldType.TEXT_MERGE, FieldType.CHECKBOX_MERGE})
#: Types a template's ``form_fields`` may hold (the SDK's discriminator knows these).
_FORM_FIELD_TYPES = frozenset(
    {"text", "dropdown", "hyperlink", "checkbox", "radio", "signature", "date_signed", "initials"}
)


def _geometry(spec: dict[str, Any]) -> dict[str, int]:
    return {
        "x": round(float(spec.get("x", 0))),
        "y": round(float(spec.get("y", 0))),
        "width": round(float(spec.get("width", 0))),
        "height": round(float(spec.get("height", 0))),
    }


def _form_field(f: TemplateField) -> dict[str, Any]:
    spec = f.spec
    out: dict[str, Any] = {
        "api_id": f.api_id,
        "name": spec.get("name") or "",
        "type": f.type,
        "signer": str(int(f.role_index) + 1) if f.role_index.isdigit() else f.role_index,
        **_geometry(spec),
        "required": bool(spec.get("required", False)),
        "group": spec.get("group"),
    }
    if f.type == "text":
        out["isMultiline"] = False
        out["originalFontSize"] = int(spec.get("font_size") or 12)
        out["fontFamily"] = spec.get("font_family") or "helvetica"
    return out


def _custom_field(f: TemplateField) -> dict[str, Any]:
    spec = f.spec
    checkbox = f.type == FieldType.CHECKBOX_MERGE
    editor = f.role_index if f.role_index.isdigit() else None
    return {
        "api_id": f.api_id,
        "name": spec.get("name") or f.api_id,
        "type": "checkbox" if checkbox else "text",
        "signer": str(int(editor) + 1) if editor is not None else None,
        **_geometry(spec),
        "required": bool(spec.get("required", False)),
        "group": spec.get("group"),
    }


def _is_merge(f: TemplateField) -> bool:
    return f.type in _MERGE_TYPES


def _declared_merge_fields(t: Template, placed: set[str]) -> list[dict[str, Any]]:
    """Merge fields declared with ``merge_fields`` but placed on no document (no position to show)."""
    return [{"name": m.name, "type": m.type, "signer": None} for m in t.merge_fields if m.name not in placed]


def _account(a: Account) -> dict[str, Any]:
    return {
        "account_id": a.account_id,
        "email_address": a.email_address,
        "is_locked": False,
        "is_paid_hs": True,
        "is_paid_hf": False,
    }


def _attachments(t: Template) -> list[dict[str, Any]]:
    return [
        {
            "id": a["id"],
            "signer": str(a["signer_index"]),
            "name": a["name"],
            "required": bool(a.get("required", False)),
            "instructions": a.get("instructions"),
            "uploaded_at": None,
        }
        for a in t.attachments or []
    ]


def serialize_template(t: Template, viewer: Account) -> dict[str, Any]:
    """The API's TemplateResponse as ``viewer`` sees it. Until its documents are processed a template shows
    its roles and no documents; the files endpoints answer 409 meanwhile."""
    creator = t.account_id == viewer.id
    ready = t.state == TemplateState.READY
    documents: list[dict[str, Any]] = []
    form_fields: list[dict[str, Any]] = []
    custom_fields: list[dict[str, Any]] = []
    placed: set[str] = set()
    if ready:
        by_doc: dict[int, list[TemplateField]] = {}
        for f in t.fields:
            by_doc.setdefault(f.document_index, []).append(f)
        for d in t.documents:
            fields = by_doc.get(d.index, [])
            doc_form = [_form_field(f) for f in fields if not _is_merge(f) and f.type in _FORM_FIELD_TYPES]
            doc_custom = [_custom_field(f) for f in fields if _is_merge(f)]
            groups = sorted({f.spec["group"] for f in fields if f.spec.get("group")})
            rules = {g["group_id"]: g for g in t.form_field_groups or []}
            documents.append(
                {
                    "index": d.index,
                    "name": d.filename,
                    "field_groups": [
                        {
                            "name": (rules.get(g) or {}).get("group_label") or g,
                            "rule": {
                                "requirement": (rules.get(g) or {}).get("requirement", ""),
                                "groupLabel": (rules.get(g) or {}).get("group_label") or g,
                            },
                        }
                        for g in groups
                    ],
                    "form_fields": doc_form,
                    "custom_fields": doc_custom,
                    "static_fields": [],
                }
            )
            form_fields += doc_form
            custom_fields += doc_custom
            placed |= {c["name"] for c in doc_custom}
    accounts = [_account(t.account)] + [_account(s.account) for s in t.shares]
    return {
        "template_id": t.template_id,
        "title": t.title,
        "message": t.message or "",
        "updated_at": int(t.updated_at.timestamp()),
        "is_embedded": t.is_embedded if creator else None,
        "is_creator": creator,
        "can_edit": creator,
        "is_locked": False,
        "metadata": dict(t.metadata_ or {}),
        "signer_roles": [{"name": r.name, "order": r.order} for r in t.signer_roles],
        "cc_roles": [{"name": r.name} for r in t.cc_roles],
        "documents": documents,
        "custom_fields": custom_fields + _declared_merge_fields(t, placed),
        "named_form_fields": form_fields,
        "accounts": accounts,
        "attachments": _attachments(t),
        "signer_experience": {"form_view": (t.signer_experience or {}).get("form_view", "disabled")},
    }
