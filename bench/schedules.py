"""Benchmark: the final schedule for a year, and `who` at 10,000 instants, beside iCalendar RRULE expansion.

The schedule has 4 layers (a weekly 24/7 rotation of role pairs, a weekday day shift 09:00–18:00, a night
shift 22:00–06:00 crossing midnight, a weekend layer) and 50 overrides. The reference expresses the same
rotations as RRULEs (one recurring VEVENT per slot and window) and expands one year of them with
`icalendar` + `recurring-ical-events`, which is only the expansion: no layer precedence, no overrides,
no merging.

    .venv/bin/python -m bench.schedules [--instants 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.schedule import (  # noqa: E402
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
    on_call,
)

ZONE = "Asia/Shanghai"
YEAR_START = datetime(2026, 1, 1, tzinfo=ZoneInfo(ZONE))
YEAR_END = datetime(2027, 1, 1, tzinfo=ZoneInfo(ZONE))
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})


def bench_schedule() -> Schedule:
    pairs = tuple(Slot(roles={"primary": f"p{n}", "backup": f"p{(n + 1) % 5}"}) for n in range(5))
    layers = (
        Layer("weekly", pairs, datetime(2025, 12, 29, 10), 1, Unit.WEEK, Handoff(0, clock(10))),
        Layer("day", tuple(Slot(users=(f"d{n}",)) for n in range(4)), datetime(2026, 1, 1), 1, Unit.DAY,
              date_mask=DateMask(weekdays=WEEKDAYS),
              restriction=Restriction(daily=(DailyWindow(clock(9), clock(18)),))),
        Layer("night", tuple(Slot(users=(f"n{n}",)) for n in range(3)), datetime(2026, 1, 1), 1, Unit.DAY,
              restriction=Restriction(daily=(DailyWindow(clock(22), clock(6)),))),
        Layer("weekend", (Slot(users=("w0", "w1")), Slot(users=("w2",))), datetime(2026, 1, 3), 1, Unit.DAY,
              date_mask=DateMask(weekdays=WEEKEND)),
    )
    rng = random.Random(7)
    overrides = []
    for _ in range(50):
        start = YEAR_START + timedelta(hours=rng.randrange(0, 365 * 24))
        overrides.append(Override(start, start + timedelta(hours=rng.choice((4, 8, 12, 24))), f"o{rng.randrange(9)}"))
    return Schedule("bench", "Bench", ZONE, layers, tuple(sorted(overrides, key=lambda o: o.start)))


def reference_calendar() -> icalendar.Calendar:
    """The same rotations as RRULEs: each slot recurs every (slots × period), from its first turn."""
    calendar = icalendar.Calendar()
    zone = ZoneInfo(ZONE)

    def add(name: str, first: datetime, length: timedelta, rule: dict[str, object]) -> None:
        event = icalendar.Event()
        event.add("uid", f"{name}-{first.isoformat()}")
        event.add("summary", name)
        event.add("dtstart", first)
        event.add("dtend", first + length)
        event.add("rrule", rule)
        calendar.add_component(event)

    for n in range(5):  # weekly pairs, handoff Monday 10:00
        add(f"p{n}", datetime(2025, 12, 29, 10, tzinfo=zone) + timedelta(weeks=n), timedelta(weeks=1),
            {"freq": "weekly", "interval": 5})
    for n in range(4):  # weekday day shift; the mask skips cycles, which RRULE cannot express: every 4th weekday
        add(f"d{n}", datetime(2026, 1, 1, 9, tzinfo=zone) + timedelta(days=n), timedelta(hours=9),
            {"freq": "daily", "interval": 4, "byday": ["MO", "TU", "WE", "TH", "FR"]})
    for n in range(3):
        add(f"n{n}", datetime(2026, 1, 1, 22, tzinfo=zone) + timedelta(days=n), timedelta(hours=8),
            {"freq": "daily", "interval": 3})
    for n in range(2):
        add(f"w{n}", datetime(2026, 1, 3, tzinfo=zone) + timedelta(days=n), timedelta(days=1),
            {"freq": "daily", "interval": 2, "byday": ["SA", "SU"]})
    return calendar


def timed(function: Callable[[], object], repeat: int) -> float:
    """The best of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def cold(work: Callable[[Schedule], object]) -> Callable[[], object]:
    """`work` on a freshly built schedule object, so nothing the engine remembers per object helps it."""
    return lambda: work(bench_schedule())


def main(instants: int, repeat: int) -> None:
    rng = random.Random(11)
    span = (YEAR_END - YEAR_START).total_seconds()
    moments = [YEAR_START + timedelta(seconds=rng.random() * span) for _ in range(instants)]

    def year(schedule: Schedule) -> list[Shift]:
        return final_shifts(schedule, YEAR_START, YEAR_END)

    def who(schedule: Schedule) -> list[OnCall]:
        return [on_call(schedule, moment) for moment in moments]

    def both(schedule: Schedule) -> None:
        year(schedule)
        who(schedule)

    ours_year, ours_who, ours_both = (timed(cold(work), repeat) for work in (year, who, both))
    warm = bench_schedule()
    both(warm)
    ours_warm = timed(lambda: both(warm), repeat)
    count = len(year(bench_schedule()))

    calendar = reference_calendar()
    low, high = YEAR_START.astimezone(UTC), YEAR_END.astimezone(UTC)
    reference_year = timed(lambda: list(recurring_ical_events.of(calendar).between(low, high)), repeat)

    def reference_who() -> None:
        query = recurring_ical_events.of(calendar)
        for moment in moments:
            list(query.at(moment))

    reference_at = timed(reference_who, repeat)
    occurrences = len(list(recurring_ical_events.of(calendar).between(low, high)))

    print(f"best of {repeat}; dutybot timed on a freshly built schedule object each run (cold) unless marked warm")
    print(f"1 year of shifts   dutybot final_shifts {ours_year * 1000:8.1f} ms ({count} shifts)   "
          f"reference between() {reference_year * 1000:8.1f} ms ({occurrences} occurrences)   "
          f"{reference_year / ours_year:5.1f}x")
    print(f"who at {instants} instants dutybot on_call {ours_who * 1000:8.1f} ms "
          f"({ours_who / instants * 1e6:.1f} us each)   reference at() {reference_at * 1000:8.1f} ms "
          f"({reference_at / instants * 1e6:.0f} us each)   {reference_at / ours_who:5.1f}x")
    print(f"both, one object   dutybot {ours_both * 1000:8.1f} ms (warm {ours_warm * 1000:.1f} ms)   "
          f"reference {(reference_year + reference_at) * 1000:8.1f} ms   "
          f"{(reference_year + reference_at) / ours_both:5.1f}x  <- the issue's aim: at least 10x")
    print(f"stricter: the reference's one-year expansion alone / dutybot both: {reference_year / ours_both:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instants", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.instants, arguments.repeat)
