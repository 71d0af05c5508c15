"""Invariants of core/schedule.py over random layers and instants (HOUSE_STYLE 14)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from core.schedule import Handoff, Layer, Override, Schedule, Slot, on_call

ZONES = ("America/New_York", "Europe/Berlin", "Asia/Shanghai", "Australia/Sydney")
YEAR = timedelta(days=365)


@st.composite
def weekly_layers(draw: st.DrawFn) -> tuple[Schedule, Layer]:
    """A 24/7 weekly layer with a handoff away from the small hours, where DST moves clocks."""
    members = draw(st.integers(min_value=1, max_value=6))
    start_day = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)))
    start = datetime.combine(start_day, time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 15, 30, 45)))))
    handoff = Handoff(weekday=draw(st.integers(0, 6)), at=time(draw(st.integers(4, 23)), draw(st.integers(0, 59))))
    layer = Layer("Week", tuple(Slot(users=(f"person-{i}",)) for i in range(members)), start=start, handoff=handoff)
    return Schedule("s", "S", draw(st.sampled_from(ZONES)), (layer,)), layer


def aware_start(schedule: Schedule, layer: Layer) -> datetime:
    return layer.start.replace(tzinfo=ZoneInfo(schedule.timezone))


def handoffs(schedule: Schedule, layer: Layer, count: int) -> list[datetime]:
    """The layer's handoff instants, worked out here from the calendar: each at the local handoff time."""
    assert layer.handoff is not None
    days_ahead = (layer.handoff.weekday - layer.start.weekday()) % 7
    first = datetime.combine(layer.start.date() + timedelta(days=days_ahead), layer.handoff.at)
    if first < layer.start:
        first += timedelta(days=7)
    zone = ZoneInfo(schedule.timezone)
    return [(first + timedelta(weeks=week)).replace(tzinfo=zone) for week in range(count)]


@given(weekly_layers(), st.floats(min_value=0, max_value=1, exclude_max=True))
def test_every_instant_of_a_year_has_exactly_one_person(drawn: tuple[Schedule, Layer], fraction: float) -> None:
    schedule, layer = drawn
    instant = aware_start(schedule, layer) + YEAR * fraction
    assert len(on_call(schedule, instant).users) == 1


@given(weekly_layers())
def test_consecutive_weeks_rotate_in_order(drawn: tuple[Schedule, Layer]) -> None:
    schedule, layer = drawn
    order = [slot.users[0] for slot in layer.slots]
    starts = handoffs(schedule, layer, 53)
    first_person = on_call(schedule, aware_start(schedule, layer)).users
    expected_first_week = 1 if starts[0] > aware_start(schedule, layer) else 0
    assert first_person == (order[0],)
    for week, handoff in enumerate(starts):
        incoming = order[(week + expected_first_week) % len(order)]
        outgoing = order[(week + expected_first_week - 1) % len(order)]
        assert on_call(schedule, handoff).users == (incoming,), f"handoff {week} at {handoff}"
        if handoff > aware_start(schedule, layer):
            assert on_call(schedule, handoff - timedelta(seconds=1)).users == (outgoing,)


@given(weekly_layers(), st.floats(0, 1, exclude_max=True), st.integers(1, 72 * 60), st.integers(min_value=0))
def test_overrides_always_win(drawn: tuple[Schedule, Layer], where: float, minutes: int, second: int) -> None:
    schedule, layer = drawn
    start = (aware_start(schedule, layer) + YEAR * where).astimezone(UTC)
    override = Override(start=start, end=start + timedelta(minutes=minutes), user="cover")
    covered = Schedule(schedule.id, schedule.name, schedule.timezone, schedule.layers, (override,))
    result = on_call(covered, start + timedelta(seconds=second % (minutes * 60)))
    assert (result.users, result.source) == (("cover",), "override")
    assert on_call(covered, override.end) == on_call(schedule, override.end)
