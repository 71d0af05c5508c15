"""One table over every outbound adapter: failures map to retry or not, and never carry a secret."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.robots.config import RobotTarget
from adapters.robots.render import dingtalk_message, robot_message
from adapters.robots.send import RobotSender
from adapters.slack.send import SlackSender
from cards.build import incident_card
from cards.i18n import Translator
from core.model import IncidentStatus, IncidentView, Severity
from core.ports import Destination, PermanentSendError, RetryableSendError, SendError
from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.fakes.robots import FakeFeishuRobot, FakeWeComRobot
from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-conformance-secret-token"
ROBOT_TOKEN = "robot-conformance-access-token"
ROBOT_SECRET = "SECconformancesecret"
CARD = incident_card(IncidentView(id=7, number=7, title="Disk full", status=IncidentStatus.TRIGGERED,
                                  severity=Severity.WARNING, service_id="s", service_name="Storage", alert_count=1,
                                  labels={"host": "db-1"}, created_at=datetime(2026, 11, 25, tzinfo=UTC)),
                     Translator("en"), "UTC", links={"ack": "http://127.0.0.1/a/x", "resolve": "http://127.0.0.1/a/y"})

Send = Callable[[], Awaitable[object]]


async def _slack(fake: FakeSlack, inject: Callable[[FakeSlack], None]) -> Send:
    inject(fake)
    sender = SlackSender(AsyncWebClient(token=TOKEN, base_url=fake.api_url))
    return lambda: sender.send(Destination("slack", "channel", "C1"), CARD)


async def _robot(fake: FakeDingTalkRobot, inject: Callable[[FakeDingTalkRobot], None],
                 http: httpx.AsyncClient) -> Send:
    inject(fake)
    sender = RobotSender(http)
    target = RobotTarget("dingtalk-robot", fake.webhook_url, ROBOT_SECRET)
    return lambda: sender.post(target, dingtalk_message(CARD, CARD.fallback))


SLACK_CASES = [
    ("ok", lambda fake: None, None),
    ("429", lambda fake: fake.fail_next("chat.postMessage", status=429, retry_after=7), RetryableSendError),
    ("500", lambda fake: fake.fail_next("chat.postMessage", status=500), RetryableSendError),
    ("ratelimited code", lambda fake: fake.error_next("chat.postMessage", error="ratelimited"), RetryableSendError),
    ("channel_not_found", lambda fake: fake.error_next("chat.postMessage"), PermanentSendError),
    ("invalid_auth", lambda fake: fake.error_next("chat.postMessage", error="invalid_auth"), PermanentSendError),
]
ROBOT_CASES = [
    ("ok", lambda fake: None, None),
    ("429", lambda fake: fake.fail_next(status=429), RetryableSendError),
    ("500", lambda fake: fake.fail_next(status=500), RetryableSendError),
    ("rate limited 130101", lambda fake: fake.code_next(130101, "send too fast"), RetryableSendError),
    ("sign not match 310000", lambda fake: fake.code_next(310000, "sign not match"), PermanentSendError),
    ("keywords 310000", lambda fake: fake.code_next(310000, "keywords not in content"), PermanentSendError),
]


@pytest.mark.parametrize(("name", "inject", "expected"), SLACK_CASES, ids=[case[0] for case in SLACK_CASES])
async def test_slack_sender(name: str, inject: Callable[[FakeSlack], None], expected: type[SendError] | None) -> None:
    with FakeSlack(bot_token=TOKEN) as fake:
        await _check(await _slack(fake, inject), expected, [TOKEN])
        if expected is RetryableSendError and name == "429":
            with pytest.raises(RetryableSendError) as caught:
                fake.fail_next("chat.postMessage", status=429, retry_after=7)
                await (await _slack(fake, lambda _: None))()
            assert caught.value.retry_after == 7


@pytest.mark.parametrize(("name", "inject", "expected"), ROBOT_CASES, ids=[case[0] for case in ROBOT_CASES])
async def test_dingtalk_robot_sender(name: str, inject: Callable[[FakeDingTalkRobot], None],
                                     expected: type[SendError] | None) -> None:
    with FakeDingTalkRobot(access_token=ROBOT_TOKEN, secret=ROBOT_SECRET) as fake:
        async with httpx.AsyncClient(trust_env=False) as http:
            await _check(await _robot(fake, inject, http), expected, [ROBOT_TOKEN, ROBOT_SECRET])
        if expected is None:
            assert fake.messages[0]["msgtype"] == "actionCard"


# Feishu custom bot and WeCom group robot: (platform, fake, injected failure, expected)
OTHER_ROBOT_CASES = [
    ("feishu-robot", "ok", lambda fake: None, None),
    ("feishu-robot", "429", lambda fake: fake.fail_next(status=429), RetryableSendError),
    ("feishu-robot", "500", lambda fake: fake.fail_next(status=500), RetryableSendError),
    ("feishu-robot", "frequency limited 11232", lambda fake: fake.code_next(11232), RetryableSendError),
    ("feishu-robot", "sign match fail 19021", lambda fake: fake.code_next(19021), PermanentSendError),
    ("feishu-robot", "keywords 19024", lambda fake: fake.code_next(19024), PermanentSendError),
    ("wecom-robot", "ok", lambda fake: None, None),
    ("wecom-robot", "500", lambda fake: fake.fail_next(status=500), RetryableSendError),
    ("wecom-robot", "freq out of limit 45009", lambda fake: fake.code_next(45009), RetryableSendError),
    ("wecom-robot", "busy -1", lambda fake: fake.code_next(-1), RetryableSendError),
    ("wecom-robot", "invalid webhook url 93000", lambda fake: fake.code_next(93000), PermanentSendError),
]


@pytest.mark.parametrize(("platform", "name", "inject", "expected"), OTHER_ROBOT_CASES,
                         ids=[f"{case[0]}-{case[1]}" for case in OTHER_ROBOT_CASES])
async def test_feishu_and_wecom_robot_senders(platform: str, name: str,
                                              inject: Callable[[FakeFeishuRobot | FakeWeComRobot], None],
                                              expected: type[SendError] | None) -> None:
    fake: FakeFeishuRobot | FakeWeComRobot
    if platform == "feishu-robot":
        fake, secret = FakeFeishuRobot(token=ROBOT_TOKEN, secret=ROBOT_SECRET), ROBOT_SECRET
    else:
        fake, secret = FakeWeComRobot(key=ROBOT_TOKEN), None  # a WeCom robot's key is its only secret
    secrets = [value for value in (ROBOT_TOKEN, secret) if value]
    with fake:
        inject(fake)
        target = RobotTarget(platform, fake.webhook_url, secret)
        async with httpx.AsyncClient(trust_env=False) as http:
            sender = RobotSender(http)
            await _check(lambda: sender.post(target, robot_message(platform, CARD)), expected, secrets)
        assert len(fake.messages) == (1 if expected is None else 0)


async def test_unreachable_platforms_are_retryable_without_secrets() -> None:
    sender = SlackSender(AsyncWebClient(token=TOKEN, base_url="http://127.0.0.1:9/api/"))
    await _check(lambda: sender.send(Destination("slack", "channel", "C1"), CARD), RetryableSendError, [TOKEN])
    target = RobotTarget("dingtalk-robot", f"http://127.0.0.1:9/robot/send?access_token={ROBOT_TOKEN}", ROBOT_SECRET)
    async with httpx.AsyncClient(trust_env=False) as http:
        robot = RobotSender(http)
        await _check(lambda: robot.post(target, {"msgtype": "text", "text": {"content": "x"}}), RetryableSendError,
                     [ROBOT_TOKEN, ROBOT_SECRET])
    assert ROBOT_TOKEN not in repr(target)


async def _check(send: Send, expected: type[SendError] | None, secrets: list[str]) -> None:
    if expected is None:
        await send()
        return
    with pytest.raises(expected) as caught:
        await send()
    for secret in secrets:
        assert secret not in str(caught.value) and secret not in repr(caught.value)
