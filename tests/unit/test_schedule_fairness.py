"""Fair rotation (issue 3, rule 6) and the fairness report: hours, weekend hours, night hours, shifts."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.schedule import (
    FairnessStats,
    Layer,
    Override,
    Schedule,
    Slot,
    Unit,
    fairness,
    final_shifts,
    layer_shifts,
    on_call,
)

SEVEN = tuple(f"p{index}" for index in range(7))
BERLIN = "Europe/Berlin"


def weekend_days(schedule: Schedule, first_day: datetime, weeks: int) -> Counter[str]:
    """Whose weekend day each Saturday and Sunday is, asked at noon (cycles change at midnight)."""
    zone = ZoneInfo(schedule.timezone)
    days: Counter[str] = Counter({person: 0 for person in SEVEN})
    for offset in range(weeks * 7):
        noon = (first_day + timedelta(days=offset)).replace(hour=12, tzinfo=zone)
        if noon.weekday() >= 5:
            days.update(on_call(schedule, noon).users)
    return days


@pytest.mark.parametrize("zone", [BERLIN, "America/New_York", "Asia/Shanghai"])
@pytest.mark.parametrize("start", ["2026-01-05", "2026-01-07", "2026-01-10", "2026-03-01"])
def test_fair_rotation_shares_weekend_days_within_one_over_seven_weeks(zone: str, start: str) -> None:
    first_day = datetime.fromisoformat(start)
    layer = Layer("Daily", tuple(Slot(users=(person,)) for person in SEVEN), start=first_day, unit=Unit.DAY)
    fair = Schedule("s", "S", zone, (replace(layer, fair=True),))
    unfair = Schedule("s", "S", zone, (layer,))
    shared = weekend_days(fair, first_day, weeks=7)
    assert sum(shared.values()) == 14
    assert max(shared.values()) - min(shared.values()) <= 1, shared
    # without fair rotation the same two people get every weekend day
    assert sorted(weekend_days(unfair, first_day, weeks=7).values()) == [0, 0, 0, 0, 0, 7, 7]


def test_fair_rotation_shares_weekend_hours_too() -> None:
    layer = Layer("Daily", tuple(Slot(users=(person,)) for person in SEVEN), start=datetime(2026, 1, 5),
                  unit=Unit.DAY, fair=True)
    zone = ZoneInfo(BERLIN)
    stats = fairness(layer_shifts(layer, BERLIN, datetime(2026, 1, 5, tzinfo=zone), datetime(2026, 2, 23, tzinfo=zone)),
                     BERLIN)
    assert {person: item.weekend_hours for person, item in stats.items()} == {person: 48.0 for person in SEVEN}
    assert {item.shifts for item in stats.values()} == {7}


def test_fairness_counts_hours_weekends_nights_and_shifts() -> None:
    # alice Monday, Wednesday, Friday, Sunday; bob Tuesday, Thursday, Saturday (2026-01-05 is a Monday)
    layer = Layer("Daily", (Slot(users=("alice",)), Slot(users=("bob",))), start=datetime(2026, 1, 5), unit=Unit.DAY)
    zone = ZoneInfo(BERLIN)
    shifts = final_shifts(Schedule("s", "S", BERLIN, (layer,)), datetime(2026, 1, 5, tzinfo=zone),
                          datetime(2026, 1, 12, tzinfo=zone))
    # a whole day holds 9 night hours: 00:00–08:00 and 23:00–24:00
    assert fairness(shifts, BERLIN) == {
        "alice": FairnessStats(on_call_hours=96.0, weekend_hours=24.0, night_hours=36.0, shifts=4),
        "bob": FairnessStats(on_call_hours=72.0, weekend_hours=24.0, night_hours=27.0, shifts=3),
    }


def test_fairness_counts_real_hours_across_dst() -> None:
    # Berlin's clocks go forward on Sunday 2026-03-29 at 02:00: that weekend has 47 hours
    layer = Layer("Solo", (Slot(users=("alice",)),), start=datetime(2026, 3, 1), unit=Unit.WEEK)
    zone = ZoneInfo(BERLIN)
    shifts = final_shifts(Schedule("s", "S", BERLIN, (layer,)), datetime(2026, 3, 28, tzinfo=zone),
                          datetime(2026, 3, 30, tzinfo=zone))
    # nights: Saturday 00–08 (8 h), Saturday 23:00 – Sunday 08:00 (8 real hours), Sunday 23–24 (1 h)
    assert fairness(shifts, BERLIN) == {
        "alice": FairnessStats(on_call_hours=47.0, weekend_hours=47.0, night_hours=17.0, shifts=1)}


def test_fairness_counts_every_member_of_a_group_and_overrides() -> None:
    layer = Layer("Pair", (Slot(users=("alice", "bob")),), start=datetime(2026, 1, 5), unit=Unit.WEEK)
    zone = ZoneInfo(BERLIN)
    cover = Override(datetime(2026, 1, 6, 12, tzinfo=zone), datetime(2026, 1, 6, 18, tzinfo=zone), "carol")
    shifts = final_shifts(Schedule("s", "S", BERLIN, (layer,), (cover,)), datetime(2026, 1, 6, tzinfo=zone),
                          datetime(2026, 1, 7, tzinfo=zone))
    stats = fairness(shifts, BERLIN)
    assert stats["alice"] == stats["bob"] == FairnessStats(18.0, 0.0, 9.0, 2)
    assert stats["carol"] == FairnessStats(6.0, 0.0, 0.0, 1)


def test_fairness_of_no_shifts_is_empty() -> None:
    assert fairness([], BERLIN) == {}
