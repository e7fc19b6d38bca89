"""Creating signature requests through the official SDK (multipart with files, JSON with file_urls) and raw
bracket-style multipart, on SQLite and PostgreSQL: the 200 at once, then processing and its event."""

from __future__ import annotations

import io
import json
from typing import Any

import dropbox_sign
import pytest
from dropbox_sign import models
from PIL import Image
from pypdf import PdfReader

from paraph.signature_request import repository
from paraph.signing.repository import fields_of
from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.signature_request.helpers import (
    FileServer,
    call,
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

TAGGED = make_pdf([["Sign here: [sig|req|signer1]   Initials: [initial|req|signer2]"], ["Page two"]])


def stored_fields(server: Server, rid: str) -> dict[str, dict[str, Any]]:
    """The fields Paraph built, by api_id (what the signing page will show)."""
    with server.runtime.unit_of_work(write=False) as session:
        sr = repository.by_public_id(session, rid)
        assert sr is not None
        return {f.api_id: {**f.spec, "value": f.value} for f in fields_of(session, sr)}


def pages_of(sdk: Any, rid: str) -> int:
    data = dropbox_sign.SignatureRequestApi(sdk).signature_request_files(rid, file_type="pdf").read()
    return len(PdfReader(io.BytesIO(data)).pages)


def test_it_sends_uploaded_files_and_reports_when_they_are_processed(
    server: Server, sdk: Any, receiver: Receiver
) -> None:
    listen(sdk, receiver)
    created = send(
        sdk,
        files=[TAGGED],
        signers=[signer("Jack", "jack@example.com", 0), signer("Jill", "jill@example.com", 1)],
        use_text_tags=True,
        subject="Please sign",
        message="Thanks",
        metadata={"order_id": 1234, "team": "sales"},
        cc_email_addresses=["boss@example.com"],
    ).signature_request
    assert len(created.signature_request_id) == 40
    assert created.is_complete is False and created.has_error is False
    assert [len(s.signature_id) for s in created.signatures] == [32, 32]
    assert [s.order for s in created.signatures] == [0, 1]
    assert created.metadata == {"order_id": 1234, "team": "sales"}
    assert created.cc_email_addresses == ["boss@example.com"]
    assert created.files_url.endswith(f"/v3/signature_request/files/{created.signature_request_id}")

    payload = wait_event(receiver, "signature_request_sent", created.signature_request_id)
    assert payload["signature_request"]["signatures"][1]["signer_email_address"] == "jill@example.com"
    fields = stored_fields(server, created.signature_request_id)
    kinds = sorted((f["type"], f["signer"], f["page"]) for f in fields.values())
    assert kinds == [("initials", 1, 1), ("signature", 0, 1)]
    assert pages_of(sdk, created.signature_request_id) == 2  # no signature page: the tags placed fields


def test_it_fetches_file_urls_when_the_sdk_sends_json(
    server: Server, sdk: Any, receiver: Receiver, files: FileServer
) -> None:
    listen(sdk, receiver)
    url = files.add("/contract.pdf", make_pdf([["Terms"]]))
    sr = send_and_wait(sdk, receiver, file_urls=[url], signers=[signer(), signer("Jill", "jill@example.com")])
    assert files.hits == ["/contract.pdf"]
    # Neither fields nor tags: a signature page with a box per signer is appended.
    assert pages_of(sdk, sr.signature_request_id) == 2
    fields = stored_fields(server, sr.signature_request_id)
    assert sorted((f["type"], f["signer"], f["page"]) for f in fields.values()) == [
        ("signature", 0, 2),
        ("signature", 1, 2),
    ]


def test_it_follows_redirects_of_file_urls(sdk: Any, receiver: Receiver, files: FileServer) -> None:
    listen(sdk, receiver)
    target = files.add("/real.pdf", make_pdf())
    files.redirects["/moved.pdf"] = target
    send_and_wait(sdk, receiver, file_urls=[files.url + "/moved.pdf"])
    assert files.hits == ["/moved.pdf", "/real.pdf"]


def test_it_refuses_a_redirect_to_a_forbidden_address(sdk: Any, receiver: Receiver, files: FileServer) -> None:
    listen(sdk, receiver)
    files.redirects["/evil.pdf"] = "http://169.254.169.254/latest/meta-data"
    created = send(sdk, file_urls=[files.url + "/evil.pdf"]).signature_request
    payload = wait_event(receiver, "file_error", created.signature_request_id)
    assert "file_urls[0] could not be downloaded" in payload["event"]["event_metadata"]["event_message"]
    assert payload["signature_request"]["has_error"] is True
    assert payload["signature_request"]["signatures"][0]["status_code"] == "error_file"


@pytest.mark.parametrize("endpoint", ["send", "create_embedded"])
def test_it_accepts_bracket_style_multipart_like_curl(
    server: Server, account: AccountInfo, sdk: Any, endpoint: str
) -> None:
    extra = {"client_id": new_app(sdk)} if endpoint == "create_embedded" else {}
    resp = call(
        server,
        "POST",
        f"/signature_request/{endpoint}",
        account.api_key,
        fields={
            **extra,
            "title": "Curl",
            "signers[0][name]": "Jack",
            "signers[0][email_address]": "jack@example.com",
            "signers[0][order]": "0",
            "cc_email_addresses[]": "cc@example.com",
            "metadata[ref]": "r-1",
            "test_mode": "1",
            "use_text_tags": "0",
            "signing_options[draw]": "1",
            "signing_options[default_type]": "draw",
            "form_fields_per_document[0][api_id]": "sig_1",
            "form_fields_per_document[0][type]": "signature",
            "form_fields_per_document[0][document_index]": "0",
            "form_fields_per_document[0][signer]": "0",
            "form_fields_per_document[0][required]": "true",
            "form_fields_per_document[0][x]": "100",
            "form_fields_per_document[0][y]": "200",
            "form_fields_per_document[0][width]": "120",
            "form_fields_per_document[0][height]": "30",
            "form_fields_per_document[0][page]": "1",
            "file[0]": ("contract.pdf", make_pdf(), "application/pdf"),
        },
    )
    assert resp.status == 200, resp.data
    sr = json.loads(resp.data)["signature_request"]
    assert sr["title"] == "Curl"
    assert sr["test_mode"] is True
    assert sr["metadata"] == {"ref": "r-1"}
    assert sr["cc_email_addresses"] == ["cc@example.com"]
    assert sr["signatures"][0]["order"] == 0


def test_it_builds_every_form_field_type(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    base = {"document_index": 0, "required": True, "page": 1, "width": 100, "height": 20}
    fields = [
        models.SubFormFieldsPerDocumentSignature(api_id="sig", type="signature", signer=0, x=50, y=50, **base),
        models.SubFormFieldsPerDocumentInitials(api_id="ini", type="initials", signer="1", x=50, y=80, **base),
        models.SubFormFieldsPerDocumentText(
            api_id="txt", type="text", signer=0, x=50, y=110, validation_type="numbers_only", **base
        ),
        models.SubFormFieldsPerDocumentDateSigned(api_id="date", type="date_signed", signer=1, x=50, y=140, **base),
        models.SubFormFieldsPerDocumentDropdown(
            api_id="drop", type="dropdown", signer=0, x=50, y=170, options=["a", "b"], content="b", **base
        ),
        models.SubFormFieldsPerDocumentHyperlink(
            api_id="link",
            type="hyperlink",
            signer=0,
            x=50,
            y=200,
            content="Docs",
            content_url="https://example.com",
            **base,
        ),
        models.SubFormFieldsPerDocumentCheckbox(
            api_id="chk1", type="checkbox", signer=0, x=50, y=230, is_checked=False, group="g1", **base
        ),
        models.SubFormFieldsPerDocumentCheckbox(
            api_id="chk2", type="checkbox", signer=0, x=160, y=230, is_checked=True, group="g1", **base
        ),
        models.SubFormFieldsPerDocumentRadio(
            api_id="rad1", type="radio", signer=1, x=50, y=260, is_checked=True, group="r1", **base
        ),
        models.SubFormFieldsPerDocumentRadio(
            api_id="rad2", type="radio", signer=1, x=160, y=260, is_checked=False, group="r1", **base
        ),
        models.SubFormFieldsPerDocumentTextMerge(
            api_id="merge", type="text-merge", signer="sender", x=50, y=290, name="customer", **base
        ),
        models.SubFormFieldsPerDocumentCheckboxMerge(
            api_id="cmerge", type="checkbox-merge", signer="sender", x=50, y=320, name="vip", **base
        ),
        models.SubFormFieldsPerDocumentText(
            api_id="now", type="text", signer="me_now", x=50, y=350, content="Filled by me", **base
        ),
    ]
    sr = send_and_wait(
        sdk,
        receiver,
        files=[make_pdf()],
        signers=[signer(), signer("Jill", "jill@example.com")],
        form_fields_per_document=fields,
        form_field_groups=[
            models.SubFormFieldGroup(group_id="g1", group_label="Pick", requirement="require_1-ormore"),
            models.SubFormFieldGroup(group_id="r1", group_label="One", requirement="require_1"),
        ],
        form_field_rules=[
            models.SubFormFieldRule(
                id="rule1",
                trigger_operator="AND",
                triggers=[models.SubFormFieldRuleTrigger(id="drop", operator="is", value="a")],
                actions=[models.SubFormFieldRuleAction(field_id="txt", hidden=True, type="change-field-visibility")],
            )
        ],
        custom_fields=[
            models.SubCustomField(name="customer", value="ACME Corp"),
            models.SubCustomField(name="vip", value="true"),
        ],
    )
    stored = stored_fields(server, sr.signature_request_id)
    assert set(stored) == {
        "sig",
        "ini",
        "txt",
        "date",
        "drop",
        "link",
        "chk1",
        "chk2",
        "rad1",
        "rad2",
        "merge",
        "cmerge",
        "now",
    }
    assert (stored["sig"]["x"], stored["sig"]["y"], stored["sig"]["page"]) == (50, 50, 1)
    assert stored["ini"]["signer"] == 1
    assert stored["txt"]["validation_type"] == "numbers_only"
    assert stored["drop"]["options"] == ["a", "b"]
    assert stored["chk2"]["is_checked"] is True and stored["chk2"]["group"] == "g1"
    assert stored["now"]["value"] == "Filled by me"
    assert stored["merge"]["value"] == "ACME Corp"
    custom = {c.name: c.value for c in sr.custom_fields}
    assert custom == {"customer": "ACME Corp", "vip": True}
    with server.runtime.unit_of_work(write=False) as session:
        found = repository.by_public_id(session, sr.signature_request_id)
        assert found is not None
        assert found.form_field_rules[0]["id"] == "rule1"
        assert [g["group_id"] for g in found.form_field_groups] == ["g1", "r1"]
        assert found.signature_page_appended is False


def test_it_converts_legacy_coordinates(server: Server, account: AccountInfo, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    # Legacy: no page, 80 DPI, y accumulated over pages, x from 100 on portrait pages; nested per document.
    legacy = [
        [
            {
                "api_id": "s",
                "type": "signature",
                "signer": 0,
                "required": True,
                "x": 180,
                "y": 880 + 80,
                "width": 160,
                "height": 40,
            }
        ]
    ]
    status, body = call_json(
        server,
        "POST",
        "/signature_request/send",
        account.api_key,
        fields={
            "signers": json.dumps([{"name": "Jack", "email_address": "jack@example.com"}]),
            "form_fields_per_document": json.dumps(legacy),
            "files[0]": ("a.pdf", make_pdf([["one"], ["two"]]), "application/octet-stream"),
        },
    )
    assert status == 200, body
    rid = body["signature_request"]["signature_request_id"]
    wait_event(receiver, "signature_request_sent", rid)
    field = stored_fields(server, rid)["s"]
    assert field["page"] == 2
    assert (round(field["x"]), round(field["y"]), round(field["width"])) == (72, 72, 144)


def test_it_creates_embedded_requests_for_an_app(sdk: Any, receiver: Receiver, files: FileServer) -> None:
    listen(sdk, receiver)
    client_id = new_app(sdk)
    created = create_embedded(sdk, client_id, files=[make_pdf()]).signature_request
    sent = wait_event(receiver, "signature_request_sent", created.signature_request_id)
    assert sent["client_id"] == client_id
    assert created.signing_url is None
    # The SDK sends JSON when there is no file object: file_urls.
    url = files.add("/embedded.pdf", make_pdf())
    by_url = create_embedded(sdk, client_id, file_urls=[url], metadata={"k": "v"}).signature_request
    payload = wait_event(receiver, "signature_request_sent", by_url.signature_request_id)
    assert payload["signature_request"]["metadata"] == {"k": "v"}


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"title": "x"}, "signers"),
        ({"signers": [{"name": "A", "email_address": "not-an-email"}]}, "signers[0].email_address"),
        ({"signers": [{"name": "A", "email_address": "a@example.com"}]}, "files"),
        (
            {"signers": [{"name": "A", "email_address": "a@example.com"}], "file_urls": ["ftp://example.com/a"]},
            "file_urls[0]",
        ),
        (
            {
                "signers": [{"name": "A", "email_address": "a@example.com"}],
                "file_urls": ["https://example.com/a.pdf"],
                "metadata": {f"k{i}": "v" for i in range(11)},
            },
            "metadata",
        ),
        (
            {
                "signers": [{"name": "A", "email_address": "a@example.com"}],
                "file_urls": ["https://example.com/a.pdf"],
                "metadata": {"k": "v" * 1001},
            },
            "metadata",
        ),
        (
            {
                "signers": [{"name": "A", "email_address": "a@example.com"}],
                "file_urls": ["https://example.com/a.pdf"],
                "form_fields_per_document": [
                    {
                        "api_id": "s",
                        "type": "signature",
                        "signer": 3,
                        "document_index": 0,
                        "required": True,
                        "x": 1,
                        "y": 1,
                        "width": 10,
                        "height": 10,
                        "page": 1,
                    }
                ],
            },
            "form_fields_per_document[0].signer",
        ),
        (
            {
                "signers": [{"name": "A", "email_address": "a@example.com"}],
                "file_urls": ["https://example.com/a.pdf"],
                "expires_at": 1000,
            },
            "expires_at",
        ),
    ],
)
def test_it_refuses_bad_requests_at_once_with_the_path(
    server: Server, account: AccountInfo, data: dict[str, Any], path: str
) -> None:
    status, body = call_json(server, "POST", "/signature_request/send", account.api_key, json=data)
    assert status == 400, body
    assert body["error"]["error_name"] == "bad_request"
    assert body["error"]["error_path"] == path


_SIGNATURE = {
    "api_id": "s",
    "type": "signature",
    "signer": 0,
    "document_index": 0,
    "required": True,
    "x": 1,
    "y": 1,
    "width": 10,
    "height": 10,
    "page": 1,
}
_TRIGGER = {"id": "s", "operator": "is", "value": "x"}
_HIDE_S = {"field_id": "s", "hidden": True, "type": "change-field-visibility"}


@pytest.mark.parametrize(
    ("rule", "path", "names"),
    [
        (
            {"triggers": [{"id": "nope", "operator": "is", "value": "x"}], "actions": [_HIDE_S]},
            "triggers[0].id",
            "field has api_id 'nope'",
        ),
        (
            {"triggers": [_TRIGGER], "actions": [_HIDE_S, {**_HIDE_S, "field_id": "gone"}]},
            "actions[1].field_id",
            "field has api_id 'gone'",
        ),
        (
            {
                "triggers": [_TRIGGER],
                "actions": [{"group_id": "g9", "hidden": True, "type": "change-group-visibility"}],
            },
            "actions[0].group_id",
            "group has group_id 'g9'",
        ),
    ],
)
def test_it_refuses_a_rule_naming_a_field_or_group_that_does_not_exist(
    server: Server, account: AccountInfo, rule: dict[str, Any], path: str, names: str
) -> None:
    data = {
        "signers": [{"name": "A", "email_address": "a@example.com"}],
        "file_urls": ["https://example.com/a.pdf"],
        "form_fields_per_document": [_SIGNATURE],
        "form_field_rules": [{"id": "r1", **rule}],
    }
    status, body = call_json(server, "POST", "/signature_request/send", account.api_key, json=data)
    assert status == 400, body
    assert body["error"] == {
        "error_msg": f"form_field_rules[0].{path}: no {names}",
        "error_name": "bad_request",
        "error_path": f"form_field_rules[0].{path}",
    }


def test_it_reports_a_rule_naming_no_field_of_the_text_tags_as_an_invalid_request(sdk: Any, receiver: Receiver) -> None:
    # With text tags the fields are known only once the documents are read: the rule is checked then.
    listen(sdk, receiver)
    rule = models.SubFormFieldRule(
        id="r1",
        trigger_operator="AND",
        triggers=[models.SubFormFieldRuleTrigger(id="nope", operator="is", value="x")],
        actions=[models.SubFormFieldRuleAction(field_id="gone", hidden=True, type="change-field-visibility")],
    )
    created = send(
        sdk,
        files=[TAGGED],
        signers=[signer(), signer("Jill", "jill@example.com")],
        use_text_tags=True,
        form_field_rules=[rule],
    ).signature_request
    payload = wait_event(receiver, "signature_request_invalid", created.signature_request_id)
    assert payload["event"]["event_metadata"]["event_message"] == "form_field_rules: rule 'r1' names no field 'nope'"
    assert payload["signature_request"]["signatures"][0]["status_code"] == "error_text_tag"


def test_it_refuses_malformed_json_and_a_missing_client_id(server: Server, account: AccountInfo) -> None:
    status, body = call_json(
        server,
        "POST",
        "/signature_request/send",
        account.api_key,
        body=b'{"signers": [',
        headers={"Content-Type": "application/json"},
    )
    assert status == 400 and body["error"]["error_name"] == "bad_request"
    status, body = call_json(
        server,
        "POST",
        "/signature_request/create_embedded",
        account.api_key,
        json={"signers": [{"name": "A", "email_address": "a@example.com"}], "file_urls": ["https://example.com/a"]},
    )
    assert status == 400 and body["error"]["error_path"] == "client_id"


def test_it_reports_bad_text_tags_as_an_invalid_request(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    bad = make_pdf([["[sig|req|signer3]"]])
    created = send(sdk, files=[bad], use_text_tags=True).signature_request
    payload = wait_event(receiver, "signature_request_invalid", created.signature_request_id)
    message = payload["event"]["event_metadata"]["event_message"]
    assert "signer 3" in message
    assert payload["signature_request"]["signatures"][0]["status_code"] == "error_text_tag"
    got = dropbox_sign.SignatureRequestApi(sdk).signature_request_get(created.signature_request_id)
    assert got.signature_request.has_error is True
    assert got.signature_request.signatures[0].error == message


def test_it_ignores_bad_text_tags_when_asked(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    mixed = make_pdf([["[sig|req|signer1]  [sig|req|signer3]"]])
    sr = send_and_wait(sdk, receiver, files=[mixed], use_text_tags=True, ignore_text_tags_extraction_errors=True)
    assert sr.has_error is False
    assert len(stored_fields(server, sr.signature_request_id)) == 1


def test_it_reports_fields_off_the_page(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    off = models.SubFormFieldsPerDocumentSignature(
        api_id="far",
        type="signature",
        signer=0,
        document_index=0,
        required=True,
        x=50,
        y=50,
        width=10,
        height=10,
        page=3,
    )
    created = send(sdk, files=[make_pdf()], form_fields_per_document=[off]).signature_request
    payload = wait_event(receiver, "signature_request_invalid", created.signature_request_id)
    assert payload["signature_request"]["signatures"][0]["status_code"] == "error_component_position"
    assert "page 3" in payload["event"]["event_metadata"]["event_message"]


def test_it_sends_grouped_signers_and_warns_about_sms(server: Server, account: AccountInfo, files: FileServer) -> None:
    url = files.add("/a.pdf", make_pdf())
    status, body = call_json(
        server,
        "POST",
        "/signature_request/send",
        account.api_key,
        json={
            "grouped_signers": [
                {
                    "group": "Managers",
                    "order": 0,
                    "signers": [
                        {"name": "A", "email_address": "a@example.com"},
                        {"name": "B", "email_address": "b@example.com"},
                    ],
                },
            ],
            "file_urls": [url],
        },
    )
    assert status == 200, body
    sigs = body["signature_request"]["signatures"]
    assert len(sigs) == 2 and sigs[0]["signer_group_guid"] == sigs[1]["signer_group_guid"] is not None
    status, body = call_json(
        server,
        "POST",
        "/signature_request/send",
        account.api_key,
        json={
            "signers": [{"name": "A", "email_address": "a@example.com", "sms_phone_number": "+14155550100"}],
            "file_urls": [url],
        },
    )
    assert status == 200
    assert body["warnings"][0]["warning_name"] == "parameter_ignored"


def test_it_takes_images_and_hides_tags_when_asked(server: Server, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    png, jpeg = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(png, format="PNG")
    Image.new("RGB", (300, 400), (30, 30, 200)).save(jpeg, format="JPEG")
    sr = send_and_wait(sdk, receiver, files=[png.getvalue(), jpeg.getvalue()])
    assert pages_of(sdk, sr.signature_request_id) == 3  # one page per image, and the signature page
    hidden = send_and_wait(
        sdk,
        receiver,
        files=[TAGGED],
        use_text_tags=True,
        hide_text_tags=True,
        signers=[signer(), signer("Jill", "jill@example.com")],
    )
    data = dropbox_sign.SignatureRequestApi(sdk).signature_request_files(hidden.signature_request_id).read()
    assert data != TAGGED and data.startswith(b"%PDF")
    assert len(stored_fields(server, hidden.signature_request_id)) == 2


def test_long_documents_get_every_page_image_in_order_whether_hidden_tags_or_not(
    server: Server, sdk: Any, receiver: Receiver
) -> None:
    """Pages of a long document are rendered in ranges by several processes; a short one in one call. Either
    way each page's image is the page of the processed PDF (tags hidden when asked), in page order."""
    from paraph.pdf.processing import render_page_png
    from paraph.signature_request.tasks import RENDER_SPLIT_PAGES

    listen(sdk, receiver)
    long_pages = RENDER_SPLIT_PAGES * 2 + 3  # ranges of unequal length
    long_doc = make_pdf(
        [[f"Page {n}", *(["Sign: [sig|req|signer1]"] if n % 4 == 0 else [])] for n in range(long_pages)]
    )
    short_doc = make_pdf([["Short one", "Initials: [initial|req|signer1]"], ["Short two"]])
    sr = send_and_wait(sdk, receiver, files=[short_doc, long_doc], use_text_tags=True, hide_text_tags=True)
    storage = server.runtime.storage
    with server.runtime.unit_of_work(write=False) as session:
        found = repository.by_public_id(session, sr.signature_request_id)
        assert found is not None
        docs = [(d.index, d.processed_key, list(d.page_image_keys), len(d.page_sizes)) for d in found.documents]
    assert [(index, len(keys), pages) for index, _, keys, pages in sorted(docs)] == [
        (0, 2, 2),
        (1, long_pages, long_pages),
    ]
    for _, processed_key, keys, _ in docs:
        assert processed_key is not None
        processed = storage.get(processed_key)
        for number, key in enumerate(keys, start=1):
            assert storage.get(key) == render_page_png(processed, number), (processed_key, number)
    # The images show the processed PDF, whose tags are covered: the original pages render differently.
    long_keys = next(keys for index, _, keys, _ in docs if index == 1)
    assert storage.get(long_keys[0]) != render_page_png(long_doc, 1)
    assert storage.get(long_keys[1]) == render_page_png(long_doc, 2)  # page 2 has no tag
