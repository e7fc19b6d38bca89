"""Request models of the signature request endpoints, and the one serializer of a signature request.

Request models accept every encoding the decoder produces (JSON, SDK multipart with JSON-string values, bracket
multipart with text values) through the ``Wire*`` types; unknown keys are ignored because the SDKs send every
defaulted flag. The serializer is shared by API responses and callback payloads (``object_json``), so an
event always carries exactly what ``GET /signature_request/{id}`` would have answered at that moment.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from paraph import sender_regex
from paraph.models import RequestField, SignatureRequest, Signer
from paraph.models.signature_request import SignerStatus
from paraph.pdf.model import Field, FieldType
from paraph.wire.decode import NullableInt, NullableStr, WireBool, WireInt, WireList, WireObject
from paraph.wire.parse import RequestModel
from paraph.wire.validators import check_email, check_optional_http_url

MAX_METADATA_KEYS = 10
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 1000
MAX_TITLE_LENGTH = 255
MAX_MESSAGE_LENGTH = 5000

Email = Annotated[str, AfterValidator(check_email)]

#: A mailed request's ``signing_url`` (served by ``paraph.signing.endpoints``): no token in it. It opens the
#: signer's page only for a signer signed in with an account of the same email; anyone else is asked for the
#: link mailed to them.
REQUEST_SIGN_PATH = "/sign/request"


def request_signing_url(base_url: str, signature_request_id: str) -> str:
    return f"{base_url}{REQUEST_SIGN_PATH}/{signature_request_id}"


class _Sub(BaseModel):
    """Nested objects: unknown keys ignored, like the top level."""

    model_config = ConfigDict(extra="ignore")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("This value should not be blank")
    return value.strip()


NonBlank = Annotated[str, AfterValidator(_not_blank)]


#: A signer's name and a group's name, as stored (and documented by Dropbox Sign's 255-character fields).
MAX_NAME_LENGTH = 255


def _name_length(value: str) -> str:
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"must be at most {MAX_NAME_LENGTH} characters")
    return value


Name = Annotated[str, AfterValidator(_not_blank), AfterValidator(_name_length)]


class SubSigner(_Sub):
    name: Name
    email_address: Email
    order: NullableInt = None
    pin: NullableStr = None
    sms_phone_number: NullableStr = None
    sms_phone_number_type: NullableStr = None

    @field_validator("order")
    @classmethod
    def _order(cls, v: int | None) -> int | None:
        if v is not None and v < 0:
            raise ValueError("order must be 0 or more")
        return v

    @field_validator("pin")
    @classmethod
    def _pin(cls, v: str | None) -> str | None:
        if v is not None and not 4 <= len(v) <= 12:
            raise ValueError("pin must be 4 to 12 characters")
        return v


class SubGroupedSigners(_Sub):
    group: Name
    order: NullableInt = None
    signers: WireList[SubSigner]

    @field_validator("signers")
    @classmethod
    def _some(cls, v: list[SubSigner]) -> list[SubSigner]:
        if not v:
            raise ValueError("A group needs at least one signer")
        return v


class SubAttachment(_Sub):
    name: NonBlank
    signer_index: WireInt
    instructions: NullableStr = None
    required: WireBool = False


class SubCustomField(_Sub):
    name: NonBlank
    value: Any = None
    editor: NullableStr = None
    required: WireBool = False


class SubSigningOptions(_Sub):
    default_type: Literal["draw", "phone", "type", "upload"]
    draw: WireBool = False
    phone: WireBool = False
    type: WireBool = False
    upload: WireBool = False
    force_advanced_signature_details: WireBool = False


class SubFieldOptions(_Sub):
    date_format: Literal[
        "MM / DD / YYYY", "MM - DD - YYYY", "DD / MM / YYYY", "DD - MM - YYYY", "YYYY / MM / DD", "YYYY - MM - DD"
    ]


class SubSignerExperience(_Sub):
    form_view: Literal["disabled", "enabled", "enabled_by_default", "forced"]


class SubFormFieldRuleTrigger(_Sub):
    id: NonBlank
    operator: Literal["any", "is", "match", "none", "not"]
    value: NullableStr = None
    values: WireList[str] | None = None

    @field_validator("value")
    @classmethod
    def _usable_pattern(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None and info.data.get("operator") == "match":
            try:
                sender_regex.check_pattern(v)
            except sender_regex.PatternError as exc:
                raise ValueError(f"value is not a usable regular expression: {exc}") from None
        return v

    @model_validator(mode="after")
    def _one_value(self) -> SubFormFieldRuleTrigger:
        if (self.value is None) == (self.values is None):
            raise ValueError("A trigger needs value or values, not both")
        return self


class SubFormFieldRuleAction(_Sub):
    field_id: NullableStr = None
    group_id: NullableStr = None
    hidden: WireBool
    type: Literal["change-field-visibility", "change-group-visibility"]

    @model_validator(mode="after")
    def _one_target(self) -> SubFormFieldRuleAction:
        if (self.field_id is None) == (self.group_id is None):
            raise ValueError("An action needs field_id or group_id, not both")
        if self.type == "change-field-visibility" and self.field_id is None:
            raise ValueError("change-field-visibility needs field_id")
        if self.type == "change-group-visibility" and self.group_id is None:
            raise ValueError("change-group-visibility needs group_id")
        return self


class SubFormFieldRule(_Sub):
    id: NonBlank
    trigger_operator: Literal["AND"] = "AND"
    triggers: WireList[SubFormFieldRuleTrigger]
    actions: WireList[SubFormFieldRuleAction]

    @field_validator("triggers")
    @classmethod
    def _one_trigger(cls, v: list[SubFormFieldRuleTrigger]) -> list[SubFormFieldRuleTrigger]:
        if len(v) != 1:
            raise ValueError("A rule has exactly one trigger")
        return v

    @field_validator("actions")
    @classmethod
    def _some_actions(cls, v: list[SubFormFieldRuleAction]) -> list[SubFormFieldRuleAction]:
        if not v:
            raise ValueError("A rule needs at least one action")
        return v


def _check_length(limit: int) -> Any:
    def check(v: str | None) -> str | None:
        if v is not None and len(v) > limit:
            raise ValueError(f"must be at most {limit} characters")
        return v

    return check


class SignatureRequestCreateRequest(RequestModel):
    """``/signature_request/send`` and ``/signature_request/create_embedded`` (a union of both, and of the
    spec and SDK 2.0.0). Uploaded ``files`` are not here: they arrive beside the data."""

    file_urls: WireList[str] | None = None
    signers: WireList[SubSigner] | None = None
    grouped_signers: WireList[SubGroupedSigners] | None = None
    allow_decline: WireBool = False
    allow_reassign: WireBool = False
    attachments: WireList[SubAttachment] | None = None
    cc_email_addresses: WireList[Email] | None = None
    client_id: NullableStr = None
    custom_fields: WireList[SubCustomField] | None = None
    field_options: WireObject[SubFieldOptions] | None = None
    form_field_groups: WireList[Any] | None = None  # checked by documents.fields
    form_field_rules: WireList[SubFormFieldRule] | None = None
    form_fields_per_document: WireList[Any] | None = None  # checked by documents.fields
    hide_text_tags: WireBool = False
    is_qualified_signature: WireBool = False
    is_eid: WireBool = False
    message: NullableStr = None
    metadata: WireObject[dict[str, Any]] | None = None
    signing_options: WireObject[SubSigningOptions] | None = None
    signing_redirect_url: NullableStr = None
    subject: NullableStr = None
    test_mode: WireBool = False
    title: NullableStr = None
    use_text_tags: WireBool = False
    ignore_text_tags_extraction_errors: WireBool = False
    populate_auto_fill_fields: WireBool = False
    expires_at: NullableInt = None
    signer_experience: WireObject[SubSignerExperience] | None = None

    _title = field_validator("title", "subject")(_check_length(MAX_TITLE_LENGTH))
    _message = field_validator("message")(_check_length(MAX_MESSAGE_LENGTH))
    _redirect = field_validator("signing_redirect_url")(check_optional_http_url)

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if v is None else check_metadata(v)


def check_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Dropbox Sign's limits: at most 10 keys, keys up to 40 characters, values up to 1000."""
    if len(metadata) > MAX_METADATA_KEYS:
        raise ValueError(f"metadata can have at most {MAX_METADATA_KEYS} keys")
    for key, value in metadata.items():
        if len(key) > MAX_METADATA_KEY_LENGTH:
            raise ValueError(f"metadata key '{key[:50]}' is longer than {MAX_METADATA_KEY_LENGTH} characters")
        text = value if isinstance(value, str) else json.dumps(value)
        if len(text) > MAX_METADATA_VALUE_LENGTH:
            raise ValueError(f"metadata value of '{key}' is longer than {MAX_METADATA_VALUE_LENGTH} characters")
    return metadata


class SignatureRequestRemindRequest(RequestModel):
    email_address: Email
    name: NullableStr = None


class SignatureRequestUpdateRequest(RequestModel):
    signature_id: NonBlank
    email_address: Annotated[str | None, AfterValidator(lambda v: None if v is None else check_email(v))] = None
    name: NullableStr = None
    expires_at: NullableInt = None


class DocumentDetectFieldsRequest(RequestModel):
    detection_mode: Literal["annotations", "text_tags"]
    file_urls: WireList[str] | None = None
    page_range: NullableStr = None


# -- serializing ---------------------------------------------------------------------------------------------

#: Field types that may appear in ``response_data`` (the SDK's discriminator rejects others).
_RESPONSE_DATA_TYPES = frozenset(
    {"text", "checkbox", "date_signed", "dropdown", "initials", "radio", "signature", "text-merge", "checkbox-merge"}
)
_BOOLEAN_VALUE_TYPES = frozenset({"checkbox", "radio"})


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Field))


def field_dict(f: Field) -> dict[str, Any]:
    """A Field as stored (JSON): ``dataclasses.asdict`` without its deep copies (ten times faster)."""
    out = {name: getattr(f, name) for name in _FIELD_NAMES}
    out["type"] = str(f.type)
    out["options"] = list(f.options)
    return out


def _ts(value: Any) -> int | None:
    return None if value is None else int(value.timestamp())


def serialize_signer(signer: Signer) -> dict[str, Any]:
    return {
        "signature_id": signer.signature_id,
        "signer_group_guid": signer.group_guid,
        "signer_email_address": signer.email_address,
        "signer_name": signer.name,
        "signer_role": signer.role,
        "order": signer.order,
        "status_code": signer.status_code,
        "decline_reason": signer.decline_reason,
        "signed_at": _ts(signer.signed_at),
        "last_viewed_at": _ts(signer.last_viewed_at),
        "last_reminded_at": _ts(signer.last_reminded_at),
        "has_pin": signer.pin_hash is not None,
        "has_sms_auth": False,
        "has_sms_delivery": False,
        "sms_phone_number": None,
        "reassigned_by": signer.reassigned_by,
        "reassignment_reason": signer.reassignment_reason,
        "reassigned_from": signer.reassigned_from,
        "error": signer.error,
    }


def _response_data(fields: list[RequestField]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for field in fields:
        if field.filled_at is None or field.type not in _RESPONSE_DATA_TYPES:
            continue
        value = field.value
        if field.type in _BOOLEAN_VALUE_TYPES:
            value = bool(value)
        elif value is not None and not isinstance(value, str):
            value = str(value)
        item: dict[str, Any] = {
            "api_id": field.api_id,
            "signature_id": field.filled_by_signature_id,
            "name": field.spec.get("name") or "",
            "required": bool(field.spec.get("required", False)),
            "type": field.type,
            "value": value,
        }
        if field.type in ("signature", "initials"):
            item["is_signed"] = value is not None
        out.append(item)
    return out


def _custom_fields(sr: SignatureRequest) -> list[dict[str, Any]]:
    """Merge fields, once per name (``custom_fields`` of the response)."""
    editors = {s.signer_index: s.name for s in sr.signers}
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for field in sr.response_fields:
        if field.type not in (FieldType.TEXT_MERGE, FieldType.CHECKBOX_MERGE):
            continue
        name = field.spec.get("name") or field.api_id
        if name in seen:
            continue
        seen.add(name)
        editor = editors.get(int(field.signer)) if field.signer.isdigit() else None
        checkbox = field.type == FieldType.CHECKBOX_MERGE
        value: Any = field.value if field.value is not None else field.spec.get("content")
        out.append(
            {
                "type": "checkbox" if checkbox else "text",
                "name": name,
                "value": (str(value).lower() == "true") if checkbox else (None if value is None else str(value)),
                "required": bool(field.spec.get("required", False)),
                "api_id": field.api_id,
                "editor": editor,
            }
        )
    return out


def _attachments(sr: SignatureRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": a["id"],
            "signer": str(a["signer_index"]),
            "name": a["name"],
            "required": bool(a.get("required", False)),
            "instructions": a.get("instructions"),
            "uploaded_at": a.get("uploaded_at"),
        }
        for a in sr.attachments or []
    ]


def _signing_url(sr: SignatureRequest, base_url: str) -> str | None:
    """Null where Dropbox Sign's examples have it null: embedded requests (signed through sign URLs), and
    requests nobody can sign any more (complete, declined, canceled, no signer awaiting signature)."""
    if sr.is_embedded or sr.is_complete or sr.is_declined or sr.canceled_at is not None:
        return None
    if not any(s.status_code == SignerStatus.AWAITING_SIGNATURE for s in sr.signers):
        return None
    return request_signing_url(base_url, sr.signature_request_id)


def serialize_signature_request(sr: SignatureRequest, base_url: str) -> dict[str, Any]:
    """The API's SignatureRequestResponse; callbacks reuse it for ``signature_request`` objects."""
    rid = sr.signature_request_id
    return {
        "test_mode": sr.test_mode,
        "signature_request_id": rid,
        "requester_email_address": sr.account.email_address,
        "title": sr.title,
        "original_title": sr.original_title,
        "subject": sr.subject,
        "message": sr.message,
        "metadata": dict(sr.metadata_ or {}),
        "created_at": int(sr.created_at.timestamp()),
        "expires_at": _ts(sr.expires_at),
        "is_complete": sr.is_complete,
        "is_declined": sr.is_declined,
        "has_error": sr.has_error,
        "files_url": f"{base_url}/v3/signature_request/files/{rid}",
        "signing_url": _signing_url(sr, base_url),
        "details_url": f"{base_url}/dashboard/requests/{rid}",
        "cc_email_addresses": list(sr.cc_email_addresses or []),
        "signing_redirect_url": sr.signing_redirect_url,
        "final_copy_uri": f"/v3/signature_request/files/{rid}" if sr.is_complete else None,
        "template_ids": list(sr.template_ids) if sr.template_ids else None,
        "custom_fields": _custom_fields(sr),
        "attachments": _attachments(sr),
        "response_data": _response_data(sr.response_fields),
        "signatures": [serialize_signer(s) for s in sr.signers],
        "bulk_send_job_id": sr.bulk_send_job_id,
        "signer_experience": {"form_view": (sr.signer_experience or {}).get("form_view", "disabled")},
    }
