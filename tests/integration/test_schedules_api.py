"""The schedules API: on call now / at a time with the next change, final shifts, one layer's shifts."""

from __future__ import annotations

from typing import Any

from tests.support import Harness, base_config, start_harness


def _config(fake_slack_url: str | None = None) -> dict[str, Any]:
    raw = base_config(slack_api_url=fake_slack_url)
    raw["schedules"][0]["layers"].append({
        "name": "office", "members": ["carol"], "start": "2026-01-05T00:00", "rotation": {"every": 1, "unit": "day"},
        "date_mask": ["mon", "tue", "wed", "thu", "fri"], "restrict": {"daily": [["09:00", "18:00"]]}})
    return raw


async def test_oncall_at_a_time_and_next(db_url: str) -> None:
    async for harness in start_harness(db_url, _config()):
        answer = (await harness.api("GET", "/schedules/sre/oncall", params={"at": "2026-01-12T08:00"})).json()
        assert answer["at"] == "2026-01-12T08:00:00+08:00" and answer["users"] == ["alice"]
        assert answer["next"] == {"start": "2026-01-12T09:00:00+08:00", "users": ["carol"]}
        office = (await harness.api("GET", "/schedules/sre/oncall", params={"at": "2026-01-12T10:00+08:00"})).json()
        assert office["users"] == ["carol"]  # the later layer wins in its window


async def test_final_and_layer_shifts(db_url: str) -> None:
    async for harness in start_harness(db_url, _config()):
        window = {"from": "2026-01-12T00:00", "to": "2026-01-13T00:00"}
        final = (await harness.api("GET", "/schedules/sre/shifts", params=window)).json()
        assert final["timezone"] == "Asia/Shanghai"
        assert [(s["start"][11:16], s["end"][11:16], s["users"], s["source"]) for s in final["shifts"]] == [
            ("00:00", "09:00", ["alice"], "layer:weekly"), ("09:00", "18:00", ["carol"], "layer:office"),
            ("18:00", "00:00", ["bob"], "layer:weekly")]
        weekly = (await harness.api("GET", "/schedules/sre/shifts", params={**window, "layer": "weekly"})).json()
        assert [s["users"] for s in weekly["shifts"]] == [["alice"], ["bob"]]


async def test_schedule_errors(harness: Harness) -> None:
    assert (await harness.api("GET", "/schedules/nope/oncall")).status_code == 404
    bad_window = {"from": "2026-01-13T00:00", "to": "2026-01-12T00:00"}
    assert (await harness.api("GET", "/schedules/sre/shifts", params=bad_window)).status_code == 422
    too_long = {"from": "2026-01-01T00:00", "to": "2028-01-01T00:00"}
    assert (await harness.api("GET", "/schedules/sre/shifts", params=too_long)).status_code == 422
    far = await harness.api("GET", "/schedules/sre/oncall", params={"at": "9999-12-31T23:59:59"})
    assert far.status_code == 422
    missing_layer = {"from": "2026-01-12T00:00", "to": "2026-01-13T00:00", "layer": "nope"}
    assert (await harness.api("GET", "/schedules/sre/shifts", params=missing_layer)).status_code == 404
    listed = (await harness.api("GET", "/schedules")).json()["schedules"]
    assert listed == [{"id": "sre", "name": "SRE", "team": None, "timezone": "Asia/Shanghai"}]
