from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from paraph.account import repository as accounts
from paraph.account.service import update_account
from paraph.models import CallbackAttempt, CallbackDelivery
from paraph.runtime import Runtime
from tests.client import request_json
from tests.conftest import AccountInfo


def call(base: str, method: str, path: str, key: str, **kw: Any) -> tuple[int, Any]:
    return request_json(base, method, path, key, timeout=30, **kw)


def set_callback(base: str, acct: AccountInfo, url: str | None) -> None:
    status, body = call(base, "PUT", "/v3/account", acct.api_key, json={"callback_url": url or ""})
    assert status == 200, body


def events(base: str, acct: AccountInfo, **params: Any) -> dict[str, Any]:
    status, body = call(base, "GET", "/paraph/v1/events", acct.api_key, fields=params)
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def point_account_at(rt: Runtime, account: AccountInfo, url: str) -> None:
    with rt.unit_of_work() as session:
        acct = accounts.by_account_id(session, account.account_id)
        assert acct is not None
        update_account(session, acct, callback_url=url, locale=None, fields_set={"callback_url"})


def deliveries(rt: Runtime) -> list[tuple[str, int, str | None, int]]:
    """(state, attempt_count, locked_by, attempts recorded) per delivery, in order."""
    with rt.unit_of_work(write=False) as session:
        d = CallbackDelivery
        n = sa.select(sa.func.count()).where(CallbackAttempt.delivery_id == d.id).scalar_subquery()
        rows = session.execute(sa.select(d.state, d.attempt_count, d.locked_by, n).order_by(d.id)).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]
