"""The alert pipeline, composed in one place (HOUSE_STYLE 3): what each stage is, in order, for one request.

    parse (core/sources) → enrich → route → drop → silence/inhibit          (pure: core/stages, here)
                         → dedup → group → storm → flapping → auto-resolve  (with the database: services/ingest)

`integration_rules` and `service_rules` read the config into the stages' values (the config check runs the same
readers, so what is checked is what runs); `admit` takes one request's events through the pure stages.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import calendars as calendar_days
from bot.config import EnrichmentTableConfig, IntegrationConfig, ServiceConfig
from bot.db.database import Database
from bot.db.tables import Alert
from bot.directory import Directory
from bot.services.lookup import Lookups
from core.conditions import ConditionError
from core.escalation import EscalationRule, parse_escalation_rules
from core.grouping import Grouping, parse_grouping
from core.model import AlertEvent, AlertStatus
from core.sources.fields import title_text
from core.stages import ActiveAlert, Context, Passage, Stage, run
from core.stages.autoresolve import AutoResolve, parse_auto_resolve
from core.stages.drop import DropRule, drop_stage, parse_drops
from core.stages.enrich import (
    Enrichment,
    MappingTable,
    Template,
    enrich_stage,
    lookups_needed,
    parse_csv_table,
    parse_enrichment,
    parse_template,
)
from core.stages.flapping import Flapping, parse_flapping
from core.stages.mute import INHIBIT_HORIZON, Inhibit, Muter, Silence, parse_inhibits, parse_silences
from core.stages.route import NO_ROUTING, Routing, parse_routing, route
from core.stages.storm import parse_storm

MAX_ACTIVE_ALERTS = 5000  # inhibit rules look at this many of a service's recent alerts at most


@dataclass(frozen=True)
class IntegrationRules:
    """What happens to an integration's events before they belong to a service."""

    owner: str
    routing: Routing
    enrichment: Enrichment | None
    title: Template | None = None  # the alert title, rendered after enrichment


@dataclass(frozen=True)
class ServiceRules:
    """What happens to a service's events before they are stored."""

    drops: tuple[DropRule, ...]
    silences: tuple[Silence, ...]
    inhibits: tuple[Inhibit, ...]
    grouping: Grouping
    storm: tuple[int, ...]
    flapping: Flapping | None
    auto_resolve: AutoResolve
    escalation: tuple[EscalationRule, ...] = ()  # which policy a new incident follows (core.escalation)

    def stages(self) -> list[Stage]:
        return [drop_stage(self.drops), Muter(self.silences, self.inhibits)]


def integration_rules(integration: IntegrationConfig, owner: str, path: str,
                      tables: Mapping[str, MappingTable]) -> IntegrationRules:
    routing = NO_ROUTING if integration.route is None else parse_routing(integration.route, f"{path}.route")
    enrichment = parse_enrichment(integration.enrich, f"{path}.enrich", tables) if integration.enrich else None
    title = None if integration.title is None else parse_template(integration.title, f"{path}.title")
    return IntegrationRules(owner=owner, routing=routing, enrichment=enrichment, title=title)


def mapping_tables(tables: Sequence[EnrichmentTableConfig], path: str = "enrichment_tables") -> dict[str, MappingTable]:
    """The enrichment tables read (files too) and parsed; ConditionError names the table's path."""
    found = {}
    for index, table in enumerate(tables):
        here = f"{path}[{index}]"
        try:
            stamp = None if table.csv_file is None else os.stat(table.csv_file)
            key = (table.key, table.csv, table.csv_file, stamp and (stamp.st_mtime_ns, stamp.st_size))
            if key not in _TABLES:
                text = table.read()
                parsed = parse_csv_table(text, table.key, f"{here}.csv" if table.csv is not None else
                                         f"{here}.csv_file")
                if len(_TABLES) >= 64:
                    _TABLES.clear()
                _TABLES[key] = parsed
        except OSError as error:
            raise ConditionError(f"{here}.csv_file", f"cannot read: {error.strerror}") from None
        found[table.id] = _TABLES[key]
    return found


# parsed tables by (key column, inline text, file, file's mtime and size): the config snapshot is re-read every
# few seconds, a large table is parsed again only when it changed
_TABLES: dict[Hashable, MappingTable] = {}


def _integration_rules_of(directory: Directory, service: ServiceConfig,
                          integration: IntegrationConfig) -> IntegrationRules:
    tables = directory.rules("tables", lambda: mapping_tables(list(directory.enrichment_tables.values())))
    return directory.rules(("integration", integration.key),
                           lambda: integration_rules(integration, service.id, "integration", tables))


def service_rules(service: ServiceConfig, path: str, timezone: str, calendar_ids: Collection[str],
                  policy_ids: Collection[str] | None = None) -> ServiceRules:
    return ServiceRules(
        drops=parse_drops(service.drop, f"{path}.drop"),
        silences=parse_silences(service.silences, f"{path}.silences", timezone, calendar_ids)
        if service.silences else (),  # an account zone that is wrong is reported once, at `timezone`
        inhibits=parse_inhibits(service.inhibit, f"{path}.inhibit"),
        grouping=parse_grouping(service.grouping, f"{path}.grouping"),
        storm=parse_storm(service.storm_warnings, f"{path}.storm_warnings"),
        flapping=parse_flapping(service.flapping, f"{path}.flapping"),
        auto_resolve=parse_auto_resolve(service.auto_resolve, f"{path}.auto_resolve"),
        escalation=parse_escalation_rules(service.escalation_rules, f"{path}.escalation_rules", timezone,
                                          calendar_ids, policy_ids) if service.escalation_rules else (),
    )


def calendar_predicates(directory: Directory) -> dict[str, Callable[[date], bool]]:
    """Every service calendar by id (built-in and from the config): day → workday."""
    found: dict[str, Callable[[date], bool]] = {name: calendar_days.builtin(name) for name in calendar_days.BUILTIN}
    for calendar_id, spec in directory.calendars.items():
        found[calendar_id] = calendar_days.custom(spec.base, spec.add, spec.remove)
    return found


def rules_of(directory: Directory, service_id: str) -> ServiceRules:
    """The service's rules in this config snapshot, with the quick silences made from its incidents."""
    def build() -> ServiceRules:
        calendar_ids = {*calendar_days.BUILTIN, *directory.calendars}
        rules = service_rules(directory.services[service_id], f"services[{service_id}]", directory.timezone,
                              calendar_ids, directory.policies)
        return replace(rules, silences=rules.silences + directory.runtime_silences.get(service_id, ()))

    return directory.rules(("service", service_id), build)


async def admit(db: Database, directory: Directory, service: ServiceConfig, integration: IntegrationConfig,
                events: Sequence[AlertEvent], now: datetime, lookups: Lookups | None = None) -> list[Passage]:
    """Each event through enrichment and routing, then through the stages of every service it is routed to."""
    rules = _integration_rules_of(directory, service, integration)
    calendars = directory.rules("calendars", lambda: calendar_predicates(directory))
    if rules.enrichment is not None:
        events = await _enriched(rules.enrichment, events, now, lookups)
    if rules.title is not None:
        events = [_titled(event, rules.title) for event in events]
    routed = [(event, route(event, rules.routing, service.id, directory.services)) for event in events]
    contexts: dict[str, Context] = {}
    passages = []
    for event, service_ids in routed:
        for service_id in service_ids:
            if service_id not in contexts:
                inhibiting = bool(rules_of(directory, service_id).inhibits)
                active: tuple[ActiveAlert, ...] = ()
                if inhibiting:  # only then is the database asked
                    async with db.transaction() as session:
                        active = await active_alerts(session, service_id, now)
                contexts[service_id] = Context(now=now, active=active, calendars=calendars)
            passages.append(run(Passage(event, service_id), rules_of(directory, service_id).stages(),
                                contexts[service_id]))
    return passages


def _titled(event: AlertEvent, template: Template) -> AlertEvent:
    """A firing event titled by the integration's template (a recovery keeps what the tool sent; an empty
    rendering keeps the source's title)."""
    if event.status is not AlertStatus.FIRING:
        return event
    title = title_text(template.render(event, event.labels))
    return replace(event, title=title) if title else event


async def _enriched(enrichment: Enrichment, events: Sequence[AlertEvent], now: datetime,
                    lookups: Lookups | None) -> list[AlertEvent]:
    """The events with their enrichment steps applied; CMDB lookups are fetched first, all of an event's at once
    and each within its timeout (a failed lookup sets nothing)."""
    stage = enrich_stage(enrichment)
    enriched = []
    for event in events:
        wanted = lookups_needed(enrichment, event)
        found = await lookups.fetch(wanted) if wanted and lookups is not None else {}
        enriched.append(stage(Passage(event, ""), Context(now=now, lookups=found)).event)
    return enriched


async def active_alerts(session: AsyncSession, service_id: str, now: datetime) -> tuple[ActiveAlert, ...]:
    """The service's alerts firing now or recovered within the inhibit horizon (what inhibit rules look at).

    Muted alerts count too: an inhibited alert can itself inhibit, as in Alertmanager."""
    since = now - INHIBIT_HORIZON
    rows = await session.scalars(
        select(Alert).where(Alert.service_id == service_id,
                            or_(Alert.status == AlertStatus.FIRING.value, Alert.ends_at >= since))
        .order_by(Alert.updated_at.desc()).limit(MAX_ACTIVE_ALERTS))
    return tuple(ActiveAlert(fingerprint=row.fingerprint, labels=dict(row.labels), severity=row.severity,
                             title=row.title, source=row.source,
                             last_active=now if row.status == AlertStatus.FIRING.value else row.ends_at or now)
                 for row in rows)


def acknowledgement_targets(directory: Directory, service: ServiceConfig, integration: IntegrationConfig,
                            keys: Sequence[str]) -> list[tuple[str, str]]:
    """(service, alert key) pairs to look for a tool's acknowledgements in: every service the integration's
    events can reach."""
    rules = _integration_rules_of(directory, service, integration)
    reachable = list(directory.services) if rules.routing.service_label else [service.id, *rules.routing.services()]
    services = [service_id for service_id in dict.fromkeys(reachable) if service_id in directory.services]
    return [(service_id, key) for key in keys for service_id in services]
