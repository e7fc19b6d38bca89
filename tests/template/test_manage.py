"""A template's files, updates, sharing and new files through the official SDK (``template/update`` through
HTTP: SDK 2.0.0 lacks it), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import dropbox_sign
import pypdf
import pytest
import urllib3
from dropbox_sign import models

from tests.client import request_json, wait_until
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.receiver import Receiver
from tests.signature_request.helpers import listen, make_pdf, wait_event
from tests.template.helpers import ready_template, wait_template_event
from tests.template.test_send import send


def api(sdk: Any) -> Any:
    return dropbox_sign.TemplateApi(sdk)


def error_of(exc: pytest.ExceptionInfo[dropbox_sign.ApiException]) -> tuple[int, str]:
    return int(exc.value.status), json.loads(exc.value.body)["error"]["error_name"]


def sdk_for(server: Server, account: AccountInfo) -> Any:
    cfg = dropbox_sign.Configuration(host=server.api, username=account.api_key)
    cfg.proxy = None
    return dropbox_sign.ApiClient(cfg)


def test_it_serves_a_templates_files_as_pdf_zip_data_uri_and_signed_url(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    tid = ready_template(sdk, receiver)
    pdf = api(sdk).template_files(tid, file_type="pdf").read()
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1
    with zipfile.ZipFile(io.BytesIO(api(sdk).template_files(tid, file_type="zip").read())) as archive:
        assert len(archive.namelist()) == 1
    uri = api(sdk).template_files_as_data_uri(tid).data_uri
    assert uri.startswith("data:application/pdf;base64,") and base64.b64decode(uri.split(",", 1)[1]) == pdf
    link = api(sdk).template_files_as_file_url(tid, force_download=0)
    served = urllib3.request("GET", link.file_url, retries=False, timeout=30)
    assert served.status == 200 and served.data == pdf
    assert served.headers["content-disposition"].startswith("inline")
    tampered = urllib3.request("GET", link.file_url.replace("force_download=0", "force_download=1"), retries=False)
    assert tampered.status == 404


def test_it_updates_only_what_is_given(server: Server, account: AccountInfo, sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    tid = ready_template(sdk, receiver, message="Old message", cc_roles=["Lawyer"])
    status, body = request_json(
        server.api,
        "POST",
        f"/template/update/{tid}",
        account.api_key,
        json={"title": "New title", "form_fields": [{"api_id": "sig_client", "name": "Buyer signature"}]},
    )
    assert status == 200, body
    got = api(sdk).template_get(tid).template
    assert got.title == "New title" and got.message == "Old message" and [r.name for r in got.cc_roles] == ["Lawyer"]
    assert {f.api_id: f.name for f in got.documents[0].form_fields}["sig_client"] == "Buyer signature"
    status, body = request_json(
        server.api, "POST", f"/template/update/{tid}", account.api_key, json={"form_fields": [{"api_id": "nope"}]}
    )
    assert status == 400 and body["error"]["error_path"] == "form_fields[0].api_id"


def test_a_shared_account_reads_and_sends_but_only_the_creator_edits(
    server: Server, account: AccountInfo, sdk: Any, receiver: Receiver
) -> None:
    listen(sdk, receiver)
    tid = ready_template(sdk, receiver)
    other = make_account(server.runtime, "other@example.com")
    shared = api(sdk).template_add_user(tid, models.TemplateAddUserRequest(email_address="OTHER@example.com"))
    assert [a.email_address for a in shared.template.accounts] == [account.email, "other@example.com"]
    with sdk_for(server, other) as other_sdk:
        got = api(other_sdk).template_get(tid).template
        assert got.is_creator is False and got.can_edit is False and got.is_embedded is None
        assert [t.template_id for t in api(other_sdk).template_list().templates] == [tid]
        assert send(other_sdk, [tid]).template_ids == [tid]
        readd = models.TemplateAddUserRequest(account_id=other.account_id)
        calls: list[Callable[[], Any]] = [
            lambda: api(other_sdk).template_delete(tid),
            lambda: api(other_sdk).template_add_user(tid, readd),
        ]
        for call in calls:
            with pytest.raises(dropbox_sign.ApiException) as exc:
                call()
            assert error_of(exc) == (403, "forbidden")
        removed = api(sdk).template_remove_user(tid, models.TemplateRemoveUserRequest(account_id=other.account_id))
        assert [a.email_address for a in removed.template.accounts] == [account.email]
        with pytest.raises(dropbox_sign.ApiException) as exc:
            api(other_sdk).template_get(tid)
        assert error_of(exc) == (404, "not_found")
    with pytest.raises(dropbox_sign.ApiException) as exc:
        api(sdk).template_add_user(tid, models.TemplateAddUserRequest(email_address="nobody@example.com"))
    assert error_of(exc) == (404, "not_found")


def test_new_files_are_processed_again_and_requests_already_sent_keep_theirs(sdk: Any, receiver: Receiver) -> None:
    listen(sdk, receiver)
    tid = ready_template(sdk, receiver)
    before = send(sdk, [tid])
    wait_event(receiver, "signature_request_sent", before.signature_request_id)
    old_pdf = dropbox_sign.SignatureRequestApi(sdk).signature_request_files(before.signature_request_id).read()

    two_pages = make_pdf([["Contract v2", "Price: ____"], ["Second page"]])
    updated = api(sdk).template_update_files(tid, models.TemplateUpdateFilesRequest(files=[two_pages]))
    assert updated.template.template_id == tid
    # template_created again, once the new files are processed (the first one came before the update).
    first = wait_template_event(receiver, "template_created", tid)

    def created_twice() -> bool:
        return (
            sum(
                1
                for r in receiver.received
                if r.payload["event"]["event_type"] == "template_created"
                and (r.payload.get("template") or {}).get("template_id") == tid
            )
            >= 2
        )

    wait_until(created_twice, 60)
    assert first["template"]["template_id"] == tid
    got = api(sdk).template_get(tid).template
    assert sorted(f.api_id for f in got.documents[0].form_fields) == ["date_manager", "sig_client"]
    pdf = api(sdk).template_files(tid).read()
    assert "Contract v2" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    after = dropbox_sign.SignatureRequestApi(sdk).signature_request_files(before.signature_request_id).read()
    assert after == old_pdf

    api(sdk).template_delete(tid)
    kept = dropbox_sign.SignatureRequestApi(sdk).signature_request_files(before.signature_request_id).read()
    assert kept == old_pdf  # a request sent from a deleted template keeps its documents
