"""The same Alembic migrations run on SQLite and PostgreSQL, from empty to head and back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from bot import migrate
from bot.settings import sync_database_url
from tests.support import drop_postgres


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_database_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()
    assert {"incidents", "alerts", "outbox", "timers", "timeline", "config_objects"} <= _tables(url)
    migrate.downgrade(url, "base")
    assert _tables(url) == set()
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()


def test_sqlite_empty_to_head_and_back(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'empty.db'}")


@pytest.mark.postgres
def test_postgresql_empty_to_head_and_back() -> None:
    base = os.environ.get("DUTYBOT_TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL: set DUTYBOT_TEST_DATABASE_URL")
    import uuid

    from sqlalchemy import text

    name = f"dutybot_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sync_database_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        _round_trip(url)
    finally:
        drop_postgres(url)
