"""Feishu custom bots and WeCom group robots as channels: they get the page with one-click links, the new state
after a click, and their error codes in 200 answers are retried or shown on the timeline."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlparse

import pytest

from tests.fakes.robots import FakeFeishuRobot, FakeWeComRobot
from tests.fakes.slack import FakeSlack
from tests.support import Harness, alert, base_config, start_harness

FEISHU_TOKEN, FEISHU_SECRET, WECOM_KEY = "feishu-hook-token-secret", "feishu-sign-secret-value", "wecom-key-secret"


@pytest.fixture
def feishu() -> Iterator[FakeFeishuRobot]:
    with FakeFeishuRobot(token=FEISHU_TOKEN, secret=FEISHU_SECRET) as fake:
        yield fake


@pytest.fixture
def wecom() -> Iterator[FakeWeComRobot]:
    with FakeWeComRobot(key=WECOM_KEY) as fake:
        yield fake


@pytest.fixture
async def robots(db_url: str, fake_slack: FakeSlack, feishu: FakeFeishuRobot,
                 wecom: FakeWeComRobot) -> AsyncIterator[Harness]:
    raw = base_config(slack_api_url=fake_slack.api_url)
    raw["channels"] += [
        {"id": "ops-feishu", "platform": "feishu-robot", "webhook": feishu.webhook_url, "secret": FEISHU_SECRET},
        {"id": "ops-wecom", "platform": "wecom-robot", "webhook": wecom.webhook_url, "locale": "zh-CN"},
    ]
    raw["escalation_policies"][0]["steps"][0]["via"] += ["ops-feishu", "ops-wecom"]
    async for running in start_harness(db_url, raw):
        yield running


def _feishu_buttons(message: dict) -> dict[str, str]:
    actions = [element for element in message["card"]["elements"] if element["tag"] == "action"]
    return {button["text"]["content"]: urlparse(button["url"]).path for button in actions[0]["actions"]}


async def test_both_robots_get_the_page_and_the_new_state_after_a_click(
        robots: Harness, feishu: FakeFeishuRobot, wecom: FakeWeComRobot) -> None:
    await robots.post_alerts([alert()])
    await robots.work()
    [card] = feishu.messages
    assert card["msg_type"] == "interactive"
    assert card["card"]["header"]["title"]["content"].startswith("#1 ")
    assert card["card"]["header"]["template"] == "red"  # critical
    buttons = _feishu_buttons(card)
    assert set(buttons) == {"Acknowledge", "Resolve", "Silence 1 hour"}
    [markdown] = wecom.messages
    content = markdown["markdown"]["content"]
    assert markdown["msgtype"] == "markdown" and "#1 " in content
    assert "[认领](http" in content and "[解决](http" in content  # the channel is set to zh-CN

    done = await robots.client.post(buttons["Acknowledge"])
    assert done.status_code == 200
    incident = (await robots.api("GET", "/incidents/1")).json()
    assert (incident["status"], incident["acknowledged_by"]) == ("acknowledged", "link:ops-feishu")
    await robots.work()
    assert len(feishu.messages) == 2 and len(wecom.messages) == 2  # robots cannot edit: the new state, once
    update = feishu.messages[-1]["card"]
    assert "Acknowledged by one-click link (ops-feishu)" in update["elements"][0]["content"]
    assert "Acknowledge" not in _feishu_buttons(feishu.messages[-1])
    assert "[认领](" not in wecom.messages[-1]["markdown"]["content"]
    notified = {entry["data"]["to"] for entry in incident["timeline"] if entry["kind"] == "notified"}
    assert {"ops-feishu", "ops-wecom"} <= notified


@pytest.mark.parametrize(("robot", "code", "retried"), [
    ("feishu", 11232, True),   # frequency limited
    ("feishu", 19021, False),  # sign match fail
    ("feishu", 19024, False),  # a keyword the bot requires is missing
    ("wecom", 45009, True),    # api freq out of limit
    ("wecom", 93000, False),   # invalid webhook url (the robot was removed)
])
async def test_error_codes_in_200_answers_are_retried_or_shown(
        robots: Harness, feishu: FakeFeishuRobot, wecom: FakeWeComRobot, robot: str, code: int, retried: bool,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = feishu if robot == "feishu" else wecom
    fake.code_next(code, f"injected {code}")
    await robots.post_alerts([alert()])
    await robots.work()
    assert fake.messages == [] and len(fake.requests) == 1
    robots.clock.advance(minutes=2)
    await robots.work()
    assert len(fake.messages) == (1 if retried else 0)
    assert len(fake.requests) == (2 if retried else 1)  # a permanent error is not tried again
    detail = (await robots.api("GET", "/incidents/1")).text
    failed = [entry["data"] for entry in (await robots.api("GET", "/incidents/1")).json()["timeline"]
              if entry["kind"] == "notify_failed"]
    if retried:
        assert failed == []
    else:
        assert [(entry["to"], entry["platform"]) for entry in failed] == [(f"ops-{robot}", f"{robot}-robot")]
        assert f"errcode {code}: injected {code}" in failed[0]["error"]
    for secret in (FEISHU_TOKEN, FEISHU_SECRET, WECOM_KEY):
        assert secret not in detail and secret not in caplog.text


async def test_a_wrong_feishu_secret_is_refused_by_the_bot_and_shown(
        db_url: str, fake_slack: FakeSlack, feishu: FakeFeishuRobot) -> None:
    raw = base_config(slack_api_url=fake_slack.api_url)
    raw["channels"].append({"id": "ops-feishu", "platform": "feishu-robot", "webhook": feishu.webhook_url,
                            "secret": "not-the-bot-secret"})
    raw["escalation_policies"][0]["steps"][0]["via"].append("ops-feishu")
    async for running in start_harness(db_url, raw):
        await running.post_alerts([alert()])
        await running.work()
        assert feishu.messages == [] and [request.code for request in feishu.requests] == [19021]
        failed = [entry["data"]["error"] for entry in (await running.api("GET", "/incidents/1")).json()["timeline"]
                  if entry["kind"] == "notify_failed"]
        assert len(failed) == 1 and "sign match fail" in failed[0]
