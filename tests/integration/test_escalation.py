"""Escalation over real timers rows: step 2 after its delay, repeats, nobody on call, restarts."""

from __future__ import annotations

from typing import Any

from bot.bootstrap import build_container
from bot.settings import Settings
from tests.fakes.slack import FakeSlack
from tests.support import FakeClock, Harness, alert, base_config, dm_users, start_harness


async def test_step_two_fires_after_its_delay_not_before(harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.work()
    first = dm_users(fake_slack)
    assert len(first) == 1
    harness.clock.advance(minutes=4, seconds=59)
    await harness.work()
    assert dm_users(fake_slack) == first
    harness.clock.advance(seconds=1)
    await harness.work()
    assert dm_users(fake_slack) == [*first, "UCAROL"]
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
        assert dm_users(fake_slack) == ["UALICE", "UBOB", "UALICE", "UBOB"]


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
        assert dm_users(fake_slack) == ["UCAROL"]  # step 2 is not skipped


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
    assert dm_users(fake_slack)[-1] == "UCAROL"


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


DB_POLICY = {"id": "db", "steps": [{"after": "0m", "notify": [{"user": "bob"}]}]}


async def test_an_escalation_rule_picks_the_policy_of_a_new_incident(db_url: str, fake_slack: FakeSlack) -> None:
    raw = base_config(slack_api_url=fake_slack.api_url)
    raw["escalation_policies"].append(DB_POLICY)
    raw["services"][0]["escalation_rules"] = [
        {"name": "databases", "if": [[{"key": "labels.team", "in": ["db"]}]], "policy": "db"}]
    async for harness in start_harness(db_url, raw):
        await harness.post_alerts([alert("ReplicaLag", fingerprint="a", team="db")])
        await harness.work()
        assert dm_users(fake_slack) == ["UBOB"]  # the db policy, not the service's default (the SRE rotation)
        await harness.post_alerts([alert("HighCPU", fingerprint="b")])
        await harness.work()
        assert len(dm_users(fake_slack)) == 2 and dm_users(fake_slack)[-1] != "UBOB"
        created = [[entry["data"] for entry in (await harness.api("GET", f"/incidents/{number}")).json()["timeline"]
                    if entry["kind"] == "created"][0] for number in (1, 2)]
        assert (created[0]["policy"], created[0]["rule"]) == ("db", "databases")
        assert created[1]["policy"] == "default" and "rule" not in created[1]


def test_a_rule_naming_a_missing_policy_is_refused_with_its_path() -> None:
    import pytest
    import yaml

    from bot.config import ConfigError, parse_config

    raw = base_config()
    raw["services"][0]["escalation_rules"] = [{"name": "databases", "policy": "nope"}]
    with pytest.raises(ConfigError) as refused:
        parse_config(yaml.safe_dump(raw))
    problems = refused.value.errors
    assert any(problem.startswith("services[0].escalation_rules[0].policy: no escalation policy 'nope'")
               for problem in problems), problems


async def test_a_level_pages_again_until_acknowledged_and_stops_before_the_next_level(
        db_url: str, fake_slack: FakeSlack) -> None:
    policy = {"id": "default", "steps": [
        {"after": "0m", "notify": [{"user": "alice"}], "repeat_every": "1m", "repeat_times": 5},
        {"after": "150s", "notify": [{"user": "carol"}]}]}
    async for harness in await _custom(db_url, fake_slack, escalation_policies=[policy]):
        await harness.post_alerts([alert()])
        for seconds in (0, 60, 60, 30, 30, 60):  # t = 0, 60, 120 (alice), 150 (carol), 180, 240
            harness.clock.advance(seconds=seconds)
            await harness.work()
        assert dm_users(fake_slack) == ["UALICE", "UALICE", "UALICE", "UCAROL"]  # no repeat at 180: level 2 came
        escalated = [entry["data"] for entry in (await harness.api("GET", "/incidents/1")).json()["timeline"]
                     if entry["kind"] == "escalated"]
        assert [(entry["step"], entry.get("repeat")) for entry in escalated] == [(1, None), (1, 1), (1, 2), (2, None)]


async def test_an_ack_stops_a_level_paging_again(db_url: str, fake_slack: FakeSlack) -> None:
    policy = {"id": "default", "steps": [
        {"after": "0m", "notify": [{"user": "alice"}], "repeat_every": "1m", "repeat_times": 5},
        {"after": "1h", "notify": [{"user": "carol"}]}]}
    async for harness in await _custom(db_url, fake_slack, escalation_policies=[policy]):
        await harness.post_alerts([alert()])
        await harness.work()
        harness.clock.advance(seconds=60)
        await harness.work()
        assert (await harness.api("POST", "/incidents/1/ack")).status_code == 200
        harness.clock.advance(minutes=10)
        await harness.work()
        assert dm_users(fake_slack) == ["UALICE", "UALICE"]  # the ack stopped the repeats


async def test_until_resolved_keeps_escalating_after_an_ack(db_url: str, fake_slack: FakeSlack) -> None:
    policy = {"id": "default", "until": "resolved", "steps": [
        {"after": "0m", "notify": [{"user": "alice"}]}, {"after": "5m", "notify": [{"user": "carol"}]}]}
    async for harness in await _custom(db_url, fake_slack, escalation_policies=[policy]):
        await harness.post_alerts([alert()])
        await harness.work()
        assert (await harness.api("POST", "/incidents/1/ack")).json()["incident"]["status"] == "acknowledged"
        harness.clock.advance(minutes=5)
        await harness.work()
        assert dm_users(fake_slack) == ["UALICE", "UCAROL"]  # level 2 still came: the incident is not resolved
        timeline = [entry["kind"] for entry in (await harness.api("GET", "/incidents/1")).json()["timeline"]]
        assert timeline.index("acknowledged") < len(timeline) - 1 - timeline[::-1].index("escalated")


async def test_until_resolved_still_stops_for_a_snooze(db_url: str, fake_slack: FakeSlack) -> None:
    policy = {"id": "default", "until": "resolved", "steps": [
        {"after": "0m", "notify": [{"user": "alice"}]}, {"after": "5m", "notify": [{"user": "carol"}]}]}
    async for harness in await _custom(db_url, fake_slack, escalation_policies=[policy]):
        await harness.post_alerts([alert()])
        await harness.work()
        assert (await harness.api("POST", "/incidents/1/snooze", json={"duration": "2h"})).status_code == 200
        harness.clock.advance(minutes=30)
        await harness.work()
        assert dm_users(fake_slack) == ["UALICE"]


async def test_nothing_is_sent_for_an_incident_resolved_inside_the_delay(db_url: str, fake_slack: FakeSlack) -> None:
    policy = {"id": "default", "delay": "2m", "steps": [{"after": "0m", "notify": [{"user": "alice"}],
                                                         "via": ["dm", "sre-slack"]}]}
    async for harness in await _custom(db_url, fake_slack, escalation_policies=[policy]):
        await harness.post_alerts([alert(fingerprint="blip")])
        await harness.work()
        harness.clock.advance(seconds=90)
        await harness.post_alerts([alert(fingerprint="blip", status="resolved")])
        harness.clock.advance(minutes=10)
        await harness.work()
        assert fake_slack.calls_to("chat.postMessage") == []  # neither a DM nor the channel card
        await harness.post_alerts([alert(fingerprint="real")])
        harness.clock.advance(minutes=1, seconds=59)
        await harness.work()
        assert fake_slack.calls_to("chat.postMessage") == []
        harness.clock.advance(seconds=1)
        await harness.work()
        assert dm_users(fake_slack) == ["UALICE"] and len(fake_slack.calls_to("chat.postMessage")) == 2


async def test_a_team_target_pages_every_member(db_url: str, fake_slack: FakeSlack) -> None:
    raw = base_config(slack_api_url=fake_slack.api_url)
    raw["teams"].append({"id": "empty", "name": "Nobody yet"})
    policy = {"id": "default", "steps": [
        {"after": "0m", "notify": [{"team": "sre"}, {"user": "alice"}]},  # alice is in sre too: paged once
        {"after": "5m", "notify": [{"team": "empty"}], "via": ["dm", "sre-slack"]}]}
    async for harness in await _custom(db_url, fake_slack, teams=raw["teams"], escalation_policies=[policy]):
        await harness.post_alerts([alert()])
        await harness.work()
        assert sorted(dm_users(fake_slack)) == ["UALICE", "UBOB", "UCAROL"]
        harness.clock.advance(minutes=5)
        await harness.work()
        assert fake_slack.calls_to("chat.postMessage")[-1].params["channel"] == "CSRE"  # the channel still hears
        timeline = (await harness.api("GET", "/incidents/1")).json()["timeline"]
        assert {"kind": "nobody_in_team", "team": "empty"} in [
            {"kind": entry["kind"], **entry["data"]} for entry in timeline if entry["kind"] == "nobody_in_team"]


def test_a_target_naming_a_missing_team_or_two_kinds_is_refused_with_its_path() -> None:
    import pytest
    import yaml

    from bot.config import ConfigError, parse_config

    raw = base_config()
    raw["escalation_policies"][0]["steps"][0]["notify"] = [{"team": "nope"}]
    with pytest.raises(ConfigError) as refused:
        parse_config(yaml.safe_dump(raw))
    assert "escalation_policies[0].steps[0].notify[0].team: no team 'nope'" in refused.value.errors
    raw["escalation_policies"][0]["steps"][0]["notify"] = [{"team": "sre", "user": "alice"}]
    with pytest.raises(ConfigError) as refused:
        parse_config(yaml.safe_dump(raw))
    assert any("exactly one of user, team or schedule" in problem for problem in refused.value.errors), \
        refused.value.errors


async def test_an_incident_that_opens_and_resolves_in_one_request_leaves_no_timer(
        harness: Harness, fake_slack: FakeSlack) -> None:
    """Its first level's timer is armed and cancelled in the same transaction: nothing is left to fire."""
    from sqlalchemy import select

    from bot.db.tables import Timer

    answer = await harness.post_alerts([alert(fingerprint="blip"), alert(fingerprint="blip", status="resolved"),
                                        alert("Other", fingerprint="other")])
    assert answer.status_code == 202, answer.text
    async with harness.container.db.transaction() as session:
        timers = (await session.execute(select(Timer.incident_id, Timer.kind, Timer.status)
                                        .order_by(Timer.incident_id))).all()
    assert [tuple(row) for row in timers] == [(1, "escalate", "cancelled"), (2, "escalate", "pending")]
    assert (await harness.api("GET", "/incidents/1")).json()["status"] == "resolved"
    await harness.work()
    assert dm_users(fake_slack) == ["UALICE"]  # once: only the other incident paged
