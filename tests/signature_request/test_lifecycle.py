"""Get, list and search, cancel, remind, update, remove, release_hold and expiry, through the official SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import dropbox_sign
import pytest
import sqlalchemy as sa
from dropbox_sign import models

from paraph.models import Job, SignatureRequest
from paraph.signature_request import repository, tasks
from paraph.signature_request.schemas import serialize_signature_request
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.receiver import Receiver
from tests.signature_request.helpers import (
    call_json,
    create_embedded,
    listen,
    make_pdf,
    new_app,
    send,
    send_and_wait,
    signer,
    wait_event,
)

TAGGED = make_pdf([["[sig|req|signer1]   [sig|req|signer2]"]])


def api(sdk: Any) -> Any:
    return dropbox_sign.SignatureRequestApi(sdk)


def change(server: Server, rid: str, fn: Callable[[SignatureRequest], None]) -> None:
    """Move a request along where the API cannot yet (signing is another feature)."""
    with server.runtime.unit_of_work() as session:
        sr = repository.by_public_id(session, rid)
        assert sr is not None
        fn(sr)


def complete(sr: SignatureRequest) -> None:
    sr.is_complete = True
    for s in sr.signers:
        s.status_code = "signed"


def status_of(exc: pytest.ExceptionInfo[dropbox_sign.ApiException]) -> tuple[int, str]:
    return exc.value.status, json.loads(exc.value.body)["error"]["error_name"]


def test_it_gets_a_request_and_hides_it_from_other_accounts(server: Server, sdk: Any) -> None:
    created = send(sdk, files=[make_pdf()], title="Mine").signature_request
    got = api(sdk).signature_request_get(created.signature_request_id).signature_request
    assert got.title == "Mine"
    assert got.signatures[0].signature_id == created.signatures[0].signature_id
    other = make_account(server.runtime)
    status, body = call_json(server, "GET", f"/signature_request/{created.signature_request_id}", other.api_key)
    assert status == 404 and body["error"]["error_name"] == "not_found"


def test_reads_show_a_request_as_its_callbacks_and_writes_do(
    server: Server, sdk: Any, receiver: Receiver, account: AccountInfo
) -> None:
    """GET and /list read plain rows (the repository's views); callbacks and writes serialize ORM objects."""
    listen(sdk, receiver)
    sr = send_and_wait(
        sdk,
        receiver,
        files=[make_pdf()],
        metadata={"deal": "alpha-7"},
        signers=[signer(), signer("Jill", "jill@example.com")],
    )
    rid = sr.signature_request_id
    with server.runtime.unit_of_work(write=False) as session:
        loaded = repository.by_public_id(session, rid)
        assert loaded is not None
        expected = json.loads(json.dumps(serialize_signature_request(loaded, server.runtime.settings.base_url)))
    status, got = call_json(server, "GET", f"/signature_request/{rid}", account.api_key)
    assert status == 200 and got["signature_request"] == expected
    status, listed = call_json(server, "GET", "/signature_request/list", account.api_key)
    assert status == 200 and listed["signature_requests"] == [expected]


def test_it_lists_pages_and_searches(server: Server, sdk: Any, account: AccountInfo) -> None:
    send(sdk, files=[make_pdf()], title="Lease agreement", metadata={"deal": "alpha-7"}, signers=[signer()])
    send(sdk, files=[make_pdf()], title="Purchase order", signers=[signer("Jill", "jill@example.com")])
    send(sdk, files=[make_pdf()], title="Lease renewal", test_mode=False, signers=[signer("Ann", "ann@x.org")])
    page1 = api(sdk).signature_request_list(page=1, page_size=2)
    assert page1.list_info.num_results == 3 and page1.list_info.num_pages == 2
    assert [sr.title for sr in page1.signature_requests] == ["Lease renewal", "Purchase order"]

    def titles(query: str) -> list[str]:
        return sorted(sr.title for sr in api(sdk).signature_request_list(query=query).signature_requests)

    assert titles("title:lease") == ["Lease agreement", "Lease renewal"]
    assert titles("to:jill@example.com") == ["Purchase order"]
    assert titles(f"from:{account.email}") == ["Lease agreement", "Lease renewal", "Purchase order"]
    assert titles("metadata:alpha-7") == ["Lease agreement"]
    assert titles("test_mode:false") == ["Lease renewal"]
    assert titles("complete:true") == []
    assert titles("declined:false AND title:order") == ["Purchase order"]
    assert titles("title:order OR to:ann@x.org") == ["Lease renewal", "Purchase order"]
    assert titles('"lease agreement"') == ["Lease agreement"]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert len(titles(f"created:[{today} TO *]")) == 3
    assert titles("created:{* TO 2001-01-01]") == []
    for bad in ("nosuchfield:x", "created:[2024-01-01 TO", "title:(x"):
        status, body = call_json(server, "GET", "/signature_request/list", account.api_key, fields={"query": bad})
        assert status == 400 and body["error"]["error_path"] == "query", bad


def test_it_reads_me_in_searches_as_the_caller(sdk: Any, account: AccountInfo) -> None:
    send(sdk, files=[make_pdf()], title="Sign it myself", signers=[signer("Me Myself", account.email.upper())])
    send(sdk, files=[make_pdf()], title="For Mel", signers=[signer("Mel", "mel@example.com")])
    send(sdk, files=[make_pdf()], title="Both", signers=[signer("Mel", "mel@example.com"), signer("I", account.email)])

    def titles(query: str) -> list[str]:
        return sorted(sr.title for sr in api(sdk).signature_request_list(query=query).signature_requests)

    assert titles("from:me") == ["Both", "For Mel", "Sign it myself"]
    assert titles("to:me") == ["Both", "Sign it myself"]
    assert titles("complete:false AND from:me AND to:me") == ["Both", "Sign it myself"]
    assert titles("to:mel") == ["Both", "For Mel"]


def test_it_cancels_asynchronously_and_then_answers_410(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(sdk, receiver, files=[make_pdf()])
    rid = sr.signature_request_id
    resp = api(sdk).signature_request_cancel_with_http_info(rid)
    assert resp.status_code == 200
    payload = wait_event(receiver, "signature_request_canceled", rid)
    assert payload["signature_request"]["signature_request_id"] == rid
    for call in (api(sdk).signature_request_get, api(sdk).signature_request_files, api(sdk).signature_request_cancel):
        with pytest.raises(dropbox_sign.ApiException) as err:
            call(rid)
        assert status_of(err) == (410, "deleted")
    assert api(sdk).signature_request_list().list_info.num_results == 0


def test_it_refuses_to_cancel_a_completed_request(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(sdk, receiver, files=[make_pdf()])
    change(server, sr.signature_request_id, complete)
    with pytest.raises(dropbox_sign.ApiException) as err:
        api(sdk).signature_request_cancel(sr.signature_request_id)
    assert status_of(err) == (400, "signature_request_cancel_failed")


def test_it_reminds_once_an_hour(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(
        sdk, receiver, files=[TAGGED], use_text_tags=True, signers=[signer(), signer("Jill", "jill@example.com")]
    )
    rid = sr.signature_request_id
    reminded = api(sdk).signature_request_remind(
        rid, models.SignatureRequestRemindRequest(email_address="JILL@example.com")
    )
    jill = reminded.signature_request.signatures[1]
    assert jill.last_reminded_at is not None and reminded.signature_request.signatures[0].last_reminded_at is None
    payload = wait_event(receiver, "signature_request_remind", rid)
    assert payload["event"]["event_metadata"]["related_signature_id"] == jill.signature_id
    with server.runtime.unit_of_work(write=False) as session:
        kinds = session.scalars(sa.select(Job.kind).where(Job.kind == "mail.remind")).all()
    assert kinds == ["mail.remind"]
    with pytest.raises(dropbox_sign.ApiException) as err:
        api(sdk).signature_request_remind(rid, models.SignatureRequestRemindRequest(email_address="jill@example.com"))
    assert status_of(err) == (400, "invalid_reminder")
    with pytest.raises(dropbox_sign.ApiException) as err:
        api(sdk).signature_request_remind(rid, models.SignatureRequestRemindRequest(email_address="nobody@example.com"))
    assert status_of(err) == (400, "bad_request")
    assert "email_address" in err.value.body


def test_it_does_not_remind_embedded_signers(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    created = create_embedded(sdk, new_app(sdk), files=[make_pdf()]).signature_request
    wait_event(receiver, "signature_request_sent", created.signature_request_id)
    with pytest.raises(dropbox_sign.ApiException) as err:
        api(sdk).signature_request_remind(
            created.signature_request_id, models.SignatureRequestRemindRequest(email_address="jack@example.com")
        )
    assert status_of(err) == (400, "invalid_reminder")


def test_it_updates_a_signer_with_a_new_signature_id(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(
        sdk, receiver, files=[TAGGED], use_text_tags=True, signers=[signer(), signer("Jill", "jill@example.com")]
    )
    rid, old = sr.signature_request_id, sr.signatures[1].signature_id
    renamed = (
        api(sdk)
        .signature_request_update(rid, models.SignatureRequestUpdateRequest(signature_id=old, name="Jill Smith"))
        .signature_request
    )
    assert renamed.signatures[1].signer_name == "Jill Smith"
    assert renamed.signatures[1].signature_id == old
    moved = (
        api(sdk)
        .signature_request_update(
            rid, models.SignatureRequestUpdateRequest(signature_id=old, email_address="jill@new.example.com")
        )
        .signature_request
    )
    assert moved.signatures[1].signer_email_address == "jill@new.example.com"
    assert moved.signatures[1].signature_id != old and len(moved.signatures[1].signature_id) == 32
    assert moved.signatures[0].signature_id == sr.signatures[0].signature_id
    with pytest.raises(dropbox_sign.ApiException) as err:
        api(sdk).signature_request_update(rid, models.SignatureRequestUpdateRequest(signature_id=old, name="X"))
    assert status_of(err) == (400, "bad_request")
    later = int(time.time()) + 7 * 86400
    extended = api(sdk).signature_request_update(
        rid, models.SignatureRequestUpdateRequest(signature_id=moved.signatures[0].signature_id, expires_at=later)
    )
    assert extended.signature_request.expires_at == later


def test_it_refuses_to_update_signers_of_a_signature_page(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(sdk, receiver, files=[make_pdf()])
    with pytest.raises(dropbox_sign.ApiException) as err:
        api(sdk).signature_request_update(
            sr.signature_request_id,
            models.SignatureRequestUpdateRequest(signature_id=sr.signatures[0].signature_id, name="Other"),
        )
    assert status_of(err) == (400, "bad_request")


def test_it_removes_only_finished_requests(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(sdk, receiver, files=[make_pdf()])
    rid = sr.signature_request_id
    with pytest.raises(dropbox_sign.ApiException) as err:
        api(sdk).signature_request_remove(rid)
    assert status_of(err) == (400, "signature_request_remove_failed")
    change(server, rid, complete)
    assert api(sdk).signature_request_remove_with_http_info(rid).status_code == 200
    with pytest.raises(dropbox_sign.ApiException) as err:
        api(sdk).signature_request_get(rid)
    assert err.value.status == 404
    assert api(sdk).signature_request_list().list_info.num_results == 0


def test_it_releases_a_hold(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(sdk, receiver, files=[make_pdf()])
    rid = sr.signature_request_id
    with pytest.raises(dropbox_sign.ApiException) as err:
        api(sdk).signature_request_release_hold(rid)
    assert status_of(err) == (400, "bad_request")

    def hold(found: SignatureRequest) -> None:
        found.signers[0].status_code = "on_hold_by_requester"

    change(server, rid, hold)
    released = api(sdk).signature_request_release_hold(rid).signature_request
    assert released.signatures[0].status_code == "awaiting_signature"


def test_it_expires_requests_past_their_date(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    expires = int(time.time()) + 3600
    sr = send_and_wait(sdk, receiver, files=[make_pdf()], expires_at=expires)
    assert sr.expires_at == expires
    assert tasks.expire_due(server.runtime) == 0

    def past(found: SignatureRequest) -> None:
        found.expires_at = found.created_at

    change(server, sr.signature_request_id, past)
    assert tasks.expire_due(server.runtime) == 1
    payload = wait_event(receiver, "signature_request_expired", sr.signature_request_id)
    assert payload["signature_request"]["signatures"][0]["status_code"] == "expired"
    assert tasks.expire_due(server.runtime) == 0


def test_it_takes_remind_and_update_as_plain_forms(
    server: Server, sdk: Any, receiver: Receiver, account: AccountInfo
) -> None:
    """curl -d style (urlencoded) as well as the SDK's JSON."""
    listen(sdk, receiver)
    sr = send_and_wait(
        sdk, receiver, files=[TAGGED], use_text_tags=True, signers=[signer(), signer("Jill", "jill@example.com")]
    )
    rid = sr.signature_request_id
    status, body = call_json(
        server,
        "POST",
        f"/signature_request/remind/{rid}",
        account.api_key,
        body="email_address=jack%40example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, body
    assert body["signature_request"]["signatures"][0]["last_reminded_at"] is not None
    status, body = call_json(
        server,
        "POST",
        f"/signature_request/update/{rid}",
        account.api_key,
        fields={"signature_id": sr.signatures[1].signature_id, "name": "Jill B."},
    )
    assert status == 200, body
    assert body["signature_request"]["signatures"][1]["signer_name"] == "Jill B."
