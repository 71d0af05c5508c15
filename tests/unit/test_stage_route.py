"""Routing an integration's events to services: label naming the service, ordered cases, continue, default."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.conditions import ConditionError
from core.model import AlertEvent, AlertStatus, Severity
from core.stages.route import NO_ROUTING, parse_routing, route

KNOWN = {"payments", "db", "web", "network"}
ROUTING = parse_routing({
    "service_label": "service",
    "cases": [
        {"if": [[{"key": "labels.team", "in": ["dba"]}]], "service": "db"},
        {"if": [[{"key": "labels.ip", "in": ["cidr:10.1.0.0/16"]}]], "service": "network", "continue": True},
        {"if": [[{"key": "title", "in": ["*nginx*"]}]], "service": "web"},
        {"if": [[{"key": "severity", "in": ["critical"]}]], "service": "db"},
    ],
    "default": "payments",
}, "route")


def event(title: str = "disk full", severity: Severity = Severity.WARNING, **labels: str) -> AlertEvent:
    return AlertEvent(source="generic", fingerprint="k", status=AlertStatus.FIRING, severity=severity, title=title,
                      labels=labels, annotations={}, starts_at=datetime(2026, 11, 25, tzinfo=UTC))


@pytest.mark.parametrize(("alert", "expected"), [
    (event(service="web"), ("web",)),                                   # the label names a known service
    (event(service="nope", team="dba"), ("db",)),                       # an unknown name falls through to the cases
    (event(team="dba", ip="10.1.2.3"), ("db",)),                        # first matching case ends the walk
    (event(ip="10.1.2.3"), ("network",)),                               # continue: true, but nothing else matches
    (event("nginx 502", ip="10.1.2.3"), ("network", "web")),            # continue, then the next match ends it
    (event("nginx 502", Severity.CRITICAL, ip="10.1.2.3"), ("network", "web")),
    (event("load", Severity.CRITICAL), ("db",)),
    (event(ip="10.2.0.1"), ("payments",)),                              # nothing matches: the default
    (event(), ("payments",)),
])
def test_route(alert: AlertEvent, expected: tuple[str, ...]) -> None:
    assert route(alert, ROUTING, "owner", KNOWN) == expected


def test_without_routing_the_owner_gets_everything() -> None:
    assert route(event(service="web"), NO_ROUTING, "payments", KNOWN) == ("payments",)


def test_without_default_the_owner_gets_what_no_case_takes() -> None:
    routing = parse_routing({"cases": [{"if": [[{"key": "labels.team", "in": ["dba"]}]], "service": "db"}]}, "r")
    assert route(event(), routing, "payments", KNOWN) == ("payments",)
    assert routing.services() == ("db",)


def test_a_service_reached_twice_is_listed_once() -> None:
    routing = parse_routing({"cases": [{"if": [], "service": "db", "continue": True}, {"if": [], "service": "db"}]},
                            "r")
    assert route(event(), routing, "payments", KNOWN) == ("db",)


@pytest.mark.parametrize(("data", "path"), [
    ([], "route"),
    ({"cases": {}}, "route.cases"),
    ({"cases": [{"service": "db"}]}, "route.cases[0].if"),
    ({"cases": [{"if": []}]}, "route.cases[0].service"),
    ({"cases": [{"if": [], "service": ""}]}, "route.cases[0].service"),
    ({"cases": [{"if": [], "service": "db", "continue": "yes"}]}, "route.cases[0].continue"),
    ({"cases": [{"if": [[{"key": "colour", "in": ["red"]}]], "service": "db"}]}, "route.cases[0].if[0][0].key"),
    ({"cases": [], "fallback": "db"}, "route.fallback"),
    ({"service_label": 5}, "route.service_label"),
])
def test_bad_routing_names_the_field(data: Any, path: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_routing(data, "route")
    assert caught.value.path == path
