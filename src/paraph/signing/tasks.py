"""The final document job: stamp the values, append the audit trail, seal, store, announce.

``prepare`` (no transaction) reads what the document needs in a short read transaction, then builds the
file in the PDF process pool (:mod:`paraph.pdf.pool`, :mod:`paraph.pdf.stored`).
The handler then records the file on the request (``final_pdf_key``, which ``files``, ``files_as_data_uri``
and ``files_as_file_url`` serve) and emits ``signature_request_downloadable``, only now. Running the job
again rebuilds the same key, or finds the request already finalized.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from paraph import audit
from paraph.audit import AuditTag
from paraph.callbacks.events import EventType
from paraph.config import Settings
from paraph.mail import tasks as mail_tasks
from paraph.models import FinalDocument, RequestField, SignatureRequest
from paraph.pdf.model import Field, FieldType
from paraph.pdf.stored import FinalOutcome, FinalTask, StampedField, build_and_store
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.signature_request import repository as requests
from paraph.signature_request.events import emit_event
from paraph.signature_request.files import final_key
from paraph.signing import repository, rules
from paraph.signing.seal_key import seal_pem
from paraph.signing.trail import build_trail
from paraph.worker import queue as jobs


class JobKind(StrEnum):
    """The jobs of this module (the strings are stored in the jobs table: never change one)."""

    FINALIZE = "signing.finalize"


def enqueue_finalize(session: Session, sr: SignatureRequest) -> None:
    """Queue the final document of a request every signer has signed (:func:`store_final`), in its account's
    lane."""
    jobs.enqueue(
        session, JobKind.FINALIZE.value, {"signature_request_id": sr.signature_request_id}, lane=str(sr.account_id)
    )


# -- the job ---------------------------------------------------------------------------------------------


def _field(spec: dict[str, Any]) -> Field:
    return Field(**{**spec, "type": FieldType(spec["type"])})


def _stamped(f: RequestField, image_keys: dict[str, str]) -> StampedField | None:
    """What to draw for one field, or None (an empty field, a field hidden by a rule)."""
    spec = f.spec
    kind = f.type
    if kind == FieldType.HYPERLINK:
        return StampedField(_field(spec), spec.get("content") or spec.get("content_url"), None)
    if kind in rules.IMAGE_TYPES:
        key = image_keys.get(f.api_id)
        return StampedField(_field(spec), f.value if isinstance(f.value, str) else None, key) if key else None
    value = f.value
    if value is None and kind in (FieldType.TEXT_MERGE, FieldType.CHECKBOX_MERGE) and f.signer == "sender":
        value = spec.get("is_checked") if kind == FieldType.CHECKBOX_MERGE else spec.get("content")
    if value is None:
        return None
    if kind in rules.BOOLEAN_TYPES:
        value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
    elif not isinstance(value, str):
        value = str(value)
    if value == "" or value is False:
        return None
    return StampedField(_field(spec), value, None)


def plan(session: Session, settings: Settings, sr: SignatureRequest, seal_pem: bytes | None = None) -> FinalTask:
    image_keys = {img.api_id: img.storage_key for img in repository.images_of(session, sr)}
    fields = [s for f in repository.fields_of(session, sr) if (s := _stamped(f, image_keys)) is not None]
    trail = build_trail(sr, repository.audit_events(session, sr.signature_request_id))
    keys = [d.processed_key or d.original_key for d in sr.documents]
    return FinalTask(settings, keys, fields, trail, final_key(sr.signature_request_id), seal_pem)


def prepare(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any]:
    seal = seal_pem(rt)  # the deployment's, whichever worker seals (outside the read transaction: may store it)
    with rt.unit_of_work(write=False) as session:
        sr = requests.by_public_id(session, str(payload["signature_request_id"]))
        if sr is None or not sr.is_complete or sr.final_pdf_key is not None:
            return {"outcome": None}
        task = plan(session, rt.settings, sr, seal)
        lane = str(sr.account_id)  # the account's turns in the PDF pool are shared fairly with other accounts'
    outcome: FinalOutcome = rt.pdf_pool.run(build_and_store, task, lane=lane)
    return {"outcome": outcome}


@jobs.handler(JobKind.FINALIZE.value, prepare=prepare)
def store_final(scope: Scope, payload: dict[str, Any]) -> None:
    session = scope.session
    outcome = payload.get("outcome")
    if not isinstance(outcome, FinalOutcome):
        return
    sr = requests.by_public_id(session, str(payload["signature_request_id"]), lock=True)
    if sr is None or sr.final_pdf_key is not None:
        return
    sr.final_pdf_key = outcome.key
    session.add(
        FinalDocument(signature_request_id=sr.id, storage_key=outcome.key, sha256=outcome.sha256, size=outcome.size)
    )
    audit.record(
        session,
        AuditTag.SYSTEM_SIGNATURE_REQUEST_FINALIZED,
        account_id=sr.account_id,
        signature_request_id=sr.signature_request_id,
        data={"sha256": outcome.sha256, "size": outcome.size},
    )
    emit_event(scope, sr, EventType.SIGNATURE_REQUEST_DOWNLOADABLE)
    mail_tasks.completed(session, sr)
