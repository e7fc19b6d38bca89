"""The audit trail of a request, read from its append-only audit events: the final document's trail page and
the dashboard's status timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from paraph.models import AuditEvent, SignatureRequest
from paraph.pdf.audit_trail import AuditEntry, AuditSigner, AuditTrail

#: Audit tags that appear on the trail: tag -> (action, tied to a signer).
_SHOWN = {
    "api:signature_request:created": ("created", False),
    "system:signature_request:sent": ("sent", False),
    "system:mail:signer_invite": ("sent", True),
    "system:mail:remind": ("reminded", True),
    "signer:signature_request:viewed": ("viewed", True),
    "signer:signature_request:signed": ("signed", True),
    "signer:signature_request:declined": ("declined", True),
    "signer:signature_request:reassigned": ("reassigned", True),
    "api:signature_request:updated": ("updated", False),
    "system:signature_request:completed": ("completed", False),
}
_METHOD_WORDS = {"type": "typed", "draw": "drawn", "upload": "uploaded"}


def _detail(event: AuditEvent, action: str) -> str | None:
    data = event.data or {}
    if event.tag == "system:mail:signer_invite":
        return f"Signing link emailed to {data.get('to') or event.actor_email}"
    if action == "reassigned":
        reason = data.get("reason")
        to = f"{data.get('to_name')} <{data.get('to_email_address')}>"
        return f"To {to}" + (f"; reason: {reason}" if reason else "")
    if action == "declined":
        return f"Reason: {data.get('reason')}" if data.get("reason") else None
    if action == "updated":
        changed = ", ".join(sorted(k for k in data if k != "signature_id"))
        return f"Changed: {changed}" if changed else None
    if action == "signed":
        methods = [_METHOD_WORDS.get(m, m) for m in data.get("methods") or []]
        return f"Signature: {' and '.join(methods)}" if methods else None
    return None


def build_trail(sr: SignatureRequest, events: Sequence[AuditEvent]) -> AuditTrail:
    """Signers in request order, each with their events; a person who reassigned their place keeps theirs
    under their own name (the events carry the signature_id they had)."""
    signers: dict[str, AuditSigner] = {}
    for s in sr.signers:
        signers[s.signature_id] = AuditSigner(name=s.name or s.email_address, email=s.email_address)
    other: list[AuditEntry] = []
    for event in events:
        shown = _SHOWN.get(event.tag)
        if shown is None:
            continue
        action, per_signer = shown
        entry = AuditEntry(
            at=event.at,
            action=action,
            actor_name=event.actor_name,
            actor_email=event.actor_email,
            ip=event.ip_address,
            user_agent=event.user_agent,
            detail=_detail(event, action),
        )
        if per_signer and event.signature_id:
            target = signers.get(event.signature_id)
            if target is None:
                target = signers[event.signature_id] = AuditSigner(
                    name=event.actor_name or event.actor_email or event.signature_id,
                    email=event.actor_email or "",
                )
            target.entries.append(entry)
        else:
            other.append(entry)
    return AuditTrail(
        title=sr.title or "(untitled)",
        signature_request_id=sr.signature_request_id,
        original_sha256=[d.sha256 or "" for d in sr.documents],
        signers=list(signers.values()),
        other_entries=other,
        test_mode=sr.test_mode,
    )


# -- the dashboard's status timeline -------------------------------------------------------------------------

#: Every audit tag about a signature request, as the dashboard's timeline words it. Tags not listed are
#: shown by their action (``cancel_requested`` -> "Cancel requested"), so a new tag never hides an event.
_TIMELINE_LABELS = {
    "api:signature_request:created": "Created",
    "system:signature_request:sent": "Documents processed, request sent",
    "system:signature_request:failed": "Processing failed",
    "system:mail:signer_invite": "Signing link emailed",
    "system:mail:remind": "Reminder emailed",
    "system:mail:final_copy": "Final copy emailed",
    "system:mail:expired_notice": "Expiry notice emailed",
    "api:embedded:sign_url_created": "Sign URL created",
    "api:signature_request:reminded": "Reminder requested",
    "signer:signature_request:viewed": "Viewed",
    "signer:signature_request:signed": "Signed",
    "signer:signature_request:declined": "Declined",
    "signer:signature_request:reassigned": "Reassigned",
    "api:signature_request:updated": "Signer updated",
    "api:signature_request:hold_released": "Hold released",
    "api:signature_request:cancel_requested": "Cancel requested",
    "system:signature_request:canceled": "Canceled",
    "system:signature_request:expired": "Expired",
    "system:signature_request:completed": "All signed",
    "system:signature_request:finalized": "Final document sealed",
    "api:signature_request:removed": "Removed",
}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: dt.datetime
    tag: str
    label: str
    source: str  # api, signer, system: who caused it
    actor: str | None  # "Name <email>" or the email alone
    detail: str | None
    ip: str | None
    signature_id: str | None


def _actor(event: AuditEvent) -> str | None:
    if event.actor_name and event.actor_email:
        return f"{event.actor_name} <{event.actor_email}>"
    return event.actor_email or event.actor_name


def _timeline_detail(event: AuditEvent) -> str | None:
    if event.tag.startswith("system:mail:"):
        to = (event.data or {}).get("to") or event.actor_email
        return f"To {to}" if to else None
    shown = _SHOWN.get(event.tag)
    if shown is not None:
        return _detail(event, shown[0])
    data = event.data or {}
    if event.tag == "system:signature_request:failed":
        return str(data.get("message") or "") or None
    if event.tag == "api:signature_request:reminded" and data.get("email_address"):
        return f"To {data['email_address']}"
    if event.tag == "system:signature_request:finalized" and data.get("sha256"):
        return f"SHA-256 {data['sha256']}"
    return None


def timeline(events: Sequence[AuditEvent]) -> list[TimelineEntry]:
    """A request's audit events, oldest first, worded for people (the dashboard's status timeline)."""
    out = []
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        source, _, action = event.tag.split(":", 2)
        label = _TIMELINE_LABELS.get(event.tag) or action.replace("_", " ").capitalize()
        out.append(
            TimelineEntry(
                at=event.at,
                tag=event.tag,
                label=label,
                source=source,
                actor=None if event.tag.startswith("system:mail:") else _actor(event),  # mail: the recipient
                detail=_timeline_detail(event),
                ip=event.ip_address,
                signature_id=event.signature_id,
            )
        )
    return out
