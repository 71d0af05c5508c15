"""`dutybot apply`: load a config into the database idempotently, or say what would change."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.db.database import Database
from bot.db.tables import ApiToken, ConfigObject, Integration
from bot.services.audit import record


@dataclass(frozen=True)
class Change:
    verb: str  # create | update | delete
    kind: str
    id: str


def config_objects(config: Config) -> dict[tuple[str, str], dict[str, Any]]:
    """Every object the config defines, keyed by (kind, id), as JSON-ready specs."""
    account = {"timezone": config.timezone, "locale": config.locale, "public_url": config.public_url,
               "roles": config.roles, "email": config.email.model_dump(mode="json", exclude_none=True)}
    objects: dict[tuple[str, str], dict[str, Any]] = {("account", "account"): account}
    sections = (("user", config.users), ("team", config.teams), ("schedule", config.schedules),
                ("channel", config.channels), ("calendar", config.calendars),
                ("policy", config.escalation_policies), ("service", config.services),
                ("enrichment_table", config.enrichment_tables), ("webhook", config.webhooks))
    for kind, items in sections:
        for item in items:
            objects[(kind, item.id)] = item.model_dump(mode="json", exclude_none=True)
    for name in type(config.platforms).model_fields:
        block = getattr(config.platforms, name)
        if block is not None:
            objects[("platform", name)] = {"name": name, "spec": block.model_dump(mode="json", exclude_none=True)}
    return objects


def digest(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def plan(session: AsyncSession, config: Config) -> list[Change]:
    """What applying `config` would change, in a stable order."""
    wanted = config_objects(config)
    stored = {(row.kind, row.id): row.digest for row in (await session.execute(select(ConfigObject))).scalars()}
    changes = [Change("create" if key not in stored else "update", *key)
               for key, spec in wanted.items() if stored.get(key) != digest(spec)]
    changes += [Change("delete", *key) for key in stored if key not in wanted]
    return sorted(changes, key=lambda change: (change.kind, change.id))


async def apply_config(db: Database, config: Config, now: datetime, dry_run: bool = False,
                       actor: str = "cli") -> list[Change]:
    """Store `config`; running it twice changes nothing the second time. Each change gets an audit row
    (kind, id, verb only: specs can hold secrets). Runtime overrides are never touched."""
    async with db.transaction() as session:
        changes = await plan(session, config)
        if dry_run:
            return changes
        wanted = config_objects(config)
        for change in changes:
            key = (change.kind, change.id)
            row = await session.get(ConfigObject, key)
            if change.verb == "delete":
                await session.delete(row)
            elif row is None:
                session.add(ConfigObject(kind=change.kind, id=change.id, spec=wanted[key],
                                         digest=digest(wanted[key]), updated_at=now))
            else:
                row.spec, row.digest, row.updated_at = wanted[key], digest(wanted[key]), now
            record(session, now, actor, "config.apply", f"{change.kind}:{change.id}",
                   after={"kind": change.kind, "id": change.id, "verb": change.verb})
        await _rebuild_lookups(session, config)
    return changes


async def _rebuild_lookups(session: AsyncSession, config: Config) -> None:
    """Integration keys and API token digests are derived from the config; rewrite them whole."""
    await session.execute(delete(Integration))
    await session.execute(delete(ApiToken))
    await session.flush()
    for service in config.services:
        for integration in service.integrations:
            session.add(Integration(key=integration.key, kind=integration.kind, service_id=service.id))
    for token in config.api.tokens:
        secret = token.read_secret("token") or ""
        session.add(ApiToken(digest=token_digest(secret), name=token.name, user_id=token.user))
