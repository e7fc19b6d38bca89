"""Editor fixtures: drafts made and called back over loopback (as the signature request tests do), and for the
browser an integrator's page on a second origin (``http://localhost:<port>``) loading the unmodified
hellosign-embedded UMD build from node_modules, which records every event the library emits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.signature_request.conftest import loopback_only
from tests.signing.conftest import EMBEDDED_JS, Host, browser_page, chromium

__all__ = ["browser_page", "chromium", "editor_host", "loopback_only"]

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Integrator</title><script src="/embedded.js"></script></head>
<body><h1>Integrator page</h1>
<script>
window.events = [];
window.openEditor = function (url, clientId, options) {
  var client = new HelloSign({ clientId: clientId });
  ["open", "ready", "send", "createTemplate", "finish", "cancel", "close", "error"].forEach(function (name) {
    client.on(name, function (payload) { window.events.push({ name: name, payload: payload || null }); });
  });
  client.open(url, options || { testMode: true });
  window.client = client;
};
</script></body></html>
"""


@pytest.fixture(scope="session")
def editor_host() -> Iterator[Host]:
    script = EMBEDDED_JS.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/embedded.js"):
                body, kind = script, "text/javascript"
            else:
                body, kind = HOST_PAGE.encode(), "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield Host(f"http://localhost:{httpd.server_address[1]}/")
    finally:
        httpd.shutdown()
        httpd.server_close()
