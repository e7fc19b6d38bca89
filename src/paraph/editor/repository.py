"""The editor's queries."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from paraph.models import Account, EditorToken, RequestField, UnclaimedDraft


def draft(session: Session, draft_id: str, *, lock: bool = False) -> UnclaimedDraft | None:
    stmt = (
        sa.select(UnclaimedDraft)
        .where(UnclaimedDraft.draft_id == draft_id)
        .options(joinedload(UnclaimedDraft.account), joinedload(UnclaimedDraft.api_app))
    )
    if lock:
        stmt = stmt.with_for_update(of=UnclaimedDraft)
    return session.scalars(stmt).first()


def draft_owned(session: Session, account: Account, draft_id: str) -> UnclaimedDraft | None:
    found = draft(session, draft_id)
    return found if found is not None and found.account_id == account.id else None


def token_by_lookup(session: Session, lookup: str) -> EditorToken | None:
    return session.scalars(sa.select(EditorToken).where(EditorToken.lookup == lookup)).first()


def request_field_specs(session: Session, sr_pk: int) -> list[dict[str, object]]:
    """The placed fields of a request (pdf.model.Field dicts), merge fields aside."""
    rows = session.scalars(
        sa.select(RequestField.spec)
        .where(RequestField.signature_request_id == sr_pk, RequestField.type.not_in(["text-merge", "checkbox-merge"]))
        .order_by(RequestField.id)
    )
    return [dict(r) for r in rows if isinstance(r, dict)]
