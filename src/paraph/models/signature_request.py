"""Signature requests: the request, its signers, its documents, its fields and embedded sign URL tokens.

Identifiers mirror Dropbox Sign's: ``signature_request_id`` is 40 hex characters, ``signature_id`` 32.
What the API reports as booleans (``is_complete``, ``is_declined``, ``has_error``) are columns, so the list
search can filter on them; ``files_state`` says where document processing stands.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from paraph.db import Base, JSONType, UTCDateTime, utcnow
from paraph.models.account import Account
from paraph.models.api_app import ApiApp


class FilesState(StrEnum):
    PROCESSING = "processing"  # the processing job has not finished: files answer 409
    READY = "ready"  # processed: fields built, page images rendered, ``signature_request_sent`` emitted
    ERROR = "error"  # processing failed: ``file_error`` or ``signature_request_invalid`` emitted


class SignerStatus(StrEnum):
    """``signatures[].status_code`` values Paraph reports (a free string in the spec)."""

    AWAITING_SIGNATURE = "awaiting_signature"
    SIGNED = "signed"
    DECLINED = "declined"
    ON_HOLD_BY_REQUESTER = "on_hold_by_requester"
    EXPIRED = "expired"
    ERROR_FILE = "error_file"
    ERROR_TEXT_TAG = "error_text_tag"
    ERROR_COMPONENT_POSITION = "error_component_position"
    ERROR_UNKNOWN = "error_unknown"


class SignatureRequest(Base):
    __tablename__ = "signature_requests"
    __table_args__ = (
        sa.Index("ix_signature_requests_account_id_id", "account_id", "id"),
        # A bulk send job's row makes at most one request (the job resumes after a crash: paraph.bulk_send).
        sa.UniqueConstraint("bulk_send_job_id", "bulk_row", name="uq_signature_requests_bulk_row"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_request_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    api_app_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_apps.id", ondelete="SET NULL"))
    is_embedded: Mapped[bool] = mapped_column(default=False)
    test_mode: Mapped[bool] = mapped_column(default=False)

    title: Mapped[str] = mapped_column(sa.String(255), default="")
    original_title: Mapped[str] = mapped_column(sa.String(255), default="")
    subject: Mapped[str | None] = mapped_column(sa.String(255))
    message: Mapped[str | None] = mapped_column(sa.Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    cc_email_addresses: Mapped[list[str]] = mapped_column(JSONType, default=list)
    signing_redirect_url: Mapped[str | None] = mapped_column(sa.String(2048))

    # Options the signing page and finalizing read.
    allow_decline: Mapped[bool] = mapped_column(default=False)
    allow_reassign: Mapped[bool] = mapped_column(default=False)
    use_text_tags: Mapped[bool] = mapped_column(default=False)
    hide_text_tags: Mapped[bool] = mapped_column(default=False)
    ignore_text_tags_errors: Mapped[bool] = mapped_column(default=False)
    populate_auto_fill_fields: Mapped[bool] = mapped_column(default=False)
    has_signing_order: Mapped[bool] = mapped_column(default=False)
    signing_options: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    field_options: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    signer_experience: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    form_field_groups: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    form_field_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    custom_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # form_fields_per_document as validated at creation (documents.model.Field as dicts); legacy-coordinate
    # fields keep page 0 until processing knows the page sizes.
    requested_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    #: The templates a request was sent from (``send_with_template``), in the order given; None otherwise.
    template_ids: Mapped[list[str] | None] = mapped_column(JSONType)
    #: The bulk send job that made the request (its public id, as answered) and the job's row; None otherwise.
    bulk_send_job_id: Mapped[str | None] = mapped_column(sa.String(40))
    bulk_row: Mapped[int | None] = mapped_column()

    # State.
    files_state: Mapped[str] = mapped_column(sa.String(16), default=FilesState.PROCESSING)
    is_complete: Mapped[bool] = mapped_column(default=False)
    is_declined: Mapped[bool] = mapped_column(default=False)
    has_error: Mapped[bool] = mapped_column(default=False)
    is_expired: Mapped[bool] = mapped_column(default=False)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    signature_page_appended: Mapped[bool] = mapped_column(default=False)
    current_pdf_key: Mapped[str | None] = mapped_column(sa.String(255))
    final_pdf_key: Mapped[str | None] = mapped_column(sa.String(255))

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(lazy="raise")
    api_app: Mapped[ApiApp | None] = relationship(lazy="raise")
    signers: Mapped[list[Signer]] = relationship(
        lazy="raise", back_populates="signature_request", order_by="Signer.position", cascade="all, delete-orphan"
    )
    documents: Mapped[list[Document]] = relationship(
        lazy="raise", back_populates="signature_request", order_by="Document.index", cascade="all, delete-orphan"
    )
    fields: Mapped[list[RequestField]] = relationship(
        lazy="raise", back_populates="signature_request", order_by="RequestField.id", cascade="all, delete-orphan"
    )
    # What the API response shows of the fields: merge fields (``custom_fields``) and filled ones
    # (``response_data``), without loading every field of a request with hundreds of text tags. Read-only:
    # read it again (``signature_request.repository.reload_response_fields``) after changing fields in the same
    # session.
    response_fields: Mapped[list[RequestField]] = relationship(
        lazy="raise",
        primaryjoin=(
            "and_(SignatureRequest.id == RequestField.signature_request_id, "
            "or_(RequestField.type.in_(['text-merge', 'checkbox-merge']), RequestField.filled_at.is_not(None)))"
        ),
        order_by="RequestField.id",
        viewonly=True,
    )


class Signer(Base):
    """One signer. ``position`` is the place in the response's ``signatures``; ``signer_index`` is the index
    form fields and text tags refer to (the group's index for grouped signers, who share it)."""

    __tablename__ = "signers"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("signature_requests.id", ondelete="CASCADE"), index=True
    )
    signature_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    position: Mapped[int]
    signer_index: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    email_address: Mapped[str] = mapped_column(sa.String(255))
    order: Mapped[int | None]
    group_guid: Mapped[str | None] = mapped_column(sa.String(40))
    group_name: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[str | None] = mapped_column(sa.String(255))
    # The access code, hashed (argon2, paraph.security.hash_pin); wrong tries since the last good one or the
    # sender's last update of the signer (PIN_TRIES of them lock the signer out).
    pin_hash: Mapped[str | None] = mapped_column(sa.String(255))
    pin_failures: Mapped[int] = mapped_column(default=0)
    status_code: Mapped[str] = mapped_column(sa.String(32), default=SignerStatus.AWAITING_SIGNATURE)
    error: Mapped[str | None] = mapped_column(sa.Text)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_viewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reassigned_by: Mapped[str | None] = mapped_column(sa.String(255))
    reassignment_reason: Mapped[str | None] = mapped_column(sa.Text)
    reassigned_from: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    signature_request: Mapped[SignatureRequest] = relationship(lazy="raise", back_populates="signers")


class Document(Base):
    """One uploaded or fetched file. Storage keys are made by Paraph (``sr/<id>/docs/<index>/...``)."""

    __tablename__ = "documents"
    __table_args__ = (sa.UniqueConstraint("signature_request_id", "index", name="uq_documents_request_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("signature_requests.id", ondelete="CASCADE"), index=True
    )
    index: Mapped[int]
    filename: Mapped[str] = mapped_column(sa.String(255), default="")
    source_url: Mapped[str | None] = mapped_column(sa.String(2048))  # file_urls[i]
    original_key: Mapped[str] = mapped_column(sa.String(255))
    original_size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    processed_key: Mapped[str | None] = mapped_column(sa.String(255))
    page_sizes: Mapped[list[list[float]]] = mapped_column(JSONType, default=list)  # [[width, height], ...] pt
    page_image_keys: Mapped[list[str]] = mapped_column(JSONType, default=list)  # PNG per page

    signature_request: Mapped[SignatureRequest] = relationship(lazy="raise", back_populates="documents")


class RequestField(Base):
    """A field of a processed request. ``spec`` is the whole ``documents.model.Field`` as a dict; the columns
    repeat what queries need. ``value`` is what was entered (the signing page writes it)."""

    __tablename__ = "signature_request_fields"
    __table_args__ = (sa.UniqueConstraint("signature_request_id", "api_id", name="uq_signature_request_fields_api_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_request_id: Mapped[int] = mapped_column(sa.ForeignKey("signature_requests.id", ondelete="CASCADE"))
    api_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(32))
    signer: Mapped[str] = mapped_column(sa.String(16))  # "0", "1", ..., "sender", "me_now"
    document_index: Mapped[int]
    page: Mapped[int]
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    value: Mapped[Any | None] = mapped_column(JSONType)
    filled_by_signature_id: Mapped[str | None] = mapped_column(sa.String(32))
    filled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    signature_request: Mapped[SignatureRequest] = relationship(lazy="raise", back_populates="fields")


class SignUrlToken(Base):
    """One embedded sign URL. Only a keyed digest of the token is stored; a token works once, until
    ``expires_at`` (settings.sign_url_ttl_minutes after it was handed out)."""

    __tablename__ = "sign_url_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    signer_id: Mapped[int] = mapped_column(sa.ForeignKey("signers.id", ondelete="CASCADE"), index=True)
    lookup: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the signing page first opened with it (while live): from then on it may act until
    #: ``expires_at`` plus ``paraph.signing.access.OPENED_GRACE``.
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When ``sign_url_invalid`` was emitted for it: once per token, however often it is opened again.
    invalid_reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    signer: Mapped[Signer] = relationship(lazy="raise")
