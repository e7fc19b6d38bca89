"""A signer's access code (``signers[].pin``): nothing of the document before it, every door shut without it,
wrong tries counted, recorded and locking, the sender unlocking by an update, the final copy offered only
past the PIN. Through HTTP, as a browser and the page would ask; the page itself is driven in Chromium in
test_browser.py."""

from __future__ import annotations

import io
import json
from typing import Any

import pypdf
import sqlalchemy as sa

from paraph.models import AuditEvent, Signer
from paraph.pdf.audit_trail import audit_trail_pdf
from paraph.signing import repository
from paraph.signing.access import signing_link
from paraph.signing.trail import build_trail
from tests.client import wait_until
from tests.conftest import AccountInfo, Server
from tests.signing.helpers import action, api, create, f, new_app, page, request_state, sign_url, token_of

PARENT = "http://localhost:5173/checkout"
PIN = "2468"
WITH_PIN: dict[str, Any] = {"signers[0][pin]": PIN}


def data_of(html: str) -> dict[str, Any]:
    start = html.index('id="paraph-data">') + len('id="paraph-data">')
    return json.loads(html[start : html.index("</script>", start)])  # type: ignore[no-any-return]


def test_a_pin_guards_the_page_images_every_action_and_the_final_copy_then_locks_after_five_wrong_tries(
    server: Server, account: AccountInfo
) -> None:
    client_id = new_app(server, account, ["localhost"])
    fields = [f("sig", "signature", 0, 72, 420, 200, 40), f("secret_note", "text", 0, 72, 480, name="Salary")]
    sr = create(
        server,
        account,
        client_id=client_id,
        signers=[("Jack Doe", "jack@example.com")],
        fields=fields,
        title="Confidential offer",
        allow_decline="1",
        allow_reassign="1",
        **WITH_PIN,
    )
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]
    assert sr["signatures"][0]["has_pin"] is True
    stored = request_state(server, rid, lambda r: r.signers[0].pin_hash)
    assert stored.startswith("$argon2") and PIN not in stored
    url = sign_url(server, account, sid)
    token = token_of(url)
    query = {"client_id": client_id, "parent_url": PARENT, "skip_domain_verification": "1"}

    # The page asks for the PIN and shows nothing of the document: no title, no field, no page image.
    opened = page(server, url, **query)
    html = opened.data.decode()
    assert opened.status == 200
    assert 'data-testid="pin-input"' in html and 'data-testid="pin-submit"' in html
    assert "Confidential offer" not in html and "secret_note" not in html and "Salary" not in html
    assert data_of(html)["state"] == "pin" and "pages" not in data_of(html)

    # Every door refuses the session that has not passed it.
    image = f"{server.url}/sign/{sid}/page/0/1"
    assert page(server, image, token=token).status == 401
    assert page(server, image, token=token, pin="9999999999.forged").status == 401
    assert page(server, f"{server.url}/sign/{sid}/typed", token=token, text="Jack").status == 401
    submit = {"token": token, "values": {"sig": True, "secret_note": "x"}, "signature": {"method": "type"}}
    refused: list[tuple[str, dict[str, Any]]] = [
        ("submit", submit),
        ("decline", {"token": token, "reason": "no"}),
        ("reassign", {"token": token, "name": "Eve", "email_address": "eve@example.com"}),
    ]
    for what, body in refused:
        status, answer = action(server, sid, what, body, pin="bogus")
        assert (status, answer["error"]["state"]) == (401, "pin"), what
    assert request_state(server, rid, lambda r: r.signers[0].status_code) == "awaiting_signature"

    # A wrong PIN is counted; the right one earns a pass that opens the page, its images and its actions.
    status, answer = action(server, sid, "pin", {"token": token, "pin": "1111"})
    assert (status, answer["tries_left"]) == (403, 4)
    status, answer = action(server, sid, "pin", {"token": token, "pin": PIN})
    assert status == 200
    pin_pass = answer["pin"]
    assert page(server, image, token=token, pin=pin_pass).headers["content-type"] == "image/png"
    data = data_of(page(server, url, **query, pin=pin_pass).data.decode())
    assert data["state"] == "ready" and data["title"] == "Confidential offer"
    assert {fld["api_id"] for fld in data["fields"]} == {"sig", "secret_note"}
    assert all(f"pin={pin_pass}" in p["src"] for p in data["pages"])
    # The pass is this link's only: another sign URL of the same signer asks again.
    other = token_of(sign_url(server, account, sid))
    assert page(server, image, token=other, pin=pin_pass).status == 401

    body = {
        "token": token,
        "values": {"sig": True, "secret_note": "Ninety"},
        "signature": {"method": "type", "text": "Jack Doe"},
    }
    assert action(server, sid, "submit", body, pin=pin_pass) == (200, {"ok": True, "complete": True})

    # Each try is in the audit trail of the final document, with the signer's IP.
    with server.runtime.unit_of_work(write=False) as session:
        rows = session.scalars(sa.select(AuditEvent).where(AuditEvent.signature_request_id == rid)).all()
        tries = [(e.tag, e.ip_address, (e.data or {}).get("failures")) for e in rows if ":pin_" in e.tag]
    assert tries == [
        ("signer:signature_request:pin_failed", "127.0.0.1", 1),
        ("signer:signature_request:pin_verified", "127.0.0.1", None),
    ]
    with server.runtime.unit_of_work(write=False) as session:
        found = repository.signer_and_request(session, sid)
        assert found is not None
        trail = build_trail(found[1], repository.audit_events(session, rid))  # as the final document's job does
    text = pypdf.PdfReader(io.BytesIO(audit_trail_pdf(trail, "0" * 64))).pages[0].extract_text()
    assert "Wrong access code" in text and "Access code entered" in text and "127.0.0.1" in text

    # A mailed request: five wrong tries lock the signer, even out of the right PIN; the sender's update
    # unlocks them.
    mailed = create(server, account, signers=[("Ann Roe", "ann@example.com")], fields=fields[:1], **WITH_PIN)
    mrid, msid = mailed["signature_request_id"], mailed["signatures"][0]["signature_id"]
    link = signing_link(server.runtime.settings, server.runtime.keys, msid)
    mtoken = token_of(link)
    assert data_of(page(server, link).data.decode())["state"] == "pin"
    answers = [action(server, msid, "pin", {"token": mtoken, "pin": "0000"}) for _ in range(5)]
    assert [a[1]["tries_left"] for a in answers] == [4, 3, 2, 1, 0]
    assert answers[-1][1]["error"]["state"] == "pin_locked"
    status, answer = action(server, msid, "pin", {"token": mtoken, "pin": PIN})
    assert (status, answer["error"]["state"]) == (403, "pin_locked")
    locked = page(server, link)
    assert locked.status == 403 and "too many wrong access codes" in locked.data.decode()
    assert page(server, f"{server.url}/sign/{msid}/page/0/1", token=mtoken).status == 403
    with server.runtime.unit_of_work(write=False) as session:
        signer = session.scalars(sa.select(Signer).where(Signer.signature_id == msid)).one()
        assert signer.pin_failures == 5

    status, body = api(
        server, account, "POST", f"/signature_request/update/{mrid}", json={"signature_id": msid, "name": "Ann R."}
    )
    assert status == 200, body
    status, answer = action(server, msid, "pin", {"token": mtoken, "pin": PIN})
    assert status == 200 and answer["pin"]
    pin_pass = answer["pin"]
    assert data_of(page(server, link, pin=pin_pass).data.decode())["state"] == "ready"

    # Signed and complete: the final copy the signing page offers is behind the PIN too. The mailed link alone
    # (a forwarded mail) shows that the document is signed, and no way to download it.
    body = {"token": mtoken, "values": {"sig": True}, "signature": {"method": "type", "text": "Ann Roe"}}
    assert action(server, msid, "submit", body, pin=pin_pass) == (200, {"ok": True, "complete": True})
    wait_until(lambda: request_state(server, mrid, lambda r: r.final_pdf_key is not None), 60)
    opened = page(server, link)
    assert data_of(opened.data.decode())["state"] in ("signed", "complete")
    assert "finalCopyUrl" not in data_of(opened.data.decode()) and "/final" not in opened.data.decode()
    # With the PIN pass, the page offers the signer's own download, which asks for the pass as well.
    offered = data_of(page(server, link, pin=pin_pass).data.decode())["finalCopyUrl"]
    assert offered.startswith(f"/sign/{msid}/final?")
    download = page(server, server.url + offered)
    assert (download.status, download.headers["content-type"]) == (200, "application/pdf")
    assert download.data.startswith(b"%PDF")
    final = f"{server.url}/sign/{msid}/final"
    assert page(server, final, token=mtoken).status == 401
    assert page(server, final, token=mtoken, pin="9999999999.forged").status == 401
    assert page(server, final, token="forged", pin=pin_pass).status == 404


def test_a_signer_with_a_pin_waiting_for_their_turn_learns_no_other_signer_s_name(
    server: Server, account: AccountInfo
) -> None:
    """The "not your turn" page comes before the PIN step: for a signer with an access code it names nobody."""
    sr = create(
        server,
        account,
        signers=[("Ann Roe", "ann@example.com"), ("Bob Poe", "bob@example.com")],
        fields=[f("sig0", "signature", 0, 72, 420, 200, 40), f("sig1", "signature", 1, 72, 520, 200, 40)],
        ordered=True,
        **{"signers[1][pin]": PIN},  # type: ignore[arg-type]
    )
    second = sr["signatures"][1]["signature_id"]
    html = page(server, signing_link(server.runtime.settings, server.runtime.keys, second)).data.decode()
    assert "not your turn" in html
    assert "Ann Roe" not in html and "ann@example.com" not in html
