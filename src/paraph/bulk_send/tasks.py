"""The worker side of bulk sends: a job's rows made into signature requests, each by ``send_with_template``'s
own code (:func:`paraph.template.send.create`), so each request is sent as a single one is (its
``signature_request_sent``, its signers' mail, or its sign URLs when embedded).

The rows are made by the job's preparer, outside the job's transaction, in transactions of
:data:`ROWS_PER_TRANSACTION` rows: each commits its requests together with the job's ``next_row``
(:func:`paraph.bulk_send.repository.advance`, conditional on the value it started from), so a worker killed
mid-job leaves every row either made and counted or neither, and the job, run again when its lease runs out,
resumes at ``next_row`` (the unique (``bulk_send_job_id``, ``bulk_row``) pair of ``signature_requests`` is the
last guard). Small transactions keep the database's writer free between them for the API and the other jobs.
The job is queued in its account's lane, so one account's bulk send takes turns with other accounts' work.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from paraph.bulk_send import repository
from paraph.bulk_send.schemas import row_request
from paraph.db import utcnow
from paraph.errors import ApiError
from paraph.models import Account, BulkSendJob
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.template import send
from paraph.template.schemas import SendWithTemplateRequest
from paraph.wire.parse import parse
from paraph.worker import queue as jobs

log = logging.getLogger(__name__)

#: The job kind (stored in the jobs table: never change it).
KIND = "bulk_send.rows"
#: Rows made per transaction.
ROWS_PER_TRANSACTION = 25


class _Moved(Exception):
    """Another worker moved the job's ``next_row`` meanwhile: this batch is rolled back."""


def enqueue(session: Session, job: BulkSendJob) -> None:
    jobs.enqueue(session, KIND, {"bulk_send_job": job.id}, lane=str(job.account_id))


def _make_row(rt: Runtime, scope: Scope, account: Account, job: BulkSendJob, row: int, resolved: _Once) -> None:
    req = parse(SendWithTemplateRequest, row_request(job.request, job.rows[row]))
    d = send.draft(req, [], scope.settings, embedded=job.is_embedded)
    d.bulk_send_job_id, d.bulk_row = job.bulk_send_job_id, row
    checked = send.check_send(resolved.get(scope.session, account, req), req)
    send.create(rt, scope, account, d, checked=checked)


class _Once:
    """The templates of a job, read once per transaction (every row names the same ones, and the same
    client_id): the rows' sends are checked against them without reading them again."""

    def __init__(self) -> None:
        self.value: send.Resolved | None = None

    def get(self, session: Session, account: Account, req: SendWithTemplateRequest) -> send.Resolved:
        if self.value is None:
            self.value = send.resolve(session, account, req.template_ids, req.client_id)
        return self.value


def _batch(rt: Runtime, pk: int) -> bool:
    """Make the next rows of job ``pk`` in one transaction; False when no row is left."""
    with rt.unit_of_work() as session:
        job = repository.by_pk(session, pk, lock=True)
        if job is None or job.next_row >= job.total:
            return False
        account = session.get(Account, job.account_id)
        if account is None:
            return False
        scope = Scope.of(session, rt)
        start = job.next_row
        end = min(job.total, start + ROWS_PER_TRANSACTION)
        made = repository.rows_made(session, job)
        failures = list(job.failures or [])
        resolved = _Once()
        for row in range(start, end):
            if row in made:
                continue
            savepoint = session.begin_nested()
            try:
                _make_row(rt, scope, account, job, row, resolved)
                savepoint.commit()
            except ApiError as exc:  # changed since the job was checked (a template deleted): the row fails
                savepoint.rollback()
                failures.append({"row": row, "error": exc.error_msg})
                resolved = _Once()  # what the rolled-back savepoint touched is read again
        if len(failures) != len(job.failures or []):
            job.failures = failures
        session.flush()
        if not repository.advance(session, job, start, end):
            raise _Moved
    return True


def make_rows(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any]:
    """The preparer: every row left, a transaction per batch (see the module's doc)."""
    pk = int(payload["bulk_send_job"])
    try:
        while _batch(rt, pk):
            pass
    except _Moved:
        log.warning("bulk send job %s: its rows were made by another worker meanwhile", pk)
    return {}


@jobs.handler(KIND, prepare=make_rows)
def finish(scope: Scope, payload: dict[str, Any]) -> None:
    job = repository.by_pk(scope.session, int(payload["bulk_send_job"]), lock=True)
    if job is not None and job.next_row >= job.total and job.finished_at is None:
        job.finished_at = utcnow()
