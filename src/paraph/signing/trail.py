"""The audit trail of a request, read from its append-only audit events: the final document's trail page and
the dashboard's status timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from paraph.audit import AuditTag
from paraph.models import AuditEvent, SignatureRequest
from paraph.pdf.audit_trail import AuditEntry, AuditSigner, AuditTrail

#: Audit tags that appear on the trail: tag -> (action, tied to a signer).
_SHOWN: dict[str, tuple[str, bool]] = {
    AuditTag.API_SIGNATURE_REQUEST_CREATED: ("created", False),
    AuditTag.SYSTEM_SIGNATURE_REQUEST_SENT: ("sent", False),
    AuditTag.SYSTEM_MAIL_SIGNER_INVITE: ("sent", True),
    AuditTag.SYSTEM_MAIL_REMIND: ("reminded", True),
    AuditTag.SIGNER_SIGNATURE_REQUEST_PIN_VERIFIED: ("pin_verified", True),
    AuditTag.SIGNER_SIGNATURE_REQUEST_PIN_FAILED: ("pin_failed", True),
    AuditTag.SIGNER_SIGNATURE_REQUEST_VIEWED: ("viewed", True),
    AuditTag.SIGNER_SIGNATURE_REQUEST_SIGNED: ("signed", True),
    AuditTag.SIGNER_SIGNATURE_REQUEST_DECLINED: ("declined", True),
    AuditTag.SIGNER_SIGNATURE_REQUEST_REASSIGNED: ("reassigned", True),
    AuditTag.API_SIGNATURE_REQUEST_UPDATED: ("updated", False),
    AuditTag.SYSTEM_SIGNATURE_REQUEST_COMPLETED: ("completed", False),
    AuditTag.API_SIGNATURE_REQUEST_SIMULATED: ("simulated", True),
}
_METHOD_WORDS = {"type": "typed", "draw": "drawn", "upload": "uploaded"}


def _detail(event: AuditEvent, action: str) -> str | None:
    data = event.data or {}
    if event.tag == AuditTag.SYSTEM_MAIL_SIGNER_INVITE:
        return f"Signing link emailed to {data.get('to') or event.actor_email}"
    if action == "reassigned":
        reason = data.get("reason")
        to = f"{data.get('to_name')} <{data.get('to_email_address')}>"
        return f"To {to}" + (f"; reason: {reason}" if reason else "")
    if action == "pin_failed":
        if data.get("refused"):
            return "Refused: the signer is locked"
        failures = data.get("failures")
        return f"Wrong try {failures}" + ("; the signer is now locked" if data.get("locked") else "")
    if action == "declined":
        return f"Reason: {data.get('reason')}" if data.get("reason") else None
    if action == "updated":
        changed = ", ".join(sorted(k for k in data if k != "signature_id"))
        return f"Changed: {changed}" if changed else None
    if action == "simulated":
        return f"Test mode: the {data.get('action')} above was simulated through the API, not done by a person"
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
        original_names=[d.filename for d in sr.documents],
        signers=list(signers.values()),
        other_entries=other,
        test_mode=sr.test_mode,
    )


# -- the dashboard's status timeline -------------------------------------------------------------------------

#: Every audit tag about a signature request, as the dashboard's timeline words it. Tags not listed are
#: shown by their action (``cancel_requested`` -> "Cancel requested"), so a new tag never hides an event.
_TIMELINE_LABELS: dict[str, str] = {
    AuditTag.API_SIGNATURE_REQUEST_CREATED: "Created",
    AuditTag.SYSTEM_SIGNATURE_REQUEST_SENT: "Documents processed, request sent",
    AuditTag.SYSTEM_SIGNATURE_REQUEST_FAILED: "Processing failed",
    AuditTag.SYSTEM_MAIL_SIGNER_INVITE: "Signing link emailed",
    AuditTag.SYSTEM_MAIL_REMIND: "Reminder emailed",
    AuditTag.SYSTEM_MAIL_FINAL_COPY: "Final copy emailed",
    AuditTag.SYSTEM_MAIL_EXPIRED_NOTICE: "Expiry notice emailed",
    AuditTag.API_EMBEDDED_SIGN_URL_CREATED: "Sign URL created",
    AuditTag.API_SIGNATURE_REQUEST_REMINDED: "Reminder requested",
    AuditTag.SIGNER_SIGNATURE_REQUEST_PIN_VERIFIED: "Access code entered",
    AuditTag.SIGNER_SIGNATURE_REQUEST_PIN_FAILED: "Wrong access code",
    AuditTag.SIGNER_SIGNATURE_REQUEST_VIEWED: "Viewed",
    AuditTag.SIGNER_SIGNATURE_REQUEST_SIGNED: "Signed",
    AuditTag.SIGNER_SIGNATURE_REQUEST_DECLINED: "Declined",
    AuditTag.SIGNER_SIGNATURE_REQUEST_REASSIGNED: "Reassigned",
    AuditTag.API_SIGNATURE_REQUEST_UPDATED: "Signer updated",
    AuditTag.API_SIGNATURE_REQUEST_HOLD_RELEASED: "Hold released",
    AuditTag.API_SIGNATURE_REQUEST_CANCEL_REQUESTED: "Cancel requested",
    AuditTag.SYSTEM_SIGNATURE_REQUEST_CANCELED: "Canceled",
    AuditTag.SYSTEM_SIGNATURE_REQUEST_EXPIRED: "Expired",
    AuditTag.SYSTEM_SIGNATURE_REQUEST_COMPLETED: "All signed",
    AuditTag.SYSTEM_SIGNATURE_REQUEST_FINALIZED: "Final document sealed",
    AuditTag.API_SIGNATURE_REQUEST_REMOVED: "Removed",
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
    if event.tag == AuditTag.SYSTEM_SIGNATURE_REQUEST_FAILED:
        return str(data.get("message") or "") or None
    if event.tag == AuditTag.API_SIGNATURE_REQUEST_REMINDED and data.get("email_address"):
        return f"To {data['email_address']}"
    if event.tag == AuditTag.SYSTEM_SIGNATURE_REQUEST_FINALIZED and data.get("sha256"):
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
