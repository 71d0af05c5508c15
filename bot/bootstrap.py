"""The composition root: the only place that builds engines and clients and picks real or fake parts."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import IntegrityError

from adapters.email.send import EmailSender
from adapters.robots.send import RobotSender
from adapters.slack.inbound import build_app
from adapters.slack.send import SlackSender
from bot import logsafety
from bot.config import IntegrationConfig
from bot.coordination import (
    MemoryDeduper,
    MemoryLeader,
    MemoryRateLimiter,
    MemoryRollingLimiter,
    RateLimiter,
    RedisDeduper,
    RedisLeader,
    RedisRateLimiter,
    RedisRollingLimiter,
)
from bot.db.database import Database
from bot.db.tables import KeyValue
from bot.directory import Directory, load_directory
from bot.metrics import Metrics
from bot.services.chat import ChatInbound
from bot.services.dispatch import Dispatcher
from bot.services.ingest import IngestQueue
from bot.services.lookup import Lookups
from bot.services.webhooks import WebhookSender
from bot.settings import Settings
from bot.worker import Worker
from core.ports import Deduper

DIRECTORY_TTL_SECONDS = 2.0


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    """Everything the web app and the worker need, built once per process."""

    settings: Settings
    db: Database
    clock: Callable[[], datetime]
    link_key: bytes
    metrics: Metrics
    deduper: Deduper
    http: httpx.AsyncClient
    dispatcher: Dispatcher
    worker: Worker
    rate_limiter: RateLimiter = field(default_factory=MemoryRateLimiter)
    lookups: Lookups | None = None  # enrichment's CMDB lookups, sharing `http`
    ingest_queue: IngestQueue | None = None  # group commit of concurrent ingest requests
    slack_app: AsyncApp | None = None
    slack_signing_secret: str | None = None
    _directory: Directory | None = None
    _directory_loaded: float = 0.0
    _closers: list[Any] = field(default_factory=list)

    async def directory(self) -> Directory:
        """The applied config, re-read at most every couple of seconds."""
        if self._directory is None or time.monotonic() - self._directory_loaded > DIRECTORY_TTL_SECONDS:
            async with self.db.transaction() as session:
                self._directory = await load_directory(session)
            self._directory_loaded = time.monotonic()
        return self._directory

    async def rate_wait(self, integration: IntegrationConfig) -> int | None:
        """Count one request (a webhook, a mail) against the integration's rate limit: None when admitted, else
        the seconds to wait. The key is a credential, so the counters are kept under a digest of it."""
        limit = integration.rate_limit
        if limit == "off":
            return None
        counter = hashlib.sha256(integration.key.encode()).hexdigest()[:24]
        wait = await self.rate_limiter.admit(counter, ((1, limit.per_second), (60, limit.per_minute)),
                                             self.clock().timestamp())
        return None if wait is None else math.ceil(wait)  # Retry-After takes whole seconds

    def forget_directory(self) -> None:
        self._directory = None

    async def close(self) -> None:
        for closer in self._closers:
            await closer()
        await self.http.aclose()
        await self.db.close()


async def build_container(settings: Settings, clock: Callable[[], datetime] = system_clock,
                          redis: Any = None) -> Container:
    """Build from settings; the database must already be migrated and the config applied."""
    logsafety.install()
    db = Database(settings.database_url)
    link_key = await _link_key(db, settings)
    async with db.transaction() as session:
        directory = await load_directory(session)
    http = httpx.AsyncClient(trust_env=False)
    slack_client, signing_secret = None, None
    if directory.platforms.slack is not None:
        slack = directory.platforms.slack
        slack_client = AsyncWebClient(token=slack.read_secret("bot_token"), base_url=slack.api_url,
                                      timeout=slack.timeout_seconds)  # type: ignore[arg-type]  # aiohttp takes a float
        signing_secret = slack.read_secret("signing_secret")
    metrics = Metrics()
    closers: list[Any] = []
    if redis is None and settings.redis_url is not None:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url.get_secret_value())
        closers.append(redis.aclose)
    deduper: Deduper = RedisDeduper(redis) if redis is not None else MemoryDeduper()
    # ingest is limited per integration in fixed windows (like any API); sends per destination in rolling ones,
    # as the platforms count them; both shared through Redis when it is set
    rate_limiter = RedisRateLimiter(redis) if redis is not None else MemoryRateLimiter()
    send_limiter = RedisRollingLimiter(redis) if redis is not None else MemoryRollingLimiter()
    dispatcher = Dispatcher(db, SlackSender(slack_client) if slack_client else None, RobotSender(http),
                            link_key, on_sent=lambda platform, ok: metrics.notifications.labels(
                                platform, "ok" if ok else "error").inc(), limiter=send_limiter,
                            webhooks=WebhookSender(http),
                            email=EmailSender(directory.platforms.email) if directory.platforms.email else None)
    container = Container(settings=settings, db=db, clock=clock, link_key=link_key, metrics=metrics,
                          deduper=deduper, http=http, dispatcher=dispatcher, worker=None,  # type: ignore[arg-type]
                          rate_limiter=rate_limiter,
                          lookups=Lookups(http), ingest_queue=IngestQueue(db),
                          _closers=closers)
    leader = RedisLeader(redis) if redis is not None else MemoryLeader()
    container.worker = Worker(db, dispatcher, container.directory, clock, settings.worker_poll_seconds, leader)
    if slack_client is not None and signing_secret:
        def page_url(directory: Directory, schedule_id: str) -> str:
            from bot.web.signed import schedule_page_url  # the web layer builds the URL; imported late (cycle)

            return schedule_page_url(container, directory, schedule_id)

        inbound = ChatInbound(db, container.directory, clock, on_change=container.worker.wake,
                              forget=container.forget_directory, page_url=page_url)
        container.slack_app = build_app(signing_secret, slack_client, inbound)
        container.slack_signing_secret = signing_secret
    return container


async def _link_key(db: Database, settings: Settings) -> bytes:
    """The key that signs one-click links: from settings, or made once and kept in the database."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    try:
        async with db.transaction() as session:
            row = await session.get(KeyValue, "link_key")
            if row is None:
                row = KeyValue(key="link_key", value=secrets.token_hex(32))
                session.add(row)
            return row.value.encode()
    except IntegrityError:  # another process started at the same moment and made it first: use theirs
        async with db.transaction() as session:
            kept = await session.get(KeyValue, "link_key")
            assert kept is not None
            return kept.value.encode()
