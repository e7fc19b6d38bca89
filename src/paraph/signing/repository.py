"""Every query of the signing feature."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.db import utcnow
from paraph.models import (
    AuditEvent,
    FinalDocument,
    RequestField,
    SignatureImage,
    SignatureRequest,
    Signer,
    SignUrlToken,
)
from paraph.signature_request import repository as requests


def signer_and_request(
    session: Session, signature_id: str, *, lock: bool = False
) -> tuple[Signer, SignatureRequest] | None:
    """The signer with this signature_id and their request (locked on PostgreSQL with ``lock``)."""
    signer = requests.signer_by_signature_id(session, signature_id)
    if signer is None:
        return None
    return signer, requests.of_signer(session, signer, lock=lock)


def claim_invalid_report(session: Session, row: SignUrlToken) -> bool:
    """Mark the token's ``sign_url_invalid`` as reported; True only for the one caller that marked it (a
    conditional UPDATE: concurrent openings of the same dead URL cannot both win)."""
    result = session.execute(
        sa.update(SignUrlToken)
        .where(SignUrlToken.id == row.id, SignUrlToken.invalid_reported_at.is_(None))
        .values(invalid_reported_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def fields_of(session: Session, sr: SignatureRequest) -> list[RequestField]:
    return list(
        session.scalars(
            sa.select(RequestField).where(RequestField.signature_request_id == sr.id).order_by(RequestField.id)
        )
    )


def images_of(session: Session, sr: SignatureRequest) -> list[SignatureImage]:
    return list(session.scalars(sa.select(SignatureImage).where(SignatureImage.signature_request_id == sr.id)))


def replace_images(session: Session, sr: SignatureRequest, api_ids: list[str]) -> None:
    """Drop earlier images of these fields (a signer who signs again after a failed attempt)."""
    if api_ids:
        session.execute(
            sa.delete(SignatureImage).where(
                SignatureImage.signature_request_id == sr.id, SignatureImage.api_id.in_(api_ids)
            )
        )


def audit_events(session: Session, signature_request_id: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.signature_request_id == signature_request_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )


def final_document(session: Session, sr: SignatureRequest) -> FinalDocument | None:
    return session.scalars(sa.select(FinalDocument).where(FinalDocument.signature_request_id == sr.id)).first()
