"""Properties of the whole ingest path (HTTP → pipeline → database, SQLite), checked by hypothesis:

- no alert answered 2xx is ever missing from the database;
- grouping does not depend on the arrival order of alerts within a window;
- a recovery always reaches its alert, whatever silences, inhibit rules and enrichment say.

Each example runs on a fresh database copied from the migrated template, so examples are independent.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import FakeClock, Harness, base_config, sqlite_url, start_harness

KEY = "generic-property-key-001"
PROPERTY_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# alert keys from a small pool, so firing, repeated and recovering events of one alert meet
KEYS = st.sampled_from([f"k{n}" for n in range(6)])
HOSTS = st.sampled_from(["a", "b", "c"])
EVENT = st.fixed_dictionaries({"key": KEYS, "host": HOSTS, "ok": st.booleans(),
                               "severity": st.sampled_from(["critical", "warning", "info"])})
REQUESTS = st.lists(st.lists(EVENT, min_size=1, max_size=6), min_size=1, max_size=8)


def _config(rules: bool) -> dict[str, Any]:
    config = base_config()
    service = config["services"][0]
    service["grouping"] = {"by": ["host"]}
    service["integrations"].append({"kind": "generic", "key": KEY, "rate_limit": "off"})
    if rules:  # everything that could stand between a recovery and its alert
        service["integrations"][-1]["enrich"] = [
            {"combine": {"label": "host", "template": "rewritten-{labels.host}"}},
            {"delete": ["labels.severity_word"]},
        ]
        service["silences"] = [{"name": "host a", "if": [[{"key": "labels.host", "in": ["a", "rewritten-a"]}]],
                                "weekly": [["mon 00:00", "mon 00:00"]]}]
        service["inhibit"] = [{"name": "critical hides warning", "source": [[{"key": "severity", "in": ["critical"]}]],
                               "target": [[{"key": "severity", "in": ["warning", "info"]}]], "equal": ["host"]}]
    return config


def _body(event: dict[str, Any]) -> dict[str, Any]:
    return {"title": f"{event['key']} on {event['host']}", "alert_key": event["key"],
            "status": "ok" if event["ok"] else event["severity"], "labels": {"host": event["host"]}}


async def _run(config: dict[str, Any], scenario: Any) -> Any:
    result = None
    with tempfile.TemporaryDirectory() as folder:
        async for harness in start_harness(sqlite_url(Path(folder)), config, FakeClock()):
            result = await scenario(harness)  # no return in the loop: the harness must close its database
    return result


async def _alerts(harness: Harness) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = (await harness.api("GET", f"/alerts?limit=500&offset={len(found)}")).json()["alerts"]
        found += page
        if len(page) < 500:
            return found


@PROPERTY_SETTINGS
@given(requests=REQUESTS, rules=st.booleans())
def test_no_alert_answered_2xx_is_missing(requests: list[list[dict[str, Any]]], rules: bool) -> None:
    async def scenario(harness: Harness) -> None:
        firing: set[str] = set()
        for request in requests:
            answer = await harness.client.post(f"/hooks/generic/{KEY}", json=[_body(event) for event in request])
            assert answer.status_code == 202, answer.text
            firing |= {event["key"] for event in request if not event["ok"]}
            stored = {alert["key"] for alert in await _alerts(harness)}
            assert firing <= stored  # every firing alert ever accepted has its row (open or since resolved)

    asyncio.run(_run(_config(rules), scenario))


@PROPERTY_SETTINGS
@given(requests=REQUESTS, rules=st.booleans())
def test_a_recovery_always_reaches_its_alert(requests: list[list[dict[str, Any]]], rules: bool) -> None:
    async def scenario(harness: Harness) -> None:
        last: dict[str, bool] = {}  # alert key → whether its latest event was a recovery
        for request in requests:
            answer = await harness.client.post(f"/hooks/generic/{KEY}", json=[_body(event) for event in request])
            assert answer.status_code == 202, answer.text
            last.update({event["key"]: event["ok"] for event in request})
        open_keys = {alert["key"] for alert in await _alerts(harness) if alert["status"] == "firing"}
        assert open_keys == {key for key, recovered in last.items() if not recovered}
        incidents = (await harness.api("GET", "/incidents?limit=500")).json()["incidents"]
        # an incident is open exactly while one of its alerts is: recoveries reached their incidents too
        for incident in incidents:
            alerts = [alert for alert in await _alerts(harness) if alert["incident_id"] == incident["id"]]
            assert (incident["status"] != "resolved") == any(alert["status"] == "firing" for alert in alerts)

    asyncio.run(_run(_config(rules), scenario))


ALERT_SET = st.lists(st.tuples(KEYS, HOSTS), min_size=1, max_size=8, unique_by=lambda item: item[0])


@PROPERTY_SETTINGS
@given(alerts=ALERT_SET, data=st.data())
def test_grouping_does_not_depend_on_arrival_order_within_a_window(alerts: list[tuple[str, str]],
                                                                  data: st.DataObject) -> None:
    order = data.draw(st.permutations(alerts))
    config = _config(False)
    config["services"][0]["grouping"] = {"by": ["host"], "window": {"tumbling": "30m"}}

    def partition(sequence: list[tuple[str, str]]) -> Any:
        async def scenario(harness: Harness) -> frozenset[frozenset[str]]:
            for key, host in sequence:  # one alert per request, a minute apart: all within the window
                body = _body({"key": key, "host": host, "ok": False, "severity": "warning"})
                assert (await harness.client.post(f"/hooks/generic/{KEY}", json=body)).status_code == 202
                harness.clock.advance(minutes=1)
            groups: dict[int, set[str]] = {}
            for alert in await _alerts(harness):
                groups.setdefault(alert["incident_id"], set()).add(alert["key"])
            return frozenset(frozenset(group) for group in groups.values())

        return asyncio.run(_run(config, scenario))

    assert partition(alerts) == partition(list(order))
