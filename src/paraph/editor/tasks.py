"""Processing an unclaimed draft's documents before the editor opens: the request pipeline
(``signature_request.tasks.prepare_documents``: fetch, sanitize, text tags, page images) without a signature
page, its outputs under ``sr/<draft_id>/docs/<i>`` where the request the draft becomes finds them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from paraph.editor import repository
from paraph.models import UnclaimedDraft
from paraph.models.editor import DraftState
from paraph.pdf.stored import DocumentOutcome
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.signature_request.schemas import field_dict
from paraph.signature_request.tasks import DocumentsPlan, PlannedDocument, Prepared, prepare_documents
from paraph.worker import queue as jobs


class JobKind(StrEnum):
    """The jobs of this module (stored in the jobs table: never change one)."""

    PROCESS = "unclaimed_draft.process"


def enqueue_processing(session: Session, d: UnclaimedDraft) -> None:
    jobs.enqueue(session, JobKind.PROCESS.value, {"draft_id": d.draft_id}, lane=str(d.account_id))


def _reused(doc: dict[str, Any]) -> DocumentOutcome | None:
    """A template's document in a draft from templates: processed once already, not processed again."""
    if not doc.get("processed_key"):
        return None
    return DocumentOutcome(
        processed_key=str(doc["processed_key"]),
        sha256=str(doc.get("sha256") or ""),
        size=int(doc.get("size") or 0),
        page_sizes=[(w, h) for w, h in doc.get("page_sizes") or []],
        page_image_keys=list(doc.get("page_image_keys") or []),
    )


def plan_for(d: UnclaimedDraft) -> DocumentsPlan:
    params = d.params or {}
    signers = params.get("signers") or []
    names = [str(s.get("name") or "") for s in signers] or ["Signer 1"]
    rid = d.draft_id
    return DocumentsPlan(
        merged_key=f"sr/{rid}/draft.pdf",
        account_lane=str(d.account_id),
        docs=[
            PlannedDocument(
                int(doc["index"]),
                doc["original_key"],
                doc.get("source_url"),
                f"sr/{rid}/docs/{doc['index']}",
                _reused(doc),
                name=str(doc.get("filename") or ""),
            )
            for doc in d.documents
        ],
        signer_count=len(names),
        signer_names=names,
        use_text_tags=bool(params.get("use_text_tags") or params.get("use_preexisting_fields")),
        hide_text_tags=bool(params.get("hide_text_tags")),
        ignore_text_tags_errors=bool(params.get("ignore_text_tags_extraction_errors")),
        requested_fields=list(d.fields or []),
        requested_groups=list(d.groups or []),
        custom_fields=[],
        rules=list(params.get("form_field_rules") or []),
        signature_page=False,
    )


def prepare(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any]:
    with rt.unit_of_work(write=False) as session:
        d = repository.draft(session, str(payload["draft_id"]))
        if d is None or d.state != DraftState.PROCESSING:
            return {"prepared": None}
        plan = plan_for(d)
    return {"prepared": prepare_documents(rt, plan)}


@jobs.handler(JobKind.PROCESS.value, prepare=prepare)
def apply_processing(scope: Scope, payload: dict[str, Any]) -> None:
    prepared = payload.get("prepared")
    if not isinstance(prepared, Prepared):
        return
    d = repository.draft(scope.session, str(payload["draft_id"]), lock=True)
    if d is None or d.state != DraftState.PROCESSING:
        return
    if prepared.failure is not None:
        d.state = DraftState.ERROR
        d.error_message = prepared.failure.message
        return
    outcomes = {p.index: p for p in prepared.docs}
    documents = []
    for doc in d.documents:
        planned = outcomes.get(int(doc["index"]))
        outcome = planned.outcome if planned is not None else None
        if outcome is not None:
            doc = {
                **doc,
                "processed_key": outcome.processed_key,
                "sha256": outcome.sha256,
                "size": outcome.size,
                "page_sizes": [[w, h] for w, h in outcome.page_sizes],
                "page_image_keys": list(outcome.page_image_keys),
            }
        documents.append(doc)
    d.documents = documents
    d.fields = [field_dict(f) for f in prepared.fields]
    d.groups = [
        {"group_id": g.group_id, "requirement": g.requirement, "group_label": g.group_label} for g in prepared.groups
    ]
    d.state = DraftState.READY
