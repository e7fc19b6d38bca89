"""make bench-bulk: a 250-row bulk send beside 250 single sends from the same template, and the API meanwhile.

A real ``paraph serve`` runs in a subprocess (embedded SQLite, a temporary data dir, its in-process worker and
PDF pool; the server and receiver of ``bench_documents``). A 5-page PDF with 10 fields (a signature and a
text field per page, for two roles) becomes a template once. Then, in the same run:

(a) 250 ``POST /v3/signature_request/send_with_template`` made one after another, timed from just before the
    first until the loopback receiver gets the 250th ``signature_request_sent``;
(b) the idle latency of ``GET /v3/signature_request/{id}`` (one of (a)'s requests), sequential calls;
(c) one ``POST /v3/signature_request/bulk_send_with_template`` of 250 rows (``signer_list``), timed from just
    before the POST until the receiver gets the 250th ``signature_request_sent`` of the job, alone, as (a) is;
(d) a second bulk send of 250 rows while another thread issues the same ``GET`` one after another: its
    latency during a job. (Measured apart from (c): the back-to-back GETs keep one of the two cores of a
    small machine busy, which (a) does not have to share.)

Targets (issue #15): (c) takes at most 0.5x (a); the p99 of the GET during the job stays under 10x its idle
p99. Loopback (127.0.0.1) only.

Run: .venv/bin/python bench/bench_bulk.py [--rows N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_documents import Receiver, Server, multipart  # noqa: E402

TARGET_RATIO = 0.5
TARGET_LATENCY = 10.0
PAGES = 5
ROLES = [{"name": "Client", "order": None}, {"name": "Manager", "order": None}]


def make_pdf() -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=letter)
    for page in range(PAGES):
        sheet.setFont("Helvetica", 12)
        sheet.drawString(72, 720, f"Agreement, page {page + 1} of {PAGES}")
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def fields() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for page in range(1, PAGES + 1):
        common = {"document_index": 0, "page": page, "required": True, "height": 30}
        out.append(
            {**common, "api_id": f"sig_{page}", "type": "signature", "x": 72, "y": 600, "width": 180, "signer": 0}
        )
        out.append({**common, "api_id": f"text_{page}", "type": "text", "x": 300, "y": 600, "width": 180, "signer": 1})
    return out


def create_template(server: Server) -> str:
    body, content_type = multipart(
        {
            "signer_roles": json.dumps(ROLES),
            "test_mode": "1",
            "title": "Bench bulk template",
            "form_fields_per_document": json.dumps(fields()),
        },
        {"files[0]": ("agreement.pdf", make_pdf())},
    )
    template_id = str(server.call("POST", "/v3/template/create", body, content_type)["template"]["template_id"])
    deadline = time.monotonic() + 120
    while True:
        template = server.call("GET", f"/v3/template/{template_id}")["template"]
        if template["documents"]:
            assert len(template["documents"][0]["form_fields"]) == 2 * PAGES
            return template_id
        if time.monotonic() > deadline:
            raise TimeoutError("the template was not processed")
        time.sleep(0.1)


def signers(i: int, tag: str) -> list[dict[str, str]]:
    return [
        {"role": "Client", "name": f"Client {i}", "email_address": f"{tag}{i}@example.com"},
        {"role": "Manager", "name": "Manager", "email_address": "manager@example.com"},
    ]


def sent_count(receiver: Receiver) -> int:
    with receiver.cond:
        return sum(1 for (_, kind) in receiver.at if kind == "signature_request_sent")


def wait_sent(receiver: Receiver, n: int, timeout: float = 600.0) -> float:
    """When the ``n``-th ``signature_request_sent`` of the run arrived (``perf_counter``)."""
    with receiver.cond:
        done = receiver.cond.wait_for(
            lambda: sum(1 for (_, kind) in receiver.at if kind == "signature_request_sent") >= n, timeout
        )
        if not done:
            raise TimeoutError(f"fewer than {n} signature_request_sent")
        return sorted(at for (_, kind), at in receiver.at.items() if kind == "signature_request_sent")[n - 1]


def get_ms(server: Server, rid: str) -> float:
    started = time.perf_counter()
    server.call("GET", f"/v3/signature_request/{rid}")
    return (time.perf_counter() - started) * 1000


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=250)
    parser.add_argument("--data-dir", default=None, help="where the server's temporary data dir is made")
    args = parser.parse_args()
    rows = args.rows
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="paraph-bench-", dir=args.data_dir) as tmp:
        server = Server(Path(tmp))
        try:
            server.call("PUT", "/v3/account", json.dumps({"callback_url": receiver.url}).encode(), "application/json")
            template_id = create_template(server)

            def send_one(i: int, tag: str) -> str:
                body = json.dumps({"template_ids": [template_id], "signers": signers(i, tag), "test_mode": True})
                reply = server.call(
                    "POST", "/v3/signature_request/send_with_template", body.encode(), "application/json"
                )
                return str(reply["signature_request"]["signature_request_id"])

            probe = send_one(0, "warm")  # warm up; its request is the one the GETs read
            wait_sent(receiver, 1)
            time.sleep(1)

            # (a) 250 single sends, one after another.
            started = time.perf_counter()
            for i in range(rows):
                send_one(i, "single")
            sequential_s = wait_sent(receiver, 1 + rows) - started
            time.sleep(2)  # mail and delivery bookkeeping of (a) settle

            # (b) the GET, idle.
            idle = [get_ms(server, probe) for _ in range(200)]

            def bulk(tag: str) -> tuple[float, float]:
                """A bulk send of ``rows`` rows: seconds to its last signature_request_sent, and to its answer."""
                body = json.dumps(
                    {
                        "template_ids": [template_id],
                        "signer_list": [{"signers": signers(i, tag)} for i in range(rows)],
                        "test_mode": True,
                    }
                )
                before = sent_count(receiver)
                started = time.perf_counter()
                answer = server.call(
                    "POST", "/v3/signature_request/bulk_send_with_template", body.encode(), "application/json"
                )
                answered = time.perf_counter() - started
                assert answer["bulk_send_job"]["total"] == rows
                return wait_sent(receiver, before + rows) - started, answered

            # (c) the bulk send, alone.
            bulk_s, answered_s = bulk("bulk")
            time.sleep(2)

            # (d) a second bulk send, with the GET issued meanwhile.
            during: list[float] = []
            stop = threading.Event()

            def reader() -> None:
                while not stop.is_set():
                    during.append(get_ms(server, probe))

            thread = threading.Thread(target=reader, daemon=True)
            thread.start()
            busy_s, _ = bulk("busy")
            stop.set()
            thread.join(30)
        finally:
            server.stop()

    ratio = bulk_s / sequential_s
    idle_p99, during_p99 = p99(idle), p99(during)
    print(f"template: {PAGES} pages, {2 * PAGES} fields, 2 signer roles; {rows} requests each way, one run")
    print(f"{'(a) ' + str(rows) + ' send_with_template, one after another':<62}{sequential_s:8.2f} s")
    print(f"{'(c) bulk_send_with_template of ' + str(rows) + ' rows':<62}{bulk_s:8.2f} s")
    print(f"{'    of which: POST -> HTTP response':<62}{answered_s:8.2f} s")
    print(
        f"{'(d) the same, while GETs are issued back to back':<62}{busy_s:8.2f} s  ({busy_s / sequential_s:.2f}x (a))"
    )
    print(f"{'GET /v3/signature_request/{id}: p99 idle (200 calls)':<62}{idle_p99:8.1f} ms")
    label = f"GET /v3/signature_request/{{id}}: p99 during the job ({len(during)} calls)"
    print(f"{label:<62}{during_p99:8.1f} ms")
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"target: bulk at most {TARGET_RATIO}x the single sends: {verdict} ({ratio:.2f}x)")
    slow = during_p99 / idle_p99
    verdict = "met" if slow < TARGET_LATENCY else "NOT met"
    print(f"target: GET p99 during the job under {TARGET_LATENCY:.0f}x idle: {verdict} ({slow:.1f}x)")


if __name__ == "__main__":
    main()
