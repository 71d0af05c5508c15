"""Concurrent webhooks for one group open one incident and lose no alert (the race on the unique index)."""

from __future__ import annotations

import asyncio

from tests.support import Harness, alert


async def test_concurrent_requests_share_one_incident(harness: Harness) -> None:
    bodies = [[alert(fingerprint=f"fp-{n}", instance=f"host-{n}")] for n in range(40)]
    responses = await asyncio.gather(*(harness.post_alerts(body) for body in bodies))
    assert [response.status_code for response in responses] == [202] * 40
    incidents = (await harness.api("GET", "/incidents")).json()["incidents"]
    assert [(item["id"], item["alert_count"]) for item in incidents] == [(1, 40)]
    created = [response.json()["incidents_created"] for response in responses]
    assert sorted(sum(created, [])) == [1]
