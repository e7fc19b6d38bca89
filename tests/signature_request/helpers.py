"""Documents made on the spot, a loopback file server for file_urls, and small HTTP helpers."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dropbox_sign
import urllib3
from dropbox_sign import models
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from tests.client import request, request_json
from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver


def make_pdf(pages: Sequence[Sequence[str]] = (("Hello",),), pagesize: tuple[float, float] = letter) -> bytes:
    """A PDF whose page N shows the lines of ``pages[N]``, 24 points apart from the top."""
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=pagesize)
    for lines in pages:
        sheet.setFont("Helvetica", 12)
        for i, text in enumerate(lines):
            sheet.drawString(72, pagesize[1] - 72 - 24 * i, text)
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def call(server: Server, method: str, path: str, key: str, **kw: Any) -> urllib3.BaseHTTPResponse:
    return request(server.api, method, path, key, **kw)


def call_json(server: Server, method: str, path: str, key: str, **kw: Any) -> tuple[int, Any]:
    return request_json(server.api, method, path, key, **kw)


def listen(sdk: Any, receiver: Receiver) -> None:
    """Send the account's callbacks to ``receiver``."""
    dropbox_sign.AccountApi(sdk).account_update(models.AccountUpdateRequest(callback_url=receiver.url + "/hook"))


def wait_event(receiver: Receiver, event_type: str, rid: str, timeout: float = 30.0) -> dict[str, Any]:
    """The first callback of ``event_type`` about request ``rid``."""
    deadline = time.monotonic() + timeout
    seen = 0
    while True:
        got = receiver.wait_for(seen + 1, timeout=max(0.1, deadline - time.monotonic()))
        for r in got:
            payload = r.payload
            sr = payload.get("signature_request") or {}
            if payload["event"]["event_type"] == event_type and sr.get("signature_request_id") == rid:
                return payload
        seen = len(got)


def signer(name: str = "Jack", email: str = "jack@example.com", order: int | None = None) -> Any:
    return models.SubSignatureRequestSigner(name=name, email_address=email, order=order)


def send(sdk: Any, **kw: Any) -> Any:
    kw.setdefault("title", "Contract")
    kw.setdefault("signers", [signer()])
    kw.setdefault("test_mode", True)
    return dropbox_sign.SignatureRequestApi(sdk).signature_request_send(models.SignatureRequestSendRequest(**kw))


def send_and_wait(sdk: Any, receiver: Receiver, event: str = "signature_request_sent", **kw: Any) -> Any:
    created = send(sdk, **kw).signature_request
    wait_event(receiver, event, created.signature_request_id)
    return dropbox_sign.SignatureRequestApi(sdk).signature_request_get(created.signature_request_id).signature_request


def create_embedded(sdk: Any, client_id: str, **kw: Any) -> Any:
    kw.setdefault("title", "Embedded")
    kw.setdefault("signers", [signer()])
    kw.setdefault("test_mode", True)
    request = models.SignatureRequestCreateEmbeddedRequest(client_id=client_id, **kw)
    return dropbox_sign.SignatureRequestApi(sdk).signature_request_create_embedded(request)


def new_app(sdk: Any) -> str:
    created = dropbox_sign.ApiAppApi(sdk).api_app_create(
        models.ApiAppCreateRequest(name="App", domains=["example.com"])
    )
    return str(created.api_app.client_id)


@dataclass
class FileServer:
    """Serves registered bodies on loopback; ``redirects`` maps a path to a Location."""

    url: str = ""
    bodies: dict[str, bytes] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def add(self, path: str, body: bytes) -> str:
        self.bodies[path] = body
        return self.url + path


@contextmanager
def file_server(host: str = "127.0.0.1") -> Iterator[FileServer]:
    state = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            time.sleep(state.delays.get(self.path, 0.0))
            if self.path in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.redirects[self.path])
                self.end_headers()
                return
            body = state.bodies.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer((host, 0), Handler)
    state.url = f"http://files.test:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def account_key(account: AccountInfo) -> str:
    return account.api_key
