"""Checking a caught callback the way a receiver should: ``event_hash`` with the API key, and the Standard
Webhooks signature with the endpoint secret. Verification is recomputation and a constant-time comparison."""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from paraph.callbacks.webhook_signature import event_hash, standard_webhook_headers

CLOCK_SKEW_SECONDS = 300

Status = Literal["verified", "failed", "absent"]


@dataclass(frozen=True, slots=True)
class Check:
    status: Status
    detail: str


def parse_event(json_text: str | None) -> dict[str, Any] | None:
    """The ``json`` field as an object, or None when it is missing or not a JSON object."""
    if not json_text:
        return None
    try:
        value = json.loads(json_text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def check_event_hash(payload: dict[str, Any] | None, api_key: str | None, key_label: str) -> Check:
    event = payload.get("event") if payload else None
    if not isinstance(event, dict) or "event_hash" not in event:
        return Check("absent", "No event.event_hash in the json field.")
    if api_key is None:
        return Check("failed", "Your account has no active API key to check it with.")
    expected = event_hash(api_key, str(event.get("event_time", "")), str(event.get("event_type", "")))
    if hmac.compare_digest(expected.encode(), str(event["event_hash"]).encode()):
        return Check("verified", f"Matches HMAC-SHA256(event_time + event_type) keyed with {key_label}.")
    return Check("failed", f"Does not match the hash computed with {key_label}.")


def header(headers: Sequence[Sequence[str]], name: str) -> str | None:
    for pair in headers:
        if len(pair) == 2 and pair[0].lower() == name:
            return pair[1]
    return None


def check_standard_webhook(
    headers: Sequence[Sequence[str]],
    body: bytes,
    *,
    truncated: bool,
    secrets: Sequence[tuple[str, str]],
    received_at: dt.datetime,
) -> Check:
    """``secrets`` are (label, whsec_ secret) pairs; the first whose signature matches is named."""
    msg_id = header(headers, "webhook-id")
    stamp = header(headers, "webhook-timestamp")
    signatures = header(headers, "webhook-signature")
    if not (msg_id and stamp and signatures):
        return Check("absent", "No webhook-id, webhook-timestamp and webhook-signature headers.")
    if truncated:
        return Check("failed", "The body was larger than the inspector keeps, so it cannot be checked.")
    try:
        timestamp = int(stamp)
    except ValueError:
        return Check("failed", "webhook-timestamp is not a number of seconds.")
    skew = abs(received_at.timestamp() - timestamp)
    if skew > CLOCK_SKEW_SECONDS:
        return Check("failed", f"webhook-timestamp is {int(skew)} s away from the time it arrived (over 5 minutes).")
    presented = signatures.split()
    for label, secret in secrets:
        try:
            expected = standard_webhook_headers(secret, msg_id, timestamp, body)["webhook-signature"]
        except ValueError:
            continue
        if any(hmac.compare_digest(expected.encode(), p.encode()) for p in presented):
            return Check("verified", f"Signed with the secret of the {label} endpoint.")
    if not secrets:
        return Check("failed", "Your account has no callback endpoint secret to check it with.")
    return Check("failed", "No endpoint secret of your account produces this signature.")
