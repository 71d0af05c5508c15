"""Shift reminders: advance notice before each handoff, and today's on-call at a fixed time.

Each reminder is an outbox row with a unique dedupe key, so it is written once however many workers look
at the same handoff, and it goes out through the dispatcher like every notification. Handoffs come from the
final schedule, so a handoff that an override removed has no reminder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.config import ScheduleConfig
from bot.db.database import Database
from bot.db.tables import OutboxMessage
from bot.directory import Directory
from bot.services import destinations as destinations_for
from cards.build import local_time
from cards.i18n import Translator
from core.ports import Destination
from core.schedule import Shift, final_shifts

DAILY_GRACE = timedelta(hours=1)  # a worker that was down sends today's notice at most this late


@dataclass(frozen=True)
class Handoff:
    at: datetime
    outgoing: tuple[str, ...]
    incoming: tuple[str, ...]


def handoffs(shifts: list[Shift], after: datetime) -> list[Handoff]:
    """Every change of people strictly after `after` in ordered, merged shifts (gaps count as nobody)."""
    found: list[Handoff] = []
    points = sorted({moment for shift in shifts for moment in (shift.start, shift.end) if moment > after})
    for point in points:
        before = next((set(s.users) for s in shifts if s.start < point <= s.end), set())
        now_on = next((set(s.users) for s in shifts if s.start <= point < s.end), set())
        if before != now_on:
            found.append(Handoff(point, tuple(sorted(before - now_on)), tuple(sorted(now_on - before))))
    return found


async def send_due_reminders(db: Database, directory: Directory, now: datetime) -> int:
    """Queue every reminder due at `now`; returns how many rows this call wrote."""
    written = 0
    t = Translator(directory.locale)
    for spec in directory.schedules.values():
        zone = ZoneInfo(spec.timezone or directory.timezone)
        if spec.notify.advance_minutes and spec.notify.personal:
            written += await _advance(db, directory, spec, now, timedelta(minutes=spec.notify.advance_minutes), t)
        if spec.notify.daily_at:
            written += await _daily(db, directory, spec, now, zone, t)
    return written


async def _advance(db: Database, directory: Directory, spec: ScheduleConfig, now: datetime, lead: timedelta,
                   t: Translator) -> int:
    schedule = directory.schedule(spec.id)
    # a little history so the shift ending at the first handoff is known
    shifts = final_shifts(schedule, now - timedelta(days=1), now + lead + timedelta(seconds=1))
    written = 0
    for handoff in handoffs(shifts, now):
        if handoff.at - lead > now:
            continue
        at = local_time(handoff.at, schedule.timezone)
        for user_id in handoff.incoming:
            text = t("reminder.incoming", schedule=spec.name, at=at, before=_names(directory, handoff.outgoing, t))
            text += f"\n\n{spec.description}" if spec.description else ""  # what the incoming person needs
            written += await _queue(db, directory, user_id, text, f"advance:{spec.id}:{handoff.at.isoformat()}:in:"
                                    f"{user_id}", now)
        for user_id in handoff.outgoing:
            text = t("reminder.outgoing", schedule=spec.name, at=at, after=_names(directory, handoff.incoming, t))
            written += await _queue(db, directory, user_id, text, f"advance:{spec.id}:{handoff.at.isoformat()}:out:"
                                    f"{user_id}", now)
    return written


async def _daily(db: Database, directory: Directory, spec: ScheduleConfig, now: datetime, zone: ZoneInfo,
                 t: Translator) -> int:
    local_now = now.astimezone(zone)
    assert spec.notify.daily_at is not None
    due = datetime.combine(local_now.date(), time.fromisoformat(spec.notify.daily_at), tzinfo=zone)
    if not due <= now < due + DAILY_GRACE:
        return 0
    day_start = datetime.combine(local_now.date(), time(0), tzinfo=zone)
    today = final_shifts(directory.schedule(spec.id), day_start, day_start + timedelta(days=1))
    lines = [t("reminder.daily.line", start=item.start.astimezone(zone).strftime("%H:%M"),
               end=item.end.astimezone(zone).strftime("%H:%M"), users=_names(directory, item.users, t))
             for item in today] or [t("oncall.nobody")]
    text = t("reminder.daily", schedule=spec.name, date=local_now.date().isoformat()) + "\n" + "\n".join(lines)
    if spec.description:  # the schedule's Markdown notes (runbook links, phone numbers) travel with the notice
        text += "\n\n" + spec.description
    key = f"daily:{spec.id}:{local_now.date().isoformat()}"
    written = 0
    for channel_id in spec.notify.channels:
        target = destinations_for.channel(directory, channel_id)
        if target is not None:
            written += await _queue_to(db, target, text, f"{key}:channel:{channel_id}", now)
    if spec.notify.personal:
        for user_id in sorted({person for item in today for person in item.users}):
            written += await _queue(db, directory, user_id, text, f"{key}:dm:{user_id}", now)
    return written


async def _queue(db: Database, directory: Directory, user_id: str, text: str, key: str, now: datetime) -> int:
    target = destinations_for.person(directory, user_id)
    return 0 if target is None else await _queue_to(db, target, text, key, now)


async def _queue_to(db: Database, target: Destination, text: str, key: str, now: datetime) -> int:
    """One outbox row per key: a second worker (or a second pass) finds it or loses the unique race."""
    try:
        async with db.transaction() as session:
            if await session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None:
                return 0
            session.add(OutboxMessage(incident_id=None, kind="message", destination=asdict(target),
                                      payload={"text": text}, dedupe_key=key, status="pending", attempts=0,
                                      created_at=now, next_attempt_at=now))
    except IntegrityError:
        return 0
    return 1


def _names(directory: Directory, people: tuple[str, ...], t: Translator) -> str:
    return ", ".join(directory.display_name(person) or person for person in people) or t("oncall.nobody")
