"""The worker: callback delivery and job loops on one asyncio loop, woken without waiting out a poll.

``paraph serve`` runs it inside the web server's loop; ``paraph worker`` runs it alone (scale-out). On
SIGTERM it stops claiming, lets in-flight sends finish (bounded by the callback timeout) and records them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gc
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from anyio import to_thread
from sqlalchemy.engine import make_url

from paraph.callbacks import delivery
from paraph.callbacks.http import AttemptResult, CallbackSender
from paraph.callbacks.signing import encode_callback_json, standard_webhook_headers
from paraph.runtime import Runtime
from paraph.worker import jobs, periodic

log = logging.getLogger(__name__)

#: How long finished attempts wait to be recorded together (seconds).
FLUSH_DELAY = 0.02


@functools.cache
def freeze_startup_heap() -> None:
    """Move what the process holds at start (modules, ORM mappings, settings: objects that live as long as it
    does) out of the cyclic garbage collector's sight, once per process, after collecting what is already
    garbage. Delivering allocates quickly and sets off full collections, and each one used to walk this whole
    startup heap again: about a tenth of the worker's CPU under load. Objects frozen here are still freed by
    reference counting; only a reference cycle among them that becomes garbage later would stay."""
    gc.collect()
    gc.freeze()


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        *,
        deliveries: bool = True,
        run_jobs: bool = True,
        job_loops: int | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        self.rt = runtime
        self.settings = runtime.settings
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.deliveries = deliveries
        self.run_jobs = run_jobs
        self.job_loops = job_loops if job_loops is not None else max(1, runtime.settings.workers)
        self.poll_interval = poll_interval
        #: How long a stopping worker keeps sending what it claimed: one callback timeout and some slack.
        self.drain_timeout = runtime.settings.callback_timeout + 5
        self._stopping = asyncio.Event()
        self._wake_deliveries = asyncio.Event()
        self._wake_jobs = asyncio.Event()
        self._wake_periodic = asyncio.Event()  # set only when stopping
        self._flush = asyncio.Event()
        self._outcomes: list[delivery.Outcome] = []
        # Held from taking a batch of outcomes until it is recorded: the drain's final flush waits for it.
        self._flush_lock = asyncio.Lock()
        # Claimed deliveries wait here for one of the sender coroutines (a fixed pool, one per send slot).
        self._ready: asyncio.Queue[delivery.Claimed] = asyncio.Queue()
        self._sending = 0  # deliveries a sender has taken off the queue and not yet handed to the flush
        self._claiming = False  # a claim is running (one at a time, so the window is never overfilled)
        self._sender: CallbackSender | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._listener: threading.Thread | None = None
        self._listener_stop = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(self._wake_all)

        freeze_startup_heap()
        self._unsubscribe = self.rt.wakeup.subscribe(wake)
        self._start_pg_listener()
        tasks: list[asyncio.Task[None]] = []
        if self.deliveries:
            self._sender = CallbackSender(
                timeout=self.settings.callback_timeout,
                allow_private=self.settings.callback_allow_private,
                resolver=self.rt.resolver,
                limit=self.settings.callback_concurrency,
            )
            tasks.append(asyncio.create_task(self._delivery_loop(), name="paraph-deliveries"))
            tasks.append(asyncio.create_task(self._flush_loop(), name="paraph-flush"))
            for i in range(self.settings.callback_concurrency):
                tasks.append(asyncio.create_task(self._sender_loop(), name=f"paraph-sender-{i}"))
        if self.run_jobs:
            for i in range(self.job_loops):
                tasks.append(asyncio.create_task(self._job_loop(), name=f"paraph-jobs-{i}"))
            tasks.append(asyncio.create_task(self._periodic_loop(), name="paraph-periodic"))
        try:
            await self._stopping.wait()
        finally:
            # Stop claiming and running jobs; the senders and the flush keep going until the drain is over.
            stay = ("paraph-flush", "paraph-sender-")
            for t in tasks:
                if not t.get_name().startswith(stay):
                    t.cancel()
            await asyncio.gather(*[t for t in tasks if not t.get_name().startswith(stay)], return_exceptions=True)
            await self._drain()
            # The drain took every finished attempt and waited for the flush in progress, so the flush loop
            # holds no batch now: cancelling it loses nothing.
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._sender is not None:
                await self._sender.close()
            if self._unsubscribe is not None:
                self._unsubscribe()
            self._listener_stop.set()
            if self._listener is not None:
                await asyncio.to_thread(self._listener.join, 3.0)

    def stop(self) -> None:
        self._stopping.set()
        self._wake_all()  # every wait ends at once
        self._wake_periodic.set()

    def _wake_all(self) -> None:
        self._wake_deliveries.set()
        self._wake_jobs.set()

    async def _drain(self) -> None:
        """Send what this worker has claimed (bounded by the callback timeout) and record it. Deliveries no
        sender could take in time go back to the queue at once, instead of waiting out their lease.

        Every attempt that finished is recorded before this returns, the batch the flush loop may be holding
        included: the final flush waits for that one (``_flush_lock``) rather than leaving it to be cancelled
        with the flush loop."""
        async with self._flush_lock:
            pass  # a flush in progress puts what it claimed in the queue first (none is claimed once stopping)
        if self._ready.qsize() or self._sending:
            try:
                await asyncio.wait_for(self._ready.join(), timeout=self.drain_timeout)
            except TimeoutError:
                log.warning("stopping with %d callbacks unsent", self._ready.qsize() + self._sending)
        unsent: list[int] = []
        while not self._ready.empty():
            unsent.append(self._ready.get_nowait().delivery_id)
            self._ready.task_done()
        await self._flush_now()
        if unsent:
            try:
                await to_thread.run_sync(self._release, unsent)
            except Exception:
                log.exception("releasing %d unsent callbacks failed; their leases will run out", len(unsent))

    # -- deliveries ------------------------------------------------------------------------------------

    async def _delivery_loop(self) -> None:
        # Claim ahead of the sends, so the next batch is ready when a sender frees. Under load the flush
        # claims too, in the transaction that records the attempts; this loop covers the idle and wake-up
        # cases.
        while not self._stopping.is_set():
            self._wake_deliveries.clear()
            free = self._claim_room(idle_ok=True)
            claimed: list[delivery.Claimed] = []
            if free:
                self._claiming = True
                try:
                    claimed = await to_thread.run_sync(self._claim_deliveries, free)
                except Exception:
                    log.exception("claiming deliveries failed")
                    await asyncio.sleep(self.poll_interval)
                finally:
                    self._claiming = False
            for c in claimed:
                self._ready.put_nowait(c)
            if len(claimed) < free // 2 or not free:
                await self._wait(self._wake_deliveries, self.poll_interval)

    def _claim_room(self, *, idle_ok: bool) -> int:
        """How many deliveries to claim now: none while another claim runs or the worker stops; else in
        batches of at least half the window (one claim per half-window keeps the round trips few), or
        whatever fits when the senders are nearly idle (``idle_ok``)."""
        if self._claiming or self._stopping.is_set():
            return 0
        limit = self.settings.callback_concurrency * delivery.PREFETCH
        held = self._ready.qsize() + self._sending
        free = limit - held
        if free >= limit // 2 or (idle_ok and free > 0 and held < limit // 4):
            return min(free, 500)
        return 0

    def _claim_deliveries(self, limit: int) -> list[delivery.Claimed]:
        with self.rt.unit_of_work() as session:
            return delivery.claim(session, self.worker_id, limit, self.settings)

    async def _sender_loop(self) -> None:
        """One of the ``callback_concurrency`` senders: take a claimed delivery, send it, hand the outcome to
        the flush. A fixed pool costs no task, semaphore or callback per delivery."""
        ready, sender = self._ready, self._sender
        while True:
            c = await ready.get()
            self._sending += 1
            try:
                started = dt.datetime.now(dt.UTC)
                result = await send_claimed(sender, c)
                self._outcomes.append(delivery.Outcome(c, result, started))
                self._flush.set()
            finally:
                self._sending -= 1
                ready.task_done()

    def _release(self, ids: list[int]) -> None:
        with self.rt.unit_of_work() as session:
            delivery.release(session, self.worker_id, ids)

    async def _flush_loop(self) -> None:
        while True:
            await self._flush.wait()
            # Let a burst of completions share one transaction: 20 ms batches measured 10% more deliveries
            # per second than 5 ms ones, at no cost to latency (the receiver already has the callback).
            await asyncio.sleep(FLUSH_DELAY)
            self._flush.clear()
            await self._flush_now()

    async def _flush_now(self) -> None:
        if not self._outcomes:
            return
        async with self._flush_lock:
            batch, self._outcomes = self._outcomes, []
            if not batch:
                return
            room = self._claim_room(idle_ok=False)
            if room:
                self._claiming = True
            claimed: list[delivery.Claimed] = []
            try:
                claimed = await to_thread.run_sync(self._record, batch, room)
            except Exception:
                # Leases expire and the events go out again: at-least-once, never lost.
                log.exception("recording %d callback attempts failed", len(batch))
            finally:
                if room:
                    self._claiming = False
            for c in claimed:
                self._ready.put_nowait(c)
        self._wake_deliveries.set()

    def _record(self, batch: list[delivery.Outcome], claim: int) -> list[delivery.Claimed]:
        """Record the attempts and, when the senders have room for ``claim`` more, claim the next batch in
        the same transaction: under load one round trip (and one thread hand-off) instead of two."""
        with self.rt.unit_of_work() as session:
            delivery.record(session, batch, self.settings)
            return delivery.claim(session, self.worker_id, claim, self.settings) if claim else []

    # -- jobs ------------------------------------------------------------------------------------------

    async def _job_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake_jobs.clear()
            try:
                ran = await to_thread.run_sync(self._run_one_job)
            except Exception:
                log.exception("job loop failed")
                ran = False
            if not ran:
                await self._wait(self._wake_jobs, self.poll_interval)

    def _run_one_job(self) -> bool:
        with self.rt.unit_of_work() as session:
            claimed = jobs.claim(session, self.worker_id)
        if not claimed:
            return False
        job = claimed[0]
        try:
            job = jobs.prepare(self.rt, job)
            with self.rt.unit_of_work() as session:
                jobs.run(session, job)
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            with self.rt.unit_of_work() as session:
                jobs.failed(session, job, exc)
        return True

    async def _periodic_loop(self) -> None:
        while not self._stopping.is_set():
            for task in periodic.due():
                try:
                    await to_thread.run_sync(task.run, self.rt)
                except Exception:
                    log.exception("periodic task %s failed", task.name)
            await self._wait(self._wake_periodic, periodic.TICK_SECONDS)

    # -- waking ----------------------------------------------------------------------------------------

    async def _wait(self, event: asyncio.Event, seconds: float) -> None:
        """Until ``event`` is set (stopping sets every wake event) or ``seconds`` pass: one future and one
        timer, no task per wait."""
        if event.is_set() or self._stopping.is_set():
            return
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            pass

    def _start_pg_listener(self) -> None:
        url = make_url(self.rt.db.url)
        if not url.drivername.startswith("postgresql"):
            return
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        from paraph.callbacks.service import NOTIFY_CHANNEL

        def listen() -> None:
            import psycopg

            while not self._listener_stop.is_set():
                try:
                    with psycopg.connect(dsn, autocommit=True) as conn:
                        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                        while not self._listener_stop.is_set():
                            for _ in conn.notifies(timeout=1.0, stop_after=1):
                                self.rt.wakeup.wake()
                except Exception:
                    log.warning("LISTEN connection lost; polling until it is back", exc_info=True)
                    self._listener_stop.wait(2.0)

        self._listener = threading.Thread(target=listen, name="paraph-listen", daemon=True)
        self._listener.start()


async def send_claimed(sender: CallbackSender | None, c: delivery.Claimed) -> AttemptResult:
    if sender is None or not c.url:
        return AttemptResult(False, None, 0, "", "no callback URL is set for this endpoint", transient=False)
    body, content_type = encode_callback_json(c.body_json)
    headers = standard_webhook_headers(c.secret, c.webhook_id, int(time.time()), body)
    headers["Content-Type"] = content_type
    return await sender.post(c.url, body, headers)
