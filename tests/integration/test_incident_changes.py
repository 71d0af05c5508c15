"""Changes beyond the lifecycle actions, over the API with real timers and the fake Slack: open an incident by
hand, edit it (sticky), escalate now, reassign, add responders, merge."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack import FakeSlack
from tests.support import Harness, alert, dm_users


async def _timeline(harness: Harness, number: int) -> list[dict[str, Any]]:
    return list((await harness.api("GET", f"/incidents/{number}")).json()["timeline"])


def _kinds(timeline: list[dict[str, Any]]) -> list[str]:
    return [entry["kind"] for entry in timeline]


async def test_an_incident_opened_by_hand_pages_like_any_other(harness: Harness, fake_slack: FakeSlack) -> None:
    answer = await harness.api("POST", "/incidents", json={
        "service": "payments", "title": "Checkout is slow for some users", "severity": "critical",
        "description": "Reported by support, no alert fired."})
    assert answer.status_code == 201, answer.text
    incident = answer.json()
    assert (incident["status"], incident["severity"], incident["alert_count"]) == ("triggered", "critical", 0)
    assert incident["description"] == "Reported by support, no alert fired."
    await harness.work()
    assert len(dm_users(fake_slack)) == 1  # the on-call person of level 1
    card = fake_slack.calls_to("chat.postMessage")[-1]
    assert "Checkout is slow" in str(card.params)
    created = (await _timeline(harness, incident["id"]))[0]
    assert (created["kind"], created["actor"], created["data"]["source"]) == ("created", "alice", "manual")
    harness.clock.advance(minutes=5)
    await harness.work()
    assert dm_users(fake_slack)[-1] == "UCAROL"  # and escalates like any other


async def test_opening_by_hand_refuses_an_unknown_service_and_an_empty_title(harness: Harness) -> None:
    unknown = await harness.api("POST", "/incidents", json={"service": "nope", "title": "x"})
    assert unknown.status_code == 422 and "nope" in unknown.json()["detail"]
    blank = await harness.api("POST", "/incidents", json={"service": "payments", "title": "   "})
    assert blank.status_code == 422
    assert (await harness.api("GET", "/incidents")).json()["incidents"] == []


async def test_an_edited_severity_stays_when_more_alerts_merge(harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert(severity="warning")])
    await harness.work()
    edited = await harness.api("PATCH", "/incidents/1", json={"severity": "info", "title": "CPU hot on prod (known)"})
    assert edited.status_code == 200 and edited.json()["changed"] is True
    await harness.post_alerts([alert(fingerprint="fp-2", severity="critical")])  # joins the same incident
    await harness.work()
    incident = (await harness.api("GET", "/incidents/1")).json()
    assert (incident["severity"], incident["title"], incident["alert_count"]) == ("info", "CPU hot on prod (known)", 2)
    assert "severity_raised" not in _kinds(incident["timeline"])
    assert any("CPU hot on prod (known)" in str(call.params) for call in fake_slack.calls_to("chat.update"))
    again = await harness.api("PATCH", "/incidents/1", json={"severity": "info"})
    assert again.json()["changed"] is False
    assert _kinds((await harness.api("GET", "/incidents/1")).json()["timeline"]).count("edited") == 1
    bad = await harness.api("PATCH", "/incidents/1", json={"severity": "fatal"})
    assert bad.status_code == 422


async def test_escalate_now_pages_the_level_at_once(harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.work()
    await harness.api("POST", "/incidents/1/ack")
    answer = await harness.api("POST", "/incidents/1/escalate", json={})
    assert answer.status_code == 200 and answer.json()["level"] == 2  # the level after the one that paged
    assert answer.json()["incident"]["status"] == "triggered"  # whoever is paged now has to take it
    await harness.work()
    assert dm_users(fake_slack)[-1] == "UCAROL"
    missing = await harness.api("POST", "/incidents/1/escalate", json={"level": 3})
    assert missing.status_code == 422 and "1 to 2" in missing.json()["detail"]


async def test_reassign_to_a_person_pages_only_them(harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.work()
    first = dm_users(fake_slack)
    answer = await harness.api("POST", "/incidents/1/reassign", json={"users": ["bob"]})
    assert answer.status_code == 200, answer.text
    await harness.work()
    assert dm_users(fake_slack) == [*first, "UBOB"]
    harness.clock.advance(minutes=30)
    await harness.work()
    assert dm_users(fake_slack) == [*first, "UBOB"]  # carol's level 2 is no longer used
    entry = [e for e in await _timeline(harness, 1) if e["kind"] == "reassigned"][0]
    assert (entry["actor"], entry["data"]["users"]) == ("alice", ["bob"])
    nobody = await harness.api("POST", "/incidents/1/reassign", json={"users": ["zed"]})
    assert nobody.status_code == 422 and "zed" in nobody.json()["detail"]
    await harness.api("POST", "/incidents/1/resolve")
    assert (await harness.api("POST", "/incidents/1/reassign", json={"users": ["bob"]})).status_code == 409


async def test_reassign_to_a_team_pages_every_member_and_refuses_a_mix(harness: Harness,
                                                                       fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.work()

    def dms() -> list[str]:
        return [call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")
                if str(call.params["channel"]).startswith("D")]

    first = dms()
    mixed = await harness.api("POST", "/incidents/1/reassign", json={"team": "sre", "users": ["bob"]})
    assert mixed.status_code == 422 and "one of them" in mixed.json()["detail"]
    missing = await harness.api("POST", "/incidents/1/reassign", json={"team": "nope"})
    assert missing.status_code == 422 and missing.json()["detail"] == "There is no team nope."
    assert [e for e in await _timeline(harness, 1) if e["kind"] == "reassigned"] == []  # refusals changed nothing
    answer = await harness.api("POST", "/incidents/1/reassign", json={"team": "sre"})
    assert answer.status_code == 200, answer.text
    await harness.work()
    harness.clock.advance(seconds=1)  # the first page's DM had this second of alice's DM (1/s)
    await harness.work()
    assert sorted(dms()[len(first):]) == ["DUALICE", "DUBOB", "DUCAROL"]
    entry = [e for e in await _timeline(harness, 1) if e["kind"] == "reassigned"][0]
    assert entry["data"]["team"] == "sre"


async def test_added_responders_are_paged_even_when_it_is_acknowledged(harness: Harness,
                                                                     fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.work()
    await harness.api("POST", "/incidents/1/ack")
    answer = await harness.api("POST", "/incidents/1/responders", json={"users": ["bob", "carol"]})
    assert answer.status_code == 200 and answer.json()["incident"]["status"] == "acknowledged"
    await harness.work()
    assert set(dm_users(fake_slack)[-2:]) == {"UBOB", "UCAROL"}
    assert "not_sent" not in _kinds(await _timeline(harness, 1))


async def test_merge_moves_the_alerts_and_resolves_the_sources(harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert("HighCPU", fingerprint="a")])
    await harness.post_alerts([alert("DiskFull", fingerprint="b", severity="critical")])
    await harness.work()
    answer = await harness.api("POST", "/incidents/1/merge", json={"sources": [2]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["alerts_moved"] == 1
    assert (body["incident"]["alert_count"], body["incident"]["severity"]) == (2, "critical")
    source = (await harness.api("GET", "/incidents/2")).json()
    assert source["status"] == "resolved" and source["alert_count"] == 0
    assert [e["data"]["into"] for e in source["timeline"] if e["kind"] == "merged_into"] == [1]
    itself = await harness.api("POST", "/incidents/1/merge", json={"sources": [1]})
    assert itself.status_code == 409
    gone = await harness.api("POST", "/incidents/1/merge", json={"sources": [99]})
    assert gone.status_code == 404
    await harness.post_alerts([alert("DiskFull", fingerprint="b", status="resolved")])
    assert (await harness.api("GET", "/incidents/1")).json()["status"] == "triggered"
    await harness.post_alerts([alert("HighCPU", fingerprint="a", status="resolved")])
    assert (await harness.api("GET", "/incidents/1")).json()["status"] == "resolved"  # its alerts, all resolved


async def test_a_refused_merge_changes_nothing(harness: Harness) -> None:
    await harness.post_alerts([alert("HighCPU", fingerprint="a")])
    await harness.post_alerts([alert("DiskFull", fingerprint="b")])
    await harness.post_alerts([alert("Memory", fingerprint="c")])
    await harness.api("POST", "/incidents/3/resolve")
    refused = await harness.api("POST", "/incidents/1/merge", json={"sources": [2, 3]})
    assert refused.status_code == 409 and "#3" in refused.json()["detail"]
    assert (await harness.api("GET", "/incidents/2")).json()["status"] == "triggered"
    assert (await harness.api("GET", "/incidents/1")).json()["alert_count"] == 1
