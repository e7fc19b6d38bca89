"""The shapes that documents work produces and consumes, shared by processing, signing and finalizing."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

#: Validation types a text tag may name; form fields may also name ``custom_regex`` (``pdf.fields``).
TAG_VALIDATION_TYPES = (
    "numbers_only",
    "letters_only",
    "phone_number",
    "bank_routing_number",
    "bank_account_number",
    "email_address",
    "zip_code",
    "social_security_number",
    "employer_identification_number",
)


class FieldType(StrEnum):
    """Form field types as Dropbox Sign names them in ``form_fields_per_document`` and ``response_data``."""

    SIGNATURE = "signature"
    INITIALS = "initials"
    TEXT = "text"
    CHECKBOX = "checkbox"
    RADIO = "radio"
    DROPDOWN = "dropdown"
    DATE_SIGNED = "date_signed"
    HYPERLINK = "hyperlink"
    TEXT_MERGE = "text-merge"
    CHECKBOX_MERGE = "checkbox-merge"


#: Who fills a field: a 0-based signer index, the sender (merge fields, filled at creation), or the
#: preparer now (``me_now``; filled at creation from ``content``).
SignerRef = int | Literal["sender", "me_now"]


@dataclass(slots=True)
class Field:
    """One field placed on one page of one document.

    Geometry is in PDF points (1/72 inch) relative to the page's top-left corner, whatever system the
    caller used to describe it (text tag extent, 72-DPI ``page`` coordinates, or the legacy system).
    """

    api_id: str
    type: FieldType
    signer: SignerRef
    document_index: int
    page: int  # 1-based
    x: float
    y: float
    width: float
    height: float
    required: bool = True
    name: str | None = None
    # text
    placeholder: str | None = None
    validation_type: str | None = None
    validation_custom_regex: str | None = None
    validation_custom_regex_format_label: str | None = None
    auto_fill_type: str | None = None
    link_id: str | None = None
    masked: bool = False
    font_family: str | None = None
    font_size: int = 12
    # dropdown
    options: list[str] = field(default_factory=list)
    # prefilled value: me_now content, dropdown default, merge value, hyperlink text
    content: str | None = None
    content_url: str | None = None
    # checkbox / radio
    is_checked: bool = False
    group: str | None = None


@dataclass(slots=True)
class FieldGroup:
    """A checkbox or radio group (``form_field_groups``, or a text tag ``def:$var``)."""

    group_id: str
    requirement: str  # require_0-1 | require_1 | require_1-ormore | require_N-M (text tags)
    group_label: str | None = None


@dataclass(slots=True)
class PageInfo:
    width: float  # points
    height: float  # points


@dataclass(slots=True)
class ProcessedDocument:
    """What processing one uploaded document yields."""

    pdf: bytes  # the document as PDF (images converted; text tags hidden when asked)
    pages: list[PageInfo]
    fields: list[Field]
    groups: list[FieldGroup]
    page_images: list[bytes]  # PNG per page, for the signing page
    sha256: str  # of the original upload


class DocumentErrorKind(StrEnum):
    """Why processing failed; maps onto the signer ``status_code`` Dropbox Sign reports."""

    FILE = "error_file"  # unreadable: corrupt, encrypted, empty, not a document, too large
    TEXT_TAG = "error_text_tag"  # malformed or inconsistent text tags
    COMPONENT_POSITION = "error_component_position"  # a field off the page or on a missing page


class DocumentError(Exception):
    """A document cannot be processed. ``message`` is shown to integrators as ``event_message``."""

    def __init__(self, kind: DocumentErrorKind, message: str, *, document_index: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.document_index = document_index
