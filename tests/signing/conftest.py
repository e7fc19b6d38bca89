"""Signing fixtures: for browser tests Debian's Chromium, an integrator's page
on a second origin (``http://localhost:<port>``, Paraph being on ``http://127.0.0.1:<port>``) that loads the
unmodified hellosign-embedded UMD build from node_modules."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_JS = ROOT / "node_modules" / "hellosign-embedded" / "umd" / "embedded.development.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Integrator</title><script src="/embedded.js"></script></head>
<body><h1>Integrator page</h1>
<script>
window.events = [];
window.openSign = function (url, clientId, options) {
  var client = new HelloSign({ clientId: clientId });
  ["open", "ready", "sign", "finish", "decline", "reassign", "cancel", "close", "error"].forEach(function (name) {
    client.on(name, function (payload) { window.events.push({ name: name, payload: payload || null }); });
  });
  client.open(url, options || { testMode: true });
  window.client = client;
};
</script></body></html>
"""


# -- the integrator's page ---------------------------------------------------------------------------------


@dataclass
class Host:
    url: str  # http://localhost:<port>/


@contextmanager
def integrator_page(html: str) -> Iterator[Host]:
    """An integrator's page on a second loopback origin: ``html`` at ``/``, the unmodified hellosign-embedded
    at ``/embedded.js``."""
    script = EMBEDDED_JS.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/embedded.js"):
                body, kind = script, "text/javascript"
            elif self.path == "/" or self.path.startswith("/?"):
                body, kind = html.encode(), "text/html; charset=utf-8"
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Host(f"http://localhost:{httpd.server_address[1]}/")
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def host() -> Iterator[Host]:
    with integrator_page(HOST_PAGE) as found:
        yield found


# -- the browser -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium(shared_chromium: Any) -> Any:
    return shared_chromium


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.dismiss())
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
