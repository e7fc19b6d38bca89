"""A sign URL's limits hold on every door of the signing page: expiry and single use on each action, the
token checked before a body is read, and ``sign_url_invalid`` reported once per token."""

from __future__ import annotations

import base64
import datetime as dt
import io
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import urllib3
from fastapi import APIRouter, Request
from PIL import Image

from paraph.db import utcnow
from paraph.models import SignUrlToken
from paraph.pdf.signature_image import MAX_SOURCE_PIXELS
from paraph.signing.access import OPENED_GRACE
from paraph.signing.endpoints import MAX_BODY_BYTES, SigningRoute
from tests.client import wait_until
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


def raw_post(server: Server, path: str, token: str, length: int | None) -> tuple[int, bytes]:
    """POST headers declaring ``length`` bytes of body and send none (the answer must come without it), or
    with ``length`` None send a chunked body of ``MAX_BODY_BYTES`` and a bit, declaring no length."""
    parts = urlsplit(server.url)
    framing = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"X-Paraph-Token: {token}\r\n{framing}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=15) as sock:
        sock.sendall(head.encode())
        if length is None:
            block = b" " * 65536
            try:
                for _ in range(MAX_BODY_BYTES // len(block) + 2):
                    sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
                sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server answered and closed before the end: the answer is still there to read
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < content_length(answer):
            chunk = sock.recv(65536)  # a server waiting for the body times this out (socket.timeout)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1]


def content_length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_an_action_checks_its_token_before_it_reads_the_body(server: Server, account: AccountInfo) -> None:
    _, _, sid = embedded(server, account)
    token = token_of(sign_url(server, account, sid))
    huge = 1 << 30
    for what in ("submit", "decline", "reassign"):
        status, body = raw_post(server, f"/sign/{sid}/{what}", "f" * 32, huge)
        assert (what, status) == (what, 404), body
        assert b'"state":"invalid"' in body
    status, body = raw_post(server, f"/sign/{sid}/submit", token, huge)  # a good token: the cap, at once
    assert status == 413 and b'"state":"form"' in body
    status, body = raw_post(server, f"/sign/{sid}/submit", token, None)  # no length declared: counted
    assert status == 413 and b'"state":"form"' in body


def png_url(width: int, height: int, alpha: int) -> str:
    out = io.BytesIO()
    Image.new("LA", (width, height), (0, alpha)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_an_action_with_a_bad_token_decodes_no_image(server: Server, account: AccountInfo) -> None:
    _, _, sid = embedded(server, account)
    token = token_of(sign_url(server, account, sid))
    huge = png_url(8000, MAX_SOURCE_PIXELS // 8000 + 1, 255)  # refused when decoded: too many pixels
    blank = png_url(300, 100, 0)  # refused when decoded: blank
    for image in (huge, blank):
        body = {"values": {"sig": True}, "signature": {"method": "upload", "image": image}}
        status, answer = action(server, sid, "submit", {"token": "f" * 32, **body})
        assert (status, answer["error"]["state"]) == (404, "invalid")  # not the decoder's 422
        status, answer = action(server, sid, "submit", {"token": token, **body})
        assert status == 422 and "signature" in answer["error"]["fields"]  # what decoding would have said
    assert action(server, sid, "decline", {"token": token, "reason": "No"})[0] == 200
    body = {"values": {"sig": True}, "signature": {"method": "upload", "image": huge}}
    status, answer = action(server, sid, "submit", {"token": token, **body})
    assert (status, answer["error"]["state"]) == (410, "used")


def test_a_signing_action_cannot_be_declared_without_the_token_first_door() -> None:
    router = APIRouter(route_class=SigningRoute)

    async def other(request: Request, signature_id: str) -> None:
        return None

    with pytest.raises(TypeError, match="read_action"):
        router.post("/sign/{signature_id}/other")(other)
