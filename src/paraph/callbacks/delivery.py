"""Delivering callbacks: claim due deliveries with a lease, POST them, record every attempt, schedule retries.

The database is the queue. A claim is a conditional UPDATE of ``locked_until`` (with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, under ``BEGIN IMMEDIATE`` on SQLite), so any number of workers share the work and a
worker killed mid-send loses nothing: its lease (short, renewed while the worker holds the delivery) runs out and
another worker sends the event again (at-least-once; receivers de-duplicate on ``webhook-id``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.callbacks.sender import AttemptResult
from paraph.config import Settings
from paraph.db import Base, driver_style, insert_many, is_postgres, utc_driver_value, utcnow
from paraph.mail import tasks as mail_tasks
from paraph.models import CallbackDelivery, CallbackEndpoint
from paraph.models.callback import DeliveryState


@dataclass(slots=True)
class Claimed:
    delivery_id: int
    endpoint_id: int
    account_id: int
    url: str | None
    body_json: str
    webhook_id: str
    secret: str
    locked_by: str | None
    attempt_count: int


def _table(model: type[Base]) -> sa.Table:
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


#: A worker claims up to this many times its concurrency, so the next sends are ready when a slot frees.
PREFETCH = 4


#: Seconds a claimed delivery is leased for. The worker holding it renews the lease (:func:`renew`) until the
#: attempt is recorded, however long it waits for a sender or the receiver takes to answer; a killed worker's
#: deliveries go out again from another worker once it runs out.
DELIVERY_LEASE_SECONDS = 20.0


def inline_lease_seconds(settings: Settings) -> float:
    """The lease of a delivery sent in a request (the Test button): not renewed, so it covers one attempt."""
    return settings.callback_timeout + DELIVERY_LEASE_SECONDS


def _in(
    ids: Collection[int], sqlite: bool, mark: str, column: str = "id", *, negate: bool = False
) -> tuple[str, list[Any]]:
    """``column IN (...)`` for driver SQL: one placeholder per id on SQLite, ``= ANY(array)`` on PostgreSQL;
    ``negate``: NOT IN, ``<> ALL(array)``."""
    if sqlite:
        return f"{column} {'NOT IN' if negate else 'IN'} ({', '.join(['?'] * len(ids))})", list(ids)
    return f"{column} {'<> ALL' if negate else '= ANY'}({mark})", [list(ids)]


#: Ids per IN list, well under SQLite's limit on bound variables.
_IN_CHUNK = 500


@dataclass(slots=True)
class Shares:
    """How much of one worker's window a single endpoint, and a single account (its own URL and its apps'
    together), may take: at most ``per_endpoint`` and ``per_account`` deliveries claimed and not yet sent.
    ``endpoints`` and ``accounts`` count what the worker holds now. A claim skips the deliveries of an endpoint
    or account whose share is used up: they stay queued in the database, where the next claim (this worker's
    or another's) finds them, and the window stays open to everyone else's.

    ``look_past``: whether a claim that filled an endpoint's (account's) share looks further for other
    endpoints' deliveries. The claim sets ``exhausted`` when it saw the end of the due deliveries it looked
    for (past those it left out)."""

    per_endpoint: int
    per_account: int
    endpoints: Mapping[int, int] = field(default_factory=dict)
    accounts: Mapping[int, int] = field(default_factory=dict)
    look_past: bool = True
    exhausted: bool = False

    def left_out(self) -> tuple[frozenset[int], frozenset[int]]:
        return left_out(self.endpoints, self.accounts, self.per_endpoint, self.per_account)


def left_out(
    endpoints: Mapping[int, int], accounts: Mapping[int, int], per_endpoint: int, per_account: int
) -> tuple[frozenset[int], frozenset[int]]:
    """The endpoints and accounts a claim leaves out, given what the worker holds of each: those holding more
    than half their share. A claim fills an endpoint (account) up to its share and looks for more only once
    it has sent half of that: under a flood of one endpoint's callbacks a claim brings half a share, not the
    few sent since the last one."""
    return (
        frozenset(e for e, n in endpoints.items() if n > per_endpoint // 2),
        frozenset(a for a, n in accounts.items() if n > per_account // 2),
    )


#: Rounds of one claim. A round reads at most one endpoint's share of rows (its row locks are taken before
#: the shares are counted: a larger read would lock rows another worker could have claimed). The next round
#: reads on, past the endpoints and accounts whose share the last one used up (when ``look_past``).
_CLAIM_ROUNDS = 4


def claim(
    session: Session, worker_id: str, limit: int, settings: Settings, shares: Shares | None = None
) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries, oldest first, within ``shares`` (none: no per-endpoint limit).

    This is the hot path: the statements go straight to the driver, no SQLAlchemy compilation or type
    processing per call. Each round selects due, unleased rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on
    SQLite the write transaction is ``BEGIN IMMEDIATE``), leaving out the endpoints and accounts that hold more
    than half their share (:meth:`Shares.left_out`) or whose share this claim used up, keeps those that fit
    their share, and leases them with one ``UPDATE ... RETURNING``."""
    sqlite, m = driver_style(session)
    conn = session.connection()
    now = utcnow()
    now_v = utc_driver_value(now, sqlite)
    until_v = utc_driver_value(now + dt.timedelta(seconds=DELIVERY_LEASE_SECONDS), sqlite)
    lock = "" if sqlite else " FOR UPDATE OF d SKIP LOCKED"
    per_endpoint = shares.per_endpoint if shares is not None else limit
    per_account = shares.per_account if shares is not None else limit
    by_endpoint: dict[int, int] = dict(shares.endpoints) if shares is not None else {}
    by_account: dict[int, int] = dict(shares.accounts) if shares is not None else {}
    left_endpoints, left_accounts = shares.left_out() if shares is not None else (frozenset(), frozenset())
    full_endpoints, full_accounts = set(left_endpoints), set(left_accounts)
    endpoints: dict[int, tuple[str | None, str, int]] = {}
    out: list[Claimed] = []
    skip_params: list[Any]
    look_past = shares is None or shares.look_past
    for _ in range(_CLAIM_ROUNDS):
        want = min(limit - len(out), _IN_CHUNK, per_endpoint)
        if want <= 0:
            break
        skip, skip_params = "", []
        if full_endpoints:
            cond, p = _in(sorted(full_endpoints), sqlite, m, "d.endpoint_id", negate=True)
            skip, skip_params = skip + f" AND {cond}", skip_params + p
        if full_accounts:
            cond, p = _in(sorted(full_accounts), sqlite, m, "e.account_id", negate=True)
            skip, skip_params = skip + f" AND {cond}", skip_params + p
        # The endpoint's URL, secret and account come in the same statement: one round trip, not two.
        rows = conn.exec_driver_sql(
            "SELECT d.id, d.endpoint_id, e.url, e.secret, e.account_id FROM callback_deliveries d "
            f"JOIN callback_endpoints e ON e.id = d.endpoint_id WHERE d.state = {m} AND d.next_attempt_at <= {m} "
            f"AND (d.locked_until IS NULL OR d.locked_until < {m}){skip} ORDER BY d.next_attempt_at, d.id "
            f"LIMIT {m}{lock}",
            (DeliveryState.PENDING.value, now_v, now_v, *skip_params, want),
        ).all()
        if shares is not None:
            shares.exhausted = len(rows) < want
        if not rows:
            break
        picked: list[int] = []
        filled = False  # an endpoint or account used up its share in this round
        for delivery_id, endpoint_id, url, secret, account_id in rows:
            endpoints[endpoint_id] = (url, secret, account_id)
            if endpoint_id in full_endpoints or account_id in full_accounts:
                continue
            picked.append(delivery_id)
            by_endpoint[endpoint_id] = n_ep = by_endpoint.get(endpoint_id, 0) + 1
            by_account[account_id] = n_acct = by_account.get(account_id, 0) + 1
            if n_ep >= per_endpoint:
                full_endpoints.add(endpoint_id)
                filled = True
            if n_acct >= per_account:
                full_accounts.add(account_id)
                filled = True
        if picked:
            where, params = _in(picked, sqlite, m)
            leased = {
                r[0]: r
                for r in conn.exec_driver_sql(
                    f"UPDATE callback_deliveries SET locked_until = {m}, locked_by = {m} WHERE {where} "
                    "RETURNING id, endpoint_id, body_json, webhook_id, attempt_count",
                    (until_v, worker_id, *params),
                )
            }
            for delivery_id in picked:
                r = leased[delivery_id]
                url, secret, account_id = endpoints[r[1]]
                out.append(Claimed(r[0], r[1], account_id, url, r[2] or "", r[3], secret, worker_id, r[4]))
        if len(rows) < want or (filled and not look_past):
            break  # no more due deliveries, or the caller knows there are none past those it fills
    return out


def _endpoints(session: Session, ids: set[int]) -> dict[int, tuple[str | None, str, int]]:
    """Endpoint id -> (url, secret, account id)."""
    sqlite, m = driver_style(session)
    where, params = _in(sorted(ids), sqlite, m)
    return {
        r[0]: (r[1], r[2], r[3])
        for r in session.connection().exec_driver_sql(
            f"SELECT id, url, secret, account_id FROM callback_endpoints WHERE {where}", tuple(params)
        )
    }


def load(session: Session, ids: list[int]) -> list[Claimed]:
    """Deliveries as a sender needs them (inline sends, which lease at emit time)."""
    t = _table(CallbackDelivery)
    rows = (
        session.connection()
        .execute(
            sa.select(t.c.id, t.c.endpoint_id, t.c.body_json, t.c.webhook_id, t.c.locked_by, t.c.attempt_count)
            .where(t.c.id.in_(ids))
            .order_by(t.c.id)
        )
        .all()
    )
    eps = _endpoints(session, {r[1] for r in rows})
    return [Claimed(r[0], r[1], eps[r[1]][2], eps[r[1]][0], r[2] or "", r[3], eps[r[1]][1], r[4], r[5]) for r in rows]


def renew(session: Session, worker_id: str, ids: list[int]) -> None:
    """Extend the leases ``worker_id`` still holds on the deliveries ``ids`` (claimed, being sent, or sent and
    not yet recorded). Only pending rows under this worker's lease: one that ran out and was claimed by another
    worker stays that worker's."""
    t = _table(CallbackDelivery)
    until = utcnow() + dt.timedelta(seconds=DELIVERY_LEASE_SECONDS)
    for i in range(0, len(ids), _IN_CHUNK):
        session.connection().execute(
            sa.update(t)
            .where(t.c.id.in_(ids[i : i + _IN_CHUNK]), t.c.locked_by == worker_id, t.c.state == DeliveryState.PENDING)
            .values(locked_until=until)
        )


def release(session: Session, worker_id: str, ids: list[int]) -> None:
    """Give back leases this worker holds on deliveries it has not sent (a stopping worker), so any worker
    can claim them at once instead of after the lease runs out. Only still pending rows under this lease."""
    t = _table(CallbackDelivery)
    session.connection().execute(
        sa.update(t)
        .where(t.c.id.in_(ids), t.c.locked_by == worker_id, t.c.state == DeliveryState.PENDING)
        .values(locked_until=None, locked_by=None)
    )


@dataclass(slots=True)
class Outcome:
    claimed: Claimed
    result: AttemptResult
    started_at: dt.datetime


def record(session: Session, outcomes: list[Outcome], settings: Settings) -> None:
    """Write the attempts and move each delivery on: delivered, retry later, or failed for good.

    Statements in batches, the common ones straight to the driver (this is the hot path). Each delivery
    update is conditional on the lease this attempt held (``locked_by``) and on the delivery still being
    pending, so an attempt that was resent or replayed while in flight does not overwrite the new round
    (PostgreSQL re-checks the condition on the newest row version; SQLite serializes writers).
    """
    if not outcomes:
        return
    delays = settings.retry_delays
    now = utcnow()
    conn = session.connection()
    _insert_attempts(session, outcomes)
    sqlite, m = driver_style(session)
    delivered = [o for o in outcomes if o.result.ok]
    by_lease: dict[str | None, list[int]] = {}
    for o in delivered:
        by_lease.setdefault(o.claimed.locked_by, []).append(o.claimed.delivery_id)
    now_v = utc_driver_value(now, sqlite)
    for lease, ids in by_lease.items():  # one statement per worker lease: a batch is usually one
        lease_cond = f"locked_by = {m}" if lease is not None else "locked_by IS NULL"
        for i in range(0, len(ids), _IN_CHUNK):
            where, params = _in(ids[i : i + _IN_CHUNK], sqlite, m)
            conn.exec_driver_sql(
                f"UPDATE callback_deliveries SET state = {m}, delivered_at = {m}, attempt_count = attempt_count + 1, "
                f"locked_until = NULL, locked_by = NULL WHERE {where} AND {lease_cond} AND state = {m}",
                (
                    DeliveryState.DELIVERED.value,
                    now_v,
                    *params,
                    *([lease] if lease is not None else []),
                    DeliveryState.PENDING.value,
                ),
            )
    if delivered:
        where, params = _in(sorted({o.claimed.endpoint_id for o in delivered}), sqlite, m)
        conn.exec_driver_sql(
            f"UPDATE callback_endpoints SET consecutive_failures = 0 WHERE {where} AND consecutive_failures != 0",
            tuple(params),
        )
    retry, final = [], []
    for o in outcomes:
        if o.result.ok:
            continue
        retries_used = o.claimed.attempt_count  # attempts before this one
        if not o.result.transient or retries_used >= len(delays):
            final.append(o)
        else:
            delay = delays[retries_used] * (1 + random.uniform(0, 0.1))
            retry.append((o, now + dt.timedelta(seconds=delay)))
    if not (retry or final):
        return
    t = _table(CallbackDelivery)
    held_this_lease = sa.and_(
        t.c.id == sa.bindparam("b_id"),
        t.c.locked_by == sa.bindparam("b_lb"),
        t.c.state == DeliveryState.PENDING,
    )
    if retry:
        conn.execute(
            sa.update(t)
            .where(held_this_lease)
            .values(
                next_attempt_at=sa.bindparam("b_next", type_=t.c.next_attempt_at.type),
                attempt_count=t.c.attempt_count + 1,
                locked_until=None,
                locked_by=None,
            ),
            [{"b_id": o.claimed.delivery_id, "b_lb": o.claimed.locked_by, "b_next": at} for o, at in retry],
        )
    for o in final:
        hit = conn.execute(
            sa.update(t)
            .where(held_this_lease)
            .values(
                state=DeliveryState.FAILED,
                next_attempt_at=None,
                attempt_count=t.c.attempt_count + 1,
                locked_until=None,
                locked_by=None,
            ),
            {"b_id": o.claimed.delivery_id, "b_lb": o.claimed.locked_by},
        )
        if hit.rowcount:
            ep = session.get(CallbackEndpoint, o.claimed.endpoint_id, with_for_update=is_postgres(session))
            if ep is not None:
                _count_failed_event(session, ep, settings)


_ATTEMPT_COLUMNS = ("delivery_id", "url", "started_at", "latency_ms", "status_code", "ok", "body_excerpt", "error")


def _insert_attempts(session: Session, outcomes: list[Outcome]) -> None:
    """One executemany straight to the driver: the busiest insert of all, kept free of per-value processing."""
    sqlite, _ = driver_style(session)
    insert_many(
        session,
        "callback_attempts",
        _ATTEMPT_COLUMNS,
        [
            (
                o.claimed.delivery_id,
                o.claimed.url or "",
                utc_driver_value(o.started_at, sqlite),
                o.result.latency_ms,
                o.result.status_code,
                o.result.ok,
                o.result.body_excerpt,
                o.result.error,
            )
            for o in outcomes
        ],
    )


def _count_failed_event(session: Session, ep: CallbackEndpoint, settings: Settings) -> None:
    ep.consecutive_failures += 1
    if ep.disabled_at is None and ep.consecutive_failures >= settings.callback_disable_after:
        ep.disabled_at = utcnow()
        mail_tasks.endpoint_disabled(session, ep)
