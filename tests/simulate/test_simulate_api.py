"""Simulated signers (/paraph/v1/test/*) through HTTP, as an integrator's test drives them: the signing page's
rules, order, events and final document, marked simulated; only test-mode requests, only the owner's key."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import sqlalchemy as sa

from paraph.db import utcnow
from paraph.models import AuditEvent
from tests.client import request_json
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.pdf._finalize_fixtures import validate_seal
from tests.receiver import Receiver
from tests.signing.helpers import api, create, events, f, new_app, set_callback, wait_event
from tests.signing.test_signing_http import seal_certificate


def simulate(server: Server, account: AccountInfo, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    return request_json(server.url, "POST", f"/paraph/v1/test{path}", account.api_key, json=body or {})


def test_simulated_signers_follow_the_signing_rules_decline_expire_and_complete_a_sealed_request(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    set_callback(server, account, receiver)
    fields = [
        f("sig", "signature", 0, 72, 420, 200, 40),
        f("mail", "text", 0, 72, 480, validation_type="email_address"),
        f("color", "dropdown", 0, 72, 520, options=["Red", "Green"]),
        f("agree", "checkbox", 0, 72, 560, 14, 14),
        f("note", "text", 0, 300, 480, required=False),
        f("on", "date_signed", 0, 300, 520),
        f("sig2", "signature", 1, 72, 620, 200, 40),
        f("title2", "text", 1, 300, 620),
    ]
    sr = create(
        server,
        account,
        fields=fields,
        signers=[("Jack Doe", "jack@example.com"), ("Jill Roe", "jill@example.com")],
        ordered=True,
        allow_reassign="1",
    )
    rid = sr["signature_request_id"]
    first, second = (s["signature_id"] for s in sr["signatures"])

    stranger = make_account(server.runtime)
    status, body = simulate(server, stranger, f"/signatures/{first}/sign")
    assert status == 404 and body["error"]["error_name"] == "not_found"  # another account's request
    status, body = simulate(server, account, f"/signatures/{second}/sign")
    assert status == 409 and "not your turn" in body["error"]["error_msg"]  # the signing order holds

    status, body = simulate(server, account, f"/signatures/{first}/view")
    assert status == 200 and body["signature_request"]["signatures"][0]["last_viewed_at"] is not None
    status, body = simulate(server, account, f"/signatures/{first}/sign", {"fields": {"mail": "nope"}})
    assert status == 400 and body["error"]["error_path"] == "fields[mail]"  # the page's validation
    status, body = simulate(server, account, f"/signatures/{first}/sign", {"fields": {"nope": "x"}})
    assert status == 400 and body["error"]["error_path"] == "fields[nope]"

    status, body = simulate(server, account, f"/signatures/{first}/sign", {"fields": {"note": "by test"}})
    assert status == 200, body
    after = body["signature_request"]
    assert after["signatures"][0]["status_code"] == "signed" and after["is_complete"] is False
    values = {item["api_id"]: item["value"] for item in after["response_data"]}
    assert values["sig"] == "Jack Doe" and values["mail"] == "jack@example.com" and values["color"] == "Red"
    assert values["agree"] is True and values["note"] == "by test" and values["on"].count("/") == 2
    status, body = simulate(server, account, f"/signatures/{first}/sign")
    assert status == 409  # signed already

    status, body = simulate(
        server,
        account,
        f"/signatures/{second}/reassign",
        {"name": "Joe Poe", "email_address": "joe@example.com", "reason": "on leave"},
    )
    assert status == 200, body
    moved = body["signature_request"]["signatures"][1]
    assert moved["signer_email_address"] == "joe@example.com" and moved["signature_id"] != second
    status, body = simulate(server, account, f"/signatures/{moved['signature_id']}/sign", {"signature_text": "J. Poe"})
    assert status == 200, body
    assert body["signature_request"]["is_complete"] is True

    wait_event(receiver, rid, "signature_request_downloadable")
    kinds = [e.event_type for e in events(receiver, rid)]
    for kind in ("signature_request_viewed", "signature_request_reassigned", "signature_request_all_signed"):
        assert kind in kinds
    assert kinds.count("signature_request_signed") == 2
    status, pdf = api(server, account, "GET", f"/signature_request/files/{rid}")
    assert status == 200
    assert validate_seal(pdf, seal_certificate(server)).bottom_line
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Simulated (test mode)" in text and "Joe Poe" in text

    # Decline and view (an embedded request: the sign URL's way in), expire, and only test-mode requests.
    client_id = new_app(server, account, ["localhost"])
    fields = [f("sig", "signature", 0, 72, 420, 200, 40), f("sig1", "signature", 1, 72, 520, 200, 40)]
    signers = [("Jack Doe", "jack@example.com"), ("Jill Roe", "jill@example.com")]
    embedded = create(server, account, fields=fields, signers=signers, client_id=client_id, allow_decline="1")
    mailed = create(server, account, fields=fields, signers=signers)
    live = create(server, account, fields=fields, signers=signers, test_mode="0")

    sid = embedded["signatures"][0]["signature_id"]
    status, body = simulate(server, account, f"/signatures/{sid}/view")  # an embedded request: a sign URL's path
    assert status == 200, body
    status, body = simulate(server, account, f"/signatures/{sid}/decline", {"reason": "wrong amount"})
    assert status == 200, body
    assert body["signature_request"]["is_declined"] is True
    assert body["signature_request"]["signatures"][0]["decline_reason"] == "wrong amount"
    declined = wait_event(receiver, embedded["signature_request_id"], "signature_request_declined")
    assert declined.metadata["related_signature_id"] == sid
    status, body = simulate(server, account, f"/signature_requests/{embedded['signature_request_id']}/expire")
    assert status == 409  # declined: nothing left to expire

    status, body = simulate(server, account, f"/signature_requests/{mailed['signature_request_id']}/expire")
    assert status == 200, body
    assert body["signature_request"]["expires_at"] <= int(utcnow().timestamp()) + 1
    assert {s["status_code"] for s in body["signature_request"]["signatures"]} == {"expired"}
    wait_event(receiver, mailed["signature_request_id"], "signature_request_expired")
    status, body = simulate(server, account, f"/signatures/{mailed['signatures'][0]['signature_id']}/sign")
    assert status == 409

    for path in (
        f"/signatures/{live['signatures'][0]['signature_id']}/sign",
        f"/signature_requests/{live['signature_request_id']}/expire",
    ):
        status, body = simulate(server, account, path)
        assert status == 409 and body["error"]["error_name"] == "conflict" and "test_mode" in body["error"]["error_msg"]


def test_a_simulated_signer_with_an_access_code_enters_it_first(server: Server, account: AccountInfo) -> None:
    """The PIN step holds for simulated signers too: no pin is a 400 naming it, a wrong one a 403, and the right
    one is recorded as a good try (with the IP) before the signature, as on the page."""
    sr = create(
        server,
        account,
        fields=[f("sig", "signature", 0, 72, 420, 200, 40)],
        signers=[("Jack Doe", "jack@example.com")],
        **{"signers[0][pin]": "4321"},  # type: ignore[arg-type]
    )
    first = sr["signatures"][0]["signature_id"]
    status, body = simulate(server, account, f"/signatures/{first}/sign")
    assert status == 400 and body["error"]["error_path"] == "pin", body
    status, body = simulate(server, account, f"/signatures/{first}/sign", {"pin": "0000"})
    assert status == 403 and "access code" in body["error"]["error_msg"], body
    status, body = simulate(server, account, f"/signatures/{first}/sign", {"pin": "4321"})
    assert status == 200, body
    assert body["signature_request"]["signatures"][0]["status_code"] == "signed"
    with server.runtime.unit_of_work(write=False) as session:
        rows = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.signature_request_id == sr["signature_request_id"])
        ).all()
    assert ("signer:signature_request:pin_verified", "127.0.0.1") in [(e.tag, e.ip_address) for e in rows]
