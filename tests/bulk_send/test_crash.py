"""A bulk send job survives kill -9: a real server killed while it makes a job's rows, then restarted, makes
every row once (no request lost, none twice), each with its one signature_request_sent."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dropbox_sign
import pytest
import sqlalchemy as sa

from paraph.config import Settings
from paraph.models import BulkSendJob, CallbackEvent, Job, SignatureRequest, Template
from paraph.models.template import TemplateState
from paraph.runtime import Runtime
from tests.bulk_send.helpers import bulk_send, row, signer
from tests.callbacks.test_durability import start, stop, wait_http
from tests.client import wait_until
from tests.factories import make_account
from tests.pgcluster import free_port
from tests.template.helpers import create_template

pytestmark = pytest.mark.slow

ROWS = 30


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


def test_a_killed_bulk_send_job_resumes_and_makes_every_row_once(env: dict[str, str], rt: Runtime) -> None:
    port = free_port()
    server = start(["serve", "--port", str(port)], env)  # it applies the migrations
    try:
        wait_http(f"http://127.0.0.1:{port}/v3/account")
        acct = make_account(rt)
        cfg = dropbox_sign.Configuration(host=f"http://127.0.0.1:{port}/v3", username=acct.api_key)
        cfg.proxy = None
        with dropbox_sign.ApiClient(cfg) as sdk:
            tid = create_template(sdk)

            def ready() -> bool:
                with rt.unit_of_work(write=False) as session:
                    t = session.scalars(sa.select(Template).where(Template.template_id == tid)).one()
                    return t.state == TemplateState.READY

            wait_until(ready, timeout=90)
            manager = signer("Manager", "Max", "max@example.com")
            rows = [row([signer("Client", f"C{i}", f"c{i}@example.com"), manager]) for i in range(ROWS)]
            job = bulk_send(sdk, [tid], signer_list=rows)
        # Killed as soon as some rows are made and not all (the rows are made in transactions of 10).
        wait_until(lambda: (s := job_state(rt)) is not None and 0 < s[0] < ROWS, timeout=90, interval=0.002)
        stop(server, signal.SIGKILL)
        state = job_state(rt)
        assert state is not None and state[0] < ROWS and not state[1], "the job was over before the kill"
        # The killed worker's lease would run out in JOB_LEASE_SECONDS; end it now instead of waiting.
        with rt.unit_of_work() as session:
            session.execute(sa.update(Job).where(Job.done_at.is_(None)).values(locked_until=None))
        server = start(["serve", "--port", str(port), "--no-migrate"], env)
        wait_until(lambda: job_state(rt) == (ROWS, True), timeout=90)
    finally:
        stop(server)

    with rt.unit_of_work(write=False) as session:
        made = session.execute(
            sa.select(SignatureRequest.bulk_row, SignatureRequest.signature_request_id).where(
                SignatureRequest.bulk_send_job_id == job.bulk_send_job_id
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
