"""Process settings from the environment (`DUTYBOT_*`); the YAML config is loaded separately."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One validated settings object; secrets are SecretStr so their repr is masked."""

    model_config = SettingsConfigDict(env_prefix="DUTYBOT_", extra="ignore")

    database_url: str = "sqlite:///./dutybot.db"
    redis_url: SecretStr | None = None
    config: str | None = None  # path of the YAML config applied at start (`serve -f` sets it)
    secret_key: SecretStr | None = None  # signs one-click links; generated and kept in the database if unset
    worker_poll_seconds: float = 0.5
    locale: str | None = None  # language of command-line output; default: the config's, else zh-CN
    smtp_host: str = "127.0.0.1"  # email ingest listens here when the config has an email integration
    smtp_port: int = 2525


def async_database_url(url: str) -> str:
    """The async driver URL for a plain `sqlite:///` or `postgresql://` URL."""
    if url.startswith("sqlite:///") or url.startswith("sqlite://"):
        return url.replace("sqlite://", "sqlite+aiosqlite://", 1)
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def sync_database_url(url: str) -> str:
    """The synchronous driver URL Alembic runs migrations with."""
    url = url.replace("sqlite+aiosqlite://", "sqlite://", 1)
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
