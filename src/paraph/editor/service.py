"""The editor's rules: creating unclaimed drafts and template drafts, handing out claim and edit URLs, what
the editor page is shown, and what its submit does (a signature request sent, a template saved).

Everything the page submits is checked here again: fields through the API's own normalizer
(:func:`paraph.pdf.fields.normalize_form_fields`) and page check (:func:`validate_positions`), signers' names
and addresses; a problem names the editor field it is about so the page shows it beside the field.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from paraph import audit
from paraph.audit import AuditTag
from paraph.callbacks.events import EventType
from paraph.config import Settings
from paraph.db import utcnow
from paraph.editor import access, repository, tasks
from paraph.editor.access import EditorProblem, Problem
from paraph.editor.schemas import (
    EditorGroup,
    EditorSubmit,
    EmbeddedEditUrlRequest,
    TemplateEmbeddedDraftRequest,
    UnclaimedDraftCreateRequest,
    UnclaimedDraftEditAndResendRequest,
    UnclaimedDraftWithTemplateRequest,
)
from paraph.errors import BadRequest, NotFound
from paraph.models import (
    Account,
    Document,
    SignatureRequest,
    Template,
    TemplateDocument,
    TemplateField,
    TemplateMergeField,
    UnclaimedDraft,
)
from paraph.models.editor import DraftState
from paraph.models.signature_request import SignerStatus
from paraph.models.template import TemplateCcRole, TemplateState
from paraph.pdf.fields import FieldsError, normalize_form_fields, validate_positions
from paraph.pdf.model import DocumentError, Field, FieldGroup, PageInfo
from paraph.scope import Scope
from paraph.security import new_hex_id
from paraph.signature_request import create as requests_create
from paraph.signature_request import repository as requests
from paraph.signature_request import service as requests_service
from paraph.signature_request.create import Draft, DraftDocument, DraftSigner, check_client_id, checked_fields
from paraph.signature_request.schemas import SignatureRequestCreateRequest, field_dict
from paraph.template import repository as templates
from paraph.template import service as template_service
from paraph.template.tasks import emit_event as emit_template_event
from paraph.wire.decode import UploadedFile
from paraph.wire.validators import check_email

CLAIM_PATH = "/editor/claim"
TEMPLATE_PATH = "/editor/template"
FIELD_TYPES = (
    "signature",
    "initials",
    "text",
    "checkbox",
    "radio",
    "dropdown",
    "date_signed",
    "hyperlink",
    "text-merge",
    "checkbox-merge",
)
_INDEX = re.compile(r"form_fields_per_document\[(\d+)\]")


# -- unclaimed drafts -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class NewDraft:
    """An unclaimed draft that passed every check needing no database."""

    draft_id: str
    req: UnclaimedDraftCreateRequest
    documents: list[DraftDocument]
    fields: list[Field]
    groups: list[FieldGroup]


def new_draft(
    req: UnclaimedDraftCreateRequest, uploads: list[UploadedFile], settings: Settings, *, embedded: bool
) -> NewDraft:
    if embedded and not req.client_id:
        raise BadRequest("client_id: This value should not be blank", error_path="client_id")
    if embedded and not req.requester_email_address:
        raise BadRequest(
            "requester_email_address: This value should not be blank", error_path="requester_email_address"
        )
    if req.grouped_signers:
        raise BadRequest("grouped_signers: not available for unclaimed drafts", error_path="grouped_signers")
    if not embedded and req.type == "request_signature" and not req.signers:
        raise BadRequest(
            "signers: a draft of type request_signature needs its signers' names and email addresses",
            error_path="signers",
        )
    rid = new_hex_id(20)
    documents = template_service.draft_documents(f"sr/{rid}", uploads, list(req.file_urls or []), settings)
    fields, groups = checked_fields(
        req.form_fields_per_document,
        req.form_field_groups,
        req.form_field_rules,
        req.attachments,
        signer_count=max(1, len(req.signers or [])),
        document_count=len(documents),
        text_tags=req.use_text_tags or req.use_preexisting_fields,
    )
    if req.expires_at is not None:
        requests_create.future_time(req.expires_at)
    return NewDraft(rid, req, documents, fields, groups)


_NOT_PARAMS = {"form_fields_per_document", "form_field_groups", "file_urls"}


def create_draft(scope: Scope, account: Account, nd: NewDraft, *, embedded: bool) -> tuple[UnclaimedDraft, str, int]:
    """Insert the draft and queue its processing; returns it with its claim URL and the URL's expiry."""
    req = nd.req
    app = check_client_id(scope.session, account, req.client_id)
    d = UnclaimedDraft(
        draft_id=nd.draft_id,
        account_id=account.id,
        api_app_id=app.id if app else None,
        is_embedded=embedded,
        test_mode=req.test_mode,
        draft_type=req.type or ("request_signature" if embedded else "send_document"),
        hold_request=req.hold_request,
        requester_email_address=req.requester_email_address,
        params=req.model_dump(mode="json", exclude=_NOT_PARAMS, exclude_none=True),
        editor_options=req.editor_options.model_dump() if req.editor_options else None,
        documents=[
            {
                "index": doc.index,
                "filename": doc.filename,
                "original_key": doc.original_key,
                "source_url": doc.source_url,
            }
            for doc in nd.documents
        ],
        fields=[field_dict(f) for f in nd.fields],
        groups=[dataclasses.asdict(g) for g in nd.groups],
        state=DraftState.PROCESSING,
    )
    d.account = account
    d.api_app = app
    scope.session.add(d)
    scope.session.flush()
    audit.record(
        scope.session,
        AuditTag.API_SIGNATURE_REQUEST_CREATED,
        account_id=account.id,
        signature_request_id=d.draft_id,
        actor_email=account.email_address,
        data={"unclaimed_draft": True, "embedded": embedded, "documents": len(nd.documents)},
    )
    tasks.enqueue_processing(scope.session, d)
    url, expires = claim_url(scope, d)
    return d, url, expires


def claim_url(scope: Scope, d: UnclaimedDraft) -> tuple[str, int]:
    issued = access.issue(scope, draft=d)
    query = urlencode({"draft_id": d.draft_id, "token": issued.token})
    return f"{scope.settings.base_url}{CLAIM_PATH}?{query}", issued.expires_at


def _processed(doc: Document | TemplateDocument, index: int) -> dict[str, Any]:
    """A document processed once already (a sent request's, a template's), as a draft holds it."""
    return {
        "index": index,
        "filename": doc.filename,
        "original_key": doc.original_key,
        "processed_key": doc.processed_key,
        "sha256": doc.sha256,
        "size": doc.original_size,
        "page_sizes": doc.page_sizes,
        "page_image_keys": doc.page_image_keys,
    }


def edit_and_resend(
    scope: Scope, account: Account, rid: str, req: UnclaimedDraftEditAndResendRequest
) -> tuple[UnclaimedDraft, str, int]:
    """A new draft from a sent request (its processed documents, signers and fields); sending it cancels the
    original."""
    sr = requests.by_public_id(scope.session, rid)
    if sr is None or sr.account_id != account.id or sr.removed_at is not None:
        raise NotFound("Not found.")
    app = check_client_id(scope.session, account, req.client_id)
    if sr.is_complete or sr.is_declined or sr.canceled_at is not None or sr.cancel_requested_at is not None:
        raise BadRequest("This signature request can no longer be edited and resent.")
    if sr.files_state != "ready":
        raise BadRequest("This signature request is still being processed.")
    new_id = new_hex_id(20)
    params: dict[str, Any] = {
        "title": sr.title,
        "subject": sr.subject,
        "message": sr.message,
        "metadata": sr.metadata_ or {},
        "cc_email_addresses": list(sr.cc_email_addresses or []),
        "allow_decline": sr.allow_decline,
        "allow_reassign": sr.allow_reassign,
        "client_id": req.client_id,
        "test_mode": req.test_mode or sr.test_mode,
        "signing_redirect_url": req.signing_redirect_url or sr.signing_redirect_url,
        "requesting_redirect_url": req.requesting_redirect_url,
        "is_for_embedded_signing": req.is_for_embedded_signing,
        "form_field_rules": list(sr.form_field_rules or []),
        "signers": [{"name": s.name, "email_address": s.email_address} for s in sr.signers],
    }
    docs = [_processed(doc, doc.index) for doc in sr.documents]
    fields = repository.request_field_specs(scope.session, sr.id)
    d = UnclaimedDraft(
        draft_id=new_id,
        account_id=account.id,
        api_app_id=app.id if app else None,
        is_embedded=True,
        test_mode=bool(params["test_mode"]),
        draft_type="request_signature",
        requester_email_address=req.requester_email_address,
        params=params,
        editor_options=req.editor_options.model_dump() if req.editor_options else None,
        documents=docs,
        fields=fields,
        groups=list(sr.form_field_groups or []),
        resend_of=sr.signature_request_id,
        state=DraftState.READY,
    )
    d.account = account
    d.api_app = app
    scope.session.add(d)
    scope.session.flush()
    url, expires = claim_url(scope, d)
    return d, url, expires


def extra_documents(
    req: UnclaimedDraftWithTemplateRequest, uploads: list[UploadedFile], settings: Settings
) -> tuple[str, list[DraftDocument]]:
    """The draft's id and the files appended to its templates' documents (none when neither ``files`` nor
    ``file_urls`` is given), checked and keyed as ``send_with_template``'s (:func:`paraph.template.send.draft`)."""
    draft_id = new_hex_id(20)
    if not uploads and not req.file_urls:
        return draft_id, []
    return draft_id, template_service.draft_documents(
        f"sr/{draft_id}/extra", uploads, list(req.file_urls or []), settings
    )


def draft_from_templates(
    scope: Scope,
    account: Account,
    req: UnclaimedDraftWithTemplateRequest,
    *,
    draft_id: str | None = None,
    extra: list[DraftDocument] | None = None,
) -> tuple[UnclaimedDraft, str, int]:
    """A draft of the templates' processed documents (one after the other) and their fields, ready at once;
    its signers are the templates' roles in order, filled from ``signers`` by role (the requester fills the
    others in the editor). Merge fields are filled by ``custom_fields`` when the request is processed.

    ``extra``: files appended after the templates' documents (``files`` / ``file_urls``, checked and stored as
    ``send_with_template`` does: :func:`paraph.template.send.draft`); the draft is then processed first (their
    text tags read, the templates' documents reused as they are), as ``unclaimed_draft/create_embedded`` is."""
    app = check_client_id(scope.session, account, req.client_id)
    found: list[Template] = []
    for i, template_id in enumerate(dict.fromkeys(req.template_ids)):
        t = templates.visible(scope.session, account, template_id)
        if t is None:
            raise NotFound("Template not found.", error_path=f"template_ids[{i}]")
        if t.state != TemplateState.READY:
            raise BadRequest(f"template_ids[{i}]: the template's files are not ready.", error_path=f"template_ids[{i}]")
        found.append(t)
    roles: list[str] = []
    for t in found:
        for r in t.signer_roles:
            if r.name.lower() not in (x.lower() for x in roles):
                roles.append(r.name)
    by_role = {s.role.lower(): s for s in req.signers or []}
    for i, s in enumerate(req.signers or []):
        if s.role.lower() not in (r.lower() for r in roles):
            raise BadRequest(f"signers[{i}].role: no template has the role '{s.role}'", error_path=f"signers[{i}].role")
    signers = [
        {"name": by_role[r.lower()].name, "email_address": by_role[r.lower()].email_address}
        if r.lower() in by_role
        else {"name": r, "email_address": ""}
        for r in roles
    ]
    docs: list[dict[str, Any]] = []
    fields: list[dict[str, Any]] = []
    for t in found:
        offset = len(docs)
        role_at = {str(r.position): [x.lower() for x in roles].index(r.name.lower()) for r in t.signer_roles}
        docs.extend(_processed(doc, offset + doc.index) for doc in t.documents)
        for f in t.fields:
            spec = dict(f.spec)
            spec["document_index"] = offset + f.document_index
            spec["signer"] = role_at.get(f.role_index, f.role_index) if f.role_index.isdigit() else "sender"
            fields.append(spec)
    for upload in extra or []:
        docs.append(
            {
                "index": len(docs),
                "filename": upload.filename,
                "original_key": upload.original_key,
                "source_url": upload.source_url,
            }
        )
    first = found[0]
    params: dict[str, Any] = {
        "title": req.title or first.title,
        "subject": req.subject if req.subject is not None else first.subject,
        "message": req.message if req.message is not None else first.message,
        "metadata": req.metadata or {},
        "cc_email_addresses": [c.email_address for c in req.ccs or []],
        "custom_fields": [c.model_dump(exclude_none=True) for c in req.custom_fields or []],
        "allow_decline": req.allow_decline,
        "allow_reassign": req.allow_reassign,
        "client_id": req.client_id,
        "test_mode": req.test_mode,
        "signing_redirect_url": req.signing_redirect_url,
        "requesting_redirect_url": req.requesting_redirect_url,
        "is_for_embedded_signing": req.is_for_embedded_signing,
        "populate_auto_fill_fields": req.populate_auto_fill_fields,
        "signers": signers,
        "template_ids": [t.template_id for t in found],
        "force_signer_roles": req.force_signer_roles,
        "force_subject_message": req.force_subject_message,
        "preview_only": req.preview_only,
        "skip_me_now": req.skip_me_now,
        "use_text_tags": bool(extra),  # the appended files' text tags, as send_with_template reads them
    }
    options = req.editor_options.model_dump() if req.editor_options else {}
    if any(not s["email_address"] for s in signers):
        options["allow_edit_signers"] = True
    d = UnclaimedDraft(
        draft_id=draft_id or new_hex_id(20),
        account_id=account.id,
        api_app_id=app.id if app else None,
        is_embedded=True,
        test_mode=req.test_mode,
        draft_type="request_signature",
        hold_request=req.hold_request,
        requester_email_address=req.requester_email_address,
        params=params,
        editor_options=options,
        documents=docs,
        fields=fields,
        groups=[g for t in found for g in t.form_field_groups or []],
        state=DraftState.PROCESSING if extra else DraftState.READY,
    )
    d.account = account
    d.api_app = app
    scope.session.add(d)
    scope.session.flush()
    if extra:
        tasks.enqueue_processing(scope.session, d)
    url, expires = claim_url(scope, d)
    return d, url, expires


# -- what the page shows ----------------------------------------------------------------------------------


def _pages(documents: list[dict[str, Any]], image_url: Any) -> list[dict[str, Any]]:
    out = []
    for doc in documents:
        sizes = doc.get("page_sizes") or []
        for number, (w, h) in enumerate(sizes, start=1):
            out.append(
                {
                    "document": int(doc["index"]),
                    "page": number,
                    "width": w,
                    "height": h,
                    "src": image_url(doc["index"], number),
                }
            )
    return out


def _field_json(spec: dict[str, Any], signer: Any) -> dict[str, Any]:
    keep = (
        "api_id type document_index page x y width height required name validation_type validation_custom_regex "
        "validation_custom_regex_format_label font_size options group is_checked placeholder content"
    ).split()
    out = {k: spec.get(k) for k in keep if spec.get(k) is not None}
    out["signer"] = signer
    return out


def signers_editable(d: UnclaimedDraft) -> bool:
    """The requester may add, remove and change signers: ``editor_options.allow_edit_signers``,
    ``force_signer_page`` (``force_signer_roles`` for a draft from templates), or no signers given."""
    params = d.params or {}
    asked = (d.editor_options or {}).get("allow_edit_signers") or params.get("force_signer_page")
    return bool(asked or params.get("force_signer_roles")) or not params.get("signers")


def me_now_allowed(d: UnclaimedDraft) -> bool:
    """The "Me (now)" signer (fields the requester fills while preparing, ``me_now``): turned off by
    ``skip_me_now``, which, as Dropbox Sign's, does not apply to type ``send_document``."""
    return d.draft_type == "send_document" or not (d.params or {}).get("skip_me_now")


def draft_page(d: UnclaimedDraft, image_url: Any) -> dict[str, Any]:
    params = d.params or {}
    signers = [
        {"name": s.get("name", ""), "email_address": s.get("email_address", "")} for s in params.get("signers") or []
    ]
    return {
        "kind": "request",
        "id": d.draft_id,
        "title": params.get("title") or params.get("subject") or "",
        "subject": params.get("subject") or "",
        "message": params.get("message") or "",
        "testMode": d.test_mode,
        "signers": signers,
        "editSigners": signers_editable(d),
        "meNow": me_now_allowed(d),
        "previewOnly": bool(params.get("preview_only")),
        "forceSubject": bool(params.get("force_subject_message")),
        "roles": [],
        "pages": _pages(d.documents, image_url),
        "fields": [_field_json(f, f.get("signer")) for f in d.fields],
        "groups": list(d.groups or []),
        "submitText": "Send",
        "readOnly": False,
        "holdRequest": d.hold_request,
    }


def template_page(t: Template, options: dict[str, Any], image_url: Any) -> dict[str, Any]:
    roles = [r.name for r in t.signer_roles]

    def role(signer: str) -> Any:
        return roles[int(signer)] if signer.isdigit() and int(signer) < len(roles) else signer

    pages = _pages(
        [{"index": doc.index, "page_sizes": doc.page_sizes} for doc in t.documents],
        image_url,
    )
    return {
        "kind": "template",
        "id": t.template_id,
        "title": t.title,
        "subject": t.subject or "",
        "message": t.message or "",
        "testMode": t.test_mode,
        "signers": [],
        "editSigners": False,
        "roles": roles,
        "mergeFields": [m.name for m in t.merge_fields]
        + [
            str(m["name"])
            for m in options.get("merge_fields") or []
            if isinstance(m, dict) and m.get("name") and m["name"] not in {x.name for x in t.merge_fields}
        ],
        "pages": pages,
        "fields": [_field_json(f.spec, role(f.role_index)) for f in t.fields],
        "groups": list(t.form_field_groups or []),
        "submitText": "Save",
        "readOnly": bool(options.get("preview_only")),
        "forceSubject": bool(options.get("force_subject_message")),
    }


# -- checking a submitted layout ---------------------------------------------------------------------------


def _field_index(path: str) -> str | None:
    m = _INDEX.match(path)
    return m.group(1) if m else None


#: What the requester can fill while preparing ("Me (now)"): a value typed now.
ME_NOW_TYPES = ("text",)


def _check_me_now(i: int, entry: dict[str, Any], allowed: bool) -> None:
    """A field for ``me_now`` is the requester's, filled now: never a signature (the requester signs nothing
    while preparing; a signature or initials field is a signer's), only where "Me (now)" is on."""

    def refuse(message: str) -> None:
        raise EditorProblem(Problem.FORM, f"Field {i + 1}: {message}", {str(i): message})

    if not allowed:
        refuse("Me (now) is turned off for this draft (skip_me_now): choose a signer.")
    kind = entry.get("type")
    if kind in ("signature", "initials"):
        refuse(f"Me (now) has no {kind} to give: a {kind} field must be a signer's.")
    if kind not in ME_NOW_TYPES:
        refuse("Me (now) fills text fields only: choose a signer for this field.")
    if kind == "text" and entry.get("required", True) and not str(entry.get("content") or "").strip():
        refuse("Fill in this field now: it is yours (Me (now)).")


def check_layout(
    body: EditorSubmit,
    *,
    signer_count: int,
    roles: list[str] | None,
    documents: list[list[PageInfo]],
    me_now: bool = False,
) -> tuple[list[Field], list[FieldGroup]]:
    """The submitted fields as Fields, or EditorProblem naming the editor field at fault. ``me_now``: the
    requester may fill fields now (:func:`me_now_allowed`)."""
    entries = []
    for i, raw in enumerate(body.fields):
        entry = dict(raw)
        signer = entry.get("signer")
        if signer == "me_now" and roles is not None:
            message = "A template's fields are its roles': choose a role."
            raise EditorProblem(Problem.FORM, f"Field {i + 1}: {message}", {str(i): message})
        if signer == "me_now":
            _check_me_now(i, entry, me_now)
        elif roles is not None and entry.get("type") not in ("text-merge", "checkbox-merge"):
            if signer not in roles:
                raise EditorProblem(
                    Problem.FORM, f"There is no signer role '{signer}'.", {str(i): "Unknown signer role."}
                )
            entry["signer"] = roles.index(str(signer))
        elif isinstance(signer, str) and signer.isdigit():
            entry["signer"] = int(signer)
        if entry.get("type") not in FIELD_TYPES:
            raise EditorProblem(Problem.FORM, "Unknown field type.", {str(i): "Unknown field type."})
        entry.setdefault("api_id", f"field_{i + 1}")
        entry.setdefault("required", True)
        entries.append(entry)
    groups = [g.model_dump(exclude_none=True) for g in body.groups]
    try:
        fields, normalized_groups = normalize_form_fields(
            entries, signer_count=max(signer_count, 1), document_count=len(documents), form_field_groups=groups or None
        )
    except FieldsError as exc:
        index = _field_index(exc.error_path)
        where = {index: exc.message} if index is not None else {"form": exc.message}
        about = f"Field {int(index) + 1}: " if index is not None else ""
        raise EditorProblem(Problem.FORM, f"{about}{exc.message}", where) from None
    try:
        validate_positions(fields, documents)
    except DocumentError as exc:
        at = next((str(i) for i, f in enumerate(fields) if f"'{f.api_id}'" in exc.message), "form")
        raise EditorProblem(Problem.FORM, exc.message, {at: exc.message}) from None
    return fields, normalized_groups


def _page_infos(documents: list[dict[str, Any]]) -> list[list[PageInfo]]:
    return [[PageInfo(w, h) for w, h in doc.get("page_sizes") or []] for doc in documents]


def _signers(d: UnclaimedDraft, body: EditorSubmit) -> list[dict[str, str]]:
    params = d.params or {}
    given = params.get("signers") or []
    if not signers_editable(d):
        return [{"name": s.get("name", ""), "email_address": s.get("email_address", "")} for s in given]
    if not body.signers:
        raise EditorProblem(Problem.FORM, "Add at least one signer.", {"signers": "Add at least one signer."})
    out = []
    for i, s in enumerate(body.signers):
        name = s.name.strip()
        if not name:
            raise EditorProblem(Problem.FORM, f"Signer {i + 1} needs a name.", {f"signers[{i}]": "A name is required."})
        try:
            email = check_email(s.email_address.strip())
        except ValueError:
            raise EditorProblem(
                Problem.FORM,
                f"Signer {i + 1} needs a valid email address.",
                {f"signers[{i}]": "Not a valid email address."},
            ) from None
        out.append({"name": name, "email_address": email})
    return out


# -- sending a draft -----------------------------------------------------------------------------------------


def send_draft(
    scope: Scope, d: UnclaimedDraft, body: EditorSubmit, *, ip_address: str | None, user_agent: str | None
) -> SignatureRequest:
    """The request ``d.draft_id`` with the submitted layout; processing reuses the draft's processed files and
    emits ``signature_request_sent``. With ``hold_request`` its signers wait for ``release_hold``."""
    if d.state == DraftState.SENT:
        raise EditorProblem(Problem.USED)
    if d.state != DraftState.READY:
        raise EditorProblem(Problem.NOT_READY, "The documents are still being processed.")
    signers = _signers(d, body)
    if (d.params or {}).get("preview_only"):  # the fields are the templates', as they are: only signers change
        body = body.model_copy(
            update={
                "fields": [_field_json(f, f.get("signer")) for f in d.fields],
                "groups": [EditorGroup.model_validate(g) for g in d.groups or []],
            }
        )
    fields, groups = check_layout(
        body, signer_count=len(signers), roles=None, documents=_page_infos(d.documents), me_now=me_now_allowed(d)
    )
    if not any(isinstance(f.signer, int) for f in fields):
        raise EditorProblem(
            Problem.FORM, "Place at least one field for a signer.", {"form": "Place at least one field for a signer."}
        )
    params = dict(d.params or {})
    if body.title is not None:
        params["title"] = body.title
    if body.subject is not None:
        params["subject"] = body.subject
    if body.message is not None:
        params["message"] = body.message
    params["signers"] = signers
    params["use_text_tags"] = False  # text tags were read when the draft was processed: the layout holds them
    req = SignatureRequestCreateRequest.model_validate(params)
    embedded = bool(params.get("is_for_embedded_signing")) and d.api_app_id is not None
    draft_docs = [DraftDocument(int(doc["index"]), doc["filename"], doc["original_key"]) for doc in d.documents]
    new = Draft(
        signature_request_id=d.draft_id,
        embedded=embedded,
        req=req,
        signers=[DraftSigner(i, s["name"], s["email_address"], None, None) for i, s in enumerate(signers)],
        documents=draft_docs,
        fields=fields,
        groups=groups,
        expires_at=requests_create.future_time(req.expires_at) if req.expires_at else None,
    )
    sr = requests_create.create(scope, d.account, new, ip_address=ip_address, user_agent=user_agent)
    by_index = {int(doc["index"]): doc for doc in d.documents}
    for document in sr.documents:
        done = by_index[document.index]
        document.processed_key = done.get("processed_key")
        document.sha256 = done.get("sha256")
        document.original_size = done.get("size")
        document.page_sizes = done.get("page_sizes") or []
        document.page_image_keys = done.get("page_image_keys") or []
    if d.hold_request:
        for signer in sr.signers:
            signer.status_code = SignerStatus.ON_HOLD_BY_REQUESTER
    d.state = DraftState.SENT
    d.sent_at = utcnow()
    if d.resend_of:
        original = requests.by_public_id(scope.session, d.resend_of)
        if original is not None and not (original.is_complete or original.is_declined or original.has_error):
            if original.cancel_requested_at is None and not original.is_expired:
                requests_service.cancel(
                    scope.session, d.account, d.resend_of, ip_address=ip_address, user_agent=user_agent
                )
    return sr


# -- templates -----------------------------------------------------------------------------------------------


def create_template_draft(
    scope: Scope, account: Account, td: template_service.TemplateDraft
) -> tuple[Template, str, int]:
    req = td.req
    assert isinstance(req, TemplateEmbeddedDraftRequest)
    if not req.client_id:
        raise BadRequest("client_id: This value should not be blank", error_path="client_id")
    t = template_service.create(scope.session, account, td)
    t.is_draft = True
    t.is_embedded = True
    t.editor_options = {
        "force_signer_roles": req.force_signer_roles,
        "force_subject_message": req.force_subject_message,
        "show_preview": req.show_preview,
        "skip_me_now": req.skip_me_now,
        **(req.editor_options.model_dump() if req.editor_options else {}),
    }
    url, expires = edit_url(scope, t, {"force_subject_message": req.force_subject_message})
    return t, url, expires


def edit_url(scope: Scope, t: Template, options: dict[str, Any]) -> tuple[str, int]:
    issued = access.issue(scope, template=t, options=options)
    query = urlencode({"template_id": t.template_id, "token": issued.token})
    return f"{scope.settings.base_url}{TEMPLATE_PATH}?{query}", issued.expires_at


def embedded_edit_url(scope: Scope, account: Account, template_id: str, req: EmbeddedEditUrlRequest) -> tuple[str, int]:
    t = template_service.owned(scope.session, account, template_id)
    if t.state == TemplateState.ERROR:
        raise BadRequest("This template's documents could not be processed.")
    options = req.model_dump(mode="json", exclude_none=True)
    return edit_url(scope, t, options)


def save_template(scope: Scope, t: Template, options: dict[str, Any], body: EditorSubmit) -> Template:
    """Replace the template's fields with the submitted layout; a draft becomes a template (``template_created``)."""
    if options.get("preview_only"):
        raise EditorProblem(Problem.READ_ONLY, "This editor link only previews the template.")
    if t.state != TemplateState.READY:
        raise EditorProblem(Problem.NOT_READY, "The documents are still being processed.")
    roles = [r.name for r in t.signer_roles]
    pages = [[PageInfo(w, h) for w, h in doc.page_sizes] for doc in t.documents]
    fields, groups = check_layout(body, signer_count=len(roles), roles=roles, documents=pages)
    session = scope.session
    for old in list(t.fields):
        t.fields.remove(old)
    session.flush()
    for f in fields:
        t.fields.append(
            TemplateField(
                api_id=f.api_id,
                type=str(f.type),
                role_index=str(f.signer),
                document_index=f.document_index,
                page=f.page,
                spec=field_dict(f),
            )
        )
    t.form_field_groups = [dataclasses.asdict(g) for g in groups]
    known = {m.name for m in t.merge_fields}
    for m in options.get("merge_fields") or []:  # edit_url's merge_fields add to the template's
        if isinstance(m, dict) and isinstance(m.get("name"), str) and m["name"] and m["name"] not in known:
            kind = "checkbox" if m.get("type") == "checkbox" else "text"
            t.merge_fields.append(TemplateMergeField(position=len(t.merge_fields), name=m["name"][:255], type=kind))
            known.add(m["name"])
    cc_roles = options.get("cc_roles")
    if isinstance(cc_roles, list):
        t.cc_roles.clear()
        session.flush()
        for i, name in enumerate(cc_roles):
            t.cc_roles.append(TemplateCcRole(position=i, name=str(name)[:255]))
    if body.title is not None:
        t.title = body.title
    if body.subject is not None:
        t.subject = body.subject
    if body.message is not None:
        t.message = body.message
    was_draft = t.is_draft
    t.is_draft = False
    t.updated_at = utcnow()
    session.flush()
    templates.reload_fields(session, t)
    audit.record(
        session,
        AuditTag.SYSTEM_TEMPLATE_CREATED,
        account_id=t.account_id,
        data={"template_id": t.template_id, "fields": len(fields), "editor": True, "was_draft": was_draft},
    )
    emit_template_event(scope, t, EventType.TEMPLATE_CREATED)
    return t
