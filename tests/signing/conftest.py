"""Signing fixtures: a loopback SMTP server, and for browser tests Debian's Chromium, an integrator's page
on a second origin (``http://localhost:<port>``, Paraph being on ``http://127.0.0.1:<port>``) that loads the
unmodified hellosign-embedded UMD build from node_modules."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.pgcluster import free_port

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


@pytest.fixture(scope="session")
def host() -> Iterator[Host]:
    script = EMBEDDED_JS.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/embedded.js"):
                body, kind = script, "text/javascript"
            elif self.path == "/" or self.path.startswith("/?"):
                body, kind = HOST_PAGE.encode(), "text/html; charset=utf-8"
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


# -- SMTP --------------------------------------------------------------------------------------------------


@dataclass
class Inbox:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, n: int, timeout: float = 30.0) -> list[EmailMessage]:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(f"expected {n} mails, got {len(self.messages)}")
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        with self.cond:
            return [m for m, (_, rcpt) in zip(self.messages, self.envelopes, strict=True) if address in rcpt]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on loopback; ``inbox.messages`` are the mails it accepted."""
    from aiosmtpd.controller import Controller

    box = Inbox()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            msg = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(msg, EmailMessage)
            with box.cond:
                box.messages.append(msg)
                box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                box.cond.notify_all()
            return "250 OK"

    box.port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


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
