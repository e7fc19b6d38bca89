"""Simulated signers: what a test drives instead of a person on the signing page (test-mode requests only).

Every action goes through the signing page's own services (:mod:`paraph.signing.access` to open it,
:mod:`paraph.signing.service` to sign, decline or reassign) with a credential made here the way the page
gets one: a mailed request's link token, or an embedded request's sign URL token. So the validation, the
signing order, the rules, the events, the audit trail, the final PDF and its seal are the page's. On top,
each action records ``api:signature_request:simulated`` (shown on the audit trail) and the signer's own
events carry :data:`SIMULATED_AGENT` as their user agent.

Only the owner's API key reaches a request (another account's is a 404) and only a ``test_mode`` one (a 409).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any

from paraph import audit
from paraph.audit import AuditTag
from paraph.db import utcnow
from paraph.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from paraph.models import Account, RequestField, SignatureRequest, Signer, SignUrlToken
from paraph.pdf.signature_image import render_typed_signature
from paraph.scope import Scope
from paraph.signature_request import repository as requests
from paraph.signature_request.state import api_error_for
from paraph.signature_request.tasks import expire_one
from paraph.signing import access as signing_access
from paraph.signing import repository as signing_repository
from paraph.signing import rules
from paraph.signing import service as signing
from paraph.signing.access import Reason, SigningProblem
from paraph.signing.images import prepare_all
from paraph.signing.schemas import Adoption, SubmitBody

SIMULATED_AGENT = "Paraph simulated signer (test mode API)"

#: A value each validation type accepts, for a required text field given no value.
VALID_SAMPLES = {
    "numbers_only": "1",
    "letters_only": "x",
    "phone_number": "+1 415 555 0100",
    "bank_routing_number": "011000015",
    "bank_account_number": "12345678",
    "email_address": "signer@example.com",
    "zip_code": "12345",
    "social_security_number": "123-45-6789",
    "employer_identification_number": "12-3456789",
}


# -- finding the signer ----------------------------------------------------------------------------------


def _test_request(scope: Scope, account: Account, signature_request_id: str) -> SignatureRequest:
    sr = requests.owned(scope.session, account, signature_request_id, lock=True)
    if sr is None or sr.removed_at is not None:
        raise NotFound("Not found.")
    if not sr.test_mode:
        raise Conflict("Only test-mode signature requests (test_mode=1) can be driven by the simulation API.")
    return sr


def _test_signer(scope: Scope, account: Account, signature_id: str) -> tuple[Signer, SignatureRequest]:
    signer = requests.signer_owned(scope.session, account, signature_id)
    if signer is None:
        raise NotFound("Not found.")
    sr = _test_request(scope, account, requests.of_signer(scope.session, signer).signature_request_id)
    mine = next((s for s in sr.signers if s.signature_id == signature_id), None)
    if mine is None:
        raise NotFound("Not found.")
    return mine, sr


def _credential(scope: Scope, signer: Signer, sr: SignatureRequest) -> str:
    """The token the signing page would hold: the mailed link's, or a fresh sign URL's (embedded)."""
    if not sr.is_embedded:
        return signing_access.mail_token(scope.keys, signer.signature_id)
    token = secrets.token_hex(16)
    expires = utcnow() + dt.timedelta(minutes=scope.settings.sign_url_ttl_minutes)
    scope.session.add(SignUrlToken(signer_id=signer.id, lookup=scope.keys.lookup(token), expires_at=expires))
    scope.session.flush()
    return token


def _pin_pass(scope: Scope, signer: Signer, token: str, pin: str | None, *, ip: str | None) -> str | None:
    """A signer with an access code: the simulated signer enters ``pin`` on the PIN step as a person would
    (recorded as a try, with the IP), and the pass it earns goes with the action, which the signing page's
    services refuse without one. None for a signer without a code. A wrong or missing ``pin`` is refused
    (403 / 400) and, since nothing of the call is kept, not counted against the signer."""
    if signer.pin_hash is None:
        return None
    if not pin:
        raise BadRequest("This signer has an access code (signers[].pin): give it as pin.", error_path="pin")
    try:
        outcome = signing.check_pin(scope, signer.signature_id, token, pin, ip=ip, ua=SIMULATED_AGENT)
    except SigningProblem as p:
        raise _as_api_error(p) from None
    if outcome.pin_pass is None:
        raise Forbidden("The access code (pin) is not this signer's.")
    return outcome.pin_pass


def _as_api_error(p: SigningProblem, *, path_prefix: str = "fields") -> ApiError:
    """A signing page problem in the API's envelope: what the signer sent (400, naming the first field), a
    request that allows no decline or reassignment (403), and anything about where the request or the
    signer stands -- already signed, not their turn, canceled, expired... (409)."""
    if p.reason in (Reason.FORM, Reason.TOO_LARGE):
        detail = "; ".join(f"{k}: {v}" for k, v in sorted(p.errors.items()))
        first = next(iter(sorted(p.errors)), None)
        path = None if first is None else f"{path_prefix}[{first}]" if path_prefix else first
        return BadRequest(f"{p.message} {detail}".strip(), error_path=path)
    if p.reason == Reason.NOT_ALLOWED:
        return Forbidden(p.message)
    return Conflict(p.message)


def _simulated(
    scope: Scope, sr: SignatureRequest, signer_id: str | None, actor: str, action: str, ip: str | None
) -> None:
    audit.record(
        scope.session,
        AuditTag.API_SIGNATURE_REQUEST_SIMULATED,
        account_id=sr.account_id,
        signature_request_id=sr.signature_request_id,
        signature_id=signer_id,
        actor_email=actor,
        ip_address=ip,
        user_agent=SIMULATED_AGENT,
        data={"action": action},
    )


# -- signing -----------------------------------------------------------------------------------------------


def _sample_text(spec: dict[str, Any], signer: Signer) -> str:
    kind = spec.get("validation_type")
    if kind == "email_address":
        return signer.email_address
    return VALID_SAMPLES.get(str(kind), "x")


def sign(
    scope: Scope,
    account: Account,
    signature_id: str,
    fields: dict[str, Any],
    signature_text: str | None,
    *,
    pin: str | None = None,
    ip: str | None,
) -> SignatureRequest:
    signer, sr = _test_signer(scope, account, signature_id)
    values, kinds = _submission(scope, sr, signer, fields)
    text = " ".join((signature_text or signer.name or signer.email_address).split())[:200]
    body = SubmitBody(
        values=values,
        signature=_adoption(sr, text) if "signature" in kinds else None,
        initials=_adoption(sr, _initials(text)) if "initials" in kinds else None,
    )
    try:
        images = prepare_all(body)
    except ValueError as exc:
        raise BadRequest(str(exc), error_path="signature_text") from None
    token = _credential(scope, signer, sr)
    passed = _pin_pass(scope, signer, token, pin, ip=ip)
    try:
        done = signing.submit(scope, signature_id, token, body, images, pin=passed, ip=ip, ua=SIMULATED_AGENT)
    except SigningProblem as p:
        raise _as_api_error(p) from None
    _simulated(scope, done, signature_id, signer.email_address, "sign", ip)
    return done


def _initials(text: str) -> str:
    return "".join(part[0] for part in text.split() if part)[:8].upper() or "X"


def _adoption(sr: SignatureRequest, text: str) -> Adoption:
    """A typed signature; where the request does not allow typing, the same rendering as an upload."""
    methods = signing.allowed_methods(sr)
    if "type" in methods:
        return Adoption(method="type", text=text)
    image = "data:image/png;base64," + base64.b64encode(render_typed_signature(text)).decode()
    return Adoption(method="upload" if "upload" in methods else "draw", image=image)


def _submission(
    scope: Scope, sr: SignatureRequest, signer: Signer, given: dict[str, Any]
) -> tuple[dict[str, Any], set[str]]:
    """What the simulated signer submits: ``given`` for the fields it names; for every other field of this
    signer what the page would show filled (a prefilled value, a default option, a box checked by default),
    and for a required one still empty a sensible value: a typed signature, "x" (or a sample its validation
    takes), the first option, a checked box, and enough boxes of a group to meet its requirement. Also the
    image kinds (signature, initials) it adopts."""
    mine = signing.signer_fields(signing_repository.fields_of(scope.session, sr), signer)
    unknown = sorted(set(given) - {f.api_id for f in mine})
    if unknown:
        raise BadRequest(f"Not a field of this signer: {', '.join(unknown)}", error_path=f"fields[{unknown[0]}]")
    values: dict[str, Any] = {}
    kinds: set[str] = set()
    groups: dict[str, list[RequestField]] = {}
    for f in mine:
        spec, required = f.spec, bool(f.spec.get("required"))
        if f.type in rules.BOOLEAN_TYPES and spec.get("group"):
            groups.setdefault(str(spec["group"]), []).append(f)
        if f.api_id in given:
            values[f.api_id] = given[f.api_id]
            if f.type in rules.IMAGE_TYPES and given[f.api_id]:
                kinds.add(f.type)
            continue
        prefilled = f.value if f.value is not None else spec.get("content")
        if f.type in rules.IMAGE_TYPES:
            if required:
                values[f.api_id] = True
                kinds.add(f.type)
        elif f.type in rules.TEXT_TYPES:
            if prefilled not in (None, ""):
                values[f.api_id] = prefilled
            elif required:
                values[f.api_id] = _sample_text(spec, signer)
        elif f.type == "dropdown":
            options = [str(o) for o in spec.get("options") or []]
            if prefilled in options:
                values[f.api_id] = prefilled
            elif required and options:
                values[f.api_id] = options[0]
        elif f.type in rules.BOOLEAN_TYPES:
            checked = f.value if isinstance(f.value, bool) else bool(spec.get("is_checked"))
            values[f.api_id] = checked or (required and not spec.get("group"))
    requirements = {str(g.get("group_id")): str(g.get("requirement")) for g in sr.form_field_groups or []}
    for group_id, members in groups.items():
        if any(m.api_id in given for m in members):
            continue
        default = "require_0-1" if members[0].type == "radio" else "require_0-ormore"
        low, _high = rules.group_bounds(requirements.get(group_id, default))
        on = sum(1 for m in members if values.get(m.api_id))
        for m in members:
            if on >= low:
                break
            if not values.get(m.api_id):
                values[m.api_id] = True
                on += 1
    return values, kinds


def decline(
    scope: Scope, account: Account, signature_id: str, reason: str, *, pin: str | None = None, ip: str | None
) -> SignatureRequest:
    signer, sr = _test_signer(scope, account, signature_id)
    token = _credential(scope, signer, sr)
    passed = _pin_pass(scope, signer, token, pin, ip=ip)
    try:
        done = signing.decline(
            scope, signature_id, token, reason or "Declined (simulated)", pin=passed, ip=ip, ua=SIMULATED_AGENT
        )
    except SigningProblem as p:
        raise _as_api_error(p) from None
    _simulated(scope, done, signature_id, signer.email_address, "decline", ip)
    return done


def view(
    scope: Scope, account: Account, signature_id: str, *, pin: str | None = None, ip: str | None
) -> SignatureRequest:
    """Open the signing page as the signer would (``signature_request_viewed`` the first time; for a signer
    with an access code, once past the PIN step)."""
    signer, sr = _test_signer(scope, account, signature_id)
    token = _credential(scope, signer, sr)
    passed = _pin_pass(scope, signer, token, pin, ip=ip)
    try:
        if sr.is_embedded:
            client_id = sr.api_app.client_id if sr.api_app is not None else None
            opened = signing_access.open_embedded(
                scope,
                signature_id,
                token,
                client_id,
                parent_host=None,
                skip_verification=True,
                pin=passed,
                ip=ip,
                ua=SIMULATED_AGENT,
            )
        else:
            opened = signing_access.open_mailed(scope, signature_id, token, pin=passed, ip=ip, ua=SIMULATED_AGENT)
    except SigningProblem as p:
        raise _as_api_error(p) from None
    _simulated(scope, opened.sr, signature_id, signer.email_address, "view", ip)
    return opened.sr


def reassign(
    scope: Scope,
    account: Account,
    signature_id: str,
    name: str,
    email_address: str,
    reason: str,
    *,
    pin: str | None = None,
    ip: str | None,
) -> SignatureRequest:
    signer, sr = _test_signer(scope, account, signature_id)
    old_email = signer.email_address
    token = _credential(scope, signer, sr)
    passed = _pin_pass(scope, signer, token, pin, ip=ip)
    try:
        signing.reassign(scope, signature_id, token, name, email_address, reason, pin=passed, ip=ip, ua=SIMULATED_AGENT)
    except SigningProblem as p:
        raise _as_api_error(p, path_prefix="") from None
    _simulated(scope, sr, signature_id, old_email, "reassign", ip)
    return sr


def expire(scope: Scope, account: Account, signature_request_id: str, *, ip: str | None) -> SignatureRequest:
    """Expire the request now, as the expiry sweep does when ``expires_at`` passes."""
    sr = _test_request(scope, account, signature_request_id)
    problem = api_error_for(sr)
    if problem is not None:
        raise Conflict(f"This signature request cannot expire: {problem.error_msg}")
    sr.expires_at = utcnow()
    expire_one(scope, sr)
    _simulated(scope, sr, None, account.email_address, "expire", ip)
    return sr
