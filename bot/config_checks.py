"""Cross-reference checks of a config that already has the right shape; each problem names its path."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.calendars import BUILTIN

if TYPE_CHECKING:
    from bot.config import Config


def cross_check(config: Config) -> list[str]:
    """Every dangling reference, duplicate id, unreadable secret file and unknown time zone."""
    problems: list[str] = []
    problems += _duplicates("users", (user.id for user in config.users))
    problems += _duplicates("teams", (team.id for team in config.teams))
    problems += _duplicates("schedules", (schedule.id for schedule in config.schedules))
    problems += _duplicates("schedules", (schedule.name for schedule in config.schedules), field="name")
    problems += _duplicates("channels", (channel.id for channel in config.channels))
    problems += _duplicates("calendars", (calendar.id for calendar in config.calendars))
    problems += _duplicates("escalation_policies", (policy.id for policy in config.escalation_policies))
    problems += _duplicates("services", (service.id for service in config.services))
    keys = [(f"services[{i}].integrations[{j}].key", integ.key)
            for i, service in enumerate(config.services) for j, integ in enumerate(service.integrations)]
    seen_keys: set[str] = set()
    for path, key in keys:
        if key in seen_keys:
            problems.append(f"{path}: the integration key is already used by another integration")
        seen_keys.add(key)
    problems += _zone("timezone", config.timezone)
    for i, user in enumerate(config.users):
        if user.quiet is not None and user.quiet.timezone is not None:
            problems += _zone(f"users[{i}].quiet.timezone", user.quiet.timezone)
    users = {user.id for user in config.users}
    problems += _team_refs(config, users)
    problems += _schedule_refs(config, users)
    problems += _policy_refs(config, users)
    policies = {policy.id for policy in config.escalation_policies}
    for i, service in enumerate(config.services):
        if service.escalation_policy not in policies:
            problems.append(f"services[{i}].escalation_policy: no escalation policy {service.escalation_policy!r}")
    for i, token in enumerate(config.api.tokens):
        if token.user not in users:
            problems.append(f"api.tokens[{i}].user: no user {token.user!r}")
    problems += _duplicates("webhooks", (hook.id for hook in config.webhooks))
    services = {service.id for service in config.services}
    for i, hook in enumerate(config.webhooks):
        for j, service_id in enumerate(hook.services or []):
            if service_id not in services:
                problems.append(f"webhooks[{i}].services[{j}]: no service {service_id!r}")
    problems += _secret_files(config)
    problems += _pipeline(config)
    return problems


def _pipeline(config: Config) -> list[str]:
    """The pipeline stages' rules, read by the core parsers with their full paths, and the services they name."""
    from bot.pipeline import integration_rules, mapping_tables, service_rules  # imported late (cycle)

    problems: list[str] = []
    try:
        tables = mapping_tables(config.enrichment_tables)
    except ValueError as error:
        problems.append(str(error))
        tables = {}
    services = {service.id for service in config.services}
    calendar_ids = {*BUILTIN, *(calendar.id for calendar in config.calendars)}
    # a wrong account zone is reported once, at `timezone`; the rules are read in UTC meanwhile
    zone = config.timezone if not _zone("timezone", config.timezone) else "UTC"
    policy_ids = {policy.id for policy in config.escalation_policies}
    for i, service in enumerate(config.services):
        try:
            service_rules(service, f"services[{i}]", zone, calendar_ids, policy_ids)
        except ValueError as error:
            problems.append(str(error))
        for j, integration in enumerate(service.integrations):
            path = f"services[{i}].integrations[{j}]"
            try:
                rules = integration_rules(integration, service.id, path, tables)
            except ValueError as error:
                problems.append(str(error))
                continue
            for k, case in enumerate(rules.routing.cases):
                if case.service not in services:
                    problems.append(f"{path}.route.cases[{k}].service: no service {case.service!r}")
            if rules.routing.default is not None and rules.routing.default not in services:
                problems.append(f"{path}.route.default: no service {rules.routing.default!r}")
    return problems


def _duplicates(section: str, values: Iterable[str], field: str = "id") -> list[str]:
    seen: set[str] = set()
    problems = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append(f"{section}[{index}].{field}: {value!r} is used twice")
        seen.add(value)
    return problems


def _zone(path: str, name: str) -> list[str]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [f"{path}: unknown time zone {name!r}"]
    return []


def _team_refs(config: Config, users: set[str]) -> list[str]:
    return [f"teams[{i}].members[{j}]: no user {member!r}"
            for i, team in enumerate(config.teams) for j, member in enumerate(team.members) if member not in users]


def _schedule_refs(config: Config, users: set[str]) -> list[str]:
    problems: list[str] = []
    teams = {team.id for team in config.teams}
    channels = {channel.id for channel in config.channels}
    roles = set(config.roles)
    for i, schedule in enumerate(config.schedules):
        path = f"schedules[{i}]"
        if schedule.team is not None and schedule.team not in teams:
            problems.append(f"{path}.team: no team {schedule.team!r}")
        if schedule.timezone is not None:
            problems += _zone(f"{path}.timezone", schedule.timezone)
        for j, layer in enumerate(schedule.layers):
            for k, slot in enumerate(layer.members):
                slot_path = f"{path}.layers[{j}].members[{k}]"
                people = [slot] if isinstance(slot, str) else list(slot) if isinstance(slot, list) else []
                if isinstance(slot, dict):
                    people = list(slot.values())
                    problems += [f"{slot_path}.{role}: no role {role!r} in roles" for role in slot if role not in roles]
                problems += [f"{slot_path}: no user {person!r}" for person in people if person not in users]
            if layer.end is not None and layer.end <= layer.start:
                problems.append(f"{path}.layers[{j}].end: must be after start")
            mask = layer.date_mask
            known = set(BUILTIN) | {calendar.id for calendar in config.calendars}
            if mask is not None and not isinstance(mask, list) and mask.calendar not in known:
                problems.append(f"{path}.layers[{j}].date_mask.calendar: no calendar {mask.calendar!r} "
                                f"(built in: {', '.join(BUILTIN)})")
        for j, override in enumerate(schedule.overrides):
            if override.user not in users:
                problems.append(f"{path}.overrides[{j}].user: no user {override.user!r}")
            if override.end <= override.start:
                problems.append(f"{path}.overrides[{j}].end: must be after start")
        problems += [f"{path}.notify.channels[{j}]: no channel {name!r}"
                     for j, name in enumerate(schedule.notify.channels) if name not in channels]
    return problems


def _policy_refs(config: Config, users: set[str]) -> list[str]:
    problems: list[str] = []
    schedules = {schedule.id for schedule in config.schedules}
    teams = {team.id for team in config.teams}
    channels = {channel.id for channel in config.channels}
    roles = set(config.roles)
    for i, policy in enumerate(config.escalation_policies):
        for j, step in enumerate(policy.steps):
            path = f"escalation_policies[{i}].steps[{j}]"
            for k, target in enumerate(step.notify):
                if target.user is not None and target.user not in users:
                    problems.append(f"{path}.notify[{k}].user: no user {target.user!r}")
                if target.team is not None and target.team not in teams:
                    problems.append(f"{path}.notify[{k}].team: no team {target.team!r}")
                if target.schedule is not None and target.schedule not in schedules:
                    problems.append(f"{path}.notify[{k}].schedule: no schedule {target.schedule!r}")
                if target.role is not None and target.role not in roles:
                    problems.append(f"{path}.notify[{k}].role: no role {target.role!r} in roles")
            problems += [f"{path}.via[{k}]: no channel {name!r} (use dm, email or a channel id)"
                         for k, name in enumerate(step.via) if name not in ("dm", "email") and name not in channels]
            if "email" in step.via and config.platforms.email is None:
                problems.append(f"{path}.via: email needs platforms.email (the SMTP server)")
    problems += [f"channels[{i}].id: dm and email are ways to page people, not channel ids"
                 for i, channel in enumerate(config.channels) if channel.id in ("dm", "email")]
    for i, user in enumerate(config.users):
        if "email" in {method for methods in user.notify.values() for method in methods} and not user.email:
            problems.append(f"users[{i}].notify: email is listed but the user has no email address")
    return problems


def _secret_files(config: Config) -> list[str]:
    problems: list[str] = []
    blocks = [(f"channels[{i}]", channel) for i, channel in enumerate(config.channels)]
    blocks += [(f"api.tokens[{i}]", token) for i, token in enumerate(config.api.tokens)]
    blocks += [(f"webhooks[{i}]", hook) for i, hook in enumerate(config.webhooks)]
    if config.platforms.slack is not None:
        blocks.append(("platforms.slack", config.platforms.slack))
    if config.platforms.email is not None:
        blocks.append(("platforms.email", config.platforms.email))
    for path, block in blocks:
        for name, value in block:
            if name.endswith("_file") and value:
                try:
                    with open(value, encoding="utf-8"):
                        pass
                except OSError as error:
                    problems.append(f"{path}.{name}: cannot read {value}: {error.strerror}")
    return problems
