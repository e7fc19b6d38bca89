"""The command line, as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paraph.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_it_creates_an_account_and_prints_json(db_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "PARAPH_DATA_DIR": str(tmp_path / "var"), "PARAPH_DATABASE_URL": db_url}
    done = run_cli("account", "create", "dev@example.com", "--password", "S3cret", "--json", env=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {"account_id", "email_address", "api_key"}
    assert out["email_address"] == "dev@example.com"
    assert len(out["api_key"]) == 64
    engine = sa.create_engine(db_url)
    with engine.connect() as c:
        stored = c.execute(sa.text("select encrypted_key from api_keys")).scalar_one()
    engine.dispose()
    assert out["api_key"] not in stored  # kept encrypted, not in the clear
    again = run_cli("account", "create", "dev@example.com", "--json", env=env)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_it_lists_every_setting_in_help() -> None:
    done = run_cli("--help", env=dict(os.environ))
    assert done.returncode == 0
    for name in (
        "PARAPH_DATA_DIR",
        "PARAPH_DATABASE_URL",
        "PARAPH_BASE_URL",
        "PARAPH_SECRET_KEY",
        "PARAPH_CALLBACK_RETRY_DELAYS",
        "PARAPH_CALLBACK_TIMEOUT",
        "PARAPH_CALLBACK_ALLOW_PRIVATE",
        "PARAPH_SMTP_URL",
    ):
        assert name in done.stdout
