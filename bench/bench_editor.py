"""make bench-editor: time to interactive of the editor for a 50-page document, beside the signing page.

A real ``paraph serve`` runs in a subprocess (embedded SQLite, a temporary data dir; the server and receiver
of ``bench_documents``). The 50-page PDF with 200 text tags of ``bench_documents`` is sent twice, both in
test mode with an API app: (a) as an unclaimed draft (``unclaimed_draft/create_embedded``, ``use_text_tags``),
whose ``claim_url`` opens the editor with the 200 fields placed; (b) as an embedded request
(``signature_request/create_embedded``), whose signer's sign URL opens the signing page. Debian's Chromium
(Playwright, ``PARAPH_CHROMIUM``) then loads each page alternately (neither URL is used up by viewing), timed
from navigation start until the page is interactive: every field drawn (``editor-field`` x 200; the signing
page draws its fields in one pass: the first ``field-*``), read as ``performance.now()`` in the page.

Target (issue #14): the editor at most 1.5x the signing page (medians). Loopback (127.0.0.1) only.

Run: .venv/bin/python bench/bench_editor.py [--runs N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_documents import PAGES, TAGS_PER_PAGE, Receiver, Server, make_pdf, multipart  # noqa: E402

TARGET_RATIO = 1.5
FIELDS = PAGES * TAGS_PER_PAGE
SIGNERS = [{"name": "A", "email_address": "a@example.com"}, {"name": "B", "email_address": "b@example.com"}]


def urls(server: Server, receiver: Receiver, data: bytes) -> tuple[str, str]:
    app = server.call(
        "POST", "/v3/api_app", json.dumps({"name": "Bench", "domains": ["localhost"]}).encode(), "application/json"
    )
    client_id = str(app["api_app"]["client_id"])
    common = {"client_id": client_id, "signers": json.dumps(SIGNERS), "use_text_tags": "1", "test_mode": "1"}
    body, kind = multipart(
        {**common, "requester_email_address": "bench@example.com"}, {"files[0]": ("contract.pdf", data)}
    )
    claim = str(server.call("POST", "/v3/unclaimed_draft/create_embedded", body, kind)["unclaimed_draft"]["claim_url"])
    body, kind = multipart({**common, "title": "Bench"}, {"files[0]": ("contract.pdf", data)})
    sr = server.call("POST", "/v3/signature_request/create_embedded", body, kind)["signature_request"]
    receiver.wait(sr["signature_request_id"], "signature_request_sent")
    signature_id = sr["signatures"][0]["signature_id"]
    sign = str(server.call("GET", f"/v3/embedded/sign_url/{signature_id}")["embedded"]["sign_url"])
    extra = "&" + urlencode({"client_id": client_id, "skip_domain_verification": "1"})
    return claim + extra, sign + extra


def interactive_ms(page: Any, url: str, selector: str, count: int) -> float:
    page.goto("about:blank")
    page.goto(url, wait_until="commit")
    page.wait_for_function(f"document.querySelectorAll({selector!r}).length >= {count}", timeout=60_000)
    return float(page.evaluate("performance.now()"))


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir", default=None, help="where the server's temporary data dir is made")
    args = parser.parse_args()
    chromium = os.environ.get("PARAPH_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("No Chromium: install Debian's chromium package or set PARAPH_CHROMIUM.")

    data = make_pdf()
    editor: list[float] = []
    signing: list[float] = []
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="paraph-bench-", dir=args.data_dir) as tmp:
        server = Server(Path(tmp))
        try:
            server.call("PUT", "/v3/account", json.dumps({"callback_url": receiver.url}).encode(), "application/json")
            claim, sign = urls(server, receiver, data)
            deadline = time.monotonic() + 120
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                while True:  # the draft's documents are processed in the background
                    page.goto(claim)
                    if page.locator('[data-testid="editor-submit"]').count():
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError("the draft was not processed")
                    time.sleep(0.2)
                interactive_ms(page, sign, '[data-testid^="field-"]', 1)  # warm up both pages once
                for _ in range(args.runs):
                    editor.append(interactive_ms(page, claim, '[data-testid="editor-field"]', FIELDS))
                    signing.append(interactive_ms(page, sign, '[data-testid^="field-"]', 1))
                browser.close()
        finally:
            server.stop()

    e_ms, s_ms = statistics.median(editor), statistics.median(signing)
    ratio = e_ms / s_ms
    print(f"document: {PAGES} pages, {FIELDS} fields; median of {args.runs} loads each, alternating")
    print(f"{'(a) editor (claim_url), every field drawn':<48}{e_ms:8.1f} ms")
    print(f"{'(b) signing page (sign_url), its fields drawn':<48}{s_ms:8.1f} ms")
    print(f"    (a), each run (ms): {', '.join(f'{ms:.0f}' for ms in editor)}")
    print(f"    (b), each run (ms): {', '.join(f'{ms:.0f}' for ms in signing)}")
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"target: editor at most {TARGET_RATIO}x the signing page: {verdict} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
