"""Creating, reading, listing and deleting templates through the official SDK, on SQLite and PostgreSQL: the
documents processed asynchronously like a request's, ``template_created`` / ``template_error`` callbacks, and
another account's template a 404 everywhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import dropbox_sign
import pytest
from dropbox_sign import models

from tests.client import request_json, wait_until
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.receiver import Receiver
from tests.signature_request.helpers import FileServer, listen, make_pdf, new_app
from tests.template.helpers import create_template, ready_template, role, wait_template_event


def api(sdk: Any) -> Any:
    return dropbox_sign.TemplateApi(sdk)


def other_sdk(server: Server) -> Any:
    other = make_account(server.runtime, "other@example.com")
    cfg = dropbox_sign.Configuration(host=server.api, username=other.api_key)
    cfg.proxy = None
    return dropbox_sign.ApiClient(cfg)


def status_of(exc: pytest.ExceptionInfo[dropbox_sign.ApiException]) -> tuple[int, str]:
    body = exc.value.body
    return int(exc.value.status), json.loads(body)["error"]["error_name"]


def test_it_creates_a_template_processes_it_and_reports_template_created(
    sdk: Any, receiver: Receiver, account: AccountInfo
) -> None:
    listen(sdk, receiver)
    template_id = create_template(
        sdk,
        subject="Please sign the NDA",
        message="Thanks",
        cc_roles=["Lawyer"],
        merge_fields=[
            models.SubMergeField(name="Price", type="text"),
            models.SubMergeField(name="Rush", type="checkbox"),
        ],
        metadata={"kind": "nda"},
    )
    assert len(template_id) == 40
    payload = wait_template_event(receiver, "template_created", template_id)
    assert payload["template"]["title"] == "Mutual NDA"
    assert payload["event"]["event_metadata"]["reported_for_account_id"] == account.account_id

    got = api(sdk).template_get(template_id).template
    assert got.is_creator is True and got.can_edit is True and got.is_locked is False
    assert [(r.name, r.order) for r in got.signer_roles] == [("Client", 0), ("Manager", 1)]
    assert [r.name for r in got.cc_roles] == ["Lawyer"]
    assert got.metadata == {"kind": "nda"}
    assert got.message == "Thanks"
    doc = got.documents[0]
    assert doc.index == 0
    fields = {f.api_id: f for f in doc.form_fields}
    assert (fields["sig_client"].type, fields["sig_client"].signer) == ("signature", "1")
    assert (fields["date_manager"].type, fields["date_manager"].signer) == ("date_signed", "2")
    assert (fields["sig_client"].x, fields["sig_client"].y) == (72, 400)
    assert sorted((c.name, c.type) for c in doc.custom_fields) == [("Price", "text"), ("Rush", "checkbox")]
    assert [a.email_address for a in got.accounts] == [account.email]


def test_it_shows_a_template_as_not_ready_until_processing_ends(
    sdk: Any, receiver: Receiver, files: FileServer
) -> None:
    listen(sdk, receiver)
    url = files.add("/slow.pdf", make_pdf([["Terms"]]))
    files.delays["/slow.pdf"] = 2.0  # the file server answers late: processing is still on meanwhile
    template_id = create_template(sdk, files=None, file_urls=[url])
    got = api(sdk).template_get(template_id).template
    assert got.documents == [] and [r.name for r in got.signer_roles] == ["Client", "Manager"]
    with pytest.raises(dropbox_sign.ApiException) as exc:
        api(sdk).template_files(template_id)
    assert status_of(exc) == (409, "conflict")
    wait_template_event(receiver, "template_created", template_id)
    assert len(api(sdk).template_get(template_id).template.documents) == 1


def test_it_reports_template_error_for_a_bad_file(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    template_id = create_template(sdk, files=[b"%PDF-1.4 this is not really a PDF"])
    payload = wait_template_event(receiver, "template_error", template_id)
    assert payload["event"]["event_metadata"]["event_message"]
    with pytest.raises(dropbox_sign.ApiException) as exc:
        api(sdk).template_files(template_id, file_type="pdf")
    assert status_of(exc) == (400, "bad_request")


def test_it_reports_template_error_for_a_field_outside_the_document(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    far = models.SubFormFieldsPerDocumentSignature(
        document_index=0,
        api_id="far",
        type="signature",
        x=72,
        y=100,
        width=100,
        height=30,
        required=True,
        signer=0,
        page=3,
    )
    template_id = create_template(sdk, signer_roles=[role("Client")], form_fields_per_document=[far])
    payload = wait_template_event(receiver, "template_error", template_id)
    assert "page 3" in payload["event"]["event_metadata"]["event_message"]


def test_it_reads_text_tags_when_asked_for_preexisting_fields(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    tagged = make_pdf([["Sign: [sig|req|signer1]      Initials: [initial|req|signer2]"]])
    template_id = ready_template(
        sdk,
        receiver,
        files=[tagged],
        use_preexisting_fields=True,
        form_fields_per_document=[],
    )
    doc = api(sdk).template_get(template_id).template.documents[0]
    assert sorted((f.type, f.signer) for f in doc.form_fields) == [("initials", "2"), ("signature", "1")]


def test_it_fetches_file_urls_and_calls_back_the_app_of_client_id(
    sdk: Any, receiver: Receiver, files: FileServer
) -> None:
    listen(sdk, receiver)
    client_id = new_app(sdk)
    dropbox_sign.ApiAppApi(sdk).api_app_update(
        client_id, models.ApiAppUpdateRequest(callback_url=receiver.url + "/app")
    )
    url = files.add("/nda.pdf", make_pdf([["Terms"]]))
    template_id = create_template(sdk, files=None, file_urls=[url], client_id=client_id)
    wait_template_event(receiver, "template_created", template_id)

    def paths() -> set[str]:
        return {
            r.path for r in receiver.received if (r.payload.get("template") or {}).get("template_id") == template_id
        }

    assert wait_until(lambda: paths() == {"/hook", "/app"})


def test_it_refuses_bad_input_with_dropbox_signs_envelope(sdk: Any) -> None:
    with pytest.raises(dropbox_sign.ApiException) as exc:
        create_template(sdk, signer_roles=[role("Client"), role("client")])
    assert status_of(exc) == (400, "bad_request")
    with pytest.raises(dropbox_sign.ApiException) as exc:
        bad = models.SubFormFieldsPerDocumentSignature(
            document_index=0,
            api_id="s",
            type="signature",
            x=1,
            y=1,
            width=10,
            height=10,
            required=True,
            signer=2,
            page=1,
        )
        create_template(sdk, signer_roles=[role("Client")], form_fields_per_document=[bad])
    assert status_of(exc) == (400, "bad_request")
    assert "signer" in exc.value.body


def test_it_lists_templates_with_paging_and_a_title_query(sdk: Any, receiver: Receiver) -> None:
    for title in ("Lease A", "Lease B", "Invoice"):
        create_template(sdk, title=title)
    listed = api(sdk).template_list(page=1, page_size=2)
    assert listed.list_info.num_results == 3 and listed.list_info.num_pages == 2
    assert [t.title for t in listed.templates] == ["Invoice", "Lease B"]
    found = api(sdk).template_list(query="lease")
    assert sorted(t.title for t in found.templates) == ["Lease A", "Lease B"]


def test_it_deletes_a_template(sdk: Any) -> None:
    template_id = create_template(sdk)
    api(sdk).template_delete(template_id)
    with pytest.raises(dropbox_sign.ApiException) as exc:
        api(sdk).template_get(template_id)
    assert status_of(exc) == (404, "not_found")
    assert api(sdk).template_list().list_info.num_results == 0


def test_another_accounts_template_is_not_found_everywhere(
    server: Server, sdk: Any, receiver: Receiver, account: AccountInfo
) -> None:
    listen(sdk, receiver)
    template_id = ready_template(sdk, receiver)
    with other_sdk(server) as other:
        calls: list[Callable[[], Any]] = [
            lambda: api(other).template_get(template_id),
            lambda: api(other).template_delete(template_id),
            lambda: api(other).template_files(template_id),
            lambda: api(other).template_files_as_data_uri(template_id),
            lambda: api(other).template_files_as_file_url(template_id),
            lambda: api(other).template_add_user(
                template_id, models.TemplateAddUserRequest(email_address=account.email)
            ),
        ]
        for call in calls:
            with pytest.raises(dropbox_sign.ApiException) as exc:
                call()
            assert status_of(exc) == (404, "not_found")
        assert api(other).template_list().list_info.num_results == 0
    assert api(sdk).template_get(template_id).template.template_id == template_id


def test_the_events_api_finds_a_template_s_events_by_template_id(
    server: Server, sdk: Any, receiver: Receiver, account: AccountInfo
) -> None:
    listen(sdk, receiver)
    first = ready_template(sdk, receiver)
    second = ready_template(sdk, receiver)

    def events(key: str, template_id: str) -> list[dict[str, Any]]:
        status, body = request_json(server.url, "GET", f"/paraph/v1/events?template_id={template_id}", key)
        assert status == 200, body
        return list(body["events"])

    found = events(account.api_key, first)
    assert [(e["event_type"], e["template_id"]) for e in found] == [("template_created", first)]
    assert [e["template_id"] for e in events(account.api_key, second)] == [second]
    other = make_account(server.runtime, "other@example.com")
    assert events(other.api_key, first) == []  # another account's template: nothing
