"""The queries of the mail feature."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.models import SignatureRequest, SigningNotice


def expired_unannounced(session: Session, limit: int) -> list[tuple[int, str]]:
    """(id, signature_request_id) of expired requests whose expiry was not announced yet."""
    announced = sa.exists().where(
        SigningNotice.signature_request_id == SignatureRequest.id, SigningNotice.kind == "expired"
    )
    rows = session.execute(
        sa.select(SignatureRequest.id, SignatureRequest.signature_request_id)
        .where(SignatureRequest.is_expired.is_(True), SignatureRequest.removed_at.is_(None), ~announced)
        .order_by(SignatureRequest.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]
