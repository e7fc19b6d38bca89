"""Every query of the template feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload, with_parent
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from paraph.db import is_postgres
from paraph.models import Account, Template, TemplateField, TemplateShare

_LOAD = (
    joinedload(Template.account),
    joinedload(Template.api_app),
    selectinload(Template.signer_roles),
    selectinload(Template.cc_roles),
    selectinload(Template.merge_fields),
    selectinload(Template.documents),
    selectinload(Template.fields),
    selectinload(Template.shares).joinedload(TemplateShare.account),
)


def by_public_id(session: Session, template_id: str, *, lock: bool = False) -> Template | None:
    """A template that is not deleted, whoever owns it (jobs; the callers of the API go through
    :func:`visible`)."""
    q = sa.select(Template).where(Template.template_id == template_id, Template.deleted_at.is_(None))
    if lock and is_postgres(session):
        q = q.with_for_update(of=Template)
    return session.scalars(q.options(*_LOAD)).first()


def _shared_with(account: Account) -> ColumnElement[bool]:
    return Template.id.in_(sa.select(TemplateShare.template_id).where(TemplateShare.account_id == account.id))


def _visible_to(account: Account) -> tuple[ColumnElement[bool], ...]:
    return (
        Template.deleted_at.is_(None),
        Template.is_draft.is_(False),
        sa.or_(Template.account_id == account.id, _shared_with(account)),
    )


#: What a send reads of a template: no fields (:func:`field_rows` reads them without the ORM), no shares.
_LOAD_FOR_SEND = (
    selectinload(Template.signer_roles),
    selectinload(Template.cc_roles),
    selectinload(Template.merge_fields),
    selectinload(Template.documents),
)


def visible(
    session: Session, account: Account, template_id: str, *, lock: bool = False, for_send: bool = False
) -> Template | None:
    """The template if ``account`` created it or was given it; None otherwise (a 404 for the caller)."""
    q = sa.select(Template).where(Template.template_id == template_id, *_visible_to(account))
    if lock and is_postgres(session):
        q = q.with_for_update(of=Template)
    return session.scalars(q.options(*(_LOAD_FOR_SEND if for_send else _LOAD))).first()


@dataclass(frozen=True, slots=True)
class FieldRow:
    api_id: str
    role_index: str
    document_index: int
    spec: dict[str, Any]


def field_rows(session: Session, template: Template) -> list[FieldRow]:
    """The template's fields as plain rows: a send copies hundreds of them, and ORM objects cost most of it."""
    rows = session.execute(
        sa.select(TemplateField.api_id, TemplateField.role_index, TemplateField.document_index, TemplateField.spec)
        .where(TemplateField.template_id == template.id)
        .order_by(TemplateField.id)
    )
    return [FieldRow(*row) for row in rows]


def list_visible(
    session: Session, account: Account, *, title_query: str | None, owner: Account | None, offset: int, limit: int
) -> tuple[list[Template], int]:
    """The templates ``account`` may use, newest first; ``title_query`` matches the title (case-insensitive),
    ``owner`` keeps those created by that account."""
    conditions: list[ColumnElement[bool]] = [*_visible_to(account)]
    if title_query:
        escaped = title_query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(sa.func.lower(Template.title).like(f"%{escaped.lower()}%", escape="\\"))
    if owner is not None:
        conditions.append(Template.account_id == owner.id)
    total = session.scalar(sa.select(sa.func.count()).select_from(Template).where(*conditions)) or 0
    rows = session.scalars(
        sa.select(Template)
        .where(*conditions)
        .order_by(Template.created_at.desc(), Template.id.desc())
        .offset(offset)
        .limit(limit)
        .options(*_LOAD)
    )
    return list(rows), total


def reload_fields(session: Session, t: Template) -> None:
    """Read the template's ``fields`` again, after they were inserted through SQL (relationships load only
    when asked: ``lazy="raise"``)."""
    rows = session.scalars(sa.select(TemplateField).where(with_parent(t, Template.fields)).order_by(TemplateField.id))
    set_committed_value(t, "fields", list(rows))
