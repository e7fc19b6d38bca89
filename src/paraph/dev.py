"""``paraph dev``: what a developer or a CI job needs to test an integration, made once per data dir.

An account (``dev@paraph.local``, a generated dashboard password), its primary API key, an API app whose
domains are ``localhost`` and ``127.0.0.1``, and an inspector name (``dev``) that is the account's callback
URL from the start. Running it again on the same data dir finds the same account, key and app: the
password and the app's client_id are kept in ``DATA_DIR/dev.json`` (readable by its owner only), the key is
the account's primary key (stored encrypted, decrypted here).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from paraph.account import repository as accounts
from paraph.account.keys import add_api_key
from paraph.account.service import create_account, set_password
from paraph.api_app import repository as api_apps
from paraph.api_app import service as api_app_service
from paraph.api_app.schemas import ApiAppCreateRequest
from paraph.callbacks import targets as callback_targets
from paraph.config import Settings
from paraph.errors import ApiError
from paraph.inspector import service as inspectors
from paraph.inspector.schemas import inspect_url
from paraph.security import KeyBox, verify_password

DEV_EMAIL = "dev@paraph.local"
DEV_APP_NAME = "Paraph dev"
DEV_DOMAINS = ["localhost", "127.0.0.1"]
DEV_INSPECTOR = "dev"
STATE_FILE = "dev.json"


@dataclass(frozen=True, slots=True)
class DevSetup:
    """What ``paraph dev --json`` prints: exactly these keys."""

    base_url: str
    api_key: str
    client_id: str
    inspector_url: str
    dashboard_url: str
    email: str
    password: str

    def as_json(self) -> str:
        return json.dumps(asdict(self), separators=(", ", ": "))


def _state_path(settings: Settings) -> Path:
    return settings.data_dir.resolve() / STATE_FILE


def _load_state(settings: Settings) -> dict[str, Any]:
    try:
        value = json.loads(_state_path(settings).read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _save_state(settings: Settings, state: dict[str, Any]) -> None:
    path = _state_path(settings)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state, f)
    tmp.replace(path)


def ensure(session: Session, keys: KeyBox, settings: Settings) -> DevSetup:
    """Find or create the dev account, key, app and inspector name (in the caller's unit of work), and
    remember the password and client_id in the data dir."""
    state = _load_state(settings)
    password = state.get("password")
    if not isinstance(password, str) or not password:
        password = secrets.token_urlsafe(12)
    account = accounts.by_email(session, DEV_EMAIL)
    inspector = inspect_url(settings.base_url, DEV_INSPECTOR)
    if account is None:
        created = create_account(session, keys, DEV_EMAIL, password=password)
        account, api_key = created.account, created.api_key
        inspectors.create_name(session, account, DEV_INSPECTOR)
        callback_targets.url_saved(session, account, None, inspector)
    else:
        if account.password_hash is None or not verify_password(account.password_hash, password):
            set_password(session, account, password, source="cli")
        key_row = accounts.primary_key(session, account)
        if key_row is None:
            api_key = add_api_key(session, keys, account, name="Default", primary=True)
        else:
            api_key = keys.decrypt(key_row.encrypted_key)
        if inspectors.valid_name(DEV_INSPECTOR) and not inspectors.owned(session, account, DEV_INSPECTOR):
            with contextlib.suppress(ApiError):  # taken by another account of this database
                inspectors.create_name(session, account, DEV_INSPECTOR)
    client_id = state.get("client_id")
    app = api_apps.get_owned(session, account, client_id) if isinstance(client_id, str) and client_id else None
    if app is None:
        app = api_app_service.create(session, account, ApiAppCreateRequest(name=DEV_APP_NAME, domains=DEV_DOMAINS))
    _save_state(settings, {"email": DEV_EMAIL, "password": password, "client_id": app.client_id})
    return DevSetup(
        base_url=settings.base_url,
        api_key=api_key,
        client_id=app.client_id,
        inspector_url=inspector,
        dashboard_url=f"{settings.base_url}/dashboard",
        email=DEV_EMAIL,
        password=password,
    )
