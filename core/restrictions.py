"""When a layer may put someone on call: its date mask and its time restriction, as wall-time windows.

A restriction's daily windows repeat every day, its weekly windows every week; both are unions, so two
windows that overlap simply cover their union. A date mask keeps whole calendar days (00:00–24:00). The
coverage of a layer is computed in wall time and only then turned into instants (`core.localtime`), so a
window keeps its wall-clock hours across DST changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.localtime import MIDNIGHT, ONE_DAY, to_instant, wall_of

ONE_WEEK = timedelta(days=7)
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class DateMask:
    """The calendar days a layer takes part in: weekdays (0 = Monday), or a calendar predicate when given."""

    weekdays: frozenset[int] = frozenset(range(7))
    calendar: Callable[[date], bool] | None = None  # e.g. China's workdays; when set, a day is in iff calendar(day)

    def includes(self, day: date) -> bool:
        if self.calendar is not None:
            return bool(self.calendar(day))
        return day.weekday() in self.weekdays


@dataclass(frozen=True)
class DailyWindow:
    """Every day from `start` to `end`; an `end` at or before `start` runs into the next day."""

    start: time
    end: time

    def span(self) -> tuple[timedelta, timedelta]:
        """Start and end as offsets from the day's 00:00; `end == start` is the whole 24 hours."""
        begin, finish = _offset(self.start), _offset(self.end)
        return begin, finish if finish > begin else finish + ONE_DAY


@dataclass(frozen=True)
class WeeklyWindow:
    """Every week from `start_day start` to the next `end_day end` ("mon 09:00"–"fri 18:00"); may wrap the week."""

    start_day: int  # 0 = Monday
    start: time
    end_day: int
    end: time

    def span(self) -> tuple[timedelta, timedelta]:
        """Start and end as offsets from Monday 00:00; an end at or before the start wraps (a whole week at most)."""
        begin = self.start_day * ONE_DAY + _offset(self.start)
        length = (self.end_day - self.start_day) % 7 * ONE_DAY + _offset(self.end) - _offset(self.start)
        return begin, begin + (length if length > timedelta(0) else length + ONE_WEEK)


@dataclass(frozen=True)
class Restriction:
    """Windows a layer is limited to; a restriction without any window restricts nothing."""

    daily: tuple[DailyWindow, ...] = ()
    weekly: tuple[WeeklyWindow, ...] = ()


class Coverage:
    """The wall-time windows of a mask and a restriction, ready to be laid over any stretch of days."""

    def __init__(self, mask: DateMask | None, restriction: Restriction | None) -> None:
        self.mask = mask
        self.daily = tuple(window.span() for window in restriction.daily) if restriction else ()
        self.weekly = tuple(window.span() for window in restriction.weekly) if restriction else ()
        self.restricted = bool(self.daily or self.weekly)
        self.total = mask is None and not self.restricted

    def walls(self, first: date, last: date) -> list[Interval]:
        """Covered wall-time intervals within the days `first`..`last` (inclusive), ordered and disjoint."""
        low, high = datetime.combine(first, MIDNIGHT), datetime.combine(last + ONE_DAY, MIDNIGHT)
        windows = self._windows(first, low, high) if self.restricted else [(low, high)]
        if self.mask is not None:
            windows = intersect(windows, self._mask_days(first, last))
        return windows

    def instants(self, zone: ZoneInfo, low: datetime, high: datetime) -> list[Interval]:
        """Covered instants (naive UTC) within [low, high), ordered and disjoint."""
        first, last = wall_of(low, zone).date(), wall_of(high, zone).date()
        # the instant of the next midnight is after `high` unless clocks went back across midnight
        while to_instant(datetime.combine(last + ONE_DAY, MIDNIGHT), zone) < high:
            last += ONE_DAY
        covered = []
        for wall_start, wall_end in self.walls(first, last):
            start, end = max(to_instant(wall_start, zone), low), min(to_instant(wall_end, zone), high)
            if start < end:
                covered.append((start, end))
        return covered

    def _windows(self, first: date, low: datetime, high: datetime) -> list[Interval]:
        windows: list[Interval] = []
        if self.daily:
            day = datetime.combine(first - ONE_DAY, MIDNIGHT)
            while day < high:
                windows.extend((day + begin, day + end) for begin, end in self.daily)
                day += ONE_DAY
        if self.weekly:
            monday = datetime.combine(first - timedelta(days=first.weekday() + 7), MIDNIGHT)
            while monday < high:
                windows.extend((monday + begin, monday + end) for begin, end in self.weekly)
                monday += ONE_WEEK
        return union(windows, low, high)

    def _mask_days(self, first: date, last: date) -> list[Interval]:
        assert self.mask is not None
        days: list[Interval] = []
        day = first
        while day <= last:
            if self.mask.includes(day):
                start = datetime.combine(day, MIDNIGHT)
                if days and days[-1][1] == start:
                    days[-1] = (days[-1][0], start + ONE_DAY)
                else:
                    days.append((start, start + ONE_DAY))
            day += ONE_DAY
        return days


def union(intervals: Iterable[Interval], low: datetime | None = None, high: datetime | None = None) -> list[Interval]:
    """The union of `intervals` clipped to [low, high) when given, ordered, disjoint, touching ones joined."""
    joined: list[Interval] = []
    for start, end in sorted(intervals):
        start = start if low is None else max(start, low)
        end = end if high is None else min(end, high)
        if start >= end:
            continue
        if joined and start <= joined[-1][1]:
            if end > joined[-1][1]:
                joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def intersect(left: list[Interval], right: list[Interval]) -> list[Interval]:
    """The intersection of two ordered, disjoint interval lists."""
    both: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start, end = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if start < end:
            both.append((start, end))
        if left[i][1] <= right[j][1]:
            i += 1
        else:
            j += 1
    return both


def overlap(covered: list[Interval], start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) the ordered, disjoint `covered` intervals cover."""
    total = timedelta(0)
    for low, high in covered:
        if low >= end:
            break
        if high > start:
            total += min(high, end) - max(low, start)
    return total


def _offset(moment: time) -> timedelta:
    return timedelta(hours=moment.hour, minutes=moment.minute, seconds=moment.second,
                     microseconds=moment.microsecond)
