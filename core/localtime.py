"""Wall-clock time in one zone ↔ instants, exact across DST changes and fast on the days without one.

Inside the schedule engine an instant is a *naive UTC* datetime: comparing and subtracting those needs no
offset look-ups. A wall time is a naive datetime read in the schedule's zone.

Two rules make the map from wall time to instant total and monotonic (never going backwards), which is what
lets the engine cut, intersect and merge intervals in wall time and convert only the results:
- a wall time that happens twice (clocks going back) means its first occurrence;
- a wall time that never happens (clocks going forward) means the moment the clocks jump, so a window
  02:30–04:00 on a New York spring-forward night starts at 03:00 EDT, and a window 02:00–03:00 is empty.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)
MIDNIGHT = time()
EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - the origin of naive UTC instants
EPOCH_UTC = EPOCH.replace(tzinfo=UTC)
EPOCH_ORDINAL = EPOCH.toordinal()


@lru_cache(maxsize=1 << 16)
def steady_offset(zone: ZoneInfo, ordinal: int) -> timedelta | None:
    """The UTC offset of `zone` on the local day `ordinal` when it holds from 00:00 to 24:00; else None.

    Offsets are compared at both midnights: no zone changes its clocks twice within one day.
    """
    midnight = datetime.fromordinal(ordinal)
    first = midnight.replace(tzinfo=zone).utcoffset()
    last = (midnight + ONE_DAY).replace(tzinfo=zone).utcoffset()
    return first if first == last else None


def to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant (naive UTC) of the naive wall time `wall` in `zone`, by the two rules above."""
    offset = steady_offset(zone, wall.toordinal())
    if offset is not None:
        return wall - offset
    return _changing_day_instant(wall, zone)


@lru_cache(maxsize=1 << 16)
def steady_utc_offset(zone: ZoneInfo, ordinal: int) -> timedelta | None:
    """The UTC offset of `zone` all through the UTC day `ordinal`; None on a day the clocks change."""
    midnight = EPOCH_UTC + timedelta(days=ordinal - EPOCH_ORDINAL)
    first, last = midnight.astimezone(zone).utcoffset(), (midnight + ONE_DAY).astimezone(zone).utcoffset()
    return first if first == last else None


def wall_of(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall time in `zone` of the naive UTC `instant`."""
    offset = steady_utc_offset(zone, instant.toordinal())
    if offset is None:
        offset = aware(instant, zone).utcoffset()
        assert offset is not None
    return instant + offset


def utc_naive(moment: datetime) -> datetime:
    """An aware datetime as a naive UTC instant; a naive one is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the schedule needs aware datetimes, got {moment!r}")
    return moment - EPOCH_UTC + EPOCH  # aware minus aware is exact elapsed time (and quicker than replace())


def aware(instant: datetime, zone: ZoneInfo) -> datetime:
    """A naive UTC instant as an aware datetime in `zone`."""
    return (EPOCH_UTC + (instant - EPOCH)).astimezone(zone)


def _changing_day_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    before = wall.replace(tzinfo=zone)  # fold=0: the earlier offset, so the first of a repeated time
    instant = utc_naive(before)
    if wall_of(instant, zone) == wall:
        return instant
    # `wall` was skipped. Read with the offset from after the jump it lies before the jump, read with the
    # offset from before the jump it lies after it: bisect between the two (zones change on whole seconds).
    offset_before = before.utcoffset()
    offset_after = wall.replace(tzinfo=zone, fold=1).utcoffset()
    assert offset_before is not None and offset_after is not None
    low = _seconds(wall - offset_after)
    high = _seconds(wall - offset_before) + 1
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_at(middle, zone) == offset_before:
            low = middle
        else:
            high = middle
    return EPOCH + timedelta(seconds=high)


def _seconds(instant: datetime) -> int:
    return int((instant - EPOCH) // timedelta(seconds=1))


def _offset_at(seconds: int, zone: ZoneInfo) -> timedelta | None:
    return aware(EPOCH + timedelta(seconds=seconds), zone).utcoffset()
