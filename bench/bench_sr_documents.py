"""A signature request's documents through the real server, beside the floor of the PDF work alone.

The document of bench_documents.py (50 pages, 200 text tags) is uploaded to a running Paraph (uvicorn on
loopback, SQLite, the in-process worker and PDF process pool, a loopback callback receiver) with
``POST /v3/signature_request/send`` and ``use_text_tags``; timed from the start of the upload to the
receipt of its ``signature_request_sent`` callback: HTTP, decoding, storage, the job, text tags, fields,
page images, the database and the callback delivery. The floor is pypdfium2 text extraction + rendering of
every page, alone, in this process. Medians of several runs, after a warm-up request.

Run: .venv/bin/python bench/bench_sr_documents.py [--runs N] [--data-dir DIR]
(``--data-dir /dev/shm`` keeps the database and the files in memory: the software's own overhead, without
the disk's; on a small VM the disk adds 10-20 ms of noise to each run.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import urllib3
import uvicorn
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_documents import PAGES, TAGS_PER_PAGE, floor, make_pdf, median_ms  # noqa: E402
from tests.pgcluster import free_port  # noqa: E402
from tests.receiver import parse_form  # noqa: E402

from paraph.account.service import create_account  # noqa: E402
from paraph.app import create_app  # noqa: E402
from paraph.config import Settings  # noqa: E402
from paraph.migrate import upgrade  # noqa: E402
from paraph.runtime import Runtime  # noqa: E402

SIGNERS = [{"name": "A", "email_address": "a@example.com"}, {"name": "B", "email_address": "b@example.com"}]


class Receiver:
    """Records when each request's ``signature_request_sent`` arrives."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.cond = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.url = ""
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    async def _handle(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        payload = json.loads((await parse_form(request.headers, await request.read()))["json"])
        if payload["event"]["event_type"] == "signature_request_sent":
            with self.cond:
                self.sent[payload["signature_request"]["signature_request_id"]] = at
                self.cond.notify_all()
        return web.Response(text="Hello API Event Received")

    def wait(self, rid: str, timeout: float = 60.0) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: rid in self.sent, timeout):
                raise TimeoutError(f"no signature_request_sent for {rid}")
            return self.sent[rid]


def serve(rt: Runtime, port: int) -> uvicorn.Server:
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime=rt), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir", default=None, help="where the data dir is made (default: the system temp dir)")
    args = parser.parse_args()
    data = make_pdf()

    with tempfile.TemporaryDirectory(dir=args.data_dir) as tmp:
        port = free_port()
        settings = Settings(
            data_dir=Path(tmp),
            base_url=f"http://127.0.0.1:{port}",
            secret_key=uuid.uuid4().hex,
            callback_allow_private=True,
        )
        upgrade(settings.effective_database_url)
        rt = Runtime(settings)
        with rt.unit_of_work() as session:
            key = create_account(session, "bench@example.com").api_key
        receiver = Receiver()
        server = serve(rt, port)
        http = urllib3.PoolManager(headers=urllib3.make_headers(basic_auth=f"{key}:"))
        http.request("PUT", f"{settings.base_url}/v3/account", json={"callback_url": receiver.url + "/hook"})

        def one() -> float:
            started = time.perf_counter()
            resp = http.request(
                "POST",
                f"{settings.base_url}/v3/signature_request/send",
                fields={
                    "signers": json.dumps(SIGNERS),
                    "use_text_tags": "true",
                    "test_mode": "true",
                    "files[0]": ("files[0]", data, "application/octet-stream"),
                },
            )
            assert resp.status == 200, resp.data[:500]
            rid = json.loads(resp.data)["signature_request"]["signature_request_id"]
            return (receiver.wait(rid) - started) * 1000

        one()  # warm-up: the PDF process pool starts, imports, font caches
        server_ms = statistics.median(one() for _ in range(args.runs))
        floor_ms = median_ms(lambda: floor(data, 1.5), args.runs)
        server.should_exit = True
        time.sleep(0.5)

    print(
        f"document: {PAGES} pages, {PAGES * TAGS_PER_PAGE} text tags, {len(data) / 1024:.0f} KiB; "
        f"median of {args.runs} runs after a warm-up"
    )
    ratio = server_ms / floor_ms
    print(f"{'floor: pdfium text extraction + rendering':<58}{floor_ms:8.1f} ms")
    print(f"{'upload -> signature_request_sent (server, SQLite)':<58}{server_ms:8.1f} ms  ({ratio:.2f}x floor)")


if __name__ == "__main__":
    main()
