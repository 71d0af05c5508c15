"""Delivery through the outbox: retries honour Retry-After, permanent errors reach the timeline, no secrets."""

from __future__ import annotations

import logging

import pytest

from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.fakes.slack import FakeSlack
from tests.support import BOT_TOKEN, Harness, alert


async def _timeline(harness: Harness) -> list[dict]:
    return (await harness.api("GET", "/incidents/1")).json()["timeline"]


async def test_slack_429_is_retried_after_retry_after(harness: Harness, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=30, times=1)
    await harness.post_alerts([alert()])
    await harness.work()
    delivered = [call for call in fake_slack.calls_to("chat.postMessage")]
    assert len(delivered) == 2  # one was answered 429, the other went through
    harness.clock.advance(seconds=29)
    await harness.work()
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # Retry-After not over yet
    harness.clock.advance(seconds=31)  # back-off with jitter stays under a minute for the first retry
    await harness.work()
    assert len(fake_slack.calls_to("chat.postMessage")) == 3
    notified = [entry for entry in await _timeline(harness) if entry["kind"] == "notified"]
    assert len(notified) == 3  # DM, channel and robot each once


async def test_slack_5xx_is_retried(harness: Harness, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=500, times=2)
    await harness.post_alerts([alert()])
    for _ in range(4):
        await harness.work()
        harness.clock.advance(minutes=1)
    assert len(fake_slack.messages) == 2


async def test_permanent_error_is_on_the_timeline_and_not_retried(harness: Harness, fake_slack: FakeSlack) -> None:
    fake_slack.error_next("chat.postMessage", error="channel_not_found", times=5)
    await harness.post_alerts([alert()])
    await harness.work()
    failed_channels = sorted(call.params["channel"] for call in fake_slack.calls_to("chat.postMessage"))
    assert len(failed_channels) == 2
    harness.clock.advance(minutes=3)
    await harness.work()
    assert sorted(call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")) == failed_channels
    failures = [entry["data"] for entry in await _timeline(harness) if entry["kind"] == "notify_failed"]
    assert failures and "channel_not_found" in failures[0]["error"]


@pytest.mark.parametrize(("errcode", "retried"), [(310000, False), (130101, True)])
async def test_dingtalk_error_codes_in_200_answers(harness: Harness, fake_robot: FakeDingTalkRobot,
                                                   errcode: int, retried: bool) -> None:
    fake_robot.code_next(errcode, "injected", times=1)
    await harness.post_alerts([alert()])
    await harness.work()
    assert fake_robot.messages == []
    harness.clock.advance(minutes=2)
    await harness.work()
    assert len(fake_robot.messages) == (1 if retried else 0)
    failed = [entry for entry in await _timeline(harness) if entry["kind"] == "notify_failed"]
    assert bool(failed) is not retried


async def test_errors_and_logs_never_contain_secrets(harness: Harness, fake_slack: FakeSlack,
                                                     fake_robot: FakeDingTalkRobot,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake_slack.error_next("chat.postMessage", error="invalid_auth", times=5)
    fake_robot.fail_next(status=500, times=1)
    fake_robot.code_next(310000, "sign not match", times=1)
    await harness.post_alerts([alert()])
    await harness.work()
    harness.clock.advance(minutes=5)
    await harness.work()
    detail = (await harness.api("GET", "/incidents/1")).text
    for secret in (BOT_TOKEN, fake_robot.access_token, fake_robot.secret, "slack-signing-secret-for-tests"):
        assert secret not in detail
        assert secret not in caplog.text
    assert "notify_failed" in detail


async def test_a_page_queued_before_an_ack_is_not_sent_after_it(harness: Harness, fake_slack: FakeSlack) -> None:
    from bot.services.escalation import fire_due_timers

    await harness.post_alerts([alert()])
    directory = await harness.container.directory()
    assert await fire_due_timers(harness.container.db, directory, harness.clock()) == 1  # pages queued
    await harness.api("POST", "/incidents/1/ack")
    await harness.work()
    assert fake_slack.calls_to("conversations.open") == []  # nobody is woken for a taken incident
    assert [call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")] == ["CSRE"]
    kinds = [entry["kind"] for entry in await _timeline(harness)]
    assert "not_sent" in kinds
