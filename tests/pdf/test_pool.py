"""The PDF process pool (ADR 0014): a task past the time limit has its process killed and replaced, a task past
the memory limit fails without taking the pool down, and accounts take turns."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from paraph.pdf.pool import PdfOutOfMemory, PdfPool, PdfProcessCrashed, PdfTimeout, PdfWorkError
from tests.pdf import pool_tasks
from tests.pdfs import xobject_fan_out
from tests.signature_request.helpers import make_pdf


@pytest.fixture
def one_slot() -> Iterator[PdfPool]:
    pool = PdfPool(processes=1, timeout=3.0, memory_mb=512)
    yield pool
    pool.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_task_past_the_time_limit_is_killed_and_the_next_runs_in_a_fresh_process(
    one_slot: PdfPool, tmp_path: Path
) -> None:
    marker = tmp_path / "forever.pid"
    with pytest.raises(PdfTimeout):
        one_slot.run(pool_tasks.forever, str(marker))
    stuck = int(marker.read_text())
    assert not _alive(stuck)
    fresh = one_slot.run(pool_tasks.pid)
    assert fresh != stuck
    assert one_slot.run(pool_tasks.pid) == fresh  # the new process serves on


def test_a_task_past_the_memory_limit_fails_and_the_pool_serves_on(one_slot: PdfPool) -> None:
    before = one_slot.run(pool_tasks.pid)
    assert one_slot.run(pool_tasks.allocate, 64) == 64 * 1024 * 1024
    with pytest.raises(PdfOutOfMemory):
        one_slot.run(pool_tasks.allocate, 1024)
    after = one_slot.run(pool_tasks.pid)
    assert after != before and not _alive(before)
    assert one_slot.run(pool_tasks.process, make_pdf()) == 1


def test_an_xobject_fan_out_fails_on_the_memory_limit_not_the_time_limit() -> None:
    # Without a memory limit this 2 KB file grows past 2 GB within seconds and runs until the time limit.
    pool = PdfPool(processes=1, timeout=600.0, memory_mb=512)
    try:
        with pytest.raises((PdfOutOfMemory, PdfProcessCrashed)):
            pool.run(pool_tasks.process, xobject_fan_out())
        assert pool.run(pool_tasks.process, make_pdf()) == 1
    finally:
        pool.close()


def test_a_task_s_exception_reaches_its_caller_and_the_process_stays(one_slot: PdfPool) -> None:
    before = one_slot.run(pool_tasks.pid)
    with pytest.raises(ValueError, match="bad input"):
        one_slot.run(pool_tasks.fail, "bad input")
    assert one_slot.run(pool_tasks.pid) == before


def test_one_account_s_queue_delays_another_s_task_by_one_task_at_most(one_slot: PdfPool, tmp_path: Path) -> None:
    log = str(tmp_path / "order.log")
    heavy = [one_slot.submit(pool_tasks.record, log, f"A{n}", lane="account-a") for n in range(1, 21)]
    light = one_slot.submit(pool_tasks.record, log, "B1", lane="account-b")
    assert light.result() == "B1"
    for future in heavy:
        future.result()
    order = Path(log).read_text().split()
    assert order.index("B1") <= 1, order
    assert [name for name in order if name.startswith("A")] == [f"A{n}" for n in range(1, 21)]


def test_accounts_with_queued_tasks_take_turns(one_slot: PdfPool, tmp_path: Path) -> None:
    log = str(tmp_path / "order.log")
    futures = [one_slot.submit(pool_tasks.record, log, f"A{n}", lane="a") for n in range(1, 4)]
    futures += [one_slot.submit(pool_tasks.record, log, f"B{n}", lane="b") for n in range(1, 4)]
    for future in futures:
        future.result()
    assert Path(log).read_text().split() == ["A1", "B1", "A2", "B2", "A3", "B3"]


def test_closing_fails_the_queued_tasks(tmp_path: Path) -> None:
    pool = PdfPool(processes=1, timeout=60.0)
    running = pool.submit(pool_tasks.forever, str(tmp_path / "forever.pid"))
    queued = pool.submit(pool_tasks.pid)
    pool.close()
    with pytest.raises(PdfWorkError):
        queued.result()
    with pytest.raises(PdfWorkError):
        running.result()
