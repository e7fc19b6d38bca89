"""The URLs a request's API response hands out (details_url, signing_url, files_url, and the embedded
sign_url): each one answers, and none opens the document to someone without credentials."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import dropbox_sign
import urllib3

from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.receiver import Receiver
from tests.signature_request.helpers import create_embedded, listen, make_pdf, new_app, send, signer, wait_event
from tests.signing.helpers import action
from tests.web.helpers import Client

TAGGED = make_pdf([["[sig|req|signer1]"]])


def get(url: str, **kw: Any) -> urllib3.BaseHTTPResponse:
    return urllib3.request("GET", url, redirect=False, retries=False, timeout=30, **kw)


def answers(url: str, **kw: Any) -> urllib3.BaseHTTPResponse:
    resp = get(url, **kw)
    assert resp.status != 404 and resp.status < 500, (url, resp.status)
    return resp


def test_it_hands_out_urls_that_answer(server: Server, sdk: Any, account: AccountInfo, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sent = send(sdk, files=[TAGGED], use_text_tags=True).signature_request
    client_id = new_app(sdk)
    embedded = create_embedded(sdk, client_id, files=[TAGGED], use_text_tags=True).signature_request
    for sr in (sent, embedded):
        wait_event(receiver, "signature_request_sent", sr.signature_request_id)
    sign_url = dropbox_sign.EmbeddedApi(sdk).embedded_sign_url(embedded.signatures[0].signature_id).embedded.sign_url
    api = dropbox_sign.SignatureRequestApi(sdk)
    auth = urllib3.make_headers(basic_auth=f"{account.api_key}:")
    for sr in (api.signature_request_get(sent.signature_request_id).signature_request, embedded):
        rid = sr.signature_request_id
        details = answers(sr.details_url)
        assert details.status == 303 and details.headers["location"].startswith("/login?next=")
        assert urlsplit(sr.details_url).path == f"/dashboard/requests/{rid}"
        assert answers(sr.files_url, headers=auth).status == 200
        if sr.signing_url is not None:
            answers(sr.signing_url)
    # As hellosign-embedded opens it: in an iFrame on one of the app's domains.
    opened = answers(sign_url + "&" + urlencode({"client_id": client_id, "parent_url": "https://example.com/app"}))
    assert opened.status == 200


def test_it_redirects_the_details_url_it_used_to_hand_out(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    rid = send(sdk, files=[make_pdf()], signers=[signer()]).signature_request.signature_request_id
    wait_event(receiver, "signature_request_sent", rid)
    resp = get(f"{server.url}/dashboard/signature_requests/{rid}")
    assert resp.status == 301
    assert resp.headers["location"] == f"/dashboard/requests/{rid}"
    assert get(f"{server.url}/dashboard/signature_requests/not-an-id").status == 404


def test_it_fills_signing_url_for_mailed_requests_only(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    api = dropbox_sign.SignatureRequestApi(sdk)
    sent = send(sdk, files=[TAGGED], use_text_tags=True).signature_request
    rid = sent.signature_request_id
    assert sent.signing_url == f"{server.url}/sign/request/{rid}"
    assert wait_event(receiver, "signature_request_sent", rid)["signature_request"]["signing_url"] == sent.signing_url
    assert api.signature_request_get(rid).signature_request.signing_url == sent.signing_url
    listed = api.signature_request_list().signature_requests
    assert [sr.signing_url for sr in listed] == [sent.signing_url]
    embedded = create_embedded(sdk, new_app(sdk), files=[TAGGED], use_text_tags=True).signature_request
    assert embedded.signing_url is None  # signed through embedded/sign_url, as in Dropbox Sign's examples
    api.signature_request_cancel(rid)
    canceled = wait_event(receiver, "signature_request_canceled", rid)["signature_request"]
    assert canceled["signing_url"] is None  # nobody can sign any more


def test_it_signing_url_shows_nothing_and_allows_nothing_without_the_signers_credentials(
    server: Server, sdk: Any, account: AccountInfo, receiver: Receiver
) -> None:
    listen(sdk, receiver)
    sent = send(sdk, files=[TAGGED], use_text_tags=True, title="Secret merger", signers=[signer()])
    sr = sent.signature_request
    wait_event(receiver, "signature_request_sent", sr.signature_request_id)
    sid = sr.signatures[0].signature_id
    path = urlsplit(sr.signing_url).path

    def shows_nothing(page: str) -> None:
        assert "state-signin" in page
        for secret in ("Secret merger", sid, "jack@example.com", "token=", "/page/"):
            assert secret not in page

    anonymous = Client(server.url).get(path)
    assert anonymous.status == 200
    shows_nothing(anonymous.text)
    assert f'href="/login?next={quote(path, safe="")}"' in anonymous.text
    requester = Client(server.url)
    requester.sign_in(account)  # the requester is not a signer: no signer's page for them either
    shows_nothing(requester.get(path).text)
    # The signer's page itself still wants the mailed token, and so does signing.
    assert Client(server.url).get(f"/sign/{sid}").status == 404
    status, body = action(server, sid, "decline", {"token": "", "reason": "no"})
    assert status == 404 and body["error"]["state"] == "invalid"

    signer_account = make_account(server.runtime, email="jack@example.com")
    jack = Client(server.url)
    form = jack.get(f"/login?next={quote(path, safe='')}")
    signed_in = jack.post(
        "/login",
        {"csrf_token": form.csrf, "email": signer_account.email, "password": signer_account.password, "next": path},
    )
    assert signed_in.headers["location"] == path
    opened = jack.get(path)
    assert opened.status == 303
    link = urlsplit(opened.headers["location"])
    assert link.path == f"/sign/{sid}" and "token=" in link.query
    page = jack.get(f"{link.path}?{link.query}")
    assert page.status == 200 and "state-ready" in page.text
