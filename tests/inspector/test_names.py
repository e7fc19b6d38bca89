"""Inspector names: /paraph/v1/inspectors over real HTTP with an API key, and PARAPH_INSPECTOR=account (only
created names catch; only their account reads them), on both databases."""

from __future__ import annotations

import json

import pytest

from tests.client import request, request_json
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.web.helpers import Client

ACCOUNT_MODE = {"inspector": "account"}
EVENT = json.dumps({"event": {"event_type": "only_for_the_owner", "event_time": "1", "event_hash": "x"}})


def catch(server: Server, name: str) -> tuple[int, bytes]:
    resp = request(server.url, "POST", f"/paraph/inspect/{name}", fields={"json": EVENT})
    return resp.status, resp.data


@pytest.mark.parametrize("settings_overrides", [ACCOUNT_MODE])
def test_account_mode_catches_only_at_created_names(server: Server, account: AccountInfo) -> None:
    assert catch(server, "ci-hook")[0] == 404

    status, body = request_json(server.url, "POST", "/paraph/v1/inspectors", account.api_key, json={"name": "ci-hook"})
    assert status == 201
    assert body["inspector"]["name"] == "ci-hook"
    assert body["inspector"]["url"] == f"{server.url}/paraph/inspect/ci-hook"
    assert catch(server, "ci-hook") == (200, b"Hello API Event Received")
    status, listed = request_json(server.url, "GET", "/paraph/v1/inspectors", account.api_key)
    assert status == 200 and [i["name"] for i in listed["inspectors"]] == ["ci-hook"]

    owner = Client(server.url)
    owner.sign_in(account)
    page = owner.get("/dashboard/inspector/ci-hook")
    assert page.status == 200 and "only_for_the_owner" in page.text
    assert owner.get("/dashboard/inspector/never-created").status == 404

    other = make_account(server.runtime)
    intruder = Client(server.url)
    intruder.sign_in(other)
    seen = intruder.get("/dashboard/inspector/ci-hook")
    assert seen.status == 404 and "only_for_the_owner" not in seen.text
    status, body = request_json(server.url, "POST", "/paraph/v1/inspectors", other.api_key, json={"name": "ci-hook"})
    assert status == 409 and body["error"]["error_name"] == "conflict" and body["error"]["error_path"] == "name"
    status, body = request_json(server.url, "GET", "/paraph/v1/inspectors", other.api_key)
    assert body == {"inspectors": []}
    status, body = request_json(server.url, "DELETE", "/paraph/v1/inspectors/ci-hook", other.api_key)
    assert status == 404 and body["error"]["error_name"] == "not_found"

    assert request(server.url, "DELETE", "/paraph/v1/inspectors/ci-hook", account.api_key).status == 204
    assert catch(server, "ci-hook")[0] == 404
    assert owner.get("/dashboard/inspector/ci-hook").status == 404


def test_the_api_refuses_bad_names_and_callers_without_a_key(server: Server, account: AccountInfo) -> None:
    for name in ("bad.name", "", "a" * 65):
        status, body = request_json(server.url, "POST", "/paraph/v1/inspectors", account.api_key, json={"name": name})
        assert status == 400 and body["error"]["error_path"] == "name", name
    status, body = request_json(server.url, "POST", "/paraph/v1/inspectors", None, json={"name": "no-key"})
    assert status == 401 and body["error"]["error_name"] == "unauthorized"
    status, _ = request_json(
        server.url, "POST", "/paraph/v1/inspectors", account.api_key, fields={"name": "form-style"}
    )
    assert status == 201


def test_a_created_name_is_private_in_open_mode_too(server: Server, account: AccountInfo) -> None:
    assert catch(server, "was-shared")[0] == 200  # open mode (local development): any name catches
    other = Client(server.url)
    other.sign_in(make_account(server.runtime))
    assert "only_for_the_owner" in other.get("/dashboard/inspector/was-shared").text

    status, _ = request_json(server.url, "POST", "/paraph/v1/inspectors", account.api_key, json={"name": "was-shared"})
    assert status == 201
    assert other.get("/dashboard/inspector/was-shared").status == 404
    owner = Client(server.url)
    owner.sign_in(account)
    assert "only_for_the_owner" not in owner.get("/dashboard/inspector/was-shared").text  # what others sent is gone
    assert catch(server, "was-shared")[0] == 200
    assert "only_for_the_owner" in owner.get("/dashboard/inspector/was-shared").text


def test_the_dashboard_forms_need_their_csrf_token(server: Server, account: AccountInfo) -> None:
    assert catch(server, "shared-one")[0] == 200
    owner = Client(server.url)
    owner.sign_in(account)
    page = owner.get("/dashboard/inspector/shared-one")
    assert 'data-testid="inspector-claim"' in page.text and 'data-testid="inspector-shared"' in page.text

    assert owner.post("/dashboard/inspector", {"name": "shared-one"}).status == 403
    claimed = owner.post("/dashboard/inspector", {"name": "shared-one", "csrf_token": page.csrf})
    assert (
        claimed.status == 303
        and claimed.headers["location"] == "/dashboard/inspector/shared-one?done=inspector_created"
    )
    page = owner.get("/dashboard/inspector/shared-one")
    assert 'data-testid="inspector-owned"' in page.text and "only_for_the_owner" not in page.text

    assert owner.post("/dashboard/inspector/shared-one/delete", {}).status == 403
    other = Client(server.url)
    other.sign_in(make_account(server.runtime))
    foreign = other.get("/dashboard/inspector")
    assert other.post("/dashboard/inspector/shared-one/delete", {"csrf_token": foreign.csrf}).status == 404
    deleted = owner.post("/dashboard/inspector/shared-one/delete", {"csrf_token": page.csrf})
    assert deleted.status == 303 and deleted.headers["location"] == "/dashboard/inspector?done=inspector_deleted"
    _, body = request_json(server.url, "GET", "/paraph/v1/inspectors", account.api_key)
    assert body == {"inspectors": []}
