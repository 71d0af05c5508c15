"""core/stages/storm.py, stage 8: storm warnings fire once per threshold as an incident's alert count grows."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.conditions import ConditionError
from core.stages.storm import DEFAULT_THRESHOLDS, crossed, parse_storm

PATH = "services[0].storm_warnings"


@pytest.mark.parametrize(("data", "expected"), [
    (None, (100, 1000)),
    (False, ()),                       # YAML reads off, no and false so
    ("off", ()),
    ([], ()),
    ([50], (50,)),
    ([2, 10, 100, 1000, 10_000], (2, 10, 100, 1000, 10_000)),
    (list(range(10, 110, 10)), tuple(range(10, 110, 10))),
    ([1_000_000], (1_000_000,)),
])
def test_parse_storm(data: Any, expected: tuple[int, ...]) -> None:
    assert parse_storm(data, PATH) == expected


@pytest.mark.parametrize(("data", "path", "fragment"), [
    (True, PATH, "must be a list"),
    ("on", PATH, "must be a list"),
    (100, PATH, "must be a list"),
    ({"at": [100]}, PATH, "must be a list"),
    (list(range(10, 120, 10)), PATH, "at most 10"),
    ([100, "1000"], f"{PATH}[1]", "whole number"),
    ([100, 1000.0], f"{PATH}[1]", "whole number"),
    ([True], f"{PATH}[0]", "whole number"),
    ([1], f"{PATH}[0]", "from 2 to 1,000,000"),
    ([0], f"{PATH}[0]", "from 2 to 1,000,000"),
    ([-5], f"{PATH}[0]", "from 2 to 1,000,000"),
    ([1_000_001], f"{PATH}[0]", "from 2 to 1,000,000"),
    ([1000, 100], f"{PATH}[1]", "ascending"),
    ([100, 100], f"{PATH}[1]", "ascending"),
    ([10, 20, 30, 25], f"{PATH}[3]", "ascending"),
])
def test_bad_storm_warnings_name_their_path(data: Any, path: str, fragment: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_storm(data, PATH)
    assert caught.value.path == path
    assert fragment in caught.value.message


@pytest.mark.parametrize(("before", "after", "expected"), [
    (0, 1, ()),
    (98, 99, ()),
    (99, 100, (100,)),                 # reaching the threshold is enough
    (100, 101, ()),                    # already warned
    (100, 100, ()),                    # nothing new
    (50, 150, (100,)),                 # a batch jumps over it
    (99, 1000, (100, 1000)),           # a batch jumps over both
    (999, 1000, (1000,)),
    (1000, 5000, ()),
    (0, 0, ()),
    (120, 110, ()),                    # a count that went down reaches nothing
])
def test_crossed(before: int, after: int, expected: tuple[int, ...]) -> None:
    assert crossed(before, after, DEFAULT_THRESHOLDS) == expected


def test_no_thresholds_never_warn() -> None:
    assert crossed(0, 10**6, ()) == ()


@given(st.lists(st.integers(1, 50), max_size=60), st.lists(st.integers(2, 2000), max_size=10, unique=True))
def test_each_threshold_fires_exactly_once_as_the_count_grows(steps: list[int], values: list[int]) -> None:
    thresholds = tuple(sorted(values))
    count, fired = 0, list[int]()
    for step in steps:
        fired.extend(crossed(count, count + step, thresholds))
        count += step
    assert fired == [threshold for threshold in thresholds if threshold <= count]
