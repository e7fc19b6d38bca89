"""API apps: name, domains, callback URL, white labeling; client_id and client_secret generated."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from paraph import audit
from paraph.api_app import repository
from paraph.api_app.schemas import ApiAppCreateRequest, ApiAppUpdateRequest, SubOAuth
from paraph.audit import AuditTag
from paraph.callbacks import targets as callback_targets
from paraph.db import utcnow
from paraph.errors import NotFound
from paraph.models import Account, ApiApp
from paraph.security import new_hex_id


def create(session: Session, account: Account, req: ApiAppCreateRequest) -> ApiApp:
    wl = req.white_labeling_options
    app = ApiApp(
        client_id=new_hex_id(16),
        account_id=account.id,
        name=req.name,
        domains=req.domains,
        client_secret=new_hex_id(16),
        oauth=_oauth(req.oauth),
        options=req.options.model_dump() if req.options else None,
        white_labeling_options=(
            wl.model_dump(exclude_none=True, exclude={"reset_to_default"}) if wl and not wl.reset_to_default else None
        ),
    )
    app.owner = account
    session.add(app)
    session.flush()
    if req.callback_url:
        callback_targets.url_saved(session, account, app, req.callback_url)
    audit.record(session, AuditTag.API_API_APP_CREATED, account_id=account.id, data={"client_id": app.client_id})
    return app


def get(session: Session, account: Account, client_id: str) -> ApiApp:
    app = repository.get_owned(session, account, client_id)
    if app is None:
        raise NotFound("Not found.")
    return app


def update(session: Session, account: Account, client_id: str, req: ApiAppUpdateRequest) -> ApiApp:
    app = get(session, account, client_id)
    fields = req.model_fields_set
    if req.name is not None and req.name.strip():
        app.name = req.name.strip()[:255]
    if req.domains is not None:
        app.domains = req.domains
    if req.oauth is not None:
        app.oauth = _oauth(req.oauth)
    if req.options is not None:
        app.options = req.options.model_dump()
    wl = req.white_labeling_options
    if wl is not None:
        if wl.reset_to_default:
            app.white_labeling_options = None
        else:
            merged = dict(app.white_labeling_options or {})
            merged.update(wl.model_dump(exclude_none=True, exclude={"reset_to_default"}))
            app.white_labeling_options = merged
    if "callback_url" in fields:
        callback_targets.url_saved(session, account, app, req.callback_url or None)
    audit.record(session, AuditTag.API_API_APP_UPDATED, account_id=account.id, data={"client_id": app.client_id})
    return app


def delete(session: Session, account: Account, client_id: str) -> None:
    app = get(session, account, client_id)
    app.deleted_at = utcnow()
    audit.record(session, AuditTag.API_API_APP_DELETED, account_id=account.id, data={"client_id": app.client_id})


def _oauth(oauth: SubOAuth | None) -> dict[str, Any] | None:
    """OAuth is configured by its callback URL: an ``oauth`` object without one (scopes need one, so it has none
    either) leaves the app without OAuth, and the response says ``null`` rather than a ``callback_url`` of null,
    which Dropbox Sign's schema does not allow."""
    return oauth.model_dump() if oauth is not None and oauth.callback_url else None
