"""What the schedule pages show, worked out before the template: texts, classes, links (`bot/web/pages.py`).

The templates only place these values; every text comes from the catalogs, dates are spelled by Babel with
patterns from the catalogs, and times are 24-hour local times in the page's zone (a day ends at 24:00).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.directory import Directory
from cards.calendar_layout import Block, Day, Duty, source_class
from cards.i18n import Translator
from core.schedule import Schedule, Shift


@dataclass(frozen=True)
class Link:
    label: str
    href: str | None  # None: shown but not a link (the current choice, or a period out of range)
    current: bool = False


class Speller:
    """Dates, times, names and sources as one page shows them."""

    def __init__(self, t: Translator, directory: Directory, zone: ZoneInfo) -> None:
        self.t, self.directory, self.zone = t, directory, zone
        self._babel_locale = t.locale.replace("-", "_")

    def day(self, day: date) -> str:
        return format_date(day, self.t("page.format.day"), locale=self._babel_locale)

    def long_day(self, day: date) -> str:
        return format_date(day, self.t("page.format.long_day"), locale=self._babel_locale)

    def weekday(self, day: date) -> str:
        return format_date(day, "EEE", locale=self._babel_locale)

    def month(self, day: date) -> str:
        return format_date(day, self.t("page.format.month"), locale=self._babel_locale)

    def span(self, first: date, last: date) -> str:
        if first == last:
            return self.long_day(first)
        return self.t("page.range", start=self.long_day(first), end=self.long_day(last))

    def clock(self, moment: datetime, day: date) -> str:
        """`moment`'s local time of day, as 24:00 when it is the end of `day`."""
        local = moment.astimezone(self.zone)
        return "24:00" if local.date() > day else f"{local:%H:%M}"

    def moment(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        return f"{self.day(local.date())} {local:%H:%M}"

    def names(self, users: Iterable[str]) -> str:
        return ", ".join(self.directory.display_name(user) or user for user in users)

    def source(self, source: str) -> str:
        if source == "override":
            return self.t("calendar.description.override")
        return self.t("calendar.description.layer", layer=source.removeprefix("layer:"))


def page_href(path: str, **params: object) -> str:
    """A link to `path` with the non-empty query parameters, in the order given."""
    query = urlencode({key: str(value) for key, value in params.items() if value not in (None, "")})
    return f"{quote(path)}?{query}" if query else quote(path)


def block_view(speller: Speller, layers: Sequence[str], block: Block, day: date,
               highlight: str | None) -> dict[str, Any]:
    shift = block.shift
    classes = ["shift", source_class(shift.source, layers)]
    if highlight is not None:
        classes.append("shift--mine" if highlight in shift.users else "shift--dim")
    if block.from_before:
        classes.append("shift--from-before")
    if block.to_after:
        classes.append("shift--to-after")
    people = speller.names(shift.users) or speller.t("oncall.nobody")
    time = speller.t("page.time_range", start=speller.clock(block.start, day), end=speller.clock(block.end, day))
    whole = speller.t("page.range", start=speller.moment(shift.start), end=speller.moment(shift.end))
    return {"classes": " ".join(classes), "top": block.top, "height": block.height, "time": time, "people": people,
            "source": speller.source(shift.source), "title": f"{whole} · {people} · {speller.source(shift.source)}",
            "index": block.index, "start": _iso(shift.start, speller.zone), "end": _iso(shift.end, speller.zone),
            "users": " ".join(shift.users)}


def day_view(speller: Speller, layers: Sequence[str], column: Day, today: date, highlight: str | None,
             month: int | None = None) -> dict[str, Any]:
    return {"date": column.day.isoformat(), "heading": speller.day(column.day), "number": column.day.day,
            "today": column.day == today, "outside": month is not None and column.day.month != month,
            "blocks": [block_view(speller, layers, block, column.day, highlight) for block in column.blocks]}


def legend(speller: Speller, schedule: Schedule) -> list[dict[str, str]]:
    layers = [layer.name for layer in schedule.layers]
    items = [{"label": speller.source(f"layer:{name}"), "class": source_class(f"layer:{name}", layers)}
             for name in layers]
    items.append({"label": speller.source("override"), "class": "src-override"})
    return items


def people_of(schedule: Schedule, shifts: Sequence[Shift]) -> list[str]:
    """Everyone who takes part in the schedule: its slots, its overrides and whoever the shifts name."""
    found = dict.fromkeys(person for layer in schedule.layers for slot in layer.slots for person in slot.people())
    found.update(dict.fromkeys(override.user for override in schedule.overrides))
    found.update(dict.fromkeys(person for shift in shifts for person in shift.users))
    return list(found)


def highlight_options(speller: Speller, people: Sequence[str], chosen: str | None) -> list[dict[str, Any]]:
    options = [{"value": person, "label": speller.names([person]), "selected": person == chosen} for person in people]
    return sorted(options, key=lambda option: (str(option["label"]).casefold(), option["value"]))


def duty_view(speller: Speller, directory: Directory, duty: Duty, day: date) -> dict[str, Any]:
    spec = directory.schedules.get(duty.schedule_id)
    classes = ["duty"] + (["duty--from-before"] if duty.from_before else []) + (
        ["duty--to-after"] if duty.to_after else [])
    span = None
    if duty.from_before or duty.to_after:
        span = speller.t("page.range", start=speller.moment(duty.stretch.start), end=speller.moment(duty.stretch.end))
    return {
        "classes": " ".join(classes), "schedule_id": duty.schedule_id,
        "schedule": spec.name if spec else duty.schedule_id,
        "time": speller.t("page.time_range", start=speller.clock(duty.start, day), end=speller.clock(duty.end, day)),
        "span": span,
        "others": speller.t("calendar.description.with", users=speller.names(duty.others)) if duty.others else None,
        "roles": speller.t("calendar.description.your_roles", roles=", ".join(duty.roles)) if duty.roles else None,
        "sources": ", ".join(speller.source(source) for source in duty.sources),
        "start": _iso(duty.start, speller.zone), "end": _iso(duty.end, speller.zone),
    }


def hours() -> list[str]:
    return [f"{hour:02d}:00" for hour in range(24)]


def last_day(first: date, days: int) -> date:
    return first + timedelta(days=days - 1)


def _iso(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat()
