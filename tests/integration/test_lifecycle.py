"""The incident lifecycle over the API, real timers and the fake Slack: snooze and wake, un-acknowledge, resolve
with a root cause, reopen. What matters to the person on call: who is paged again, and when."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.slack import FakeSlack
from tests.support import Harness, alert, dm_users, post_slack, slack_action_form, slack_select_form


async def _paged_incident(harness: Harness, fake_slack: FakeSlack) -> str:
    """One incident whose first level (the on-call person by DM) has been paged; returns who that is."""
    await harness.post_alerts([alert()])
    await harness.work()
    paged = dm_users(fake_slack)
    assert len(paged) == 1
    return paged[0]


async def _kinds(harness: Harness, incident_id: int = 1) -> list[str]:
    return [entry["kind"] for entry in (await harness.api("GET", f"/incidents/{incident_id}")).json()["timeline"]]


async def test_snooze_holds_paging_then_wakes_and_pages_level_one_again(harness: Harness,
                                                                      fake_slack: FakeSlack) -> None:
    first = await _paged_incident(harness, fake_slack)
    answer = await harness.api("POST", "/incidents/1/snooze", json={"duration": "30m"})
    assert answer.status_code == 200 and answer.json()["changed"] is True
    incident = answer.json()["incident"]
    assert incident["status"] == "acknowledged" and incident["acknowledged_by"] == "alice"
    assert datetime.fromisoformat(incident["snoozed_until"]) == harness.clock() + timedelta(minutes=30)

    harness.clock.advance(minutes=29, seconds=59)  # step 2 (carol after 5m) must not fire while snoozed
    await harness.work()
    assert dm_users(fake_slack) == [first]
    harness.clock.advance(seconds=1)
    await harness.work()
    assert dm_users(fake_slack) == [first, first]  # level 1 again, at once
    detail = (await harness.api("GET", "/incidents/1")).json()
    assert (detail["status"], detail["snoozed_until"], detail["acknowledged_by"]) == ("triggered", None, None)
    woken = [entry for entry in detail["timeline"] if entry["kind"] == "woken"]
    assert len(woken) == 1 and woken[0]["actor"] == "snooze" and "early" not in woken[0]["data"]
    harness.clock.advance(minutes=5)  # and the policy goes on from there
    await harness.work()
    assert dm_users(fake_slack) == [first, first, "UCAROL"]


async def test_the_card_says_snoozed_until_when(harness: Harness, fake_slack: FakeSlack) -> None:
    await _paged_incident(harness, fake_slack)
    await harness.api("POST", "/incidents/1/snooze", json={"duration": "2h"})
    await harness.work()
    text = str(fake_slack.calls_to("chat.update")[-1].params)
    until = (harness.clock() + timedelta(hours=2)).astimezone(ZoneInfo("Asia/Shanghai"))
    assert "Snoozed by Alice until" in text and until.strftime("%H:%M") in text


async def test_waking_early_pages_now_and_the_old_wake_time_does_nothing(harness: Harness,
                                                                       fake_slack: FakeSlack) -> None:
    first = await _paged_incident(harness, fake_slack)
    await harness.api("POST", "/incidents/1/snooze", json={"duration": "4h"})
    harness.clock.advance(minutes=10)
    woken = await harness.api("POST", "/incidents/1/wake")
    assert woken.json()["changed"] is True and woken.json()["incident"]["status"] == "triggered"
    await harness.work()
    assert dm_users(fake_slack) == [first, first]
    assert (await harness.api("POST", "/incidents/1/wake")).json()["changed"] is False  # nothing to wake
    await harness.api("POST", "/incidents/1/ack")
    harness.clock.advance(hours=4)  # the first snooze's wake time passes: the acknowledged incident stays so
    await harness.work()
    assert dm_users(fake_slack) == [first, first]
    assert (await harness.api("GET", "/incidents/1")).json()["status"] == "acknowledged"
    entry = [e for e in (await harness.api("GET", "/incidents/1")).json()["timeline"] if e["kind"] == "woken"]
    assert [(e["actor"], e["data"].get("early")) for e in entry] == [("alice", True)]


async def test_snoozing_again_replaces_the_wake_time(harness: Harness, fake_slack: FakeSlack) -> None:
    first = await _paged_incident(harness, fake_slack)
    await harness.api("POST", "/incidents/1/snooze", json={"duration": "30m"})
    harness.clock.advance(minutes=20)
    again = await harness.api("POST", "/incidents/1/snooze", json={"duration": "1h"})
    assert again.json()["changed"] is True
    harness.clock.advance(minutes=10)  # the first wake time
    await harness.work()
    assert dm_users(fake_slack) == [first]
    harness.clock.advance(minutes=50)  # the second one
    await harness.work()
    assert dm_users(fake_slack) == [first, first]
    assert (await _kinds(harness)).count("snoozed") == 2


@pytest.mark.parametrize(("body", "fragment"), [
    ({"duration": "25h"}, "from 1m to 24h"),
    ({"duration": "30s"}, "from 1m to 24h"),
    ({"duration": "soon"}, "not a duration"),
    ({"duration": ""}, "duration"),
    ({}, "duration"),
    ({"duration": 30}, "duration"),
])
async def test_a_bad_snooze_is_a_clear_422_and_changes_nothing(harness: Harness, fake_slack: FakeSlack,
                                                               body: dict[str, object], fragment: str) -> None:
    await _paged_incident(harness, fake_slack)
    before = await _kinds(harness)
    answer = await harness.api("POST", "/incidents/1/snooze", json=body)
    assert answer.status_code == 422 and fragment in answer.text
    detail = (await harness.api("GET", "/incidents/1")).json()
    assert detail["status"] == "triggered" and await _kinds(harness) == before


async def test_unacknowledge_gives_the_incident_back_and_pages_again(harness: Harness,
                                                                   fake_slack: FakeSlack) -> None:
    first = await _paged_incident(harness, fake_slack)
    assert (await harness.api("POST", "/incidents/1/unack")).json()["changed"] is False  # nobody holds it
    await harness.api("POST", "/incidents/1/ack")
    harness.clock.advance(minutes=10)
    await harness.work()
    assert dm_users(fake_slack) == [first]  # acknowledged: step 2 never fired
    given_back = (await harness.api("POST", "/incidents/1/unack")).json()
    assert given_back["changed"] is True
    assert (given_back["incident"]["status"], given_back["incident"]["acknowledged_by"]) == ("triggered", None)
    await harness.work()
    assert dm_users(fake_slack) == [first, first]
    harness.clock.advance(minutes=5)
    await harness.work()
    assert dm_users(fake_slack) == [first, first, "UCAROL"]
    level_one = ["escalated", "notified", "notified", "notified"]  # the DM, the Slack channel, the robot
    assert await _kinds(harness) == ["created", *level_one, "acknowledged", "unacknowledged", *level_one,
                                     "escalated", "notified"]


async def test_resolve_keeps_the_root_cause_and_reopen_pages_again(harness: Harness,
                                                                 fake_slack: FakeSlack) -> None:
    first = await _paged_incident(harness, fake_slack)
    details = {"root_cause": "disk filled by debug logs", "resolution": "rotated logs", "impact": "none"}
    resolved = await harness.api("POST", "/incidents/1/resolve", json=details)
    assert resolved.json()["incident"]["status"] == "resolved"
    entry = [e for e in (await harness.api("GET", "/incidents/1")).json()["timeline"] if e["kind"] == "resolved"]
    assert entry[0]["data"] == {"via": "api", **details} and entry[0]["actor"] == "alice"
    assert (await harness.api("POST", "/incidents/1/resolve")).json()["changed"] is False

    reopened = (await harness.api("POST", "/incidents/1/reopen")).json()
    assert reopened["changed"] is True
    assert (reopened["incident"]["status"], reopened["incident"]["resolved_at"]) == ("triggered", None)
    assert (await harness.api("POST", "/incidents/1/reopen")).json()["changed"] is False
    harness.clock.advance(seconds=1)  # a DM conversation takes one message a second (core/delivery.py)
    await harness.work()
    assert dm_users(fake_slack) == [first, first]
    # the reopened incident takes no new alerts: the group's next firing opens its own incident
    await harness.post_alerts([alert(fingerprint="fp-2")])
    listing = (await harness.api("GET", "/incidents")).json()["incidents"]
    assert [item["id"] for item in listing] == [2, 1]


async def test_resolve_without_a_body_still_works_and_bad_details_are_422(harness: Harness,
                                                                         fake_slack: FakeSlack) -> None:
    await _paged_incident(harness, fake_slack)
    assert (await harness.api("POST", "/incidents/1/resolve", json={"impact": "x" * 10_001})).status_code == 422
    assert (await harness.api("POST", "/incidents/1/resolve", json={"impact": ["a"]})).status_code == 422
    assert (await harness.api("GET", "/incidents/1")).json()["status"] == "triggered"
    assert (await harness.api("POST", "/incidents/1/resolve")).json()["incident"]["status"] == "resolved"


async def test_a_resolved_incident_cannot_be_snoozed_and_resolving_ends_a_snooze(harness: Harness,
                                                                                fake_slack: FakeSlack) -> None:
    first = await _paged_incident(harness, fake_slack)
    await harness.api("POST", "/incidents/1/snooze", json={"duration": "30m"})
    await harness.api("POST", "/incidents/1/resolve")
    harness.clock.advance(minutes=30)
    await harness.work()
    assert dm_users(fake_slack) == [first]  # the wake timer died with the resolution
    detail = (await harness.api("GET", "/incidents/1")).json()
    assert (detail["status"], detail["snoozed_until"]) == ("resolved", None)
    again = await harness.api("POST", "/incidents/1/snooze", json={"duration": "30m"})
    assert again.status_code == 200 and again.json()["changed"] is False


async def _click(harness: Harness, fake_slack: FakeSlack, body: bytes) -> None:
    harness.clock.advance(seconds=1)  # each request is signed anew
    response = await post_slack(harness.client, body, harness.clock())
    assert response.status_code == 200, response.text


# what every app card of an open incident offers after its state buttons
OPEN_TAIL = ["comment", "reassign", "responders", "edit", "merge", "snooze", "escalate", "silence"]


def _channel_card_actions(fake_slack: FakeSlack) -> list[str]:
    """The action ids on the cards in the SRE channel as they stand now (after every chat.update): a page
    that starts over posts a new card, and every card of the incident must offer the same actions."""
    cards = [message for (channel, _), message in fake_slack.messages.items() if channel == "CSRE"]
    offered = set()
    for card in cards:
        blocks = card["blocks"] if isinstance(card["blocks"], list) else json.loads(card["blocks"])
        offered.add(tuple(element["action_id"] for block in blocks if block["type"] == "actions"
                          for element in block["elements"]))
    assert len(offered) == 1, offered
    return list(offered.pop())


async def test_snooze_from_the_slack_menu_and_the_card_follows(harness: Harness, fake_slack: FakeSlack) -> None:
    first = await _paged_incident(harness, fake_slack)
    assert _channel_card_actions(fake_slack) == ["ack", "resolve", *OPEN_TAIL]
    menu_value = "1:2h"  # as the card renders the option: "<incident id>:<preset>"
    await _click(harness, fake_slack, slack_select_form("UBOB", "snooze", 1, menu_value,
                                                        fake_slack.response_url("s1"), label="2 hours"))
    replies = [reply for reply in await fake_slack.async_wait_for_responses(1) if reply.name == "s1"]
    assert replies and "Incident #1 is snoozed until" in replies[-1].body["text"]
    detail = (await harness.api("GET", "/incidents/1")).json()
    assert (detail["status"], detail["acknowledged_by"]) == ("acknowledged", "bob")
    snoozed = [entry for entry in detail["timeline"] if entry["kind"] == "snoozed"]
    assert [(entry["actor"], entry["data"]["via"], entry["data"]["minutes"]) for entry in snoozed] == [
        ("bob", "slack", 120)]
    await harness.work()
    assert _channel_card_actions(fake_slack) == ["resolve", "wake", *OPEN_TAIL]

    await _click(harness, fake_slack, slack_action_form("UBOB", "wake", 1, fake_slack.response_url("w1")))
    await harness.work()
    assert dm_users(fake_slack) == [first, first]
    assert _channel_card_actions(fake_slack) == ["ack", "resolve", *OPEN_TAIL]


async def test_a_snooze_length_the_card_does_not_offer_is_refused(harness: Harness, fake_slack: FakeSlack) -> None:
    await _paged_incident(harness, fake_slack)
    await _click(harness, fake_slack, slack_select_form("UBOB", "snooze", 1, "1:7d", fake_slack.response_url("s2")))
    replies = [reply for reply in await fake_slack.async_wait_for_responses(1) if reply.name == "s2"]
    assert replies and "7d is not a snooze length here" in replies[-1].body["text"]
    assert (await harness.api("GET", "/incidents/1")).json()["status"] == "triggered"


async def test_unack_and_reopen_from_the_slack_card(harness: Harness, fake_slack: FakeSlack) -> None:
    first = await _paged_incident(harness, fake_slack)
    await _click(harness, fake_slack, slack_action_form("UBOB", "ack", 1, fake_slack.response_url("a")))
    await harness.work()
    assert _channel_card_actions(fake_slack) == ["resolve", "unack", *OPEN_TAIL]
    await _click(harness, fake_slack, slack_action_form("UBOB", "unack", 1, fake_slack.response_url("u")))
    await harness.work()
    assert dm_users(fake_slack) == [first, first]
    await _click(harness, fake_slack, slack_action_form("UBOB", "resolve", 1, fake_slack.response_url("r")))
    await harness.work()
    assert _channel_card_actions(fake_slack) == ["reopen", "comment", "edit"]
    await _click(harness, fake_slack, slack_action_form("UCAROL", "reopen", 1, fake_slack.response_url("o")))
    await harness.work()
    assert dm_users(fake_slack) == [first, first, first]
    reopened = [e for e in (await harness.api("GET", "/incidents/1")).json()["timeline"] if e["kind"] == "reopened"]
    assert [(e["actor"], e["data"]["via"]) for e in reopened] == [("carol", "slack")]
