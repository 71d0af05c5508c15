"""Where shifts go on a calendar page: the days a view covers, shifts cut into day blocks, a person's days.

Pure functions over values, time passed in. Days are calendar days in one zone, from local midnight to the next
local midnight, so a day can last 23 or 25 hours across a DST change (and a midnight the clocks skip starts
the day when they jump, as in `core.localtime`). A block's `top` and `height` are percentages of its day's real
length: blocks of one column never overlap because final shifts never do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.feed_shifts import Stretch
from core.localtime import MIDNIGHT, to_instant
from core.schedule import Shift

VIEWS = ("week", "2weeks", "month")
PERSON_DAYS = (1, 4, 7, 14, 30)
SOURCE_COLOURS = 8  # layers cycle through this many colour classes: src-0 … src-7
FIRST_YEAR, LAST_YEAR = 1971, 2200  # the range the schedule API accepts; whole views must fit inside it


@dataclass(frozen=True)
class Block:
    """The part of one shift that falls on one day; `index` is the shift's position in the list laid out."""

    index: int
    shift: Shift
    start: datetime  # aware, in the zone laid out in
    end: datetime
    top: float  # percent of the day before the block starts
    height: float  # percent of the day the block lasts
    from_before: bool  # the shift began on an earlier day
    to_after: bool  # the shift goes on into the next day


@dataclass(frozen=True)
class Day:
    day: date
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Duty:
    """One person's time on call in one schedule on one day: adjacent shifts joined whoever else is on."""

    schedule_id: str
    start: datetime  # aware, in the zone laid out in; cut to the day
    end: datetime
    stretch: Stretch  # the whole unbroken stretch the duty belongs to
    others: tuple[str, ...]  # the other people on call at some point of the duty, in order of appearance
    roles: tuple[str, ...]  # the roles the person holds in it, sorted
    sources: tuple[str, ...]  # "layer:<name>" / "override", in order of appearance
    from_before: bool
    to_after: bool


def monday_of(day: date) -> date:
    """The Monday of the ISO week `day` is in."""
    return day - timedelta(days=day.weekday())


def in_range(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def view_days(view: str, anchor: date) -> tuple[date, int]:
    """The first day and number of days `view` shows around `anchor`: its week, two weeks from its week's
    Monday, or whole weeks (Monday to Sunday) covering its month."""
    if view == "week":
        return monday_of(anchor), 7
    if view == "2weeks":
        return monday_of(anchor), 14
    if view != "month":
        raise ValueError(f"unknown view {view!r}; use one of {', '.join(VIEWS)}")
    first = anchor.replace(day=1)
    last = _add_months(first, 1) - timedelta(days=1)
    start = monday_of(first)
    return start, (monday_of(last) + timedelta(days=7) - start).days


def view_anchor(view: str, anchor: date) -> date:
    """The canonical start of the period `anchor` is in: its Monday, or the 1st of its month."""
    return anchor.replace(day=1) if view == "month" else monday_of(anchor)


def view_neighbours(view: str, anchor: date) -> tuple[date, date]:
    """The anchors of the periods before and after the one `anchor` is in."""
    start = view_anchor(view, anchor)
    if view == "month":
        return _add_months(start, -1), _add_months(start, 1)
    step = timedelta(days=14 if view == "2weeks" else 7)
    return start - step, start + step


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant (aware, UTC) `day` begins in `zone`."""
    return to_instant(datetime.combine(day, MIDNIGHT), zone).replace(tzinfo=UTC)


def window(first_day: date, days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of `days` whole local days from `first_day`, as aware UTC instants."""
    return day_start(first_day, zone), day_start(first_day + timedelta(days=days), zone)


def day_columns(shifts: Sequence[Shift], first_day: date, days: int, zone: ZoneInfo) -> list[Day]:
    """`days` days from `first_day`, each with the blocks of the (ordered, non-overlapping) shifts on it."""
    columns = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        low, high = day_start(day, zone), day_start(day + timedelta(days=1), zone)
        length = high - low
        blocks = []
        for index, shift in enumerate(shifts):
            # in UTC: Python subtracts two datetimes of one zone by wall time, which is wrong across DST
            start, end = max(shift.start.astimezone(UTC), low), min(shift.end.astimezone(UTC), high)
            if start >= end:
                continue
            blocks.append(Block(index, shift, start.astimezone(zone), end.astimezone(zone),
                                top=_percent(start - low, length), height=_percent(end - start, length),
                                from_before=shift.start < low, to_after=shift.end > high))
        columns.append(Day(day, tuple(blocks)))
    return columns


def weeks(days: Sequence[Day]) -> list[list[Day]]:
    """Days in rows of seven (a month grid)."""
    return [list(days[row:row + 7]) for row in range(0, len(days), 7)]


def person_days(stretches: Mapping[str, Sequence[Stretch]], user: str, first_day: date, days: int,
                zone: ZoneInfo, order: Sequence[str] = ()) -> list[tuple[date, list[Duty]]]:
    """`user`'s duties day by day; `stretches` maps schedule id → that person's stretches (ordered). Duties
    of one day are ordered by start, then by the schedule's place in `order` (then its id)."""
    rank = {schedule_id: place for place, schedule_id in enumerate(order)}
    listed = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        low, high = day_start(day, zone), day_start(day + timedelta(days=1), zone)
        duties = [_duty(schedule_id, stretch, user, low, high, zone)
                  for schedule_id, items in stretches.items() for stretch in items
                  if stretch.start < high and stretch.end > low]
        duties.sort(key=lambda duty: (duty.start.astimezone(UTC), rank.get(duty.schedule_id, len(rank)),
                                      duty.schedule_id))
        listed.append((day, duties))
    return listed


def source_class(source: str, layer_names: Sequence[str]) -> str:
    """The colour class of a shift's source: one per layer in its place in the schedule, one for overrides."""
    name = source.removeprefix("layer:")
    if source == "override" or name not in layer_names:
        return "src-override"
    return f"src-{list(layer_names).index(name) % SOURCE_COLOURS}"


def _duty(schedule_id: str, stretch: Stretch, user: str, low: datetime, high: datetime, zone: ZoneInfo) -> Duty:
    pieces = [piece for piece in stretch.pieces if piece.start < high and piece.end > low]
    others = dict.fromkeys(person for piece in pieces for person in piece.users if person != user)
    roles = sorted({role for piece in pieces for role, holders in piece.roles.items() if user in holders})
    return Duty(schedule_id, max(stretch.start, low).astimezone(zone), min(stretch.end, high).astimezone(zone),
                stretch, tuple(others), tuple(roles), tuple(dict.fromkeys(piece.source for piece in pieces)),
                from_before=stretch.start < low, to_after=stretch.end > high)


def _percent(part: timedelta, whole: timedelta) -> float:
    return round(100 * (part / whole), 4)


def _add_months(day: date, months: int) -> date:
    """The 1st of the month `months` after the month of `day` (a 1st)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
