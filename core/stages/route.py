"""Stage 2, routing: which services an integration's event goes to.

`route: {service_label: service, cases: [{if: <rule>, service: id, continue: false}], default: id}`:
1. when `service_label` is set and the event carries that label naming a known service, that service alone;
2. else the cases in order: a matching case routes to its service and ends the walk unless it says
   `continue: true` (then the next matching cases add their services, as Alertmanager's `continue`);
3. no case matched: `default`, or else the service that owns the integration.
An event always reaches at least one service: routing never loses an alert.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from core.conditions import Rule, matches, parse_rule
from core.model import AlertEvent
from core.stages._config import as_flag, as_list, as_name, as_object


@dataclass(frozen=True)
class RouteCase:
    rule: Rule
    service: str
    proceed: bool = False  # `continue: true`


@dataclass(frozen=True)
class Routing:
    cases: tuple[RouteCase, ...] = ()
    service_label: str | None = None
    default: str | None = None

    def services(self) -> tuple[str, ...]:
        """Every service the routing names (for the config's cross-check)."""
        named = [case.service for case in self.cases]
        return tuple(named + ([self.default] if self.default else []))


NO_ROUTING = Routing()


def parse_routing(data: Any, path: str) -> Routing:
    item = as_object(data, path, ("service_label", "cases", "default"))
    cases = []
    for index, case in enumerate(as_list(item.get("cases", []), f"{path}.cases")):
        here = f"{path}.cases[{index}]"
        case = as_object(case, here, ("if", "service", "continue"), ("if", "service"))
        cases.append(RouteCase(parse_rule(case["if"], f"{here}.if"), as_name(case["service"], f"{here}.service"),
                               as_flag(case.get("continue", False), f"{here}.continue")))
    label = item.get("service_label")
    default = item.get("default")
    return Routing(tuple(cases), None if label is None else as_name(label, f"{path}.service_label", 128),
                   None if default is None else as_name(default, f"{path}.default"))


def route(event: AlertEvent, routing: Routing, owner: str, known: Collection[str]) -> tuple[str, ...]:
    """The services `event` goes to, in order, each once; never empty."""
    if routing.service_label is not None:
        named = event.labels.get(routing.service_label)
        if named is not None and named in known:
            return (named,)
    chosen: list[str] = []
    for case in routing.cases:
        if matches(case.rule, event):
            if case.service not in chosen:
                chosen.append(case.service)
            if not case.proceed:
                break
    return tuple(chosen) or (routing.default or owner,)
