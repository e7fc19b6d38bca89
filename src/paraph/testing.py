"""``paraph.testing``: Paraph as a pytest plugin, for integrators testing their Dropbox Sign integration.

Installed with Paraph and registered under the ``pytest11`` entry point ``paraph`` (``-p no:paraph`` turns it
off). It only offers fixtures; nothing runs unless a test asks for one:

- ``paraph`` (session): ``paraph dev`` served in a subprocess on a free loopback port, in a temporary data
  dir, on SQLite, with short callback retry delays. A :class:`Paraph`: ``base_url``, ``api_key``,
  ``client_id``, ``configuration`` (the official SDK's), and the simulated signers
  (:meth:`Paraph.simulate_sign`, ``decline``, ``view``, ``reassign``, ``expire``).
- ``paraph_inspector``: the session's callback inspector (the account's callback URL), seen from the test
  that asks for it: :meth:`Inspector.wait_for` waits for an event caught since that test began.
- ``simulate_sign``: :meth:`Paraph.simulate_sign`, as a function.

Only the standard library is imported here (``dropbox_sign`` when ``configuration`` is read): the plugin
costs nothing to a test session that does not use it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: Seconds between callback attempts in the plugin's server: a test sees retries at once.
RETRY_DELAYS = "1,1,1,1,1,1"
START_TIMEOUT = 120.0


class ParaphError(Exception):
    """An answer of the Paraph API other than 2xx: ``status`` and Dropbox Sign's error envelope."""

    def __init__(self, status: int, body: Any) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        super().__init__(f"{status}: {error or body}")
        self.status = status
        self.body = body


@dataclass
class Paraph:
    """A running Paraph with its development account: what ``paraph dev --json`` printed, and calls."""

    base_url: str
    api_key: str
    client_id: str
    inspector_url: str
    dashboard_url: str
    email: str
    password: str
    data_dir: Path | None = None
    process: subprocess.Popen[str] | None = field(default=None, repr=False)

    @classmethod
    def from_json(
        cls, line: str, *, data_dir: Path | None = None, process: subprocess.Popen[str] | None = None
    ) -> Paraph:
        """From the line ``paraph dev --json`` printed."""
        d = json.loads(line)
        return cls(
            base_url=str(d["base_url"]),
            api_key=str(d["api_key"]),
            client_id=str(d["client_id"]),
            inspector_url=str(d["inspector_url"]),
            dashboard_url=str(d["dashboard_url"]),
            email=str(d["email"]),
            password=str(d["password"]),
            data_dir=data_dir,
            process=process,
        )

    @property
    def host(self) -> str:
        """The SDK's host: the API's base URL (``.../v3``)."""
        return f"{self.base_url}/v3"

    @property
    def configuration(self) -> Any:
        """A ``dropbox_sign.Configuration`` for this Paraph and API key (the SDK must be installed)."""
        import dropbox_sign

        return dropbox_sign.Configuration(host=self.host, username=self.api_key)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *, timeout: float = 60) -> Any:
        """One JSON call to Paraph with the API key (``path`` from the origin: ``/v3/...``, ``/paraph/v1/...``)."""
        data = None if body is None else json.dumps(body).encode()
        auth = base64.b64encode(f"{self.api_key}:".encode()).decode()
        headers = {"Authorization": f"Basic {auth}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the loopback server started here
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            raise ParaphError(exc.code, parsed) from None
        return json.loads(raw) if raw else None

    # -- simulated signers (test-mode requests) -------------------------------------------------------------

    def _act(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.call("POST", f"/paraph/v1/test{path}", body)["signature_request"]
        return answer

    def simulate_sign(
        self,
        signature_id: str,
        fields: dict[str, Any] | None = None,
        signature_text: str | None = None,
        pin: str | None = None,
    ) -> dict[str, Any]:
        """The signer signs: ``fields`` (api_id -> value) and defaults for the other required fields; ``pin``
        for a signer with an access code. Returns the signature request (as the API shows it)."""
        body: dict[str, Any] = {"fields": fields or {}}
        if signature_text is not None:
            body["signature_text"] = signature_text
        if pin is not None:
            body["pin"] = pin
        return self._act(f"/signatures/{signature_id}/sign", body)

    def simulate_decline(self, signature_id: str, reason: str = "Declined in a test") -> dict[str, Any]:
        return self._act(f"/signatures/{signature_id}/decline", {"reason": reason})

    def simulate_view(self, signature_id: str) -> dict[str, Any]:
        return self._act(f"/signatures/{signature_id}/view", {})

    def simulate_reassign(self, signature_id: str, name: str, email_address: str, reason: str = "") -> dict[str, Any]:
        body = {"name": name, "email_address": email_address, "reason": reason}
        return self._act(f"/signatures/{signature_id}/reassign", body)

    def simulate_expire(self, signature_request_id: str) -> dict[str, Any]:
        return self._act(f"/signature_requests/{signature_request_id}/expire", {})

    # -- the callback inspector -----------------------------------------------------------------------------

    def inspector(self, name: str | None = None) -> Inspector:
        """The inspector ``name`` (default: the account's callback URL's, ``dev``)."""
        return Inspector(self, name or self.inspector_url.rstrip("/").rsplit("/", 1)[-1])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Inspector:
    """What an inspector name caught (``GET /paraph/v1/inspect/{name}``), newest first."""

    paraph: Paraph
    name: str
    after: int = 0  # only captures with a larger capture_id

    @property
    def url(self) -> str:
        return f"{self.paraph.base_url}/paraph/inspect/{self.name}"

    def captures(self, event_type: str | None = None, signature_request_id: str | None = None) -> list[dict[str, Any]]:
        query = "&".join(
            f"{k}={v}"
            for k, v in (("event_type", event_type), ("signature_request_id", signature_request_id), ("limit", 200))
            if v is not None
        )
        found = self.paraph.call("GET", f"/paraph/v1/inspect/{self.name}?{query}")["captures"]
        return [c for c in found if c["capture_id"] > self.after]

    def wait_for(
        self, event_type: str, signature_request_id: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """The first capture of ``event_type`` (for that request) caught since this inspector was handed out;
        waits for it up to ``timeout`` seconds (then ``AssertionError`` with what was caught)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.captures(event_type, signature_request_id)
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                seen = [(c["event_type"], c["signature_request_id"]) for c in self.captures()]
                raise AssertionError(f"no {event_type} caught at {self.name} within {timeout} s; caught: {seen}")
            time.sleep(0.1)

    def script(self, **answer: Any) -> dict[str, Any]:
        """Make the next answers fail: ``script(status=500, times=3)``, ``script(body="wrong")``, ..."""
        result: dict[str, Any] = self.paraph.call("POST", f"/paraph/v1/inspect/{self.name}/script", answer)
        return result


# -- starting one --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(data_dir: Path, *, port: int | None = None, env: dict[str, str] | None = None) -> Paraph:
    """``paraph dev --json`` in a subprocess (this Python's Paraph), on SQLite in ``data_dir``; returns once it
    accepts connections. Its log goes to ``data_dir/paraph.log``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PARAPH_")}
    base.update({"PARAPH_CALLBACK_RETRY_DELAYS": RETRY_DELAYS, "PARAPH_CALLBACK_TIMEOUT": "10"})
    base.update(env or {})
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "paraph.log").open("w")
    argv = [sys.executable, "-m", "paraph.cli", "dev", "--json", "--data-dir", str(data_dir)]
    argv += ["--port", str(port or free_port())]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True, env=base)  # noqa: S603
    log.close()
    assert proc.stdout is not None
    line = _first_line(proc, START_TIMEOUT)
    if not line:
        proc.wait(timeout=30)
        raise RuntimeError(f"paraph dev did not start: {(data_dir / 'paraph.log').read_text()[-2000:]}")
    return Paraph.from_json(line, data_dir=data_dir, process=proc)


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            proc.kill()
            return ""
    return proc.stdout.readline()


# -- the fixtures --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def paraph() -> Iterator[Paraph]:
    """A Paraph for the whole test session (``paraph dev`` on a free port, SQLite in a temporary dir)."""
    data_dir = Path(tempfile.mkdtemp(prefix="paraph-"))
    server = start(data_dir)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def paraph_inspector(paraph: Paraph) -> Inspector:
    """The session's callback inspector (the account's callback URL), counting only what arrives from now."""
    inspector = paraph.inspector()
    newest = paraph.call("GET", f"/paraph/v1/inspect/{inspector.name}?limit=1")["captures"]
    inspector.after = newest[0]["capture_id"] if newest else 0
    return inspector


@pytest.fixture
def simulate_sign(paraph: Paraph) -> Callable[..., dict[str, Any]]:
    """``simulate_sign(signature_id, fields=None, signature_text=None, pin=None)``: a simulated signer signs."""
    return paraph.simulate_sign
