"""Fixtures for the e2e tier: the fake platforms that a `dutybot serve` subprocess talks to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.fakes.slack import FakeSlack
from tests.support import BOT_TOKEN


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def fake_robot() -> Iterator[FakeDingTalkRobot]:
    with FakeDingTalkRobot(access_token="robot-access-token", secret="SECrobotsecret") as fake:
        yield fake
