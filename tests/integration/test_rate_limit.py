"""Per-integration rate limits over HTTP: 429 with Retry-After, nothing stored, and `rate_limit: off`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support import ALERTMANAGER_KEY, FakeClock, Harness, alert, base_config, start_harness

START = datetime(2026, 11, 25, 10, 0, 0, 250_000, tzinfo=UTC)  # a quarter second into a minute


def _config(rate_limit: Any) -> dict[str, Any]:
    config = base_config()
    config["services"][0]["integrations"][0]["rate_limit"] = rate_limit
    return config


@pytest.fixture
async def limited(db_url: str) -> AsyncIterator[Harness]:
    async for running in start_harness(db_url, _config({"per_second": 2, "per_minute": 3}), FakeClock(START)):
        yield running


async def _alert_count(harness: Harness) -> int:
    incidents = (await harness.api("GET", "/incidents")).json()["incidents"]
    return sum(item["alert_count"] for item in incidents)


async def test_over_the_limit_is_429_with_retry_after_and_stores_nothing(limited: Harness) -> None:
    assert [(await limited.post_alerts([alert(fingerprint=f"a{n}")])).status_code for n in range(2)] == [202, 202]
    refused = await limited.post_alerts([alert(fingerprint="refused")])
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["retry_after"] == 1
    assert "rate limit" in refused.json()["error"]
    assert await _alert_count(limited) == 2

    limited.clock.advance(seconds=1)
    assert (await limited.post_alerts([alert(fingerprint="a2")])).status_code == 202
    per_minute = await limited.post_alerts([alert(fingerprint="refused")])
    assert (per_minute.status_code, per_minute.headers["retry-after"]) == (429, "59")  # at 10:00:01.25

    limited.clock.advance(seconds=59)
    assert (await limited.post_alerts([alert(fingerprint="a3")])).status_code == 202
    assert await _alert_count(limited) == 4
    metrics = (await limited.client.get("/metrics")).text
    assert "dutybot_ingest_throttled_total 2.0" in metrics


async def test_a_wrong_key_is_401_not_counted(limited: Harness) -> None:
    for _ in range(5):
        assert (await limited.client.post("/hooks/alertmanager/" + "x" * 16, json={})).status_code == 401
    assert (await limited.post_alerts([alert()])).status_code == 202


async def test_rate_limit_off(db_url: str) -> None:
    async for harness in start_harness(db_url, _config(False), FakeClock(START)):  # YAML's bare `off`
        answers = {(await harness.post_alerts([alert(fingerprint=f"f{n}")], key=ALERTMANAGER_KEY)).status_code
                   for n in range(30)}
        assert answers == {202}
        assert await _alert_count(harness) == 30


async def test_default_limit_is_100_per_second(db_url: str) -> None:
    async for harness in start_harness(db_url, base_config(), FakeClock(START)):
        answers = [(await harness.post_alerts([alert(fingerprint=f"f{n}")])).status_code for n in range(101)]
        assert answers.count(202) == 100 and answers[-1] == 429
