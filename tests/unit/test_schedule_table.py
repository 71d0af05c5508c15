"""The rules of issue 3 as one table: (schedule, instant or window) → who is on call (HOUSE_STYLE 14).

An instant case expects `on_call` rendered as "users source [role=user …]" ("- -" for nobody). A window case
expects `final_shifts` rendered one shift a line: "start end users source [role=user …]", times in ISO 8601
with the schedule's offset so DST changes show. Times in queries are local to the schedule unless they carry
an offset. 2026-01-05 is a Monday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.schedule import (
    DailyWindow,
    DateMask,
    Handoff,
    Layer,
    OnCall,
    Override,
    Restriction,
    Schedule,
    Shift,
    Slot,
    Unit,
    WeeklyWindow,
    final_shifts,
    on_call,
)

SH, NY, BER = "Asia/Shanghai", "America/New_York", "Europe/Berlin"
WORKDAYS = DateMask(weekdays=frozenset(range(5)))


def slot(member: str | dict[str, str]) -> Slot:
    """"alice", "carol+dave" (a group) or {"primary": "erin"} (a role map)."""
    return Slot(roles=member) if isinstance(member, dict) else Slot(users=tuple(member.split("+")))


def layer(start: str, *members: str | dict[str, str], unit: Unit = Unit.DAY, every: int = 1,
          handoff: tuple[int, str] | None = None, end: str | None = None, name: str = "L",
          mask: DateMask | None = None, continuous: bool = False, fair: bool = False,
          daily: tuple[tuple[str, str], ...] = (), weekly: tuple[tuple[int, str, int, str], ...] = ()) -> Layer:
    restriction = Restriction(
        daily=tuple(DailyWindow(time.fromisoformat(a), time.fromisoformat(b)) for a, b in daily),
        weekly=tuple(WeeklyWindow(d1, time.fromisoformat(a), d2, time.fromisoformat(b)) for d1, a, d2, b in weekly),
    ) if daily or weekly else None
    return Layer(name=name, slots=tuple(slot(member) for member in members), start=datetime.fromisoformat(start),
                 every=every, unit=unit, end=datetime.fromisoformat(end) if end else None,
                 handoff=Handoff(handoff[0], time.fromisoformat(handoff[1])) if handoff else None,
                 date_mask=mask, continuous=continuous, fair=fair, restriction=restriction)


def schedule(zone: str, *layers: Layer, overrides: tuple[tuple[str, str, str, str | None], ...] = ()) -> Schedule:
    return Schedule("s", "S", zone, layers, tuple(
        Override(at(zone, start), at(zone, end), user, role) for start, end, user, role in overrides))


def at(zone: str, text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def golden_week(day: date) -> bool:
    """A service calendar in the style of China's: Oct 1–7 off, Saturday Oct 10 an adjusted working day."""
    if day == date(2026, 10, 10):
        return True
    return day.weekday() < 5 and not date(2026, 10, 1) <= day <= date(2026, 10, 7)


def roles_text(roles: dict[str, tuple[str, ...]]) -> str:
    return "".join(f" {role}={','.join(users)}" for role, users in roles.items())


def render_on_call(result: OnCall) -> str:
    return f"{','.join(result.users) or '-'} {result.source or '-'}{roles_text(dict(result.roles))}"


def render_shift(shift: Shift) -> str:
    return (f"{shift.start.isoformat(timespec='minutes')} {shift.end.isoformat(timespec='minutes')} "
            f"{','.join(shift.users)} {shift.source}{roles_text(dict(shift.roles))}")


@dataclass(frozen=True)
class Case:
    schedule: Schedule
    query: str  # an instant, or "start/end" for a window
    expected: str | tuple[str, ...]


WEEKLY_ABC = layer("2026-01-05T10:00", "alice", "bob", "carol", unit=Unit.WEEK, handoff=(0, "10:00"))
ROLES = layer("2026-01-05T10:00", {"primary": "erin", "backup": "frank"}, "alice", unit=Unit.WEEK,
              handoff=(0, "10:00"))
WORKDAY_DAILY = layer("2026-01-05T09:00", "a", "b", "c", mask=WORKDAYS)
NIGHTS = layer("2026-01-05T00:00", "owl", name="Nights", daily=(("20:00", "08:00"),))
ENDING = layer("2026-01-05T10:00", "alice", "bob", unit=Unit.WEEK, handoff=(0, "10:00"), end="2026-01-14T12:00")

CASES: dict[str, Case] = {
    # 1. cycles counted from the start in local time; with a handoff the first shift runs to the first handoff
    "weekly: a Wednesday start runs to the Monday handoff": Case(
        schedule(SH, layer("2026-01-07T08:00", "alice", "bob", "carol", unit=Unit.WEEK, handoff=(0, "10:00"))),
        "2026-01-07T00:00/2026-01-27T00:00", (
            "2026-01-07T08:00+08:00 2026-01-12T10:00+08:00 alice layer:L",
            "2026-01-12T10:00+08:00 2026-01-19T10:00+08:00 bob layer:L",
            "2026-01-19T10:00+08:00 2026-01-26T10:00+08:00 carol layer:L",
            "2026-01-26T10:00+08:00 2026-01-27T00:00+08:00 alice layer:L")),
    "weekly: every two weeks": Case(
        schedule(SH, layer("2026-01-05T10:00", "alice", "bob", unit=Unit.WEEK, every=2, handoff=(0, "10:00"))),
        "2026-01-05T10:00/2026-02-16T10:00", (
            "2026-01-05T10:00+08:00 2026-01-19T10:00+08:00 alice layer:L",
            "2026-01-19T10:00+08:00 2026-02-02T10:00+08:00 bob layer:L",
            "2026-02-02T10:00+08:00 2026-02-16T10:00+08:00 alice layer:L")),
    "daily: the fourth cycle is alice's again": Case(
        schedule(SH, layer("2026-01-05T09:00", "alice", "bob", "carol")), "2026-01-09T08:59", "alice layer:L"),
    "daily: the fifth cycle starts at 09:00": Case(
        schedule(SH, layer("2026-01-05T09:00", "alice", "bob", "carol")), "2026-01-09T09:00", "bob layer:L"),
    "hourly: every eight hours": Case(
        schedule(SH, layer("2026-01-05T00:00", "a", "b", "c", unit=Unit.HOUR, every=8)),
        "2026-01-05T04:00/2026-01-06T04:00", (
            "2026-01-05T04:00+08:00 2026-01-05T08:00+08:00 a layer:L",
            "2026-01-05T08:00+08:00 2026-01-05T16:00+08:00 b layer:L",
            "2026-01-05T16:00+08:00 2026-01-06T00:00+08:00 c layer:L",
            "2026-01-06T00:00+08:00 2026-01-06T04:00+08:00 a layer:L")),
    "hourly: New York spring forward, real hours": Case(
        schedule(NY, layer("2026-03-08T00:00", "alice", "bob", "carol", unit=Unit.HOUR)),
        "2026-03-08T00:00/2026-03-08T05:00", (
            "2026-03-08T00:00-05:00 2026-03-08T01:00-05:00 alice layer:L",
            "2026-03-08T01:00-05:00 2026-03-08T03:00-04:00 bob layer:L",
            "2026-03-08T03:00-04:00 2026-03-08T04:00-04:00 carol layer:L",
            "2026-03-08T04:00-04:00 2026-03-08T05:00-04:00 alice layer:L")),
    "hourly: New York fall back, 01:00 twice": Case(
        schedule(NY, layer("2026-11-01T00:00", "alice", "bob", "carol", unit=Unit.HOUR)),
        "2026-11-01T00:00/2026-11-01T03:00", (
            "2026-11-01T00:00-04:00 2026-11-01T01:00-04:00 alice layer:L",
            "2026-11-01T01:00-04:00 2026-11-01T01:00-05:00 bob layer:L",
            "2026-11-01T01:00-05:00 2026-11-01T02:00-05:00 carol layer:L",
            "2026-11-01T02:00-05:00 2026-11-01T03:00-05:00 alice layer:L")),
    "weekly: New York spring forward keeps Monday 10:00": Case(
        schedule(NY, layer("2026-03-02T10:00", "alice", "bob", unit=Unit.WEEK, handoff=(0, "10:00"))),
        "2026-03-02T10:00/2026-03-16T10:00", (
            "2026-03-02T10:00-05:00 2026-03-09T10:00-04:00 alice layer:L",
            "2026-03-09T10:00-04:00 2026-03-16T10:00-04:00 bob layer:L")),
    "weekly: New York fall back keeps Monday 10:00": Case(
        schedule(NY, layer("2026-10-26T10:00", "alice", "bob", unit=Unit.WEEK, handoff=(0, "10:00"))),
        "2026-10-26T10:00/2026-11-09T10:00", (
            "2026-10-26T10:00-04:00 2026-11-02T10:00-05:00 alice layer:L",
            "2026-11-02T10:00-05:00 2026-11-09T10:00-05:00 bob layer:L")),
    "weekly: Berlin spring forward keeps Monday 10:00": Case(
        schedule(BER, layer("2026-03-23T10:00", "alice", "bob", unit=Unit.WEEK, handoff=(0, "10:00"))),
        "2026-03-23T10:00/2026-04-06T10:00", (
            "2026-03-23T10:00+01:00 2026-03-30T10:00+02:00 alice layer:L",
            "2026-03-30T10:00+02:00 2026-04-06T10:00+02:00 bob layer:L")),
    "weekly: Berlin fall back keeps Monday 10:00": Case(
        schedule(BER, layer("2026-10-19T10:00", "alice", "bob", unit=Unit.WEEK, handoff=(0, "10:00"))),
        "2026-10-19T10:00/2026-11-02T10:00", (
            "2026-10-19T10:00+02:00 2026-10-26T10:00+01:00 alice layer:L",
            "2026-10-26T10:00+01:00 2026-11-02T10:00+01:00 bob layer:L")),
    "daily: Berlin's 23-hour day still hands off at 09:00": Case(
        schedule(BER, layer("2026-03-28T09:00", "alice", "bob")), "2026-03-28T09:00/2026-03-30T09:00", (
            "2026-03-28T09:00+01:00 2026-03-29T09:00+02:00 alice layer:L",
            "2026-03-29T09:00+02:00 2026-03-30T09:00+02:00 bob layer:L")),
    "daily: a 02:30 handoff that New York skips happens at the jump": Case(
        schedule(NY, layer("2026-03-07T02:30", "alice", "bob")), "2026-03-07T00:00/2026-03-09T12:00", (
            "2026-03-07T02:30-05:00 2026-03-08T03:00-04:00 alice layer:L",
            "2026-03-08T03:00-04:00 2026-03-09T02:30-04:00 bob layer:L",
            "2026-03-09T02:30-04:00 2026-03-09T12:00-04:00 alice layer:L")),
    "daily: a 01:30 handoff New York repeats happens the first time": Case(
        schedule(NY, layer("2026-10-31T01:30", "alice", "bob")), "2026-10-31T00:00/2026-11-02T00:00", (
            "2026-10-31T01:30-04:00 2026-11-01T01:30-04:00 alice layer:L",
            "2026-11-01T01:30-04:00 2026-11-02T00:00-05:00 bob layer:L")),
    "monthly: the 31st clamps to each month's end": Case(
        schedule(SH, layer("2026-01-31T09:00", "alice", "bob", "carol", unit=Unit.MONTH)),
        "2026-01-31T09:00/2026-05-01T00:00", (
            "2026-01-31T09:00+08:00 2026-02-28T09:00+08:00 alice layer:L",
            "2026-02-28T09:00+08:00 2026-03-31T09:00+08:00 bob layer:L",
            "2026-03-31T09:00+08:00 2026-04-30T09:00+08:00 carol layer:L",
            "2026-04-30T09:00+08:00 2026-05-01T00:00+08:00 alice layer:L")),
    "monthly: a leap year's February 29": Case(
        schedule(SH, layer("2028-01-31T09:00", "alice", "bob", unit=Unit.MONTH)),
        "2028-01-31T09:00/2028-03-31T09:00", (
            "2028-01-31T09:00+08:00 2028-02-29T09:00+08:00 alice layer:L",
            "2028-02-29T09:00+08:00 2028-03-31T09:00+08:00 bob layer:L")),
    "monthly: every two months from the 31st": Case(
        schedule(SH, layer("2026-01-31T09:00", "alice", "bob", "carol", unit=Unit.MONTH, every=2)),
        "2026-01-31T09:00/2026-06-01T00:00", (
            "2026-01-31T09:00+08:00 2026-03-31T09:00+08:00 alice layer:L",
            "2026-03-31T09:00+08:00 2026-05-31T09:00+08:00 bob layer:L",
            "2026-05-31T09:00+08:00 2026-06-01T00:00+08:00 carol layer:L")),
    # groups and roles
    "a group is on call together": Case(
        schedule(SH, layer("2026-01-05T10:00", "alice", "carol+dave", unit=Unit.WEEK, handoff=(0, "10:00"))),
        "2026-01-13T12:00", "carol,dave layer:L"),
    "a role map": Case(schedule(SH, ROLES), "2026-01-06T12:00", "erin,frank layer:L primary=erin backup=frank"),
    "the same people in swapped roles are two shifts": Case(
        schedule(SH, layer("2026-01-05T09:00", {"primary": "erin", "backup": "frank"},
                           {"primary": "frank", "backup": "erin"})),
        "2026-01-05T09:00/2026-01-07T09:00", (
            "2026-01-05T09:00+08:00 2026-01-06T09:00+08:00 erin,frank layer:L primary=erin backup=frank",
            "2026-01-06T09:00+08:00 2026-01-07T09:00+08:00 erin,frank layer:L primary=frank backup=erin")),
    # 2 and 3. date masks, skipped cycles, continuous rotation
    "mask: cut at midnight; the weekend cycle is skipped, Sunday's covers Monday morning": Case(
        schedule(SH, WORKDAY_DAILY), "2026-01-05T00:00/2026-01-14T00:00", (
            "2026-01-05T09:00+08:00 2026-01-06T09:00+08:00 a layer:L",
            "2026-01-06T09:00+08:00 2026-01-07T09:00+08:00 b layer:L",
            "2026-01-07T09:00+08:00 2026-01-08T09:00+08:00 c layer:L",
            "2026-01-08T09:00+08:00 2026-01-09T09:00+08:00 a layer:L",
            "2026-01-09T09:00+08:00 2026-01-10T00:00+08:00 b layer:L",
            "2026-01-12T00:00+08:00 2026-01-12T09:00+08:00 c layer:L",
            "2026-01-12T09:00+08:00 2026-01-13T09:00+08:00 a layer:L",
            "2026-01-13T09:00+08:00 2026-01-14T00:00+08:00 b layer:L")),
    "continuous: Friday's cycle runs into Saturday, weekend cycles are skipped": Case(
        schedule(SH, layer("2026-01-05T09:00", "a", "b", "c", mask=WORKDAYS, continuous=True)),
        "2026-01-08T00:00/2026-01-14T00:00", (
            "2026-01-08T00:00+08:00 2026-01-08T09:00+08:00 c layer:L",
            "2026-01-08T09:00+08:00 2026-01-09T09:00+08:00 a layer:L",
            "2026-01-09T09:00+08:00 2026-01-10T09:00+08:00 b layer:L",
            "2026-01-12T09:00+08:00 2026-01-13T09:00+08:00 c layer:L",
            "2026-01-13T09:00+08:00 2026-01-14T00:00+08:00 a layer:L")),
    "mask: a weekly rotation covers the workdays of its week": Case(
        schedule(SH, layer("2026-01-05T10:00", "a", "b", unit=Unit.WEEK, handoff=(0, "10:00"), mask=WORKDAYS)),
        "2026-01-05T10:00/2026-01-19T10:00", (
            "2026-01-05T10:00+08:00 2026-01-10T00:00+08:00 a layer:L",
            "2026-01-12T00:00+08:00 2026-01-12T10:00+08:00 a layer:L",
            "2026-01-12T10:00+08:00 2026-01-17T00:00+08:00 b layer:L",
            "2026-01-19T00:00+08:00 2026-01-19T10:00+08:00 b layer:L")),
    "calendar mask: holidays take no turn, an adjusted Saturday does": Case(
        schedule(SH, layer("2026-09-28T00:00", "a", "b", "c", mask=DateMask(calendar=golden_week))),
        "2026-09-28T00:00/2026-10-13T00:00", (
            "2026-09-28T00:00+08:00 2026-09-29T00:00+08:00 a layer:L",
            "2026-09-29T00:00+08:00 2026-09-30T00:00+08:00 b layer:L",
            "2026-09-30T00:00+08:00 2026-10-01T00:00+08:00 c layer:L",
            "2026-10-08T00:00+08:00 2026-10-09T00:00+08:00 a layer:L",
            "2026-10-09T00:00+08:00 2026-10-10T00:00+08:00 b layer:L",
            "2026-10-10T00:00+08:00 2026-10-11T00:00+08:00 c layer:L",
            "2026-10-12T00:00+08:00 2026-10-13T00:00+08:00 a layer:L")),
    "calendar mask, continuous: the last workday's cycle runs into the holiday": Case(
        schedule(SH, layer("2026-09-30T18:00", "a", "b", "c", mask=DateMask(calendar=golden_week), continuous=True)),
        "2026-09-30T00:00/2026-10-13T00:00", (
            "2026-09-30T18:00+08:00 2026-10-01T18:00+08:00 a layer:L",
            "2026-10-08T18:00+08:00 2026-10-09T18:00+08:00 b layer:L",
            "2026-10-09T18:00+08:00 2026-10-10T18:00+08:00 c layer:L",
            "2026-10-10T18:00+08:00 2026-10-11T18:00+08:00 a layer:L",
            "2026-10-12T18:00+08:00 2026-10-13T00:00+08:00 b layer:L")),
    "mask: a window of unmasked days is empty": Case(schedule(SH, WORKDAY_DAILY), "2026-01-10T00:00/2026-01-12T00:00",
                                                     ()),
    # 4. time restrictions
    "daily window 09:00–18:00": Case(
        schedule(SH, layer("2026-01-05T00:00", "a", "b", daily=(("09:00", "18:00"),))),
        "2026-01-05T00:00/2026-01-07T00:00", (
            "2026-01-05T09:00+08:00 2026-01-05T18:00+08:00 a layer:L",
            "2026-01-06T09:00+08:00 2026-01-06T18:00+08:00 b layer:L")),
    "daily window crossing midnight, cycles at 20:00": Case(
        schedule(SH, layer("2026-01-05T20:00", "a", "b", daily=(("20:00", "08:00"),))),
        "2026-01-05T00:00/2026-01-07T12:00", (
            "2026-01-05T20:00+08:00 2026-01-06T08:00+08:00 a layer:L",
            "2026-01-06T20:00+08:00 2026-01-07T08:00+08:00 b layer:L")),
    "daily window crossing midnight, cycles at 00:00 split the night": Case(
        schedule(SH, layer("2026-01-05T00:00", "a", "b", daily=(("20:00", "08:00"),))),
        "2026-01-05T00:00/2026-01-07T00:00", (
            "2026-01-05T00:00+08:00 2026-01-05T08:00+08:00 a layer:L",
            "2026-01-05T20:00+08:00 2026-01-06T00:00+08:00 a layer:L",
            "2026-01-06T00:00+08:00 2026-01-06T08:00+08:00 b layer:L",
            "2026-01-06T20:00+08:00 2026-01-07T00:00+08:00 b layer:L")),
    "two daily windows leave a lunch gap": Case(
        schedule(SH, layer("2026-01-05T00:00", "alice", daily=(("09:00", "12:00"), ("13:00", "18:00")))),
        "2026-01-05T00:00/2026-01-06T00:00", (
            "2026-01-05T09:00+08:00 2026-01-05T12:00+08:00 alice layer:L",
            "2026-01-05T13:00+08:00 2026-01-05T18:00+08:00 alice layer:L")),
    "nobody in the lunch gap": Case(
        schedule(SH, layer("2026-01-05T00:00", "alice", daily=(("09:00", "12:00"), ("13:00", "18:00")))),
        "2026-01-05T12:30", "- -"),
    "a daily window whose end is its start is the whole day": Case(
        schedule(SH, layer("2026-01-05T09:00", "a", "b", daily=(("00:00", "00:00"),))),
        "2026-01-05T09:00/2026-01-07T09:00", (
            "2026-01-05T09:00+08:00 2026-01-06T09:00+08:00 a layer:L",
            "2026-01-06T09:00+08:00 2026-01-07T09:00+08:00 b layer:L")),
    "weekly window fri 18:00–mon 09:00 wraps the week": Case(
        schedule(SH, layer("2026-01-09T18:00", "a", "b", unit=Unit.WEEK, handoff=(4, "18:00"),
                           weekly=((4, "18:00", 0, "09:00"),))),
        "2026-01-09T00:00/2026-01-27T00:00", (
            "2026-01-09T18:00+08:00 2026-01-12T09:00+08:00 a layer:L",
            "2026-01-16T18:00+08:00 2026-01-19T09:00+08:00 b layer:L",
            "2026-01-23T18:00+08:00 2026-01-26T09:00+08:00 a layer:L")),
    "weekly window mon 09:00–fri 18:00": Case(
        schedule(SH, layer("2026-01-05T00:00", "a", "b", unit=Unit.WEEK, weekly=((0, "09:00", 4, "18:00"),))),
        "2026-01-05T00:00/2026-01-19T00:00", (
            "2026-01-05T09:00+08:00 2026-01-09T18:00+08:00 a layer:L",
            "2026-01-12T09:00+08:00 2026-01-16T18:00+08:00 b layer:L")),
    "weekly window mon 09:00–mon 08:00 leaves one hour a week": Case(
        schedule(SH, layer("2026-01-05T00:00", "alice", unit=Unit.WEEK, weekly=((0, "09:00", 0, "08:00"),))),
        "2026-01-05T00:00/2026-01-13T00:00", (
            "2026-01-05T00:00+08:00 2026-01-05T08:00+08:00 alice layer:L",  # the window of the week before
            "2026-01-05T09:00+08:00 2026-01-12T08:00+08:00 alice layer:L",
            "2026-01-12T09:00+08:00 2026-01-13T00:00+08:00 alice layer:L")),
    "a daily window keeps its wall-clock hours across New York's change": Case(
        schedule(NY, layer("2026-03-07T00:00", "alice", daily=(("09:00", "17:00"),))),
        "2026-03-07T00:00/2026-03-09T00:00", (
            "2026-03-07T09:00-05:00 2026-03-07T17:00-05:00 alice layer:L",
            "2026-03-08T09:00-04:00 2026-03-08T17:00-04:00 alice layer:L")),
    "a window inside the skipped hour is empty, and its cycle takes no turn": Case(
        schedule(NY, layer("2026-03-07T00:00", "alice", "bob", daily=(("02:00", "03:00"),))),
        "2026-03-07T00:00/2026-03-10T00:00", (
            "2026-03-07T02:00-05:00 2026-03-07T03:00-05:00 alice layer:L",
            "2026-03-09T02:00-04:00 2026-03-09T03:00-04:00 bob layer:L")),
    # 2. skipped cycles take no turn
    "hourly cycles outside the 22:00–02:00 window take no turn": Case(
        schedule(SH, layer("2026-01-05T00:00", "a", "b", "c", unit=Unit.HOUR, every=4, daily=(("22:00", "02:00"),))),
        "2026-01-05T00:00/2026-01-08T00:00", (
            "2026-01-05T00:00+08:00 2026-01-05T02:00+08:00 a layer:L",
            "2026-01-05T22:00+08:00 2026-01-06T00:00+08:00 b layer:L",
            "2026-01-06T00:00+08:00 2026-01-06T02:00+08:00 c layer:L",
            "2026-01-06T22:00+08:00 2026-01-07T00:00+08:00 a layer:L",
            "2026-01-07T00:00+08:00 2026-01-07T02:00+08:00 b layer:L",
            "2026-01-07T22:00+08:00 2026-01-08T00:00+08:00 c layer:L")),
    "daily cycles outside a weekend window take no turn": Case(
        schedule(SH, layer("2026-01-05T00:00", "a", "b", "c", weekly=((5, "00:00", 0, "00:00"),))),
        "2026-01-05T00:00/2026-01-19T00:00", (
            "2026-01-10T00:00+08:00 2026-01-11T00:00+08:00 a layer:L",
            "2026-01-11T00:00+08:00 2026-01-12T00:00+08:00 b layer:L",
            "2026-01-17T00:00+08:00 2026-01-18T00:00+08:00 c layer:L",
            "2026-01-18T00:00+08:00 2026-01-19T00:00+08:00 a layer:L")),
    "mask and night window together: Friday night stops at Saturday 00:00": Case(
        schedule(SH, layer("2026-01-05T20:00", "a", "b", mask=WORKDAYS, daily=(("20:00", "08:00"),))),
        "2026-01-09T00:00/2026-01-13T00:00", (
            "2026-01-09T00:00+08:00 2026-01-09T08:00+08:00 b layer:L",
            "2026-01-09T20:00+08:00 2026-01-10T00:00+08:00 a layer:L",
            "2026-01-12T00:00+08:00 2026-01-12T08:00+08:00 b layer:L",
            "2026-01-12T20:00+08:00 2026-01-13T00:00+08:00 a layer:L")),
    # 5. layers and overrides
    "the later layer wins where it has someone, the earlier shows elsewhere": Case(
        schedule(SH, WEEKLY_ABC, NIGHTS), "2026-01-06T00:00/2026-01-07T12:00", (
            "2026-01-06T00:00+08:00 2026-01-06T08:00+08:00 owl layer:Nights",
            "2026-01-06T08:00+08:00 2026-01-06T20:00+08:00 alice layer:L",
            "2026-01-06T20:00+08:00 2026-01-07T08:00+08:00 owl layer:Nights",
            "2026-01-07T08:00+08:00 2026-01-07T12:00+08:00 alice layer:L")),
    "gaps between layers stay gaps": Case(
        schedule(SH, layer("2026-01-05T00:00", "a", name="Morning", daily=(("09:00", "12:00"),)),
                 layer("2026-01-05T00:00", "b", name="Afternoon", daily=(("14:00", "18:00"),))),
        "2026-01-05T00:00/2026-01-06T00:00", (
            "2026-01-05T09:00+08:00 2026-01-05T12:00+08:00 a layer:Morning",
            "2026-01-05T14:00+08:00 2026-01-05T18:00+08:00 b layer:Afternoon")),
    "an override inside a shift": Case(
        schedule(SH, WEEKLY_ABC, overrides=(("2026-01-07T09:00", "2026-01-07T17:00", "dave", None),)),
        "2026-01-07T00:00/2026-01-08T00:00", (
            "2026-01-07T00:00+08:00 2026-01-07T09:00+08:00 alice layer:L",
            "2026-01-07T09:00+08:00 2026-01-07T17:00+08:00 dave override",
            "2026-01-07T17:00+08:00 2026-01-08T00:00+08:00 alice layer:L")),
    "an override across a handoff": Case(
        schedule(SH, WEEKLY_ABC, overrides=(("2026-01-12T08:00", "2026-01-12T12:00", "dave", None),)),
        "2026-01-12T00:00/2026-01-12T14:00", (
            "2026-01-12T00:00+08:00 2026-01-12T08:00+08:00 alice layer:L",
            "2026-01-12T08:00+08:00 2026-01-12T12:00+08:00 dave override",
            "2026-01-12T12:00+08:00 2026-01-12T14:00+08:00 bob layer:L")),
    "an override beats the later layer too": Case(
        schedule(SH, WEEKLY_ABC, NIGHTS, overrides=(("2026-01-06T21:00", "2026-01-06T22:00", "dave", None),)),
        "2026-01-06T21:30", "dave override"),
    "an override for a role keeps the other roles": Case(
        schedule(SH, ROLES, overrides=(("2026-01-06T00:00", "2026-01-07T00:00", "dave", "primary"),)),
        "2026-01-05T10:00/2026-01-08T00:00", (
            "2026-01-05T10:00+08:00 2026-01-06T00:00+08:00 erin,frank layer:L primary=erin backup=frank",
            "2026-01-06T00:00+08:00 2026-01-07T00:00+08:00 dave,frank override primary=dave backup=frank",
            "2026-01-07T00:00+08:00 2026-01-08T00:00+08:00 erin,frank layer:L primary=erin backup=frank")),
    "an override for a role on a slot without roles replaces everyone": Case(
        schedule(SH, ROLES, overrides=(("2026-01-13T00:00", "2026-01-14T00:00", "dave", "primary"),)),
        "2026-01-13T12:00", "dave override primary=dave"),
    "where overrides overlap the later one wins": Case(
        schedule(SH, WEEKLY_ABC, overrides=(("2026-01-07T09:00", "2026-01-07T17:00", "dave", None),
                                            ("2026-01-07T12:00", "2026-01-07T14:00", "erin", None))),
        "2026-01-07T09:00/2026-01-07T17:00", (
            "2026-01-07T09:00+08:00 2026-01-07T12:00+08:00 dave override",
            "2026-01-07T12:00+08:00 2026-01-07T14:00+08:00 erin override",
            "2026-01-07T14:00+08:00 2026-01-07T17:00+08:00 dave override")),
    "an override fills a gap": Case(
        schedule(SH, layer("2026-01-05T00:00", "alice", daily=(("09:00", "18:00"),)),
                 overrides=(("2026-01-05T20:00", "2026-01-05T22:00", "dave", None),)),
        "2026-01-05T21:00", "dave override"),
    "back-to-back overrides of one person are one shift": Case(
        schedule(SH, WEEKLY_ABC, overrides=(("2026-01-07T09:00", "2026-01-07T12:00", "dave", None),
                                            ("2026-01-07T12:00", "2026-01-07T15:00", "dave", None))),
        "2026-01-07T10:00/2026-01-07T16:00", (
            "2026-01-07T10:00+08:00 2026-01-07T15:00+08:00 dave override",
            "2026-01-07T15:00+08:00 2026-01-07T16:00+08:00 alice layer:L")),
    # a layer's start and end
    "a layer end cuts its last shift": Case(
        schedule(SH, ENDING), "2026-01-05T10:00/2026-01-20T00:00", (
            "2026-01-05T10:00+08:00 2026-01-12T10:00+08:00 alice layer:L",
            "2026-01-12T10:00+08:00 2026-01-14T12:00+08:00 bob layer:L")),
    "the end is exclusive": Case(schedule(SH, ENDING), "2026-01-14T12:00", "- -"),
    "a window after the layer end is empty": Case(schedule(SH, ENDING), "2026-02-01T00:00/2026-03-01T00:00", ()),
    "a window before the layer start is empty": Case(schedule(SH, WEEKLY_ABC), "2025-12-01T00:00/2026-01-05T10:00", ()),
    "a window across the layer start begins at the start": Case(
        schedule(SH, WEEKLY_ABC), "2026-01-01T00:00/2026-01-06T00:00", (
            "2026-01-05T10:00+08:00 2026-01-06T00:00+08:00 alice layer:L",)),
    "a window long after the start": Case(
        schedule(SH, WORKDAY_DAILY), "2027-03-01T00:00/2027-03-02T12:00", (
            # 60 weeks of 6 cycles that take a turn (Saturday's does not): Monday 09:00 is turn 360, a's
            "2027-03-01T00:00+08:00 2027-03-01T09:00+08:00 c layer:L",
            "2027-03-01T09:00+08:00 2027-03-02T09:00+08:00 a layer:L",
            "2027-03-02T09:00+08:00 2027-03-02T12:00+08:00 b layer:L")),
    # 6. fair rotation: the order moves on by one after each full pass
    "fair rotation: a b c, b c a, c a b": Case(
        schedule(SH, layer("2026-01-05T00:00", "a", "b", "c", fair=True)), "2026-01-05T00:00/2026-01-14T00:00", (
            "2026-01-05T00:00+08:00 2026-01-06T00:00+08:00 a layer:L",
            "2026-01-06T00:00+08:00 2026-01-07T00:00+08:00 b layer:L",
            "2026-01-07T00:00+08:00 2026-01-08T00:00+08:00 c layer:L",
            "2026-01-08T00:00+08:00 2026-01-09T00:00+08:00 b layer:L",
            "2026-01-09T00:00+08:00 2026-01-10T00:00+08:00 c layer:L",
            "2026-01-10T00:00+08:00 2026-01-11T00:00+08:00 a layer:L",
            "2026-01-11T00:00+08:00 2026-01-12T00:00+08:00 c layer:L",
            "2026-01-12T00:00+08:00 2026-01-13T00:00+08:00 a layer:L",
            "2026-01-13T00:00+08:00 2026-01-14T00:00+08:00 b layer:L")),
    # 7. merging
    "one person's consecutive cycles are one shift": Case(
        schedule(SH, layer("2026-01-05T00:00", "alice")), "2026-01-05T06:00/2026-01-09T06:00", (
            "2026-01-05T06:00+08:00 2026-01-09T06:00+08:00 alice layer:L",)),
    "the same person from two layers is two shifts": Case(
        schedule(SH, layer("2026-01-05T00:00", "alice", name="Day", daily=(("08:00", "20:00"),)),
                 layer("2026-01-05T00:00", "alice", name="Night", daily=(("20:00", "08:00"),))),
        "2026-01-05T12:00/2026-01-06T12:00", (
            "2026-01-05T12:00+08:00 2026-01-05T20:00+08:00 alice layer:Day",
            "2026-01-05T20:00+08:00 2026-01-06T08:00+08:00 alice layer:Night",
            "2026-01-06T08:00+08:00 2026-01-06T12:00+08:00 alice layer:Day")),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_schedule_rules(case: Case) -> None:
    zone = case.schedule.timezone
    if "/" in case.query:
        start, end = case.query.split("/")
        shifts = final_shifts(case.schedule, at(zone, start), at(zone, end))
        assert tuple(render_shift(shift) for shift in shifts) == case.expected
        for shift in shifts:  # and on_call says the same at both ends of every shift
            assert render_on_call(on_call(case.schedule, shift.start)) == render_shift(shift).split(" ", 2)[2]
    else:
        assert render_on_call(on_call(case.schedule, at(zone, case.query))) == case.expected


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40
