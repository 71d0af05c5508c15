"""Flapping (pipeline stage 9; docs/grouping.md#flapping).

An alert (a fingerprint of a service) flaps when its state changed at least `changes` times within `within`,
counting back from now. A state change is the alert starting to fire (the first time, or again after it
recovered) or recovering; a repeated report of an alert that keeps firing changes nothing.

The application keeps the recent change times of each alert and a flag `flapping`. On each change it calls
`is_flapping(times, now, config)` and `flap_action(flag, result, config.mode)`, then stores the result as the
new flag. The action is about the event in hand:

| was flapping | is flapping | alert-only | alert-then-mute |
|---|---|---|---|
| no  | no  | none | none |
| no  | yes | mark | mark |
| yes | yes | none | mute |
| yes | no  | none | none |

- `mark`: the alert starts flapping: mark it flapping (timeline entry) and notify once that it flaps, along
  with the event's own notification.
- `mute`: handle the event as a muted passage (`Passage.muted("flapping")`), as the application handles a
  silenced alert: stored and marked, never notified; a recovery still recovers.
- `none`: nothing extra. Under alert-only the alert keeps notifying as usual while it flaps, its mark shown;
  when it stops flapping (fewer changes in the window at its next change) the flag is cleared and
  notifications go on as before in both modes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from core.conditions import ConditionError
from core.grouping import parse_bounded_duration

FlapMode = Literal["alert-only", "alert-then-mute"]
FlapAction = Literal["none", "mark", "mute"]

MODES: tuple[FlapMode, ...] = ("alert-only", "alert-then-mute")
FIELDS = ("changes", "within", "mode")
MIN_CHANGES, MAX_CHANGES = 2, 100
MIN_WITHIN, MAX_WITHIN = timedelta(minutes=1), timedelta(hours=24)
DEFAULT_CHANGES = 4
DEFAULT_WITHIN = timedelta(minutes=30)


@dataclass(frozen=True)
class Flapping:
    """`changes` state changes within `within` mark an alert flapping; `mode` says what that does."""

    changes: int = DEFAULT_CHANGES
    within: timedelta = DEFAULT_WITHIN
    mode: FlapMode = "alert-only"


def parse_flapping(data: Any, path: str) -> Flapping | None:
    """`flapping: {changes: 4, within: 30m, mode: alert-only}`; None when flapping detection is off.

    Off is the default: absent (None), `false` (YAML also reads `off` and `no` so) or the text `off`. Each
    field may be left out: changes 4 (2–100), within 30m (1m–24h), mode alert-only."""
    if data is None or data is False or data == "off":
        return None
    if not isinstance(data, Mapping):
        raise ConditionError(path, "must be a mapping like {changes: 4, within: 30m, mode: alert-only}, or off")
    unknown = sorted(str(name) for name in data if name not in FIELDS)
    if unknown:
        raise ConditionError(f"{path}.{unknown[0]}", f"unknown field; flapping has {', '.join(FIELDS)}")
    changes = data.get("changes", DEFAULT_CHANGES)
    if isinstance(changes, bool) or not isinstance(changes, int) or not MIN_CHANGES <= changes <= MAX_CHANGES:
        raise ConditionError(f"{path}.changes", f"must be a whole number from {MIN_CHANGES} to {MAX_CHANGES}")
    within = DEFAULT_WITHIN
    if "within" in data:
        within = parse_bounded_duration(data["within"], f"{path}.within", MIN_WITHIN, MAX_WITHIN)
    mode = data.get("mode", "alert-only")
    if mode not in MODES:
        raise ConditionError(f"{path}.mode", f"unknown mode {mode!r}; modes are {', '.join(MODES)}")
    return Flapping(changes=changes, within=within, mode=mode)


def is_flapping(change_times: Sequence[datetime], now: datetime, flapping: Flapping) -> bool:
    """Whether at least `changes` of `change_times` fall in the window `(now - within, now]`.

    A change exactly `within` before now has left the window; times after `now` are not counted. The order
    of `change_times` does not matter."""
    start = now - flapping.within
    return sum(1 for time in change_times if start < time <= now) >= flapping.changes


def flap_action(was_flapping: bool, is_flapping: bool, mode: FlapMode) -> FlapAction:
    """What to do with the event that made this change (the table in the module docstring)."""
    if mode not in MODES:
        raise ValueError(f"unknown flapping mode {mode!r}")
    if not is_flapping:
        return "none"
    if not was_flapping:
        return "mark"
    return "mute" if mode == "alert-then-mute" else "none"
