"""What a signer may submit: validation types, required fields and groups, conditional visibility.

Pure functions over field specs (``documents.model.Field`` as stored dicts). The signing page runs the same
rules in the browser (``static/sign.js``) for instant feedback; this module decides. The validation
patterns are written once here and handed to the page, so both sides agree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from paraph import sender_regex
from paraph.i18n import N_

MAX_TEXT_LENGTH = 4000
MAX_REGEX_INPUT = sender_regex.MAX_VALUE_LENGTH
#: Field types a signer fills in. Others (hyperlink, sender's merge fields) are shown, never submitted.
SIGNER_TYPES = frozenset(
    {"signature", "initials", "text", "checkbox", "radio", "dropdown", "date_signed", "text-merge", "checkbox-merge"}
)
IMAGE_TYPES = frozenset({"signature", "initials"})
BOOLEAN_TYPES = frozenset({"checkbox", "radio", "checkbox-merge"})
TEXT_TYPES = frozenset({"text", "text-merge"})

DATE_FORMATS = {
    "MM / DD / YYYY": "%m / %d / %Y",
    "MM - DD - YYYY": "%m - %d - %Y",
    "DD / MM / YYYY": "%d / %m / %Y",
    "DD - MM - YYYY": "%d - %m - %Y",
    "YYYY / MM / DD": "%Y / %m / %d",
    "YYYY - MM - DD": "%Y - %m - %d",
}
DEFAULT_DATE_FORMAT = "MM / DD / YYYY"


@dataclass(frozen=True, slots=True)
class Validation:
    """A validation type: a pattern the whole value must match (Python and JavaScript spellings), an extra
    check where a pattern is not enough, and what to tell the signer."""

    python: str
    js: str
    message: str
    extra: str | None = None  # "aba" (routing number checksum) | "phone" (at least 7 digits)
    js_flags: str = ""


VALIDATIONS: dict[str, Validation] = {
    "numbers_only": Validation(r"[0-9]+(?:[.,][0-9]+)?", r"[0-9]+(?:[.,][0-9]+)?", N_("Enter numbers only.")),
    "letters_only": Validation(
        r"[^\W\d_]+(?:[ '\-][^\W\d_]+)*", r"\p{L}+(?:[ '\-]\p{L}+)*", N_("Enter letters only."), js_flags="u"
    ),
    "phone_number": Validation(
        r"\+?[0-9 ().\-]{7,24}", r"\+?[0-9 ().\-]{7,24}", N_("Enter a phone number, such as +1 415 555 0100."), "phone"
    ),
    "bank_routing_number": Validation(r"[0-9]{9}", r"[0-9]{9}", N_("Enter a 9-digit bank routing number."), "aba"),
    "bank_account_number": Validation(
        r"[0-9]{4,17}", r"[0-9]{4,17}", N_("Enter a bank account number (4 to 17 digits).")
    ),
    "email_address": Validation(
        r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+", r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+", N_("Enter an email address.")
    ),
    "zip_code": Validation(
        r"[0-9]{5}(?:-[0-9]{4})?", r"[0-9]{5}(?:-[0-9]{4})?", N_("Enter a ZIP code: 12345 or 12345-6789.")
    ),
    "social_security_number": Validation(
        r"[0-9]{3}-?[0-9]{2}-?[0-9]{4}",
        r"[0-9]{3}-?[0-9]{2}-?[0-9]{4}",
        N_("Enter a social security number: 123-45-6789."),
    ),
    "employer_identification_number": Validation(
        r"[0-9]{2}-?[0-9]{7}", r"[0-9]{2}-?[0-9]{7}", N_("Enter an employer identification number: 12-3456789.")
    ),
}


def validations_for_page() -> dict[str, dict[str, str | None]]:
    return {
        name: {"pattern": v.js, "flags": v.js_flags, "message": v.message, "extra": v.extra}
        for name, v in VALIDATIONS.items()
    }


def aba_checksum_ok(digits: str) -> bool:
    """The ABA routing number check: 3-7-1 weighted digit sum divisible by 10."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def validate_text(spec: Mapping[str, Any], value: str) -> str | None:
    """Why ``value`` does not suit the text field ``spec``, or None."""
    if len(value) > MAX_TEXT_LENGTH:
        return f"Enter at most {MAX_TEXT_LENGTH} characters."
    kind = spec.get("validation_type")
    if not kind or not value:
        return None
    if kind == "custom_regex":
        return _custom_regex(spec, value)
    rule = VALIDATIONS.get(str(kind))
    if rule is None:
        return None
    if re.fullmatch(rule.python, value) is None:
        return rule.message
    if rule.extra == "aba" and not aba_checksum_ok(value):
        return N_("This is not a valid bank routing number.")
    if rule.extra == "phone" and sum(ch.isdigit() for ch in value) < 7:
        return rule.message
    return None


def _custom_regex(spec: Mapping[str, Any], value: str) -> str | None:
    pattern = spec.get("validation_custom_regex") or ""
    label = spec.get("validation_custom_regex_format_label") or "the expected format"
    if len(value) > MAX_REGEX_INPUT:
        return f"Enter at most {MAX_REGEX_INPUT} characters."
    try:
        ok = sender_regex.fullmatch(str(pattern), value)
    except sender_regex.PatternError:
        return None  # stored before patterns were checked at creation: the page's check is all there is
    return None if ok else f"Use {label}."


# -- conditional visibility -------------------------------------------------------------------------------


def _as_trigger_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)


def trigger_met(trigger: Mapping[str, Any], value: Any) -> bool:
    v = _as_trigger_value(value)
    operator = trigger.get("operator")
    expected = trigger.get("value")
    values = [str(x) for x in trigger.get("values") or []]
    if operator == "is":
        return v == str(expected)
    if operator == "not":
        return v != str(expected)
    if operator == "any":
        return v in values
    if operator == "none":
        return v not in values
    if operator == "match":
        try:
            return sender_regex.search(str(expected or ""), v[:MAX_REGEX_INPUT])
        except sender_regex.PatternError:
            return False
    return False


@dataclass(slots=True)
class Hidden:
    fields: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)

    def hides(self, spec: Mapping[str, Any]) -> bool:
        return spec.get("api_id") in self.fields or (spec.get("group") is not None and spec["group"] in self.groups)


def hidden(rules: Iterable[Mapping[str, Any]], values: Mapping[str, Any]) -> Hidden:
    """Fields and groups the rules hide, given the values entered.

    A target shown by a rule (``hidden: false``) is hidden until one of its showing rules is met; a target
    hidden by a rule is hidden while one of its hiding rules is met. A hidden field counts as empty when it
    triggers another rule (evaluated until nothing changes).
    """
    rules = list(rules)
    result = Hidden()
    for _ in range(len(rules) + 1):
        effective = {k: (None if k in result.fields else v) for k, v in values.items()}
        shows: dict[tuple[str, str], bool] = {}
        hides: dict[tuple[str, str], bool] = {}
        for rule in rules:
            triggers = rule.get("triggers") or []
            met = bool(triggers) and all(trigger_met(t, effective.get(str(t.get("id")))) for t in triggers)
            for action in rule.get("actions") or []:
                target = (
                    ("f", str(action["field_id"])) if action.get("field_id") else ("g", str(action.get("group_id")))
                )
                bucket = hides if action.get("hidden") else shows
                bucket[target] = bucket.get(target, False) or met
        now = Hidden()
        for target in set(shows) | set(hides):
            if hides.get(target, False) or (target in shows and not shows[target]):
                (now.fields if target[0] == "f" else now.groups).add(target[1])
        if now.fields == result.fields and now.groups == result.groups:
            return now
        result = now
    return result


# -- groups ----------------------------------------------------------------------------------------------

_REQUIREMENT = re.compile(r"require_(\d+)(?:-(\d+|ormore))?")


def group_bounds(requirement: str) -> tuple[int, int | None]:
    """(minimum, maximum or None) checked boxes of a group requirement: ``require_0-1``, ``require_1``
    (exactly one), ``require_1-ormore``, and the text tags' ``require_N`` / ``require_N-M``."""
    m = _REQUIREMENT.fullmatch(requirement or "")
    if m is None:
        return 0, None
    low = int(m.group(1))
    high = m.group(2)
    if high is None:
        return low, low
    if high == "ormore":
        return low, None
    return low, int(high)


def group_error(requirement: str, checked: int, label: str | None) -> str | None:
    low, high = group_bounds(requirement)
    name = f"“{label}”" if label else "this group"
    if checked < low:
        return f"Select at least {low} in {name}." if high != low else f"Select {low} in {name}."
    if high is not None and checked > high:
        return f"Select at most {high} in {name}."
    return None


# -- a submission -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Checked:
    """A submission's outcome: the value of each of the signer's visible fields, or what is wrong."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    hidden: Hidden = field(default_factory=Hidden)


def date_signed(now: dt.datetime, date_format: str | None) -> str:
    return now.strftime(DATE_FORMATS.get(date_format or "", DATE_FORMATS[DEFAULT_DATE_FORMAT]))


def check_submission(
    specs: Sequence[Mapping[str, Any]],
    *,
    mine: set[str],
    stored: Mapping[str, Any],
    submitted: Mapping[str, Any],
    groups: Sequence[Mapping[str, Any]],
    rules: Sequence[Mapping[str, Any]],
    adopted: set[str],
    date_value: str,
) -> Checked:
    """Check what signer submitted for the fields whose api_id is in ``mine``.

    ``stored``: values already on the request (other signers, the sender's merge fields), for rules.
    ``adopted``: the image kinds (signature, initials) the signer adopted. A signature or initials field
    submitted as true gets the adopted image.
    """
    out = Checked()
    by_id = {str(s["api_id"]): s for s in specs}
    values: dict[str, Any] = dict(stored)
    for api_id in mine:
        spec = by_id[api_id]
        kind = spec["type"]
        raw = submitted.get(api_id)
        if kind == "date_signed":
            values[api_id] = date_value
        elif kind in BOOLEAN_TYPES:
            values[api_id] = raw is True or (isinstance(raw, str) and raw.lower() in ("1", "true", "on"))
        elif kind in IMAGE_TYPES:
            values[api_id] = bool(raw) and kind in adopted
        elif raw is None:
            values[api_id] = ""
        elif isinstance(raw, str | int | float) and not isinstance(raw, bool):
            values[api_id] = str(raw).strip() if kind != "text" else str(raw)
        else:
            out.errors[api_id] = N_("Enter text.")
            values[api_id] = ""
    out.hidden = hidden(rules, values)
    radio_on: dict[str, list[str]] = {}
    in_group: dict[str, int] = {}
    for api_id in sorted(mine):
        spec = by_id[api_id]
        if out.hidden.hides(spec):
            continue
        kind, value = spec["type"], values[api_id]
        required = bool(spec.get("required"))
        group = spec.get("group")
        if kind in TEXT_TYPES:
            problem = validate_text(spec, value)
            if problem is None and required and not value.strip():
                problem = N_("This field is required.")
            if problem:
                out.errors.setdefault(api_id, problem)
        elif kind == "dropdown":
            options = [str(o) for o in spec.get("options") or []]
            if value and value not in options:
                out.errors[api_id] = N_("Choose one of the options.")
            elif required and not value:
                out.errors[api_id] = N_("Choose an option.")
        elif kind in IMAGE_TYPES:
            if required and not value:
                out.errors[api_id] = N_("Sign here.") if kind == "signature" else N_("Initial here.")
        elif kind in BOOLEAN_TYPES:
            if group:
                in_group[group] = in_group.get(group, 0) + (1 if value else 0)
                if kind == "radio" and value:
                    radio_on.setdefault(group, []).append(api_id)
            elif kind == "radio" and value:
                radio_on.setdefault(f"\0{api_id}", []).append(api_id)
            elif required and not value:
                out.errors[api_id] = N_("Check this box.")
        out.values[api_id] = value
    for on in radio_on.values():
        if len(on) > 1:
            out.errors[on[-1]] = N_("Choose only one option.")
    group_specs = {str(g["group_id"]): g for g in groups}
    for group_id, checked in in_group.items():
        if group_id in out.hidden.groups:
            continue
        g = group_specs.get(group_id)
        members = [s for s in specs if s.get("group") == group_id]
        default = "require_0-1" if members and members[0]["type"] == "radio" else "require_0-ormore"
        requirement = str(g.get("requirement")) if g else default
        problem = group_error(requirement, checked, g.get("group_label") if g else None)
        if problem:
            out.errors[f"group:{group_id}"] = problem
    return out
