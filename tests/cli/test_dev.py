"""`paraph dev` as an integrator's CI runs it: the shell recipe (examples/ci/paraph-ci.sh) starts it in the
background and runs a command against it; started again on the same data dir it hands out the same account,
key and app, and its stdout holds the one JSON line and nothing else."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import dropbox_sign
import sqlalchemy as sa

from paraph.security import verify_password
from tests.cli.test_cli import assert_quiet, paraph_env
from tests.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "examples" / "ci" / "paraph-ci.sh"
KEYS = {"base_url", "api_key", "client_id", "inspector_url", "dashboard_url", "email", "password"}

# What "your tests" are in the recipe's test (any language: here plain HTTP): read the account and the app.
CHECK = """
import base64, json, os, urllib.request
def get(path):
    auth = base64.b64encode((os.environ["DROPBOX_SIGN_API_KEY"] + ":").encode()).decode()
    req = urllib.request.Request(os.environ["DROPBOX_SIGN_HOST"] + path, headers={"Authorization": "Basic " + auth})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
account = get("/account")["account"]
app = get("/api_app/" + os.environ["DROPBOX_SIGN_CLIENT_ID"])["api_app"]
print(json.dumps({"email": account["email_address"], "callback_url": account["callback_url"],
                  "domains": app["domains"], "inspector": os.environ["CALLBACK_INSPECTOR_URL"]}))
"""


def test_the_shell_recipe_runs_a_command_against_paraph_dev_and_a_second_start_reuses_the_account(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = paraph_env(tmp_path, PARAPH_PORT=str(port))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    del env["PARAPH_DATA_DIR"]
    done = subprocess.run(
        ["sh", str(RECIPE), sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + (tmp_path / ".paraph" / "paraph.log").read_text()
    seen = json.loads(done.stdout)
    first = json.loads((tmp_path / ".paraph" / "paraph.json").read_text())
    assert set(first) == KEYS
    assert first["base_url"] == f"http://127.0.0.1:{port}"
    assert seen == {
        "email": first["email"],
        "callback_url": first["inspector_url"],  # callbacks land in the inspector from the start
        "domains": ["localhost", "127.0.0.1"],
        "inspector": f"http://127.0.0.1:{port}/paraph/inspect/dev",
    }
    assert (tmp_path / ".paraph" / "paraph.json").read_text().count("\n") == 1  # the one line, nothing else
    assert_quiet((tmp_path / ".paraph" / "paraph.log").read_text())

    # Again on the same data dir, with --port and --data-dir given as options: the same account, key and app.
    port2 = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paraph.cli", "dev", "--json", "--port", str(port2), "--data-dir", ".paraph"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        second = json.loads(proc.stdout.readline())
        assert second == {
            **first,
            "base_url": f"http://127.0.0.1:{port2}",
            "inspector_url": f"http://127.0.0.1:{port2}/paraph/inspect/dev",
            "dashboard_url": f"http://127.0.0.1:{port2}/dashboard",
        }
        cfg = dropbox_sign.Configuration(host=f"{second['base_url']}/v3", username=second["api_key"])
        with dropbox_sign.ApiClient(cfg) as client:
            assert dropbox_sign.AccountApi(client).account_get().account.email_address == second["email"]
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=60)
    assert rest == ""  # the request above was logged on stderr, never on stdout
    assert proc.returncode == 0, err
    engine = sa.create_engine(f"sqlite:///{tmp_path / '.paraph' / 'paraph.sqlite3'}")
    with engine.connect() as c:
        hashes = c.execute(sa.text("select password_hash from accounts")).scalars().all()
    engine.dispose()
    assert len(hashes) == 1 and verify_password(hashes[0], second["password"])  # the dashboard login printed
