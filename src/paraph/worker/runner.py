"""The worker: the loops it is handed (jobs and sweeps, callback delivery) on one asyncio loop, woken without
waiting out a poll.

``paraph serve`` runs it inside the web server's loop; ``paraph worker`` runs it alone (scale-out). On
SIGTERM every set of loops stops claiming, then finishes what it claimed (the callback dispatcher lets
in-flight sends finish, bounded by the callback timeout, and records them).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from anyio import to_thread

from paraph.ops import metrics
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.worker import periodic, queue
from paraph.worker.wakeup import Listener, until

log = logging.getLogger(__name__)


@functools.cache
def freeze_startup_heap() -> None:
    """Move what the process holds at start (modules, ORM mappings, settings: objects that live as long as it
    does) out of the cyclic garbage collector's sight, once per process, after collecting what is already
    garbage. Delivering allocates quickly and sets off full collections, and each one used to walk this whole
    startup heap again: about a tenth of the worker's CPU under load. Objects frozen here are still freed by
    reference counting; only a reference cycle among them that becomes garbage later would stay."""
    gc.collect()
    gc.freeze()


class Loops(Protocol):
    """A set of loops the worker runs (:class:`JobLoops`, ``paraph.callbacks.dispatcher.Dispatcher``)."""

    def start(self, worker_id: str, stopping: asyncio.Event) -> None:
        """Start the loops as tasks of the running event loop; ``stopping`` is set when the worker stops."""

    def wake(self) -> None:
        """There may be work (called on the event loop's thread)."""

    async def halt(self) -> None:
        """Stop claiming work (every set of loops halts before any is closed)."""

    async def close(self) -> None:
        """Finish what was claimed and stop."""


class Worker:
    def __init__(self, runtime: Runtime, loops: Sequence[Loops]) -> None:
        self.rt = runtime
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.loops = list(loops)
        self._stopping = asyncio.Event()
        self._unsubscribe: Callable[[], None] | None = None
        self._listener = Listener(runtime.db.url, runtime.wakeup)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(self._wake_all)

        freeze_startup_heap()
        self._unsubscribe = self.rt.wakeup.subscribe(wake)
        self._listener.start()
        for loops in self.loops:
            loops.start(self.worker_id, self._stopping)
        try:
            await self._stopping.wait()
        finally:
            await asyncio.gather(*(loops.halt() for loops in self.loops))
            for loops in self.loops:
                await loops.close()
            if self._unsubscribe is not None:
                self._unsubscribe()
            await self._listener.stop()

    def stop(self) -> None:
        self._stopping.set()
        self._wake_all()  # every wait ends at once

    def _wake_all(self) -> None:
        for loops in self.loops:
            loops.wake()


class JobLoops:
    """``job_loops`` loops running queued jobs (:mod:`paraph.worker.queue`), and the periodic sweeps."""

    def __init__(self, runtime: Runtime, *, job_loops: int | None = None, poll_interval: float = 1.0) -> None:
        self.rt = runtime
        self.worker_id = ""  # the worker's, given to start()
        self.job_loops = job_loops if job_loops is not None else max(1, runtime.settings.workers)
        self.poll_interval = poll_interval
        self._stopping = asyncio.Event()  # the worker's, given to start()
        self._wake_jobs = asyncio.Event()
        self._wake_periodic = asyncio.Event()  # set only when stopping
        self._tasks: list[asyncio.Task[None]] = []
        self._renewer: asyncio.Task[None] | None = None
        # The jobs this worker's loops are running (their threads add and remove them), whose leases it renews.
        self._running: set[int] = set()
        self._running_lock = threading.Lock()

    def start(self, worker_id: str, stopping: asyncio.Event) -> None:
        self.worker_id = worker_id
        self._stopping = stopping
        for i in range(self.job_loops):
            self._tasks.append(asyncio.create_task(self._job_loop(), name=f"paraph-jobs-{i}"))
        self._tasks.append(asyncio.create_task(self._periodic_loop(), name="paraph-periodic"))
        self._renewer = asyncio.create_task(self._renew_loop(), name="paraph-job-leases")

    def wake(self) -> None:
        self._wake_jobs.set()
        if self._stopping.is_set():
            self._wake_periodic.set()

    async def halt(self) -> None:
        # A job loop's thread finishes the job it runs before its task ends; its lease is renewed until then.
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.gather(self._renewer, return_exceptions=True)

    async def close(self) -> None:
        pass

    async def _job_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake_jobs.clear()
            try:
                ran = await to_thread.run_sync(self._run_one_job)
            except Exception:
                log.exception("job loop failed")
                ran = False
            if not ran:
                await until(self._wake_jobs, self._stopping, self.poll_interval)

    def _run_one_job(self) -> bool:
        with self.rt.unit_of_work() as session:
            claimed = queue.claim(session, self.worker_id)
        if not claimed:
            return False
        job = claimed[0]
        with self._running_lock:
            self._running.add(job.id)
        outcome = "ok"
        try:
            job = queue.prepare(self.rt, job)
            with self.rt.unit_of_work() as session:
                queue.run(Scope.of(session, self.rt), job)
        except queue.LeaseLost:
            outcome = "lease_lost"
            log.warning("job %s (%s) lost its lease to another worker; its work here is rolled back", job.id, job.kind)
        except Exception as exc:
            outcome = "failed"
            log.exception("job %s (%s) failed", job.id, job.kind)
            with self.rt.unit_of_work() as session:
                queue.failed(session, job, exc)
        finally:
            with self._running_lock:
                self._running.discard(job.id)
            metrics.JOBS.labels(job.kind, outcome).inc()
        return True

    async def _renew_loop(self) -> None:
        """Renew the leases of the jobs this worker runs, while it runs them (until :meth:`halt` is over)."""
        never = asyncio.Event()
        while True:
            await until(never, never, queue.renew_every(queue.JOB_LEASE_SECONDS))
            with self._running_lock:
                ids = sorted(self._running)
            if ids:
                try:
                    await to_thread.run_sync(self._renew, ids)
                except Exception:
                    log.exception("renewing the leases of %d jobs failed", len(ids))

    def _renew(self, ids: list[int]) -> None:
        with self.rt.unit_of_work() as session:
            queue.renew(session, self.worker_id, ids)

    async def _periodic_loop(self) -> None:
        while not self._stopping.is_set():
            for task in periodic.due():
                try:
                    await to_thread.run_sync(task.run, self.rt)
                except Exception:
                    log.exception("periodic task %s failed", task.name)
            await until(self._wake_periodic, self._stopping, periodic.TICK_SECONDS)
