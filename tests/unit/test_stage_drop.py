"""Drop rules: matching firing events stop; recoveries always pass; the reason names the rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.conditions import ConditionError
from core.model import AlertEvent, AlertStatus, Severity
from core.stages import Context, Passage, run
from core.stages.drop import drop_stage, parse_drops

RULES = parse_drops([
    {"name": "staging", "if": [[{"key": "labels.env", "in": ["staging", "dev"]}]]},
    {"name": "info-noise", "if": [[{"key": "severity", "in": ["info"]}, {"key": "title", "in": ["*heartbeat*"]}]]},
], "drop")
NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


def event(status: AlertStatus = AlertStatus.FIRING, severity: Severity = Severity.WARNING, title: str = "disk full",
          **labels: str) -> AlertEvent:
    return AlertEvent(source="generic", fingerprint="k", status=status, severity=severity, title=title,
                      labels=labels, annotations={}, starts_at=NOW)


@pytest.mark.parametrize(("alert", "dropped_by"), [
    (event(env="staging"), "drop:staging"),
    (event(env="dev"), "drop:staging"),
    (event(env="prod"), None),
    (event(), None),
    (event(severity=Severity.INFO, title="heartbeat missed"), "drop:info-noise"),
    (event(severity=Severity.WARNING, title="heartbeat missed"), None),      # conditions of a group are ANDed
    (event(AlertStatus.RESOLVED, env="staging"), None),                       # a recovery is never dropped
])
def test_drop(alert: AlertEvent, dropped_by: str | None) -> None:
    passage = run(Passage(alert, "payments"), [drop_stage(RULES)], Context(now=NOW))
    assert passage.dropped_by == dropped_by
    assert passage.stopped is (dropped_by is not None)


def test_a_dropped_passage_goes_no_further() -> None:
    seen: list[Passage] = []
    run(Passage(event(env="dev"), "payments"), [drop_stage(RULES), lambda p, c: seen.append(p) or p],
        Context(now=NOW))
    assert seen == []


@pytest.mark.parametrize(("data", "path"), [
    ({}, "drop"),
    ([{"if": [[{"key": "severity", "in": ["info"]}]]}], "drop[0].name"),
    ([{"name": "x"}], "drop[0].if"),
    ([{"name": "x", "if": []}], "drop[0].if"),                                  # would drop everything
    ([{"name": "x", "if": [[{"key": "severity", "in": ["loud"]}]]}], "drop[0].if[0][0].in[0]"),
    ([{"name": "x", "if": [[{"key": "labels.a", "in": ["b"]}]]},
      {"name": "x", "if": [[{"key": "labels.a", "in": ["c"]}]]}], "drop[1].name"),
    ([{"name": "x", "if": [], "when": "always"}], "drop[0].when"),
])
def test_bad_drop_rules_name_the_field(data: Any, path: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_drops(data, "drop")
    assert caught.value.path == path
