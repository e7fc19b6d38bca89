"""Sending from templates through the official SDK, on SQLite and PostgreSQL: signers and CCs by role, merge
fields filled from custom_fields (and stamped into the final PDF), templates combined in order, extra files
appended, the template's processed files reused, and Dropbox Sign's 400/404 envelopes for bad sends."""

from __future__ import annotations

import io
import json
from typing import Any

import dropbox_sign
import pypdf
import pytest
import sqlalchemy as sa
from dropbox_sign import models
from sqlalchemy.orm import Session

from paraph.models import RequestField, SignatureRequest
from paraph.signature_request import repository as requests
from paraph.template import repository as templates
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.receiver import Receiver
from tests.signature_request.helpers import listen, make_pdf, new_app, wait_event
from tests.signing.helpers import action, page, sign_url, token_of
from tests.signing.helpers import wait_event as wait_request_event
from tests.template.helpers import contract_fields, ready_template, role


def request_fields(session: Session, sr: SignatureRequest) -> list[RequestField]:
    """The request's fields, read by a query (relationships load only when asked)."""
    return list(session.scalars(sa.select(RequestField).where(RequestField.signature_request_id == sr.id)))


def sr_api(sdk: Any) -> Any:
    return dropbox_sign.SignatureRequestApi(sdk)


def signer(role_name: str, name: str, email: str) -> Any:
    return models.SubSignatureRequestTemplateSigner(role=role_name, name=name, email_address=email)


SIGNERS = [signer("Client", "Jack", "jack@example.com"), signer("Manager", "Jill", "jill@example.com")]
MERGE = [models.SubMergeField(name="Price", type="text"), models.SubMergeField(name="Rush", type="checkbox")]


def send(sdk: Any, template_ids: list[str], **kw: Any) -> Any:
    kw.setdefault("signers", SIGNERS)
    kw.setdefault("test_mode", True)
    request = models.SignatureRequestSendWithTemplateRequest(template_ids=template_ids, **kw)
    return sr_api(sdk).signature_request_send_with_template(request).signature_request


def error_of(exc: pytest.ExceptionInfo[dropbox_sign.ApiException]) -> tuple[int, str, str | None]:
    err = json.loads(exc.value.body)["error"]
    return int(exc.value.status), err["error_name"], err.get("error_path")


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def test_it_sends_from_a_template_with_signers_and_ccs_by_role_and_merge_values(
    server: Server, sdk: Any, receiver: Receiver
) -> None:
    listen(sdk, receiver)
    tid = ready_template(sdk, receiver, cc_roles=["Lawyer"], merge_fields=MERGE, subject="NDA to sign")
    sr = send(
        sdk,
        [tid],
        ccs=[models.SubCC(role="Lawyer", email_address="lawyer@example.com")],
        custom_fields=[
            models.SubCustomField(name="Price", value="$1,200"),
            models.SubCustomField(name="Rush", value="true"),
        ],
        metadata={"deal": "42"},
    )
    assert sr.template_ids == [tid]
    assert sr.title == "Mutual NDA" and sr.subject == "NDA to sign"
    assert [(s.signer_role, s.signer_email_address) for s in sr.signatures] == [
        ("Client", "jack@example.com"),
        ("Manager", "jill@example.com"),
    ]
    assert [s.order for s in sr.signatures] == [0, 1]
    assert sr.cc_email_addresses == ["lawyer@example.com"]

    wait_event(receiver, "signature_request_sent", sr.signature_request_id)
    got = sr_api(sdk).signature_request_get(sr.signature_request_id).signature_request
    assert {c.name: c.value for c in got.custom_fields} == {"Price": "$1,200", "Rush": True}
    assert got.metadata == {"deal": "42"}

    # The template's processed files are the request's: nothing was processed again.
    with server.runtime.unit_of_work(write=False) as session:
        t = templates.by_public_id(session, tid)
        r = requests.by_public_id(session, sr.signature_request_id)
        assert t is not None and r is not None
        assert [(d.processed_key, d.page_image_keys) for d in r.documents] == [
            (d.processed_key, d.page_image_keys) for d in t.documents
        ]
        fields = request_fields(session, r)
        assert sorted(f.api_id for f in fields) == ["date_manager", "price", "rush", "sig_client"]
        assert {f.api_id: f.signer for f in fields}["date_manager"] == "1"
    pages, text = pdf_text(sr_api(sdk).signature_request_files(sr.signature_request_id).read())
    assert pages == 1 and "Contract" in text


def test_it_combines_templates_in_order_and_appends_extra_files(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    first = ready_template(sdk, receiver, merge_fields=MERGE)
    second_pdf = make_pdf([["Annex page one"], ["Annex page two"]])
    annex_sig = models.SubFormFieldsPerDocumentSignature(
        document_index=0,
        api_id="sig_client",
        type="signature",
        x=72,
        y=300,
        width=150,
        height=30,
        required=True,
        signer=1,
        page=2,
    )
    second = ready_template(
        sdk,
        receiver,
        title="Annex",
        files=[second_pdf],
        signer_roles=[role("Witness"), role("Client")],
        form_fields_per_document=[annex_sig],
    )
    extra = make_pdf([["Side letter [sig|req|signer3]"]])
    sr = send(
        sdk,
        [first, second],
        signers=[*SIGNERS, signer("Witness", "Will", "will@example.com")],
        files=[extra],
    )
    assert sr.template_ids == [first, second]
    assert [s.signer_role for s in sr.signatures] == ["Client", "Manager", "Witness"]
    wait_event(receiver, "signature_request_sent", sr.signature_request_id)
    pages, text = pdf_text(sr_api(sdk).signature_request_files(sr.signature_request_id).read())
    assert pages == 4
    assert text.index("Contract") < text.index("Annex page one") < text.index("Side letter")


@pytest.mark.parametrize(
    ("change", "status", "path"),
    [
        ({"signers": [SIGNERS[0]]}, 400, "signers"),
        ({"signers": [*SIGNERS, signer("Boss", "B", "b@example.com")]}, 400, "signers[2].role"),
        ({"custom_fields": [models.SubCustomField(name="Discount", value="5")]}, 400, "custom_fields[0].name"),
        ({"ccs": []}, 400, "ccs"),
        ({"template_ids": ["0" * 40]}, 404, "template_ids[0]"),
    ],
)
def test_it_refuses_a_bad_send_with_dropbox_signs_envelope(
    sdk: Any, receiver: Receiver, change: dict[str, Any], status: int, path: str
) -> None:
    listen(sdk, receiver)
    tid = ready_template(sdk, receiver, cc_roles=["Lawyer"], merge_fields=MERGE)
    kw: dict[str, Any] = {"ccs": [models.SubCC(role="Lawyer", email_address="lawyer@example.com")], **change}
    template_ids = kw.pop("template_ids", [tid])
    with pytest.raises(dropbox_sign.ApiException) as exc:
        send(sdk, template_ids, **kw)
    assert error_of(exc)[0] == status and error_of(exc)[2] == path
    assert sr_api(sdk).signature_request_list().list_info.num_results == 0


def test_another_accounts_template_cannot_be_sent_until_it_is_shared(
    server: Server, sdk: Any, receiver: Receiver
) -> None:
    listen(sdk, receiver)
    tid = ready_template(sdk, receiver)
    other = make_account(server.runtime, "other@example.com")
    cfg = dropbox_sign.Configuration(host=server.api, username=other.api_key)
    cfg.proxy = None
    with dropbox_sign.ApiClient(cfg) as other_sdk:
        with pytest.raises(dropbox_sign.ApiException) as exc:
            send(other_sdk, [tid])
        assert error_of(exc)[:2] == (404, "not_found")
        dropbox_sign.TemplateApi(sdk).template_add_user(tid, models.TemplateAddUserRequest(account_id=other.account_id))
        sr = send(other_sdk, [tid])
        assert sr.template_ids == [tid]


def test_merge_values_reach_the_final_pdf_of_an_embedded_request_signed_to_completion(
    server: Server, account: AccountInfo, sdk: Any, receiver: Receiver
) -> None:
    listen(sdk, receiver)
    tid = ready_template(
        sdk, receiver, signer_roles=[role("Client")], form_fields_per_document=contract_fields(1), merge_fields=MERGE
    )
    client_id = new_app(sdk)
    request = models.SignatureRequestCreateEmbeddedWithTemplateRequest(
        template_ids=[tid],
        client_id=client_id,
        signers=[SIGNERS[0]],
        custom_fields=[models.SubCustomField(name="Price", value="USD 1,200")],
        test_mode=True,
    )
    sr = sr_api(sdk).signature_request_create_embedded_with_template(request).signature_request
    rid, sid = sr.signature_request_id, sr.signatures[0].signature_id
    wait_event(receiver, "signature_request_sent", rid)
    url = sign_url(server, account, sid)
    opened = page(server, url, client_id=client_id, parent_url="http://example.com/", skip_domain_verification="1")
    assert opened.status == 200
    status, body = action(
        server,
        sid,
        "submit",
        {"token": token_of(url), "values": {"sig_client": True}, "signature": {"method": "type", "text": "Jack"}},
    )
    assert (status, body) == (200, {"ok": True, "complete": True})
    wait_request_event(receiver, rid, "signature_request_downloadable")
    _, text = pdf_text(sr_api(sdk).signature_request_files(rid).read())
    assert "USD 1,200" in text


def test_an_editor_role_may_change_a_merge_value_and_an_unknown_editor_is_refused(
    server: Server, sdk: Any, receiver: Receiver
) -> None:
    listen(sdk, receiver)
    tid = ready_template(sdk, receiver, merge_fields=MERGE)
    sr = send(sdk, [tid], custom_fields=[models.SubCustomField(name="Price", value="100", editor="Manager")])
    with server.runtime.unit_of_work(write=False) as session:
        found = requests.by_public_id(session, sr.signature_request_id)
        assert found is not None
        price = next(f for f in request_fields(session, found) if f.api_id == "price")
        assert (price.signer, price.spec["content"]) == ("1", "100")  # the Manager's to change
    with pytest.raises(dropbox_sign.ApiException) as exc:
        send(sdk, [tid], custom_fields=[models.SubCustomField(name="Price", value="1", editor="Nobody")])
    assert error_of(exc)[:2] == (400, "bad_request")
