"""The command line, as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from paraph.security import verify_password
from tests.pgcluster import free_port


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paraph.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        input=stdin if stdin is not None else "",
    )


def paraph_env(tmp_path: Path, db_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARAPH_") or k == "PARAPH_CHROMIUM"}
    env["PARAPH_DATA_DIR"] = str(tmp_path / "var")
    if db_url is not None:
        env["PARAPH_DATABASE_URL"] = db_url
    return {**env, **extra}


def assert_quiet(stderr: str) -> None:
    for noise in ("Traceback", "KeyboardInterrupt", "leaked semaphore", "pydantic", "Context impl", "Will assume"):
        assert noise not in stderr, stderr


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


def _password_hash(db_url: str, email: str) -> str | None:
    engine = sa.create_engine(db_url)
    with engine.connect() as c:
        found = c.execute(sa.text("select password_hash from accounts where email_address = :e"), {"e": email})
        value = found.scalar_one()
    engine.dispose()
    return str(value) if value is not None else None


def test_it_says_which_data_dir_and_database_every_command_uses(db_url: str, tmp_path: Path) -> None:
    env = paraph_env(tmp_path, db_url)
    shown = sa.make_url(db_url).render_as_string(hide_password=True)
    for args in (("migrate",), ("account", "create", "dev@example.com", "--json")):
        done = run_cli(*args, env=env)
        assert done.returncode == 0, done.stderr
        assert f"paraph: data dir {(tmp_path / 'var').resolve()}, database {shown}" in done.stderr
        assert_quiet(done.stderr)
    assert "set-password dev@example.com" in done.stderr  # created without a password: how to set one
    json.loads(done.stdout)  # stdout stays machine-readable


def test_it_names_the_default_data_dir_as_relative_to_the_current_folder(tmp_path: Path) -> None:
    env = paraph_env(tmp_path)
    del env["PARAPH_DATA_DIR"]
    done = subprocess.run(
        [sys.executable, "-m", "paraph.cli", "migrate"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert f"data dir {tmp_path.resolve() / 'var'} (PARAPH_DATA_DIR unset: ./var of this folder)" in done.stderr
    assert f"sqlite:///{tmp_path.resolve() / 'var' / 'paraph.sqlite3'}" in done.stderr


def test_it_sets_the_password_of_an_account_created_without_one(db_url: str, tmp_path: Path) -> None:
    env = paraph_env(tmp_path, db_url)
    assert run_cli("account", "create", "dev@example.com", env=env).returncode == 0
    assert _password_hash(db_url, "dev@example.com") is None

    done = run_cli("account", "set-password", "DEV@example.com", env=env, stdin="from stdin\n")
    assert done.returncode == 0, done.stderr
    assert verify_password(_password_hash(db_url, "dev@example.com"), "from stdin")

    done = run_cli("account", "set-password", "dev@example.com", "--password", "from option", env=env)
    assert done.returncode == 0, done.stderr
    assert verify_password(_password_hash(db_url, "dev@example.com"), "from option")
    engine = sa.create_engine(db_url)
    with engine.connect() as c:
        tags = c.execute(sa.text("select tag from audit_events order by id")).scalars().all()
    engine.dispose()
    assert tags.count("cli:account:password_changed") == 2

    empty = run_cli("account", "set-password", "dev@example.com", env=env, stdin="\n")
    assert empty.returncode == 2 and "empty" in empty.stderr
    unknown = run_cli("account", "set-password", "nobody@example.com", "--password", "x", env=env)
    assert unknown.returncode == 1
    assert "No account with the email address nobody@example.com" in unknown.stderr
    assert_quiet(unknown.stderr)


@pytest.mark.parametrize(
    ("args", "extra", "named"),
    [
        ((), {"PARAPH_CALLBACK_RETRY_DELAYS": "5m,1h"}, "PARAPH_CALLBACK_RETRY_DELAYS: expected seconds separated"),
        ((), {"PARAPH_SEAL_PKCS12": "/nowhere/seal.p12"}, "PARAPH_SEAL_PKCS12: expected the path of a PKCS#12"),
        ((), {"PARAPH_CALLBACK_TIMEOUT": "abc"}, "PARAPH_CALLBACK_TIMEOUT: expected a number, e.g. 30.0 (got 'abc')"),
        ((), {"PARAPH_CALLBACK_ALLOW_PRIVATE": "maybe"}, "PARAPH_CALLBACK_ALLOW_PRIVATE: expected true or false"),
        (("--port", "99999"), {}, "--port: expected a number at most 65535 (got '99999')"),
        ((), {"PARAPH_PORT": "0"}, "PARAPH_PORT: expected a number at least 1"),
        ((), {"PARAPH_DATABASE_URL": "postgres//nope"}, "PARAPH_DATABASE_URL: expected a SQLAlchemy URL"),
        ((), {"PARAPH_PDF_MEMORY_MB": "100"}, "PARAPH_PDF_MEMORY_MB: expected 0 (no limit) or at least 384"),
    ],
)
def test_it_refuses_to_start_with_an_invalid_setting(
    tmp_path: Path, args: tuple[str, ...], extra: dict[str, str], named: str
) -> None:
    done = run_cli("serve", *args, env=paraph_env(tmp_path, **extra))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"paraph: {named}"), done.stderr
    assert_quiet(done.stderr)
    assert "postgres//nope" not in done.stderr  # a URL may hold a password: never echoed


def test_it_names_a_taken_port_and_how_to_pick_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = run_cli("serve", "--port", str(port), env=paraph_env(tmp_path))
    assert done.returncode == 2
    assert time.monotonic() - started < 30
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "--port" in done.stderr and "PARAPH_PORT=" in done.stderr
    assert_quiet(done.stderr)


def test_it_is_one_line_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://u:secret@127.0.0.1:{free_port()}/x"
    for args in (("migrate",), ("serve", "--port", str(free_port())), ("account", "create", "a@example.com")):
        done = run_cli(*args, env=paraph_env(tmp_path, url))
        assert done.returncode == 2, done.stderr
        lines = done.stderr.splitlines()
        assert len(lines) == 2, done.stderr  # where it looked, then why it stopped
        assert lines[1].startswith(f"paraph: cannot use the database postgresql+psycopg://u:***@127.0.0.1:{url[-7:]}")
        assert "refused" in lines[1].lower()
        assert "secret" not in done.stderr


def _serve(tmp_path: Path, db_url: str, port: int, **extra: str) -> subprocess.Popen[str]:
    env = paraph_env(tmp_path, db_url, **extra)
    return subprocess.Popen(
        [sys.executable, "-m", "paraph.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # a process group of its own, as a terminal gives it
    )


def _wait_until_up(proc: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("paraph serve did not answer")


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_it_stops_cleanly_on_ctrl_c_and_sigterm(db_url: str, tmp_path: Path, how: str) -> None:
    port = free_port()
    # Started once without LibreOffice on its PATH: it says so, once (office files will get file_error).
    hidden = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not Path(p, "soffice").exists())
    proc = _serve(tmp_path, db_url, port, **({"PATH": hidden} if how == "ctrl-c" else {}))
    try:
        _wait_until_up(proc, port)
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # the terminal sends it to the whole group, PDF processes too
        else:
            proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert_quiet(stderr)
    assert f"paraph: dashboard: http://127.0.0.1:{port}/dashboard" in stderr
    assert f"PARAPH_DATA_DIR={(tmp_path / 'var').resolve()} " in stderr
    assert "account create you@example.com --password" in stderr
    assert stderr.count("LibreOffice is not installed") == (1 if how == "ctrl-c" else 0), stderr


def test_a_process_with_another_secret_key_refuses_to_start(db_url: str, tmp_path: Path) -> None:
    """A node or worker whose PARAPH_SECRET_KEY is not the deployment's says so in one line and exits 2: it
    could not compute an event_hash, read the seal, or accept the sign URLs the other nodes made."""
    first = paraph_env(tmp_path / "a", db_url, PARAPH_SECRET_KEY="the-deployment-key-" + "x" * 24)
    made = run_cli("account", "create", "keys@example.com", "--json", env=first)
    assert made.returncode == 0, made.stderr
    other = paraph_env(tmp_path / "b", db_url, PARAPH_SECRET_KEY="another-key-" + "y" * 32)
    for args in (("worker",), ("serve", "--no-worker", "--port", str(free_port()))):
        done = run_cli(*args, env=other)
        assert done.returncode == 2, (args, done.stderr)
        assert "PARAPH_SECRET_KEY is not the key this database's secrets were encrypted with" in done.stderr
        assert_quiet(done.stderr)
