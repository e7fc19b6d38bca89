"""Signed-in dashboard sessions, kept server-side so signing out (or revoking) ends them for real."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from paraph.db import Base, UTCDateTime, utcnow
from paraph.models.account import Account


class DashboardSession(Base):
    """The cookie carries a random token (and a MAC of it); only a keyed digest of the token is stored, so a
    database dump does not hand out live sessions."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    lookup: Mapped[str] = mapped_column(sa.String(64), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(1024))

    account: Mapped[Account] = relationship(lazy="raise")
