"""Who is on call: rotation layers, date masks, time restrictions and overrides, in the schedule's own zone.

The public face of the schedule engine; docs/schedules.md states the semantics with worked examples.
- `core.rotation`: layers, slots and their cycles (which cycle takes which turn; fair rotation);
- `core.restrictions`: date masks and daily / weekly windows as wall-time coverage;
- `core.localtime`: wall time ↔ instants across DST changes;
- `core.roster`: schedules, overrides, shifts and how an override changes who is on call;
- `core.stacking`: layer precedence and overrides as one timeline, remembered per schedule object;
- `core.shifts`: `final_shifts`, `layer_shifts`, `on_call`, `next_change`;
- `core.fairness`: on-call, weekend and night hours per person.
Everything is a pure function of its arguments: time is always passed in, datetimes in and out are aware.
"""

from __future__ import annotations

from core.fairness import FairnessStats, fairness
from core.restrictions import DailyWindow, DateMask, Restriction, WeeklyWindow
from core.roster import NOBODY, OnCall, Override, Schedule, Shift
from core.rotation import WEEKDAYS, Handoff, Layer, Slot, Unit, add_months, first_handoff
from core.shifts import final_shifts, layer_shifts, next_change, on_call

__all__ = [
    "NOBODY", "WEEKDAYS", "DailyWindow", "DateMask", "FairnessStats", "Handoff", "Layer", "OnCall", "Override",
    "Restriction", "Schedule", "Shift", "Slot", "Unit", "WeeklyWindow", "add_months", "fairness", "final_shifts",
    "first_handoff", "layer_shifts", "next_change", "on_call",
]
