"""Background work of templates: processing their documents (after ``create`` and ``update_files``).

The same two phases and the same pipeline as a request's (``signature_request.tasks.prepare_documents``):
the prepare phase fetches ``file_urls``, processes the PDFs in the PDF pool (text tags when
``use_preexisting_fields``), places the fields for the roles and appends a signature page when no field is a
signer's; the handler then stores the outcome in one short transaction and emits ``template_created``, or
``template_error`` with the reason in ``event_message``. The outputs go under
``tpl/<template_id>/v<files_version>/``, written once: requests sent from the template share those keys.
"""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from paraph import audit
from paraph.audit import AuditTag
from paraph.callbacks import service as callbacks
from paraph.callbacks.events import EventType
from paraph.db import insert_many, utcnow
from paraph.models import Template, TemplateField
from paraph.models.template import TemplateState
from paraph.pdf.model import Field
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.signature_request.schemas import field_dict
from paraph.signature_request.tasks import DocumentsPlan, PlannedDocument, Prepared, prepare_documents
from paraph.template import repository
from paraph.template.schemas import serialize_template
from paraph.worker import queue as jobs


class JobKind(StrEnum):
    """The jobs of this module (the strings are stored in the jobs table: never change one)."""

    PROCESS = "template.process"


def enqueue_processing(session: Session, template: Template) -> None:
    """Queue the processing of the template's documents of its current ``files_version``, in its account's
    lane."""
    jobs.enqueue(
        session,
        JobKind.PROCESS.value,
        {"template_id": template.template_id, "files_version": template.files_version},
        lane=str(template.account_id),
    )


def files_prefix(template_id: str, files_version: int) -> str:
    return f"tpl/{template_id}/v{files_version}"


def emit_event(scope: Scope, t: Template, event: EventType, *, event_message: str | None = None) -> None:
    """A callback event about a template, to its creator (and the app of its ``client_id``)."""
    callbacks.emit(
        scope.session,
        scope.keys,
        t.account,
        event,
        api_app=t.api_app,
        object_kind="template",
        object_json=serialize_template(t, t.account),
        template_id=t.template_id,
        event_message=event_message,
    )


def _current(session: Session, payload: dict[str, Any], *, lock: bool = False) -> Template | None:
    t = repository.by_public_id(session, str(payload["template_id"]), lock=lock)
    if t is None or t.state != TemplateState.PROCESSING or t.files_version != int(payload["files_version"]):
        return None
    return t


def _plan(t: Template) -> DocumentsPlan:
    prefix = files_prefix(t.template_id, t.files_version)
    return DocumentsPlan(
        merged_key=f"{prefix}/current.pdf",
        account_lane=str(t.account_id),
        docs=[
            PlannedDocument(d.index, d.original_key, d.source_url, f"{prefix}/docs/{d.index}", name=d.filename)
            for d in t.documents
        ],
        signer_count=len(t.signer_roles),
        signer_names=[r.name for r in t.signer_roles],
        use_text_tags=t.use_text_tags,
        hide_text_tags=False,
        ignore_text_tags_errors=t.ignore_text_tags_errors,
        requested_fields=list(t.requested_fields or []),
        requested_groups=list(t.form_field_groups or []),
        custom_fields=[],
        rules=list(t.form_field_rules or []),
        signature_page=not t.is_draft,  # an embedded draft's signer fields are placed in the editor
    )


def prepare(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any]:
    with rt.unit_of_work(write=False) as session:
        t = _current(session, payload)
        if t is None:
            return {"prepared": None}
        plan = _plan(t)
    return {"prepared": prepare_documents(rt, plan)}


_FIELD_COLUMNS = ("template_id", "api_id", "type", "role_index", "document_index", "page", "spec")


def _insert_fields(session: Session, template_pk: int, fields: list[Field]) -> None:
    insert_many(
        session,
        TemplateField.__tablename__,
        _FIELD_COLUMNS,
        [
            (
                template_pk,
                f.api_id,
                str(f.type),
                str(f.signer),
                f.document_index,
                f.page,
                json.dumps(field_dict(f)),
            )
            for f in fields
        ],
    )


def _apply_ready(scope: Scope, t: Template, prepared: Prepared) -> None:
    session = scope.session
    outcomes = {d.index: d.outcome for d in prepared.docs}
    for document in t.documents:
        outcome = outcomes.get(document.index)
        if outcome is None:
            continue
        document.processed_key = outcome.processed_key
        document.sha256 = outcome.sha256
        document.original_size = outcome.size
        document.page_sizes = [[w, h] for w, h in outcome.page_sizes]
        document.page_image_keys = list(outcome.page_image_keys)
    for old in list(t.fields):
        t.fields.remove(old)
    session.flush()
    if prepared.fields:
        _insert_fields(session, t.id, prepared.fields)
        repository.reload_fields(session, t)
    t.form_field_groups = [dataclasses.asdict(g) for g in prepared.groups]
    t.signature_page_appended = prepared.signature_page
    t.current_pdf_key = prepared.current_pdf_key
    t.state = TemplateState.READY
    t.error_message = None
    t.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        AuditTag.SYSTEM_TEMPLATE_CREATED,
        account_id=t.account_id,
        data={"template_id": t.template_id, "fields": len(prepared.fields), "files_version": t.files_version},
    )
    if not t.is_draft:  # an embedded draft is created when the editor saves it (paraph.editor.service)
        emit_event(scope, t, EventType.TEMPLATE_CREATED)


def _apply_failure(scope: Scope, t: Template, message: str) -> None:
    session = scope.session
    t.state = TemplateState.ERROR
    t.error_message = message
    t.updated_at = utcnow()
    audit.record(
        session,
        AuditTag.SYSTEM_TEMPLATE_FAILED,
        account_id=t.account_id,
        data={"template_id": t.template_id, "message": message},
    )
    emit_event(scope, t, EventType.TEMPLATE_ERROR, event_message=message)


@jobs.handler(JobKind.PROCESS.value, prepare=prepare)
def apply_processing(scope: Scope, payload: dict[str, Any]) -> None:
    session = scope.session
    prepared = payload.get("prepared")
    if not isinstance(prepared, Prepared):
        return
    t = _current(session, payload, lock=True)
    if t is None:
        return
    if prepared.failure is not None:
        _apply_failure(scope, t, prepared.failure.message)
    else:
        _apply_ready(scope, t, prepared)
