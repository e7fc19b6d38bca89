"""What a signer may submit, decided on the server: validation types, required fields and groups, rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from paraph.signing import rules
from paraph.signing.access import host_allowed
from paraph.signing.page import frame_ancestors, origin_of, theme


def spec(api_id: str, kind: str = "text", **kw: Any) -> dict[str, Any]:
    return {"api_id": api_id, "type": kind, "required": kw.pop("required", True), **kw}


def check(specs: list[dict[str, Any]], submitted: dict[str, Any], **kw: Any) -> rules.Checked:
    return rules.check_submission(
        specs,
        mine=kw.pop("mine", {s["api_id"] for s in specs}),
        stored=kw.pop("stored", {}),
        submitted=submitted,
        groups=kw.pop("groups", []),
        rules=kw.pop("rules", []),
        adopted=kw.pop("adopted", {"signature", "initials"}),
        date_value=kw.pop("date_value", "01 / 02 / 2030"),
    )


@pytest.mark.parametrize(
    ("validation", "good", "bad"),
    [
        ("numbers_only", "12345", "12a45"),
        ("letters_only", "Zoë Saldaña", "R2D2"),
        ("phone_number", "+1 (415) 555-0100", "555-01"),
        ("bank_routing_number", "011000015", "011000016"),
        ("bank_account_number", "000123456789", "12"),
        ("email_address", "jack@example.com", "jack@example"),
        ("zip_code", "94105-1234", "9410"),
        ("social_security_number", "123-45-6789", "123-456-789"),
        ("employer_identification_number", "12-3456789", "123-456789"),
    ],
)
def test_it_accepts_and_refuses_values_of_each_validation_type(validation: str, good: str, bad: str) -> None:
    field = spec("v", validation_type=validation)
    assert rules.validate_text(field, good) is None
    assert rules.validate_text(field, bad) is not None
    assert check([field], {"v": good}).errors == {}
    assert set(check([field], {"v": bad}).errors) == {"v"}


def test_it_checks_a_custom_regex_against_the_whole_value_and_names_the_expected_format() -> None:
    field = spec(
        "code",
        validation_type="custom_regex",
        validation_custom_regex="[A-Z]{3}-[0-9]{2}",
        validation_custom_regex_format_label="three letters, a dash, two digits",
    )
    assert rules.validate_text(field, "ABC-12") is None
    assert rules.validate_text(field, "xABC-12") == "Use three letters, a dash, two digits."


def test_it_requires_required_fields_and_leaves_optional_ones_empty() -> None:
    specs = [spec("name"), spec("nickname", required=False), spec("agree", "checkbox"), spec("sig", "signature")]
    got = check(specs, {"nickname": ""}, adopted=set())
    assert set(got.errors) == {"name", "agree", "sig"}
    got = check(specs, {"name": "Jack", "agree": True, "sig": True})
    assert got.errors == {}
    assert got.values == {"name": "Jack", "nickname": "", "agree": True, "sig": True}


def test_it_counts_a_signature_only_when_an_image_was_adopted() -> None:
    got = check([spec("sig", "signature")], {"sig": True}, adopted=set())
    assert got.errors == {"sig": "Sign here."}


def test_it_fills_the_date_signed_itself() -> None:
    got = check([spec("date", "date_signed")], {"date": "12 / 31 / 1999"}, date_value="03 / 04 / 2030")
    assert got.values == {"date": "03 / 04 / 2030"}
    when = dt.datetime(2030, 4, 3, tzinfo=dt.UTC)
    assert rules.date_signed(when, "YYYY - MM - DD") == "2030 - 04 - 03"
    assert rules.date_signed(when, None) == "04 / 03 / 2030"


def test_it_refuses_a_dropdown_value_that_is_not_an_option() -> None:
    field = spec("color", "dropdown", options=["Red", "Green"])
    assert check([field], {"color": "Green"}).errors == {}
    assert check([field], {"color": "Purple"}).errors == {"color": "Choose one of the options."}


@pytest.mark.parametrize(
    ("requirement", "checked", "ok"),
    [
        ("require_1", 0, False),
        ("require_1", 1, True),
        ("require_1", 2, False),
        ("require_0-1", 0, True),
        ("require_1-ormore", 2, True),
        ("require_1-ormore", 0, False),
        ("require_2-3", 1, False),
        ("require_2-3", 3, True),
    ],
)
def test_it_checks_checkbox_groups_against_their_requirement(requirement: str, checked: int, ok: bool) -> None:
    specs = [spec(f"c{i}", "checkbox", required=False, group="g") for i in range(3)]
    got = check(
        specs,
        {f"c{i}": i < checked for i in range(3)},
        groups=[{"group_id": "g", "requirement": requirement, "group_label": "Extras"}],
    )
    assert (got.errors == {}) is ok
    if not ok:
        assert "Extras" in got.errors["group:g"]


def test_it_refuses_two_radio_buttons_of_one_group() -> None:
    specs = [spec("a", "radio", group="plan"), spec("b", "radio", group="plan")]
    groups = [{"group_id": "plan", "requirement": "require_1"}]
    assert check(specs, {"a": True, "b": False}, groups=groups).errors == {}
    assert check(specs, {"a": True, "b": True}, groups=groups).errors != {}
    assert check(specs, {"a": False, "b": False}, groups=groups).errors == {"group:plan": "Select 1 in this group."}


SHOW_COMPANY = {
    "id": "r1",
    "trigger_operator": "AND",
    "triggers": [{"id": "has_company", "operator": "is", "value": "1"}],
    "actions": [{"field_id": "company", "hidden": False, "type": "change-field-visibility"}],
}


def test_it_ignores_a_required_field_hidden_until_its_rule_is_met() -> None:
    specs = [spec("has_company", "checkbox", required=False), spec("company")]
    hidden = check(specs, {"has_company": False}, rules=[SHOW_COMPANY])
    assert hidden.errors == {}
    assert "company" not in hidden.values
    shown = check(specs, {"has_company": True}, rules=[SHOW_COMPANY])
    assert shown.errors == {"company": "This field is required."}


def test_it_hides_a_group_while_a_hiding_rule_is_met_and_chains_rules() -> None:
    rule_set = [
        {
            "id": "hide",
            "triggers": [{"id": "kind", "operator": "any", "values": ["none", "other"]}],
            "actions": [{"group_id": "g", "hidden": True, "type": "change-group-visibility"}],
        },
        {
            "id": "chain",
            "triggers": [{"id": "code", "operator": "match", "value": "^[A-Z]+$"}],
            "actions": [{"field_id": "detail", "hidden": False, "type": "change-field-visibility"}],
        },
        {
            "id": "hide-code",
            "triggers": [{"id": "kind", "operator": "is", "value": "none"}],
            "actions": [{"field_id": "code", "hidden": True, "type": "change-field-visibility"}],
        },
    ]
    assert rules.hidden(rule_set, {"kind": "none", "code": "ABC"}).groups == {"g"}
    # "code" is hidden, so it counts as empty and no longer shows "detail".
    assert rules.hidden(rule_set, {"kind": "none", "code": "ABC"}).fields == {"code", "detail"}
    assert rules.hidden(rule_set, {"kind": "some", "code": "ABC"}).fields == set()
    assert rules.hidden(rule_set, {"kind": "some", "code": "abc"}).fields == {"detail"}


def test_it_verifies_parent_hosts_against_the_app_domains() -> None:
    assert host_allowed("example.com", ["example.com"])
    assert host_allowed("app.example.com", ["Example.com"])
    assert not host_allowed("evilexample.com", ["example.com"])
    assert not host_allowed("example.com.evil.net", ["example.com"])
    assert origin_of("https://app.example.com:443/path?x=1") == "https://app.example.com"
    assert origin_of("http://localhost:8080/") == "http://localhost:8080"
    assert origin_of("javascript:alert(1)") is None


def test_it_allows_framing_from_the_app_domains_only() -> None:
    value = frame_ancestors(["example.com", "bad host; script-src *"])
    assert "https://example.com:*" in value and "https://*.example.com:*" in value
    assert "script-src" not in value and "bad" not in value
    assert frame_ancestors(None) == "*"


def test_it_takes_only_hex_colours_from_white_labeling_options() -> None:
    got = theme(
        {"primary_button_color": "#00AA55", "link_color": "red", "page_background_color": "#fff"},
        {"primary_button_color": "#123456;background:url(x)", "header_background_color": "abcdef"},
    )
    assert got == {
        "--pp-primary": "#00aa55",
        "--pp-primary-hover": "#00aa55",
        "--pp-page-bg": "#fff",
        "--pp-header-bg": "#abcdef",
    }
