"""A small Dropbox Sign integration, as an integrator writes it, to show Paraph's pytest plugin at work
(``tests/testing/test_example_app.py`` tests it end to end; README, "Test your integration").

A WSGI app (standard library only, besides the official ``dropbox-sign`` SDK): ``POST /contracts`` sends a
contract for signature; ``POST /dropbox-sign/callback`` receives Dropbox Sign's callbacks, checks each with
``EventCallbackHelper.is_valid`` and records its event type by signature request. Nothing here knows about
Paraph: pointed at Dropbox Sign (``host`` left at its default), it runs unchanged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from email import message_from_bytes, policy
from typing import Any
from urllib.parse import parse_qs

import dropbox_sign

ACK = b"Hello API Event Received"
MAX_BODY = 1024 * 1024

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class ContractsApp:
    def __init__(self, configuration: Any, api_key: str, client_id: str, contract_pdf: bytes) -> None:
        self.configuration = configuration
        self.api_key = api_key
        self.client_id = client_id
        self.contract_pdf = contract_pdf
        self.events: dict[str, list[str]] = {}  # signature_request_id -> event types received, verified
        self._lock = threading.Lock()

    # -- the integration ------------------------------------------------------------------------------------

    def send_contract(self, name: str, email: str) -> dict[str, str]:
        import io

        contract = io.BytesIO(self.contract_pdf)
        contract.name = "contract.pdf"
        request = dropbox_sign.SignatureRequestSendRequest(
            title="Contract",
            signers=[dropbox_sign.SubSignatureRequestSigner(name=name, email_address=email, order=0)],
            files=[contract],
            form_fields_per_document=[
                dropbox_sign.SubFormFieldsPerDocumentSignature(
                    api_id="signature",
                    type="signature",
                    signer=0,
                    page=1,
                    x=72,
                    y=600,
                    width=200,
                    height=40,
                    required=True,
                    document_index=0,
                ),
            ],
            client_id=self.client_id,
            test_mode=True,
        )
        with dropbox_sign.ApiClient(self.configuration) as client:
            sent = dropbox_sign.SignatureRequestApi(client).signature_request_send(request).signature_request
        return {
            "signature_request_id": sent.signature_request_id,
            "signature_id": sent.signatures[0].signature_id,
        }

    def received(self, callback_json: str) -> bool:
        """Record a callback if it is genuine (``event_hash`` checked with the API key)."""
        callback = dropbox_sign.EventCallbackRequest.init(json.loads(callback_json))
        if not dropbox_sign.EventCallbackHelper.is_valid(self.api_key, callback):
            return False
        rid = callback.signature_request.signature_request_id if callback.signature_request else ""
        with self._lock:
            self.events.setdefault(rid, []).append(callback.event.event_type)
        return True

    # -- HTTP -----------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            return _answer(start_response, "413 Payload Too Large", b"too large")
        body = environ["wsgi.input"].read(length) if length else b""
        if method == "POST" and path == "/contracts":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            sent = self.send_contract(form["name"], form["email"])
            return _answer(start_response, "201 Created", json.dumps(sent).encode(), "application/json")
        if method == "POST" and path == "/dropbox-sign/callback":
            callback_json = _json_field(environ.get("CONTENT_TYPE", ""), body)
            if callback_json is None or not self.received(callback_json):
                return _answer(start_response, "400 Bad Request", b"not a genuine callback")
            return _answer(start_response, "200 OK", ACK)
        return _answer(start_response, "404 Not Found", b"not found")


def _json_field(content_type: str, body: bytes) -> str | None:
    """The ``json`` field of Dropbox Sign's multipart callback."""
    if not content_type.startswith("multipart/form-data"):
        return None
    message = message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=policy.HTTP)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "json":
            payload = part.get_payload(decode=True)
            return payload.decode() if isinstance(payload, bytes) else None
    return None


def _answer(start_response: StartResponse, status: str, body: bytes, ctype: str = "text/plain") -> list[bytes]:
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]
