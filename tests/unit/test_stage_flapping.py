"""core/stages/flapping.py, stage 9: N state changes within M minutes mark an alert flapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.conditions import ConditionError
from core.stages.flapping import Flapping, flap_action, is_flapping, parse_flapping

PATH = "services[0].flapping"
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.mark.parametrize(("data", "expected"), [
    (None, None),                                                      # off unless configured
    (False, None),
    ("off", None),
    ({}, Flapping(4, 30 * MIN, "alert-only")),
    ({"changes": 4, "within": "30m", "mode": "alert-only"}, Flapping(4, 30 * MIN, "alert-only")),
    ({"changes": 2, "within": "1m"}, Flapping(2, MIN, "alert-only")),
    ({"changes": 100, "within": "24h", "mode": "alert-then-mute"},
     Flapping(100, timedelta(hours=24), "alert-then-mute")),
    ({"within": "1h30m"}, Flapping(4, 90 * MIN, "alert-only")),
])
def test_parse_flapping(data: Any, expected: Flapping | None) -> None:
    assert parse_flapping(data, PATH) == expected


@pytest.mark.parametrize(("data", "path", "fragment"), [
    (True, PATH, "must be a mapping"),
    ([4, "30m"], PATH, "must be a mapping"),
    ({"count": 4}, f"{PATH}.count", "unknown field"),
    ({"changes": 1}, f"{PATH}.changes", "from 2 to 100"),
    ({"changes": 101}, f"{PATH}.changes", "from 2 to 100"),
    ({"changes": "4"}, f"{PATH}.changes", "whole number"),
    ({"changes": True}, f"{PATH}.changes", "whole number"),
    ({"changes": 4.0}, f"{PATH}.changes", "whole number"),
    ({"within": "59s"}, f"{PATH}.within", "between 1m and 1d"),
    ({"within": "24h1m"}, f"{PATH}.within", "between 1m and 1d"),
    ({"within": 30}, f"{PATH}.within", "with a unit"),
    ({"within": "soon"}, f"{PATH}.within", "not a duration"),
    ({"within": None}, f"{PATH}.within", "with a unit"),
    ({"mode": "mute"}, f"{PATH}.mode", "unknown mode"),
    ({"mode": None}, f"{PATH}.mode", "unknown mode"),
])
def test_bad_flapping_names_its_path(data: Any, path: str, fragment: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_flapping(data, PATH)
    assert caught.value.path == path
    assert fragment in caught.value.message


FOUR_IN_30 = Flapping(4, 30 * MIN, "alert-only")


def ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


@pytest.mark.parametrize(("times", "expected"), [
    ([], False),
    (ago(0, 5, 10), False),                          # three is not four
    (ago(0, 5, 10, 15), True),
    (ago(15, 0, 10, 5), True),                       # order does not matter
    (ago(0, 5, 10, 29.99), True),
    (ago(0, 5, 10, 30), False),                      # exactly 30 minutes ago has left the window
    (ago(0, 5, 10, 45), False),
    (ago(0, 5, 10, 45, 50, 55, 60), False),          # many changes, but not in one window
    (ago(1, 2, 3, 4, 5, 6), True),                   # more than enough
    (ago(0, 0, 0, 0), True),                         # ties count each
    (ago(-1, 0, 5, 10), False),                      # a time after now is not counted
])
def test_is_flapping(times: list[datetime], expected: bool) -> None:
    assert is_flapping(times, NOW, FOUR_IN_30) is expected


@pytest.mark.parametrize(("was", "now_flapping", "mode", "expected"), [
    (False, False, "alert-only", "none"),
    (False, True, "alert-only", "mark"),              # starts flapping: marked, one notification
    (True, True, "alert-only", "none"),               # keeps notifying as usual, marked
    (True, False, "alert-only", "none"),              # stopped: the flag is cleared by the caller
    (False, False, "alert-then-mute", "none"),
    (False, True, "alert-then-mute", "mark"),         # one notification that it flaps
    (True, True, "alert-then-mute", "mute"),          # then silence while it flaps
    (True, False, "alert-then-mute", "none"),         # stopped: notifies again
])
def test_flap_action(was: bool, now_flapping: bool, mode: Any, expected: str) -> None:
    assert flap_action(was, now_flapping, mode) == expected


def test_flap_action_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="mode"):
        flap_action(True, True, "sometimes")  # type: ignore[arg-type]


@given(st.lists(st.integers(0, 120), max_size=30), st.integers(2, 10), st.integers(1, 60))
def test_is_flapping_counts_the_changes_in_the_last_window(minutes_ago: list[int], changes: int,
                                                           within: int) -> None:
    config = Flapping(changes, within * MIN, "alert-only")
    inside = [m for m in minutes_ago if m < within]
    assert is_flapping(ago(*minutes_ago), NOW, config) is (len(inside) >= changes)


def test_a_sequence_of_changes_notifies_once_then_mutes() -> None:
    config = Flapping(3, 10 * MIN, "alert-then-mute")
    times: list[datetime] = []
    flag, actions = False, []
    for minute in (0, 2, 4, 6, 8, 30):
        now = NOW + minute * MIN
        times.append(now)
        result = is_flapping(times, now, config)
        actions.append(flap_action(flag, result, config.mode))
        flag = result
    assert actions == ["none", "none", "mark", "mute", "mute", "none"]
