"""Accounts take turns in the job queue: one account's heavy queue delays another account's document by at most
one job per job loop, not by its whole queue."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.worker import queue
from paraph.worker.runner import JobLoops, Worker
from tests.client import wait_until


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Job kind ``test.work``: its handler notes the job's payload ``n``, in the order the jobs run."""
    notes: list[str] = []
    lock = threading.Lock()

    def work(scope: Scope, payload: dict[str, Any]) -> None:
        with lock:
            notes.append(payload["n"])

    monkeypatch.setitem(queue._HANDLERS, "test.work", work)
    return notes


def queue_heavy_then_light(rt: Runtime, *, lane_less: bool = False) -> None:
    """Account A queues ten jobs, then account B one (then, if asked, a job of no account)."""
    with rt.unit_of_work() as session:
        for i in range(10):
            queue.enqueue(session, "test.work", {"n": f"A{i}"}, lane="account-a")
    with rt.unit_of_work() as session:
        queue.enqueue(session, "test.work", {"n": "B"}, lane="account-b")
    if lane_less:
        with rt.unit_of_work() as session:
            queue.enqueue(session, "test.work", {"n": "mail"})


def claim_one(rt: Runtime, worker_id: str) -> queue.ClaimedJob | None:
    with rt.unit_of_work() as session:
        claimed = queue.claim(session, worker_id)
    return claimed[0] if claimed else None


def run(rt: Runtime, job: queue.ClaimedJob) -> None:
    with rt.unit_of_work() as session:
        queue.run(Scope.of(session, rt), job)


@pytest.mark.parametrize("slots", [1, 2])
def test_another_accounts_job_waits_for_at_most_one_job_per_slot(runtime: Runtime, ran: list[str], slots: int) -> None:
    """Claims as the worker's job loops make them: each of ``slots`` loops claims a job, runs it, claims the next;
    here the loops finish their jobs in turn."""
    queue_heavy_then_light(runtime)
    started: list[str] = []
    running: list[queue.ClaimedJob] = []
    while True:
        while len(running) < slots and (job := claim_one(runtime, f"loop-{len(running)}")) is not None:
            started.append(job.payload["n"])
            running.append(job)
        if not running:
            break
        run(runtime, running.pop(0))
    assert sorted(started) == sorted(ran) == sorted([f"A{i}" for i in range(10)] + ["B"])
    assert started.index("B") <= slots  # behind at most one of A's jobs per slot, not all ten
    assert [n for n in started if n != "B"] == [f"A{i}" for i in range(10)]  # A's own jobs in order


def test_an_account_that_queues_while_its_job_runs_waits_for_the_others(runtime: Runtime, ran: list[str]) -> None:
    """A's documents arrive one by one, each after A's previous one started; B's, queued last, is next."""
    with runtime.unit_of_work() as session:
        queue.enqueue(session, "test.work", {"n": "A0"}, lane="account-a")
    first = claim_one(runtime, "loop")
    assert first is not None and first.payload["n"] == "A0"
    with runtime.unit_of_work() as session:
        queue.enqueue(session, "test.work", {"n": "A1"}, lane="account-a")
    with runtime.unit_of_work() as session:
        queue.enqueue(session, "test.work", {"n": "B"}, lane="account-b")
    run(runtime, first)
    while (job := claim_one(runtime, "loop")) is not None:
        run(runtime, job)
    assert ran == ["A0", "B", "A1"]


def test_a_job_of_no_account_keeps_its_place_in_order_of_arrival(runtime: Runtime, ran: list[str]) -> None:
    queue_heavy_then_light(runtime, lane_less=True)
    while (job := claim_one(runtime, "loop")) is not None:
        run(runtime, job)
    assert ran == ["A0", "B", "mail"] + [f"A{i}" for i in range(1, 10)]


class RunningWorker:
    """A worker running ``job_loops`` job loops on its own event loop in a thread."""

    def __init__(self, runtime: Runtime, job_loops: int) -> None:
        self.worker = Worker(runtime, [JobLoops(runtime, job_loops=job_loops, poll_interval=0.05)])
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.worker.run(),), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.worker.stop)
        self.thread.join(30)
        assert not self.thread.is_alive()
        self.loop.close()


def test_a_worker_with_one_job_loop_runs_another_accounts_job_second(runtime: Runtime, ran: list[str]) -> None:
    queue_heavy_then_light(runtime)
    worker = RunningWorker(runtime, 1)
    try:
        wait_until(lambda: len(ran) == 11)
    finally:
        worker.stop()
    assert ran[:2] == ["A0", "B"]
