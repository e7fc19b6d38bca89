"""A bulk send job survives kill -9: a real worker process (``paraph worker``) killed while it makes a job's
rows, its job then taken over by another worker, makes every row once (no request lost, none twice), each with
its one signature_request_sent. The template and the job are made by the API's own service calls, in this
process (the API path itself is tested through the SDK in ``test_bulk_send``)."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from paraph import tasks
from paraph.account import repository as accounts
from paraph.bulk_send import service as bulk
from paraph.bulk_send.schemas import BulkSendRequest
from paraph.bulk_send.tasks import ROWS_PER_TRANSACTION
from paraph.config import Settings
from paraph.models import BulkSendJob, CallbackEvent, Job, SignatureRequest, Template
from paraph.models.template import TemplateState
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.template import service as templates
from paraph.template.schemas import TemplateCreateRequest
from paraph.wire.decode import UploadedFile
from paraph.wire.parse import parse
from paraph.worker import queue
from tests.callbacks.test_durability import start, stop
from tests.client import wait_until
from tests.factories import make_account
from tests.template.helpers import CONTRACT, contract_fields

pytestmark = pytest.mark.slow

#: Two transactions' worth of rows: the kill lands after the first commits, while the second runs.
ROWS = 2 * ROWS_PER_TRANSACTION


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PARAPH_DATABASE_URL": db_url,
        "PARAPH_DATA_DIR": str(tmp_path / "var"),
        "PARAPH_SECRET_KEY": "bulk-crash-test-secret",
    }


@pytest.fixture
def rt(env: dict[str, str]) -> Iterator[Runtime]:
    runtime = Runtime(
        Settings(
            database_url=env["PARAPH_DATABASE_URL"],
            data_dir=Path(env["PARAPH_DATA_DIR"]),
            secret_key=env["PARAPH_SECRET_KEY"],
        )
    )
    yield runtime
    runtime.close()


def job_state(rt: Runtime) -> tuple[int, bool] | None:
    with rt.unit_of_work(write=False) as session:
        job = session.scalars(sa.select(BulkSendJob)).first()
        return None if job is None else (job.next_row, job.finished_at is not None)


def template_ready(rt: Runtime, tid: str) -> bool:
    with rt.unit_of_work(write=False) as session:
        t = session.scalars(sa.select(Template).where(Template.template_id == tid)).one()
        return t.state == TemplateState.READY


def test_a_killed_bulk_send_job_resumes_and_makes_every_row_once(env: dict[str, str], rt: Runtime) -> None:
    acct = make_account(rt)
    req = parse(
        TemplateCreateRequest,
        {
            "title": "NDA",
            "signer_roles": [{"name": "Client", "order": 0}, {"name": "Manager", "order": 1}],
            "form_fields_per_document": [f.to_dict() for f in contract_fields(2)],
            "test_mode": True,
        },
    )
    draft = templates.draft(req, [UploadedFile("nda.pdf", "application/pdf", CONTRACT)], rt.settings)
    templates.store_uploads(rt.storage, draft.documents)
    with rt.unit_of_work() as session:
        account = accounts.by_account_id(session, acct.account_id)
        assert account is not None
        tid = templates.create(session, account, draft).template_id
    worker = start(["worker"], env)
    try:
        wait_until(lambda: template_ready(rt, tid), timeout=90)
        manager = {"role": "Manager", "name": "Max", "email_address": "max@example.com"}
        signer_list = [
            {"signers": [{"role": "Client", "name": f"C{i}", "email_address": f"c{i}@example.com"}, manager]}
            for i in range(ROWS)
        ]
        with rt.unit_of_work() as session:
            account = accounts.by_account_id(session, acct.account_id)
            assert account is not None
            body = parse(BulkSendRequest, {"template_ids": [tid], "signer_list": signer_list, "test_mode": True})
            job_id = bulk.create_job(Scope.of(session, rt), account, body, None, embedded=False).bulk_send_job_id
        # Killed as soon as some rows are made and not all.
        wait_until(lambda: (s := job_state(rt)) is not None and 0 < s[0] < ROWS, timeout=90, interval=0.002)
        stop(worker, signal.SIGKILL)
        state = job_state(rt)
        assert state is not None and state[0] < ROWS and not state[1], "the job was over before the kill"
    finally:
        stop(worker)
    # The killed worker's lease would run out in JOB_LEASE_SECONDS; end it now instead of waiting. Then another
    # worker (this process, as `paraph worker` does: claim, prepare, run) takes the job over.
    with rt.unit_of_work() as session:
        session.execute(sa.update(Job).where(Job.done_at.is_(None)).values(locked_until=None))
    tasks.load()
    while job_state(rt) != (ROWS, True):
        with rt.unit_of_work() as session:
            claimed = queue.claim(session, "resuming-worker")
        assert claimed, "the job was not there to resume"
        job = queue.prepare(rt, claimed[0])
        with rt.unit_of_work() as session:
            queue.run(Scope.of(session, rt), job)

    with rt.unit_of_work(write=False) as session:
        made = session.execute(
            sa.select(SignatureRequest.bulk_row, SignatureRequest.signature_request_id).where(
                SignatureRequest.bulk_send_job_id == job_id
            )
        ).all()
        sent = Counter(
            session.scalars(
                sa.select(CallbackEvent.signature_request_id).where(
                    CallbackEvent.event_type == "signature_request_sent"
                )
            )
        )
    assert sorted(r for r, _ in made if r is not None) == list(range(ROWS)) and len(made) == ROWS
    assert {rid: sent[rid] for _, rid in made} == {rid: 1 for _, rid in made}
    assert sum(sent.values()) == ROWS
