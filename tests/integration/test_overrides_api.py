"""Runtime overrides through the API: they change `oncall` and `shifts`, each write is audited, bad input is 4xx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.apply import apply_config
from bot.db.database import Database
from bot.db.tables import AuditEntry, ScheduleOverride
from tests.support import FakeClock, Harness, base_config, start_harness, to_config

# The base schedule `sre` (Asia/Shanghai): alice from Mon 2026-01-05 10:00, bob from the 12th, carol the 19th.
NOW = datetime(2026, 1, 7, 2, 0, tzinfo=UTC)  # Wed 2026-01-07 10:00 in Shanghai, alice's week


def _config(**extra: Any) -> dict[str, Any]:
    raw = base_config(roles=["primary", "backup"])
    raw["users"].append({"id": "dave", "name": "Dave"})
    raw["teams"].append({"id": "dba", "name": "DBA", "members": ["bob"]})
    raw["schedules"][0]["overrides"] = [{"start": "2026-01-08T09:00", "end": "2026-01-08T12:00", "user": "bob"}]
    raw["schedules"].append({
        "id": "dba", "name": "DBA", "team": "dba", "timezone": "Europe/Berlin",
        "layers": [{"name": "daily", "members": ["bob", "dave"], "start": "2026-01-05T00:00",
                    "rotation": {"every": 1, "unit": "day"}}]})
    raw.update(extra)
    return raw


def _harness(db_url: str, raw: dict[str, Any] | None = None) -> AsyncIterator[Harness]:
    return start_harness(db_url, raw or _config(), clock=FakeClock(NOW))


async def _oncall(harness: Harness, at: str, schedule: str = "sre") -> list[str]:
    answer = await harness.api("GET", f"/schedules/{schedule}/oncall", params={"at": at})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["users"])


async def _shifts(harness: Harness, start: str, end: str) -> list[tuple[str, str, list[str], str]]:
    answer = (await harness.api("GET", "/schedules/sre/shifts", params={"from": start, "to": end})).json()
    return [(s["start"][11:16], s["end"][11:16], s["users"], s["source"]) for s in answer["shifts"]]


async def _audit(harness: Harness, schedule: str = "sre") -> list[dict[str, Any]]:
    answer = await harness.api("GET", f"/schedules/{schedule}/audit")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["entries"])


async def test_create_update_delete_change_who_is_on_call(db_url: str) -> None:
    async for harness in _harness(db_url):
        created = await harness.api("POST", "/schedules/sre/overrides",
                                    json={"start": "2026-01-07T09:00", "end": "2026-01-07T17:00", "user": "carol"})
        assert created.status_code == 201, created.text
        override = created.json()
        assert override["start"] == "2026-01-07T09:00:00+08:00" and override["end"] == "2026-01-07T17:00:00+08:00"
        assert (override["user"], override["role"], override["source"], override["created_by"]) == (
            "carol", None, "api", "alice")
        oid = override["id"]
        assert isinstance(oid, int)
        assert await _oncall(harness, "2026-01-07T12:00") == ["carol"]
        assert await _oncall(harness, "2026-01-07T08:59") == ["alice"]
        assert await _shifts(harness, "2026-01-07T00:00", "2026-01-08T00:00") == [
            ("00:00", "09:00", ["alice"], "layer:weekly"), ("09:00", "17:00", ["carol"], "override"),
            ("17:00", "00:00", ["alice"], "layer:weekly")]

        updated = await harness.api("PATCH", f"/schedules/sre/overrides/{oid}",
                                    json={"user": "bob", "end": "2026-01-07T10:00:00Z"})
        assert updated.status_code == 200, updated.text
        assert updated.json()["user"] == "bob" and updated.json()["end"] == "2026-01-07T18:00:00+08:00"
        assert await _oncall(harness, "2026-01-07T17:30") == ["bob"]
        fetched = (await harness.api("GET", f"/schedules/sre/overrides/{oid}")).json()
        assert fetched == updated.json()

        deleted = await harness.api("DELETE", f"/schedules/sre/overrides/{oid}")
        assert deleted.status_code == 204 and deleted.content == b""
        assert await _oncall(harness, "2026-01-07T12:00") == ["alice"]
        assert await _shifts(harness, "2026-01-07T00:00", "2026-01-08T00:00") == [
            ("00:00", "00:00", ["alice"], "layer:weekly")]
        for method in ("GET", "PATCH", "DELETE"):
            again = await harness.api(method, f"/schedules/sre/overrides/{oid}", json={"user": "bob"})
            assert again.status_code == 404 and "not found" in again.json()["detail"]


async def test_every_write_is_audited_with_actor_and_before_after(db_url: str) -> None:
    async for harness in _harness(db_url):
        body = {"start": "2026-01-07T09:00", "end": "2026-01-07T17:00", "user": "carol", "role": "primary"}
        oid = (await harness.api("POST", "/schedules/sre/overrides", json=body)).json()["id"]
        harness.clock.advance(minutes=5)
        await harness.api("PATCH", f"/schedules/sre/overrides/{oid}", json={"role": None})
        unchanged = await harness.api("PATCH", f"/schedules/sre/overrides/{oid}", json={"user": "carol"})
        assert unchanged.status_code == 200  # nothing changed: no audit row
        harness.clock.advance(minutes=5)
        await harness.api("DELETE", f"/schedules/sre/overrides/{oid}")

        entries = await _audit(harness)
        assert [(e["action"], e["actor"]) for e in entries] == [
            ("override.delete", "alice"), ("override.update", "alice"), ("override.create", "alice"),
            ("config.apply", "cli")]
        delete, update, create, applied = entries
        snapshot = {"id": oid, "start": "2026-01-07T09:00:00+08:00", "end": "2026-01-07T17:00:00+08:00",
                    "user": "carol", "role": "primary"}
        assert create["before"] is None and create["after"] == snapshot
        assert update["before"] == snapshot and update["after"] == {**snapshot, "role": None}
        assert delete["before"] == {**snapshot, "role": None} and delete["after"] is None
        assert {e["subject"] for e in entries} == {"schedule:sre"}
        assert datetime.fromisoformat(create["at"]) == NOW
        assert datetime.fromisoformat(delete["at"]) == datetime(2026, 1, 7, 2, 10, tzinfo=UTC)
        assert applied["after"] == {"kind": "schedule", "id": "sre", "verb": "create"}
        assert (await _audit(harness, "dba"))[0]["action"] == "config.apply"  # nothing of sre's leaks into dba

        async with harness.container.db.transaction() as session:
            row = await session.get(ScheduleOverride, oid)
            assert row is not None and row.deleted_at == datetime(2026, 1, 7, 2, 10, tzinfo=UTC)  # kept, marked


async def test_listing_joins_config_and_runtime_overrides(db_url: str) -> None:
    async for harness in _harness(db_url):
        for start, end in (("2026-01-07T09:00", "2026-01-07T11:00"), ("2026-01-09T09:00", "2026-01-09T11:00"),
                           ("2026-01-06T09:00", "2026-01-06T11:00")):
            answer = await harness.api("POST", "/schedules/sre/overrides",
                                       json={"start": start, "end": end, "user": "dave"})
            assert answer.status_code == 201, answer.text
        window = {"from": "2026-01-07T00:00", "to": "2026-01-09T00:00"}
        listed = (await harness.api("GET", "/schedules/sre/overrides", params=window)).json()
        assert listed["schedule"] == "sre" and listed["timezone"] == "Asia/Shanghai"
        assert [(o["start"], o["user"], o["source"], o["id"] is None) for o in listed["overrides"]] == [
            ("2026-01-07T09:00:00+08:00", "dave", "api", False),
            ("2026-01-08T09:00:00+08:00", "bob", "config", True)]
        # without `from`: everything not over by now (10:00 on the 7th), with no upper bound
        upcoming = (await harness.api("GET", "/schedules/sre/overrides")).json()["overrides"]
        assert [(o["start"][:10], o["source"]) for o in upcoming] == [
            ("2026-01-07", "api"), ("2026-01-08", "config"), ("2026-01-09", "api")]
        # the config's override still applies next to the runtime ones
        assert await _oncall(harness, "2026-01-08T10:00") == ["bob"]
        assert await _oncall(harness, "2026-01-06T10:00") == ["dave"]


async def test_a_later_runtime_override_wins_over_an_overlapping_one(db_url: str) -> None:
    async for harness in _harness(db_url):
        for start, end, user in (("2026-01-08T08:00", "2026-01-08T18:00", "dave"),
                                 ("2026-01-08T11:00", "2026-01-08T13:00", "carol")):
            await harness.api("POST", "/schedules/sre/overrides", json={"start": start, "end": end, "user": user})
        assert await _shifts(harness, "2026-01-08T00:00", "2026-01-09T00:00") == [
            ("00:00", "08:00", ["alice"], "layer:weekly"), ("08:00", "11:00", ["dave"], "override"),
            ("11:00", "13:00", ["carol"], "override"), ("13:00", "18:00", ["dave"], "override"),
            ("18:00", "00:00", ["alice"], "layer:weekly")]


async def test_validation_errors_are_clear_4xx(db_url: str) -> None:
    async for harness in _harness(db_url):
        good = {"start": "2026-01-07T09:00", "end": "2026-01-07T17:00", "user": "carol"}
        cases: list[tuple[dict[str, Any], str]] = [
            ({**good, "end": "2026-01-07T08:00"}, "end must be after start"),
            ({**good, "end": good["start"]}, "end must be after start"),
            ({**good, "end": "2026-02-07T09:01"}, "at most 31 days"),
            ({**good, "user": "mallory"}, "no user 'mallory'"),
            ({**good, "role": "tertiary"}, "no role 'tertiary'"),
            ({**good, "start": "9999-12-31T23:59:59", "end": "9999-12-31T23:59:59+14:00"}, "out of range"),
            ({**good, "start": "1900-01-01T00:00"}, "out of range"),
            ({**good, "end": "2201-01-01T00:00:00-12:00"}, "out of range"),
        ]
        for body, message in cases:
            answer = await harness.api("POST", "/schedules/sre/overrides", json=body)
            assert answer.status_code == 422 and message in answer.json()["detail"], (body, answer.text)
        for body in ({**good, "start": "tomorrow"}, {"start": good["start"], "user": "carol"}, {**good, "x": 1},
                     {**good, "user": ""}, {**good, "user": "a" * 65}):
            answer = await harness.api("POST", "/schedules/sre/overrides", json=body)
            assert answer.status_code == 422 and isinstance(answer.json()["detail"], list), answer.text
        assert (await harness.api("POST", "/schedules/sre/overrides",
                                  json={**good, "end": "2026-02-07T09:00"})).status_code == 201  # exactly 31 days

        assert (await harness.api("POST", "/schedules/nope/overrides", json=good)).status_code == 404
        assert (await harness.api("GET", "/schedules/nope/overrides")).status_code == 404
        assert (await harness.api("GET", "/schedules/nope/audit")).status_code == 404
        for oid in (0, 2**31, -1, 10**20):
            assert (await harness.api("PATCH", f"/schedules/sre/overrides/{oid}", json={})).status_code == 422
            assert (await harness.api("DELETE", f"/schedules/sre/overrides/{oid}")).status_code == 422
        assert (await harness.api("DELETE", "/schedules/sre/overrides/999")).status_code == 404
        bad_window = {"from": "2026-01-09T00:00", "to": "2026-01-08T00:00"}
        assert (await harness.api("GET", "/schedules/sre/overrides", params=bad_window)).status_code == 422
        far = {"from": "9999-12-31T23:59:59"}
        assert (await harness.api("GET", "/schedules/sre/overrides", params=far)).status_code == 422
        no_token = await harness.client.get("/api/v1/schedules/sre/overrides")
        assert no_token.status_code == 401


async def test_a_bad_patch_changes_nothing(db_url: str) -> None:
    async for harness in _harness(db_url):
        good = {"start": "2026-01-07T09:00", "end": "2026-01-07T17:00", "user": "carol"}
        oid = (await harness.api("POST", "/schedules/sre/overrides", json=good)).json()["id"]
        for body, status in (({"end": "2026-01-07T08:00"}, 422), ({"start": None}, 422), ({"user": None}, 422),
                             ({"user": "mallory"}, 422), ({"role": "tertiary"}, 422),
                             ({"start": "2025-12-01T00:00"}, 422)):
            answer = await harness.api("PATCH", f"/schedules/sre/overrides/{oid}", json=body)
            assert answer.status_code == status, (body, answer.text)
        # an override of one schedule is not reachable through another
        assert (await harness.api("GET", f"/schedules/dba/overrides/{oid}")).status_code == 404
        current = (await harness.api("GET", f"/schedules/sre/overrides/{oid}")).json()
        assert (current["start"], current["end"], current["user"]) == (
            "2026-01-07T09:00:00+08:00", "2026-01-07T17:00:00+08:00", "carol")
        assert [e["action"] for e in await _audit(harness)] == ["override.create", "config.apply"]


async def test_team_members_only_may_change_a_team_schedule(db_url: str) -> None:
    raw = _config()
    raw["api"]["tokens"].append({"name": "dba", "user": "bob", "token": "dba-token-0123456789"})
    async for harness in _harness(db_url, raw):
        body = {"start": "2026-03-29T01:00", "end": "2026-03-29T05:00", "user": "dave"}
        refused = await harness.api("POST", "/schedules/dba/overrides", json=body)
        assert refused.status_code == 403 and "team dba" in refused.json()["detail"]
        bob = {"authorization": "Bearer dba-token-0123456789"}
        created = await harness.client.post("/api/v1/schedules/dba/overrides", json=body, headers=bob)
        assert created.status_code == 201, created.text
        # no offset: Berlin time, across the spring-forward gap (02:00 → 03:00): 4 wall hours are 3 real ones
        assert created.json()["start"] == "2026-03-29T01:00:00+01:00"
        assert created.json()["end"] == "2026-03-29T05:00:00+02:00"
        oid = created.json()["id"]
        assert (await harness.api("DELETE", f"/schedules/dba/overrides/{oid}")).status_code == 403
        assert await _oncall(harness, "2026-03-29T04:00", schedule="dba") == ["dave"]
        assert [(e["action"], e["actor"]) for e in await _audit(harness, "dba")][0] == ("override.create", "bob")


async def test_apply_writes_audit_rows_and_leaves_runtime_overrides_alone(db_url: str) -> None:
    async for harness in _harness(db_url):
        oid = (await harness.api("POST", "/schedules/sre/overrides", json={
            "start": "2026-01-07T09:00", "end": "2026-01-07T17:00", "user": "carol"})).json()["id"]
        changed = _config()
        changed["schedules"][0]["name"] = "SRE primary"
        changed["schedules"][0]["overrides"] = []
        changed["users"].append({"id": "erin", "name": "Erin"})
        db = Database(harness.db_url)
        try:
            later = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)
            changes = await apply_config(db, to_config(changed), later)
            assert sorted((c.verb, c.kind, c.id) for c in changes) == [
                ("create", "user", "erin"), ("update", "schedule", "sre")]
            assert await apply_config(db, to_config(changed), later) == []  # nothing changed: no rows
            async with db.transaction() as session:
                rows = (await session.scalars(select(AuditEntry).where(AuditEntry.at == later)
                                              .order_by(AuditEntry.id))).all()
        finally:
            await db.close()
        assert [(r.actor, r.action, r.subject, r.before, r.after) for r in rows] == [
            ("cli", "config.apply", "schedule:sre", None, {"kind": "schedule", "id": "sre", "verb": "update"}),
            ("cli", "config.apply", "user:erin", None, {"kind": "user", "id": "erin", "verb": "create"})]
        harness.container.forget_directory()
        assert await _oncall(harness, "2026-01-07T12:00") == ["carol"]  # the runtime override survived apply
        assert await _oncall(harness, "2026-01-08T10:00") == ["alice"]  # the config's override is gone
        assert (await harness.api("GET", f"/schedules/sre/overrides/{oid}")).status_code == 200
        assert [e["action"] for e in await _audit(harness)][:2] == ["config.apply", "override.create"]
