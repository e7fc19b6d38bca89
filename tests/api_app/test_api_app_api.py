"""API apps through the official SDK: create, get, list, update, delete."""

from __future__ import annotations

import json
from typing import Any

import dropbox_sign
import pytest
from dropbox_sign import models

from tests.client import request
from tests.conftest import AccountInfo, Server
from tests.factories import make_account


def create(sdk: Any, name: str = "My App", **kw: Any) -> Any:
    req = models.ApiAppCreateRequest(name=name, domains=["example.com"], **kw)
    return dropbox_sign.ApiAppApi(sdk).api_app_create(req).api_app


def test_it_creates_an_app_with_generated_credentials(sdk: Any, account: AccountInfo, receiver: Any) -> None:
    app = create(
        sdk,
        callback_url=receiver.url + "/app",
        white_labeling_options=models.SubWhiteLabelingOptions(primary_button_color="#00b3e6"),
        oauth=models.SubOAuth(callback_url="https://example.com/oauth", scopes=["basic_account_info"]),
    )
    assert len(app.client_id) == 32
    assert app.callback_url == receiver.url + "/app"
    assert app.domains == ["example.com"]
    assert app.owner_account.account_id == account.account_id
    assert app.white_labeling_options.primary_button_color == "#00b3e6"
    assert app.white_labeling_options.link_color == "#0061FE"
    assert app.oauth.scopes == ["basic_account_info"]
    assert app.oauth.secret


def test_it_gets_lists_updates_and_deletes(sdk: Any) -> None:
    api = dropbox_sign.ApiAppApi(sdk)
    first, second = create(sdk, "One"), create(sdk, "Two")
    assert api.api_app_get(first.client_id).api_app.name == "One"
    listed = api.api_app_list(page=1, page_size=1)
    assert listed.list_info.num_results == 2
    assert listed.list_info.num_pages == 2
    assert [a.name for a in listed.api_apps] == ["One"]
    updated = api.api_app_update(second.client_id, models.ApiAppUpdateRequest(name="Renamed", domains=["b.example"]))
    assert updated.api_app.name == "Renamed"
    assert updated.api_app.domains == ["b.example"]
    api.api_app_delete(first.client_id)
    with pytest.raises(dropbox_sign.ApiException) as err:
        api.api_app_get(first.client_id)
    assert err.value.status == 404


def test_an_oauth_object_without_a_callback_url_leaves_the_app_without_oauth(sdk: Any) -> None:
    """OAuth without a callback URL (an empty object, or no scopes) is no OAuth: the response says ``oauth: null``,
    never an object whose ``callback_url`` is null, which the spec (and so the SDK's models) does not allow."""
    api = dropbox_sign.ApiAppApi(sdk)
    app = api.api_app_create(
        models.ApiAppCreateRequest(name="NoOAuth", domains=["example.com"], oauth=models.SubOAuth(scopes=[]))
    ).api_app
    assert app.oauth is None
    configured = api.api_app_update(
        app.client_id,
        models.ApiAppUpdateRequest(oauth=models.SubOAuth(callback_url="https://example.com/oauth", scopes=[])),
    ).api_app
    assert configured.oauth.callback_url == "https://example.com/oauth"
    cleared = api.api_app_update(app.client_id, models.ApiAppUpdateRequest(oauth=models.SubOAuth())).api_app
    assert cleared.oauth is None
    assert [a.oauth for a in api.api_app_list().api_apps] == [None]


def test_it_hides_apps_of_other_accounts(server: Server, sdk: Any) -> None:
    app = create(sdk)
    other = make_account(server.runtime)
    resp = request(server.api, "GET", f"/api_app/{app.client_id}", other.api_key)
    assert resp.status == 404
    resp = request(server.api, "GET", "/api_app/list", other.api_key)
    assert json.loads(resp.data)["api_apps"] == []


def test_it_answers_delete_with_204(server: Server, sdk: Any, account: AccountInfo) -> None:
    app = create(sdk)
    resp = request(server.api, "DELETE", f"/api_app/{app.client_id}", account.api_key)
    assert resp.status == 204
    assert resp.data == b""


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"domains": ["example.com"]}, "name"),
        ({"name": "x"}, "domains"),
        (
            {"name": "x", "domains": ["example.com"], "white_labeling_options": {"link_color": "red;}"}},
            "white_labeling_options.link_color",
        ),
        ({"name": "x", "domains": "example.com"}, "domains"),
        (
            {"name": "x", "domains": ["example.com"], "oauth": {"scopes": ["basic_account_info"]}},
            "oauth.callback_url",
        ),
        (
            {"name": "x", "domains": ["x.example"], "oauth": {"callback_url": None, "scopes": ["basic_account_info"]}},
            "oauth.callback_url",
        ),
    ],
)
def test_it_points_at_the_bad_parameter(server: Server, account: AccountInfo, body: dict[str, Any], path: str) -> None:
    resp = request(server.api, "POST", "/api_app", account.api_key, json=body)
    assert resp.status == 400
    err = json.loads(resp.data)["error"]
    assert err["error_name"] == "bad_request"
    assert err["error_path"] == path


def test_it_checks_page_size(server: Server, account: AccountInfo) -> None:
    resp = request(server.api, "GET", "/api_app/list?page_size=101", account.api_key)
    assert resp.status == 400
    assert json.loads(resp.data)["error"]["error_path"] == "page_size"


def test_it_accepts_bracket_style_multipart(server: Server, account: AccountInfo) -> None:
    resp = request(
        server.api,
        "POST",
        "/api_app",
        account.api_key,
        fields={
            "name": "Curl App",
            "domains[]": "example.com",
            "white_labeling_options[primary_button_color]": "#112233",
        },
    )
    assert resp.status == 201, resp.data
    app = json.loads(resp.data)["api_app"]
    assert app["domains"] == ["example.com"]
    assert app["white_labeling_options"]["primary_button_color"] == "#112233"


#: The same legacy create, as JSON, as SDK-style multipart (objects as JSON text) and as the docs' bracket style.
LEGACY_CREATES: dict[str, dict[str, Any]] = {
    "json": {"json": {"name": "Legacy", "domain": "legacy.example", "white_labeling_options": None}},
    "sdk-multipart": {
        "fields": {"name": "Legacy", "domain": "legacy.example", "white_labeling_options": "null", "oauth": "null"}
    },
    "bracket-multipart": {
        "fields": {
            "name": "Legacy",
            "domain": "legacy.example",
            "white_labeling_options": "null",
            "options[can_insert_everywhere]": "1",
        }
    },
}


@pytest.mark.parametrize("style", sorted(LEGACY_CREATES))
def test_it_accepts_the_legacy_domain_and_null_white_labeling(server: Server, account: AccountInfo, style: str) -> None:
    resp = request(server.api, "POST", "/api_app", account.api_key, **LEGACY_CREATES[style])
    assert resp.status == 201, resp.data
    app = json.loads(resp.data)["api_app"]
    assert app["domains"] == ["legacy.example"]
    assert app["white_labeling_options"]["link_color"] == "#0061FE"  # null: not given, the defaults
    assert app["oauth"] is None


def test_it_updates_with_the_legacy_post(server: Server, sdk: Any, account: AccountInfo) -> None:
    app = create(sdk, white_labeling_options=models.SubWhiteLabelingOptions(link_color="#112233"))
    resp = request(
        server.api,
        "POST",
        f"/api_app/{app.client_id}",
        account.api_key,
        fields={"name": "Renamed", "domain": "new.example", "white_labeling_options": "null"},
    )
    assert resp.status == 200, resp.data
    updated = dropbox_sign.ApiAppApi(sdk).api_app_get(app.client_id).api_app
    assert (updated.name, updated.domains) == ("Renamed", ["new.example"])
    assert updated.white_labeling_options.link_color == "#112233"  # null left it as it was


def test_it_refuses_both_domain_and_domains(server: Server, account: AccountInfo) -> None:
    body = {"name": "x", "domain": "a.example", "domains": ["b.example"]}
    resp = request(server.api, "POST", "/api_app", account.api_key, json=body)
    assert resp.status == 400
    assert json.loads(resp.data)["error"]["error_path"] == "domain"
