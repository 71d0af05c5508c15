"""Test-wide guards: no network beyond loopback, no proxies, no stray environment."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.fakes.slack import FakeSlack
from tests.support import BOT_TOKEN, ROBOT_SECRET, ROBOT_TOKEN

# a failing property prints a @reproduce_failure blob, so a CI failure can be replayed anywhere
settings.register_profile("dutybot", print_blob=True)
settings.load_profile("dutybot")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address: object) -> bool:
    if isinstance(address, (str, bytes)):
        return True  # unix sockets (PostgreSQL's default)
    host = address[0] if isinstance(address, tuple) else ""
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(real):  # type: ignore[no-untyped-def]
    def connect(self, address):  # type: ignore[no-untyped-def]
        if not _allowed(address):
            raise ConnectionRefusedError(f"tests may only reach loopback, not {address!r}")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """HOUSE_STYLE 12: any connection that is not to this machine fails the test."""
    monkeypatch.setattr(socket.socket, "connect", _guarded(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(_real_connect_ex))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "")
    for name in ("DUTYBOT_CONFIG", "DUTYBOT_SECRET_KEY", "DUTYBOT_REDIS_URL", "DUTYBOT_LOCALE"):
        monkeypatch.delenv(name, raising=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:  # type: ignore[type-arg]
    """In CI (`DUTYBOT_NO_SKIP=1`, set by .ci/run) a skipped test is a failure: every service is there."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("DUTYBOT_NO_SKIP") == "1":
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be skipped: {report.longrepr}"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A local fake Slack Web API on port 0 that checks the bot token and Block Kit limits."""
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def fake_robot() -> Iterator[FakeDingTalkRobot]:
    """A local fake DingTalk custom robot on port 0 that checks the access token and the sign."""
    with FakeDingTalkRobot(access_token=ROBOT_TOKEN, secret=ROBOT_SECRET) as fake:
        yield fake
