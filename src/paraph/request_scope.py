"""Glue between HTTP handlers and services: one request is one unit of work, run off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from anyio import to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request

from paraph.api_gate import AUTHENTICATED
from paraph.auth import authenticate
from paraph.models import Account, ApiKey
from paraph.ops import context
from paraph.runtime import Runtime

T = TypeVar("T")


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

    # The API gate authenticated this caller a moment ago (see api_gate.AUTHENTICATED): a read takes that
    # account and key into its own session as they are, without a second lookup; a write looks the key up
    # again inside its transaction, so what it changes is read under the write lock.
    gate = request.scope.get(AUTHENTICATED)
    known = gate[1:] if gate is not None and not is_write and gate[0] == authorization else None

    def run() -> T:
        with rt.unit_of_work(write=is_write) as session:
            if known is not None:
                key = session.merge(known[1], load=False)  # its loaded account comes along (merge cascade)
                account = key.account
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
