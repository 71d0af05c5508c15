"""Storm warnings (pipeline stage 8; docs/grouping.md#storm-warnings).

When the number of alerts in one incident reaches a threshold (by default 100, then 1000), the application
writes a timeline entry and sends one warning notification. An incident's alert count only grows (every
alert that ever joined it, recovered ones included), so each threshold fires at most once per incident:
`crossed(before, after, thresholds)` gives the thresholds reached by the alerts just added.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.conditions import ConditionError

DEFAULT_THRESHOLDS: tuple[int, ...] = (100, 1000)
MAX_THRESHOLDS = 10
SMALLEST_THRESHOLD = 2  # one alert is no storm
LARGEST_THRESHOLD = 1_000_000


def parse_storm(data: Any, path: str) -> tuple[int, ...]:
    """The thresholds from `storm_warnings:`, ascending.

    Absent (None) gives the default `[100, 1000]`; `false` (YAML also reads `off` and `no` so) or the text
    `off`, and `[]`, give none. Otherwise a list of at most 10 whole numbers from 2 to 1,000,000, strictly
    ascending."""
    if data is None:
        return DEFAULT_THRESHOLDS
    if data is False or data == "off":
        return ()
    if not isinstance(data, list):
        raise ConditionError(path, "must be a list of alert counts like [100, 1000], or off")
    if len(data) > MAX_THRESHOLDS:
        raise ConditionError(path, f"at most {MAX_THRESHOLDS} thresholds, got {len(data)}")
    thresholds: list[int] = []
    for index, value in enumerate(data):
        item = f"{path}[{index}]"
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConditionError(item, "must be a whole number of alerts, like 100")
        if not SMALLEST_THRESHOLD <= value <= LARGEST_THRESHOLD:
            raise ConditionError(item, f"must be from {SMALLEST_THRESHOLD} to {LARGEST_THRESHOLD:,}, got {value}")
        if thresholds and value <= thresholds[-1]:
            raise ConditionError(item, f"thresholds must be ascending; {value} comes after {thresholds[-1]}")
        thresholds.append(value)
    return tuple(thresholds)


def crossed(before: int, after: int, thresholds: Sequence[int]) -> tuple[int, ...]:
    """The thresholds reached by going from `before` to `after` alerts: `before < threshold <= after`.

    Ascending, like `thresholds`. Several at once when a batch jumps over more than one; none when the count
    did not grow."""
    return tuple(threshold for threshold in thresholds if before < threshold <= after)
