"""Firing escalation timers: find who to page, write their notifications, arm the next step."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import PolicyConfig
from bot.db.database import Database
from bot.db.tables import Incident, Timer
from bot.directory import Directory, policy_from_config
from bot.services import destinations as destinations_for
from bot.services.incidents import act
from bot.services.records import add_timeline, enqueue_post
from core.escalation import Firing, Step, next_firing
from core.model import Action, IncidentStatus
from core.ports import Destination
from core.schedule import on_call

CLAIM_BATCH = 50
AUTO_RESOLVE_ACTOR = "auto-resolve"  # shown as "auto-resolve (no new alerts)" (cards/build.py actor_name)
log = logging.getLogger(__name__)


async def fire_due_timers(db: Database, directory: Directory, now: datetime) -> int:
    """Fire every timer due by `now`, each in its own transaction; with several workers each fires once.

    A timer that cannot fire (a bug, a broken policy snapshot) is marked failed and logged, so it never
    blocks the timers behind it.
    """
    fired = 0
    while fired < CLAIM_BATCH:
        timer_id: int | None = None
        try:
            async with db.transaction() as session:
                timer = await _claim(db, session, now)
                if timer is None:
                    return fired
                timer_id = timer.id
                timer.status, timer.fired_at = "fired", now
                await _fire(session, directory, timer, now)
        except Exception:  # noqa: BLE001 - one poison timer must not stop escalation for everyone
            if timer_id is None:
                raise  # the claim itself failed (database down): the worker loop retries
            log.exception("escalation timer %s failed", timer_id)
            await _mark_failed(db, timer_id, now)
        fired += 1
    return fired


async def _claim(db: Database, session: AsyncSession, now: datetime) -> Timer | None:
    query = (select(Timer).where(Timer.status == "pending", Timer.due_at <= now)
             .order_by(Timer.due_at, Timer.id).limit(1))
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    return await session.scalar(query)


async def _mark_failed(db: Database, timer_id: int, now: datetime) -> None:
    async with db.transaction() as session:
        timer = await session.get(Timer, timer_id)
        if timer is not None and timer.status == "pending":
            timer.status, timer.fired_at = "failed", now
            add_timeline(session, timer.incident_id, "escalation_failed", now, position=timer.position)


async def next_due(db: Database) -> datetime | None:
    """When the earliest pending timer is due, so the worker can sleep until then."""
    async with db.transaction() as session:
        return await session.scalar(select(Timer.due_at).where(Timer.status == "pending")
                                    .order_by(Timer.due_at).limit(1))


async def _fire(session: AsyncSession, directory: Directory, timer: Timer, now: datetime) -> None:
    if timer.kind == "auto_resolve":  # no alert for `auto_resolve.after`: resolved, acknowledged or not
        await act(session, timer.incident_id, Action.RESOLVE, AUTO_RESOLVE_ACTOR, now, via="auto_resolve")
        return
    incident = await session.get(Incident, timer.incident_id)
    if incident is None or incident.status != IncidentStatus.TRIGGERED.value:
        return  # acknowledged or resolved since the timer was armed
    policy = policy_from_config(PolicyConfig.model_validate(incident.policy))
    if not policy.steps:
        return
    index = timer.position % len(policy.steps)
    step = policy.steps[index]
    add_timeline(session, incident.id, "escalated", now, step=index + 1, round=timer.position // len(policy.steps) + 1)
    for destination in _destinations(session, directory, incident.id, step, now):
        enqueue_post(session, incident.id, destination, now)
    following = next_firing(policy, Firing(timer.position, index, timer.due_at), now)
    if following is not None:
        session.add(Timer(incident_id=incident.id, kind="escalate", position=following.position,
                          due_at=following.due_at, status="pending"))


def _destinations(session: AsyncSession, directory: Directory, incident_id: int, step: Step,
                  now: datetime) -> list[Destination]:
    """Everyone the step names (on-call people resolved now) by DM, and its channels."""
    people: list[str] = []
    for target in step.targets:
        if target.user is not None:
            people.append(target.user)
        elif target.schedule is not None and target.schedule in directory.schedules:
            found = on_call(directory.schedule(target.schedule), now).for_role(target.role)
            if not found:
                add_timeline(session, incident_id, "nobody_on_call", now, schedule=target.schedule,
                             role=target.role)
            people.extend(found)
    destinations: list[Destination] = []
    if "dm" in step.via:
        for user_id in dict.fromkeys(people):
            reach = destinations_for.person(directory, user_id)
            if reach is not None:
                destinations.append(reach)
            else:
                add_timeline(session, incident_id, "unreachable", now, user=user_id,
                             reason="no bound chat account on a configured platform")
    for channel_id in step.via:
        reach = destinations_for.channel(directory, channel_id)
        if reach is not None:
            destinations.append(reach)
    return destinations
