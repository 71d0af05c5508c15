"""core/duration.py: the durations people write in the config (`after: 5m`)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.duration import format_duration, parse_duration


@pytest.mark.parametrize(("text", "expected"), [
    ("30s", timedelta(seconds=30)),
    ("5m", timedelta(minutes=5)),
    ("1h", timedelta(hours=1)),
    ("2d", timedelta(days=2)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("0m", timedelta(0)),
    ("90m", timedelta(minutes=90)),
    (" 5M ", timedelta(minutes=5)),
])
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "5", "5x", "m", "5 m", "-5m", "1.5h", "5m30", "five minutes", "1h 30m", "PT5M", "5mm",
    "99999999999999999999d",  # past what timedelta holds: still a ValueError, not an OverflowError
])
def test_bad_input_raises_value_error_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_duration(text)


@pytest.mark.parametrize(("delta", "expected"), [
    (timedelta(0), "0s"),
    (timedelta(seconds=30), "30s"),
    (timedelta(minutes=5), "5m"),
    (timedelta(hours=1, minutes=30), "1h30m"),
    (timedelta(days=1, seconds=1), "1d1s"),
    (timedelta(minutes=120), "2h"),
])
def test_format(delta: timedelta, expected: str) -> None:
    assert format_duration(delta) == expected


@given(st.integers(min_value=0, max_value=10**9))
def test_format_then_parse_round_trips(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        result = parse_duration(text)
    except ValueError:
        return
    assert result >= timedelta(0)
