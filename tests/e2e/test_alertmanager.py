"""The real Prometheus Alertmanager (Debian's binary) sends its webhook to a `dutybot serve` subprocess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.procs import PROXY_VARS, client, dutybot_serve, free_port, running, wait_for_url, wait_until
from tests.support import API_TOKEN, base_config

ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")

pytestmark = [
    pytest.mark.alertmanager,
    pytest.mark.skipif(not ALERTMANAGER.exists(),
                       reason=f"{ALERTMANAGER} is not installed (Debian package prometheus-alertmanager)"),
]


def alertmanager_config(webhook_url: str) -> dict[str, Any]:
    return {
        "route": {"receiver": "dutybot", "group_by": ["alertname", "cluster"],
                  "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "dutybot", "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}],
    }


def am_alert(starts_at: datetime, ends_at: datetime | None = None) -> dict[str, Any]:
    """One alert as Prometheus posts it to `POST /api/v2/alerts`."""
    alert: dict[str, Any] = {
        "labels": {"alertname": "DiskFull", "cluster": "e2e", "severity": "warning", "instance": "db-1"},
        "annotations": {"summary": "Disk almost full on db-1"},
        "startsAt": starts_at.isoformat().replace("+00:00", "Z"),
        "generatorURL": "http://prometheus.local/graph",
    }
    if ends_at is not None:
        alert["endsAt"] = ends_at.isoformat().replace("+00:00", "Z")
    return alert


def test_real_alertmanager_opens_and_resolves_an_incident(tmp_path: Path) -> None:
    port = free_port()
    raw = base_config(public_url=f"http://127.0.0.1:{port}")
    with dutybot_serve(tmp_path, raw, port, API_TOKEN) as dutybot:
        config_path = tmp_path / "alertmanager.yml"
        config_path.write_text(yaml.safe_dump(alertmanager_config(dutybot.integration_url)))
        am_port = free_port()
        am_url = f"http://127.0.0.1:{am_port}"
        argv = [str(ALERTMANAGER), f"--config.file={config_path}", f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="]
        env = {"PATH": "/usr/bin:/bin", **{name: "" for name in PROXY_VARS}}
        with running("alertmanager", argv, tmp_path / "alertmanager.log", env) as alertmanager, client() as http:
            wait_for_url(f"{am_url}/-/ready", 30, alertmanager)

            started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
            posted = http.post(f"{am_url}/api/v2/alerts", json=[am_alert(started)])
            assert posted.status_code == 200, posted.text
            [incident] = wait_until(dutybot.incidents, 30, "Dutybot to open an incident", interval=0.2)
            assert incident["status"] == "triggered"
            assert (incident["title"], incident["severity"], incident["service"], incident["alert_count"]) == (
                "Disk almost full on db-1", "warning", "payments", 1)
            assert incident["labels"]["alertname"] == "DiskFull" and incident["labels"]["instance"] == "db-1"

            ended = datetime.now(UTC) - timedelta(seconds=5)
            posted = http.post(f"{am_url}/api/v2/alerts", json=[am_alert(started, ended)])
            assert posted.status_code == 200, posted.text
            resolved = dutybot.wait_for_status(incident["id"], "resolved", timeout=30)
            assert resolved["resolved_at"] is not None
            assert [item["id"] for item in dutybot.incidents()] == [incident["id"]]  # one incident, not two
            assert alertmanager.alive(), alertmanager.output()
