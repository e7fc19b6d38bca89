"""Templates: a contract laid out once (documents processed once, roles, merge fields, fields placed for
roles) and sent many times with ``send_with_template``.

``template_id`` is 40 hex characters like Dropbox Sign's. A template's documents are processed by the same
pipeline as a request's; their stored files (``tpl/<template_id>/v<files_version>/...``) are never written
again once processed, so a request sent from the template points at the same storage keys instead of copying
or re-processing them, and a template deleted (``deleted_at``: soft) or given new files (a new
``files_version``) leaves the requests already sent with their documents.

Fields are stored per document with ``role_index`` (the index into ``signer_roles``, as ``signer`` is in the
template's ``form_fields_per_document``), or ``sender`` for merge fields. Later operations build on these rows
without changing them: an embedded draft (``is_draft``, ``is_embedded``) is a template not yet finished in the
editor, and bulk sends read the same roles and fields.
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


class TemplateState(StrEnum):
    PROCESSING = "processing"  # the documents are being processed: files answer 409, sends are refused
    READY = "ready"  # processed: ``template_created`` emitted
    ERROR = "error"  # processing failed: ``template_error`` emitted with the reason


class Template(Base):
    __tablename__ = "templates"
    __table_args__ = (sa.Index("ix_templates_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    api_app_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_apps.id", ondelete="SET NULL"))
    is_embedded: Mapped[bool] = mapped_column(default=False)
    #: An embedded draft not yet saved in the editor (create_embedded_draft): listed nowhere, sends refused.
    is_draft: Mapped[bool] = mapped_column(default=False)
    test_mode: Mapped[bool] = mapped_column(default=False)

    title: Mapped[str] = mapped_column(sa.String(255), default="")
    subject: Mapped[str | None] = mapped_column(sa.String(255))
    message: Mapped[str | None] = mapped_column(sa.Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)

    allow_reassign: Mapped[bool] = mapped_column(default=False)
    allow_ccs: Mapped[bool] = mapped_column(default=True)
    use_text_tags: Mapped[bool] = mapped_column(default=False)  # use_preexisting_fields
    ignore_text_tags_errors: Mapped[bool] = mapped_column(default=False)
    field_options: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    signer_experience: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    #: Editor options of an embedded draft (force_signer_roles, skip_me_now, ...), as given.
    editor_options: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    form_field_groups: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    form_field_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # form_fields_per_document as validated at creation (pdf.model.Field as dicts), until processing places them.
    requested_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    state: Mapped[str] = mapped_column(sa.String(16), default=TemplateState.PROCESSING)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    files_version: Mapped[int] = mapped_column(default=1)
    current_pdf_key: Mapped[str | None] = mapped_column(sa.String(255))
    signature_page_appended: Mapped[bool] = mapped_column(default=False)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(lazy="raise")
    api_app: Mapped[ApiApp | None] = relationship(lazy="raise")
    signer_roles: Mapped[list[TemplateSignerRole]] = relationship(
        lazy="raise", order_by="TemplateSignerRole.position", cascade="all, delete-orphan"
    )
    cc_roles: Mapped[list[TemplateCcRole]] = relationship(
        lazy="raise", order_by="TemplateCcRole.position", cascade="all, delete-orphan"
    )
    merge_fields: Mapped[list[TemplateMergeField]] = relationship(
        lazy="raise", order_by="TemplateMergeField.position", cascade="all, delete-orphan"
    )
    documents: Mapped[list[TemplateDocument]] = relationship(
        lazy="raise", order_by="TemplateDocument.index", cascade="all, delete-orphan"
    )
    fields: Mapped[list[TemplateField]] = relationship(
        lazy="raise", order_by="TemplateField.id", cascade="all, delete-orphan"
    )
    shares: Mapped[list[TemplateShare]] = relationship(
        lazy="raise", order_by="TemplateShare.id", cascade="all, delete-orphan"
    )


class TemplateSignerRole(Base):
    __tablename__ = "template_signer_roles"
    __table_args__ = (sa.UniqueConstraint("template_id", "position", name="uq_template_signer_roles_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"))
    position: Mapped[int]  # the role index fields refer to
    name: Mapped[str] = mapped_column(sa.String(255))
    order: Mapped[int | None]


class TemplateCcRole(Base):
    __tablename__ = "template_cc_roles"
    __table_args__ = (sa.UniqueConstraint("template_id", "position", name="uq_template_cc_roles_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(255))


class TemplateMergeField(Base):
    """A merge field declared with ``merge_fields`` (name and type); ``custom_fields`` of a send fill it."""

    __tablename__ = "template_merge_fields"
    __table_args__ = (sa.UniqueConstraint("template_id", "name", name="uq_template_merge_fields_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(16))  # text | checkbox


class TemplateDocument(Base):
    """One file of the template, processed once: the keys are shared by every request sent from it."""

    __tablename__ = "template_documents"
    __table_args__ = (sa.UniqueConstraint("template_id", "index", name="uq_template_documents_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    index: Mapped[int]
    filename: Mapped[str] = mapped_column(sa.String(255), default="")
    source_url: Mapped[str | None] = mapped_column(sa.String(2048))
    original_key: Mapped[str] = mapped_column(sa.String(255))
    original_size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    processed_key: Mapped[str | None] = mapped_column(sa.String(255))
    page_sizes: Mapped[list[list[float]]] = mapped_column(JSONType, default=list)
    page_image_keys: Mapped[list[str]] = mapped_column(JSONType, default=list)


class TemplateField(Base):
    """A placed field. ``spec`` is the whole ``pdf.model.Field`` as a dict (its ``signer`` the role index);
    ``role_index`` repeats it as text (``"0"``, ``"1"``, ... or ``"sender"``) for queries."""

    __tablename__ = "template_fields"
    __table_args__ = (sa.UniqueConstraint("template_id", "api_id", name="uq_template_fields_api_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"))
    api_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(32))
    role_index: Mapped[str] = mapped_column(sa.String(16))
    document_index: Mapped[int]
    page: Mapped[int]
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)


class TemplateShare(Base):
    """An account the creator gave the template to (``add_user``): it may read the template and send from it."""

    __tablename__ = "template_shares"
    __table_args__ = (sa.UniqueConstraint("template_id", "account_id", name="uq_template_shares_account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    can_edit: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(lazy="raise")
