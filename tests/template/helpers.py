"""Templates made through the official SDK, and waiting for their callbacks."""

from __future__ import annotations

import time
from typing import Any

import dropbox_sign
from dropbox_sign import models

from tests.receiver import Receiver
from tests.signature_request.helpers import make_pdf

#: One page with room for fields: a signature for the first role, a text-merge field "Price" for the sender,
#: a checkbox-merge field "Rush", and a date for the second role.
CONTRACT = make_pdf([["Contract", "Price: ____", "Rush: [ ]"]])


def role(name: str, order: int | None = None) -> Any:
    return models.SubTemplateRole(name=name, order=order)


def contract_fields(roles: int = 2) -> list[Any]:
    fields: list[Any] = [
        models.SubFormFieldsPerDocumentSignature(
            document_index=0,
            api_id="sig_client",
            name="Client signature",
            type="signature",
            x=72,
            y=400,
            width=200,
            height=40,
            required=True,
            signer=0,
            page=1,
        ),
        models.SubFormFieldsPerDocumentTextMerge(
            document_index=0,
            api_id="price",
            name="Price",
            type="text-merge",
            x=120,
            y=90,
            width=150,
            height=16,
            required=False,
            signer="sender",
            page=1,
        ),
        models.SubFormFieldsPerDocumentCheckboxMerge(
            document_index=0,
            api_id="rush",
            name="Rush",
            type="checkbox-merge",
            x=120,
            y=114,
            width=14,
            height=14,
            required=False,
            signer="sender",
            page=1,
        ),
    ]
    if roles > 1:
        fields.append(
            models.SubFormFieldsPerDocumentDateSigned(
                document_index=0,
                api_id="date_manager",
                name="Date",
                type="date_signed",
                x=300,
                y=400,
                width=120,
                height=20,
                required=True,
                signer=1,
                page=1,
            )
        )
    return fields


def create_template(sdk: Any, **kw: Any) -> str:
    kw.setdefault("files", [CONTRACT])
    kw.setdefault("title", "Mutual NDA")
    kw.setdefault("signer_roles", [role("Client", 0), role("Manager", 1)])
    kw.setdefault("form_fields_per_document", contract_fields(len(kw["signer_roles"])))
    kw.setdefault("test_mode", True)
    created = dropbox_sign.TemplateApi(sdk).template_create(models.TemplateCreateRequest(**kw))
    return str(created.template.template_id)


def wait_template_event(receiver: Receiver, event_type: str, template_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """The first callback of ``event_type`` about template ``template_id``."""
    deadline = time.monotonic() + timeout
    seen = 0
    while True:
        got = receiver.wait_for(seen + 1, timeout=max(0.1, deadline - time.monotonic()))
        for r in got:
            payload = r.payload
            if (
                payload["event"]["event_type"] == event_type
                and (payload.get("template") or {}).get("template_id") == template_id
            ):
                return payload
        seen = len(got)


def ready_template(sdk: Any, receiver: Receiver, **kw: Any) -> str:
    template_id = create_template(sdk, **kw)
    wait_template_event(receiver, "template_created", template_id)
    return template_id
