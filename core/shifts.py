"""The final schedule and who is on call: `final_shifts`, `layer_shifts`, `on_call`, `next_change`.

`final_shifts` and `on_call` share every step of the computation (`core.stacking`): the layers' covered
stretches, the precedence, the overrides. `on_call` answers a schedule object's first question directly
(tens of µs); from the second question on the same object it looks the answer up in a table of 8 days
built by the very code behind `final_shifts` (about 1 µs).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.localtime import aware, utc_naive
from core.roster import NOBODY, Crew, OnCall, Schedule, Shift, overridden
from core.rotation import Layer
from core.stacking import Compiled, Stretch, compiled, layer_stretches, remembered

ONE_MICROSECOND = timedelta(microseconds=1)
ONE_YEAR = timedelta(days=366)


def layer_shifts(layer: Layer, timezone: str, start: datetime, end: datetime) -> list[Shift]:
    """The shifts of one layer alone within [start, end): ordered, clipped, adjacent equal ones merged."""
    zone = ZoneInfo(timezone)
    return [_shift(stretch, zone) for stretch in layer_stretches(layer, zone, utc_naive(start), utc_naive(end))]


def final_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call from `start` to `end` (aware) with all layers, masks, restrictions and overrides.

    Ordered, clipped to [start, end), never overlapping, adjacent shifts with the same people and source
    merged, and times when nobody is on call simply absent (SPEC §4 `shifts`).
    """
    low, high = utc_naive(start), utc_naive(end)
    if low >= high:
        return []
    timeline = compiled(schedule)
    return [_shift(stretch, timeline.zone) for stretch in timeline.stretches(low, high)]


def on_call(schedule: Schedule, at: datetime) -> OnCall:
    """Who is on call at `at` (aware): the last layer that has someone, then the overrides in its window."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"the schedule needs aware datetimes, got {at!r}")
    timeline = remembered(schedule)
    if timeline is not None:
        return timeline.on_call(at.timestamp())
    # asked once: answer directly, and get ready for the next questions
    return _on_call_directly(compiled(schedule), at)


def next_change(schedule: Schedule, at: datetime, horizon: timedelta = timedelta(days=62)) -> Shift | None:
    """The next shift whose people differ from those on call at `at` (the first shift after `at` when
    nobody is on call): a change of layer with the same people is no handoff for anyone.

    Only a shift starting within `horizon` of `at` is found; its end is looked for up to a year (or `horizon`,
    when longer) past its start. Arithmetic is done in UTC: adding days to a zoned datetime adds wall-clock days.
    """
    start = utc_naive(at).replace(tzinfo=UTC)
    span, limit = timedelta(days=2), start + horizon
    now_on = set(on_call(schedule, at).users)
    while True:
        until = min(start + span, limit)
        shifts = final_shifts(schedule, start, until)
        upcoming = [shift for shift in shifts if set(shift.users) != now_on]
        if upcoming:
            return _whole(schedule, upcoming[0], until, max(horizon, ONE_YEAR))
        if until >= limit:
            return None
        span *= 4


def _whole(schedule: Schedule, shift: Shift, until: datetime, horizon: timedelta) -> Shift:
    """`shift` with its real end when the window it was found in (ending at `until`) cut it."""
    begin = shift.start.astimezone(UTC)
    limit = begin + horizon
    while shift.end.astimezone(UTC) >= until and until < limit:
        until = min(begin + (until - begin) * 4, limit)
        shift = final_shifts(schedule, begin, until)[0]
    return shift


def _on_call_directly(timeline: Compiled, at: datetime) -> OnCall:
    """One answer without building tables: the top layer with someone at `at`, then the overrides."""
    instant = utc_naive(at)
    crew: Crew | None = None
    source = ""
    for layer in reversed(timeline.schedule.layers):
        found = layer_stretches(layer, timeline.zone, instant, instant + ONE_MICROSECOND)
        if found:
            crew, source = found[0][2], found[0][3]
            break
    for start, end, override in timeline.spans:  # naive UTC: compared by instant whatever the zones
        if start <= instant < end:
            crew, source = overridden(crew, override), "override"
    return NOBODY if crew is None else crew.on_call(source)


def _shift(stretch: Stretch, zone: ZoneInfo) -> Shift:
    start, end, crew, source = stretch
    return Shift(start=aware(start, zone), end=aware(end, zone), users=crew.users, roles=dict(crew.roles),
                 source=source)
