"""Background work of signature requests: processing documents, canceling, expiring.

Processing runs in two phases (``jobs.handler(..., prepare=...)``). The prepare phase holds no transaction:
it fetches ``file_urls`` through the outbound guard, runs the PDF work in the PDF process pool (validation,
text tags, page images, the signature page, the merged current PDF) and builds the field list. The handler
then applies the outcome in one short transaction and emits ``signature_request_sent``, or ``file_error`` /
``signature_request_invalid`` with the reason in ``event_message`` and the signers' ``status_code`` set to
``error_file``, ``error_text_tag`` or ``error_component_position``. Both phases are idempotent: a job run
again after a crash finds the request already processed, or redoes work whose outputs overwrite themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from paraph import audit
from paraph.audit import AuditTag
from paraph.callbacks.events import EventType
from paraph.db import insert_many, utcnow
from paraph.mail import tasks as mail_tasks
from paraph.models import Document, RequestField, SignatureRequest
from paraph.models.signature_request import FilesState, SignerStatus
from paraph.ops import metrics
from paraph.outbound.fetch import FetchError, FetchPolicy, fetch_blocking
from paraph.pdf.fields import (
    FieldsError,
    apply_custom_fields,
    missing_rule_target,
    resolve_legacy_positions,
    validate_positions,
)
from paraph.pdf.model import DocumentError, DocumentErrorKind, Field, FieldGroup, FieldType, PageInfo
from paraph.pdf.pool import PdfWorkError
from paraph.pdf.stored import (
    DocumentOutcome,
    DocumentTask,
    Failure,
    PagesOutcome,
    PagesTask,
    append_stored_signature_page,
    merge_stored_pdfs,
    process_stored_document,
    render_stored_pages,
)
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.signature_request import repository
from paraph.signature_request.events import emit_event
from paraph.signature_request.schemas import field_dict
from paraph.worker import queue as jobs
from paraph.worker.periodic import every

log = logging.getLogger(__name__)


class JobKind(StrEnum):
    """The jobs of this module (the strings are stored in the jobs table: never change one)."""

    PROCESS = "signature_request.process"
    CANCEL = "signature_request.cancel"


def enqueue_processing(session: Session, sr: SignatureRequest) -> None:
    """Queue the processing of a new request's documents (:func:`apply_processing`), in its account's lane."""
    jobs.enqueue(
        session, JobKind.PROCESS.value, {"signature_request_id": sr.signature_request_id}, lane=str(sr.account_id)
    )


def enqueue_cancel(session: Session, signature_request_id: str) -> None:
    """Queue the end of a cancelation (:func:`finish_cancel`)."""
    jobs.enqueue(session, JobKind.CANCEL.value, {"signature_request_id": signature_request_id})


EXPIRY_SWEEP_SECONDS = 30
EXPIRY_BATCH = 100
_STATUS_BY_KIND = {
    DocumentErrorKind.FILE: SignerStatus.ERROR_FILE,
    DocumentErrorKind.TEXT_TAG: SignerStatus.ERROR_TEXT_TAG,
    DocumentErrorKind.COMPONENT_POSITION: SignerStatus.ERROR_COMPONENT_POSITION,
}


class _Failed(Exception):
    def __init__(self, kind: DocumentErrorKind, message: str) -> None:
        super().__init__(message)
        self.failure = Failure(kind, message)


@dataclass(slots=True)
class PlannedDocument:
    """One document to process. ``prefix`` is where its outputs are stored; a document that comes with an
    ``outcome`` (one of a template's, processed once) is not processed again."""

    index: int
    original_key: str
    source_url: str | None
    prefix: str
    outcome: DocumentOutcome | None = None
    fetched_size: int | None = None
    name: str = ""  # the uploaded file's name, for messages


@dataclass(slots=True)
class DocumentsPlan:
    """What the prepare phase needs, read in one short read transaction (a request's, or a template's)."""

    merged_key: str  # where the documents merged into one PDF go, when there are several
    account_lane: str  # the account, whose turns in the PDF pool are shared fairly with other accounts'
    docs: list[PlannedDocument]
    signer_count: int
    signer_names: list[str]  # by signer_index
    use_text_tags: bool
    hide_text_tags: bool
    ignore_text_tags_errors: bool
    requested_fields: list[dict[str, Any]]
    requested_groups: list[dict[str, Any]]
    custom_fields: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    #: Names ``custom_fields[].editor`` may use besides the signers' names (a template send's roles), by index.
    role_names: dict[str, int] = field(default_factory=dict)
    #: A stored PDF that already holds exactly these documents merged (a template's), used instead of merging.
    merged_ready: str | None = None
    #: Append a signature page when no field is a signer's (False for an unclaimed draft: the editor places them).
    signature_page: bool = True


@dataclass(slots=True)
class Prepared:
    failure: Failure | None = None
    docs: list[PlannedDocument] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    groups: list[FieldGroup] = field(default_factory=list)
    signature_page: bool = False
    current_pdf_key: str | None = None


def _reused(d: Document) -> DocumentOutcome | None:
    """A document already processed when its request was created (taken from a template): its outcome."""
    if d.processed_key is None:
        return None
    return DocumentOutcome(
        processed_key=d.processed_key,
        sha256=d.sha256 or "",
        size=d.original_size or 0,
        page_sizes=[(w, h) for w, h in d.page_sizes],
        page_image_keys=list(d.page_image_keys),
    )


def plan_for(sr: SignatureRequest) -> DocumentsPlan:
    """What processing ``sr`` needs (its signers, documents and requested fields loaded)."""
    names: dict[int, str] = {}
    roles: dict[str, int] = {}
    for s in sr.signers:
        names.setdefault(s.signer_index, s.group_name or s.name)
        if s.role:
            roles.setdefault(s.role.strip().lower(), s.signer_index)
    rid = sr.signature_request_id
    return DocumentsPlan(
        merged_key=f"sr/{rid}/current.pdf",
        account_lane=str(sr.account_id),
        docs=[
            PlannedDocument(
                d.index, d.original_key, d.source_url, f"sr/{rid}/docs/{d.index}", _reused(d), name=d.filename
            )
            for d in sr.documents
        ],
        signer_count=len(names),
        signer_names=[names[i] for i in sorted(names)],
        use_text_tags=sr.use_text_tags,
        hide_text_tags=sr.hide_text_tags,
        ignore_text_tags_errors=sr.ignore_text_tags_errors,
        requested_fields=list(sr.requested_fields or []),
        requested_groups=list(sr.form_field_groups or []),
        custom_fields=list(sr.custom_fields or []),
        rules=list(sr.form_field_rules or []),
        role_names=roles,
    )


# -- prepare (no transaction) --------------------------------------------------------------------------


def prepare(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any]:
    rid = str(payload["signature_request_id"])
    with rt.unit_of_work(write=False) as session:
        sr = repository.by_public_id(session, rid, for_processing=True)
        if sr is None or sr.files_state != FilesState.PROCESSING or sr.cancel_requested_at is not None:
            return {"prepared": None}
        plan = plan_for(sr)
    return {"prepared": prepare_documents(rt, plan)}


def prepare_documents(rt: Runtime, plan: DocumentsPlan) -> Prepared:
    """The whole PDF side of processing (no transaction): fetch, process, place fields, the signature page,
    the merged PDF; a failure comes back in ``Prepared.failure``. Templates process their documents here too."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        prepared = _prepare(rt, plan)
        outcome = "ok" if prepared.failure is None else "failed"
        return prepared
    except _Failed as exc:
        return Prepared(failure=exc.failure, docs=plan.docs)
    finally:
        metrics.DOCUMENT_SECONDS.labels(outcome).observe(time.perf_counter() - started)


def _fetch(rt: Runtime, plan: DocumentsPlan) -> None:
    settings = rt.settings
    policy = FetchPolicy(
        allow_private=settings.callback_allow_private,
        resolver=rt.resolver,
        max_bytes=settings.max_file_bytes,
        timeout=settings.callback_timeout,
    )
    for doc in plan.docs:
        if doc.source_url is None or doc.outcome is not None:
            continue
        try:
            data = fetch_blocking(doc.source_url, policy)
        except FetchError as exc:
            message = f"file_urls[{doc.index}] could not be downloaded: {exc.message}"
            raise _Failed(DocumentErrorKind.FILE, message) from None
        rt.storage.put(doc.original_key, data)
        doc.fetched_size = len(data)


def _run_pdf_work(rt: Runtime, plan: DocumentsPlan, fn: Any, *args: Any) -> Any:
    """``rt.pdf_pool.run`` in the account's lane, with a PDF process that crashed, ran out of memory or past the
    time limit reported as the file's fault (ADR 0007, ADR 0014)."""
    try:
        return rt.pdf_pool.run(fn, *args, lane=plan.account_lane)
    except PdfWorkError:
        raise _Failed(
            DocumentErrorKind.FILE, "The file could not be processed (it is damaged or too complex)."
        ) from None


#: Documents longer than this are rendered by all the PDF processes at once, each taking a range of pages,
#: after one has checked the document and read its tags; shorter ones are rendered in that same call.
RENDER_SPLIT_PAGES = 8


def _process_documents(rt: Runtime, plan: DocumentsPlan) -> None:
    """Process every document in the PDF pool, as many at a time as it has processes; then render the page
    images of the long ones in ranges spread over the pool (50 pages, upload to sent: ~147 -> ~120 ms)."""
    settings = rt.settings

    def one(doc: PlannedDocument) -> DocumentOutcome:
        task = DocumentTask(
            settings=settings,
            prefix=doc.prefix,
            original_key=doc.original_key,
            document_index=doc.index,
            signer_count=plan.signer_count,
            use_text_tags=plan.use_text_tags,
            hide_text_tags=plan.hide_text_tags,
            ignore_text_tags_errors=plan.ignore_text_tags_errors,
            max_pages=settings.max_pages,
            render_limit=RENDER_SPLIT_PAGES,
            name=doc.name,
        )
        outcome: DocumentOutcome = _run_pdf_work(rt, plan, process_stored_document, task)
        return outcome

    count = len(plan.docs)
    todo = [doc for doc in plan.docs if doc.outcome is None]  # a template's documents are processed already
    with ThreadPoolExecutor(max_workers=rt.pdf_pool.processes, thread_name_prefix="paraph-docs") as pool:
        futures = [pool.submit(one, doc) for doc in todo]
        for doc, future in zip(todo, futures, strict=True):
            doc.outcome = _outcome(doc, future, count)

        ranges: list[tuple[PlannedDocument, PagesTask]] = []
        for doc in todo:
            assert doc.outcome is not None
            pages = len(doc.outcome.page_sizes)
            if doc.outcome.page_image_keys or not pages:
                continue
            step = -(-pages // rt.pdf_pool.processes)
            for first in range(1, pages + 1, step):
                size = min(step, pages - first + 1)
                pages_task = PagesTask(settings, doc.outcome.processed_key, doc.prefix, first, size)
                ranges.append((doc, pages_task))
        rendered = [pool.submit(_run_pdf_work, rt, plan, render_stored_pages, t) for _, t in ranges]
        for (doc, _), pending in zip(ranges, rendered, strict=True):
            done: PagesOutcome = _outcome(doc, pending, count)
            assert doc.outcome is not None
            doc.outcome.page_image_keys.extend(done.image_keys)  # ranges come in page order


class _MayFail(Protocol):
    failure: Failure | None


_O = TypeVar("_O", bound=_MayFail)


def _outcome(doc: PlannedDocument, future: Future[_O], count: int) -> _O:
    """The outcome of PDF work on ``doc``, or the request's failure naming the document."""
    try:
        outcome = future.result()
    except _Failed as exc:
        raise _Failed(exc.failure.kind, _about(doc, exc.failure.message, count)) from None
    if outcome.failure is not None:
        raise _Failed(outcome.failure.kind, _about(doc, outcome.failure.message, count))
    return outcome


def _about(doc: PlannedDocument, message: str, count: int) -> str:
    if count == 1:
        return message
    return f"Document {doc.index}: {message}"


def _field(data: dict[str, Any]) -> Field:
    return Field(**{**data, "type": FieldType(data["type"])})


def _build_fields(plan: DocumentsPlan) -> tuple[list[Field], list[FieldGroup]]:
    pages = [[PageInfo(w, h) for w, h in (d.outcome.page_sizes if d.outcome else [])] for d in plan.docs]
    requested = [_field(d) for d in plan.requested_fields]
    resolve_legacy_positions(requested, pages)
    fields = list(requested)
    ids = {f.api_id for f in requested}
    groups = [FieldGroup(**g) for g in plan.requested_groups]
    group_ids = {g.group_id for g in groups}
    for doc in plan.docs:
        assert doc.outcome is not None
        for f in doc.outcome.fields:
            if f.api_id in ids:
                raise _Failed(
                    DocumentErrorKind.TEXT_TAG,
                    f"Text tags error: unique id '{f.api_id}' is used by more than one field",
                )
            ids.add(f.api_id)
            fields.append(f)
        for g in doc.outcome.groups:
            if g.group_id in group_ids:
                raise _Failed(DocumentErrorKind.TEXT_TAG, f"Text tags error: group ${g.group_id} is defined twice")
            group_ids.add(g.group_id)
            groups.append(g)
    try:
        validate_positions(fields, pages)
    except DocumentError as exc:
        raise _Failed(exc.kind, exc.message) from None
    kind = DocumentErrorKind.TEXT_TAG if plan.use_text_tags else DocumentErrorKind.COMPONENT_POSITION
    names = {**plan.role_names, **{name.strip().lower(): i for i, name in enumerate(plan.signer_names)}}
    try:
        apply_custom_fields(fields, plan.custom_fields, editor_index=lambda n: names.get(n.strip().lower()))
    except FieldsError as exc:
        raise _Failed(kind, f"{exc.error_path}: {exc.message}") from None
    missing = missing_rule_target(plan.rules, ids, group_ids)
    if missing is not None:
        raise _Failed(kind, f"form_field_rules: rule '{missing.rule_id}' names no {missing.kind} '{missing.name}'")
    return fields, groups


def _prepare(rt: Runtime, plan: DocumentsPlan) -> Prepared:
    _fetch(rt, plan)
    _process_documents(rt, plan)
    fields, groups = _build_fields(plan)
    prepared = Prepared(docs=plan.docs, fields=fields, groups=groups)
    if plan.signature_page and not any(isinstance(f.signer, int) for f in fields):
        last = plan.docs[-1]
        assert last.outcome is not None
        page = _run_pdf_work(
            rt,
            plan,
            append_stored_signature_page,
            rt.settings,
            last.outcome.processed_key,
            last.prefix,
            plan.signer_names,
            last.index,
        )
        if page.failure is not None:
            raise _Failed(page.failure.kind, page.failure.message)
        last.outcome.processed_key = page.pdf_key
        last.outcome.page_sizes.append((page.page.width, page.page.height))
        last.outcome.page_image_keys.append(page.image_key)
        prepared.fields.extend(page.fields)
        prepared.signature_page = True
    keys = [d.outcome.processed_key for d in plan.docs if d.outcome is not None]
    if len(keys) == 1:
        prepared.current_pdf_key = keys[0]
    elif plan.merged_ready is not None and not prepared.signature_page:
        prepared.current_pdf_key = plan.merged_ready
    else:
        prepared.current_pdf_key = _run_pdf_work(rt, plan, merge_stored_pdfs, rt.settings, keys, plan.merged_key)
    return prepared


# -- apply (one transaction) ---------------------------------------------------------------------------


def _signer_token(f: Field) -> str:
    return str(f.signer)


def _prefilled(f: Field) -> Any:
    if f.type is FieldType.CHECKBOX_MERGE:
        return f.is_checked
    if f.signer in ("sender", "me_now"):
        return f.content
    return None


_FIELD_COLUMNS = ("signature_request_id", "api_id", "type", "signer", "document_index", "page", "spec", "value")


def _insert_fields(session: Session, sr_pk: int, fields: list[Field]) -> None:
    """One executemany straight to the driver, the JSON columns serialized as SQLAlchemy would (``json.dumps``;
    None is JSON null): a document with hundreds of text tags is common, and per-value processing of the
    ORM bulk insert was most of the applying transaction."""
    insert_many(
        session,
        RequestField.__tablename__,
        _FIELD_COLUMNS,
        [
            (
                sr_pk,
                f.api_id,
                str(f.type),
                _signer_token(f),
                f.document_index,
                f.page,
                json.dumps(field_dict(f)),
                json.dumps(_prefilled(f)),
            )
            for f in fields
        ],
    )


def apply_sent(scope: Scope, sr: SignatureRequest, prepared: Prepared) -> None:
    """The request is processed: its documents, fields and current PDF stored, ``signature_request_sent``
    emitted and the signers mailed (a request sent from one template gets here without a job)."""
    session = scope.session
    docs = {d.index: d for d in prepared.docs}
    for document in sr.documents:
        outcome = docs[document.index].outcome if document.index in docs else None
        if outcome is None:
            continue
        document.processed_key = outcome.processed_key
        document.sha256 = outcome.sha256
        document.original_size = outcome.size
        document.page_sizes = [[w, h] for w, h in outcome.page_sizes]
        document.page_image_keys = list(outcome.page_image_keys)
    if prepared.fields:
        _insert_fields(session, sr.id, prepared.fields)
        session.expire(sr, ["fields"])
    repository.reload_response_fields(session, sr)  # the request was read without its fields (it had none)
    sr.form_field_groups = [dataclasses.asdict(g) for g in prepared.groups]
    sr.signature_page_appended = prepared.signature_page
    sr.current_pdf_key = prepared.current_pdf_key
    sr.files_state = FilesState.READY
    sr.sent_at = utcnow()
    session.flush()
    audit.record(
        session,
        AuditTag.SYSTEM_SIGNATURE_REQUEST_SENT,
        account_id=sr.account_id,
        signature_request_id=sr.signature_request_id,
        data={"fields": len(prepared.fields), "signature_page": prepared.signature_page},
    )
    emit_event(scope, sr, EventType.SIGNATURE_REQUEST_SENT)
    if not sr.is_embedded:
        mail_tasks.request_sent(session, sr)


def _apply_failure(scope: Scope, sr: SignatureRequest, failure: Failure, prepared: Prepared) -> None:
    session = scope.session
    for doc in prepared.docs:
        if doc.fetched_size is not None:
            for document in sr.documents:
                if document.index == doc.index:
                    document.original_size = doc.fetched_size
    status = _STATUS_BY_KIND.get(failure.kind, SignerStatus.ERROR_UNKNOWN)
    sr.files_state = FilesState.ERROR
    sr.has_error = True
    sr.error_message = failure.message
    for signer in sr.signers:
        signer.status_code = status
        signer.error = failure.message
    audit.record(
        session,
        AuditTag.SYSTEM_SIGNATURE_REQUEST_FAILED,
        account_id=sr.account_id,
        signature_request_id=sr.signature_request_id,
        data={"status_code": str(status), "message": failure.message},
    )
    event = EventType.FILE_ERROR if failure.kind is DocumentErrorKind.FILE else EventType.SIGNATURE_REQUEST_INVALID
    repository.reload_response_fields(session, sr)  # the request was read without its fields
    emit_event(scope, sr, event, event_message=failure.message)


@jobs.handler(JobKind.PROCESS.value, prepare=prepare)
def apply_processing(scope: Scope, payload: dict[str, Any]) -> None:
    prepared = payload.get("prepared")
    if not isinstance(prepared, Prepared):
        return
    sr = repository.by_public_id(scope.session, str(payload["signature_request_id"]), lock=True, for_processing=True)
    if sr is None or sr.files_state != FilesState.PROCESSING or sr.cancel_requested_at is not None:
        return
    if prepared.failure is not None:
        _apply_failure(scope, sr, prepared.failure, prepared)
    else:
        apply_sent(scope, sr, prepared)


@jobs.handler(JobKind.CANCEL.value)
def finish_cancel(scope: Scope, payload: dict[str, Any]) -> None:
    session = scope.session
    sr = repository.by_public_id(session, str(payload["signature_request_id"]), lock=True)
    if sr is None or sr.canceled_at is not None:
        return
    sr.canceled_at = utcnow()
    audit.record(
        session,
        AuditTag.SYSTEM_SIGNATURE_REQUEST_CANCELED,
        account_id=sr.account_id,
        signature_request_id=sr.signature_request_id,
    )
    emit_event(scope, sr, EventType.SIGNATURE_REQUEST_CANCELED)


# -- expiry --------------------------------------------------------------------------------------------


def expire_due(rt: Runtime) -> int:
    """Expire requests whose ``expires_at`` passed: unsigned signers become ``expired``, and
    ``signature_request_expired`` is emitted. Returns how many were expired."""
    now = utcnow()
    with rt.unit_of_work(write=False) as session:
        if not repository.due_for_expiry(session, now, 1, lock=False):
            return 0
    with rt.unit_of_work() as session:
        scope = Scope.of(session, rt)
        due = repository.due_for_expiry(session, now, EXPIRY_BATCH)
        for sr in due:
            expire_one(scope, sr)
        return len(due)


def expire_one(scope: Scope, sr: SignatureRequest) -> None:
    """Expire ``sr`` (locked by the caller): unsigned signers become ``expired``, ``signature_request_expired``
    is emitted. The sweep's, and the test-mode simulation's (``POST /paraph/v1/test/.../expire``)."""
    sr.is_expired = True
    for signer in sr.signers:
        if signer.status_code in (SignerStatus.AWAITING_SIGNATURE, SignerStatus.ON_HOLD_BY_REQUESTER):
            signer.status_code = SignerStatus.EXPIRED
    audit.record(
        scope.session,
        AuditTag.SYSTEM_SIGNATURE_REQUEST_EXPIRED,
        account_id=sr.account_id,
        signature_request_id=sr.signature_request_id,
    )
    emit_event(scope, sr, EventType.SIGNATURE_REQUEST_EXPIRED)


@every(EXPIRY_SWEEP_SECONDS, "signature_requests.expire")
def _expiry_sweep(rt: Runtime) -> None:
    expire_due(rt)


@every(3600, "signature_requests.sign_url_tokens")
def _token_sweep(rt: Runtime) -> None:
    with rt.unit_of_work() as session:
        repository.delete_stale_tokens(session, utcnow() - dt.timedelta(days=1))
