from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from paraph.errors import BadRequest
from paraph.models import ApiApp
from paraph.wire.decode import Nullable, WireObject
from paraph.wire.parse import RequestModel

WHITE_LABELING_DEFAULTS: dict[str, str] = {
    "header_background_color": "#1a1a1a",
    "legal_version": "terms1",
    "link_color": "#0061FE",
    "page_background_color": "#f7f8f9",
    "primary_button_color": "#0061FE",
    "primary_button_color_hover": "#0061FE",
    "primary_button_text_color": "#ffffff",
    "primary_button_text_color_hover": "#ffffff",
    "secondary_button_color": "#ffffff",
    "secondary_button_color_hover": "#ffffff",
    "secondary_button_text_color": "#0061FE",
    "secondary_button_text_color_hover": "#0061FE",
    "text_color1": "#808080",
    "text_color2": "#ffffff",
}
OAUTH_SCOPES = {
    "request_signature",
    "basic_account_info",
    "account_access",
    "signature_request_access",
    "template_access",
    "team_access",
    "api_app_access",
    "",
}


class SubOAuth(BaseModel):
    model_config = ConfigDict(extra="ignore")
    scopes: list[str] = []
    # After scopes, and checked when absent too, so its validator sees them.
    callback_url: str | None = Field(default=None, validate_default=True)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, v: list[str]) -> list[str]:
        for s in v:
            if s not in OAUTH_SCOPES:
                raise ValueError(f"Unknown OAuth scope: {s}")
        return [s for s in v if s]

    @field_validator("callback_url")
    @classmethod
    def _callback_url_with_scopes(cls, v: str | None, info: ValidationInfo) -> str | None:
        # Dropbox Sign's schema: an app that asks for OAuth scopes says where the grant goes back to.
        if not v and info.data.get("scopes"):
            raise ValueError("callback_url is required when scopes are given")
        return v


class SubOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    can_insert_everywhere: bool = False


class SubWhiteLabelingOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    header_background_color: str | None = None
    legal_version: str | None = None
    link_color: str | None = None
    page_background_color: str | None = None
    primary_button_color: str | None = None
    primary_button_color_hover: str | None = None
    primary_button_text_color: str | None = None
    primary_button_text_color_hover: str | None = None
    secondary_button_color: str | None = None
    secondary_button_color_hover: str | None = None
    secondary_button_text_color: str | None = None
    secondary_button_text_color_hover: str | None = None
    text_color1: str | None = None
    text_color2: str | None = None
    reset_to_default: bool = False

    @field_validator("legal_version")
    @classmethod
    def _legal(cls, v: str | None) -> str | None:
        if v is not None and v not in ("terms1", "terms2"):
            raise ValueError("legal_version must be terms1 or terms2")
        return v

    @field_validator(
        "header_background_color",
        "link_color",
        "page_background_color",
        "primary_button_color",
        "primary_button_color_hover",
        "primary_button_text_color",
        "primary_button_text_color_hover",
        "secondary_button_color",
        "secondary_button_color_hover",
        "secondary_button_text_color",
        "secondary_button_text_color_hover",
        "text_color1",
        "text_color2",
    )
    @classmethod
    def _color(cls, v: str | None) -> str | None:
        # Colours end up in the signing page's CSS: only #rgb / #rrggbb get through.
        if v is None:
            return v
        s = v.strip()
        if not (s.startswith("#") and len(s) in (4, 7) and all(c in "0123456789abcdefABCDEF" for c in s[1:])):
            raise ValueError(f"Invalid colour: {v!r} (expected #rrggbb)")
        return s


def _domains(v: list[str]) -> list[str]:
    out = []
    for d in v:
        d = d.strip().lower()
        if not d or len(d) > 253 or any(c in d for c in "/:@ ?#"):
            raise ValueError(f"Invalid domain: {d!r}")
        out.append(d)
    return out


def _legacy_domain(data: Any) -> Any:
    """Pre-rebrand clients send one ``domain``: it is a one-element ``domains``."""
    if not isinstance(data, dict) or data.get("domain") is None:
        return data
    if data.get("domains") is not None:
        raise BadRequest("Send either domain or domains, not both", error_path="domain")
    return {**data, "domains": [data["domain"]]}


class ApiAppCreateRequest(RequestModel):
    """Sub-objects sent as null (JSON, or the text ``null`` in a form: the legacy Python SDK always sends
    ``white_labeling_options=null``) are not given."""

    name: str
    domains: list[str]
    callback_url: str | None = None
    oauth: Nullable[WireObject[SubOAuth]] = None
    options: Nullable[WireObject[SubOptions]] = None
    white_labeling_options: Nullable[WireObject[SubWhiteLabelingOptions]] = None

    _domain = model_validator(mode="before")(_legacy_domain)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("This value should not be blank")
        return v.strip()[:255]

    @field_validator("domains")
    @classmethod
    def _doms(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("At least one domain is required")
        return _domains(v)


class ApiAppUpdateRequest(RequestModel):
    name: str | None = None
    domains: list[str] | None = None
    callback_url: str | None = None
    oauth: Nullable[WireObject[SubOAuth]] = None
    options: Nullable[WireObject[SubOptions]] = None
    white_labeling_options: Nullable[WireObject[SubWhiteLabelingOptions]] = None

    _domain = model_validator(mode="before")(_legacy_domain)

    @field_validator("domains")
    @classmethod
    def _doms(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _domains(v)


def white_labeling(stored: dict[str, Any] | None) -> dict[str, Any]:
    return {**WHITE_LABELING_DEFAULTS, **(stored or {})}


def serialize_api_app(app: ApiApp) -> dict[str, Any]:
    return {
        "callback_url": app.callback_url,
        "client_id": app.client_id,
        "created_at": int(app.created_at.timestamp()),
        "domains": list(app.domains),
        "name": app.name,
        "is_approved": True,
        "oauth": (
            {
                "callback_url": app.oauth.get("callback_url"),
                "scopes": list(app.oauth.get("scopes", [])),
                "secret": app.client_secret,
                "charges_users": False,
            }
            if app.oauth and app.oauth.get("callback_url")
            else None
        ),
        "options": {"can_insert_everywhere": bool((app.options or {}).get("can_insert_everywhere", False))},
        "owner_account": {"account_id": app.owner.account_id, "email_address": app.owner.email_address},
        "white_labeling_options": white_labeling(app.white_labeling_options),
    }
