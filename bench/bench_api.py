"""make bench-api: the read path's throughput beside a bare FastAPI ping, on SQLite and PostgreSQL.

A real ``paraph serve`` runs in a subprocess (a temporary data dir; embedded SQLite, then a throwaway
PostgreSQL cluster), and beside it a bare FastAPI app answering ``GET /ping`` with ``{"ok": true}`` on the
same uvicorn settings (uvloop, httptools, the same logging). One signature request (one page, two signers)
is sent and processed first. Then wrk (``-t2 -c16``, loopback) measures, in one run and alternating:

- the ping,
- ``GET /v3/account``,
- ``GET /v3/signature_request/{id}``,
- ``GET /v3/signature_request/list?page_size=20`` (the account holds that one request),

each ``--rounds`` times for ``--seconds`` seconds; the median requests per second of each is printed with its
ratio to the ping's median beside the target of issue #18 (account >= 0.4x, get >= 0.25x, list >= 0.15x).

wrk comes from the system (``apt-get install wrk``). Loopback (127.0.0.1) only.

Run: .venv/bin/python bench/bench_api.py [--rounds N] [--seconds S] [--no-postgres] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pgcluster import Cluster  # noqa: E402

TARGETS = {"account": 0.4, "get": 0.25, "list": 0.15}
CONNECTIONS = 16
THREADS = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], log: Path, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer; see {log}") from None
            time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def one_page_pdf() -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=letter)
    sheet.drawString(72, 720, "Bench agreement")
    sheet.showPage()
    sheet.save()
    return out.getvalue()


class Paraph:
    """``paraph serve`` on a loopback port, with its data dir and database."""

    def __init__(self, data_dir: Path, database_url: str | None, extra_env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARAPH_")}
        env.update(
            PYTHONPATH=str(ROOT / "src"),
            PARAPH_DATA_DIR=str(data_dir),
            PARAPH_BASE_URL=self.base,
            **extra_env,
        )
        if database_url:
            env["PARAPH_DATABASE_URL"] = database_url
        created = subprocess.run(
            [sys.executable, "-m", "paraph.cli", "account", "create", "bench@example.com", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        key = json.loads(created.stdout)["api_key"]
        self.authorization = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        self.log = data_dir / "serve.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "paraph.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_up(self.base + "/v3/account", self.proc, self.log, {"Authorization": self.authorization})

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> Any:
        headers = {"Authorization": self.authorization}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.loads(resp.read())

    def one_request(self) -> str:
        boundary = "bench" + os.urandom(8).hex()
        fields = {
            "title": "Bench",
            "subject": "Please sign",
            "test_mode": "1",
            "signers[0][name]": "Ada",
            "signers[0][email_address]": "ada@example.com",
            "signers[1][name]": "Bob",
            "signers[1][email_address]": "bob@example.com",
            "metadata[case]": "42",
        }
        out = io.BytesIO()
        for name, value in fields.items():
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files[0]"; filename="a.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
        )
        out.write(one_page_pdf() + f"\r\n--{boundary}--\r\n".encode())
        reply = self.call(
            "POST", "/v3/signature_request/send", out.getvalue(), f"multipart/form-data; boundary={boundary}"
        )
        rid = str(reply["signature_request"]["signature_request_id"])
        # processed once its files can be fetched (409 while processing)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(
                    urllib.request.Request(
                        self.base + f"/v3/signature_request/files/{rid}?file_type=pdf",
                        headers={"Authorization": self.authorization},
                    ),
                    timeout=30,
                ).close()
                return rid
            except urllib.error.HTTPError as exc:
                if exc.code != 409 or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


class Ping:
    """The bare FastAPI app on the same uvicorn settings as ``paraph serve``."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "ping.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "_ping.py"), str(self.port)],
                env=env,
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_up(self.base + "/ping", self.proc, self.log)


def wrk(url: str, seconds: float, authorization: str | None = None) -> float:
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency"]
    if authorization:
        cmd += ["-H", f"Authorization: {authorization}"]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        raise RuntimeError(out)
    return float(rate.group(1))


def run_backend(name: str, database_url: str | None, rounds: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="paraph-bench-api-") as tmp:
        paraph = Paraph(Path(tmp), database_url, {"PARAPH_CALLBACK_ALLOW_PRIVATE": "1"})
        ping = Ping(Path(tmp))
        try:
            rid = paraph.one_request()
            urls = {
                "ping": (ping.base + "/ping", None),
                "account": (paraph.base + "/v3/account", paraph.authorization),
                "get": (paraph.base + f"/v3/signature_request/{rid}", paraph.authorization),
                "list": (paraph.base + "/v3/signature_request/list?page_size=20", paraph.authorization),
            }
            for url, auth in urls.values():  # warm up each once
                wrk(url, 1, auth)
            rates: dict[str, list[float]] = {k: [] for k in urls}
            for _ in range(rounds):
                for what, (url, auth) in urls.items():
                    rates[what].append(wrk(url, seconds, auth))
        finally:
            stop(paraph.proc)
            stop(ping.proc)
    medians = {k: statistics.median(v) for k, v in rates.items()}
    print(f"{name}: " + ", ".join(f"{k} {' '.join(f'{r:.0f}' for r in v)}" for k, v in rates.items()), flush=True)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench-api needs wrk (Debian/Ubuntu: apt-get install wrk)")

    results: dict[str, dict[str, float]] = {}
    if args.only in (None, "sqlite"):
        results["sqlite"] = run_backend("sqlite", None, args.rounds, args.seconds)
    if args.only in (None, "postgresql") and not args.no_postgres:
        cluster = Cluster()
        try:
            admin = cluster.start()
            engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as c:
                c.exec_driver_sql("CREATE DATABASE bench")
            engine.dispose()
            results["postgresql"] = run_backend(
                "postgresql", admin.rsplit("/", 1)[0] + "/bench", args.rounds, args.seconds
            )
        finally:
            cluster.stop()

    print(
        f"\nwrk -t{THREADS} -c{CONNECTIONS}, loopback, median of {args.rounds} rounds of {args.seconds:g} s, "
        "alternating; requests per second and ratio to the bare FastAPI ping"
    )
    print(f"{'backend':12} {'endpoint':44} {'req/s':>8} {'ratio':>6} {'target':>7}")
    labels = {
        "ping": "bare FastAPI GET /ping",
        "account": "GET /v3/account",
        "get": "GET /v3/signature_request/{id}",
        "list": "GET /v3/signature_request/list?page_size=20",
    }
    for name, medians in results.items():
        for what, label in labels.items():
            ratio = medians[what] / medians["ping"]
            target = TARGETS.get(what)
            verdict = "" if target is None else f">={target:.2f} {'met' if ratio >= target else 'NOT met'}"
            print(f"{name:12} {label:44} {medians[what]:8.0f} {ratio:6.2f} {verdict}")


if __name__ == "__main__":
    main()
