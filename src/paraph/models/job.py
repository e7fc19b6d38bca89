from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from paraph.db import Base, JSONType, UTCDateTime, utcnow


class Job(Base):
    """Background work left as a row in the transaction that asked for it (the outbox).

    Workers claim a row by a conditional UPDATE of ``locked_until`` (a lease); a crashed worker's lease runs
    out and another worker takes the job again, so handlers must be idempotent.

    ``lane`` (the account's id, for jobs that do an account's heavy work) makes the claim fair between accounts
    (:func:`paraph.worker.queue.claim`); ``claimed_at`` is when the job was last claimed (its lane's turns).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        sa.Index("ix_jobs_ready", "done_at", "run_after"),
        # The claim's look-ups of a lane: its last turn, and whether one of its jobs is running.
        sa.Index("ix_jobs_lane_claimed", "lane", "claimed_at"),
        sa.Index("ix_jobs_lane_leased", "lane", "locked_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    run_after: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(sa.String(64))
    lane: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
