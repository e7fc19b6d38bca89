"""The audit trail of a request, read from its append-only audit events."""

from __future__ import annotations

from collections.abc import Sequence

from paraph.documents.finalize import AuditEntry, AuditSigner, AuditTrail
from paraph.models import AuditEvent, SignatureRequest

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
