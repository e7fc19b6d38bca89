"""Bulk send jobs: one row per ``bulk_send_with_template`` / ``bulk_create_embedded_with_template`` call.

The call stores what every request shares (``request``: the send's parameters but its signers and custom field
values) and one entry per request to make (``rows``: signers by role, and the row's custom field values), all
checked before the job exists; the worker then makes the requests (``paraph.bulk_send.tasks``). ``next_row``
is how many rows are done: it moves in the same transaction as the request of its row is inserted, so a worker
killed mid-job resumes at the first row whose request was not committed, and the unique
(``signature_requests.bulk_send_job_id``, ``bulk_row``) pair refuses a second request for a row. A row whose
request could not be made (a template deleted meanwhile) is recorded in ``failures`` and counted as done.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from paraph.db import Base, JSONType, UTCDateTime, utcnow


class BulkSendJob(Base):
    __tablename__ = "bulk_send_jobs"
    __table_args__ = (sa.Index("ix_bulk_send_jobs_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulk_send_job_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    is_embedded: Mapped[bool] = mapped_column(default=False)
    total: Mapped[int] = mapped_column(default=0)
    next_row: Mapped[int] = mapped_column(default=0)
    request: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
