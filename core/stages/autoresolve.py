"""Auto-resolve (pipeline stage 10; docs/grouping.md#auto-resolve).

An incident resolves by itself when its last firing alert recovers (unless `when_alerts_recover: false`), and,
when `after` is set, once no alert of it fired or was reported firing for that long. Both resolve a triggered or an
acknowledged incident; a resolved one is left alone.

With `when_alerts_recover: false` an incident whose alerts all recovered stays open — for people to resolve,
or for the timeout — and keeps taking alerts of its group (subject to the grouping window and cap).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.conditions import ConditionError
from core.grouping import parse_bounded_duration

FIELDS = ("when_alerts_recover", "after")
MIN_AFTER, MAX_AFTER = timedelta(minutes=1), timedelta(days=30)


@dataclass(frozen=True)
class AutoResolve:
    when_alerts_recover: bool = True
    after: timedelta | None = None  # resolve once no alert of the incident fired or was reported for this long


def parse_auto_resolve(data: Any, path: str) -> AutoResolve:
    """`auto_resolve: {when_alerts_recover: true, after: 4h}`; absent (None) is the default (on recovery only).

    `after` is 1m to 30d, or absent for no timeout."""
    if data is None:
        return AutoResolve()
    if not isinstance(data, Mapping):
        raise ConditionError(path, "must be a mapping like {when_alerts_recover: true, after: 4h}")
    unknown = sorted(str(name) for name in data if name not in FIELDS)
    if unknown:
        raise ConditionError(f"{path}.{unknown[0]}", f"unknown field; auto_resolve has {', '.join(FIELDS)}")
    recover = data.get("when_alerts_recover", True)
    if not isinstance(recover, bool):
        raise ConditionError(f"{path}.when_alerts_recover", "must be true or false")
    after = None
    if data.get("after") is not None:
        after = parse_bounded_duration(data["after"], f"{path}.after", MIN_AFTER, MAX_AFTER)
    return AutoResolve(when_alerts_recover=recover, after=after)


def should_resolve(firing_alerts: int, config: AutoResolve) -> bool:
    """Whether an incident resolves now that an alert of it recovered and `firing_alerts` are still firing."""
    if firing_alerts < 0:
        raise ValueError(f"firing_alerts must not be negative, got {firing_alerts}")
    return config.when_alerts_recover and firing_alerts == 0


def timeout_due(last_alert_at: datetime, config: AutoResolve) -> datetime | None:
    """When the incident resolves for quiet, or None without `after`.

    `last_alert_at` is the arrival of the last firing event of the incident: an alert opening or joining it,
    or a repeated report of one of its firing alerts (recoveries do not count). The application moves the
    timer at each such event, so an incident whose alerts keep being reported (Alertmanager repeats firing
    alerts) stays open."""
    if last_alert_at.tzinfo is None or last_alert_at.utcoffset() is None:
        raise ValueError("last_alert_at must be an aware datetime")
    if config.after is None:
        return None
    return last_alert_at + config.after
