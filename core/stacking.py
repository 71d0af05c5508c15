"""Stacking layers and overrides into one timeline, and remembering it per schedule object.

A timeline is a list of stretches `(start, end, crew, source)` in naive UTC, ordered and disjoint:
1. each layer's covered stretches (`core.rotation`), with the crew of the slot whose turn it is;
2. the later layer wins: each layer keeps only what no later layer covers;
3. overrides rewrite the crew inside their windows, in list order (`core.roster.overridden`);
4. neighbours with the same crew and source merge.

`Compiled` holds, per schedule object, what does not depend on the window (override instants) and, once
the same schedule is asked again, a table of answers per 8 UTC days, so `on_call` becomes a bisection.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime, timedelta
from threading import Lock
from zoneinfo import ZoneInfo

from core.localtime import EPOCH, utc_naive
from core.restrictions import union
from core.roster import NOBODY, Crew, OnCall, Override, Schedule, overridden
from core.rotation import Layer, Slot, rhythm, slot_turn

Stretch = tuple[datetime, datetime, Crew, str]
Span = tuple[datetime, datetime]
Segment = tuple[datetime, datetime, tuple[Override, ...]]  # a stretch of time with the same overrides active
ONE_SECOND = timedelta(seconds=1)
TABLE_DAYS = 8
TABLE_SPAN = timedelta(days=TABLE_DAYS)
TABLE_SECONDS = TABLE_DAYS * 86400


def layer_stretches(layer: Layer, zone: ZoneInfo, low: datetime, high: datetime) -> list[Stretch]:
    """The covered stretches of one layer within [low, high), each with its crew; an empty slot is a gap."""
    if not layer.slots:
        return []
    timing, crews, source = rhythm(layer, zone), _crews(layer.slots), f"layer:{layer.name}"
    count, fair = len(crews), layer.fair
    stretches: list[Stretch] = []
    for start, end, cycle in timing.pieces(low, high):
        crew = crews[slot_turn(timing.turns_before(cycle), count, fair)]
        if not crew.users:
            continue
        if stretches and stretches[-1][1] == start and stretches[-1][2] is crew:
            stretches[-1] = (stretches[-1][0], end, crew, source)
        else:
            stretches.append((start, end, crew, source))
    return stretches


def overlay(tracks: Sequence[list[Stretch]]) -> list[Stretch]:
    """Later tracks win: each track keeps the parts of its stretches that no later track covers."""
    visible: list[Stretch] = []
    taken: list[Span] = []
    for track in reversed(tracks):
        visible.extend(_outside(track, taken) if taken else track)
        taken = _union(taken, track)
    visible.sort(key=lambda stretch: stretch[0])
    return visible


def override_segments(spans: Sequence[tuple[datetime, datetime, Override]], low: datetime,
                      high: datetime) -> list[Segment]:
    """The stretches of [low, high) where overrides are active, each with its active overrides in list order."""
    edges: list[tuple[datetime, int, int]] = []  # (when, 0 = ends / 1 = starts, override index)
    for index, (start, end, _) in enumerate(spans):
        start, end = max(start, low), min(end, high)
        if start < end:
            edges += [(start, 1, index), (end, 0, index)]
    edges.sort()
    segments: list[Segment] = []
    active: set[int] = set()
    for position, (moment, starts, index) in enumerate(edges):
        if starts:
            active.add(index)
        else:
            active.discard(index)
        following = edges[position + 1][0] if position + 1 < len(edges) else moment
        if active and following > moment:
            segments.append((moment, following, tuple(spans[i][2] for i in sorted(active))))
    return segments


def apply_overrides(stretches: list[Stretch], segments: list[Segment]) -> list[Stretch]:
    """`stretches` with every part inside an override segment rewritten, gaps there filled by the override."""
    done: list[Stretch] = []
    pending = list(stretches)
    index = 0
    for low, high, overrides in segments:
        while index < len(pending) and pending[index][1] <= low:
            done.append(pending[index])
            index += 1
        cursor = low
        while index < len(pending) and pending[index][0] < high:
            start, end, crew, source = pending[index]
            if start < low:  # the part before the segment stays as it is
                done.append((start, low, crew, source))
                start = low
            if start > cursor:
                done.append((cursor, start, _rewrite(None, overrides), "override"))
            done.append((start, min(end, high), _rewrite(crew, overrides), "override"))
            cursor = min(end, high)
            if end > high:  # the rest after the segment waits for the next one
                pending[index] = (high, end, crew, source)
                break
            index += 1
        if cursor < high:
            done.append((cursor, high, _rewrite(None, overrides), "override"))
    return done + pending[index:]


def merge_neighbours(stretches: list[Stretch]) -> list[Stretch]:
    """Join touching stretches with the same crew and source."""
    merged: list[Stretch] = []
    for stretch in stretches:
        if merged and merged[-1][1] == stretch[0] and merged[-1][3] == stretch[3] and merged[-1][2] == stretch[2]:
            merged[-1] = (merged[-1][0], stretch[1], stretch[2], stretch[3])
        else:
            merged.append(stretch)
    return merged


class Compiled:
    """What a schedule object needs at every question: zone, override instants, and answers asked before."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.zone = ZoneInfo(schedule.timezone)
        self._spans: list[tuple[datetime, datetime, Override]] | None = None  # overrides in naive UTC
        self._days: dict[int, tuple[list[float], list[float], list[OnCall]]] = {}
        self._answers: dict[tuple[Crew, str], OnCall] = {}

    @property
    def spans(self) -> list[tuple[datetime, datetime, Override]]:
        """The overrides with their windows in naive UTC, in list order (the order they apply in)."""
        if self._spans is None:
            self._spans = [(utc_naive(item.start), utc_naive(item.end), item) for item in self.schedule.overrides]
        return self._spans

    def stretches(self, low: datetime, high: datetime) -> list[Stretch]:
        """The final timeline within [low, high) (naive UTC)."""
        tracks = [layer_stretches(layer, self.zone, low, high) for layer in self.schedule.layers]
        return merge_neighbours(apply_overrides(overlay(tracks), override_segments(self.spans, low, high)))

    def on_call(self, timestamp: float) -> OnCall:
        """Who is on call at a POSIX `timestamp`, from its stretch of days' table (worked out on first use)."""
        day = int(timestamp // TABLE_SECONDS)
        table = self._days.get(day) or self._fill(day)
        index = bisect_right(table[0], timestamp) - 1
        return table[2][index] if index >= 0 and timestamp < table[1][index] else NOBODY

    def _fill(self, day: int) -> tuple[list[float], list[float], list[OnCall]]:
        low = EPOCH + TABLE_SPAN * day
        stretches = self.stretches(low, low + TABLE_SPAN)
        # timedelta / timedelta rounds exactly like datetime.timestamp(), so the two compare exactly
        table = ([(start - EPOCH) / ONE_SECOND for start, _, _, _ in stretches],
                 [(end - EPOCH) / ONE_SECOND for _, end, _, _ in stretches],
                 [self._answer(crew, source) for _, _, crew, source in stretches])
        if len(self._days) >= 4096:
            self._days.clear()
        self._days[day] = table
        return table

    def _answer(self, crew: Crew, source: str) -> OnCall:
        found = self._answers.get((crew, source))
        if found is None:
            found = self._answers[(crew, source)] = crew.on_call(source)
        return found


_COMPILED: dict[int, Compiled] = {}
_COMPILED_LOCK = Lock()
_COMPILED_KEPT = 64


def remembered(schedule: Schedule) -> Compiled | None:
    """The compiled form of `schedule` if this very object was compiled before."""
    found = _COMPILED.get(id(schedule))
    return found if found is not None and found.schedule is schedule else None


def compiled(schedule: Schedule) -> Compiled:
    """The compiled form of `schedule`, kept per object (held, so its id cannot be reused while kept)."""
    found = remembered(schedule)
    if found is not None:
        return found
    made = Compiled(schedule)
    with _COMPILED_LOCK:
        if len(_COMPILED) >= _COMPILED_KEPT:
            del _COMPILED[next(iter(_COMPILED))]  # the oldest
        _COMPILED[id(schedule)] = made
    return made


def _rewrite(crew: Crew | None, overrides: tuple[Override, ...]) -> Crew:
    for override in overrides:
        crew = overridden(crew, override)
    assert crew is not None
    return crew


def _outside(track: list[Stretch], taken: list[Span]) -> list[Stretch]:
    """The parts of `track` outside the ordered, disjoint `taken` spans."""
    kept: list[Stretch] = []
    first = 0
    for start, end, crew, source in track:
        while first < len(taken) and taken[first][1] <= start:
            first += 1
        cursor, index = start, first
        while index < len(taken) and taken[index][0] < end:
            if taken[index][0] > cursor:
                kept.append((cursor, taken[index][0], crew, source))
            cursor = max(cursor, taken[index][1])
            index += 1
        if cursor < end:
            kept.append((cursor, end, crew, source))
    return kept


def _union(taken: list[Span], track: list[Stretch]) -> list[Span]:
    return union([*taken, *((start, end) for start, end, _, _ in track)])


_CREWS: dict[int, tuple[tuple[Slot, ...], tuple[Crew, ...]]] = {}


def _crews(slots: tuple[Slot, ...]) -> tuple[Crew, ...]:
    """The crew of each slot, kept per slots tuple (held, so its id cannot be reused while kept)."""
    kept = _CREWS.get(id(slots))
    if kept is not None and kept[0] is slots:
        return kept[1]
    crews = tuple(Crew.of(slot) for slot in slots)
    if len(_CREWS) >= 1024:
        _CREWS.clear()
    _CREWS[id(slots)] = (slots, crews)
    return crews
