"""The rules of templates: creating one (checked without the database first, like a request), reading and
listing what an account may use, updating, sharing, deleting, and giving a template new files.

Who may do what: the creator does everything; an account the creator shared the template with
(``add_user``) reads it and sends from it; any other account gets a 404, as if the template did not exist.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from paraph import audit
from paraph.account import repository as accounts
from paraph.audit import AuditTag
from paraph.config import Settings
from paraph.db import utcnow
from paraph.errors import BadRequest, Forbidden, NotFound
from paraph.models import (
    Account,
    Template,
    TemplateCcRole,
    TemplateDocument,
    TemplateMergeField,
    TemplateShare,
    TemplateSignerRole,
)
from paraph.models.template import TemplateState
from paraph.outbound.fetch import check_file_url
from paraph.outbound.guard import UrlRefused
from paraph.pdf.model import Field, FieldGroup, FieldType
from paraph.scope import Scope
from paraph.security import new_hex_id
from paraph.signature_request.create import (
    DraftDocument,
    check_client_id,
    checked_fields,
    upload_filename,
    url_filename,
)
from paraph.signature_request.schemas import field_dict
from paraph.storage import Storage
from paraph.template import repository
from paraph.template.schemas import (
    SubMergeField,
    TemplateCreateRequest,
    TemplateUpdateFilesRequest,
    TemplateUpdateRequest,
    TemplateUserRequest,
)
from paraph.template.tasks import enqueue_processing, files_prefix
from paraph.wire.decode import UploadedFile

_MERGE_TYPE = {FieldType.TEXT_MERGE: "text", FieldType.CHECKBOX_MERGE: "checkbox"}


@dataclass(slots=True)
class TemplateDraft:
    """A create request that passed every check that needs no database."""

    template_id: str
    req: TemplateCreateRequest
    documents: list[DraftDocument]
    fields: list[Field]
    groups: list[FieldGroup]
    merge_fields: list[SubMergeField]
    warnings: list[dict[str, str]] = field(default_factory=list)

    @property
    def upload_bytes(self) -> int:
        return sum(len(doc.data) for doc in self.documents if doc.data is not None)


def draft_documents(
    prefix: str, uploads: list[UploadedFile], urls: list[str], settings: Settings
) -> list[DraftDocument]:
    """The files of a template (``files`` or ``file_urls``), checked and given their storage keys."""
    if uploads and urls:
        raise BadRequest("Send files or file_urls, not both.", error_path="file_urls")
    if not uploads and not urls:
        raise BadRequest("files: Upload files or give file_urls.", error_path="files")
    name = "files" if uploads else "file_urls"
    if len(uploads) + len(urls) > settings.max_files:
        raise BadRequest(f"{name}: At most {settings.max_files} files per template.", error_path=name)
    docs: list[DraftDocument] = []
    for i, upload in enumerate(uploads):
        if len(upload.data) > settings.max_file_bytes:
            path = f"files[{i}]"
            raise BadRequest(
                f"{path}: The file is larger than the limit of {settings.max_file_bytes} bytes.", error_path=path
            )
        docs.append(DraftDocument(i, upload_filename(upload, i), f"{prefix}/docs/{i}/original", data=upload.data))
    for i, url in enumerate(urls):
        try:
            checked = check_file_url(url, allow_private=settings.callback_allow_private)
        except UrlRefused as exc:
            raise BadRequest(f"file_urls[{i}]: {exc.message}", error_path=f"file_urls[{i}]") from None
        docs.append(DraftDocument(i, url_filename(checked, i), f"{prefix}/docs/{i}/original", source_url=checked))
    return docs


def _merge_fields(req: TemplateCreateRequest, fields: list[Field]) -> list[SubMergeField]:
    """The declared merge fields, and the placed ones not declared (a placed merge field names one)."""
    declared = list(req.merge_fields or [])
    by_name = {m.name: m for m in declared}
    for f in fields:
        kind = _MERGE_TYPE.get(f.type)
        if kind is None:
            continue
        if not f.name:
            raise BadRequest(
                f"form_fields_per_document: merge field '{f.api_id}' needs a name (the merge field it shows)",
                error_path="form_fields_per_document",
            )
        found = by_name.get(f.name)
        if found is None:
            by_name[f.name] = found = SubMergeField.model_validate({"name": f.name, "type": kind})
            declared.append(found)
        elif found.type != kind:
            raise BadRequest(
                f"form_fields_per_document: field '{f.api_id}' is {f.type}, merge field '{f.name}' is {found.type}",
                error_path="form_fields_per_document",
            )
    return declared


def draft(req: TemplateCreateRequest, uploads: list[UploadedFile], settings: Settings) -> TemplateDraft:
    """Every check of ``template/create`` that needs no database; raises BadRequest with ``error_path``."""
    tid = new_hex_id(20)
    documents = draft_documents(files_prefix(tid, 1), uploads, list(req.file_urls or []), settings)
    fields, groups = checked_fields(
        req.form_fields_per_document,
        req.form_field_groups,
        req.form_field_rules,
        req.attachments,
        signer_count=len(req.signer_roles),
        document_count=len(documents),
        text_tags=req.use_preexisting_fields,
        signer_word="signer role",
    )
    return TemplateDraft(tid, req, documents, fields, groups, _merge_fields(req, fields))


def store_uploads(storage: Storage, documents: list[DraftDocument]) -> None:
    for doc in documents:
        if doc.data is not None:
            storage.put(doc.original_key, doc.data)


def discard_uploads(storage: Storage, documents: list[DraftDocument]) -> None:
    for doc in documents:
        if doc.data is not None:
            storage.delete(doc.original_key)


def _record(
    session: Session, account: Account, template_id: str, tag: AuditTag, data: dict[str, Any] | None = None
) -> None:
    audit.record(
        session,
        tag,
        account_id=account.id,
        actor_email=account.email_address,
        data={"template_id": template_id, **(data or {})},
    )


def _documents(docs: list[DraftDocument]) -> list[TemplateDocument]:
    return [
        TemplateDocument(
            index=d.index,
            filename=d.filename,
            source_url=d.source_url,
            original_key=d.original_key,
            original_size=len(d.data) if d.data is not None else None,
        )
        for d in docs
    ]


def create(session: Session, account: Account, d: TemplateDraft) -> Template:
    """Insert the template, its roles, merge fields and documents, and queue the processing job."""
    req = d.req
    app = check_client_id(session, account, req.client_id)
    now = utcnow()
    t = Template(
        template_id=d.template_id,
        account_id=account.id,
        api_app_id=app.id if app else None,
        test_mode=req.test_mode,
        title=req.title or req.subject or "",
        subject=req.subject,
        message=req.message,
        metadata_=req.metadata or {},
        allow_reassign=req.allow_reassign,
        allow_ccs=req.allow_ccs,
        use_text_tags=req.use_preexisting_fields,
        ignore_text_tags_errors=req.ignore_text_tags_extraction_errors,
        field_options=req.field_options.model_dump() if req.field_options else None,
        signer_experience=req.signer_experience.model_dump() if req.signer_experience else None,
        attachments=[{**a.model_dump(), "id": new_hex_id(16)} for a in req.attachments or []],
        form_field_groups=[dataclasses.asdict(g) for g in d.groups],
        form_field_rules=[r.model_dump() for r in req.form_field_rules or []],
        requested_fields=[field_dict(f) for f in d.fields],
        state=TemplateState.PROCESSING,
        files_version=1,
        created_at=now,
        updated_at=now,
    )
    t.account = account
    t.api_app = app
    t.signer_roles = [
        TemplateSignerRole(position=i, name=r.name, order=r.order) for i, r in enumerate(req.signer_roles)
    ]
    t.cc_roles = [TemplateCcRole(position=i, name=name) for i, name in enumerate(req.cc_roles or [])]
    t.merge_fields = [TemplateMergeField(position=i, name=m.name, type=m.type) for i, m in enumerate(d.merge_fields)]
    t.documents = _documents(d.documents)
    session.add(t)
    session.flush()
    _record(session, account, t.template_id, AuditTag.API_TEMPLATE_CREATED, {"documents": len(d.documents)})
    enqueue_processing(session, t)
    return t


def get(session: Session, account: Account, template_id: str, *, lock: bool = False) -> Template:
    t = repository.visible(session, account, template_id, lock=lock)
    if t is None:
        raise NotFound("Template not found.", error_path="template_id")
    return t


def owned(session: Session, account: Account, template_id: str) -> Template:
    """The template, for an operation only its creator may do (403 for an account it was shared with)."""
    t = get(session, account, template_id, lock=True)
    if t.account_id != account.id:
        raise Forbidden("Only the creator of the template can change it.")
    return t


def list_templates(
    session: Session, account: Account, account_id: str | None, query: str | None, page: int, size: int
) -> tuple[list[Template], int]:
    owner: Account | None = None
    if account_id not in (None, "", "all"):
        owner = account if account_id == account.account_id else accounts.by_account_id(session, str(account_id))
        if owner is None:
            raise NotFound("Account not found.", error_path="account_id")
    return repository.list_visible(
        session, account, title_query=query or None, owner=owner, offset=(page - 1) * size, limit=size
    )


def delete(session: Session, account: Account, template_id: str) -> None:
    """Gone for every account; requests already sent from it keep their documents (the files stay)."""
    t = owned(session, account, template_id)
    t.deleted_at = utcnow()
    _record(session, account, t.template_id, AuditTag.API_TEMPLATE_DELETED)


def update(session: Session, account: Account, template_id: str, req: TemplateUpdateRequest) -> Template:
    """Only what is given changes; ``form_fields`` renames fields (by ``api_id``), nothing else."""
    t = owned(session, account, template_id)
    if req.title is not None:
        t.title = req.title
    if req.subject is not None:
        t.subject = req.subject
    if req.message is not None:
        t.message = req.message
    if req.signer_experience is not None:
        t.signer_experience = req.signer_experience.model_dump()
    if req.cc_roles is not None:
        t.cc_roles = []
        session.flush()  # the old rows go before new ones take their positions
        t.cc_roles = [TemplateCcRole(position=i, name=name) for i, name in enumerate(req.cc_roles)]
    if req.form_fields:
        by_id = {f.api_id: f for f in t.fields}
        requested = [dict(f) for f in t.requested_fields or []]
        for i, change in enumerate(req.form_fields):
            found = by_id.get(change.api_id)
            if found is None:
                path = f"form_fields[{i}].api_id"
                raise BadRequest(f"{path}: the template has no field '{change.api_id}'", error_path=path)
            if change.name is not None:
                found.spec = {**found.spec, "name": change.name}
                for r in requested:
                    if r.get("api_id") == change.api_id:
                        r["name"] = change.name
        t.requested_fields = requested
    t.updated_at = utcnow()
    session.flush()
    _record(session, account, t.template_id, AuditTag.API_TEMPLATE_UPDATED)
    return t


def _target(session: Session, req: TemplateUserRequest) -> Account:
    if req.account_id:
        found = accounts.by_account_id(session, req.account_id)
        path = "account_id"
    elif req.email_address:
        found = accounts.by_email(session, req.email_address)
        path = "email_address"
    else:
        raise BadRequest("account_id or email_address is required.", error_path="account_id")
    if found is None:
        raise NotFound("Account not found.", error_path=path)
    return found


def add_user(session: Session, account: Account, template_id: str, req: TemplateUserRequest) -> Template:
    """Share the template with another account of this Paraph (Dropbox Sign limits this to team members;
    Paraph has no teams yet, so the creator may share with any account)."""
    t = owned(session, account, template_id)
    target = _target(session, req)
    if target.id != t.account_id and all(s.account_id != target.id for s in t.shares):
        share = TemplateShare(account_id=target.id, created_at=utcnow())
        share.account = target
        t.shares.append(share)
        t.updated_at = utcnow()
        session.flush()
        _record(session, account, t.template_id, AuditTag.API_TEMPLATE_SHARED, {"account_id": target.account_id})
    return t


def remove_user(session: Session, account: Account, template_id: str, req: TemplateUserRequest) -> Template:
    t = owned(session, account, template_id)
    target = _target(session, req)
    for share in list(t.shares):
        if share.account_id == target.id:
            t.shares.remove(share)
            t.updated_at = utcnow()
            session.flush()
            _record(session, account, t.template_id, AuditTag.API_TEMPLATE_UNSHARED, {"account_id": target.account_id})
    return t


def update_files(
    scope: Scope, account: Account, template_id: str, req: TemplateUpdateFilesRequest, uploads: list[UploadedFile]
) -> Template:
    """New documents for the template, processed again (``template_created`` again when done). The fields given
    at creation are placed again on the new files (and text tags read again); a field that no longer fits the
    new documents gives ``template_error``. Requests already sent keep the old files (their keys stay)."""
    session = scope.session
    t = owned(session, account, template_id)
    check_client_id(session, account, req.client_id)
    version = t.files_version + 1
    docs = draft_documents(files_prefix(t.template_id, version), uploads, list(req.file_urls or []), scope.settings)
    store_uploads(scope.storage, docs)
    t.files_version = version
    t.documents = []
    t.fields = []
    session.flush()  # the old rows go before new ones take their indexes
    t.documents = _documents(docs)
    t.state = TemplateState.PROCESSING
    t.error_message = None
    t.current_pdf_key = None
    if req.subject is not None:
        t.subject = req.subject
    if req.message is not None:
        t.message = req.message
    t.updated_at = utcnow()
    session.flush()
    _record(
        session,
        account,
        t.template_id,
        AuditTag.API_TEMPLATE_FILES_UPDATED,
        {"documents": len(docs), "files_version": version},
    )
    enqueue_processing(session, t)
    return t
