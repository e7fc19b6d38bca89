"""make bench-documents: a 50-page PDF with 200 text tags, from upload to signature_request_sent, beside its floor.

A 50-page PDF with 200 text tags is generated, then timed (medians of several runs, all in the same run):

(a) the floor: pypdfium2 text extraction + rendering every page to a bitmap, nothing else, in this process;
(b) ``process_document`` alone, in this process (tags parsed, fields built, PNG page images), tags shown and
    hidden; and, for reference, the floor plus the naive PNG encoding (Pillow, ``compress_level=1``);
(c) end to end: a real ``paraph serve`` in a subprocess (embedded SQLite, a temporary data dir, the in-process
    worker and PDF process pool), its account's callback URL pointing at a receiver in this process that
    answers ``Hello API Event Received``. Timed from just before ``POST /v3/signature_request/send`` (the PDF
    as ``files[0]``, ``use_text_tags``) until the receiver gets that request's ``signature_request_sent``:
    HTTP, multipart decoding, storage, the job, the PDF pool, text tags, fields, page images, the database
    and the callback delivery. The first request after the server started is shown apart; the median is of
    the requests after it. Each end-to-end run is paired with a floor run, so both see the same machine.

Targets (issue #4): end to end under 1 s, and at most 1.5x the floor. Loopback (127.0.0.1) only.

Run: .venv/bin/python bench/bench_documents.py [--runs N] [--scale S] [--data-dir DIR] [--no-e2e]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from tests.receiver import parse_form  # noqa: E402

from paraph.pdf.model import ProcessedDocument  # noqa: E402
from paraph.pdf.processing import process_document  # noqa: E402

PAGES = 50
TAGS_PER_PAGE = 4
TAG_TEMPLATES = (
    "Signature: [sig|req|signer{s}            ]",
    "Date: [date|req|signer{s}]",
    "Name: [text|req|signer{s}|Full name|name_{p}|letters_only]",
    "Initials: [initial|noreq|signer{s}]",
)
TARGET_MS = 1000.0
TARGET_RATIO = 1.5
SIGNERS = [{"name": "A", "email_address": "a@example.com"}, {"name": "B", "email_address": "b@example.com"}]


def make_pdf() -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=letter)
    for page in range(PAGES):
        sheet.setFont("Helvetica-Bold", 14)
        sheet.drawString(72, 740, f"Section {page + 1}: Terms and conditions")
        sheet.setFont("Helvetica", 10)
        for line in range(34):
            sheet.drawString(
                72,
                718 - line * 14,
                f"{page}.{line} Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do.",
            )
        sheet.setFont("Helvetica", 11)
        for index, template in enumerate(TAG_TEMPLATES[:TAGS_PER_PAGE]):
            sheet.drawString(72, 200 - index * 36, template.format(s=index % 2 + 1, p=page))
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def floor(data: bytes, scale: float, encode: bool = False) -> None:
    pdf = pdfium.PdfDocument(data)
    for page in pdf:
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        bitmap = page.render(scale=scale)
        if encode:
            bitmap.to_pil().save(io.BytesIO(), format="PNG", compress_level=1)
        bitmap.close()
        page.close()
    pdf.close()


def timed_ms(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def median_ms(run: Callable[[], object], runs: int) -> float:
    run()  # warm up (imports, font caches)
    return statistics.median(timed_ms(run) for _ in range(runs))


# -- end to end ------------------------------------------------------------------------------------------


class Receiver:
    """A loopback callback receiver on its own thread: answers the acknowledgement and records, per
    signature request and event type, when the callback arrived (``time.perf_counter`` of this process)."""

    def __init__(self) -> None:
        self.at: dict[tuple[str, str], float] = {}
        self.cond = threading.Condition()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="bench-receiver", daemon=True).start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        form = await parse_form(request.headers, await request.read())
        payload = json.loads(form["json"])
        rid = (payload.get("signature_request") or {}).get("signature_request_id", "")
        with self.cond:
            self.at.setdefault((rid, payload["event"]["event_type"]), at)
            self.cond.notify_all()
        return web.Response(text="Hello API Event Received")

    def wait(self, rid: str, event_type: str, timeout: float = 60.0) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: (rid, event_type) in self.at, timeout):
                raise TimeoutError(f"no {event_type} for {rid}")
            return self.at[(rid, event_type)]


class Server:
    """``paraph serve`` in a subprocess (its own process group), on a loopback port, with a fresh data dir."""

    def __init__(self, data_dir: Path) -> None:
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
            "PARAPH_DATA_DIR": str(data_dir),
            "PARAPH_BASE_URL": self.base,
            "PARAPH_CALLBACK_ALLOW_PRIVATE": "1",
        }
        for name in ("PARAPH_DATABASE_URL", "PARAPH_SMTP_URL"):
            self.env.pop(name, None)
        self.log = data_dir / "serve.log"
        created = subprocess.run(
            [sys.executable, "-m", "paraph.cli", "account", "create", "bench@example.com", "--json"],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        self.api_key = json.loads(created.stdout)["api_key"]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "paraph.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started = time.perf_counter()
        deadline = time.monotonic() + 60
        while True:
            try:
                self.call("GET", "/v3/account")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"paraph serve did not start; see {self.log}") from None
                time.sleep(0.05)

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> dict:  # type: ignore[type-arg]
        import base64

        headers = {"Authorization": "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode()}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                return json.loads(resp.read())  # type: ignore[no-any-return]
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "paraph-bench-" + os.urandom(8).hex()
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
        )
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def end_to_end(server: Server, receiver: Receiver, data: bytes) -> tuple[float, float]:
    """One request: (ms to the response of the upload, ms to the receipt of signature_request_sent)."""
    body, content_type = multipart(
        {"signers": json.dumps(SIGNERS), "use_text_tags": "1", "test_mode": "1", "title": "Bench"},
        {"files[0]": ("contract.pdf", data)},
    )
    started = time.perf_counter()
    reply = server.call("POST", "/v3/signature_request/send", body, content_type)
    answered = time.perf_counter()
    rid = reply["signature_request"]["signature_request_id"]
    sent = receiver.wait(rid, "signature_request_sent")
    return (answered - started) * 1000, (sent - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.5, help="render scale of the in-process figures")
    parser.add_argument("--data-dir", default=None, help="where the server's temporary data dir is made")
    parser.add_argument("--no-e2e", action="store_true", help="only the in-process figures")
    args = parser.parse_args()

    data = make_pdf()

    def process(hide: bool) -> ProcessedDocument:
        return process_document(
            data,
            document_index=0,
            signer_count=2,
            use_text_tags=True,
            hide_text_tags=hide,
            ignore_text_tags_errors=False,
            max_pages=500,
            render_scale=args.scale,
        )

    check = process(False)
    assert len(check.fields) == PAGES * TAGS_PER_PAGE, len(check.fields)
    images = check.page_images
    image_kib = sum(len(png) for png in images) / len(images) / 1024

    floor_samples: list[float] = []
    answered: list[float] = []
    e2e: list[float] = []
    first: tuple[float, float] | None = None
    if not args.no_e2e:
        receiver = Receiver()
        with tempfile.TemporaryDirectory(prefix="paraph-bench-", dir=args.data_dir) as tmp:
            server = Server(Path(tmp))
            try:
                server.call(
                    "PUT", "/v3/account", json.dumps({"callback_url": receiver.url}).encode(), "application/json"
                )
                floor(data, args.scale)  # warm this process's pdfium (font caches) before the first pair
                first = end_to_end(server, receiver, data)
                for _ in range(args.runs):
                    time.sleep(0.5)  # the previous request's mail job and delivery bookkeeping settle
                    floor_samples.append(timed_ms(lambda: floor(data, args.scale)))
                    time.sleep(0.1)
                    response_ms, total_ms = end_to_end(server, receiver, data)
                    answered.append(response_ms)
                    e2e.append(total_ms)
            finally:
                server.stop()

    floor_ms = (
        statistics.median(floor_samples) if floor_samples else median_ms(lambda: floor(data, args.scale), args.runs)
    )
    naive_ms = median_ms(lambda: floor(data, args.scale, encode=True), args.runs)
    shown_ms = median_ms(lambda: process(False), args.runs)
    hidden_ms = median_ms(lambda: process(True), args.runs)

    print(
        f"document: {PAGES} pages, {PAGES * TAGS_PER_PAGE} text tags, {len(data) / 1024:.0f} KiB; "
        f"render_scale {args.scale}; median of {args.runs} runs"
    )
    rows = [
        ("(a) floor: pdfium text extraction + rendering", floor_ms),
        ("    reference: floor + Pillow PNG (compress_level=1)", naive_ms),
        ("(b) process_document, tags shown", shown_ms),
        ("    process_document, hide_text_tags", hidden_ms),
    ]
    if e2e:
        rows += [
            ("(c) end to end: upload -> signature_request_sent", statistics.median(e2e)),
            ("    of which: upload -> HTTP response", statistics.median(answered)),
        ]
    for label, ms in rows:
        print(f"{label:<56}{ms:8.1f} ms  ({ms / floor_ms:.2f}x floor)")
    print(f"    page images: {image_kib:.0f} KiB per page on average")
    if e2e and first is not None:
        e2e_ms = statistics.median(e2e)
        ratio = e2e_ms / floor_ms
        print(f"    end to end, each run (ms): {', '.join(f'{ms:.0f}' for ms in e2e)}")
        print(f"    first request after the server started: {first[1]:.0f} ms (response {first[0]:.0f} ms)")
        print(
            f"targets: end to end < {TARGET_MS:.0f} ms: {'met' if e2e_ms < TARGET_MS else 'NOT met'} "
            f"({e2e_ms:.0f} ms); at most {TARGET_RATIO}x the floor: "
            f"{'met' if ratio <= TARGET_RATIO else 'NOT met'} ({ratio:.2f}x)"
        )


if __name__ == "__main__":
    main()
