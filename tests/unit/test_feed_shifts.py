"""core/feed_shifts.py: what a calendar feed shows, with the first event's true start kept as the window slides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.feed_shifts import LOOKBACK, Stretch, person_feed_stretches, schedule_feed_shifts
from core.schedule import Layer, Override, Schedule, Slot, Unit, final_shifts

UTC8 = "Asia/Shanghai"


def _schedule(*layers: Layer, overrides: tuple[Override, ...] = ()) -> Schedule:
    return Schedule(id="sre", name="SRE", timezone=UTC8, layers=layers, overrides=overrides)


def _daily(*people: str, start: datetime | None = None) -> Layer:
    return Layer(name="daily", slots=tuple(Slot(users=(person,)) for person in people),
                 start=start or datetime(2026, 1, 1, 9, 0), every=1, unit=Unit.DAY)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


NOW = utc(2026, 3, 4, 5, 6, 7)


def test_first_shift_keeps_its_true_start_the_rest_is_final_shifts() -> None:
    schedule = _schedule(_daily("alice", "bob", "carol"))
    start, end = NOW - timedelta(days=30), NOW + timedelta(days=10)
    shifts, final = schedule_feed_shifts(schedule, start, end), final_shifts(schedule, start, end)
    assert final[0].start == start
    assert shifts[0].start == utc(2026, 2, 2, 1, 0) and shifts[0].end == final[0].end  # 09:00 in Shanghai
    assert shifts[1:] == final[1:] and shifts[-1].end == end


@pytest.mark.parametrize("minutes", [0, 1, 59, 60 * 19])
def test_the_first_start_does_not_move_as_the_window_slides(minutes: int) -> None:
    schedule = _schedule(_daily("alice", "bob"))
    moved = schedule_feed_shifts(schedule, NOW + timedelta(minutes=minutes), NOW + timedelta(days=3))
    assert moved[0].start == utc(2026, 3, 4, 1, 0)


def test_a_shift_starting_exactly_at_the_window_start_is_left_alone() -> None:
    schedule = _schedule(_daily("alice", "bob"))
    shifts = schedule_feed_shifts(schedule, utc(2026, 3, 4, 1, 0), utc(2026, 3, 6, 1, 0))
    assert [(shift.start, shift.users) for shift in shifts] == [(utc(2026, 3, 4, 1, 0), ("alice",)),
                                                                (utc(2026, 3, 5, 1, 0), ("bob",))]


def test_one_person_on_call_for_years_starts_at_the_layer_start() -> None:
    schedule = _schedule(_daily("alice", start=datetime(2024, 6, 1, 9, 0)))
    shifts = schedule_feed_shifts(schedule, NOW, NOW + timedelta(days=1))
    assert [(shift.start, shift.end) for shift in shifts] == [(utc(2024, 6, 1, 1, 0), NOW + timedelta(days=1))]


def test_beyond_the_longest_look_the_window_start_stays() -> None:
    longest = LOOKBACK[-1]
    schedule = _schedule(_daily("alice", start=datetime(2000, 1, 1)))
    assert schedule_feed_shifts(schedule, NOW, NOW + timedelta(days=1))[0].start == NOW
    assert (NOW - longest).year > 2000


def test_an_override_cut_by_the_window_keeps_its_start() -> None:
    schedule = _schedule(_daily("alice"), overrides=(Override(utc(2026, 3, 4, 5, 0), utc(2026, 3, 4, 6, 0), "bob"),))
    shifts = schedule_feed_shifts(schedule, utc(2026, 3, 4, 5, 30), utc(2026, 3, 4, 7, 0))
    assert [(shift.start, shift.users, shift.source) for shift in shifts] == [
        (utc(2026, 3, 4, 5, 0), ("bob",), "override"), (utc(2026, 3, 4, 6, 0), ("alice",), "layer:daily")]


def test_no_shifts_no_events() -> None:
    schedule = _schedule(_daily("alice", start=datetime(2027, 1, 1)))
    assert schedule_feed_shifts(schedule, NOW, NOW + timedelta(days=5)) == []
    assert person_feed_stretches(schedule, "alice", NOW, NOW + timedelta(days=5)) == []


def test_person_stretches_merge_adjacent_shifts_and_skip_the_others() -> None:
    # alice, then alice with bob, then bob, then alice...: alice's first two days are one stretch
    slots = (Slot(users=("alice",)), Slot(users=("alice", "bob")), Slot(users=("bob",)))
    schedule = _schedule(Layer(name="daily", slots=slots, start=datetime(2026, 3, 1, 9, 0), every=1, unit=Unit.DAY))
    stretches = person_feed_stretches(schedule, "alice", utc(2026, 3, 1, 1, 0), utc(2026, 3, 7, 1, 0))
    assert [(stretch.start, stretch.end, len(stretch.pieces)) for stretch in stretches] == [
        (utc(2026, 3, 1, 1, 0), utc(2026, 3, 3, 1, 0), 2), (utc(2026, 3, 4, 1, 0), utc(2026, 3, 6, 1, 0), 2)]
    assert [piece.users for piece in stretches[0].pieces] == [("alice",), ("alice", "bob")]
    bob = person_feed_stretches(schedule, "bob", utc(2026, 3, 1, 1, 0), utc(2026, 3, 7, 1, 0))
    assert [(stretch.start, stretch.end) for stretch in bob] == [
        (utc(2026, 3, 2, 1, 0), utc(2026, 3, 4, 1, 0)), (utc(2026, 3, 5, 1, 0), utc(2026, 3, 7, 1, 0))]
    assert person_feed_stretches(schedule, "carol", utc(2026, 3, 1, 1, 0), utc(2026, 3, 7, 1, 0)) == []


def test_person_stretch_cut_by_the_window_keeps_its_start_and_pieces() -> None:
    slots = (Slot(users=("alice",)), Slot(users=("alice", "bob")), Slot(users=("bob",)))
    schedule = _schedule(Layer(name="daily", slots=slots, start=datetime(2026, 3, 1, 9, 0), every=1, unit=Unit.DAY))
    start = utc(2026, 3, 2, 12, 0)  # inside alice's second day
    [first, *_] = person_feed_stretches(schedule, "alice", start, utc(2026, 3, 7, 1, 0))
    assert isinstance(first, Stretch)
    assert (first.start, first.end) == (utc(2026, 3, 1, 1, 0), utc(2026, 3, 3, 1, 0))
    assert [(piece.start, piece.end, piece.users) for piece in first.pieces] == [
        (utc(2026, 3, 1, 1, 0), utc(2026, 3, 2, 1, 0), ("alice",)),
        (utc(2026, 3, 2, 1, 0), utc(2026, 3, 3, 1, 0), ("alice", "bob"))]
