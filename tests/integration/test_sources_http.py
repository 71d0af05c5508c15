"""Every source over HTTP: the tool's documented payload opens an incident, its recovery resolves it, and a
key of another source is refused. The payloads are the golden files of the parsers' unit tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Harness, base_config, start_harness

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
KEYS = {kind: f"{kind.replace('-', '')}-key-0123456789" for kind in
        ("grafana", "uptime-kuma", "nightingale", "zabbix", "pagerduty", "generic")}

# source, firing payload, resolving payload, the incident's title, alerts in the firing payload
CASES = [
    ("grafana", "grafana_firing", "grafana_resolved", "Memory above 90% in zone us-1", 2),
    ("uptime-kuma", "uptime_kuma_down", "uptime_kuma_up", "Checkout API: timeout of 48000ms exceeded", 1),
    ("nightingale", "nightingale_event", "nightingale_recovered", "CPU usage above 90% (db-1)", 1),
]


def _body(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
async def sources(db_url: str) -> AsyncIterator[Harness]:
    config = base_config()
    config["services"][0]["grouping"] = {"by": []}  # one incident per service: every alert of a payload joins it
    config["services"][0]["integrations"] += [{"kind": kind, "key": key} for kind, key in KEYS.items()]
    async for running in start_harness(db_url, config):
        yield running


async def _incidents(harness: Harness) -> list[dict[str, Any]]:
    return (await harness.api("GET", "/incidents")).json()["incidents"]


@pytest.mark.parametrize(("source", "firing", "resolving", "title", "alerts"), CASES)
async def test_a_source_opens_and_resolves_an_incident(sources: Harness, source: str, firing: str, resolving: str,
                                                       title: str, alerts: int) -> None:
    answer = await sources.client.post(f"/hooks/{source}/{KEYS[source]}", json=_body(firing))
    assert answer.status_code == 202, answer.text
    assert answer.json()["alerts"] == alerts
    [incident] = await _incidents(sources)
    assert (incident["title"], incident["status"], incident["alert_count"]) == (title, "triggered", alerts)

    answer = await sources.client.post(f"/hooks/{source}/{KEYS[source]}", json=_body(resolving))
    assert answer.status_code == 202, answer.text
    [incident] = await _incidents(sources)
    expected = "resolved" if alerts == 1 else "triggered"  # Grafana's resolved body recovers one of two alerts
    assert incident["status"] == expected


@pytest.mark.parametrize("source", [case[0] for case in CASES])
async def test_a_key_of_another_source_is_refused(sources: Harness, source: str) -> None:
    other = next(kind for kind in KEYS if kind != source)
    answer = await sources.client.post(f"/hooks/{source}/{KEYS[other]}", json=_body(CASES[0][1]))
    assert answer.status_code == 401
    assert await _incidents(sources) == []


@pytest.mark.parametrize("source", [case[0] for case in CASES])
async def test_a_malformed_body_is_400_with_a_path_and_stores_nothing(sources: Harness, source: str) -> None:
    bad = [{"tags_map": 5}] if source == "nightingale" else [{"labels": 5}]
    answer = await sources.client.post(f"/hooks/{source}/{KEYS[source]}", json=bad)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]
    assert "path" in answer.json()
    assert await _incidents(sources) == []
