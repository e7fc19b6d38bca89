"""What the dashboard reads of signature requests: the API's search syntax and repository, plus what only
the owner's dashboard shows (canceled requests, page images, the status timeline); where a request stands
is :mod:`paraph.signature_request.state`.

Nothing here writes; every function takes the signed-in account and never returns another account's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from paraph.errors import NotFound
from paraph.models import Account, SignatureRequest
from paraph.signature_request import repository
from paraph.signature_request.search import compile_query
from paraph.signature_request.state import LISTED, RequestState, state_expression
from paraph.signing import repository as signing_repository
from paraph.signing.trail import TimelineEntry, timeline


@dataclass(frozen=True, slots=True)
class Filters:
    query: str | None = None  # the API's search syntax (``title:NDA to:jack@example.com``)
    state: str | None = None  # one of state.LISTED
    test_mode: bool | None = None  # None: both


def list_page(
    session: Session, account: Account, filters: Filters, page: int, page_size: int
) -> tuple[list[SignatureRequest], int]:
    """One page of the account's requests, newest first, canceled ones included. A malformed ``query``
    raises the API's BadRequest (the dashboard shows its message)."""
    conditions: list[ColumnElement[bool]] = []
    where = compile_query(filters.query, account)
    if where is not None:
        conditions.append(where)
    if filters.state in LISTED:
        conditions.append(state_expression() == filters.state)
    if filters.test_mode is not None:
        conditions.append(SignatureRequest.test_mode.is_(filters.test_mode))
    combined = sa.and_(*conditions) if conditions else None
    return repository.list_visible(session, account, combined, (page - 1) * page_size, page_size, include_canceled=True)


def counts(session: Session, account: Account) -> dict[RequestState, int]:
    return repository.count_by_state(session, account)


def owned(session: Session, account: Account, rid: str) -> SignatureRequest:
    """The account's request, canceled ones included; NotFound when unknown, removed or another's."""
    sr = repository.owned(session, account, rid)
    if sr is None or sr.removed_at is not None:
        raise NotFound("Not found.")
    return sr


def page_image_key(sr: SignatureRequest, document_index: int, page: int) -> str | None:
    """The storage key of page ``page`` (1-based) of document ``document_index``, when it was rendered."""
    doc = next((d for d in sr.documents if d.index == document_index), None)
    if doc is None or not 1 <= page <= len(doc.page_image_keys or []):
        return None
    return doc.page_image_keys[page - 1]


def status_timeline(session: Session, sr: SignatureRequest) -> list[TimelineEntry]:
    return timeline(signing_repository.audit_events(session, sr.signature_request_id))
