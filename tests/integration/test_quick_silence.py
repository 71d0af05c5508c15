"""Quick silences from an incident over the API: presets, what they hold, and that they end by themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db.tables import QuickSilence
from tests.support import FakeClock, Harness, base_config, start_harness

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
KEY = "generic-quick-silence-01"


@pytest.fixture
async def silencing(db_url: str) -> AsyncIterator[Harness]:
    config = base_config()
    config["services"][0]["grouping"] = {"by": ["alertname", "host"]}
    config["services"][0]["integrations"].append({"kind": "generic", "key": KEY})
    async for running in start_harness(db_url, config, FakeClock(START)):
        yield running


async def _fire(harness: Harness, key: str, **labels: str) -> dict[str, Any]:
    answer = await harness.client.post(f"/hooks/generic/{KEY}", json={"title": key, "status": "critical",
                                                                      "alert_key": key, "labels": labels})
    assert answer.status_code == 202, answer.text
    return answer.json()


async def test_a_quick_silence_holds_the_incidents_labels_for_its_preset(silencing: Harness) -> None:
    [incident_id] = (await _fire(silencing, "disk-1", alertname="DiskFull", host="db-1"))["incidents_created"]
    made = await silencing.api("POST", f"/incidents/{incident_id}/silence", json={"preset": "1h"})
    assert made.status_code == 201, made.text
    silence = made.json()
    assert (silence["labels"], silence["ends_at"], silence["created_by"]) == (
        {"alertname": "DiskFull", "host": "db-1"}, "2026-11-25T11:00:00Z", "alice")
    assert [item["id"] for item in (await silencing.api("GET", "/silences")).json()["silences"]] == [silence["id"]]
    kinds = [entry["kind"] for entry in (await silencing.api("GET", f"/incidents/{incident_id}")).json()["timeline"]]
    assert "silenced" in kinds

    held = await _fire(silencing, "disk-2", alertname="DiskFull", host="db-1", mount="/var")  # more labels: held
    assert (held["muted"], held["incidents_created"]) == (1, [])
    other = await _fire(silencing, "disk-3", alertname="DiskFull", host="db-2")             # another host: pages
    assert other["muted"] == 0 and len(other["incidents_created"]) == 1

    silencing.clock.advance(hours=1)  # over: the tool's next report of disk-2 pages
    assert (await _fire(silencing, "disk-2", alertname="DiskFull", host="db-1", mount="/var"))["muted"] == 0
    assert (await silencing.api("GET", "/silences")).json()["silences"] == []
    await silencing.work()  # the worker forgets ended silences
    async with silencing.container.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(QuickSilence)) == 0


async def test_a_quick_silence_can_be_ended_early(silencing: Harness) -> None:
    [incident_id] = (await _fire(silencing, "disk-1", alertname="DiskFull", host="db-1"))["incidents_created"]
    silence = (await silencing.api("POST", f"/incidents/{incident_id}/silence", json={"preset": "1w"})).json()
    assert (await silencing.api("DELETE", f"/silences/{silence['id']}")).status_code == 204
    assert (await silencing.api("DELETE", f"/silences/{silence['id']}")).status_code == 404
    assert (await _fire(silencing, "disk-2", alertname="DiskFull", host="db-1"))["muted"] == 0


@pytest.mark.parametrize(("preset", "status"), [("2h", 422), ("", 422), (None, 422)])
async def test_unknown_presets_are_refused(silencing: Harness, preset: Any, status: int) -> None:
    [incident_id] = (await _fire(silencing, "disk-1", alertname="DiskFull", host="db-1"))["incidents_created"]
    answer = await silencing.api("POST", f"/incidents/{incident_id}/silence", json={"preset": preset})
    assert answer.status_code == status
    assert (await silencing.api("GET", "/silences")).json()["silences"] == []


async def test_an_incident_without_labels_or_unknown_cannot_be_silenced(silencing: Harness) -> None:
    [incident_id] = (await _fire(silencing, "bare"))["incidents_created"]
    refused = await silencing.api("POST", f"/incidents/{incident_id}/silence", json={"preset": "30m"})
    assert refused.status_code == 409 and "every alert" in refused.json()["detail"]
    assert (await silencing.api("POST", "/incidents/999/silence", json={"preset": "30m"})).status_code == 404
