"""Service calendars: China's holidays and adjusted workdays, custom days, and their use as a date mask."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from bot import calendars
from bot.config import parse_config
from bot.directory import Directory
from core.schedule import final_shifts


@pytest.mark.parametrize(("day", "workday"), [
    (date(2026, 10, 1), False),   # National Day, a Thursday
    (date(2026, 2, 16), False),   # Spring Festival holiday, a Monday
    (date(2026, 2, 14), True),    # an adjusted working Saturday
    (date(2026, 10, 10), True),   # an adjusted working Saturday
    (date(2026, 11, 25), True),   # an ordinary Wednesday
    (date(2026, 11, 28), False),  # an ordinary Saturday
])
def test_cn_workdays(day: date, workday: bool) -> None:
    assert calendars.builtin("cn-workdays")(day) is workday
    assert calendars.builtin("cn-restdays")(day) is not workday


def test_a_year_without_data_falls_back_to_weekdays(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert calendars.cn_workday(date(2099, 3, 2)) is True   # a Monday
    assert calendars.cn_workday(date(2099, 3, 7)) is False  # a Saturday
    assert "no holiday data for 2099" in caplog.text


def test_custom_calendar_adds_and_removes_days() -> None:
    ops = calendars.custom("cn-workdays", add=[date(2026, 10, 3)], remove=[date(2026, 11, 25)])
    assert ops(date(2026, 10, 3)) and not ops(date(2026, 11, 25)) and ops(date(2026, 11, 26))
    assert calendars.custom("cn-workdays", [date(2026, 10, 3)], [date(2026, 11, 25)]) is ops  # one per definition


def test_a_layer_masked_by_china_workdays_skips_national_day(tmp_path: Path) -> None:
    config = parse_config("""
users: [{id: alice, name: Alice}, {id: bob, name: Bob}]
schedules:
  - id: office
    name: Office
    timezone: Asia/Shanghai
    layers:
      - {name: day, members: [alice, bob], start: "2026-09-28T00:00", rotation: {every: 1, unit: day},
         date_mask: {calendar: cn-workdays}, restrict: {daily: [["09:00", "18:00"]]}}
""")
    directory = Directory.from_config(config)
    schedule = directory.schedule("office")
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    shifts = final_shifts(schedule, datetime(2026, 9, 28, tzinfo=zone), datetime(2026, 10, 13, tzinfo=zone))
    days = [(shift.start.astimezone(zone).date().isoformat(), shift.users) for shift in shifts]
    # 28–30 Sep are workdays, 1–7 Oct the holiday, 10 Oct an adjusted working Saturday, 11 Oct a rest day;
    # skipped days take no turn
    assert days == [("2026-09-28", ("alice",)), ("2026-09-29", ("bob",)), ("2026-09-30", ("alice",)),
                    ("2026-10-08", ("bob",)), ("2026-10-09", ("alice",)), ("2026-10-10", ("bob",)),
                    ("2026-10-12", ("alice",))]
