"""No event is lost: a real server killed with SIGKILL mid-burst, and several workers sharing PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from paraph.config import Settings
from paraph.models import CallbackAttempt, CallbackDelivery
from paraph.runtime import Runtime
from tests.client import wait_until
from tests.factories import emit_events, make_account
from tests.pgcluster import free_port
from tests.receiver import Receiver

pytestmark = pytest.mark.slow


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PARAPH_DATABASE_URL": db_url,
        "PARAPH_DATA_DIR": str(tmp_path / "var"),
        "PARAPH_SECRET_KEY": "durability-test-secret",
        "PARAPH_CALLBACK_ALLOW_PRIVATE": "1",
        "PARAPH_CALLBACK_TIMEOUT": "1",
        "PARAPH_CALLBACK_CONCURRENCY": "10",
        "PARAPH_CALLBACK_RETRY_DELAYS": "1,1,1",
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


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "paraph.cli", *args],
        env=env,
        start_new_session=True,  # its own process group: the kill takes every process it started
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is serving
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        proc.wait(30)


def test_it_loses_no_event_when_killed_mid_burst(env: dict[str, str], rt: Runtime, receiver: Receiver) -> None:
    subprocess.run([sys.executable, "-m", "paraph.cli", "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    acct = make_account(rt)
    with rt.unit_of_work() as session:
        from paraph.account import repository, service

        account = repository.by_account_id(session, acct.account_id)
        assert account is not None
        service.update_account(
            session, account, callback_url=receiver.url + "/burst", locale=None, fields_set={"callback_url"}
        )
    receiver.behaviour.delay = 0.05
    server = start(["serve", "--port", str(port), "--no-migrate"], env)
    try:
        wait_http(f"http://127.0.0.1:{port}/v3/account")
        ids = emit_events(rt, acct, 300)
        receiver.wait_for(10, timeout=30)
        stop(server, signal.SIGKILL)
        got_before = len(receiver.received)
        assert got_before < 300, "the burst finished before the kill; nothing was tested"
        server = start(["serve", "--port", str(port), "--no-migrate"], env)  # same port, at once
        wait_http(f"http://127.0.0.1:{port}/v3/account")
        wait_until(lambda: {r.headers["webhook-id"] for r in receiver.received} >= set(ids), timeout=90)
    finally:
        stop(server)
    received = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert set(received) == set(ids)


def test_it_shares_work_between_workers_without_double_sends(
    request: pytest.FixtureRequest, env: dict[str, str], rt: Runtime, receiver: Receiver
) -> None:
    if "postgresql" not in env["PARAPH_DATABASE_URL"]:
        pytest.skip("several worker processes share one PostgreSQL; SQLite is the single-machine default")
    subprocess.run([sys.executable, "-m", "paraph.cli", "migrate"], env=env, check=True, capture_output=True)
    acct = make_account(rt)
    with rt.unit_of_work() as session:
        from paraph.account import repository, service

        account = repository.by_account_id(session, acct.account_id)
        assert account is not None
        service.update_account(
            session, account, callback_url=receiver.url + "/w", locale=None, fields_set={"callback_url"}
        )
    workers = [start(["worker"], env) for _ in range(3)]
    try:
        time.sleep(1.5)
        ids = emit_events(rt, acct, 300)
        wait_until(lambda: {r.headers["webhook-id"] for r in receiver.received} >= set(ids), timeout=60)
        time.sleep(1.0)  # anything sent twice would have arrived by now
    finally:
        for w in workers:
            stop(w)
    sends = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert set(sends) == set(ids)
    assert max(sends.values()) == 1
    user_agents = {r.headers.get("User-Agent") for r in receiver.received}
    assert user_agents and all(ua and ua.startswith("Paraph") for ua in user_agents)


def test_every_attempt_the_receiver_saw_is_recorded_after_sigterm(
    env: dict[str, str], rt: Runtime, receiver: Receiver
) -> None:
    """A clean stop right after the last callback of a burst arrived: the worker records every attempt before
    it exits, the ones in the batch its flush was holding included."""
    subprocess.run([sys.executable, "-m", "paraph.cli", "migrate"], env=env, check=True, capture_output=True)
    acct = make_account(rt)
    with rt.unit_of_work() as session:
        from paraph.account import repository, service

        account = repository.by_account_id(session, acct.account_id)
        assert account is not None
        service.update_account(
            session, account, callback_url=receiver.url + "/t", locale=None, fields_set={"callback_url"}
        )
    ids = emit_events(rt, acct, 300)
    worker = start(["worker"], {**env, "PARAPH_CALLBACK_CONCURRENCY": "50"})
    try:
        receiver.wait_for(300, timeout=60)
    finally:
        stop(worker)  # SIGTERM: the drain
    assert worker.returncode == 0
    assert {r.headers["webhook-id"] for r in receiver.received} == set(ids)
    with rt.unit_of_work(write=False) as session:
        recorded = session.scalar(sa.select(sa.func.count()).select_from(CallbackAttempt))
        states = Counter(session.scalars(sa.select(CallbackDelivery.state)))
    assert recorded == len(receiver.received)
    assert states == {"delivered": 300}
