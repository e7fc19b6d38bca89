"""A sign URL's limits hold on every door of the signing page: expiry and single use on each action, the
token checked before a body is read, and ``sign_url_invalid`` reported once per token."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
import urllib3

from paraph.db import utcnow
from paraph.models import SignUrlToken
from paraph.signing.access import OPENED_GRACE
from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.signing.helpers import (
    action,
    create,
    events,
    f,
    new_app,
    page,
    request_state,
    set_callback,
    sign_url,
    token_of,
    wait_until,
)

PARENT = "http://localhost:5173/checkout"
FIELDS = [f("sig", "signature", 0, 72, 420, 200, 40)]


def open_embedded(server: Server, url: str, client_id: str) -> Any:
    return page(server, url, client_id=client_id, parent_url=PARENT, skip_domain_verification="1")


def embedded(server: Server, account: AccountInfo) -> tuple[str, str, str]:
    """An embedded request that allows decline and reassignment: (client_id, signature_request_id, signature_id)."""
    client_id = new_app(server, account, ["localhost"])
    sr = create(
        server,
        account,
        client_id=client_id,
        signers=[("Jack Doe", "jack@example.com")],
        fields=FIELDS,
        allow_decline="1",
        allow_reassign="1",
    )
    return client_id, sr["signature_request_id"], sr["signatures"][0]["signature_id"]


def set_token_times(server: Server, **values: dt.datetime | None) -> None:
    with server.runtime.unit_of_work() as session:
        session.execute(sa.update(SignUrlToken).values(**values))


def actions(token: str) -> dict[str, dict[str, Any]]:
    return {
        "submit": {"token": token, "values": {"sig": True}, "signature": {"method": "type", "text": "Jack"}},
        "decline": {"token": token, "reason": "Wrong amount"},
        "reassign": {"token": token, "name": "Jill Roe", "email_address": "jill@example.com"},
    }


def test_an_expired_sign_url_cannot_act_through_any_door_of_the_page(server: Server, account: AccountInfo) -> None:
    _, rid, sid = embedded(server, account)
    token = token_of(sign_url(server, account, sid))
    set_token_times(server, expires_at=utcnow() - dt.timedelta(seconds=1))
    for what, body in actions(token).items():
        status, answer = action(server, sid, what, body)
        assert (what, status, answer["error"]["state"]) == (what, 410, "expired")
    assert page(server, f"{server.url}/sign/{sid}/page/0/1", token=token).status == 410
    assert page(server, f"{server.url}/sign/{sid}/typed", token=token, text="Jack").status == 410
    signer = request_state(server, rid, lambda sr: (sr.signers[0].status_code, sr.signers[0].signature_id))
    assert signer == ("awaiting_signature", sid)


def test_a_page_opened_in_time_may_finish_for_a_bounded_grace_only(server: Server, account: AccountInfo) -> None:
    client_id, _, sid = embedded(server, account)
    url = sign_url(server, account, sid)
    token = token_of(url)
    assert open_embedded(server, url, client_id).status == 200
    set_token_times(server, expires_at=utcnow() - OPENED_GRACE - dt.timedelta(seconds=1))
    assert action(server, sid, "submit", actions(token)["submit"])[0] == 410
    assert open_embedded(server, url, client_id).status == 410

    set_token_times(server, expires_at=utcnow() - dt.timedelta(minutes=1))
    assert action(server, sid, "submit", actions(token)["submit"]) == (200, {"ok": True, "complete": True})
    status, answer = action(server, sid, "decline", actions(token)["decline"])
    assert (status, answer["error"]["state"]) == (410, "used")


def test_an_unopened_sign_url_gets_no_grace(server: Server, account: AccountInfo) -> None:
    client_id, _, sid = embedded(server, account)
    url = sign_url(server, account, sid)
    set_token_times(server, expires_at=utcnow() - dt.timedelta(minutes=1))
    assert open_embedded(server, url, client_id).status == 410
    assert action(server, sid, "submit", actions(token_of(url))["submit"])[0] == 410
    with server.runtime.unit_of_work(write=False) as session:
        assert session.scalars(sa.select(SignUrlToken.opened_at)).one() is None


def invalid_events(server: Server, account: AccountInfo, rid: str) -> list[dict[str, Any]]:
    query = {"event_type": "sign_url_invalid", "signature_request_id": rid}
    headers = urllib3.make_headers(basic_auth=f"{account.api_key}:")
    resp = urllib3.request("GET", f"{server.url}/paraph/v1/events", fields=query, headers=headers, timeout=30)
    assert resp.status == 200, resp.data
    return resp.json()["events"]  # type: ignore[no-any-return]


def test_sign_url_invalid_is_reported_once_per_token_however_often_it_is_opened(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    set_callback(server, account, receiver)
    client_id, rid, sid = embedded(server, account)
    used = sign_url(server, account, sid)
    assert open_embedded(server, used, client_id).status == 200
    assert action(server, sid, "decline", actions(token_of(used))["decline"]) == (200, {"ok": True})
    for _ in range(5):
        assert open_embedded(server, used, client_id).status == 410
    reported = invalid_events(server, account, rid)
    assert [e["related_signature_id"] for e in reported] == [sid]
    wait_until(lambda: [e.event_type for e in events(receiver, rid)].count("sign_url_invalid") == 1)

    client_id, rid, sid = embedded(server, account)
    first, second = sign_url(server, account, sid), sign_url(server, account, sid)
    set_token_times(server, expires_at=utcnow() - dt.timedelta(seconds=1))
    for _ in range(5):
        assert open_embedded(server, first, client_id).status == 410
    assert len(invalid_events(server, account, rid)) == 1
    assert open_embedded(server, second, client_id).status == 410  # another token: reported on its own
    assert len(invalid_events(server, account, rid)) == 2
