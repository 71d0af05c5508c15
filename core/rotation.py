"""A rotation layer: its cycles, which of them take a turn, and whose turn each one is.

Cycles are counted from the layer start in the schedule's wall time (a weekly handoff at Monday 10:00 stays
at 10:00 across DST; a monthly cycle keeps its day of month, clamped to the month's last day); hours are real
elapsed hours. With a handoff set, cycle 0 runs from the start to the first handoff.

A cycle that puts nobody on call is skipped and takes no turn, so the turn of cycle k is the number of
effective cycles before it. `Rhythm` keeps that count as a prefix table per layer, shared by every call that
asks about the same rotation, so one count of the cycles since the start serves all later questions.
"""

from __future__ import annotations

import calendar
from array import array
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import Enum
from threading import Lock
from zoneinfo import ZoneInfo

from core.localtime import to_instant, wall_of
from core.restrictions import Coverage, DateMask, Interval, Restriction

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_COUNTED_CYCLES = 2_000_000  # 228 years of hourly cycles


class Unit(str, Enum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Slot:
    """One turn of a rotation: a person, several people together, or a role map (role → user)."""

    users: tuple[str, ...] = ()
    roles: Mapping[str, str] = field(default_factory=dict)

    def people(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.users, *self.roles.values())))


@dataclass(frozen=True)
class Handoff:
    weekday: int  # 0 = Monday
    at: time


@dataclass(frozen=True)
class Layer:
    """Rotation slots taking turns from `start` (naive, local to the schedule) until `end` (exclusive)."""

    name: str
    slots: tuple[Slot, ...]
    start: datetime  # naive, local to the schedule
    every: int = 1
    unit: Unit = Unit.WEEK
    handoff: Handoff | None = None
    end: datetime | None = None  # naive, local
    date_mask: DateMask | None = None
    continuous: bool = False  # with a date mask: a cycle starting on a masked-in day runs whole
    fair: bool = False  # the slot order moves on by one after every full pass over the slots
    restriction: Restriction | None = None


def add_months(moment: datetime, months: int) -> datetime:
    """Same day of month `months` later, clamped to the month's last day."""
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def first_handoff(layer: Layer) -> datetime:
    """The first handoff at or after the layer start; without a handoff setting, the start itself."""
    return _first_handoff(layer.start, layer.handoff)


def _first_handoff(start: datetime, handoff: Handoff | None) -> datetime:
    if handoff is None:
        return start
    days_ahead = (handoff.weekday - start.weekday()) % 7
    candidate = datetime.combine(start.date() + timedelta(days=days_ahead), handoff.at)
    return candidate if candidate >= start else candidate + timedelta(days=7)


def slot_turn(turn: int, slots: int, fair: bool) -> int:
    """The slot whose turn `turn` is; fair rotation moves the order on by one after each full pass."""
    if fair:
        passes, position = divmod(turn, slots)
        return (position + passes) % slots
    return turn % slots


class Rhythm:
    """A layer's cycles in one zone as instants (naive UTC), and the count of cycles that took a turn."""

    def __init__(self, layer: Layer, zone: ZoneInfo) -> None:
        if layer.every < 1:
            raise ValueError(f"layer {layer.name!r}: every must be at least 1, not {layer.every}")
        self.zone, self.unit, self.every = zone, layer.unit, layer.every
        self.start_wall = _naive(layer.start, zone)
        self.anchor_wall = _first_handoff(self.start_wall, layer.handoff)
        self.lead = 1 if self.anchor_wall > self.start_wall else 0
        self.start = to_instant(self.start_wall, zone)
        self.anchor = to_instant(self.anchor_wall, zone)
        self.end = to_instant(_naive(layer.end, zone), zone) if layer.end is not None else None
        self.step = timedelta(hours=layer.every) if layer.unit is Unit.HOUR else timedelta(
            days=layer.every * (7 if layer.unit is Unit.WEEK else 1))
        # with continuous rotation the mask chooses cycles by their first day instead of cutting coverage
        self.picking_mask = layer.date_mask if layer.continuous else None
        self.coverage = Coverage(None if layer.continuous else layer.date_mask, layer.restriction)
        self.skips = self.picking_mask is not None or not self.coverage.total
        self._turns = array("q", [0])  # _turns[k]: cycles before cycle k that took a turn
        self._lock = Lock()

    def boundary(self, k: int) -> datetime:
        """The instant cycle `k` starts (cycle k ends where cycle k + 1 starts)."""
        if k == 0:
            return self.start
        if self.unit is Unit.HOUR:
            return self.anchor + (k - self.lead) * self.step
        return to_instant(self._wall_boundary(k), self.zone)

    def index_at(self, instant: datetime) -> int:
        """The cycle in progress at `instant` (at or after the start)."""
        if instant < self.anchor:
            return 0
        if self.unit is Unit.HOUR:
            return self.lead + (instant - self.anchor) // self.step
        wall = wall_of(instant, self.zone)
        if self.unit is Unit.MONTH:
            k = self.lead + max(_months_between(self.anchor_wall, wall), 0) // self.every
        else:
            k = self.lead + max((wall - self.anchor_wall) // self.step, 0)
        # a repeated or skipped hour can put the wall-time estimate one cycle off
        while k > 0 and self.boundary(k) > instant:
            k -= 1
        while self.boundary(k + 1) <= instant:
            k += 1
        return k

    def picked(self, k: int) -> bool:
        """Whether continuous rotation lets cycle `k` run: it must start on a masked-in day."""
        if self.picking_mask is None:
            return True
        if k == 0:
            first_day = self.start_wall.date()
        elif self.unit is Unit.HOUR:
            first_day = wall_of(self.boundary(k), self.zone).date()
        else:
            first_day = self._wall_boundary(k).date()
        return self.picking_mask.includes(first_day)

    def pieces(self, low: datetime, high: datetime) -> list[tuple[datetime, datetime, int]]:
        """(start, end, cycle) of every covered stretch within [low, high) and the layer's life, in order."""
        low = max(low, self.start)
        high = min(high, self.end) if self.end is not None else high
        if low >= high:
            return []
        covered = None if self.coverage.total else self.coverage.instants(self.zone, low, high)
        found: list[tuple[datetime, datetime, int]] = []
        k = self.index_at(low)
        cycle_start, index = self.boundary(k), 0
        while cycle_start < high:
            cycle_end = self.boundary(k + 1)
            if self.picking_mask is None or self.picked(k):
                start, end = max(cycle_start, low), min(cycle_end, high)
                if covered is None:
                    found.append((start, end, k))
                else:
                    index = _cut(covered, index, start, end, k, found)
            k, cycle_start = k + 1, cycle_end
        return found

    def turns_before(self, k: int) -> int:
        """How many cycles before cycle `k` put someone on call (and so took a turn)."""
        if not self.skips:
            return k
        if k > MAX_COUNTED_CYCLES:  # a guard against a question centuries away (each cycle is judged once)
            raise ValueError(f"more than {MAX_COUNTED_CYCLES} rotation cycles after the layer start")
        if k >= len(self._turns):
            with self._lock:
                while k >= len(self._turns):
                    self._count_more()
        return self._turns[k]

    def _count_more(self) -> None:
        """Judge the next batch of cycles (about five weeks of them); the layer end plays no part."""
        first = len(self._turns) - 1
        batch = max(1, (840 if self.unit is Unit.HOUR else 35 if self.unit is Unit.DAY else 5) // self.every)
        low, high = self.boundary(first), self.boundary(first + batch)
        covered = None if self.coverage.total else self.coverage.instants(self.zone, low, high)
        turns, index, cycle_start = self._turns[-1], 0, low
        for k in range(first, first + batch):
            cycle_end = self.boundary(k + 1)
            if covered is not None:
                index = _skip_before(covered, index, cycle_start)
            if self.picked(k) and (covered is None or _covers(covered, index, cycle_start, cycle_end)):
                turns += 1
            self._turns.append(turns)
            cycle_start = cycle_end

    def _wall_boundary(self, k: int) -> datetime:
        if k == 0:
            return self.start_wall
        if self.unit is Unit.MONTH:
            return add_months(self.anchor_wall, (k - self.lead) * self.every)
        return self.anchor_wall + (k - self.lead) * self.step


_RHYTHMS: OrderedDict[Hashable, Rhythm] = OrderedDict()
_RHYTHMS_LOCK = Lock()
_RHYTHMS_KEPT = 256


def rhythm(layer: Layer, zone: ZoneInfo) -> Rhythm:
    """The compiled rhythm of `layer` in `zone`, shared by every layer with the same timing (slots aside)."""
    key = (zone.key, layer.start, layer.every, layer.unit, layer.handoff, layer.end, layer.date_mask,
           layer.continuous, layer.restriction)
    try:
        with _RHYTHMS_LOCK:
            found = _RHYTHMS.get(key)
            if found is not None:
                _RHYTHMS.move_to_end(key)
                return found
    except TypeError:  # a calendar predicate that cannot be hashed: compile without keeping it
        return Rhythm(layer, zone)
    compiled = Rhythm(layer, zone)
    with _RHYTHMS_LOCK:
        _RHYTHMS[key] = compiled
        if len(_RHYTHMS) > _RHYTHMS_KEPT:
            _RHYTHMS.popitem(last=False)
    return compiled


def _cut(covered: list[Interval], index: int, start: datetime, end: datetime, k: int,
         found: list[tuple[datetime, datetime, int]]) -> int:
    """Add the parts of `covered` within [start, end) to `found` as cycle `k`'s; where to look next time."""
    while index < len(covered) and covered[index][1] <= start:
        index += 1
    scan = index
    while scan < len(covered) and covered[scan][0] < end:
        piece_start, piece_end = max(covered[scan][0], start), min(covered[scan][1], end)
        if piece_start < piece_end:
            found.append((piece_start, piece_end, k))
        scan += 1
    return index


def _skip_before(covered: list[Interval], index: int, moment: datetime) -> int:
    while index < len(covered) and covered[index][1] <= moment:
        index += 1
    return index


def _covers(covered: list[Interval], index: int, start: datetime, end: datetime) -> bool:
    """Whether the ordered `covered` intervals, from `index` on, overlap [start, end)."""
    while index < len(covered) and covered[index][0] < end:
        if max(covered[index][0], start) < min(covered[index][1], end):
            return True
        index += 1
    return False


def _naive(moment: datetime, zone: ZoneInfo) -> datetime:
    """A layer time as wall time: naive as given, or an aware one read in the schedule's zone."""
    return moment if moment.tzinfo is None else moment.astimezone(zone).replace(tzinfo=None)


def _months_between(start: datetime, moment: datetime) -> int:
    months = (moment.year - start.year) * 12 + moment.month - start.month
    return months if add_months(start, months) <= moment else months - 1

