"""Delivery through a flaky platform: the fake Slack answers 30% of calls 5xx, 10% 429 with Retry-After and
holds 5% past the client's timeout (then does the work anyway, the worst case). Every page still arrives,
each card ends in its newest state (an older update never overwrites a newer one), duplicates stay within the
documented bound (one per post that timed out), and it all happens within the documented time (docs/delivery.md).
Real wall time: the retries' back-off and the timeouts are real."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from tests.fakes.slack import FakeSlack
from tests.support import FakeClock, Harness, alert, base_config, start_harness

INCIDENTS = 4
ACKED = (1, 3)
BOUND_SECONDS = 60.0  # docs/delivery.md: under these fault rates, at this size


class WallClock(FakeClock):
    def __call__(self) -> datetime:
        return datetime.now(UTC)


def _number(message: dict[str, Any]) -> int:
    """The incident a card is about: its fallback text reads "[Critical] #3 …"."""
    return int(next(word for word in str(message["text"]).split() if word.startswith("#")).lstrip("#"))


def _cards(fake_slack: FakeSlack) -> dict[tuple[int, str], list[str]]:
    """(incident, channel) → the ts of each card posted there."""
    found: dict[tuple[int, str], list[str]] = {}
    for (channel, ts), message in fake_slack.messages.items():
        found.setdefault((_number(message), channel), []).append(ts)
    return found


def _acknowledged(message: dict[str, Any]) -> bool:
    return "Acknowledged by" in str(message.get("blocks"))


async def _until(harness: Harness, done: Any, deadline: float) -> None:
    while not done():
        assert time.monotonic() < deadline, "not delivered within the documented time"
        await harness.work()
        await asyncio.sleep(0.1)


async def test_every_page_arrives_through_5xx_429_and_timeouts(db_url: str, fake_slack: FakeSlack) -> None:
    raw = base_config(slack_api_url=fake_slack.api_url)
    raw["platforms"]["slack"]["timeout_seconds"] = 1
    raw["escalation_policies"] = [{"id": "default", "steps": [
        {"after": "0m", "notify": [{"user": "alice"}], "via": ["dm", "sre-slack"]}]}]
    async for harness in start_harness(db_url, raw, clock=WallClock()):
        fake_slack.faults(error_5xx=0.3, rate_limited=0.1, timeout=0.05, hold_seconds=1.5, seed=11)
        started = time.monotonic()
        deadline = started + BOUND_SECONDS
        for index in range(INCIDENTS):
            assert (await harness.post_alerts([alert(f"Alert{index}", fingerprint=f"fp-{index}")])).status_code == 202
        # each incident: one card in the channel, one in alice's DM
        await _until(harness, lambda: {number for number, _ in _cards(fake_slack)} == set(range(1, INCIDENTS + 1))
                     and all(len({channel for (n, channel) in _cards(fake_slack) if n == number}) == 2
                             for number in range(1, INCIDENTS + 1)), deadline)
        for number in ACKED:
            assert (await harness.api("POST", f"/incidents/{number}/ack")).status_code == 200

        def acked_everywhere() -> bool:
            latest = fake_slack.messages
            return all(any(_acknowledged(latest[(channel, ts)]) for ts in stamps)
                       for (number, channel), stamps in _cards(fake_slack).items() if number in ACKED)

        await _until(harness, acked_everywhere, deadline)
        await asyncio.sleep(1.5)  # anything still held by the fake lands now
        await harness.work()
        elapsed = time.monotonic() - started

    faults = fake_slack.fault_log
    kinds = {kind for _, kind in faults}
    assert {"5xx", "429"} <= kinds, faults  # the platform really was flaky
    post_timeouts = sum(1 for method, kind in faults if kind == "timeout" and method == "chat.postMessage")
    duplicates = sum(len(stamps) - 1 for stamps in _cards(fake_slack).values())
    assert duplicates <= post_timeouts, (duplicates, faults)
    for (channel, ts), history in fake_slack.history.items():  # an older state never overwrites a newer one
        states = [_acknowledged(message) for message in history]
        assert states == sorted(states), (channel, ts, states)
    unacked = [message for message in fake_slack.messages.values() if _number(message) not in ACKED]
    assert unacked and not any(_acknowledged(message) for message in unacked)
    assert elapsed < BOUND_SECONDS
    logging.getLogger(__name__).warning("%d faults %s, %d duplicates, all delivered in %.1f s",
                                        len(faults), sorted(kinds), duplicates, elapsed)
