from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from paraph.db import Base, JSONType, UTCDateTime, utcnow


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (first or retry)
    DELIVERED = "delivered"
    FAILED = "failed"  # every retry used up
    HELD = "held"  # its endpoint is disabled; released when the endpoint is re-enabled


class CallbackEndpoint(Base):
    """Where one target's callbacks go: the account's URL (``api_app_id`` null) or one API app's URL."""

    __tablename__ = "callback_endpoints"
    __table_args__ = (sa.UniqueConstraint("account_id", "api_app_id", name="uq_callback_endpoints_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    api_app_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_apps.id", ondelete="CASCADE"))
    url: Mapped[str | None] = mapped_column(sa.String(2048))
    secret: Mapped[str] = mapped_column(sa.String(80))  # whsec_... for Standard Webhooks signatures
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CallbackEvent(Base):
    """One event, as it happened. ``object_json`` is the API serialization of the object at that moment."""

    __tablename__ = "callback_events"
    __table_args__ = (sa.Index("ix_callback_events_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(40), unique=True)  # webhook-id
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    api_app_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_apps.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(sa.String(64), index=True)
    event_time: Mapped[int]
    event_message: Mapped[str | None] = mapped_column(sa.Text)
    related_signature_id: Mapped[str | None] = mapped_column(sa.String(40))
    signature_request_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    template_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)  # template_created / _error
    object_kind: Mapped[str | None] = mapped_column(sa.String(32))  # signature_request | template | account
    object_json: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    deliveries: Mapped[list[CallbackDelivery]] = relationship(
        lazy="raise", back_populates="event", order_by="CallbackDelivery.id"
    )


class CallbackDelivery(Base):
    """One event bound for one endpoint. The body is frozen at emit time so every retry sends the same bytes."""

    __tablename__ = "callback_deliveries"
    __table_args__ = (sa.Index("ix_callback_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("callback_events.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("callback_endpoints.id", ondelete="CASCADE"), index=True)
    webhook_id: Mapped[str] = mapped_column(sa.String(40))  # the event's public id, copied for the hot path
    state: Mapped[str] = mapped_column(sa.String(16), default=DeliveryState.PENDING)
    body_json: Mapped[str | None] = mapped_column(sa.Text)  # the `json` form field; pruned after retention
    attempt_count: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(sa.String(64))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[CallbackEvent] = relationship(lazy="raise", back_populates="deliveries")
    endpoint: Mapped[CallbackEndpoint] = relationship(lazy="raise")
    attempts: Mapped[list[CallbackAttempt]] = relationship(lazy="raise", order_by="CallbackAttempt.id")


class CallbackAttempt(Base):
    """Evidence of one try: kept after the payload is pruned."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("callback_deliveries.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2048))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    latency_ms: Mapped[int] = mapped_column(default=0)
    status_code: Mapped[int | None]
    ok: Mapped[bool] = mapped_column(default=False)
    body_excerpt: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
