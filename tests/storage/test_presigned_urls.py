"""PARAPH_STORAGE_PRESIGNED_URLS=1 with an S3 bucket (moto's server on loopback): ``files_as_file_url`` of a
request and of a template answers a presigned URL of the bucket, with the link's expiry, that a client
downloads without an API key and gets the same bytes as the API's ``files``. (Off, the default, the link is
served by Paraph: tests/storage/test_s3_end_to_end.py.)"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dropbox_sign
import pytest
import urllib3
from pydantic import ValidationError

from paraph.config import Settings
from tests.conftest import Server
from tests.receiver import Receiver
from tests.s3server import MotoServer
from tests.signature_request.helpers import listen, make_pdf, send, wait_event
from tests.template.helpers import ready_template

THREE_DAYS = 3 * 24 * 3600


@pytest.fixture
def settings_overrides(moto_server: MotoServer) -> dict[str, Any]:
    return {"storage_url": moto_server.storage_url(moto_server.new_bucket(), "p"), "storage_presigned_urls": True}


def test_file_urls_are_presigned_bucket_urls_that_serve_the_same_file(
    server: Server, sdk: Any, receiver: Receiver, moto_server: MotoServer
) -> None:
    listen(sdk, receiver)
    rid = send(sdk, files=[make_pdf([["Presigned"]])]).signature_request.signature_request_id
    wait_event(receiver, "signature_request_sent", rid)
    api = dropbox_sign.SignatureRequestApi(sdk)
    pdf = api.signature_request_files(rid, file_type="pdf").read()

    before = int(time.time())
    answer = api.signature_request_files_as_file_url(rid, force_download=1)
    link = answer.file_url
    assert link.startswith(moto_server.endpoint_url + "/")  # the bucket's endpoint, not Paraph's
    query = parse_qs(urlsplit(link).query)
    assert query["X-Amz-Expires"] == [str(THREE_DAYS)] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert before + THREE_DAYS <= answer.expires_at <= int(time.time()) + THREE_DAYS
    got = urllib3.request("GET", link, retries=False, timeout=30)  # no API key, no Paraph
    assert got.status == 200 and got.data == pdf
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    inline = urllib3.request("GET", api.signature_request_files_as_file_url(rid, force_download=0).file_url)
    assert inline.status == 200 and inline.headers["Content-Disposition"].startswith("inline;")

    template_id = ready_template(sdk, receiver)
    templates = dropbox_sign.TemplateApi(sdk)
    template_pdf = templates.template_files(template_id, file_type="pdf").read()
    template_link = templates.template_files_as_file_url(template_id, force_download=0).file_url
    assert template_link.startswith(moto_server.endpoint_url + "/")
    fetched = urllib3.request("GET", template_link, retries=False, timeout=30)
    assert fetched.status == 200 and fetched.data == template_pdf


def test_presigned_urls_need_a_bucket() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(storage_presigned_urls=True)
    assert "expected an s3:// PARAPH_STORAGE_URL" in str(caught.value)
