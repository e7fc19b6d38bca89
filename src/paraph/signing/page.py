"""What the signing page is given: the document, the fields, the options, the embedding context.

The page is one template and one script; everything it shows comes from the JSON built here, so the same
page serves the iFrame (``/editor/embeddedSign``) and the mail link (``/sign/{signature_id}``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session

from paraph.db import utcnow
from paraph.i18n import N_
from paraph.models import RequestField, SignatureRequest, Signer
from paraph.signing import attachments, repository, rules
from paraph.signing.access import PIN_TRIES, Access
from paraph.signing.service import allowed_methods, signer_fields
from paraph.wire.validators import safe_link

#: Labels Dropbox Sign's ``final_button_text`` may ask for; anything else keeps the default.
FINAL_BUTTON_TEXTS = frozenset({N_("Save"), N_("Send"), N_("Continue"), N_("Sign"), N_("I agree")})
DEFAULT_FINAL_BUTTON = "I agree"
_HEX = re.compile(r"#?([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})")
_HOST = re.compile(r"[a-z0-9.-]+")
#: White-labeling option -> CSS custom property of the page.
THEME_VARIABLES = {
    "header_background_color": "--pp-header-bg",
    "page_background_color": "--pp-page-bg",
    "link_color": "--pp-link",
    "primary_button_color": "--pp-primary",
    "primary_button_color_hover": "--pp-primary-hover",
    "primary_button_text_color": "--pp-primary-text",
    "primary_button_text_color_hover": "--pp-primary-text-hover",
    "secondary_button_color": "--pp-secondary",
    "secondary_button_color_hover": "--pp-secondary-hover",
    "secondary_button_text_color": "--pp-secondary-text",
    "secondary_button_text_color_hover": "--pp-secondary-text-hover",
    "text_color1": "--pp-text-muted",
    "text_color2": "--pp-header-text",
}


@dataclass(slots=True)
class EmbedParams:
    """The query parameters hellosign-embedded adds to a sign URL."""

    client_id: str | None = None
    parent_url: str | None = None
    skip_domain_verification: bool = False
    user_culture: str | None = None
    redirect_url: str | None = None
    hide_header: bool = False
    final_button_text: str | None = None
    white_labeling: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: dict[str, str]) -> EmbedParams:
        wl: dict[str, Any] = {}
        raw = query.get("white_labeling_options")
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                wl = parsed
        return cls(
            client_id=query.get("client_id") or None,
            parent_url=query.get("parent_url") or None,
            skip_domain_verification=query.get("skip_domain_verification") in ("1", "true"),
            user_culture=query.get("user_culture") or None,
            redirect_url=query.get("redirect_url") or None,
            hide_header=(query.get("hide_header") or "").lower() in ("1", "true"),
            final_button_text=query.get("final_button_text") or None,
            white_labeling=wl,
        )


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or not _HOST.fullmatch(host):
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def frame_ancestors(domains: list[str] | None) -> str:
    """The CSP ``frame-ancestors`` value: None means any site (test mode, verification skipped)."""
    if domains is None:
        return "*"
    sources = ["'self'"]
    for d in domains:
        host = d.strip().lower().rstrip(".")
        if host and _HOST.fullmatch(host):
            for scheme in ("https", "http"):
                sources += [f"{scheme}://{host}:*", f"{scheme}://*.{host}:*"]
    return " ".join(sources)


def theme(*sources: dict[str, Any] | None) -> dict[str, str]:
    """CSS variables from white-labeling options; later sources win, only ``#hex`` colours pass. A button
    colour given without its hover colour keeps it on hover (not the default's blue)."""
    out: dict[str, str] = {}
    for source in sources:
        for name, variable in THEME_VARIABLES.items():
            value = (source or {}).get(name)
            if isinstance(value, str) and (m := _HEX.fullmatch(value.strip())):
                out[variable] = "#" + m.group(1).lower()
    for base in ("--pp-primary", "--pp-secondary", "--pp-primary-text", "--pp-secondary-text"):
        if base in out:
            out.setdefault(base + "-hover", out[base])
    return out


def _autofill(spec: dict[str, Any], signer: Signer) -> str | None:
    kind = spec.get("auto_fill_type")
    parts = signer.name.split()
    if kind == "name":
        return signer.name or None
    if kind == "firstName":
        return parts[0] if parts else None
    if kind == "lastName":
        return parts[-1] if len(parts) > 1 else None
    if kind == "email":
        return signer.email_address
    return None


def _field_json(f: RequestField, mine: bool, sr: SignatureRequest, signer: Signer) -> dict[str, Any]:
    spec = f.spec
    out: dict[str, Any] = {
        "api_id": f.api_id,
        "type": f.type,
        "mine": mine,
        "required": bool(spec.get("required")),
        "name": spec.get("name") or "",
        "document_index": f.document_index,
        "page": f.page,
        "x": spec.get("x", 0),
        "y": spec.get("y", 0),
        "width": spec.get("width", 0),
        "height": spec.get("height", 0),
        "group": spec.get("group"),
        "font_size": spec.get("font_size") or 12,
    }
    if f.type in ("text", "text-merge"):
        out.update(
            placeholder=spec.get("placeholder") or "",
            validation_type=spec.get("validation_type"),
            validation_custom_regex=spec.get("validation_custom_regex"),
            validation_custom_regex_format_label=spec.get("validation_custom_regex_format_label"),
            masked=bool(spec.get("masked")),
        )
    if f.type == "dropdown":
        out["options"] = [str(o) for o in spec.get("options") or []]
    if f.type == "hyperlink":
        # Checked at creation; checked again here for links stored before that (a javascript: URL is dropped).
        out.update(content=spec.get("content") or "", content_url=safe_link(spec.get("content_url")) or "")
    value: Any = None
    if mine:
        if f.type in ("checkbox", "radio"):
            value = bool(spec.get("is_checked"))
        elif f.type == "dropdown":
            value = spec.get("content") or ""
        elif f.type == "text" and sr.populate_auto_fill_fields:
            value = _autofill(spec, signer)
        elif f.type in ("text-merge", "checkbox-merge"):
            value = f.value if f.value is not None else spec.get("content")
    elif f.type in rules.IMAGE_TYPES:
        value = f.filled_at is not None and f.value is not None
    elif f.value is not None:
        value = f.value
    elif f.type in ("text-merge", "checkbox-merge"):
        value = spec.get("is_checked") if f.type == "checkbox-merge" else spec.get("content")
    out["value"] = value
    return out


def page_data(
    session: Session,
    access: Access,
    *,
    mode: str,
    token: str,
    params: EmbedParams | None,
    pin: str | None = None,
) -> dict[str, Any]:
    """The page of a signer who may see the document (past the PIN step: ``pin`` is their PIN pass)."""
    sr, signer = access.sr, access.signer
    fields = repository.fields_of(session, sr)
    mine = {f.api_id for f in signer_fields(fields, signer)}
    base = f"/sign/{signer.signature_id}"
    q = quote(token, safe="")
    if signer.pin_hash is not None and pin:
        q += "&pin=" + quote(pin, safe="")
    pages = []
    for doc in sr.documents:
        for number, size in enumerate(doc.page_sizes or [], start=1):
            pages.append(
                {
                    "document": doc.index,
                    "page": number,
                    "width": size[0],
                    "height": size[1],
                    "src": f"{base}/page/{doc.index}/{number}?token={q}",
                }
            )
    options = sr.signing_options or {}
    methods = allowed_methods(sr)
    default_type = options.get("default_type")
    data: dict[str, Any] = {
        "state": "ready",
        "mode": mode,
        "signatureId": signer.signature_id,
        "token": token,
        "pin": pin if signer.pin_hash is not None else None,
        "title": sr.title,
        "message": sr.message or "",
        "sentAt": sr.sent_at or sr.created_at,  # shown as the signer's language writes dates (not in the page's JSON)
        "requester": sr.account.email_address,
        "signer": {"name": signer.name, "email": signer.email_address},
        "testMode": sr.test_mode,
        "pages": pages,
        "fields": [
            _field_json(f, f.api_id in mine, sr, signer)
            for f in fields
            if f.api_id in mine or f.type in rules.SIGNER_TYPES or f.type == "hyperlink"
        ],
        "groups": list(sr.form_field_groups or []),
        "rules": list(sr.form_field_rules or []),
        "methods": methods,
        "defaultMethod": default_type if options and default_type in methods else methods[0],
        "allowDecline": sr.allow_decline,
        "allowReassign": sr.allow_reassign,
        "dateSigned": rules.date_signed(utcnow(), (sr.field_options or {}).get("date_format")),
        "validations": rules.validations_for_page(),
        "api": {
            "submit": f"{base}/submit",
            "decline": f"{base}/decline",
            "reassign": f"{base}/reassign",
            "typed": f"{base}/typed",
            "attachment": f"{base}/attachment/",
        },
        "attachments": attachments.page_json(sr, signer),
        "attachmentMaxBytes": attachments.MAX_ATTACHMENT_BYTES,
        "finalButtonText": DEFAULT_FINAL_BUTTON,
        "redirectUrl": safe_link(sr.signing_redirect_url),
        "theme": theme(sr.api_app.white_labeling_options if sr.api_app else None),
    }
    if params is not None:
        if params.final_button_text in FINAL_BUTTON_TEXTS:
            data["finalButtonText"] = params.final_button_text
        if params.redirect_url and origin_of(params.redirect_url):
            data["redirectUrl"] = params.redirect_url
        data["theme"] = theme(sr.api_app.white_labeling_options if sr.api_app else None, params.white_labeling)
        data["embedded"] = embed_context(sr, params)
        data["hideHeader"] = params.hide_header
    return data


def pin_page_data(access: Access, *, mode: str, token: str, params: EmbedParams | None) -> dict[str, Any]:
    """The PIN step: nothing of the document (not its title), only where to send the access code."""
    sr, signer = access.sr, access.signer
    data: dict[str, Any] = {
        "state": "pin",
        "mode": mode,
        "signatureId": signer.signature_id,
        "token": token,
        "title": "",
        "message": "",
        "triesLeft": max(0, PIN_TRIES - signer.pin_failures),
        "api": {"pin": f"/sign/{signer.signature_id}/pin"},
        "theme": theme(sr.api_app.white_labeling_options if sr.api_app else None),
    }
    if params is not None:
        data["theme"] = theme(sr.api_app.white_labeling_options if sr.api_app else None, params.white_labeling)
        data["embedded"] = embed_context(sr, params)
        data["hideHeader"] = params.hide_header
    return data


def skips_verification(sr: SignatureRequest | None, params: EmbedParams) -> bool:
    return bool(sr is not None and sr.test_mode and params.skip_domain_verification)


def embed_context(sr: SignatureRequest | None, params: EmbedParams) -> dict[str, Any]:
    """How the page talks to its parent: whose origin, and whether to verify it against the app's domains."""
    skip = sr is None or skips_verification(sr, params)
    return {
        "parentOrigin": origin_of(params.parent_url),
        "verifyDomain": not skip,
        "domains": list(sr.api_app.domains or []) if sr is not None and sr.api_app is not None else [],
    }
