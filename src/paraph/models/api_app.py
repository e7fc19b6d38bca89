from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from paraph.db import Base, JSONType, UTCDateTime, utcnow
from paraph.models.account import Account
from paraph.models.callback import CallbackEndpoint


class ApiApp(Base):
    __tablename__ = "api_apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    domains: Mapped[list[str]] = mapped_column(JSONType, default=list)
    client_secret: Mapped[str] = mapped_column(sa.String(64))
    oauth: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    white_labeling_options: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Stored once, on the app's callback endpoint row; read with the app, written only through
    #: ``paraph.callbacks.targets.url_saved``.
    callback_url: Mapped[str | None] = column_property(
        sa.select(CallbackEndpoint.url)
        .where(CallbackEndpoint.api_app_id == id)
        .correlate_except(CallbackEndpoint)
        .scalar_subquery()
    )

    owner: Mapped[Account] = relationship(lazy="raise", foreign_keys=[account_id])
