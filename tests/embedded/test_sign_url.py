"""GET /embedded/sign_url/{signature_id}: a URL on PARAPH_BASE_URL with a single-use, expiring token."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dropbox_sign
import pytest
from dropbox_sign import models

from paraph.scope import Scope
from paraph.signing.access import redeem_sign_url
from tests.conftest import Server
from tests.receiver import Receiver
from tests.signature_request.helpers import (
    create_embedded,
    listen,
    make_pdf,
    new_app,
    send_and_wait,
    signer,
    wait_event,
)

TAGGED = make_pdf([["[sig|req|signer1]   [sig|req|signer2]"]])


def sign_url(sdk: Any, signature_id: str) -> Any:
    return dropbox_sign.EmbeddedApi(sdk).embedded_sign_url(signature_id).embedded


def error_of(err: pytest.ExceptionInfo[dropbox_sign.ApiException]) -> tuple[int, str]:
    return err.value.status, json.loads(err.value.body)["error"]["error_name"]


def embedded_request(sdk: Any, receiver: Receiver, **kw: Any) -> Any:
    listen(sdk, receiver)
    kw.setdefault("signers", [signer(), signer("Jill", "jill@example.com")])
    created = create_embedded(sdk, new_app(sdk), files=[TAGGED], use_text_tags=True, **kw).signature_request
    wait_event(receiver, "signature_request_sent", created.signature_request_id)
    return created


def redeem(server: Server, signature_id: str, token: str) -> str | None:
    with server.runtime.unit_of_work() as session:
        return redeem_sign_url(Scope.of(session, server.runtime), signature_id, token).problem


def test_it_hands_out_single_use_expiring_sign_urls(server: Server, sdk: Any, receiver: Receiver) -> None:
    sr = embedded_request(sdk, receiver)
    signature_id = sr.signatures[1].signature_id
    before = int(time.time())
    embedded = sign_url(sdk, signature_id)
    parts = urlsplit(embedded.sign_url)
    assert f"{parts.scheme}://{parts.netloc}" == server.url
    assert parts.path == "/editor/embeddedSign"
    query = parse_qs(parts.query)
    assert query["signature_id"] == [signature_id]
    assert len(query["token"][0]) == 32
    assert before + 3600 - 5 <= embedded.expires_at <= int(time.time()) + 3600 + 5
    assert redeem(server, signature_id, query["token"][0]) is None
    assert "already been used" in (redeem(server, signature_id, query["token"][0]) or "")
    payload = wait_event(receiver, "sign_url_invalid", sr.signature_request_id)
    assert payload["event"]["event_metadata"]["related_signature_id"] == signature_id
    assert redeem(server, sr.signatures[0].signature_id, query["token"][0]) == "This signing link is not valid."


def test_it_refuses_requests_that_are_not_embedded(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    sr = send_and_wait(sdk, receiver, files=[make_pdf()])
    with pytest.raises(dropbox_sign.ApiException) as err:
        sign_url(sdk, sr.signatures[0].signature_id)
    assert error_of(err) == (400, "bad_request")
    with pytest.raises(dropbox_sign.ApiException) as err:
        sign_url(sdk, "0" * 32)
    assert error_of(err) == (404, "not_found")


def test_it_answers_410_once_canceled(sdk: Any, receiver: Receiver) -> None:
    sr = embedded_request(sdk, receiver)
    dropbox_sign.SignatureRequestApi(sdk).signature_request_cancel(sr.signature_request_id)
    with pytest.raises(dropbox_sign.ApiException) as err:
        sign_url(sdk, sr.signatures[0].signature_id)
    assert error_of(err) == (410, "deleted")


def test_it_invalidates_sign_urls_when_the_signer_changes(server: Server, sdk: Any, receiver: Receiver) -> None:
    sr = embedded_request(sdk, receiver)
    old = sr.signatures[0].signature_id
    token = parse_qs(urlsplit(sign_url(sdk, old).sign_url).query)["token"][0]
    updated = dropbox_sign.SignatureRequestApi(sdk).signature_request_update(
        sr.signature_request_id, models.SignatureRequestUpdateRequest(signature_id=old, email_address="new@example.com")
    )
    new_id = updated.signature_request.signatures[0].signature_id
    assert redeem(server, new_id, token) == "This signing link is not valid."
    assert sign_url(sdk, new_id).sign_url
