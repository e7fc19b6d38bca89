"""Signature request rules: creating (cheap checks now, documents later), querying, cancel, remind, update,
remove, release_hold and files.

Creating is split so that no write transaction waits on big uploads: :func:`draft` checks everything that
needs no database (400s with ``error_path``), :func:`store_uploads` writes the files (before the transaction
when they are big), :func:`create` inserts the rows and queues the processing job
(``paraph.signature_request.processing``), which emits ``signature_request_sent`` (or ``file_error`` /
``signature_request_invalid``) when it is done.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from paraph import audit
from paraph.api_app import repository as apps
from paraph.callbacks import service as callbacks
from paraph.callbacks.events import EventType
from paraph.callbacks.guard import UrlRefused
from paraph.config import Settings
from paraph.db import utcnow
from paraph.errors import (
    BadRequest,
    CancelFailed,
    Conflict,
    Deleted,
    InvalidReminder,
    NotFound,
    RemoveFailed,
)
from paraph.models import Account, ApiApp, Document, SignatureRequest, Signer
from paraph.models.signature_request import FilesState, SignerStatus
from paraph.pdf.fields import FieldsError, normalize_form_fields
from paraph.pdf.model import Field, FieldGroup
from paraph.runtime import runtime_of
from paraph.security import KeyBox, new_hex_id
from paraph.signature_request import repository
from paraph.signature_request.fetch import check_file_url
from paraph.signature_request.schemas import (
    SignatureRequestCreateRequest,
    SignatureRequestUpdateRequest,
    field_dict,
    serialize_signature_request,
)
from paraph.signature_request.search import compile_query
from paraph.storage import Storage
from paraph.wire.decode import UploadedFile
from paraph.wire.responses import warning
from paraph.worker import jobs

PROCESS_JOB = "signature_request.process"
CANCEL_JOB = "signature_request.cancel"
MAIL_SENT_JOB = "mail.signature_request_sent"
MAIL_REMIND_JOB = "mail.remind"
MAIL_INVITE_JOB = "mail.signer_invite"
REMIND_INTERVAL = dt.timedelta(hours=1)
FILE_URL_TTL = dt.timedelta(days=3)
_SDK_FILE_NAME = re.compile(r"files?\[\d*\]")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()-]+")


# -- creating --------------------------------------------------------------------------------------------


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


def _fields_error(exc: FieldsError) -> BadRequest:
    return BadRequest(f"{exc.error_path}: {exc.message}", error_path=exc.error_path)


def _filename(upload: UploadedFile, index: int) -> str:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    if not name or _SDK_FILE_NAME.fullmatch(name):
        return f"document-{index + 1}"
    return _UNSAFE_NAME.sub("_", name)[:200]


def _url_filename(url: str, index: int) -> str:
    tail = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return _UNSAFE_NAME.sub("_", tail)[:200] or f"document-{index + 1}"


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
        docs.append(DraftDocument(i, _filename(upload, i), key, data=upload.data))
    for i, url in enumerate(urls):
        try:
            checked = check_file_url(url, allow_private=settings.callback_allow_private)
        except UrlRefused as exc:
            raise BadRequest(f"file_urls[{i}]: {exc.message}", error_path=f"file_urls[{i}]") from None
        key = f"sr/{rid}/docs/{i}/original"
        docs.append(DraftDocument(i, _url_filename(checked, i), key, source_url=checked))
    return docs


def _check_rules(req: SignatureRequestCreateRequest, fields: list[Field], groups: list[FieldGroup]) -> None:
    """Rules name fields and groups that exist (checked here unless text tags may still add fields)."""
    if req.use_text_tags or not req.form_field_rules:
        return
    api_ids = {f.api_id for f in fields}
    group_ids = {g.group_id for g in groups}
    for ri, rule in enumerate(req.form_field_rules):
        for ti, trigger in enumerate(rule.triggers):
            if trigger.id not in api_ids:
                path = f"form_field_rules[{ri}].triggers[{ti}].id"
                raise BadRequest(f"{path}: no field has api_id '{trigger.id}'", error_path=path)
        for ai, action in enumerate(rule.actions):
            if action.field_id is not None and action.field_id not in api_ids:
                path = f"form_field_rules[{ri}].actions[{ai}].field_id"
                raise BadRequest(f"{path}: no field has api_id '{action.field_id}'", error_path=path)
            if action.group_id is not None and action.group_id not in group_ids:
                path = f"form_field_rules[{ri}].actions[{ai}].group_id"
                raise BadRequest(f"{path}: no group has group_id '{action.group_id}'", error_path=path)


def draft(
    req: SignatureRequestCreateRequest, uploads: list[UploadedFile], settings: Settings, *, embedded: bool
) -> Draft:
    """Every check that needs no database; raises BadRequest with ``error_path``."""
    if embedded and not req.client_id:
        raise BadRequest("client_id: This value should not be blank", error_path="client_id")
    rid = new_hex_id(20)
    signers = _signers(req)
    signer_count = max(s.signer_index for s in signers) + 1
    documents = _documents(rid, req, uploads, settings)
    try:
        fields, groups = normalize_form_fields(
            req.form_fields_per_document,
            signer_count=signer_count,
            document_count=len(documents),
            form_field_groups=req.form_field_groups,
        )
    except FieldsError as exc:
        raise _fields_error(exc) from None
    _check_rules(req, fields, groups)
    for i, attachment in enumerate(req.attachments or []):
        if not 0 <= attachment.signer_index < signer_count:
            path = f"attachments[{i}].signer_index"
            raise BadRequest(f"{path}: there is no signer {attachment.signer_index}", error_path=path)
    expires_at = None
    if req.expires_at is not None:
        expires_at = _future(req.expires_at)
    warnings: list[dict[str, str]] = []
    if any(s.sms_phone_number for s in req.signers or []):
        warnings.append(warning("parameter_ignored", "SMS delivery and authentication are not available."))
    if req.is_qualified_signature or req.is_eid:
        warnings.append(warning("parameter_ignored", "Qualified signatures and eID are not available."))
    return Draft(rid, embedded, req, signers, documents, fields, groups, expires_at, warnings)


def _future(timestamp: int) -> dt.datetime:
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
    session: Session,
    account: Account,
    d: Draft,
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> SignatureRequest:
    """Insert the request, its signers and documents, and queue the processing job."""
    req = d.req
    app = check_client_id(session, account, req.client_id)
    keys = runtime_of(session).keys
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
                pin_digest=keys.lookup(s.pin) if s.pin else None,
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
    _record(
        session,
        account,
        sr.signature_request_id,
        "created",
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
    jobs.enqueue(session, PROCESS_JOB, {"signature_request_id": sr.signature_request_id})
    return sr


def _record(
    session: Session,
    account: Account,
    rid: str,
    action: str,
    ip_address: str | None,
    user_agent: str | None,
    *,
    signature_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """The audit event of an API call on a request (``api:signature_request:<action>``), by the account."""
    audit.record(
        session,
        f"api:signature_request:{action}",
        account_id=account.id,
        signature_request_id=rid,
        signature_id=signature_id,
        actor_email=account.email_address,
        ip_address=ip_address,
        user_agent=user_agent,
        data=data,
    )


# -- reading ---------------------------------------------------------------------------------------------


def serialize(session: Session, sr: SignatureRequest) -> dict[str, Any]:
    return serialize_signature_request(sr, runtime_of(session).settings.base_url)


def _get(session: Session, account: Account, rid: str, *, lock: bool = False) -> SignatureRequest:
    """The caller's request: 404 when unknown or removed, 410 once canceled."""
    sr = repository.owned(session, account, rid, lock=lock)
    if sr is None or sr.removed_at is not None:
        raise NotFound("Not found.")
    if sr.cancel_requested_at is not None:
        raise Deleted("This signature request has been canceled.")
    return sr


def get(session: Session, account: Account, rid: str) -> SignatureRequest:
    return _get(session, account, rid)


def list_requests(
    session: Session, account: Account, query: str | None, page: int, page_size: int
) -> tuple[list[SignatureRequest], int]:
    where = compile_query(query, account)
    return repository.list_visible(session, account, where, (page - 1) * page_size, page_size)


# -- lifecycle -------------------------------------------------------------------------------------------


def emit_event(session: Session, sr: SignatureRequest, event: EventType, **kw: Any) -> None:
    callbacks.emit(
        session,
        sr.account,
        event,
        api_app=sr.api_app,
        object_kind="signature_request",
        object_json=serialize(session, sr),
        signature_request_id=sr.signature_request_id,
        **kw,
    )


def _finished(sr: SignatureRequest) -> bool:
    return sr.is_complete or sr.is_declined


def cancel(session: Session, account: Account, rid: str, *, ip_address: str | None, user_agent: str | None) -> None:
    """Queue the cancelation; the job emits ``signature_request_canceled`` when it is done."""
    sr = _get(session, account, rid, lock=True)
    if sr.is_complete:
        raise CancelFailed("A completed signature request cannot be canceled.")
    if sr.is_declined:
        raise CancelFailed("A declined signature request cannot be canceled.")
    if sr.has_error:
        raise CancelFailed("This signature request was not sent successfully (it has an error).")
    if sr.is_expired:
        raise CancelFailed("An expired signature request cannot be canceled.")
    sr.cancel_requested_at = utcnow()
    _record(session, account, rid, "cancel_requested", ip_address, user_agent)
    jobs.enqueue(session, CANCEL_JOB, {"signature_request_id": rid})


def remind(
    session: Session,
    account: Account,
    rid: str,
    email_address: str,
    name: str | None,
    *,
    ip_address: str | None,
    user_agent: str | None,
) -> SignatureRequest:
    sr = _get(session, account, rid, lock=True)
    if sr.is_embedded:
        raise InvalidReminder("Reminders cannot be sent for embedded signature requests.")
    if sr.files_state == FilesState.PROCESSING:
        raise InvalidReminder("The signature request has not been sent yet (its documents are being processed).")
    if sr.has_error or _finished(sr) or sr.is_expired:
        raise InvalidReminder("Reminders can only be sent for signature requests awaiting signatures.")
    matches = [s for s in sr.signers if s.email_address.lower() == email_address.lower()]
    if name is not None:
        matches = [s for s in matches if s.name.strip().lower() == name.strip().lower()]
    if not matches:
        raise BadRequest("email_address: no signer of this request has this email address", error_path="email_address")
    if len(matches) > 1:
        raise BadRequest("name: several signers share this email address; give their name", error_path="name")
    signer = matches[0]
    if signer.status_code != SignerStatus.AWAITING_SIGNATURE:
        raise InvalidReminder(f"This signer cannot be reminded (status {signer.status_code}).")
    now = utcnow()
    last = signer.last_reminded_at
    if last is not None and now - last < REMIND_INTERVAL:
        raise InvalidReminder("A reminder was sent less than an hour ago; try again later.")
    signer.last_reminded_at = now
    _record(
        session,
        account,
        rid,
        "reminded",
        ip_address,
        user_agent,
        signature_id=signer.signature_id,
        data={"email_address": signer.email_address},
    )
    jobs.enqueue(session, MAIL_REMIND_JOB, {"signature_request_id": rid, "signature_id": signer.signature_id})
    emit_event(session, sr, EventType.SIGNATURE_REQUEST_REMIND, related_signature_id=signer.signature_id)
    return sr


def update(
    session: Session,
    account: Account,
    rid: str,
    req: SignatureRequestUpdateRequest,
    *,
    ip_address: str | None,
    user_agent: str | None,
) -> SignatureRequest:
    """Change a signer's email (a new signature_id) or name, or the expiry."""
    sr = _get(session, account, rid, lock=True)
    if req.email_address is None and req.name is None and req.expires_at is None:
        raise BadRequest("email_address: give email_address, name or expires_at", error_path="email_address")
    if sr.has_error or _finished(sr) or sr.is_expired:
        raise BadRequest("Only a signature request awaiting signatures can be updated.")
    signer = next((s for s in sr.signers if s.signature_id == req.signature_id), None)
    if signer is None:
        raise BadRequest("signature_id: no signer of this request has this signature_id", error_path="signature_id")
    changes: dict[str, Any] = {}
    if req.email_address is not None or req.name is not None:
        if sr.signature_page_appended:
            raise BadRequest("Signers cannot be updated on a signature request with an appended signature page.")
        if signer.status_code != SignerStatus.AWAITING_SIGNATURE:
            raise BadRequest(f"This signer cannot be updated (status {signer.status_code}).")
    if req.name is not None and req.name.strip() and req.name.strip() != signer.name:
        changes["name"] = [signer.name, req.name.strip()]
        signer.name = req.name.strip()
    if req.email_address is not None and req.email_address.lower() != signer.email_address.lower():
        old_id = signer.signature_id
        repository.delete_tokens(session, signer)
        signer.signature_id = new_hex_id(16)
        changes["email_address"] = [signer.email_address, req.email_address]
        changes["signature_id"] = [old_id, signer.signature_id]
        signer.email_address = req.email_address
        repository.rename_filler(session, sr, old_id, signer.signature_id)
        if not sr.is_embedded and sr.files_state == FilesState.READY:
            # As Dropbox Sign does: the new address gets its own signing link (when it is the signer's turn;
            # the mail job checks the order). Before processing ends, signature_request_sent mails everyone.
            jobs.enqueue(
                session,
                MAIL_INVITE_JOB,
                {"signature_request_id": rid, "signature_id": signer.signature_id},
            )
    if req.expires_at is not None:
        sr.expires_at = _future(req.expires_at)
        changes["expires_at"] = req.expires_at
    _record(session, account, rid, "updated", ip_address, user_agent, signature_id=signer.signature_id, data=changes)
    return sr


def remove(session: Session, account: Account, rid: str, *, ip_address: str | None, user_agent: str | None) -> None:
    sr = _get(session, account, rid, lock=True)
    if not _finished(sr):
        raise RemoveFailed("Only a signature request signed or declined by every party can be removed.")
    sr.removed_at = utcnow()
    _record(session, account, rid, "removed", ip_address, user_agent)


def release_hold(
    session: Session, account: Account, rid: str, *, ip_address: str | None, user_agent: str | None
) -> SignatureRequest:
    """Release signers held by the requester (requests prepared from an unclaimed draft with hold_request)."""
    sr = _get(session, account, rid, lock=True)
    held = [s for s in sr.signers if s.status_code == SignerStatus.ON_HOLD_BY_REQUESTER]
    if not held:
        raise BadRequest("This signature request is not on hold.")
    for signer in held:
        signer.status_code = SignerStatus.AWAITING_SIGNATURE
    if not sr.is_embedded and sr.files_state == FilesState.READY:
        jobs.enqueue(session, MAIL_SENT_JOB, {"signature_request_id": rid})  # links to whoever may sign now
    _record(session, account, rid, "hold_released", ip_address, user_agent)
    return sr


# -- files -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class FileBody:
    data: bytes
    media_type: str
    filename: str


def _ready(sr: SignatureRequest) -> None:
    if sr.files_state == FilesState.PROCESSING:
        raise Conflict("The files are being prepared; try again in a moment.")
    if sr.files_state == FilesState.ERROR:
        raise BadRequest(f"The documents of this signature request could not be processed: {sr.error_message}")


def _pdf_name(sr: SignatureRequest) -> str:
    base = _UNSAFE_NAME.sub("_", sr.title).strip(" ._")[:100]
    return f"{base or sr.signature_request_id}.pdf"


def current_pdf(storage: Storage, sr: SignatureRequest) -> FileBody:
    """The final PDF once there is one, the processed documents merged before."""
    _ready(sr)
    key = sr.final_pdf_key or sr.current_pdf_key
    if key is None:
        raise Conflict("The files are being prepared; try again in a moment.")
    return FileBody(storage.get(key), "application/pdf", _pdf_name(sr))


def documents_zip(storage: Storage, sr: SignatureRequest) -> FileBody:
    _ready(sr)
    from paraph.signing.final import final_zip  # once finalized, the zip holds the sealed final copy

    final = final_zip(storage, sr)
    if final is not None:
        return FileBody(final, "application/zip", f"{_pdf_name(sr).removesuffix('.pdf')}.zip")
    out = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for doc in sr.documents:
            stem = doc.filename.rsplit(".", 1)[0] if doc.filename.lower().endswith(".pdf") else doc.filename
            name, n = f"{stem}.pdf", 1
            while name in used:
                n += 1
                name = f"{stem} ({n}).pdf"
            used.add(name)
            archive.writestr(name, storage.get(doc.processed_key or doc.original_key))
    base = _pdf_name(sr).removesuffix(".pdf")
    return FileBody(out.getvalue(), "application/zip", f"{base}.zip")


def files(session: Session, account: Account, rid: str, file_type: str) -> FileBody:
    sr = _get(session, account, rid)
    storage = runtime_of(session).storage
    if file_type == "zip":
        return documents_zip(storage, sr)
    if file_type == "pdf":
        return current_pdf(storage, sr)
    raise BadRequest("file_type: must be pdf or zip", error_path="file_type")


def data_uri(session: Session, account: Account, rid: str) -> str:
    body = files(session, account, rid, "pdf")
    return "data:application/pdf;base64," + base64.b64encode(body.data).decode()


def _file_url_message(rid: str, expires: int, force_download: int) -> str:
    return f"signature_request_files:{rid}:{expires}:{force_download}"


def file_url(session: Session, account: Account, rid: str, force_download: int) -> tuple[str, int]:
    """A signed URL on PARAPH_BASE_URL that serves the PDF without an API key until it expires."""
    sr = _get(session, account, rid)
    _ready(sr)
    rt = runtime_of(session)
    expires = int((utcnow() + FILE_URL_TTL).timestamp())
    fd = 1 if force_download else 0
    mac = rt.keys.sign(_file_url_message(rid, expires, fd))
    url = (
        f"{rt.settings.base_url}/paraph/files/signature_request/{rid}"
        f"?expires={expires}&force_download={fd}&signature={mac}"
    )
    return url, expires


def signed_download(session: Session, keys: KeyBox, rid: str, expires: str, force_download: str, mac: str) -> FileBody:
    """What a URL from :func:`file_url` serves; 404 for a bad or expired signature (it reveals nothing)."""
    if not (expires.isdigit() and force_download in ("0", "1")):
        raise NotFound("Not found.")
    if not keys.verify(_file_url_message(rid, int(expires), int(force_download)), mac):
        raise NotFound("Not found.")
    if int(expires) < int(utcnow().timestamp()):
        raise NotFound("This link has expired; ask the API for a new one.")
    sr = repository.by_public_id(session, rid)
    if sr is None or sr.removed_at is not None:
        raise NotFound("Not found.")
    if sr.cancel_requested_at is not None:
        raise Deleted("This signature request has been canceled.")
    return current_pdf(runtime_of(session).storage, sr)
