"""The shifts a calendar feed shows: a schedule's final shifts, or one person's stretches on call.

A feed's window slides with the clock, and `final_shifts` clips the first shift at the window's start. An event
that starts at "30 days ago, to the microsecond" would get a new start (and so a new identity) on every
refresh, and calendar apps would duplicate it. So the first event of a feed keeps its true start, found by
looking further back, even though that lies before the window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from core.schedule import Schedule, Shift, final_shifts

# how far back the true start of a stretch covering the window's start is looked for, step by step; the cost of
# a look grows with the number of changes in it, so a long look is only needed (and cheap) when changes are rare
LOOKBACK = (timedelta(days=7), timedelta(days=62), timedelta(days=400), timedelta(days=4000))
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class Stretch:
    """One person's unbroken time on call in one schedule: adjacent final shifts that all include them."""

    start: datetime
    end: datetime
    pieces: tuple[Shift, ...]


def schedule_feed_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The final shifts overlapping [start, end); the first keeps its true start, the last ends at `end`."""
    shifts = final_shifts(schedule, start, end)
    if shifts and shifts[0].start == start:
        first = shifts[0]
        same = (first.users, first.source)
        run = _run_before(schedule, start, lambda shift: (shift.users, shift.source) == same)
        if run:
            shifts[0] = replace(first, start=run[0].start)
    return shifts


def person_feed_stretches(schedule: Schedule, user: str, start: datetime, end: datetime) -> list[Stretch]:
    """The stretches overlapping [start, end) in which `user` is on call, adjacent shifts merged whatever
    the other people or the source; the first keeps its true start (and pieces), the last ends at `end`."""
    stretches: list[Stretch] = []
    for shift in final_shifts(schedule, start, end):
        if user not in shift.users:
            continue
        if stretches and stretches[-1].end == shift.start:
            last = stretches[-1]
            stretches[-1] = Stretch(last.start, shift.end, (*last.pieces, shift))
        else:
            stretches.append(Stretch(shift.start, shift.end, (shift,)))
    if stretches and stretches[0].start == start:
        first = stretches[0]
        run = _run_before(schedule, start, lambda shift: user in shift.users)
        if run:
            pieces = (*run[:-1], replace(first.pieces[0], start=run[-1].start), *first.pieces[1:])
            stretches[0] = Stretch(run[0].start, first.end, pieces)
    return stretches


def _run_before(schedule: Schedule, at: datetime, joined: Callable[[Shift], bool]) -> tuple[Shift, ...]:
    """The unbroken run of adjacent shifts that `joined` accepts, up to the one covering `at` (which is cut
    short there); empty when that run goes back further than the longest look."""
    for back in LOOKBACK:
        low = at - back
        shifts = final_shifts(schedule, low, at + _INSTANT)
        index = len(shifts) - 1
        if index < 0 or not shifts[index].start <= at < shifts[index].end or not joined(shifts[index]):
            return ()
        while index > 0 and shifts[index - 1].end == shifts[index].start and joined(shifts[index - 1]):
            index -= 1
        if shifts[index].start > low:
            return tuple(shifts[index:])
    return ()
