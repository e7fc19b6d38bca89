"""Requests made through the HTTP API, the signing page's JSON actions, and what tests read back."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import urllib3
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from paraph.models import SignatureRequest
from paraph.models.signature_request import FilesState
from paraph.signature_request import repository
from tests.client import request, wait_until
from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver


def make_pdf(pages: int = 2) -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=letter)
    for n in range(1, pages + 1):
        sheet.setFont("Helvetica", 14)
        sheet.drawString(72, 740, f"Agreement, page {n}")
        sheet.setFont("Helvetica", 10)
        for i in range(8):
            sheet.drawString(72, 700 - 16 * i, f"Clause {n}.{i + 1}: the parties agree to the terms written here.")
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def api(server: Server, account: AccountInfo, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    resp = request(server.api, method, path, account.api_key, **kw)
    body: Any = resp.data
    if resp.headers.get("content-type", "").startswith("application/json"):
        body = json.loads(resp.data) if resp.data else None
    return resp.status, body


def set_callback(server: Server, account: AccountInfo, receiver: Receiver) -> None:
    status, body = api(server, account, "PUT", "/account", json={"callback_url": receiver.url + "/hook"})
    assert status == 200, body


def new_app(server: Server, account: AccountInfo, domains: list[str], **extra: Any) -> str:
    status, body = api(server, account, "POST", "/api_app", json={"name": "Signing app", "domains": domains, **extra})
    assert status in (200, 201), body
    return str(body["api_app"]["client_id"])


def f(
    api_id: str, kind: str, signer: int, x: float, y: float, w: float = 160, h: float = 24, **kw: Any
) -> dict[str, Any]:
    """A form_fields_per_document entry on page 1 of document 0 (72-DPI coordinates), required by default."""
    return {
        "api_id": api_id,
        "type": kind,
        "signer": signer,
        "document_index": 0,
        "page": kw.pop("page", 1),
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        "required": kw.pop("required", True),
        **kw,
    }


def create(
    server: Server,
    account: AccountInfo,
    *,
    fields: list[dict[str, Any]],
    signers: list[tuple[str, str]],
    client_id: str | None = None,
    ordered: bool = False,
    pdf: bytes | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Create (embedded with ``client_id``, else send) and wait until its documents are processed."""
    form: dict[str, Any] = {
        "title": extra.pop("title", "Service agreement"),
        "test_mode": "1",
        "form_fields_per_document": json.dumps(fields),
        "files[0]": ("agreement.pdf", pdf or make_pdf(), "application/pdf"),
    }
    for i, (name, email) in enumerate(signers):
        form[f"signers[{i}][name]"] = name
        form[f"signers[{i}][email_address]"] = email
        if ordered:
            form[f"signers[{i}][order]"] = str(i)
    for key, value in extra.items():
        form[key] = value if isinstance(value, str) else json.dumps(value)
    path = "/signature_request/send"
    if client_id is not None:
        form["client_id"] = client_id
        path = "/signature_request/create_embedded"
    status, body = api(server, account, "POST", path, fields=form)
    assert status == 200, body
    sr = body["signature_request"]
    wait_processed(server, sr["signature_request_id"])
    return sr  # type: ignore[no-any-return]


def wait_processed(server: Server, rid: str) -> None:
    def ready() -> bool:
        with server.runtime.unit_of_work(write=False) as session:
            sr = repository.by_public_id(session, rid)
            assert sr is not None
            assert sr.files_state != FilesState.ERROR, sr.error_message
            return sr.files_state == FilesState.READY

    wait_until(ready)


def request_state(server: Server, rid: str, read: Callable[[SignatureRequest], Any]) -> Any:
    with server.runtime.unit_of_work(write=False) as session:
        sr = repository.by_public_id(session, rid)
        assert sr is not None
        return read(sr)


def sign_url(server: Server, account: AccountInfo, signature_id: str) -> str:
    status, body = api(server, account, "GET", f"/embedded/sign_url/{signature_id}")
    assert status == 200, body
    return str(body["embedded"]["sign_url"])


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def page(server: Server, url: str, **query: str) -> urllib3.BaseHTTPResponse:
    """GET a signing page as a browser would (with the library's query parameters, for sign URLs)."""
    sep = "&" if "?" in url else "?"
    extra = urlencode(query)
    return urllib3.request("GET", url + (sep + extra if extra else ""), retries=False, timeout=30)


def action(
    server: Server, signature_id: str, what: str, body: dict[str, Any], *, pin: str | None = None
) -> tuple[int, Any]:
    """POST an action as the page does: the body's ``token`` goes in the ``X-Paraph-Token`` header, a PIN
    pass in ``X-Paraph-Pin``."""
    body = dict(body)
    headers = {"X-Paraph-Token": str(body.pop("token", ""))}
    if pin is not None:
        headers["X-Paraph-Pin"] = pin
    resp = urllib3.request(
        "POST", f"{server.url}/sign/{signature_id}/{what}", json=body, headers=headers, retries=False, timeout=60
    )
    return resp.status, json.loads(resp.data)


@dataclass
class Event:
    event_type: str
    payload: dict[str, Any]

    @property
    def request(self) -> dict[str, Any]:
        return self.payload.get("signature_request") or {}

    @property
    def metadata(self) -> dict[str, Any]:
        return self.payload["event"]["event_metadata"]  # type: ignore[no-any-return]


def events(receiver: Receiver, rid: str) -> list[Event]:
    out = []
    for r in list(receiver.received):
        payload = r.payload
        if (payload.get("signature_request") or {}).get("signature_request_id") == rid:
            out.append(Event(payload["event"]["event_type"], payload))
    return out


def wait_event(receiver: Receiver, rid: str, event_type: str, timeout: float = 60.0) -> Event:
    def find() -> Event | None:
        return next((e for e in events(receiver, rid) if e.event_type == event_type), None)

    found: Event = wait_until(find, timeout)
    return found
