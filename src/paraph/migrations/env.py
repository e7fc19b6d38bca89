"""Alembic environment: the URL comes from Settings (or the caller's Config), batch mode for SQLite."""

from __future__ import annotations

from alembic import context

import paraph.models  # noqa: F401  (registers every table)
from paraph.db import Base, create_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
if not url:
    from paraph.config import Settings

    url = Settings().effective_database_url


def run() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run_with(connectable)
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        _run_with(conn)
    engine.dispose()


def _run_with(conn: object) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
