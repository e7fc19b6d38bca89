"""Fixtures: real SQLite and PostgreSQL, Paraph served by uvicorn on a loopback port, the official SDK, a
loopback SMTP server (the inbox mail and signing tests read)."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn

from paraph.app import create_app
from paraph.config import Settings
from paraph.migrate import upgrade
from paraph.runtime import Runtime
from tests.browser import CHROMIUM_ARGS
from tests.pgcluster import Cluster, free_port
from tests.receiver import Receiver, ReceiverServer
from tests.s3server import MotoServer
from tests.stubs import StubResolver

BACKENDS = ["sqlite", "postgresql"]

# boto3 (S3 storage) in this process and in every process it starts (the PDF pool's fork server inherits the
# environment once): dummy credentials, no profile files, no instance-metadata lookup. Tests only ever talk to
# the loopback moto server (tests/s3server.py).
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
)
for _name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    os.environ.pop(_name, None)


# -- databases -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """An admin URL of a PostgreSQL server: PARAPH_TEST_DATABASE_URL, or a throwaway cluster."""
    given = os.environ.get("PARAPH_TEST_DATABASE_URL")
    if given:
        yield given
        return
    cluster = Cluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """An S3 API on a loopback port (moto's server in a subprocess), for the whole session."""
    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server_url: str) -> str:
    """A migrated template database, cloned for every test (CREATE DATABASE ... TEMPLATE)."""
    name = f"paraph_tpl_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    upgrade(sa.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test, on each backend."""
    if request.param == "sqlite":
        tpl: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "paraph.sqlite3"
        shutil.copy(tpl, path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_server_url")
    template = request.getfixturevalue("pg_template")
    name = f"paraph_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


# -- Paraph ----------------------------------------------------------------------------------------------


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its server."""
    return {}


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, port: int, settings_overrides: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "database_url": db_url,
        "base_url": f"http://127.0.0.1:{port}",
        "secret_key": "test-secret-key-" + uuid.uuid4().hex,
        "callback_allow_private": True,
        "callback_timeout": 5.0,
        "callback_retry_delays": "1,1,1",
    }
    values.update(settings_overrides)
    return Settings(**values)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    rt.resolver = StubResolver()
    yield rt
    rt.close()


@dataclass
class Server:
    url: str
    runtime: Runtime

    @property
    def api(self) -> str:
        return self.url + "/v3"


@pytest.fixture
def server(runtime: Runtime, port: int) -> Iterator[Server]:
    """Paraph under uvicorn on a loopback port, with its in-process worker."""
    app = create_app(runtime=runtime)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", loop="asyncio", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("Paraph did not start")
        time.sleep(0.02)
    yield Server(f"http://127.0.0.1:{port}", runtime)
    srv.should_exit = True
    thread.join(30)


@dataclass
class AccountInfo:
    account_id: str
    email: str
    api_key: str
    password: str


@pytest.fixture
def account(runtime: Runtime) -> AccountInfo:
    from tests.factories import make_account  # deferred: tests.factories imports AccountInfo from here

    return make_account(runtime)


@pytest.fixture
def sdk(server: Server, account: AccountInfo) -> Iterator[Any]:
    """The official dropbox-sign SDK pointed at Paraph, only its host changed."""
    import dropbox_sign

    cfg = dropbox_sign.Configuration(host=server.api, username=account.api_key)
    cfg.proxy = None
    with dropbox_sign.ApiClient(cfg) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    srv = ReceiverServer()
    state = srv.start()
    yield state
    srv.stop()


# -- SMTP ----------------------------------------------------------------------------------------------------


@dataclass
class Inbox:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, n: int, timeout: float = 30.0) -> list[EmailMessage]:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(f"expected {n} mails, got {len(self.messages)}")
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        with self.cond:
            return [m for m, (_, rcpt) in zip(self.messages, self.envelopes, strict=True) if address in rcpt]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on loopback; ``inbox.messages`` are the mails it accepted."""
    from aiosmtpd.controller import Controller

    box = Inbox()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            msg = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(msg, EmailMessage)
            with box.cond:
                box.messages.append(msg)
                box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                box.cond.notify_all()
            return "250 OK"

    box.port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


# -- the browser ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def shared_chromium() -> Iterator[Any]:
    """One Playwright and one Debian Chromium per test process: a second sync Playwright in the same process
    would find the first one's event loop running. Never downloads a browser."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("PARAPH_CHROMIUM") or shutil.which("chromium")
    if not executable:
        pytest.fail("No Chromium: install Debian's chromium package or set PARAPH_CHROMIUM.")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _no_browser_event_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """While the shared Chromium is up, Playwright's sync API leaves its event loop marked as running in the
    main thread, so ``asyncio.run`` (a test's own, or pyHanko's inside ``seal``) would refuse to start in a
    later test of the same process. A test that does not use the browser runs with no loop marked, as it
    would in a process of its own; the mark is put back for the browser tests that follow."""
    loop = asyncio.events._get_running_loop()
    if loop is None or "shared_chromium" in request.fixturenames:
        yield
        return
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(loop)
