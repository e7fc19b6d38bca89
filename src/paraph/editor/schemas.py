"""Wire shapes of the editor: the unclaimed-draft and template-draft requests, what the editor page submits,
and the unclaimed draft as the API answers it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paraph.models import UnclaimedDraft
from paraph.signature_request.schemas import (
    Email,
    SignatureRequestCreateRequest,
    SubCustomField,
    SubSigningOptions,
    check_metadata,
)
from paraph.template.schemas import SubCC, TemplateCreateRequest
from paraph.wire.decode import NullableStr, WireBool, WireList, WireObject
from paraph.wire.parse import RequestModel
from paraph.wire.validators import check_optional_http_url

#: What the editor lays out at most in one submit (fields, signers): a cap on the work one POST causes.
MAX_EDITOR_FIELDS = 2000
MAX_EDITOR_SIGNERS = 50
MAX_TEMPLATES_PER_DRAFT = 5


class SubEditorOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    allow_edit_signers: WireBool = False
    allow_edit_documents: WireBool = False


class EditorFlags(RequestModel):
    """What every call that opens the editor may say about it (README, "The editor", says what each does)."""

    editor_options: WireObject[SubEditorOptions] | None = None
    force_subject_message: WireBool = False
    show_preview: WireBool = False
    show_progress_stepper: WireBool = True


class UnclaimedDraftCreateRequest(SignatureRequestCreateRequest, EditorFlags):
    """``/unclaimed_draft/create`` and ``/unclaimed_draft/create_embedded`` (signers are optional: the
    requester may add them in the editor)."""

    type: Literal["send_document", "request_signature"] | None = None
    requester_email_address: Email | None = None
    allow_ccs: WireBool = True
    force_signer_page: WireBool = False
    hold_request: WireBool = False
    is_for_embedded_signing: WireBool = False
    requesting_redirect_url: NullableStr = None
    skip_me_now: WireBool = False
    use_preexisting_fields: WireBool = False

    _requesting = field_validator("requesting_redirect_url")(check_optional_http_url)


class SubDraftTemplateSigner(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str = Field(min_length=1, max_length=255)
    name: str = Field(max_length=255)
    email_address: Email


class UnclaimedDraftWithTemplateRequest(EditorFlags):
    """``/unclaimed_draft/create_embedded_with_template``: the templates' documents and fields, signers by role."""

    client_id: str
    requester_email_address: Email
    template_ids: WireList[str]
    signers: WireList[SubDraftTemplateSigner] | None = None
    ccs: WireList[SubCC] | None = None
    custom_fields: WireList[SubCustomField] | None = None
    files: Any = None
    file_urls: WireList[str] | None = None
    allow_decline: WireBool = False
    allow_reassign: WireBool = False
    force_signer_roles: WireBool = False
    hold_request: WireBool = False
    is_for_embedded_signing: WireBool = False
    message: NullableStr = Field(default=None, max_length=5000)
    metadata: WireObject[dict[str, Any]] | None = None
    preview_only: WireBool = False
    requesting_redirect_url: NullableStr = None
    signing_options: WireObject[SubSigningOptions] | None = None
    signing_redirect_url: NullableStr = None
    skip_me_now: WireBool = False
    subject: NullableStr = Field(default=None, max_length=255)
    test_mode: WireBool = False
    title: NullableStr = Field(default=None, max_length=255)
    populate_auto_fill_fields: WireBool = False
    allow_ccs: WireBool = False

    _urls = field_validator("requesting_redirect_url", "signing_redirect_url")(check_optional_http_url)

    @field_validator("template_ids")
    @classmethod
    def _template_ids(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("At least one template_id is required")
        if len(v) > MAX_TEMPLATES_PER_DRAFT:
            raise ValueError(f"At most {MAX_TEMPLATES_PER_DRAFT} templates in one draft")
        return v

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if v is None else check_metadata(v)


class UnclaimedDraftEditAndResendRequest(RequestModel):
    client_id: str
    editor_options: WireObject[SubEditorOptions] | None = None
    is_for_embedded_signing: WireBool = False
    requester_email_address: Email | None = None
    requesting_redirect_url: NullableStr = None
    show_progress_stepper: WireBool = True
    signing_redirect_url: NullableStr = None
    test_mode: WireBool = False

    _urls = field_validator("requesting_redirect_url", "signing_redirect_url")(check_optional_http_url)


class TemplateEmbeddedDraftRequest(TemplateCreateRequest, EditorFlags):
    """``/template/create_embedded_draft``: a template create, finished in the editor."""

    force_signer_roles: WireBool = False
    skip_me_now: WireBool = False


class EmbeddedEditUrlRequest(EditorFlags):
    """``/embedded/edit_url/{template_id}``."""

    allow_edit_ccs: WireBool = False
    cc_roles: WireList[str] | None = None
    force_signer_roles: WireBool = False
    merge_fields: WireList[Any] | None = None
    preview_only: WireBool = False
    test_mode: WireBool = False


# -- what the editor page posts -----------------------------------------------------------------------------


class EditorSigner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=255)
    email_address: str = Field(default="", max_length=255)


class EditorGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_id: str = Field(max_length=255)
    requirement: str = Field(max_length=32)
    group_label: str | None = Field(default=None, max_length=255)


class EditorSubmit(BaseModel):
    """The layout: fields as ``form_fields_per_document`` entries (72-DPI points from the page's top left,
    ``signer`` an index or, for templates, a role name), signers (requests), groups, subject and message."""

    model_config = ConfigDict(extra="forbid")

    fields: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_EDITOR_FIELDS)
    signers: list[EditorSigner] = Field(default_factory=list, max_length=MAX_EDITOR_SIGNERS)
    groups: list[EditorGroup] = Field(default_factory=list, max_length=MAX_EDITOR_FIELDS)
    title: str | None = Field(default=None, max_length=255)
    subject: str | None = Field(default=None, max_length=255)
    message: str | None = Field(default=None, max_length=5000)


def serialize_draft(d: UnclaimedDraft, claim_url: str | None, expires_at: int | None) -> dict[str, Any]:
    params = d.params or {}
    return {
        "signature_request_id": d.draft_id,
        "claim_url": claim_url,
        "signing_redirect_url": params.get("signing_redirect_url"),
        "requesting_redirect_url": params.get("requesting_redirect_url"),
        "expires_at": expires_at,
        "test_mode": d.test_mode,
    }
