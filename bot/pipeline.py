"""The alert pipeline, composed in one place (HOUSE_STYLE 3): what each stage is, in order, for one request.

    parse (core/sources) → enrich → route → drop → silence/inhibit          (pure: core/stages, here)
                         → dedup → group → storm → flapping → auto-resolve  (with the database: services/ingest)

`integration_rules` and `service_rules` read the config into the stages' values (the config check runs the same
readers, so what is checked is what runs); `admit` takes one request's events through the pure stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.config import IntegrationConfig, ServiceConfig
from bot.directory import Directory
from core.model import AlertEvent
from core.stages import Context, Passage, Stage, run
from core.stages.drop import DropRule, drop_stage, parse_drops
from core.stages.route import NO_ROUTING, Routing, parse_routing, route


@dataclass(frozen=True)
class IntegrationRules:
    """What happens to an integration's events before they belong to a service."""

    owner: str
    routing: Routing


@dataclass(frozen=True)
class ServiceRules:
    """What happens to a service's events before they are stored."""

    drops: tuple[DropRule, ...]

    def stages(self) -> list[Stage]:
        return [drop_stage(self.drops)]


def integration_rules(integration: IntegrationConfig, owner: str, path: str) -> IntegrationRules:
    routing = NO_ROUTING if integration.route is None else parse_routing(integration.route, f"{path}.route")
    return IntegrationRules(owner=owner, routing=routing)


def service_rules(service: ServiceConfig, path: str) -> ServiceRules:
    return ServiceRules(drops=parse_drops(service.drop, f"{path}.drop"))


def admit(directory: Directory, service: ServiceConfig, integration: IntegrationConfig,
          events: Sequence[AlertEvent], now: datetime) -> list[Passage]:
    """Each event through enrichment and routing, then through the stages of every service it is routed to."""
    rules = directory.rules(("integration", integration.key),
                            lambda: integration_rules(integration, service.id, "integration"))
    context = Context(now=now)
    passages = []
    for event in events:
        for service_id in route(event, rules.routing, service.id, directory.services):
            stages = directory.rules(("service", service_id),
                                     lambda sid=service_id: service_rules(directory.services[sid], "service"))
            passages.append(run(Passage(event, service_id), stages.stages(), context))
    return passages


def acknowledgement_targets(directory: Directory, service: ServiceConfig, integration: IntegrationConfig,
                            keys: Sequence[str]) -> list[tuple[str, str]]:
    """(service, alert key) pairs to look for a tool's acknowledgements in: every service the integration's
    events can reach."""
    rules = directory.rules(("integration", integration.key),
                            lambda: integration_rules(integration, service.id, "integration"))
    reachable = list(directory.services) if rules.routing.service_label else [service.id, *rules.routing.services()]
    services = [service_id for service_id in dict.fromkeys(reachable) if service_id in directory.services]
    return [(service_id, key) for key in keys for service_id in services]
