"""Alembic environment: the URL comes from the settings (or the caller), the metadata from bot.db.tables."""

from __future__ import annotations

from sqlalchemy import create_engine, pool

from alembic import context
from bot.db.tables import Base
from bot.settings import Settings, sync_database_url

config = context.config
url = config.attributes.get("database_url") or Settings().database_url
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=sync_database_url(url), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(sync_database_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
