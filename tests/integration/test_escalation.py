"""Escalation over real timers rows: step 2 after its delay, repeats, nobody on call, restarts."""

from __future__ import annotations

from typing import Any

from bot.bootstrap import build_container
from bot.settings import Settings
from tests.fakes.slack import FakeSlack
from tests.support import FakeClock, Harness, alert, base_config, start_harness


def _dm_users(fake_slack: FakeSlack) -> list[str]:
    return [call.params["users"] for call in fake_slack.calls_to("conversations.open")]


async def test_step_two_fires_after_its_delay_not_before(harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.work()
    first = _dm_users(fake_slack)
    assert len(first) == 1
    harness.clock.advance(minutes=4, seconds=59)
    await harness.work()
    assert _dm_users(fake_slack) == first
    harness.clock.advance(seconds=1)
    await harness.work()
    assert _dm_users(fake_slack) == [*first, "UCAROL"]
    timeline = (await harness.api("GET", "/incidents/1")).json()["timeline"]
    assert [entry["data"].get("step") for entry in timeline if entry["kind"] == "escalated"] == [1, 2]


async def _custom(db_url: str, fake_slack: FakeSlack, **changes: Any):  # type: ignore[no-untyped-def]
    raw = base_config(slack_api_url=fake_slack.api_url)
    raw.update(changes)
    return start_harness(db_url, raw)


async def test_repeat_runs_the_policy_again(db_url: str, fake_slack: FakeSlack) -> None:
    policy = {"id": "default", "repeat": 1, "repeat_after": "10m", "steps": [
        {"after": "0m", "notify": [{"user": "alice"}]}, {"after": "30s", "notify": [{"user": "bob"}]}]}
    async for harness in await _custom(db_url, fake_slack, escalation_policies=[policy]):
        await harness.post_alerts([alert()])
        for seconds in (0, 30, 600, 30, 600):
            harness.clock.advance(seconds=seconds)
            await harness.work()
        assert _dm_users(fake_slack) == ["UALICE", "UBOB", "UALICE", "UBOB"]


async def test_nobody_on_call_is_on_the_timeline_and_channels_still_get_the_card(db_url: str,
                                                                               fake_slack: FakeSlack) -> None:
    raw = base_config(slack_api_url=fake_slack.api_url)
    raw["schedules"][0]["layers"][0]["start"] = "2099-01-05T10:00"  # the rotation has not started yet
    async for harness in start_harness(db_url, raw):
        await harness.post_alerts([alert()])
        await harness.work()
        assert [call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")] == ["CSRE"]
        kinds = [entry["kind"] for entry in (await harness.api("GET", "/incidents/1")).json()["timeline"]]
        assert "nobody_on_call" in kinds
        harness.clock.advance(minutes=5)
        await harness.work()
        assert _dm_users(fake_slack) == ["UCAROL"]  # step 2 is not skipped


async def test_timers_survive_a_restart(db_url: str, fake_slack: FakeSlack) -> None:
    clock = FakeClock()
    raw = base_config(slack_api_url=fake_slack.api_url)
    async for harness in start_harness(db_url, raw, clock=clock):
        await harness.post_alerts([alert()])
        await harness.work()
    # a new process: nothing in memory, only the database
    clock.advance(minutes=5)
    container = await build_container(Settings(database_url=db_url), clock=clock)
    try:
        while await container.worker.tick():
            pass
    finally:
        await container.close()
    assert _dm_users(fake_slack)[-1] == "UCAROL"


async def test_a_broken_timer_does_not_block_the_others(harness: Harness, fake_slack: FakeSlack) -> None:
    from sqlalchemy import update

    from bot.db.tables import Incident

    await harness.post_alerts([alert("Broken", fingerprint="x")])
    async with harness.container.db.transaction() as session:
        await session.execute(update(Incident).where(Incident.id == 1).values(policy={"steps": "garbage"}))
    harness.clock.advance(seconds=1)
    await harness.post_alerts([alert("Healthy", fingerprint="y")])
    await harness.work()
    texts = [call.params["text"] for call in fake_slack.calls_to("chat.postMessage")]
    assert texts and all("Healthy" in text for text in texts)
    timeline = [entry["kind"] for entry in (await harness.api("GET", "/incidents/1")).json()["timeline"]]
    assert "escalation_failed" in timeline
