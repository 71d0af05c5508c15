"""How on-call time was shared: hours, weekend hours, night hours and shifts per person."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.localtime import utc_naive
from core.restrictions import Coverage, DailyWindow, DateMask, Interval, Restriction, overlap
from core.roster import Shift

NIGHT = Coverage(None, Restriction(daily=(DailyWindow(time(23, 0), time(8, 0)),)))  # 23:00–08:00 local
WEEKEND = Coverage(DateMask(weekdays=frozenset({5, 6})), None)  # Saturday and Sunday, local
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class FairnessStats:
    on_call_hours: float
    weekend_hours: float
    night_hours: float
    shifts: int


def fairness(shifts: Sequence[Shift], timezone: str) -> dict[str, FairnessStats]:
    """Per person in `shifts`: real hours on call, of them on a local weekend and at local night, and shifts.

    Hours are elapsed time, so a shift over a spring-forward night counts one hour less than its wall clock.
    """
    if not shifts:
        return {}
    zone = ZoneInfo(timezone)
    spans = [(utc_naive(shift.start), utc_naive(shift.end)) for shift in shifts]
    low, high = min(start for start, _ in spans), max(end for _, end in spans)
    nights, weekends = NIGHT.instants(zone, low, high), WEEKEND.instants(zone, low, high)
    totals: dict[str, list[timedelta]] = {}
    counts: dict[str, int] = {}
    for shift, (start, end) in zip(shifts, spans, strict=True):
        hours = (end - start, _covered(weekends, start, end), _covered(nights, start, end))
        for person in shift.users:
            sums = totals.setdefault(person, [timedelta(0)] * 3)
            totals[person] = [total + part for total, part in zip(sums, hours, strict=True)]
            counts[person] = counts.get(person, 0) + 1
    return {person: FairnessStats(on_call_hours=sums[0] / HOUR, weekend_hours=sums[1] / HOUR,
                                  night_hours=sums[2] / HOUR, shifts=counts[person])
            for person, sums in sorted(totals.items())}


def _covered(intervals: list[Interval], start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) the ordered, disjoint `intervals` cover."""
    first = bisect_right(intervals, (start, start))
    return overlap(intervals[max(first - 1, 0):], start, end)
