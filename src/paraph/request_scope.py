"""Glue between HTTP handlers and services: one request is one unit of work, run off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from anyio import to_thread
from sqlalchemy.orm import Session, joinedload
from starlette.requests import Request

from paraph.api_gate import AUTHENTICATED, Caller, Check
from paraph.auth import authenticate
from paraph.errors import ApiError
from paraph.models import Account, ApiKey
from paraph.ops import context
from paraph.runtime import Runtime

T = TypeVar("T")

#: The key row a caller let in from memory presented, if it is still valid, with its account.
_KEY_BY_ID = (
    sa.select(ApiKey)
    .where(ApiKey.id == sa.bindparam("key_id"), ApiKey.revoked_at.is_(None))
    .options(joinedload(ApiKey.account))
)


@dataclass(slots=True)
class ApiContext:
    session: Session
    runtime: Runtime
    account: Account
    api_key: ApiKey
    ip_address: str | None
    user_agent: str | None


def runtime(request: Request) -> Runtime:
    rt = request.app.state.runtime
    assert isinstance(rt, Runtime)
    return rt


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def api_call(request: Request, fn: Callable[[ApiContext], T], *, write: bool | None = None) -> T:
    """Authenticate the API key and run ``fn`` in one transaction, in a worker thread."""
    rt = runtime(request)
    authorization = request.headers.get("authorization")
    is_write = request.method not in ("GET", "HEAD") if write is None else write
    ip = client_ip(request)
    ua = request.headers.get("user-agent")

    # The API gate let this caller in a moment ago (see api_gate): a read takes the account and key it read
    # into its own session as they are, without a second lookup, or, when the gate let a known key in from
    # memory, reads that key row (unrevoked) and its account here, in the same transaction as the read. A
    # write looks the key up again inside its transaction, so what it changes is read under the write lock.
    gate = request.scope.get(AUTHENTICATED)
    caller = gate if isinstance(gate, Caller) and not is_write and gate.authorization == authorization else None

    def run() -> T:
        with rt.unit_of_work(write=is_write) as session:
            if caller is not None and caller.key is not None:
                key = session.merge(caller.key, load=False)  # its loaded account comes along (merge cascade)
                account = key.account
            elif caller is not None:
                found = session.scalars(_KEY_BY_ID, {"key_id": caller.key_id}).first()
                if found is None:  # revoked or deleted: the usual lookup answers (the 401, in all likelihood)
                    try:
                        account, key = authenticate(session, rt.keys, authorization)
                    except ApiError:
                        caller.check = Check.INVALID  # the gate answers its own 401 instead
                        raise
                    caller.check = Check.VALID
                else:
                    caller.check = Check.VALID
                    account, key = found.account, found
            else:
                account, key = authenticate(session, rt.keys, authorization)
            context.note(account_id=account.account_id)
            return fn(ApiContext(session, rt, account, key, ip, ua))

    return await to_thread.run_sync(run)


async def in_uow(request: Request, fn: Callable[[Session], T], *, write: bool = True) -> T:
    """Run ``fn`` in one transaction without API authentication (pages, public endpoints)."""
    rt = runtime(request)

    def run() -> T:
        with rt.unit_of_work(write=write) as session:
            return fn(session)

    return await to_thread.run_sync(run)
