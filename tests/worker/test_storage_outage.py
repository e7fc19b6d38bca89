"""A job that fails because the document storage cannot be reached (a bucket outage) is retried until the
storage is back, without spending its attempts: an outage longer than the backoff of MAX_JOB_ATTEMPTS does not
give a document up for good. Other failures still give up after MAX_JOB_ATTEMPTS."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from paraph.db import utcnow
from paraph.models import Job
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.storage import StorageUnavailable
from paraph.worker import queue


def run_due_job(rt: Runtime) -> None:
    """One worker turn, as the job loop takes it, the retry delay having passed."""
    with rt.unit_of_work() as session:
        session.execute(
            sa.update(Job).where(Job.done_at.is_(None)).values(run_after=utcnow() - dt.timedelta(seconds=1))
        )
    with rt.unit_of_work() as session:
        claimed = queue.claim(session, "a-worker")
    assert claimed, "the job was not there to run"
    job = claimed[0]
    try:
        job = queue.prepare(rt, job)
        with rt.unit_of_work() as session:
            queue.run(Scope.of(session, rt), job)
    except Exception as exc:
        with rt.unit_of_work() as session:
            queue.failed(session, job, exc)


def test_a_storage_outage_spends_no_attempt(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    storage_up = False
    ran: list[str] = []

    def needs_storage(scope: Scope, payload: dict[str, Any]) -> None:
        if not storage_up:
            raise StorageUnavailable("the bucket cannot be reached")
        ran.append(payload["doc"])

    def broken(scope: Scope, payload: dict[str, Any]) -> None:
        raise ValueError("a bug")

    monkeypatch.setitem(queue._HANDLERS, "test.needs_storage", needs_storage)
    monkeypatch.setitem(queue._HANDLERS, "test.broken", broken)
    with runtime.unit_of_work() as session:
        job_id = queue.enqueue(session, "test.needs_storage", {"doc": "d1"}).id
    for _ in range(queue.MAX_JOB_ATTEMPTS + 3):
        run_due_job(runtime)
    with runtime.unit_of_work(write=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert job.done_at is None and job.attempts == 0  # still waiting, no attempt spent
        assert "StorageUnavailable" in (job.last_error or "")
    storage_up = True
    run_due_job(runtime)
    assert ran == ["d1"]

    with runtime.unit_of_work() as session:
        broken_id = queue.enqueue(session, "test.broken", {}).id
    for _ in range(queue.MAX_JOB_ATTEMPTS):
        run_due_job(runtime)
    with runtime.unit_of_work(write=False) as session:
        job = session.get(Job, broken_id)
        assert job is not None and job.done_at is not None  # given up, as before
