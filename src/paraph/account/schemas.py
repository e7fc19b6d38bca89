from __future__ import annotations

from typing import Any

from pydantic import field_validator

from paraph.models import Account
from paraph.wire.parse import RequestModel
from paraph.wire.validators import check_email

#: Locales are short tags (en-US, zh-CN); the column holds 16 characters.
MAX_LOCALE_LENGTH = 16


def _check_locale(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_LOCALE_LENGTH:
        raise ValueError(f"must be at most {MAX_LOCALE_LENGTH} characters")
    return value


class AccountUpdateRequest(RequestModel):
    account_id: str | None = None
    callback_url: str | None = None
    locale: str | None = None

    _locale = field_validator("locale")(_check_locale)


class AccountCreateRequest(RequestModel):
    email_address: str
    client_id: str | None = None
    client_secret: str | None = None
    locale: str | None = None

    _email = field_validator("email_address")(check_email)
    _locale = field_validator("locale")(_check_locale)


class AccountVerifyRequest(RequestModel):
    email_address: str

    _email = field_validator("email_address")(check_email)


def serialize_account(account: Account) -> dict[str, Any]:
    """The API's AccountResponse; callbacks reuse it for ``account`` objects."""
    return {
        "account_id": account.account_id,
        "email_address": account.email_address,
        "is_locked": False,
        "is_paid_hs": True,
        "is_paid_hf": False,
        "quotas": {
            "api_signature_requests_left": None,
            "documents_left": None,
            "templates_total": None,
            "templates_left": None,
            "sms_verifications_left": 0,
            "num_fax_pages_left": 0,
        },
        "callback_url": account.callback_url,
        "role_code": None,
        "team_id": None,
        "locale": account.locale,
        "usage": {"fax_pages_sent": 0},
        "settings": {"signer_access_codes": False, "sms_delivery": False, "sms_authentication": False},
    }
