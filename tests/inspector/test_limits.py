"""The callback inspector's bounds, over real HTTP on both databases: what anonymous posts can store, that a
flood on one name (or on many) does not evict another name's capture, the per-client rate limit, and the
modes of PARAPH_INSPECTOR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import urllib3

from paraph.models import InspectedRequest
from paraph.runtime import Runtime
from paraph.web import inspector
from tests.client import request
from tests.conftest import AccountInfo, Server
from tests.web.helpers import Client

MIB = 1024 * 1024
BIG = {f"x-padding-{i}": "p" * 500 for i in range(10)}


def post(server: Server, name: str, body: bytes, content_type: str) -> urllib3.BaseHTTPResponse:
    return request(
        server.url, "POST", f"/paraph/inspect/{name}", body=body, headers={"content-type": content_type, **BIG}
    )


def one_mib_post(server: Server, name: str, shape: int) -> urllib3.BaseHTTPResponse:
    """A request of about 1 MiB (under the 1 MiB read cap), in one of five shapes."""
    if shape == 0:
        return post(server, name, b"x" * (MIB - 100), "text/plain")
    if shape == 1:
        fields: dict[str, Any] = {"json": json.dumps({"event": {"event_type": "x" * 500_000}})}
        fields.update({f"f{j}": "b" * 4000 for j in range(120)})
        body, ctype = urllib3.encode_multipart_formdata(fields)
        assert len(body) < MIB
        return post(server, name, body, ctype)
    if shape == 4:  # non-ASCII everywhere: JSON escapes and UTF-8 take more bytes than characters
        fields = {"json": json.dumps({"event": {"event_type": "😀" * 100_000}}, ensure_ascii=False)}
        fields.update({f"é{j}": "é" * 2000 for j in range(100)})
        body, ctype = urllib3.encode_multipart_formdata(fields)
        assert len(body) < MIB
        headers = {"content-type": ctype, **{f"x-accent-{i}": "é" * 900 for i in range(30)}}
        return request(server.url, "POST", f"/paraph/inspect/{name}", body=body, headers=headers)
    if shape == 2:
        return post(
            server,
            name,
            "&".join(f"k{j}={'c' * 1000}" for j in range(1000)).encode(),
            "application/x-www-form-urlencoded",
        )
    return post(server, name, b'{"a": "' + b"d" * (MIB - 100) + b'"}', "application/json")


def stored_bytes(rt: Runtime, name: str | None = None) -> int:
    """What the database holds of the captures: bodies, JSON, fields and headers, measured from the rows."""
    with rt.unit_of_work(write=False) as session:
        query = sa.select(InspectedRequest)
        if name is not None:
            query = query.where(InspectedRequest.name == name)
        return sum(
            len(r.body) + len((r.json_text or "").encode()) + len(json.dumps(r.form)) + len(json.dumps(r.headers))
            for r in session.scalars(query)
        )


def database_size(rt: Runtime) -> int:
    """The database's own size: the SQLite file (WAL folded in), or the PostgreSQL table with its TOAST."""
    with rt.unit_of_work(write=True) as session:
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            return int(session.scalar(sa.text("SELECT pg_total_relation_size('inspected_requests')")) or 0)
    url = sa.make_url(rt.settings.effective_database_url)
    engine = sa.create_engine(url)
    with engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    assert url.database
    db = Path(url.database)
    return sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def test_forty_anonymous_one_mib_posts_store_less_than_ten_mib(server: Server) -> None:
    before = database_size(server.runtime)
    for i in range(40):
        reply = one_mib_post(server, f"flood-{i}", i % 5)
        assert reply.status == 200, reply.data[:200]
    assert stored_bytes(server.runtime) < 10 * MIB
    assert database_size(server.runtime) - before < 10 * MIB
    with server.runtime.unit_of_work(write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(InspectedRequest)) == 40
        kept = session.scalar(sa.select(InspectedRequest).where(InspectedRequest.name == "flood-0"))
        assert kept is not None and kept.body_size == MIB - 100 and kept.body_truncated


SMALL_BUDGETS = {"inspector_per_minute": 1000, "inspector_name_max_bytes": 256 * 1024, "inspector_max_bytes": MIB}


@pytest.mark.parametrize("settings_overrides", [SMALL_BUDGETS])
def test_a_flood_on_other_names_does_not_evict_a_capture(server: Server, account: AccountInfo) -> None:
    mine = json.dumps({"event": {"event_type": "mine_arrived", "event_time": "1", "event_hash": "x"}})
    assert post(server, "owner-y", *urllib3.encode_multipart_formdata({"json": mine})).status == 200

    for i in range(30):  # one name, far past its 256 KiB
        assert one_mib_post(server, "flood-x", i % 5).status == 200
    assert stored_bytes(server.runtime, "flood-x") <= 256 * 1024 + 160 * 1024
    for i in range(30):  # many names, far past the 1 MiB of all captures together
        assert one_mib_post(server, f"flood-{i}", i % 5).status == 200
    assert stored_bytes(server.runtime) <= MIB + 160 * 1024

    client = Client(server.url)
    client.sign_in(account)
    page = client.get("/dashboard/inspector/owner-y").text
    assert "mine_arrived" in page and page.count('class="card caught"') == 1


@pytest.mark.parametrize("settings_overrides", [{"inspector_per_minute": 5}])
def test_a_client_is_limited_per_minute(server: Server, account: AccountInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inspector, "RATE_WINDOW", 3600)  # a window that does not turn during the test
    for i in range(5):
        assert post(server, "limited", f"n={i}".encode(), "application/x-www-form-urlencoded").status == 200
    refused = post(server, "limited", b"n=refused", "application/x-www-form-urlencoded")
    assert refused.status == 429 and int(refused.headers["retry-after"]) > 0
    assert post(server, "other-name", b"n=also", "application/x-www-form-urlencoded").status == 429
    with server.runtime.unit_of_work(write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(InspectedRequest)) == 5


@pytest.mark.parametrize("settings_overrides", [{"inspector": "off"}])
def test_off_catches_nothing(server: Server, account: AccountInfo) -> None:
    reply = post(server, "anything", b"a=1", "application/x-www-form-urlencoded")
    assert reply.status == 404 and reply.data != b"Hello API Event Received"
    client = Client(server.url)
    client.sign_in(account)
    assert "turned off" in client.get("/dashboard/inspector").text
    assert client.get("/dashboard/inspector/anything").status == 404
    with server.runtime.unit_of_work(write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(InspectedRequest)) == 0


def test_the_default_mode_follows_callback_allow_private() -> None:
    from paraph.config import Settings

    assert Settings(callback_allow_private=True).inspector_mode == "open"
    assert Settings(callback_allow_private=False).inspector_mode == "account"
    assert Settings(callback_allow_private=True, inspector="account").inspector_mode == "account"
    assert Settings(inspector="OFF").inspector_mode == "off"
    with pytest.raises(ValueError, match="expected open, account or off"):
        Settings(inspector="public")


def test_it_keeps_hostile_text_instead_of_failing(server: Server, account: AccountInfo) -> None:
    # NUL is refused by PostgreSQL's text and JSONB columns; a lone surrogate is not UTF-8.
    urlencoded = b"a=%00&json=%7B%22event%22%3A%7B%22event_type%22%3A%22nul%00here%22%7D%7D"
    assert post(server, "hostile", urlencoded, "application/x-www-form-urlencoded").status == 200
    fields: dict[str, str | bytes] = {"b\x00": "\x00", "c": "\ud800".encode("utf-8", "surrogatepass")}
    assert post(server, "hostile", *urllib3.encode_multipart_formdata(fields)).status == 200
    assert post(server, "hostile", b'{"a": "\x00\xed\xa0\x80"}', "application/json").status == 200
    client = Client(server.url)
    client.sign_in(account)
    page = client.get("/dashboard/inspector/hostile")
    assert page.status == 200 and page.text.count('class="card caught"') == 3
