"""Signing to sealed final document through the real server, beside the PDF work alone.

A 10-page request with 20 fields (a typed signature and initials on every other page, text, dates and
checkboxes) is created on a running Paraph (uvicorn on loopback, SQLite, the in-process worker and PDF
process pool). Timed from the signer's submit (``POST /sign/{id}/submit``) until the final document is
stored (``final_pdf_key`` set, which is when ``signature_request_downloadable`` is emitted): the submit
transaction, the job, reading the audit events, the PDF pool round trip, stamping, the audit trail, the
seal, storage. The floor is ``build_final`` alone on the same inputs, in this process, with the sealer
loaded. Medians of several runs, after a warm-up.

Run: .venv/bin/python bench/bench_finalize_e2e.py [--runs N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import urllib3
import uvicorn
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pgcluster import free_port  # noqa: E402

from paraph.account.service import create_account  # noqa: E402
from paraph.app import create_app  # noqa: E402
from paraph.config import Settings  # noqa: E402
from paraph.migrate import upgrade  # noqa: E402
from paraph.pdf.final import build_final  # noqa: E402
from paraph.pdf.stored import _sealer  # noqa: E402
from paraph.runtime import Runtime  # noqa: E402
from paraph.signature_request import repository  # noqa: E402
from paraph.signing import tasks as final  # noqa: E402
from paraph.signing.seal_key import seal_pem  # noqa: E402

PAGES = 10


def make_pdf() -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=letter)
    for n in range(1, PAGES + 1):
        sheet.setFont("Helvetica", 10)
        for i in range(40):
            sheet.drawString(
                72, 740 - 16 * i, f"Page {n}, clause {i + 1}: the parties agree to the terms written here."
            )
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def fields() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """20 fields of signer 0 and the values that fill them."""
    specs: list[dict[str, Any]] = []
    values: dict[str, Any] = {}

    def add(api_id: str, kind: str, page: int, x: float, y: float, w: float, h: float, value: Any) -> None:
        specs.append(
            {"api_id": api_id, "type": kind, "page": page, "x": x, "y": y, "width": w, "height": h}
            | {"signer": 0, "document_index": 0, "required": True}
        )
        values[api_id] = value

    for page in range(1, PAGES + 1, 2):
        add(f"sig{page}", "signature", page, 72, 600, 180, 40, True)
        add(f"ini{page}", "initials", page, 300, 600, 60, 30, True)
    for page in range(1, PAGES + 1):
        kind = ("text", "date_signed", "checkbox")[page % 3]
        if kind == "checkbox":
            add(f"f{page}", kind, page, 72, 680, 14, 14, True)
        else:
            add(f"f{page}", kind, page, 72, 680, 180, 20, f"Value {page}")
    return specs, values


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(dir=args.data_dir))
    port = free_port()
    settings = Settings(
        data_dir=base / "var",
        database_url=f"sqlite:///{base / 'paraph.sqlite3'}",
        base_url=f"http://127.0.0.1:{port}",
        secret_key=uuid.uuid4().hex,
    )
    upgrade(settings.effective_database_url)
    rt = Runtime(settings)
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=rt), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    with rt.unit_of_work() as session:
        key = create_account(session, rt.keys, "bench@example.com", password="bench-pass").api_key
    auth = urllib3.make_headers(basic_auth=f"{key}:")
    api = f"http://127.0.0.1:{port}/v3"
    app = json.loads(
        urllib3.request("POST", f"{api}/api_app", headers=auth, json={"name": "b", "domains": ["x.test"]}).data
    )
    client_id = app["api_app"]["client_id"]
    pdf = make_pdf()
    specs, values = fields()

    def one() -> tuple[float, str]:
        form = {
            "client_id": client_id,
            "test_mode": "1",
            "signers[0][name]": "Bench Signer",
            "signers[0][email_address]": "signer@example.com",
            "form_fields_per_document": json.dumps(specs),
            "files[0]": ("doc.pdf", pdf, "application/pdf"),
        }
        created = json.loads(
            urllib3.request("POST", f"{api}/signature_request/create_embedded", headers=auth, fields=form).data
        )["signature_request"]
        rid, sid = created["signature_request_id"], created["signatures"][0]["signature_id"]
        while True:
            sign = urllib3.request("GET", f"{api}/embedded/sign_url/{sid}", headers=auth)
            if sign.status == 200:
                break
            time.sleep(0.02)
        token = json.loads(sign.data)["embedded"]["sign_url"].rsplit("token=", 1)[1]
        body = {
            "values": values,
            "signature": {"method": "type", "text": "Bench Signer"},
            "initials": {"method": "type", "text": "BS"},
        }
        start = time.perf_counter()
        answer = urllib3.request(
            "POST", f"http://127.0.0.1:{port}/sign/{sid}/submit", json=body, headers={"X-Paraph-Token": token}
        )
        assert answer.status == 200, answer.data
        while True:
            with rt.unit_of_work(write=False) as session:
                sr = repository.by_public_id(session, rid)
                if sr is not None and sr.final_pdf_key:
                    return (time.perf_counter() - start) * 1000, rid
            time.sleep(0.002)

    one()  # warm-up: the PDF pool's processes start, the seal key is made
    e2e = []
    rid = ""
    for _ in range(args.runs):
        ms, rid = one()
        e2e.append(ms)

    with rt.unit_of_work(write=False) as session:
        sr = repository.by_public_id(session, rid)
        assert sr is not None
        task = final.plan(session, settings, sr, seal_pem(rt))
    storage = rt.storage
    from paraph.pdf.stamp import FilledField

    filled = [FilledField(f.field, f.value, storage.get(f.image_key) if f.image_key else None) for f in task.fields]
    documents = storage.get(task.document_keys[0])
    sealer = _sealer(settings, task.seal_pem)
    floor = []
    for _ in range(args.runs):
        start = time.perf_counter()
        build_final(documents, filled, task.trail, sealer)
        floor.append((time.perf_counter() - start) * 1000)
    server.should_exit = True
    time.sleep(0.5)
    shutil.rmtree(base, ignore_errors=True)
    e, f_ = statistics.median(e2e), statistics.median(floor)
    print(f"{PAGES} pages, {len(specs)} fields, {args.runs} runs (median)")
    print(f"  submit -> final stored, through the server: {e:8.1f} ms")
    print(f"  build_final alone (stamp, trail, seal):     {f_:8.1f} ms")
    print(f"  ratio: {e / f_:.2f}x")


if __name__ == "__main__":
    main()
