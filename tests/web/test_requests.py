"""Signature requests in the dashboard: the overview's counts by state, the list with its search and filters,
and a request's page (signers, timeline, page images, the sealed PDF, its callbacks), in Chromium."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pypdf
import pytest
from playwright.sync_api import Page, expect

from paraph.db import utcnow
from paraph.models.signature_request import FilesState
from paraph.signature_request import browse, repository
from paraph.signature_request.state import LISTED, RequestState, state_of
from tests.client import wait_until
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.receiver import Receiver
from tests.signing.helpers import (
    action,
    api,
    create,
    f,
    new_app,
    set_callback,
    sign_url,
    token_of,
    wait_event,
)
from tests.signing.helpers import page as get_page
from tests.web.conftest import sign_in
from tests.web.helpers import Client

pytestmark = pytest.mark.browser

Shoot = Callable[[Page, str], None]
SIG = [f("sig", "signature", 0, 72, 420, 200, 40), f("name", "text", 0, 72, 480)]


def failed_request(server: Server, account: AccountInfo, title: str) -> str:
    """A request whose 'PDF' is random bytes: created at once, then file_error."""
    form = {
        "title": title,
        "test_mode": "1",
        "signers[0][name]": "Zed",
        "signers[0][email_address]": "zed@example.com",
        "files[0]": ("broken.pdf", b"%PDF-1.7 this is not a document" * 10, "application/pdf"),
    }
    status, body = api(server, account, "POST", "/signature_request/send", fields=form)
    assert status == 200, body
    rid = str(body["signature_request"]["signature_request_id"])

    def errored() -> bool:
        with server.runtime.unit_of_work(write=False) as session:
            sr = repository.by_public_id(session, rid)
            return sr is not None and sr.files_state == FilesState.ERROR

    wait_until(errored)
    return rid


def expect_rows(page: Page, titles: list[str]) -> None:
    """The list shows exactly these titles, in this order (retried while the page loads)."""
    expect(page.locator("table.requests tbody tr a.strong-link")).to_have_text(titles)


def test_it_counts_lists_filters_and_searches_requests(
    server: Server, account: AccountInfo, page: Page, shoot: Shoot
) -> None:
    nda = create(server, account, fields=SIG, signers=[("Jack Doe", "jack@example.com")], title="Mutual NDA")
    lease = create(
        server,
        account,
        fields=SIG,
        signers=[("Ann Lee", "ann@example.com")],
        title="Office lease",
        test_mode="0",
        metadata={"deal": "lease-42"},
    )
    broken = failed_request(server, account, "Broken upload")
    status, _ = api(server, account, "POST", f"/signature_request/cancel/{lease['signature_request_id']}")
    assert status == 200
    wait_until(lambda: request_state_of(server, lease["signature_request_id"]) == "canceled")

    sign_in(page, server.url, account)
    cards = page.locator(".overview-requests")
    expect(cards.locator(".count-awaiting_signature .count-n")).to_have_text("1")
    expect(cards.locator(".count-error .count-n")).to_have_text("1")
    expect(cards.locator(".count-canceled .count-n")).to_have_text("1")
    expect(cards.locator(".count-complete .count-n")).to_have_text("0")
    expect(cards).to_contain_text("3 in all")
    shoot(page, "overview-with-requests")

    cards.locator(".count-error").click()
    page.wait_for_url("**/dashboard/requests?state=error")
    expect_rows(page, ["Broken upload"])
    expect(page.locator("select[name=state]")).to_have_value("error")

    page.click("nav >> text=Requests")
    expect_rows(page, ["Broken upload", "Office lease", "Mutual NDA"])  # newest first, canceled included
    expect(page.locator("table.requests")).to_contain_text("awaiting signature")
    shoot(page, "requests")

    page.select_option("select[name=mode]", "live")
    page.click("button:has-text('Filter')")
    expect_rows(page, ["Office lease"])
    page.select_option("select[name=mode]", "test")
    page.fill("input[name=q]", "to:jack@example.com")
    page.click("button:has-text('Filter')")
    expect_rows(page, ["Mutual NDA"])
    page.fill("input[name=q]", "metadata:lease-42")
    page.select_option("select[name=mode]", "")
    page.click("button:has-text('Filter')")
    expect_rows(page, ["Office lease"])
    page.fill("input[name=q]", "created:[2020-01-01 TO")
    page.click("button:has-text('Filter')")
    expect(page.locator(".alert")).to_contain_text("query:")
    expect(page.locator("table.requests")).to_have_count(0)
    page.click("text=Clear")
    expect_rows(page, ["Broken upload", "Office lease", "Mutual NDA"])

    page.click(f"a[href='/dashboard/requests/{broken}']")
    expect(page.locator("h1")).to_contain_text("Broken upload")
    expect(page.locator("h1 .badge-sr-error")).to_have_text("error")
    expect(page.locator(".alert")).not_to_be_empty()
    expect(page.locator(".timeline")).to_contain_text("Processing failed")
    expect(page.locator(".request-events")).to_contain_text("file_error")
    assert nda["signature_request_id"] not in page.content()


def request_state_of(server: Server, rid: str) -> str:
    with server.runtime.unit_of_work(write=False) as session:
        sr = repository.by_public_id(session, rid)
        assert sr is not None
        return state_of(sr)


def test_it_shows_a_signed_request_with_timeline_pages_pdf_and_callbacks(
    server: Server, account: AccountInfo, receiver: Receiver, page: Page, shoot: Shoot
) -> None:
    set_callback(server, account, receiver)
    client_id = new_app(server, account, ["localhost"])
    sr = create(
        server,
        account,
        client_id=client_id,
        fields=SIG,
        signers=[("Jack Doe", "jack@example.com")],
        title="Consulting agreement",
    )
    rid, sid = sr["signature_request_id"], sr["signatures"][0]["signature_id"]
    url = sign_url(server, account, sid)
    opened = get_page(server, url, client_id=client_id, parent_url="http://localhost/app", skip_domain_verification="1")
    assert opened.status == 200
    status, body = action(
        server,
        sid,
        "submit",
        {
            "token": token_of(url),
            "values": {"sig": True, "name": "Jack"},
            "signature": {"method": "type", "text": "Jack"},
        },
    )
    assert status == 200, body
    wait_event(receiver, rid, "signature_request_downloadable")

    sign_in(page, server.url, account)
    page.goto(f"{server.url}/dashboard/requests/{rid}")
    expect(page.locator("h1")).to_contain_text("Consulting agreement")
    expect(page.locator("h1 .badge-sr-complete")).to_have_text("complete")
    signer = page.locator("table.signers tbody tr")
    expect(signer).to_have_count(1)
    expect(signer).to_contain_text("jack@example.com")
    expect(signer.locator(".badge")).to_have_text("signed")
    expect(signer).to_contain_text(sid)

    labels = page.locator(".timeline-item strong").all_inner_texts()
    for label in ("Created", "Documents processed, request sent", "Viewed", "Signed", "All signed"):
        assert label in labels, labels
    assert labels.index("Created") < labels.index("Viewed") < labels.index("Signed") < labels.index("All signed")
    expect(page.locator(".timeline")).to_contain_text("Final document sealed")
    expect(page.locator(".timeline-signer").first).to_contain_text("127.0.0.1")

    kinds = page.locator(".request-events .mono").all_inner_texts()
    for kind in ("signature_request_sent", "signature_request_signed", "signature_request_all_signed"):
        assert kind in kinds, kinds
    expect(page.locator(".request-events .badge-delivered").first).to_be_visible()

    thumbs = page.locator(".page-thumb img")
    expect(thumbs).to_have_count(2)
    thumbs.nth(1).scroll_into_view_if_needed()
    # Polled through evaluate: the dashboard's CSP (no eval) can refuse wait_for_function's compiled predicate.
    wait_until(
        lambda: page.evaluate(
            "[...document.querySelectorAll('.page-thumb img')].every(i => i.complete && i.naturalWidth > 0)"
        ),
        timeout=15,
    )
    shoot(page, "request")

    with page.expect_download() as download:
        page.click("a.btn-primary:has-text('Download signed PDF')")
    data = download.value.path().read_bytes()
    assert data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "Audit trail" in text and "jack@example.com" in text
    status, api_pdf = api(server, account, "GET", f"/signature_request/files/{rid}")
    assert status == 200 and api_pdf == data  # the same sealed copy the API serves

    page.click(".request-events a:has-text('signature_request_signed')")
    expect(page.locator("h1")).to_contain_text("signature_request_signed")
    expect(page.locator("pre.code").first).to_contain_text(rid)


def test_it_never_shows_one_account_the_requests_of_another(server: Server, account: AccountInfo) -> None:
    sr = create(server, account, fields=SIG, signers=[("Jack Doe", "jack@example.com")], title="Private deal")
    rid = sr["signature_request_id"]
    mine, theirs = Client(server.url), Client(server.url)
    mine.sign_in(account)
    other = make_account(server.runtime)
    theirs.sign_in(other)

    assert mine.get(f"/dashboard/requests/{rid}").status == 200
    assert mine.get(f"/dashboard/requests/{rid}/pages/0/1").headers["content-type"] == "image/png"
    assert mine.get(f"/dashboard/requests/{rid}/pdf").status == 200
    listed = theirs.get("/dashboard/requests")
    assert listed.status == 200 and "Private deal" not in listed.text and rid not in listed.text
    for path in (
        f"/dashboard/requests/{rid}",
        f"/dashboard/requests/{rid}/pages/0/1",
        f"/dashboard/requests/{rid}/pdf",
    ):
        reply = theirs.get(path)
        assert reply.status == 404, path
        assert "Private deal" not in reply.text
    assert theirs.get("/dashboard/requests/" + "0" * 40).status == 404
    assert mine.get(f"/dashboard/requests/{rid}/pages/0/99").status == 404
    signed_out = Client(server.url).get(f"/dashboard/requests/{rid}")
    assert signed_out.status == 303 and signed_out.headers["location"].startswith("/login")


@pytest.mark.parametrize("state", LISTED)
def test_the_state_filter_and_the_state_shown_agree(server: Server, account: AccountInfo, state: str) -> None:
    """Each state as the list filters it (SQL) is the state the pages show (Python), for a request put in it."""
    sr = create(server, account, fields=SIG, signers=[("Jack Doe", "jack@example.com")], title=f"In {state}")
    rid = sr["signature_request_id"]
    changes: dict[str, dict[str, Any]] = {
        "processing": {"files_state": FilesState.PROCESSING},
        "awaiting_signature": {},
        "complete": {"is_complete": True},
        "declined": {"is_declined": True},
        "expired": {"is_expired": True},
        "error": {"has_error": True, "files_state": FilesState.ERROR},
        "canceled": {"cancel_requested_at": utcnow()},
    }
    with server.runtime.unit_of_work() as session:
        row = repository.by_public_id(session, rid)
        assert row is not None
        for name, value in changes[state].items():
            setattr(row, name, value)
    with server.runtime.unit_of_work(write=False) as session:
        row = repository.by_public_id(session, rid)
        assert row is not None and state_of(row) == state
        owner = row.account
        found, total = browse.list_page(session, owner, browse.Filters(state=state), 1, 10)
        assert [r.signature_request_id for r in found] == [rid] and total == 1
        counts = browse.counts(session, owner)
        assert counts[RequestState(state)] == 1 and sum(counts.values()) == 1
