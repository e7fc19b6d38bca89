"""Jobs: background work left as rows (document processing, mail, finalizing, sweeps).

``enqueue`` inserts in the caller's transaction, so a job exists if and only if the change that asked for
it was committed. Handlers run in their own unit of work and must be idempotent: a job whose worker died
is run again when its lease runs out.

Leases are short (:data:`JOB_LEASE_SECONDS`) and the worker running a job renews its lease while the job runs
(:func:`renew`, every :func:`renew_every` seconds), so a killed worker's jobs run again within seconds while a
live one's long job is never taken from it. Renewing, marking done and recording a failure are conditional on
still holding the lease (``locked_by``): a worker that lost its lease rolls its handler's work back
(:class:`LeaseLost`) instead of marking done a job that another worker now runs.

Turns: a job that does one account's heavy work (processing a request's or a template's documents, building the
signed document) is queued in the account's ``lane``, and :func:`claim` shares the job loops between lanes
rather than handing jobs out in order of arrival, as the PDF pool does (ADR 0014): it takes first a job whose
lane has no job running, then the next job of the lane whose last turn (its last claim) is the oldest, a lane
never served first, ties in order of arrival. One account's 20 queued documents therefore delay another
account's document by at most the jobs already running (one per job loop). A job without a lane (mail,
cancelations) takes its turn at the time it was queued: it runs before the next job of every lane served since.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from paraph.db import is_postgres, utcnow
from paraph.models import Job
from paraph.scope import Scope
from paraph.storage.base import StorageUnavailable
from paraph.worker.wakeup import wake

if TYPE_CHECKING:
    from paraph.runtime import Runtime

log = logging.getLogger(__name__)

#: A handler is handed the scope of its unit of work (the session, and the process's settings, keys, storage).
Handler = Callable[[Scope, dict[str, Any]], None]
Preparer = Callable[["Runtime", dict[str, Any]], dict[str, Any]]

_HANDLERS: dict[str, Handler] = {}
_PREPARERS: dict[str, Preparer] = {}
#: Seconds a claimed job is leased for, renewed while it runs (:func:`renew`): how long a job whose worker was
#: killed waits before another worker runs it.
JOB_LEASE_SECONDS = 20.0
MAX_JOB_ATTEMPTS = 5
#: A job that failed because the document storage could not be reached runs again after this many seconds,
#: without spending one of its attempts: an outage of the bucket longer than the backoff of MAX_JOB_ATTEMPTS
#: must not give up documents for good.
STORAGE_RETRY_SECONDS = 30


def handler(kind: str, *, prepare: Preparer | None = None) -> Callable[[Handler], Handler]:
    """Register the handler of ``kind``. ``prepare`` (optional) runs first, outside any transaction, for
    slow work (fetching URLs, PDF processing) that must not hold a write transaction open (on SQLite that is
    the database's one writer); what it returns is merged into the payload the handler gets."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        if prepare is not None:
            _PREPARERS[kind] = prepare
        else:
            _PREPARERS.pop(kind, None)
        return fn

    return register


def handlers() -> dict[str, Handler]:
    return dict(_HANDLERS)


def enqueue(
    session: Session,
    kind: str,
    payload: Mapping[str, Any],
    *,
    run_after: dt.datetime | None = None,
    lane: str | None = None,
) -> Job:
    """Queue a job. ``lane``: the account whose heavy work it does, so that it takes turns with other
    accounts' (:func:`claim`)."""
    job = Job(kind=str(kind), payload=dict(payload), run_after=run_after or utcnow(), lane=lane)
    session.add(job)
    session.flush()
    wake(session)
    return job


@dataclass(slots=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    locked_by: str


class LeaseLost(Exception):
    """This worker no longer holds the job's lease (it ran out and another worker claimed the job)."""


def renew_every(lease: float) -> float:
    """How often a holder renews a lease of ``lease`` seconds: four times per lease, so a renewal delayed by a
    busy database or event loop still lands in time."""
    return lease / 4


def claim(session: Session, worker_id: str, limit: int = 1) -> list[ClaimedJob]:
    """Lease up to ``limit`` due jobs to ``worker_id``, taking turns between lanes (see the module's doc)."""
    now = utcnow()
    other = aliased(Job)
    lane_running = (
        sa.select(other.id).where(other.lane == Job.lane, other.locked_until >= now, other.done_at.is_(None)).exists()
    )
    last_turn = sa.select(sa.func.max(other.claimed_at)).where(other.lane == Job.lane).scalar_subquery()
    turn = sa.case((Job.lane.is_(None), Job.run_after), else_=last_turn)  # NULL: a lane never served
    q = (
        sa.select(Job)
        .where(
            Job.done_at.is_(None),
            Job.run_after <= now,
            sa.or_(Job.locked_until.is_(None), Job.locked_until < now),
        )
        .order_by(
            sa.case((lane_running, 1), else_=0),
            sa.case((turn.is_(None), 0), else_=1),  # NULLS FIRST, on every backend
            turn,
            Job.run_after,
            Job.id,
        )
        .limit(limit)
    )
    if is_postgres(session):
        q = q.with_for_update(of=Job, skip_locked=True)
    out = []
    for job in session.scalars(q):
        job.locked_until = now + dt.timedelta(seconds=JOB_LEASE_SECONDS)
        job.locked_by = worker_id
        job.claimed_at = now
        job.attempts += 1
        out.append(ClaimedJob(job.id, job.kind, dict(job.payload), job.attempts, worker_id))
    return out


def _held(job_id: int, worker_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(Job.id == job_id, Job.locked_by == worker_id, Job.done_at.is_(None))


def renew(session: Session, worker_id: str, ids: list[int]) -> int:
    """Extend the leases ``worker_id`` still holds on the jobs ``ids`` (it is running them). Returns how many
    it still held."""
    if not ids:
        return 0
    result = session.execute(
        sa.update(Job)
        .where(Job.id.in_(ids), Job.locked_by == worker_id, Job.done_at.is_(None))
        .values(locked_until=utcnow() + dt.timedelta(seconds=JOB_LEASE_SECONDS))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def next_due(session: Session) -> dt.datetime | None:
    return session.scalar(sa.select(sa.func.min(Job.run_after)).where(Job.done_at.is_(None)))


def prepare(rt: Runtime, job: ClaimedJob) -> ClaimedJob:
    """Run the job's preparer, if it has one, outside any transaction (see :func:`handler`)."""
    fn = _PREPARERS.get(job.kind)
    if fn is None:
        return job
    return ClaimedJob(job.id, job.kind, {**job.payload, **fn(rt, dict(job.payload))}, job.attempts, job.locked_by)


def run(scope: Scope, job: ClaimedJob) -> None:
    """Run one claimed job inside the transaction of ``scope.session`` and mark it done, if this worker still
    holds its lease; else raise :class:`LeaseLost`, which rolls the handler's work back with the transaction."""
    fn = _HANDLERS.get(job.kind)
    if fn is None:
        raise LookupError(f"no handler for job kind {job.kind!r}")
    fn(scope, job.payload)
    done = scope.session.execute(
        sa.update(Job)
        .where(_held(job.id, job.locked_by))
        .values(done_at=utcnow(), locked_until=None)
        .execution_options(synchronize_session=False)
    )
    if not getattr(done, "rowcount", 0):
        raise LeaseLost(f"job {job.id} ({job.kind}) is no longer leased to {job.locked_by}")


def failed(session: Session, job: ClaimedJob, exc: BaseException) -> None:
    """Record a failure; retry with backoff, give up after MAX_JOB_ATTEMPTS (only while this worker still holds
    the job's lease: otherwise another worker runs it now). A storage outage spends no attempt."""
    text = "".join(traceback.format_exception(exc))[-4000:]
    values: dict[str, Any] = {"last_error": text, "locked_until": None}
    if isinstance(exc, StorageUnavailable):
        values["attempts"] = max(0, job.attempts - 1)
        values["run_after"] = utcnow() + dt.timedelta(seconds=STORAGE_RETRY_SECONDS)
        log.warning("job %s (%s) waits for the storage: %s", job.id, job.kind, exc)
    elif job.attempts >= MAX_JOB_ATTEMPTS:
        values["done_at"] = utcnow()
        log.error("job %s (%s) failed for good: %s", job.id, job.kind, exc)
    else:
        values["run_after"] = utcnow() + dt.timedelta(seconds=min(300, 2**job.attempts))
    session.execute(
        sa.update(Job).where(_held(job.id, job.locked_by)).values(**values).execution_options(synchronize_session=False)
    )
