"""Bulk sends: every row checked before the job exists, then the job (its rows made by ``tasks``), and reads.

A row is checked as the ``send_with_template`` it becomes: the request's common parameters with the row's
signers and custom field values (a row's value replaces the common ``custom_fields`` entry of the same name),
parsed by ``SendWithTemplateRequest`` and checked against the templates read once
(:func:`paraph.template.send.check_send`). A refused row is reported with its place: ``signer_list[3]...`` or
the ``signer_file``'s row and column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paraph.bulk_send import repository, signer_file, tasks
from paraph.bulk_send.schemas import BulkSendRequest, row_request
from paraph.db import utcnow
from paraph.errors import ApiError, BadRequest, NotFound
from paraph.models import Account, BulkSendJob, SignatureRequest
from paraph.scope import Scope
from paraph.security import new_hex_id
from paraph.signature_request import repository as requests
from paraph.template import send
from paraph.template.schemas import SendWithTemplateRequest
from paraph.wire.decode import UploadedFile
from paraph.wire.parse import parse

#: The paths of a row's send that are the row's own (the rest is common to every row).
_ROW_PATHS = ("signers", "custom_fields")


def _row_path(path: str | None, n_common: int) -> str | None:
    """The path of a row's error inside the row (``custom_fields`` counted from the row's first value), or None
    when the error is about the common parameters."""
    if path is None or not path.startswith(_ROW_PATHS):
        return None
    if path.startswith("custom_fields["):
        index, _, rest = path.removeprefix("custom_fields[").partition("]")
        if not index.isdigit() or int(index) < n_common:
            return None
        return f"custom_fields[{int(index) - n_common}]{rest}"
    return path


def check_row(
    scope: Scope, resolved: send.Resolved, common: dict[str, Any], row: dict[str, Any], *, embedded: bool
) -> SendWithTemplateRequest:
    """The row's send, parsed and checked as ``send_with_template`` checks it (raises the send's error)."""
    req = parse(SendWithTemplateRequest, row_request(common, row))
    send.draft(req, [], scope.settings, embedded=embedded)
    send.check_send(resolved, req)
    return req


def _rows(
    scope: Scope, req: BulkSendRequest, upload: UploadedFile | None, resolved: send.Resolved
) -> tuple[list[dict[str, Any]], Callable[[int, str], tuple[str, str]]]:
    """The rows, and how to name a row's value in a message (the text, and the error_path)."""
    max_rows = scope.settings.bulk_send_max_rows
    if upload is not None:
        sf = signer_file.read(upload, resolved.role_names, resolved.merge_names, max_rows)
        return sf.rows, lambda i, path: (f"{signer_file.PATH} {sf.where(i, path)}", signer_file.PATH)
    rows = [r.model_dump(exclude_none=True) for r in req.signer_list or []]
    if not rows:
        raise BadRequest("signer_list: at least one row is required", error_path="signer_list")
    if len(rows) > max_rows:
        raise BadRequest(
            f"signer_list: {len(rows)} rows, more than the {max_rows} signature requests of one bulk send job",
            error_path="signer_list",
        )

    def where(i: int, path: str) -> tuple[str, str]:
        full = f"signer_list[{i}].{path}"
        return full, full

    return rows, where


def create_job(
    scope: Scope, account: Account, req: BulkSendRequest, upload: UploadedFile | None, *, embedded: bool
) -> BulkSendJob:
    """Check every row, then store the job and queue its work; nothing is stored when a row is refused."""
    session = scope.session
    if embedded and not req.client_id:
        raise BadRequest("client_id: This value should not be blank", error_path="client_id")
    if (req.signer_list is None) == (upload is None):
        raise BadRequest(
            "signer_list: one of signer_file or signer_list is required, not both", error_path="signer_list"
        )
    resolved = send.resolve(session, account, req.template_ids, req.client_id)
    rows, where = _rows(scope, req, upload, resolved)
    common = req.model_dump(mode="json", exclude={"signer_list"}, exclude_none=True)
    n_common = len(common.get("custom_fields") or [])
    for i, row in enumerate(rows):
        try:
            check_row(scope, resolved, common, row, embedded=embedded)
        except ApiError as exc:
            own = _row_path(exc.error_path, n_common)
            if own is None:
                raise
            text = exc.error_msg.removeprefix(f"{exc.error_path}: ")
            message, path = where(i, own)
            raise BadRequest(f"{message}: {text}", error_path=path) from None
    job = BulkSendJob(
        bulk_send_job_id=new_hex_id(20),
        account_id=account.id,
        is_embedded=embedded,
        total=len(rows),
        next_row=0,
        request=common,
        rows=rows,
        failures=[],
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    tasks.enqueue(session, job)
    return job


def get(
    scope: Scope, account: Account, bulk_send_job_id: str, page: int, page_size: int
) -> tuple[BulkSendJob, list[SignatureRequest], int]:
    """The job and a page of its requests (newest first, as the request list)."""
    job = repository.owned(scope.session, account, bulk_send_job_id)
    if job is None:
        raise NotFound("Bulk send job not found.", error_path="bulk_send_job_id")
    where = SignatureRequest.bulk_send_job_id == job.bulk_send_job_id
    rows, total = requests.list_visible(
        scope.session, account, where, (page - 1) * page_size, page_size, include_canceled=True
    )
    return job, rows, total


def list_jobs(scope: Scope, account: Account, page: int, page_size: int) -> tuple[list[BulkSendJob], int]:
    return repository.list_owned(scope.session, account, (page - 1) * page_size, page_size)
