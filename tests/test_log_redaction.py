"""Bearer secrets in URLs (sign links, file URLs, final-copy links) never reach the server's log output."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import urllib3

from tests.pgcluster import free_port

SECRET = "s3cr3tV4lue-_.~"


def test_the_server_log_redacts_token_and_signature_query_parameters(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PARAPH_DATA_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"}
    env.pop("PARAPH_DATABASE_URL", None)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paraph.cli", "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so its PDF processes can be ended with it
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib3.request("GET", base + "/login", retries=False, timeout=2)
                    break
                except urllib3.exceptions.HTTPError:
                    assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            paths = [
                f"/sign/0123456789abcdef?token={SECRET}",
                f"/sign/0123456789abcdef/page/0/1?token=x&pin={SECRET}",
                f"/paraph/files/signature_request/abc?expires=1&force_download=0&signature={SECRET}",
                f"/signing/final/abc?TOKEN={SECRET}&x=1",
                f"/login?next=%2Fsign%2Fx%3Ftoken%3D{SECRET}%26y%3D2",
            ]
            for path in paths:
                urllib3.request("GET", base + path, retries=False, redirect=False)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            # serve leaves its warm PDF processes behind on SIGTERM (reported separately): end them too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    text = log.read_text()
    assert "/paraph/files/signature_request/abc" in text  # the access log is there...
    assert "signature=[redacted]" in text
    assert "pin=[redacted]" in text
    assert "token=[redacted]" in text and "token%3D[redacted]%26y%3D2" in text
    assert SECRET not in text  # ...without the secrets
    assert "s3cr3t" not in text
