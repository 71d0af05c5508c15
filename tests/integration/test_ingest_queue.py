"""Group commit: concurrent ingest requests share transactions, yet each gets its own answer, and a request that
fails does not take the others down with it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.services.ingest import IngestQueue, IngestResult, Submission
from core.model import AlertEvent, AlertStatus, Severity
from core.stages import Passage
from tests.support import ALERTMANAGER_KEY, Harness, alert, alertmanager_payload


def _event(key: str, name: str) -> AlertEvent:
    return AlertEvent(source="alertmanager", fingerprint=key, status=AlertStatus.FIRING, severity=Severity.WARNING,
                      title=name, labels={"alertname": name, "cluster": "prod"}, annotations={},
                      starts_at=datetime(2026, 11, 25, tzinfo=UTC))


async def test_concurrent_requests_each_get_their_own_answer(harness: Harness) -> None:
    bodies = [alertmanager_payload([alert(f"Name{n % 5}", fingerprint=f"f{n}")]) for n in range(40)]
    answers = await asyncio.gather(*(harness.client.post(f"/hooks/alertmanager/{ALERTMANAGER_KEY}", json=body)
                                     for body in bodies))
    assert {answer.status_code for answer in answers} == {202}
    created = [incident for answer in answers for incident in answer.json()["incidents_created"]]
    assert len(created) == len(set(created)) == 5  # each incident is reported by the one request that opened it
    incidents = (await harness.api("GET", "/incidents")).json()["incidents"]
    assert sorted(item["alert_count"] for item in incidents) == [8] * 5


async def test_a_failing_request_fails_alone(harness: Harness) -> None:
    queue = IngestQueue(harness.container.db)
    directory = await harness.container.directory()
    now = harness.clock()
    good = [Submission([Passage(_event(f"g{n}", "Good"), "payments")], now) for n in range(3)]
    bad = Submission([Passage(_event("b", "Bad"), "no-such-service")], now)  # no rules for it: it fails
    results = await asyncio.gather(*(queue.submit(directory, item) for item in (good[0], bad, good[1], good[2])),
                                   return_exceptions=True)
    assert isinstance(results[1], KeyError)
    assert [result.alerts if isinstance(result, IngestResult) else result
            for result in (results[0], results[2], results[3])] == [1, 1, 1]
    [incident] = (await harness.api("GET", "/incidents")).json()["incidents"]
    assert incident["alert_count"] == 3


@pytest.mark.parametrize("size", [1, 250])
async def test_a_large_request_is_not_split(harness: Harness, size: int) -> None:
    queue = IngestQueue(harness.container.db, max_alerts=100)
    directory = await harness.container.directory()
    submission = Submission([Passage(_event(f"k{n}", "Big"), "payments") for n in range(size)], harness.clock())
    [result] = await asyncio.gather(queue.submit(directory, submission))
    assert result.alerts == size
