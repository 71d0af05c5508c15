"""Fixtures for integration tests: each database test runs on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.fakes.slack import FakeSlack
from tests.support import Harness, base_config, drop_postgres, postgres_url, sqlite_url, start_harness

ENGINES = [pytest.param("sqlite", id="sqlite"),
           pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    if not os.environ.get("DUTYBOT_TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL: set DUTYBOT_TEST_DATABASE_URL")
    url = postgres_url()
    assert url is not None
    yield url
    drop_postgres(url)


@pytest.fixture
async def harness(db_url: str, fake_slack: FakeSlack, fake_robot: FakeDingTalkRobot) -> AsyncIterator[Harness]:
    raw = base_config(slack_api_url=fake_slack.api_url, dingtalk_webhook=fake_robot.webhook_url,
                      dingtalk_secret=fake_robot.secret)
    async for running in start_harness(db_url, raw):
        yield running
