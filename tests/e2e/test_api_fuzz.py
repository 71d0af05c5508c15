"""Schemathesis over the running server's own OpenAPI schema: no generated request gets a 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.e2e.procs import dutybot_serve, free_port
from tests.fakes.slack import FakeSlack
from tests.support import API_TOKEN, alert, alertmanager_payload, base_config

EXAMPLES_PER_OPERATION = 40


def test_no_generated_request_makes_the_server_fail(tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = free_port()
    raw = base_config(slack_api_url=fake_slack.api_url, public_url=f"http://127.0.0.1:{port}")
    with dutybot_serve(tmp_path, raw, port, API_TOKEN) as dutybot:
        dutybot.http.post(dutybot.integration_url, json=alertmanager_payload([alert()])).raise_for_status()
        schema = schemathesis.openapi.from_url(f"{dutybot.url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 6
        failures: list[str] = []
        statuses: list[int] = []
        for operation in operations:
            for headers in ({"Authorization": f"Bearer {API_TOKEN}"}, {}):
                _exercise(operation, dutybot.url, headers, failures, statuses)
        assert not failures, "\n".join(failures[:20])
        assert len(statuses) >= 10 * len(operations) and 200 in statuses and 401 in statuses
        assert dutybot.proc.alive()


def _exercise(operation: object, url: str, headers: dict[str, str], failures: list[str],
              statuses: list[int]) -> None:
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=url, headers=headers, timeout=10)
        statuses.append(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

    run()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
