"""Shift reminders: advance notice to outgoing and incoming, today's on-call, once per handoff with any workers."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.db.database import Database
from bot.db.tables import OutboxMessage
from bot.services.reminders import send_due_reminders
from tests.fakes.slack import FakeSlack
from tests.support import FakeClock, base_config, start_harness

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _config(slack_url: str, **notify: Any) -> dict[str, Any]:
    raw = base_config(slack_api_url=slack_url)
    raw["schedules"][0]["notify"] = {"channels": ["sre-slack"], **notify}
    raw["schedules"][0]["description"] = "Runbook: <https://wiki.example/sre|SRE wiki>"
    return raw


def _at(text: str) -> FakeClock:
    return FakeClock(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI))


async def _messages(db: Database) -> list[tuple[str, str]]:
    async with db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "message")
                                      .order_by(OutboxMessage.id))).all()
    return [(row.destination["label"], row.payload["text"]) for row in rows]


async def test_advance_notice_goes_to_outgoing_and_incoming_once(db_url: str, fake_slack: FakeSlack) -> None:
    # the weekly layer hands over from alice to bob on Monday 2026-01-12 at 10:00 Shanghai
    clock = _at("2026-01-12T09:29:00")
    async for harness in start_harness(db_url, _config(fake_slack.api_url, advance_minutes=30), clock=clock):
        db, directory = harness.container.db, await harness.container.directory()
        assert await send_due_reminders(db, directory, clock()) == 0
        clock.advance(minutes=1)
        assert await send_due_reminders(db, directory, clock()) == 2
        assert await send_due_reminders(db, directory, clock.advance(seconds=20)) == 0  # a later pass adds nothing
        sent = dict(await _messages(db))
        assert "starts at 2026-01-12 10:00:00 CST (taking over from Alice)" in sent["bob"]
        assert sent["bob"].endswith("Runbook: <https://wiki.example/sre|SRE wiki>")  # the schedule's notes
        assert "ends at 2026-01-12 10:00:00 CST; Bob takes over" in sent["alice"]
        await harness.work()
        dms = {call.params["channel"]: call.params["text"] for call in fake_slack.calls_to("chat.postMessage")}
        assert set(dms) == {"DUALICE", "DUBOB"} and dms["DUBOB"] == sent["bob"]


async def test_no_notice_for_a_handoff_an_override_removed(db_url: str, fake_slack: FakeSlack) -> None:
    raw = _config(fake_slack.api_url, advance_minutes=30)
    raw["schedules"][0]["overrides"] = [{"start": "2026-01-12T08:00", "end": "2026-01-12T12:00", "user": "bob"}]
    clock = _at("2026-01-12T09:30:00")
    async for harness in start_harness(db_url, raw, clock=clock):
        assert await send_due_reminders(harness.container.db, await harness.container.directory(), clock()) == 0
        assert await _messages(harness.container.db) == []


async def test_daily_notice_posts_today_to_the_channel_and_people(db_url: str, fake_slack: FakeSlack) -> None:
    clock = _at("2026-01-12T08:59:50")
    async for harness in start_harness(db_url, _config(fake_slack.api_url, daily_at="09:00"), clock=clock):
        db, directory = harness.container.db, await harness.container.directory()
        assert await send_due_reminders(db, directory, clock()) == 0
        assert await send_due_reminders(db, directory, clock.advance(seconds=15)) == 3  # channel, alice, bob
        assert await send_due_reminders(db, directory, clock.advance(minutes=30)) == 0
        text = dict(await _messages(db))["sre-slack"]
        assert text.splitlines() == ["📅 On call today (2026-01-12) on SRE:", "00:00–10:00  Alice",
                                     "10:00–00:00  Bob", "", "Runbook: <https://wiki.example/sre|SRE wiki>"]
        clock.advance(days=1, hours=2)  # the next day, but past the hour of grace: nothing is sent late
        assert await send_due_reminders(db, directory, clock()) == 0


async def test_two_workers_write_each_reminder_once(db_url: str, fake_slack: FakeSlack) -> None:
    clock = _at("2026-01-12T09:31:00")
    raw = _config(fake_slack.api_url, advance_minutes=30, daily_at="09:00")
    async for harness in start_harness(db_url, raw, clock=clock):
        directory = await harness.container.directory()
        workers = [Database(db_url) for _ in range(2)]
        try:
            written = await asyncio.gather(*(send_due_reminders(db, directory, clock()) for db in workers))
        finally:
            for db in workers:
                await db.close()
        assert sum(written) == 5  # 2 advance notices, the daily notice to the channel and to 2 people
        async with harness.container.db.transaction() as session:
            count = await session.scalar(select(func.count()).select_from(OutboxMessage))
        assert count == 5
