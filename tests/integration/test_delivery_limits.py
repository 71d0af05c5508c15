"""Rate limits per destination and digests, over real timers and outbox rows, the fake Slack and the fake DingTalk
robot (which itself refuses a 21st message in a minute): a storm reaches every channel, within its limit, and no
incident is left out."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.tables import OutboxMessage
from core.delivery import LIMITS
from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.fakes.slack import FakeSlack
from tests.support import Harness, alert, base_config, start_harness

STORM = 30  # incidents at once: more than a DingTalk robot may take in a minute (19 here, 20 documented)


async def _storm(harness: Harness, count: int = STORM) -> None:
    answer = await harness.post_alerts([alert(f"Disk{i:02}", fingerprint=f"fp-{i}") for i in range(count)])
    assert answer.status_code == 202, answer.text
    assert len(answer.json()["incidents_created"]) == count


class Tally:
    """How many messages went out in each window of the fake clock, from a running total."""

    def __init__(self, total: Callable[[], int], window_seconds: int) -> None:
        self._total, self._window = total, window_seconds
        self.per_window: Counter[int] = Counter()
        self._seen = 0

    def record(self, now: float) -> None:
        total = self._total()
        self.per_window[int(now) // self._window] += total - self._seen
        self._seen = total


async def _run(harness: Harness, seconds: int, tally: Tally | None = None) -> None:
    """The worker, second by second of the fake clock, for `seconds`, tallying what was sent each second."""
    for _ in range(seconds):
        await harness.work()
        if tally is not None:
            tally.record(harness.clock().timestamp())
        harness.clock.advance(seconds=1)


async def _outbox(harness: Harness) -> list[OutboxMessage]:
    async with harness.container.db.transaction() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def _robot_text(message: dict[str, Any]) -> str:
    return str(message.get("markdown", {}).get("text") or message.get("actionCard", {}).get("text") or message)


async def test_a_storm_stays_within_the_robot_limit_and_the_rest_arrive_as_a_digest(
        db_url: str, fake_slack: FakeSlack, fake_robot: FakeDingTalkRobot) -> None:
    raw = base_config(slack_api_url=fake_slack.api_url, dingtalk_webhook=fake_robot.webhook_url,
                      dingtalk_secret=fake_robot.secret)
    async for harness in start_harness(db_url, raw):
        robot = Tally(lambda: len(fake_robot.messages), 60)
        await _storm(harness)
        await _run(harness, 75, robot)
        (robot_limit,) = LIMITS[("dingtalk-robot", "robot")]
        assert max(robot.per_window.values()) <= robot_limit[1]
        assert all(request.code == 0 for request in fake_robot.requests)  # the robot never said "too fast"
        messages = fake_robot.messages
        cards, digests = messages[:robot_limit[1]], messages[robot_limit[1]:]
        assert len(cards) == robot_limit[1] and len(digests) == 1
        text = _robot_text(digests[0])
        assert f"{STORM - robot_limit[1]} incidents in one message" in text
        for number in range(robot_limit[1] + 1, STORM + 1):  # every incident not sent as a card is in it
            assert f"#{number} [Critical] Disk{number - 1:02} on prod (Triggered)" in text

        rows = await _outbox(harness)
        assert {row.status for row in rows} <= {"sent", "digested"}  # nothing lost, nothing failed
        assert max(row.attempts for row in rows) == 1  # waiting for a limit is not a failed attempt
        for incident_id in range(1, STORM + 1):  # every incident's timeline says the robot was told
            timeline = (await harness.api("GET", f"/incidents/{incident_id}")).json()["timeline"]
            told = [entry for entry in timeline if entry["kind"] == "notified" and entry["data"]["to"] == "ding-robot"]
            assert len(told) == 1, incident_id


async def test_the_slack_channel_gets_one_message_a_second_and_a_digest_when_it_backs_up(
        db_url: str, fake_slack: FakeSlack) -> None:
    async for harness in start_harness(db_url, base_config(slack_api_url=fake_slack.api_url)):
        channel = Tally(lambda: sum(1 for call in fake_slack.calls_to("chat.postMessage")
                                    if call.params["channel"] == "CSRE"), 1)
        await _storm(harness)
        await _run(harness, 35, channel)
        assert max(channel.per_window.values()) == 1
        posts = [call for call in fake_slack.calls_to("chat.postMessage") if call.params["channel"] == "CSRE"]
        digests = [call for call in posts if "blocks" not in call.params]
        assert len(digests) == 1 and len(posts) < STORM  # cards for the first seconds, then one digest
        listed = str(digests[0].params["text"])
        assert f"{STORM - (len(posts) - 1)} incidents in one message" in listed
        # the on-call person's DMs back up the same way: cards at 1/s, then one digest, and each incident once
        dms = [call for call in fake_slack.calls_to("chat.postMessage") if call.params["channel"] != "CSRE"]
        dm_digests = [call for call in dms if "blocks" not in call.params]
        assert len(dm_digests) == 1 and len(dms) < STORM
        for incident_id in range(1, STORM + 1):
            timeline = (await harness.api("GET", f"/incidents/{incident_id}")).json()["timeline"]
            told = [entry["data"]["to"] for entry in timeline if entry["kind"] == "notified"]
            assert sorted(told) == ["alice", "sre-slack"], incident_id


async def test_a_dm_digest_leaves_out_incidents_someone_took_meanwhile(db_url: str, fake_slack: FakeSlack) -> None:
    async for harness in start_harness(db_url, base_config(slack_api_url=fake_slack.api_url)):
        await _storm(harness)
        await _run(harness, 3)
        for incident_id in (20, 21):
            assert (await harness.api("POST", f"/incidents/{incident_id}/ack")).json()["changed"] is True
        await _run(harness, 15)
        (digest,) = [call for call in fake_slack.calls_to("chat.postMessage")
                     if call.params["channel"] != "CSRE" and "blocks" not in call.params]
        assert "#20 " not in digest.params["text"] and "#21 " not in digest.params["text"]
        assert "#22 " in digest.params["text"]
        kinds = [entry["kind"] for entry in (await harness.api("GET", "/incidents/20")).json()["timeline"]]
        assert "not_sent" in kinds


async def test_a_digest_names_twenty_and_counts_the_rest(db_url: str, fake_slack: FakeSlack) -> None:
    async for harness in start_harness(db_url, base_config(slack_api_url=fake_slack.api_url)):
        await _storm(harness, 40)
        await _run(harness, 15)
        (digest,) = [call for call in fake_slack.calls_to("chat.postMessage")
                     if call.params["channel"] == "CSRE" and "blocks" not in call.params]
        text = str(digest.params["text"])
        folded = int(text.split(" incidents in one message")[0].rsplit("\n", 1)[-1])
        assert text.count("\n#") == 20 and f"…and {folded - 20} more" in text


@pytest.mark.redis
async def test_with_redis_two_processes_share_one_limit(db_url: str, fake_slack: FakeSlack) -> None:
    url = os.environ.get("DUTYBOT_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis: set DUTYBOT_TEST_REDIS_URL")
    from redis.asyncio import Redis

    from bot.coordination import RedisRollingLimiter
    from core.delivery import limit_key
    from core.ports import Destination

    redis = Redis.from_url(url)
    prefix = f"test-{uuid.uuid4().hex}:"
    try:
        limiter_a, limiter_b = RedisRollingLimiter(redis, prefix=prefix), RedisRollingLimiter(redis, prefix=prefix)
        robot = Destination("dingtalk-robot", "robot", "ding-robot")
        windows = LIMITS[("dingtalk-robot", "robot")]
        now = 1_800_000_000.0
        admitted = 0
        for index in range(40):  # two dispatchers taking turns within one minute
            limiter = limiter_a if index % 2 else limiter_b
            if await limiter.admit(limit_key(robot), windows, now + index) is None:
                admitted += 1
        assert admitted == windows[0][1]
        assert await redis.keys(prefix + "send:*")  # the counters are in Redis, under a digest of the address
        assert not await redis.keys(prefix + "*ding-robot*")
    finally:
        for key in await redis.keys(prefix + "*"):
            await redis.delete(key)
        await redis.aclose()
