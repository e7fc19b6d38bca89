"""The wire shapes of bulk sends: the two send requests (one model, a union of both) and the job as answered."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from paraph.models import Account, BulkSendJob
from paraph.signature_request.schemas import NonBlank, SubCustomField
from paraph.template.schemas import SubCC, SubTemplateSigner
from paraph.wire.decode import NullableInt, NullableStr, WireBool, WireList, WireObject
from paraph.wire.parse import RequestModel


class _Sub(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SubBulkCustomField(_Sub):
    """A row's value for a custom field (``SubBulkSignerListCustomField``)."""

    name: NonBlank
    value: Any = None


class SubBulkSignerList(_Sub):
    """One request of the job: its signers by role, and its own custom field values."""

    signers: WireList[SubTemplateSigner] | None = None
    custom_fields: WireList[SubBulkCustomField] | None = None


class BulkSendRequest(RequestModel):
    """``bulk_send_with_template`` and ``bulk_create_embedded_with_template``. What is not the rows' is checked
    as a ``send_with_template`` of each row (:mod:`paraph.bulk_send.service`)."""

    template_ids: WireList[NonBlank]
    signer_list: WireList[SubBulkSignerList] | None = None
    ccs: WireList[SubCC] | None = None
    custom_fields: WireList[SubCustomField] | None = None
    allow_decline: WireBool = False
    client_id: NullableStr = None
    message: NullableStr = None
    metadata: WireObject[dict[str, Any]] | None = None
    signing_redirect_url: NullableStr = None
    subject: NullableStr = None
    test_mode: WireBool = False
    title: NullableStr = None
    expires_at: NullableInt = None


def serialize_job(job: BulkSendJob, viewer: Account) -> dict[str, Any]:
    """``BulkSendJobResponse``."""
    return {
        "bulk_send_job_id": job.bulk_send_job_id,
        "total": job.total,
        "is_creator": job.account_id == viewer.id,
        "created_at": int(job.created_at.timestamp()),
    }


def row_request(common: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """The ``send_with_template`` body of one row."""
    data = dict(common)
    data["signers"] = list(row.get("signers") or [])
    values = [dict(c) for c in common.get("custom_fields") or []]
    at = {c["name"]: i for i, c in enumerate(values)}
    for v in row.get("custom_fields") or []:
        if v["name"] in at:
            values[at[v["name"]]]["value"] = v.get("value")
        else:
            values.append({"name": v["name"], "value": v.get("value")})
    if values:
        data["custom_fields"] = values
    return data
