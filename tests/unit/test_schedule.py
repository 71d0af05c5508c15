"""core/schedule.py as tables of (layer, instant) → who is on call (HOUSE_STYLE 14)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.schedule import (
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
    final_shifts,
    layer_shifts,
    next_change,
    on_call,
)

SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"
MONDAY_10 = Handoff(weekday=0, at=time(10, 0))


def slots(*names: str) -> tuple[Slot, ...]:
    return tuple(Slot(users=(name,)) for name in names)


def weekly(start: str, *names: str, handoff: Handoff | None = MONDAY_10, end: str | None = None,
           name: str = "Week") -> Layer:
    return Layer(name=name, slots=slots(*names), start=datetime.fromisoformat(start), handoff=handoff,
                 end=datetime.fromisoformat(end) if end else None)


def local(zone: str, text: str) -> datetime:
    """A wall time in `zone`; `fold=1` picks the second of a repeated hour."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def who(schedule: Schedule, at: datetime) -> tuple[str, ...]:
    return on_call(schedule, at).users


# 2026-01-05 is a Monday.
ABC_FROM_MONDAY = Schedule("sre", "SRE", SHANGHAI, (weekly("2026-01-05T10:00", "alice", "bob", "carol"),))


@pytest.mark.parametrize(("when", "expected"), [
    ("2026-01-05T09:59", ()),                 # before the layer starts
    ("2026-01-05T10:00", ("alice",)),
    ("2026-01-12T09:59", ("alice",)),
    ("2026-01-12T10:00", ("bob",)),           # Monday 10:00 handoff
    ("2026-01-18T23:59", ("bob",)),
    ("2026-01-19T10:00", ("carol",)),
    ("2026-01-26T09:59", ("carol",)),
    ("2026-01-26T10:00", ("alice",)),         # wraps around
    ("2026-12-01T09:59", ("carol",)),         # 47 handoffs later: 47 % 3 == 2
])
def test_weekly_rotation_with_monday_handoff(when: str, expected: tuple[str, ...]) -> None:
    assert who(ABC_FROM_MONDAY, local(SHANGHAI, when)) == expected


# Starts on a Wednesday: alice covers Wednesday until the first Monday handoff, then each person a week.
FROM_WEDNESDAY = Schedule("sre", "SRE", SHANGHAI, (weekly("2026-01-07T08:00", "alice", "bob", "carol"),))


@pytest.mark.parametrize(("when", "expected"), [
    ("2026-01-07T07:59", ()),
    ("2026-01-07T08:00", ("alice",)),
    ("2026-01-12T09:59", ("alice",)),
    ("2026-01-12T10:00", ("bob",)),
    ("2026-01-19T10:00", ("carol",)),
    ("2026-01-26T10:00", ("alice",)),
])
def test_layer_starting_before_the_first_handoff(when: str, expected: tuple[str, ...]) -> None:
    assert who(FROM_WEDNESDAY, local(SHANGHAI, when)) == expected


def test_first_shift_can_be_shorter_than_an_hour() -> None:
    schedule = Schedule("s", "S", SHANGHAI, (weekly("2026-01-05T09:00", "alice", "bob"),))
    assert who(schedule, local(SHANGHAI, "2026-01-05T09:30")) == ("alice",)
    assert who(schedule, local(SHANGHAI, "2026-01-05T10:00")) == ("bob",)


@pytest.mark.parametrize(("zone", "start", "after_change"), [
    # New York: clocks go forward 2026-03-08 and back 2026-11-01
    (NEW_YORK, "2026-03-02T10:00", "2026-03-09"),
    (NEW_YORK, "2026-10-26T10:00", "2026-11-02"),
    # Berlin: forward 2026-03-29, back 2026-10-25
    ("Europe/Berlin", "2026-03-23T10:00", "2026-03-30"),
    ("Europe/Berlin", "2026-10-19T10:00", "2026-10-26"),
])
def test_handoff_stays_at_ten_local_across_dst(zone: str, start: str, after_change: str) -> None:
    schedule = Schedule("s", "S", zone, (weekly(start, "alice", "bob"),))
    assert who(schedule, local(zone, f"{after_change}T09:59")) == ("alice",)
    assert who(schedule, local(zone, f"{after_change}T10:00")) == ("bob",)


@pytest.mark.parametrize(("utc", "expected"), [
    ("2026-03-09T13:59", ("alice",)),   # 09:59 EDT
    ("2026-03-09T14:00", ("bob",)),     # 10:00 EDT, one hour earlier in UTC than the week before
    ("2026-11-02T14:59", ("bob",)),     # 09:59 EST: 34 handoffs since March 2
    ("2026-11-02T15:00", ("carol",)),   # 10:00 EST
])
def test_new_york_handoff_in_utc(utc: str, expected: tuple[str, ...]) -> None:
    schedule = Schedule("s", "S", NEW_YORK, (weekly("2026-03-02T10:00", "alice", "bob", "carol"),))
    assert who(schedule, datetime.fromisoformat(utc).replace(tzinfo=UTC)) == expected


def test_daily_rotation_keeps_local_time_on_a_23_hour_day() -> None:
    layer = Layer("Day", slots("alice", "bob"), start=datetime(2026, 3, 7, 9, 0), unit=Unit.DAY)
    schedule = Schedule("s", "S", NEW_YORK, (layer,))
    assert who(schedule, local(NEW_YORK, "2026-03-08T08:59")) == ("alice",)
    assert who(schedule, local(NEW_YORK, "2026-03-08T09:00")) == ("bob",)
    assert who(schedule, local(NEW_YORK, "2026-03-09T09:00")) == ("alice",)


@pytest.mark.parametrize(("start", "when", "fold", "expected"), [
    # spring forward: 00:00 EST, 01:00 EST, then 03:00 EDT is only the second hour
    ("2026-03-08T00:00", "2026-03-08T01:30", 0, ("bob",)),
    ("2026-03-08T00:00", "2026-03-08T03:30", 0, ("carol",)),
    ("2026-03-08T00:00", "2026-03-08T04:30", 0, ("alice",)),
    # fall back: 01:00 happens twice, and each of them is a real hour with its own person
    ("2026-11-01T00:00", "2026-11-01T01:30", 0, ("bob",)),
    ("2026-11-01T00:00", "2026-11-01T01:30", 1, ("carol",)),
    ("2026-11-01T00:00", "2026-11-01T02:30", 0, ("alice",)),
])
def test_hourly_rotation_counts_real_hours(start: str, when: str, fold: int, expected: tuple[str, ...]) -> None:
    layer = Layer("Hourly", slots("alice", "bob", "carol"), start=datetime.fromisoformat(start), unit=Unit.HOUR)
    schedule = Schedule("s", "S", NEW_YORK, (layer,))
    assert who(schedule, local(NEW_YORK, when).replace(fold=fold)) == expected


def test_rotation_every_eight_hours() -> None:
    layer = Layer("8h", slots("alice", "bob", "carol"), start=datetime(2026, 1, 5, 0, 0), every=8, unit=Unit.HOUR)
    schedule = Schedule("s", "S", SHANGHAI, (layer,))
    assert [who(schedule, local(SHANGHAI, f"2026-01-05T{hour:02}:00"))[0] for hour in (0, 7, 8, 16, 23)] == [
        "alice", "alice", "bob", "carol", "carol"]
    assert who(schedule, local(SHANGHAI, "2026-01-06T00:00")) == ("alice",)


@pytest.mark.parametrize(("start", "every", "when", "expected"), [
    ("2026-01-31T09:00", 1, "2026-02-28T08:59", ("alice",)),
    ("2026-01-31T09:00", 1, "2026-02-28T09:00", ("bob",)),      # clamped to the end of February
    ("2026-01-31T09:00", 1, "2026-03-30T09:00", ("bob",)),      # not the 28th again
    ("2026-01-31T09:00", 1, "2026-03-31T09:00", ("carol",)),
    ("2026-01-31T09:00", 1, "2026-04-30T09:00", ("alice",)),
    ("2026-01-31T09:00", 1, "2026-05-30T09:00", ("alice",)),
    ("2026-01-31T09:00", 1, "2026-05-31T09:00", ("bob",)),
    ("2028-01-31T09:00", 1, "2028-02-28T09:00", ("alice",)),    # leap year: the 29th
    ("2028-01-31T09:00", 1, "2028-02-29T09:00", ("bob",)),
    ("2026-01-31T09:00", 2, "2026-02-28T09:00", ("alice",)),
    ("2026-01-31T09:00", 2, "2026-03-31T09:00", ("bob",)),
])
def test_monthly_rotation_clamps_to_month_end(start: str, every: int, when: str,
                                              expected: tuple[str, ...]) -> None:
    layer = Layer("Month", slots("alice", "bob", "carol"), start=datetime.fromisoformat(start), every=every,
                  unit=Unit.MONTH)
    assert who(Schedule("s", "S", SHANGHAI, (layer,)), local(SHANGHAI, when)) == expected


@pytest.mark.parametrize(("when", "expected"), [
    ("2026-01-19T09:59", ("bob",)),
    ("2026-01-19T10:00", ()),       # the end is exclusive
    ("2026-06-01T12:00", ()),
])
def test_layer_end(when: str, expected: tuple[str, ...]) -> None:
    layer = weekly("2026-01-05T10:00", "alice", "bob", end="2026-01-19T10:00")
    assert who(Schedule("s", "S", SHANGHAI, (layer,)), local(SHANGHAI, when)) == expected


BASE = weekly("2026-01-05T10:00", "alice", "bob", "carol", name="Week")
NIGHTS = Layer("Nights", slots("night-owl"), start=datetime(2026, 1, 13, 20, 0), end=datetime(2026, 1, 14, 8, 0),
               unit=Unit.DAY)
COVER = Override(start=local(SHANGHAI, "2026-01-13T00:00"), end=local(SHANGHAI, "2026-01-14T00:00"), user="dave")
LAYERED = Schedule("s", "S", SHANGHAI, (BASE, NIGHTS), overrides=(COVER,))


@pytest.mark.parametrize(("when", "users", "source"), [
    ("2026-01-12T23:59", ("bob",), "layer:Week"),
    ("2026-01-13T00:00", ("dave",), "override"),       # the override wins over both layers
    ("2026-01-13T21:00", ("dave",), "override"),
    ("2026-01-14T00:00", ("night-owl",), "layer:Nights"),  # the later layer wins where it has someone
    ("2026-01-14T07:59", ("night-owl",), "layer:Nights"),
    ("2026-01-14T08:00", ("bob",), "layer:Week"),      # and the earlier one shows again after it
])
def test_precedence_override_then_later_layer(when: str, users: tuple[str, ...], source: str) -> None:
    result = on_call(LAYERED, local(SHANGHAI, when))
    assert (result.users, result.source) == (users, source)


ROLES_LAYER = Layer("Roles", (Slot(roles={"primary": "erin", "backup": "frank"}), Slot(users=("carol", "dave"))),
                    start=datetime(2026, 1, 5, 10, 0), handoff=MONDAY_10)
ROLES = Schedule("s", "S", SHANGHAI, (ROLES_LAYER,))


def test_role_slot() -> None:
    result = on_call(ROLES, local(SHANGHAI, "2026-01-06T12:00"))
    assert result.users == ("erin", "frank")
    assert result.roles == {"primary": ("erin",), "backup": ("frank",)}
    assert result.for_role("primary") == ("erin",)
    assert result.for_role("backup") == ("frank",)
    assert result.for_role(None) == ("erin", "frank")
    assert result.for_role("tertiary") == ()


def test_slot_of_several_people_without_roles_pages_everyone_for_any_role() -> None:
    result = on_call(ROLES, local(SHANGHAI, "2026-01-13T12:00"))
    assert result.users == ("carol", "dave")
    assert result.roles == {}
    assert result.for_role("primary") == ("carol", "dave")


def test_a_person_in_two_roles_is_listed_once() -> None:
    layer = Layer("Solo", (Slot(roles={"primary": "erin", "backup": "erin"}),), start=datetime(2026, 1, 1))
    result = on_call(Schedule("s", "S", SHANGHAI, (layer,)), local(SHANGHAI, "2026-01-02T00:00"))
    assert result.users == ("erin",)
    assert result.for_role("backup") == ("erin",)


def test_override_for_a_role_replaces_only_that_role() -> None:
    override = Override(start=local(SHANGHAI, "2026-01-06T00:00"), end=local(SHANGHAI, "2026-01-07T00:00"),
                        user="dave", role="primary")
    result = on_call(Schedule("s", "S", SHANGHAI, (ROLES_LAYER,), (override,)), local(SHANGHAI, "2026-01-06T12:00"))
    # issue 3: the backup (frank) stays on call; only erin, the primary, is replaced
    assert result == OnCall(users=("dave", "frank"), roles={"primary": ("dave",), "backup": ("frank",)},
                            source="override")


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        on_call(ABC_FROM_MONDAY, datetime(2026, 1, 6, 12, 0))


def test_naive_window_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        final_shifts(ABC_FROM_MONDAY, datetime(2026, 1, 6), local(SHANGHAI, "2026-01-07T00:00"))


def shift_text(shift: Shift | None) -> str | None:
    if shift is None:
        return None
    return f"{shift.start.isoformat(timespec='minutes')} {shift.end.isoformat(timespec='minutes')} {shift.users}"


DAYTIME = Layer("Day", slots("alice", "bob"), start=datetime(2026, 1, 5), unit=Unit.DAY,
                restriction=Restriction(daily=(DailyWindow(time(9, 0), time(18, 0)),)))
MONTHLY = Layer("Month", slots("alice", "bob"), start=datetime(2026, 1, 31, 9, 0), unit=Unit.MONTH)


@pytest.mark.parametrize(("schedule", "when", "expected"), [
    # in a shift: the next one, whole (not cut at the end of the search window)
    (ABC_FROM_MONDAY, "2026-01-07T12:00", "2026-01-12T10:00+08:00 2026-01-19T10:00+08:00 ('bob',)"),
    # in a gap: the first one after it
    (Schedule("s", "S", SHANGHAI, (DAYTIME,)), "2026-01-05T20:00",
     "2026-01-06T09:00+08:00 2026-01-06T18:00+08:00 ('bob',)"),
    # a month-long next shift is found whole
    (Schedule("s", "S", SHANGHAI, (MONTHLY,)), "2026-02-20T00:00",
     "2026-02-28T09:00+08:00 2026-03-31T09:00+08:00 ('bob',)"),
    # the override is the next change, and the rotation after it
    (Schedule("s", "S", SHANGHAI, ABC_FROM_MONDAY.layers,
              (Override(local(SHANGHAI, "2026-01-08T00:00"), local(SHANGHAI, "2026-01-09T00:00"), "dave"),)),
     "2026-01-07T12:00", "2026-01-08T00:00+08:00 2026-01-09T00:00+08:00 ('dave',)"),
    # nobody ever again: the layer has ended
    (Schedule("s", "S", SHANGHAI, (weekly("2026-01-05T10:00", "alice", end="2026-01-10T00:00"),)),
     "2026-01-07T12:00", None),
    # one person forever: no change within the horizon
    (Schedule("s", "S", SHANGHAI, (weekly("2026-01-05T10:00", "alice"),)), "2026-01-07T12:00", None),
])
def test_next_change(schedule: Schedule, when: str, expected: str | None) -> None:
    assert shift_text(next_change(schedule, local(SHANGHAI, when))) == expected


def test_next_change_within_the_horizon_only() -> None:
    schedule = Schedule("s", "S", SHANGHAI, (MONTHLY,))
    assert next_change(schedule, local(SHANGHAI, "2026-02-01T00:00"), horizon=timedelta(days=20)) is None
    found = next_change(schedule, local(SHANGHAI, "2026-02-01T00:00"), horizon=timedelta(days=30))
    assert shift_text(found) == "2026-02-28T09:00+08:00 2026-03-31T09:00+08:00 ('bob',)"


def test_layer_shifts_show_one_layer_alone() -> None:
    start, end = local(SHANGHAI, "2026-01-13T00:00"), local(SHANGHAI, "2026-01-15T00:00")
    assert [(shift.start, shift.end, shift.users, shift.source) for shift in layer_shifts(BASE, SHANGHAI, start, end)] \
        == [(start, end, ("bob",), "layer:Week")]
    assert [shift.source for shift in final_shifts(LAYERED, start, end)] == ["override", "layer:Nights", "layer:Week"]


def test_a_schedule_rebuilt_from_config_gives_the_same_answer() -> None:
    mask = DateMask(weekdays=frozenset(range(5)))
    build = lambda: Schedule("s", "S", SHANGHAI, (Layer("D", slots("a", "b", "c"), start=datetime(2024, 1, 1, 9, 0),  # noqa: E731
                                                        unit=Unit.DAY, date_mask=mask),))
    answers = {on_call(build(), local(SHANGHAI, "2026-06-03T12:00")).users for _ in range(3)}
    assert len(answers) == 1


class Workdays:
    """A calendar predicate that cannot be hashed (it defines __eq__ only)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workdays)

    def __call__(self, day: date) -> bool:
        return day.weekday() < 5


def test_an_unhashable_calendar_predicate_still_works() -> None:
    layer = Layer("D", slots("a", "b"), start=datetime(2026, 1, 5), unit=Unit.DAY,
                  date_mask=DateMask(calendar=Workdays()))
    schedule = Schedule("s", "S", SHANGHAI, (layer,))
    assert who(schedule, local(SHANGHAI, "2026-01-09T12:00")) == ("a",)   # Friday: turn 4
    assert who(schedule, local(SHANGHAI, "2026-01-10T12:00")) == ()       # Saturday: masked out
    assert who(schedule, local(SHANGHAI, "2026-01-12T12:00")) == ("b",)   # Monday: turn 5, no turn taken at the weekend


def test_every_must_be_positive() -> None:
    layer = Layer("D", slots("a"), start=datetime(2026, 1, 5), every=0, unit=Unit.DAY)
    with pytest.raises(ValueError, match="every"):
        on_call(Schedule("s", "S", SHANGHAI, (layer,)), local(SHANGHAI, "2026-01-06T00:00"))


def test_a_question_centuries_after_a_restricted_hourly_start_is_refused() -> None:
    layer = Layer("Hourly", slots("a", "b"), start=datetime(2026, 1, 1), unit=Unit.HOUR,
                  restriction=Restriction(daily=(DailyWindow(time(9, 0), time(17, 0)),)))
    with pytest.raises(ValueError, match="cycles after the layer start"):
        on_call(Schedule("s", "S", SHANGHAI, (layer,)), local(SHANGHAI, "2400-01-03T12:00"))


def test_a_question_decades_after_the_start_is_answered() -> None:
    layer = Layer("Daily", slots("a", "b", "c"), start=datetime(2026, 1, 5, 9, 0), unit=Unit.DAY,
                  date_mask=DateMask(weekdays=frozenset(range(5))))
    # Monday 2076-01-06 is 2609 weeks later; 6 cycles a week take a turn (Saturday's does not)
    schedule = Schedule("s", "S", SHANGHAI, (layer,))
    assert who(schedule, local(SHANGHAI, "2076-01-06T12:00")) == (("a", "b", "c")[2609 * 6 % 3],)
    assert who(schedule, local(SHANGHAI, "2076-01-06T08:00")) == (("a", "b", "c")[(2608 * 6 + 5) % 3],)


def test_next_change_skips_a_change_of_layer_with_the_same_people() -> None:
    from datetime import datetime as moment
    from zoneinfo import ZoneInfo as Zone

    from core.schedule import DailyWindow, Layer, Restriction, Schedule, Slot, Unit, next_change

    zone = Zone("Asia/Shanghai")
    week = Layer("week", (Slot(users=("bob",)), Slot(users=("carol",))), moment(2026, 11, 23, 10), 1, Unit.WEEK)
    day = Layer("day", (Slot(users=("bob",)),), moment(2026, 11, 23), 1, Unit.DAY,
                restriction=Restriction(daily=(DailyWindow(time(9), time(18)),)))
    schedule = Schedule("s", "S", "Asia/Shanghai", (week, day))
    # bob is on the weekly layer at 08:00 and on the day layer from 09:00: no handoff for anyone until carol,
    # whose week starts Monday 10:00 but who is first on call when Monday's day shift ends at 18:00
    upcoming = next_change(schedule, moment(2026, 11, 26, 8, tzinfo=zone))
    assert upcoming is not None
    assert upcoming.users == ("carol",) and upcoming.start == moment(2026, 11, 30, 18, tzinfo=zone)



def test_answers_from_the_tables_match_single_answers_across_a_table_border() -> None:
    """A warm schedule answers from tables of 8 UTC days; a shift crossing a table's edge keeps its people."""
    border = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=8 * 2563)  # 2026-02-20 00:00 UTC, a table edge
    layer = Layer("H", slots("a", "b", "c"), start=datetime(2026, 2, 1, 5, 0), every=7, unit=Unit.HOUR)
    warm = Schedule("s", "S", SHANGHAI, (layer,),
                    (Override(border - timedelta(minutes=1), border + timedelta(minutes=1), "o"),))
    on_call(warm, border - timedelta(days=30))  # the first question is answered directly; later ones use tables
    for seconds in (-3601, -61, -60, -1, 0, 59, 60, 3600, 8 * 86400 - 1, 8 * 86400):
        moment = border + timedelta(seconds=seconds)
        fresh = Schedule("s", "S", SHANGHAI, warm.layers, warm.overrides)
        assert on_call(warm, moment) == on_call(fresh, moment), moment
    assert who(warm, border) == ("o",)
    # 2026-02-20 08:00 Shanghai is 459 hours after 2026-02-01 05:00: cycle 65 (of 7 hours), 65 % 3 == 2
    assert who(warm, border + timedelta(minutes=1)) == ("c",)
