"""paraph serve | worker | migrate | account create."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence

from paraph.config import Settings, settings_help


def _epilog() -> str:
    lines = ["settings (environment variables):"]
    for name, default, desc in settings_help():
        lines.append(f"  {name}  {desc}" + (f" (default: {default})" if default else ""))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="paraph",
        description="Paraph: a self-hostable, drop-in replacement for the Dropbox Sign API v3.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API, the pages and in-process background workers")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations at start")
    serve.add_argument("--no-worker", action="store_true", help="serve only; leave background work to `paraph worker`")
    sub.add_parser("worker", help="run background work only (callback delivery and jobs), for scale-out")
    sub.add_parser("migrate", help="apply database migrations")
    account = sub.add_parser("account", help="manage accounts")
    acc_sub = account.add_subparsers(dest="account_command", required=True)
    create = acc_sub.add_parser("create", help="create an account and print its API key")
    create.add_argument("email")
    create.add_argument("--password", help="dashboard password (sign-in at /login)")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    settings.ensure_dirs()
    if args.command == "migrate":
        from paraph.migrate import upgrade

        upgrade(settings.effective_database_url)
        print("migrations applied")
        return 0
    if args.command == "serve":
        return _serve(settings, args.host, args.port, migrate=not args.no_migrate, worker=not args.no_worker)
    if args.command == "worker":
        return _worker(settings)
    if args.command == "account" and args.account_command == "create":
        return _account_create(settings, args.email, args.password, args.json)
    return 2


def _serve(settings: Settings, host: str, port: int, *, migrate: bool, worker: bool) -> int:
    import uvicorn

    from paraph.app import create_app

    if migrate:
        from paraph.migrate import upgrade

        upgrade(settings.effective_database_url)
    app = create_app(settings, run_worker=worker, warm_pdf_pool=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="info",
        timeout_graceful_shutdown=int(settings.callback_timeout) + 5,
    )
    return 0


def _worker(settings: Settings) -> int:
    from paraph import tasks
    from paraph.runtime import Runtime
    from paraph.worker.runner import Worker

    tasks.load()
    rt = Runtime(settings)
    rt.pdf_pool.warm()
    worker = Worker(rt)

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
    from paraph.account.service import create_account
    from paraph.errors import ApiError
    from paraph.migrate import upgrade
    from paraph.runtime import Runtime
    from paraph.wire.validators import check_email

    try:
        email = check_email(email)
    except ValueError as exc:
        print(f"paraph: {exc}", file=sys.stderr)
        return 2
    upgrade(settings.effective_database_url)
    rt = Runtime(settings)
    try:
        with rt.unit_of_work() as session:
            created = create_account(session, email, password=password)
            out = {
                "account_id": created.account.account_id,
                "email_address": created.account.email_address,
                "api_key": created.api_key,
            }
    except ApiError as exc:
        print(f"paraph: {exc.error_msg}", file=sys.stderr)
        return 1
    finally:
        rt.close()
    if as_json:
        print(json.dumps(out))
    else:
        print(f"account_id: {out['account_id']}\nemail:      {out['email_address']}\napi_key:    {out['api_key']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
