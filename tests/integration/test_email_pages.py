"""Paging by email over real SMTP (aiosmtplib → a local aiosmtpd server), and people's own preferences:
which ways per severity, in their order, and quiet hours that hold non-critical pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import FakeSMTP
from tests.support import FakeClock, Harness, alert, base_config, dm_users, start_harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_NIGHT = datetime(2026, 12, 7, 23, 30, tzinfo=SHANGHAI)


@pytest.fixture
def smtp() -> Iterator[FakeSMTP]:
    with FakeSMTP(username="dutybot", password="smtp-secret-value") as server:
        yield server


def _config(fake_slack: FakeSlack, smtp: FakeSMTP, **users: dict[str, Any]) -> dict[str, Any]:
    raw = base_config(slack_api_url=fake_slack.api_url)
    raw["platforms"]["email"] = {"host": "127.0.0.1", "port": smtp.port, "security": "none",
                                 "username": "dutybot", "password": "smtp-secret-value",
                                 "from_address": "dutybot@example.com"}
    for user in raw["users"]:
        user["email"] = f"{user['id']}@example.com"
        user.update(users.get(user["id"], {}))
    raw["escalation_policies"] = [{"id": "default", "steps": [
        {"after": "0m", "notify": [{"user": "alice"}, {"user": "bob"}, {"user": "carol"}], "via": ["dm", "email"]}]}]
    return raw


async def _run(db_url: str, raw: dict[str, Any], clock: FakeClock | None = None) -> AsyncIterator[Harness]:
    async for harness in start_harness(db_url, raw, clock=clock or FakeClock(MONDAY_NIGHT)):
        yield harness


async def test_a_level_pages_by_dm_and_email(db_url: str, fake_slack: FakeSlack, smtp: FakeSMTP) -> None:
    async for harness in _run(db_url, _config(fake_slack, smtp)):
        await harness.post_alerts([alert(severity="critical")])
        await harness.work()
        assert sorted(dm_users(fake_slack)) == ["UALICE", "UBOB", "UCAROL"]
        assert sorted(to for mail in smtp.mail for to in mail.to) == [
            "alice@example.com", "bob@example.com", "carol@example.com"]
        mail = smtp.mail[0]
        assert mail.subject.startswith("[critical] #1 HighCPU on prod")
        assert mail.sender == "dutybot@example.com" and smtp.logins == ["dutybot"] * 3
        assert "http://127.0.0.1:8080/" in mail.body  # the one-click links
        assert mail.message["Auto-Submitted"] == "auto-generated"
        notified = [entry["data"] for entry in (await harness.api("GET", "/incidents/1")).json()["timeline"]
                    if entry["kind"] == "notified" and entry["data"]["platform"] == "email"]
        assert sorted(entry["to"] for entry in notified) == ["alice", "bob", "carol"]


async def test_preferences_per_severity_and_quiet_hours(db_url: str, fake_slack: FakeSlack, smtp: FakeSMTP) -> None:
    raw = _config(fake_slack, smtp,
                  alice={"notify": {"warning": ["email"]}},  # warnings only by mail
                  bob={"quiet": {"weekly": [["mon 22:00", "tue 07:00"]]}},  # asleep on Monday nights
                  carol={"notify": {"warning": ["slack"]}})
    async for harness in _run(db_url, raw):
        await harness.post_alerts([alert(severity="warning")])
        await harness.work()
        assert dm_users(fake_slack) == ["UCAROL"]
        assert [mail.to for mail in smtp.mail] == [("alice@example.com",)]
        timeline = (await harness.api("GET", "/incidents/1")).json()["timeline"]
        assert [entry["data"]["user"] for entry in timeline if entry["kind"] == "quiet_hours"] == ["bob"]
        await harness.post_alerts([alert("DiskFull", fingerprint="disk", severity="critical")])
        await harness.work()
        assert "UBOB" in dm_users(fake_slack)  # quiet hours never hold a critical page


async def test_a_refused_mailbox_is_on_the_timeline_and_not_retried(db_url: str, fake_slack: FakeSlack,
                                                                    smtp: FakeSMTP) -> None:
    raw = _config(fake_slack, smtp)
    raw["escalation_policies"][0]["steps"][0] = {"after": "0m", "notify": [{"user": "alice"}], "via": ["email"]}
    async for harness in _run(db_url, raw):
        smtp.refuse_next("550 5.1.1 no such mailbox")
        await harness.post_alerts([alert()])
        await harness.work()
        harness.clock.advance(minutes=10)
        await harness.work()
        assert smtp.mail == []
        failed = [entry["data"] for entry in (await harness.api("GET", "/incidents/1")).json()["timeline"]
                  if entry["kind"] == "notify_failed"]
        assert len(failed) == 1 and "550" in failed[0]["error"] and "smtp-secret-value" not in str(failed)


async def test_a_busy_mail_server_is_tried_again(db_url: str, fake_slack: FakeSlack, smtp: FakeSMTP) -> None:
    raw = _config(fake_slack, smtp)
    raw["escalation_policies"][0]["steps"][0] = {"after": "0m", "notify": [{"user": "alice"}], "via": ["email"]}
    async for harness in _run(db_url, raw):
        smtp.refuse_next("451 4.3.0 try again later")
        await harness.post_alerts([alert()])
        await harness.work()
        assert smtp.mail == []
        harness.clock.advance(minutes=1)
        await harness.work()
        assert [mail.to for mail in smtp.mail] == [("alice@example.com",)]
