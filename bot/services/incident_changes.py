"""Changes people make to incidents beyond the lifecycle actions: escalate now, reassign, add responders, edit,
merge, and open an incident by hand (docs/incidents.md).

Each runs inside the caller's transaction, writes the timeline with who and how, and refreshes the cards. A
change that cannot be made raises `ChangeRefused` before anything is written, with a reason the caller turns
into a catalog message (chat) or an HTTP status (API).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import PolicyConfig
from bot.db.tables import Alert, Incident, Timer
from bot.directory import Directory, policy_from_config
from bot.pipeline import calendar_predicates, rules_of
from bot.services import destinations
from bot.services.records import ESCALATION_TIMERS, add_timeline, cancel_timers, enqueue_post, enqueue_update
from core.escalation import Target, choose_policy, first_firing
from core.model import AlertEvent, AlertStatus, IncidentStatus, Severity, higher_severity

MANUAL_SOURCE = "manual"
MAX_TITLE = 500
MAX_DESCRIPTION = 10_000
# why a change is refused: each is a catalog message `change.<reason>`
REASONS = ("not_found", "resolved", "no_level", "one_target", "no_target", "unknown_user", "unknown_schedule",
           "unknown_team",
           "unknown_service", "empty_title", "nothing_to_merge", "merge_into_itself")


class ChangeRefused(ValueError):
    """Nothing was changed: `reason` names why (catalog `change.<reason>`), `values` fill the message."""

    def __init__(self, reason: str, **values: object) -> None:
        assert reason in REASONS, reason
        super().__init__(reason)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class Reassignment:
    """To whom: people, a team (all its members), whoever is on call on a schedule (optionally one role), or a
    level of the incident's own policy (the same as escalating to it)."""

    users: tuple[str, ...] = ()
    team: str | None = None
    schedule: str | None = None
    role: str | None = None
    level: int | None = None


async def _open(session: AsyncSession, incident_id: int) -> Incident:
    incident = await session.get(Incident, incident_id, with_for_update=True)
    if incident is None:
        raise ChangeRefused("not_found", number=incident_id)
    if incident.status == IncidentStatus.RESOLVED.value:
        raise ChangeRefused("resolved", number=incident_id)
    return incident


def _triggered_again(incident: Incident) -> None:
    """Nobody holds it any more: whoever is paged now has to acknowledge it."""
    incident.status = IncidentStatus.TRIGGERED.value
    incident.acknowledged_at = incident.acknowledged_by = incident.snoozed_until = None


async def escalate_now(session: AsyncSession, incident_id: int, actor: str, now: datetime, level: int | None,
                       via: str = "api") -> int:
    """Page a level of the incident's own policy now (default: the level after the one that paged last); the
    levels after it follow with their usual gaps. Returns the level paged (1-based)."""
    incident = await _open(session, incident_id)
    policy = policy_from_config(PolicyConfig.model_validate(incident.policy))
    count = len(policy.steps)
    if level is None:
        last = await session.scalar(select(func.max(Timer.position)).where(
            Timer.incident_id == incident.id, Timer.kind == "escalate", Timer.status == "fired"))
        level = min(count, (last % count) + 2) if last is not None else 1
    if not 1 <= level <= count:
        raise ChangeRefused("no_level", number=incident_id, level=level, levels=count)
    await cancel_timers(session, incident.id, kinds=(*ESCALATION_TIMERS, "wake"))
    _triggered_again(incident)
    session.add(Timer(incident_id=incident.id, kind="escalate", position=level - 1, due_at=now, status="pending"))
    add_timeline(session, incident.id, "escalated_by_hand", now, actor=actor, via=via, level=level)
    enqueue_update(session, incident.id, now)
    return level


async def reassign(session: AsyncSession, directory: Directory, incident_id: int, actor: str, now: datetime,
                   to: Reassignment, via: str = "api") -> None:
    """Reassign to a level (escalate now), or to people / a schedule: they are paged now, by DM, and only they
    (as in PagerDuty, the incident stops following its policy); it is triggered until one of them acknowledges."""
    if to.level is not None:
        await escalate_now(session, incident_id, actor, now, to.level, via)
        return
    targets = _targets(directory, to)
    incident = await _open(session, incident_id)
    until = PolicyConfig.model_validate(incident.policy).until
    incident.policy = PolicyConfig.model_validate({
        "id": "reassigned", "until": until,
        "steps": [{"after": "0m", "notify": [_target_config(target) for target in targets], "via": ["dm"]}],
    }).model_dump(mode="json")
    await cancel_timers(session, incident.id, kinds=(*ESCALATION_TIMERS, "wake"))
    _triggered_again(incident)
    session.add(Timer(incident_id=incident.id, kind="escalate", position=0, due_at=now, status="pending"))
    add_timeline(session, incident.id, "reassigned", now, actor=actor, via=via, users=list(to.users),
                 **({"schedule": to.schedule, "role": to.role} if to.schedule else {}),
                 **({"team": to.team} if to.team else {}))
    enqueue_update(session, incident.id, now)


def _targets(directory: Directory, to: Reassignment) -> list[Target]:
    if sum((bool(to.users), to.schedule is not None, to.team is not None)) > 1:
        raise ChangeRefused("one_target")
    if to.team is not None:
        if to.team not in directory.teams:
            raise ChangeRefused("unknown_team", team=to.team)
        return [Target(team=to.team)]
    if to.schedule is not None:
        if to.schedule not in directory.schedules:
            raise ChangeRefused("unknown_schedule", schedule=to.schedule)
        return [Target(schedule=to.schedule, role=to.role)]
    if not to.users:
        raise ChangeRefused("no_target")
    for user_id in to.users:
        if user_id not in directory.users:
            raise ChangeRefused("unknown_user", user=user_id)
    return [Target(user=user_id) for user_id in dict.fromkeys(to.users)]


def _target_config(target: Target) -> dict[str, str]:
    if target.user is not None:
        return {"user": target.user}
    if target.team is not None:
        return {"team": target.team}
    assert target.schedule is not None
    return {"schedule": target.schedule, **({"role": target.role} if target.role else {})}


async def add_responders(session: AsyncSession, directory: Directory, incident_id: int, actor: str, now: datetime,
                         users: Sequence[str], via: str = "api") -> list[str]:
    """Page more people now, by DM, without changing who holds the incident or its escalation; they get the
    page even when it is acknowledged (someone asked for them). Returns the ones that could not be reached."""
    if not users:
        raise ChangeRefused("no_target")
    for user_id in users:
        if user_id not in directory.users:
            raise ChangeRefused("unknown_user", user=user_id)
    incident = await _open(session, incident_id)
    unreachable = []
    for user_id in dict.fromkeys(users):
        reach = destinations.person(directory, user_id)
        if reach is None:
            unreachable.append(user_id)
            add_timeline(session, incident.id, "unreachable", now, user=user_id,
                         reason="no bound chat account on a configured platform")
            continue
        enqueue_post(session, incident.id, reach, now, responder=True)
    add_timeline(session, incident.id, "responders_added", now, actor=actor, via=via, users=list(dict.fromkeys(users)))
    return unreachable


async def edit(session: AsyncSession, incident_id: int, actor: str, now: datetime, title: str | None = None,
               severity: Severity | None = None, description: str | None = None, via: str = "api") -> bool:
    """Set the title, severity or description. A field set by hand stays: alerts merged later do not raise the
    severity any more (the title is never changed by alerts). Resolved incidents can be edited too (a
    post-mortem fixes the title). Returns whether anything changed."""
    incident = await session.get(Incident, incident_id, with_for_update=True)
    if incident is None:
        raise ChangeRefused("not_found", number=incident_id)
    if title is not None and not title.strip():
        raise ChangeRefused("empty_title")
    wanted = {"title": title.strip()[:MAX_TITLE] if title is not None else None,
              "severity": severity.value if severity is not None else None,
              "description": description[:MAX_DESCRIPTION] if description is not None else None}
    changed = {name: value for name, value in wanted.items()
               if value is not None and value != (getattr(incident, name) or "")}
    if not changed:
        return False
    for name, value in changed.items():
        setattr(incident, name, value)
    incident.edited = sorted({*(incident.edited or ()), *changed})
    add_timeline(session, incident.id, "edited", now, actor=actor, via=via, **changed)
    enqueue_update(session, incident.id, now)
    return True


async def merge(session: AsyncSession, target_id: int, source_ids: Sequence[int], actor: str, now: datetime,
                via: str = "api") -> int:
    """Merge incidents into `target_id`: it takes their alerts (and their severity, unless its own was set by
    hand); each source is resolved, saying where it went. Returns how many alerts moved."""
    sources = list(dict.fromkeys(source_ids))
    if not sources:
        raise ChangeRefused("nothing_to_merge")
    if target_id in sources:
        raise ChangeRefused("merge_into_itself", number=target_id)
    target = await _open(session, target_id)
    found = []
    for source_id in sorted(sources):  # locked in id order, so two merges never deadlock
        found.append(await _open(session, source_id))
    moved = 0
    for source in found:
        count = (await session.execute(update(Alert).where(Alert.incident_id == source.id)
                                       .values(incident_id=target.id))).rowcount or 0
        moved += count
        target.alert_total += source.alert_total
        if "severity" not in (target.edited or ()):
            target.severity = higher_severity(Severity(target.severity), Severity(source.severity)).value
        source.status, source.resolved_at, source.resolved_by = IncidentStatus.RESOLVED.value, now, actor
        source.open_group_key = source.snoozed_until = None
        await cancel_timers(session, source.id, kinds=None)
        add_timeline(session, source.id, "merged_into", now, actor=actor, via=via, into=target.id, alerts=count)
        add_timeline(session, target.id, "merged", now, actor=actor, via=via, source=source.id, alerts=count)
        enqueue_update(session, source.id, now)
    enqueue_update(session, target.id, now)
    return moved


async def create(session: AsyncSession, directory: Directory, service_id: str, title: str, severity: Severity,
                 description: str | None, actor: str, now: datetime, via: str = "api") -> int:
    """Open an incident by hand on a service: it follows the policy the service's escalation rules pick (the
    title and severity stand in for an alert's), takes no alerts, and pages like any other."""
    if service_id not in directory.services:
        raise ChangeRefused("unknown_service", service=service_id)
    if not title.strip():
        raise ChangeRefused("empty_title")
    title = title.strip()[:MAX_TITLE]
    stand_in = AlertEvent(source=MANUAL_SOURCE, fingerprint="manual", status=AlertStatus.FIRING, severity=severity,
                          title=title, labels={}, annotations={"description": description} if description else {},
                          starts_at=now)
    calendars = directory.rules("calendars", lambda: calendar_predicates(directory))
    policy_id, chosen_by = choose_policy(rules_of(directory, service_id).escalation,
                                         directory.services[service_id].escalation_policy, stand_in, now, calendars)
    snapshot = directory.policies[policy_id]
    values = {"service_id": service_id, "group_key": f"manual:{secrets.token_hex(8)}", "open_group_key": None,
              "title": title, "severity": severity.value, "status": IncidentStatus.TRIGGERED.value, "labels": {},
              "policy": snapshot.model_dump(mode="json"), "created_at": now, "last_merge_at": now, "alert_total": 0,
              "description": description[:MAX_DESCRIPTION] if description else None}
    incident_id = int((await session.execute(insert(Incident).values(values).returning(Incident.id))).scalar_one())
    add_timeline(session, incident_id, "created", now, actor=actor, via=via, source=MANUAL_SOURCE, policy=policy_id,
                 **({"rule": chosen_by} if chosen_by is not None else {}))
    firing = first_firing(policy_from_config(snapshot), now)
    if firing is not None:
        session.add(Timer(incident_id=incident_id, kind="escalate", position=firing.position, due_at=firing.due_at,
                          status="pending"))
    return incident_id
