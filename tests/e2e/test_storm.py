"""An alert storm against `dutybot serve` (on SQLite, the embedded default, and on PostgreSQL): 10,000 alerts
from 50 services within 10 seconds, from concurrent clients. Every alert is stored, each (service, group) has
one incident, and each incident pages once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.procs import dutybot_serve, free_port, wait_until
from tests.fakes.slack import FakeSlack
from tests.support import API_TOKEN, alertmanager_payload, base_config, drop_postgres, postgres_url

SERVICES = 50
GROUPS = 4  # alertnames per service: 200 incidents
ALERTS = 10_000
BATCH = 20  # alerts per webhook, as Alertmanager sends a group
CLIENTS = 16
SEND_WITHIN_SECONDS = 10.0


def _key(service: int) -> str:
    return f"storm-{service:02d}-key-0123456789"


def _config(slack_api_url: str, public_url: str) -> dict[str, Any]:
    raw = base_config(slack_api_url=slack_api_url, public_url=public_url)
    template = raw["services"][0]
    raw["services"] = [{**template, "id": f"svc{n:02d}", "name": f"Service {n}", "grouping": {"by": ["alertname"]},
                        "integrations": [{"kind": "alertmanager", "key": _key(n)}]} for n in range(SERVICES)]
    return raw


def _bodies() -> list[tuple[str, dict[str, Any]]]:
    """(integration key, webhook body): alert n belongs to service n % 50 and group (n // 50) % 4."""
    alerts: dict[int, list[dict[str, Any]]] = {n: [] for n in range(SERVICES)}
    for number in range(ALERTS):
        service = number % SERVICES
        alerts[service].append({
            "status": "firing", "fingerprint": f"storm-{number}", "startsAt": "2026-11-25T10:00:00Z",
            "labels": {"alertname": f"Storm{(number // SERVICES) % GROUPS}", "instance": f"host-{number}",
                       "severity": "critical"},
            "annotations": {"summary": f"storm {number}"}, "endsAt": "0001-01-01T00:00:00Z"})
    return [(_key(service), alertmanager_payload(items[start:start + BATCH]))
            for service, items in alerts.items() for start in range(0, len(items), BATCH)]


async def _send(url: str, bodies: list[tuple[str, dict[str, Any]]]) -> list[int]:
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    statuses: list[int] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30.0, trust_env=False) as http:
            while not queue.empty():
                key, body = queue.get_nowait()
                statuses.append((await http.post(f"/hooks/alertmanager/{key}", json=body)).status_code)

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return statuses


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'storm.db'}"
        return
    url = postgres_url(migrated=False)
    if url is None:
        pytest.skip("PostgreSQL: set DUTYBOT_TEST_DATABASE_URL")
    yield url
    drop_postgres(url)


def test_a_storm_of_10000_alerts_from_50_services(tmp_path: Path, fake_slack: FakeSlack, database: str) -> None:
    port = free_port()
    raw = _config(fake_slack.api_url, f"http://127.0.0.1:{port}")
    with dutybot_serve(tmp_path, raw, port, API_TOKEN, extra_env={"DUTYBOT_DATABASE_URL": database}) as dutybot:
        bodies = _bodies()
        started = time.monotonic()
        statuses = asyncio.run(_send(dutybot.url, bodies))
        took = time.monotonic() - started
        assert Counter(statuses) == {202: len(bodies)}
        assert took < SEND_WITHIN_SECONDS, f"10,000 alerts took {took:.1f} s to be accepted"

        incidents = dutybot.api("GET", "/incidents", params={"limit": 500}).json()["incidents"]
        per_group = Counter((item["service"], item["labels"]["alertname"]) for item in incidents)
        assert len(per_group) == SERVICES * GROUPS and set(per_group.values()) == {1}
        assert sum(item["alert_count"] for item in incidents) == ALERTS  # nothing lost

        # the worker pages each incident once, to the on-call by DM and to the team channel: cards while the
        # chats' rate limits allow, then one digest per backed-up chat (docs/delivery.md)
        seen = {"posts": -1, "since": time.monotonic()}

        def quiet() -> bool:
            posts = len(fake_slack.calls_to("chat.postMessage"))
            if posts != seen["posts"]:
                seen["posts"], seen["since"] = posts, time.monotonic()
            return posts > 0 and time.monotonic() - seen["since"] > 3.0

        wait_until(quiet, 90, "the pages to stop")
        for incident in incidents:
            timeline = dutybot.api("GET", f"/incidents/{incident['id']}").json()["timeline"]
            told = sorted(entry["data"]["to"] for entry in timeline if entry["kind"] == "notified")
            assert len(told) == 2 and told[1] == "sre-slack" and told[0] in {"alice", "bob", "carol"}, incident
        posts = fake_slack.calls_to("chat.postMessage")
        cards = Counter(call.params["text"] for call in posts if "blocks" in call.params)
        assert set(cards.values()) <= {1, 2}  # a card per destination at most: the DM and the channel
        # 200 incidents for one person and one channel: far fewer messages than 400 (the figure is in the note)
        assert len(posts) <= 100, len(posts)
