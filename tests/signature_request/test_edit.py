"""Edits through the official SDK, on SQLite and PostgreSQL: edit, edit_embedded, edit_with_template and
edit_embedded_with_template replace a request's documents, signers and options under the same id; the new
version is sent as a new request is (its signature_request_sent, its signers' mail or sign URLs) and the old
version's sign URLs stop working. A request signed by someone, canceled, or edited through the other embedded
flavour is refused with Dropbox Sign's 400 envelope (error_name ``bad_request``)."""

from __future__ import annotations

import io
import json
from typing import Any

import dropbox_sign
import pypdf
import pytest
from dropbox_sign import models

from tests.client import wait_until
from tests.conftest import AccountInfo, Inbox, Server
from tests.receiver import Receiver
from tests.signature_request.helpers import listen, make_pdf, new_app, signer
from tests.signing.helpers import action, page, sign_url, token_of
from tests.template.helpers import ready_template

PARENT = {"parent_url": "http://example.com/", "skip_domain_verification": "1"}


@pytest.fixture
def settings_overrides(inbox: Inbox) -> dict[str, Any]:
    return {"smtp_url": f"smtp://{inbox.host}:{inbox.port}"}


def api(sdk: Any) -> Any:
    return dropbox_sign.SignatureRequestApi(sdk)


def sig(api_id: str, who: int) -> Any:
    return models.SubFormFieldsPerDocumentSignature(
        document_index=0, api_id=api_id, type="signature", x=72, y=300 + 60 * who, width=180, height=40,
        required=True, signer=who, page=1,
    )  # fmt: skip


def sent_to(receiver: Receiver, rid: str, email: str) -> dict[str, Any]:
    """The ``signature_request_sent`` of request ``rid`` whose first signer is ``email`` (a version of it)."""

    def find() -> dict[str, Any] | None:
        for r in list(receiver.received):
            sr = r.payload.get("signature_request") or {}
            if (
                r.payload["event"]["event_type"] == "signature_request_sent"
                and sr.get("signature_request_id") == rid
                and sr["signatures"][0]["signer_email_address"] == email
            ):
                return sr
        return None

    found: dict[str, Any] = wait_until(find, timeout=60)
    return found


def text_of(sdk: Any, rid: str) -> str:
    return "\n".join(
        p.extract_text() for p in pypdf.PdfReader(io.BytesIO(api(sdk).signature_request_files(rid).read())).pages
    )


def refused(call: Any) -> tuple[int, str, str]:
    with pytest.raises(dropbox_sign.ApiException) as exc:
        call()
    err = json.loads(exc.value.body)["error"]
    return int(exc.value.status), err["error_name"], err["error_msg"]


def test_edits_replace_a_request_and_its_sign_urls_and_refuse_a_signed_or_canceled_one(
    server: Server, sdk: Any, account: AccountInfo, receiver: Receiver, inbox: Inbox
) -> None:
    listen(sdk, receiver)
    client_id = new_app(sdk)
    tid = ready_template(sdk, receiver)
    two = [signer("Jack", "jack@example.com"), signer("Jill", "jill@example.com")]
    created = api(sdk).signature_request_create_embedded(
        models.SignatureRequestCreateEmbeddedRequest(
            client_id=client_id, files=[make_pdf([["Version one"]])], signers=two,
            form_fields_per_document=[sig("a", 0), sig("b", 1)], test_mode=True, title="v1",
        )
    ).signature_request  # fmt: skip
    rid = created.signature_request_id
    old = sent_to(receiver, rid, "jack@example.com")
    old_url = sign_url(server, account, old["signatures"][0]["signature_id"])
    assert page(server, old_url, client_id=client_id, **PARENT).status == 200

    # edit_embedded: new documents, signers and title under the same id; the old sign URL no longer opens.
    edited = api(sdk).signature_request_edit_embedded(
        rid,
        models.SignatureRequestEditEmbeddedRequest(
            client_id=client_id, files=[make_pdf([["Version two"]])],
            signers=[signer("Ann", "ann@example.com"), signer("Bob", "bob@example.com")],
            form_fields_per_document=[sig("a", 0), sig("b", 1)], test_mode=True, title="v2",
        ),
    ).signature_request  # fmt: skip
    assert edited.signature_request_id == rid and edited.title == "v2"
    assert [s.signer_email_address for s in edited.signatures] == ["ann@example.com", "bob@example.com"]
    new = sent_to(receiver, rid, "ann@example.com")
    assert page(server, old_url, client_id=client_id, **PARENT).status in (404, 410)
    assert {s["signature_id"] for s in new["signatures"]}.isdisjoint(s["signature_id"] for s in old["signatures"])
    assert "Version two" in text_of(sdk, rid)
    assert api(sdk).signature_request_get(rid).signature_request.created_at == created.created_at

    # edit_embedded_with_template: the same request, now from the template (signers by role).
    by_role = [
        models.SubSignatureRequestTemplateSigner(role="Client", name="Cat", email_address="cat@example.com"),
        models.SubSignatureRequestTemplateSigner(role="Manager", name="Max", email_address="max@example.com"),
    ]
    api(sdk).signature_request_edit_embedded_with_template(
        rid,
        models.SignatureRequestEditEmbeddedWithTemplateRequest(
            client_id=client_id, template_ids=[tid], signers=by_role, test_mode=True
        ),
    )
    cat = sent_to(receiver, rid, "cat@example.com")
    assert cat["template_ids"] == [tid]
    url = sign_url(server, account, cat["signatures"][0]["signature_id"])
    assert page(server, url, client_id=client_id, **PARENT).status == 200
    submit = {"token": token_of(url), "values": {"sig_client": True}, "signature": {"method": "type", "text": "Cat"}}
    assert action(server, cat["signatures"][0]["signature_id"], "submit", submit) == (
        200,
        {"ok": True, "complete": False},
    )
    # Signed by someone: no more edits.
    again = models.SignatureRequestEditEmbeddedRequest(
        client_id=client_id, files=[make_pdf()], signers=[signer()], test_mode=True
    )
    assert refused(lambda: api(sdk).signature_request_edit_embedded(rid, again)) == (
        400, "bad_request", "This signature request cannot be edited: a signer has signed it.",
    )  # fmt: skip

    # edit and edit_with_template: mailed requests; each version's signers are mailed.
    rid2 = (
        api(sdk)
        .signature_request_send(
            models.SignatureRequestSendRequest(files=[make_pdf()], signers=[signer()], test_mode=True)
        )
        .signature_request.signature_request_id
    )
    sent_to(receiver, rid2, "jack@example.com")
    api(sdk).signature_request_edit(
        rid2,
        models.SignatureRequestEditRequest(
            files=[make_pdf([["Version three"]])], signers=[signer("Zed", "zed@example.com")], test_mode=True
        ),
    )
    sent_to(receiver, rid2, "zed@example.com")
    wait_until(lambda: inbox.to("zed@example.com"), timeout=30)
    api(sdk).signature_request_edit_with_template(
        rid2,
        models.SignatureRequestEditWithTemplateRequest(
            template_ids=[tid],
            signers=[
                models.SubSignatureRequestTemplateSigner(role="Client", name="Uma", email_address="uma@example.com"),
                models.SubSignatureRequestTemplateSigner(role="Manager", name="Max", email_address="max@example.com"),
            ],
            test_mode=True,
        ),
    )
    assert sent_to(receiver, rid2, "uma@example.com")["template_ids"] == [tid]
    wait_until(lambda: inbox.to("uma@example.com"), timeout=30)

    # The other flavour, a canceled request, an unknown one.
    plain = models.SignatureRequestEditRequest(files=[make_pdf()], signers=[signer()], test_mode=True)
    assert refused(lambda: api(sdk).signature_request_edit_embedded(rid2, again)) == (
        400, "bad_request", "This signature request is not embedded: use edit.",
    )  # fmt: skip
    api(sdk).signature_request_cancel(rid2)
    assert refused(lambda: api(sdk).signature_request_edit(rid2, plain)) == (
        400, "bad_request", "This signature request cannot be edited: it was canceled.",
    )  # fmt: skip
    assert refused(lambda: api(sdk).signature_request_edit("0" * 40, plain))[:2] == (404, "not_found")
