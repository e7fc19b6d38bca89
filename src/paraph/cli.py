"""paraph serve | dev | worker | migrate | account create | account set-password | storage migrate."""

from __future__ import annotations

import argparse
import asyncio
import errno
import getpass
import json
import logging
import os
import shlex
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from paraph import logredact
from paraph.config import Settings, settings_help

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from paraph.security import KeyBox

T = TypeVar("T")

#: Settings a command-line option can give, and the option that gives it (named in error messages).
OPTION_SETTINGS = {"port": "--port"}
#: Settings whose value is never echoed back in an error message.
SECRET_SETTINGS = {"database_url", "secret_key", "smtp_url", "seal_pkcs12_password"}


def _epilog() -> str:
    lines = ["settings (environment variables):"]
    for name, default, desc in settings_help():
        lines.append(f"  {name}  {desc}" + (f" (default: {default})" if default else ""))
    return "\n".join(lines)


def version() -> str:
    """The installed distribution's version: pyproject.toml's ``version``, the one place it is written."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("paraph")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="paraph",
        description="Paraph: a self-hostable, drop-in replacement for the Dropbox Sign API v3.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"paraph {version()}")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API, the pages and in-process background workers")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port to bind, 1-65535 (default PARAPH_PORT, else 8000)")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations at start")
    serve.add_argument("--no-worker", action="store_true", help="serve only; leave background work to `paraph worker`")
    dev = sub.add_parser(
        "dev",
        help="serve for local development and CI: a ready account, API key, API app and callback inspector",
        description="Serve Paraph with a development account (created once in the data dir, reused after): prints"
        " the base URL, API key, client_id, dashboard URL and login, and the callback inspector URL. Loopback"
        " callback URLs are allowed unless PARAPH_CALLBACK_ALLOW_PRIVATE says otherwise.",
    )
    dev.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=None, help="port to bind, 1-65535 (default PARAPH_PORT, else 8000)")
    dev.add_argument("--data-dir", default=None, help="where data lives (default PARAPH_DATA_DIR, else ./var)")
    dev.add_argument(
        "--json", action="store_true", help="print one JSON object on the first line of stdout (nothing else there)"
    )
    sub.add_parser("worker", help="run background work only (callback delivery and jobs), for scale-out")
    sub.add_parser("migrate", help="apply database migrations")
    account = sub.add_parser("account", help="manage accounts")
    acc_sub = account.add_subparsers(dest="account_command", required=True)
    create = acc_sub.add_parser("create", help="create an account and print its API key")
    create.add_argument("email")
    create.add_argument("--password", help="dashboard password (sign-in at /login); later: account set-password")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    set_password = acc_sub.add_parser(
        "set-password",
        help="set or change the dashboard password of an account",
        description="Set the dashboard password of an existing account. Without --password it is asked for twice"
        " on a terminal, or read as one line from standard input (echo PW | paraph account set-password EMAIL).",
    )
    set_password.add_argument("email")
    set_password.add_argument("--password", help="the new password (visible in the shell history; prefer the prompt)")
    storage = sub.add_parser("storage", help="manage document storage")
    storage_sub = storage.add_subparsers(dest="storage_command", required=True)
    storage_migrate = storage_sub.add_parser(
        "migrate",
        help="copy the data dir's files (DATA_DIR/files) into another storage, e.g. an S3 bucket",
        description="Copy every file under DATA_DIR/files into the storage URL given (s3://bucket/prefix?..., or"
        " file:///path), then set PARAPH_STORAGE_URL to it. Resumable: files already there with the same SHA-256"
        " are skipped; every copy is read back and its SHA-256 checked. Nothing is deleted from the data dir.",
    )
    storage_migrate.add_argument("--to", required=True, metavar="URL", help="the target storage URL")
    seal = sub.add_parser("seal", help="the certificate sealing final documents")
    seal_sub = seal.add_subparsers(dest="seal_command", required=True)
    seal_sub.add_parser(
        "certificate",
        help="print the seal's certificate (PEM), for integrators to trust",
        description="Print the certificate final documents are sealed with (PEM, no private key): PARAPH_SEAL_PKCS12's,"
        " or the deployment's self-signed one, kept in the database (made now if no document was sealed yet).",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logredact.install()
    logging.getLogger("alembic").setLevel(logging.WARNING)  # no "Context impl ..." lines on every start
    given: dict[str, Any] = {"port": args.port} if getattr(args, "port", None) is not None else {}
    if args.command == "dev":
        given.update(dev_settings(args.data_dir))
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        for line in settings_problems(exc, options=set(given)):
            say(line)
        return 2
    settings.ensure_dirs()
    say(where(settings))
    if args.command == "storage":
        return _storage_migrate(settings, args.to)
    from sqlalchemy.exc import DBAPIError

    if args.command in ("serve", "dev", "worker"):
        problem = storage_problem(settings)
        if problem:
            say(problem)
            return 2
    try:
        check_database(settings.effective_database_url)
        return _run(args, settings)
    except DBAPIError as exc:
        say(database_problem(settings.effective_database_url, exc))
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        from paraph.migrate import upgrade

        upgrade(settings.effective_database_url)
        print("migrations applied")
        return 0
    if args.command in ("serve", "dev", "worker"):
        _operations(settings)
    if args.command == "serve":
        # An API node (--no-worker) processes no document: its PDF processes start on a first detect_fields only.
        worker = not args.no_worker
        return _serve(
            settings, args.host, settings.port, migrate=not args.no_migrate, worker=worker, warm_pdf_pool=worker
        )
    if args.command == "dev":
        return _dev(settings, args.host, as_json=args.json)
    if args.command == "worker":
        return _worker(settings)
    if args.command == "account" and args.account_command == "create":
        return _account_create(settings, args.email, args.password, args.json)
    if args.command == "account" and args.account_command == "set-password":
        return _account_set_password(settings, args.email, args.password)
    if args.command == "seal":
        return _seal_certificate(settings)
    return 2


def _seal_certificate(settings: Settings) -> int:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from paraph.runtime import Runtime
    from paraph.signing.seal_key import seal_pem

    if settings.seal_pkcs12 is not None:
        password = settings.seal_pkcs12_password
        loaded = pkcs12.load_key_and_certificates(
            settings.seal_pkcs12.read_bytes(), password.encode() if password is not None else None
        )
        cert = loaded[1]
        assert cert is not None  # checked when the settings were read
    else:
        rt = Runtime(settings)
        try:
            pem = seal_pem(rt)
        finally:
            rt.close()
        assert pem is not None
        cert = x509.load_pem_x509_certificates(pem)[0]
    fingerprint = cert.fingerprint(hashes.SHA256()).hex(":").upper()
    say(f"SHA-256 fingerprint {fingerprint}, subject {cert.subject.rfc4514_string()}")
    print(cert.public_bytes(serialization.Encoding.PEM).decode(), end="")
    return 0


def _operations(settings: Settings) -> None:
    """Metrics into the shared directory (PARAPH_METRICS_DIR), log lines as JSON (PARAPH_LOG_FORMAT)."""
    from paraph.ops import logs, metrics

    metrics.use_directory(settings.metrics_dir)
    if settings.log_format == "json":
        logs.use_json()


def say(line: str) -> None:
    print(f"paraph: {line}", file=sys.stderr, flush=True)


def settings_problems(exc: ValidationError, *, options: set[str] | None = None) -> list[str]:
    """One line per invalid setting: the variable (or option) as the user wrote it, the expected form, and
    the value given (unless it may hold a secret). Never a traceback, never an internal field name."""
    fields = Settings.model_fields
    lines = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        name = str(loc[0]) if loc else ""
        if name not in fields:  # a check across settings: its message names the variables itself
            lines.append(str(err.get("msg", "invalid settings")).removeprefix("Value error, "))
            continue
        label = OPTION_SETTINGS[name] if name in (options or set()) else f"PARAPH_{name.upper()}"
        got = "" if name in SECRET_SETTINGS else f" (got {str(err.get('input'))!r})"
        lines.append(f"{label}: {_expected(err, fields[name].default)}{got}")
    return lines


def _expected(err: Any, default: object) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    example = f", e.g. {default}" if default not in (None, "") else ""
    if kind == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ")
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"expected a whole number{example}"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number{example}"
    if kind in ("bool_parsing", "bool_type"):
        return "expected true or false (also 1/0, yes/no, on/off)"
    bounds = {
        "greater_than": "greater than {gt}",
        "greater_than_equal": "at least {ge}",
        "less_than": "less than {lt}",
        "less_than_equal": "at most {le}",
    }
    if kind in bounds:
        return "expected a number " + bounds[kind].format(**ctx)
    return "expected " + str(err.get("msg", "a valid value")).removeprefix("Input should be ")


def masked(url: str) -> str:
    """A database URL as it may be printed: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def where(settings: Settings) -> str:
    data_dir = settings.data_dir.resolve()
    origin = "" if "data_dir" in settings.model_fields_set else " (PARAPH_DATA_DIR unset: ./var of this folder)"
    return f"data dir {data_dir}{origin}, database {masked(settings.effective_database_url)}"


def check_database(url: str) -> None:
    """Connect once, so an unreachable database is one clear line at start, not a traceback later."""
    import sqlalchemy as sa

    args: dict[str, Any] = {} if url.startswith("sqlite") else {"connect_timeout": 10}
    engine = sa.create_engine(url, connect_args=args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def storage_problem(settings: Settings) -> str | None:
    """Look up one key in the storage, so a missing bucket or missing credentials is one clear line at start."""
    from paraph.storage import StorageKeyError, open_storage

    try:  # a GET, not a HEAD: S3 answers a HEAD without a body, so "no such bucket" would read as "no such key"
        open_storage(settings).get("paraph-start-check")
    except StorageKeyError:
        return None
    except Exception as exc:  # boto3's errors (no credentials, no such bucket, unreachable) or an OS error
        where_ = (settings.storage_url or "").split("?")[0] or str(settings.storage_location.path)
        return f"cannot use the storage {where_}: {exc}"
    return None


def database_problem(url: str, exc: Exception) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(part.strip() for part in str(cause).splitlines() if part.strip())
    return f"cannot use the database {masked(url)}: {text or type(cause).__name__}"


def dev_settings(data_dir: str | None) -> dict[str, Any]:
    """What ``paraph dev`` sets unless the environment says otherwise: loopback callbacks allowed."""
    out: dict[str, Any] = {}
    if data_dir is not None:
        out["data_dir"] = data_dir
    if "PARAPH_CALLBACK_ALLOW_PRIVATE" not in os.environ:
        out["callback_allow_private"] = True
    return out


def _dev(settings: Settings, host: str, *, as_json: bool) -> int:
    from paraph.dev import ensure
    from paraph.migrate import upgrade
    from paraph.runtime import Runtime

    try:
        sock = bind(host, settings.port)
    except OSError as exc:
        say(port_problem(host, settings.port, exc))
        return 2
    upgrade(settings.effective_database_url)
    rt = Runtime(settings)
    try:
        with rt.unit_of_work() as session:
            setup = ensure(session, rt.keys, settings)
    finally:
        rt.close()

    def started() -> None:
        if as_json:
            sys.stdout.write(setup.as_json() + "\n")
            sys.stdout.flush()
            # Nothing else ever reaches stdout (uvicorn's access log included): a script reads one line.
            os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
            return
        for label, value in (
            ("base URL", setup.base_url),
            ("API key", setup.api_key),
            ("client_id", setup.client_id),
            ("dashboard", f"{setup.dashboard_url} (sign in as {setup.email} / {setup.password})"),
            ("inspector", f"{setup.inspector_url} (the account's callback URL; GET /paraph/v1/inspect/dev)"),
        ):
            print(f"{label + ':':11} {value}", flush=True)

    return _serve(
        settings, host, settings.port, migrate=False, worker=True, sock=sock, on_started=started, warm_pdf_pool=False
    )


def _serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    migrate: bool,
    worker: bool,
    sock: socket.socket | None = None,
    on_started: Callable[[], None] | None = None,
    warm_pdf_pool: bool = True,
) -> int:
    import uvicorn

    from paraph.app import create_app
    from paraph.pdf.convert import find_office

    if sock is None:
        try:
            sock = bind(host, port)
        except OSError as exc:
            say(port_problem(host, port, exc))
            return 2
    if migrate:
        from paraph.migrate import upgrade

        upgrade(settings.effective_database_url)
    problem = _secret_key_problem(settings)
    if problem is not None:
        say(problem)
        return 2
    app = create_app(settings, run_worker=worker, warm_pdf_pool=warm_pdf_pool)
    log_config = logredact.uvicorn_log_config()
    if settings.log_format == "json":
        from paraph.ops.logs import uvicorn_json

        log_config = uvicorn_json(log_config)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="info",
        log_config=log_config,
        timeout_graceful_shutdown=int(settings.callback_timeout) + 5,
    )

    class Server(uvicorn.Server):
        """uvicorn's server, calling ``on_started`` once it accepts connections."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and on_started is not None:
                on_started()

    server = Server(config)
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else f"[{host}]" if ":" in host else host  # noqa: S104
    say(f"dashboard: http://{shown}:{port}/dashboard")
    if on_started is None:
        say(f"create an account: {account_command(settings)}")
    office = find_office()
    if isinstance(office, str):
        say(f"office files (Word, Excel, PowerPoint, OpenDocument, RTF, HTML, text) will get file_error: {office}")
    # uvicorn drains on SIGINT/SIGTERM, then raises the signal again for the handler it found: a quiet one,
    # so Ctrl+C and `kill` end with exit code 0 instead of a KeyboardInterrupt traceback.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    with sock:
        server.run(sockets=[sock])
    return 0 if server.started else 3


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts, so a taken port is reported at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def port_problem(host: str, port: int, exc: OSError) -> str:
    other = 8001 if port != 8001 else 8002
    choose = f"choose another with --port {other} or PARAPH_PORT={other}"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (another paraph serve?); {choose}"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port} (ports below 1024 need privileges); {choose}"
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"cannot listen on {host}: not an address of this machine; check --host"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def account_command(settings: Settings, email: str = "you@example.com") -> str:
    """The command that creates an account where this process keeps its data, runnable from any folder."""
    argv0 = sys.argv[0]
    if os.path.basename(argv0) == "paraph":
        prog = shlex.quote(os.path.abspath(argv0)) if os.sep in argv0 else "paraph"
    else:
        prog = f"{shlex.quote(sys.executable)} -m paraph.cli"
    command = (
        f"PARAPH_DATA_DIR={shlex.quote(str(settings.data_dir.resolve()))} {prog} account create {email}"
        " --password choose-one"
    )
    same = [f"PARAPH_{n.upper()}" for n in ("database_url", "secret_key") if getattr(settings, n)]
    return command + (f" (with the same {' and '.join(same)})" if same else "")


def _secret_key_problem(settings: Settings) -> str | None:
    """Why this process must not start with its PARAPH_SECRET_KEY (another than the database's), or None."""
    import sqlalchemy as sa

    from paraph.db import Database
    from paraph.ops.secret_check import secret_key_problem
    from paraph.security import KeyBox

    db = Database(settings.effective_database_url)
    try:
        with db.unit_of_work(write=False) as session:
            return secret_key_problem(session, KeyBox(settings.effective_secret_key))
    except sa.exc.DBAPIError:
        return None  # no schema yet, or no database: the start that follows says so in its own words
    finally:
        db.dispose()


def _worker(settings: Settings) -> int:
    from paraph import tasks
    from paraph.callbacks.dispatcher import Dispatcher
    from paraph.runtime import Runtime
    from paraph.worker.runner import JobLoops, Worker

    problem = _secret_key_problem(settings)
    if problem is not None:
        say(problem)
        return 2
    tasks.load()
    rt = Runtime(settings)
    rt.pdf_pool.warm()
    worker = Worker(rt, [Dispatcher(rt), JobLoops(rt)])

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        await worker.run()

    try:
        import uvloop

        uvloop.run(run())
    finally:
        rt.close()
    return 0


def _account_create(settings: Settings, email: str, password: str | None, as_json: bool) -> int:
    from paraph.account.service import check_password, create_account
    from paraph.errors import ApiError
    from paraph.wire.validators import check_email

    try:
        email = check_email(email)
        if password is not None:
            check_password(password)
    except ValueError as exc:
        say(str(exc))
        return 2
    try:
        created = _in_transaction(
            settings, lambda session, keys: create_account(session, keys, email, password=password)
        )
    except ApiError as exc:
        say(exc.error_msg + f" To set its password: paraph account set-password {email}")
        return 1
    out = {
        "account_id": created.account.account_id,
        "email_address": created.account.email_address,
        "api_key": created.api_key,
    }
    if as_json:
        print(json.dumps(out))
    else:
        print(f"account_id: {out['account_id']}\nemail:      {out['email_address']}\napi_key:    {out['api_key']}")
    if password is None:
        say(f"no dashboard password yet: set one with `paraph account set-password {email}`")
    return 0


def _account_set_password(settings: Settings, email: str, password: str | None) -> int:
    from paraph.account.service import check_password, set_password
    from paraph.errors import ApiError

    try:
        password = password if password is not None else read_password()
        check_password(password)
    except ValueError as exc:
        say(str(exc))
        return 2
    try:
        _in_transaction(settings, lambda session, _keys: set_password(session, email, password, source="cli"))
    except ApiError as exc:
        say(exc.error_msg)
        return 1
    say(f"password set for {email}; sign in at {settings.base_url}/login")
    return 0


def _in_transaction(settings: Settings, change: Callable[[Session, KeyBox], T]) -> T:
    """An account command's one change: migrations applied, then ``change`` in one unit of work, handed the
    process's KeyBox (an account's API key is stored encrypted)."""
    from paraph.migrate import upgrade
    from paraph.runtime import Runtime

    upgrade(settings.effective_database_url)
    rt = Runtime(settings)
    try:
        with rt.unit_of_work() as session:
            return change(session, rt.keys)
    finally:
        rt.close()


def _storage_migrate(settings: Settings, url: str) -> int:
    from paraph.config import parse_storage_url
    from paraph.storage import LocalStorage, open_location
    from paraph.storage.migrate import migrate

    try:
        location = parse_storage_url(url)
    except ValueError as exc:
        say(f"--to: {exc}")
        return 2
    source_dir = (settings.data_dir / "files").resolve()
    if location.scheme == "file" and location.path is not None and location.path.resolve() == source_dir:
        say("--to: the target is the data dir's files folder itself")
        return 2
    if not source_dir.is_dir():
        say(f"no files to copy: {source_dir} does not exist")
        return 0
    try:
        report = migrate(LocalStorage(source_dir), open_location(location), say)
    except Exception as exc:  # the target refused or could not be reached: one line, not a traceback
        say(f"cannot copy into {url.split('?')[0]}: {exc}")
        return 1
    print(f"{report.copied} copied, {report.skipped} already there, {len(report.failed)} failed")
    if report.failed:
        say("run the command again; files that failed their check: " + ", ".join(report.failed[:10]))
        return 1
    return 0


def read_password() -> str:
    """Twice at a terminal prompt (not echoed); otherwise one line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != first:
            raise ValueError("the two passwords differ; nothing changed")
        return first
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


if __name__ == "__main__":
    sys.exit(main())
