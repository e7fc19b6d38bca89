"""Unclaimed drafts and template drafts through the official SDK; the editor's HTTP side as its page uses it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import dropbox_sign
import sqlalchemy as sa
from dropbox_sign import models

from paraph.models import RequestField, SignatureRequest
from tests.client import request, request_json, wait_until
from tests.conftest import Server
from tests.signature_request.helpers import make_pdf

TWO_PAGES = make_pdf([["Agreement", "Name: ________"], ["Sign below"]])


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def draft_signer(name: str = "Jack", email: str = "jack@example.com") -> Any:
    return models.SubUnclaimedDraftSigner(name=name, email_address=email, order=None)


def create_embedded_draft(sdk: Any, client_id: str, **kw: Any) -> Any:
    kw.setdefault("requester_email_address", "requester@example.com")
    kw.setdefault("test_mode", True)
    kw.setdefault("files", [TWO_PAGES])
    kw.setdefault("signers", [draft_signer()])
    req = models.UnclaimedDraftCreateEmbeddedRequest(client_id=client_id, **kw)
    return dropbox_sign.UnclaimedDraftApi(sdk).unclaimed_draft_create_embedded(req).unclaimed_draft


def request_fields(server: Server, rid: str) -> list[dict[str, Any]]:
    """The placed fields of the request ``rid`` as stored: api_id, type, signer, page and value."""
    with server.runtime.unit_of_work(write=False) as session:
        pk = session.scalar(sa.select(SignatureRequest.id).where(SignatureRequest.signature_request_id == rid))
        f = RequestField
        rows = session.execute(
            sa.select(f.api_id, f.type, f.signer, f.page, f.value).where(f.signature_request_id == pk).order_by(f.id)
        )
        return [dict(r._mapping) for r in rows]


def draft_from_templates(sdk: Any, client_id: str, template_ids: list[str], **kw: Any) -> Any:
    kw.setdefault("requester_email_address", "requester@example.com")
    kw.setdefault("test_mode", True)
    req = models.UnclaimedDraftCreateEmbeddedWithTemplateRequest(client_id=client_id, template_ids=template_ids, **kw)
    return dropbox_sign.UnclaimedDraftApi(sdk).unclaimed_draft_create_embedded_with_template(req).unclaimed_draft


def open_claim(server: Server, claim_url: str, client_id: str, **extra: str) -> Any:
    """GET the claim URL as hellosign-embedded opens it (test mode, verification skipped unless given)."""
    params = {"client_id": client_id, "parent_url": "http://localhost/app", "skip_domain_verification": "1", **extra}
    parts = urlsplit(claim_url)
    return request(server.url, "GET", f"{parts.path}?{parts.query}&{urlencode(params)}")


def wait_ready(server: Server, claim_url: str, client_id: str) -> None:
    wait_until(lambda: open_claim(server, claim_url, client_id).status == 200)


def submit(server: Server, path: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    return request_json(server.url, "POST", path, json=body, headers={"X-Paraph-Token": token})


def sig(signer: Any = 0, page: int = 1, x: float = 72, y: float = 600, **kw: Any) -> dict[str, Any]:
    return {
        "type": "signature",
        "signer": signer,
        "document_index": 0,
        "page": page,
        "x": x,
        "y": y,
        "width": 180,
        "height": 40,
        "required": True,
        **kw,
    }


def text(signer: Any = 0, page: int = 1, x: float = 120, y: float = 100, **kw: Any) -> dict[str, Any]:
    return {
        "type": "text",
        "signer": signer,
        "document_index": 0,
        "page": page,
        "x": x,
        "y": y,
        "width": 160,
        "height": 22,
        "required": True,
        **kw,
    }
