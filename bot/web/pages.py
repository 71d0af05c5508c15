"""Schedule pages for people: `/schedules/{schedule}` (a calendar) and `/people/{user}` (one person's shifts).

There is no password login. A page is opened by its `token` query parameter: a token signed for that page
(`page:schedule:<id>` / `page:user:<id>`, handed out by the `page-url` API calls below and by the bot in chat)
or an API token. A page token is not a feed token: a feed URL is pasted into calendar apps and the services
behind them, and should not open more than the feed. A person's page shows the link to their own feed.

Errors are pages too, in the account's language: 401 (checked first), 404, 400 for a bad parameter; never a
500 for anything a URL can say. Tokens are never logged (no access log; errors are logged by path only).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from bot.bootstrap import Container
from bot.directory import Directory
from bot.web import page_views as views
from bot.web.api import User
from bot.web.html import message_page, render
from bot.web.signed import (
    schedule_page_path,
    schedule_page_url,
    token_opens,
    user_feed_url,
    user_page_path,
    user_page_url,
)
from cards.calendar_layout import (
    PERSON_DAYS,
    VIEWS,
    day_columns,
    in_range,
    person_days,
    view_anchor,
    view_days,
    view_neighbours,
    weeks,
    window,
)
from cards.i18n import Translator
from core.feed_shifts import person_feed_stretches
from core.feeds import page_subject, schedule_subject, user_subject
from core.schedule import final_shifts

DEFAULT_VIEW = "week"
DEFAULT_DAYS = 14
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "the page"},
    400: {"content": {"text/html": {}}, "description": "a bad `view`, `days`, `start` or `highlight`"},
    401: {"content": {"text/html": {}}, "description": "missing or invalid token"},
    404: {"content": {"text/html": {}}, "description": "unknown schedule or user"},
}


class PageUrl(BaseModel):
    url: str


class _BadParameter(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def pages_router(container: Container) -> APIRouter:
    router = APIRouter()

    async def opened(token: str | None, subject: str, t: Translator) -> HTMLResponse | None:
        """None when `token` opens the page of `subject`, else the 401 page."""
        if await token_opens(container, token, page_subject(subject)):
            return None
        return message_page(t, 401, t("page.unauthorized.title"), [t("page.unauthorized.body")])

    @router.get("/schedules/{schedule_id}", response_class=HTMLResponse, responses=_PAGE_RESPONSES, tags=["pages"])
    async def schedule_page(schedule_id: str, token: str | None = None, view: str | None = None,
                            start: str | None = None, highlight: str | None = None) -> HTMLResponse:
        """A schedule's final shifts as a calendar: a week (default), two weeks or a month from `start`."""
        directory = await container.directory()
        t = Translator(directory.locale)
        if (refused := await opened(token, schedule_subject(schedule_id), t)) is not None:
            return refused
        if schedule_id not in directory.schedules:
            return message_page(t, 404, t("page.not_found.title"), [t("calendar.no_schedule", schedule=schedule_id)])
        zone = directory.schedule_zone(schedule_id)
        try:
            chosen_view = _view(t, view)
            anchor = view_anchor(chosen_view, _start(t, start, container.clock().astimezone(zone).date()))
            if not in_range(anchor):  # a week of 1–3 January 1971 begins in 1970
                raise _BadParameter(t("page.bad_start", value=start))
            chosen = _person(t, directory, highlight)
        except _BadParameter as bad:
            return message_page(t, 400, t("page.bad_request.title"), [bad.message])
        context = _schedule_context(container, directory, t, schedule_id, token, chosen_view, anchor, chosen)
        return render("schedule.html", **context)

    @router.get("/people/{user_id}", response_class=HTMLResponse, responses=_PAGE_RESPONSES, tags=["pages"])
    async def person_page(user_id: str, token: str | None = None, days: str | None = None,
                          start: str | None = None) -> HTMLResponse:
        """One person's shifts in every schedule, day by day, over 1, 4, 7, 14 (default) or 30 days."""
        directory = await container.directory()
        t = Translator(directory.locale)
        if (refused := await opened(token, user_subject(user_id), t)) is not None:
            return refused
        if user_id not in directory.users:
            return message_page(t, 404, t("page.not_found.title"), [t("calendar.no_user", user=user_id)])
        zone = ZoneInfo(directory.timezone)
        try:
            count = _days(t, days)
            first = _start(t, start, container.clock().astimezone(zone).date())
        except _BadParameter as bad:
            return message_page(t, 400, t("page.bad_request.title"), [bad.message])
        return render("person.html", **_person_context(container, directory, t, user_id, token, count, first))

    @router.get("/api/v1/schedules/{schedule_id}/page-url", response_model=PageUrl, tags=["schedules"])
    async def schedule_page_link(user: User, schedule_id: str) -> PageUrl:
        """A link to the schedule's calendar page, with a token that opens only that page."""
        directory = await container.directory()
        if schedule_id not in directory.schedules:
            raise HTTPException(404, f"schedule {schedule_id} not found")
        return PageUrl(url=schedule_page_url(container, directory, schedule_id))

    @router.get("/api/v1/users/{user_id}/page-url", response_model=PageUrl, tags=["schedules"])
    async def user_page_link(user: User, user_id: str) -> PageUrl:
        """A link to one person's schedule page, with a token that opens only that page."""
        directory = await container.directory()
        if user_id not in directory.users:
            raise HTTPException(404, f"user {user_id} not found")
        return PageUrl(url=user_page_url(container, directory, user_id))

    return router


def _schedule_context(container: Container, directory: Directory, t: Translator, schedule_id: str,
                      token: str | None, view: str, anchor: date, highlight: str | None) -> dict[str, Any]:
    schedule = directory.schedule(schedule_id)
    zone = directory.schedule_zone(schedule_id)
    speller = views.Speller(t, directory, zone)
    today = container.clock().astimezone(zone).date()
    first, count = view_days(view, anchor)
    shifts = final_shifts(schedule, *window(first, count, zone))
    columns = day_columns(shifts, first, count, zone)
    layers = [layer.name for layer in schedule.layers]
    month = anchor.month if view == "month" else None
    days = [views.day_view(speller, layers, column, today, highlight, month) for column in columns]
    path = schedule_page_path(schedule_id)

    def href(**changes: Any) -> str:
        params = {"token": token, "view": view, "start": anchor.isoformat(), "highlight": highlight, **changes}
        return views.page_href(path, **params)

    before, after = view_neighbours(view, anchor)
    labels = {"week": t("page.view.week"), "2weeks": t("page.view.2weeks"), "month": t("page.view.month")}
    return {
        "lang": t.locale, "title": t("page.schedule.title", schedule=schedule.name),
        "period": speller.month(anchor) if view == "month" else speller.span(first, views.last_day(first, count)),
        "timezone": t("page.timezone", timezone=str(zone)), "view": view,
        "previous": views.Link(t("page.nav.previous"), href(start=before.isoformat()) if in_range(before) else None),
        "next": views.Link(t("page.nav.next"), href(start=after.isoformat()) if in_range(after) else None),
        "today": views.Link(t("page.nav.today"), href(start=view_anchor(view, today).isoformat())),
        "views": [views.Link(labels[name], href(view=name), current=name == view) for name in VIEWS],
        "form": {"token": token, "view": view, "start": anchor.isoformat()},
        "people": views.highlight_options(speller, views.people_of(schedule, shifts), highlight),
        "highlight": highlight, "legend": views.legend(speller, schedule), "empty": not shifts,
        "days": days, "weeks": weeks(days), "hours": views.hours(),
        "weekdays": [speller.weekday(column.day) for column in columns[:7]],
        "labels": {"highlight": t("page.highlight.label"), "nobody": t("page.highlight.none"),
                   "show": t("page.highlight.submit"), "legend": t("page.legend"), "empty": t("page.empty"),
                   "views": t("page.views"), "navigation": t("page.navigation")},
    }


def _person_context(container: Container, directory: Directory, t: Translator, user_id: str, token: str | None,
                    count: int, first: date) -> dict[str, Any]:
    zone = ZoneInfo(directory.timezone)
    speller = views.Speller(t, directory, zone)
    low, high = window(first, count, zone)
    stretches = {schedule_id: person_feed_stretches(directory.schedule(schedule_id), user_id, low, high)
                 for schedule_id in directory.schedules}
    listed = person_days(stretches, user_id, first, count, zone, order=list(directory.schedules))
    today = container.clock().astimezone(zone).date()
    path = user_page_path(user_id)

    def href(**changes: Any) -> str:
        return views.page_href(path, **{"token": token, "days": count, "start": first.isoformat(), **changes})

    labels = {1: t("page.days.1"), 4: t("page.days.4"), 7: t("page.days.7"), 14: t("page.days.14"),
              30: t("page.days.30")}
    before, after = first - timedelta(days=count), first + timedelta(days=count)
    return {
        "lang": t.locale, "title": t("page.person.title", user=speller.names([user_id])),
        "period": speller.span(first, views.last_day(first, count)), "timezone": t("page.timezone", timezone=str(zone)),
        "previous": views.Link(t("page.nav.previous"), href(start=before.isoformat()) if in_range(before) else None),
        "next": views.Link(t("page.nav.next"), href(start=after.isoformat()) if in_range(after) else None),
        "today": views.Link(t("page.nav.today"), href(start=today.isoformat())),
        "choices": [views.Link(labels[number], href(days=number), current=number == count) for number in PERSON_DAYS],
        "feed_url": user_feed_url(container, directory, user_id),
        "days": [{"date": day.isoformat(), "heading": speller.long_day(day), "today": day == today,
                  "duties": [views.duty_view(speller, directory, duty, day) for duty in duties]}
                 for day, duties in listed],
        "empty": not any(duties for _, duties in listed),
        "labels": {"subscribe": t("page.person.subscribe"), "off": t("page.person.off"),
                   "empty": t("page.person.empty"), "window": t("page.person.window"),
                   "navigation": t("page.navigation")},
    }


def _view(t: Translator, view: str | None) -> str:
    if view is None or view == "":
        return DEFAULT_VIEW
    if view not in VIEWS:
        raise _BadParameter(t("page.bad_view", value=view))
    return view


def _start(t: Translator, start: str | None, today: date) -> date:
    """`YYYY-MM-DD` in 1971–2200, or today when not given."""
    if start is None or start == "":
        return today
    try:
        if not _DATE.match(start):
            raise ValueError(start)
        day = date.fromisoformat(start)
    except ValueError:
        raise _BadParameter(t("page.bad_start", value=start)) from None
    if not in_range(day):
        raise _BadParameter(t("page.bad_start", value=start))
    return day


def _days(t: Translator, days: str | None) -> int:
    if days is None or days == "":
        return DEFAULT_DAYS
    if days not in {str(number) for number in PERSON_DAYS}:
        raise _BadParameter(t("page.bad_days", value=days))
    return int(days)


def _person(t: Translator, directory: Directory, highlight: str | None) -> str | None:
    if highlight is None or highlight == "":
        return None
    if highlight not in directory.users:
        raise _BadParameter(t("page.bad_highlight", value=highlight))
    return highlight
