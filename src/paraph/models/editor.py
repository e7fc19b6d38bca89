"""The editor's rows: unclaimed drafts (embedded requesting, ``unclaimed_draft/*``) and the single-use,
expiring tokens of claim and edit URLs.

An unclaimed draft holds a request not yet laid out: its create parameters as given (``params``), its
documents (processed once by the request pipeline, under the storage prefix of the request it becomes:
``sr/<draft_id>/docs/<i>``) and the fields text tags or ``form_fields_per_document`` placed. Sending it from
the editor creates the signature request ``draft_id`` with the fields laid out, reusing the processed files.

An editor token opens the editor on one draft or one template. Only a keyed digest is stored; it dies once
used (the draft sent, the template saved) or past ``expires_at`` (``PARAPH_EDIT_URL_TTL_MINUTES``).
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


class DraftState(StrEnum):
    PROCESSING = "processing"  # documents being processed: the editor waits
    READY = "ready"  # the editor may open
    ERROR = "error"  # processing failed (``error_message``)
    SENT = "sent"  # claimed and sent: the signature request ``draft_id`` exists


class UnclaimedDraft(Base):
    __tablename__ = "unclaimed_drafts"
    __table_args__ = (sa.Index("ix_unclaimed_drafts_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The signature_request_id the request will have once sent (Dropbox Sign answers it at creation).
    draft_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    api_app_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_apps.id", ondelete="SET NULL"))
    is_embedded: Mapped[bool] = mapped_column(default=False)  # claimed in an iFrame, else in the dashboard
    test_mode: Mapped[bool] = mapped_column(default=False)
    draft_type: Mapped[str] = mapped_column(sa.String(32), default="request_signature")
    hold_request: Mapped[bool] = mapped_column(default=False)
    requester_email_address: Mapped[str | None] = mapped_column(sa.String(255))
    #: The request's create parameters as validated (a SignatureRequestCreateRequest dump, fields aside).
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    editor_options: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    #: [{index, filename, original_key, processed_key, sha256, size, page_sizes, page_image_keys}]
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    #: Fields placed before the editor opens (text tags, form_fields_per_document), as pdf.model.Field dicts.
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    groups: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    #: The request edit_and_resend started from (canceled once the new one is sent).
    resend_of: Mapped[str | None] = mapped_column(sa.String(40))
    state: Mapped[str] = mapped_column(sa.String(16), default=DraftState.PROCESSING)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(lazy="raise")
    api_app: Mapped[ApiApp | None] = relationship(lazy="raise")


class EditorToken(Base):
    """A claim URL's (``draft_id``) or an edit URL's (``template_id``) token: one of the two is set."""

    __tablename__ = "editor_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    lookup: Mapped[str] = mapped_column(sa.String(64), unique=True)
    draft_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unclaimed_drafts.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[int | None] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    #: What an edit URL was asked for (merge_fields, cc_roles, preview_only, force_signer_roles, ...).
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
