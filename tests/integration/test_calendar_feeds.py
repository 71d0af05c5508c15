"""iCalendar feeds: a schedule's final shifts and one person's shifts, opened by a signed feed token or an API token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar, Event

from bot.web.calendars import FEED_AHEAD, FEED_PAST
from core.schedule import Shift, final_shifts
from tests.support import API_TOKEN, FakeClock, Harness, layered_config, start_harness

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)  # a Wednesday, mid-shift: the first event is clipped by the window


def _config(**account: Any) -> dict[str, Any]:
    """Two layers and an override (bob, 20 Mar 12:00 to 21 Mar 12:00) on SRE, role pairs on DBA."""
    return layered_config("2026-03-20T12:00", "2026-03-21T12:00", **account)


async def _feed_url(harness: Harness, api_path: str) -> str:
    answer = await harness.api("GET", api_path)
    assert answer.status_code == 200, answer.text
    url = urlsplit(answer.json()["url"])
    assert f"{url.scheme}://{url.netloc}" == "http://127.0.0.1:8080"  # the config's public_url
    return f"{url.path}?{url.query}"


async def _calendar(harness: Harness, url: str) -> Calendar:
    response = await harness.client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def _events(calendar: Calendar) -> list[Event]:
    return list(calendar.walk("VEVENT"))


def _span(event: Event) -> tuple[datetime, datetime]:
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)  # written in UTC
    return start, end


async def _expected(harness: Harness, schedule_id: str) -> list[Shift]:
    schedule = (await harness.container.directory()).schedule(schedule_id)
    return final_shifts(schedule, NOW - FEED_PAST, NOW + FEED_AHEAD)


def _started(db_url: str, **account: Any) -> AsyncIterator[Harness]:
    return start_harness(db_url, _config(**account), clock=FakeClock(NOW))


async def test_schedule_feed_is_the_final_shifts_of_the_window(db_url: str) -> None:
    names = {"alice": "Alice", "bob": "Bob", "carol": "Carol"}
    async for harness in _started(db_url):
        calendar = await _calendar(harness, await _feed_url(harness, "/schedules/sre/calendar-url"))
        assert str(calendar["x-wr-calname"]) == "On call: SRE"
        assert str(calendar["prodid"]).startswith("-//Dutybot//") and str(calendar["version"]) == "2.0"
        events, expected = _events(calendar), await _expected(harness, "sre")
        assert len(events) == len(expected) > 100
        for event, shift in zip(events, expected, strict=True):
            assert str(event["summary"]) == f"On call: SRE ({', '.join(names[u] for u in shift.users)})"
            assert _span(event)[1] == shift.end
        assert [_span(event)[0] for event in events[1:]] == [shift.start for shift in expected[1:]]
        # the window opens on Monday 2 February, 13:06 in Shanghai, in carol's office hours: the first event keeps
        # its real start at 09:00 rather than the window's edge
        assert expected[0].start == NOW - FEED_PAST
        assert _span(events[0])[0] == datetime(2026, 2, 2, 1, 0, tzinfo=UTC)
        assert _span(events[-1])[1] == NOW + FEED_AHEAD
        override = next(event for event in events if _span(event)[0] == datetime(2026, 3, 20, 4, 0, tzinfo=UTC))
        assert str(override["summary"]) == "On call: SRE (Bob)" and str(override["description"]) == "Override"
        office = next(event for event in events if "Carol" in str(event["summary"]))
        assert str(office["description"]) == "Layer: office"


async def test_roles_are_described(db_url: str) -> None:
    async for harness in _started(db_url):
        events = _events(await _calendar(harness, await _feed_url(harness, "/schedules/dba/calendar-url")))
        assert len(events) == len(await _expected(harness, "dba"))
        first = events[0]
        assert str(first["summary"]) == "On call: DBA (Alice, Bob)"
        assert str(first["description"]).splitlines() == ["backup: Alice", "primary: Bob", "Layer: pairs"]


async def test_uids_are_stable_and_unique(db_url: str) -> None:
    async for harness in _started(db_url):
        url = await _feed_url(harness, "/schedules/sre/calendar-url")
        before = [str(event["uid"]) for event in _events(await _calendar(harness, url))]
        assert len(set(before)) == len(before)
        assert [str(event["uid"]) for event in _events(await _calendar(harness, url))] == before
        harness.clock.advance(hours=1, minutes=7, seconds=13)  # the window slides; events that stay keep their UID
        after = [str(event["uid"]) for event in _events(await _calendar(harness, url))]
        assert after[:-1] == before[:len(after) - 1]
        assert after[-1].startswith(before[len(after) - 1][:16])  # the last one is clipped, same start and source


async def test_person_feed_has_only_their_shifts_merged(db_url: str) -> None:
    async for harness in _started(db_url):
        calendar = await _calendar(harness, await _feed_url(harness, "/users/alice/calendar-url"))
        assert str(calendar["x-wr-calname"]) == "On call: Alice"
        events = _events(calendar)
        by_schedule = {name: [event for event in events if str(event["summary"]) == f"On call: {name}"]
                       for name in ("SRE", "DBA")}
        assert sum(map(len, by_schedule.values())) == len(events)
        for schedule_id, name in (("sre", "SRE"), ("dba", "DBA")):
            mine = [shift for shift in await _expected(harness, schedule_id) if "alice" in shift.users]
            merged = _merge([(shift.start, shift.end) for shift in mine])
            spans = [_span(event) for event in by_schedule[name]]
            assert [end for _, end in spans] == [end for _, end in merged]
            assert [start for start, _ in spans[1:]] == [start for start, _ in merged[1:]]
            assert spans[0][0] <= merged[0][0]
        # in DBA alice is on call for two turns in a row (primary, then backup): one event of six days, the first
        # one from its real start (before the window) and described by both turns
        dba = by_schedule["DBA"]
        berlin = ZoneInfo("Europe/Berlin")  # six days of wall time, whatever DST does
        assert all(_span(event)[1].astimezone(berlin) - _span(event)[0].astimezone(berlin) == timedelta(days=6)
                   for event in dba[:-1])
        assert _span(dba[0]) == (datetime(2026, 1, 28, 7, 0, tzinfo=UTC), datetime(2026, 2, 3, 7, 0, tzinfo=UTC))
        for event in dba[:-1]:
            assert str(event["description"]).splitlines() == [
                "Your role: backup, primary", "Together with: Bob, Carol", "Layer: pairs"]


async def test_person_feed_of_someone_never_on_call_is_empty(db_url: str) -> None:
    raw = _config()
    raw["users"].append({"id": "dave", "name": "Dave"})
    async for harness in start_harness(db_url, raw, clock=FakeClock(NOW)):
        calendar = await _calendar(harness, await _feed_url(harness, "/users/dave/calendar-url"))
        assert _events(calendar) == [] and str(calendar["x-wr-calname"]) == "On call: Dave"


async def test_localized_in_the_account_locale(db_url: str) -> None:
    async for harness in _started(db_url, locale="zh-CN"):
        calendar = await _calendar(harness, f"/calendar/sre.ics?token={API_TOKEN}")
        assert str(calendar["x-wr-calname"]) == "SRE 值班"
        assert str(_events(calendar)[0]["summary"]) == "值班：SRE（Carol）"
        assert (await harness.client.get("/calendar/sre.ics")).text.startswith("此日历链接")


async def test_tokens(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async for harness in _started(db_url):
        sre = await _feed_url(harness, "/schedules/sre/calendar-url")
        alice = await _feed_url(harness, "/users/alice/calendar-url")
        sre_token, alice_token = sre.split("token=")[1], alice.split("token=")[1]

        async def status(path: str, token: str | None, client: httpx.AsyncClient = harness.client) -> int:
            response = await client.get(path, params=None if token is None else {"token": token})
            if response.status_code != 200:
                assert response.headers["content-type"].startswith("text/plain")
            return response.status_code

        assert await status("/calendar/sre.ics", sre_token) == 200
        assert await status("/calendar/users/alice.ics", alice_token) == 200
        for token in (None, "", "nope", sre_token[:-1], sre_token + "A", sre_token.upper()):
            assert await status("/calendar/sre.ics", token) == 401
        # a token opens its own feed and no other
        assert await status("/calendar/dba.ics", sre_token) == 401
        assert await status("/calendar/users/sre.ics", sre_token) == 401
        assert await status("/calendar/sre.ics", alice_token) == 401
        assert await status("/calendar/users/bob.ics", alice_token) == 401
        # an API token opens every feed; unknown feeds are 404 (only after the token was accepted)
        assert await status("/calendar/dba.ics", API_TOKEN) == 200
        assert await status("/calendar/users/bob.ics", API_TOKEN) == 200
        assert await status("/calendar/nope.ics", API_TOKEN) == 404
        assert await status("/calendar/users/nobody.ics", API_TOKEN) == 404
        assert await status("/calendar/nope.ics", None) == 401
        assert await status("/calendar/users/nobody.ics", "x" * 5000) == 401
        # handing out links needs a bearer token, and the thing must exist
        assert (await harness.client.get("/api/v1/schedules/sre/calendar-url")).status_code == 401
        assert (await harness.api("GET", "/schedules/nope/calendar-url")).status_code == 404
        assert (await harness.api("GET", "/users/nobody/calendar-url")).status_code == 404
        assert (await _feed_url(harness, "/schedules/sre/calendar-url")) == sre  # the same link every time
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert sre_token not in logged and alice_token not in logged and API_TOKEN not in logged


async def test_feed_urls_are_served(db_url: str) -> None:
    """The path in a handed-out URL is the route, also for an id with dots (`.ics` is split off the end)."""
    raw = _config()
    raw["schedules"][1]["id"] = "db.a"
    async for harness in start_harness(db_url, raw, clock=FakeClock(NOW)):
        url = await _feed_url(harness, "/schedules/db.a/calendar-url")
        assert url.startswith("/calendar/db.a.ics?token=f1.")
        assert len(_events(await _calendar(harness, url))) > 10


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
