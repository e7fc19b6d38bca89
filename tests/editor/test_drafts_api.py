"""Unclaimed drafts and template drafts through the official SDK, with the editor's submit as its page posts
it: claim URLs, server-side checks of the layout, the request sent (or held), edit_and_resend, templates."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

import dropbox_sign
import pytest
import sqlalchemy as sa
from dropbox_sign import models

from paraph.models import EditorToken
from tests.client import request, wait_until
from tests.conftest import Server
from tests.editor.helpers import (
    TWO_PAGES,
    create_embedded_draft,
    draft_from_templates,
    draft_signer,
    open_claim,
    query_of,
    request_fields,
    sig,
    submit,
    text,
    wait_ready,
)
from tests.receiver import Receiver
from tests.signature_request.helpers import listen, make_pdf, new_app, wait_event
from tests.template.helpers import role, wait_template_event

TAGGED = make_pdf([["Tenant: [sig|req|signer1]"]])


def _send_path(claim_url: str) -> str:
    return f"/editor/claim/{query_of(claim_url)['draft_id']}/send"


def test_embedded_requesting_sends_the_laid_out_request_once(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    client_id = new_app(sdk)
    draft = create_embedded_draft(sdk, client_id, subject="Lease", is_for_embedded_signing=True)
    parts = urlsplit(draft.claim_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{server.url}/editor/claim"
    assert draft.test_mode is True and len(draft.signature_request_id) == 40
    wait_ready(server, draft.claim_url, client_id)
    token = query_of(draft.claim_url)["token"]
    path = _send_path(draft.claim_url)

    # Outside the embedding app's domains (not skipped): refused with the reason, framing limited to the app.
    page = open_claim(server, draft.claim_url, client_id, skip_domain_verification="0", parent_url="http://evil.test/")
    assert page.status == 403 and b"not one of the API app" in page.data
    assert open_claim(server, draft.claim_url, "0" * 32).status == 403
    ok = open_claim(server, draft.claim_url, client_id)
    assert "frame-ancestors *" in ok.headers["Content-Security-Policy"]
    assert b'data-testid="editor-submit"' in ok.data

    # Server-side checks name the field at fault; the token still works afterwards.
    status, body = submit(server, path, token, {"fields": [text(), sig(x=9000)]})
    assert status == 400 and body["fields"].keys() == {"1"} and "outside page" in body["fields"]["1"]
    assert body["error"]["error_path"] == "fields[1]"
    status, body = submit(server, path, token, {"fields": [sig(signer=3)]})
    assert status == 400 and "0" in body["fields"]
    assert submit(server, path, "f" * 32, {"fields": [sig()]})[0] == 404
    status, body = submit(server, path, token, {"fields": [sig(api_id="a\u0000b")]})
    assert status == 400 and "0" in body["fields"]

    radios = [
        {
            **sig(x=72 + 40 * i, y=200),
            "type": "radio",
            "width": 14,
            "height": 14,
            "group": "plan",
            "api_id": f"plan_{i}",
        }
        for i in range(2)
    ]
    layout = {"fields": [text(api_id="tenant_name"), sig(page=2, api_id="tenant_sig"), *radios]}
    status, body = submit(server, path, token, {**layout, "groups": [{"group_id": "plan", "requirement": "any"}]})
    assert status == 400 and "requirement" in body["error"]["error_msg"]
    status, body = submit(server, path, token, {**layout, "groups": [{"group_id": "plan", "requirement": "require_1"}]})
    assert status == 200 and body == {"signatureRequestId": draft.signature_request_id}
    sent = wait_event(receiver, "signature_request_sent", draft.signature_request_id)["signature_request"]
    assert sent["subject"] == "Lease" and sent["signatures"][0]["status_code"] == "awaiting_signature"
    signature_id = sent["signatures"][0]["signature_id"]
    assert dropbox_sign.EmbeddedApi(sdk).embedded_sign_url(signature_id).embedded.sign_url
    fields = dropbox_sign.SignatureRequestApi(sdk).signature_request_get(draft.signature_request_id)
    assert fields.signature_request.is_complete is False
    # The claim URL is claimed once.
    assert submit(server, path, token, {"fields": [sig()]})[0] == 410
    assert open_claim(server, draft.claim_url, client_id).status == 410


def test_hold_release_and_edit_and_resend(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    client_id = new_app(sdk)
    draft = create_embedded_draft(sdk, client_id, hold_request=True, signers=[], files=[TAGGED], use_text_tags=True)
    wait_ready(server, draft.claim_url, client_id)
    page = open_claim(server, draft.claim_url, client_id)  # text tags come already placed
    assert b'"type":"signature"' in page.data and b'"editSigners":true' in page.data
    token = query_of(draft.claim_url)["token"]
    body = {"fields": [sig()], "signers": [{"name": "Jill", "email_address": "not-an-email"}]}
    status, answer = submit(server, _send_path(draft.claim_url), token, body)
    assert status == 400 and "signers[0]" in answer["fields"]
    body["signers"] = [{"name": "Jill", "email_address": "jill@example.com"}]
    assert submit(server, _send_path(draft.claim_url), token, body)[0] == 200
    rid = draft.signature_request_id
    held = wait_event(receiver, "signature_request_sent", rid)["signature_request"]
    assert [s["status_code"] for s in held["signatures"]] == ["on_hold_by_requester"]
    api = dropbox_sign.SignatureRequestApi(sdk)
    released = api.signature_request_release_hold(rid).signature_request
    assert released.signatures[0].status_code == "awaiting_signature"

    again = (
        dropbox_sign.UnclaimedDraftApi(sdk)
        .unclaimed_draft_edit_and_resend(
            rid, models.UnclaimedDraftEditAndResendRequest(client_id=client_id, test_mode=True)
        )
        .unclaimed_draft
    )
    assert again.signature_request_id != rid and again.claim_url
    page = open_claim(server, again.claim_url, client_id)
    assert page.status == 200 and b"jill@example.com" in page.data
    token = query_of(again.claim_url)["token"]
    status, _ = submit(server, _send_path(again.claim_url), token, {"fields": [sig(y=500)], "signers": []})
    assert status == 200
    wait_event(receiver, "signature_request_sent", again.signature_request_id)
    wait_event(receiver, "signature_request_canceled", rid)


def test_a_non_embedded_claim_url_opens_in_the_dashboard_only(server: Server, sdk: Any) -> None:
    draft = (
        dropbox_sign.UnclaimedDraftApi(sdk)
        .unclaimed_draft_create(
            models.UnclaimedDraftCreateRequest(
                type="request_signature", files=[TWO_PAGES], signers=[draft_signer()], test_mode=True
            )
        )
        .unclaimed_draft
    )
    parts = urlsplit(draft.claim_url)
    answer = request(server.url, "GET", f"{parts.path}?{parts.query}", redirect=False)
    assert answer.status == 303 and answer.headers["Location"].startswith("/login?next=")
    with pytest.raises(dropbox_sign.ApiException) as err:
        dropbox_sign.UnclaimedDraftApi(sdk).unclaimed_draft_create_embedded(
            models.UnclaimedDraftCreateEmbeddedRequest(
                client_id="0" * 32, requester_email_address="a@example.com", files=[TWO_PAGES]
            )
        )
    assert err.value.status == 400 and json.loads(err.value.body)["error"]["error_path"] == "client_id"

    # Past PARAPH_EDIT_URL_TTL_MINUTES a claim URL no longer opens.
    with server.runtime.unit_of_work() as session:
        session.execute(sa.update(EditorToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    answer = request(server.url, "GET", f"{parts.path}?{parts.query}", redirect=False)
    assert answer.status == 410 and b"expired" in answer.data


def test_embedded_template_drafts_and_edit_urls(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    client_id = new_app(sdk)
    templates = dropbox_sign.TemplateApi(sdk)
    created = templates.template_create_embedded_draft(
        models.TemplateCreateEmbeddedDraftRequest(
            client_id=client_id,
            files=[TWO_PAGES],
            signer_roles=[role("Client"), role("Witness")],
            merge_fields=[models.SubMergeField(name="Price", type="text")],
            title="Lease template",
            test_mode=True,
        )
    ).template
    tid = created.template_id
    assert urlsplit(created.edit_url).path == "/editor/template" and created.expires_at
    token = query_of(created.edit_url)["token"]
    path = f"/editor/template/{tid}/save"
    with pytest.raises(dropbox_sign.ApiException):  # a draft is listed nowhere until it is saved
        templates.template_get(tid)
    wait_until(lambda: open_claim(server, created.edit_url, client_id).status == 200)
    status, body = submit(server, path, token, {"fields": [sig(signer="Nobody")]})
    assert status == 400 and "0" in body["fields"]
    status, body = submit(server, path, token, {"fields": [sig(signer="Client"), text(signer="me_now", content="x")]})
    assert status == 400 and body["fields"] == {"1": "A template's fields are its roles': choose a role."}
    layout = {
        "fields": [
            sig(signer="Client", api_id="client_sig"),
            text(signer="Witness", api_id="witness_name"),
            {
                **text(signer="sender", y=140),
                "type": "text-merge",
                "name": "Price",
                "api_id": "price",
                "required": False,
            },
        ]
    }
    status, body = submit(server, path, token, layout)
    assert status == 200 and body["templateId"] == tid
    event = wait_template_event(receiver, "template_created", tid)
    assert event["template"]["template_id"] == tid
    got = templates.template_get(tid).template
    assert [r.name for r in got.signer_roles] == ["Client", "Witness"]
    assert submit(server, path, token, layout)[0] == 410

    # A draft from the template: its documents and fields, signers by role, merge fields filled on sending.
    draft = draft_from_templates(
        sdk,
        client_id,
        [tid],
        signers=[models.SubUnclaimedDraftTemplateSigner(role="Client", name="Jack", email_address="j@example.com")],
        custom_fields=[models.SubCustomField(name="Price", value="1200")],
    )
    page = open_claim(server, draft.claim_url, client_id)
    assert page.status == 200 and b'"api_id":"client_sig"' in page.data and b'"signer":1' in page.data
    laid_out = [sig(signer=0, api_id="client_sig"), text(signer=1, api_id="witness_name"), layout["fields"][2]]
    witness = {"name": "Will", "email_address": "will@example.com"}
    status, body = submit(
        server,
        _send_path(draft.claim_url),
        query_of(draft.claim_url)["token"],
        {"fields": laid_out, "signers": [{"name": "Jack", "email_address": "j@example.com"}, witness]},
    )
    assert status == 200, body
    sent = wait_event(receiver, "signature_request_sent", draft.signature_request_id)["signature_request"]
    assert [s["signer_email_address"] for s in sent["signatures"]] == ["j@example.com", "will@example.com"]
    assert [(c["name"], c["value"]) for c in sent["custom_fields"]] == [("Price", "1200")]

    # Files appended to the templates' documents, as send_with_template appends them: processed first (their
    # text tags read and placed for the template's role), the template's pages reused as they are.
    extra = draft_from_templates(sdk, client_id, [tid], files=[TAGGED])
    wait_ready(server, extra.claim_url, client_id)
    data = open_claim(server, extra.claim_url, client_id).data
    assert b'"document":1,"page":1' in data  # the appended file's page, after the template's
    assert b'"document_index":1,"page":1' in data  # its text tag, placed
    status, body = submit(
        server,
        _send_path(extra.claim_url),
        query_of(extra.claim_url)["token"],
        {
            "fields": [*laid_out, sig(signer=0, api_id="extra_sig", document_index=1, y=300)],
            "signers": [{"name": "Jack", "email_address": "j@example.com"}, witness],
        },
    )
    assert status == 200, body
    done = wait_event(receiver, "signature_request_sent", extra.signature_request_id)["signature_request"]
    got = dropbox_sign.SignatureRequestApi(sdk).signature_request_files_as_data_uri(extra.signature_request_id)
    assert done["title"] == "Lease template" and got.data_uri.startswith("data:application/pdf")
    with pytest.raises(dropbox_sign.ApiException) as err:
        draft_from_templates(sdk, client_id, [tid], files=[TAGGED], file_urls=["https://example.com/a.pdf"])
    assert err.value.status == 400 and json.loads(err.value.body)["error"]["error_path"] == "file_urls"

    # An edit URL for the saved template, preview only: the page opens, saving is refused.
    url = (
        dropbox_sign.EmbeddedApi(sdk)
        .embedded_edit_url(
            tid,
            models.EmbeddedEditUrlRequest(
                preview_only=True,
                cc_roles=["Agent"],
                merge_fields=[models.SubMergeField(name="Deposit", type="text")],
                test_mode=True,
            ),
        )
        .embedded.edit_url
    )
    preview = open_claim(server, url, client_id)
    assert preview.status == 200 and b'"mergeFields":["Price","Deposit"]' in preview.data
    assert b'"readOnly":true' in preview.data
    status, body = submit(server, path, query_of(url)["token"], layout)
    assert status == 403
    with pytest.raises(dropbox_sign.ApiException) as err:
        dropbox_sign.EmbeddedApi(sdk).embedded_edit_url("f" * 40, models.EmbeddedEditUrlRequest())
    assert err.value.status == 404


def _field_ids(server: Server, rid: str) -> list[tuple[str, str, str, Any]]:
    return [(f["api_id"], f["type"], f["signer"], f["value"]) for f in request_fields(server, rid)]


def test_draft_parameters_take_effect(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    client_id = new_app(sdk)
    done, signed = "https://example.com/requested", "https://example.com/signed"

    # skip_me_now, force_signer_page, force_subject_message, requesting_redirect_url: what the page is given.
    strict = create_embedded_draft(
        sdk,
        client_id,
        skip_me_now=True,
        force_signer_page=True,
        force_subject_message=True,
        requesting_redirect_url=done,
    )
    wait_ready(server, strict.claim_url, client_id)
    page = open_claim(server, strict.claim_url, client_id).data
    assert b'"editSigners":true' in page and b'"meNow":false' in page and b'"forceSubject":true' in page
    assert f'"redirectUrl":"{done}"'.encode() in page and b'data-testid="editor-message-section" open' in page
    me = {**text(api_id="my_ref"), "signer": "me_now", "content": "REF-1"}
    jack = {"name": "Jack", "email_address": "jack@example.com"}
    status, body = submit(
        server, _send_path(strict.claim_url), query_of(strict.claim_url)["token"], {"fields": [me], "signers": [jack]}
    )
    assert status == 400 and "skip_me_now" in body["fields"]["0"] and body["error"]["error_path"] == "fields[0]"

    # By default "Me (now)" fills text now; it never signs: a signature for it is refused beside the field.
    draft = create_embedded_draft(sdk, client_id, signing_redirect_url=signed)
    wait_ready(server, draft.claim_url, client_id)
    page = open_claim(server, draft.claim_url, client_id).data
    assert b'"editSigners":false' in page and b'"meNow":true' in page and b'"forceSubject":false' in page
    path, token = _send_path(draft.claim_url), query_of(draft.claim_url)["token"]
    status, body = submit(server, path, token, {"fields": [sig(), sig(signer="me_now", y=300, api_id="mine")]})
    assert status == 400 and body["fields"] == {
        "1": "Me (now) has no signature to give: a signature field must be a signer's."
    }
    status, body = submit(server, path, token, {"fields": [sig(), {**me, "content": ""}]})
    assert status == 400 and "Fill in this field now" in body["fields"]["1"]
    status, body = submit(server, path, token, {"fields": [sig(api_id="their_sig"), me]})
    assert status == 200, body
    wait_event(receiver, "signature_request_sent", draft.signature_request_id)
    got = dropbox_sign.SignatureRequestApi(sdk).signature_request_get(draft.signature_request_id).signature_request
    assert got.signing_redirect_url == signed
    assert _field_ids(server, draft.signature_request_id) == [
        ("their_sig", "signature", "0", None),
        ("my_ref", "text", "me_now", "REF-1"),  # filled by the requester, in the request as sent
    ]

    # unclaimed_draft/create of type request_signature names its signers (the spec: not optional).
    with pytest.raises(dropbox_sign.ApiException) as err:
        dropbox_sign.UnclaimedDraftApi(sdk).unclaimed_draft_create(
            models.UnclaimedDraftCreateRequest(type="request_signature", files=[TWO_PAGES], test_mode=True)
        )
    assert err.value.status == 400 and json.loads(err.value.body)["error"]["error_path"] == "signers"

    # preview_only, on a draft from a template: whatever layout comes back, the template's fields are sent.
    created = (
        dropbox_sign.TemplateApi(sdk)
        .template_create_embedded_draft(
            models.TemplateCreateEmbeddedDraftRequest(
                client_id=client_id, files=[TWO_PAGES], signer_roles=[role("Client")], test_mode=True
            )
        )
        .template
    )
    wait_until(lambda: open_claim(server, created.edit_url, client_id).status == 200)
    layout = {"fields": [sig(signer="Client", api_id="client_sig")]}
    path = f"/editor/template/{created.template_id}/save"
    assert submit(server, path, query_of(created.edit_url)["token"], layout)[0] == 200
    draft = draft_from_templates(
        sdk,
        client_id,
        [created.template_id],
        signers=[models.SubUnclaimedDraftTemplateSigner(role="Client", name="Jack", email_address="j@example.com")],
        preview_only=True,
    )
    page = open_claim(server, draft.claim_url, client_id).data
    assert b'"previewOnly":true' in page and b'"readOnly":false' in page
    status, body = submit(
        server, _send_path(draft.claim_url), query_of(draft.claim_url)["token"], {"fields": [text(api_id="added")]}
    )
    assert status == 200, body
    wait_event(receiver, "signature_request_sent", draft.signature_request_id)
    assert _field_ids(server, draft.signature_request_id) == [("client_sig", "signature", "0", None)]
