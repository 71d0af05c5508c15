"""The running worker fires escalation timers in a loop of its own: a send that hangs does not hold up an
escalation that is due."""

from __future__ import annotations

import asyncio
import time

from tests.fakes.slack import FakeSlack
from tests.support import Harness, alert

HANG_SECONDS = 3.5  # under the Slack client's 10 s timeout: the send is still waiting for its answer


async def _escalated(harness: Harness, number: int) -> bool:
    detail = (await harness.api("GET", f"/incidents/{number}")).json()
    return any(entry["kind"] == "escalated" for entry in detail.get("timeline", []))


async def test_a_due_escalation_fires_while_a_send_hangs(harness: Harness, fake_slack: FakeSlack) -> None:
    fake_slack.hold_next("chat.postMessage", HANG_SECONDS)
    stop = asyncio.Event()
    running = asyncio.create_task(harness.container.worker.run(stop))
    try:
        await harness.post_alerts([alert("First", fingerprint="first")])
        await _first_post(fake_slack)  # and it hangs there
        hung_at = time.monotonic()

        await harness.post_alerts([alert("Second", fingerprint="second")])  # a new incident, paged at once
        while not await _escalated(harness, 2):
            assert time.monotonic() - hung_at < 2.0, "the second incident's escalation waited for the hung send"
            await asyncio.sleep(0.05)
        assert time.monotonic() - hung_at < HANG_SECONDS - 1  # fired while the first send still hangs
        # and its pages go out once the sends' loop is free again (a second later: one message a second per chat)
        harness.clock.advance(seconds=2)
        for _ in range(int(HANG_SECONDS * 20) + 100):
            channels = [call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")]
            if len(channels) >= 4:
                break
            await asyncio.sleep(0.05)
        assert sorted(channels) == ["CSRE", "CSRE", "DUALICE", "DUALICE"], channels
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)


async def _first_post(fake_slack: FakeSlack) -> None:
    for _ in range(200):
        if fake_slack.calls_to("chat.postMessage"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the first page never reached Slack")
