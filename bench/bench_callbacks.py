"""make bench-callbacks: callback delivery throughput and latency, beside a bare aiohttp ceiling.

1. Throughput: 10,000 events queued, then delivered to a loopback receiver that answers
   `Hello API Event Received`, every attempt recorded. Beside it, the ceiling: a bare aiohttp loop posting the
   same bodies at the same concurrency to the same receiver, on the same event loop (uvloop). Both rates are
   taken from the receiver's clock, first receipt to last, so neither side's start-up counts; three rounds,
   the median printed with each round's ratio. Printed: deliveries per second and the ratio.
2. Latency: events emitted at a steady 200 per second; for each, the time from the commit of the state
   change to the receiver's receipt. Printed: p50 and p99.
Run on the embedded SQLite default (worker in the emitting process, as in `paraph serve`) and on PostgreSQL
with two `paraph worker` processes (LISTEN/NOTIFY), started, warmed up and frozen before each round's events
are queued (their start-up stays out of the measured window, as the ceiling's does). Loopback only.
`--no-sqlite` / `--no-postgres` run one; `BENCH_ROUNDS`, `BENCH_EVENTS` set the rounds and events.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pgcluster import Cluster, free_port  # noqa: E402

from paraph.account import repository as accounts  # noqa: E402
from paraph.account.service import create_account, update_account  # noqa: E402
from paraph.callbacks.dispatcher import Dispatcher  # noqa: E402
from paraph.callbacks.events import EventType  # noqa: E402
from paraph.callbacks.service import emit  # noqa: E402
from paraph.callbacks.webhook_signature import encode_callback_json  # noqa: E402
from paraph.config import Settings  # noqa: E402
from paraph.migrate import upgrade  # noqa: E402
from paraph.models import CallbackAttempt, CallbackDelivery  # noqa: E402
from paraph.runtime import Runtime  # noqa: E402
from paraph.worker.runner import Worker  # noqa: E402

N = int(os.environ.get("BENCH_EVENTS", "10000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
RATE = 200
LATENCY_SECONDS = 10
CONCURRENCY = 100


def get(url: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def post(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=30).read()


class ReceiverProc:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_receiver.py"), str(self.port)], stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                get(self.url + "/stats")
                break
            except OSError:
                time.sleep(0.05)

    def count(self) -> int:
        return int(get(self.url + "/stats")["count"])

    def received(self) -> dict[str, float]:
        return get(self.url + "/stats?full=1")["received"]  # type: ignore[no-any-return]

    def reset(self) -> None:
        post(self.url + "/reset")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def setup(rt: Runtime, hook: str) -> str:
    with rt.unit_of_work() as s:
        created = create_account(s, rt.keys, f"bench-{time.time_ns()}@example.com")
        update_account(s, created.account, callback_url=hook, locale=None, fields_set={"callback_url"})
        return created.account.account_id


def emit_batch(rt: Runtime, account_id: str, n: int, per_tx: int = 500) -> None:
    done = 0
    while done < n:
        with rt.unit_of_work() as s:
            acct = accounts.by_account_id(s, account_id)
            assert acct is not None
            for i in range(min(per_tx, n - done)):
                emit(
                    s,
                    rt.keys,
                    acct,
                    EventType.SIGNATURE_REQUEST_SENT,
                    object_kind="signature_request",
                    object_json={
                        "signature_request_id": f"{done + i:040x}",
                        "title": "Bench",
                        "test_mode": True,
                    },
                )
        done += per_tx


def emit_one(rt: Runtime, account_id: str) -> tuple[str, float]:
    with rt.unit_of_work() as s:
        acct = accounts.by_account_id(s, account_id)
        assert acct is not None
        e = emit(
            s,
            rt.keys,
            acct,
            EventType.SIGNATURE_REQUEST_SENT,
            object_kind="signature_request",
            object_json={"signature_request_id": "f" * 40, "title": "Bench", "test_mode": True},
        )
        event_id = e.event.event_id
    return event_id, time.time()  # after commit


def wait_count(rec: ReceiverProc, n: int, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while rec.count() < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {rec.count()} of {n} delivered")
        time.sleep(0.02)
    return time.perf_counter()


async def ceiling(rt: Runtime, url: str) -> None:
    """Bare aiohttp: the same bodies, the same concurrency, the same receiver."""
    with rt.unit_of_work(write=False) as s:
        bodies = [b for (b,) in s.query(CallbackDelivery.body_json).order_by(CallbackDelivery.id.desc()).limit(N)]
    encoded = [encode_callback_json(b or "{}") for b in bodies]
    queue = list(range(len(encoded)))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:

        async def worker() -> None:
            while queue:
                i = queue.pop()
                body, ctype = encoded[i]
                async with session.post(
                    url, data=body, headers={"Content-Type": ctype, "webhook-id": f"ceiling-{i}"}
                ) as r:
                    assert "Hello API Event Received" in await r.text()

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def latency_phase(rt: Runtime, account_id: str, rec: ReceiverProc) -> tuple[float, float]:
    rec.reset()
    sent: dict[str, float] = {}
    total = RATE * LATENCY_SECONDS
    t0 = time.perf_counter()
    for i in range(total):
        target = t0 + i / RATE
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        event_id, committed = emit_one(rt, account_id)
        sent[event_id] = committed
    wait_count(rec, total, timeout=120)
    got = rec.received()
    lat = sorted((got[e] - c) * 1000 for e, c in sent.items() if e in got)
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1]


class InProcessWorker:
    def __init__(self, rt: Runtime) -> None:
        self.worker = Worker(rt, [Dispatcher(rt)])
        import uvloop

        self.loop = uvloop.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.worker.run(),), daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.worker.stop)
        self.thread.join(60)
        if self.thread.is_alive():
            raise RuntimeError("the in-process worker did not stop within 60 s")


def attempts_recorded(rt: Runtime) -> int:
    with rt.unit_of_work(write=False) as s:
        return int(s.query(CallbackAttempt).count())


def unrecorded(rt: Runtime) -> int:
    """Deliveries with no attempt recorded. Once the receiver has had every event and the workers have
    stopped, each is a callback the receiver got whose attempt was lost."""
    with rt.unit_of_work(write=False) as s:
        has_attempt = sa.exists().where(CallbackAttempt.delivery_id == CallbackDelivery.id)
        return int(s.scalar(sa.select(sa.func.count()).select_from(CallbackDelivery).where(~has_attempt)) or 0)


def receipt_rate(rec: ReceiverProc, n: int) -> float:
    """Deliveries per second as the receiver saw them, from its first receipt to its last: the same clock
    for Paraph and the ceiling, and neither one's start-up counted."""
    times = sorted(rec.received().values())
    assert len(times) >= n, f"{len(times)} of {n} received"
    return (len(times) - 1) / (times[-1] - times[0])


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_idle(procs: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    """Until the processes (and their children, the PDF processes, which start in the background) have used
    less than 2 % of a core for a second: a started worker is done importing and warming up."""

    def family() -> list[int]:
        pids = [p.pid for p in procs]
        for p in procs:
            children = Path(f"/proc/{p.pid}/task/{p.pid}/children")
            if children.exists():
                pids += [int(c) for c in children.read_text().split()]
        return pids

    def ticks() -> int:
        total = 0
        for pid in family():
            try:
                total += cpu_ticks(pid)
            except OSError:
                pass
        return total

    deadline = time.monotonic() + timeout
    before = ticks()
    while time.monotonic() < deadline:
        time.sleep(1)
        now = ticks()
        if now - before <= 2 * len(family()) * os.sysconf("SC_CLK_TCK") // 100:
            return
        before = now
    raise RuntimeError("the workers did not settle within 60 s")


def start_workers(
    name: str, rt: Runtime, env: dict[str, str], account_id: str, rec: ReceiverProc
) -> tuple[Callable[[], None], Callable[[], None]]:
    """Start delivering, and return (go, stop). On SQLite the worker runs in this process (as `paraph serve`
    does) and starts at ``go``. On PostgreSQL two `paraph worker` processes start at once, deliver one warm-up
    event, settle (imports done, PDF processes up) and are frozen (SIGSTOP) until ``go`` (SIGCONT): the
    events are queued with no worker running, as on SQLite, and no process start-up falls in the measured
    window (the ceiling, in this already running process, pays none either). ``stop`` returns once every
    worker has drained and stopped: by then every attempt a worker made is recorded (the worker's contract,
    checked after each round)."""
    if name == "sqlite":
        inproc = InProcessWorker(rt)
        return inproc.start, inproc.stop
    procs = [
        subprocess.Popen([sys.executable, "-m", "paraph.cli", "worker"], env=env, stderr=subprocess.DEVNULL)
        for _ in range(2)
    ]
    rec.reset()
    emit_one(rt, account_id)
    wait_count(rec, 1)
    wait_idle(procs)
    for p in procs:
        os.kill(p.pid, signal.SIGSTOP)

    def go() -> None:
        for p in procs:
            os.kill(p.pid, signal.SIGCONT)

    def stop() -> None:
        for p in procs:
            p.terminate()
        for p in procs:
            if p.wait(60) != 0:
                raise RuntimeError(f"a paraph worker exited with {p.returncode} on SIGTERM")

    return go, stop


def run_backend(name: str, url: str, data_dir: Path, rec: ReceiverProc) -> dict[str, Any]:
    upgrade(url)
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="bench",
        callback_allow_private=True,
        callback_concurrency=CONCURRENCY,
    )
    rt = Runtime(settings)
    account_id = setup(rt, rec.url + "/hook")
    env = {
        **os.environ,
        "PARAPH_DATABASE_URL": url,
        "PARAPH_DATA_DIR": str(data_dir),
        "PARAPH_SECRET_KEY": "bench",
        "PARAPH_CALLBACK_ALLOW_PRIVATE": "1",
        "PARAPH_CALLBACK_CONCURRENCY": str(CONCURRENCY),
    }
    import uvloop  # the ceiling runs on the same event loop as Paraph's worker

    paraph_rates, ceiling_rates = [], []
    missing: list[int] = []  # per round: deliveries the receiver got with no attempt recorded once stopped
    warm_ups = 0
    for _ in range(ROUNDS):
        # N events queued with no worker running, then delivered.
        go, stop = start_workers(name, rt, env, account_id, rec)
        warm_ups += name != "sqlite"
        emit_batch(rt, account_id, N)
        rec.reset()
        go()
        wait_count(rec, N)
        stop()
        missing.append(unrecorded(rt) - sum(missing))
        paraph_rates.append(receipt_rate(rec, N))
        # The ceiling: the same bodies to the same receiver.
        rec.reset()
        uvloop.run(ceiling(rt, rec.url + "/hook"))
        ceiling_rates.append(receipt_rate(rec, N))
    recorded = attempts_recorded(rt) - warm_ups
    go, stop = start_workers(name, rt, env, account_id, rec)
    go()
    rec.reset()
    emit_one(rt, account_id)  # the workers are up once this one has arrived
    wait_count(rec, 1)
    p50, p99 = latency_phase(rt, account_id, rec)
    stop()
    latency_missing = unrecorded(rt) - sum(missing)
    rt.close()
    paraph, ceil = statistics.median(paraph_rates), statistics.median(ceiling_rates)
    return {
        "paraph": paraph,
        "ceiling": ceil,
        "ratios": [p / c for p, c in zip(paraph_rates, ceiling_rates, strict=True)],
        "p50": p50,
        "p99": p99,
        "attempts": recorded,
        "missing": missing,
        "latency_missing": latency_missing,
    }


def main() -> None:
    rec = ReceiverProc()
    results: dict[str, dict[str, Any]] = {}
    try:
        if "--no-sqlite" not in sys.argv:
            with tempfile.TemporaryDirectory() as tmp:
                results["sqlite"] = run_backend("sqlite", f"sqlite:///{tmp}/bench.sqlite3", Path(tmp), rec)
        if "--no-postgres" not in sys.argv:
            cluster = Cluster()
            try:
                admin = cluster.start()
                eng = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
                with eng.connect() as c:
                    c.exec_driver_sql("CREATE DATABASE bench")
                eng.dispose()
                with tempfile.TemporaryDirectory() as tmp:
                    results["postgresql (2 workers)"] = run_backend(
                        "postgresql", admin.rsplit("/", 1)[0] + "/bench", Path(tmp), rec
                    )
            finally:
                cluster.stop()
    finally:
        rec.stop()
    print(
        f"\n{N} events to a loopback receiver, concurrency {CONCURRENCY}, median of {ROUNDS} rounds "
        f"(rate from the receiver's first receipt to its last); latency at a steady {RATE}/s"
    )
    print(
        f"{'backend':24} {'paraph/s':>10} {'ceiling/s':>10} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'attempts':>9}  ratio per round"
    )
    for name, r in results.items():
        rounds = " ".join(f"{x:.2f}" for x in r["ratios"])
        print(
            f"{name:24} {r['paraph']:10.0f} {r['ceiling']:10.0f} {r['paraph'] / r['ceiling']:6.2f} "
            f"{r['p50']:7.1f} {r['p99']:7.1f} {int(r['attempts']):9d}  {rounds}"
        )
    print(
        f"(attempts: every attempt recorded is {ROUNDS * N}; targets: ratio >= 0.5 on SQLite (issue #3) and on "
        "PostgreSQL with two workers (issue #18), p99 <= 100 ms)"
    )
    failures = [
        f"{name}: {sum(r['missing']) + r['latency_missing']} attempts missing "
        f"({' + '.join(str(m) for m in r['missing'])} of {ROUNDS} x {N} in the throughput rounds, "
        f"{r['latency_missing']} of {1 + RATE * LATENCY_SECONDS} in the latency phase)"
        for name, r in results.items()
        if sum(r["missing"]) or r["latency_missing"]
    ]
    if failures:
        print("\nFAIL: callbacks the receiver got have no attempt recorded once the workers stopped:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
