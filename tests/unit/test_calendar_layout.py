"""cards/calendar_layout.py: the days a view covers, shifts cut into day blocks, one person's days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards.calendar_layout import (
    PERSON_DAYS,
    VIEWS,
    day_columns,
    day_start,
    in_range,
    monday_of,
    person_days,
    source_class,
    view_anchor,
    view_days,
    view_neighbours,
    weeks,
    window,
)
from core.feed_shifts import Stretch
from core.schedule import Shift

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def shift(start: datetime, end: datetime, *users: str, source: str = "layer:weekly",
          roles: dict[str, tuple[str, ...]] | None = None) -> Shift:
    return Shift(start=start, end=end, users=users, roles=roles or {}, source=source)


@pytest.mark.parametrize(("view", "anchor", "first", "days"), [
    ("week", date(2026, 3, 4), date(2026, 3, 2), 7),          # a Wednesday: its Monday
    ("week", date(2026, 3, 2), date(2026, 3, 2), 7),          # a Monday: itself
    ("week", date(2026, 3, 8), date(2026, 3, 2), 7),          # a Sunday: the Monday before
    ("week", date(2026, 1, 1), date(2025, 12, 29), 7),        # across a new year
    ("2weeks", date(2026, 3, 4), date(2026, 3, 2), 14),
    ("month", date(2026, 3, 17), date(2026, 2, 23), 42),      # March 2026: 1st a Sunday, 31st a Tuesday
    ("month", date(2021, 2, 10), date(2021, 2, 1), 28),       # February 2021: Monday 1st to Sunday 28th
    ("month", date(2026, 2, 1), date(2026, 1, 26), 35),       # February 2026: Sunday 1st to Saturday 28th
    ("month", date(2024, 2, 29), date(2024, 1, 29), 35),      # a leap February
    ("month", date(2026, 12, 31), date(2026, 11, 30), 35),    # December: the grid ends in January
])
def test_view_days(view: str, anchor: date, first: date, days: int) -> None:
    assert view_days(view, anchor) == (first, days)
    assert first.weekday() == 0 and days % 7 == 0


@pytest.mark.parametrize(("view", "anchor", "canonical", "before", "after"), [
    ("week", date(2026, 3, 4), date(2026, 3, 2), date(2026, 2, 23), date(2026, 3, 9)),
    ("2weeks", date(2026, 3, 4), date(2026, 3, 2), date(2026, 2, 16), date(2026, 3, 16)),
    ("month", date(2026, 3, 31), date(2026, 3, 1), date(2026, 2, 1), date(2026, 4, 1)),
    ("month", date(2026, 1, 15), date(2026, 1, 1), date(2025, 12, 1), date(2026, 2, 1)),
    ("month", date(2026, 12, 15), date(2026, 12, 1), date(2026, 11, 1), date(2027, 1, 1)),
])
def test_anchors_and_neighbours(view: str, anchor: date, canonical: date, before: date, after: date) -> None:
    assert view_anchor(view, anchor) == canonical
    assert view_neighbours(view, anchor) == (before, after)


def test_unknown_view_and_the_lists() -> None:
    with pytest.raises(ValueError, match="unknown view"):
        view_days("year", date(2026, 3, 4))
    assert VIEWS == ("week", "2weeks", "month") and PERSON_DAYS == (1, 4, 7, 14, 30)
    assert monday_of(date(2026, 3, 8)) == date(2026, 3, 2)
    assert in_range(date(1971, 1, 1)) and in_range(date(2200, 12, 31))
    assert not in_range(date(1970, 12, 31)) and not in_range(date(2201, 1, 1))


@pytest.mark.parametrize(("zone", "day", "hours"), [
    (SHANGHAI, date(2026, 3, 8), 24),
    (NEW_YORK, date(2026, 3, 8), 23),   # spring forward
    (NEW_YORK, date(2026, 11, 1), 25),  # fall back
    (BERLIN, date(2026, 3, 29), 23),
    (BERLIN, date(2026, 10, 25), 25),
])
def test_a_day_runs_from_local_midnight_to_local_midnight(zone: ZoneInfo, day: date, hours: int) -> None:
    start, end = window(day, 1, zone)
    assert start == local(zone, day.year, day.month, day.day) and start.tzinfo is UTC
    assert end - start == timedelta(hours=hours)


def test_a_skipped_midnight_starts_the_day_when_the_clocks_jump() -> None:
    santiago = ZoneInfo("America/Santiago")  # clocks go from 00:00 to 01:00 on 6 September 2026
    assert day_start(date(2026, 9, 6), santiago) == local(santiago, 2026, 9, 6, 1).astimezone(UTC)


def test_a_shift_over_several_days_is_cut_at_each_midnight() -> None:
    shifts = [shift(local(SHANGHAI, 2026, 3, 1, 10), local(SHANGHAI, 2026, 3, 3, 6), "alice"),
              shift(local(SHANGHAI, 2026, 3, 3, 6), local(SHANGHAI, 2026, 3, 3, 18), "bob", source="override")]
    columns = day_columns(shifts, date(2026, 3, 2), 3, SHANGHAI)
    assert [column.day for column in columns] == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    monday, tuesday, wednesday = (column.blocks for column in columns)
    assert [(block.index, block.top, block.height, block.from_before, block.to_after) for block in monday] == [
        (0, 0.0, 100.0, True, True)]
    assert [(block.index, block.top, block.height, block.from_before, block.to_after) for block in tuesday] == [
        (0, 0.0, 25.0, True, False), (1, 25.0, 50.0, False, False)]
    assert wednesday == ()
    assert tuesday[1].start == local(SHANGHAI, 2026, 3, 3, 6) and tuesday[1].end == local(SHANGHAI, 2026, 3, 3, 18)
    assert tuesday[1].start.tzinfo == SHANGHAI and tuesday[1].shift is shifts[1]


def test_a_shift_ending_at_midnight_leaves_the_next_day_alone() -> None:
    shifts = [shift(local(SHANGHAI, 2026, 3, 2, 18), local(SHANGHAI, 2026, 3, 3), "alice")]
    monday, tuesday = day_columns(shifts, date(2026, 3, 2), 2, SHANGHAI)
    assert [(block.top, block.height, block.to_after) for block in monday.blocks] == [(75.0, 25.0, False)]
    assert tuesday.blocks == ()


def test_shifts_in_another_zone_are_placed_by_instant() -> None:
    # 02:00–10:00 UTC is 10:00–18:00 in Shanghai
    shifts = [shift(datetime(2026, 3, 2, 2, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC), "alice")]
    [monday] = day_columns(shifts, date(2026, 3, 2), 1, SHANGHAI)
    assert [(block.top, round(block.height, 2)) for block in monday.blocks] == [(41.6667, 33.33)]
    assert monday.blocks[0].start == local(SHANGHAI, 2026, 3, 2, 10)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(("zone", "day", "start", "end", "top", "height"), [
    # spring forward: 00:00–03:00 on the wall is two real hours of a 23-hour day
    (NEW_YORK, date(2026, 3, 8), utc(2026, 3, 8, 5), utc(2026, 3, 8, 7), 0.0, 8.6957),
    (NEW_YORK, date(2026, 3, 8), utc(2026, 3, 8, 7), utc(2026, 3, 8, 8), 8.6957, 4.3478),
    # fall back: 00:00–03:00 on the wall is four real hours of a 25-hour day
    (NEW_YORK, date(2026, 11, 1), utc(2026, 11, 1, 4), utc(2026, 11, 1, 8), 0.0, 16.0),
    (BERLIN, date(2026, 10, 25), utc(2026, 10, 25, 11), utc(2026, 10, 25, 23), 52.0, 48.0),
])
def test_blocks_follow_real_time_across_dst(zone: ZoneInfo, day: date, start: datetime, end: datetime,
                                           top: float, height: float) -> None:
    # given in the zone: the layout must not subtract two times of one zone by their wall clocks
    [column] = day_columns([shift(start.astimezone(zone), end.astimezone(zone), "alice")], day, 1, zone)
    [block] = column.blocks
    assert (block.top, block.height) == (top, height)


def test_weeks_are_rows_of_seven() -> None:
    columns = day_columns([], date(2026, 2, 23), 42, SHANGHAI)
    rows = weeks(columns)
    assert [len(row) for row in rows] == [7] * 6
    assert [row[0].day for row in rows] == [date(2026, 2, 23) + timedelta(days=7 * n) for n in range(6)]


@pytest.mark.parametrize(("source", "expected"), [
    ("layer:weekly", "src-0"), ("layer:office", "src-1"), ("layer:l8", "src-0"), ("override", "src-override"),
    ("layer:gone", "src-override"),
])
def test_source_class(source: str, expected: str) -> None:
    layers = ["weekly", "office", "l2", "l3", "l4", "l5", "l6", "l7", "l8"]
    assert source_class(source, layers) == expected


def _stretch(*pieces: Shift) -> Stretch:
    return Stretch(pieces[0].start, pieces[-1].end, pieces)


def test_person_days_join_pieces_and_say_who_else_is_on() -> None:
    sre = _stretch(shift(local(SHANGHAI, 2026, 3, 1, 10), local(SHANGHAI, 2026, 3, 2, 9), "alice"),
                   shift(local(SHANGHAI, 2026, 3, 2, 9), local(SHANGHAI, 2026, 3, 2, 18), "alice", "carol",
                         roles={"primary": ("alice",), "backup": ("carol",)}),
                   shift(local(SHANGHAI, 2026, 3, 2, 18), local(SHANGHAI, 2026, 3, 3, 2), "alice",
                         source="override"))
    dba = _stretch(shift(local(SHANGHAI, 2026, 3, 2, 9), local(SHANGHAI, 2026, 3, 2, 10), "bob", "alice",
                         source="layer:pairs"))
    listed = person_days({"dba": [dba], "sre": [sre]}, "alice", date(2026, 3, 2), 3, SHANGHAI, order=["sre", "dba"])
    assert [day for day, _ in listed] == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    monday, tuesday, wednesday = (duties for _, duties in listed)
    assert [duty.schedule_id for duty in monday] == ["sre", "dba"]  # by start: sre's runs from the day before
    first, second = monday
    assert (first.start, first.end) == (local(SHANGHAI, 2026, 3, 2), local(SHANGHAI, 2026, 3, 3))
    assert first.from_before and first.to_after and first.stretch is sre
    assert first.others == ("carol",) and first.roles == ("primary",)
    assert first.sources == ("layer:weekly", "override")
    assert (second.start, second.end, second.others, second.from_before) == (
        local(SHANGHAI, 2026, 3, 2, 9), local(SHANGHAI, 2026, 3, 2, 10), ("bob",), False)
    [early] = tuesday
    assert (early.start, early.end, early.others, early.sources) == (
        local(SHANGHAI, 2026, 3, 3), local(SHANGHAI, 2026, 3, 3, 2), (), ("override",))
    assert early.from_before and not early.to_after
    assert wednesday == []


def test_person_days_order_ties_by_the_schedule_order() -> None:
    piece = shift(local(SHANGHAI, 2026, 3, 2, 9), local(SHANGHAI, 2026, 3, 2, 10), "alice")
    listed = person_days({"b": [_stretch(piece)], "a": [_stretch(piece)], "c": [_stretch(piece)]}, "alice",
                         date(2026, 3, 2), 1, SHANGHAI, order=["c", "b"])
    assert [duty.schedule_id for duty in listed[0][1]] == ["c", "b", "a"]


@st.composite
def _timelines(draw: st.DrawFn) -> list[Shift]:
    """Ordered, non-overlapping shifts (gaps allowed) over about ten days around a New York DST change."""
    moment = datetime(2026, 10, 28, tzinfo=UTC)
    shifts = []
    for _ in range(draw(st.integers(0, 12))):
        moment += timedelta(minutes=draw(st.integers(0, 3000)))
        length = timedelta(minutes=draw(st.integers(1, 4000)))
        shifts.append(shift(moment.astimezone(NEW_YORK), (moment + length).astimezone(NEW_YORK), "alice"))
        moment += length
    return shifts


@given(_timelines())
def test_blocks_add_up_to_the_shifts_and_never_overlap(shifts: list[Shift]) -> None:
    first, days = date(2026, 10, 29), 7
    low, high = window(first, days, NEW_YORK)
    columns = day_columns(shifts, first, days, NEW_YORK)
    covered: dict[int, timedelta] = {}
    for column in columns:
        day_low, day_high = window(column.day, 1, NEW_YORK)
        bottom = 0.0
        for block in column.blocks:
            assert block.top >= bottom - 1e-3 and block.height > 0 and block.top + block.height <= 100 + 1e-3
            assert day_low <= block.start.astimezone(UTC) < block.end.astimezone(UTC) <= day_high
            bottom = block.top + block.height
            elapsed = block.end.astimezone(UTC) - block.start.astimezone(UTC)  # not by the wall clock
            covered[block.index] = covered.get(block.index, timedelta()) + elapsed
    for index, item in enumerate(shifts):
        inside = min(item.end.astimezone(UTC), high) - max(item.start.astimezone(UTC), low)
        assert covered.get(index, timedelta()) == max(inside, timedelta())
