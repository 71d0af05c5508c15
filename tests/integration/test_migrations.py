"""The same Alembic migrations run on SQLite and PostgreSQL, from empty to head and back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from bot import migrate
from bot.settings import sync_database_url
from tests.support import drop_postgres, postgres_url


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_database_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()
    assert {"incidents", "alerts", "outbox", "timers", "timeline", "config_objects",
            "schedule_overrides", "audit_log"} <= _tables(url)
    migrate.downgrade(url, "base")
    assert _tables(url) == set()
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()


def test_sqlite_empty_to_head_and_back(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'empty.db'}")


@pytest.mark.postgres
def test_postgresql_empty_to_head_and_back() -> None:
    url = postgres_url(migrated=False)
    if url is None:
        pytest.skip("PostgreSQL: set DUTYBOT_TEST_DATABASE_URL")
    try:
        _round_trip(url)
    finally:
        drop_postgres(url)
