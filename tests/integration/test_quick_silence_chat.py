"""Quick silences from an incident card: Slack's "Silence…" menu through the real slack-bolt against the fake
Slack, and the DingTalk robot's one-click "Silence 1 hour" link (GET confirms, POST silences once)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import pytest

from core.links import issue_link
from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.fakes.slack import FakeSlack
from tests.support import FakeClock, Harness, base_config, post_slack, slack_select_form, start_harness

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 18:00 in the account's zone, Asia/Shanghai
KEY = "generic-quick-silence-chat-01"
UNTIL_1H = "2026-11-25 19:00:00 CST"


@pytest.fixture
async def chat(db_url: str, fake_slack: FakeSlack, fake_robot: FakeDingTalkRobot) -> AsyncIterator[Harness]:
    config = base_config(slack_api_url=fake_slack.api_url, dingtalk_webhook=fake_robot.webhook_url,
                         dingtalk_secret=fake_robot.secret)
    config["services"][0]["grouping"] = {"by": ["alertname", "host"]}
    config["services"][0]["integrations"].append({"kind": "generic", "key": KEY})
    async for running in start_harness(db_url, config, FakeClock(START)):
        yield running


async def _fire(harness: Harness, key: str, **labels: str) -> dict[str, Any]:
    answer = await harness.client.post(f"/hooks/generic/{KEY}", json={"title": key, "status": "critical",
                                                                      "alert_key": key, "labels": labels})
    assert answer.status_code == 202, answer.text
    return answer.json()


async def _paged(harness: Harness, key: str = "disk-1", **labels: str) -> int:
    [incident_id] = (await _fire(harness, key, **labels))["incidents_created"]
    await harness.work()  # the cards go out
    return int(incident_id)


async def _silences(harness: Harness) -> list[dict[str, Any]]:
    return (await harness.api("GET", "/silences")).json()["silences"]


async def _timeline(harness: Harness, incident_id: int) -> list[dict[str, Any]]:
    return (await harness.api("GET", f"/incidents/{incident_id}")).json()["timeline"]


def _channel_menu(fake_slack: FakeSlack) -> dict[str, Any]:
    """The silence menu of the card posted to the SRE channel, as the fake Slack accepted it."""
    (card,) = [message for (channel, _), message in fake_slack.messages.items() if channel == "CSRE"]
    blocks = card["blocks"] if isinstance(card["blocks"], list) else json.loads(card["blocks"])
    (actions,) = [block for block in blocks if block["type"] == "actions"]
    (menu,) = [element for element in actions["elements"] if element.get("action_id") == "silence"]
    return menu


async def _choose(harness: Harness, fake_slack: FakeSlack, user: str, incident_id: int, value: str,
                  answer: str = "r1") -> str:
    """Pick `value` from the card's silence menu as `user`; the private answer's text."""
    harness.clock.advance(seconds=1)  # each request is signed anew
    body = slack_select_form(user, "silence", incident_id, value, fake_slack.response_url(answer))
    response = await post_slack(harness.client, body, harness.clock())
    assert response.status_code == 200, response.text
    replies = [reply for reply in await fake_slack.async_wait_for_responses(1) if reply.name == answer]
    assert replies and replies[-1].body["response_type"] == "ephemeral"
    assert replies[-1].body["replace_original"] is False
    return str(replies[-1].body["text"])


async def test_silence_1h_from_the_slack_menu_mutes_the_next_matching_alert(chat: Harness,
                                                                            fake_slack: FakeSlack) -> None:
    incident_id = await _paged(chat, alertname="DiskFull", host="db-1")
    menu = _channel_menu(fake_slack)
    assert menu["placeholder"]["text"] == "Silence…"
    options = {option["text"]["text"]: option["value"] for option in menu["options"]}
    assert list(options) == ["30 minutes", "1 hour", "12 hours", "1 day", "1 week"]

    text = await _choose(chat, fake_slack, "UBOB", incident_id, options["1 hour"])
    assert text.startswith("🔕 Silenced for 1 hour, until 2026-11-25 19:00:01 CST")  # clicked at 18:00:01
    assert "new alerts of Payments with alertname=DiskFull, host=db-1" in text

    [silence] = await _silences(chat)
    assert (silence["incident_id"], silence["labels"], silence["ends_at"], silence["created_by"]) == (
        incident_id, {"alertname": "DiskFull", "host": "db-1"}, "2026-11-25T11:00:01Z", "bob")
    silenced = [entry for entry in await _timeline(chat, incident_id) if entry["kind"] == "silenced"]
    assert [(entry["actor"], entry["data"]["via"], entry["data"]["preset"]) for entry in silenced] == [
        ("bob", "slack", "1h")]

    # this process applies the silence at once: the next matching alert is kept and pages nobody
    held = await _fire(chat, "disk-2", alertname="DiskFull", host="db-1", mount="/var")
    assert (held["muted"], held["incidents_created"]) == (1, [])
    other = await _fire(chat, "disk-3", alertname="DiskFull", host="db-2")
    assert other["muted"] == 0 and len(other["incidents_created"]) == 1


async def test_the_card_is_refreshed_so_its_menu_can_be_used_again(chat: Harness, fake_slack: FakeSlack) -> None:
    incident_id = await _paged(chat, alertname="DiskFull", host="db-1")
    posted = len(fake_slack.calls_to("chat.postMessage"))
    await _choose(chat, fake_slack, "UALICE", incident_id, f"{incident_id}:30m")
    await chat.work()
    updates = fake_slack.calls_to("chat.update")
    assert len(updates) == posted  # every Slack copy of the card, once; the incident itself is unchanged
    assert all('"action_id": "silence"' in json.dumps(call.params["blocks"]) for call in updates)
    assert (await chat.api("GET", f"/incidents/{incident_id}")).json()["status"] == "triggered"


async def test_an_unbound_slack_user_is_refused_and_nothing_is_silenced(chat: Harness,
                                                                        fake_slack: FakeSlack) -> None:
    incident_id = await _paged(chat, alertname="DiskFull", host="db-1")
    text = await _choose(chat, fake_slack, "USTRANGER", incident_id, f"{incident_id}:1h", answer="stranger")
    assert "not bound" in text and "USTRANGER" in text
    assert await _silences(chat) == []
    assert "silenced" not in [entry["kind"] for entry in await _timeline(chat, incident_id)]
    assert (await _fire(chat, "disk-2", alertname="DiskFull", host="db-1"))["muted"] == 0


async def test_a_forged_silence_click_is_401_and_silences_nothing(chat: Harness, fake_slack: FakeSlack) -> None:
    incident_id = await _paged(chat, alertname="DiskFull", host="db-1")
    body = slack_select_form("UBOB", "silence", incident_id, f"{incident_id}:1h", fake_slack.response_url())
    forged = await post_slack(chat.client, body, chat.clock(), secret="not-the-signing-secret")
    assert forged.status_code == 401
    assert await _silences(chat) == []
    assert fake_slack.responses == []


async def test_an_incident_without_labels_has_no_menu_and_a_click_says_why(chat: Harness,
                                                                           fake_slack: FakeSlack) -> None:
    incident_id = await _paged(chat, "bare")
    (card,) = [message for (channel, _), message in fake_slack.messages.items() if channel == "CSRE"]
    assert '"action_id": "silence"' not in json.dumps(card["blocks"])
    text = await _choose(chat, fake_slack, "UBOB", incident_id, f"{incident_id}:1h")  # a click made by hand
    assert f"Incident #{incident_id} has no labels" in text
    assert await _silences(chat) == []


@pytest.mark.parametrize(("value", "fragment"), [("{id}:2h", "2h is not a silence duration"),
                                                 ("999:1h", "Incident #999 was not found")])
async def test_an_unknown_preset_or_incident_says_so(chat: Harness, fake_slack: FakeSlack, value: str,
                                                     fragment: str) -> None:
    incident_id = await _paged(chat, alertname="DiskFull", host="db-1")
    assert fragment in await _choose(chat, fake_slack, "UBOB", incident_id, value.format(id=incident_id))
    assert await _silences(chat) == []


# DingTalk robot: one link, "Silence 1 hour" ------------------------------------------------------------------


def _robot_links(fake_robot: FakeDingTalkRobot) -> dict[str, str]:
    buttons = fake_robot.messages[-1]["actionCard"]["btns"]
    return {button["title"]: urlparse(button["actionURL"]).path for button in buttons}


async def test_the_robot_link_confirms_then_silences_once(chat: Harness, fake_robot: FakeDingTalkRobot) -> None:
    incident_id = await _paged(chat, alertname="DiskFull", host="db-1")
    links = _robot_links(fake_robot)
    assert list(links) == ["Acknowledge", "Resolve", "Silence 1 hour"]
    link = links["Silence 1 hour"]

    for _ in range(2):  # chat apps prefetch links; a GET never acts
        page = await chat.client.get(link)
        assert page.status_code == 200
        assert f"Silence alerts like incident #{incident_id} “disk-1” for 1 hour?" in page.text
        assert "alertname=DiskFull, host=db-1" in page.text and '<form method="post">' in page.text
        assert "Yes, silence for 1 hour" in page.text
    assert await _silences(chat) == []

    done = await chat.client.post(link)
    assert done.status_code == 200 and f"like incident #{incident_id} are silenced until {UNTIL_1H}" in done.text
    [silence] = await _silences(chat)
    assert (silence["labels"], silence["ends_at"], silence["created_by"]) == (
        {"alertname": "DiskFull", "host": "db-1"}, "2026-11-25T11:00:00Z", "link:ding-robot")
    silenced = [entry for entry in await _timeline(chat, incident_id) if entry["kind"] == "silenced"]
    assert [(entry["actor"], entry["data"]["via"]) for entry in silenced] == [("link:ding-robot", "link")]
    assert (await _fire(chat, "disk-2", alertname="DiskFull", host="db-1"))["muted"] == 1

    again = await chat.client.post(link)
    assert again.status_code == 410 and "already been used" in again.text
    assert (await chat.client.get(link)).status_code == 410
    assert len(await _silences(chat)) == 1
    # the incident itself is untouched: its ack link still works
    assert (await chat.client.post(links["Acknowledge"])).status_code == 200


async def test_forged_expired_and_unknown_preset_silence_links(chat: Harness, fake_robot: FakeDingTalkRobot) -> None:
    incident_id = await _paged(chat, alertname="DiskFull", host="db-1")
    link = _robot_links(fake_robot)["Silence 1 hour"]
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    unknown = "/a/" + issue_link(chat.container.link_key, "silence:2h", incident_id, chat.clock(), "ding-robot")
    for target in (tampered, unknown):
        for method in ("GET", "POST"):
            assert (await chat.client.request(method, target)).status_code == 401, (method, target)
    chat.clock.advance(hours=25)
    for method in ("GET", "POST"):
        expired = await chat.client.request(method, link)
        assert expired.status_code == 410 and "expired" in expired.text
    assert await _silences(chat) == []


async def test_a_silence_link_of_an_incident_without_labels_is_refused(chat: Harness,
                                                                       fake_robot: FakeDingTalkRobot) -> None:
    incident_id = await _paged(chat, "bare")
    assert list(_robot_links(fake_robot)) == ["Acknowledge", "Resolve"]  # the card offers none
    link = "/a/" + issue_link(chat.container.link_key, "silence:1h", incident_id, chat.clock(), "ding-robot")
    for method in ("GET", "POST"):
        refused = await chat.client.request(method, link)
        assert refused.status_code == 409 and "has no labels" in refused.text
    assert await _silences(chat) == []
    assert (await chat.client.post(link)).status_code == 409  # refused, not used up
