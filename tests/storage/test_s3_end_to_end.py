"""Paraph with PARAPH_STORAGE_URL=s3://... (moto's S3 API on loopback): a request sent through the official
SDK is processed, signed by a simulated signer, finalized and downloaded, and no document file is left in the
data dir: every document, page image, signature image and final PDF is in the bucket."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import boto3
import dropbox_sign
import pypdf
import pytest
import urllib3
from dropbox_sign import models

from tests.client import request_json
from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.s3server import MotoServer
from tests.signature_request.helpers import listen, make_pdf, send, signer, wait_event


@pytest.fixture
def bucket(moto_server: MotoServer) -> str:
    return moto_server.new_bucket()


@pytest.fixture
def settings_overrides(moto_server: MotoServer, bucket: str) -> dict[str, Any]:
    return {"storage_url": moto_server.storage_url(bucket, "paraph")}


def test_a_request_lives_in_the_bucket_from_upload_to_final_pdf(
    server: Server, sdk: Any, account: AccountInfo, receiver: Receiver, moto_server: MotoServer, bucket: str
) -> None:
    listen(sdk, receiver)
    document = make_pdf([["Agreement, page one"], ["Page two"]])
    sent = send(
        sdk,
        files=[document],
        signers=[signer("Jack Doe", "jack@example.com")],
        form_fields_per_document=[
            models.SubFormFieldsPerDocumentSignature(
                api_id="sig",
                type="signature",
                signer=0,
                page=1,
                x=72,
                y=600,
                width=200,
                height=40,
                required=True,
                document_index=0,
            )
        ],
    ).signature_request
    rid = sent.signature_request_id
    wait_event(receiver, "signature_request_sent", rid)

    status, body = request_json(
        server.url, "POST", f"/paraph/v1/test/signatures/{sent.signatures[0].signature_id}/sign", account.api_key
    )
    assert status == 200, body
    assert body["signature_request"]["is_complete"] is True
    wait_event(receiver, "signature_request_downloadable", rid, timeout=60)

    api = dropbox_sign.SignatureRequestApi(sdk)
    final = api.signature_request_files(rid, file_type="pdf").read()
    reader = pypdf.PdfReader(io.BytesIO(final))
    assert len(reader.pages) >= 3  # the two pages and the audit trail
    assert any(f.get("/FT") == "/Sig" and f.get("/V") for f in (reader.get_fields() or {}).values())  # sealed
    link = api.signature_request_files_as_file_url(rid, force_download=0).file_url
    assert link.startswith(server.url + "/paraph/files/")  # served by Paraph from the bucket, no API key
    fetched = urllib3.request("GET", link, retries=False)
    assert fetched.status == 200 and fetched.data == final

    client = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys and all(k.startswith("paraph/") for k in keys)
    stored = {k: client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}
    assert document in stored.values()  # the upload
    assert final in stored.values()  # the final document
    pngs = [k for k, v in stored.items() if v.startswith(b"\x89PNG")]
    assert len(pngs) >= 3  # two page images and the signature image

    data_dir = Path(server.runtime.settings.data_dir)
    left = [
        p.relative_to(data_dir).as_posix()
        for p in data_dir.rglob("*")
        if p.is_file() and p.read_bytes()[:8].startswith((b"%PDF", b"\x89PNG"))
    ]
    assert left == []
    assert not (data_dir / "files").exists()
