"""Creating a signature request, split so that no write transaction waits on big uploads: :func:`draft`
checks everything that needs no database (400s with ``error_path``), :func:`store_uploads` writes the files
(before the transaction when they are big), :func:`create` inserts the rows and queues the processing job
(:mod:`paraph.signature_request.tasks`), which emits ``signature_request_sent`` (or ``file_error`` /
``signature_request_invalid``) when it is done.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from paraph.api_app import repository as apps
from paraph.audit import AuditTag
from paraph.config import Settings
from paraph.db import utcnow
from paraph.errors import (
    BadRequest,
)
from paraph.models import Account, ApiApp, Document, SignatureRequest, Signer
from paraph.models.signature_request import FilesState, SignerStatus
from paraph.outbound.fetch import check_file_url
from paraph.outbound.guard import UrlRefused
from paraph.pdf.fields import FieldsError, missing_rule_target, normalize_form_fields
from paraph.pdf.model import Field, FieldGroup
from paraph.scope import Scope
from paraph.security import hash_pin, new_hex_id
from paraph.signature_request.events import record
from paraph.signature_request.schemas import (
    SignatureRequestCreateRequest,
    SubAttachment,
    SubFormFieldRule,
    field_dict,
)
from paraph.signature_request.tasks import (
    enqueue_processing,
)
from paraph.storage import Storage
from paraph.wire.decode import UploadedFile
from paraph.wire.responses import warning

_SDK_FILE_NAME = re.compile(r"files?\[\d*\]")
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()-]+")


@dataclass(slots=True)
class DraftDocument:
    index: int
    filename: str
    original_key: str
    data: bytes | None = None  # an upload
    source_url: str | None = None  # a file_urls entry, fetched by the processing job


@dataclass(slots=True)
class DraftSigner:
    signer_index: int
    name: str
    email_address: str
    order: int | None
    pin: str | None
    group_name: str | None = None
    group_guid: str | None = None


@dataclass(slots=True)
class Draft:
    """A create request that passed every check that needs no database."""

    signature_request_id: str
    embedded: bool
    req: SignatureRequestCreateRequest
    signers: list[DraftSigner]
    documents: list[DraftDocument]
    fields: list[Field]
    groups: list[FieldGroup]
    expires_at: dt.datetime | None
    warnings: list[dict[str, str]] = field(default_factory=list)

    @property
    def upload_bytes(self) -> int:
        return sum(len(doc.data) for doc in self.documents if doc.data is not None)


def fields_error(exc: FieldsError) -> BadRequest:
    return BadRequest(f"{exc.error_path}: {exc.message}", error_path=exc.error_path)


def upload_filename(upload: UploadedFile, index: int) -> str:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    if not name or _SDK_FILE_NAME.fullmatch(name):
        return f"document-{index + 1}"
    return UNSAFE_NAME.sub("_", name)[:200]


def url_filename(url: str, index: int) -> str:
    tail = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return UNSAFE_NAME.sub("_", tail)[:200] or f"document-{index + 1}"


def _signers(req: SignatureRequestCreateRequest) -> list[DraftSigner]:
    if req.signers and req.grouped_signers:
        raise BadRequest("Send signers or grouped_signers, not both.", error_path="grouped_signers")
    if req.grouped_signers:
        out: list[DraftSigner] = []
        for gi, group in enumerate(req.grouped_signers):
            guid = new_hex_id(20)
            for member in group.signers:
                out.append(
                    DraftSigner(gi, member.name, member.email_address, group.order, member.pin, group.group, guid)
                )
        return out
    if not req.signers:
        raise BadRequest("signers: At least one signer is required.", error_path="signers")
    return [DraftSigner(i, s.name, s.email_address, s.order, s.pin) for i, s in enumerate(req.signers)]


def _documents(
    rid: str, req: SignatureRequestCreateRequest, uploads: list[UploadedFile], settings: Settings
) -> list[DraftDocument]:
    urls = req.file_urls or []
    if uploads and urls:
        raise BadRequest("Send files or file_urls, not both.", error_path="file_urls")
    if not uploads and not urls:
        raise BadRequest("files: Upload files or give file_urls.", error_path="files")
    name = "files" if uploads else "file_urls"
    if len(uploads) + len(urls) > settings.max_files:
        raise BadRequest(f"{name}: At most {settings.max_files} files per signature request.", error_path=name)
    docs: list[DraftDocument] = []
    for i, upload in enumerate(uploads):
        if len(upload.data) > settings.max_file_bytes:
            raise BadRequest(
                f"files[{i}]: The file is larger than the limit of {settings.max_file_bytes} bytes.",
                error_path=f"files[{i}]",
            )
        key = f"sr/{rid}/docs/{i}/original"
        docs.append(DraftDocument(i, upload_filename(upload, i), key, data=upload.data))
    for i, url in enumerate(urls):
        try:
            checked = check_file_url(url, allow_private=settings.callback_allow_private)
        except UrlRefused as exc:
            raise BadRequest(f"file_urls[{i}]: {exc.message}", error_path=f"file_urls[{i}]") from None
        key = f"sr/{rid}/docs/{i}/original"
        docs.append(DraftDocument(i, url_filename(checked, i), key, source_url=checked))
    return docs


def check_rules(
    rules: list[SubFormFieldRule] | None, fields: list[Field], groups: list[FieldGroup], *, text_tags: bool
) -> None:
    """Rules name fields and groups that exist (checked here unless text tags may still add fields)."""
    if text_tags or not rules:
        return
    dumped = [rule.model_dump() for rule in rules]
    missing = missing_rule_target(dumped, {f.api_id for f in fields}, {g.group_id for g in groups})
    if missing is not None:
        key = "api_id" if missing.kind == "field" else "group_id"
        raise BadRequest(f"{missing.path}: no {missing.kind} has {key} '{missing.name}'", error_path=missing.path)


def checked_fields(
    form_fields_per_document: Any,
    form_field_groups: Any,
    rules: list[SubFormFieldRule] | None,
    attachments: list[SubAttachment] | None,
    *,
    signer_count: int,
    document_count: int,
    text_tags: bool,
    signer_word: str = "signer",
) -> tuple[list[Field], list[FieldGroup]]:
    """The fields and groups of a request or a template, normalized, with their rules and the attachments'
    ``signer_index`` checked against ``signer_count`` signers (a template's: roles, ``signer_word``)."""
    try:
        fields, groups = normalize_form_fields(
            form_fields_per_document,
            signer_count=signer_count,
            document_count=document_count,
            form_field_groups=form_field_groups,
        )
    except FieldsError as exc:
        raise fields_error(exc) from None
    check_rules(rules, fields, groups, text_tags=text_tags)
    for i, attachment in enumerate(attachments or []):
        if not 0 <= attachment.signer_index < signer_count:
            path = f"attachments[{i}].signer_index"
            raise BadRequest(f"{path}: there is no {signer_word} {attachment.signer_index}", error_path=path)
    return fields, groups


def draft(
    req: SignatureRequestCreateRequest,
    uploads: list[UploadedFile],
    settings: Settings,
    *,
    embedded: bool,
    signature_request_id: str | None = None,
) -> Draft:
    """Every check that needs no database; raises BadRequest with ``error_path``. ``signature_request_id``: the
    request an edit replaces (its new uploads are stored apart from the files of the version it replaces,
    which stay whole until the edit is committed)."""
    if embedded and not req.client_id:
        raise BadRequest("client_id: This value should not be blank", error_path="client_id")
    rid = signature_request_id or new_hex_id(20)
    signers = _signers(req)
    signer_count = max(s.signer_index for s in signers) + 1
    documents = _documents(edit_root(rid) if signature_request_id else rid, req, uploads, settings)
    fields, groups = checked_fields(
        req.form_fields_per_document,
        req.form_field_groups,
        req.form_field_rules,
        req.attachments,
        signer_count=signer_count,
        document_count=len(documents),
        text_tags=req.use_text_tags,
    )
    expires_at = None
    if req.expires_at is not None:
        expires_at = future_time(req.expires_at)
    warnings: list[dict[str, str]] = []
    if any(s.sms_phone_number for s in req.signers or []):
        warnings.append(warning("parameter_ignored", "SMS delivery and authentication are not available."))
    if req.is_qualified_signature or req.is_eid:
        warnings.append(warning("parameter_ignored", "Qualified signatures and eID are not available."))
    return Draft(rid, embedded, req, signers, documents, fields, groups, expires_at, warnings)


def edit_root(rid: str) -> str:
    """Where an edit of request ``rid`` stores its uploads (under ``sr/``): apart from every earlier version's."""
    return f"{rid}/edit-{new_hex_id(8)}"


def future_time(timestamp: int) -> dt.datetime:
    try:
        when = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest("expires_at: not a valid Unix time", error_path="expires_at") from None
    if when <= utcnow():
        raise BadRequest("expires_at: must be in the future", error_path="expires_at")
    return when


def check_client_id(session: Session, account: Account, client_id: str | None) -> ApiApp | None:
    if not client_id:
        return None
    app = apps.get_owned(session, account, client_id)
    if app is None:
        raise BadRequest("client_id: no API app of yours has this client_id", error_path="client_id")
    return app


def store_uploads(storage: Storage, d: Draft) -> None:
    """Write the uploads before the write transaction opens (and :func:`discard_uploads` if it fails)."""
    for doc in d.documents:
        if doc.data is not None:
            storage.put(doc.original_key, doc.data)


def discard_uploads(storage: Storage, d: Draft) -> None:
    for doc in d.documents:
        if doc.data is not None:
            storage.delete(doc.original_key)


def create(
    scope: Scope,
    account: Account,
    d: Draft,
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> SignatureRequest:
    """Insert the request, its signers and documents, and queue the processing job."""
    req = d.req
    session = scope.session
    app = check_client_id(session, account, req.client_id)
    title = req.title or req.subject or ""
    sr = SignatureRequest(
        signature_request_id=d.signature_request_id,
        account_id=account.id,
        api_app_id=app.id if app else None,
        is_embedded=d.embedded,
        test_mode=req.test_mode,
        title=title,
        original_title=title,
        subject=req.subject,
        message=req.message,
        metadata_=req.metadata or {},
        cc_email_addresses=list(req.cc_email_addresses or []),
        signing_redirect_url=req.signing_redirect_url,
        allow_decline=req.allow_decline,
        allow_reassign=req.allow_reassign,
        use_text_tags=req.use_text_tags,
        hide_text_tags=req.hide_text_tags,
        ignore_text_tags_errors=req.ignore_text_tags_extraction_errors,
        populate_auto_fill_fields=req.populate_auto_fill_fields,
        has_signing_order=any(s.order is not None for s in d.signers),
        signing_options=req.signing_options.model_dump() if req.signing_options else None,
        field_options=req.field_options.model_dump() if req.field_options else None,
        signer_experience=req.signer_experience.model_dump() if req.signer_experience else None,
        attachments=[{**a.model_dump(), "id": new_hex_id(16), "uploaded_at": None} for a in req.attachments or []],
        form_field_groups=[dataclasses.asdict(g) for g in d.groups],
        form_field_rules=[r.model_dump() for r in req.form_field_rules or []],
        custom_fields=[c.model_dump() for c in req.custom_fields or []],
        requested_fields=[field_dict(f) for f in d.fields],
        files_state=FilesState.PROCESSING,
        expires_at=d.expires_at,
        created_at=utcnow(),
    )
    sr.account = account
    sr.api_app = app
    for position, s in enumerate(d.signers):
        sr.signers.append(
            Signer(
                signature_id=new_hex_id(16),
                position=position,
                signer_index=s.signer_index,
                name=s.name,
                email_address=s.email_address,
                order=s.order,
                group_guid=s.group_guid,
                group_name=s.group_name,
                pin_hash=hash_pin(s.pin) if s.pin else None,
                status_code=SignerStatus.AWAITING_SIGNATURE,
            )
        )
    for doc in d.documents:
        sr.documents.append(
            Document(
                index=doc.index,
                filename=doc.filename,
                source_url=doc.source_url,
                original_key=doc.original_key,
                original_size=len(doc.data) if doc.data is not None else None,
            )
        )
    session.add(sr)
    session.flush()
    set_committed_value(sr, "response_fields", [])  # no field exists before processing makes them
    record(
        session,
        account,
        sr.signature_request_id,
        AuditTag.API_SIGNATURE_REQUEST_CREATED,
        ip_address,
        user_agent,
        data={
            "title": sr.title,
            "embedded": d.embedded,
            "test_mode": sr.test_mode,
            "signers": [{"signature_id": s.signature_id, "email_address": s.email_address} for s in sr.signers],
            "documents": [{"index": doc.index, "filename": doc.filename} for doc in sr.documents],
        },
    )
    enqueue_processing(session, sr)
    return sr
