"""Who may open the editor: claim and edit URL tokens, the embedding page's domain, the dashboard session.

A token is stored as a keyed digest (``EditorToken.lookup``); it opens the editor until it is used (the
draft sent, the template saved: :func:`consume`) or ``expires_at`` passes (``PARAPH_EDIT_URL_TTL_MINUTES``).
Viewing does not use it (a reload works). Embedded, the parent page must be on one of the API app's domains
(the same rule as the signing page: :func:`paraph.signing.access.host_allowed`), unless the draft or template
is in test mode and the library asked to skip verification.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from paraph.db import utcnow
from paraph.editor import repository
from paraph.models import ApiApp, EditorToken, Template, UnclaimedDraft
from paraph.scope import Scope
from paraph.signing.access import host_allowed


class Problem(StrEnum):
    INVALID = "invalid"
    USED = "used"
    EXPIRED = "expired"
    OTHER_APP = "other_app"
    DOMAIN = "domain"
    NOT_READY = "not_ready"
    FAILED = "failed"
    FORM = "form"
    READ_ONLY = "read_only"
    SIGN_IN = "signin"


#: The HTTP status of each problem.
STATUS = {
    Problem.INVALID: 404,
    Problem.USED: 410,
    Problem.EXPIRED: 410,
    Problem.OTHER_APP: 403,
    Problem.DOMAIN: 403,
    Problem.NOT_READY: 409,
    Problem.FAILED: 400,
    Problem.FORM: 400,
    Problem.READ_ONLY: 403,
    Problem.SIGN_IN: 401,
}

MESSAGES = {
    Problem.INVALID: "This editor link is not valid.",
    Problem.USED: "This editor link has already been used; ask for a new one.",
    Problem.EXPIRED: "This editor link has expired; ask for a new one.",
}


class EditorProblem(Exception):
    """Why the editor does not open or refuses a submit; ``errors`` maps an editor field's index (or
    ``signers[i]``, ``groups[i]``) to the message shown beside it."""

    def __init__(self, problem: Problem, message: str | None = None, errors: dict[str, str] | None = None) -> None:
        self.problem = problem
        self.message = message or MESSAGES.get(problem, "This editor link cannot be used.")
        self.errors = errors or {}
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class Issued:
    token: str
    expires_at: int


def issue(
    scope: Scope,
    *,
    draft: UnclaimedDraft | None = None,
    template: Template | None = None,
    options: dict[str, Any] | None = None,
) -> Issued:
    token = secrets.token_hex(16)
    expires = utcnow() + dt.timedelta(minutes=scope.settings.edit_url_ttl_minutes)
    row = EditorToken(
        lookup=scope.keys.lookup(token),
        draft_id=draft.id if draft is not None else None,
        template_id=template.id if template is not None else None,
        options=options or {},
        expires_at=expires,
    )
    scope.session.add(row)
    return Issued(token, int(expires.timestamp()))


def check(
    scope: Scope, token: str, *, draft: UnclaimedDraft | None = None, template: Template | None = None
) -> EditorToken:
    """The live token of this draft or template, or :class:`EditorProblem` (the one check, for the page, its
    images and the submit)."""
    row = None
    if token and (draft is not None or template is not None):
        row = repository.token_by_lookup(scope.session, scope.keys.lookup(token))
    if row is None:
        raise EditorProblem(Problem.INVALID)
    if draft is not None and row.draft_id != draft.id:
        raise EditorProblem(Problem.INVALID)
    if template is not None and row.template_id != template.id:
        raise EditorProblem(Problem.INVALID)
    if row.used_at is not None:
        raise EditorProblem(Problem.USED)
    if row.expires_at <= utcnow():
        raise EditorProblem(Problem.EXPIRED)
    return row


def consume(row: EditorToken) -> None:
    row.used_at = utcnow()


def check_embedding(
    app: ApiApp | None, test_mode: bool, client_id: str | None, parent_host: str | None, skip: bool
) -> list[str] | None:
    """The embedding page is allowed: the right app, one of its domains (unless test mode and skipped).
    Returns the domains for the CSP ``frame-ancestors`` (None: any)."""
    if app is None or not client_id or not secrets.compare_digest(client_id, app.client_id):
        raise EditorProblem(
            Problem.OTHER_APP, "This editor link belongs to another API app (client_id does not match)."
        )
    if test_mode and skip:
        return None
    domains = list(app.domains or [])
    if parent_host is None or not host_allowed(parent_host, domains):
        where = parent_host or "an unknown page"
        raise EditorProblem(
            Problem.DOMAIN, f"This editor cannot be shown on {where}: it is not one of the API app's domains."
        )
    return domains
