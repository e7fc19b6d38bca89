from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from paraph.db import Base, JSONType, UTCDateTime, utcnow


class AuditEvent(Base):
    """Append-only: rows are inserted through ``paraph.audit.record`` and never updated or deleted.

    ``tag`` reads ``source:subject:action`` (``signer:signature_request:signed``, ``web:api_key:created``), one of
    ``paraph.audit.AuditTag``.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(100), index=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    signature_request_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    signature_id: Mapped[str | None] = mapped_column(sa.String(32))
    actor_name: Mapped[str | None] = mapped_column(sa.String(255))
    actor_email: Mapped[str | None] = mapped_column(sa.String(255))
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(1024))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
