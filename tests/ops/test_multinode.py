"""Beyond one machine, as docs/deploy.md deploys it, on loopback: PostgreSQL, an S3 API (moto's server), two
API nodes (``paraph serve --no-worker``) and two ``paraph worker`` processes, real subprocesses sharing one
database, one secret and one bucket, each with a data dir of its own (the nodes and workers of a deployment do
not share a disk).

A request is created on node A with the official SDK, signed through node B's signing page (the page's own
HTTP endpoints, as a browser drives them), finalized by a worker and downloaded from node A, sealed with the
deployment's certificate; every callback arrives once. One worker is killed with SIGKILL in the middle of a
burst of 50 requests and nothing is lost. No document file is in any process's data dir. Last, the bucket goes
away: the API answers 503 ``maintenance`` and ``/readyz`` says not ready, never a 500.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlencode, urlsplit

import dropbox_sign
import pytest
import sqlalchemy as sa
import urllib3
from cryptography import x509
from dropbox_sign import models

from paraph.config import Settings
from paraph.models import CallbackDelivery, Job
from paraph.models.signature_request import FilesState
from paraph.runtime import Runtime
from paraph.signature_request import repository as requests
from paraph.signing.seal_key import seal_pem
from tests.client import wait_until
from tests.conftest import AccountInfo
from tests.factories import make_account
from tests.pdf._finalize_fixtures import validate_seal
from tests.pgcluster import free_port
from tests.receiver import Received, Receiver, ReceiverServer
from tests.s3server import MotoServer
from tests.signing.helpers import make_pdf

pytestmark = pytest.mark.slow

BURST = 50
PARENT = "http://localhost:5173/checkout"


@dataclass
class Deployment:
    node_a: str
    node_b: str
    nodes: list[subprocess.Popen[bytes]]
    workers: list[subprocess.Popen[bytes]]
    data_dirs: list[Path]
    rt: Runtime
    account: AccountInfo
    receiver: Receiver
    moto: MotoServer
    bucket: str

    def sdk(self, node: str) -> dropbox_sign.ApiClient:
        cfg = dropbox_sign.Configuration(host=node + "/v3", username=self.account.api_key)
        cfg.proxy = None
        return dropbox_sign.ApiClient(cfg)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "paraph.cli", *args],
            env=env,
            start_new_session=True,  # its own process group: a kill takes its PDF processes too
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def ready(url: str) -> bool:
    try:
        return urllib3.request("GET", url + "/readyz", retries=False, timeout=2).status == 200
    except urllib3.exceptions.HTTPError:
        return False


@pytest.fixture(scope="module")
def deployment(pg_server_url: str, pg_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from aiosmtpd.controller import Controller

    class Accept:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    root = tmp_path_factory.mktemp("multinode")
    moto = MotoServer()  # this module's own: its last test stops it
    moto.start()
    db_name = f"paraph_mn_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {db_name} TEMPLATE {pg_template}")
    db_url = sa.make_url(pg_server_url).set(database=db_name).render_as_string(hide_password=False)
    receiver_server = ReceiverServer()
    receiver = receiver_server.start()
    smtp = Controller(Accept(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    procs: list[subprocess.Popen[bytes]] = []
    rt: Runtime | None = None
    try:
        bucket = moto.new_bucket()
        port_a, port_b = free_port(), free_port()
        shared = {
            **os.environ,
            "PARAPH_DATABASE_URL": db_url,
            "PARAPH_SECRET_KEY": "multinode-" + uuid.uuid4().hex,
            "PARAPH_STORAGE_URL": moto.storage_url(bucket, "paraph"),
            "PARAPH_BASE_URL": f"http://127.0.0.1:{port_a}",  # the public origin (a proxy in front of both)
            "PARAPH_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
            "PARAPH_CALLBACK_ALLOW_PRIVATE": "1",
            "PARAPH_CALLBACK_TIMEOUT": "10",
            "PARAPH_CALLBACK_RETRY_DELAYS": "1,1,1",
        }
        data_dirs = [root / name for name in ("node-a", "node-b", "worker-1", "worker-2")]

        def env_of(data_dir: Path) -> dict[str, str]:
            data_dir.mkdir()
            return {**shared, "PARAPH_DATA_DIR": str(data_dir)}

        node_args = ["serve", "--no-worker", "--no-migrate", "--port"]
        nodes = [
            start([*node_args, str(port)], env_of(d), root / f"{d.name}.log")
            for port, d in ((port_a, data_dirs[0]), (port_b, data_dirs[1]))
        ]
        workers = [start(["worker"], env_of(d), root / f"{d.name}.log") for d in data_dirs[2:]]
        procs += nodes + workers
        rt = Runtime(
            Settings(
                database_url=db_url,
                secret_key=shared["PARAPH_SECRET_KEY"],
                storage_url=shared["PARAPH_STORAGE_URL"],
                data_dir=root / "test",
            )
        )
        account = make_account(rt)
        node_a, node_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        wait_until(lambda: ready(node_a) and ready(node_b), timeout=60, interval=0.1)
        yield Deployment(node_a, node_b, nodes, workers, data_dirs, rt, account, receiver, moto, bucket)
    finally:
        for proc in procs:  # SIGTERM to all at once: they drain in parallel
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            stop(proc)
        if rt is not None:
            rt.close()
        smtp.stop()
        receiver_server.stop()
        moto.stop()
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        admin.dispose()


def on(node: str, url: str) -> str:
    """``url`` (on the public origin) as the proxy would send it to ``node``."""
    parts = urlsplit(url)
    return node + parts.path + (f"?{parts.query}" if parts.query else "")


def about(receiver: Receiver, rid: str) -> list[Received]:
    return [
        r
        for r in list(receiver.received)
        if (r.payload.get("signature_request") or {}).get("signature_request_id") == rid
    ]


def event_types(received: list[Received]) -> list[str]:
    return [r.payload["event"]["event_type"] for r in received]


def processed(rt: Runtime, rid: str) -> bool:
    with rt.unit_of_work(write=False) as session:
        sr = requests.by_public_id(session, rid)
        assert sr is not None and sr.files_state != FilesState.ERROR
        return sr.files_state == FilesState.READY


def signature_field() -> Any:
    return models.SubFormFieldsPerDocumentSignature(
        api_id="sig",
        type="signature",
        signer=0,
        page=1,
        x=72,
        y=420,
        width=200,
        height=40,
        required=True,
        document_index=0,
    )


def test_a_request_made_on_node_a_signed_on_node_b_is_sealed_and_downloaded_from_node_a(
    deployment: Deployment,
) -> None:
    d = deployment
    with d.sdk(d.node_a) as sdk_a, d.sdk(d.node_b) as sdk_b:
        dropbox_sign.AccountApi(sdk_b).account_update(
            models.AccountUpdateRequest(callback_url=d.receiver.url + "/hook")
        )
        client_id = (
            dropbox_sign.ApiAppApi(sdk_b)
            .api_app_create(models.ApiAppCreateRequest(name="Checkout", domains=["localhost"]))
            .api_app.client_id
        )
        created = (
            dropbox_sign.SignatureRequestApi(sdk_a)
            .signature_request_create_embedded(
                models.SignatureRequestCreateEmbeddedRequest(
                    client_id=client_id,
                    title="Across nodes",
                    test_mode=True,
                    signers=[models.SubSignatureRequestSigner(name="Jack Doe", email_address="jack@example.com")],
                    files=[make_pdf(2)],
                    form_fields_per_document=[signature_field()],
                )
            )
            .signature_request
        )
        rid, sid = created.signature_request_id, created.signatures[0].signature_id
        wait_until(lambda: processed(d.rt, rid), timeout=60)  # by one of the workers
        sign_url = dropbox_sign.EmbeddedApi(sdk_a).embedded_sign_url(sid).embedded.sign_url
        assert sign_url.startswith(d.node_a)  # PARAPH_BASE_URL, whichever node answered

        # The signer's browser reaches node B: the page, a page image (from the bucket), the submit.
        query = urlencode({"client_id": client_id, "parent_url": PARENT, "skip_domain_verification": "1"})
        opened = urllib3.request("GET", f"{on(d.node_b, sign_url)}&{query}", retries=False, timeout=30)
        assert opened.status == 200 and b"<html" in opened.data.lower()
        token = parse_qs(urlsplit(sign_url).query)["token"][0]
        image = urllib3.request(
            "GET", f"{d.node_b}/sign/{sid}/page/0/1", fields={"token": token}, retries=False, timeout=30
        )
        assert image.status == 200 and image.data.startswith(b"\x89PNG")
        submitted = urllib3.request(
            "POST",
            f"{d.node_b}/sign/{sid}/submit",
            json={"values": {"sig": True}, "signature": {"method": "type", "text": "Jack Doe"}},
            headers={"X-Paraph-Token": token},
            retries=False,
            timeout=60,
        )
        assert (submitted.status, json.loads(submitted.data)) == (200, {"ok": True, "complete": True})

        wait_until(lambda: "signature_request_downloadable" in event_types(about(d.receiver, rid)), timeout=60)
        api_a = dropbox_sign.SignatureRequestApi(sdk_a)
        final = api_a.signature_request_files(rid, file_type="pdf").read()
        pem = seal_pem(d.rt)  # the deployment's seal, in the shared database
        assert pem is not None
        assert validate_seal(final, x509.load_pem_x509_certificates(pem)[0]).bottom_line
        link = api_a.signature_request_files_as_file_url(rid, force_download=0).file_url
        assert link.startswith(d.node_a + "/paraph/files/")
        fetched = urllib3.request("GET", on(d.node_b, link), retries=False, timeout=30)  # a signed URL, any node
        assert fetched.status == 200 and fetched.data == final

    wait_until(lambda: delivery_states(d.rt, rid) == {"delivered"}, timeout=30)
    got = about(d.receiver, rid)
    assert Counter(r.headers["webhook-id"] for r in got).most_common(1)[0][1] == 1  # each callback once
    kinds = event_types(got)
    assert len(kinds) == len(set(kinds)), kinds  # and each event once
    assert {"signature_request_signed", "signature_request_all_signed", "signature_request_downloadable"} <= set(kinds)


def delivery_states(rt: Runtime, rid: str | None = None) -> set[str]:
    from paraph.models import CallbackEvent

    query = sa.select(CallbackDelivery.state).join(CallbackEvent, CallbackEvent.id == CallbackDelivery.event_id)
    if rid is not None:
        query = query.where(CallbackEvent.signature_request_id == rid)
    with rt.unit_of_work(write=False) as session:
        return set(session.scalars(query))


def test_a_worker_killed_mid_burst_loses_no_request_and_no_callback(deployment: Deployment) -> None:
    d = deployment
    killed = d.workers[0]
    before = len(d.receiver.received)
    # The receiver answers ten more callbacks, then holds every later one until released: the kill lands while
    # the workers have callbacks in flight and documents left to process, however fast the machine is.
    d.receiver.behaviour.hold_after = before + 10
    pdf = make_pdf(1)

    def send(i: int) -> str:
        with d.sdk(d.node_a if i % 2 else d.node_b) as sdk:
            sent = dropbox_sign.SignatureRequestApi(sdk).signature_request_send(
                models.SignatureRequestSendRequest(
                    title=f"Burst {i}",
                    test_mode=True,
                    signers=[models.SubSignatureRequestSigner(name=f"S{i}", email_address=f"s{i}@example.com")],
                    files=[pdf],
                    form_fields_per_document=[signature_field()],
                )
            )
            return cast(str, sent.signature_request.signature_request_id)

    try:
        with ThreadPoolExecutor(4) as pool:
            rids = list(pool.map(send, range(BURST)))
        d.receiver.wait_for(before + 11, timeout=90)  # ten answered, one held
        stop(killed, signal.SIGKILL)
        sent_before = sum(1 for r in d.receiver.received if rid_of(r) in rids)
        leased_at_kill = expire_leases_of(d.rt, killed.pid)  # as if the killed worker's short leases ran out
        assert sent_before < BURST, "the burst was over before the kill; nothing was tested"
    finally:
        d.receiver.behaviour.released.set()

    def all_sent() -> bool:
        sent = {
            rid_of(r) for r in list(d.receiver.received) if r.payload["event"]["event_type"] == "signature_request_sent"
        }
        return sent >= set(rids)

    wait_until(all_sent, timeout=90)
    wait_until(lambda: delivery_states(d.rt) == {"delivered"}, timeout=60)
    burst = [r for r in list(d.receiver.received) if rid_of(r) in rids]
    per_request = {rid: {r.headers["webhook-id"] for r in burst if rid_of(r) == rid} for rid in rids}
    assert all(len(ids) == 1 for ids in per_request.values()), per_request  # one signature_request_sent each
    assert set(event_types(burst)) == {"signature_request_sent"}
    duplicates = sum(n - 1 for n in Counter(r.headers["webhook-id"] for r in burst).values())
    report = f"{duplicates} duplicate callbacks after kill -9, {leased_at_kill} leased by the killed worker"
    print(report)
    assert duplicates <= leased_at_kill, report  # at-least-once: only what the killed worker had in flight


def rid_of(r: Received) -> str | None:
    return (r.payload.get("signature_request") or {}).get("signature_request_id")


def expire_leases_of(rt: Runtime, pid: int) -> int:
    """End the leases the killed worker (its id names its pid) held on jobs and callbacks now, rather than in
    the ~20 s they would take to run out; returns how many callback deliveries it held."""
    mine = f"%:{pid}:%"
    with rt.unit_of_work() as session:
        held = session.scalar(
            sa.select(sa.func.count())
            .select_from(CallbackDelivery)
            .where(CallbackDelivery.state == "pending", CallbackDelivery.locked_by.like(mine))
        )
        session.execute(sa.update(Job).where(Job.locked_by.like(mine)).values(locked_until=None))
        session.execute(
            sa.update(CallbackDelivery).where(CallbackDelivery.locked_by.like(mine)).values(locked_until=None)
        )
    return int(held or 0)


def test_no_document_file_is_in_any_data_dir(deployment: Deployment) -> None:
    files = [p for d in deployment.data_dirs for p in d.rglob("*") if p.is_file()]
    documents = [p for p in files if p.read_bytes()[:8].startswith((b"%PDF", b"\x89PNG"))]
    assert documents == []
    assert files == [], files  # nor anything else: the seal and the secret are shared, not per disk


def test_a_bucket_outage_is_a_503_and_not_ready(deployment: Deployment) -> None:
    d = deployment
    with d.sdk(d.node_b) as sdk:
        rid = (
            dropbox_sign.SignatureRequestApi(sdk)
            .signature_request_send(
                models.SignatureRequestSendRequest(
                    title="Before the outage",
                    test_mode=True,
                    signers=[models.SubSignatureRequestSigner(name="Jack", email_address="jack@example.com")],
                    files=[make_pdf(1)],
                )
            )
            .signature_request.signature_request_id
        )
    wait_until(lambda: processed(d.rt, rid), timeout=60)
    d.moto.stop()
    headers = urllib3.make_headers(basic_auth=f"{d.account.api_key}:")
    got = urllib3.request("GET", f"{d.node_a}/v3/signature_request/files/{rid}", headers=headers, retries=False)
    assert got.status == 503, got.data
    assert json.loads(got.data)["error"]["error_name"] == "maintenance"
    assert got.headers["Retry-After"]
    sent = urllib3.request(
        "POST",
        f"{d.node_b}/v3/signature_request/send",
        headers=headers,
        fields={
            "title": "Nowhere to go",
            "test_mode": "1",
            "signers[0][name]": "Jack",
            "signers[0][email_address]": "jack@example.com",
            "files[0]": ("a.pdf", make_pdf(1), "application/pdf"),
        },
        retries=False,
    )
    assert sent.status == 503 and json.loads(sent.data)["error"]["error_name"] == "maintenance", sent.data
    readyz = urllib3.request("GET", f"{d.node_b}/readyz", retries=False)
    assert readyz.status == 503
    assert json.loads(readyz.data)["checks"]["storage"] == "failing"
