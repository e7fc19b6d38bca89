"""A self-hosted server makes no browser fetch code from elsewhere: no Swagger UI page from a CDN."""

from __future__ import annotations

import json

import urllib3

from tests.conftest import Server


def test_it_serves_the_openapi_schema_but_no_page_loading_code_from_a_cdn(server: Server) -> None:
    resp = urllib3.request("GET", server.url + "/paraph/docs", retries=False)
    assert resp.status == 404
    assert b"cdn." not in resp.data
    resp = urllib3.request("GET", server.url + "/paraph/openapi.json", retries=False)
    assert resp.status == 200
    assert json.loads(resp.data)["openapi"].startswith("3.")
