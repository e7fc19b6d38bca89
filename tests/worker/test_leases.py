"""Job leases are short and renewed while the job runs: a killed worker's job runs again soon, a live worker's
long job is never taken from it, and a worker that lost its lease does not mark the job done."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from paraph.db import utcnow
from paraph.models import Job
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.worker import queue
from paraph.worker.runner import JobLoops, Worker
from tests.client import wait_until


class RunningWorker:
    """A worker running job loops on its own event loop in a thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.worker = Worker(runtime, [JobLoops(runtime, job_loops=1, poll_interval=0.05)])
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.worker.run(),), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.worker.stop)
        self.thread.join(30)
        assert not self.thread.is_alive()
        self.loop.close()


@pytest.fixture
def start_worker(runtime: Runtime) -> Iterator[Any]:
    started: list[RunningWorker] = []

    def start() -> RunningWorker:
        started.append(RunningWorker(runtime))
        return started[-1]

    yield start
    for w in started:
        if w.thread.is_alive():
            w.stop()


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Job kind ``test.note``: its handler notes the job's payload ``n`` and queues a ``test.after`` job (work
    that a rollback undoes)."""
    notes: list[str] = []

    def note(scope: Scope, payload: dict[str, Any]) -> None:
        notes.append(payload["n"])
        queue.enqueue(scope.session, "test.after", {})

    monkeypatch.setitem(queue._HANDLERS, "test.note", note)
    monkeypatch.setitem(queue._HANDLERS, "test.after", lambda scope, payload: None)
    return notes


def job_row(rt: Runtime, job_id: int) -> Job:
    with rt.unit_of_work(write=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def enqueue(rt: Runtime, kind: str, payload: dict[str, Any]) -> int:
    with rt.unit_of_work() as session:
        return queue.enqueue(session, kind, payload).id


def test_a_killed_workers_job_runs_again_once_its_short_lease_ends(
    runtime: Runtime, ran: list[str], start_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = enqueue(runtime, "test.note", {"n": "once"})
    with runtime.unit_of_work() as session:
        before = utcnow()
        assert len(queue.claim(session, "killed-worker")) == 1  # ... and the worker is killed: never renewed
    lease_end = job_row(runtime, job_id).locked_until
    assert lease_end is not None and lease_end <= before + dt.timedelta(seconds=30)
    monkeypatch.setattr(queue, "JOB_LEASE_SECONDS", 1.0)  # the next claims: shrunk so the test is short
    with runtime.unit_of_work() as session:  # ... and the lease the killed worker took runs out
        session.execute(sa.update(Job).values(locked_until=utcnow() + dt.timedelta(seconds=0.5)))
    live = start_worker()
    wait_until(lambda: job_row(runtime, job_id).done_at is not None)
    job = job_row(runtime, job_id)
    assert (ran, job.locked_by, job.attempts) == (["once"], live.worker.worker_id, 2)


def test_a_live_workers_long_job_keeps_its_lease_and_is_not_run_twice(
    runtime: Runtime, ran: list[str], start_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue, "JOB_LEASE_SECONDS", 1.0)
    started, finish = threading.Event(), threading.Event()
    prepared: list[str] = []

    def slow(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any]:  # slow work runs outside any transaction
        prepared.append(payload["n"])
        started.set()
        finish.wait(60)
        return {}

    monkeypatch.setitem(queue._PREPARERS, "test.note", slow)
    job_id = enqueue(runtime, "test.note", {"n": "long"})
    first = start_worker()
    assert started.wait(30)
    first_lease = job_row(runtime, job_id).locked_until
    assert first_lease is not None
    second = start_worker()  # polls every 50 ms while the first worker's job runs
    # Until the first lease has long run out and been renewed many times since:
    wait_until(lambda: (job_row(runtime, job_id).locked_until or first_lease) > first_lease + dt.timedelta(seconds=3))
    assert (prepared, job_row(runtime, job_id).locked_by) == (["long"], first.worker.worker_id)
    finish.set()
    wait_until(lambda: job_row(runtime, job_id).done_at is not None)
    job = job_row(runtime, job_id)
    assert (prepared, ran, job.locked_by, job.attempts) == (["long"], ["long"], first.worker.worker_id, 1)
    second.stop()


def test_a_worker_that_lost_its_lease_does_not_mark_the_job_done(runtime: Runtime, ran: list[str]) -> None:
    job_id = enqueue(runtime, "test.note", {"n": "taken"})
    with runtime.unit_of_work() as session:
        [mine] = queue.claim(session, "slow-worker")
    with runtime.unit_of_work() as session:  # its lease ran out and another worker claimed the job
        session.execute(sa.update(Job).where(Job.id == job_id).values(locked_by="other-worker"))
    with pytest.raises(queue.LeaseLost), runtime.unit_of_work() as session:
        queue.run(Scope.of(session, runtime), mine)
    with runtime.unit_of_work() as session:
        queue.failed(session, mine, RuntimeError("late"))  # nor records a failure over the new holder's run
        assert queue.renew(session, "slow-worker", [job_id]) == 0
    job = job_row(runtime, job_id)
    assert (job.done_at, job.locked_by, job.last_error) == (None, "other-worker", None)
    with runtime.unit_of_work(write=False) as session:  # the handler's work was rolled back with it
        assert session.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.kind == "test.after")) == 0
