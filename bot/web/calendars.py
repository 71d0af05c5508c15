"""iCalendar feeds for calendar apps: `/calendar/{schedule}.ics?token=` and `/calendar/users/{user}.ics?token=`.

A calendar app cannot send headers, so the credential is the `token` query parameter: either a feed token
signed for exactly that feed (`core.feeds` via `bot.web.signed`, handed out by the `calendar-url` API calls
below) or an API token.
The window runs from 30 days before now to 180 days after; times are written in UTC. Tokens are never logged
(the server's access log is off, and the error handler logs the path without the query).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, HTTPException
from fastapi.responses import PlainTextResponse, Response
from icalendar import Calendar, Event
from pydantic import BaseModel

from bot.bootstrap import Container
from bot.directory import Directory
from bot.web.api import User
from bot.web.signed import schedule_feed_url, token_opens, user_feed_url
from cards.i18n import Translator
from core.feed_shifts import Stretch, person_feed_stretches, schedule_feed_shifts
from core.feeds import schedule_subject, user_subject
from core.schedule import Schedule, Shift

FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=180)
REFRESH = timedelta(hours=1)  # a hint to calendar apps; most poll on their own timetable anyway
PRODID = "-//Dutybot//On-call calendar feeds//EN"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
_FEED_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/calendar": {}}, "description": "an iCalendar (RFC 5545) feed"},
    401: {"content": {"text/plain": {}}, "description": "missing or invalid token"},
    404: {"content": {"text/plain": {}}, "description": "unknown schedule or user"},
}


class CalendarUrl(BaseModel):
    url: str


def calendars_router(container: Container) -> APIRouter:
    router = APIRouter()

    @router.get("/calendar/users/{user_id}.ics", response_class=Response, responses=_FEED_RESPONSES,
                tags=["calendars"])
    async def person_feed(user_id: str, token: str | None = None) -> Response:
        """One person's shifts in every schedule, adjacent shifts of a schedule merged into one event."""
        directory = await container.directory()
        t = Translator(directory.locale)
        if not await token_opens(container, token, user_subject(user_id)):
            return _text(401, t("calendar.unauthorized"))
        if user_id not in directory.users:
            return _text(404, t("calendar.no_user", user=user_id))
        now = container.clock().astimezone(UTC)
        calendar = _calendar(t("calendar.name.personal", user=directory.display_name(user_id)), now)
        events: list[tuple[datetime, str, Event]] = []
        for schedule_id in directory.schedules:
            schedule = directory.schedule(schedule_id)
            for stretch in person_feed_stretches(schedule, user_id, now - FEED_PAST, now + FEED_AHEAD):
                events.append((stretch.start, schedule_id, _stretch_event(directory, t, schedule, user_id, stretch,
                                                                         now)))
        for _, _, event in sorted(events, key=lambda item: item[:2]):
            calendar.add_component(event)
        return _ics(calendar, f"{user_id}.ics")

    @router.get("/calendar/{schedule_id}.ics", response_class=Response, responses=_FEED_RESPONSES,
                tags=["calendars"])
    async def schedule_feed(schedule_id: str, token: str | None = None) -> Response:
        """A schedule's final shifts (all layers and overrides), one event per shift."""
        directory = await container.directory()
        t = Translator(directory.locale)
        if not await token_opens(container, token, schedule_subject(schedule_id)):
            return _text(401, t("calendar.unauthorized"))
        if schedule_id not in directory.schedules:
            return _text(404, t("calendar.no_schedule", schedule=schedule_id))
        now = container.clock().astimezone(UTC)
        schedule = directory.schedule(schedule_id)
        calendar = _calendar(t("calendar.name.schedule", schedule=schedule.name), now)
        for shift in schedule_feed_shifts(schedule, now - FEED_PAST, now + FEED_AHEAD):
            calendar.add_component(_shift_event(directory, t, schedule, shift, now))
        return _ics(calendar, f"{schedule_id}.ics")

    @router.get("/api/v1/schedules/{schedule_id}/calendar-url", response_model=CalendarUrl, tags=["schedules"])
    async def schedule_calendar_url(user: User, schedule_id: str) -> CalendarUrl:
        """A subscription URL for the schedule's iCalendar feed, with a token that opens only that feed."""
        directory = await container.directory()
        if schedule_id not in directory.schedules:
            raise HTTPException(404, f"schedule {schedule_id} not found")
        return CalendarUrl(url=schedule_feed_url(container, directory, schedule_id))

    @router.get("/api/v1/users/{user_id}/calendar-url", response_model=CalendarUrl, tags=["schedules"])
    async def user_calendar_url(user: User, user_id: str) -> CalendarUrl:
        """A subscription URL for one person's iCalendar feed, with a token that opens only that feed."""
        directory = await container.directory()
        if user_id not in directory.users:
            raise HTTPException(404, f"user {user_id} not found")
        return CalendarUrl(url=user_feed_url(container, directory, user_id))

    return router


def _text(status: int, message: str) -> PlainTextResponse:
    return PlainTextResponse(message, status_code=status, headers={"Cache-Control": "no-store"})


def _ics(calendar: Calendar, filename: str) -> Response:
    return Response(calendar.to_ical(), media_type=CALENDAR_TYPE,
                    headers={"Cache-Control": "no-store", "Content-Disposition": f'inline; filename="{filename}"'})


def _calendar(name: str, now: datetime) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    return calendar


def _event(uid: str, start: datetime, end: datetime, summary: str, lines: Iterable[str], now: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", summary)
    description = "\n".join(lines)
    if description:
        event.add("description", description)
    event.add("transp", "OPAQUE")
    return event


def _uid(directory: Directory, schedule: Schedule, start: datetime, tail: str) -> str:
    """Stable while the shift is: the same schedule, start and source give the same UID on every refresh."""
    host = urlsplit(directory.public_url).netloc or "dutybot"
    return f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}/{schedule.id}/{quote(tail, safe=':')}@{host}"


def _shift_event(directory: Directory, t: Translator, schedule: Schedule, shift: Shift, now: datetime) -> Event:
    people = _names(directory, shift.users) or t("oncall.nobody")
    lines = [t("calendar.description.role", role=role, users=_names(directory, holders))
             for role, holders in sorted(shift.roles.items())]
    lines += _source_lines(t, [shift.source])
    return _event(_uid(directory, schedule, shift.start, shift.source), shift.start, shift.end,
                  t("calendar.summary", schedule=schedule.name, users=people), lines, now)


def _stretch_event(directory: Directory, t: Translator, schedule: Schedule, user: str, stretch: Stretch,
                   now: datetime) -> Event:
    roles = sorted({role for piece in stretch.pieces for role, holders in piece.roles.items() if user in holders})
    others = sorted({person for piece in stretch.pieces for person in piece.users} - {user})
    lines = [t("calendar.description.your_roles", roles=", ".join(roles))] if roles else []
    if others:
        lines.append(t("calendar.description.with", users=_names(directory, others)))
    lines += _source_lines(t, [piece.source for piece in stretch.pieces])
    return _event(_uid(directory, schedule, stretch.start, f"user:{user}"), stretch.start, stretch.end,
                  t("calendar.summary.personal", schedule=schedule.name), lines, now)


def _source_lines(t: Translator, sources: Sequence[str]) -> list[str]:
    """Where the people came from: each source once, in the order of the shifts."""
    lines = []
    for source in dict.fromkeys(sources):
        if source == "override":
            lines.append(t("calendar.description.override"))
        else:
            lines.append(t("calendar.description.layer", layer=source.removeprefix("layer:")))
    return lines


def _names(directory: Directory, users: Iterable[str]) -> str:
    return ", ".join(directory.display_name(user) or user for user in users)
