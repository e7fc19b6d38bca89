"""The callback inspector: requests caught at POST /paraph/inspect/<name> (what a receiver would see), and the
names accounts have created (an account's name is private to it; with PARAPH_INSPECTOR=account only those
names catch)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from paraph.db import Base, JSONType, UTCDateTime, utcnow


class InspectedRequest(Base):
    """One caught request. The raw body is kept as bytes (up to a limit) because a Standard Webhooks
    signature covers the exact bytes; ``body_truncated`` says when they are not all there. ``stored_bytes``
    is what the row holds (body, JSON, fields, headers), counted against the inspector's byte budgets."""

    __tablename__ = "inspected_requests"
    __table_args__ = (sa.Index("ix_inspected_requests_name_id", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(sa.String(16))
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    headers: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # [[name, value], ...] in order
    form: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # text fields; files by name only
    json_text: Mapped[str | None] = mapped_column(sa.Text)  # the `json` form field, verbatim
    body: Mapped[bytes] = mapped_column(sa.LargeBinary, default=b"")
    body_size: Mapped[int] = mapped_column(default=0)
    body_truncated: Mapped[bool] = mapped_column(default=False)
    stored_bytes: Mapped[int] = mapped_column(default=0)


class InspectorName(Base):
    """An inspector name created by an account: only that account sees what it catches."""

    __tablename__ = "inspector_names"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
