"""Sending from templates (``send_with_template``, ``create_embedded_with_template``).

The templates named by ``template_ids`` are combined in order: their documents one after the other, their
signer roles and CC roles once per name (first appearance wins), their fields moved to the combined document
and signer indexes. The request's documents point at the templates' processed files (shared storage keys,
never written again), so nothing is re-processed. A send from one template is complete in its own
transaction (merge fields filled from ``custom_fields``, ``signature_request_sent`` emitted); otherwise the
usual processing job (``signature_request.tasks``) processes the extra ``files`` appended (text tags read),
merges the documents, and does the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from paraph.audit import AuditTag
from paraph.config import Settings
from paraph.db import utcnow
from paraph.errors import BadRequest, Conflict, NotFound
from paraph.models import Account, ApiApp, Document, SignatureRequest, Signer, Template
from paraph.models.signature_request import FilesState, SignerStatus
from paraph.models.template import TemplateState
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.security import hash_pin, new_hex_id
from paraph.signature_request.create import DraftDocument, check_client_id, edit_root, future_time
from paraph.signature_request.events import record
from paraph.signature_request.tasks import apply_sent, enqueue_processing, plan_for, prepare_documents
from paraph.template import repository
from paraph.template.repository import FieldRow
from paraph.template.schemas import SendWithTemplateRequest
from paraph.template.service import draft_documents
from paraph.wire.decode import UploadedFile
from paraph.wire.responses import warning


@dataclass(slots=True)
class SendDraft:
    """A send from templates that passed every check that needs no database."""

    signature_request_id: str
    embedded: bool
    req: SendWithTemplateRequest
    extra: list[DraftDocument]
    expires_at: Any
    warnings: list[dict[str, str]] = field(default_factory=list)
    #: A request made by a bulk send job: the job's public id and the row.
    bulk_send_job_id: str | None = None
    bulk_row: int | None = None

    @property
    def upload_bytes(self) -> int:
        return sum(len(doc.data) for doc in self.extra if doc.data is not None)


def draft(
    req: SendWithTemplateRequest,
    uploads: list[UploadedFile],
    settings: Settings,
    *,
    embedded: bool,
    signature_request_id: str | None = None,
) -> SendDraft:
    """``signature_request_id``: the request an edit replaces (see :func:`paraph.signature_request.create.draft`)."""
    if embedded and not req.client_id:
        raise BadRequest("client_id: This value should not be blank", error_path="client_id")
    rid = signature_request_id or new_hex_id(20)
    extra: list[DraftDocument] = []
    if uploads or req.file_urls:
        root = edit_root(rid) if signature_request_id else rid
        extra = draft_documents(f"sr/{root}/extra", uploads, list(req.file_urls or []), settings)
    expires_at = future_time(req.expires_at) if req.expires_at is not None else None
    warnings: list[dict[str, str]] = []
    if any(s.sms_phone_number for s in req.signers):
        warnings.append(warning("parameter_ignored", "SMS delivery and authentication are not available."))
    if req.is_qualified_signature or req.is_eid:
        warnings.append(warning("parameter_ignored", "Qualified signatures and eID are not available."))
    return SendDraft(rid, embedded, req, extra, expires_at, warnings)


@dataclass(slots=True)
class _Role:
    name: str
    order: int | None


def _templates(
    session: Session, account: Account, template_ids: list[str], warnings: list[dict[str, str]]
) -> list[Template]:
    found: list[Template] = []
    seen: set[str] = set()
    for i, template_id in enumerate(template_ids):
        if template_id in seen:
            warnings.append(warning("duplicate_template_ids", f"template_ids[{i}] was given before; used once."))
            continue
        seen.add(template_id)
        t = repository.visible(session, account, template_id, for_send=True)
        if t is None:
            raise NotFound("Template not found.", error_path=f"template_ids[{i}]")
        if t.state == TemplateState.PROCESSING:
            raise Conflict(f"template_ids[{i}]: the template's files are still being processed.")
        if t.state == TemplateState.ERROR:
            raise BadRequest(
                f"template_ids[{i}]: the template's files could not be processed: {t.error_message}",
                error_path=f"template_ids[{i}]",
            )
        found.append(t)
    return found


def _combined_roles(templates: list[Template]) -> tuple[list[_Role], list[str]]:
    roles: list[_Role] = []
    cc_roles: list[str] = []
    for t in templates:
        for r in t.signer_roles:
            if all(x.name.lower() != r.name.lower() for x in roles):
                roles.append(_Role(r.name, r.order))
        for c in t.cc_roles:
            if all(x.lower() != c.name.lower() for x in cc_roles):
                cc_roles.append(c.name)
    return roles, cc_roles


@dataclass(slots=True)
class Resolved:
    """The templates of a send, read once: what :func:`check_send` checks a send's signers, CCs and custom
    fields against (a bulk send checks each of its rows against one)."""

    templates: list[Template]
    app: ApiApp | None
    roles: list[_Role]
    cc_roles: list[str]
    fields_of: dict[int, list[FieldRow]]
    merge_names: set[str]

    @property
    def role_names(self) -> list[str]:
        return [r.name for r in self.roles]


def resolve(
    session: Session,
    account: Account,
    template_ids: list[str],
    client_id: str | None,
    warnings: list[dict[str, str]] | None = None,
) -> Resolved:
    """The checks of a send that need the database: the templates (visible, processed), the client_id."""
    templates = _templates(session, account, template_ids, warnings if warnings is not None else [])
    app = check_client_id(session, account, client_id)
    roles, cc_roles = _combined_roles(templates)
    fields_of = {t.id: repository.field_rows(session, t) for t in templates}
    names = {m.name for t in templates for m in t.merge_fields}
    names |= {str(f.spec.get("name")) for t in templates for f in fields_of[t.id] if f.role_index == "sender"}
    return Resolved(templates, app, roles, cc_roles, fields_of, names)


@dataclass(slots=True)
class Checked:
    """A send checked against its templates: what :func:`create` builds the request from."""

    resolved: Resolved
    role_index: dict[str, int]
    by_role: dict[int, Any]
    cc_by_role: dict[str, str]


def check_send(r: Resolved, req: SendWithTemplateRequest) -> Checked:
    """The checks of a send against its templates (no database): a signer for every role and no other, a CC
    for every CC role, custom fields that name merge fields."""
    role_index = {role.name.lower(): i for i, role in enumerate(r.roles)}
    by_role: dict[int, Any] = {}
    for i, s in enumerate(req.signers):
        index = role_index.get(s.role.strip().lower())
        if index is None:
            path = f"signers[{i}].role"
            raise BadRequest(f"{path}: the template(s) have no signer role '{s.role}'", error_path=path)
        by_role[index] = s
    for i, role in enumerate(r.roles):
        if i not in by_role:
            raise BadRequest(f"signers: a signer for the role '{role.name}' is required", error_path="signers")
    cc_by_role: dict[str, str] = {}
    known_cc = {c.lower(): c for c in r.cc_roles}
    for i, cc in enumerate(req.ccs or []):
        name = known_cc.get(cc.role.strip().lower())
        if name is None:
            path = f"ccs[{i}].role"
            raise BadRequest(f"{path}: the template(s) have no CC role '{cc.role}'", error_path=path)
        if name in cc_by_role:
            path = f"ccs[{i}].role"
            raise BadRequest(f"{path}: the CC role '{cc.role}' is given twice", error_path=path)
        cc_by_role[name] = cc.email_address
    for name in r.cc_roles:
        if name not in cc_by_role:
            raise BadRequest(f"ccs: a CC for the role '{name}' is required", error_path="ccs")
    for i, cf in enumerate(req.custom_fields or []):
        if cf.name not in r.merge_names:
            path = f"custom_fields[{i}].name"
            raise BadRequest(f"{path}: no merge field of the template(s) is named '{cf.name}'", error_path=path)
    return Checked(r, role_index, by_role, cc_by_role)


def create(
    rt: Runtime,
    scope: Scope,
    account: Account,
    d: SendDraft,
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
    checked: Checked | None = None,
) -> SignatureRequest:
    """Insert the request made of the templates (their processed documents shared, their fields moved), and
    fill the merge fields and emit ``signature_request_sent`` now or, when PDF work remains (extra files,
    several templates), by the processing job. ``checked``: :func:`check_send`'s answer for ``d``, when the
    caller has it already (a bulk send job resolves its templates once for several rows)."""
    session, req = scope.session, d.req
    if checked is None:
        checked = check_send(resolve(session, account, req.template_ids, req.client_id, d.warnings), req)
    r = checked.resolved
    templates, app, roles, cc_roles, fields_of = r.templates, r.app, r.roles, r.cc_roles, r.fields_of
    role_index, by_role, cc_by_role = checked.role_index, checked.by_role, checked.cc_by_role

    first = templates[0]
    documents: list[Document] = []
    specs: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    used_ids: set[str] = set()
    for ti, t in enumerate(templates):
        offset = len(documents)
        to_combined = {str(r.position): role_index[r.name.lower()] for r in t.signer_roles}
        for doc in t.documents:
            documents.append(
                Document(
                    index=offset + doc.index,
                    filename=doc.filename,
                    original_key=doc.original_key,
                    original_size=doc.original_size,
                    sha256=doc.sha256,
                    processed_key=doc.processed_key,
                    page_sizes=list(doc.page_sizes),
                    page_image_keys=list(doc.page_image_keys),
                )
            )
        renamed: dict[str, str] = {}
        for f in fields_of[t.id]:
            spec = dict(f.spec)
            api_id = f.api_id if f.api_id not in used_ids else f"{f.api_id}-{ti}"
            renamed[f.api_id] = api_id
            used_ids.add(api_id)
            spec["api_id"] = api_id
            spec["document_index"] = offset + f.document_index
            if f.role_index in to_combined:
                spec["signer"] = to_combined[f.role_index]
            specs.append(spec)
        groups += [dict(g) for g in t.form_field_groups or []]
        for rule in t.form_field_rules or []:
            moved = dict(rule)
            moved["triggers"] = [
                {**tr, "id": renamed.get(tr.get("id"), tr.get("id"))} for tr in rule.get("triggers", [])
            ]
            moved["actions"] = [
                {**a, "field_id": renamed.get(a["field_id"], a["field_id"])} if a.get("field_id") else dict(a)
                for a in rule.get("actions", [])
            ]
            rules.append(moved)
        for a in t.attachments or []:
            role = t.signer_roles[a["signer_index"]].name.lower() if a["signer_index"] < len(t.signer_roles) else None
            if role is not None:
                attachments.append({**a, "signer_index": role_index[role], "id": new_hex_id(16), "uploaded_at": None})
    for upload in d.extra:
        documents.append(
            Document(
                index=len(documents),
                filename=upload.filename,
                source_url=upload.source_url,
                original_key=upload.original_key,
                original_size=len(upload.data) if upload.data is not None else None,
            )
        )

    title = req.title or first.title or req.subject or ""
    sr = SignatureRequest(
        signature_request_id=d.signature_request_id,
        account_id=account.id,
        api_app_id=app.id if app else None,
        is_embedded=d.embedded,
        test_mode=req.test_mode,
        title=title,
        original_title=title,
        subject=req.subject if req.subject is not None else first.subject,
        message=req.message if req.message is not None else first.message,
        metadata_=req.metadata or {},
        cc_email_addresses=[cc_by_role[name] for name in cc_roles],
        signing_redirect_url=req.signing_redirect_url,
        allow_decline=req.allow_decline,
        allow_reassign=any(t.allow_reassign for t in templates),
        use_text_tags=bool(d.extra),
        populate_auto_fill_fields=req.populate_auto_fill_fields,
        has_signing_order=any(r.order is not None for r in roles),
        signing_options=req.signing_options.model_dump() if req.signing_options else None,
        field_options=first.field_options,
        signer_experience=(req.signer_experience.model_dump() if req.signer_experience else first.signer_experience),
        attachments=attachments,
        form_field_groups=groups,
        form_field_rules=rules,
        custom_fields=[c.model_dump() for c in req.custom_fields or []],
        requested_fields=specs,
        template_ids=[t.template_id for t in templates],
        bulk_send_job_id=d.bulk_send_job_id,
        bulk_row=d.bulk_row,
        files_state=FilesState.PROCESSING,
        expires_at=d.expires_at,
        created_at=utcnow(),
    )
    sr.account = account
    sr.api_app = app
    for index, role in enumerate(roles):
        s = by_role[index]
        sr.signers.append(
            Signer(
                signature_id=new_hex_id(16),
                position=index,
                signer_index=index,
                name=s.name,
                email_address=s.email_address,
                order=role.order,
                role=role.name,
                pin_hash=hash_pin(s.pin) if s.pin else None,
                status_code=SignerStatus.AWAITING_SIGNATURE,
            )
        )
    sr.documents = documents
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
            "template_ids": sr.template_ids,
            "signers": [{"signature_id": s.signature_id, "email_address": s.email_address} for s in sr.signers],
            "documents": [{"index": doc.index, "filename": doc.filename} for doc in sr.documents],
        },
    )
    if _ready_at_once(d, templates, fields_of):
        _apply_now(rt, scope, sr, templates[0])
    else:
        enqueue_processing(session, sr)
    return sr


def _ready_at_once(d: SendDraft, templates: list[Template], fields: dict[int, list[FieldRow]]) -> bool:
    """A request from one template, without extra files, needs no PDF work at all (no document to process,
    no signature page to add: a field is a signer's; the merged PDF is the template's): it is sent in the
    creating transaction instead of by a job, the bulk of a template send's time otherwise."""
    (t, *more) = templates
    return not more and not d.extra and any(f.role_index.isdigit() for f in fields[t.id])


def _apply_now(rt: Runtime, scope: Scope, sr: SignatureRequest, t: Template) -> None:
    plan = plan_for(sr)
    plan.merged_ready = t.current_pdf_key
    prepared = prepare_documents(rt, plan)
    if prepared.failure is not None:  # custom_fields that do not fit the merge fields (an editor, a value)
        raise BadRequest(f"custom_fields: {prepared.failure.message}", error_path="custom_fields")
    apply_sent(scope, sr, prepared)
