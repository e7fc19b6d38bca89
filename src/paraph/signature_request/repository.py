"""Every query of the signature request feature."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, joinedload, selectinload, with_parent
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from paraph.db import Plan, is_postgres, run_plan
from paraph.models import Account, ApiKey, Document, RequestField, SignatureRequest, Signer, SignUrlToken
from paraph.models.signature_request import FilesState
from paraph.signature_request.state import LISTED, RequestState, state_expression

#: What the API's responses read besides the request's row: its account and app (joined), and its signers,
#: documents and shown fields, loaded by :func:`_with_children`. Lists (expiry sweeps) load the same with
#: ``_LOAD``.
_LOAD = (
    joinedload(SignatureRequest.account),
    joinedload(SignatureRequest.api_app),
    selectinload(SignatureRequest.signers),
    selectinload(SignatureRequest.response_fields),
    selectinload(SignatureRequest.documents),
)
_JOINED = (joinedload(SignatureRequest.account), joinedload(SignatureRequest.api_app))

# The collections, each read by one plain query per batch of requests instead of selectinload: the same rows in
# the same order, for about half the ORM work per query (the read path's profile: selectinload builds and
# caches a statement per load; these are built once).
_SIGNERS = sa.select(Signer).where(Signer.signature_request_id.in_(sa.bindparam("ids", expanding=True)))
_DOCUMENTS = sa.select(Document).where(Document.signature_request_id.in_(sa.bindparam("ids", expanding=True)))
_RESPONSE_FIELDS = sa.select(RequestField).where(
    RequestField.signature_request_id.in_(sa.bindparam("ids", expanding=True)),
    sa.or_(RequestField.type.in_(["text-merge", "checkbox-merge"]), RequestField.filled_at.is_not(None)),
)
_CHILDREN = (
    ("signers", _SIGNERS.order_by(Signer.signature_request_id, Signer.position)),
    ("documents", _DOCUMENTS.order_by(Document.signature_request_id, Document.index)),
    ("response_fields", _RESPONSE_FIELDS.order_by(RequestField.signature_request_id, RequestField.id)),
)


def _with_children(
    session: Session, rows: list[SignatureRequest], *, for_processing: bool = False
) -> list[SignatureRequest]:
    """Load the collections of ``rows`` (signers, documents and, unless ``for_processing``, response_fields),
    as selectinload would: each set as the committed value of its relationship. A request already in the
    session keeps the collections it has."""
    for name, statement in _CHILDREN:
        if for_processing and name == "response_fields":
            continue
        todo = [sr for sr in rows if name not in sr.__dict__]
        if not todo:
            continue
        found: dict[int, list[Any]] = {sr.id: [] for sr in todo}
        for child in session.scalars(statement, {"ids": list(found)}):
            found[child.signature_request_id].append(child)
        for sr in todo:
            set_committed_value(sr, name, found[sr.id])
    return rows


# -- what the API's reads show, as plain rows -----------------------------------------------------------------
# GET /v3/signature_request/{id} and /list only serialize what they read. Building ORM objects for that (the
# identity map, instance state, relationship bookkeeping) was most of their time in the read path's profile:
# these read the same columns with Core statements, built once, into plain objects that have the model's
# attribute names (``metadata_`` for the column ``metadata``; the same types: the columns' types convert the
# values as the ORM does). A view has every column attribute of its model, and a request's view also
# ``account.email_address``, ``signers`` and ``response_fields``: what ``schemas.serialize_signature_request``
# reads. Nothing is written through a view.


def _labelled(model: type[Any]) -> list[sa.Label[Any]]:
    return [prop.columns[0].label(prop.key) for prop in sa.inspect(model).column_attrs]


_SR_TABLE = cast(sa.Table, SignatureRequest.__table__)
# aliased: a search's ``from:`` is an EXISTS on accounts correlated to the request only
_REQUESTER = cast(sa.Table, Account.__table__).alias("requester")
#: What the responses never show: JSON columns a view would decode for nothing (``requested_fields`` holds every
#: field of the request). ``serialize_signature_request`` reads none of them.
_NOT_SHOWN = frozenset(
    {"requested_fields", "form_field_groups", "form_field_rules", "field_options", "signing_options"}
)
_VIEW_COLUMNS = (
    *(label for label in _labelled(SignatureRequest) if label.name not in _NOT_SHOWN),
    _REQUESTER.c.email_address.label("requester_email_address"),
)
_VIEW_KEYS = [label.name for label in _VIEW_COLUMNS]
_VIEW_FROM = _SR_TABLE.join(_REQUESTER, _REQUESTER.c.id == _SR_TABLE.c.account_id)
_VIEW_ONE = (
    sa.select(*_VIEW_COLUMNS).select_from(_VIEW_FROM).where(_SR_TABLE.c.signature_request_id == sa.bindparam("rid"))
)
_RF_TABLE = cast(sa.Table, RequestField.__table__)
_SIGNER_TABLE = cast(sa.Table, Signer.__table__)
_SHOWN_FIELD = sa.or_(
    _RF_TABLE.c.type == "text-merge", _RF_TABLE.c.type == "checkbox-merge", _RF_TABLE.c.filled_at.is_not(None)
)
_SIGNERS_SELECT = sa.select(*_labelled(Signer))
_FIELDS_SELECT = sa.select(*_labelled(RequestField))
_SIGNER_KEYS = [c.name for c in _SIGNERS_SELECT.selected_columns]
_FIELD_KEYS = [c.name for c in _FIELDS_SELECT.selected_columns]


def _of_page(ids: Callable[[ColumnElement[int]], ColumnElement[bool]]) -> tuple[tuple[str, Any, list[str]], ...]:
    """(collection, statement, its column names) for the requests that ``ids`` selects, in :func:`_views`'
    order."""
    return (
        (
            "signers",
            _SIGNERS_SELECT.where(ids(_SIGNER_TABLE.c.signature_request_id)).order_by(
                _SIGNER_TABLE.c.signature_request_id, _SIGNER_TABLE.c.position
            ),
            _SIGNER_KEYS,
        ),
        (
            "response_fields",
            _FIELDS_SELECT.where(ids(_RF_TABLE.c.signature_request_id), _SHOWN_FIELD).order_by(
                _RF_TABLE.c.signature_request_id, _RF_TABLE.c.id
            ),
            _FIELD_KEYS,
        ),
    )


_OF_PAGE = _of_page(lambda column: column.in_(sa.bindparam("ids", expanding=True)))
# PostgreSQL: the ids as one array parameter, so that the statement's text (and its prepared plan) never changes
_OF_PAGE_ARRAY = _of_page(lambda column: column == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.Integer))))


def _view(row: Sequence[Any]) -> SimpleNamespace:
    """A request's view from a row of :data:`_VIEW_COLUMNS` (and maybe more columns after them)."""
    view = SimpleNamespace(**dict(zip(_VIEW_KEYS, row, strict=False)), signers=[], response_fields=[])
    view.account = SimpleNamespace(email_address=view.requester_email_address)
    return view


def _views(conn: sa.Connection, rows: Iterable[Sequence[Any]]) -> list[SignatureRequest]:
    return run_plan(conn, _views_plan(list(rows)))


def _views_plan(rows: Sequence[Sequence[Any]], *, arrays: bool = False) -> Plan[list[SignatureRequest]]:
    """The views of a page of request rows, their collections read by one statement each (a plan, see
    below). ``arrays``: pass the page's ids as one array (PostgreSQL)."""
    by_id: dict[int, SimpleNamespace] = {}
    for row in rows:
        view = _view(row)
        by_id[view.id] = view
    if by_id:
        for name, statement, keys in _OF_PAGE_ARRAY if arrays else _OF_PAGE:
            for values in (yield statement, {"ids": list(by_id)}):
                child = _child(keys, values)
                getattr(by_id[child.signature_request_id], name).append(child)
    return cast(list[SignatureRequest], list(by_id.values()))


def _child(keys: list[str], values: Sequence[Any]) -> SimpleNamespace:
    return SimpleNamespace(**dict(zip(keys, values, strict=True)))


def view_by_public_id(session: Session, signature_request_id: str) -> SignatureRequest | None:
    """The request as the API shows it, read-only (see above), or None."""
    conn = session.connection()
    found = _views(conn, conn.execute(_VIEW_ONE, {"rid": signature_request_id}))
    return found[0] if found else None


def _one(
    session: Session, where: ColumnElement[bool], *, lock: bool, for_processing: bool = False
) -> SignatureRequest | None:
    q = sa.select(SignatureRequest).where(where)
    if lock and is_postgres(session):
        q = q.with_for_update(of=SignatureRequest)
    found = session.scalars(q.options(*_JOINED)).first()
    if found is not None:
        _with_children(session, [found], for_processing=for_processing)
    return found


def by_public_id(
    session: Session, signature_request_id: str, *, lock: bool = False, for_processing: bool = False
) -> SignatureRequest | None:
    where = SignatureRequest.signature_request_id == signature_request_id
    return _one(session, where, lock=lock, for_processing=for_processing)


def of_signer(session: Session, signer: Signer, *, lock: bool = False) -> SignatureRequest:
    """The request of ``signer``, loaded like :func:`by_public_id` (``Signer.signature_request`` is never
    lazy-loaded); ``signer`` is the same object as its entry in the request's ``signers``."""
    found = _one(session, SignatureRequest.id == signer.signature_request_id, lock=lock)
    assert found is not None  # a signer's request is its foreign key (ON DELETE CASCADE)
    return found


def reload_response_fields(session: Session, sr: SignatureRequest) -> None:
    """Read the request's ``response_fields`` again, after its fields changed in this session (the relationship
    is read-only: it does not follow changes made through SQL or through ``fields``)."""
    rows = session.scalars(
        sa.select(RequestField).where(with_parent(sr, SignatureRequest.response_fields)).order_by(RequestField.id)
    )
    set_committed_value(sr, "response_fields", list(rows))


def owned(
    session: Session, account: Account, signature_request_id: str, *, lock: bool = False
) -> SignatureRequest | None:
    found = by_public_id(session, signature_request_id, lock=lock)
    return found if found is not None and found.account_id == account.id else None


def _visible(account: Account, *, include_canceled: bool = False) -> tuple[ColumnElement[bool], ...]:
    own = (SignatureRequest.account_id == account.id, SignatureRequest.removed_at.is_(None))
    return own if include_canceled else (*own, SignatureRequest.cancel_requested_at.is_(None))


def count_by_state(session: Session, account: Account) -> dict[RequestState, int]:
    """How many of the account's requests (removed ones aside) stand in each state; every state present."""
    state = state_expression().label("state")
    rows = session.execute(
        sa.select(state, sa.func.count()).where(*_visible(account, include_canceled=True)).group_by(state)
    )
    counts = dict.fromkeys(LISTED, 0)
    for name, n in rows:
        counts[RequestState(name)] = int(n)
    return counts


def list_visible(
    session: Session,
    account: Account,
    where: ColumnElement[bool] | None,
    offset: int,
    limit: int,
    *,
    include_canceled: bool = False,
) -> tuple[list[SignatureRequest], int]:
    """The caller's requests, newest first, without removed ones and (unless asked) without canceled ones."""
    conditions = [*_visible(account, include_canceled=include_canceled)] + ([where] if where is not None else [])
    total = session.scalar(sa.select(sa.func.count()).select_from(SignatureRequest).where(*conditions)) or 0
    rows = session.scalars(
        sa.select(SignatureRequest)
        .where(*conditions)
        .order_by(SignatureRequest.created_at.desc(), SignatureRequest.id.desc())
        .offset(offset)
        .limit(limit)
        .options(*_JOINED)
    )
    return _with_children(session, list(rows)), total


#: A listed request: neither removed nor canceled.
_IN_LISTS = (_SR_TABLE.c.removed_at.is_(None), _SR_TABLE.c.cancel_requested_at.is_(None))
_VIEW_VISIBLE = (_SR_TABLE.c.account_id == sa.bindparam("account_id"), *_IN_LISTS)
_VIEW_COUNT = sa.select(sa.func.count()).select_from(_SR_TABLE).where(*_VIEW_VISIBLE)
_VIEW_PAGE = (
    sa.select(*_VIEW_COLUMNS)
    .select_from(_VIEW_FROM)
    .where(*_VIEW_VISIBLE)
    .order_by(_SR_TABLE.c.created_at.desc(), _SR_TABLE.c.id.desc())
    .offset(sa.bindparam("offset"))
    .limit(sa.bindparam("limit"))
)


def list_visible_views(
    session: Session, account: Account, where: ColumnElement[bool] | None, offset: int, limit: int
) -> tuple[list[SignatureRequest], int]:
    """:func:`list_visible` (canceled ones left out) as the API shows them, read-only (see the views above).
    Without a search, both statements are the ones built once above."""
    conn, account_pk = session.connection(), account.id
    count, page = (_VIEW_COUNT, _VIEW_PAGE) if where is None else (_VIEW_COUNT.where(where), _VIEW_PAGE.where(where))
    total = conn.execute(count, {"account_id": account_pk}).scalar() or 0
    if not total or offset >= total:
        return [], total
    rows = conn.execute(page, {"account_id": account_pk, "offset": offset, "limit": limit})
    return _views(conn, rows), total


# -- the same views for the API gate's hot reads (paraph.hot_reads) ------------------------------------------
# Fewer statements for the same rows: the caller's key is checked in the request's statement (its account must
# hold the key ``key_id``, unrevoked) and a page carries its total (``count(*) OVER ()``); one request's
# collections are read with "=" (an expanding IN is rendered anew at every execution). The rows and their order
# are those of the views above.
#
# Each read is a plan (``paraph.db.Plan``): a generator that yields a statement with its parameters,
# is sent back the rows (sequences of values, in the statement's column order) and returns the views. The
# lane runs it on a SQLAlchemy connection (SQLite) or on asyncpg (PostgreSQL), whose values come out of the
# driver as those of the columns' types do (jsonb decoded, timestamptz in UTC).

_KEY_HOLDER = (
    sa.select(ApiKey.account_id)
    .where(ApiKey.id == sa.bindparam("key_id"), ApiKey.revoked_at.is_(None))
    .scalar_subquery()
)
_HELD_ONE = (
    sa.select(*_VIEW_COLUMNS, _REQUESTER.c.account_id.label("requester_account_id"))
    .select_from(_VIEW_FROM)
    .where(_SR_TABLE.c.signature_request_id == sa.bindparam("rid"), _SR_TABLE.c.account_id == _KEY_HOLDER)
)
#: One request's collections (parameter ``id``): "=" instead of an expanding IN; the same rows in the same order.
_OF_ONE = _of_page(lambda column: column == sa.bindparam("id"))


_HELD_PAGE = (
    sa.select(
        *_VIEW_COLUMNS, _REQUESTER.c.account_id.label("requester_account_id"), sa.func.count().over().label("total")
    )
    .select_from(_VIEW_FROM)
    .where(_SR_TABLE.c.account_id == _KEY_HOLDER, *_IN_LISTS)
    .order_by(_SR_TABLE.c.created_at.desc(), _SR_TABLE.c.id.desc())
    .offset(sa.bindparam("offset"))
    .limit(sa.bindparam("limit"))
)


def held_view(signature_request_id: str, key_id: int) -> Plan[SignatureRequest | None]:
    """:func:`view_by_public_id` of a request whose account holds the unrevoked key ``key_id``, or None (no
    such request, not that account's, or the key no longer valid). Its ``requester_account_id`` is the
    account's public id."""
    rows = yield _HELD_ONE, {"rid": signature_request_id, "key_id": key_id}
    if not rows:
        return None
    view = _view(rows[0])
    view.requester_account_id = rows[0][len(_VIEW_KEYS)]
    for name, statement, keys in _OF_ONE:
        children = yield statement, {"id": view.id}
        setattr(view, name, [_child(keys, child) for child in children])
    return cast(SignatureRequest, view)


def held_page(key_id: int, offset: int, limit: int, *, arrays: bool) -> Plan[tuple[list[SignatureRequest], int] | None]:
    """:func:`list_visible_views` without a search, for the account holding the unrevoked key ``key_id``: the page
    and the total, or None when the page is empty (past the end, no request, or the key no longer valid).
    ``arrays``: pass the page's ids as one array (PostgreSQL)."""
    rows = yield _HELD_PAGE, {"key_id": key_id, "offset": offset, "limit": limit}
    if not rows:
        return None
    views = yield from _views_plan(rows, arrays=arrays)
    for view, row in zip(views, rows, strict=True):
        cast(Any, view).requester_account_id = row[len(_VIEW_KEYS)]
    return views, int(rows[0][len(_VIEW_KEYS) + 1])


def signer_owned(session: Session, account: Account, signature_id: str) -> Signer | None:
    return session.scalars(
        sa.select(Signer)
        .join(SignatureRequest, Signer.signature_request_id == SignatureRequest.id)
        .where(Signer.signature_id == signature_id, SignatureRequest.account_id == account.id)
    ).first()


def signer_by_signature_id(session: Session, signature_id: str) -> Signer | None:
    return session.scalars(sa.select(Signer).where(Signer.signature_id == signature_id)).first()


def due_for_expiry(session: Session, now: dt.datetime, limit: int, *, lock: bool = True) -> list[SignatureRequest]:
    q = (
        sa.select(SignatureRequest)
        .where(
            SignatureRequest.expires_at <= now,
            SignatureRequest.is_expired.is_(False),
            SignatureRequest.is_complete.is_(False),
            SignatureRequest.is_declined.is_(False),
            SignatureRequest.files_state != FilesState.ERROR,
            SignatureRequest.cancel_requested_at.is_(None),
        )
        .order_by(SignatureRequest.expires_at)
        .limit(limit)
        .options(*_LOAD)
    )
    if lock and is_postgres(session):
        q = q.with_for_update(skip_locked=True, of=SignatureRequest)
    return list(session.scalars(q))


def delete_stale_tokens(session: Session, before: dt.datetime) -> None:
    """Sign URL tokens that expired before ``before`` (used or not) are of no use to anyone."""
    session.execute(sa.delete(SignUrlToken).where(SignUrlToken.expires_at < before))


def token_by_lookup(session: Session, lookup: str) -> SignUrlToken | None:
    return session.scalars(
        sa.select(SignUrlToken).where(SignUrlToken.lookup == lookup).options(joinedload(SignUrlToken.signer))
    ).first()


def delete_tokens(session: Session, signer: Signer) -> None:
    session.execute(sa.delete(SignUrlToken).where(SignUrlToken.signer_id == signer.id))


def rename_filler(session: Session, sr: SignatureRequest, old: str, new: str) -> None:
    """Fields a signer filled follow the signer to a new signature_id."""
    session.execute(
        sa.update(RequestField)
        .where(RequestField.signature_request_id == sr.id, RequestField.filled_by_signature_id == old)
        .values(filled_by_signature_id=new)
    )
    session.expire(sr, ["fields"])
    reload_response_fields(session, sr)


def sent_from_template(session: Session, account: Account, template_id: str, limit: int) -> list[SignatureRequest]:
    """The account's requests sent from ``template_id`` (a 40-hex id, checked by the caller), newest first."""
    listed = sa.cast(SignatureRequest.template_ids, sa.Text).like(f'%"{template_id}"%')
    return list(
        session.scalars(
            sa.select(SignatureRequest)
            .where(*_visible(account, include_canceled=True), SignatureRequest.template_ids.is_not(None), listed)
            .order_by(SignatureRequest.created_at.desc(), SignatureRequest.id.desc())
            .limit(limit)
            .options(*_LOAD)
        )
    )
