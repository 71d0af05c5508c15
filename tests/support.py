"""Shared test helpers: a controllable clock, databases on both engines, a config builder, the app harness."""

from __future__ import annotations

import atexit
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text

from bot import migrate
from bot.apply import apply_config
from bot.bootstrap import Container, build_container
from bot.config import Config, parse_config
from bot.db.database import Database
from bot.settings import Settings
from bot.web.app import create_app

ALERTMANAGER_KEY = "am-key-0123456789abcdef"
API_TOKEN = "test-api-token-0123456789"
SIGNING_SECRET = "slack-signing-secret-for-tests"
BOT_TOKEN = "xoxb-test-token"
ROBOT_TOKEN = "robot-access-token"
ROBOT_SECRET = "SECrobotsecret"


class FakeClock:
    """Starts at the real time (so Slack-style signatures made now are fresh) and moves when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


_SQLITE_TEMPLATE: Path | None = None


def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database at head, copied from one migrated template per test session."""
    global _SQLITE_TEMPLATE
    if _SQLITE_TEMPLATE is None or not _SQLITE_TEMPLATE.exists():
        template = Path(os.environ.get("TMPDIR", "/tmp")) / f"dutybot-template-{uuid.uuid4().hex}.db"
        migrate.upgrade(f"sqlite:///{template}")
        _SQLITE_TEMPLATE = template
    target = tmp_path / "dutybot.db"
    shutil.copy(_SQLITE_TEMPLATE, target)
    return f"sqlite:///{target}"


_PG_TEMPLATE: str | None = None


def postgres_url(migrated: bool = True) -> str | None:
    """A fresh PostgreSQL database per call (at head unless told otherwise), or None when
    DUTYBOT_TEST_DATABASE_URL is unset. One database is migrated per test session and each migrated one is
    created from it (CREATE DATABASE … TEMPLATE: about 50 ms against 210 ms for running the migrations)."""
    global _PG_TEMPLATE
    base = os.environ.get("DUTYBOT_TEST_DATABASE_URL")
    if not base:
        return None
    if migrated and _PG_TEMPLATE is None:
        template = postgres_url(migrated=False)
        assert template is not None
        migrate.upgrade(template)
        _PG_TEMPLATE = template.rsplit("/", 1)[1]
        atexit.register(drop_postgres, template)
    name = f"dutybot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_sync(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        source = f' TEMPLATE "{_PG_TEMPLATE}"' if migrated else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{source}'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def drop_postgres(url: str) -> None:
    base = os.environ["DUTYBOT_TEST_DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    admin = create_engine(_sync(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _sync(url: str) -> str:
    from bot.settings import sync_database_url

    return sync_database_url(url)


def base_config(slack_api_url: str | None = None, dingtalk_webhook: str | None = None,
                dingtalk_secret: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A small account: three people on a weekly rotation, a two-step policy, one service."""
    config: dict[str, Any] = {
        "timezone": "Asia/Shanghai", "locale": "en", "public_url": "http://127.0.0.1:8080",
        "users": [
            {"id": "alice", "name": "Alice", "im": {"slack": "UALICE"}},
            {"id": "bob", "name": "Bob", "im": {"slack": "UBOB"}},
            {"id": "carol", "name": "Carol", "im": {"slack": "UCAROL"}},
        ],
        "teams": [{"id": "sre", "name": "SRE", "members": ["alice", "bob", "carol"]}],
        "schedules": [{
            "id": "sre", "name": "SRE", "timezone": "Asia/Shanghai",
            "layers": [{"name": "weekly", "members": ["alice", "bob", "carol"], "start": "2026-01-05T10:00",
                        "rotation": {"every": 1, "unit": "week"}, "handoff": {"weekday": "mon", "time": "10:00"}}],
            "notify": {"channels": []},
        }],
        "channels": [],
        "escalation_policies": [{"id": "default", "steps": [
            {"after": "0m", "notify": [{"schedule": "sre"}], "via": ["dm"]},
            {"after": "5m", "notify": [{"user": "carol"}], "via": ["dm"]},
        ]}],
        "services": [{"id": "payments", "name": "Payments", "escalation_policy": "default",
                      "integrations": [{"kind": "alertmanager", "key": ALERTMANAGER_KEY}],
                      "grouping": {"by": ["alertname", "cluster"]}}],
        "api": {"tokens": [{"name": "ci", "user": "alice", "token": API_TOKEN}]},
    }
    via = ["dm"]
    if slack_api_url:
        config["platforms"] = {"slack": {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET,
                                         "api_url": slack_api_url}}
        config["channels"].append({"id": "sre-slack", "platform": "slack", "chat_id": "CSRE"})
        via.append("sre-slack")
    if dingtalk_webhook:
        channel = {"id": "ding-robot", "platform": "dingtalk-robot", "webhook": dingtalk_webhook}
        if dingtalk_secret:
            channel["secret"] = dingtalk_secret
        config["channels"].append(channel)
        via.append("ding-robot")
    config["escalation_policies"][0]["steps"][0]["via"] = via
    config.update(overrides)
    return config


def layered_config(override_start: str, override_end: str, **account: Any) -> dict[str, Any]:
    """`base_config` whose SRE schedule has two layers (weekly 24/7, then weekday office hours for carol) and
    one override (bob), plus a second schedule, DBA in Berlin, of role pairs every three days."""
    raw = base_config(roles=["primary", "backup"], **account)
    sre = raw["schedules"][0]
    sre["layers"].append({
        "name": "office", "members": ["carol"], "start": "2026-01-05T00:00", "rotation": {"every": 1, "unit": "day"},
        "date_mask": ["mon", "tue", "wed", "thu", "fri"], "restrict": {"daily": [["09:00", "18:00"]]}})
    sre["overrides"] = [{"start": override_start, "end": override_end, "user": "bob"}]
    raw["schedules"].append({
        "id": "dba", "name": "DBA", "timezone": "Europe/Berlin",
        "layers": [{"name": "pairs", "members": [{"primary": "alice", "backup": "carol"},
                                                 {"primary": "bob", "backup": "alice"},
                                                 {"primary": "carol", "backup": "bob"}],
                    "start": "2026-01-01T08:00", "rotation": {"every": 3, "unit": "day"}}]})
    return raw


def to_config(raw: dict[str, Any]) -> Config:
    return parse_config(yaml.safe_dump(raw, allow_unicode=True))


@dataclass
class Harness:
    """The app in-process over a real database, with a controllable clock and an HTTP client."""

    container: Container
    client: httpx.AsyncClient
    clock: FakeClock
    db_url: str

    async def post_alerts(self, alerts: list[dict[str, Any]], key: str = ALERTMANAGER_KEY) -> httpx.Response:
        return await self.client.post(f"/hooks/alertmanager/{key}", json=alertmanager_payload(alerts))

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {API_TOKEN}"}
        return await self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    async def work(self) -> int:
        """Run worker passes until nothing is left to do right now."""
        total = 0
        while done := await self.container.worker.tick():
            total += done
        return total


async def start_harness(db_url: str, raw_config: dict[str, Any], clock: FakeClock | None = None,
                        redis: Any = None) -> AsyncIterator[Harness]:
    clock = clock or FakeClock()
    db = Database(db_url)
    await apply_config(db, to_config(raw_config), clock())
    await db.close()
    container = await build_container(Settings(database_url=db_url), clock=clock, redis=redis)
    transport = httpx.ASGITransport(app=create_app(container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://dutybot.test") as client:
            yield Harness(container=container, client=client, clock=clock, db_url=db_url)
    finally:  # also when the caller leaves its `async for` early
        await container.close()


def alert(name: str = "HighCPU", status: str = "firing", fingerprint: str = "fp-1", cluster: str = "prod",
          severity: str = "critical", **labels: str) -> dict[str, Any]:
    return {"status": status, "labels": {"alertname": name, "cluster": cluster, "severity": severity, **labels},
            "annotations": {"summary": f"{name} on {cluster}"}, "startsAt": "2026-11-25T10:00:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-25T10:05:00Z",
            "generatorURL": "http://prometheus.local/graph", "fingerprint": fingerprint}


def alertmanager_payload(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    status = "firing" if any(item.get("status", "firing") == "firing" for item in alerts) else "resolved"
    return {"version": "4", "groupKey": "{}:{alertname=\"x\"}", "truncatedAlerts": 0, "status": status,
            "receiver": "dutybot", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager.local", "alerts": alerts}


def slack_action_form(user: str, action: str, incident_id: int, response_url: str,
                      trigger_id: str = "trigger-1") -> bytes:
    """A `block_actions` click as Slack posts it: form-encoded `payload=<json>`."""
    import json
    from urllib.parse import urlencode

    payload = {"type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": "T1"},
               "team": {"id": "T1"}, "api_app_id": "A1", "trigger_id": trigger_id, "response_url": response_url,
               "channel": {"id": "CSRE", "name": "sre"},
               "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "CSRE"},
               "message": {"ts": "1700000000.000100", "text": "card"},
               "actions": [{"type": "button", "action_id": action, "block_id": f"incident:{incident_id}",
                            "value": str(incident_id), "action_ts": "1700000001.0"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def slack_select_form(user: str, action: str, incident_id: int, value: str, response_url: str,
                      label: str = "1 hour", trigger_id: str = "trigger-1") -> bytes:
    """A choice from a card's select menu (`static_select`) as Slack posts it: form-encoded `payload=<json>`
    whose action carries the chosen option (its `value` as the card rendered it) instead of a button value."""
    import json
    from urllib.parse import urlencode

    option = {"text": {"type": "plain_text", "text": label, "emoji": True}, "value": value}
    payload = {"type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": "T1"},
               "team": {"id": "T1"}, "api_app_id": "A1", "trigger_id": trigger_id, "response_url": response_url,
               "channel": {"id": "CSRE", "name": "sre"},
               "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "CSRE"},
               "message": {"ts": "1700000000.000100", "text": "card"},
               "actions": [{"type": "static_select", "action_id": action, "block_id": f"incident:{incident_id}",
                            "selected_option": option, "placeholder": {"type": "plain_text", "text": "Silence…"},
                            "action_ts": "1700000001.0"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def slack_command_form(user: str, channel: str, response_url: str, command: str = "/oncall",
                       text: str = "") -> bytes:
    from urllib.parse import urlencode

    return urlencode({"team_id": "T1", "channel_id": channel, "channel_name": "sre", "user_id": user,
                      "user_name": user.lower(), "command": command, "text": text, "api_app_id": "A1",
                      "response_url": response_url, "trigger_id": "trigger-2"}).encode()


async def post_slack(client: httpx.AsyncClient, body: bytes, now: datetime, secret: str = SIGNING_SECRET,
                     content_type: str = "application/x-www-form-urlencoded") -> httpx.Response:
    """POST to /slack/events signed the way Slack signs (v0 HMAC-SHA256) at time `now`."""
    from tests.fakes.slack import FakeSlack

    headers = FakeSlack.sign(secret, body, int(now.timestamp()))
    headers["content-type"] = content_type
    return await client.post("/slack/events", content=body, headers=headers)


def dm_users(fake_slack: Any) -> list[str]:
    """The Slack users Dutybot opened a DM with, in order: who was paged (tests.fakes.slack.FakeSlack)."""
    return [call.params["users"] for call in fake_slack.calls_to("conversations.open")]


async def rename_table(harness: Harness, old: str, new: str) -> None:
    """Take a table away (or give it back): a real failure of the database writes that use it."""
    async with harness.container.db.transaction() as session:
        await session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
