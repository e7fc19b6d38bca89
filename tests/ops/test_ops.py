"""Health, readiness, metrics, request ids and JSON logs, as an operator and their Prometheus see them."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from paraph.account import repository as accounts
from paraph.callbacks import targets
from paraph.config import Settings
from paraph.runtime import Runtime
from tests.client import wait_until
from tests.conftest import AccountInfo, Server
from tests.factories import emit_events
from tests.pgcluster import free_port

TOKEN = "metrics-token-0123456789"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"metrics_token": TOKEN, "callback_retry_delays": "600"}


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read().decode()


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def scrape(server: Server) -> str:
    status, _, body = get(server.url + "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    return body


def sample(metrics: str, name: str) -> float:
    """The value of one series (``name`` with its labels, as Prometheus prints it); 0 when absent."""
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_health_readiness_and_metrics(
    server: Server, runtime: Runtime, account: AccountInfo, settings: Settings, sdk: Any
) -> None:
    import dropbox_sign

    # The process answers; ready once the database, its migrations and the storage are; no secret shown.
    status, headers, body = get(server.url + "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert len(headers["x-request-id"]) >= 16
    status, _, body = get(server.url + "/readyz")
    assert status == 200, body
    assert json.loads(body) == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "storage": "ok"},
    }
    for secret in (settings.effective_secret_key, settings.effective_database_url, str(settings.data_dir)):
        assert secret not in body

    # A database behind the code's migrations is not ready.
    with runtime.db.engine.begin() as conn:
        head = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'older'"))
    try:
        status, _, body = get(server.url + "/readyz")
        assert status == 503
        assert json.loads(body)["checks"] == {"database": "ok", "migrations": "pending", "storage": "ok"}
    finally:
        with runtime.db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": head})

    # Counters are the process's: compare before and after (other tests may have run in this process).
    before = scrape(server)

    # The request id a proxy sent is kept, and answered in X-Request-Id.
    status, headers, _ = get(server.url + "/v3/account", {**basic(account.api_key), "X-Request-Id": "edge-4f9a21c7"})
    assert (status, headers["x-request-id"]) == (200, "edge-4f9a21c7")
    dropbox_sign.AccountApi(sdk).account_get()  # the SDK's read: counted under its route template
    status, _, _ = get(server.url + "/v3/signature_request/nope", basic(account.api_key))
    assert status == 404
    status, _, _ = get(server.url + "/v3/account")
    assert status == 401

    # Two events for a callback URL where nothing listens: attempted once each, then waiting (retry in 10 min).
    with runtime.unit_of_work() as session:
        owner = accounts.by_account_id(session, account.account_id)
        assert owner is not None
        targets.url_saved(session, owner, None, "http://127.0.0.1:9/cb")
    emit_events(runtime, account, 2)
    retried = 'paraph_callback_attempts_total{outcome="retry"}'
    wait_until(lambda: sample(scrape(server), retried) - sample(before, retried) == 2)

    # /metrics needs the bearer token when one is set.
    assert get(server.url + "/metrics")[0] == 401
    assert get(server.url + "/metrics", {"Authorization": "Bearer wrong-token"})[0] == 401
    assert get(server.url + "/metrics", {"Authorization": "Basic " + TOKEN})[0] == 401
    status, headers, metrics = get(server.url + "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")

    def delta(series: str) -> float:
        return sample(metrics, series) - sample(before, series)

    assert delta('paraph_http_requests_total{method="GET",route="/v3/account",status="200"}') == 2
    route = "/v3/signature_request/{signature_request_id}"
    assert delta(f'paraph_http_requests_total{{method="GET",route="{route}",status="404"}}') == 1
    assert delta('paraph_http_requests_total{method="GET",route="unmatched",status="401"}') >= 1
    assert delta('paraph_http_request_duration_seconds_count{method="GET",route="/v3/account"}') == 2
    assert delta('paraph_callback_attempt_duration_seconds_count{outcome="retry"}') == 2
    assert sample(metrics, "paraph_outbox_pending") == 2
    assert sample(metrics, "paraph_outbox_oldest_pending_age_seconds") >= 0
    assert "nope" not in metrics  # label values are route templates, never paths


def test_serve_logs_json_lines_with_the_request_and_stops_on_sigterm(tmp_path: Path) -> None:
    """``paraph serve`` with PARAPH_LOG_FORMAT=json and a shared metrics directory: every log line is one JSON
    object; a request's line carries its id (the one in X-Request-Id), its account and its signature request;
    SIGTERM ends it with exit code 0."""
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARAPH_") or k == "PARAPH_CHROMIUM"}
    env.update(
        PARAPH_DATA_DIR=str(tmp_path / "var"),
        PARAPH_LOG_FORMAT="json",
        PARAPH_METRICS_DIR=str(metrics_dir),
        PARAPH_SECRET_KEY="json-logs-test-secret",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "paraph.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while get_or_none(f"http://127.0.0.1:{port}/healthz") is None:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
            time.sleep(0.1)
        settings = Settings(data_dir=tmp_path / "var", secret_key="json-logs-test-secret")
        rt = Runtime(settings)
        try:
            from tests.factories import make_account

            acct = make_account(rt)
        finally:
            rt.close()
        url = f"http://127.0.0.1:{port}/v3/signature_request/0123456789abcdef"
        status, headers, _ = get(url, basic(acct.api_key))
        assert status == 404
        request_id = headers["x-request-id"]
        status, _, metrics = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and "paraph_http_requests_total" in metrics
        assert any(metrics_dir.iterdir())  # counted in the shared directory
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 0, stderr
    lines = (stdout + stderr).splitlines()  # uvicorn's access log is on stdout, the rest on stderr
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert not [line for line in lines if line and not line.startswith(("{", "paraph: "))], lines
    mine = [r for r in records if r.get("request_id") == request_id]
    assert mine, records
    assert mine[0]["account_id"] == acct.account_id
    assert mine[0]["signature_request_id"] == "0123456789abcdef"
    assert mine[0]["level"] == "info" and "404" in mine[0]["message"]
    assert acct.api_key not in stdout + stderr


def get_or_none(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except OSError:
        return None
