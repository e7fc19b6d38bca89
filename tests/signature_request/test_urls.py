"""The URLs a request's API response hands out (details_url, signing_url, files_url, and the embedded
sign_url): each one answers, and none opens the document to someone without credentials."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import dropbox_sign
import urllib3

from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.signature_request.helpers import create_embedded, listen, make_pdf, new_app, send, signer, wait_event

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
