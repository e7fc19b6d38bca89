from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from paraph.db import Base, UTCDateTime, utcnow
from paraph.models.callback import CallbackEndpoint


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    email_address: Mapped[str] = mapped_column(sa.String(255), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    locale: Mapped[str] = mapped_column(sa.String(16), default="en-US")
    # The API app that created this account through POST /account/create with client_id, if any.
    # (no foreign key: api_apps already refers to accounts, and a cycle would complicate migrations)
    created_by_app_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Stored once, on the account's callback endpoint row; read with the account, written only through
    #: ``paraph.callbacks.targets.url_saved``.
    callback_url: Mapped[str | None] = column_property(
        sa.select(CallbackEndpoint.url)
        .where(CallbackEndpoint.account_id == id, CallbackEndpoint.api_app_id.is_(None))
        .correlate_except(CallbackEndpoint)
        .scalar_subquery()
    )

    api_keys: Mapped[list[ApiKey]] = relationship(lazy="raise", back_populates="account", order_by="ApiKey.id")


class ApiKey(Base):
    """An API key. The key itself is stored encrypted (callbacks need it to compute ``event_hash``); a keyed
    hash of it is the lookup index, so authentication never decrypts more than one row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="Default")
    lookup: Mapped[str] = mapped_column(sa.String(64), unique=True)
    encrypted_key: Mapped[str] = mapped_column(sa.Text)
    suffix: Mapped[str] = mapped_column(sa.String(8))
    is_primary: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(lazy="raise", back_populates="api_keys")
