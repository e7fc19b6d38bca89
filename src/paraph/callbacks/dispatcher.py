"""Callback delivery on the worker's event loop: claim a window of deliveries, send them through a fixed pool of
senders, record the outcomes in batches (the flush, which also claims the next batch under load).

Fairness: one endpoint (or one account, its URL and its apps' together) has at most
``callback_max_in_flight_per_endpoint`` (``_per_account``) POSTs in flight per worker, and at most half the
window claimed; the senders take claimed deliveries endpoint by endpoint in turn. An endpoint that accepts
connections and never answers so holds a few senders and slows only its own callbacks: the rest of its backlog
stays queued in the database, and everyone else's is claimed and sent past it. The caps hold while another
endpoint has deliveries waiting: an endpoint alone with work that answers quickly borrows the idle senders, all
but one endpoint's cap (:meth:`Dispatcher._may_borrow`).

The worker (:mod:`paraph.worker.runner`) runs a :class:`Dispatcher` beside its job loops. On SIGTERM it stops
claiming, lets in-flight sends finish (bounded by the callback timeout) and records them. This is the hot path
measured by ``make bench-callbacks`` (ADR 0010).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import deque

from anyio import to_thread

from paraph.callbacks import delivery
from paraph.callbacks.sender import AttemptResult, CallbackSender
from paraph.callbacks.webhook_signature import encode_callback_json, standard_webhook_headers
from paraph.ops import metrics
from paraph.runtime import Runtime
from paraph.worker.wakeup import until

log = logging.getLogger(__name__)

#: How long finished attempts wait to be recorded together (seconds).
FLUSH_DELAY = 0.02

#: An endpoint that is the only one with callbacks waiting in a worker, and answers quickly, may use the senders
#: the others leave idle (:meth:`Dispatcher._may_borrow`): its last attempt succeeded in less than this many
#: seconds and ended less than this many seconds ago.
QUICK_ANSWER = 1.0


class Dispatcher:
    """The callback delivery loops: one claim loop, ``callback_concurrency`` senders and the flush."""

    def __init__(self, runtime: Runtime, *, poll_interval: float = 1.0) -> None:
        self.rt = runtime
        self.settings = runtime.settings
        self.worker_id = ""  # the worker's, given to start()
        self.poll_interval = poll_interval
        #: How long a stopping worker keeps sending what it claimed: one callback timeout and some slack.
        self.drain_timeout = runtime.settings.callback_timeout + 5
        self._stopping = asyncio.Event()  # the worker's, given to start()
        self._wake_deliveries = asyncio.Event()
        self._flush = asyncio.Event()
        self._outcomes: list[delivery.Outcome] = []
        # Held from taking a batch of outcomes until it is recorded: the drain's final flush waits for it.
        self._flush_lock = asyncio.Lock()
        # Claimed deliveries wait here for one of the sender coroutines (a fixed pool, one per send slot): one
        # line per endpoint, and the endpoints with a delivery waiting, in turn.
        self._lines: dict[int, deque[delivery.Claimed]] = {}
        self._turns: deque[int] = deque()
        self._waiting = 0  # claimed deliveries no sender has taken yet
        # Senders with nothing they may take, each parked on its own future: a new claim wakes as many as it
        # brought deliveries, not all of them (waking every sender each time cost ~7 wake-ups per delivery).
        self._parked: deque[asyncio.Future[None]] = deque()
        self._idle = asyncio.Event()  # set when nothing is waiting or being sent
        self._idle.set()
        self._sending = 0  # deliveries a sender has taken off the queue and not yet handed to the flush
        # Per endpoint and per account: POSTs in flight, and deliveries held (claimed and not yet sent).
        self._in_flight_ep: dict[int, int] = {}
        self._in_flight_acct: dict[int, int] = {}
        self._held_ep: dict[int, int] = {}
        self._held_acct: dict[int, int] = {}
        self._cap_ep = runtime.settings.callback_max_in_flight_per_endpoint
        self._cap_acct = runtime.settings.callback_max_in_flight_per_account
        # Borrowing: all the senders but one endpoint's cap (kept for the next endpoint whose callbacks come).
        self._borrow_cap = max(self._cap_ep, runtime.settings.callback_concurrency - self._cap_ep)
        self._quick: dict[int, float] = {}  # endpoint -> when its last quick success ended (monotonic)
        #: The claim window, and the part of it one endpoint or account may hold.
        self._window = runtime.settings.callback_concurrency * delivery.PREFETCH
        self._share = max(1, self._window // 2)
        self._claiming = False  # a claim is running (one at a time, so the window is never overfilled)
        # After a claim that saw the end of the due deliveries: the endpoints and accounts left out then, and
        # when. Until new work is announced (wake), the poll interval passes or one of them may be claimed for
        # again, a claim reading past them would walk their backlog for nothing (:meth:`_dry`).
        self._dry_after: tuple[frozenset[int], frozenset[int], float] | None = None
        self._sender: CallbackSender | None = None
        self._claimer: asyncio.Task[None] | None = None
        # Deliveries this worker holds a lease on, from their claim until their attempt is recorded (or they are
        # given back): the leases the renewal loop extends.
        self._leased: set[int] = set()
        # The senders and the flush keep going until the drain is over.
        self._stay: list[asyncio.Task[None]] = []

    # -- lifecycle (called by the worker) --------------------------------------------------------------

    def start(self, worker_id: str, stopping: asyncio.Event) -> None:
        self.worker_id = worker_id
        self._stopping = stopping
        self._sender = CallbackSender(
            timeout=self.settings.callback_timeout,
            allow_private=self.settings.callback_allow_private,
            resolver=self.rt.resolver,
            limit=self.settings.callback_concurrency,
        )
        self._claimer = asyncio.create_task(self._delivery_loop(), name="paraph-deliveries")
        self._stay.append(asyncio.create_task(self._flush_loop(), name="paraph-flush"))
        self._stay.append(asyncio.create_task(self._renew_loop(), name="paraph-delivery-leases"))
        for i in range(self.settings.callback_concurrency):
            self._stay.append(asyncio.create_task(self._sender_loop(), name=f"paraph-sender-{i}"))

    def wake(self) -> None:
        self._dry_after = None  # new deliveries may be due: look for them
        self._wake_deliveries.set()

    async def halt(self) -> None:
        """Stop claiming."""
        if self._claimer is not None:
            self._claimer.cancel()
            await asyncio.gather(self._claimer, return_exceptions=True)

    async def close(self) -> None:
        """Send and record what was claimed (:meth:`_drain`), then stop the senders and the flush."""
        await self._drain()
        # The drain took every finished attempt and waited for the flush in progress, so the flush loop
        # holds no batch now: cancelling it loses nothing.
        for t in self._stay:
            t.cancel()
        await asyncio.gather(*self._stay, return_exceptions=True)
        if self._sender is not None:
            await self._sender.close()

    async def _drain(self) -> None:
        """Send what this worker has claimed (bounded by the callback timeout) and record it. Deliveries no
        sender could take in time go back to the queue at once, instead of waiting out their lease.

        Every attempt that finished is recorded before this returns, the batch the flush loop may be holding
        included: the final flush waits for that one (``_flush_lock``) rather than leaving it to be cancelled
        with the flush loop."""
        async with self._flush_lock:
            pass  # a flush in progress puts what it claimed in the queue first (none is claimed once stopping)
        if not self._idle.is_set():
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=self.drain_timeout)
            except TimeoutError:
                log.warning("stopping with %d callbacks unsent", self._waiting + self._sending)
        unsent = [c.delivery_id for line in self._lines.values() for c in line]
        for c in [c for line in self._lines.values() for c in line]:
            self._let_go(c)
        self._lines.clear()
        self._turns.clear()
        self._waiting = 0
        self._leased.difference_update(unsent)
        # While the senders finished, the flush loop may have taken their outcomes and be recording them:
        # wait for that flush too, not only for what is still in ``_outcomes``.
        await self._flush_now(wait=True)
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
            if self._waiting:
                self._unpark(1)  # a safety net: a sender looks again at least once per pass
            free = self._claim_room(idle_ok=True)
            claimed: list[delivery.Claimed] = []
            if free:
                self._claiming = True
                shares = self._shares()
                try:
                    claimed = await to_thread.run_sync(self._claim_deliveries, free, shares)
                except Exception:
                    log.exception("claiming deliveries failed")
                    await asyncio.sleep(self.poll_interval)
                finally:
                    self._claiming = False
                self._put(claimed)
                self._claimed(shares)
            if len(claimed) < free // 2 or not free:
                await self._wait(self._wake_deliveries, self.poll_interval)

    def _claim_room(self, *, idle_ok: bool) -> int:
        """How many deliveries to claim now: none while another claim runs or the worker stops; else in
        batches of at least half the window (one claim per half-window keeps the round trips few), or
        whatever fits when the senders are nearly idle (``idle_ok``).

        Deliveries waiting for an endpoint or account at its in-flight cap do not count against the window
        (they would shut everyone else out while a slow endpoint takes its time), up to a second window."""
        if self._claiming or self._stopping.is_set() or self._dry():
            return 0
        limit = self._window
        held = self._waiting + self._sending
        ready = held - self._blocked()
        free = min(limit - ready, 2 * limit - held)
        if free >= limit // 2 or (idle_ok and free > 0 and ready < limit // 4):
            return min(free, 500)
        return 0

    def _recently_dry(self) -> bool:
        """Whether a claim saw the end of the due deliveries (past those it left out) less than the poll
        interval ago, and no new work was announced since (:meth:`wake`, a failed attempt's retry)."""
        if self._dry_after is not None and time.monotonic() - self._dry_after[2] >= self.poll_interval:
            self._dry_after = None
        return self._dry_after is not None

    def _dry(self) -> bool:
        """Whether a claim now would only look past endpoints (accounts) it leaves out and find nothing: one
        recently saw the end of the due deliveries, leaving out no more than one would now. A claim looking
        past a flooding endpoint walks its whole backlog in the database: once per poll interval, not after
        every recorded batch.

        A claim that leaves nothing out always runs: on PostgreSQL a claim also passes over rows another
        worker's claim has locked and not taken, so "the end" may have been a moment's."""
        if not self._recently_dry():
            return False
        assert self._dry_after is not None
        endpoints, accounts, _ = self._dry_after
        now_endpoints, now_accounts = self._left_out()
        return bool(now_endpoints or now_accounts) and now_endpoints >= endpoints and now_accounts >= accounts

    def _left_out(self) -> tuple[frozenset[int], frozenset[int]]:
        return delivery.left_out(self._held_ep, self._held_acct, self._share, self._share)

    def _claimed(self, shares: delivery.Shares) -> None:
        """After a claim's deliveries are queued: note whether it saw the end of the due ones (:meth:`_dry`)."""
        if shares.exhausted:
            self._dry_after = (*self._left_out(), time.monotonic())

    def _blocked(self) -> int:
        """Claimed deliveries whose endpoint or account is at its in-flight cap."""
        n = 0
        for ep, line in self._lines.items():
            if not self._may_send(ep, line[0].account_id):
                n += len(line)
        return n

    def _may_send(self, ep: int, account_id: int) -> bool:
        """Whether a sender may take a delivery to endpoint ``ep`` of account ``account_id`` now."""
        n_ep, n_acct = self._in_flight_ep.get(ep, 0), self._in_flight_acct.get(account_id, 0)
        if n_ep < self._cap_ep and n_acct < self._cap_acct:
            return True
        return n_ep < self._borrow_cap and n_acct < self._borrow_cap and self._may_borrow(ep)

    def _may_borrow(self, ep: int) -> bool:
        """Whether endpoint ``ep`` may have more POSTs in flight than its cap (and its account's), up to all the
        senders but one endpoint's cap: while it is the only endpoint with deliveries waiting for a sender in
        this worker, and answers quickly (:data:`QUICK_ANSWER`). The caps keep a slow endpoint from holding
        the senders everyone else needs; when nobody else needs them, one fast endpoint (the common case: one
        integration, one callback URL) is not held to a share of an idle pool. An endpoint that never answered,
        or stopped answering, does not borrow; one that hangs while borrowing holds the borrowed senders until
        their attempts time out, and the senders it left free take the next endpoint's callbacks."""
        quick = self._quick.get(ep)
        return quick is not None and len(self._turns) == 1 and time.monotonic() - quick < QUICK_ANSWER

    def _shares(self) -> delivery.Shares:
        """What this worker holds per endpoint and account, copied on the event loop for the claim's thread."""
        return delivery.Shares(
            self._share,
            self._share,
            dict(self._held_ep),
            dict(self._held_acct),
            look_past=not self._recently_dry(),
        )

    def _claim_deliveries(self, limit: int, shares: delivery.Shares) -> list[delivery.Claimed]:
        with self.rt.unit_of_work() as session:
            return delivery.claim(session, self.worker_id, limit, self.settings, shares)

    def _put(self, claimed: list[delivery.Claimed]) -> None:
        """Queue claimed deliveries for the senders, each in its endpoint's line."""
        if not claimed:
            return
        lines, held_ep, held_acct = self._lines, self._held_ep, self._held_acct
        self._leased.update(c.delivery_id for c in claimed)
        for c in claimed:
            ep = c.endpoint_id
            line = lines.get(ep)
            if line is None:
                lines[ep] = line = deque()
                self._turns.append(ep)
            line.append(c)
            held_ep[ep] = held_ep.get(ep, 0) + 1
            held_acct[c.account_id] = held_acct.get(c.account_id, 0) + 1
        self._waiting += len(claimed)
        self._idle.clear()
        self._unpark(len(claimed))

    def _take(self) -> delivery.Claimed | None:
        """The next delivery a sender may send: endpoints take turns, and one at its cap (or whose account is)
        and not borrowing (:meth:`_may_send`) is passed over. None when every waiting delivery is behind a cap
        (or none waits)."""
        turns, flying_ep, flying_acct = self._turns, self._in_flight_ep, self._in_flight_acct
        for _ in range(len(turns)):
            ep = turns[0]
            line = self._lines[ep]
            c = line[0]
            if self._may_send(ep, c.account_id):
                line.popleft()
                turns.popleft()
                if line:
                    turns.append(ep)
                else:
                    del self._lines[ep]
                flying_ep[ep] = flying_ep.get(ep, 0) + 1
                flying_acct[c.account_id] = flying_acct.get(c.account_id, 0) + 1
                self._waiting -= 1
                self._sending += 1
                return c
            turns.rotate(-1)
        return None

    def _sent(self, c: delivery.Claimed) -> None:
        """A sender is done with ``c``: free its endpoint's and account's slots."""
        _decrement(self._in_flight_ep, c.endpoint_id)
        _decrement(self._in_flight_acct, c.account_id)
        self._sending -= 1
        self._let_go(c)
        # A delivery behind this endpoint's (account's) cap may go now: the sender calling this takes it next.
        if not self._waiting and not self._sending:
            self._idle.set()

    def _unpark(self, n: int) -> None:
        """Wake up to ``n`` parked senders."""
        parked = self._parked
        while n > 0 and parked:
            f = parked.popleft()
            if not f.done():
                f.set_result(None)
                n -= 1

    def _let_go(self, c: delivery.Claimed) -> None:
        if not _decrement(self._held_ep, c.endpoint_id):
            self._quick.pop(c.endpoint_id, None)  # a new burst starts within the cap
        _decrement(self._held_acct, c.account_id)

    def _answered(self, c: delivery.Claimed, result: AttemptResult) -> None:
        """Note how quickly ``c``'s endpoint answered (see :meth:`_may_borrow`); a quick answer while its
        deliveries wait behind its cap brings one more sender: senders join a fast endpoint one by one."""
        if result.ok and result.latency_ms < QUICK_ANSWER * 1000:
            self._quick[c.endpoint_id] = time.monotonic()
            if c.endpoint_id in self._lines and self._may_borrow(c.endpoint_id):
                self._unpark(1)
        else:
            self._quick.pop(c.endpoint_id, None)

    async def _sender_loop(self) -> None:
        """One of the ``callback_concurrency`` senders: take a claimed delivery, send it, hand the outcome to
        the flush. A fixed pool costs no task, semaphore or callback per delivery."""
        sender = self._sender
        while True:
            c = self._take()
            if c is None:
                parked = asyncio.get_running_loop().create_future()
                self._parked.append(parked)
                await parked
                continue
            try:
                started = dt.datetime.now(dt.UTC)
                result = await send_claimed(sender, c)
                metrics.callback_attempt(result.ok, result.transient, result.latency_ms)
                self._answered(c, result)
                self._outcomes.append(delivery.Outcome(c, result, started))
                self._flush.set()
            finally:
                self._sent(c)

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

    async def _flush_now(self, *, wait: bool = False) -> None:
        """Record the finished attempts. ``wait``: also when there are none, once a flush in progress is over
        (the drain's last flush must not return while the flush loop still holds a batch)."""
        if not self._outcomes and not wait:
            return
        async with self._flush_lock:
            batch, self._outcomes = self._outcomes, []
            if not batch:
                return
            room = self._claim_room(idle_ok=False)
            if room:
                self._claiming = True
            claimed: list[delivery.Claimed] = []
            shares = self._shares()
            try:
                claimed = await to_thread.run_sync(self._record, batch, room, shares)
            except Exception:
                # Leases expire and the events go out again: at-least-once, never lost.
                log.exception("recording %d callback attempts failed", len(batch))
            finally:
                if room:
                    self._claiming = False
                self._leased.difference_update(o.claimed.delivery_id for o in batch)
            self._put(claimed)
            if room:
                self._claimed(shares)
            if any(not o.result.ok for o in batch):
                self._dry_after = None  # a retry may be due at once
        self._wake_deliveries.set()

    def _record(self, batch: list[delivery.Outcome], claim: int, shares: delivery.Shares) -> list[delivery.Claimed]:
        """Record the attempts and, when the senders have room for ``claim`` more, claim the next batch in
        the same transaction: under load one round trip (and one thread hand-off) instead of two."""
        with self.rt.unit_of_work() as session:
            delivery.record(session, batch, self.settings)
            return delivery.claim(session, self.worker_id, claim, self.settings, shares) if claim else []

    async def _renew_loop(self) -> None:
        """Renew the leases of what this worker holds, while it holds it (until the drain is over): a long
        attempt, or a wait behind an endpoint's cap, never lets another worker send the same delivery."""
        never = asyncio.Event()
        while True:
            await until(never, never, delivery.DELIVERY_LEASE_SECONDS / 4)
            ids = sorted(self._leased)
            if ids:
                try:
                    await to_thread.run_sync(self._renew, ids)
                except Exception:
                    log.exception("renewing the leases of %d callbacks failed", len(ids))

    def _renew(self, ids: list[int]) -> None:
        with self.rt.unit_of_work() as session:
            delivery.renew(session, self.worker_id, ids)

    # -- waking ----------------------------------------------------------------------------------------

    async def _wait(self, event: asyncio.Event, seconds: float) -> None:
        await until(event, self._stopping, seconds)


def _decrement(counts: dict[int, int], key: int) -> int:
    n = counts[key] - 1
    if n:
        counts[key] = n
    else:
        del counts[key]
    return n


async def send_claimed(sender: CallbackSender | None, c: delivery.Claimed) -> AttemptResult:
    if sender is None or not c.url:
        return AttemptResult(False, None, 0, "", "no callback URL is set for this endpoint", transient=False)
    body, content_type = encode_callback_json(c.body_json)
    headers = standard_webhook_headers(c.secret, c.webhook_id, int(time.time()), body)
    headers["Content-Type"] = content_type
    return await sender.post(c.url, body, headers)
