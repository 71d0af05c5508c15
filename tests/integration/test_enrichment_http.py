"""Enrichment over HTTP: extract, a CSV table, a CMDB lookup on a local server, then routing on the result."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import ConfigError, parse_config
from tests.support import Harness, base_config, start_harness

KEY = "generic-enrich-key-00001"
OWNERS = "ip,team,owner\n10.0.0.1,dba,alice\n10.0.0.2,web,bob\n"


class _Cmdb(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        host = self.path.rsplit("/", 1)[-1]
        body = json.dumps({"name": host, "location": {"rack": f"r-{host}"}}).encode()
        self.send_response(200 if host != "missing" else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def cmdb() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Cmdb)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _config(cmdb: str, table_file: Path) -> dict[str, Any]:
    table_file.write_text(OWNERS)
    config = base_config()
    config["enrichment_tables"] = [{"id": "owners", "key": "ip", "csv_file": str(table_file)}]
    config["services"][0]["integrations"].append({
        "kind": "generic", "key": KEY,
        "enrich": [
            {"extract": {"from": "title", "regex": r"on (?P<host>[\w-]+) \((?P<ip>[\d.]+)\)"}},
            {"map": {"table": "owners", "key": "{labels.ip}", "set": ["team", "owner"]}},
            {"lookup": {"name": "cmdb", "url": cmdb + "/hosts/{labels.host}", "timeout": "2s",
                        "set": ["location.rack"]}},
            {"delete": ["labels.secret"]},
        ],
        "route": {"cases": [{"if": [[{"key": "labels.team", "in": ["dba"]}]], "service": "db"}]},
        "title": "[{labels.team}] {title} (rack {labels.location.rack})",
    })
    config["services"].append({"id": "db", "name": "Database", "escalation_policy": "default"})
    return config


@pytest.fixture
async def enriching(db_url: str, cmdb: str, tmp_path: Path) -> AsyncIterator[Harness]:
    async for running in start_harness(db_url, _config(cmdb, tmp_path / "owners.csv")):
        yield running


async def _post(harness: Harness, title: str, status: str = "critical", **labels: str) -> None:
    answer = await harness.client.post(f"/hooks/generic/{KEY}", json={"title": title, "status": status,
                                                                       "labels": labels})
    assert answer.status_code == 202, answer.text


async def test_enriched_labels_are_stored_and_route_the_alert(enriching: Harness) -> None:
    await _post(enriching, "disk full on db-1 (10.0.0.1)", secret="s3cr3t")
    await _post(enriching, "disk full on web-7 (10.0.0.2)")
    await _post(enriching, "disk full on missing (10.9.9.9)")
    alerts = {alert["labels"].get("host"): alert for alert in
              (await enriching.api("GET", "/alerts")).json()["alerts"]}
    assert alerts["db-1"]["labels"] == {"host": "db-1", "ip": "10.0.0.1", "team": "dba", "owner": "alice",
                                        "location.rack": "r-db-1"}
    assert alerts["db-1"]["service"] == "db"                     # routed by the team the table gave it
    assert alerts["db-1"]["title"] == "[dba] disk full on db-1 (10.0.0.1) (rack r-db-1)"  # the title template
    assert (alerts["web-7"]["service"], alerts["web-7"]["labels"]["team"]) == ("payments", "web")
    # an unknown IP and a CMDB 404 set nothing, and the alert still goes through
    assert alerts["missing"]["labels"] == {"host": "missing", "ip": "10.9.9.9"}


def test_a_bad_enrichment_step_or_table_is_refused_with_its_path(cmdb: str, tmp_path: Path) -> None:
    config = _config(cmdb, tmp_path / "owners.csv")
    config["services"][0]["integrations"][1]["enrich"][1]["map"]["set"] = ["room"]
    (tmp_path / "owners.csv").write_text(OWNERS)
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_dump(config))
    assert any(error.startswith("services[0].integrations[1].enrich[1].map.set[0]") for error in caught.value.errors)

    config = _config(cmdb, tmp_path / "owners.csv")
    config["enrichment_tables"][0]["csv_file"] = str(tmp_path / "nope.csv")
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_dump(config))
    assert any(error.startswith("enrichment_tables[0].csv_file: cannot read") for error in caught.value.errors)


def test_a_bad_title_template_is_refused_with_its_path(cmdb: str, tmp_path: Path) -> None:
    config = _config(cmdb, tmp_path / "owners.csv")
    config["services"][0]["integrations"][1]["title"] = "{host}"
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_dump(config))
    assert any(error.startswith("services[0].integrations[1].title") for error in caught.value.errors)
