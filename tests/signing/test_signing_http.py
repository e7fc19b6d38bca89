"""The signing flow through HTTP, as the page drives it: access, checks, events, the sealed final document."""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from typing import Any

import pypdf
import sqlalchemy as sa
from cryptography import x509

from paraph.db import utcnow
from paraph.models import AuditEvent, Job, SignUrlToken
from paraph.signature_request.files import final_zip
from paraph.signing.seal_key import seal_pem
from tests.conftest import AccountInfo, Server
from tests.pdf._finalize_fixtures import ink_box, render, validate_seal
from tests.receiver import Receiver
from tests.signing.helpers import (
    action,
    api,
    create,
    events,
    f,
    new_app,
    page,
    request_state,
    set_callback,
    sign_url,
    token_of,
    wait_event,
)

PARENT = "http://localhost:5173/checkout"


def open_embedded(server: Server, url: str, client_id: str, **extra: str) -> Any:
    query = {"client_id": client_id, "parent_url": PARENT, "skip_domain_verification": "1", **extra}
    return page(server, url, **query)


def seal_certificate(server: Server) -> x509.Certificate:
    pem = seal_pem(server.runtime)  # the deployment's self-signed seal, kept in the database
    assert pem is not None
    return x509.load_pem_x509_certificates(pem)[0]


def embedded_request(server: Server, account: AccountInfo, fields: list[dict[str, Any]], **kw: Any) -> tuple[str, Any]:
    client_id = new_app(server, account, kw.pop("domains", ["localhost"]))
    signers = kw.pop("signers", [("Jack Doe", "jack@example.com")])
    return client_id, create(server, account, client_id=client_id, signers=signers, fields=fields, **kw)


def test_it_completes_with_values_in_response_data_and_a_sealed_final_document(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    set_callback(server, account, receiver)
    fields = [
        f("sig", "signature", 0, 72, 420, 200, 40),
        f("name", "text", 0, 72, 480, validation_type="letters_only"),
        f("zip", "text", 0, 72, 520, validation_type="zip_code"),
        f("agree", "checkbox", 0, 72, 560, 14, 14),
        f("color", "dropdown", 0, 72, 600, options=["Red", "Green"]),
        f("signed_on", "date_signed", 0, 300, 600),
        f("note", "text", 0, 300, 480, required=False),
    ]
    client_id, sr = embedded_request(server, account, fields)
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]
    url = sign_url(server, account, sid)

    opened = open_embedded(server, url, client_id)
    assert opened.status == 200
    assert "frame-ancestors *" in opened.headers["content-security-policy"]
    assert opened.headers["referrer-policy"] == "no-referrer"
    status, body = action(
        server,
        sid,
        "submit",
        {
            "token": token_of(url),
            "values": {"sig": True, "name": "Jack", "zip": "94105", "agree": True, "color": "Green", "note": ""},
            "signature": {"method": "type", "text": "Jack Doe"},
        },
    )
    assert (status, body) == (200, {"ok": True, "complete": True})

    downloadable = wait_event(receiver, rid, "signature_request_downloadable")
    kinds = [e.event_type for e in events(receiver, rid)]
    assert kinds.index("signature_request_signed") < kinds.index("signature_request_all_signed")
    assert kinds.index("signature_request_all_signed") < kinds.index("signature_request_downloadable")
    signed = next(e for e in events(receiver, rid) if e.event_type == "signature_request_signed")
    assert signed.metadata["related_signature_id"] == sid
    values = {item["api_id"]: item["value"] for item in downloadable.request["response_data"]}
    assert values["name"] == "Jack" and values["zip"] == "94105" and values["color"] == "Green"
    assert values["agree"] is True and values["note"] == "" and values["sig"] == "Jack Doe"
    assert values["signed_on"].count("/") == 2
    assert all(item["signature_id"] == sid for item in downloadable.request["response_data"])
    assert downloadable.request["is_complete"] is True

    status, pdf = api(server, account, "GET", f"/signature_request/files/{rid}")
    assert status == 200
    assert validate_seal(pdf, seal_certificate(server)).bottom_line
    # The typed signature is legible: dark ink over most of its field's height (a 200 x 40 pt box at 72, 420).
    ink = ink_box(render(pdf, 0), (72, 420, 200, 40))
    assert ink is not None and ink[3] >= 32, ink
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Audit trail" in text and "jack@example.com" in text and "127.0.0.1" in text
    assert "Signed" in text and "Viewed" in text
    assert "TEST MODE" in text
    status, uri = api(server, account, "GET", f"/signature_request/files_as_data_uri/{rid}")
    assert status == 200 and base64.b64decode(uri["data_uri"].split(",", 1)[1]) == pdf
    archive = request_state(server, rid, lambda r: final_zip(server.runtime.storage, r))
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert [opened.read(n) for n in opened.namelist()] == [pdf]
    status, served = api(server, account, "GET", f"/signature_request/files/{rid}?file_type=zip")
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(served)) as opened:
        assert [opened.read(n) for n in opened.namelist()] == [pdf]  # the sealed final copy, once complete


def test_it_refuses_missing_and_invalid_values_and_records_nothing(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    fields = [
        f("sig", "signature", 0, 72, 420, 200, 40),
        f("phone", "text", 0, 72, 480, validation_type="phone_number"),
    ]
    _, sr = embedded_request(server, account, fields)
    sid = sr["signatures"][0]["signature_id"]
    url = sign_url(server, account, sid)
    status, body = action(server, sid, "submit", {"token": token_of(url), "values": {"phone": "12"}})
    assert status == 422
    assert set(body["error"]["fields"]) == {"sig", "phone"}
    status, body = action(
        server,
        sid,
        "submit",
        {"token": token_of(url), "values": {"sig": True, "phone": "+1 415 555 0100"}, "signature": {"method": "type"}},
    )
    assert status == 422 and "signature" in body["error"]["fields"]
    signer = request_state(server, sr["signature_request_id"], lambda r: r.signers[0].status_code)
    assert signer == "awaiting_signature"


def test_it_honours_the_allowed_signature_methods(server: Server, account: AccountInfo) -> None:
    fields = [f("sig", "signature", 0, 72, 420, 200, 40)]
    _, sr = embedded_request(
        server, account, fields, signing_options={"draw": True, "type": False, "upload": True, "default_type": "draw"}
    )
    sid = sr["signatures"][0]["signature_id"]
    url = sign_url(server, account, sid)
    body = {"token": token_of(url), "values": {"sig": True}, "signature": {"method": "type", "text": "Jack"}}
    status, answer = action(server, sid, "submit", body)
    assert status == 422 and "type" in answer["error"]["message"]


def test_it_keeps_a_sign_url_for_reloads_until_it_is_used_then_calls_it_invalid(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    set_callback(server, account, receiver)
    client_id, sr = embedded_request(server, account, [f("sig", "signature", 0, 72, 420, 200, 40)])
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]
    url = sign_url(server, account, sid)
    assert open_embedded(server, url, client_id).status == 200
    assert open_embedded(server, url, client_id).status == 200  # a reload
    body = {"token": token_of(url), "values": {"sig": True}, "signature": {"method": "type", "text": "Jack"}}
    assert action(server, sid, "submit", body)[0] == 200
    again = open_embedded(server, url, client_id)
    assert again.status == 410
    assert "already been used" in again.data.decode()
    invalid = wait_event(receiver, rid, "sign_url_invalid")
    assert invalid.metadata["related_signature_id"] == sid
    assert [e.event_type for e in events(receiver, rid)].count("signature_request_viewed") == 1
    status, answer = action(server, sid, "submit", body)
    assert status == 410 and answer["error"]["state"] == "used"
    with server.runtime.unit_of_work(write=False) as session:
        tags = [e.tag for e in session.query(AuditEvent).filter(AuditEvent.signature_request_id == rid)]
    assert tags.count("signer:signature_request:viewed") == 2


def test_it_frames_the_page_only_on_the_app_domains_unless_test_mode_skips_verification(
    server: Server, account: AccountInfo
) -> None:
    client_id, sr = embedded_request(server, account, [f("sig", "signature", 0, 72, 420, 200, 40)])
    sid = sr["signatures"][0]["signature_id"]
    url = sign_url(server, account, sid)
    verified = open_embedded(server, url, client_id, skip_domain_verification="0")
    assert verified.status == 200
    csp = verified.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://localhost:* https://*.localhost:* http://localhost:*" in csp
    elsewhere = open_embedded(server, url, client_id, skip_domain_verification="0", parent_url="https://evil.test/")
    assert elsewhere.status == 403
    assert "evil.test" in elsewhere.data.decode()
    wrong_app = open_embedded(server, url, "0" * 32)
    assert wrong_app.status == 403
    assert page(server, url.replace(token_of(url), "f" * 32), client_id=client_id).status == 404
    image = page(server, f"{server.url}/sign/{sid}/page/0/1")
    assert image.status == 404
    image = page(server, f"{server.url}/sign/{sid}/page/0/1", token=token_of(url))
    assert image.status == 200 and image.headers["content-type"] == "image/png"


def test_it_lets_signers_sign_only_in_their_order(server: Server, account: AccountInfo, receiver: Receiver) -> None:
    set_callback(server, account, receiver)
    fields = [f("first", "signature", 0, 72, 420, 200, 40), f("second", "signature", 1, 300, 420, 200, 40)]
    signers = [("Ann First", "ann@example.com"), ("Bob Second", "bob@example.com")]
    client_id, sr = embedded_request(server, account, fields, signers=signers, ordered=True)
    rid = sr["signature_request_id"]
    ann, bob = (s["signature_id"] for s in sr["signatures"])
    bob_url = sign_url(server, account, bob)
    early = open_embedded(server, bob_url, client_id)
    assert early.status == 409 and "Ann First" in early.data.decode()
    body = {"token": token_of(bob_url), "values": {"second": True}, "signature": {"method": "type", "text": "Bob"}}
    status, answer = action(server, bob, "submit", body)
    assert status == 409 and answer["error"]["state"] == "waiting"

    ann_url = sign_url(server, account, ann)
    ann_body = {"token": token_of(ann_url), "values": {"first": True}, "signature": {"method": "type", "text": "Ann"}}
    assert action(server, ann, "submit", ann_body) == (200, {"ok": True, "complete": False})
    assert open_embedded(server, bob_url, client_id).status == 200
    assert action(server, bob, "submit", body) == (200, {"ok": True, "complete": True})
    wait_event(receiver, rid, "signature_request_downloadable")
    with server.runtime.unit_of_work(write=False) as session:
        finalize_jobs = session.query(Job).filter(Job.kind == "signing.finalize").count()
    assert finalize_jobs == 1


def test_it_declines_only_when_allowed_and_with_a_reason(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    set_callback(server, account, receiver)
    _, closed = embedded_request(server, account, [f("sig", "signature", 0, 72, 420, 200, 40)])
    sid = closed["signatures"][0]["signature_id"]
    token = token_of(sign_url(server, account, sid))
    assert action(server, sid, "decline", {"token": token, "reason": "No"})[0] == 403

    _, sr = embedded_request(server, account, [f("sig", "signature", 0, 72, 420, 200, 40)], allow_decline="1")
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]
    token = token_of(sign_url(server, account, sid))
    assert action(server, sid, "decline", {"token": token, "reason": "  "})[0] == 422
    assert action(server, sid, "decline", {"token": token, "reason": "Wrong amount"}) == (200, {"ok": True})
    declined = wait_event(receiver, rid, "signature_request_declined")
    assert declined.metadata["event_message"] == "Wrong amount"
    assert declined.request["is_declined"] is True
    assert declined.request["signatures"][0]["status_code"] == "declined"
    assert declined.request["signatures"][0]["decline_reason"] == "Wrong amount"


def test_it_explains_expired_sign_urls_and_canceled_requests(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    set_callback(server, account, receiver)
    client_id, sr = embedded_request(server, account, [f("sig", "signature", 0, 72, 420, 200, 40)])
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]
    url = sign_url(server, account, sid)
    with server.runtime.unit_of_work() as session:
        session.execute(sa.update(SignUrlToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    expired = open_embedded(server, url, client_id)
    assert expired.status == 410 and "has expired" in expired.data.decode()
    wait_event(receiver, rid, "sign_url_invalid")

    fresh = sign_url(server, account, sid)
    assert api(server, account, "POST", f"/signature_request/cancel/{rid}")[0] == 200
    canceled = open_embedded(server, fresh, client_id)
    assert canceled.status == 410 and "canceled" in canceled.data.decode()


def test_it_applies_the_query_parameters_hellosign_embedded_adds(server: Server, account: AccountInfo) -> None:
    client_id, sr = embedded_request(server, account, [f("sig", "signature", 0, 72, 420, 200, 40)])
    url = sign_url(server, account, sr["signatures"][0]["signature_id"])
    html = open_embedded(
        server,
        url,
        client_id,
        hide_header="true",
        final_button_text="Continue",
        user_culture="fr_FR",
        white_labeling_options='{"primary_button_color": "#00AA55", "link_color": "javascript:alert(1)"}',
        redirect_url="https://shop.example.com/thanks",
    ).data.decode()
    assert '<html lang="fr-FR">' in html
    assert "no-header" in html
    assert 'data-testid="sign-submit">Continuer</button>' in html  # the label asked for, in the page's language
    assert '"--pp-primary":"#00aa55"' in html and "javascript" not in html
    assert '"redirectUrl":"https://shop.example.com/thanks"' in html
