"""Invariants of final_shifts and on_call over random schedules (HOUSE_STYLE 14).

Random layers use every unit, handoffs, masks (continuous or not), daily and weekly windows, groups, roles and
fair rotation, in zones with and without DST; overrides come with and without a role.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.schedule import (
    NOBODY,
    DailyWindow,
    DateMask,
    Handoff,
    Layer,
    OnCall,
    Override,
    Restriction,
    Schedule,
    Shift,
    Slot,
    Unit,
    WeeklyWindow,
    final_shifts,
    on_call,
)

ZONES = ("America/New_York", "Europe/Berlin", "Asia/Shanghai", "Australia/Sydney")
PEOPLE = st.sampled_from(("p0", "p1", "p2", "p3", "p4", "p5"))
LIMITS = {Unit.HOUR: 12, Unit.DAY: 3, Unit.WEEK: 2, Unit.MONTH: 2}
# SCHEDULE_EXAMPLES=5000 for a long hunt; the unit tier stays fast with the default
EXAMPLES = settings(max_examples=int(os.environ.get("SCHEDULE_EXAMPLES", "60")), deadline=None)


def clock(minutes: tuple[int, ...] = (0, 15, 30, 45)) -> st.SearchStrategy[time]:
    return st.builds(time, st.integers(0, 23), st.sampled_from(minutes))


SLOTS = st.one_of(
    PEOPLE.map(lambda person: Slot(users=(person,))),
    st.lists(PEOPLE, min_size=2, max_size=3, unique=True).map(lambda group: Slot(users=tuple(group))),
    st.tuples(PEOPLE, PEOPLE).map(lambda pair: Slot(roles={"primary": pair[0], "backup": pair[1]})),
)


@st.composite
def restrictions(draw: st.DrawFn, weekly: bool, minutes: tuple[int, ...]) -> Restriction | None:
    kind = draw(st.sampled_from(("none", "daily", "weekly") if weekly else ("none", "daily")))
    if kind == "daily":
        return Restriction(daily=tuple(draw(st.lists(st.builds(DailyWindow, clock(minutes), clock(minutes)),
                                                      min_size=1, max_size=2))))
    if kind == "weekly":
        window = st.builds(WeeklyWindow, st.integers(0, 6), clock(minutes), st.integers(0, 6), clock(minutes))
        return Restriction(weekly=tuple(draw(st.lists(window, min_size=1, max_size=2))))
    return None


@st.composite
def layers(draw: st.DrawFn, name: str, units: tuple[Unit, ...] = tuple(Unit),
           minutes: tuple[int, ...] = (0, 15, 30, 45), whole: bool = False) -> Layer:
    """A random layer starting in the first two months of 2026; `whole` leaves out masks and restrictions."""
    unit = draw(st.sampled_from(units))
    start = datetime.combine(draw(st.dates(date(2026, 1, 1), date(2026, 3, 1))), draw(clock(minutes)))
    handoff = Handoff(draw(st.integers(0, 6)), draw(clock(minutes))) if unit is Unit.WEEK and draw(
        st.booleans()) else None
    end = start + timedelta(hours=draw(st.integers(1, 24 * 120))) if draw(st.booleans()) else None
    mask = None if whole or draw(st.booleans()) else DateMask(frozenset(draw(st.sets(st.integers(0, 6), min_size=1))))
    return Layer(name=name, slots=tuple(draw(st.lists(SLOTS, min_size=1, max_size=4))), start=start,
                 every=draw(st.integers(1, LIMITS[unit])), unit=unit, handoff=handoff, end=end, date_mask=mask,
                 continuous=mask is not None and draw(st.booleans()), fair=draw(st.booleans()),
                 restriction=None if whole else draw(restrictions(weekly=mask is None, minutes=minutes)))


@st.composite
def windows(draw: st.DrawFn, zone: str) -> tuple[datetime, datetime]:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * draw(st.integers(0, 4 * 24 * 120)))
    return start.astimezone(ZoneInfo(zone)), start + timedelta(minutes=15 * draw(st.integers(1, 4 * 24 * 14)))


@st.composite
def schedules(draw: st.DrawFn, overrides: bool = True) -> tuple[Schedule, datetime, datetime]:
    """A schedule of 1–3 layers and up to 3 overrides, with a query window of up to two weeks."""
    zone = draw(st.sampled_from(ZONES))
    start, end = draw(windows(zone))
    found = tuple(draw(layers(f"L{index}")) for index in range(draw(st.integers(1, 3))))
    covers = []
    for _ in range(draw(st.integers(0, 3)) if overrides else 0):
        # local wall times, as a person types them: some are repeated or skipped by DST changes
        begin = start.replace(tzinfo=None) + timedelta(minutes=15 * draw(st.integers(-4 * 24, 4 * 24 * 14)))
        finish = begin + timedelta(minutes=draw(st.integers(1, 3 * 24 * 60)))
        covers.append(Override(begin.replace(tzinfo=ZoneInfo(zone)), finish.replace(tzinfo=ZoneInfo(zone)),
                               draw(PEOPLE), draw(st.sampled_from((None, "primary")))))
    return Schedule("s", "S", zone, found, tuple(covers)), start, end


def inside(start: datetime, end: datetime, fraction: float) -> datetime:
    """An instant in [start, end), worked out in UTC (aware arithmetic within one zone is wall-clock arithmetic,
    and timedelta * float rounds, so it could land on `end`)."""
    length = (end.astimezone(UTC) - start.astimezone(UTC)) // timedelta(microseconds=1)
    return start.astimezone(UTC) + timedelta(microseconds=min(int(length * fraction), length - 1))


def as_on_call(shift: Shift | None) -> OnCall:
    return NOBODY if shift is None else OnCall(shift.users, dict(shift.roles), shift.source)


def utc(moment: datetime) -> datetime:
    """Aware datetimes compare by wall time within one zone, and == is False inside a fold across zones."""
    return moment.astimezone(UTC)


def exact(shift: Shift) -> tuple[object, ...]:
    return utc(shift.start), utc(shift.end), shift.users, dict(shift.roles), shift.source


def covering(shifts: list[Shift], instant: datetime) -> Shift | None:
    return next((shift for shift in shifts if utc(shift.start) <= utc(instant) < utc(shift.end)), None)


@EXAMPLES
@given(schedules())
def test_shifts_are_ordered_clipped_and_never_overlap(drawn: tuple[Schedule, datetime, datetime]) -> None:
    schedule, start, end = drawn
    shifts = final_shifts(schedule, start, end)
    for shift in shifts:
        assert utc(start) <= utc(shift.start) < utc(shift.end) <= utc(end)
        assert shift.users == tuple(sorted(set(shift.users))) and shift.users
        assert shift.start.utcoffset() == shift.start.astimezone(ZoneInfo(schedule.timezone)).utcoffset()
    for before, after in zip(shifts, shifts[1:], strict=False):
        assert utc(before.end) <= utc(after.start)
        same = (before.users, dict(before.roles), before.source) == (after.users, dict(after.roles), after.source)
        assert not (utc(before.end) == utc(after.start) and same), f"unmerged neighbours {before} {after}"


@EXAMPLES
@given(schedules(), st.lists(st.floats(0, 1, exclude_max=True), max_size=8))
def test_on_call_agrees_with_shifts(drawn: tuple[Schedule, datetime, datetime], fractions: list[float]) -> None:
    schedule, start, end = drawn
    shifts = final_shifts(schedule, start, end)
    instants = [inside(start, end, fraction) for fraction in fractions]
    for shift in shifts:
        instants += [shift.start, shift.end - timedelta(microseconds=1), shift.end]
    for instant in instants:
        if utc(instant) < utc(end):
            expected = as_on_call(covering(shifts, instant))
            # the same object answers from its day tables; a fresh copy's first answer is worked out directly
            assert on_call(schedule, instant) == expected, instant
            assert on_call(replace(schedule), instant) == expected, instant


@EXAMPLES
@given(schedules(), st.floats(0, 1, exclude_max=True))
def test_an_override_always_wins_in_its_window(drawn: tuple[Schedule, datetime, datetime], where: float) -> None:
    schedule, start, end = drawn
    shifts = final_shifts(schedule, start, end)
    for index, override in enumerate(schedule.overrides):
        if utc(override.end) <= utc(override.start):  # skipped wall times can put a short override's end first
            continue
        instant = inside(override.start, override.end, where)
        if any(later.start.astimezone(UTC) <= instant < later.end.astimezone(UTC)
               for later in schedule.overrides[index + 1:]):
            continue  # a later override wins there
        result = on_call(schedule, instant)
        assert result.source == "override"
        assert result.for_role(override.role) == (override.user,)
        if utc(start) <= instant < utc(end):
            assert as_on_call(covering(shifts, instant)) == result


@EXAMPLES
@given(st.sampled_from(ZONES).flatmap(lambda zone: st.tuples(st.just(zone), layers("Whole", whole=True),
                                                             windows(zone))))
def test_a_layer_without_mask_or_restriction_leaves_no_gap(drawn: tuple[str, Layer, tuple[datetime, datetime]]) -> None:
    zone, layer, (start, end) = drawn
    tz = ZoneInfo(zone)
    first = max(utc(start), utc(layer.start.replace(tzinfo=tz)))
    last = min(utc(end), utc(layer.end.replace(tzinfo=tz))) if layer.end else utc(end)
    shifts = final_shifts(Schedule("s", "S", zone, (layer,)), start, end)
    if first >= last:
        assert shifts == []
        return
    assert utc(shifts[0].start) == first and utc(shifts[-1].end) == last
    assert all(utc(before.end) == utc(after.start) for before, after in zip(shifts, shifts[1:], strict=False))


@EXAMPLES
@given(schedules(), st.floats(0, 1))
def test_a_window_split_in_two_gives_the_same_shifts(drawn: tuple[Schedule, datetime, datetime], where: float) -> None:
    schedule, start, end = drawn
    middle = utc(start) + (end - start) * where
    joined = final_shifts(schedule, start, middle) + final_shifts(schedule, middle, end)
    merged: list[Shift] = []
    for shift in joined:
        previous = merged[-1] if merged else None
        if previous is not None and utc(previous.end) == utc(shift.start) and (previous.users, dict(previous.roles),
                                                                     previous.source) == (
                shift.users, dict(shift.roles), shift.source):
            merged[-1] = Shift(previous.start, shift.end, shift.users, shift.roles, shift.source)
        else:
            merged.append(shift)
    assert [exact(shift) for shift in merged] == [exact(shift) for shift in final_shifts(schedule, start, end)]


SHANGHAI = ZoneInfo("Asia/Shanghai")  # no DST since 1991: wall time is UTC+8, and hours are wall hours


def oracle(layer: Layer, moment: datetime) -> tuple[str, ...]:
    """Who of `layer` is on call at `moment`, worked out from issue 3's words one cycle at a time.

    For layers on whole hours: whether a cycle puts someone on call is seen by looking at each of its hours.
    """
    wall = moment.astimezone(SHANGHAI).replace(tzinfo=None)
    if wall < layer.start or (layer.end is not None and wall >= layer.end):
        return ()
    turns, cycle = 0, 0
    while (bounds := cycle_bounds(layer, cycle))[1] <= wall:
        begin, finish = bounds
        hours = ((finish - begin) // timedelta(hours=1))
        if picked(layer, begin) and any(covered(layer, begin + timedelta(hours=h)) for h in range(hours)):
            turns += 1
        cycle += 1
    if not (picked(layer, bounds[0]) and covered(layer, wall)):
        return ()
    count = len(layer.slots)
    index = (turns % count + turns // count) % count if layer.fair else turns % count
    return tuple(sorted(layer.slots[index].people()))


def cycle_bounds(layer: Layer, cycle: int) -> tuple[datetime, datetime]:
    period = timedelta(hours=layer.every) if layer.unit is Unit.HOUR else timedelta(
        days=layer.every * (7 if layer.unit is Unit.WEEK else 1))
    starts = [layer.start]
    if layer.handoff is not None:
        handoff = datetime.combine(layer.start.date(), layer.handoff.at)
        while handoff.weekday() != layer.handoff.weekday or handoff < layer.start:
            handoff += timedelta(days=1)
        if handoff > layer.start:
            starts.append(handoff)
    while len(starts) <= cycle + 1:
        starts.append(starts[-1] + period)
    return starts[cycle], starts[cycle + 1]


def picked(layer: Layer, begin: datetime) -> bool:
    return not layer.continuous or layer.date_mask is None or layer.date_mask.includes(begin.date())


def covered(layer: Layer, wall: datetime) -> bool:
    if layer.date_mask is not None and not layer.continuous and not layer.date_mask.includes(wall.date()):
        return False
    if layer.restriction is None:
        return True
    minute = wall.hour * 60 + wall.minute
    for daily in layer.restriction.daily:
        start, end = daily.start.hour * 60 + daily.start.minute, daily.end.hour * 60 + daily.end.minute
        if (start <= minute < end) if start < end else (minute >= start or minute < end):
            return True
    week_minute = wall.weekday() * 1440 + minute
    for weekly in layer.restriction.weekly:
        start = weekly.start_day * 1440 + weekly.start.hour * 60 + weekly.start.minute
        end = weekly.end_day * 1440 + weekly.end.hour * 60 + weekly.end.minute
        if (week_minute - start) % 10080 < ((end - start) % 10080 or 10080):
            return True
    return False


@EXAMPLES
@given(layers("L", units=(Unit.HOUR, Unit.DAY, Unit.WEEK), minutes=(0,)),
       st.lists(st.integers(-24, 24 * 40), min_size=1, max_size=5), st.integers(0, 59))
def test_layers_agree_with_a_cycle_by_cycle_reading_of_the_rules(layer: Layer, hours: list[int], minute: int) -> None:
    schedule = Schedule("s", "S", "Asia/Shanghai", (layer,))
    for hour in hours:
        moment = layer.start.replace(tzinfo=SHANGHAI) + timedelta(hours=hour, minutes=minute)
        assert on_call(schedule, moment).users == oracle(layer, moment), moment
