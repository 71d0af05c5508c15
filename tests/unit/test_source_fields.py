"""The field readers every source shares: bad values are PayloadErrors naming the field, never crashes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.sources import PayloadError
from core.sources.fields import alert_key, epoch_seconds, rfc3339, string_map, title_text


@pytest.mark.parametrize("value", [10**400, 1e308, float("nan"), "1e999", -10**20, True, [1], "soon"])
def test_epoch_seconds_refuses_what_is_no_time(value: Any) -> None:
    with pytest.raises(PayloadError) as caught:
        epoch_seconds(value, "payload.timestamp")
    assert caught.value.path == "payload.timestamp"


@pytest.mark.parametrize(("value", "expected"), [
    (1_764_064_800, datetime(2025, 11, 25, 10, 0, tzinfo=UTC)),
    ("1764064800", datetime(2025, 11, 25, 10, 0, tzinfo=UTC)),
    (1_764_064_800_000, datetime(2025, 11, 25, 10, 0, tzinfo=UTC)),  # milliseconds
    (None, None), (0, None),
])
def test_epoch_seconds(value: Any, expected: datetime | None) -> None:
    assert epoch_seconds(value, "t") == expected


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-05:00", "2026-11-25T10:00",
                                   "yesterday", 5])
def test_rfc3339_refuses_times_without_an_instant(value: Any) -> None:
    with pytest.raises(PayloadError) as caught:
        rfc3339(value, "alerts[0].startsAt")
    assert caught.value.path == "alerts[0].startsAt"


def test_rfc3339_reads_go_nanoseconds() -> None:
    assert rfc3339("2026-11-25T10:00:00.123456789Z", "t") == datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)


def test_long_or_unprintable_keys_become_digests() -> None:
    assert alert_key("db-1/disk") == "db-1/disk"
    assert alert_key("x" * 129).startswith("sha256:") and len(alert_key("x" * 129)) == 39
    assert alert_key("a\nb").startswith("sha256:")
    assert alert_key("x" * 129) == alert_key("x" * 129)


def test_titles_are_one_line_of_at_most_500_characters() -> None:
    assert title_text("disk\n  full\ton db-1") == "disk full on db-1"
    assert len(title_text("x" * 600)) == 500 and title_text("x" * 600).endswith("…")


@pytest.mark.parametrize(("value", "path"), [
    ({"team": 1}, "labels.team"), ({"team": "a\x00b"}, "labels.team"), ({"t": "\ud800"}, "labels.t"), ([], "labels"),
])
def test_string_maps_name_the_bad_entry(value: Any, path: str) -> None:
    with pytest.raises(PayloadError) as caught:
        string_map(value, "labels")
    assert caught.value.path == path
