"""Bulk sends through the official SDK."""

from __future__ import annotations

import io
import json
from typing import Any

import dropbox_sign
import pytest
from dropbox_sign import models

from tests.receiver import Receiver


def bulk_api(sdk: Any) -> Any:
    return dropbox_sign.BulkSendJobApi(sdk)


def sr_api(sdk: Any) -> Any:
    return dropbox_sign.SignatureRequestApi(sdk)


def signer(role: str, name: str, email: str, **kw: Any) -> Any:
    return models.SubSignatureRequestTemplateSigner(role=role, name=name, email_address=email, **kw)


def row(signers: list[Any], **values: str) -> Any:
    fields = [models.SubBulkSignerListCustomField(name=k, value=v) for k, v in values.items()]
    return models.SubBulkSignerList(signers=signers, custom_fields=fields or None)


def raw_file(data: bytes, name: str = "signers.csv") -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


def csv_file(text: str) -> io.BytesIO:
    return raw_file(text.encode())


def bulk_send(sdk: Any, template_ids: list[str], **kw: Any) -> Any:
    kw.setdefault("test_mode", True)
    request = models.SignatureRequestBulkSendWithTemplateRequest(template_ids=template_ids, **kw)
    return sr_api(sdk).signature_request_bulk_send_with_template(request).bulk_send_job


def bulk_embedded(sdk: Any, template_ids: list[str], client_id: str, **kw: Any) -> Any:
    kw.setdefault("test_mode", True)
    request = models.SignatureRequestBulkCreateEmbeddedWithTemplateRequest(
        template_ids=template_ids, client_id=client_id, **kw
    )
    return sr_api(sdk).signature_request_bulk_create_embedded_with_template(request).bulk_send_job


def error_of(exc: pytest.ExceptionInfo[dropbox_sign.ApiException]) -> tuple[int, str, str, str | None]:
    err = json.loads(exc.value.body)["error"]
    return int(exc.value.status), err["error_name"], err["error_msg"], err.get("error_path")


def sent_events(receiver: Receiver, job_id: str) -> dict[str, dict[str, Any]]:
    """The ``signature_request_sent`` callbacks received so far about requests of job ``job_id``, by request."""
    out: dict[str, dict[str, Any]] = {}
    for r in list(receiver.received):
        payload = r.payload
        sr = payload.get("signature_request") or {}
        if payload["event"]["event_type"] == "signature_request_sent" and sr.get("bulk_send_job_id") == job_id:
            out[sr["signature_request_id"]] = sr
    return out
