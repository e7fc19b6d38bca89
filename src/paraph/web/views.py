"""Shapes the pages show, built from the same services and serializers as the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from paraph.api_app import repository as apps
from paraph.callbacks import repository
from paraph.callbacks import targets as callback_targets
from paraph.callbacks.schemas import serialize_endpoint
from paraph.models import Account, ApiApp

#: Dropbox Sign's supported locales (the account's current one is kept even if it is not listed).
LOCALES = (
    "cs-CZ", "da-DK", "de-DE", "en-GB", "en-US", "es-ES", "es-MX", "fi-FI", "fr-FR", "id-ID", "it-IT", "ja-JP",
    "ko-KR", "ms-MY", "nb-NO", "nl-NL", "pl-PL", "pt-BR", "ru-RU", "sv-SE", "th-TH", "uk-UA", "vi-VN", "zh-CN",
    "zh-TW",
)  # fmt: skip


@dataclass(slots=True)
class EndpointView:
    target: str  # "account" or a client_id: what the Test button sends
    label: str
    url: str | None
    secret: str
    enabled: bool
    disabled_at: int | None
    consecutive_failures: int

    @property
    def status(self) -> str:
        if not self.url:
            return "no_url"
        if not self.enabled:
            return "disabled"
        return "failing" if self.consecutive_failures else "healthy"

    @property
    def sort_key(self) -> tuple[int, int]:
        order = {"disabled": 0, "failing": 1, "healthy": 2, "no_url": 3}
        return (order[self.status], -self.consecutive_failures)


def owned_apps(session: Session, account: Account) -> list[ApiApp]:
    rows, _total = apps.list_owned(session, account, 0, 500)
    return rows


def endpoint_views(session: Session, account: Account) -> list[EndpointView]:
    """The account's callback endpoints, disabled and failing ones first."""
    targets = repository.target_names(session, account)
    names = {a.client_id: a.name for a in owned_apps(session, account)}
    out = []
    for ep in callback_targets.for_account(session, account):
        data: dict[str, Any] = serialize_endpoint(ep, targets.get(ep.id, "account"))
        target = str(data["target"])
        if target == "account":
            label = "Account callback"
        elif target in names:
            label = f"App · {names[target]}"
        else:
            label = "Deleted app"
        out.append(
            EndpointView(
                target=target,
                label=label,
                url=data["url"],
                secret=str(data["secret"]),
                enabled=bool(data["enabled"]),
                disabled_at=data["disabled_at"],
                consecutive_failures=int(data["consecutive_failures"]),
            )
        )
    return sorted(out, key=lambda e: e.sort_key)
