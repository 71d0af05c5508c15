"""One-click links of robot messages: GET confirms and changes nothing, POST acts once, then 410."""

from __future__ import annotations

from urllib.parse import urlparse

from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.support import Harness, alert


async def _links(harness: Harness, fake_robot: FakeDingTalkRobot) -> dict[str, str]:
    await harness.post_alerts([alert()])
    await harness.work()
    buttons = fake_robot.messages[-1]["actionCard"]["btns"]
    return {button["title"]: urlparse(button["actionURL"]).path for button in buttons}


async def _status(harness: Harness) -> str:
    return (await harness.api("GET", "/incidents/1")).json()["status"]


async def test_get_confirms_without_acting_then_post_acts_once(harness: Harness,
                                                              fake_robot: FakeDingTalkRobot) -> None:
    links = await _links(harness, fake_robot)
    assert set(links) == {"Acknowledge", "Resolve", "Silence 1 hour"}  # silence: test_quick_silence_chat.py
    ack = links["Acknowledge"]

    for _ in range(2):  # chat apps prefetch links; a GET never acts
        page = await harness.client.get(ack)
        assert page.status_code == 200
        assert "Acknowledge incident #1" in page.text and "<form method=\"post\">" in page.text
    assert await _status(harness) == "triggered"

    done = await harness.client.post(ack)
    assert done.status_code == 200 and "now Acknowledged" in done.text
    incident = (await harness.api("GET", "/incidents/1")).json()
    assert incident["status"] == "acknowledged"
    assert incident["acknowledged_by"] == "link:ding-robot"

    again = await harness.client.post(ack)
    assert again.status_code == 410 and "already been used" in again.text
    assert (await harness.client.get(ack)).status_code == 410


async def test_robot_gets_the_new_state_after_an_ack(harness: Harness, fake_robot: FakeDingTalkRobot) -> None:
    links = await _links(harness, fake_robot)
    await harness.client.post(links["Acknowledge"])
    await harness.work()
    assert len(fake_robot.messages) == 2
    update = fake_robot.messages[-1]["actionCard"]
    assert "Acknowledged by one-click link (ding-robot)" in update["text"]
    assert [button["title"] for button in update["btns"]] == ["Resolve", "Silence 1 hour"]


async def test_expired_link_is_410_and_changes_nothing(harness: Harness, fake_robot: FakeDingTalkRobot) -> None:
    links = await _links(harness, fake_robot)
    harness.clock.advance(hours=25)
    for method in ("GET", "POST"):
        response = await harness.client.request(method, links["Resolve"])
        assert response.status_code == 410 and "expired" in response.text
    assert await _status(harness) == "triggered"


async def test_tampered_link_is_401(harness: Harness, fake_robot: FakeDingTalkRobot) -> None:
    links = await _links(harness, fake_robot)
    path = links["Acknowledge"]
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    for target in (tampered, "/a/not-a-token", "/a/" + "x" * 5000):
        response = await harness.client.post(target)
        assert response.status_code == 401, target
    assert await _status(harness) == "triggered"


async def test_resolve_link_after_ack_still_works_once(harness: Harness, fake_robot: FakeDingTalkRobot) -> None:
    links = await _links(harness, fake_robot)
    await harness.client.post(links["Acknowledge"])
    resolved = await harness.client.post(links["Resolve"])
    assert resolved.status_code == 200 and "now Resolved" in resolved.text
    assert await _status(harness) == "resolved"
