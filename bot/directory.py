"""The applied config as the running app reads it: users, schedules, channels, policies, services."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import calendars as calendar_days
from bot.config import (
    CalendarConfig,
    CalendarMask,
    ChannelConfig,
    Config,
    EmailConfig,
    EnrichmentTableConfig,
    IntegrationConfig,
    OverrideConfig,
    Platforms,
    PolicyConfig,
    RestrictConfig,
    ScheduleConfig,
    ServiceConfig,
    TeamConfig,
    UserConfig,
    WebhookConfig,
)
from bot.db.tables import ConfigObject, ScheduleOverride
from core.duration import parse_duration
from core.escalation import Policy, Step, Target
from core.schedule import (
    WEEKDAYS,
    DailyWindow,
    DateMask,
    Handoff,
    Layer,
    Override,
    Restriction,
    Schedule,
    Slot,
    Unit,
    WeeklyWindow,
)
from core.stages.mute import Silence

T = TypeVar("T")


@dataclass
class Directory:
    """A snapshot of everything `dutybot apply` stored, typed again."""

    timezone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    public_url: str = "http://127.0.0.1:8080"
    users: dict[str, UserConfig] = field(default_factory=dict)
    teams: dict[str, TeamConfig] = field(default_factory=dict)
    schedules: dict[str, ScheduleConfig] = field(default_factory=dict)
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    policies: dict[str, PolicyConfig] = field(default_factory=dict)
    services: dict[str, ServiceConfig] = field(default_factory=dict)
    platforms: Platforms = field(default_factory=Platforms)
    calendars: dict[str, CalendarConfig] = field(default_factory=dict)
    enrichment_tables: dict[str, EnrichmentTableConfig] = field(default_factory=dict)
    email: EmailConfig = field(default_factory=EmailConfig)
    webhooks: dict[str, WebhookConfig] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)
    # overrides made at run time (API, chat), per schedule, in creation order: they follow the config's own
    runtime_overrides: dict[str, tuple[Override, ...]] = field(default_factory=dict)
    # quick silences made from incidents, per service (bot/services/silences.py)
    runtime_silences: dict[str, tuple[Silence, ...]] = field(default_factory=dict)
    _built: dict[str, Schedule] = field(default_factory=dict, repr=False)
    _rules: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, config: Config,
                    runtime_overrides: Mapping[str, Sequence[Override]] | None = None) -> Directory:
        return cls(
            timezone=config.timezone, locale=config.locale, public_url=config.public_url.rstrip("/"),
            users={user.id: user for user in config.users},
            teams={team.id: team for team in config.teams},
            schedules={schedule.id: schedule for schedule in config.schedules},
            channels={channel.id: channel for channel in config.channels},
            policies={policy.id: policy for policy in config.escalation_policies},
            services={service.id: service for service in config.services},
            platforms=config.platforms,
            calendars={calendar.id: calendar for calendar in config.calendars},
            enrichment_tables={table.id: table for table in config.enrichment_tables},
            email=config.email,
            webhooks={hook.id: hook for hook in config.webhooks},
            roles=list(config.roles),
            runtime_overrides={key: tuple(items) for key, items in (runtime_overrides or {}).items()},
        )

    def user_by_im(self, platform: str, account: str) -> UserConfig | None:
        """The Dutybot user bound to a chat account, or None for an unbound person."""
        for user in self.users.values():
            if str(getattr(user.im, platform, None) or "") == account:
                return user
        return None

    def schedules_linked_to(self, platform: str, chat_id: str) -> list[ScheduleConfig]:
        """The schedules whose `notify.channels` name this chat (SPEC: `/oncall` answers for them)."""
        chats = {channel.id for channel in self.channels.values()
                 if channel.platform == platform and channel.chat_id == chat_id}
        return [spec for spec in self.schedules.values() if chats & set(spec.notify.channels)]

    def display_name(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        user = self.users.get(user_id)
        return user.name if user else user_id

    def schedule(self, schedule_id: str) -> Schedule:
        """The core schedule with the config's and the runtime overrides, built once per directory snapshot
        (the engine keeps work per object)."""
        if schedule_id not in self._built:
            self._built[schedule_id] = schedule_from_config(
                self.schedules[schedule_id], self.timezone, self.calendars,
                self.runtime_overrides.get(schedule_id, ()))
        return self._built[schedule_id]

    def rules(self, key: Hashable, build: Callable[[], T]) -> T:
        """Pipeline rules read from this snapshot's config, built once per snapshot (bot/pipeline.py)."""
        if key not in self._rules:
            self._rules[key] = build()
        return cast(T, self._rules[key])

    def integration(self, key: str) -> tuple[ServiceConfig, IntegrationConfig] | None:
        """The service and integration of an integration key (a dictionary built once per snapshot)."""
        found = self.rules("integrations", lambda: {item.key: (service, item) for service in self.services.values()
                                                    for item in service.integrations})
        return found.get(key)

    def schedule_zone(self, schedule_id: str) -> ZoneInfo:
        return ZoneInfo(self.schedules[schedule_id].timezone or self.timezone)

    def policy_for(self, service_id: str) -> Policy:
        return policy_from_config(self.policies[self.services[service_id].escalation_policy])


async def load_directory(session: AsyncSession) -> Directory:
    """Read the applied config objects back into typed models, with the runtime overrides not deleted."""
    rows = (await session.execute(select(ConfigObject))).scalars().all()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row.spec)
    account = (by_kind.get("account") or [{}])[0]
    platforms = {spec["name"]: spec["spec"] for spec in by_kind.get("platform", [])}
    config = Config.model_validate({
        **{key: account[key] for key in ("timezone", "locale", "public_url", "roles", "email") if key in account},
        "users": by_kind.get("user", []), "teams": by_kind.get("team", []),
        "schedules": by_kind.get("schedule", []), "channels": by_kind.get("channel", []),
        "escalation_policies": by_kind.get("policy", []), "services": by_kind.get("service", []),
        "platforms": platforms, "calendars": by_kind.get("calendar", []),
        "enrichment_tables": by_kind.get("enrichment_table", []), "webhooks": by_kind.get("webhook", []),
    })
    from bot.services.silences import runtime_silences  # the service reads tables; imported late (cycle)

    directory = Directory.from_config(config, await _runtime_overrides(session))
    directory.runtime_silences = await runtime_silences(session)
    return directory


async def _runtime_overrides(session: AsyncSession) -> dict[str, list[Override]]:
    query = select(ScheduleOverride).where(ScheduleOverride.deleted_at.is_(None)).order_by(ScheduleOverride.id)
    found: dict[str, list[Override]] = {}
    for row in (await session.scalars(query)).all():
        found.setdefault(row.schedule_id, []).append(
            Override(start=row.start, end=row.end, user=row.user_id, role=row.role))
    return found


def schedule_from_config(spec: ScheduleConfig, default_timezone: str,
                         calendars: Mapping[str, CalendarConfig] | None = None,
                         runtime_overrides: Sequence[Override] = ()) -> Schedule:
    """The core schedule of a config entry; local times are read in the schedule's zone. Runtime overrides
    come after the config's, so where they overlap one the runtime one wins (overrides apply in order)."""
    zone_name = spec.timezone or default_timezone
    zone = ZoneInfo(zone_name)
    layers = tuple(
        Layer(
            name=layer.name,
            slots=tuple(_slot(member) for member in layer.members),
            start=datetime.fromisoformat(layer.start).replace(tzinfo=None),
            end=datetime.fromisoformat(layer.end).replace(tzinfo=None) if layer.end else None,
            every=layer.rotation.every,
            unit=Unit(layer.rotation.unit),
            handoff=Handoff(WEEKDAYS.index(layer.handoff.weekday), time.fromisoformat(layer.handoff.time))
            if layer.handoff else None,
            date_mask=_date_mask(layer.date_mask, calendars or {}),
            continuous=layer.continuous,
            fair=layer.fair,
            restriction=_restriction(layer.restrict),
        )
        for layer in spec.layers
    )
    overrides = config_overrides(spec.overrides, zone) + tuple(runtime_overrides)
    return Schedule(id=spec.id, name=spec.name, timezone=zone_name, layers=layers, overrides=overrides)


def config_overrides(items: Sequence[OverrideConfig], zone: ZoneInfo) -> tuple[Override, ...]:
    """The config file's overrides as core values; times without an offset are read in `zone`."""
    return tuple(Override(start=_aware(item.start, zone), end=_aware(item.end, zone), user=item.user, role=item.role)
                 for item in items)


def policy_from_config(spec: PolicyConfig) -> Policy:
    steps = tuple(
        Step(after=parse_duration(step.after),
             targets=tuple(Target(user=t.user, team=t.team, schedule=t.schedule, role=t.role) for t in step.notify),
             via=tuple(step.via), repeat_every=parse_duration(step.repeat_every) if step.repeat_every else None,
             repeat_times=step.repeat_times)
        for step in spec.steps
    )
    repeat_after = parse_duration(spec.repeat_after) if spec.repeat_after else None
    delay = parse_duration(spec.delay) if spec.delay else timedelta(0)
    return Policy(id=spec.id, steps=steps, repeat=spec.repeat, repeat_after=repeat_after, delay=delay,
                  until=spec.until)


def _date_mask(mask: list[str] | CalendarMask | None, calendars: Mapping[str, CalendarConfig]) -> DateMask | None:
    if mask is None:
        return None
    if isinstance(mask, list):
        return DateMask(weekdays=frozenset(WEEKDAYS.index(day) for day in mask))
    if mask.calendar in calendars:
        spec = calendars[mask.calendar]
        return DateMask(calendar=calendar_days.custom(spec.base, spec.add, spec.remove))
    return DateMask(calendar=calendar_days.builtin(mask.calendar))


def _restriction(restrict: RestrictConfig | None) -> Restriction | None:
    if restrict is None:
        return None
    daily = tuple(DailyWindow(time.fromisoformat(start), time.fromisoformat(end))
                  for start, end in restrict.daily or [])
    weekly = tuple(WeeklyWindow(*_weekly_point(start), *_weekly_point(end)) for start, end in restrict.weekly or [])
    return Restriction(daily=daily, weekly=weekly)


def _weekly_point(text: str) -> tuple[int, time]:
    day, clock = text.split()
    return WEEKDAYS.index(day), time.fromisoformat(clock)


def _slot(member: str | list[str] | dict[str, str]) -> Slot:
    if isinstance(member, str):
        return Slot(users=(member,))
    if isinstance(member, list):
        return Slot(users=tuple(member))
    return Slot(roles=dict(member))


def _aware(text: str, zone: ZoneInfo) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
