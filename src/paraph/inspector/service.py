"""Who may post to an inspector name, who may read it, creating and deleting names, and storing a capture
within the caps.

The mode is ``PARAPH_INSPECTOR`` (:attr:`paraph.config.Settings.inspector_mode`): ``open`` catches at any name,
``account`` only at names an account created (in the dashboard or with ``POST /paraph/v1/inspectors``),
``off`` at none. A created name is its account's in every mode: no other account reads what it caught. An
uncreated name, in ``open`` mode, is a shared mailbox: any signed-in account that knows it reads it.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paraph.config import Settings
from paraph.db import utcnow
from paraph.errors import BadRequest, Conflict, NotFound
from paraph.inspector import repository
from paraph.models import Account, InspectedRequest, InspectorName

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NAME_RULE = "Inspector names are 1 to 64 letters, digits, _ or -."
MAX_NAMES_PER_ACCOUNT = 50
KEEP_PER_NAME = 200
KEEP_TOTAL = 10_000


def valid_name(name: str) -> bool:
    return bool(NAME.match(name))


def may_catch(session: Session, settings: Settings, name: str) -> bool:
    mode = settings.inspector_mode
    if mode == "off" or not valid_name(name):
        return False
    return mode == "open" or repository.by_name(session, name) is not None


def may_view(session: Session, settings: Settings, account: Account, name: str) -> bool:
    """Whether ``account`` may read ``name``'s captures: its own names always, an uncreated one in open mode."""
    if settings.inspector_mode == "off" or not valid_name(name):
        return False
    row = repository.by_name(session, name)
    if row is not None:
        return row.account_id == account.id
    return settings.inspector_mode == "open"


def owned(session: Session, account: Account, name: str) -> bool:
    row = repository.by_name(session, name) if valid_name(name) else None
    return row is not None and row.account_id == account.id


def names(session: Session, account: Account) -> list[InspectorName]:
    return repository.names_of(session, account)


def create_name(session: Session, account: Account, name: str) -> InspectorName:
    """Create ``name`` for ``account``. What an uncreated name caught before (open mode: from anyone) is
    dropped, so the new owner reads only what arrives from now on."""
    if not valid_name(name):
        raise BadRequest(NAME_RULE, error_path="name")
    existing = repository.by_name(session, name)
    if existing is not None:
        if existing.account_id == account.id:
            return existing
        raise Conflict("That inspector name is taken; pick another.", error_path="name")
    if repository.count_names(session, account) >= MAX_NAMES_PER_ACCOUNT:
        raise BadRequest(f"An account has at most {MAX_NAMES_PER_ACCOUNT} inspector names; delete one first.")
    repository.delete_captures(session, name)
    row = InspectorName(name=name, account_id=account.id, created_at=utcnow())
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # created at the same moment by another request
        raise Conflict("That inspector name is taken; pick another.", error_path="name") from None
    return row


def delete_name(session: Session, account: Account, name: str) -> None:
    """Delete ``account``'s name and everything it caught."""
    row = repository.by_name(session, name) if valid_name(name) else None
    if row is None or row.account_id != account.id:
        raise NotFound("No inspector of yours has that name.")
    repository.delete_captures(session, name)
    session.delete(row)


def store(session: Session, settings: Settings, row: InspectedRequest) -> bool:
    """Keep ``row`` if its name may catch (checked again in this transaction), within the caps."""
    if not may_catch(session, settings, row.name):
        return False
    repository.add_capture(
        session,
        row,
        keep_per_name=KEEP_PER_NAME,
        name_max_bytes=settings.inspector_name_max_bytes,
        keep_total=KEEP_TOTAL,
        max_bytes=settings.inspector_max_bytes,
    )
    return True


def captures(session: Session, name: str, limit: int) -> list[InspectedRequest]:
    return repository.captures(session, name, limit)
