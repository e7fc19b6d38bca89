"""Signing in to the dashboard: the password check, the session row and the audit trail.

The cookie, CSRF tokens and the failed-login throttle are the web's (:mod:`paraph.web.sessions`); this module
decides who gets a session.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from paraph import audit
from paraph.account import repository as accounts
from paraph.audit import AuditTag
from paraph.db import utcnow
from paraph.models import DashboardSession
from paraph.security import verify_password


def sign_in(
    session: Session,
    email: str,
    password: str,
    *,
    lookup: str,
    replaces: str | None,
    lifetime: dt.timedelta,
    ip: str | None,
    user_agent: str | None,
) -> bool:
    """A new session row ``lookup`` when ``email`` and ``password`` match an account (True); a refusal on the
    audit trail otherwise (False). ``replaces``: the lookup of the session the browser had, deleted (a new
    session on every sign-in: no fixation of an older cookie)."""
    account = accounts.by_email(session, email) if email else None
    if not verify_password(account.password_hash if account else None, password) or account is None:
        audit.record(session, AuditTag.WEB_SESSION_REFUSED, actor_email=email, ip_address=ip, user_agent=user_agent)
        return False
    now = utcnow()
    accounts.delete_expired_sessions(session, now)
    if replaces is not None:
        accounts.delete_session(session, replaces)
    session.add(
        DashboardSession(
            lookup=lookup,
            account_id=account.id,
            created_at=now,
            expires_at=now + lifetime,
            ip_address=ip,
            user_agent=user_agent,
        )
    )
    audit.record(
        session,
        AuditTag.WEB_SESSION_CREATED,
        account_id=account.id,
        actor_email=email,
        ip_address=ip,
        user_agent=user_agent,
    )
    return True


def sign_out(session: Session, lookup: str) -> None:
    accounts.delete_session(session, lookup)
