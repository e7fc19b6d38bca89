"""make bench-templates: sending from a 50-page, 200-field template beside a fresh send of the same PDF.

A real ``paraph serve`` runs in a subprocess (embedded SQLite, a temporary data dir, its in-process worker and
PDF pool; the server and receiver of ``bench_documents``). The 50-page PDF with 200 text tags of
``bench_documents`` becomes a template once (``use_preexisting_fields``: its tags read, its pages rendered).
Then, in the same run and alternating, each timed from just before the POST until the loopback receiver gets
the request's ``signature_request_sent``:

(a) ``POST /v3/signature_request/send_with_template`` (JSON: the template, two signers by role);
(b) ``POST /v3/signature_request/send`` of the same PDF (``files[0]``, ``use_text_tags``): a fresh upload,
    processed from scratch.

Target (issue #13): the template send takes at most 0.2x the fresh send (medians). Loopback (127.0.0.1) only.

Run: .venv/bin/python bench/bench_templates.py [--runs N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_documents import PAGES, TAGS_PER_PAGE, Receiver, Server, end_to_end, make_pdf, multipart  # noqa: E402

TARGET_RATIO = 0.2
ROLES = [{"name": "Client", "order": 0}, {"name": "Manager", "order": 1}]
SIGNERS = [
    {"role": "Client", "name": "A", "email_address": "a@example.com"},
    {"role": "Manager", "name": "B", "email_address": "b@example.com"},
]


def create_template(server: Server, data: bytes) -> str:
    body, content_type = multipart(
        {
            "signer_roles": json.dumps(ROLES),
            "use_preexisting_fields": "1",
            "test_mode": "1",
            "title": "Bench template",
            "form_fields_per_document": "[]",
        },
        {"files[0]": ("contract.pdf", data)},
    )
    template_id = str(server.call("POST", "/v3/template/create", body, content_type)["template"]["template_id"])
    deadline = time.monotonic() + 120
    while True:
        template = server.call("GET", f"/v3/template/{template_id}")["template"]
        if template["documents"]:
            fields = len(template["documents"][0]["form_fields"])
            assert fields == PAGES * TAGS_PER_PAGE, fields
            return template_id
        if time.monotonic() > deadline:
            raise TimeoutError("the template was not processed")
        time.sleep(0.1)


def from_template(server: Server, receiver: Receiver, template_id: str) -> tuple[float, float]:
    """One send from the template: (ms to the HTTP response, ms to the receipt of signature_request_sent)."""
    body = json.dumps({"template_ids": [template_id], "signers": SIGNERS, "test_mode": True, "title": "Bench"})
    started = time.perf_counter()
    reply = server.call("POST", "/v3/signature_request/send_with_template", body.encode(), "application/json")
    answered = time.perf_counter()
    rid = reply["signature_request"]["signature_request_id"]
    sent = receiver.wait(rid, "signature_request_sent")
    return (answered - started) * 1000, (sent - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir", default=None, help="where the server's temporary data dir is made")
    args = parser.parse_args()

    data = make_pdf()
    templated: list[float] = []
    answered: list[float] = []
    fresh: list[float] = []
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="paraph-bench-", dir=args.data_dir) as tmp:
        server = Server(Path(tmp))
        try:
            server.call("PUT", "/v3/account", json.dumps({"callback_url": receiver.url}).encode(), "application/json")
            template_id = create_template(server, data)
            from_template(server, receiver, template_id)  # warm up both paths once
            end_to_end(server, receiver, data)
            for _ in range(args.runs):
                time.sleep(0.5)  # the previous request's mail job and delivery bookkeeping settle
                response_ms, total_ms = from_template(server, receiver, template_id)
                answered.append(response_ms)
                templated.append(total_ms)
                time.sleep(0.5)
                fresh.append(end_to_end(server, receiver, data)[1])
        finally:
            server.stop()

    t_ms, f_ms = statistics.median(templated), statistics.median(fresh)
    ratio = t_ms / f_ms
    print(f"document: {PAGES} pages, {PAGES * TAGS_PER_PAGE} fields; median of {args.runs} runs, alternating")
    print(f"{'(a) send_with_template -> signature_request_sent':<56}{t_ms:8.1f} ms")
    print(f"{'    of which: POST -> HTTP response':<56}{statistics.median(answered):8.1f} ms")
    print(f"{'(b) fresh send of the same PDF -> signature_request_sent':<56}{f_ms:8.1f} ms")
    print(f"    (a), each run (ms): {', '.join(f'{ms:.0f}' for ms in templated)}")
    print(f"    (b), each run (ms): {', '.join(f'{ms:.0f}' for ms in fresh)}")
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"target: template send at most {TARGET_RATIO}x the fresh send: {verdict} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
