"""Firing escalation timers: find who to page, write their notifications, arm the next step."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import PolicyConfig
from bot.db.bulk import insert_pending
from bot.db.database import Database
from bot.db.tables import Incident, OutboxMessage, TimelineEntry, Timer
from bot.directory import Directory, policy_from_config
from bot.services import destinations as destinations_for
from bot.services.incidents import SNOOZE_ACTOR, act
from bot.services.records import add_timeline, enqueue_post
from core.escalation import Firing, Step, next_firing, next_repeat
from core.model import Action, IncidentStatus, Severity
from core.ports import Destination
from core.schedule import on_call

CLAIM_BATCH = 200
AUTO_RESOLVE_ACTOR = "auto-resolve"  # shown as "auto-resolve (no new alerts)" (cards/build.py actor_name)
log = logging.getLogger(__name__)


async def fire_due_timers(db: Database, directory: Directory, now: datetime) -> int:
    """Fire the timers due by `now`, up to CLAIM_BATCH of them in one transaction; with several workers each
    fires once.

    One transaction for the batch keeps a storm's escalations from queueing, one commit each, behind ingest for
    the database (on SQLite a single writer). When a timer in the batch cannot fire (a bug, a broken policy
    snapshot) the batch is rolled back and fired again one timer per transaction: the bad one is marked failed
    and logged, so it never blocks the timers behind it.
    """
    claimed = False
    try:
        async with db.transaction() as session:
            timers = await _claim(db, session, now, CLAIM_BATCH)
            if not timers:
                return 0
            claimed = True
            # the batch's incidents in one read (held here: the session's identity map keeps only what is
            # referred to, and `session.get` then finds them there), and what the firings add written with one
            # statement per table: a storm's first pages are not held up by a read and an insert per row
            _incidents = (await session.scalars(select(Incident).where(
                Incident.id.in_({timer.incident_id for timer in timers})))).all()
            with session.no_autoflush:
                for timer in timers:
                    timer.status, timer.fired_at = "fired", now
                    await _fire(session, directory, timer, now)
            await insert_pending(session, TimelineEntry, OutboxMessage, Timer)
            return len(timers)
    except Exception:
        if not claimed:
            raise  # the claim itself failed (database down): the worker loop retries
        log.warning("a batch of escalation timers failed; firing them one at a time")
    return await _fire_one_by_one(db, directory, now)


async def _fire_one_by_one(db: Database, directory: Directory, now: datetime) -> int:
    fired = 0
    while fired < CLAIM_BATCH:
        timer_id: int | None = None
        try:
            async with db.transaction() as session:
                found = await _claim(db, session, now, 1)
                if not found:
                    return fired
                timer = found[0]
                timer_id = timer.id
                timer.status, timer.fired_at = "fired", now
                await _fire(session, directory, timer, now)
        except Exception:  # noqa: BLE001 - one poison timer must not stop escalation for everyone
            if timer_id is None:
                raise
            log.exception("escalation timer %s failed", timer_id)
            await _mark_failed(db, timer_id, now)
        fired += 1
    return fired


async def _claim(db: Database, session: AsyncSession, now: datetime, limit: int) -> list[Timer]:
    query = (select(Timer).where(Timer.status == "pending", Timer.due_at <= now)
             .order_by(Timer.due_at, Timer.id).limit(limit))
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    return list((await session.scalars(query)).all())


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
    if timer.kind in ("auto_resolve", "wake"):
        await session.flush()  # act() reads and cancels timers: what this batch wrote must be in the database
    if timer.kind == "auto_resolve":  # no alert for `auto_resolve.after`: resolved, acknowledged or not
        await act(session, timer.incident_id, Action.RESOLVE, AUTO_RESOLVE_ACTOR, now, via="auto_resolve")
        return
    if timer.kind == "wake":  # a snooze ran out: triggered again, paged from the first level
        snoozed = await session.get(Incident, timer.incident_id)
        if snoozed is not None and snoozed.snoozed_until == timer.due_at:  # not woken or snoozed anew since
            await act(session, timer.incident_id, Action.WAKE, SNOOZE_ACTOR, now, via="snooze")
        return
    incident = await session.get(Incident, timer.incident_id)
    if incident is None:
        return
    policy = policy_from_config(PolicyConfig.model_validate(incident.policy))
    if not policy.steps or not policy.escalates(IncidentStatus(incident.status), incident.snoozed_until is not None):
        return  # acknowledged or resolved since the timer was armed
    index = timer.position % len(policy.steps)
    step = policy.steps[index]
    level, round_ = index + 1, timer.position // len(policy.steps) + 1
    if timer.kind == "repeat":
        add_timeline(session, incident.id, "escalated", now, step=level, round=round_, repeat=timer.repeat)
    else:
        add_timeline(session, incident.id, "escalated", now, step=level, round=round_)
    for destination in _destinations(session, directory, incident, step, now):
        enqueue_post(session, incident.id, destination, now)
    next_level_due: datetime | None = None
    if timer.kind == "escalate":
        following = next_firing(policy, Firing(timer.position, index, timer.due_at), now)
        if following is not None:
            next_level_due = following.due_at
            session.add(Timer(incident_id=incident.id, kind="escalate", position=following.position,
                              due_at=following.due_at, status="pending"))
    else:  # the next level (if any) is already armed (maybe by a timer of this batch): repeats stop before it
        await session.flush()
        next_level_due = await session.scalar(
            select(Timer.due_at).where(Timer.incident_id == incident.id, Timer.kind == "escalate",
                                       Timer.status == "pending").order_by(Timer.due_at).limit(1))
    again = next_repeat(step, timer.repeat, now, next_level_due)
    if again is not None:
        session.add(Timer(incident_id=incident.id, kind="repeat", position=timer.position, repeat=timer.repeat + 1,
                          due_at=again, status="pending"))


def _destinations(session: AsyncSession, directory: Directory, incident: Incident, step: Step,
                  now: datetime) -> list[Destination]:
    """Everyone the step names (on-call people resolved now), each the way they want to be paged for this
    severity, and the step's channels."""
    people: list[str] = []
    for target in step.targets:
        if target.user is not None:
            people.append(target.user)
        elif target.team is not None and target.team in directory.teams:
            members = [user for user in directory.teams[target.team].members if user in directory.users]
            if not members:
                add_timeline(session, incident.id, "nobody_in_team", now, team=target.team)
            people.extend(members)
        elif target.schedule is not None and target.schedule in directory.schedules:
            found = on_call(directory.schedule(target.schedule), now).for_role(target.role)
            if not found:
                add_timeline(session, incident.id, "nobody_on_call", now, schedule=target.schedule,
                             role=target.role)
            people.extend(found)
    destinations: list[Destination] = []
    severity = Severity(incident.severity)
    for user_id in dict.fromkeys(people):
        reach, how = destinations_for.paged(directory, user_id, severity, step.via, now)
        if how.quiet:
            add_timeline(session, incident.id, "quiet_hours", now, user=user_id)
        elif not reach and ("dm" in step.via or "email" in step.via):
            add_timeline(session, incident.id, "unreachable", now, user=user_id,
                         reason="no bound chat account or email for the way they are paged")
        destinations.extend(reach)
    for channel_id in step.via:
        reach_channel = destinations_for.channel(directory, channel_id)
        if reach_channel is not None:
            destinations.append(reach_channel)
    return destinations
